/* imcore/crypto.h: argument checks and the validation policy in front of
 * the backend vtable. The backend is only reached with well-formed lengths;
 * every output is wiped on failure. */
#include <string.h>

#include "backend/backend_impl.h"
#include "backend/policy.h"
#include "imcore/crypto.h"
#include "imcore/util.h"

/* A NULL pointer is only allowed with a zero length. */
#define BUF_OK(p, n) ((p) != NULL || (n) == 0)

static imc_status need(const imc_backend *b, uint32_t cap, int has_fn)
{
    if (b == NULL)
        return IMC_ERR_ARG;
    if (!has_fn || (b->caps() & cap) != cap)
        return IMC_ERR_UNSUPPORTED;
    return IMC_OK;
}

/* IMC_OK if backend b implements member fn and reports capability cap. */
#define NEED(b, cap, fn) need((b), (cap), (b) != NULL && (b)->fn != NULL)

static imc_status fail_wipe(imc_status st, void *out, size_t n)
{
    if (st != IMC_OK)
        imc_wipe(out, n);
    return st;
}

imc_status imc_crypto_random(const imc_backend *b, uint8_t *out, size_t len)
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_RANDOM);
    if (b == NULL || !BUF_OK(out, len))
        return IMC_ERR_ARG;
    if (b->random == NULL)
        return IMC_ERR_UNSUPPORTED;
    return len == 0 ? IMC_OK : b->random(out, len);
}

/* ---- X25519 ------------------------------------------------------------ */

imc_status imc_crypto_x25519_public(const imc_backend *b, uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                    const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_X25519);
    imc_status st = NEED(b, IMC_CAP_X25519, x25519_public);
    if (st != IMC_OK || pk == NULL || sk == NULL)
        return st != IMC_OK ? st : IMC_ERR_ARG;
    return fail_wipe(b->x25519_public(pk, sk), pk, IMC_X25519_PUBLIC_BYTES);
}

imc_status imc_crypto_x25519_keygen(const imc_backend *b, imc_rng *rng,
                                    uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                    uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    if (pk == NULL || sk == NULL)
        return IMC_ERR_ARG;
    imc_status st = imc_rng_fill(rng, b, sk, IMC_X25519_SECRET_BYTES);
    if (st == IMC_OK)
        st = imc_crypto_x25519_public(b, pk, sk);
    return fail_wipe(st, sk, IMC_X25519_SECRET_BYTES);
}

imc_status imc_crypto_x25519(const imc_backend *b, uint8_t shared[IMC_X25519_SHARED_BYTES],
                             const uint8_t sk[IMC_X25519_SECRET_BYTES],
                             const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_X25519);
    imc_status st = NEED(b, IMC_CAP_X25519, x25519);
    if (st != IMC_OK || shared == NULL || sk == NULL || pk == NULL)
        return st != IMC_OK ? st : IMC_ERR_ARG;
    /* Policy: a low-order peer key gives an all-zero secret; refuse it on
     * every backend with the same status before the library sees it (the
     * libraries fail on it too, each in its own way), and refuse a zero
     * result whatever the library did, should the list ever miss one. */
    if (!imc_policy_x25519_public_ok(pk))
        st = IMC_ERR_WEAK_KEY;
    else
        st = b->x25519(shared, sk, pk);
    if (st == IMC_OK && imc_ct_is_zero(shared, IMC_X25519_SHARED_BYTES))
        st = IMC_ERR_WEAK_KEY;
    return fail_wipe(st, shared, IMC_X25519_SHARED_BYTES);
}

/* ---- Ed25519 ----------------------------------------------------------- */

imc_status imc_crypto_ed25519_public(const imc_backend *b, uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                     const uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_ED25519);
    imc_status st = NEED(b, IMC_CAP_ED25519, ed25519_public);
    if (st != IMC_OK || pk == NULL || sk == NULL)
        return st != IMC_OK ? st : IMC_ERR_ARG;
    return fail_wipe(b->ed25519_public(pk, sk), pk, IMC_ED25519_PUBLIC_BYTES);
}

