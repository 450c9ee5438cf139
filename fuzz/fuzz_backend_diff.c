/* Target backend_diff: libsodium against OpenSSL, suite 1 (and suite 3 and
 * AES-256-GCM where libsodium has them on this CPU).
 *
 * Byte 0 picks an operation; the rest are its operands. Every operation
 * runs on both backends through the public API (so under the one
 * validation policy) and must give the same status and, on success, the
 * same bytes. Any difference prints both results and aborts.
 *
 *   0 x25519(sk, pk)              5 SHA-256 / HMAC / HKDF on input bytes
 *   1 x25519 / ed25519 public     6 whole message: encrypt with the same
 *   2 ed25519 sign + verify own     deterministic stream on both (byte-
 *   3 ed25519 verify(sig, pk, m)    identical envelope), decrypt every
 *   4 AEAD seal + open              delivery on both, and a flipped byte
 *   7 decrypt the rest of the input as a delivery to device 0 of suite 1
 *   8 keygen from a deterministic stream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define OP_KINDS 9

static const imc_backend *A, *B; /* libsodium, OpenSSL */

static void differ(const char *what, imc_status sa, const uint8_t *a, size_t alen, imc_status sb,
                   const uint8_t *b, size_t blen)
{
    fprintf(stderr, "backend_diff: %s differs\n", what);
    fprintf(stderr, "  %s: %s\n", imc_backend_name(A), imc_status_str(sa));
    if (a != NULL)
        fuzz_hexdump("    output", a, alen);
    fprintf(stderr, "  %s: %s\n", imc_backend_name(B), imc_status_str(sb));
    if (b != NULL)
        fuzz_hexdump("    output", b, blen);
    FUZZ_CHECK(0, "differential mismatch: %s", what);
}

/* Same status; same bytes when both succeeded. */
static void same(const char *what, imc_status sa, const uint8_t *a, size_t alen, imc_status sb,
                 const uint8_t *b, size_t blen)
{
    if (sa != sb || (sa == IMC_OK && (alen != blen || (alen > 0 && memcmp(a, b, alen) != 0))))
        differ(what, sa, a, alen, sb, b, blen);
    fuzz_count(sa == IMC_OK ? "diff.same-ok" : "diff.same-error");
}

static void op_x25519(fuzz_input *in)
{
    uint8_t sk[32], pk[32], za[32], zb[32];
    fuzz_copy(in, sk, 32);
    fuzz_copy(in, pk, 32);
    imc_status sa = imc_crypto_x25519(A, za, sk, pk);
    imc_status sb = imc_crypto_x25519(B, zb, sk, pk);
    same("x25519", sa, za, 32, sb, zb, 32);
}

static void op_public(fuzz_input *in)
{
    uint8_t sk[32], pa[32], pb[32];
    fuzz_copy(in, sk, 32);
    same("x25519_public", imc_crypto_x25519_public(A, pa, sk), pa, 32,
         imc_crypto_x25519_public(B, pb, sk), pb, 32);
    same("ed25519_public", imc_crypto_ed25519_public(A, pa, sk), pa, 32,
         imc_crypto_ed25519_public(B, pb, sk), pb, 32);
}

static void op_sign(fuzz_input *in)
{
    uint8_t sk[32], pk[32], pkb[32], sa_[64], sb_[64];
    fuzz_copy(in, sk, 32);
    size_t mlen = 0;
    const uint8_t *m = fuzz_bytes(in, in->n, &mlen);
    imc_status st = imc_crypto_ed25519_public(A, pk, sk);
    same("ed25519_public", st, pk, 32, imc_crypto_ed25519_public(B, pkb, sk), pkb, 32);
    if (st != IMC_OK)
        return;
    imc_status sa = imc_crypto_ed25519_sign(A, sa_, sk, pk, m, mlen);
    imc_status sb = imc_crypto_ed25519_sign(B, sb_, sk, pk, m, mlen);
    same("ed25519_sign", sa, sa_, 64, sb, sb_, 64);
    if (sa != IMC_OK)
        return;
    sa = imc_crypto_ed25519_verify(A, sa_, pk, m, mlen);
    sb = imc_crypto_ed25519_verify(B, sa_, pk, m, mlen);
    same("ed25519_verify(own)", sa, NULL, 0, sb, NULL, 0);
    FUZZ_CHECK(sa == IMC_OK, "a fresh signature does not verify: %s", imc_status_str(sa));
}

