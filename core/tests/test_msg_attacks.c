/* Attacks on the message path, for every suite on every backend that
 * supports it, with the deterministic RNG.
 *
 * A sender encrypts a 16-byte body to 3 devices; the envelope is fanned
 * out and the deliveries are attacked: every single-bit flip (as is, and
 * re-signed with the sender's key, so that the checks behind the signature
 * are tested on their own), truncation at every length, extension, wrap and
 * entry swaps between devices and messages, a foreign signature, each
 * header field changed, suite downgrade 1 <-> 3, the wrong device, the
 * wrong expected sender, malicious senders built by hand from the spec
 * (different content keys per device, with an AES-GCM body that opens under
 * both; a signed commitment that does not match; a low-order ephemeral
 * key; wrap keys for the wrong id), replays. Every rejection must be
 * IMC_ERR_AUTH (IMC_ERR_MALFORMED / IMC_ERR_LIMIT where the bytes no longer
 * parse; the expectation is per field) with the output buffer and *info all
 * zero; no rejected attempt may burn the message id in the replay state.
 * Then the strict envelope parser, encrypt's argument checks, a low-order
 * recipient key, and the replay state beyond its window. */
#include "msg_fixture.h"

#define ST(x) (1u << (unsigned)(x))
#define R_AUTH ST(IMC_ERR_AUTH)
#define R_MAL ST(IMC_ERR_MALFORMED)
#define R_PARSE (ST(IMC_ERR_MALFORMED) | ST(IMC_ERR_LIMIT))
#define R_ANY (R_AUTH | R_PARSE)
#define R_REPLAY ST(IMC_ERR_REPLAY)
#define R_EXPIRED ST(IMC_ERR_EXPIRED)
#define OUT_CAP 64
#define BODY_LEN 16
#define NDEV 3

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = "imcore test_msg_attacks seed 01";
static const uint8_t BODY[BODY_LEN] = "attack at dawn!";
static const uint8_t BODY2[BODY_LEN] = "retreat at noon";

typedef struct ctx {
    const imc_backend *b;
    const imc_suite *s;
    fx_party p;
    fx_msg m, m2; /* two messages from the same sender to the same devices */
    fx_layout L;  /* of m's delivery to device 0 */
    char tag[80];
} ctx;

static unsigned long n_decrypts, n_reported;

static bool in_mask(imc_status st, unsigned mask)
{
    return (unsigned)st < 32 && (mask & ST(st)) != 0;
}

/* Decrypts an exact-size copy of d on device `dev` (or as `me`), expecting
 * a status in `allowed` and everything wiped; prints the case if not. */
static bool rejected_as(const ctx *c, const imc_device_keys *me, const imc_msg_peer *peer,
                        imc_replay *rc, const uint8_t *d, size_t len, unsigned allowed,
                        const char *what, long idx)
{
    uint8_t *copy = fx_dup(d, len);
    uint8_t out[OUT_CAP];
    imc_msg_received info;
    memset(out, 0xAA, sizeof out);
    memset(&info, 0xAA, sizeof info);
    imc_msg_peer def = fx_peer(&c->p);
    imc_status st = imc_msg_decrypt(out, sizeof out, &info, c->b, me, peer ? peer : &def, rc,
                                    FX_NOW, copy, len);
    n_decrypts++;
    bool out_ok = fx_all(out, sizeof out, 0), info_ok = fx_all(&info, sizeof info, 0);
    bool ok = in_mask(st, allowed) && out_ok && info_ok;
    if (!ok && n_reported++ < 60)
        fprintf(stderr, "  [%s] %s #%ld (%zu bytes): got %s, out %s, info %s\n", c->tag, what,
                idx, len, imc_status_str(st), out_ok ? "wiped" : "NOT WIPED",
                info_ok ? "wiped" : "NOT WIPED");
    free(copy);
    return ok;
}

static bool rejected(const ctx *c, size_t dev, imc_replay *rc, const uint8_t *d,
                     size_t len, unsigned allowed, const char *what, long idx)
{
    return rejected_as(c, &c->p.dev[dev], NULL, rc, d, len, allowed, what, idx);
}

/* Checks d as is, and re-signed by the sender (a copy): both rejected. */
static void both(const ctx *c, imc_replay *rc, const uint8_t *d, size_t len,
                 unsigned allowed_plain, unsigned allowed_resigned, const char *what)
{
    CHECK(rejected(c, 0, rc, d, len, allowed_plain, what, 0));
    /* Bytes without a layout cannot be re-signed: then they go as they are. */
    uint8_t *copy = fx_dup(d, len);
    (void)fx_resign(c->b, &c->p.sender, copy, len);
    CHECK(rejected(c, 0, rc, copy, len, allowed_resigned, what, 1));
    free(copy);
}

/* A decrypt that must succeed: the body and info of a message from c's
 * sender. */
static bool accepted(const ctx *c, size_t dev, imc_replay *rc, const uint8_t *d,
                     size_t len, const uint8_t *body, size_t body_len, uint64_t ts,
                     const char *what)
{
    uint8_t out[OUT_CAP];
    imc_msg_received info;
    memset(&info, 0xAA, sizeof info);
    fx_layout L;
    imc_status st = fx_open(out, sizeof out, &info, c->b, &c->p, dev, rc, d, len);
    bool ok = st == IMC_OK && fx_layout_read(&L, d, len) &&
              fx_info_ok(&info, &c->p, ts, body_len, d + L.mid) &&
              memcmp(out, body, body_len) == 0;
    if (!ok)
        fprintf(stderr, "  [%s] %s on device %zu: %s\n", c->tag, what, dev, imc_status_str(st));
    return ok;
}

/* ---- Layout, against docs/wire-format.md -------------------------------- */

static void test_layout(const ctx *c)
{
    const fx_party *p = &c->p;
    fx_layout E;
    CHECK(fx_layout_read(&E, c->m.env, c->m.env_len) && E.len == c->m.env_len);
    CHECK(c->m.env[0] == IMC_MSG_VERSION && c->m.env[1] == IMC_MSG_KIND_ENVELOPE);
    CHECK(E.count == NDEV && E.c == BODY_LEN + IMC_AEAD_TAG_BYTES && E.h == p->handle_len);
    CHECK(imc_msg_envelope_size(c->s->id, p->handle_len, NDEV, BODY_LEN) == c->m.env_len);
    CHECK(c->m.n == NDEV);
    for (size_t i = 0; i < c->m.n; i++) {
        const uint8_t *d = c->m.del[i];
        size_t len = c->m.del_len[i];
        fx_layout L;
        CHECK(c->m.del_dev[i] == fx_device_id(i));
        CHECK(imc_msg_delivery_size(c->s->id, p->handle_len, NDEV, BODY_LEN) == len);
        CHECK(fx_layout_read(&L, d, len) && L.len == len);
        CHECK(d[0] == IMC_MSG_VERSION && d[1] == IMC_MSG_KIND_DELIVERY &&
              fx_get16(d + 2) == c->s->id);
        /* Fan-out is a split: common part with the whole recipient set, own
         * index and wrap, signature unchanged. */
        CHECK(L.count == NDEV && L.index == E.wraps);
        CHECK(memcmp(d + 4, c->m.env + 4, L.index - 4) == 0);
        CHECK(fx_get16(d + L.index) == i);
        CHECK(memcmp(d + L.wraps, c->m.env + E.wraps + i * E.W, E.W) == 0);
        CHECK(memcmp(d + L.sig, c->m.env + E.sig, E.S) == 0);
        CHECK(fx_get64(d + L.ids + 8 * i) == fx_device_id(i));
        CHECK(fx_get64(d + L.dev) == FX_SENDER_ID && fx_get64(d + L.ts) == FX_TS);
        imc_delivery pd;
        CHECK_OK(imc_msg_parse_delivery(&pd, d, len));
        CHECK(pd.h.suite == c->s->id && pd.h.sender_handle == d + L.handle &&
              pd.h.sender_handle_len == L.h && pd.h.sender_device == FX_SENDER_ID &&
              pd.h.message_id == d + L.mid && pd.h.timestamp_ms == FX_TS &&
              pd.h.eph_pk == d + L.epk && pd.h.commitment == d + L.commit &&
              pd.h.body == d + L.body && pd.h.body_len == L.c &&
              pd.h.signed_part == d + 4 && pd.h.signed_part_len == L.body - 4);
        CHECK(pd.entry.device_id == fx_device_id(i) && pd.entry.wrap == d + L.wraps &&
              pd.index == i && pd.rcpt.count == NDEV && pd.rcpt.ids == d + L.ids &&
              pd.sig == d + L.sig);
        imc_msg_received info;
        uint8_t out[OUT_CAP];
        CHECK_OK(fx_open(out, sizeof out, &info, c->b, p, i, NULL, d, len));
        CHECK(info.recipient_count == NDEV);
        /* Canonical: parse then write gives the input; one byte short fails. */
        uint8_t *w = fx_alloc(len);
        size_t wl = 0;
        CHECK_OK(imc_msg_write_delivery(w, len, &wl, &pd));
        CHECK(wl == len && memcmp(w, d, len) == 0);
        CHECK_ST(imc_msg_write_delivery(w, len - 1, &wl, &pd), IMC_ERR_NO_SPACE);
        free(w);
    }
    /* The wraps differ per device; the deliveries of two messages differ. */
    CHECK(memcmp(c->m.del[0] + c->L.wraps, c->m.del[1] + c->L.wraps, c->L.W) != 0);
    CHECK(memcmp(c->m.del[0] + c->L.mid, c->m2.del[0] + c->L.mid, IMC_MSG_ID_BYTES) != 0);

    imc_envelope env;
    CHECK_OK(imc_msg_parse_envelope(&env, c->m.env, c->m.env_len));
    CHECK(env.rcpt.count == NDEV && env.rcpt.ids == c->m.env + E.ids &&
          env.wraps == c->m.env + E.wraps &&
          env.sig == c->m.env + E.sig && env.h.body_len == E.c);
    for (size_t i = 0; i < NDEV; i++) {
        imc_msg_entry e = imc_msg_envelope_entry(&env, i);
        CHECK(e.device_id == fx_device_id(i) && e.wrap == c->m.env + E.wraps + i * E.W);
        CHECK(imc_msg_recipient_id(&env.rcpt, i) == fx_device_id(i));
    }
    uint8_t *w = fx_alloc(c->m.env_len);
    size_t wl = 0;
    CHECK_OK(imc_msg_write_envelope(w, c->m.env_len, &wl, &env));
    CHECK(wl == c->m.env_len && memcmp(w, c->m.env, wl) == 0);
    CHECK_ST(imc_msg_write_envelope(w, c->m.env_len - 1, &wl, &env), IMC_ERR_NO_SPACE);
    free(w);

    /* Fan-out into too few views. */
    imc_delivery_view views[NDEV];
    size_t count = 99;
    CHECK(imc_msg_fanout(views, NDEV - 1, &count, c->m.env, c->m.env_len) != IMC_OK);
    CHECK_OK(imc_msg_fanout(views, NDEV, &count, c->m.env, c->m.env_len));
    CHECK(count == NDEV && views[0].prefix[0] == IMC_MSG_VERSION &&
          views[0].prefix[1] == IMC_MSG_KIND_DELIVERY &&
          fx_get16(views[0].prefix + 2) == c->s->id);
    uint8_t small[8];
    size_t sl = 0;
    CHECK_ST(imc_delivery_view_copy(small, sizeof small, &sl, &views[0]), IMC_ERR_NO_SPACE);
}

