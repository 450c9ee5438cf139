/* imcore: key transparency inside the key directory.
 *
 * Every applied update appends one leaf to the directory's transparency log
 * (imcore/kt.h) and sets the handle's index value to that leaf's hash, in the
 * update's own write transaction. Clients ask for lookups with proofs and
 * for audits of a handle's history, both answered against one signed
 * checkpoint, with a consistency proof from the checkpoint size the client
 * already holds.
 *
 *   imc_dir_kt_leaf_*          the directory's log leaf
 *   imc_dir_kt_encode_*        client side: requests
 *   imc_dir_kt_parse_*         strict parsers of requests and responses
 *   imc_dir_kt_answer_verify   one handle's lookup answer against a checkpoint
 *   imc_dir_kt_audit_verify    a handle's history against a checkpoint
 *
 * Byte layouts: docs/directory-format.md ("Transparency"); the model:
 * docs/transparency.md ("The directory's log"). Parsers check structure
 * only; the verify functions check hashes, proofs and signatures. */
#ifndef IMCORE_DIRKT_H
#define IMCORE_DIRKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/dir.h"
#include "imcore/kt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Message kinds (after the version byte IMC_DIR_VERSION). */
#define IMC_DIR_KIND_KT_LEAF 0x6b          /* 'k' a log leaf */
#define IMC_DIR_KIND_KT_HEAD 0x43          /* 'C' checkpoint request */
#define IMC_DIR_KIND_KT_HEAD_RESP 0x63     /* 'c' checkpoint response */
#define IMC_DIR_KIND_KT_LOOKUP 0x50        /* 'P' lookup with proofs */
#define IMC_DIR_KIND_KT_LOOKUP_RESP 0x70   /* 'p' its response */
#define IMC_DIR_KIND_KT_AUDIT 0x54         /* 'T' audit of one handle */
#define IMC_DIR_KIND_KT_AUDIT_RESP 0x74    /* 't' its response */

#define IMC_DIR_KT_MAX_AUDIT 256 /* leaves per audit response */

#define IMC_DIR_KT_LEAF_MAX_BYTES                                                                  \
    (2 + 1 + IMC_MAX_HANDLE_BYTES + 8 + IMC_DIR_ACCOUNT_PUBLIC_BYTES + 2 * IMC_KT_HASH_BYTES +    \
     IMC_KT_HASH_BYTES)
/* Response head: version, kind, framed note, framed consistency proof. */
#define IMC_DIR_KT_HEAD_MAX_BYTES (2 + 2 + IMC_KT_MAX_NOTE_BYTES + 2 + IMC_KT_LOG_PROOF_MAX_BYTES)
#define IMC_DIR_KT_ANSWER_MAX_BYTES                                                                \
    (IMC_DIR_ENTRY_MAX_BYTES + 2 + IMC_DIR_KT_LEAF_MAX_BYTES + 2 + IMC_KT_LOG_PROOF_MAX_BYTES + 2 + \
     IMC_KT_INDEX_PROOF_MAX_BYTES)
#define IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(n)                                                    \
    (IMC_DIR_KT_HEAD_MAX_BYTES + 2 + (size_t)(n)*IMC_DIR_KT_ANSWER_MAX_BYTES)
#define IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES                                                        \
    (IMC_DIR_KT_HEAD_MAX_BYTES + 1 + IMC_MAX_HANDLE_BYTES + 8 + 8 + 2 +                            \
     (size_t)IMC_DIR_KT_MAX_AUDIT * (2 + IMC_DIR_KT_LEAF_MAX_BYTES + 2 +                           \
                                     IMC_KT_LOG_PROOF_MAX_BYTES) +                                 \
     IMC_KT_HASH_BYTES + 2 + IMC_KT_INDEX_PROOF_MAX_BYTES)
#define IMC_DIR_KT_REQUEST_MAX_BYTES (IMC_DIR_REQUEST_MAX_BYTES(IMC_DIR_MAX_BATCH) + 8)

