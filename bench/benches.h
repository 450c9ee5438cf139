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

/* Sizes from docs/wire-format.md ("Envelope", "Cryptography"); bench_msg.c
 * checks the signed-header length against a real envelope before it
 * measures anything, so these cannot drift from the code unnoticed. */
#define IMC_BENCH_SH_FIXED 69         /* SH = 69 + h + E */
#define IMC_BENCH_LABEL_SIG 13        /* "imcore/v2/sig" */
#define IMC_BENCH_LABEL_BODY 14       /* "imcore/v2/body" */
#define IMC_BENCH_LABEL_WRAP 14       /* "imcore/v2/wrap" */
#define IMC_BENCH_CONTENT_INFO 33     /* "imcore/v2/content" || mid (16) */
#define IMC_BENCH_CONTENT_OKM 64      /* body key || commitment */

static inline size_t imc_bench_sh_len(const imc_suite *s)
{
    return IMC_BENCH_SH_FIXED + IMC_BENCH_SENDER_HANDLE_LEN + s->dh_public_bytes;
}

/* "imcore/v2/sig" || suite (2) || SH || SHA-256(body ciphertext) ||
 * recipient-set hash */
static inline size_t imc_bench_sig_input_len(const imc_suite *s)
{
    return IMC_BENCH_LABEL_SIG + 2 + imc_bench_sh_len(s) + 32 + 32;
}

/* "imcore/v2/body" || suite (2) || SH */
static inline size_t imc_bench_body_ad_len(const imc_suite *s)
{
    return IMC_BENCH_LABEL_BODY + 2 + imc_bench_sh_len(s);
}

/* "imcore/v2/wrap" || suite (2) || epk || pk || device id (8) || mid (16) ||
 * sender context (32) */
static inline size_t imc_bench_wrap_info_len(const imc_suite *s)
{
    return IMC_BENCH_LABEL_WRAP + 2 + 2 * s->dh_public_bytes + 8 + 16 + 32;
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

#endif
