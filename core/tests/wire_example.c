/* The worked example: suite 1, deterministic RNG, one sender device, two
 * recipient devices, body "hello, imcore".
 *
 * Every intermediate value is computed here by hand from
 * docs/wire-format.md, with only the primitives of imcore/crypto.h and
 * plain byte concatenation (no imcore/wire.h, no msg internals), and then
 * compared with what the library produced. So the printed example is at
 * once a specification check and a regression test. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wire_example.h"

#define SUITE IMC_SUITE_X25519_ED25519_CHACHA20POLY1305
#define AEAD IMC_AEAD_CHACHA20POLY1305
#define NDEV 2

static const char HANDLE[] = "alice@example.com";
static const char BODY[] = "hello, imcore";
static const uint64_t SENDER_ID = 0x0A01;
/* Passed to encrypt in this order; the envelope sorts them. */
static const uint64_t RCPT_IDS[NDEV] = {0x0B02, 0x0B01};
static const uint64_t TIMESTAMP = 1700000000000ull;

/* ---- Output ------------------------------------------------------------ */

typedef struct out {
    char *buf;
    size_t cap;
    size_t len;
    int err;
} out;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void emit(out *o, const char *fmt, ...)
{
    if (o->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->err = 1;
        return;
    }
    o->len += (size_t)n;
}

/* `name = hex`, wrapped at 32 bytes per line with continuation lines
 * indented, inside a fenced block opened by the caller. */
static void hexval(out *o, const char *name, const uint8_t *p, size_t n)
{
    emit(o, "%s (%zu) =", name, n);
    for (size_t i = 0; i < n; i++) {
        if (i % 32 == 0)
            emit(o, "\n    ");
        emit(o, "%02x", p[i]);
    }
    emit(o, "\n");
}

/* ---- Byte building ----------------------------------------------------- */

typedef struct bytes {
    uint8_t b[2048];
    size_t n;
} bytes;

static void cat(bytes *x, const void *p, size_t n)
{
    if (x->n + n <= sizeof x->b) {
        memcpy(x->b + x->n, p, n);
        x->n += n;
    } else {
        x->n = sizeof x->b + 1; /* poisoned: compare() will fail */
    }
}

static void cat_str(bytes *x, const char *s) { cat(x, s, strlen(s)); }

static void cat_be(bytes *x, uint64_t v, size_t width)
{
    uint8_t t[8];
    for (size_t i = 0; i < width; i++)
        t[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    cat(x, t, width);
}

static int fail(const char *what)
{
    fprintf(stderr, "wire example: %s\n", what);
    return 0;
}

static int same(const char *what, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    if (an == bn && memcmp(a, b, an) == 0)
        return 1;
    return fail(what);
}

/* ---- The example ------------------------------------------------------- */

typedef struct example {
    imc_device_keys sender;
    imc_device_keys rcpt[NDEV];  /* in generation order: 0x0B01, 0x0B02 */
    imc_device_public pubs[NDEV]; /* in the order passed to encrypt */
    uint8_t mid[16], ck[32], esk[32], epk[32], okm[64];
    bytes sh, ad, body_ct, sig_input, envelope, delivery;
    uint8_t body_hash[32], sig[64], sender_ctx[32], rcpt_hash[32];
    uint8_t z[NDEV][32], wrap_key[NDEV][32], wrap[NDEV][48];
    bytes wrap_info[NDEV];
    bytes content_info, sender_info, rcpt_set, rcpt_info;
} example;

static const imc_device_keys *rcpt_by_id(const example *e, uint64_t id)
{
    return e->rcpt[0].pub.device_id == id ? &e->rcpt[0] : &e->rcpt[1];
}

/* The keys, then the library's envelope from the same RNG stream. */
static int make_keys_and_envelope(example *e, const imc_backend *b, uint8_t *env, size_t *env_len)
{
    uint8_t seed[IMC_RNG_SEED_BYTES];
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)i;
    imc_rng rng, again;
    imc_rng_init_deterministic(&rng, seed, 0);
    if (imc_keys_generate(&e->sender, b, &rng, SUITE, SENDER_ID) != IMC_OK ||
        imc_keys_generate(&e->rcpt[0], b, &rng, SUITE, 0x0B01) != IMC_OK ||
        imc_keys_generate(&e->rcpt[1], b, &rng, SUITE, 0x0B02) != IMC_OK)
        return fail("keygen");
    for (size_t i = 0; i < NDEV; i++)
        e->pubs[i] = rcpt_by_id(e, RCPT_IDS[i])->pub;

    /* Encrypt draws message id, content key, ephemeral secret in order. */
    again = rng;
    if (imc_rng_fill(&again, b, e->mid, 16) != IMC_OK ||
        imc_rng_fill(&again, b, e->ck, 32) != IMC_OK ||
        imc_rng_fill(&again, b, e->esk, 32) != IMC_OK)
        return fail("rng");
    imc_msg_send req = {
        .sender_handle = (const uint8_t *)HANDLE,
        .sender_handle_len = strlen(HANDLE),
        .sender = &e->sender,
        .recipients = e->pubs,
        .recipient_count = NDEV,
        .timestamp_ms = TIMESTAMP,
        .body = (const uint8_t *)BODY,
        .body_len = strlen(BODY),
    };
    if (imc_msg_encrypt(env, 1024, env_len, b, &rng, &req) != IMC_OK)
        return fail("imc_msg_encrypt");
    return 1;
}

