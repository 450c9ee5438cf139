/* AFL++ custom mutator (AFL_CUSTOM_MUTATOR_LIBRARY) for the decrypt
 * target: the same structure-aware mutation and crossover as libFuzzer's
 * LLVMFuzzerCustomMutator in fuzz_decrypt.c (fuzz_forge.c), so AFL++'s
 * mutants are re-encrypted and re-signed with the fixed sender's key too.
 * Built as a shared library from the plain (uninstrumented) replay tree;
 * AFL++ still runs its own mutations beside it.
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=build/h-fuzz-replay/fuzz/libimc_afl_mutator.so \
 *       afl-fuzz ... -- build/h-fuzz-afl/fuzz/fuzz_decrypt_afl */
#include <stdlib.h>
#include <string.h>

#include "fuzz_forge.h"

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
    return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
    mutator *m = data;
    size_t cap = max_size < m->cap ? max_size : m->cap;
    unsigned seed = next(m);
    size_t n;
    if (add_buf != NULL && add_buf_size > 0 && next(m) % 8 == 0) {
        n = fuzz_crossover_delivery(buf, buf_size, add_buf, add_buf_size, m->buf, cap, seed);
    } else {
        n = buf_size < cap ? buf_size : cap;
        memcpy(m->buf, buf, n);
        n = fuzz_mutate_delivery(m->buf, n, cap, seed, havoc, m);
    }
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
