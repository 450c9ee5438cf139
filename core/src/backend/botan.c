/* The Botan 2 backend (its C interface, botan/ffi.h): all three suites.
 *
 * Arguments arrive checked by the policy layer (crypto.c). Botan's
 * public-key calls take key objects: loading a private key (X25519,
 * Ed25519 from its seed, a P-256 scalar) computes its public key, a
 * fixed-base scalar multiplication, so the plain calls pay for it every
 * time and prepared keys (below) keep the loaded object. Botan's key
 * objects are immutable once made and every operation gets its own
 * operation object, so a prepared key is shared between threads freely.
 * ECDSA uses Botan's RFC 6979 nonces (the EMSA1(SHA-256) padding), the same
 * as every other backend. Secrets Botan holds (private keys, big integers)
 * live in its secure_vector, which zeroises on release. Random bytes for
 * callers come from the kernel; the random generator Botan's blinding
 * needs is its "system" one, made per call. */
#include <stdlib.h>
#include <string.h>

#include <botan/ffi.h>

#include "backend/backend_impl.h"
#include "backend/sysrand.h"
#include "imcore/util.h"

#define P256_CURVE "secp256r1"
#define ECDSA_PADDING "EMSA1(SHA-256)"

static const uint8_t *nz(const uint8_t *p)
{
    static const uint8_t empty[1] = {0};
    return p != NULL ? p : empty;
}

static const char *botan_backend_version(void) { return botan_version_string(); }

static uint32_t botan_backend_caps(void)
{
    return IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_AES256GCM |
           IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_SHA256;
}

static imc_status botan_backend_random(uint8_t *out, size_t len) { return imc_sysrand(out, len); }

/* ---- Key agreement and signatures over key objects ---------------------- */

/* out[0..n) = the raw key agreement of key with the peer's encoding (the
 * u-coordinate, or 04 || x || y). Botan refuses a P-256 point off the
 * curve while decoding it: IMC_ERR_WEAK_KEY, as any refusal here. */
static imc_status agree(uint8_t *out, size_t n, botan_privkey_t key, const uint8_t *peer,
                        size_t peer_len)
{
    botan_pk_op_ka_t op = NULL;
    size_t len = n;
    imc_status st = IMC_ERR_CRYPTO;
    if (botan_pk_op_key_agreement_create(&op, key, "Raw", 0) == 0)
        st = botan_pk_op_key_agreement(op, out, &len, peer, peer_len, NULL, 0) == 0 && len == n
                 ? IMC_OK
                 : IMC_ERR_WEAK_KEY;
    botan_pk_op_key_agreement_destroy(op);
    if (st != IMC_OK)
        imc_wipe(out, n);
    return st;
}

/* sig[0..n) = key's signature of msg with `padding` ("Pure" for Ed25519). */
static imc_status sign(uint8_t *sig, size_t n, botan_privkey_t key, const char *padding,
                       const uint8_t *msg, size_t msg_len)
{
    botan_pk_op_sign_t op = NULL;
    botan_rng_t rng = NULL;
    size_t len = n;
    int rc = botan_rng_init(&rng, "system") != 0 ||
             botan_pk_op_sign_create(&op, key, padding, 0) != 0 ||
             botan_pk_op_sign_update(op, nz(msg), msg_len) != 0 ||
             botan_pk_op_sign_finish(op, rng, sig, &len) != 0 || len != n;
    botan_pk_op_sign_destroy(op);
    botan_rng_destroy(rng);
    if (rc) {
        imc_wipe(sig, n);
        return IMC_ERR_CRYPTO;
    }
    return IMC_OK;
}

