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
#include "imcore/dirkt.h"
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
    return kt_config(l, wkey, 3, threshold);
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
    enc[2 + nl - 1] = 0; /* a NUL inside the name (a string would end there) */
    CHECK_ST(imc_kt_client_config_parse(&back, B, enc, len), IMC_ERR_MALFORMED);
    enc[2 + nl - 1] = (uint8_t)l->key.name[nl - 1];
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

/* ---- Lookups with proofs, as the directory serves them ---------------------- */

static uint8_t g_entry[FX_RESP_MAX], g_leaf[IMC_DIR_KT_LEAF_MAX_BYTES], g_prev_leaf[32];
static size_t g_entry_len, g_leaf_len;
static uint64_t g_leaf_index;
/* Every leaf of alice, by version (for audits). */
#define MAX_V 8
static uint8_t g_leaves[MAX_V + 1][IMC_DIR_KT_LEAF_MAX_BYTES];
static size_t g_leaves_len[MAX_V + 1];
static uint64_t g_leaves_index[MAX_V + 1];
static uint8_t g_lookup[IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(1)];
static imc_dir_change g_ch[IMC_DIR_CHANGES_MAX_PER_ENTRY];
#define CLI_CAP (sizeof g_ch / sizeof g_ch[0])

/* The directory applies version v of alice's list: g_entry is its signed
 * entry (global epoch = the log's new size), the log gets its leaf
 * (chained to the previous one) and the index its hash. */
static void alice_version_key(kt_log *l, const uint8_t *dir_pk, const uint8_t *dir_sk,
                              uint64_t v, size_t count, const imc_device_public *devs,
                              const uint8_t *account_sk)
{
    static const char *const A = "alice@example.com";
    uint64_t size = 0;
    CHECK_OK(imc_kt_log_size(&size, &l->s));
    fx_entry_spec sp = {A, v, size + 1, FX_NOW + v, count, devs, account_sk, false, 0, false,
                        NULL};
    g_entry_len = fx_build_response(g_entry, sizeof g_entry, B, dir_pk, dir_sk, &sp, 1);
    CHECK(g_entry_len != 0);
    imc_dir_response r;
    static imc_dir_entry e;
    size_t off = 0;
    CHECK_OK(imc_dir_parse_response(&r, g_entry, g_entry_len));
    CHECK_OK(imc_dir_response_next(&e, &off, &r));
    imc_dir_kt_leaf leaf;
    memset(&leaf, 0, sizeof leaf);
    memcpy(leaf.handle, A, strlen(A));
    leaf.handle_len = strlen(A);
    leaf.version = v;
    memcpy(leaf.account_pk, e.rec.account_pk, 32);
    CHECK_OK(imc_crypto_sha256(B, leaf.list_hash, e.list, e.list_len));
    memcpy(leaf.prev_leaf, g_prev_leaf, 32);
    CHECK_OK(imc_dir_kt_leaf_encode(g_leaf, sizeof g_leaf, &g_leaf_len, &leaf));
    CHECK_OK(imc_kt_log_append(&g_leaf_index, B, &l->s, g_leaf, g_leaf_len));
    if (v <= MAX_V) {
        memcpy(g_leaves[v], g_leaf, g_leaf_len);
        g_leaves_len[v] = g_leaf_len;
        g_leaves_index[v] = g_leaf_index;
    }
    uint8_t key[32];
    CHECK_OK(imc_kt_leaf_hash(B, g_prev_leaf, g_leaf, g_leaf_len));
    CHECK_OK(imc_kt_index_key(B, key, (const uint8_t *)A, strlen(A)));
    CHECK_OK(imc_kt_index_put(B, &l->s, key, g_prev_leaf));
}

static void alice_version(kt_log *l, const uint8_t *dir_pk, const uint8_t *dir_sk, uint64_t v,
                          size_t count, const imc_device_public *devs)
{
    alice_version_key(l, dir_pk, dir_sk, v, count, devs, NULL);
}

