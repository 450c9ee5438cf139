/* Backend interop, conformance to docs/wire-format.md, golden vectors.
 *
 * 1. For every suite and every pair of backends supporting it: encrypt on
 *    one, decrypt every delivery on the other. With the deterministic RNG
 *    and the same seed the keys are identical on every backend, and for the
 *    suites with deterministic signatures (1 and 3: Ed25519) so is the
 *    envelope, byte for byte.
 * 2. The deliveries are also opened by hand from the spec (msg_fixture.h,
 *    crypto.h primitives only), and envelopes made by hand from the spec
 *    are opened by the library, on every backend.
 * 3. Golden vectors in core/tests/data/golden (found through IMC_TEST_DATA):
 *    suiteN-*.bin for suites 1 and 3: the body, the envelope, its
 *    deliveries, and the sender's and devices' keys as key files. The test
 *    regenerates them in memory with the same seed on every backend and
 *    compares byte for byte, decodes the committed key files, and decrypts
 *    the committed deliveries with them; so any change of format shows up
 *    here, as a failing test and a binary diff.
 *
 * Regenerate the golden files (only for an intended format change):
 *
 *   cmake --build build/dev --target test_interop &&
 *   build/dev/core/tests/test_interop --regenerate core/tests/data/golden
 */
#include "msg_fixture.h"

#define NDEV 3

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = "imcore golden vectors, seed 0001";
static const uint64_t KEY_STREAM = 1, MSG_STREAM = 2, SPEC_STREAM = 3;
static const char BODY[] = "imcore golden vector: one body, encrypted once, for three devices.";
#define BODY_LEN (sizeof BODY - 1)
static const uint32_t GOLDEN_SUITES[] = {1, 3};


/* The test's message: party and envelope from the fixed seed on backend b. */
static imc_status make(fx_party *p, fx_msg *m, const imc_backend *b, uint32_t suite)
{
    imc_status st = fx_party_init(p, b, suite, NDEV, "golden@example.com", SEED, KEY_STREAM);
    memset(m, 0, sizeof *m);
    if (st != IMC_OK)
        return st;
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, MSG_STREAM);
    return fx_send(m, p, b, &rng, FX_TS, (const uint8_t *)BODY, BODY_LEN);
}

static bool decrypts(const fx_party *p, const imc_backend *b, size_t dev, const uint8_t *d,
                     size_t len, const char *tag)
{
    uint8_t out[BODY_LEN];
    imc_msg_received info;
    imc_replay *rc = fx_replay(b);
    fx_layout L;
    imc_status st = fx_open(out, sizeof out, &info, b, p, dev, rc, d, len);
    bool ok = st == IMC_OK && fx_layout_read(&L, d, len) &&
              fx_info_ok(&info, p, FX_TS, BODY_LEN, d + L.mid) &&
              memcmp(out, BODY, BODY_LEN) == 0;
    if (!ok)
        fprintf(stderr, "  [%s] device %zu: %s\n", tag, dev, imc_status_str(st));
    imc_replay_close(rc);
    return ok;
}

static bool spec_decrypts(const fx_party *p, const imc_backend *b, size_t dev, const uint8_t *d,
                          size_t len, const char *tag)
{
    uint8_t out[BODY_LEN];
    size_t out_len = 0;
    imc_status st = fx_spec_decrypt(out, sizeof out, &out_len, b, &p->dev[dev], p, d, len);
    bool ok = st == IMC_OK && out_len == BODY_LEN && memcmp(out, BODY, BODY_LEN) == 0;
    if (!ok)
        fprintf(stderr, "  [%s] by hand, device %zu: %s\n", tag, dev, imc_status_str(st));
    return ok;
}

