/* Target dir_ops: the key directory as a state machine.
 *
 * The input is a sequence of 3-byte operations [op, a, b] on a small
 * universe (fuzz_common.h): FUZZ_DIR_HANDLES handles, FUZZ_DIR_SLOTS device
 * slots per handle, FUZZ_DIR_GENS key generations per slot. A model here
 * tracks what the directory and one client cache must hold, and predicts
 * every status:
 *
 *   0 register   handle a%3, device (a>>2 picks own or a foreign slot, b
 *                its slot); b&0x80 signs for a wrong epoch
 *   1 rotate     device to its next key generation; b&0x40 signs with a
 *                key it does not hold
 *   2 revoke     target from a; b&0x40 signs the list with another
 *                account's key
 * (Each update is built from the handle's current record, as a device
 * that looked it up would; the builders themselves refuse to add a device
 * the record lists or to rotate or revoke one it does not.)
 *   3 lookup     one handle; a&0x80 applies the answer to the cache
 *   4 batch      handles by mask; applied to the cache if b&1
 *   5 re-apply   a response kept from earlier (stale ones are refused)
 *   6 tamper     a kept response with one byte flipped: refused, no change
 *   7 time       now += (a+1) * 7 minutes (the cache TTL is one hour);
 *                b != 0 arms an LMDB fault for the next update or lookup
 *                on the LMDB twin (below)
 *   8 sender     the cache's recipients for a handle, and compare() of a
 *                sender's device list (b: drop one, add a foreign one, use
 *                old keys for one) against it: exact mismatches expected
 *
 * After every operation: imc_dir_check passes; the global and every handle
 * epoch only grow and equal the model's; device counts stay within the
 * limit (3 per handle here); lookups list exactly the model's active
 * devices with their current keys, signed by the directory; the cache
 * reports exactly the added/removed/changed devices, matches the store for
 * fresh entries, never lets an epoch go back, and never returns a revoked
 * device once it has seen the revocation.
 *
 * Every update and lookup also runs on a second directory over the LMDB
 * store (a fresh file under $TMPDIR, no fsync): same status, byte-identical
 * signed answers, equal imc_dir_digest after every operation. An armed
 * LMDB fault (fuzz_fault.c: call b % 32 + 1 into LMDB fails with
 * EIO, ENOMEM, MDB_MAP_FULL or MDB_CORRUPTED, b / 32 % 4) hits the twin,
 * which then runs first: if the call failed and the twin returned an
 * error, that is IMC_ERR_IO, NOMEM or MALFORMED, the twin is unchanged
 * (digest) and the memory directory skips the operation too. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <lmdb.h>

#include "fuzz_common.h"
#include "imcore/dir.h"
#include "imcore/dircache.h"

#define H FUZZ_DIR_HANDLES
#define S FUZZ_DIR_SLOTS
#define MAX_DEV 3
#define TTL_MS UINT64_C(3600000)
#define MAX_OPS 48
#define KEPT 4
#define RESP_CAP IMC_DIR_RESPONSE_MAX_BYTES(H)

enum { UNUSED = 0, ACTIVE = 1, REVOKED = 2 };

typedef struct model {
    uint64_t global;
    uint64_t epoch[H];
    int state[H][S];          /* of device (h, s) */
    unsigned owner[H][S];     /* the handle it is registered under */
    unsigned gen[H][S];       /* its current key generation */
    uint64_t revoked_at[H][S]; /* owner's epoch after the revocation */
    /* The client cache. */
    bool cached[H];
    uint64_t c_epoch[H];
    uint64_t c_issued[H];
    size_t c_count[H];
    imc_device_public c_dev[H][IMC_MAX_DEVICES_PER_HANDLE];
    uint64_t c_global, c_anchor; /* the cache's anchor: global epoch, issue time */
} model;

static const imc_backend *backend;
static uint8_t dir_pk[32], dir_sk[32];
static model m;
static imc_dir dir;
static imc_dir_store store;
static imc_dircache *cache;
static imc_dir dir2; /* the LMDB twin */
static imc_dir_store store2;
static char lmdb_path[512];
static uint8_t buf2[RESP_CAP];
static uint64_t now;
static uint8_t kept[KEPT][RESP_CAP];
static size_t kept_len[KEPT];
static unsigned kept_next;
static uint8_t buf[RESP_CAP];
static uint8_t upd[IMC_DIR_UPDATE_MAX_BYTES];

static uint64_t dev_id(unsigned h, unsigned s) { return ((uint64_t)(h + 1) << 8) | (s + 1); }

static const imc_device_keys *dev_keys(unsigned h, unsigned s)
{
    return fuzz_dir_device(h, s, m.gen[h][s]);
}

