/* Seed corpus generator (run by scripts/gen-corpus): real envelopes,
 * deliveries, key files and structured inputs made by the library itself
 * with the fixed world of fuzz_common.c, so that signatures, wraps, body
 * tags and key pairs in the seeds are genuine under the keys the harnesses
 * hold.
 *
 *   imc_gen_corpus OUTDIR    writes OUTDIR/<target>/<name> for every target
 *
 * Suite 2 (ECDSA) signatures are randomised by OpenSSL, so those seeds
 * differ from run to run; everything else is byte-for-byte reproducible. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "dir/dir_impl.h"
#include "imcore/dir.h"
#include "imcore/dirkt.h"
#include "imcore/util.h"

static const char *outdir;
static unsigned long written;

static void mkdir_p(const char *path)
{
    char tmp[1024];
    size_t n = strlen(path);
    FUZZ_CHECK(n < sizeof tmp, "path too long");
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            FUZZ_CHECK(mkdir(tmp, 0755) == 0 || errno == EEXIST, "mkdir %s failed", tmp);
            tmp[i] = c;
        }
    }
}

static void put(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", path);
    FUZZ_CHECK(n == 0 || fwrite(p, 1, n, f) == n, "short write on %s", path);
    FUZZ_CHECK(fclose(f) == 0, "close %s", path);
    written++;
}

static uint8_t env[IMC_MAX_BODY_BYTES + 80000];
static uint8_t del[IMC_MAX_BODY_BYTES + 4096];
static uint8_t buf[IMC_MAX_BODY_BYTES + 4096];

/* Writes the envelope to envelope_parse and every delivery to
 * delivery_parse (and to decrypt when decrypt_too, and as backend_diff
 * op 7 for device 0 of suites 1 and 3). */
static void emit_envelope(const char *tag, const uint8_t *e, size_t elen, int decrypt_too)
{
    char name[128];
    snprintf(name, sizeof name, "%s", tag);
    put("envelope_parse", name, e, elen);
    static imc_delivery_view views[IMC_MAX_RECIPIENTS];
    size_t count = 0;
    imc_status st = imc_msg_fanout(views, IMC_MAX_RECIPIENTS, &count, e, elen);
    FUZZ_CHECK(st == IMC_OK, "fanout: %s", imc_status_str(st));
    for (size_t i = 0; i < count && i < 8; i++) {
        size_t dlen = 0;
        st = imc_delivery_view_copy(del, sizeof del, &dlen, &views[i]);
        FUZZ_CHECK(st == IMC_OK, "view copy: %s", imc_status_str(st));
        snprintf(name, sizeof name, "%s-d%zu", tag, i);
        put("delivery_parse", name, del, dlen);
        if (!decrypt_too)
            continue;
        put("decrypt", name, del, dlen);
        uint32_t suite = ((uint32_t)del[2] << 8) | del[3];
        if (i == 0 && suite != IMC_SUITE_P256_ECDSA_AES256GCM) {
            buf[0] = 7;
            memcpy(buf + 1, del, dlen);
            put("backend_diff", name, buf, dlen + 1);
        }
    }
}

static void gen_messages(void)
{
    const fuzz_world *w = fuzz_world_get();
    char tag[64];
    for (uint32_t s = 1; s <= IMC_SUITE_COUNT; s++) {
        if (!w->have_suite[s])
            continue;
        for (unsigned k = 0; k < FUZZ_SENT_MESSAGES; k++) {
            size_t len = 0;
            imc_status st = fuzz_sent_encrypt(env, sizeof env, &len, fuzz_backend_for(s), s, k);
            FUZZ_CHECK(st == IMC_OK, "encrypt: %s", imc_status_str(st));
            snprintf(tag, sizeof tag, "s%u-m%02u", (unsigned)s, k);
            emit_envelope(tag, env, len, 1);
        }
    }
}

/* Parser-only seeds: handle lengths at the limits and a wide fan-out. */
static void gen_shapes(void)
{
    const fuzz_world *w = fuzz_world_get();
    static imc_device_keys many[64];
    static imc_device_public pubs[64];
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    memset(handle, 'h', sizeof handle);
    for (uint32_t s = 1; s <= IMC_SUITE_COUNT; s++) {
        if (!w->have_suite[s])
            continue;
        const imc_backend *b = fuzz_backend_for(s);
        size_t nmany = s == IMC_SUITE_P256_ECDSA_AES256GCM ? 16 : 64;
        for (size_t i = 0; i < nmany; i++) {
            imc_rng rng;
            fuzz_rng(&rng, UINT64_C(0x200000) + ((uint64_t)s << 8) + i);
            imc_status st = imc_keys_generate(&many[i], b, &rng, s, UINT64_C(0x1000) + i * 3);
            FUZZ_CHECK(st == IMC_OK, "keygen: %s", imc_status_str(st));
            pubs[i] = many[i].pub;
        }
        const size_t hlens[] = {1, IMC_MAX_HANDLE_BYTES};
        for (size_t h = 0; h < 2; h++) {
            imc_msg_send req;
            memset(&req, 0, sizeof req);
            req.sender_handle = handle;
            req.sender_handle_len = hlens[h];
            req.sender = &w->sender[s];
            req.recipients = pubs;
            req.recipient_count = h == 0 ? 1 : nmany;
            req.timestamp_ms = FUZZ_TS_BASE;
            req.body = (const uint8_t *)"shape";
            req.body_len = h == 0 ? 0 : 5;
            imc_rng rng;
            fuzz_rng(&rng, UINT64_C(0x300000) + ((uint64_t)s << 8) + h);
            size_t len = 0;
            imc_status st = imc_msg_encrypt(env, sizeof env, &len, b, &rng, &req);
            FUZZ_CHECK(st == IMC_OK, "encrypt: %s", imc_status_str(st));
            char tag[64];
            snprintf(tag, sizeof tag, "s%u-shape-h%zu-n%zu", (unsigned)s, hlens[h],
                     req.recipient_count);
            emit_envelope(tag, env, len, 0);
        }
    }
}

static size_t roundtrip_seed(uint8_t *p, uint8_t suite, uint8_t bsel, uint8_t mask,
                             uint8_t order, uint64_t ts, uint32_t stream, uint8_t mut,
                             uint16_t mpos, uint8_t mval, uint8_t mwho, const char *body,
                             size_t body_len)
{
    size_t n = 0;
    p[n++] = (uint8_t)(suite - 1);
    p[n++] = bsel;
    p[n++] = mask;
    p[n++] = order;
    for (int i = 7; i >= 0; i--)
        p[n++] = (uint8_t)(ts >> (8 * i));
    for (int i = 3; i >= 0; i--)
        p[n++] = (uint8_t)(stream >> (8 * i));
    p[n++] = mut;
    p[n++] = (uint8_t)(mpos >> 8);
    p[n++] = (uint8_t)mpos;
    p[n++] = mval;
    p[n++] = mwho;
    for (size_t i = 0; i < body_len; i++)
        p[n++] = (uint8_t)body[i % strlen(body)];
    return n;
}

