/* Backend registry, the policy layer's argument checks and negative cases,
 * the deterministic RNG and the suite table, on every backend built in. */
#include <pthread.h>

#include "test.h"

#define MAXB 8

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void test_registry(void)
{
    CHECK(imc_backend_get("no-such-backend") == NULL);
    CHECK(imc_backend_get(NULL) == NULL);
    CHECK(imc_backend_get("") == NULL);
    CHECK(imc_backend_get("SODIUM") == NULL); /* names are exact */
    size_t count = 0;
    const char *const *names = imc_backend_list(&count);
    CHECK(count >= 1);
    CHECK(names[count] == NULL);
    for (size_t i = 0; i < count; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        CHECK(b != NULL);
        CHECK(b == imc_backend_get(names[i])); /* same const table every time */
        CHECK(strcmp(imc_backend_name(b), names[i]) == 0);
        CHECK(strlen(imc_backend_version(b)) > 0);
        CHECK((imc_backend_caps(b) & IMC_CAP_SHA256) != 0);
    }
    CHECK(imc_backend_caps(NULL) == 0);
    /* Every status has its own description. */
    for (int s = 0; s < IMC_STATUS_COUNT_; s++)
        for (int t = s + 1; t < IMC_STATUS_COUNT_; t++)
            CHECK(strcmp(imc_status_str((imc_status)s), imc_status_str((imc_status)t)) != 0);
    CHECK(strcmp(imc_status_str((imc_status)999), "unknown status") == 0);
}

static void test_rng(void)
{
    imc_rng a, b;
    uint8_t x[200], y[200];
    imc_rng_init_deterministic(&a, SEED, 7);
    imc_rng_init_deterministic(&b, SEED, 7);
    CHECK_OK(imc_rng_fill(&a, NULL, x, sizeof x));
    /* The same stream in odd-sized pieces gives the same bytes. */
    CHECK_OK(imc_rng_fill(&b, NULL, y, 1));
    CHECK_OK(imc_rng_fill(&b, NULL, y + 1, 63));
    CHECK_OK(imc_rng_fill(&b, NULL, y + 64, 65));
    CHECK_OK(imc_rng_fill(&b, NULL, y + 129, 71));
    CHECK(memcmp(x, y, sizeof x) == 0);
    imc_rng_init_deterministic(&b, SEED, 8);
    CHECK_OK(imc_rng_fill(&b, NULL, y, sizeof y));
    CHECK(memcmp(x, y, sizeof x) != 0);
    CHECK_ST(imc_rng_fill(&a, NULL, NULL, 1), IMC_ERR_ARG);
    /* NULL rng without a backend has no source. */
    CHECK_ST(imc_rng_fill(NULL, NULL, x, 1), IMC_ERR_ARG);
    imc_rng_wipe(&a);
    CHECK(imc_ct_is_zero(&a, sizeof a));
}

static void test_ct(void)
{
    uint8_t a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 2, 3, 4, 5};
    CHECK(imc_ct_equal(a, b, 5) == 1);
    b[4] ^= 0x80;
    CHECK(imc_ct_equal(a, b, 5) == 0);
    CHECK(imc_ct_equal(a, b, 4) == 1);
    CHECK(imc_ct_is_zero(a, 5) == 0);
    imc_wipe(a, 5);
    CHECK(imc_ct_is_zero(a, 5) == 1);
}

