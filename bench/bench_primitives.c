/* The primitive floor: every imcore/crypto.h primitive on every backend
 * that is compiled in, initialises and has the capability on this CPU.
 *
 * Names: prim/<backend>/<primitive>[/<size>][/ad:<n>|/info:<n>], e.g.
 * prim/openssl/aead-seal/chacha20poly1305/1024/ad:134. Two kinds:
 *
 *   - the generic floor: DH, keygen, sign and verify of 64
 *     bytes, AEAD at 64 B / 1 KiB / 16 KiB without AD, hashes, HKDF;
 *   - the exact calls the message paths make (docs/wire-format.md), per
 *     suite the backend supports: sign/verify of the signature input,
 *     SHA-256 of each body ciphertext, the wrap HKDF (32 bytes out, its
 *     info length), the content HKDF (64 out, 33 of info), the wrap AEAD (32
 *     bytes, no AD) and the body AEAD (each body size, with the body AD).
 *     The core paths' overhead ratio divides by sums of these.
 *
 * Keys come from the deterministic RNG, so every run measures the same key
 * sequence. Verification cycles through 64 distinct signatures, as a
 * receiver does (it is variable-time: one signature repeated would let the
 * branch predictor learn it). Every status is checked; a failure ends the run with
 * imc_bench_skip(). Each run also notes its CPU time per operation in the
 * floor store below, for the core paths' in-process overhead counter. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benches.h"
#include "imc_bench.h"
#include "imcore/backend.h"
#include "imcore/crypto.h"
#include "imcore/rng.h"
#include "imcore/status.h"
#include "imcore/suite.h"
#include "imcore/util.h"

#define GENERIC_MSG_BYTES 64 /* signed, hashed and MACed message size */
#define GENERIC_HKDF_INFO 20 /* "imcore device key v1" */
#define NAME_BYTES 112

static const uint8_t bench_seed[IMC_RNG_SEED_BYTES] = "imcore benchmark seed, fixed...";

const size_t imc_bench_body_sizes[IMC_BENCH_BODY_COUNT] = {64, 1024, 16384};
const size_t imc_bench_fanouts[IMC_BENCH_FANOUT_COUNT] = {1, 2, 4, 8, 32, 128, 1024};

/* ---- The floor store ----------------------------------------------------- */

#define FLOOR_MAX 1024
#define FLOOR_SAMPLES 64

typedef struct floor_entry {
    char name[NAME_BYTES];
    int count;
    int64_t iters[FLOOR_SAMPLES];
    double ns[FLOOR_SAMPLES];
} floor_entry;

static floor_entry *floor_table; /* FLOOR_MAX entries, allocated on first note */
static size_t floor_used;
static pthread_mutex_t floor_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t imc_bench_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static floor_entry *floor_find(const char *name)
{
    for (size_t i = 0; i < floor_used; i++)
        if (strcmp(floor_table[i].name, name) == 0)
            return &floor_table[i];
    return NULL;
}

