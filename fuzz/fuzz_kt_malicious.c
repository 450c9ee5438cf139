/* Target kt_malicious: a directory that holds its real signing key and
 * lies, against a persistent client cache with transparency
 * (imc_dircache with a kt config: imc_dircache_apply_kt,
 * imc_dircache_kt_update, imc_dircache_audit).
 *
 * The directory is three real imc_dir services (forks) under the one fixed
 * directory key (fuzz_common.c): an update goes to any subset of them, so
 * they share a prefix of their logs as long as the script sends them the
 * same updates and split after, with different device lists for one handle
 * at one version and different leaves at one log size. Every message the
 * client gets is a genuine answer of one fork (its checkpoint signed by the
 * key, with the cosignatures the script collected), or one of these lies:
 * a fork's lookup whose answers come from another fork (spliced under the
 * first one's checkpoint), an audit answer with a leaf left out, two leaves
 * swapped, the newest version hidden or an extra version claimed, a
 * consistency proof from another size than the client holds, or an old
 * answer replayed (a stale checkpoint, also after the client restarted).
 * Three witnesses keep their own state and cosign a fork's checkpoint when
 * told: honestly (with a consistency proof from what they cosigned last) or
 * colluding (a bare cosignature, so one fork can get the threshold).
 *
 * After every step the harness checks, from what it knows of the forks:
 *   - the client's checkpoint never gets smaller, its epoch never goes
 *     back, and each new one is in one fork's log together with the one it
 *     replaced (never two inconsistent views: a log that starts with both);
 *   - a handle's version never goes back and the client never holds two
 *     different lists for one handle version;
 *   - evidence, once kept, never changes, verifies with
 *     imc_kt_evidence_verify (the code behind `imcore verify-evidence`),
 *     names the directory's log key, and shows a real conflict: two
 *     checkpoints that no fork's log contains together (so a script whose
 *     forks never diverge never produces evidence);
 *   - a refused step changes nothing (digest, checkpoint, audit points)
 *     but, at most, kept evidence;
 *   - a genuine fresh answer of a fork whose log starts with the client's
 *     checkpoint, cosigned by enough witnesses, is accepted without
 *     evidence, and a lookup's handles then hold the fork's records;
 *   - a checkpoint smaller than the client's or in no log together with it,
 *     a spliced lookup whose answers are not the fork's, and a tampered
 *     audit are refused; a checkpoint of the client's size with another
 *     root, or a larger one with a genuine proof from the client's size
 *     that shows another prefix (the size not a power of two, so the proof
 *     fixes the prefix root), produce evidence;
 *   - an accepted audit reports exactly the versions of the handle in the
 *     range it covered that the client never held in an accepted lookup
 *     (ghost versions), and moves the audit point past them only when
 *     there were none or the user acknowledged them;
 *   - a restarted client holds exactly what it held;
 *   - an honest witness never cosigns two checkpoints no log holds together.
 *
 * Input: byte 0: the client's witness threshold (b % 3 of 3 witnesses).
 * Then 3-byte steps [k, a, b], k % 8:
 *   0  update: a bits 0-2 forks (a mask; 0: all), bits 3-4 handle (% 3),
 *      bits 5-6 0/2 register device slot b % 5, 1 revoke it, 3 account
 *      reset with device slot b % 5 (a new account key)
 *   1, 7  lookup: a bits 0-1 fork (% 3), bits 2-4 handles (a mask; 0: all),
 *      bits 5-6 the known size sent (below); b bits 0-1 splice the answers
 *      of fork (f + b) % 3 (0: none)
 *   2  audit of handle a bits 2-3 (% 3): a bits 0-1 fork, bits 5-6 known
 *      size; b bits 0-2 tamper (1 drop a middle leaf, 2 swap the first two,
 *      3 hide the newest, 4 drop the first, 5 claim one more; else none),
 *      bit 3 from the version before the audit point (anchored), bit 4 the
 *      user acknowledges findings
 *   3  checkpoint: a bits 0-1 fork, bits 5-6 known size
 *   4  replay the answer a % n of the last n (n <= 8) recorded, newest first
 *   5  witness a bits 2-3 (% 3) cosigns fork a bits 0-1's checkpoint; b
 *      bit 0: colluding (no consistency check)
 *   6  restart the client (close and reopen its state file)
 * Known size: 0, 1 the client's size, 2 one less, 3 zero; never above the
 * fork's size (a fork smaller than the client answers from its own size:
 * a rollback). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_dir_kt_world.h"
#include "imcore/dircache.h"

#define H FUZZ_DIR_HANDLES
#define FORKS 3
#define WITNESSES 3
#define STEP_BYTES 3
#define MAX_STEPS 64
#define MAX_VERSIONS (MAX_STEPS + 2)
#define RING 8
#define RECORD_MAX 65536
#define STEP_MS UINT64_C(1000)
#define RESP_MAX                                                                                   \
    (IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES > IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(H)                 \
         ? IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES                                                     \
         : IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(H))

enum { MSG_HEAD = 1, MSG_LOOKUP = 2, MSG_AUDIT = 3 };

/* An answer the directory sent, kept for replays. */
typedef struct recorded {
    int kind;
    unsigned handle;   /* audits */
    uint8_t cosigned;  /* witnesses on its checkpoint when it was sent */
    size_t len;
    uint8_t bytes[RECORD_MAX];
} recorded;

/* What the harness requires of one client step. */
typedef struct verdict {
    bool must_ok, must_refuse, must_evidence;
    const char *why; /* the rule behind must_refuse / must_evidence */
} verdict;

/* The client's state as the harness compares it around a step. */
typedef struct snapshot {
    uint8_t digest[IMC_SHA256_BYTES];
    bool have;
    uint64_t size, epoch;
    uint8_t root[IMC_KT_HASH_BYTES];
    imc_status since_st[H];
    uint64_t since[H];
} snapshot;

static const imc_backend *backend;
static uint8_t dir_pk[32], dir_sk[32];
static imc_kt_key log_key, wit_key[WITNESSES];
static uint8_t wit_sk[WITNESSES][32];
static imc_kt_client_config cfg;

