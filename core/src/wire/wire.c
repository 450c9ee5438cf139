/* The bounds-checked reader and the fixed-buffer writer (imcore/wire.h).
 *
 * Invariant of both: off <= len (reader), len <= cap (writer), so
 * `len - off` and `cap - len` never wrap, and every bounds check is one
 * comparison against them. */
#include <string.h>

#include "imcore/wire.h"

/* What a zero-length view points at when the caller gave no buffer. */
static const uint8_t empty_buf[1];

/* ---- Reader ------------------------------------------------------------ */

void imc_wire_reader_init(imc_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf != NULL ? buf : empty_buf;
    r->len = buf != NULL ? len : 0;
    r->off = 0;
    r->err = buf == NULL && len != 0;
}

/* The next n bytes, consumed; NULL (and the reader failed) if fewer remain. */
static const uint8_t *take(imc_reader *r, size_t n)
{
    if (r->err || n > r->len - r->off) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->buf + r->off;
    r->off += n;
    return p;
}

static uint64_t take_uint(imc_reader *r, size_t n)
{
    const uint8_t *p = take(r, n);
    uint64_t v = 0;
    if (p != NULL)
        for (size_t i = 0; i < n; i++)
            v = (v << 8) | p[i];
    return v;
}

uint8_t imc_wire_read_u8(imc_reader *r) { return (uint8_t)take_uint(r, 1); }
uint16_t imc_wire_read_u16(imc_reader *r) { return (uint16_t)take_uint(r, 2); }
uint32_t imc_wire_read_u32(imc_reader *r) { return (uint32_t)take_uint(r, 4); }
uint64_t imc_wire_read_u64(imc_reader *r) { return take_uint(r, 8); }

const uint8_t *imc_wire_read_bytes(imc_reader *r, size_t n) { return take(r, n); }

void imc_wire_read_copy(imc_reader *r, uint8_t *out, size_t n)
{
    const uint8_t *p = take(r, n);
    if (n == 0)
        return;
    if (p != NULL)
        memcpy(out, p, n);
    else
        memset(out, 0, n);
}

void imc_wire_reader_fail(imc_reader *r) { r->err = true; }

size_t imc_wire_remaining(const imc_reader *r) { return r->err ? 0 : r->len - r->off; }

const uint8_t *imc_wire_reader_since(const imc_reader *r, size_t mark, size_t *n)
{
    if (r->err || mark > r->off) {
        *n = 0;
        return NULL;
    }
    *n = r->off - mark;
    return r->buf + mark;
}

imc_status imc_wire_reader_finish(const imc_reader *r)
{
    return !r->err && r->off == r->len ? IMC_OK : IMC_ERR_MALFORMED;
}

/* ---- Writer ------------------------------------------------------------ */

void imc_wire_writer_init(imc_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf != NULL ? cap : 0;
    w->len = 0;
    w->err = buf == NULL && cap != 0;
}

/* Room for the next n bytes, claimed; NULL (and the writer failed) if the
 * buffer is too small. A zero-length claim on a NULL buffer gets a pointer
 * that must not be written, which is all a zero-length claim allows. */
static uint8_t *claim(imc_writer *w, size_t n)
{
    if (w->err || n > w->cap - w->len) {
        w->err = true;
        return NULL;
    }
    if (w->buf == NULL)
        return (uint8_t *)(uintptr_t)empty_buf;
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

static void put_uint(imc_writer *w, uint64_t v, size_t n)
{
    uint8_t *p = claim(w, n);
    if (p != NULL)
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void imc_wire_write_u8(imc_writer *w, uint8_t v) { put_uint(w, v, 1); }
void imc_wire_write_u16(imc_writer *w, uint16_t v) { put_uint(w, v, 2); }
void imc_wire_write_u32(imc_writer *w, uint32_t v) { put_uint(w, v, 4); }
void imc_wire_write_u64(imc_writer *w, uint64_t v) { put_uint(w, v, 8); }

void imc_wire_write_bytes(imc_writer *w, const uint8_t *p, size_t n)
{
    if (p == NULL && n != 0) {
        w->err = true;
        return;
    }
    uint8_t *dst = claim(w, n);
    if (dst != NULL && n != 0)
        memcpy(dst, p, n);
}

uint8_t *imc_wire_write_reserve(imc_writer *w, size_t n) { return claim(w, n); }

imc_status imc_wire_writer_finish(const imc_writer *w, size_t *len)
{
    if (len != NULL)
        *len = w->err ? 0 : w->len;
    return w->err ? IMC_ERR_NO_SPACE : IMC_OK;
}
