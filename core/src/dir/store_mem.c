/* The in-memory directory store: one open-addressing hash table (linear
 * probing, keyed SipHash-2-4, load at most 2/3) per table, each slot a
 * cached hash and a pointer to one allocation holding key and value.
 *
 * Transactions: a reader-writer lock. Readers share one stateless
 * transaction object. The single writer, alone under the lock, writes in
 * place and keeps an undo log (what each put replaced); every allocation a
 * put needs (undo entry, table growth, the new item) is made before it
 * changes anything, so a put fails cleanly or succeeds. Commit frees what
 * was replaced and cannot fail; abort walks the log backwards and restores
 * it. An update is applied entirely or not at all, and a large write
 * transaction (imc_dir_import) costs no more per put than a small one.
 *
 * Memory: 16 bytes per slot at a load between 1/3 and 2/3, plus one
 * allocation of 5 + key + value bytes per item; a handle of 20 bytes with
 * one X25519 device measures 210 to 245 bytes in all (bench/bench_dir.c),
 * so 10 million handles take about 2 GiB. */
#define _POSIX_C_SOURCE 200809L /* pthread_rwlock_t under -std=c11 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/crypto.h"
#include "imcore/util.h"
#include "util/siphash.h"

#define MIN_SLOTS 16
#define BLOB_HEAD 5 /* value length (4) || key length (1) */

typedef struct mem_slot {
    uint64_t hash;
    uint8_t *blob; /* NULL: empty */
} mem_slot;

typedef struct mem_table {
    mem_slot *slots;
    size_t cap; /* a power of two */
    size_t count;
} mem_table;

struct mem_store;

/* One put of a write transaction: the item it installed, what it replaced
 * (NULL: the key was absent). */
typedef struct undo_rec {
    imc_dir_table t;
    uint64_t hash;
    uint8_t *installed;
    uint8_t *replaced;
} undo_rec;

typedef struct mem_txn {
    struct mem_store *s;
    bool write;
    size_t nundo, undo_cap;
    undo_rec *undo; /* kept allocated between transactions */
} mem_txn;

typedef struct mem_store {
    pthread_rwlock_t lock;
    uint8_t key[IMC_SIPHASH_KEY_BYTES];
    mem_table tables[IMC_DIR_TABLE_COUNT];
    mem_txn rtxn; /* shared by all readers: never written while read */
    mem_txn wtxn;
} mem_store;

/* ---- Blobs -------------------------------------------------------------- */

static size_t blob_key_len(const uint8_t *b) { return b[4]; }
static size_t blob_val_len(const uint8_t *b)
{
    return (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
}
static const uint8_t *blob_key(const uint8_t *b) { return b + BLOB_HEAD; }
static const uint8_t *blob_val(const uint8_t *b) { return b + BLOB_HEAD + blob_key_len(b); }

static uint8_t *blob_new(const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    uint8_t *b = malloc(BLOB_HEAD + key_len + val_len);
    if (b == NULL)
        return NULL;
    b[0] = (uint8_t)(val_len >> 24);
    b[1] = (uint8_t)(val_len >> 16);
    b[2] = (uint8_t)(val_len >> 8);
    b[3] = (uint8_t)val_len;
    b[4] = (uint8_t)key_len;
    memcpy(b + BLOB_HEAD, key, key_len);
    if (val_len != 0)
        memcpy(b + BLOB_HEAD + key_len, val, val_len);
    return b;
}

static int blob_has_key(const uint8_t *b, const uint8_t *key, size_t key_len)
{
    return blob_key_len(b) == key_len && memcmp(blob_key(b), key, key_len) == 0;
}

/* ---- Tables ------------------------------------------------------------- */

/* The slot holding key, or the empty slot where it would go. */
static size_t table_find(const mem_table *t, uint64_t hash, const uint8_t *key, size_t key_len)
{
    size_t mask = t->cap - 1, i = (size_t)hash & mask;
    while (t->slots[i].blob != NULL &&
           !(t->slots[i].hash == hash && blob_has_key(t->slots[i].blob, key, key_len)))
        i = (i + 1) & mask;
    return i;
}

static size_t slots_for(size_t items)
{
    size_t cap = MIN_SLOTS;
    while (cap / 3 * 2 < items && cap < SIZE_MAX / 4)
        cap *= 2;
    return cap;
}

static imc_status table_init(mem_table *t, size_t items)
{
    t->cap = slots_for(items);
    t->count = 0;
    t->slots = calloc(t->cap, sizeof *t->slots);
    return t->slots != NULL ? IMC_OK : IMC_ERR_NOMEM;
}

/* Makes room for `items` items at the load limit (rehashing in place of
 * the old array; nothing visible changes). */
static imc_status table_reserve(mem_table *t, size_t items)
{
    size_t cap = slots_for(items);
    if (cap <= t->cap)
        return IMC_OK;
    mem_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return IMC_ERR_NOMEM;
    mem_table grown = {slots, cap, t->count};
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].blob == NULL)
            continue;
        size_t j = (size_t)t->slots[i].hash & (cap - 1);
        while (slots[j].blob != NULL)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    *t = grown;
    return IMC_OK;
}

