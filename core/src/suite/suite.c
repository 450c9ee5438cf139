/* The suite table and its tables of operations (imcore/suite.h). */
#include <string.h>

#include "imcore/suite.h"
#include "imcore/util.h"

/* One table per DH algorithm and per signature algorithm. A new suite
 * picks its tables; a key-encapsulation suite would bring a table of its
 * own (docs/wire-format.md, "Suites"). */
struct imc_suite_dh_ops {
    imc_status (*keygen)(const imc_backend *b, imc_rng *rng, uint8_t *pk, uint8_t *sk);
    imc_status (*pub)(const imc_backend *b, uint8_t *pk, const uint8_t *sk);
    imc_status (*agree)(const imc_backend *b, uint8_t *shared, const uint8_t *sk,
                        const uint8_t *peer_pk);
    imc_key_kind secret_kind;
    imc_status (*agree_prepared)(const imc_backend *b, uint8_t *shared,
                                 const imc_prepared_key *sk, const uint8_t *peer_pk);
};

struct imc_suite_sig_ops {
    imc_status (*keygen)(const imc_backend *b, imc_rng *rng, uint8_t *pk, uint8_t *sk);
    imc_status (*pub)(const imc_backend *b, uint8_t *pk, const uint8_t *sk);
    imc_status (*sign)(const imc_backend *b, uint8_t *sig, const uint8_t *sk, const uint8_t *pk,
                       const uint8_t *msg, size_t msg_len);
    imc_status (*verify)(const imc_backend *b, const uint8_t *sig, const uint8_t *pk,
                         const uint8_t *msg, size_t msg_len);
    imc_key_kind secret_kind; /* what imc_suite_sig_prepare makes */
    imc_status (*sign_prepared)(const imc_backend *b, uint8_t *sig, const imc_prepared_key *sk,
                                const uint8_t *msg, size_t msg_len);
};

/* ECDSA signs without the signer's public key; the table's signature is
 * shared with Ed25519, which needs it. */
static imc_status ecdsa_sign(const imc_backend *b, uint8_t *sig, const uint8_t *sk,
                             const uint8_t *pk, const uint8_t *msg, size_t msg_len)
{
    (void)pk;
    return imc_crypto_ecdsa_p256_sign(b, sig, sk, msg, msg_len);
}

static const imc_suite_dh_ops X25519_OPS = {
    .keygen = imc_crypto_x25519_keygen,
    .pub = imc_crypto_x25519_public,
    .agree = imc_crypto_x25519,
    .secret_kind = IMC_KEY_X25519_SECRET,
    .agree_prepared = imc_crypto_x25519_prepared,
};

static const imc_suite_dh_ops P256_OPS = {
    .keygen = imc_crypto_p256_keygen,
    .pub = imc_crypto_p256_public,
    .agree = imc_crypto_p256_ecdh,
    .secret_kind = IMC_KEY_P256_SECRET,
    .agree_prepared = imc_crypto_p256_ecdh_prepared,
};

static const imc_suite_sig_ops ED25519_OPS = {
    .keygen = imc_crypto_ed25519_keygen,
    .pub = imc_crypto_ed25519_public,
    .sign = imc_crypto_ed25519_sign,
    .verify = imc_crypto_ed25519_verify,
    .secret_kind = IMC_KEY_ED25519_SECRET,
    .sign_prepared = imc_crypto_ed25519_sign_prepared,
};

static const imc_suite_sig_ops ECDSA_P256_OPS = {
    .keygen = imc_crypto_p256_keygen,
    .pub = imc_crypto_p256_public,
    .sign = ecdsa_sign,
    .verify = imc_crypto_ecdsa_p256_verify,
    .secret_kind = IMC_KEY_P256_SECRET,
    .sign_prepared = imc_crypto_ecdsa_p256_sign_prepared,
};

/* The wrap of a DH suite: the content key sealed under the wrap key. */
#define DH_WRAP_BYTES (IMC_AEAD_KEY_BYTES + IMC_AEAD_TAG_BYTES)

