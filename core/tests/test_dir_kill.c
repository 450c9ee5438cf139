/* LMDB crash safety: a child process applies directory updates in a loop
 * and reports each committed one (its sequence number) through a pipe; the
 * parent kills it with SIGKILL at a random moment, reopens the database and
 * checks that every reported update is there, at most one more (committed
 * but killed before it could report), and nothing half-applied: the
 * store's invariants hold (imc_dir_check: records decode, device index and
 * records agree, per-handle epochs sum to the global epoch) and its digest
 * equals that of an in-memory directory that ran exactly the same updates.
 * The check includes the transparency log (imc_dir_check replays every
 * leaf and recomputes the index and both roots and the signed checkpoint),
 * and a verifying client that keeps its checkpoint from round to round
 * accepts each reopened directory's checkpoint only through a consistency
 * proof: log, index and directory stay consistent across every kill.
 * Several rounds, each resuming where the last one died, alternating
 * synchronous and no-sync commits; the next round's writer also proves the
 * lock left by a writer killed holding it is recovered. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#include <signal.h>
#include <sys/wait.h>

#include "imcore/dirkt.h"
#include "kill_util.h"

#define HANDLES 16
#define ROUNDS 24
#define MAX_GEN 64

/* ---- The deterministic update sequence ----------------------------------- */

static void handle_of(char out[32], uint64_t k)
{
    snprintf(out, 32, "user%02u@example.com", (unsigned)(k % HANDLES));
}

/* The keys of device `id` as the record lists them (found by generation). */
static imc_status current_keys(imc_device_keys *k, const imc_backend *b,
                               const imc_device_public *pub, uint64_t *gen)
{
    for (uint64_t g = 0; g < MAX_GEN; g++) {
        imc_status st = fx_keys(k, b, pub->suite, pub->device_id, g);
        if (st != IMC_OK)
            return st;
        if (imc_dir_device_equal(&k->pub, pub)) {
            *gen = g;
            return IMC_OK;
        }
    }
    return IMC_ERR_NOT_FOUND;
}

/* Update number k (1, 2, ...): register a device while the handle has
 * fewer than three, else revoke the oldest (by itself) or rotate the
 * newest, by k. Only depends on the directory's state, so the same
 * sequence replayed on any store gives the same directory. */
static imc_status run_op(imc_dir *d, imc_dir_record *rec, uint8_t *resp, uint64_t k)
{
    char h[32];
    size_t n = 0;
    imc_device_keys a, b2;
    handle_of(h, k);
    imc_status st = imc_dir_get(rec, d, (const uint8_t *)h, strlen(h));
    if (st != IMC_OK)
        return st;
    uint64_t gen = 0;
    if (rec->device_count < 3) {
        st = fx_keys(&a, d->b_, 1, k, 0);
        if (st == IMC_OK)
            st = fx_register(resp, &n, d, h, &a);
    } else if (k % 3 == 0) {
        st = current_keys(&a, d->b_, &rec->devices[0], &gen);
        if (st == IMC_OK)
            st = fx_revoke(resp, &n, d, h, a.pub.device_id);
    } else {
        st = current_keys(&a, d->b_, &rec->devices[rec->device_count - 1], &gen);
        if (st == IMC_OK)
            st = fx_keys(&b2, d->b_, 1, a.pub.device_id, gen + 1);
        if (st == IMC_OK)
            st = fx_rotate(resp, &n, d, h, &a, &b2);
        imc_keys_wipe(&b2);
    }
    imc_keys_wipe(&a);
    return st;
}

/* ---- Child: write until killed ------------------------------------------- */

static void writer(const imc_backend *b, const char *path, bool no_sync, int fd)
{
    static imc_dir_record rec;
    static uint8_t resp[FX_RESP_MAX];
    imc_dir_store s;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, pk, sk);
    imc_dir_lmdb_options o = {(size_t)1 << 30, no_sync, false};
    uint64_t k = 0;
    if (imc_dir_store_lmdb_open(&s, path, &o) != IMC_OK ||
        imc_dir_init(&d, b, s, sk, NULL) != IMC_OK || imc_dir_global_epoch(&k, &d) != IMC_OK)
        _exit(2);
    for (k = k + 1;; k++) {
        if (run_op(&d, &rec, resp, k) != IMC_OK)
            _exit(3);
        if (write(fd, &k, sizeof k) != (ssize_t)sizeof k)
            _exit(4);
    }
}

/* ---- Parent --------------------------------------------------------------- */

