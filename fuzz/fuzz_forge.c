/* Forging and judging messages by docs/wire-format.md (fuzz_forge.h). The
 * byte strings below are built here from the document, not taken from
 * core/src/msg, so a slip in the library's derivations or checks shows as
 * a disagreement instead of being shared. */
#include "fuzz_forge.h"

#include <string.h>

#include "imcore/util.h"
#include "imcore/wire.h"

#define LABEL(w, s) imc_wire_write_bytes((w), (const uint8_t *)(s), sizeof(s) - 1)

static const uint8_t ZERO_NONCE[IMC_AEAD_NONCE_BYTES];

static const imc_backend *be(uint32_t suite) { return fuzz_backend_for(suite); }

/* ---- Decoding and encoding --------------------------------------------- */

static void header_from(fuzz_msg *m, const imc_msg_header *h)
{
    m->suite = h->suite;
    memcpy(m->handle, h->sender_handle, h->sender_handle_len);
    m->handle_len = h->sender_handle_len;
    m->sender_device = h->sender_device;
    memcpy(m->mid, h->message_id, IMC_MSG_ID_BYTES);
    m->ts = h->timestamp_ms;
    memcpy(m->eph_pk, h->eph_pk, imc_suite_get(h->suite)->eph_bytes);
    memcpy(m->commitment, h->commitment, IMC_MSG_COMMIT_BYTES);
    memcpy(m->body_ct, h->body, h->body_len);
    m->body_ct_len = h->body_len;
}

static imc_status rcpt_from(fuzz_msg *m, const imc_msg_recipients *r)
{
    if (r->count > FUZZ_MSG_RCPT_MAX)
        return IMC_ERR_LIMIT;
    m->n = r->count;
    for (size_t i = 0; i < r->count; i++)
        m->ids[i] = imc_msg_recipient_id(r, i);
    return IMC_OK;
}

/* The parts a delivery and an envelope share. */
static imc_status from_parsed(fuzz_msg *m, const imc_msg_header *h, const imc_msg_recipients *r,
                              const uint8_t *sig)
{
    memset(m, 0, sizeof *m);
    imc_status st = rcpt_from(m, r);
    if (st != IMC_OK)
        return st;
    header_from(m, h);
    memcpy(m->sig, sig, imc_suite_get(h->suite)->sig_bytes);
    return IMC_OK;
}

imc_status fuzz_msg_from_delivery(fuzz_msg *m, const uint8_t *in, size_t len)
{
    imc_delivery d;
    imc_status st = imc_msg_parse_delivery(&d, in, len);
    if (st == IMC_OK)
        st = from_parsed(m, &d.h, &d.rcpt, d.sig);
    if (st == IMC_OK) {
        m->index = d.index;
        memcpy(m->wraps[d.index], d.entry.wrap, imc_suite_get(d.h.suite)->wrap_bytes);
    }
    return st;
}

imc_status fuzz_msg_from_envelope(fuzz_msg *m, const uint8_t *in, size_t len)
{
    imc_envelope e;
    imc_status st = imc_msg_parse_envelope(&e, in, len);
    if (st == IMC_OK)
        st = from_parsed(m, &e.h, &e.rcpt, e.sig);
    if (st == IMC_OK) {
        size_t w = imc_suite_get(e.h.suite)->wrap_bytes;
        for (size_t i = 0; i < m->n; i++)
            memcpy(m->wraps[i], e.wraps + i * w, w);
    }
    return st;
}

typedef struct wire_bufs {
    uint8_t ids[FUZZ_MSG_RCPT_MAX * IMC_MSG_DEVICE_ID_BYTES];
    uint8_t wraps[FUZZ_MSG_RCPT_MAX * FUZZ_MSG_WRAP_MAX];
} wire_bufs;

static void header_to(imc_msg_header *h, imc_msg_recipients *r, wire_bufs *wb, const fuzz_msg *m)
{
    memset(h, 0, sizeof *h);
    h->suite = m->suite;
    h->sender_handle = m->handle;
    h->sender_handle_len = m->handle_len;
    h->sender_device = m->sender_device;
    h->message_id = m->mid;
    h->timestamp_ms = m->ts;
    h->eph_pk = m->eph_pk;
    h->commitment = m->commitment;
    h->body = m->body_ct;
    h->body_len = m->body_ct_len;
    for (size_t i = 0; i < m->n; i++)
        for (int k = 0; k < 8; k++)
            wb->ids[i * 8 + (size_t)k] = (uint8_t)(m->ids[i] >> (56 - 8 * k));
    r->count = m->n;
    r->ids = wb->ids;
}

imc_status fuzz_msg_to_delivery(uint8_t *out, size_t cap, size_t *len, const fuzz_msg *m)
{
    const imc_suite *s = imc_suite_get(m->suite);
    if (s == NULL || m->n > FUZZ_MSG_RCPT_MAX || m->index >= m->n)
        return IMC_ERR_ARG;
    wire_bufs wb;
    imc_delivery d;
    memset(&d, 0, sizeof d);
    header_to(&d.h, &d.rcpt, &wb, m);
    d.index = m->index;
    d.entry.device_id = m->ids[m->index];
    d.entry.wrap = m->wraps[m->index];
    d.sig = m->sig;
    return imc_msg_write_delivery(out, cap, len, &d);
}

imc_status fuzz_msg_to_envelope(uint8_t *out, size_t cap, size_t *len, const fuzz_msg *m)
{
    const imc_suite *s = imc_suite_get(m->suite);
    if (s == NULL || m->n > FUZZ_MSG_RCPT_MAX)
        return IMC_ERR_ARG;
    wire_bufs wb;
    imc_envelope e;
    memset(&e, 0, sizeof e);
    header_to(&e.h, &e.rcpt, &wb, m);
    for (size_t i = 0; i < m->n; i++)
        memcpy(wb.wraps + i * s->wrap_bytes, m->wraps[i], s->wrap_bytes);
    e.wraps = wb.wraps;
    e.sig = m->sig;
    return imc_msg_write_envelope(out, cap, len, &e);
}