imc_status imc_crypto_ed25519_keygen(const imc_backend *b, imc_rng *rng,
                                     uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                     uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    if (pk == NULL || sk == NULL)
        return IMC_ERR_ARG;
    imc_status st = imc_rng_fill(rng, b, sk, IMC_ED25519_SECRET_BYTES);
    if (st == IMC_OK)
        st = imc_crypto_ed25519_public(b, pk, sk);
    return fail_wipe(st, sk, IMC_ED25519_SECRET_BYTES);
}

imc_status imc_crypto_ed25519_sign(const imc_backend *b, uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                   const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                   const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                   const uint8_t *msg, size_t msg_len)
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_ED25519);
    imc_status st = NEED(b, IMC_CAP_ED25519, ed25519_sign);
    if (st != IMC_OK || sig == NULL || sk == NULL || pk == NULL || !BUF_OK(msg, msg_len))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    return fail_wipe(b->ed25519_sign(sig, sk, pk, msg, msg_len), sig,
                     IMC_ED25519_SIGNATURE_BYTES);
}

imc_status imc_crypto_ed25519_verify(const imc_backend *b,
                                     const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                     const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                     const uint8_t *msg, size_t msg_len)
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_ED25519);
    imc_status st = NEED(b, IMC_CAP_ED25519, ed25519_verify);
    if (st != IMC_OK || sig == NULL || pk == NULL || !BUF_OK(msg, msg_len))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (!imc_policy_ed25519_verify_ok(sig, pk))
        return IMC_ERR_AUTH;
    return b->ed25519_verify(sig, pk, msg, msg_len) == IMC_OK ? IMC_OK : IMC_ERR_AUTH;
}

/* ---- P-256 ------------------------------------------------------------- */

imc_status imc_crypto_p256_public(const imc_backend *b, uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                  const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_P256_ECDH);
    imc_status st = NEED(b, IMC_CAP_P256_ECDH, p256_public);
    if (st != IMC_OK || pk == NULL || sk == NULL)
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (!imc_policy_p256_scalar_ok(sk))
        return fail_wipe(IMC_ERR_WEAK_KEY, pk, IMC_P256_PUBLIC_BYTES);
    return fail_wipe(b->p256_public(pk, sk), pk, IMC_P256_PUBLIC_BYTES);
}

imc_status imc_crypto_p256_keygen(const imc_backend *b, imc_rng *rng,
                                  uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                  uint8_t sk[IMC_P256_SECRET_BYTES])
{
    if (pk == NULL || sk == NULL)
        return IMC_ERR_ARG;
    /* Rejection sampling: a draw outside [1, n-1] has probability ~2^-32. */
    imc_status st;
    do {
        st = imc_rng_fill(rng, b, sk, IMC_P256_SECRET_BYTES);
    } while (st == IMC_OK && !imc_policy_p256_scalar_ok(sk));
    if (st == IMC_OK)
        st = imc_crypto_p256_public(b, pk, sk);
    return fail_wipe(st, sk, IMC_P256_SECRET_BYTES);
}

imc_status imc_crypto_p256_ecdh(const imc_backend *b, uint8_t shared[IMC_P256_SHARED_BYTES],
                                const uint8_t sk[IMC_P256_SECRET_BYTES],
                                const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_P256_ECDH);
    imc_status st = NEED(b, IMC_CAP_P256_ECDH, p256_ecdh);
    if (st != IMC_OK || shared == NULL || sk == NULL || pk == NULL)
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (!imc_policy_p256_public_form_ok(pk))
        st = IMC_ERR_WEAK_KEY;
    else if (!imc_policy_p256_scalar_ok(sk))
        st = IMC_ERR_ARG;
    else
        st = b->p256_ecdh(shared, sk, pk);
    return fail_wipe(st, shared, IMC_P256_SHARED_BYTES);
}

