/* The directory's transparency messages: log leaves, requests and
 * responses with proofs (docs/directory-format.md, "Transparency"), their
 * strict parsers, and the checks a client runs on an answer against a
 * checkpoint it has accepted.
 *
 * Parsers check structure (framing, kinds, the sub-parsers of imcore/kt.h);
 * the verify functions check hashes, proofs and signatures. */
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/dirkt.h"
#include "imcore/util.h"

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Scratch for the sub-parsers: large structures kept off the stack. */
typedef struct kt_scratch {
    imc_kt_note note;
    imc_kt_log_proof log;
    imc_kt_index_proof index;
    imc_dir_kt_leaf leaf;
    imc_dir_entry entry;
} kt_scratch;

/* length (2) || bytes, the length 0..max. */
static const uint8_t *read_framed(imc_reader *r, size_t *len)
{
    size_t n = imc_wire_read_u16(r);
    const uint8_t *p = imc_wire_read_bytes(r, n);
    *len = p != NULL ? n : 0;
    return p;
}

/* Runs a sub-parser on a framed part; a failure fails the reader. */
static void check_part(imc_reader *r, imc_status *why, imc_status st)
{
    if (st != IMC_OK && !r->err)
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
}

/* ---- Leaves ---------------------------------------------------------------- */

imc_status imc_dir_kt_leaf_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_dir_kt_leaf *leaf)
{
    if (out_len == NULL || leaf == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (leaf->version == 0 || leaf->handle_len > IMC_MAX_HANDLE_BYTES ||
        !imc_dir_handle_valid(leaf->handle, leaf->handle_len) ||
        (leaf->version == 1) != all_zero(leaf->prev_leaf, sizeof leaf->prev_leaf))
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_KT_LEAF);
    imc_dir_put_handle(&w, leaf->handle, leaf->handle_len);
    imc_wire_write_u64(&w, leaf->version);
    imc_wire_write_bytes(&w, leaf->account_pk, sizeof leaf->account_pk);
    imc_wire_write_bytes(&w, leaf->list_hash, sizeof leaf->list_hash);
    imc_wire_write_bytes(&w, leaf->prev_leaf, sizeof leaf->prev_leaf);
    return imc_wire_writer_finish(&w, out_len);
}

imc_status imc_dir_kt_leaf_parse(imc_dir_kt_leaf *leaf, const uint8_t *in, size_t in_len)
{
    if (leaf == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    memset(leaf, 0, sizeof *leaf);
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    imc_dir_read_prefix(&r, &why, IMC_DIR_KIND_KT_LEAF);
    imc_dir_handle h = {NULL, 0};
    imc_dir_read_handle(&r, &why, &h);
    if (h.bytes != NULL) {
        memcpy(leaf->handle, h.bytes, h.len);
        leaf->handle_len = h.len;
    }
    leaf->version = imc_wire_read_u64(&r);
    imc_wire_read_copy(&r, leaf->account_pk, sizeof leaf->account_pk);
    imc_wire_read_copy(&r, leaf->list_hash, sizeof leaf->list_hash);
    imc_wire_read_copy(&r, leaf->prev_leaf, sizeof leaf->prev_leaf);
    if (!r.err && (leaf->version == 0 || (leaf->version == 1) !=
                                             all_zero(leaf->prev_leaf, sizeof leaf->prev_leaf)))
        imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(leaf, 0, sizeof *leaf);
    return st;
}

/* ---- Requests -------------------------------------------------------------- */

static void put_request_head(imc_writer *w, uint8_t kind, uint64_t known_size)
{
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, kind);
    imc_wire_write_u64(w, known_size);
}

static imc_status check_handle(const uint8_t *h, size_t len)
{
    if (len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_LIMIT;
    return h != NULL && imc_dir_handle_valid(h, len) ? IMC_OK : IMC_ERR_MALFORMED;
}

imc_status imc_dir_kt_encode_head(uint8_t *out, size_t out_cap, size_t *out_len,
                                  uint64_t known_size)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (known_size >= IMC_KT_MAX_SIZE)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_request_head(&w, IMC_DIR_KIND_KT_HEAD, known_size);
    return imc_wire_writer_finish(&w, out_len);
}