static void test_suites(const imc_backend *bs[], size_t nb)
{
    CHECK(imc_suite_get(0) == NULL);
    CHECK(imc_suite_get(4) == NULL);
    CHECK(imc_suite_find("nope") == NULL);
    CHECK(imc_suite_find("") == NULL);
    CHECK(imc_suite_find("4") == NULL);
    CHECK(imc_suite_find("1x") == NULL);
    CHECK(imc_suite_find("01") == NULL);
    CHECK(imc_suite_find("+1") == NULL);
    CHECK(imc_suite_find(" 1") == NULL);
    CHECK(imc_suite_find("1") == imc_suite_get(1));
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
        const imc_suite *s = imc_suite_get(id);
        CHECK(s != NULL && s->id == id);
        CHECK(imc_suite_find(s->name) == s);
        CHECK(imc_suite_find(s->short_name) == s);
        CHECK(s->dh_public_bytes <= IMC_DH_PUBLIC_MAX && s->sig_bytes <= IMC_SIG_MAX);
    }
    for (size_t i = 0; i < nb; i++) {
        const imc_backend *b = bs[i];
        /* Every backend supports a suite; suite 1 exactly when it has
         * X25519, Ed25519 and ChaCha20-Poly1305 (Mbed TLS 2.28 has no
         * Ed25519). */
        const uint32_t s1 = IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305;
        int any = 0;
        for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++)
            any |= imc_suite_supported(imc_suite_get(id), b);
        CHECK(any);
        CHECK(imc_suite_supported(imc_suite_get(1), b) == ((imc_backend_caps(b) & s1) == s1));
        CHECK(imc_suite_supported(imc_suite_get(2), b) ==
              ((imc_backend_caps(b) & (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 |
                                       IMC_CAP_AES256GCM)) ==
               (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_AES256GCM)));
    }
    CHECK(!imc_suite_supported(NULL, bs[0]));
    CHECK(!imc_suite_supported(imc_suite_get(1), NULL));
}

static void test_aead(const imc_backend *b, imc_aead aead)
{
    uint8_t key[32] = {9}, nonce[12] = {7}, ad[3] = {1, 2, 3};
    uint8_t pt[40], ct[56], out[56];
    for (size_t i = 0; i < sizeof pt; i++)
        pt[i] = (uint8_t)i;
    CHECK_OK(imc_crypto_aead_seal(b, aead, ct, sizeof ct, key, nonce, 12, ad, 3, pt, 40));
    CHECK_OK(imc_crypto_aead_open(b, aead, out, sizeof out, key, nonce, 12, ad, 3, ct, 56));
    CHECK(memcmp(out, pt, 40) == 0);

    /* Every single-bit flip of ciphertext or tag is rejected, out wiped. */
    int rejected = 0;
    for (size_t bit = 0; bit < 56 * 8; bit++) {
        ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(out, 0xAA, sizeof out);
        imc_status st = imc_crypto_aead_open(b, aead, out, sizeof out, key, nonce, 12, ad, 3, ct, 56);
        rejected += st == IMC_ERR_AUTH && imc_ct_is_zero(out, 40);
        ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK(rejected == 56 * 8);

    uint8_t wrong[32] = {10};
    CHECK_ST(imc_crypto_aead_open(b, aead, out, sizeof out, wrong, nonce, 12, ad, 3, ct, 56), IMC_ERR_AUTH);
    CHECK_ST(imc_crypto_aead_open(b, aead, out, sizeof out, key, nonce, 12, ad, 2, ct, 56), IMC_ERR_AUTH);
    CHECK_ST(imc_crypto_aead_open(b, aead, out, sizeof out, key, nonce, 12, ad, 3, ct, 15), IMC_ERR_AUTH);
    /* Nonce lengths other than 96 bits are refused before the backend. */
    CHECK_ST(imc_crypto_aead_seal(b, aead, ct, sizeof ct, key, nonce, 8, ad, 3, pt, 40), IMC_ERR_ARG);
    CHECK_ST(imc_crypto_aead_open(b, aead, out, sizeof out, key, nonce, 16, ad, 3, ct, 56), IMC_ERR_ARG);
    CHECK_ST(imc_crypto_aead_open(b, aead, out, sizeof out, key, NULL, 12, ad, 3, ct, 56), IMC_ERR_ARG);
    CHECK_ST(imc_crypto_aead_seal(b, aead, ct, 55, key, nonce, 12, ad, 3, pt, 40), IMC_ERR_NO_SPACE);
    CHECK_ST(imc_crypto_aead_open(b, aead, out, 39, key, nonce, 12, ad, 3, ct, 56), IMC_ERR_NO_SPACE);

    /* In place, and the empty message. */
    uint8_t buf[56];
    memcpy(buf, pt, 40);
    CHECK_OK(imc_crypto_aead_seal(b, aead, buf, sizeof buf, key, nonce, 12, ad, 3, buf, 40));
    CHECK(memcmp(buf, ct, 56) == 0);
    CHECK_OK(imc_crypto_aead_open(b, aead, buf, sizeof buf, key, nonce, 12, ad, 3, buf, 56));
    CHECK(memcmp(buf, pt, 40) == 0);
    uint8_t tag[16];
    CHECK_OK(imc_crypto_aead_seal(b, aead, tag, sizeof tag, key, nonce, 12, NULL, 0, NULL, 0));
    CHECK_OK(imc_crypto_aead_open(b, aead, out, 0, key, nonce, 12, NULL, 0, tag, 16));
}

static void test_x25519(const imc_backend *b)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 1);
    uint8_t apk[32], ask[32], bpk[32], bsk[32], s1[32], s2[32];
    CHECK_OK(imc_crypto_x25519_keygen(b, &rng, apk, ask));
    CHECK_OK(imc_crypto_x25519_keygen(b, &rng, bpk, bsk));
    CHECK_OK(imc_crypto_x25519(b, s1, ask, bpk));
    CHECK_OK(imc_crypto_x25519(b, s2, bsk, apk));
    CHECK(memcmp(s1, s2, 32) == 0);
    /* Policy: a low-order public key (here 0 and 1) gives a zero secret. */
    uint8_t low[32] = {0};
    memset(s1, 0xAA, 32);
    CHECK_ST(imc_crypto_x25519(b, s1, ask, low), IMC_ERR_WEAK_KEY);
    CHECK(imc_ct_is_zero(s1, 32));
    low[0] = 1;
    CHECK_ST(imc_crypto_x25519(b, s1, ask, low), IMC_ERR_WEAK_KEY);
    CHECK_ST(imc_crypto_x25519(b, NULL, ask, bpk), IMC_ERR_ARG);
    CHECK_ST(imc_crypto_x25519(NULL, s1, ask, bpk), IMC_ERR_ARG);
}

