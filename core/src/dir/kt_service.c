/* The directory's transparency log (docs/transparency.md, "The directory's
 * log"): one leaf and one index update per applied update, in the update's
 * own write transaction through an imc_kt_store adapter over it; a signed
 * checkpoint per epoch; lookups with proofs, audits and checkpoints served
 * from one read transaction; and the whole-log check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/dirkt.h"
#include "imcore/util.h"

#define META_KEY(k) (const uint8_t *)(k), (sizeof(k) - 1)
#define HISTORY_KEY_BYTES (IMC_KT_HASH_BYTES + 8)
#define HISTORY_VAL_BYTES (8 + IMC_KT_HASH_BYTES)

/* ---- The adapter ----------------------------------------------------------- */

static imc_status kt_get(void *ctx, imc_kt_table t, const uint8_t *key, size_t key_len,
                         const uint8_t **val, size_t *val_len)
{
    const imc_dir_kt_ctx *c = ctx;
    return c->d->store_.ops->get(c->txn, (imc_dir_table)(IMC_DIR_TABLE_KT_META + (int)t), key,
                                 key_len, val, val_len);
}

static imc_status kt_put(void *ctx, imc_kt_table t, const uint8_t *key, size_t key_len,
                         const uint8_t *val, size_t val_len)
{
    const imc_dir_kt_ctx *c = ctx;
    return c->d->store_.ops->put(c->txn, (imc_dir_table)(IMC_DIR_TABLE_KT_META + (int)t), key,
                                 key_len, val, val_len);
}

imc_kt_store imc_dir_kt_store(imc_dir_kt_ctx *ctx, const imc_dir *d, void *txn)
{
    ctx->d = d;
    ctx->txn = txn;
    imc_kt_store s = {kt_get, kt_put, ctx};
    return s;
}

/* ---- History: SHA-256(handle) || version -> position || leaf hash --------- */

static void history_key(uint8_t out[HISTORY_KEY_BYTES], const uint8_t key[IMC_KT_HASH_BYTES],
                        uint64_t version)
{
    memcpy(out, key, IMC_KT_HASH_BYTES);
    imc_dir_store_be64(out + IMC_KT_HASH_BYTES, version);
}

/* The position and hash of the handle's leaf of `version`; IMC_ERR_IO if
 * absent or malformed (every version of a stored handle has one). */
static imc_status get_history(const imc_dir *d, void *txn, const uint8_t key[IMC_KT_HASH_BYTES],
                              uint64_t version, uint64_t *index, uint8_t hash[IMC_KT_HASH_BYTES])
{
    uint8_t k[HISTORY_KEY_BYTES];
    const uint8_t *v = NULL;
    size_t n = 0;
    history_key(k, key, version);
    imc_status st = d->store_.ops->get(txn, IMC_DIR_TABLE_KT_HISTORY, k, sizeof k, &v, &n);
    if (st == IMC_ERR_NOT_FOUND || (st == IMC_OK && n != HISTORY_VAL_BYTES))
        return IMC_ERR_IO;
    if (st != IMC_OK)
        return st;
    *index = imc_dir_load_be64(v);
    memcpy(hash, v + 8, IMC_KT_HASH_BYTES);
    return IMC_OK;
}

/* ---- Appending -------------------------------------------------------------- */

