/* Peer (b): the 2011 iMessage way (whole message AES-CTR, RSA-OAEP key wrap and ECDSA per device copy), on OpenSSL 3.0.
 *
 * As shipped: for every recipient device the sender encrypts the whole
 * message with AES-128-CTR under a fresh random key (no MAC), wraps that
 * key with RSA-OAEP (SHA-1, MGF1-SHA-1) to the device's RSA key, and signs
 * SHA-1(ciphertext || wrapped key) with ECDSA on P-256. A device verifies
 * the signature, unwraps the key (an RSA private-key operation) and
 * decrypts. RSA-1280 is what shipped; RSA-2048 is there for comparison.
 *
 * Names:
 *   peer/imessage2011-rsa<bits>/send/dev:<N>/body:<B>    one message to N devices
 *   peer/imessage2011-rsa<bits>/receive/dev:1/body:<B>   one device's copy
 * with bits 1280 and 2048, N in imc_bench_fanouts and B in
 * imc_bench_body_sizes. Items are messages; per_device_us is the CPU time
 * per device copy (send: time per message / N). Receive does not depend
 * on N.
 *
 * Set-up, outside the timed loops and shared by all runs: the cipher and
 * digests are fetched once; RSA key generation is slow (measured on the
 * 2-core dev machine: about 0.04 s a key for RSA-1280, 0.35 s for RSA-2048),
 * so each size has a ring of RSA_RING keys, generated when a benchmark first
 * needs it (about 3 s of CPU for the RSA-2048 ring, once per process), and
 * device d uses key d % RSA_RING. An RSA public operation costs the same for every key of a
 * size, so the ring changes no timing. Every key has its operation context
 * set up once (EVP_PKEY_encrypt_init + OAEP parameters, decrypt_init,
 * sign_init/verify_init + SHA-1), as a client that caches its contacts'
 * keys would: the timed loop makes no fetches and no key parsing, only the
 * cryptography. The sender holds the devices' public keys only (parsed from
 * their SubjectPublicKeyInfo), a device holds its private key and the
 * sender's public key. Copies go to separate preallocated slots (ciphertext
 * || wrapped key || signature). Every OpenSSL status is checked; a failure
 * ends the run (imc_bench_skip) with OpenSSL's error. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "benches.h"
#include "imc_bench.h"

#define NAME_BYTES 96
#define RSA_RING 8
#define RSA_SIZES 2
#define AES_KEY_BYTES 16
#define AES_BLOCK_BYTES 16
#define SHA1_BYTES 20
#define ECDSA_P256_DER_MAX 72 /* SEQUENCE of two INTEGERs of up to 33 bytes */
#define RSA_MAX_BYTES 256

static const int rsa_bits[RSA_SIZES] = {1280, 2048};

/* One RSA key size: the devices' key ring with its contexts. */
typedef struct rsa_ring {
    const char *error; /* NULL once built */
    size_t modulus_bytes;
    EVP_PKEY *priv[RSA_RING];
    EVP_PKEY *pub[RSA_RING];     /* what the sender has: public only */
    EVP_PKEY_CTX *wrap[RSA_RING];   /* encrypt_init, OAEP SHA-1 */
    EVP_PKEY_CTX *unwrap[RSA_RING]; /* decrypt_init, OAEP SHA-1 */
} rsa_ring;

/* Everything but the RSA keys, built once. */
static struct {
    const char *error;
    EVP_CIPHER *aes128ctr;
    EVP_MD *sha1;
    EVP_PKEY *sign_key;       /* the sender's P-256 key */
    EVP_PKEY *sign_pub;       /* its public half, as devices have it */
    EVP_PKEY_CTX *sign_ctx;   /* sign_init, SHA-1 */
    EVP_PKEY_CTX *verify_ctx; /* verify_init, SHA-1 */
    uint8_t *body;
    size_t body_max;
    rsa_ring rings[RSA_SIZES];
} imsg;

static pthread_once_t imsg_once = PTHREAD_ONCE_INIT;
static pthread_once_t ring_once[RSA_SIZES] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

/* The initial counter block: every key encrypts exactly one message. */
static const uint8_t ctr_iv[AES_BLOCK_BYTES] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                0, 0, 0, 0, 0, 0, 0, 1};

typedef struct peer_arg {
    int ring; /* index into rsa_bits */
    size_t n;
    size_t body;
} peer_arg;

