/* The storage interface contract, run on both stores: a write transaction
 * is all or nothing (abort restores overwritten and removes added items,
 * even after the tables grew inside it; a key put twice keeps the last
 * value), reads inside a write transaction see its own puts, values stay
 * valid until the transaction ends, scans see everything, concurrent read
 * transactions work; and imc_dir_import on top of it (all or nothing). */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#include <pthread.h>

#define N 5000

static int count_fn(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)k;
    (void)v;
    size_t *n = ctx;
    *n += kl > 0 && vl > 0;
    return 0;
}

static size_t count_items(const imc_dir_store *s, imc_dir_table t)
{
    void *txn = NULL;
    size_t n = 0;
    CHECK_OK(s->ops->begin(s->self, false, &txn));
    CHECK_OK(s->ops->scan(txn, t, count_fn, &n));
    s->ops->abort(txn);
    return n;
}

static void key_of(uint8_t k[8], size_t i) { imc_dir_store_be64(k, (uint64_t)i * 2654435761u + 1); }

static int value_is(const imc_dir_store *s, void *txn, size_t i, uint8_t want)
{
    uint8_t k[8];
    const uint8_t *v = NULL;
    size_t n = 0;
    key_of(k, i);
    imc_status st = s->ops->get(txn, IMC_DIR_TABLE_DEVICES, k, 8, &v, &n);
    if (want == 0)
        return st == IMC_ERR_NOT_FOUND;
    return st == IMC_OK && n == 3 && v[0] == want && v[1] == (uint8_t)i &&
           v[2] == (uint8_t)(i >> 8);
}

static int all_values(const imc_dir_store *s, size_t from, size_t to, uint8_t want)
{
    void *txn = NULL;
    int ok = s->ops->begin(s->self, false, &txn) == IMC_OK;
    for (size_t i = from; ok && i < to; i++)
        ok &= value_is(s, txn, i, want);
    if (txn != NULL)
        s->ops->abort(txn);
    return ok;
}

static imc_status put_range(const imc_dir_store *s, void *txn, size_t from, size_t to, uint8_t tag)
{
    imc_status st = IMC_OK;
    for (size_t i = from; i < to && st == IMC_OK; i++) {
        uint8_t k[8], v[3] = {tag, (uint8_t)i, (uint8_t)(i >> 8)};
        key_of(k, i);
        st = s->ops->put(txn, IMC_DIR_TABLE_DEVICES, k, 8, v, 3);
    }
    return st;
}

typedef struct reader_arg {
    const imc_dir_store *s;
    int ok;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *r = p;
    r->ok = 1;
    for (int round = 0; round < 20; round++)
        r->ok &= all_values(r->s, 0, N, 1);
    return NULL;
}

static void contract(const imc_dir_store *s)
{
    void *txn = NULL;
    /* Commit N items in one transaction; the table grows inside it. */
    CHECK_OK(s->ops->begin(s->self, true, &txn));
    CHECK_OK(put_range(s, txn, 0, N, 1));
    CHECK(value_is(s, txn, 7, 1)); /* a write transaction sees its own puts */
    CHECK_OK(s->ops->commit(txn));
    CHECK(all_values(s, 0, N, 1));
    CHECK(count_items(s, IMC_DIR_TABLE_DEVICES) == N);

    /* Abort: overwrite half, add N more (growing again), overwrite some of
     * those twice: all of it is undone. */
    CHECK_OK(s->ops->begin(s->self, true, &txn));
    CHECK_OK(put_range(s, txn, N / 2, N, 2));
    CHECK_OK(put_range(s, txn, N, 2 * N, 2));
    CHECK_OK(put_range(s, txn, N - 10, N + 10, 3));
    CHECK(value_is(s, txn, N + 5, 3) && value_is(s, txn, N - 5, 3));
    s->ops->abort(txn);
    CHECK(all_values(s, 0, N, 1));
    CHECK(all_values(s, N, 2 * N, 0));
    CHECK(count_items(s, IMC_DIR_TABLE_DEVICES) == N);

    /* The same, committed: the last put of a key wins. */
    CHECK_OK(s->ops->begin(s->self, true, &txn));
    CHECK_OK(put_range(s, txn, N, N + 100, 2));
    CHECK_OK(put_range(s, txn, N, N + 100, 1));
    CHECK_OK(s->ops->commit(txn));
    CHECK(all_values(s, 0, N + 100, 1));
    CHECK(count_items(s, IMC_DIR_TABLE_DEVICES) == N + 100);

    /* Readers in parallel, with a writer that aborts. */
    pthread_t th[3];
    reader_arg ra[3];
    for (int i = 0; i < 3; i++) {
        ra[i].s = s;
        CHECK(pthread_create(&th[i], NULL, reader, &ra[i]) == 0);
    }
    for (int round = 0; round < 5; round++) {
        CHECK_OK(s->ops->begin(s->self, true, &txn));
        CHECK_OK(put_range(s, txn, 0, N, 9));
        s->ops->abort(txn);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK(ra[i].ok);
    }
    /* Bad arguments. */
    CHECK_OK(s->ops->begin(s->self, false, &txn));
    const uint8_t *v = NULL;
    size_t n = 0;
    CHECK_ST(s->ops->get(txn, IMC_DIR_TABLE_META, (const uint8_t *)"x", 0, &v, &n), IMC_ERR_ARG);
    CHECK_ST(s->ops->get(txn, (imc_dir_table)IMC_DIR_TABLE_COUNT, (const uint8_t *)"x", 1, &v,
                         &n),
             IMC_ERR_ARG);
    s->ops->abort(txn);
}