/* ---- The log leaf -------------------------------------------------------- */

/* One applied update: the handle, its new version (the list version), the
 * account key and SHA-256 of the signed device list at that version, and
 * the RFC 9162 leaf hash H(0x00 || leaf) of the handle's previous leaf
 * (zero at version 1), which chains a handle's leaves. */
typedef struct imc_dir_kt_leaf {
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    size_t handle_len;
    uint64_t version;
    uint8_t account_pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
    uint8_t list_hash[IMC_KT_HASH_BYTES];
    uint8_t prev_leaf[IMC_KT_HASH_BYTES];
} imc_dir_kt_leaf;

IMC_MUST_USE imc_status imc_dir_kt_leaf_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_dir_kt_leaf *leaf);
/* Strict: version 0x02, kind 'k', a handle in normal form, version >= 1,
 * prev_leaf zero exactly at version 1, no short or trailing bytes. */
IMC_MUST_USE imc_status imc_dir_kt_leaf_parse(imc_dir_kt_leaf *leaf, const uint8_t *in,
                                              size_t in_len);

/* ---- Requests (client -> directory) --------------------------------------- */

/* known_size: the tree size of the checkpoint the client holds (0: none);
 * the response carries a consistency proof from it. */
IMC_MUST_USE imc_status imc_dir_kt_encode_head(uint8_t *out, size_t out_cap, size_t *out_len,
                                               uint64_t known_size);
/* 1..IMC_DIR_MAX_BATCH distinct handles in normal form. */
IMC_MUST_USE imc_status imc_dir_kt_encode_lookup(uint8_t *out, size_t out_cap, size_t *out_len,
                                                 uint64_t known_size,
                                                 const imc_dir_handle *handles, size_t count);
/* Every leaf of handle from version since (>= 1) on. */
IMC_MUST_USE imc_status imc_dir_kt_encode_audit(uint8_t *out, size_t out_cap, size_t *out_len,
                                                uint64_t known_size, const uint8_t *handle,
                                                size_t handle_len, uint64_t since);

typedef struct imc_dir_kt_request {
    uint8_t kind; /* IMC_DIR_KIND_KT_HEAD, _LOOKUP or _AUDIT */
    uint64_t known_size;
    size_t count; /* lookup: 1..IMC_DIR_MAX_BATCH; audit: 1; head: 0 */
    imc_dir_handle handles[IMC_DIR_MAX_BATCH]; /* views into the input */
    uint64_t since; /* audit */
} imc_dir_kt_request;

/* Strict: known size below 2^63, handles as in a lookup request, since >= 1. */
IMC_MUST_USE imc_status imc_dir_kt_parse_request(imc_dir_kt_request *req, const uint8_t *in,
                                                 size_t in_len);

/* ---- Responses (directory -> client) -------------------------------------- */

/* What every response starts with: the directory's signed checkpoint note
 * and the consistency proof from the requested size to its size. The
 * parser checks that the note parses as a signed note whose text is a
 * checkpoint and that the proof is a consistency proof ending at the
 * checkpoint's size; it checks NO signature: pass note and proof to
 * imc_kt_client_update, then verify answers against the checkpoint it
 * accepted. */
typedef struct imc_dir_kt_head {
    const uint8_t *note; /* views into the input */
    size_t note_len;
    const uint8_t *proof;
    size_t proof_len;
    imc_kt_checkpoint cp; /* the note's text, parsed */
    uint64_t from_size;   /* the proof's first size: the request's known size */
} imc_dir_kt_head;

IMC_MUST_USE imc_status imc_dir_kt_parse_head(imc_dir_kt_head *head, const uint8_t *in,
                                              size_t in_len);

