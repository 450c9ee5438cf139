/* Shared by the kill -9 tests (test_dir_kill, test_dir_client_kill,
 * test_replay_kill): a child reports each completed step as a
 * sequence number on a pipe; the parent waits a random moment and kills
 * it. Include after test.h (it CHECKs). */
#ifndef IMCORE_KILL_UTIL_H
#define IMCORE_KILL_UTIL_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "imcore/backend.h"

/* The kill timing: seeded by the caller (and printed, to reproduce). */
static uint64_t g_rand;
static inline uint64_t next_rand(void)
{
    g_rand = g_rand * 6364136223846793005ull + 1442695040888963407ull;
    return g_rand >> 33;
}

/* Seeds the kill timing from the clock and the pid, and prints the seed. */
static inline void kill_seed(void)
{
    g_rand = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    printf("  kill-timing seed %llu\n", (unsigned long long)g_rand);
}

/* The backend the kill tests run on: libsodium, else OpenSSL; NULL (and a
 * failed CHECK) if neither is built. */
static inline const imc_backend *kill_backend(void)
{
    const imc_backend *b = imc_backend_get("sodium");
    if (b == NULL)
        b = imc_backend_get("openssl");
    CHECK(b != NULL);
    return b;
}

static inline void sleep_ms(uint64_t ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* Reads reports until `want` more arrived or timeout_ms passed (want 0:
 * until EOF, the child dead); each must be the previous one plus one.
 * Returns the last seen (or last); adds the count to *got. */
static inline uint64_t read_reports(int fd, uint64_t last, size_t want, int timeout_ms,
                                    size_t *got)
{
    uint64_t k;
    size_t have = 0;
    for (;;) {
        if (want != 0 && have >= want)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, want != 0 ? timeout_ms : 10000) <= 0)
            break;
        if (read(fd, &k, sizeof k) != (ssize_t)sizeof k)
            break; /* EOF: the child is dead */
        CHECK(k == last + 1);
        last = k;
        have++;
    }
    *got += have;
    return last;
}

#endif