static size_t max_of(const size_t *v, size_t count)
{
    size_t m = 0;
    for (size_t i = 0; i < count; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

/* The public half of key, through its DER SubjectPublicKeyInfo. */
static EVP_PKEY *public_only(EVP_PKEY *key)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key, &der);
    const unsigned char *p = der;
    EVP_PKEY *pub = len > 0 ? d2i_PUBKEY(NULL, &p, len) : NULL;
    OPENSSL_free(der);
    return pub;
}

static void imsg_init(void)
{
    imsg.error = "imessage2011: set-up failed";
    imsg.body_max = max_of(imc_bench_body_sizes, IMC_BENCH_BODY_COUNT);
    imsg.body = malloc(imsg.body_max);
    imsg.aes128ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
    imsg.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    imsg.sign_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    imsg.sign_pub = imsg.sign_key != NULL ? public_only(imsg.sign_key) : NULL;
    if (imsg.body == NULL || imsg.aes128ctr == NULL || imsg.sha1 == NULL ||
        imsg.sign_pub == NULL || RAND_bytes(imsg.body, (int)imsg.body_max) != 1)
        return;
    imsg.sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, imsg.sign_key, NULL);
    imsg.verify_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, imsg.sign_pub, NULL);
    if (imsg.sign_ctx == NULL || imsg.verify_ctx == NULL ||
        EVP_PKEY_sign_init(imsg.sign_ctx) != 1 ||
        EVP_PKEY_CTX_set_signature_md(imsg.sign_ctx, imsg.sha1) != 1 ||
        EVP_PKEY_verify_init(imsg.verify_ctx) != 1 ||
        EVP_PKEY_CTX_set_signature_md(imsg.verify_ctx, imsg.sha1) != 1)
        return;
    imsg.error = NULL;
}

static bool oaep_sha1(EVP_PKEY_CTX *ctx)
{
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_oaep_md(ctx, imsg.sha1) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, imsg.sha1) == 1;
}

static void ring_init(int r)
{
    rsa_ring *ring = &imsg.rings[r];
    ring->error = "imessage2011: RSA key set-up failed";
    ring->modulus_bytes = (size_t)rsa_bits[r] / 8;
    for (int i = 0; i < RSA_RING; i++) {
        ring->priv[i] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits[r]);
        ring->pub[i] = ring->priv[i] != NULL ? public_only(ring->priv[i]) : NULL;
        if (ring->pub[i] == NULL || EVP_PKEY_get_size(ring->pub[i]) != (int)ring->modulus_bytes)
            return;
        ring->wrap[i] = EVP_PKEY_CTX_new_from_pkey(NULL, ring->pub[i], NULL);
        ring->unwrap[i] = EVP_PKEY_CTX_new_from_pkey(NULL, ring->priv[i], NULL);
        if (ring->wrap[i] == NULL || ring->unwrap[i] == NULL ||
            EVP_PKEY_encrypt_init(ring->wrap[i]) != 1 || !oaep_sha1(ring->wrap[i]) ||
            EVP_PKEY_decrypt_init(ring->unwrap[i]) != 1 || !oaep_sha1(ring->unwrap[i]))
            return;
    }
    ring->error = NULL;
}

static void ring_init_1280(void) { ring_init(0); }
static void ring_init_2048(void) { ring_init(1); }

/* Ends the run with msg and OpenSSL's first queued error. */
static void fail(imc_bench_state *st, const char *msg)
{
    char text[256], err[160];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, err, sizeof err);
    snprintf(text, sizeof text, "%s: %s", msg, e != 0 ? err : "no OpenSSL error queued");
    ERR_clear_error();
    imc_bench_skip(st, text);
}

static const rsa_ring *ready(imc_bench_state *st, int r)
{
    static void (*const ring_fns[RSA_SIZES])(void) = {ring_init_1280, ring_init_2048};
    if (pthread_once(&imsg_once, imsg_init) != 0 || imsg.error != NULL) {
        fail(st, imsg.error != NULL ? imsg.error : "imessage2011: pthread_once failed");
        return NULL;
    }
    if (pthread_once(&ring_once[r], ring_fns[r]) != 0 || imsg.rings[r].error != NULL) {
        fail(st, imsg.rings[r].error != NULL ? imsg.rings[r].error
                                             : "imessage2011: pthread_once failed");
        return NULL;
    }
    return &imsg.rings[r];
}

