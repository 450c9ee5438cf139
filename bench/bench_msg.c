/* The message paths: encrypt, fan-out split, parse and decrypt, per
 * backend x suite x fan-out x body size.
 *
 * Names (benches.h):
 *   encrypt/<backend>/<suite>/dev:<N>/body:<B>   one envelope for N devices
 *   decrypt/<backend>/<suite>/body:<B>           one delivery on one device
 *   decrypt_state/<backend>/<suite>/dev:<N>/body:1024/state:<none|memory|lmdb>
 *                                                the same without a replay state,
 *                                                with one in memory, or in LMDB
 *                                                (real time)
 *   fanout/<suite>/dev:<N>/body:<B>              envelope -> N delivery views
 *   parse/envelope/<suite>/dev:<N>/body:<B>      strict envelope parse
 *   parse/delivery/<suite>/body:<B>              strict delivery parse
 * with <suite> the suite's short name, N in imc_bench_fanouts and B in
 * imc_bench_body_sizes. A delivery does not depend on the envelope's fan-out
 * (it carries one entry), so decrypt has no dev: part. Fan-out and parsing
 * involve no keys and no crypto, so they are per suite (sizes differ), not
 * per backend.
 *
 * Counters. encrypt and decrypt (single-threaded runs) report `overhead`:
 * the run's CPU time per message divided by the sum of the primitive floors
 * (prim/...) of exactly the primitive calls the path makes (the library's
 * recipe, recorded in the context as recipe.<path>/...), as measured
 * earlier in this process, and `floor_us`, that sum; both are absent when
 * the floors were filtered out of the run. The figure in results/README.md
 * is recomputed from the JSON by scripts/lib/bench_report.py. fanout and
 * parse report `per_device` (seconds per device; items are devices).
 *
 * Inputs are deterministic: keys and bodies from the deterministic RNG, and
 * encrypt draws its message id, content key and ephemeral key from a
 * deterministic generator too (as imc_msg_encrypt allows), so runs measure
 * the same work; its cost (one ChaCha20 block per message) is part of the
 * path, not of the floor. encrypt/.../rng:os is the same path on the
 * backend's CSPRNG (the OS generator), as production runs it. Recipients
 * are passed in increasing device id.
 * Decrypt cycles through a pool of distinct deliveries with a real replay
 * state (memory only, or in LMDB for decrypt_state .../state:lmdb, each
 * accept a synchronous commit in a directory under $TMPDIR or /tmp),
 * reopened empty outside the timing each time the pool wraps.
 *
 * Latency: single-threaded encrypt and decrypt runs also time every call
 * (wall clock) and report its p50, p99 and p99.9 (imc_bench_lat). */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benches.h"
#include "imc_bench.h"
#include "imcore/backend.h"
#include "imcore/keys.h"
#include "imcore/msg.h"
#include "imcore/replay.h"
#include "imcore/rng.h"
#include "imcore/suite.h"

#define SENDER_DEVICE_ID 1
#define RECIPIENT_BASE_ID 1000
#define TIMESTAMP_BASE 1700000000000ull
#define MAX_BACKENDS 16
enum { STATE_MEMORY, STATE_LMDB, STATE_NONE };
#define NAME_BYTES 128

static const uint8_t MSG_SEED[IMC_RNG_SEED_BYTES] = "imcore msg benchmark seed......";

/* ---- Shared fixtures --------------------------------------------------------- */

/* A sender and up to IMC_MAX_RECIPIENTS recipient devices of one suite,
 * generated with one backend as far as some benchmark has needed them. */
typedef struct population {
    const imc_backend *b;
    const imc_suite *s;
    bool sender_ready;
    imc_device_keys sender;
    size_t count;
    imc_device_keys *devices;  /* IMC_MAX_RECIPIENTS, device i has id BASE + i */
    imc_device_public *pubs;   /* their public halves, contiguous */
} population;

/* Pre-made deliveries to device 0 of a population (decrypt). */
typedef struct delivery_pool {
    struct delivery_pool *next; /* every pool, for the exit handler */
    size_t count;
    uint8_t *bytes[IMC_BENCH_RECEIVE_POOL_MAX];
    size_t len[IMC_BENCH_RECEIVE_POOL_MAX];
} delivery_pool;