imc_status imc_dir_kt_encode_lookup(uint8_t *out, size_t out_cap, size_t *out_len,
                                    uint64_t known_size, const imc_dir_handle *handles,
                                    size_t count)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (handles == NULL || count == 0 || known_size >= IMC_KT_MAX_SIZE)
        return IMC_ERR_ARG;
    if (count > IMC_DIR_MAX_BATCH)
        return IMC_ERR_LIMIT;
    for (size_t i = 0; i < count; i++) {
        imc_status st = check_handle(handles[i].bytes, handles[i].len);
        if (st != IMC_OK)
            return st;
    }
    if (!imc_dir_handles_distinct(handles, count))
        return IMC_ERR_MALFORMED;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_request_head(&w, IMC_DIR_KIND_KT_LOOKUP, known_size);
    imc_wire_write_u16(&w, (uint16_t)count);
    for (size_t i = 0; i < count; i++)
        imc_dir_put_handle(&w, handles[i].bytes, handles[i].len);
    return imc_wire_writer_finish(&w, out_len);
}

imc_status imc_dir_kt_encode_audit(uint8_t *out, size_t out_cap, size_t *out_len,
                                   uint64_t known_size, const uint8_t *handle, size_t handle_len,
                                   uint64_t since)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (since == 0 || known_size >= IMC_KT_MAX_SIZE)
        return IMC_ERR_ARG;
    imc_status st = check_handle(handle, handle_len);
    if (st != IMC_OK)
        return st;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_request_head(&w, IMC_DIR_KIND_KT_AUDIT, known_size);
    imc_dir_put_handle(&w, handle, handle_len);
    imc_wire_write_u64(&w, since);
    return imc_wire_writer_finish(&w, out_len);
}

