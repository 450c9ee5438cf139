/* The Mbed TLS 2.28 backend: suite 2 (P-256, AES-256-GCM) plus X25519,
 * ChaCha20-Poly1305 and SHA-256/HMAC/HKDF. Mbed TLS 2.28 has no Ed25519,
 * so its capabilities leave it out and suites 1 and 3 are not supported;
 * a composition may still use its other primitives.
 *
 * Arguments arrive checked by the policy layer (crypto.c). Every call builds
 * its contexts on the stack and frees them (Mbed TLS wipes key material in
 * its *_free functions); no mutable state is shared. Random bytes, for the
 * caller and for Mbed TLS's scalar-multiplication blinding, come from the
 * kernel (getrandom). ECDSA is RFC 6979 (mbedtls_ecdsa_sign_det_ext), the
 * same nonce the other backends use. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "backend/backend_impl.h"
#include "backend/sysrand.h"

static const uint8_t *nz(const uint8_t *p)
{
    static const uint8_t empty[1] = {0};
    return p != NULL ? p : empty;
}

static const char *mbed_version(void)
{
    if (mbedtls_version_get_number() == MBEDTLS_VERSION_NUMBER)
        return "Mbed TLS " MBEDTLS_VERSION_STRING;
    return "Mbed TLS (run-time version differs from headers " MBEDTLS_VERSION_STRING ")";
}

static uint32_t mbed_caps(void)
{
    return IMC_CAP_X25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_AES256GCM | IMC_CAP_P256_ECDH |
           IMC_CAP_ECDSA_P256 | IMC_CAP_SHA256;
}

static imc_status mbed_random(uint8_t *out, size_t len) { return imc_sysrand(out, len); }

/* Mbed TLS's random-function shape, for blinding. */
static int blind_rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    return mbed_random(out, len) == IMC_OK ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

/* ---- X25519 ------------------------------------------------------------ */

/* out = X25519(sk, u) by RFC 7748: the scalar clamped, bit 255 of u
 * ignored and u reduced mod p (Mbed TLS expects a field element). */
static imc_status x25519_mul(uint8_t out[32], const uint8_t sk[32], const uint8_t u[32])
{
    uint8_t k[32], ub[32];
    imc_x25519_decode(k, ub, sk, u);
    mbedtls_ecp_group grp;
    mbedtls_ecp_point P, R;
    mbedtls_mpi d;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&P);
    mbedtls_ecp_point_init(&R);
    mbedtls_mpi_init(&d);
    int rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519);
    rc = rc != 0 ? rc : mbedtls_mpi_read_binary_le(&d, k, sizeof k);
    rc = rc != 0 ? rc : mbedtls_mpi_read_binary_le(&P.X, ub, sizeof ub);
    rc = rc != 0 ? rc : mbedtls_mpi_mod_mpi(&P.X, &P.X, &grp.P);
    rc = rc != 0 ? rc : mbedtls_mpi_lset(&P.Z, 1);
    rc = rc != 0 ? rc : mbedtls_ecp_mul(&grp, &R, &d, &P, blind_rng, NULL);
    rc = rc != 0 ? rc : mbedtls_mpi_write_binary_le(&R.X, out, 32);
    mbedtls_mpi_free(&d); /* zeroizes */
    mbedtls_ecp_point_free(&R);
    mbedtls_ecp_point_free(&P);
    mbedtls_ecp_group_free(&grp);
    mbedtls_platform_zeroize(k, sizeof k);
    if (rc != 0) {
        mbedtls_platform_zeroize(out, 32);
        return IMC_ERR_CRYPTO;
    }
    return IMC_OK;
}

static imc_status mbed_x25519_public(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                     const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    static const uint8_t base_point[32] = {9};
    return x25519_mul(pk, sk, base_point);
}

static imc_status mbed_x25519(uint8_t shared[IMC_X25519_SHARED_BYTES],
                              const uint8_t sk[IMC_X25519_SECRET_BYTES],
                              const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    return x25519_mul(shared, sk, pk);
}

/* ---- P-256 ------------------------------------------------------------- */

