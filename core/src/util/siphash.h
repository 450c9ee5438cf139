/* Private to libimcore: SipHash-2-4 (Aumasson and Bernstein), a keyed hash
 * for hash tables indexed by attacker-chosen keys (handles), so that no one
 * without the per-table key can make lookups collide. Not a MAC here. */
#ifndef IMCORE_SIPHASH_H
#define IMCORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define IMC_SIPHASH_KEY_BYTES 16

uint64_t imc_siphash24(const uint8_t key[IMC_SIPHASH_KEY_BYTES], const uint8_t *in, size_t len);

#endif
