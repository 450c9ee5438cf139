/* imcore: primitives through a backend, under one validation policy.
 *
 * Every function here checks its arguments, applies the policy in
 * docs/validation-policy.md where the libraries differ, and then calls the
 * backend. Failures are reported as imc_status; on any failure every output
 * buffer is wiped. Verification and AEAD open failures are IMC_ERR_AUTH
 * whatever the reason. */
#ifndef IMCORE_CRYPTO_H
#define IMCORE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/rng.h"
#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMC_X25519_PUBLIC_BYTES 32
#define IMC_X25519_SECRET_BYTES 32
#define IMC_X25519_SHARED_BYTES 32
#define IMC_ED25519_PUBLIC_BYTES 32
#define IMC_ED25519_SECRET_BYTES 32 /* the RFC 8032 seed */
#define IMC_ED25519_SIGNATURE_BYTES 64
#define IMC_P256_PUBLIC_BYTES 65 /* uncompressed SEC1 point: 0x04 || X || Y */
#define IMC_P256_SECRET_BYTES 32 /* big-endian scalar in [1, n-1] */
#define IMC_P256_SHARED_BYTES 32 /* X coordinate */
#define IMC_ECDSA_P256_SIGNATURE_BYTES 64 /* raw r || s, big-endian */
#define IMC_AEAD_KEY_BYTES 32
#define IMC_AEAD_NONCE_BYTES 12
#define IMC_AEAD_TAG_BYTES 16
#define IMC_SHA256_BYTES 32
#define IMC_HKDF_SHA256_MAX_BYTES (255 * 32)

typedef enum imc_aead {
    IMC_AEAD_CHACHA20POLY1305 = 1,
    IMC_AEAD_AES256GCM = 2,
} imc_aead;

IMC_MUST_USE imc_status imc_crypto_random(const imc_backend *b, uint8_t *out, size_t len);

/* X25519 (RFC 7748). An all-zero shared secret is IMC_ERR_WEAK_KEY. */
IMC_MUST_USE imc_status imc_crypto_x25519_keygen(const imc_backend *b, imc_rng *rng,
                                                 uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                                 uint8_t sk[IMC_X25519_SECRET_BYTES]);
IMC_MUST_USE imc_status imc_crypto_x25519_public(const imc_backend *b,
                                                 uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                                 const uint8_t sk[IMC_X25519_SECRET_BYTES]);
IMC_MUST_USE imc_status imc_crypto_x25519(const imc_backend *b,
                                          uint8_t shared[IMC_X25519_SHARED_BYTES],
                                          const uint8_t sk[IMC_X25519_SECRET_BYTES],
                                          const uint8_t pk[IMC_X25519_PUBLIC_BYTES]);

/* Ed25519 (RFC 8032, pure). `pk` passed to sign must be the key pair's own
 * public key (as produced by keygen/public); verify rejects non-canonical S,
 * non-canonical or small-order A and R. */
IMC_MUST_USE imc_status imc_crypto_ed25519_keygen(const imc_backend *b, imc_rng *rng,
                                                  uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                                  uint8_t sk[IMC_ED25519_SECRET_BYTES]);
IMC_MUST_USE imc_status imc_crypto_ed25519_public(const imc_backend *b,
                                                  uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                                  const uint8_t sk[IMC_ED25519_SECRET_BYTES]);
IMC_MUST_USE imc_status imc_crypto_ed25519_sign(const imc_backend *b,
                                                uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                                const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                                const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                                const uint8_t *msg, size_t msg_len);
IMC_MUST_USE imc_status imc_crypto_ed25519_verify(const imc_backend *b,
                                                  const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                                  const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                                  const uint8_t *msg, size_t msg_len);

/* P-256 ECDH and ECDSA-P256-SHA256 with raw r||s signatures. Public keys
 * must be uncompressed points on the curve (not the point at infinity). */
IMC_MUST_USE imc_status imc_crypto_p256_keygen(const imc_backend *b, imc_rng *rng,
                                               uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                               uint8_t sk[IMC_P256_SECRET_BYTES]);
IMC_MUST_USE imc_status imc_crypto_p256_public(const imc_backend *b,
                                               uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                               const uint8_t sk[IMC_P256_SECRET_BYTES]);
IMC_MUST_USE imc_status imc_crypto_p256_ecdh(const imc_backend *b,
                                             uint8_t shared[IMC_P256_SHARED_BYTES],
                                             const uint8_t sk[IMC_P256_SECRET_BYTES],
                                             const uint8_t pk[IMC_P256_PUBLIC_BYTES]);
IMC_MUST_USE imc_status imc_crypto_ecdsa_p256_sign(const imc_backend *b,
                                                   uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                                   const uint8_t sk[IMC_P256_SECRET_BYTES],
                                                   const uint8_t *msg, size_t msg_len);
IMC_MUST_USE imc_status imc_crypto_ecdsa_p256_verify(
    const imc_backend *b, const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
    const uint8_t pk[IMC_P256_PUBLIC_BYTES], const uint8_t *msg, size_t msg_len);

/* AEAD with a 32-byte key, a 96-bit nonce and a 128-bit tag; any other
 * nonce length is IMC_ERR_ARG. seal writes in_len + 16 bytes (ciphertext
 * then tag) to out; open reads ciphertext||tag and writes in_len - 16 bytes.
 * out_cap is the size of out. out may equal in (in place). */
