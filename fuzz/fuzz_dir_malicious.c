/* Target dir_malicious: a directory that holds its real signing key and
 * lies, against one client cache (imcore/dircache.h).
 *
 * The directory here is not imc_dir: the harness writes and signs lookup
 * responses itself (docs/directory-format.md, with the fixed directory key
 * of fuzz_common.c), and the account-signed device lists in them (with the
 * fixed account keys of fuzz_common.c: three generations per handle), with
 * handle epochs, global epochs, issue times, devices, account keys and
 * signers taken from the input: rollbacks of one handle or of the whole
 * directory, forks (two lists signed for one handle epoch: other devices,
 * another account key, another previous-list hash), omitted versions
 * (epochs that jump), account keys changed with and without a rotation
 * signature by the pinned key (or one by a wrong key), lists whose account
 * signature is by another key than the one they name, entries signed by
 * another key than the directory's, entries from the future or already
 * expired, handles the cache has evicted. The cache has room for fewer
 * handles than the universe (1 to 3 of 3), so eviction runs; or it is a
 * persistent cache (LMDB under $TMPDIR), which never evicts, and is closed
 * and reopened between responses.
 *
 * A model states what docs/directory.md ("Client cache") requires:
 *   - a response that breaks any rule is refused with one of the statuses
 *     of the rules it breaks (MALFORMED: a handle epoch above the global
 *     epoch, or a list at epoch 0; STALE: issued beyond the skew, already
 *     expired, a global epoch below the highest seen or equal to it and
 *     issued earlier, a handle epoch below the cached one; AUTH: an entry
 *     not signed by the directory, a list not signed by the account key it
 *     names, the cached epoch with another list; LIMIT: more handles than
 *     the cache may hold), and leaves the cache unchanged (digest);
 *   - a response that breaks none is accepted; then the cache holds every
 *     entry exactly as signed; the account key pinned is the first one
 *     seen, moves only along a rotation signed by the pinned key, and any
 *     other new key is reported once as unconfirmed and makes the handle
 *     unusable (peer, recipients, prepare_send: AUTH) until accepted;
 *     recipients and prepare_send give exactly the handle's devices and
 *     the own handle's others (or the first rule broken, and where); the
 *     changes reported are
 *     exactly the account change, the version step and the added, removed
 *     and changed devices against what it held; its global epoch and
 *     anchor are the model's; an evicted handle never expires later than
 *     one kept (never one of the same response, never the own handle), and
 *     exactly as many handles go as the new ones need.
 * So the client never holds two different lists for one epoch of a handle
 * it keeps, and no epoch (handle or global) ever goes back.
 *
 * Input: byte 0: the capacity (1 + b % 3); bit 2: handle 0 is the cache's
 * own (never evicted); bit 3: a persistent cache. Then 12 bytes per
 * response:
 *   r0  bits 0-1 entries - 1 (% 3), bits 2-3 the first handle (% 3),
 *       the others follow it cyclically; bit 4: entry 0
 *       signed by another key than the directory's; bit 7: an epoch-0
 *       entry carries a list (malformed)
 *   r1  global epoch: highest seen + (b % 8) - 2 (at least 0); bit 3:
 *       reopen a persistent cache afterwards; bits 4-5: accept the
 *       pending account key of handle (v - 1) afterwards (0: none)
 *   r2  low nibble: issue time relative to now (ISSUED_MIN); high nibble:
 *       how far the clock moves after the response (ADVANCE_MIN)
 *   then 3 bytes per entry:
 *   e0  bits 0-2 the handle epoch (below); bits 3-4 the account key
 *       generation (% 3); bits 5-6 key change: 0 same, 1 rotated, 2 new,
 *       3 same but the list signed by the next generation's key; bit 7:
 *       the other previous-list hash (a fork of the history)
 *   e1  bits 0-4 the device slots listed; bits 5-7 key generation bits of
 *       slots 0-2
 *   e2  bits 0-1 the generation whose key signs a rotation (% 3); bits 2-3
 *       key generation bits of slots 3-4 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "imcore/dir.h"
#include "imcore/dircache.h"
#include "imcore/wire.h"

#define H FUZZ_DIR_HANDLES
#define G FUZZ_DIR_GENS
#define MIN_MS UINT64_C(60000)
#define TTL_MS (60 * MIN_MS)
#define SKEW_MS (5 * MIN_MS)
#define RESP_MAX IMC_DIR_RESPONSE_MAX_BYTES(H)
#define OP_BYTES 12
#define MAX_RESPONSES 48

/* One handle as the model says the cache holds it. */
typedef struct model_handle {
    bool cached;
    uint64_t epoch;
    uint64_t issued;
    size_t count;
    imc_device_public dev[FUZZ_DIR_SLOTS];
    uint8_t key_change;
    uint8_t account_pk[32];
    uint8_t prev_hash[IMC_SHA256_BYTES];
    uint8_t pinned[32]; /* zero: none */
} model_handle;

