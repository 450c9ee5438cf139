/* Shared by every imcore fuzz harness, its three drivers (libFuzzer, AFL++,
 * replay) and the corpus generator.
 *
 * The fixed world: a 32-byte seed from which every key the harnesses use is
 * derived with the deterministic random source, so that the corpus written
 * by fuzz/gen_corpus.c (same seed, same code) carries deliveries that
 * really verify and decrypt under the keys the harnesses hold. Nothing here
 * skips a signature or MAC check: the harnesses reach the success paths
 * because the corpus is genuine, not because checks are off. */
#ifndef IMCORE_FUZZ_COMMON_H
#define IMCORE_FUZZ_COMMON_H

#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION 1
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/crypto.h"
#include "imcore/keys.h"
#include "imcore/msg.h"
#include "imcore/rng.h"
#include "imcore/status.h"
#include "imcore/suite.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The one entry point every harness defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Defined once, in fuzz_common.c, for every harness: builds the fixed world
 * (every key) before the first input, so no input pays for it and the
 * engines' stability is not spoiled by a first-input-only path. libFuzzer
 * and OSS-Fuzz's AFL driver call it; afl_main.c and replay_main.c too. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#if defined(__GNUC__) || defined(__clang__)
#define FUZZ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define FUZZ_NORETURN __attribute__((noreturn))
#else
#define FUZZ_PRINTF(a, b)
#define FUZZ_NORETURN
#endif

/* Prints where and why, then abort()s: every broken invariant is a crash
 * that the engines keep and minimise. */
FUZZ_NORETURN FUZZ_PRINTF(3, 4) void fuzz_fail(const char *file, int line, const char *fmt,
                                               ...);
#define FUZZ_CHECK(cond, ...)                                                                  \
    do {                                                                                       \
        if (!(cond))                                                                           \
            fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                                        \
    } while (0)

/* Hex dump of at most 256 bytes (then "...") to stderr, with a label. */
void fuzz_hexdump(const char *label, const uint8_t *p, size_t n);

/* 1 if the n bytes at p are all zero (what a wiped output must be). */
int fuzz_all_zero(const void *p, size_t n);

/* A per-process path for a harness's LMDB state file under $TMPDIR (or
 * /tmp): "<dir>/imcore-fuzz-<name>-<pid>.mdb"; and the removal of that
 * file and its lock file (path + "-lock"). */
void fuzz_state_path(char *out, size_t cap, const char *name);
void fuzz_state_remove(const char *path);

/* Event counters: harnesses call fuzz_count("decrypt.ok") and the like;
 * the replay driver prints the totals (how the success paths are shown to
 * be reached). Cheap enough to stay on while fuzzing. */
void fuzz_count(const char *event);
void fuzz_counts_print(void);
/* With IMC_FUZZ_COUNTS=1 in the environment the totals are also printed
 * at exit (to measure an engine run, e.g. the share of inputs that get
 * past signature verification). */

/* True if IMC_FUZZ_PLAIN_MUTATOR=1: the custom mutators step aside for
 * the engine's byte mutations (to measure what they add). */
bool fuzz_plain_mutator(void);

/* ---- The fixed world --------------------------------------------------- */

#define FUZZ_SENDER_HANDLE "alice@example.org"
#define FUZZ_SENDER_DEVICE UINT64_C(0x0a11ce0000000001)
#define FUZZ_RECIPIENT_HANDLE "bob@example.org"
#define FUZZ_DEVICE_BASE UINT64_C(0x0b0b000000000001) /* device i: BASE + i */
#define FUZZ_DEVICES 8       /* recipient devices per suite; device 0 is "me" */
#define FUZZ_SENT_MESSAGES 12 /* messages the fixed sender sends per suite */
#define FUZZ_TS_BASE UINT64_C(1700000000000)
/* The receiving device's clock in the harnesses: a day after the fixed
 * sender's messages, within the time rule (docs/replay.md). */
#define FUZZ_NOW (FUZZ_TS_BASE + UINT64_C(86400000))

#define FUZZ_MAX_BACKENDS 16

typedef struct fuzz_world {
    /* Every backend of the registry that initialises, in registry order. */
    size_t n_backends;
    const imc_backend *backends[FUZZ_MAX_BACKENDS];
    /* Indexed by suite id 1..IMC_SUITE_COUNT (0 unused). */
    bool have_suite[IMC_SUITE_COUNT + 1];
    imc_device_keys sender[IMC_SUITE_COUNT + 1];
    imc_device_keys device[IMC_SUITE_COUNT + 1][FUZZ_DEVICES];
} fuzz_world;

