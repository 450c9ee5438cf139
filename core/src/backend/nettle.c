/* The Nettle backend (Nettle 3.8 with hogweed and GMP): all three suites.
 *
 * Arguments arrive checked by the policy layer (crypto.c). Nettle has no
 * random source of its own (Yarrow must be seeded by the caller), so random
 * bytes come from the kernel (getrandom). Its P-256 code takes scalars and
 * points as GMP integers; the scalar's limbs are wiped before they are
 * freed (GMP itself does not wipe). ECDSA nonces are RFC 6979 (rfc6979.c),
 * handed to Nettle through its random-function parameter: ecdsa_sign()
 * reads the nonce as 32 big-endian bytes and keeps it when it is in
 * [1, n-1], which an RFC 6979 nonce always is. */
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <nettle/bignum.h>
#include <nettle/chacha-poly1305.h>
#include <nettle/curve25519.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <nettle/eddsa.h>
#include <nettle/gcm.h>
#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <nettle/version.h>

#include "backend/backend_impl.h"
#include "backend/sysrand.h"
#include "backend/rfc6979.h"
#include "imcore/util.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define P256_LIMBS ((256 + GMP_NUMB_BITS - 1) / GMP_NUMB_BITS)

static const uint8_t *nz(const uint8_t *p)
{
    static const uint8_t empty[1] = {0};
    return p != NULL ? p : empty;
}

static const char *ntl_version(void)
{
    if (nettle_version_major() == NETTLE_VERSION_MAJOR &&
        nettle_version_minor() == NETTLE_VERSION_MINOR)
        return "Nettle " STR(NETTLE_VERSION_MAJOR) "." STR(NETTLE_VERSION_MINOR);
    return "Nettle (run-time version differs from headers " STR(NETTLE_VERSION_MAJOR) "." STR(
        NETTLE_VERSION_MINOR) ")";
}

static uint32_t ntl_caps(void)
{
    return IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_AES256GCM |
           IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_SHA256;
}

static imc_status ntl_random(uint8_t *out, size_t len) { return imc_sysrand(out, len); }

/* ---- X25519 and Ed25519 ------------------------------------------------ */

static imc_status ntl_x25519_public(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                       const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    curve25519_mul_g(pk, sk); /* clamps the scalar itself */
    return IMC_OK;
}

static imc_status ntl_x25519(uint8_t shared[IMC_X25519_SHARED_BYTES],
                                const uint8_t sk[IMC_X25519_SECRET_BYTES],
                                const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    /* Ignores bit 255 of the u-coordinate, as RFC 7748 asks; the all-zero
     * result is the policy layer's to refuse. */
    curve25519_mul(shared, sk, pk);
    return IMC_OK;
}

static imc_status ntl_ed25519_public(uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                        const uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    ed25519_sha512_public_key(pk, sk);
    return IMC_OK;
}

static imc_status ntl_ed25519_sign(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                      const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                      const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                      const uint8_t *msg, size_t msg_len)
{
    /* Takes the public key as given, like the other backends. */
    ed25519_sha512_sign(pk, sk, msg_len, nz(msg), sig);
    return IMC_OK;
}

static imc_status ntl_ed25519_verify(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                        const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                        const uint8_t *msg, size_t msg_len)
{
    return ed25519_sha512_verify(pk, msg_len, nz(msg), sig) == 1 ? IMC_OK : IMC_ERR_AUTH;
}

/* ---- P-256 ------------------------------------------------------------- */

/* key = sk (in [1, n-1], checked by the policy layer). */
static void p256_scalar_load(struct ecc_scalar *key, const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    mpz_t z;
    mpz_init2(z, 256);
    nettle_mpz_set_str_256_u(z, IMC_P256_SECRET_BYTES, sk);
    ecc_scalar_init(key, nettle_get_secp_256r1());
    ecc_scalar_set(key, z);
    imc_wipe(mpz_limbs_write(z, P256_LIMBS), P256_LIMBS * sizeof(mp_limb_t));
    mpz_clear(z);
}

