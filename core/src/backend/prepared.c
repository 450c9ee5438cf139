/* Prepared keys (imcore/crypto.h): the key's bytes, checked once, and the
 * backend's native object when it has one. Every operation applies the
 * same policy as the plain call in crypto.c (with a raw-bytes fallback it
 * IS the plain call), so preparing a key never changes an answer. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "backend/policy.h"
#include "imcore/crypto.h"
#include "imcore/util.h"

#define RAW_MAX IMC_P256_PUBLIC_BYTES

struct imc_prepared_key {
    const imc_backend *b;
    imc_key_kind kind;
    uint8_t raw[RAW_MAX];
    void *native; /* NULL: the backend works on raw */
};

static size_t kind_len(imc_key_kind kind)
{
    switch (kind) {
    case IMC_KEY_X25519_SECRET: return IMC_X25519_SECRET_BYTES;
    case IMC_KEY_ED25519_SECRET: return IMC_ED25519_SECRET_BYTES + IMC_ED25519_PUBLIC_BYTES;
    case IMC_KEY_ED25519_PUBLIC: return IMC_ED25519_PUBLIC_BYTES;
    case IMC_KEY_P256_SECRET: return IMC_P256_SECRET_BYTES;
    case IMC_KEY_P256_PUBLIC: return IMC_P256_PUBLIC_BYTES;
    }
    return 0;
}

static uint32_t kind_cap(imc_key_kind kind)
{
    switch (kind) {
    case IMC_KEY_X25519_SECRET: return IMC_CAP_X25519;
    case IMC_KEY_ED25519_SECRET:
    case IMC_KEY_ED25519_PUBLIC: return IMC_CAP_ED25519;
    case IMC_KEY_P256_SECRET:
    case IMC_KEY_P256_PUBLIC: return IMC_CAP_P256_ECDH;
    }
    return 0;
}

imc_status imc_crypto_key_prepare(imc_prepared_key **out, const imc_backend *b,
                                  imc_key_kind kind, const uint8_t *key, size_t key_len)
{
    if (out == NULL)
        return IMC_ERR_ARG;
    *out = NULL;
    size_t want = kind_len(kind);
    if (b == NULL || key == NULL || want == 0 || key_len != want)
        return IMC_ERR_ARG;
    if ((imc_backend_caps(b) & kind_cap(kind)) != kind_cap(kind))
        return IMC_ERR_UNSUPPORTED;
    if (kind == IMC_KEY_P256_SECRET && !imc_policy_p256_scalar_ok(key))
        return IMC_ERR_ARG;
    if (kind == IMC_KEY_P256_PUBLIC && !imc_policy_p256_public_form_ok(key))
        return IMC_ERR_WEAK_KEY;
    if (kind == IMC_KEY_P256_PUBLIC) {
        /* On the curve, checked the same way on every backend (each one's
         * ECDH refuses a peer point off the curve): 1 times the point. */
        static const uint8_t one[IMC_P256_SECRET_BYTES] = {[IMC_P256_SECRET_BYTES - 1] = 1};
        uint8_t x[IMC_P256_SHARED_BYTES];
        imc_status st = imc_crypto_p256_ecdh(b, x, one, key);
        if (st != IMC_OK)
            return st;
    }
    imc_prepared_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return IMC_ERR_NOMEM;
    k->b = b;
    k->kind = kind;
    memcpy(k->raw, key, want);
    imc_status st = b->key_import != NULL ? b->key_import(&k->native, kind, k->raw) : IMC_OK;
    if (st != IMC_OK) {
        imc_wipe(k, sizeof *k);
        free(k);
        return st;
    }
    *out = k;
    return IMC_OK;
}

void imc_crypto_key_free(imc_prepared_key *k)
{
    if (k == NULL)
        return;
    if (k->native != NULL && k->b->key_free != NULL)
        k->b->key_free(k->kind, k->native);
    imc_wipe(k, sizeof *k);
    free(k);
}

/* IMC_OK if k is a key of `kind` made on b. */
static imc_status usable(const imc_backend *b, const imc_prepared_key *k, imc_key_kind kind)
{
    if (b == NULL || k == NULL || k->kind != kind)
        return IMC_ERR_ARG;
    return k->b == b ? IMC_OK : IMC_ERR_ARG;
}

static imc_status fail_wipe(imc_status st, void *out, size_t n)
{
    if (st != IMC_OK)
        imc_wipe(out, n);
    return st;
}

imc_status imc_crypto_x25519_prepared(const imc_backend *b, uint8_t shared[IMC_X25519_SHARED_BYTES],
                                      const imc_prepared_key *sk,
                                      const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    imc_status st = usable(b, sk, IMC_KEY_X25519_SECRET);
    if (st != IMC_OK || shared == NULL || pk == NULL)
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (sk->native == NULL || b->x25519_prepared == NULL)
        return imc_crypto_x25519(b, shared, sk->raw, pk);
    /* The policy of imc_crypto_x25519. */
    st = imc_policy_x25519_public_ok(pk) ? b->x25519_prepared(shared, sk->native, pk)
                                         : IMC_ERR_WEAK_KEY;
    if (st == IMC_OK && imc_ct_is_zero(shared, IMC_X25519_SHARED_BYTES))
        st = IMC_ERR_WEAK_KEY;
    return fail_wipe(st, shared, IMC_X25519_SHARED_BYTES);
}

