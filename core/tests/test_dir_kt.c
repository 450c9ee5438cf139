/* The directory's transparency log (docs/transparency.md, "The directory's
 * log"; layouts in docs/directory-format.md, "Transparency"), on both
 * stores:
 *   - every update appends one leaf; the checkpoint is signed by the
 *     directory key under its vkey and moves forward by consistency proofs;
 *   - lookups with proofs verify for registered and unregistered handles,
 *     and flipping any single byte of a response is caught (by the parser,
 *     the client's checkpoint update or the answer's verification);
 *   - a ghost device added and then revoked shows up, both versions, in the
 *     victim's own audit; audits with a leaf omitted, reordered, from
 *     another handle, cut short or chained to the wrong hash are refused;
 *     long histories page;
 *   - witness cosignatures are added to the stored checkpoint;
 *   - imc_dir_check replays the log, and catches a changed leaf or note;
 *   - a directory file from before the log (format 2) is refused;
 *   - every rule of the request, leaf, head, lookup and audit parsers. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#include <lmdb.h>

#include "imcore/dirkt.h"

#define BIG (IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(3))

static uint8_t g_resp[BIG], g_mut[BIG + 1], g_req[IMC_DIR_KT_REQUEST_MAX_BYTES];
static uint8_t g_audit[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES], g_forged[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES];
static uint8_t g_upd[FX_RESP_MAX];

typedef struct world {
    const imc_backend *b;
    imc_dir_store s;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES];
    imc_kt_client c;
    imc_kt_key log;
} world;

static void open_world(world *w, const imc_backend *b, fx_store_kind kind, const char *tmp,
                       const char *name)
{
    memset(w, 0, sizeof *w);
    w->b = b;
    uint8_t sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, w->pk, sk);
    CHECK_OK(fx_store_open(&w->s, kind, b, tmp, name));
    CHECK_OK(imc_dir_init(&w->d, b, w->s, sk, NULL));
    char vkey[IMC_KT_VKEY_MAX];
    CHECK_OK(imc_dir_kt_vkey(vkey, &w->d));
    CHECK(strncmp(vkey, "imcore-dir/", 11) == 0);
    CHECK_OK(imc_kt_vkey_parse(&w->log, b, vkey, strlen(vkey)));
    CHECK(memcmp(w->log.pk, w->pk, sizeof w->pk) == 0);
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = w->log;
    CHECK_OK(imc_kt_client_init(&w->c, b, &cfg));
}

static void close_world(world *w)
{
    imc_dir_wipe(&w->d);
    imc_dir_store_close(&w->s);
}

static uint64_t client_size(const world *w)
{
    imc_kt_checkpoint cp;
    return imc_kt_client_checkpoint(&cp, &w->c) == IMC_OK ? cp.size : 0;
}

/* Serves a request, leaves the response in out. */
static size_t serve(world *w, uint8_t *out, size_t cap, const uint8_t *req, size_t req_len)
{
    size_t n = 0;
    CHECK_OK(imc_dir_serve(out, cap, &n, &w->d, FX_NOW, req, req_len));
    return n;
}

static size_t lookup(world *w, const imc_dir_handle *h, size_t count, uint64_t known)
{
    size_t rn = 0;
    CHECK_OK(imc_dir_kt_encode_lookup(g_req, sizeof g_req, &rn, known, h, count));
    return serve(w, g_resp, sizeof g_resp, g_req, rn);
}

static size_t audit(world *w, uint8_t *out, const char *h, uint64_t since, uint64_t known)
{
    size_t rn = 0;
    CHECK_OK(imc_dir_kt_encode_audit(g_req, sizeof g_req, &rn, known, (const uint8_t *)h,
                                     strlen(h), since));
    return serve(w, out, IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES, g_req, rn);
}

/* The whole client side of a lookup response: parse, take the checkpoint,
 * verify every answer. IMC_OK or the first failure. */
static imc_status check_lookup(world *w, const uint8_t *in, size_t len, uint64_t *epochs)
{
    static imc_dir_kt_lookup_response r;
    imc_status st = imc_dir_kt_parse_lookup(&r, in, len);
    if (st != IMC_OK)
        return st;
    st = imc_kt_client_update(&w->c, NULL, r.head.note, r.head.note_len, r.head.proof,
                              r.head.proof_len);
    imc_kt_checkpoint cp;
    if (st == IMC_OK)
        st = imc_kt_client_checkpoint(&cp, &w->c);
    size_t off = 0;
    for (size_t i = 0; i < r.count && st == IMC_OK; i++) {
        imc_dir_kt_answer a;
        imc_dir_kt_leaf leaf;
        uint64_t at = 0;
        st = imc_dir_kt_lookup_next(&a, &off, &r);
        if (st == IMC_OK)
            st = imc_dir_kt_answer_verify(&leaf, &at, w->b, w->pk, &cp, &a);
        if (st == IMC_OK && epochs != NULL)
            epochs[i] = leaf.version;
    }
    return st;
}

/* ---- Audits ------------------------------------------------------------- */

typedef struct seen {
    size_t count;
    uint64_t version[300];
    uint8_t list_hash[300][32];
    uint8_t hash[32];
} seen;

static int on_leaf(void *ctx, const imc_dir_kt_leaf *leaf, uint64_t index,
                   const uint8_t hash[IMC_KT_HASH_BYTES])
{
    seen *s = ctx;
    (void)index;
    if (s->count < 300) {
        s->version[s->count] = leaf->version;
        memcpy(s->list_hash[s->count], leaf->list_hash, 32);
    }
    s->count++;
    memcpy(s->hash, hash, 32);
    return 0;
}

