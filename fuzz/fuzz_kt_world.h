/* The fixed key-transparency world of the kt fuzz targets and their seed
 * generator (gen_kt_corpus.c): a log key and three witness keys from the
 * fixed seed, an honest log of 7 leaves and a fork of 9 leaves that shares
 * the first 3, each with its index; genuine signed and cosigned
 * checkpoints, proofs, states and evidence are made from them, so the
 * seeds verify under the keys the harnesses hold. Header-only (static) so
 * that fuzz_common stays as it is. */
#ifndef IMCORE_FUZZ_KT_WORLD_H
#define IMCORE_FUZZ_KT_WORLD_H

#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "imcore/kt.h"

#define KT_HONEST 7
#define KT_FORK 9
#define KT_SHARED 3
#define KT_HELD 5 /* the size the fixed client and witness hold */
#define KT_TIME UINT64_C(1700000000)

typedef struct kt_world {
    const imc_backend *b;
    imc_kt_key log, wit[3];
    uint8_t log_sk[32], wit_sk[3][32];
    imc_kt_mem *mem[2]; /* honest, fork */
    imc_kt_store s[2];
} kt_world;

static inline void kt_keypair(const imc_backend *b, uint64_t stream, uint8_t pk[32], uint8_t sk[32])
{
    imc_rng rng;
    fuzz_rng(&rng, stream);
    imc_status st = imc_crypto_ed25519_keygen(b, &rng, pk, sk);
    FUZZ_CHECK(st == IMC_OK, "kt keygen: %s", imc_status_str(st));
}

static inline void kt_append(kt_world *w, int v, const char *tag, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        uint64_t size = 0;
        imc_status st = imc_kt_log_size(&size, &w->s[v]);
        char data[48], handle[48];
        int n = snprintf(data, sizeof data, "%s %llu", tag, (unsigned long long)size);
        int hn = snprintf(handle, sizeof handle, "user%u@example.org", (unsigned)(size % 4));
        uint8_t key[32], value[32];
        if (st == IMC_OK)
            st = imc_kt_log_append(NULL, w->b, &w->s[v], (const uint8_t *)data, (size_t)n);
        if (st == IMC_OK)
            st = imc_kt_leaf_hash(w->b, value, (const uint8_t *)data, (size_t)n);
        if (st == IMC_OK)
            st = imc_kt_index_key(w->b, key, (const uint8_t *)handle, (size_t)hn);
        if (st == IMC_OK)
            st = imc_kt_index_put(w->b, &w->s[v], key, value);
        FUZZ_CHECK(st == IMC_OK, "kt world append: %s", imc_status_str(st));
    }
}

/* Built once; never NULL. The stores hold the full logs; checkpoints at
 * earlier sizes use the index root of the full log (harmless here). */
static const kt_world *kt_world_get(void)
{
    static kt_world w;
    static bool ready;
    if (ready)
        return &w;
    w.b = fuzz_backend_for(1);
    uint8_t pk[32];
    kt_keypair(w.b, UINT64_C(0x6b740000), pk, w.log_sk);
    imc_status st = imc_kt_key_init(&w.log, w.b, "log.example.org/kt", IMC_KT_SIG_ED25519, pk);
    static const char *const names[3] = {"w1.example", "w2.example", "w3.example"};
    for (int i = 0; st == IMC_OK && i < 3; i++) {
        kt_keypair(w.b, UINT64_C(0x6b740001) + (uint64_t)i, pk, w.wit_sk[i]);
        st = imc_kt_key_init(&w.wit[i], w.b, names[i], IMC_KT_SIG_COSIGNATURE, pk);
    }
    for (int v = 0; st == IMC_OK && v < 2; v++) {
        st = imc_kt_mem_open(&w.mem[v], w.b, 64);
        if (st == IMC_OK)
            w.s[v] = imc_kt_mem_store(w.mem[v]);
    }
    FUZZ_CHECK(st == IMC_OK, "kt world: %s", imc_status_str(st));
    kt_append(&w, 0, "shared", KT_SHARED);
    kt_append(&w, 1, "shared", KT_SHARED);
    kt_append(&w, 0, "honest", KT_HONEST - KT_SHARED);
    kt_append(&w, 1, "ghost", KT_FORK - KT_SHARED);
    ready = true;
    return &w;
}