static size_t active_count(unsigned h)
{
    size_t n = 0;
    for (unsigned i = 0; i < H; i++)
        for (unsigned s = 0; s < S; s++)
            n += m.state[i][s] == ACTIVE && m.owner[i][s] == h;
    return n;
}

/* The model's record of handle h: active devices by id. Ids of (i, s)
 * increase with i then s, so this loop order is sorted. */
static size_t model_devices(unsigned h, imc_device_public *out)
{
    size_t n = 0;
    for (unsigned i = 0; i < H; i++)
        for (unsigned s = 0; s < S; s++)
            if (m.state[i][s] == ACTIVE && m.owner[i][s] == h)
                out[n++] = dev_keys(i, s)->pub;
    return n;
}

static int same_device(const imc_device_public *a, const imc_device_public *b)
{
    return a->suite == b->suite && a->device_id == b->device_id &&
           memcmp(a->dh_pk, b->dh_pk, IMC_X25519_PUBLIC_BYTES) == 0 &&
           memcmp(a->sig_pk, b->sig_pk, IMC_ED25519_PUBLIC_BYTES) == 0;
}

static unsigned handle_index(const uint8_t *p, size_t len)
{
    for (unsigned h = 0; h < H; h++) {
        size_t hl = 0;
        const uint8_t *hp = fuzz_dir_handle(h, &hl);
        if (hl == len && memcmp(hp, p, len) == 0)
            return h;
    }
    FUZZ_CHECK(0, "a handle outside the universe appeared");
}

/* Checks a response from the directory against the model (all entries
 * current: the response was just issued). Keeps it for later replays. */
static void check_fresh_response(const uint8_t *r, size_t rlen, size_t want_count)
{
    imc_dir_response resp;
    imc_status st = imc_dir_parse_response(&resp, r, rlen);
    FUZZ_CHECK(st == IMC_OK, "directory response does not parse: %s", imc_status_str(st));
    FUZZ_CHECK(resp.count == want_count, "%zu entries, wanted %zu", resp.count, want_count);
    FUZZ_CHECK(resp.global_epoch == m.global, "response global epoch %llu, model %llu",
               (unsigned long long)resp.global_epoch, (unsigned long long)m.global);
    static imc_dir_entry e;
    static imc_device_public want[IMC_MAX_DEVICES_PER_HANDLE];
    size_t off = 0;
    for (size_t i = 0; i < resp.count; i++) {
        FUZZ_CHECK(imc_dir_response_next(&e, &off, &resp) == IMC_OK, "entry %zu", i);
        FUZZ_CHECK(imc_dir_entry_verify(backend, dir_pk, &e) == IMC_OK,
                   "entry %zu not signed by the directory", i);
        unsigned h = handle_index(e.rec.handle, e.rec.handle_len);
        FUZZ_CHECK(e.rec.epoch == m.epoch[h], "handle %u: epoch %llu, model %llu", h,
                   (unsigned long long)e.rec.epoch, (unsigned long long)m.epoch[h]);
        size_t n = model_devices(h, want);
        FUZZ_CHECK(e.rec.device_count == n, "handle %u lists %zu devices, model %zu", h,
                   e.rec.device_count, n);
        for (size_t k = 0; k < n; k++)
            FUZZ_CHECK(same_device(&e.rec.devices[k], &want[k]),
                       "handle %u device %zu differs from the model (revoked or old keys?)",
                       h, k);
    }
    memcpy(kept[kept_next % KEPT], r, rlen);
    kept_len[kept_next % KEPT] = rlen;
    kept_next++;
}

/* Applies a response to the cache, predicting the outcome and the changes
 * exactly from the model of the cache. */
