/* Project Wycheproof vectors through every backend (label kat).
 *
 * Every test case of every file goes through every backend that has the
 * primitive (imc_backend_caps). The expected outcome comes from the case's
 * `result`:
 *   valid      must succeed with exactly the expected output;
 *   invalid    must fail;
 *   acceptable our validation policy decides (docs/validation-policy.md),
 *              per algorithm below; the decision is counted "by policy".
 * Some `valid` cases are also decided by the policy: parameters the API
 * refuses on purpose (AEAD nonces other than 96 bits must be IMC_ERR_ARG;
 * compressed P-256 points must be IMC_ERR_WEAK_KEY).
 * Cases whose parameters the API cannot express at all (AES-GCM with 128-
 * or 192-bit keys, tags other than 128 bits, signatures or points of another
 * length) are "n/a", each with its reason.
 *
 * On top of that every backend must give the same outcome (status and
 * output bytes) for every case. Each failure prints the file, tcId, backend,
 * comment and flags. Data comes from $IMC_TEST_DATA/wycheproof. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/policy.h"
#include "json.h"
#include "test.h"

#define MAX_BACKENDS 16
#define OUT_MAX 16384
#define MAX_REASONS 16

/* ---- small helpers ----------------------------------------------------- */

typedef struct bytes {
    uint8_t *p;
    size_t n;
} bytes;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the hex string member `key` of obj into a fresh buffer (never
 * NULL, even when empty). 0 if it is absent or not strict hex. */
static int get_hex(const imc_json *obj, const char *key, bytes *out)
{
    const char *s = imc_json_get_str(obj, key);
    out->p = NULL;
    out->n = 0;
    if (s == NULL)
        return 0;
    size_t len = strlen(s);
    if (len % 2 != 0)
        return 0;
    out->p = malloc(len / 2 + 1);
    if (out->p == NULL)
        return 0;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out->p);
            out->p = NULL;
            return 0;
        }
        out->p[i] = (uint8_t)(hi << 4 | lo);
    }
    out->n = len / 2;
    return 1;
}