/* ---- The doc's byte strings --------------------------------------------- */

const imc_device_keys *fuzz_world_device(uint32_t suite, uint64_t device_id)
{
    const fuzz_world *w = fuzz_world_get();
    if (suite < 1 || suite > IMC_SUITE_COUNT || !w->have_suite[suite] ||
        device_id < FUZZ_DEVICE_BASE || device_id - FUZZ_DEVICE_BASE >= FUZZ_DEVICES)
        return NULL;
    return &w->device[suite][device_id - FUZZ_DEVICE_BASE];
}

/* SH: h || handle || sender device || mid || ts || epk || commitment || c. */
static size_t put_sh(uint8_t *out, size_t cap, const fuzz_msg *m)
{
    const imc_suite *s = imc_suite_get(m->suite);
    imc_writer w;
    imc_wire_writer_init(&w, out, cap);
    imc_wire_write_u8(&w, (uint8_t)m->handle_len);
    imc_wire_write_bytes(&w, m->handle, m->handle_len);
    imc_wire_write_u64(&w, m->sender_device);
    imc_wire_write_bytes(&w, m->mid, IMC_MSG_ID_BYTES);
    imc_wire_write_u64(&w, m->ts);
    imc_wire_write_bytes(&w, m->eph_pk, s->eph_bytes);
    imc_wire_write_bytes(&w, m->commitment, IMC_MSG_COMMIT_BYTES);
    imc_wire_write_u32(&w, (uint32_t)m->body_ct_len);
    size_t len = 0;
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

#define SH_MAX (1 + IMC_MAX_HANDLE_BYTES + 8 + 16 + 8 + IMC_DH_PUBLIC_MAX + 32 + 4)

imc_status fuzz_sender_ctx(uint8_t out[IMC_SHA256_BYTES], uint32_t suite, const uint8_t *handle,
                           size_t handle_len, uint64_t device_id, const uint8_t *sig_pk)
{
    const imc_suite *s = imc_suite_get(suite);
    uint8_t buf[64 + IMC_MAX_HANDLE_BYTES + IMC_SIG_PUBLIC_MAX];
    imc_writer w;
    imc_wire_writer_init(&w, buf, sizeof buf);
    LABEL(&w, "imcore/v2/sender");
    imc_wire_write_u16(&w, (uint16_t)suite);
    imc_wire_write_u8(&w, (uint8_t)handle_len);
    imc_wire_write_bytes(&w, handle, handle_len);
    imc_wire_write_u64(&w, device_id);
    imc_wire_write_bytes(&w, sig_pk, s->sig_public_bytes);
    size_t len = 0;
    imc_status st = imc_wire_writer_finish(&w, &len);
    return st == IMC_OK ? imc_crypto_sha256(be(suite), out, buf, len) : st;
}

imc_status fuzz_sender_ctx_fixed(uint8_t out[IMC_SHA256_BYTES], uint32_t suite)
{
    const fuzz_world *w = fuzz_world_get();
    return fuzz_sender_ctx(out, suite, (const uint8_t *)FUZZ_SENDER_HANDLE,
                           sizeof FUZZ_SENDER_HANDLE - 1, FUZZ_SENDER_DEVICE,
                           w->sender[suite].pub.sig_pk);
}

imc_status fuzz_content_keys(uint32_t suite, uint8_t body_key[IMC_AEAD_KEY_BYTES],
                             uint8_t commitment[IMC_MSG_COMMIT_BYTES],
                             const uint8_t ck[IMC_AEAD_KEY_BYTES],
                             const uint8_t mid[IMC_MSG_ID_BYTES])
{
    uint8_t info[sizeof "imcore/v2/content" - 1 + IMC_MSG_ID_BYTES];
    uint8_t okm[64];
    memcpy(info, "imcore/v2/content", sizeof "imcore/v2/content" - 1);
    memcpy(info + sizeof "imcore/v2/content" - 1, mid, IMC_MSG_ID_BYTES);
    imc_status st = imc_crypto_hkdf_sha256(be(suite), okm, sizeof okm, NULL, 0, ck,
                                           IMC_AEAD_KEY_BYTES, info, sizeof info);
    if (st == IMC_OK) {
        memcpy(body_key, okm, 32);
        memcpy(commitment, okm + 32, 32);
    }
    return st;
}

static imc_status wrap_key(uint8_t key[IMC_AEAD_KEY_BYTES], const fuzz_msg *m,
                           const imc_device_keys *dev, const uint8_t sender_ctx[32])
{
    const imc_suite *s = imc_suite_get(m->suite);
    const imc_backend *b = be(m->suite);
    uint8_t z[IMC_DH_SHARED_MAX];
    imc_status st = imc_suite_dh(s, b, z, dev->dh_sk, m->eph_pk);
    uint8_t info[64 + 2 * IMC_DH_PUBLIC_MAX + 64];
    imc_writer w;
    imc_wire_writer_init(&w, info, sizeof info);
    LABEL(&w, "imcore/v2/wrap");
    imc_wire_write_u16(&w, (uint16_t)m->suite);
    imc_wire_write_bytes(&w, m->eph_pk, s->eph_bytes);
    imc_wire_write_bytes(&w, dev->pub.dh_pk, s->dh_public_bytes);
    imc_wire_write_u64(&w, dev->pub.device_id);
    imc_wire_write_bytes(&w, m->mid, IMC_MSG_ID_BYTES);
    imc_wire_write_bytes(&w, sender_ctx, IMC_SHA256_BYTES);
    size_t len = 0;
    if (st == IMC_OK)
        st = imc_wire_writer_finish(&w, &len);
    if (st == IMC_OK)
        st = imc_crypto_hkdf_sha256(b, key, IMC_AEAD_KEY_BYTES, NULL, 0, z, s->dh_shared_bytes,
                                    info, len);
    return st;
}

imc_status fuzz_msg_wrap(fuzz_msg *m, size_t i, const imc_device_keys *dev,
                         const uint8_t sender_ctx[IMC_SHA256_BYTES],
                         const uint8_t ck[IMC_AEAD_KEY_BYTES])
{
    const imc_suite *s = imc_suite_get(m->suite);
    uint8_t key[IMC_AEAD_KEY_BYTES];
    imc_status st = wrap_key(key, m, dev, sender_ctx);
    if (st == IMC_OK)
        st = imc_crypto_aead_seal(be(m->suite), s->aead, m->wraps[i], s->wrap_bytes, key,
                                  ZERO_NONCE, sizeof ZERO_NONCE, NULL, 0, ck, IMC_AEAD_KEY_BYTES);
    return st;
}

imc_status fuzz_msg_unwrap(uint8_t ck[IMC_AEAD_KEY_BYTES], const fuzz_msg *m, size_t i,
                           const imc_device_keys *dev, const uint8_t sender_ctx[IMC_SHA256_BYTES])
{
    const imc_suite *s = imc_suite_get(m->suite);
    uint8_t key[IMC_AEAD_KEY_BYTES];
    imc_status st = wrap_key(key, m, dev, sender_ctx);
    if (st == IMC_OK)
        st = imc_crypto_aead_open(be(m->suite), s->aead, ck, IMC_AEAD_KEY_BYTES, key, ZERO_NONCE,
                                  sizeof ZERO_NONCE, NULL, 0, m->wraps[i], s->wrap_bytes);
    return st;
}

/* "imcore/v2/body" || suite || SH */
static size_t body_ad(uint8_t *ad, size_t cap, const fuzz_msg *m)
{
    size_t l = sizeof "imcore/v2/body" - 1;
    if (cap < l + 2)
        return 0;
    memcpy(ad, "imcore/v2/body", l);
    ad[l] = (uint8_t)(m->suite >> 8);
    ad[l + 1] = (uint8_t)m->suite;
    size_t sh = put_sh(ad + l + 2, cap - l - 2, m);
    return sh == 0 ? 0 : l + 2 + sh;
}

imc_status fuzz_msg_seal_body(fuzz_msg *m, const uint8_t ck[IMC_AEAD_KEY_BYTES],
                              const uint8_t *plain, size_t plain_len)
{
    if (plain_len > IMC_MAX_BODY_BYTES)
        return IMC_ERR_LIMIT;
    uint8_t bk[32], commit[32], ad[32 + SH_MAX];
    m->body_ct_len = plain_len + IMC_AEAD_TAG_BYTES;
    size_t ad_len = body_ad(ad, sizeof ad, m);
    imc_status st = fuzz_content_keys(m->suite, bk, commit, ck, m->mid);
    if (st == IMC_OK && ad_len == 0)
        st = IMC_ERR_ARG;
    if (st == IMC_OK)
        st = imc_crypto_aead_seal(be(m->suite), imc_suite_get(m->suite)->aead, m->body_ct,
                                  sizeof m->body_ct, bk, ZERO_NONCE, sizeof ZERO_NONCE, ad,
                                  ad_len, plain, plain_len);
    return st;
}

imc_status fuzz_msg_open_body(uint8_t *plain, size_t cap, size_t *plain_len, const fuzz_msg *m,
                              const uint8_t ck[IMC_AEAD_KEY_BYTES])
{
    uint8_t bk[32], commit[32], ad[32 + SH_MAX];
    *plain_len = 0;
    size_t ad_len = body_ad(ad, sizeof ad, m);
    if (m->body_ct_len < IMC_AEAD_TAG_BYTES || cap < m->body_ct_len - IMC_AEAD_TAG_BYTES ||
        ad_len == 0)
        return IMC_ERR_ARG;
    imc_status st = fuzz_content_keys(m->suite, bk, commit, ck, m->mid);
    if (st == IMC_OK)
        st = imc_crypto_aead_open(be(m->suite), imc_suite_get(m->suite)->aead, plain, cap, bk,
                                  ZERO_NONCE, sizeof ZERO_NONCE, ad, ad_len, m->body_ct,
                                  m->body_ct_len);
    if (st == IMC_OK)
        *plain_len = m->body_ct_len - IMC_AEAD_TAG_BYTES;
    return st;
}

/* ---- AES-GCM under two keys ------------------------------------------------ */

/* GF(2^128) as GCM uses it (NIST SP 800-38D, 6.3): a block is a
 * big-endian 128-bit string, bit 0 the most significant. */
typedef struct gf128 {
    uint64_t hi, lo;
} gf128;

static gf128 gf_load(const uint8_t b[16])
{
    gf128 x = {0, 0};
    for (int i = 0; i < 8; i++) {
        x.hi = x.hi << 8 | b[i];
        x.lo = x.lo << 8 | b[8 + i];
    }
    return x;
}

static void gf_store(uint8_t b[16], gf128 x)
{
    for (int i = 7; i >= 0; i--, x.hi >>= 8, x.lo >>= 8) {
        b[i] = (uint8_t)x.hi;
        b[8 + i] = (uint8_t)x.lo;
    }
}

static gf128 gf_add(gf128 a, gf128 b)
{
    gf128 r = {a.hi ^ b.hi, a.lo ^ b.lo};
    return r;
}

static gf128 gf_mul(gf128 x, gf128 y)
{
    gf128 z = {0, 0}, v = y;
    for (int i = 0; i < 128; i++) {
        uint64_t bit = i < 64 ? x.hi >> (63 - i) & 1 : x.lo >> (127 - i) & 1;
        if (bit)
            z = gf_add(z, v);
        uint64_t carry = v.lo & 1;
        v.lo = v.lo >> 1 | v.hi << 63;
        v.hi >>= 1;
        if (carry)
            v.hi ^= UINT64_C(0xe1) << 56;
    }
    return z;
}

/* x^(2^128 - 2) = x^-1 (x != 0): the product of x^(2^i), i = 1..127. */
static gf128 gf_inv(gf128 x)
{
    gf128 r = {UINT64_C(1) << 63, 0}, t = x;
    for (int i = 1; i < 128; i++) {
        t = gf_mul(t, t);
        r = gf_mul(r, t);
    }
    return r;
}

/* GHASH_H over the AD and ciphertext blocks (zero-padded) and the length
 * block, as Horner's rule: each block's coefficient is a power of H. */
static gf128 ghash(gf128 h, const uint8_t *ad, size_t ad_len, const uint8_t *c, size_t c_len)
{
    gf128 s = {0, 0};
    uint8_t blk[16];
    for (size_t pass = 0; pass < 2; pass++) {
        const uint8_t *p = pass == 0 ? ad : c;
        size_t n = pass == 0 ? ad_len : c_len;
        for (size_t off = 0; off < n; off += 16) {
            memset(blk, 0, sizeof blk);
            memcpy(blk, p + off, n - off < 16 ? n - off : 16);
            s = gf_mul(gf_add(s, gf_load(blk)), h);
        }
    }
    gf128 len = {(uint64_t)ad_len * 8, (uint64_t)c_len * 8};
    return gf_mul(gf_add(s, len), h);
}

/* H = E_K(0^128) and P = E_K(J0) of a key, from two tags of the AEAD
 * itself (the public API has no block cipher): with no AD and no text the
 * tag is P; with one zero AD block it is L * H + P, L the length block. */
static imc_status gcm_secrets(gf128 *h, gf128 *p, const imc_backend *b, const uint8_t key[32])
{
    static const uint8_t zero[16];
    uint8_t t0[16], t1[16];
    imc_status st = imc_crypto_aead_seal(b, IMC_AEAD_AES256GCM, t0, sizeof t0, key, ZERO_NONCE,
                                         sizeof ZERO_NONCE, NULL, 0, NULL, 0);
    if (st == IMC_OK)
        st = imc_crypto_aead_seal(b, IMC_AEAD_AES256GCM, t1, sizeof t1, key, ZERO_NONCE,
                                  sizeof ZERO_NONCE, zero, sizeof zero, NULL, 0);
    if (st != IMC_OK)
        return st;
    gf128 len = {128, 0};
    *p = gf_load(t0);
    *h = gf_mul(gf_add(gf_load(t1), *p), gf_inv(len));
    return IMC_OK;
}

imc_status fuzz_msg_seal_body_two_keys(fuzz_msg *m, const uint8_t ck1[IMC_AEAD_KEY_BYTES],
                                       const uint8_t ck2[IMC_AEAD_KEY_BYTES],
                                       const uint8_t *plain, size_t plain_len)
{
    const imc_suite *s = imc_suite_get(m->suite);
    if (s == NULL || s->aead != IMC_AEAD_AES256GCM || plain_len < 16)
        return IMC_ERR_UNSUPPORTED;
    imc_status st = fuzz_msg_seal_body(m, ck1, plain, plain_len);
    uint8_t bk1[32], bk2[32], commit[32], ad[32 + SH_MAX];
    gf128 h1, p1, h2, p2;
    size_t ad_len = body_ad(ad, sizeof ad, m);
    if (st == IMC_OK && ad_len == 0)
        st = IMC_ERR_ARG;
    if (st == IMC_OK)
        st = fuzz_content_keys(m->suite, bk1, commit, ck1, m->mid);
    if (st == IMC_OK)
        st = fuzz_content_keys(m->suite, bk2, commit, ck2, m->mid);
    if (st == IMC_OK)
        st = gcm_secrets(&h1, &p1, be(m->suite), bk1);
    if (st == IMC_OK)
        st = gcm_secrets(&h2, &p2, be(m->suite), bk2);
    if (st != IMC_OK)
        return st;
    /* Free the first ciphertext block X and solve
     *   GHASH_H1(C) + P1 = GHASH_H2(C) + P2
     * which is linear in X: with C0 the ciphertext with X = 0 and e its
     * block's power,  X * (H1^e + H2^e) = GHASH_H1(C0) + GHASH_H2(C0) + P1 + P2. */
    size_t c_len = m->body_ct_len - IMC_AEAD_TAG_BYTES;
    uint8_t *c = m->body_ct;
    memset(c, 0, 16);
    size_t e = (c_len + 15) / 16 + 1; /* X, the blocks after it, the length block */
    gf128 h1e = {UINT64_C(1) << 63, 0}, h2e = h1e;
    for (size_t i = 0; i < e; i++) {
        h1e = gf_mul(h1e, h1);
        h2e = gf_mul(h2e, h2);
    }
    gf128 den = gf_add(h1e, h2e);
    if (den.hi == 0 && den.lo == 0)
        return IMC_ERR_CRYPTO;
    gf128 rhs = gf_add(gf_add(ghash(h1, ad, ad_len, c, c_len), ghash(h2, ad, ad_len, c, c_len)),
                       gf_add(p1, p2));
    gf_store(c, gf_mul(rhs, gf_inv(den)));
    gf_store(c + c_len, gf_add(ghash(h1, ad, ad_len, c, c_len), p1));
    imc_wipe(bk1, sizeof bk1);
    imc_wipe(bk2, sizeof bk2);
    return IMC_OK;
}

/* "imcore/v2/sig" || suite || SH || SHA-256(body ct) || SHA-256("imcore/v2/recipients" || n || ids) */
static size_t sig_input(uint8_t *out, size_t cap, const fuzz_msg *m)
{
    const imc_backend *b = be(m->suite);
    uint8_t rin[32 + 2 + FUZZ_MSG_RCPT_MAX * 8];
    imc_writer w;
    imc_wire_writer_init(&w, rin, sizeof rin);
    LABEL(&w, "imcore/v2/recipients");
    imc_wire_write_u16(&w, (uint16_t)m->n);
    for (size_t i = 0; i < m->n; i++)
        imc_wire_write_u64(&w, m->ids[i]);
    size_t rlen = 0;
    uint8_t rhash[32], bhash[32];
    if (imc_wire_writer_finish(&w, &rlen) != IMC_OK ||
        imc_crypto_sha256(b, rhash, rin, rlen) != IMC_OK ||
        imc_crypto_sha256(b, bhash, m->body_ct, m->body_ct_len) != IMC_OK)
        return 0;
    uint8_t sh[SH_MAX];
    size_t sh_len = put_sh(sh, sizeof sh, m);
    imc_wire_writer_init(&w, out, cap);
    LABEL(&w, "imcore/v2/sig");
    imc_wire_write_u16(&w, (uint16_t)m->suite);
    imc_wire_write_bytes(&w, sh, sh_len);
    imc_wire_write_bytes(&w, bhash, 32);
    imc_wire_write_bytes(&w, rhash, 32);
    size_t len = 0;
    return sh_len != 0 && imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

imc_status fuzz_msg_sign(fuzz_msg *m, const imc_device_keys *signer)
{
    uint8_t in[32 + SH_MAX + 64];
    size_t len = sig_input(in, sizeof in, m);
    if (len == 0)
        return IMC_ERR_ARG;
    return imc_suite_sign(imc_suite_get(m->suite), be(m->suite), m->sig, signer->sig_sk,
                          signer->pub.sig_pk, in, len);
}

imc_status fuzz_msg_verify(const fuzz_msg *m, const uint8_t *sig_pk)
{
    uint8_t in[32 + SH_MAX + 64];
    size_t len = sig_input(in, sizeof in, m);
    if (len == 0)
        return IMC_ERR_ARG;
    return imc_suite_verify(imc_suite_get(m->suite), be(m->suite), m->sig, sig_pk, in, len);
}

/* ---- The verdict ---------------------------------------------------------- */

/* docs/validation-policy.md, rule P1: a P-256 key is 04 || x || y with
 * x, y < p (checked here on its own, so a slip in the library's policy
 * layer is not shared by the oracle). */
static int p256_form_ok(const fuzz_msg *m)
{
    static const uint8_t P[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (imc_suite_get(m->suite)->eph_bytes != IMC_P256_PUBLIC_BYTES)
        return 1;
    return m->eph_pk[0] == 0x04 && memcmp(m->eph_pk + 1, P, 32) < 0 &&
           memcmp(m->eph_pk + 33, P, 32) < 0;
}

imc_status fuzz_msg_expect(uint8_t *plain, size_t cap, size_t *plain_len, int *stage,
                           const imc_device_keys *me, const imc_msg_peer *peer,
                           const uint8_t *delivery, size_t delivery_len)
{
    static fuzz_msg m; /* 64 KiB body: not on the stack */
    *plain_len = 0;
    *stage = 0;
    imc_status st = fuzz_msg_from_delivery(&m, delivery, delivery_len);
    if (st == IMC_ERR_LIMIT) {
        /* More recipients than the forge holds: the parse decides. */
        imc_delivery d;
        st = imc_msg_parse_delivery(&d, delivery, delivery_len);
        if (st == IMC_OK)
            return IMC_ERR_LIMIT; /* (a real message: caller skips the comparison) */
    }
    if (st != IMC_OK)
        return st;
    *stage = 1;
    if (!(m.suite == me->pub.suite && peer->device->suite == m.suite &&
          m.ids[m.index] == me->pub.device_id && m.sender_device == peer->device->device_id &&
          m.handle_len == peer->handle_len && memcmp(m.handle, peer->handle, m.handle_len) == 0))
        return IMC_ERR_AUTH;
    *stage = 2;
    if (fuzz_msg_verify(&m, peer->device->sig_pk) != IMC_OK)
        return IMC_ERR_AUTH;
    *stage = 3;
    if (!p256_form_ok(&m))
        return IMC_ERR_AUTH;
    uint8_t ctx[32], ck[32], bk[32], commit[32];
    if (fuzz_sender_ctx(ctx, m.suite, peer->handle, peer->handle_len, peer->device->device_id,
                        peer->device->sig_pk) != IMC_OK ||
        fuzz_msg_unwrap(ck, &m, m.index, me, ctx) != IMC_OK)
        return IMC_ERR_AUTH;
    *stage = 4;
    if (fuzz_content_keys(m.suite, bk, commit, ck, m.mid) != IMC_OK ||
        memcmp(commit, m.commitment, 32) != 0)
        return IMC_ERR_AUTH;
    *stage = 5;
    if (fuzz_msg_open_body(plain, cap, plain_len, &m, ck) != IMC_OK)
        return IMC_ERR_AUTH;
    *stage = 6;
    return IMC_OK;
}

/* ---- The delivery mutator -------------------------------------------------- */

typedef fuzz_prng prng;

static uint32_t next(prng *r) { return fuzz_prng_next(r); }

static void fill(prng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)next(r);
}

/* Around the harnesses' clock FUZZ_NOW and the time rule's bounds. */
static const uint64_t INTERESTING_TS[] = {0,
                                          1,
                                          FUZZ_TS_BASE,
                                          FUZZ_NOW,
                                          FUZZ_NOW + IMC_MAX_CLOCK_SKEW_MS,
                                          FUZZ_NOW + IMC_MAX_CLOCK_SKEW_MS + 1,
                                          FUZZ_NOW - IMC_MAX_MESSAGE_AGE_MS,
                                          FUZZ_NOW - IMC_MAX_MESSAGE_AGE_MS - 1,
                                          UINT64_MAX,
                                          UINT64_C(1) << 63};

enum {
    OP_TIMESTAMP,
    OP_MESSAGE_ID,
    OP_BODY,
    OP_BODY_LEN,
    OP_CONTENT_KEY,
    OP_COMMITMENT,      /* commitment not of the wrapped key */
    OP_SPLIT_KEYS,      /* wrap one key, seal the body under another */
    OP_RCPT_ADD,
    OP_RCPT_DROP,
    OP_RCPT_INDEX,
    OP_WRAP_OTHER_SENDER, /* wrap bound to another sender's context */
    OP_EPHEMERAL,
    OP_SENDER,
    OP_SUITE,
    OP_WRAP_BYTES,
    OP_COUNT
};


/* A delivery's one wrap moves with its index. */
static void move_index(fuzz_msg *m, size_t to)
{
    uint8_t wrap[FUZZ_MSG_WRAP_MAX];
    memcpy(wrap, m->wraps[m->index], sizeof wrap);
    m->index = to;
    memcpy(m->wraps[m->index], wrap, sizeof wrap);
}

static uint8_t mut_plain[IMC_MAX_BODY_BYTES];
static uint8_t mut_out[FUZZ_MSG_BODY_CT_MAX + 4096];

/* Encodes m into data (capacity max_size); 0 if it does not fit. */
static size_t emit(uint8_t *data, size_t max_size, const fuzz_msg *m)
{
    size_t out_len = 0;
    if (fuzz_msg_to_delivery(mut_out, sizeof mut_out, &out_len, m) != IMC_OK || out_len > max_size)
        return 0;
    memcpy(data, mut_out, out_len);
    return out_len;
}
static fuzz_msg mut_msg;

/* A genuine delivery for device 0: message k of the fixed sender in a suite. */
static imc_status fresh_delivery(fuzz_msg *m, prng *r)
{
    static uint8_t env[FUZZ_MSG_BODY_CT_MAX + 4096];
    const fuzz_world *w = fuzz_world_get();
    uint32_t suite = 1 + next(r) % IMC_SUITE_COUNT;
    if (!w->have_suite[suite])
        suite = 1;
    size_t len = 0;
    imc_status st = fuzz_sent_encrypt(env, sizeof env, &len, fuzz_backend_for(suite), suite,
                                      next(r) % FUZZ_SENT_MESSAGES);
    if (st != IMC_OK)
        return st;
    st = fuzz_msg_from_envelope(m, env, len);
    m->index = 0; /* the recipients are devices 0.. in id order */
    return st;
}

/* The message in data, decoded with its content key and plaintext (*have)
 * when it is for a device of the fixed world from the fixed sender; an
 * input that does not decode is replaced by a genuine delivery three times
 * in four (so byte-level damage does not take over the corpus). */
static int load(fuzz_msg *m, uint8_t ctx[32], uint8_t ck[32], size_t *plain_len, int *have,
                const uint8_t *data, size_t size, prng *r)
{
    if (fuzz_msg_from_delivery(m, data, size) != IMC_OK &&
        (next(r) % 4 == 0 || fresh_delivery(m, r) != IMC_OK))
        return 0;
    if (!fuzz_world_get()->have_suite[m->suite])
        return 0;
    const imc_device_keys *dev = fuzz_world_device(m->suite, m->ids[m->index]);
    *plain_len = 0;
    *have = dev != NULL && fuzz_sender_ctx_fixed(ctx, m->suite) == IMC_OK &&
            fuzz_msg_unwrap(ck, m, m->index, dev, ctx) == IMC_OK &&
            fuzz_msg_open_body(mut_plain, sizeof mut_plain, plain_len, m, ck) == IMC_OK;
    if (!*have) {
        if (fuzz_sender_ctx_fixed(ctx, m->suite) != IMC_OK)
            return 0;
        fill(r, ck, 32);
        *plain_len = m->body_ct_len >= 16 ? m->body_ct_len - 16 : 0;
        fill(r, mut_plain, *plain_len);
    }
    return 1;
}

size_t fuzz_mutate_delivery(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                            fuzz_bytes_mutator bytes, void *bytes_ctx)
{
    prng r = {((uint64_t)seed << 1) | 1};
    for (int i = 0; i < 3; i++)
        (void)next(&r);
    fuzz_msg *m = &mut_msg;
    uint8_t ctx[32], ck[32];
    size_t plain_len = 0;
    int have = 0;
    /* One in 16: plain byte mutation, for the parsers and the failure paths. */
    if (next(&r) % 16 == 0 || !load(m, ctx, ck, &plain_len, &have, data, size, &r))
        return bytes(data, size, max_size, bytes_ctx);
    const fuzz_world *w = fuzz_world_get();
    const imc_device_keys *dev;

    uint8_t body_ck[32];
    memcpy(body_ck, ck, 32);
    int commit_from_body = 1, reseal = 1, rewrap = 1, sign = 1;
    const uint8_t *wrap_ctx = ctx;
    uint8_t other_ctx[32];
    unsigned op = next(&r) % OP_COUNT;
    switch (op) {
    case OP_TIMESTAMP:
        if (next(&r) & 1)
            m->ts = INTERESTING_TS[next(&r) % (sizeof INTERESTING_TS / sizeof INTERESTING_TS[0])];
        else
            m->ts += (uint64_t)(int64_t)((int32_t)next(&r) >> (next(&r) % 32));
        break;
    case OP_MESSAGE_ID:
        if (next(&r) & 1)
            fill(&r, m->mid, IMC_MSG_ID_BYTES);
        else
            m->mid[next(&r) % IMC_MSG_ID_BYTES] ^= (uint8_t)(1u << (next(&r) % 8));
        break;
    case OP_BODY: {
        size_t cap = max_size > size ? max_size - size + plain_len : plain_len;
        if (cap > sizeof mut_plain)
            cap = sizeof mut_plain;
        plain_len = bytes(mut_plain, plain_len, cap, bytes_ctx);
        break;
    }
    case OP_BODY_LEN: {
        size_t n2 = next(&r) % 4 == 0 ? 0 : plain_len + (next(&r) % 33) - 16;
        if (n2 > plain_len && n2 <= sizeof mut_plain)
            fill(&r, mut_plain + plain_len, n2 - plain_len);
        if (n2 <= sizeof mut_plain)
            plain_len = n2;
        break;
    }
    case OP_CONTENT_KEY:
        fill(&r, ck, 32);
        memcpy(body_ck, ck, 32);
        break;
    case OP_COMMITMENT:
        commit_from_body = 0;
        if (next(&r) & 1)
            fill(&r, m->commitment, 32);
        else
            m->commitment[next(&r) % 32] ^= (uint8_t)(1u << (next(&r) % 8));
        break;
    case OP_SPLIT_KEYS:
        /* The device is wrapped ck; the body is sealed under body_ck; the
         * commitment is the body key's (so only a device holding body_ck
         * may accept) or the wrapped key's. */
        fill(&r, body_ck, 32);
        commit_from_body = (next(&r) & 1) != 0;
        break;
    case OP_RCPT_ADD:
        if (m->n < FUZZ_MSG_RCPT_MAX) {
            uint64_t id = (next(&r) & 1) ? FUZZ_DEVICE_BASE + next(&r) % (FUZZ_DEVICES + 1)
                                         : ((uint64_t)next(&r) << 32 | next(&r));
            size_t pos = 0;
            while (pos < m->n && m->ids[pos] < id)
                pos++;
            if (id == 0 || (pos < m->n && m->ids[pos] == id))
                break;
            memmove(&m->ids[pos + 1], &m->ids[pos], (m->n - pos) * sizeof m->ids[0]);
            m->ids[pos] = id;
            m->n++;
            move_index(m, pos <= m->index ? m->index + 1 : m->index);
        }
        break;
    case OP_RCPT_DROP:
        if (m->n > 1) {
            size_t pos = next(&r) % m->n;
            memmove(&m->ids[pos], &m->ids[pos + 1], (m->n - pos - 1) * sizeof m->ids[0]);
            m->n--;
            move_index(m, pos < m->index || m->index >= m->n ? m->index - 1 : m->index);
        }
        break;
    case OP_RCPT_INDEX: {
        /* Point the index elsewhere, or rename this device's id. */
        if (next(&r) & 1) {
            move_index(m, next(&r) % m->n);
            rewrap = (next(&r) & 1) != 0;
        } else {
            uint64_t lo = m->index > 0 ? m->ids[m->index - 1] : 0;
            uint64_t hi = m->index + 1 < m->n ? m->ids[m->index + 1] : UINT64_MAX;
            uint64_t id = m->ids[m->index] + ((next(&r) & 1) ? 1 : (uint64_t)-1);
            if (id > lo && id < hi)
                m->ids[m->index] = id;
        }
        break;
    }
    case OP_WRAP_OTHER_SENDER: {
        unsigned pick = next(&r) % 3;
        imc_status st;
        const imc_device_keys *o = &w->device[m->suite][next(&r) % FUZZ_DEVICES];
        if (pick == 0) /* another signing key */
            st = fuzz_sender_ctx(other_ctx, m->suite, (const uint8_t *)FUZZ_SENDER_HANDLE,
                                  sizeof FUZZ_SENDER_HANDLE - 1, FUZZ_SENDER_DEVICE,
                                  o->pub.sig_pk);
        else if (pick == 1) /* another handle */
            st = fuzz_sender_ctx(other_ctx, m->suite, (const uint8_t *)FUZZ_RECIPIENT_HANDLE,
                                  sizeof FUZZ_RECIPIENT_HANDLE - 1, FUZZ_SENDER_DEVICE,
                                  w->sender[m->suite].pub.sig_pk);
        else /* another device id */
            st = fuzz_sender_ctx(other_ctx, m->suite, (const uint8_t *)FUZZ_SENDER_HANDLE,
                                  sizeof FUZZ_SENDER_HANDLE - 1, FUZZ_SENDER_DEVICE + 1,
                                  w->sender[m->suite].pub.sig_pk);
        if (st != IMC_OK)
            return bytes(data, size, max_size, bytes_ctx);
        wrap_ctx = other_ctx;
        break;
    }
    case OP_EPHEMERAL: {
        const imc_suite *s = imc_suite_get(m->suite);
        unsigned k = next(&r) % 5;
        if (k == 4) {
            /* The same point in another encoding: P-256 hybrid (06/07 by
             * the parity of y), X25519 with bit 255 set. */
            if (s->eph_bytes == IMC_P256_PUBLIC_BYTES)
                m->eph_pk[0] = (uint8_t)(0x06 | (m->eph_pk[64] & 1));
            else
                m->eph_pk[31] |= 0x80;
        } else if (k == 0) {
            memset(m->eph_pk, 0, s->eph_bytes); /* a low-order / invalid point */
        } else if (k == 1) {
            m->eph_pk[next(&r) % s->eph_bytes] ^= (uint8_t)(1u << (next(&r) % 8));
        } else {
            imc_rng rng;
            uint8_t sk[IMC_DH_SECRET_MAX];
            fuzz_rng(&rng, UINT64_C(0xe9e9000000000000) | next(&r));
            if (imc_suite_dh_keygen(s, be(m->suite), &rng, m->eph_pk, sk) != IMC_OK)
                return bytes(data, size, max_size, bytes_ctx);
        }
        break;
    }
    case OP_SENDER:
        if (next(&r) & 1) {
            m->sender_device ^= (uint64_t)1 << (next(&r) % 64);
            if (m->sender_device == 0)
                m->sender_device = 1;
        } else if (next(&r) & 1) {
            m->handle_len = sizeof FUZZ_RECIPIENT_HANDLE - 1;
            memcpy(m->handle, FUZZ_RECIPIENT_HANDLE, m->handle_len);
        } else if (m->handle_len < IMC_MAX_HANDLE_BYTES) {
            /* The expected handle as a prefix of the claimed one. */
            m->handle[m->handle_len++] = (uint8_t)next(&r);
        }
        break;
    case OP_SUITE: {
        /* The same message re-made in another suite (for its device 0). */
        uint32_t s2 = 1 + next(&r) % IMC_SUITE_COUNT;
        if (!w->have_suite[s2] || s2 == m->suite)
            break;
        const imc_suite *s = imc_suite_get(s2);
        imc_rng rng;
        uint8_t sk[IMC_DH_SECRET_MAX];
        fuzz_rng(&rng, UINT64_C(0xe9e9000000000000) | next(&r));
        m->suite = s2;
        if (imc_suite_dh_keygen(s, be(s2), &rng, m->eph_pk, sk) != IMC_OK ||
            fuzz_sender_ctx_fixed(ctx, s2) != IMC_OK)
            return bytes(data, size, max_size, bytes_ctx);
        break;
    }
    case OP_WRAP_BYTES:
        rewrap = 0;
        m->wraps[m->index][next(&r) % imc_suite_get(m->suite)->wrap_bytes] ^=
            (uint8_t)(1u << (next(&r) % 8));
        break;
    default:
        break;
    }

    /* Re-make what depends on the fields, in the order the sender does. */
    uint8_t bk[32], commit[32];
    if (commit_from_body && fuzz_content_keys(m->suite, bk, commit, body_ck, m->mid) == IMC_OK)
        memcpy(m->commitment, commit, 32);
    if (op == OP_SPLIT_KEYS && !commit_from_body &&
        fuzz_content_keys(m->suite, bk, commit, ck, m->mid) == IMC_OK)
        memcpy(m->commitment, commit, 32);
    dev = fuzz_world_device(m->suite, m->ids[m->index]);
    /* A wrap that cannot be made (the policy refuses the ephemeral key)
     * keeps the old one: the delivery is then signed but unopenable. */
    if (rewrap && dev != NULL)
        (void)!fuzz_msg_wrap(m, m->index, dev, wrap_ctx, ck);
    if (reseal && fuzz_msg_seal_body(m, body_ck, mut_plain, plain_len) != IMC_OK)
        return bytes(data, size, max_size, bytes_ctx);
    /* Usually re-signed by the fixed sender; sometimes a stale signature
     * (every field change must then be refused) or another device's. */
    unsigned sg = next(&r) % 16;
    if (sg == 0)
        sign = 0;
    if (sign && fuzz_msg_sign(m, sg == 1 ? &w->device[m->suite][0] : &w->sender[m->suite]) !=
                    IMC_OK)
        return bytes(data, size, max_size, bytes_ctx);
    size_t out_len = emit(data, max_size, m);
    return out_len != 0 ? out_len : bytes(data, size, max_size, bytes_ctx);
}

size_t fuzz_crossover_delivery(const uint8_t *data1, size_t size1, const uint8_t *data2,
                               size_t size2, uint8_t *out, size_t max_out_size, unsigned seed)
{
    static fuzz_msg other;
    prng r = {((uint64_t)seed << 1) | 1};
    for (int i = 0; i < 3; i++)
        (void)next(&r);
    fuzz_msg *m = &mut_msg;
    uint8_t ctx[32], ck[32], ctx2[32], ck2[32];
    size_t plain_len = 0, n1 = size1 < max_out_size ? size1 : max_out_size;
    int have = 0, have2 = 0;
    /* data2 first: load() leaves its plaintext in mut_plain, kept aside. */
    static uint8_t plain2[IMC_MAX_BODY_BYTES];
    size_t plain2_len = 0;
    if (!load(&other, ctx2, ck2, &plain2_len, &have2, data2, size2, &r))
        goto copy;
    memcpy(plain2, mut_plain, plain2_len);
    if (!load(m, ctx, ck, &plain_len, &have, data1, size1, &r))
        goto copy;
    /* One part of the second message into the first, then re-made honestly. */
    switch (next(&r) % 4) {
    case 0: /* the body: a splice of the two plaintexts */ {
        size_t cut1 = plain_len ? next(&r) % (plain_len + 1) : 0;
        size_t cut2 = plain2_len ? next(&r) % (plain2_len + 1) : 0;
        size_t tail = plain2_len - cut2;
        if (cut1 + tail > sizeof mut_plain)
            tail = sizeof mut_plain - cut1;
        memcpy(mut_plain + cut1, plain2 + cut2, tail);
        plain_len = cut1 + tail;
        break;
    }
    case 1: /* the timestamp and message id (a replay across messages) */
        m->ts = other.ts;
        memcpy(m->mid, other.mid, IMC_MSG_ID_BYTES);
        break;
    case 2: /* the recipient set, keeping this device in it */ {
        if (other.suite != m->suite)
            break;
        uint64_t me = m->ids[m->index];
        size_t pos = 0;
        while (pos < other.n && other.ids[pos] < me)
            pos++;
        if (pos < other.n && other.ids[pos] == me) {
            memcpy(m->ids, other.ids, other.n * sizeof other.ids[0]);
            m->n = other.n;
            move_index(m, pos);
        }
        break;
    }
    default: /* the content key */
        memcpy(ck, ck2, 32);
        break;
    }
    (void)have;
    (void)have2;
    const imc_device_keys *dev = fuzz_world_device(m->suite, m->ids[m->index]);
    uint8_t bk[32];
    if (fuzz_content_keys(m->suite, bk, m->commitment, ck, m->mid) != IMC_OK ||
        (dev != NULL && fuzz_msg_wrap(m, m->index, dev, ctx, ck) != IMC_OK) ||
        fuzz_msg_seal_body(m, ck, mut_plain, plain_len) != IMC_OK ||
        fuzz_msg_sign(m, &fuzz_world_get()->sender[m->suite]) != IMC_OK)
        goto copy;
    size_t len = emit(out, max_out_size, m);
    if (len != 0)
        return len;
copy:
    memcpy(out, data1, n1);
    return n1;
}