imc_status imc_crypto_p256_ecdh_prepared(const imc_backend *b,
                                         uint8_t shared[IMC_P256_SHARED_BYTES],
                                         const imc_prepared_key *sk,
                                         const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    imc_status st = usable(b, sk, IMC_KEY_P256_SECRET);
    if (st != IMC_OK || shared == NULL || pk == NULL)
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (sk->native == NULL || b->p256_ecdh_prepared == NULL)
        return imc_crypto_p256_ecdh(b, shared, sk->raw, pk);
    st = imc_policy_p256_public_form_ok(pk) ? b->p256_ecdh_prepared(shared, sk->native, pk)
                                            : IMC_ERR_WEAK_KEY;
    return fail_wipe(st, shared, IMC_P256_SHARED_BYTES);
}

imc_status imc_crypto_ed25519_sign_prepared(const imc_backend *b,
                                            uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                            const imc_prepared_key *sk, const uint8_t *msg,
                                            size_t msg_len)
{
    imc_status st = usable(b, sk, IMC_KEY_ED25519_SECRET);
    if (st != IMC_OK || sig == NULL || (msg == NULL && msg_len != 0))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (sk->native == NULL || b->ed25519_sign_prepared == NULL)
        return imc_crypto_ed25519_sign(b, sig, sk->raw, sk->raw + IMC_ED25519_SECRET_BYTES, msg,
                                       msg_len);
    return fail_wipe(b->ed25519_sign_prepared(sig, sk->native, msg, msg_len), sig,
                     IMC_ED25519_SIGNATURE_BYTES);
}

imc_status imc_crypto_ed25519_verify_prepared(const imc_backend *b,
                                              const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                              const imc_prepared_key *pk, const uint8_t *msg,
                                              size_t msg_len)
{
    imc_status st = usable(b, pk, IMC_KEY_ED25519_PUBLIC);
    if (st != IMC_OK || sig == NULL || (msg == NULL && msg_len != 0))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if (pk->native == NULL || b->ed25519_verify_prepared == NULL)
        return imc_crypto_ed25519_verify(b, sig, pk->raw, msg, msg_len);
    if (!imc_policy_ed25519_verify_ok(sig, pk->raw))
        return IMC_ERR_AUTH;
    return b->ed25519_verify_prepared(sig, pk->native, msg, msg_len) == IMC_OK ? IMC_OK
                                                                             : IMC_ERR_AUTH;
}

imc_status imc_crypto_ecdsa_p256_sign_prepared(const imc_backend *b,
                                               uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                               const imc_prepared_key *sk, const uint8_t *msg,
                                               size_t msg_len)
{
    imc_status st = usable(b, sk, IMC_KEY_P256_SECRET);
    if (st != IMC_OK || sig == NULL || (msg == NULL && msg_len != 0))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if ((imc_backend_caps(b) & IMC_CAP_ECDSA_P256) == 0)
        return IMC_ERR_UNSUPPORTED;
    if (sk->native == NULL || b->ecdsa_p256_sign_prepared == NULL)
        return imc_crypto_ecdsa_p256_sign(b, sig, sk->raw, msg, msg_len);
    st = b->ecdsa_p256_sign_prepared(sig, sk->native, sk->raw, msg, msg_len);
    if (st == IMC_OK)
        imc_policy_ecdsa_p256_normalise_s(sig);
    return fail_wipe(st, sig, IMC_ECDSA_P256_SIGNATURE_BYTES);
}

imc_status imc_crypto_ecdsa_p256_verify_prepared(const imc_backend *b,
                                                 const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                                 const imc_prepared_key *pk, const uint8_t *msg,
                                                 size_t msg_len)
{
    imc_status st = usable(b, pk, IMC_KEY_P256_PUBLIC);
    if (st != IMC_OK || sig == NULL || (msg == NULL && msg_len != 0))
        return st != IMC_OK ? st : IMC_ERR_ARG;
    if ((imc_backend_caps(b) & IMC_CAP_ECDSA_P256) == 0)
        return IMC_ERR_UNSUPPORTED;
    if (pk->native == NULL || b->ecdsa_p256_verify_prepared == NULL)
        return imc_crypto_ecdsa_p256_verify(b, sig, pk->raw, msg, msg_len);
    if (!imc_policy_ecdsa_p256_sig_ranges_ok(sig) || !imc_policy_ecdsa_p256_s_low(sig))
        return IMC_ERR_AUTH;
    return b->ecdsa_p256_verify_prepared(sig, pk->native, msg, msg_len) == IMC_OK ? IMC_OK
                                                                                : IMC_ERR_AUTH;
}