/* A lookup-with-proofs response for alice at the log's current size, for a
 * client that holds size `known` (docs/directory-format.md). */
/* The head every response starts with: the log's checkpoint note and the
 * consistency proof from `known`; then alice's index proof into ip. */
static void write_head(imc_writer *w, uint8_t *out, size_t cap, uint8_t kind, kt_log *l,
                       uint64_t known, uint8_t value[32], uint8_t *ip, size_t *ipl)
{
    static char note[NOTE_CAP];
    static uint8_t proof[IMC_KT_LOG_PROOF_MAX_BYTES];
    static imc_kt_index_proof index_proof;
    size_t nl = kt_log_note(note, sizeof note, l), pl = kt_log_proof(proof, sizeof proof, l, known);
    uint8_t key[32];
    CHECK_OK(imc_kt_index_key(B, key, (const uint8_t *)"alice@example.com", 17));
    CHECK_OK(imc_kt_index_prove(&index_proof, value, &l->s, key));
    CHECK_OK(imc_kt_index_proof_encode(ip, IMC_KT_INDEX_PROOF_MAX_BYTES, ipl, &index_proof));
    imc_wire_writer_init(w, out, cap);
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, kind);
    imc_wire_write_u16(w, (uint16_t)nl);
    imc_wire_write_bytes(w, (const uint8_t *)note, nl);
    imc_wire_write_u16(w, (uint16_t)pl);
    imc_wire_write_bytes(w, proof, pl);
}

static size_t alice_lookup(kt_log *l, uint64_t known)
{
    static uint8_t incl[IMC_KT_LOG_PROOF_MAX_BYTES], ip[IMC_KT_INDEX_PROOF_MAX_BYTES];
    imc_kt_log_proof p;
    uint64_t size = 0;
    size_t il = 0, ipl = 0, len = 0;
    uint8_t value[32];
    CHECK_OK(imc_kt_log_size(&size, &l->s));
    CHECK_OK(imc_kt_log_prove_inclusion(&p, B, &l->s, g_leaf_index, size));
    CHECK_OK(imc_kt_log_proof_encode(incl, sizeof incl, &il, &p));
    imc_writer w;
    write_head(&w, g_lookup, sizeof g_lookup, IMC_DIR_KIND_KT_LOOKUP_RESP, l, known, value, ip,
               &ipl);
    imc_wire_write_u16(&w, 1);
    imc_wire_write_bytes(&w, g_entry + 4, g_entry_len - 4); /* the entry of a 1-entry response */
    imc_wire_write_u16(&w, (uint16_t)g_leaf_len);
    imc_wire_write_bytes(&w, g_leaf, g_leaf_len);
    imc_wire_write_u16(&w, (uint16_t)il);
    imc_wire_write_bytes(&w, incl, il);
    imc_wire_write_u16(&w, (uint16_t)ipl);
    imc_wire_write_bytes(&w, ip, ipl);
    CHECK_OK(imc_wire_writer_finish(&w, &len));
    return len;
}

/* An audit response for alice from version since to the latest, for a
 * client holding size `known` (docs/directory-format.md). */