static imc_status check_audit(world *w, const uint8_t *in, size_t len, const uint8_t *prev,
                              seen *s, bool *complete)
{
    static imc_dir_kt_audit_response r;
    imc_status st = imc_dir_kt_parse_audit(&r, in, len);
    if (st != IMC_OK)
        return st;
    st = imc_kt_client_update(&w->c, NULL, r.head.note, r.head.note_len, r.head.proof,
                              r.head.proof_len);
    imc_kt_checkpoint cp;
    if (st == IMC_OK)
        st = imc_kt_client_checkpoint(&cp, &w->c);
    if (st == IMC_OK) {
        memset(s, 0, sizeof *s);
        st = imc_dir_kt_audit_verify(complete, w->b, &cp, &r, prev, on_leaf, s);
    }
    return st;
}

/* An audit response rebuilt from a genuine one with items chosen by idx
 * (from the genuine items, or from `other`'s when idx >= 100), since and
 * latest as given. */
typedef struct item {
    const uint8_t *p;
    size_t n;
} item;

static size_t items_of(item *out, size_t cap, const imc_dir_kt_audit_response *r)
{
    imc_reader rd;
    imc_wire_reader_init(&rd, r->items, r->items_len);
    size_t k = 0;
    for (; k < r->count && k < cap; k++) {
        size_t mark = rd.off;
        size_t a = imc_wire_read_u16(&rd);
        (void)imc_wire_read_bytes(&rd, a);
        size_t b = imc_wire_read_u16(&rd);
        (void)imc_wire_read_bytes(&rd, b);
        out[k].p = imc_wire_reader_since(&rd, mark, &out[k].n);
    }
    return k;
}

static size_t forge_audit(const imc_dir_kt_audit_response *r, uint64_t since, uint64_t latest,
                          const item *items, size_t count)
{
    imc_writer w;
    size_t n = 0;
    imc_wire_writer_init(&w, g_forged, sizeof g_forged);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_KT_AUDIT_RESP);
    imc_wire_write_u16(&w, (uint16_t)r->head.note_len);
    imc_wire_write_bytes(&w, r->head.note, r->head.note_len);
    imc_wire_write_u16(&w, (uint16_t)r->head.proof_len);
    imc_wire_write_bytes(&w, r->head.proof, r->head.proof_len);
    imc_dir_put_handle(&w, r->handle.bytes, r->handle.len);
    imc_wire_write_u64(&w, since);
    imc_wire_write_u64(&w, latest);
    imc_wire_write_u16(&w, (uint16_t)count);
    for (size_t i = 0; i < count; i++)
        imc_wire_write_bytes(&w, items[i].p, items[i].n);
    imc_wire_write_bytes(&w, r->index_value, sizeof r->index_value);
    imc_wire_write_u16(&w, (uint16_t)r->index_proof_len);
    imc_wire_write_bytes(&w, r->index_proof, r->index_proof_len);
    CHECK_OK(imc_wire_writer_finish(&w, &n));
    return n;
}

/* SHA-256 of the device list in a one-entry update answer. */
static void list_hash_of(const imc_backend *b, uint8_t out[32], const uint8_t *resp, size_t n)
{
    imc_dir_response r;
    imc_dir_entry e;
    size_t off = 0;
    CHECK_OK(imc_dir_parse_response(&r, resp, n));
    CHECK_OK(imc_dir_response_next(&e, &off, &r));
    CHECK_OK(imc_crypto_sha256(b, out, e.list, e.list_len));
}