static void bytes_free(bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

static int has_flag(const imc_json *tc, const char *flag)
{
    const imc_json *flags = imc_json_get(tc, "flags");
    if (flags == NULL || flags->type != IMC_JSON_ARRAY)
        return 0;
    for (const imc_json *f = flags->child; f != NULL; f = f->next)
        if (f->type == IMC_JSON_STRING && strcmp(f->str, flag) == 0)
            return 1;
    return 0;
}

static int is_zero(const uint8_t *p, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= p[i];
    return d == 0;
}

/* ---- expectations and outcomes ----------------------------------------- */

typedef enum result { RESULT_VALID, RESULT_INVALID, RESULT_ACCEPTABLE } result;

/* What one case must do, decided from the vector alone (not the backend). */
typedef struct expect {
    const char *na;     /* non-NULL: not applicable, and why */
    const char *policy; /* non-NULL: the policy rule that decided, not `result` */
    const char *rule;   /* non-NULL: the core's pre-check that refuses the input */
    int want_ok;        /* 1: must succeed with exactly want[0..want_len) */
    imc_status want_st; /* when !want_ok: the failure required (IMC_OK = any) */
    uint8_t want[OUT_MAX];
    size_t want_len;
} expect;

/* What one backend did with it. */
typedef struct outcome {
    imc_status st; /* IMC_OK, or the first failure */
    uint8_t out[OUT_MAX];
    size_t out_len; /* 0 on failure */
} outcome;

static void expect_ok(expect *e, const uint8_t *want, size_t len)
{
    e->want_ok = 1;
    if (len > OUT_MAX) {
        e->na = "expected output larger than the test buffer";
        return;
    }
    if (len > 0)
        memcpy(e->want, want, len);
    e->want_len = len;
}

static void expect_fail(expect *e, imc_status st)
{
    e->want_ok = 0;
    e->want_st = st;
}

static void out_append(outcome *o, const uint8_t *p, size_t n)
{
    if (o->out_len + n > OUT_MAX) {
        o->st = IMC_ERR_NO_SPACE;
        return;
    }
    memcpy(o->out + o->out_len, p, n);
    o->out_len += n;
}

/* Records a status: the first failure sticks and clears the output. */
static void out_status(outcome *o, imc_status st)
{
    if (o->st == IMC_OK && st != IMC_OK) {
        o->st = st;
        o->out_len = 0;
    }
}

/* The handler for one algorithm: fills e from the vector and o by running
 * backend b (b == NULL: only fill e). */
typedef void (*case_fn)(const imc_backend *b, const imc_json *group, const imc_json *tc,
                        result res, expect *e, outcome *o);

/* ---- X25519 ------------------------------------------------------------ */

/* acceptable: a low-order public key gives an all-zero shared secret, which
 * the policy refuses (IMC_ERR_WEAK_KEY); every other acceptable case (twist
 * points, non-canonical u >= p, public keys with bit 255 set) is accepted
 * and must give exactly the RFC 7748 result. */
static void x25519_case(const imc_backend *b, const imc_json *group, const imc_json *tc,
                        result res, expect *e, outcome *o)
{
    (void)group;
    bytes pub, priv, shared;
    int ok = get_hex(tc, "public", &pub) & get_hex(tc, "private", &priv) &
             get_hex(tc, "shared", &shared);
    if (!ok || pub.n != 32 || priv.n != 32 || shared.n != 32) {
        e->na = "X25519 key or shared secret not 32 bytes";
        goto done;
    }
    int zero = is_zero(shared.p, 32);
    if (zero != has_flag(tc, "ZeroSharedSecret")) {
        e->na = "inconsistent vector: ZeroSharedSecret flag vs shared value";
        goto done;
    }
    if (!imc_policy_x25519_public_ok(pub.p))
        e->rule = "X25519 public key of order 1, 2, 4 or 8";
    if (zero) {
        e->policy = "X25519: low-order public key (zero shared secret) -> IMC_ERR_WEAK_KEY";
        expect_fail(e, IMC_ERR_WEAK_KEY);
    } else if (res == RESULT_INVALID) {
        expect_fail(e, IMC_OK);
    } else {
        if (res == RESULT_ACCEPTABLE)
            e->policy = "X25519: twist / non-canonical / high-bit public key accepted";
        expect_ok(e, shared.p, 32);
    }
    if (b != NULL) {
        uint8_t out[IMC_X25519_SHARED_BYTES];
        imc_status st = imc_crypto_x25519(b, out, priv.p, pub.p);
        out_status(o, st);
        if (st == IMC_OK)
            out_append(o, out, sizeof out);
    }
done:
    bytes_free(&pub);
    bytes_free(&priv);
    bytes_free(&shared);
}

/* ---- Ed25519 ----------------------------------------------------------- */

/* The file has no acceptable cases; valid must verify, invalid must be
 * IMC_ERR_AUTH (non-canonical S, small-order or non-canonical A and R, bad
 * signatures all fail the same way). Signatures of another length than 64
 * bytes cannot be passed to the API (fixed-size array): n/a. */
static void ed25519_case(const imc_backend *b, const imc_json *group, const imc_json *tc,
                         result res, expect *e, outcome *o)
{
    const imc_json *key = imc_json_get(group, "publicKey");
    bytes pk, msg, sig;
    int ok = get_hex(key, "pk", &pk) & get_hex(tc, "msg", &msg) & get_hex(tc, "sig", &sig);
    if (!ok || pk.n != 32) {
        e->na = "Ed25519 public key not 32 bytes";
        goto done;
    }
    if (sig.n != IMC_ED25519_SIGNATURE_BYTES) {
        e->na = "Ed25519 signature not 64 bytes (not expressible)";
        goto done;
    }
    if (!imc_policy_ed25519_scalar_canonical(sig.p + 32))
        e->rule = "Ed25519 S >= L (non-canonical S)";
    else if (!imc_policy_ed25519_point_canonical(pk.p))
        e->rule = "Ed25519 A non-canonical (y >= p)";
    else if (!imc_policy_ed25519_point_not_small_order(pk.p))
        e->rule = "Ed25519 A of small order";
    else if (!imc_policy_ed25519_point_not_small_order(sig.p))
        e->rule = "Ed25519 R of small order";
    if (res == RESULT_VALID)
        expect_ok(e, NULL, 0);
    else if (res == RESULT_INVALID)
        expect_fail(e, IMC_ERR_AUTH);
    else
        e->na = "Ed25519 acceptable case: no policy rule defined";
    if (b != NULL)
        out_status(o, imc_crypto_ed25519_verify(b, sig.p, pk.p, msg.p, msg.n));
done:
    bytes_free(&pk);
    bytes_free(&msg);
    bytes_free(&sig);
}

/* ---- AEAD (ChaCha20-Poly1305, AES-GCM) --------------------------------- */

static uint8_t aead_buf[OUT_MAX];

/* valid: seal must give ct||tag and open must give msg back. invalid: open
 * must be IMC_ERR_AUTH. Any nonce other than 96 bits must be IMC_ERR_ARG
 * from both seal and open, whatever `result` says (policy). Keys other than
 * 256 bits and tags other than 128 bits are n/a. */
static void aead_case(imc_aead aead, const imc_backend *b, const imc_json *group,
                      const imc_json *tc, result res, expect *e, outcome *o)
{
    int64_t tag_size = 0;
    bytes key, iv, aad, msg, ct, tag, sealed;
    int ok = get_hex(tc, "key", &key) & get_hex(tc, "iv", &iv) & get_hex(tc, "aad", &aad) &
             get_hex(tc, "msg", &msg) & get_hex(tc, "ct", &ct) & get_hex(tc, "tag", &tag);
    sealed.p = NULL;
    sealed.n = 0;
    if (!ok || !imc_json_get_int(group, "tagSize", &tag_size)) {
        e->na = "AEAD vector fields missing";
        goto done;
    }
    if (key.n != IMC_AEAD_KEY_BYTES) {
        e->na = "AEAD key not 256 bits";
        goto done;
    }
    int nonce_ok = iv.n == IMC_AEAD_NONCE_BYTES;
    /* A wrong nonce is refused before anything else is looked at (the
     * nonce-size cases of the ChaCha20-Poly1305 file have no tag at all). */
    if (nonce_ok && (tag_size != 8 * IMC_AEAD_TAG_BYTES || tag.n != IMC_AEAD_TAG_BYTES)) {
        e->na = "AEAD tag not 128 bits";
        goto done;
    }
    /* ct || tag, the API's sealed layout. */
    sealed.n = ct.n + tag.n;
    sealed.p = malloc(sealed.n + 1);
    if (sealed.p == NULL) {
        e->na = "out of memory";
        goto done;
    }
    memcpy(sealed.p, ct.p, ct.n);
    memcpy(sealed.p + ct.n, tag.p, tag.n);

    if (!nonce_ok) {
        e->rule = "AEAD nonce not 96 bits";
        if (res != RESULT_INVALID)
            e->policy = "AEAD: nonce not 96 bits -> IMC_ERR_ARG";
        expect_fail(e, IMC_ERR_ARG);
    } else if (res == RESULT_VALID) {
        if (sealed.n + msg.n > OUT_MAX) {
            e->na = "AEAD message larger than the test buffer";
            goto done;
        }
        e->want_ok = 1;
        memcpy(e->want, sealed.p, sealed.n);
        memcpy(e->want + sealed.n, msg.p, msg.n);
        e->want_len = sealed.n + msg.n;
    } else if (res == RESULT_INVALID) {
        expect_fail(e, IMC_ERR_AUTH);
    } else {
        e->na = "AEAD acceptable case: no policy rule defined";
        goto done;
    }
    if (b == NULL)
        goto done;

    uint8_t *buf = aead_buf;
    if (!nonce_ok) {
        /* Both directions must refuse the nonce before doing anything. */
        imc_status s1 = imc_crypto_aead_seal(b, aead, buf, OUT_MAX, key.p, iv.p, iv.n, aad.p,
                                             aad.n, msg.p, msg.n);
        imc_status s2 = imc_crypto_aead_open(b, aead, buf, OUT_MAX, key.p, iv.p, iv.n, aad.p,
                                             aad.n, sealed.p, sealed.n);
        if (s1 == IMC_ERR_ARG && s2 == IMC_ERR_ARG)
            out_status(o, IMC_ERR_ARG);
        else if (s1 != IMC_OK && s2 != IMC_OK)
            out_status(o, s1 != IMC_ERR_ARG ? s1 : s2);
        /* else one direction accepted the nonce: reported as a success */
        goto done;
    }
    if (res == RESULT_VALID) {
        imc_status st = imc_crypto_aead_seal(b, aead, buf, OUT_MAX, key.p, iv.p, iv.n, aad.p,
                                             aad.n, msg.p, msg.n);
        out_status(o, st);
        if (st == IMC_OK)
            out_append(o, buf, msg.n + IMC_AEAD_TAG_BYTES);
    }
    imc_status st = imc_crypto_aead_open(b, aead, buf, OUT_MAX, key.p, iv.p, iv.n, aad.p,
                                         aad.n, sealed.p, sealed.n);
    out_status(o, st);
    if (o->st == IMC_OK)
        out_append(o, buf, ct.n);
done:
    bytes_free(&key);
    bytes_free(&iv);
    bytes_free(&aad);
    bytes_free(&msg);
    bytes_free(&ct);
    bytes_free(&tag);
    bytes_free(&sealed);
}

static void chacha_case(const imc_backend *b, const imc_json *group, const imc_json *tc,
                        result res, expect *e, outcome *o)
{
    aead_case(IMC_AEAD_CHACHA20POLY1305, b, group, tc, res, e, o);
}

static void aesgcm_case(const imc_backend *b, const imc_json *group, const imc_json *tc,
                        result res, expect *e, outcome *o)
{
    aead_case(IMC_AEAD_AES256GCM, b, group, tc, res, e, o);
}

/* ---- P-256 ECDH (raw SEC1 points) -------------------------------------- */

/* valid: exactly the shared X coordinate. invalid (all of them are bad
 * public keys: off the curve, wrong encoding) must be IMC_ERR_WEAK_KEY, the
 * status the policy gives a bad peer key. Only 65-byte
 * uncompressed points are taken: a 33-byte compressed point (valid,
 * acceptable or invalid) is placed in a 65-byte buffer and must be refused
 * by the policy's prefix check with IMC_ERR_WEAK_KEY. Other lengths (the
 * empty point) cannot be passed: n/a. */
static void ecdh_case(const imc_backend *b, const imc_json *group, const imc_json *tc,
                      result res, expect *e, outcome *o)
{
    (void)group;
    bytes pub, priv, shared;
    uint8_t pk[IMC_P256_PUBLIC_BYTES] = {0}, sk[IMC_P256_SECRET_BYTES] = {0};
    int ok = get_hex(tc, "public", &pub) & get_hex(tc, "private", &priv) &
             get_hex(tc, "shared", &shared);
    if (!ok) {
        e->na = "ECDH vector fields missing";
        goto done;
    }
    /* The private key is a big-endian integer, possibly with a leading 00
     * or shorter than 32 bytes. */
    size_t skip = 0;
    while (skip < priv.n && priv.p[skip] == 0)
        skip++;
    if (priv.n - skip > IMC_P256_SECRET_BYTES) {
        e->na = "P-256 private key longer than 32 bytes";
        goto done;
    }
    memcpy(sk + IMC_P256_SECRET_BYTES - (priv.n - skip), priv.p + skip, priv.n - skip);

    if (pub.n == 33 && (pub.p[0] == 0x02 || pub.p[0] == 0x03)) {
        if (res != RESULT_INVALID)
            e->policy = "P-256: compressed point -> IMC_ERR_WEAK_KEY";
        expect_fail(e, IMC_ERR_WEAK_KEY);
        memcpy(pk, pub.p, pub.n);
        e->rule = "P-256 point not uncompressed (prefix not 04)";
    } else if (pub.n != IMC_P256_PUBLIC_BYTES) {
        e->na = "P-256 point neither 65 bytes nor compressed (not expressible)";
        goto done;
    } else {
        memcpy(pk, pub.p, pub.n);
        if (!imc_policy_p256_public_form_ok(pk))
            e->rule = "P-256 point not 04 || x || y with x, y < p";
        else if (!imc_policy_p256_scalar_ok(sk))
            e->rule = "P-256 private scalar not in [1, n-1]";
        if (res == RESULT_VALID) {
            if (shared.n != IMC_P256_SHARED_BYTES) {
                e->na = "P-256 shared secret not 32 bytes";
                goto done;
            }
            expect_ok(e, shared.p, shared.n);
        } else if (res == RESULT_INVALID) {
            /* Every invalid case here is a bad public key. */
            expect_fail(e, IMC_ERR_WEAK_KEY);
        } else {
            e->na = "P-256 acceptable uncompressed case: no policy rule defined";
            goto done;
        }
    }
    if (b != NULL) {
        uint8_t out[IMC_P256_SHARED_BYTES];
        imc_status st = imc_crypto_p256_ecdh(b, out, sk, pk);
        out_status(o, st);
        if (st == IMC_OK)
            out_append(o, out, sizeof out);
    }
done:
    bytes_free(&pub);
    bytes_free(&priv);
    bytes_free(&shared);
}

/* ---- ECDSA P-256 SHA-256, raw r||s ------------------------------------- */

/* valid must verify, invalid must be IMC_ERR_AUTH. Signatures other than 64
 * bytes cannot be passed (fixed-size array): n/a. */
static void ecdsa_case(const imc_backend *b, const imc_json *group, const imc_json *tc,
                       result res, expect *e, outcome *o)
{
    const imc_json *key = imc_json_get(group, "publicKey");
    bytes pk, msg, sig;
    int ok = get_hex(key, "uncompressed", &pk) & get_hex(tc, "msg", &msg) &
             get_hex(tc, "sig", &sig);
    const char *sha = imc_json_get_str(group, "sha");
    const char *high_s = NULL;
    if (!ok || sha == NULL || strcmp(sha, "SHA-256") != 0 || pk.n != IMC_P256_PUBLIC_BYTES) {
        e->na = "ECDSA group not P-256/SHA-256 with an uncompressed key";
        goto done;
    }
    if (sig.n != IMC_ECDSA_P256_SIGNATURE_BYTES) {
        e->na = "ECDSA signature not 64 bytes (not expressible)";
        goto done;
    }
    if (!imc_policy_p256_public_form_ok(pk.p))
        e->rule = "P-256 point not 04 || x || y with x, y < p";
    else if (!imc_policy_ecdsa_p256_sig_ranges_ok(sig.p))
        e->rule = "ECDSA r or s not in [1, n-1]";
    else if (!imc_policy_ecdsa_p256_s_low(sig.p))
        e->rule = high_s = "ECDSA s > n / 2 (high-S)";
    if (high_s != NULL) {
        /* One encoding per signature: the high-S twin of a valid signature
         * is refused, whatever Wycheproof's result says. */
        if (res != RESULT_INVALID)
            e->policy = "ECDSA: high-S signature -> IMC_ERR_AUTH";
        expect_fail(e, IMC_ERR_AUTH);
    } else if (res == RESULT_VALID)
        expect_ok(e, NULL, 0);
    else if (res == RESULT_INVALID)
        expect_fail(e, IMC_ERR_AUTH);
    else
        e->na = "ECDSA acceptable case: no policy rule defined";
    if (b != NULL && e->na == NULL)
        out_status(o, imc_crypto_ecdsa_p256_verify(b, sig.p, pk.p, msg.p, msg.n));
done:
    bytes_free(&pk);
    bytes_free(&msg);
    bytes_free(&sig);
}

/* ---- HKDF-SHA-256 ------------------------------------------------------ */

/* valid: exactly okm. invalid (output longer than 255 blocks): the API must
 * refuse the length with IMC_ERR_ARG. */
static void hkdf_case(const imc_backend *b, const imc_json *group, const imc_json *tc,
                      result res, expect *e, outcome *o)
{
    (void)group;
    int64_t size = 0;
    bytes ikm, salt, info, okm;
    int ok = get_hex(tc, "ikm", &ikm) & get_hex(tc, "salt", &salt) &
             get_hex(tc, "info", &info) & get_hex(tc, "okm", &okm);
    if (!ok || !imc_json_get_int(tc, "size", &size) || size < 0 || size > OUT_MAX) {
        e->na = "HKDF vector fields missing or size out of range";
        goto done;
    }
    if (res == RESULT_VALID) {
        if ((int64_t)okm.n != size) {
            e->na = "inconsistent vector: okm length vs size";
            goto done;
        }
        expect_ok(e, okm.p, okm.n);
    } else if (res == RESULT_INVALID) {
        if (size <= IMC_HKDF_SHA256_MAX_BYTES && size > 0) {
            e->na = "HKDF invalid case with an in-range size: not understood";
            goto done;
        }
        expect_fail(e, IMC_ERR_ARG);
        e->rule = "HKDF output length not in [1, 8160]";
    } else {
        e->na = "HKDF acceptable case: no policy rule defined";
        goto done;
    }
    if (b != NULL) {
        static uint8_t out[OUT_MAX];
        imc_status st = imc_crypto_hkdf_sha256(b, out, (size_t)size, salt.p, salt.n, ikm.p,
                                               ikm.n, info.p, info.n);
        out_status(o, st);
        if (st == IMC_OK)
            out_append(o, out, (size_t)size);
    }
done:
    bytes_free(&ikm);
    bytes_free(&salt);
    bytes_free(&info);
    bytes_free(&okm);
}

/* ---- HMAC-SHA-256 ------------------------------------------------------ */

/* The API computes the full 256-bit MAC; a truncated tag is compared on its
 * prefix (as a verifier of a truncated MAC would, in constant time). valid:
 * the prefix must match; invalid: it must not (reported as IMC_ERR_AUTH).
 * The full MAC must be identical on every backend. */
static void hmac_case(const imc_backend *b, const imc_json *group, const imc_json *tc,
                      result res, expect *e, outcome *o)
{
    int64_t tag_size = 0;
    bytes key, msg, tag;
    int ok = get_hex(tc, "key", &key) & get_hex(tc, "msg", &msg) & get_hex(tc, "tag", &tag);
    if (!ok || !imc_json_get_int(group, "tagSize", &tag_size) || tag_size % 8 != 0 ||
        (int64_t)tag.n != tag_size / 8 || tag.n == 0 || tag.n > IMC_SHA256_BYTES) {
        e->na = "HMAC tag size not a whole number of bytes up to 256 bits";
        goto done;
    }
    if (res == RESULT_VALID) {
        e->want_ok = 1; /* the MAC itself is compared in the outcome */
    } else if (res == RESULT_INVALID) {
        expect_fail(e, IMC_ERR_AUTH);
    } else {
        e->na = "HMAC acceptable case: no policy rule defined";
        goto done;
    }
    if (b != NULL) {
        uint8_t mac[IMC_SHA256_BYTES];
        imc_status st = imc_crypto_hmac_sha256(b, mac, key.p, key.n, msg.p, msg.n);
        out_status(o, st);
        if (st == IMC_OK && !imc_ct_equal(mac, tag.p, tag.n))
            out_status(o, IMC_ERR_AUTH);
        if (o->st == IMC_OK)
            out_append(o, mac, sizeof mac);
        /* A valid case's expected output is the MAC whose prefix matched. */
        if (res == RESULT_VALID && o->st == IMC_OK)
            expect_ok(e, mac, sizeof mac);
    }
done:
    bytes_free(&key);
    bytes_free(&msg);
    bytes_free(&tag);
}

/* ---- the driver --------------------------------------------------------- */

typedef struct vector_file {
    const char *file;
    const char *algorithm; /* the file's "algorithm" */
    const char *schema;    /* the file's "schema" */
    uint32_t cap;
    case_fn fn;
} vector_file;

static const vector_file FILES[] = {
    {"x25519_test.json", "XDH", "xdh_comp_schema_v1.json", IMC_CAP_X25519, x25519_case},
    {"ed25519_test.json", "EDDSA", "eddsa_verify_schema_v1.json", IMC_CAP_ED25519,
     ed25519_case},
    {"chacha20_poly1305_test.json", "CHACHA20-POLY1305", "aead_test_schema_v1.json",
     IMC_CAP_CHACHA20POLY1305, chacha_case},
    {"aes_gcm_test.json", "AES-GCM", "aead_test_schema_v1.json", IMC_CAP_AES256GCM,
     aesgcm_case},
    {"ecdh_secp256r1_ecpoint_test.json", "ECDH", "ecdh_ecpoint_test_schema_v1.json",
     IMC_CAP_P256_ECDH, ecdh_case},
    {"ecdsa_secp256r1_sha256_p1363_test.json", "ECDSA", "ecdsa_p1363_verify_schema_v1.json",
     IMC_CAP_ECDSA_P256, ecdsa_case},
    {"hkdf_sha256_test.json", "HKDF-SHA-256", "hkdf_test_schema_v1.json", IMC_CAP_SHA256,
     hkdf_case},
    {"hmac_sha256_test.json", "HMACSHA256", "mac_test_schema_v1.json", IMC_CAP_SHA256,
     hmac_case},
};

typedef struct counts {
    unsigned long cases, passed, by_policy, na, failed;
} counts;

/* Reason strings are static, so they are tallied by pointer. */
typedef struct tally {
    const char *what[MAX_REASONS];
    unsigned long n[MAX_REASONS];
    size_t used;
} tally;

static void tally_add(tally *t, const char *what)
{
    for (size_t i = 0; i < t->used; i++) {
        if (t->what[i] == what) {
            t->n[i]++;
            return;
        }
    }
    if (t->used < MAX_REASONS) {
        t->what[t->used] = what;
        t->n[t->used++] = 1;
    }
}

static void note_check(int ok)
{
    if (ok)
        imc_test_passed_++;
    else
        imc_test_failed_++;
}

static void flags_str(const imc_json *tc, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    const imc_json *flags = imc_json_get(tc, "flags");
    for (const imc_json *f = flags != NULL ? flags->child : NULL; f != NULL; f = f->next) {
        if (f->type != IMC_JSON_STRING)
            continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n > 0 ? "," : "", f->str);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
}

static void describe(const expect *e, char *buf, size_t cap)
{
    if (e->want_ok)
        snprintf(buf, cap, "success with the expected %zu-byte output", e->want_len);
    else if (e->want_st == IMC_OK)
        snprintf(buf, cap, "any failure");
    else
        snprintf(buf, cap, "%s", imc_status_str(e->want_st));
}

static void report_failure(const char *file, int64_t tc_id, const char *backend,
                           const imc_json *tc, const char *what)
{
    char flags[256];
    flags_str(tc, flags, sizeof flags);
    const char *comment = imc_json_get_str(tc, "comment");
    fprintf(stderr, "FAIL wycheproof %s tcId %lld [%s]: \"%s\" (flags %s): %s\n", file,
            (long long)tc_id, backend, comment != NULL ? comment : "", flags, what);
}

static int parse_result(const char *s, result *out)
{
    if (s == NULL)
        return 0;
    if (strcmp(s, "valid") == 0)
        *out = RESULT_VALID;
    else if (strcmp(s, "invalid") == 0)
        *out = RESULT_INVALID;
    else if (strcmp(s, "acceptable") == 0)
        *out = RESULT_ACCEPTABLE;
    else
        return 0;
    return 1;
}

static expect g_expect;
static outcome g_outcome[MAX_BACKENDS];

static void run_file(const char *dir, const vector_file *vf, const imc_backend *const *all,
                     size_t n_all)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/wycheproof/%s", dir, vf->file);
    imc_json *root = imc_json_load(path, err, sizeof err);
    if (root == NULL) {
        fprintf(stderr, "FAIL wycheproof %s: %s\n", vf->file, err);
        note_check(0);
        return;
    }
    const char *alg = imc_json_get_str(root, "algorithm");
    const char *schema = imc_json_get_str(root, "schema");
    int64_t declared = -1;
    const imc_json *groups = imc_json_get(root, "testGroups");
    if (alg == NULL || strcmp(alg, vf->algorithm) != 0 || schema == NULL ||
        strcmp(schema, vf->schema) != 0 || !imc_json_get_int(root, "numberOfTests", &declared) ||
        groups == NULL || groups->type != IMC_JSON_ARRAY) {
        fprintf(stderr, "FAIL wycheproof %s: not a %s file of schema %s\n", vf->file,
                vf->algorithm, vf->schema);
        note_check(0);
        imc_json_free(root);
        return;
    }

    const imc_backend *bs[MAX_BACKENDS];
    size_t nb = 0;
    for (size_t i = 0; i < n_all && nb < MAX_BACKENDS; i++) {
        if ((imc_backend_caps(all[i]) & vf->cap) == vf->cap)
            bs[nb++] = all[i];
        else
            printf("wycheproof %s %s: primitive not available in this backend\n", vf->file,
                   imc_backend_name(all[i]));
    }
    counts c[MAX_BACKENDS];
    memset(c, 0, sizeof c);
    tally na_reasons = {{0}, {0}, 0}, policy_rules = {{0}, {0}, 0}, pre_checks = {{0}, {0}, 0};
    unsigned long total = 0, disagreements = 0, bad_vectors = 0;

    for (const imc_json *g = groups->child; g != NULL; g = g->next) {
        const imc_json *tests = imc_json_get(g, "tests");
        if (tests == NULL || tests->type != IMC_JSON_ARRAY) {
            bad_vectors++;
            continue;
        }
        for (const imc_json *tc = tests->child; tc != NULL; tc = tc->next) {
            int64_t id = -1;
            result res;
            total++;
            if (!imc_json_get_int(tc, "tcId", &id) ||
                !parse_result(imc_json_get_str(tc, "result"), &res)) {
                report_failure(vf->file, id, "-", tc, "unreadable tcId or result");
                bad_vectors++;
                continue;
            }
            memset(&g_expect, 0, sizeof g_expect);
            vf->fn(NULL, g, tc, res, &g_expect, NULL);
            if (g_expect.na != NULL) {
                tally_add(&na_reasons, g_expect.na);
                for (size_t i = 0; i < nb; i++) {
                    c[i].cases++;
                    c[i].na++;
                }
                continue;
            }
            if (g_expect.policy != NULL)
                tally_add(&policy_rules, g_expect.policy);
            if (g_expect.rule != NULL) {
                tally_add(&pre_checks, g_expect.rule);
                /* A pre-check can only ever make a case fail. */
                if (g_expect.want_ok) {
                    report_failure(vf->file, id, "-", tc, "the policy refuses a case that must pass");
                    note_check(0);
                }
            }
            for (size_t i = 0; i < nb; i++) {
                outcome *o = &g_outcome[i];
                o->st = IMC_OK;
                o->out_len = 0;
                expect e_run;
                /* A fresh copy: some handlers complete want from the run. */
                memcpy(&e_run, &g_expect, sizeof e_run);
                vf->fn(bs[i], g, tc, res, &e_run, o);
                c[i].cases++;
                int ok;
                if (e_run.want_ok)
                    ok = o->st == IMC_OK && o->out_len == e_run.want_len &&
                         memcmp(o->out, e_run.want, e_run.want_len) == 0;
                else
                    ok = o->st != IMC_OK && (e_run.want_st == IMC_OK || o->st == e_run.want_st);
                if (ok) {
                    c[i].passed++;
                    if (e_run.policy != NULL)
                        c[i].by_policy++;
                } else {
                    char want[96], msg[256];
                    describe(&e_run, want, sizeof want);
                    if (o->st == IMC_OK)
                        snprintf(msg, sizeof msg, "expected %s, got success (%zu-byte output%s)",
                                 want, o->out_len,
                                 e_run.want_ok ? " that differs" : "");
                    else
                        snprintf(msg, sizeof msg, "expected %s, got %s", want,
                                 imc_status_str(o->st));
                    report_failure(vf->file, id, imc_backend_name(bs[i]), tc, msg);
                    c[i].failed++;
                }
                note_check(ok);
            }
            /* Every backend must do exactly what the first one did. */
            for (size_t i = 1; i < nb; i++) {
                const outcome *a = &g_outcome[0], *o = &g_outcome[i];
                int same = a->st == o->st && a->out_len == o->out_len &&
                           memcmp(a->out, o->out, a->out_len) == 0;
                if (!same) {
                    char msg[256];
                    snprintf(msg, sizeof msg, "backends disagree: %s gave %s, %s gave %s%s",
                             imc_backend_name(bs[0]), imc_status_str(a->st),
                             imc_backend_name(bs[i]), imc_status_str(o->st),
                             a->st == o->st ? " with different output" : "");
                    report_failure(vf->file, id, imc_backend_name(bs[i]), tc, msg);
                    disagreements++;
                }
                note_check(same);
            }
        }
    }

    for (size_t i = 0; i < nb; i++)
        printf("wycheproof %s %s: %lu cases, %lu passed (%lu by policy), %lu n/a, %lu failed\n",
               vf->file, imc_backend_name(bs[i]), c[i].cases, c[i].passed, c[i].by_policy,
               c[i].na, c[i].failed);
    if (nb > 1)
        printf("wycheproof %s: %zu backends, %lu disagreements\n", vf->file, nb, disagreements);
    for (size_t i = 0; i < policy_rules.used; i++)
        printf("    by policy: %4lu  %s\n", policy_rules.n[i], policy_rules.what[i]);
    for (size_t i = 0; i < pre_checks.used; i++)
        printf("    pre-check: %4lu  %s\n", pre_checks.n[i], pre_checks.what[i]);
    for (size_t i = 0; i < na_reasons.used; i++)
        printf("    n/a:       %4lu  %s\n", na_reasons.n[i], na_reasons.what[i]);

    /* The reader must have seen every case the file declares. */
    int complete = (int64_t)total == declared && bad_vectors == 0;
    if (!complete)
        fprintf(stderr, "FAIL wycheproof %s: read %lu cases (%lu unreadable), file declares %lld\n",
                vf->file, total, bad_vectors, (long long)declared);
    note_check(complete);
    imc_json_free(root);
}