static void test_genuine(const ctx *c)
{
    for (size_t i = 0; i < NDEV; i++) {
        imc_replay *rc = fx_replay(c->b);
        CHECK(accepted(c, i, rc, c->m.del[i], c->m.del_len[i], BODY, BODY_LEN, FX_TS,
                       "genuine"));
        CHECK(accepted(c, i, rc, c->m2.del[i], c->m2.del_len[i], BODY2, BODY_LEN,
                       FX_TS + 1000, "genuine m2"));
        imc_replay_close(rc);
        /* Exactly body_len bytes of output space is enough. */
        uint8_t out[BODY_LEN];
        imc_msg_received info;
        CHECK_OK(fx_open(out, sizeof out, &info, c->b, &c->p, i, NULL, c->m.del[i],
                         c->m.del_len[i]));
        CHECK(memcmp(out, BODY, BODY_LEN) == 0);
    }
}

/* ---- Bit flips ----------------------------------------------------------- */

/* What a change at byte `off` may give: a parse error only where the bytes
 * no longer parse (version, kind, suite, handle length, body length). */
static unsigned expect_at(const fx_layout *L, size_t off)
{
    if (off < 2)
        return R_MAL;
    if (off < 5)
        return R_ANY;
    if (off >= L->blen && off < L->blen + 4)
        return R_PARSE;
    /* The count no longer matches the ids; an id may break their order; an
     * index may point past the set, or at another device. */
    if (off >= L->tail && off < L->tail + 2)
        return R_PARSE;
    if (off >= L->ids && off < L->wraps)
        return R_ANY;
    return R_AUTH;
}