/* One entry the directory signs. */
typedef struct lie {
    unsigned h;
    uint64_t epoch;
    bool with_list;
    size_t count;
    imc_device_public dev[FUZZ_DIR_SLOTS];
    uint8_t key_change;
    unsigned gen;         /* account key named */
    unsigned signer;      /* account key that signs the list */
    unsigned rot_signer;  /* account key that signs the rotation */
    uint8_t prev_hash[IMC_SHA256_BYTES];
} lie;

static const imc_backend *backend;
static uint8_t dir_pk[32], dir_sk[32];
static uint8_t acct_pk[H][G][32], acct_sk[H][G][32];
static model_handle mh[H];
static uint64_t global_max, anchor;
static uint64_t now;
static size_t capacity;
static bool own;        /* handle 0 is this device's own: never evicted */
static bool persistent; /* an LMDB-backed cache: no eviction, reopened */
static imc_dircache *cache;
static char state_path[512];
static uint8_t resp[RESP_MAX];

static const int64_t ISSUED_MIN[16] = {-120, -61, -60, -59, -30, -1, 0, 0,
                                       0,    0,   1,   4,   5,   6,  30, -600};
static const uint64_t ADVANCE_MIN[16] = {0, 0, 0, 0, 1, 1, 2, 5, 10, 30, 59, 60, 61, 120, 600, 0};

static void setup(void)
{
    backend = fuzz_backend_for(1);
    fuzz_dir_key(dir_pk, dir_sk);
    for (unsigned h = 0; h < H; h++)
        for (unsigned g = 0; g < G; g++)
            fuzz_dir_account(h, g, acct_pk[h][g], acct_sk[h][g]);
}

static void put_device(imc_writer *w, const imc_device_public *d)
{
    const imc_suite *s = imc_suite_get(d->suite);
    imc_wire_write_u16(w, (uint16_t)d->suite);
    imc_wire_write_u64(w, d->device_id);
    imc_wire_write_bytes(w, d->dh_pk, s->dh_public_bytes);
    imc_wire_write_bytes(w, d->sig_pk, s->sig_public_bytes);
}

/* Appends Ed25519(sk, label || msg) to w. */
static void put_signature(imc_writer *w, const char *label, const uint8_t sk[32],
                          const uint8_t pk[32], const uint8_t *msg, size_t len)
{
    static uint8_t in[64 + IMC_DIR_ENTRY_MAX_BYTES];
    size_t ll = strlen(label);
    FUZZ_CHECK(ll + len <= sizeof in, "signed input too long");
    memcpy(in, label, ll);
    memcpy(in + ll, msg, len);
    uint8_t *sig = imc_wire_write_reserve(w, IMC_ED25519_SIGNATURE_BYTES);
    FUZZ_CHECK(sig != NULL, "response encoder overflow");
    imc_status st = imc_crypto_ed25519_sign(backend, sig, sk, pk, in, ll + len);
    FUZZ_CHECK(st == IMC_OK, "signing: %s", imc_status_str(st));
}

/* The account-signed device list of docs/directory-format.md. */
static void put_list(imc_writer *w, const lie *l, uint64_t version)
{
    size_t hl = 0;
    const uint8_t *hb = fuzz_dir_handle(l->h, &hl);
    size_t start = w->len;
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, IMC_DIR_KIND_LIST);
    imc_wire_write_u8(w, (uint8_t)hl);
    imc_wire_write_bytes(w, hb, hl);
    imc_wire_write_u64(w, version);
    imc_wire_write_u8(w, l->key_change);
    imc_wire_write_bytes(w, acct_pk[l->h][l->gen], 32);
    imc_wire_write_bytes(w, l->prev_hash, sizeof l->prev_hash);
    imc_wire_write_u8(w, (uint8_t)l->count);
    for (size_t k = 0; k < l->count; k++)
        put_device(w, &l->dev[k]);
    FUZZ_CHECK(!w->err, "list encoder overflow");
    size_t lb = w->len - start;
    static uint8_t body[IMC_DIR_LIST_MAX_BYTES];
    memcpy(body, w->buf + start, lb);
    put_signature(w, "imcore/v2/dir-list", acct_sk[l->h][l->signer], acct_pk[l->h][l->signer],
                  body, lb);
    if (l->key_change == IMC_DIR_KEY_ROTATED)
        put_signature(w, "imcore/v2/dir-list-rotate", acct_sk[l->h][l->rot_signer],
                      acct_pk[l->h][l->rot_signer], body, lb);
}

/* A response by docs/directory-format.md; entry 0 signed by an account key
 * instead of the directory's if bad_dir. */
