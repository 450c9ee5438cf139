/* imcore benchmarks: one registration function per group, each in its own
 * file. bench_main.c calls them all before running: overhead, primitives,
 * msg, peers, threads, dir. google-benchmark runs benchmarks in registration
 * order, so the primitive floors are measured before the core paths that
 * are divided by them.
 *
 * Names (one scheme, so that --benchmark_filter and compare.py can select
 * by any part; <suite> is imc_suite.short_name):
 *   prim/<backend>/<primitive>[/<size>][/ad:<n>|/info:<n>]
 *   encrypt/<backend>/<suite>/dev:<N>/body:<B>
 *   decrypt/<backend>/<suite>/body:<B>
 *   fanout/<suite>/dev:<N>/body:<B>
 *   parse/envelope/<suite>/dev:<N>/body:<B>
 *   parse/delivery/<suite>/body:<B>
 *   threads/{encrypt,decrypt}/<backend>/<suite>/.../real_time/threads:<T>
 *   dir/...   (bench_dir.c)          shim/...   (bench_overhead.c)
 *   peer/...  (bench/peers/, when built) */
#ifndef IMC_BENCHES_H
#define IMC_BENCHES_H

#include <stddef.h>
#include <stdint.h>

#include "imc_bench.h"
#include "imcore/recipe.h"
#include "imcore/suite.h"

/* shim/...: the C loop's own cost next to a native google-benchmark loop. */
void imc_bench_register_overhead(void);

/* prim/<backend>/<primitive>[/<size>]: the primitive floor per backend,
 * including every primitive at the exact sizes the message paths use. */
void imc_bench_register_primitives(void);

/* encrypt, decrypt, fanout, parse (bench_msg.c). */
void imc_bench_register_msg(void);

/* One encrypt (N devices) or decrypt benchmark of bench_msg.c under `name`,
 * for other groups (threads); NULL if the backend lacks the suite. The
 * benchmark is thread-safe: per-thread buffers, RNG and replay state. */
typedef enum imc_bench_msg_path {
    IMC_BENCH_MSG_ENCRYPT,
    IMC_BENCH_MSG_DECRYPT,
} imc_bench_msg_path;
imc_bench *imc_bench_msg_register(const char *name, imc_bench_msg_path path, const char *bname,
                                  const imc_suite *s, size_t n, size_t body);

/* threads/...: encrypt and decrypt throughput at 1..nproc threads. */
void imc_bench_register_threads(void);

/* dir/...: directory lookups at 1 M and 10 M handles per store,
 * registration, and verifying signed answers on the client. */
void imc_bench_register_dir(void);

/* peer/...: the baselines in bench/peers/, when they are built in: a weak
 * declaration, so bench_main.c calls it only if some file defines it. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((weak)) void imc_bench_register_peers(void);
#endif
/* Its two groups: peer/naive-sodium/... (peer_naive_sodium.c) and
 * peer/imessage2011-rsa{1280,2048}/... (peer_imessage2011.c). */
/* rcpt-set/{list,merkle}/N: the recipient set's bytes and time per
 * delivery in the two designs (bench_rcpt.c). */
void imc_bench_register_rcpt(void);

void imc_bench_register_peer_naive_sodium(void);
void imc_bench_register_peer_imessage2011(void);

/* ---- Shapes shared by the paths and their floors ----------------------- */

/* The sender handle of every message benchmark; its length fixes the
 * signed header and hence the signature input and the body AD. */
#define IMC_BENCH_SENDER_HANDLE "alice@example.com"
#define IMC_BENCH_SENDER_HANDLE_LEN (sizeof(IMC_BENCH_SENDER_HANDLE) - 1)

/* ---- Cost recipes (bench_recipe.c) ------------------------------------- */

/* The primitive calls of a core path for one message, from the library
 * (imc_msg_recipe) with the sender handle above; the only source of the
 * floors the paths divide by and of the shapes the prim/ benchmarks are
 * registered at. */
IMC_MUST_USE imc_status imc_bench_recipe(imc_recipe_step steps[IMC_RECIPE_MAX_STEPS],
                                         size_t *count, imc_msg_path path, const imc_suite *s,
                                         size_t devices, size_t body);

