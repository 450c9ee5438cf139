/* imcore-bench-kt: the key-transparency costs at scale, on the in-memory
 * store (core/src/kt/store_mem.c; the directory's LMDB integration is not
 * measured here).
 *
 *   imcore-bench-kt [--n N] [--backend NAME] [--samples S]
 *
 * Builds a log of N leaves and an index of N handles (one update = one log
 * append + one index update, as the directory would do per applied
 * change), then measures at size N, over S samples each: one more update,
 * inclusion and consistency proof generation and verification, index
 * proof generation and verification (present and absent handles), proof
 * sizes in bytes, a witness cosigning a checkpoint with its consistency
 * proof, and a client verifying a checkpoint with 2-of-3 cosignatures.
 * Times are process CPU time (the machine is shared); the byte counts are
 * exact. Output: one "name value unit" line per figure. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_TOOL_NAME "imcore-bench-kt"
#include "bench_tool.h"
#include "imcore/kt.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}


/* xorshift64*: the sample positions (not security relevant). */
static uint64_t rnd_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 0x2545f4914f6cdd1du;
}

/* A leaf as the directory would log it: handle, handle version, account
 * key, hash of the signed device list, hash of the previous leaf. */
static size_t make_leaf(uint8_t *out, char *handle, size_t *hl, uint64_t i, uint64_t version)
{
    *hl = (size_t)snprintf(handle, 64, "user%llu@example.com", (unsigned long long)i);
    size_t o = 0;
    out[o++] = (uint8_t)*hl;
    memcpy(out + o, handle, *hl);
    o += *hl;
    for (int k = 0; k < 8; k++)
        out[o++] = (uint8_t)(version >> (56 - 8 * k));
    for (int k = 0; k < 96; k++) /* account key, list hash, previous leaf hash */
        out[o++] = (uint8_t)(i * 31 + (uint64_t)k);
    return o;
}

static void update(const imc_backend *b, const imc_kt_store *s, uint64_t i, uint64_t version)
{
    uint8_t leaf[200], key[32], value[32];
    char handle[64];
    size_t hl = 0, n = make_leaf(leaf, handle, &hl, i, version);
    TRY("append", imc_kt_log_append(NULL, b, s, leaf, n));
    TRY("leaf hash", imc_kt_leaf_hash(b, value, leaf, n));
    TRY("index key", imc_kt_index_key(b, key, (const uint8_t *)handle, hl));
    TRY("index put", imc_kt_index_put(b, s, key, value));
}

