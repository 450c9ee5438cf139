/* Shared set-up for the message tests (test_msg_attacks, test_msg_scale,
 * test_interop).
 *
 *   fx_party   a sender and n recipient devices of one suite, generated
 *              from a deterministic RNG (so the same seed gives the same
 *              keys on every backend);
 *   fx_msg     one envelope to them and its deliveries, each delivery in its
 *              own exact-size heap buffer so that ASan sees any over-read;
 *   fx_open    imc_msg_decrypt on device i with the party's sender as peer.
 *
 * And an independent reading of docs/wire-format.md built only on
 * imcore/crypto.h and imcore/suite.h (no msg or wire code): a layout
 * calculator, a re-signer, and a by-hand encryptor (which can also play a
 * malicious sender) and decryptor. They check the implementation against
 * the document and build deliveries the API cannot.
 *
 * Everything is static inline so that a test using part of it stays free
 * of unused-function warnings. Tests may allocate; the library may not. */
#ifndef IMCORE_MSG_FIXTURE_H
#define IMCORE_MSG_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imcore/crypto.h"
#include "imcore/keys.h"
#include "imcore/msg.h"
#include "imcore/suite.h"
#include "imcore/util.h"
#include "test.h"

#define FX_MAXB 16
#define FX_SENDER_ID 0x5E4D0000000000A1ull
#define FX_TS 1700000000123ull
/* The receiving devices' clock: a day after FX_TS, so every test timestamp
 * is within the accepted window (docs/replay.md). */
#define FX_NOW (FX_TS + 86400000ull)

/* Device ids with every byte position in use, strictly increasing in i. */
static inline uint64_t fx_device_id(size_t i)
{
    return 0xDE00000000000000ull + 0x0001000100010001ull * (uint64_t)(i + 1);
}

/* Zeroed heap memory, never NULL. Not inlined: the callers' sizes are data
 * dependent, and GCC's -O2 object-size analysis would otherwise assume the
 * 1-byte allocation for an empty buffer everywhere (-Wstringop-overflow). */
#if defined(__GNUC__) || defined(__clang__)
#define FX_NOINLINE __attribute__((noinline, unused)) static
#else
#define FX_NOINLINE static inline
#endif
FX_NOINLINE void *fx_alloc(size_t len)
{
    void *p = calloc(len != 0 ? len : 1, 1);
    if (p == NULL) {
        fprintf(stderr, "msg_fixture: out of memory\n");
        abort();
    }
    return p;
}

/* An exact-size heap copy (ASan flags any read past len). */
static inline uint8_t *fx_dup(const uint8_t *src, size_t len)
{
    uint8_t *p = fx_alloc(len);
    if (len != 0)
        memcpy(p, src, len);
    return p;
}

/* A new buffer: src with n_del bytes at off replaced by ins[0..n_ins). */
static inline uint8_t *fx_splice(size_t *out_len, const uint8_t *src, size_t len, size_t off,
                                 size_t n_del, const uint8_t *ins, size_t n_ins)
{
    *out_len = len - n_del + n_ins;
    uint8_t *p = fx_alloc(*out_len);
    memcpy(p, src, off);
    if (n_ins != 0)
        memcpy(p + off, ins, n_ins);
    memcpy(p + off + n_ins, src + off + n_del, len - off - n_del);
    return p;
}

static inline bool fx_all(const void *p, size_t n, uint8_t v)
{
    const uint8_t *q = p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != v)
            return false;
    return true;
}

/* "Nothing left": every byte is either the fill byte or zero. */
static inline bool fx_clean(const uint8_t *p, size_t n, uint8_t fill)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0 && p[i] != fill)
            return false;
    return true;
}

static inline void fx_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void fx_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline void fx_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint16_t fx_get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static inline uint32_t fx_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t fx_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The backends built in and supporting suite s. */
static inline size_t fx_backends_for(const imc_backend *out[FX_MAXB], const imc_suite *s)
{
    const imc_backend *all[FX_MAXB];
    size_t n = imc_test_backends(all, FX_MAXB), k = 0;
    for (size_t i = 0; i < n; i++)
        if (imc_suite_supported(s, all[i]))
            out[k++] = all[i];
    return k;
}

/* ---- Parties: a sender and n devices ----------------------------------- */

typedef struct fx_party {
    const imc_suite *suite;
    imc_device_keys sender;
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    size_t handle_len;
    size_t n;
    imc_device_keys *dev;   /* n devices, ids fx_device_id(0..n-1) */
    imc_device_public *pub; /* their public halves, same order */
} fx_party;

