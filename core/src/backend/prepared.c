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
    const imc_backend *b; /* as given: a library backend or a composition */
    const imc_backend *impl; /* the library backend that made native */
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

/* The primitive whose backend imports a key of this kind (in a
 * composition, a P-256 secret used for ECDSA on another backend than ECDH
 * runs on its raw bytes there). */
static imc_backend_prim kind_prim(imc_key_kind kind)
{
    switch (kind) {
    case IMC_KEY_X25519_SECRET: return IMC_BACKEND_PRIM_X25519;
    case IMC_KEY_ED25519_SECRET:
    case IMC_KEY_ED25519_PUBLIC: return IMC_BACKEND_PRIM_ED25519;
    case IMC_KEY_P256_SECRET: return IMC_BACKEND_PRIM_P256_ECDH;
    case IMC_KEY_P256_PUBLIC: return IMC_BACKEND_PRIM_ECDSA_P256;
    }
    return IMC_BACKEND_PRIM_RANDOM;
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
    k->impl = imc_backend_part(b, kind_prim(kind));
    k->kind = kind;
    memcpy(k->raw, key, want);
    imc_status st =
        k->impl->key_import != NULL ? k->impl->key_import(&k->native, kind, k->raw) : IMC_OK;
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
    if (k->native != NULL && k->impl->key_free != NULL)
        k->impl->key_free(k->kind, k->native);
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

/* The library backend that runs prim for b, if it can use k's native
 * object through member fn; NULL: run the plain call on k's bytes. */
#define NATIVE(b, k, prim, fn)                                                                   \
    ((k)->native != NULL && (k)->impl == imc_backend_part((b), (prim)) &&                        \
             (k)->impl->fn != NULL                                                               \
         ? (k)->impl                                                                             \
         : NULL)

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
    const imc_backend *nb = NATIVE(b, sk, IMC_BACKEND_PRIM_X25519, x25519_prepared);
    if (nb == NULL)
        return imc_crypto_x25519(b, shared, sk->raw, pk);
    /* The policy of imc_crypto_x25519. */
    st = imc_policy_x25519_public_ok(pk) ? nb->x25519_prepared(shared, sk->native, pk)
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
    const imc_backend *nb = NATIVE(b, sk, IMC_BACKEND_PRIM_P256_ECDH, p256_ecdh_prepared);
    if (nb == NULL)
        return imc_crypto_p256_ecdh(b, shared, sk->raw, pk);
    st = imc_policy_p256_public_form_ok(pk) ? nb->p256_ecdh_prepared(shared, sk->native, pk)
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
    const imc_backend *nb = NATIVE(b, sk, IMC_BACKEND_PRIM_ED25519, ed25519_sign_prepared);
    if (nb == NULL)
        return imc_crypto_ed25519_sign(b, sig, sk->raw, sk->raw + IMC_ED25519_SECRET_BYTES, msg,
                                       msg_len);
    return fail_wipe(nb->ed25519_sign_prepared(sig, sk->native, msg, msg_len), sig,
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
    const imc_backend *nb = NATIVE(b, pk, IMC_BACKEND_PRIM_ED25519, ed25519_verify_prepared);
    if (nb == NULL)
        return imc_crypto_ed25519_verify(b, sig, pk->raw, msg, msg_len);
    if (!imc_policy_ed25519_verify_ok(sig, pk->raw))
        return IMC_ERR_AUTH;
    return nb->ed25519_verify_prepared(sig, pk->native, msg, msg_len) == IMC_OK ? IMC_OK
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
    const imc_backend *nb = NATIVE(b, sk, IMC_BACKEND_PRIM_ECDSA_P256, ecdsa_p256_sign_prepared);
    if (nb == NULL)
        return imc_crypto_ecdsa_p256_sign(b, sig, sk->raw, msg, msg_len);
    st = nb->ecdsa_p256_sign_prepared(sig, sk->native, sk->raw, msg, msg_len);
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
    const imc_backend *nb = NATIVE(b, pk, IMC_BACKEND_PRIM_ECDSA_P256, ecdsa_p256_verify_prepared);
    if (nb == NULL)
        return imc_crypto_ecdsa_p256_verify(b, sig, pk->raw, msg, msg_len);
    if (!imc_policy_ecdsa_p256_sig_ranges_ok(sig) || !imc_policy_ecdsa_p256_s_low(sig))
        return IMC_ERR_AUTH;
    return nb->ecdsa_p256_verify_prepared(sig, pk->native, msg, msg_len) == IMC_OK ? IMC_OK
                                                                                : IMC_ERR_AUTH;
}
