/* The fixed world and small helpers shared by the harnesses (fuzz_common.h). */
#include "fuzz_common.h"
#include "imcore/dir.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The fixed seed. Changing it invalidates every committed decrypt/roundtrip
 * corpus entry (scripts/gen-corpus regenerates them). */
static const uint8_t FUZZ_SEED[IMC_RNG_SEED_BYTES] = "imcore fuzz world seed, v1 ....";

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n==imcore-fuzz== invariant broken at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

void fuzz_state_path(char *out, size_t cap, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, cap, "%s/imcore-fuzz-%s-%ld.mdb", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp",
             name, (long)getpid());
}

void fuzz_state_remove(const char *path)
{
    char lock[1024];
    snprintf(lock, sizeof lock, "%s-lock", path);
    (void)remove(path);
    (void)remove(lock);
}

int fuzz_all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

void fuzz_hexdump(const char *label, const uint8_t *p, size_t n)
{
    size_t shown = n < 256 ? n : 256;
    fprintf(stderr, "%s (%zu bytes): ", label, n);
    for (size_t i = 0; i < shown; i++)
        fprintf(stderr, "%02x", p[i]);
    fprintf(stderr, "%s\n", shown < n ? "..." : "");
}

/* ---- Event counters ---------------------------------------------------- */

#define FUZZ_MAX_EVENTS 64
static struct {
    const char *name;
    unsigned long count;
} events[FUZZ_MAX_EVENTS];
static size_t event_count;

static void counts_at_exit(void)
{
    fprintf(stderr, "imcore fuzz events:\n");
    fuzz_counts_print();
}

void fuzz_count(const char *event)
{
    static bool checked_env;
    if (!checked_env) {
        checked_env = true;
        const char *e = getenv("IMC_FUZZ_COUNTS");
        if (e != NULL && strcmp(e, "1") == 0)
            atexit(counts_at_exit);
    }
    for (size_t i = 0; i < event_count; i++) {
        if (events[i].name == event || strcmp(events[i].name, event) == 0) {
            events[i].count++;
            return;
        }
    }
    if (event_count < FUZZ_MAX_EVENTS) {
        events[event_count].name = event;
        events[event_count].count = 1;
        event_count++;
    }
}

static int event_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a;
    const char *y = *(const char *const *)b;
    return strcmp(x, y);
}

void fuzz_counts_print(void)
{
    const char *names[FUZZ_MAX_EVENTS];
    for (size_t i = 0; i < event_count; i++)
        names[i] = events[i].name;
    qsort(names, event_count, sizeof names[0], event_cmp);
    for (size_t i = 0; i < event_count; i++)
        for (size_t j = 0; j < event_count; j++)
            if (events[j].name == names[i])
                fprintf(stderr, "  %-32s %lu\n", names[i], events[j].count);
}

#ifdef IMC_FUZZ_CUSTOM_MUTATOR
#if defined(__has_feature)
#if __has_feature(memory_sanitizer)
#include <sanitizer/msan_interface.h>
#define IMC_FUZZ_MSAN 1
#endif
#endif
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t fuzz_libfuzzer_bytes(uint8_t *data, size_t size, size_t max_size, void *ctx);
size_t fuzz_libfuzzer_bytes(uint8_t *data, size_t size, size_t max_size, void *ctx)
{
    (void)ctx;
    size_t n = LLVMFuzzerMutate(data, size, max_size);
#ifdef IMC_FUZZ_MSAN
    /* libFuzzer is not instrumented: bytes it copies in from its own
     * buffers (dictionary entries, cross-over parts) keep the shadow of
     * memory MSan never saw written, and the structure-aware mutators
     * encrypt and sign them. They are input bytes: defined. */
    __msan_unpoison(data, n);
#endif
    return n;
}
#endif

bool fuzz_plain_mutator(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("IMC_FUZZ_PLAIN_MUTATOR");
        v = e != NULL && strcmp(e, "1") == 0;
    }
    return v != 0;
}

/* ---- The fixed world --------------------------------------------------- */

void fuzz_rng(imc_rng *rng, uint64_t stream) { imc_rng_init_deterministic(rng, FUZZ_SEED, stream); }

imc_replay *fuzz_replay_open(void)
{
    const imc_replay_config cfg = {0, 0, 4, 4};
    imc_rng rng;
    imc_replay *r = NULL;
    fuzz_rng(&rng, UINT64_C(0x4e9a7000));
    imc_status st = imc_replay_open(&r, NULL, &cfg, NULL, &rng);
    FUZZ_CHECK(st == IMC_OK, "replay state: %s", imc_status_str(st));
    return r;
}

static fuzz_world world;
static bool world_ready;

const imc_backend *fuzz_backend_for(uint32_t suite)
{
    return fuzz_backend_pick(suite, 0, NULL);
}