/* Steps 1-6 of the sender, by hand. */
static int compute_by_hand(example *e, const imc_backend *b)
{
    const uint8_t zero_nonce[12] = {0};
    size_t body_len = strlen(BODY);
    if (imc_crypto_x25519_public(b, e->epk, e->esk) != IMC_OK)
        return fail("epk");

    cat_str(&e->content_info, "imcore/v2/content");
    cat(&e->content_info, e->mid, 16);
    if (imc_crypto_hkdf_sha256(b, e->okm, 64, NULL, 0, e->ck, 32, e->content_info.b,
                               e->content_info.n) != IMC_OK)
        return fail("okm");

    cat_be(&e->sh, strlen(HANDLE), 1);
    cat_str(&e->sh, HANDLE);
    cat_be(&e->sh, SENDER_ID, 8);
    cat(&e->sh, e->mid, 16);
    cat_be(&e->sh, TIMESTAMP, 8);
    cat(&e->sh, e->epk, 32);
    cat(&e->sh, e->okm + 32, 32);
    cat_be(&e->sh, body_len + 16, 4);

    cat_str(&e->sender_info, "imcore/v2/sender");
    cat_be(&e->sender_info, SUITE, 2);
    cat_be(&e->sender_info, strlen(HANDLE), 1);
    cat_str(&e->sender_info, HANDLE);
    cat_be(&e->sender_info, SENDER_ID, 8);
    cat(&e->sender_info, e->sender.pub.sig_pk, 32);
    if (imc_crypto_sha256(b, e->sender_ctx, e->sender_info.b, e->sender_info.n) != IMC_OK)
        return fail("sender context");

    cat_str(&e->ad, "imcore/v2/body");
    cat_be(&e->ad, SUITE, 2);
    cat(&e->ad, e->sh.b, e->sh.n);
    e->body_ct.n = body_len + 16;
    if (imc_crypto_aead_seal(b, AEAD, e->body_ct.b, sizeof e->body_ct.b, e->okm, zero_nonce, 12,
                             e->ad.b, e->ad.n, (const uint8_t *)BODY, body_len) != IMC_OK)
        return fail("body seal");

    /* Entries in increasing device id: 0x0B01, 0x0B02 = rcpt[0], rcpt[1]. */
    for (size_t i = 0; i < NDEV; i++) {
        const imc_device_public *pk = &e->rcpt[i].pub;
        if (imc_crypto_x25519(b, e->z[i], e->esk, pk->dh_pk) != IMC_OK)
            return fail("z");
        bytes *info = &e->wrap_info[i];
        cat_str(info, "imcore/v2/wrap");
        cat_be(info, SUITE, 2);
        cat(info, e->epk, 32);
        cat(info, pk->dh_pk, 32);
        cat_be(info, pk->device_id, 8);
        cat(info, e->mid, 16);
        cat(info, e->sender_ctx, 32);
        if (imc_crypto_hkdf_sha256(b, e->wrap_key[i], 32, NULL, 0, e->z[i], 32, info->b,
                                   info->n) != IMC_OK ||
            imc_crypto_aead_seal(b, AEAD, e->wrap[i], 48, e->wrap_key[i], zero_nonce, 12, NULL,
                                 0, e->ck, 32) != IMC_OK)
            return fail("wrap");
    }

    /* The recipient set: count, then the ids in increasing order. */
    cat_be(&e->rcpt_set, NDEV, 2);
    for (size_t i = 0; i < NDEV; i++)
        cat_be(&e->rcpt_set, e->rcpt[i].pub.device_id, 8);
    cat_str(&e->rcpt_info, "imcore/v2/recipients");
    cat(&e->rcpt_info, e->rcpt_set.b, e->rcpt_set.n);
    if (imc_crypto_sha256(b, e->body_hash, e->body_ct.b, e->body_ct.n) != IMC_OK ||
        imc_crypto_sha256(b, e->rcpt_hash, e->rcpt_info.b, e->rcpt_info.n) != IMC_OK)
        return fail("sha256");
    cat_str(&e->sig_input, "imcore/v2/sig");
    cat_be(&e->sig_input, SUITE, 2);
    cat(&e->sig_input, e->sh.b, e->sh.n);
    cat(&e->sig_input, e->body_hash, 32);
    cat(&e->sig_input, e->rcpt_hash, 32);
    if (imc_crypto_ed25519_sign(b, e->sig, e->sender.sig_sk, e->sender.pub.sig_pk,
                                e->sig_input.b, e->sig_input.n) != IMC_OK)
        return fail("sign");

    uint8_t prefix[4] = {2, 'E', 0, SUITE};
    cat(&e->envelope, prefix, 4);
    cat(&e->envelope, e->sh.b, e->sh.n);
    cat(&e->envelope, e->body_ct.b, e->body_ct.n);
    cat(&e->envelope, e->rcpt_set.b, e->rcpt_set.n);
    for (size_t i = 0; i < NDEV; i++)
        cat(&e->envelope, e->wrap[i], 48);
    cat(&e->envelope, e->sig, 64);

    /* Device 0x0b01's delivery: index 0 in the set, its wrap. */
    prefix[1] = 'D';
    cat(&e->delivery, prefix, 4);
    cat(&e->delivery, e->sh.b, e->sh.n);
    cat(&e->delivery, e->body_ct.b, e->body_ct.n);
    cat(&e->delivery, e->rcpt_set.b, e->rcpt_set.n);
    cat_be(&e->delivery, 0, 2);
    cat(&e->delivery, e->wrap[0], 48);
    cat(&e->delivery, e->sig, 64);
    return 1;
}