imc_status imc_dir_kt_append(const imc_dir *d, void *txn, const imc_dir_record *next,
                             uint64_t position)
{
    imc_dir_kt_ctx ctx;
    imc_kt_store ks = imc_dir_kt_store(&ctx, d, txn);
    imc_dir_kt_leaf leaf;
    memset(&leaf, 0, sizeof leaf);
    memcpy(leaf.handle, next->handle, next->handle_len);
    leaf.handle_len = next->handle_len;
    leaf.version = next->epoch;
    memcpy(leaf.account_pk, next->account_pk, sizeof leaf.account_pk);
    uint8_t key[IMC_KT_HASH_BYTES], hash[IMC_KT_HASH_BYTES];
    imc_status st = imc_dir_list_hash(leaf.list_hash, d->b_, next);
    if (st == IMC_OK)
        st = imc_kt_index_key(d->b_, key, next->handle, next->handle_len);
    uint64_t index = 0;
    if (st == IMC_OK && next->epoch > 1)
        st = get_history(d, txn, key, next->epoch - 1, &index, leaf.prev_leaf);
    uint8_t data[IMC_DIR_KT_LEAF_MAX_BYTES];
    size_t len = 0;
    if (st == IMC_OK)
        st = imc_dir_kt_leaf_encode(data, sizeof data, &len, &leaf);
    if (st == IMC_OK)
        st = imc_kt_log_append(&index, d->b_, &ks, data, len);
    if (st == IMC_OK && index != position)
        st = IMC_ERR_IO; /* the log and the global epoch disagree */
    if (st == IMC_OK)
        st = imc_kt_leaf_hash(d->b_, hash, data, len);
    if (st == IMC_OK)
        st = imc_kt_index_put(d->b_, &ks, key, hash);
    if (st != IMC_OK)
        return st == IMC_ERR_ARG || st == IMC_ERR_MALFORMED ? IMC_ERR_IO : st;
    uint8_t hk[HISTORY_KEY_BYTES], hv[HISTORY_VAL_BYTES];
    history_key(hk, key, next->epoch);
    imc_dir_store_be64(hv, index);
    memcpy(hv + 8, hash, sizeof hash);
    return d->store_.ops->put(txn, IMC_DIR_TABLE_KT_HISTORY, hk, sizeof hk, hv, sizeof hv);
}

/* ---- Checkpoints ------------------------------------------------------------ */

/* The checkpoint of the log and index as they stand in txn, at `epoch`. */
static imc_status current_checkpoint(imc_kt_checkpoint *cp, const imc_dir *d, void *txn,
                                     uint64_t epoch)
{
    imc_dir_kt_ctx ctx;
    imc_kt_store ks = imc_dir_kt_store(&ctx, d, txn);
    memset(cp, 0, sizeof *cp);
    memcpy(cp->origin, d->log_key_.name, d->log_key_.name_len);
    cp->origin_len = d->log_key_.name_len;
    cp->epoch = epoch;
    imc_status st = imc_kt_log_size(&cp->size, &ks);
    if (st == IMC_OK && cp->size != epoch)
        st = IMC_ERR_IO; /* one leaf per update: the size is the epoch */
    if (st == IMC_OK)
        st = imc_kt_log_root(cp->root, d->b_, &ks, cp->size);
    if (st == IMC_OK)
        st = imc_kt_index_root(cp->index_root, &ks);
    return st;
}

imc_status imc_dir_kt_publish(const imc_dir *d, void *txn, uint64_t epoch)
{
    imc_kt_checkpoint cp;
    imc_status st = current_checkpoint(&cp, d, txn, epoch);
    uint8_t note[IMC_KT_CHECKPOINT_TEXT_MAX + 1 + IMC_KT_COSIG_LINE_MAX];
    size_t text_len = 0, line_len = 0;
    if (st == IMC_OK)
        st = imc_kt_checkpoint_text((char *)note, IMC_KT_CHECKPOINT_TEXT_MAX, &text_len, &cp);
    if (st == IMC_OK) {
        note[text_len] = '\n';
        st = imc_kt_note_sign((char *)note + text_len + 1, sizeof note - text_len - 1, &line_len,
                              d->b_, &d->log_key_, d->sk_, note, text_len);
    }
    if (st == IMC_OK)
        st = d->store_.ops->put(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_KT_NOTE), note,
                                text_len + 1 + line_len);
    imc_wipe(note, sizeof note);
    return st == IMC_ERR_ARG || st == IMC_ERR_NO_SPACE ? IMC_ERR_IO : st;
}

/* The stored signed note and its parsed checkpoint. */
static imc_status load_note(const imc_dir *d, void *txn, const uint8_t **note, size_t *note_len,
                            imc_kt_checkpoint *cp, imc_kt_note *parsed)
{
    imc_status st = d->store_.ops->get(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_KT_NOTE),
                                       note, note_len);
    if (st == IMC_ERR_NOT_FOUND)
        return IMC_ERR_IO;
    if (st == IMC_OK && (imc_kt_note_parse(parsed, *note, *note_len) != IMC_OK ||
                         imc_kt_checkpoint_parse(cp, parsed->text, parsed->text_len) != IMC_OK))
        st = IMC_ERR_IO;
    return st;
}

