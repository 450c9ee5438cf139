/* The key directory: lookups and batch lookups on populated directories
 * (1 M and 10 M handles, in memory and in LMDB), the store's own get apart
 * from signing (up to 100 M handles on LMDB), registration, and the
 * client's cost of verifying and applying signed answers.
 *
 * Names:
 *   dir/<store>/get/handles:<N>              the store alone: read txn + get
 *                                            (LMDB: on a handles-table file)
 *   dir/<store>/lookup/handles:<N>           one signed entry per lookup
 *   dir/<store>/batch/handles:<N>/batch:64   64 signed entries per call
 *   dir/<store>/register/handles:1000000     one proof-checked update
 *   dir/verify/<backend>/entry               Ed25519 check of one entry
 *   dir/verify/<backend>/apply/entries:<n>   imc_dircache_apply of n entries
 *                                            (directory and account signatures)
 *   dir/<store>/rotate/handles:1000000       a device rotation (3 signatures)
 *   dir/<store>/revoke/handles:1000000       a revocation (account signature)
 *   dir/client/<backend>/apply-lmdb/entries:<n>  the persistent client's apply
 *                                            (one LMDB transaction, fsync)
 * with <store> memory or lmdb. Items are handles (or updates).
 *
 * Population: N handles "u<9 digits>@example.com", one suite-1 device each
 * with synthetic key bytes and an unsigned device list (a lookup never
 * looks at them), loaded with
 * imc_dir_import in transactions of 1024 (untimed; LMDB without fsync while
 * loading, then reopened with fsync for the measured registrations). Each
 * (store, N) directory is built when its first benchmark runs and dropped
 * when a benchmark needs another one, so at most one is in memory. Every
 * imported record also appends its transparency-log leaf, index path and
 * history entry: at 1 M handles the LMDB file takes 1.34 KB per handle, and
 * 10 M handles take over ten minutes to build on 2 cores (13 GB of disk in
 * $TMPDIR); select with --benchmark_filter to skip them. The LMDB store's
 * get runs on a file of its own at every size (populate_handles_only). An
 * LMDB directory is read through once after it is reopened (warm()). The
 * counter bytes_per_handle is the resident memory (memory) or file size
 * (LMDB) divided by N. The directory signs with the first backend built. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benches.h"
#include "imc_bench.h"
#include "imcore/dir.h"
#include "imcore/util.h"
#include "imcore/dircache.h"
#include "imcore/suite.h"

#define IMPORT_CHUNK 1024
#define BATCH 64
#define REGISTER_HANDLES 1000000
#define REGISTER_ITERS_MEM 2000
#define REGISTER_ITERS_LMDB 300 /* each one fsyncs */

static const uint8_t DIR_SEED[IMC_RNG_SEED_BYTES] = "imcore dir benchmark seed......";

enum { STORE_MEM = 0, STORE_LMDB = 1, STORE_KINDS = 2 };
static const char *const STORE_NAMES[STORE_KINDS] = {"memory", "lmdb"};
static const size_t SIZES[] = {1000000, 10000000, 100000000};
#define SIZE_COUNT (sizeof SIZES / sizeof SIZES[0])
/* Signed lookups, batches and the in-memory store stop at 10 M handles; the
 * LMDB store's own get goes to 100 M (scripts/bench --full only): a whole
 * directory, transparency log included, would need about 134 GB there. */
#define SIGNED_MAX_HANDLES 10000000

typedef struct fixture {
    int kind;
    size_t handles;
    bool ready;
    char tmp[256];
    char path[300];
    bool table_only; /* LMDB with the handles table alone (populate_handles_only) */
    imc_dir_store store;
    imc_dir d;
    double bytes_per_handle;
    uint64_t next_id; /* device ids for registrations */
} fixture;

/* Everything the group shares: allocated once at registration, lives until
 * the process exits. */
typedef struct dir_bench {
    const imc_backend *b;
    uint8_t sk[IMC_DIR_SECRET_BYTES], pk[IMC_DIR_PUBLIC_BYTES];
    fixture fx[STORE_KINDS][SIZE_COUNT];
    fixture table[SIZE_COUNT]; /* the LMDB store's get, every size */
    fixture *current;
} dir_bench;

typedef struct bench_arg {
    dir_bench *g;
    fixture *fx;
    const imc_backend *b; /* verify benchmarks */
    size_t n;             /* verify: entries per response */
} bench_arg;

static bool ok(imc_bench_state *st, const char *what, imc_status s)
{
    char msg[160];
    if (s == IMC_OK)
        return true;
    snprintf(msg, sizeof msg, "%s: %s", what, imc_status_str(s));
    imc_bench_skip(st, msg);
    return false;
}

static size_t handle_name(uint8_t out[32], size_t i)
{
    return (size_t)snprintf((char *)out, 32, "u%09zu@example.com", i);
}

