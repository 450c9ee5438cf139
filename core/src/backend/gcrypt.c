/* The libgcrypt 1.10 backend: all three suites.
 *
 * Arguments arrive checked by the policy layer (crypto.c). libgcrypt's
 * public-key operations take S-expressions; scalars and signature values
 * are passed as unsigned MPIs (%M), never as raw %b data, which libgcrypt
 * would read as signed. P-256 ECDH is libgcrypt's ECDH "encryption" (the
 * scalar times the peer's point), ECDSA uses its RFC 6979 nonces (flag
 * rfc6979), the same as every other backend. libgcrypt wipes MPIs and
 * cipher handles when it frees them, but an S-expression only when it lives
 * in its secure memory, which it uses for one as soon as an argument does
 * (an MPI flagged GCRYMPI_FLAG_SECURE, a %b buffer from gcry_malloc_secure).
 * So every secret (private scalar, Ed25519 seed) enters libgcrypt that
 * way, and gcry_sexp_release() wipes the S-expressions built from it.
 * libgcrypt sets up its secure pool by itself (32 KiB, locked in memory
 * where the process may); each call holds a few hundred bytes of it and
 * returns them before it returns. test_backend_gcrypt checks, through
 * libgcrypt's allocation hooks, that no secret byte string is left in
 * memory it frees.
 *
 * IMC_GCRYPT_DISABLE_HWF, read once at initialisation, is passed to
 * GCRYCTL_DISABLE_HWF (e.g. "intel-avx2,intel-avx512" or "all"): the
 * CPU-feature-masked benchmark runs use it (docs/backends.md). */
#define _GNU_SOURCE /* secure_getenv */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "backend/backend_impl.h"
#include "imcore/util.h"

static const uint8_t *nz(const uint8_t *p)
{
    static const uint8_t empty[1] = {0};
    return p != NULL ? p : empty;
}

/* Written only by gc_init_once(). */
static imc_status gc_status = IMC_ERR_CRYPTO;
static pthread_once_t gc_once = PTHREAD_ONCE_INIT;

static void gc_init_once(void)
{
    /* An application that initialised libgcrypt itself keeps its setup. */
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
        const char *hwf = secure_getenv("IMC_GCRYPT_DISABLE_HWF");
        if (hwf != NULL && hwf[0] != '\0') {
            /* A comma-separated list: one call per feature name. */
            char buf[256];
            size_t n = strlen(hwf) < sizeof buf - 1 ? strlen(hwf) : sizeof buf - 1;
            memcpy(buf, hwf, n);
            buf[n] = '\0';
            char *save = NULL;
            for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
                (void)gcry_control(GCRYCTL_DISABLE_HWF, t, NULL);
        }
        if (gcry_check_version(GCRYPT_VERSION) == NULL)
            return;
        /* No "using insecure memory" on stderr where mlock() is refused:
         * the pool still wipes what it frees. */
        (void)gcry_control(GCRYCTL_DISABLE_SECMEM_WARN, 0);
        (void)gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
    gc_status = IMC_OK;
}

static imc_status gc_init(void)
{
    if (pthread_once(&gc_once, gc_init_once) != 0)
        return IMC_ERR_CRYPTO;
    return gc_status;
}

static const char *gc_version(void)
{
    if (strcmp(gcry_check_version(NULL), GCRYPT_VERSION) == 0)
        return "libgcrypt " GCRYPT_VERSION;
    return "libgcrypt (run-time version differs from headers " GCRYPT_VERSION ")";
}

static uint32_t gc_caps(void)
{
    return IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_AES256GCM |
           IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_SHA256;
}

static imc_status gc_random(uint8_t *out, size_t len)
{
    gcry_randomize(out, len, GCRY_STRONG_RANDOM);
    return IMC_OK;
}

/* ---- S-expression helpers ---------------------------------------------- */

/* An unsigned MPI of n big-endian bytes (libgcrypt wipes an MPI's limbs
 * when it releases it). */