imc_status imc_dir_kt_stamp(imc_dir *d, void *txn, const char *origin)
{
    char def[IMC_KT_MAX_NAME + 1];
    if (origin == NULL) {
        int n = snprintf(def, sizeof def, "imcore-dir/");
        for (size_t i = 0; i < 8 && n > 0; i++)
            n += snprintf(def + n, sizeof def - (size_t)n, "%02x", d->pk_[i]);
        origin = def;
    }
    imc_status st = imc_kt_key_init(&d->log_key_, d->b_, origin, IMC_KT_SIG_ED25519, d->pk_);
    if (st != IMC_OK)
        return IMC_ERR_ARG;
    st = d->store_.ops->put(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_KT_ORIGIN),
                            (const uint8_t *)d->log_key_.name, d->log_key_.name_len);
    return st != IMC_OK ? st : imc_dir_kt_publish(d, txn, 0);
}

imc_status imc_dir_kt_load_origin(imc_dir *d, void *txn, const char *want)
{
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st =
        d->store_.ops->get(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_KT_ORIGIN), &v, &n);
    if (st == IMC_ERR_NOT_FOUND)
        return IMC_ERR_IO;
    char name[IMC_KT_MAX_NAME + 1];
    if (st == IMC_OK && (n == 0 || n > IMC_KT_MAX_NAME))
        st = IMC_ERR_IO;
    if (st != IMC_OK)
        return st;
    memcpy(name, v, n);
    name[n] = '\0';
    if (want != NULL && strcmp(want, name) != 0)
        return IMC_ERR_AUTH;
    st = imc_kt_key_init(&d->log_key_, d->b_, name, IMC_KT_SIG_ED25519, d->pk_);
    return st == IMC_OK ? IMC_OK : IMC_ERR_IO;
}

/* ---- Public: the checkpoint, the vkey, cosignatures ------------------------- */

imc_status imc_dir_kt_checkpoint(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (out == NULL || !imc_dir_ready(d))
        return IMC_ERR_ARG;
    imc_kt_note *parsed = malloc(sizeof *parsed);
    if (parsed == NULL)
        return IMC_ERR_NOMEM;
    void *txn = NULL;
    imc_status st = d->store_.ops->begin(d->store_.self, false, &txn);
    if (st == IMC_OK) {
        const uint8_t *note = NULL;
        size_t n = 0;
        imc_kt_checkpoint cp;
        st = load_note(d, txn, &note, &n, &cp, parsed);
        if (st == IMC_OK && n > out_cap)
            st = IMC_ERR_NO_SPACE;
        if (st == IMC_OK) {
            memcpy(out, note, n);
            *out_len = n;
        }
        d->store_.ops->abort(txn);
    }
    free(parsed);
    return st;
}

imc_status imc_dir_kt_vkey(char out[IMC_KT_VKEY_MAX], const imc_dir *d)
{
    if (out == NULL || !imc_dir_ready(d))
        return IMC_ERR_ARG;
    return imc_kt_vkey_encode(out, &d->log_key_);
}

/* Adds the line to the stored note in txn. */
static imc_status add_cosignature(const imc_dir *d, void *txn, const imc_kt_key *witness,
                                  const uint8_t *text, size_t text_len, const uint8_t *line,
                                  size_t line_len, imc_kt_note *parsed, uint8_t *buf)
{
    const uint8_t *note = NULL;
    size_t n = 0;
    imc_kt_checkpoint cp;
    imc_status st = load_note(d, txn, &note, &n, &cp, parsed);
    if (st != IMC_OK)
        return st;
    if (parsed->text_len != text_len || memcmp(parsed->text, text, text_len) != 0)
        return IMC_ERR_STALE; /* cosigned another checkpoint than the current one */
    if (imc_kt_note_verify(d->b_, parsed, witness, NULL) != IMC_ERR_NOT_FOUND)
        return IMC_ERR_EXISTS; /* this witness has a line already */
    if (n + line_len > IMC_KT_MAX_NOTE_BYTES)
        return IMC_ERR_LIMIT;
    memcpy(buf, note, n);
    memcpy(buf + n, line, line_len);
    if (imc_kt_note_parse(parsed, buf, n + line_len) != IMC_OK)
        return IMC_ERR_MALFORMED;
    if (imc_kt_note_verify(d->b_, parsed, witness, NULL) != IMC_OK)
        return IMC_ERR_AUTH;
    return d->store_.ops->put(txn, IMC_DIR_TABLE_META, META_KEY(IMC_DIR_META_KT_NOTE), buf,
                              n + line_len);
}