static double resident_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* ---- Fixtures ------------------------------------------------------------------ */

static void remove_files(fixture *fx)
{
    if (fx->kind != STORE_LMDB || fx->tmp[0] == '\0')
        return;
    char lock[320];
    snprintf(lock, sizeof lock, "%s-lock", fx->path);
    unlink(fx->path);
    unlink(lock);
    rmdir(fx->tmp);
    fx->tmp[0] = '\0';
}

static void fixture_drop(fixture *fx)
{
    if (!fx->ready)
        return;
    imc_dir_wipe(&fx->d);
    imc_dir_store_close(&fx->store);
    remove_files(fx);
    fx->ready = false;
}

static imc_status open_store(dir_bench *g, fixture *fx, bool no_sync)
{
    imc_dir_lmdb_options o = {0, no_sync, false};
    imc_status st = fx->kind == STORE_MEM ? imc_dir_store_mem_open(&fx->store, g->b, fx->handles)
                                          : imc_dir_store_lmdb_open(&fx->store, fx->path, &o);
    if (st == IMC_OK) {
        st = imc_dir_init(&fx->d, g->b, fx->store, g->sk, NULL);
        if (st != IMC_OK)
            imc_dir_store_close(&fx->store);
    }
    return st;
}

static imc_status populate(dir_bench *g, fixture *fx)
{
    imc_dir_record *recs = calloc(IMPORT_CHUNK, sizeof *recs);
    if (recs == NULL)
        return IMC_ERR_NOMEM;
    imc_rng rng;
    imc_rng_init_deterministic(&rng, DIR_SEED, 1);
    imc_status st = IMC_OK;
    for (size_t base = 0; base < fx->handles && st == IMC_OK; base += IMPORT_CHUNK) {
        size_t n = fx->handles - base < IMPORT_CHUNK ? fx->handles - base : IMPORT_CHUNK;
        for (size_t i = 0; i < n && st == IMC_OK; i++) {
            imc_dir_record *r = &recs[i];
            r->handle_len = handle_name(r->handle, base + i);
            r->epoch = 1; /* a freshly created account */
            r->key_change = IMC_DIR_KEY_NEW;
            r->device_count = 1;
            r->devices[0].suite = IMC_SUITE_X25519_ED25519_CHACHA20POLY1305;
            r->devices[0].device_id = base + i + 1;
            st = imc_rng_fill(&rng, g->b, r->devices[0].dh_pk, 32);
            if (st == IMC_OK)
                st = imc_rng_fill(&rng, g->b, r->devices[0].sig_pk, 32);
        }
        if (st == IMC_OK)
            st = imc_dir_import(&fx->d, recs, n);
    }
    free(recs);
    imc_rng_wipe(&rng);
    fx->next_id = fx->handles + 1;
    return st;
}

/* Reads every record once, in one read transaction. A reopened LMDB map has
 * no page mapped in this process yet, so without this the first repetition
 * of a benchmark pays a page fault for nearly every get (at 1 M handles:
 * 8.2 us of CPU per get in the first repetition, 1.2 to 1.4 us in the two
 * after it, one process); a running directory server has its records
 * mapped. */
static imc_status warm(fixture *fx)
{
    const imc_dir_store *store = &fx->store;
    void *txn = NULL;
    imc_status st = store->ops->begin(store->self, false, &txn);
    uint8_t h[32];
    for (size_t i = 0; st == IMC_OK && i < fx->handles; i++) {
        const uint8_t *v = NULL;
        size_t n = 0;
        size_t hl = handle_name(h, i);
        st = store->ops->get(txn, IMC_DIR_TABLE_HANDLES, h, hl, &v, &n);
    }
    if (txn != NULL)
        store->ops->abort(txn);
    return st;
}

/* The bytes imc_dir_import stores for handle 0 (its handles-table value),
 * from a one-handle directory in memory. */
static imc_status record_value(dir_bench *g, uint8_t *out, size_t cap, size_t *len)
{
    fixture one = {.kind = STORE_MEM, .handles = 1};
    imc_status st = open_store(g, &one, false);
    if (st != IMC_OK)
        return st;
    st = populate(g, &one);
    void *txn = NULL;
    if (st == IMC_OK)
        st = one.store.ops->begin(one.store.self, false, &txn);
    if (st == IMC_OK) {
        uint8_t h[32];
        const uint8_t *v = NULL;
        size_t hl = handle_name(h, 0);
        st = one.store.ops->get(txn, IMC_DIR_TABLE_HANDLES, h, hl, &v, len);
        if (st == IMC_OK && *len > cap)
            st = IMC_ERR_NO_SPACE;
        if (st == IMC_OK)
            memcpy(out, v, *len);
        one.store.ops->abort(txn);
    }
    imc_dir_wipe(&one.d);
    imc_dir_store_close(&one.store);
    return st;
}

