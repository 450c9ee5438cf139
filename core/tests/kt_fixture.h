/* Shared by the key-transparency tests: a backend, a fresh in-memory
 * store, and deterministic Ed25519 keys. */
#ifndef IMCORE_KT_FIXTURE_H
#define IMCORE_KT_FIXTURE_H

#include "imcore/kt.h"
#include "test.h"

static inline const imc_backend *kt_backend(void)
{
    const imc_backend *bs[8];
    size_t n = imc_test_backends(bs, 8);
    for (size_t i = 0; i < n; i++) {
        uint8_t pk[32], sk[32] = {0};
        if (imc_crypto_ed25519_public(bs[i], pk, sk) == IMC_OK)
            return bs[i]; /* the first with Ed25519 */
    }
    return NULL;
}

/* Key pair number i (a fixed seed per i). */
static inline void kt_keypair(const imc_backend *b, unsigned i, uint8_t pk[32], uint8_t sk[32])
{
    for (size_t j = 0; j < 32; j++)
        sk[j] = (uint8_t)(0x40 + i * 7 + j);
    if (imc_crypto_ed25519_public(b, pk, sk) != IMC_OK)
        memset(pk, 0, 32);
}

/* A key of the given type named `name` from key pair i. */
static inline imc_kt_key kt_key(const imc_backend *b, unsigned i, const char *name, uint8_t type,
                                uint8_t sk[32])
{
    uint8_t pk[32];
    imc_kt_key k;
    kt_keypair(b, i, pk, sk);
    if (imc_kt_key_init(&k, b, name, type, pk) != IMC_OK)
        memset(&k, 0, sizeof k);
    return k;
}

/* A small log with its index and signing key, for the scenarios. */
typedef struct kt_log {
    const imc_backend *b;
    imc_kt_mem *mem;
    imc_kt_store s;
    imc_kt_key key;
    uint8_t sk[32];
} kt_log;

static inline void kt_log_open(kt_log *l, const imc_backend *b, unsigned keypair)
{
    memset(l, 0, sizeof *l);
    l->b = b;
    l->key = kt_key(b, keypair, "dir.example/kt", IMC_KT_SIG_ED25519, l->sk);
    CHECK_OK(imc_kt_mem_open(&l->mem, b, 0));
    l->s = imc_kt_mem_store(l->mem);
}

/* Appends count leaves "<tag> <i>", each also the latest leaf of one of
 * five handles in the index. */
static inline void kt_log_append(kt_log *l, const char *tag, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        char data[64], handle[32];
        uint64_t size = 0;
        CHECK_OK(imc_kt_log_size(&size, &l->s));
        int n = snprintf(data, sizeof data, "%s %llu", tag, (unsigned long long)size);
        int hn = snprintf(handle, sizeof handle, "user%llu@example.com",
                          (unsigned long long)(size % 5));
        uint8_t key[32], value[32];
        CHECK_OK(imc_kt_log_append(NULL, l->b, &l->s, (const uint8_t *)data, (size_t)n));
        CHECK_OK(imc_kt_leaf_hash(l->b, value, (const uint8_t *)data, (size_t)n));
        CHECK_OK(imc_kt_index_key(l->b, key, (const uint8_t *)handle, (size_t)hn));
        CHECK_OK(imc_kt_index_put(l->b, &l->s, key, value));
    }
}

/* The signed checkpoint of the current tree (epoch = size) into out; its
 * length. */
static inline size_t kt_log_note(char *out, size_t cap, kt_log *l)
{
    imc_kt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    memcpy(cp.origin, l->key.name, l->key.name_len);
    cp.origin_len = l->key.name_len;
    CHECK_OK(imc_kt_log_size(&cp.size, &l->s));
    cp.epoch = cp.size;
    CHECK_OK(imc_kt_log_root(cp.root, l->b, &l->s, cp.size));
    CHECK_OK(imc_kt_index_root(cp.index_root, &l->s));
    size_t tl = 0, sl = 0;
    CHECK_OK(imc_kt_checkpoint_text(out, cap, &tl, &cp));
    out[tl] = '\n';
    CHECK_OK(imc_kt_note_sign(out + tl + 1, cap - tl - 1, &sl, l->b, &l->key, l->sk,
                              (const uint8_t *)out, tl));
    return tl + 1 + sl;
}

/* The encoded consistency proof from size m to the current size. */
static inline size_t kt_log_proof(uint8_t *out, size_t cap, kt_log *l, uint64_t m)
{
    imc_kt_log_proof p;
    uint64_t n = 0;
    size_t len = 0;
    CHECK_OK(imc_kt_log_size(&n, &l->s));
    CHECK_OK(imc_kt_log_prove_consistency(&p, l->b, &l->s, m, n));
    CHECK_OK(imc_kt_log_proof_encode(out, cap, &len, &p));
    return len;
}

/* A client configuration for log l: witnesses w[0..n), threshold k. */
static inline imc_kt_client_config kt_config(const kt_log *l, const imc_kt_key *w, size_t n,
                                             size_t k)
{
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = l->key;
    cfg.witness_count = n;
    for (size_t i = 0; i < n; i++)
        cfg.witnesses[i] = w[i];
    cfg.threshold = k;
    return cfg;
}

static inline void kt_log_close(kt_log *l)
{
    imc_kt_mem_close(l->mem);
    memset(l, 0, sizeof *l);
}

#endif
