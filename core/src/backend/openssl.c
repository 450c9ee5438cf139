/* The OpenSSL 3.0 backend.
 *
 * OpenSSL 3.0 looks algorithms up by name in a locked provider store: the
 * legacy EVP_sha256()-style getters and every EVP_*Init on a name fetch
 * again on each call. We fetch the ciphers and the digest once (init, under
 * pthread_once) and build the P-256 group once, and keep them read-only in
 * `ossl` below, the backend's only static state. Measured on this project's
 * dev machine (AMD EPYC, 2 vCPUs, OpenSSL 3.0.19), 100k calls each:
 *   ChaCha20-Poly1305 seal, 64 bytes: 1067 ns with EVP_chacha20_poly1305(),
 *     668 ns pre-fetched (656 ns reusing the context, so a context per call
 *     costs nothing worth keeping state for); AES-256-GCM 969 vs 632 ns.
 *   SHA-256, 64 bytes: 477 ns with EVP_sha256(), 215 ns pre-fetched.
 *   HMAC-SHA-256, 64 bytes: HMAC() 1616 ns, EVP_MAC 1383 ns (926 ns with a
 *     duplicated template), by hand over the pre-fetched digest 464 ns.
 *   HKDF (64-byte output): EVP_KDF 3.7 us. EVP_KDF's HKDF also refuses a
 *     NULL empty salt or IKM, which the vtable allows, so HKDF is done by
 *     hand over the HMAC above (RFC 5869 is two loops).
 *   X25519 and Ed25519: importing a private key alone
 *     (EVP_PKEY_new_raw_private_key_ex) makes OpenSSL compute its public
 *     key, a scalar multiplication of ~45 us; X25519 derivation took
 *     ~95 us and Ed25519 signing ~100 us, half of it for a public key they
 *     do not need or already have. Imported with a public key alongside
 *     (ecx_import() below), derivation is ~47 us and signing ~54 us.
 *     Creating the import context fetches key management (~1.5 us per
 *     call); a shared pre-fetched one would save that but OpenSSL forbids
 *     using an EVP_PKEY_CTX from two threads at once.
 *   P-256 through EVP_PKEY_fromdata + EVP_DigestSign/derive: sign 77 us,
 *     verify 128 us, ECDH 127 us. Through EC_KEY on a shared group: sign
 *     26 us, verify 79 us, ECDH 56 us. The EVP route rebuilds the curve
 *     (EC_GROUP_new_by_curve_name alone is 12 us, EC_GROUP_dup 0.85 us) and
 *     fetches key management and the signature algorithm on every call, and
 *     OpenSSL 3.0 has no way to hand it pre-fetched ones. So P-256 uses the
 *     EC_KEY API, which 3.0 deprecates but still ships and which its own
 *     provider wraps: we ask for the 1.1.1 API level so the declarations come
 *     without deprecation warnings. A build of OpenSSL without deprecated
 *     APIs fails to compile here, loudly, rather than misbehave. */
#define OPENSSL_API_COMPAT 10101

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>
#include <openssl/proverr.h>
#include <openssl/rand.h>

#include "backend/backend_impl.h"
#include "backend/rfc6979.h"

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "the OpenSSL backend needs OpenSSL 3.0 or later"
#endif

#define SHA256_BLOCK_BYTES 64
#define P256_SCALAR_BYTES 32

/* EVP lengths are int: longer buffers go through in chunks of this size. */
#define EVP_CHUNK ((size_t)1 << 30)

/* Written only by ossl_init_once(), read-only afterwards. */
static struct {
    EVP_CIPHER *chacha20poly1305;
    EVP_CIPHER *aes256gcm;
    EVP_MD *sha256;
    /* Shared read-only; every EC_KEY gets its own copy (EC_KEY_set_group
     * duplicates it), points and the order are only read from it. */
    EC_GROUP *p256;
    imc_status status;
} ossl;

static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;

/* A non-NULL pointer for empty inputs passed as NULL. */
static const uint8_t empty[1];

static void ossl_init_once(void)
{
    ossl.chacha20poly1305 = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    ossl.aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    ossl.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    ossl.p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (ossl.chacha20poly1305 != NULL && ossl.aes256gcm != NULL && ossl.sha256 != NULL &&
        ossl.p256 != NULL) {
        ossl.status = IMC_OK;
        return;
    }
    EVP_CIPHER_free(ossl.chacha20poly1305);
    EVP_CIPHER_free(ossl.aes256gcm);
    EVP_MD_free(ossl.sha256);
    EC_GROUP_free(ossl.p256);
    ossl.chacha20poly1305 = NULL;
    ossl.aes256gcm = NULL;
    ossl.sha256 = NULL;
    ossl.p256 = NULL;
    ossl.status = IMC_ERR_CRYPTO;
    ERR_clear_error();
}