/* The LMDB store's get is measured on a file that holds the handles table
 * alone: every handle's key with the value a one-device record really has
 * (record_value), put straight through the store interface. A directory
 * also keeps the device index and the transparency log beside it (1.34 KB a
 * handle in all: 134 GB at 100 M, and a 10 M build takes over ten minutes
 * here); the get reads the same B-tree either way, and one method at every
 * size keeps the 1 M, 10 M and 100 M rows comparable. */
static imc_status populate_handles_only(dir_bench *g, fixture *fx)
{
    uint8_t value[4096], h[32];
    size_t vlen = 0;
    imc_dir_lmdb_options o = {0, true, false};
    imc_status st = record_value(g, value, sizeof value, &vlen);
    if (st == IMC_OK)
        st = imc_dir_store_lmdb_open(&fx->store, fx->path, &o);
    if (st != IMC_OK)
        return st;
    const size_t chunk = 100000;
    for (size_t base = 0; base < fx->handles && st == IMC_OK; base += chunk) {
        void *txn = NULL;
        st = fx->store.ops->begin(fx->store.self, true, &txn);
        for (size_t i = base; i < base + chunk && i < fx->handles && st == IMC_OK; i++)
            st = fx->store.ops->put(txn, IMC_DIR_TABLE_HANDLES, h, handle_name(h, i), value, vlen);
        if (st == IMC_OK)
            st = fx->store.ops->commit(txn);
        else if (txn != NULL)
            fx->store.ops->abort(txn);
    }
    return st;
}

/* Makes fx the one populated directory (dropping any other). */
static bool fixture_get(imc_bench_state *st, dir_bench *g, fixture *fx)
{
    if (fx->ready)
        return true;
    if (g->current != NULL)
        fixture_drop(g->current);
    g->current = NULL;
    double rss0 = resident_bytes();
    if (fx->kind == STORE_LMDB) {
        const char *base = getenv("TMPDIR");
        snprintf(fx->tmp, sizeof fx->tmp, "%s/imcore-dir-bench-XXXXXX", base ? base : "/tmp");
        if (mkdtemp(fx->tmp) == NULL) {
            imc_bench_skip(st, "mkdtemp failed");
            return false;
        }
        snprintf(fx->path, sizeof fx->path, "%s/dir.lmdb", fx->tmp);
    }
    if (fx->table_only) {
        imc_status s = populate_handles_only(g, fx);
        fx->ready = fx->store.ops != NULL;
        g->current = fx;
        if (!ok(st, "populate", s)) {
            if (fx->ready)
                fixture_drop(fx);
            else
                remove_files(fx);
            return false;
        }
    } else {
        if (!ok(st, "open", open_store(g, fx, fx->kind == STORE_LMDB))) {
            remove_files(fx);
            return false;
        }
        fx->ready = true;
        g->current = fx;
        if (!ok(st, "populate", populate(g, fx))) {
            fixture_drop(fx);
            return false;
        }
    }
    if (fx->kind == STORE_LMDB) {
        /* Reopen with fsync at every commit for the measured updates (a
         * handles-only store has none). */
        struct stat sb;
        if (!fx->table_only) {
            imc_dir_wipe(&fx->d);
            imc_dir_store_close(&fx->store);
            fx->ready = false;
            if (!ok(st, "reopen", open_store(g, fx, false))) {
                remove_files(fx);
                return false;
            }
            fx->ready = true;
        }
        if (!ok(st, "warm", warm(fx))) {
            fixture_drop(fx);
            return false;
        }
        fx->bytes_per_handle =
            stat(fx->path, &sb) == 0 ? (double)sb.st_size / (double)fx->handles : 0;
        /* Open for good: the files can go now, so nothing is left behind
         * however the process ends (Linux keeps them until it closes). */
        remove_files(fx);
    } else {
        fx->bytes_per_handle = (resident_bytes() - rss0) / (double)fx->handles;
    }
    return true;
}

/* ---- Service ---------------------------------------------------------------------- */

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 17;
}

/* The byte length of the signed answer for a handle the directory does not
 * have (a one-device entry is longer), to tell misses from hits. */
static bool miss_length(imc_bench_state *st, fixture *fx, size_t *len)
{
    static const uint8_t absent[] = "absent@example.com";
    uint8_t *out = malloc(IMC_DIR_RESPONSE_MAX_BYTES(1));
    bool r = out != NULL &&
             ok(st, "lookup", imc_dir_lookup(out, IMC_DIR_RESPONSE_MAX_BYTES(1), len, &fx->d, 1,
                                             absent, sizeof absent - 1));
    if (out == NULL)
        imc_bench_skip(st, "out of memory");
    free(out);
    return r;
}

