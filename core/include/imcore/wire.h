/* imcore: the bounds-checked reader and the fixed-buffer writer.
 *
 * The reader ("cursor") is the only place in imcore that checks bounds: all
 * parsing goes through it. Both carry a sticky error bit: after the first
 * over-read (or over-write) every further call does nothing and returns
 * zero/NULL, so a parser reads all its fields and checks once at the end.
 * All integers are big-endian.
 *
 * A reader or writer over (NULL, 0) is valid and empty; (NULL, n > 0) starts
 * out failed. A successful zero-length read or reserve returns a non-NULL
 * pointer, so NULL always means failure. */
#ifndef IMCORE_WIRE_H
#define IMCORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imc_reader {
    const uint8_t *buf;
    size_t len;
    size_t off;
    bool err;
} imc_reader;

void imc_wire_reader_init(imc_reader *r, const uint8_t *buf, size_t len);
uint8_t imc_wire_read_u8(imc_reader *r);
uint16_t imc_wire_read_u16(imc_reader *r);
uint32_t imc_wire_read_u32(imc_reader *r);
uint64_t imc_wire_read_u64(imc_reader *r);
/* A view of the next n bytes (no copy), or NULL on error. */
const uint8_t *imc_wire_read_bytes(imc_reader *r, size_t n);
/* Copies the next n bytes into out (zeroed on error). */
void imc_wire_read_copy(imc_reader *r, uint8_t *out, size_t n);
/* Marks the reader failed: for a value that parsed but is not allowed. */
void imc_wire_reader_fail(imc_reader *r);
/* Bytes left to read (0 once the reader has failed). */
size_t imc_wire_remaining(const imc_reader *r);
/* A view of the bytes consumed since `mark`, an earlier value of r->off, and
 * their count in *n; NULL (and *n = 0) if the reader has failed or mark is
 * ahead of the current offset. For spans that are signed or authenticated
 * exactly as they appear on the wire. */
const uint8_t *imc_wire_reader_since(const imc_reader *r, size_t mark, size_t *n);
/* IMC_OK if no error and every byte was consumed, else IMC_ERR_MALFORMED. */
IMC_MUST_USE imc_status imc_wire_reader_finish(const imc_reader *r);

typedef struct imc_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool err;
} imc_writer;

void imc_wire_writer_init(imc_writer *w, uint8_t *buf, size_t cap);
void imc_wire_write_u8(imc_writer *w, uint8_t v);
void imc_wire_write_u16(imc_writer *w, uint16_t v);
void imc_wire_write_u32(imc_writer *w, uint32_t v);
void imc_wire_write_u64(imc_writer *w, uint64_t v);
void imc_wire_write_bytes(imc_writer *w, const uint8_t *p, size_t n);
/* Reserves n bytes and returns where they are, for in-place output (e.g.
 * AEAD straight into the buffer); NULL on error. */
uint8_t *imc_wire_write_reserve(imc_writer *w, size_t n);
/* IMC_OK and the length written, or IMC_ERR_NO_SPACE (and *len = 0). len
 * may be NULL. */
IMC_MUST_USE imc_status imc_wire_writer_finish(const imc_writer *w, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
