/* Recognising an LMDB file before LMDB maps it (mdbfile.h).
 *
 * LMDB's layout (data version 1, 64-bit build, native byte order): the
 * file is a sequence of pages of one size; pages 0 and 1 are meta pages,
 * and LMDB uses the one with the larger transaction id. A page starts with
 * a 16-byte header (page number, pad, flags, lower, upper); a meta page's
 * body holds the magic, the version, the map address and size, the free
 * and main databases' descriptors (the first one's pad field is the page
 * size), the last page number in use and the transaction id.
 *
 * A file of whole pages only (LMDB never writes less). Fast path: a file at least (last page + 1) pages long is whole. LMDB can
 * leave the top pages unwritten when a transaction freed them again
 * ("loose" pages, never flushed), so a shorter file is not necessarily
 * truncated: then the free and main trees (and every named database and
 * overflow run they reach) are walked with plain reads, and the file is
 * refused only if a page they reach lies beyond its end. */
#define _POSIX_C_SOURCE 200809L /* pread, O_CLOEXEC under -std=c11 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mdbfile.h"

#define MDB_MAGIC_V 0xBEEFC0DEu
#define MDB_DATA_VERSION_V 1u
#define PAGE_HDR 16
#define MIN_PAGE 512
#define MAX_PAGE 65536
#define P_INVALID_V UINT64_MAX
#define MAX_DEPTH 64 /* LMDB's own cursors stop at 32 levels */

/* Offsets of a meta page's fields from the start of its page. */
#define META_MAGIC 16
#define META_VERSION 20
#define META_PSIZE 40     /* the free database's md_pad */
#define META_FREE_ROOT 80 /* the free database's md_root */
#define META_MAIN_ROOT 128
#define META_LAST_PG 136
#define META_TXNID 144
#define META_END 152

/* Page header fields and flags, and a node's layout. */
#define PG_FLAGS 10
#define PG_LOWER 12
#define PG_OVPAGES 12
#define P_BRANCH_F 0x01u
#define P_LEAF_F 0x02u
#define P_LEAF2_F 0x20u
#define NODE_HDR 8
#define F_BIGDATA_F 0x01u
#define F_SUBDATA_F 0x02u
#define DB_ROOT 40 /* md_root within a database descriptor */
#define DB_SIZE 48

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

typedef struct walk {
    int fd;
    uint64_t psize, pages; /* page size, whole pages in the file */
    uint64_t budget;       /* pages left to visit: a cycle cannot loop */
    uint8_t *buf[MAX_DEPTH];
} walk;

static imc_status read_at(int fd, uint8_t *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return IMC_ERR_IO;
        if (r == 0)
            return IMC_ERR_MALFORMED;
        got += (size_t)r;
    }
    return IMC_OK;
}

static imc_status walk_page(walk *w, uint64_t pgno, unsigned depth);

/* An overflow run: its first page says how many pages it spans. */
static imc_status walk_overflow(walk *w, uint64_t pgno)
{
    uint8_t hdr[PAGE_HDR];
    if (pgno >= w->pages)
        return IMC_ERR_MALFORMED;
    imc_status st = read_at(w->fd, hdr, sizeof hdr, pgno * w->psize);
    if (st != IMC_OK)
        return st;
    uint64_t n = get32(hdr + PG_OVPAGES);
    return get64(hdr) != pgno || n == 0 || n > w->pages - pgno ? IMC_ERR_MALFORMED : IMC_OK;
}

static imc_status walk_node(walk *w, const uint8_t *pg, uint16_t flags, uint16_t off,
                            unsigned depth)
{
    if (off < PAGE_HDR || off > w->psize - NODE_HDR)
        return IMC_ERR_MALFORMED;
    const uint8_t *node = pg + off;
    uint64_t lo = get16(node), hi = get16(node + 2), nflags = get16(node + 4);
    uint64_t ksize = get16(node + 6);
    if (flags & P_BRANCH_F)
        return walk_page(w, lo | hi << 16 | nflags << 32, depth + 1);
    if (!(nflags & (F_BIGDATA_F | F_SUBDATA_F)))
        return IMC_OK;
    uint64_t data = off + NODE_HDR + ksize;
    if (nflags & F_BIGDATA_F)
        return data + 8 > w->psize ? IMC_ERR_MALFORMED : walk_overflow(w, get64(pg + data));
    if (data + DB_SIZE > w->psize)
        return IMC_ERR_MALFORMED;
    uint64_t root = get64(pg + data + DB_ROOT);
    return root == P_INVALID_V ? IMC_OK : walk_page(w, root, depth + 1);
}

static imc_status walk_page(walk *w, uint64_t pgno, unsigned depth)
{
    if (pgno >= w->pages || pgno < 2)
        return IMC_ERR_MALFORMED;
    if (depth >= MAX_DEPTH || w->budget == 0)
        return IMC_ERR_MALFORMED;
    w->budget--;
    if (w->buf[depth] == NULL && (w->buf[depth] = malloc(w->psize)) == NULL)
        return IMC_ERR_NOMEM;
    uint8_t *pg = w->buf[depth];
    imc_status st = read_at(w->fd, pg, w->psize, pgno * w->psize);
    if (st != IMC_OK)
        return st;
    uint16_t flags = get16(pg + PG_FLAGS), lower = get16(pg + PG_LOWER);
    if (get64(pg) != pgno || !(flags & (P_BRANCH_F | P_LEAF_F)))
        return IMC_ERR_MALFORMED;
    if ((flags & P_LEAF2_F) != 0)
        return IMC_OK;
    if (lower < PAGE_HDR || lower > w->psize)
        return IMC_ERR_MALFORMED;
    for (size_t i = PAGE_HDR; i + 2 <= lower && st == IMC_OK; i += 2)
        st = walk_node(w, pg, flags, get16(pg + i), depth);
    return st;
}

