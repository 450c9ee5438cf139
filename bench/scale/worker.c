/* One worker thread: takes chunks of message indices and runs each message
 * through the whole pipeline (docs/scale.md, "What a message is"):
 *
 *   generate   sender, conversation, body from (seed, index)   [simulation]
 *   dir_lookup the directory answers one signed entry per handle of the
 *              conversation (the recipients and the sender's own handle)
 *   cache_verify the sender's client cache verifies and applies them and
 *              lists the devices to encrypt to (imc_dircache_prepare_send)
 *   encrypt    one envelope (rng: seed, stream = index)
 *   fanout     the service splits it and copies out every delivery
 *   decrypt    every device: the sender's keys from the cache, then
 *              imc_msg_decrypt (the first delivery of each message with
 *              the worker's replay state, the others with the time rule)
 *   check      every body and received field compared; digest hashed [simulation]
 *
 * Device secret keys are re-derived from (seed, device id) [simulation],
 * with a small direct-mapped cache per thread. All buffers are allocated
 * and touched before the first message, so memory does not grow with the
 * number of messages. */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scale.h"

#define CHUNK 16 /* message indices taken at a time */

const char *const SCALE_STAGE_NAMES[ST_COUNT] = {
    [ST_DIR_LOOKUP] = "dir_lookup",
    [ST_CACHE_VERIFY] = "cache_verify",
    [ST_ENCRYPT] = "encrypt",
    [ST_FANOUT] = "fanout",
    [ST_DECRYPT] = "decrypt",
    [ST_E2E] = "end_to_end",
    [ST_DECRYPT_ONE] = "decrypt_one_delivery",
    [ST_SIM_GENERATE] = "sim_generate",
    [ST_SIM_KEYS] = "sim_key_derivation",
    [ST_SIM_CHECK] = "sim_check",
};

static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

void scale_run_fail(scale_run *run, const char *fmt, ...)
{
    pthread_mutex_lock(&error_lock);
    if (!atomic_load(&run->error_set)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(run->error, sizeof run->error, fmt, ap);
        va_end(ap);
        atomic_store(&run->error_set, 1);
    }
    pthread_mutex_unlock(&error_lock);
    atomic_store(&run->stop, true);
}

typedef struct key_slot {
    uint64_t id; /* 0: empty */
    imc_device_keys keys;
} key_slot;

typedef struct worker {
    const scale_config *cfg;
    scale_run *run;
    scale_thread_result *res;
    const imc_backend *b;
    size_t max_members, max_recipients;

    uint8_t *resp;
    size_t resp_cap;
    uint8_t (*handle)[SCALE_HANDLE_LEN]; /* recipients first, the sender's last */
    imc_dir_handle *lookup;
    uint64_t *account;
    imc_device_public *devs;
    uint8_t *env;
    size_t env_cap;
    imc_delivery_view *views;
    uint8_t *dlv;
    size_t dlv_stride;
    size_t *dlv_len;
    uint8_t *body, *out;
    size_t body_cap;
    uint8_t *hbuf;
    size_t hbuf_cap;
    imc_replay *replay; /* for the first delivery of every message */
    key_slot *kc;
    size_t kc_n;
    imc_device_keys sender, rkeys;
} worker;

static void *alloc_touched(size_t n)
{
    void *p = malloc(n != 0 ? n : 1);
    if (p != NULL)
        memset(p, 0, n); /* resident now, not when a rare big message comes */
    return p;
}

static void worker_free(worker *w)
{
    free(w->resp);
    free(w->handle);
    free(w->lookup);
    free(w->account);
    free(w->devs);
    free(w->env);
    free(w->views);
    free(w->dlv);
    free(w->dlv_len);
    free(w->body);
    free(w->out);
    free(w->hbuf);
    imc_replay_close(w->replay);
    if (w->kc != NULL)
        imc_wipe(w->kc, w->kc_n * sizeof *w->kc);
    free(w->kc);
    imc_keys_wipe(&w->sender);
    imc_keys_wipe(&w->rkeys);
}

