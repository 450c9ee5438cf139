/* Private to libimcore: what the key-transparency files share. Layouts and
 * algorithms: docs/transparency.md. */
#ifndef IMCORE_KT_IMPL_H
#define IMCORE_KT_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/kt.h"
#include "imcore/wire.h"

#define IMC_KT_STATE_VERSION 1
#define IMC_KT_EVIDENCE_VERSION 1
#define IMC_KT_INDEX_PROOF_TAG 0x03

/* Index node domain separation (the log uses 0x00 and 0x01). */
#define IMC_KT_INDEX_LEAF 0x02
#define IMC_KT_INDEX_NODE 0x03

/* ---- base64.c: RFC 4648 section 4, padded ------------------------------ */

#define IMC_KT_B64_LEN(n) (((n) + 2) / 3 * 4)
/* Writes the encoding of in (no NUL) to out (cap IMC_KT_B64_LEN(len)). */
void imc_kt_b64_encode(char *out, const uint8_t *in, size_t len);
/* Decodes exactly; refuses non-canonical input (bad length, characters,
 * padding, or nonzero unused bits). *out_len receives the byte count. */
IMC_MUST_USE imc_status imc_kt_b64_decode(uint8_t *out, size_t out_cap, size_t *out_len,
                                          const uint8_t *in, size_t len);

/* ---- text.c: line reading through the cursor ---------------------------- */

/* Reads one line ending in '\n' (newline not included in *len); NULL and
 * a failed reader if there is none. */
const uint8_t *imc_kt_read_line(imc_reader *r, size_t *len);
/* Parses a decimal u64 without leading zeros, below 2^63. */
IMC_MUST_USE imc_status imc_kt_parse_dec(uint64_t *v, const uint8_t *p, size_t len);
/* Writes v in decimal; returns the digit count (out holds 20). */
size_t imc_kt_put_dec(char out[20], uint64_t v);
/* 1 if the name is 1..IMC_KT_MAX_NAME printable ASCII bytes without space
 * and '+'. */
int imc_kt_name_ok(const uint8_t *p, size_t len);

/* ---- note.c --------------------------------------------------------------- */

/* Parses a signed note and its checkpoint, and checks the log signature. */
IMC_MUST_USE imc_status imc_kt_open_checkpoint(imc_kt_checkpoint *cp, imc_kt_note *n,
                                               const imc_backend *b, const imc_kt_key *log,
                                               const uint8_t *note, size_t note_len);

/* ---- merkle.c ---------------------------------------------------------------- */

/* The RFC 9162 consistency walk for 0 < m < n over a path that, when m is
 * a power of two, starts with the first root (the caller prepends it).
 * Computes the first and second roots; IMC_ERR_AUTH if the path has the
 * wrong shape. */
IMC_MUST_USE imc_status imc_kt_consistency_roots(const imc_backend *b,
                                                 uint8_t fr[IMC_KT_HASH_BYTES],
                                                 uint8_t sr[IMC_KT_HASH_BYTES], uint64_t m,
                                                 uint64_t n, const uint8_t (*path)[32],
                                                 size_t count);

/* ---- evidence.c ------------------------------------------------------------- */

IMC_MUST_USE imc_status imc_kt_evidence_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                               imc_kt_evidence_kind kind, const imc_kt_key *log,
                                               const uint8_t *note_a, size_t a_len,
                                               const uint8_t *note_b, size_t b_len,
                                               const uint8_t prefix_root[IMC_KT_HASH_BYTES],
                                               const imc_kt_log_proof *proof);

#endif