static size_t encode(const lie *l, size_t n, uint64_t global, uint64_t issued, bool bad_dir)
{
    imc_writer w;
    imc_wire_writer_init(&w, resp, sizeof resp);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_RESPONSE);
    imc_wire_write_u16(&w, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        size_t start = w.len;
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(l[i].h, &hl);
        imc_wire_write_u8(&w, (uint8_t)hl);
        imc_wire_write_bytes(&w, hb, hl);
        imc_wire_write_u64(&w, l[i].epoch);
        imc_wire_write_u64(&w, global);
        imc_wire_write_u64(&w, issued);
        size_t len_at = w.len;
        imc_wire_write_u16(&w, 0);
        if (l[i].with_list) {
            put_list(&w, &l[i], l[i].epoch != 0 ? l[i].epoch : 1);
            size_t ll = w.len - len_at - 2;
            resp[len_at] = (uint8_t)(ll >> 8);
            resp[len_at + 1] = (uint8_t)ll;
        }
        FUZZ_CHECK(!w.err, "response encoder overflow");
        static uint8_t body[IMC_DIR_ENTRY_MAX_BYTES];
        size_t eb = w.len - start;
        memcpy(body, resp + start, eb);
        if (bad_dir && i == 0)
            put_signature(&w, "imcore/v2/dir-entry", acct_sk[0][0], acct_pk[0][0], body, eb);
        else
            put_signature(&w, "imcore/v2/dir-entry", dir_sk, dir_pk, body, eb);
    }
    size_t len = 0;
    imc_status st = imc_wire_writer_finish(&w, &len);
    FUZZ_CHECK(st == IMC_OK, "response encoder: %s", imc_status_str(st));
    return len;
}

static bool same_device(const imc_device_public *a, const imc_device_public *b)
{
    return a->suite == b->suite && a->device_id == b->device_id &&
           memcmp(a->dh_pk, b->dh_pk, sizeof a->dh_pk) == 0 &&
           memcmp(a->sig_pk, b->sig_pk, sizeof a->sig_pk) == 0;
}

static bool same_devices(const imc_device_public *a, size_t an, const imc_device_public *b,
                         size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (!same_device(&a[i], &b[i]))
            return false;
    return true;
}

/* The same list (what the account signed), signatures aside. */
static bool same_record(const model_handle *m, const lie *l)
{
    return m->epoch == l->epoch && same_devices(m->dev, m->count, l->dev, l->count) &&
           (l->epoch == 0 ||
            (m->key_change == l->key_change && memcmp(m->account_pk, acct_pk[l->h][l->gen], 32) == 0 &&
             memcmp(m->prev_hash, l->prev_hash, sizeof l->prev_hash) == 0));
}

static bool is_zero(const uint8_t *p, size_t n) { return fuzz_all_zero(p, n) != 0; }

/* The account change docs/directory.md asks for, and the key pinned after. */
static imc_dir_change_kind account_change(const model_handle *m, const lie *l, uint8_t pinned[32])
{
    memset(pinned, 0, 32);
    if (m->cached)
        memcpy(pinned, m->pinned, 32);
    if (l->epoch == 0)
        return 0;
    const uint8_t *named = acct_pk[l->h][l->gen];
    if (is_zero(pinned, 32)) {
        memcpy(pinned, named, 32);
        return IMC_DIR_ACCOUNT_NEW;
    }
    if (memcmp(pinned, named, 32) == 0)
        return 0;
    if (l->key_change == IMC_DIR_KEY_ROTATED && memcmp(acct_pk[l->h][l->rot_signer], pinned, 32) == 0) {
        memcpy(pinned, named, 32);
        return IMC_DIR_ACCOUNT_ROTATED;
    }
    if (m->epoch == 0 || memcmp(m->account_pk, named, 32) != 0)
        return IMC_DIR_ACCOUNT_UNCONFIRMED;
    return 0;
}

static void want_change(imc_dir_change *out, size_t *n, size_t entry, uint64_t id,
                        imc_dir_change_kind kind, uint64_t from, uint64_t to)
{
    imc_dir_change c = {entry, id, kind, from, to};
    out[(*n)++] = c;
}

/* The changes the doc requires for one entry (old list -> new list). */
static size_t expected_changes(imc_dir_change *out, size_t entry, const model_handle *old,
                               const lie *l, imc_dir_change_kind account)
{
    size_t n = 0, i = 0, j = 0;
    size_t oc = old->cached ? old->count : 0;
    uint64_t from = old->cached ? old->epoch : 0;
    if (account != 0)
        want_change(out, &n, entry, 0, account, from, l->epoch);
    if (l->epoch > from)
        want_change(out, &n, entry, 0, IMC_DIR_LIST_VERSION, from, l->epoch);
    while (i < oc || j < l->count) {
        uint64_t a = i < oc ? old->dev[i].device_id : UINT64_MAX;
        uint64_t b = j < l->count ? l->dev[j].device_id : UINT64_MAX;
        if (a < b) {
            want_change(out, &n, entry, a, IMC_DIR_DEVICE_REMOVED, from, l->epoch);
            i++;
        } else if (b < a) {
            want_change(out, &n, entry, b, IMC_DIR_DEVICE_ADDED, from, l->epoch);
            j++;
        } else {
            if (!same_device(&old->dev[i], &l->dev[j]))
                want_change(out, &n, entry, a, IMC_DIR_DEVICE_CHANGED, from, l->epoch);
            i++;
            j++;
        }
    }
    return n;
}