static void gen_roundtrip(void)
{
    static const char *bodies[] = {"", "hi", "Hello, Bob! This is a longer message body."};
    static const size_t lens[] = {0, 2, 43, 300, 1500};
    char name[64];
    unsigned idx = 0;
    for (uint8_t suite = 1; suite <= IMC_SUITE_COUNT; suite++) {
        for (uint8_t mut = 0; mut < 7; mut++) {
            size_t li = (size_t)(mut + suite) % 5;
            const char *body = bodies[li < 3 ? li : 2];
            size_t n = roundtrip_seed(buf, suite, (uint8_t)(mut & 1), (uint8_t)(0x01 + mut * 37),
                                      (uint8_t)(mut * 0x41), FUZZ_TS_BASE + mut, 100u + mut, mut,
                                      (uint16_t)(mut * 97 + 5), (uint8_t)(0x10 + mut),
                                      (uint8_t)mut, body, lens[li]);
            snprintf(name, sizeof name, "rt-%02u-s%u-mut%u", idx++, (unsigned)suite,
                     (unsigned)mut);
            put("roundtrip", name, buf, n);
        }
        /* Malicious senders (plan layout in fuzz_roundtrip.c): honest keys;
         * devices 1 and 2 wrapped another key; the same with the AES-GCM
         * body that opens under both keys. */
        static const uint16_t plans[] = {0x0000, 0x0030, 0x4030, 0x4034};
        for (size_t k = 0; k < sizeof plans / sizeof plans[0]; k++) {
            size_t n = roundtrip_seed(buf, suite, 0, 0x07, 0, FUZZ_TS_BASE + 50, 200u + (unsigned)k,
                                      7, plans[k], 0, 0, bodies[2], 43);
            snprintf(name, sizeof name, "rt-%02u-s%u-malicious-%04x", idx++, (unsigned)suite,
                     (unsigned)plans[k]);
            put("roundtrip", name, buf, n);
        }
    }
}

static void add_l(uint8_t s[32])
{
    /* s += L (the Ed25519 group order), little-endian: a non-canonical S. */
    static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                  0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                  0,    0,    0,    0,    0,    0,    0,    0,
                                  0,    0,    0,    0,    0,    0,    0,    0x10};
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = (unsigned)s[i] + L[i] + carry;
        s[i] = (uint8_t)v;
        carry = v >> 8;
    }
}