static void test_bitflips(const ctx *c, imc_replay *rc, bool resign)
{
    const uint8_t *d = c->m.del[0];
    size_t len = c->m.del_len[0];
    /* Re-signing overwrites the signature: flip everything before it. */
    size_t end = resign ? c->L.sig : len;
    uint8_t *x = fx_dup(d, len);
    for (size_t bit = 0; bit < end * 8; bit++) {
        /* The sender may sign any recipient set: another device's id,
         * changed and re-signed, is a genuine message (the plain pass and
         * the recipient-set cases test that the signature covers it). */
        if (resign && bit / 8 >= c->L.ids + 8 && bit / 8 < c->L.index)
            continue;
        memcpy(x, d, len);
        x[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (resign)
            (void)fx_resign(c->b, &c->p.sender, x, len); /* may not re-parse: fine */
        CHECK(rejected(c, 0, rc, x, len, expect_at(&c->L, bit / 8),
                       resign ? "bit flip, re-signed" : "bit flip", (long)bit));
    }
    free(x);
}

static void test_truncate_extend(const ctx *c, imc_replay *rc)
{
    const uint8_t *d = c->m.del[0];
    size_t len = c->m.del_len[0];
    for (size_t n = 0; n < len; n++)
        CHECK(rejected(c, 0, rc, d, n, R_MAL, "truncated to", (long)n));
    for (size_t k = 1; k <= 3; k++) {
        uint8_t *x = fx_alloc(len + k);
        memcpy(x, d, len);
        CHECK(rejected(c, 0, rc, x, len + k, R_MAL, "extended (zeros) by", (long)k));
        memset(x + len, 0xFF, k);
        CHECK(rejected(c, 0, rc, x, len + k, R_MAL, "extended (0xff) by", (long)k));
        free(x);
    }
}

/* ---- Swaps and splices between deliveries and messages ------------------ */

static uint8_t *with_bytes(size_t *n, const uint8_t *d, size_t len, size_t off,
                           const uint8_t *src, size_t src_len)
{
    return fx_splice(n, d, len, off, src_len, src, src_len);
}

static void test_swap_splice(const ctx *c, imc_replay *rc)
{
    const fx_layout *L = &c->L;
    const uint8_t *a = c->m.del[0], *b1 = c->m.del[1], *a2 = c->m2.del[0];
    size_t len = c->m.del_len[0], n;
    uint8_t *x;

    /* A's delivery carrying B's wrap. */
    x = with_bytes(&n, a, len, L->wraps, b1 + L->wraps, L->W);
    both(c, rc, x, n, R_AUTH, R_AUTH, "A's delivery with B's wrap");
    free(x);
    /* A's delivery with B's index and wrap is B's delivery: not for A. */
    x = with_bytes(&n, a, len, L->index, b1 + L->index, L->W + 2);
    CHECK(n == c->m.del_len[1] && memcmp(x, b1, n) == 0);
    CHECK(rejected(c, 0, rc, x, n, R_AUTH, "B's entry spliced into A's delivery", 0));
    free(x);
    /* B's delivery with A's entry, on device B. */
    x = with_bytes(&n, b1, len, L->index, a + L->index, L->W + 2);
    CHECK(rejected(c, 1, NULL, x, n, R_AUTH, "A's entry spliced into B's delivery", 0));
    free(x);
    /* Device B's wrap with A's id, on device B. */
    x = fx_dup(b1, len);
    n = len;
    fx_put16(x + L->index, 0);
    CHECK(rejected(c, 1, NULL, x, n, R_AUTH, "B's delivery relabelled for A, on B", 0));
    CHECK(rejected(c, 0, rc, x, n, R_AUTH, "B's delivery relabelled for A, on A", 0));
    free(x);
    /* A's entry from another message of the same sender. */
    x = with_bytes(&n, a, len, L->index, a2 + L->index, L->W + 2);
    both(c, rc, x, n, R_AUTH, R_AUTH, "A's entry from message 2");
    free(x);
    /* The signature of another valid message from the same sender. */
    x = with_bytes(&n, a, len, L->sig, a2 + L->sig, L->S);
    CHECK(rejected(c, 0, rc, x, n, R_AUTH, "signature of message 2", 0));
    free(x);
    /* The body ciphertext of message 2 (same length). */
    x = with_bytes(&n, a, len, L->body, a2 + L->body, L->c);
    both(c, rc, x, n, R_AUTH, R_AUTH, "body of message 2");
    free(x);
    /* Message 2's header and body with message 1's entry and signature. */
    x = with_bytes(&n, a, len, 4, a2 + 4, L->tail - 4);
    both(c, rc, x, n, R_AUTH, R_AUTH, "header of message 2");
    free(x);
    /* Message 1's header and body with message 2's entry and signature. */
    x = with_bytes(&n, a2, len, 4, a + 4, L->tail - 4);
    CHECK(rejected(c, 0, rc, x, n, R_AUTH, "entry+sig of message 2", 0));
    free(x);
}

/* ---- Header fields ------------------------------------------------------- */

static void set_field(const ctx *c, imc_replay *rc, size_t off, const uint8_t *v,
                      size_t vlen, unsigned plain, unsigned resigned, const char *what)
{
    size_t n;
    uint8_t *x = with_bytes(&n, c->m.del[0], c->m.del_len[0], off, v, vlen);
    both(c, rc, x, n, plain, resigned, what);
    free(x);
}

static void set_u64(const ctx *c, imc_replay *rc, size_t off, uint64_t v,
                    const char *what)
{
    uint8_t t[8];
    fx_put64(t, v);
    set_field(c, rc, off, t, 8, R_AUTH, R_AUTH, what);
}

static void set_blen(const ctx *c, imc_replay *rc, uint32_t v, unsigned expect,
                     const char *what)
{
    uint8_t t[4];
    fx_put32(t, v);
    set_field(c, rc, c->L.blen, t, 4, expect, expect, what);
}

/* Replaces the body ciphertext with new_c bytes (the old prefix, then
 * 0x5a) and sets the length to match: parses, fails authentication. */
static void resize_body(const ctx *c, imc_replay *rc, size_t new_c, unsigned expect,
                        const char *what)
{
    const fx_layout *L = &c->L;
    uint8_t *body = fx_alloc(new_c);
    memset(body, 0x5a, new_c);
    memcpy(body, c->m.del[0] + L->body, new_c < L->c ? new_c : L->c);
    size_t n;
    uint8_t *x = fx_splice(&n, c->m.del[0], c->m.del_len[0], L->body, L->c, body, new_c);
    fx_put32(x + L->blen, (uint32_t)new_c);
    both(c, rc, x, n, expect, expect, what);
    free(x);
    free(body);
}

static void test_header_fields(const ctx *c, imc_replay *rc)
{
    const fx_layout *L = &c->L;
    const uint8_t *a = c->m.del[0];
    size_t len = c->m.del_len[0], n;
    uint8_t *x;

    /* Suite: unknown ids do not parse; a known id of the same sizes parses
     * and must fail authentication. */
    static const uint16_t suites[] = {0, 1, 2, 3, 4, 0x0100, 0x0101, 0x8001, 0xFFFF};
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (suites[i] == c->s->id)
            continue;
        const imc_suite *o = imc_suite_get(suites[i]);
        unsigned exp = o != NULL && o->dh_public_bytes == c->s->dh_public_bytes &&
                               o->sig_bytes == c->s->sig_bytes
                           ? R_AUTH
                           : R_ANY;
        uint8_t t[2];
        fx_put16(t, suites[i]);
        set_field(c, rc, 2, t, 2, exp, exp, "suite id changed");
    }
    /* Version and kind. */
    static const uint8_t versions[] = {0, 1, 3, 0x82, 0xFF}; /* 1: the previous format */
    for (size_t i = 0; i < sizeof versions; i++)
        set_field(c, rc, 0, &versions[i], 1, R_MAL, R_MAL, "version changed");
    static const uint8_t kinds[] = {0, IMC_MSG_KIND_ENVELOPE, 'd', 0xC4};
    for (size_t i = 0; i < sizeof kinds; i++)
        set_field(c, rc, 1, &kinds[i], 1, R_MAL, R_MAL, "kind changed");

    /* Handle: one byte, one longer, one shorter, 255 bytes. */
    uint8_t h = (uint8_t)(a[L->handle] ^ 0x20);
    set_field(c, rc, L->handle, &h, 1, R_AUTH, R_AUTH, "handle byte changed");
    x = fx_splice(&n, a, len, L->handle + L->h, 0, (const uint8_t *)"x", 1);
    x[4]++;
    both(c, rc, x, n, R_AUTH, R_AUTH, "handle one byte longer");
    free(x);
    x = fx_splice(&n, a, len, L->handle + L->h - 1, 1, NULL, 0);
    x[4]--;
    both(c, rc, x, n, R_AUTH, R_AUTH, "handle one byte shorter");
    free(x);
    uint8_t big[IMC_MAX_HANDLE_BYTES];
    memset(big, 'a', sizeof big);
    memcpy(big, c->p.handle, c->p.handle_len);
    x = fx_splice(&n, a, len, L->handle, L->h, big, sizeof big);
    x[4] = (uint8_t)sizeof big;
    both(c, rc, x, n, R_AUTH, R_AUTH, "handle extended to 255 bytes");
    free(x);
    x = fx_splice(&n, a, len, L->handle, L->h, NULL, 0);
    x[4] = 0;
    both(c, rc, x, n, R_MAL, R_MAL, "handle of length 0");
    free(x);

    /* Sender device, message id, timestamp. */
    set_u64(c, rc, L->dev, FX_SENDER_ID ^ 1, "sender device ^1");
    {
        uint8_t zero[8] = {0};
        set_field(c, rc, L->dev, zero, 8, R_MAL, R_MAL, "sender device 0 (ids are nonzero)");
    }
    set_u64(c, rc, L->dev, fx_device_id(1), "sender device = device B");
    uint8_t mid[IMC_MSG_ID_BYTES];
    memcpy(mid, a + L->mid, sizeof mid);
    mid[0] ^= 1;
    set_field(c, rc, L->mid, mid, sizeof mid, R_AUTH, R_AUTH, "message id byte 0 ^1");
    mid[0] ^= 1;
    mid[15] ^= 0x80;
    set_field(c, rc, L->mid, mid, sizeof mid, R_AUTH, R_AUTH, "message id byte 15 ^0x80");
    set_field(c, rc, L->mid, c->m2.del[0] + L->mid, sizeof mid, R_AUTH, R_AUTH,
              "message id of message 2");
    set_u64(c, rc, L->ts, FX_TS + 1, "timestamp +1");
    set_u64(c, rc, L->ts, FX_TS - 1, "timestamp -1");
    set_u64(c, rc, L->ts, 0, "timestamp 0");
    set_u64(c, rc, L->ts, UINT64_MAX, "timestamp max");

    /* Ephemeral key: other valid keys, a low-order / invalid one. */
    set_field(c, rc, L->epk, c->p.pub[1].dh_pk, L->E, R_AUTH, R_AUTH, "epk = device B's key");
    set_field(c, rc, L->epk, c->p.sender.pub.dh_pk, L->E, R_AUTH, R_AUTH,
              "epk = sender's key");
    set_field(c, rc, L->epk, c->m2.del[0] + L->epk, L->E, R_AUTH, R_AUTH,
              "epk of message 2");
    uint8_t weak[IMC_DH_PUBLIC_MAX] = {0};
    if (L->E == IMC_P256_PUBLIC_BYTES)
        weak[0] = 0x04;
    set_field(c, rc, L->epk, weak, L->E, R_AUTH, R_AUTH, "epk zero / low order");

    /* Commitment. */
    uint8_t cm[IMC_MSG_COMMIT_BYTES];
    memcpy(cm, a + L->commit, sizeof cm);
    cm[31] ^= 1;
    set_field(c, rc, L->commit, cm, sizeof cm, R_AUTH, R_AUTH, "commitment ^1");
    set_field(c, rc, L->commit, c->m2.del[0] + L->commit, sizeof cm, R_AUTH, R_AUTH,
              "commitment of message 2");
    memset(cm, 0, sizeof cm);
    set_field(c, rc, L->commit, cm, sizeof cm, R_AUTH, R_AUTH, "commitment zero");

    /* Body length without the bytes to match: does not parse. */
    /* (The bytes after the body are then read as a recipient count.) */
    set_blen(c, rc, (uint32_t)L->c + 1, R_PARSE, "body length +1");
    set_blen(c, rc, (uint32_t)L->c - 1, R_PARSE, "body length -1");
    set_blen(c, rc, 15, R_MAL, "body length 15");
    set_blen(c, rc, 0, R_MAL, "body length 0");
    /* A length is checked as soon as it is read: over the limit wins. */
    set_blen(c, rc, IMC_MAX_BODY_BYTES + 17, ST(IMC_ERR_LIMIT), "body length over the limit");
    set_blen(c, rc, UINT32_MAX, ST(IMC_ERR_LIMIT), "body length 2^32-1");
    /* Body resized with a matching length: parses, fails authentication. */
    resize_body(c, rc, L->c - 1, R_AUTH, "body one byte shorter");
    resize_body(c, rc, L->c + 1, R_AUTH, "body one byte longer");
    resize_body(c, rc, IMC_AEAD_TAG_BYTES, R_AUTH, "body cut to a bare tag");
    resize_body(c, rc, IMC_AEAD_TAG_BYTES - 1, R_MAL, "body shorter than a tag");
    resize_body(c, rc, 0, R_MAL, "body empty");

    /* The delivery's index: another device's, or past the set. */
    {
        uint8_t ix[2] = {0, 1};
        set_field(c, rc, L->index, ix, 2, R_AUTH, R_AUTH, "index of device B");
        ix[1] = NDEV;
        set_field(c, rc, L->index, ix, 2, R_MAL, R_MAL, "index = recipient count");
        ix[0] = 0xFF;
        ix[1] = 0xFF;
        set_field(c, rc, L->index, ix, 2, R_MAL, R_MAL, "index 65535");
    }
    /* The signed recipient set. Changed by the service, it fails the
     * signature; the same set signed by the sender is the sender's choice,
     * and the device accepts it and sees it. */
    set_u64(c, rc, L->ids, fx_device_id(0) ^ 1, "own id in the set ^1");
    {
        uint8_t *y = fx_dup(a, len);
        fx_put64(y + L->ids + 8 * (NDEV - 1), fx_device_id(NDEV - 1) + 1);
        CHECK(rejected(c, 0, rc, y, len, R_AUTH, "another device's id in the set changed", 0));
        CHECK_OK(fx_resign(c->b, &c->p.sender, y, len));
        CHECK(accepted(c, 0, NULL, y, len, BODY, BODY_LEN, FX_TS, "set changed by the sender"));
        free(y);
        /* The service removes the last device from device 0's delivery
         * (count and ids shortened together): it parses, and is refused. */
        x = fx_splice(&n, a, len, L->ids + 8 * (NDEV - 1), 8, NULL, 0);
        fx_put16(x + L->tail, NDEV - 1);
        CHECK(rejected(c, 0, rc, x, n, R_AUTH, "a device removed from the recipient set", 0));
        CHECK_OK(fx_resign(c->b, &c->p.sender, x, n));
        uint8_t out[OUT_CAP];
        imc_msg_received info;
        CHECK_OK(fx_open(out, sizeof out, &info, c->b, &c->p, 0, NULL, x, n));
        CHECK(info.recipient_count == NDEV - 1);
        free(x);
        /* ... or removes device 0 itself and relabels the index. */
        x = fx_splice(&n, a, len, L->ids, 8, NULL, 0);
        fx_put16(x + L->tail, NDEV - 1);
        CHECK(rejected(c, 0, rc, x, n, R_AUTH, "own id removed from the recipient set", 0));
        free(x);
    }

    /* Re-signed by the sender AND expected by the recipient: the body AD
     * still binds the original handle / sender device. */
    x = fx_dup(a, len);
    x[L->handle] ^= 0x20;
    CHECK_OK(fx_resign(c->b, &c->p.sender, x, len));
    imc_msg_peer peer = fx_peer(&c->p);
    peer.handle = x + L->handle;
    CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, x, len, R_AUTH,
                      "handle changed, re-signed, expected by recipient", 0));
    free(x);
    x = fx_dup(a, len);
    fx_put64(x + L->dev, FX_SENDER_ID + 1);
    CHECK_OK(fx_resign(c->b, &c->p.sender, x, len));
    imc_device_public sp = c->p.sender.pub;
    sp.device_id = FX_SENDER_ID + 1;
    peer = fx_peer(&c->p);
    peer.device = &sp;
    CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, x, len, R_AUTH,
                      "sender device changed, re-signed, expected by recipient", 0));
    free(x);

    /* Control: re-signing the genuine delivery keeps it valid (so the
     * re-signed cases above test what they claim). Ed25519 is
     * deterministic: the same signature. */
    x = fx_dup(a, len);
    CHECK_OK(fx_resign(c->b, &c->p.sender, x, len));
    if (c->s->id != IMC_SUITE_P256_ECDSA_AES256GCM)
        CHECK(memcmp(x, a, len) == 0);
    CHECK(accepted(c, 0, NULL, x, len, BODY, BODY_LEN, FX_TS, "re-signed genuine"));
    free(x);
}

/* ---- Suite downgrade 1 <-> 3 -------------------------------------------- */

static void test_downgrade(const ctx *c, imc_replay *rc)
{
    if (c->s->id == IMC_SUITE_P256_ECDSA_AES256GCM)
        return; /* no suite of the same sizes: covered by "suite id changed" */
    uint32_t other = c->s->id == 1 ? 3 : 1;
    const uint8_t *a = c->m.del[0];
    size_t len = c->m.del_len[0];
    uint8_t *x = fx_dup(a, len);
    fx_put16(x + 2, (uint16_t)other);
    /* As the recipient's suite-s keys see it. */
    both(c, rc, x, len, R_AUTH, R_AUTH, "suite relabelled");
    /* The real downgrade: the same key material registered under the other
     * suite too, on a backend that supports it. */
    const imc_backend *bs[FX_MAXB];
    size_t nb = fx_backends_for(bs, imc_suite_get(other));
    for (size_t k = 0; k < nb; k++) {
        ctx c2 = *c;
        c2.b = bs[k];
        imc_device_keys me = c->p.dev[0];
        me.pub.suite = other;
        imc_device_public sp = c->p.sender.pub;
        sp.suite = other;
        imc_msg_peer peer = fx_peer(&c->p);
        peer.device = &sp;
        CHECK(rejected_as(&c2, &me, &peer, rc, x, len, R_AUTH, "downgrade, keys relabelled",
                          (long)k));
        uint8_t *y = fx_dup(x, len);
        CHECK_OK(fx_resign(bs[k], &c->p.sender, y, len));
        CHECK(rejected_as(&c2, &me, &peer, rc, y, len, R_AUTH,
                          "downgrade, keys relabelled, re-signed", (long)k));
        free(y);
    }
    free(x);
}