static void audits(world *w, uint8_t ghost_hash[2][32], uint8_t own_hash[2][32])
{
    static imc_dir_kt_audit_response r, other;
    static uint8_t alice1[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES];
    static uint8_t bob[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES];
    seen s;
    bool complete = false;
    /* alice@example.com: v1 register (hers), v2 ghost add, v3 ghost revoke,
     * v4 rotate (hers). Her device audits from 1: four leaves, chained. */
    size_t n = audit(w, g_audit, "alice@example.com", 1, client_size(w));
    CHECK_OK(check_audit(w, g_audit, n, NULL, &s, &complete));
    CHECK(complete && s.count == 4);
    for (size_t i = 0; i < 4 && i < s.count; i++)
        CHECK(s.version[i] == i + 1);
    /* The two versions she did not make are the ghost's lists. */
    CHECK(memcmp(s.list_hash[0], own_hash[0], 32) == 0);
    CHECK(memcmp(s.list_hash[1], ghost_hash[0], 32) == 0);
    CHECK(memcmp(s.list_hash[2], ghost_hash[1], 32) == 0);
    CHECK(memcmp(s.list_hash[3], own_hash[1], 32) == 0);
    uint8_t v4[32];
    memcpy(v4, s.hash, 32);

    /* From version 3 with the hash of version 2 she kept: two leaves. */
    n = audit(w, g_audit, "alice@example.com", 3, client_size(w));
    CHECK_ST(check_audit(w, g_audit, n, NULL, &s, &complete), IMC_OK);
    uint8_t v2[32];
    static seen all;
    size_t n1 = audit(w, alice1, "alice@example.com", 1, client_size(w));
    CHECK_OK(check_audit(w, alice1, n1, NULL, &all, &complete));
    /* The hash of version 2 is the prev of version 3. */
    CHECK_OK(imc_dir_kt_parse_audit(&r, alice1, n1));
    item it[8];
    CHECK(items_of(it, 8, &r) == 4);
    {
        imc_reader rd;
        imc_wire_reader_init(&rd, it[1].p, it[1].n);
        size_t ln = imc_wire_read_u16(&rd);
        CHECK_OK(imc_kt_leaf_hash(w->b, v2, imc_wire_read_bytes(&rd, ln), ln));
    }
    CHECK_OK(check_audit(w, g_audit, n, v2, &s, &complete));
    CHECK(complete && s.count == 2 && s.version[0] == 3);
    CHECK_ST(check_audit(w, g_audit, n, v4, &s, &complete), IMC_ERR_AUTH); /* wrong chain */
    /* Nothing new after version 4: an empty answer, matching her hash. */
    n = audit(w, g_audit, "alice@example.com", 5, client_size(w));
    CHECK_OK(check_audit(w, g_audit, n, v4, &s, &complete));
    CHECK(complete && s.count == 0);
    CHECK_ST(check_audit(w, g_audit, n, NULL, &s, &complete), IMC_ERR_ARG); /* unanchored */
    CHECK_ST(check_audit(w, g_audit, n, v2, &s, &complete), IMC_ERR_AUTH);
    /* An unregistered handle: latest 0, absent from the index. */
    n = audit(w, g_audit, "carol@example.com", 1, client_size(w));
    CHECK_OK(check_audit(w, g_audit, n, NULL, &s, &complete));
    CHECK(complete && s.count == 0);

    /* Forged answers built from the genuine one (r: alice from 1). */
    size_t nb = audit(w, bob, "bob@example.com", 1, client_size(w));
    CHECK_OK(imc_dir_kt_parse_audit(&other, bob, nb));
    item ob[2];
    CHECK(items_of(ob, 2, &other) == 1);
    item omit[3] = {it[0], it[2], it[3]};
    item swap[4] = {it[0], it[2], it[1], it[3]};
    item mixed[4] = {it[0], ob[0], it[2], it[3]};
    item dup[4] = {it[0], it[1], it[1], it[3]};
    struct {
        const char *what;
        uint64_t since, latest;
        const item *items;
        size_t count;
    } forged[] = {
        {"genuine", 1, 4, it, 4},
        {"a leaf omitted (count kept honest)", 1, 3, omit, 3},
        {"a leaf omitted (count as before)", 1, 4, omit, 3},
        {"two leaves swapped", 1, 4, swap, 4},
        {"a leaf of another handle", 1, 4, mixed, 4},
        {"a leaf twice", 1, 4, dup, 4},
        {"the latest leaf left out", 1, 3, it, 3},
        {"claims to start later", 2, 5, it, 4},
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        size_t fn = forge_audit(&r, forged[i].since, forged[i].latest, forged[i].items,
                                forged[i].count);
        imc_status st = check_audit(w, g_forged, fn, NULL, &s, &complete);
        if (i == 0)
            CHECK_OK(st);
        else
            CHECK(st == IMC_ERR_AUTH || st == IMC_ERR_MALFORMED);
        if (i > 0 && st == IMC_OK)
            printf("  forged audit accepted: %s\n", forged[i].what);
    }
    /* Every single flipped byte of a genuine audit answer is caught. */
    size_t caught = 0;
    for (size_t i = 0; i < n1; i++) {
        size_t fn = forge_audit(&r, 1, 4, it, 4);
        g_forged[i] ^= 0x01;
        caught += check_audit(w, g_forged, fn, NULL, &s, &complete) != IMC_OK;
    }
    CHECK(caught == n1);
}

/* ---- Parser rules --------------------------------------------------------- */

static imc_status parse_leaf(const uint8_t *in, size_t n)
{
    imc_dir_kt_leaf l;
    return imc_dir_kt_leaf_parse(&l, in, n);
}
static imc_status parse_req(const uint8_t *in, size_t n)
{
    static imc_dir_kt_request r;
    return imc_dir_kt_parse_request(&r, in, n);
}
static imc_status parse_head(const uint8_t *in, size_t n)
{
    imc_dir_kt_head h;
    return imc_dir_kt_parse_head(&h, in, n);
}
static imc_status parse_lookup(const uint8_t *in, size_t n)
{
    static imc_dir_kt_lookup_response r;
    return imc_dir_kt_parse_lookup(&r, in, n);
}
static imc_status parse_audit(const uint8_t *in, size_t n)
{
    static imc_dir_kt_audit_response r;
    return imc_dir_kt_parse_audit(&r, in, n);
}

typedef imc_status (*parse_fn)(const uint8_t *in, size_t n);

/* Valid as given; every proper prefix, one trailing byte, version 1 and
 * another kind are malformed. */
static void framing(parse_fn parse, const uint8_t *in, size_t n)
{
    CHECK_OK(parse(in, n));
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += parse(in, i) == IMC_OK;
    CHECK(bad == 0);
    memcpy(g_mut, in, n);
    g_mut[n] = 0;
    CHECK_ST(parse(g_mut, n + 1), IMC_ERR_MALFORMED);
    g_mut[0] = 1;
    CHECK_ST(parse(g_mut, n), IMC_ERR_MALFORMED);
    g_mut[0] = in[0];
    g_mut[1] ^= 0x20; /* 'P' <-> 'p' and so on */
    CHECK_ST(parse(g_mut, n), IMC_ERR_MALFORMED);
}

/* Sets the big-endian field of `len` bytes at off of a copy, parses. */
static imc_status with_field(parse_fn parse, const uint8_t *in, size_t n, size_t off, size_t len,
                             uint64_t v)
{
    memcpy(g_mut, in, n);
    for (size_t i = 0; i < len; i++)
        g_mut[off + len - 1 - i] = (uint8_t)(v >> (8 * i));
    return parse(g_mut, n);
}

