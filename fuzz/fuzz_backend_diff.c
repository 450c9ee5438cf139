/* Target backend_diff: every primitive on every backend that has it.
 *
 * Byte 0 picks an operation; the rest are its operands. Every operation
 * runs on every backend of the registry that has the primitive (imcore's
 * capabilities), through the public API (so under the one validation
 * policy), and all must give the same status and, on success, the same
 * bytes. On a difference the results are grouped: the largest group is the
 * majority, every other group names its backends as the odd ones out, and
 * the harness aborts.
 *
 *   0 x25519(sk, pk)               6 whole message, suites 1-3: encrypt with
 *   1 x25519 / ed25519 / P-256       the same deterministic stream on every
 *     public                          backend (byte-identical envelopes),
 *   2 ed25519 sign + verify own       decrypt each delivery on every backend,
 *   3 ed25519 verify(sig, pk, m)      and a flipped byte
 *   4 AEAD seal + open             7 decrypt the rest of the input as a
 *   5 SHA-256 / HMAC / HKDF          delivery to device 0 of suite 1 or 3
 *   8 keygen from a deterministic  9 P-256 ECDH(sk, pk)
 *     stream                       10 ECDSA sign + verify own, verify(sig)
 * (byte 0 modulo 11 below 0xf0). Byte 0 from 0xf0 on: the prepared-key
 * calls (imc_crypto_key_prepare and the *_prepared operations; low nibble
 * % 4: X25519, Ed25519, P-256 ECDH, ECDSA), which on each backend must
 * give exactly that backend's plain call's status and bytes, and across
 * backends the same (judged as above); bit 3 of byte 0 prepares a key of
 * the length in the next byte instead of the right one. With bit 2 of
 * such a byte 0 instead: the argument contract of imcore/crypto.h. A
 * primitive (next byte % 18) is called with the pointer arguments the
 * next byte names set to NULL (bit 7: the backend) and buffer lengths
 * from the input: IMC_ERR_ARG exactly when the backend, an output or a
 * fixed-size argument is NULL, a buffer is NULL with a nonzero length (or
 * an HKDF output length is 0), on every backend with the primitive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "imcore/util.h"

#define OP_KINDS 11
#define OUT_MAX (IMC_HKDF_SHA256_MAX_BYTES + 2)

/* One backend's answer to one operation. */
typedef struct result {
    const imc_backend *b;
    imc_status st;
    size_t len;
    uint8_t *out; /* OUT_MAX bytes, owned by the table below */
} result;

static result R[FUZZ_MAX_BACKENDS];
static size_t NR;

/* Starts an operation on the backends reporting every bit of cap. */
static void begin(uint32_t cap)
{
    const fuzz_world *w = fuzz_world_get();
    NR = 0;
    for (size_t i = 0; i < w->n_backends; i++) {
        if ((imc_backend_caps(w->backends[i]) & cap) != cap)
            continue;
        if (R[NR].out == NULL) {
            R[NR].out = malloc(OUT_MAX);
            FUZZ_CHECK(R[NR].out != NULL, "out of memory");
        }
        R[NR].b = w->backends[i];
        R[NR].st = IMC_OK;
        R[NR].len = 0;
        NR++;
    }
}

static int same_result(const result *x, const result *y)
{
    if (x->st != y->st)
        return 0;
    return x->st != IMC_OK || (x->len == y->len && memcmp(x->out, y->out, x->len) == 0);
}

/* All of R[0..NR) must agree; otherwise names the minority and aborts. */
static void judge(const char *what)
{
    size_t group[FUZZ_MAX_BACKENDS], size[FUZZ_MAX_BACKENDS] = {0}, ngroups = 0;
    for (size_t i = 0; i < NR; i++) {
        size_t g = 0;
        while (g < ngroups && !same_result(&R[i], &R[group[g]]))
            g++;
        if (g == ngroups)
            group[ngroups++] = i;
        size[g]++;
    }
    if (ngroups <= 1) {
        fuzz_count(NR > 0 && R[0].st == IMC_OK ? "diff.same-ok" : "diff.same-error");
        return;
    }
    size_t major = 0;
    for (size_t g = 1; g < ngroups; g++)
        if (size[g] > size[major])
            major = g;
    fprintf(stderr, "backend_diff: %s differs (%zu backends, %zu answers)\n", what, NR, ngroups);
    for (size_t g = 0; g < ngroups; g++) {
        const result *rep = &R[group[g]];
        fprintf(stderr, "  %s:", g == major ? "majority" : "ODD ONE OUT");
        for (size_t i = 0; i < NR; i++)
            if (same_result(&R[i], rep))
                fprintf(stderr, " %s", imc_backend_name(R[i].b));
        fprintf(stderr, " -> %s\n", imc_status_str(rep->st));
        if (rep->st == IMC_OK)
            fuzz_hexdump("    output", rep->out, rep->len);
    }
    FUZZ_CHECK(0, "differential mismatch: %s", what);
}