static void test_ed25519(const imc_backend *b)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 2);
    uint8_t pk[32], sk[32], sig[64];
    const uint8_t msg[5] = "hello";
    CHECK_OK(imc_crypto_ed25519_keygen(b, &rng, pk, sk));
    CHECK_OK(imc_crypto_ed25519_sign(b, sig, sk, pk, msg, 5));
    CHECK_OK(imc_crypto_ed25519_verify(b, sig, pk, msg, 5));
    CHECK_ST(imc_crypto_ed25519_verify(b, sig, pk, msg, 4), IMC_ERR_AUTH);
    sig[10] ^= 1;
    CHECK_ST(imc_crypto_ed25519_verify(b, sig, pk, msg, 5), IMC_ERR_AUTH);
    sig[10] ^= 1;
    /* A curve point with y < 2^192 (y = 2^191 + 2) as the key: a plain
     * refusal everywhere (libgcrypt 1.10.1 aborts the process on such keys
     * unless its backend keeps them away from it). */
    uint8_t small_y[32] = {0};
    small_y[0] = 2;
    small_y[23] = 0x80;
    CHECK_ST(imc_crypto_ed25519_verify(b, sig, small_y, msg, 5), IMC_ERR_AUTH);
    /* Policy: S + L (non-canonical S) is rejected on every backend. */
    uint8_t bad[64];
    memcpy(bad, sig, 64);
    static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                  0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0, 0, 0, 0, 0x10};
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = bad[32 + i] + L[i] + carry;
        bad[32 + i] = (uint8_t)v;
        carry = v >> 8;
    }
    if (carry == 0 && (bad[63] & 0xe0) == 0) /* S + L still fits in 253 bits */
        CHECK_ST(imc_crypto_ed25519_verify(b, bad, pk, msg, 5), IMC_ERR_AUTH);
    /* Policy: a small-order public key (the identity) never verifies. */
    uint8_t ident[32] = {1};
    CHECK_ST(imc_crypto_ed25519_verify(b, sig, ident, msg, 5), IMC_ERR_AUTH);
}