static uint8_t g_audit[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES];
static size_t alice_audit(kt_log *l, uint64_t known, uint64_t since, uint64_t latest)
{
    static uint8_t incl[IMC_KT_LOG_PROOF_MAX_BYTES], ip[IMC_KT_INDEX_PROOF_MAX_BYTES];
    uint64_t size = 0;
    size_t ipl = 0, len = 0;
    CHECK_OK(imc_kt_log_size(&size, &l->s));
    uint8_t value[32];
    imc_writer w;
    write_head(&w, g_audit, sizeof g_audit, IMC_DIR_KIND_KT_AUDIT_RESP, l, known, value, ip, &ipl);
    imc_wire_write_u8(&w, 17);
    imc_wire_write_bytes(&w, (const uint8_t *)"alice@example.com", 17);
    imc_wire_write_u64(&w, since);
    imc_wire_write_u64(&w, latest);
    imc_wire_write_u16(&w, (uint16_t)(since > latest ? 0 : latest - since + 1));
    for (uint64_t v = since; v <= latest; v++) {
        imc_kt_log_proof p;
        size_t il = 0;
        CHECK_OK(imc_kt_log_prove_inclusion(&p, B, &l->s, g_leaves_index[v], size));
        CHECK_OK(imc_kt_log_proof_encode(incl, sizeof incl, &il, &p));
        imc_wire_write_u16(&w, (uint16_t)g_leaves_len[v]);
        imc_wire_write_bytes(&w, g_leaves[v], g_leaves_len[v]);
        imc_wire_write_u16(&w, (uint16_t)il);
        imc_wire_write_bytes(&w, incl, il);
    }
    imc_wire_write_bytes(&w, value, 32);
    imc_wire_write_u16(&w, (uint16_t)ipl);
    imc_wire_write_bytes(&w, ip, ipl);
    CHECK_OK(imc_wire_writer_finish(&w, &len));
    return len;
}

static imc_status apply_kt(imc_dircache *c, size_t len)
{
    size_t n = 0;
    return imc_dircache_apply_kt(c, g_ch, CLI_CAP, &n, NULL, FX_NOW + 10, g_lookup, len);
}

static void lookups_with_proofs(void)
{
    kt_log l;
    kt_log_open(&l, B, 11);
    uint8_t dir_pk[32], dir_sk[32];
    kt_keypair(B, 22, dir_pk, dir_sk);
    memset(g_prev_leaf, 0, sizeof g_prev_leaf);
    imc_device_keys d1, d2;
    CHECK_OK(fx_keys(&d1, B, 1, 1, 1));
    CHECK_OK(fx_keys(&d2, B, 1, 2, 2));
    imc_device_public devs[2] = {d1.pub, d2.pub};
    CHECK(fx_tmpdir(g_tmp, sizeof g_tmp));
    snprintf(g_state, sizeof g_state, "%s/client.mdb", g_tmp);
    imc_kt_client_config cfg = config(&l, 0); /* the log alone: no witnesses needed here */
    imc_dircache *c = open_cache(dir_pk, &cfg, IMC_OK);

    alice_version(&l, dir_pk, dir_sk, 1, 1, devs);
    size_t len = alice_lookup(&l, 0);
    /* The plain entry (no proofs) is refused; so is a proof-less apply. */
    size_t n = 0;
    FILE_UNCHANGED(imc_dircache_apply(c, NULL, 0, &n, FX_NOW + 10, g_entry, g_entry_len),
                   IMC_ERR_AUTH);
    CHECK_OK(apply_kt(c, len));
    const imc_dir_record *rec = NULL;
    CHECK_OK(imc_dircache_get(&rec, c, FX_NOW + 10, (const uint8_t *)"alice@example.com", 17));
    CHECK(rec->epoch == 1 && rec->device_count == 1);
    imc_kt_checkpoint cp;
    CHECK_OK(imc_dircache_kt_checkpoint(&cp, c));
    CHECK(cp.size == 1);

    /* Version 2: every part of the answer is checked; a flipped byte in
     * any proof is refused and nothing changes. */
    alice_version(&l, dir_pk, dir_sk, 2, 2, devs);
    len = alice_lookup(&l, 1);
    static uint8_t good[sizeof g_lookup];
    memcpy(good, g_lookup, len);
    const size_t spots[] = {len - 1, len - 40, len - 200, 300};
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        g_lookup[spots[i]] ^= 0x01;
        imc_status st = apply_kt(c, len);
        CHECK(st == IMC_ERR_AUTH || st == IMC_ERR_MALFORMED);
        memcpy(g_lookup, good, len);
    }
    /* The head alone (answers cut off) does not parse: refused, unchanged. */
    size_t off_entry = 0;
    {
        static imc_dir_kt_lookup_response lr;
        CHECK_OK(imc_dir_kt_parse_lookup(&lr, good, len));
        off_entry = (size_t)(lr.answers - good);
    }
    FILE_UNCHANGED(imc_dircache_apply_kt(c, g_ch, CLI_CAP, &n, NULL, FX_NOW + 10, g_lookup,
                                         off_entry - 2),
                   IMC_ERR_MALFORMED);
    CHECK_OK(apply_kt(c, len));
    CHECK_OK(imc_dircache_get(&rec, c, FX_NOW + 10, (const uint8_t *)"alice@example.com", 17));
    CHECK(rec->epoch == 2 && rec->device_count == 2);
    imc_dircache_free(c);

    /* After a restart: the checkpoint is there; the version-1 answer
     * (checkpoint size 1) is a rollback. */
    c = open_cache(dir_pk, NULL, IMC_OK);
    CHECK_OK(imc_dircache_kt_checkpoint(&cp, c));
    CHECK(cp.size == 2);
    kt_log old;
    kt_log_open(&old, B, 11);
    memset(g_prev_leaf, 0, sizeof g_prev_leaf);
    alice_version(&old, dir_pk, dir_sk, 1, 1, devs);
    len = alice_lookup(&old, 0);
    FILE_UNCHANGED(apply_kt(c, len), IMC_ERR_STALE);
    imc_dircache_free(c);
    kt_log_close(&old);
    kt_log_close(&l);
    imc_keys_wipe(&d1);
    imc_keys_wipe(&d2);
    fx_rmdir(g_tmp);
}