static void report(const char *name, double v, const char *unit)
{
    printf("%-40s %14.3f %s\n", name, v, unit);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    size_t samples = 10000;
    const char *bname = "openssl";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc)
            bname = argv[++i];
        else if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc)
            samples = (size_t)strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: imcore-bench-kt [--n N] [--backend NAME] [--samples S]\n");
            return 2;
        }
    }
    if (n < 16 || samples == 0) {
        fprintf(stderr, "imcore-bench-kt: --n must be >= 16 and --samples >= 1\n");
        return 2;
    }
    const imc_backend *b = imc_backend_get(bname);
    if (b == NULL) {
        fprintf(stderr, "imcore-bench-kt: backend %s not available\n", bname);
        return 2;
    }
    printf("# imcore-bench-kt: n=%llu samples=%zu backend=%s store=memory\n",
           (unsigned long long)n, samples, bname);
    imc_kt_mem *mem = NULL;
    TRY("open", imc_kt_mem_open(&mem, b, (size_t)(n * 5)));
    imc_kt_store s = imc_kt_mem_store(mem);

    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++)
        update(b, &s, i, 1);
    double t1 = now_s();
    report("build/update (mean over build)", (t1 - t0) / (double)n * 1e6, "us/update");
    size_t items = 0, bytes = 0;
    imc_kt_mem_usage(mem, &items, &bytes);
    report("store/items", (double)items, "items");
    report("store/bytes per update", (double)bytes / (double)n, "bytes");

    /* One more update at size ~N (existing handles get a new version). */
    t0 = now_s();
    for (size_t k = 0; k < samples; k++)
        update(b, &s, rnd() % n, 2);
    report("update at size N (append + index)", (now_s() - t0) / (double)samples * 1e6,
           "us/update");
    uint64_t size = 0;
    TRY("size", imc_kt_log_size(&size, &s));

    uint8_t root[32], leafh[32], buf[IMC_KT_INDEX_PROOF_MAX_BYTES];
    TRY("root", imc_kt_log_root(root, b, &s, size));
    static imc_kt_log_proof p;
    double gen = 0, ver = 0, bytes_sum = 0;
    size_t len = 0;
    for (size_t k = 0; k < samples; k++) {
        uint64_t idx = rnd() % size;
        const uint8_t *d = NULL;
        size_t dl = 0;
        TRY("leaf", imc_kt_log_leaf(&d, &dl, &s, idx));
        TRY("leaf hash", imc_kt_leaf_hash(b, leafh, d, dl));
        t0 = now_s();
        TRY("prove inclusion", imc_kt_log_prove_inclusion(&p, b, &s, idx, size));
        t1 = now_s();
        TRY("verify inclusion", imc_kt_inclusion_verify(b, leafh, root, &p));
        ver += now_s() - t1;
        gen += t1 - t0;
        TRY("encode", imc_kt_log_proof_encode(buf, sizeof buf, &len, &p));
        bytes_sum += (double)len;
    }
    report("log/inclusion prove", gen / (double)samples * 1e6, "us");
    report("log/inclusion verify", ver / (double)samples * 1e6, "us");
    report("log/inclusion proof size (mean)", bytes_sum / (double)samples, "bytes");

    gen = ver = bytes_sum = 0;
    for (size_t k = 0; k < samples; k++) {
        uint64_t m = 1 + rnd() % (size - 1);
        uint8_t first[32];
        TRY("root m", imc_kt_log_root(first, b, &s, m));
        t0 = now_s();
        TRY("prove consistency", imc_kt_log_prove_consistency(&p, b, &s, m, size));
        t1 = now_s();
        TRY("verify consistency", imc_kt_consistency_verify(b, first, root, &p));
        ver += now_s() - t1;
        gen += t1 - t0;
        TRY("encode", imc_kt_log_proof_encode(buf, sizeof buf, &len, &p));
        bytes_sum += (double)len;
    }
    report("log/consistency prove (random m)", gen / (double)samples * 1e6, "us");
    report("log/consistency verify", ver / (double)samples * 1e6, "us");
    report("log/consistency proof size (mean)", bytes_sum / (double)samples, "bytes");

    uint8_t iroot[32], key[32], value[32];
    TRY("index root", imc_kt_index_root(iroot, &s));
    static imc_kt_index_proof ip;
    for (int absent = 0; absent < 2; absent++) {
        gen = ver = bytes_sum = 0;
        double depth = 0;
        for (size_t k = 0; k < samples; k++) {
            char handle[64];
            uint64_t i = absent ? n + rnd() % n : rnd() % n;
            int hl = snprintf(handle, sizeof handle, "user%llu@example.com", (unsigned long long)i);
            TRY("key", imc_kt_index_key(b, key, (const uint8_t *)handle, (size_t)hl));
            t0 = now_s();
            TRY("index prove", imc_kt_index_prove(&ip, value, &s, key));
            t1 = now_s();
            TRY("index verify", imc_kt_index_verify(b, iroot, key, absent ? NULL : value, &ip));
            ver += now_s() - t1;
            gen += t1 - t0;
            TRY("encode", imc_kt_index_proof_encode(buf, sizeof buf, &len, &ip));
            bytes_sum += (double)len;
            depth += (double)ip.depth;
        }
        report(absent ? "index/absent prove" : "index/present prove",
               gen / (double)samples * 1e6, "us");
        report(absent ? "index/absent verify" : "index/present verify",
               ver / (double)samples * 1e6, "us");
        report(absent ? "index/absent proof size (mean)" : "index/present proof size (mean)",
               bytes_sum / (double)samples, "bytes");
        report(absent ? "index/absent depth (mean)" : "index/present depth (mean)",
               depth / (double)samples, "levels");
    }

    /* Witness and client: a checkpoint at size-1 cosigned, then size. */
    uint8_t lsk[32], lpk[32], wsk[3][32], wpk[32];
    memset(lsk, 1, sizeof lsk);
    TRY("log pk", imc_crypto_ed25519_public(b, lpk, lsk));
    imc_kt_key logk, wk[3];
    TRY("log key", imc_kt_key_init(&logk, b, "dir.example/kt", IMC_KT_SIG_ED25519, lpk));
    static const char *const wn[3] = {"w1.example", "w2.example", "w3.example"};
    for (int i = 0; i < 3; i++) {
        memset(wsk[i], 2 + i, 32);
        TRY("w pk", imc_crypto_ed25519_public(b, wpk, wsk[i]));
        TRY("w key", imc_kt_key_init(&wk[i], b, wn[i], IMC_KT_SIG_COSIGNATURE, wpk));
    }
    static char note[IMC_KT_MAX_NOTE_BYTES], note_m[IMC_KT_MAX_NOTE_BYTES];
    static uint8_t cstate[IMC_KT_CLIENT_STATE_MAX];
    static imc_kt_client c0;
    static uint8_t pbuf[IMC_KT_LOG_PROOF_MAX_BYTES];
    size_t samples_w = samples < 2000 ? samples : 2000;
    double cos = 0, cli = 0, note_bytes = 0;
    static imc_kt_witness w;
    static imc_kt_client c;
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = logk;
    cfg.witness_count = 3;
    memcpy(cfg.witnesses, wk, sizeof wk);
    cfg.threshold = 2;
    for (size_t k = 0; k < samples_w; k++) {
        uint64_t m = size - 1 - rnd() % (size / 2);
        size_t nl = 0, pl = 0, ml = 0;
        for (int step = 0; step < 2; step++) {
            uint64_t sz = step == 0 ? m : size;
            imc_kt_checkpoint cp;
            memset(&cp, 0, sizeof cp);
            memcpy(cp.origin, "dir.example/kt", 14);
            cp.origin_len = 14;
            cp.size = sz;
            cp.epoch = sz;
            TRY("root", imc_kt_log_root(cp.root, b, &s, sz));
            memcpy(cp.index_root, iroot, 32);
            size_t tl = 0, sl = 0;
            TRY("text", imc_kt_checkpoint_text(note, sizeof note, &tl, &cp));
            note[tl] = '\n';
            TRY("sign", imc_kt_note_sign(note + tl + 1, sizeof note - tl - 1, &sl, b, &logk, lsk,
                                         (const uint8_t *)note, tl));
            nl = tl + 1 + sl;
            if (step == 0) {
                TRY("witness", imc_kt_witness_init(&w, b, &wk[0], wsk[0], &logk));
                char line[IMC_KT_COSIG_LINE_MAX];
                size_t ll = 0;
                TRY("cosign first", imc_kt_witness_cosign(line, sizeof line, &ll, &w,
                                                          (const uint8_t *)note, nl, NULL, 0,
                                                          1700000000));
                memcpy(note_m, note, nl);
                ml = nl;
                continue;
            }
            TRY("prove", imc_kt_log_prove_consistency(&p, b, &s, m, size));
            TRY("encode", imc_kt_log_proof_encode(pbuf, sizeof pbuf, &pl, &p));
            t0 = now_s();
            size_t ll = 0;
            TRY("cosign", imc_kt_witness_cosign(note + nl, sizeof note - nl, &ll, &w,
                                                (const uint8_t *)note, nl, pbuf, pl,
                                                1700000000));
            cos += now_s() - t0;
            nl += ll;
            for (int i = 1; i < 3; i++) {
                TRY("cosign", imc_kt_cosign(note + nl, sizeof note - nl, &ll, b, &wk[i], wsk[i],
                                            (const uint8_t *)note, tl, 1700000000));
                nl += ll;
            }
        }
        note_bytes += (double)nl;
        /* The client's saved state at size m (verified earlier without
         * witnesses), loaded into a client that needs 2 of 3. */
        imc_kt_client_config first = cfg;
        first.threshold = 0;
        size_t csl = 0;
        TRY("client", imc_kt_client_init(&c0, b, &first));
        TRY("client m", imc_kt_client_update(&c0, NULL, (const uint8_t *)note_m, ml, NULL, 0));
        TRY("save", imc_kt_client_save(cstate, sizeof cstate, &csl, &c0));
        TRY("client", imc_kt_client_init(&c, b, &cfg));
        TRY("load", imc_kt_client_load(&c, cstate, csl));
        t0 = now_s();
        TRY("client update", imc_kt_client_update(&c, NULL, (const uint8_t *)note, nl, pbuf, pl));
        cli += now_s() - t0;
    }
    report("witness/cosign (verify + sign)", cos / (double)samples_w * 1e6, "us");
    report("client/checkpoint update (2-of-3)", cli / (double)samples_w * 1e6, "us");
    report("checkpoint note with 3 cosignatures", note_bytes / (double)samples_w, "bytes");
    imc_kt_mem_close(mem);
    return 0;
}
