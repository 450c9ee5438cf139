/* imc_msg_encrypt: one envelope for every recipient device
 * (docs/wire-format.md, "Cryptography", sender steps 1-6).
 *
 * The envelope is written front to back straight into the caller's buffer:
 * the body is sealed once into space reserved for it, then the recipient
 * set, each wrap sealed into its place, and the signature last. Every secret lives in one struct
 * that is wiped on the single way out. */
#include <stdint.h>
#include <string.h>

#include "imcore/msg.h"
#include "imcore/util.h"
#include "imcore/wire.h"
#include "msg/msg_impl.h"

typedef struct enc_secrets {
    uint8_t ck[IMC_AEAD_KEY_BYTES];
    uint8_t esk[IMC_DH_SECRET_MAX];
    uint8_t body_key[IMC_AEAD_KEY_BYTES];
    uint8_t z[IMC_DH_SHARED_MAX];
    uint8_t wrap_key[IMC_AEAD_KEY_BYTES];
} enc_secrets;

typedef struct enc_public {
    uint8_t mid[IMC_MSG_ID_BYTES];
    uint8_t epk[IMC_DH_PUBLIC_MAX];
    uint8_t commitment[IMC_MSG_COMMIT_BYTES];
    uint8_t sender_ctx[IMC_SHA256_BYTES];
    uint8_t sh[IMC_MSG_SH_MAX];
    size_t sh_len;
    imc_msg_recipients rcpt; /* points into the envelope once written */
} enc_public;

/* ---- Request checks ---------------------------------------------------- */

static imc_status check_recipients(const imc_msg_send *req, const imc_suite *s)
{
    if (req->recipients == NULL || req->recipient_count == 0)
        return IMC_ERR_ARG;
    if (req->recipient_count > IMC_MAX_RECIPIENTS)
        return IMC_ERR_LIMIT;
    for (size_t i = 0; i < req->recipient_count; i++)
        if (req->recipients[i].suite != s->id || req->recipients[i].device_id == 0)
            return IMC_ERR_ARG;
    return IMC_OK;
}

static imc_status check_request(const imc_msg_send *req, const imc_backend *b,
                                const imc_suite **suite)
{
    if (req == NULL || b == NULL || req->sender == NULL)
        return IMC_ERR_ARG;
    const imc_suite *s = imc_suite_get(req->sender->pub.suite);
    if (s == NULL)
        return IMC_ERR_ARG;
    if (!imc_suite_supported(s, b))
        return IMC_ERR_UNSUPPORTED;
    if (req->sender_handle == NULL || req->sender_handle_len == 0 ||
        req->sender->pub.device_id == 0 ||
        (req->body == NULL && req->body_len != 0))
        return IMC_ERR_ARG;

    if (req->sender_handle_len > IMC_MAX_HANDLE_BYTES || req->body_len > IMC_MAX_BODY_BYTES)
        return IMC_ERR_LIMIT;
    *suite = s;
    return check_recipients(req, s);
}

/* 1 if [a, a+an) and [b, b+bn) share a byte. */
static int overlaps(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return an != 0 && bn != 0 && x < y + bn && y < x + an;
}

/* ---- Recipient order --------------------------------------------------- */

/* The wire lists entries by increasing device id; callers may pass devices
 * in any order, so an index array is sorted (heapsort: in place, no
 * recursion, O(n log n) worst case; an already sorted list is detected in
 * one pass). */
static int id_before(const imc_device_public *r, uint16_t a, uint16_t b)
{
    return r[a].device_id < r[b].device_id;
}

static void sift_down(uint16_t *o, size_t root, size_t end, const imc_device_public *r)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= end)
            return;
        if (child + 1 < end && id_before(r, o[child], o[child + 1]))
            child++;
        if (!id_before(r, o[root], o[child]))
            return;
        uint16_t t = o[root];
        o[root] = o[child];
        o[child] = t;
        root = child;
    }
}

static imc_status sort_recipients(uint16_t *order, const imc_device_public *r, size_t n)
{
    int sorted = 1;
    for (size_t i = 0; i < n; i++) {
        order[i] = (uint16_t)i;
        sorted &= i == 0 || r[i - 1].device_id <= r[i].device_id;
    }
    if (!sorted) {
        for (size_t i = n / 2; i-- > 0;)
            sift_down(order, i, n, r);
        for (size_t end = n; end > 1;) {
            end--;
            uint16_t t = order[0];
            order[0] = order[end];
            order[end] = t;
            sift_down(order, 0, end, r);
        }
    }
    for (size_t i = 1; i < n; i++)
        if (r[order[i - 1]].device_id == r[order[i]].device_id)
            return IMC_ERR_ARG;
    return IMC_OK;
}

/* ---- Steps ------------------------------------------------------------- */

/* Steps 1-3: message id, content key and ephemeral key pair, in this order
 * from rng; then body key and commitment, and the sender context. */