static imc_dir_store store[FORKS];
static imc_dir dir[FORKS];
static uint8_t cosigned[FORKS]; /* witnesses on each fork's current checkpoint */
static imc_kt_witness wit[WITNESSES];
static bool wit_have[WITNESSES];
static imc_kt_checkpoint wit_last[WITNESSES];
static imc_dircache *cache;
static char state_path[512];
static uint64_t now;

/* The model of the client. */
static snapshot held; /* after the last step */
static uint64_t hver[H];
static bool cached[H];
static bool fp_have[H][MAX_VERSIONS];
static uint8_t fp[H][MAX_VERSIONS][IMC_SHA256_BYTES];
static bool seen[H][MAX_VERSIONS];
static uint64_t audit_from[H]; /* where its audit starts; 0: never saw the handle */
static uint8_t evidence[IMC_DIRCACHE_EVIDENCE_MAX_BYTES];
static size_t evidence_len;

static recorded ring[RING];
static size_t ring_next, ring_count;
static uint8_t resp[RESP_MAX], resp2[RESP_MAX], req[IMC_DIR_KT_REQUEST_MAX_BYTES];

static void keypair(uint64_t stream, uint8_t pk[32], uint8_t sk[32])
{
    imc_rng rng;
    fuzz_rng(&rng, stream);
    imc_status st = imc_crypto_ed25519_keygen(backend, &rng, pk, sk);
    FUZZ_CHECK(st == IMC_OK, "witness keygen: %s", imc_status_str(st));
}

static void setup(void)
{
    backend = fuzz_backend_for(1);
    FUZZ_CHECK(backend != NULL, "no backend for suite 1");
    fuzz_dir_key(dir_pk, dir_sk);
    static const char *const names[WITNESSES] = {"w1.example", "w2.example", "w3.example"};
    for (unsigned i = 0; i < WITNESSES; i++) {
        uint8_t pk[32];
        keypair(UINT64_C(0x6b746d00) + i, pk, wit_sk[i]);
        imc_status st = imc_kt_key_init(&wit_key[i], backend, names[i], IMC_KT_SIG_COSIGNATURE, pk);
        FUZZ_CHECK(st == IMC_OK, "witness key: %s", imc_status_str(st));
    }
}

/* ---- The forks ------------------------------------------------------------ */

static uint64_t fork_size(unsigned f)
{
    uint64_t e = 0;
    FUZZ_CHECK(imc_dir_global_epoch(&e, &dir[f]) == IMC_OK, "fork epoch");
    return e;
}

/* The root of fork f's log at size n (false: the fork is smaller). */
static bool fork_root(uint8_t root[IMC_KT_HASH_BYTES], unsigned f, uint64_t n)
{
    if (n > fork_size(f))
        return false;
    void *txn = NULL;
    FUZZ_CHECK(store[f].ops->begin(store[f].self, false, &txn) == IMC_OK, "begin");
    imc_dir_kt_ctx ctx;
    imc_kt_store ks = imc_dir_kt_store(&ctx, &dir[f], txn);
    imc_status st = imc_kt_log_root(root, backend, &ks, n);
    store[f].ops->abort(txn);
    FUZZ_CHECK(st == IMC_OK, "fork root: %s", imc_status_str(st));
    return true;
}

/* Whether some fork's log has root a at size an and root b at size bn:
 * the two checkpoints are one view. */
static bool one_view(uint64_t an, const uint8_t *a, uint64_t bn, const uint8_t *b)
{
    for (unsigned f = 0; f < FORKS; f++) {
        uint8_t ra[IMC_KT_HASH_BYTES], rb[IMC_KT_HASH_BYTES];
        if (fork_root(ra, f, an) && fork_root(rb, f, bn) && memcmp(ra, a, sizeof ra) == 0 &&
            memcmp(rb, b, sizeof rb) == 0)
            return true;
    }
    return false;
}

/* Whether fork f's log starts with the client's checkpoint. */
static bool extends_held(unsigned f)
{
    uint8_t r[IMC_KT_HASH_BYTES];
    return !held.have || (fork_root(r, f, held.size) && memcmp(r, held.root, sizeof r) == 0);
}

static bool enough(uint8_t cos) { return (size_t)__builtin_popcount(cos) >= cfg.threshold; }

static bool has_threshold(unsigned f) { return enough(cosigned[f]); }

static unsigned account_gen(unsigned h, const uint8_t pk[32])
{
    for (unsigned g = 0; g < FUZZ_DIR_GENS; g++) {
        uint8_t p[32], s[32];
        fuzz_dir_account(h, g, p, s);
        if (memcmp(p, pk, 32) == 0)
            return g;
    }
    return 0;
}

/* One signed update to fork f; a refusal (a device already there, none to
 * revoke) leaves the fork as it is. */
static void update_fork(unsigned f, unsigned h, unsigned action, unsigned slot, unsigned shift)
{
    static imc_dir_record cur;
    static uint8_t upd[IMC_DIR_UPDATE_MAX_BYTES], out[IMC_DIR_RESPONSE_MAX_BYTES(1)];
    size_t hl = 0, n = 0, on = 0;
    const uint8_t *hb = fuzz_dir_handle(h, &hl);
    FUZZ_CHECK(imc_dir_get(&cur, &dir[f], hb, hl) == IMC_OK, "fork get");
    unsigned g = cur.epoch != 0 ? account_gen(h, cur.account_pk) : 0;
    uint8_t apk[32], ask[32];
    imc_status st;
    if (action == 3 && cur.epoch != 0) {
        fuzz_dir_account(h, (g + 1 + shift) % FUZZ_DIR_GENS, apk, ask);
        st = imc_dir_sign_account_reset(upd, sizeof upd, &n, backend, dir_pk, &cur, ask,
                                        fuzz_dir_device(h, slot, 0));
    } else if (action == 1) {
        fuzz_dir_account(h, g, apk, ask);
        st = imc_dir_sign_revoke(upd, sizeof upd, &n, backend, dir_pk, &cur, ask,
                                 fuzz_dir_device(h, slot, 0)->pub.device_id);
    } else {
        fuzz_dir_account(h, g, apk, ask);
        st = imc_dir_sign_register(upd, sizeof upd, &n, backend, dir_pk, &cur, ask,
                                   fuzz_dir_device(h, slot, 0));
    }
    if (st != IMC_OK)
        return; /* the device side refuses (no such device to revoke) */
    uint64_t before = fork_size(f);
    st = imc_dir_update(out, sizeof out, &on, &dir[f], now, upd, n);
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_EXISTS || st == IMC_ERR_NOT_FOUND ||
                   st == IMC_ERR_LIMIT,
               "fork %u update: %s", f, imc_status_str(st));
    FUZZ_CHECK(fork_size(f) == before + (st == IMC_OK), "fork %u size after an update", f);
    if (st == IMC_OK) {
        cosigned[f] = 0; /* a new checkpoint */
        fuzz_count("kt_malicious.update");
    }
}