/* ---- Wrong device, wrong sender ----------------------------------------- */

static void test_wrong_device(const ctx *c)
{
    const uint8_t *a = c->m.del[0];
    size_t len = c->m.del_len[0];
    CHECK(rejected(c, 1, NULL, a, len, R_AUTH, "A's delivery on device B", 0));
    CHECK(rejected(c, 2, NULL, a, len, R_AUTH, "A's delivery on device C", 0));
    /* A device with A's id but new keys (re-keyed, or an impostor). */
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 77);
    imc_device_keys other;
    CHECK_OK(imc_keys_generate(&other, c->b, &rng, c->s->id, fx_device_id(0)));
    CHECK(rejected_as(c, &other, NULL, NULL, a, len, R_AUTH, "A's id, other keys", 0));
    /* A's public key but another DH secret. */
    imc_device_keys mixed = c->p.dev[0];
    memcpy(mixed.dh_sk, other.dh_sk, sizeof mixed.dh_sk);
    CHECK(rejected_as(c, &mixed, NULL, NULL, a, len, R_AUTH, "A's public key, other secret",
                      0));
    /* A's keys labelled with another suite. */
    imc_device_keys relabel = c->p.dev[0];
    relabel.pub.suite = c->s->id == 1 ? 3 : 1;
    /* A backend without the other suite (Mbed TLS has no suite 1) says so. */
    unsigned other_ok = imc_suite_supported(imc_suite_get(relabel.pub.suite), c->b)
                            ? 0
                            : ST(IMC_ERR_UNSUPPORTED);
    CHECK(rejected_as(c, &relabel, NULL, NULL, a, len, R_AUTH | ST(IMC_ERR_ARG) | other_ok,
                      "A's keys labelled with another suite", 0));
    imc_keys_wipe(&other);
    imc_keys_wipe(&mixed);
    imc_keys_wipe(&relabel);
}

static void test_wrong_peer(const ctx *c, imc_replay *rc)
{
    const uint8_t *a = c->m.del[0];
    size_t len = c->m.del_len[0];
    static const char *const handles[] = {"alicf", "Alice", "alice2", "alic", "bob"};
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
        imc_msg_peer peer = fx_peer(&c->p);
        peer.handle = (const uint8_t *)handles[i];
        peer.handle_len = strlen(handles[i]);
        CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, a, len, R_AUTH, "expected handle",
                          (long)i));
    }
    imc_msg_peer peer = fx_peer(&c->p);
    peer.handle_len = 0;
    CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, a, len, R_AUTH | ST(IMC_ERR_ARG),
                      "expected handle empty", 0));

    imc_device_public sp = c->p.sender.pub;
    peer = fx_peer(&c->p);
    peer.device = &sp;
    sp.device_id ^= 1;
    CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, a, len, R_AUTH, "expected device id ^1", 0));
    sp = c->p.pub[0];
    CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, a, len, R_AUTH,
                      "expected sender = the recipient", 0));
    sp = c->p.sender.pub;
    memcpy(sp.sig_pk, c->p.pub[1].sig_pk, sizeof sp.sig_pk);
    CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, a, len, R_AUTH,
                      "expected signing key of device B", 0));
    memset(sp.sig_pk, 0, sizeof sp.sig_pk);
    CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, a, len, R_AUTH, "expected signing key zero",
                      0));
    sp = c->p.sender.pub;
    sp.suite = c->s->id == 1 ? 3 : 1;
    CHECK(rejected_as(c, &c->p.dev[0], &peer, rc, a, len, R_AUTH | ST(IMC_ERR_ARG),
                      "expected sender of another suite", 0));
}

/* ---- AES-GCM under two keys: one ciphertext, two valid openings ---------
 *
 * AES-GCM does not commit to its key: a sender who knows two keys can make
 * one ciphertext (with one free block) that authenticates under both
 * ("invisible salamanders"). A malicious sender who wraps a different
 * content key for one device could then show that device another
 * plaintext; the header's key commitment is what stops it. Built here from
 * the AEAD alone: H and E_K(J0) are recovered from two tags. */

static void gf_mul(uint8_t z[16], const uint8_t x[16], const uint8_t y[16])
{
    uint8_t v[16], r[16] = {0};
    memcpy(v, y, 16);
    for (int i = 0; i < 128; i++) {
        if (x[i / 8] & (0x80 >> (i % 8)))
            for (int k = 0; k < 16; k++)
                r[k] ^= v[k];
        int lsb = v[15] & 1;
        for (int k = 15; k > 0; k--)
            v[k] = (uint8_t)((v[k] >> 1) | (v[k - 1] << 7));
        v[0] >>= 1;
        if (lsb)
            v[0] ^= 0xe1;
    }
    memcpy(z, r, 16);
}

static void gf_xor(uint8_t z[16], const uint8_t x[16])
{
    for (int k = 0; k < 16; k++)
        z[k] ^= x[k];
}

/* x^(2^127): the square root in GF(2^128). */
static void gf_sqrt(uint8_t z[16], const uint8_t x[16])
{
    memcpy(z, x, 16);
    for (int i = 0; i < 127; i++)
        gf_mul(z, z, z);
}

/* x^(2^128 - 2) = x^-1 for x != 0. */
static void gf_inv(uint8_t z[16], const uint8_t x[16])
{
    uint8_t t[16], r[16] = {0x80};
    memcpy(t, x, 16);
    for (int i = 1; i < 128; i++) {
        gf_mul(t, t, t);
        gf_mul(r, r, t);
    }
    memcpy(z, r, 16);
}

static void ghash_blocks(uint8_t y[16], const uint8_t h[16], const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 16) {
        uint8_t blk[16] = {0};
        memcpy(blk, p + i, n - i < 16 ? n - i : 16);
        gf_xor(y, blk);
        gf_mul(y, y, h);
    }
}

static void ghash(uint8_t y[16], const uint8_t h[16], const uint8_t *a, size_t al,
                  const uint8_t *c, size_t cl)
{
    uint8_t len[16];
    memset(y, 0, 16);
    ghash_blocks(y, h, a, al);
    ghash_blocks(y, h, c, cl);
    fx_put64(len, (uint64_t)al * 8);
    fx_put64(len + 8, (uint64_t)cl * 8);
    ghash_blocks(y, h, len, 16);
}

/* H and E_K(J0) for AES-256-GCM under key with the zero nonce. */
static imc_status gcm_recover(uint8_t h[16], uint8_t ej0[16], const imc_backend *b,
                              const uint8_t key[32])
{
    static const uint8_t a0[16] = {0}, a1[16] = {0x80}; /* a1 - a0 = 1 */
    uint8_t t0[16], t1[16], g[16];
    imc_status st = imc_crypto_aead_seal(b, IMC_AEAD_AES256GCM, t0, 16, key, fx_zero_nonce, 12,
                                         a0, 16, NULL, 0);
    if (st == IMC_OK)
        st = imc_crypto_aead_seal(b, IMC_AEAD_AES256GCM, t1, 16, key, fx_zero_nonce, 12, a1,
                                  16, NULL, 0);
    gf_xor(t1, t0); /* = (a1 - a0) H^2 = H^2 */
    gf_sqrt(h, t1);
    ghash(g, h, a0, 16, NULL, 0);
    memcpy(ej0, t0, 16);
    gf_xor(ej0, g);
    /* Self-check: predict the tag of a real seal. */
    uint8_t ct[37 + 16], pt[37], ad[21];
    memset(pt, 0x42, sizeof pt);
    memset(ad, 0x24, sizeof ad);
    if (st == IMC_OK)
        st = imc_crypto_aead_seal(b, IMC_AEAD_AES256GCM, ct, sizeof ct, key, fx_zero_nonce, 12,
                                  ad, sizeof ad, pt, sizeof pt);
    ghash(g, h, ad, sizeof ad, ct, sizeof pt);
    gf_xor(g, ej0);
    CHECK(st == IMC_OK && memcmp(g, ct + sizeof pt, 16) == 0);
    return st;
}

/* fx_evil.forge_body: rewrites the last ciphertext block so that the body
 * opens under both body keys. */
static imc_status gcm_two_keys(uint8_t *ct, size_t c, const uint8_t *ad, size_t ad_len,
                               const uint8_t k1[32], const uint8_t k2[32], const imc_backend *b)
{
    size_t n = c - IMC_AEAD_TAG_BYTES;
    uint8_t h1[16], e1[16], h2[16], e2[16], g1[16], g2[16], coef[16], rhs[16], inv[16];
    if (n < 16 || n % 16 != 0)
        return IMC_ERR_ARG;
    imc_status st = gcm_recover(h1, e1, b, k1);
    if (st == IMC_OK)
        st = gcm_recover(h2, e2, b, k2);
    uint8_t *x = ct + n - 16;
    memset(x, 0, 16);
    ghash(g1, h1, ad, ad_len, ct, n);
    ghash(g2, h2, ad, ad_len, ct, n);
    memcpy(rhs, g1, 16);
    gf_xor(rhs, e1);
    gf_xor(rhs, g2);
    gf_xor(rhs, e2);
    memcpy(coef, g1, 16);
    gf_xor(coef, g2);
    x[0] = 0x80; /* the last block = 1: its coefficient is H1^2 + H2^2 */
    ghash(g1, h1, ad, ad_len, ct, n);
    ghash(g2, h2, ad, ad_len, ct, n);
    gf_xor(coef, g1);
    gf_xor(coef, g2);
    gf_inv(inv, coef);
    gf_mul(x, rhs, inv);
    ghash(g1, h1, ad, ad_len, ct, n);
    memcpy(ct + n, g1, 16);
    gf_xor(ct + n, e1);
    /* It opens under both keys. */
    uint8_t *pt = fx_alloc(n);
    CHECK_OK(imc_crypto_aead_open(b, IMC_AEAD_AES256GCM, pt, n, k1, fx_zero_nonce, 12, ad,
                                  ad_len, ct, c));
    CHECK_OK(imc_crypto_aead_open(b, IMC_AEAD_AES256GCM, pt, n, k2, fx_zero_nonce, 12, ad,
                                  ad_len, ct, c));
    free(pt);
    return st;
}

