/* Composed backends (imc_backend_compose), label kat.
 *
 *   1. Agreement: for every primitive and every library backend that has
 *      it, a composition that runs the primitive there (and the others on
 *      other backends) gives the same bytes and the same refusals as that
 *      backend called directly, plain and with prepared keys.
 *   2. Refusals: every invalid composition is refused with its status, and
 *      leaves the caller's storage untouched; a primitive without a choice
 *      is unavailable. */
#include "backend/backend_impl.h"
#include "test.h"

#define MAXB 8

static const imc_backend *libs[MAXB];
static size_t n_libs;

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 31 * i);
}

/* c runs p on lib: the same answers as lib for p's operations. */
static void agree(const imc_backend *c, const imc_backend *lib, imc_backend_prim p)
{
    uint8_t a[1100], b[1100], sk[32], pk[65], msg[1024], key[32], nonce[12];
    fill(sk, sizeof sk, 0x11);
    fill(msg, sizeof msg, 3);
    fill(key, sizeof key, 0x77);
    fill(nonce, sizeof nonce, 9);
    imc_prepared_key *kc = NULL, *kl = NULL;
    switch (p) {
    case IMC_BACKEND_PRIM_RANDOM:
        CHECK_OK(imc_crypto_random(c, a, 32));
        CHECK_OK(imc_crypto_random(c, b, 32));
        CHECK(memcmp(a, b, 32) != 0);
        break;
    case IMC_BACKEND_PRIM_X25519: {
        uint8_t peer[32], low[32] = {1};
        CHECK_OK(imc_crypto_x25519_public(c, a, sk));
        CHECK_OK(imc_crypto_x25519_public(lib, b, sk));
        CHECK(memcmp(a, b, 32) == 0);
        fill(peer, sizeof peer, 0x5a);
        CHECK_OK(imc_crypto_x25519(c, a, sk, peer));
        CHECK_OK(imc_crypto_x25519(lib, b, sk, peer));
        CHECK(memcmp(a, b, 32) == 0);
        CHECK_ST(imc_crypto_x25519(c, a, sk, low), IMC_ERR_WEAK_KEY);
        CHECK_OK(imc_crypto_key_prepare(&kc, c, IMC_KEY_X25519_SECRET, sk, 32));
        CHECK_OK(imc_crypto_x25519_prepared(c, a, kc, peer));
        CHECK(memcmp(a, b, 32) == 0);
        CHECK_ST(imc_crypto_x25519_prepared(c, a, kc, low), IMC_ERR_WEAK_KEY);
        /* A key prepared on the part is not the composition's. */
        CHECK_OK(imc_crypto_key_prepare(&kl, lib, IMC_KEY_X25519_SECRET, sk, 32));
        CHECK_ST(imc_crypto_x25519_prepared(c, a, kl, peer), IMC_ERR_ARG);
        break;
    }
    case IMC_BACKEND_PRIM_ED25519: {
        uint8_t kp[64];
        CHECK_OK(imc_crypto_ed25519_public(c, pk, sk));
        CHECK_OK(imc_crypto_ed25519_public(lib, b, sk));
        CHECK(memcmp(pk, b, 32) == 0);
        CHECK_OK(imc_crypto_ed25519_sign(c, a, sk, pk, msg, 64));
        CHECK_OK(imc_crypto_ed25519_sign(lib, b, sk, pk, msg, 64));
        CHECK(memcmp(a, b, 64) == 0);
        CHECK_OK(imc_crypto_ed25519_verify(c, a, pk, msg, 64));
        memcpy(kp, sk, 32);
        memcpy(kp + 32, pk, 32);
        CHECK_OK(imc_crypto_key_prepare(&kc, c, IMC_KEY_ED25519_SECRET, kp, 64));
        CHECK_OK(imc_crypto_ed25519_sign_prepared(c, a, kc, msg, 64));
        CHECK(memcmp(a, b, 64) == 0);
        CHECK_OK(imc_crypto_key_prepare(&kl, c, IMC_KEY_ED25519_PUBLIC, pk, 32));
        CHECK_OK(imc_crypto_ed25519_verify_prepared(c, a, kl, msg, 64));
        a[5] ^= 1;
        CHECK_ST(imc_crypto_ed25519_verify(c, a, pk, msg, 64), IMC_ERR_AUTH);
        CHECK_ST(imc_crypto_ed25519_verify_prepared(c, a, kl, msg, 64), IMC_ERR_AUTH);
        imc_wipe(kp, sizeof kp);
        break;
    }
    case IMC_BACKEND_PRIM_CHACHA20POLY1305:
    case IMC_BACKEND_PRIM_AES256GCM: {
        imc_aead aead =
            p == IMC_BACKEND_PRIM_AES256GCM ? IMC_AEAD_AES256GCM : IMC_AEAD_CHACHA20POLY1305;
        CHECK_OK(imc_crypto_aead_seal(c, aead, a, sizeof a, key, nonce, 12, msg, 7, msg, 1024));
        CHECK_OK(imc_crypto_aead_seal(lib, aead, b, sizeof b, key, nonce, 12, msg, 7, msg, 1024));
        CHECK(memcmp(a, b, 1040) == 0);
        CHECK_OK(imc_crypto_aead_open(c, aead, b, sizeof b, key, nonce, 12, msg, 7, a, 1040));
        CHECK(memcmp(b, msg, 1024) == 0);
        a[3] ^= 1;
        CHECK_ST(imc_crypto_aead_open(c, aead, b, sizeof b, key, nonce, 12, msg, 7, a, 1040),
                 IMC_ERR_AUTH);
        break;
    }
    case IMC_BACKEND_PRIM_P256_ECDH: {
        uint8_t peer_sk[32], peer[65];
        fill(peer_sk, sizeof peer_sk, 0x21);
        CHECK_OK(imc_crypto_p256_public(c, peer, peer_sk));
        CHECK_OK(imc_crypto_p256_public(lib, b, peer_sk));
        CHECK(memcmp(peer, b, 65) == 0);
        CHECK_OK(imc_crypto_p256_ecdh(c, a, sk, peer));
        CHECK_OK(imc_crypto_p256_ecdh(lib, b, sk, peer));
        CHECK(memcmp(a, b, 32) == 0);
        CHECK_OK(imc_crypto_key_prepare(&kc, c, IMC_KEY_P256_SECRET, sk, 32));
        CHECK_OK(imc_crypto_p256_ecdh_prepared(c, a, kc, peer));
        CHECK(memcmp(a, b, 32) == 0);
        peer[64] ^= 1; /* off the curve */
        CHECK(imc_crypto_p256_ecdh(c, a, sk, peer) != IMC_OK);
        CHECK(imc_crypto_p256_ecdh_prepared(c, a, kc, peer) != IMC_OK);
        break;
    }
    case IMC_BACKEND_PRIM_ECDSA_P256: {
        /* Its public key from the library (the composition may not have
         * P-256 ECDH). */
        CHECK_OK(imc_crypto_p256_public(lib, pk, sk));
        CHECK_OK(imc_crypto_ecdsa_p256_sign(c, a, sk, msg, 64));
        CHECK_OK(imc_crypto_ecdsa_p256_sign(lib, b, sk, msg, 64));
        CHECK(memcmp(a, b, 64) == 0); /* RFC 6979, low s */
        CHECK_OK(imc_crypto_ecdsa_p256_verify(c, a, pk, msg, 64));
        a[40] ^= 1;
        CHECK_ST(imc_crypto_ecdsa_p256_verify(c, a, pk, msg, 64), IMC_ERR_AUTH);
        break;
    }
    case IMC_BACKEND_PRIM_SHA256:
        CHECK_OK(imc_crypto_sha256(c, a, msg, 100));
        CHECK_OK(imc_crypto_sha256(lib, b, msg, 100));
        CHECK(memcmp(a, b, 32) == 0);
        CHECK_OK(imc_crypto_hmac_sha256(c, a, key, 32, msg, 100));
        CHECK_OK(imc_crypto_hmac_sha256(lib, b, key, 32, msg, 100));
        CHECK(memcmp(a, b, 32) == 0);
        CHECK_OK(imc_crypto_hkdf_sha256(c, a, 80, key, 5, msg, 40, key, 9));
        CHECK_OK(imc_crypto_hkdf_sha256(lib, b, 80, key, 5, msg, 40, key, 9));
        CHECK(memcmp(a, b, 80) == 0);
        break;
    case IMC_BACKEND_PRIM_COUNT:
        CHECK(0);
        break;
    }
    imc_crypto_key_free(kc);
    imc_crypto_key_free(kl);
}