/* The known size a request states. */
static uint64_t known_size(unsigned mode, unsigned f)
{
    uint64_t k = held.have ? held.size : 0;
    if (mode == 2)
        k = k > 0 ? k - 1 : 0;
    else if (mode == 3)
        k = 0;
    uint64_t fs = fork_size(f);
    return k > fs ? fs : k;
}

static size_t serve(uint8_t *out, unsigned f, size_t req_len)
{
    size_t n = 0;
    imc_status st = imc_dir_serve(out, RESP_MAX, &n, &dir[f], now, req, req_len);
    FUZZ_CHECK(st == IMC_OK, "fork %u serve: %s", f, imc_status_str(st));
    return n;
}

static void record(int kind, unsigned handle, uint8_t cos, const uint8_t *p, size_t n)
{
    if (n > RECORD_MAX)
        return;
    recorded *r = &ring[ring_next];
    r->kind = kind;
    r->handle = handle;
    r->cosigned = cos;
    r->len = n;
    memcpy(r->bytes, p, n);
    ring_next = (ring_next + 1) % RING;
    ring_count += ring_count < RING;
}

/* The checkpoint at the head of an answer (false: it does not parse, as a
 * tampered audit answer may not). */
static bool answer_checkpoint(imc_kt_checkpoint *cp, int kind, const uint8_t *p, size_t n)
{
    static imc_dir_kt_lookup_response lr;
    static imc_dir_kt_audit_response ar;
    static imc_dir_kt_head hd;
    imc_status st;
    const imc_dir_kt_head *h;
    if (kind == MSG_LOOKUP) {
        st = imc_dir_kt_parse_lookup(&lr, p, n);
        h = &lr.head;
    } else if (kind == MSG_AUDIT) {
        st = imc_dir_kt_parse_audit(&ar, p, n);
        h = &ar.head;
    } else {
        st = imc_dir_kt_parse_head(&hd, p, n);
        h = &hd;
    }
    if (st != IMC_OK)
        return false;
    *cp = h->cp;
    return true;
}

/* ---- The client -------------------------------------------------------------- */

static void open_cache(void)
{
    imc_dircache_options opt;
    memset(&opt, 0, sizeof opt);
    opt.path = state_path;
    opt.no_sync = true;
    opt.kt = &cfg;
    imc_status st = imc_dircache_new(&cache, backend, dir_pk, &opt);
    FUZZ_CHECK(st == IMC_OK, "dircache_new: %s", imc_status_str(st));
}

static void remove_state(void) { fuzz_state_remove(state_path); }

static void take(snapshot *s)
{
    memset(s, 0, sizeof *s);
    FUZZ_CHECK(imc_dircache_digest(s->digest, cache) == IMC_OK, "digest");
    imc_kt_checkpoint cp;
    imc_status st = imc_dircache_kt_checkpoint(&cp, cache);
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_NOT_FOUND, "kt checkpoint: %s", imc_status_str(st));
    s->have = st == IMC_OK;
    if (s->have) {
        s->size = cp.size;
        s->epoch = cp.epoch;
        memcpy(s->root, cp.root, sizeof s->root);
    }
    for (unsigned h = 0; h < H; h++) {
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(h, &hl);
        s->since_st[h] = imc_dircache_audit_since(&s->since[h], cache, hb, hl);
        FUZZ_CHECK(s->since_st[h] == IMC_OK || s->since_st[h] == IMC_ERR_NOT_FOUND,
                   "audit_since: %s", imc_status_str(s->since_st[h]));
    }
}

static bool same_snapshot(const snapshot *a, const snapshot *b)
{
    if (memcmp(a->digest, b->digest, sizeof a->digest) != 0 || a->have != b->have ||
        a->size != b->size || a->epoch != b->epoch || memcmp(a->root, b->root, sizeof a->root) != 0)
        return false;
    for (unsigned h = 0; h < H; h++)
        if (a->since_st[h] != b->since_st[h] || a->since[h] != b->since[h])
            return false;
    return true;
}

/* SHA-256 over what the account signed in a record. */
static void fingerprint(uint8_t out[IMC_SHA256_BYTES], const imc_dir_record *r)
{
    static uint8_t buf[8 + 1 + 32 + 32 + 8 +
                       IMC_MAX_DEVICES_PER_HANDLE * (4 + 8 + IMC_DH_PUBLIC_MAX + IMC_SIG_PUBLIC_MAX)];
    imc_writer w;
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_u64(&w, r->epoch);
    imc_wire_write_u8(&w, r->key_change);
    imc_wire_write_bytes(&w, r->account_pk, sizeof r->account_pk);
    imc_wire_write_bytes(&w, r->prev_hash, sizeof r->prev_hash);
    imc_wire_write_u64(&w, r->device_count);
    for (size_t i = 0; i < r->device_count; i++) {
        const imc_device_public *d = &r->devices[i];
        imc_wire_write_u32(&w, d->suite);
        imc_wire_write_u64(&w, d->device_id);
        imc_wire_write_bytes(&w, d->dh_pk, sizeof d->dh_pk);
        imc_wire_write_bytes(&w, d->sig_pk, sizeof d->sig_pk);
    }
    size_t n = 0;
    FUZZ_CHECK(imc_wire_writer_finish(&w, &n) == IMC_OK, "fingerprint");
    FUZZ_CHECK(imc_crypto_sha256(backend, out, buf, n) == IMC_OK, "sha256");
}