/* The ghost add-then-revoke: the directory (with the account key, e.g. a
 * stolen one) adds a ghost device at version 2 and revokes it at version
 * 3. Alice's device, which saw versions 1 and 3, finds version 2 in its
 * own audit; a version under another account key is flagged as such. */
static void ghost_audit(void)
{
    kt_log l;
    kt_log_open(&l, B, 12);
    uint8_t dir_pk[32], dir_sk[32];
    kt_keypair(B, 23, dir_pk, dir_sk);
    memset(g_prev_leaf, 0, sizeof g_prev_leaf);
    imc_device_keys d1, ghost;
    CHECK_OK(fx_keys(&d1, B, 1, 1, 1));
    CHECK_OK(fx_keys(&ghost, B, 1, 666, 1));
    imc_device_public one[1] = {d1.pub}, haunted[2] = {d1.pub, ghost.pub};
    CHECK(fx_tmpdir(g_tmp, sizeof g_tmp));
    snprintf(g_state, sizeof g_state, "%s/client.mdb", g_tmp);
    imc_kt_client_config cfg = config(&l, 0);
    imc_dircache *c = open_cache(dir_pk, &cfg, IMC_OK);
    const uint8_t *A = (const uint8_t *)"alice@example.com";
    uint64_t since = 0;
    CHECK_ST(imc_dircache_audit_since(&since, c, A, 17), IMC_ERR_NOT_FOUND);

    alice_version(&l, dir_pk, dir_sk, 1, 1, one);
    CHECK_OK(apply_kt(c, alice_lookup(&l, 0)));
    CHECK_OK(imc_dircache_audit_since(&since, c, A, 17));
    CHECK(since == 1);
    alice_version(&l, dir_pk, dir_sk, 2, 2, haunted); /* the ghost */
    alice_version(&l, dir_pk, dir_sk, 3, 1, one);     /* and gone again */
    CHECK_OK(apply_kt(c, alice_lookup(&l, 1)));        /* alice sees version 3 */

    imc_dir_audit_finding f[4];
    size_t n = 0;
    bool complete = false;
    size_t len = alice_audit(&l, 3, 1, 3);
    /* An audit that leaves a version out breaks the hash chain. */
    static uint8_t keep[sizeof g_audit];
    memcpy(keep, g_audit, len);
    size_t bad = alice_audit(&l, 3, 2, 3);
    FILE_UNCHANGED(imc_dircache_audit(c, f, 4, &n, &complete, NULL, false, A, 17, g_audit, bad),
                   IMC_ERR_AUTH); /* not from the first version seen */
    memcpy(g_audit, keep, len);
    /* A leaf changed (the ghost version's list hash): its inclusion fails. */
    size_t at = 0;
    for (size_t i = 0; i + g_leaves_len[2] <= len && at == 0; i++)
        if (memcmp(g_audit + i, g_leaves[2], g_leaves_len[2]) == 0)
            at = i + g_leaves_len[2] - 40;
    CHECK(at != 0);
    g_audit[at] ^= 1;
    FILE_UNCHANGED(imc_dircache_audit(c, f, 4, &n, &complete, NULL, false, A, 17, g_audit, len),
                   IMC_ERR_AUTH);
    g_audit[at] ^= 1;
    CHECK_OK(imc_dircache_audit(c, f, 4, &n, &complete, NULL, false, A, 17, g_audit, len));
    CHECK(n == 1 && complete && f[0].version == 2 && f[0].key_known);
    /* Not acknowledged: the next audit reports it again. */
    CHECK_OK(imc_dircache_audit_since(&since, c, A, 17));
    CHECK(since == 1);
    imc_dircache_free(c);
    c = open_cache(dir_pk, NULL, IMC_OK); /* a restart keeps all of it */
    CHECK_OK(imc_dircache_audit(c, f, 4, &n, &complete, NULL, true, A, 17, g_audit, len));
    CHECK(n == 1 && f[0].version == 2);
    CHECK_OK(imc_dircache_audit_since(&since, c, A, 17));
    CHECK(since == 4);
    /* Nothing new: a clean audit, asked from 4 or from 3 (the anchor). */
    len = alice_audit(&l, 3, 4, 3);
    CHECK_OK(imc_dircache_audit(c, f, 4, &n, &complete, NULL, false, A, 17, g_audit, len));
    CHECK(n == 0 && complete);
    len = alice_audit(&l, 3, 3, 3);
    CHECK_OK(imc_dircache_audit(c, f, 4, &n, &complete, NULL, false, A, 17, g_audit, len));
    CHECK(n == 0 && complete);
    len = alice_audit(&l, 3, 2, 3); /* two versions back: not what was asked */
    FILE_UNCHANGED(imc_dircache_audit(c, f, 4, &n, &complete, NULL, false, A, 17, g_audit, len),
                   IMC_ERR_AUTH);
    /* Version 4 under an account key alice's devices do not know. */
    uint8_t other_pk[32], other_sk[32];
    kt_keypair(B, 24, other_pk, other_sk);
    alice_version_key(&l, dir_pk, dir_sk, 4, 1, one, other_sk);
    len = alice_audit(&l, 3, 4, 4);
    CHECK_OK(imc_dircache_audit(c, f, 4, &n, &complete, NULL, false, A, 17, g_audit, len));
    CHECK(n == 1 && f[0].version == 4 && !f[0].key_known);
    /* An audit of another handle than asked is refused. */
    FILE_UNCHANGED(imc_dircache_audit(c, f, 4, &n, &complete, NULL, false,
                                      (const uint8_t *)"bob@example.com", 15, g_audit, len),
                   IMC_ERR_AUTH);
    imc_dircache_free(c);
    kt_log_close(&l);
    imc_keys_wipe(&d1);
    imc_keys_wipe(&ghost);
    fx_rmdir(g_tmp);
}