/* The k-th library (cyclically) after `from` that has p, or NULL. */
static const imc_backend *other_with(imc_backend_prim p, size_t from, size_t k)
{
    for (size_t i = 1; i <= n_libs; i++) {
        const imc_backend *b = libs[(from + i * (k + 1)) % n_libs];
        if (imc_backend_has_prim(b, p))
            return b;
    }
    return NULL;
}

static void test_agreement(void)
{
    size_t checked = 0;
    for (size_t l = 0; l < n_libs; l++) {
        for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++) {
            if (!imc_backend_has_prim(libs[l], (imc_backend_prim)p))
                continue;
            /* p on libs[l], every other primitive on some other library. */
            imc_backend_choice ch[IMC_BACKEND_PRIM_COUNT];
            size_t n = 0;
            for (size_t q = 0; q < IMC_BACKEND_PRIM_COUNT; q++) {
                const imc_backend *b = q == p ? libs[l] : other_with((imc_backend_prim)q, l, q % 3);
                if (b == NULL)
                    continue;
                ch[n].prim = (imc_backend_prim)q;
                ch[n++].backend = imc_backend_name(b);
            }
            imc_backend_composition storage;
            const imc_backend *c = NULL;
            CHECK_OK(imc_backend_compose(&c, &storage, ch, n));
            if (c == NULL)
                continue;
            CHECK(strcmp(imc_backend_name(c), "composed") == 0);
            CHECK(imc_backend_has_prim(c, (imc_backend_prim)p));
            agree(c, libs[l], (imc_backend_prim)p);
            checked++;
        }
    }
    printf("agreement: %zu (primitive, library) pairs through compositions\n", checked);
    CHECK(checked >= 8);
}

