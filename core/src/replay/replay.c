/* The replay state's logic (imcore/replay.h, docs/replay.md).
 *
 * Per sender device: a window of up to W (keyed hash of message id,
 * timestamp) entries and a floor; a timestamp at or below the floor is
 * refused. The floor rises only (a) to the timestamp of an entry dropped
 * because it is older than now - max_age, which the time rule refuses
 * anyway, or (b) when the window is full, to the lowest timestamp among
 * the W + 1 candidates (the window and the new message), which is then
 * forgotten: so a forgotten id is always at or below the floor (P2), and a
 * floor only moves past a message after W messages of the SAME sender with
 * timestamps at or above it were accepted (P3). Senders never share a
 * window or a floor (P1).
 *
 * Senders are found through an open-addressing index on their 128-bit
 * keyed tag; message ids are stored as 64-bit keyed hashes. The key is
 * secret and local to the device, so no sender can choose values that
 * collide. A full sender table reclaims a sender whose newest accepted
 * message is older than now - max_age, raising the global floor to that
 * timestamp (below every message the time rule still lets through); if
 * there is none, the new sender is refused (IMC_ERR_LIMIT) and existing
 * senders are untouched (P4).
 *
 * accept builds the sender's new record aside, commits it to the file and
 * only then changes memory, so a failed commit changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "imcore/msg.h"
#include "imcore/util.h"
#include "imcore/wire.h"
#include "replay/replay_impl.h"

typedef struct rp_entry {
    uint64_t idh; /* keyed hash of the message id */
    uint64_t ts;
} rp_entry;

typedef struct rp_sender {
    uint8_t tag[IMC_REPLAY_TAG_BYTES];
    uint64_t floor;  /* every timestamp at or below is refused */
    uint64_t newest; /* highest accepted timestamp */
    uint32_t count;  /* window entries in use */
} rp_sender;

struct imc_replay {
    imc_replay_config cfg; /* resolved: no zero field */
    uint8_t key[IMC_SIPHASH_KEY_BYTES];
    uint64_t global_floor; /* raised by reclaiming a sender */
    uint32_t used;         /* senders in use: slots 0..used-1 */
    uint32_t hand;         /* where the next reclaim search starts */
    uint32_t index_mask;
    rp_sender *sender;     /* cfg.max_senders */
    rp_entry *entry;       /* sender i's window at i * cfg.window */
    uint32_t *index;       /* index_mask + 1 slots: sender slot + 1, 0 empty */
    rp_entry *scratch;     /* cfg.window: a record being built */
    uint8_t *rec;          /* its encoding */
    size_t bytes;          /* allocated by open */
    imc_replay_db *db;     /* NULL: memory only */
};

#define REC_HEAD 16u  /* floor, newest */
#define REC_ENTRY 16u /* id hash, timestamp */

/* ---- Configuration and the time rule ------------------------------------- */

static imc_replay_config resolve(const imc_replay_config *cfg)
{
    imc_replay_config c = {0, 0, 0, 0};
    if (cfg != NULL)
        c = *cfg;
    if (c.max_age_ms == 0)
        c.max_age_ms = IMC_MAX_MESSAGE_AGE_MS;
    if (c.max_skew_ms == 0)
        c.max_skew_ms = IMC_MAX_CLOCK_SKEW_MS;
    if (c.max_senders == 0)
        c.max_senders = IMC_REPLAY_MAX_SENDERS;
    if (c.window == 0)
        c.window = IMC_REPLAY_WINDOW;
    return c;
}

/* Timestamps below this are expired (0: none yet). */
static uint64_t expiry_line(uint64_t now_ms, uint64_t max_age_ms)
{
    return now_ms > max_age_ms ? now_ms - max_age_ms : 0;
}

imc_status imc_replay_time_check(uint64_t ts_ms, uint64_t now_ms, const imc_replay_config *cfg)
{
    imc_replay_config c = resolve(cfg);
    if (ts_ms > now_ms && ts_ms - now_ms > c.max_skew_ms)
        return IMC_ERR_STALE;
    if (ts_ms < expiry_line(now_ms, c.max_age_ms))
        return IMC_ERR_EXPIRED;
    return IMC_OK;
}

/* ---- Keyed hashes and the sender index ----------------------------------- */

enum { DOM_TAG_LO = 1, DOM_TAG_HI = 2, DOM_ID = 3 };

static void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The sender's identity (domain byte, handle length, handle, device id
 * big-endian) under the key, twice with different domain bytes. */