/* ---- Malicious senders, built by hand from the spec --------------------- */

static void spec_send(fx_msg *m, const ctx *c, uint64_t stream, const fx_evil *evil)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, stream);
    memset(m, 0, sizeof *m);
    size_t cap = imc_msg_envelope_size(c->s->id, c->p.handle_len, NDEV, BODY_LEN);
    m->env = fx_alloc(cap);
    CHECK_OK(fx_spec_encrypt(m->env, cap, &m->env_len, c->b, &rng, &c->p, c->p.pub, NDEV,
                             FX_TS + stream, BODY, BODY_LEN, evil));
    CHECK_OK(fx_fanout(m));
    CHECK(m->n == NDEV);
}

static void test_malicious_sender(const ctx *c)
{
    fx_msg m;
    /* Control: an honest envelope made by hand decrypts everywhere. */
    spec_send(&m, c, 100, &fx_honest);
    for (size_t i = 0; i < m.n; i++)
        CHECK(accepted(c, i, NULL, m.del[i], m.del_len[i], BODY, BODY_LEN, FX_TS + 100,
                       "hand-made honest envelope"));
    fx_msg_free(&m);

    /* Device 1 gets another content key: the commitment catches it. */
    fx_evil e = fx_honest;
    e.other_ck_for = 1;
    spec_send(&m, c, 101, &e);
    for (size_t i = 0; i < m.n; i++)
        if (i == 1)
            CHECK(rejected(c, i, NULL, m.del[i], m.del_len[i], R_AUTH,
                           "sender wrapped another content key", (long)i));
        else
            CHECK(accepted(c, i, NULL, m.del[i], m.del_len[i], BODY, BODY_LEN, FX_TS + 101,
                           "other devices of that envelope"));
    fx_msg_free(&m);

    /* AES-GCM: device 1 gets another content key AND a body that opens
     * under both body keys. Only the commitment check can refuse it. */
    if (c->s->aead == IMC_AEAD_AES256GCM) {
        e = fx_honest;
        e.other_ck_for = 1;
        e.forge_body = gcm_two_keys;
        spec_send(&m, c, 104, &e);
        for (size_t i = 0; i < m.n; i++) {
            uint8_t out[OUT_CAP];
            imc_msg_received info;
            if (i == 1)
                CHECK(rejected(c, i, NULL, m.del[i], m.del_len[i], R_AUTH,
                               "GCM body valid under two keys, other content key", (long)i));
            else
                CHECK_OK(fx_open(out, sizeof out, &info, c->b, &c->p, i, NULL, m.del[i],
                                 m.del_len[i]));
        }
        fx_msg_free(&m);
    }

    /* A signed commitment that does not match the content key. */
    uint8_t cm[IMC_MSG_COMMIT_BYTES];
    memset(cm, 0x3c, sizeof cm);
    e = fx_honest;
    e.commitment = cm;
    spec_send(&m, c, 102, &e);
    for (size_t i = 0; i < m.n; i++)
        CHECK(rejected(c, i, NULL, m.del[i], m.del_len[i], R_AUTH,
                       "signed commitment that does not match", (long)i));
    fx_msg_free(&m);

    /* Wrap keys derived for the wrong device id. */
    e = fx_honest;
    e.bad_wrap_id = true;
    spec_send(&m, c, 103, &e);
    for (size_t i = 0; i < m.n; i++)
        CHECK(rejected(c, i, NULL, m.del[i], m.del_len[i], R_AUTH, "wrap key for another id",
                       (long)i));
    fx_msg_free(&m);

    /* Wrap keys bound to another sender identity (the sender device id in
     * the sender context differs from the header's): every device refuses,
     * since it derives the wrap key for the sender it expects. */
    e = fx_honest;
    e.bad_sender_ctx = true;
    spec_send(&m, c, 104, &e);
    for (size_t i = 0; i < m.n; i++)
        CHECK(rejected(c, i, NULL, m.del[i], m.del_len[i], R_AUTH,
                       "wrap key bound to another sender", (long)i));
    fx_msg_free(&m);

    /* A signed low-order (X25519) or invalid (P-256) ephemeral key: the
     * recipient's DH refuses it, and that is the uniform IMC_ERR_AUTH. */
    static const char *const x25519_bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000080",
    };
    uint8_t bad[IMC_DH_PUBLIC_MAX];
    size_t nbad = c->s->dh_public_bytes == 32 ? sizeof x25519_bad / sizeof x25519_bad[0] : 3;
    for (size_t k = 0; k < nbad; k++) {
        if (c->s->dh_public_bytes == 32) {
            CHECK(imc_test_unhex(bad, sizeof bad, x25519_bad[k]) == 32);
        } else {
            memcpy(bad, c->p.pub[0].dh_pk, IMC_P256_PUBLIC_BYTES);
            if (k == 0)
                bad[64] ^= 1; /* off the curve */
            else if (k == 1)
                memset(bad + 1, 0, 64);
            else
                bad[0] = 0x02;
        }
        e = fx_honest;
        e.epk = bad;
        spec_send(&m, c, 110 + k, &e);
        for (size_t i = 0; i < m.n; i++)
            CHECK(rejected(c, i, NULL, m.del[i], m.del_len[i], R_AUTH,
                           "signed low-order / invalid ephemeral key", (long)k));
        fx_msg_free(&m);
    }
}

/* ---- Decrypt argument checks -------------------------------------------- */

static void test_decrypt_args(const ctx *c, imc_replay *rc)
{
    const uint8_t *a = c->m.del[0];
    size_t len = c->m.del_len[0];
    imc_msg_peer peer = fx_peer(&c->p);
    uint8_t out[OUT_CAP];
    imc_msg_received info;

    /* Output one byte too small: no partial plaintext. */
    memset(out, 0xAA, sizeof out);
    memset(&info, 0xAA, sizeof info);
    imc_status st =
        imc_msg_decrypt(out, BODY_LEN - 1, &info, c->b, &c->p.dev[0], &peer, rc, FX_NOW, a, len);
    CHECK(st == IMC_ERR_NO_SPACE && fx_all(out, BODY_LEN - 1, 0) && out[BODY_LEN - 1] == 0xAA &&
          fx_all(&info, sizeof info, 0));
    CHECK(imc_msg_decrypt(NULL, 0, &info, c->b, &c->p.dev[0], &peer, rc, FX_NOW, a, len) != IMC_OK);
    /* An envelope is not a delivery. */
    CHECK(rejected(c, 0, rc, c->m.env, c->m.env_len, R_MAL, "envelope given to decrypt", 0));
    /* A missing delivery is a missing argument (docs/wire-format.md). */
    CHECK_ST(
        imc_msg_decrypt(out, sizeof out, &info, c->b, &c->p.dev[0], &peer, rc, FX_NOW, NULL, len),
        IMC_ERR_ARG);
    CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, c->b, NULL, &peer, rc, FX_NOW, a, len),
             IMC_ERR_ARG);
    CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, c->b, &c->p.dev[0], NULL, rc, FX_NOW, a, len),
             IMC_ERR_ARG);
    CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, NULL, &c->p.dev[0], &peer, rc, FX_NOW, a, len),
             IMC_ERR_ARG);
    peer.device = NULL;
    CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, c->b, &c->p.dev[0], &peer, rc, FX_NOW, a, len),
             IMC_ERR_ARG);
    peer = fx_peer(&c->p);

    /* Decrypting in place (output overlapping the delivery): refused, and
     * the delivery is left as it was. */
    uint8_t *x = fx_dup(a, len);
    CHECK_ST(imc_msg_decrypt(x, len, &info, c->b, &c->p.dev[0], &peer, rc, FX_NOW, x, len),
             IMC_ERR_ARG);
    CHECK_ST(imc_msg_decrypt(x + c->L.body, BODY_LEN, &info, c->b, &c->p.dev[0], &peer, rc, FX_NOW,
                             x, len),
             IMC_ERR_ARG);
    CHECK(memcmp(x, a, len) == 0);
    free(x);

    /* A backend without the suite says so. */
    const imc_backend *all[FX_MAXB];
    size_t nb = imc_test_backends(all, FX_MAXB);
    for (size_t k = 0; k < nb; k++)
        if (!imc_suite_supported(c->s, all[k]))
            CHECK_ST(imc_msg_decrypt(out, sizeof out, &info, all[k], &c->p.dev[0], &peer, rc,
                                     FX_NOW, a, len),
                     IMC_ERR_UNSUPPORTED);
}

/* After all the attacks on device 0's state: the genuine delivery still
 * goes through (no rejected attempt burnt its id), once. */
static void test_final_replay(const ctx *c, imc_replay *rc)
{
    const uint8_t *a = c->m.del[0];
    size_t len = c->m.del_len[0];
    CHECK(accepted(c, 0, rc, a, len, BODY, BODY_LEN, FX_TS, "genuine after all attacks"));
    CHECK(rejected(c, 0, rc, a, len, R_REPLAY, "replay", 0));
    CHECK(rejected(c, 0, rc, a, len, R_REPLAY, "replay", 1));
    /* A forgery of a seen message is an authentication failure first. */
    uint8_t *x = fx_dup(a, len);
    x[c->L.body] ^= 1;
    CHECK(rejected(c, 0, rc, x, len, R_AUTH, "forged replay", 0));
    free(x);
    CHECK(accepted(c, 0, rc, c->m2.del[0], c->m2.del_len[0], BODY2, BODY_LEN, FX_TS + 1000,
                   "message 2 after message 1"));
    CHECK(rejected(c, 0, rc, c->m2.del[0], c->m2.del_len[0], R_REPLAY, "replay of m2", 0));
    CHECK(rejected(c, 0, rc, a, len, R_REPLAY, "replay of m1 after m2", 0));
    /* Without a state there is no replay check. */
    CHECK(accepted(c, 0, NULL, a, len, BODY, BODY_LEN, FX_TS, "no state"));
    /* Older than the maximum age: refused with or without a state. */
    fx_msg m;
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 12);
    CHECK_OK(fx_send(&m, &c->p, c->b, &rng, 0, BODY, BODY_LEN));
    if (m.n == NDEV) {
        imc_replay *fresh = fx_replay(c->b);
        CHECK(rejected(c, 0, fresh, m.del[0], m.del_len[0], R_EXPIRED, "timestamp 0", 0));
        CHECK(rejected(c, 0, NULL, m.del[0], m.del_len[0], R_EXPIRED,
                       "timestamp 0 without a state", 0));
        imc_replay_close(fresh);
    }
    fx_msg_free(&m);
}

