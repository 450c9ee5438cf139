/* The verifying client's transparency state inside the persistent
 * directory client (imcore/dircache.h, docs/transparency.md "Clients"):
 *
 *  1. the configuration (log key, witnesses, threshold) is stamped into the
 *     state file and taken from it after a restart; another one is refused;
 *     its stored form has a negative test for every parser rule;
 *  2. a rolled-back checkpoint after a restart is refused and the state
 *     file is byte for byte unchanged;
 *  3. a split view (a fork under the same log key, cosigned by one
 *     colluding witness of three) is refused by a 2-of-3 client; the two
 *     checkpoints are kept as evidence that survives a restart and verifies;
 *  4. two directory-signed device lists for one handle version are refused
 *     by apply and kept as LIST evidence (the one write of a refused call);
 *     LIST evidence has a negative test for every rule. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */
#include "imcore/dircache.h"
#include "kt/kt_impl.h"
#include "kt_fixture.h"
#include "tmpdir.h"

#define TTL 3600000u
#define NOTE_CAP IMC_KT_MAX_NOTE_BYTES

static const imc_backend *B;
static imc_kt_key wkey[3];
static uint8_t wsk[3][32];
static char g_tmp[512], g_state[600];
static uint8_t g_ev[IMC_DIRCACHE_EVIDENCE_MAX_BYTES + 1];

static imc_kt_client_config config(const kt_log *l, size_t threshold)
{
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = l->key;
    cfg.witness_count = 3;
    for (int i = 0; i < 3; i++)
        cfg.witnesses[i] = wkey[i];
    cfg.threshold = threshold;
    return cfg;
}

static imc_dircache *open_cache(const uint8_t *dir_pk, const imc_kt_client_config *cfg,
                                imc_status want)
{
    imc_dircache_options o = {64, TTL, 60000, NULL, 0, 0, g_state, false, cfg};
    imc_dircache *c = NULL;
    CHECK_ST(imc_dircache_new(&c, B, dir_pk, &o), want);
    return c;
}

/* The current note of l cosigned by the witnesses in `who` (bit i: wkey[i]). */
static size_t note_of(char *out, kt_log *l, unsigned who)
{
    size_t len = kt_log_note(out, NOTE_CAP, l);
    static imc_kt_note n;
    CHECK_OK(imc_kt_note_parse(&n, (const uint8_t *)out, len));
    size_t tl = n.text_len;
    for (unsigned i = 0; i < 3; i++) {
        if (!(who & (1u << i)))
            continue;
        size_t ll = 0;
        CHECK_OK(imc_kt_cosign(out + len, NOTE_CAP - len, &ll, B, &wkey[i], wsk[i],
                               (const uint8_t *)out, tl, 1700000000 + i));
        len += ll;
    }
    return len;
}

static size_t read_file(uint8_t *out, size_t cap, const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(out, 1, cap, f) : 0;
    if (f != NULL)
        fclose(f);
    return n;
}

static uint8_t g_file_a[1 << 20], g_file_b[1 << 20];

/* The state file is byte for byte what it was. */
#define FILE_UNCHANGED(expr, want)                                                                 \
    do {                                                                                           \
        size_t a_ = read_file(g_file_a, sizeof g_file_a, g_state);                                 \
        CHECK_ST(expr, want);                                                                      \
        size_t b_ = read_file(g_file_b, sizeof g_file_b, g_state);                                 \
        CHECK(a_ > 0 && a_ == b_ && memcmp(g_file_a, g_file_b, a_) == 0);                          \
    } while (0)