static void apply(const uint8_t *r, size_t rlen)
{
    imc_dir_response resp;
    if (imc_dir_parse_response(&resp, r, rlen) != IMC_OK)
        FUZZ_CHECK(0, "kept response does not parse");
    static imc_dir_entry e;
    bool stale = resp.global_epoch < m.c_global ||
                 (resp.global_epoch == m.c_global && resp.issued_ms < m.c_anchor) ||
                 resp.issued_ms + TTL_MS <= now || resp.issued_ms > now + 5 * 60 * 1000;
    size_t off = 0;
    for (size_t i = 0; i < resp.count; i++) {
        FUZZ_CHECK(imc_dir_response_next(&e, &off, &resp) == IMC_OK, "entry");
        unsigned h = handle_index(e.rec.handle, e.rec.handle_len);
        if (m.cached[h] && e.rec.epoch < m.c_epoch[h])
            stale = true;
    }
    static imc_dir_change ch[H * IMC_DIR_CHANGES_MAX_PER_ENTRY];
    size_t nch = 0;
    imc_status st = imc_dircache_apply(cache, ch, sizeof ch / sizeof ch[0], &nch, now, r, rlen);
    if (stale) {
        FUZZ_CHECK(st == IMC_ERR_STALE, "stale response applied: %s", imc_status_str(st));
        fuzz_count("dirops.apply-stale");
        return;
    }
    FUZZ_CHECK(st == IMC_OK, "fresh, genuine response refused: %s", imc_status_str(st));
    fuzz_count("dirops.apply-ok");
    /* Expected changes: per entry, the merge of the cached and new lists. */
    size_t k = 0;
    off = 0;
    for (size_t i = 0; i < resp.count; i++) {
        FUZZ_CHECK(imc_dir_response_next(&e, &off, &resp) == IMC_OK, "entry");
        unsigned h = handle_index(e.rec.handle, e.rec.handle_len);
        size_t a = 0, b = 0, na = m.cached[h] ? m.c_count[h] : 0, nb = e.rec.device_count;
        uint64_t old_epoch = m.cached[h] ? m.c_epoch[h] : 0;
        if (old_epoch == 0 && e.rec.epoch != 0) { /* the account key is pinned */
            FUZZ_CHECK(k < nch && ch[k].entry == i && ch[k].kind == IMC_DIR_ACCOUNT_NEW,
                       "change %zu: want entry %zu account pinned", k, i);
            k++;
        }
        if (e.rec.epoch > old_epoch) {
            FUZZ_CHECK(k < nch && ch[k].entry == i && ch[k].kind == IMC_DIR_LIST_VERSION &&
                           ch[k].old_version == old_epoch && ch[k].new_version == e.rec.epoch,
                       "change %zu: want entry %zu version %llu -> %llu", k, i,
                       (unsigned long long)old_epoch, (unsigned long long)e.rec.epoch);
            k++;
        }
        while (a < na || b < nb) {
            uint64_t ida = a < na ? m.c_dev[h][a].device_id : UINT64_MAX;
            uint64_t idb = b < nb ? e.rec.devices[b].device_id : UINT64_MAX;
            imc_dir_change_kind kind = 0;
            uint64_t id = 0;
            if (ida < idb) {
                kind = IMC_DIR_DEVICE_REMOVED;
                id = ida;
                a++;
            } else if (idb < ida) {
                kind = IMC_DIR_DEVICE_ADDED;
                id = idb;
                b++;
            } else {
                if (!same_device(&m.c_dev[h][a], &e.rec.devices[b])) {
                    kind = IMC_DIR_DEVICE_CHANGED;
                    id = ida;
                }
                a++;
                b++;
            }
            if (kind != 0) {
                FUZZ_CHECK(k < nch && ch[k].entry == i && ch[k].device_id == id &&
                               ch[k].kind == kind,
                           "change %zu: want entry %zu device %llx kind %d", k, i,
                           (unsigned long long)id, (int)kind);
                k++;
            }
        }
        if (!m.cached[h] || e.rec.epoch > m.c_epoch[h] || e.issued_ms > m.c_issued[h])
            m.c_issued[h] = e.issued_ms;
        m.cached[h] = true;
        m.c_epoch[h] = e.rec.epoch;
        m.c_count[h] = nb;
        memcpy(m.c_dev[h], e.rec.devices, nb * sizeof e.rec.devices[0]);
    }
    FUZZ_CHECK(k == nch, "%zu changes reported, %zu expected", nch, k);
    if (resp.global_epoch > m.c_global || resp.issued_ms > m.c_anchor) {
        m.c_global = resp.global_epoch;
        m.c_anchor = resp.issued_ms;
    }
}

static void check_update(imc_status st, bool stale, bool exists, bool limit, bool notfound,
                         bool auth, const char *what)
{
    bool any = stale || exists || limit || notfound || auth;
    if (!any) {
        FUZZ_CHECK(st == IMC_OK, "%s refused: %s", what, imc_status_str(st));
        return;
    }
    FUZZ_CHECK((stale && st == IMC_ERR_STALE) || (exists && st == IMC_ERR_EXISTS) ||
                   (limit && st == IMC_ERR_LIMIT) || (notfound && st == IMC_ERR_NOT_FOUND) ||
                   (auth && st == IMC_ERR_AUTH),
               "%s: got %s, expected one of%s%s%s%s%s", what, imc_status_str(st),
               stale ? " STALE" : "", exists ? " EXISTS" : "", limit ? " LIMIT" : "",
               notfound ? " NOT_FOUND" : "", auth ? " AUTH" : "");
}

/* ---- Operations ---------------------------------------------------------- */

static uint64_t signed_epoch(unsigned h, bool wrong)
{
    if (!wrong)
        return m.epoch[h];
    /* Never 0 for a registered handle: an update at epoch 0 would have to
     * create the account, which the parser tells apart (malformed). */
    return m.epoch[h] > 1 && (m.epoch[h] & 1) ? m.epoch[h] - 1 : m.epoch[h] + 1;
}

