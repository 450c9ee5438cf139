/* imcore-scale: the streaming, multi-threaded, constant-memory driver of
 * the whole pipeline (docs/scale.md).
 *
 *   options.c     command line: numbers, distributions, shard, help
 *   population.c  the synthetic population: accounts, devices, keys, and
 *                 the LMDB key directory built once per (seed, population)
 *   worker.c      one message end to end: directory lookup, client cache,
 *                 encrypt, fan-out, decrypt and check on every device
 *   hist.c        log-linear latency histograms (HDR-style)
 *   report.c      the final JSON, the projection, the progress display
 *   main.c        orchestration
 *
 * Everything a message is made of is a pure function of (seed, message
 * index), so any subset of indices, on any number of threads, shards or
 * machines, produces the same per-message digests. */
#ifndef IMCORE_SCALE_H
#define IMCORE_SCALE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "imcore/imcore.h"

#if defined(__GNUC__) || defined(__clang__)
#define SCALE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SCALE_PRINTF(f, a)
#endif

#define SCALE_EXIT_OK 0
#define SCALE_EXIT_FAIL 1
#define SCALE_EXIT_USAGE 2

#define SCALE_PROG "imcore-scale"
#define SCALE_FORMAT_VERSION 1

/* Message timestamps: T0 + index milliseconds (T0 = 2012-10-01T00:00:00Z,
 * the month iMessage passed 300 billion messages). */
#define SCALE_T0_MS UINT64_C(1349049600000)
/* A recipient device's clock is the message timestamp plus 0..this. */
#define SCALE_MAX_DELIVERY_DELAY_MS 5000

/* Device ids: account a's k-th device is (a + 1) * 64 + k (never 0, unique,
 * and the account is recovered by division). */
#define SCALE_DEVICE_ID_STRIDE 64

/* ---- Distributions ------------------------------------------------------ */

#define SCALE_DIST_MAX 32
#define SCALE_WEIGHT_SCALE 1000000 /* weights are kept in millionths */

typedef struct scale_range {
    uint64_t lo, hi;   /* inclusive; uniform within */
    uint64_t weight;   /* in millionths */
} scale_range;

typedef struct scale_dist {
    size_t n;
    scale_range r[SCALE_DIST_MAX];
    uint64_t total; /* sum of the weights */
    uint64_t min, max;
    double mean;
    char canonical[SCALE_DIST_MAX * 48]; /* "1:30,2:40,4-8:10" re-spelled */
} scale_dist;

/* ---- Configuration ------------------------------------------------------ */

enum { SCALE_PROGRESS_AUTO, SCALE_PROGRESS_BAR, SCALE_PROGRESS_LINES, SCALE_PROGRESS_NONE };

typedef struct scale_config {
    uint64_t messages; /* the whole run; this process does [lo, hi) */
    uint64_t seed;
    uint64_t population; /* accounts */
    uint64_t shard_index, shard_count;
    uint64_t lo, hi;
    unsigned threads;
    scale_dist devices; /* devices per account */
    scale_dist members; /* accounts in a conversation, the sender included */
    scale_dist body;    /* body bytes */
    const imc_backend *b;
    const imc_suite *suite;
    char pop_dir[1024];
    const char *out_path; /* NULL: standard output */
    int progress;
    double progress_interval; /* seconds between plain lines */
    const char *checkpoint_path; /* NULL: no checkpoints */
    double checkpoint_interval;  /* seconds between checkpoints */
    uint64_t project_messages, project_machines, project_cores;
    size_t key_cache; /* recipient keys kept per thread */
    bool warm;
    bool dry_run;

    /* Derived. */
    uint8_t seed_pop[IMC_RNG_SEED_BYTES];  /* device counts per account */
    uint8_t seed_keys[IMC_RNG_SEED_BYTES]; /* device keys, stream = device id */
    uint8_t seed_dir[IMC_RNG_SEED_BYTES];  /* the directory's signing key */
    uint8_t seed_msg[IMC_RNG_SEED_BYTES];  /* message parameters, stream = index */
    uint8_t seed_enc[IMC_RNG_SEED_BYTES];  /* imc_msg_encrypt's rng, stream = index */
    uint8_t config_id[IMC_SHA256_BYTES];   /* what a digest is a digest of */
    size_t max_recipients;                 /* devices in one envelope, at most */
    size_t handle_len;                     /* every handle has this length */
} scale_config;

/* Parses argv into cfg. Returns -1 to go on, else the exit code (0 after
 * --help, 2 after a one-line usage error on stderr). */
int scale_parse_args(scale_config *cfg, int argc, char **argv);

/* "3e11", "1e6", "2.5e6", "1000000" -> an exact integer (false if it is
 * not one, or does not fit). */
bool scale_parse_count(const char *s, uint64_t *out);

/* "A[-B]:W,..." (W a decimal weight) within [min, max] -> d; on failure a
 * reason in err. */
