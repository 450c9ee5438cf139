/* Crash safety of the persistent client (docs/directory.md, "Client
 * state"): a child process runs a fixed sequence of steps on a client
 * state file (apply a signed lookup answer, or accept an account's new key
 * after a reset) and reports each completed step through a pipe; the
 * parent kills it with SIGKILL at a random moment, reopens the state and
 * checks that it is exactly the state after every reported step, or after
 * one more (committed but killed before it could report): the digest of
 * the reopened client equals that of an in-memory client that ran the same
 * steps, so nothing is lost and nothing is half-applied. Several rounds,
 * each resuming where the last one stopped, alternating synchronous and
 * no-sync commits. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#include <signal.h>
#include <sys/wait.h>

#include "kill_util.h"

#define HANDLES 6
#define UPDATES 400
#define MAX_STEPS (2 * UPDATES)
#define ROUNDS 16
#define T0 FX_NOW

typedef struct step {
    bool accept;   /* accept handle h's key, else apply response `resp` */
    unsigned h;
    uint8_t *resp;
    size_t len;
} step;

static step g_steps[MAX_STEPS];
static size_t g_nsteps;
static uint8_t g_digest[MAX_STEPS + 1][IMC_SHA256_BYTES]; /* after j steps */
static const uint64_t NOW = T0 + UPDATES * 10 + 1000;

static void handle_of(char out[32], unsigned h) { snprintf(out, 32, "user%u@example.com", h); }

/* ---- The sequence (built once, in the parent, before any fork) ------------ */

typedef struct gen_state {
    const imc_backend *b;
    imc_dir_store store;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    unsigned acct_gen[HANDLES];
    uint64_t dev_gen[1024];
    uint64_t next_id;
} gen_state;

/* Update k of handle h: register while fewer than two devices, else an
 * account reset (k % 11 == 0), a revoke (k % 3 == 0) or a rotation. */
static bool one_update(gen_state *g, unsigned h, uint64_t k)
{
    static imc_dir_record cur;
    static uint8_t upd[IMC_DIR_UPDATE_MAX_BYTES], resp[FX_RESP_MAX];
    char name[32];
    handle_of(name, h);
    uint8_t apk[32], ask[32], npk[32], nsk[32];
    fx_account(g->b, name, g->acct_gen[h], apk, ask);
    CHECK_OK(imc_dir_get(&cur, &g->d, (const uint8_t *)name, strlen(name)));
    imc_device_keys a, b2;
    size_t ul = 0, rl = 0;
    bool reset = false;
    imc_status st;
    if (cur.device_count < 2 || (cur.epoch > 0 && k % 11 == 0)) {
        uint64_t id = g->next_id++;
        CHECK_OK(fx_keys(&a, g->b, 1, id, 0));
        if (cur.device_count < 2) {
            st = imc_dir_sign_register(upd, sizeof upd, &ul, g->b, g->pk, &cur, ask, &a);
        } else {
            fx_account(g->b, name, ++g->acct_gen[h], npk, nsk);
            st = imc_dir_sign_account_reset(upd, sizeof upd, &ul, g->b, g->pk, &cur, nsk, &a);
            reset = true;
        }
    } else if (k % 3 == 0) {
        st = imc_dir_sign_revoke(upd, sizeof upd, &ul, g->b, g->pk, &cur, ask,
                                 cur.devices[0].device_id);
    } else {
        uint64_t id = cur.devices[cur.device_count - 1].device_id;
        CHECK_OK(fx_keys(&a, g->b, 1, id, g->dev_gen[id]));
        CHECK_OK(fx_keys(&b2, g->b, 1, id, ++g->dev_gen[id]));
        st = imc_dir_sign_rotate(upd, sizeof upd, &ul, g->b, g->pk, &cur, ask, &a, &b2);
    }
    CHECK_OK(st);
    CHECK_OK(imc_dir_update(resp, sizeof resp, &rl, &g->d, T0 + k * 10, upd, ul));
    return reset;
}

static void add_step(bool accept, unsigned h, const uint8_t *resp, size_t len)
{
    step *s = &g_steps[g_nsteps++];
    s->accept = accept;
    s->h = h;
    s->len = len;
    s->resp = NULL;
    if (!accept) {
        s->resp = malloc(len);
        CHECK(s->resp != NULL);
        if (s->resp != NULL)
            memcpy(s->resp, resp, len);
    }
}

static imc_status run_step(imc_dircache *c, const step *s)
{
    if (s->accept) {
        char name[32];
        handle_of(name, s->h);
        return imc_dircache_accept(c, (const uint8_t *)name, strlen(name));
    }
    size_t n = 0;
    return imc_dircache_apply(c, NULL, 0, &n, NOW, s->resp, s->len);
}