const imc_backend *fuzz_backend_pick(uint32_t suite, unsigned sel, const imc_backend *not_this)
{
    const fuzz_world *w = fuzz_world_get();
    const imc_suite *s = imc_suite_get(suite);
    const imc_backend *ok[FUZZ_MAX_BACKENDS];
    size_t n = 0;
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < w->n_backends; i++)
        if (w->backends[i] != not_this && imc_suite_supported(s, w->backends[i]))
            ok[n++] = w->backends[i];
    return n > 0 ? ok[sel % n] : NULL;
}

/* The library's tables the harnesses print and parse names from: every
 * status has its own message (an unknown value a generic one), and every
 * suite is found by its name, short name and decimal id, nothing else. */
static void tables_check(void)
{
    const char *unknown = imc_status_str(IMC_STATUS_COUNT_);
    for (int i = 0; i < IMC_STATUS_COUNT_; i++) {
        const char *m = imc_status_str((imc_status)i);
        FUZZ_CHECK(m != NULL && strcmp(m, unknown) != 0, "status %d has no message", i);
        for (int j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(m, imc_status_str((imc_status)j)) != 0,
                       "statuses %d and %d share the message '%s'", j, i, m);
    }
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
        const imc_suite *su = imc_suite_get(id);
        char digit[2] = {(char)('0' + id), 0};
        FUZZ_CHECK(su != NULL && (uint32_t)su->id == id && imc_suite_find(su->name) == su &&
                       imc_suite_find(su->short_name) == su && imc_suite_find(digit) == su,
                   "suite %u is not found by its names and id", (unsigned)id);
    }
    static const char *const not_suites[] = {"", "0", "10", "x", "X25519"};
    for (size_t i = 0; i < sizeof not_suites / sizeof not_suites[0]; i++)
        FUZZ_CHECK(imc_suite_find(not_suites[i]) == NULL, "'%s' found as a suite",
                   not_suites[i]);
    FUZZ_CHECK(imc_suite_get(0) == NULL && imc_suite_get(IMC_SUITE_COUNT + 1) == NULL &&
                   imc_suite_find(NULL) == NULL,
               "a suite outside 1..%d", IMC_SUITE_COUNT);
}

static void world_build(void)
{
    tables_check();
    size_t count = 0;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count && world.n_backends < FUZZ_MAX_BACKENDS; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        if (b != NULL)
            world.backends[world.n_backends++] = b;
    }
    world_ready = true; /* fuzz_backend_for() below calls back into us */
    for (uint32_t s = 1; s <= IMC_SUITE_COUNT; s++) {
        const imc_backend *b = fuzz_backend_for(s);
        if (b == NULL)
            continue;
        imc_rng rng;
        fuzz_rng(&rng, ((uint64_t)s << 8) | 0xff);
        imc_status st = imc_keys_generate(&world.sender[s], b, &rng, s, FUZZ_SENDER_DEVICE);
        FUZZ_CHECK(st == IMC_OK, "sender keygen suite %u: %s", (unsigned)s, imc_status_str(st));
        for (unsigned i = 0; i < FUZZ_DEVICES; i++) {
            fuzz_rng(&rng, ((uint64_t)s << 8) | i);
            st = imc_keys_generate(&world.device[s][i], b, &rng, s, FUZZ_DEVICE_BASE + i);
            FUZZ_CHECK(st == IMC_OK, "device keygen suite %u: %s", (unsigned)s,
                       imc_status_str(st));
        }
        world.have_suite[s] = true;
    }
}

const fuzz_world *fuzz_world_get(void)
{
    if (!world_ready)
        world_build();
    return &world;
}

static const size_t SENT_BODY_LENS[FUZZ_SENT_MESSAGES] = {0,   1,   15,  16,   17,   64,
                                                          100, 255, 256, 1000, 1500, 2048};

void fuzz_sent_plan(fuzz_sent *m, uint32_t suite, unsigned k)
{
    memset(m, 0, sizeof *m);
    k %= FUZZ_SENT_MESSAGES;
    m->body_len = SENT_BODY_LENS[k];
    for (size_t i = 0; i < m->body_len; i++)
        m->body[i] = (uint8_t)("The quick brown fox jumps over the lazy dog. "[i % 45] + k);
    m->recipient_count = 1 + (k % FUZZ_DEVICES);
    m->timestamp_ms = FUZZ_TS_BASE + (uint64_t)k * 1000 + suite;
    m->rng_stream = UINT64_C(0x100000) + ((uint64_t)suite << 8) + k;
}

imc_msg_peer fuzz_sender_peer(uint32_t suite)
{
    const fuzz_world *w = fuzz_world_get();
    imc_msg_peer p;
    p.handle = (const uint8_t *)FUZZ_SENDER_HANDLE;
    p.handle_len = sizeof FUZZ_SENDER_HANDLE - 1;
    p.device = suite >= 1 && suite <= IMC_SUITE_COUNT ? &w->sender[suite].pub : NULL;
    return p;
}