/* ---- primitives -------------------------------------------------------- */

static void op_x25519(fuzz_input *in)
{
    uint8_t sk[32], pk[32];
    fuzz_copy(in, sk, 32);
    fuzz_copy(in, pk, 32);
    begin(IMC_CAP_X25519);
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_x25519(R[i].b, R[i].out, sk, pk);
        R[i].len = 32;
    }
    judge("x25519");
}

static void op_public(fuzz_input *in)
{
    uint8_t sk[32];
    fuzz_copy(in, sk, 32);
    begin(IMC_CAP_X25519);
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_x25519_public(R[i].b, R[i].out, sk);
        R[i].len = 32;
    }
    judge("x25519_public");
    begin(IMC_CAP_ED25519);
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_ed25519_public(R[i].b, R[i].out, sk);
        R[i].len = 32;
    }
    judge("ed25519_public");
    begin(IMC_CAP_P256_ECDH);
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_p256_public(R[i].b, R[i].out, sk);
        R[i].len = IMC_P256_PUBLIC_BYTES;
    }
    judge("p256_public");
}

static void op_sign(fuzz_input *in)
{
    uint8_t sk[32], pk[32], sig[64];
    fuzz_copy(in, sk, 32);
    size_t mlen = 0;
    const uint8_t *m = fuzz_bytes(in, in->n, &mlen);
    begin(IMC_CAP_ED25519);
    if (NR == 0 || imc_crypto_ed25519_public(R[0].b, pk, sk) != IMC_OK)
        return;
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_ed25519_sign(R[i].b, R[i].out, sk, pk, m, mlen);
        R[i].len = 64;
    }
    judge("ed25519_sign");
    memcpy(sig, R[0].out, 64);
    for (size_t i = 0; i < NR; i++)
        R[i].st = imc_crypto_ed25519_verify(R[i].b, sig, pk, m, mlen);
    judge("ed25519_verify(own)");
    FUZZ_CHECK(R[0].st == IMC_OK, "a fresh signature does not verify: %s",
               imc_status_str(R[0].st));
}

static void op_verify(fuzz_input *in)
{
    uint8_t sig[64], pk[32];
    fuzz_copy(in, sig, 64);
    fuzz_copy(in, pk, 32);
    size_t mlen = 0;
    const uint8_t *m = fuzz_bytes(in, in->n, &mlen);
    begin(IMC_CAP_ED25519);
    for (size_t i = 0; i < NR; i++)
        R[i].st = imc_crypto_ed25519_verify(R[i].b, sig, pk, m, mlen);
    judge("ed25519_verify");
}

static void op_p256_ecdh(fuzz_input *in)
{
    uint8_t sk[32], pk[IMC_P256_PUBLIC_BYTES];
    fuzz_copy(in, sk, 32);
    fuzz_copy(in, pk, sizeof pk);
    begin(IMC_CAP_P256_ECDH);
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_p256_ecdh(R[i].b, R[i].out, sk, pk);
        R[i].len = 32;
    }
    judge("p256_ecdh");
    /* With a valid peer key: sk times the public key of sk ^ 1. */
    uint8_t other[32];
    memcpy(other, sk, 32);
    other[31] ^= 1;
    if (NR == 0 || imc_crypto_p256_public(R[0].b, pk, other) != IMC_OK)
        return;
    for (size_t i = 0; i < NR; i++)
        R[i].st = imc_crypto_p256_ecdh(R[i].b, R[i].out, sk, pk);
    judge("p256_ecdh(valid peer)");
}