static void leaf_rules(const imc_backend *b)
{
    imc_dir_kt_leaf l, back;
    memset(&l, 0, sizeof l);
    memcpy(l.handle, "alice@example.com", 17);
    l.handle_len = 17;
    l.version = 1;
    memset(l.account_pk, 0xaa, 32);
    memset(l.list_hash, 0xbb, 32);
    uint8_t buf[IMC_DIR_KT_LEAF_MAX_BYTES];
    size_t n = 0;
    CHECK_OK(imc_dir_kt_leaf_encode(buf, sizeof buf, &n, &l));
    CHECK(n == 2 + 18 + 8 + 96);
    CHECK_OK(imc_dir_kt_leaf_parse(&back, buf, n));
    CHECK(memcmp(&back, &l, sizeof l) == 0);
    framing(parse_leaf, buf, n);
    const size_t ver = 2 + 18, prev = ver + 8 + 64;
    CHECK_ST(with_field(parse_leaf, buf, n, ver, 8, 0), IMC_ERR_MALFORMED); /* version 0 */
    CHECK_ST(with_field(parse_leaf, buf, n, ver, 8, 2), IMC_ERR_MALFORMED); /* v2, prev zero */
    CHECK_ST(with_field(parse_leaf, buf, n, prev, 1, 1), IMC_ERR_MALFORMED); /* v1, prev set */
    CHECK_ST(with_field(parse_leaf, buf, n, 3, 1, 'A'), IMC_ERR_MALFORMED);  /* not normal */
    CHECK_ST(with_field(parse_leaf, buf, n, 2, 1, 0), IMC_ERR_MALFORMED);    /* empty handle */
    memcpy(g_mut, buf, n);
    g_mut[ver + 7] = 2;
    g_mut[prev] = 1;
    CHECK_OK(parse_leaf(g_mut, n)); /* v2 chained */
    l.version = 0;
    CHECK_ST(imc_dir_kt_leaf_encode(buf, sizeof buf, &n, &l), IMC_ERR_ARG);
    l.version = 1;
    CHECK_ST(imc_dir_kt_leaf_encode(buf, 10, &n, &l), IMC_ERR_NO_SPACE);
    (void)b;
}

static void request_rules(void)
{
    uint8_t buf[IMC_DIR_KT_REQUEST_MAX_BYTES];
    size_t n = 0;
    imc_dir_handle hs[2] = {fx_h("alice@example.com"), fx_h("+14155550100")};
    static imc_dir_kt_request r;
    /* Checkpoint request. */
    CHECK_OK(imc_dir_kt_encode_head(buf, sizeof buf, &n, 7));
    CHECK(n == 10);
    CHECK_OK(imc_dir_kt_parse_request(&r, buf, n));
    CHECK(r.kind == IMC_DIR_KIND_KT_HEAD && r.known_size == 7 && r.count == 0);
    framing(parse_req, buf, n);
    CHECK_ST(with_field(parse_req, buf, n, 2, 8, IMC_KT_MAX_SIZE), IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_kt_encode_head(buf, sizeof buf, &n, IMC_KT_MAX_SIZE), IMC_ERR_ARG);
    /* Lookup request. */
    CHECK_OK(imc_dir_kt_encode_lookup(buf, sizeof buf, &n, 3, hs, 2));
    CHECK_OK(imc_dir_kt_parse_request(&r, buf, n));
    CHECK(r.kind == IMC_DIR_KIND_KT_LOOKUP && r.count == 2 && r.known_size == 3 &&
          r.handles[1].len == 12);
    framing(parse_req, buf, n);
    CHECK_ST(with_field(parse_req, buf, n, 10, 2, 0), IMC_ERR_MALFORMED); /* no handles */
    CHECK_ST(with_field(parse_req, buf, n, 10, 2, IMC_DIR_MAX_BATCH + 1), IMC_ERR_LIMIT);
    CHECK_ST(with_field(parse_req, buf, n, 13, 1, 'A'), IMC_ERR_MALFORMED); /* not normal */
    imc_dir_handle same[2] = {hs[0], hs[0]};
    CHECK_ST(imc_dir_kt_encode_lookup(buf, sizeof buf, &n, 0, same, 2), IMC_ERR_MALFORMED);
    CHECK_OK(imc_dir_kt_encode_lookup(buf, sizeof buf, &n, 0, hs, 1));
    memcpy(g_mut, buf, n);
    g_mut[11] = 2;
    memcpy(g_mut + n, buf + 12, n - 12); /* the same handle twice */
    CHECK_ST(parse_req(g_mut, n + (n - 12)), IMC_ERR_MALFORMED);
    /* Audit request. */
    CHECK_OK(imc_dir_kt_encode_audit(buf, sizeof buf, &n, 0, hs[0].bytes, hs[0].len, 5));
    CHECK_OK(imc_dir_kt_parse_request(&r, buf, n));
    CHECK(r.kind == IMC_DIR_KIND_KT_AUDIT && r.since == 5 && r.count == 1);
    framing(parse_req, buf, n);
    CHECK_ST(with_field(parse_req, buf, n, n - 8, 8, 0), IMC_ERR_MALFORMED); /* since 0 */
    CHECK_ST(imc_dir_kt_encode_audit(buf, sizeof buf, &n, 0, hs[0].bytes, hs[0].len, 0),
             IMC_ERR_ARG);
    CHECK_ST(imc_dir_kt_encode_audit(buf, sizeof buf, &n, 0, (const uint8_t *)"Bob", 3, 1),
             IMC_ERR_MALFORMED);
    /* An unknown kind ('Q' is the plain lookup, not a transparency request). */
    CHECK_OK(imc_dir_kt_encode_head(buf, sizeof buf, &n, 0));
    CHECK_ST(with_field(parse_req, buf, n, 1, 1, IMC_DIR_KIND_REQUEST), IMC_ERR_MALFORMED);
}

/* Offsets inside a response head: note length at 2, note at 4, proof
 * length after it. */
static size_t head_end(const uint8_t *in)
{
    size_t note = ((size_t)in[2] << 8) | in[3];
    size_t proof = ((size_t)in[4 + note] << 8) | in[5 + note];
    return 6 + note + proof;
}