imc_status imc_dir_kt_add_cosignature(imc_dir *d, const imc_kt_key *witness, const uint8_t *text,
                                      size_t text_len, const uint8_t *line, size_t line_len)
{
    if (!imc_dir_ready(d) || witness == NULL || witness->type != IMC_KT_SIG_COSIGNATURE ||
        text == NULL || line == NULL || line_len == 0)
        return IMC_ERR_ARG;
    imc_kt_note *parsed = malloc(sizeof *parsed);
    uint8_t *buf = malloc(IMC_KT_MAX_NOTE_BYTES);
    void *txn = NULL;
    imc_status st = parsed == NULL || buf == NULL ? IMC_ERR_NOMEM
                                                  : d->store_.ops->begin(d->store_.self, true,
                                                                         &txn);
    if (st == IMC_OK) {
        st = add_cosignature(d, txn, witness, text, text_len, line, line_len, parsed, buf);
        if (st == IMC_OK)
            st = d->store_.ops->commit(txn);
        else
            d->store_.ops->abort(txn);
    }
    free(parsed);
    free(buf);
    return st;
}

/* ---- Serving ---------------------------------------------------------------- */

/* Large structures of one request, off the stack. */
typedef struct serve_work {
    imc_kt_note note;
    imc_kt_log_proof log;
    imc_kt_index_proof index;
    imc_kt_checkpoint cp;
    imc_dir_kt_request req;
} serve_work;

/* Starts a framed part: its length is filled in by frame_end. */
static size_t frame_begin(imc_writer *w)
{
    (void)imc_wire_write_reserve(w, 2);
    return w->len;
}

static void frame_end(imc_writer *w, size_t start)
{
    if (w->err)
        return;
    size_t n = w->len - start;
    if (n > 0xffff) {
        w->err = true;
        return;
    }
    w->buf[start - 2] = (uint8_t)(n >> 8);
    w->buf[start - 1] = (uint8_t)n;
}

/* The space left in w for an encoder writing in place, and its position. */
static uint8_t *room(imc_writer *w, size_t *cap)
{
    uint8_t *p = imc_wire_write_reserve(w, 0);
    *cap = p != NULL ? w->cap - w->len : 0;
    return p;
}

/* A proof, framed, encoded in place by enc. */
typedef imc_status (*encode_fn)(uint8_t *out, size_t cap, size_t *len, const void *p);

static imc_status encode_log_proof(uint8_t *out, size_t cap, size_t *len, const void *p)
{
    return imc_kt_log_proof_encode(out, cap, len, p);
}

static imc_status encode_index_proof(uint8_t *out, size_t cap, size_t *len, const void *p)
{
    return imc_kt_index_proof_encode(out, cap, len, p);
}

static imc_status put_proof(imc_writer *w, encode_fn enc, const void *p)
{
    size_t start = frame_begin(w), cap = 0, n = 0;
    uint8_t *at = room(w, &cap);
    if (at == NULL)
        return IMC_ERR_NO_SPACE;
    imc_status st = enc(at, cap, &n, p);
    if (st == IMC_OK && imc_wire_write_reserve(w, n) == NULL)
        st = IMC_ERR_NO_SPACE;
    frame_end(w, start);
    return st;
}

static void put_framed(imc_writer *w, const uint8_t *p, size_t n)
{
    if (n > 0xffff) {
        w->err = true;
        return;
    }
    imc_wire_write_u16(w, (uint16_t)n);
    imc_wire_write_bytes(w, p, n);
}

