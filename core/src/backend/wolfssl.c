/* The wolfSSL (wolfCrypt 5.5) backend: all three suites.
 *
 * Arguments arrive checked by the policy layer (crypto.c). The build's
 * options.h comes first so that the structure layouts match Debian's
 * library (which enables Curve25519, Ed25519, ECC with timing resistance,
 * AES-GCM, ChaCha20-Poly1305, HKDF and a deterministic-k ECDSA).
 * wolfCrypt's ECC blinds with a random generator object (WC_RNG), which it
 * needs per key; one is built per P-256 call. ECDSA uses wolfSSL's own
 * deterministic nonce (RFC 6979; checked byte for byte against the other
 * backends by the RFC 6979 known answers). Random bytes for callers come
 * from the kernel.
 *
 * Prepared keys (imcore/crypto.h) hold wolfCrypt's key objects, and how
 * they may be shared follows from what wolfCrypt 5.5 writes during a call:
 * - P-256 secret: an ecc_key with its own blinding generator (WC_RNG).
 *   ECDH and signing write the key (its state machine, and the
 *   deterministic nonce it keeps in key->sign_k) and draw from the
 *   generator, so neither may run twice at once: each prepared secret has a
 *   mutex, and threads sharing one key take turns (each gets the
 *   single-threaded bytes; threads with keys of their own never wait).
 *   Preparing saves the generator's set-up (a DRBG instantiation with its
 *   health test, the dearest part of a plain call) and the import.
 * - P-256 public: an ecc_key with the point, checked on the curve once.
 *   Verification only reads it (wc_ecc_verify_hash_ex), so it is shared
 *   without a lock.
 * - Ed25519 and X25519: no object. An ed25519_key holds the key's bytes
 *   as given (importing is a copy; signing hashes the seed on every call
 *   either way): one kept across calls measured the same instruction count
 *   as the plain call (results/prepared-keys.md). The plain X25519 call
 *   hands the raw scalar to wc_curve25519_generic(); a curve25519_key would
 *   add a public-key check per call and run the same ladder. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>

#include <wolfssl/version.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include "backend/backend_impl.h"
#include "backend/sysrand.h"
#include "imcore/util.h"

static const uint8_t *nz(const uint8_t *p)
{
    static const uint8_t empty[1] = {0};
    return p != NULL ? p : empty;
}

/* Written only by wolf_init_once(). */
static struct {
    imc_status status;
    int p256_idx; /* wolfCrypt's index of the P-256 curve */
#ifdef FP_ECC
    pthread_key_t fp_key; /* set in each thread that ran an ECC call */
#endif
} wolf;
static pthread_once_t wolf_once = PTHREAD_ONCE_INIT;

#ifdef FP_ECC
/* wolfCrypt's fixed-point cache (FP_ECC) is thread-local and lives until
 * wc_ecc_fp_free() runs in its thread: without this, every thread that ever
 * ran a P-256 call leaked it on exit (about 2.5 MB per thread, found by
 * LeakSanitizer in test_backend's four-thread test). A thread-specific key
 * with a destructor frees it when such a thread exits. */
static void fp_free_at_exit(void *unused)
{
    (void)unused;
    wc_ecc_fp_free();
}

static void ecc_thread_used(void)
{
    if (pthread_getspecific(wolf.fp_key) == NULL)
        (void)pthread_setspecific(wolf.fp_key, &wolf);
}
#else
static void ecc_thread_used(void) {}
#endif

static void wolf_init_once(void)
{
    wolf.p256_idx = wc_ecc_get_curve_idx(ECC_SECP256R1);
    wolf.status = wolfCrypt_Init() == 0 && wolf.p256_idx >= 0 ? IMC_OK : IMC_ERR_CRYPTO;
#ifdef FP_ECC
    if (wolf.status == IMC_OK && pthread_key_create(&wolf.fp_key, fp_free_at_exit) != 0)
        wolf.status = IMC_ERR_CRYPTO;
#endif
}

static imc_status wolf_init(void)
{
    if (pthread_once(&wolf_once, wolf_init_once) != 0)
        return IMC_ERR_CRYPTO;
    return wolf.status;
}

static const char *wolf_version(void) { return "wolfSSL " LIBWOLFSSL_VERSION_STRING; }