/* ---- Encrypt: low-order recipients and argument checks ------------------ */

static imc_status enc(const ctx *c, uint8_t *out, size_t cap, size_t *out_len,
                      const imc_device_public *rcpt, size_t n, const uint8_t *handle,
                      size_t handle_len, const uint8_t *body, size_t body_len)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 9);
    imc_msg_send req = {handle, handle_len, &c->p.sender, rcpt, n, FX_TS, body, body_len};
    return imc_msg_encrypt(out, cap, out_len, c->b, &rng, &req);
}

/* Encrypt must fail with a status in `allowed`, *out_len = 0, and leave no
 * byte of an envelope in the buffer. */
static void enc_fails(const ctx *c, const imc_device_public *rcpt, size_t n,
                      const uint8_t *handle, size_t handle_len, const uint8_t *body,
                      size_t body_len, size_t cap, unsigned allowed, const char *what)
{
    uint8_t *out = fx_alloc(cap);
    memset(out, 0xAA, cap);
    size_t out_len = 12345;
    imc_status st = enc(c, out, cap, &out_len, rcpt, n, handle, handle_len, body, body_len);
    bool clean = fx_clean(out, cap, 0xAA);
    bool ok = in_mask(st, allowed) && clean && out_len == 0;
    if (!ok)
        fprintf(stderr, "  [%s] encrypt, %s: got %s, buffer %s, out_len %zu\n", c->tag, what,
                imc_status_str(st), clean ? "clean" : "NOT CLEAN", out_len);
    CHECK(ok);
    free(out);
}

static void test_low_order_recipient(const ctx *c)
{
    size_t cap = imc_msg_envelope_size(c->s->id, c->p.handle_len, NDEV, BODY_LEN);
    imc_device_public r[NDEV];
    memcpy(r, c->p.pub, sizeof r);
    unsigned weak = ST(IMC_ERR_WEAK_KEY);
    if (c->s->dh_public_bytes == IMC_X25519_PUBLIC_BYTES) {
        /* The seven low-order encodings (and one with bit 255 set): all
         * give the zero shared secret. */
        static const char *const lo[] = {
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "0100000000000000000000000000000000000000000000000000000000000080",
        };
        for (size_t k = 0; k < sizeof lo / sizeof lo[0]; k++) {
            CHECK(imc_test_unhex(r[1].dh_pk, IMC_X25519_PUBLIC_BYTES, lo[k]) == 32);
            enc_fails(c, r, NDEV, c->p.handle, c->p.handle_len, BODY, BODY_LEN, cap, weak,
                      "low-order recipient key");
        }
    } else {
        memcpy(r[1].dh_pk, c->p.pub[1].dh_pk, IMC_P256_PUBLIC_BYTES);
        r[1].dh_pk[64] ^= 1;
        enc_fails(c, r, NDEV, c->p.handle, c->p.handle_len, BODY, BODY_LEN, cap, weak,
                  "recipient key off the curve");
        memset(r[1].dh_pk + 1, 0, 64);
        enc_fails(c, r, NDEV, c->p.handle, c->p.handle_len, BODY, BODY_LEN, cap, weak,
                  "recipient key (0, 0)");
        memset(r[1].dh_pk, 0, IMC_P256_PUBLIC_BYTES);
        enc_fails(c, r, NDEV, c->p.handle, c->p.handle_len, BODY, BODY_LEN, cap, weak,
                  "recipient key all zero");
        memcpy(r[1].dh_pk, c->p.pub[1].dh_pk, IMC_P256_PUBLIC_BYTES);
        r[1].dh_pk[0] = 0x02;
        enc_fails(c, r, NDEV, c->p.handle, c->p.handle_len, BODY, BODY_LEN, cap, weak,
                  "recipient key compressed");
    }
}

static void test_encrypt_args(const ctx *c)
{
    const fx_party *p = &c->p;
    size_t cap = imc_msg_envelope_size(c->s->id, p->handle_len, NDEV, BODY_LEN);
    size_t big = imc_msg_envelope_size(c->s->id, IMC_MAX_HANDLE_BYTES, NDEV,
                                       IMC_MAX_BODY_BYTES) + 4096;
    imc_device_public r[NDEV];

    /* Sizes. */
    CHECK(imc_msg_envelope_size(c->s->id, p->handle_len, 0, BODY_LEN) == 0);
    CHECK(imc_msg_envelope_size(c->s->id, p->handle_len, IMC_MAX_RECIPIENTS + 1, 1) == 0);
    CHECK(imc_msg_envelope_size(c->s->id, 0, 1, 1) == 0);
    CHECK(imc_msg_envelope_size(c->s->id, IMC_MAX_HANDLE_BYTES + 1, 1, 1) == 0);
    CHECK(imc_msg_envelope_size(c->s->id, 1, 1, IMC_MAX_BODY_BYTES + 1) == 0);
    CHECK(imc_msg_envelope_size(4, 1, 1, 1) == 0);
    CHECK(imc_msg_delivery_size(0, 1, 1, 1) == 0);
    CHECK(imc_msg_delivery_size(c->s->id, 1, 1, IMC_MAX_BODY_BYTES + 1) == 0);
    CHECK(imc_msg_delivery_size(c->s->id, 1, 0, 1) == 0);
    CHECK(imc_msg_delivery_size(c->s->id, 1, IMC_MAX_RECIPIENTS + 1, 1) == 0);

    /* Recipient counts. */
    enc_fails(c, p->pub, 0, p->handle, p->handle_len, BODY, BODY_LEN, cap, ST(IMC_ERR_ARG),
              "0 recipients");
    imc_device_public *many = fx_alloc((IMC_MAX_RECIPIENTS + 1) * sizeof *many);
    for (size_t i = 0; i <= IMC_MAX_RECIPIENTS; i++) {
        many[i] = p->pub[i % NDEV];
        many[i].device_id = fx_device_id(i);
    }
    size_t cap_many = imc_msg_envelope_size(c->s->id, p->handle_len, IMC_MAX_RECIPIENTS,
                                            BODY_LEN) + 8 + c->s->wrap_bytes;
    enc_fails(c, many, IMC_MAX_RECIPIENTS + 1, p->handle, p->handle_len, BODY, BODY_LEN,
              cap_many, ST(IMC_ERR_LIMIT), "1025 recipients");
    free(many);

    /* Body size: the limit is accepted, one more byte is not. */
    uint8_t *body = fx_alloc(IMC_MAX_BODY_BYTES + 1);
    for (size_t i = 0; i <= IMC_MAX_BODY_BYTES; i++)
        body[i] = (uint8_t)(i * 7 + 3);
    enc_fails(c, p->pub, NDEV, p->handle, p->handle_len, body, IMC_MAX_BODY_BYTES + 1, big,
              ST(IMC_ERR_LIMIT), "body over 64 KiB");
    {
        fx_msg m;
        imc_rng rng;
        imc_rng_init_deterministic(&rng, SEED, 10);
        CHECK_OK(fx_send(&m, p, c->b, &rng, FX_TS, body, IMC_MAX_BODY_BYTES));
        uint8_t *out = fx_alloc(IMC_MAX_BODY_BYTES);
        imc_msg_received info;
        CHECK(m.n == NDEV);
        if (m.n == NDEV) {
            CHECK_OK(fx_open(out, IMC_MAX_BODY_BYTES, &info, c->b, p, 2, NULL, m.del[2],
                             m.del_len[2]));
            CHECK(info.body_len == IMC_MAX_BODY_BYTES &&
                  memcmp(out, body, IMC_MAX_BODY_BYTES) == 0);
        }
        free(out);
        fx_msg_free(&m);
    }
    /* An empty body is fine. */
    {
        fx_msg m;
        imc_rng rng;
        imc_rng_init_deterministic(&rng, SEED, 11);
        CHECK_OK(fx_send(&m, p, c->b, &rng, FX_TS, NULL, 0));
        CHECK(m.n == NDEV);
        if (m.n == NDEV)
            CHECK(accepted(c, 1, NULL, m.del[1], m.del_len[1], BODY, 0, FX_TS, "empty body"));
        fx_msg_free(&m);
    }
    enc_fails(c, p->pub, NDEV, p->handle, p->handle_len, NULL, 5, cap, ST(IMC_ERR_ARG),
              "NULL body of length 5");

    /* Handles: 0 and 256 bytes fail, 255 works. */
    uint8_t handle[IMC_MAX_HANDLE_BYTES + 1];
    memset(handle, 'h', sizeof handle);
    enc_fails(c, p->pub, NDEV, handle, 0, BODY, BODY_LEN, big, ST(IMC_ERR_ARG),
              "handle of 0 bytes");
    enc_fails(c, p->pub, NDEV, handle, IMC_MAX_HANDLE_BYTES + 1, BODY, BODY_LEN, big,
              ST(IMC_ERR_LIMIT), "handle of 256 bytes");
    {
        size_t n255 = imc_msg_envelope_size(c->s->id, IMC_MAX_HANDLE_BYTES, NDEV, BODY_LEN);
        uint8_t *out = fx_alloc(n255);
        size_t out_len = 0;
        CHECK_OK(enc(c, out, n255, &out_len, p->pub, NDEV, handle, IMC_MAX_HANDLE_BYTES, BODY,
                     BODY_LEN));
        imc_delivery_view v[NDEV];
        size_t cnt = 0;
        CHECK_OK(imc_msg_fanout(v, NDEV, &cnt, out, out_len));
        uint8_t d[1024];
        size_t dl = 0;
        CHECK_OK(imc_delivery_view_copy(d, sizeof d, &dl, &v[0]));
        imc_msg_peer peer = {handle, IMC_MAX_HANDLE_BYTES, &p->sender.pub};
        uint8_t o[BODY_LEN];
        imc_msg_received info;
        CHECK_OK(imc_msg_decrypt(o, sizeof o, &info, c->b, &p->dev[0], &peer, NULL, FX_NOW, d, dl));
        CHECK(info.sender_handle_len == IMC_MAX_HANDLE_BYTES &&
              memcmp(info.sender_handle, handle, IMC_MAX_HANDLE_BYTES) == 0);
        free(out);
    }

    /* Recipients of another suite; repeated ids; a NULL list. */
    memcpy(r, p->pub, sizeof r);
    r[2].suite = c->s->id == 1 ? 3 : 1;
    enc_fails(c, r, NDEV, p->handle, p->handle_len, BODY, BODY_LEN, cap, ST(IMC_ERR_ARG),
              "recipient of another suite");
    memcpy(r, p->pub, sizeof r);
    r[2] = r[0];
    enc_fails(c, r, NDEV, p->handle, p->handle_len, BODY, BODY_LEN, cap, ST(IMC_ERR_ARG),
              "the same recipient twice");
    memcpy(r, p->pub, sizeof r);
    r[2].device_id = r[1].device_id;
    enc_fails(c, r, NDEV, p->handle, p->handle_len, BODY, BODY_LEN, cap, ST(IMC_ERR_ARG),
              "two keys under one device id");
    enc_fails(c, NULL, NDEV, p->handle, p->handle_len, BODY, BODY_LEN, cap, ST(IMC_ERR_ARG),
              "NULL recipients");
    /* Sender keys of another suite than the recipients'. */
    {
        imc_device_keys s2 = p->sender;
        s2.pub.suite = c->s->id == 1 ? 3 : 1;
        imc_rng rng;
        imc_rng_init_deterministic(&rng, SEED, 9);
        uint8_t *out = fx_alloc(cap);
        memset(out, 0xAA, cap);
        size_t out_len = 0;
        imc_msg_send req = {p->handle, p->handle_len, &s2, p->pub, NDEV, FX_TS, BODY, BODY_LEN};
        CHECK(imc_msg_encrypt(out, cap, &out_len, c->b, &rng, &req) != IMC_OK);
        CHECK(fx_clean(out, cap, 0xAA));
        free(out);
        imc_keys_wipe(&s2);
    }

    /* Recipients out of order: the envelope lists them by id anyway. */
    r[0] = p->pub[2];
    r[1] = p->pub[0];
    r[2] = p->pub[1];
    {
        uint8_t *out = fx_alloc(cap);
        size_t out_len = 0;
        CHECK_OK(enc(c, out, cap, &out_len, r, NDEV, p->handle, p->handle_len, BODY,
                     BODY_LEN));
        imc_envelope env;
        CHECK_OK(imc_msg_parse_envelope(&env, out, out_len));
        for (size_t i = 0; i < NDEV && env.rcpt.count == NDEV; i++)
            CHECK(imc_msg_envelope_entry(&env, i).device_id == fx_device_id(i));
        fx_msg m = {0};
        m.env = out;
        m.env_len = out_len;
        CHECK_OK(fx_fanout(&m));
        for (size_t i = 0; i < m.n; i++)
            CHECK(accepted(c, fx_find_device(p, m.del_dev[i]), NULL, m.del[i], m.del_len[i],
                           BODY, BODY_LEN, FX_TS, "recipients given out of order"));
        fx_msg_free(&m);
    }

    /* Output too small: IMC_ERR_NO_SPACE and nothing left behind. */
    size_t caps[] = {cap - 1, cap - c->s->sig_bytes, cap / 2, 5, 1};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        enc_fails(c, p->pub, NDEV, p->handle, p->handle_len, BODY, BODY_LEN, caps[i],
                  ST(IMC_ERR_NO_SPACE), "output buffer too small");
    size_t out_len = 0;
    imc_status st = enc(c, NULL, 0, &out_len, p->pub, NDEV, p->handle, p->handle_len, BODY,
                        BODY_LEN);
    CHECK(st == IMC_ERR_NO_SPACE || st == IMC_ERR_ARG);
    uint8_t one[1];
    /* No buffer at all: the library treats it as no space. */
    st = enc(c, NULL, cap, &out_len, p->pub, NDEV, p->handle, p->handle_len, BODY, BODY_LEN);
    CHECK(st == IMC_ERR_ARG || st == IMC_ERR_NO_SPACE);
    /* A body inside the bytes the envelope would be written to. */
    {
        uint8_t *out = fx_alloc(cap);
        memcpy(out + 40, BODY, BODY_LEN);
        CHECK_ST(enc(c, out, cap, &out_len, p->pub, NDEV, p->handle, p->handle_len, out + 40,
                     BODY_LEN),
                 IMC_ERR_ARG);
        CHECK(out_len == 0 && memcmp(out + 40, BODY, BODY_LEN) == 0);
        free(out);
    }
    CHECK_ST(imc_msg_encrypt(one, sizeof one, &out_len, c->b, NULL, NULL), IMC_ERR_ARG);
    free(body);
}

