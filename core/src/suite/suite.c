/* The suite table and its dispatch to the primitives. */
#include <string.h>

#include "imcore/suite.h"

static const imc_suite SUITES[IMC_SUITE_COUNT] = {
    {IMC_SUITE_X25519_ED25519_CHACHA20POLY1305, "X25519_ED25519_CHACHA20POLY1305",
     "x25519-ed25519-chacha", IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_SHA256,
     IMC_X25519_PUBLIC_BYTES, IMC_X25519_SECRET_BYTES, IMC_X25519_SHARED_BYTES,
     IMC_ED25519_PUBLIC_BYTES, IMC_ED25519_SECRET_BYTES, IMC_ED25519_SIGNATURE_BYTES,
     IMC_AEAD_CHACHA20POLY1305},
    {IMC_SUITE_P256_ECDSA_AES256GCM, "P256_ECDSA_AES256GCM", "p256-ecdsa-aesgcm",
     IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_AES256GCM | IMC_CAP_SHA256,
     IMC_P256_PUBLIC_BYTES, IMC_P256_SECRET_BYTES, IMC_P256_SHARED_BYTES, IMC_P256_PUBLIC_BYTES,
     IMC_P256_SECRET_BYTES, IMC_ECDSA_P256_SIGNATURE_BYTES, IMC_AEAD_AES256GCM},
    {IMC_SUITE_X25519_ED25519_AES256GCM, "X25519_ED25519_AES256GCM", "x25519-ed25519-aesgcm",
     IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_AES256GCM | IMC_CAP_SHA256,
     IMC_X25519_PUBLIC_BYTES, IMC_X25519_SECRET_BYTES, IMC_X25519_SHARED_BYTES,
     IMC_ED25519_PUBLIC_BYTES, IMC_ED25519_SECRET_BYTES, IMC_ED25519_SIGNATURE_BYTES,
     IMC_AEAD_AES256GCM},
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

static int uses_x25519(const imc_suite *s) { return s->dh_public_bytes == IMC_X25519_PUBLIC_BYTES; }

imc_status imc_suite_dh_keygen(const imc_suite *s, const imc_backend *b, imc_rng *rng,
                               uint8_t *pk, uint8_t *sk)
{
    if (s == NULL)
        return IMC_ERR_ARG;
    return uses_x25519(s) ? imc_crypto_x25519_keygen(b, rng, pk, sk)
                          : imc_crypto_p256_keygen(b, rng, pk, sk);
}

imc_status imc_suite_dh(const imc_suite *s, const imc_backend *b, uint8_t *shared,
                        const uint8_t *sk, const uint8_t *peer_pk)
{
    if (s == NULL)
        return IMC_ERR_ARG;
    return uses_x25519(s) ? imc_crypto_x25519(b, shared, sk, peer_pk)
                          : imc_crypto_p256_ecdh(b, shared, sk, peer_pk);
}

imc_status imc_suite_dh_public(const imc_suite *s, const imc_backend *b, uint8_t *pk,
                               const uint8_t *sk)
{
    if (s == NULL)
        return IMC_ERR_ARG;
    return uses_x25519(s) ? imc_crypto_x25519_public(b, pk, sk) : imc_crypto_p256_public(b, pk, sk);
}

imc_status imc_suite_sig_public(const imc_suite *s, const imc_backend *b, uint8_t *pk,
                                const uint8_t *sk)
{
    if (s == NULL)
        return IMC_ERR_ARG;
    return uses_x25519(s) ? imc_crypto_ed25519_public(b, pk, sk)
                          : imc_crypto_p256_public(b, pk, sk);
}

imc_status imc_suite_sig_keygen(const imc_suite *s, const imc_backend *b, imc_rng *rng,
                                uint8_t *pk, uint8_t *sk)
{
    if (s == NULL)
        return IMC_ERR_ARG;
    return uses_x25519(s) ? imc_crypto_ed25519_keygen(b, rng, pk, sk)
                          : imc_crypto_p256_keygen(b, rng, pk, sk);
}

imc_status imc_suite_sign(const imc_suite *s, const imc_backend *b, uint8_t *sig,
                          const uint8_t *sk, const uint8_t *pk, const uint8_t *msg,
                          size_t msg_len)
{
    if (s == NULL)
        return IMC_ERR_ARG;
    return uses_x25519(s) ? imc_crypto_ed25519_sign(b, sig, sk, pk, msg, msg_len)
                          : imc_crypto_ecdsa_p256_sign(b, sig, sk, msg, msg_len);
}

imc_status imc_suite_verify(const imc_suite *s, const imc_backend *b, const uint8_t *sig,
                            const uint8_t *pk, const uint8_t *msg, size_t msg_len)
{
    if (s == NULL)
        return IMC_ERR_ARG;
    return uses_x25519(s) ? imc_crypto_ed25519_verify(b, sig, pk, msg, msg_len)
                          : imc_crypto_ecdsa_p256_verify(b, sig, pk, msg, msg_len);
}