static void head_rules(world *w)
{
    static uint8_t head[IMC_DIR_KT_HEAD_MAX_BYTES + 64];
    size_t rn = 0;
    CHECK_OK(imc_dir_kt_encode_head(g_req, sizeof g_req, &rn, 2));
    size_t n = serve(w, head, sizeof head, g_req, rn);
    imc_dir_kt_head h;
    CHECK_OK(imc_dir_kt_parse_head(&h, head, n));
    CHECK(h.from_size == 2 && h.cp.size >= 2 && n == head_end(head));
    framing(parse_head, head, n);
    size_t note = h.note_len;
    /* A note that is not a signed note; whose text is not a checkpoint. */
    CHECK_ST(with_field(parse_head, head, n, 4 + note - 2, 1, ' '), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_head, head, n, 4, 1, ' '), IMC_ERR_MALFORMED);
    /* The note's length: 0, and over the note limit. */
    CHECK_ST(with_field(parse_head, head, n, 2, 2, 0), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_head, head, n, 2, 2, IMC_KT_MAX_NOTE_BYTES + 1), IMC_ERR_MALFORMED);
    /* The proof: an inclusion proof; another second size; a bad path length. */
    size_t p = 6 + note;
    CHECK_ST(with_field(parse_head, head, n, p, 1, IMC_KT_PROOF_INCLUSION), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_head, head, n, p + 9, 8, h.cp.size + 1), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_head, head, n, p + 17, 1, 60), IMC_ERR_MALFORMED);
    /* A known size above the log is refused by the directory. */
    CHECK_OK(imc_dir_kt_encode_head(g_req, sizeof g_req, &rn, h.cp.size + 1));
    size_t out = 0;
    CHECK_ST(imc_dir_serve(head, sizeof head, &out, &w->d, FX_NOW, g_req, rn), IMC_ERR_STALE);
    CHECK(out == 0);
    /* Too small a buffer. */
    CHECK_OK(imc_dir_kt_encode_head(g_req, sizeof g_req, &rn, 0));
    CHECK_ST(imc_dir_serve(head, 40, &out, &w->d, FX_NOW, g_req, rn), IMC_ERR_NO_SPACE);
}

static void lookup_rules(world *w)
{
    imc_dir_handle hs[2] = {fx_h("alice@example.com"), fx_h("carol@example.com")};
    size_t n = lookup(w, hs, 2, 0);
    static imc_dir_kt_lookup_response r;
    CHECK_OK(imc_dir_kt_parse_lookup(&r, g_resp, n));
    framing(parse_lookup, g_resp, n);
    size_t a0 = head_end(g_resp);
    /* No answers; too many. */
    CHECK_ST(with_field(parse_lookup, g_resp, n, a0, 2, 0), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_lookup, g_resp, n, a0, 2, IMC_DIR_MAX_BATCH + 1), IMC_ERR_LIMIT);
    imc_dir_kt_answer a, c;
    size_t off = 0;
    CHECK_OK(imc_dir_kt_lookup_next(&a, &off, &r));
    CHECK_OK(imc_dir_kt_lookup_next(&c, &off, &r));
    CHECK(off == r.answers_len && a.leaf != NULL && c.leaf == NULL);
    size_t leaf_at = (size_t)(a.leaf - g_resp), incl_at = (size_t)(a.inclusion - g_resp);
    size_t idx_at = (size_t)(a.index_proof - g_resp);
    size_t cleaf_at = (size_t)(c.index_proof - g_resp) - 6; /* carol's empty leaf length */
    /* The leaf: missing for a registered handle; not a leaf. */
    CHECK_ST(with_field(parse_lookup, g_resp, n, leaf_at - 2, 2, 0), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_lookup, g_resp, n, leaf_at + 1, 1, 'K'), IMC_ERR_MALFORMED);
    /* The inclusion proof: missing, or of another kind. */
    CHECK_ST(with_field(parse_lookup, g_resp, n, incl_at - 2, 2, 0), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_lookup, g_resp, n, incl_at, 1, IMC_KT_PROOF_CONSISTENCY),
             IMC_ERR_MALFORMED);
    /* The index proof: empty, or not an index proof. */
    CHECK_ST(with_field(parse_lookup, g_resp, n, idx_at - 2, 2, 0), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_lookup, g_resp, n, idx_at, 1, 0x04), IMC_ERR_MALFORMED);
    /* An unregistered handle with a leaf, or with a proof. */
    CHECK(g_resp[cleaf_at] == 0 && g_resp[cleaf_at + 1] == 0);
    CHECK_ST(with_field(parse_lookup, g_resp, n, cleaf_at, 2, 1), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_lookup, g_resp, n, cleaf_at + 2, 2, 1), IMC_ERR_MALFORMED);
    /* The same handle twice: answer 0 in place of answer 1. */
    size_t first = (size_t)(c.entry.body - g_resp) - (a0 + 2);
    memcpy(g_mut, g_resp, a0 + 2 + first);
    memcpy(g_mut + a0 + 2 + first, g_resp + a0 + 2, first);
    CHECK_ST(parse_lookup(g_mut, a0 + 2 + 2 * first), IMC_ERR_MALFORMED);
    /* Entry rules are those of the lookup response: e.g. a list of another version. */
    size_t entry_epoch = (size_t)(a.entry.body - g_resp) + 18;
    CHECK_ST(with_field(parse_lookup, g_resp, n, entry_epoch, 8, 9), IMC_ERR_MALFORMED);
}

