/* The primitive floor: every imcore/crypto.h primitive on every backend
 * that is compiled in, initialises and has the capability on this CPU.
 *
 * Names: prim/<backend>/<primitive>[/<size>], e.g.
 * prim/openssl/aead-seal/chacha20poly1305/1024. Keys come from the
 * deterministic RNG, so every run measures the same key sequence. Every
 * status is checked; a failure ends the run with imc_bench_skip(). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benches.h"
#include "imc_bench.h"
#include "imcore/backend.h"
#include "imcore/crypto.h"
#include "imcore/rng.h"
#include "imcore/status.h"

#define MSG_BYTES 64 /* signed and hashed message size */

static const uint8_t bench_seed[IMC_RNG_SEED_BYTES] = "imcore benchmark seed, fixed...";

/* What each benchmark gets (copied into its registration). */
typedef struct prim_arg {
    const imc_backend *b;
    imc_aead aead;
    size_t len;
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

static void per_op(imc_bench_state *st)
{
    imc_bench_set_items_processed(st, imc_bench_iterations(st));
}

/* ---- X25519 -------------------------------------------------------------- */

static void bm_x25519_keygen(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_X25519_PUBLIC_BYTES], sk[IMC_X25519_SECRET_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "x25519 keygen", imc_crypto_x25519_keygen(a->b, &rng, pk, sk)))
            break;
    }
    per_op(st);
    imc_rng_wipe(&rng);
}

static void bm_x25519_derive(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk_a[IMC_X25519_PUBLIC_BYTES], sk_a[IMC_X25519_SECRET_BYTES];
    uint8_t pk_b[IMC_X25519_PUBLIC_BYTES], sk_b[IMC_X25519_SECRET_BYTES];
    uint8_t shared[IMC_X25519_SHARED_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    bool ready = ok(st, "x25519 keygen", imc_crypto_x25519_keygen(a->b, &rng, pk_a, sk_a)) &&
                 ok(st, "x25519 keygen", imc_crypto_x25519_keygen(a->b, &rng, pk_b, sk_b));
    imc_rng_wipe(&rng);
    if (!ready)
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "x25519", imc_crypto_x25519(a->b, shared, sk_a, pk_b)))
            break;
    }
    per_op(st);
}

/* ---- Ed25519 ------------------------------------------------------------- */

static void bm_ed25519_keygen(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES], sk[IMC_ED25519_SECRET_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "ed25519 keygen", imc_crypto_ed25519_keygen(a->b, &rng, pk, sk)))
            break;
    }
    per_op(st);
    imc_rng_wipe(&rng);
}

/* Key pair, message and (for verify) a valid signature. */
static bool ed25519_setup(imc_bench_state *st, const prim_arg *a,
                          uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                          uint8_t sk[IMC_ED25519_SECRET_BYTES],
                          uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], uint8_t msg[MSG_BYTES])
{
    imc_rng rng;
    rng_init(&rng, 0);
    bool r = ok(st, "ed25519 keygen", imc_crypto_ed25519_keygen(a->b, &rng, pk, sk)) &&
             fill(st, a, 1, msg, MSG_BYTES) &&
             ok(st, "ed25519 sign", imc_crypto_ed25519_sign(a->b, sig, sk, pk, msg, MSG_BYTES));
    imc_rng_wipe(&rng);
    return r;
}

static void bm_ed25519_sign(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES], sk[IMC_ED25519_SECRET_BYTES];
    uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], msg[MSG_BYTES];
    if (!ed25519_setup(st, a, pk, sk, sig, msg))
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "ed25519 sign", imc_crypto_ed25519_sign(a->b, sig, sk, pk, msg, a->len)))
            break;
    }
    per_op(st);
}

static void bm_ed25519_verify(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES], sk[IMC_ED25519_SECRET_BYTES];
    uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], msg[MSG_BYTES];
    if (!ed25519_setup(st, a, pk, sk, sig, msg))
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "ed25519 verify", imc_crypto_ed25519_verify(a->b, sig, pk, msg, a->len)))
            break;
    }
    per_op(st);
}

/* ---- P-256 --------------------------------------------------------------- */

static void bm_p256_keygen(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_P256_PUBLIC_BYTES], sk[IMC_P256_SECRET_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "p256 keygen", imc_crypto_p256_keygen(a->b, &rng, pk, sk)))
            break;
    }
    per_op(st);
    imc_rng_wipe(&rng);
}

static void bm_p256_ecdh(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk_a[IMC_P256_PUBLIC_BYTES], sk_a[IMC_P256_SECRET_BYTES];
    uint8_t pk_b[IMC_P256_PUBLIC_BYTES], sk_b[IMC_P256_SECRET_BYTES];
    uint8_t shared[IMC_P256_SHARED_BYTES];
    imc_rng rng;
    rng_init(&rng, 0);
    bool ready = ok(st, "p256 keygen", imc_crypto_p256_keygen(a->b, &rng, pk_a, sk_a)) &&
                 ok(st, "p256 keygen", imc_crypto_p256_keygen(a->b, &rng, pk_b, sk_b));
    imc_rng_wipe(&rng);
    if (!ready)
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "p256 ecdh", imc_crypto_p256_ecdh(a->b, shared, sk_a, pk_b)))
            break;
    }
    per_op(st);
}