static void bm_lookup(imc_bench_state *st, void *arg)
{
    bench_arg *a = arg;
    if (!fixture_get(st, a->g, a->fx))
        return;
    uint8_t *out = malloc(IMC_DIR_RESPONSE_MAX_BYTES(1));
    uint8_t h[32];
    uint64_t r = 42;
    size_t len = 0, miss = 0;
    if (out == NULL) {
        imc_bench_skip(st, "out of memory");
        return;
    }
    if (!miss_length(st, a->fx, &miss)) {
        free(out);
        return;
    }
    while (imc_bench_keep_running(st)) {
        size_t hl = handle_name(h, lcg(&r) % a->fx->handles);
        if (!ok(st, "lookup",
                imc_dir_lookup(out, IMC_DIR_RESPONSE_MAX_BYTES(1), &len, &a->fx->d, 1, h, hl)))
            break;
        if (len == miss) {
            imc_bench_skip(st, "a lookup missed (a handle of the population not found)");
            break;
        }
        imc_bench_do_not_optimize(out);
    }
    imc_bench_set_items_processed(st, imc_bench_iterations(st));
    imc_bench_counter(st, "bytes_per_handle", a->fx->bytes_per_handle, 0);
    free(out);
}

/* The store alone: one read transaction and one get of a random existing
 * handle per iteration, as imc_dir_lookup does before it signs; every get
 * must find its record (a miss ends the run). */
static void bm_store_get(imc_bench_state *st, void *arg)
{
    bench_arg *a = arg;
    if (!fixture_get(st, a->g, a->fx))
        return;
    const imc_dir_store *store = &a->fx->store;
    uint8_t h[32];
    uint64_t r = 44;
    int64_t hits = 0;
    while (imc_bench_keep_running(st)) {
        size_t hl = handle_name(h, lcg(&r) % a->fx->handles);
        void *txn = NULL;
        const uint8_t *v = NULL;
        size_t n = 0;
        imc_status s = store->ops->begin(store->self, false, &txn);
        if (s == IMC_OK) {
            s = store->ops->get(txn, IMC_DIR_TABLE_HANDLES, h, hl, &v, &n);
            imc_bench_do_not_optimize(v);
            store->ops->abort(txn);
        }
        if (!ok(st, "store get", s))
            break;
        hits++;
    }
    imc_bench_set_items_processed(st, imc_bench_iterations(st));
    imc_bench_counter(st, "hits", (double)hits, 0);
    imc_bench_counter(st, "bytes_per_handle", a->fx->bytes_per_handle, 0);
}

static void bm_batch(imc_bench_state *st, void *arg)
{
    bench_arg *a = arg;
    if (!fixture_get(st, a->g, a->fx))
        return;
    size_t cap = IMC_DIR_RESPONSE_MAX_BYTES(BATCH), len = 0;
    uint8_t *out = malloc(cap);
    uint8_t names[BATCH][32];
    imc_dir_handle hs[BATCH];
    uint64_t r = 43;
    if (out == NULL) {
        imc_bench_skip(st, "out of memory");
        return;
    }
    /* Distinct handles: a random start and a fixed stride. */
    size_t stride = a->fx->handles / BATCH;
    while (imc_bench_keep_running(st)) {
        size_t start = lcg(&r) % stride;
        for (size_t j = 0; j < BATCH; j++) {
            hs[j].bytes = names[j];
            hs[j].len = handle_name(names[j], start + j * stride);
        }
        if (!ok(st, "batch", imc_dir_lookup_batch(out, cap, &len, &a->fx->d, 1, hs, BATCH)))
            break;
        imc_bench_do_not_optimize(out);
    }
    imc_bench_set_items_processed(st, imc_bench_iterations(st) * BATCH);
    free(out);
}

/* Registrations of new devices under new handles, signed before the timed
 * loop (fixed iteration count: each update can be applied once). */
/* The timed part of the update benchmarks: applies the pool of pre-signed
 * updates (prepared with status `prepared`, `prep` naming that step), one
 * per iteration, and frees the buffers. */
static void apply_updates(imc_bench_state *st, fixture *fx, imc_status prepared, const char *prep,
                          const char *what, uint8_t (*upd)[IMC_DIR_UPDATE_MAX_BYTES],
                          size_t *upd_len, size_t pool, uint8_t *out)
{
    size_t i = 0, len = 0;
    if (ok(st, prep, prepared)) {
        while (imc_bench_keep_running(st)) {
            if (i == pool) {
                imc_bench_skip(st, "ran out of signed updates");
                break;
            }
            if (!ok(st, what,
                    imc_dir_update(out, IMC_DIR_RESPONSE_MAX_BYTES(1), &len, &fx->d, 1, upd[i],
                                   upd_len[i])))
                break;
            i++;
        }
    }
    imc_bench_set_items_processed(st, imc_bench_iterations(st));
    free(upd);
    free(upd_len);
    free(out);
}