/* Built once on first call (keys from the fixed seed); never NULL. */
const fuzz_world *fuzz_world_get(void);

/* The backend the harnesses use for a suite: the first in registry order
 * that supports it on this CPU; NULL if none does. */
const imc_backend *fuzz_backend_for(uint32_t suite);

/* Among the backends supporting the suite other than not_this (may be
 * NULL), the (sel mod count)-th; NULL if there is none. */
const imc_backend *fuzz_backend_pick(uint32_t suite, unsigned sel, const imc_backend *not_this);

/* A deterministic generator on the fixed seed and the given stream. */
void fuzz_rng(imc_rng *rng, uint64_t stream);

/* Message k (0 <= k < FUZZ_SENT_MESSAGES) of the fixed sender in a suite:
 * its body, recipients and timestamp, all derived from (suite, k). */
typedef struct fuzz_sent {
    uint8_t body[2048];
    size_t body_len;
    size_t recipient_count; /* devices 0 .. recipient_count-1 of the suite */
    uint64_t timestamp_ms;
    uint64_t rng_stream;
} fuzz_sent;
void fuzz_sent_plan(fuzz_sent *m, uint32_t suite, unsigned k);

/* Encrypts message k into out (the envelope) on backend b. */
IMC_MUST_USE imc_status fuzz_sent_encrypt(uint8_t *out, size_t out_cap, size_t *out_len,
                                          const imc_backend *b, uint32_t suite, unsigned k);

/* The peer record for the fixed sender of a suite. */
imc_msg_peer fuzz_sender_peer(uint32_t suite);

/* A fresh memory-only replay state with small tables (4 senders, window
 * of 4) and a key from the fixed seed; aborts on failure. */
imc_replay *fuzz_replay_open(void);

/* ---- The fixed key directory ------------------------------------------- */

#define FUZZ_DIR_KEY_STREAM UINT64_C(0xd1d1d1d1)
#define FUZZ_DIR_HANDLES 3 /* handles of the directory universe */
#define FUZZ_DIR_SLOTS 5   /* device slots per handle */
#define FUZZ_DIR_GENS 3    /* key generations per slot (rotations) */

/* The directory's Ed25519 key pair, from the fixed seed. */
void fuzz_dir_key(uint8_t pk[32], uint8_t sk[32]);

/* Handle h of the universe (normal form), and its length. */
const uint8_t *fuzz_dir_handle(unsigned h, size_t *len);

/* The keys of slot s of handle h at generation g (suite 1; device id
 * depends on h and s only, so rotations keep it). */
const imc_device_keys *fuzz_dir_device(unsigned h, unsigned s, unsigned g);

/* The account key of handle h at generation g (an account rotation or
 * reset moves to the next generation). */
void fuzz_dir_account(unsigned h, unsigned g, uint8_t pk[32], uint8_t sk[32]);

/* ---- A small deterministic generator for the mutators ------------------ */

/* xorshift64: the mutators' choices, reproducible from libFuzzer's seed. */
typedef struct fuzz_prng {
    uint64_t s;
} fuzz_prng;

static inline uint32_t fuzz_prng_next(fuzz_prng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 11);
}

/* ---- Reading structured choices from fuzzer bytes ---------------------- */

typedef struct fuzz_input {
    const uint8_t *p;
    size_t n;
} fuzz_input;

uint8_t fuzz_u8(fuzz_input *in);
uint16_t fuzz_u16(fuzz_input *in);
uint32_t fuzz_u32(fuzz_input *in);
uint64_t fuzz_u64(fuzz_input *in);
/* Up to n bytes (fewer at the end of the input); *got receives how many. */
const uint8_t *fuzz_bytes(fuzz_input *in, size_t n, size_t *got);
/* Copies exactly n bytes into out, zero-padding past the end of input. */
void fuzz_copy(fuzz_input *in, uint8_t *out, size_t n);

/* ---- Faults (fuzz_fault.c) ------------------------------------------------ */

/* The nth call into LMDB from now (counting env_open, txn_begin,
 * txn_commit, dbi_open, get, put, del, cursor_open, cursor_get) fails
 * with rc, once. */
void fuzz_mdb_fail(unsigned nth, int rc);
/* Whether the armed failure happened; disarms it. */
bool fuzz_mdb_fired(void);
/* The nth allocation from now (malloc, calloc, realloc) returns NULL,
 * once. */
void fuzz_alloc_fail(unsigned nth);
bool fuzz_alloc_fired(void);

#ifdef __cplusplus
}
#endif
#endif