/* IMC_OK if sig[0..n) is key's signature of msg; any failure IMC_ERR_AUTH. */
static imc_status verify(const uint8_t *sig, size_t n, botan_pubkey_t key, const char *padding,
                         const uint8_t *msg, size_t msg_len)
{
    botan_pk_op_verify_t op = NULL;
    int ok = botan_pk_op_verify_create(&op, key, padding, 0) == 0 &&
             botan_pk_op_verify_update(op, nz(msg), msg_len) == 0 &&
             botan_pk_op_verify_finish(op, sig, n) == 0;
    botan_pk_op_verify_destroy(op);
    return ok ? IMC_OK : IMC_ERR_AUTH;
}

/* pk = the public key of the private key sk, by the library's load and
 * get functions (X25519 or Ed25519). */
static imc_status public_of(uint8_t pk[32], const uint8_t sk[32],
                            int (*load)(botan_privkey_t *, const uint8_t[32]),
                            int (*get)(botan_pubkey_t, uint8_t[32]))
{
    botan_privkey_t key = NULL;
    botan_pubkey_t pub = NULL;
    int rc = load(&key, sk) != 0 || botan_privkey_export_pubkey(&pub, key) != 0 ||
             get(pub, pk) != 0;
    botan_pubkey_destroy(pub);
    botan_privkey_destroy(key);
    return rc ? IMC_ERR_CRYPTO : IMC_OK;
}

/* ---- X25519 ------------------------------------------------------------ */

static imc_status botan_backend_x25519_public(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                              const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    return public_of(pk, sk, botan_privkey_load_x25519, botan_pubkey_x25519_get_pubkey);
}

static imc_status botan_backend_x25519(uint8_t shared[IMC_X25519_SHARED_BYTES],
                                       const uint8_t sk[IMC_X25519_SECRET_BYTES],
                                       const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    botan_privkey_t key = NULL;
    imc_status st = botan_privkey_load_x25519(&key, sk) == 0
                        ? agree(shared, IMC_X25519_SHARED_BYTES, key, pk, IMC_X25519_PUBLIC_BYTES)
                        : IMC_ERR_CRYPTO;
    botan_privkey_destroy(key);
    return st;
}

/* ---- Ed25519 ----------------------------------------------------------- */

static imc_status botan_backend_ed25519_public(uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                               const uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    return public_of(pk, sk, botan_privkey_load_ed25519, botan_pubkey_ed25519_get_pubkey);
}

/* Botan derives the public key from the seed; pk, the key pair's own
 * (imcore/crypto.h), is that key, so the signature is the same as on the
 * backends that take pk as given. */
static imc_status botan_backend_ed25519_sign(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                             const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                             const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                             const uint8_t *msg, size_t msg_len)
{
    (void)pk;
    botan_privkey_t key = NULL;
    imc_status st =
        botan_privkey_load_ed25519(&key, sk) == 0
            ? sign(sig, IMC_ED25519_SIGNATURE_BYTES, key, "Pure", msg, msg_len)
            : IMC_ERR_CRYPTO;
    botan_privkey_destroy(key);
    return st;
}

static imc_status botan_backend_ed25519_verify(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                               const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                               const uint8_t *msg, size_t msg_len)
{
    botan_pubkey_t key = NULL;
    imc_status st = botan_pubkey_load_ed25519(&key, pk) == 0
                        ? verify(sig, IMC_ED25519_SIGNATURE_BYTES, key, "Pure", msg, msg_len)
                        : IMC_ERR_AUTH;
    botan_pubkey_destroy(key);
    return st;
}

/* ---- P-256 ------------------------------------------------------------- */

/* A P-256 private key of algorithm ecdh (ECDH) or ecdsa (ECDSA) from the
 * scalar sk; 0 on success. */
static int p256_private(botan_privkey_t *key, int ecdsa, const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    botan_mp_t d = NULL;
    *key = NULL;
    int rc = botan_mp_init(&d) != 0 || botan_mp_from_bin(d, sk, IMC_P256_SECRET_BYTES) != 0 ||
             (ecdsa ? botan_privkey_load_ecdsa(key, d, P256_CURVE)
                    : botan_privkey_load_ecdh(key, d, P256_CURVE)) != 0;
    botan_mp_destroy(d); /* a BigInt: zeroised */
    return rc;
}