/* ---- End to end with the directory itself --------------------------------- */

static uint8_t g_req[IMC_DIR_KT_REQUEST_MAX_BYTES];
static uint8_t g_resp[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES];

/* Witnesses w[0] and w[1] fetch the directory's checkpoint with a proof
 * from what they cosigned last, cosign it, and hand the lines back. */
static void cosign_current(imc_dir *d, imc_kt_witness *w)
{
    for (int i = 0; i < 2; i++) {
        imc_kt_checkpoint last;
        uint64_t known = imc_kt_witness_last(&last, &w[i]) == IMC_OK ? last.size : 0;
        size_t rl = 0, len = 0, ll = 0;
        CHECK_OK(imc_dir_kt_encode_head(g_req, sizeof g_req, &rl, known));
        CHECK_OK(imc_dir_serve(g_resp, sizeof g_resp, &len, d, FX_NOW, g_req, rl));
        static imc_dir_kt_head h;
        CHECK_OK(imc_dir_kt_parse_head(&h, g_resp, len));
        char line[IMC_KT_COSIG_LINE_MAX];
        CHECK_OK(imc_kt_witness_cosign(line, sizeof line, &ll, &w[i], h.note, h.note_len,
                                       h.proof, h.proof_len, 1700000000));
        static imc_kt_note n;
        CHECK_OK(imc_kt_note_parse(&n, h.note, h.note_len));
        CHECK_OK(imc_dir_kt_add_cosignature(d, &wkey[i], n.text, n.text_len,
                                            (const uint8_t *)line, ll));
    }
}

