/* The client-side directory cache (imcore/dircache.h, docs/directory.md
 * "Client cache").
 *
 * Fixed capacity, allocated once: an array of slots (each a full record)
 * and an open-addressing index over them (linear probing, keyed SipHash,
 * at least twice as many index cells as slots, backward-shift deletion).
 *
 * apply runs in two passes over the response: the first parses, verifies
 * every signature and checks every epoch, counting changes and new handles,
 * and changes nothing; the second, which cannot fail, writes. */
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/dircache.h"
#include "imcore/util.h"
#include "util/siphash.h"

#define DEFAULT_CAPACITY 256
#define DEFAULT_TTL_MS (24ULL * 3600 * 1000)
#define DEFAULT_SKEW_MS (5ULL * 60 * 1000)
#define MAX_CAPACITY ((size_t)1 << 24)

typedef struct slot {
    bool used;
    uint64_t hash;
    uint64_t global_epoch; /* of the entry that wrote it */
    uint64_t issued_ms;
    uint64_t touched; /* generation of the last apply that wrote it */
    imc_dir_record rec;
} slot;

struct imc_dircache {
    const imc_backend *b;
    uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES];
    uint8_t hash_key[IMC_SIPHASH_KEY_BYTES];
    size_t capacity, used;
    uint64_t ttl_ms, max_skew_ms;
    uint8_t own_handle[IMC_MAX_HANDLE_BYTES];
    size_t own_handle_len;
    uint64_t own_device_id;
    uint64_t global_epoch; /* the highest seen */
    uint64_t generation;
    size_t index_mask;
    uint32_t *index; /* slot number + 1; 0 = empty */
    slot *slots;
    imc_dir_entry scratch; /* apply's parsed entry */
};

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static bool same_handle(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    return a_len == b_len && memcmp(a, b, a_len) == 0;
}

static bool is_own(const imc_dircache *c, const uint8_t *h, size_t len)
{
    return c->own_handle_len != 0 && same_handle(h, len, c->own_handle, c->own_handle_len);
}

/* ---- Index -------------------------------------------------------------- */

/* The index cell holding handle, or the empty cell where it would go. */
static size_t index_find(const imc_dircache *c, uint64_t hash, const uint8_t *h, size_t len)
{
    size_t i = (size_t)hash & c->index_mask;
    while (c->index[i] != 0) {
        const slot *s = &c->slots[c->index[i] - 1];
        if (s->hash == hash && same_handle(s->rec.handle, s->rec.handle_len, h, len))
            break;
        i = (i + 1) & c->index_mask;
    }
    return i;
}

static slot *find_slot(const imc_dircache *c, const uint8_t *h, size_t len)
{
    uint64_t hash = imc_siphash24(c->hash_key, h, len);
    uint32_t at = c->index[index_find(c, hash, h, len)];
    return at != 0 ? &c->slots[at - 1] : NULL;
}

/* Empties cell i and shifts later cells of the probe run back. */
static void index_remove(imc_dircache *c, size_t i)
{
    size_t j = i;
    for (;;) {
        c->index[i] = 0;
        for (;;) {
            j = (j + 1) & c->index_mask;
            if (c->index[j] == 0)
                return;
            size_t k = (size_t)c->slots[c->index[j] - 1].hash & c->index_mask;
            /* Leave it if its home k lies cyclically in (i, j]. */
            bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays)
                break;
        }
        c->index[i] = c->index[j];
        i = j;
    }
}

/* ---- Set-up ------------------------------------------------------------- */

