/* The libsodium backend: X25519, Ed25519, ChaCha20-Poly1305, AES-256-GCM
 * (only on CPUs with AES-NI and PCLMUL) and SHA-256/HMAC/HKDF. No P-256.
 *
 * Arguments arrive checked by the policy layer (crypto.c); this file only
 * maps libsodium calls and results onto imc_status, and wipes every secret
 * temporary it creates. No mutable globals, no allocation. */
#include <string.h>

#include <sodium.h>

#include "backend/backend_impl.h"

/* libsodium 1.0.18 has no HKDF; the expand step needs 8-bit block counters. */
#define HKDF_MAX_BLOCKS 255

/* A non-NULL stand-in for an empty buffer, so no NULL pointer reaches a
 * memcpy inside the library even with a zero length. */
static const uint8_t *nz(const uint8_t *p)
{
    static const uint8_t empty[1] = {0};
    return p != NULL ? p : empty;
}

static imc_status sodium_backend_init(void)
{
    /* 0 = first init, 1 = already initialised; both fine. sodium_init() is
     * itself idempotent and thread-safe. */
    return sodium_init() < 0 ? IMC_ERR_CRYPTO : IMC_OK;
}

static const char *sodium_backend_version(void)
{
    /* A string constant keeps the backend free of mutable state; if the
     * library loaded at run time is not the one we were compiled against,
     * say so instead of reporting the header version as fact. */
    if (strcmp(sodium_version_string(), SODIUM_VERSION_STRING) == 0)
        return "libsodium " SODIUM_VERSION_STRING;
    return "libsodium (run-time version differs from headers " SODIUM_VERSION_STRING ")";
}

static int aes256gcm_ok(void) { return crypto_aead_aes256gcm_is_available() == 1; }

static uint32_t sodium_backend_caps(void)
{
    uint32_t caps = IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_SHA256;
    if (aes256gcm_ok())
        caps |= IMC_CAP_AES256GCM;
    return caps;
}

static imc_status sodium_random(uint8_t *out, size_t len)
{
    randombytes_buf(out, len);
    return IMC_OK;
}

/* ---- X25519 ------------------------------------------------------------ */

static imc_status sodium_x25519_public(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                       const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    if (crypto_scalarmult_base(pk, sk) != 0) {
        sodium_memzero(pk, IMC_X25519_PUBLIC_BYTES);
        return IMC_ERR_WEAK_KEY;
    }
    return IMC_OK;
}

static imc_status sodium_x25519(uint8_t shared[IMC_X25519_SHARED_BYTES],
                                const uint8_t sk[IMC_X25519_SECRET_BYTES],
                                const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    /* -1 means an all-zero result, or (1.0.18 ref10) a blacklisted
     * small-order point refused before any output was written. */
    if (crypto_scalarmult(shared, sk, pk) != 0) {
        sodium_memzero(shared, IMC_X25519_SHARED_BYTES);
        return IMC_ERR_WEAK_KEY;
    }
    return IMC_OK;
}

/* ---- Ed25519 ----------------------------------------------------------- */

static imc_status sodium_ed25519_public(uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                        const uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    uint8_t sk64[crypto_sign_SECRETKEYBYTES];
    uint8_t pk_tmp[crypto_sign_PUBLICKEYBYTES];
    int rc = crypto_sign_seed_keypair(pk_tmp, sk64, sk);
    if (rc == 0)
        memcpy(pk, pk_tmp, IMC_ED25519_PUBLIC_BYTES);
    sodium_memzero(sk64, sizeof sk64);
    sodium_memzero(pk_tmp, sizeof pk_tmp);
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status sodium_ed25519_sign(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                      const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                      const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                      const uint8_t *msg, size_t msg_len)
{
    /* libsodium's secret key is seed || pk and it takes the public key from
     * there as is; building it from the caller's pk saves the scalar
     * multiplication crypto_sign_seed_keypair() would do per signature. */
    uint8_t sk64[crypto_sign_SECRETKEYBYTES];
    memcpy(sk64, sk, IMC_ED25519_SECRET_BYTES);
    memcpy(sk64 + IMC_ED25519_SECRET_BYTES, pk, IMC_ED25519_PUBLIC_BYTES);
    int rc = crypto_sign_detached(sig, NULL, nz(msg), msg_len, sk64);
    sodium_memzero(sk64, sizeof sk64);
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status sodium_ed25519_verify(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                        const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                        const uint8_t *msg, size_t msg_len)
{
    return crypto_sign_verify_detached(sig, nz(msg), msg_len, pk) == 0 ? IMC_OK : IMC_ERR_AUTH;
}

/* ---- AEAD -------------------------------------------------------------- */

/* Both constructions are used in detached form with the tag written or read
 * right after the ciphertext: exactly the combined layout, but with no
 * length out-parameters. libsodium verifies the tag before decrypting
 * anything, so the plaintext may overwrite the ciphertext (out == in) and
 * never reaches the tag bytes. Over-long messages are refused here, since
 * libsodium would abort() on them. */

static imc_status sodium_aead_seal(imc_aead aead, uint8_t *out,
                                   const uint8_t key[IMC_AEAD_KEY_BYTES],
                                   const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                   size_t ad_len, const uint8_t *in, size_t in_len)
{
    uint8_t *tag = out + in_len;
    int rc;
    switch (aead) {
    case IMC_AEAD_CHACHA20POLY1305:
        if (in_len > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX)
            return IMC_ERR_ARG;
        rc = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            out, tag, NULL, nz(in), in_len, nz(ad), ad_len, NULL, nonce, key);
        break;
    case IMC_AEAD_AES256GCM:
        if (!aes256gcm_ok())
            return IMC_ERR_UNSUPPORTED;
        if (in_len > crypto_aead_aes256gcm_MESSAGEBYTES_MAX)
            return IMC_ERR_ARG;
        rc = crypto_aead_aes256gcm_encrypt_detached(out, tag, NULL, nz(in), in_len, nz(ad),
                                                    ad_len, NULL, nonce, key);
        break;
    default:
        return IMC_ERR_UNSUPPORTED;
    }
    if (rc != 0) {
        sodium_memzero(out, in_len + IMC_AEAD_TAG_BYTES);
        return IMC_ERR_CRYPTO;
    }
    return IMC_OK;
}

static imc_status sodium_aead_open(imc_aead aead, uint8_t *out,
                                   const uint8_t key[IMC_AEAD_KEY_BYTES],
                                   const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                   size_t ad_len, const uint8_t *in, size_t in_len)
{
    size_t ct_len = in_len - IMC_AEAD_TAG_BYTES;
    const uint8_t *tag = in + ct_len;
    int rc;
    switch (aead) {
    case IMC_AEAD_CHACHA20POLY1305:
        /* Longer than any seal can produce: cannot be authentic. */
        if (ct_len > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX)
            rc = -1;
        else
            rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                out, NULL, in, ct_len, tag, nz(ad), ad_len, nonce, key);
        break;
    case IMC_AEAD_AES256GCM:
        if (!aes256gcm_ok())
            return IMC_ERR_UNSUPPORTED;
        if (ct_len > crypto_aead_aes256gcm_MESSAGEBYTES_MAX)
            rc = -1;
        else
            rc = crypto_aead_aes256gcm_decrypt_detached(out, NULL, in, ct_len, tag, nz(ad),
                                                        ad_len, nonce, key);
        break;
    default:
        return IMC_ERR_UNSUPPORTED;
    }
    if (rc != 0) {
        sodium_memzero(out, ct_len);
        return IMC_ERR_AUTH;
    }
    return IMC_OK;
}

