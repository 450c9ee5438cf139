/* The per-iteration cost of the C shim loop, measured with a body that
 * only bumps a counter through a compiler barrier. The barrier stands in
 * for the opaque call a real body makes: without it the compiler may fold
 * the loop away (clang deletes a loop around a bare empty asm). The native
 * baseline in the shim runs the same body in google-benchmark's range-for. */
#include <stdint.h>

#include "benches.h"
#include "imc_bench.h"

static void bm_empty(imc_bench_state *st, void *arg)
{
    uint64_t n = 0;
    (void)arg;
    while (imc_bench_keep_running(st)) {
        n++;
        imc_bench_do_not_optimize(&n);
    }
}

static void bm_empty_batch(imc_bench_state *st, void *arg)
{
    uint64_t n = 0;
    (void)arg;
    while (imc_bench_keep_running_batch(st, 64)) {
        for (int i = 0; i < 64; i++) {
            n++;
            imc_bench_do_not_optimize(&n);
        }
    }
}

void imc_bench_register_overhead(void)
{
    imc_bench_register("shim/empty", bm_empty, NULL);
    imc_bench_register("shim/empty-batch64", bm_empty_batch, NULL);
    imc_bench_register_native_baseline("shim/empty-native");
}
