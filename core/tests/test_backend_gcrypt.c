/* The S-expressions the libgcrypt backend builds from secrets are wiped
 * when released (label unit).
 *
 * libgcrypt's allocation hooks (set before the backend initialises the
 * library) tag every block as ordinary or secure, and as made inside a call
 * of the exported gcry_sexp_build() (which only a caller of libgcrypt, here
 * the backend, reaches: libgcrypt's own code calls its internal one). When
 * a block is freed, the hooks look in it for the secrets the test used (the
 * Ed25519 seed and the P-256 scalar, as raw bytes). Every private-key
 * operation of the backend runs, plain and with the key prepared; then no
 * ordinary block from the backend's gcry_sexp_build() may hold a secret:
 * those S-expressions must live in secure memory, which libgcrypt's pool
 * wipes on every free (the hooks do the same). libgcrypt's own internal
 * copies are counted and printed, not checked: they are libgcrypt's
 * (docs/backends.md). */
#define _GNU_SOURCE /* memmem, dladdr */

#include <dlfcn.h>
#include <execinfo.h>
#include <gcrypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* Header in front of every block: its size and whether it is secure. */
typedef struct hdr {
    size_t size;
    uint32_t secure;
    uint32_t from_build; /* made inside the exported gcry_sexp_build() */
} hdr;

#define HDR ((sizeof(hdr) + 15) & ~(size_t)15)

static uint8_t seed[32], scalar[32];
static unsigned long secure_allocs, secret_left, secure_with_secret, internal_copies;

/* 1 if gcry_sexp_build() is on the stack. */
static uint32_t in_sexp_build(void)
{
    void *bt[24];
    int n = backtrace(bt, 24);
    for (int i = 0; i < n; i++) {
        Dl_info info;
        if (dladdr(bt[i], &info) != 0 && info.dli_saddr == (void *)(uintptr_t)gcry_sexp_build)
            return 1;
    }
    return 0;
}

/* The live blocks, so that is_secure() (which libgcrypt also asks about
 * pointers it did not allocate) reads a header only where there is one:
 * open addressing with tombstones. */
#define LIVE_CAP ((size_t)1 << 17)
#define TOMB ((void *)1)
static void *live[LIVE_CAP];

static size_t live_slot(const void *p)
{
    return ((uintptr_t)p >> 4) * 2654435761u % LIVE_CAP;
}

static int live_has(const void *p)
{
    for (size_t i = live_slot(p), k = 0; k < LIVE_CAP && live[i] != NULL;
         i = (i + 1) % LIVE_CAP, k++)
        if (live[i] == p)
            return 1;
    return 0;
}

static int live_add(void *p)
{
    for (size_t i = live_slot(p), k = 0; k < LIVE_CAP; i = (i + 1) % LIVE_CAP, k++)
        if (live[i] == NULL || live[i] == TOMB) {
            live[i] = p;
            return 1;
        }
    return 0;
}

static void live_remove(const void *p)
{
    for (size_t i = live_slot(p), k = 0; k < LIVE_CAP && live[i] != NULL;
         i = (i + 1) % LIVE_CAP, k++)
        if (live[i] == p) {
            live[i] = TOMB;
            return;
        }
}

static void *alloc(size_t n, int secure)
{
    uint8_t *p = malloc(HDR + n);
    if (p == NULL)
        return NULL;
    hdr h = {n, (uint32_t)secure, in_sexp_build()};
    memcpy(p, &h, sizeof h);
    if (!live_add(p + HDR)) {
        free(p);
        return NULL;
    }
    secure_allocs += secure != 0;
    return p + HDR;
}

static void *h_alloc(size_t n)
{
    return alloc(n, 0);
}

static hdr header(void *p);
static void *h_alloc_secure(size_t n)
{
    return alloc(n, 1);
}

static hdr header(void *p)
{
    hdr h;
    memcpy(&h, (uint8_t *)p - HDR, sizeof h);
    return h;
}

static int h_is_secure(const void *p)
{
    return p != NULL && live_has(p) && header((void *)(uintptr_t)p).secure != 0;
}