static void test_p256(const imc_backend *b)
{
    uint8_t pk[65], sk[32], sig[64], shared[32];
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 3);
    if ((imc_backend_caps(b) & IMC_CAP_P256_ECDH) == 0) {
        CHECK_ST(imc_crypto_p256_keygen(b, &rng, pk, sk), IMC_ERR_UNSUPPORTED);
        CHECK_ST(imc_crypto_ecdsa_p256_sign(b, sig, sk, NULL, 0), IMC_ERR_UNSUPPORTED);
        return;
    }
    uint8_t pk2[65], sk2[32], shared2[32];
    CHECK_OK(imc_crypto_p256_keygen(b, &rng, pk, sk));
    CHECK_OK(imc_crypto_p256_keygen(b, &rng, pk2, sk2));
    CHECK_OK(imc_crypto_p256_ecdh(b, shared, sk, pk2));
    CHECK_OK(imc_crypto_p256_ecdh(b, shared2, sk2, pk));
    CHECK(memcmp(shared, shared2, 32) == 0);
    CHECK_OK(imc_crypto_ecdsa_p256_sign(b, sig, sk, (const uint8_t *)"m", 1));
    CHECK_OK(imc_crypto_ecdsa_p256_verify(b, sig, pk, (const uint8_t *)"m", 1));
    CHECK_ST(imc_crypto_ecdsa_p256_verify(b, sig, pk2, (const uint8_t *)"m", 1), IMC_ERR_AUTH);
    /* Off-curve point, compressed form, and the zero scalar. */
    pk2[64] ^= 1;
    CHECK_ST(imc_crypto_p256_ecdh(b, shared, sk, pk2), IMC_ERR_WEAK_KEY);
    CHECK_ST(imc_crypto_ecdsa_p256_verify(b, sig, pk2, (const uint8_t *)"m", 1), IMC_ERR_AUTH);
    pk2[64] ^= 1;
    pk2[0] = 0x02;
    CHECK_ST(imc_crypto_p256_ecdh(b, shared, sk, pk2), IMC_ERR_WEAK_KEY);
    uint8_t zero[32] = {0};
    CHECK_ST(imc_crypto_p256_public(b, pk, zero), IMC_ERR_WEAK_KEY);
}

static void test_hash(const imc_backend *b)
{
    uint8_t out[64];
    CHECK_ST(imc_crypto_hkdf_sha256(b, out, 0, NULL, 0, NULL, 0, NULL, 0), IMC_ERR_ARG);
    CHECK_ST(imc_crypto_hkdf_sha256(b, out, 8161, NULL, 0, NULL, 0, NULL, 0), IMC_ERR_ARG);
    CHECK_OK(imc_crypto_hkdf_sha256(b, out, 64, NULL, 0, NULL, 0, NULL, 0));
    CHECK_ST(imc_crypto_sha256(b, NULL, NULL, 0), IMC_ERR_ARG);
    CHECK_ST(imc_crypto_sha256(b, out, NULL, 1), IMC_ERR_ARG);
}

/* With the deterministic RNG, X25519/Ed25519 keys and signatures are the
 * same bytes on every backend. */
static void test_agreement(const imc_backend *bs[], size_t nb)
{
    uint8_t ref_pk[32], ref_sig[64];
    size_t compared = 0;
    for (size_t i = 0; i < nb; i++) {
        if ((imc_backend_caps(bs[i]) & (IMC_CAP_X25519 | IMC_CAP_ED25519)) !=
            (IMC_CAP_X25519 | IMC_CAP_ED25519))
            continue;
        imc_rng rng;
        imc_rng_init_deterministic(&rng, SEED, 99);
        uint8_t xpk[32], xsk[32], epk[32], esk[32], sig[64];
        CHECK_OK(imc_crypto_x25519_keygen(bs[i], &rng, xpk, xsk));
        CHECK_OK(imc_crypto_ed25519_keygen(bs[i], &rng, epk, esk));
        CHECK_OK(imc_crypto_ed25519_sign(bs[i], sig, esk, epk, xpk, 32));
        if (compared++ == 0) {
            memcpy(ref_pk, xpk, 32);
            memcpy(ref_sig, sig, 64);
        } else {
            CHECK(memcmp(ref_pk, xpk, 32) == 0);
            CHECK(memcmp(ref_sig, sig, 64) == 0);
        }
    }
}

/* What a backend's prepared calls answered in test_prepared(), for
 * comparison with the other backends: the keys come from the deterministic
 * RNG (one stream per primitive), so they are the same on every backend. */
typedef struct prepared_out {
    int x25519, ed25519, p256_ecdh, ecdsa;
    uint8_t x25519_shared[32], ed25519_sig[64], p256_shared[32], ecdsa_sig[64];
} prepared_out;

