/* Envelope and delivery: sizes, strict parsers and canonical writers
 * (docs/wire-format.md, "Envelope", "Delivery" and "Parsing rules").
 *
 * The parsers read through imc_reader only. A field reader that meets a
 * value the format does not allow records why (the first violation in wire
 * order wins) and fails the reader, so the rest of the parse runs to the end
 * without effect; the control flow then reports one status. */
#include <string.h>

#include "imcore/msg.h"
#include "imcore/util.h"
#include "imcore/wire.h"
#include "msg/msg_impl.h"

/* ---- Sizes ------------------------------------------------------------- */

/* What an envelope and a delivery share after the prefix: SH, the body
 * ciphertext and the recipient set. */
static size_t common_size(const imc_suite *s, size_t handle_len, size_t recipients,
                          size_t body_len)
{
    return IMC_MSG_SH_FIXED_BYTES + handle_len + s->eph_bytes + body_len + IMC_AEAD_TAG_BYTES +
           2 + recipients * IMC_MSG_DEVICE_ID_BYTES;
}

static const imc_suite *sized_suite(uint32_t suite, size_t handle_len, size_t recipients,
                                    size_t body_len)
{
    if (handle_len == 0 || handle_len > IMC_MAX_HANDLE_BYTES || body_len > IMC_MAX_BODY_BYTES ||
        recipients == 0 || recipients > IMC_MAX_RECIPIENTS)
        return NULL;
    return imc_suite_get(suite);
}

size_t imc_msg_envelope_size(uint32_t suite, size_t handle_len, size_t recipients,
                             size_t body_len)
{
    const imc_suite *s = sized_suite(suite, handle_len, recipients, body_len);
    if (s == NULL)
        return 0;
    return 4 + common_size(s, handle_len, recipients, body_len) + recipients * s->wrap_bytes +
           s->sig_bytes;
}

size_t imc_msg_delivery_size(uint32_t suite, size_t handle_len, size_t recipients,
                             size_t body_len)
{
    const imc_suite *s = sized_suite(suite, handle_len, recipients, body_len);
    if (s == NULL)
        return 0;
    return 4 + common_size(s, handle_len, recipients, body_len) + 2 + s->wrap_bytes +
           s->sig_bytes;
}

uint64_t imc_msg_recipient_id(const imc_msg_recipients *r, size_t i)
{
    if (r == NULL || r->ids == NULL || i >= r->count)
        return 0;
    imc_reader rd;
    imc_wire_reader_init(&rd, r->ids, r->count * IMC_MSG_DEVICE_ID_BYTES);
    (void)imc_wire_read_bytes(&rd, i * IMC_MSG_DEVICE_ID_BYTES);
    return imc_wire_read_u64(&rd);
}

/* ---- Field readers ----------------------------------------------------- */

/* Records the first violation and fails the reader. A value read after the
 * reader failed is meaningless (zero), so it records nothing. */
static void reject(imc_reader *r, imc_status *why, imc_status st)
{
    if (*why == IMC_OK && !r->err)
        *why = st;
    imc_wire_reader_fail(r);
}

static const imc_suite *read_prefix(imc_reader *r, imc_status *why, uint8_t kind)
{
    uint8_t version = imc_wire_read_u8(r);
    uint8_t k = imc_wire_read_u8(r);
    const imc_suite *s = imc_suite_get(imc_wire_read_u16(r));
    if (version != IMC_MSG_VERSION || k != kind || s == NULL)
        reject(r, why, IMC_ERR_MALFORMED);
    return s;
}

static void read_handle(imc_reader *r, imc_status *why, imc_msg_header *h)
{
    size_t n = imc_wire_read_u8(r); /* size_t: the limit may be the type's maximum */
    if (n == 0)
        reject(r, why, IMC_ERR_MALFORMED);
    else if (n > IMC_MAX_HANDLE_BYTES)
        reject(r, why, IMC_ERR_LIMIT);
    h->sender_handle = imc_wire_read_bytes(r, n);
    h->sender_handle_len = n;
}

/* The body length is checked as soon as it is read, before its bytes. */
static void read_body_len(imc_reader *r, imc_status *why, imc_msg_header *h)
{
    uint32_t c = imc_wire_read_u32(r);
    if (c < IMC_AEAD_TAG_BYTES)
        reject(r, why, IMC_ERR_MALFORMED);
    else if (c > (uint32_t)IMC_MAX_BODY_BYTES + IMC_AEAD_TAG_BYTES)
        reject(r, why, IMC_ERR_LIMIT);
    h->body_len = c;
}