static void audit_rules(world *w)
{
    size_t n = audit(w, g_audit, "alice@example.com", 1, 0);
    static imc_dir_kt_audit_response r;
    CHECK_OK(imc_dir_kt_parse_audit(&r, g_audit, n));
    framing(parse_audit, g_audit, n);
    size_t h = head_end(g_audit), since = h + 18, latest = since + 8, count = latest + 8;
    CHECK_ST(with_field(parse_audit, g_audit, n, since, 8, 0), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_audit, g_audit, n, latest, 8, IMC_KT_MAX_SIZE), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_audit, g_audit, n, latest, 8, 5), IMC_ERR_MALFORMED); /* count */
    CHECK_ST(with_field(parse_audit, g_audit, n, count, 2, 3), IMC_ERR_MALFORMED);
    CHECK_ST(with_field(parse_audit, g_audit, n, h, 1, 0), IMC_ERR_MALFORMED); /* handle */
    size_t item0 = count + 2;
    CHECK_ST(with_field(parse_audit, g_audit, n, item0 + 3, 1, 'K'), IMC_ERR_MALFORMED); /* leaf */
    size_t incl = item0 + 2 + (((size_t)g_audit[item0] << 8) | g_audit[item0 + 1]) + 2;
    CHECK_ST(with_field(parse_audit, g_audit, n, incl, 1, IMC_KT_PROOF_CONSISTENCY),
             IMC_ERR_MALFORMED);
    size_t value = (size_t)(r.index_proof - g_audit) - 34;
    CHECK_ST(with_field(parse_audit, g_audit, n, value + 34, 1, 0x04), IMC_ERR_MALFORMED);
    /* latest 0 needs a zero index value: carol's answer with a value set. */
    n = audit(w, g_audit, "carol@example.com", 1, 0);
    CHECK_OK(imc_dir_kt_parse_audit(&r, g_audit, n));
    value = (size_t)(r.index_proof - g_audit) - 34;
    CHECK_ST(with_field(parse_audit, g_audit, n, value, 1, 1), IMC_ERR_MALFORMED);
}

/* ---- Scenario --------------------------------------------------------------- */

static void poke(world *w, imc_dir_table t, const uint8_t *key, size_t key_len,
                 const uint8_t *val, size_t val_len)
{
    void *txn = NULL;
    CHECK_OK(w->s.ops->begin(w->s.self, true, &txn));
    CHECK_OK(w->s.ops->put(txn, t, key, key_len, val, val_len));
    CHECK_OK(w->s.ops->commit(txn));
}