static imc_status ossl_init(void)
{
    if (pthread_once(&ossl_once, ossl_init_once) != 0)
        return IMC_ERR_CRYPTO;
    return ossl.status;
}

static const char *ossl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

static uint32_t ossl_caps(void)
{
    return IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_AES256GCM |
           IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_SHA256;
}

/* Every failure path ends here, so that OpenSSL's per-thread error queue
 * does not grow with each rejected input. */
static imc_status fail(imc_status st)
{
    ERR_clear_error();
    return st;
}

static imc_status ossl_random(uint8_t *out, size_t len)
{
    while (len > 0) {
        size_t n = len < EVP_CHUNK ? len : EVP_CHUNK;
        if (RAND_bytes(out, (int)n) != 1)
            return fail(IMC_ERR_CRYPTO);
        out += n;
        len -= n;
    }
    return IMC_OK;
}

/* ---- X25519 and Ed25519 keys ------------------------------------------- */

#define ECX_KEY_BYTES 32

/* A context for EVP_PKEY_fromdata() on algorithm `name` ("X25519" or
 * "ED25519"), or NULL. Creating it fetches the key management (about
 * 1.5 us); one per call, since OpenSSL forbids sharing an EVP_PKEY_CTX
 * between threads and EVP_PKEY_CTX_dup() cannot copy a fromdata one. */
static EVP_PKEY_CTX *ecx_import_ctx(const char *name)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
    if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) != 1) {
        EVP_PKEY_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* The key pair (sk, pk), or the public key pk alone when sk is NULL; NULL
 * on failure. Given both, OpenSSL stores pk as it is, without computing or
 * checking it (ossl_ecx_key_fromdata() only derives the public key when
 * none is given); EVP_PKEY_new_raw_private_key_ex() passes the private key
 * alone and so costs a scalar multiplication per import. The copies exist
 * because OSSL_PARAM takes non-const buffers; OpenSSL copies the private
 * key into its secure heap and EVP_PKEY_free() wipes it there. */
static EVP_PKEY *ecx_import(EVP_PKEY_CTX *ctx, const uint8_t *sk,
                            const uint8_t pk[ECX_KEY_BYTES])
{
    uint8_t priv[ECX_KEY_BYTES], pub[ECX_KEY_BYTES];
    OSSL_PARAM params[3], *p = params;
    EVP_PKEY *key = NULL;
    int selection = EVP_PKEY_PUBLIC_KEY;
    if (sk != NULL) {
        memcpy(priv, sk, sizeof priv);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, priv, sizeof priv);
        selection = EVP_PKEY_KEYPAIR;
    }
    memcpy(pub, pk, sizeof pub);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub);
    *p = OSSL_PARAM_construct_end();
    if (EVP_PKEY_fromdata(ctx, &key, selection, params) != 1)
        key = NULL; /* EVP_PKEY_fromdata() frees what it allocated */
    OPENSSL_cleanse(priv, sizeof priv);
    return key;
}

/* ---- X25519 ------------------------------------------------------------ */

/* shared = X25519(sk, pk). IMC_ERR_WEAK_KEY if OpenSSL refuses an all-zero
 * result, IMC_ERR_CRYPTO on other failures; shared is wiped on failure.
 *
 * The private key is imported with an all-zero placeholder as its public
 * key, so that OpenSSL does not compute the real one (a second scalar
 * multiplication, which doubled the cost of every derivation). This is safe:
 * - the exchange reads only the private scalar and the peer's u-coordinate
 *   (OpenSSL's ecx_derive() calls ossl_x25519(secret, key->privkey,
 *   peer->pubkey)); the own public key is never read on this path;
 * - OpenSSL neither computes nor checks the placeholder at import (see
 *   ecx_import()); should a later version check key pairs there, the import
 *   fails and so does every derivation, loudly (IMC_ERR_CRYPTO and failing
 *   KATs), never with a wrong secret;
 * - the key is only ever used for this exchange (here, or as a prepared
 *   key in ossl_x25519_prepared()), so no other operation (signing,
 *   export, a public-key check) can see the placeholder; u = 0 is a
 *   small-order point, nobody's public key.
 * The results are checked against RFC 7748 (test_kat_rfc) and against
 * libsodium (test_backend, fuzz_backend_diff). */
static const uint8_t x25519_placeholder_pk[ECX_KEY_BYTES] = {0};

/* The private key sk as an EVP_PKEY with the placeholder public key (see
 * above), made with import context imp, or NULL. */
static EVP_PKEY *x25519_private_with(EVP_PKEY_CTX *imp, const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    return imp != NULL ? ecx_import(imp, sk, x25519_placeholder_pk) : NULL;
}

/* shared = X25519(key, pk) for an imported private key, the peer imported
 * with imp (NULL: fails). */