static void gen_backend_diff(void)
{
    const fuzz_world *w = fuzz_world_get();
    const imc_device_keys *snd = &w->sender[1];
    const imc_device_keys *dev = &w->device[1][0];
    const imc_backend *b = fuzz_backend_for(1);
    uint8_t p[512];
    size_t n;
    /* 0: x25519 with a real pair, an all-zero and a small-order public key. */
    p[0] = 0;
    memcpy(p + 1, dev->dh_sk, 32);
    memcpy(p + 33, snd->pub.dh_pk, 32);
    put("backend_diff", "op0-x25519-real", p, 65);
    memset(p + 33, 0, 32);
    put("backend_diff", "op0-x25519-zero", p, 65);
    p[33] = 1;
    put("backend_diff", "op0-x25519-one", p, 65);
    /* 1: public keys from a secret. */
    p[0] = 1;
    memcpy(p + 1, snd->sig_sk, 32);
    put("backend_diff", "op1-public", p, 33);
    /* 2: sign and verify a message. */
    p[0] = 2;
    memcpy(p + 1, snd->sig_sk, 32);
    memcpy(p + 33, "attack at dawn", 14);
    put("backend_diff", "op2-sign", p, 47);
    /* 3: verify: genuine, non-canonical S, small-order key. */
    const char *msg = "imcore/v1/sig test message";
    size_t mlen = strlen(msg);
    uint8_t sig[64];
    imc_status st = imc_crypto_ed25519_sign(b, sig, snd->sig_sk, snd->pub.sig_pk,
                                            (const uint8_t *)msg, mlen);
    FUZZ_CHECK(st == IMC_OK, "sign: %s", imc_status_str(st));
    p[0] = 3;
    memcpy(p + 1, sig, 64);
    memcpy(p + 65, snd->pub.sig_pk, 32);
    memcpy(p + 97, msg, mlen);
    n = 97 + mlen;
    put("backend_diff", "op3-verify-good", p, n);
    add_l(p + 33);
    put("backend_diff", "op3-verify-noncanonical-s", p, n);
    memcpy(p + 1, sig, 64);
    memset(p + 65, 0, 32);
    p[65] = 1;
    put("backend_diff", "op3-verify-small-order-key", p, n);
    /* 4: AEAD, both algorithms, empty and non-empty, odd nonce length. */
    for (int sel = 0; sel < 4; sel++) {
        p[0] = 4;
        p[1] = (uint8_t)sel;
        size_t o = 2;
        for (int i = 0; i < 32; i++)
            p[o++] = (uint8_t)(i * 7 + sel);
        int nonce_len = (sel & 2) ? 8 : 12; /* 8: refused by both */
        if (sel & 2)
            p[o++] = (uint8_t)nonce_len;
        for (int i = 0; i < nonce_len; i++)
            p[o++] = (uint8_t)i;
        p[o++] = 5;
        memcpy(p + o, "ad-ad", 5);
        o += 5;
        memcpy(p + o, "plaintext of some length, more than a tag", 41);
        o += 41;
        char name[32];
        snprintf(name, sizeof name, "op4-aead-%d", sel);
        put("backend_diff", name, p, o);
    }
    /* 5: hashes and HKDF. */
    p[0] = 5;
    p[1] = 1;
    p[2] = 4;
    memcpy(p + 3, "salt", 4);
    p[7] = 4;
    memcpy(p + 8, "info", 4);
    p[12] = 0;
    p[13] = 64;
    memcpy(p + 14, "input keying material", 21);
    put("backend_diff", "op5-hkdf", p, 35);
    /* 6: whole messages on every backend, suites 1, 2, 3 (byte 1 - 1 mod 3). */
    for (int sel = 0; sel < 3; sel++) {
        uint8_t q[64] = {6, (uint8_t)sel, 0x0f, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
                         0, 0, 0, 9, 0x01, 0x23};
        memcpy(q + 17, "differential body", 17);
        char name[32];
        snprintf(name, sizeof name, "op6-message-s%d", sel + 1);
        put("backend_diff", name, q, 34);
    }
    /* 8: key generation streams. */
    uint8_t g[9] = {8, 0, 0, 0, 0, 0, 0, 0, 42};
    put("backend_diff", "op8-keygen", g, 9);
    /* 9: P-256 ECDH with a real key pair, then with the peer's y flipped
     * (off the curve) and with x = y = 0. */
    if (w->have_suite[2]) {
        const imc_device_keys *snd2 = &w->sender[2];
        const imc_device_keys *dev2 = &w->device[2][0];
        p[0] = 9;
        memcpy(p + 1, dev2->dh_sk, 32);
        memcpy(p + 33, snd2->pub.dh_pk, IMC_P256_PUBLIC_BYTES);
        put("backend_diff", "op9-p256-ecdh-real", p, 33 + IMC_P256_PUBLIC_BYTES);
        p[33 + IMC_P256_PUBLIC_BYTES - 1] ^= 1;
        put("backend_diff", "op9-p256-ecdh-off-curve", p, 33 + IMC_P256_PUBLIC_BYTES);
        memset(p + 34, 0, 64);
        put("backend_diff", "op9-p256-ecdh-zero", p, 33 + IMC_P256_PUBLIC_BYTES);
        /* 10: ECDSA: sign and verify, with a low-S and its high-S twin. */
        uint8_t esig[64];
        st = imc_crypto_ecdsa_p256_sign(fuzz_backend_for(2), esig, snd2->sig_sk,
                                        (const uint8_t *)msg, mlen);
        FUZZ_CHECK(st == IMC_OK, "ecdsa sign: %s", imc_status_str(st));
        p[0] = 10;
        memcpy(p + 1, snd2->sig_sk, 32);
        memcpy(p + 33, esig, 64);
        memcpy(p + 97, msg, mlen);
        put("backend_diff", "op10-ecdsa-low-s", p, 97 + mlen);
        static const uint8_t n256[32] = {
            0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
            0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
        unsigned borrow = 0;
        for (int i = 31; i >= 0; i--) {
            unsigned d = (unsigned)n256[i] - esig[32 + i] - borrow;
            p[65 + i] = (uint8_t)d;
            borrow = (d >> 8) & 1;
        }
        put("backend_diff", "op10-ecdsa-high-s", p, 97 + mlen);
        /* Prepared P-256 keys (0xf2, 0xf3; layout below). */
        memset(p, 0, sizeof p);
        p[0] = 0xf2;
        memcpy(p + 1, dev2->dh_sk, 32);
        memcpy(p + 33, snd2->pub.dh_pk, IMC_P256_PUBLIC_BYTES);
        put("backend_diff", "prep-p256-ecdh", p, 1 + 32 + 65);
        p[33 + IMC_P256_PUBLIC_BYTES - 1] ^= 1;
        put("backend_diff", "prep-p256-ecdh-off-curve", p, 1 + 32 + 65);
        p[0] = 0xf3;
        memcpy(p + 1, snd2->sig_sk, 32);
        memcpy(p + 33, snd2->pub.dh_pk, IMC_P256_PUBLIC_BYTES);
        memcpy(p + 98, esig, 64);
        memcpy(p + 162, msg, mlen);
        put("backend_diff", "prep-ecdsa", p, 162 + mlen);
    }
    /* 0xf0-0xff: prepared keys, [sel, (length), sk, peer (65), sig, msg]:
     * X25519 with a real pair and a key of a wrong length; Ed25519 sign
     * and verify of a genuine signature (P-256 ECDH with a real and an
     * off-curve peer, ECDSA with a genuine signature and a valid point:
     * above). */
    memset(p, 0, sizeof p);
    p[0] = 0xf0;
    memcpy(p + 1, dev->dh_sk, 32);
    memcpy(p + 33, snd->pub.dh_pk, 32);
    put("backend_diff", "prep-x25519", p, 1 + 32 + 65);
    p[0] = 0xf8;
    p[1] = 31;
    memcpy(p + 2, dev->dh_sk, 32);
    put("backend_diff", "prep-x25519-short-key", p, 2 + 32 + 65);
    memset(p, 0, sizeof p);
    p[0] = 0xf1;
    memcpy(p + 1, snd->sig_sk, 32);
    memcpy(p + 98, sig, 64);
    memcpy(p + 162, msg, mlen);
    put("backend_diff", "prep-ed25519", p, 162 + mlen);
    /* 0xf4: the argument contract, every primitive with all pointers, with
     * each one NULL, and with no backend; buffers of 3, 4, 5 and 32 bytes
     * (the HKDF output length), then the fixed world's sender keys as
     * operands. */
    static const uint8_t masks[] = {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x80};
    for (unsigned fn = 0; fn < 18; fn++)
        for (size_t k = 0; k < sizeof masks; k++) {
            memset(p, 0, sizeof p);
            const uint8_t head[7] = {0xf4, (uint8_t)fn, masks[k], 3, 4, 5, 32};
            memcpy(p, head, sizeof head);
            memcpy(p + 7, snd->sig_sk, 32);
            memcpy(p + 7 + 160, snd->pub.dh_pk, 32);
            char seed[32];
            snprintf(seed, sizeof seed, "args-%u-%02x", fn, masks[k]);
            put("backend_diff", seed, p, 7 + 2 * 160 + 32);
        }
}

/* ---- Key directory ---------------------------------------------------- */

/* Handle h's current record in d (as a device that looked it up has it). */
static const imc_dir_record *dir_cur(imc_dir *d, unsigned h)
{
    static imc_dir_record rec;
    size_t hl = 0;
    const uint8_t *hb = fuzz_dir_handle(h, &hl);
    imc_status st = imc_dir_get(&rec, d, hb, hl);
    FUZZ_CHECK(st == IMC_OK, "dir_get: %s", imc_status_str(st));
    return &rec;
}

static void gen_dir(void)
{
    const imc_backend *b = fuzz_backend_for(1);
    uint8_t pk[32], sk[32], apk[32], ask[32], npk[32], nsk[32];
    fuzz_dir_key(pk, sk);
    imc_dir_store store;
    imc_dir d;
    imc_status st = imc_dir_store_mem_open(&store, b, 4);
    FUZZ_CHECK(st == IMC_OK, "store: %s", imc_status_str(st));
    st = imc_dir_init(&d, b, store, sk, NULL);
    FUZZ_CHECK(st == IMC_OK, "dir_init: %s", imc_status_str(st));
    static uint8_t upd[IMC_DIR_UPDATE_MAX_BYTES];
    static uint8_t resp[IMC_DIR_RESPONSE_MAX_BYTES(FUZZ_DIR_HANDLES)];
    size_t ulen = 0, rlen = 0;
    char name[64];
    uint64_t now = FUZZ_TS_BASE;
    /* Register slots 0 and 1 of every handle (the first creates the
     * account); keep updates and answers. */
    for (unsigned h = 0; h < FUZZ_DIR_HANDLES; h++) {
        fuzz_dir_account(h, 0, apk, ask);
        for (unsigned s = 0; s < 2; s++) {
            st = imc_dir_sign_register(upd, sizeof upd, &ulen, b, pk, dir_cur(&d, h), ask,
                                       fuzz_dir_device(h, s, 0));
            FUZZ_CHECK(st == IMC_OK, "sign_register: %s", imc_status_str(st));
            snprintf(name, sizeof name, "register-h%u-s%u-e%u", h, s, s);
            put("dir_update_parse", name, upd, ulen);
            st = imc_dir_update(resp, sizeof resp, &rlen, &d, now++, upd, ulen);
            FUZZ_CHECK(st == IMC_OK, "update: %s", imc_status_str(st));
            snprintf(name, sizeof name, "answer-register-h%u-s%u", h, s);
            put("dir_response_parse", name, resp, rlen);
        }
    }
    size_t hl = 0;
    fuzz_dir_account(0, 0, apk, ask);
    fuzz_dir_account(0, 1, npk, nsk);
    /* Rotate slot 0 of handle 0 (epoch 2), revoke slot 1 (epoch 3). */
    st = imc_dir_sign_rotate(upd, sizeof upd, &ulen, b, pk, dir_cur(&d, 0), ask,
                             fuzz_dir_device(0, 0, 0), fuzz_dir_device(0, 0, 1));
    FUZZ_CHECK(st == IMC_OK, "sign_rotate: %s", imc_status_str(st));
    put("dir_update_parse", "rotate-h0-s0-e2", upd, ulen);
    st = imc_dir_update(resp, sizeof resp, &rlen, &d, now++, upd, ulen);
    FUZZ_CHECK(st == IMC_OK, "rotate: %s", imc_status_str(st));
    put("dir_response_parse", "answer-rotate", resp, rlen);
    st = imc_dir_sign_revoke(upd, sizeof upd, &ulen, b, pk, dir_cur(&d, 0), ask, 0x0102);
    FUZZ_CHECK(st == IMC_OK, "sign_revoke: %s", imc_status_str(st));
    put("dir_update_parse", "revoke-h0-s1-e3", upd, ulen);
    st = imc_dir_update(resp, sizeof resp, &rlen, &d, now++, upd, ulen);
    FUZZ_CHECK(st == IMC_OK, "revoke: %s", imc_status_str(st));
    put("dir_response_parse", "answer-revoke", resp, rlen);
    /* The account key of handle 0 rotated (epoch 4), handle 1 reset (epoch 3). */
    st = imc_dir_sign_account_rotate(upd, sizeof upd, &ulen, b, pk, dir_cur(&d, 0), ask, nsk);
    FUZZ_CHECK(st == IMC_OK, "sign_account_rotate: %s", imc_status_str(st));
    put("dir_update_parse", "account-rotate-h0-e4", upd, ulen);
    st = imc_dir_update(resp, sizeof resp, &rlen, &d, now++, upd, ulen);
    FUZZ_CHECK(st == IMC_OK, "account rotate: %s", imc_status_str(st));
    put("dir_response_parse", "answer-account-rotate", resp, rlen);
    uint8_t rpk[32], rsk[32];
    fuzz_dir_account(1, 1, rpk, rsk);
    st = imc_dir_sign_account_reset(upd, sizeof upd, &ulen, b, pk, dir_cur(&d, 1), rsk,
                                    fuzz_dir_device(1, 3, 0));
    FUZZ_CHECK(st == IMC_OK, "sign_account_reset: %s", imc_status_str(st));
    put("dir_update_parse", "account-reset-h1-e3", upd, ulen);
    st = imc_dir_update(resp, sizeof resp, &rlen, &d, now++, upd, ulen);
    FUZZ_CHECK(st == IMC_OK, "account reset: %s", imc_status_str(st));
    put("dir_response_parse", "answer-account-reset", resp, rlen);
    /* Seeds shaped for dir_update_parse's own directory (slot 0 of handle
     * 0 registered, epoch 1): a register, a rotate and a revoke that apply
     * there, built from that directory's record. */
    {
        imc_dir_store s1;
        imc_dir d1;
        st = imc_dir_store_mem_open(&s1, b, 4);
        FUZZ_CHECK(st == IMC_OK, "store: %s", imc_status_str(st));
        st = imc_dir_init(&d1, b, s1, sk, NULL);
        FUZZ_CHECK(st == IMC_OK, "dir_init: %s", imc_status_str(st));
        st = imc_dir_sign_register(upd, sizeof upd, &ulen, b, pk, dir_cur(&d1, 0), ask,
                                   fuzz_dir_device(0, 0, 0));
        FUZZ_CHECK(st == IMC_OK, "sign_register: %s", imc_status_str(st));
        st = imc_dir_update(resp, sizeof resp, &rlen, &d1, now, upd, ulen);
        FUZZ_CHECK(st == IMC_OK, "register: %s", imc_status_str(st));
        st = imc_dir_sign_register(upd, sizeof upd, &ulen, b, pk, dir_cur(&d1, 0), ask,
                                   fuzz_dir_device(0, 2, 0));
        FUZZ_CHECK(st == IMC_OK, "sign_register: %s", imc_status_str(st));
        put("dir_update_parse", "register-h0-s2-e1", upd, ulen);
        st = imc_dir_sign_rotate(upd, sizeof upd, &ulen, b, pk, dir_cur(&d1, 0), ask,
                                 fuzz_dir_device(0, 0, 0), fuzz_dir_device(0, 0, 1));
        FUZZ_CHECK(st == IMC_OK, "sign_rotate: %s", imc_status_str(st));
        put("dir_update_parse", "rotate-h0-s0-e1", upd, ulen);
        st = imc_dir_sign_revoke(upd, sizeof upd, &ulen, b, pk, dir_cur(&d1, 0), ask, 0x0101);
        FUZZ_CHECK(st == IMC_OK, "sign_revoke: %s", imc_status_str(st));
        put("dir_update_parse", "revoke-h0-s0-e1", upd, ulen);
        st = imc_dir_sign_account_rotate(upd, sizeof upd, &ulen, b, pk, dir_cur(&d1, 0), ask,
                                         nsk);
        FUZZ_CHECK(st == IMC_OK, "sign_account_rotate: %s", imc_status_str(st));
        put("dir_update_parse", "account-rotate-h0-e1", upd, ulen);
        st = imc_dir_sign_account_reset(upd, sizeof upd, &ulen, b, pk, dir_cur(&d1, 0), nsk,
                                        fuzz_dir_device(0, 3, 0));
        FUZZ_CHECK(st == IMC_OK, "sign_account_reset: %s", imc_status_str(st));
        put("dir_update_parse", "account-reset-h0-e1", upd, ulen);
        imc_dir_wipe(&d1);
        imc_dir_store_close(&s1);
    }
    /* Lookups: each handle, a batch of all, and a handle never registered. */
    for (unsigned h = 0; h < FUZZ_DIR_HANDLES; h++) {
        const uint8_t *hb = fuzz_dir_handle(h, &hl);
        st = imc_dir_lookup(resp, sizeof resp, &rlen, &d, now, hb, hl);
        FUZZ_CHECK(st == IMC_OK, "lookup: %s", imc_status_str(st));
        snprintf(name, sizeof name, "lookup-h%u", h);
        put("dir_response_parse", name, resp, rlen);
    }
    imc_dir_handle all[FUZZ_DIR_HANDLES];
    for (unsigned h = 0; h < FUZZ_DIR_HANDLES; h++)
        all[h].bytes = fuzz_dir_handle(h, &all[h].len);
    st = imc_dir_lookup_batch(resp, sizeof resp, &rlen, &d, now, all, FUZZ_DIR_HANDLES);
    FUZZ_CHECK(st == IMC_OK, "batch: %s", imc_status_str(st));
    put("dir_response_parse", "batch-all", resp, rlen);
    st = imc_dir_lookup(resp, sizeof resp, &rlen, &d, now, (const uint8_t *)"carol@example.org",
                        17);
    FUZZ_CHECK(st == IMC_OK, "lookup: %s", imc_status_str(st));
    put("dir_response_parse", "lookup-unregistered", resp, rlen);
    /* Client state values (dir_state_parse): [handle index] || contact, over
     * the real signed lists, and a handle without an account. */
    for (unsigned h = 0; h < FUZZ_DIR_HANDLES; h++) {
        static imc_dir_contact c;
        static uint8_t val[1 + IMC_DIR_CONTACT_MAX_BYTES];
        size_t vl = 0;
        memset(&c, 0, sizeof c);
        c.rec = *dir_cur(&d, h);
        memcpy(c.pinned, c.rec.account_pk, sizeof c.pinned);
        c.global_epoch = 9;
        c.issued_ms = FUZZ_TS_BASE;
        val[0] = (uint8_t)h;
        st = imc_dir_encode_contact(val + 1, sizeof val - 1, &vl, &c);
        FUZZ_CHECK(st == IMC_OK, "encode_contact: %s", imc_status_str(st));
        snprintf(name, sizeof name, "contact-h%u", h);
        put("dir_state_parse", name, val, vl + 1);
        if (h == 0) {
            memset(&c, 0, sizeof c);
            c.rec.handle_len = hl;
            c.global_epoch = 9;
            st = imc_dir_encode_contact(val + 1, sizeof val - 1, &vl, &c);
            FUZZ_CHECK(st == IMC_OK, "encode_contact: %s", imc_status_str(st));
            put("dir_state_parse", "contact-none", val, vl + 1);
        }
    }
    imc_dir_wipe(&d);
    imc_dir_store_close(&store);
    imc_wipe(ask, sizeof ask);
    imc_wipe(nsk, sizeof nsk);
    imc_wipe(rsk, sizeof rsk);

    /* Operation sequences for dir_ops: [op, a, b] triples. */
    static const uint8_t seq_basic[] = {
        0, 0, 0,    /* register h0 s0 */
        0, 0, 1,    /* register h0 s1 */
        3, 0x80, 0, /* lookup h0, apply */
        1, 0, 0,    /* rotate h0 s0 */
        3, 0x80, 0, /* lookup h0, apply: changed */
        2, 0x10, 0, /* revoke h0 s1 */
        4, 6, 1,    /* batch all, apply: removed */
        5, 0, 0,    /* re-apply the first (stale) */
        6, 1, 7,    /* tamper */
        7, 9, 0,    /* time passes: expired */
    };
    put("dir_ops", "basic", seq_basic, sizeof seq_basic);
    static const uint8_t seq_limits[] = {
        0, 1, 0, 0, 1, 1, 0, 1, 2, 0, 1, 3, /* h1: four registers, limit 3 */
        0, 0x0d, 4,                         /* foreign slot under h1 */
        0, 2, 0x80,                         /* wrong epoch */
        1, 1, 0x40,                         /* forged rotate */
        2, 0x01, 0x71,                      /* revoke signed by another account */
        4, 2, 1, 3, 0x81, 0, 7, 3, 0, 3, 0x81, 0,
    };
    put("dir_ops", "limits", seq_limits, sizeof seq_limits);
    static const uint8_t seq_multi[] = {
        0, 0, 0, 0, 1, 0, 0, 2, 0, 4, 6, 1, 0, 0, 1, 1, 0, 0, 2, 0, 0,
        4, 6, 1, 7, 1, 0, 5, 1, 0, 6, 0, 200, 0, 0, 2, 3, 0x80, 0, 7, 8, 0, 4, 6, 1,
    };
    put("dir_ops", "multi", seq_multi, sizeof seq_multi);
    /* LMDB faults on the twin ([7, 0, b]: call b % 32 + 1 fails with error
     * b / 32 % 4): rotations of h0 s0 whose call 1..20 fails, then a
     * lookup and a batch lookup whose call fails; one seed per error. */
    for (unsigned rc = 0; rc < 4; rc++) {
        uint8_t seq[3 * 47];
        size_t o = 0;
        const uint8_t reg[3] = {0, 0, 0};
        memcpy(seq, reg, 3);
        o = 3;
        for (unsigned k = 0; k < 22; k++) {
            const uint8_t arm[3] = {7, 0, (uint8_t)(32 * rc + (k < 20 ? k + 1 : k - 19))};
            const uint8_t rot[3] = {1, 0, 0}, look[3] = {3, 0x80, 0}, batch[3] = {4, 6, 1};
            memcpy(seq + o, arm, 3);
            memcpy(seq + o + 3, k < 20 ? rot : k == 20 ? look : batch, 3);
            o += 6;
        }
        char seed_name[32];
        snprintf(seed_name, sizeof seed_name, "lmdb-faults-%u", rc);
        put("dir_ops", seed_name, seq, o);
    }

    /* dir_malicious: a cache byte, then 12-byte responses [r0 r1 r2, then
     * 3 bytes per entry] (layout in fuzz_dir_malicious.c). An honest
     * history with account key changes, then lies. */
    static const uint8_t lie_honest[] = {
        2, /* capacity 3, in memory */
        0x00, 3, 0x46, 0x02, 0x03, 0, 0, 0, 0, 0, 0, 0,          /* h0 epoch 1 */
        0x04, 3, 0x46, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0,          /* h1 epoch 1 */
        0x00, 3, 0x46, 0x02, 0x27, 0, 0, 0, 0, 0, 0, 0,          /* h0 epoch 2: added, changed */
        0x02, 3, 0x46, 0x01, 0x27, 0, 0x02, 0x1f, 0, 0x04, 0x01, 0, /* all three handles */
        0x00, 3, 0x46, 0x2a, 0x07, 0x00, 0, 0, 0, 0, 0, 0,       /* h0 account rotated 0 -> 1 */
        0x00, 0x13, 0x46, 0x52, 0x01, 0, 0, 0, 0, 0, 0, 0,       /* h0 reset to key 2, accepted */
        0x00, 3, 0x46, 0x32, 0x03, 0x02, 0, 0, 0, 0, 0, 0,       /* rotation signed by a stale key */
    };
    put("dir_malicious", "honest", lie_honest, sizeof lie_honest);
    static const uint8_t lie_rollback[] = {
        0, /* capacity 1: eviction */
        0x00, 3, 0x46, 0x02, 0x03, 0, 0, 0, 0, 0, 0, 0, /* h0 epoch 1 */
        0x00, 2, 0x46, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, /* h0 rolled back */
        0x00, 2, 0x46, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, /* h0 forked at its epoch */
        0x00, 3, 0x46, 0x02, 0x03, 0, 0, 0, 0, 0, 0, 0, /* h0 epoch 2 */
        0x00, 2, 0x46, 0x81, 0x03, 0, 0, 0, 0, 0, 0, 0, /* fork: another previous list */
        0x00, 2, 0x46, 0x09, 0x03, 0, 0, 0, 0, 0, 0, 0, /* fork: another account key */
        0x00, 3, 0x46, 0x62, 0x03, 0, 0, 0, 0, 0, 0, 0, /* list signed by a wrong key */
        0x10, 3, 0x46, 0x02, 0x03, 0, 0, 0, 0, 0, 0, 0, /* entry signed by a wrong key */
        0x04, 0, 0x46, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, /* global rollback */
        0x04, 4, 0x46, 0x06, 0x01, 0, 0, 0, 0, 0, 0, 0, /* h1 evicts h0, versions omitted */
        0x00, 2, 0x46, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, /* h0 again, below what was evicted */
        0x01, 2, 0x0e, 0x02, 0x03, 0, 0x02, 0x01, 0, 0, 0, 0, /* two handles, capacity 1 */
        0x00, 2, 0xd0, 0x04, 0x03, 0, 0, 0, 0, 0, 0, 0, /* expired */
        0x80, 2, 0x46, 0x05, 0x03, 0, 0, 0, 0, 0, 0, 0, /* epoch 0 with a list */
    };
    put("dir_malicious", "rollback-fork-evict", lie_rollback, sizeof lie_rollback);
    static const uint8_t lie_persistent[] = {
        0x0d, /* capacity 2, own handle 0, persistent */
        0x00, 0x0b, 0x46, 0x02, 0x03, 0, 0, 0, 0, 0, 0, 0,          /* h0, reopened */
        0x05, 0x0b, 0x46, 0x02, 0x01, 0, 0x02, 0x01, 0, 0, 0, 0,    /* h1 h2: limit */
        0x04, 0x0b, 0x46, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0,          /* h1, reopened */
        0x08, 0x0b, 0x46, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0,          /* h2: limit (no eviction) */
        0x00, 0x23, 0x46, 0x52, 0x01, 0, 0, 0, 0, 0, 0, 0,          /* h0 reset, accept h1 */
        0x00, 0x1b, 0x46, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0,          /* accept h0, reopened */
    };
    put("dir_malicious", "persistent", lie_persistent, sizeof lie_persistent);

    /* dir_serve: [op, a, b] (layout in fuzz_dir_serve.c). Registers that
     * grow the store, lookups, rotations, revocations (one refused), a
     * stale epoch, a wrong account key, account rotation and reset, raw
     * bytes. */
    static const uint8_t serve_seq[] = {
        2, 0, 0,    2, 0, 1,    2, 1, 0,    2, 2, 0,    2, 3, 0,    2, 4, 0,
        2, 5, 0,    2, 6, 0,    2, 7, 0,    2, 8, 0,    2, 9, 0,    1, 0x0f, 0xff,
        3, 0, 1,    3, 0, 2,    3, 1, 2,    2, 0, 0x80, 2, 0, 0x42, 1, 0, 3,
        4, 0, 0,    2, 0, 3,    4, 1, 0x40, 5, 1, 2,    3, 1, 4,    1, 0, 3,
        0, 5, 0,    1, 'Q', 0,  0, 4, 1,    1, 0, 1,    0, 2, 0,
    };
    put("dir_serve", "grow-lookup-update", serve_seq, sizeof serve_seq);
    /* Bulk imports (one refused: the handle exists), raw handle lookups,
     * an update into a buffer too small for its answer, spoilt imports,
     * reopens. */
    static const uint8_t serve_import[] = {
        6, 5, 2,    6, 6, 0,    7, 17, 0, 'u', 's', 'e', 'r', '5', '@', 'e', 'x', 'a', 'm', 'p',
        'l', 'e', '.', 'o', 'r', 'g',    7, 5, 0, 'U', 's', 'e', 'r', '5',
        0x82, 1, 0, 2, 1, 0,    3, 5, 0x08,    1, 0x3f, 0xff,
        /* spoilt imports: not new, too many devices, not in normal form */
        6, 7, 0x10,    6, 8, 0x21,    6, 9, 0x32,
        /* reopened; with another key first; with store faults */
        6, 0, 0x40,    6, 0, 0xc0,    0x26, 0, 0x40, 0,    0x26, 0, 0x40, 1,
        0x26, 0, 0x40, 2,    0x26, 0, 0x40, 3,    0x26, 0, 0x40, 0x44,
    };
    put("dir_serve", "import-raw-lookup-no-space", serve_import, sizeof serve_import);
    /* Transparency requests ([0x47, a, c, known size]) after a short
     * history, and witness cosignatures: the checkpoint from nothing, from a known size and from one
     * beyond the log; lookups with proofs of 1-4 handles (one never
     * registered); audits from version 1, from past the latest, of an
     * unregistered handle; one answer that does not fit. */
    static const uint8_t serve_kt[] = {
        0x47, 0, 0, 0,    2, 0, 0,    2, 0, 1,    2, 1, 0,    3, 0, 2,    2, 2, 0,
        0x47, 0, 0, 0,    0x47, 0, 0, 3,    0x47, 0, 0, 200,    0x47, 0, 13, 0,
        0x47, 2, 5, 2,    0x47, 1, 1, 0,    0x47, 0, 2, 0,      0x47, 0, 6, 0,
        0x47, 0, 14, 0,   0x47, 20, 2, 0,   0x47, 20, 6, 0,     0xc7, 0, 1, 0,
        /* witness cosignatures: w0, again, w1; under the wrong key, over
         * another text, not a line; after an update, w0 again */
        0x47, 0, 3, 0,    0x47, 0, 3, 0,    0x47, 0, 7, 0,      0x47, 0, 11, 0,
        0x47, 0, 19, 0,   0x47, 0, 27, 0,   2, 3, 0,            0x47, 0, 15, 0,
        0x47, 0, 3, 0,
    };
    put("dir_serve", "transparency", serve_kt, sizeof serve_kt);
    /* Store faults ([op | 0x20, a, c, f]): registering slot 1 of handle 0
     * with the store's call 1, 2, ... failing (I/O, then out of memory)
     * until one gets through; a lookup and transparency requests whose
     * store fails. */
    uint8_t serve_fault[4 * 3 + 48 * 4 + 8 * 4 + 3 * 5 + 16];
    size_t o = 0;
    static const uint8_t first[] = {2, 0, 0, 2, 1, 0, 2, 2, 0, 2, 3, 0};
    memcpy(serve_fault, first, sizeof first);
    o = sizeof first;
    for (unsigned f = 0; f < 48; f++) {
        static const uint8_t reg[] = {0x22, 0, 1};
        memcpy(serve_fault + o, reg, 3);
        serve_fault[o + 3] = (uint8_t)(f < 40 ? f : 0x40 | (f - 40));
        o += 4;
    }
    for (unsigned f = 0; f < 8; f++) {
        serve_fault[o++] = f < 4 ? 0x21 : 0x25; /* lookup; account reset */
        serve_fault[o++] = (uint8_t)(f < 4 ? 0x0f : 1);
        serve_fault[o++] = f < 4 ? 0xff : 2;
        serve_fault[o++] = (uint8_t)(f * 3);
    }
    for (unsigned f = 0; f < 3; f++) {
        serve_fault[o++] = 0x67;
        serve_fault[o++] = 0;
        serve_fault[o++] = (uint8_t)(f == 2 ? 2 : 13 * f); /* head, lookup, audit */
        serve_fault[o++] = (uint8_t)(1 + 2 * f);
        serve_fault[o++] = 0;
    }
    put("dir_serve", "store-faults", serve_fault, o);
    /* The same with allocations failing instead (f | 0x80), and reopens
     * whose allocation 1-4 fails. */
    size_t four = sizeof first + (48 + 8) * 4; /* where the 5-byte ops start */
    for (size_t i = sizeof first; i < o; i += i < four ? 4 : 5)
        serve_fault[i + 3] = (uint8_t)(0x80 | (serve_fault[i + 3] & 0x3f));
    static const uint8_t reopen_alloc[] = {0x26, 0, 0x40, 0x80, 0x26, 0, 0x40, 0x81,
                                           0x26, 0, 0x40, 0x82, 0x26, 0, 0x40, 0x83};
    memcpy(serve_fault + o, reopen_alloc, sizeof reopen_alloc);
    put("dir_serve", "alloc-faults", serve_fault, o + sizeof reopen_alloc);
    /* Transparency requests as raw bytes ([0, length, 0, bytes]): each
     * kind genuine, then every rule of the request parser broken once
     * (short, trailing byte, version, kind, known size 2^63, no handles,
     * too many, a repeated handle, a handle not in normal form, since 0). */
    {
        uint8_t raw[96 * 66], req[64];
        size_t ro = 0, n = 0;
        imc_dir_handle two[2];
        two[0].bytes = fuzz_dir_handle(0, &two[0].len);
        two[1].bytes = fuzz_dir_handle(1, &two[1].len);
#define RAW(bytes, len)                                                                            \
    do {                                                                                           \
        raw[ro++] = 0;                                                                             \
        raw[ro++] = (uint8_t)(len);                                                                \
        raw[ro++] = 0;                                                                             \
        memcpy(raw + ro, (bytes), (len));                                                          \
        ro += (len);                                                                               \
    } while (0)
        static const uint8_t reg[] = {2, 0, 0, 2, 1, 0};
        memcpy(raw, reg, sizeof reg);
        ro = sizeof reg;
        FUZZ_CHECK(imc_dir_kt_encode_head(req, sizeof req, &n, 1) == IMC_OK, "kt head");
        RAW(req, n);
        RAW(req, n - 1);
        req[n] = 0;
        RAW(req, n + 1);
        req[0] ^= 0x80;
        RAW(req, n);
        req[0] ^= 0x80;
        req[1] = 'Z';
        RAW(req, n);
        req[1] = IMC_DIR_KIND_KT_HEAD;
        req[2] = 0x80;
        RAW(req, n);
        FUZZ_CHECK(imc_dir_kt_encode_lookup(req, sizeof req, &n, 0, two, 2) == IMC_OK, "kt lookup");
        size_t h0 = 10 + 2; /* version, kind, known size, count */
        RAW(req, n);
        RAW(req, n - 3);
        memcpy(req + h0 + 1 + two[0].len + 1, two[0].bytes, two[0].len); /* h0 twice */
        RAW(req, n);
        req[h0 + 1] = 'U';
        RAW(req, n);
        req[10] = 0;
        req[11] = 0;
        RAW(req, 12);
        req[10] = 0xff;
        req[11] = 0xff;
        RAW(req, n);
        FUZZ_CHECK(imc_dir_kt_encode_audit(req, sizeof req, &n, 0, two[0].bytes, two[0].len, 1) ==
                       IMC_OK,
                   "kt audit");
        RAW(req, n);
        RAW(req, n - 8);
        memset(req + n - 8, 0, 8);
        RAW(req, n);
#undef RAW
        put("dir_serve", "kt-raw-requests", raw, ro);
    }
}

/* ---- Replay state ------------------------------------------------------- */

/* Operation sequences for fuzz_replay (layout in fuzz_replay.c): byte 0
 * picks memory or LMDB; message ops are [0, sender, id, dt_hi, dt_lo]. */
static void gen_replay(void)
{
    /* Four senders fill the table; a fifth is refused until time passes. */
    static const uint8_t cap[] = {
        0,
        0, 0, 1, 0xff, 0xf0, 0, 1, 1, 0xff, 0xf0, 0, 2, 1, 0xff, 0xf0, 0, 3, 1, 0xff, 0xf0,
        0, 4, 1, 0, 0,          /* LIMIT */
        7, 61,                  /* 61 s later: everyone expired */
        0, 4, 1, 0, 0,          /* reclaims */
        6, 0, 6, 4,             /* replays */
    };
    put("replay", "sender-cap", cap, sizeof cap);
    /* One sender overflows its window (ids 1..6, increasing time), then a
     * late one below the floor, another sender's id reuse, and the skew
     * and age edges. */
    static const uint8_t window[] = {
        1,
        0, 2, 1, 0xff, 0x00, 0, 2, 2, 0xff, 0x10, 0, 2, 3, 0xff, 0x20, 0, 2, 4, 0xff, 0x30,
        0, 2, 5, 0xff, 0x40, 0, 2, 6, 0xff, 0x50,
        0, 2, 7, 0xff, 0x01,    /* below the floor */
        0, 3, 1, 0xff, 0x00,    /* sender 3 reuses sender 2's id 1 */
        5,                      /* reopen */
        0, 2, 1, 0xff, 0x00,    /* replay after reopen */
        0, 1, 9, 0x01, 0xf4,    /* +5000 ms: the skew edge */
        0, 1, 10, 0x01, 0xf5,   /* +5010 ms: stale */
        4, 0x17, 0x70,          /* +60 s */
        0, 0, 11, 0xe8, 0x90,   /* -60000 ms: the age edge */
        0, 0, 12, 0xe8, 0x8f,   /* expired */
        6, 1,
    };
    put("replay", "window-floor", window, sizeof window);
    /* Many messages from all five senders with the same id byte. */
    uint8_t mixed[1 + 5 * 40];
    mixed[0] = 1;
    for (unsigned i = 0; i < 40; i++) {
        uint8_t *p = &mixed[1 + 5 * i];
        p[0] = (uint8_t)(i % 4);
        p[1] = (uint8_t)(i % 5);
        p[2] = (uint8_t)(i % 3);
        p[3] = 0xff;
        p[4] = (uint8_t)(i * 37);
    }
    put("replay", "mixed", mixed, sizeof mixed);
    /* LMDB faults (bit 7: [op | 0x80, f, ...]): accepts whose LMDB call
     * 1..8 fails with each error (EIO, ENOMEM, MDB_MAP_FULL,
     * MDB_CORRUPTED), a clock step between them; then reopens whose call
     * 1..8 fails. */
    uint8_t faults[1 + 32 * 9 + 32 * 2 + 5];
    size_t o = 0;
    faults[o++] = 1;
    for (unsigned i = 0; i < 32; i++) {
        const uint8_t m[9] = {0x80, (uint8_t)(i % 8 + 16 * (i / 8)), (uint8_t)(i % 4),
                              (uint8_t)(100 + i), 0xff, 0xf0, 4, 0, 1};
        memcpy(faults + o, m, sizeof m);
        o += sizeof m;
    }
    for (unsigned i = 0; i < 32; i++) {
        faults[o++] = 0x85;
        faults[o++] = (uint8_t)(i % 8 + 16 * (i / 8));
    }
    const uint8_t last[5] = {0, 1, 200, 0xff, 0xf0};
    memcpy(faults + o, last, sizeof last);
    o += sizeof last;
    put("replay", "lmdb-faults", faults, o);
}

/* ---- LMDB files ---------------------------------------------------------- */

/* The bytes of the file at path (at most cap); its length. */
static size_t slurp(uint8_t *out, size_t cap, const char *path)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "cannot read %s", path);
    size_t n = fread(out, 1, cap, f);
    FUZZ_CHECK(fclose(f) == 0, "close %s", path);
    return n;
}

