/* imc_bench: a small C API over google-benchmark (C++ only inside the shim).
 *
 * A benchmark is a C function run by google-benchmark with a state handle
 * and the argument given at registration:
 *
 *     static void bm_thing(imc_bench_state *st, void *arg)
 *     {
 *         ... set-up, untimed ...
 *         while (imc_bench_keep_running(st)) {
 *             imc_status s = do_thing(arg);
 *             if (s != IMC_OK) {
 *                 imc_bench_skip(st, imc_status_str(s));
 *                 break;
 *             }
 *         }
 *         imc_bench_set_items_processed(st, imc_bench_iterations(st));
 *         ... tear-down, untimed ...
 *     }
 *
 *     imc_bench_unit(imc_bench_register("group/thing", bm_thing, &arg), IMC_BENCH_US);
 *
 * Rules inherited from google-benchmark: a benchmark function must run its
 * loop until it returns false, or call imc_bench_skip() (before the loop, or
 * inside it and then leave the loop). The functions marked "after the loop"
 * must not be called while the loop is running. Benchmarks and context must
 * be registered before imc_bench_main(). */
#ifndef IMC_BENCH_H
#define IMC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-run, per-thread state, created by the shim. The fields are private;
 * they are visible only so that imc_bench_keep_running() can be inline. */
typedef struct imc_bench_state {
    int64_t left_;     /* iterations left in the current batch */
    void *impl_;       /* benchmark::State */
    const char *name_; /* the registered name */
    int phase_;        /* instruction-count mode: which part of the run */
} imc_bench_state;

/* A registered benchmark, for the settings below. NULL is accepted (and
 * ignored) by every setter so that a failed registration need not be
 * checked at each call. */
typedef struct imc_bench imc_bench;

typedef void imc_bench_fn(imc_bench_state *st, void *arg);

typedef enum imc_bench_time_unit {
    IMC_BENCH_NS = 0,
    IMC_BENCH_US,
    IMC_BENCH_MS,
    IMC_BENCH_S,
} imc_bench_time_unit;

/* Counter flags (google-benchmark's Counter::Flags and OneK). */
enum {
    IMC_BENCH_COUNTER_RATE = 1 << 0,           /* divided by the run's time */
    IMC_BENCH_COUNTER_AVG_THREADS = 1 << 1,    /* divided by the thread count */
    IMC_BENCH_COUNTER_PER_ITERATION = 1 << 2,  /* value per iteration: multiplied */
    IMC_BENCH_COUNTER_AVG_ITERATIONS = 1 << 3, /* divided by the iteration count */
    IMC_BENCH_COUNTER_INVERT = 1 << 4,         /* 1/x, applied last */
    IMC_BENCH_COUNTER_K1024 = 1 << 5,          /* print with 1024-based prefixes */
};

/* ---- registration (before imc_bench_main) ------------------------------ */

/* Registers `fn` under `name` (copied); `arg` is passed as is and must stay
 * valid until imc_bench_main() returns. Returns NULL only on bad arguments
 * or allocation failure. */
imc_bench *imc_bench_register(const char *name, imc_bench_fn *fn, void *arg);

/* As imc_bench_register(), but the arg_size bytes at `arg` are copied into
 * the registration (suitably aligned for any type) and fn receives a
 * pointer to the copy, so the caller needs no storage of its own. Every run
 * (repetition, thread) of the benchmark gets the same copy. */
imc_bench *imc_bench_register_copy(const char *name, imc_bench_fn *fn, const void *arg,
                                   size_t arg_size);

/* A native C++ benchmark: google-benchmark's range-for loop around a
 * counter bumped through imc_bench_do_not_optimize(), as the reference for
 * the C loop's own overhead. */
imc_bench *imc_bench_register_native_baseline(const char *name);