imc_status imc_crypto_ecdsa_p256_sign(const imc_backend *b,
                                      uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                      const uint8_t sk[IMC_P256_SECRET_BYTES],
                                      const uint8_t *msg, size_t msg_len)
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_ECDSA_P256);
    imc_status st = NEED(b, IMC_CAP_ECDSA_P256, ecdsa_p256_sign);
    if (st != IMC_OK || sig == NULL || sk == NULL || !BUF_OK(msg, msg_len))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (!imc_policy_p256_scalar_ok(sk))
        return fail_wipe(IMC_ERR_ARG, sig, IMC_ECDSA_P256_SIGNATURE_BYTES);
    /* Policy: low-S, whatever the library produced, so that every backend
     * gives the same bytes (they all sign deterministically, RFC 6979). */
    st = b->ecdsa_p256_sign(sig, sk, msg, msg_len);
    if (st == IMC_OK)
        imc_policy_ecdsa_p256_normalise_s(sig);
    return fail_wipe(st, sig, IMC_ECDSA_P256_SIGNATURE_BYTES);
}

imc_status imc_crypto_ecdsa_p256_verify(const imc_backend *b,
                                        const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                        const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                        const uint8_t *msg, size_t msg_len)
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_ECDSA_P256);
    imc_status st = NEED(b, IMC_CAP_ECDSA_P256, ecdsa_p256_verify);
    if (st != IMC_OK || sig == NULL || pk == NULL || !BUF_OK(msg, msg_len))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    /* Policy: high-S is refused, so that a signature has one encoding. */
    if (!imc_policy_p256_public_form_ok(pk) || !imc_policy_ecdsa_p256_sig_ranges_ok(sig) ||
        !imc_policy_ecdsa_p256_s_low(sig))
        return IMC_ERR_AUTH;
    return b->ecdsa_p256_verify(sig, pk, msg, msg_len) == IMC_OK ? IMC_OK : IMC_ERR_AUTH;
}

/* ---- AEAD -------------------------------------------------------------- */

static uint32_t aead_cap(imc_aead aead)
{
    switch (aead) {
    case IMC_AEAD_CHACHA20POLY1305: return IMC_CAP_CHACHA20POLY1305;
    case IMC_AEAD_AES256GCM: return IMC_CAP_AES256GCM;
    }
    return 0;
}

/* The primitive of an AEAD; an unknown one resolves to ChaCha20-Poly1305's
 * part, which aead_check() then refuses by the algorithm. */
static imc_backend_prim aead_prim(imc_aead aead)
{
    return aead == IMC_AEAD_AES256GCM ? IMC_BACKEND_PRIM_AES256GCM : IMC_BACKEND_PRIM_CHACHA20POLY1305;
}

static imc_status aead_check(const imc_backend *b, imc_aead aead, int has_fn,
                             const uint8_t *out, const uint8_t *key, const uint8_t *nonce,
                             size_t nonce_len, const uint8_t *ad, size_t ad_len,
                             const uint8_t *in, size_t in_len)
{
    uint32_t cap = aead_cap(aead);
    if (cap == 0)
        return b == NULL ? IMC_ERR_ARG : IMC_ERR_UNSUPPORTED;
    imc_status st = need(b, cap, has_fn);
    if (st != IMC_OK)
        return st;
    if (key == NULL || nonce == NULL || !BUF_OK(ad, ad_len) || !BUF_OK(in, in_len) ||
        !BUF_OK(out, 1))
        return IMC_ERR_ARG;
    /* Policy: 96-bit nonces only. */
    if (nonce_len != IMC_AEAD_NONCE_BYTES)
        return IMC_ERR_ARG;
    return IMC_OK;
}