static void import(const imc_backend *b, imc_dir_store s)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, pk, sk);
    imc_dir d;
    CHECK_OK(imc_dir_init(&d, b, s, sk, NULL));
    static imc_dir_record recs[3];
    memset(recs, 0, sizeof recs);
    const char *names[3] = {"a@example.com", "+14155550100", "c@example.com"};
    for (size_t i = 0; i < 3; i++) {
        imc_device_public devs[2];
        for (size_t k = 0; k < i; k++) {
            imc_device_keys kk;
            CHECK_OK(fx_keys(&kk, b, 1, 10 * (i + 1) + k, 0));
            devs[k] = kk.pub;
        }
        fx_import_record(&recs[i], b, names[i], devs, i);
    }
    /* Only freshly created accounts: version 1, a new account key. */
    recs[0].epoch = 2;
    CHECK_ST(imc_dir_import(&d, recs, 3), IMC_ERR_MALFORMED);
    recs[0].epoch = 1;
    recs[0].key_change = IMC_DIR_KEY_SAME;
    CHECK_ST(imc_dir_import(&d, recs, 3), IMC_ERR_MALFORMED);
    recs[0].key_change = IMC_DIR_KEY_NEW;
    CHECK_OK(imc_dir_import(&d, recs, 3));
    uint64_t g = 0;
    CHECK_OK(imc_dir_global_epoch(&g, &d));
    CHECK(g == 3);
    CHECK_OK(imc_dir_check(&d));
    CHECK(fx_epoch(&d, "+14155550100") == 1);
    /* Imported devices behave like registered ones. */
    size_t n = 0;
    static uint8_t resp[FX_RESP_MAX];
    CHECK_OK(fx_revoke(resp, &n, &d, "c@example.com", 30));

    /* All or nothing. */
    fx_snapshot before = fx_snap(&d);
    CHECK_ST(imc_dir_import(&d, recs, 1), IMC_ERR_EXISTS); /* handle exists */
    memcpy(recs[0].handle, "z@example.com", 13);
    recs[0].device_count = 1;
    recs[0].devices[0] = recs[2].devices[0]; /* device 30: revoked, never reused */
    CHECK_ST(imc_dir_import(&d, recs, 1), IMC_ERR_EXISTS);
    recs[0].devices[0].device_id = 99;
    recs[1] = recs[0]; /* the same handle twice in one batch */
    memcpy(recs[2].handle, "y@example.com", 13);
    recs[2].devices[0].device_id = 98;
    recs[2].devices[1].device_id = 97; /* not increasing */
    CHECK_ST(imc_dir_import(&d, recs, 3), IMC_ERR_EXISTS);
    CHECK_ST(imc_dir_import(&d, recs + 2, 1), IMC_ERR_MALFORMED);
    recs[2].devices[1].device_id = 99; /* used by recs[0] in the same batch */
    recs[1].handle[0] = 'x';
    CHECK_ST(imc_dir_import(&d, recs, 3), IMC_ERR_EXISTS);
    recs[1].handle[0] = 'X'; /* not in normal form */
    CHECK_ST(imc_dir_import(&d, recs, 2), IMC_ERR_MALFORMED);
    recs[1].handle[0] = 'x';
    recs[1].device_count = IMC_MAX_DEVICES_PER_HANDLE + 1;
    CHECK_ST(imc_dir_import(&d, recs, 2), IMC_ERR_LIMIT);
    fx_snapshot after = fx_snap(&d);
    CHECK(fx_same(&before, &after));
    recs[1].device_count = 0;
    recs[2].devices[1].device_id = 100;
    CHECK_OK(imc_dir_import(&d, recs, 3));
    CHECK_OK(imc_dir_check(&d));
    CHECK_OK(imc_dir_global_epoch(&g, &d));
    CHECK(g == 7);
    imc_dir_wipe(&d);
    imc_wipe(sk, sizeof sk);
}

int main(void)
{
    const imc_backend *bs[4];
    size_t nb = imc_test_backends(bs, 4);
    CHECK(nb > 0);
    char tmp[512];
    CHECK(fx_tmpdir(tmp, sizeof tmp));
    for (int kind = FX_MEM; kind <= FX_LMDB; kind++) {
        printf("  %s\n", FX_STORE_NAMES[kind]);
        imc_dir_store s;
        CHECK_OK(fx_store_open(&s, (fx_store_kind)kind, bs[0], tmp, "contract"));
        contract(&s);
        imc_dir_store_close(&s);
        CHECK_OK(fx_store_open(&s, (fx_store_kind)kind, bs[0], tmp, "import"));
        import(bs[0], s);
        imc_dir_store_close(&s);
    }
    fx_rmdir(tmp);
    return imc_test_end();
}