/* One handle's answer in a lookup response (views into the input). */
typedef struct imc_dir_kt_answer {
    imc_dir_entry entry;       /* the signed entry, as in a lookup response */
    const uint8_t *leaf;       /* the handle's latest leaf; NULL at epoch 0 */
    size_t leaf_len;
    const uint8_t *inclusion;  /* its inclusion proof; NULL at epoch 0 */
    size_t inclusion_len;
    const uint8_t *index_proof; /* present, or absent at epoch 0 */
    size_t index_proof_len;
} imc_dir_kt_answer;

typedef struct imc_dir_kt_lookup_response {
    imc_dir_kt_head head;
    size_t count;
    uint64_t global_epoch, issued_ms; /* shared by every entry */
    const uint8_t *answers;           /* count answers, back to back */
    size_t answers_len;
} imc_dir_kt_lookup_response;

/* Strict: the head; 1..IMC_DIR_MAX_BATCH answers for distinct handles with
 * one global epoch and issue time; each entry as in a lookup response; a
 * leaf and an inclusion proof exactly when the entry's epoch is nonzero,
 * each parsing (imc_dir_kt_leaf_parse, an inclusion imc_kt_log_proof); an
 * index proof that parses; no trailing bytes. */
IMC_MUST_USE imc_status imc_dir_kt_parse_lookup(imc_dir_kt_lookup_response *resp,
                                                const uint8_t *in, size_t in_len);
/* The answer at *offset (start at 0, count answers in all); advances it. */
IMC_MUST_USE imc_status imc_dir_kt_lookup_next(imc_dir_kt_answer *a, size_t *offset,
                                               const imc_dir_kt_lookup_response *resp);

/* Verifies one answer against a checkpoint the caller has accepted
 * (imc_kt_client_update) and the directory key it pins:
 *   - the directory's signature on the entry, and the entry's global epoch
 *     is the checkpoint's epoch;
 *   - epoch 0: the index proof shows SHA-256(handle) absent under
 *     cp->index_root;
 *   - otherwise the leaf names the entry's handle and epoch, the list's
 *     account key and SHA-256 of the list; the index proof shows
 *     SHA-256(handle) -> H(0x00 || leaf) under cp->index_root; the inclusion
 *     proof puts that leaf hash in the log of cp->size leaves under cp->root.
 * It does not check the account's signature on the list (imc_dir_list_verify
 * does). IMC_OK; IMC_ERR_AUTH on any mismatch; IMC_ERR_MALFORMED if a part
 * does not parse. leaf and leaf_index (each may be NULL) receive the parsed
 * leaf and its position in the log (zeroed at epoch 0). */
IMC_MUST_USE imc_status imc_dir_kt_answer_verify(imc_dir_kt_leaf *leaf, uint64_t *leaf_index,
                                                 const imc_backend *b,
                                                 const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                                 const imc_kt_checkpoint *cp,
                                                 const imc_dir_kt_answer *a);

/* An audit response: the handle's leaves from version since to
 * since + count - 1, each with its inclusion proof, the handle's latest
 * version, and the index value (its latest leaf hash) with its proof. */
typedef struct imc_dir_kt_audit_response {
    imc_dir_kt_head head;
    imc_dir_handle handle;
    uint64_t since;
    uint64_t latest; /* 0: the handle was never registered */
    size_t count;    /* min(latest - since + 1, IMC_DIR_KT_MAX_AUDIT), 0 if since > latest */
    const uint8_t *items; /* count × (framed leaf || framed inclusion proof) */
    size_t items_len;
    uint8_t index_value[IMC_KT_HASH_BYTES]; /* zero when latest is 0 */
    const uint8_t *index_proof;
    size_t index_proof_len;
} imc_dir_kt_audit_response;

/* Strict: the head; the handle; since >= 1; latest below 2^63; count as
 * above; every leaf and inclusion proof parsing; a zero index value when
 * latest is 0; an index proof that parses; no trailing bytes. */
IMC_MUST_USE imc_status imc_dir_kt_parse_audit(imc_dir_kt_audit_response *resp,
                                               const uint8_t *in, size_t in_len);