/* Suites 1 and 3 differ only in their AEAD. */
#define X25519_ED25519_SUITE(suite_id, suite_name, suite_short, aead_cap, aead_id)             \
    {                                                                                          \
        .id = (suite_id), .name = (suite_name), .short_name = (suite_short),                   \
        .caps = IMC_CAP_X25519 | IMC_CAP_ED25519 | (aead_cap) | IMC_CAP_SHA256,                \
        .dh_public_bytes = IMC_X25519_PUBLIC_BYTES, .dh_secret_bytes = IMC_X25519_SECRET_BYTES, \
        .dh_shared_bytes = IMC_X25519_SHARED_BYTES, .eph_bytes = IMC_X25519_PUBLIC_BYTES,      \
        .enc_bytes = 0, .wrap_bytes = DH_WRAP_BYTES,                                           \
        .sig_public_bytes = IMC_ED25519_PUBLIC_BYTES,                                          \
        .sig_secret_bytes = IMC_ED25519_SECRET_BYTES,                                          \
        .sig_bytes = IMC_ED25519_SIGNATURE_BYTES, .aead = (aead_id), .dh = &X25519_OPS,        \
        .sig = &ED25519_OPS,                                                                   \
    }

static const imc_suite SUITES[IMC_SUITE_COUNT] = {
    X25519_ED25519_SUITE(IMC_SUITE_X25519_ED25519_CHACHA20POLY1305,
                         "X25519_ED25519_CHACHA20POLY1305", "x25519-ed25519-chacha",
                         IMC_CAP_CHACHA20POLY1305, IMC_AEAD_CHACHA20POLY1305),
    {
        .id = IMC_SUITE_P256_ECDSA_AES256GCM,
        .name = "P256_ECDSA_AES256GCM",
        .short_name = "p256-ecdsa-aesgcm",
        .caps = IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_AES256GCM | IMC_CAP_SHA256,
        .dh_public_bytes = IMC_P256_PUBLIC_BYTES,
        .dh_secret_bytes = IMC_P256_SECRET_BYTES,
        .dh_shared_bytes = IMC_P256_SHARED_BYTES,
        .eph_bytes = IMC_P256_PUBLIC_BYTES,
        .enc_bytes = 0,
        .wrap_bytes = DH_WRAP_BYTES,
        .sig_public_bytes = IMC_P256_PUBLIC_BYTES,
        .sig_secret_bytes = IMC_P256_SECRET_BYTES,
        .sig_bytes = IMC_ECDSA_P256_SIGNATURE_BYTES,
        .aead = IMC_AEAD_AES256GCM,
        .dh = &P256_OPS,
        .sig = &ECDSA_P256_OPS,
    },
    X25519_ED25519_SUITE(IMC_SUITE_X25519_ED25519_AES256GCM, "X25519_ED25519_AES256GCM",
                         "x25519-ed25519-aesgcm", IMC_CAP_AES256GCM, IMC_AEAD_AES256GCM),
};

const imc_suite *imc_suite_get(uint32_t id)
{
    if (id < 1 || id > IMC_SUITE_COUNT)
        return NULL;
    return &SUITES[id - 1];
}

const imc_suite *imc_suite_find(const char *name)
{
    if (name == NULL || *name == '\0')
        return NULL;
    for (size_t i = 0; i < IMC_SUITE_COUNT; i++)
        if (strcmp(name, SUITES[i].name) == 0 || strcmp(name, SUITES[i].short_name) == 0)
            return &SUITES[i];
    /* A decimal id: one digit, nothing else (no sign, space or padding). */
    if (name[0] < '1' || name[0] > '9' || name[1] != '\0')
        return NULL;
    return imc_suite_get((uint32_t)(name[0] - '0'));
}

bool imc_suite_supported(const imc_suite *s, const imc_backend *b)
{
    return s != NULL && b != NULL && (imc_backend_caps(b) & s->caps) == s->caps;
}