static gcry_mpi_t mpi_from(const uint8_t *p, size_t n)
{
    gcry_mpi_t m = NULL;
    if (gcry_mpi_scan(&m, GCRYMPI_FMT_USG, p, n, NULL) != 0)
        m = NULL;
    return m;
}

/* The same for a secret: its limbs in libgcrypt's secure memory, so that
 * S-expressions built from it are too (and are wiped when released). */
static gcry_mpi_t secret_mpi_from(const uint8_t *p, size_t n)
{
    gcry_mpi_t m = mpi_from(p, n);
    if (m != NULL)
        gcry_mpi_set_flag(m, GCRYMPI_FLAG_SECURE); /* moves and wipes the limbs */
    return m;
}

/* A copy of a 32-byte secret in libgcrypt's secure memory, for %b: an
 * S-expression built from it is secure; free with secret_free(). */
static uint8_t *secret_copy(const uint8_t sk[32])
{
    uint8_t *c = gcry_malloc_secure(32);
    if (c != NULL)
        memcpy(c, sk, 32);
    return c;
}

static void secret_free(uint8_t *c)
{
    if (c != NULL) {
        imc_wipe(c, 32);
        gcry_free(c);
    }
}

/* Writes MPI `name` of sexp into out[0..n), right-aligned; 0 on success. */
static int sexp_mpi_out(gcry_sexp_t sexp, const char *name, uint8_t *out, size_t n)
{
    gcry_sexp_t tok = gcry_sexp_find_token(sexp, name, 0);
    gcry_mpi_t m = tok != NULL ? gcry_sexp_nth_mpi(tok, 1, GCRYMPI_FMT_USG) : NULL;
    size_t len = 0;
    int rc = m == NULL || gcry_mpi_print(GCRYMPI_FMT_USG, NULL, 0, &len, m) != 0 || len > n;
    if (!rc) {
        memset(out, 0, n - len);
        rc = gcry_mpi_print(GCRYMPI_FMT_USG, out + (n - len), len, NULL, m) != 0;
    }
    gcry_mpi_release(m);
    gcry_sexp_release(tok);
    return rc;
}

/* Copies data element `name` of sexp, exactly n bytes long, to out. */
static int sexp_data_out(gcry_sexp_t sexp, const char *name, uint8_t *out, size_t n)
{
    gcry_sexp_t tok = gcry_sexp_find_token(sexp, name, 0);
    size_t len = 0;
    const char *d = tok != NULL ? gcry_sexp_nth_data(tok, 1, &len) : NULL;
    int rc = d == NULL || len != n;
    if (!rc)
        memcpy(out, d, n);
    gcry_sexp_release(tok);
    return rc;
}

/* ---- X25519 ------------------------------------------------------------ */

static imc_status gc_x25519(uint8_t shared[IMC_X25519_SHARED_BYTES],
                            const uint8_t sk[IMC_X25519_SECRET_BYTES],
                            const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    /* RFC 7748 X25519: clamps the scalar, ignores bit 255 of u. */
    if (gcry_ecc_mul_point(GCRY_ECC_CURVE25519, shared, sk, pk) != 0) {
        imc_wipe(shared, IMC_X25519_SHARED_BYTES);
        return IMC_ERR_CRYPTO;
    }
    return IMC_OK;
}

static imc_status gc_x25519_public(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                   const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    /* NULL point: the base point. */
    if (gcry_ecc_mul_point(GCRY_ECC_CURVE25519, pk, sk, NULL) != 0)
        return IMC_ERR_CRYPTO;
    return IMC_OK;
}

/* ---- Ed25519 ----------------------------------------------------------- */

/* libgcrypt 1.10.1 aborts the process ("mulm_25519: different sizes") when
 * it decodes an Ed25519 public key whose y is below 2^192 (top 64-bit limb
 * zero; found by fuzz_backend_diff, kept in corpus/regressions/). Such a
 * key is a valid curve point, but nobody can sign for it who did not draw
 * it by chance (probability 2^-63 per key) or search 2^63 keys for it, so
 * refusing every signature under it (and signing with it) is what every
 * other backend does in practice, without handing libgcrypt the key. */