static void op_ecdsa(fuzz_input *in)
{
    uint8_t sk[32], pk[IMC_P256_PUBLIC_BYTES], sig[64];
    fuzz_copy(in, sk, 32);
    fuzz_copy(in, sig, 64);
    size_t mlen = 0;
    const uint8_t *m = fuzz_bytes(in, in->n, &mlen);
    begin(IMC_CAP_ECDSA_P256 | IMC_CAP_P256_ECDH);
    if (NR == 0)
        return;
    int have_pk = imc_crypto_p256_public(R[0].b, pk, sk) == IMC_OK;
    /* The input's own signature under this key (almost always refused). */
    if (have_pk) {
        for (size_t i = 0; i < NR; i++)
            R[i].st = imc_crypto_ecdsa_p256_verify(R[i].b, sig, pk, m, mlen);
        judge("ecdsa_verify(input)");
    }
    /* Deterministic (RFC 6979), low-S: the same bytes everywhere. */
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_ecdsa_p256_sign(R[i].b, R[i].out, sk, m, mlen);
        R[i].len = 64;
    }
    judge("ecdsa_sign");
    if (!have_pk || R[0].st != IMC_OK)
        return;
    memcpy(sig, R[0].out, 64);
    for (size_t i = 0; i < NR; i++)
        R[i].st = imc_crypto_ecdsa_p256_verify(R[i].b, sig, pk, m, mlen);
    judge("ecdsa_verify(own)");
    FUZZ_CHECK(R[0].st == IMC_OK, "a fresh ECDSA signature does not verify");
}

static void op_aead(fuzz_input *in)
{
    uint8_t sel = fuzz_u8(in);
    imc_aead aead = (sel & 1) ? IMC_AEAD_AES256GCM : IMC_AEAD_CHACHA20POLY1305;
    uint32_t cap = aead == IMC_AEAD_AES256GCM ? IMC_CAP_AES256GCM : IMC_CAP_CHACHA20POLY1305;
    uint8_t key[32], nonce[16];
    fuzz_copy(in, key, 32);
    /* Nonce length is an operand too: anything but 12 must be refused alike. */
    size_t nonce_len = (sel & 2) ? (size_t)(fuzz_u8(in) % 17) : 12;
    fuzz_copy(in, nonce, nonce_len);
    size_t ad_len = 0, msg_len = 0;
    const uint8_t *ad = fuzz_bytes(in, fuzz_u8(in), &ad_len);
    const uint8_t *msg = fuzz_bytes(in, in->n, &msg_len);
    size_t cap_out = msg_len + 16;
    uint8_t *sealed = malloc(cap_out), *tmp = malloc(cap_out);
    FUZZ_CHECK(sealed != NULL && tmp != NULL, "out of memory");
    begin(cap);
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_aead_seal(R[i].b, aead, tmp, cap_out, key, nonce, nonce_len, ad,
                                       ad_len, msg, msg_len);
        R[i].len = cap_out < OUT_MAX ? cap_out : OUT_MAX;
        memcpy(R[i].out, tmp, R[i].len);
        if (i == 0)
            memcpy(sealed, tmp, cap_out);
    }
    judge("aead_seal");
    if (NR > 0 && R[0].st == IMC_OK) {
        /* Every backend opens the first one's output. */
        for (size_t i = 0; i < NR; i++) {
            R[i].st = imc_crypto_aead_open(R[i].b, aead, tmp, cap_out, key, nonce, nonce_len,
                                           ad, ad_len, sealed, cap_out);
            R[i].len = msg_len < OUT_MAX ? msg_len : OUT_MAX;
            memcpy(R[i].out, tmp, R[i].len);
        }
        judge("aead_open(sealed)");
        FUZZ_CHECK(R[0].st == IMC_OK && (msg_len == 0 || memcmp(tmp, msg, msg_len) == 0),
                   "open of a fresh seal failed");
    }
    /* The input itself as ciphertext||tag: almost always refused by all. */
    if (msg_len >= 16) {
        for (size_t i = 0; i < NR; i++) {
            R[i].st = imc_crypto_aead_open(R[i].b, aead, tmp, cap_out, key, nonce, nonce_len,
                                           ad, ad_len, msg, msg_len);
            R[i].len = msg_len - 16 < OUT_MAX ? msg_len - 16 : OUT_MAX;
            memcpy(R[i].out, tmp, R[i].len);
        }
        judge("aead_open(input)");
    }
    free(sealed);
    free(tmp);
}