/* A composition of one primitive: the others are unavailable. */
static void test_partial(void)
{
    imc_backend_composition storage;
    const imc_backend *c = NULL;
    const imc_backend_choice one = {IMC_BACKEND_PRIM_SHA256, imc_backend_name(libs[0])};
    CHECK_OK(imc_backend_compose(&c, &storage, &one, 1));
    CHECK(imc_backend_caps(c) == IMC_CAP_SHA256);
    char want[64];
    snprintf(want, sizeof want, "sha256=%s", imc_backend_name(libs[0]));
    CHECK(strcmp(imc_backend_version(c), want) == 0);
    uint8_t out[64], sk[32] = {9}, pk[32] = {9};
    CHECK_OK(imc_crypto_sha256(c, out, sk, sizeof sk));
    CHECK_ST(imc_crypto_x25519(c, out, sk, pk), IMC_ERR_UNSUPPORTED);
    CHECK_ST(imc_crypto_x25519_public(c, out, sk), IMC_ERR_UNSUPPORTED);
    CHECK_ST(imc_crypto_random(c, out, 8), IMC_ERR_UNSUPPORTED);
    CHECK_ST(
        imc_crypto_aead_seal(c, IMC_AEAD_AES256GCM, out, sizeof out, sk, pk, 12, NULL, 0, NULL, 0),
        IMC_ERR_UNSUPPORTED);
    imc_prepared_key *k = NULL;
    CHECK_ST(imc_crypto_key_prepare(&k, c, IMC_KEY_X25519_SECRET, sk, 32), IMC_ERR_UNSUPPORTED);
    CHECK(k == NULL);
    CHECK(!imc_suite_supported(imc_suite_get(1), c));
    /* Nothing at all is a valid (useless) composition. */
    CHECK_OK(imc_backend_compose(&c, &storage, NULL, 0));
    CHECK(imc_backend_caps(c) == 0);
    CHECK(strcmp(imc_backend_version(c), "nothing") == 0);
}