static imc_status x25519_derive_with(uint8_t shared[IMC_X25519_SHARED_BYTES], EVP_PKEY *key,
                                     EVP_PKEY_CTX *imp, const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    imc_status st = IMC_ERR_CRYPTO;
    size_t len = IMC_X25519_SHARED_BYTES;
    EVP_PKEY *peer = imp != NULL ? ecx_import(imp, NULL, pk) : NULL;
    EVP_PKEY_CTX *ctx = key != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL) : NULL;
    /* No peer validation: OpenSSL has nothing to check on an X25519 public
     * key; a small-order one shows up as the all-zero result below. */
    if (peer != NULL && ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
        EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1) {
        if (EVP_PKEY_derive(ctx, shared, &len) == 1 && len == IMC_X25519_SHARED_BYTES) {
            st = IMC_OK;
        } else if (ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_PROV &&
                   ERR_GET_REASON(ERR_peek_last_error()) == PROV_R_FAILED_DURING_DERIVATION) {
            /* OpenSSL refuses an all-zero shared secret itself; report it
             * as the policy layer would. */
            st = IMC_ERR_WEAK_KEY;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    if (st != IMC_OK) {
        OPENSSL_cleanse(shared, IMC_X25519_SHARED_BYTES);
        return fail(st);
    }
    return IMC_OK;
}

/* shared = X25519(key, pk) for a prepared private key. */
static imc_status x25519_derive_key(uint8_t shared[IMC_X25519_SHARED_BYTES], EVP_PKEY *key,
                                    const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    EVP_PKEY_CTX *imp = ecx_import_ctx("X25519");
    imc_status st = x25519_derive_with(shared, key, imp, pk);
    EVP_PKEY_CTX_free(imp);
    return st;
}

/* The plain exchange: one import context for both keys (creating one
 * fetches the key management, about 1.5 us, so not twice). */
static imc_status x25519_derive(uint8_t shared[IMC_X25519_SHARED_BYTES],
                                const uint8_t sk[IMC_X25519_SECRET_BYTES],
                                const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    EVP_PKEY_CTX *imp = ecx_import_ctx("X25519");
    EVP_PKEY *key = x25519_private_with(imp, sk);
    imc_status st = key != NULL ? x25519_derive_with(shared, key, imp, pk) : fail(IMC_ERR_CRYPTO);
    EVP_PKEY_free(key); /* wipes the private key */
    EVP_PKEY_CTX_free(imp);
    if (st != IMC_OK)
        OPENSSL_cleanse(shared, IMC_X25519_SHARED_BYTES);
    return st;
}

/* RFC 7748 section 6.1: the public key is X25519(sk, 9). Through the
 * exchange rather than by importing the private key alone: OpenSSL 3.0
 * computes an imported key's public key with the generic fixed-base code,
 * which is slower on x86-64 than the ladder the exchange runs (46 vs 43 us
 * here). The base point has prime order and a clamped scalar is never a
 * multiple of it, so the result is never all-zero. */
static imc_status ossl_x25519_public(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                     const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    static const uint8_t base_point[IMC_X25519_PUBLIC_BYTES] = {9};
    return x25519_derive(pk, sk, base_point) == IMC_OK ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status ossl_x25519(uint8_t shared[IMC_X25519_SHARED_BYTES],
                              const uint8_t sk[IMC_X25519_SECRET_BYTES],
                              const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    return x25519_derive(shared, sk, pk);
}

/* ---- Ed25519 ----------------------------------------------------------- */

static imc_status ossl_ed25519_public(uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                      const uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    size_t len = IMC_ED25519_PUBLIC_BYTES;
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, sk,
                                                    IMC_ED25519_SECRET_BYTES);
    int ok = key != NULL && EVP_PKEY_get_raw_public_key(key, pk, &len) == 1 &&
             len == IMC_ED25519_PUBLIC_BYTES;
    EVP_PKEY_free(key);
    return ok ? IMC_OK : fail(IMC_ERR_CRYPTO);
}

/* Signs with the caller's pk as the signer's public key, as libsodium does
 * (its secret key is seed || pk): the key is imported with it, which saves
 * OpenSSL re-deriving it from the seed (a scalar multiplication, half the
 * cost of a signature). pk must be the key pair's own (imcore/crypto.h):
 * R does not depend on pk, so signatures of one message under two public
 * keys for one seed reveal the secret scalar. Both backends now share this
 * (docs/validation-policy.md, "Known gaps"). */
/* An Ed25519 key pair (sk, pk) or public key (sk NULL), or NULL. */
static EVP_PKEY *ed25519_key(const uint8_t *sk, const uint8_t pk[IMC_ED25519_PUBLIC_BYTES])
{
    if (sk == NULL)
        return EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, pk,
                                              IMC_ED25519_PUBLIC_BYTES);
    EVP_PKEY_CTX *imp = ecx_import_ctx("ED25519");
    EVP_PKEY *key = imp != NULL ? ecx_import(imp, sk, pk) : NULL;
    EVP_PKEY_CTX_free(imp);
    return key;
}

