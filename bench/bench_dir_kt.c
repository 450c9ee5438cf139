/* imcore-bench-dir-kt: the directory's transparency log at scale, on LMDB
 * (docs/transparency.md, "The directory's log").
 *
 *   imcore-bench-dir-kt --path FILE [--n N] [--samples S] [--no-sync]
 *                       [--backend NAME] [--check]
 *
 * Builds an LMDB directory of N handles with imc_dir_import (each record
 * also appends its leaf, index value and history, in batches of 10000 per
 * write transaction), then at size N, over S samples each:
 *   - update: a device registering a new handle (signed by the device and
 *     the account key, prepared beforehand), applied by imc_dir_update: its
 *     checks, the record, the log append, the index update, the history and
 *     the new signed checkpoint, one LMDB write transaction (fsync'd unless
 *     --no-sync);
 *   - lookup with proofs of one random registered handle (imc_dir_serve of
 *     a 'P' request), the response's size, and the client's verification
 *     of the answer (imc_dir_kt_answer_verify), next to the plain signed
 *     lookup (imc_dir_lookup) for comparison;
 *   - audit of one random handle from version 1 and its verification;
 *   - with --check: imc_dir_check on the whole directory (it replays the log).
 * Times are wall clock (monotonic, what a client waits for, fsyncs
 * included) and process CPU time; the machine is shared, so they are
 * noisy. Byte counts are exact. Output: one "name value unit" line each. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_TOOL_NAME "imcore-bench-dir-kt"
#include "bench_tool.h"
#include "imcore/dir.h"
#include "imcore/dirkt.h"

#define BATCH 10000
#define NOW_MS UINT64_C(1700000000000)

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct span {
    double wall, cpu;
} span;

static span start(void)
{
    span s = {clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_PROCESS_CPUTIME_ID)};
    return s;
}

static span since(span s)
{
    span e = {clock_s(CLOCK_MONOTONIC) - s.wall, clock_s(CLOCK_PROCESS_CPUTIME_ID) - s.cpu};
    return e;
}


static void report(const char *name, double v, const char *unit)
{
    printf("%-44s %14.3f %s\n", name, v, unit);
    fflush(stdout);
}

static void report_span(const char *name, span s, double count)
{
    char buf[96];
    snprintf(buf, sizeof buf, "%s (wall)", name);
    report(buf, s.wall / count * 1e6, "us");
    snprintf(buf, sizeof buf, "%s (cpu)", name);
    report(buf, s.cpu / count * 1e6, "us");
}

/* xorshift64*: sample positions (not security relevant). */
static uint64_t rnd_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 0x2545f4914f6cdd1du;
}

static size_t handle_of(char *out, uint64_t i)
{
    return (size_t)snprintf(out, 64, "user%llu@example.com", (unsigned long long)i);
}

/* Record i of the bulk load: one suite-1 device (id i + 1) with key bytes
 * derived from i, a freshly created account. The import checks neither the
 * keys nor the account signature, so none is made (it would only cost the
 * benchmark's set-up time). */
