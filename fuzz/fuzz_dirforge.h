/* Structure-aware mutation of key-directory messages that keeps them
 * signed (docs/directory-format.md): lookup responses and updates are
 * decoded with the library's parsers, a field is changed (epochs, global
 * epoch, issue time, list versions, devices and their ids and keys,
 * account keys and key changes, previous-list hashes, handles, entries,
 * ops, revoked ids), and the message is written again by the writer here
 * (its own code, from the document) and RE-SIGNED: entries with the fixed
 * directory key, device lists with the fixed account key they name (one
 * of fuzz_dir_account's), rotation signatures with the previous
 * generation's account key, device proofs with the fixed devices' keys
 * (fuzz_dir_device). One in 16 mutations leaves a signature stale or made
 * by a wrong key, one in 16 is a plain byte mutation; an input that does
 * not parse is replaced by a genuine one three times in four. */
#ifndef IMCORE_FUZZ_DIRFORGE_H
#define IMCORE_FUZZ_DIRFORGE_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz_forge.h"
#include "imcore/dir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A lookup response in data[0..size) (capacity max_size). Deterministic in
 * seed. Returns the new size. */
size_t fuzz_mutate_dir_response(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                                fuzz_bytes_mutator bytes, void *bytes_ctx);

/* A directory update, the same way. */
size_t fuzz_mutate_dir_update(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                              fuzz_bytes_mutator bytes, void *bytes_ctx);

/* Judging: update u was applied to a handle whose record was `before` and
 * is now `after`. Checks by the document, with the code here, that it
 * was the service's to apply: epochs one on, the stored list is the
 * update's, chained by hash to the one it replaces, signed by the account
 * key it names, that key the held one unless the op changes it (an
 * account rotation also signed by the held key), exactly the op's change
 * to the devices, and the device proofs (Ed25519 devices). Aborts with
 * the rule broken. */
void fuzz_dir_judge_update(const uint8_t dir_pk[32], const imc_dir_record *before,
                           const imc_dir_record *after, const imc_dir_update_msg *u);

#ifdef __cplusplus
}
#endif
#endif
