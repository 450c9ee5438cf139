/* The directory service: proofs, epochs and signed answers, written once
 * over the storage interface (docs/directory.md).
 *
 * Every update runs in one write transaction: read the global epoch and the
 * handle's record, check, sign the answer, put the new values, commit. Any
 * failure before the commit aborts the transaction, so the store is left as
 * it was; the answer is wiped if the commit fails. */
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/dirkt.h"
#include "imcore/suite.h"
#include "imcore/util.h"

#define META_KEY(k) (const uint8_t *)(k), (sizeof(k) - 1)

/* A fixed, valid scalar for both curves: a DH with it tells whether a
 * public key is accepted by the validation policy. */
static const uint8_t PROBE_SK[IMC_DH_SECRET_MAX] = {
    0x4d, 0x2b, 0x93, 0x16, 0x5a, 0x70, 0x0e, 0x21, 0x35, 0x6c, 0x48, 0x11, 0x7f, 0x02, 0x59, 0x3a,
    0x66, 0x1d, 0x24, 0x0b, 0x73, 0x4e, 0x38, 0x2f, 0x51, 0x07, 0x6a, 0x19, 0x44, 0x3c, 0x28, 0x5e};

/* ---- Store access ------------------------------------------------------- */

imc_status imc_dir_get_global(const imc_dir *d, void *txn, uint64_t *epoch)
{
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st =
        d->store_.ops->get(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_EPOCH), &v, &n);
    if (st == IMC_ERR_NOT_FOUND || (st == IMC_OK && n != 8))
        return IMC_ERR_IO;
    *epoch = st == IMC_OK ? imc_dir_load_be64(v) : 0;
    return st;
}

static imc_status put_global(const imc_dir *d, void *txn, uint64_t epoch)
{
    uint8_t v[8];
    imc_dir_store_be64(v, epoch);
    return d->store_.ops->put(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_EPOCH), v, 8);
}

/* The handle's record, or an empty one at epoch 0 if it was never
 * registered. */
imc_status imc_dir_load_record(const imc_dir *d, void *txn, imc_dir_record *rec,
                              const uint8_t *handle, size_t handle_len)
{
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st = d->store_.ops->get(txn, IMC_DIR_TABLE_HANDLES, handle, handle_len, &v, &n);
    if (st == IMC_ERR_NOT_FOUND) {
        memset(rec, 0, sizeof *rec);
        memcpy(rec->handle, handle, handle_len);
        rec->handle_len = handle_len;
        return IMC_OK;
    }
    return st != IMC_OK ? st : imc_dir_decode_record(rec, handle, handle_len, v, n);
}

static imc_status put_record(const imc_dir *d, void *txn, const imc_dir_record *rec)
{
    uint8_t *v = malloc(IMC_DIR_RECORD_MAX_BYTES);
    size_t n = 0;
    imc_status st = v == NULL ? IMC_ERR_NOMEM
                              : imc_dir_encode_record(v, IMC_DIR_RECORD_MAX_BYTES, &n, rec);
    if (st == IMC_OK)
        st = d->store_.ops->put(txn, IMC_DIR_TABLE_HANDLES, rec->handle, rec->handle_len, v, n);
    free(v);
    return st;
}

static imc_status put_devrec(const imc_dir *d, void *txn, uint64_t id, uint8_t state,
                             const imc_dir_record *rec)
{
    uint8_t key[8], v[IMC_DIR_DEVREC_MAX_BYTES];
    imc_dir_store_be64(key, id);
    v[0] = state;
    v[1] = (uint8_t)rec->handle_len;
    memcpy(v + 2, rec->handle, rec->handle_len);
    return d->store_.ops->put(txn, IMC_DIR_TABLE_DEVICES, key, 8, v, 2 + rec->handle_len);
}

static imc_status device_known(const imc_dir *d, void *txn, uint64_t id)
{
    uint8_t key[8];
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_dir_store_be64(key, id);
    imc_status st = d->store_.ops->get(txn, IMC_DIR_TABLE_DEVICES, key, 8, &v, &n);
    if (st == IMC_OK)
        return IMC_ERR_EXISTS;
    return st == IMC_ERR_NOT_FOUND ? IMC_OK : st;
}

/* ---- Signing answers ---------------------------------------------------- */

/* Appends one signed entry (body || signature) to w. `tail` is count ||
 * devices as stored. */