/* The evidence rules, on what the client keeps. */
static void check_evidence(bool flagged)
{
    static uint8_t ev[IMC_DIRCACHE_EVIDENCE_MAX_BYTES];
    size_t n = 0;
    imc_status st = imc_dircache_evidence(ev, sizeof ev, &n, cache);
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_NOT_FOUND, "evidence: %s", imc_status_str(st));
    if (st == IMC_ERR_NOT_FOUND) {
        FUZZ_CHECK(evidence_len == 0, "the client lost its evidence");
        FUZZ_CHECK(!flagged, "evidence reported but none kept");
        return;
    }
    if (evidence_len != 0) {
        FUZZ_CHECK(n == evidence_len && memcmp(ev, evidence, n) == 0,
                   "the evidence kept changed");
        return;
    }
    FUZZ_CHECK(flagged, "evidence appeared in a step that did not report it");
    imc_kt_evidence e;
    st = imc_kt_evidence_verify(&e, backend, ev, n);
    if (st != IMC_OK)
        fuzz_hexdump("evidence", ev, n);
    FUZZ_CHECK(st == IMC_OK, "the client's evidence does not verify: %s", imc_status_str(st));
    FUZZ_CHECK(e.log.name_len == log_key.name_len &&
                   memcmp(e.log.name, log_key.name, log_key.name_len) == 0 &&
                   memcmp(e.log.pk, log_key.pk, sizeof e.log.pk) == 0,
               "the evidence names another key than the directory's");
    if (e.kind == IMC_KT_EVIDENCE_SAME_SIZE || e.kind == IMC_KT_EVIDENCE_PREFIX) {
        FUZZ_CHECK(one_view(e.a.size, e.a.root, e.a.size, e.a.root) &&
                       one_view(e.b.size, e.b.root, e.b.size, e.b.root),
                   "evidence against a checkpoint no fork has");
        FUZZ_CHECK(!one_view(e.a.size, e.a.root, e.b.size, e.b.root),
                   "evidence against two checkpoints of one log (sizes %llu, %llu)",
                   (unsigned long long)e.a.size, (unsigned long long)e.b.size);
    } else {
        FUZZ_CHECK(e.kind == IMC_KT_EVIDENCE_LIST, "evidence kind %d", (int)e.kind);
        FUZZ_CHECK(e.version >= 1, "list evidence at version 0");
    }
    fuzz_count(e.kind == IMC_KT_EVIDENCE_SAME_SIZE ? "kt_malicious.evidence-same-size"
               : e.kind == IMC_KT_EVIDENCE_PREFIX  ? "kt_malicious.evidence-prefix"
                                                   : "kt_malicious.evidence-list");
    memcpy(evidence, ev, n);
    evidence_len = n;
}

/* The view rules, after every step: checkpoints only move forward inside
 * one log, handle versions only grow, one list per handle version. */
static void check_views(const snapshot *now_s)
{
    if (held.have) {
        FUZZ_CHECK(now_s->have, "the client forgot its checkpoint");
        FUZZ_CHECK(now_s->size >= held.size && now_s->epoch >= held.epoch,
                   "checkpoint went back: size %llu -> %llu, epoch %llu -> %llu",
                   (unsigned long long)held.size, (unsigned long long)now_s->size,
                   (unsigned long long)held.epoch, (unsigned long long)now_s->epoch);
        FUZZ_CHECK(one_view(held.size, held.root, now_s->size, now_s->root),
                   "the client moved from size %llu to an inconsistent checkpoint of size %llu",
                   (unsigned long long)held.size, (unsigned long long)now_s->size);
    } else if (now_s->have) {
        FUZZ_CHECK(one_view(now_s->size, now_s->root, now_s->size, now_s->root),
                   "the client holds a checkpoint no fork has");
    }
    for (unsigned h = 0; h < H; h++) {
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(h, &hl);
        const imc_dir_record *rec = NULL;
        imc_status st = imc_dircache_get(&rec, cache, now, hb, hl);
        FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_NOT_FOUND, "get: %s", imc_status_str(st));
        if (st == IMC_ERR_NOT_FOUND) {
            FUZZ_CHECK(!cached[h], "handle %u is gone from a persistent cache", h);
            continue;
        }
        FUZZ_CHECK(!cached[h] || rec->epoch >= hver[h], "handle %u went back: version %llu -> %llu",
                   h, (unsigned long long)hver[h], (unsigned long long)rec->epoch);
        FUZZ_CHECK(rec->epoch < MAX_VERSIONS, "handle %u version %llu", h,
                   (unsigned long long)rec->epoch);
        uint8_t f[IMC_SHA256_BYTES];
        fingerprint(f, rec);
        if (fp_have[h][rec->epoch])
            FUZZ_CHECK(memcmp(fp[h][rec->epoch], f, sizeof f) == 0,
                       "two different lists of handle %u held at version %llu", h,
                       (unsigned long long)rec->epoch);
        memcpy(fp[h][rec->epoch], f, sizeof f);
        fp_have[h][rec->epoch] = true;
        cached[h] = true;
        hver[h] = rec->epoch;
    }
}

/* After a client step: the verdict, evidence, views, unchanged state on a
 * refusal. */
static void judge(const char *what, imc_status st, bool ev, const verdict *v,
                  const snapshot *before)
{
    snapshot after;
    take(&after);
    if (getenv("IMC_FUZZ_DEBUG") != NULL)
        fprintf(stderr, "%s: %s%s (must ok %d, refuse %d, evidence %d; held %llu -> %llu)\n",
                what, imc_status_str(st), ev ? " +evidence" : "", (int)v->must_ok,
                (int)v->must_refuse, (int)v->must_evidence, (unsigned long long)before->size,
                (unsigned long long)after.size);
    FUZZ_CHECK(!(v->must_ok && v->must_refuse), "harness: contradictory verdict");
    if (v->must_ok)
        FUZZ_CHECK(st == IMC_OK && !ev,
                   "%s: a genuine answer of a fork that extends the client's view refused: %s%s",
                   what, imc_status_str(st), ev ? " (with evidence)" : "");
    if (v->must_refuse)
        FUZZ_CHECK(st != IMC_OK, "%s: accepted, but %s", what, v->why);
    if (v->must_evidence)
        FUZZ_CHECK(ev, "%s: no evidence, but %s", what, v->why);
    /* ARG: an empty audit answer for a registered handle the client cannot
     * check without a hash it does not have. */
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_AUTH || st == IMC_ERR_STALE ||
                   st == IMC_ERR_MALFORMED || st == IMC_ERR_NOT_FOUND || st == IMC_ERR_ARG,
               "%s: status %s", what, imc_status_str(st));
    FUZZ_CHECK(st != IMC_OK || !ev, "%s: evidence from an accepted step", what);
    check_evidence(ev);
    if (st != IMC_OK) {
        FUZZ_CHECK(same_snapshot(before, &after), "%s: refused (%s) but the client changed", what,
                   imc_status_str(st));
        fuzz_count(ev ? "kt_malicious.refused-evidence" : "kt_malicious.refused");
    } else {
        fuzz_count("kt_malicious.accepted");
    }
    check_views(&after);
    held = after;
}