void imc_bench_floor_note(const char *name, int64_t iterations, double ns_per_op)
{
    if (name == NULL || iterations <= 0 || !(ns_per_op > 0))
        return;
    pthread_mutex_lock(&floor_lock);
    if (floor_table == NULL)
        floor_table = calloc(FLOOR_MAX, sizeof *floor_table);
    floor_entry *e = floor_table != NULL ? floor_find(name) : NULL;
    if (e == NULL && floor_table != NULL && floor_used < FLOOR_MAX &&
        strlen(name) < sizeof e->name) {
        e = &floor_table[floor_used++];
        memcpy(e->name, name, strlen(name) + 1);
    }
    if (e != NULL) {
        /* Oldest sample out when full: the latest runs are the final ones. */
        if (e->count == FLOOR_SAMPLES) {
            memmove(e->iters, e->iters + 1, (FLOOR_SAMPLES - 1) * sizeof e->iters[0]);
            memmove(e->ns, e->ns + 1, (FLOOR_SAMPLES - 1) * sizeof e->ns[0]);
            e->count--;
        }
        e->iters[e->count] = iterations;
        e->ns[e->count] = ns_per_op;
        e->count++;
    }
    pthread_mutex_unlock(&floor_lock);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double imc_bench_floor_ns(const char *name)
{
    double v[FLOOR_SAMPLES];
    int n = 0;
    double r = -1;
    pthread_mutex_lock(&floor_lock);
    const floor_entry *e = floor_table != NULL && name != NULL ? floor_find(name) : NULL;
    if (e != NULL) {
        int64_t most = 0;
        for (int i = 0; i < e->count; i++)
            most = e->iters[i] > most ? e->iters[i] : most;
        for (int i = 0; i < e->count; i++)
            if (e->iters[i] == most)
                v[n++] = e->ns[i];
    }
    pthread_mutex_unlock(&floor_lock);
    if (n > 0) {
        qsort(v, (size_t)n, sizeof v[0], cmp_double);
        r = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    return r;
}

/* ---- Benchmark arguments and helpers -------------------------------------- */

/* What each benchmark gets (copied into its registration). */
typedef struct prim_arg {
    char name[NAME_BYTES]; /* the registered name, for the floor store */
    const imc_backend *b;
    imc_aead aead;
    size_t len;  /* message, plaintext or output length */
    size_t aux;  /* AEAD: AD length; HKDF: info length; DH, sign, verify: 1 = prepared key */
} prim_arg;

/* True if s is IMC_OK; otherwise reports the failure and ends the run. */
static bool ok(imc_bench_state *st, const char *what, imc_status s)
{
    char msg[128];
    if (s == IMC_OK)
        return true;
    snprintf(msg, sizeof(msg), "%s: %s", what, imc_status_str(s));
    imc_bench_skip(st, msg);
    return false;
}

/* Fresh deterministic generator: stream 0 for keys under test, others for
 * fixed inputs. */
static void rng_init(imc_rng *rng, uint64_t stream)
{
    imc_rng_init_deterministic(rng, bench_seed, stream);
}

static bool fill(imc_bench_state *st, const prim_arg *a, uint64_t stream, uint8_t *out,
                 size_t len)
{
    imc_rng rng;
    rng_init(&rng, stream);
    bool r = ok(st, "rng", imc_rng_fill(&rng, a->b, out, len));
    imc_rng_wipe(&rng);
    return r;
}

/* malloc that reports failure through the run; never returns a zero-size
 * request as NULL. */
static uint8_t *alloc(imc_bench_state *st, size_t len)
{
    uint8_t *p = malloc(len != 0 ? len : 1);
    if (p == NULL)
        imc_bench_skip(st, "out of memory");
    return p;
}

/* After the loop: the run's CPU time per operation into the floor store
 * (t0 was read just before the loop). */
static void note(imc_bench_state *st, const prim_arg *a, int64_t t0)
{
    int64_t t1 = imc_bench_cpu_ns();
    int64_t n = imc_bench_iterations(st);
    if (!imc_bench_error_occurred(st) && n > 0)
        imc_bench_floor_note(a->name, n, (double)(t1 - t0) / (double)n);
}

static void per_op(imc_bench_state *st)
{
    imc_bench_set_items_processed(st, imc_bench_iterations(st));
}

/* A key pair and VERIFY_POOL distinct messages of a->len bytes (returned,
 * back to back) with their signatures, Ed25519 or ECDSA P-256 (the
 * signature sizes are equal). NULL after a reported failure. */
#define VERIFY_POOL IMC_BENCH_RECEIVE_POOL_MAX
#define SIG_BYTES 64
_Static_assert(IMC_ED25519_SIGNATURE_BYTES == SIG_BYTES &&
                   IMC_ECDSA_P256_SIGNATURE_BYTES == SIG_BYTES,
               "one signature buffer size for both schemes");
static uint8_t *verify_pool_setup(imc_bench_state *st, const prim_arg *a, bool ecdsa,
                                  uint8_t *pk, uint8_t *sk, uint8_t sig[][SIG_BYTES])
{
    uint8_t *msg = alloc(st, a->len * VERIFY_POOL);
    if (msg == NULL)
        return NULL;
    imc_rng rng;
    rng_init(&rng, 0);
    bool r = ok(st, "keygen",
                ecdsa ? imc_crypto_p256_keygen(a->b, &rng, pk, sk)
                      : imc_crypto_ed25519_keygen(a->b, &rng, pk, sk)) &&
             fill(st, a, 1, msg, a->len * VERIFY_POOL);
    for (size_t i = 0; r && i < VERIFY_POOL; i++) {
        const uint8_t *m = msg + i * a->len;
        r = ok(st, "sign",
               ecdsa ? imc_crypto_ecdsa_p256_sign(a->b, sig[i], sk, m, a->len)
                     : imc_crypto_ed25519_sign(a->b, sig[i], sk, pk, m, a->len));
    }
    imc_rng_wipe(&rng);
    if (!r) {
        free(msg);
        return NULL;
    }
    return msg;
}

/* ---- X25519 -------------------------------------------------------------- */

static void bm_x25519_keygen(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_X25519_PUBLIC_BYTES], sk[IMC_X25519_SECRET_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    int64_t t0 = imc_bench_cpu_ns();
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "x25519 keygen", imc_crypto_x25519_keygen(a->b, &rng, pk, sk)))
            break;
    }
    note(st, a, t0);
    per_op(st);
    imc_rng_wipe(&rng);
}

/* DH cycles through DH_POOL distinct key pairs (secret i with public i+1),
 * as the paths meet a new ephemeral key in every message: some libraries
 * cache work per point (wolfSSL's fixed-point cache) or take key-dependent
 * time (libgcrypt), so one key pair repeated would measure one key's cost,
 * not the average a path pays. */
#define DH_POOL IMC_BENCH_RECEIVE_POOL_MAX

