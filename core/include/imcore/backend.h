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

/* The backend called `name` (one of imc_backend_list(); "auto" is the
 * composition described in docs/backends.md), initialised and ready, or
 * NULL if no backend of that name was built into this library or it failed
 * to initialise. Thread-safe. */
const imc_backend *imc_backend_get(const char *name);

/* Names of all backends compiled into this build, in a fixed order; *count
 * receives how many. The array is static and must not be modified. */
const char *const *imc_backend_list(size_t *count);

const char *imc_backend_name(const imc_backend *b);

/* Human-readable library name and version, e.g. "libsodium 1.0.18"; for a
 * composition, its choices. */
const char *imc_backend_version(const imc_backend *b);

/* Bitwise OR of imc_cap values available on this CPU. */
uint32_t imc_backend_caps(const imc_backend *b);

/* ---- Composition -------------------------------------------------------
 *
 * A composed backend runs each primitive on the library backend chosen for
 * it, behind the same validation policy as every backend. A primitive is
 * one capability (imc_cap) with all its operations (X25519: public key and
 * derive; SHA-256: hash, HMAC and HKDF), plus the random source. */
typedef enum imc_backend_prim {
    IMC_BACKEND_PRIM_RANDOM = 0,
    IMC_BACKEND_PRIM_X25519,
    IMC_BACKEND_PRIM_ED25519,
    IMC_BACKEND_PRIM_CHACHA20POLY1305,
    IMC_BACKEND_PRIM_AES256GCM,
    IMC_BACKEND_PRIM_P256_ECDH,
    IMC_BACKEND_PRIM_ECDSA_P256,
    IMC_BACKEND_PRIM_SHA256,
    IMC_BACKEND_PRIM_COUNT
} imc_backend_prim;

/* The primitive's name in profiles: "random", "x25519", "ed25519",
 * "chacha20poly1305", "aes256gcm", "p256-ecdh", "ecdsa-p256", "sha256";
 * NULL when out of range. */
const char *imc_backend_prim_name(imc_backend_prim prim);

/* Primitive `prim` runs on the library backend named `backend`. */
typedef struct imc_backend_choice {
    imc_backend_prim prim;
    const char *backend;
} imc_backend_choice;

/* Caller-owned storage for one composed backend. Opaque; it must stay in
 * place (not be copied or moved) while the backend it holds is in use. */
#define IMC_BACKEND_COMPOSITION_BYTES 1024
typedef struct imc_backend_composition {
    union {
        void *align_;
        uint64_t align64_;
        unsigned char bytes_[IMC_BACKEND_COMPOSITION_BYTES];
    } opaque_;
} imc_backend_composition;

/* *out = the backend assembled in *storage from n choices, each primitive
 * at most once; a primitive without a choice is unavailable (its calls
 * return IMC_ERR_UNSUPPORTED, caps() does not report it). Refused, with
 * *out = NULL and *storage unchanged: IMC_ERR_ARG for a NULL argument, a
 * primitive out of range or chosen twice, or a composition named as a part;
 * IMC_ERR_NOT_FOUND for a backend name not in imc_backend_list() (or one
 * that fails to initialise); IMC_ERR_UNSUPPORTED for a backend that does
 * not have the primitive on this CPU. imc_backend_name() of the result is
 * "composed". Uses no global state. */
IMC_MUST_USE imc_status imc_backend_compose(const imc_backend **out,
                                            imc_backend_composition *storage,
                                            const imc_backend_choice *choices, size_t n);

/* ---- Profiles ----------------------------------------------------------
 *
 * A profile is a composition written as text, one choice per line:
 * "<primitive>=<backend>\n" with the names above, e.g. "x25519=sodium".
 * Lines starting with '#' are comments; nothing else is allowed: no
 * blanks, no empty lines, every line ends in '\n', each primitive at most
 * once, at most IMC_BACKEND_PROFILE_MAX_BYTES in all.
 * scripts/auto-profile writes one from a benchmark run. */
#define IMC_BACKEND_PROFILE_MAX_BYTES 4096

/* Parses text[0..len) into choices[0..*n): the backend names point to the
 * static strings of imc_backend_list(). On any error *n = 0 and choices
 * is zeroed: IMC_ERR_ARG for a NULL argument; IMC_ERR_LIMIT for a text
 * over the maximum; IMC_ERR_MALFORMED for a line that breaks the rules
 * above or names an unknown primitive, or a primitive twice; IMC_ERR_NOT_FOUND
 * for a backend not in this build or a composition ("auto"). */
IMC_MUST_USE imc_status imc_backend_profile_parse(imc_backend_choice choices[IMC_BACKEND_PRIM_COUNT],
                                                  size_t *n, const char *text, size_t len);

#ifdef __cplusplus
}
#endif
#endif
