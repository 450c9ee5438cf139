/* An in-memory key-transparency store for tests and benchmarks: one
 * open-addressing hash table (linear probing, keyed SipHash-2-4, load at
 * most 2/3) over table byte || key, each slot a cached hash and one
 * allocation holding key and value. A put that fits the value's allocation
 * overwrites it in place (index nodes are rewritten on every update).
 * There are no transactions: the directory's stores provide those. */
#include <stdlib.h>
#include <string.h>

#include "imcore/util.h"
#include "kt/kt_impl.h"
#include "util/siphash.h"

#define MIN_SLOTS 16
#define KEY_MAX (1 + 2 + IMC_KT_HASH_BYTES)
#define HEAD 5 /* key length (1) || value length (2) || value capacity (2) */

typedef struct slot {
    uint64_t hash;
    uint8_t *blob; /* NULL: empty */
} slot;

struct imc_kt_mem {
    uint8_t sipkey[IMC_SIPHASH_KEY_BYTES];
    slot *slots;
    size_t cap, count, bytes;
};

static size_t b_klen(const uint8_t *b) { return b[0]; }
static size_t b_vlen(const uint8_t *b) { return (size_t)b[1] << 8 | b[2]; }
static size_t b_vcap(const uint8_t *b) { return (size_t)b[3] << 8 | b[4]; }

static size_t slots_for(size_t items)
{
    size_t cap = MIN_SLOTS;
    while (cap / 3 * 2 < items && cap < SIZE_MAX / 4)
        cap *= 2;
    return cap;
}

imc_status imc_kt_mem_open(imc_kt_mem **m, const imc_backend *b, size_t expected_items)
{
    if (m == NULL)
        return IMC_ERR_ARG;
    *m = NULL;
    imc_kt_mem *s = calloc(1, sizeof *s);
    if (s == NULL)
        return IMC_ERR_NOMEM;
    s->cap = slots_for(expected_items);
    s->slots = calloc(s->cap, sizeof *s->slots);
    imc_status st = s->slots != NULL ? imc_crypto_random(b, s->sipkey, sizeof s->sipkey)
                                     : IMC_ERR_NOMEM;
    if (st != IMC_OK) {
        free(s->slots);
        free(s);
        return st;
    }
    s->bytes = s->cap * sizeof *s->slots;
    *m = s;
    return IMC_OK;
}

void imc_kt_mem_close(imc_kt_mem *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].blob);
    free(m->slots);
    free(m);
}

void imc_kt_mem_usage(const imc_kt_mem *m, size_t *items, size_t *bytes)
{
    if (items != NULL)
        *items = m != NULL ? m->count : 0;
    if (bytes != NULL)
        *bytes = m != NULL ? m->bytes : 0;
}

/* The slot holding k, or the empty slot where it would go. */
static size_t find(const imc_kt_mem *s, uint64_t h, const uint8_t *k, size_t klen)
{
    size_t mask = s->cap - 1, i = (size_t)h & mask;
    for (; s->slots[i].blob != NULL; i = (i + 1) & mask) {
        const uint8_t *b = s->slots[i].blob;
        if (s->slots[i].hash == h && b_klen(b) == klen && memcmp(b + HEAD, k, klen) == 0)
            break;
    }
    return i;
}

static imc_status grow(imc_kt_mem *s)
{
    size_t cap = s->cap * 2;
    slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return IMC_ERR_NOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i].blob == NULL)
            continue;
        size_t j = (size_t)s->slots[i].hash & (cap - 1);
        while (slots[j].blob != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->bytes += (cap - s->cap) * sizeof *slots;
    s->slots = slots;
    s->cap = cap;
    return IMC_OK;
}

/* table byte || key into k; its length, or 0 if invalid. */
static size_t full_key(uint8_t k[KEY_MAX], imc_kt_table t, const uint8_t *key, size_t key_len)
{
    if ((unsigned)t >= IMC_KT_TABLE_COUNT || key == NULL || key_len == 0 ||
        key_len > KEY_MAX - 1)
        return 0;
    k[0] = (uint8_t)t;
    memcpy(k + 1, key, key_len);
    return key_len + 1;
}

static imc_status mem_get(void *ctx, imc_kt_table t, const uint8_t *key, size_t key_len,
                          const uint8_t **val, size_t *val_len)
{
    imc_kt_mem *s = ctx;
    uint8_t k[KEY_MAX];
    size_t klen = full_key(k, t, key, key_len);
    if (s == NULL || klen == 0 || val == NULL || val_len == NULL)
        return IMC_ERR_ARG;
    size_t i = find(s, imc_siphash24(s->sipkey, k, klen), k, klen);
    const uint8_t *b = s->slots[i].blob;
    if (b == NULL)
        return IMC_ERR_NOT_FOUND;
    *val = b + HEAD + klen;
    *val_len = b_vlen(b);
    return IMC_OK;
}

static imc_status mem_put(void *ctx, imc_kt_table t, const uint8_t *key, size_t key_len,
                          const uint8_t *val, size_t val_len)
{
    imc_kt_mem *s = ctx;
    uint8_t k[KEY_MAX];
    size_t klen = full_key(k, t, key, key_len);
    if (s == NULL || klen == 0 || (val == NULL && val_len != 0) || val_len > 0xffff)
        return IMC_ERR_ARG;
    uint64_t h = imc_siphash24(s->sipkey, k, klen);
    size_t i = find(s, h, k, klen);
    uint8_t *b = s->slots[i].blob;
    if (b != NULL && b_vcap(b) >= val_len) {
        b[1] = (uint8_t)(val_len >> 8);
        b[2] = (uint8_t)val_len;
        if (val_len != 0)
            memcpy(b + HEAD + klen, val, val_len);
        return IMC_OK;
    }
    if (b == NULL && (s->count + 1) > s->cap / 3 * 2) {
        imc_status st = grow(s);
        if (st != IMC_OK)
            return st;
        i = find(s, h, k, klen);
    }
    uint8_t *nb = malloc(HEAD + klen + val_len);
    if (nb == NULL)
        return IMC_ERR_NOMEM;
    nb[0] = (uint8_t)klen;
    nb[1] = nb[3] = (uint8_t)(val_len >> 8);
    nb[2] = nb[4] = (uint8_t)val_len;
    memcpy(nb + HEAD, k, klen);
    if (val_len != 0)
        memcpy(nb + HEAD + klen, val, val_len);
    if (b != NULL) {
        s->bytes -= HEAD + klen + b_vcap(b);
        free(b);
    } else {
        s->count++;
    }
    s->bytes += HEAD + klen + val_len;
    s->slots[i].hash = h;
    s->slots[i].blob = nb;
    return IMC_OK;
}

imc_kt_store imc_kt_mem_store(imc_kt_mem *m)
{
    imc_kt_store s = {mem_get, mem_put, m};
    return s;
}