/* Handle h's record as a device would have it, at the epoch it signs for,
 * and its account key (of handle ah: another account's to forge). */
static imc_dir_record cur;
static uint8_t acct_sk[32];

static const imc_dir_record *current(unsigned h, bool wrong, unsigned ah)
{
    size_t hlen = 0;
    const uint8_t *hb = fuzz_dir_handle(h, &hlen);
    imc_status st = imc_dir_get(&cur, &dir, hb, hlen);
    FUZZ_CHECK(st == IMC_OK, "dir_get: %s", imc_status_str(st));
    cur.epoch = signed_epoch(h, wrong);
    uint8_t pk[32];
    fuzz_dir_account(ah, 0, pk, acct_sk);
    return &cur;
}

static uint8_t pending_fault; /* op 7's b: the next LMDB operation's fault */

static void lmdb_fault_begin(void)
{
    static const int rcs[4] = {EIO, ENOMEM, MDB_MAP_FULL, MDB_CORRUPTED};
    if (pending_fault != 0)
        fuzz_mdb_fail(pending_fault % 32 + 1u, rcs[pending_fault / 32 % 4]);
}

/* Whether the armed fault made the twin's call fail (st2); disarms it. */
static bool lmdb_fault_end(imc_status st2)
{
    bool fired = pending_fault != 0 && fuzz_mdb_fired();
    pending_fault = 0;
    if (!fired || st2 == IMC_OK)
        return false;
    FUZZ_CHECK(st2 == IMC_ERR_IO || st2 == IMC_ERR_NOMEM || st2 == IMC_ERR_MALFORMED,
               "an LMDB failure reported as %s", imc_status_str(st2));
    fuzz_count("dirops.lmdb-fault");
    return true;
}

/* Whether the update was applied (false: refused, or its LMDB call failed
 * and both directories skipped it). */
static bool apply_update(size_t ulen, unsigned h, bool stale, bool exists, bool limit,
                         bool notfound, bool auth, const char *what)
{
    uint8_t before[IMC_SHA256_BYTES], after[IMC_SHA256_BYTES];
    FUZZ_CHECK(imc_dir_digest(before, &dir) == IMC_OK, "digest");
    size_t rlen = 0, rlen2 = 0;
    lmdb_fault_begin();
    imc_status st2 = imc_dir_update(buf2, sizeof buf2, &rlen2, &dir2, now, upd, ulen);
    if (lmdb_fault_end(st2)) {
        FUZZ_CHECK(imc_dir_digest(after, &dir2) == IMC_OK, "digest");
        FUZZ_CHECK(memcmp(before, after, sizeof before) == 0,
                   "%s whose LMDB call failed changed the LMDB store", what);
        return false;
    }
    imc_status st = imc_dir_update(buf, sizeof buf, &rlen, &dir, now, upd, ulen);
    FUZZ_CHECK(st == st2 && (st != IMC_OK || (rlen == rlen2 && memcmp(buf, buf2, rlen) == 0)),
               "%s: memory store %s, LMDB store %s (or answers differ)", what,
               imc_status_str(st), imc_status_str(st2));
    check_update(st, stale, exists, limit, notfound, auth, what);
    if (st != IMC_OK) {
        FUZZ_CHECK(imc_dir_digest(after, &dir) == IMC_OK, "digest");
        FUZZ_CHECK(memcmp(before, after, sizeof before) == 0, "refused %s changed the store",
                   what);
        fuzz_count("dirops.update-refused");
        return false;
    }
    fuzz_count("dirops.update-ok");
    m.epoch[h]++;
    m.global++;
    return true;
}

static void op_register(uint8_t a, uint8_t b)
{
    unsigned h = a % H;
    unsigned dh = (a >> 2) % 4 == 3 ? (h + 1) % H : h; /* mostly own slots */
    unsigned s = b % S;
    bool wrong = (b & 0x80) != 0;
    size_t ulen = 0;
    bool listed = m.state[dh][s] == ACTIVE && m.owner[dh][s] == h;
    imc_status st = imc_dir_sign_register(upd, sizeof upd, &ulen, backend, dir_pk,
                                          current(h, wrong, h), acct_sk, dev_keys(dh, s));
    if (listed) {
        FUZZ_CHECK(st == IMC_ERR_ARG, "sign_register of a listed device: %s",
                   imc_status_str(st));
        return;
    }
    FUZZ_CHECK(st == IMC_OK, "sign_register: %s", imc_status_str(st));
    bool stale = wrong, exists = m.state[dh][s] != UNUSED, limit = active_count(h) >= MAX_DEV;
    if (apply_update(ulen, h, stale, exists, limit, false, false, "register")) {
        m.state[dh][s] = ACTIVE;
        m.owner[dh][s] = h;
    }
}