static void p256_scalar_free(struct ecc_scalar *key)
{
    imc_wipe(key->p, P256_LIMBS * sizeof(mp_limb_t));
    ecc_scalar_clear(key);
}

/* 1 if pk (04 || x || y, coordinates < p by the policy) is on the curve. */
static int p256_point_load(struct ecc_point *pt, const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    mpz_t x, y;
    mpz_init(x);
    mpz_init(y);
    nettle_mpz_set_str_256_u(x, 32, pk + 1);
    nettle_mpz_set_str_256_u(y, 32, pk + 33);
    ecc_point_init(pt, nettle_get_secp_256r1());
    int ok = ecc_point_set(pt, x, y); /* refuses points off the curve */
    mpz_clear(x);
    mpz_clear(y);
    return ok;
}

/* out = 04 || x || y of pt; shared-secret callers take x only. */
static void p256_point_store(uint8_t out[IMC_P256_PUBLIC_BYTES], const struct ecc_point *pt)
{
    mpz_t x, y;
    mpz_init(x);
    mpz_init(y);
    ecc_point_get(pt, x, y);
    out[0] = 0x04;
    nettle_mpz_get_str_256(32, out + 1, x);
    nettle_mpz_get_str_256(32, out + 33, y);
    mpz_clear(x);
    mpz_clear(y);
}

static imc_status ntl_p256_public(uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                     const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    struct ecc_scalar key;
    struct ecc_point pub;
    p256_scalar_load(&key, sk);
    ecc_point_init(&pub, nettle_get_secp_256r1());
    ecc_point_mul_g(&pub, &key);
    p256_point_store(pk, &pub);
    ecc_point_clear(&pub);
    p256_scalar_free(&key);
    return IMC_OK;
}

/* shared = x(key * pk); IMC_ERR_WEAK_KEY for a point off the curve. */
static imc_status p256_ecdh_key(uint8_t shared[IMC_P256_SHARED_BYTES],
                                const struct ecc_scalar *key,
                                const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    struct ecc_point peer, r;
    uint8_t full[IMC_P256_PUBLIC_BYTES];
    if (!p256_point_load(&peer, pk)) {
        ecc_point_clear(&peer);
        return IMC_ERR_WEAK_KEY;
    }
    ecc_point_init(&r, nettle_get_secp_256r1());
    ecc_point_mul(&r, key, &peer);
    p256_point_store(full, &r);
    memcpy(shared, full + 1, IMC_P256_SHARED_BYTES);
    imc_wipe(full, sizeof full);
    ecc_point_clear(&r);
    ecc_point_clear(&peer);
    return IMC_OK;
}

static imc_status ntl_p256_ecdh(uint8_t shared[IMC_P256_SHARED_BYTES],
                                   const uint8_t sk[IMC_P256_SECRET_BYTES],
                                   const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    struct ecc_scalar key;
    p256_scalar_load(&key, sk);
    imc_status st = p256_ecdh_key(shared, &key, pk);
    p256_scalar_free(&key);
    return st;
}

/* The "random" function ecdsa_sign() draws its nonce from: hands out the
 * RFC 6979 nonce, byte for byte. */
static void give_nonce(void *ctx, size_t len, uint8_t *dst)
{
    const uint8_t *k = ctx;
    memcpy(dst, k, len <= IMC_P256_SECRET_BYTES ? len : IMC_P256_SECRET_BYTES);
}

static imc_status ntl_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                     size_t key_len, const uint8_t *msg, size_t msg_len);