/* 1 if the point of the loaded key, (x, y), satisfies y^2 = x^3 + ax + b
 * (mod p), with the curve's p, a and b as Botan has them. Botan loads an
 * ECDSA public key from coordinates without this check, and
 * botan_pubkey_check_key() also tests the group's primes (5 M
 * instructions a call, more than the verification), so the check is made
 * here with Botan's integers. No point with y = 0 is on P-256, so (0, 0),
 * the usual stand-in for the point at infinity, is refused too. */
static int p256_on_curve(botan_pubkey_t key, const botan_mp_t x, const botan_mp_t y)
{
    botan_mp_t p = NULL, a = NULL, b = NULL, one = NULL, l = NULL, r = NULL, t = NULL;
    int ok = botan_mp_init(&p) == 0 && botan_mp_init(&a) == 0 && botan_mp_init(&b) == 0 &&
             botan_mp_init(&one) == 0 && botan_mp_init(&l) == 0 && botan_mp_init(&r) == 0 &&
             botan_mp_init(&t) == 0 && botan_pubkey_get_field(p, key, "p") == 0 &&
             botan_pubkey_get_field(a, key, "a") == 0 &&
             botan_pubkey_get_field(b, key, "b") == 0 && botan_mp_set_from_int(one, 1) == 0 &&
             botan_mp_mod_mul(l, y, y, p) == 0 &&   /* y^2 */
             botan_mp_mod_mul(r, x, x, p) == 0 &&   /* x^2 */
             botan_mp_mod_mul(r, r, x, p) == 0 &&   /* x^3 */
             botan_mp_mod_mul(t, a, x, p) == 0 &&   /* ax */
             botan_mp_add(r, r, t) == 0 && botan_mp_add(r, r, b) == 0 &&
             botan_mp_mod_mul(r, r, one, p) == 0 && /* reduced */
             botan_mp_equal(l, r) == 1;
    botan_mp_destroy(t);
    botan_mp_destroy(r);
    botan_mp_destroy(l);
    botan_mp_destroy(one);
    botan_mp_destroy(b);
    botan_mp_destroy(a);
    botan_mp_destroy(p);
    return ok;
}

/* An ECDSA public key from 04 || x || y, checked on the curve; 0 on
 * success. */
static int p256_public_key(botan_pubkey_t *key, const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    botan_mp_t x = NULL, y = NULL;
    *key = NULL;
    int rc = botan_mp_init(&x) != 0 || botan_mp_init(&y) != 0 ||
             botan_mp_from_bin(x, pk + 1, 32) != 0 || botan_mp_from_bin(y, pk + 33, 32) != 0 ||
             botan_pubkey_load_ecdsa(key, x, y, P256_CURVE) != 0 || !p256_on_curve(*key, x, y);
    botan_mp_destroy(x);
    botan_mp_destroy(y);
    if (rc) {
        botan_pubkey_destroy(*key);
        *key = NULL;
    }
    return rc;
}

static imc_status botan_backend_p256_public(uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                            const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    botan_privkey_t key = NULL;
    size_t len = IMC_P256_PUBLIC_BYTES;
    int rc = p256_private(&key, 0, sk) != 0 ||
             botan_pk_op_key_agreement_export_public(key, pk, &len) != 0 ||
             len != IMC_P256_PUBLIC_BYTES;
    botan_privkey_destroy(key);
    return rc ? IMC_ERR_CRYPTO : IMC_OK;
}

static imc_status botan_backend_p256_ecdh(uint8_t shared[IMC_P256_SHARED_BYTES],
                                          const uint8_t sk[IMC_P256_SECRET_BYTES],
                                          const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    botan_privkey_t key = NULL;
    imc_status st = p256_private(&key, 0, sk) == 0
                        ? agree(shared, IMC_P256_SHARED_BYTES, key, pk, IMC_P256_PUBLIC_BYTES)
                        : IMC_ERR_CRYPTO;
    botan_privkey_destroy(key);
    return st;
}