static uint32_t wolf_caps(void)
{
    return IMC_CAP_X25519 | IMC_CAP_ED25519 | IMC_CAP_CHACHA20POLY1305 | IMC_CAP_AES256GCM |
           IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256 | IMC_CAP_SHA256;
}

static imc_status wolf_random(uint8_t *out, size_t len) { return imc_sysrand(out, len); }

/* ---- X25519 ------------------------------------------------------------ */

/* wolfCrypt's raw X25519 insists on a clamped scalar and reads the
 * u-coordinate little-endian; RFC 7748 clamps and ignores bit 255. */
static imc_status x25519_mul(uint8_t out[32], const uint8_t sk[32], const uint8_t u[32])
{
    uint8_t k[32], ub[32];
    imc_x25519_decode(k, ub, sk, u);
    int rc = wc_curve25519_generic(32, out, 32, k, 32, ub);
    imc_wipe(k, sizeof k);
    if (rc != 0) {
        imc_wipe(out, 32);
        return IMC_ERR_CRYPTO;
    }
    return IMC_OK;
}

static imc_status wolf_x25519_public(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                     const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    static const uint8_t base_point[32] = {9};
    return x25519_mul(pk, sk, base_point);
}

static imc_status wolf_x25519(uint8_t shared[IMC_X25519_SHARED_BYTES],
                              const uint8_t sk[IMC_X25519_SECRET_BYTES],
                              const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    return x25519_mul(shared, sk, pk);
}

/* ---- Ed25519 ----------------------------------------------------------- */