static void op_hash(fuzz_input *in)
{
    uint8_t sel = fuzz_u8(in);
    size_t klen = 0, ilen = 0, mlen = 0;
    const uint8_t *k = fuzz_bytes(in, fuzz_u8(in), &klen);
    const uint8_t *info = fuzz_bytes(in, fuzz_u8(in), &ilen);
    size_t out_len = (size_t)fuzz_u16(in) % (IMC_HKDF_SHA256_MAX_BYTES + 2);
    const uint8_t *m = fuzz_bytes(in, in->n, &mlen);
    begin(IMC_CAP_SHA256);
    for (size_t i = 0; i < NR; i++) {
        R[i].st = imc_crypto_sha256(R[i].b, R[i].out, m, mlen);
        R[i].len = 32;
    }
    judge("sha256");
    for (size_t i = 0; i < NR; i++)
        R[i].st = imc_crypto_hmac_sha256(R[i].b, R[i].out, k, klen, m, mlen);
    judge("hmac_sha256");
    if (sel & 1) {
        /* salt = k, ikm = m */
        for (size_t i = 0; i < NR; i++) {
            R[i].st = imc_crypto_hkdf_sha256(R[i].b, R[i].out, out_len, k, klen, m, mlen, info,
                                             ilen);
            R[i].len = out_len;
        }
        judge("hkdf_sha256");
    }
}

static void op_keygen(fuzz_input *in)
{
    uint64_t stream = fuzz_u64(in);
    imc_rng rng;
    uint8_t sk[32];
    begin(IMC_CAP_X25519);
    for (size_t i = 0; i < NR; i++) {
        fuzz_rng(&rng, stream);
        R[i].st = imc_crypto_x25519_keygen(R[i].b, &rng, R[i].out, sk);
        memcpy(R[i].out + 32, sk, 32);
        R[i].len = 64;
    }
    judge("x25519_keygen");
    begin(IMC_CAP_ED25519);
    for (size_t i = 0; i < NR; i++) {
        fuzz_rng(&rng, stream);
        R[i].st = imc_crypto_ed25519_keygen(R[i].b, &rng, R[i].out, sk);
        memcpy(R[i].out + 32, sk, 32);
        R[i].len = 64;
    }
    judge("ed25519_keygen");
    begin(IMC_CAP_P256_ECDH);
    for (size_t i = 0; i < NR; i++) {
        fuzz_rng(&rng, stream);
        R[i].st = imc_crypto_p256_keygen(R[i].b, &rng, R[i].out, sk);
        memcpy(R[i].out + IMC_P256_PUBLIC_BYTES, sk, 32);
        R[i].len = IMC_P256_PUBLIC_BYTES + 32;
    }
    judge("p256_keygen");
    imc_wipe(sk, sizeof sk);
}

/* ---- Prepared keys ------------------------------------------------------ */

/* R[i] (the prepared call's answer) must be the backend's plain answer. */
static void same_as_plain(size_t i, imc_status st, const uint8_t *plain_out, size_t len,
                          const char *what)
{
    FUZZ_CHECK(R[i].st == st && (st != IMC_OK || memcmp(R[i].out, plain_out, len) == 0),
               "%s on %s: prepared %s, plain %s", what, imc_backend_name(R[i].b),
               imc_status_str(R[i].st), imc_status_str(st));
}

/* Prepares key (or, with a bad length, refuses it: IMC_ERR_ARG, *k NULL). */
static imc_status prepare(imc_prepared_key **k, const imc_backend *b, imc_key_kind kind,
                          const uint8_t *key, size_t len, size_t want)
{
    imc_status st = imc_crypto_key_prepare(k, b, kind, key, len);
    FUZZ_CHECK(st == IMC_OK ? *k != NULL : *k == NULL, "prepare: %s but key %p",
               imc_status_str(st), (void *)*k);
    FUZZ_CHECK(len == want || st == IMC_ERR_ARG, "a key of %zu bytes (not %zu) prepared: %s", len,
               want, imc_status_str(st));
    return st;
}