/* Settings; each returns its argument. */
imc_bench *imc_bench_min_time(imc_bench *b, double seconds);
imc_bench *imc_bench_min_warmup_time(imc_bench *b, double seconds);
imc_bench *imc_bench_unit(imc_bench *b, imc_bench_time_unit unit);
imc_bench *imc_bench_iterations_fixed(imc_bench *b, int64_t iterations);
imc_bench *imc_bench_repetitions(imc_bench *b, int repetitions);
imc_bench *imc_bench_threads(imc_bench *b, int threads);
/* Runs at min, then doubling up to max (max itself always included). */
imc_bench *imc_bench_thread_range(imc_bench *b, int min_threads, int max_threads);
imc_bench *imc_bench_use_real_time(imc_bench *b);
imc_bench *imc_bench_measure_process_cpu_time(imc_bench *b);

/* Instruction-count mode (before imc_bench_main): every benchmark runs
 * exactly `iterations` iterations, once. The first iteration is a warm-up;
 * under valgrind --tool=callgrind --collect-atstart=no the others are
 * collected and dumped as one part named "imc:<benchmark name>"
 * (CALLGRIND_DUMP_STATS_AT), so one valgrind process measures every
 * selected benchmark. Returns false if this build has no valgrind headers
 * or iterations < 2. Benchmarks using imc_bench_keep_running_batch() are
 * not collected. */
bool imc_bench_instr_mode(int64_t iterations);

/* A key/value pair for the report's context block (the JSON "context"). */
void imc_bench_add_context(const char *key, const char *value);

/* Initialises google-benchmark from the command line (it removes the flags
 * it knows), runs the benchmarks that match --benchmark_filter and shuts
 * the library down. Returns 0, or 1 for unknown arguments or when no
 * benchmark matched the filter. */
int imc_bench_main(int argc, char **argv);

/* ---- inside a benchmark ------------------------------------------------- */

/* Slow path of imc_bench_keep_running(); not for direct use. */
bool imc_bench_next_batch_(imc_bench_state *st);

/* True while the benchmark should run one more iteration. The whole run is
 * taken from google-benchmark as one batch (KeepRunningBatch), so the
 * per-iteration cost is a decrement and a branch; google-benchmark is only
 * called at the start and the end. */
static inline bool imc_bench_keep_running(imc_bench_state *st)
{
    if (st->left_ > 0) {
        st->left_--;
        return true;
    }
    return imc_bench_next_batch_(st);
}

/* True if `n` more iterations should run; for loop bodies that do n items
 * at once. Not to be mixed with imc_bench_keep_running() in one benchmark.
 * May overshoot the planned count by up to n - 1 (google-benchmark counts
 * them). */
bool imc_bench_keep_running_batch(imc_bench_state *st, int64_t n);

/* Stop and restart the timer (costly: only around expensive set-up). */
void imc_bench_pause(imc_bench_state *st);
void imc_bench_resume(imc_bench_state *st);

/* Reports the run as failed with `msg` (copied) and ends the loop: the
 * next imc_bench_keep_running() returns false. Call it at most once. */
void imc_bench_skip(imc_bench_state *st, const char *msg);
bool imc_bench_error_occurred(const imc_bench_state *st);

/* Iterations run so far (after the loop: in total, by this thread). */
int64_t imc_bench_iterations(const imc_bench_state *st);
int imc_bench_thread_index(const imc_bench_state *st);
int imc_bench_threads_count(const imc_bench_state *st);

/* After the loop. */
void imc_bench_counter(imc_bench_state *st, const char *name, double value, unsigned flags);
void imc_bench_set_bytes_processed(imc_bench_state *st, int64_t bytes);
void imc_bench_set_items_processed(imc_bench_state *st, int64_t items);
void imc_bench_set_label(imc_bench_state *st, const char *label);

/* Compiler barriers (google-benchmark's DoNotOptimize / ClobberMemory):
 * the value at p counts as read and written, all memory as clobbered. */
#if defined(__GNUC__) || defined(__clang__)
static inline void imc_bench_do_not_optimize(const void *p)
{
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
static inline void imc_bench_clobber(void) { __asm__ __volatile__("" : : : "memory"); }
#else
void imc_bench_do_not_optimize(const void *p);
void imc_bench_clobber(void);
#endif

#ifdef __cplusplus
}
#endif
#endif
