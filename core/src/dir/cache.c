/* The client-side directory cache (imcore/dircache.h, docs/directory.md
 * "Client cache").
 *
 * Fixed capacity, allocated once: an array of slots (each a full record)
 * and an open-addressing index over them (linear probing, keyed SipHash,
 * at least twice as many index cells as slots, backward-shift deletion).
 *
 * apply runs in two passes over the response: the first parses, verifies
 * every signature and checks every epoch, decides each handle's pinned
 * account key, counts changes and new handles, and changes nothing in
 * memory (a persistent cache stages its writes in one LMDB transaction,
 * committed at the end of the pass); the second, which cannot fail,
 * writes memory.
 *
 * Persistent state (docs/directory.md, "Client state"): the directory
 * store interface on an LMDB file, its meta table ("format", "dir_pk",
 * "anchor"; with transparency "kt_config" and "kt_state"; "evidence";
 * "entry/" + handle: the last signed entry) and its handles table (handle
 * -> contact value). */
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/dircache.h"
#include "imcore/dirkt.h"
#include "imcore/util.h"
#include "kt/kt_impl.h"
#include "util/siphash.h"

#define DEFAULT_CAPACITY 256
#define DEFAULT_TTL_MS (24ULL * 3600 * 1000)
#define DEFAULT_SKEW_MS (5ULL * 60 * 1000)
#define MAX_CAPACITY ((size_t)1 << 24)

#define STATE_FORMAT 1
#define META_KEY(k) (const uint8_t *)(k), (sizeof(k) - 1)
#define ENTRY_PREFIX "entry/"
#define ENTRY_KEY_MAX (sizeof ENTRY_PREFIX - 1 + IMC_MAX_HANDLE_BYTES)
#define ONE_ENTRY_MAX IMC_DIR_RESPONSE_MAX_BYTES(1)
/* The name LIST evidence carries when no log is configured. */
#define DEFAULT_EVIDENCE_NAME "directory"

typedef struct slot {
    bool used;
    uint8_t pinned[IMC_DIR_ACCOUNT_PUBLIC_BYTES]; /* zero: no account key seen */
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
    uint64_t anchor_issued; /* issue time of the response that set global_epoch */
    imc_dir_store store;    /* persistent state, or ops == NULL */
    /* apply's decisions per entry: the pinned key and the account change. */
    struct {
        uint8_t pinned[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
        uint8_t account; /* 0 or an imc_dir_change_kind */
    } plan[IMC_DIR_MAX_BATCH];
    uint8_t contact[IMC_DIR_CONTACT_MAX_BYTES]; /* encoding buffer */
    imc_dir_contact staged;                     /* decoding / encoding scratch */
    /* Transparency (NULL: none) and its encoded configuration. */
    imc_kt_client *kt;
    uint8_t kt_config[IMC_KT_CONFIG_MAX_BYTES];
    size_t kt_config_len;
    imc_kt_key evidence_key; /* name and key that LIST evidence states */
    /* The first evidence kept; scratch for one signed entry. */
    uint8_t *evidence;
    size_t evidence_len;
    uint8_t *one_entry;
    bool conflict; /* apply's pass 1 met a second list for a cached version */
};

static bool is_zero_key(const uint8_t *k)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < IMC_DIR_ACCOUNT_PUBLIC_BYTES; i++)
        acc |= k[i];
    return acc == 0;
}

static bool pending(const slot *s)
{
    return s->rec.epoch != 0 &&
           memcmp(s->pinned, s->rec.account_pk, IMC_DIR_ACCOUNT_PUBLIC_BYTES) != 0;
}

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

/* ---- Persistent state ----------------------------------------------------- */

static imc_status put_contact(imc_dircache *c, void *txn, const uint8_t *pinned,
                              const imc_dir_record *rec, uint64_t global, uint64_t issued)
{
    size_t len = 0;
    imc_dir_contact *k = &c->staged;
    memcpy(k->pinned, pinned, sizeof k->pinned);
    k->global_epoch = global;
    k->issued_ms = issued;
    k->rec = *rec;
    imc_status st = imc_dir_encode_contact(c->contact, sizeof c->contact, &len, k);
    if (st == IMC_OK)
        st = c->store.ops->put(txn, IMC_DIR_TABLE_HANDLES, rec->handle, rec->handle_len,
                               c->contact, len);
    return st;
}

static imc_status put_anchor(imc_dircache *c, void *txn, uint64_t global, uint64_t issued)
{
    uint8_t v[16];
    imc_dir_store_be64(v, global);
    imc_dir_store_be64(v + 8, issued);
    return c->store.ops->put(txn, IMC_DIR_TABLE_META, META_KEY("anchor"), v, sizeof v);
}

/* ---- Transparency state and evidence (persistent part) ------------------ */

static imc_status kt_advance(imc_dircache *c, imc_kt_client *next, bool *evidence,
                             const uint8_t *note, size_t note_len, const uint8_t *proof,
                             size_t proof_len);

static size_t entry_key(uint8_t out[ENTRY_KEY_MAX], const uint8_t *h, size_t len)
{
    memcpy(out, ENTRY_PREFIX, sizeof ENTRY_PREFIX - 1);
    memcpy(out + sizeof ENTRY_PREFIX - 1, h, len);
    return sizeof ENTRY_PREFIX - 1 + len;
}

/* A verified entry as a lookup response of its own (self-contained, as
 * LIST evidence states it) in c->one_entry; its length, 0 if it does not fit. */
static size_t one_entry(imc_dircache *c, const imc_dir_entry *e)
{
    imc_writer w;
    size_t len = 0;
    imc_wire_writer_init(&w, c->one_entry, ONE_ENTRY_MAX);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_RESPONSE);
    imc_wire_write_u16(&w, 1);
    imc_wire_write_bytes(&w, e->body, e->body_len);
    imc_wire_write_bytes(&w, e->sig, IMC_DIR_SIGNATURE_BYTES);
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

/* The transparency state k (and, when `config`, the configuration). */
static imc_status put_kt(imc_dircache *c, void *txn, const imc_kt_client *k, bool config)
{
    uint8_t *buf = malloc(IMC_KT_CLIENT_STATE_MAX);
    size_t len = 0;
    imc_status st = buf != NULL ? imc_kt_client_save(buf, IMC_KT_CLIENT_STATE_MAX, &len, k)
                                : IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = c->store.ops->put(txn, IMC_DIR_TABLE_META, META_KEY("kt_state"), buf, len);
    if (st == IMC_OK && config)
        st = c->store.ops->put(txn, IMC_DIR_TABLE_META, META_KEY("kt_config"), c->kt_config,
                               c->kt_config_len);
    free(buf);
    return st;
}