IMC_MUST_USE imc_status imc_crypto_aead_seal(const imc_backend *b, imc_aead aead, uint8_t *out,
                                             size_t out_cap,
                                             const uint8_t key[IMC_AEAD_KEY_BYTES],
                                             const uint8_t *nonce, size_t nonce_len,
                                             const uint8_t *ad, size_t ad_len,
                                             const uint8_t *in, size_t in_len);
IMC_MUST_USE imc_status imc_crypto_aead_open(const imc_backend *b, imc_aead aead, uint8_t *out,
                                             size_t out_cap,
                                             const uint8_t key[IMC_AEAD_KEY_BYTES],
                                             const uint8_t *nonce, size_t nonce_len,
                                             const uint8_t *ad, size_t ad_len,
                                             const uint8_t *in, size_t in_len);

IMC_MUST_USE imc_status imc_crypto_sha256(const imc_backend *b, uint8_t out[IMC_SHA256_BYTES],
                                          const uint8_t *in, size_t in_len);
IMC_MUST_USE imc_status imc_crypto_hmac_sha256(const imc_backend *b,
                                               uint8_t out[IMC_SHA256_BYTES],
                                               const uint8_t *key, size_t key_len,
                                               const uint8_t *msg, size_t msg_len);
/* HKDF-SHA-256 (RFC 5869) extract-then-expand; 1 <= out_len <= 8160. */
IMC_MUST_USE imc_status imc_crypto_hkdf_sha256(const imc_backend *b, uint8_t *out,
                                               size_t out_len, const uint8_t *salt,
                                               size_t salt_len, const uint8_t *ikm,
                                               size_t ikm_len, const uint8_t *info,
                                               size_t info_len);

/* ---- Prepared keys ------------------------------------------------------
 *
 * A long-lived key (a device's own secrets, a peer's public key, the
 * directory's key) imported once into the backend's native objects and
 * reused, so that each operation does not parse and set up the key again.
 * The results are those of the plain calls above, byte for byte and status
 * for status (the same policy applies). Where a library's plain call takes
 * the raw key at no cost the bytes are kept, otherwise the library's key
 * object (docs/backends.md lists what each backend keeps). A prepared key
 * may be used from any number of threads, with the backend it was made on
 * only. */

typedef struct imc_prepared_key imc_prepared_key;

typedef enum imc_key_kind {
    IMC_KEY_X25519_SECRET = 1,  /* sk (32 bytes) */
    IMC_KEY_ED25519_SECRET = 2, /* seed || its public key (64 bytes) */
    IMC_KEY_ED25519_PUBLIC = 3, /* pk (32 bytes) */
    IMC_KEY_P256_SECRET = 4,    /* scalar (32 bytes) */
    IMC_KEY_P256_PUBLIC = 5,    /* 04 || x || y (65 bytes) */
} imc_key_kind;

/* *out = a new prepared key of the given kind, or NULL on failure (a key
 * of the wrong length is IMC_ERR_ARG; a P-256 scalar outside [1, n-1]
 * IMC_ERR_ARG; a P-256 point not in form or off the curve
 * IMC_ERR_WEAK_KEY). Free with imc_crypto_key_free, which wipes it. */
IMC_MUST_USE imc_status imc_crypto_key_prepare(imc_prepared_key **out, const imc_backend *b,
                                               imc_key_kind kind, const uint8_t *key,
                                               size_t key_len);
void imc_crypto_key_free(imc_prepared_key *k);

/* As imc_crypto_x25519 / _p256_ecdh with the own secret prepared. */
IMC_MUST_USE imc_status imc_crypto_x25519_prepared(const imc_backend *b,
                                                   uint8_t shared[IMC_X25519_SHARED_BYTES],
                                                   const imc_prepared_key *sk,
                                                   const uint8_t pk[IMC_X25519_PUBLIC_BYTES]);
IMC_MUST_USE imc_status imc_crypto_p256_ecdh_prepared(const imc_backend *b,
                                                      uint8_t shared[IMC_P256_SHARED_BYTES],
                                                      const imc_prepared_key *sk,
                                                      const uint8_t pk[IMC_P256_PUBLIC_BYTES]);
/* As the plain sign / verify calls with the key prepared (a secret key
 * for sign, a public key for verify). */
IMC_MUST_USE imc_status imc_crypto_ed25519_sign_prepared(
    const imc_backend *b, uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], const imc_prepared_key *sk,
    const uint8_t *msg, size_t msg_len);
IMC_MUST_USE imc_status imc_crypto_ed25519_verify_prepared(
    const imc_backend *b, const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
    const imc_prepared_key *pk, const uint8_t *msg, size_t msg_len);
IMC_MUST_USE imc_status imc_crypto_ecdsa_p256_sign_prepared(
    const imc_backend *b, uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], const imc_prepared_key *sk,
    const uint8_t *msg, size_t msg_len);
IMC_MUST_USE imc_status imc_crypto_ecdsa_p256_verify_prepared(
    const imc_backend *b, const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
    const imc_prepared_key *pk, const uint8_t *msg, size_t msg_len);

#ifdef __cplusplus
}
#endif
#endif