static imc_status wolf_ed25519_public(uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                      const uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    ed25519_key key;
    if (wc_ed25519_init(&key) != 0)
        return IMC_ERR_CRYPTO;
    int rc = wc_ed25519_import_private_only(sk, IMC_ED25519_SECRET_BYTES, &key);
    rc = rc != 0 ? rc : wc_ed25519_make_public(&key, pk, IMC_ED25519_PUBLIC_BYTES);
    wc_ed25519_free(&key); /* wipes */
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status wolf_ed25519_sign(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                    const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                    const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                    const uint8_t *msg, size_t msg_len)
{
    ed25519_key key;
    word32 len = IMC_ED25519_SIGNATURE_BYTES;
    if (msg_len > 0xffffffffu)
        return IMC_ERR_ARG;
    if (wc_ed25519_init(&key) != 0)
        return IMC_ERR_CRYPTO;
    /* "Trusted": the public key is taken as given, as on every backend,
     * rather than recomputed from the seed. */
    int rc = wc_ed25519_import_private_key_ex(sk, IMC_ED25519_SECRET_BYTES, pk,
                                              IMC_ED25519_PUBLIC_BYTES, &key, 1);
    rc = rc != 0 ? rc : wc_ed25519_sign_msg(nz(msg), (word32)msg_len, sig, &len, &key);
    wc_ed25519_free(&key);
    return rc == 0 && len == IMC_ED25519_SIGNATURE_BYTES ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status wolf_ed25519_verify(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                      const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                      const uint8_t *msg, size_t msg_len)
{
    ed25519_key key;
    int res = 0;
    if (msg_len > 0xffffffffu)
        return IMC_ERR_AUTH;
    if (wc_ed25519_init(&key) != 0)
        return IMC_ERR_AUTH;
    int rc = wc_ed25519_import_public(pk, IMC_ED25519_PUBLIC_BYTES, &key);
    rc = rc != 0 ? rc
                 : wc_ed25519_verify_msg(sig, IMC_ED25519_SIGNATURE_BYTES, nz(msg),
                                         (word32)msg_len, &res, &key);
    wc_ed25519_free(&key);
    return rc == 0 && res == 1 ? IMC_OK : IMC_ERR_AUTH;
}

/* ---- P-256 ------------------------------------------------------------- */

/* A key with the private scalar sk and a blinding generator; 0 on success.
 * The caller frees both (wc_ecc_free wipes the scalar). */
static int p256_private(ecc_key *key, WC_RNG *rng, const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    int rc = wc_ecc_import_private_key_ex(sk, IMC_P256_SECRET_BYTES, NULL, 0, key,
                                          ECC_SECP256R1);
    return rc != 0 ? rc : wc_ecc_set_rng(key, rng);
}

/* A public key from 04 || x || y; 0 only for a point on the curve. */
static int p256_public_key(ecc_key *key, const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    int rc = wc_ecc_import_x963_ex(pk, IMC_P256_PUBLIC_BYTES, key, ECC_SECP256R1);
    if (rc != 0)
        return rc;
    return wc_ecc_point_is_on_curve(&key->pubkey, wolf.p256_idx);
}

static imc_status wolf_p256_public(uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                   const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    ecc_thread_used();
    ecc_key key;
    WC_RNG rng;
    word32 len = IMC_P256_PUBLIC_BYTES;
    if (wc_InitRng(&rng) != 0)
        return IMC_ERR_CRYPTO;
    int rc = wc_ecc_init(&key);
    rc = rc != 0 ? rc : p256_private(&key, &rng, sk);
    rc = rc != 0 ? rc : wc_ecc_make_pub_ex(&key, NULL, &rng);
    rc = rc != 0 ? rc : wc_ecc_export_x963(&key, pk, &len);
    wc_ecc_free(&key);
    wc_FreeRng(&rng);
    return rc == 0 && len == IMC_P256_PUBLIC_BYTES ? IMC_OK : IMC_ERR_CRYPTO;
}

/* shared = x(key * pk) for a key made by p256_private(); shared is wiped
 * on failure. */
static imc_status p256_ecdh_key(uint8_t shared[IMC_P256_SHARED_BYTES], ecc_key *key,
                                const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    ecc_key peer;
    word32 len = IMC_P256_SHARED_BYTES;
    imc_status st = IMC_ERR_CRYPTO;
    if (wc_ecc_init(&peer) == 0) {
        if (p256_public_key(&peer, pk) != 0)
            st = IMC_ERR_WEAK_KEY;
        else if (wc_ecc_shared_secret(key, &peer, shared, &len) == 0 &&
                 len == IMC_P256_SHARED_BYTES)
            st = IMC_OK;
        wc_ecc_free(&peer);
    }
    if (st != IMC_OK)
        imc_wipe(shared, IMC_P256_SHARED_BYTES);
    return st;
}

static imc_status wolf_p256_ecdh(uint8_t shared[IMC_P256_SHARED_BYTES],
                                 const uint8_t sk[IMC_P256_SECRET_BYTES],
                                 const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    ecc_thread_used();
    ecc_key key;
    WC_RNG rng;
    imc_status st = IMC_ERR_CRYPTO;
    if (wc_InitRng(&rng) != 0)
        return IMC_ERR_CRYPTO;
    if (wc_ecc_init(&key) == 0) {
        if (p256_private(&key, &rng, sk) == 0)
            st = p256_ecdh_key(shared, &key, pk);
        wc_ecc_free(&key);
    }
    wc_FreeRng(&rng);
    if (st != IMC_OK)
        imc_wipe(shared, IMC_P256_SHARED_BYTES);
    return st;
}

/* Deterministic ECDSA (the key has wc_ecc_set_deterministic) with the
 * key's generator rng for blinding. */
static imc_status ecdsa_sign_key(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], ecc_key *key,
                                 WC_RNG *rng, const uint8_t *msg, size_t msg_len)
{
    uint8_t h[WC_SHA256_DIGEST_SIZE];
    mp_int r, s;
    if (msg_len > 0xffffffffu)
        return IMC_ERR_ARG;
    if (wc_Sha256Hash(nz(msg), (word32)msg_len, h) != 0)
        return IMC_ERR_CRYPTO;
    int rc = mp_init(&r);
    rc = rc != 0 ? rc : mp_init(&s);
    rc = rc != 0 ? rc : wc_ecc_sign_hash_ex(h, sizeof h, rng, key, &r, &s);
    rc = rc != 0 ? rc : mp_to_unsigned_bin_len(&r, sig, 32);
    rc = rc != 0 ? rc : mp_to_unsigned_bin_len(&s, sig + 32, 32);
    mp_forcezero(&r);
    mp_forcezero(&s);
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status wolf_ecdsa_p256_sign(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                       const uint8_t sk[IMC_P256_SECRET_BYTES],
                                       const uint8_t *msg, size_t msg_len)
{
    ecc_thread_used();
    ecc_key key;
    WC_RNG rng;
    imc_status st = IMC_ERR_CRYPTO;
    if (wc_InitRng(&rng) != 0)
        return IMC_ERR_CRYPTO;
    if (wc_ecc_init(&key) == 0) {
        if (p256_private(&key, &rng, sk) == 0 && wc_ecc_set_deterministic(&key, 1) == 0)
            st = ecdsa_sign_key(sig, &key, &rng, msg, msg_len);
        wc_ecc_free(&key);
    }
    wc_FreeRng(&rng);
    return st;
}

/* Any failure is IMC_ERR_AUTH. Only reads the key. */
static imc_status ecdsa_verify_key(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                   ecc_key *key, const uint8_t *msg, size_t msg_len)
{
    uint8_t h[WC_SHA256_DIGEST_SIZE];
    mp_int r, s;
    int res = 0;
    if (msg_len > 0xffffffffu || wc_Sha256Hash(nz(msg), (word32)msg_len, h) != 0)
        return IMC_ERR_AUTH;
    int rc = mp_init(&r);
    rc = rc != 0 ? rc : mp_init(&s);
    rc = rc != 0 ? rc : mp_read_unsigned_bin(&r, sig, 32);
    rc = rc != 0 ? rc : mp_read_unsigned_bin(&s, sig + 32, 32);
    rc = rc != 0 ? rc : wc_ecc_verify_hash_ex(&r, &s, h, sizeof h, &res, key);
    mp_clear(&r);
    mp_clear(&s);
    return rc == 0 && res == 1 ? IMC_OK : IMC_ERR_AUTH;
}

static imc_status wolf_ecdsa_p256_verify(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                         const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                         const uint8_t *msg, size_t msg_len)
{
    ecc_thread_used();
    ecc_key key;
    imc_status st = IMC_ERR_AUTH;
    if (wc_ecc_init(&key) == 0) {
        if (p256_public_key(&key, pk) == 0)
            st = ecdsa_verify_key(sig, &key, msg, msg_len);
        wc_ecc_free(&key);
    }
    return st;
}

/* ---- AEAD -------------------------------------------------------------- */

/* wolfCrypt's one-shot AEADs take 32-bit lengths. Open may write
 * plaintext before it has checked the tag; it is wiped on failure. */
static imc_status wolf_aead_seal(imc_aead aead, uint8_t *out,
                                 const uint8_t key[IMC_AEAD_KEY_BYTES],
                                 const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                 size_t ad_len, const uint8_t *in, size_t in_len)
{
    int rc;
    if (in_len > 0xffffffffu - IMC_AEAD_TAG_BYTES || ad_len > 0xffffffffu)
        return IMC_ERR_ARG;
    if (aead == IMC_AEAD_CHACHA20POLY1305) {
        rc = wc_ChaCha20Poly1305_Encrypt(key, nonce, nz(ad), (word32)ad_len, nz(in),
                                         (word32)in_len, out, out + in_len);
    } else if (aead == IMC_AEAD_AES256GCM) {
        Aes aes;
        if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
            return IMC_ERR_CRYPTO;
        rc = wc_AesGcmSetKey(&aes, key, IMC_AEAD_KEY_BYTES);
        rc = rc != 0 ? rc
                     : wc_AesGcmEncrypt(&aes, out, nz(in), (word32)in_len, nonce,
                                        IMC_AEAD_NONCE_BYTES, out + in_len, IMC_AEAD_TAG_BYTES,
                                        nz(ad), (word32)ad_len);
        wc_AesFree(&aes);
        imc_wipe(&aes, sizeof aes);
    } else {
        return IMC_ERR_UNSUPPORTED;
    }
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status wolf_aead_open(imc_aead aead, uint8_t *out,
                                 const uint8_t key[IMC_AEAD_KEY_BYTES],
                                 const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                 size_t ad_len, const uint8_t *in, size_t in_len)
{
    size_t ct_len = in_len - IMC_AEAD_TAG_BYTES;
    uint8_t tag[IMC_AEAD_TAG_BYTES];
    int rc;
    if (ct_len > 0xffffffffu || ad_len > 0xffffffffu)
        return IMC_ERR_AUTH; /* longer than any seal produces */
    memcpy(tag, in + ct_len, sizeof tag); /* out may overwrite in */
    if (aead == IMC_AEAD_CHACHA20POLY1305) {
        rc = wc_ChaCha20Poly1305_Decrypt(key, nonce, nz(ad), (word32)ad_len, in, (word32)ct_len,
                                         tag, out);
    } else if (aead == IMC_AEAD_AES256GCM) {
        Aes aes;
        if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
            return IMC_ERR_CRYPTO;
        rc = wc_AesGcmSetKey(&aes, key, IMC_AEAD_KEY_BYTES);
        rc = rc != 0 ? rc
                     : wc_AesGcmDecrypt(&aes, out, in, (word32)ct_len, nonce,
                                        IMC_AEAD_NONCE_BYTES, tag, IMC_AEAD_TAG_BYTES, nz(ad),
                                        (word32)ad_len);
        wc_AesFree(&aes);
        imc_wipe(&aes, sizeof aes);
    } else {
        return IMC_ERR_UNSUPPORTED;
    }
    if (rc != 0) {
        imc_wipe(out, ct_len);
        return IMC_ERR_AUTH;
    }
    return IMC_OK;
}

/* ---- Hashing ----------------------------------------------------------- */

static imc_status wolf_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in, size_t in_len)
{
    if (in_len > 0xffffffffu)
        return IMC_ERR_ARG;
    return wc_Sha256Hash(nz(in), (word32)in_len, out) == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

static imc_status wolf_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                   size_t key_len, const uint8_t *msg, size_t msg_len)
{
    Hmac h;
    if (key_len > 0xffffffffu || msg_len > 0xffffffffu)
        return IMC_ERR_ARG;
    if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
        return IMC_ERR_CRYPTO;
    int rc = wc_HmacSetKey(&h, WC_SHA256, nz(key), (word32)key_len);
    rc = rc != 0 ? rc : wc_HmacUpdate(&h, nz(msg), (word32)msg_len);
    rc = rc != 0 ? rc : wc_HmacFinal(&h, out);
    wc_HmacFree(&h);
    imc_wipe(&h, sizeof h);
    return rc == 0 ? IMC_OK : IMC_ERR_CRYPTO;
}

/* wolfCrypt's RFC 5869; an empty salt is an empty HMAC key, the same PRK as
 * HashLen zero bytes. */
static imc_status wolf_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                                   size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                   const uint8_t *info, size_t info_len)
{
    if (salt_len > 0xffffffffu || ikm_len > 0xffffffffu || info_len > 0xffffffffu)
        return IMC_ERR_ARG;
    return wc_HKDF(WC_SHA256, nz(ikm), (word32)ikm_len, nz(salt), (word32)salt_len, nz(info),
                   (word32)info_len, out, (word32)out_len) == 0
               ? IMC_OK
               : IMC_ERR_CRYPTO;
}

/* ---- Prepared keys ----------------------------------------------------- */

/* A prepared P-256 key (see the top of this file): the generator and the
 * lock exist for secret keys only; the flags say what was set up. */
typedef struct wolf_p256_key {
    ecc_key key;
    WC_RNG rng;
    pthread_mutex_t lock;
    int have_key, have_rng, have_lock;
} wolf_p256_key;

/* Frees what k has, wiped. */
static void wolf_p256_key_free(wolf_p256_key *k)
{
    if (k->have_key)
        wc_ecc_free(&k->key); /* wipes the scalar */
    if (k->have_rng)
        wc_FreeRng(&k->rng);
    if (k->have_lock)
        (void)pthread_mutex_destroy(&k->lock);
    imc_wipe(k, sizeof *k);
    free(k);
}

/* A P-256 key from a scalar (secret) or 04 || x || y, or NULL. */
static wolf_p256_key *wolf_p256_key_new(const uint8_t *raw, int secret)
{
    wolf_p256_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    int ok = (k->have_key = wc_ecc_init(&k->key) == 0);
    if (ok && secret) {
        ok = (k->have_rng = wc_InitRng(&k->rng) == 0) &&
             (k->have_lock = pthread_mutex_init(&k->lock, NULL) == 0) &&
             p256_private(&k->key, &k->rng, raw) == 0 &&
             wc_ecc_set_deterministic(&k->key, 1) == 0;
    } else if (ok) {
        ok = p256_public_key(&k->key, raw) == 0;
    }
    if (!ok) {
        wolf_p256_key_free(k);
        return NULL;
    }
    return k;
}

static imc_status wolf_key_import(void **native, imc_key_kind kind, const uint8_t *raw)
{
    *native = NULL;
    imc_status fail = IMC_ERR_CRYPTO;
    switch (kind) {
    case IMC_KEY_X25519_SECRET:
    case IMC_KEY_ED25519_SECRET:
    case IMC_KEY_ED25519_PUBLIC: return IMC_OK; /* raw bytes (see the top) */
    case IMC_KEY_P256_SECRET:
        ecc_thread_used();
        *native = wolf_p256_key_new(raw, 1);
        break;
    case IMC_KEY_P256_PUBLIC:
        ecc_thread_used();
        *native = wolf_p256_key_new(raw, 0);
        fail = IMC_ERR_WEAK_KEY; /* the one way this import fails on input */
        break;
    }
    return *native != NULL ? IMC_OK : fail;
}

/* Only P-256 keys have a native object. */
static void wolf_key_free(imc_key_kind kind, void *native)
{
    (void)kind;
    wolf_p256_key_free(native);
}

/* The secret's two calls take its lock (see the top of this file). */
static imc_status wolf_p256_ecdh_prepared(uint8_t shared[IMC_P256_SHARED_BYTES], void *sk,
                                          const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    ecc_thread_used();
    wolf_p256_key *k = sk;
    if (pthread_mutex_lock(&k->lock) != 0) {
        imc_wipe(shared, IMC_P256_SHARED_BYTES);
        return IMC_ERR_CRYPTO;
    }
    imc_status st = p256_ecdh_key(shared, &k->key, pk);
    (void)pthread_mutex_unlock(&k->lock);
    return st;
}

static imc_status wolf_ecdsa_sign_prepared(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES], void *sk,
                                           const uint8_t raw_sk[IMC_P256_SECRET_BYTES],
                                           const uint8_t *msg, size_t msg_len)
{
    (void)raw_sk;
    ecc_thread_used();
    wolf_p256_key *k = sk;
    if (pthread_mutex_lock(&k->lock) != 0)
        return IMC_ERR_CRYPTO;
    imc_status st = ecdsa_sign_key(sig, &k->key, &k->rng, msg, msg_len);
    (void)pthread_mutex_unlock(&k->lock);
    return st;
}