static bool worker_init(worker *w, scale_run *run, scale_thread_result *res)
{
    memset(w, 0, sizeof *w);
    const scale_config *cfg = run->cfg;
    w->cfg = cfg;
    w->run = run;
    w->res = res;
    w->b = cfg->b;
    w->max_members = (size_t)cfg->members.max;
    w->max_recipients = cfg->max_recipients;
    size_t R = w->max_recipients, M = w->max_members;
    w->resp_cap = IMC_DIR_RESPONSE_MAX_BYTES(M);
    w->env_cap = imc_msg_envelope_size(cfg->suite->id, SCALE_HANDLE_LEN, R, (size_t)cfg->body.max);
    w->dlv_stride = imc_msg_delivery_size(cfg->suite->id, SCALE_HANDLE_LEN, R, (size_t)cfg->body.max);
    w->body_cap = (size_t)cfg->body.max;
    w->hbuf_cap = 64 + (w->env_cap > w->body_cap ? w->env_cap : w->body_cap);
    w->kc_n = cfg->key_cache;
    w->resp = alloc_touched(w->resp_cap);
    w->handle = alloc_touched(M * sizeof *w->handle);
    w->lookup = alloc_touched(M * sizeof *w->lookup);
    w->account = alloc_touched(M * sizeof *w->account);
    w->devs = alloc_touched(R * sizeof *w->devs);
    w->env = alloc_touched(w->env_cap);
    w->views = alloc_touched(R * sizeof *w->views);
    w->dlv = alloc_touched(R * w->dlv_stride);
    w->dlv_len = alloc_touched(R * sizeof *w->dlv_len);
    w->body = alloc_touched(w->body_cap);
    w->out = alloc_touched(w->body_cap);
    w->hbuf = alloc_touched(w->hbuf_cap);
    /* Senders are reclaimed once their newest message is older than the
     * longest delivery delay plus a second; a worker sees at most one
     * message per simulated millisecond, fewer than 8192 in that time. */
    const imc_replay_config rcfg = {SCALE_MAX_DELIVERY_DELAY_MS + 1000, 0, 8192, 4};
    if (imc_replay_open(&w->replay, NULL, &rcfg, w->b, NULL) != IMC_OK)
        w->replay = NULL;
    w->kc = alloc_touched(w->kc_n * sizeof *w->kc);
    if (w->env_cap == 0 || w->dlv_stride == 0 || !w->resp || !w->handle || !w->lookup ||
        !w->account || !w->devs || !w->env || !w->views || !w->dlv || !w->dlv_len || !w->body ||
        !w->out || !w->hbuf || !w->replay || !w->kc) {
        worker_free(w);
        return false;
    }
    for (size_t i = 0; i < M; i++) {
        w->lookup[i].bytes = w->handle[i];
        w->lookup[i].len = SCALE_HANDLE_LEN;
    }
    for (int s = 0; s < ST_COUNT; s++)
        scale_hist_init(&res->hist[s]);
    memset(&res->t, 0, sizeof res->t);
    return true;
}