typedef struct p256 {
    mbedtls_ecp_group grp;
    mbedtls_ecp_point Q;
    mbedtls_mpi d, r, s, z;
} p256;

static int p256_open(p256 *c)
{
    mbedtls_ecp_group_init(&c->grp);
    mbedtls_ecp_point_init(&c->Q);
    mbedtls_mpi_init(&c->d);
    mbedtls_mpi_init(&c->r);
    mbedtls_mpi_init(&c->s);
    mbedtls_mpi_init(&c->z);
    return mbedtls_ecp_group_load(&c->grp, MBEDTLS_ECP_DP_SECP256R1);
}

static void p256_close(p256 *c)
{
    mbedtls_mpi_free(&c->z);
    mbedtls_mpi_free(&c->s);
    mbedtls_mpi_free(&c->r);
    mbedtls_mpi_free(&c->d);
    mbedtls_ecp_point_free(&c->Q);
    mbedtls_ecp_group_free(&c->grp);
}

/* c->Q = pk; 0 only for a point on the curve. */
static int p256_load_point(p256 *c, const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    int rc = mbedtls_ecp_point_read_binary(&c->grp, &c->Q, pk, IMC_P256_PUBLIC_BYTES);
    return rc != 0 ? rc : mbedtls_ecp_check_pubkey(&c->grp, &c->Q);
}