static void build_steps(const imc_backend *b)
{
    static gen_state g;
    memset(&g, 0, sizeof g);
    g.b = b;
    g.next_id = 1;
    fx_dir_key(b, 0, g.pk, g.sk);
    CHECK_OK(imc_dir_store_mem_open(&g.store, b, 0));
    CHECK_OK(imc_dir_init(&g.d, b, g.store, g.sk, NULL));
    static uint8_t resp[IMC_DIR_RESPONSE_MAX_BYTES(2)];
    char n0[32], n1[32];
    for (uint64_t k = 1; k <= UPDATES; k++) {
        unsigned h = (unsigned)(k % HANDLES);
        bool reset = one_update(&g, h, k);
        handle_of(n0, h);
        handle_of(n1, (h + 1) % HANDLES);
        imc_dir_handle hs[2] = {fx_h(n0), fx_h(n1)};
        size_t len = 0;
        CHECK_OK(imc_dir_lookup_batch(resp, sizeof resp, &len, &g.d, T0 + k * 10 + 5, hs, 2));
        add_step(false, h, resp, len);
        if (reset)
            add_step(true, h, NULL, 0);
    }
    imc_dir_wipe(&g.d);
    imc_dir_store_close(&g.store);
    /* The digest after every prefix of the steps, from a memory client. */
    imc_dircache *ref = NULL;
    imc_dircache_options o = {64, 0, 0, NULL, 0, 0, NULL, false, NULL};
    CHECK_OK(imc_dircache_new(&ref, b, g.pk, &o));
    if (ref == NULL)
        return;
    int ok = 1;
    CHECK_OK(imc_dircache_digest(g_digest[0], ref));
    for (size_t j = 0; j < g_nsteps; j++) {
        ok &= run_step(ref, &g_steps[j]) == IMC_OK;
        ok &= imc_dircache_digest(g_digest[j + 1], ref) == IMC_OK;
    }
    CHECK(ok);
    imc_dircache_free(ref);
}

/* ---- Child: run steps until killed --------------------------------------- */

static imc_dircache *open_client(const imc_backend *b, const char *path, bool no_sync)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, pk, sk);
    imc_dircache_options o = {64, 0, 0, NULL, 0, 0, path, no_sync, NULL};
    imc_dircache *c = NULL;
    return imc_dircache_new(&c, b, pk, &o) == IMC_OK ? c : NULL;
}

static void worker(const imc_backend *b, const char *path, bool no_sync, size_t start, int fd)
{
    imc_dircache *c = open_client(b, path, no_sync);
    if (c == NULL)
        _exit(2);
    for (uint64_t j = start; j < g_nsteps; j++) {
        if (run_step(c, &g_steps[j]) != IMC_OK)
            _exit(3);
        uint64_t done = j + 1;
        if (write(fd, &done, sizeof done) != (ssize_t)sizeof done)
            _exit(4);
    }
    for (;;)
        pause(); /* all done: wait for the kill */
}

/* ---- Parent ---------------------------------------------------------------- */

static size_t round_trip(const imc_backend *b, const char *path, size_t done, int round)
{
    bool no_sync = round % 2 == 1;
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid < 0)
        return done;
    if (pid == 0) {
        close(fds[0]);
        worker(b, path, no_sync, done, fds[1]);
        _exit(5);
    }
    close(fds[1]);
    size_t got = 0;
    uint64_t last = read_reports(fds[0], done, done + 2 <= g_nsteps ? 2 : 1, 20000, &got);
    sleep_ms(next_rand() % 30);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    last = read_reports(fds[0], last, 0, 0, &got);
    close(fds[0]);

    imc_dircache *c = open_client(b, path, false);
    CHECK(c != NULL);
    if (c == NULL)
        return done;
    uint8_t have[IMC_SHA256_BYTES];
    CHECK_OK(imc_dircache_digest(have, c));
    imc_dircache_free(c);
    size_t now_done = SIZE_MAX;
    if (memcmp(have, g_digest[last], IMC_SHA256_BYTES) == 0)
        now_done = last;
    else if (last < g_nsteps && memcmp(have, g_digest[last + 1], IMC_SHA256_BYTES) == 0)
        now_done = last + 1;
    CHECK(now_done != SIZE_MAX); /* exactly the reported steps, or one more */
    printf("  round %d (%s): %zu reported, the state holds %zu steps%s\n", round,
           no_sync ? "no-sync" : "sync", got, now_done == SIZE_MAX ? 0 : now_done,
           now_done == last + 1 ? " (one unreported)" : "");
    return now_done == SIZE_MAX ? done : now_done;
}

int main(void)
{
    const imc_backend *b = kill_backend();
    if (b == NULL)
        return imc_test_end();
    build_steps(b);
    printf("  %zu steps (%d updates, lookups and accepts)\n", g_nsteps, UPDATES);
    kill_seed();
    char tmp[512], path[600];
    CHECK(fx_tmpdir(tmp, sizeof tmp));
    snprintf(path, sizeof path, "%s/client.mdb", tmp);
    size_t done = 0;
    for (int round = 0; round < ROUNDS && done < g_nsteps; round++)
        done = round_trip(b, path, done, round);
    CHECK(done >= 2 * ROUNDS || done == g_nsteps);
    for (size_t j = 0; j < g_nsteps; j++)
        free(g_steps[j].resp);
    fx_rmdir(tmp);
    return imc_test_end();
}