/* One envelope and one of its deliveries (fanout, parse). */
typedef struct envelope_fixture {
    struct envelope_fixture *next; /* every fixture, for the exit handler */
    uint8_t *env;
    size_t env_len;
    uint8_t *delivery;
    size_t delivery_len;
} envelope_fixture;

/* Fixtures live until the process exits (every run and repetition of a
 * benchmark reuses its own); free_all() releases them then. */
static struct {
    pthread_mutex_t lock;
    population pops[MAX_BACKENDS][IMC_SUITE_COUNT];
    envelope_fixture *fixtures;
    delivery_pool *pools;
} G = {PTHREAD_MUTEX_INITIALIZER, {{{0}}}, NULL, NULL};

/* The argument of every benchmark here (copied into its registration; the
 * fixture pointers are filled on first use, under G.lock). */
typedef struct msg_arg {
    char name[NAME_BYTES];
    char bname[32];
    const imc_backend *b;
    const imc_suite *s;
    population *pop;
    size_t n;    /* devices */
    size_t body; /* plaintext bytes */
    int state;   /* decrypt: STATE_MEMORY (default), STATE_LMDB or STATE_NONE */
    bool os_rng; /* encrypt: the backend's CSPRNG instead of the deterministic one */
    delivery_pool *pool;
    envelope_fixture *fx;
} msg_arg;

static bool ok(imc_bench_state *st, const char *what, imc_status s)
{
    char msg[160];
    if (s == IMC_OK)
        return true;
    snprintf(msg, sizeof msg, "%s: %s", what, imc_status_str(s));
    imc_bench_skip(st, msg);
    return false;
}

static uint64_t stream_id(const imc_suite *s, uint64_t what, uint64_t i)
{
    return ((uint64_t)s->id << 56) | (what << 40) | i;
}

static imc_status gen_keys(population *p, imc_device_keys *k, uint64_t id, uint64_t stream)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, MSG_SEED, stream);
    imc_status st = imc_keys_generate(k, p->b, &rng, p->s->id, id);
    imc_rng_wipe(&rng);
    return st;
}

/* Makes sure the population has n recipients. Call with G.lock held. */
static imc_status population_grow(population *p, size_t n)
{
    imc_status st = IMC_OK;
    if (p->devices == NULL) {
        p->devices = calloc(IMC_MAX_RECIPIENTS, sizeof *p->devices);
        p->pubs = calloc(IMC_MAX_RECIPIENTS, sizeof *p->pubs);
        if (p->devices == NULL || p->pubs == NULL)
            return IMC_ERR_NOMEM;
    }
    if (!p->sender_ready) {
        st = gen_keys(p, &p->sender, SENDER_DEVICE_ID, stream_id(p->s, 1, 0));
        p->sender_ready = st == IMC_OK;
    }
    for (; st == IMC_OK && p->count < n && p->count < IMC_MAX_RECIPIENTS; p->count++) {
        size_t i = p->count;
        st = gen_keys(p, &p->devices[i], RECIPIENT_BASE_ID + i, stream_id(p->s, 2, i));
        if (st == IMC_OK)
            p->pubs[i] = p->devices[i].pub;
    }
    return st;
}

static bool population_get(imc_bench_state *st, const msg_arg *a)
{
    pthread_mutex_lock(&G.lock);
    imc_status s = population_grow(a->pop, a->n);
    pthread_mutex_unlock(&G.lock);
    return ok(st, "keys", s);
}

static void fill_body(uint8_t *body, size_t len)
{
    for (size_t i = 0; i < len; i++)
        body[i] = (uint8_t)(i * 131 + 7);
}

/* One envelope from the population's sender to its first n devices. */
static imc_status make_envelope(uint8_t **out, size_t *out_len, const population *p, size_t n,
                                size_t body_len, uint64_t stream, uint64_t ts)
{
    size_t cap = imc_msg_envelope_size(p->s->id, IMC_BENCH_SENDER_HANDLE_LEN, n, body_len);
    uint8_t *env = malloc(cap != 0 ? cap : 1);
    uint8_t *body = malloc(body_len + 1);
    imc_status st = env == NULL || body == NULL || cap == 0 ? IMC_ERR_NOMEM : IMC_OK;
    if (st == IMC_OK) {
        fill_body(body, body_len);
        imc_rng rng;
        imc_rng_init_deterministic(&rng, MSG_SEED, stream);
        imc_msg_send req = {(const uint8_t *)IMC_BENCH_SENDER_HANDLE,
                            IMC_BENCH_SENDER_HANDLE_LEN,
                            &p->sender,
                            p->pubs,
                            n,
                            ts,
                            body,
                            body_len};
        st = imc_msg_encrypt(env, cap, out_len, p->b, &rng, &req);
        imc_rng_wipe(&rng);
    }
    free(body);
    if (st != IMC_OK) {
        free(env);
        env = NULL;
    }
    *out = env;
    return st;
}