typedef struct reference {
    imc_dir_store store;
    imc_dir d;
    uint64_t done;
    imc_kt_client client; /* the last checkpoint seen, across rounds */
} reference;

/* The reopened directory's checkpoint, from the client's size: accepted
 * only if consistent with every earlier round's. */
static void follow_checkpoint(const imc_backend *b, imc_dir *d, reference *ref, uint64_t g)
{
    static uint8_t resp[IMC_DIR_KT_HEAD_MAX_BYTES];
    uint8_t req[16];
    imc_kt_checkpoint cp;
    size_t rn = 0, n = 0;
    uint64_t known = imc_kt_client_checkpoint(&cp, &ref->client) == IMC_OK ? cp.size : 0;
    imc_dir_kt_head h;
    CHECK_OK(imc_dir_kt_encode_head(req, sizeof req, &rn, known));
    CHECK_OK(imc_dir_serve(resp, sizeof resp, &n, d, 0, req, rn));
    CHECK_OK(imc_dir_kt_parse_head(&h, resp, n));
    CHECK_OK(imc_kt_client_update(&ref->client, NULL, h.note, h.note_len, h.proof, h.proof_len));
    CHECK_OK(imc_kt_client_checkpoint(&cp, &ref->client));
    CHECK(cp.size == g && cp.epoch == g);
    (void)b;
}

static int round_trip(const imc_backend *b, const char *path, reference *ref, int round,
                      uint64_t *total)
{
    bool no_sync = round % 2 == 1;
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid < 0)
        return 0;
    if (pid == 0) {
        close(fds[0]);
        writer(b, path, no_sync, fds[1]);
        _exit(5);
    }
    close(fds[1]);
    /* Let it commit a few, then kill it at a random moment. */
    size_t got = 0;
    uint64_t last = read_reports(fds[0], ref->done, 3, 20000, &got);
    sleep_ms(next_rand() % 40);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    last = read_reports(fds[0], last, 0, 0, &got);
    close(fds[0]);

    /* Reopen and check. */
    imc_dir_store s;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, pk, sk);
    imc_dir_lmdb_options o = {(size_t)1 << 30, false, false};
    CHECK_OK(imc_dir_store_lmdb_open(&s, path, &o));
    CHECK_OK(imc_dir_init(&d, b, s, sk, NULL));
    uint64_t g = 0;
    CHECK_OK(imc_dir_global_epoch(&g, &d));
    CHECK(g == last || g == last + 1); /* every reported update, at most one more */
    CHECK_OK(imc_dir_check(&d));
    follow_checkpoint(b, &d, ref, g);
    static imc_dir_record rec;
    static uint8_t resp[FX_RESP_MAX];
    int ok = 1;
    while (ref->done < g) {
        ref->done++;
        ok &= run_op(&ref->d, &rec, resp, ref->done) == IMC_OK;
    }
    CHECK(ok);
    fx_snapshot want = fx_snap(&ref->d), have = fx_snap(&d);
    CHECK(fx_same(&want, &have));
    printf("  round %d (%s): %zu reported, committed through %llu%s\n", round,
           no_sync ? "no-sync" : "sync", got, (unsigned long long)g,
           g == last + 1 ? " (one unreported)" : "");
    *total += got;
    imc_dir_wipe(&d);
    imc_dir_store_close(&s);
    return 1;
}

int main(void)
{
    const imc_backend *b = kill_backend();
    if (b == NULL)
        return imc_test_end();
    kill_seed();
    char tmp[512], path[600];
    CHECK(fx_tmpdir(tmp, sizeof tmp));
    snprintf(path, sizeof path, "%s/kill.lmdb", tmp);

    reference ref;
    memset(&ref, 0, sizeof ref);
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, pk, sk);
    CHECK_OK(imc_dir_store_mem_open(&ref.store, b, 0));
    CHECK_OK(imc_dir_init(&ref.d, b, ref.store, sk, NULL));
    char vkey[IMC_KT_VKEY_MAX];
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    CHECK_OK(imc_dir_kt_vkey(vkey, &ref.d));
    CHECK_OK(imc_kt_vkey_parse(&cfg.log, b, vkey, strlen(vkey)));
    CHECK_OK(imc_kt_client_init(&ref.client, b, &cfg));
    uint64_t total = 0;
    for (int round = 0; round < ROUNDS; round++)
        if (!round_trip(b, path, &ref, round, &total))
            break;
    CHECK(total >= 3 * ROUNDS);
    imc_dir_wipe(&ref.d);
    imc_dir_store_close(&ref.store);
    fx_rmdir(tmp);
    return imc_test_end();
}