/* ---- The strict envelope parser ----------------------------------------- */

static void parse_fails(const ctx *c, const uint8_t *e, size_t len, unsigned allowed,
                        const char *what, long idx)
{
    uint8_t *x = fx_dup(e, len);
    imc_envelope env;
    imc_status st = imc_msg_parse_envelope(&env, x, len);
    imc_delivery_view views[4];
    size_t count = 0;
    imc_status st2 = imc_msg_fanout(views, 4, &count, x, len);
    bool ok = in_mask(st, allowed) && st2 != IMC_OK;
    if (!ok && n_reported++ < 60)
        fprintf(stderr, "  [%s] envelope %s #%ld: parse %s, fanout %s\n", c->tag, what, idx,
                imc_status_str(st), imc_status_str(st2));
    CHECK(ok);
    free(x);
}

/* The envelope with n_entries recipients: the first ones from e, then
 * made-up ones with increasing ids and patterned wraps. */
static uint8_t *with_entries(size_t *out_len, const uint8_t *e, const fx_layout *E,
                             size_t n_entries, uint16_t count_field)
{
    size_t have = E->count < n_entries ? E->count : n_entries;
    *out_len = E->ids + n_entries * (8 + E->W) + E->S;
    uint8_t *x = fx_alloc(*out_len);
    memcpy(x, e, E->ids);
    uint8_t *ids = x + E->ids, *wraps = ids + 8 * n_entries;
    memcpy(ids, e + E->ids, 8 * have);
    memcpy(wraps, e + E->wraps, have * E->W);
    for (size_t i = have; i < n_entries; i++) {
        fx_put64(ids + 8 * i, fx_device_id(i));
        memset(wraps + i * E->W, (int)(i & 0xFF), E->W);
    }
    fx_put16(x + E->tail, count_field);
    memcpy(x + *out_len - E->S, e + E->sig, E->S);
    return x;
}

static void test_envelope_parser(const ctx *c)
{
    const uint8_t *e = c->m.env;
    size_t len = c->m.env_len, n;
    fx_layout E;
    CHECK(fx_layout_read(&E, e, len));
    uint8_t *x;
    imc_envelope env;

    for (size_t k = 0; k < len; k++)
        parse_fails(c, e, k, R_MAL, "truncated to", (long)k);
    x = fx_alloc(len + 1);
    memcpy(x, e, len);
    parse_fails(c, x, len + 1, R_MAL, "trailing byte", 0);
    free(x);

    /* Counts. */
    x = with_entries(&n, e, &E, 0, 0);
    parse_fails(c, x, n, R_MAL, "count 0", 0);
    free(x);
    x = with_entries(&n, e, &E, NDEV, 0);
    parse_fails(c, x, n, R_MAL, "count 0 with entries", 0);
    free(x);
    x = with_entries(&n, e, &E, NDEV, NDEV - 1);
    parse_fails(c, x, n, R_MAL, "count one short of the entries", 0);
    free(x);
    x = with_entries(&n, e, &E, NDEV, NDEV + 1);
    parse_fails(c, x, n, R_MAL, "count one more than the entries", 0);
    free(x);
    x = with_entries(&n, e, &E, IMC_MAX_RECIPIENTS + 1, IMC_MAX_RECIPIENTS + 1);
    parse_fails(c, x, n, ST(IMC_ERR_LIMIT), "count 1025", 0);
    free(x);
    x = with_entries(&n, e, &E, IMC_MAX_RECIPIENTS, IMC_MAX_RECIPIENTS);
    CHECK_OK(imc_msg_parse_envelope(&env, x, n)); /* the limit itself parses */
    {
        imc_delivery_view *v = fx_alloc(IMC_MAX_RECIPIENTS * sizeof *v);
        size_t cnt = 0;
        CHECK_OK(imc_msg_fanout(v, IMC_MAX_RECIPIENTS, &cnt, x, n));
        CHECK(cnt == IMC_MAX_RECIPIENTS && v[IMC_MAX_RECIPIENTS - 1].device_id ==
                                               fx_device_id(IMC_MAX_RECIPIENTS - 1));
        free(v);
    }
    free(x);
    x = with_entries(&n, e, &E, 65535, 65535);
    parse_fails(c, x, n, ST(IMC_ERR_LIMIT), "count 65535", 0);
    free(x);

    /* Device ids: repeated, decreasing. */
    x = fx_dup(e, len);
    memcpy(x + E.ids + 8, x + E.ids, 8);
    parse_fails(c, x, len, R_MAL, "duplicate device id", 0);
    free(x);
    x = fx_dup(e, len);
    memcpy(x + E.ids + 16, x + E.ids + 8, 8);
    parse_fails(c, x, len, R_MAL, "duplicate device id (last two)", 0);
    free(x);
    x = fx_dup(e, len);
    memcpy(x + E.ids, e + E.ids + 8, 8);
    memcpy(x + E.ids + 8, e + E.ids, 8);
    parse_fails(c, x, len, R_MAL, "decreasing device ids", 0);
    free(x);
    x = fx_dup(e, len);
    fx_put64(x + E.ids + 16, 0);
    parse_fails(c, x, len, R_MAL, "last device id 0", 0);
    free(x);
    x = fx_dup(e, len);
    fx_put64(x + E.ids, 0);
    parse_fails(c, x, len, R_MAL, "first device id 0", 0);
    free(x);
    x = fx_dup(e, len);
    fx_put64(x + E.dev, 0);
    parse_fails(c, x, len, R_MAL, "sender device id 0", 0);
    free(x);

    /* Handle length. */
    x = fx_splice(&n, e, len, E.handle, E.h, NULL, 0);
    x[4] = 0;
    parse_fails(c, x, n, R_MAL, "handle length 0", 0);
    free(x);
    {
        uint8_t h255[IMC_MAX_HANDLE_BYTES];
        memset(h255, 'z', sizeof h255);
        x = fx_splice(&n, e, len, E.handle, E.h, h255, sizeof h255);
        x[4] = (uint8_t)sizeof h255;
        CHECK_OK(imc_msg_parse_envelope(&env, x, n));
        free(x);
    }

    /* Body length. */
    static const uint32_t short_c[] = {0, 1, 15};
    for (size_t k = 0; k < 3; k++) {
        uint8_t junk[16] = {0};
        x = fx_splice(&n, e, len, E.body, E.c, junk, short_c[k]);
        fx_put32(x + E.blen, short_c[k]);
        parse_fails(c, x, n, R_MAL, "body length < 16", (long)short_c[k]);
        free(x);
    }
    {
        size_t cmax = IMC_MAX_BODY_BYTES + IMC_AEAD_TAG_BYTES;
        uint8_t *junk = fx_alloc(cmax + 1);
        x = fx_splice(&n, e, len, E.body, E.c, junk, cmax);
        fx_put32(x + E.blen, (uint32_t)cmax);
        CHECK_OK(imc_msg_parse_envelope(&env, x, n)); /* the limit itself parses */
        free(x);
        x = fx_splice(&n, e, len, E.body, E.c, junk, cmax + 1);
        fx_put32(x + E.blen, (uint32_t)cmax + 1);
        parse_fails(c, x, n, ST(IMC_ERR_LIMIT), "body length over the limit", 0);
        free(x);
        free(junk);
    }
    x = fx_dup(e, len);
    fx_put32(x + E.blen, UINT32_MAX);
    parse_fails(c, x, len, ST(IMC_ERR_LIMIT), "body length 2^32-1", 0);
    free(x);
    /* Checked as soon as read: truncated right after an over-limit length. */
    x = fx_dup(e, E.body);
    fx_put32(x + E.blen, IMC_MAX_BODY_BYTES + 17);
    parse_fails(c, x, E.body, ST(IMC_ERR_LIMIT), "truncated after an over-limit length", 0);
    free(x);

    /* Version, kind, suite. */
    static const uint8_t versions[] = {0, 1, 3, 0xFF}; /* 1: the previous format */
    for (size_t k = 0; k < sizeof versions; k++) {
        x = fx_dup(e, len);
        x[0] = versions[k];
        parse_fails(c, x, len, R_MAL, "version", versions[k]);
        free(x);
    }
    static const uint8_t kinds[] = {0, IMC_MSG_KIND_DELIVERY, 'e', 0xFF};
    for (size_t k = 0; k < sizeof kinds; k++) {
        x = fx_dup(e, len);
        x[1] = kinds[k];
        parse_fails(c, x, len, R_MAL, "kind", kinds[k]);
        free(x);
    }
    static const uint16_t suites[] = {0, 4, 5, 0x0100, 0x0103, 0xFFFF};
    for (size_t k = 0; k < sizeof suites / sizeof suites[0]; k++) {
        x = fx_dup(e, len);
        fx_put16(x + 2, suites[k]);
        parse_fails(c, x, len, R_MAL, "unknown suite", suites[k]);
        free(x);
    }

    /* The delivery parser refuses envelopes and vice versa. */
    imc_delivery d;
    CHECK_ST(imc_msg_parse_delivery(&d, e, len), IMC_ERR_MALFORMED);
    CHECK_ST(imc_msg_parse_envelope(&env, c->m.del[0], c->m.del_len[0]), IMC_ERR_MALFORMED);
    for (size_t k = 0; k < c->m.del_len[0]; k++) {
        x = fx_dup(c->m.del[0], k);
        CHECK_ST(imc_msg_parse_delivery(&d, x, k), IMC_ERR_MALFORMED);
        free(x);
    }
}