static void sender_tag(uint8_t tag[IMC_REPLAY_TAG_BYTES], const uint8_t *key,
                       const imc_replay_msg *m)
{
    uint8_t in[2 + IMC_MAX_HANDLE_BYTES + 8];
    size_t n = 0;
    in[n++] = DOM_TAG_LO;
    in[n++] = (uint8_t)m->sender_handle_len;
    memcpy(in + n, m->sender_handle, m->sender_handle_len);
    n += m->sender_handle_len;
    for (unsigned i = 0; i < 8; i++)
        in[n++] = (uint8_t)(m->sender_device >> (56 - 8 * i));
    put_le64(tag, imc_siphash24(key, in, n));
    in[0] = DOM_TAG_HI;
    put_le64(tag + 8, imc_siphash24(key, in, n));
}

static uint64_t id_hash(const uint8_t *key, const uint8_t id[IMC_MSG_ID_BYTES])
{
    uint8_t in[1 + IMC_MSG_ID_BYTES];
    in[0] = DOM_ID;
    memcpy(in + 1, id, IMC_MSG_ID_BYTES);
    return imc_siphash24(key, in, sizeof in);
}

static uint32_t home(const imc_replay *r, const uint8_t tag[IMC_REPLAY_TAG_BYTES])
{
    return (uint32_t)get_le64(tag) & r->index_mask;
}

/* The index position holding tag, or the empty position where it would go. */
static uint32_t index_pos(const imc_replay *r, const uint8_t tag[IMC_REPLAY_TAG_BYTES])
{
    uint32_t i = home(r, tag);
    while (r->index[i] != 0 &&
           memcmp(r->sender[r->index[i] - 1].tag, tag, IMC_REPLAY_TAG_BYTES) != 0)
        i = (i + 1) & r->index_mask;
    return i;
}

/* Deletion in linear probing without tombstones: shift back every later
 * member of the cluster that may not be left behind the hole (Knuth 6.4,
 * algorithm R). */
static void index_remove(imc_replay *r, uint32_t i)
{
    uint32_t j = i;
    r->index[i] = 0;
    for (;;) {
        j = (j + 1) & r->index_mask;
        if (r->index[j] == 0)
            return;
        uint32_t k = home(r, r->sender[r->index[j] - 1].tag);
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            r->index[i] = r->index[j];
            r->index[j] = 0;
            i = j;
        }
    }
}

/* ---- Windows --------------------------------------------------------------- */

/* Adds (idh, ts) to a window of *count entries (at most window), raising
 * *floor as the rules at the top say. Entries below `expired` are dropped
 * first. */
static void window_add(rp_entry *e, uint32_t *count, uint32_t window, uint64_t *floor,
                       uint64_t expired, uint64_t idh, uint64_t ts)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < *count; i++) {
        if (e[i].ts < expired) {
            if (e[i].ts > *floor)
                *floor = e[i].ts;
        } else {
            e[n++] = e[i];
        }
    }
    *count = n;
    if (n < window) {
        e[n].idh = idh;
        e[n].ts = ts;
        *count = n + 1;
        return;
    }
    uint32_t low = 0;
    for (uint32_t i = 1; i < n; i++)
        if (e[i].ts < e[low].ts)
            low = i;
    /* Forget the lowest of the window and the new message. */
    uint64_t forgotten = ts;
    if (e[low].ts < ts) {
        forgotten = e[low].ts;
        e[low].idh = idh;
        e[low].ts = ts;
    }
    if (forgotten > *floor)
        *floor = forgotten;
}

/* ---- Records (the file's per-sender values) -------------------------------- */