/* The delivery for the envelope's first entry, as one buffer. */
static imc_status first_delivery(uint8_t **out, size_t *out_len, const uint8_t *env,
                                 size_t env_len, size_t n)
{
    imc_delivery_view *views = calloc(n, sizeof *views);
    size_t count = 0;
    *out = NULL;
    imc_status st = views == NULL ? IMC_ERR_NOMEM : imc_msg_fanout(views, n, &count, env, env_len);
    if (st == IMC_OK) {
        size_t len = imc_delivery_view_size(&views[0]);
        *out = malloc(len);
        st = *out == NULL ? IMC_ERR_NOMEM : imc_delivery_view_copy(*out, len, out_len, &views[0]);
    }
    free(views);
    return st;
}

static bool envelope_get(imc_bench_state *st, msg_arg *a)
{
    imc_status s = IMC_OK;
    pthread_mutex_lock(&G.lock);
    if (a->fx == NULL) {
        envelope_fixture *fx = calloc(1, sizeof *fx);
        s = fx == NULL ? IMC_ERR_NOMEM : population_grow(a->pop, a->n);
        if (s == IMC_OK)
            s = make_envelope(&fx->env, &fx->env_len, a->pop, a->n, a->body,
                              stream_id(a->s, 3, a->n * 100000 + a->body), TIMESTAMP_BASE);
        if (s == IMC_OK)
            s = first_delivery(&fx->delivery, &fx->delivery_len, fx->env, fx->env_len, a->n);
        if (s == IMC_OK) {
            fx->next = G.fixtures;
            G.fixtures = fx;
            a->fx = fx;
        } else if (fx != NULL) {
            free(fx->env);
            free(fx->delivery);
            free(fx);
        }
    }
    pthread_mutex_unlock(&G.lock);
    return ok(st, "envelope", s);
}

static bool pool_get(imc_bench_state *st, msg_arg *a)
{
    imc_status s = IMC_OK;
    pthread_mutex_lock(&G.lock);
    if (a->pool == NULL) {
        delivery_pool *pool = calloc(1, sizeof *pool);
        size_t want = imc_bench_receive_pool(a->body);
        s = pool == NULL ? IMC_ERR_NOMEM : population_grow(a->pop, a->n);
        for (size_t i = 0; s == IMC_OK && i < want; i++) {
            uint8_t *env = NULL;
            size_t env_len = 0;
            s = make_envelope(&env, &env_len, a->pop, a->n, a->body,
                              stream_id(a->s, 4, a->n * 100000000 + a->body * 1000 + i),
                              TIMESTAMP_BASE + i);
            if (s == IMC_OK)
                s = first_delivery(&pool->bytes[i], &pool->len[i], env, env_len, a->n);
            if (s == IMC_OK)
                pool->count++;
            free(env);
        }
        if (s == IMC_OK) {
            pool->next = G.pools;
            G.pools = pool;
            a->pool = pool;
        } else if (pool != NULL) {
            for (size_t i = 0; i < IMC_BENCH_RECEIVE_POOL_MAX; i++)
                free(pool->bytes[i]);
            free(pool);
        }
    }
    pthread_mutex_unlock(&G.lock);
    return ok(st, "deliveries", s);
}

/* ---- Floors ------------------------------------------------------------------ */

/* Adds count x the floor of prim/<backend>/<what> to *sum; false if that
 * primitive has not run in this process. */
static bool add_floor(double *sum, const msg_arg *a, double count, const char *what)
{
    char name[NAME_BYTES];
    int k = snprintf(name, sizeof name, "prim/%s/%s", a->bname, what);
    double ns = k > 0 && (size_t)k < sizeof name ? imc_bench_floor_ns(name) : -1;
    if (ns < 0)
        return false;
    *sum += count * ns;
    return true;
}