/* Sets up c->kt from a configuration (given, or read from the file). */
static imc_status kt_setup(imc_dircache *c, const imc_kt_client_config *cfg)
{
    imc_status st = imc_kt_client_config_encode(c->kt_config, sizeof c->kt_config,
                                                &c->kt_config_len, cfg);
    if (st == IMC_OK && c->kt == NULL)
        c->kt = malloc(sizeof *c->kt);
    if (st == IMC_OK && c->kt == NULL)
        st = IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_kt_client_init(c->kt, c->b, cfg);
    if (st == IMC_OK)
        c->evidence_key = cfg->log;
    return st;
}

/* Reads the transparency configuration and state and the evidence of an
 * existing file. A configuration given to imc_dircache_new must be the
 * file's. */
static imc_status load_kt(imc_dircache *c, void *txn)
{
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st = c->store.ops->get(txn, IMC_DIR_TABLE_META, META_KEY("kt_config"), &v, &n);
    if (st == IMC_ERR_NOT_FOUND && c->kt != NULL)
        return IMC_ERR_AUTH; /* a state file without transparency */
    if (st == IMC_OK && c->kt != NULL &&
        (n != c->kt_config_len || memcmp(v, c->kt_config, n) != 0))
        return IMC_ERR_AUTH; /* configured with other keys */
    if (st == IMC_OK && c->kt == NULL) {
        imc_kt_client_config cfg;
        st = imc_kt_client_config_parse(&cfg, c->b, v, n);
        if (st == IMC_OK)
            st = kt_setup(c, &cfg);
        st = st == IMC_ERR_MALFORMED ? IMC_ERR_IO : st;
    }
    if (st == IMC_OK) {
        st = c->store.ops->get(txn, IMC_DIR_TABLE_META, META_KEY("kt_state"), &v, &n);
        if (st == IMC_OK && imc_kt_client_load(c->kt, v, n) != IMC_OK)
            st = IMC_ERR_IO;
        if (st != IMC_OK)
            return st == IMC_ERR_NOT_FOUND ? IMC_ERR_IO : st;
    } else if (st != IMC_ERR_NOT_FOUND) {
        return st;
    }
    st = c->store.ops->get(txn, IMC_DIR_TABLE_META, META_KEY("evidence"), &v, &n);
    if (st == IMC_ERR_NOT_FOUND)
        return IMC_OK;
    if (st == IMC_OK && (n > IMC_DIRCACHE_EVIDENCE_MAX_BYTES ||
                         imc_kt_evidence_verify(NULL, c->b, v, n) != IMC_OK))
        st = IMC_ERR_IO;
    if (st == IMC_OK) {
        memcpy(c->evidence, v, n);
        c->evidence_len = n;
    }
    return st;
}

/* apply met a second signed list for the cached version of e's handle:
 * the entry kept from before and e are LIST evidence, written on their own
 * (the apply itself was refused). Best effort: without a kept entry (a
 * state written before entries were kept) there is nothing to prove. */
static void keep_list_evidence(imc_dircache *c, const imc_dir_entry *e)
{
    uint8_t key[ENTRY_KEY_MAX];
    const uint8_t *old = NULL;
    size_t old_len = 0, len = 0;
    void *txn = NULL;
    size_t now_len = one_entry(c, e);
    if (now_len == 0 || c->store.ops->begin(c->store.self, true, &txn) != IMC_OK)
        return;
    imc_status st = c->store.ops->get(txn, IMC_DIR_TABLE_META, key,
                                      entry_key(key, e->rec.handle, e->rec.handle_len), &old,
                                      &old_len);
    uint8_t *ev = malloc(IMC_DIRCACHE_EVIDENCE_MAX_BYTES);
    if (st == IMC_OK)
        st = ev != NULL ? IMC_OK : IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_kt_evidence_encode(ev, IMC_DIRCACHE_EVIDENCE_MAX_BYTES, &len,
                                    IMC_KT_EVIDENCE_LIST, &c->evidence_key, old, old_len,
                                    c->one_entry, now_len, NULL, NULL);
    if (st == IMC_OK)
        st = imc_kt_evidence_verify(NULL, c->b, ev, len);
    if (st == IMC_OK)
        st = c->store.ops->put(txn, IMC_DIR_TABLE_META, META_KEY("evidence"), ev, len);
    if (st == IMC_OK && c->store.ops->commit(txn) == IMC_OK) {
        memcpy(c->evidence, ev, len);
        c->evidence_len = len;
    } else if (st != IMC_OK) {
        c->store.ops->abort(txn);
    }
    free(ev);
}

/* ---- Self-monitoring records ------------------------------------------------ */

#define SEEN_PREFIX "seen/"
#define FIRST_PREFIX "first/"
#define AUDIT_PREFIX "audit/"
#define MONITOR_KEY_MAX (6 + IMC_MAX_HANDLE_BYTES + 8)

/* prefix || handle (|| version, when `with_version`). */
static size_t monitor_key(uint8_t out[MONITOR_KEY_MAX], const char *prefix, const uint8_t *h,
                          size_t len, bool with_version, uint64_t version)
{
    size_t pl = strlen(prefix);
    memcpy(out, prefix, pl);
    memcpy(out + pl, h, len);
    if (with_version)
        imc_dir_store_be64(out + pl + len, version);
    return pl + len + (with_version ? 8 : 0);
}

/* Every verified list version a state applies: "seen/" handle version ->
 * SHA-256 of the list (what the log leaf commits to), and the first
 * version seen of each handle, where its first audit starts. */
static imc_status note_seen(imc_dircache *c, void *txn, const imc_dir_entry *e)
{
    uint8_t key[MONITOR_KEY_MAX], hash[IMC_SHA256_BYTES], v[8];
    const uint8_t *val = NULL;
    size_t vl = 0;
    const uint8_t *h = e->rec.handle;
    size_t hl = e->rec.handle_len;
    imc_status st = imc_crypto_sha256(c->b, hash, e->list, e->list_len);
    if (st == IMC_OK)
        st = c->store.ops->put(txn, IMC_DIR_TABLE_META, key,
                               monitor_key(key, SEEN_PREFIX, h, hl, true, e->rec.epoch), hash,
                               sizeof hash);
    size_t kl = monitor_key(key, FIRST_PREFIX, h, hl, false, 0);
    if (st == IMC_OK)
        st = c->store.ops->get(txn, IMC_DIR_TABLE_META, key, kl, &val, &vl);
    if (st == IMC_ERR_NOT_FOUND) {
        imc_dir_store_be64(v, e->rec.epoch);
        st = c->store.ops->put(txn, IMC_DIR_TABLE_META, key, kl, v, sizeof v);
    }
    return st;
}