bool scale_parse_dist(scale_dist *d, const char *s, uint64_t min, uint64_t max, char *err,
                      size_t err_cap);

/* A value drawn from d with rng (exact integer arithmetic). */
IMC_MUST_USE imc_status scale_dist_draw(uint64_t *out, const scale_dist *d, imc_rng *rng,
                                        const imc_backend *b);
/* Uniform in [0, n), n > 0, by rejection (exact). */
IMC_MUST_USE imc_status scale_uniform(uint64_t *out, uint64_t n, imc_rng *rng,
                                      const imc_backend *b);

/* ---- Histograms ------------------------------------------------------------ */

/* Values (nanoseconds) below 128 are exact; above, 64 sub-buckets per power
 * of two: a bucket's width is at most 1/64 of its lower bound. */
#define SCALE_HIST_SUB_BITS 6
#define SCALE_HIST_BUCKETS (128 + 57 * 64)

typedef struct scale_hist {
    uint64_t count, sum, min, max;
    uint64_t bucket[SCALE_HIST_BUCKETS];
} scale_hist;

void scale_hist_init(scale_hist *h);
void scale_hist_add(scale_hist *h, uint64_t v);
void scale_hist_merge(scale_hist *into, const scale_hist *from);
/* The highest value of the bucket holding the rank ceil(q * count), at most
 * the maximum recorded; 0 for an empty histogram. */
uint64_t scale_hist_quantile(const scale_hist *h, double q);
size_t scale_hist_index(uint64_t v);
uint64_t scale_hist_bucket_high(size_t idx);

/* ---- Stages ---------------------------------------------------------------- */

typedef enum scale_stage {
    /* The pipeline: what a message costs the service and the devices. */
    ST_DIR_LOOKUP,   /* directory service: one snapshot read, one signature per handle */
    ST_CACHE_VERIFY, /* sender's client cache: verify every entry, epochs, recipients */
    ST_ENCRYPT,      /* imc_msg_encrypt: one envelope */
    ST_FANOUT,       /* imc_msg_fanout + copying out every delivery */
    ST_DECRYPT,      /* every delivery: sender from the cache + imc_msg_decrypt */
    ST_PIPELINE_COUNT_,
    ST_E2E = ST_PIPELINE_COUNT_, /* the sum of the above, per message */
    ST_DECRYPT_ONE,              /* one delivery on one device */
    /* Simulation overhead: measured, reported, not part of the pipeline. */
    ST_SIM_GENERATE, /* drawing the message from (seed, index), setting up the cache */
    ST_SIM_KEYS,     /* re-deriving device secret keys from (seed, device id) */
    ST_SIM_CHECK,    /* comparing every decrypted body, hashing the digest */
    ST_COUNT
} scale_stage;

extern const char *const SCALE_STAGE_NAMES[ST_COUNT];

/* ---- Population ----------------------------------------------------------- */

typedef struct scale_pop {
    imc_dir_store store;
    imc_dir dir;
    uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES];
    char path[1200];
    bool built;           /* built by this run (else reused) */
    double build_seconds; /* 0 if reused */
    double warm_seconds;
    uint64_t accounts, devices; /* devices: 0 if not scanned */
    uint64_t file_bytes;
} scale_pop;

/* Progress of the current phase (building the population, reading it,
 * running the messages), for the display. */
typedef struct scale_progress {
    _Atomic uint64_t done;
    pthread_mutex_t lock; /* guards the three below */
    const char *what;     /* "messages", "accounts (building the population)" */
    uint64_t total;
    uint64_t start_done; /* done when the phase started (a resumed run) */
    unsigned phase;      /* +1 at each new phase */
} scale_progress;

void scale_progress_init(scale_progress *p);
/* Starts a new phase: done of total already done (0, or a checkpoint's). */
void scale_progress_phase(scale_progress *p, const char *what, uint64_t total, uint64_t done);

uint64_t scale_account_devices(const scale_config *cfg, uint64_t account, imc_status *st);
static inline uint64_t scale_device_id(uint64_t account, uint64_t k)
{
    return (account + 1) * SCALE_DEVICE_ID_STRIDE + k;
}
/* The handle of an account: "+1" and 11 digits (E.164, 13 bytes). */
#define SCALE_HANDLE_LEN 13
void scale_handle(uint8_t out[SCALE_HANDLE_LEN], uint64_t account);
IMC_MUST_USE imc_status scale_device_keys(imc_device_keys *keys, const scale_config *cfg,
                                          uint64_t device_id);

/* Opens the population for cfg in cfg->pop_dir, building it first if no
 * process has (a lock file serialises concurrent builders, e.g. the shards
 * of one array job). Returns 0 or an exit code after a message. */
int scale_pop_open(scale_pop *p, const scale_config *cfg, scale_progress *prog);
void scale_pop_close(scale_pop *p);