static void bm_register(imc_bench_state *st, void *arg)
{
    bench_arg *a = arg;
    fixture *fx = a->fx;
    if (!fixture_get(st, a->g, fx))
        return;
    size_t pool = fx->kind == STORE_MEM ? REGISTER_ITERS_MEM : REGISTER_ITERS_LMDB;
    uint8_t(*upd)[IMC_DIR_UPDATE_MAX_BYTES] = malloc(pool * sizeof *upd);
    size_t *upd_len = calloc(pool, sizeof *upd_len);
    uint8_t *out = malloc(IMC_DIR_RESPONSE_MAX_BYTES(1));
    if (upd == NULL || upd_len == NULL || out == NULL) {
        imc_bench_skip(st, "out of memory");
        free(upd);
        free(upd_len);
        free(out);
        return;
    }
    imc_rng rng;
    imc_rng_init_deterministic(&rng, DIR_SEED, 2 + fx->next_id);
    uint8_t apk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    imc_dir_record *cur = calloc(1, sizeof *cur);
    imc_status s = cur == NULL ? IMC_ERR_NOMEM : imc_dir_account_keygen(a->g->b, &rng, apk, ask);
    for (size_t i = 0; i < pool && s == IMC_OK; i++) {
        /* A new account: its first device and its account key both prove
         * possession. */
        imc_device_keys k;
        uint64_t id = fx->next_id++;
        cur->handle_len = (size_t)snprintf((char *)cur->handle, sizeof cur->handle,
                                           "new%llu@example.com", (unsigned long long)id);
        s = imc_keys_generate(&k, a->g->b, &rng, IMC_SUITE_X25519_ED25519_CHACHA20POLY1305, id);
        if (s == IMC_OK)
            s = imc_dir_sign_register(upd[i], IMC_DIR_UPDATE_MAX_BYTES, &upd_len[i], a->g->b,
                                      a->g->pk, cur, ask, &k);
        imc_keys_wipe(&k);
    }
    free(cur);
    imc_wipe(ask, sizeof ask);
    imc_rng_wipe(&rng);
    apply_updates(st, fx, s, "sign", "register", upd, upd_len, pool, out);
}

/* ---- Client --------------------------------------------------------------------------- */

/* A response with n entries of one X25519 device each, from a small
 * in-memory directory. */
static imc_status make_response(const bench_arg *a, uint8_t *out, size_t cap, size_t *len,
                                uint8_t pk[IMC_DIR_PUBLIC_BYTES])
{
    imc_dir_store s;
    imc_dir d;
    uint8_t sk[IMC_DIR_SECRET_BYTES];
    imc_rng rng;
    imc_rng_init_deterministic(&rng, DIR_SEED, 3);
    imc_status st = imc_dir_keygen(a->b, &rng, pk, sk);
    if (st == IMC_OK)
        st = imc_dir_store_mem_open(&s, a->b, a->n);
    if (st != IMC_OK)
        return st;
    st = imc_dir_init(&d, a->b, s, sk, NULL);
    static uint8_t names[IMC_DIR_MAX_BATCH][32];
    imc_dir_handle hs[IMC_DIR_MAX_BATCH];
    imc_dir_record *rec = calloc(1, sizeof *rec);
    uint8_t apk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    if (rec == NULL)
        st = IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_dir_account_keygen(a->b, &rng, apk, ask);
    for (size_t i = 0; i < a->n && st == IMC_OK; i++) {
        hs[i].bytes = names[i];
        hs[i].len = handle_name(names[i], i);
        memcpy(rec->handle, names[i], hs[i].len);
        rec->handle_len = hs[i].len;
        rec->epoch = 1;
        rec->device_count = 1;
        rec->devices[0].suite = IMC_SUITE_X25519_ED25519_CHACHA20POLY1305;
        rec->devices[0].device_id = i + 1;
        st = imc_rng_fill(&rng, a->b, rec->devices[0].dh_pk, 32);
        if (st == IMC_OK)
            st = imc_rng_fill(&rng, a->b, rec->devices[0].sig_pk, 32);
        /* The client checks the account's signature too: a real one. */
        if (st == IMC_OK)
            st = imc_dir_list_sign(rec, a->b, IMC_DIR_KEY_NEW, NULL, ask, NULL);
        if (st == IMC_OK)
            st = imc_dir_import(&d, rec, 1);
    }
    imc_wipe(ask, sizeof ask);
    if (st == IMC_OK)
        st = imc_dir_lookup_batch(out, cap, len, &d, 1700000000000ull, hs, a->n);
    free(rec);
    imc_dir_wipe(&d);
    imc_dir_store_close(&s);
    imc_rng_wipe(&rng);
    return st;
}