static void op_prepared(uint8_t sel, fuzz_input *in)
{
    static const uint32_t caps[4] = {IMC_CAP_X25519, IMC_CAP_ED25519, IMC_CAP_P256_ECDH,
                                     IMC_CAP_ECDSA_P256 | IMC_CAP_P256_ECDH};
    static const char *names[4] = {"x25519_prepared", "ed25519_prepared", "p256_ecdh_prepared",
                                   "ecdsa_prepared"};
    unsigned prim = sel % 4;
    size_t bad_len = (sel & 8) ? fuzz_u8(in) % 72 : SIZE_MAX;
    uint8_t sk[32], peer[IMC_P256_PUBLIC_BYTES], sig[64], key[64 + 8], plain_out[64];
    fuzz_copy(in, sk, 32);
    fuzz_copy(in, peer, sizeof peer);
    fuzz_copy(in, sig, sizeof sig);
    size_t mlen = 0;
    const uint8_t *m = fuzz_bytes(in, in->n, &mlen);
    begin(caps[prim]);
    if (NR == 0)
        return;
    /* The key as prepare takes it: X25519 / P-256 the scalar, Ed25519 the
     * seed and its public key. */
    size_t want = 32;
    memset(key, 0, sizeof key);
    memcpy(key, sk, 32);
    if (prim == 1) {
        if (imc_crypto_ed25519_public(R[0].b, key + 32, sk) != IMC_OK)
            return;
        want = 64;
    }
    size_t len = bad_len != SIZE_MAX ? bad_len : want;
    static const imc_key_kind kinds[4] = {IMC_KEY_X25519_SECRET, IMC_KEY_ED25519_SECRET,
                                          IMC_KEY_P256_SECRET, IMC_KEY_P256_SECRET};
    for (size_t i = 0; i < NR; i++) {
        const imc_backend *b = R[i].b;
        imc_prepared_key *k = NULL;
        R[i].len = prim == 2 ? IMC_P256_SHARED_BYTES : prim == 0 ? 32 : 64;
        R[i].st = prepare(&k, b, kinds[prim], key, len, want);
        if (R[i].st != IMC_OK)
            continue;
        imc_status st;
        switch (prim) {
        case 0:
            R[i].st = imc_crypto_x25519_prepared(b, R[i].out, k, peer);
            st = imc_crypto_x25519(b, plain_out, sk, peer);
            break;
        case 1:
            R[i].st = imc_crypto_ed25519_sign_prepared(b, R[i].out, k, m, mlen);
            st = imc_crypto_ed25519_sign(b, plain_out, sk, key + 32, m, mlen);
            break;
        case 2:
            R[i].st = imc_crypto_p256_ecdh_prepared(b, R[i].out, k, peer);
            st = imc_crypto_p256_ecdh(b, plain_out, sk, peer);
            break;
        default:
            R[i].st = imc_crypto_ecdsa_p256_sign_prepared(b, R[i].out, k, m, mlen);
            st = imc_crypto_ecdsa_p256_sign(b, plain_out, sk, m, mlen);
            break;
        }
        same_as_plain(i, st, plain_out, R[i].len, names[prim]);
        imc_crypto_key_free(k);
    }
    judge(names[prim]);
    if (prim % 2 == 0 || R[0].st != IMC_OK)
        return;
    /* Verify with the public key prepared: the fresh signature and the
     * input's. */
    uint8_t pk[IMC_P256_PUBLIC_BYTES], own[64];
    size_t pk_len = prim == 1 ? 32 : IMC_P256_PUBLIC_BYTES;
    memcpy(own, R[0].out, 64);
    if (prim == 1)
        memcpy(pk, key + 32, 32);
    else if (imc_crypto_p256_public(R[0].b, pk, sk) != IMC_OK)
        return;
    for (int which = 0; which < 2; which++) {
        const uint8_t *s = which == 0 ? own : sig;
        for (size_t i = 0; i < NR; i++) {
            const imc_backend *b = R[i].b;
            imc_prepared_key *k = NULL;
            R[i].len = 0;
            R[i].st = prepare(&k, b, prim == 1 ? IMC_KEY_ED25519_PUBLIC : IMC_KEY_P256_PUBLIC, pk,
                              pk_len, pk_len);
            if (R[i].st != IMC_OK)
                continue;
            imc_status st;
            if (prim == 1) {
                R[i].st = imc_crypto_ed25519_verify_prepared(b, s, k, m, mlen);
                st = imc_crypto_ed25519_verify(b, s, pk, m, mlen);
            } else {
                R[i].st = imc_crypto_ecdsa_p256_verify_prepared(b, s, k, m, mlen);
                st = imc_crypto_ecdsa_p256_verify(b, s, pk, m, mlen);
            }
            same_as_plain(i, st, plain_out, 0, which == 0 ? "verify_prepared(own)"
                                                          : "verify_prepared(input)");
            imc_crypto_key_free(k);
        }
        judge(which == 0 ? "verify_prepared(own)" : "verify_prepared(input)");
        if (which == 0)
            FUZZ_CHECK(R[0].st == IMC_OK, "a fresh signature does not verify prepared: %s",
                       imc_status_str(R[0].st));
    }
    /* The input's bytes as a P-256 public key: prepared exactly when valid. */
    if (prim == 3) {
        for (size_t i = 0; i < NR; i++) {
            imc_prepared_key *k = NULL;
            R[i].len = 0;
            R[i].st = prepare(&k, R[i].b, IMC_KEY_P256_PUBLIC, peer, sizeof peer, sizeof peer);
            imc_crypto_key_free(k);
        }
        judge("prepare(p256 public from input)");
    }
    imc_wipe(sk, sizeof sk);
    imc_wipe(key, sizeof key);
}