/* version || kind || note || consistency proof from known_size. */
static imc_status put_head(imc_writer *w, const imc_dir *d, void *txn, const imc_kt_store *ks,
                           uint8_t kind, uint64_t known_size, serve_work *wk)
{
    const uint8_t *note = NULL;
    size_t n = 0;
    imc_status st = load_note(d, txn, &note, &n, &wk->cp, &wk->note);
    if (st != IMC_OK)
        return st;
    if (known_size > wk->cp.size)
        return IMC_ERR_STALE;
    st = imc_kt_log_prove_consistency(&wk->log, d->b_, ks, known_size, wk->cp.size);
    if (st != IMC_OK)
        return st == IMC_ERR_ARG || st == IMC_ERR_MALFORMED ? IMC_ERR_IO : st;
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, kind);
    put_framed(w, note, n);
    return put_proof(w, encode_log_proof, &wk->log);
}

/* Leaf `index` framed, then its inclusion proof at the checkpoint. */
static imc_status put_leaf(imc_writer *w, const imc_dir *d, const imc_kt_store *ks, uint64_t index,
                           serve_work *wk)
{
    const uint8_t *leaf = NULL;
    size_t n = 0;
    imc_status st = imc_kt_log_leaf(&leaf, &n, ks, index);
    if (st == IMC_OK)
        put_framed(w, leaf, n);
    if (st == IMC_OK)
        st = imc_kt_log_prove_inclusion(&wk->log, d->b_, ks, index, wk->cp.size);
    if (st == IMC_OK)
        st = put_proof(w, encode_log_proof, &wk->log);
    return st == IMC_ERR_ARG || st == IMC_ERR_NOT_FOUND || st == IMC_ERR_MALFORMED ? IMC_ERR_IO
                                                                                    : st;
}

static imc_status put_index(imc_writer *w, const imc_dir *d, const imc_kt_store *ks,
                            const uint8_t key[IMC_KT_HASH_BYTES], serve_work *wk)
{
    (void)d;
    imc_status st = imc_kt_index_prove(&wk->index, NULL, ks, key);
    if (st == IMC_OK)
        st = put_proof(w, encode_index_proof, &wk->index);
    return st == IMC_ERR_ARG || st == IMC_ERR_MALFORMED ? IMC_ERR_IO : st;
}

static imc_status serve_lookup(imc_writer *w, const imc_dir *d, void *txn,
                               const imc_kt_store *ks, uint64_t now_ms, serve_work *wk)
{
    uint64_t global = 0;
    imc_status st = imc_dir_get_global(d, txn, &global);
    if (st == IMC_OK && global != wk->cp.epoch)
        st = IMC_ERR_IO;
    imc_wire_write_u16(w, (uint16_t)wk->req.count);
    for (size_t i = 0; i < wk->req.count && st == IMC_OK; i++) {
        const imc_dir_handle *h = &wk->req.handles[i];
        uint64_t epoch = 0, index = 0;
        uint8_t key[IMC_KT_HASH_BYTES], hash[IMC_KT_HASH_BYTES];
        st = imc_dir_put_lookup_entry(w, d, txn, global, now_ms, h, &epoch);
        if (st == IMC_OK)
            st = imc_kt_index_key(d->b_, key, h->bytes, h->len);
        if (st == IMC_OK && epoch != 0) {
            st = get_history(d, txn, key, epoch, &index, hash);
            if (st == IMC_OK)
                st = put_leaf(w, d, ks, index, wk);
        } else if (st == IMC_OK) {
            imc_wire_write_u16(w, 0); /* no leaf */
            imc_wire_write_u16(w, 0); /* no inclusion proof */
        }
        if (st == IMC_OK)
            st = put_index(w, d, ks, key, wk);
    }
    return st;
}

static imc_status serve_audit(imc_writer *w, const imc_dir *d, void *txn, const imc_kt_store *ks,
                              serve_work *wk)
{
    const imc_dir_handle *h = &wk->req.handles[0];
    uint64_t latest = 0, since = wk->req.since, index = 0;
    uint8_t key[IMC_KT_HASH_BYTES], value[IMC_KT_HASH_BYTES] = {0};
    imc_status st = imc_dir_handle_epoch(&latest, d, txn, h->bytes, h->len);
    if (st == IMC_OK)
        st = imc_kt_index_key(d->b_, key, h->bytes, h->len);
    if (st != IMC_OK)
        return st;
    size_t count = 0;
    if (since <= latest)
        count = latest - since + 1 > IMC_DIR_KT_MAX_AUDIT ? IMC_DIR_KT_MAX_AUDIT
                                                          : (size_t)(latest - since + 1);
    imc_dir_put_handle(w, h->bytes, h->len);
    imc_wire_write_u64(w, since);
    imc_wire_write_u64(w, latest);
    imc_wire_write_u16(w, (uint16_t)count);
    for (size_t i = 0; i < count && st == IMC_OK && !w->err; i++) {
        uint8_t hash[IMC_KT_HASH_BYTES];
        st = get_history(d, txn, key, since + i, &index, hash);
        if (st == IMC_OK)
            st = put_leaf(w, d, ks, index, wk);
    }
    if (st == IMC_OK && latest != 0)
        st = get_history(d, txn, key, latest, &index, value);
    imc_wire_write_bytes(w, value, sizeof value);
    return st == IMC_OK ? put_index(w, d, ks, key, wk) : st;
}