static void config_format(kt_log *l)
{
    imc_kt_client_config cfg = config(l, 2), back;
    uint8_t enc[IMC_KT_CONFIG_MAX_BYTES + 1];
    size_t len = 0, len2 = 0;
    CHECK_OK(imc_kt_client_config_encode(enc, sizeof enc, &len, &cfg));
    CHECK_OK(imc_kt_client_config_parse(&back, B, enc, len));
    uint8_t enc2[IMC_KT_CONFIG_MAX_BYTES];
    CHECK_OK(imc_kt_client_config_encode(enc2, sizeof enc2, &len2, &back));
    CHECK(len2 == len && memcmp(enc, enc2, len) == 0);
    CHECK(back.witnesses[2].id == wkey[2].id && back.log.id == l->key.id);
    /* Every rule: short, trailing, version, name, threshold, count. */
    CHECK_ST(imc_kt_client_config_parse(&back, B, enc, len - 1), IMC_ERR_MALFORMED);
    enc[len] = 0;
    CHECK_ST(imc_kt_client_config_parse(&back, B, enc, len + 1), IMC_ERR_MALFORMED);
    enc[0] = 2;
    CHECK_ST(imc_kt_client_config_parse(&back, B, enc, len), IMC_ERR_MALFORMED);
    enc[0] = 1;
    size_t nl = enc[1], at_threshold = 2 + nl + 32;
    enc[2] = ' ';
    CHECK_ST(imc_kt_client_config_parse(&back, B, enc, len), IMC_ERR_MALFORMED);
    enc[2] = (uint8_t)l->key.name[0];
    enc[at_threshold] = 4; /* above the count */
    CHECK_ST(imc_kt_client_config_parse(&back, B, enc, len), IMC_ERR_MALFORMED);
    enc[at_threshold] = 2;
    enc[at_threshold + 1] = IMC_KT_MAX_WITNESSES + 1;
    CHECK_ST(imc_kt_client_config_parse(&back, B, enc, len), IMC_ERR_MALFORMED);
    enc[at_threshold + 1] = 3;
    CHECK_OK(imc_kt_client_config_parse(&back, B, enc, len));
    cfg.threshold = 4;
    CHECK_ST(imc_kt_client_config_encode(enc, sizeof enc, &len, &cfg), IMC_ERR_ARG);
}

static void rollback_and_split_view(void)
{
    kt_log honest, fork;
    kt_log_open(&honest, B, 10);
    kt_log_open(&fork, B, 10); /* the same log key */
    config_format(&honest);
    uint8_t dir_pk[32], dir_sk[32];
    kt_keypair(B, 20, dir_pk, dir_sk);
    imc_kt_client_config cfg = config(&honest, 2);
    CHECK(fx_tmpdir(g_tmp, sizeof g_tmp));
    snprintf(g_state, sizeof g_state, "%s/client.mdb", g_tmp);

    imc_dircache *c = open_cache(dir_pk, &cfg, IMC_OK);
    CHECK(imc_dircache_kt_enabled(c));
    imc_kt_checkpoint cp;
    CHECK_ST(imc_dircache_kt_checkpoint(&cp, c), IMC_ERR_NOT_FOUND);
    static char n5[NOTE_CAP], n9[NOTE_CAP], old[NOTE_CAP], f9[NOTE_CAP];
    static uint8_t proof[IMC_KT_LOG_PROOF_MAX_BYTES];
    kt_log_append(&honest, "h", 5);
    kt_log_append(&fork, "h", 5);
    size_t l5 = note_of(n5, &honest, 1); /* one cosignature: under the threshold */
    FILE_UNCHANGED(imc_dircache_kt_update(c, NULL, (const uint8_t *)n5, l5, NULL, 0),
                   IMC_ERR_AUTH);
    l5 = note_of(n5, &honest, 3);
    memcpy(old, n5, l5);
    size_t lold = l5;
    CHECK_OK(imc_dircache_kt_update(c, NULL, (const uint8_t *)n5, l5, NULL, 0));
    kt_log_append(&honest, "h", 4);
    size_t l9 = note_of(n9, &honest, 6), pl = kt_log_proof(proof, sizeof proof, &honest, 5);
    CHECK_OK(imc_dircache_kt_update(c, NULL, (const uint8_t *)n9, l9, proof, pl));
    CHECK_OK(imc_dircache_kt_checkpoint(&cp, c));
    CHECK(cp.size == 9);
    imc_dircache_free(c);

    /* Restart without a configuration: the file's. A rollback to size 5 is
     * refused and the file is untouched. */
    c = open_cache(dir_pk, NULL, IMC_OK);
    CHECK(imc_dircache_kt_enabled(c));
    CHECK_OK(imc_dircache_kt_checkpoint(&cp, c));
    CHECK(cp.size == 9);
    FILE_UNCHANGED(imc_dircache_kt_update(c, NULL, (const uint8_t *)old, lold, NULL, 0),
                   IMC_ERR_STALE);
    imc_dircache_free(c);
    /* Another configuration than the file's. */
    imc_kt_client_config other = config(&honest, 3);
    c = open_cache(dir_pk, &other, IMC_ERR_AUTH);
    CHECK(c == NULL);

    /* The split view: the fork rewrites leaf 6 and grows to 9; one
     * colluding witness (wkey[2]) cosigns it. Refused at 2 of 3, with
     * evidence (the size-9 texts differ). */
    c = open_cache(dir_pk, NULL, IMC_OK);
    kt_log_append(&fork, "FORK", 4);
    size_t lf = note_of(f9, &fork, 4);
    bool ev = false;
    CHECK_ST(imc_dircache_kt_update(c, &ev, (const uint8_t *)f9, lf, NULL, 0), IMC_ERR_AUTH);
    CHECK(ev);
    CHECK_OK(imc_dircache_kt_checkpoint(&cp, c));
    CHECK(cp.size == 9); /* still the honest checkpoint */
    imc_dircache_free(c);
    c = open_cache(dir_pk, NULL, IMC_OK);
    size_t el = 0;
    CHECK_OK(imc_dircache_evidence(g_ev, sizeof g_ev, &el, c));
    imc_kt_evidence e;
    CHECK_OK(imc_kt_evidence_verify(&e, B, g_ev, el));
    CHECK(e.kind == IMC_KT_EVIDENCE_SAME_SIZE && e.a.size == 9 && e.b.size == 9);
    CHECK(memcmp(e.log.pk, honest.key.pk, 32) == 0);
    /* The honest view still moves on from the kept checkpoint. */
    CHECK_OK(imc_dircache_kt_update(c, NULL, (const uint8_t *)n9, l9, NULL, 0));
    imc_dircache_free(c);
    fx_rmdir(g_tmp);
    kt_log_close(&honest);
    kt_log_close(&fork);
}