/* ---- The argument contract --------------------------------------------- */

static void op_args(fuzz_input *in)
{
    static const uint32_t caps[18] = {
        0, IMC_CAP_X25519, IMC_CAP_X25519, IMC_CAP_X25519, IMC_CAP_ED25519, IMC_CAP_ED25519,
        IMC_CAP_ED25519, IMC_CAP_ED25519, IMC_CAP_P256_ECDH, IMC_CAP_P256_ECDH,
        IMC_CAP_P256_ECDH, IMC_CAP_ECDSA_P256, IMC_CAP_ECDSA_P256, IMC_CAP_CHACHA20POLY1305,
        IMC_CAP_CHACHA20POLY1305, IMC_CAP_SHA256, IMC_CAP_SHA256, IMC_CAP_SHA256};
    unsigned fn = fuzz_u8(in) % 18;
    uint8_t mask = fuzz_u8(in);
    size_t len[4];
    for (int k = 0; k < 4; k++)
        len[k] = fuzz_u8(in) % 40;
    static uint8_t buf[5][160];
    for (int k = 0; k < 5; k++)
        fuzz_copy(in, buf[k], sizeof buf[k]);
    /* Argument k: buf[k] or NULL. */
#define ARG(k) ((mask & (1u << (k))) ? NULL : buf[k])
#define NUL(k) ((mask & (1u << (k))) != 0)
    /* Which arguments are required (fixed size or output) and which are
     * buffers of length len[]. */
    bool bad = (mask & 0x80) != 0;
    switch (fn) {
    case 0: bad |= NUL(0) && len[0] != 0; break;
    case 1: case 2: case 4: case 5: case 8: case 9: bad |= NUL(0) || NUL(1); break;
    case 3: case 10: bad |= NUL(0) || NUL(1) || NUL(2); break;
    case 6: bad |= NUL(0) || NUL(1) || NUL(2) || (NUL(3) && len[0] != 0); break;
    case 7: case 11: case 12: bad |= NUL(0) || NUL(1) || (NUL(2) && len[0] != 0); break;
    case 13: case 14:
        bad |= NUL(0) || NUL(1) || NUL(2) || (NUL(3) && len[0] != 0) || (NUL(4) && len[1] != 0);
        break;
    case 15: bad |= NUL(0) || (NUL(1) && len[0] != 0); break;
    case 16: bad |= NUL(0) || (NUL(1) && len[0] != 0) || (NUL(2) && len[1] != 0); break;
    default:
        bad |= NUL(0) || (NUL(1) && len[0] != 0) || (NUL(2) && len[1] != 0) ||
               (NUL(3) && len[2] != 0) || len[3] == 0;
        break;
    }
    begin(caps[fn]);
    /* Ed25519 sign takes the key pair's own public key (crypto.h): made
     * from the secret here, so only NULL pointers are wrong. */
    if (fn == 6 && NR > 0 && imc_crypto_ed25519_public(R[0].b, buf[2], buf[1]) != IMC_OK)
        return;
    size_t runs = (mask & 0x80) ? (NR > 0 ? 1 : 0) : NR;
    for (size_t i = 0; i < runs; i++) {
        const imc_backend *b = (mask & 0x80) ? NULL : R[i].b;
        imc_rng rng;
        fuzz_rng(&rng, 0x4a);
        imc_status st;
        switch (fn) {
        case 0: st = imc_crypto_random(b, ARG(0), len[0]); break;
        case 1: st = imc_crypto_x25519_keygen(b, &rng, ARG(0), ARG(1)); break;
        case 2: st = imc_crypto_x25519_public(b, ARG(0), ARG(1)); break;
        case 3: st = imc_crypto_x25519(b, ARG(0), ARG(1), ARG(2)); break;
        case 4: st = imc_crypto_ed25519_keygen(b, &rng, ARG(0), ARG(1)); break;
        case 5: st = imc_crypto_ed25519_public(b, ARG(0), ARG(1)); break;
        case 6: st = imc_crypto_ed25519_sign(b, ARG(0), ARG(1), ARG(2), ARG(3), len[0]); break;
        case 7: st = imc_crypto_ed25519_verify(b, ARG(0), ARG(1), ARG(2), len[0]); break;
        case 8: st = imc_crypto_p256_keygen(b, &rng, ARG(0), ARG(1)); break;
        case 9: st = imc_crypto_p256_public(b, ARG(0), ARG(1)); break;
        case 10: st = imc_crypto_p256_ecdh(b, ARG(0), ARG(1), ARG(2)); break;
        case 11: st = imc_crypto_ecdsa_p256_sign(b, ARG(0), ARG(1), ARG(2), len[0]); break;
        case 12: st = imc_crypto_ecdsa_p256_verify(b, ARG(0), ARG(1), ARG(2), len[0]); break;
        case 13:
            st = imc_crypto_aead_seal(b, IMC_AEAD_CHACHA20POLY1305, ARG(0), sizeof buf[0], ARG(1),
                                      ARG(2), IMC_AEAD_NONCE_BYTES, ARG(3), len[0], ARG(4),
                                      len[1]);
            break;
        case 14:
            st = imc_crypto_aead_open(b, IMC_AEAD_CHACHA20POLY1305, ARG(0), sizeof buf[0], ARG(1),
                                      ARG(2), IMC_AEAD_NONCE_BYTES, ARG(3), len[0], ARG(4),
                                      len[1]);
            break;
        case 15: st = imc_crypto_sha256(b, ARG(0), ARG(1), len[0]); break;
        case 16: st = imc_crypto_hmac_sha256(b, ARG(0), ARG(1), len[0], ARG(2), len[1]); break;
        default:
            st = imc_crypto_hkdf_sha256(b, ARG(0), len[3], ARG(1), len[0], ARG(2), len[1], ARG(3),
                                        len[2]);
            break;
        }
#undef ARG
#undef NUL
        FUZZ_CHECK(!bad || st == IMC_ERR_ARG, "primitive %u with NULL arguments %02x: %s, not %s",
                   fn, mask, imc_status_str(st), imc_status_str(IMC_ERR_ARG));
        R[i].st = st;
        R[i].len = 0;
    }
    if (mask & 0x80)
        return;
    fuzz_count(bad ? "diff.args-refused" : "diff.args-valid");
    judge("argument contract");
}