static void op_verify(fuzz_input *in)
{
    uint8_t sig[64], pk[32];
    fuzz_copy(in, sig, 64);
    fuzz_copy(in, pk, 32);
    size_t mlen = 0;
    const uint8_t *m = fuzz_bytes(in, in->n, &mlen);
    imc_status sa = imc_crypto_ed25519_verify(A, sig, pk, m, mlen);
    imc_status sb = imc_crypto_ed25519_verify(B, sig, pk, m, mlen);
    same("ed25519_verify", sa, NULL, 0, sb, NULL, 0);
}

static void op_aead(fuzz_input *in)
{
    uint8_t sel = fuzz_u8(in);
    imc_aead aead = (sel & 1) ? IMC_AEAD_AES256GCM : IMC_AEAD_CHACHA20POLY1305;
    uint32_t cap = aead == IMC_AEAD_AES256GCM ? IMC_CAP_AES256GCM : IMC_CAP_CHACHA20POLY1305;
    if (!(imc_backend_caps(A) & cap) || !(imc_backend_caps(B) & cap))
        aead = IMC_AEAD_CHACHA20POLY1305;
    uint8_t key[32], nonce[16];
    fuzz_copy(in, key, 32);
    /* Nonce length is an operand too: anything but 12 must be refused alike. */
    size_t nonce_len = (sel & 2) ? (size_t)(fuzz_u8(in) % 17) : 12;
    fuzz_copy(in, nonce, nonce_len);
    size_t ad_len = 0, msg_len = 0;
    const uint8_t *ad = fuzz_bytes(in, fuzz_u8(in), &ad_len);
    const uint8_t *msg = fuzz_bytes(in, in->n, &msg_len);
    size_t cap_out = msg_len + 16;
    uint8_t *oa = malloc(cap_out), *ob = malloc(cap_out);
    FUZZ_CHECK(oa != NULL && ob != NULL, "out of memory");
    imc_status sa = imc_crypto_aead_seal(A, aead, oa, cap_out, key, nonce, nonce_len, ad,
                                         ad_len, msg, msg_len);
    imc_status sb = imc_crypto_aead_seal(B, aead, ob, cap_out, key, nonce, nonce_len, ad,
                                         ad_len, msg, msg_len);
    same("aead_seal", sa, oa, cap_out, sb, ob, cap_out);
    if (sa == IMC_OK) {
        /* Each opens the other's output. */
        uint8_t *pa = malloc(msg_len + 1), *pb = malloc(msg_len + 1);
        FUZZ_CHECK(pa != NULL && pb != NULL, "out of memory");
        sa = imc_crypto_aead_open(A, aead, pa, msg_len + 1, key, nonce, nonce_len, ad, ad_len, ob,
                                  cap_out);
        sb = imc_crypto_aead_open(B, aead, pb, msg_len + 1, key, nonce, nonce_len, ad, ad_len, oa,
                                  cap_out);
        same("aead_open(sealed)", sa, pa, msg_len, sb, pb, msg_len);
        FUZZ_CHECK(sa == IMC_OK && (msg_len == 0 || memcmp(pa, msg, msg_len) == 0),
                   "open of a fresh seal failed");
        free(pa);
        free(pb);
    }
    /* The input itself as ciphertext||tag: almost always rejected by both. */
    if (msg_len >= 16) {
        sa = imc_crypto_aead_open(A, aead, oa, cap_out, key, nonce, nonce_len, ad, ad_len, msg,
                                  msg_len);
        sb = imc_crypto_aead_open(B, aead, ob, cap_out, key, nonce, nonce_len, ad, ad_len, msg,
                                  msg_len);
        same("aead_open(input)", sa, oa, msg_len - 16, sb, ob, msg_len - 16);
    }
    free(oa);
    free(ob);
}