imc_status fuzz_sent_encrypt(uint8_t *out, size_t out_cap, size_t *out_len,
                             const imc_backend *b, uint32_t suite, unsigned k)
{
    const fuzz_world *w = fuzz_world_get();
    if (suite < 1 || suite > IMC_SUITE_COUNT || !w->have_suite[suite])
        return IMC_ERR_UNSUPPORTED;
    fuzz_sent m;
    fuzz_sent_plan(&m, suite, k);
    imc_device_public rcpt[FUZZ_DEVICES];
    for (size_t i = 0; i < m.recipient_count; i++)
        rcpt[i] = w->device[suite][i].pub;
    imc_msg_send req;
    memset(&req, 0, sizeof req);
    req.sender_handle = (const uint8_t *)FUZZ_SENDER_HANDLE;
    req.sender_handle_len = sizeof FUZZ_SENDER_HANDLE - 1;
    req.sender = &w->sender[suite];
    req.recipients = rcpt;
    req.recipient_count = m.recipient_count;
    req.timestamp_ms = m.timestamp_ms;
    req.body = m.body;
    req.body_len = m.body_len;
    imc_rng rng;
    fuzz_rng(&rng, m.rng_stream);
    return imc_msg_encrypt(out, out_cap, out_len, b, &rng, &req);
}

/* ---- The fixed key directory ------------------------------------------- */

void fuzz_dir_key(uint8_t pk[32], uint8_t sk[32])
{
    imc_rng rng;
    fuzz_rng(&rng, FUZZ_DIR_KEY_STREAM);
    imc_status st = imc_crypto_ed25519_keygen(fuzz_backend_for(1), &rng, pk, sk);
    FUZZ_CHECK(st == IMC_OK, "directory keygen: %s", imc_status_str(st));
}

static const char *const DIR_HANDLES[FUZZ_DIR_HANDLES] = {
    "alice@example.org", "bob@example.org", "+14155550100"};

const uint8_t *fuzz_dir_handle(unsigned h, size_t *len)
{
    const char *s = DIR_HANDLES[h % FUZZ_DIR_HANDLES];
    *len = strlen(s);
    return (const uint8_t *)s;
}

const imc_device_keys *fuzz_dir_device(unsigned h, unsigned s, unsigned g)
{
    static imc_device_keys keys[FUZZ_DIR_HANDLES][FUZZ_DIR_SLOTS][FUZZ_DIR_GENS];
    static bool made;
    if (!made) {
        const imc_backend *b = fuzz_backend_for(1);
        for (unsigned i = 0; i < FUZZ_DIR_HANDLES; i++)
            for (unsigned j = 0; j < FUZZ_DIR_SLOTS; j++)
                for (unsigned k = 0; k < FUZZ_DIR_GENS; k++) {
                    imc_rng rng;
                    fuzz_rng(&rng, UINT64_C(0xd0000) + (i << 8) + (j << 4) + k);
                    imc_status st = imc_keys_generate(&keys[i][j][k], b, &rng, 1,
                                                      ((uint64_t)(i + 1) << 8) | (j + 1));
                    FUZZ_CHECK(st == IMC_OK, "directory device keygen: %s",
                               imc_status_str(st));
                }
        made = true;
    }
    return &keys[h % FUZZ_DIR_HANDLES][s % FUZZ_DIR_SLOTS][g % FUZZ_DIR_GENS];
}

void fuzz_dir_account(unsigned h, unsigned g, uint8_t pk[32], uint8_t sk[32])
{
    imc_rng rng;
    fuzz_rng(&rng, UINT64_C(0xacc00) + ((h % FUZZ_DIR_HANDLES) << 4) + g % FUZZ_DIR_GENS);
    imc_status st = imc_dir_account_keygen(fuzz_backend_for(1), &rng, pk, sk);
    FUZZ_CHECK(st == IMC_OK, "account keygen: %s", imc_status_str(st));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    (void)fuzz_world_get();
    uint8_t pk[32], sk[32];
    fuzz_dir_key(pk, sk);
    (void)fuzz_dir_device(0, 0, 0);
    return 0;
}

/* ---- Structured input -------------------------------------------------- */

uint8_t fuzz_u8(fuzz_input *in)
{
    if (in->n == 0)
        return 0;
    uint8_t v = in->p[0];
    in->p++;
    in->n--;
    return v;
}

/* Big-endian; each byte read in its own statement (argument order is
 * unspecified in C). */
uint16_t fuzz_u16(fuzz_input *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)((hi << 8) | fuzz_u8(in));
}

uint32_t fuzz_u32(fuzz_input *in)
{
    uint32_t hi = fuzz_u16(in);
    return (hi << 16) | fuzz_u16(in);
}

uint64_t fuzz_u64(fuzz_input *in)
{
    uint64_t hi = fuzz_u32(in);
    return (hi << 32) | fuzz_u32(in);
}

const uint8_t *fuzz_bytes(fuzz_input *in, size_t n, size_t *got)
{
    if (n > in->n)
        n = in->n;
    const uint8_t *p = in->p;
    in->p += n;
    in->n -= n;
    *got = n;
    return p;
}

void fuzz_copy(fuzz_input *in, uint8_t *out, size_t n)
{
    size_t got = 0;
    const uint8_t *p = fuzz_bytes(in, n, &got);
    if (got > 0)
        memcpy(out, p, got);
    if (got < n)
        memset(out + got, 0, n - got);
}