static bool ecdsa_setup(imc_bench_state *st, const prim_arg *a,
                        uint8_t pk[IMC_P256_PUBLIC_BYTES], uint8_t sk[IMC_P256_SECRET_BYTES],
                        uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], uint8_t msg[MSG_BYTES])
{
    imc_rng rng;
    rng_init(&rng, 0);
    bool r = ok(st, "p256 keygen", imc_crypto_p256_keygen(a->b, &rng, pk, sk)) &&
             fill(st, a, 1, msg, MSG_BYTES) &&
             ok(st, "ecdsa sign", imc_crypto_ecdsa_p256_sign(a->b, sig, sk, msg, MSG_BYTES));
    imc_rng_wipe(&rng);
    return r;
}

static void bm_ecdsa_sign(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_P256_PUBLIC_BYTES], sk[IMC_P256_SECRET_BYTES];
    uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], msg[MSG_BYTES];
    if (!ecdsa_setup(st, a, pk, sk, sig, msg))
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "ecdsa sign", imc_crypto_ecdsa_p256_sign(a->b, sig, sk, msg, a->len)))
            break;
    }
    per_op(st);
}

static void bm_ecdsa_verify(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t pk[IMC_P256_PUBLIC_BYTES], sk[IMC_P256_SECRET_BYTES];
    uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], msg[MSG_BYTES];
    if (!ecdsa_setup(st, a, pk, sk, sig, msg))
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "ecdsa verify", imc_crypto_ecdsa_p256_verify(a->b, sig, pk, msg, a->len)))
            break;
    }
    per_op(st);
}

/* ---- AEAD ---------------------------------------------------------------- */

/* Key, nonce, plaintext of a->len bytes in `pt`, its sealing in `ct`. The
 * nonce repeats across iterations: harmless here, and a counter would add
 * work the real path does not do per call. */
typedef struct aead_bufs {
    uint8_t key[IMC_AEAD_KEY_BYTES];
    uint8_t nonce[IMC_AEAD_NONCE_BYTES];
    uint8_t *pt;  /* a->len bytes */
    uint8_t *ct;  /* a->len + tag */
    uint8_t *out; /* a->len + tag */
} aead_bufs;

static void aead_free(aead_bufs *x)
{
    free(x->pt);
    free(x->ct);
    free(x->out);
}

static bool aead_setup(imc_bench_state *st, const prim_arg *a, aead_bufs *x)
{
    size_t cap = a->len + IMC_AEAD_TAG_BYTES;
    x->pt = malloc(a->len);
    x->ct = malloc(cap);
    x->out = malloc(cap);
    if (x->pt == NULL || x->ct == NULL || x->out == NULL) {
        imc_bench_skip(st, "out of memory");
        return false;
    }
    return fill(st, a, 1, x->key, sizeof(x->key)) &&
           fill(st, a, 2, x->nonce, sizeof(x->nonce)) && fill(st, a, 3, x->pt, a->len) &&
           ok(st, "aead seal",
              imc_crypto_aead_seal(a->b, a->aead, x->ct, cap, x->key, x->nonce, sizeof(x->nonce),
                                   NULL, 0, x->pt, a->len));
}

static void bm_aead_seal(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    const size_t cap = a->len + IMC_AEAD_TAG_BYTES;
    aead_bufs x = {0};
    if (aead_setup(st, a, &x)) {
        while (imc_bench_keep_running(st)) {
            if (!ok(st, "aead seal",
                    imc_crypto_aead_seal(a->b, a->aead, x.out, cap, x.key, x.nonce,
                                         sizeof(x.nonce), NULL, 0, x.pt, a->len)))
                break;
        }
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
        while (imc_bench_keep_running(st)) {
            if (!ok(st, "aead open",
                    imc_crypto_aead_open(a->b, a->aead, x.out, cap, x.key, x.nonce,
                                         sizeof(x.nonce), NULL, 0, x.ct, cap)))
                break;
        }
        imc_bench_set_bytes_processed(st, imc_bench_iterations(st) * (int64_t)a->len);
    }
    aead_free(&x);
}

/* ---- hashing, KDF, random ------------------------------------------------ */

static void bm_sha256(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t msg[MSG_BYTES], out[IMC_SHA256_BYTES];
    if (!fill(st, a, 1, msg, sizeof(msg)))
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "sha256", imc_crypto_sha256(a->b, out, msg, a->len)))
            break;
    }
    imc_bench_set_bytes_processed(st, imc_bench_iterations(st) * (int64_t)a->len);
}