/* The verdict on a checkpoint (n, root) offered with a proof from
 * `known` and cosigned by the witnesses `cos`, before anything else of the
 * answer. */
static verdict checkpoint_verdict(const imc_kt_checkpoint *cp, uint64_t known, bool genuine_proof,
                                  uint8_t cos)
{
    verdict v = {false, false, false, NULL};
    if ((!held.have || cp->size != held.size) && !enough(cos)) {
        v.must_refuse = true;
        v.why = "a new checkpoint without the threshold of witness cosignatures";
    }
    if (!held.have)
        return v;
    if (cp->size < held.size) {
        v.must_refuse = true;
        v.why = "the checkpoint is older than the client's";
    } else if (!one_view(held.size, held.root, cp->size, cp->root)) {
        v.must_refuse = true;
        v.why = "the checkpoint is in no log with the client's";
        uint64_t m = held.size;
        if (cp->size == m) {
            v.must_evidence = true;
            v.why = "two checkpoints of one size with different roots";
        } else if (genuine_proof && known == m && m != 0 && (m & (m - 1)) != 0) {
            v.must_evidence = true;
            v.why = "a genuine proof shows another prefix of the client's size";
        }
    }
    return v;
}

/* Whether a fresh answer of fork f at known size must be accepted. */
static bool fresh_ok(unsigned f, uint64_t known)
{
    return extends_held(f) && has_threshold(f) &&
           (!held.have || known == held.size || fork_size(f) == held.size);
}

static void do_head(unsigned f, unsigned mode)
{
    uint64_t known = known_size(mode, f);
    size_t rn = 0;
    FUZZ_CHECK(imc_dir_kt_encode_head(req, sizeof req, &rn, known) == IMC_OK, "head request");
    size_t n = serve(resp, f, rn);
    record(MSG_HEAD, 0, cosigned[f], resp, n);
    imc_kt_checkpoint cp;
    FUZZ_CHECK(answer_checkpoint(&cp, MSG_HEAD, resp, n), "an answer of the directory does not parse");
    verdict v = checkpoint_verdict(&cp, known, true, cosigned[f]);
    v.must_ok = fresh_ok(f, known);
    static imc_dir_kt_head hd;
    FUZZ_CHECK(imc_dir_kt_parse_head(&hd, resp, n) == IMC_OK, "head parse");
    snapshot before;
    take(&before);
    bool ev = false;
    imc_status st = imc_dircache_kt_update(cache, &ev, hd.note, hd.note_len, hd.proof,
                                           hd.proof_len);
    judge("checkpoint", st, ev, &v, &before);
}

/* The client's records of the handles of an accepted lookup are the
 * fork's, and they count as seen. */
static void lookup_accepted(unsigned f, unsigned mask, bool genuine)
{
    for (unsigned h = 0; h < H; h++) {
        if (!(mask >> h & 1))
            continue;
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(h, &hl);
        const imc_dir_record *rec = NULL;
        FUZZ_CHECK(imc_dircache_get(&rec, cache, now, hb, hl) == IMC_OK,
                   "handle %u of an accepted lookup is not cached", h);
        if (genuine) {
            static imc_dir_record truth;
            uint8_t a[IMC_SHA256_BYTES], b[IMC_SHA256_BYTES];
            FUZZ_CHECK(imc_dir_get(&truth, &dir[f], hb, hl) == IMC_OK, "fork get");
            fingerprint(a, rec);
            fingerprint(b, &truth);
            FUZZ_CHECK(memcmp(a, b, sizeof a) == 0,
                       "handle %u: the client holds version %llu, fork %u has %llu", h,
                       (unsigned long long)rec->epoch, f, (unsigned long long)truth.epoch);
        }
        if (rec->epoch != 0) {
            seen[h][rec->epoch] = true;
            if (audit_from[h] == 0)
                audit_from[h] = rec->epoch;
        }
    }
}

static void do_lookup(unsigned f, unsigned mask, unsigned mode, unsigned splice)
{
    if (mask == 0)
        mask = 7;
    imc_dir_handle hs[H];
    size_t count = 0;
    for (unsigned h = 0; h < H; h++)
        if (mask >> h & 1) {
            hs[count].bytes = fuzz_dir_handle(h, &hs[count].len);
            count++;
        }
    uint64_t known = known_size(mode, f);
    size_t rn = 0;
    FUZZ_CHECK(imc_dir_kt_encode_lookup(req, sizeof req, &rn, known, hs, count) == IMC_OK,
               "lookup request");
    size_t n = serve(resp, f, rn);
    imc_kt_checkpoint cp;
    FUZZ_CHECK(answer_checkpoint(&cp, MSG_LOOKUP, resp, n), "an answer of the directory does not parse");
    verdict v = checkpoint_verdict(&cp, known, true, cosigned[f]);
    bool genuine = true;
    if (splice != 0 && known <= fork_size((f + splice) % FORKS)) {
        /* Fork g's answers under fork f's checkpoint. */
        unsigned g = (f + splice) % FORKS;
        static imc_dir_kt_lookup_response a, b;
        size_t n2 = serve(resp2, g, rn);
        FUZZ_CHECK(imc_dir_kt_parse_lookup(&a, resp, n) == IMC_OK &&
                       imc_dir_kt_parse_lookup(&b, resp2, n2) == IMC_OK,
                   "lookup parse");
        size_t ha = (size_t)(a.head.proof + a.head.proof_len - resp);
        size_t hb = (size_t)(b.head.proof + b.head.proof_len - resp2);
        genuine = n - ha == n2 - hb && memcmp(resp + ha, resp2 + hb, n - ha) == 0;
        FUZZ_CHECK(ha + (n2 - hb) <= sizeof resp, "spliced lookup too long");
        memmove(resp + ha, resp2 + hb, n2 - hb);
        n = ha + (n2 - hb);
        if (!genuine && !v.must_refuse) {
            v.must_refuse = true;
            v.why = "the answers are another fork's, not the checkpoint's";
        }
        fuzz_count(genuine ? "kt_malicious.splice-same" : "kt_malicious.splice");
    }
    v.must_ok = genuine && fresh_ok(f, known);
    record(MSG_LOOKUP, 0, cosigned[f], resp, n);
    snapshot before;
    take(&before);
    bool ev = false;
    size_t nch = 0;
    static imc_dir_change ch[H * IMC_DIR_CHANGES_MAX_PER_ENTRY];
    imc_status st = imc_dircache_apply_kt(cache, ch, sizeof ch / sizeof ch[0], &nch, &ev, now,
                                          resp, n);
    judge(genuine ? "lookup" : "spliced lookup", st, ev, &v, &before);
    if (st == IMC_OK)
        lookup_accepted(f, mask, genuine);
}

