/* imc_msg_recipe and imc_msg_layout_of against the calls the library really
 * makes: encrypt and decrypt run through a backend that forwards every call
 * to a real one and records (primitive, length, aux length); the record
 * must equal the recipe, step for step in order of first call, for every
 * backend and suite, several handle lengths, fan-outs and body sizes. Plus the
 * argument and limit checks of both functions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "test.h"

#define MAX_CALLS 4096

typedef struct call {
    imc_prim prim;
    size_t len, aux;
} call;

/* The recording backend: the real one, its calls logged here. */
static const imc_backend *real;
static imc_backend rec;
static call calls[MAX_CALLS];
static size_t ncalls;
static int recording;

static void log_call(imc_prim prim, size_t len, size_t aux)
{
    if (recording && ncalls < MAX_CALLS) {
        calls[ncalls].prim = prim;
        calls[ncalls].len = len;
        calls[ncalls].aux = aux;
        ncalls++;
    }
}

/* The library backend that runs a primitive for `real` (itself, or its
 * part when it is a composition such as auto). */
#define PART(prim) imc_backend_part(real, IMC_BACKEND_PRIM_##prim)
#define PART_AEAD(aead)                                                                          \
    imc_backend_part(real, (aead) == IMC_AEAD_AES256GCM ? IMC_BACKEND_PRIM_AES256GCM             \
                                                         : IMC_BACKEND_PRIM_CHACHA20POLY1305)

static imc_status r_x25519_public(uint8_t *pk, const uint8_t *sk)
{
    log_call(IMC_PRIM_DH_KEYGEN, 0, 0);
    return PART(X25519)->x25519_public(pk, sk);
}

static imc_status r_p256_public(uint8_t *pk, const uint8_t *sk)
{
    log_call(IMC_PRIM_DH_KEYGEN, 0, 0);
    return PART(P256_ECDH)->p256_public(pk, sk);
}

static imc_status r_x25519(uint8_t *shared, const uint8_t *sk, const uint8_t *pk)
{
    log_call(IMC_PRIM_DH, 0, 0);
    return PART(X25519)->x25519(shared, sk, pk);
}

/* Prepared DH secrets (encrypt prepares its ephemeral secret for more
 * than one device): the "native object" is the prepared key's own bytes, so
 * the prepared calls are recorded as such (aux 1) and run the plain ones. */
static imc_status r_key_import(void **native, imc_key_kind kind, const uint8_t *raw)
{
    if (kind == IMC_KEY_X25519_SECRET || kind == IMC_KEY_P256_SECRET)
        log_call(IMC_PRIM_DH_PREPARE, 0, 0);
    *native = kind == IMC_KEY_X25519_SECRET || kind == IMC_KEY_P256_SECRET ? (void *)(uintptr_t)raw
                                                                            : NULL;
    return IMC_OK;
}

static imc_status r_x25519_prepared(uint8_t *shared, void *sk, const uint8_t *pk)
{
    log_call(IMC_PRIM_DH, 0, 1);
    return PART(X25519)->x25519(shared, sk, pk);
}

static imc_status r_p256_ecdh_prepared(uint8_t *shared, void *sk, const uint8_t *pk)
{
    log_call(IMC_PRIM_DH, 0, 1);
    return PART(P256_ECDH)->p256_ecdh(shared, sk, pk);
}

static imc_status r_p256_ecdh(uint8_t *shared, const uint8_t *sk, const uint8_t *pk)
{
    log_call(IMC_PRIM_DH, 0, 0);
    return PART(P256_ECDH)->p256_ecdh(shared, sk, pk);
}

static imc_status r_ed25519_sign(uint8_t *sig, const uint8_t *sk, const uint8_t *pk,
                                 const uint8_t *msg, size_t len)
{
    log_call(IMC_PRIM_SIGN, len, 0);
    return PART(ED25519)->ed25519_sign(sig, sk, pk, msg, len);
}

static imc_status r_ed25519_verify(const uint8_t *sig, const uint8_t *pk, const uint8_t *msg,
                                   size_t len)
{
    log_call(IMC_PRIM_VERIFY, len, 0);
    return PART(ED25519)->ed25519_verify(sig, pk, msg, len);
}

static imc_status r_ecdsa_sign(uint8_t *sig, const uint8_t *sk, const uint8_t *msg, size_t len)
{
    log_call(IMC_PRIM_SIGN, len, 0);
    return PART(ECDSA_P256)->ecdsa_p256_sign(sig, sk, msg, len);
}

static imc_status r_ecdsa_verify(const uint8_t *sig, const uint8_t *pk, const uint8_t *msg,
                                 size_t len)
{
    log_call(IMC_PRIM_VERIFY, len, 0);
    return PART(ECDSA_P256)->ecdsa_p256_verify(sig, pk, msg, len);
}