static void bm_x25519_derive(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[DH_POOL][IMC_X25519_PUBLIC_BYTES], sk[DH_POOL][IMC_X25519_SECRET_BYTES];
    uint8_t shared[IMC_X25519_SHARED_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    /* The prepared variant (aux) imports every secret of the pool once. */
    imc_prepared_key *k[DH_POOL] = {NULL};
    bool ready = true;
    for (size_t i = 0; ready && i < DH_POOL; i++)
        ready = ok(st, "x25519 keygen", imc_crypto_x25519_keygen(a->b, &rng, pk[i], sk[i])) &&
                (!a->aux || ok(st, "prepare", imc_crypto_key_prepare(&k[i], a->b, IMC_KEY_X25519_SECRET,
                                                                     sk[i], sizeof sk[i])));
    imc_rng_wipe(&rng);
    size_t i = 0;
    int64_t t0 = imc_bench_cpu_ns();
    while (ready && imc_bench_keep_running(st)) {
        size_t j = i + 1 == DH_POOL ? 0 : i + 1;
        imc_status r = a->aux ? imc_crypto_x25519_prepared(a->b, shared, k[i], pk[j])
                              : imc_crypto_x25519(a->b, shared, sk[i], pk[j]);
        if (!ok(st, "x25519", r))
            break;
        i = j;
    }
    if (ready) {
        note(st, a, t0);
        per_op(st);
    }
    for (size_t n = 0; n < DH_POOL; n++)
        imc_crypto_key_free(k[n]);
    imc_wipe(sk, sizeof sk);
}

/* ---- Ed25519 ------------------------------------------------------------- */

static void bm_ed25519_keygen(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES], sk[IMC_ED25519_SECRET_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    int64_t t0 = imc_bench_cpu_ns();
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "ed25519 keygen", imc_crypto_ed25519_keygen(a->b, &rng, pk, sk)))
            break;
    }
    note(st, a, t0);
    per_op(st);
    imc_rng_wipe(&rng);
}

/* Key pair, a->len bytes of message and (for verify) a valid signature. */
static uint8_t *ed25519_setup(imc_bench_state *st, const prim_arg *a,
                              uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                              uint8_t sk[IMC_ED25519_SECRET_BYTES],
                              uint8_t sig[IMC_ED25519_SIGNATURE_BYTES])
{
    uint8_t *msg = alloc(st, a->len);
    if (msg == NULL)
        return NULL;
    imc_rng rng;
    rng_init(&rng, 0);
    bool r = ok(st, "ed25519 keygen", imc_crypto_ed25519_keygen(a->b, &rng, pk, sk)) &&
             fill(st, a, 1, msg, a->len) &&
             ok(st, "ed25519 sign", imc_crypto_ed25519_sign(a->b, sig, sk, pk, msg, a->len));
    imc_rng_wipe(&rng);
    if (!r) {
        free(msg);
        return NULL;
    }
    return msg;
}

static void bm_ed25519_sign(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES], sk[IMC_ED25519_SECRET_BYTES];
    uint8_t sig[IMC_ED25519_SIGNATURE_BYTES];
    uint8_t pair[IMC_ED25519_SECRET_BYTES + IMC_ED25519_PUBLIC_BYTES];
    imc_prepared_key *k = NULL;
    uint8_t *msg = ed25519_setup(st, a, pk, sk, sig);
    if (msg == NULL)
        return;
    memcpy(pair, sk, sizeof sk);
    memcpy(pair + sizeof sk, pk, sizeof pk);
    bool ready = !a->aux || ok(st, "prepare", imc_crypto_key_prepare(&k, a->b,
                                                                     IMC_KEY_ED25519_SECRET,
                                                                     pair, sizeof pair));
    imc_wipe(pair, sizeof pair);
    int64_t t0 = imc_bench_cpu_ns();
    while (ready && imc_bench_keep_running(st)) {
        imc_status r = k != NULL ? imc_crypto_ed25519_sign_prepared(a->b, sig, k, msg, a->len)
                                 : imc_crypto_ed25519_sign(a->b, sig, sk, pk, msg, a->len);
        if (!ok(st, "ed25519 sign", r))
            break;
    }
    if (ready) {
        note(st, a, t0);
        per_op(st);
    }
    imc_crypto_key_free(k);
    free(msg);
}

/* Verification is variable-time: with one signature checked over and over
 * the branch predictor learns its exact path, which a receiver checking a
 * new signature per message never sees (3-4 % faster with libsodium). So
 * verify cycles through VERIFY_POOL distinct messages and signatures. */