static size_t record_encode(uint8_t *out, const rp_sender *s, const rp_entry *e)
{
    imc_writer w;
    size_t len = 0;
    imc_wire_writer_init(&w, out, REC_HEAD + (size_t)s->count * REC_ENTRY);
    imc_wire_write_u64(&w, s->floor);
    imc_wire_write_u64(&w, s->newest);
    for (uint32_t i = 0; i < s->count; i++) {
        imc_wire_write_u64(&w, e[i].idh);
        imc_wire_write_u64(&w, e[i].ts);
    }
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

/* Parses a stored record into sender slot `slot` (strict: every entry
 * above the floor and not above the newest timestamp, the floor not above
 * it either, no trailing bytes). A record with more entries than this
 * state's window (opened with a smaller one) keeps the newest and raises
 * the floor, as accept would have. */
static imc_status record_adopt(imc_replay *r, uint32_t slot, const uint8_t *rec, size_t len)
{
    rp_sender *s = &r->sender[slot];
    rp_entry *e = &r->entry[(size_t)slot * r->cfg.window];
    imc_reader rd;
    imc_wire_reader_init(&rd, rec, len);
    s->floor = imc_wire_read_u64(&rd);
    s->newest = imc_wire_read_u64(&rd);
    s->count = 0;
    if (s->newest < s->floor || (len - REC_HEAD) % REC_ENTRY != 0)
        imc_wire_reader_fail(&rd);
    uint64_t floor = s->floor;
    while (imc_wire_remaining(&rd) != 0) {
        uint64_t idh = imc_wire_read_u64(&rd);
        uint64_t ts = imc_wire_read_u64(&rd);
        if (ts <= s->floor || ts > s->newest)
            imc_wire_reader_fail(&rd);
        window_add(e, &s->count, r->cfg.window, &floor, 0, idh, ts);
    }
    s->floor = floor;
    return imc_wire_reader_finish(&rd) == IMC_OK ? IMC_OK : IMC_ERR_MALFORMED;
}

static imc_status load_one(void *ctx, const uint8_t tag[IMC_REPLAY_TAG_BYTES],
                           const uint8_t *rec, size_t rec_len)
{
    imc_replay *r = ctx;
    if (r->used == r->cfg.max_senders)
        return IMC_ERR_LIMIT;
    uint32_t slot = r->used;
    memcpy(r->sender[slot].tag, tag, IMC_REPLAY_TAG_BYTES);
    imc_status st = record_adopt(r, slot, rec, rec_len);
    if (st != IMC_OK)
        return st;
    r->index[index_pos(r, tag)] = slot + 1;
    r->used++;
    return IMC_OK;
}

/* ---- Open and close ---------------------------------------------------------- */

static void *alloc(imc_replay *r, size_t n, size_t size)
{
    r->bytes += n * size;
    return calloc(n, size);
}

void imc_replay_close(imc_replay *r)
{
    if (r == NULL)
        return;
    imc_replay_db_close(r->db);
    imc_wipe(r->key, sizeof r->key);
    free(r->sender);
    free(r->entry);
    free(r->index);
    free(r->scratch);
    free(r->rec);
    free(r);
}

imc_status imc_replay_open(imc_replay **out, const char *dir, const imc_replay_config *cfg,
                           const imc_backend *b, imc_rng *rng)
{
    if (out == NULL)
        return IMC_ERR_ARG;
    *out = NULL;
    imc_replay_config c = resolve(cfg);
    if ((b == NULL && rng == NULL) || (dir != NULL && *dir == '\0') ||
        c.window > IMC_REPLAY_WINDOW_CAP || c.max_senders > IMC_REPLAY_SENDERS_CAP)
        return IMC_ERR_ARG;
    imc_replay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return IMC_ERR_NOMEM;
    r->bytes = sizeof *r;
    r->cfg = c;
    uint32_t slots = 2;
    while (slots < 2 * c.max_senders)
        slots *= 2;
    r->index_mask = slots - 1;
    r->sender = alloc(r, c.max_senders, sizeof *r->sender);
    r->entry = alloc(r, (size_t)c.max_senders * c.window, sizeof *r->entry);
    r->index = alloc(r, slots, sizeof *r->index);
    r->scratch = alloc(r, c.window, sizeof *r->scratch);
    r->rec = alloc(r, REC_HEAD + (size_t)c.window * REC_ENTRY, 1);
    imc_status st = IMC_OK;
    if (r->sender == NULL || r->entry == NULL || r->index == NULL || r->scratch == NULL ||
        r->rec == NULL)
        st = IMC_ERR_NOMEM;
    else if (dir == NULL)
        st = imc_rng_fill(rng, b, r->key, sizeof r->key);
    else
        st = imc_replay_db_open(&r->db, r->key, &r->global_floor, dir, b, rng);
    if (st == IMC_OK && r->db != NULL)
        st = imc_replay_db_scan(r->db, load_one, r);
    if (st != IMC_OK) {
        imc_replay_close(r);
        return st;
    }
    *out = r;
    return IMC_OK;
}

size_t imc_replay_memory(const imc_replay *r) { return r != NULL ? r->bytes : 0; }

/* ---- Check and accept ---------------------------------------------------------- */

typedef struct rp_plan {
    uint8_t tag[IMC_REPLAY_TAG_BYTES];
    uint64_t idh;
    uint32_t pos;  /* the tag's index position (found or empty) */
    bool found;    /* a known sender, at slot r->index[pos] - 1 */
    bool reclaim;  /* new sender: takes the slot of sender `victim` */
    uint32_t victim;
} rp_plan;

static bool msg_ok(const imc_replay_msg *m)
{
    return m != NULL && m->sender_handle != NULL && m->sender_handle_len != 0 &&
           m->sender_handle_len <= IMC_MAX_HANDLE_BYTES && m->message_id != NULL;
}

/* A sender whose newest accepted message is expired at now, searched
 * round-robin from where the last reclaim stopped (so reclaiming costs a
 * step or two while most senders are expired, the whole table only when
 * none is). */
static bool find_victim(const imc_replay *r, uint64_t now_ms, uint32_t *victim)
{
    uint64_t line = expiry_line(now_ms, r->cfg.max_age_ms);
    for (uint32_t k = 0; k < r->used; k++) {
        uint32_t i = (r->hand + k) % r->used;
        if (r->sender[i].newest < line) {
            *victim = i;
            return true;
        }
    }
    return false;
}

static imc_status decide(rp_plan *p, const imc_replay *r, const imc_replay_msg *m,
                         uint64_t now_ms)
{
    memset(p, 0, sizeof *p);
    if (r == NULL || !msg_ok(m))
        return IMC_ERR_ARG;
    imc_status st = imc_replay_time_check(m->timestamp_ms, now_ms, &r->cfg);
    if (st != IMC_OK)
        return st;
    if (m->timestamp_ms <= r->global_floor)
        return IMC_ERR_REPLAY;
    sender_tag(p->tag, r->key, m);
    p->idh = id_hash(r->key, m->message_id);
    p->pos = index_pos(r, p->tag);
    p->found = r->index[p->pos] != 0;
    if (!p->found) {
        if (r->used < r->cfg.max_senders)
            return IMC_OK;
        p->reclaim = find_victim(r, now_ms, &p->victim);
        return p->reclaim ? IMC_OK : IMC_ERR_LIMIT;
    }
    uint32_t slot = r->index[p->pos] - 1;
    const rp_sender *s = &r->sender[slot];
    if (m->timestamp_ms <= s->floor)
        return IMC_ERR_REPLAY;
    const rp_entry *e = &r->entry[(size_t)slot * r->cfg.window];
    for (uint32_t i = 0; i < s->count; i++)
        if (e[i].idh == p->idh)
            return IMC_ERR_REPLAY;
    return IMC_OK;
}

imc_status imc_replay_check(const imc_replay *r, const imc_replay_msg *m, uint64_t now_ms)
{
    rp_plan p;
    return decide(&p, r, m, now_ms);
}

imc_status imc_replay_accept(imc_replay *r, const imc_replay_msg *m, uint64_t now_ms)
{
    rp_plan p;
    imc_status st = decide(&p, r, m, now_ms);
    if (st != IMC_OK)
        return st;

    /* The sender's new record, built aside. */
    rp_sender s;
    memset(&s, 0, sizeof s);
    uint32_t slot = p.found ? r->index[p.pos] - 1 : p.reclaim ? p.victim : r->used;
    if (p.found) {
        s = r->sender[slot];
        memcpy(r->scratch, &r->entry[(size_t)slot * r->cfg.window],
               (size_t)s.count * sizeof *r->scratch);
    }
    memcpy(s.tag, p.tag, sizeof s.tag);
    window_add(r->scratch, &s.count, r->cfg.window, &s.floor,
               expiry_line(now_ms, r->cfg.max_age_ms), p.idh, m->timestamp_ms);
    if (m->timestamp_ms > s.newest)
        s.newest = m->timestamp_ms;
    uint64_t global_floor = r->global_floor;
    if (p.reclaim && r->sender[p.victim].newest > global_floor)
        global_floor = r->sender[p.victim].newest;

    if (r->db != NULL) {
        size_t len = record_encode(r->rec, &s, r->scratch);
        st = len != 0 ? imc_replay_db_commit(r->db, s.tag, r->rec, len,
                                             p.reclaim ? r->sender[p.victim].tag : NULL,
                                             global_floor)
                      : IMC_ERR_IO;
        if (st != IMC_OK)
            return st;
    }

    /* Committed: now memory. */
    if (p.reclaim) {
        index_remove(r, index_pos(r, r->sender[p.victim].tag));
        p.pos = index_pos(r, p.tag);
        r->hand = (p.victim + 1) % r->used;
    }
    r->sender[slot] = s;
    memcpy(&r->entry[(size_t)slot * r->cfg.window], r->scratch,
           (size_t)s.count * sizeof *r->scratch);
    r->global_floor = global_floor;
    if (!p.found) {
        r->index[p.pos] = slot + 1;
        if (!p.reclaim)
            r->used++;
    }
    return IMC_OK;
}
