/* Target dir_malicious: a directory that holds its real signing key and
 * lies, against one client cache (imcore/dircache.h).
 *
 * The directory here is not imc_dir: the harness writes and signs lookup
 * responses itself (docs/directory-format.md, with the fixed directory key
 * of fuzz_common.c), with handle epochs, global epochs, issue times and
 * device lists taken from the input: rollbacks of one handle or of the
 * whole directory, forks (two device lists signed for one handle epoch),
 * omitted versions (epochs that jump), entries from the future or already
 * expired, handles the cache has evicted. The cache has room for fewer
 * handles than the universe (1 to 3 of 3), so eviction runs.
 *
 * A model states what docs/directory.md ("The client cache") requires:
 *   - a response that breaks any rule is refused with one of the statuses
 *     of the rules it breaks (MALFORMED: epoch above the global epoch, or
 *     epoch 0 with devices; STALE: issued beyond the skew, already expired,
 *     global epoch below the highest seen, a handle epoch below the cached
 *     one; AUTH: the cached epoch with another device list; LIMIT: more
 *     handles than the cache holds), and leaves the cache unchanged (digest);
 *   - a response that breaks none is accepted; then the cache holds every
 *     entry exactly as signed, reports exactly the added, removed and
 *     changed devices against what it held, its global epoch is the highest
 *     seen, and an evicted handle never expires later than one kept
 *     (the entry that expires first goes; never one of the same response,
 *     never the own handle).
 *
 * Input: byte 0 the capacity (1 + b % 3) and, bit 2, whether handle 0 is
 * the cache's own (never evicted); then 8 bytes per response:
 *   b0  entries - 1 (b % 3), first handle (b / 4 % 3), bit 7: keep the
 *       devices of an epoch-0 entry (malformed)
 *   b1  global epoch: highest seen + (b % 8) - 2 (at least 0)
 *   b2  low nibble: issue time relative to now (table below); high nibble:
 *       how far the clock moves after the response
 *   b3..b5  per entry: handle epoch choice (b % 8, below)
 *   b6, b7  device slots (mask) and key generations */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "imcore/dir.h"
#include "imcore/dircache.h"
#include "imcore/wire.h"

#define H FUZZ_DIR_HANDLES
#define MIN_MS UINT64_C(60000)
#define TTL_MS (60 * MIN_MS)
#define SKEW_MS (5 * MIN_MS)
#define RESP_MAX IMC_DIR_RESPONSE_MAX_BYTES(H)

typedef struct model_handle {
    bool cached;
    uint64_t epoch;
    uint64_t issued;
    size_t count;
    imc_device_public dev[FUZZ_DIR_SLOTS];
} model_handle;

static model_handle mh[H];
static uint64_t global_max;
static uint64_t now;
static size_t capacity;
static bool own; /* handle 0 is this device's own: never evicted */
static imc_dircache *cache;
static uint8_t dir_pk[32], dir_sk[32];
static uint8_t resp[RESP_MAX];

/* One entry the directory signs. */
typedef struct lie {
    unsigned h;
    uint64_t epoch;
    size_t count;
    imc_device_public dev[FUZZ_DIR_SLOTS];
} lie;

static const int64_t ISSUED_MIN[16] = {-120, -61, -60, -59, -30, -1, 0, 0,
                                       0,    0,   1,   4,   5,   6,  30, -600};
static const uint64_t ADVANCE_MIN[16] = {0, 0, 0, 0, 1, 1, 2, 5, 10, 30, 59, 60, 61, 120, 600, 0};

static void setup(void)
{
    fuzz_dir_key(dir_pk, dir_sk);
}

static void put_device(imc_writer *w, const imc_device_public *d)
{
    const imc_suite *s = imc_suite_get(d->suite);
    imc_wire_write_u16(w, (uint16_t)d->suite);
    imc_wire_write_u64(w, d->device_id);
    imc_wire_write_bytes(w, d->dh_pk, s->dh_public_bytes);
    imc_wire_write_bytes(w, d->sig_pk, s->sig_public_bytes);
}