/* mdb_file: directory stores as the library writes them (a fresh one and
 * one with three accounts), the larger one cut to two pages and to one
 * page less (the check then walks its trees). */
static void gen_mdb(void)
{
    static uint8_t file[1 << 17];
    char path[1024], lock[1040];
    snprintf(path, sizeof path, "%s/gen-mdb.mdb", outdir);
    snprintf(lock, sizeof lock, "%s-lock", path);
    const imc_backend *b = fuzz_backend_for(1);
    uint8_t pk[32], sk[32], apk[32], ask[32];
    fuzz_dir_key(pk, sk);
    for (unsigned accounts = 0; accounts <= FUZZ_DIR_HANDLES; accounts += FUZZ_DIR_HANDLES) {
        (void)remove(path);
        (void)remove(lock);
        imc_dir_store store;
        imc_dir d;
        imc_dir_lmdb_options lo = {(size_t)1 << 20, true, false};
        imc_status st = imc_dir_store_lmdb_open(&store, path, &lo);
        FUZZ_CHECK(st == IMC_OK, "lmdb store: %s", imc_status_str(st));
        st = imc_dir_init(&d, b, store, sk, NULL);
        FUZZ_CHECK(st == IMC_OK, "dir_init: %s", imc_status_str(st));
        for (unsigned h = 0; h < accounts; h++) {
            static uint8_t upd[IMC_DIR_UPDATE_MAX_BYTES];
            static uint8_t resp[IMC_DIR_RESPONSE_MAX_BYTES(1)];
            size_t ulen = 0, rlen = 0;
            fuzz_dir_account(h, 0, apk, ask);
            st = imc_dir_sign_register(upd, sizeof upd, &ulen, b, pk, dir_cur(&d, h), ask,
                                       fuzz_dir_device(h, 0, 0));
            FUZZ_CHECK(st == IMC_OK, "sign_register: %s", imc_status_str(st));
            st = imc_dir_update(resp, sizeof resp, &rlen, &d, FUZZ_TS_BASE, upd, ulen);
            FUZZ_CHECK(st == IMC_OK, "register: %s", imc_status_str(st));
        }
        imc_dir_wipe(&d);
        imc_dir_store_close(&store);
        size_t n = slurp(file, sizeof file, path);
        put("mdb_file", accounts == 0 ? "dir-store-fresh" : "dir-store-3-accounts", file, n);
        if (accounts != 0) {
            uint32_t psize = (uint32_t)file[40] | (uint32_t)file[41] << 8 |
                             (uint32_t)file[42] << 16 | (uint32_t)file[43] << 24;
            FUZZ_CHECK(psize >= 512 && n >= 3 * (size_t)psize, "LMDB page size %u", psize);
            put("mdb_file", "dir-store-meta-pages-only", file, 2 * (size_t)psize);
            put("mdb_file", "dir-store-one-page-short", file, n - psize);
        }
    }
    imc_wipe(sk, sizeof sk);
    imc_wipe(ask, sizeof ask);
    (void)remove(path);
    (void)remove(lock);
}