/* The sum of the floors of the primitive calls of encrypt or decrypt (the
 * library's recipe, imc_msg_recipe), in ns; negative if one is missing. */
static double path_floor(const msg_arg *a, bool encrypt)
{
    imc_recipe_step steps[IMC_RECIPE_MAX_STEPS];
    size_t n = 0;
    char what[NAME_BYTES];
    double sum = 0;
    if (imc_bench_recipe(steps, &n, encrypt ? IMC_MSG_PATH_ENCRYPT : IMC_MSG_PATH_DECRYPT, a->s,
                         a->n, a->body) != IMC_OK)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (imc_bench_step_name(what, sizeof what, a->s, &steps[i]) != 0 ||
            !add_floor(&sum, a, (double)steps[i].count, what))
            return -1;
    return sum;
}

/* After the loop of a single-threaded run: the in-process overhead ratio. */
static void report_overhead(imc_bench_state *st, const msg_arg *a, bool encrypt, int64_t t0)
{
    int64_t t1 = imc_bench_cpu_ns();
    int64_t iters = imc_bench_iterations(st);
    if (imc_bench_error_occurred(st) || iters <= 0 || imc_bench_threads_count(st) != 1)
        return;
    double floor = path_floor(a, encrypt);
    if (floor <= 0)
        return;
    double ns = (double)(t1 - t0) / (double)iters;
    imc_bench_counter(st, "overhead", ns / floor, 0);
    imc_bench_counter(st, "floor_us", floor / 1000.0, 0);
}

/* ---- Benchmarks ---------------------------------------------------------------- */

static void bm_encrypt(imc_bench_state *st, void *arg)
{
    msg_arg *a = arg;
    if (!population_get(st, a))
        return;
    const population *p = a->pop;
    size_t cap = imc_msg_envelope_size(a->s->id, IMC_BENCH_SENDER_HANDLE_LEN, a->n, a->body);
    uint8_t *out = malloc(cap != 0 ? cap : 1);
    uint8_t *body = malloc(a->body + 1);
    if (out == NULL || body == NULL || cap == 0) {
        imc_bench_skip(st, "out of memory");
    } else {
        fill_body(body, a->body);
        imc_rng rng;
        imc_rng_init_deterministic(&rng, MSG_SEED,
                                   stream_id(a->s, 5, (uint64_t)imc_bench_thread_index(st)));
        imc_rng *source = a->os_rng ? NULL : &rng;
        imc_msg_send req = {(const uint8_t *)IMC_BENCH_SENDER_HANDLE,
                            IMC_BENCH_SENDER_HANDLE_LEN,
                            &p->sender,
                            p->pubs,
                            a->n,
                            TIMESTAMP_BASE,
                            body,
                            a->body};
        size_t len = 0;
        imc_bench_lat lat = {NULL, 0};
        if (imc_bench_threads_count(st) == 1)
            imc_bench_lat_init(&lat);
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            int64_t w0 = imc_bench_wall_ns();
            if (!ok(st, "encrypt", imc_msg_encrypt(out, cap, &len, a->b, source, &req)))
                break;
            imc_bench_lat_add(&lat, imc_bench_wall_ns() - w0);
            imc_bench_do_not_optimize(out);
        }
        report_overhead(st, a, true, t0);
        imc_bench_lat_report(st, &lat);
        imc_bench_set_items_processed(st, imc_bench_iterations(st));
        imc_rng_wipe(&rng);
    }
    free(out);
    free(body);
}

/* A replay state for one decrypt benchmark: memory only (dir NULL) or the
 * LMDB file in dir, every accept one synchronous commit. Reopened empty,
 * untimed, whenever the pool of deliveries comes round again (the same
 * deliveries would be replays). */
static void state_remove(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, IMC_REPLAY_FILE);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s-lock", dir, IMC_REPLAY_FILE);
    unlink(path);
}

static imc_status state_reopen(imc_replay **r, int kind, const char *dir, const imc_backend *b)
{
    imc_replay_close(*r);
    *r = NULL;
    if (kind == STATE_NONE)
        return IMC_OK;
    if (kind == STATE_LMDB)
        state_remove(dir);
    return imc_replay_open(r, kind == STATE_LMDB ? dir : NULL, NULL, b, NULL);
}