static void op_hash(fuzz_input *in)
{
    uint8_t sel = fuzz_u8(in);
    size_t klen = 0, ilen = 0, mlen = 0;
    const uint8_t *k = fuzz_bytes(in, fuzz_u8(in), &klen);
    const uint8_t *info = fuzz_bytes(in, fuzz_u8(in), &ilen);
    size_t out_len = (size_t)fuzz_u16(in) % (IMC_HKDF_SHA256_MAX_BYTES + 2);
    const uint8_t *m = fuzz_bytes(in, in->n, &mlen);
    uint8_t ha[32], hb[32];
    same("sha256", imc_crypto_sha256(A, ha, m, mlen), ha, 32, imc_crypto_sha256(B, hb, m, mlen),
         hb, 32);
    same("hmac_sha256", imc_crypto_hmac_sha256(A, ha, k, klen, m, mlen), ha, 32,
         imc_crypto_hmac_sha256(B, hb, k, klen, m, mlen), hb, 32);
    if (sel & 1) {
        uint8_t *oa = malloc(out_len + 1), *ob = malloc(out_len + 1);
        FUZZ_CHECK(oa != NULL && ob != NULL, "out of memory");
        /* salt = k, ikm = m */
        imc_status sa = imc_crypto_hkdf_sha256(A, oa, out_len, k, klen, m, mlen, info, ilen);
        imc_status sb = imc_crypto_hkdf_sha256(B, ob, out_len, k, klen, m, mlen, info, ilen);
        same("hkdf_sha256", sa, oa, out_len, sb, ob, out_len);
        free(oa);
        free(ob);
    }
}

static void op_keygen(fuzz_input *in)
{
    uint64_t stream = fuzz_u64(in);
    imc_rng ra, rb;
    uint8_t pa[32], sa_[32], pb[32], sb_[32];
    fuzz_rng(&ra, stream);
    fuzz_rng(&rb, stream);
    imc_status a = imc_crypto_x25519_keygen(A, &ra, pa, sa_);
    imc_status b = imc_crypto_x25519_keygen(B, &rb, pb, sb_);
    same("x25519_keygen(pk)", a, pa, 32, b, pb, 32);
    same("x25519_keygen(sk)", a, sa_, 32, b, sb_, 32);
    a = imc_crypto_ed25519_keygen(A, &ra, pa, sa_);
    b = imc_crypto_ed25519_keygen(B, &rb, pb, sb_);
    same("ed25519_keygen(pk)", a, pa, 32, b, pb, 32);
    same("ed25519_keygen(sk)", a, sa_, 32, b, sb_, 32);
}

/* ---- Whole messages ---------------------------------------------------- */

static uint8_t env_a[IMC_MAX_BODY_BYTES + 8192], env_b[sizeof env_a];
static uint8_t del_buf[IMC_MAX_BODY_BYTES + 4096];
static uint8_t plain_a[IMC_MAX_BODY_BYTES + 4096], plain_b[sizeof plain_a];

static uint32_t diff_suite(uint8_t sel)
{
    /* Suite 3 only where libsodium has AES-GCM on this CPU. */
    const fuzz_world *w = fuzz_world_get();
    uint32_t s = (sel & 1) ? IMC_SUITE_X25519_ED25519_AES256GCM
                           : IMC_SUITE_X25519_ED25519_CHACHA20POLY1305;
    const imc_suite *su = imc_suite_get(s);
    if (!w->have_suite[s] || !imc_suite_supported(su, A) || !imc_suite_supported(su, B))
        s = IMC_SUITE_X25519_ED25519_CHACHA20POLY1305;
    return s;
}

static void decrypt_both(const char *what, uint32_t suite, const imc_device_keys *me,
                         const uint8_t *d, size_t dlen)
{
    imc_msg_peer peer = fuzz_sender_peer(suite);
    imc_msg_received ia, ib;
    memset(&ia, 0, sizeof ia);
    memset(&ib, 0, sizeof ib);
    size_t cap = dlen < sizeof plain_a ? dlen : sizeof plain_a;
    /* The device's clock: the delivery's own timestamp (inputs choose it). */
    imc_delivery pd;
    uint64_t now = imc_msg_parse_delivery(&pd, d, dlen) == IMC_OK ? pd.h.timestamp_ms : 0;
    imc_status sa = imc_msg_decrypt(plain_a, cap, &ia, A, me, &peer, NULL, now, d, dlen);
    imc_status sb = imc_msg_decrypt(plain_b, cap, &ib, B, me, &peer, NULL, now, d, dlen);
    if (sa != sb || (sa == IMC_OK && (ia.body_len != ib.body_len ||
                                      memcmp(plain_a, plain_b, ia.body_len) != 0))) {
        fuzz_hexdump("delivery", d, dlen);
        differ(what, sa, plain_a, sa == IMC_OK ? ia.body_len : 0, sb, plain_b,
               sb == IMC_OK ? ib.body_len : 0);
    }
    if (sa == IMC_OK &&
        (ia.suite != ib.suite || ia.sender_device != ib.sender_device ||
         ia.timestamp_ms != ib.timestamp_ms || ia.sender_handle_len != ib.sender_handle_len ||
         memcmp(ia.sender_handle, ib.sender_handle, ia.sender_handle_len) != 0 ||
         memcmp(ia.message_id, ib.message_id, IMC_MSG_ID_BYTES) != 0))
        differ("decrypt info", sa, ia.message_id, IMC_MSG_ID_BYTES, sb, ib.message_id,
               IMC_MSG_ID_BYTES);
    fuzz_count(sa == IMC_OK ? "diff.decrypt-ok" : "diff.decrypt-rejected");
}

