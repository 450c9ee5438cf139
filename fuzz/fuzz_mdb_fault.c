/* Fault injection into LMDB, at link time: every fuzz harness is linked
 * with -Wl,--wrap=<each call below> (fuzz/mdb_fault.cmake), so the
 * library's calls into LMDB go through these wrappers. A harness arms
 * "the n-th LMDB call from now fails with rc" (fuzz_mdb_fail); that one
 * call returns rc instead of reaching LMDB (a failed commit still ends its
 * transaction, as LMDB's does), every other call goes straight through.
 * The library is unchanged: it sees exactly the errors LMDB can return. */
#include <lmdb.h>

#include "fuzz_common.h"

static unsigned countdown; /* 0: disarmed */
static int fail_rc;
static bool fired;

void fuzz_mdb_fail(unsigned nth, int rc)
{
    countdown = nth;
    fail_rc = rc;
    fired = false;
}

bool fuzz_mdb_fired(void)
{
    bool f = fired;
    countdown = 0;
    fired = false;
    return f;
}

static bool trip(void)
{
    if (countdown == 0 || --countdown != 0)
        return false;
    fired = true;
    return true;
}

/* The wrapped calls: __real_f is LMDB's own, __wrap_f what the library
 * calls. */
#define WRAP(f, params, args)                                                                      \
    int __real_##f params;                                                                         \
    int __wrap_##f params;                                                                         \
    int __wrap_##f params { return trip() ? fail_rc : __real_##f args; }

WRAP(mdb_env_open, (MDB_env * env, const char *path, unsigned int flags, mdb_mode_t mode),
     (env, path, flags, mode))
WRAP(mdb_txn_begin, (MDB_env * env, MDB_txn *parent, unsigned int flags, MDB_txn **txn),
     (env, parent, flags, txn))
WRAP(mdb_dbi_open, (MDB_txn * txn, const char *name, unsigned int flags, MDB_dbi *dbi),
     (txn, name, flags, dbi))
WRAP(mdb_get, (MDB_txn * txn, MDB_dbi dbi, MDB_val *key, MDB_val *data), (txn, dbi, key, data))
WRAP(mdb_put, (MDB_txn * txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned int flags),
     (txn, dbi, key, data, flags))
WRAP(mdb_del, (MDB_txn * txn, MDB_dbi dbi, MDB_val *key, MDB_val *data), (txn, dbi, key, data))
WRAP(mdb_cursor_open, (MDB_txn * txn, MDB_dbi dbi, MDB_cursor **cursor), (txn, dbi, cursor))
WRAP(mdb_cursor_get, (MDB_cursor * cursor, MDB_val *key, MDB_val *data, MDB_cursor_op op),
     (cursor, key, data, op))

/* A failed commit still ends its transaction, as LMDB's does. */
int __real_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn)
{
    if (trip()) {
        mdb_txn_abort(txn);
        return fail_rc;
    }
    return __real_mdb_txn_commit(txn);
}
