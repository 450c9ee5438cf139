/* AFL++ custom mutators (AFL_CUSTOM_MUTATOR_LIBRARY): the same
 * structure-aware mutation as libFuzzer's LLVMFuzzerCustomMutator, so
 * AFL++'s mutants are re-signed with the fixed keys too. One source, three
 * libraries (fuzz/CMakeLists.txt), by IMC_AFL_MUTATOR:
 *   libimc_afl_mutator.so  decrypt: deliveries, re-encrypted and re-signed
 *                          with the fixed sender's key, and crossover
 *                          (fuzz_forge.c, as fuzz_decrypt.c)
 *   libimc_afl_dirresp.so  dir_response_parse: lookup responses
 *   libimc_afl_dirupd.so   dir_update_parse: updates, re-signed with the
 *                          fixed directory, account and device keys
 *                          (fuzz_dirforge.c, as those targets)
 * Built from the plain (uninstrumented) replay tree; AFL++ still runs its
 * own mutations beside them.
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=build/h-fuzz-replay/fuzz/libimc_afl_mutator.so \
 *       afl-fuzz ... -- build/h-fuzz-afl/fuzz/fuzz_decrypt_afl */
#include <stdlib.h>
#include <string.h>

#include "fuzz_forge.h"

#define IMC_AFL_DELIVERY 1
#define IMC_AFL_DIR_RESPONSE 2
#define IMC_AFL_DIR_UPDATE 3
#ifndef IMC_AFL_MUTATOR
#define IMC_AFL_MUTATOR IMC_AFL_DELIVERY
#endif
#if IMC_AFL_MUTATOR == IMC_AFL_DELIVERY
#define MUTATE fuzz_mutate_delivery
#else
#include "fuzz_dirforge.h"
#if IMC_AFL_MUTATOR == IMC_AFL_DIR_RESPONSE
#define MUTATE fuzz_mutate_dir_response
#else
#define MUTATE fuzz_mutate_dir_update
#endif
#endif

typedef struct mutator {
    uint64_t rng;
    uint8_t *buf;
    size_t cap;
} mutator;

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

static uint32_t next(mutator *m)
{
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return (uint32_t)(m->rng >> 11);
}

/* The byte-level fallback: a few flips, sets, inserts and deletes. */
static size_t havoc(uint8_t *data, size_t size, size_t max_size, void *ctx)
{
    mutator *m = ctx;
    unsigned rounds = 1 + next(m) % 4;
    for (unsigned i = 0; i < rounds; i++) {
        switch (next(m) % 4) {
        case 0:
            if (size > 0)
                data[next(m) % size] ^= (uint8_t)(1u << (next(m) % 8));
            break;
        case 1:
            if (size > 0)
                data[next(m) % size] = (uint8_t)next(m);
            break;
        case 2:
            if (size < max_size) {
                size_t at = size ? next(m) % (size + 1) : 0;
                memmove(data + at + 1, data + at, size - at);
                data[at] = (uint8_t)next(m);
                size++;
            }
            break;
        default:
            if (size > 1) {
                size_t at = next(m) % size;
                memmove(data + at, data + at + 1, size - at - 1);
                size--;
            }
            break;
        }
    }
    return size;
}

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    mutator *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->rng = ((uint64_t)seed << 1) | 1;
    m->cap = FUZZ_MSG_BODY_CT_MAX + 16384;
    m->buf = malloc(m->cap);
    if (m->buf == NULL) {
        free(m);
        return NULL;
    }
    (void)fuzz_world_get(); /* build the fixed world once, up front */
#if IMC_AFL_MUTATOR != IMC_AFL_DELIVERY
    uint8_t pk[32], sk[32];
    fuzz_dir_key(pk, sk); /* and the directory's keys */
    (void)fuzz_dir_device(0, 0, 0);
#endif
    return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
    mutator *m = data;
    size_t cap = max_size < m->cap ? max_size : m->cap;
    unsigned seed = next(m);
    size_t n;
#if IMC_AFL_MUTATOR == IMC_AFL_DELIVERY
    if (add_buf != NULL && add_buf_size > 0 && next(m) % 8 == 0) {
        n = fuzz_crossover_delivery(buf, buf_size, add_buf, add_buf_size, m->buf, cap, seed);
        *out_buf = m->buf;
        return n;
    }
#else
    (void)add_buf;
    (void)add_buf_size;
#endif
    n = buf_size < cap ? buf_size : cap;
    memcpy(m->buf, buf, n);
    n = MUTATE(m->buf, n, cap, seed, havoc, m);
    *out_buf = m->buf;
    return n;
}

void afl_custom_deinit(void *data)
{
    mutator *m = data;
    if (m != NULL)
        free(m->buf);
    free(m);
}