static imc_status put_signed_entry(imc_writer *w, const imc_dir *d, const uint8_t *handle,
                                   size_t handle_len, uint64_t epoch, uint64_t global_epoch,
                                   uint64_t now_ms, const uint8_t *tail, size_t tail_len)
{
    uint8_t input[IMC_DIR_ENTRY_SIGN_MAX];
    const size_t label_len = IMC_DIR_LABEL_LEN(IMC_DIR_LABEL_ENTRY);
    imc_writer s;
    size_t input_len = 0;
    imc_wire_writer_init(&s, input, sizeof input);
    imc_wire_write_bytes(&s, (const uint8_t *)IMC_DIR_LABEL_ENTRY, label_len);
    imc_dir_put_entry_body(&s, handle, handle_len, epoch, global_epoch, now_ms, tail, tail_len);
    if (imc_wire_writer_finish(&s, &input_len) != IMC_OK)
        return IMC_ERR_IO; /* a stored record larger than any valid one */
    uint8_t sig[IMC_DIR_SIGNATURE_BYTES];
    imc_status st = imc_crypto_ed25519_sign(d->b_, sig, d->sk_, d->pk_, input, input_len);
    if (st != IMC_OK)
        return st;
    imc_wire_write_bytes(w, input + label_len, input_len - label_len);
    imc_wire_write_bytes(w, sig, sizeof sig);
    return IMC_OK;
}

static void put_response_head(imc_writer *w, size_t count)
{
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, IMC_DIR_KIND_RESPONSE);
    imc_wire_write_u16(w, (uint16_t)count);
}

/* A one-entry response for a record about to be stored. */
static imc_status write_record_response(imc_writer *w, const imc_dir *d, const imc_dir_record *rec,
                                        uint64_t global_epoch, uint64_t now_ms)
{
    uint8_t *v = malloc(IMC_DIR_RECORD_MAX_BYTES);
    size_t n = 0;
    imc_status st = v == NULL ? IMC_ERR_NOMEM
                              : imc_dir_encode_record(v, IMC_DIR_RECORD_MAX_BYTES, &n, rec);
    if (st == IMC_OK) {
        put_response_head(w, 1);
        /* The stored record is format (1) || epoch (8) || tail. */
        st = put_signed_entry(w, d, rec->handle, rec->handle_len, rec->epoch, global_epoch,
                              now_ms, v + 9, n - 9);
    }
    free(v);
    return st;
}

/* ---- Proofs ------------------------------------------------------------- */

/* Verifies signature i of u by `signer`: IMC_OK or IMC_ERR_AUTH (or
 * IMC_ERR_UNSUPPORTED if this backend lacks the signer's suite). */
static imc_status verify_proof(const imc_dir *d, const imc_dir_update_msg *u, size_t i,
                               const imc_device_public *signer)
{
    const imc_suite *s = imc_suite_get(signer->suite);
    if (s == NULL || i >= u->sig_count || u->sig_len[i] != s->sig_bytes)
        return IMC_ERR_AUTH;
    uint8_t input[IMC_DIR_UPDATE_SIGN_MAX];
    size_t n = imc_dir_sign_input(input, sizeof input, imc_dir_update_label(u->op), d->pk_,
                                  sizeof d->pk_, u->signed_part, u->signed_part_len);
    if (n == 0)
        return IMC_ERR_AUTH;
    imc_status st = imc_suite_verify(s, d->b_, u->sig[i], signer->sig_pk, input, n);
    return st == IMC_OK || st == IMC_ERR_UNSUPPORTED ? st : IMC_ERR_AUTH;
}

/* A DH public key the validation policy accepts: a DH with a fixed scalar
 * succeeds. IMC_OK or IMC_ERR_WEAK_KEY. */
static imc_status check_dh_key(const imc_dir *d, const imc_device_public *dev)
{
    const imc_suite *s = imc_suite_get(dev->suite);
    uint8_t shared[IMC_DH_SHARED_MAX];
    imc_status st = imc_suite_dh(s, d->b_, shared, PROBE_SK, dev->dh_pk);
    imc_wipe(shared, sizeof shared);
    return st == IMC_OK || st == IMC_ERR_UNSUPPORTED ? st : IMC_ERR_WEAK_KEY;
}

/* ---- Updates ------------------------------------------------------------ */

/* The device list the op makes of the current one, in *next (which holds
 * a copy of the current record). */