static int gc_ed25519_key_crashes(const uint8_t pk[IMC_ED25519_PUBLIC_BYTES])
{
    uint8_t top = (uint8_t)(pk[31] & 0x7f);
    for (int i = 24; i < 31; i++)
        top |= pk[i];
    return top == 0;
}

static imc_status gc_ed25519_public(uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                    const uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    gcry_sexp_t key = NULL;
    gcry_ctx_t ctx = NULL;
    gcry_mpi_t q = NULL;
    unsigned nbits = 0;
    imc_status st = IMC_ERR_CRYPTO;
    uint8_t *d = secret_copy(sk);
    if (d != NULL &&
        gcry_sexp_build(&key, NULL, "(private-key (ecc (curve Ed25519) (flags eddsa) (d %b)))",
                        IMC_ED25519_SECRET_BYTES, d) == 0 &&
        gcry_mpi_ec_new(&ctx, key, NULL) == 0 &&
        (q = gcry_mpi_ec_get_mpi("q@eddsa", ctx, 1)) != NULL) {
        const void *p = gcry_mpi_get_opaque(q, &nbits);
        if (p != NULL && nbits == 8 * IMC_ED25519_PUBLIC_BYTES) {
            memcpy(pk, p, IMC_ED25519_PUBLIC_BYTES);
            st = IMC_OK;
        }
    }
    gcry_mpi_release(q);
    gcry_ctx_release(ctx);
    gcry_sexp_release(key);
    secret_free(d);
    return st;
}

/* The key pair (sk, pk) or the public key pk alone (sk NULL) as an
 * S-expression, the seed in secure memory; 0 on success. The public key
 * goes in as given (q), as on every backend. */
static int ed25519_key_sexp(gcry_sexp_t *key, const uint8_t *sk,
                            const uint8_t pk[IMC_ED25519_PUBLIC_BYTES])
{
    *key = NULL;
    if (sk == NULL)
        return gcry_sexp_build(key, NULL, "(public-key (ecc (curve Ed25519) (flags eddsa) (q %b)))",
                               IMC_ED25519_PUBLIC_BYTES, pk) != 0;
    uint8_t *d = secret_copy(sk);
    int rc = d == NULL ||
             gcry_sexp_build(key, NULL,
                             "(private-key (ecc (curve Ed25519) (flags eddsa) (q %b) (d %b)))",
                             IMC_ED25519_PUBLIC_BYTES, pk, IMC_ED25519_SECRET_BYTES, d) != 0;
    secret_free(d);
    return rc;
}

static imc_status ed25519_sign_sexp(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], gcry_sexp_t key,
                                    const uint8_t *msg, size_t msg_len)
{
    gcry_sexp_t data = NULL, out = NULL;
    int rc = gcry_sexp_build(&data, NULL, "(data (flags eddsa) (hash-algo sha512) (value %b))",
                             (int)msg_len, nz(msg)) != 0;
    rc = rc || gcry_pk_sign(&out, data, key) != 0;
    rc = rc || sexp_data_out(out, "r", sig, 32) || sexp_data_out(out, "s", sig + 32, 32);
    gcry_sexp_release(out);
    gcry_sexp_release(data);
    return rc ? IMC_ERR_CRYPTO : IMC_OK;
}

/* Any failure is IMC_ERR_AUTH. */
static imc_status ed25519_verify_sexp(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                      gcry_sexp_t key, const uint8_t *msg, size_t msg_len)
{
    gcry_sexp_t data = NULL, s = NULL;
    int rc = gcry_sexp_build(&data, NULL, "(data (flags eddsa) (hash-algo sha512) (value %b))",
                             (int)msg_len, nz(msg)) != 0;
    rc = rc || gcry_sexp_build(&s, NULL, "(sig-val (eddsa (r %b) (s %b)))", 32, sig, 32,
                               sig + 32) != 0;
    rc = rc || gcry_pk_verify(s, data, key) != 0;
    gcry_sexp_release(s);
    gcry_sexp_release(data);
    return rc ? IMC_ERR_AUTH : IMC_OK;
}