static bool pending(const model_handle *m)
{
    return m->cached && m->epoch != 0 && memcmp(m->pinned, m->account_pk, 32) != 0;
}

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = ((const imc_device_public *)a)->device_id;
    uint64_t y = ((const imc_device_public *)b)->device_id;
    return x < y ? -1 : x > y;
}

static uint64_t own_id(void) { return fuzz_dir_device(0, 0, 0)->pub.device_id; }

/* Whether the cache may hand out handle h's devices (directory.md,
 * "Whom to encrypt to"); for the own handle, this device must be listed. */
static imc_status usable(unsigned h, bool as_own)
{
    const model_handle *m = &mh[h];
    if (!m->cached)
        return IMC_ERR_NOT_FOUND;
    if (m->issued + TTL_MS <= now)
        return IMC_ERR_STALE;
    if (pending(m))
        return IMC_ERR_AUTH;
    if (as_own) {
        for (size_t k = 0; k < m->count; k++)
            if (m->dev[k].device_id == own_id())
                return IMC_OK;
        return IMC_ERR_NOT_FOUND;
    }
    return m->count == 0 ? IMC_ERR_NOT_FOUND : IMC_OK;
}

/* recipients and prepare_send for one handle, against the model: the
 * handle's devices and the own handle's others, sorted, or the first
 * rule broken (and which handle broke it). */
static void check_sending(unsigned h)
{
    static imc_device_public want[2 * FUZZ_DIR_SLOTS], got[2 * FUZZ_DIR_SLOTS + 1];
    size_t nw = 0, bad_want = SIZE_MAX;
    imc_status st_want = IMC_OK;
    if (!(own && h == 0)) {
        st_want = usable(h, false);
        if (st_want != IMC_OK)
            bad_want = 0;
        for (size_t k = 0; st_want == IMC_OK && k < mh[h].count; k++)
            want[nw++] = mh[h].dev[k];
    }
    if (st_want == IMC_OK && own) {
        st_want = usable(0, true);
        if (st_want != IMC_OK)
            bad_want = 1;
        for (size_t k = 0; st_want == IMC_OK && k < mh[0].count; k++)
            if (mh[0].dev[k].device_id != own_id())
                want[nw++] = mh[0].dev[k];
    }
    qsort(want, nw, sizeof want[0], cmp_id);
    size_t hl = 0, count = 0, bad = 0;
    imc_dir_handle to = {fuzz_dir_handle(h, &hl), 0};
    to.len = hl;
    imc_status st = imc_dircache_recipients(got, sizeof got / sizeof got[0], &count, &bad, cache,
                                            now, 1, &to, 1);
    FUZZ_CHECK(st == st_want && (st != IMC_OK || bad == SIZE_MAX) &&
                   (st == IMC_OK || bad == bad_want),
               "recipients of handle %u: %s (bad %zu), model %s (bad %zu)", h, imc_status_str(st),
               bad, imc_status_str(st_want), bad_want);
    if (st == IMC_OK)
        FUZZ_CHECK(same_devices(got, count, want, nw), "recipients of handle %u: other devices",
                   h);
    if (!own)
        return;
    /* prepare_send: this device's own entry first (listed with these very
     * keys), then the recipients; nobody at all to send to is NOT_FOUND. */
    const imc_device_keys *me = fuzz_dir_device(0, 0, 0);
    imc_msg_send req;
    imc_status ps_want = usable(0, true);
    if (ps_want == IMC_OK)
        for (size_t k = 0; k < mh[0].count; k++)
            if (mh[0].dev[k].device_id == own_id() && !same_device(&mh[0].dev[k], &me->pub))
                ps_want = IMC_ERR_STALE;
    if (ps_want == IMC_OK)
        ps_want = st_want != IMC_OK ? st_want : nw == 0 ? IMC_ERR_NOT_FOUND : IMC_OK;
    st = imc_dircache_prepare_send(&req, got, sizeof got / sizeof got[0], &bad, cache, now, me,
                                   &to, 1);
    FUZZ_CHECK(st == ps_want, "prepare_send to handle %u: %s, model %s", h, imc_status_str(st),
               imc_status_str(ps_want));
    if (st == IMC_OK) {
        FUZZ_CHECK(req.recipient_count == nw && req.recipients == got && req.sender == me &&
                       same_devices(req.recipients, req.recipient_count, want, nw),
                   "prepare_send to handle %u: other recipients", h);
        fuzz_count("dir_malicious.prepare-send-ok");
    }
}