imc_status imc_dircache_new(imc_dircache **out, const imc_backend *b,
                            const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                            const imc_dircache_options *opt)
{
    if (out == NULL)
        return IMC_ERR_ARG;
    *out = NULL;
    if (b == NULL || dir_pk == NULL)
        return IMC_ERR_ARG;
    imc_dircache_options o = {0};
    if (opt != NULL)
        o = *opt;
    if (o.capacity > MAX_CAPACITY)
        return IMC_ERR_LIMIT;
    if (o.own_handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_LIMIT;
    if (o.own_handle != NULL &&
        (!imc_dir_handle_valid(o.own_handle, o.own_handle_len) || o.own_device_id == 0))
        return IMC_ERR_ARG;
    imc_dircache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return IMC_ERR_NOMEM;
    c->b = b;
    memcpy(c->dir_pk, dir_pk, IMC_DIR_PUBLIC_BYTES);
    c->capacity = o.capacity != 0 ? o.capacity : DEFAULT_CAPACITY;
    c->ttl_ms = o.ttl_ms != 0 ? o.ttl_ms : DEFAULT_TTL_MS;
    c->max_skew_ms = o.max_skew_ms != 0 ? o.max_skew_ms : DEFAULT_SKEW_MS;
    if (o.own_handle != NULL) {
        memcpy(c->own_handle, o.own_handle, o.own_handle_len);
        c->own_handle_len = o.own_handle_len;
        c->own_device_id = o.own_device_id;
    }
    size_t cells = 16;
    while (cells < 2 * c->capacity)
        cells *= 2;
    c->index_mask = cells - 1;
    c->index = calloc(cells, sizeof *c->index);
    c->slots = calloc(c->capacity, sizeof *c->slots);
    imc_status st = c->index != NULL && c->slots != NULL ? IMC_OK : IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_crypto_random(b, c->hash_key, sizeof c->hash_key);
    if (st != IMC_OK) {
        imc_dircache_free(c);
        return st;
    }
    *out = c;
    return IMC_OK;
}

void imc_dircache_free(imc_dircache *c)
{
    if (c == NULL)
        return;
    free(c->index);
    free(c->slots);
    imc_wipe(c, sizeof *c);
    free(c);
}

/* ---- Diffs -------------------------------------------------------------- */

static bool records_equal(const imc_dir_record *a, const imc_dir_record *b)
{
    if (a->device_count != b->device_count)
        return false;
    for (size_t i = 0; i < a->device_count; i++)
        if (!imc_dir_device_equal(&a->devices[i], &b->devices[i]))
            return false;
    return true;
}

/* Walks two sorted device lists and reports (to out, if not NULL) or
 * counts the changes from old to new. */
static size_t diff_records(imc_dir_change *out, size_t entry, const imc_dir_record *old,
                           const imc_dir_record *new_rec)
{
    size_t i = 0, j = 0, n = 0;
    while (i < old->device_count || j < new_rec->device_count) {
        imc_dir_change ch = {entry, 0, IMC_DIR_DEVICE_ADDED};
        if (j == new_rec->device_count ||
            (i < old->device_count && old->devices[i].device_id < new_rec->devices[j].device_id)) {
            ch.device_id = old->devices[i++].device_id;
            ch.kind = IMC_DIR_DEVICE_REMOVED;
        } else if (i == old->device_count ||
                   new_rec->devices[j].device_id < old->devices[i].device_id) {
            ch.device_id = new_rec->devices[j++].device_id;
        } else {
            bool same = imc_dir_device_equal(&old->devices[i], &new_rec->devices[j]);
            ch.device_id = old->devices[i].device_id;
            ch.kind = IMC_DIR_DEVICE_CHANGED;
            i++;
            j++;
            if (same)
                continue;
        }
        if (out != NULL)
            out[n] = ch;
        n++;
    }
    return n;
}

/* ---- Apply -------------------------------------------------------------- */

typedef struct apply_plan {
    size_t changes;
    size_t new_handles;
    size_t existing;  /* cached handles the response updates */
    bool own_in_resp; /* the own handle is cached and in the response */
} apply_plan;

static const imc_dir_record EMPTY_RECORD;

/* Pass 1: verifies and checks one entry against the cache. */
static imc_status plan_entry(apply_plan *p, const imc_dircache *c, const imc_dir_entry *e)
{
    if (imc_dir_entry_verify(c->b, c->dir_pk, e) != IMC_OK)
        return IMC_ERR_AUTH;
    const slot *s = find_slot(c, e->rec.handle, e->rec.handle_len);
    if (s == NULL) {
        p->new_handles++;
        p->changes += diff_records(NULL, 0, &EMPTY_RECORD, &e->rec);
        return IMC_OK;
    }
    if (e->rec.epoch < s->rec.epoch)
        return IMC_ERR_STALE;
    if (e->rec.epoch == s->rec.epoch && !records_equal(&e->rec, &s->rec))
        return IMC_ERR_AUTH; /* two signed lists for one epoch */
    p->existing++;
    p->own_in_resp |= is_own(c, e->rec.handle, e->rec.handle_len);
    p->changes += diff_records(NULL, 0, &s->rec, &e->rec);
    return IMC_OK;
}

/* A slot for a new handle: a free one, else the one that expires first
 * among those not written by this apply and not the own handle. */
static slot *take_slot(imc_dircache *c)
{
    slot *victim = NULL;
    for (size_t i = 0; i < c->capacity; i++) {
        slot *s = &c->slots[i];
        if (!s->used)
            return s;
        if (s->touched != c->generation && !is_own(c, s->rec.handle, s->rec.handle_len) &&
            (victim == NULL || s->issued_ms < victim->issued_ms))
            victim = s;
    }
    if (victim != NULL) {
        index_remove(c, index_find(c, victim->hash, victim->rec.handle, victim->rec.handle_len));
        memset(victim, 0, sizeof *victim);
        c->used--;
    }
    return victim;
}

/* Pass 2: writes one entry; returns the number of changes written. */
static size_t commit_entry(imc_dircache *c, imc_dir_change *changes, size_t entry,
                           const imc_dir_entry *e)
{
    uint64_t hash = imc_siphash24(c->hash_key, e->rec.handle, e->rec.handle_len);
    size_t cell = index_find(c, hash, e->rec.handle, e->rec.handle_len);
    slot *s = c->index[cell] != 0 ? &c->slots[c->index[cell] - 1] : NULL;
    size_t n;
    if (s == NULL) {
        s = take_slot(c); /* planned: never NULL */
        n = diff_records(changes, entry, &EMPTY_RECORD, &e->rec);
        s->used = true;
        s->hash = hash;
        c->used++;
        /* take_slot may have shifted the index: find the cell again. */
        c->index[index_find(c, hash, e->rec.handle, e->rec.handle_len)] =
            (uint32_t)(s - c->slots) + 1;
    } else {
        n = diff_records(changes, entry, &s->rec, &e->rec);
    }
    if (s->issued_ms < e->issued_ms || s->rec.epoch != e->rec.epoch || n != 0)
        s->issued_ms = e->issued_ms;
    s->global_epoch = e->global_epoch > s->global_epoch ? e->global_epoch : s->global_epoch;
    s->touched = c->generation;
    s->rec = e->rec;
    return n;
}

static imc_status check_time(const imc_dircache *c, const imc_dir_response *r, uint64_t now_ms)
{
    if (r->issued_ms > sat_add(now_ms, c->max_skew_ms))
        return IMC_ERR_STALE;
    if (sat_add(r->issued_ms, c->ttl_ms) <= now_ms)
        return IMC_ERR_STALE;
    return r->global_epoch < c->global_epoch ? IMC_ERR_STALE : IMC_OK;
}

imc_status imc_dircache_apply(imc_dircache *c, imc_dir_change *changes, size_t changes_cap,
                              size_t *change_count, uint64_t now_ms, const uint8_t *resp,
                              size_t resp_len)
{
    if (change_count != NULL)
        *change_count = 0;
    if (c == NULL)
        return IMC_ERR_ARG;
    imc_dir_response r;
    imc_status st = imc_dir_parse_response(&r, resp, resp_len);
    if (st == IMC_OK)
        st = check_time(c, &r, now_ms);
    if (st != IMC_OK)
        return st;
    imc_dir_entry *e = &c->scratch;
    apply_plan p = {0, 0, 0, false};
    size_t off = 0;
    for (size_t i = 0; i < r.count && st == IMC_OK; i++) {
        st = imc_dir_response_next(e, &off, &r);
        if (st == IMC_OK)
            st = plan_entry(&p, c, e);
    }
    size_t own_cached =
        c->own_handle_len != 0 && find_slot(c, c->own_handle, c->own_handle_len) != NULL;
    size_t evictable = c->used - p.existing - (own_cached && !p.own_in_resp ? 1 : 0);
    if (st == IMC_OK && changes != NULL && p.changes > changes_cap)
        st = IMC_ERR_NO_SPACE;
    if (st == IMC_OK && p.new_handles > c->capacity - c->used + evictable)
        st = IMC_ERR_LIMIT;
    if (st == IMC_OK) {
        c->generation++;
        /* Every handle of the response already cached is kept: mark them
         * all before a new handle picks a victim (else a handle later in
         * the response could be evicted, then re-added with its removals
         * lost, or leave no slot at all). */
        off = 0;
        for (size_t i = 0; i < r.count; i++) {
            if (imc_dir_response_next(e, &off, &r) != IMC_OK)
                break; /* cannot happen: the same bytes parsed in pass 1 */
            slot *s = find_slot(c, e->rec.handle, e->rec.handle_len);
            if (s != NULL)
                s->touched = c->generation;
        }
        size_t n = 0;
        off = 0;
        for (size_t i = 0; i < r.count; i++) {
            if (imc_dir_response_next(e, &off, &r) != IMC_OK)
                break; /* cannot happen: the same bytes parsed in pass 1 */
            n += commit_entry(c, changes != NULL ? changes + n : NULL, i, e);
        }
        if (r.global_epoch > c->global_epoch)
            c->global_epoch = r.global_epoch;
        if (change_count != NULL)
            *change_count = changes != NULL ? n : p.changes;
    }
    imc_wipe(e, sizeof *e);
    return st;
}

/* ---- Reading ------------------------------------------------------------ */

static imc_status fresh_slot(const slot **out, const imc_dircache *c, uint64_t now_ms,
                             const uint8_t *handle, size_t handle_len)
{
    *out = NULL;
    if (handle == NULL || handle_len == 0 || handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_NOT_FOUND;
    const slot *s = find_slot(c, handle, handle_len);
    if (s == NULL)
        return IMC_ERR_NOT_FOUND;
    if (sat_add(s->issued_ms, c->ttl_ms) <= now_ms)
        return IMC_ERR_STALE;
    *out = s;
    return IMC_OK;
}

imc_status imc_dircache_get(const imc_dir_record **rec, const imc_dircache *c, uint64_t now_ms,
                            const uint8_t *handle, size_t handle_len)
{
    if (rec == NULL || c == NULL)
        return IMC_ERR_ARG;
    const slot *s = NULL;
    imc_status st = fresh_slot(&s, c, now_ms, handle, handle_len);
    *rec = st == IMC_OK ? &s->rec : NULL;
    return st;
}

static int cmp_device_id(const void *a, const void *b)
{
    uint64_t x = ((const imc_device_public *)a)->device_id;
    uint64_t y = ((const imc_device_public *)b)->device_id;
    return x < y ? -1 : x > y;
}

/* The fresh record for own handle: it must list this device. */
static imc_status own_record(const slot **s, const imc_dircache *c, uint64_t now_ms)
{
    imc_status st = fresh_slot(s, c, now_ms, c->own_handle, c->own_handle_len);
    if (st == IMC_OK && imc_dir_record_find(&(*s)->rec, c->own_device_id) < 0)
        st = IMC_ERR_NOT_FOUND;
    return st;
}

/* Appends the devices of rec (but this device) to out. */
static imc_status add_devices(imc_device_public *out, size_t out_cap, size_t *count,
                              const imc_dircache *c, const imc_dir_record *rec, uint32_t suite)
{
    for (size_t i = 0; i < rec->device_count; i++) {
        const imc_device_public *d = &rec->devices[i];
        if (d->device_id == c->own_device_id && c->own_handle_len != 0)
            continue;
        if (d->suite != suite)
            return IMC_ERR_UNSUPPORTED;
        if (*count == IMC_MAX_RECIPIENTS)
            return IMC_ERR_LIMIT;
        if (*count == out_cap)
            return IMC_ERR_NO_SPACE;
        out[(*count)++] = *d;
    }
    return IMC_OK;
}

static bool repeated(const imc_dir_handle *to, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (same_handle(to[j].bytes, to[j].len, to[i].bytes, to[i].len))
            return true;
    return false;
}

imc_status imc_dircache_recipients(imc_device_public *out, size_t out_cap, size_t *count,
                                   size_t *bad, const imc_dircache *c, uint64_t now_ms,
                                   uint32_t suite, const imc_dir_handle *to, size_t n)
{
    size_t bad_local = 0;
    if (bad == NULL)
        bad = &bad_local;
    *bad = SIZE_MAX;
    if (count == NULL || c == NULL || (out == NULL && out_cap != 0) || (to == NULL && n != 0))
        return IMC_ERR_ARG;
    *count = 0;
    imc_status st = IMC_OK;
    for (size_t i = 0; i <= n && st == IMC_OK; i++) {
        const slot *s = NULL;
        if (i == n) {
            if (c->own_handle_len == 0)
                break;
            st = own_record(&s, c, now_ms);
        } else {
            if (is_own(c, to[i].bytes, to[i].len) || repeated(to, i))
                continue;
            st = fresh_slot(&s, c, now_ms, to[i].bytes, to[i].len);
            if (st == IMC_OK && s->rec.device_count == 0)
                st = IMC_ERR_NOT_FOUND;
        }
        if (st == IMC_OK)
            st = add_devices(out, out_cap, count, c, &s->rec, suite);
        if (st != IMC_OK)
            *bad = i;
    }
    if (st == IMC_OK && *count > 1) {
        qsort(out, *count, sizeof *out, cmp_device_id);
        for (size_t i = 1; i < *count && st == IMC_OK; i++)
            if (out[i].device_id == out[i - 1].device_id)
                st = IMC_ERR_MALFORMED; /* one device under two handles */
    }
    if (st != IMC_OK) {
        if (out != NULL)
            imc_wipe(out, *count * sizeof *out);
        *count = 0;
    }
    return st;
}

imc_status imc_dircache_prepare_send(imc_msg_send *req, imc_device_public *devs, size_t devs_cap,
                                     size_t *bad, const imc_dircache *c, uint64_t now_ms,
                                     const imc_device_keys *sender, const imc_dir_handle *to,
                                     size_t n)
{
    if (req == NULL)
        return IMC_ERR_ARG;
    memset(req, 0, sizeof *req);
    if (c == NULL || sender == NULL || c->own_handle_len == 0 ||
        sender->pub.device_id != c->own_device_id)
        return IMC_ERR_ARG;
    const slot *own = NULL;
    imc_status st = own_record(&own, c, now_ms);
    if (st == IMC_OK) {
        long at = imc_dir_record_find(&own->rec, c->own_device_id);
        if (!imc_dir_device_equal(&own->rec.devices[at], &sender->pub))
            st = IMC_ERR_STALE;
    }
    if (st != IMC_OK) {
        if (bad != NULL)
            *bad = n;
        return st;
    }
    size_t count = 0;
    st = imc_dircache_recipients(devs, devs_cap, &count, bad, c, now_ms, sender->pub.suite, to, n);
    if (st == IMC_OK && count == 0)
        st = IMC_ERR_NOT_FOUND;
    if (st != IMC_OK)
        return st;
    req->sender_handle = c->own_handle;
    req->sender_handle_len = c->own_handle_len;
    req->sender = sender;
    req->recipients = devs;
    req->recipient_count = count;
    return IMC_OK;
}

imc_status imc_dircache_peer(imc_msg_peer *peer, const imc_dircache *c, uint64_t now_ms,
                             const uint8_t *handle, size_t handle_len, uint64_t device_id)
{
    if (peer == NULL || c == NULL)
        return IMC_ERR_ARG;
    memset(peer, 0, sizeof *peer);
    const slot *s = NULL;
    imc_status st = fresh_slot(&s, c, now_ms, handle, handle_len);
    if (st != IMC_OK)
        return st;
    long at = imc_dir_record_find(&s->rec, device_id);
    if (at < 0)
        return IMC_ERR_NOT_FOUND;
    peer->handle = s->rec.handle;
    peer->handle_len = s->rec.handle_len;
    peer->device = &s->rec.devices[at];
    return IMC_OK;
}

/* ---- Compare ------------------------------------------------------------ */

typedef struct mismatch_out {
    imc_dir_mismatch *out;
    size_t cap, count;
} mismatch_out;

static void report(mismatch_out *m, size_t handle, uint64_t id, imc_dir_mismatch_kind kind)
{
    if (m->count < m->cap) {
        m->out[m->count].handle = handle;
        m->out[m->count].device_id = id;
        m->out[m->count].kind = kind;
    }
    m->count++;
}

/* The records to compare against: slots[i] for to[i] (NULL for a repeat
 * or the own handle among them), slots[n] for the own handle. */
static imc_status expected_records(const slot **slots, const imc_dircache *c, uint64_t now_ms,
                                   const imc_dir_handle *to, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        slots[i] = NULL;
        if (is_own(c, to[i].bytes, to[i].len) || repeated(to, i))
            continue;
        imc_status st = fresh_slot(&slots[i], c, now_ms, to[i].bytes, to[i].len);
        if (st != IMC_OK)
            return st;
    }
    slots[n] = NULL;
    if (c->own_handle_len == 0)
        return IMC_OK;
    return fresh_slot(&slots[n], c, now_ms, c->own_handle, c->own_handle_len);
}

static bool is_self(const imc_dircache *c, uint64_t id)
{
    return c->own_handle_len != 0 && id == c->own_device_id;
}

imc_status imc_dircache_compare(imc_dir_mismatch *out, size_t out_cap, size_t *count,
                                const imc_dircache *c, uint64_t now_ms, const imc_dir_handle *to,
                                size_t n, const imc_device_public *list, size_t list_len)
{
    if (count == NULL)
        return IMC_ERR_ARG;
    *count = 0;
    if (c == NULL || (out == NULL && out_cap != 0) || (to == NULL && n != 0) ||
        (list == NULL && list_len != 0))
        return IMC_ERR_ARG;
    if (n > IMC_DIR_MAX_BATCH)
        return IMC_ERR_LIMIT;
    const slot *slots[IMC_DIR_MAX_BATCH + 1];
    imc_status st = expected_records(slots, c, now_ms, to, n);
    if (st != IMC_OK)
        return st;
    mismatch_out m = {out, out_cap, 0};
    /* Every listed device: extra (unknown, this device, or a repeat) or
     * stale (other keys). */
    for (size_t k = 0; k < list_len; k++) {
        uint64_t id = list[k].device_id;
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = list[j].device_id == id;
        size_t where = SIZE_MAX;
        long at = -1;
        for (size_t i = 0; i <= n && at < 0 && !dup && !is_self(c, id); i++) {
            if (slots[i] != NULL && (at = imc_dir_record_find(&slots[i]->rec, id)) >= 0)
                where = i;
        }
        if (at < 0)
            report(&m, SIZE_MAX, id, IMC_DIR_DEVICE_EXTRA);
        else if (!imc_dir_device_equal(&slots[where]->rec.devices[at], &list[k]))
            report(&m, where, id, IMC_DIR_DEVICE_STALE);
    }
    /* Every device the directory lists: missing if not in the list. */
    for (size_t i = 0; i <= n; i++) {
        for (size_t d = 0; slots[i] != NULL && d < slots[i]->rec.device_count; d++) {
            uint64_t id = slots[i]->rec.devices[d].device_id;
            bool found = is_self(c, id);
            for (size_t k = 0; k < list_len && !found; k++)
                found = list[k].device_id == id;
            if (!found)
                report(&m, i, id, IMC_DIR_DEVICE_MISSING);
        }
    }
    *count = m.count;
    return m.count > out_cap ? IMC_ERR_NO_SPACE : IMC_OK;
}

/* ---- Inspection ----------------------------------------------------------- */

uint64_t imc_dircache_global_epoch(const imc_dircache *c)
{
    return c != NULL ? c->global_epoch : 0;
}

size_t imc_dircache_count(const imc_dircache *c) { return c != NULL ? c->used : 0; }

static int cmp_hash(const void *a, const void *b) { return memcmp(a, b, IMC_SHA256_BYTES); }

/* Per slot: SHA-256(handle || global epoch || issued || stored record); the
 * sorted hashes and the cache's global epoch are hashed together. */
#define DIGEST_ITEM_MAX (1 + IMC_MAX_HANDLE_BYTES + 16 + IMC_DIR_RECORD_MAX_BYTES)

imc_status imc_dircache_digest(uint8_t out[IMC_SHA256_BYTES], const imc_dircache *c)
{
    if (out == NULL || c == NULL)
        return IMC_ERR_ARG;
    uint8_t *hashes = calloc(c->used + 1, IMC_SHA256_BYTES);
    uint8_t *item = malloc(DIGEST_ITEM_MAX + IMC_DIR_RECORD_MAX_BYTES);
    imc_status st = hashes != NULL && item != NULL ? IMC_OK : IMC_ERR_NOMEM;
    uint8_t *rec = item + DIGEST_ITEM_MAX;
    size_t k = 0;
    for (size_t i = 0; i < c->capacity && st == IMC_OK; i++) {
        const slot *s = &c->slots[i];
        if (!s->used)
            continue;
        size_t len = 0, rec_len = 0;
        st = imc_dir_encode_record(rec, IMC_DIR_RECORD_MAX_BYTES, &rec_len, &s->rec);
        imc_writer w;
        imc_wire_writer_init(&w, item, DIGEST_ITEM_MAX);
        imc_dir_put_handle(&w, s->rec.handle, s->rec.handle_len);
        imc_wire_write_u64(&w, s->global_epoch);
        imc_wire_write_u64(&w, s->issued_ms);
        imc_wire_write_bytes(&w, rec, rec_len);
        if (st == IMC_OK)
            st = imc_wire_writer_finish(&w, &len);
        if (st == IMC_OK)
            st = imc_crypto_sha256(c->b, hashes + k++ * IMC_SHA256_BYTES, item, len);
    }
    if (st == IMC_OK) {
        qsort(hashes, k, IMC_SHA256_BYTES, cmp_hash);
        imc_dir_store_be64(hashes + k * IMC_SHA256_BYTES, c->global_epoch);
        st = imc_crypto_sha256(c->b, out, hashes, k * IMC_SHA256_BYTES + 8);
    }
    free(hashes);
    free(item);
    return st;
}