static imc_status gc_ed25519_sign(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                  const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                  const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                  const uint8_t *msg, size_t msg_len)
{
    gcry_sexp_t key = NULL;
    if (gc_ed25519_key_crashes(pk))
        return IMC_ERR_CRYPTO;
    imc_status st = ed25519_key_sexp(&key, sk, pk) == 0
                        ? ed25519_sign_sexp(sig, key, msg, msg_len)
                        : IMC_ERR_CRYPTO;
    gcry_sexp_release(key); /* secure: wiped */
    return st;
}

static imc_status gc_ed25519_verify(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                    const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                    const uint8_t *msg, size_t msg_len)
{
    gcry_sexp_t key = NULL;
    if (gc_ed25519_key_crashes(pk))
        return IMC_ERR_AUTH;
    imc_status st = ed25519_key_sexp(&key, NULL, pk) == 0
                        ? ed25519_verify_sexp(sig, key, msg, msg_len)
                        : IMC_ERR_AUTH;
    gcry_sexp_release(key);
    return st;
}

/* ---- P-256 ------------------------------------------------------------- */

static const uint8_t P256_G[IMC_P256_PUBLIC_BYTES] = {
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63,
    0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39,
    0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e,
    0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e,
    0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};

/* 1 if the public-key S-expression's point q is on its curve. libgcrypt's
 * ECDH "encryption" does not check (measured: Wycheproof's invalid-curve
 * points give a result), so an off-curve point would leak the scalar
 * modulo small orders; this check is the backend's, not the policy's,
 * because it needs field arithmetic. */
static int on_curve(gcry_sexp_t key)
{
    gcry_ctx_t ctx = NULL;
    gcry_mpi_point_t q = NULL;
    int ok = gcry_mpi_ec_new(&ctx, key, NULL) == 0 &&
             (q = gcry_mpi_ec_get_point("q", ctx, 1)) != NULL && gcry_mpi_ec_curve_point(q, ctx);
    gcry_mpi_point_release(q);
    gcry_ctx_release(ctx);
    return ok;
}

/* The scalar sk as ECDH "plaintext" (P256_DATA) or as an ECDSA private key
 * (P256_PRIVATE), built from a secure MPI, so in secure memory; 0 on
 * success. */
#define P256_DATA "(data (flags raw) (value %M))"
#define P256_PRIVATE "(private-key (ecc (curve \"NIST P-256\") (d %M)))"
static int p256_secret_sexp(gcry_sexp_t *out, const char *format,
                            const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    gcry_mpi_t d = secret_mpi_from(sk, IMC_P256_SECRET_BYTES);
    *out = NULL;
    int rc = d == NULL || gcry_sexp_build(out, NULL, format, d) != 0;
    gcry_mpi_release(d);
    return rc;
}

static int p256_public_sexp(gcry_sexp_t *key, const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    *key = NULL;
    return gcry_sexp_build(key, NULL, "(public-key (ecc (curve \"NIST P-256\") (q %b)))",
                           IMC_P256_PUBLIC_BYTES, pk) != 0;
}

/* point = d * pk (04 || x || y) for the scalar d as made by
 * p256_secret_sexp(P256_DATA). IMC_ERR_WEAK_KEY for a point off the curve
 * or one libgcrypt refuses. */
static imc_status p256_mul_data(uint8_t point[IMC_P256_PUBLIC_BYTES], gcry_sexp_t data,
                                const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    gcry_sexp_t key = NULL, out = NULL;
    imc_status st = IMC_ERR_CRYPTO;
    if (p256_public_sexp(&key, pk) == 0) {
        if (!on_curve(key) || gcry_pk_encrypt(&out, data, key) != 0)
            st = IMC_ERR_WEAK_KEY;
        else if (sexp_data_out(out, "s", point, IMC_P256_PUBLIC_BYTES) == 0)
            st = IMC_OK;
    }
    gcry_sexp_release(out);
    gcry_sexp_release(key);
    if (st != IMC_OK)
        imc_wipe(point, IMC_P256_PUBLIC_BYTES);
    return st;
}