/* Prepared keys give the plain calls' answers, byte for byte, and refuse
 * what they refuse (every policy rule on the prepared path: test_kat_policy). */
static void test_prepared(const imc_backend *b, const imc_backend *other, prepared_out *o)
{
    imc_rng rng;
    uint32_t caps = imc_backend_caps(b);
    const uint8_t msg[] = "prepared";
    imc_prepared_key *k = NULL, *kp = NULL;
    uint8_t raw[64];
    memset(o, 0, sizeof *o);
    CHECK_ST(imc_crypto_key_prepare(NULL, b, IMC_KEY_X25519_SECRET, raw, 32), IMC_ERR_ARG);
    CHECK_ST(imc_crypto_key_prepare(&k, b, (imc_key_kind)9, raw, 32), IMC_ERR_ARG);
    CHECK_ST(imc_crypto_key_prepare(&k, b, IMC_KEY_X25519_SECRET, raw, 31), IMC_ERR_ARG);
    CHECK(k == NULL);
    imc_crypto_key_free(NULL);
    if (caps & IMC_CAP_X25519) {
        uint8_t sk[32], pk[32], peer_sk[32], peer[32], a[32], c[32];
        imc_rng_init_deterministic(&rng, SEED, 7);
        CHECK_OK(imc_crypto_x25519_keygen(b, &rng, pk, sk));
        CHECK_OK(imc_crypto_x25519_keygen(b, &rng, peer, peer_sk));
        CHECK_OK(imc_crypto_key_prepare(&k, b, IMC_KEY_X25519_SECRET, sk, 32));
        CHECK_OK(imc_crypto_x25519(b, a, sk, peer));
        CHECK_OK(imc_crypto_x25519_prepared(b, c, k, peer));
        CHECK(memcmp(a, c, 32) == 0);
        memcpy(o->x25519_shared, c, 32);
        o->x25519 = 1;
        uint8_t low[32] = {1};
        memset(c, 0xaa, sizeof c);
        CHECK_ST(imc_crypto_x25519_prepared(b, c, k, low), IMC_ERR_WEAK_KEY);
        CHECK(imc_ct_is_zero(c, sizeof c));
        if (other != NULL)
            CHECK_ST(imc_crypto_x25519_prepared(other, c, k, peer), IMC_ERR_ARG);
        CHECK_ST(imc_crypto_ed25519_sign_prepared(b, raw, k, msg, sizeof msg), IMC_ERR_ARG);
        imc_crypto_key_free(k);
        k = NULL;
    }
    if (caps & IMC_CAP_ED25519) {
        uint8_t pk[32], sig[64], sig2[64];
        imc_rng_init_deterministic(&rng, SEED, 8);
        CHECK_OK(imc_crypto_ed25519_keygen(b, &rng, raw + 32, raw));
        memcpy(pk, raw + 32, 32);
        CHECK_OK(imc_crypto_key_prepare(&k, b, IMC_KEY_ED25519_SECRET, raw, 64));
        CHECK_OK(imc_crypto_key_prepare(&kp, b, IMC_KEY_ED25519_PUBLIC, pk, 32));
        CHECK_OK(imc_crypto_ed25519_sign(b, sig, raw, pk, msg, sizeof msg));
        CHECK_OK(imc_crypto_ed25519_sign_prepared(b, sig2, k, msg, sizeof msg));
        CHECK(memcmp(sig, sig2, 64) == 0);
        memcpy(o->ed25519_sig, sig2, 64);
        o->ed25519 = 1;
        CHECK_OK(imc_crypto_ed25519_verify_prepared(b, sig, kp, msg, sizeof msg));
        CHECK_ST(imc_crypto_ed25519_verify_prepared(b, sig, kp, msg, 3), IMC_ERR_AUTH);
        CHECK_ST(imc_crypto_ed25519_verify_prepared(b, sig, k, msg, sizeof msg), IMC_ERR_ARG);
        sig[63] |= 0xf0; /* S >= L: the policy, prepared or not */
        CHECK_ST(imc_crypto_ed25519_verify_prepared(b, sig, kp, msg, sizeof msg), IMC_ERR_AUTH);
        imc_crypto_key_free(k);
        imc_crypto_key_free(kp);
        k = kp = NULL;
    }
    if ((caps & (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256)) ==
        (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256)) {
        uint8_t sk[32], pk[65], peer_sk[32], peer[65], a[32], c[32], sig[64], sig2[64];
        imc_rng_init_deterministic(&rng, SEED, 9);
        CHECK_OK(imc_crypto_p256_keygen(b, &rng, pk, sk));
        CHECK_OK(imc_crypto_p256_keygen(b, &rng, peer, peer_sk));
        CHECK_OK(imc_crypto_key_prepare(&k, b, IMC_KEY_P256_SECRET, sk, 32));
        CHECK_OK(imc_crypto_key_prepare(&kp, b, IMC_KEY_P256_PUBLIC, pk, 65));
        CHECK_OK(imc_crypto_p256_ecdh(b, a, sk, peer));
        CHECK_OK(imc_crypto_p256_ecdh_prepared(b, c, k, peer));
        CHECK(memcmp(a, c, 32) == 0);
        CHECK_OK(imc_crypto_ecdsa_p256_sign(b, sig, sk, msg, sizeof msg));
        CHECK_OK(imc_crypto_ecdsa_p256_sign_prepared(b, sig2, k, msg, sizeof msg));
        CHECK(memcmp(sig, sig2, 64) == 0);
        memcpy(o->p256_shared, c, 32);
        memcpy(o->ecdsa_sig, sig2, 64);
        o->p256_ecdh = o->ecdsa = 1;
        /* A prepared key gives the same answer every time (wolfSSL's keeps
         * per-call state in its key object). */
        CHECK_OK(imc_crypto_ecdsa_p256_sign_prepared(b, sig2, k, msg, sizeof msg));
        CHECK(memcmp(sig, sig2, 64) == 0);
        CHECK_OK(imc_crypto_p256_ecdh_prepared(b, c, k, peer));
        CHECK(memcmp(a, c, 32) == 0);
        CHECK_OK(imc_crypto_ecdsa_p256_verify_prepared(b, sig, kp, msg, sizeof msg));
        CHECK_ST(imc_crypto_ecdsa_p256_verify_prepared(b, sig, kp, msg, 2), IMC_ERR_AUTH);
        /* The high-S twin is refused on the prepared path too. */
        static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
                                      0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
        unsigned borrow = 0;
        for (int i = 31; i >= 0; i--) {
            unsigned d = (unsigned)n[i] - sig[32 + i] - borrow;
            sig2[32 + i] = (uint8_t)d;
            borrow = (d >> 8) & 1;
        }
        memcpy(sig2, sig, 32);
        CHECK_ST(imc_crypto_ecdsa_p256_verify_prepared(b, sig2, kp, msg, sizeof msg),
                 IMC_ERR_AUTH);
        peer[64] ^= 1; /* off the curve */
        CHECK_ST(imc_crypto_p256_ecdh_prepared(b, c, k, peer), IMC_ERR_WEAK_KEY);
        imc_prepared_key *bad = NULL;
        CHECK_ST(imc_crypto_key_prepare(&bad, b, IMC_KEY_P256_PUBLIC, peer, 65),
                 IMC_ERR_WEAK_KEY);
        CHECK(bad == NULL);
        memset(sk, 0, sizeof sk);
        CHECK_ST(imc_crypto_key_prepare(&bad, b, IMC_KEY_P256_SECRET, sk, 32), IMC_ERR_ARG);
        imc_crypto_key_free(k);
        imc_crypto_key_free(kp);
    }
    imc_rng_wipe(&rng);
}

