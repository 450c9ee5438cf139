/* The replay state (imcore/replay.h, docs/replay.md): the time rule, the
 * argument checks, the floor rule and its bound, the sender cap, the
 * attacks that broke the old shared cache (nine crafted ids in one bucket,
 * a co-recipient reusing a message id, a 30-day-old delivery after a
 * restart), persistence across close/open, the file checks, a property
 * test of P1-P4 against replay_model.h over random traffic from many
 * senders (memory, and LMDB with restarts), and the footprint per sender
 * (printed: docs/replay.md quotes it). */
#include "tmpdir.h" /* first: it sets _POSIX_C_SOURCE */
#include "msg_fixture.h"
#include "replay_model.h"

#include <fcntl.h>
#include <sys/stat.h>

#define DAY_MS (86400ull * 1000)
#define NOW (FX_TS + DAY_MS)

static const imc_backend *g_b;
static const uint8_t SEED[IMC_RNG_SEED_BYTES] = "imcore test_replay seed 0123456";

/* Sender s: handle "user<s/2>@example.com", device 1000 + s%2, so pairs
 * share a handle and every even sender shares a device id. */
typedef struct sender_id {
    char handle[40];
    uint64_t device;
} sender_id;

static sender_id sid(unsigned s)
{
    sender_id x;
    snprintf(x.handle, sizeof x.handle, "user%u@example.com", s / 2);
    x.device = 1000 + s % 2;
    return x;
}

static imc_replay_msg msg(const sender_id *x, const uint8_t *id, uint64_t ts)
{
    imc_replay_msg m = {(const uint8_t *)x->handle, strlen(x->handle), x->device, id, ts};
    return m;
}

/* An id whose first four bytes are `bucket` and last byte `k`. */
static void make_id(uint8_t id[IMC_MSG_ID_BYTES], uint32_t bucket, uint8_t k)
{
    memset(id, 0, IMC_MSG_ID_BYTES);
    id[0] = (uint8_t)(bucket >> 24);
    id[1] = (uint8_t)(bucket >> 16);
    id[2] = (uint8_t)(bucket >> 8);
    id[3] = (uint8_t)bucket;
    id[IMC_MSG_ID_BYTES - 1] = k;
}

static imc_replay *open_mem(const imc_replay_config *cfg)
{
    imc_replay *r = NULL;
    CHECK_OK(imc_replay_open(&r, NULL, cfg, g_b, NULL));
    return r;
}

/* accept after check, which must agree. */
static imc_status accept(imc_replay *r, unsigned s, const uint8_t *id, uint64_t ts, uint64_t now)
{
    sender_id x = sid(s);
    imc_replay_msg m = msg(&x, id, ts);
    imc_status c = imc_replay_check(r, &m, now);
    imc_status a = imc_replay_accept(r, &m, now);
    CHECK(c == a);
    return a;
}

/* ---- The time rule and arguments ------------------------------------------ */

static void test_time_rule(void)
{
    const uint64_t skew = IMC_MAX_CLOCK_SKEW_MS, age = IMC_MAX_MESSAGE_AGE_MS;
    CHECK_OK(imc_replay_time_check(NOW, NOW, NULL));
    CHECK_OK(imc_replay_time_check(NOW + skew, NOW, NULL));
    CHECK_ST(imc_replay_time_check(NOW + skew + 1, NOW, NULL), IMC_ERR_STALE);
    CHECK_OK(imc_replay_time_check(NOW - age, NOW, NULL));
    CHECK_ST(imc_replay_time_check(NOW - age - 1, NOW, NULL), IMC_ERR_EXPIRED);
    /* No overflow at the extremes. */
    CHECK_ST(imc_replay_time_check(UINT64_MAX, 0, NULL), IMC_ERR_STALE);
    CHECK_OK(imc_replay_time_check(UINT64_MAX, UINT64_MAX, NULL));
    CHECK_ST(imc_replay_time_check(0, UINT64_MAX, NULL), IMC_ERR_EXPIRED);
    CHECK_OK(imc_replay_time_check(0, age, NULL)); /* a clock younger than the age */
    /* A config's own limits. */
    imc_replay_config c = {1000, 10, 0, 0};
    CHECK_OK(imc_replay_time_check(5010, 5000, &c));
    CHECK_ST(imc_replay_time_check(5011, 5000, &c), IMC_ERR_STALE);
    CHECK_OK(imc_replay_time_check(4000, 5000, &c));
    CHECK_ST(imc_replay_time_check(3999, 5000, &c), IMC_ERR_EXPIRED);
    CHECK(strcmp(imc_status_str(IMC_ERR_EXPIRED), "message older than the maximum age") == 0);
}