/* point = sk * pk. */
static imc_status p256_mul(uint8_t point[IMC_P256_PUBLIC_BYTES],
                           const uint8_t sk[IMC_P256_SECRET_BYTES],
                           const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    gcry_sexp_t data = NULL;
    imc_status st = p256_secret_sexp(&data, P256_DATA, sk) == 0
                        ? p256_mul_data(point, data, pk)
                        : IMC_ERR_CRYPTO;
    gcry_sexp_release(data); /* secure: wiped */
    return st; /* point wiped on failure by p256_mul_data */
}

static imc_status gc_p256_public(uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                 const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    return p256_mul(pk, sk, P256_G) == IMC_OK ? IMC_OK : IMC_ERR_CRYPTO;
}

/* shared = the x coordinate of point, if st says the point was made;
 * point is wiped either way. Returns st. */
static imc_status p256_x_of(uint8_t shared[IMC_P256_SHARED_BYTES], imc_status st,
                            uint8_t point[IMC_P256_PUBLIC_BYTES])
{
    if (st == IMC_OK)
        memcpy(shared, point + 1, IMC_P256_SHARED_BYTES);
    imc_wipe(point, IMC_P256_PUBLIC_BYTES);
    return st;
}

static imc_status gc_p256_ecdh(uint8_t shared[IMC_P256_SHARED_BYTES],
                               const uint8_t sk[IMC_P256_SECRET_BYTES],
                               const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    uint8_t point[IMC_P256_PUBLIC_BYTES];
    return p256_x_of(shared, p256_mul(point, sk, pk), point);
}

static imc_status ecdsa_sign_sexp(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], gcry_sexp_t key,
                                  const uint8_t *msg, size_t msg_len)
{
    uint8_t h[32];
    gcry_sexp_t data = NULL, out = NULL;
    gcry_md_hash_buffer(GCRY_MD_SHA256, h, nz(msg), msg_len);
    int rc = gcry_sexp_build(&data, NULL, "(data (flags rfc6979) (hash sha256 %b))",
                             (int)sizeof h, h) != 0;
    rc = rc || gcry_pk_sign(&out, data, key) != 0;
    rc = rc || sexp_mpi_out(out, "r", sig, 32) || sexp_mpi_out(out, "s", sig + 32, 32);
    gcry_sexp_release(out);
    gcry_sexp_release(data);
    return rc ? IMC_ERR_CRYPTO : IMC_OK;
}

static imc_status gc_ecdsa_p256_sign(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                     const uint8_t sk[IMC_P256_SECRET_BYTES], const uint8_t *msg,
                                     size_t msg_len)
{
    gcry_sexp_t key = NULL;
    imc_status st = p256_secret_sexp(&key, P256_PRIVATE, sk) == 0
                        ? ecdsa_sign_sexp(sig, key, msg, msg_len)
                        : IMC_ERR_CRYPTO;
    gcry_sexp_release(key);
    return st;
}

/* Any failure is IMC_ERR_AUTH. */
static imc_status ecdsa_verify_sexp(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                    gcry_sexp_t key, const uint8_t *msg, size_t msg_len)
{
    uint8_t h[32];
    gcry_sexp_t data = NULL, s = NULL;
    gcry_md_hash_buffer(GCRY_MD_SHA256, h, nz(msg), msg_len);
    gcry_mpi_t r = mpi_from(sig, 32), sv = mpi_from(sig + 32, 32);
    int rc = r == NULL || sv == NULL;
    rc = rc || gcry_sexp_build(&data, NULL, "(data (flags raw) (hash sha256 %b))", (int)sizeof h,
                               h) != 0;
    rc = rc || gcry_sexp_build(&s, NULL, "(sig-val (ecdsa (r %M) (s %M)))", r, sv) != 0;
    rc = rc || gcry_pk_verify(s, data, key) != 0;
    gcry_sexp_release(s);
    gcry_sexp_release(data);
    gcry_mpi_release(r);
    gcry_mpi_release(sv);
    return rc ? IMC_ERR_AUTH : IMC_OK;
}