static imc_status ed25519_sign_key(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], EVP_PKEY *key,
                                   const uint8_t *msg, size_t msg_len)
{
    size_t len = IMC_ED25519_SIGNATURE_BYTES;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, key, NULL) == 1 &&
             EVP_DigestSign(md, sig, &len, msg != NULL ? msg : empty, msg_len) == 1 &&
             len == IMC_ED25519_SIGNATURE_BYTES;
    EVP_MD_CTX_free(md);
    return ok ? IMC_OK : fail(IMC_ERR_CRYPTO);
}

static imc_status ed25519_verify_key(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                     EVP_PKEY *key, const uint8_t *msg, size_t msg_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, key, NULL) == 1 &&
             EVP_DigestVerify(md, sig, IMC_ED25519_SIGNATURE_BYTES, msg != NULL ? msg : empty,
                              msg_len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? IMC_OK : fail(IMC_ERR_AUTH);
}

/* Signs with the caller's pk as the signer's public key, as libsodium does
 * (its secret key is seed || pk): the key is imported with it, which saves
 * OpenSSL re-deriving it from the seed (a scalar multiplication, half the
 * cost of a signature). pk must be the key pair's own (imcore/crypto.h):
 * R does not depend on pk, so signatures of one message under two public
 * keys for one seed reveal the secret scalar. Every backend shares this
 * (docs/validation-policy.md, "Known gaps"). */
static imc_status ossl_ed25519_sign(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                    const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                    const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                    const uint8_t *msg, size_t msg_len)
{
    EVP_PKEY *key = ed25519_key(sk, pk);
    imc_status st = key != NULL ? ed25519_sign_key(sig, key, msg, msg_len) : fail(IMC_ERR_CRYPTO);
    EVP_PKEY_free(key);
    return st;
}

static imc_status ossl_ed25519_verify(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                      const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                      const uint8_t *msg, size_t msg_len)
{
    EVP_PKEY *key = ed25519_key(NULL, pk);
    imc_status st = key != NULL ? ed25519_verify_key(sig, key, msg, msg_len) : fail(IMC_ERR_AUTH);
    EVP_PKEY_free(key);
    return st;
}

/* ---- SHA-256, HMAC, HKDF ----------------------------------------------- */

static int md_update(EVP_MD_CTX *md, const uint8_t *p, size_t n)
{
    return n == 0 || EVP_DigestUpdate(md, p, n) == 1;
}

static imc_status ossl_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in, size_t in_len)
{
    unsigned int len = 0;
    if (EVP_Digest(in != NULL ? in : empty, in_len, out, &len, ossl.sha256, NULL) != 1 ||
        len != IMC_SHA256_BYTES)
        return fail(IMC_ERR_CRYPTO);
    return IMC_OK;
}

/* HMAC-SHA-256 (RFC 2104) of a || b || c, on a caller-owned EVP_MD_CTX that
 * HKDF reuses across blocks. By hand over the pre-fetched digest: half the
 * cost of EVP_MAC (see the top of the file). out may alias a, b or c: the
 * message is consumed before out is written. Returns 1 on success. */
static int hmac_sha256_parts(EVP_MD_CTX *md, uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                             size_t key_len, const uint8_t *a, size_t a_len, const uint8_t *b,
                             size_t b_len, const uint8_t *c, size_t c_len)
{
    uint8_t pad[SHA256_BLOCK_BYTES] = {0};
    uint8_t inner[IMC_SHA256_BYTES];
    unsigned int len = 0;
    int ok = 1;

    if (key_len > SHA256_BLOCK_BYTES)
        ok = EVP_DigestInit_ex2(md, ossl.sha256, NULL) == 1 && md_update(md, key, key_len) &&
             EVP_DigestFinal_ex(md, pad, &len) == 1;
    else if (key_len > 0)
        memcpy(pad, key, key_len);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] ^= 0x36;
    ok = ok && EVP_DigestInit_ex2(md, ossl.sha256, NULL) == 1 && md_update(md, pad, sizeof pad) &&
         md_update(md, a, a_len) && md_update(md, b, b_len) && md_update(md, c, c_len) &&
         EVP_DigestFinal_ex(md, inner, &len) == 1;
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    ok = ok && EVP_DigestInit_ex2(md, ossl.sha256, NULL) == 1 && md_update(md, pad, sizeof pad) &&
         md_update(md, inner, sizeof inner) && EVP_DigestFinal_ex(md, out, &len) == 1;
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(inner, sizeof inner);
    return ok;
}