static void op_message(fuzz_input *in)
{
    const fuzz_world *w = fuzz_world_get();
    uint32_t suite = diff_suite(fuzz_u8(in));
    uint8_t mask = fuzz_u8(in);
    uint64_t ts = fuzz_u64(in);
    uint64_t stream = fuzz_u32(in);
    uint16_t flip = fuzz_u16(in);
    size_t body_len = 0;
    const uint8_t *body = fuzz_bytes(in, in->n, &body_len);
    imc_device_public rcpt[FUZZ_DEVICES];
    size_t n = 0;
    for (unsigned i = 0; i < FUZZ_DEVICES; i++)
        if ((mask | 1) & (1u << i))
            rcpt[n++] = w->device[suite][i].pub;
    imc_msg_send req;
    memset(&req, 0, sizeof req);
    req.sender_handle = (const uint8_t *)FUZZ_SENDER_HANDLE;
    req.sender_handle_len = sizeof FUZZ_SENDER_HANDLE - 1;
    req.sender = &w->sender[suite];
    req.recipients = rcpt;
    req.recipient_count = n;
    req.timestamp_ms = ts;
    req.body = body;
    req.body_len = body_len;
    imc_rng ra, rb;
    fuzz_rng(&ra, UINT64_C(0x5000000000000000) | stream);
    fuzz_rng(&rb, UINT64_C(0x5000000000000000) | stream);
    size_t la = 0, lb = 0;
    imc_status sa = imc_msg_encrypt(env_a, sizeof env_a, &la, A, &ra, &req);
    imc_status sb = imc_msg_encrypt(env_b, sizeof env_b, &lb, B, &rb, &req);
    same("encrypt", sa, env_a, la, sb, env_b, lb);
    FUZZ_CHECK(sa == IMC_OK, "encrypt failed on both: %s", imc_status_str(sa));
    imc_delivery_view views[FUZZ_DEVICES];
    size_t count = 0;
    imc_status st = imc_msg_fanout(views, FUZZ_DEVICES, &count, env_a, la);
    FUZZ_CHECK(st == IMC_OK && count == n, "fanout: %s", imc_status_str(st));
    for (size_t i = 0; i < count; i++) {
        size_t dlen = 0;
        st = imc_delivery_view_copy(del_buf, sizeof del_buf, &dlen, &views[i]);
        FUZZ_CHECK(st == IMC_OK, "view copy: %s", imc_status_str(st));
        const imc_device_keys *me = &w->device[suite][views[i].device_id - FUZZ_DEVICE_BASE];
        decrypt_both("decrypt(genuine)", suite, me, del_buf, dlen);
        if (i == flip % count) {
            del_buf[(flip >> 3) % dlen] ^= (uint8_t)(1u << (flip & 7));
            decrypt_both("decrypt(flipped)", suite, me, del_buf, dlen);
        }
    }
}

static void op_decrypt(fuzz_input *in)
{
    const fuzz_world *w = fuzz_world_get();
    size_t dlen = 0;
    const uint8_t *d = fuzz_bytes(in, in->n, &dlen);
    uint32_t suite = dlen >= 4 ? diff_suite(d[3] == IMC_SUITE_X25519_ED25519_AES256GCM) : 1;
    decrypt_both("decrypt(input)", suite, &w->device[suite][0], d, dlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_world *w = fuzz_world_get();
    A = w->sodium;
    B = w->openssl;
    if (A == NULL || B == NULL || size == 0)
        return 0; /* needs both backends */
    fuzz_input in = {data + 1, size - 1};
    switch (data[0] % OP_KINDS) {
    case 0: op_x25519(&in); break;
    case 1: op_public(&in); break;
    case 2: op_sign(&in); break;
    case 3: op_verify(&in); break;
    case 4: op_aead(&in); break;
    case 5: op_hash(&in); break;
    case 6: op_message(&in); break;
    case 7: op_decrypt(&in); break;
    default: op_keygen(&in); break;
    }
    return 0;
}
