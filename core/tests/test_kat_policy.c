/* Negative tests for every rule of the validation policy
 * (docs/validation-policy.md), label kat.
 *
 * Each rule is tested three ways:
 *   1. the byte-level check in backend/policy.c on its boundary values;
 *   2. through imcore/crypto.h on every real backend: the documented status;
 *   3. through imcore/crypto.h on two fake backends built here, one that
 *      accepts everything ("permissive": verify says yes, X25519 returns
 *      zeros, ECDH returns a secret) and one that fails everything with
 *      IMC_ERR_CRYPTO ("broken"). With them the result can only come from
 *      the core, which proves the rule does not depend on what a library
 *      happens to do.
 * Ways 2 and 3 run every DH and verification rule on the prepared-key path
 * too (dh_both, verify_both below), which must answer as the plain call. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "backend/policy.h"
#include "test.h"

#define MAX_BACKENDS 16

static const char *g_backend = "";

static void check_st(const char *what, imc_status got, imc_status want)
{
    if (got != want)
        fprintf(stderr, "FAIL [%s] %s: %s, expected %s\n", g_backend, what, imc_status_str(got),
                imc_status_str(want));
    CHECK(got == want);
}

static void check_true(const char *what, int ok)
{
    if (!ok)
        fprintf(stderr, "FAIL [%s] %s\n", g_backend, what);
    CHECK(ok);
}

static void unhex32(uint8_t out[32], const char *hex)
{
    if (imc_test_unhex(out, 32, hex) != 32) {
        fprintf(stderr, "bad hex constant %s\n", hex);
        exit(2);
    }
}

/* ---- the fake backends -------------------------------------------------- */

static const char *fake_version(void) { return "fake"; }
static uint32_t fake_caps(void)
{
    return IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_AES256GCM |
           IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_SHA256;
}

static imc_status ok_random(uint8_t *out, size_t len)
{
    memset(out, 0x42, len);
    return IMC_OK;
}
static imc_status ok_x25519_public(uint8_t pk[32], const uint8_t sk[32])
{
    memcpy(pk, sk, 32);
    return IMC_OK;
}
/* A "secret" for any key, low-order ones included, except that u = 9 gives
 * the all-zero result (a library whose low-order list missed a point): so
 * the core's list and its zero check are each tested on their own. */
static imc_status ok_x25519(uint8_t shared[32], const uint8_t sk[32], const uint8_t pk[32])
{
    (void)sk;
    memset(shared, pk[0] == 9 ? 0x00 : 0x33, 32);
    return IMC_OK;
}
static imc_status ok_ed25519_public(uint8_t pk[32], const uint8_t sk[32])
{
    memcpy(pk, sk, 32);
    return IMC_OK;
}
static imc_status ok_ed25519_sign(uint8_t sig[64], const uint8_t sk[32], const uint8_t pk[32],
                                  const uint8_t *msg, size_t msg_len)
{
    (void)sk;
    (void)pk;
    (void)msg;
    (void)msg_len;
    memset(sig, 0x11, 64);
    return IMC_OK;
}
static imc_status ok_ed25519_verify(const uint8_t sig[64], const uint8_t pk[32],
                                    const uint8_t *msg, size_t msg_len)
{
    (void)sig;
    (void)pk;
    (void)msg;
    (void)msg_len;
    return IMC_OK;
}
static imc_status ok_p256_public(uint8_t pk[65], const uint8_t sk[32])
{
    pk[0] = 0x04;
    memcpy(pk + 1, sk, 32);
    memcpy(pk + 33, sk, 32);
    return IMC_OK;
}
static imc_status ok_p256_ecdh(uint8_t shared[32], const uint8_t sk[32], const uint8_t pk[65])
{
    (void)sk;
    (void)pk;
    memset(shared, 0x33, 32);
    return IMC_OK;
}
static imc_status ok_ecdsa_sign(uint8_t sig[64], const uint8_t sk[32], const uint8_t *msg,
                                size_t msg_len)
{
    (void)sk;
    (void)msg;
    (void)msg_len;
    /* A high s (0xee.. > n / 2, < n): the core must make it low. */
    memset(sig, 0x22, 32);
    memset(sig + 32, 0xee, 32);
    return IMC_OK;
}
static imc_status ok_ecdsa_verify(const uint8_t sig[64], const uint8_t pk[65],
                                  const uint8_t *msg, size_t msg_len)
{
    (void)sig;
    (void)pk;
    (void)msg;
    (void)msg_len;
    return IMC_OK;
}
static imc_status ok_aead_seal(imc_aead aead, uint8_t *out, const uint8_t key[32],
                               const uint8_t nonce[12], const uint8_t *ad, size_t ad_len,
                               const uint8_t *in, size_t in_len)
{
    (void)aead;
    (void)key;
    (void)nonce;
    (void)ad;
    (void)ad_len;
    memmove(out, in, in_len);
    memset(out + in_len, 0x44, 16);
    return IMC_OK;
}
static imc_status ok_aead_open(imc_aead aead, uint8_t *out, const uint8_t key[32],
                               const uint8_t nonce[12], const uint8_t *ad, size_t ad_len,
                               const uint8_t *in, size_t in_len)
{
    (void)aead;
    (void)key;
    (void)nonce;
    (void)ad;
    (void)ad_len;
    memmove(out, in, in_len - 16);
    return IMC_OK;
}
static imc_status ok_sha256(uint8_t out[32], const uint8_t *in, size_t in_len)
{
    (void)in;
    (void)in_len;
    memset(out, 0x55, 32);
    return IMC_OK;
}
static imc_status ok_hmac(uint8_t out[32], const uint8_t *key, size_t key_len, const uint8_t *msg,
                          size_t msg_len)
{
    (void)key;
    (void)key_len;
    (void)msg;
    (void)msg_len;
    memset(out, 0x66, 32);
    return IMC_OK;
}
static imc_status ok_hkdf(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
                          const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len)
{
    (void)salt;
    (void)salt_len;
    (void)ikm;
    (void)ikm_len;
    (void)info;
    (void)info_len;
    memset(out, 0x77, out_len);
    return IMC_OK;
}