/* ECDSA with key (the scalar sk) and the RFC 6979 nonce for sk. */
static imc_status ecdsa_sign_key(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                 const struct ecc_scalar *key,
                                 const uint8_t sk[IMC_P256_SECRET_BYTES], const uint8_t *msg,
                                 size_t msg_len)
{
    uint8_t h[SHA256_DIGEST_SIZE], k[IMC_P256_SECRET_BYTES];
    struct sha256_ctx sha;
    sha256_init(&sha);
    sha256_update(&sha, msg_len, nz(msg));
    sha256_digest(&sha, sizeof h, h);
    if (imc_rfc6979_p256_k(k, sk, h, ntl_hmac_sha256) != IMC_OK)
        return IMC_ERR_CRYPTO;
    struct dsa_signature s;
    dsa_signature_init(&s);
    ecdsa_sign(key, k, give_nonce, sizeof h, h, &s);
    nettle_mpz_get_str_256(32, sig, s.r);
    nettle_mpz_get_str_256(32, sig + 32, s.s);
    dsa_signature_clear(&s);
    imc_wipe(k, sizeof k);
    return IMC_OK;
}

static imc_status ntl_ecdsa_p256_sign(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                         const uint8_t sk[IMC_P256_SECRET_BYTES],
                                         const uint8_t *msg, size_t msg_len)
{
    struct ecc_scalar key;
    p256_scalar_load(&key, sk);
    imc_status st = ecdsa_sign_key(sig, &key, sk, msg, msg_len);
    p256_scalar_free(&key);
    return st;
}

static imc_status ecdsa_verify_point(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                     const struct ecc_point *pub, const uint8_t *msg,
                                     size_t msg_len)
{
    uint8_t h[SHA256_DIGEST_SIZE];
    struct sha256_ctx sha;
    struct dsa_signature s;
    sha256_init(&sha);
    sha256_update(&sha, msg_len, nz(msg));
    sha256_digest(&sha, sizeof h, h);
    dsa_signature_init(&s);
    nettle_mpz_set_str_256_u(s.r, 32, sig);
    nettle_mpz_set_str_256_u(s.s, 32, sig + 32);
    int ok = ecdsa_verify(pub, sizeof h, h, &s);
    dsa_signature_clear(&s);
    return ok ? IMC_OK : IMC_ERR_AUTH;
}

static imc_status ntl_ecdsa_p256_verify(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                           const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                           const uint8_t *msg, size_t msg_len)
{
    struct ecc_point pub;
    imc_status st = p256_point_load(&pub, pk) ? ecdsa_verify_point(sig, &pub, msg, msg_len)
                                              : IMC_ERR_AUTH;
    ecc_point_clear(&pub);
    return st;
}

/* ---- Prepared P-256 keys ----------------------------------------------- */

/* The scalar or the point, converted and (for a point) checked on the
 * curve once: what the plain calls above do per call. Nettle's operations
 * take both as const and keep their scratch on the caller's stack or in
 * fresh allocations, so any number of threads may use one at once. X25519
 * and Ed25519 have no key objects in Nettle (curve25519_mul and
 * ed25519_sha512_sign take the raw bytes), so those keys stay raw bytes. */
typedef union ntl_p256_key {
    struct ecc_scalar scalar;
    struct ecc_point point;
} ntl_p256_key;

static imc_status ntl_key_import(void **native, imc_key_kind kind, const uint8_t *raw)
{
    *native = NULL;
    if (kind != IMC_KEY_P256_SECRET && kind != IMC_KEY_P256_PUBLIC)
        return IMC_OK;
    ntl_p256_key *k = malloc(sizeof *k);
    if (k == NULL)
        return IMC_ERR_NOMEM;
    if (kind == IMC_KEY_P256_SECRET) {
        p256_scalar_load(&k->scalar, raw);
    } else if (!p256_point_load(&k->point, raw)) {
        ecc_point_clear(&k->point);
        free(k);
        return IMC_ERR_WEAK_KEY;
    }
    *native = k;
    return IMC_OK;
}

static void ntl_key_free(imc_key_kind kind, void *native)
{
    ntl_p256_key *k = native;
    if (kind == IMC_KEY_P256_SECRET)
        p256_scalar_free(&k->scalar); /* wipes the limbs */
    else
        ecc_point_clear(&k->point);
    imc_wipe(k, sizeof *k);
    free(k);
}