static imc_status expected_list(const imc_dir *d, void *txn, const imc_dir_update_msg *u,
                                imc_dir_record *next)
{
    imc_status st = IMC_OK;
    long at = -1;
    switch (u->op) {
    case IMC_DIR_OP_REGISTER:
    case IMC_DIR_OP_ACCOUNT_RESET: {
        st = device_known(d, txn, u->device.device_id);
        if (st != IMC_OK)
            return st;
        if (u->op == IMC_DIR_OP_ACCOUNT_RESET) {
            memset(next->devices, 0, sizeof next->devices);
            next->device_count = 0;
        }
        if (next->device_count >= d->max_devices_)
            return IMC_ERR_LIMIT;
        imc_dir_record_insert(next, &u->device);
        return IMC_OK;
    }
    case IMC_DIR_OP_ROTATE:
    case IMC_DIR_OP_REVOKE:
        at = imc_dir_record_find(next, u->target_id);
        if (at < 0)
            return IMC_ERR_NOT_FOUND;
        if (u->op == IMC_DIR_OP_ROTATE)
            next->devices[at] = u->device;
        else
            imc_dir_record_remove(next, (size_t)at);
        return IMC_OK;
    case IMC_DIR_OP_ACCOUNT_ROTATE: return IMC_OK;
    default: return IMC_ERR_MALFORMED;
    }
}

/* The account's authority: the new list is the expected one, chained to
 * the current list, signed by the current account key (a new key: signed
 * by both for a rotation; creation and reset bring their own). */
static imc_status check_account(const imc_dir *d, const imc_dir_update_msg *u,
                                const imc_dir_record *cur, const imc_dir_record *next)
{
    const imc_dir_record *l = &u->list;
    if (!imc_dir_devices_equal(l, next))
        return IMC_ERR_AUTH;
    if (cur->epoch != 0) {
        uint8_t h[IMC_SHA256_BYTES];
        imc_status st = imc_dir_list_hash(h, d->b_, cur);
        if (st != IMC_OK)
            return st == IMC_ERR_NO_SPACE || st == IMC_ERR_ARG ? IMC_ERR_IO : st;
        if (!imc_ct_equal(h, l->prev_hash, sizeof h))
            return IMC_ERR_AUTH;
    }
    bool same_key = imc_ct_equal(l->account_pk, cur->account_pk, sizeof l->account_pk);
    if (l->key_change == IMC_DIR_KEY_SAME && !same_key)
        return IMC_ERR_AUTH;
    if (l->key_change == IMC_DIR_KEY_ROTATED && same_key)
        return IMC_ERR_AUTH; /* a rotation to the same key means nothing */
    return imc_dir_list_verify(d->b_, l,
                               l->key_change == IMC_DIR_KEY_ROTATED ? cur->account_pk : NULL);
}

/* The device proofs of the op. */
static imc_status check_devices(const imc_dir *d, const imc_dir_update_msg *u,
                                const imc_dir_record *cur)
{
    imc_status st = IMC_OK;
    switch (u->op) {
    case IMC_DIR_OP_REGISTER:
    case IMC_DIR_OP_ACCOUNT_RESET: st = verify_proof(d, u, 0, &u->device); break;
    case IMC_DIR_OP_ROTATE:
        st = verify_proof(d, u, 0, &cur->devices[imc_dir_record_find(cur, u->target_id)]);
        if (st == IMC_OK)
            st = verify_proof(d, u, 1, &u->device);
        break;
    default: return IMC_OK;
    }
    return st == IMC_OK ? check_dh_key(d, &u->device) : st;
}

/* The device index after the op: new devices active, gone ones revoked. */
static imc_status index_devices(const imc_dir *d, void *txn, const imc_dir_record *cur,
                                const imc_dir_record *next)
{
    imc_status st = IMC_OK;
    for (size_t i = 0; i < cur->device_count && st == IMC_OK; i++)
        if (imc_dir_record_find(next, cur->devices[i].device_id) < 0)
            st = put_devrec(d, txn, cur->devices[i].device_id, IMC_DIR_DEVICE_REVOKED, next);
    for (size_t i = 0; i < next->device_count && st == IMC_OK; i++)
        if (imc_dir_record_find(cur, next->devices[i].device_id) < 0)
            st = put_devrec(d, txn, next->devices[i].device_id, IMC_DIR_DEVICE_ACTIVE, next);
    return st;
}

/* Everything of an update inside its write transaction. */
static imc_status apply_update(const imc_dir *d, void *txn, const imc_dir_update_msg *u,
                               uint64_t now_ms, imc_writer *w, imc_dir_record *cur,
                               imc_dir_record *next)
{
    uint64_t global = 0;
    imc_status st = imc_dir_get_global(d, txn, &global);
    if (st == IMC_OK)
        st = imc_dir_load_record(d, txn, cur, u->handle.bytes, u->handle.len);
    if (st != IMC_OK)
        return st;
    if (u->epoch != cur->epoch)
        return IMC_ERR_STALE;
    if (global == UINT64_MAX)
        return IMC_ERR_LIMIT;
    *next = *cur;
    st = expected_list(d, txn, u, next);
    if (st == IMC_OK)
        st = check_account(d, u, cur, next);
    if (st == IMC_OK)
        st = check_devices(d, u, cur);
    if (st != IMC_OK)
        return st;
    *next = u->list; /* the account's signed list, equal to the expected one */
    global++;
    st = write_record_response(w, d, next, global, now_ms);
    if (st == IMC_OK && w->err)
        st = IMC_ERR_NO_SPACE;
    if (st == IMC_OK)
        st = index_devices(d, txn, cur, next);
    if (st == IMC_OK)
        st = put_record(d, txn, next);
    if (st == IMC_OK)
        st = put_global(d, txn, global);
    if (st == IMC_OK)
        st = imc_dir_kt_append(d, txn, next, global - 1);
    if (st == IMC_OK)
        st = imc_dir_kt_publish(d, txn, global);
    return st;
}