/* Keys from imc_rng_init_deterministic(seed, stream): the sender first,
 * then devices 0..n-1. */
static inline imc_status fx_party_init(fx_party *p, const imc_backend *b, uint32_t suite,
                                       size_t n, const char *handle,
                                       const uint8_t seed[IMC_RNG_SEED_BYTES], uint64_t stream)
{
    memset(p, 0, sizeof *p);
    p->suite = imc_suite_get(suite);
    p->handle_len = strlen(handle);
    if (p->suite == NULL || p->handle_len > sizeof p->handle)
        return IMC_ERR_ARG;
    memcpy(p->handle, handle, p->handle_len);
    p->n = n;
    p->dev = fx_alloc(n * sizeof *p->dev);
    p->pub = fx_alloc(n * sizeof *p->pub);
    imc_rng rng;
    imc_rng_init_deterministic(&rng, seed, stream);
    imc_status st = imc_keys_generate(&p->sender, b, &rng, suite, FX_SENDER_ID);
    for (size_t i = 0; i < n && st == IMC_OK; i++) {
        st = imc_keys_generate(&p->dev[i], b, &rng, suite, fx_device_id(i));
        p->pub[i] = p->dev[i].pub;
    }
    imc_rng_wipe(&rng);
    return st;
}

static inline void fx_party_free(fx_party *p)
{
    if (p->dev != NULL)
        for (size_t i = 0; i < p->n; i++)
            imc_keys_wipe(&p->dev[i]);
    imc_keys_wipe(&p->sender);
    free(p->dev);
    free(p->pub);
    memset(p, 0, sizeof *p);
}

static inline imc_msg_peer fx_peer(const fx_party *p)
{
    imc_msg_peer peer = {p->handle, p->handle_len, &p->sender.pub};
    return peer;
}

/* The index of the device with this id, or p->n. */
static inline size_t fx_find_device(const fx_party *p, uint64_t id)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->dev[i].pub.device_id == id)
            return i;
    return p->n;
}

/* True if the two key sets are the same keys (field by field: no padding). */
static inline bool fx_keys_equal(const imc_device_keys *a, const imc_device_keys *b)
{
    return a->pub.suite == b->pub.suite && a->pub.device_id == b->pub.device_id &&
           memcmp(a->pub.dh_pk, b->pub.dh_pk, sizeof a->pub.dh_pk) == 0 &&
           memcmp(a->pub.sig_pk, b->pub.sig_pk, sizeof a->pub.sig_pk) == 0 &&
           memcmp(a->dh_sk, b->dh_sk, sizeof a->dh_sk) == 0 &&
           memcmp(a->sig_sk, b->sig_sk, sizeof a->sig_sk) == 0;
}

/* ---- Messages: an envelope and its deliveries --------------------------- */

typedef struct fx_msg {
    uint8_t *env;
    size_t env_len;
    size_t n;          /* deliveries, in envelope (device id) order */
    uint8_t **del;     /* exact-size copies */
    size_t *del_len;
    uint64_t *del_dev; /* the device id of each */
} fx_msg;

static inline void fx_msg_free(fx_msg *m)
{
    for (size_t i = 0; m->del != NULL && i < m->n; i++)
        free(m->del[i]);
    free(m->del);
    free(m->del_len);
    free(m->del_dev);
    free(m->env);
    memset(m, 0, sizeof *m);
}

/* Encrypts to rcpt[0..count) into an exact-size buffer (the size
 * imc_msg_envelope_size promises). */
static inline imc_status fx_encrypt_to(fx_msg *m, const fx_party *p, const imc_backend *b,
                                       imc_rng *rng, const imc_device_public *rcpt,
                                       size_t count, uint64_t ts, const uint8_t *body,
                                       size_t body_len)
{
    memset(m, 0, sizeof *m);
    size_t cap = imc_msg_envelope_size(p->suite->id, p->handle_len, count, body_len);
    if (cap == 0)
        return IMC_ERR_LIMIT;
    m->env = fx_alloc(cap);
    imc_msg_send req = {p->handle, p->handle_len, &p->sender, rcpt, count, ts, body, body_len};
    imc_status st = imc_msg_encrypt(m->env, cap, &m->env_len, b, rng, &req);
    if (st == IMC_OK && m->env_len != cap) {
        fprintf(stderr, "msg_fixture: envelope is %zu bytes, imc_msg_envelope_size said %zu\n",
                m->env_len, cap);
        st = IMC_ERR_CRYPTO;
    }
    return st;
}