static void bm_ed25519_verify(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES], sk[IMC_ED25519_SECRET_BYTES];
    uint8_t sig[VERIFY_POOL][IMC_ED25519_SIGNATURE_BYTES];
    imc_prepared_key *k = NULL;
    uint8_t *msg = verify_pool_setup(st, a, false, pk, sk, sig);
    if (msg == NULL)
        return;
    /* The prepared variant (aux) imports the public key once. */
    bool ready = !a->aux || ok(st, "prepare", imc_crypto_key_prepare(&k, a->b,
                                                                     IMC_KEY_ED25519_PUBLIC, pk,
                                                                     sizeof pk));
    size_t i = 0;
    int64_t t0 = imc_bench_cpu_ns();
    while (ready && imc_bench_keep_running(st)) {
        const uint8_t *m = msg + i * a->len;
        imc_status r = k != NULL ? imc_crypto_ed25519_verify_prepared(a->b, sig[i], k, m, a->len)
                                 : imc_crypto_ed25519_verify(a->b, sig[i], pk, m, a->len);
        if (!ok(st, "ed25519 verify", r))
            break;
        i = (i + 1) % VERIFY_POOL;
    }
    if (ready) {
        note(st, a, t0);
        per_op(st);
    }
    imc_crypto_key_free(k);
    free(msg);
}

/* ---- P-256 --------------------------------------------------------------- */

static void bm_p256_keygen(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_P256_PUBLIC_BYTES], sk[IMC_P256_SECRET_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    int64_t t0 = imc_bench_cpu_ns();
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "p256 keygen", imc_crypto_p256_keygen(a->b, &rng, pk, sk)))
            break;
    }
    note(st, a, t0);
    per_op(st);
    imc_rng_wipe(&rng);
}

static void bm_p256_ecdh(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[DH_POOL][IMC_P256_PUBLIC_BYTES], sk[DH_POOL][IMC_P256_SECRET_BYTES];
    uint8_t shared[IMC_P256_SHARED_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    /* The prepared variant (aux) imports every secret of the pool once. */
    imc_prepared_key *k[DH_POOL] = {NULL};
    bool ready = true;
    for (size_t i = 0; ready && i < DH_POOL; i++)
        ready = ok(st, "p256 keygen", imc_crypto_p256_keygen(a->b, &rng, pk[i], sk[i])) &&
                (!a->aux || ok(st, "prepare", imc_crypto_key_prepare(&k[i], a->b, IMC_KEY_P256_SECRET,
                                                                     sk[i], sizeof sk[i])));
    imc_rng_wipe(&rng);
    size_t i = 0;
    int64_t t0 = imc_bench_cpu_ns();
    while (ready && imc_bench_keep_running(st)) {
        size_t j = i + 1 == DH_POOL ? 0 : i + 1;
        imc_status r = a->aux ? imc_crypto_p256_ecdh_prepared(a->b, shared, k[i], pk[j])
                              : imc_crypto_p256_ecdh(a->b, shared, sk[i], pk[j]);
        if (!ok(st, "p256 ecdh", r))
            break;
        i = j;
    }
    if (ready) {
        note(st, a, t0);
        per_op(st);
    }
    for (size_t n = 0; n < DH_POOL; n++)
        imc_crypto_key_free(k[n]);
    imc_wipe(sk, sizeof sk);
}

/* Importing an own DH secret into a prepared key and freeing it, as
 * encrypt does once per message for more than one device; cycles through
 * the DH pool's secrets. */
static void bm_dh_prepare(imc_bench_state *st, const prim_arg *a, imc_key_kind kind)
{
    _Static_assert(IMC_X25519_SECRET_BYTES == IMC_P256_SECRET_BYTES, "one pool for both");
    uint8_t sk[DH_POOL][IMC_X25519_SECRET_BYTES], pk[IMC_P256_PUBLIC_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    bool ready = true;
    for (size_t i = 0; ready && i < DH_POOL; i++)
        ready = ok(st, "keygen",
                   kind == IMC_KEY_X25519_SECRET
                       ? imc_crypto_x25519_keygen(a->b, &rng, pk, sk[i])
                       : imc_crypto_p256_keygen(a->b, &rng, pk, sk[i]));
    imc_rng_wipe(&rng);
    size_t i = 0;
    int64_t t0 = imc_bench_cpu_ns();
    while (ready && imc_bench_keep_running(st)) {
        imc_prepared_key *k = NULL;
        if (!ok(st, "prepare", imc_crypto_key_prepare(&k, a->b, kind, sk[i], sizeof sk[i])))
            break;
        imc_crypto_key_free(k);
        i = i + 1 == DH_POOL ? 0 : i + 1;
    }
    if (ready) {
        note(st, a, t0);
        per_op(st);
    }
    imc_wipe(sk, sizeof sk);
}

static void bm_x25519_prepare(imc_bench_state *st, void *arg)
{
    bm_dh_prepare(st, arg, IMC_KEY_X25519_SECRET);
}

static void bm_p256_prepare(imc_bench_state *st, void *arg)
{
    bm_dh_prepare(st, arg, IMC_KEY_P256_SECRET);
}

static uint8_t *ecdsa_setup(imc_bench_state *st, const prim_arg *a,
                            uint8_t pk[IMC_P256_PUBLIC_BYTES], uint8_t sk[IMC_P256_SECRET_BYTES],
                            uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES])
{
    uint8_t *msg = alloc(st, a->len);
    if (msg == NULL)
        return NULL;
    imc_rng rng;
    rng_init(&rng, 0);
    bool r = ok(st, "p256 keygen", imc_crypto_p256_keygen(a->b, &rng, pk, sk)) &&
             fill(st, a, 1, msg, a->len) &&
             ok(st, "ecdsa sign", imc_crypto_ecdsa_p256_sign(a->b, sig, sk, msg, a->len));
    imc_rng_wipe(&rng);
    if (!r) {
        free(msg);
        return NULL;
    }
    return msg;
}

static void bm_ecdsa_sign(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_P256_PUBLIC_BYTES], sk[IMC_P256_SECRET_BYTES];
    uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES];
    imc_prepared_key *k = NULL;
    uint8_t *msg = ecdsa_setup(st, a, pk, sk, sig);
    if (msg == NULL)
        return;
    bool ready = !a->aux || ok(st, "prepare", imc_crypto_key_prepare(&k, a->b,
                                                                     IMC_KEY_P256_SECRET, sk,
                                                                     sizeof sk));
    int64_t t0 = imc_bench_cpu_ns();
    while (ready && imc_bench_keep_running(st)) {
        imc_status r = k != NULL ? imc_crypto_ecdsa_p256_sign_prepared(a->b, sig, k, msg, a->len)
                                 : imc_crypto_ecdsa_p256_sign(a->b, sig, sk, msg, a->len);
        if (!ok(st, "ecdsa sign", r))
            break;
    }
    if (ready) {
        note(st, a, t0);
        per_op(st);
    }
    imc_crypto_key_free(k);
    free(msg);
}