static imc_status ossl_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                   size_t key_len, const uint8_t *msg, size_t msg_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL &&
             hmac_sha256_parts(md, out, key, key_len, msg, msg_len, NULL, 0, NULL, 0);
    EVP_MD_CTX_free(md); /* the provider wipes the digest state */
    return ok ? IMC_OK : fail(IMC_ERR_CRYPTO);
}

/* RFC 5869: PRK = HMAC(salt, IKM); T(i) = HMAC(PRK, T(i-1) || info || i).
 * An empty salt is an all-zero HMAC key, which is what the RFC asks for. */
static imc_status ossl_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                                   size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                   const uint8_t *info, size_t info_len)
{
    if (out_len == 0 || out_len > IMC_HKDF_SHA256_MAX_BYTES)
        return IMC_ERR_ARG;
    uint8_t prk[IMC_SHA256_BYTES], t[IMC_SHA256_BYTES];
    size_t t_len = 0;
    uint8_t counter = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL &&
             hmac_sha256_parts(md, prk, salt, salt_len, ikm, ikm_len, NULL, 0, NULL, 0);
    for (size_t off = 0; ok && off < out_len; off += IMC_SHA256_BYTES) {
        size_t n = out_len - off < IMC_SHA256_BYTES ? out_len - off : IMC_SHA256_BYTES;
        counter++;
        ok = hmac_sha256_parts(md, t, prk, sizeof prk, t, t_len, info, info_len, &counter, 1);
        if (ok)
            memcpy(out + off, t, n);
        t_len = sizeof t;
    }
    EVP_MD_CTX_free(md);
    OPENSSL_cleanse(prk, sizeof prk);
    OPENSSL_cleanse(t, sizeof t);
    if (!ok) {
        OPENSSL_cleanse(out, out_len);
        return fail(IMC_ERR_CRYPTO);
    }
    return IMC_OK;
}

/* ---- P-256 ------------------------------------------------------------- */

/* A P-256 EC_KEY holding the scalar sk (in [1, n-1], checked by the policy
 * layer). EC_KEY_set_private_key marks it constant-time and pads it to a
 * fixed width; EC_KEY_free wipes it. NULL on failure. */
static EC_KEY *p256_key_from_scalar(const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    EC_KEY *key = EC_KEY_new();
    BIGNUM *d = BN_secure_new();
    int ok = key != NULL && d != NULL && EC_KEY_set_group(key, ossl.p256) == 1 &&
             BN_bin2bn(sk, IMC_P256_SECRET_BYTES, d) != NULL &&
             EC_KEY_set_private_key(key, d) == 1;
    BN_clear_free(d);
    if (!ok) {
        EC_KEY_free(key);
        return NULL;
    }
    return key;
}

/* Parses an uncompressed point into *out (freed by the caller). OpenSSL
 * already refuses coordinates >= p and points off the curve while parsing;
 * the explicit checks keep that guarantee visible here. */
static imc_status p256_point_from_bytes(EC_POINT **out, const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    *out = EC_POINT_new(ossl.p256);
    if (*out == NULL)
        return IMC_ERR_CRYPTO;
    if (pk[0] != POINT_CONVERSION_UNCOMPRESSED ||
        EC_POINT_oct2point(ossl.p256, *out, pk, IMC_P256_PUBLIC_BYTES, NULL) != 1 ||
        EC_POINT_is_on_curve(ossl.p256, *out, NULL) != 1 ||
        EC_POINT_is_at_infinity(ossl.p256, *out))
        return IMC_ERR_WEAK_KEY;
    return IMC_OK;
}

static imc_status ossl_p256_public(uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                   const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    EC_KEY *key = p256_key_from_scalar(sk);
    EC_POINT *pub = key != NULL ? EC_POINT_new(ossl.p256) : NULL;
    int ok = pub != NULL &&
             EC_POINT_mul(ossl.p256, pub, EC_KEY_get0_private_key(key), NULL, NULL, NULL) == 1 &&
             EC_POINT_point2oct(ossl.p256, pub, POINT_CONVERSION_UNCOMPRESSED, pk,
                                IMC_P256_PUBLIC_BYTES, NULL) == IMC_P256_PUBLIC_BYTES;
    EC_POINT_free(pub);
    EC_KEY_free(key);
    return ok ? IMC_OK : fail(IMC_ERR_CRYPTO);
}

/* shared = x(key * pk), for a key made by p256_key_from_scalar(). */
static imc_status p256_ecdh_key(uint8_t shared[IMC_P256_SHARED_BYTES], EC_KEY *key,
                                const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    EC_POINT *peer = NULL;
    imc_status st = p256_point_from_bytes(&peer, pk);
    /* Raw ECDH (no KDF): the X coordinate, left-padded to 32 bytes. */
    if (st == IMC_OK && ECDH_compute_key(shared, IMC_P256_SHARED_BYTES, peer, key, NULL) !=
                            IMC_P256_SHARED_BYTES)
        st = IMC_ERR_CRYPTO;
    EC_POINT_free(peer);
    if (st != IMC_OK) {
        OPENSSL_cleanse(shared, IMC_P256_SHARED_BYTES);
        return fail(st);
    }
    return IMC_OK;
}