/* The first backend with a primitive sets the reference (*ref_have);
 * every other one must give its bytes. */
static void agree(const char *name, const char *what, int have, const uint8_t *got,
                  int *ref_have, uint8_t *ref, size_t n)
{
    if (!have)
        return;
    if (!*ref_have) {
        memcpy(ref, got, n);
        *ref_have = 1;
        return;
    }
    if (memcmp(ref, got, n) != 0)
        fprintf(stderr, "%s: prepared %s differs from the first backend's\n", name, what);
    CHECK(memcmp(ref, got, n) == 0);
}

static void check_prepared_agree(prepared_out *ref, const prepared_out *o, const char *name)
{
    agree(name, "X25519", o->x25519, o->x25519_shared, &ref->x25519, ref->x25519_shared, 32);
    agree(name, "Ed25519 sign", o->ed25519, o->ed25519_sig, &ref->ed25519, ref->ed25519_sig, 64);
    agree(name, "P-256 ECDH", o->p256_ecdh, o->p256_shared, &ref->p256_ecdh, ref->p256_shared,
          32);
    agree(name, "ECDSA sign", o->ecdsa, o->ecdsa_sig, &ref->ecdsa, ref->ecdsa_sig, 64);
}

/* ---- Prepared keys from several threads at once -----------------------
 * (a prepared key may be shared: Mbed TLS's keeps a table it must only
 * read, wolfSSL's P-256 secret takes a lock, see their files): every thread
 * gets the single-threaded bytes, for every kind of key the backend has. */