/* Variable-time too: a pool of signatures, as for Ed25519. */
static void bm_ecdsa_verify(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_P256_PUBLIC_BYTES], sk[IMC_P256_SECRET_BYTES];
    uint8_t sig[VERIFY_POOL][IMC_ECDSA_P256_SIGNATURE_BYTES];
    imc_prepared_key *k = NULL;
    uint8_t *msg = verify_pool_setup(st, a, true, pk, sk, sig);
    if (msg == NULL)
        return;
    bool ready = !a->aux || ok(st, "prepare", imc_crypto_key_prepare(&k, a->b,
                                                                     IMC_KEY_P256_PUBLIC, pk,
                                                                     sizeof pk));
    size_t i = 0;
    int64_t t0 = imc_bench_cpu_ns();
    while (ready && imc_bench_keep_running(st)) {
        const uint8_t *m = msg + i * a->len;
        imc_status r = k != NULL ? imc_crypto_ecdsa_p256_verify_prepared(a->b, sig[i], k, m, a->len)
                                 : imc_crypto_ecdsa_p256_verify(a->b, sig[i], pk, m, a->len);
        if (!ok(st, "ecdsa verify", r))
            break;
        i = (i + 1) % VERIFY_POOL;
    }
    if (ready) {
        note(st, a, t0);
        per_op(st);
    }
    imc_crypto_key_free(k);
    free(msg);
}

/* ---- AEAD ---------------------------------------------------------------- */

/* Key, nonce, a->aux bytes of AD, plaintext of a->len bytes in `pt`, its
 * sealing in `ct`. The nonce repeats across iterations: harmless here, and
 * a counter would add work the real path does not do per call. */
typedef struct aead_bufs {
    uint8_t key[IMC_AEAD_KEY_BYTES];
    uint8_t nonce[IMC_AEAD_NONCE_BYTES];
    uint8_t *ad;  /* a->aux bytes */
    uint8_t *pt;  /* a->len bytes */
    uint8_t *ct;  /* a->len + tag */
    uint8_t *out; /* a->len + tag */
} aead_bufs;

static void aead_free(aead_bufs *x)
{
    free(x->ad);
    free(x->pt);
    free(x->ct);
    free(x->out);
}

static bool aead_setup(imc_bench_state *st, const prim_arg *a, aead_bufs *x)
{
    size_t cap = a->len + IMC_AEAD_TAG_BYTES;
    x->ad = malloc(a->aux + 1);
    x->pt = malloc(a->len + 1);
    x->ct = malloc(cap);
    x->out = malloc(cap);
    if (x->ad == NULL || x->pt == NULL || x->ct == NULL || x->out == NULL) {
        imc_bench_skip(st, "out of memory");
        return false;
    }
    return fill(st, a, 1, x->key, sizeof(x->key)) &&
           fill(st, a, 2, x->nonce, sizeof(x->nonce)) && fill(st, a, 3, x->pt, a->len) &&
           fill(st, a, 4, x->ad, a->aux) &&
           ok(st, "aead seal",
              imc_crypto_aead_seal(a->b, a->aead, x->ct, cap, x->key, x->nonce, sizeof(x->nonce),
                                   a->aux ? x->ad : NULL, a->aux, x->pt, a->len));
}

