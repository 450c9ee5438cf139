/* The LMDB directory store recognises its own files before LMDB maps
 * them (core/src/util/mdbfile.c): an empty, truncated, non-LMDB or foreign
 * LMDB file is IMC_ERR_MALFORMED and left untouched (never a new empty
 * directory, never SIGBUS); a missing file opened read-only is
 * IMC_ERR_NOT_FOUND; a file whose meta page counts pages LMDB never wrote
 * (loose pages) is still accepted when every page its trees reach is in
 * the file. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#include <lmdb.h>
#include <sys/stat.h>

#define PSIZE_OFF 40
#define LAST_PG_OFF 136

static char g_dir[512];

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", g_dir, name);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    long n = file_size(path);
    *buf = malloc(n > 0 ? (size_t)n : 1);
    *len = n > 0 ? (size_t)fread(*buf, 1, (size_t)n, f) : 0;
    fclose(f);
    return *len == (size_t)n;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    char lock[600];
    snprintf(lock, sizeof lock, "%s-lock", path);
    unlink(lock);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(fwrite(p, 1, n, f) == n);
        fclose(f);
    }
}

static imc_status open_at(const char *path, bool read_only)
{
    imc_dir_store s;
    imc_dir_lmdb_options o = {(size_t)1 << 30, true, read_only};
    imc_status st = imc_dir_store_lmdb_open(&s, path, &o);
    if (st == IMC_OK)
        imc_dir_store_close(&s);
    return st;
}

/* Opening `path` (holding p[0..n)) fails with MALFORMED and leaves the
 * bytes as they were. */
static void refused(const char *what, const char *path, const uint8_t *p, size_t n)
{
    for (int ro = 0; ro < 2; ro++) {
        write_file(path, p, n);
        imc_status st = open_at(path, ro != 0);
        if (st != IMC_ERR_MALFORMED)
            fprintf(stderr, "%s (%s): %s\n", what, ro ? "read-only" : "read-write",
                    imc_status_str(st));
        CHECK_ST(st, IMC_ERR_MALFORMED);
        uint8_t *after = NULL;
        size_t len = 0;
        CHECK(read_file(path, &after, &len));
        CHECK(len == n && (n == 0 || memcmp(after, p, n) == 0));
        free(after);
    }
}

/* A real directory file with one registered device. */
static void make_directory(const imc_backend *b, const char *path)
{
    imc_dir_store s;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES], resp[FX_RESP_MAX];
    size_t rl = 0;
    imc_device_keys k;
    fx_dir_key(b, 0, pk, sk);
    imc_dir_lmdb_options o = {(size_t)1 << 30, true, false};
    CHECK_OK(imc_dir_store_lmdb_open(&s, path, &o));
    CHECK_OK(imc_dir_init(&d, b, s, sk, NULL));
    CHECK_OK(fx_keys(&k, b, 1, 1, 0));
    CHECK_OK(fx_register(resp, &rl, &d, "alice@example.com", &k));
    imc_keys_wipe(&k);
    imc_dir_wipe(&d);
    imc_dir_store_close(&s);
}

/* An LMDB file of another program: one named database "other". */
static void make_foreign(const char *path)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_val k = {1, (void *)"k"}, v = {1, (void *)"v"};
    CHECK(mdb_env_create(&env) == 0);
    CHECK(mdb_env_set_maxdbs(env, 4) == 0);
    CHECK(mdb_env_open(env, path, MDB_NOSUBDIR, 0600) == 0);
    CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    CHECK(mdb_dbi_open(txn, "other", MDB_CREATE, &dbi) == 0);
    CHECK(mdb_put(txn, dbi, &k, &v, 0) == 0);
    CHECK(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
}

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int main(void)
{
    const imc_backend *b = imc_backend_get("sodium");
    if (b == NULL)
        b = imc_backend_get("openssl");
    CHECK(b != NULL && fx_tmpdir(g_dir, sizeof g_dir));
    if (b == NULL)
        return imc_test_end();
    char good[600], path[600];
    path_of(good, sizeof good, "good.lmdb");
    path_of(path, sizeof path, "t.lmdb");
    make_directory(b, good);
    uint8_t *img = NULL;
    size_t n = 0;
    CHECK(read_file(good, &img, &n));
    uint32_t psize;
    memcpy(&psize, img + PSIZE_OFF, 4);
    CHECK(n >= 4 * (size_t)psize && n % psize == 0);

    /* The good file opens, both ways. */
    CHECK_OK(open_at(good, false));
    CHECK_OK(open_at(good, true));

    /* Missing: read-only is NOT_FOUND and creates nothing. */
    char missing[600];
    path_of(missing, sizeof missing, "none.lmdb");
    CHECK_ST(open_at(missing, true), IMC_ERR_NOT_FOUND);
    CHECK(file_size(missing) == -1);

    /* Empty, truncated at page boundaries and inside a page, too short for
     * the meta pages, not LMDB at all. */
    refused("empty", path, img, 0);
    size_t cuts[] = {100, psize, 2 * (size_t)psize, n - psize, n - 1, n - psize / 2};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        refused("truncated", path, img, cuts[i]);
    uint8_t junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 131u + 7u);
    refused("junk", path, junk, sizeof junk);

    /* Bad magic, version or page size in either meta page. */
    uint8_t *bad = malloc(n);
    size_t fields[] = {16, 20, PSIZE_OFF};
    for (size_t page = 0; page < 2; page++)
        for (size_t f = 0; f < 3; f++) {
            memcpy(bad, img, n);
            bad[page * psize + fields[f]] ^= 0x01;
            refused("meta field", path, bad, n);
        }

    /* A directory where a file should be. */
    char sub[600];
    path_of(sub, sizeof sub, "subdir");
    CHECK(mkdir(sub, 0700) == 0);
    CHECK_ST(open_at(sub, false), IMC_ERR_MALFORMED);
    rmdir(sub);

    /* Another program's LMDB file: refused, and no table added to it. */
    char foreign[600];
    path_of(foreign, sizeof foreign, "foreign.lmdb");
    make_foreign(foreign);
    uint8_t *fimg = NULL;
    size_t fn = 0;
    CHECK(read_file(foreign, &fimg, &fn));
    refused("foreign LMDB", path, fimg, fn);
    free(fimg);

    /* Loose pages: the meta pages claim pages beyond the end of the file
     * that no tree reaches. The walk accepts the file, and it still works. */
    memcpy(bad, img, n);
    for (size_t page = 0; page < 2; page++) {
        uint8_t *last = bad + page * psize + LAST_PG_OFF;
        put64(last, get64(last) + 8);
    }
    write_file(path, bad, n);
    CHECK_OK(open_at(path, true));
    CHECK_OK(open_at(path, false));
    /* ... but the same claim on a file cut below a reached page is not. */
    memcpy(bad, img, n);
    refused("truncated, walked", path, bad, n - psize);

    free(bad);
    free(img);
    fx_rmdir(g_dir);
    return imc_test_end();
}