static const imc_backend PERMISSIVE = {
    .name = "permissive",
    .init = NULL,
    .version = fake_version,
    .caps = fake_caps,
    .random = ok_random,
    .x25519_public = ok_x25519_public,
    .x25519 = ok_x25519,
    .ed25519_public = ok_ed25519_public,
    .ed25519_sign = ok_ed25519_sign,
    .ed25519_verify = ok_ed25519_verify,
    .p256_public = ok_p256_public,
    .p256_ecdh = ok_p256_ecdh,
    .ecdsa_p256_sign = ok_ecdsa_sign,
    .ecdsa_p256_verify = ok_ecdsa_verify,
    .aead_seal = ok_aead_seal,
    .aead_open = ok_aead_open,
    .sha256 = ok_sha256,
    .hmac_sha256 = ok_hmac,
    .hkdf_sha256 = ok_hkdf,
};

static imc_status bad_x25519(uint8_t shared[32], const uint8_t sk[32], const uint8_t pk[32])
{
    (void)sk;
    (void)pk;
    memset(shared, 0xee, 32); /* garbage left behind: the core must wipe it */
    return IMC_ERR_CRYPTO;
}
static imc_status bad_ed25519_verify(const uint8_t sig[64], const uint8_t pk[32],
                                     const uint8_t *msg, size_t msg_len)
{
    (void)sig;
    (void)pk;
    (void)msg;
    (void)msg_len;
    return IMC_ERR_CRYPTO;
}
static imc_status bad_ecdsa_verify(const uint8_t sig[64], const uint8_t pk[65],
                                   const uint8_t *msg, size_t msg_len)
{
    (void)sig;
    (void)pk;
    (void)msg;
    (void)msg_len;
    return IMC_ERR_WEAK_KEY;
}
static imc_status bad_aead_open(imc_aead aead, uint8_t *out, const uint8_t key[32],
                                const uint8_t nonce[12], const uint8_t *ad, size_t ad_len,
                                const uint8_t *in, size_t in_len)
{
    (void)aead;
    (void)key;
    (void)nonce;
    (void)ad;
    (void)ad_len;
    (void)in;
    memset(out, 0xee, in_len - 16); /* partial plaintext: the core must wipe it */
    return IMC_ERR_CRYPTO;
}

static const imc_backend BROKEN = {
    .name = "broken",
    .init = NULL,
    .version = fake_version,
    .caps = fake_caps,
    .random = ok_random,
    .x25519_public = ok_x25519_public,
    .x25519 = bad_x25519,
    .ed25519_public = ok_ed25519_public,
    .ed25519_sign = ok_ed25519_sign,
    .ed25519_verify = bad_ed25519_verify,
    .p256_public = ok_p256_public,
    .p256_ecdh = ok_p256_ecdh,
    .ecdsa_p256_sign = ok_ecdsa_sign,
    .ecdsa_p256_verify = bad_ecdsa_verify,
    .aead_seal = ok_aead_seal,
    .aead_open = bad_aead_open,
    .sha256 = ok_sha256,
    .hmac_sha256 = ok_hmac,
    .hkdf_sha256 = ok_hkdf,
};

/* ---- constants ---------------------------------------------------------- */