static void index_insert(imc_dircache *c, slot *s)
{
    c->index[index_find(c, s->hash, s->rec.handle, s->rec.handle_len)] =
        (uint32_t)(s - c->slots) + 1;
}

typedef struct load_ctx {
    imc_dircache *c;
    imc_status st;
} load_ctx;

static int load_one(void *vctx, const uint8_t *key, size_t key_len, const uint8_t *val,
                    size_t val_len)
{
    load_ctx *l = vctx;
    imc_dircache *c = l->c;
    if (c->used == c->capacity) {
        l->st = IMC_ERR_LIMIT;
        return 1;
    }
    slot *s = &c->slots[c->used];
    imc_dir_contact *k = &c->staged;
    l->st = imc_dir_decode_contact(k, key, key_len, val, val_len);
    if (l->st != IMC_OK || find_slot(c, key, key_len) != NULL) {
        l->st = l->st != IMC_OK ? l->st : IMC_ERR_IO;
        return 1;
    }
    memcpy(s->pinned, k->pinned, sizeof s->pinned);
    s->global_epoch = k->global_epoch;
    s->issued_ms = k->issued_ms;
    s->rec = k->rec;
    s->used = true;
    s->hash = imc_siphash24(c->hash_key, key, key_len);
    index_insert(c, s);
    c->used++;
    return 0;
}

/* Reads the state file, or stamps an empty one with the directory key. */
static imc_status load_state(imc_dircache *c)
{
    void *txn = NULL;
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st = c->store.ops->begin(c->store.self, true, &txn);
    if (st != IMC_OK)
        return st;
    st = c->store.ops->get(txn, IMC_DIR_TABLE_META, META_KEY("format"), &v, &n);
    if (st == IMC_ERR_NOT_FOUND) {
        const uint8_t format = STATE_FORMAT;
        st = c->store.ops->put(txn, IMC_DIR_TABLE_META, META_KEY("format"), &format, 1);
        if (st == IMC_OK)
            st = c->store.ops->put(txn, IMC_DIR_TABLE_META, META_KEY("dir_pk"), c->dir_pk,
                                   sizeof c->dir_pk);
        if (st == IMC_OK)
            st = put_anchor(c, txn, 0, 0);
        if (st == IMC_OK && c->kt != NULL)
            st = put_kt(c, txn, c->kt, true);
        if (st == IMC_OK)
            return c->store.ops->commit(txn);
        c->store.ops->abort(txn);
        return st;
    }
    if (st == IMC_OK && (n != 1 || v[0] != STATE_FORMAT))
        st = IMC_ERR_UNSUPPORTED;
    if (st == IMC_OK)
        st = c->store.ops->get(txn, IMC_DIR_TABLE_META, META_KEY("dir_pk"), &v, &n);
    if (st == IMC_OK && (n != IMC_DIR_PUBLIC_BYTES || !imc_ct_equal(v, c->dir_pk, n)))
        st = IMC_ERR_AUTH; /* pinned to another directory */
    if (st == IMC_OK)
        st = c->store.ops->get(txn, IMC_DIR_TABLE_META, META_KEY("anchor"), &v, &n);
    if (st == IMC_OK && n != 16)
        st = IMC_ERR_IO;
    if (st == IMC_OK) {
        c->global_epoch = imc_dir_load_be64(v);
        c->anchor_issued = imc_dir_load_be64(v + 8);
        load_ctx l = {c, IMC_OK};
        st = c->store.ops->scan(txn, IMC_DIR_TABLE_HANDLES, load_one, &l);
        if (st == IMC_OK)
            st = l.st;
        if (st == IMC_OK)
            st = load_kt(c, txn);
    }
    c->store.ops->abort(txn);
    return st == IMC_ERR_NOT_FOUND ? IMC_ERR_IO : st;
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
    imc_dircache_options o;
    memset(&o, 0, sizeof o);
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
    c->evidence = malloc(IMC_DIRCACHE_EVIDENCE_MAX_BYTES);
    c->one_entry = malloc(ONE_ENTRY_MAX);
    imc_status st = c->index != NULL && c->slots != NULL && c->evidence != NULL &&
                            c->one_entry != NULL
                        ? IMC_OK
                        : IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_kt_key_init(&c->evidence_key, b, DEFAULT_EVIDENCE_NAME, IMC_KT_SIG_ED25519,
                             dir_pk);
    if (st == IMC_OK && o.kt != NULL)
        st = kt_setup(c, o.kt);
    if (st == IMC_OK)
        st = imc_crypto_random(b, c->hash_key, sizeof c->hash_key);
    if (st == IMC_OK && o.path != NULL) {
        imc_dir_lmdb_options lo = {(size_t)1 << 30, o.no_sync, false};
        st = imc_dir_store_lmdb_open(&c->store, o.path, &lo);
        if (st == IMC_OK)
            st = load_state(c);
    }
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
    if (c->store.ops != NULL)
        imc_dir_store_close(&c->store);
    free(c->index);
    free(c->slots);
    free(c->kt);
    free(c->evidence);
    free(c->one_entry);
    imc_wipe(c, sizeof *c);
    free(c);
}

/* ---- Diffs -------------------------------------------------------------- */

static bool records_equal(const imc_dir_record *a, const imc_dir_record *b)
{
    return imc_dir_devices_equal(a, b) && a->key_change == b->key_change &&
           memcmp(a->account_pk, b->account_pk, sizeof a->account_pk) == 0 &&
           memcmp(a->prev_hash, b->prev_hash, sizeof a->prev_hash) == 0;
}

static void emit(imc_dir_change *out, size_t *n, size_t entry, uint64_t id,
                 imc_dir_change_kind kind, const imc_dir_record *old, const imc_dir_record *new_rec)
{
    if (out != NULL) {
        imc_dir_change ch = {entry, id, kind, old->epoch, new_rec->epoch};
        out[*n] = ch;
    }
    (*n)++;
}

/* Reports (to out, if not NULL) or counts the changes from old to new: the
 * account change, the version, then the two sorted device lists walked
 * together. */