static void check_catches(world *w)
{
    CHECK_OK(imc_dir_check(&w->d));
    /* A changed leaf 1 (bob's) is caught, and so is a stale note. */
    void *txn = NULL;
    const uint8_t *v = NULL;
    size_t n = 0;
    static uint8_t save[IMC_KT_MAX_NOTE_BYTES], bad[IMC_KT_MAX_NOTE_BYTES];
    uint8_t key[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    CHECK_OK(w->s.ops->begin(w->s.self, false, &txn));
    CHECK_OK(w->s.ops->get(txn, IMC_DIR_TABLE_KT_LEAVES, key, 8, &v, &n));
    CHECK(n <= sizeof save);
    memcpy(save, v, n);
    w->s.ops->abort(txn);
    memcpy(bad, save, n);
    bad[n - 1] ^= 1;
    poke(w, IMC_DIR_TABLE_KT_LEAVES, key, 8, bad, n);
    CHECK_ST(imc_dir_check(&w->d), IMC_ERR_IO);
    poke(w, IMC_DIR_TABLE_KT_LEAVES, key, 8, save, n);
    CHECK_OK(imc_dir_check(&w->d));
    size_t nn = 0;
    CHECK_OK(imc_dir_kt_checkpoint(save, sizeof save, &nn, &w->d));
    memcpy(bad, save, nn);
    bad[nn - 3] ^= 1; /* the signature */
    poke(w, IMC_DIR_TABLE_META, (const uint8_t *)"kt_note", 7, bad, nn);
    CHECK_ST(imc_dir_check(&w->d), IMC_ERR_IO);
    poke(w, IMC_DIR_TABLE_META, (const uint8_t *)"kt_note", 7, save, nn);
    CHECK_OK(imc_dir_check(&w->d));
}

static void cosignatures(world *w)
{
    uint8_t wsk[32], wpk[32];
    for (size_t i = 0; i < 32; i++)
        wsk[i] = (uint8_t)(0x90 + i);
    CHECK_OK(imc_crypto_ed25519_public(w->b, wpk, wsk));
    imc_kt_key wkey;
    CHECK_OK(imc_kt_key_init(&wkey, w->b, "witness.example", IMC_KT_SIG_COSIGNATURE, wpk));
    static imc_kt_witness wit;
    CHECK_OK(imc_kt_witness_init(&wit, w->b, &wkey, wsk, &w->log));
    static uint8_t note[IMC_KT_MAX_NOTE_BYTES];
    size_t n = 0, ln = 0;
    CHECK_OK(imc_dir_kt_checkpoint(note, sizeof note, &n, &w->d));
    char line[IMC_KT_COSIG_LINE_MAX];
    CHECK_OK(imc_kt_witness_cosign(line, sizeof line, &ln, &wit, note, n, NULL, 0, 1700000000));
    static imc_kt_note parsed;
    CHECK_OK(imc_kt_note_parse(&parsed, note, n));
    const uint8_t *text = parsed.text;
    size_t text_len = parsed.text_len;
    CHECK_ST(imc_dir_kt_add_cosignature(&w->d, &wkey, text, text_len, (const uint8_t *)line,
                                        ln - 1),
             IMC_ERR_MALFORMED); /* no final newline */
    line[ln - 3] ^= 1;
    CHECK(imc_dir_kt_add_cosignature(&w->d, &wkey, text, text_len, (const uint8_t *)line, ln) !=
          IMC_OK);
    line[ln - 3] ^= 1;
    CHECK_OK(imc_dir_kt_add_cosignature(&w->d, &wkey, text, text_len, (const uint8_t *)line, ln));
    CHECK_ST(imc_dir_kt_add_cosignature(&w->d, &wkey, text, text_len, (const uint8_t *)line, ln),
             IMC_ERR_EXISTS);
    static uint8_t cosigned[IMC_KT_MAX_NOTE_BYTES];
    size_t cn = 0;
    CHECK_OK(imc_dir_kt_checkpoint(cosigned, sizeof cosigned, &cn, &w->d));
    CHECK(cn == n + ln && memcmp(cosigned + n, line, ln) == 0);
    CHECK_OK(imc_dir_check(&w->d));
    /* A client requiring that witness accepts the served note. */
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = w->log;
    cfg.witness_count = 1;
    cfg.witnesses[0] = wkey;
    cfg.threshold = 1;
    static imc_kt_client strict;
    CHECK_OK(imc_kt_client_init(&strict, w->b, &cfg));
    imc_dir_handle h = fx_h("alice@example.com");
    size_t rn = lookup(w, &h, 1, 0);
    static imc_dir_kt_lookup_response r;
    CHECK_OK(imc_dir_kt_parse_lookup(&r, g_resp, rn));
    CHECK_OK(imc_kt_client_update(&strict, NULL, r.head.note, r.head.note_len, r.head.proof,
                                  r.head.proof_len));
    /* After the next update, the old text is stale. */
    imc_device_keys k;
    CHECK_OK(fx_keys(&k, w->b, 1, 40, 0));
    size_t un = 0;
    CHECK_OK(fx_register(g_upd, &un, &w->d, "dave@example.com", &k));
    CHECK_ST(imc_dir_kt_add_cosignature(&w->d, &wkey, text, text_len, (const uint8_t *)line, ln),
             IMC_ERR_STALE);
    imc_kt_witness_wipe(&wit);
    imc_keys_wipe(&k);
}

static void run_store(const imc_backend *b, fx_store_kind kind, const char *tmp)
{
    printf("  %s\n", FX_STORE_NAMES[kind]);
    static world w;
    open_world(&w, b, kind, tmp, "kt");
    uint64_t g = 0;
    /* The empty log's checkpoint. */
    size_t rn = 0;
    CHECK_OK(imc_dir_kt_encode_head(g_req, sizeof g_req, &rn, 0));
    size_t n = serve(&w, g_resp, sizeof g_resp, g_req, rn);
    imc_dir_kt_head head;
    CHECK_OK(imc_dir_kt_parse_head(&head, g_resp, n));
    CHECK(head.cp.size == 0 && head.cp.epoch == 0);
    CHECK_OK(imc_kt_client_update(&w.c, NULL, head.note, head.note_len, head.proof,
                                  head.proof_len));

    imc_device_keys a1, a1b, ghost, b1;
    CHECK_OK(fx_keys(&a1, b, 1, 1, 0));
    CHECK_OK(fx_keys(&a1b, b, 1, 1, 1));
    CHECK_OK(fx_keys(&ghost, b, 1, 3, 0));
    CHECK_OK(fx_keys(&b1, b, 1, 2, 0));
    uint8_t ghost_hash[2][32], own_hash[2][32];
    size_t un = 0;
    CHECK_OK(fx_register(g_upd, &un, &w.d, "alice@example.com", &a1));
    list_hash_of(b, own_hash[0], g_upd, un);
    CHECK_OK(fx_register(g_upd, &un, &w.d, "bob@example.com", &b1));
    /* The consistency from the empty log and from size 2. */
    imc_dir_handle hs[3] = {fx_h("alice@example.com"), fx_h("bob@example.com"),
                            fx_h("carol@example.com")};
    n = lookup(&w, hs, 3, client_size(&w));
    uint64_t ep[3] = {0, 0, 0};
    CHECK_OK(check_lookup(&w, g_resp, n, ep));
    CHECK(client_size(&w) == 2 && ep[0] == 1 && ep[1] == 1 && ep[2] == 0);
    /* The ghost: a device added to alice and removed again. */
    CHECK_OK(fx_register(g_upd, &un, &w.d, "alice@example.com", &ghost));
    list_hash_of(b, ghost_hash[0], g_upd, un);
    CHECK_OK(fx_revoke(g_upd, &un, &w.d, "alice@example.com", 3));
    list_hash_of(b, ghost_hash[1], g_upd, un);
    CHECK_OK(fx_rotate(g_upd, &un, &w.d, "alice@example.com", &a1, &a1b));
    list_hash_of(b, own_hash[1], g_upd, un);
    CHECK_OK(imc_dir_global_epoch(&g, &w.d));
    CHECK(g == 5);
    /* A lookup from size 2 to size 5: the checkpoint moved on consistently. */
    static imc_kt_client at_two;
    at_two = w.c;
    n = lookup(&w, hs, 3, client_size(&w));
    CHECK_OK(check_lookup(&w, g_resp, n, ep));
    CHECK(client_size(&w) == 5 && ep[0] == 4 && ep[1] == 1 && ep[2] == 0);
    /* Every flipped byte of it is caught somewhere, by a client that holds
     * the checkpoint of size 2 (so the consistency proof counts too). */
    size_t caught = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(g_mut, g_resp, n);
        g_mut[i] ^= 0x01;
        w.c = at_two;
        caught += check_lookup(&w, g_mut, n, NULL) != IMC_OK;
    }
    CHECK(caught == n);
    w.c = at_two;
    CHECK_OK(check_lookup(&w, g_resp, n, NULL));
    /* A genuine answer against another checkpoint does not verify. */
    {
        static imc_dir_kt_lookup_response r;
        CHECK_OK(imc_dir_kt_parse_lookup(&r, g_resp, n));
        imc_kt_checkpoint cp = r.head.cp;
        imc_dir_kt_answer a;
        size_t off = 0;
        CHECK_OK(imc_dir_kt_lookup_next(&a, &off, &r));
        CHECK_OK(imc_dir_kt_answer_verify(NULL, NULL, b, w.pk, &cp, &a));
        cp.root[0] ^= 1;
        CHECK_ST(imc_dir_kt_answer_verify(NULL, NULL, b, w.pk, &cp, &a), IMC_ERR_AUTH);
        cp = r.head.cp;
        cp.index_root[0] ^= 1;
        CHECK_ST(imc_dir_kt_answer_verify(NULL, NULL, b, w.pk, &cp, &a), IMC_ERR_AUTH);
        cp = r.head.cp;
        cp.epoch++;
        CHECK_ST(imc_dir_kt_answer_verify(NULL, NULL, b, w.pk, &cp, &a), IMC_ERR_AUTH);
        cp = r.head.cp;
        uint8_t other[32];
        memcpy(other, w.pk, 32);
        other[0] ^= 1;
        CHECK_ST(imc_dir_kt_answer_verify(NULL, NULL, b, other, &cp, &a), IMC_ERR_AUTH);
    }
    audits(&w, ghost_hash, own_hash);
    head_rules(&w);
    lookup_rules(&w);
    audit_rules(&w);
    check_catches(&w);
    cosignatures(&w);

    /* Long histories page: 260 more rotations of bob's device. */
    if (kind == FX_MEM) {
        imc_device_keys cur = b1, next;
        for (uint64_t gen = 1; gen <= 260; gen++) {
            CHECK_OK(fx_keys(&next, b, 1, 2, gen));
            CHECK_OK(fx_rotate(g_upd, &un, &w.d, "bob@example.com", &cur, &next));
            cur = next;
        }
        seen s;
        bool complete = true;
        n = audit(&w, g_audit, "bob@example.com", 1, client_size(&w));
        CHECK_OK(check_audit(&w, g_audit, n, NULL, &s, &complete));
        CHECK(!complete && s.count == IMC_DIR_KT_MAX_AUDIT);
        uint8_t last[32];
        memcpy(last, s.hash, 32);
        n = audit(&w, g_audit, "bob@example.com", IMC_DIR_KT_MAX_AUDIT + 1, client_size(&w));
        CHECK_OK(check_audit(&w, g_audit, n, last, &s, &complete));
        CHECK(complete && s.count == 261 - IMC_DIR_KT_MAX_AUDIT);
        CHECK_OK(imc_dir_check(&w.d));
        imc_keys_wipe(&cur);
    }
    imc_keys_wipe(&a1);
    imc_keys_wipe(&a1b);
    imc_keys_wipe(&ghost);
    imc_keys_wipe(&b1);
    close_world(&w);
}

