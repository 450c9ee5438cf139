/* Target mdb_file: the check every LMDB file imcore opens goes through
 * before LMDB maps it (core/src/util/mdbfile.h: the directory store, a
 * device's replay state and client state). LMDB trusts the file it maps;
 * this check is what turns an empty, foreign or truncated file into
 * IMC_ERR_MALFORMED instead of a new database or a SIGBUS.
 *
 * The input is the whole file (written to $TMPDIR). Invariants: the check
 * says OK (the file exists) or MALFORMED, never anything else for a
 * readable regular file, and the same twice; and the header rules, written
 * here again from LMDB's layout (data version 1, native byte order): both
 * meta pages carry the magic and the version, page 0 names a power-of-two
 * page size of 512..65536 that page 1 repeats, the file is at least two
 * whole pages, and the newer meta page (by transaction id) names a last
 * page >= 1. A file that breaks one of them is MALFORMED; one that keeps
 * them all and holds every page up to the last one is OK (only a shorter
 * file has its trees walked, and may go either way). Seeds are real files
 * written by the library (scripts/gen-corpus). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "util/mdbfile.h"

static char path[512];

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* The header rules: -1 broken, 1 kept and whole, 0 kept but shorter than
 * the last page (the walk decides). */
static int header_rules(const uint8_t *d, size_t size)
{
    /* A meta page: the 16-byte page header, then magic (4), version (4),
     * map address (8), map size (8), two database descriptors of 48 bytes
     * (the first one's leading pad field holds the page size), the last
     * page number (8), the transaction id (8). */
    enum { MAGIC = 16, VERSION = 20, PSIZE = 40, LAST_PG = 136, TXNID = 144, END = 152 };
    if (size < END)
        return -1;
    uint64_t psize = le(d + PSIZE, 4);
    if (le(d + MAGIC, 4) != 0xBEEFC0DEu || le(d + VERSION, 4) != 1 || psize < 512 ||
        psize > 65536 || (psize & (psize - 1)) != 0)
        return -1;
    if (size < 2 * psize || size % psize != 0)
        return -1;
    const uint8_t *m1 = d + psize;
    if (le(m1 + MAGIC, 4) != 0xBEEFC0DEu || le(m1 + VERSION, 4) != 1 || le(m1 + PSIZE, 4) != psize)
        return -1;
    const uint8_t *m = le(m1 + TXNID, 8) > le(d + TXNID, 8) ? m1 : d;
    uint64_t last = le(m + LAST_PG, 8);
    if (last < 1 || last == UINT64_MAX)
        return -1;
    return size / psize > last ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/imcore-fuzz-mdb-file-%ld.mdb",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", path);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size, "cannot write %s", path);
    FUZZ_CHECK(fclose(f) == 0, "cannot write %s", path);

    bool exists = false, exists2 = false;
    imc_status st = imc_mdbfile_check(path, &exists);
    imc_status st2 = imc_mdbfile_check(path, &exists2);
    (void)remove(path);
    FUZZ_CHECK(st == st2 && exists == exists2, "two checks of one file: %s, %s",
               imc_status_str(st), imc_status_str(st2));
    FUZZ_CHECK((st == IMC_OK || st == IMC_ERR_MALFORMED) && exists,
               "check of a readable file: %s (exists %d)", imc_status_str(st), (int)exists);
    int rules = header_rules(data, size);
    if (rules < 0)
        FUZZ_CHECK(st == IMC_ERR_MALFORMED, "a file that breaks the header rules passed");
    if (rules > 0)
        FUZZ_CHECK(st == IMC_OK, "a whole file that keeps the header rules refused: %s",
                   imc_status_str(st));
    fuzz_count(st == IMC_OK ? (rules > 0 ? "mdb_file.ok-whole" : "mdb_file.ok-walked")
               : rules < 0  ? "mdb_file.malformed-header"
                            : "mdb_file.malformed-walked");
    return 0;
}