static imc_status gc_ecdsa_p256_verify(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                       const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                       const uint8_t *msg, size_t msg_len)
{
    gcry_sexp_t key = NULL;
    imc_status st = p256_public_sexp(&key, pk) == 0 ? ecdsa_verify_sexp(sig, key, msg, msg_len)
                                                     : IMC_ERR_AUTH;
    gcry_sexp_release(key);
    return st;
}

/* ---- Prepared keys ----------------------------------------------------- */

/* The S-expressions the plain calls above build per call, built once:
 * libgcrypt has no other key object its public-key calls take. A secret
 * one lives in secure memory (wiped when released). gcry_pk_* only read
 * them, so any number of threads may use one at once. X25519 has nothing
 * to prepare (gcry_ecc_mul_point takes the raw scalar). An Ed25519 key
 * libgcrypt would abort on (gc_ed25519_key_crashes) stays raw bytes, so
 * that the plain call refuses it as before. */
typedef struct gc_key {
    gcry_sexp_t a; /* Ed25519: the key; P-256 secret: ECDH data; P-256 public: the key */
    gcry_sexp_t b; /* P-256 secret: the ECDSA private key */
} gc_key;

static void gc_key_free(imc_key_kind kind, void *native)
{
    (void)kind;
    gc_key *k = native;
    gcry_sexp_release(k->a);
    gcry_sexp_release(k->b);
    imc_wipe(k, sizeof *k);
    free(k);
}

static imc_status gc_key_import(void **native, imc_key_kind kind, const uint8_t *raw)
{
    *native = NULL;
    if (kind == IMC_KEY_X25519_SECRET ||
        (kind == IMC_KEY_ED25519_SECRET &&
         gc_ed25519_key_crashes(raw + IMC_ED25519_SECRET_BYTES)) ||
        (kind == IMC_KEY_ED25519_PUBLIC && gc_ed25519_key_crashes(raw)))
        return IMC_OK;
    gc_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return IMC_ERR_NOMEM;
    int rc = 1;
    switch (kind) {
    case IMC_KEY_X25519_SECRET: break;
    case IMC_KEY_ED25519_SECRET:
        rc = ed25519_key_sexp(&k->a, raw, raw + IMC_ED25519_SECRET_BYTES);
        break;
    case IMC_KEY_ED25519_PUBLIC: rc = ed25519_key_sexp(&k->a, NULL, raw); break;
    case IMC_KEY_P256_SECRET:
        rc = p256_secret_sexp(&k->a, P256_DATA, raw) ||
             p256_secret_sexp(&k->b, P256_PRIVATE, raw);
        break;
    case IMC_KEY_P256_PUBLIC: rc = p256_public_sexp(&k->a, raw); break;
    }
    if (rc) {
        gc_key_free(kind, k);
        return IMC_ERR_CRYPTO;
    }
    *native = k;
    return IMC_OK;
}

static imc_status gc_ed25519_sign_prepared(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], void *sk,
                                           const uint8_t *msg, size_t msg_len)
{
    return ed25519_sign_sexp(sig, ((gc_key *)sk)->a, msg, msg_len);
}

static imc_status gc_ed25519_verify_prepared(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                             void *pk, const uint8_t *msg, size_t msg_len)
{
    return ed25519_verify_sexp(sig, ((gc_key *)pk)->a, msg, msg_len);
}

static imc_status gc_p256_ecdh_prepared(uint8_t shared[IMC_P256_SHARED_BYTES], void *sk,
                                        const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    uint8_t point[IMC_P256_PUBLIC_BYTES];
    return p256_x_of(shared, p256_mul_data(point, ((gc_key *)sk)->a, pk), point);
}

static imc_status gc_ecdsa_sign_prepared(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], void *sk,
                                         const uint8_t raw_sk[IMC_P256_SECRET_BYTES],
                                         const uint8_t *msg, size_t msg_len)
{
    (void)raw_sk;
    return ecdsa_sign_sexp(sig, ((gc_key *)sk)->b, msg, msg_len);
}

static imc_status gc_ecdsa_verify_prepared(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                           void *pk, const uint8_t *msg, size_t msg_len)
{
    return ecdsa_verify_sexp(sig, ((gc_key *)pk)->a, msg, msg_len);
}