/* The library's fan-out and decryption of device 0x0B01 agree. */
static int check_receive(const example *e, const imc_backend *b)
{
    imc_delivery_view views[NDEV];
    size_t count = 0, n = 0;
    uint8_t del[1024], body[64];
    if (imc_msg_fanout(views, NDEV, &count, e->envelope.b, e->envelope.n) != IMC_OK ||
        count != NDEV || views[0].device_id != 0x0B01 ||
        imc_delivery_view_copy(del, sizeof del, &n, &views[0]) != IMC_OK ||
        !same("delivery", del, n, e->delivery.b, e->delivery.n))
        return fail("fanout");
    imc_msg_peer peer = {(const uint8_t *)HANDLE, strlen(HANDLE), &e->sender.pub};
    imc_msg_received info;
    if (imc_msg_decrypt(body, sizeof body, &info, b, &e->rcpt[0], &peer, NULL, TIMESTAMP, del, n) !=
        IMC_OK)
        return fail("imc_msg_decrypt");
    return same("plaintext", body, info.body_len, (const uint8_t *)BODY, strlen(BODY));
}

static void render_keys(out *o, const example *e)
{
    uint8_t file[IMC_KEYS_SECRET_ENCODED_MAX];
    size_t n = 0;
    const imc_device_keys *all[3] = {&e->sender, &e->rcpt[0], &e->rcpt[1]};
    static const char *const who[3] = {"sender alice, device 0x0a01",
                                       "recipient bob, device 0x0b01",
                                       "recipient bob, device 0x0b02"};
    emit(o, "### Device keys\n\nGenerated in this order, each as DH secret then signing "
            "secret (32 random bytes each; the public keys follow from them).\n\n```\n");
    for (size_t i = 0; i < 3; i++) {
        emit(o, "# %s\n", who[i]);
        hexval(o, "dh_sk", all[i]->dh_sk, 32);
        hexval(o, "dh_pk", all[i]->pub.dh_pk, 32);
        hexval(o, "sig_sk", all[i]->sig_sk, 32);
        hexval(o, "sig_pk", all[i]->pub.sig_pk, 32);
    }
    emit(o, "```\n\nKey files (see \"Key files\"): alice's public key file and the secret key "
            "file of bob's device 0x0b01.\n\n```\n");
    if (imc_keys_encode_public(file, sizeof file, &n, &e->sender.pub) != IMC_OK)
        o->err = 1;
    hexval(o, "alice_0a01.pub", file, n);
    if (imc_keys_encode_secret(file, sizeof file, &n, &e->rcpt[0]) != IMC_OK)
        o->err = 1;
    hexval(o, "bob_0b01.sec", file, n);
    emit(o, "```\n\n");
}

