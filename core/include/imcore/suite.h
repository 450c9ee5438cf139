/* imcore: suites, the named algorithm bundles (docs/wire-format.md).
 *
 * A suite fixes the DH, the signature and the AEAD; the KDF is always
 * HKDF-SHA-256. The functions below dispatch through the suite's tables of
 * operations to imcore/crypto.h, so the message and directory code never
 * branch on the algorithm themselves. Key and signature sizes vary by suite; the *_MAX
 * constants size every buffer that may hold any of them. */
#ifndef IMCORE_SUITE_H
#define IMCORE_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/crypto.h"
#include "imcore/rng.h"
#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum imc_suite_id {
    IMC_SUITE_X25519_ED25519_CHACHA20POLY1305 = 1,
    IMC_SUITE_P256_ECDSA_AES256GCM = 2,
    IMC_SUITE_X25519_ED25519_AES256GCM = 3,
} imc_suite_id;

#define IMC_SUITE_COUNT 3

#define IMC_DH_PUBLIC_MAX 65
#define IMC_DH_SECRET_MAX 32
#define IMC_DH_SHARED_MAX 32
#define IMC_SIG_PUBLIC_MAX 65
#define IMC_SIG_SECRET_MAX 32
#define IMC_SIG_MAX 64

/* The operations of a suite, one table per algorithm (suite.c); callers
 * use the imc_suite_* functions below rather than these tables. */
typedef struct imc_suite_dh_ops imc_suite_dh_ops;
typedef struct imc_suite_sig_ops imc_suite_sig_ops;

/* A suite is a row of sizes and two tables of operations, so that a new
 * algorithm (a key-encapsulation suite, say) is a new table, not a branch
 * on key sizes. The message layer reads every length from here: the
 * per-message ephemeral key in the header (eph_bytes; 0 for a KEM suite,
 * whose encapsulations travel per recipient) and the per-recipient wrap
 * (wrap_bytes = enc_bytes + the AEAD-sealed content key). */
typedef struct imc_suite {
    imc_suite_id id;
    const char *name;       /* "X25519_ED25519_CHACHA20POLY1305" */
    const char *short_name; /* "x25519-ed25519-chacha" (benchmark names, CLI) */
    uint32_t caps;          /* imc_cap bits a backend needs for this suite */
    size_t dh_public_bytes;
    size_t dh_secret_bytes;
    size_t dh_shared_bytes;
    size_t eph_bytes;  /* ephemeral public key in the message header */
    size_t enc_bytes;  /* per-recipient encapsulation before the wrap (0 for DH) */
    size_t wrap_bytes; /* one recipient's wrap on the wire: enc_bytes + 32 + 16 */
    size_t sig_public_bytes;
    size_t sig_secret_bytes;
    size_t sig_bytes;
    imc_aead aead;
    const imc_suite_dh_ops *dh;
    const imc_suite_sig_ops *sig;
} imc_suite;

/* The suite with this id, or NULL for an unknown id. */
const imc_suite *imc_suite_get(uint32_t id);

/* Look up by name or short name (case-sensitive), or by decimal id; NULL if
 * no suite matches. */
const imc_suite *imc_suite_find(const char *name);

/* True if b provides every primitive the suite needs on this CPU. */
bool imc_suite_supported(const imc_suite *s, const imc_backend *b);

IMC_MUST_USE imc_status imc_suite_dh_keygen(const imc_suite *s, const imc_backend *b,
                                            imc_rng *rng, uint8_t *pk, uint8_t *sk);
IMC_MUST_USE imc_status imc_suite_dh(const imc_suite *s, const imc_backend *b, uint8_t *shared,
                                     const uint8_t *sk, const uint8_t *peer_pk);
/* A DH secret used for several agreements (the ephemeral key of a message
 * to many devices, a device's own key over many messages), prepared once
 * (imc_crypto_key_prepare; free with imc_crypto_key_free), and an agreement
 * with it: the same answers as imc_suite_dh. */
IMC_MUST_USE imc_status imc_suite_dh_prepare(const imc_suite *s, const imc_backend *b,
                                             imc_prepared_key **out, const uint8_t *sk);
IMC_MUST_USE imc_status imc_suite_dh_prepared(const imc_suite *s, const imc_backend *b,
                                              uint8_t *shared, const imc_prepared_key *sk,
                                              const uint8_t *peer_pk);
/* A signing key (secret sk with its public key pk) prepared on b for many
 * signatures, and a signature with it: the same bytes as imc_suite_sign. */
IMC_MUST_USE imc_status imc_suite_sig_prepare(const imc_suite *s, const imc_backend *b,
                                              imc_prepared_key **out, const uint8_t *sk,
                                              const uint8_t *pk);
IMC_MUST_USE imc_status imc_suite_sign_prepared(const imc_suite *s, const imc_backend *b,
                                                uint8_t *sig, const imc_prepared_key *sk,
                                                const uint8_t *msg, size_t msg_len);
/* The public key of a secret key (DH or signing), e.g. to check that a
 * loaded key pair is consistent. */
IMC_MUST_USE imc_status imc_suite_dh_public(const imc_suite *s, const imc_backend *b, uint8_t *pk,
                                            const uint8_t *sk);
IMC_MUST_USE imc_status imc_suite_sig_public(const imc_suite *s, const imc_backend *b,
                                             uint8_t *pk, const uint8_t *sk);
IMC_MUST_USE imc_status imc_suite_sig_keygen(const imc_suite *s, const imc_backend *b,
                                             imc_rng *rng, uint8_t *pk, uint8_t *sk);
/* pk is the signer's own public key (used by Ed25519, ignored by ECDSA). */
IMC_MUST_USE imc_status imc_suite_sign(const imc_suite *s, const imc_backend *b, uint8_t *sig,
                                       const uint8_t *sk, const uint8_t *pk,
                                       const uint8_t *msg, size_t msg_len);
IMC_MUST_USE imc_status imc_suite_verify(const imc_suite *s, const imc_backend *b,
                                         const uint8_t *sig, const uint8_t *pk,
                                         const uint8_t *msg, size_t msg_len);

#ifdef __cplusplus
}
#endif
#endif