/* Rewrites an audit answer with the lie `mode`; whether it is a lie (a
 * leaf of the client's range left out, moved, or the latest misstated). */
static bool tamper_audit(size_t *len, unsigned mode, uint64_t client_since)
{
    static imc_dir_kt_audit_response r;
    FUZZ_CHECK(imc_dir_kt_parse_audit(&r, resp, *len) == IMC_OK, "audit parse");
    const uint8_t *item[IMC_DIR_KT_MAX_AUDIT];
    size_t ilen[IMC_DIR_KT_MAX_AUDIT];
    imc_reader rd;
    imc_wire_reader_init(&rd, r.items, r.items_len);
    for (size_t i = 0; i < r.count; i++) {
        size_t start = rd.off;
        (void)imc_wire_read_bytes(&rd, imc_wire_read_u16(&rd));
        (void)imc_wire_read_bytes(&rd, imc_wire_read_u16(&rd));
        FUZZ_CHECK(!rd.err, "audit items");
        item[i] = r.items + start;
        ilen[i] = rd.off - start;
    }
    size_t order[IMC_DIR_KT_MAX_AUDIT + 1], k = 0;
    uint64_t since = r.since, latest = r.latest;
    bool lie = true;
    switch (mode) {
    case 1: /* a middle leaf left out, the latest one less */
        if (r.count < 3)
            return false;
        for (size_t i = 0; i < r.count; i++)
            if (i != r.count / 2)
                order[k++] = i;
        latest--;
        break;
    case 2: /* the first two swapped */
        if (r.count < 2)
            return false;
        order[k++] = 1;
        order[k++] = 0;
        for (size_t i = 2; i < r.count; i++)
            order[k++] = i;
        break;
    case 3: /* the newest version hidden */
        if (r.count < 1)
            return false;
        for (size_t i = 0; i + 1 < r.count; i++)
            order[k++] = i;
        latest--;
        break;
    case 4: /* the first leaf left out: a lie unless it was only the anchor */
        if (r.count < 1)
            return false;
        for (size_t i = 1; i < r.count; i++)
            order[k++] = i;
        since++;
        lie = r.since >= client_since;
        break;
    case 5: /* one version more than there is */
        for (size_t i = 0; i < r.count; i++)
            order[k++] = i;
        latest++;
        break;
    default:
        return false;
    }
    imc_writer w;
    imc_wire_writer_init(&w, resp2, sizeof resp2);
    dkt_put_head(&w, IMC_DIR_KIND_KT_AUDIT_RESP, &r.head);
    imc_wire_write_u8(&w, (uint8_t)r.handle.len);
    imc_wire_write_bytes(&w, r.handle.bytes, r.handle.len);
    imc_wire_write_u64(&w, since);
    imc_wire_write_u64(&w, latest);
    imc_wire_write_u16(&w, (uint16_t)k);
    for (size_t i = 0; i < k; i++)
        imc_wire_write_bytes(&w, item[order[i]], ilen[order[i]]);
    imc_wire_write_bytes(&w, r.index_value, sizeof r.index_value);
    dkt_put_framed(&w, r.index_proof, r.index_proof_len);
    FUZZ_CHECK(imc_wire_writer_finish(&w, len) == IMC_OK, "tampered audit");
    memcpy(resp, resp2, *len);
    fuzz_count(lie ? "kt_malicious.audit-tampered" : "kt_malicious.audit-anchor-dropped");
    return lie;
}

/* An accepted audit: exactly the unseen versions of the range covered are
 * findings, and the audit point moves past them unless some were not
 * acknowledged. */
static void audit_accepted(unsigned h, uint64_t since0, size_t findings, bool ack,
                           const uint8_t *p, size_t n)
{
    static imc_dir_kt_audit_response r;
    FUZZ_CHECK(imc_dir_kt_parse_audit(&r, p, n) == IMC_OK, "audit parse");
    uint64_t last = r.since + r.count - 1; /* r.count 0: below since0 */
    size_t want = 0;
    for (uint64_t v = since0; r.count != 0 && v <= last; v++)
        want += v < MAX_VERSIONS && !seen[h][v];
    FUZZ_CHECK(findings == want,
               "audit of handle %u versions %llu..%llu: %zu findings, %zu versions never seen",
               h, (unsigned long long)since0, (unsigned long long)last, findings, want);
    if (findings != 0)
        fuzz_count("kt_malicious.audit-findings");
    if (r.count != 0 && last >= since0 && (findings == 0 || ack))
        audit_from[h] = last + 1;
    FUZZ_CHECK(held.since_st[h] == IMC_OK && held.since[h] == audit_from[h],
               "audit point of handle %u: %llu, the model %llu", h,
               (unsigned long long)held.since[h], (unsigned long long)audit_from[h]);
}