static imc_status wolf_ecdsa_verify_prepared(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                             void *pk, const uint8_t *msg, size_t msg_len)
{
    ecc_thread_used();
    return ecdsa_verify_key(sig, &((wolf_p256_key *)pk)->key, msg, msg_len);
}

const imc_backend imc_backend_wolfssl = {
    .name = "wolfssl",
    .init = wolf_init,
    .version = wolf_version,
    .caps = wolf_caps,
    .random = wolf_random,
    .x25519_public = wolf_x25519_public,
    .x25519 = wolf_x25519,
    .ed25519_public = wolf_ed25519_public,
    .ed25519_sign = wolf_ed25519_sign,
    .ed25519_verify = wolf_ed25519_verify,
    .p256_public = wolf_p256_public,
    .p256_ecdh = wolf_p256_ecdh,
    .ecdsa_p256_sign = wolf_ecdsa_p256_sign,
    .ecdsa_p256_verify = wolf_ecdsa_p256_verify,
    .aead_seal = wolf_aead_seal,
    .aead_open = wolf_aead_open,
    .sha256 = wolf_sha256,
    .hmac_sha256 = wolf_hmac_sha256,
    .hkdf_sha256 = wolf_hkdf_sha256,
    .key_import = wolf_key_import,
    .key_free = wolf_key_free,
    .p256_ecdh_prepared = wolf_p256_ecdh_prepared,
    .ecdsa_p256_sign_prepared = wolf_ecdsa_sign_prepared,
    .ecdsa_p256_verify_prepared = wolf_ecdsa_verify_prepared,
};
