/* The LMDB directory store: one environment file (MDB_NOSUBDIR; the lock
 * file is path + "-lock") with one named database per table.
 *
 * Durability: every write transaction is one mdb_txn_commit. LMDB writes
 * the new pages, then (unless no_sync) fsyncs them and then the meta page
 * that points at them; a process killed at any moment leaves the previous
 * or the new meta page, never a mix, so an update is all there or not at
 * all. A writer killed while holding the write lock is recovered by the
 * robust mutex on Linux, and stale reader slots of dead processes are
 * cleared at open (mdb_reader_check).
 *
 * MDB_NOTLS ties reader slots to transactions, not threads, so any thread
 * may run read transactions concurrently with one writer. Do not open the
 * same file twice in one process (LMDB's own rule). */
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "util/mdbfile.h"

#define DEFAULT_MAP_BYTES ((size_t)64 << 30)

static const char *const DB_NAMES[IMC_DIR_TABLE_COUNT] = {
    "meta", "handles", "devices", "kt_meta", "kt_nodes", "kt_leaves", "kt_index", "kt_history"};
/* Files written before the transparency tables lack them: a writable open
 * adds them (empty), and the directory then refuses the file by its format
 * stamp with a clear error rather than as a foreign file. */
static const imc_mdbfile_layout LAYOUT = {DB_NAMES, IMC_DIR_TABLE_COUNT,
                                          IMC_DIR_TABLE_BASE_COUNT};

typedef struct lmdb_store {
    MDB_env *env;
    MDB_dbi dbi[IMC_DIR_TABLE_COUNT];
    bool read_only;
} lmdb_store;

static imc_status map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return IMC_OK;
    case MDB_NOTFOUND: return IMC_ERR_NOT_FOUND;
    case ENOMEM: return IMC_ERR_NOMEM;
    case EINVAL: return IMC_ERR_ARG;
    default: return IMC_ERR_IO;
    }
}

static lmdb_store *store_of(MDB_txn *txn) { return mdb_env_get_userctx(mdb_txn_env(txn)); }

static bool table_ok(imc_dir_table t) { return (unsigned)t < IMC_DIR_TABLE_COUNT; }

static imc_status lmdb_begin(void *self, bool write, void **txn)
{
    lmdb_store *s = self;
    if (s == NULL || txn == NULL || (write && s->read_only))
        return IMC_ERR_ARG;
    MDB_txn *t = NULL;
    int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the map: adopt its size and retry once. */
        rc = mdb_env_set_mapsize(s->env, 0);
        if (rc == MDB_SUCCESS)
            rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t);
    }
    *txn = rc == MDB_SUCCESS ? t : NULL;
    return rc == MDB_SUCCESS ? IMC_OK : map_err(rc == MDB_NOTFOUND ? EIO : rc);
}

static imc_status lmdb_get(void *txn, imc_dir_table t, const uint8_t *key, size_t key_len,
                           const uint8_t **val, size_t *val_len)
{
    if (txn == NULL || !table_ok(t) || key == NULL || key_len == 0 || val == NULL ||
        val_len == NULL)
        return IMC_ERR_ARG;
    MDB_dbi dbi = store_of(txn)->dbi[t];
    if (dbi == 0)
        return IMC_ERR_NOT_FOUND; /* a table this read-only file does not have */
    MDB_val k = {key_len, (void *)(uintptr_t)key}, v = {0, NULL};
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != MDB_SUCCESS)
        return map_err(rc);
    *val = v.mv_data;
    *val_len = v.mv_size;
    return IMC_OK;
}

static imc_status lmdb_put(void *txn, imc_dir_table t, const uint8_t *key, size_t key_len,
                           const uint8_t *val, size_t val_len)
{
    if (txn == NULL || !table_ok(t) || key == NULL || key_len == 0 || (val == NULL && val_len != 0))
        return IMC_ERR_ARG;
    MDB_val k = {key_len, (void *)(uintptr_t)key}, v = {val_len, (void *)(uintptr_t)val};
    int rc = mdb_put(txn, store_of(txn)->dbi[t], &k, &v, 0);
    return rc == MDB_NOTFOUND ? IMC_ERR_IO : map_err(rc);
}