static bool state_dir(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/imcore-bench-replay-XXXXXX", base != NULL ? base : "/tmp");
    return mkdtemp(dir) != NULL;
}

static void bm_decrypt(imc_bench_state *st, void *arg)
{
    msg_arg *a = arg;
    if (!pool_get(st, a))
        return;
    const population *p = a->pop;
    const delivery_pool *pool = a->pool;
    char dir[512] = "";
    imc_replay *state = NULL;
    uint8_t *out = malloc(a->body + 1);
    imc_status s = out == NULL ? IMC_ERR_NOMEM : IMC_OK;
    if (s == IMC_OK && a->state == STATE_LMDB && !state_dir(dir, sizeof dir))
        s = IMC_ERR_IO;
    if (s == IMC_OK)
        s = state_reopen(&state, a->state, dir, a->b);
    if (ok(st, "replay state", s)) {
        const imc_msg_peer sender = {(const uint8_t *)IMC_BENCH_SENDER_HANDLE,
                                     IMC_BENCH_SENDER_HANDLE_LEN, &p->sender.pub};
        const uint64_t now = TIMESTAMP_BASE + IMC_BENCH_RECEIVE_POOL_MAX;
        imc_msg_received info;
        size_t i = 0;
        imc_bench_lat lat = {NULL, 0};
        if (imc_bench_threads_count(st) == 1)
            imc_bench_lat_init(&lat);
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            if (i == pool->count) {
                i = 0;
                /* Untimed, and kept out of the overhead ratio's CPU time. */
                int64_t p0 = imc_bench_cpu_ns();
                imc_bench_pause(st);
                s = state_reopen(&state, a->state, dir, a->b);
                imc_bench_resume(st);
                t0 += imc_bench_cpu_ns() - p0;
                if (!ok(st, "replay state", s))
                    break;
            }
            int64_t w0 = imc_bench_wall_ns();
            if (!ok(st, "decrypt",
                    imc_msg_decrypt(out, a->body, &info, a->b, &p->devices[0], &sender, state,
                                    now, pool->bytes[i], pool->len[i])))
                break;
            imc_bench_lat_add(&lat, imc_bench_wall_ns() - w0);
            imc_bench_do_not_optimize(out);
            i++;
        }
        if (a->state == STATE_MEMORY)
            report_overhead(st, a, false, t0);
        imc_bench_lat_report(st, &lat);
        imc_bench_set_items_processed(st, imc_bench_iterations(st));
    }
    imc_replay_close(state);
    if (dir[0] != '\0') {
        state_remove(dir);
        rmdir(dir);
    }
    free(out);
}

/* Items are devices; per_device is seconds per device. */
static void per_device(imc_bench_state *st, size_t n)
{
    int64_t devices = imc_bench_iterations(st) * (int64_t)n;
    imc_bench_set_items_processed(st, devices);
    imc_bench_counter(st, "per_device", (double)devices,
                      IMC_BENCH_COUNTER_RATE | IMC_BENCH_COUNTER_INVERT);
}

static void bm_fanout(imc_bench_state *st, void *arg)
{
    msg_arg *a = arg;
    if (!envelope_get(st, a))
        return;
    imc_delivery_view *views = calloc(a->n, sizeof *views);
    if (views == NULL) {
        imc_bench_skip(st, "out of memory");
        return;
    }
    size_t count = 0;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "fanout", imc_msg_fanout(views, a->n, &count, a->fx->env, a->fx->env_len)))
            break;
        imc_bench_do_not_optimize(views);
    }
    per_device(st, a->n);
    free(views);
}

static void bm_parse_envelope(imc_bench_state *st, void *arg)
{
    msg_arg *a = arg;
    if (!envelope_get(st, a))
        return;
    imc_envelope e;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "parse", imc_msg_parse_envelope(&e, a->fx->env, a->fx->env_len)))
            break;
        imc_bench_do_not_optimize(&e);
    }
    per_device(st, a->n);
}

static void bm_parse_delivery(imc_bench_state *st, void *arg)
{
    msg_arg *a = arg;
    if (!envelope_get(st, a))
        return;
    imc_delivery d;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "parse", imc_msg_parse_delivery(&d, a->fx->delivery, a->fx->delivery_len)))
            break;
        imc_bench_do_not_optimize(&d);
    }
    imc_bench_set_items_processed(st, imc_bench_iterations(st));
}