/* The prim/<backend>/ benchmark name of one step (without that prefix), e.g.
 * "hkdf-sha256/32/info:104"; 0, or -1 if it does not fit. */
int imc_bench_step_name(char *out, size_t cap, const imc_suite *s, const imc_recipe_step *st);

/* Records the recipe of a registered core path in the report's context as
 * recipe.<path>/<suite>/[dev:<N>/]body:<B> = "<count>*<prim name>;..."
 * (what bench_report.py divides by), and for --imc_recipes. */
void imc_bench_recipe_context(imc_msg_path path, const imc_suite *s, size_t devices, size_t body);
/* Any other recipe: recipe.<key> = value. */
void imc_bench_recipe_note(const char *key, const char *value);
/* Prints every recorded recipe, one "recipe.<key>\t<value>" line each. */
void imc_bench_recipes_print(void);
void imc_bench_recipes_free(void);

/* How many distinct messages a receive benchmark cycles through: imcore's
 * decrypt (bench_msg.c), the peers' receive (bench/peers/) and the verify
 * floors alike. Verification is variable-time: one signature checked over
 * and over lets the branch predictor learn its path (3-5 % faster than a
 * receiver ever sees). Bodies above 4 KiB use fewer, so that the pool stays
 * within L2 like the floors' buffers. */
#define IMC_BENCH_RECEIVE_POOL_MAX 64
static inline size_t imc_bench_receive_pool(size_t body)
{
    return body <= 4096 ? IMC_BENCH_RECEIVE_POOL_MAX : 16;
}

/* Body sizes and fan-outs of the message benchmarks. */
#define IMC_BENCH_BODY_COUNT 3
extern const size_t imc_bench_body_sizes[IMC_BENCH_BODY_COUNT];
#define IMC_BENCH_FANOUT_COUNT 7
extern const size_t imc_bench_fanouts[IMC_BENCH_FANOUT_COUNT];

/* The directory's signed entry for one suite-1 device under the
 * population's 22-byte handles: "imcore/v1/dir-entry" (19) || handle (1 +
 * 22) || epoch, global epoch, issue time (24) || count (1) || device (74). */
#define IMC_BENCH_DIR_ENTRY_SIGN_BYTES 141

/* ---- The floor store ----------------------------------------------------- */

/* Thread CPU time in ns: what google-benchmark reports as cpu_time for a
 * single-threaded benchmark. */
int64_t imc_bench_cpu_ns(void);

/* Every prim/ run notes its CPU time per operation under its full name.
 * imc_bench_floor_ns() is the median over the runs with the largest
 * iteration count (google-benchmark's repetitions; its shorter runs only
 * size the batch), or a negative value if the primitive has not run in
 * this process (filtered out). Thread-safe. */
void imc_bench_floor_note(const char *name, int64_t iterations, double ns_per_op);
double imc_bench_floor_ns(const char *name);

/* ---- Latency samples -------------------------------------------------- */

/* Monotonic wall-clock time in ns (a vDSO read, ~35 ns here). */
int64_t imc_bench_wall_ns(void);

/* The wall-clock duration of each operation of a run, for its p50, p99
 * and p99.9 (counters p50_us, p99_us, p999_us and lat_samples, set by
 * imc_bench_lat_report after the loop). The first IMC_BENCH_LAT_MAX
 * operations are kept; a run of a core path has fewer. Wall time: an
 * operation the machine preempted counts as slow, as its caller sees it. */
#define IMC_BENCH_LAT_MAX 65536
typedef struct imc_bench_lat {
    int64_t *ns; /* NULL if the allocation failed: nothing is recorded */
    size_t n;
} imc_bench_lat;

void imc_bench_lat_init(imc_bench_lat *l);
static inline void imc_bench_lat_add(imc_bench_lat *l, int64_t ns)
{
    if (l->ns != NULL && l->n < IMC_BENCH_LAT_MAX)
        l->ns[l->n++] = ns;
}
/* Sets the counters (unless the run failed) and frees the samples. */
void imc_bench_lat_report(imc_bench_state *st, imc_bench_lat *l);

#endif
