/* imcore: replay protection for one receiving device (docs/replay.md).
 *
 * One state per device, keyed per SENDER DEVICE (handle, device id): each
 * sender has its own window of remembered message ids and its own floor,
 * so nothing one sender does can make another sender's message a replay.
 * Message timestamps must lie within [now - max_age, now + max_skew].
 * The state lives in memory, or in memory and in the LMDB file
 * DIR/replay.mdb, written and committed before an accept returns IMC_OK.
 *
 *   imc_replay_open     load or create the state
 *   imc_replay_check    would this message be accepted now? (no change)
 *   imc_replay_accept   check, record and persist
 *
 * Memory is allocated once by open (max_senders windows of `window`
 * entries); check and accept do not allocate. A state is not shared
 * between threads without a lock, and one file is opened by one state at
 * a time (open refuses a file another open state holds). */
#ifndef IMCORE_REPLAY_H
#define IMCORE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/limits.h"
#include "imcore/rng.h"
#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMC_REPLAY_FILE "replay.mdb" /* the state's file inside its directory */

typedef struct imc_replay imc_replay; /* opaque */

/* Zero fields take the defaults of imcore/limits.h. */
typedef struct imc_replay_config {
    uint64_t max_age_ms;  /* 0: IMC_MAX_MESSAGE_AGE_MS */
    uint64_t max_skew_ms; /* 0: IMC_MAX_CLOCK_SKEW_MS */
    uint32_t max_senders; /* 0: IMC_REPLAY_MAX_SENDERS */
    uint32_t window;      /* ids remembered per sender; 0: IMC_REPLAY_WINDOW */
} imc_replay_config;

/* An authenticated message, as decrypt saw it. */
typedef struct imc_replay_msg {
    const uint8_t *sender_handle;
    size_t sender_handle_len; /* 1..IMC_MAX_HANDLE_BYTES */
    uint64_t sender_device;
    const uint8_t *message_id; /* IMC_MSG_ID_BYTES (imcore/msg.h) */
    uint64_t timestamp_ms;
} imc_replay_msg;

/* Upper bounds of a config's window and max_senders. */
#define IMC_REPLAY_WINDOW_CAP 65536u
#define IMC_REPLAY_SENDERS_CAP (1u << 22)

/* The time rule alone, which decrypt applies with or without a state
 * (cfg NULL: the defaults): IMC_ERR_STALE if ts is more than max_skew
 * ahead of now, IMC_ERR_EXPIRED if it is more than max_age behind now,
 * else IMC_OK. */
IMC_MUST_USE imc_status imc_replay_time_check(uint64_t ts_ms, uint64_t now_ms,
                                              const imc_replay_config *cfg);

/* Opens a state. dir NULL: memory only. Otherwise the file
 * dir/IMC_REPLAY_FILE (dir must exist), created if missing with a fresh
 * secret key drawn from rng (NULL: b's CSPRNG), loaded if present.
 * IMC_ERR_ARG: bad arguments or config (window or max_senders over
 * its _CAP); IMC_ERR_MALFORMED: the file is not a replay state
 * (empty, truncated, another program's file, a record that does not
 * parse); IMC_ERR_LIMIT: the file holds more senders than max_senders;
 * IMC_ERR_IO: the file cannot be read, created or locked (e.g. another
 * open state holds it); IMC_ERR_NOMEM. On failure *out is NULL. */
IMC_MUST_USE imc_status imc_replay_open(imc_replay **out, const char *dir,
                                        const imc_replay_config *cfg, const imc_backend *b,
                                        imc_rng *rng);

/* Wipes the key and frees the state; NULL is a no-op. */
void imc_replay_close(imc_replay *r);

/* What accept would return now, without changing anything (except that
 * IMC_ERR_IO cannot be predicted): IMC_ERR_STALE, IMC_ERR_EXPIRED (the time
 * rule), IMC_ERR_REPLAY (this sender's message id was accepted before, or
 * the timestamp is at or below this sender's floor, docs/replay.md),
 * IMC_ERR_LIMIT (a new sender while the sender table is full and no sender
 * can be reclaimed), IMC_ERR_ARG. */
IMC_MUST_USE imc_status imc_replay_check(const imc_replay *r, const imc_replay_msg *m,
                                         uint64_t now_ms);

/* check, then record the message; with a file, committed to disk before
 * IMC_OK is returned. IMC_ERR_IO if the commit failed: then nothing is
 * recorded, in memory or on disk. */
IMC_MUST_USE imc_status imc_replay_accept(imc_replay *r, const imc_replay_msg *m,
                                          uint64_t now_ms);

/* Bytes allocated by open for this state (the sender table, its windows
 * and its index), for sizing (docs/replay.md). */
size_t imc_replay_memory(const imc_replay *r);

#ifdef __cplusplus
}
#endif
#endif