static void print_diff(const char *name, const uint8_t *want, size_t want_len,
                       const uint8_t *got, size_t got_len)
{
    size_t i = 0;
    while (i < want_len && i < got_len && want[i] == got[i])
        i++;
    fprintf(stderr, "  %s: committed %zu bytes, generated %zu; first difference at %zu\n", name,
            want_len, got_len, i);
    size_t from = i >= 8 ? i - 8 : 0;
    fprintf(stderr, "    committed:");
    for (size_t k = from; k < want_len && k < i + 16; k++)
        fprintf(stderr, " %02x", want[k]);
    fprintf(stderr, "\n    generated:");
    for (size_t k = from; k < got_len && k < i + 16; k++)
        fprintf(stderr, " %02x", got[k]);
    fprintf(stderr, "\n");
}

/* ---- 1 and 2: across backends, and against the spec --------------------- */

static void test_cross(const imc_suite *s)
{
    const imc_backend *bs[FX_MAXB];
    size_t nb = fx_backends_for(bs, s);
    if (nb == 0) {
        imc_test_skip(s->short_name, "no backend supports it here");
        return;
    }
    if (nb < 2)
        printf("%-26s only %s supports it here: no cross-backend check\n", s->short_name,
               imc_backend_name(bs[0]));
    fx_party p[FX_MAXB];
    fx_msg m[FX_MAXB];
    for (size_t e = 0; e < nb; e++) {
        CHECK_OK(make(&p[e], &m[e], bs[e], s->id));
        CHECK(m[e].n == NDEV);
    }
    for (size_t e = 1; e < nb; e++) {
        /* Same seed, same keys, on every backend. */
        CHECK(fx_keys_equal(&p[e].sender, &p[0].sender));
        for (size_t i = 0; i < NDEV; i++)
            CHECK(fx_keys_equal(&p[e].dev[i], &p[0].dev[i]));
        /* Every suite is deterministic under the deterministic RNG (ECDSA
         * signs with RFC 6979 nonces and low S on every backend). */
        bool same = m[e].env_len == m[0].env_len &&
                    memcmp(m[e].env, m[0].env, m[0].env_len) == 0;
        CHECK(same);
        if (!same) {
            char name[96];
            snprintf(name, sizeof name, "%s envelope, %s vs %s", s->short_name,
                     imc_backend_name(bs[0]), imc_backend_name(bs[e]));
            print_diff(name, m[0].env, m[0].env_len, m[e].env, m[e].env_len);
        }
    }
    for (size_t e = 0; e < nb; e++) {
        for (size_t d = 0; d < nb; d++) {
            char tag[96];
            snprintf(tag, sizeof tag, "%s %s->%s", s->short_name, imc_backend_name(bs[e]),
                     imc_backend_name(bs[d]));
            for (size_t i = 0; i < m[e].n; i++) {
                size_t dev = fx_find_device(&p[e], m[e].del_dev[i]);
                CHECK(dev == i);
                CHECK(decrypts(&p[e], bs[d], dev, m[e].del[i], m[e].del_len[i], tag));
                CHECK(spec_decrypts(&p[e], bs[d], dev, m[e].del[i], m[e].del_len[i], tag));
            }
            /* An envelope made by hand from the spec on e, opened on d. */
            imc_rng rng;
            imc_rng_init_deterministic(&rng, SEED, SPEC_STREAM);
            fx_msg h = {0};
            size_t cap = imc_msg_envelope_size(s->id, p[e].handle_len, NDEV, BODY_LEN);
            h.env = fx_alloc(cap);
            CHECK_OK(fx_spec_encrypt(h.env, cap, &h.env_len, bs[e], &rng, &p[e], p[e].pub, NDEV,
                                     FX_TS, (const uint8_t *)BODY, BODY_LEN, &fx_honest));
            CHECK(h.env_len == cap);
            CHECK_OK(fx_fanout(&h));
            CHECK(h.n == NDEV);
            for (size_t i = 0; i < h.n; i++)
                CHECK(decrypts(&p[e], bs[d], i, h.del[i], h.del_len[i], "spec envelope"));
            fx_msg_free(&h);
        }
        /* The spec fixes what is drawn in which order (mid, ck, ephemeral
         * key): the hand-made envelope from the library's own RNG stream
         * is then the library's envelope, byte for byte. */
        {
            imc_rng rng;
            imc_rng_init_deterministic(&rng, SEED, MSG_STREAM);
            size_t cap = m[e].env_len, len = 0;
            uint8_t *x = fx_alloc(cap);
            CHECK_OK(fx_spec_encrypt(x, cap, &len, bs[e], &rng, &p[e], p[e].pub, NDEV, FX_TS,
                                     (const uint8_t *)BODY, BODY_LEN, &fx_honest));
            bool same = len == m[e].env_len && memcmp(x, m[e].env, len) == 0;
            CHECK(same);
            if (!same)
                print_diff("library envelope vs the spec by hand", m[e].env, m[e].env_len, x,
                           len);
            free(x);
        }
    }
    printf("%-26s envelope compared byte for byte on %zu backend(s):", s->short_name, nb);
    for (size_t e = 0; e < nb; e++)
        printf(" %s", imc_backend_name(bs[e]));
    printf("\n");
    for (size_t e = 0; e < nb; e++) {
        fx_msg_free(&m[e]);
        fx_party_free(&p[e]);
    }
}

