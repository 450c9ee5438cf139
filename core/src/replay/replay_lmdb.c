/* The replay state's file: dir/replay.mdb, one LMDB environment
 * (MDB_NOSUBDIR; the lock file is path + "-lock") with two named
 * databases:
 *
 *   replay-meta     "format" -> 1 byte (1), "key" -> 16 bytes (the SipHash
 *                   key), "floor" -> 8 bytes big-endian (the global floor);
 *                   nothing else
 *   replay-senders  sender tag (16 bytes) -> the sender's record (replay.c)
 *
 * Durability: every accept is one synchronous mdb_txn_commit (data pages,
 * fsync, meta page, fsync), so a process killed at any moment leaves the
 * state before or after that accept, never a mix. The file is created
 * complete under a temporary name and linked into place, so it is never
 * seen half-initialised; and before LMDB maps an existing file it goes
 * through the shared check (util/mdbfile.h: empty, truncated or foreign
 * files are refused, never mapped).
 * An exclusive flock on the file keeps a second state (in this process or
 * another) from opening it: two in-memory copies would each accept a
 * message once. */
#define _DEFAULT_SOURCE /* flock */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imcore/util.h"
#include "imcore/wire.h"
#include "replay/replay_impl.h"
#include "util/mdbfile.h"

#define FORMAT 1

static const char *const TABLES[] = {"replay-meta", "replay-senders"};
static const imc_mdbfile_layout LAYOUT = {TABLES, 2, 0};

struct imc_replay_db {
    MDB_env *env;
    MDB_dbi dbi[2]; /* LAYOUT's tables: meta, senders */
    int lock_fd;    /* holds the flock */
};

#define META dbi[0]
#define SENDERS dbi[1]

static imc_status map_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return IMC_OK;
    case ENOMEM: return IMC_ERR_NOMEM;
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_NOTFOUND:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE: return IMC_ERR_MALFORMED;
    default: return IMC_ERR_IO;
    }
}

/* ---- Environment ----------------------------------------------------------- */

static void db_free(imc_replay_db *db)
{
    if (db == NULL)
        return;
    if (db->env != NULL)
        mdb_env_close(db->env);
    if (db->lock_fd >= 0)
        close(db->lock_fd);
    free(db);
}

void imc_replay_db_close(imc_replay_db *db) { db_free(db); }

/* map_bytes is address space only: the file grows as pages are used. */
static int env_open(imc_replay_db *db, const char *path, size_t map_bytes)
{
    int rc = mdb_env_create(&db->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs(db->env, 2);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(db->env, map_bytes);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_open(db->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
    int dead = 0;
    if (rc == MDB_SUCCESS)
        rc = mdb_reader_check(db->env, &dead);
    return rc;
}

static int put_raw(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *val, size_t len)
{
    MDB_val k = {strlen(key), (void *)(uintptr_t)key}, v = {len, (void *)(uintptr_t)val};
    return mdb_put(txn, dbi, &k, &v, 0);
}

static int get_raw(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *val)
{
    MDB_val k = {strlen(key), (void *)(uintptr_t)key};
    return mdb_get(txn, dbi, &k, val);
}

static int put_floor(MDB_txn *txn, MDB_dbi dbi, uint64_t floor)
{
    uint8_t buf[8];
    imc_writer w;
    imc_wire_writer_init(&w, buf, sizeof buf);
    imc_wire_write_u64(&w, floor);
    return put_raw(txn, dbi, "floor", buf, sizeof buf);
}

/* A new file's meta values, with a fresh key. */
static int write_meta(imc_replay_db *db, const imc_backend *b, imc_rng *rng)
{
    MDB_txn *txn = NULL;
    uint8_t key[IMC_SIPHASH_KEY_BYTES], format = FORMAT;
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc == MDB_SUCCESS)
        rc = imc_rng_fill(rng, b, key, sizeof key) == IMC_OK ? MDB_SUCCESS : EIO;
    if (rc == MDB_SUCCESS)
        rc = put_raw(txn, db->META, "format", &format, 1);
    if (rc == MDB_SUCCESS)
        rc = put_raw(txn, db->META, "key", key, sizeof key);
    if (rc == MDB_SUCCESS)
        rc = put_floor(txn, db->META, 0);
    imc_wipe(key, sizeof key);
    if (rc == MDB_SUCCESS)
        return mdb_txn_commit(txn);
    if (txn != NULL)
        mdb_txn_abort(txn);
    return rc;
}

/* Strict: exactly the three meta values, each of its size, format 1. */
static imc_status read_meta_values(imc_replay_db *db, uint8_t key[IMC_SIPHASH_KEY_BYTES],
                                   uint64_t *floor)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc != MDB_SUCCESS)
        return map_err(rc);
    MDB_stat s;
    MDB_val fv = {0, NULL}, kv = {0, NULL}, lv = {0, NULL};
    rc = mdb_stat(txn, db->META, &s);
    if (rc == MDB_SUCCESS && s.ms_entries != 3)
        rc = MDB_INVALID;
    if (rc == MDB_SUCCESS)
        rc = get_raw(txn, db->META, "format", &fv);
    if (rc == MDB_SUCCESS)
        rc = get_raw(txn, db->META, "key", &kv);
    if (rc == MDB_SUCCESS)
        rc = get_raw(txn, db->META, "floor", &lv);
    imc_status st = map_err(rc);
    if (st == IMC_OK && (fv.mv_size != 1 || *(const uint8_t *)fv.mv_data != FORMAT ||
                         kv.mv_size != IMC_SIPHASH_KEY_BYTES))
        st = IMC_ERR_MALFORMED;
    if (st == IMC_OK) {
        imc_reader r;
        imc_wire_reader_init(&r, lv.mv_data, lv.mv_size);
        *floor = imc_wire_read_u64(&r);
        st = imc_wire_reader_finish(&r);
        memcpy(key, kv.mv_data, IMC_SIPHASH_KEY_BYTES);
    }
    mdb_txn_abort(txn);
    return st;
}