/* Splits m->env with imc_msg_fanout and copies each view out. */
static inline imc_status fx_fanout(fx_msg *m)
{
    imc_envelope env;
    imc_status st = imc_msg_parse_envelope(&env, m->env, m->env_len);
    if (st != IMC_OK)
        return st;
    size_t count = env.rcpt.count;
    imc_delivery_view *views = fx_alloc(count * sizeof *views);
    st = imc_msg_fanout(views, count, &m->n, m->env, m->env_len);
    if (st == IMC_OK && m->n != count)
        st = IMC_ERR_CRYPTO;
    if (st == IMC_OK) {
        m->del = fx_alloc(count * sizeof *m->del);
        m->del_len = fx_alloc(count * sizeof *m->del_len);
        m->del_dev = fx_alloc(count * sizeof *m->del_dev);
    } else {
        m->n = 0;
    }
    for (size_t i = 0; i < m->n && st == IMC_OK; i++) {
        size_t sz = imc_delivery_view_size(&views[i]);
        m->del[i] = fx_alloc(sz);
        m->del_dev[i] = views[i].device_id;
        st = imc_delivery_view_copy(m->del[i], sz, &m->del_len[i], &views[i]);
        if (st == IMC_OK && m->del_len[i] != sz)
            st = IMC_ERR_CRYPTO;
    }
    free(views);
    return st;
}

/* Encrypt to all of p's devices, then fan out. */
static inline imc_status fx_send(fx_msg *m, const fx_party *p, const imc_backend *b,
                                 imc_rng *rng, uint64_t ts, const uint8_t *body,
                                 size_t body_len)
{
    imc_status st = fx_encrypt_to(m, p, b, rng, p->pub, p->n, ts, body, body_len);
    return st == IMC_OK ? fx_fanout(m) : st;
}

/* A memory-only replay state with the default limits; aborts on failure. */
static inline imc_replay *fx_replay(const imc_backend *b)
{
    imc_replay *r = NULL;
    if (imc_replay_open(&r, NULL, NULL, b, NULL) != IMC_OK) {
        fprintf(stderr, "msg_fixture: cannot open a replay state\n");
        abort();
    }
    return r;
}

/* imc_msg_decrypt on p's device i, with p's sender as the expected peer. */
static inline imc_status fx_open(uint8_t *out, size_t out_cap, imc_msg_received *info,
                                 const imc_backend *b, const fx_party *p, size_t i,
                                 imc_replay *rc, const uint8_t *d, size_t len)
{
    imc_msg_peer peer = fx_peer(p);
    return imc_msg_decrypt(out, out_cap, info, b, &p->dev[i], &peer, rc, FX_NOW, d, len);
}

/* True if info describes a message from p's sender with this timestamp and
 * body length (message id: if mid is not NULL). */
static inline bool fx_info_ok(const imc_msg_received *info, const fx_party *p, uint64_t ts,
                              size_t body_len, const uint8_t *mid)
{
    return info->suite == p->suite->id && info->sender_handle_len == p->handle_len &&
           memcmp(info->sender_handle, p->handle, p->handle_len) == 0 &&
           info->sender_device == p->sender.pub.device_id && info->timestamp_ms == ts &&
           info->body_len == body_len &&
           (mid == NULL || memcmp(info->message_id, mid, IMC_MSG_ID_BYTES) == 0);
}

/* ---- docs/wire-format.md, read independently ---------------------------- */

/* Offsets of every field of a delivery or an envelope, from its bytes. */
typedef struct fx_layout {
    uint8_t kind;
    uint32_t suite;
    size_t E, W, S; /* ephemeral key, wrap and signature sizes */
    size_t h, c;    /* handle length, body ciphertext length */
    size_t count;   /* recipients in the signed set */
    size_t handle, dev, mid, ts, epk, commit, blen, body;
    size_t tail;    /* the recipient count; the ids follow at tail + 2 */
    size_t ids;
    size_t index;   /* delivery: its index (2 bytes); envelope: 0 */
    size_t wraps;   /* first wrap (a delivery has one) */
    size_t sig, len;
} fx_layout;

/* Reads the layout the document gives these bytes. False if the suite is
 * unknown or the bytes are shorter than the lengths they declare; checks
 * nothing else (that is the parser's job). */
