/* Per-operation latency samples for the core paths (benches.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdlib.h>
#include <time.h>

#include "benches.h"
#include "imc_bench.h"

int64_t imc_bench_wall_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void imc_bench_lat_init(imc_bench_lat *l)
{
    l->n = 0;
    l->ns = malloc(IMC_BENCH_LAT_MAX * sizeof *l->ns);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values. */
static double rank(const int64_t *v, size_t n, double q)
{
    size_t k = (size_t)(q * (double)n + 0.999999);
    k = k == 0 ? 1 : k > n ? n : k;
    return (double)v[k - 1];
}

void imc_bench_lat_report(imc_bench_state *st, imc_bench_lat *l)
{
    if (l->ns != NULL && l->n > 0 && !imc_bench_error_occurred(st)) {
        qsort(l->ns, l->n, sizeof *l->ns, cmp_i64);
        imc_bench_counter(st, "p50_us", rank(l->ns, l->n, 0.50) / 1e3, 0);
        imc_bench_counter(st, "p99_us", rank(l->ns, l->n, 0.99) / 1e3, 0);
        imc_bench_counter(st, "p999_us", rank(l->ns, l->n, 0.999) / 1e3, 0);
        imc_bench_counter(st, "lat_samples", (double)l->n, 0);
    }
    free(l->ns);
    l->ns = NULL;
    l->n = 0;
}