static void bm_hmac_sha256(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t key[32], msg[MSG_BYTES], out[IMC_SHA256_BYTES];
    if (!fill(st, a, 1, key, sizeof(key)) || !fill(st, a, 2, msg, sizeof(msg)))
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "hmac-sha256",
                imc_crypto_hmac_sha256(a->b, out, key, sizeof(key), msg, a->len)))
            break;
    }
    imc_bench_set_bytes_processed(st, imc_bench_iterations(st) * (int64_t)a->len);
}

/* The per-device KDF shape: 32-byte shared secret in, no salt, a short
 * info string, one 32-byte key out (a->len). */
static void bm_hkdf_sha256(imc_bench_state *st, void *arg)
{
    static const uint8_t info[] = "imcore device key v1";
    const prim_arg *a = arg;
    uint8_t ikm[32], out[32];
    if (!fill(st, a, 1, ikm, sizeof(ikm)))
        return;
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "hkdf-sha256",
                imc_crypto_hkdf_sha256(a->b, out, a->len, NULL, 0, ikm, sizeof(ikm), info,
                                       sizeof(info) - 1)))
            break;
    }
    per_op(st);
}

/* The backend's own CSPRNG (nonces, ephemeral keys in production). */
static void bm_random(imc_bench_state *st, void *arg)
{
    const prim_arg *a = arg;
    uint8_t out[32];
    while (imc_bench_keep_running(st)) {
        if (!ok(st, "random", imc_crypto_random(a->b, out, a->len)))
            break;
    }
    per_op(st);
}

/* ---- registration -------------------------------------------------------- */

typedef struct prim_desc {
    const char *name;
    uint32_t caps; /* all needed */
    imc_bench_fn *fn;
    size_t len; /* 0: no size in the name */
} prim_desc;

static const prim_desc prims[] = {
    {"x25519-keygen", IMC_CAP_X25519, bm_x25519_keygen, 0},
    {"x25519-derive", IMC_CAP_X25519, bm_x25519_derive, 0},
    {"ed25519-keygen", IMC_CAP_ED25519, bm_ed25519_keygen, 0},
    {"ed25519-sign", IMC_CAP_ED25519, bm_ed25519_sign, MSG_BYTES},
    {"ed25519-verify", IMC_CAP_ED25519, bm_ed25519_verify, MSG_BYTES},
    {"p256-keygen", IMC_CAP_P256_ECDH, bm_p256_keygen, 0},
    {"p256-ecdh", IMC_CAP_P256_ECDH, bm_p256_ecdh, 0},
    {"ecdsa-p256-sign", IMC_CAP_ECDSA_P256, bm_ecdsa_sign, MSG_BYTES},
    {"ecdsa-p256-verify", IMC_CAP_ECDSA_P256, bm_ecdsa_verify, MSG_BYTES},
    {"sha256", IMC_CAP_SHA256, bm_sha256, MSG_BYTES},
    {"hmac-sha256", IMC_CAP_SHA256, bm_hmac_sha256, MSG_BYTES},
    {"hkdf-sha256", IMC_CAP_SHA256, bm_hkdf_sha256, 32},
    {"random", 0, bm_random, 32},
};

static const struct {
    imc_aead aead;
    const char *name;
    uint32_t cap;
} aeads[] = {
    {IMC_AEAD_CHACHA20POLY1305, "chacha20poly1305", IMC_CAP_CHACHA20POLY1305},
    {IMC_AEAD_AES256GCM, "aes256gcm", IMC_CAP_AES256GCM},
};

static const size_t aead_sizes[] = {64, 1024, 16384};

static void add(const char *name, imc_bench_fn *fn, const prim_arg *arg)
{
    if (imc_bench_register_copy(name, fn, arg, sizeof(*arg)) == NULL)
        fprintf(stderr, "imcore-bench: cannot register %s\n", name);
}

static void register_backend(const char *bname, const imc_backend *b)
{
    const uint32_t caps = imc_backend_caps(b);
    char name[128];

    for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++) {
        const prim_desc *p = &prims[i];
        prim_arg arg = {b, IMC_AEAD_CHACHA20POLY1305, p->len};
        if ((caps & p->caps) != p->caps)
            continue;
        if (p->len != 0)
            snprintf(name, sizeof(name), "prim/%s/%s/%zu", bname, p->name, p->len);
        else
            snprintf(name, sizeof(name), "prim/%s/%s", bname, p->name);
        add(name, p->fn, &arg);
    }

    static const struct {
        const char *name;
        imc_bench_fn *fn;
    } ops[] = {{"aead-seal", bm_aead_seal}, {"aead-open", bm_aead_open}};
    for (size_t i = 0; i < sizeof(aeads) / sizeof(aeads[0]); i++) {
        if ((caps & aeads[i].cap) == 0)
            continue;
        for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
            for (size_t s = 0; s < sizeof(aead_sizes) / sizeof(aead_sizes[0]); s++) {
                prim_arg arg = {b, aeads[i].aead, aead_sizes[s]};
                snprintf(name, sizeof(name), "prim/%s/%s/%s/%zu", bname, ops[o].name,
                         aeads[i].name, aead_sizes[s]);
                add(name, ops[o].fn, &arg);
            }
        }
    }
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