/* ---- Registration -------------------------------------------------------------- */

static void free_all(void)
{
    pthread_mutex_lock(&G.lock);
    while (G.fixtures != NULL) {
        envelope_fixture *fx = G.fixtures;
        G.fixtures = fx->next;
        free(fx->env);
        free(fx->delivery);
        free(fx);
    }
    while (G.pools != NULL) {
        delivery_pool *pool = G.pools;
        G.pools = pool->next;
        for (size_t i = 0; i < pool->count; i++)
            free(pool->bytes[i]);
        free(pool);
    }
    for (size_t b = 0; b < MAX_BACKENDS; b++) {
        for (size_t s = 0; s < IMC_SUITE_COUNT; s++) {
            population *p = &G.pops[b][s];
            if (p->devices != NULL)
                for (size_t i = 0; i < p->count; i++)
                    imc_keys_wipe(&p->devices[i]);
            imc_keys_wipe(&p->sender);
            free(p->devices);
            free(p->pubs);
            p->devices = NULL;
            p->pubs = NULL;
            p->count = 0;
            p->sender_ready = false;
        }
    }
    pthread_mutex_unlock(&G.lock);
}

static imc_bench *reg(const char *name, imc_bench_fn *fn, msg_arg arg, imc_bench_time_unit unit)
{
    memcpy(arg.name, name, strlen(name) + 1);
    imc_bench *h = imc_bench_register_copy(name, fn, &arg, sizeof arg);
    if (h == NULL)
        fprintf(stderr, "imcore-bench: cannot register %s\n", name);
    return imc_bench_unit(h, unit);
}

/* The population for (backend index, suite). */
static population *pop_for(size_t bi, const imc_backend *b, const imc_suite *s)
{
    population *p = &G.pops[bi][s->id - 1];
    p->b = b;
    p->s = s;
    return p;
}

static msg_arg make_arg(const char *bname, size_t bi, const imc_backend *b, const imc_suite *s,
                        size_t n, size_t body)
{
    msg_arg a;
    memset(&a, 0, sizeof a);
    snprintf(a.bname, sizeof a.bname, "%s", bname);
    a.b = b;
    a.s = s;
    a.pop = pop_for(bi, b, s);
    a.n = n;
    a.body = body;
    return a;
}

/* The index of backend `bname` in imc_backend_list, or -1. */
static int backend_index(const char *bname)
{
    size_t nb = 0;
    const char *const *names = imc_backend_list(&nb);
    for (size_t i = 0; i < nb && i < MAX_BACKENDS; i++)
        if (strcmp(names[i], bname) == 0)
            return (int)i;
    return -1;
}

imc_bench *imc_bench_msg_register(const char *name, imc_bench_msg_path path, const char *bname,
                                  const imc_suite *s, size_t n, size_t body)
{
    int bi = backend_index(bname);
    const imc_backend *b = bi >= 0 ? imc_backend_get(bname) : NULL;
    if (b == NULL || s == NULL || !imc_suite_supported(s, b))
        return NULL;
    msg_arg a = make_arg(bname, (size_t)bi, b, s, path == IMC_BENCH_MSG_ENCRYPT ? n : 1, body);
    imc_bench_recipe_context(path == IMC_BENCH_MSG_ENCRYPT ? IMC_MSG_PATH_ENCRYPT
                                                           : IMC_MSG_PATH_DECRYPT,
                             s, a.n, body);
    return reg(name, path == IMC_BENCH_MSG_ENCRYPT ? bm_encrypt : bm_decrypt, a, IMC_BENCH_US);
}

/* <encrypt name>/rng:os: the same encrypt drawing its message id, content
 * key and ephemeral key from the backend's CSPRNG, as in production. */
static void register_os_rng(const char *encrypt_name, const char *bname, size_t bi,
                            const imc_suite *s, size_t n, size_t body)
{
    char name[NAME_BYTES];
    const imc_backend *b = imc_backend_get(bname);
    if (b == NULL || !imc_suite_supported(s, b))
        return;
    msg_arg a = make_arg(bname, bi, b, s, n, body);
    a.os_rng = true;
    snprintf(name, sizeof name, "%s/rng:os", encrypt_name);
    reg(name, bm_encrypt, a, IMC_BENCH_US);
}