static void test_args(void)
{
    imc_replay *r = (imc_replay *)&r;
    CHECK_ST(imc_replay_open(NULL, NULL, NULL, g_b, NULL), IMC_ERR_ARG);
    CHECK_ST(imc_replay_open(&r, NULL, NULL, NULL, NULL), IMC_ERR_ARG);
    CHECK(r == NULL);
    CHECK_ST(imc_replay_open(&r, "", NULL, g_b, NULL), IMC_ERR_ARG);
    imc_replay_config big = {0, 0, 0, IMC_REPLAY_WINDOW_CAP + 1};
    CHECK_ST(imc_replay_open(&r, NULL, &big, g_b, NULL), IMC_ERR_ARG);
    big = (imc_replay_config){0, 0, IMC_REPLAY_SENDERS_CAP + 1, 0};
    CHECK_ST(imc_replay_open(&r, NULL, &big, g_b, NULL), IMC_ERR_ARG);
    CHECK_ST(imc_replay_open(&r, "/nonexistent/imcore/dir", NULL, g_b, NULL), IMC_ERR_IO);
    CHECK(r == NULL);
    /* A deterministic generator instead of the backend. */
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 1);
    CHECK_OK(imc_replay_open(&r, NULL, NULL, NULL, &rng));
    uint8_t id[IMC_MSG_ID_BYTES] = {1};
    uint8_t handle[IMC_MAX_HANDLE_BYTES + 1];
    memset(handle, 'h', sizeof handle);
    imc_replay_msg m = {handle, 5, 7, id, NOW};
    CHECK_ST(imc_replay_check(NULL, &m, NOW), IMC_ERR_ARG);
    CHECK_ST(imc_replay_accept(r, NULL, NOW), IMC_ERR_ARG);
    m.sender_handle_len = 0;
    CHECK_ST(imc_replay_accept(r, &m, NOW), IMC_ERR_ARG);
    m.sender_handle_len = IMC_MAX_HANDLE_BYTES + 1;
    CHECK_ST(imc_replay_accept(r, &m, NOW), IMC_ERR_ARG);
    m.sender_handle_len = IMC_MAX_HANDLE_BYTES;
    CHECK_OK(imc_replay_accept(r, &m, NOW)); /* the longest handle */
    m.sender_handle = NULL;
    CHECK_ST(imc_replay_accept(r, &m, NOW), IMC_ERR_ARG);
    m.sender_handle = handle;
    m.message_id = NULL;
    CHECK_ST(imc_replay_check(r, &m, NOW), IMC_ERR_ARG);
    m.message_id = id;
    CHECK_ST(imc_replay_check(r, &m, NOW), IMC_ERR_REPLAY);
    /* Timestamp 0 is never above a floor. */
    m.timestamp_ms = 0;
    id[1] = 1;
    CHECK_ST(imc_replay_check(r, &m, 0), IMC_ERR_REPLAY);
    imc_replay_close(r);
    imc_replay_close(NULL);
    CHECK(imc_replay_memory(NULL) == 0);
}

/* ---- The floor rule (P3) ---------------------------------------------------- */