static uint8_t response_kind(uint8_t request_kind)
{
    switch (request_kind) {
    case IMC_DIR_KIND_KT_LOOKUP: return IMC_DIR_KIND_KT_LOOKUP_RESP;
    case IMC_DIR_KIND_KT_AUDIT: return IMC_DIR_KIND_KT_AUDIT_RESP;
    default: return IMC_DIR_KIND_KT_HEAD_RESP;
    }
}

imc_status imc_dir_kt_serve(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d,
                            uint64_t now_ms, const uint8_t *in, size_t in_len)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    if (!imc_dir_ready(d))
        return IMC_ERR_ARG;
    serve_work *wk = malloc(sizeof *wk);
    if (wk == NULL)
        return IMC_ERR_NOMEM;
    imc_status st = imc_dir_kt_parse_request(&wk->req, in, in_len);
    void *txn = NULL;
    if (st == IMC_OK)
        st = d->store_.ops->begin(d->store_.self, false, &txn);
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    if (st == IMC_OK) {
        imc_dir_kt_ctx ctx;
        imc_kt_store ks = imc_dir_kt_store(&ctx, d, txn);
        st = put_head(&w, d, txn, &ks, response_kind(wk->req.kind), wk->req.known_size, wk);
        if (st == IMC_OK && wk->req.kind == IMC_DIR_KIND_KT_LOOKUP)
            st = serve_lookup(&w, d, txn, &ks, now_ms, wk);
        else if (st == IMC_OK && wk->req.kind == IMC_DIR_KIND_KT_AUDIT)
            st = serve_audit(&w, d, txn, &ks, wk);
        d->store_.ops->abort(txn);
    }
    free(wk);
    if (st == IMC_OK)
        st = imc_wire_writer_finish(&w, out_len);
    if (st != IMC_OK)
        imc_wipe(out, w.len);
    return st;
}

/* ---- The whole-log check ---------------------------------------------------- */

typedef struct check_work {
    imc_kt_note note;
    imc_kt_checkpoint stored, want;
    imc_dir_kt_leaf leaf;
    imc_dir_record rec;
} check_work;

/* Leaf i: parses; its (handle, version) maps back to i and its hash in the
 * history; it chains to the handle's previous leaf; its version is at most
 * the handle's epoch, and the latest one describes the stored list. It is
 * appended to the rebuilt log and index. */