/* Empties slot i and shifts later slots of its probe run back. */
static void table_delete(mem_table *t, size_t i)
{
    size_t mask = t->cap - 1, j = i;
    for (;;) {
        t->slots[i].blob = NULL;
        t->slots[i].hash = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (t->slots[j].blob == NULL) {
                t->count--;
                return;
            }
            size_t k = (size_t)t->slots[j].hash & mask;
            /* Leave it if its home k lies cyclically in (i, j]. */
            bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays)
                break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

static void table_free(mem_table *t)
{
    for (size_t i = 0; t->slots != NULL && i < t->cap; i++)
        free(t->slots[i].blob);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- Operations --------------------------------------------------------- */

static imc_status mem_begin(void *self, bool write, void **txn)
{
    mem_store *s = self;
    if (s == NULL || txn == NULL)
        return IMC_ERR_ARG;
    if ((write ? pthread_rwlock_wrlock(&s->lock) : pthread_rwlock_rdlock(&s->lock)) != 0)
        return IMC_ERR_IO;
    if (write)
        s->wtxn.nundo = 0;
    *txn = write ? &s->wtxn : &s->rtxn;
    return IMC_OK;
}

static bool table_ok(imc_dir_table t) { return (unsigned)t < IMC_DIR_TABLE_COUNT; }

static imc_status mem_get(void *vtxn, imc_dir_table t, const uint8_t *key, size_t key_len,
                          const uint8_t **val, size_t *val_len)
{
    mem_txn *x = vtxn;
    if (x == NULL || !table_ok(t) || key == NULL || key_len == 0 || key_len > 255 || val == NULL ||
        val_len == NULL)
        return IMC_ERR_ARG;
    uint64_t hash = imc_siphash24(x->s->key, key, key_len);
    const mem_table *tab = &x->s->tables[t];
    const uint8_t *b = tab->slots[table_find(tab, hash, key, key_len)].blob;
    if (b == NULL)
        return IMC_ERR_NOT_FOUND;
    *val = blob_val(b);
    *val_len = blob_val_len(b);
    return IMC_OK;
}

static imc_status mem_put(void *vtxn, imc_dir_table t, const uint8_t *key, size_t key_len,
                          const uint8_t *val, size_t val_len)
{
    mem_txn *x = vtxn;
    if (x == NULL || !x->write || !table_ok(t) || key == NULL || key_len == 0 || key_len > 255 ||
        (val == NULL && val_len != 0) || val_len > UINT32_MAX)
        return IMC_ERR_ARG;
    /* Every allocation first: after this, nothing can fail. */
    if (x->nundo == x->undo_cap) {
        size_t cap = x->undo_cap == 0 ? 16 : 2 * x->undo_cap;
        undo_rec *u = realloc(x->undo, cap * sizeof *u);
        if (u == NULL)
            return IMC_ERR_NOMEM;
        x->undo = u;
        x->undo_cap = cap;
    }
    mem_table *tab = &x->s->tables[t];
    imc_status st = table_reserve(tab, tab->count + 1);
    if (st != IMC_OK)
        return st;
    uint8_t *b = blob_new(key, key_len, val, val_len);
    if (b == NULL)
        return IMC_ERR_NOMEM;
    uint64_t hash = imc_siphash24(x->s->key, key, key_len);
    mem_slot *slot = &tab->slots[table_find(tab, hash, key, key_len)];
    undo_rec *u = &x->undo[x->nundo++];
    u->t = t;
    u->hash = hash;
    u->installed = b;
    u->replaced = slot->blob;
    if (slot->blob == NULL)
        tab->count++;
    slot->hash = hash;
    slot->blob = b;
    return IMC_OK;
}

static imc_status mem_scan(void *vtxn, imc_dir_table t, imc_dir_scan_fn fn, void *ctx)
{
    mem_txn *x = vtxn;
    if (x == NULL || !table_ok(t) || fn == NULL)
        return IMC_ERR_ARG;
    const mem_table *tab = &x->s->tables[t];
    for (size_t i = 0; i < tab->cap; i++) {
        const uint8_t *b = tab->slots[i].blob;
        if (b != NULL && fn(ctx, blob_key(b), blob_key_len(b), blob_val(b), blob_val_len(b)) != 0)
            break;
    }
    return IMC_OK;
}

static imc_status mem_commit(void *vtxn)
{
    mem_txn *x = vtxn;
    if (x == NULL)
        return IMC_ERR_ARG;
    /* Each replaced item is freed once: a key put twice replaced, the
     * second time, the item the first put installed. */
    for (size_t i = 0; x->write && i < x->nundo; i++)
        free(x->undo[i].replaced);
    x->nundo = 0;
    pthread_rwlock_unlock(&x->s->lock);
    return IMC_OK;
}

static void mem_abort(void *vtxn)
{
    mem_txn *x = vtxn;
    if (x == NULL)
        return;
    for (size_t i = x->nundo; x->write && i-- > 0;) {
        const undo_rec *u = &x->undo[i];
        mem_table *tab = &x->s->tables[u->t];
        size_t at = table_find(tab, u->hash, blob_key(u->installed), blob_key_len(u->installed));
        if (u->replaced != NULL)
            tab->slots[at].blob = u->replaced;
        else
            table_delete(tab, at);
        free(u->installed);
    }
    x->nundo = 0;
    pthread_rwlock_unlock(&x->s->lock);
}

static void mem_close(void *self)
{
    mem_store *s = self;
    if (s == NULL)
        return;
    for (size_t t = 0; t < IMC_DIR_TABLE_COUNT; t++)
        table_free(&s->tables[t]);
    free(s->wtxn.undo);
    pthread_rwlock_destroy(&s->lock);
    imc_wipe(s->key, sizeof s->key);
    free(s);
}

static const imc_dir_store_ops MEM_OPS = {
    "memory", mem_begin, mem_get, mem_put, mem_scan, mem_commit, mem_abort, mem_close,
};

imc_status imc_dir_store_mem_open(imc_dir_store *store, const imc_backend *b,
                                  size_t expected_handles)
{
    if (store == NULL)
        return IMC_ERR_ARG;
    memset(store, 0, sizeof *store);
    if (b == NULL)
        return IMC_ERR_ARG;
    mem_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return IMC_ERR_NOMEM;
    if (pthread_rwlock_init(&s->lock, NULL) != 0) {
        free(s);
        return IMC_ERR_NOMEM;
    }
    s->rtxn.s = s;
    s->wtxn.s = s;
    s->wtxn.write = true;
    imc_status st = imc_crypto_random(b, s->key, sizeof s->key);
    if (st == IMC_OK)
        st = table_init(&s->tables[IMC_DIR_TABLE_META], 4);
    if (st == IMC_OK)
        st = table_init(&s->tables[IMC_DIR_TABLE_HANDLES], expected_handles);
    if (st == IMC_OK)
        st = table_init(&s->tables[IMC_DIR_TABLE_DEVICES], expected_handles);
    /* The log: about two nodes and one leaf per update; the index about
     * two nodes per handle. */
    if (st == IMC_OK)
        st = table_init(&s->tables[IMC_DIR_TABLE_KT_META], 4);
    if (st == IMC_OK)
        st = table_init(&s->tables[IMC_DIR_TABLE_KT_NODES], 2 * expected_handles);
    if (st == IMC_OK)
        st = table_init(&s->tables[IMC_DIR_TABLE_KT_LEAVES], expected_handles);
    if (st == IMC_OK)
        st = table_init(&s->tables[IMC_DIR_TABLE_KT_INDEX], 2 * expected_handles);
    if (st == IMC_OK)
        st = table_init(&s->tables[IMC_DIR_TABLE_KT_HISTORY], expected_handles);
    if (st != IMC_OK) {
        mem_close(s);
        return st;
    }
    store->ops = &MEM_OPS;
    store->self = s;
    return IMC_OK;
}
