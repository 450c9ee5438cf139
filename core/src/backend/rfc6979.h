/* RFC 6979 deterministic ECDSA nonces for P-256 with SHA-256, for the
 * backends whose library takes the nonce from a caller (OpenSSL 3.0 has no
 * deterministic ECDSA; Nettle draws it from a random function). The others
 * compute the same nonce inside their library (RFC 6979 too), so every
 * backend signs with the same bytes. Private to libimcore. */
#ifndef IMCORE_BACKEND_RFC6979_H
#define IMCORE_BACKEND_RFC6979_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/crypto.h"

typedef imc_status (*imc_rfc6979_hmac_fn)(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                          size_t key_len, const uint8_t *msg, size_t msg_len);

/* k in [1, n-1] (big-endian) for the key sk (in [1, n-1]) and the message
 * digest h = SHA-256(msg), by RFC 6979 section 3.2 with HMAC-SHA-256 from
 * `hmac`. k is wiped on failure. */
imc_status imc_rfc6979_p256_k(uint8_t k[IMC_P256_SECRET_BYTES],
                              const uint8_t sk[IMC_P256_SECRET_BYTES],
                              const uint8_t h[IMC_SHA256_BYTES], imc_rfc6979_hmac_fn hmac);

#endif