/* ---- 3: golden vectors -------------------------------------------------- */

typedef struct golden_file {
    char name[64];
    uint8_t *data;
    size_t len;
} golden_file;

#define MAX_FILES (2 + NDEV + 2 * (NDEV + 1))

/* Everything the golden set holds for a suite, generated on b. */
static size_t golden_make(golden_file f[MAX_FILES], const imc_backend *b, uint32_t suite)
{
    fx_party p;
    fx_msg m;
    size_t n = 0;
    CHECK_OK(make(&p, &m, b, suite));
    CHECK(m.n == NDEV);
    snprintf(f[n].name, sizeof f[n].name, "suite%u-body.bin", (unsigned)suite);
    f[n].data = fx_dup((const uint8_t *)BODY, BODY_LEN);
    f[n++].len = BODY_LEN;
    snprintf(f[n].name, sizeof f[n].name, "suite%u-envelope.bin", (unsigned)suite);
    f[n].data = fx_dup(m.env, m.env_len);
    f[n++].len = m.env_len;
    for (size_t i = 0; i < m.n && i < NDEV; i++) {
        snprintf(f[n].name, sizeof f[n].name, "suite%u-delivery-%zu.bin", (unsigned)suite, i);
        f[n].data = fx_dup(m.del[i], m.del_len[i]);
        f[n++].len = m.del_len[i];
    }
    for (size_t i = 0; i <= NDEV; i++) {
        const imc_device_keys *k = i == 0 ? &p.sender : &p.dev[i - 1];
        char who[32];
        if (i == 0)
            snprintf(who, sizeof who, "sender");
        else
            snprintf(who, sizeof who, "device-%zu", i - 1);
        snprintf(f[n].name, sizeof f[n].name, "suite%u-%s-secret.bin", (unsigned)suite, who);
        f[n].data = fx_alloc(IMC_KEYS_SECRET_ENCODED_MAX);
        CHECK_OK(imc_keys_encode_secret(f[n].data, IMC_KEYS_SECRET_ENCODED_MAX, &f[n].len, k));
        n++;
        snprintf(f[n].name, sizeof f[n].name, "suite%u-%s-public.bin", (unsigned)suite, who);
        f[n].data = fx_alloc(IMC_KEYS_PUBLIC_ENCODED_MAX);
        CHECK_OK(imc_keys_encode_public(f[n].data, IMC_KEYS_PUBLIC_ENCODED_MAX, &f[n].len,
                                        &k->pub));
        n++;
    }
    fx_msg_free(&m);
    fx_party_free(&p);
    return n;
}

static void golden_free(golden_file f[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i].data);
}