/* A directory file written before the log: the three tables of format 2,
 * with a stamp of format 2. Refused with IMC_ERR_UNSUPPORTED, read-only or
 * not. */
static void old_format(const imc_backend *b, const char *tmp)
{
    char path[600];
    snprintf(path, sizeof path, "%s/old.lmdb", tmp);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi meta, other;
    CHECK(mdb_env_create(&env) == 0);
    CHECK(mdb_env_set_maxdbs(env, 8) == 0);
    CHECK(mdb_env_open(env, path, MDB_NOSUBDIR, 0600) == 0);
    CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    CHECK(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta) == 0);
    CHECK(mdb_dbi_open(txn, "handles", MDB_CREATE, &other) == 0);
    CHECK(mdb_dbi_open(txn, "devices", MDB_CREATE, &other) == 0);
    uint8_t pk[32], sk[32], two = 2, zero[8] = {0};
    fx_dir_key(b, 0, pk, sk);
    MDB_val k = {6, (void *)"format"}, v = {1, &two};
    CHECK(mdb_put(txn, meta, &k, &v, 0) == 0);
    k.mv_size = 2;
    k.mv_data = (void *)"pk";
    v.mv_size = 32;
    v.mv_data = pk;
    CHECK(mdb_put(txn, meta, &k, &v, 0) == 0);
    k.mv_size = 5;
    k.mv_data = (void *)"epoch";
    v.mv_size = 8;
    v.mv_data = zero;
    CHECK(mdb_put(txn, meta, &k, &v, 0) == 0);
    CHECK(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
    for (int ro = 1; ro >= 0; ro--) {
        imc_dir_lmdb_options o = {(size_t)1 << 30, false, ro == 1};
        imc_dir_store s;
        imc_dir d;
        CHECK_OK(imc_dir_store_lmdb_open(&s, path, &o));
        CHECK_ST(imc_dir_init(&d, b, s, sk, NULL), IMC_ERR_UNSUPPORTED);
        imc_dir_store_close(&s);
    }
}

int main(void)
{
    const imc_backend *bs[4];
    size_t nb = imc_test_backends(bs, 4);
    CHECK(nb > 0);
    leaf_rules(nb > 0 ? bs[0] : NULL);
    request_rules();
    for (size_t i = 0; i < nb && i < 2; i++) {
        printf("backend %s\n", imc_backend_name(bs[i]));
        char tmp[512];
        CHECK(fx_tmpdir(tmp, sizeof tmp));
        for (int kind = FX_MEM; kind <= FX_LMDB; kind++)
            run_store(bs[i], (fx_store_kind)kind, tmp);
        old_format(bs[i], tmp);
        fx_rmdir(tmp);
    }
    return imc_test_end();
}