void imc_bench_register_msg(void)
{
    static bool registered;
    if (!registered && atexit(free_all) != 0)
        fprintf(stderr, "imcore-bench: cannot register the exit handler\n");
    registered = true;
    size_t nb = 0;
    const char *const *names = imc_backend_list(&nb);
    char name[NAME_BYTES];
    /* encrypt, then decrypt, per backend and suite. */
    for (int path = 0; path < 2; path++) {
        for (size_t bi = 0; bi < nb && bi < MAX_BACKENDS; bi++) {
            for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
                const imc_suite *s = imc_suite_get(id);
                for (size_t k = 0; k < IMC_BENCH_BODY_COUNT; k++) {
                    size_t body = imc_bench_body_sizes[k];
                    if (path == 1) {
                        snprintf(name, sizeof name, "decrypt/%s/%s/body:%zu", names[bi],
                                 s->short_name, body);
                        (void)imc_bench_msg_register(name, IMC_BENCH_MSG_DECRYPT, names[bi], s,
                                                     1, body);
                        continue;
                    }
                    for (size_t f = 0; f < IMC_BENCH_FANOUT_COUNT; f++) {
                        size_t n = imc_bench_fanouts[f];
                        snprintf(name, sizeof name, "encrypt/%s/%s/dev:%zu/body:%zu", names[bi],
                                 s->short_name, n, body);
                        (void)imc_bench_msg_register(name, IMC_BENCH_MSG_ENCRYPT, names[bi], s,
                                                     n, body);
                        register_os_rng(name, names[bi], bi, s, n, body);
                    }
                }
            }
        }
    }
    /* Decrypt without a replay state, with one in memory, and with one
     * persisted in LMDB (real time: a commit waits for the disk), suite 1
     * on the first backend, at 1 and 8 devices. */
    const imc_suite *s1 = imc_suite_get(IMC_SUITE_X25519_ED25519_CHACHA20POLY1305);
    const imc_backend *b0 = nb > 0 ? imc_backend_get(names[0]) : NULL;
    static const size_t STATE_DEVICES[] = {1, 8};
    static const char *const STATE_NAMES[] = {"memory", "lmdb", "none"};
    for (size_t f = 0; b0 != NULL && s1 != NULL && f < 2; f++) {
        for (int kind = STATE_NONE; kind >= STATE_MEMORY; kind--) {
            msg_arg a = make_arg(names[0], 0, b0, s1, STATE_DEVICES[f], 1024);
            a.state = kind;
            snprintf(name, sizeof name, "decrypt_state/%s/%s/dev:%zu/body:1024/state:%s",
                     names[0], s1->short_name, STATE_DEVICES[f], STATE_NAMES[kind]);
            imc_bench_use_real_time(reg(name, bm_decrypt, a, IMC_BENCH_US));
        }
    }
    /* fanout and parse: per suite, envelopes made by the first backend that
     * has the suite. */
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
        const imc_suite *s = imc_suite_get(id);
        const imc_backend *b = NULL;
        size_t bi = 0;
        for (; bi < nb && bi < MAX_BACKENDS; bi++) {
            b = imc_backend_get(names[bi]);
            if (b != NULL && imc_suite_supported(s, b))
                break;
            b = NULL;
        }
        if (b == NULL)
            continue;
        for (size_t k = 0; k < IMC_BENCH_BODY_COUNT; k++) {
            size_t body = imc_bench_body_sizes[k];
            for (size_t f = 0; f < IMC_BENCH_FANOUT_COUNT; f++) {
                size_t n = imc_bench_fanouts[f];
                msg_arg a = make_arg(names[bi], bi, b, s, n, body);
                snprintf(name, sizeof name, "fanout/%s/dev:%zu/body:%zu", s->short_name, n, body);
                reg(name, bm_fanout, a, IMC_BENCH_NS);
                snprintf(name, sizeof name, "parse/envelope/%s/dev:%zu/body:%zu", s->short_name,
                         n, body);
                reg(name, bm_parse_envelope, a, IMC_BENCH_NS);
            }
            msg_arg a = make_arg(names[bi], bi, b, s, 1, body);
            snprintf(name, sizeof name, "parse/delivery/%s/body:%zu", s->short_name, body);
            reg(name, bm_parse_delivery, a, IMC_BENCH_NS);
        }
    }
}