/* ---- The replay state beyond its window ------------------------------------ */

/* Sends k messages to device 0 of p with timestamps FX_TS + ts_of(i) and
 * decrypts each once; then replays all of them. */
static void replay_run(const imc_backend *b, const fx_party *p, size_t k, bool shuffled)
{
    ctx c = {.b = b, .s = p->suite};
    c.p = *p;
    snprintf(c.tag, sizeof c.tag, "%s/%s replay%s", p->suite->short_name, imc_backend_name(b),
             shuffled ? " shuffled" : "");
    imc_replay *rc = fx_replay(b);
    uint8_t **del = fx_alloc(k * sizeof *del);
    size_t *len = fx_alloc(k * sizeof *len);
    uint64_t *ts = fx_alloc(k * sizeof *ts);
    for (size_t i = 0; i < k; i++)
        ts[i] = FX_TS + i;
    if (shuffled) {
        imc_rng rng;
        imc_rng_init_deterministic(&rng, SEED, 42);
        for (size_t i = k - 1; i > 0; i--) {
            uint32_t r = 0;
            CHECK_OK(imc_rng_fill(&rng, NULL, (uint8_t *)&r, sizeof r));
            size_t j = r % (i + 1);
            uint64_t t = ts[i];
            ts[i] = ts[j];
            ts[j] = t;
        }
    }
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, shuffled ? 501 : 500);
    size_t accepted_n = 0, refused_n = 0, bad = 0;
    for (size_t i = 0; i < k; i++) {
        fx_msg m;
        uint8_t body = (uint8_t)i;
        if (fx_send(&m, p, b, &rng, ts[i], &body, 1) != IMC_OK || m.n != 1) {
            bad++;
            fx_msg_free(&m);
            del[i] = NULL;
            continue;
        }
        del[i] = m.del[0];
        len[i] = m.del_len[0];
        m.del[0] = NULL;
        fx_msg_free(&m);
        uint8_t out[8];
        imc_msg_received info;
        imc_status st = fx_open(out, sizeof out, &info, b, p, 0, rc, del[i], len[i]);
        if (st == IMC_OK && out[0] == body && info.timestamp_ms == ts[i])
            accepted_n++;
        else if (st == IMC_ERR_REPLAY && shuffled)
            refused_n++; /* fresh, but not newer than the floor: refused */
        else
            bad++;
    }
    CHECK(bad == 0);
    /* In order, every fresh message is accepted. */
    CHECK(shuffled || accepted_n == k);
    CHECK(accepted_n + refused_n == k && accepted_n >= IMC_REPLAY_WINDOW);
    /* More ids than the window went in, so some were forgotten; not one of the
     * k may be replayed (the floor refuses those no longer remembered). */
    size_t replayed = 0;
    for (size_t i = 0; i < k; i++) {
        if (del[i] == NULL)
            continue;
        if (!rejected(&c, 0, rc, del[i], len[i], R_REPLAY, "replay beyond capacity", (long)i))
            replayed++;
        free(del[i]);
    }
    CHECK(replayed == 0);
    if (replayed != 0)
        fprintf(stderr, "  [%s] %zu of %zu old messages replayed\n", c.tag, replayed, k);
    /* A fresh message newer than everything is accepted; a fresh one as old
     * as the first is refused by the floor. */
    fx_msg m;
    uint8_t body = 0x77;
    CHECK_OK(fx_send(&m, p, b, &rng, FX_TS + k, &body, 1));
    if (m.n == 1)
        CHECK(accepted(&c, 0, rc, m.del[0], m.del_len[0], &body, 1, FX_TS + k,
                       "fresh after the window filled"));
    fx_msg_free(&m);
    CHECK_OK(fx_send(&m, p, b, &rng, FX_TS, &body, 1));
    if (m.n == 1)
        CHECK(rejected(&c, 0, rc, m.del[0], m.del_len[0], R_REPLAY,
                       "fresh id, timestamp below the floor", 0));
    fx_msg_free(&m);
    printf("  replay state (%s): %zu accepted, %zu refused by the floor on first sight\n",
           shuffled ? "shuffled timestamps" : "increasing timestamps", accepted_n, refused_n);
    free(del);
    free(len);
    free(ts);
    imc_replay_close(rc);
}

static void test_replay_capacity(const imc_backend *b)
{
    fx_party p;
    CHECK_OK(fx_party_init(&p, b, IMC_SUITE_X25519_ED25519_CHACHA20POLY1305, 1, "alice", SEED,
                           3));
    size_t k = IMC_REPLAY_WINDOW + IMC_REPLAY_WINDOW / 8;
    replay_run(b, &p, k, false);
    replay_run(b, &p, k, true);
    fx_party_free(&p);
}

/* ---- Driver ------------------------------------------------------------ */

static void run(const imc_suite *s, const imc_backend *b)
{
    ctx c;
    memset(&c, 0, sizeof c);
    c.b = b;
    c.s = s;
    snprintf(c.tag, sizeof c.tag, "%s/%s", s->short_name, imc_backend_name(b));
    unsigned long f0 = imc_test_failed_, d0 = n_decrypts;
    CHECK_OK(fx_party_init(&c.p, b, s->id, NDEV, "alice", SEED, 1));
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 2);
    CHECK_OK(fx_send(&c.m, &c.p, b, &rng, FX_TS, BODY, BODY_LEN));
    CHECK_OK(fx_send(&c.m2, &c.p, b, &rng, FX_TS + 1000, BODY2, BODY_LEN));
    if (c.m.n != NDEV || c.m2.n != NDEV ||
        !fx_layout_read(&c.L, c.m.del[0], c.m.del_len[0])) {
        fprintf(stderr, "  [%s] set-up failed, skipping the attacks\n", c.tag);
        CHECK(0);
    } else {
        imc_replay *rc = fx_replay(b);
        test_layout(&c);
        test_genuine(&c);
        test_bitflips(&c, rc, false);
        test_bitflips(&c, rc, true);
        test_truncate_extend(&c, rc);
        test_swap_splice(&c, rc);
        test_header_fields(&c, rc);
        test_downgrade(&c, rc);
        test_wrong_device(&c);
        test_wrong_peer(&c, rc);
        test_malicious_sender(&c);
        test_decrypt_args(&c, rc);
        test_final_replay(&c, rc);
        test_low_order_recipient(&c);
        test_encrypt_args(&c);
        test_envelope_parser(&c);
        imc_replay_close(rc);
    }
    printf("%-26s %-8s %6lu decrypts, %s\n", s->short_name, imc_backend_name(b),
           n_decrypts - d0, imc_test_failed_ == f0 ? "ok" : "FAILURES");
    fx_msg_free(&c.m);
    fx_msg_free(&c.m2);
    fx_party_free(&c.p);
}

int main(void)
{
    const imc_backend *bs[FX_MAXB];
    size_t nb = imc_test_backends(bs, FX_MAXB);
    CHECK(nb >= 1);
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++)
        for (size_t k = 0; k < nb; k++)
            if (imc_suite_supported(imc_suite_get(id), bs[k]))
                run(imc_suite_get(id), bs[k]);
    if (nb >= 1)
        test_replay_capacity(bs[0]);
    return imc_test_end();
}