imc_status imc_suite_dh_keygen(const imc_suite *s, const imc_backend *b, imc_rng *rng,
                               uint8_t *pk, uint8_t *sk)
{
    return s != NULL ? s->dh->keygen(b, rng, pk, sk) : IMC_ERR_ARG;
}

imc_status imc_suite_dh(const imc_suite *s, const imc_backend *b, uint8_t *shared,
                        const uint8_t *sk, const uint8_t *peer_pk)
{
    return s != NULL ? s->dh->agree(b, shared, sk, peer_pk) : IMC_ERR_ARG;
}

imc_status imc_suite_dh_prepare(const imc_suite *s, const imc_backend *b, imc_prepared_key **out,
                                const uint8_t *sk)
{
    if (s == NULL) {
        if (out != NULL)
            *out = NULL;
        return IMC_ERR_ARG;
    }
    return imc_crypto_key_prepare(out, b, s->dh->secret_kind, sk, s->dh_secret_bytes);
}

imc_status imc_suite_dh_prepared(const imc_suite *s, const imc_backend *b, uint8_t *shared,
                                 const imc_prepared_key *sk, const uint8_t *peer_pk)
{
    return s != NULL ? s->dh->agree_prepared(b, shared, sk, peer_pk) : IMC_ERR_ARG;
}

imc_status imc_suite_sig_prepare(const imc_suite *s, const imc_backend *b,
                                 imc_prepared_key **out, const uint8_t *sk, const uint8_t *pk)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || out == NULL || sk == NULL || pk == NULL)
        return IMC_ERR_ARG;
    if (s->sig->secret_kind == IMC_KEY_P256_SECRET)
        return imc_crypto_key_prepare(out, b, IMC_KEY_P256_SECRET, sk, s->sig_secret_bytes);
    /* Ed25519: the seed and its public key, as the plain call takes them. */
    uint8_t kp[IMC_SIG_SECRET_MAX + IMC_SIG_PUBLIC_MAX];
    memcpy(kp, sk, s->sig_secret_bytes);
    memcpy(kp + s->sig_secret_bytes, pk, s->sig_public_bytes);
    imc_status st = imc_crypto_key_prepare(out, b, s->sig->secret_kind, kp,
                                           s->sig_secret_bytes + s->sig_public_bytes);
    imc_wipe(kp, sizeof kp);
    return st;
}

imc_status imc_suite_sign_prepared(const imc_suite *s, const imc_backend *b, uint8_t *sig,
                                   const imc_prepared_key *sk, const uint8_t *msg,
                                   size_t msg_len)
{
    return s != NULL ? s->sig->sign_prepared(b, sig, sk, msg, msg_len) : IMC_ERR_ARG;
}

imc_status imc_suite_dh_public(const imc_suite *s, const imc_backend *b, uint8_t *pk,
                               const uint8_t *sk)
{
    return s != NULL ? s->dh->pub(b, pk, sk) : IMC_ERR_ARG;
}

imc_status imc_suite_sig_public(const imc_suite *s, const imc_backend *b, uint8_t *pk,
                                const uint8_t *sk)
{
    return s != NULL ? s->sig->pub(b, pk, sk) : IMC_ERR_ARG;
}

imc_status imc_suite_sig_keygen(const imc_suite *s, const imc_backend *b, imc_rng *rng,
                                uint8_t *pk, uint8_t *sk)
{
    return s != NULL ? s->sig->keygen(b, rng, pk, sk) : IMC_ERR_ARG;
}

imc_status imc_suite_sign(const imc_suite *s, const imc_backend *b, uint8_t *sig,
                          const uint8_t *sk, const uint8_t *pk, const uint8_t *msg,
                          size_t msg_len)
{
    return s != NULL ? s->sig->sign(b, sig, sk, pk, msg, msg_len) : IMC_ERR_ARG;
}

imc_status imc_suite_verify(const imc_suite *s, const imc_backend *b, const uint8_t *sig,
                            const uint8_t *pk, const uint8_t *msg, size_t msg_len)
{
    return s != NULL ? s->sig->verify(b, sig, pk, msg, msg_len) : IMC_ERR_ARG;
}