/* A response by docs/directory-format.md, every entry signed with the
 * directory key. */
static size_t encode(const lie *l, size_t n, uint64_t global, uint64_t issued)
{
    static const char label[] = "imcore/v1/dir-entry";
    static uint8_t signed_in[sizeof label + IMC_DIR_ENTRY_MAX_BYTES];
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
        imc_wire_write_u8(&w, (uint8_t)l[i].count);
        for (size_t k = 0; k < l[i].count; k++)
            put_device(&w, &l[i].dev[k]);
        size_t eb = w.len - start;
        FUZZ_CHECK(!w.err, "response encoder overflow");
        memcpy(signed_in, label, sizeof label - 1);
        memcpy(signed_in + sizeof label - 1, resp + start, eb);
        uint8_t *sig = imc_wire_write_reserve(&w, IMC_DIR_SIGNATURE_BYTES);
        FUZZ_CHECK(sig != NULL, "response encoder overflow");
        imc_status st = imc_crypto_ed25519_sign(fuzz_backend_for(1), sig, dir_sk, dir_pk,
                                                signed_in, sizeof label - 1 + eb);
        FUZZ_CHECK(st == IMC_OK, "directory signing: %s", imc_status_str(st));
    }
    size_t len = 0;
    imc_status st = imc_wire_writer_finish(&w, &len);
    FUZZ_CHECK(st == IMC_OK, "response encoder: %s", imc_status_str(st));
    return len;
}

static int same_list(const imc_device_public *a, size_t an, const imc_device_public *b, size_t bn)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (a[i].suite != b[i].suite || a[i].device_id != b[i].device_id ||
            memcmp(a[i].dh_pk, b[i].dh_pk, sizeof a[i].dh_pk) != 0 ||
            memcmp(a[i].sig_pk, b[i].sig_pk, sizeof a[i].sig_pk) != 0)
            return 0;
    return 1;
}

/* The changes the doc requires for one entry (old list -> new list). */
static size_t expected_changes(imc_dir_change *out, size_t entry, const model_handle *old,
                               const lie *l)
{
    size_t n = 0, i = 0, j = 0;
    size_t oc = old->cached ? old->count : 0;
    while (i < oc || j < l->count) {
        uint64_t a = i < oc ? old->dev[i].device_id : UINT64_MAX;
        uint64_t b = j < l->count ? l->dev[j].device_id : UINT64_MAX;
        imc_dir_change c = {entry, 0, IMC_DIR_DEVICE_ADDED};
        if (a < b) {
            c.device_id = a;
            c.kind = IMC_DIR_DEVICE_REMOVED;
            i++;
        } else if (b < a) {
            c.device_id = b;
            j++;
        } else {
            c.device_id = a;
            c.kind = IMC_DIR_DEVICE_CHANGED;
            int same = same_list(&old->dev[i], 1, &l->dev[j], 1);
            i++;
            j++;
            if (same)
                continue;
        }
        out[n++] = c;
    }
    return n;
}