/* ---- Whole messages ---------------------------------------------------- */

static uint8_t env_buf[IMC_MAX_BODY_BYTES + 8192], env_ref[sizeof env_buf];
static uint8_t del_buf[IMC_MAX_BODY_BYTES + 4096];
static uint8_t plain[IMC_MAX_BODY_BYTES + 4096];

/* The backends supporting suite s (into R, via begin()). */
static void begin_suite(uint32_t s)
{
    const imc_suite *su = imc_suite_get(s);
    begin(0);
    size_t k = 0;
    for (size_t i = 0; i < NR; i++)
        if (imc_suite_supported(su, R[i].b)) {
            const imc_backend *b = R[i].b;
            uint8_t *out = R[k].out;
            R[k].out = R[i].out;
            R[i].out = out;
            R[k].b = b;
            k++;
        }
    NR = k;
}

static void decrypt_all(const char *what, uint32_t suite, const imc_device_keys *me,
                        const uint8_t *d, size_t dlen)
{
    imc_msg_peer peer = fuzz_sender_peer(suite);
    begin_suite(suite);
    size_t cap = dlen < sizeof plain ? dlen : sizeof plain;
    /* The device's clock: the delivery's own timestamp (inputs choose it). */
    imc_delivery pd;
    uint64_t now = imc_msg_parse_delivery(&pd, d, dlen) == IMC_OK ? pd.h.timestamp_ms : 0;
    for (size_t i = 0; i < NR; i++) {
        imc_msg_received info;
        memset(&info, 0, sizeof info);
        R[i].st = imc_msg_decrypt(plain, cap, &info, R[i].b, me, &peer, NULL, now, d, dlen);
        /* Body, then what the receiver learns about the message. */
        size_t n = 0;
        if (R[i].st == IMC_OK) {
            n = info.body_len < OUT_MAX - 64 ? info.body_len : OUT_MAX - 64;
            memcpy(R[i].out, plain, n);
            memcpy(R[i].out + n, info.message_id, IMC_MSG_ID_BYTES);
            n += IMC_MSG_ID_BYTES;
            memcpy(R[i].out + n, &info.timestamp_ms, sizeof info.timestamp_ms);
            n += sizeof info.timestamp_ms;
            memcpy(R[i].out + n, &info.sender_device, sizeof info.sender_device);
            n += sizeof info.sender_device;
        }
        R[i].len = n;
    }
    if (NR > 0 && R[0].st != IMC_OK)
        fuzz_count("diff.decrypt-rejected");
    judge(what);
}