static inline bool fx_layout_read(fx_layout *L, const uint8_t *d, size_t len)
{
    memset(L, 0, sizeof *L);
    if (len < 5)
        return false;
    L->kind = d[1];
    L->suite = fx_get16(d + 2);
    const imc_suite *s = imc_suite_get(L->suite);
    if (s == NULL)
        return false;
    L->E = s->eph_bytes;
    L->W = s->wrap_bytes;
    L->S = s->sig_bytes;
    L->h = d[4];
    L->handle = 5;
    L->dev = L->handle + L->h;
    L->mid = L->dev + 8;
    L->ts = L->mid + IMC_MSG_ID_BYTES;
    L->epk = L->ts + 8;
    L->commit = L->epk + L->E;
    L->blen = L->commit + IMC_MSG_COMMIT_BYTES;
    L->body = L->blen + 4;
    if (len < L->body)
        return false;
    L->c = fx_get32(d + L->blen);
    if (len - L->body < L->c)
        return false;
    L->tail = L->body + L->c;
    if (len - L->tail < 2)
        return false;
    L->count = fx_get16(d + L->tail);
    L->ids = L->tail + 2;
    if (L->kind == IMC_MSG_KIND_ENVELOPE) {
        L->wraps = L->ids + 8 * L->count;
        L->sig = L->wraps + L->count * L->W;
    } else {
        L->index = L->ids + 8 * L->count;
        L->wraps = L->index + 2;
        L->sig = L->wraps + L->W;
    }
    L->len = L->sig + L->S;
    return L->len <= len;
}

#define FX_LABEL(x) ((const uint8_t *)(x)), (sizeof(x) - 1)
#define FX_SH_MAX (1 + IMC_MAX_HANDLE_BYTES + 8 + 16 + 8 + IMC_DH_PUBLIC_MAX + 32 + 4)
#define FX_SCRATCH (64 + 2 * IMC_DH_PUBLIC_MAX + FX_SH_MAX + 2 * IMC_SHA256_BYTES)

typedef struct fx_buf {
    uint8_t b[FX_SCRATCH];
    size_t n;
} fx_buf;