static void one_response(const uint8_t op[8])
{
    lie l[H];
    size_t n = 1 + op[0] % 3;
    unsigned first = (op[0] / 4) % 3;
    uint64_t global = global_max + (op[1] % 8);
    global = global >= 2 ? global - 2 : 0;
    int64_t rel = ISSUED_MIN[op[2] & 15] * (int64_t)MIN_MS;
    uint64_t issued = rel < 0 && (uint64_t)-rel > now ? 0 : now + (uint64_t)rel;

    /* What the model says about each rule. */
    bool malformed = false, stale = false, forked = false, limit = false;
    size_t existing = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned h = (first + (unsigned)i) % H;
        const model_handle *m = &mh[h];
        uint64_t cur = m->cached ? m->epoch : 0;
        uint8_t c = op[3 + i];
        uint64_t e;
        switch (c % 8) {
        case 0: e = cur > 0 ? cur - 1 : 0; break; /* rollback */
        case 1: e = cur; break;                   /* same epoch (maybe a fork) */
        case 2:
        case 3: e = cur + 1; break;               /* the next version */
        case 4: e = global; break;
        case 5: e = 0; break;
        default: e = cur + 2 + (c >> 6); break;   /* versions omitted */
        }
        l[i].h = h;
        l[i].epoch = e;
        l[i].count = 0;
        uint8_t mask = (uint8_t)((op[6] >> i) | (op[6] << (8 - i)));
        for (unsigned s = 0; s < FUZZ_DIR_SLOTS; s++)
            if (mask & (1u << s)) {
                unsigned g = ((op[7] >> s) ^ (unsigned)i) & 1;
                l[i].dev[l[i].count++] = fuzz_dir_device(h, s, g)->pub;
            }
        if (e == 0 && !(op[0] & 0x80))
            l[i].count = 0;
        if (e > global || (e == 0 && l[i].count > 0))
            malformed = true;
        if (m->cached && e < m->epoch)
            stale = true;
        if (m->cached && e == m->epoch && !same_list(m->dev, m->count, l[i].dev, l[i].count))
            forked = true;
        existing += m->cached;
    }
    if (issued > now + SKEW_MS || issued + TTL_MS <= now || global < global_max)
        stale = true;
    /* The own handle, cached and not in this response, keeps its slot. */
    bool own_in_resp = false;
    for (size_t i = 0; i < n; i++)
        own_in_resp |= own && l[i].h == 0;
    if (n + (own && mh[0].cached && !own_in_resp ? 1 : 0) > capacity)
        limit = true;
    bool ok = !malformed && !stale && !forked && !limit;
    (void)existing;

    size_t len = encode(l, n, global, issued);
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
            fprintf(stderr, "  h%u epoch %llu, %zu devices (model: cached %d epoch %llu, %zu)\n",
                    l[i].h, (unsigned long long)l[i].epoch, l[i].count, (int)mh[l[i].h].cached,
                    (unsigned long long)mh[l[i].h].epoch, mh[l[i].h].count);
        for (size_t i = 0; i < nch; i++)
            fprintf(stderr, "  change entry %zu device %llx kind %d\n", ch[i].entry,
                    (unsigned long long)ch[i].device_id, (int)ch[i].kind);
    }
    if (!ok) {
        bool allowed = (malformed && st == IMC_ERR_MALFORMED) || (stale && st == IMC_ERR_STALE) ||
                       (forked && st == IMC_ERR_AUTH) || (limit && st == IMC_ERR_LIMIT);
        if (!allowed)
            fuzz_hexdump("response", resp, len);
        FUZZ_CHECK(allowed,
                   "lying directory: apply says %s; the rules broken: %s%s%s%s (global %llu, "
                   "highest seen %llu)",
                   imc_status_str(st), malformed ? "malformed " : "", stale ? "stale " : "",
                   forked ? "fork " : "", limit ? "limit " : "", (unsigned long long)global,
                   (unsigned long long)global_max);
        FUZZ_CHECK(memcmp(before, after, sizeof before) == 0, "refused response changed the cache");
        fuzz_count(malformed ? "dir_malicious.refused-malformed"
                   : forked  ? "dir_malicious.refused-fork"
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
    for (size_t i = 0; i < n; i++)
        nw += expected_changes(want + nw, i, &mh[l[i].h], &l[i]);
    FUZZ_CHECK(nch == nw, "apply reported %zu changes, the model %zu", nch, nw);
    for (size_t i = 0; i < nw; i++)
        FUZZ_CHECK(ch[i].entry == want[i].entry && ch[i].device_id == want[i].device_id &&
                       ch[i].kind == want[i].kind,
                   "change %zu: entry %zu device %llx kind %d, the model says entry %zu device "
                   "%llx kind %d",
                   i, ch[i].entry, (unsigned long long)ch[i].device_id, (int)ch[i].kind,
                   want[i].entry, (unsigned long long)want[i].device_id, (int)want[i].kind);
    bool in_resp[H] = {false};
    for (size_t i = 0; i < n; i++) {
        model_handle *m = &mh[l[i].h];
        /* The same state confirmed by an older answer keeps the newer
         * issue time (fresh until the latest confirmation). */
        bool confirm = m->cached && m->epoch == l[i].epoch && issued < m->issued;
        m->cached = true;
        m->epoch = l[i].epoch;
        if (!confirm)
            m->issued = issued;
        m->count = l[i].count;
        memcpy(m->dev, l[i].dev, l[i].count * sizeof l[i].dev[0]);
        in_resp[l[i].h] = true;
    }
    if (global > global_max)
        global_max = global;
    FUZZ_CHECK(imc_dircache_global_epoch(cache) == global_max, "cache global epoch %llu, model %llu",
               (unsigned long long)imc_dircache_global_epoch(cache),
               (unsigned long long)global_max);

    /* Eviction: what the cache dropped must be allowed to go. */
    uint64_t min_kept = UINT64_MAX;
    size_t held = 0;
    bool gone[H] = {false};
    for (unsigned h = 0; h < H; h++) {
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(h, &hl);
        const imc_dir_record *rec = NULL;
        imc_status g = imc_dircache_get(&rec, cache, now, hb, hl);
        if (g == IMC_ERR_NOT_FOUND) {
            FUZZ_CHECK(!in_resp[h], "handle %u of the response is not cached", h);
            FUZZ_CHECK(!(own && h == 0 && mh[h].cached), "the own handle was evicted");
            if (mh[h].cached)
                gone[h] = true;
            mh[h].cached = false;
            continue;
        }
        FUZZ_CHECK(mh[h].cached, "cache holds handle %u the model never accepted", h);
        held++;
        if (!in_resp[h] && mh[h].issued < min_kept)
            min_kept = mh[h].issued;
        bool fresh = mh[h].issued + TTL_MS > now;
        FUZZ_CHECK(g == (fresh ? IMC_OK : IMC_ERR_STALE), "get of handle %u: %s (fresh: %d)", h,
                   imc_status_str(g), (int)fresh);
        if (g == IMC_OK)
            FUZZ_CHECK(rec->epoch == mh[h].epoch &&
                           same_list(rec->devices, rec->device_count, mh[h].dev, mh[h].count),
                       "cached handle %u differs from what the directory signed", h);
    }
    FUZZ_CHECK(held <= capacity, "cache holds %zu handles, capacity %zu", held, capacity);
    for (unsigned h = 0; h < H; h++)
        if (gone[h])
            FUZZ_CHECK(mh[h].issued <= min_kept,
                       "evicted handle %u expires later than a handle that was kept", h);
    FUZZ_CHECK(held == imc_dircache_count(cache), "count %zu, held %zu", imc_dircache_count(cache),
               held);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    if (size < 1)
        return 0;
    capacity = 1 + data[0] % 3;
    own = (data[0] & 4) != 0;
    imc_dircache_options opt;
    memset(&opt, 0, sizeof opt);
    if (own) {
        opt.own_handle = fuzz_dir_handle(0, &opt.own_handle_len);
        opt.own_device_id = fuzz_dir_device(0, 0, 0)->pub.device_id;
    }
    opt.capacity = capacity;
    opt.ttl_ms = TTL_MS;
    opt.max_skew_ms = SKEW_MS;
    imc_status st = imc_dircache_new(&cache, fuzz_backend_for(1), dir_pk, &opt);
    FUZZ_CHECK(st == IMC_OK, "dircache_new: %s", imc_status_str(st));
    memset(mh, 0, sizeof mh);
    global_max = 0;
    now = FUZZ_TS_BASE;
    for (size_t off = 1; off + 8 <= size && off < 1 + 8 * 64; off += 8) {
        one_response(data + off);
        now += ADVANCE_MIN[data[off + 2] >> 4] * MIN_MS;
    }
    imc_dircache_free(cache);
    cache = NULL;
    return 0;
}
