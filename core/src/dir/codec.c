/* Directory wire formats and stored values: strict parsers and canonical
 * writers (docs/directory-format.md; docs/directory.md,
 * "Storage").
 *
 * The parsers read through imc_reader only. A field reader that meets a
 * value the format does not allow records why (the first violation in wire
 * order wins) and fails the reader; the rest of the parse runs to its end
 * without effect and the control flow reports one status. */
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/suite.h"
#include "imcore/util.h"

/* ---- Small helpers ------------------------------------------------------ */

void imc_dir_store_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t imc_dir_load_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

int imc_dir_device_equal(const imc_device_public *a, const imc_device_public *b)
{
    const imc_suite *s = imc_suite_get(a->suite);
    if (s == NULL || a->suite != b->suite || a->device_id != b->device_id)
        return 0;
    return memcmp(a->dh_pk, b->dh_pk, s->dh_public_bytes) == 0 &&
           memcmp(a->sig_pk, b->sig_pk, s->sig_public_bytes) == 0;
}

int imc_dir_devices_equal(const imc_dir_record *a, const imc_dir_record *b)
{
    if (a->device_count != b->device_count)
        return 0;
    for (size_t i = 0; i < a->device_count; i++)
        if (!imc_dir_device_equal(&a->devices[i], &b->devices[i]))
            return 0;
    return 1;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

long imc_dir_record_find(const imc_dir_record *rec, uint64_t device_id)
{
    size_t lo = 0, hi = rec->device_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t id = rec->devices[mid].device_id;
        if (id == device_id)
            return (long)mid;
        if (id < device_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

void imc_dir_record_insert(imc_dir_record *rec, const imc_device_public *d)
{
    size_t at = 0;
    while (at < rec->device_count && rec->devices[at].device_id < d->device_id)
        at++;
    memmove(&rec->devices[at + 1], &rec->devices[at],
            (rec->device_count - at) * sizeof rec->devices[0]);
    rec->devices[at] = *d;
    rec->device_count++;
}

void imc_dir_record_remove(imc_dir_record *rec, size_t at)
{
    memmove(&rec->devices[at], &rec->devices[at + 1],
            (rec->device_count - at - 1) * sizeof rec->devices[0]);
    rec->device_count--;
    memset(&rec->devices[rec->device_count], 0, sizeof rec->devices[0]);
}

const char *imc_dir_update_label(uint8_t op)
{
    switch (op) {
    case IMC_DIR_OP_REGISTER: return IMC_DIR_LABEL_REGISTER;
    case IMC_DIR_OP_ROTATE: return IMC_DIR_LABEL_ROTATE;
    case IMC_DIR_OP_ACCOUNT_RESET: return IMC_DIR_LABEL_RESET;
    default: return NULL; /* revoke and account rotation carry no device proof */
    }
}

size_t imc_dir_sign_input(uint8_t *buf, size_t cap, const char *label, const uint8_t *prefix,
                          size_t prefix_len, const uint8_t *body, size_t body_len)
{
    imc_writer w;
    size_t len = 0;
    imc_wire_writer_init(&w, buf, cap);
    imc_wire_write_bytes(&w, (const uint8_t *)label, strlen(label));
    imc_wire_write_bytes(&w, prefix, prefix_len);
    imc_wire_write_bytes(&w, body, body_len);
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

/* ---- Field writers ------------------------------------------------------ */

void imc_dir_put_handle(imc_writer *w, const uint8_t *h, size_t len)
{
    if (len == 0 || len > IMC_MAX_HANDLE_BYTES) {
        w->err = true;
        return;
    }
    imc_wire_write_u8(w, (uint8_t)len);
    imc_wire_write_bytes(w, h, len);
}

void imc_dir_put_device(imc_writer *w, const imc_device_public *d)
{
    const imc_suite *s = imc_suite_get(d->suite);
    if (s == NULL || d->device_id == 0) {
        w->err = true;
        return;
    }
    imc_wire_write_u16(w, (uint16_t)d->suite);
    imc_wire_write_u64(w, d->device_id);
    imc_wire_write_bytes(w, d->dh_pk, s->dh_public_bytes);
    imc_wire_write_bytes(w, d->sig_pk, s->sig_public_bytes);
}

void imc_dir_put_entry_body(imc_writer *w, const uint8_t *handle, size_t handle_len, uint64_t epoch,
                            uint64_t global_epoch, uint64_t issued_ms, const uint8_t *tail,
                            size_t tail_len)
{
    imc_dir_put_handle(w, handle, handle_len);
    imc_wire_write_u64(w, epoch);
    imc_wire_write_u64(w, global_epoch);
    imc_wire_write_u64(w, issued_ms);
    imc_wire_write_bytes(w, tail, tail_len);
}

/* ---- Field readers ------------------------------------------------------ */

void imc_dir_reject(imc_reader *r, imc_status *why, imc_status st)
{
    if (*why == IMC_OK && !r->err)
        *why = st;
    imc_wire_reader_fail(r);
}

void imc_dir_read_prefix(imc_reader *r, imc_status *why, uint8_t kind)
{
    uint8_t version = imc_wire_read_u8(r);
    uint8_t k = imc_wire_read_u8(r);
    if (version != IMC_DIR_VERSION || k != kind)
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
}

/* A handle: length 1..255, in normal form. */
void imc_dir_read_handle(imc_reader *r, imc_status *why, imc_dir_handle *h)
{
    size_t n = imc_wire_read_u8(r);
    if (n > IMC_MAX_HANDLE_BYTES)
        imc_dir_reject(r, why, IMC_ERR_LIMIT);
    h->bytes = imc_wire_read_bytes(r, n);
    h->len = n;
    if (h->bytes != NULL && !imc_dir_handle_valid(h->bytes, n))
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
}

void imc_dir_read_device(imc_reader *r, imc_device_public *d)
{
    memset(d, 0, sizeof *d);
    const imc_suite *s = imc_suite_get(imc_wire_read_u16(r));
    d->device_id = imc_wire_read_u64(r);
    if (s == NULL || d->device_id == 0) {
        imc_wire_reader_fail(r);
        memset(d, 0, sizeof *d);
        return;
    }
    d->suite = s->id;
    imc_wire_read_copy(r, d->dh_pk, s->dh_public_bytes);
    imc_wire_read_copy(r, d->sig_pk, s->sig_public_bytes);
}

/* count || devices, ids strictly increasing. */
static void read_devices(imc_reader *r, imc_status *why, imc_dir_record *rec)
{
    size_t n = imc_wire_read_u8(r);
    if (n > IMC_MAX_DEVICES_PER_HANDLE) {
        imc_dir_reject(r, why, IMC_ERR_LIMIT);
        n = 0;
    }
    rec->device_count = n;
    for (size_t i = 0; i < n; i++) {
        int was_ok = !r->err;
        imc_dir_read_device(r, &rec->devices[i]);
        if (was_ok && r->err)
            imc_dir_reject(r, why, IMC_ERR_MALFORMED);
        if (i > 0 && rec->devices[i].device_id <= rec->devices[i - 1].device_id)
            imc_dir_reject(r, why, IMC_ERR_MALFORMED);
    }
}

imc_status imc_dir_parse_status(const imc_reader *r, imc_status why)
{
    return why != IMC_OK ? why : imc_wire_reader_finish(r);
}

/* ---- Device lists ------------------------------------------------------- */

static void put_list_body(imc_writer *w, const imc_dir_record *rec)
{
    if (rec->epoch == 0 || rec->key_change > IMC_DIR_KEY_NEW ||
        rec->device_count > IMC_MAX_DEVICES_PER_HANDLE) {
        w->err = true;
        return;
    }
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, IMC_DIR_KIND_LIST);
    imc_dir_put_handle(w, rec->handle, rec->handle_len);
    imc_wire_write_u64(w, rec->epoch);
    imc_wire_write_u8(w, rec->key_change);
    imc_wire_write_bytes(w, rec->account_pk, sizeof rec->account_pk);
    imc_wire_write_bytes(w, rec->prev_hash, sizeof rec->prev_hash);
    imc_wire_write_u8(w, (uint8_t)rec->device_count);
    for (size_t i = 0; i < rec->device_count; i++)
        imc_dir_put_device(w, &rec->devices[i]);
}

imc_status imc_dir_list_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                               const imc_dir_record *rec)
{
    if (out_len == NULL || rec == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_list_body(&w, rec);
    imc_wire_write_bytes(&w, rec->list_sig, sizeof rec->list_sig);
    if (rec->key_change == IMC_DIR_KEY_ROTATED)
        imc_wire_write_bytes(&w, rec->rotate_sig, sizeof rec->rotate_sig);
    if (w.err && rec->epoch != 0 && rec->key_change <= IMC_DIR_KEY_NEW &&
        rec->device_count <= IMC_MAX_DEVICES_PER_HANDLE)
        return IMC_ERR_NO_SPACE;
    return w.err ? IMC_ERR_ARG : imc_wire_writer_finish(&w, out_len);
}

/* The list's fields, n bytes of them from the reader's position. */
static void read_list_fields(imc_reader *r, imc_status *why, imc_dir_record *rec, size_t n,
                             const uint8_t **bytes, size_t *len)
{
    if (n > IMC_DIR_LIST_MAX_BYTES)
        imc_dir_reject(r, why, IMC_ERR_LIMIT);
    size_t mark = r->off;
    imc_dir_read_prefix(r, why, IMC_DIR_KIND_LIST);
    imc_dir_handle h = {NULL, 0};
    imc_dir_read_handle(r, why, &h);
    if (h.bytes != NULL)
        memcpy(rec->handle, h.bytes, h.len);
    rec->handle_len = h.bytes != NULL ? h.len : 0;
    rec->epoch = imc_wire_read_u64(r);
    rec->key_change = imc_wire_read_u8(r);
    imc_wire_read_copy(r, rec->account_pk, sizeof rec->account_pk);
    imc_wire_read_copy(r, rec->prev_hash, sizeof rec->prev_hash);
    bool chained = !all_zero(rec->prev_hash, sizeof rec->prev_hash);
    if (rec->epoch == 0 || rec->key_change > IMC_DIR_KEY_NEW ||
        (rec->epoch == 1 && (rec->key_change != IMC_DIR_KEY_NEW || chained)) ||
        (rec->epoch > 1 && !chained))
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
    read_devices(r, why, rec);
    imc_wire_read_copy(r, rec->list_sig, sizeof rec->list_sig);
    if (rec->key_change == IMC_DIR_KEY_ROTATED)
        imc_wire_read_copy(r, rec->rotate_sig, sizeof rec->rotate_sig);
    if (r->off - mark != n)
        imc_dir_reject(r, why, IMC_ERR_MALFORMED); /* the length does not frame the list */
    *bytes = imc_wire_reader_since(r, mark, len);
}

void imc_dir_read_list(imc_reader *r, imc_status *why, imc_dir_record *rec, const uint8_t **bytes,
                       size_t *len)
{
    memset(rec, 0, sizeof *rec);
    *bytes = NULL;
    *len = 0;
    size_t n = imc_wire_read_u16(r);
    if (n != 0 && !r->err)
        read_list_fields(r, why, rec, n, bytes, len);
}

imc_status imc_dir_list_parse(imc_dir_record *rec, const uint8_t *in, size_t in_len)
{
    if (rec == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    memset(rec, 0, sizeof *rec);
    imc_reader r;
    imc_status why = IMC_OK;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    imc_wire_reader_init(&r, in, in_len);
    read_list_fields(&r, &why, rec, in_len, &bytes, &len);
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(rec, 0, sizeof *rec);
    return st;
}

/* One signed entry (body || signature). */
void imc_dir_read_entry(imc_reader *r, imc_status *why, imc_dir_entry *e)
{
    size_t mark = r->off;
    imc_dir_handle h = {NULL, 0};
    imc_dir_read_handle(r, why, &h);
    uint64_t epoch = imc_wire_read_u64(r);
    e->global_epoch = imc_wire_read_u64(r);
    e->issued_ms = imc_wire_read_u64(r);
    if (epoch > e->global_epoch)
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
    imc_dir_read_list(r, why, &e->rec, &e->list, &e->list_len);
    if (!r->err && (epoch == 0) != (e->list == NULL))
        imc_dir_reject(r, why, IMC_ERR_MALFORMED); /* a list exactly when registered */
    if (!r->err && e->list != NULL &&
        (e->rec.epoch != epoch || e->rec.handle_len != h.len ||
         memcmp(e->rec.handle, h.bytes, h.len) != 0))
        imc_dir_reject(r, why, IMC_ERR_MALFORMED); /* the list is of another handle or version */
    if (h.bytes != NULL && e->list == NULL) {
        memcpy(e->rec.handle, h.bytes, h.len);
        e->rec.handle_len = h.len;
    }
    e->body = imc_wire_reader_since(r, mark, &e->body_len);
    e->sig = imc_wire_read_bytes(r, IMC_DIR_SIGNATURE_BYTES);
}

/* ---- Lookup request ----------------------------------------------------- */

int imc_dir_handles_distinct(const imc_dir_handle *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (h[i].len == h[j].len && memcmp(h[i].bytes, h[j].bytes, h[i].len) == 0)
                return 0;
    return 1;
}

void imc_dir_read_batch_count(imc_reader *r, imc_status *why, size_t *count)
{
    size_t n = imc_wire_read_u16(r);
    if (n == 0)
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
    else if (n > IMC_DIR_MAX_BATCH)
        imc_dir_reject(r, why, IMC_ERR_LIMIT);
    *count = r->err ? 0 : n;
}

imc_status imc_dir_parse_request(imc_dir_request *req, const uint8_t *in, size_t in_len)
{
    if (req == NULL)
        return IMC_ERR_ARG;
    memset(req, 0, sizeof *req);
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    imc_dir_read_prefix(&r, &why, IMC_DIR_KIND_REQUEST);
    imc_dir_read_batch_count(&r, &why, &req->count);
    for (size_t i = 0; i < req->count; i++)
        imc_dir_read_handle(&r, &why, &req->handles[i]);
    if (!r.err && !imc_dir_handles_distinct(req->handles, req->count))
        imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(req, 0, sizeof *req);
    return st;
}

imc_status imc_dir_encode_request(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_dir_handle *handles, size_t count)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (handles == NULL || count == 0)
        return IMC_ERR_ARG;
    if (count > IMC_DIR_MAX_BATCH)
        return IMC_ERR_LIMIT;
    for (size_t i = 0; i < count; i++) {
        if (handles[i].len > IMC_MAX_HANDLE_BYTES)
            return IMC_ERR_LIMIT;
        if (!imc_dir_handle_valid(handles[i].bytes, handles[i].len))
            return IMC_ERR_MALFORMED;
    }
    if (!imc_dir_handles_distinct(handles, count))
        return IMC_ERR_MALFORMED;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_REQUEST);
    imc_wire_write_u16(&w, (uint16_t)count);
    for (size_t i = 0; i < count; i++)
        imc_dir_put_handle(&w, handles[i].bytes, handles[i].len);
    return imc_wire_writer_finish(&w, out_len);
}

/* ---- Lookup response ---------------------------------------------------- */

imc_status imc_dir_parse_response(imc_dir_response *resp, const uint8_t *in, size_t in_len)
{
    if (resp == NULL)
        return IMC_ERR_ARG;
    memset(resp, 0, sizeof *resp);
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    imc_dir_read_prefix(&r, &why, IMC_DIR_KIND_RESPONSE);
    size_t count = 0;
    imc_dir_read_batch_count(&r, &why, &count);
    size_t start = r.off;
    /* Handles are kept as views into the input to check they are distinct. */
    imc_dir_handle seen[IMC_DIR_MAX_BATCH];
    imc_dir_entry e;
    for (size_t i = 0; i < count; i++) {
        size_t mark = r.off;
        imc_dir_read_entry(&r, &why, &e);
        seen[i].bytes = r.err ? NULL : in + mark + 1;
        seen[i].len = e.rec.handle_len;
        if (i == 0) {
            resp->global_epoch = e.global_epoch;
            resp->issued_ms = e.issued_ms;
        } else if (e.global_epoch != resp->global_epoch || e.issued_ms != resp->issued_ms) {
            imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
        }
    }
    if (!r.err && !imc_dir_handles_distinct(seen, count))
        imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    resp->entries = imc_wire_reader_since(&r, start, &resp->entries_len);
    resp->count = count;
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(resp, 0, sizeof *resp);
    return st;
}

imc_status imc_dir_response_next(imc_dir_entry *e, size_t *offset, const imc_dir_response *resp)
{
    if (e == NULL || offset == NULL || resp == NULL || *offset > resp->entries_len)
        return IMC_ERR_ARG;
    memset(e, 0, sizeof *e);
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, resp->entries + *offset, resp->entries_len - *offset);
    imc_dir_read_entry(&r, &why, e);
    if (why == IMC_OK && r.err)
        why = IMC_ERR_MALFORMED;
    if (why != IMC_OK) {
        memset(e, 0, sizeof *e);
        return why;
    }
    *offset += r.off;
    return IMC_OK;
}

/* ---- Updates ------------------------------------------------------------ */

static void read_sig(imc_reader *r, imc_status *why, imc_dir_update_msg *u)
{
    size_t n = imc_wire_read_u8(r);
    if (n == 0 || n > IMC_SIG_MAX)
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
    u->sig[u->sig_count] = imc_wire_read_bytes(r, n);
    u->sig_len[u->sig_count] = n;
    u->sig_count++;
}

static void read_update_body(imc_reader *r, imc_status *why, imc_dir_update_msg *u)
{
    switch (u->op) {
    case IMC_DIR_OP_REGISTER:
    case IMC_DIR_OP_ROTATE:
    case IMC_DIR_OP_ACCOUNT_RESET: {
        int was_ok = !r->err;
        imc_dir_read_device(r, &u->device);
        if (was_ok && r->err)
            imc_dir_reject(r, why, IMC_ERR_MALFORMED);
        u->target_id = u->device.device_id;
        break;
    }
    case IMC_DIR_OP_REVOKE:
        u->target_id = imc_wire_read_u64(r);
        if (u->target_id == 0)
            imc_dir_reject(r, why, IMC_ERR_MALFORMED);
        break;
    case IMC_DIR_OP_ACCOUNT_ROTATE: break;
    default: imc_dir_reject(r, why, IMC_ERR_MALFORMED); break;
    }
}

/* The key change each op must declare, given the epoch it applies to. */
static int op_key_change(uint8_t op, uint64_t epoch)
{
    switch (op) {
    case IMC_DIR_OP_REGISTER: return epoch == 0 ? IMC_DIR_KEY_NEW : IMC_DIR_KEY_SAME;
    case IMC_DIR_OP_ROTATE:
    case IMC_DIR_OP_REVOKE: return IMC_DIR_KEY_SAME;
    case IMC_DIR_OP_ACCOUNT_ROTATE: return IMC_DIR_KEY_ROTATED;
    case IMC_DIR_OP_ACCOUNT_RESET: return epoch == 0 ? -1 : IMC_DIR_KEY_NEW;
    default: return -1;
    }
}

static size_t op_proofs(uint8_t op)
{
    switch (op) {
    case IMC_DIR_OP_REGISTER:
    case IMC_DIR_OP_ACCOUNT_RESET: return 1;
    case IMC_DIR_OP_ROTATE: return 2;
    default: return 0;
    }
}

/* The new list must be of this handle, one version on, with the op's key
 * change. */
static void check_update_list(imc_reader *r, imc_status *why, const imc_dir_update_msg *u)
{
    const imc_dir_record *l = &u->list;
    if (r->err)
        return;
    if (u->list_bytes == NULL || l->handle_len != u->handle.len ||
        memcmp(l->handle, u->handle.bytes, l->handle_len) != 0 || u->epoch == UINT64_MAX ||
        l->epoch != u->epoch + 1 || (int)l->key_change != op_key_change(u->op, u->epoch))
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
}

imc_status imc_dir_parse_update(imc_dir_update_msg *u, const uint8_t *in, size_t in_len)
{
    if (u == NULL)
        return IMC_ERR_ARG;
    memset(u, 0, sizeof *u);
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    imc_dir_read_prefix(&r, &why, IMC_DIR_KIND_UPDATE);
    u->op = imc_wire_read_u8(&r);
    imc_dir_read_handle(&r, &why, &u->handle);
    u->epoch = imc_wire_read_u64(&r);
    read_update_body(&r, &why, u);
    imc_dir_read_list(&r, &why, &u->list, &u->list_bytes, &u->list_len);
    check_update_list(&r, &why, u);
    u->signed_part = imc_wire_reader_since(&r, 0, &u->signed_part_len);
    for (size_t i = 0, n = op_proofs(u->op); i < n; i++)
        read_sig(&r, &why, u);
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(u, 0, sizeof *u);
    return st;
}

/* ---- Stored values ------------------------------------------------------ */

imc_status imc_dir_encode_record(uint8_t *out, size_t out_cap, size_t *out_len,
                                 const imc_dir_record *rec)
{
    if (rec->device_count > IMC_MAX_DEVICES_PER_HANDLE)
        return IMC_ERR_LIMIT;
    if (out_cap < 11)
        return IMC_ERR_NO_SPACE;
    size_t n = 0;
    imc_status st = imc_dir_list_encode(out + 11, out_cap - 11, &n, rec);
    if (st != IMC_OK)
        return st;
    imc_writer w;
    imc_wire_writer_init(&w, out, 11);
    imc_wire_write_u8(&w, IMC_DIR_RECORD_FORMAT);
    imc_wire_write_u64(&w, rec->epoch);
    imc_wire_write_u16(&w, (uint16_t)n);
    *out_len = 11 + n;
    return imc_wire_writer_finish(&w, &n);
}

imc_status imc_dir_decode_record(imc_dir_record *rec, const uint8_t *handle, size_t handle_len,
                                 const uint8_t *val, size_t val_len)
{
    memset(rec, 0, sizeof *rec);
    if (handle_len == 0 || handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_IO;
    imc_reader r;
    imc_status why = IMC_OK;
    const uint8_t *list = NULL;
    size_t list_len = 0;
    imc_wire_reader_init(&r, val, val_len);
    if (imc_wire_read_u8(&r) != IMC_DIR_RECORD_FORMAT)
        imc_dir_reject(&r, &why, IMC_ERR_IO);
    uint64_t epoch = imc_wire_read_u64(&r);
    imc_dir_read_list(&r, &why, rec, &list, &list_len);
    if (imc_dir_parse_status(&r, why) != IMC_OK || list == NULL || rec->epoch != epoch ||
        rec->handle_len != handle_len || memcmp(rec->handle, handle, handle_len) != 0) {
        memset(rec, 0, sizeof *rec);
        return IMC_ERR_IO;
    }
    return IMC_OK;
}

imc_status imc_dir_record_tail(uint64_t *epoch, size_t *tail_off, const uint8_t *val,
                               size_t val_len)
{
    imc_reader r;
    imc_wire_reader_init(&r, val, val_len);
    if (imc_wire_read_u8(&r) != IMC_DIR_RECORD_FORMAT)
        imc_wire_reader_fail(&r);
    *epoch = imc_wire_read_u64(&r);
    *tail_off = r.off;
    size_t n = imc_wire_read_u16(&r);
    /* The list's version field sits after version, kind and the handle. */
    const uint8_t *list = imc_wire_read_bytes(&r, n);
    if (list != NULL && (n < 4 || 3 + (size_t)list[2] + 8 > n ||
                         imc_dir_load_be64(list + 3 + list[2]) != *epoch))
        imc_wire_reader_fail(&r);
    return imc_wire_reader_finish(&r) == IMC_OK && *epoch != 0 ? IMC_OK : IMC_ERR_IO;
}

imc_status imc_dir_decode_devrec(uint8_t *state, imc_dir_handle *handle, const uint8_t *val,
                                 size_t val_len)
{
    imc_reader r;
    imc_wire_reader_init(&r, val, val_len);
    *state = imc_wire_read_u8(&r);
    handle->len = imc_wire_read_u8(&r);
    handle->bytes = imc_wire_read_bytes(&r, handle->len);
    if (*state != IMC_DIR_DEVICE_ACTIVE && *state != IMC_DIR_DEVICE_REVOKED)
        imc_wire_reader_fail(&r);
    if (imc_wire_reader_finish(&r) != IMC_OK || handle->len == 0)
        return IMC_ERR_IO;
    return IMC_OK;
}

/* ---- The persistent client's contact value ------------------------------ */

imc_status imc_dir_encode_contact(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_dir_contact *c)
{
    if (out_len == NULL || c == NULL || out_cap < IMC_DIR_CONTACT_HEAD)
        return out_cap < IMC_DIR_CONTACT_HEAD ? IMC_ERR_NO_SPACE : IMC_ERR_ARG;
    *out_len = 0;
    size_t n = 0;
    imc_status st = IMC_OK;
    if (c->rec.epoch != 0)
        st = imc_dir_list_encode(out + IMC_DIR_CONTACT_HEAD, out_cap - IMC_DIR_CONTACT_HEAD, &n,
                                 &c->rec);
    if (st != IMC_OK)
        return st;
    imc_writer w;
    imc_wire_writer_init(&w, out, IMC_DIR_CONTACT_HEAD);
    imc_wire_write_u8(&w, IMC_DIR_CONTACT_FORMAT);
    imc_wire_write_bytes(&w, c->pinned, sizeof c->pinned);
    imc_wire_write_u64(&w, c->global_epoch);
    imc_wire_write_u64(&w, c->issued_ms);
    imc_wire_write_u16(&w, (uint16_t)n);
    *out_len = IMC_DIR_CONTACT_HEAD + n;
    return imc_wire_writer_finish(&w, &n);
}

imc_status imc_dir_decode_contact(imc_dir_contact *c, const uint8_t *key, size_t key_len,
                                  const uint8_t *val, size_t val_len)
{
    memset(c, 0, sizeof *c);
    if (key == NULL || key_len == 0 || key_len > IMC_MAX_HANDLE_BYTES ||
        !imc_dir_handle_valid(key, key_len))
        return IMC_ERR_IO;
    imc_reader r;
    imc_status why = IMC_OK;
    const uint8_t *list = NULL;
    size_t list_len = 0;
    imc_wire_reader_init(&r, val, val_len);
    if (imc_wire_read_u8(&r) != IMC_DIR_CONTACT_FORMAT)
        imc_wire_reader_fail(&r);
    imc_wire_read_copy(&r, c->pinned, sizeof c->pinned);
    c->global_epoch = imc_wire_read_u64(&r);
    c->issued_ms = imc_wire_read_u64(&r);
    imc_dir_read_list(&r, &why, &c->rec, &list, &list_len);
    bool no_key = all_zero(c->pinned, sizeof c->pinned);
    bool ok = why == IMC_OK && imc_wire_reader_finish(&r) == IMC_OK &&
              c->rec.epoch <= c->global_epoch && (list == NULL) == no_key;
    if (ok && list == NULL) {
        memcpy(c->rec.handle, key, key_len);
        c->rec.handle_len = key_len;
    } else if (ok) {
        ok = c->rec.handle_len == key_len && memcmp(c->rec.handle, key, key_len) == 0;
    }
    if (!ok) {
        memset(c, 0, sizeof *c);
        return IMC_ERR_IO;
    }
    return IMC_OK;
}

/* ---- Entry signatures --------------------------------------------------- */

imc_status imc_dir_entry_verify(const imc_backend *b, const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                const imc_dir_entry *e)
{
    if (b == NULL || dir_pk == NULL || e == NULL || e->body == NULL || e->sig == NULL)
        return IMC_ERR_ARG;
    uint8_t input[IMC_DIR_ENTRY_SIGN_MAX];
    size_t n =
        imc_dir_sign_input(input, sizeof input, IMC_DIR_LABEL_ENTRY, NULL, 0, e->body, e->body_len);
    if (n == 0)
        return IMC_ERR_AUTH;
    return imc_crypto_ed25519_verify(b, e->sig, dir_pk, input, n) == IMC_OK ? IMC_OK : IMC_ERR_AUTH;
}

/* ---- Account signatures on lists ---------------------------------------- */

imc_status imc_dir_account_keygen(const imc_backend *b, imc_rng *rng,
                                  uint8_t pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES],
                                  uint8_t sk[IMC_DIR_ACCOUNT_SECRET_BYTES])
{
    return imc_crypto_ed25519_keygen(b, rng, pk, sk);
}

/* label || list body into buf; its length, or 0. */
static size_t list_sign_input(uint8_t *buf, size_t cap, const char *label,
                              const imc_dir_record *rec)
{
    imc_writer w;
    size_t len = 0;
    imc_wire_writer_init(&w, buf, cap);
    imc_wire_write_bytes(&w, (const uint8_t *)label, strlen(label));
    put_list_body(&w, rec);
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

imc_status imc_dir_list_hash(uint8_t out[IMC_SHA256_BYTES], const imc_backend *b,
                             const imc_dir_record *rec)
{
    if (out == NULL || b == NULL || rec == NULL)
        return IMC_ERR_ARG;
    uint8_t buf[IMC_DIR_LIST_MAX_BYTES];
    size_t n = 0;
    imc_status st = imc_dir_list_encode(buf, sizeof buf, &n, rec);
    return st != IMC_OK ? st : imc_crypto_sha256(b, out, buf, n);
}

imc_status imc_dir_list_sign(imc_dir_record *rec, const imc_backend *b, uint8_t key_change,
                             const imc_dir_record *prev,
                             const uint8_t account_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                             const uint8_t *old_account_sk)
{
    if (rec == NULL || b == NULL || account_sk == NULL || key_change > IMC_DIR_KEY_NEW ||
        (key_change == IMC_DIR_KEY_ROTATED) != (old_account_sk != NULL))
        return IMC_ERR_ARG;
    rec->key_change = key_change;
    memset(rec->prev_hash, 0, sizeof rec->prev_hash);
    memset(rec->rotate_sig, 0, sizeof rec->rotate_sig);
    imc_status st = IMC_OK;
    if (prev != NULL && prev->epoch != 0)
        st = imc_dir_list_hash(rec->prev_hash, b, prev);
    if (st == IMC_OK)
        st = imc_crypto_ed25519_public(b, rec->account_pk, account_sk);
    uint8_t input[IMC_DIR_LIST_SIGN_MAX];
    size_t n = 0;
    if (st == IMC_OK) {
        n = list_sign_input(input, sizeof input, IMC_DIR_LABEL_LIST, rec);
        st = n == 0 ? IMC_ERR_ARG
                    : imc_crypto_ed25519_sign(b, rec->list_sig, account_sk, rec->account_pk,
                                              input, n);
    }
    if (st == IMC_OK && old_account_sk != NULL) {
        uint8_t old_pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
        st = imc_crypto_ed25519_public(b, old_pk, old_account_sk);
        n = list_sign_input(input, sizeof input, IMC_DIR_LABEL_LIST_ROTATE, rec);
        if (st == IMC_OK)
            st = n == 0 ? IMC_ERR_ARG
                        : imc_crypto_ed25519_sign(b, rec->rotate_sig, old_account_sk, old_pk,
                                                  input, n);
    }
    return st;
}

imc_status imc_dir_list_verify(const imc_backend *b, const imc_dir_record *rec,
                               const uint8_t *old_pk)
{
    if (b == NULL || rec == NULL)
        return IMC_ERR_ARG;
    uint8_t input[IMC_DIR_LIST_SIGN_MAX];
    size_t n = list_sign_input(input, sizeof input, IMC_DIR_LABEL_LIST, rec);
    if (n == 0 || imc_crypto_ed25519_verify(b, rec->list_sig, rec->account_pk, input, n) != IMC_OK)
        return IMC_ERR_AUTH;
    if (old_pk == NULL)
        return IMC_OK;
    if (rec->key_change != IMC_DIR_KEY_ROTATED)
        return IMC_ERR_AUTH;
    n = list_sign_input(input, sizeof input, IMC_DIR_LABEL_LIST_ROTATE, rec);
    if (n == 0 || imc_crypto_ed25519_verify(b, rec->rotate_sig, old_pk, input, n) != IMC_OK)
        return IMC_ERR_AUTH;
    return IMC_OK;
}