/* One device's copy: AES-CTR ciphertext || wrapped key || DER signature. */
typedef struct copy_layout {
    size_t body;
    size_t wrapped;
    size_t slot; /* bytes per copy, the signature at its maximum length */
} copy_layout;

static copy_layout layout_of(const rsa_ring *ring, size_t body)
{
    copy_layout l = {body, ring->modulus_bytes, body + ring->modulus_bytes + ECDSA_P256_DER_MAX};
    return l;
}

/* AES-128-CTR over len bytes of in into out (either direction). */
static bool aes_ctr(EVP_CIPHER_CTX *cctx, uint8_t *out, const uint8_t key[AES_KEY_BYTES],
                    const uint8_t *in, size_t len)
{
    int outl = 0, fin = 0;
    return EVP_CipherInit_ex2(cctx, imsg.aes128ctr, key, ctr_iv, 1, NULL) == 1 &&
           EVP_CipherUpdate(cctx, out, &outl, in, (int)len) == 1 && (size_t)outl == len &&
           EVP_CipherFinal_ex(cctx, out + outl, &fin) == 1 && fin == 0;
}

/* Makes the copy for a device whose wrap context is wrap; *sig_len gets
 * the signature's length. Returns the failing step, or NULL. */
static const char *make_copy(EVP_CIPHER_CTX *cctx, EVP_PKEY_CTX *wrap, const copy_layout *l,
                             uint8_t *copy, size_t *sig_len)
{
    uint8_t key[AES_KEY_BYTES], digest[SHA1_BYTES];
    uint8_t *wrapped = copy + l->body;
    uint8_t *sig = wrapped + l->wrapped;
    size_t wlen = l->wrapped;
    const char *err = NULL;
    if (RAND_bytes(key, sizeof key) != 1)
        err = "RAND_bytes";
    else if (!aes_ctr(cctx, copy, key, imsg.body, l->body))
        err = "AES-128-CTR";
    else if (EVP_PKEY_encrypt(wrap, wrapped, &wlen, key, sizeof key) != 1 || wlen != l->wrapped)
        err = "RSA-OAEP encrypt";
    else if (EVP_Digest(copy, l->body + l->wrapped, digest, NULL, imsg.sha1, NULL) != 1)
        err = "SHA-1";
    *sig_len = ECDSA_P256_DER_MAX;
    if (err == NULL && EVP_PKEY_sign(imsg.sign_ctx, sig, sig_len, digest, sizeof digest) != 1)
        err = "ECDSA sign";
    OPENSSL_cleanse(key, sizeof key);
    return err;
}

/* Verifies, unwraps and decrypts a copy into plain. */
static const char *open_copy(EVP_CIPHER_CTX *cctx, EVP_PKEY_CTX *unwrap, const copy_layout *l,
                             const uint8_t *copy, size_t sig_len, uint8_t *plain)
{
    uint8_t key[RSA_MAX_BYTES], digest[SHA1_BYTES];
    const uint8_t *wrapped = copy + l->body;
    const uint8_t *sig = wrapped + l->wrapped;
    size_t klen = sizeof key;
    const char *err = NULL;
    if (EVP_Digest(copy, l->body + l->wrapped, digest, NULL, imsg.sha1, NULL) != 1)
        err = "SHA-1";
    else if (EVP_PKEY_verify(imsg.verify_ctx, sig, sig_len, digest, sizeof digest) != 1)
        err = "ECDSA verify";
    else if (EVP_PKEY_decrypt(unwrap, key, &klen, wrapped, l->wrapped) != 1 ||
             klen != AES_KEY_BYTES)
        err = "RSA-OAEP decrypt";
    else if (!aes_ctr(cctx, plain, key, copy, l->body))
        err = "AES-128-CTR";
    OPENSSL_cleanse(key, sizeof key);
    return err;
}

/* Items are messages. per_device_us: the loop's CPU time (what
 * google-benchmark reports as CPU time) per message and device. */
static void per_device_counter(imc_bench_state *st, size_t n, int64_t cpu_ns)
{
    int64_t iters = imc_bench_iterations(st);
    imc_bench_set_items_processed(st, iters);
    if (iters > 0 && !imc_bench_error_occurred(st))
        imc_bench_counter(st, "per_device_us", (double)cpu_ns / 1e3 / (double)iters / (double)n,
                          0);
}