static imc_status ossl_p256_ecdh(uint8_t shared[IMC_P256_SHARED_BYTES],
                                 const uint8_t sk[IMC_P256_SECRET_BYTES],
                                 const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    EC_KEY *key = p256_key_from_scalar(sk);
    imc_status st = key != NULL ? p256_ecdh_key(shared, key, pk) : fail(IMC_ERR_CRYPTO);
    EC_KEY_free(key);
    return st;
}

/* ECDSA with the RFC 6979 nonce (rfc6979.c): OpenSSL 3.0 has no
 * deterministic ECDSA, but ECDSA_do_sign_ex() takes k^-1 and r from the
 * caller. k^-1 is computed as k^(n-2) mod n with the constant-time modular
 * exponentiation (n is prime), r = x(kG) mod n with the constant-time
 * scalar multiplication OpenSSL uses for any secret scalar. */
static imc_status ecdsa_sign_key(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], EC_KEY *key,
                                 const uint8_t sk[IMC_P256_SECRET_BYTES], const uint8_t *msg,
                                 size_t msg_len)
{
    uint8_t h[IMC_SHA256_BYTES], kb[P256_SCALAR_BYTES];
    if (ossl_sha256(h, msg, msg_len) != IMC_OK ||
        imc_rfc6979_p256_k(kb, sk, h, ossl_hmac_sha256) != IMC_OK)
        return IMC_ERR_CRYPTO;
    const BIGNUM *n = EC_GROUP_get0_order(ossl.p256);
    BN_CTX *bn = BN_CTX_secure_new();
    BIGNUM *k = BN_secure_new(), *kinv = BN_secure_new(), *e = BN_new(), *r = BN_new();
    BIGNUM *x = BN_new();
    EC_POINT *R = EC_POINT_new(ossl.p256);
    ECDSA_SIG *s = NULL;
    int ok = bn != NULL && k != NULL && kinv != NULL && e != NULL && r != NULL && x != NULL &&
             R != NULL && key != NULL && BN_bin2bn(kb, sizeof kb, k) != NULL;
    if (ok)
        BN_set_flags(k, BN_FLG_CONSTTIME);
    ok = ok && BN_sub(e, n, BN_value_one()) == 1 && BN_sub_word(e, 1) == 1 &&
         BN_mod_exp_mont_consttime(kinv, k, e, n, bn, NULL) == 1 &&
         EC_POINT_mul(ossl.p256, R, k, NULL, NULL, bn) == 1 &&
         EC_POINT_get_affine_coordinates(ossl.p256, R, x, NULL, bn) == 1 &&
         BN_nnmod(r, x, n, bn) == 1;
    /* ECDSA_do_sign_ex() reads kinv and r and leaves them to us. */
    s = ok ? ECDSA_do_sign_ex(h, sizeof h, kinv, r, key) : NULL;
    ok = s != NULL &&
         BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, P256_SCALAR_BYTES) == P256_SCALAR_BYTES &&
         BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + P256_SCALAR_BYTES, P256_SCALAR_BYTES) ==
             P256_SCALAR_BYTES;
    ECDSA_SIG_free(s);
    EC_POINT_free(R);
    BN_free(x);
    BN_free(r);
    BN_free(e);
    BN_clear_free(kinv);
    BN_clear_free(k);
    BN_CTX_free(bn);
    OPENSSL_cleanse(kb, sizeof kb);
    return ok ? IMC_OK : fail(IMC_ERR_CRYPTO);
}

static imc_status ossl_ecdsa_p256_sign(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                       const uint8_t sk[IMC_P256_SECRET_BYTES],
                                       const uint8_t *msg, size_t msg_len)
{
    EC_KEY *key = p256_key_from_scalar(sk);
    imc_status st = key != NULL ? ecdsa_sign_key(sig, key, sk, msg, msg_len) : IMC_ERR_CRYPTO;
    EC_KEY_free(key);
    return st;
}

/* 1 if 1 <= v <= n-1. */
static int p256_in_scalar_range(const BIGNUM *v)
{
    return !BN_is_zero(v) && !BN_is_negative(v) && BN_cmp(v, EC_GROUP_get0_order(ossl.p256)) < 0;
}

/* An EC_KEY holding the public point pk, or NULL (also for a point off
 * the curve). */
static EC_KEY *p256_public_key(const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    EC_POINT *pub = NULL;
    EC_KEY *key = NULL;
    int ok = p256_point_from_bytes(&pub, pk) == IMC_OK && (key = EC_KEY_new()) != NULL &&
             EC_KEY_set_group(key, ossl.p256) == 1 && EC_KEY_set_public_key(key, pub) == 1;
    EC_POINT_free(pub);
    if (!ok) {
        EC_KEY_free(key);
        return NULL;
    }
    return key;
}