static imc_status r_seal(imc_aead aead, uint8_t *out, const uint8_t *key, const uint8_t *nonce,
                         const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t in_len)
{
    log_call(IMC_PRIM_AEAD_SEAL, in_len, ad_len);
    return PART_AEAD(aead)->aead_seal(aead, out, key, nonce, ad, ad_len, in, in_len);
}

static imc_status r_open(imc_aead aead, uint8_t *out, const uint8_t *key, const uint8_t *nonce,
                         const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t in_len)
{
    log_call(IMC_PRIM_AEAD_OPEN, in_len - IMC_AEAD_TAG_BYTES, ad_len);
    return PART_AEAD(aead)->aead_open(aead, out, key, nonce, ad, ad_len, in, in_len);
}

static imc_status r_sha256(uint8_t *out, const uint8_t *in, size_t len)
{
    log_call(IMC_PRIM_SHA256, len, 0);
    return PART(SHA256)->sha256(out, in, len);
}

static imc_status r_hkdf(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
                         const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len)
{
    log_call(IMC_PRIM_HKDF_SHA256, out_len, info_len);
    return PART(SHA256)->hkdf_sha256(out, out_len, salt, salt_len, ikm, ikm_len, info, info_len);
}

static uint32_t r_caps(void) { return imc_backend_caps(real); }
static const char *r_version(void) { return imc_backend_version(real); }
static imc_status r_random(uint8_t *out, size_t len) { return PART(RANDOM)->random(out, len); }

static void recorder_for(const imc_backend *b)
{
    real = b;
    rec = *b;
    rec.composed = 0; /* a composition's parts are called through the recorder */
    rec.caps = r_caps;
    rec.version = r_version;
    rec.random = r_random;
    rec.key_import = r_key_import;
    rec.key_free = NULL;
    rec.x25519_prepared = r_x25519_prepared;
    rec.p256_ecdh_prepared = r_p256_ecdh_prepared;
    /* Other prepared keys: the plain calls on their bytes. */
    rec.ed25519_sign_prepared = NULL;
    rec.ed25519_verify_prepared = NULL;
    rec.ecdsa_p256_sign_prepared = NULL;
    rec.ecdsa_p256_verify_prepared = NULL;
    rec.x25519_public = r_x25519_public;
    rec.p256_public = r_p256_public;
    rec.x25519 = r_x25519;
    rec.p256_ecdh = r_p256_ecdh;
    rec.ed25519_sign = r_ed25519_sign;
    rec.ed25519_verify = r_ed25519_verify;
    rec.ecdsa_p256_sign = r_ecdsa_sign;
    rec.ecdsa_p256_verify = r_ecdsa_verify;
    rec.aead_seal = r_seal;
    rec.aead_open = r_open;
    rec.sha256 = r_sha256;
    rec.hkdf_sha256 = r_hkdf;
}

/* The record, folded into steps: consecutive-or-not calls with the same
 * (primitive, len, aux) counted together, in order of first call. */
static size_t fold(imc_recipe_step *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < ncalls; i++) {
        size_t j = 0;
        while (j < n && !(out[j].prim == calls[i].prim && out[j].len == calls[i].len &&
                          out[j].aux == calls[i].aux))
            j++;
        if (j == n) {
            if (n == cap)
                return cap + 1;
            out[n].prim = calls[i].prim;
            out[n].len = calls[i].len;
            out[n].aux = calls[i].aux;
            out[n].count = 0;
            n++;
        }
        out[j].count++;
    }
    return n;
}

/* The recipe folded the same way (it may list one shape twice). */
static size_t fold_recipe(imc_recipe_step *out, const imc_recipe_step *in, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        size_t j = 0;
        while (j < n && !(out[j].prim == in[i].prim && out[j].len == in[i].len &&
                          out[j].aux == in[i].aux))
            j++;
        if (j == n)
            out[n++] = in[i], out[j].count = 0;
        out[j].count += in[i].count;
    }
    return n;
}

static int same_steps(const imc_recipe_step *a, size_t na, const imc_recipe_step *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (a[i].prim != b[i].prim || a[i].count != b[i].count || a[i].len != b[i].len ||
            a[i].aux != b[i].aux)
            return 0;
    return 1;
}

static void dump(const char *what, const imc_recipe_step *s, size_t n)
{
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %zux(prim %d, %zu, %zu)", s[i].count, (int)s[i].prim, s[i].len,
                s[i].aux);
    fprintf(stderr, "\n");
}