/* The keys of a device, from the per-thread cache or re-derived. */
static imc_status device_keys(const imc_device_keys **out, worker *w, uint64_t id,
                              imc_device_keys *scratch)
{
    if (w->kc_n == 0) {
        w->res->t.key_cache_misses++;
        *out = scratch;
        return scale_device_keys(scratch, w->cfg, id);
    }
    key_slot *s = &w->kc[(size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) % w->kc_n];
    if (s->id == id) {
        w->res->t.key_cache_hits++;
        *out = &s->keys;
        return IMC_OK;
    }
    w->res->t.key_cache_misses++;
    s->id = 0;
    imc_status st = scale_device_keys(&s->keys, w->cfg, id);
    if (st == IMC_OK)
        s->id = id;
    *out = &s->keys;
    return st;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static const char MSG_LABEL[] = "imcore-scale/message/v1"; /* hashed with its NUL */

#define FAIL(stage, st)                                                                            \
    do {                                                                                           \
        scale_run_fail(w->run, "message %llu: %s failed: %s", (unsigned long long)idx, stage,      \
                       imc_status_str(st));                                                        \
        goto out;                                                                                  \
    } while (0)

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            scale_run_fail(w->run, "message %llu, delivery to device %llu: %s",                   \
                           (unsigned long long)idx, (unsigned long long)dev, what);                \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

static int one_message(worker *w, uint64_t idx)
{
    const scale_config *cfg = w->cfg;
    const imc_backend *b = w->b;
    scale_thread_result *res = w->res;
    imc_dircache *cache = NULL;
    imc_rng rng, erng;
    int rc = SCALE_EXIT_FAIL;
    uint64_t dev = 0;
    imc_status st = IMC_OK;

    /* ---- generate (simulation): everything from (seed, index) ---------- */
    uint64_t t0 = scale_now_ns();
    imc_rng_init_deterministic(&rng, cfg->seed_msg, idx);
    uint64_t sender = 0, sender_k = 0, members = 0, body_len = 0, delay = 0;
    uint64_t sender_devs = 0, expect = 0;
    st = scale_uniform(&sender, cfg->population, &rng, b);
    if (st == IMC_OK)
        sender_devs = scale_account_devices(cfg, sender, &st);
    if (st == IMC_OK)
        st = scale_uniform(&sender_k, sender_devs, &rng, b);
    if (st == IMC_OK)
        st = scale_dist_draw(&members, &cfg->members, &rng, b);
    /* members - 1 distinct other accounts, then the sender's own handle. */
    size_t n_to = (size_t)members - 1;
    for (size_t j = 0; j < n_to && st == IMC_OK; j++) {
        bool again = true;
        while (again && st == IMC_OK) {
            st = scale_uniform(&w->account[j], cfg->population, &rng, b);
            again = w->account[j] == sender;
            for (size_t q = 0; q < j && !again; q++)
                again = w->account[q] == w->account[j];
        }
    }
    if (st == IMC_OK)
        st = scale_dist_draw(&body_len, &cfg->body, &rng, b);
    if (st == IMC_OK)
        st = imc_rng_fill(&rng, b, w->body, (size_t)body_len);
    if (st == IMC_OK)
        st = scale_uniform(&delay, SCALE_MAX_DELIVERY_DELAY_MS + 1, &rng, b);
    if (st != IMC_OK)
        FAIL("generate", st);
    w->account[n_to] = sender;
    expect = sender_devs - 1;
    for (size_t j = 0; j <= n_to && st == IMC_OK; j++) {
        scale_handle(w->handle[j], w->account[j]);
        if (j < n_to)
            expect += scale_account_devices(cfg, w->account[j], &st);
    }
    if (st != IMC_OK)
        FAIL("generate", st);
    const uint64_t ts = SCALE_T0_MS + idx, now_recv = ts + delay;
    const uint64_t sender_id = scale_device_id(sender, sender_k);
    imc_dircache_options copt = {(size_t)members, 0, 0, w->handle[n_to], SCALE_HANDLE_LEN,
                                 sender_id, NULL, false, NULL};
    if (st == IMC_OK)
        st = imc_dircache_new(&cache, b, w->run->pop->dir_pk, &copt);
    if (st != IMC_OK)
        FAIL("client cache set-up", st);
    uint64_t t1 = scale_now_ns();

    /* ---- the sender's keys (simulation) ---------------------------------- */
    const imc_device_keys *sk = NULL;
    st = device_keys(&sk, w, sender_id, &w->rkeys);
    if (st != IMC_OK)
        FAIL("sender key derivation", st);
    w->sender = *sk;
    uint64_t t2 = scale_now_ns();

    /* ---- directory lookup (service) -------------------------------------- */
    size_t resp_len = 0;
    st = imc_dir_lookup_batch(w->resp, w->resp_cap, &resp_len, &w->run->pop->dir, ts, w->lookup,
                              n_to + 1);
    if (st != IMC_OK)
        FAIL("directory lookup", st);
    uint64_t t3 = scale_now_ns();

    /* ---- client cache: verify, apply, whom to encrypt to ----------------- */
    size_t changes = 0, bad = 0;
    imc_msg_send req;
    st = imc_dircache_apply(cache, NULL, 0, &changes, ts, w->resp, resp_len);
    if (st == IMC_OK)
        st = imc_dircache_prepare_send(&req, w->devs, w->max_recipients, &bad, cache, ts,
                                       &w->sender, w->lookup, n_to);
    if (st != IMC_OK)
        FAIL("client cache", st);
    uint64_t t4 = scale_now_ns();

    /* ---- encrypt ----------------------------------------------------------- */
    req.timestamp_ms = ts;
    req.body = w->body;
    req.body_len = (size_t)body_len;
    size_t env_len = 0;
    imc_rng_init_deterministic(&erng, cfg->seed_enc, idx);
    st = imc_msg_encrypt(w->env, w->env_cap, &env_len, b, &erng, &req);
    imc_rng_wipe(&erng);
    if (st != IMC_OK)
        FAIL("encrypt", st);
    uint64_t t5 = scale_now_ns();

    /* ---- fan-out (service): split, copy out every delivery ----------------- */
    size_t count = 0;
    st = imc_msg_fanout(w->views, w->max_recipients, &count, w->env, env_len);
    for (size_t j = 0; j < count && st == IMC_OK; j++)
        st = imc_delivery_view_copy(w->dlv + j * w->dlv_stride, w->dlv_stride, &w->dlv_len[j],
                                    &w->views[j]);
    if (st != IMC_OK)
        FAIL("fan-out", st);
    uint64_t t6 = scale_now_ns();
    if (count != expect) {
        scale_run_fail(w->run, "message %llu: %zu deliveries, the population has %llu devices",
                       (unsigned long long)idx, count, (unsigned long long)expect);
        goto out;
    }

    /* ---- decrypt on every device, check, hash ------------------------------ */
    uint64_t dec_ns = 0, key_ns = t2 - t1, check_ns = 0, delivery_bytes = 0, decrypted = 0;
    uint8_t h[IMC_SHA256_BYTES], first_id[IMC_MSG_ID_BYTES];
    uint64_t c0 = scale_now_ns();
    size_t n = sizeof MSG_LABEL;
    memcpy(w->hbuf, MSG_LABEL, n);
    put_be64(w->hbuf + n, idx);
    put_be32(w->hbuf + n + 8, (uint32_t)env_len);
    memcpy(w->hbuf + n + 12, w->env, env_len);
    st = imc_crypto_sha256(b, h, w->hbuf, n + 12 + env_len);
    if (st != IMC_OK)
        FAIL("digest", st);
    check_ns += scale_now_ns() - c0;
#ifdef SCALE_FAULT_SKIP_DECRYPT
    /* Test build only (imcore-scale-fault): skips the last delivery of
     * message 0, the bug the decrypt count must catch. */
    size_t to_decrypt = idx == 0 && count > 0 ? count - 1 : count;
#else
    size_t to_decrypt = count;
#endif
    for (size_t j = 0; j < to_decrypt; j++) {
        dev = w->views[j].device_id;
        uint64_t k0 = scale_now_ns();
        const imc_device_keys *rk = NULL;
        st = device_keys(&rk, w, dev, &w->rkeys);
        if (st != IMC_OK)
            FAIL("recipient key derivation", st);
        uint64_t k1 = scale_now_ns();
        imc_msg_peer peer;
        imc_msg_received info;
        st = imc_dircache_peer(&peer, cache, now_recv, w->handle[n_to], SCALE_HANDLE_LEN,
                               sender_id);
        if (st == IMC_OK)
            st = imc_msg_decrypt(w->out, w->body_cap, &info, b, rk, &peer,
                                 j == 0 ? w->replay : NULL, now_recv,
                                 w->dlv + j * w->dlv_stride, w->dlv_len[j]);
        uint64_t k2 = scale_now_ns();
        if (st != IMC_OK) {
            scale_run_fail(w->run, "message %llu, delivery to device %llu: decrypt failed: %s",
                           (unsigned long long)idx, (unsigned long long)dev, imc_status_str(st));
            goto out;
        }
        uint64_t acct = dev / SCALE_DEVICE_ID_STRIDE - 1;
        bool member = false;
        for (size_t q = 0; q <= n_to && !member; q++)
            member = w->account[q] == acct;
        CHECK(member && dev != sender_id && dev % SCALE_DEVICE_ID_STRIDE <
                  scale_account_devices(cfg, acct, &st) && st == IMC_OK,
              "not a device of the conversation");
        CHECK(info.body_len == body_len && memcmp(w->out, w->body, (size_t)body_len) == 0,
              "the body differs");
        CHECK(info.suite == cfg->suite->id && info.sender_device == sender_id &&
                  info.timestamp_ms == ts && info.sender_handle_len == SCALE_HANDLE_LEN &&
                  memcmp(info.sender_handle, w->handle[n_to], SCALE_HANDLE_LEN) == 0,
              "the authenticated sender or timestamp differs");
        if (j == 0)
            memcpy(first_id, info.message_id, sizeof first_id);
        CHECK(memcmp(first_id, info.message_id, sizeof first_id) == 0, "the message id differs");
        memcpy(w->hbuf, h, sizeof h);
        put_be64(w->hbuf + 32, dev);
        put_be64(w->hbuf + 40, info.sender_device);
        put_be64(w->hbuf + 48, info.timestamp_ms);
        put_be32(w->hbuf + 56, (uint32_t)info.body_len);
        memcpy(w->hbuf + 60, w->out, info.body_len);
        st = imc_crypto_sha256(b, h, w->hbuf, 60 + info.body_len);
        if (st != IMC_OK)
            FAIL("digest", st);
        uint64_t k3 = scale_now_ns();
        key_ns += k1 - k0;
        dec_ns += k2 - k1;
        check_ns += k3 - k2;
        scale_hist_add(&res->hist[ST_DECRYPT_ONE], k2 - k1);
        delivery_bytes += w->dlv_len[j];
        decrypted++;
    }
    uint64_t t7 = scale_now_ns();
    imc_dircache_free(cache);
    cache = NULL;
    uint64_t t8 = scale_now_ns();

    /* ---- account ----------------------------------------------------------- */
    uint64_t stage[ST_PIPELINE_COUNT_] = {t3 - t2, t4 - t3, t5 - t4, t6 - t5, dec_ns};
    uint64_t e2e = 0;
    for (int s = 0; s < ST_PIPELINE_COUNT_; s++) {
        scale_hist_add(&res->hist[s], stage[s]);
        e2e += stage[s];
    }
    scale_hist_add(&res->hist[ST_E2E], e2e);
    /* The decrypt loop's bookkeeping counts as checking. */
    uint64_t loop_rest = (t7 - t6) - dec_ns - check_ns - (key_ns - (t2 - t1));
    scale_hist_add(&res->hist[ST_SIM_GENERATE], (t1 - t0) + (t8 - t7));
    scale_hist_add(&res->hist[ST_SIM_KEYS], key_ns);
    scale_hist_add(&res->hist[ST_SIM_CHECK], check_ns + loop_rest);

    scale_totals *t = &res->t;
    for (int k = 0; k < 4; k++) {
        uint64_t v = 0;
        for (int q = 7; q >= 0; q--)
            v = (v << 8) | h[8 * k + q];
        t->lanes[k] += v; /* mod 2^64 */
    }
    t->messages++;
    t->deliveries += count;
    t->decrypted += decrypted;
    t->envelope_bytes += env_len;
    t->delivery_bytes += delivery_bytes;
    t->body_bytes += body_len;
    if (members == 2)
        t->conversations_1to1++;
    else
        t->conversations_group++;
    if (count > t->max_recipients_seen)
        t->max_recipients_seen = count;
    if (members > t->max_members_seen)
        t->max_members_seen = members;
    rc = 0;
out:
    imc_rng_wipe(&rng);
    imc_dircache_free(cache);
    return rc;
}

void scale_result_add(scale_thread_result *into, const scale_thread_result *from)
{
    for (int s = 0; s < ST_COUNT; s++)
        scale_hist_merge(&into->hist[s], &from->hist[s]);
    const scale_totals *t = &from->t;
    scale_totals *u = &into->t;
    u->messages += t->messages;
    u->deliveries += t->deliveries;
    u->decrypted += t->decrypted;
    u->envelope_bytes += t->envelope_bytes;
    u->delivery_bytes += t->delivery_bytes;
    u->body_bytes += t->body_bytes;
    u->conversations_1to1 += t->conversations_1to1;
    u->conversations_group += t->conversations_group;
    u->key_cache_hits += t->key_cache_hits;
    u->key_cache_misses += t->key_cache_misses;
    if (t->max_recipients_seen > u->max_recipients_seen)
        u->max_recipients_seen = t->max_recipients_seen;
    if (t->max_members_seen > u->max_members_seen)
        u->max_members_seen = t->max_members_seen;
    for (int k = 0; k < 4; k++)
        u->lanes[k] += t->lanes[k];
    into->cpu_ns += from->cpu_ns;
    into->loop_ns += from->loop_ns;
}

/* Waits for the next round; false when there is none. */
static bool next_round(scale_run *run, uint64_t *seen)
{
    pthread_mutex_lock(&run->round_lock);
    while (run->generation == *seen && !run->finished)
        pthread_cond_wait(&run->round_go, &run->round_lock);
    bool go = !run->finished;
    *seen = run->generation;
    pthread_mutex_unlock(&run->round_lock);
    return go;
}

static void round_done(scale_run *run)
{
    pthread_mutex_lock(&run->round_lock);
    run->idle++;
    pthread_cond_signal(&run->round_idle);
    pthread_mutex_unlock(&run->round_lock);
}

void *scale_worker_main(void *arg)
{
    scale_worker_arg *a = arg;
    scale_run *run = a->run;
    const scale_config *cfg = run->cfg;
    worker w;
    a->rc = 0;
    bool ready = worker_init(&w, run, a->res);
    if (!ready) {
        scale_run_fail(run, "out of memory setting up a worker");
        a->rc = SCALE_EXIT_FAIL;
    }
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    uint64_t seen = 0, loop_ns = 0;
    while (next_round(run, &seen)) {
        uint64_t t0 = scale_now_ns();
        /* A chunk once taken is always finished (unless a message fails):
         * that keeps the done indices contiguous for the checkpoint. */
        while (ready && !atomic_load(&run->stop) && !atomic_load(&run->pause)) {
            uint64_t lo = atomic_fetch_add(&run->next, CHUNK);
            if (lo >= cfg->hi)
                break;
            uint64_t hi = lo + CHUNK < cfg->hi ? lo + CHUNK : cfg->hi;
            for (uint64_t i = lo; i < hi && !atomic_load(&run->stop); i++) {
                if (one_message(&w, i) != 0) {
                    a->rc = SCALE_EXIT_FAIL;
                    break;
                }
                atomic_fetch_add_explicit(&run->progress.done, 1, memory_order_relaxed);
            }
        }
        loop_ns += scale_now_ns() - t0;
        /* Times so far, for a checkpoint taken between rounds. */
        a->res->loop_ns = loop_ns;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        a->res->cpu_ns = (uint64_t)(c1.tv_sec - c0.tv_sec) * UINT64_C(1000000000) +
                         (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
        round_done(run);
    }
    if (ready)
        worker_free(&w);
    return NULL;
}