/* Any failure is IMC_ERR_AUTH. */
static imc_status ecdsa_verify_key(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], EC_KEY *key,
                                   const uint8_t *msg, size_t msg_len)
{
    uint8_t h[IMC_SHA256_BYTES];
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, P256_SCALAR_BYTES, NULL);
    BIGNUM *sv = BN_bin2bn(sig + P256_SCALAR_BYTES, P256_SCALAR_BYTES, NULL);
    /* ECDSA_do_verify checks the ranges too; the policy is ours to state. */
    int ok = s != NULL && r != NULL && sv != NULL && p256_in_scalar_range(r) &&
             p256_in_scalar_range(sv) && ECDSA_SIG_set0(s, r, sv) == 1;
    if (ok)
        r = sv = NULL; /* now owned by s */
    ok = ok && ossl_sha256(h, msg, msg_len) == IMC_OK && ECDSA_do_verify(h, sizeof h, s, key) == 1;
    ECDSA_SIG_free(s);
    BN_free(r);
    BN_free(sv);
    return ok ? IMC_OK : fail(IMC_ERR_AUTH);
}

/* Any failure, a malformed key included, is IMC_ERR_AUTH. */
static imc_status ossl_ecdsa_p256_verify(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                         const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                         const uint8_t *msg, size_t msg_len)
{
    EC_KEY *key = p256_public_key(pk);
    imc_status st = key != NULL ? ecdsa_verify_key(sig, key, msg, msg_len) : fail(IMC_ERR_AUTH);
    EC_KEY_free(key);
    return st;
}

/* ---- Prepared keys ----------------------------------------------------- */

/* The library objects the plain calls above build per call, built once:
 * EVP_PKEY for X25519 and Ed25519, EC_KEY for P-256. OpenSSL allows
 * concurrent use of a key object that is no longer modified; each call
 * still makes its own operation context. */
static imc_status ossl_key_import(void **native, imc_key_kind kind, const uint8_t *raw)
{
    imc_status st = IMC_ERR_CRYPTO;
    *native = NULL;
    switch (kind) {
    case IMC_KEY_X25519_SECRET: {
        EVP_PKEY_CTX *imp = ecx_import_ctx("X25519");
        *native = x25519_private_with(imp, raw);
        EVP_PKEY_CTX_free(imp);
        break;
    }
    case IMC_KEY_ED25519_SECRET: *native = ed25519_key(raw, raw + IMC_ED25519_SECRET_BYTES); break;
    case IMC_KEY_ED25519_PUBLIC: *native = ed25519_key(NULL, raw); break;
    case IMC_KEY_P256_SECRET: *native = p256_key_from_scalar(raw); break;
    case IMC_KEY_P256_PUBLIC:
        *native = p256_public_key(raw);
        st = IMC_ERR_WEAK_KEY; /* the one way this import fails on input */
        break;
    }
    return *native != NULL ? IMC_OK : fail(st);
}

static void ossl_key_free(imc_key_kind kind, void *native)
{
    if (kind == IMC_KEY_P256_SECRET || kind == IMC_KEY_P256_PUBLIC)
        EC_KEY_free(native); /* wipes the scalar */
    else
        EVP_PKEY_free(native);
}

static imc_status ossl_x25519_prepared(uint8_t shared[IMC_X25519_SHARED_BYTES], void *sk,
                                       const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    return x25519_derive_key(shared, sk, pk);
}

static imc_status ossl_ed25519_sign_prepared(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], void *sk,
                                             const uint8_t *msg, size_t msg_len)
{
    return ed25519_sign_key(sig, sk, msg, msg_len);
}

static imc_status ossl_ed25519_verify_prepared(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                               void *pk, const uint8_t *msg, size_t msg_len)
{
    return ed25519_verify_key(sig, pk, msg, msg_len);
}

static imc_status ossl_p256_ecdh_prepared(uint8_t shared[IMC_P256_SHARED_BYTES], void *sk,
                                          const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    return p256_ecdh_key(shared, sk, pk);
}

static imc_status ossl_ecdsa_sign_prepared(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], void *sk,
                                           const uint8_t raw_sk[IMC_P256_SECRET_BYTES],
                                           const uint8_t *msg, size_t msg_len)
{
    return ecdsa_sign_key(sig, sk, raw_sk, msg, msg_len);
}

static imc_status ossl_ecdsa_verify_prepared(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                             void *pk, const uint8_t *msg, size_t msg_len)
{
    return ecdsa_verify_key(sig, pk, msg, msg_len);
}

/* ---- AEAD -------------------------------------------------------------- */