static void h_free(void *p)
{
    if (p == NULL)
        return;
    live_remove(p);
    hdr h = header(p);
    int secret = memmem(p, h.size, seed, sizeof seed) != NULL ||
                 memmem(p, h.size, scalar, sizeof scalar) != NULL;
    if (h.secure) {
        secure_with_secret += (unsigned long)secret;
        /* What libgcrypt's own secure pool does on every free. */
        memset(p, 0, h.size);
    } else if (h.from_build) {
        secret_left += (unsigned long)secret;
    } else {
        internal_copies += (unsigned long)secret;
    }
    free((uint8_t *)p - HDR);
}

static void *h_realloc(void *p, size_t n)
{
    if (p == NULL)
        return h_alloc(n);
    hdr h = header(p);
    void *q = alloc(n, (int)h.secure);
    if (q != NULL) {
        hdr qh = header(q);
        qh.from_build |= h.from_build;
        memcpy((uint8_t *)q - HDR, &qh, sizeof qh);
    }
    if (q == NULL)
        return NULL;
    memcpy(q, p, h.size < n ? h.size : n);
    h_free(p);
    return q;
}

int main(void)
{
    gcry_set_allocation_handler(h_alloc, h_alloc_secure, h_is_secure, h_realloc, h_free);
    const imc_backend *b = imc_backend_get("gcrypt");
    if (b == NULL) {
        imc_test_skip("gcrypt secrets", "no libgcrypt backend in this build");
        return imc_test_end();
    }
    /* Secrets with no run of equal bytes, unlikely anywhere by chance. */
    for (size_t i = 0; i < 32; i++) {
        seed[i] = (uint8_t)(0x9d ^ (i * 37));
        scalar[i] = (uint8_t)(0x3b + i * 11);
    }
    uint8_t pk[65], sig[64], shared[32], kp[64], msg[40] = "a message for the gcrypt secrets test";
    unsigned long before = secure_allocs;
    CHECK_OK(imc_crypto_ed25519_public(b, pk, seed));
    CHECK_OK(imc_crypto_ed25519_sign(b, sig, seed, pk, msg, sizeof msg));
    CHECK_OK(imc_crypto_ed25519_verify(b, sig, pk, msg, sizeof msg));
    memcpy(kp, seed, 32);
    memcpy(kp + 32, pk, 32);
    imc_prepared_key *k = NULL;
    CHECK_OK(imc_crypto_key_prepare(&k, b, IMC_KEY_ED25519_SECRET, kp, sizeof kp));
    CHECK_OK(imc_crypto_ed25519_sign_prepared(b, sig, k, msg, sizeof msg));
    imc_crypto_key_free(k);
    imc_wipe(kp, sizeof kp);
    CHECK(secure_allocs >= before + 3); /* each seed went in through secure memory */

    before = secure_allocs;
    CHECK_OK(imc_crypto_p256_public(b, pk, scalar));
    CHECK_OK(imc_crypto_p256_ecdh(b, shared, scalar, pk));
    CHECK_OK(imc_crypto_ecdsa_p256_sign(b, sig, scalar, msg, sizeof msg));
    CHECK_OK(imc_crypto_ecdsa_p256_verify(b, sig, pk, msg, sizeof msg));
    CHECK(secure_allocs >= before + 3);
    /* The prepared scalar's S-expressions live until the key is freed. */
    imc_prepared_key *ps = NULL, *pp = NULL;
    CHECK_OK(imc_crypto_key_prepare(&ps, b, IMC_KEY_P256_SECRET, scalar, sizeof scalar));
    CHECK_OK(imc_crypto_key_prepare(&pp, b, IMC_KEY_P256_PUBLIC, pk, 65));
    CHECK_OK(imc_crypto_p256_ecdh_prepared(b, shared, ps, pk));
    CHECK_OK(imc_crypto_ecdsa_p256_sign_prepared(b, sig, ps, msg, sizeof msg));
    CHECK_OK(imc_crypto_ecdsa_p256_verify_prepared(b, sig, pp, msg, sizeof msg));
    imc_crypto_key_free(ps);
    imc_crypto_key_free(pp);

    printf("freed blocks holding a secret: %lu from the backend's gcry_sexp_build in ordinary "
           "memory, %lu secure (which the pool wipes), %lu libgcrypt's own internal copies\n",
           secret_left, secure_with_secret, internal_copies);
    CHECK(secret_left == 0);
    CHECK(secure_with_secret > 0); /* the hooks do see the secrets */
    return imc_test_end();
}