static void bm_verify_entry(imc_bench_state *st, void *arg)
{
    bench_arg *a = arg;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES];
    size_t len = 0, off = 0;
    uint8_t *resp = malloc(IMC_DIR_RESPONSE_MAX_BYTES(1));
    imc_dir_entry *e = malloc(sizeof *e);
    imc_dir_response r;
    imc_status s = resp == NULL || e == NULL
                       ? IMC_ERR_NOMEM
                       : make_response(a, resp, IMC_DIR_RESPONSE_MAX_BYTES(1), &len, pk);
    if (s == IMC_OK)
        s = imc_dir_parse_response(&r, resp, len);
    if (s == IMC_OK)
        s = imc_dir_response_next(e, &off, &r);
    if (ok(st, "set-up", s)) {
        while (imc_bench_keep_running(st))
            if (!ok(st, "verify", imc_dir_entry_verify(a->b, pk, e)))
                break;
    }
    imc_bench_set_items_processed(st, imc_bench_iterations(st));
    free(resp);
    free(e);
}

/* Re-applies an answer of a->n entries to a client (persistent at `path`
 * if not NULL): the first apply adds every device; the measured ones
 * re-apply the same answer: parse, verify every signature, compare, no
 * change (and, persistent, one LMDB transaction). */
static void apply_loop(imc_bench_state *st, const bench_arg *a, const char *path)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES];
    size_t cap = IMC_DIR_RESPONSE_MAX_BYTES(a->n), len = 0, nch = 0;
    uint8_t *resp = malloc(cap);
    imc_dircache *c = NULL;
    imc_dircache_options o = {a->n, 3600000, 60000, NULL, 0, 0, path, false, NULL};
    imc_status s = resp == NULL ? IMC_ERR_NOMEM : make_response(a, resp, cap, &len, pk);
    if (s == IMC_OK)
        s = imc_dircache_new(&c, a->b, pk, &o);
    if (s == IMC_OK)
        s = imc_dircache_apply(c, NULL, 0, &nch, 1700000000000ull, resp, len);
    if (ok(st, "set-up", s)) {
        while (imc_bench_keep_running(st))
            if (!ok(st, "apply", imc_dircache_apply(c, NULL, 0, &nch, 1700000000000ull, resp, len)))
                break;
    }
    imc_bench_set_items_processed(st, imc_bench_iterations(st) * (int64_t)a->n);
    imc_dircache_free(c);
    free(resp);
}

static void bm_verify_apply(imc_bench_state *st, void *arg) { apply_loop(st, arg, NULL); }

/* ---- Account authority: rotate, revoke, the persistent client ------------- */

enum { TRUST_ROTATE = 0, TRUST_REVOKE = 1 };

/* pool new accounts of one device each, registered untimed, and for each
 * the signed update (rotation of its device, or its revocation) that the
 * timed loop applies. */
static imc_status prepare_trust(const bench_arg *a, fixture *fx, int op, size_t pool,
                                uint8_t (*upd)[IMC_DIR_UPDATE_MAX_BYTES], size_t *upd_len)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, DIR_SEED, 5 + fx->next_id);
    uint8_t apk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    imc_dir_record *cur = calloc(1, sizeof *cur);
    uint8_t *out = malloc(IMC_DIR_RESPONSE_MAX_BYTES(1));
    imc_status s = cur == NULL || out == NULL ? IMC_ERR_NOMEM
                                              : imc_dir_account_keygen(a->g->b, &rng, apk, ask);
    for (size_t i = 0; i < pool && s == IMC_OK; i++) {
        imc_device_keys k, k2;
        uint64_t id = fx->next_id++;
        size_t len = 0;
        memset(cur, 0, sizeof *cur);
        cur->handle_len = (size_t)snprintf((char *)cur->handle, sizeof cur->handle,
                                           "acct%llu@example.com", (unsigned long long)id);
        s = imc_keys_generate(&k, a->g->b, &rng, IMC_SUITE_X25519_ED25519_CHACHA20POLY1305, id);
        if (s == IMC_OK)
            s = imc_dir_sign_register(upd[i], IMC_DIR_UPDATE_MAX_BYTES, &upd_len[i], a->g->b,
                                      a->g->pk, cur, ask, &k);
        if (s == IMC_OK)
            s = imc_dir_update(out, IMC_DIR_RESPONSE_MAX_BYTES(1), &len, &fx->d, 1, upd[i],
                               upd_len[i]);
        uint8_t h[IMC_MAX_HANDLE_BYTES];
        size_t hl = cur->handle_len;
        memcpy(h, cur->handle, hl);
        if (s == IMC_OK)
            s = imc_dir_get(cur, &fx->d, h, hl); /* as a lookup would give it */
        if (s == IMC_OK && op == TRUST_ROTATE) {
            s = imc_keys_generate(&k2, a->g->b, &rng, IMC_SUITE_X25519_ED25519_CHACHA20POLY1305,
                                  id);
            if (s == IMC_OK)
                s = imc_dir_sign_rotate(upd[i], IMC_DIR_UPDATE_MAX_BYTES, &upd_len[i], a->g->b,
                                        a->g->pk, cur, ask, &k, &k2);
            imc_keys_wipe(&k2);
        } else if (s == IMC_OK) {
            s = imc_dir_sign_revoke(upd[i], IMC_DIR_UPDATE_MAX_BYTES, &upd_len[i], a->g->b,
                                    a->g->pk, cur, ask, id);
        }
        imc_keys_wipe(&k);
    }
    free(cur);
    free(out);
    imc_wipe(ask, sizeof ask);
    imc_rng_wipe(&rng);
    return s;
}