static void test_floor_rule(void)
{
    const imc_replay_config cfg = {1000000, 0, 8, 4};
    imc_replay *r = open_mem(&cfg);
    const uint64_t t = NOW - 500000;
    uint8_t id[IMC_MSG_ID_BYTES];
    for (uint8_t k = 1; k <= 4; k++) { /* timestamps t+10 .. t+40 fill the window */
        make_id(id, 0, k);
        CHECK_OK(accept(r, 0, id, t + 10u * k, NOW));
    }
    /* A fifth forgets the lowest (t+10): the floor becomes t+10. */
    make_id(id, 0, 5);
    CHECK_OK(accept(r, 0, id, t + 50, NOW));
    make_id(id, 0, 1);
    CHECK_ST(accept(r, 0, id, t + 10, NOW), IMC_ERR_REPLAY); /* forgotten, at the floor */
    make_id(id, 0, 100);
    CHECK_ST(accept(r, 0, id, t + 10, NOW), IMC_ERR_REPLAY); /* fresh, at the floor */
    CHECK_ST(accept(r, 0, id, t + 5, NOW), IMC_ERR_REPLAY);  /* fresh, below */
    /* A fresh id just above the floor, lower than the whole window: it is
     * accepted and forgotten at once, raising the floor to itself. */
    CHECK_OK(accept(r, 0, id, t + 11, NOW));
    CHECK_ST(accept(r, 0, id, t + 11, NOW), IMC_ERR_REPLAY);
    make_id(id, 0, 101);
    CHECK_ST(accept(r, 0, id, t + 11, NOW), IMC_ERR_REPLAY);
    CHECK_OK(accept(r, 0, id, t + 12, NOW));
    /* t+11 and t+12 forgot themselves: the window still holds t+20..t+50. */
    for (uint8_t k = 2; k <= 5; k++) {
        make_id(id, 0, k);
        CHECK_ST(accept(r, 0, id, t + 10u * k, NOW), IMC_ERR_REPLAY);
    }
    /* Another sender is untouched by sender 0's floor (P1). */
    make_id(id, 0, 1);
    CHECK_OK(accept(r, 1, id, t + 1, NOW));
    imc_replay_close(r);

    /* Entries older than the maximum age are dropped and raise the floor
     * to themselves: refused by the time rule anyway, and still refused
     * (as replays) if the device clock is set back. */
    const imc_replay_config small = {1000, 0, 8, 4};
    r = open_mem(&small);
    make_id(id, 0, 1);
    CHECK_OK(accept(r, 0, id, 10000, 10000));
    make_id(id, 0, 2);
    CHECK_OK(accept(r, 0, id, 12000, 12000)); /* drops ts 10000: floor 10000 */
    make_id(id, 0, 1);
    CHECK_ST(accept(r, 0, id, 10000, 12000), IMC_ERR_EXPIRED);
    CHECK_ST(accept(r, 0, id, 10000, 10500), IMC_ERR_REPLAY); /* clock set back */
    make_id(id, 0, 3);
    CHECK_OK(accept(r, 0, id, 10001, 10500)); /* above the floor: fresh */
    imc_replay_close(r);
}

/* ---- Attacks on the old shared cache ------------------------------------------- */

/* Nine ids sharing their first four bytes (one bucket of the old cache),
 * timestamped at the edge of the clock skew: they used to evict into one
 * floor shared by everyone and silence the device. Now they only move the
 * attacker's own floor; and then far more than the window. */
static void test_nine_in_one_bucket(void)
{
    imc_replay *r = open_mem(NULL);
    uint8_t id[IMC_MSG_ID_BYTES];
    const uint64_t future = NOW + IMC_MAX_CLOCK_SKEW_MS - 1000;
    for (unsigned k = 0; k < 9; k++) {
        make_id(id, 0x41414141, (uint8_t)k);
        CHECK_OK(accept(r, 1, id, future + k, NOW));
    }
    for (unsigned k = 9; k < IMC_REPLAY_WINDOW + 50; k++) {
        make_id(id, 0x41414141, (uint8_t)k);
        id[4] = (uint8_t)(k >> 8);
        CHECK_OK(accept(r, 1, id, future + k, NOW));
    }
    /* The attacker's own older messages are now below its floor... */
    make_id(id, 0x41414141, 0xEE);
    CHECK_ST(accept(r, 1, id, NOW, NOW), IMC_ERR_REPLAY);
    /* ...but another sender's message, even one delayed by 29 days and
     * sent with the same bucket bytes, goes through. */
    CHECK_OK(accept(r, 0, id, NOW - 29 * DAY_MS, NOW));
    make_id(id, 7, 7);
    CHECK_OK(accept(r, 2, id, NOW - 1, NOW));
    imc_replay_close(r);
}