static void check_path(const char *what, imc_msg_path path, uint32_t suite, size_t hl,
                       size_t n, size_t body)
{
    imc_recipe_step want[IMC_RECIPE_MAX_STEPS], want_f[IMC_RECIPE_MAX_STEPS];
    imc_recipe_step got[IMC_RECIPE_MAX_STEPS];
    size_t nw = 0;
    CHECK_OK(imc_msg_recipe(want, &nw, path, suite, hl, n, body));
    size_t nwf = fold_recipe(want_f, want, nw);
    size_t ng = fold(got, IMC_RECIPE_MAX_STEPS);
    int ok = ng <= IMC_RECIPE_MAX_STEPS && same_steps(want_f, nwf, got, ng);
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "%s suite %u, handle %zu, %zu devices, body %zu:\n", what,
                (unsigned)suite, hl, n, body);
        dump("recipe", want_f, nwf);
        dump("calls ", got, ng > IMC_RECIPE_MAX_STEPS ? IMC_RECIPE_MAX_STEPS : ng);
    }
}

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = "imcore recipe test seed........";

static void run_case(const imc_suite *s, size_t hl, size_t n, size_t body_len)
{
    imc_device_keys sender, *dev = calloc(n, sizeof *dev);
    imc_device_public *pubs = calloc(n, sizeof *pubs);
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    uint8_t *body = calloc(body_len + 1, 1);
    size_t cap = imc_msg_envelope_size(s->id, hl, n, body_len);
    uint8_t *env = malloc(cap), *out = malloc(body_len + 1);
    imc_delivery_view *views = calloc(n, sizeof *views);
    imc_replay *replay = NULL;
    CHECK(dev != NULL && pubs != NULL && body != NULL && env != NULL && out != NULL &&
          views != NULL);
    if (dev == NULL || pubs == NULL || body == NULL || env == NULL || out == NULL ||
        views == NULL)
        goto done;
    memset(handle, 'h', hl);
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 0);
    CHECK_OK(imc_keys_generate(&sender, real, &rng, s->id, 1));
    for (size_t i = 0; i < n; i++) {
        CHECK_OK(imc_keys_generate(&dev[i], real, &rng, s->id, 100 + i));
        pubs[i] = dev[i].pub;
    }
    imc_msg_send req = {handle, hl, &sender, pubs, n, 1700000000000ull, body, body_len};
    size_t len = 0, count = 0;
    ncalls = 0;
    recording = 1;
    CHECK_OK(imc_msg_encrypt(env, cap, &len, &rec, &rng, &req));
    recording = 0;
    check_path("encrypt", IMC_MSG_PATH_ENCRYPT, s->id, hl, n, body_len);

    CHECK_OK(imc_msg_fanout(views, n, &count, env, len));
    size_t dlen = imc_delivery_view_size(&views[0]), dl = 0;
    uint8_t *dlv = malloc(dlen);
    CHECK(dlv != NULL);
    if (dlv != NULL) {
        CHECK_OK(imc_delivery_view_copy(dlv, dlen, &dl, &views[0]));
        imc_msg_peer peer = {handle, hl, &sender.pub};
        imc_msg_received info;
        /* Memory-only replay state; opening it draws its key, unrecorded. */
        CHECK_OK(imc_replay_open(&replay, NULL, NULL, real, NULL));
        ncalls = 0;
        recording = 1;
        CHECK_OK(imc_msg_decrypt(out, body_len, &info, &rec, &dev[0], &peer, replay,
                                 1700000000000ull, dlv, dl));
        recording = 0;
        check_path("decrypt", IMC_MSG_PATH_DECRYPT, s->id, hl, n, body_len);
        free(dlv);
    }
    imc_rng_wipe(&rng);
    imc_keys_wipe(&sender);
    for (size_t i = 0; i < n; i++)
        imc_keys_wipe(&dev[i]);
done:
    free(dev);
    free(pubs);
    free(body);
    free(env);
    free(out);
    free(views);
    imc_replay_close(replay);
}

/* The first backend built that has the suite. */
static const imc_backend *backend_for(const imc_suite *s)
{
    size_t nb = 0;
    const char *const *names = imc_backend_list(&nb);
    for (size_t i = 0; i < nb; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        if (b != NULL && imc_suite_supported(s, b))
            return b;
    }
    return NULL;
}

/* Every backend built, every suite it has: the recipe does not depend on
 * the backend, and no backend may make calls the recipe does not list. */
static void test_against_calls(void)
{
    static const size_t handles[] = {1, 17, IMC_MAX_HANDLE_BYTES};
    static const size_t fanouts[] = {1, 3, 8};
    static const size_t bodies[] = {0, 64, 1000};
    size_t nb = 0;
    const char *const *names = imc_backend_list(&nb);
    for (size_t i = 0; i < nb; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        for (uint32_t id = 1; b != NULL && id <= IMC_SUITE_COUNT; id++) {
            const imc_suite *s = imc_suite_get(id);
            if (!imc_suite_supported(s, b))
                continue;
            recorder_for(b);
            for (size_t h = 0; h < sizeof handles / sizeof handles[0]; h++)
                for (size_t f = 0; f < sizeof fanouts / sizeof fanouts[0]; f++)
                    for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++)
                        run_case(s, handles[h], fanouts[f], bodies[k]);
        }
    }
}