static void bm_send(imc_bench_state *st, void *arg)
{
    const peer_arg *a = arg;
    const rsa_ring *ring = ready(st, a->ring);
    if (ring == NULL)
        return;
    const copy_layout l = layout_of(ring, a->body);
    uint8_t *out = malloc(a->n * l.slot);
    EVP_CIPHER_CTX *cctx = EVP_CIPHER_CTX_new();
    if (out == NULL || cctx == NULL) {
        imc_bench_skip(st, "out of memory");
    } else {
        int64_t t0 = imc_bench_cpu_ns();
    while (imc_bench_keep_running(st)) {
            const char *err = NULL;
            size_t sig_len = 0;
            for (size_t d = 0; d < a->n && err == NULL; d++)
                err = make_copy(cctx, ring->wrap[d % RSA_RING], &l, out + d * l.slot, &sig_len);
            if (err != NULL) {
                fail(st, err);
                break;
            }
            imc_bench_do_not_optimize(out);
        }
        per_device_counter(st, a->n, imc_bench_cpu_ns() - t0);
    }
    EVP_CIPHER_CTX_free(cctx);
    free(out);
}

/* Cycles through imc_bench_receive_pool(body) distinct copies (fresh AES
 * key, wrap and signature each), as imcore's decrypt does. */
static void bm_receive(imc_bench_state *st, void *arg)
{
    const peer_arg *a = arg;
    const rsa_ring *ring = ready(st, a->ring);
    if (ring == NULL)
        return;
    const copy_layout l = layout_of(ring, a->body);
    const size_t pool = imc_bench_receive_pool(a->body);
    size_t sig_len[IMC_BENCH_RECEIVE_POOL_MAX] = {0};
    uint8_t *copies = malloc(pool * l.slot);
    uint8_t *plain = malloc(a->body);
    EVP_CIPHER_CTX *cctx = EVP_CIPHER_CTX_new();
    const char *err = copies == NULL || plain == NULL || cctx == NULL ? "out of memory" : NULL;
    for (size_t i = 0; err == NULL && i < pool; i++) {
        uint8_t *copy = copies + i * l.slot;
        err = make_copy(cctx, ring->wrap[0], &l, copy, &sig_len[i]);
        if (err == NULL)
            err = open_copy(cctx, ring->unwrap[0], &l, copy, sig_len[i], plain);
        if (err == NULL && memcmp(plain, imsg.body, a->body) != 0)
            err = "the copy does not round-trip";
    }
    if (err != NULL) {
        fail(st, err);
    } else {
        size_t i = 0;
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            err = open_copy(cctx, ring->unwrap[0], &l, copies + i * l.slot, sig_len[i], plain);
            if (err != NULL) {
                fail(st, err);
                break;
            }
            imc_bench_do_not_optimize(plain);
            i = i + 1 == pool ? 0 : i + 1;
        }
        per_device_counter(st, 1, imc_bench_cpu_ns() - t0);
    }
    EVP_CIPHER_CTX_free(cctx);
    free(copies);
    if (plain != NULL)
        OPENSSL_cleanse(plain, a->body);
    free(plain);
}

static void reg(const char *name, imc_bench_fn *fn, int ring, size_t n, size_t body)
{
    peer_arg a = {ring, n, body};
    imc_bench *b = imc_bench_register_copy(name, fn, &a, sizeof a);
    if (b == NULL)
        fprintf(stderr, "imcore-bench: cannot register %s\n", name);
    imc_bench_unit(b, IMC_BENCH_US);
}

void imc_bench_register_peer_imessage2011(void)
{
    char name[NAME_BYTES];
    for (int r = 0; r < RSA_SIZES; r++) {
        for (size_t k = 0; k < IMC_BENCH_BODY_COUNT; k++) {
            size_t body = imc_bench_body_sizes[k];
            for (size_t f = 0; f < IMC_BENCH_FANOUT_COUNT; f++) {
                size_t n = imc_bench_fanouts[f];
                snprintf(name, sizeof name, "peer/imessage2011-rsa%d/send/dev:%zu/body:%zu",
                         rsa_bits[r], n, body);
                reg(name, bm_send, r, n, body);
            }
        }
        for (size_t k = 0; k < IMC_BENCH_BODY_COUNT; k++) {
            size_t body = imc_bench_body_sizes[k];
            snprintf(name, sizeof name, "peer/imessage2011-rsa%d/receive/dev:1/body:%zu",
                     rsa_bits[r], body);
            reg(name, bm_receive, r, 1, body);
        }
    }
}