/* A co-recipient (another sender) reuses the genuine message's id first:
 * the genuine message is still accepted, once. */
static void test_reused_id(void)
{
    imc_replay *r = open_mem(NULL);
    uint8_t id[IMC_MSG_ID_BYTES];
    make_id(id, 0x12345678, 9);
    CHECK_OK(accept(r, 3, id, NOW - 1000, NOW)); /* the co-recipient, first */
    CHECK_OK(accept(r, 0, id, NOW - 2000, NOW)); /* the genuine sender */
    CHECK_ST(accept(r, 0, id, NOW - 2000, NOW), IMC_ERR_REPLAY);
    CHECK_ST(accept(r, 3, id, NOW - 1000, NOW), IMC_ERR_REPLAY);
    /* Same handle, other device; same device id, other handle: other senders. */
    CHECK_OK(accept(r, 1, id, NOW - 2000, NOW));
    CHECK_OK(accept(r, 2, id, NOW - 2000, NOW));
    imc_replay_close(r);
}

/* A genuine delivery through imc_msg_decrypt with a state in dir: accepted,
 * refused after a restart, and 30 days + 1 ms later refused as expired
 * (after a restart, and by a fresh state too). */
static void test_restart_expired(const char *dir)
{
    fx_party p;
    CHECK_OK(fx_party_init(&p, g_b, IMC_SUITE_X25519_ED25519_CHACHA20POLY1305, 1, "alice",
                           SEED, 5));
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 6);
    fx_msg m;
    const uint8_t body[4] = "hey";
    CHECK_OK(fx_send(&m, &p, g_b, &rng, FX_TS, body, sizeof body));
    imc_msg_peer peer = fx_peer(&p);
    uint8_t out[16];
    imc_msg_received info;
    imc_replay *r = NULL;
    CHECK_OK(imc_replay_open(&r, dir, NULL, g_b, NULL));
    CHECK_OK(imc_msg_decrypt(out, sizeof out, &info, g_b, &p.dev[0], &peer, r, FX_TS + 3600000,
                             m.del[0], m.del_len[0]));
    imc_replay_close(r);
    CHECK_OK(imc_replay_open(&r, dir, NULL, g_b, NULL));
    CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, g_b, &p.dev[0], &peer, r, FX_TS + 7200000,
                             m.del[0], m.del_len[0]),
             IMC_ERR_REPLAY);
    CHECK(fx_all(out, sizeof out, 0));
    imc_replay_close(r);
    const uint64_t late = FX_TS + IMC_MAX_MESSAGE_AGE_MS + 1;
    CHECK_OK(imc_replay_open(&r, dir, NULL, g_b, NULL));
    CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, g_b, &p.dev[0], &peer, r, late, m.del[0],
                             m.del_len[0]),
             IMC_ERR_EXPIRED);
    imc_replay_close(r);
    r = open_mem(NULL);
    CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, g_b, &p.dev[0], &peer, r, late, m.del[0],
                             m.del_len[0]),
             IMC_ERR_EXPIRED);
    CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, g_b, &p.dev[0], &peer, NULL, late, m.del[0],
                             m.del_len[0]),
             IMC_ERR_EXPIRED);
    /* Exactly the maximum age is still in time. */
    CHECK_OK(imc_msg_decrypt(out, sizeof out, &info, g_b, &p.dev[0], &peer, r, late - 1,
                             m.del[0], m.del_len[0]));
    imc_replay_close(r);
    fx_msg_free(&m);
    fx_party_free(&p);
}

/* ---- The sender cap (P4) ------------------------------------------------------------ */