/* One rule of LIST evidence per check, from valid evidence `good`. */
static void list_evidence_negative(const uint8_t *good, size_t len, const uint8_t *dir_pk,
                                   const uint8_t *dir_sk, const imc_device_public *devs)
{
    static uint8_t e[IMC_DIRCACHE_EVIDENCE_MAX_BYTES + 1];
    memcpy(e, good, len);
    CHECK_OK(imc_kt_evidence_verify(NULL, B, e, len));
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len - 1), IMC_ERR_MALFORMED); /* short */
    e[len] = 0;
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len + 1), IMC_ERR_MALFORMED); /* trailing */
    e[1] = 4;
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_MALFORMED); /* kind */
    e[1] = 3;
    size_t nl = e[2], at_pk = 3 + nl;
    e[at_pk] ^= 1; /* another key: the entries' signatures fail */
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_AUTH);
    e[at_pk] ^= 1;
    size_t a_len = (size_t)e[at_pk + 32] << 8 | e[at_pk + 33], at_a = at_pk + 34;
    e[at_a + 3] = 2; /* a response of two entries */
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_MALFORMED);
    e[at_a + 3] = 1;
    e[at_a + a_len - 1] ^= 1; /* the directory's signature on A */
    CHECK_ST(imc_kt_evidence_verify(NULL, B, e, len), IMC_ERR_AUTH);
    e[at_a + a_len - 1] ^= 1;
    CHECK_OK(imc_kt_evidence_verify(NULL, B, e, len));

    /* Built by hand: the same list twice, two versions, two handles, a
     * list the account did not sign, an entry without a list. */
    static uint8_t ra[FX_RESP_MAX], rb[FX_RESP_MAX];
    imc_kt_key k;
    CHECK_OK(imc_kt_key_init(&k, B, "directory", IMC_KT_SIG_ED25519, dir_pk));
    struct {
        fx_entry_spec a, b;
        imc_status want;
    } cases[] = {
        {{"alice@example.com", 2, 5, FX_NOW, 1, devs, FX_SPEC_TAIL},
         {"alice@example.com", 2, 5, FX_NOW, 1, devs, FX_SPEC_TAIL}, IMC_ERR_AUTH},
        {{"alice@example.com", 2, 5, FX_NOW, 1, devs, FX_SPEC_TAIL},
         {"alice@example.com", 3, 5, FX_NOW, 2, devs, FX_SPEC_TAIL}, IMC_ERR_AUTH},
        {{"alice@example.com", 2, 5, FX_NOW, 1, devs, FX_SPEC_TAIL},
         {"bob@example.com", 2, 5, FX_NOW, 2, devs, FX_SPEC_TAIL}, IMC_ERR_AUTH},
        {{"alice@example.com", 2, 5, FX_NOW, 1, devs, NULL, true, 0, false, NULL},
         {"alice@example.com", 2, 5, FX_NOW, 2, devs, FX_SPEC_TAIL}, IMC_ERR_AUTH},
        {{"alice@example.com", 0, 5, FX_NOW, 0, devs, FX_SPEC_TAIL},
         {"alice@example.com", 0, 5, FX_NOW, 0, devs, FX_SPEC_TAIL}, IMC_ERR_MALFORMED},
        {{"alice@example.com", 2, 5, FX_NOW, 1, devs, FX_SPEC_TAIL},
         {"alice@example.com", 2, 5, FX_NOW, 2, devs, FX_SPEC_TAIL}, IMC_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t la = fx_build_response(ra, sizeof ra, B, dir_pk, dir_sk, &cases[i].a, 1);
        size_t lb = fx_build_response(rb, sizeof rb, B, dir_pk, dir_sk, &cases[i].b, 1);
        size_t el = 0;
        CHECK(la != 0 && lb != 0);
        CHECK_OK(imc_kt_evidence_encode(e, sizeof e, &el, IMC_KT_EVIDENCE_LIST, &k, ra, la, rb,
                                        lb, NULL, NULL));
        CHECK_ST(imc_kt_evidence_verify(NULL, B, e, el), cases[i].want);
    }
}