/* The client asks (request built from its state) and applies the answer. */
static imc_status lookup_apply(imc_dir *d, imc_dircache *c, size_t *changes)
{
    imc_kt_checkpoint cp;
    uint64_t known = imc_dircache_kt_checkpoint(&cp, c) == IMC_OK ? cp.size : 0;
    imc_dir_handle h = fx_h("alice@example.com");
    size_t rl = 0, len = 0;
    CHECK_OK(imc_dir_kt_encode_lookup(g_req, sizeof g_req, &rl, known, &h, 1));
    CHECK_OK(imc_dir_serve(g_resp, sizeof g_resp, &len, d, FX_NOW, g_req, rl));
    return imc_dircache_apply_kt(c, g_ch, CLI_CAP, changes, NULL, FX_NOW, g_resp, len);
}

static imc_status audit(imc_dir *d, imc_dircache *c, imc_dir_audit_finding *f, size_t *n,
                        bool ack)
{
    imc_kt_checkpoint cp;
    uint64_t known = imc_dircache_kt_checkpoint(&cp, c) == IMC_OK ? cp.size : 0, since = 0;
    const uint8_t *A = (const uint8_t *)"alice@example.com";
    size_t rl = 0, len = 0;
    CHECK_OK(imc_dircache_audit_since(&since, c, A, 17));
    CHECK_OK(imc_dir_kt_encode_audit(g_req, sizeof g_req, &rl, known, A, 17, since));
    CHECK_OK(imc_dir_serve(g_resp, sizeof g_resp, &len, d, FX_NOW, g_req, rl));
    bool complete = false;
    imc_status st = imc_dircache_audit(c, f, 4, n, &complete, NULL, ack, A, 17, g_resp, len);
    CHECK(st != IMC_OK || complete);
    return st;
}

/* The ghost add-then-revoke against the real directory, with a 2-of-3
 * client: the account's own device sees versions 1 and 3 in its lookups
 * and its audit reports version 2, also after a restart; a checkpoint
 * without enough cosignatures is not accepted. */