static imc_status draw_message_keys(enc_secrets *sec, enc_public *pub, const imc_backend *b,
                                    imc_rng *rng, const imc_suite *s, const imc_msg_send *req)
{
    imc_status st = imc_rng_fill(rng, b, pub->mid, sizeof pub->mid);
    if (st == IMC_OK)
        st = imc_rng_fill(rng, b, sec->ck, sizeof sec->ck);
    if (st == IMC_OK)
        st = imc_suite_dh_keygen(s, b, rng, pub->epk, sec->esk);
    if (st == IMC_OK)
        st = imc_msg_derive_content(b, sec->body_key, pub->commitment, sec->ck, pub->mid);
    if (st == IMC_OK)
        st = imc_msg_sender_context(pub->sender_ctx, b, s, req->sender_handle,
                                    req->sender_handle_len, req->sender->pub.device_id,
                                    req->sender->pub.sig_pk);
    return st;
}

static imc_status build_signed_header(enc_public *pub, const imc_suite *s,
                                      const imc_msg_send *req)
{
    imc_msg_header h = {
        .suite = s->id,
        .sender_handle = req->sender_handle,
        .sender_handle_len = req->sender_handle_len,
        .sender_device = req->sender->pub.device_id,
        .message_id = pub->mid,
        .timestamp_ms = req->timestamp_ms,
        .eph_pk = pub->epk,
        .commitment = pub->commitment,
        .body_len = req->body_len + IMC_AEAD_TAG_BYTES,
    };
    imc_writer w;
    imc_wire_writer_init(&w, pub->sh, sizeof pub->sh);
    imc_msg_put_signed_header(&w, &h, s);
    return imc_wire_writer_finish(&w, &pub->sh_len);
}

/* Step 4: prefix, SH, and the body sealed into its place. */
static imc_status write_body(imc_writer *w, const uint8_t **body_ct, const enc_secrets *sec,
                             const enc_public *pub, const imc_backend *b, const imc_suite *s,
                             const imc_msg_send *req)
{
    uint8_t ad[IMC_MSG_BODY_AD_MAX];
    size_t ad_len = imc_msg_body_ad(ad, s->id, pub->sh, pub->sh_len);
    size_t c = req->body_len + IMC_AEAD_TAG_BYTES;
    imc_msg_put_prefix(w, IMC_MSG_KIND_ENVELOPE, s->id);
    imc_wire_write_bytes(w, pub->sh, pub->sh_len);
    uint8_t *ct = imc_wire_write_reserve(w, c);
    if (ct == NULL || ad_len == 0)
        return IMC_ERR_NO_SPACE;
    *body_ct = ct;
    return imc_crypto_aead_seal(b, s->aead, ct, c, sec->body_key, imc_msg_zero_nonce,
                                sizeof imc_msg_zero_nonce, ad, ad_len, req->body, req->body_len);
}

/* The recipient set: count, then the ids in increasing order. */
static imc_status write_recipients(imc_writer *w, enc_public *pub, const imc_msg_send *req,
                                   const uint16_t *order)
{
    imc_wire_write_u16(w, (uint16_t)req->recipient_count);
    size_t start = w->len;
    for (size_t i = 0; i < req->recipient_count; i++)
        imc_wire_write_u64(w, req->recipients[order[i]].device_id);
    if (w->err)
        return IMC_ERR_NO_SPACE;
    pub->rcpt.count = req->recipient_count;
    pub->rcpt.ids = w->buf + start;
    return IMC_OK;
}

/* Step 5 for one device: its wrap. */
static imc_status write_wrap(imc_writer *w, enc_secrets *sec, const enc_public *pub,
                             const imc_backend *b, const imc_suite *s,
                             const imc_device_public *r, const imc_prepared_key *esk)
{
    uint8_t *wrap = imc_wire_write_reserve(w, s->wrap_bytes);
    if (wrap == NULL)
        return IMC_ERR_NO_SPACE;
    const imc_msg_wrap_ctx ctx = {s, pub->epk, pub->mid, pub->sender_ctx};
    imc_status st = esk != NULL ? imc_suite_dh_prepared(s, b, sec->z, esk, r->dh_pk)
                                : imc_suite_dh(s, b, sec->z, sec->esk, r->dh_pk);
    if (st == IMC_OK)
        st = imc_msg_derive_wrap_key(b, sec->wrap_key, &ctx, sec->z, r->dh_pk, r->device_id);
    if (st == IMC_OK)
        st = imc_crypto_aead_seal(b, s->aead, wrap, s->wrap_bytes, sec->wrap_key,
                                  imc_msg_zero_nonce, sizeof imc_msg_zero_nonce, NULL, 0, sec->ck,
                                  sizeof sec->ck);
    imc_wipe(sec->z, sizeof sec->z);
    imc_wipe(sec->wrap_key, sizeof sec->wrap_key);
    return st;
}