static void refused(const imc_backend_choice *ch, size_t n, imc_status want)
{
    imc_backend_composition storage, before;
    memset(&storage, 0xa5, sizeof storage);
    before = storage;
    const imc_backend *c = libs[0];
    CHECK_ST(imc_backend_compose(&c, &storage, ch, n), want);
    CHECK(c == NULL);
    CHECK(memcmp(&storage, &before, sizeof storage) == 0);
}

static void test_refusals(void)
{
    const char *lib = imc_backend_name(libs[0]);
    imc_backend_choice ch[3] = {{IMC_BACKEND_PRIM_SHA256, lib}, {IMC_BACKEND_PRIM_SHA256, lib}};
    refused(ch, 2, IMC_ERR_ARG); /* a primitive twice */
    ch[1].prim = IMC_BACKEND_PRIM_COUNT;
    refused(ch, 2, IMC_ERR_ARG); /* out of range */
    ch[1].prim = (imc_backend_prim)-1;
    refused(ch, 2, IMC_ERR_ARG);
    ch[1].prim = IMC_BACKEND_PRIM_RANDOM;
    ch[1].backend = NULL;
    refused(ch, 2, IMC_ERR_ARG);
    ch[1].backend = "no-such-library";
    refused(ch, 2, IMC_ERR_NOT_FOUND);
    ch[1].backend = "SODIUM";
    refused(ch, 2, IMC_ERR_NOT_FOUND);
    ch[1].backend = "auto"; /* a composition is not a part */
    refused(ch, 2, IMC_ERR_ARG);
    ch[1].backend = "composed";
    refused(ch, 2, IMC_ERR_NOT_FOUND);
    refused(NULL, 1, IMC_ERR_ARG);
    /* A library without the primitive (Mbed TLS has no Ed25519; libsodium
     * no P-256). */
    size_t tried = 0;
    for (size_t l = 0; l < n_libs; l++) {
        for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++) {
            if (imc_backend_has_prim(libs[l], (imc_backend_prim)p))
                continue;
            ch[1].prim = (imc_backend_prim)p;
            ch[1].backend = imc_backend_name(libs[l]);
            refused(ch, 2, IMC_ERR_UNSUPPORTED);
            tried++;
        }
    }
    if (tried == 0)
        imc_test_skip("refusal of a missing primitive", "every library has every primitive");
    imc_backend_composition storage;
    const imc_backend *c = NULL;
    CHECK_ST(imc_backend_compose(NULL, &storage, ch, 1), IMC_ERR_ARG);
    CHECK_ST(imc_backend_compose(&c, NULL, ch, 1), IMC_ERR_ARG);
    CHECK(c == NULL);
    CHECK(imc_backend_prim_name(IMC_BACKEND_PRIM_COUNT) == NULL);
    CHECK(strcmp(imc_backend_prim_name(IMC_BACKEND_PRIM_P256_ECDH), "p256-ecdh") == 0);
}

int main(void)
{
    const imc_backend *all[MAXB];
    size_t n = imc_test_backends(all, MAXB);
    for (size_t i = 0; i < n; i++)
        if (strcmp(imc_backend_name(all[i]), "auto") != 0)
            libs[n_libs++] = all[i];
    if (n_libs == 0) {
        imc_test_skip("compositions", "no library backend");
        return imc_test_end();
    }
    test_agreement();
    test_partial();
    test_refusals();
    return imc_test_end();
}
