/* The replay state's crash safety (docs/replay.md, "Durability"): a child
 * process encrypts message k (deterministically, k = start, start+1, ...)
 * and decrypts it with a replay state in an LMDB file, reporting k through
 * a pipe each time decrypt returned IMC_OK; the parent kills it with
 * SIGKILL at a random moment, reopens the state (it must parse) and checks
 * that every reported message is now refused as a replay (P2 across a
 * crash), at most one more (accepted but killed before it could report)
 * may be, and the next one is still fresh. Several rounds, each resuming
 * after the last one; each round's open also proves that the file lock and
 * LMDB's writer lock left by a killed process are released. */
#include "tmpdir.h" /* first: it sets _POSIX_C_SOURCE */
#include "msg_fixture.h"
#include "kill_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define ROUNDS 12
#define TS0 (FX_TS - 3600000)

/* A window of 8, so that eviction and the floor are crossed by the crashes. */
static const imc_replay_config CFG = {0, 0, 16, 8};

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = "imcore test_replay_kill seed 01";

/* Message k to device 0 of p (deterministic in k). */
static imc_status make(fx_msg *m, const fx_party *p, const imc_backend *b, uint64_t k)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 1000 + k);
    uint8_t body[8];
    for (unsigned i = 0; i < 8; i++)
        body[i] = (uint8_t)(k >> (8 * i));
    return fx_send(m, p, b, &rng, TS0 + k, body, sizeof body);
}

/* ---- Child: decrypt until killed --------------------------------------------- */

static void child(const imc_backend *b, const fx_party *p, const char *dir, uint64_t start, int fd)
{
    imc_replay *r = NULL;
    if (imc_replay_open(&r, dir, &CFG, b, NULL) != IMC_OK)
        _exit(2);
    imc_msg_peer peer = fx_peer(p);
    for (uint64_t k = start;; k++) {
        fx_msg m;
        uint8_t out[8];
        imc_msg_received info;
        if (make(&m, p, b, k) != IMC_OK ||
            imc_msg_decrypt(out, sizeof out, &info, b, &p->dev[0], &peer, r, FX_NOW, m.del[0],
                            m.del_len[0]) != IMC_OK)
            _exit(3);
        fx_msg_free(&m);
        if (write(fd, &k, sizeof k) != (ssize_t)sizeof k)
            _exit(4);
    }
}

/* ---- Parent -------------------------------------------------------------------- */

/* What the reopened state says about message k (check only: no change). */
static imc_status state_of(const imc_replay *r, const fx_party *p, const imc_backend *b,
                           uint64_t k)
{
    fx_msg m;
    imc_status st = make(&m, p, b, k);
    imc_delivery d;
    if (st == IMC_OK)
        st = imc_msg_parse_delivery(&d, m.del[0], m.del_len[0]);
    if (st == IMC_OK) {
        imc_replay_msg rm = {d.h.sender_handle, d.h.sender_handle_len, d.h.sender_device,
                             d.h.message_id, d.h.timestamp_ms};
        st = imc_replay_check(r, &rm, FX_NOW);
    }
    fx_msg_free(&m);
    return st;
}

/* The reported messages of every round so far: [lo, hi]. */
static uint64_t g_lo[ROUNDS], g_hi[ROUNDS];

/* One round; returns the next k to start from (0 on a set-up failure). */
static uint64_t round_trip(const imc_backend *b, const fx_party *p, const char *dir,
                           uint64_t start, int round, size_t *total)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid < 0)
        return 0;
    if (pid == 0) {
        close(fds[0]);
        child(b, p, dir, start, fds[1]);
        _exit(5);
    }
    close(fds[1]);
    size_t got = 0;
    uint64_t last = read_reports(fds[0], start - 1, 3, 30000, &got);
    sleep_ms(next_rand() % 40);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    last = read_reports(fds[0], last, 0, 0, &got);
    close(fds[0]);

    imc_replay *r = NULL;
    CHECK_OK(imc_replay_open(&r, dir, &CFG, b, NULL));
    if (r == NULL)
        return 0;
    /* Every message ever reported (all rounds) is a replay now. */
    g_lo[round] = start;
    g_hi[round] = last;
    size_t reported = 0, replays = 0;
    for (int i = 0; i <= round; i++)
        for (uint64_t k = g_lo[i]; k <= g_hi[i]; k++) {
            reported++;
            replays += state_of(r, p, b, k) == IMC_ERR_REPLAY;
        }
    CHECK(replays == reported);
    imc_status next = state_of(r, p, b, last + 1);
    CHECK(next == IMC_OK || next == IMC_ERR_REPLAY); /* committed, maybe unreported */
    CHECK_OK(state_of(r, p, b, last + 2));
    printf("  round %d: %zu reported, through %llu%s\n", round, got, (unsigned long long)last,
           next == IMC_ERR_REPLAY ? " (one more committed, unreported)" : "");
    imc_replay_close(r);
    *total += got;
    return last + 2;
}

int main(void)
{
    const imc_backend *b = kill_backend();
    if (b == NULL)
        return imc_test_end();
    kill_seed();
    fx_party p;
    CHECK_OK(fx_party_init(&p, b, IMC_SUITE_X25519_ED25519_CHACHA20POLY1305, 1, "alice", SEED, 1));
    char dir[512];
    CHECK(fx_tmpdir(dir, sizeof dir));
    size_t total = 0;
    uint64_t start = 1;
    for (int round = 0; round < ROUNDS && start != 0; round++)
        start = round_trip(b, &p, dir, start, round, &total);
    CHECK(start != 0 && total >= 3 * ROUNDS);
    fx_party_free(&p);
    fx_rmdir(dir);
    return imc_test_end();
}
