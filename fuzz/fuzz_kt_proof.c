/* Target kt_proof: the binary formats of docs/transparency.md, selected by
 * the first byte: 0 log proof, 1 index proof, 2 evidence, 3 client state,
 * 4 witness state, 5 client configuration; the rest of the input is the
 * bytes.
 *
 * Log and index proofs: parse, then encode to the identical bytes
 * (canonical); a log proof that verifies against the honest log's root is
 * exactly the proof the log generates; an index proof that verifies for a
 * handle's key says what the index holds. Evidence: when it verifies, its
 * rules hold (SAME_SIZE: equal sizes; PREFIX: a smaller first size; LIST:
 * a handle and a version), and it verifies again. States and
 * configurations: what loads saves to the identical bytes.
 * Statuses are only the documented ones. Seeds: gen_kt_corpus.c. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_kt_world.h"

static void log_proof(const kt_world *w, const uint8_t *d, size_t n)
{
    static imc_kt_log_proof p, want;
    static uint8_t enc[IMC_KT_LOG_PROOF_MAX_BYTES];
    imc_status st = imc_kt_log_proof_parse(&p, d, n);
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_MALFORMED, "log proof: %s", imc_status_str(st));
    if (st != IMC_OK)
        return;
    size_t len = 0;
    st = imc_kt_log_proof_encode(enc, sizeof enc, &len, &p);
    FUZZ_CHECK(st == IMC_OK && len == n && memcmp(enc, d, n) == 0, "log proof not canonical");
    if (p.b > KT_HONEST)
        return;
    fuzz_count("logproof.inrange");
    uint8_t root[32], first[32], leaf[32];
    FUZZ_CHECK(imc_kt_log_root(root, w->b, &w->s[0], p.b) == IMC_OK, "root");
    if (p.kind == IMC_KT_PROOF_INCLUSION) {
        const uint8_t *ld = NULL;
        size_t ln = 0;
        FUZZ_CHECK(imc_kt_log_leaf(&ld, &ln, &w->s[0], p.a) == IMC_OK, "leaf");
        FUZZ_CHECK(imc_kt_leaf_hash(w->b, leaf, ld, ln) == IMC_OK, "leaf hash");
        if (imc_kt_inclusion_verify(w->b, leaf, root, &p) != IMC_OK)
            return;
        fuzz_count("logproof.inclusion.verified");
        FUZZ_CHECK(imc_kt_log_prove_inclusion(&want, w->b, &w->s[0], p.a, p.b) == IMC_OK, "prove");
    } else {
        FUZZ_CHECK(imc_kt_log_root(first, w->b, &w->s[0], p.a) == IMC_OK, "first root");
        if (imc_kt_consistency_verify(w->b, first, root, &p) != IMC_OK)
            return;
        fuzz_count("logproof.consistency.verified");
        FUZZ_CHECK(imc_kt_log_prove_consistency(&want, w->b, &w->s[0], p.a, p.b) == IMC_OK,
                   "prove");
    }
    FUZZ_CHECK(want.count == p.count && memcmp(want.path, p.path, 32 * p.count) == 0,
               "a proof other than the log's verified");
}

static void index_proof(const kt_world *w, const uint8_t *d, size_t n)
{
    static imc_kt_index_proof p;
    static uint8_t enc[IMC_KT_INDEX_PROOF_MAX_BYTES];
    imc_status st = imc_kt_index_proof_parse(&p, d, n);
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_MALFORMED, "index proof: %s", imc_status_str(st));
    if (st != IMC_OK)
        return;
    size_t len = 0;
    st = imc_kt_index_proof_encode(enc, sizeof enc, &len, &p);
    FUZZ_CHECK(st == IMC_OK && len == n && memcmp(enc, d, n) == 0, "index proof not canonical");
    uint8_t root[32], key[32], value[32];
    FUZZ_CHECK(imc_kt_index_root(root, &w->s[0]) == IMC_OK, "index root");
    for (unsigned h = 0; h < 6; h++) { /* users 0..3 exist, 4 and 5 do not */
        char handle[32];
        int hl = snprintf(handle, sizeof handle, "user%u@example.org", h);
        FUZZ_CHECK(imc_kt_index_key(w->b, key, (const uint8_t *)handle, (size_t)hl) == IMC_OK,
                   "key");
        static imc_kt_index_proof real;
        FUZZ_CHECK(imc_kt_index_prove(&real, value, &w->s[0], key) == IMC_OK, "prove");
        bool present = real.result == IMC_KT_INDEX_PRESENT;
        if (imc_kt_index_verify(w->b, root, key, present ? value : NULL, &p) == IMC_OK) {
            fuzz_count("indexproof.verified");
            FUZZ_CHECK((p.result == IMC_KT_INDEX_PRESENT) == present,
                       "index proof contradicts the index for %s", handle);
        }
        /* Absence of a present key, or presence of an absent one, never. */
        FUZZ_CHECK(imc_kt_index_verify(w->b, root, key, present ? NULL : value, &p) != IMC_OK,
                   "index proof proves the opposite for %s", handle);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const kt_world *w = kt_world_get();
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    imc_status st;
    switch (data[0] % 6) {
    case 0: log_proof(w, d, n); break;
    case 1: index_proof(w, d, n); break;
    case 2: {
        imc_kt_evidence e, again;
        st = imc_kt_evidence_verify(&e, w->b, d, n);
        FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_MALFORMED || st == IMC_ERR_AUTH ||
                       st == IMC_ERR_LIMIT,
                   "evidence: %s", imc_status_str(st));
        if (st != IMC_OK)
            break;
        fuzz_count("evidence.verified");
        if (e.kind == IMC_KT_EVIDENCE_LIST) {
            fuzz_count("evidence.list.verified");
            FUZZ_CHECK(e.version >= 1 && e.handle_len > 0, "list evidence rules");
        } else {
            FUZZ_CHECK(e.kind == IMC_KT_EVIDENCE_SAME_SIZE ? e.a.size == e.b.size
                                                           : e.a.size < e.b.size && e.a.size > 0,
                       "evidence rules");
        }
        FUZZ_CHECK(imc_kt_evidence_verify(&again, w->b, d, n) == IMC_OK, "not repeatable");
        break;
    }
    case 3: {
        static imc_kt_client c;
        static uint8_t out[IMC_KT_CLIENT_STATE_MAX];
        imc_kt_client_config cfg = kt_world_config(w);
        FUZZ_CHECK(imc_kt_client_init(&c, w->b, &cfg) == IMC_OK, "client init");
        st = imc_kt_client_load(&c, d, n);
        if (st != IMC_OK)
            break;
        fuzz_count("clientstate.loaded");
        size_t len = 0;
        st = imc_kt_client_save(out, sizeof out, &len, &c);
        FUZZ_CHECK(st == IMC_OK && len == n && memcmp(out, d, n) == 0,
                   "client state not canonical");
        break;
    }
    case 5: {
        static imc_kt_client_config cfg;
        static uint8_t out[IMC_KT_CONFIG_MAX_BYTES];
        st = imc_kt_client_config_parse(&cfg, w->b, d, n);
        FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_MALFORMED, "config: %s", imc_status_str(st));
        if (st != IMC_OK)
            break;
        fuzz_count("config.parsed");
        size_t len = 0;
        st = imc_kt_client_config_encode(out, sizeof out, &len, &cfg);
        FUZZ_CHECK(st == IMC_OK && len == n && memcmp(out, d, n) == 0, "config not canonical");
        FUZZ_CHECK(cfg.threshold <= cfg.witness_count, "config threshold");
        break;
    }
    default: {
        static imc_kt_witness wi;
        static uint8_t out[IMC_KT_WITNESS_STATE_MAX];
        FUZZ_CHECK(imc_kt_witness_init(&wi, w->b, &w->wit[0], w->wit_sk[0], &w->log) == IMC_OK,
                   "witness init");
        st = imc_kt_witness_load(&wi, d, n);
        if (st == IMC_OK) {
            fuzz_count("witnessstate.loaded");
            size_t len = 0;
            st = imc_kt_witness_save(out, sizeof out, &len, &wi);
            FUZZ_CHECK(st == IMC_OK && len == n && memcmp(out, d, n) == 0,
                       "witness state not canonical");
        }
        imc_kt_witness_wipe(&wi);
        break;
    }
    }
    return 0;
}