int imc_dir_ready(const imc_dir *d)
{
    return d != NULL && d->b_ != NULL && d->store_.ops != NULL;
}

imc_status imc_dir_update(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d,
                          uint64_t now_ms, const uint8_t *update, size_t update_len)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (!imc_dir_ready(d))
        return IMC_ERR_ARG;
    /* The parsed update and two records: about 30 KB, kept off the stack. */
    typedef struct update_work {
        imc_dir_update_msg u;
        imc_dir_record cur, next;
    } update_work;
    update_work *wk = malloc(sizeof *wk);
    if (wk == NULL)
        return IMC_ERR_NOMEM;
    imc_status st = imc_dir_parse_update(&wk->u, update, update_len);
    void *txn = NULL;
    if (st == IMC_OK)
        st = d->store_.ops->begin(d->store_.self, true, &txn);
    if (st != IMC_OK) {
        free(wk);
        return st;
    }
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    st = apply_update(d, txn, &wk->u, now_ms, &w, &wk->cur, &wk->next);
    if (st == IMC_OK)
        st = d->store_.ops->commit(txn);
    else
        d->store_.ops->abort(txn);
    free(wk);
    if (st == IMC_OK)
        return imc_wire_writer_finish(&w, out_len);
    imc_wipe(out, w.len);
    return st;
}

/* ---- Bulk load ---------------------------------------------------------- */

static imc_status import_one(const imc_dir *d, void *txn, const imc_dir_record *in,
                             imc_dir_record *rec)
{
    if (in->handle_len > IMC_MAX_HANDLE_BYTES || in->device_count > d->max_devices_)
        return IMC_ERR_LIMIT;
    if (!imc_dir_handle_valid(in->handle, in->handle_len))
        return IMC_ERR_MALFORMED;
    if (in->epoch != 1 || in->key_change != IMC_DIR_KEY_NEW)
        return IMC_ERR_MALFORMED; /* only freshly created accounts */
    for (size_t i = 0; i < in->device_count; i++) {
        const imc_device_public *dev = &in->devices[i];
        if (imc_suite_get(dev->suite) == NULL || dev->device_id == 0 ||
            (i > 0 && dev->device_id <= in->devices[i - 1].device_id))
            return IMC_ERR_MALFORMED;
    }
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st =
        d->store_.ops->get(txn, IMC_DIR_TABLE_HANDLES, in->handle, in->handle_len, &v, &n);
    if (st != IMC_ERR_NOT_FOUND)
        return st == IMC_OK ? IMC_ERR_EXISTS : st;
    *rec = *in;
    memset(rec->prev_hash, 0, sizeof rec->prev_hash);
    st = put_record(d, txn, rec);
    for (size_t i = 0; i < rec->device_count && st == IMC_OK; i++) {
        st = device_known(d, txn, rec->devices[i].device_id);
        if (st == IMC_OK)
            st = put_devrec(d, txn, rec->devices[i].device_id, IMC_DIR_DEVICE_ACTIVE, rec);
    }
    return st;
}

imc_status imc_dir_import(imc_dir *d, const imc_dir_record *recs, size_t n)
{
    if (!imc_dir_ready(d) || (recs == NULL && n != 0))
        return IMC_ERR_ARG;
    imc_dir_record *rec = malloc(sizeof *rec);
    if (rec == NULL)
        return IMC_ERR_NOMEM;
    void *txn = NULL;
    uint64_t global = 0;
    imc_status st = d->store_.ops->begin(d->store_.self, true, &txn);
    if (st == IMC_OK) {
        st = imc_dir_get_global(d, txn, &global);
        if (st == IMC_OK && global > UINT64_MAX - n)
            st = IMC_ERR_LIMIT;
        for (size_t i = 0; i < n && st == IMC_OK; i++) {
            st = import_one(d, txn, &recs[i], rec);
            if (st == IMC_OK)
                st = imc_dir_kt_append(d, txn, rec, global + i);
        }
        if (st == IMC_OK)
            st = put_global(d, txn, global + n);
        if (st == IMC_OK)
            st = imc_dir_kt_publish(d, txn, global + n);
        if (st == IMC_OK)
            st = d->store_.ops->commit(txn);
        else
            d->store_.ops->abort(txn);
    }
    free(rec);
    return st;
}