/* ---- The auto backend's profile ----------------------------------------- */

/* auto_profile: profiles as scripts/auto-profile writes them, one with a
 * comment and every primitive on the first backend, one naming a backend
 * for a primitive it may lack, and one refused (a primitive twice). */
static void gen_auto_profile(void)
{
    const fuzz_world *w = fuzz_world_get();
    const char *bn = w->n_backends > 0 ? imc_backend_name(w->backends[0]) : "sodium";
    const char *last = w->n_backends > 1 ? imc_backend_name(w->backends[w->n_backends - 1]) : bn;
    char p[1024];
    int n = snprintf(p, sizeof p, "# from a benchmark run\n");
    for (size_t i = 0; i < IMC_BACKEND_PRIM_COUNT; i++)
        n += snprintf(p + n, sizeof p - (size_t)n, "%s=%s\n",
                      imc_backend_prim_name((imc_backend_prim)i), bn);
    put("auto_profile", "every-primitive", (const uint8_t *)p, (size_t)n);
    n = snprintf(p, sizeof p, "x25519=%s\nsha256=%s\necdsa-p256=%s\n", bn, last, last);
    put("auto_profile", "two-libraries", (const uint8_t *)p, (size_t)n);
    n = snprintf(p, sizeof p, "sha256=%s\nsha256=%s\n", bn, bn);
    put("auto_profile", "twice", (const uint8_t *)p, (size_t)n);
}