static inline void fx_cat(fx_buf *x, const uint8_t *p, size_t n)
{
    if (x->n + n > sizeof x->b) {
        fprintf(stderr, "msg_fixture: scratch overflow\n");
        abort();
    }
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

static inline void fx_cat16(fx_buf *x, uint32_t v)
{
    uint8_t t[2];
    fx_put16(t, (uint16_t)v);
    fx_cat(x, t, 2);
}

static inline void fx_cat64(fx_buf *x, uint64_t v)
{
    uint8_t t[8];
    fx_put64(t, v);
    fx_cat(x, t, 8);
}

/* SHA-256("imcore/v2/recipients" || n (2) || ids), the ids as on the wire. */
static inline imc_status fx_recipients_hash(const imc_backend *b, uint8_t out[32],
                                            const uint8_t *ids, size_t n)
{
    size_t len = 20 + 2 + 8 * n;
    uint8_t *in = fx_alloc(len);
    memcpy(in, "imcore/v2/recipients", 20);
    fx_put16(in + 20, (uint16_t)n);
    if (n != 0)
        memcpy(in + 22, ids, 8 * n);
    imc_status st = imc_crypto_sha256(b, out, in, len);
    free(in);
    return st;
}

/* "imcore/v2/sig" || suite (2) || SH || SHA-256(body ciphertext) ||
 * recipient-set hash. */
static inline imc_status fx_sig_input(fx_buf *x, const imc_backend *b, uint32_t suite,
                                      const uint8_t *sh, size_t sh_len, const uint8_t *body,
                                      size_t c, const uint8_t *ids, size_t n)
{
    uint8_t hash[IMC_SHA256_BYTES], rhash[IMC_SHA256_BYTES];
    x->n = 0;
    fx_cat(x, FX_LABEL("imcore/v2/sig"));
    fx_cat16(x, suite);
    fx_cat(x, sh, sh_len);
    imc_status st = imc_crypto_sha256(b, hash, body, c);
    if (st == IMC_OK)
        st = fx_recipients_hash(b, rhash, ids, n);
    fx_cat(x, hash, sizeof hash);
    fx_cat(x, rhash, sizeof rhash);
    return st;
}

/* Signs d (delivery or envelope) again, in place, with signer's key under
 * the suite the bytes name: what a sender holding the key could send. */
static inline imc_status fx_resign(const imc_backend *b, const imc_device_keys *signer,
                                   uint8_t *d, size_t len)
{
    fx_layout L;
    if (!fx_layout_read(&L, d, len))
        return IMC_ERR_MALFORMED;
    fx_buf x;
    imc_status st = fx_sig_input(&x, b, L.suite, d + 4, L.body - 4, d + L.body, L.c, d + L.ids,
                                 L.count);
    if (st == IMC_OK)
        st = imc_suite_sign(imc_suite_get(L.suite), b, d + L.sig, signer->sig_sk,
                            signer->pub.sig_pk, x.b, x.n);
    return st;
}

/* okm = HKDF(ikm = ck, info = "imcore/v2/content" || mid, 64). */
static inline imc_status fx_content_keys(const imc_backend *b, uint8_t okm[64],
                                         const uint8_t ck[32], const uint8_t *mid)
{
    fx_buf x = {.n = 0};
    fx_cat(&x, FX_LABEL("imcore/v2/content"));
    fx_cat(&x, mid, IMC_MSG_ID_BYTES);
    return imc_crypto_hkdf_sha256(b, okm, 64, NULL, 0, ck, 32, x.b, x.n);
}

/* SHA-256("imcore/v2/sender" || suite || h || handle || device id || sig pk). */
static inline imc_status fx_sender_ctx(const imc_backend *b, uint8_t out[32], const imc_suite *s,
                                       const uint8_t *handle, size_t h, uint64_t dev,
                                       const uint8_t *sig_pk)
{
    fx_buf x = {.n = 0};
    uint8_t hb = (uint8_t)h;
    fx_cat(&x, FX_LABEL("imcore/v2/sender"));
    fx_cat16(&x, s->id);
    fx_cat(&x, &hb, 1);
    fx_cat(&x, handle, h);
    fx_cat64(&x, dev);
    fx_cat(&x, sig_pk, s->sig_public_bytes);
    return imc_crypto_sha256(b, out, x.b, x.n);
}

/* wrap_key = HKDF(z, "imcore/v2/wrap" || suite || epk || pk || id || mid ||
 * sender context, 32). */
static inline imc_status fx_wrap_key(const imc_backend *b, const imc_suite *s, uint8_t key[32],
                                     const uint8_t *z, const uint8_t *epk, const uint8_t *pk,
                                     uint64_t id, const uint8_t *mid, const uint8_t sctx[32])
{
    fx_buf x = {.n = 0};
    fx_cat(&x, FX_LABEL("imcore/v2/wrap"));
    fx_cat16(&x, s->id);
    fx_cat(&x, epk, s->eph_bytes);
    fx_cat(&x, pk, s->dh_public_bytes);
    fx_cat64(&x, id);
    fx_cat(&x, mid, IMC_MSG_ID_BYTES);
    fx_cat(&x, sctx, 32);
    return imc_crypto_hkdf_sha256(b, key, 32, NULL, 0, z, s->dh_shared_bytes, x.b, x.n);
}

static const uint8_t fx_zero_nonce[IMC_AEAD_NONCE_BYTES];

/* What a malicious (or merely buggy) sender may do differently. */
typedef struct fx_evil {
    const uint8_t *epk;        /* header carries this ephemeral key instead */
    const uint8_t *commitment; /* header carries this commitment instead */
    size_t other_ck_for;       /* this recipient's wrap holds another content key */
    bool bad_wrap_id;          /* wrap keys derived with the next device's id */
    bool bad_sender_ctx;       /* wrap keys bound to another sender device id */
    /* Called with the sealed body ciphertext (c bytes, in place), its AD,
     * the body key and the other content key's body key: may rewrite the
     * ciphertext before it is signed. */
    imc_status (*forge_body)(uint8_t *body_ct, size_t c, const uint8_t *ad, size_t ad_len,
                             const uint8_t key[32], const uint8_t other_key[32],
                             const imc_backend *b);
} fx_evil;

static const fx_evil fx_honest = {NULL, NULL, (size_t)-1, false, false, NULL};

/* The sender side of docs/wire-format.md "Cryptography", by hand: draws
 * mid, ck, then the ephemeral key pair from rng; rcpt must be in increasing
 * id order. */
static inline imc_status fx_spec_encrypt(uint8_t *out, size_t cap, size_t *out_len,
                                         const imc_backend *b, imc_rng *rng, const fx_party *p,
                                         const imc_device_public *rcpt, size_t n, uint64_t ts,
                                         const uint8_t *body, size_t body_len,
                                         const fx_evil *evil)
{
    const imc_suite *s = p->suite;
    uint8_t mid[IMC_MSG_ID_BYTES], ck[32], ck2[32], okm[64], okm2[64], esk[IMC_DH_SECRET_MAX];
    uint8_t epk[IMC_DH_PUBLIC_MAX], z[IMC_DH_SHARED_MAX], key[32], sctx[32];
    size_t E = s->eph_bytes, W = s->wrap_bytes, c = body_len + IMC_AEAD_TAG_BYTES;
    size_t sh_len = 1 + p->handle_len + 8 + 16 + 8 + E + 32 + 4;
    size_t total = 4 + sh_len + c + 2 + n * (8 + W) + s->sig_bytes;
    if (total > cap)
        return IMC_ERR_NO_SPACE;
    imc_status st = imc_rng_fill(rng, b, mid, sizeof mid);
    if (st == IMC_OK)
        st = imc_rng_fill(rng, b, ck, sizeof ck);
    if (st == IMC_OK)
        st = imc_suite_dh_keygen(s, b, rng, epk, esk);
    if (st == IMC_OK)
        st = imc_rng_fill(rng, b, ck2, sizeof ck2);
    if (st == IMC_OK)
        st = fx_content_keys(b, okm, ck, mid);
    if (st == IMC_OK)
        st = fx_content_keys(b, okm2, ck2, mid);
    if (st == IMC_OK)
        st = fx_sender_ctx(b, sctx, s, p->handle, p->handle_len,
                           p->sender.pub.device_id + (evil->bad_sender_ctx ? 1 : 0),
                           p->sender.pub.sig_pk);
    if (st != IMC_OK)
        return st;
    const uint8_t *hdr_epk = evil->epk != NULL ? evil->epk : epk;
    uint8_t *w = out;
    *w++ = IMC_MSG_VERSION;
    *w++ = IMC_MSG_KIND_ENVELOPE;
    fx_put16(w, (uint16_t)s->id);
    w += 2;
    uint8_t *sh = w;
    *w++ = (uint8_t)p->handle_len;
    memcpy(w, p->handle, p->handle_len);
    w += p->handle_len;
    fx_put64(w, p->sender.pub.device_id);
    w += 8;
    memcpy(w, mid, 16);
    w += 16;
    fx_put64(w, ts);
    w += 8;
    memcpy(w, hdr_epk, E);
    w += E;
    memcpy(w, evil->commitment != NULL ? evil->commitment : okm + 32, 32);
    w += 32;
    fx_put32(w, (uint32_t)c);
    w += 4;
    fx_buf ad = {.n = 0};
    fx_cat(&ad, FX_LABEL("imcore/v2/body"));
    fx_cat16(&ad, s->id);
    fx_cat(&ad, sh, sh_len);
    uint8_t *body_ct = w;
    st = imc_crypto_aead_seal(b, s->aead, body_ct, c, okm, fx_zero_nonce, sizeof fx_zero_nonce,
                              ad.b, ad.n, body, body_len);
    if (st == IMC_OK && evil->forge_body != NULL)
        st = evil->forge_body(body_ct, c, ad.b, ad.n, okm, okm2, b);
    w += c;
    fx_put16(w, (uint16_t)n);
    w += 2;
    uint8_t *ids = w;
    for (size_t i = 0; i < n; i++, w += 8)
        fx_put64(w, rcpt[i].device_id);
    for (size_t i = 0; i < n && st == IMC_OK; i++) {
        uint64_t kdf_id = rcpt[i].device_id + (evil->bad_wrap_id ? 1 : 0);
        st = imc_suite_dh(s, b, z, esk, rcpt[i].dh_pk);
        if (st == IMC_OK)
            st = fx_wrap_key(b, s, key, z, hdr_epk, rcpt[i].dh_pk, kdf_id, mid, sctx);
        if (st == IMC_OK)
            st = imc_crypto_aead_seal(b, s->aead, w, W, key, fx_zero_nonce,
                                      sizeof fx_zero_nonce, NULL, 0,
                                      i == evil->other_ck_for ? ck2 : ck, 32);
        w += W;
    }
    fx_buf sig;
    if (st == IMC_OK)
        st = fx_sig_input(&sig, b, s->id, sh, sh_len, body_ct, c, ids, n);
    if (st == IMC_OK)
        st = imc_suite_sign(s, b, w, p->sender.sig_sk, p->sender.pub.sig_pk, sig.b, sig.n);
    w += s->sig_bytes;
    *out_len = st == IMC_OK ? (size_t)(w - out) : 0;
    if (st != IMC_OK)
        imc_wipe(out, cap);
    imc_wipe(ck, sizeof ck);
    imc_wipe(ck2, sizeof ck2);
    imc_wipe(okm, sizeof okm);
    imc_wipe(okm2, sizeof okm2);
    imc_wipe(esk, sizeof esk);
    imc_wipe(z, sizeof z);
    imc_wipe(key, sizeof key);
    return st;
}

/* The recipient side of docs/wire-format.md by hand, on one delivery:
 * IMC_OK and the body, or IMC_ERR_MALFORMED / IMC_ERR_AUTH. No replay. */
static inline imc_status fx_spec_decrypt(uint8_t *out, size_t cap, size_t *out_len,
                                         const imc_backend *b, const imc_device_keys *me,
                                         const fx_party *p, const uint8_t *d, size_t len)
{
    fx_layout L;
    if (!fx_layout_read(&L, d, len) || L.len != len || d[0] != IMC_MSG_VERSION ||
        L.kind != IMC_MSG_KIND_DELIVERY || L.h == 0 || L.c < IMC_AEAD_TAG_BYTES ||
        L.count == 0)
        return IMC_ERR_MALFORMED;
    size_t idx = fx_get16(d + L.index);
    if (idx >= L.count)
        return IMC_ERR_MALFORMED;
    const imc_suite *s = imc_suite_get(L.suite);
    if (L.c - IMC_AEAD_TAG_BYTES > cap || s != p->suite || me->pub.suite != s->id ||
        L.h != p->handle_len || memcmp(d + L.handle, p->handle, L.h) != 0 ||
        fx_get64(d + L.dev) != p->sender.pub.device_id ||
        fx_get64(d + L.ids + 8 * idx) != me->pub.device_id)
        return IMC_ERR_AUTH;
    fx_buf x;
    uint8_t z[IMC_DH_SHARED_MAX], key[32], ck[32], okm[64], sctx[32];
    imc_status st =
        fx_sig_input(&x, b, s->id, d + 4, L.body - 4, d + L.body, L.c, d + L.ids, L.count);
    if (st == IMC_OK)
        st = imc_suite_verify(s, b, d + L.sig, p->sender.pub.sig_pk, x.b, x.n);
    if (st == IMC_OK)
        st = fx_sender_ctx(b, sctx, s, p->handle, p->handle_len, p->sender.pub.device_id,
                           p->sender.pub.sig_pk);
    if (st == IMC_OK)
        st = imc_suite_dh(s, b, z, me->dh_sk, d + L.epk);
    if (st == IMC_OK)
        st = fx_wrap_key(b, s, key, z, d + L.epk, me->pub.dh_pk, me->pub.device_id, d + L.mid,
                         sctx);
    if (st == IMC_OK)
        st = imc_crypto_aead_open(b, s->aead, ck, sizeof ck, key, fx_zero_nonce,
                                  sizeof fx_zero_nonce, NULL, 0, d + L.wraps, L.W);
    if (st == IMC_OK)
        st = fx_content_keys(b, okm, ck, d + L.mid);
    if (st == IMC_OK && !imc_ct_equal(okm + 32, d + L.commit, 32))
        st = IMC_ERR_AUTH;
    if (st == IMC_OK) {
        x.n = 0;
        fx_cat(&x, FX_LABEL("imcore/v2/body"));
        fx_cat16(&x, s->id);
        fx_cat(&x, d + 4, L.body - 4);
        st = imc_crypto_aead_open(b, s->aead, out, cap, okm, fx_zero_nonce,
                                  sizeof fx_zero_nonce, x.b, x.n, d + L.body, L.c);
    }
    *out_len = st == IMC_OK ? L.c - IMC_AEAD_TAG_BYTES : 0;
    imc_wipe(z, sizeof z);
    imc_wipe(key, sizeof key);
    imc_wipe(ck, sizeof ck);
    imc_wipe(okm, sizeof okm);
    return st == IMC_OK ? IMC_OK : IMC_ERR_AUTH;
}

#endif
