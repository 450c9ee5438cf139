/* Thread scaling: encrypt and decrypt throughput at 1..nproc threads, per
 * backend, at one fixed shape (suite 1, 8 devices, 1 KiB body).
 *
 * Names: threads/encrypt/<backend>/<suite>/dev:8/body:1024/real_time/threads:<T>
 *        threads/decrypt/<backend>/<suite>/body:1024/real_time/threads:<T>
 * (google-benchmark appends the last two parts). Every thread runs the same
 * benchmark as bench_msg.c with its own buffers, RNG stream and replay
 * state over shared read-only keys; timing is wall-clock (real_time), so
 * items_per_second is the total messages per second of all threads, and
 * scripts/lib/bench_report.py derives the scaling efficiency
 * throughput(T) / (T x throughput(1)). Thread counts: every count up to 4,
 * then powers of two, and nproc itself. */
#define _POSIX_C_SOURCE 200809L /* sysconf */

#include <stdio.h>
#include <unistd.h>

#include "benches.h"
#include "imc_bench.h"
#include "imcore/backend.h"
#include "imcore/suite.h"

#define THREAD_DEVICES 8
#define THREAD_BODY 1024

static void thread_counts(imc_bench *b)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    int max = n < 1 ? 1 : n > 256 ? 256 : (int)n;
    for (int t = 1; t <= max; t++)
        if (t <= 4 || (t & (t - 1)) == 0 || t == max)
            imc_bench_threads(b, t);
}

void imc_bench_register_threads(void)
{
    size_t nb = 0;
    const char *const *names = imc_backend_list(&nb);
    const imc_suite *s = imc_suite_get(IMC_SUITE_X25519_ED25519_CHACHA20POLY1305);
    char name[128];
    for (int path = 0; path < 2; path++) {
        for (size_t i = 0; i < nb; i++) {
            imc_bench *b;
            if (path == 0) {
                snprintf(name, sizeof name, "threads/encrypt/%s/%s/dev:%d/body:%d", names[i],
                         s->short_name, THREAD_DEVICES, THREAD_BODY);
                b = imc_bench_msg_register(name, IMC_BENCH_MSG_ENCRYPT, names[i], s,
                                           THREAD_DEVICES, THREAD_BODY);
            } else {
                snprintf(name, sizeof name, "threads/decrypt/%s/%s/body:%d", names[i],
                         s->short_name, THREAD_BODY);
                b = imc_bench_msg_register(name, IMC_BENCH_MSG_DECRYPT, names[i], s, 1,
                                           THREAD_BODY);
            }
            if (b == NULL)
                continue;
            imc_bench_use_real_time(b);
            thread_counts(b);
        }
    }
}
