/* imcore: crypto backends, chosen at run time by name.
 *
 * A backend is a const table of primitives from one crypto library. It holds
 * no mutable state; the same pointer may be used from any number of threads.
 * The primitives themselves are called through imcore/crypto.h, which applies
 * the one validation policy (docs/validation-policy.md) in front of every
 * backend so that they accept and reject the same inputs. */
#ifndef IMCORE_BACKEND_H
#define IMCORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imc_backend imc_backend;

/* Primitive capability bits, as reported at run time (AES-GCM in libsodium
 * exists only on CPUs with AES-NI and PCLMUL). */
typedef enum imc_cap {
    IMC_CAP_X25519 = 1u << 0,
    IMC_CAP_ED25519 = 1u << 1,
    IMC_CAP_CHACHA20POLY1305 = 1u << 2,
    IMC_CAP_AES256GCM = 1u << 3,
    IMC_CAP_P256_ECDH = 1u << 4,
    IMC_CAP_ECDSA_P256 = 1u << 5,
    IMC_CAP_SHA256 = 1u << 6, /* SHA-256, HMAC-SHA-256, HKDF-SHA-256 */
} imc_cap;

/* The backend called `name` ("sodium", "openssl", or "auto", which runs each
 * primitive on whichever of the two is faster here), initialised and ready, or
 * NULL if no backend of that name was built into this library or it failed
 * to initialise. Thread-safe. */
const imc_backend *imc_backend_get(const char *name);

/* Names of all backends compiled into this build, in a fixed order; *count
 * receives how many. The array is static and must not be modified. */
const char *const *imc_backend_list(size_t *count);

const char *imc_backend_name(const imc_backend *b);

/* Human-readable library name and version, e.g. "libsodium 1.0.18". */
const char *imc_backend_version(const imc_backend *b);

/* Bitwise OR of imc_cap values available on this CPU. */
uint32_t imc_backend_caps(const imc_backend *b);

#ifdef __cplusplus
}
#endif
#endif
