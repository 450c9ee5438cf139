// imc_bench: the C API of imc_bench.h over google-benchmark 1.7.
#include "imc_bench.h"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#ifdef IMC_BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

namespace {

// Instruction-count mode (imc_bench_instr_mode): 0 = off.
benchmark::IterationCount instr_iterations = 0;
std::vector<benchmark::internal::Benchmark *> registered;

benchmark::State &S(imc_bench_state *st) { return *static_cast<benchmark::State *>(st->impl_); }

const benchmark::State &S(const imc_bench_state *st)
{
    return *static_cast<const benchmark::State *>(st->impl_);
}

benchmark::internal::Benchmark *B(imc_bench *b)
{
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

imc_bench *H(benchmark::internal::Benchmark *b) { return reinterpret_cast<imc_bench *>(b); }

void run(imc_bench_fn *fn, void *arg, benchmark::State &state, const std::string &name)
{
    imc_bench_state st;
    st.left_ = 0;
    st.impl_ = &state;
    st.name_ = name.c_str();
    st.phase_ = 0;
    fn(&st, arg);
}

imc_bench *keep(benchmark::internal::Benchmark *b)
{
    if (b != nullptr)
        registered.push_back(b);
    return H(b);
}

// Instruction-count mode, collection on for iterations 2..n and off (with
// the part dumped under the benchmark's name) after them.
void collect(bool on, const imc_bench_state *st)
{
#ifdef IMC_BENCH_HAVE_CALLGRIND
    CALLGRIND_TOGGLE_COLLECT;
    if (!on) {
        std::string part = std::string("imc:") + st->name_;
        CALLGRIND_DUMP_STATS_AT(part.c_str());
    }
#else
    (void)on;
    (void)st;
#endif
}

}  // namespace

extern "C" {

imc_bench *imc_bench_register(const char *name, imc_bench_fn *fn, void *arg)
{
    if (name == nullptr || fn == nullptr)
        return nullptr;
    try {
        std::string n(name);
        return keep(benchmark::RegisterBenchmark(
            name, [fn, arg, n](benchmark::State &state) { run(fn, arg, state, n); }));
    } catch (...) {
        return nullptr;
    }
}

imc_bench *imc_bench_register_copy(const char *name, imc_bench_fn *fn, const void *arg,
                                   size_t arg_size)
{
    if (name == nullptr || fn == nullptr || (arg == nullptr && arg_size != 0))
        return nullptr;
    try {
        // max_align_t elements: the copy is aligned for whatever struct it holds.
        std::vector<std::max_align_t> copy((arg_size + sizeof(std::max_align_t) - 1) /
                                           sizeof(std::max_align_t));
        if (arg_size != 0)
            std::memcpy(copy.data(), arg, arg_size);
        std::string n(name);
        return keep(benchmark::RegisterBenchmark(
            name, [fn, copy, n](benchmark::State &state) mutable {
                run(fn, copy.empty() ? nullptr : copy.data(), state, n);
            }));
    } catch (...) {
        return nullptr;
    }
}

imc_bench *imc_bench_register_native_baseline(const char *name)
{
    if (name == nullptr)
        return nullptr;
    try {
        return H(benchmark::RegisterBenchmark(name, [](benchmark::State &state) {
            uint64_t n = 0;
            for (auto _ : state) {
                n++;
                imc_bench_do_not_optimize(&n);
            }
        }));
    } catch (...) {
        return nullptr;
    }
}

imc_bench *imc_bench_min_time(imc_bench *b, double seconds)
{
    if (b != nullptr)
        B(b)->MinTime(seconds);
    return b;
}

imc_bench *imc_bench_min_warmup_time(imc_bench *b, double seconds)
{
    if (b != nullptr)
        B(b)->MinWarmUpTime(seconds);
    return b;
}

imc_bench *imc_bench_unit(imc_bench *b, imc_bench_time_unit unit)
{
    static const benchmark::TimeUnit units[] = {benchmark::kNanosecond, benchmark::kMicrosecond,
                                                benchmark::kMillisecond, benchmark::kSecond};
    if (b != nullptr && static_cast<unsigned>(unit) < sizeof(units) / sizeof(units[0]))
        B(b)->Unit(units[unit]);
    return b;
}

imc_bench *imc_bench_iterations_fixed(imc_bench *b, int64_t iterations)
{
    if (b != nullptr && iterations > 0)
        B(b)->Iterations(iterations);
    return b;
}

imc_bench *imc_bench_repetitions(imc_bench *b, int repetitions)
{
    if (b != nullptr && repetitions > 0)
        B(b)->Repetitions(repetitions);
    return b;
}

imc_bench *imc_bench_threads(imc_bench *b, int threads)
{
    if (b != nullptr && threads > 0)
        B(b)->Threads(threads);
    return b;
}

imc_bench *imc_bench_thread_range(imc_bench *b, int min_threads, int max_threads)
{
    if (b != nullptr && min_threads > 0 && max_threads >= min_threads)
        B(b)->ThreadRange(min_threads, max_threads);
    return b;
}

imc_bench *imc_bench_use_real_time(imc_bench *b)
{
    if (b != nullptr)
        B(b)->UseRealTime();
    return b;
}

imc_bench *imc_bench_measure_process_cpu_time(imc_bench *b)
{
    if (b != nullptr)
        B(b)->MeasureProcessCPUTime();
    return b;
}

void imc_bench_add_context(const char *key, const char *value)
{
    if (key == nullptr || value == nullptr)
        return;
    try {
        benchmark::AddCustomContext(key, value);
    } catch (...) {
    }
}

bool imc_bench_instr_mode(int64_t iterations)
{
#ifdef IMC_BENCH_HAVE_CALLGRIND
    if (iterations < 2)
        return false;
    instr_iterations = iterations;
    return true;
#else
    (void)iterations;
    return false;
#endif
}

int imc_bench_main(int argc, char **argv)
{
    int rc = 0;
    try {
        if (instr_iterations > 0)
            for (auto *b : registered)
                b->Iterations(instr_iterations)->Repetitions(1);
        benchmark::Initialize(&argc, argv);
        if (benchmark::ReportUnrecognizedArguments(argc, argv))
            rc = 1;
        // No match is 0 (google-benchmark has printed why); make a mistyped
        // --benchmark_filter fail a script instead of writing an empty report.
        else if (benchmark::RunSpecifiedBenchmarks() == 0)
            rc = 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "imc_bench: %s\n", e.what());
        rc = 1;
    }
    benchmark::Shutdown();
    return rc;
}

// Instruction-count mode: one batch of n; iteration 1 runs uncollected,
// iterations 2..n collected, then the batch ends.
static bool next_batch_instr(imc_bench_state *st, benchmark::State &state)
{
    const benchmark::IterationCount n = state.max_iterations;
    switch (st->phase_) {
    case 0:
        if (!state.KeepRunningBatch(n))
            return false;
        st->phase_ = 1;
        st->left_ = 0;
        return true;
    case 1:
        st->phase_ = 3;
        if (n > 1 && !state.error_occurred()) {
            collect(true, st);
            st->phase_ = 2;
            st->left_ = n - 2;
            return true;
        }
        break;
    case 2:
        collect(false, st);
        st->phase_ = 3;
        break;
    default:
        break;
    }
    return state.KeepRunningBatch(n);
}

bool imc_bench_next_batch_(imc_bench_state *st)
{
    benchmark::State &state = S(st);
    if (instr_iterations > 0)
        return next_batch_instr(st, state);
    // First call: take the whole planned run as one batch, so that every
    // further iteration is only the inline decrement. Second call (or after
    // imc_bench_skip): KeepRunningBatch returns false and stops the timer.
    const benchmark::IterationCount n = state.max_iterations > 0 ? state.max_iterations : 1;
    if (!state.KeepRunningBatch(n))
        return false;
    st->left_ = n - 1;
    return true;
}

bool imc_bench_keep_running_batch(imc_bench_state *st, int64_t n)
{
    return S(st).KeepRunningBatch(n > 0 ? n : 1);
}

void imc_bench_pause(imc_bench_state *st) { S(st).PauseTiming(); }

void imc_bench_resume(imc_bench_state *st) { S(st).ResumeTiming(); }

void imc_bench_skip(imc_bench_state *st, const char *msg)
{
    st->left_ = 0;
    S(st).SkipWithError(msg != nullptr ? msg : "(no message)");
}

bool imc_bench_error_occurred(const imc_bench_state *st) { return S(st).error_occurred(); }

int64_t imc_bench_iterations(const imc_bench_state *st)
{
    // While the C loop runs, google-benchmark has counted the whole batch.
    return S(st).iterations() - st->left_;
}

int imc_bench_thread_index(const imc_bench_state *st) { return S(st).thread_index(); }

int imc_bench_threads_count(const imc_bench_state *st) { return S(st).threads(); }

void imc_bench_counter(imc_bench_state *st, const char *name, double value, unsigned flags)
{
    using C = benchmark::Counter;
    if (name == nullptr)
        return;
    int f = C::kDefaults;
    if (flags & IMC_BENCH_COUNTER_RATE)
        f |= C::kIsRate;
    if (flags & IMC_BENCH_COUNTER_AVG_THREADS)
        f |= C::kAvgThreads;
    if (flags & IMC_BENCH_COUNTER_PER_ITERATION)
        f |= C::kIsIterationInvariant;
    if (flags & IMC_BENCH_COUNTER_AVG_ITERATIONS)
        f |= C::kAvgIterations;
    if (flags & IMC_BENCH_COUNTER_INVERT)
        f |= C::kInvert;
    try {
        S(st).counters[name] = C(value, static_cast<C::Flags>(f),
                                 (flags & IMC_BENCH_COUNTER_K1024) ? C::kIs1024 : C::kIs1000);
    } catch (...) {
    }
}

void imc_bench_set_bytes_processed(imc_bench_state *st, int64_t bytes)
{
    S(st).SetBytesProcessed(bytes);
}

void imc_bench_set_items_processed(imc_bench_state *st, int64_t items)
{
    S(st).SetItemsProcessed(items);
}

void imc_bench_set_label(imc_bench_state *st, const char *label)
{
    S(st).SetLabel(label != nullptr ? label : "");
}

#if !defined(__GNUC__) && !defined(__clang__)
void imc_bench_do_not_optimize(const void *p) { benchmark::DoNotOptimize(p); }
void imc_bench_clobber(void) { benchmark::ClobberMemory(); }
#endif

}  // extern "C"