static void ghost_end_to_end(void)
{
    uint8_t pk[32], sk[32];
    fx_dir_key(B, 7, pk, sk);
    imc_dir_store ds;
    static imc_dir d;
    CHECK_OK(imc_dir_store_mem_open(&ds, B, 0));
    CHECK_OK(imc_dir_init(&d, B, ds, sk, NULL));
    char vkey[IMC_KT_VKEY_MAX];
    CHECK_OK(imc_dir_kt_vkey(vkey, &d));
    kt_log l; /* only its key matters here */
    memset(&l, 0, sizeof l);
    CHECK_OK(imc_kt_vkey_parse(&l.key, B, vkey, strlen(vkey)));
    static imc_kt_witness w[2];
    for (int i = 0; i < 2; i++)
        CHECK_OK(imc_kt_witness_init(&w[i], B, &wkey[i], wsk[i], &l.key));
    imc_device_keys phone, ghost, tablet;
    CHECK_OK(fx_keys(&phone, B, 1, 1, 1));
    CHECK_OK(fx_keys(&ghost, B, 1, 666, 1));
    CHECK_OK(fx_keys(&tablet, B, 1, 2, 1));
    static uint8_t r[FX_RESP_MAX];
    size_t rl = 0, n = 0;
    CHECK(fx_tmpdir(g_tmp, sizeof g_tmp));
    snprintf(g_state, sizeof g_state, "%s/client.mdb", g_tmp);
    imc_kt_client_config cfg = config(&l, 2);
    imc_dircache *c = open_cache(pk, &cfg, IMC_OK);

    CHECK_OK(fx_register(r, &rl, &d, "alice@example.com", &phone));
    FILE_UNCHANGED(lookup_apply(&d, c, &n), IMC_ERR_AUTH); /* no cosignature yet */
    cosign_current(&d, w);
    CHECK_OK(lookup_apply(&d, c, &n));
    CHECK(n >= 2); /* account pinned, device 1 added */
    CHECK_OK(fx_register(r, &rl, &d, "alice@example.com", &ghost)); /* version 2 */
    CHECK_OK(fx_revoke(r, &rl, &d, "alice@example.com", 666));      /* version 3 */
    cosign_current(&d, w);
    CHECK_OK(lookup_apply(&d, c, &n));
    CHECK(g_ch[0].kind == IMC_DIR_LIST_VERSION && g_ch[0].old_version == 1 &&
          g_ch[0].new_version == 3 && n == 1);
    imc_dir_audit_finding f[4];
    CHECK_OK(audit(&d, c, f, &n, false));
    CHECK(n == 1 && f[0].version == 2 && f[0].key_known);
    imc_dircache_free(c);
    c = open_cache(pk, NULL, IMC_OK);
    CHECK_OK(audit(&d, c, f, &n, true)); /* still there after a restart; acknowledged */
    CHECK(n == 1 && f[0].version == 2);
    CHECK_OK(audit(&d, c, f, &n, false));
    CHECK(n == 0);
    /* Her own tablet, seen through a lookup: a clean audit. */
    CHECK_OK(fx_register(r, &rl, &d, "alice@example.com", &tablet));
    cosign_current(&d, w);
    CHECK_OK(lookup_apply(&d, c, &n));
    CHECK_OK(audit(&d, c, f, &n, false));
    CHECK(n == 0);
    imc_dircache_free(c);
    imc_dir_wipe(&d);
    imc_dir_store_close(&ds);
    for (int i = 0; i < 2; i++)
        imc_kt_witness_wipe(&w[i]);
    imc_keys_wipe(&phone);
    imc_keys_wipe(&ghost);
    imc_keys_wipe(&tablet);
    fx_rmdir(g_tmp);
}

/* Writes key = val into the meta table of the state file directly. */
static void poke(const char *key, const uint8_t *val, size_t len)
{
    imc_dir_store st;
    void *txn = NULL;
    CHECK_OK(imc_dir_store_lmdb_open(&st, g_state, NULL));
    CHECK_OK(st.ops->begin(st.self, true, &txn));
    CHECK_OK(st.ops->put(txn, IMC_DIR_TABLE_META, (const uint8_t *)key, strlen(key), val, len));
    CHECK_OK(st.ops->commit(txn));
    imc_dir_store_close(&st);
}

static size_t peek(uint8_t *out, size_t cap, const char *key)
{
    imc_dir_store st;
    void *txn = NULL;
    const uint8_t *v = NULL;
    size_t n = 0;
    CHECK_OK(imc_dir_store_lmdb_open(&st, g_state, NULL));
    CHECK_OK(st.ops->begin(st.self, false, &txn));
    CHECK_OK(st.ops->get(txn, IMC_DIR_TABLE_META, (const uint8_t *)key, strlen(key), &v, &n));
    CHECK(n <= cap);
    if (n <= cap)
        memcpy(out, v, n);
    st.ops->abort(txn);
    imc_dir_store_close(&st);
    return n;
}

/* Every transparency record of the state file is read strictly: a corrupt
 * one refuses the file (IMC_ERR_IO), one of another configuration or a
 * file without transparency opened with a configuration IMC_ERR_AUTH. */