/* ---- Key files ---------------------------------------------------------- */

/* corpus/keys_parse/s<suite>-<what>: one key file, n bytes of f. */
static void put_key(uint32_t s, const char *what, const uint8_t *f, size_t n)
{
    char name[64];
    snprintf(name, sizeof name, "s%u-%s", (unsigned)s, what);
    put("keys_parse", name, f, n);
}

/* Encodes a public (secret == NULL) or secret key file into f; its length. */
static size_t encode_key(uint8_t *f, size_t cap, const imc_device_public *pub,
                         const imc_device_keys *secret)
{
    size_t n = 0;
    imc_status st = secret != NULL ? imc_keys_encode_secret(f, cap, &n, secret)
                                   : imc_keys_encode_public(f, cap, &n, pub);
    FUZZ_CHECK(st == IMC_OK, "encode key file: %s", imc_status_str(st));
    return n;
}

/* Public and secret key files of the fixed sender and two devices of every
 * suite, then invalid variants: wrong magic, wrong version, unknown suite,
 * truncated, a trailing byte, and a secret file whose public keys are not
 * the ones its secrets give. */
static void gen_keys(void)
{
    const fuzz_world *w = fuzz_world_get();
    uint8_t f[IMC_KEYS_SECRET_ENCODED_MAX + 1];
    char what[32];
    for (uint32_t s = 1; s <= IMC_SUITE_COUNT; s++) {
        if (!w->have_suite[s])
            continue;
        const imc_device_keys *who[3] = {&w->sender[s], &w->device[s][0], &w->device[s][1]};
        static const char *const whon[3] = {"sender", "dev0", "dev1"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(what, sizeof what, "%s-public", whon[i]);
            put_key(s, what, f, encode_key(f, sizeof f, &who[i]->pub, NULL));
            snprintf(what, sizeof what, "%s-secret", whon[i]);
            put_key(s, what, f, encode_key(f, sizeof f, NULL, who[i]));
        }
        size_t pn = encode_key(f, sizeof f, &w->sender[s].pub, NULL);
        f[0] = 'X';
        put_key(s, "bad-magic-public", f, pn);
        f[0] = 'I';
        f[5] = 2;
        put_key(s, "bad-version-public", f, pn);
        f[5] = 1;
        put_key(s, "truncated-public", f, pn - 1);
        f[pn] = 0;
        put_key(s, "trailing-public", f, pn + 1);

        size_t sn = encode_key(f, sizeof f, NULL, &w->sender[s]);
        f[3] = 'P';
        put_key(s, "public-magic-secret", f, sn);
        f[3] = 'S';
        f[5] = 0;
        put_key(s, "bad-version-secret", f, sn);
        f[5] = 1;
        f[7] = 4;
        put_key(s, "unknown-suite-secret", f, sn);
        f[7] = (uint8_t)s;
        put_key(s, "truncated-secret", f, sn - 1);
        f[sn] = 0;
        put_key(s, "trailing-secret", f, sn + 1);
        /* Device 0's public keys with the sender's secrets: WEAK_KEY. */
        imc_device_keys mixed = w->sender[s];
        memcpy(mixed.pub.dh_pk, w->device[s][0].pub.dh_pk, sizeof mixed.pub.dh_pk);
        put_key(s, "mismatched-dh-secret", f, encode_key(f, sizeof f, NULL, &mixed));
        mixed = w->sender[s];
        memcpy(mixed.pub.sig_pk, w->device[s][0].pub.sig_pk, sizeof mixed.pub.sig_pk);
        put_key(s, "mismatched-sig-secret", f, encode_key(f, sizeof f, NULL, &mixed));
        imc_keys_wipe(&mixed);
    }
    imc_wipe(f, sizeof f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: imc_gen_corpus OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    const fuzz_world *w = fuzz_world_get();
    for (uint32_t s = 1; s <= IMC_SUITE_COUNT; s++)
        fprintf(stderr, "gen-corpus: suite %u on %s\n", (unsigned)s,
                w->have_suite[s] ? imc_backend_name(fuzz_backend_for(s)) : "(unavailable)");
    gen_messages();
    gen_shapes();
    gen_roundtrip();
    gen_dir();
    gen_keys();
    gen_replay();
    gen_mdb();
    gen_auto_profile();
    if (w->n_backends >= 2)
        gen_backend_diff();
    fprintf(stderr, "gen-corpus: %lu files under %s\n", written, outdir);
    return 0;
}
