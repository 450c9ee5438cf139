/* Private to libimcore: the replay state's file (replay_lmdb.c), as the
 * logic (replay.c) uses it. The file is a small key-value store: one meta
 * value (format, the secret key, the global floor) and one record per
 * sender, keyed by the sender's tag; replay.c encodes and parses records,
 * replay_lmdb.c stores them and commits. */
#ifndef IMCORE_REPLAY_IMPL_H
#define IMCORE_REPLAY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/replay.h"
#include "util/siphash.h"

#define IMC_REPLAY_TAG_BYTES 16 /* a sender's keyed tag: two SipHash outputs */

typedef struct imc_replay_db imc_replay_db;

/* Opens dir/IMC_REPLAY_FILE after checking that it is a complete LMDB file,
 * or creates it (atomically: written under a temporary name, then renamed)
 * with a fresh key from rng/b. Returns the key and the global floor.
 * Statuses as imc_replay_open. */
IMC_MUST_USE imc_status imc_replay_db_open(imc_replay_db **db, uint8_t key[IMC_SIPHASH_KEY_BYTES],
                                           uint64_t *global_floor, const char *dir,
                                           const imc_backend *b, imc_rng *rng);

/* Calls fn for every stored sender record, in tag order; stops at the
 * first status other than IMC_OK and returns it. */
typedef imc_status (*imc_replay_db_fn)(void *ctx, const uint8_t tag[IMC_REPLAY_TAG_BYTES],
                                       const uint8_t *rec, size_t rec_len);
IMC_MUST_USE imc_status imc_replay_db_scan(imc_replay_db *db, imc_replay_db_fn fn, void *ctx);

/* One transaction: store rec under tag; if drop is not NULL, delete that
 * sender's record and store the new global floor. IMC_OK only once it is
 * durably committed; on any failure nothing changed. */
IMC_MUST_USE imc_status imc_replay_db_commit(imc_replay_db *db,
                                             const uint8_t tag[IMC_REPLAY_TAG_BYTES],
                                             const uint8_t *rec, size_t rec_len,
                                             const uint8_t *drop, uint64_t global_floor);

void imc_replay_db_close(imc_replay_db *db);

#endif
