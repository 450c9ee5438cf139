/* The auto backend's short timing (calibrate.c), private to libimcore. */
#ifndef IMCORE_BACKEND_CALIBRATE_H
#define IMCORE_BACKEND_CALIBRATE_H

#include <stddef.h>
#include <stdio.h>

#include "backend/backend_impl.h"

/* For every primitive that none of choices[0..*n) names, times one typical
 * operation (X25519 derive, Ed25519 and ECDSA sign of 64 bytes, P-256
 * ECDH, AEAD seal of 64 bytes, HMAC-SHA-256 of 64 bytes, 32 random bytes) on
 * each of the n library backends that has the primitive, and appends a
 * choice of the fastest (earlier backends win ties and anything that could
 * not be timed): a few batches of about 0.1 ms per candidate and
 * primitive. The timings go to log (NULL: silent). */
/* Candidates per primitive beyond this many are not timed. */
#define IMC_CALIBRATE_MAX 8

void imc_calibrate(imc_backend_choice choices[IMC_BACKEND_PRIM_COUNT], size_t *n,
                   const imc_backend *const *backends, size_t n_backends, FILE *log);

#endif