/* ---- Lookups ------------------------------------------------------------ */

static imc_status check_handles(const imc_dir_handle *handles, size_t count)
{
    if (handles == NULL || count == 0)
        return IMC_ERR_ARG;
    if (count > IMC_DIR_MAX_BATCH)
        return IMC_ERR_LIMIT;
    for (size_t i = 0; i < count; i++) {
        if (handles[i].len > IMC_MAX_HANDLE_BYTES)
            return IMC_ERR_LIMIT;
        if (!imc_dir_handle_valid(handles[i].bytes, handles[i].len))
            return IMC_ERR_MALFORMED;
        for (size_t j = 0; j < i; j++)
            if (handles[j].len == handles[i].len &&
                memcmp(handles[j].bytes, handles[i].bytes, handles[i].len) == 0)
                return IMC_ERR_MALFORMED;
    }
    return IMC_OK;
}

imc_status imc_dir_put_lookup_entry(imc_writer *w, const imc_dir *d, void *txn, uint64_t global,
                                    uint64_t now_ms, const imc_dir_handle *h, uint64_t *epoch)
{
    static const uint8_t no_devices[2] = {0, 0}; /* no list */
    const uint8_t *v = NULL;
    size_t n = 0;
    *epoch = 0;
    imc_status st = d->store_.ops->get(txn, IMC_DIR_TABLE_HANDLES, h->bytes, h->len, &v, &n);
    if (st == IMC_ERR_NOT_FOUND)
        return put_signed_entry(w, d, h->bytes, h->len, 0, global, now_ms, no_devices, 2);
    size_t tail = 0;
    if (st == IMC_OK)
        st = imc_dir_record_tail(epoch, &tail, v, n);
    if (st == IMC_OK && *epoch > global)
        st = IMC_ERR_IO;
    if (st == IMC_OK)
        st = put_signed_entry(w, d, h->bytes, h->len, *epoch, global, now_ms, v + tail, n - tail);
    return st;
}

imc_status imc_dir_handle_epoch(uint64_t *epoch, const imc_dir *d, void *txn,
                                const uint8_t *handle, size_t handle_len)
{
    const uint8_t *v = NULL;
    size_t n = 0, tail = 0;
    *epoch = 0;
    imc_status st = d->store_.ops->get(txn, IMC_DIR_TABLE_HANDLES, handle, handle_len, &v, &n);
    if (st == IMC_ERR_NOT_FOUND)
        return IMC_OK;
    return st == IMC_OK ? imc_dir_record_tail(epoch, &tail, v, n) : st;
}

imc_status imc_dir_lookup_batch(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d,
                                uint64_t now_ms, const imc_dir_handle *handles, size_t count)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (!imc_dir_ready(d))
        return IMC_ERR_ARG;
    imc_status st = check_handles(handles, count);
    if (st != IMC_OK)
        return st;
    void *txn = NULL;
    st = d->store_.ops->begin(d->store_.self, false, &txn);
    if (st != IMC_OK)
        return st;
    uint64_t global = 0;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    st = imc_dir_get_global(d, txn, &global);
    put_response_head(&w, count);
    for (size_t i = 0; i < count && st == IMC_OK && !w.err; i++) {
        uint64_t epoch = 0;
        st = imc_dir_put_lookup_entry(&w, d, txn, global, now_ms, &handles[i], &epoch);
    }
    d->store_.ops->abort(txn);
    if (st == IMC_OK)
        st = imc_wire_writer_finish(&w, out_len);
    if (st != IMC_OK)
        imc_wipe(out, w.len);
    return st;
}

imc_status imc_dir_lookup(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d,
                          uint64_t now_ms, const uint8_t *handle, size_t handle_len)
{
    imc_dir_handle h = {handle, handle_len};
    return imc_dir_lookup_batch(out, out_cap, out_len, d, now_ms, &h, 1);
}

imc_status imc_dir_serve(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d, uint64_t now_ms,
                         const uint8_t *in, size_t in_len)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_reader r;
    imc_wire_reader_init(&r, in, in_len);
    uint8_t version = imc_wire_read_u8(&r);
    uint8_t kind = imc_wire_read_u8(&r);
    if (r.err || version != IMC_DIR_VERSION)
        return IMC_ERR_MALFORMED;
    if (kind == IMC_DIR_KIND_UPDATE)
        return imc_dir_update(out, out_cap, out_len, d, now_ms, in, in_len);
    if (kind == IMC_DIR_KIND_KT_HEAD || kind == IMC_DIR_KIND_KT_LOOKUP ||
        kind == IMC_DIR_KIND_KT_AUDIT)
        return imc_dir_kt_serve(out, out_cap, out_len, d, now_ms, in, in_len);
    if (kind != IMC_DIR_KIND_REQUEST)
        return IMC_ERR_MALFORMED;
    imc_dir_request req;
    imc_status st = imc_dir_parse_request(&req, in, in_len);
    if (st == IMC_OK)
        st = imc_dir_lookup_batch(out, out_cap, out_len, d, now_ms, req.handles, req.count);
    return st;
}