/* ---- the JSON reader's own strictness ---------------------------------- */

static void json_self_test(void)
{
    static const char *const good[] = {
        "{}", "[]", " {\"a\" : [1, -2, 3.5e-1, true, false, null, \"x\\u00e9\\n\\\"\"]} ",
        "\"\\ud83d\\ude00\"", "0", "-0.0E+5",
    };
    static const char *const bad[] = {
        "",          "{",           "[1,]",          "{\"a\":1,}",  "[01]",
        "[1.]",      "[.5]",        "[1e]",          "[+1]",        "{\"a\":1 \"b\":2}",
        "{a:1}",     "[\"\\x\"]",   "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"a\tb\"]",
        "[true false]", "[tru]",    "{} x",          "[\"\\u0000\"]", "{\"a\":1,\"a\":2}",
        "/* c */ {}", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "[\"\xf5\x80\x80\x80\"]",
        "'a'",
    };
    char err[128];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        imc_json *v = imc_json_parse(good[i], strlen(good[i]), err, sizeof err);
        if (v == NULL)
            fprintf(stderr, "json: rejected good input %zu: %s\n", i, err);
        CHECK(v != NULL);
        imc_json_free(v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        imc_json *v = imc_json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        if (v != NULL)
            fprintf(stderr, "json: accepted bad input %zu: %s\n", i, bad[i]);
        CHECK(v == NULL);
        imc_json_free(v);
    }
    /* Nesting is bounded. */
    char deep[2 * (IMC_JSON_MAX_DEPTH + 2)];
    for (size_t i = 0; i < IMC_JSON_MAX_DEPTH + 2; i++) {
        deep[i] = '[';
        deep[2 * (IMC_JSON_MAX_DEPTH + 2) - 1 - i] = ']';
    }
    imc_json *v = imc_json_parse(deep, sizeof deep, err, sizeof err);
    CHECK(v == NULL);
    imc_json_free(v);
    /* Values come back decoded. */
    const char *doc = "{\"s\":\"a\\u00e9\\ud83d\\ude00\",\"n\":-42,\"f\":1.5,\"big\":9223372036854775808}";
    v = imc_json_parse(doc, strlen(doc), err, sizeof err);
    CHECK(v != NULL);
    int64_t n = 0;
    CHECK(imc_json_get_int(v, "n", &n) && n == -42);
    CHECK(!imc_json_get_int(v, "f", &n));
    CHECK(!imc_json_get_int(v, "big", &n));
    const char *s = imc_json_get_str(v, "s");
    CHECK(s != NULL && strcmp(s, "a\xc3\xa9\xf0\x9f\x98\x80") == 0);
    CHECK(imc_json_get(v, "missing") == NULL);
    imc_json_free(v);
}

int main(void)
{
    const char *dir = getenv("IMC_TEST_DATA");
    if (dir == NULL || *dir == '\0') {
        fprintf(stderr, "IMC_TEST_DATA is not set (it should name core/tests/data)\n");
        return 1;
    }
    json_self_test();

    const imc_backend *all[MAX_BACKENDS];
    size_t n_all = imc_test_backends(all, MAX_BACKENDS);
    CHECK(n_all > 0);
    for (size_t i = 0; i < n_all; i++)
        printf("backend %s: %s\n", imc_backend_name(all[i]), imc_backend_version(all[i]));
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++)
        run_file(dir, &FILES[i], all, n_all);
    return imc_test_end();
}