static void bm_aead_seal(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    const size_t cap = a->len + IMC_AEAD_TAG_BYTES;
    aead_bufs x = {0};
    if (aead_setup(st, a, &x)) {
        const uint8_t *ad = a->aux ? x.ad : NULL;
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            if (!ok(st, "aead seal",
                    imc_crypto_aead_seal(a->b, a->aead, x.out, cap, x.key, x.nonce,
                                         sizeof(x.nonce), ad, a->aux, x.pt, a->len)))
                break;
        }
        note(st, a, t0);
        imc_bench_set_bytes_processed(st, imc_bench_iterations(st) * (int64_t)a->len);
    }
    aead_free(&x);
}

static void bm_aead_open(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    const size_t cap = a->len + IMC_AEAD_TAG_BYTES;
    aead_bufs x = {0};
    if (aead_setup(st, a, &x)) {
        const uint8_t *ad = a->aux ? x.ad : NULL;
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            if (!ok(st, "aead open",
                    imc_crypto_aead_open(a->b, a->aead, x.out, cap, x.key, x.nonce,
                                         sizeof(x.nonce), ad, a->aux, x.ct, cap)))
                break;
        }
        note(st, a, t0);
        imc_bench_set_bytes_processed(st, imc_bench_iterations(st) * (int64_t)a->len);
    }
    aead_free(&x);
}

/* ---- hashing, KDF, random ------------------------------------------------ */

static void bm_sha256(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t out[IMC_SHA256_BYTES];
    uint8_t *msg = alloc(st, a->len);
    if (msg == NULL)
        return;
    if (fill(st, a, 1, msg, a->len)) {
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            if (!ok(st, "sha256", imc_crypto_sha256(a->b, out, msg, a->len)))
                break;
        }
        note(st, a, t0);
        imc_bench_set_bytes_processed(st, imc_bench_iterations(st) * (int64_t)a->len);
    }
    free(msg);
}

static void bm_hmac_sha256(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t key[32], out[IMC_SHA256_BYTES];
    uint8_t *msg = alloc(st, a->len);
    if (msg == NULL)
        return;
    if (fill(st, a, 1, key, sizeof(key)) && fill(st, a, 2, msg, a->len)) {
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            if (!ok(st, "hmac-sha256",
                    imc_crypto_hmac_sha256(a->b, out, key, sizeof(key), msg, a->len)))
                break;
        }
        note(st, a, t0);
        imc_bench_set_bytes_processed(st, imc_bench_iterations(st) * (int64_t)a->len);
    }
    free(msg);
}

/* 32-byte input key (a shared secret or the content key), no salt, a->aux
 * bytes of info, a->len bytes out: the shapes of the recipes. */
static void bm_hkdf_sha256(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t ikm[32], out[IMC_HKDF_SHA256_MAX_BYTES];
    uint8_t *info = alloc(st, a->aux);
    if (info == NULL)
        return;
    if (a->len > sizeof(out)) {
        imc_bench_skip(st, "hkdf output too long for the benchmark");
    } else if (fill(st, a, 1, ikm, sizeof(ikm)) && fill(st, a, 2, info, a->aux)) {
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            if (!ok(st, "hkdf-sha256",
                    imc_crypto_hkdf_sha256(a->b, out, a->len, NULL, 0, ikm, sizeof(ikm), info,
                                           a->aux)))
                break;
        }
        note(st, a, t0);
        per_op(st);
    }
    free(info);
}

/* The backend's own CSPRNG (nonces, ephemeral keys in production). */
static void bm_random(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t out[32];
    int64_t t0 = imc_bench_cpu_ns();
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "random", imc_crypto_random(a->b, out, a->len)))
            break;
    }
    note(st, a, t0);
    per_op(st);
}

/* ---- registration -------------------------------------------------------- */

/* Names registered so far for the current backend: the suites share most
 * shapes (suites 1 and 3 sign the same input), each is measured once. */
#define SEEN_MAX 256
typedef struct seen_names {
    char name[SEEN_MAX][NAME_BYTES];
    size_t count;
} seen_names;

static void add(seen_names *seen, const char *name, imc_bench_fn *fn, prim_arg arg)
{
    for (size_t i = 0; i < seen->count; i++)
        if (strcmp(seen->name[i], name) == 0)
            return;
    if (seen->count == SEEN_MAX || strlen(name) >= NAME_BYTES) {
        fprintf(stderr, "imcore-bench: cannot register %s\n", name);
        return;
    }
    memcpy(seen->name[seen->count++], name, strlen(name) + 1);
    memcpy(arg.name, name, strlen(name) + 1);
    if (imc_bench_register_copy(name, fn, &arg, sizeof(arg)) == NULL)
        fprintf(stderr, "imcore-bench: cannot register %s\n", name);
}