static void op_rotate(uint8_t a, uint8_t b)
{
    unsigned h = a % H;
    unsigned dh = (a >> 2) % 4 == 3 ? (h + 1) % H : h;
    unsigned s = b % S;
    bool wrong = (b & 0x80) != 0, forged = (b & 0x40) != 0;
    unsigned g = m.gen[dh][s], ng = (g + 1) % FUZZ_DIR_GENS;
    size_t ulen = 0;
    /* forged: "old" keys the device never had (the next generation's next). */
    const imc_device_keys *old = fuzz_dir_device(dh, s, forged ? (ng + 1) % FUZZ_DIR_GENS : g);
    bool notfound = !(m.state[dh][s] == ACTIVE && m.owner[dh][s] == h);
    imc_status st = imc_dir_sign_rotate(upd, sizeof upd, &ulen, backend, dir_pk,
                                        current(h, wrong, h), acct_sk, old,
                                        fuzz_dir_device(dh, s, ng));
    if (notfound) {
        FUZZ_CHECK(st == IMC_ERR_NOT_FOUND, "sign_rotate of an unlisted device: %s",
                   imc_status_str(st));
        return;
    }
    FUZZ_CHECK(st == IMC_OK, "sign_rotate: %s", imc_status_str(st));
    if (apply_update(ulen, h, wrong, false, false, false, forged, "rotate"))
        m.gen[dh][s] = ng;
}

static void op_revoke(uint8_t a, uint8_t b)
{
    unsigned h = a % H;
    unsigned th = (a >> 2) % 4 == 3 ? (h + 1) % H : h, ts = (a >> 4) % S;
    bool wrong = (b & 0x08) != 0, auth = (b & 0x40) != 0;
    size_t ulen = 0;
    bool notfound = !(m.state[th][ts] == ACTIVE && m.owner[th][ts] == h);
    imc_status st = imc_dir_sign_revoke(upd, sizeof upd, &ulen, backend, dir_pk,
                                        current(h, wrong, auth ? (h + 1) % H : h), acct_sk,
                                        dev_id(th, ts));
    if (notfound) {
        FUZZ_CHECK(st == IMC_ERR_NOT_FOUND, "sign_revoke of an unlisted device: %s",
                   imc_status_str(st));
        return;
    }
    FUZZ_CHECK(st == IMC_OK, "sign_revoke: %s", imc_status_str(st));
    if (apply_update(ulen, h, wrong, false, false, false, auth, "revoke")) {
        m.state[th][ts] = REVOKED;
        m.revoked_at[th][ts] = m.epoch[h];
    }
}

static void op_lookup(uint8_t a, uint8_t b)
{
    (void)b;
    unsigned h = a % H;
    size_t hlen = 0, rlen = 0;
    const uint8_t *hb = fuzz_dir_handle(h, &hlen);
    imc_status st = imc_dir_lookup(buf, sizeof buf, &rlen, &dir, now, hb, hlen);
    FUZZ_CHECK(st == IMC_OK, "lookup: %s", imc_status_str(st));
    size_t rlen2 = 0;
    lmdb_fault_begin();
    st = imc_dir_lookup(buf2, sizeof buf2, &rlen2, &dir2, now, hb, hlen);
    if (lmdb_fault_end(st))
        return;
    FUZZ_CHECK(st == IMC_OK && rlen2 == rlen && memcmp(buf, buf2, rlen) == 0,
               "lookup on LMDB differs: %s", imc_status_str(st));
    check_fresh_response(buf, rlen, 1);
    if (a & 0x80)
        apply(buf, rlen);
}

static void op_batch(uint8_t a, uint8_t b)
{
    imc_dir_handle hs[H];
    size_t n = 0;
    unsigned mask = (a % 7) + 1;
    for (unsigned h = 0; h < H; h++)
        if (mask & (1u << h))
            hs[n].bytes = fuzz_dir_handle(h, &hs[n].len), n++;
    size_t rlen = 0;
    imc_status st = imc_dir_lookup_batch(buf, sizeof buf, &rlen, &dir, now, hs, n);
    FUZZ_CHECK(st == IMC_OK, "batch lookup: %s", imc_status_str(st));
    size_t rlen2 = 0;
    lmdb_fault_begin();
    st = imc_dir_lookup_batch(buf2, sizeof buf2, &rlen2, &dir2, now, hs, n);
    if (lmdb_fault_end(st))
        return;
    FUZZ_CHECK(st == IMC_OK && rlen2 == rlen && memcmp(buf, buf2, rlen) == 0,
               "batch lookup on LMDB differs: %s", imc_status_str(st));
    check_fresh_response(buf, rlen, n);
    if (b & 1)
        apply(buf, rlen);
}