/* ---- Workers ---------------------------------------------------------------- */

typedef struct scale_totals {
    uint64_t messages, deliveries;
    uint64_t decrypted; /* deliveries decrypted and checked: must equal deliveries */
    uint64_t envelope_bytes, delivery_bytes, body_bytes;
    uint64_t conversations_1to1, conversations_group;
    uint64_t max_recipients_seen, max_members_seen;
    uint64_t key_cache_hits, key_cache_misses;
    uint64_t lanes[4]; /* the digest: sums mod 2^64 of per-message hashes */
} scale_totals;

typedef struct scale_thread_result {
    scale_hist hist[ST_COUNT];
    scale_totals t;
    uint64_t cpu_ns;  /* CPU time of the worker thread */
    uint64_t loop_ns; /* wall time of its message loop */
} scale_thread_result;

/* into += from: totals, digest lanes, histograms, times. */
void scale_result_add(scale_thread_result *into, const scale_thread_result *from);

/* Shared between the workers. The main thread runs the message phase in
 * rounds so that it can checkpoint between them: it starts a round
 * (generation + 1), and when the checkpoint interval has passed it sets
 * `pause`; each worker finishes the chunk it holds, takes no more and
 * reports idle. Chunks are taken in index order and always finished, so
 * every index below min(next, hi) is done. */
typedef struct scale_run {
    const scale_config *cfg;
    scale_pop *pop;
    _Atomic uint64_t next; /* next message index to hand out */
    _Atomic bool stop;     /* set on the first error */
    _Atomic bool pause;    /* finish the current chunk, then wait */
    pthread_mutex_t round_lock;
    pthread_cond_t round_go, round_idle;
    uint64_t generation; /* under round_lock: +1 per round */
    unsigned idle;       /* under round_lock: workers done with the round */
    bool finished;       /* under round_lock: no more rounds */
    scale_progress progress;
    char error[512]; /* the first error, under error_lock */
    _Atomic int error_set;
} scale_run;

/* The worker thread body: arg is a scale_worker_arg. */
typedef struct scale_worker_arg {
    scale_run *run;
    scale_thread_result *res;
    int rc; /* 0, or SCALE_EXIT_FAIL after recording the error in run */
} scale_worker_arg;
void *scale_worker_main(void *arg);

void scale_run_fail(scale_run *run, const char *fmt, ...) SCALE_PRINTF(2, 3);

/* ---- Checkpoints (checkpoint.c) ---------------------------------------------- */

typedef struct scale_checkpoint {
    uint64_t next; /* every message index in [lo, next) is done */
    double wall_seconds, process_cpu_seconds; /* spent before this process */
    uint64_t resumes;                         /* times this shard was resumed */
    scale_thread_result res;                  /* merged over threads and resumes */
} scale_checkpoint;

/* Loads cfg->checkpoint_path if it exists (else a fresh start at cfg->lo).
 * One that belongs to other options or another build, or is damaged, is an
 * error, never silently ignored. Returns 0 or an exit code after a message. */
int scale_checkpoint_load(scale_checkpoint *ck, const scale_config *cfg);
/* Replaces cfg->checkpoint_path atomically. Returns 0 or an exit code. */
int scale_checkpoint_save(const scale_checkpoint *ck, const scale_config *cfg);

/* ---- Report ----------------------------------------------------------------- */

typedef struct scale_report_in {
    const scale_config *cfg;
    const scale_pop *pop;
    const scale_thread_result *sum; /* merged over threads */
    double wall_seconds;            /* of the message phase */
    double process_cpu_seconds;
    uint64_t peak_rss_bytes, peak_anon_bytes;
    const char *started_utc;
    uint64_t resumes;          /* from checkpoints */
    double load_average[2][3]; /* /proc/loadavg at the start and the end (-1: unknown) */
} scale_report_in;

/* The final digest: SHA-256 over the config id, the lanes and the counts
 * (docs/scale.md, "Digest"). */
IMC_MUST_USE imc_status scale_final_digest(uint8_t out[IMC_SHA256_BYTES], const scale_config *cfg,
                                           const scale_totals *t);
/* Writes the JSON report to out. Returns false on a write error. */
bool scale_report_json(FILE *out, const scale_report_in *in);

/* The display thread: a bar on a terminal, plain lines otherwise. */
typedef struct scale_display scale_display;
scale_display *scale_display_start(const scale_config *cfg, scale_progress *prog);
/* Stops it; returns the highest anonymous RSS it sampled (bytes). */
uint64_t scale_display_stop(scale_display *d);
uint64_t scale_rss_anon_bytes(void);
uint64_t scale_peak_rss_bytes(void);

double scale_now(void); /* monotonic seconds */
static inline uint64_t scale_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

void scale_err(const char *fmt, ...) SCALE_PRINTF(1, 2);

#endif
