/* Private to libimcore: recognising an LMDB file before LMDB maps it.
 *
 * LMDB trusts the file it maps: an empty file is taken as a new database,
 * and a file shorter than the pages its meta page points at dies with
 * SIGBUS at the first read. Every LMDB file imcore opens (the directory
 * store; a device's replay and client state) goes through these two calls
 * instead of calling mdb_env_open on a bare path:
 *
 *   bool exists;
 *   st = imc_mdbfile_check(path, &exists);      before mdb_env_open
 *   ... if (!exists && read_only) the file is missing ...
 *   mdb_env_open(env, path, MDB_NOSUBDIR | ..., 0600);
 *   st = imc_mdbfile_open_tables(env, &layout, read_only, dbi);
 *
 * The layout is the list of named databases a file of one kind holds; a
 * new file gets them, an existing one must have them all (another
 * program's LMDB file is refused rather than extended). The on-disk
 * structures read here are LMDB's own (lmdb.h / mdb.c, data version 1),
 * described in docs/directory.md, "Storage". */
#ifndef IMCORE_UTIL_MDBFILE_H
#define IMCORE_UTIL_MDBFILE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>

#include "imcore/status.h"

typedef struct imc_mdbfile_layout {
    const char *const *tables; /* names of the named databases */
    size_t table_count;
    /* The first `required` tables must be present (0: all). The others were
     * added by a later version: a writable open adds them to a file that
     * lacks them; a read-only open leaves their dbi 0 (no such table). */
    size_t required;
} imc_mdbfile_layout;

/* Checks the file at `path` before it is mapped, with plain reads.
 * IMC_OK: *exists is false if there is no file (LMDB would create one),
 * true if it is a well-formed LMDB file whose every reachable page lies
 * within it. IMC_ERR_MALFORMED: empty, not an LMDB file (magic, version,
 * page size), truncated (not whole pages, shorter than its meta pages, or
 * shorter than a page its trees reach), or not a regular file. IMC_ERR_IO: it cannot be read; errno
 * holds the reason. Nothing is written. */
IMC_MUST_USE imc_status imc_mdbfile_check(const char *path, bool *exists);

/* After mdb_env_open (MDB_NOSUBDIR, maxdbs >= table_count): opens every
 * table of `layout` into dbi[0..table_count) in one transaction. A file
 * that holds no named database yet (just created) gets them, unless
 * read_only (then IMC_ERR_MALFORMED: there is nothing to read). A file
 * missing any required one belongs to something else: IMC_ERR_MALFORMED. Other
 * LMDB failures: IMC_ERR_IO with errno set when LMDB gave a system error. */
IMC_MUST_USE imc_status imc_mdbfile_open_tables(MDB_env *env, const imc_mdbfile_layout *layout,
                                                bool read_only, MDB_dbi *dbi);

#endif