/* SH, then the body ciphertext. */
static void read_header(imc_reader *r, imc_status *why, const imc_suite *s, imc_msg_header *h)
{
    size_t mark = r->off;
    h->suite = s->id;
    read_handle(r, why, h);
    h->sender_device = imc_wire_read_u64(r);
    if (!r->err && h->sender_device == 0)
        reject(r, why, IMC_ERR_MALFORMED);
    h->message_id = imc_wire_read_bytes(r, IMC_MSG_ID_BYTES);
    h->timestamp_ms = imc_wire_read_u64(r);
    h->eph_pk = imc_wire_read_bytes(r, s->eph_bytes);
    h->commitment = imc_wire_read_bytes(r, IMC_MSG_COMMIT_BYTES);
    read_body_len(r, why, h);
    h->signed_part = imc_wire_reader_since(r, mark, &h->signed_part_len);
    h->body = imc_wire_read_bytes(r, h->body_len);
}

/* Device ids must be nonzero and strictly increasing: one canonical
 * encoding, no repeats. */
static int ids_valid(const imc_msg_recipients *rc)
{
    imc_reader e;
    imc_wire_reader_init(&e, rc->ids, rc->count * IMC_MSG_DEVICE_ID_BYTES);
    uint64_t prev = 0;
    int ok = 1;
    for (size_t i = 0; i < rc->count; i++) {
        uint64_t id = imc_wire_read_u64(&e);
        ok &= id > prev;
        prev = id;
    }
    return ok && imc_wire_reader_finish(&e) == IMC_OK;
}

/* The count is checked as soon as it is read, then the ids. */
static void read_recipients(imc_reader *r, imc_status *why, imc_msg_recipients *rc)
{
    size_t n = imc_wire_read_u16(r);
    if (n == 0)
        reject(r, why, IMC_ERR_MALFORMED);
    else if (n > IMC_MAX_RECIPIENTS)
        reject(r, why, IMC_ERR_LIMIT);
    rc->count = n;
    rc->ids = imc_wire_read_bytes(r, n * IMC_MSG_DEVICE_ID_BYTES);
    if (rc->ids != NULL && !ids_valid(rc))
        reject(r, why, IMC_ERR_MALFORMED);
}

/* A delivery's index names its device in the set. */
static void read_index(imc_reader *r, imc_status *why, imc_delivery *d)
{
    d->index = imc_wire_read_u16(r);
    if (!r->err && d->index >= d->rcpt.count)
        reject(r, why, IMC_ERR_MALFORMED);
    d->entry.device_id = imc_msg_recipient_id(&d->rcpt, d->index);
}

/* The parse result: the first recorded violation, else MALFORMED for a
 * short input or trailing bytes. */
static imc_status parse_status(const imc_reader *r, imc_status why)
{
    return why != IMC_OK ? why : imc_wire_reader_finish(r);
}

/* ---- Parsers (control flow) ------------------------------------------- */

imc_status imc_msg_parse_envelope(imc_envelope *env, const uint8_t *in, size_t in_len)
{
    if (env == NULL)
        return IMC_ERR_ARG;
    memset(env, 0, sizeof *env);
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    const imc_suite *s = read_prefix(&r, &why, IMC_MSG_KIND_ENVELOPE);
    if (s != NULL) {
        read_header(&r, &why, s, &env->h);
        read_recipients(&r, &why, &env->rcpt);
        env->wraps = imc_wire_read_bytes(&r, env->rcpt.count * s->wrap_bytes);
        env->sig = imc_wire_read_bytes(&r, s->sig_bytes);
    }
    imc_status st = parse_status(&r, why);
    if (st != IMC_OK)
        memset(env, 0, sizeof *env);
    return st;
}

imc_status imc_msg_parse_delivery(imc_delivery *d, const uint8_t *in, size_t in_len)
{
    if (d == NULL)
        return IMC_ERR_ARG;
    memset(d, 0, sizeof *d);
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    const imc_suite *s = read_prefix(&r, &why, IMC_MSG_KIND_DELIVERY);
    if (s != NULL) {
        read_header(&r, &why, s, &d->h);
        read_recipients(&r, &why, &d->rcpt);
        read_index(&r, &why, d);
        d->entry.wrap = imc_wire_read_bytes(&r, s->wrap_bytes);
        d->sig = imc_wire_read_bytes(&r, s->sig_bytes);
    }
    imc_status st = parse_status(&r, why);
    if (st != IMC_OK)
        memset(d, 0, sizeof *d);
    return st;
}

imc_msg_entry imc_msg_envelope_entry(const imc_envelope *env, size_t i)
{
    imc_msg_entry e = {0, NULL};
    const imc_suite *s = env != NULL ? imc_suite_get(env->h.suite) : NULL;
    if (s == NULL || env->wraps == NULL || i >= env->rcpt.count)
        return e;
    imc_reader r;
    imc_wire_reader_init(&r, env->wraps, env->rcpt.count * s->wrap_bytes);
    (void)imc_wire_read_bytes(&r, i * s->wrap_bytes);
    e.wrap = imc_wire_read_bytes(&r, s->wrap_bytes);
    e.device_id = e.wrap != NULL ? imc_msg_recipient_id(&env->rcpt, i) : 0;
    return e;
}