static void list_evidence(void)
{
    uint8_t dir_pk[32], dir_sk[32];
    kt_keypair(B, 21, dir_pk, dir_sk);
    CHECK(fx_tmpdir(g_tmp, sizeof g_tmp));
    snprintf(g_state, sizeof g_state, "%s/client.mdb", g_tmp);
    imc_device_keys d1, d2;
    CHECK_OK(fx_keys(&d1, B, 1, 1, 1));
    CHECK_OK(fx_keys(&d2, B, 1, 2, 2));
    imc_device_public devs[2] = {d1.pub, d2.pub};
    static uint8_t r1[FX_RESP_MAX], r2[FX_RESP_MAX];
    fx_entry_spec one = {"alice@example.com", 1, 1, FX_NOW, 1, devs, FX_SPEC_TAIL};
    fx_entry_spec two = {"alice@example.com", 1, 2, FX_NOW + 1, 2, devs, FX_SPEC_TAIL};
    size_t l1 = fx_build_response(r1, sizeof r1, B, dir_pk, dir_sk, &one, 1);
    size_t l2 = fx_build_response(r2, sizeof r2, B, dir_pk, dir_sk, &two, 1);
    CHECK(l1 != 0 && l2 != 0);

    imc_dircache *c = open_cache(dir_pk, NULL, IMC_OK);
    CHECK(!imc_dircache_kt_enabled(c));
    imc_kt_checkpoint cp;
    CHECK_ST(imc_dircache_kt_checkpoint(&cp, c), IMC_ERR_UNSUPPORTED);
    CHECK_ST(imc_dircache_kt_update(c, NULL, (const uint8_t *)"x", 1, NULL, 0),
             IMC_ERR_UNSUPPORTED);
    size_t n = 0, el = 0;
    CHECK_OK(imc_dircache_apply(c, NULL, 0, &n, FX_NOW, r1, l1));
    CHECK_ST(imc_dircache_evidence(g_ev, sizeof g_ev, &el, c), IMC_ERR_NOT_FOUND);
    uint8_t before[IMC_SHA256_BYTES], after[IMC_SHA256_BYTES];
    CHECK_OK(imc_dircache_digest(before, c));
    CHECK_ST(imc_dircache_apply(c, NULL, 0, &n, FX_NOW + 2, r2, l2), IMC_ERR_AUTH);
    CHECK_OK(imc_dircache_digest(after, c));
    CHECK(memcmp(before, after, sizeof before) == 0); /* nothing but the evidence */
    imc_dircache_free(c);
    c = open_cache(dir_pk, NULL, IMC_OK);
    CHECK_OK(imc_dircache_digest(after, c));
    CHECK(memcmp(before, after, sizeof before) == 0);
    CHECK_OK(imc_dircache_evidence(g_ev, sizeof g_ev, &el, c));
    imc_kt_evidence e;
    CHECK_OK(imc_kt_evidence_verify(&e, B, g_ev, el));
    CHECK(e.kind == IMC_KT_EVIDENCE_LIST && e.version == 1 && e.handle_len == 17 &&
          memcmp(e.handle, "alice@example.com", 17) == 0 && memcmp(e.log.pk, dir_pk, 32) == 0);
    list_evidence_negative(g_ev, el, dir_pk, dir_sk, devs);
    imc_dircache_free(c);
    imc_keys_wipe(&d1);
    imc_keys_wipe(&d2);
    fx_rmdir(g_tmp);
}

int main(void)
{
    B = kt_backend();
    CHECK(B != NULL);
    if (B == NULL)
        return imc_test_end();
    for (unsigned i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "w%u.example.net", i);
        wkey[i] = kt_key(B, 30 + i, name, IMC_KT_SIG_COSIGNATURE, wsk[i]);
    }
    rollback_and_split_view();
    list_evidence();
    return imc_test_end();
}