imc_status imc_dir_kt_parse_request(imc_dir_kt_request *req, const uint8_t *in, size_t in_len)
{
    if (req == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    memset(req, 0, sizeof *req);
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    uint8_t version = imc_wire_read_u8(&r);
    req->kind = imc_wire_read_u8(&r);
    if (!r.err && (version != IMC_DIR_VERSION ||
                   (req->kind != IMC_DIR_KIND_KT_HEAD && req->kind != IMC_DIR_KIND_KT_LOOKUP &&
                    req->kind != IMC_DIR_KIND_KT_AUDIT)))
        imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    req->known_size = imc_wire_read_u64(&r);
    if (!r.err && req->known_size >= IMC_KT_MAX_SIZE)
        imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    if (!r.err && req->kind == IMC_DIR_KIND_KT_LOOKUP) {
        imc_dir_read_batch_count(&r, &why, &req->count);
        for (size_t i = 0; i < req->count; i++)
            imc_dir_read_handle(&r, &why, &req->handles[i]);
        if (!r.err && !imc_dir_handles_distinct(req->handles, req->count))
            imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    } else if (!r.err && req->kind == IMC_DIR_KIND_KT_AUDIT) {
        req->count = 1;
        imc_dir_read_handle(&r, &why, &req->handles[0]);
        req->since = imc_wire_read_u64(&r);
        if (!r.err && req->since == 0)
            imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    }
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(req, 0, sizeof *req);
    return st;
}

/* ---- Responses ------------------------------------------------------------- */

/* version || kind || framed note || framed consistency proof. */
static void read_head(imc_reader *r, imc_status *why, uint8_t kind, imc_dir_kt_head *head,
                      kt_scratch *s)
{
    imc_dir_read_prefix(r, why, kind);
    head->note = read_framed(r, &head->note_len);
    if (!r->err) {
        imc_status st = head->note_len > IMC_KT_MAX_NOTE_BYTES
                            ? IMC_ERR_MALFORMED
                            : imc_kt_note_parse(&s->note, head->note, head->note_len);
        if (st == IMC_OK)
            st = imc_kt_checkpoint_parse(&head->cp, s->note.text, s->note.text_len);
        check_part(r, why, st);
    }
    head->proof = read_framed(r, &head->proof_len);
    if (!r->err) {
        imc_status st = imc_kt_log_proof_parse(&s->log, head->proof, head->proof_len);
        if (st == IMC_OK &&
            (s->log.kind != IMC_KT_PROOF_CONSISTENCY || s->log.b != head->cp.size))
            st = IMC_ERR_MALFORMED;
        check_part(r, why, st);
        head->from_size = s->log.a;
    }
}

imc_status imc_dir_kt_parse_head(imc_dir_kt_head *head, const uint8_t *in, size_t in_len)
{
    if (head == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    memset(head, 0, sizeof *head);
    kt_scratch *s = malloc(sizeof *s);
    if (s == NULL)
        return IMC_ERR_NOMEM;
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    read_head(&r, &why, IMC_DIR_KIND_KT_HEAD_RESP, head, s);
    free(s);
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(head, 0, sizeof *head);
    return st;
}

/* One answer: entry || framed leaf || framed inclusion || framed index proof. */
static void read_answer(imc_reader *r, imc_status *why, imc_dir_kt_answer *a, kt_scratch *s)
{
    imc_dir_read_entry(r, why, &a->entry);
    bool registered = !r->err && a->entry.list != NULL;
    a->leaf = read_framed(r, &a->leaf_len);
    if (!r->err && (a->leaf_len != 0) != registered)
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
    if (!r->err && registered)
        check_part(r, why, imc_dir_kt_leaf_parse(&s->leaf, a->leaf, a->leaf_len));
    a->inclusion = read_framed(r, &a->inclusion_len);
    if (!r->err && (a->inclusion_len != 0) != registered)
        imc_dir_reject(r, why, IMC_ERR_MALFORMED);
    if (!r->err && registered) {
        imc_status st = imc_kt_log_proof_parse(&s->log, a->inclusion, a->inclusion_len);
        if (st == IMC_OK && s->log.kind != IMC_KT_PROOF_INCLUSION)
            st = IMC_ERR_MALFORMED;
        check_part(r, why, st);
    }
    a->index_proof = read_framed(r, &a->index_proof_len);
    if (!r->err)
        check_part(r, why, imc_kt_index_proof_parse(&s->index, a->index_proof,
                                                    a->index_proof_len));
    if (!registered) {
        a->leaf = a->inclusion = NULL;
        a->leaf_len = a->inclusion_len = 0;
    }
}

imc_status imc_dir_kt_parse_lookup(imc_dir_kt_lookup_response *resp, const uint8_t *in,
                                   size_t in_len)
{
    if (resp == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    memset(resp, 0, sizeof *resp);
    kt_scratch *s = malloc(sizeof *s);
    imc_dir_handle *seen = malloc(IMC_DIR_MAX_BATCH * sizeof *seen);
    imc_dir_kt_answer *a = malloc(sizeof *a);
    if (s == NULL || seen == NULL || a == NULL) {
        free(s);
        free(seen);
        free(a);
        return IMC_ERR_NOMEM;
    }
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    read_head(&r, &why, IMC_DIR_KIND_KT_LOOKUP_RESP, &resp->head, s);
    size_t count = 0;
    imc_dir_read_batch_count(&r, &why, &count);
    size_t start = r.off;
    for (size_t i = 0; i < count && !r.err; i++) {
        size_t mark = r.off;
        read_answer(&r, &why, a, s);
        seen[i].bytes = r.err ? NULL : in + mark + 1;
        seen[i].len = a->entry.rec.handle_len;
        if (i == 0) {
            resp->global_epoch = a->entry.global_epoch;
            resp->issued_ms = a->entry.issued_ms;
        } else if (!r.err && (a->entry.global_epoch != resp->global_epoch ||
                              a->entry.issued_ms != resp->issued_ms)) {
            imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
        }
    }
    if (!r.err && !imc_dir_handles_distinct(seen, count))
        imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    resp->answers = imc_wire_reader_since(&r, start, &resp->answers_len);
    resp->count = count;
    free(s);
    free(seen);
    free(a);
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(resp, 0, sizeof *resp);
    return st;
}

imc_status imc_dir_kt_lookup_next(imc_dir_kt_answer *a, size_t *offset,
                                  const imc_dir_kt_lookup_response *resp)
{
    if (a == NULL || offset == NULL || resp == NULL || *offset > resp->answers_len)
        return IMC_ERR_ARG;
    memset(a, 0, sizeof *a);
    kt_scratch *s = malloc(sizeof *s);
    if (s == NULL)
        return IMC_ERR_NOMEM;
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, resp->answers + *offset, resp->answers_len - *offset);
    read_answer(&r, &why, a, s);
    free(s);
    if (why == IMC_OK && r.err)
        why = IMC_ERR_MALFORMED;
    if (why != IMC_OK) {
        memset(a, 0, sizeof *a);
        return why;
    }
    *offset += r.off;
    return IMC_OK;
}

/* One audit item: framed leaf || framed inclusion proof. */
static void read_item(imc_reader *r, imc_status *why, const uint8_t **leaf, size_t *leaf_len,
                      const uint8_t **incl, size_t *incl_len, kt_scratch *s)
{
    *leaf = read_framed(r, leaf_len);
    if (!r->err)
        check_part(r, why, imc_dir_kt_leaf_parse(&s->leaf, *leaf, *leaf_len));
    *incl = read_framed(r, incl_len);
    if (!r->err) {
        imc_status st = imc_kt_log_proof_parse(&s->log, *incl, *incl_len);
        if (st == IMC_OK && s->log.kind != IMC_KT_PROOF_INCLUSION)
            st = IMC_ERR_MALFORMED;
        check_part(r, why, st);
    }
}

/* The number of leaves an audit answer from since must carry. */
static size_t audit_count(uint64_t since, uint64_t latest)
{
    if (since > latest)
        return 0;
    uint64_t n = latest - since + 1;
    return n > IMC_DIR_KT_MAX_AUDIT ? IMC_DIR_KT_MAX_AUDIT : (size_t)n;
}

imc_status imc_dir_kt_parse_audit(imc_dir_kt_audit_response *resp, const uint8_t *in,
                                  size_t in_len)
{
    if (resp == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    memset(resp, 0, sizeof *resp);
    kt_scratch *s = malloc(sizeof *s);
    if (s == NULL)
        return IMC_ERR_NOMEM;
    imc_reader r;
    imc_status why = IMC_OK;
    imc_wire_reader_init(&r, in, in_len);
    read_head(&r, &why, IMC_DIR_KIND_KT_AUDIT_RESP, &resp->head, s);
    imc_dir_read_handle(&r, &why, &resp->handle);
    resp->since = imc_wire_read_u64(&r);
    resp->latest = imc_wire_read_u64(&r);
    resp->count = imc_wire_read_u16(&r);
    if (!r.err && (resp->since == 0 || resp->latest >= IMC_KT_MAX_SIZE ||
                   resp->count != audit_count(resp->since, resp->latest)))
        imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    size_t start = r.off;
    for (size_t i = 0; i < resp->count && !r.err; i++) {
        const uint8_t *leaf = NULL, *incl = NULL;
        size_t leaf_len = 0, incl_len = 0;
        read_item(&r, &why, &leaf, &leaf_len, &incl, &incl_len, s);
    }
    resp->items = imc_wire_reader_since(&r, start, &resp->items_len);
    imc_wire_read_copy(&r, resp->index_value, sizeof resp->index_value);
    if (!r.err && resp->latest == 0 && !all_zero(resp->index_value, sizeof resp->index_value))
        imc_dir_reject(&r, &why, IMC_ERR_MALFORMED);
    resp->index_proof = read_framed(&r, &resp->index_proof_len);
    if (!r.err)
        check_part(&r, &why,
                   imc_kt_index_proof_parse(&s->index, resp->index_proof, resp->index_proof_len));
    free(s);
    imc_status st = imc_dir_parse_status(&r, why);
    if (st != IMC_OK)
        memset(resp, 0, sizeof *resp);
    return st;
}

/* ---- Verification ---------------------------------------------------------- */

/* Parses a leaf and its inclusion proof and checks the proof puts the leaf
 * in cp's log: IMC_OK (hash and position set), IMC_ERR_AUTH or
 * IMC_ERR_MALFORMED. */
static imc_status verify_included(uint8_t hash[IMC_KT_HASH_BYTES], uint64_t *index,
                                  const imc_backend *b, const imc_kt_checkpoint *cp,
                                  const uint8_t *leaf, size_t leaf_len, const uint8_t *incl,
                                  size_t incl_len, kt_scratch *s)
{
    imc_status st = imc_dir_kt_leaf_parse(&s->leaf, leaf, leaf_len);
    if (st == IMC_OK)
        st = imc_kt_log_proof_parse(&s->log, incl, incl_len);
    if (st != IMC_OK)
        return IMC_ERR_MALFORMED;
    if (s->log.kind != IMC_KT_PROOF_INCLUSION || s->log.b != cp->size)
        return IMC_ERR_AUTH;
    st = imc_kt_leaf_hash(b, hash, leaf, leaf_len);
    if (st != IMC_OK)
        return st;
    *index = s->log.a;
    return imc_kt_inclusion_verify(b, hash, cp->root, &s->log) == IMC_OK ? IMC_OK : IMC_ERR_AUTH;
}

/* The index proof for handle under cp: key -> value, or absent (value NULL). */
static imc_status verify_index(const imc_backend *b, const imc_kt_checkpoint *cp,
                               const uint8_t *handle, size_t handle_len, const uint8_t *value,
                               const uint8_t *proof, size_t proof_len, kt_scratch *s)
{
    uint8_t key[IMC_KT_HASH_BYTES];
    if (imc_kt_index_proof_parse(&s->index, proof, proof_len) != IMC_OK)
        return IMC_ERR_MALFORMED;
    imc_status st = imc_kt_index_key(b, key, handle, handle_len);
    if (st != IMC_OK)
        return st;
    return imc_kt_index_verify(b, cp->index_root, key, value, &s->index) == IMC_OK ? IMC_OK
                                                                                    : IMC_ERR_AUTH;
}

static imc_status answer_verify(imc_dir_kt_leaf *leaf, uint64_t *leaf_index, const imc_backend *b,
                                const uint8_t *dir_pk, const imc_kt_checkpoint *cp,
                                const imc_dir_kt_answer *a, kt_scratch *s)
{
    const imc_dir_entry *e = &a->entry;
    if (imc_dir_entry_verify(b, dir_pk, e) != IMC_OK || e->global_epoch != cp->epoch)
        return IMC_ERR_AUTH;
    if (e->list == NULL)
        return a->leaf != NULL ? IMC_ERR_MALFORMED
                               : verify_index(b, cp, e->rec.handle, e->rec.handle_len, NULL,
                                              a->index_proof, a->index_proof_len, s);
    uint8_t hash[IMC_KT_HASH_BYTES], list_hash[IMC_KT_HASH_BYTES];
    imc_status st = verify_included(hash, leaf_index, b, cp, a->leaf, a->leaf_len, a->inclusion,
                                    a->inclusion_len, s);
    if (st == IMC_OK)
        st = imc_crypto_sha256(b, list_hash, e->list, e->list_len);
    if (st != IMC_OK)
        return st;
    const imc_dir_kt_leaf *l = &s->leaf;
    if (l->handle_len != e->rec.handle_len ||
        memcmp(l->handle, e->rec.handle, l->handle_len) != 0 || l->version != e->rec.epoch ||
        memcmp(l->account_pk, e->rec.account_pk, sizeof l->account_pk) != 0 ||
        memcmp(l->list_hash, list_hash, sizeof list_hash) != 0)
        return IMC_ERR_AUTH;
    st = verify_index(b, cp, e->rec.handle, e->rec.handle_len, hash, a->index_proof,
                      a->index_proof_len, s);
    if (st == IMC_OK && leaf != NULL)
        *leaf = *l;
    return st;
}

imc_status imc_dir_kt_answer_verify(imc_dir_kt_leaf *leaf, uint64_t *leaf_index,
                                    const imc_backend *b,
                                    const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                    const imc_kt_checkpoint *cp, const imc_dir_kt_answer *a)
{
    if (leaf != NULL)
        memset(leaf, 0, sizeof *leaf);
    uint64_t index = 0;
    if (b == NULL || dir_pk == NULL || cp == NULL || a == NULL || a->entry.body == NULL)
        return IMC_ERR_ARG;
    kt_scratch *s = malloc(sizeof *s);
    if (s == NULL)
        return IMC_ERR_NOMEM;
    imc_status st = answer_verify(leaf, &index, b, dir_pk, cp, a, s);
    free(s);
    if (st != IMC_OK && leaf != NULL)
        memset(leaf, 0, sizeof *leaf);
    if (leaf_index != NULL)
        *leaf_index = st == IMC_OK ? index : 0;
    return st;
}

static imc_status audit_verify(bool *complete, const imc_backend *b, const imc_kt_checkpoint *cp,
                               const imc_dir_kt_audit_response *resp, const uint8_t *prev_hash,
                               imc_dir_kt_leaf_fn fn, void *ctx, kt_scratch *s)
{
    const imc_dir_handle *h = &resp->handle;
    imc_status st = verify_index(b, cp, h->bytes, h->len, resp->latest != 0 ? resp->index_value
                                                                             : NULL,
                                 resp->index_proof, resp->index_proof_len, s);
    if (st != IMC_OK)
        return st;
    if (resp->count == 0) {
        /* Nothing after since - 1: that must be the latest version. Only
         * the hash of that version (which the caller kept) ties "latest"
         * to the index value, so without it an empty answer proves
         * nothing but an unregistered handle. */
        if (resp->latest != 0 && prev_hash == NULL)
            return IMC_ERR_ARG;
        if (resp->since != resp->latest + 1 ||
            (resp->latest != 0 && memcmp(prev_hash, resp->index_value, IMC_KT_HASH_BYTES) != 0))
            return IMC_ERR_AUTH;
        *complete = true;
        return IMC_OK;
    }
    uint8_t prev[IMC_KT_HASH_BYTES], hash[IMC_KT_HASH_BYTES];
    bool know_prev = resp->since == 1 || prev_hash != NULL;
    if (resp->since == 1)
        memset(prev, 0, sizeof prev);
    else if (prev_hash != NULL)
        memcpy(prev, prev_hash, sizeof prev);
    imc_reader r;
    imc_wire_reader_init(&r, resp->items, resp->items_len);
    uint64_t last_index = 0;
    for (size_t i = 0; i < resp->count; i++) {
        size_t leaf_len = 0, incl_len = 0;
        const uint8_t *leaf = read_framed(&r, &leaf_len);
        const uint8_t *incl = read_framed(&r, &incl_len);
        if (r.err)
            return IMC_ERR_MALFORMED;
        uint64_t index = 0;
        st = verify_included(hash, &index, b, cp, leaf, leaf_len, incl, incl_len, s);
        if (st != IMC_OK)
            return st;
        const imc_dir_kt_leaf *l = &s->leaf;
        if (l->handle_len != h->len || memcmp(l->handle, h->bytes, h->len) != 0 ||
            l->version != resp->since + i || (i > 0 && index <= last_index) ||
            (know_prev && memcmp(l->prev_leaf, prev, sizeof prev) != 0))
            return IMC_ERR_AUTH;
        if (fn != NULL && fn(ctx, l, index, hash) != 0)
            return IMC_ERR_AUTH;
        memcpy(prev, hash, sizeof prev);
        know_prev = true;
        last_index = index;
    }
    *complete = resp->since + resp->count - 1 == resp->latest;
    if (*complete && memcmp(hash, resp->index_value, sizeof hash) != 0)
        return IMC_ERR_AUTH;
    return imc_wire_reader_finish(&r) == IMC_OK ? IMC_OK : IMC_ERR_MALFORMED;
}

imc_status imc_dir_kt_audit_verify(bool *complete, const imc_backend *b,
                                   const imc_kt_checkpoint *cp,
                                   const imc_dir_kt_audit_response *resp, const uint8_t *prev_hash,
                                   imc_dir_kt_leaf_fn fn, void *ctx)
{
    if (complete != NULL)
        *complete = false;
    if (b == NULL || cp == NULL || resp == NULL || resp->handle.bytes == NULL ||
        resp->index_proof == NULL)
        return IMC_ERR_ARG;
    kt_scratch *s = malloc(sizeof *s);
    if (s == NULL)
        return IMC_ERR_NOMEM;
    bool done = false;
    imc_status st = audit_verify(&done, b, cp, resp, prev_hash, fn, ctx, s);
    free(s);
    if (complete != NULL)
        *complete = st == IMC_OK && done;
    return st;
}