#define PT_THREADS 4
#define PT_ROUNDS 8

static const uint8_t PT_MSG[] = "threads";

/* The shared keys and the answers expected from them (NULL: not there). */
typedef struct pt_keys {
    const imc_backend *b;
    imc_prepared_key *x_sk, *ed_sk, *ed_pk, *p_sk, *p_pk;
    uint8_t x_peer[32], x_shared[32], ed_sig[64], p_peer[65], p_shared[32], p_sig[64];
} pt_keys;

typedef struct pt_job {
    const pt_keys *keys;
    int bad;
} pt_job;

static void *pt_run(void *arg)
{
    pt_job *j = arg;
    const pt_keys *k = j->keys;
    const imc_backend *b = k->b;
    for (int r = 0; r < PT_ROUNDS; r++) {
        uint8_t z[32], sig[64];
        if (k->x_sk != NULL)
            j->bad |= imc_crypto_x25519_prepared(b, z, k->x_sk, k->x_peer) != IMC_OK ||
                      memcmp(z, k->x_shared, 32) != 0;
        if (k->ed_sk != NULL)
            j->bad |= imc_crypto_ed25519_sign_prepared(b, sig, k->ed_sk, PT_MSG, sizeof PT_MSG) !=
                          IMC_OK ||
                      memcmp(sig, k->ed_sig, 64) != 0 ||
                      imc_crypto_ed25519_verify_prepared(b, sig, k->ed_pk, PT_MSG,
                                                         sizeof PT_MSG) != IMC_OK;
        if (k->p_sk != NULL)
            j->bad |= imc_crypto_p256_ecdh_prepared(b, z, k->p_sk, k->p_peer) != IMC_OK ||
                      memcmp(z, k->p_shared, 32) != 0 ||
                      imc_crypto_ecdsa_p256_sign_prepared(b, sig, k->p_sk, PT_MSG,
                                                          sizeof PT_MSG) != IMC_OK ||
                      memcmp(sig, k->p_sig, 64) != 0 ||
                      imc_crypto_ecdsa_p256_verify_prepared(b, sig, k->p_pk, PT_MSG,
                                                            sizeof PT_MSG) != IMC_OK;
    }
    return NULL;
}