static uint32_t diff_suite(uint8_t sel)
{
    const fuzz_world *w = fuzz_world_get();
    uint32_t s = 1 + sel % IMC_SUITE_COUNT;
    return w->have_suite[s] ? s : IMC_SUITE_X25519_ED25519_CHACHA20POLY1305;
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
    if (!w->have_suite[suite])
        return;
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
    begin_suite(suite);
    size_t ref_len = 0;
    for (size_t i = 0; i < NR; i++) {
        imc_rng rng;
        fuzz_rng(&rng, UINT64_C(0x5000000000000000) | stream);
        size_t len = 0;
        R[i].st = imc_msg_encrypt(env_buf, sizeof env_buf, &len, R[i].b, &rng, &req);
        /* Compare a digest of the envelope, which may exceed OUT_MAX. */
        R[i].len = 32;
        if (R[i].st == IMC_OK &&
            imc_crypto_sha256(w->backends[0], R[i].out, env_buf, len) != IMC_OK)
            R[i].st = IMC_ERR_CRYPTO;
        if (i == 0) {
            memcpy(env_ref, env_buf, len);
            ref_len = len;
        }
    }
    judge("encrypt");
    FUZZ_CHECK(NR > 0 && R[0].st == IMC_OK, "encrypt failed on every backend");
    imc_delivery_view views[FUZZ_DEVICES];
    size_t count = 0;
    imc_status st = imc_msg_fanout(views, FUZZ_DEVICES, &count, env_ref, ref_len);
    FUZZ_CHECK(st == IMC_OK && count == n, "fanout: %s", imc_status_str(st));
    for (size_t i = 0; i < count; i++) {
        size_t dlen = 0;
        st = imc_delivery_view_copy(del_buf, sizeof del_buf, &dlen, &views[i]);
        FUZZ_CHECK(st == IMC_OK, "view copy: %s", imc_status_str(st));
        const imc_device_keys *me = &w->device[suite][views[i].device_id - FUZZ_DEVICE_BASE];
        decrypt_all("decrypt(genuine)", suite, me, del_buf, dlen);
        if (i == flip % count) {
            del_buf[(flip >> 3) % dlen] ^= (uint8_t)(1u << (flip & 7));
            decrypt_all("decrypt(flipped)", suite, me, del_buf, dlen);
        }
    }
}

static void op_decrypt(fuzz_input *in)
{
    const fuzz_world *w = fuzz_world_get();
    size_t dlen = 0;
    const uint8_t *d = fuzz_bytes(in, in->n, &dlen);
    uint32_t suite = dlen >= 4 ? diff_suite((uint8_t)(d[3] - 1)) : 1;
    if (!w->have_suite[suite])
        return;
    decrypt_all("decrypt(input)", suite, &w->device[suite][0], d, dlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_world *w = fuzz_world_get();
    if (w->n_backends < 2 || size == 0)
        return 0; /* nothing to compare */
    fuzz_input in = {data + 1, size - 1};
    if (data[0] >= 0xf0) {
        if (data[0] & 4)
            op_args(&in);
        else
            op_prepared(data[0] & 0x0f, &in);
        return 0;
    }
    switch (data[0] % OP_KINDS) {
    case 0: op_x25519(&in); break;
    case 1: op_public(&in); break;
    case 2: op_sign(&in); break;
    case 3: op_verify(&in); break;
    case 4: op_aead(&in); break;
    case 5: op_hash(&in); break;
    case 6: op_message(&in); break;
    case 7: op_decrypt(&in); break;
    case 8: op_keygen(&in); break;
    case 9: op_p256_ecdh(&in); break;
    default: op_ecdsa(&in); break;
    }
    return 0;
}