static imc_status botan_backend_ecdsa_p256_sign(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                                const uint8_t sk[IMC_P256_SECRET_BYTES],
                                                const uint8_t *msg, size_t msg_len)
{
    botan_privkey_t key = NULL;
    imc_status st =
        p256_private(&key, 1, sk) == 0
            ? sign(sig, IMC_ECDSA_P256_SIGNATURE_BYTES, key, ECDSA_PADDING, msg, msg_len)
            : IMC_ERR_CRYPTO;
    botan_privkey_destroy(key);
    return st;
}

static imc_status botan_backend_ecdsa_p256_verify(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                                  const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                                  const uint8_t *msg, size_t msg_len)
{
    botan_pubkey_t key = NULL;
    imc_status st =
        p256_public_key(&key, pk) == 0
            ? verify(sig, IMC_ECDSA_P256_SIGNATURE_BYTES, key, ECDSA_PADDING, msg, msg_len)
            : IMC_ERR_AUTH;
    botan_pubkey_destroy(key);
    return st;
}

/* ---- Prepared keys ----------------------------------------------------- */

/* The loaded key objects (see the top of this file): a P-256 secret has
 * one for ECDH and one for ECDSA (Botan ties a key to its algorithm). */
typedef struct botan_key {
    botan_privkey_t priv, priv2;
    botan_pubkey_t pub;
} botan_key;

static void botan_backend_key_free(imc_key_kind kind, void *native)
{
    (void)kind;
    botan_key *k = native;
    botan_privkey_destroy(k->priv); /* zeroised by Botan */
    botan_privkey_destroy(k->priv2);
    botan_pubkey_destroy(k->pub);
    free(k);
}

static imc_status botan_backend_key_import(void **native, imc_key_kind kind, const uint8_t *raw)
{
    *native = NULL;
    botan_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return IMC_ERR_NOMEM;
    int rc = 1;
    imc_status fail = IMC_ERR_CRYPTO;
    switch (kind) {
    case IMC_KEY_X25519_SECRET: rc = botan_privkey_load_x25519(&k->priv, raw) != 0; break;
    case IMC_KEY_ED25519_SECRET: rc = botan_privkey_load_ed25519(&k->priv, raw) != 0; break;
    case IMC_KEY_ED25519_PUBLIC: rc = botan_pubkey_load_ed25519(&k->pub, raw) != 0; break;
    case IMC_KEY_P256_SECRET:
        rc = p256_private(&k->priv, 0, raw) != 0 || p256_private(&k->priv2, 1, raw) != 0;
        break;
    case IMC_KEY_P256_PUBLIC:
        rc = p256_public_key(&k->pub, raw) != 0;
        fail = IMC_ERR_WEAK_KEY; /* the one way this import fails on input */
        break;
    }
    if (rc) {
        botan_backend_key_free(kind, k);
        return fail;
    }
    *native = k;
    return IMC_OK;
}

static imc_status botan_backend_x25519_prepared(uint8_t shared[IMC_X25519_SHARED_BYTES], void *sk,
                                                const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    return agree(shared, IMC_X25519_SHARED_BYTES, ((botan_key *)sk)->priv, pk,
                 IMC_X25519_PUBLIC_BYTES);
}

static imc_status botan_backend_ed25519_sign_prepared(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                                      void *sk, const uint8_t *msg,
                                                      size_t msg_len)
{
    return sign(sig, IMC_ED25519_SIGNATURE_BYTES, ((botan_key *)sk)->priv, "Pure", msg, msg_len);
}