/* What the cache answers for every handle equals the model. */
static void check_handles(void)
{
    size_t held = 0;
    for (unsigned h = 0; h < H; h++) {
        const model_handle *m = &mh[h];
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(h, &hl);
        const imc_dir_record *rec = NULL;
        imc_status g = imc_dircache_get(&rec, cache, now, hb, hl);
        uint8_t pinned[32];
        bool pend = false;
        imc_status a = imc_dircache_account(pinned, &pend, cache, hb, hl);
        imc_msg_peer peer;
        uint64_t probe = m->cached && m->count > 0 ? m->dev[0].device_id
                                                   : fuzz_dir_device(h, 4, 0)->pub.device_id;
        imc_status p = imc_dircache_peer(&peer, cache, now, hb, hl, probe);
        if (!m->cached) {
            FUZZ_CHECK(g == IMC_ERR_NOT_FOUND && a == IMC_ERR_NOT_FOUND && p == IMC_ERR_NOT_FOUND,
                       "handle %u not held: get %s, account %s, peer %s", h, imc_status_str(g),
                       imc_status_str(a), imc_status_str(p));
            check_sending(h);
            continue;
        }
        held++;
        FUZZ_CHECK(a == IMC_OK && pend == pending(m) && memcmp(pinned, m->pinned, 32) == 0,
                   "handle %u: account %s, pending %d (model %d), pinned key differs: %d", h,
                   imc_status_str(a), (int)pend, (int)pending(m),
                   memcmp(pinned, m->pinned, 32) != 0);
        bool fresh = m->issued + TTL_MS > now;
        FUZZ_CHECK(g == (fresh ? IMC_OK : IMC_ERR_STALE), "get of handle %u: %s (fresh: %d)", h,
                   imc_status_str(g), (int)fresh);
        imc_status want_p = !fresh          ? IMC_ERR_STALE
                            : pending(m)    ? IMC_ERR_AUTH
                            : m->count == 0 ? IMC_ERR_NOT_FOUND
                                            : IMC_OK;
        FUZZ_CHECK(p == want_p, "peer of handle %u: %s, model %s", h, imc_status_str(p),
                   imc_status_str(want_p));
        if (p == IMC_OK)
            FUZZ_CHECK(same_device(peer.device, &m->dev[0]), "peer of handle %u: other keys", h);
        check_sending(h);
        if (g != IMC_OK)
            continue;
        FUZZ_CHECK(rec->epoch == m->epoch && same_devices(rec->devices, rec->device_count, m->dev,
                                                          m->count),
                   "cached handle %u differs from what the directory signed", h);
        if (m->epoch != 0)
            FUZZ_CHECK(rec->key_change == m->key_change &&
                           memcmp(rec->account_pk, m->account_pk, 32) == 0 &&
                           memcmp(rec->prev_hash, m->prev_hash, sizeof m->prev_hash) == 0,
                       "cached list of handle %u differs from what the account signed", h);
    }
    FUZZ_CHECK(held == imc_dircache_count(cache), "count %zu, model %zu",
               imc_dircache_count(cache), held);
    FUZZ_CHECK(imc_dircache_global_epoch(cache) == global_max &&
                   imc_dircache_anchor_issued(cache) == anchor,
               "cache anchor (%llu, %llu), model (%llu, %llu)",
               (unsigned long long)imc_dircache_global_epoch(cache),
               (unsigned long long)imc_dircache_anchor_issued(cache),
               (unsigned long long)global_max, (unsigned long long)anchor);
}