static void render(out *o, const example *e)
{
    emit(o, "<!-- Generated by core/tests/gen_wire_example.c; checked byte for byte by "
            "test_wire_example. Do not edit by hand. -->\n\n");
    emit(o, "Suite 1 (X25519_ED25519_CHACHA20POLY1305). All randomness comes from the "
            "deterministic generator (`imc_rng_init_deterministic`, ChaCha20 keyed by the seed, "
            "stream 0), so these bytes are the same on every backend. Every value was "
            "recomputed from this document with bare primitives and compared with the "
            "library's output.\n\n");
    emit(o, "### Inputs\n\n```\n");
    uint8_t seed[32];
    for (size_t i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    hexval(o, "rng_seed", seed, 32);
    emit(o, "sender_handle = \"%s\"\n", HANDLE);
    emit(o, "sender_device = 0x%016llx\n", (unsigned long long)SENDER_ID);
    emit(o, "timestamp_ms = %llu\n", (unsigned long long)TIMESTAMP);
    emit(o, "body = \"%s\"\n", BODY);
    emit(o, "recipients, as passed to imc_msg_encrypt = 0x%016llx, 0x%016llx\n",
         (unsigned long long)RCPT_IDS[0], (unsigned long long)RCPT_IDS[1]);
    emit(o, "```\n\n");
    render_keys(o, e);

    emit(o, "### Message keys\n\nDrawn by `imc_msg_encrypt` after the keys above, in this "
            "order: message id, content key, ephemeral secret.\n\n```\n");
    hexval(o, "mid", e->mid, 16);
    hexval(o, "ck", e->ck, 32);
    hexval(o, "esk", e->esk, 32);
    hexval(o, "epk", e->epk, 32);
    hexval(o, "content_info = \"imcore/v2/content\" || mid", e->content_info.b,
           e->content_info.n);
    hexval(o, "okm = HKDF(ikm = ck, info = content_info, L = 64)", e->okm, 64);
    hexval(o, "body_key = okm[0..32)", e->okm, 32);
    hexval(o, "commitment = okm[32..64)", e->okm + 32, 32);
    hexval(o, "sender_info = \"imcore/v2/sender\" || 0001 || h || handle || sender_device || "
              "sig_pk", e->sender_info.b, e->sender_info.n);
    hexval(o, "sender_ctx = SHA-256(sender_info)", e->sender_ctx, 32);
    emit(o, "```\n\n### Header and body\n\n```\n");
    hexval(o, "SH", e->sh.b, e->sh.n);
    hexval(o, "body_ad = \"imcore/v2/body\" || 0001 || SH", e->ad.b, e->ad.n);
    hexval(o, "body_ct = AEAD-Seal(body_key, 0^12, body_ad, body)", e->body_ct.b, e->body_ct.n);
    emit(o, "```\n\n### Recipients\n\nThe set, in increasing device id, then one wrap per "
            "device in the same order.\n\n```\n");
    hexval(o, "recipient_set = n || ids", e->rcpt_set.b, e->rcpt_set.n);
    for (size_t i = 0; i < NDEV; i++) {
        emit(o, "# device 0x%016llx\n", (unsigned long long)e->rcpt[i].pub.device_id);
        hexval(o, "z = X25519(esk, dh_pk)", e->z[i], 32);
        hexval(o, "wrap_info", e->wrap_info[i].b, e->wrap_info[i].n);
        hexval(o, "wrap_key = HKDF(ikm = z, info = wrap_info, L = 32)", e->wrap_key[i], 32);
        hexval(o, "wrap = AEAD-Seal(wrap_key, 0^12, empty, ck)", e->wrap[i], 48);
    }
    emit(o, "```\n\n### Signature\n\n```\n");
    hexval(o, "SHA-256(body_ct)", e->body_hash, 32);
    hexval(o, "rcpt_hash = SHA-256(\"imcore/v2/recipients\" || recipient_set)", e->rcpt_hash,
           32);
    hexval(o, "sig_input = \"imcore/v2/sig\" || 0001 || SH || SHA-256(body_ct) || rcpt_hash",
           e->sig_input.b, e->sig_input.n);
    hexval(o, "signature = Ed25519(alice sig_sk, sig_input)", e->sig, 64);
    emit(o, "```\n\n### Envelope\n\n```\n");
    hexval(o, "envelope", e->envelope.b, e->envelope.n);
    emit(o, "```\n\n### Delivery for device 0x0b01\n\nWhat device 0x0b01 computes from it "
            "is `z`, `wrap_key`, `ck`, `body_key` and `commitment` as above, and the body "
            "`\"%s\"`.\n\n```\n",
         BODY);
    hexval(o, "delivery", e->delivery.b, e->delivery.n);
    emit(o, "```\n");
}

size_t imc_wire_example_render(char *buf, size_t cap, const imc_backend *b)
{
    example e;
    uint8_t env[1024];
    size_t env_len = 0;
    memset(&e, 0, sizeof e);
    int ok = b != NULL && imc_suite_supported(imc_suite_get(SUITE), b) &&
             make_keys_and_envelope(&e, b, env, &env_len) && compute_by_hand(&e, b) &&
             same("envelope", env, env_len, e.envelope.b, e.envelope.n) && check_receive(&e, b);
    out o = {buf, cap, 0, 0};
    if (ok && cap > 0)
        render(&o, &e);
    memset(&e, 0, sizeof e);
    if (!ok || o.err || cap == 0)
        return ok ? (size_t)fail("output buffer too small") : 0;
    return o.len;
}
