/* Shared by the key-transparency tests: a backend, a fresh in-memory
 * store, and deterministic Ed25519 keys. */
#ifndef IMCORE_KT_FIXTURE_H
#define IMCORE_KT_FIXTURE_H

#include "imcore/kt.h"
#include "test.h"

static inline const imc_backend *kt_backend(void)
{
    const imc_backend *bs[8];
    size_t n = imc_test_backends(bs, 8);
    return n > 0 ? bs[0] : NULL;
}

/* Key pair number i (a fixed seed per i). */
static inline void kt_keypair(const imc_backend *b, unsigned i, uint8_t pk[32], uint8_t sk[32])
{
    for (size_t j = 0; j < 32; j++)
        sk[j] = (uint8_t)(0x40 + i * 7 + j);
    if (imc_crypto_ed25519_public(b, pk, sk) != IMC_OK)
        memset(pk, 0, 32);
}

/* A key of the given type named `name` from key pair i. */
static inline imc_kt_key kt_key(const imc_backend *b, unsigned i, const char *name, uint8_t type,
                                uint8_t sk[32])
{
    uint8_t pk[32];
    imc_kt_key k;
    kt_keypair(b, i, pk, sk);
    if (imc_kt_key_init(&k, b, name, type, pk) != IMC_OK)
        memset(&k, 0, sizeof k);
    return k;
}

#endif
