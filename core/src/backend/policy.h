/* The one validation policy, as byte-level checks the core applies in front
 * of every backend (docs/validation-policy.md). Each returns 1 if the input
 * passes. They do no field arithmetic, so they behave the same whatever the
 * backend. */
#ifndef IMCORE_POLICY_H
#define IMCORE_POLICY_H

#include <stdint.h>

#include "imcore/crypto.h"

/* 1 if the X25519 public key is NOT one of the seven encodings (bit 255
 * ignored, as X25519 ignores it) of a point of order 1, 2, 4 or 8 on the
 * curve or its twist: exactly the keys for which X25519 with any private
 * key gives the all-zero shared secret. */
int imc_policy_x25519_public_ok(const uint8_t pk[IMC_X25519_PUBLIC_BYTES]);

/* S < L, the group order (RFC 8032 section 5.1.7 step 1). */
int imc_policy_ed25519_scalar_canonical(const uint8_t s[32]);

/* y < p for an encoded point (sign bit ignored). */
int imc_policy_ed25519_point_canonical(const uint8_t p[32]);

/* 1 if the encoding is NOT one of the small-order points (any sign bit). */
int imc_policy_ed25519_point_not_small_order(const uint8_t p[32]);

/* The whole Ed25519 verify pre-check: S canonical, A canonical and not of
 * small order, R not of small order. */
int imc_policy_ed25519_verify_ok(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                 const uint8_t pk[IMC_ED25519_PUBLIC_BYTES]);

/* Uncompressed SEC1 form: the 0x04 prefix and both coordinates < p (no
 * non-canonical field elements). On-curve checks are the backend's. */
int imc_policy_p256_public_form_ok(const uint8_t pk[IMC_P256_PUBLIC_BYTES]);

/* 1 <= r <= n-1 and 1 <= s <= n-1 for a raw r || s ECDSA P-256 signature. */
int imc_policy_ecdsa_p256_sig_ranges_ok(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES]);

/* 1 if s <= n / 2 (a "low-S" signature). Of the two valid signatures
 * (r, s) and (r, n - s) exactly one is low; the policy accepts only it. */
int imc_policy_ecdsa_p256_s_low(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES]);

/* Replaces a high s (in [1, n-1]) by n - s, in constant time; a low s is
 * left as it is. */
void imc_policy_ecdsa_p256_normalise_s(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES]);

/* 1 <= sk < n for a P-256 scalar. */
int imc_policy_p256_scalar_ok(const uint8_t sk[IMC_P256_SECRET_BYTES]);

#endif