static void do_audit(unsigned f, unsigned h, unsigned mode, uint8_t b)
{
    size_t hl = 0;
    const uint8_t *hb = fuzz_dir_handle(h, &hl);
    uint64_t since0 = 0;
    imc_status sst = imc_dircache_audit_since(&since0, cache, hb, hl);
    FUZZ_CHECK(sst == IMC_OK || sst == IMC_ERR_NOT_FOUND, "audit_since: %s",
               imc_status_str(sst));
    FUZZ_CHECK((sst == IMC_OK ? since0 : 0) == audit_from[h],
               "audit point of handle %u: %llu, the model %llu", h, (unsigned long long)since0,
               (unsigned long long)audit_from[h]);
    bool anchored = (b & 8) && since0 > 1;
    uint64_t since = sst != IMC_OK ? 1 : anchored ? since0 - 1 : since0;
    uint64_t known = known_size(mode, f);
    size_t rn = 0;
    FUZZ_CHECK(imc_dir_kt_encode_audit(req, sizeof req, &rn, known, hb, hl, since) == IMC_OK,
               "audit request");
    size_t n = serve(resp, f, rn);
    imc_kt_checkpoint cp;
    FUZZ_CHECK(answer_checkpoint(&cp, MSG_AUDIT, resp, n), "an answer of the directory does not parse");
    verdict v = checkpoint_verdict(&cp, known, true, cosigned[f]);
    bool lie = tamper_audit(&n, b & 7, since0);
    static imc_dir_kt_audit_response parsed;
    if (lie && imc_dir_kt_parse_audit(&parsed, resp, n) != IMC_OK)
        v.must_evidence = false; /* refused as malformed before its checkpoint is read */
    if (lie && !v.must_refuse) {
        v.must_refuse = true;
        v.why = "the audit answer leaves out, moves or misstates a version";
    }
    v.must_ok = !lie && sst == IMC_OK && fresh_ok(f, known);
    record(MSG_AUDIT, h, cosigned[f], resp, n);
    bool ack = (b & 16) != 0;
    snapshot before;
    take(&before);
    bool ev = false, complete = false;
    size_t findings = 0;
    static imc_dir_audit_finding out[MAX_VERSIONS];
    imc_status st = imc_dircache_audit(cache, out, MAX_VERSIONS, &findings, &complete, &ev, ack,
                                       hb, hl, resp, n);
    judge(lie ? "tampered audit" : "audit", st, ev, &v, &before);
    if (st == IMC_OK)
        audit_accepted(h, since0, findings, ack, resp, n);
}

static void do_replay(unsigned pick)
{
    if (ring_count == 0)
        return;
    const recorded *r = &ring[(ring_next + RING - 1 - pick % ring_count) % RING];
    imc_kt_checkpoint cp;
    verdict v = {false, true, false, "a tampered answer that does not parse"};
    /* The proof in it is from whatever the client held then. */
    if (answer_checkpoint(&cp, r->kind, r->bytes, r->len))
        v = checkpoint_verdict(&cp, UINT64_MAX, false, r->cosigned);
    snapshot before;
    take(&before);
    bool ev = false;
    imc_status st;
    uint64_t since0 = 0;
    size_t findings = 0;
    if (r->kind == MSG_HEAD) {
        static imc_dir_kt_head hd;
        FUZZ_CHECK(imc_dir_kt_parse_head(&hd, r->bytes, r->len) == IMC_OK, "head parse");
        st = imc_dircache_kt_update(cache, &ev, hd.note, hd.note_len, hd.proof, hd.proof_len);
    } else if (r->kind == MSG_LOOKUP) {
        size_t nch = 0;
        static imc_dir_change ch[H * IMC_DIR_CHANGES_MAX_PER_ENTRY];
        st = imc_dircache_apply_kt(cache, ch, sizeof ch / sizeof ch[0], &nch, &ev, now, r->bytes,
                                   r->len);
    } else {
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(r->handle, &hl);
        bool complete = false;
        static imc_dir_audit_finding out[MAX_VERSIONS];
        if (imc_dircache_audit_since(&since0, cache, hb, hl) != IMC_OK)
            since0 = 0;
        st = imc_dircache_audit(cache, out, MAX_VERSIONS, &findings, &complete, &ev, false, hb,
                                hl, r->bytes, r->len);
    }
    fuzz_count("kt_malicious.replay");
    judge("replay", st, ev, &v, &before);
    if (st == IMC_OK && r->kind == MSG_AUDIT)
        audit_accepted(r->handle, since0, findings, false, r->bytes, r->len);
    if (st == IMC_OK && r->kind == MSG_LOOKUP) {
        static imc_dir_kt_lookup_response lr;
        FUZZ_CHECK(imc_dir_kt_parse_lookup(&lr, r->bytes, r->len) == IMC_OK, "lookup parse");
        size_t off = 0;
        unsigned mask = 0;
        static imc_dir_kt_answer a;
        for (size_t i = 0; i < lr.count; i++) {
            FUZZ_CHECK(imc_dir_kt_lookup_next(&a, &off, &lr) == IMC_OK, "lookup next");
            for (unsigned h = 0; h < H; h++) {
                size_t hl = 0;
                const uint8_t *hb = fuzz_dir_handle(h, &hl);
                if (a.entry.rec.handle_len == hl && memcmp(a.entry.rec.handle, hb, hl) == 0)
                    mask |= 1u << h;
            }
        }
        lookup_accepted(0, mask, false);
    }
}

/* Witness w cosigns fork f's current checkpoint: honestly through its own
 * state, or colluding (a bare cosignature). */