static void test_sender_cap(const char *dir)
{
    const imc_replay_config cfg = {DAY_MS, 0, 4, 4};
    imc_replay *r = NULL;
    CHECK_OK(imc_replay_open(&r, dir, &cfg, g_b, NULL));
    uint8_t id[IMC_MSG_ID_BYTES];
    for (unsigned s = 0; s < 4; s++) {
        make_id(id, s, 1);
        CHECK_OK(accept(r, s, id, NOW - 1000, NOW));
    }
    /* Full of live senders: a new one is refused, nothing changes, and the
     * existing ones keep going (P1 for them). */
    make_id(id, 9, 1);
    CHECK_ST(accept(r, 4, id, NOW, NOW), IMC_ERR_LIMIT);
    for (unsigned s = 0; s < 4; s++) {
        make_id(id, s, 2);
        CHECK_OK(accept(r, s, id, NOW - 500, NOW));
    }
    /* A day later, sender 0..3's newest (NOW - 500) is expired: sender 4
     * reclaims one of them. */
    const uint64_t later = NOW + DAY_MS;
    make_id(id, 9, 1);
    CHECK_OK(accept(r, 4, id, later, later));
    CHECK_ST(accept(r, 4, id, later, later), IMC_ERR_REPLAY);
    /* Restart: the reclaim was persisted (sender 4 is in, the table still
     * full of four) and the global floor keeps the forgotten sender's
     * messages out even with the clock set back. */
    imc_replay_close(r);
    CHECK_OK(imc_replay_open(&r, dir, &cfg, g_b, NULL));
    CHECK_ST(accept(r, 4, id, later, later), IMC_ERR_REPLAY);
    for (unsigned s = 0; s < 4; s++) {
        make_id(id, s, 2);
        CHECK_ST(accept(r, s, id, NOW - 500, NOW), IMC_ERR_REPLAY); /* clock set back */
    }
    /* A file with more senders than max_senders allows is refused. */
    imc_replay_close(r);
    const imc_replay_config tiny = {DAY_MS, 0, 3, 4};
    CHECK_ST(imc_replay_open(&r, dir, &tiny, g_b, NULL), IMC_ERR_LIMIT);
    CHECK(r == NULL);
    /* A smaller window keeps each sender's newest and raises its floor. */
    const imc_replay_config narrow = {DAY_MS, 0, 4, 1};
    CHECK_OK(imc_replay_open(&r, dir, &narrow, g_b, NULL));
    make_id(id, 9, 1);
    CHECK_ST(accept(r, 4, id, later, later), IMC_ERR_REPLAY);
    make_id(id, 9, 2);
    CHECK_OK(accept(r, 4, id, later + 1, later));
    imc_replay_close(r);
}

/* ---- Files -------------------------------------------------------------------------- */

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

static void test_files(const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, IMC_REPLAY_FILE);
    imc_replay *r = NULL, *r2 = NULL;
    /* Created with mode 0600; a second open of the same file is refused. */
    CHECK_OK(imc_replay_open(&r, dir, NULL, g_b, NULL));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_ST(imc_replay_open(&r2, dir, NULL, g_b, NULL), IMC_ERR_IO);
    CHECK(r2 == NULL);
    uint8_t id[IMC_MSG_ID_BYTES];
    make_id(id, 1, 1);
    CHECK_OK(accept(r, 0, id, NOW, NOW));
    imc_replay_close(r);
    /* The key is in the file: the same message is still known. */
    CHECK_OK(imc_replay_open(&r, dir, NULL, g_b, NULL));
    CHECK_ST(accept(r, 0, id, NOW, NOW), IMC_ERR_REPLAY);
    imc_replay_close(r);

    /* Truncated at every page boundary and in the middle of the first:
     * refused before mapping (a clear status, never a signal). */
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    static uint8_t copy[1 << 20];
    size_t n = f != NULL ? fread(copy, 1, sizeof copy, f) : 0;
    if (f != NULL)
        fclose(f);
    CHECK(n >= 8192 && n < sizeof copy);
    for (size_t cut = 0; cut < n; cut += cut < 4096 ? 100 : 4096) {
        write_file(path, copy, cut);
        CHECK_ST(imc_replay_open(&r, dir, NULL, g_b, NULL), IMC_ERR_MALFORMED);
    }
    write_file(path, copy, n);
    CHECK_OK(imc_replay_open(&r, dir, NULL, g_b, NULL));
    imc_replay_close(r);
    /* Foreign files: random bytes, and the directory store's LMDB file. */
    for (size_t i = 0; i < 16384; i++)
        copy[i] = (uint8_t)(i * 7919 >> 3);
    write_file(path, copy, 16384);
    CHECK_ST(imc_replay_open(&r, dir, NULL, g_b, NULL), IMC_ERR_MALFORMED);
    unlink(path);
    imc_dir_store s;
    CHECK_OK(imc_dir_store_lmdb_open(&s, path, NULL));
    imc_dir_store_close(&s);
    CHECK_ST(imc_replay_open(&r, dir, NULL, g_b, NULL), IMC_ERR_MALFORMED);
    unlink(path);
    /* A directory where the file should be. */
    CHECK(mkdir(path, 0700) == 0);
    CHECK(imc_replay_open(&r, dir, NULL, g_b, NULL) != IMC_OK);
    rmdir(path);
    snprintf(path, sizeof path, "%s/%s-lock", dir, IMC_REPLAY_FILE);
    unlink(path);
}