static void test_prepared_threads(const imc_backend *b)
{
    uint32_t caps = imc_backend_caps(b);
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 11);
    pt_keys k;
    memset(&k, 0, sizeof k);
    k.b = b;
    if (caps & IMC_CAP_X25519) {
        uint8_t sk[32], pk[32], peer_sk[32];
        CHECK_OK(imc_crypto_x25519_keygen(b, &rng, pk, sk));
        CHECK_OK(imc_crypto_x25519_keygen(b, &rng, k.x_peer, peer_sk));
        CHECK_OK(imc_crypto_x25519(b, k.x_shared, sk, k.x_peer));
        CHECK_OK(imc_crypto_key_prepare(&k.x_sk, b, IMC_KEY_X25519_SECRET, sk, 32));
        imc_wipe(sk, sizeof sk);
    }
    if (caps & IMC_CAP_ED25519) {
        uint8_t pair[64];
        CHECK_OK(imc_crypto_ed25519_keygen(b, &rng, pair + 32, pair));
        CHECK_OK(imc_crypto_ed25519_sign(b, k.ed_sig, pair, pair + 32, PT_MSG, sizeof PT_MSG));
        CHECK_OK(imc_crypto_key_prepare(&k.ed_sk, b, IMC_KEY_ED25519_SECRET, pair, 64));
        CHECK_OK(imc_crypto_key_prepare(&k.ed_pk, b, IMC_KEY_ED25519_PUBLIC, pair + 32, 32));
        imc_wipe(pair, sizeof pair);
    }
    if ((caps & (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256)) ==
        (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256)) {
        uint8_t sk[32], pk[65], peer_sk[32];
        CHECK_OK(imc_crypto_p256_keygen(b, &rng, pk, sk));
        CHECK_OK(imc_crypto_p256_keygen(b, &rng, k.p_peer, peer_sk));
        CHECK_OK(imc_crypto_p256_ecdh(b, k.p_shared, sk, k.p_peer));
        CHECK_OK(imc_crypto_ecdsa_p256_sign(b, k.p_sig, sk, PT_MSG, sizeof PT_MSG));
        CHECK_OK(imc_crypto_key_prepare(&k.p_sk, b, IMC_KEY_P256_SECRET, sk, 32));
        CHECK_OK(imc_crypto_key_prepare(&k.p_pk, b, IMC_KEY_P256_PUBLIC, pk, 65));
        imc_wipe(sk, sizeof sk);
    }
    imc_rng_wipe(&rng);
    /* A key whose preparation failed (reported above) is left out; its
     * pair, if any, too. */
    if (k.ed_sk == NULL || k.ed_pk == NULL) {
        imc_crypto_key_free(k.ed_sk);
        imc_crypto_key_free(k.ed_pk);
        k.ed_sk = k.ed_pk = NULL;
    }
    if (k.p_sk == NULL || k.p_pk == NULL) {
        imc_crypto_key_free(k.p_sk);
        imc_crypto_key_free(k.p_pk);
        k.p_sk = k.p_pk = NULL;
    }
    pthread_t t[PT_THREADS];
    pt_job jobs[PT_THREADS];
    int started[PT_THREADS] = {0};
    for (int i = 0; i < PT_THREADS; i++) {
        jobs[i] = (pt_job){&k, 0};
        started[i] = pthread_create(&t[i], NULL, pt_run, &jobs[i]) == 0;
        CHECK(started[i]);
    }
    for (int i = 0; i < PT_THREADS; i++) {
        if (started[i])
            CHECK(pthread_join(t[i], NULL) == 0);
        CHECK(!jobs[i].bad);
    }
    imc_crypto_key_free(k.x_sk);
    imc_crypto_key_free(k.ed_sk);
    imc_crypto_key_free(k.ed_pk);
    imc_crypto_key_free(k.p_sk);
    imc_crypto_key_free(k.p_pk);
}

int main(void)
{
    const imc_backend *bs[MAXB];
    size_t nb = imc_test_backends(bs, MAXB);
    CHECK(nb >= 1);
    test_registry();
    test_rng();
    test_ct();
    if (nb == 0)
        return imc_test_end();
    test_suites(bs, nb);
    test_agreement(bs, nb);
    prepared_out ref;
    memset(&ref, 0, sizeof ref);
    for (size_t i = 0; i < nb; i++) {
        const imc_backend *b = bs[i];
        printf("backend %s (%s), caps 0x%02x\n", imc_backend_name(b), imc_backend_version(b),
               (unsigned)imc_backend_caps(b));
        test_aead(b, IMC_AEAD_CHACHA20POLY1305);
        if (imc_backend_caps(b) & IMC_CAP_AES256GCM)
            test_aead(b, IMC_AEAD_AES256GCM);
        uint8_t o[16], k[32] = {0}, nonce[12] = {0};
        CHECK_ST(imc_crypto_aead_seal(b, (imc_aead)7, o, sizeof o, k, nonce, 12, NULL, 0, NULL, 0),
                 IMC_ERR_UNSUPPORTED);
        test_x25519(b);
        if (imc_backend_caps(b) & IMC_CAP_ED25519)
            test_ed25519(b);
        else
            CHECK_ST(imc_crypto_ed25519_public(b, k, k), IMC_ERR_UNSUPPORTED);
        test_p256(b);
        test_hash(b);
        prepared_out got;
        test_prepared(b, bs[(i + 1) % nb] != b ? bs[(i + 1) % nb] : NULL, &got);
        check_prepared_agree(&ref, &got, imc_backend_name(b));
        test_prepared_threads(b);
    }
    return imc_test_end();
}