/* ---- Set-up ------------------------------------------------------------- */

imc_status imc_dir_keygen(const imc_backend *b, imc_rng *rng, uint8_t pk[IMC_DIR_PUBLIC_BYTES],
                          uint8_t sk[IMC_DIR_SECRET_BYTES])
{
    return imc_crypto_ed25519_keygen(b, rng, pk, sk);
}

/* Compares the store's stamp with d's key: IMC_OK, IMC_ERR_NOT_FOUND if the
 * store is empty, else the reason it is refused. */
static imc_status check_stamp(const imc_dir *d, void *txn)
{
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st =
        d->store_.ops->get(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_FORMAT), &v, &n);
    if (st != IMC_OK)
        return st;
    if (n != 1 || v[0] != IMC_DIR_STORE_FORMAT)
        return IMC_ERR_UNSUPPORTED;
    st = d->store_.ops->get(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_PK), &v, &n);
    if (st == IMC_ERR_NOT_FOUND)
        return IMC_ERR_IO;
    if (st == IMC_OK && (n != IMC_DIR_PUBLIC_BYTES || !imc_ct_equal(v, d->pk_, n)))
        st = IMC_ERR_AUTH;
    uint64_t global = 0;
    return st != IMC_OK ? st : imc_dir_get_global(d, txn, &global);
}

static imc_status stamp_store(imc_dir *d, const char *origin)
{
    void *txn = NULL;
    imc_status st = d->store_.ops->begin(d->store_.self, true, &txn);
    if (st != IMC_OK)
        return st;
    st = check_stamp(d, txn); /* another writer may have stamped it meanwhile */
    if (st == IMC_ERR_NOT_FOUND) {
        const uint8_t format = IMC_DIR_STORE_FORMAT;
        st = d->store_.ops->put(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_FORMAT), &format, 1);
        if (st == IMC_OK)
            st = d->store_.ops->put(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_PK), d->pk_,
                                    sizeof d->pk_);
        if (st == IMC_OK)
            st = put_global(d, txn, 0);
        if (st == IMC_OK)
            st = imc_dir_kt_stamp(d, txn, origin);
        if (st == IMC_OK)
            return d->store_.ops->commit(txn);
    } else if (st == IMC_OK) {
        st = imc_dir_kt_load_origin(d, txn, origin);
    }
    d->store_.ops->abort(txn);
    return st;
}

imc_status imc_dir_init(imc_dir *d, const imc_backend *b, imc_dir_store store,
                        const uint8_t sk[IMC_DIR_SECRET_BYTES], const imc_dir_options *opt)
{
    if (d == NULL)
        return IMC_ERR_ARG;
    memset(d, 0, sizeof *d);
    if (b == NULL || store.ops == NULL || sk == NULL)
        return IMC_ERR_ARG;
    size_t max = opt != NULL ? opt->max_devices_per_handle : 0;
    if (max > IMC_MAX_DEVICES_PER_HANDLE)
        return IMC_ERR_LIMIT;
    d->max_devices_ = max == 0 ? IMC_MAX_DEVICES_PER_HANDLE : max;
    d->b_ = b;
    d->store_ = store;
    memcpy(d->sk_, sk, sizeof d->sk_);
    imc_status st = imc_crypto_ed25519_public(b, d->pk_, d->sk_);
    void *txn = NULL;
    if (st == IMC_OK)
        st = store.ops->begin(store.self, false, &txn);
    const char *origin = NULL; /* the default, derived from the key */
    if (st == IMC_OK) {
        st = check_stamp(d, txn);
        if (st == IMC_OK)
            st = imc_dir_kt_load_origin(d, txn, origin);
        store.ops->abort(txn);
    }
    if (st == IMC_ERR_NOT_FOUND)
        st = stamp_store(d, origin);
    if (st != IMC_OK)
        imc_dir_wipe(d);
    return st;
}

void imc_dir_store_close(imc_dir_store *s)
{
    if (s == NULL)
        return;
    if (s->ops != NULL && s->ops->close != NULL)
        s->ops->close(s->self);
    memset(s, 0, sizeof *s);
}