/* ---- Property test ---------------------------------------------------------------- */

static uint64_t g_rand = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    g_rand ^= g_rand << 13;
    g_rand ^= g_rand >> 7;
    g_rand ^= g_rand << 17;
    return g_rand;
}

/* ops random messages from `senders` senders (ids from a small shared pool,
 * so senders reuse each other's ids and their own), timestamps around the
 * time rule's edges, a clock that moves forward; every status judged by
 * the model; with a dir, the state is closed and reopened every 97 ops. */
static void property(const char *label, const imc_replay_config *cfg, unsigned senders,
                     size_t ops, const char *dir)
{
    rm_model m;
    rm_init(&m, cfg);
    imc_replay *r = NULL;
    CHECK_OK(imc_replay_open(&r, dir, cfg, g_b, NULL));
    uint64_t now = NOW;
    const uint64_t age = m.cfg.max_age_ms, skew = m.cfg.max_skew_ms;
    size_t bad = 0, restarts = 0;
    for (size_t i = 0; i < ops && r != NULL; i++) {
        uint64_t x = rnd();
        unsigned s = (unsigned)(x % senders);
        uint8_t id[IMC_MSG_ID_BYTES];
        make_id(id, (uint32_t)(x >> 8) % 61, (uint8_t)((x >> 20) % 5));
        uint64_t ts;
        switch ((x >> 32) % 8) {
        case 0: ts = now + skew - (x >> 40) % 3 + 1; break;  /* the skew edge */
        case 1: ts = now - age + (x >> 40) % 3 - 1; break;   /* the age edge */
        case 2: ts = now - (x >> 36) % (age + age / 8); break; /* anywhere */
        default: ts = now - (x >> 36) % 20000; break;         /* recent, jittered */
        }
        sender_id who = sid(s);
        imc_replay_msg msg_ = msg(&who, id, ts);
        imc_status c = imc_replay_check(r, &msg_, now);
        imc_status a = imc_replay_accept(r, &msg_, now);
        const char *why = c != a ? "check and accept disagree" : rm_judge(&m, s, id, ts, now, a);
        if (why != NULL && bad++ < 10)
            fprintf(stderr, "  [%s] op %zu: %s\n", label, i, why);
        /* A replay of something already accepted, now and then. */
        if (a == IMC_OK && x % 5 == 0) {
            a = imc_replay_accept(r, &msg_, now);
            why = rm_judge(&m, s, id, ts, now, a);
            if (why != NULL && bad++ < 10)
                fprintf(stderr, "  [%s] op %zu (replayed): %s\n", label, i, why);
        }
        now += rnd() % 50; /* 30000 ops: about 750 s, more than the age */
        if (dir != NULL && i % 97 == 96) {
            imc_replay_close(r);
            r = NULL;
            CHECK_OK(imc_replay_open(&r, dir, cfg, g_b, NULL));
            restarts++;
        }
    }
    CHECK(bad == 0);
    /* Every accepted message, replayed at the end: never accepted. */
    size_t again = 0;
    for (unsigned s = 0; s < senders && r != NULL; s++) {
        sender_id who = sid(s);
        for (size_t k = 0; k < m.n[s]; k++) {
            imc_replay_msg msg_ = msg(&who, m.acc[s][k].id, m.acc[s][k].ts);
            again += imc_replay_accept(r, &msg_, now) == IMC_OK;
        }
    }
    CHECK(again == 0);
    CHECK(m.accepted > ops / 10 && m.refused > ops / 20); /* both sides exercised */
    printf("  property %s: %zu ops, %llu accepted, %llu refused, %zu restarts, %zu violations\n",
           label, ops, (unsigned long long)m.accepted, (unsigned long long)m.refused, restarts,
           bad);
    imc_replay_close(r);
    rm_free(&m);
}