static imc_status lmdb_scan(void *txn, imc_dir_table t, imc_dir_scan_fn fn, void *ctx)
{
    if (txn == NULL || !table_ok(t) || fn == NULL)
        return IMC_ERR_ARG;
    MDB_dbi dbi = store_of(txn)->dbi[t];
    if (dbi == 0)
        return IMC_OK; /* a table this read-only file does not have: empty */
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != MDB_SUCCESS)
        return map_err(rc == MDB_NOTFOUND ? EIO : rc);
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        if (fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size) != 0)
            break;
    mdb_cursor_close(c);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? IMC_OK : map_err(rc);
}

static imc_status lmdb_commit(void *txn)
{
    if (txn == NULL)
        return IMC_ERR_ARG;
    int rc = mdb_txn_commit(txn);
    return rc == MDB_SUCCESS ? IMC_OK : map_err(rc == MDB_NOTFOUND ? EIO : rc);
}

static void lmdb_abort(void *txn)
{
    if (txn != NULL)
        mdb_txn_abort(txn);
}

static void lmdb_close(void *self)
{
    lmdb_store *s = self;
    if (s == NULL)
        return;
    if (s->env != NULL)
        mdb_env_close(s->env);
    free(s);
}

static const imc_dir_store_ops LMDB_OPS = {
    "lmdb", lmdb_begin, lmdb_get, lmdb_put, lmdb_scan, lmdb_commit, lmdb_abort, lmdb_close,
};

imc_status imc_dir_store_lmdb_open(imc_dir_store *store, const char *path,
                                   const imc_dir_lmdb_options *opt)
{
    if (store == NULL)
        return IMC_ERR_ARG;
    memset(store, 0, sizeof *store);
    if (path == NULL || *path == '\0')
        return IMC_ERR_ARG;
    /* The file is checked before LMDB maps it: an empty, truncated or
     * foreign file is refused here, never taken as a new directory and
     * never left to fault at the first read. */
    bool exists = false;
    imc_status st = imc_mdbfile_check(path, &exists);
    if (st != IMC_OK)
        return st;
    bool read_only = opt != NULL && opt->read_only;
    if (!exists && read_only)
        return IMC_ERR_NOT_FOUND;
    lmdb_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return IMC_ERR_NOMEM;
    s->read_only = read_only;
    size_t map = opt != NULL && opt->map_bytes != 0 ? opt->map_bytes : DEFAULT_MAP_BYTES;
    unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
    if (s->read_only)
        flags |= MDB_RDONLY;
    if (opt != NULL && opt->no_sync)
        flags |= MDB_NOSYNC;
    int rc = mdb_env_create(&s->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs(s->env, IMC_DIR_TABLE_COUNT);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(s->env, map);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_userctx(s->env, s);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_open(s->env, path, flags, 0600);
    int dead = 0;
    if (rc == MDB_SUCCESS)
        rc = mdb_reader_check(s->env, &dead);
    if (rc != MDB_SUCCESS) {
        lmdb_close(s);
        st = rc == ENOENT || rc == MDB_NOTFOUND ? IMC_ERR_NOT_FOUND : map_err(rc);
        if (rc > 0)
            errno = rc; /* for the caller's message: EACCES, EROFS, ... */
        return st;
    }
    st = imc_mdbfile_open_tables(s->env, &LAYOUT, s->read_only, s->dbi);
    if (st != IMC_OK) {
        int err = errno;
        lmdb_close(s);
        errno = err;
        return st;
    }
    store->ops = &LMDB_OPS;
    store->self = s;
    return IMC_OK;
}