/* Reads and checks the meta page at page `which` (0 or 1). */
static imc_status read_meta(int fd, uint64_t off, uint8_t meta[META_END])
{
    imc_status st = read_at(fd, meta, META_END, off);
    if (st != IMC_OK)
        return st;
    uint32_t psize = get32(meta + META_PSIZE);
    if (get32(meta + META_MAGIC) != MDB_MAGIC_V || get32(meta + META_VERSION) != MDB_DATA_VERSION_V)
        return IMC_ERR_MALFORMED;
    if (psize < MIN_PAGE || psize > MAX_PAGE || (psize & (psize - 1)) != 0)
        return IMC_ERR_MALFORMED;
    return IMC_OK;
}

static imc_status check_open_file(int fd, uint64_t size)
{
    uint8_t m0[META_END], m1[META_END];
    if (size < META_END)
        return IMC_ERR_MALFORMED;
    imc_status st = read_meta(fd, 0, m0);
    if (st != IMC_OK)
        return st;
    uint64_t psize = get32(m0 + META_PSIZE);
    /* LMDB writes whole pages: anything else was cut short. */
    if (size < 2 * psize || size % psize != 0)
        return IMC_ERR_MALFORMED;
    st = read_meta(fd, psize, m1);
    if (st != IMC_OK)
        return st;
    if (get32(m1 + META_PSIZE) != psize)
        return IMC_ERR_MALFORMED;
    const uint8_t *m = get64(m1 + META_TXNID) > get64(m0 + META_TXNID) ? m1 : m0;
    uint64_t last = get64(m + META_LAST_PG);
    if (last < 1 || last == UINT64_MAX)
        return IMC_ERR_MALFORMED;
    uint64_t pages = size / psize;
    if (pages > last)
        return IMC_OK; /* every page LMDB ever used is in the file */
    walk w = {.fd = fd, .psize = psize, .pages = pages, .budget = last + 1};
    uint64_t roots[2] = {get64(m + META_FREE_ROOT), get64(m + META_MAIN_ROOT)};
    for (size_t i = 0; i < 2 && st == IMC_OK; i++)
        if (roots[i] != P_INVALID_V)
            st = walk_page(&w, roots[i], 0);
    for (size_t i = 0; i < MAX_DEPTH; i++)
        free(w.buf[i]);
    return st;
}

imc_status imc_mdbfile_check(const char *path, bool *exists)
{
    if (exists == NULL)
        return IMC_ERR_ARG;
    *exists = false;
    if (path == NULL || *path == '\0')
        return IMC_ERR_ARG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? IMC_OK : IMC_ERR_IO;
    struct stat st;
    imc_status s = IMC_ERR_IO;
    if (fstat(fd, &st) == 0)
        s = !S_ISREG(st.st_mode) || st.st_size <= 0 ? IMC_ERR_MALFORMED
                                                    : check_open_file(fd, (uint64_t)st.st_size);
    int err = errno;
    close(fd);
    errno = err;
    *exists = true;
    return s;
}

imc_status imc_mdbfile_open_tables(MDB_env *env, const imc_mdbfile_layout *layout,
                                   bool read_only, MDB_dbi *dbi)
{
    if (env == NULL || layout == NULL || dbi == NULL)
        return IMC_ERR_ARG;
    MDB_txn *txn = NULL;
    MDB_dbi main_dbi;
    MDB_stat ms;
    int rc = mdb_txn_begin(env, NULL, read_only ? MDB_RDONLY : 0, &txn);
    if (rc == MDB_SUCCESS)
        rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
    if (rc == MDB_SUCCESS)
        rc = mdb_stat(txn, main_dbi, &ms);
    /* A file with no named database yet was just created: it gets them. */
    bool fresh = rc == MDB_SUCCESS && ms.ms_entries == 0;
    imc_status st = IMC_OK;
    if (fresh && read_only)
        st = IMC_ERR_MALFORMED;
    size_t required = layout->required != 0 ? layout->required : layout->table_count;
    for (size_t t = 0; t < layout->table_count && rc == MDB_SUCCESS && st == IMC_OK; t++) {
        bool added = t >= required; /* by a later version: created when missing */
        unsigned flags = fresh || (added && !read_only) ? MDB_CREATE : 0;
        rc = mdb_dbi_open(txn, layout->tables[t], flags, &dbi[t]);
        if (rc == MDB_NOTFOUND && added && read_only) {
            dbi[t] = 0;
            rc = MDB_SUCCESS;
        }
    }
    if (rc == MDB_SUCCESS && st == IMC_OK)
        rc = mdb_txn_commit(txn);
    else if (txn != NULL)
        mdb_txn_abort(txn);
    if (st != IMC_OK)
        return st;
    if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
        return IMC_ERR_MALFORMED; /* another program's file */
    if (rc == ENOMEM)
        return IMC_ERR_NOMEM;
    if (rc > 0)
        errno = rc;
    return rc == MDB_SUCCESS ? IMC_OK : IMC_ERR_IO;
}