/* Builds the entries of one response from its bytes. */
static size_t make_lies(lie *l, const uint8_t op[OP_BYTES], uint64_t global)
{
    size_t n = 1 + (op[0] & 3) % 3;
    unsigned first = (unsigned)(op[0] >> 2 & 3) % 3;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = op + 3 + 3 * i;
        unsigned h = (first + (unsigned)i) % H;
        const model_handle *m = &mh[h];
        uint64_t cur = m->cached ? m->epoch : 0;
        uint64_t ep;
        switch (e[0] % 8) {
        case 0: ep = cur > 0 ? cur - 1 : 0; break; /* rollback */
        case 1: ep = cur; break;                   /* same epoch (maybe a fork) */
        case 2:
        case 3: ep = cur + 1; break;               /* the next version */
        case 4: ep = global; break;
        case 5: ep = 0; break;
        default: ep = cur + 2 + (e[0] >> 6); break; /* versions omitted */
        }
        lie *x = &l[i];
        memset(x, 0, sizeof *x);
        x->h = h;
        x->epoch = ep;
        x->with_list = ep != 0 || (op[0] & 0x80);
        x->gen = (e[0] >> 3 & 3) % G;
        x->signer = x->gen;
        unsigned kc = e[0] >> 5 & 3;
        x->key_change = kc == 3 ? IMC_DIR_KEY_SAME : (uint8_t)kc;
        if (kc == 3)
            x->signer = (x->gen + 1) % G;
        x->rot_signer = (e[2] & 3) % G;
        unsigned gens = (unsigned)(e[1] >> 5) | (unsigned)((e[2] >> 2 & 3) << 3);
        for (unsigned s = 0; s < FUZZ_DIR_SLOTS; s++)
            if (e[1] & (1u << s))
                x->dev[x->count++] = fuzz_dir_device(h, s, gens >> s & 1)->pub;
        if (!x->with_list)
            x->count = 0;
        /* The list rules of the format: version 1 is a new account with no
         * previous list; a later one names a previous list (one of two
         * histories: a fork when the cache saw the other). */
        uint64_t version = ep != 0 ? ep : 1;
        if (version == 1) {
            x->key_change = IMC_DIR_KEY_NEW;
        } else {
            x->prev_hash[0] = (uint8_t)(1 + (e[0] >> 7));
            x->prev_hash[1] = (uint8_t)h;
            for (unsigned k = 0; k < 8; k++)
                x->prev_hash[2 + k] = (uint8_t)((version - 1) >> (56 - 8 * k));
        }
    }
    return n;
}

static void open_cache(void)
{
    imc_dircache_options opt;
    memset(&opt, 0, sizeof opt);
    if (own) {
        opt.own_handle = fuzz_dir_handle(0, &opt.own_handle_len);
        opt.own_device_id = fuzz_dir_device(0, 0, 0)->pub.device_id;
    }
    opt.capacity = capacity;
    opt.ttl_ms = TTL_MS;
    opt.max_skew_ms = SKEW_MS;
    if (persistent) {
        opt.path = state_path;
        opt.no_sync = true;
    }
    imc_status st = imc_dircache_new(&cache, backend, dir_pk, &opt);
    FUZZ_CHECK(st == IMC_OK, "dircache_new: %s", imc_status_str(st));
}

static void remove_state(void) { fuzz_state_remove(state_path); }