static uint8_t *read_file(const char *dir, const char *name, size_t *len)
{
    char path[2048];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return NULL;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "  cannot open %s\n", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = fx_alloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += r;
        if (n == cap) {
            uint8_t *bigger = fx_alloc(cap * 2);
            memcpy(bigger, buf, n);
            free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(fp);
    *len = n;
    /* An exact-size copy, for ASan. */
    uint8_t *exact = fx_dup(buf, n);
    free(buf);
    return exact;
}

static int write_file(const char *dir, const golden_file *f)
{
    char path[2048];
    if (snprintf(path, sizeof path, "%s/%s", dir, f->name) >= (int)sizeof path)
        return -1;
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(f->data, 1, f->len, fp) != f->len || fclose(fp) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return -1;
    }
    printf("wrote %s (%zu bytes)\n", path, f->len);
    return 0;
}

static int regenerate(const char *dir)
{
    int rc = 0;
    for (size_t g = 0; g < sizeof GOLDEN_SUITES / sizeof GOLDEN_SUITES[0]; g++) {
        const imc_backend *bs[FX_MAXB];
        if (fx_backends_for(bs, imc_suite_get(GOLDEN_SUITES[g])) == 0) {
            fprintf(stderr, "no backend supports suite %u here\n", (unsigned)GOLDEN_SUITES[g]);
            return 1;
        }
        golden_file f[MAX_FILES];
        size_t n = golden_make(f, bs[0], GOLDEN_SUITES[g]);
        for (size_t i = 0; i < n; i++)
            if (write_file(dir, &f[i]) != 0)
                rc = 1;
        golden_free(f, n);
    }
    return rc != 0 || imc_test_end() != 0;
}

/* Decode the committed key files; decrypt the committed deliveries with
 * them (library and by hand); check the strict key-file decoder. */
static void golden_use(const golden_file *want, size_t n, uint32_t suite, const imc_backend *b)
{
    const char *tag = imc_backend_name(b);
    CHECK(n == MAX_FILES);
    fx_party p;
    memset(&p, 0, sizeof p);
    p.suite = imc_suite_get(suite);
    p.handle_len = strlen("golden@example.com");
    memcpy(p.handle, "golden@example.com", p.handle_len);
    p.n = NDEV;
    p.dev = fx_alloc(NDEV * sizeof *p.dev);
    p.pub = fx_alloc(NDEV * sizeof *p.pub);
    /* want[]: body, envelope, deliveries 0..2, then secret/public pairs. */
    const golden_file *env = &want[1], *del = &want[2], *keys = &want[2 + NDEV];
    for (size_t i = 0; i <= NDEV; i++) {
        imc_device_keys *k = i == 0 ? &p.sender : &p.dev[i - 1];
        const golden_file *sec = &keys[2 * i], *pub = &keys[2 * i + 1];
        CHECK_OK(imc_keys_decode_secret(k, b, sec->data, sec->len));
        CHECK_OK(imc_keys_check(k, b));
        imc_device_public dp;
        CHECK_OK(imc_keys_decode_public(&dp, pub->data, pub->len));
        CHECK(dp.suite == k->pub.suite && dp.device_id == k->pub.device_id &&
              memcmp(dp.dh_pk, k->pub.dh_pk, sizeof dp.dh_pk) == 0 &&
              memcmp(dp.sig_pk, k->pub.sig_pk, sizeof dp.sig_pk) == 0);
        CHECK(k->pub.suite == suite &&
              k->pub.device_id == (i == 0 ? FX_SENDER_ID : fx_device_id(i - 1)));
        if (i > 0)
            p.pub[i - 1] = k->pub;
    }
    /* The strict decoder: every truncation, one trailing byte, a secret
     * that does not match its public key. */
    const golden_file *sec = &keys[0], *pub = &keys[1];
    imc_device_keys k;
    imc_device_public dp;
    size_t bad = 0;
    for (size_t len = 0; len < sec->len; len++) {
        uint8_t *x = fx_dup(sec->data, len);
        if (imc_keys_decode_secret(&k, b, x, len) == IMC_OK)
            bad++;
        free(x);
    }
    for (size_t len = 0; len < pub->len; len++) {
        uint8_t *x = fx_dup(pub->data, len);
        if (imc_keys_decode_public(&dp, x, len) == IMC_OK)
            bad++;
        free(x);
    }
    CHECK(bad == 0);
    uint8_t *x = fx_alloc(sec->len + 1);
    memcpy(x, sec->data, sec->len);
    CHECK(imc_keys_decode_secret(&k, b, x, sec->len + 1) != IMC_OK);
    x[sec->len - 1] ^= 1; /* last byte: part of a secret key */
    CHECK(imc_keys_decode_secret(&k, b, x, sec->len) != IMC_OK);
    free(x);
    x = fx_dup(pub->data, pub->len);
    CHECK(imc_keys_decode_secret(&k, b, x, pub->len) != IMC_OK); /* public is not secret */
    CHECK(imc_keys_decode_public(&dp, sec->data, sec->len) != IMC_OK);
    free(x);

    /* The committed deliveries, and the committed envelope's fan-out. */
    for (size_t i = 0; i < NDEV; i++) {
        CHECK(decrypts(&p, b, i, del[i].data, del[i].len, tag));
        CHECK(spec_decrypts(&p, b, i, del[i].data, del[i].len, tag));
    }
    fx_msg m = {0};
    m.env = fx_dup(env->data, env->len);
    m.env_len = env->len;
    CHECK_OK(fx_fanout(&m));
    CHECK(m.n == NDEV);
    for (size_t i = 0; i < m.n; i++)
        CHECK(m.del_len[i] == del[i].len && memcmp(m.del[i], del[i].data, del[i].len) == 0);
    fx_msg_free(&m);
    imc_keys_wipe(&k);
    fx_party_free(&p);
}