/* Called by imc_dir_kt_audit_verify for each verified leaf, in version
 * order; a nonzero return stops the verification with IMC_ERR_AUTH. */
typedef int (*imc_dir_kt_leaf_fn)(void *ctx, const imc_dir_kt_leaf *leaf, uint64_t leaf_index,
                                  const uint8_t leaf_hash[IMC_KT_HASH_BYTES]);

/* Verifies an audit response against an accepted checkpoint: every leaf is
 * of the response's handle with versions since, since + 1, ... in order;
 * each leaf's prev_leaf is the hash of the one before it (the first one's:
 * zero at version 1, else prev_hash when the caller gives it, the hash of
 * the leaf of version since - 1 it verified before); each is included in
 * the log of cp->size leaves under cp->root at increasing positions; the
 * index proof shows SHA-256(handle) -> index_value under cp->index_root
 * (absent when latest is 0); when the answer reaches latest, the last
 * leaf's hash is the index value, and when it is empty (since > latest),
 * since = latest + 1 and prev_hash is the index value. So no version can
 * be left out, reordered or taken from another handle. An empty answer for
 * a registered handle cannot be checked without prev_hash: IMC_ERR_ARG
 * (audit from the version you hold, inclusive, or pass its hash).
 * IMC_OK, IMC_ERR_AUTH or IMC_ERR_MALFORMED; *complete (may be NULL) says
 * whether the answer reached the latest version (else ask again from
 * since + count; a partial answer does not prove latest). */
IMC_MUST_USE imc_status imc_dir_kt_audit_verify(bool *complete, const imc_backend *b,
                                                const imc_kt_checkpoint *cp,
                                                const imc_dir_kt_audit_response *resp,
                                                const uint8_t *prev_hash, imc_dir_kt_leaf_fn fn,
                                                void *ctx);

/* ---- The directory's side ------------------------------------------------ */

/* Answers a checkpoint, lookup-with-proofs or audit request (also reached
 * through imc_dir_serve), from one read transaction. IMC_ERR_MALFORMED /
 * IMC_ERR_LIMIT: the request does not parse; IMC_ERR_STALE: its known size
 * is larger than the log; IMC_ERR_NO_SPACE; IMC_ERR_IO: the store. */
IMC_MUST_USE imc_status imc_dir_kt_serve(uint8_t *out, size_t out_cap, size_t *out_len,
                                         imc_dir *d, uint64_t now_ms, const uint8_t *in,
                                         size_t in_len);

/* The current signed checkpoint note (text, the directory's signature, any
 * witness cosignatures added since), at most IMC_KT_MAX_NOTE_BYTES. */
IMC_MUST_USE imc_status imc_dir_kt_checkpoint(uint8_t *out, size_t out_cap, size_t *out_len,
                                              imc_dir *d);

/* The directory's verifier key as a vkey (name = the log's origin), what
 * clients and witnesses configure as the log key. */
IMC_MUST_USE imc_status imc_dir_kt_vkey(char out[IMC_KT_VKEY_MAX], const imc_dir *d);

/* Adds a witness's cosignature line (imc_kt_witness_cosign) over checkpoint
 * text `text` to the stored note, after checking it verifies with witness
 * (a cosignature key). IMC_ERR_STALE: text is not the current checkpoint
 * (an update came in between: the witness cosigns the new one);
 * IMC_ERR_EXISTS: this witness's line is there already; IMC_ERR_AUTH: it
 * does not verify; IMC_ERR_MALFORMED: not a signature line;
 * IMC_ERR_LIMIT: the note would exceed IMC_KT_MAX_NOTE_BYTES. */
IMC_MUST_USE imc_status imc_dir_kt_add_cosignature(imc_dir *d, const imc_kt_key *witness,
                                                   const uint8_t *text, size_t text_len,
                                                   const uint8_t *line, size_t line_len);

#ifdef __cplusplus
}
#endif
#endif