static void bm_trust_update(imc_bench_state *st, void *arg, int op)
{
    bench_arg *a = arg;
    fixture *fx = a->fx;
    if (!fixture_get(st, a->g, fx))
        return;
    size_t pool = fx->kind == STORE_MEM ? REGISTER_ITERS_MEM : REGISTER_ITERS_LMDB;
    uint8_t(*upd)[IMC_DIR_UPDATE_MAX_BYTES] = malloc(pool * sizeof *upd);
    size_t *upd_len = calloc(pool, sizeof *upd_len);
    uint8_t *out = malloc(IMC_DIR_RESPONSE_MAX_BYTES(1));
    imc_status s = upd == NULL || upd_len == NULL || out == NULL
                       ? IMC_ERR_NOMEM
                       : prepare_trust(a, fx, op, pool, upd, upd_len);
    apply_updates(st, fx, s, "prepare", op == TRUST_ROTATE ? "rotate" : "revoke", upd, upd_len,
                  pool, out);
}

static void bm_rotate(imc_bench_state *st, void *arg) { bm_trust_update(st, arg, TRUST_ROTATE); }
static void bm_revoke(imc_bench_state *st, void *arg) { bm_trust_update(st, arg, TRUST_REVOKE); }

/* The persistent client (LMDB state, fsync at each apply) re-applying an
 * answer of n entries: parse, both signatures per entry, one transaction. */
static void bm_client_apply_lmdb(imc_bench_state *st, void *arg)
{
    char tmp[256], path[300], lock[320];
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/imcore-client-bench-XXXXXX", base ? base : "/tmp");
    if (mkdtemp(tmp) == NULL) {
        imc_bench_skip(st, "set-up: no temporary directory");
        return;
    }
    snprintf(path, sizeof path, "%s/client.mdb", tmp);
    snprintf(lock, sizeof lock, "%s-lock", path);
    apply_loop(st, arg, path);
    unlink(path);
    unlink(lock);
    rmdir(tmp);
}

static void register_trust(dir_bench *g, const imc_backend *first)
{
    char name[128];
    for (int k = 0; k < STORE_KINDS; k++) {
        for (size_t z = 0; z < SIZE_COUNT; z++) {
            if (SIZES[z] != REGISTER_HANDLES)
                continue;
            bench_arg arg = {g, &g->fx[k][z], first, 0};
            static const char *const ops[2] = {"rotate", "revoke"};
            for (int op = 0; op < 2; op++) {
                snprintf(name, sizeof name, "dir/%s/%s/handles:%zu", STORE_NAMES[k], ops[op],
                         SIZES[z]);
                imc_bench *b = imc_bench_register_copy(name, op == 0 ? bm_rotate : bm_revoke,
                                                       &arg, sizeof arg);
                imc_bench_iterations_fixed(b, k == STORE_MEM ? REGISTER_ITERS_MEM
                                                             : REGISTER_ITERS_LMDB);
                imc_bench_unit(b, IMC_BENCH_US);
            }
        }
    }
    size_t nb = 0;
    const char *const *names = imc_backend_list(&nb);
    for (size_t i = 0; i < nb; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        if (b == NULL || !(imc_backend_caps(b) & IMC_CAP_ED25519))
            continue;
        static const size_t counts[] = {1, BATCH};
        for (size_t j = 0; j < 2; j++) {
            bench_arg arg = {g, NULL, b, counts[j]};
            snprintf(name, sizeof name, "dir/client/%s/apply-lmdb/entries:%zu", names[i],
                     counts[j]);
            imc_bench_unit(imc_bench_register_copy(name, bm_client_apply_lmdb, &arg, sizeof arg),
                           IMC_BENCH_US);
        }
    }
}

/* ---- Registration ---------------------------------------------------------------------- */