static imc_status botan_backend_ed25519_verify_prepared(
    const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], void *pk, const uint8_t *msg, size_t msg_len)
{
    return verify(sig, IMC_ED25519_SIGNATURE_BYTES, ((botan_key *)pk)->pub, "Pure", msg, msg_len);
}

static imc_status botan_backend_p256_ecdh_prepared(uint8_t shared[IMC_P256_SHARED_BYTES], void *sk,
                                                   const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    return agree(shared, IMC_P256_SHARED_BYTES, ((botan_key *)sk)->priv, pk,
                 IMC_P256_PUBLIC_BYTES);
}

static imc_status botan_backend_ecdsa_sign_prepared(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                                    void *sk,
                                                    const uint8_t raw_sk[IMC_P256_SECRET_BYTES],
                                                    const uint8_t *msg, size_t msg_len)
{
    (void)raw_sk;
    return sign(sig, IMC_ECDSA_P256_SIGNATURE_BYTES, ((botan_key *)sk)->priv2, ECDSA_PADDING, msg,
                msg_len);
}

static imc_status botan_backend_ecdsa_verify_prepared(
    const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], void *pk, const uint8_t *msg,
    size_t msg_len)
{
    return verify(sig, IMC_ECDSA_P256_SIGNATURE_BYTES, ((botan_key *)pk)->pub, ECDSA_PADDING, msg,
                  msg_len);
}

/* ---- AEAD -------------------------------------------------------------- */

/* One-shot seal (decrypt 0) or open (decrypt 1): out receives written
 * bytes; Botan's FFI processes a copy of the input, so out may equal in,
 * and a failed open writes nothing. */
static int aead_run(imc_aead aead, int decrypt, uint8_t *out, size_t out_len,
                    const uint8_t key[IMC_AEAD_KEY_BYTES],
                    const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad, size_t ad_len,
                    const uint8_t *in, size_t in_len)
{
    botan_cipher_t c = NULL;
    uint8_t none[1]; /* for an empty open's output */
    size_t written = 0, consumed = 0;
    const char *name = aead == IMC_AEAD_CHACHA20POLY1305 ? "ChaCha20Poly1305" : "AES-256/GCM";
    int rc = botan_cipher_init(&c, name,
                               decrypt ? BOTAN_CIPHER_INIT_FLAG_DECRYPT
                                       : BOTAN_CIPHER_INIT_FLAG_ENCRYPT);
    rc = rc != 0 ? rc : botan_cipher_set_key(c, key, IMC_AEAD_KEY_BYTES);
    rc = rc != 0 ? rc : botan_cipher_set_associated_data(c, nz(ad), ad_len);
    rc = rc != 0 ? rc : botan_cipher_start(c, nonce, IMC_AEAD_NONCE_BYTES);
    rc = rc != 0 ? rc
                 : botan_cipher_update(c, BOTAN_CIPHER_UPDATE_FLAG_FINAL,
                                       out != NULL ? out : none, out_len,
                                       &written, nz(in), in_len, &consumed);
    if (rc == 0 && (written != out_len || consumed != in_len))
        rc = -1;
    botan_cipher_destroy(c); /* zeroises the key schedule */
    return rc;
}

static int aead_known(imc_aead aead)
{
    return aead == IMC_AEAD_CHACHA20POLY1305 || aead == IMC_AEAD_AES256GCM;
}

static imc_status botan_backend_aead_seal(imc_aead aead, uint8_t *out,
                                          const uint8_t key[IMC_AEAD_KEY_BYTES],
                                          const uint8_t nonce[IMC_AEAD_NONCE_BYTES],
                                          const uint8_t *ad, size_t ad_len, const uint8_t *in,
                                          size_t in_len)
{
    if (!aead_known(aead))
        return IMC_ERR_UNSUPPORTED;
    return aead_run(aead, 0, out, in_len + IMC_AEAD_TAG_BYTES, key, nonce, ad, ad_len, in,
                    in_len) == 0
               ? IMC_OK
               : IMC_ERR_CRYPTO;
}