static void do_witness(unsigned f, unsigned w, bool colluding)
{
    static uint8_t note[IMC_KT_MAX_NOTE_BYTES], proof[IMC_KT_LOG_PROOF_MAX_BYTES];
    size_t nl = 0, pl = 0, ll = 0;
    FUZZ_CHECK(imc_dir_kt_checkpoint(note, sizeof note, &nl, &dir[f]) == IMC_OK, "checkpoint");
    static imc_kt_note parsed;
    FUZZ_CHECK(imc_kt_note_parse(&parsed, note, nl) == IMC_OK, "note parse");
    char line[IMC_KT_COSIG_LINE_MAX];
    imc_status st;
    uint64_t now_s = now / 1000;
    if (colluding) {
        st = imc_kt_cosign(line, sizeof line, &ll, backend, &wit_key[w], wit_sk[w], parsed.text,
                           parsed.text_len, now_s);
        FUZZ_CHECK(st == IMC_OK, "cosign: %s", imc_status_str(st));
        fuzz_count("kt_malicious.cosign-colluding");
    } else {
        uint64_t fs = fork_size(f);
        if (wit_have[w]) {
            if (wit_last[w].size > fs)
                return; /* nothing to prove from a larger size */
            void *txn = NULL;
            FUZZ_CHECK(store[f].ops->begin(store[f].self, false, &txn) == IMC_OK, "begin");
            imc_dir_kt_ctx ctx;
            imc_kt_store ks = imc_dir_kt_store(&ctx, &dir[f], txn);
            imc_kt_log_proof p;
            st = imc_kt_log_prove_consistency(&p, backend, &ks, wit_last[w].size, fs);
            store[f].ops->abort(txn);
            if (st == IMC_OK)
                st = imc_kt_log_proof_encode(proof, sizeof proof, &pl, &p);
            FUZZ_CHECK(st == IMC_OK, "witness proof: %s", imc_status_str(st));
        }
        st = imc_kt_witness_cosign(line, sizeof line, &ll, &wit[w], note, nl,
                                   wit_have[w] ? proof : NULL, pl, now_s);
        FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_AUTH || st == IMC_ERR_STALE,
                   "witness cosign: %s", imc_status_str(st));
        if (st != IMC_OK) {
            fuzz_count("kt_malicious.witness-refused");
            return;
        }
        imc_kt_checkpoint last;
        FUZZ_CHECK(imc_kt_witness_last(&last, &wit[w]) == IMC_OK, "witness last");
        FUZZ_CHECK(!wit_have[w] ||
                       one_view(wit_last[w].size, wit_last[w].root, last.size, last.root),
                   "witness %u cosigned size %llu, inconsistent with its size %llu", w,
                   (unsigned long long)last.size, (unsigned long long)wit_last[w].size);
        wit_last[w] = last;
        wit_have[w] = true;
        fuzz_count("kt_malicious.cosign");
    }
    st = imc_dir_kt_add_cosignature(&dir[f], &wit_key[w], parsed.text, parsed.text_len,
                                    (const uint8_t *)line, ll);
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_EXISTS, "add cosignature: %s",
               imc_status_str(st));
    cosigned[f] |= (uint8_t)(1u << w);
}

static void do_restart(void)
{
    snapshot before, after;
    take(&before);
    imc_dircache_free(cache);
    open_cache();
    take(&after);
    FUZZ_CHECK(same_snapshot(&before, &after), "the restarted client differs from the one closed");
    check_evidence(false);
    fuzz_count("kt_malicious.restart");
}

static void start(uint8_t cfg_byte)
{
    memset(&cfg, 0, sizeof cfg);
    for (unsigned f = 0; f < FORKS; f++) {
        imc_status st = imc_dir_store_mem_open(&store[f], backend, 0);
        if (st == IMC_OK)
            st = imc_dir_init(&dir[f], backend, store[f], dir_sk, NULL);
        FUZZ_CHECK(st == IMC_OK, "fork %u: %s", f, imc_status_str(st));
        cosigned[f] = 0;
    }
    char vkey[IMC_KT_VKEY_MAX];
    FUZZ_CHECK(imc_dir_kt_vkey(vkey, &dir[0]) == IMC_OK &&
                   imc_kt_vkey_parse(&log_key, backend, vkey, strlen(vkey)) == IMC_OK,
               "log key");
    cfg.log = log_key;
    cfg.witness_count = WITNESSES;
    memcpy(cfg.witnesses, wit_key, sizeof wit_key);
    cfg.threshold = cfg_byte % 3;
    for (unsigned w = 0; w < WITNESSES; w++) {
        FUZZ_CHECK(imc_kt_witness_init(&wit[w], backend, &wit_key[w], wit_sk[w], &log_key) ==
                       IMC_OK,
                   "witness init");
        wit_have[w] = false;
    }
    if (state_path[0] == '\0') {
        fuzz_state_path(state_path, sizeof state_path, "kt-malicious");
    }
    remove_state();
    open_cache();
    memset(&held, 0, sizeof held);
    memset(hver, 0, sizeof hver);
    memset(cached, 0, sizeof cached);
    memset(fp_have, 0, sizeof fp_have);
    memset(seen, 0, sizeof seen);
    memset(audit_from, 0, sizeof audit_from);
    evidence_len = 0;
    ring_next = ring_count = 0;
    now = FUZZ_TS_BASE;
    take(&held);
}

static void finish(void)
{
    imc_dircache_free(cache);
    cache = NULL;
    remove_state();
    for (unsigned f = 0; f < FORKS; f++) {
        imc_dir_wipe(&dir[f]);
        imc_dir_store_close(&store[f]);
    }
    for (unsigned w = 0; w < WITNESSES; w++)
        imc_kt_witness_wipe(&wit[w]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (backend == NULL)
        setup();
    if (size < 1)
        return 0;
    start(data[0]);
    for (size_t off = 1; off + STEP_BYTES <= size && off < 1 + STEP_BYTES * MAX_STEPS;
         off += STEP_BYTES) {
        uint8_t k = data[off], a = data[off + 1], b = data[off + 2];
        unsigned f = (unsigned)(a & 3) % FORKS, mode = (unsigned)(a >> 5 & 3);
        now += STEP_MS;
        switch (k % 8) {
        case 0:
            for (unsigned g = 0; g < FORKS; g++)
                if ((a & 7) == 0 || (a >> g & 1))
                    update_fork(g, (unsigned)(a >> 3 & 3) % H, (unsigned)(a >> 5 & 3),
                                (unsigned)b % FUZZ_DIR_SLOTS, (unsigned)(b >> 3 & 1));
            break;
        case 1:
        case 7: do_lookup(f, (unsigned)(a >> 2 & 7), mode, (unsigned)(b & 3) % FORKS); break;
        case 2: do_audit(f, (unsigned)(a >> 2 & 3) % H, mode, b); break;
        case 3: do_head(f, mode); break;
        case 4: do_replay(a); break;
        case 5: do_witness(f, (unsigned)(a >> 2 & 3) % WITNESSES, (b & 1) != 0); break;
        default: do_restart(); break;
        }
    }
    finish();
    return 0;
}