static void one_response(const uint8_t op[OP_BYTES])
{
    uint64_t global = global_max + (op[1] % 8);
    global = global >= 2 ? global - 2 : 0;
    int64_t rel = ISSUED_MIN[op[2] & 15] * (int64_t)MIN_MS;
    uint64_t issued = rel < 0 && (uint64_t)-rel > now ? 0 : now + (uint64_t)rel;
    bool bad_dir = (op[0] & 0x10) != 0;
    lie l[H];
    size_t n = make_lies(l, op, global);

    /* What the model says about each rule. */
    bool malformed = false, stale = false, auth = bad_dir, limit = false;
    size_t fresh_handles = 0;
    for (size_t i = 0; i < n; i++) {
        const model_handle *m = &mh[l[i].h];
        if (l[i].epoch > global || (l[i].epoch == 0 && l[i].with_list))
            malformed = true;
        if (m->cached && l[i].epoch < m->epoch)
            stale = true;
        if (m->cached && l[i].epoch == m->epoch && !same_record(m, &l[i]))
            auth = true; /* the directory signed two lists for one epoch */
        if (l[i].epoch != 0 && l[i].signer != l[i].gen)
            auth = true; /* the list is not signed by the key it names */
        fresh_handles += !m->cached;
    }
    if (issued > now + SKEW_MS || issued + TTL_MS <= now || global < global_max ||
        (global == global_max && issued < anchor))
        stale = true;
    bool own_in_resp = false;
    size_t used = 0;
    for (unsigned h = 0; h < H; h++)
        used += mh[h].cached;
    for (size_t i = 0; i < n; i++)
        own_in_resp |= own && l[i].h == 0;
    if (persistent ? fresh_handles > capacity - used
                   : n + (own && mh[0].cached && !own_in_resp ? 1 : 0) > capacity)
        limit = true;
    bool ok = !malformed && !stale && !auth && !limit;

    size_t len = encode(l, n, global, issued, bad_dir);
    uint8_t before[IMC_SHA256_BYTES], after[IMC_SHA256_BYTES];
    FUZZ_CHECK(imc_dircache_digest(before, cache) == IMC_OK, "digest");
    static imc_dir_change ch[H * IMC_DIR_CHANGES_MAX_PER_ENTRY];
    static imc_dir_change want[H * IMC_DIR_CHANGES_MAX_PER_ENTRY];
    size_t nch = 0;
    imc_status st = imc_dircache_apply(cache, ch, sizeof ch / sizeof ch[0], &nch, now, resp, len);
    FUZZ_CHECK(imc_dircache_digest(after, cache) == IMC_OK, "digest");

    if (getenv("IMC_FUZZ_DEBUG") != NULL) {
        fprintf(stderr, "response: global %llu issued now%+lld min, %s\n",
                (unsigned long long)global, (long long)rel / (long long)MIN_MS,
                imc_status_str(st));
        for (size_t i = 0; i < n; i++)
            fprintf(stderr,
                    "  h%u epoch %llu, %zu devices, key %u (signer %u, rotation %u, change %u) "
                    "(model: cached %d epoch %llu, %zu)\n",
                    l[i].h, (unsigned long long)l[i].epoch, l[i].count, l[i].gen, l[i].signer,
                    l[i].rot_signer, l[i].key_change, (int)mh[l[i].h].cached,
                    (unsigned long long)mh[l[i].h].epoch, mh[l[i].h].count);
        for (size_t i = 0; i < nch; i++)
            fprintf(stderr, "  change entry %zu device %llx kind %d\n", ch[i].entry,
                    (unsigned long long)ch[i].device_id, (int)ch[i].kind);
    }
    if (!ok) {
        bool allowed = (malformed && st == IMC_ERR_MALFORMED) || (stale && st == IMC_ERR_STALE) ||
                       (auth && st == IMC_ERR_AUTH) || (limit && st == IMC_ERR_LIMIT);
        if (!allowed)
            fuzz_hexdump("response", resp, len);
        FUZZ_CHECK(allowed,
                   "lying directory: apply says %s; the rules broken: %s%s%s%s (global %llu, "
                   "highest seen %llu)",
                   imc_status_str(st), malformed ? "malformed " : "", stale ? "stale " : "",
                   auth ? "auth " : "", limit ? "limit " : "", (unsigned long long)global,
                   (unsigned long long)global_max);
        FUZZ_CHECK(memcmp(before, after, sizeof before) == 0, "refused response changed the cache");
        fuzz_count(malformed ? "dir_malicious.refused-malformed"
                   : auth    ? "dir_malicious.refused-auth"
                   : stale   ? "dir_malicious.refused-stale"
                             : "dir_malicious.refused-limit");
        return;
    }
    if (st != IMC_OK)
        fuzz_hexdump("response", resp, len);
    FUZZ_CHECK(st == IMC_OK, "directory response that breaks no rule refused: %s",
               imc_status_str(st));
    fuzz_count("dir_malicious.accepted");

    /* Changes against what the cache held, then the model moves. */
    size_t nw = 0;
    imc_dir_change_kind acct[H];
    uint8_t pinned[H][32];
    for (size_t i = 0; i < n; i++) {
        acct[i] = account_change(&mh[l[i].h], &l[i], pinned[i]);
        nw += expected_changes(want + nw, i, &mh[l[i].h], &l[i], acct[i]);
        if (acct[i] == IMC_DIR_ACCOUNT_UNCONFIRMED)
            fuzz_count("dir_malicious.account-unconfirmed");
        else if (acct[i] == IMC_DIR_ACCOUNT_ROTATED)
            fuzz_count("dir_malicious.account-rotated");
    }
    FUZZ_CHECK(nch == nw, "apply reported %zu changes, the model %zu", nch, nw);
    for (size_t i = 0; i < nw; i++)
        FUZZ_CHECK(ch[i].entry == want[i].entry && ch[i].device_id == want[i].device_id &&
                       ch[i].kind == want[i].kind && ch[i].old_version == want[i].old_version &&
                       ch[i].new_version == want[i].new_version,
                   "change %zu: entry %zu device %llx kind %d (%llu -> %llu), the model says "
                   "entry %zu device %llx kind %d (%llu -> %llu)",
                   i, ch[i].entry, (unsigned long long)ch[i].device_id, (int)ch[i].kind,
                   (unsigned long long)ch[i].old_version, (unsigned long long)ch[i].new_version,
                   want[i].entry, (unsigned long long)want[i].device_id, (int)want[i].kind,
                   (unsigned long long)want[i].old_version,
                   (unsigned long long)want[i].new_version);
    bool in_resp[H] = {false};
    for (size_t i = 0; i < n; i++) {
        model_handle *m = &mh[l[i].h];
        size_t changes = expected_changes(want, i, m, &l[i], acct[i]);
        /* Never two lists for one epoch, never an epoch back (the rules
         * above, restated on what was accepted). */
        FUZZ_CHECK(!m->cached || l[i].epoch > m->epoch || (l[i].epoch == m->epoch && same_record(m, &l[i])),
                   "handle %u: accepted epoch %llu over the held %llu", l[i].h,
                   (unsigned long long)l[i].epoch, (unsigned long long)m->epoch);
        /* The issue time moves on with a newer answer or any change; the
         * same state confirmed by an older answer keeps the newer time. */
        if (!m->cached || m->issued < issued || m->epoch != l[i].epoch || changes != 0)
            m->issued = issued;
        m->cached = true;
        m->epoch = l[i].epoch;
        m->count = l[i].count;
        memcpy(m->dev, l[i].dev, l[i].count * sizeof l[i].dev[0]);
        m->key_change = l[i].epoch != 0 ? l[i].key_change : 0;
        if (l[i].epoch != 0)
            memcpy(m->account_pk, acct_pk[l[i].h][l[i].gen], 32);
        else
            memset(m->account_pk, 0, 32);
        memcpy(m->prev_hash, l[i].prev_hash, sizeof m->prev_hash);
        if (l[i].epoch == 0)
            memset(m->prev_hash, 0, sizeof m->prev_hash);
        memcpy(m->pinned, pinned[i], 32);
        in_resp[l[i].h] = true;
    }
    if (global > global_max || issued > anchor) {
        global_max = global;
        anchor = issued;
    }

    /* Eviction: what the cache dropped must be allowed to go, and only as
     * many as the new handles need. */
    uint64_t min_kept = UINT64_MAX;
    bool gone[H] = {false};
    size_t held = 0;
    for (unsigned h = 0; h < H; h++) {
        if (!mh[h].cached)
            continue;
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(h, &hl);
        const imc_dir_record *rec = NULL;
        if (imc_dircache_get(&rec, cache, now, hb, hl) == IMC_ERR_NOT_FOUND) {
            FUZZ_CHECK(!persistent, "a persistent cache evicted handle %u", h);
            FUZZ_CHECK(!in_resp[h], "handle %u of the response is not cached", h);
            FUZZ_CHECK(!(own && h == 0), "the own handle was evicted");
            gone[h] = true;
            mh[h].cached = false;
            continue;
        }
        held++;
        /* Only handles that could have gone bound the victims: not those of
         * the response, not the own handle. */
        if (!in_resp[h] && !(own && h == 0) && mh[h].issued < min_kept)
            min_kept = mh[h].issued;
    }
    size_t want_held = used + fresh_handles < capacity ? used + fresh_handles : capacity;
    FUZZ_CHECK(held == want_held, "cache holds %zu handles, should hold %zu", held, want_held);
    for (unsigned h = 0; h < H; h++)
        if (gone[h]) {
            FUZZ_CHECK(mh[h].issued <= min_kept,
                       "evicted handle %u expires later than a handle that was kept", h);
            fuzz_count("dir_malicious.evicted");
        }
}