/* The layout agrees with the parsed envelope's signed header. */
static void test_layout_matches_envelope(void)
{
    const imc_suite *s = imc_suite_get(IMC_SUITE_X25519_ED25519_CHACHA20POLY1305);
    const imc_backend *b = backend_for(s);
    if (b == NULL)
        return;
    imc_device_keys sender, dev;
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 1);
    CHECK_OK(imc_keys_generate(&sender, b, &rng, s->id, 1));
    CHECK_OK(imc_keys_generate(&dev, b, &rng, s->id, 2));
    static const uint8_t handle[] = "alice@example.com";
    uint8_t body[10] = {0};
    uint8_t env[1024];
    size_t len = 0;
    imc_msg_send req = {handle, sizeof handle - 1, &sender, &dev.pub, 1, 1, body, sizeof body};
    CHECK_OK(imc_msg_encrypt(env, sizeof env, &len, b, &rng, &req));
    imc_envelope e;
    imc_msg_layout l;
    CHECK_OK(imc_msg_parse_envelope(&e, env, len));
    CHECK_OK(imc_msg_layout_of(&l, s->id, sizeof handle - 1, 1));
    CHECK(l.signed_header == e.h.signed_part_len);
    CHECK(l.body_tag + sizeof body == e.h.body_len);
    imc_rng_wipe(&rng);
    imc_keys_wipe(&sender);
    imc_keys_wipe(&dev);
}

static void test_arguments(void)
{
    imc_recipe_step steps[IMC_RECIPE_MAX_STEPS];
    imc_msg_layout l;
    size_t n = 99;
    CHECK_ST(imc_msg_layout_of(NULL, 1, 17, 1), IMC_ERR_ARG);
    CHECK_ST(imc_msg_layout_of(&l, 0, 17, 1), IMC_ERR_ARG);
    CHECK_ST(imc_msg_layout_of(&l, IMC_SUITE_COUNT + 1, 17, 1), IMC_ERR_ARG);
    CHECK_ST(imc_msg_layout_of(&l, 1, 0, 1), IMC_ERR_LIMIT);
    CHECK_ST(imc_msg_layout_of(&l, 1, IMC_MAX_HANDLE_BYTES + 1, 1), IMC_ERR_LIMIT);
    CHECK_ST(imc_msg_layout_of(&l, 1, 17, 0), IMC_ERR_LIMIT);
    CHECK_ST(imc_msg_layout_of(&l, 1, 17, IMC_MAX_RECIPIENTS + 1), IMC_ERR_LIMIT);
    CHECK_OK(imc_msg_layout_of(&l, 1, IMC_MAX_HANDLE_BYTES, IMC_MAX_RECIPIENTS));
    CHECK_ST(imc_msg_recipe(steps, NULL, IMC_MSG_PATH_ENCRYPT, 1, 17, 1, 64), IMC_ERR_ARG);
    CHECK_ST(imc_msg_recipe(NULL, &n, IMC_MSG_PATH_ENCRYPT, 1, 17, 1, 64), IMC_ERR_ARG);
    CHECK(n == 0);
    n = 99;
    CHECK_ST(imc_msg_recipe(steps, &n, (imc_msg_path)0, 1, 17, 1, 64), IMC_ERR_ARG);
    CHECK(n == 0);
    CHECK_ST(imc_msg_recipe(steps, &n, IMC_MSG_PATH_ENCRYPT, 9, 17, 1, 64), IMC_ERR_ARG);
    CHECK_ST(imc_msg_recipe(steps, &n, IMC_MSG_PATH_ENCRYPT, 1, 17, 0, 64), IMC_ERR_LIMIT);
    CHECK_ST(imc_msg_recipe(steps, &n, IMC_MSG_PATH_ENCRYPT, 1, 17, 1, IMC_MAX_BODY_BYTES + 1),
             IMC_ERR_LIMIT);
    CHECK(n == 0);
    /* decrypt hashes the recipient set: its size counts, and is checked */
    CHECK_ST(imc_msg_recipe(steps, &n, IMC_MSG_PATH_DECRYPT, 1, 17, 0, 64), IMC_ERR_LIMIT);
    CHECK_OK(imc_msg_recipe(steps, &n, IMC_MSG_PATH_DECRYPT, 1, 17, 8, 64));
    CHECK(n > 0 && n <= IMC_RECIPE_MAX_STEPS);
}

int main(void)
{
    test_arguments();
    test_layout_matches_envelope();
    test_against_calls();
    return imc_test_end();
}