imc_status imc_crypto_aead_seal(const imc_backend *b, imc_aead aead, uint8_t *out, size_t out_cap,
                                const uint8_t key[IMC_AEAD_KEY_BYTES], const uint8_t *nonce,
                                size_t nonce_len, const uint8_t *ad, size_t ad_len,
                                const uint8_t *in, size_t in_len)
{
    b = imc_backend_part(b, aead_prim(aead));
    imc_status st = aead_check(b, aead, b != NULL && b->aead_seal != NULL, out, key, nonce,
                               nonce_len, ad, ad_len, in, in_len);
    if (st != IMC_OK)
        return st;
    if (in_len > SIZE_MAX - IMC_AEAD_TAG_BYTES || out_cap < in_len + IMC_AEAD_TAG_BYTES)
        return IMC_ERR_NO_SPACE;
    return fail_wipe(b->aead_seal(aead, out, key, nonce, ad, ad_len, in, in_len), out,
                     in_len + IMC_AEAD_TAG_BYTES);
}

imc_status imc_crypto_aead_open(const imc_backend *b, imc_aead aead, uint8_t *out, size_t out_cap,
                                const uint8_t key[IMC_AEAD_KEY_BYTES], const uint8_t *nonce,
                                size_t nonce_len, const uint8_t *ad, size_t ad_len,
                                const uint8_t *in, size_t in_len)
{
    b = imc_backend_part(b, aead_prim(aead));
    imc_status st = aead_check(b, aead, b != NULL && b->aead_open != NULL, out, key, nonce,
                               nonce_len, ad, ad_len, in, in_len);
    if (st != IMC_OK)
        return st;
    /* Too short to hold a tag: it cannot be authentic. */
    if (in_len < IMC_AEAD_TAG_BYTES)
        return IMC_ERR_AUTH;
    size_t pt_len = in_len - IMC_AEAD_TAG_BYTES;
    if (out_cap < pt_len)
        return IMC_ERR_NO_SPACE;
    st = b->aead_open(aead, out, key, nonce, ad, ad_len, in, in_len);
    return fail_wipe(st == IMC_OK ? IMC_OK : IMC_ERR_AUTH, out, pt_len);
}

/* ---- Hashing ----------------------------------------------------------- */

imc_status imc_crypto_sha256(const imc_backend *b, uint8_t out[IMC_SHA256_BYTES],
                             const uint8_t *in, size_t in_len)
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_SHA256);
    imc_status st = NEED(b, IMC_CAP_SHA256, sha256);
    if (st != IMC_OK || out == NULL || !BUF_OK(in, in_len))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    return fail_wipe(b->sha256(out, in, in_len), out, IMC_SHA256_BYTES);
}

imc_status imc_crypto_hmac_sha256(const imc_backend *b, uint8_t out[IMC_SHA256_BYTES],
                                  const uint8_t *key, size_t key_len, const uint8_t *msg,
                                  size_t msg_len)
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_SHA256);
    imc_status st = NEED(b, IMC_CAP_SHA256, hmac_sha256);
    if (st != IMC_OK || out == NULL || !BUF_OK(key, key_len) || !BUF_OK(msg, msg_len))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    return fail_wipe(b->hmac_sha256(out, key, key_len, msg, msg_len), out, IMC_SHA256_BYTES);
}

imc_status imc_crypto_hkdf_sha256(const imc_backend *b, uint8_t *out, size_t out_len,
                                  const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                                  size_t ikm_len, const uint8_t *info, size_t info_len)
{
    b = imc_backend_part(b, IMC_BACKEND_PRIM_SHA256);
    imc_status st = NEED(b, IMC_CAP_SHA256, hkdf_sha256);
    if (st != IMC_OK || out == NULL || !BUF_OK(salt, salt_len) || !BUF_OK(ikm, ikm_len) ||
        !BUF_OK(info, info_len))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (out_len == 0 || out_len > IMC_HKDF_SHA256_MAX_BYTES)
        return IMC_ERR_ARG;
    return fail_wipe(b->hkdf_sha256(out, out_len, salt, salt_len, ikm, ikm_len, info, info_len),
                     out, out_len);
}