static void import_record(imc_dir_record *rec, uint64_t i)
{
    memset(rec, 0, sizeof *rec);
    rec->handle_len = handle_of((char *)rec->handle, i);
    rec->epoch = 1;
    rec->key_change = IMC_DIR_KEY_NEW;
    rec->device_count = 1;
    imc_device_public *d = &rec->devices[0];
    d->suite = 1;
    d->device_id = i + 1;
    for (size_t k = 0; k < 32; k++) {
        d->dh_pk[k] = (uint8_t)(i >> (k % 8) ^ k);
        d->sig_pk[k] = (uint8_t)(i * 7 >> (k % 8) ^ k);
        rec->account_pk[k] = (uint8_t)(i * 13 >> (k % 8) ^ k);
    }
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    size_t samples = 1000;
    const char *bname = "openssl", *path = NULL;
    bool no_sync = false, check = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc)
            samples = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc)
            bname = argv[++i];
        else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--no-sync") == 0)
            no_sync = true;
        else if (strcmp(argv[i], "--check") == 0)
            check = true;
        else {
            fprintf(stderr, "usage: imcore-bench-dir-kt --path FILE [--n N] [--samples S] "
                            "[--no-sync] [--backend NAME] [--check]\n");
            return 2;
        }
    }
    if (path == NULL || n < 16 || samples == 0) {
        fprintf(stderr, "imcore-bench-dir-kt: --path is needed, --n >= 16, --samples >= 1\n");
        return 2;
    }
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "imcore-bench-dir-kt: %s exists; give a new file\n", path);
        return 2;
    }
    const imc_backend *b = imc_backend_get(bname);
    if (b == NULL) {
        fprintf(stderr, "imcore-bench-dir-kt: backend %s not available\n", bname);
        return 2;
    }
    printf("# imcore-bench-dir-kt: n=%llu samples=%zu backend=%s store=lmdb%s\n",
           (unsigned long long)n, samples, bname, no_sync ? " no-sync" : " sync");

    imc_dir_store store;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    imc_dir_lmdb_options opt = {0, no_sync, false};
    TRY("keygen", imc_dir_keygen(b, NULL, pk, sk));
    TRY("open", imc_dir_store_lmdb_open(&store, path, &opt));
    TRY("init", imc_dir_init(&d, b, store, sk, NULL));

    /* Bulk load. */
    imc_dir_record *recs = malloc(BATCH * sizeof *recs);
    if (recs == NULL)
        die("memory", IMC_ERR_NOMEM);
    span build = {0, 0};
    for (uint64_t i = 0; i < n;) {
        size_t k = n - i < BATCH ? (size_t)(n - i) : BATCH;
        for (size_t j = 0; j < k; j++)
            import_record(&recs[j], i + j);
        span s = start();
        TRY("import", imc_dir_import(&d, recs, k));
        span e = since(s);
        build.wall += e.wall;
        build.cpu += e.cpu;
        i += k;
    }
    free(recs);
    report_span("build/import per handle (batches of 10000)", build, (double)n);
    struct stat stt;
    if (stat(path, &stt) == 0)
        report("store/file bytes per handle", (double)stt.st_size / (double)n, "bytes");

    /* Updates: new handles registering, signed beforehand. */
    uint8_t *upds = malloc(samples * IMC_DIR_UPDATE_MAX_BYTES);
    size_t *upd_len = malloc(samples * sizeof *upd_len);
    imc_dir_record *cur = malloc(sizeof *cur);
    if (upds == NULL || upd_len == NULL || cur == NULL)
        die("memory", IMC_ERR_NOMEM);
    imc_rng rng;
    static const uint8_t seed[IMC_RNG_SEED_BYTES] = {'b', 'e', 'n', 'c', 'h'};
    imc_rng_init_deterministic(&rng, seed, 1);
    uint8_t apk[32], ask[32];
    TRY("account key", imc_dir_account_keygen(b, &rng, apk, ask));
    for (size_t k = 0; k < samples; k++) {
        imc_device_keys dev;
        TRY("device key", imc_keys_generate(&dev, b, &rng, 1, n + 1 + k));
        memset(cur, 0, sizeof *cur);
        cur->handle_len = handle_of((char *)cur->handle, n + k);
        TRY("sign", imc_dir_sign_register(upds + k * IMC_DIR_UPDATE_MAX_BYTES,
                                          IMC_DIR_UPDATE_MAX_BYTES, &upd_len[k], b, pk, cur, ask,
                                          &dev));
        imc_keys_wipe(&dev);
    }
    static uint8_t resp[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES];
    size_t rn = 0;
    span s = start();
    for (size_t k = 0; k < samples; k++)
        TRY("update", imc_dir_update(resp, sizeof resp, &rn, &d, NOW_MS,
                                     upds + k * IMC_DIR_UPDATE_MAX_BYTES, upd_len[k]));
    report_span("update/register a new handle (incl. log + index)", since(s), (double)samples);
    free(upds);
    free(upd_len);
    uint64_t size = 0;
    TRY("epoch", imc_dir_global_epoch(&size, &d));
    report("log/size after updates", (double)size, "leaves");

    /* Lookups: plain, and with proofs (+ the client's verification). */
    uint8_t req[IMC_DIR_KT_REQUEST_MAX_BYTES];
    size_t req_len = 0;
    char h[64];
    uint64_t *pick = malloc(samples * sizeof *pick);
    if (pick == NULL)
        die("memory", IMC_ERR_NOMEM);
    for (size_t k = 0; k < samples; k++)
        pick[k] = rnd() % n;
    s = start();
    for (size_t k = 0; k < samples; k++) {
        size_t hl = handle_of(h, pick[k]);
        TRY("lookup", imc_dir_lookup(resp, sizeof resp, &rn, &d, NOW_MS, (const uint8_t *)h, hl));
    }
    report_span("lookup/plain signed entry", since(s), (double)samples);
    double bytes = 0, verify_wall = 0, verify_cpu = 0;
    imc_dir_kt_lookup_response *lr = malloc(sizeof *lr);
    imc_dir_kt_answer *ans = malloc(sizeof *ans);
    if (lr == NULL || ans == NULL)
        die("memory", IMC_ERR_NOMEM);
    s = start();
    span total = {0, 0};
    for (size_t k = 0; k < samples; k++) {
        imc_dir_handle hh = {(const uint8_t *)h, handle_of(h, pick[k])};
        TRY("request", imc_dir_kt_encode_lookup(req, sizeof req, &req_len, size, &hh, 1));
        span one = start();
        TRY("lookup with proofs", imc_dir_serve(resp, sizeof resp, &rn, &d, NOW_MS, req, req_len));
        span e = since(one);
        total.wall += e.wall;
        total.cpu += e.cpu;
        bytes += (double)rn;
        span v = start();
        size_t off = 0;
        TRY("parse", imc_dir_kt_parse_lookup(lr, resp, rn));
        TRY("next", imc_dir_kt_lookup_next(ans, &off, lr));
        TRY("verify", imc_dir_kt_answer_verify(NULL, NULL, b, pk, &lr->head.cp, ans));
        e = since(v);
        verify_wall += e.wall;
        verify_cpu += e.cpu;
    }
    report_span("lookup/with proofs, one handle (serve)", total, (double)samples);
    report("lookup/with proofs, response bytes (mean)", bytes / (double)samples, "bytes");
    span ver = {verify_wall, verify_cpu};
    report_span("client/parse + verify one answer", ver, (double)samples);

    /* Audits of one handle (one version each) from version 1. */
    imc_dir_kt_audit_response *ar = malloc(sizeof *ar);
    if (ar == NULL)
        die("memory", IMC_ERR_NOMEM);
    total.wall = total.cpu = 0;
    bytes = 0;
    for (size_t k = 0; k < samples; k++) {
        size_t hl = handle_of(h, pick[k]);
        TRY("request", imc_dir_kt_encode_audit(req, sizeof req, &req_len, size,
                                               (const uint8_t *)h, hl, 1));
        span one = start();
        TRY("audit", imc_dir_serve(resp, sizeof resp, &rn, &d, NOW_MS, req, req_len));
        bool complete = false;
        TRY("parse audit", imc_dir_kt_parse_audit(ar, resp, rn));
        TRY("verify audit",
            imc_dir_kt_audit_verify(&complete, b, &ar->head.cp, ar, NULL, NULL, NULL));
        span e = since(one);
        total.wall += e.wall;
        total.cpu += e.cpu;
        bytes += (double)rn;
    }
    report_span("audit/serve + verify, one version", total, (double)samples);
    report("audit/response bytes (mean)", bytes / (double)samples, "bytes");
    free(pick);
    free(lr);
    free(ans);
    free(ar);
    free(cur);

    if (check) {
        s = start();
        TRY("check", imc_dir_check(&d));
        span e = since(s);
        report("check/whole directory and log (wall)", e.wall, "s");
        report("check/whole directory and log (cpu)", e.cpu, "s");
    }
    if (stat(path, &stt) == 0)
        report("store/file bytes at the end", (double)stt.st_size, "bytes");
    imc_dir_wipe(&d);
    imc_dir_store_close(&store);
    return 0;
}