static imc_status mbed_p256_public(uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                   const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    p256 c;
    size_t olen = 0;
    int rc = p256_open(&c);
    rc = rc != 0 ? rc : mbedtls_mpi_read_binary(&c.d, sk, IMC_P256_SECRET_BYTES);
    rc = rc != 0 ? rc : mbedtls_ecp_mul(&c.grp, &c.Q, &c.d, &c.grp.G, blind_rng, NULL);
    rc = rc != 0 ? rc
                 : mbedtls_ecp_point_write_binary(&c.grp, &c.Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                                  &olen, pk, IMC_P256_PUBLIC_BYTES);
    p256_close(&c);
    return rc == 0 && olen == IMC_P256_PUBLIC_BYTES ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status mbed_p256_ecdh(uint8_t shared[IMC_P256_SHARED_BYTES],
                                 const uint8_t sk[IMC_P256_SECRET_BYTES],
                                 const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    p256 c;
    imc_status st = IMC_ERR_CRYPTO;
    if (p256_open(&c) == 0) {
        if (p256_load_point(&c, pk) != 0)
            st = IMC_ERR_WEAK_KEY;
        else if (mbedtls_mpi_read_binary(&c.d, sk, IMC_P256_SECRET_BYTES) == 0 &&
                 mbedtls_ecdh_compute_shared(&c.grp, &c.z, &c.Q, &c.d, blind_rng, NULL) == 0 &&
                 mbedtls_mpi_write_binary(&c.z, shared, IMC_P256_SHARED_BYTES) == 0)
            st = IMC_OK;
    }
    p256_close(&c);
    if (st != IMC_OK)
        mbedtls_platform_zeroize(shared, IMC_P256_SHARED_BYTES);
    return st;
}

static imc_status mbed_ecdsa_p256_sign(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                       const uint8_t sk[IMC_P256_SECRET_BYTES],
                                       const uint8_t *msg, size_t msg_len)
{
    uint8_t h[32];
    p256 c;
    int rc = mbedtls_sha256_ret(nz(msg), msg_len, h, 0);
    rc = rc != 0 ? rc : p256_open(&c);
    rc = rc != 0 ? rc : mbedtls_mpi_read_binary(&c.d, sk, IMC_P256_SECRET_BYTES);
    rc = rc != 0 ? rc
                 : mbedtls_ecdsa_sign_det_ext(&c.grp, &c.r, &c.s, &c.d, h, sizeof h,
                                              MBEDTLS_MD_SHA256, blind_rng, NULL);
    rc = rc != 0 ? rc : mbedtls_mpi_write_binary(&c.r, sig, 32);
    rc = rc != 0 ? rc : mbedtls_mpi_write_binary(&c.s, sig + 32, 32);
    p256_close(&c);
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status mbed_ecdsa_p256_verify(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                         const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                         const uint8_t *msg, size_t msg_len)
{
    uint8_t h[32];
    p256 c;
    int rc = mbedtls_sha256_ret(nz(msg), msg_len, h, 0);
    rc = rc != 0 ? rc : p256_open(&c);
    rc = rc != 0 ? rc : p256_load_point(&c, pk);
    rc = rc != 0 ? rc : mbedtls_mpi_read_binary(&c.r, sig, 32);
    rc = rc != 0 ? rc : mbedtls_mpi_read_binary(&c.s, sig + 32, 32);
    rc = rc != 0 ? rc : mbedtls_ecdsa_verify(&c.grp, h, sizeof h, &c.Q, &c.r, &c.s);
    p256_close(&c);
    return rc == 0 ? IMC_OK : IMC_ERR_AUTH;
}

/* ---- Prepared P-256 keys ----------------------------------------------- */

/* A prepared P-256 key: the group, loaded once, and the scalar or the
 * point. Mbed TLS keeps the fixed-base comb table for G in the group (grp.T)
 * and computes it at the first multiplication of G, writing the group.
 * Keeping the table is what makes a prepared key faster here (the plain
 * calls rebuild it every time), but ECDH never multiplies G, so the table
 * is built at the first signature or verification only (g_table_ready()),
 * once, under the key's lock; afterwards the calls only read the group and
 * any number of threads may use the key at once. */
typedef struct p256_key {
    p256 c; /* grp, and d (secret) or Q (public) */
    pthread_mutex_t lock;
    atomic_int g_table; /* 1 once grp.T holds the table for G */
} p256_key;

/* 0 once the key's group has its table for G (see above). */
static int g_table_ready(p256_key *k)
{
    if (atomic_load_explicit(&k->g_table, memory_order_acquire))
        return 0;
    int rc = pthread_mutex_lock(&k->lock);
    if (rc != 0)
        return rc;
    if (!atomic_load_explicit(&k->g_table, memory_order_relaxed)) {
        static const uint8_t one[1] = {1};
        mbedtls_ecp_point T;
        mbedtls_mpi m;
        mbedtls_ecp_point_init(&T);
        mbedtls_mpi_init(&m);
        rc = mbedtls_mpi_read_binary(&m, one, sizeof one);
        /* 1 * G fills grp.T; any scalar would. */
        rc = rc != 0 ? rc : mbedtls_ecp_mul(&k->c.grp, &T, &m, &k->c.grp.G, blind_rng, NULL);
        if (rc == 0 && k->c.grp.T == NULL)
            rc = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
        if (rc == 0)
            atomic_store_explicit(&k->g_table, 1, memory_order_release);
        mbedtls_mpi_free(&m);
        mbedtls_ecp_point_free(&T);
    }
    (void)pthread_mutex_unlock(&k->lock);
    return rc;
}

static void p256_key_free(p256_key *k)
{
    if (k != NULL) {
        (void)pthread_mutex_destroy(&k->lock);
        p256_close(&k->c); /* mbedtls_mpi_free zeroizes d */
        mbedtls_platform_zeroize(k, sizeof *k);
        free(k);
    }
}

static imc_status mbed_key_import(void **native, imc_key_kind kind, const uint8_t *raw)
{
    *native = NULL;
    if (kind != IMC_KEY_P256_SECRET && kind != IMC_KEY_P256_PUBLIC)
        return IMC_OK; /* X25519: nothing worth keeping beyond the bytes */
    p256_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return IMC_ERR_NOMEM;
    if (pthread_mutex_init(&k->lock, NULL) != 0) {
        free(k);
        return IMC_ERR_CRYPTO;
    }
    atomic_init(&k->g_table, 0);
    int rc = p256_open(&k->c);
    if (kind == IMC_KEY_P256_SECRET)
        rc = rc != 0 ? rc : mbedtls_mpi_read_binary(&k->c.d, raw, IMC_P256_SECRET_BYTES);
    else
        rc = rc != 0 ? rc : p256_load_point(&k->c, raw);
    if (rc != 0) {
        p256_key_free(k);
        return IMC_ERR_CRYPTO;
    }
    *native = k;
    return IMC_OK;
}

static void mbed_key_free(imc_key_kind kind, void *native)
{
    (void)kind;
    p256_key_free(native);
}

static imc_status mbed_p256_ecdh_prepared(uint8_t shared[IMC_P256_SHARED_BYTES], void *sk,
                                          const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    p256_key *k = sk;
    mbedtls_ecp_point Q;
    mbedtls_mpi z;
    mbedtls_ecp_point_init(&Q);
    mbedtls_mpi_init(&z);
    imc_status st = IMC_ERR_CRYPTO;
    if (mbedtls_ecp_point_read_binary(&k->c.grp, &Q, pk, IMC_P256_PUBLIC_BYTES) != 0 ||
        mbedtls_ecp_check_pubkey(&k->c.grp, &Q) != 0)
        st = IMC_ERR_WEAK_KEY;
    else if (mbedtls_ecdh_compute_shared(&k->c.grp, &z, &Q, &k->c.d, blind_rng, NULL) == 0 &&
             mbedtls_mpi_write_binary(&z, shared, IMC_P256_SHARED_BYTES) == 0)
        st = IMC_OK;
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&Q);
    if (st != IMC_OK)
        mbedtls_platform_zeroize(shared, IMC_P256_SHARED_BYTES);
    return st;
}

static imc_status mbed_ecdsa_sign_prepared(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], void *sk,
                                           const uint8_t raw_sk[32], const uint8_t *msg,
                                           size_t msg_len)
{
    (void)raw_sk;
    p256_key *k = sk;
    uint8_t h[32];
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int rc = mbedtls_sha256_ret(nz(msg), msg_len, h, 0);
    rc = rc != 0 ? rc : g_table_ready(k);
    rc = rc != 0 ? rc
                 : mbedtls_ecdsa_sign_det_ext(&k->c.grp, &r, &s, &k->c.d, h, sizeof h,
                                              MBEDTLS_MD_SHA256, blind_rng, NULL);
    rc = rc != 0 ? rc : mbedtls_mpi_write_binary(&r, sig, 32);
    rc = rc != 0 ? rc : mbedtls_mpi_write_binary(&s, sig + 32, 32);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status mbed_ecdsa_verify_prepared(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                             void *pk, const uint8_t *msg, size_t msg_len)
{
    p256_key *k = pk;
    uint8_t h[32];
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int rc = mbedtls_sha256_ret(nz(msg), msg_len, h, 0);
    rc = rc != 0 ? rc : g_table_ready(k);
    rc = rc != 0 ? rc : mbedtls_mpi_read_binary(&r, sig, 32);
    rc = rc != 0 ? rc : mbedtls_mpi_read_binary(&s, sig + 32, 32);
    rc = rc != 0 ? rc : mbedtls_ecdsa_verify(&k->c.grp, h, sizeof h, &k->c.Q, &r, &s);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    return rc == 0 ? IMC_OK : IMC_ERR_AUTH;
}

/* ---- AEAD -------------------------------------------------------------- */

/* Both decryptions MAC the ciphertext block by block before decrypting it,
 * so out == in is exact, and both zeroize the output when the tag does not
 * match. */
static imc_status mbed_aead_seal(imc_aead aead, uint8_t *out,
                                 const uint8_t key[IMC_AEAD_KEY_BYTES],
                                 const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                 size_t ad_len, const uint8_t *in, size_t in_len)
{
    int rc;
    if (aead == IMC_AEAD_CHACHA20POLY1305) {
        mbedtls_chachapoly_context c;
        mbedtls_chachapoly_init(&c);
        rc = mbedtls_chachapoly_setkey(&c, key);
        rc = rc != 0 ? rc
                     : mbedtls_chachapoly_encrypt_and_tag(&c, in_len, nonce, nz(ad), ad_len,
                                                          nz(in), out, out + in_len);
        mbedtls_chachapoly_free(&c);
    } else if (aead == IMC_AEAD_AES256GCM) {
        mbedtls_gcm_context c;
        mbedtls_gcm_init(&c);
        rc = mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_AES, key, 256);
        rc = rc != 0 ? rc
                     : mbedtls_gcm_crypt_and_tag(&c, MBEDTLS_GCM_ENCRYPT, in_len, nonce,
                                                 IMC_AEAD_NONCE_BYTES, nz(ad), ad_len, nz(in),
                                                 out, IMC_AEAD_TAG_BYTES, out + in_len);
        mbedtls_gcm_free(&c);
    } else {
        return IMC_ERR_UNSUPPORTED;
    }
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status mbed_aead_open(imc_aead aead, uint8_t *out,
                                 const uint8_t key[IMC_AEAD_KEY_BYTES],
                                 const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                 size_t ad_len, const uint8_t *in, size_t in_len)
{
    size_t ct_len = in_len - IMC_AEAD_TAG_BYTES;
    int rc;
    if (aead == IMC_AEAD_CHACHA20POLY1305) {
        mbedtls_chachapoly_context c;
        mbedtls_chachapoly_init(&c);
        rc = mbedtls_chachapoly_setkey(&c, key);
        rc = rc != 0 ? rc
                     : mbedtls_chachapoly_auth_decrypt(&c, ct_len, nonce, nz(ad), ad_len,
                                                       in + ct_len, in, out);
        mbedtls_chachapoly_free(&c);
    } else if (aead == IMC_AEAD_AES256GCM) {
        mbedtls_gcm_context c;
        mbedtls_gcm_init(&c);
        rc = mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_AES, key, 256);
        rc = rc != 0 ? rc
                     : mbedtls_gcm_auth_decrypt(&c, ct_len, nonce, IMC_AEAD_NONCE_BYTES, nz(ad),
                                                ad_len, in + ct_len, IMC_AEAD_TAG_BYTES, in,
                                                out);
        mbedtls_gcm_free(&c);
    } else {
        return IMC_ERR_UNSUPPORTED;
    }
    if (rc != 0) {
        mbedtls_platform_zeroize(out, ct_len);
        return IMC_ERR_AUTH;
    }
    return IMC_OK;
}

