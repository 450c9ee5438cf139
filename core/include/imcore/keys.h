/* imcore: device key pairs.
 *
 * Every device has a DH key pair and a signing key pair of one suite, and
 * a 64-bit device id unique within the key directory. imc_device_keys holds
 * the secrets and stays on the device; imc_device_public is what the key
 * directory publishes and what senders encrypt to. */
#ifndef IMCORE_KEYS_H
#define IMCORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/rng.h"
#include "imcore/status.h"
#include "imcore/suite.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imc_device_public {
    uint32_t suite;
    uint64_t device_id;
    uint8_t dh_pk[IMC_DH_PUBLIC_MAX];   /* first suite->dh_public_bytes used */
    uint8_t sig_pk[IMC_SIG_PUBLIC_MAX]; /* first suite->sig_public_bytes used */
} imc_device_public;

typedef struct imc_device_keys {
    imc_device_public pub;
    uint8_t dh_sk[IMC_DH_SECRET_MAX];
    uint8_t sig_sk[IMC_SIG_SECRET_MAX];
} imc_device_keys;

/* Fresh key pairs for a device of the given suite (rng NULL: the backend's
 * CSPRNG). Unused bytes of the fixed-size arrays are zero. The DH secret is
 * drawn first, then the signing secret (docs/wire-format.md relies on this
 * order for its worked example). IMC_ERR_NOT_FOUND for an unknown suite,
 * IMC_ERR_UNSUPPORTED if b lacks it, IMC_ERR_ARG for device id 0 (reserved,
 * refused everywhere); *keys is wiped on failure. */
IMC_MUST_USE imc_status imc_keys_generate(imc_device_keys *keys, const imc_backend *b,
                                          imc_rng *rng, uint32_t suite, uint64_t device_id);

/* Recomputes both public keys from the secrets: IMC_OK if they match what
 * keys->pub holds (a loaded key file is consistent), else IMC_ERR_WEAK_KEY. */
IMC_MUST_USE imc_status imc_keys_check(const imc_device_keys *keys, const imc_backend *b);

void imc_keys_wipe(imc_device_keys *keys);

/* Key files (docs/wire-format.md, "Key files"): magic (4) || version (2) ||
 * suite (2) || device id (8) || DH public || signing public, and for a
 * secret file then DH secret || signing secret, with the suite's sizes.
 * Decoding is strict: wrong magic, version or size, an unknown suite,
 * device id 0 or trailing bytes are IMC_ERR_MALFORMED; a secret file whose secrets do not
 * give its public keys is IMC_ERR_WEAK_KEY (imc_keys_check). Public keys are
 * not checked against the validation policy here: that happens where they
 * are used. On failure the output struct is wiped. Encoding fails with
 * IMC_ERR_NO_SPACE (and *out_len = 0) if out_cap is too small. */
#define IMC_KEYS_VERSION 1
#define IMC_KEYS_PUBLIC_ENCODED_MAX (4 + 2 + 2 + 8 + IMC_DH_PUBLIC_MAX + IMC_SIG_PUBLIC_MAX)
#define IMC_KEYS_SECRET_ENCODED_MAX \
    (IMC_KEYS_PUBLIC_ENCODED_MAX + IMC_DH_SECRET_MAX + IMC_SIG_SECRET_MAX)

/* Bytes of a public / secret key file for the suite (0 if unknown). */
size_t imc_keys_public_size(uint32_t suite);
size_t imc_keys_secret_size(uint32_t suite);

IMC_MUST_USE imc_status imc_keys_encode_public(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_device_public *pub);
IMC_MUST_USE imc_status imc_keys_decode_public(imc_device_public *pub, const uint8_t *in,
                                               size_t in_len);
IMC_MUST_USE imc_status imc_keys_encode_secret(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_device_keys *keys);
IMC_MUST_USE imc_status imc_keys_decode_secret(imc_device_keys *keys, const imc_backend *b,
                                               const uint8_t *in, size_t in_len);

#ifdef __cplusplus
}
#endif
#endif