/* ---- Hashing ----------------------------------------------------------- */

static imc_status sodium_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in, size_t in_len)
{
    return crypto_hash_sha256(out, nz(in), in_len) == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status sodium_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                     size_t key_len, const uint8_t *msg, size_t msg_len)
{
    /* The multi-part API takes keys of any length (longer than a block are
     * hashed first, as in RFC 2104); the one-shot crypto_auth_hmacsha256()
     * only takes 32-byte keys. */
    crypto_auth_hmacsha256_state st;
    int rc = crypto_auth_hmacsha256_init(&st, nz(key), key_len);
    rc |= crypto_auth_hmacsha256_update(&st, nz(msg), msg_len);
    rc |= crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

/* RFC 5869 on top of the HMAC state. The PRK-keyed state is built once and
 * copied for each output block, which saves two compressions per block. */
static imc_status sodium_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                                     size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                     const uint8_t *info, size_t info_len)
{
    /* RFC 5869 2.2: no salt means HashLen zero bytes. (HMAC zero-pads its
     * key, so an empty key would give the same PRK; this is just literal.) */
    static const uint8_t zero_salt[IMC_SHA256_BYTES] = {0};
    uint8_t prk[IMC_SHA256_BYTES];
    uint8_t t[IMC_SHA256_BYTES];
    crypto_auth_hmacsha256_state keyed, st;
    int rc = 0;

    if (out_len == 0 || out_len > (size_t)HKDF_MAX_BLOCKS * IMC_SHA256_BYTES)
        return IMC_ERR_ARG;

    /* Extract: PRK = HMAC(salt, IKM). */
    if (salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    rc |= crypto_auth_hmacsha256_init(&st, salt, salt_len);
    rc |= crypto_auth_hmacsha256_update(&st, nz(ikm), ikm_len);
    rc |= crypto_auth_hmacsha256_final(&st, prk);

    /* Expand: T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty. */
    rc |= crypto_auth_hmacsha256_init(&keyed, prk, sizeof prk);
    size_t done = 0;
    for (unsigned i = 1; rc == 0 && done < out_len; i++) {
        uint8_t ctr = (uint8_t)i;
        st = keyed;
        if (i > 1)
            rc |= crypto_auth_hmacsha256_update(&st, t, sizeof t);
        rc |= crypto_auth_hmacsha256_update(&st, nz(info), info_len);
        rc |= crypto_auth_hmacsha256_update(&st, &ctr, 1);
        rc |= crypto_auth_hmacsha256_final(&st, t);
        size_t n = out_len - done < sizeof t ? out_len - done : sizeof t;
        memcpy(out + done, t, n);
        done += n;
    }

    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    sodium_memzero(&keyed, sizeof keyed);
    sodium_memzero(&st, sizeof st);
    if (rc != 0) {
        sodium_memzero(out, out_len);
        return IMC_ERR_CRYPTO;
    }
    return IMC_OK;
}

const imc_backend imc_backend_sodium = {
    .name = "sodium",
    .init = sodium_backend_init,
    .version = sodium_backend_version,
    .caps = sodium_backend_caps,
    .random = sodium_random,
    .x25519_public = sodium_x25519_public,
    .x25519 = sodium_x25519,
    .ed25519_public = sodium_ed25519_public,
    .ed25519_sign = sodium_ed25519_sign,
    .ed25519_verify = sodium_ed25519_verify,
    /* libsodium has no P-256. */
    .p256_public = NULL,
    .p256_ecdh = NULL,
    .ecdsa_p256_sign = NULL,
    .ecdsa_p256_verify = NULL,
    .aead_seal = sodium_aead_seal,
    .aead_open = sodium_aead_open,
    .sha256 = sodium_sha256,
    .hmac_sha256 = sodium_hmac_sha256,
    .hkdf_sha256 = sodium_hkdf_sha256,
};