/* ---- Hashing ----------------------------------------------------------- */

static imc_status mbed_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in, size_t in_len)
{
    return mbedtls_sha256_ret(nz(in), in_len, out, 0) == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status mbed_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                   size_t key_len, const uint8_t *msg, size_t msg_len)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    return md != NULL && mbedtls_md_hmac(md, nz(key), key_len, nz(msg), msg_len, out) == 0
               ? IMC_OK
               : IMC_ERR_CRYPTO;
}

/* Mbed TLS's RFC 5869; its empty salt is an empty HMAC key, the same PRK
 * as HashLen zero bytes. */
static imc_status mbed_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                                   size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                   const uint8_t *info, size_t info_len)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    return md != NULL && mbedtls_hkdf(md, nz(salt), salt_len, nz(ikm), ikm_len, nz(info),
                                      info_len, out, out_len) == 0
               ? IMC_OK
               : IMC_ERR_CRYPTO;
}

const imc_backend imc_backend_mbedtls = {
    .name = "mbedtls",
    .init = NULL,
    .version = mbed_version,
    .caps = mbed_caps,
    .random = mbed_random,
    .x25519_public = mbed_x25519_public,
    .x25519 = mbed_x25519,
    /* Mbed TLS 2.28 has no Ed25519. */
    .ed25519_public = NULL,
    .ed25519_sign = NULL,
    .ed25519_verify = NULL,
    .p256_public = mbed_p256_public,
    .p256_ecdh = mbed_p256_ecdh,
    .ecdsa_p256_sign = mbed_ecdsa_p256_sign,
    .ecdsa_p256_verify = mbed_ecdsa_p256_verify,
    .aead_seal = mbed_aead_seal,
    .aead_open = mbed_aead_open,
    .sha256 = mbed_sha256,
    .hmac_sha256 = mbed_hmac_sha256,
    .hkdf_sha256 = mbed_hkdf_sha256,
    .key_import = mbed_key_import,
    .key_free = mbed_key_free,
    .p256_ecdh_prepared = mbed_p256_ecdh_prepared,
    .ecdsa_p256_sign_prepared = mbed_ecdsa_sign_prepared,
    .ecdsa_p256_verify_prepared = mbed_ecdsa_verify_prepared,
};
