/* Fault injection at link time: every fuzz harness is linked with
 * -Wl,--wrap=<each call below> (fuzz/fault.cmake), so the library's calls
 * into LMDB and its allocations go through these wrappers. A harness arms
 * "the n-th LMDB call from now fails with rc" (fuzz_mdb_fail) or "the
 * n-th allocation from now returns NULL" (fuzz_alloc_fail); that one call
 * fails instead of reaching LMDB or the allocator (a failed commit still
 * ends its transaction, as LMDB's does), every other call goes straight
 * through. The library is unchanged: it sees exactly the errors LMDB and
 * malloc can return. */
#include <lmdb.h>
#include <stdlib.h>

#include "fuzz_common.h"

/* One armed failure: the countdown's call fails (0: disarmed). */
typedef struct trigger {
    unsigned countdown;
    bool fired;
} trigger;

static void arm(trigger *t, unsigned nth)
{
    t->countdown = nth;
    t->fired = false;
}

static bool disarm(trigger *t)
{
    bool f = t->fired;
    arm(t, 0);
    return f;
}

static bool pull(trigger *t)
{
    if (t->countdown == 0 || --t->countdown != 0)
        return false;
    t->fired = true;
    return true;
}

static trigger mdb_trigger, alloc_trigger;
static int fail_rc;

void fuzz_mdb_fail(unsigned nth, int rc)
{
    arm(&mdb_trigger, nth);
    fail_rc = rc;
}

bool fuzz_mdb_fired(void)
{
    return disarm(&mdb_trigger);
}

static bool trip(void)
{
    return pull(&mdb_trigger);
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

/* ---- Allocations ---------------------------------------------------------- */

void fuzz_alloc_fail(unsigned nth)
{
    arm(&alloc_trigger, nth);
}

bool fuzz_alloc_fired(void)
{
    return disarm(&alloc_trigger);
}

static bool alloc_trip(void)
{
    return pull(&alloc_trigger);
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t count, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t count, size_t n);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    return alloc_trip() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t count, size_t n)
{
    return alloc_trip() ? NULL : __real_calloc(count, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return alloc_trip() ? NULL : __real_realloc(p, n);
}