static prim_arg make_arg(const imc_backend *b, imc_aead aead, size_t len, size_t aux)
{
    prim_arg a;
    memset(&a, 0, sizeof(a));
    a.b = b;
    a.aead = aead;
    a.len = len;
    a.aux = aux;
    return a;
}

typedef struct prim_desc {
    const char *name;
    uint32_t caps; /* all needed */
    imc_bench_fn *fn;
    size_t len; /* 0: no size in the name */
    size_t aux;
} prim_desc;

static const prim_desc prims[] = {
    {"x25519-keygen", IMC_CAP_X25519, bm_x25519_keygen, 0, 0},
    {"x25519-derive", IMC_CAP_X25519, bm_x25519_derive, 0, 0},
    {"x25519-derive-prepared", IMC_CAP_X25519, bm_x25519_derive, 0, 1},
    {"x25519-prepare", IMC_CAP_X25519, bm_x25519_prepare, 0, 0},
    {"ed25519-keygen", IMC_CAP_ED25519, bm_ed25519_keygen, 0, 0},
    {"ed25519-sign", IMC_CAP_ED25519, bm_ed25519_sign, GENERIC_MSG_BYTES, 0},
    {"ed25519-sign-prepared", IMC_CAP_ED25519, bm_ed25519_sign, GENERIC_MSG_BYTES, 1},
    {"ed25519-verify", IMC_CAP_ED25519, bm_ed25519_verify, GENERIC_MSG_BYTES, 0},
    {"ed25519-verify-prepared", IMC_CAP_ED25519, bm_ed25519_verify, GENERIC_MSG_BYTES, 1},
    {"p256-keygen", IMC_CAP_P256_ECDH, bm_p256_keygen, 0, 0},
    {"p256-ecdh", IMC_CAP_P256_ECDH, bm_p256_ecdh, 0, 0},
    {"p256-ecdh-prepared", IMC_CAP_P256_ECDH, bm_p256_ecdh, 0, 1},
    {"p256-prepare", IMC_CAP_P256_ECDH, bm_p256_prepare, 0, 0},
    {"ecdsa-p256-sign", IMC_CAP_ECDSA_P256, bm_ecdsa_sign, GENERIC_MSG_BYTES, 0},
    {"ecdsa-p256-sign-prepared", IMC_CAP_ECDSA_P256, bm_ecdsa_sign, GENERIC_MSG_BYTES, 1},
    {"ecdsa-p256-verify", IMC_CAP_ECDSA_P256, bm_ecdsa_verify, GENERIC_MSG_BYTES, 0},
    {"ecdsa-p256-verify-prepared", IMC_CAP_ECDSA_P256, bm_ecdsa_verify, GENERIC_MSG_BYTES, 1},
    {"sha256", IMC_CAP_SHA256, bm_sha256, GENERIC_MSG_BYTES, 0},
    {"hmac-sha256", IMC_CAP_SHA256, bm_hmac_sha256, GENERIC_MSG_BYTES, 0},
    {"hkdf-sha256", IMC_CAP_SHA256, bm_hkdf_sha256, 32, GENERIC_HKDF_INFO},
    {"random", 0, bm_random, 32, 0},
};

static const struct {
    imc_aead aead;
    const char *name;
    uint32_t cap;
} aeads[] = {
    {IMC_AEAD_CHACHA20POLY1305, "chacha20poly1305", IMC_CAP_CHACHA20POLY1305},
    {IMC_AEAD_AES256GCM, "aes256gcm", IMC_CAP_AES256GCM},
};

/* The generic floor: DH, keygen, sign and verify, AEAD, HKDF. */
static void register_generic(seen_names *seen, const char *bname, const imc_backend *b)
{
    const uint32_t caps = imc_backend_caps(b);
    char name[NAME_BYTES];

    for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++) {
        const prim_desc *p = &prims[i];
        if ((caps & p->caps) != p->caps)
            continue;
        if (p->len != 0)
            snprintf(name, sizeof(name), "prim/%s/%s/%zu", bname, p->name, p->len);
        else
            snprintf(name, sizeof(name), "prim/%s/%s", bname, p->name);
        add(seen, name, p->fn, make_arg(b, IMC_AEAD_CHACHA20POLY1305, p->len, p->aux));
    }

    static const struct {
        const char *name;
        imc_bench_fn *fn;
    } ops[] = {{"aead-seal", bm_aead_seal}, {"aead-open", bm_aead_open}};
    for (size_t i = 0; i < sizeof(aeads) / sizeof(aeads[0]); i++) {
        if ((caps & aeads[i].cap) == 0)
            continue;
        for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
            for (size_t s = 0; s < IMC_BENCH_BODY_COUNT; s++) {
                snprintf(name, sizeof(name), "prim/%s/%s/%s/%zu", bname, ops[o].name,
                         aeads[i].name, imc_bench_body_sizes[s]);
                add(seen, name, ops[o].fn,
                    make_arg(b, aeads[i].aead, imc_bench_body_sizes[s], 0));
            }
        }
    }
}