static imc_status ntl_p256_ecdh_prepared(uint8_t shared[IMC_P256_SHARED_BYTES], void *sk,
                                         const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    return p256_ecdh_key(shared, &((ntl_p256_key *)sk)->scalar, pk);
}

static imc_status ntl_ecdsa_sign_prepared(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], void *sk,
                                          const uint8_t raw_sk[IMC_P256_SECRET_BYTES],
                                          const uint8_t *msg, size_t msg_len)
{
    return ecdsa_sign_key(sig, &((ntl_p256_key *)sk)->scalar, raw_sk, msg, msg_len);
}

static imc_status ntl_ecdsa_verify_prepared(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                            void *pk, const uint8_t *msg, size_t msg_len)
{
    return ecdsa_verify_point(sig, &((ntl_p256_key *)pk)->point, msg, msg_len);
}

/* ---- AEAD -------------------------------------------------------------- */

/* Both constructions MAC the ciphertext before decrypting it, block by
 * block, so in-place operation (out == in) is exact; open wipes what it
 * wrote when the tag does not match. */
typedef union aead_ctx {
    struct chacha_poly1305_ctx chacha;
    struct gcm_aes256_ctx gcm;
} aead_ctx;

static void aead_start(imc_aead aead, aead_ctx *c, const uint8_t key[IMC_AEAD_KEY_BYTES],
                       const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                       size_t ad_len)
{
    if (aead == IMC_AEAD_CHACHA20POLY1305) {
        chacha_poly1305_set_key(&c->chacha, key);
        chacha_poly1305_set_nonce(&c->chacha, nonce);
        chacha_poly1305_update(&c->chacha, ad_len, nz(ad));
    } else {
        gcm_aes256_set_key(&c->gcm, key);
        gcm_aes256_set_iv(&c->gcm, IMC_AEAD_NONCE_BYTES, nonce);
        gcm_aes256_update(&c->gcm, ad_len, nz(ad));
    }
}

static void aead_finish(imc_aead aead, aead_ctx *c, uint8_t tag[IMC_AEAD_TAG_BYTES])
{
    if (aead == IMC_AEAD_CHACHA20POLY1305)
        chacha_poly1305_digest(&c->chacha, IMC_AEAD_TAG_BYTES, tag);
    else
        gcm_aes256_digest(&c->gcm, IMC_AEAD_TAG_BYTES, tag);
}

static int aead_known(imc_aead aead)
{
    return aead == IMC_AEAD_CHACHA20POLY1305 || aead == IMC_AEAD_AES256GCM;
}

static imc_status ntl_aead_seal(imc_aead aead, uint8_t *out,
                                   const uint8_t key[IMC_AEAD_KEY_BYTES],
                                   const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                   size_t ad_len, const uint8_t *in, size_t in_len)
{
    if (!aead_known(aead))
        return IMC_ERR_UNSUPPORTED;
    aead_ctx c;
    aead_start(aead, &c, key, nonce, ad, ad_len);
    if (aead == IMC_AEAD_CHACHA20POLY1305)
        chacha_poly1305_encrypt(&c.chacha, in_len, out, nz(in));
    else
        gcm_aes256_encrypt(&c.gcm, in_len, out, nz(in));
    aead_finish(aead, &c, out + in_len);
    imc_wipe(&c, sizeof c);
    return IMC_OK;
}

