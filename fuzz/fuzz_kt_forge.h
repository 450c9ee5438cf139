/* Structure-aware mutation of transparency answers that keeps them signed
 * (docs/directory-format.md, "Transparency"): an audit answer is decoded
 * with the library's parsers, a part is changed (items dropped, swapped or
 * repeated; since, latest; a leaf's version, previous-leaf hash, handle,
 * account key or list hash; the checkpoint's size, epoch, roots; the index
 * value; an inclusion proof's index or path), and the answer is written
 * again by the writer here with its checkpoint RE-SIGNED by the fixed
 * directory key (the log key). When a leaf changes, the checkpoint's root
 * becomes the root that leaf's inclusion proof gives it (RFC 9162
 * 2.1.3.2), so the mutant passes the signature and inclusion checks and
 * reaches the history rules after them. One in 16 mutants keeps the stale
 * signature, one in 16 is a plain byte mutation; an input that does not
 * parse is replaced by the last one that did three times in four. */
#ifndef IMCORE_FUZZ_KT_FORGE_H
#define IMCORE_FUZZ_KT_FORGE_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz_forge.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An audit answer in data[0..size) (capacity max_size). Deterministic in
 * seed. Returns the new size. */
size_t fuzz_mutate_kt_audit(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                            fuzz_bytes_mutator bytes, void *bytes_ctx);

#ifdef __cplusplus
}
#endif
#endif