static void corrupt_records(void)
{
    kt_log l;
    kt_log_open(&l, B, 13);
    uint8_t dir_pk[32], dir_sk[32];
    kt_keypair(B, 25, dir_pk, dir_sk);
    CHECK(fx_tmpdir(g_tmp, sizeof g_tmp));
    snprintf(g_state, sizeof g_state, "%s/client.mdb", g_tmp);
    imc_kt_client_config cfg = config(&l, 0);
    imc_dircache *c = open_cache(dir_pk, NULL, IMC_OK); /* no transparency */
    imc_dircache_free(c);
    c = open_cache(dir_pk, &cfg, IMC_ERR_AUTH);
    fx_rmdir(g_tmp);
    CHECK(fx_tmpdir(g_tmp, sizeof g_tmp));
    snprintf(g_state, sizeof g_state, "%s/client.mdb", g_tmp);
    c = open_cache(dir_pk, &cfg, IMC_OK);
    kt_log_append(&l, "h", 3);
    static char note[NOTE_CAP];
    size_t nl = kt_log_note(note, sizeof note, &l);
    CHECK_OK(imc_dircache_kt_update(c, NULL, (const uint8_t *)note, nl, NULL, 0));
    imc_dircache_free(c);
    static uint8_t cfg_bytes[IMC_KT_CONFIG_MAX_BYTES], state[IMC_KT_CLIENT_STATE_MAX];
    size_t cl = peek(cfg_bytes, sizeof cfg_bytes, "kt_config");
    size_t sl = peek(state, sizeof state, "kt_state");
    /* A state of another log (its checkpoint's signature fails). */
    kt_log other;
    static char onote[NOTE_CAP];
    kt_log_open(&other, B, 14);
    imc_kt_client oc;
    imc_kt_client_config ocfg = config(&other, 0);
    CHECK_OK(imc_kt_client_init(&oc, B, &ocfg));
    kt_log_append(&other, "o", 2);
    size_t onl = kt_log_note(onote, sizeof onote, &other);
    CHECK_OK(imc_kt_client_update(&oc, NULL, (const uint8_t *)onote, onl, NULL, 0));
    size_t ol = 0;
    static uint8_t ostate[IMC_KT_CLIENT_STATE_MAX];
    CHECK_OK(imc_kt_client_save(ostate, sizeof ostate, &ol, &oc));
    poke("kt_state", ostate, ol);
    c = open_cache(dir_pk, NULL, IMC_ERR_IO);
    CHECK(c == NULL);
    poke("kt_state", state, sl);
    c = open_cache(dir_pk, NULL, IMC_OK); /* restored: opens again */
    imc_dircache_free(c);
    static const uint8_t junk[3] = {9, 9, 9};
    const char *keys[] = {"kt_config", "kt_state", "evidence"};
    for (size_t i = 0; i < 3; i++) {
        poke(keys[i], junk, sizeof junk);
        c = open_cache(dir_pk, NULL, IMC_ERR_IO);
        poke("kt_config", cfg_bytes, cl);
        poke("kt_state", state, sl);
        if (i == 2) {
            /* Evidence that proves nothing. */
            static uint8_t ev[IMC_DIRCACHE_EVIDENCE_MAX_BYTES];
            size_t el = 0;
            CHECK_OK(imc_kt_evidence_encode(ev, sizeof ev, &el, IMC_KT_EVIDENCE_SAME_SIZE,
                                            &l.key, (const uint8_t *)note, nl,
                                            (const uint8_t *)note, nl, NULL, NULL));
            poke("evidence", ev, el); /* the same text twice: no contradiction */
            c = open_cache(dir_pk, NULL, IMC_ERR_IO);
        }
    }
    kt_log_close(&other);
    kt_log_close(&l);
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
    lookups_with_proofs();
    ghost_audit();
    corrupt_records();
    ghost_end_to_end();
    return imc_test_end();
}