static void op_reapply(uint8_t a)
{
    if (kept_next == 0)
        return;
    unsigned i = a % (kept_next < KEPT ? kept_next : KEPT);
    memcpy(buf, kept[i], kept_len[i]);
    apply(buf, kept_len[i]);
}

static void op_tamper(uint8_t a, uint8_t b)
{
    if (kept_next == 0)
        return;
    unsigned i = a % (kept_next < KEPT ? kept_next : KEPT);
    size_t len = kept_len[i];
    memcpy(buf, kept[i], len);
    buf[((size_t)a * 131 + b) % len] ^= (uint8_t)(b ? b : 1);
    uint8_t before[IMC_SHA256_BYTES], after[IMC_SHA256_BYTES];
    FUZZ_CHECK(imc_dircache_digest(before, cache) == IMC_OK, "cache digest");
    size_t nch = 0;
    imc_status st = imc_dircache_apply(cache, NULL, 0, &nch, now, buf, len);
    FUZZ_CHECK(st != IMC_OK, "cache accepted a tampered response");
    FUZZ_CHECK(imc_dircache_digest(after, cache) == IMC_OK, "cache digest");
    FUZZ_CHECK(memcmp(before, after, sizeof before) == 0, "refused response changed the cache");
    fuzz_count("dirops.tamper-refused");
}

static int find_mismatch(const imc_dir_mismatch *mm, size_t n, uint64_t id,
                         imc_dir_mismatch_kind kind)
{
    for (size_t i = 0; i < n; i++)
        if (mm[i].device_id == id && mm[i].kind == kind)
            return 1;
    return 0;
}

static void op_sender(uint8_t a, uint8_t b)
{
    unsigned h = a % H;
    size_t hlen = 0;
    const uint8_t *hb = fuzz_dir_handle(h, &hlen);
    imc_dir_handle to = {hb, hlen};
    bool fresh = m.cached[h] && m.c_issued[h] + TTL_MS > now;
    imc_device_public out[IMC_MAX_DEVICES_PER_HANDLE];
    size_t count = 0, bad = 99;
    imc_status st = imc_dircache_recipients(out, IMC_MAX_DEVICES_PER_HANDLE, &count, &bad,
                                            cache, now, 1, &to, 1);
    if (!m.cached[h] || (fresh && m.c_count[h] == 0)) {
        FUZZ_CHECK(st == IMC_ERR_NOT_FOUND && bad == 0, "recipients of handle %u: %s", h,
                   imc_status_str(st));
    } else if (!fresh) {
        FUZZ_CHECK(st == IMC_ERR_STALE && bad == 0, "recipients of expired handle %u: %s", h,
                   imc_status_str(st));
    } else {
        FUZZ_CHECK(st == IMC_OK && count == m.c_count[h], "recipients of handle %u: %s, %zu",
                   h, imc_status_str(st), count);
        for (size_t k = 0; k < count; k++)
            FUZZ_CHECK(same_device(&out[k], &m.c_dev[h][k]), "recipient %zu differs", k);
        fuzz_count("dirops.recipients-ok");
    }

    /* A sender's list: the cached devices, changed as b says. */
    imc_device_public list[IMC_MAX_DEVICES_PER_HANDLE + 1];
    size_t n = 0, dropped = SIZE_MAX, staled = SIZE_MAX;
    uint64_t drop_id = 0, stale_id = 0, extra_id = 0;
    size_t have = m.cached[h] ? m.c_count[h] : 0;
    for (size_t k = 0; k < have; k++) {
        if ((b & 1) && dropped == SIZE_MAX && k == (size_t)(b >> 4) % have) {
            dropped = k;
            drop_id = m.c_dev[h][k].device_id;
            continue;
        }
        list[n] = m.c_dev[h][k];
        if ((b & 4) && staled == SIZE_MAX) {
            staled = n;
            stale_id = list[n].device_id;
            list[n].dh_pk[0] ^= 1;
        }
        n++;
    }
    if (b & 2) {
        /* Slot 4 of the next handle, unless the cache lists it for h. */
        unsigned xh = (h + 1) % H;
        bool listed = false;
        for (size_t k = 0; k < have; k++)
            listed |= m.c_dev[h][k].device_id == dev_id(xh, S - 1);
        if (!listed) {
            list[n] = fuzz_dir_device(xh, S - 1, 0)->pub;
            extra_id = list[n].device_id;
            n++;
        }
    }
    imc_dir_mismatch mm[IMC_MAX_DEVICES_PER_HANDLE + 2];
    size_t nm = 0;
    st = imc_dircache_compare(mm, sizeof mm / sizeof mm[0], &nm, cache, now, &to, 1, list, n);
    if (!m.cached[h]) {
        FUZZ_CHECK(st == IMC_ERR_NOT_FOUND, "compare, uncached: %s", imc_status_str(st));
        return;
    }
    if (!fresh) {
        FUZZ_CHECK(st == IMC_ERR_STALE, "compare, expired: %s", imc_status_str(st));
        return;
    }
    size_t want = (dropped != SIZE_MAX) + (staled != SIZE_MAX) + (extra_id != 0);
    FUZZ_CHECK(st == IMC_OK && nm == want, "compare: %s, %zu mismatches, expected %zu",
               imc_status_str(st), nm, want);
    FUZZ_CHECK(dropped == SIZE_MAX || find_mismatch(mm, nm, drop_id, IMC_DIR_DEVICE_MISSING),
               "dropped device not reported missing");
    FUZZ_CHECK(staled == SIZE_MAX || find_mismatch(mm, nm, stale_id, IMC_DIR_DEVICE_STALE),
               "device with other keys not reported stale");
    FUZZ_CHECK(extra_id == 0 || find_mismatch(mm, nm, extra_id, IMC_DIR_DEVICE_EXTRA),
               "foreign device not reported extra");
    fuzz_count("dirops.compare-ok");
}