static inline imc_kt_client_config kt_world_config(const kt_world *w)
{
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = w->log;
    cfg.witness_count = 3;
    memcpy(cfg.witnesses, w->wit, sizeof w->wit);
    cfg.threshold = 2;
    return cfg;
}

/* The note of view v at size, signed by the log and cosigned by the first
 * `cosigners` witnesses (at KT_TIME); its length. */
static inline size_t kt_world_note(char *out, size_t cap, const kt_world *w, int v, uint64_t size,
                            int cosigners)
{
    imc_kt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    memcpy(cp.origin, w->log.name, w->log.name_len);
    cp.origin_len = w->log.name_len;
    cp.size = size;
    cp.epoch = size;
    size_t tl = 0, sl = 0;
    imc_status st = imc_kt_log_root(cp.root, w->b, &w->s[v], size);
    if (st == IMC_OK)
        st = imc_kt_index_root(cp.index_root, &w->s[v]);
    if (st == IMC_OK)
        st = imc_kt_checkpoint_text(out, cap, &tl, &cp);
    if (st == IMC_OK) {
        out[tl] = '\n';
        st = imc_kt_note_sign(out + tl + 1, cap - tl - 1, &sl, w->b, &w->log, w->log_sk,
                              (const uint8_t *)out, tl);
    }
    size_t len = tl + 1 + sl;
    for (int i = 0; st == IMC_OK && i < cosigners; i++) {
        size_t cl = 0;
        st = imc_kt_cosign(out + len, cap - len, &cl, w->b, &w->wit[i], w->wit_sk[i],
                           (const uint8_t *)out, tl, KT_TIME);
        len += cl;
    }
    FUZZ_CHECK(st == IMC_OK, "kt world note: %s", imc_status_str(st));
    return len;
}

/* The encoded consistency proof of view v from m to n. */
static inline size_t kt_world_proof(uint8_t *out, size_t cap, const kt_world *w, int v, uint64_t m,
                             uint64_t n)
{
    imc_kt_log_proof p;
    size_t len = 0;
    imc_status st = imc_kt_log_prove_consistency(&p, w->b, &w->s[v], m, n);
    if (st == IMC_OK)
        st = imc_kt_log_proof_encode(out, cap, &len, &p);
    FUZZ_CHECK(st == IMC_OK, "kt world proof: %s", imc_status_str(st));
    return len;
}

/* A client that holds the honest checkpoint at KT_HELD. */
static inline void kt_world_client(imc_kt_client *c, const kt_world *w)
{
    static char note[IMC_KT_MAX_NOTE_BYTES];
    static size_t len;
    if (len == 0)
        len = kt_world_note(note, sizeof note, w, 0, KT_HELD, 2);
    imc_kt_client_config cfg = kt_world_config(w);
    imc_status st = imc_kt_client_init(c, w->b, &cfg);
    if (st == IMC_OK)
        st = imc_kt_client_update(c, NULL, (const uint8_t *)note, len, NULL, 0);
    FUZZ_CHECK(st == IMC_OK, "kt world client: %s", imc_status_str(st));
}

/* Witness 0 after cosigning the honest checkpoint at KT_HELD. */
static inline void kt_world_witness(imc_kt_witness *wi, const kt_world *w)
{
    static char note[IMC_KT_MAX_NOTE_BYTES];
    static size_t len;
    if (len == 0)
        len = kt_world_note(note, sizeof note, w, 0, KT_HELD, 0);
    char line[IMC_KT_COSIG_LINE_MAX];
    size_t ll = 0;
    imc_status st = imc_kt_witness_init(wi, w->b, &w->wit[0], w->wit_sk[0], &w->log);
    if (st == IMC_OK)
        st = imc_kt_witness_cosign(line, sizeof line, &ll, wi, (const uint8_t *)note, len, NULL,
                                   0, KT_TIME);
    FUZZ_CHECK(st == IMC_OK, "kt world witness: %s", imc_status_str(st));
}

#endif