static imc_status botan_backend_aead_open(imc_aead aead, uint8_t *out,
                                          const uint8_t key[IMC_AEAD_KEY_BYTES],
                                          const uint8_t nonce[IMC_AEAD_NONCE_BYTES],
                                          const uint8_t *ad, size_t ad_len, const uint8_t *in,
                                          size_t in_len)
{
    if (!aead_known(aead))
        return IMC_ERR_UNSUPPORTED;
    size_t ct_len = in_len - IMC_AEAD_TAG_BYTES;
    if (aead_run(aead, 1, out, ct_len, key, nonce, ad, ad_len, in, in_len) != 0) {
        imc_wipe(out, ct_len);
        return IMC_ERR_AUTH;
    }
    return IMC_OK;
}

/* ---- Hashing ----------------------------------------------------------- */

static imc_status botan_backend_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in,
                                       size_t in_len)
{
    botan_hash_t h = NULL;
    int rc = botan_hash_init(&h, "SHA-256", 0) != 0 || botan_hash_update(h, nz(in), in_len) != 0 ||
             botan_hash_final(h, out) != 0;
    botan_hash_destroy(h);
    return rc ? IMC_ERR_CRYPTO : IMC_OK;
}

static imc_status botan_backend_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                            size_t key_len, const uint8_t *msg, size_t msg_len)
{
    botan_mac_t m = NULL;
    int rc = botan_mac_init(&m, "HMAC(SHA-256)", 0) != 0 ||
             botan_mac_set_key(m, nz(key), key_len) != 0 ||
             botan_mac_update(m, nz(msg), msg_len) != 0 || botan_mac_final(m, out) != 0;
    botan_mac_destroy(m); /* zeroises the key */
    return rc ? IMC_ERR_CRYPTO : IMC_OK;
}

/* Botan's RFC 5869 (HKDF(SHA-256): extract, then expand). */
static imc_status botan_backend_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                                            size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                            const uint8_t *info, size_t info_len)
{
    return botan_kdf("HKDF(SHA-256)", out, out_len, nz(ikm), ikm_len, nz(salt), salt_len,
                     nz(info), info_len) == 0
               ? IMC_OK
               : IMC_ERR_CRYPTO;
}

const imc_backend imc_backend_botan = {
    .name = "botan",
    .init = NULL,
    .version = botan_backend_version,
    .caps = botan_backend_caps,
    .random = botan_backend_random,
    .x25519_public = botan_backend_x25519_public,
    .x25519 = botan_backend_x25519,
    .ed25519_public = botan_backend_ed25519_public,
    .ed25519_sign = botan_backend_ed25519_sign,
    .ed25519_verify = botan_backend_ed25519_verify,
    .p256_public = botan_backend_p256_public,
    .p256_ecdh = botan_backend_p256_ecdh,
    .ecdsa_p256_sign = botan_backend_ecdsa_p256_sign,
    .ecdsa_p256_verify = botan_backend_ecdsa_p256_verify,
    .aead_seal = botan_backend_aead_seal,
    .aead_open = botan_backend_aead_open,
    .sha256 = botan_backend_sha256,
    .hmac_sha256 = botan_backend_hmac_sha256,
    .hkdf_sha256 = botan_backend_hkdf_sha256,
    .key_import = botan_backend_key_import,
    .key_free = botan_backend_key_free,
    .x25519_prepared = botan_backend_x25519_prepared,
    .ed25519_sign_prepared = botan_backend_ed25519_sign_prepared,
    .ed25519_verify_prepared = botan_backend_ed25519_verify_prepared,
    .p256_ecdh_prepared = botan_backend_p256_ecdh_prepared,
    .ecdsa_p256_sign_prepared = botan_backend_ecdsa_sign_prepared,
    .ecdsa_p256_verify_prepared = botan_backend_ecdsa_verify_prepared,
};
