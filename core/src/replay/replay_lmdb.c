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
 * seen half-initialised; and before LMDB maps an existing file, the file is
 * checked to be an LMDB file as long as its newest meta page says (mapping
 * a truncated file would fault on the first read of a missing page).
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

#define MAP_BYTES ((size_t)64 << 30) /* address space only; the file grows as needed */
#define FORMAT 1

struct imc_replay_db {
    MDB_env *env;
    MDB_dbi meta, senders;
    int lock_fd; /* holds the flock */
};

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

/* ---- Checking a file before LMDB maps it --------------------------------- */

/* LMDB's on-disk meta page (lmdb.h data version 1, 64-bit build): a 16-byte
 * page header, then magic (u32), version (u32), address, map size, two
 * 48-byte database records (the first one's first u32 is the page size),
 * the last used page number and the transaction id, in native byte order. */
#define META_OFF 16
#define META_MAGIC 0xBEEFC0DEu
#define META_BYTES (META_OFF + 136)

typedef struct meta_view {
    uint32_t psize;
    uint64_t last_pg, txnid;
    bool ok;
} meta_view;

static meta_view read_meta(int fd, off_t at)
{
    meta_view v = {0, 0, 0, false};
    uint8_t page[META_BYTES];
    if (pread(fd, page, sizeof page, at) != (ssize_t)sizeof page)
        return v;
    uint32_t magic, version;
    memcpy(&magic, page + META_OFF, 4);
    memcpy(&version, page + META_OFF + 4, 4);
    memcpy(&v.psize, page + META_OFF + 24, 4);
    memcpy(&v.last_pg, page + META_OFF + 120, 8);
    memcpy(&v.txnid, page + META_OFF + 128, 8);
    v.ok = magic == META_MAGIC && version == 1 && v.psize >= 512 && v.psize <= 65536 &&
           (v.psize & (v.psize - 1)) == 0 && v.last_pg >= 1 && v.last_pg < ((uint64_t)1 << 40);
    return v;
}

/* IMC_OK if the open file fd is a regular file holding both LMDB meta
 * pages and every page the newer one refers to. */
static imc_status check_file(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return IMC_ERR_IO;
    if (!S_ISREG(st.st_mode))
        return IMC_ERR_MALFORMED;
    meta_view m0 = read_meta(fd, 0);
    if (!m0.ok)
        return IMC_ERR_MALFORMED;
    meta_view m1 = read_meta(fd, (off_t)m0.psize);
    if (!m1.ok || m1.psize != m0.psize)
        return IMC_ERR_MALFORMED;
    const meta_view *cur = m1.txnid > m0.txnid ? &m1 : &m0;
    uint64_t need = (cur->last_pg + 1) * cur->psize;
    return (uint64_t)st.st_size >= need ? IMC_OK : IMC_ERR_MALFORMED;
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

static int env_open(imc_replay_db *db, const char *path)
{
    int rc = mdb_env_create(&db->env);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_maxdbs(db->env, 2);
    if (rc == MDB_SUCCESS)
        rc = mdb_env_set_mapsize(db->env, MAP_BYTES);
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

/* Opens (create: creates) both databases and, when creating, writes the
 * meta values with a fresh key. */
static int open_tables(imc_replay_db *db, bool create, const imc_backend *b, imc_rng *rng)
{
    MDB_txn *txn = NULL;
    unsigned flags = create ? MDB_CREATE : 0;
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    if (rc == MDB_SUCCESS)
        rc = mdb_dbi_open(txn, "replay-meta", flags, &db->meta);
    if (rc == MDB_SUCCESS)
        rc = mdb_dbi_open(txn, "replay-senders", flags, &db->senders);
    if (rc == MDB_SUCCESS && create) {
        uint8_t key[IMC_SIPHASH_KEY_BYTES], format = FORMAT;
        rc = imc_rng_fill(rng, b, key, sizeof key) == IMC_OK ? MDB_SUCCESS : EIO;
        if (rc == MDB_SUCCESS)
            rc = put_raw(txn, db->meta, "format", &format, 1);
        if (rc == MDB_SUCCESS)
            rc = put_raw(txn, db->meta, "key", key, sizeof key);
        if (rc == MDB_SUCCESS)
            rc = put_floor(txn, db->meta, 0);
        imc_wipe(key, sizeof key);
    }
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
    rc = mdb_stat(txn, db->meta, &s);
    if (rc == MDB_SUCCESS && s.ms_entries != 3)
        rc = MDB_INVALID;
    if (rc == MDB_SUCCESS)
        rc = get_raw(txn, db->meta, "format", &fv);
    if (rc == MDB_SUCCESS)
        rc = get_raw(txn, db->meta, "key", &kv);
    if (rc == MDB_SUCCESS)
        rc = get_raw(txn, db->meta, "floor", &lv);
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
    int rc = env_open(db, tmp);
    if (rc == MDB_SUCCESS)
        rc = open_tables(db, true, b, rng);
    db_free(db);
    imc_status st = rc == MDB_SUCCESS ? IMC_OK : map_err(rc == MDB_NOTFOUND ? EIO : rc);
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
                              uint64_t *global_floor, const char *dir, const imc_backend *b,
                              imc_rng *rng)
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
    if (st == IMC_OK)
        st = check_file(db->lock_fd);
    int rc = MDB_SUCCESS;
    if (st == IMC_OK)
        rc = env_open(db, path);
    if (st == IMC_OK && rc == MDB_SUCCESS)
        rc = open_tables(db, false, b, rng);
    if (st == IMC_OK)
        st = map_err(rc);
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
        rc = mdb_cursor_open(txn, db->senders, &c);
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
        rc = mdb_del(txn, db->senders, &d, NULL);
        if (rc == MDB_SUCCESS)
            rc = put_floor(txn, db->meta, global_floor);
    }
    MDB_val k = {IMC_REPLAY_TAG_BYTES, (void *)(uintptr_t)tag},
            v = {rec_len, (void *)(uintptr_t)rec};
    if (rc == MDB_SUCCESS)
        rc = mdb_put(txn, db->senders, &k, &v, 0);
    if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return IMC_ERR_IO;
    }
    return mdb_txn_commit(txn) == MDB_SUCCESS ? IMC_OK : IMC_ERR_IO;
}
