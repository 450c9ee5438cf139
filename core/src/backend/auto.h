/* The composite backend "auto" (auto.c): its choice table, private to
 * libimcore and its tests.
 *
 * A plan says, for every primitive ("slot"), which of the component
 * backends runs it. The AEADs have one slot per algorithm, direction and
 * message-size band, because the libraries cross over with size (libsodium
 * wins on short messages, OpenSSL's wide assembly on long ones). */
#ifndef IMCORE_BACKEND_AUTO_H
#define IMCORE_BACKEND_AUTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend_impl.h"

/* Component backends a plan can choose from. */
#define IMC_AUTO_MAX_BACKENDS 8

/* AEAD size bands: [0, 256), [256, 4096), [4096, inf), measured (and named
 * in a profile) at 64, 1024 and 16384 bytes, the primitive floor's sizes;
 * the band edges are the geometric midpoints. */
#define IMC_AUTO_AEAD_BANDS 3
#define IMC_AUTO_AEADS 2 /* ChaCha20-Poly1305, AES-256-GCM */

typedef enum imc_auto_slot {
    IMC_AUTO_RANDOM = 0,
    IMC_AUTO_X25519_PUBLIC,
    IMC_AUTO_X25519,
    IMC_AUTO_ED25519_PUBLIC,
    IMC_AUTO_ED25519_SIGN,
    IMC_AUTO_ED25519_VERIFY,
    IMC_AUTO_P256_PUBLIC,
    IMC_AUTO_P256_ECDH,
    IMC_AUTO_ECDSA_P256_SIGN,
    IMC_AUTO_ECDSA_P256_VERIFY,
    IMC_AUTO_SHA256,
    IMC_AUTO_HMAC_SHA256,
    IMC_AUTO_HKDF_SHA256,
    /* Then IMC_AUTO_AEADS x {seal, open} x IMC_AUTO_AEAD_BANDS slots, in
     * the order of imc_auto_aead_slot(). */
    IMC_AUTO_AEAD_FIRST,
    IMC_AUTO_SLOT_COUNT = IMC_AUTO_AEAD_FIRST + IMC_AUTO_AEADS * 2 * IMC_AUTO_AEAD_BANDS
} imc_auto_slot;

/* Where a slot's choice came from. */
typedef enum imc_auto_source {
    IMC_AUTO_SRC_NONE = 0,   /* no component has the primitive */
    IMC_AUTO_SRC_ONLY,       /* one component has it: nothing to choose */
    IMC_AUTO_SRC_PROFILE,    /* the medians of IMC_AUTO_PROFILE */
    IMC_AUTO_SRC_CALIBRATED, /* timed at initialisation */
    IMC_AUTO_SRC_FALLBACK,   /* calibration could not run it: first component */
} imc_auto_source;

/* What became of the profile file. */
typedef enum imc_auto_profile_state {
    IMC_AUTO_PROFILE_UNSET = 0,  /* no path given */
    IMC_AUTO_PROFILE_USED,       /* parsed; at least one choice taken from it */
    IMC_AUTO_PROFILE_UNREADABLE, /* cannot be opened or read, or too large */
    IMC_AUTO_PROFILE_MALFORMED,  /* not google-benchmark JSON */
    IMC_AUTO_PROFILE_NO_ENTRIES, /* valid, but no prim/<backend>/... pair to compare */
} imc_auto_profile_state;

typedef struct imc_auto_plan {
    size_t n_backends;
    const imc_backend *backends[IMC_AUTO_MAX_BACKENDS];
    /* The component that runs each slot; NULL when none has it. */
    const imc_backend *pick[IMC_AUTO_SLOT_COUNT];
    imc_auto_source source[IMC_AUTO_SLOT_COUNT];
    /* Time per call in ns that decided the slot, per component (same order
     * as backends); 0 when not measured or not in the profile. */
    double ns[IMC_AUTO_SLOT_COUNT][IMC_AUTO_MAX_BACKENDS];
    /* Union of the components' capabilities. */
    uint32_t caps;
    imc_auto_profile_state profile;
    size_t from_profile; /* slots decided by the profile */
    size_t calibrated;   /* slots decided by timing */
    double calibration_ms;
} imc_auto_plan;

/* The slot of an AEAD operation on a message of msg_len bytes (plaintext
 * length, for open too), or -1 for an unknown AEAD. */
int imc_auto_aead_slot(imc_aead aead, int open, size_t msg_len);

/* The slot's name in the primitive floor, prim/<backend>/<name>, e.g.
 * "x25519-derive" or "aead-seal/chacha20poly1305/64"; NULL if out of range. */
const char *imc_auto_slot_name(size_t slot);

/* Builds a plan over the n components (each already initialised; at most
 * IMC_AUTO_MAX_BACKENDS, earlier ones win ties and fallbacks): from the
 * google-benchmark JSON at profile_path where it has the medians of at
 * least two candidates of a slot, by timing the rest. profile_path NULL means no
 * profile. Progress and problems go to log (NULL: silent). Fails only with
 * no components. Uses no global state, so it may run at any time. */
imc_status imc_auto_plan_make(imc_auto_plan *plan, const imc_backend *const *backends, size_t n,
                              const char *profile_path, FILE *log);

/* One-line description of the plan, as imc_backend_version() reports it
 * for "auto". Returns the length it needed (as snprintf). */
size_t imc_auto_plan_describe(const imc_auto_plan *plan, const char *profile_path, char *out,
                              size_t cap);

#endif