/* ---- Writers ----------------------------------------------------------- */

void imc_msg_put_prefix(imc_writer *w, uint8_t kind, uint32_t suite)
{
    imc_wire_write_u8(w, IMC_MSG_VERSION);
    imc_wire_write_u8(w, kind);
    imc_wire_write_u16(w, (uint16_t)suite);
}

void imc_msg_put_signed_header(imc_writer *w, const imc_msg_header *h, const imc_suite *s)
{
    imc_wire_write_u8(w, (uint8_t)h->sender_handle_len);
    imc_wire_write_bytes(w, h->sender_handle, h->sender_handle_len);
    imc_wire_write_u64(w, h->sender_device);
    imc_wire_write_bytes(w, h->message_id, IMC_MSG_ID_BYTES);
    imc_wire_write_u64(w, h->timestamp_ms);
    imc_wire_write_bytes(w, h->eph_pk, s->eph_bytes);
    imc_wire_write_bytes(w, h->commitment, IMC_MSG_COMMIT_BYTES);
    imc_wire_write_u32(w, (uint32_t)h->body_len);
}

/* The suite of a header that would parse, or NULL: the writers only emit
 * what the parsers accept. */
static const imc_suite *writable_header(const imc_msg_header *h)
{
    const imc_suite *s = imc_suite_get(h->suite);
    if (s == NULL || h->sender_handle == NULL || h->sender_handle_len == 0 ||
        h->sender_device == 0 ||
        h->sender_handle_len > IMC_MAX_HANDLE_BYTES || h->message_id == NULL ||
        h->eph_pk == NULL || h->commitment == NULL || h->body == NULL ||
        h->body_len < IMC_AEAD_TAG_BYTES ||
        h->body_len > (size_t)IMC_MAX_BODY_BYTES + IMC_AEAD_TAG_BYTES)
        return NULL;
    return s;
}

static int writable_recipients(const imc_msg_recipients *rc)
{
    return rc->count != 0 && rc->count <= IMC_MAX_RECIPIENTS && rc->ids != NULL &&
           ids_valid(rc);
}

/* Prefix, SH, body and recipient set: what both kinds start with. */
static void put_common(imc_writer *w, uint8_t kind, const imc_suite *s, const imc_msg_header *h,
                       const imc_msg_recipients *rc)
{
    imc_msg_put_prefix(w, kind, s->id);
    imc_msg_put_signed_header(w, h, s);
    imc_wire_write_bytes(w, h->body, h->body_len);
    imc_wire_write_u16(w, (uint16_t)rc->count);
    imc_wire_write_bytes(w, rc->ids, rc->count * IMC_MSG_DEVICE_ID_BYTES);
}

static imc_status finish_message(imc_writer *w, uint8_t *out, size_t *out_len)
{
    imc_status st = imc_wire_writer_finish(w, out_len);
    if (st != IMC_OK)
        imc_wipe(out, w->len);
    return st;
}

imc_status imc_msg_write_envelope(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_envelope *env)
{
    if (out_len != NULL)
        *out_len = 0;
    const imc_suite *s = env != NULL ? writable_header(&env->h) : NULL;
    if (out_len == NULL || s == NULL || !writable_recipients(&env->rcpt) || env->wraps == NULL ||
        env->sig == NULL)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_common(&w, IMC_MSG_KIND_ENVELOPE, s, &env->h, &env->rcpt);
    imc_wire_write_bytes(&w, env->wraps, env->rcpt.count * s->wrap_bytes);
    imc_wire_write_bytes(&w, env->sig, s->sig_bytes);
    return finish_message(&w, out, out_len);
}

imc_status imc_msg_write_delivery(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_delivery *d)
{
    if (out_len != NULL)
        *out_len = 0;
    const imc_suite *s = d != NULL ? writable_header(&d->h) : NULL;
    if (out_len == NULL || s == NULL || !writable_recipients(&d->rcpt) ||
        d->index >= d->rcpt.count || d->entry.wrap == NULL || d->sig == NULL)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_common(&w, IMC_MSG_KIND_DELIVERY, s, &d->h, &d->rcpt);
    imc_wire_write_u16(&w, (uint16_t)d->index);
    imc_wire_write_bytes(&w, d->entry.wrap, s->wrap_bytes);
    imc_wire_write_bytes(&w, d->sig, s->sig_bytes);
    return finish_message(&w, out, out_len);
}