/* X25519 low-order encodings (bit 255 clear). */
static const char *const X25519_LOW[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

/* Ed25519 small-order encodings (sign bit clear): y = 0, 1, the two order-8
 * y values, p - 1, and the non-canonical p and p + 1. */
static const char *const ED25519_SMALL[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const char ED25519_L[] = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

/* P-256 p and n, big-endian. */
static const char P256_P[] = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
static const char P256_N[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

/* v += d (little-endian if le, else big-endian), d small. */
static void add_small(uint8_t v[32], unsigned d, int le)
{
    for (int k = 0; k < 32 && d != 0; k++) {
        int i = le ? k : 31 - k;
        unsigned s = v[i] + d;
        v[i] = (uint8_t)s;
        d = s >> 8;
    }
}

static void sub_one(uint8_t v[32], int le)
{
    for (int k = 0; k < 32; k++) {
        int i = le ? k : 31 - k;
        if (v[i]-- != 0)
            break;
    }
}

/* ---- 1. the byte-level checks ------------------------------------------- */

static void policy_functions(void)
{
    uint8_t v[32];
    g_backend = "policy.c";

    /* X25519: the seven encodings, with and without bit 255, are refused;
     * their neighbours are not. */
    for (size_t i = 0; i < sizeof X25519_LOW / sizeof X25519_LOW[0]; i++) {
        unhex32(v, X25519_LOW[i]);
        check_true("X25519 low-order key refused", !imc_policy_x25519_public_ok(v));
        v[31] |= 0x80;
        check_true("X25519 low-order key with bit 255 refused", !imc_policy_x25519_public_ok(v));
        v[31] &= 0x7f;
        v[1] ^= 0x01;
        check_true("X25519 neighbour of a low-order key accepted", imc_policy_x25519_public_ok(v));
    }
    memset(v, 0, sizeof v);
    v[0] = 9; /* the base point */
    check_true("X25519 base point accepted", imc_policy_x25519_public_ok(v));

    /* Ed25519 S: L - 1 passes; L, L + 1 and 2^256 - 1 do not. */
    unhex32(v, ED25519_L);
    check_true("Ed25519 S = L refused", !imc_policy_ed25519_scalar_canonical(v));
    add_small(v, 1, 1);
    check_true("Ed25519 S = L + 1 refused", !imc_policy_ed25519_scalar_canonical(v));
    unhex32(v, ED25519_L);
    sub_one(v, 1);
    check_true("Ed25519 S = L - 1 accepted", imc_policy_ed25519_scalar_canonical(v));
    memset(v, 0xff, sizeof v);
    check_true("Ed25519 S = 2^256 - 1 refused", !imc_policy_ed25519_scalar_canonical(v));
    memset(v, 0, sizeof v);
    check_true("Ed25519 S = 0 accepted", imc_policy_ed25519_scalar_canonical(v));

    /* Ed25519 y: p - 1 is canonical; p .. 2^255 - 1 are not, sign bit or not. */
    unhex32(v, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    check_true("Ed25519 y = p - 1 canonical", imc_policy_ed25519_point_canonical(v));
    for (unsigned k = 1; k <= 19; k++) {
        add_small(v, 1, 1); /* p, p + 1, ..., 2^255 - 1 */
        check_true("Ed25519 y >= p refused", !imc_policy_ed25519_point_canonical(v));
        v[31] |= 0x80;
        check_true("Ed25519 y >= p with sign bit refused", !imc_policy_ed25519_point_canonical(v));
        v[31] &= 0x7f;
    }

    /* Ed25519 small order: 7 encodings x 2 sign bits. */
    for (size_t i = 0; i < sizeof ED25519_SMALL / sizeof ED25519_SMALL[0]; i++) {
        unhex32(v, ED25519_SMALL[i]);
        check_true("Ed25519 small-order point refused", !imc_policy_ed25519_point_not_small_order(v));
        v[31] |= 0x80;
        check_true("Ed25519 small-order point with sign bit refused",
                   !imc_policy_ed25519_point_not_small_order(v));
    }

    /* P-256 scalars: 1 and n - 1 pass; 0, n, n + 1, 2^256 - 1 do not. */
    memset(v, 0, sizeof v);
    check_true("P-256 scalar 0 refused", !imc_policy_p256_scalar_ok(v));
    v[31] = 1;
    check_true("P-256 scalar 1 accepted", imc_policy_p256_scalar_ok(v));
    unhex32(v, P256_N);
    check_true("P-256 scalar n refused", !imc_policy_p256_scalar_ok(v));
    add_small(v, 1, 0);
    check_true("P-256 scalar n + 1 refused", !imc_policy_p256_scalar_ok(v));
    unhex32(v, P256_N);
    sub_one(v, 0);
    check_true("P-256 scalar n - 1 accepted", imc_policy_p256_scalar_ok(v));
    memset(v, 0xff, sizeof v);
    check_true("P-256 scalar 2^256 - 1 refused", !imc_policy_p256_scalar_ok(v));

    /* P-256 points: prefix 04 only; x and y below p. */
    uint8_t pk[65];
    memset(pk, 0x01, sizeof pk);
    pk[0] = 0x04;
    check_true("P-256 04 || small x, y passes the form check", imc_policy_p256_public_form_ok(pk));
    static const uint8_t prefixes[] = {0x00, 0x02, 0x03, 0x05, 0x06, 0x07, 0x84, 0xff};
    for (size_t i = 0; i < sizeof prefixes; i++) {
        pk[0] = prefixes[i];
        check_true("P-256 prefix other than 04 refused", !imc_policy_p256_public_form_ok(pk));
    }
    pk[0] = 0x04;
    unhex32(pk + 1, P256_P);
    check_true("P-256 x = p refused", !imc_policy_p256_public_form_ok(pk));
    sub_one(pk + 1, 0);
    check_true("P-256 x = p - 1 passes the form check", imc_policy_p256_public_form_ok(pk));
    memset(pk + 1, 0xff, 32);
    check_true("P-256 x = 2^256 - 1 refused", !imc_policy_p256_public_form_ok(pk));
    memset(pk + 1, 0x01, 32);
    unhex32(pk + 33, P256_P);
    check_true("P-256 y = p refused", !imc_policy_p256_public_form_ok(pk));
    sub_one(pk + 33, 0);
    check_true("P-256 y = p - 1 passes the form check", imc_policy_p256_public_form_ok(pk));

    /* ECDSA r and s in [1, n - 1]. */
    uint8_t sig[64];
    memset(sig, 0x01, sizeof sig);
    check_true("ECDSA small r, s accepted", imc_policy_ecdsa_p256_sig_ranges_ok(sig));
    memset(sig, 0, 32);
    check_true("ECDSA r = 0 refused", !imc_policy_ecdsa_p256_sig_ranges_ok(sig));
    unhex32(sig, P256_N);
    check_true("ECDSA r = n refused", !imc_policy_ecdsa_p256_sig_ranges_ok(sig));
    memset(sig, 0x01, 32);
    memset(sig + 32, 0, 32);
    check_true("ECDSA s = 0 refused", !imc_policy_ecdsa_p256_sig_ranges_ok(sig));
    unhex32(sig + 32, P256_N);
    check_true("ECDSA s = n refused", !imc_policy_ecdsa_p256_sig_ranges_ok(sig));
    sub_one(sig + 32, 0);
    check_true("ECDSA s = n - 1 in range", imc_policy_ecdsa_p256_sig_ranges_ok(sig));

    /* Low-S: s <= floor(n / 2) is low, floor(n / 2) + 1 is high. */
    static const char P256_HALF_N[] =
        "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8";
    unhex32(sig + 32, P256_HALF_N);
    check_true("ECDSA s = n / 2 is low", imc_policy_ecdsa_p256_s_low(sig));
    add_small(sig + 32, 1, 0);
    check_true("ECDSA s = n / 2 + 1 is high", !imc_policy_ecdsa_p256_s_low(sig));
    imc_policy_ecdsa_p256_normalise_s(sig);
    check_true("ECDSA normalise n / 2 + 1 gives n / 2 (n is odd)",
               imc_policy_ecdsa_p256_s_low(sig));
    unhex32(sig, P256_HALF_N);
    check_true("ECDSA normalised s = n - (n / 2 + 1) = n / 2", memcmp(sig, sig + 32, 32) == 0);
    memset(sig + 32, 0, 32);
    sig[63] = 1;
    imc_policy_ecdsa_p256_normalise_s(sig);
    check_true("ECDSA normalise leaves a low s alone", sig[63] == 1 && imc_ct_is_zero(sig + 32, 31));
    unhex32(sig + 32, P256_N);
    sub_one(sig + 32, 0);
    check_true("ECDSA s = n - 1 is high", !imc_policy_ecdsa_p256_s_low(sig));
    imc_policy_ecdsa_p256_normalise_s(sig);
    check_true("ECDSA normalise n - 1 gives 1", sig[63] == 1 && imc_ct_is_zero(sig + 32, 31));
}

/* ---- the prepared path ----------------------------------------------------
 * Every X25519, P-256 ECDH and verification below runs twice: plainly, and
 * with the key prepared (imc_crypto_key_prepare, then the *_prepared call),
 * on the same backend. The prepared call must give the plain call's status,
 * the same output when both succeed and a wiped one when they fail. A key
 * that cannot be prepared (a P-256 point in the wrong form or off the
 * curve, a scalar out of range) must be one the plain call refuses too. */

static void check_prepared(const char *what, imc_status plain, imc_status prep_st,
                           imc_status use_st, const uint8_t *out, const uint8_t *out2, size_t n)
{
    char label[96];
    snprintf(label, sizeof label, "%s, key prepared", what);
    if (prep_st != IMC_OK) {
        check_true(label, plain != IMC_OK);
        return;
    }
    check_st(label, use_st, plain);
    if (out == NULL)
        return;
    if (plain == IMC_OK && use_st == IMC_OK)
        check_true(label, memcmp(out, out2, n) == 0);
    else
        check_true(label, imc_ct_is_zero(out2, n));
}

/* The plain DH call (X25519 for an X25519 secret, P-256 ECDH otherwise)
 * and its prepared twin; returns the plain call's status. */
static imc_status dh_both(const imc_backend *b, imc_key_kind kind, uint8_t out[32],
                          const uint8_t sk[32], const uint8_t *pk)
{
    int x = kind == IMC_KEY_X25519_SECRET;
    imc_status plain = x ? imc_crypto_x25519(b, out, sk, pk) : imc_crypto_p256_ecdh(b, out, sk, pk);
    imc_status use = IMC_ERR_ARG;
    imc_prepared_key *k = NULL;
    uint8_t out2[32];
    memset(out2, 0xaa, sizeof out2);
    imc_status prep = imc_crypto_key_prepare(&k, b, kind, sk, 32);
    if (prep == IMC_OK)
        use = x ? imc_crypto_x25519_prepared(b, out2, k, pk)
                : imc_crypto_p256_ecdh_prepared(b, out2, k, pk);
    check_prepared(x ? "X25519" : "P-256 ECDH", plain, prep, use, out, out2, sizeof out2);
    imc_crypto_key_free(k);
    return plain;
}

/* The plain verification (Ed25519 for an Ed25519 key, ECDSA otherwise)
 * and its prepared twin; returns the plain call's status. */
static imc_status verify_both(const imc_backend *b, imc_key_kind kind, const uint8_t sig[64],
                              const uint8_t *pk, const uint8_t *msg, size_t len)
{
    int ed = kind == IMC_KEY_ED25519_PUBLIC;
    imc_status plain = ed ? imc_crypto_ed25519_verify(b, sig, pk, msg, len)
                          : imc_crypto_ecdsa_p256_verify(b, sig, pk, msg, len);
    imc_status use = IMC_ERR_ARG;
    imc_prepared_key *k = NULL;
    imc_status prep = imc_crypto_key_prepare(&k, b, kind, pk, ed ? 32 : 65);
    if (prep == IMC_OK)
        use = ed ? imc_crypto_ed25519_verify_prepared(b, sig, k, msg, len)
                 : imc_crypto_ecdsa_p256_verify_prepared(b, sig, k, msg, len);
    check_prepared(ed ? "Ed25519 verify" : "ECDSA verify", plain, prep, use, NULL, NULL, 0);
    imc_crypto_key_free(k);
    return plain;
}

#define x25519_both(b, out, sk, pk) dh_both((b), IMC_KEY_X25519_SECRET, (out), (sk), (pk))
#define p256_ecdh_both(b, out, sk, pk) dh_both((b), IMC_KEY_P256_SECRET, (out), (sk), (pk))
#define ed25519_verify_both(b, sig, pk, msg, len)                                                 \
    verify_both((b), IMC_KEY_ED25519_PUBLIC, (sig), (pk), (msg), (len))
#define ecdsa_verify_both(b, sig, pk, msg, len)                                                   \
    verify_both((b), IMC_KEY_P256_PUBLIC, (sig), (pk), (msg), (len))

/* ---- 2 and 3. the rules through the API ---------------------------------- */

/* X25519: low-order peer keys are IMC_ERR_WEAK_KEY with the output wiped;
 * so is an all-zero result from the library (only the fake can give one
 * for a key that is not on the list). */
static void rule_x25519(const imc_backend *b, int fake)
{
    uint8_t sk[32], pk[32], out[32];
    memset(sk, 0x5a, sizeof sk);
    for (size_t i = 0; i < sizeof X25519_LOW / sizeof X25519_LOW[0]; i++) {
        for (int top = 0; top < 2; top++) {
            unhex32(pk, X25519_LOW[i]);
            pk[31] |= (uint8_t)(top << 7);
            memset(out, 0xaa, sizeof out);
            check_st("X25519 low-order peer key", x25519_both(b, out, sk, pk),
                     IMC_ERR_WEAK_KEY);
            check_true("X25519 output wiped", imc_ct_is_zero(out, sizeof out));
        }
    }
    if (b == &PERMISSIVE) {
        memset(pk, 0, sizeof pk);
        pk[0] = 9;
        check_st("X25519 all-zero result from the library", x25519_both(b, out, sk, pk),
                 IMC_ERR_WEAK_KEY);
    }
    if (b == &BROKEN) {
        memset(pk, 0, sizeof pk);
        pk[0] = 9;
        memset(out, 0xaa, sizeof out);
        check_st("X25519 library failure passed on", x25519_both(b, out, sk, pk),
                 IMC_ERR_CRYPTO);
        check_true("X25519 output wiped after a library failure", imc_ct_is_zero(out, 32));
    }
    (void)fake;
}

/* Ed25519 verify: non-canonical S, non-canonical A, small-order A or R are
 * IMC_ERR_AUTH. Starts from a real signature on real backends. */
static void rule_ed25519(const imc_backend *b, int fake)
{
    uint8_t seed[32], pk[32], sig[64], bad_sig[64], bad_pk[32];
    const uint8_t msg[] = "policy";
    memset(seed, 0x17, sizeof seed);
    check_st("Ed25519 public", imc_crypto_ed25519_public(b, pk, seed), IMC_OK);
    check_st("Ed25519 sign", imc_crypto_ed25519_sign(b, sig, seed, pk, msg, sizeof msg), IMC_OK);
    if (!fake)
        check_st("Ed25519 genuine signature", ed25519_verify_both(b, sig, pk, msg, sizeof msg),
                 IMC_OK);
    else
        memset(sig + 32, 0x01, 32); /* a canonical S for the fake's signature */

    /* S + L: the same scalar, non-canonical (S < 2^253 - L here or below). */
    memcpy(bad_sig, sig, 64);
    uint8_t l[32];
    unhex32(l, ED25519_L);
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = bad_sig[32 + i] + l[i] + carry;
        bad_sig[32 + i] = (uint8_t)v;
        carry = v >> 8;
    }
    check_st("Ed25519 S + L", ed25519_verify_both(b, bad_sig, pk, msg, sizeof msg),
             IMC_ERR_AUTH);
    memcpy(bad_sig, sig, 64);
    unhex32(bad_sig + 32, ED25519_L);
    check_st("Ed25519 S = L", ed25519_verify_both(b, bad_sig, pk, msg, sizeof msg),
             IMC_ERR_AUTH);
    memset(bad_sig + 32, 0xff, 32);
    check_st("Ed25519 S = 2^256 - 1", ed25519_verify_both(b, bad_sig, pk, msg, sizeof msg),
             IMC_ERR_AUTH);

    /* Small-order A and R, each sign bit. */
    for (size_t i = 0; i < sizeof ED25519_SMALL / sizeof ED25519_SMALL[0]; i++) {
        for (int top = 0; top < 2; top++) {
            unhex32(bad_pk, ED25519_SMALL[i]);
            bad_pk[31] |= (uint8_t)(top << 7);
            check_st("Ed25519 small-order A",
                     ed25519_verify_both(b, sig, bad_pk, msg, sizeof msg), IMC_ERR_AUTH);
            memcpy(bad_sig, sig, 64);
            memcpy(bad_sig, bad_pk, 32);
            check_st("Ed25519 small-order R",
                     ed25519_verify_both(b, bad_sig, pk, msg, sizeof msg), IMC_ERR_AUTH);
        }
    }
    /* Non-canonical A that is not of small order: y = p + 2 .. p + 18. */
    unhex32(bad_pk, "efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    for (unsigned k = 2; k <= 18; k++) {
        check_st("Ed25519 non-canonical A",
                 ed25519_verify_both(b, sig, bad_pk, msg, sizeof msg), IMC_ERR_AUTH);
        add_small(bad_pk, 1, 1);
    }
    /* The forgery the small-order rule exists for: with A of small order,
     * R = identity and S = 0 satisfy [S]B = R + [k]A whenever [k]A is the
     * identity (for A = identity: always). OpenSSL 3.0 accepts these
     * natively, libsodium does not; through the core, nobody may. */
    uint8_t forged[64] = {0};
    forged[0] = 0x01; /* R = (0, 1), the identity; S = 0 */
    for (size_t i = 0; i < sizeof ED25519_SMALL / sizeof ED25519_SMALL[0]; i++) {
        unhex32(bad_pk, ED25519_SMALL[i]);
        for (uint8_t m = 0; m < 8; m++)
            check_st("Ed25519 forged signature under a small-order key",
                     ed25519_verify_both(b, forged, bad_pk, &m, 1), IMC_ERR_AUTH);
    }
    if (b == &BROKEN)
        check_st("Ed25519 library failure is IMC_ERR_AUTH",
                 ed25519_verify_both(b, sig, pk, msg, sizeof msg), IMC_ERR_AUTH);
}

static void rule_p256(const imc_backend *b, int fake)
{
    uint8_t sk[32], pk[65], bad[65], out[32], sig[64];
    const uint8_t msg[] = "policy";
    memset(sk, 0, sizeof sk);
    sk[31] = 7;
    check_st("P-256 public", imc_crypto_p256_public(b, pk, sk), IMC_OK);
    check_st("P-256 ECDH with itself", p256_ecdh_both(b, out, sk, pk), IMC_OK);
    check_st("ECDSA sign", imc_crypto_ecdsa_p256_sign(b, sig, sk, msg, sizeof msg), IMC_OK);
    check_true("ECDSA sign output is low-S", imc_policy_ecdsa_p256_s_low(sig));
    if (fake)
        memset(sig, 0x01, sizeof sig); /* r and s in range for the fake */
    check_st("ECDSA verify", ecdsa_verify_both(b, sig, pk, msg, sizeof msg),
             b == &BROKEN ? IMC_ERR_AUTH : IMC_OK);

    /* Public key form: prefixes, and x or y >= p. */
    static const uint8_t prefixes[] = {0x00, 0x02, 0x03, 0x06, 0x07};
    for (size_t i = 0; i < sizeof prefixes; i++) {
        memcpy(bad, pk, sizeof bad);
        bad[0] = prefixes[i];
        memset(out, 0xaa, sizeof out);
        check_st("P-256 ECDH, prefix not 04", p256_ecdh_both(b, out, sk, bad),
                 IMC_ERR_WEAK_KEY);
        check_true("P-256 ECDH output wiped", imc_ct_is_zero(out, sizeof out));
        check_st("ECDSA verify, prefix not 04",
                 ecdsa_verify_both(b, sig, bad, msg, sizeof msg), IMC_ERR_AUTH);
    }
    for (int coord = 0; coord < 2; coord++) {
        memcpy(bad, pk, sizeof bad);
        unhex32(bad + 1 + 32 * coord, P256_P);
        check_st("P-256 ECDH, coordinate = p", p256_ecdh_both(b, out, sk, bad),
                 IMC_ERR_WEAK_KEY);
        check_st("ECDSA verify, coordinate = p",
                 ecdsa_verify_both(b, sig, bad, msg, sizeof msg), IMC_ERR_AUTH);
        memset(bad + 1 + 32 * coord, 0xff, 32);
        check_st("P-256 ECDH, coordinate = 2^256 - 1", p256_ecdh_both(b, out, sk, bad),
                 IMC_ERR_WEAK_KEY);
    }
    if (!fake) {
        /* Off the curve: the backend's own check, same status. */
        memcpy(bad, pk, sizeof bad);
        bad[64] ^= 1;
        check_st("P-256 ECDH, point off the curve", p256_ecdh_both(b, out, sk, bad),
                 IMC_ERR_WEAK_KEY);
        check_st("ECDSA verify, point off the curve",
                 ecdsa_verify_both(b, sig, bad, msg, sizeof msg), IMC_ERR_AUTH);
        /* The point at infinity has no affine encoding; its usual stand-in,
         * 04 || 0 || 0, is not on the curve (y^2 = b there). */
        memset(bad, 0, sizeof bad);
        bad[0] = 0x04;
        check_st("P-256 ECDH, 04 || 0 || 0 (infinity)", p256_ecdh_both(b, out, sk, bad),
                 IMC_ERR_WEAK_KEY);
        check_st("ECDSA verify, 04 || 0 || 0 (infinity)",
                 ecdsa_verify_both(b, sig, bad, msg, sizeof msg), IMC_ERR_AUTH);
    }

    /* Scalars outside [1, n - 1]. */
    uint8_t s[32];
    const char *names[] = {"0", "n", "n + 1", "2^256 - 1"};
    for (int k = 0; k < 4; k++) {
        switch (k) {
        case 0: memset(s, 0, sizeof s); break;
        case 1: unhex32(s, P256_N); break;
        case 2: unhex32(s, P256_N); add_small(s, 1, 0); break;
        default: memset(s, 0xff, sizeof s); break;
        }
        char what[96];
        snprintf(what, sizeof what, "P-256 public of scalar %s", names[k]);
        check_st(what, imc_crypto_p256_public(b, bad, s), IMC_ERR_WEAK_KEY);
        snprintf(what, sizeof what, "P-256 ECDH with scalar %s", names[k]);
        check_st(what, p256_ecdh_both(b, out, s, pk), IMC_ERR_ARG);
        snprintf(what, sizeof what, "ECDSA sign with scalar %s", names[k]);
        check_st(what, imc_crypto_ecdsa_p256_sign(b, sig, s, msg, sizeof msg), IMC_ERR_ARG);
    }

    /* ECDSA r, s outside [1, n - 1]. */
    uint8_t good[64], bsig[64];
    check_st("ECDSA sign", imc_crypto_ecdsa_p256_sign(b, good, sk, msg, sizeof msg), IMC_OK);
    if (fake)
        memset(good, 0x01, sizeof good);
    for (int half = 0; half < 2; half++) {
        memcpy(bsig, good, 64);
        memset(bsig + 32 * half, 0, 32);
        check_st(half ? "ECDSA s = 0" : "ECDSA r = 0",
                 ecdsa_verify_both(b, bsig, pk, msg, sizeof msg), IMC_ERR_AUTH);
        unhex32(bsig + 32 * half, P256_N);
        check_st(half ? "ECDSA s = n" : "ECDSA r = n",
                 ecdsa_verify_both(b, bsig, pk, msg, sizeof msg), IMC_ERR_AUTH);
        memset(bsig + 32 * half, 0xff, 32);
        check_st(half ? "ECDSA s = 2^256 - 1" : "ECDSA r = 2^256 - 1",
                 ecdsa_verify_both(b, bsig, pk, msg, sizeof msg), IMC_ERR_AUTH);
    }
    if (!fake) {
        /* Low-S: sign gives s <= n / 2 on every backend, and n - s, the
         * other valid s of the same signature (ECDSA is malleable), is
         * refused, so a signature has one encoding. */
        check_true("ECDSA sign gives low S", imc_policy_ecdsa_p256_s_low(good));
        uint8_t n[32], neg[64];
        unhex32(n, P256_N);
        memcpy(neg, good, 64);
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
            int d = n[i] - good[32 + i] - borrow;
            borrow = d < 0;
            neg[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
        }
        check_st("ECDSA with s replaced by n - s (high-S twin) refused",
                 ecdsa_verify_both(b, neg, pk, msg, sizeof msg), IMC_ERR_AUTH);
    }
}

static void rule_aead(const imc_backend *b, imc_aead aead)
{
    uint8_t key[32], nonce[32], buf[64], in[64];
    memset(key, 0x01, sizeof key);
    memset(nonce, 0x02, sizeof nonce);
    memset(in, 0x03, sizeof in);
    static const size_t bad_nonce[] = {0, 1, 8, 11, 13, 16, 24, 32};
    for (size_t i = 0; i < sizeof bad_nonce / sizeof bad_nonce[0]; i++) {
        check_st("AEAD seal, nonce not 12 bytes",
                 imc_crypto_aead_seal(b, aead, buf, sizeof buf, key, nonce, bad_nonce[i], NULL, 0,
                                      in, 16),
                 IMC_ERR_ARG);
        check_st("AEAD open, nonce not 12 bytes",
                 imc_crypto_aead_open(b, aead, buf, sizeof buf, key, nonce, bad_nonce[i], NULL, 0,
                                      in, 32),
                 IMC_ERR_ARG);
    }
    /* Shorter than a tag: cannot be authentic, even to a library that says
     * yes to anything. */
    for (size_t n = 0; n < 16; n++)
        check_st("AEAD open, input shorter than the tag",
                 imc_crypto_aead_open(b, aead, buf, sizeof buf, key, nonce, 12, NULL, 0, in, n),
                 IMC_ERR_AUTH);
    if (b == &BROKEN) {
        memset(buf, 0xaa, sizeof buf);
        check_st("AEAD open, library failure is IMC_ERR_AUTH",
                 imc_crypto_aead_open(b, aead, buf, sizeof buf, key, nonce, 12, NULL, 0, in, 48),
                 IMC_ERR_AUTH);
        check_true("AEAD open, no partial plaintext", imc_ct_is_zero(buf, 32));
    }
}

static void rule_hkdf(const imc_backend *b)
{
    static uint8_t out[IMC_HKDF_SHA256_MAX_BYTES + 2];
    check_st("HKDF length 0", imc_crypto_hkdf_sha256(b, out, 0, NULL, 0, NULL, 0, NULL, 0),
             IMC_ERR_ARG);
    check_st("HKDF length 8161",
             imc_crypto_hkdf_sha256(b, out, IMC_HKDF_SHA256_MAX_BYTES + 1, NULL, 0, NULL, 0, NULL, 0),
             IMC_ERR_ARG);
    check_st("HKDF length 8160",
             imc_crypto_hkdf_sha256(b, out, IMC_HKDF_SHA256_MAX_BYTES, NULL, 0, NULL, 0, NULL, 0),
             IMC_OK);
    check_st("HKDF length 1", imc_crypto_hkdf_sha256(b, out, 1, NULL, 0, NULL, 0, NULL, 0), IMC_OK);
}

static void run_rules(const imc_backend *b, int fake)
{
    g_backend = imc_backend_name(b);
    unsigned long failed_before = imc_test_failed_, passed_before = imc_test_passed_;
    uint32_t caps = imc_backend_caps(b);
    if (caps & IMC_CAP_X25519)
        rule_x25519(b, fake);
    if (caps & IMC_CAP_ED25519)
        rule_ed25519(b, fake);
    if ((caps & (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256)) ==
        (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256))
        rule_p256(b, fake);
    if (caps & IMC_CAP_CHACHA20POLY1305)
        rule_aead(b, IMC_AEAD_CHACHA20POLY1305);
    if (caps & IMC_CAP_AES256GCM)
        rule_aead(b, IMC_AEAD_AES256GCM);
    if (caps & IMC_CAP_SHA256)
        rule_hkdf(b);
    printf("policy rules [%s]: %lu checks passed, %lu failed\n", g_backend,
           imc_test_passed_ - passed_before, imc_test_failed_ - failed_before);
}

int main(void)
{
    unsigned long before = imc_test_failed_;
    policy_functions();
    printf("policy checks [policy.c]: %lu failed\n", imc_test_failed_ - before);

    const imc_backend *bs[MAX_BACKENDS];
    size_t nb = imc_test_backends(bs, MAX_BACKENDS);
    CHECK(nb > 0);
    for (size_t i = 0; i < nb; i++)
        run_rules(bs[i], 0);
    run_rules(&PERMISSIVE, 1);
    run_rules(&BROKEN, 1);
    return imc_test_end();
}