/* ---- Invariants after every operation ----------------------------------- */

static uint64_t last_global, last_epoch[H], last_cache_global;

static void check_invariants(void)
{
    FUZZ_CHECK(imc_dir_check(&dir) == IMC_OK, "imc_dir_check failed");
    FUZZ_CHECK(imc_dir_check(&dir2) == IMC_OK, "imc_dir_check failed on LMDB");
    uint8_t d1[IMC_SHA256_BYTES], d2[IMC_SHA256_BYTES];
    FUZZ_CHECK(imc_dir_digest(d1, &dir) == IMC_OK && imc_dir_digest(d2, &dir2) == IMC_OK,
               "digest");
    FUZZ_CHECK(memcmp(d1, d2, sizeof d1) == 0, "memory and LMDB directories differ");
    uint64_t g = 0;
    FUZZ_CHECK(imc_dir_global_epoch(&g, &dir) == IMC_OK, "global epoch");
    FUZZ_CHECK(g >= last_global && g == m.global, "global epoch %llu (was %llu, model %llu)",
               (unsigned long long)g, (unsigned long long)last_global,
               (unsigned long long)m.global);
    last_global = g;
    static imc_dir_record rec;
    static imc_device_public want[IMC_MAX_DEVICES_PER_HANDLE];
    for (unsigned h = 0; h < H; h++) {
        size_t hlen = 0;
        const uint8_t *hb = fuzz_dir_handle(h, &hlen);
        FUZZ_CHECK(imc_dir_get(&rec, &dir, hb, hlen) == IMC_OK, "dir_get");
        FUZZ_CHECK(rec.epoch >= last_epoch[h] && rec.epoch == m.epoch[h],
                   "handle %u epoch %llu (was %llu, model %llu)", h,
                   (unsigned long long)rec.epoch, (unsigned long long)last_epoch[h],
                   (unsigned long long)m.epoch[h]);
        last_epoch[h] = rec.epoch;
        FUZZ_CHECK(rec.device_count <= MAX_DEV, "handle %u has %zu devices", h,
                   rec.device_count);
        size_t n = model_devices(h, want);
        FUZZ_CHECK(rec.device_count == n, "handle %u: %zu devices, model %zu", h,
                   rec.device_count, n);
        for (size_t k = 0; k < n; k++)
            FUZZ_CHECK(same_device(&rec.devices[k], &want[k]), "handle %u device %zu", h, k);

        /* The cache: what it holds is what the model says it applied. */
        const imc_dir_record *cr = NULL;
        imc_status st = imc_dircache_get(&cr, cache, now, hb, hlen);
        bool fresh = m.cached[h] && m.c_issued[h] + TTL_MS > now;
        if (!m.cached[h]) {
            FUZZ_CHECK(st == IMC_ERR_NOT_FOUND, "handle %u never applied, cache says %s", h,
                       imc_status_str(st));
        } else if (!fresh) {
            FUZZ_CHECK(st == IMC_ERR_STALE, "handle %u expired, cache says %s", h,
                       imc_status_str(st));
        } else {
            FUZZ_CHECK(st == IMC_OK && cr->epoch == m.c_epoch[h] &&
                           cr->device_count == m.c_count[h],
                       "handle %u: cache holds something else (%s)", h, imc_status_str(st));
            for (size_t k = 0; k < cr->device_count; k++)
                FUZZ_CHECK(same_device(&cr->devices[k], &m.c_dev[h][k]), "cache device");
            /* Cache matches store when it has the handle's current epoch. */
            if (cr->epoch == rec.epoch) {
                FUZZ_CHECK(cr->device_count == rec.device_count, "cache/store differ");
                for (size_t k = 0; k < cr->device_count; k++)
                    FUZZ_CHECK(same_device(&cr->devices[k], &rec.devices[k]),
                               "cache and store differ at the same epoch");
            }
        }
    }
    /* A revoked device is never handed out once the cache saw it go. */
    for (unsigned i = 0; i < H; i++) {
        for (unsigned s = 0; s < S; s++) {
            if (m.state[i][s] != REVOKED)
                continue;
            unsigned h = m.owner[i][s];
            if (!m.cached[h] || m.c_epoch[h] < m.revoked_at[i][s])
                continue;
            size_t hlen = 0;
            const uint8_t *hb = fuzz_dir_handle(h, &hlen);
            imc_msg_peer peer;
            imc_status st = imc_dircache_peer(&peer, cache, now, hb, hlen, dev_id(i, s));
            FUZZ_CHECK(st != IMC_OK, "cache returned revoked device %llx",
                       (unsigned long long)dev_id(i, s));
            imc_device_public out[IMC_MAX_DEVICES_PER_HANDLE];
            size_t count = 0;
            imc_dir_handle to = {hb, hlen};
            if (imc_dircache_recipients(out, IMC_MAX_DEVICES_PER_HANDLE, &count, NULL, cache,
                                        now, 1, &to, 1) == IMC_OK)
                for (size_t k = 0; k < count; k++)
                    FUZZ_CHECK(out[k].device_id != dev_id(i, s),
                               "recipients include revoked device");
        }
    }
    uint64_t cg = imc_dircache_global_epoch(cache);
    FUZZ_CHECK(cg >= last_cache_global && cg == m.c_global, "cache global epoch %llu (was %llu)",
               (unsigned long long)cg, (unsigned long long)last_cache_global);
    last_cache_global = cg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (backend == NULL) {
        backend = fuzz_backend_for(1);
        fuzz_dir_key(dir_pk, dir_sk);
    }
    memset(&m, 0, sizeof m);
    memset(last_epoch, 0, sizeof last_epoch);
    last_global = last_cache_global = 0;
    kept_next = 0;
    pending_fault = 0;
    now = FUZZ_TS_BASE;
    imc_status st = imc_dir_store_mem_open(&store, backend, 4);
    FUZZ_CHECK(st == IMC_OK, "store: %s", imc_status_str(st));
    imc_dir_options dopt = {MAX_DEV};
    st = imc_dir_init(&dir, backend, store, dir_sk, &dopt);
    FUZZ_CHECK(st == IMC_OK, "dir_init: %s", imc_status_str(st));
    if (lmdb_path[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(lmdb_path, sizeof lmdb_path, "%s/imcore-fuzz-dir-ops-%ld.mdb",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", (long)getpid());
    }
    char lock_path[sizeof lmdb_path + 8];
    snprintf(lock_path, sizeof lock_path, "%s-lock", lmdb_path);
    (void)remove(lmdb_path);
    (void)remove(lock_path);
    imc_dir_lmdb_options lopt = {UINT64_C(64) << 20, true, false};
    st = imc_dir_store_lmdb_open(&store2, lmdb_path, &lopt);
    FUZZ_CHECK(st == IMC_OK, "LMDB store at %s: %s", lmdb_path, imc_status_str(st));
    st = imc_dir_init(&dir2, backend, store2, dir_sk, &dopt);
    FUZZ_CHECK(st == IMC_OK, "dir_init on LMDB: %s", imc_status_str(st));
    imc_dircache_options copt;
    memset(&copt, 0, sizeof copt);
    copt.capacity = 8;
    copt.ttl_ms = TTL_MS;
    st = imc_dircache_new(&cache, backend, dir_pk, &copt);
    FUZZ_CHECK(st == IMC_OK, "dircache_new: %s", imc_status_str(st));

    for (size_t i = 0; i + 3 <= size && i / 3 < MAX_OPS; i += 3) {
        uint8_t op = data[i] % 9, a = data[i + 1], b = data[i + 2];
        switch (op) {
        case 0: op_register(a, b); break;
        case 1: op_rotate(a, b); break;
        case 2: op_revoke(a, b); break;
        case 3: op_lookup(a, b); break;
        case 4: op_batch(a, b); break;
        case 5: op_reapply(a); break;
        case 6: op_tamper(a, b); break;
        case 8: op_sender(a, b); break;
        default:
            now += ((uint64_t)a + 1) * 7 * 60 * 1000;
            pending_fault = b;
            break;
        }
        check_invariants();
    }
    imc_dircache_free(cache);
    cache = NULL;
    imc_dir_wipe(&dir);
    imc_dir_store_close(&store);
    imc_dir_wipe(&dir2);
    imc_dir_store_close(&store2);
    (void)remove(lmdb_path);
    (void)remove(lock_path);
    return 0;
}