void imc_dir_wipe(imc_dir *d)
{
    if (d != NULL)
        imc_wipe(d, sizeof *d);
}

void imc_dir_public_key(uint8_t pk[IMC_DIR_PUBLIC_BYTES], const imc_dir *d)
{
    memcpy(pk, d->pk_, IMC_DIR_PUBLIC_BYTES);
}

/* ---- Inspection --------------------------------------------------------- */

imc_status imc_dir_global_epoch(uint64_t *epoch, imc_dir *d)
{
    if (epoch == NULL || !imc_dir_ready(d))
        return IMC_ERR_ARG;
    *epoch = 0;
    void *txn = NULL;
    imc_status st = d->store_.ops->begin(d->store_.self, false, &txn);
    if (st != IMC_OK)
        return st;
    st = imc_dir_get_global(d, txn, epoch);
    d->store_.ops->abort(txn);
    return st;
}

imc_status imc_dir_get(imc_dir_record *rec, imc_dir *d, const uint8_t *handle, size_t handle_len)
{
    if (rec == NULL || !imc_dir_ready(d))
        return IMC_ERR_ARG;
    memset(rec, 0, sizeof *rec);
    if (handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_LIMIT;
    if (!imc_dir_handle_valid(handle, handle_len))
        return IMC_ERR_MALFORMED;
    void *txn = NULL;
    imc_status st = d->store_.ops->begin(d->store_.self, false, &txn);
    if (st != IMC_OK)
        return st;
    st = imc_dir_load_record(d, txn, rec, handle, handle_len);
    d->store_.ops->abort(txn);
    return st;
}

typedef struct scan_ctx {
    imc_dir_record_fn fn;
    void *ctx;
    imc_status st;
    imc_dir_record rec;
} scan_ctx;

static int scan_one(void *vctx, const uint8_t *key, size_t key_len, const uint8_t *val,
                    size_t val_len)
{
    scan_ctx *c = vctx;
    c->st = imc_dir_decode_record(&c->rec, key, key_len, val, val_len);
    return c->st != IMC_OK || c->fn(c->ctx, &c->rec) != 0;
}

imc_status imc_dir_scan(imc_dir *d, imc_dir_record_fn fn, void *ctx)
{
    if (fn == NULL || !imc_dir_ready(d))
        return IMC_ERR_ARG;
    scan_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return IMC_ERR_NOMEM;
    c->fn = fn;
    c->ctx = ctx;
    void *txn = NULL;
    imc_status st = d->store_.ops->begin(d->store_.self, false, &txn);
    if (st == IMC_OK) {
        st = d->store_.ops->scan(txn, IMC_DIR_TABLE_HANDLES, scan_one, c);
        d->store_.ops->abort(txn);
    }
    if (st == IMC_OK)
        st = c->st;
    free(c);
    return st;
}

/* Digest: SHA-256 of every (table, key, value) item, sorted, then SHA-256
 * of their concatenation. */
typedef struct digest_ctx {
    const imc_backend *b;
    uint8_t table;
    uint8_t *hashes;
    size_t count, cap;
    uint8_t item[1 + 2 + 511 + IMC_DIR_RECORD_MAX_BYTES];
    imc_status st;
} digest_ctx;

static int digest_one(void *vctx, const uint8_t *key, size_t key_len, const uint8_t *val,
                      size_t val_len)
{
    digest_ctx *c = vctx;
    if (key_len > 511 || val_len > IMC_DIR_RECORD_MAX_BYTES) {
        c->st = IMC_ERR_IO;
        return 1;
    }
    if (c->count == c->cap) {
        size_t cap = c->cap == 0 ? 1024 : 2 * c->cap;
        uint8_t *h = realloc(c->hashes, cap * IMC_SHA256_BYTES);
        if (h == NULL) {
            c->st = IMC_ERR_NOMEM;
            return 1;
        }
        c->hashes = h;
        c->cap = cap;
    }
    c->item[0] = c->table;
    c->item[1] = (uint8_t)(key_len >> 8);
    c->item[2] = (uint8_t)key_len;
    memcpy(c->item + 3, key, key_len);
    memcpy(c->item + 3 + key_len, val, val_len);
    c->st = imc_crypto_sha256(c->b, c->hashes + c->count * IMC_SHA256_BYTES, c->item,
                              3 + key_len + val_len);
    c->count++;
    return c->st != IMC_OK;
}

static int cmp_hash(const void *a, const void *b) { return memcmp(a, b, IMC_SHA256_BYTES); }

imc_status imc_dir_digest(uint8_t out[IMC_SHA256_BYTES], imc_dir *d)
{
    if (out == NULL || !imc_dir_ready(d))
        return IMC_ERR_ARG;
    digest_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return IMC_ERR_NOMEM;
    c->b = d->b_;
    void *txn = NULL;
    imc_status st = d->store_.ops->begin(d->store_.self, false, &txn);
    for (uint8_t t = 0; t < IMC_DIR_TABLE_COUNT && st == IMC_OK; t++) {
        c->table = t;
        st = d->store_.ops->scan(txn, (imc_dir_table)t, digest_one, c);
        if (st == IMC_OK)
            st = c->st;
    }
    if (txn != NULL)
        d->store_.ops->abort(txn);
    if (st == IMC_OK) {
        if (c->count > 0)
            qsort(c->hashes, c->count, IMC_SHA256_BYTES, cmp_hash);
        st = imc_crypto_sha256(d->b_, out, c->hashes, c->count * IMC_SHA256_BYTES);
    }
    free(c->hashes);
    free(c);
    return st;
}

/* Check: every record decodes and is within limits, every listed device is
 * indexed as active under its handle, every active index entry is listed
 * (equal counts), every revoked entry names an existing handle that does
 * not list it, and the per-handle epochs sum to the global epoch (each
 * update adds one to both). */
typedef struct check_ctx {
    const imc_dir *d;
    void *txn;
    imc_dir_record rec;
    uint64_t global, epoch_sum, listed, active;
    imc_status st;
} check_ctx;

static int check_record(void *vctx, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    check_ctx *c = vctx;
    imc_dir_record *rec = &c->rec;
    c->st = imc_dir_decode_record(rec, key, key_len, val, val_len);
    if (c->st != IMC_OK || !imc_dir_handle_valid(key, key_len) || rec->epoch > c->global ||
        c->epoch_sum + rec->epoch < c->epoch_sum) {
        c->st = IMC_ERR_IO;
        return 1;
    }
    c->epoch_sum += rec->epoch;
    for (size_t i = 0; i < rec->device_count; i++) {
        uint8_t k[8], state = 0;
        const uint8_t *v = NULL;
        size_t n = 0;
        imc_dir_handle h;
        imc_dir_store_be64(k, rec->devices[i].device_id);
        if (c->d->store_.ops->get(c->txn, IMC_DIR_TABLE_DEVICES, k, 8, &v, &n) != IMC_OK ||
            imc_dir_decode_devrec(&state, &h, v, n) != IMC_OK || state != IMC_DIR_DEVICE_ACTIVE ||
            h.len != key_len || memcmp(h.bytes, key, key_len) != 0) {
            c->st = IMC_ERR_IO;
            return 1;
        }
        c->listed++;
    }
    return 0;
}

static int check_device(void *vctx, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    check_ctx *c = vctx;
    uint8_t state = 0;
    imc_dir_handle h;
    if (key_len != 8 || imc_dir_decode_devrec(&state, &h, val, val_len) != IMC_OK) {
        c->st = IMC_ERR_IO;
        return 1;
    }
    if (state == IMC_DIR_DEVICE_ACTIVE) {
        c->active++;
        return 0;
    }
    const uint8_t *v = NULL;
    size_t n = 0;
    if (c->d->store_.ops->get(c->txn, IMC_DIR_TABLE_HANDLES, h.bytes, h.len, &v, &n) != IMC_OK ||
        imc_dir_decode_record(&c->rec, h.bytes, h.len, v, n) != IMC_OK ||
        imc_dir_record_find(&c->rec, imc_dir_load_be64(key)) >= 0) {
        c->st = IMC_ERR_IO;
        return 1;
    }
    return 0;
}

imc_status imc_dir_check(imc_dir *d)
{
    if (!imc_dir_ready(d))
        return IMC_ERR_ARG;
    check_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return IMC_ERR_NOMEM;
    c->d = d;
    imc_status st = d->store_.ops->begin(d->store_.self, false, &c->txn);
    if (st != IMC_OK) {
        free(c);
        return st;
    }
    st = check_stamp(d, c->txn);
    if (st == IMC_OK)
        st = imc_dir_get_global(d, c->txn, &c->global);
    if (st == IMC_OK)
        st = d->store_.ops->scan(c->txn, IMC_DIR_TABLE_HANDLES, check_record, c);
    if (st == IMC_OK)
        st = c->st;
    if (st == IMC_OK)
        st = d->store_.ops->scan(c->txn, IMC_DIR_TABLE_DEVICES, check_device, c);
    if (st == IMC_OK)
        st = c->st;
    if (st == IMC_OK && (c->listed != c->active || c->epoch_sum != c->global))
        st = IMC_ERR_IO;
    if (st == IMC_OK)
        st = imc_dir_kt_check(d, c->txn, c->global);
    d->store_.ops->abort(c->txn);
    free(c);
    return st;
}