/* Creates path complete: a new environment under a temporary name, its
 * tables and meta values committed, then linked to path (link fails if
 * another process created path meanwhile: that file wins). */
static imc_status create_file(const char *dir, const char *path, const imc_backend *b,
                              imc_rng *rng)
{
    char tmp[4096], tmp_lock[4096 + 8];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= sizeof tmp)
        return IMC_ERR_ARG;
    snprintf(tmp_lock, sizeof tmp_lock, "%s-lock", tmp);
    unlink(tmp);
    unlink(tmp_lock);
    imc_replay_db *db = calloc(1, sizeof *db);
    if (db == NULL)
        return IMC_ERR_NOMEM;
    db->lock_fd = -1;
    int rc = env_open(db, tmp, (size_t)1 << 20);
    imc_status st = rc == MDB_SUCCESS ? imc_mdbfile_open_tables(db->env, &LAYOUT, false, db->dbi)
                                      : map_err(rc);
    if (st == IMC_OK)
        st = map_err(write_meta(db, b, rng));
    db_free(db);
    if (st == IMC_OK && link(tmp, path) != 0 && errno != EEXIST)
        st = IMC_ERR_IO;
    unlink(tmp);
    unlink(tmp_lock);
    /* The new name must survive a crash too. */
    int dfd = st == IMC_OK ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (st == IMC_OK && (dfd < 0 || fsync(dfd) != 0))
        st = IMC_ERR_IO;
    if (dfd >= 0)
        close(dfd);
    return st;
}

imc_status imc_replay_db_open(imc_replay_db **out, uint8_t key[IMC_SIPHASH_KEY_BYTES],
                              uint64_t *global_floor, const char *dir, size_t map_bytes,
                              const imc_backend *b, imc_rng *rng)
{
    *out = NULL;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, IMC_REPLAY_FILE) >= sizeof path - 16)
        return IMC_ERR_ARG;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            return IMC_ERR_IO;
        imc_status st = create_file(dir, path, b, rng);
        if (st != IMC_OK)
            return st;
    }
    imc_replay_db *db = calloc(1, sizeof *db);
    if (db == NULL)
        return IMC_ERR_NOMEM;
    db->lock_fd = open(path, O_RDWR | O_CLOEXEC);
    imc_status st = db->lock_fd >= 0 ? IMC_OK : IMC_ERR_IO;
    if (st == IMC_OK && flock(db->lock_fd, LOCK_EX | LOCK_NB) != 0)
        st = IMC_ERR_IO;
    bool exists = false;
    if (st == IMC_OK)
        st = imc_mdbfile_check(path, &exists);
    if (st == IMC_OK && !exists)
        st = IMC_ERR_IO; /* removed under us */
    if (st == IMC_OK)
        st = map_err(env_open(db, path, map_bytes));
    if (st == IMC_OK)
        st = imc_mdbfile_open_tables(db->env, &LAYOUT, false, db->dbi);
    if (st == IMC_OK)
        st = read_meta_values(db, key, global_floor);
    if (st != IMC_OK) {
        db_free(db);
        return st;
    }
    *out = db;
    return IMC_OK;
}

/* ---- Records ------------------------------------------------------------------ */

imc_status imc_replay_db_scan(imc_replay_db *db, imc_replay_db_fn fn, void *ctx)
{
    MDB_txn *txn = NULL;
    MDB_cursor *c = NULL;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc == MDB_SUCCESS)
        rc = mdb_cursor_open(txn, db->SENDERS, &c);
    if (rc != MDB_SUCCESS) {
        if (txn != NULL)
            mdb_txn_abort(txn);
        return map_err(rc == MDB_NOTFOUND ? EIO : rc);
    }
    imc_status st = IMC_OK;
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS && st == IMC_OK;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        st = k.mv_size == IMC_REPLAY_TAG_BYTES ? fn(ctx, k.mv_data, v.mv_data, v.mv_size)
                                              : IMC_ERR_MALFORMED;
    if (st == IMC_OK && rc != MDB_NOTFOUND)
        st = map_err(rc);
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return st;
}

imc_status imc_replay_db_commit(imc_replay_db *db, const uint8_t tag[IMC_REPLAY_TAG_BYTES],
                                const uint8_t *rec, size_t rec_len, const uint8_t *drop,
                                uint64_t global_floor)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize(db->env, 0);
        if (rc == MDB_SUCCESS)
            rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    }
    if (rc != MDB_SUCCESS)
        return IMC_ERR_IO;
    if (drop != NULL) {
        MDB_val d = {IMC_REPLAY_TAG_BYTES, (void *)(uintptr_t)drop};
        rc = mdb_del(txn, db->SENDERS, &d, NULL);
        if (rc == MDB_SUCCESS)
            rc = put_floor(txn, db->META, global_floor);
    }
    MDB_val k = {IMC_REPLAY_TAG_BYTES, (void *)(uintptr_t)tag},
            v = {rec_len, (void *)(uintptr_t)rec};
    if (rc == MDB_SUCCESS)
        rc = mdb_put(txn, db->SENDERS, &k, &v, 0);
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return IMC_ERR_IO;
    }
    return mdb_txn_commit(txn) == MDB_SUCCESS ? IMC_OK : IMC_ERR_IO;
}