static imc_status write_wraps(imc_writer *w, enc_secrets *sec, const enc_public *pub,
                              const imc_backend *b, const imc_suite *s,
                              const imc_msg_send *req, const uint16_t *order)
{
    /* With several devices the ephemeral secret is imported into the
     * backend's key object once (prepared keys, docs/backends.md); for one,
     * importing would only add a copy. */
    imc_prepared_key *esk = NULL;
    imc_status st = req->recipient_count > 1 ? imc_suite_dh_prepare(s, b, &esk, sec->esk) : IMC_OK;
    for (size_t i = 0; i < req->recipient_count && st == IMC_OK; i++)
        st = write_wrap(w, sec, pub, b, s, &req->recipients[order[i]], esk);
    imc_crypto_key_free(esk);
    return st;
}

/* Step 6. */
static imc_status write_signature(imc_writer *w, const enc_public *pub, const imc_backend *b,
                                  const imc_suite *s, const imc_msg_send *req,
                                  const imc_prepared_key *sig_sk, const uint8_t *body_ct,
                                  size_t body_ct_len)
{
    uint8_t input[IMC_MSG_SIG_INPUT_MAX];
    size_t input_len = 0;
    imc_status st = imc_msg_sig_input(input, &input_len, b, s->id, pub->sh, pub->sh_len,
                                      body_ct, body_ct_len, &pub->rcpt);
    uint8_t *sig = imc_wire_write_reserve(w, s->sig_bytes);
    if (st == IMC_OK && sig == NULL)
        st = IMC_ERR_NO_SPACE;
    if (st == IMC_OK && sig_sk != NULL)
        st = imc_suite_sign_prepared(s, b, sig, sig_sk, input, input_len);
    else if (st == IMC_OK)
        st = imc_suite_sign(s, b, sig, req->sender->sig_sk, req->sender->pub.sig_pk, input,
                            input_len);
    return st;
}

static imc_status encrypt_into(imc_writer *w, enc_secrets *sec, enc_public *pub,
                               const imc_backend *b, imc_rng *rng, const imc_suite *s,
                               const imc_msg_send *req, const imc_prepared_key *sig_sk,
                               const uint16_t *order)
{
    const uint8_t *body_ct = NULL;
    imc_status st = draw_message_keys(sec, pub, b, rng, s, req);
    if (st == IMC_OK)
        st = build_signed_header(pub, s, req);
    if (st == IMC_OK)
        st = write_body(w, &body_ct, sec, pub, b, s, req);
    if (st == IMC_OK)
        st = write_recipients(w, pub, req, order);
    if (st == IMC_OK)
        st = write_wraps(w, sec, pub, b, s, req, order);
    if (st == IMC_OK)
        st = write_signature(w, pub, b, s, req, sig_sk, body_ct,
                             req->body_len + IMC_AEAD_TAG_BYTES);
    return st;
}

/* ---- API --------------------------------------------------------------- */

/* Both entry points: sig_sk is the sender's signing key prepared on b, or
 * NULL. */
static imc_status encrypt(uint8_t *out, size_t out_cap, size_t *out_len, const imc_backend *b,
                          imc_rng *rng, const imc_msg_send *req, const imc_prepared_key *sig_sk)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    const imc_suite *s = NULL;
    imc_status st = check_request(req, b, &s);
    if (st != IMC_OK)
        return st;
    size_t size = imc_msg_envelope_size(s->id, req->sender_handle_len, req->recipient_count,
                                        req->body_len);
    if (out == NULL || out_cap < size)
        return IMC_ERR_NO_SPACE;
    if (overlaps(req->body, req->body_len, out, size))
        return IMC_ERR_ARG;
    uint16_t order[IMC_MAX_RECIPIENTS];
    st = sort_recipients(order, req->recipients, req->recipient_count);
    if (st != IMC_OK)
        return st;

    enc_secrets sec;
    enc_public pub;
    memset(&sec, 0, sizeof sec);
    memset(&pub, 0, sizeof pub);
    imc_writer w;
    imc_wire_writer_init(&w, out, size);
    st = encrypt_into(&w, &sec, &pub, b, rng, s, req, sig_sk, order);
    if (st == IMC_OK)
        st = imc_wire_writer_finish(&w, out_len);
    imc_wipe(&sec, sizeof sec);
    if (st != IMC_OK)
        imc_wipe(out, w.len);
    return st;
}

imc_status imc_msg_encrypt(uint8_t *out, size_t out_cap, size_t *out_len, const imc_backend *b,
                           imc_rng *rng, const imc_msg_send *req)
{
    return encrypt(out, out_cap, out_len, b, rng, req, NULL);
}

imc_status imc_msg_encrypt_prepared(uint8_t *out, size_t out_cap, size_t *out_len, imc_rng *rng,
                                    const imc_msg_device *sender, const imc_msg_send *req)
{
    if (out_len != NULL)
        *out_len = 0;
    /* Prepared from this very sender (so its keys are req's). */
    if (sender == NULL || req == NULL || sender->keys != req->sender || sender->sig_sk == NULL)
        return IMC_ERR_ARG;
    return encrypt(out, out_cap, out_len, sender->backend, rng, req, sender->sig_sk);
}