static imc_status check_leaf(const imc_dir *d, void *txn, const imc_kt_store *ks,
                             const imc_kt_store *rebuilt, uint64_t i, check_work *c)
{
    const uint8_t *data = NULL;
    size_t n = 0;
    uint8_t hash[IMC_KT_HASH_BYTES], key[IMC_KT_HASH_BYTES], h2[IMC_KT_HASH_BYTES];
    uint64_t at = 0, copy_at = 0;
    imc_status st = imc_kt_log_leaf(&data, &n, ks, i);
    if (st == IMC_OK && imc_dir_kt_leaf_parse(&c->leaf, data, n) != IMC_OK)
        st = IMC_ERR_IO;
    if (st == IMC_OK)
        st = imc_kt_leaf_hash(d->b_, hash, data, n);
    if (st == IMC_OK)
        st = imc_kt_log_append(&copy_at, d->b_, rebuilt, data, n);
    const imc_dir_kt_leaf *l = &c->leaf;
    if (st == IMC_OK)
        st = imc_kt_index_key(d->b_, key, l->handle, l->handle_len);
    if (st == IMC_OK)
        st = imc_kt_index_put(d->b_, rebuilt, key, hash);
    if (st == IMC_OK)
        st = get_history(d, txn, key, l->version, &at, h2);
    if (st == IMC_OK && (at != i || copy_at != i || memcmp(h2, hash, sizeof hash) != 0))
        st = IMC_ERR_IO;
    if (st == IMC_OK && l->version > 1) {
        st = get_history(d, txn, key, l->version - 1, &at, h2);
        if (st == IMC_OK && (at >= i || memcmp(h2, l->prev_leaf, sizeof h2) != 0))
            st = IMC_ERR_IO;
    }
    if (st == IMC_OK) {
        uint64_t epoch = 0;
        st = imc_dir_handle_epoch(&epoch, d, txn, l->handle, l->handle_len);
        if (st == IMC_OK && l->version > epoch)
            st = IMC_ERR_IO;
        if (st == IMC_OK && l->version == epoch) {
            st = imc_dir_load_record(d, txn, &c->rec, l->handle, l->handle_len);
            if (st == IMC_OK)
                st = imc_dir_list_hash(h2, d->b_, &c->rec);
            if (st == IMC_OK && (memcmp(h2, l->list_hash, sizeof h2) != 0 ||
                                 memcmp(c->rec.account_pk, l->account_pk, sizeof h2) != 0))
                st = IMC_ERR_IO;
        }
    }
    return st == IMC_ERR_NOT_FOUND || st == IMC_ERR_ARG || st == IMC_ERR_MALFORMED ? IMC_ERR_IO
                                                                                   : st;
}

imc_status imc_dir_kt_check(const imc_dir *d, void *txn, uint64_t global)
{
    check_work *c = malloc(sizeof *c);
    imc_kt_mem *mem = NULL;
    imc_status st = c == NULL ? IMC_ERR_NOMEM
                              : imc_kt_mem_open(&mem, d->b_, (size_t)(global < 1000000 ? global
                                                                                       : 1000000));
    if (st != IMC_OK) {
        free(c);
        return st;
    }
    imc_dir_kt_ctx ctx;
    imc_kt_store ks = imc_dir_kt_store(&ctx, d, txn), rebuilt = imc_kt_mem_store(mem);
    /* The stored roots first: they are what the checkpoint must name. */
    st = current_checkpoint(&c->want, d, txn, global);
    for (uint64_t i = 0; i < global && st == IMC_OK; i++)
        st = check_leaf(d, txn, &ks, &rebuilt, i, c);
    imc_kt_checkpoint again;
    if (st == IMC_OK) {
        memset(&again, 0, sizeof again);
        st = imc_kt_log_root(again.root, d->b_, &rebuilt, global);
        if (st == IMC_OK)
            st = imc_kt_index_root(again.index_root, &rebuilt);
        if (st == IMC_OK && (memcmp(again.root, c->want.root, IMC_KT_HASH_BYTES) != 0 ||
                             memcmp(again.index_root, c->want.index_root, IMC_KT_HASH_BYTES) != 0))
            st = IMC_ERR_IO;
    }
    /* The stored note: signed by the directory, naming exactly these roots. */
    const uint8_t *note = NULL;
    size_t n = 0;
    if (st == IMC_OK)
        st = load_note(d, txn, &note, &n, &c->stored, &c->note);
    if (st == IMC_OK &&
        (imc_kt_note_verify(d->b_, &c->note, &d->log_key_, NULL) != IMC_OK ||
         c->stored.size != c->want.size || c->stored.epoch != c->want.epoch ||
         c->stored.origin_len != c->want.origin_len ||
         memcmp(c->stored.origin, c->want.origin, c->want.origin_len) != 0 ||
         memcmp(c->stored.root, c->want.root, IMC_KT_HASH_BYTES) != 0 ||
         memcmp(c->stored.index_root, c->want.index_root, IMC_KT_HASH_BYTES) != 0))
        st = IMC_ERR_IO;
    imc_kt_mem_close(mem);
    free(c);
    return st == IMC_ERR_NOT_FOUND || st == IMC_ERR_ARG || st == IMC_ERR_MALFORMED ? IMC_ERR_IO
                                                                                   : st;
}