static size_t diff_records(imc_dir_change *out, size_t entry, const imc_dir_record *old,
                           const imc_dir_record *new_rec, uint8_t account)
{
    size_t i = 0, j = 0, n = 0;
    if (account != 0)
        emit(out, &n, entry, 0, (imc_dir_change_kind)account, old, new_rec);
    if (new_rec->epoch > old->epoch)
        emit(out, &n, entry, 0, IMC_DIR_LIST_VERSION, old, new_rec);
    while (i < old->device_count || j < new_rec->device_count) {
        if (j == new_rec->device_count ||
            (i < old->device_count && old->devices[i].device_id < new_rec->devices[j].device_id)) {
            emit(out, &n, entry, old->devices[i++].device_id, IMC_DIR_DEVICE_REMOVED, old,
                 new_rec);
        } else if (i == old->device_count ||
                   new_rec->devices[j].device_id < old->devices[i].device_id) {
            emit(out, &n, entry, new_rec->devices[j++].device_id, IMC_DIR_DEVICE_ADDED, old,
                 new_rec);
        } else {
            if (!imc_dir_device_equal(&old->devices[i], &new_rec->devices[j]))
                emit(out, &n, entry, old->devices[i].device_id, IMC_DIR_DEVICE_CHANGED, old,
                     new_rec);
            i++;
            j++;
        }
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

/* Which account key the handle is pinned to after this entry, and the
 * account change to report (0 for none). */
static imc_status decide_account(imc_dircache *c, size_t k, const slot *s, const imc_dir_entry *e)
{
    const imc_dir_record *rec = &e->rec;
    uint8_t *pinned = c->plan[k].pinned;
    c->plan[k].account = 0;
    memset(pinned, 0, IMC_DIR_ACCOUNT_PUBLIC_BYTES);
    if (s != NULL)
        memcpy(pinned, s->pinned, IMC_DIR_ACCOUNT_PUBLIC_BYTES);
    if (rec->epoch == 0)
        return IMC_OK;
    if (imc_dir_list_verify(c->b, rec, NULL) != IMC_OK)
        return IMC_ERR_AUTH; /* not signed by the account key it names */
    if (is_zero_key(pinned)) {
        memcpy(pinned, rec->account_pk, IMC_DIR_ACCOUNT_PUBLIC_BYTES);
        c->plan[k].account = IMC_DIR_ACCOUNT_NEW;
    } else if (memcmp(pinned, rec->account_pk, IMC_DIR_ACCOUNT_PUBLIC_BYTES) == 0) {
        return IMC_OK;
    } else if (rec->key_change == IMC_DIR_KEY_ROTATED &&
               imc_dir_list_verify(c->b, rec, pinned) == IMC_OK) {
        memcpy(pinned, rec->account_pk, IMC_DIR_ACCOUNT_PUBLIC_BYTES);
        c->plan[k].account = IMC_DIR_ACCOUNT_ROTATED;
    } else if (s->rec.epoch == 0 ||
               memcmp(s->rec.account_pk, rec->account_pk, IMC_DIR_ACCOUNT_PUBLIC_BYTES) != 0) {
        c->plan[k].account = IMC_DIR_ACCOUNT_UNCONFIRMED; /* reported once per new key */
    }
    return IMC_OK;
}

/* Pass 1: verifies and checks entry k against the cache. */
static imc_status plan_entry(apply_plan *p, imc_dircache *c, size_t k, const imc_dir_entry *e)
{
    if (imc_dir_entry_verify(c->b, c->dir_pk, e) != IMC_OK)
        return IMC_ERR_AUTH;
    const slot *s = find_slot(c, e->rec.handle, e->rec.handle_len);
    if (s != NULL && e->rec.epoch < s->rec.epoch)
        return IMC_ERR_STALE;
    if (s != NULL && e->rec.epoch == s->rec.epoch && !records_equal(&e->rec, &s->rec)) {
        c->conflict = true;
        return IMC_ERR_AUTH; /* two signed lists for one epoch */
    }
    imc_status st = decide_account(c, k, s, e);
    if (st != IMC_OK)
        return st;
    const imc_dir_record *old = s != NULL ? &s->rec : &EMPTY_RECORD;
    p->changes += diff_records(NULL, 0, old, &e->rec, c->plan[k].account);
    if (s == NULL) {
        p->new_handles++;
    } else {
        p->existing++;
        p->own_in_resp |= is_own(c, e->rec.handle, e->rec.handle_len);
    }
    return IMC_OK;
}

/* A slot for a new handle: a free one, else (in memory only) the one that
 * expires first among those not written by this apply and not the own
 * handle. */
static slot *take_slot(imc_dircache *c)
{
    slot *victim = NULL;
    for (size_t i = 0; i < c->capacity; i++) {
        slot *s = &c->slots[i];
        if (!s->used)
            return s;
        if (c->store.ops == NULL && s->touched != c->generation &&
            !is_own(c, s->rec.handle, s->rec.handle_len) &&
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

/* The issue time a slot keeps after an entry: it moves on with a newer
 * answer or any change. */
static uint64_t next_issued(const slot *s, const imc_dir_entry *e, size_t changes)
{
    if (s == NULL || s->issued_ms < e->issued_ms || s->rec.epoch != e->rec.epoch || changes != 0)
        return e->issued_ms;
    return s->issued_ms;
}

/* Pass 2: writes entry k; returns the number of changes written. */
static size_t commit_entry(imc_dircache *c, imc_dir_change *changes, size_t k,
                           const imc_dir_entry *e)
{
    uint64_t hash = imc_siphash24(c->hash_key, e->rec.handle, e->rec.handle_len);
    size_t cell = index_find(c, hash, e->rec.handle, e->rec.handle_len);
    slot *s = c->index[cell] != 0 ? &c->slots[c->index[cell] - 1] : NULL;
    size_t n;
    if (s == NULL) {
        s = take_slot(c); /* planned: never NULL */
        n = diff_records(changes, k, &EMPTY_RECORD, &e->rec, c->plan[k].account);
        s->used = true;
        s->hash = hash;
        c->used++;
        /* take_slot may have shifted the index: find the cell again. */
        c->index[index_find(c, hash, e->rec.handle, e->rec.handle_len)] =
            (uint32_t)(s - c->slots) + 1;
        s->issued_ms = e->issued_ms;
    } else {
        n = diff_records(changes, k, &s->rec, &e->rec, c->plan[k].account);
        s->issued_ms = next_issued(s, e, n);
    }
    s->global_epoch = e->global_epoch > s->global_epoch ? e->global_epoch : s->global_epoch;
    s->touched = c->generation;
    memcpy(s->pinned, c->plan[k].pinned, sizeof s->pinned);
    s->rec = e->rec;
    return n;
}

/* Pass 1's write of entry k to the state file (inside txn). */
static imc_status stage_entry(imc_dircache *c, void *txn, size_t k, const imc_dir_entry *e)
{
    const slot *s = find_slot(c, e->rec.handle, e->rec.handle_len);
    uint64_t global = e->global_epoch;
    if (s != NULL && s->global_epoch > global)
        global = s->global_epoch;
    size_t changes =
        s != NULL ? diff_records(NULL, 0, &s->rec, &e->rec, c->plan[k].account) : 1;
    imc_status st =
        put_contact(c, txn, c->plan[k].pinned, &e->rec, global, next_issued(s, e, changes));
    if (st == IMC_OK && e->rec.epoch != 0)
        st = note_seen(c, txn, e);
    /* The signed entry itself, for LIST evidence should the directory sign
     * another list for this version later. */
    uint8_t key[ENTRY_KEY_MAX];
    size_t len = one_entry(c, e);
    if (st == IMC_OK && len == 0)
        st = IMC_ERR_NO_SPACE;
    if (st == IMC_OK && e->rec.epoch != 0)
        st = c->store.ops->put(txn, IMC_DIR_TABLE_META, key,
                               entry_key(key, e->rec.handle, e->rec.handle_len), c->one_entry,
                               len);
    return st;
}

static imc_status check_time(const imc_dircache *c, const imc_dir_response *r, uint64_t now_ms)
{
    if (r->issued_ms > sat_add(now_ms, c->max_skew_ms))
        return IMC_ERR_STALE;
    if (sat_add(r->issued_ms, c->ttl_ms) <= now_ms)
        return IMC_ERR_STALE;
    if (r->global_epoch < c->global_epoch)
        return IMC_ERR_STALE;
    /* An older answer from the same epoch is a replay too (the anchor
     * survives restarts of a persistent cache). */
    return r->global_epoch == c->global_epoch && r->issued_ms < c->anchor_issued ? IMC_ERR_STALE
                                                                                 : IMC_OK;
}

/* Pass 1 over every entry (and, for a persistent cache, the staged write). */
static imc_status plan_all(apply_plan *p, imc_dircache *c, const imc_dir_response *r, void *txn)
{
    imc_dir_entry *e = &c->scratch;
    size_t off = 0;
    imc_status st = IMC_OK;
    for (size_t i = 0; i < r->count && st == IMC_OK; i++) {
        st = imc_dir_response_next(e, &off, r);
        if (st == IMC_OK)
            st = plan_entry(p, c, i, e);
        if (st == IMC_OK && txn != NULL)
            st = stage_entry(c, txn, i, e);
    }
    return st;
}

/* apply, and (kt_next not NULL) the transparency state that verified the
 * response, written in the same transaction. */
static imc_status apply_core(imc_dircache *c, imc_dir_change *changes, size_t changes_cap,
                             size_t *change_count, uint64_t now_ms, const uint8_t *resp,
                             size_t resp_len, const imc_kt_client *kt_next)
{
    imc_dir_response r;
    imc_status st = imc_dir_parse_response(&r, resp, resp_len);
    if (st == IMC_OK)
        st = check_time(c, &r, now_ms);
    if (st != IMC_OK)
        return st;
    void *txn = NULL;
    if (c->store.ops != NULL) {
        st = c->store.ops->begin(c->store.self, true, &txn);
        if (st != IMC_OK)
            return st;
    }
    apply_plan p = {0, 0, 0, false};
    c->conflict = false;
    st = plan_all(&p, c, &r, txn);
    size_t own_cached =
        c->own_handle_len != 0 && find_slot(c, c->own_handle, c->own_handle_len) != NULL;
    size_t evictable = c->store.ops != NULL
                           ? 0
                           : c->used - p.existing - (own_cached && !p.own_in_resp ? 1 : 0);
    if (st == IMC_OK && changes != NULL && p.changes > changes_cap)
        st = IMC_ERR_NO_SPACE;
    if (st == IMC_OK && p.new_handles > c->capacity - c->used + evictable)
        st = IMC_ERR_LIMIT;
    bool newer = r.global_epoch > c->global_epoch || r.issued_ms > c->anchor_issued;
    if (txn != NULL) {
        if (st == IMC_OK && newer)
            st = put_anchor(c, txn, r.global_epoch, r.issued_ms);
        if (st == IMC_OK && kt_next != NULL)
            st = put_kt(c, txn, kt_next, false);
        if (st == IMC_OK)
            st = c->store.ops->commit(txn);
        else
            c->store.ops->abort(txn);
    }
    imc_dir_entry *e = &c->scratch;
    if (st == IMC_ERR_AUTH && c->conflict && txn != NULL && c->evidence_len == 0)
        keep_list_evidence(c, e); /* e: the entry pass 1 stopped at */
    if (st == IMC_OK) {
        c->generation++;
        /* Every handle of the response already cached is kept: mark them
         * all before a new handle picks a victim (else a handle later in
         * the response could be evicted, then re-added with its removals
         * lost, or leave no slot at all). */
        size_t n = 0, off = 0;
        for (size_t i = 0; i < r.count; i++) {
            if (imc_dir_response_next(e, &off, &r) != IMC_OK)
                break; /* cannot happen: the same bytes parsed in pass 1 */
            slot *s = find_slot(c, e->rec.handle, e->rec.handle_len);
            if (s != NULL)
                s->touched = c->generation;
        }
        off = 0;
        for (size_t i = 0; i < r.count; i++) {
            if (imc_dir_response_next(e, &off, &r) != IMC_OK)
                break; /* cannot happen: the same bytes parsed in pass 1 */
            n += commit_entry(c, changes != NULL ? changes + n : NULL, i, e);
        }
        if (newer) {
            c->global_epoch = r.global_epoch;
            c->anchor_issued = r.issued_ms;
        }
        if (kt_next != NULL)
            *c->kt = *kt_next;
        if (change_count != NULL)
            *change_count = changes != NULL ? n : p.changes;
    }
    imc_wipe(e, sizeof *e);
    return st;
}

imc_status imc_dircache_apply(imc_dircache *c, imc_dir_change *changes, size_t changes_cap,
                              size_t *change_count, uint64_t now_ms, const uint8_t *resp,
                              size_t resp_len)
{
    if (change_count != NULL)
        *change_count = 0;
    if (c == NULL)
        return IMC_ERR_ARG;
    if (c->kt != NULL)
        return IMC_ERR_AUTH; /* no proofs: imc_dircache_apply_kt */
    return apply_core(c, changes, changes_cap, change_count, now_ms, resp, resp_len, NULL);
}

imc_status imc_dircache_apply_kt(imc_dircache *c, imc_dir_change *changes, size_t changes_cap,
                                 size_t *change_count, bool *evidence, uint64_t now_ms,
                                 const uint8_t *resp, size_t resp_len)
{
    if (change_count != NULL)
        *change_count = 0;
    if (evidence != NULL)
        *evidence = false;
    if (c == NULL)
        return IMC_ERR_ARG;
    if (c->kt == NULL)
        return IMC_ERR_UNSUPPORTED;
    imc_dir_kt_lookup_response *lr = malloc(sizeof *lr);
    imc_dir_kt_answer *ans = malloc(sizeof *ans);
    imc_kt_client *next = malloc(sizeof *next);
    size_t cap = IMC_DIR_RESPONSE_MAX_BYTES(IMC_DIR_MAX_BATCH), len = 0, off = 0;
    uint8_t *plain = malloc(cap);
    imc_status st = lr != NULL && ans != NULL && next != NULL && plain != NULL ? IMC_OK
                                                                               : IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_dir_kt_parse_lookup(lr, resp, resp_len);
    if (st == IMC_OK) {
        /* The checkpoint first (it may yield evidence even when refused). */
        st = kt_advance(c, next, evidence, lr->head.note, lr->head.note_len, lr->head.proof,
                        lr->head.proof_len);
    }
    imc_kt_checkpoint cp;
    if (st == IMC_OK)
        st = imc_kt_client_checkpoint(&cp, next);
    /* Every answer against that checkpoint; their entries, as a plain
     * lookup response, then go through apply. */
    imc_writer w;
    imc_wire_writer_init(&w, plain, cap);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_RESPONSE);
    imc_wire_write_u16(&w, (uint16_t)(st == IMC_OK ? lr->count : 0));
    for (size_t i = 0; st == IMC_OK && i < lr->count; i++) {
        st = imc_dir_kt_lookup_next(ans, &off, lr);
        if (st == IMC_OK &&
            imc_dir_kt_answer_verify(NULL, NULL, c->b, c->dir_pk, &cp, ans) != IMC_OK)
            st = IMC_ERR_AUTH;
        if (st == IMC_OK) {
            imc_wire_write_bytes(&w, ans->entry.body, ans->entry.body_len);
            imc_wire_write_bytes(&w, ans->entry.sig, IMC_DIR_SIGNATURE_BYTES);
        }
    }
    if (st == IMC_OK)
        st = imc_wire_writer_finish(&w, &len);
    if (st == IMC_OK)
        st = apply_core(c, changes, changes_cap, change_count, now_ms, plain, len, next);
    free(lr);
    free(ans);
    free(next);
    free(plain);
    return st;
}

imc_status imc_dircache_accept(imc_dircache *c, const uint8_t *handle, size_t handle_len)
{
    if (c == NULL || handle == NULL || handle_len == 0 || handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_ARG;
    slot *s = find_slot(c, handle, handle_len);
    if (s == NULL)
        return IMC_ERR_NOT_FOUND;
    if (!pending(s))
        return IMC_OK;
    if (c->store.ops != NULL) {
        void *txn = NULL;
        imc_status st = c->store.ops->begin(c->store.self, true, &txn);
        if (st != IMC_OK)
            return st;
        st = put_contact(c, txn, s->rec.account_pk, &s->rec, s->global_epoch, s->issued_ms);
        if (st == IMC_OK)
            st = c->store.ops->commit(txn);
        else
            c->store.ops->abort(txn);
        if (st != IMC_OK)
            return st;
    }
    memcpy(s->pinned, s->rec.account_pk, sizeof s->pinned);
    return IMC_OK;
}

imc_status imc_dircache_account(uint8_t pinned[IMC_DIR_ACCOUNT_PUBLIC_BYTES], bool *is_pending,
                                const imc_dircache *c, const uint8_t *handle, size_t handle_len)
{
    if (pinned == NULL || is_pending == NULL || c == NULL || handle == NULL ||
        handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_ARG;
    const slot *s = find_slot(c, handle, handle_len);
    if (s == NULL)
        return IMC_ERR_NOT_FOUND;
    memcpy(pinned, s->pinned, IMC_DIR_ACCOUNT_PUBLIC_BYTES);
    *is_pending = pending(s);
    return IMC_OK;
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
    if (st == IMC_OK && pending(*s))
        st = IMC_ERR_AUTH;
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
            if (st == IMC_OK && pending(s))
                st = IMC_ERR_AUTH; /* an account key change not yet accepted */
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
    if (pending(s))
        return IMC_ERR_AUTH;
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

/* ---- Transparency --------------------------------------------------------- */

bool imc_dircache_kt_enabled(const imc_dircache *c) { return c != NULL && c->kt != NULL; }

/* Offers a checkpoint to a copy of the transparency state: next is the
 * state after it. On success nothing is written (the caller writes next);
 * on a refusal that found evidence, the evidence (and the state that
 * holds it) is written and kept in memory at once. */
static imc_status kt_advance(imc_dircache *c, imc_kt_client *next, bool *evidence,
                             const uint8_t *note, size_t note_len, const uint8_t *proof,
                             size_t proof_len)
{
    *next = *c->kt;
    bool found = false;
    imc_status st = imc_kt_client_update(next, &found, note, note_len, proof, proof_len);
    if (st == IMC_OK || !found)
        return st;
    uint8_t *ev = malloc(IMC_KT_EVIDENCE_MAX_BYTES);
    size_t ev_len = 0;
    bool keep = ev != NULL && c->evidence_len == 0 &&
                imc_kt_client_evidence(ev, IMC_KT_EVIDENCE_MAX_BYTES, &ev_len, next) == IMC_OK;
    imc_status wst = IMC_OK;
    if (c->store.ops != NULL) {
        void *txn = NULL;
        wst = c->store.ops->begin(c->store.self, true, &txn);
        if (wst == IMC_OK) {
            wst = put_kt(c, txn, next, false);
            if (wst == IMC_OK && keep)
                wst = c->store.ops->put(txn, IMC_DIR_TABLE_META, META_KEY("evidence"), ev,
                                        ev_len);
            if (wst == IMC_OK)
                wst = c->store.ops->commit(txn);
            else
                c->store.ops->abort(txn);
        }
    }
    if (wst == IMC_OK) {
        *c->kt = *next;
        if (keep) {
            memcpy(c->evidence, ev, ev_len);
            c->evidence_len = ev_len;
        }
        if (evidence != NULL)
            *evidence = true;
    }
    free(ev);
    return wst != IMC_OK ? IMC_ERR_IO : st;
}

imc_status imc_dircache_kt_update(imc_dircache *c, bool *evidence, const uint8_t *note,
                                  size_t note_len, const uint8_t *proof, size_t proof_len)
{
    if (evidence != NULL)
        *evidence = false;
    if (c == NULL || note == NULL)
        return IMC_ERR_ARG;
    if (c->kt == NULL)
        return IMC_ERR_UNSUPPORTED;
    imc_kt_client *next = malloc(sizeof *next);
    if (next == NULL)
        return IMC_ERR_NOMEM;
    imc_status st = kt_advance(c, next, evidence, note, note_len, proof, proof_len);
    if (st == IMC_OK && c->store.ops != NULL) {
        void *txn = NULL;
        st = c->store.ops->begin(c->store.self, true, &txn);
        if (st == IMC_OK) {
            st = put_kt(c, txn, next, false);
            if (st == IMC_OK)
                st = c->store.ops->commit(txn);
            else
                c->store.ops->abort(txn);
        }
        st = st != IMC_OK ? IMC_ERR_IO : st;
    }
    if (st == IMC_OK)
        *c->kt = *next;
    free(next);
    return st;
}

imc_status imc_dircache_kt_checkpoint(imc_kt_checkpoint *cp, const imc_dircache *c)
{
    if (cp == NULL || c == NULL)
        return IMC_ERR_ARG;
    if (c->kt == NULL) {
        memset(cp, 0, sizeof *cp);
        return IMC_ERR_UNSUPPORTED;
    }
    return imc_kt_client_checkpoint(cp, c->kt);
}

imc_status imc_dircache_evidence(uint8_t *out, size_t out_cap, size_t *out_len,
                                 const imc_dircache *c)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || c == NULL)
        return IMC_ERR_ARG;
    if (c->evidence_len == 0)
        return IMC_ERR_NOT_FOUND;
    if (out_cap < c->evidence_len)
        return IMC_ERR_NO_SPACE;
    memcpy(out, c->evidence, c->evidence_len);
    *out_len = c->evidence_len;
    return IMC_OK;
}

/* ---- Self-monitoring --------------------------------------------------------- */

/* Where the audit of h stands: *since, and (when audited before) the hash
 * of the last audited leaf. */
static imc_status audit_point(uint64_t *since, bool *have_prev, uint8_t prev[IMC_KT_HASH_BYTES],
                              const imc_dircache *c, void *txn, const uint8_t *h, size_t hl)
{
    uint8_t key[MONITOR_KEY_MAX];
    const uint8_t *v = NULL;
    size_t n = 0;
    *have_prev = false;
    imc_status st = c->store.ops->get(txn, IMC_DIR_TABLE_META, key,
                                      monitor_key(key, AUDIT_PREFIX, h, hl, false, 0), &v, &n);
    if (st == IMC_OK) {
        if (n != 8 + IMC_KT_HASH_BYTES)
            return IMC_ERR_IO;
        *since = imc_dir_load_be64(v) + 1;
        memcpy(prev, v + 8, IMC_KT_HASH_BYTES);
        *have_prev = true;
        return IMC_OK;
    }
    if (st != IMC_ERR_NOT_FOUND)
        return st;
    st = c->store.ops->get(txn, IMC_DIR_TABLE_META, key,
                           monitor_key(key, FIRST_PREFIX, h, hl, false, 0), &v, &n);
    if (st == IMC_OK && n != 8)
        return IMC_ERR_IO;
    if (st == IMC_OK)
        *since = imc_dir_load_be64(v);
    return st;
}

imc_status imc_dircache_audit_since(uint64_t *since, const imc_dircache *c,
                                    const uint8_t *handle, size_t handle_len)
{
    if (since == NULL || c == NULL || handle == NULL || handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_ARG;
    *since = 0;
    if (c->kt == NULL || c->store.ops == NULL)
        return IMC_ERR_UNSUPPORTED;
    void *txn = NULL;
    uint8_t prev[IMC_KT_HASH_BYTES];
    bool have_prev = false;
    imc_status st = c->store.ops->begin(c->store.self, false, &txn);
    if (st != IMC_OK)
        return st;
    st = audit_point(since, &have_prev, prev, c, txn, handle, handle_len);
    c->store.ops->abort(txn);
    return st;
}

typedef struct audit_ctx {
    imc_dircache *c;
    void *txn;
    const uint8_t *pinned;
    uint64_t report_from; /* versions below: the anchor, never reported */
    const uint8_t *anchor; /* the kept hash of version report_from - 1, or NULL */
    imc_dir_audit_finding *out;
    size_t cap, count;
    uint64_t last_version;
    uint8_t last_hash[IMC_KT_HASH_BYTES];
    imc_status st;
} audit_ctx;

static int audit_leaf(void *vctx, const imc_dir_kt_leaf *leaf, uint64_t leaf_index,
                      const uint8_t leaf_hash[IMC_KT_HASH_BYTES])
{
    (void)leaf_index;
    audit_ctx *x = vctx;
    if (leaf->version < x->report_from) {
        /* The anchor: the answer may start at the last audited version,
         * which must be the leaf audited then. */
        if (x->anchor != NULL && leaf->version + 1 == x->report_from &&
            memcmp(leaf_hash, x->anchor, IMC_KT_HASH_BYTES) != 0) {
            x->st = IMC_ERR_AUTH;
            return 1;
        }
        x->last_version = leaf->version;
        memcpy(x->last_hash, leaf_hash, IMC_KT_HASH_BYTES);
        return 0;
    }
    uint8_t key[MONITOR_KEY_MAX];
    const uint8_t *v = NULL;
    size_t n = 0;
    imc_status st = x->c->store.ops->get(
        x->txn, IMC_DIR_TABLE_META, key,
        monitor_key(key, SEEN_PREFIX, leaf->handle, leaf->handle_len, true, leaf->version), &v,
        &n);
    if (st != IMC_OK && st != IMC_ERR_NOT_FOUND) {
        x->st = st;
        return 1;
    }
    bool seen = st == IMC_OK && n == IMC_SHA256_BYTES &&
                memcmp(v, leaf->list_hash, IMC_SHA256_BYTES) == 0;
    if (!seen) {
        if (x->count < x->cap) {
            imc_dir_audit_finding *f = &x->out[x->count];
            f->version = leaf->version;
            memcpy(f->account_pk, leaf->account_pk, sizeof f->account_pk);
            memcpy(f->list_hash, leaf->list_hash, sizeof f->list_hash);
            f->key_known = !is_zero_key(x->pinned) &&
                           memcmp(x->pinned, leaf->account_pk, IMC_DIR_ACCOUNT_PUBLIC_BYTES) == 0;
        }
        x->count++;
    }
    x->last_version = leaf->version;
    memcpy(x->last_hash, leaf_hash, IMC_KT_HASH_BYTES);
    return 0;
}

imc_status imc_dircache_audit(imc_dircache *c, imc_dir_audit_finding *out, size_t out_cap,
                              size_t *count, bool *complete, bool *evidence, bool acknowledge,
                              const uint8_t *handle, size_t handle_len, const uint8_t *resp,
                              size_t resp_len)
{
    if (count != NULL)
        *count = 0;
    if (complete != NULL)
        *complete = false;
    if (evidence != NULL)
        *evidence = false;
    if (c == NULL || count == NULL || (out == NULL && out_cap != 0) || handle == NULL ||
        handle_len == 0 || handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_ARG;
    if (c->kt == NULL || c->store.ops == NULL)
        return IMC_ERR_UNSUPPORTED;
    imc_dir_kt_audit_response *ar = malloc(sizeof *ar);
    imc_kt_client *next = malloc(sizeof *next);
    imc_status st = ar != NULL && next != NULL ? IMC_OK : IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_dir_kt_parse_audit(ar, resp, resp_len);
    if (st == IMC_OK && (ar->handle.len != handle_len ||
                         memcmp(ar->handle.bytes, handle, handle_len) != 0))
        st = IMC_ERR_AUTH; /* an answer about another handle */
    if (st == IMC_OK)
        st = kt_advance(c, next, evidence, ar->head.note, ar->head.note_len, ar->head.proof,
                        ar->head.proof_len);
    imc_kt_checkpoint cp;
    if (st == IMC_OK)
        st = imc_kt_client_checkpoint(&cp, next);
    void *txn = NULL;
    if (st == IMC_OK)
        st = c->store.ops->begin(c->store.self, true, &txn);
    if (st != IMC_OK) {
        free(ar);
        free(next);
        return st;
    }
    uint64_t since = 0;
    bool have_prev = false, done = false;
    uint8_t prev[IMC_KT_HASH_BYTES];
    st = audit_point(&since, &have_prev, prev, c, txn, handle, handle_len);
    /* From `since`, or from the version before it as an anchor. */
    bool anchored = st == IMC_OK && since > 1 && ar->since == since - 1;
    if (st == IMC_OK && ar->since != since && !anchored)
        st = IMC_ERR_AUTH; /* not the versions asked for */
    const slot *s = find_slot(c, handle, handle_len);
    static const uint8_t no_key[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
    audit_ctx x = {c,   txn, s != NULL ? s->pinned : no_key, since, have_prev ? prev : NULL,
                   out, out_cap, 0, 0, {0}, IMC_OK};
    if (st == IMC_OK)
        st = imc_dir_kt_audit_verify(&done, c->b, &cp, ar, have_prev && !anchored ? prev : NULL,
                                     audit_leaf, &x);
    if (st == IMC_ERR_AUTH && x.st != IMC_OK)
        st = x.st;
    if (st == IMC_OK)
        st = put_kt(c, txn, next, false);
    if (st == IMC_OK && x.last_version >= since && (x.count == 0 || acknowledge)) {
        uint8_t key[MONITOR_KEY_MAX], v[8 + IMC_KT_HASH_BYTES];
        imc_dir_store_be64(v, x.last_version);
        memcpy(v + 8, x.last_hash, IMC_KT_HASH_BYTES);
        st = c->store.ops->put(txn, IMC_DIR_TABLE_META, key,
                               monitor_key(key, AUDIT_PREFIX, handle, handle_len, false, 0), v,
                               sizeof v);
    }
    if (st == IMC_OK)
        st = c->store.ops->commit(txn);
    else
        c->store.ops->abort(txn);
    if (st == IMC_OK) {
        *c->kt = *next;
        *count = x.count;
        if (complete != NULL)
            *complete = done;
    }
    free(ar);
    free(next);
    return st;
}

/* ---- Inspection ----------------------------------------------------------- */

uint64_t imc_dircache_global_epoch(const imc_dircache *c)
{
    return c != NULL ? c->global_epoch : 0;
}

uint64_t imc_dircache_anchor_issued(const imc_dircache *c)
{
    return c != NULL ? c->anchor_issued : 0;
}

size_t imc_dircache_count(const imc_dircache *c) { return c != NULL ? c->used : 0; }

static int cmp_hash(const void *a, const void *b) { return memcmp(a, b, IMC_SHA256_BYTES); }

/* Per slot: SHA-256(handle || pinned key || global epoch || issued ||
 * stored record); the sorted hashes and the cache's anchor (global epoch,
 * issue time) are hashed together. */
#define DIGEST_ITEM_MAX (1 + IMC_MAX_HANDLE_BYTES + 32 + 16 + IMC_DIR_RECORD_MAX_BYTES)

imc_status imc_dircache_digest(uint8_t out[IMC_SHA256_BYTES], const imc_dircache *c)
{
    if (out == NULL || c == NULL)
        return IMC_ERR_ARG;
    uint8_t *hashes = calloc(c->used + 2, IMC_SHA256_BYTES);
    uint8_t *item = malloc(DIGEST_ITEM_MAX + IMC_DIR_RECORD_MAX_BYTES);
    imc_status st = hashes != NULL && item != NULL ? IMC_OK : IMC_ERR_NOMEM;
    uint8_t *rec = item + DIGEST_ITEM_MAX;
    size_t k = 0;
    for (size_t i = 0; i < c->capacity && st == IMC_OK; i++) {
        const slot *s = &c->slots[i];
        if (!s->used)
            continue;
        size_t len = 0, rec_len = 0;
        if (s->rec.epoch != 0)
            st = imc_dir_encode_record(rec, IMC_DIR_RECORD_MAX_BYTES, &rec_len, &s->rec);
        imc_writer w;
        imc_wire_writer_init(&w, item, DIGEST_ITEM_MAX);
        imc_dir_put_handle(&w, s->rec.handle, s->rec.handle_len);
        imc_wire_write_bytes(&w, s->pinned, sizeof s->pinned);
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
        imc_dir_store_be64(hashes + k * IMC_SHA256_BYTES + 8, c->anchor_issued);
        st = imc_crypto_sha256(c->b, out, hashes, k * IMC_SHA256_BYTES + 16);
    }
    free(hashes);
    free(item);
    return st;
}