static const EVP_CIPHER *aead_cipher(imc_aead aead)
{
    switch (aead) {
    case IMC_AEAD_CHACHA20POLY1305: return ossl.chacha20poly1305;
    case IMC_AEAD_AES256GCM: return ossl.aes256gcm;
    }
    return NULL;
}

/* Feeds len bytes through the cipher in int-sized chunks; out == NULL
 * feeds associated data. Both AEADs are stream modes: each update writes
 * exactly what it reads, which keeps in-place operation (out == in) exact. */
static int aead_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
    while (len > 0) {
        int n = (int)(len < EVP_CHUNK ? len : EVP_CHUNK), outl = 0;
        if (EVP_CipherUpdate(ctx, out, &outl, in, n) != 1 || (out != NULL && outl != n))
            return 0;
        if (out != NULL)
            out += n;
        in += n;
        len -= (size_t)n;
    }
    return 1;
}

static imc_status ossl_aead_seal(imc_aead aead, uint8_t *out,
                                 const uint8_t key[IMC_AEAD_KEY_BYTES],
                                 const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                 size_t ad_len, const uint8_t *in, size_t in_len)
{
    const EVP_CIPHER *cipher = aead_cipher(aead);
    if (cipher == NULL)
        return IMC_ERR_UNSUPPORTED;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int fin = 0;
    int ok = ctx != NULL && EVP_CipherInit_ex2(ctx, cipher, key, nonce, 1, NULL) == 1 &&
             aead_update(ctx, NULL, ad, ad_len) && aead_update(ctx, out, in, in_len) &&
             EVP_CipherFinal_ex(ctx, out + in_len, &fin) == 1 && fin == 0 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, IMC_AEAD_TAG_BYTES, out + in_len) ==
                 1;
    EVP_CIPHER_CTX_free(ctx); /* the provider wipes the key schedule */
    return ok ? IMC_OK : fail(IMC_ERR_CRYPTO);
}

static imc_status ossl_aead_open(imc_aead aead, uint8_t *out,
                                 const uint8_t key[IMC_AEAD_KEY_BYTES],
                                 const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                 size_t ad_len, const uint8_t *in, size_t in_len)
{
    const EVP_CIPHER *cipher = aead_cipher(aead);
    if (cipher == NULL)
        return IMC_ERR_UNSUPPORTED;
    if (in_len < IMC_AEAD_TAG_BYTES)
        return IMC_ERR_AUTH;
    size_t ct_len = in_len - IMC_AEAD_TAG_BYTES;
    /* A copy: the ctrl takes a non-const pointer. */
    uint8_t tag[IMC_AEAD_TAG_BYTES];
    memcpy(tag, in + ct_len, sizeof tag);
    imc_status st = IMC_ERR_CRYPTO;
    int fin = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx != NULL && EVP_CipherInit_ex2(ctx, cipher, key, nonce, 0, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof tag, tag) == 1 &&
        aead_update(ctx, NULL, ad, ad_len) && aead_update(ctx, out, in, ct_len))
        /* Final checks the tag (in constant time). */
        st = EVP_CipherFinal_ex(ctx, out + ct_len, &fin) == 1 && fin == 0 ? IMC_OK : IMC_ERR_AUTH;
    EVP_CIPHER_CTX_free(ctx);
    if (st != IMC_OK) {
        OPENSSL_cleanse(out, ct_len);
        return fail(st);
    }
    return IMC_OK;
}

const imc_backend imc_backend_openssl = {
    .name = "openssl",
    .init = ossl_init,
    .version = ossl_version,
    .caps = ossl_caps,
    .random = ossl_random,
    .x25519_public = ossl_x25519_public,
    .x25519 = ossl_x25519,
    .ed25519_public = ossl_ed25519_public,
    .ed25519_sign = ossl_ed25519_sign,
    .ed25519_verify = ossl_ed25519_verify,
    .p256_public = ossl_p256_public,
    .p256_ecdh = ossl_p256_ecdh,
    .ecdsa_p256_sign = ossl_ecdsa_p256_sign,
    .ecdsa_p256_verify = ossl_ecdsa_p256_verify,
    .aead_seal = ossl_aead_seal,
    .aead_open = ossl_aead_open,
    .sha256 = ossl_sha256,
    .hmac_sha256 = ossl_hmac_sha256,
    .hkdf_sha256 = ossl_hkdf_sha256,
    .key_import = ossl_key_import,
    .key_free = ossl_key_free,
    .x25519_prepared = ossl_x25519_prepared,
    .ed25519_sign_prepared = ossl_ed25519_sign_prepared,
    .ed25519_verify_prepared = ossl_ed25519_verify_prepared,
    .p256_ecdh_prepared = ossl_p256_ecdh_prepared,
    .ecdsa_p256_sign_prepared = ossl_ecdsa_sign_prepared,
    .ecdsa_p256_verify_prepared = ossl_ecdsa_verify_prepared,
};