static imc_status ntl_aead_open(imc_aead aead, uint8_t *out,
                                   const uint8_t key[IMC_AEAD_KEY_BYTES],
                                   const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                   size_t ad_len, const uint8_t *in, size_t in_len)
{
    if (!aead_known(aead))
        return IMC_ERR_UNSUPPORTED;
    size_t ct_len = in_len - IMC_AEAD_TAG_BYTES;
    uint8_t tag[IMC_AEAD_TAG_BYTES], want[IMC_AEAD_TAG_BYTES];
    memcpy(want, in + ct_len, sizeof want); /* out may overwrite in */
    aead_ctx c;
    aead_start(aead, &c, key, nonce, ad, ad_len);
    if (aead == IMC_AEAD_CHACHA20POLY1305)
        chacha_poly1305_decrypt(&c.chacha, ct_len, out, in);
    else
        gcm_aes256_decrypt(&c.gcm, ct_len, out, in);
    aead_finish(aead, &c, tag);
    imc_wipe(&c, sizeof c);
    int ok = memeql_sec(tag, want, sizeof tag);
    if (!ok) {
        imc_wipe(out, ct_len);
        return IMC_ERR_AUTH;
    }
    return IMC_OK;
}

/* ---- Hashing ----------------------------------------------------------- */

static imc_status ntl_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in, size_t in_len)
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, in_len, nz(in));
    sha256_digest(&c, IMC_SHA256_BYTES, out);
    return IMC_OK;
}

static imc_status ntl_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                     size_t key_len, const uint8_t *msg, size_t msg_len)
{
    struct hmac_sha256_ctx c;
    hmac_sha256_set_key(&c, key_len, nz(key));
    hmac_sha256_update(&c, msg_len, nz(msg));
    hmac_sha256_digest(&c, IMC_SHA256_BYTES, out);
    imc_wipe(&c, sizeof c);
    return IMC_OK;
}

/* Nettle's own RFC 5869 over its HMAC. An empty salt is an empty HMAC key,
 * which HMAC pads to the same block as HashLen zero bytes. */
static imc_status ntl_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                                     size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                     const uint8_t *info, size_t info_len)
{
    struct hmac_sha256_ctx c;
    uint8_t prk[SHA256_DIGEST_SIZE];
    hmac_sha256_set_key(&c, salt_len, nz(salt));
    hkdf_extract(&c, (nettle_hash_update_func *)hmac_sha256_update,
                 (nettle_hash_digest_func *)hmac_sha256_digest, SHA256_DIGEST_SIZE, ikm_len,
                 nz(ikm), prk);
    hmac_sha256_set_key(&c, sizeof prk, prk);
    hkdf_expand(&c, (nettle_hash_update_func *)hmac_sha256_update,
                (nettle_hash_digest_func *)hmac_sha256_digest, SHA256_DIGEST_SIZE, info_len,
                nz(info), out_len, out);
    imc_wipe(&c, sizeof c);
    imc_wipe(prk, sizeof prk);
    return IMC_OK;
}

const imc_backend imc_backend_nettle = {
    .name = "nettle",
    .init = NULL,
    .version = ntl_version,
    .caps = ntl_caps,
    .random = ntl_random,
    .x25519_public = ntl_x25519_public,
    .x25519 = ntl_x25519,
    .ed25519_public = ntl_ed25519_public,
    .ed25519_sign = ntl_ed25519_sign,
    .ed25519_verify = ntl_ed25519_verify,
    .p256_public = ntl_p256_public,
    .p256_ecdh = ntl_p256_ecdh,
    .ecdsa_p256_sign = ntl_ecdsa_p256_sign,
    .ecdsa_p256_verify = ntl_ecdsa_p256_verify,
    .aead_seal = ntl_aead_seal,
    .aead_open = ntl_aead_open,
    .sha256 = ntl_sha256,
    .hmac_sha256 = ntl_hmac_sha256,
    .hkdf_sha256 = ntl_hkdf_sha256,
    .key_import = ntl_key_import,
    .key_free = ntl_key_free,
    .p256_ecdh_prepared = ntl_p256_ecdh_prepared,
    .ecdsa_p256_sign_prepared = ntl_ecdsa_sign_prepared,
    .ecdsa_p256_verify_prepared = ntl_ecdsa_verify_prepared,
};