/* The benchmark of one recipe step's primitive (imcore/recipe.h). */
static imc_bench_fn *step_fn(const imc_suite *s, imc_prim prim)
{
    const bool x = s->id != IMC_SUITE_P256_ECDSA_AES256GCM;
    switch (prim) {
    case IMC_PRIM_DH_KEYGEN: return x ? bm_x25519_keygen : bm_p256_keygen;
    case IMC_PRIM_DH: return x ? bm_x25519_derive : bm_p256_ecdh;
    case IMC_PRIM_DH_PREPARE: return x ? bm_x25519_prepare : bm_p256_prepare;
    case IMC_PRIM_HKDF_SHA256: return bm_hkdf_sha256;
    case IMC_PRIM_AEAD_SEAL: return bm_aead_seal;
    case IMC_PRIM_AEAD_OPEN: return bm_aead_open;
    case IMC_PRIM_SHA256: return bm_sha256;
    case IMC_PRIM_SIGN: return x ? bm_ed25519_sign : bm_ecdsa_sign;
    case IMC_PRIM_VERIFY: return x ? bm_ed25519_verify : bm_ecdsa_verify;
    }
    return NULL;
}

/* The exact calls of encrypt and decrypt for one suite, at every fan-out
 * and body size the message benchmarks use: each step of the library's
 * recipe (imc_msg_recipe) once, in the order of the calls in encrypt. */
static void register_suite_shapes(seen_names *seen, const char *bname, const imc_backend *b,
                                  const imc_suite *s)
{
    static const imc_msg_path paths[] = {IMC_MSG_PATH_ENCRYPT, IMC_MSG_PATH_DECRYPT};
    char name[NAME_BYTES], step[NAME_BYTES - 32];
    for (size_t p = 0; p < 2; p++) {
        for (size_t k = 0; k < IMC_BENCH_BODY_COUNT; k++) {
            for (size_t f = 0; f < IMC_BENCH_FANOUT_COUNT; f++) {
                imc_recipe_step steps[IMC_RECIPE_MAX_STEPS];
                size_t n = 0;
                if (imc_bench_recipe(steps, &n, paths[p], s, imc_bench_fanouts[f],
                                     imc_bench_body_sizes[k]) != IMC_OK) {
                    fprintf(stderr, "imcore-bench: no recipe for suite %s\n", s->short_name);
                    return;
                }
                for (size_t i = 0; i < n; i++) {
                    if (imc_bench_step_name(step, sizeof step, s, &steps[i]) != 0)
                        continue;
                    snprintf(name, sizeof name, "prim/%s/%s", bname, step);
                    add(seen, name, step_fn(s, steps[i].prim),
                        make_arg(b, s->aead, steps[i].len, steps[i].aux));
                }
            }
        }
    }
}

static void register_backend(const char *bname, const imc_backend *b)
{
    seen_names *seen = calloc(1, sizeof(*seen));
    char name[NAME_BYTES];
    if (seen == NULL) {
        fprintf(stderr, "imcore-bench: out of memory registering %s\n", bname);
        return;
    }
    register_generic(seen, bname, b);
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
        const imc_suite *s = imc_suite_get(id);
        if (s != NULL && imc_suite_supported(s, b))
            register_suite_shapes(seen, bname, b, s);
    }
    /* The directory signs (and clients verify) one entry per handle. */
    snprintf(name, sizeof name, "1*ed25519-sign/%d", IMC_BENCH_DIR_ENTRY_SIGN_BYTES);
    imc_bench_recipe_note("dir/lookup", name);
    snprintf(name, sizeof name, "1*ed25519-verify/%d", IMC_BENCH_DIR_ENTRY_SIGN_BYTES);
    imc_bench_recipe_note("dir/verify", name);
    if (imc_backend_caps(b) & IMC_CAP_ED25519) {
        snprintf(name, sizeof(name), "prim/%s/ed25519-sign/%d", bname,
                 IMC_BENCH_DIR_ENTRY_SIGN_BYTES);
        add(seen, name, bm_ed25519_sign,
            make_arg(b, IMC_AEAD_CHACHA20POLY1305, IMC_BENCH_DIR_ENTRY_SIGN_BYTES, 0));
        snprintf(name, sizeof(name), "prim/%s/ed25519-verify/%d", bname,
                 IMC_BENCH_DIR_ENTRY_SIGN_BYTES);
        add(seen, name, bm_ed25519_verify,
            make_arg(b, IMC_AEAD_CHACHA20POLY1305, IMC_BENCH_DIR_ENTRY_SIGN_BYTES, 0));
    }
    free(seen);
}

void imc_bench_register_primitives(void)
{
    size_t count = 0;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        if (b == NULL) {
            fprintf(stderr, "imcore-bench: backend %s failed to initialise; skipped\n",
                    names[i]);
            continue;
        }
        register_backend(names[i], b);
    }
}