/* ---- AEAD -------------------------------------------------------------- */

/* A cipher handle keyed, with the nonce and the associated data in, ready
 * for the one final encrypt or decrypt; NULL on failure. */
static gcry_cipher_hd_t aead_open_handle(imc_aead aead, const uint8_t key[IMC_AEAD_KEY_BYTES],
                                         const uint8_t nonce[IMC_AEAD_NONCE_BYTES],
                                         const uint8_t *ad, size_t ad_len)
{
    gcry_cipher_hd_t h = NULL;
    int algo = aead == IMC_AEAD_CHACHA20POLY1305 ? GCRY_CIPHER_CHACHA20 : GCRY_CIPHER_AES256;
    int mode = aead == IMC_AEAD_CHACHA20POLY1305 ? GCRY_CIPHER_MODE_POLY1305 : GCRY_CIPHER_MODE_GCM;
    if (gcry_cipher_open(&h, algo, mode, 0) != 0)
        return NULL;
    if (gcry_cipher_setkey(h, key, IMC_AEAD_KEY_BYTES) != 0 ||
        gcry_cipher_setiv(h, nonce, IMC_AEAD_NONCE_BYTES) != 0 ||
        (ad_len > 0 && gcry_cipher_authenticate(h, ad, ad_len) != 0) ||
        gcry_cipher_final(h) != 0) {
        gcry_cipher_close(h);
        return NULL;
    }
    return h;
}

static int aead_known(imc_aead aead)
{
    return aead == IMC_AEAD_CHACHA20POLY1305 || aead == IMC_AEAD_AES256GCM;
}

static imc_status gc_aead_seal(imc_aead aead, uint8_t *out, const uint8_t key[IMC_AEAD_KEY_BYTES],
                               const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                               size_t ad_len, const uint8_t *in, size_t in_len)
{
    if (!aead_known(aead))
        return IMC_ERR_UNSUPPORTED;
    gcry_cipher_hd_t h = aead_open_handle(aead, key, nonce, ad, ad_len);
    if (h == NULL)
        return IMC_ERR_CRYPTO;
    int rc = 0;
    if (in_len > 0)
        rc = out == in ? gcry_cipher_encrypt(h, out, in_len, NULL, 0) != 0
                       : gcry_cipher_encrypt(h, out, in_len, in, in_len) != 0;
    rc = rc || gcry_cipher_gettag(h, out + in_len, IMC_AEAD_TAG_BYTES) != 0;
    gcry_cipher_close(h); /* wipes the key schedule */
    return rc ? IMC_ERR_CRYPTO : IMC_OK;
}

static imc_status gc_aead_open(imc_aead aead, uint8_t *out, const uint8_t key[IMC_AEAD_KEY_BYTES],
                               const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                               size_t ad_len, const uint8_t *in, size_t in_len)
{
    if (!aead_known(aead))
        return IMC_ERR_UNSUPPORTED;
    size_t ct_len = in_len - IMC_AEAD_TAG_BYTES;
    uint8_t tag[IMC_AEAD_TAG_BYTES];
    memcpy(tag, in + ct_len, sizeof tag); /* out may overwrite in */
    gcry_cipher_hd_t h = aead_open_handle(aead, key, nonce, ad, ad_len);
    if (h == NULL)
        return IMC_ERR_CRYPTO;
    int rc = 0;
    if (ct_len > 0)
        rc = out == in ? gcry_cipher_decrypt(h, out, ct_len, NULL, 0) != 0
                       : gcry_cipher_decrypt(h, out, ct_len, in, ct_len) != 0;
    /* checktag compares in constant time. */
    rc = rc || gcry_cipher_checktag(h, tag, sizeof tag) != 0;
    gcry_cipher_close(h);
    if (rc) {
        imc_wipe(out, ct_len);
        return IMC_ERR_AUTH;
    }
    return IMC_OK;
}

/* ---- Hashing ----------------------------------------------------------- */

static imc_status gc_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in, size_t in_len)
{
    gcry_md_hash_buffer(GCRY_MD_SHA256, out, nz(in), in_len);
    return IMC_OK;
}