/* The group's state, for the exit handler: the last fixture built is still
 * open (an LMDB one with its files in a temporary directory). */
static dir_bench *live;

static void free_all(void)
{
    if (live == NULL)
        return;
    if (live->current != NULL)
        fixture_drop(live->current);
    imc_wipe(live->sk, sizeof live->sk);
    free(live);
    live = NULL;
}

/* dir/<store>/get/handles:<N>: the store's own lookup, apart from signing;
 * registered just before the other benchmarks of the same size, so that the
 * in-memory directory is built once for all of them. */
static void register_store_get(dir_bench *g, const imc_backend *b, int k, size_t z)
{
    char name[128];
    if (k == STORE_MEM && SIZES[z] > SIGNED_MAX_HANDLES)
        return;
    bench_arg arg = {g, k == STORE_LMDB ? &g->table[z] : &g->fx[k][z], b, 0};
    snprintf(name, sizeof name, "dir/%s/get/handles:%zu", STORE_NAMES[k], SIZES[z]);
    imc_bench_unit(imc_bench_register_copy(name, bm_store_get, &arg, sizeof arg), IMC_BENCH_NS);
}

void imc_bench_register_dir(void)
{
    size_t nb = 0;
    const char *const *names = imc_backend_list(&nb);
    const imc_backend *first = NULL;
    for (size_t i = 0; i < nb && first == NULL; i++)
        first = imc_backend_get(names[i]);
    if (first == NULL)
        return;
    dir_bench *g = calloc(1, sizeof *g);
    if (g == NULL)
        return;
    g->b = first;
    imc_rng rng;
    imc_rng_init_deterministic(&rng, DIR_SEED, 0);
    if (imc_dir_keygen(first, &rng, g->pk, g->sk) != IMC_OK) {
        free(g);
        return;
    }
    imc_rng_wipe(&rng);
    if (atexit(free_all) != 0)
        fprintf(stderr, "imcore-bench: cannot register the exit handler\n");
    live = g;
    for (int k = 0; k < STORE_KINDS; k++) {
        for (size_t z = 0; z < SIZE_COUNT; z++) {
            g->fx[k][z].kind = k;
            g->fx[k][z].handles = SIZES[z];
        }
    }
    for (size_t z = 0; z < SIZE_COUNT; z++)
        g->table[z] = (fixture){.kind = STORE_LMDB, .handles = SIZES[z], .table_only = true};
    char name[128];
    for (int k = 0; k < STORE_KINDS; k++) {
        for (size_t z = 0; z < SIZE_COUNT; z++) {
            register_store_get(g, first, k, z);
            if (SIZES[z] > SIGNED_MAX_HANDLES)
                continue;
            fixture *fx = &g->fx[k][z];
            bench_arg arg = {g, fx, first, 0};
            snprintf(name, sizeof name, "dir/%s/lookup/handles:%zu", STORE_NAMES[k], SIZES[z]);
            imc_bench_unit(imc_bench_register_copy(name, bm_lookup, &arg, sizeof arg),
                           IMC_BENCH_US);
            snprintf(name, sizeof name, "dir/%s/batch/handles:%zu/batch:%d", STORE_NAMES[k],
                     SIZES[z], BATCH);
            imc_bench_unit(imc_bench_register_copy(name, bm_batch, &arg, sizeof arg), IMC_BENCH_US);
            if (SIZES[z] == REGISTER_HANDLES) {
                snprintf(name, sizeof name, "dir/%s/register/handles:%zu", STORE_NAMES[k],
                         SIZES[z]);
                imc_bench *b = imc_bench_register_copy(name, bm_register, &arg, sizeof arg);
                imc_bench_iterations_fixed(b, k == STORE_MEM ? REGISTER_ITERS_MEM
                                                             : REGISTER_ITERS_LMDB);
                imc_bench_unit(b, IMC_BENCH_US);
            }
        }
    }
    for (size_t i = 0; i < nb; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        if (b == NULL || !(imc_backend_caps(b) & IMC_CAP_ED25519))
            continue;
        bench_arg arg = {g, NULL, b, 1};
        snprintf(name, sizeof name, "dir/verify/%s/entry", names[i]);
        imc_bench_unit(imc_bench_register_copy(name, bm_verify_entry, &arg, sizeof arg),
                       IMC_BENCH_US);
        static const size_t counts[] = {1, BATCH};
        for (size_t j = 0; j < 2; j++) {
            arg.n = counts[j];
            snprintf(name, sizeof name, "dir/verify/%s/apply/entries:%zu", names[i], counts[j]);
            imc_bench_unit(imc_bench_register_copy(name, bm_verify_apply, &arg, sizeof arg),
                           IMC_BENCH_US);
        }
    }
    register_trust(g, first);
}