/* The user accepts the pending account key of handle h. */
static void accept(unsigned h)
{
    model_handle *m = &mh[h];
    size_t hl = 0;
    const uint8_t *hb = fuzz_dir_handle(h, &hl);
    imc_status st = imc_dircache_accept(cache, hb, hl);
    FUZZ_CHECK(st == (m->cached ? IMC_OK : IMC_ERR_NOT_FOUND), "accept of handle %u: %s", h,
               imc_status_str(st));
    if (pending(m)) {
        memcpy(m->pinned, m->account_pk, 32);
        fuzz_count("dir_malicious.accepted-key");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (backend == NULL)
        setup();
    if (size < 1)
        return 0;
    capacity = 1 + data[0] % 3;
    own = (data[0] & 4) != 0;
    persistent = (data[0] & 8) != 0;
    if (persistent && state_path[0] == '\0') {
        fuzz_state_path(state_path, sizeof state_path, "dir-malicious");
    }
    if (persistent)
        remove_state();
    open_cache();
    memset(mh, 0, sizeof mh);
    global_max = anchor = 0;
    now = FUZZ_TS_BASE;
    for (size_t off = 1; off + OP_BYTES <= size && off < 1 + OP_BYTES * MAX_RESPONSES;
         off += OP_BYTES) {
        const uint8_t *op = data + off;
        one_response(op);
        unsigned a = op[1] >> 4 & 3;
        if (a != 0)
            accept(a - 1);
        if (persistent && (op[1] & 8)) {
            uint8_t before[IMC_SHA256_BYTES], after[IMC_SHA256_BYTES];
            FUZZ_CHECK(imc_dircache_digest(before, cache) == IMC_OK, "digest");
            imc_dircache_free(cache);
            open_cache();
            FUZZ_CHECK(imc_dircache_digest(after, cache) == IMC_OK, "digest");
            FUZZ_CHECK(memcmp(before, after, sizeof before) == 0,
                       "the reopened cache differs from the one closed");
            fuzz_count("dir_malicious.reopened");
        }
        check_handles();
        now += ADVANCE_MIN[op[2] >> 4] * MIN_MS;
    }
    imc_dircache_free(cache);
    cache = NULL;
    if (persistent)
        remove_state();
    return 0;
}
