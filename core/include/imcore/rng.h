/* imcore: random sources.
 *
 * Every function that needs randomness takes an `imc_rng *`. NULL means the
 * backend's own CSPRNG (the OS generator via libsodium or OpenSSL). An
 * initialised deterministic generator (ChaCha20 keystream of a 32-byte seed
 * and a 64-bit stream number) may be injected instead, for tests, fuzzing and
 * reproducible benchmarks: with it, suite 1 output is byte-identical on every
 * backend. Never use the deterministic generator for real keys. */
#ifndef IMCORE_RNG_H
#define IMCORE_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMC_RNG_SEED_BYTES 32

/* Caller-owned; fields are private. */
typedef struct imc_rng {
    uint32_t state_[16];
    uint8_t block_[64];
    uint32_t used_; /* bytes of block_ already handed out (64 = empty) */
} imc_rng;

/* Deterministic ChaCha20 generator keyed by seed, on the given stream. */
void imc_rng_init_deterministic(imc_rng *rng, const uint8_t seed[IMC_RNG_SEED_BYTES],
                                uint64_t stream);

/* Fills out[0..len) from rng, or from b's CSPRNG when rng is NULL. */
IMC_MUST_USE imc_status imc_rng_fill(imc_rng *rng, const imc_backend *b, uint8_t *out,
                                     size_t len);

void imc_rng_wipe(imc_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