static void test_golden(void)
{
    const char *data = getenv("IMC_TEST_DATA");
    if (data == NULL) {
        fprintf(stderr, "IMC_TEST_DATA is not set (ctest sets it to core/tests/data)\n");
        CHECK(data != NULL);
        return;
    }
    char dir[900];
    snprintf(dir, sizeof dir, "%s/golden", data);
    for (size_t g = 0; g < sizeof GOLDEN_SUITES / sizeof GOLDEN_SUITES[0]; g++) {
        uint32_t suite = GOLDEN_SUITES[g];
        const imc_backend *bs[FX_MAXB];
        size_t nb = fx_backends_for(bs, imc_suite_get(suite));
        if (nb == 0) {
            imc_test_skip(imc_suite_get(suite)->short_name, "golden files: no backend supports it here");
            continue;
        }
        /* The committed files, named as a fresh generation names them. */
        golden_file want[MAX_FILES];
        size_t nw = golden_make(want, bs[0], suite);
        bool all_read = nw == MAX_FILES;
        for (size_t i = 0; i < nw; i++) {
            free(want[i].data);
            want[i].data = read_file(dir, want[i].name, &want[i].len);
            if (want[i].data == NULL) {
                want[i].data = fx_alloc(0);
                want[i].len = 0;
                all_read = false;
            }
        }
        CHECK(all_read);
        for (size_t e = 0; e < nb; e++) {
            golden_file got[MAX_FILES];
            size_t ng = golden_make(got, bs[e], suite);
            CHECK(ng == nw);
            size_t diffs = 0;
            for (size_t i = 0; i < ng && i < nw; i++) {
                if (got[i].len == want[i].len && memcmp(got[i].data, want[i].data, got[i].len) == 0)
                    continue;
                char name[192];
                if (snprintf(name, sizeof name, "%s on %s", want[i].name,
                             imc_backend_name(bs[e])) >= (int)sizeof name)
                    name[sizeof name - 1] = '\0';
                print_diff(name, want[i].data, want[i].len, got[i].data, got[i].len);
                diffs++;
            }
            CHECK(diffs == 0);
            golden_free(got, ng);
            if (all_read)
                golden_use(want, nw, suite, bs[e]);
        }
        printf("golden suite %u: %zu files checked on %zu backend(s)\n", (unsigned)suite, nw, nb);
        golden_free(want, nw);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--regenerate") == 0)
        return regenerate(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--regenerate DIR]\n", argv[0]);
        return 2;
    }
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++)
        test_cross(imc_suite_get(id));
    test_golden();
    return imc_test_end();
}