static void test_property(const char *dir)
{
    /* Many senders, a small window (the floor rule bites), room for all. */
    const imc_replay_config roomy = {600000, 20000, 64, 8};
    property("memory, 40 senders", &roomy, 40, 30000, NULL);
    /* More senders than the table: LIMIT and reclaiming. */
    const imc_replay_config tight = {600000, 20000, 12, 4};
    property("memory, 40 senders, table of 12", &tight, 40, 30000, NULL);
    /* Persisted, with restarts. */
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, IMC_REPLAY_FILE);
    unlink(path);
    property("lmdb, 24 senders, table of 16", &(imc_replay_config){600000, 20000, 16, 4}, 24,
             1500, dir);
    unlink(path);
}

/* ---- Footprint ------------------------------------------------------------------------- */

static void test_footprint(const char *dir)
{
    imc_replay *r = NULL;
    CHECK_OK(imc_replay_open(&r, NULL, NULL, g_b, NULL));
    size_t mem = imc_replay_memory(r);
    imc_replay_close(r);
    printf("  memory, default config (%u senders, window %u): %zu bytes, %.1f per sender\n",
           (unsigned)IMC_REPLAY_MAX_SENDERS, (unsigned)IMC_REPLAY_WINDOW, mem,
           (double)mem / IMC_REPLAY_MAX_SENDERS);
    CHECK(mem > (size_t)IMC_REPLAY_MAX_SENDERS * IMC_REPLAY_WINDOW * 16);

    /* Disk: 256 senders, each with a full window, in one file. */
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, IMC_REPLAY_FILE);
    unlink(path);
    CHECK_OK(imc_replay_open(&r, dir, NULL, g_b, NULL));
    struct stat st0, st1;
    CHECK(stat(path, &st0) == 0);
    const unsigned senders = 256;
    for (unsigned s = 0; s < senders && r != NULL; s++)
        for (unsigned k = 0; k < IMC_REPLAY_WINDOW; k++) {
            uint8_t id[IMC_MSG_ID_BYTES];
            make_id(id, s, (uint8_t)k);
            id[4] = (uint8_t)(k >> 8);
            sender_id who = sid(s);
            imc_replay_msg m = msg(&who, id, NOW - 1000000 + k);
            if (imc_replay_accept(r, &m, NOW) != IMC_OK) {
                CHECK(0);
                s = senders;
                break;
            }
        }
    imc_replay_close(r);
    CHECK(stat(path, &st1) == 0);
    printf("  disk: empty state %lld bytes; %u senders with full windows of %u: %lld bytes, "
           "%.0f per sender\n",
           (long long)st0.st_size, senders, (unsigned)IMC_REPLAY_WINDOW, (long long)st1.st_size,
           (double)(st1.st_size - st0.st_size) / senders);
    CHECK(st1.st_size > st0.st_size);
    unlink(path);
}

int main(void)
{
    g_b = imc_backend_get("sodium");
    if (g_b == NULL)
        g_b = imc_backend_get("openssl");
    CHECK(g_b != NULL);
    if (g_b == NULL)
        return imc_test_end();
    /* Thousands of synchronous commits: on tmpfs when there is one (what
     * is tested here does not depend on the medium; test_replay_kill
     * runs on $TMPDIR). */
    char dir[512];
    if (getenv("TMPDIR") == NULL && access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 0);
    CHECK(fx_tmpdir(dir, sizeof dir));
    test_time_rule();
    test_args();
    test_floor_rule();
    test_nine_in_one_bucket();
    test_reused_id();
    test_restart_expired(dir);
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, IMC_REPLAY_FILE);
    unlink(path);
    test_sender_cap(dir);
    unlink(path);
    test_files(dir);
    test_property(dir);
    test_footprint(dir);
    fx_rmdir(dir);
    return imc_test_end();
}