/* HMAC-SHA-256 of a || b || c. libgcrypt refuses an empty HMAC key; HMAC
 * zero-pads its key to a block, so one zero byte is the same key. */
static int hmac_parts(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key, size_t key_len,
                      const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                      const uint8_t *c, size_t c_len)
{
    static const uint8_t zero_key[1] = {0};
    gcry_mac_hd_t h = NULL;
    size_t len = IMC_SHA256_BYTES;
    if (key_len == 0) {
        key = zero_key;
        key_len = sizeof zero_key;
    }
    int rc = gcry_mac_open(&h, GCRY_MAC_HMAC_SHA256, 0, NULL) != 0;
    rc = rc || gcry_mac_setkey(h, key, key_len) != 0;
    rc = rc || (a_len > 0 && gcry_mac_write(h, a, a_len) != 0);
    rc = rc || (b_len > 0 && gcry_mac_write(h, b, b_len) != 0);
    rc = rc || (c_len > 0 && gcry_mac_write(h, c, c_len) != 0);
    rc = rc || gcry_mac_read(h, out, &len) != 0 || len != IMC_SHA256_BYTES;
    gcry_mac_close(h);
    return rc;
}

static imc_status gc_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                 size_t key_len, const uint8_t *msg, size_t msg_len)
{
    return hmac_parts(out, key, key_len, msg, msg_len, NULL, 0, NULL, 0) ? IMC_ERR_CRYPTO
                                                                          : IMC_OK;
}

/* RFC 5869 over the HMAC above (libgcrypt 1.10's KDF interface has HKDF
 * only through a multi-step object API; two loops are simpler). */
static imc_status gc_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                                 size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                 const uint8_t *info, size_t info_len)
{
    uint8_t prk[IMC_SHA256_BYTES], t[IMC_SHA256_BYTES];
    size_t t_len = 0;
    uint8_t counter = 0;
    int rc = hmac_parts(prk, salt, salt_len, ikm, ikm_len, NULL, 0, NULL, 0);
    for (size_t off = 0; !rc && off < out_len; off += IMC_SHA256_BYTES) {
        size_t n = out_len - off < IMC_SHA256_BYTES ? out_len - off : IMC_SHA256_BYTES;
        counter++;
        rc = hmac_parts(t, prk, sizeof prk, t, t_len, info, info_len, &counter, 1);
        if (!rc)
            memcpy(out + off, t, n);
        t_len = sizeof t;
    }
    imc_wipe(prk, sizeof prk);
    imc_wipe(t, sizeof t);
    return rc ? IMC_ERR_CRYPTO : IMC_OK;
}

const imc_backend imc_backend_gcrypt = {
    .name = "gcrypt",
    .init = gc_init,
    .version = gc_version,
    .caps = gc_caps,
    .random = gc_random,
    .x25519_public = gc_x25519_public,
    .x25519 = gc_x25519,
    .ed25519_public = gc_ed25519_public,
    .ed25519_sign = gc_ed25519_sign,
    .ed25519_verify = gc_ed25519_verify,
    .p256_public = gc_p256_public,
    .p256_ecdh = gc_p256_ecdh,
    .ecdsa_p256_sign = gc_ecdsa_p256_sign,
    .ecdsa_p256_verify = gc_ecdsa_p256_verify,
    .aead_seal = gc_aead_seal,
    .aead_open = gc_aead_open,
    .sha256 = gc_sha256,
    .hmac_sha256 = gc_hmac_sha256,
    .hkdf_sha256 = gc_hkdf_sha256,
    .key_import = gc_key_import,
    .key_free = gc_key_free,
    .ed25519_sign_prepared = gc_ed25519_sign_prepared,
    .ed25519_verify_prepared = gc_ed25519_verify_prepared,
    .p256_ecdh_prepared = gc_p256_ecdh_prepared,
    .ecdsa_p256_sign_prepared = gc_ecdsa_sign_prepared,
    .ecdsa_p256_verify_prepared = gc_ecdsa_verify_prepared,
};
