/* imcore: key transparency. An append-only log of directory changes
 * (RFC 9162 Merkle tree), a verifiable index from handles to their latest
 * log leaf (a Merkle prefix tree), checkpoints as C2SP signed notes,
 * witnesses that cosign them, and clients that accept a new checkpoint only
 * when it is consistent with the last one and cosigned by enough witnesses,
 * keeping two conflicting signed checkpoints as exportable evidence.
 *
 *   imc_kt_log_*        the log: append, roots, inclusion/consistency proofs
 *   imc_kt_index_*      the index: put, root, (non-)inclusion proofs
 *   imc_kt_checkpoint_* tree heads as tlog-checkpoint note text
 *   imc_kt_note_*       signed notes: parse, sign, key ids, vkeys
 *   imc_kt_witness_*    a witness with its own key and state
 *   imc_kt_client_*     the verifying client
 *   imc_kt_evidence_*   proof of misbehaviour that anyone can check
 *
 * Byte layouts, algorithms and the threat model: docs/transparency.md.
 * Every parser reads through the strict imcore/wire.h cursor. */
#ifndef IMCORE_KT_H
#define IMCORE_KT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/crypto.h"
#include "imcore/limits.h"
#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMC_KT_HASH_BYTES IMC_SHA256_BYTES
#define IMC_KT_MAX_LOG_PROOF 64      /* hashes in an inclusion or consistency proof */
#define IMC_KT_MAX_INDEX_DEPTH 256   /* siblings in an index proof */
#define IMC_KT_MAX_LEAF_BYTES 1024   /* one log leaf's data */
#define IMC_KT_MAX_NAME 128          /* key names and the origin, bytes */
#define IMC_KT_MAX_NOTE_BYTES 4096   /* a whole signed note */
#define IMC_KT_MAX_NOTE_SIGS 32      /* signature lines in a note */
#define IMC_KT_MAX_SIG_BLOB 128      /* decoded bytes of one signature line */
#define IMC_KT_MAX_WITNESSES 16
#define IMC_KT_MAX_SIZE (UINT64_C(1) << 63) /* tree sizes are below this */

/* Signature types of C2SP signed-note. */
#define IMC_KT_SIG_ED25519 0x01
#define IMC_KT_SIG_COSIGNATURE 0x04

/* Encoded sizes. */
#define IMC_KT_LOG_PROOF_MAX_BYTES (1 + 8 + 8 + 1 + IMC_KT_MAX_LOG_PROOF * IMC_KT_HASH_BYTES)
#define IMC_KT_INDEX_PROOF_MAX_BYTES                                                               \
    (1 + 1 + 2 + IMC_KT_MAX_INDEX_DEPTH * IMC_KT_HASH_BYTES + 2 * IMC_KT_HASH_BYTES)
#define IMC_KT_COSIG_LINE_MAX (4 + IMC_KT_MAX_NAME + 1 + 104 + 1)
#define IMC_KT_EVIDENCE_MAX_BYTES                                                                  \
    (1 + 1 + 1 + IMC_KT_MAX_NAME + IMC_ED25519_PUBLIC_BYTES + 2 * (2 + IMC_KT_MAX_NOTE_BYTES) +  \
     IMC_KT_HASH_BYTES + 1 + IMC_KT_MAX_LOG_PROOF * IMC_KT_HASH_BYTES)

/* ---- Tree hashing and proof verification (RFC 9162, section 2.1) ------- */

/* H(0x00 || data) and H(0x01 || left || right) with SHA-256. */
IMC_MUST_USE imc_status imc_kt_leaf_hash(const imc_backend *b, uint8_t out[IMC_KT_HASH_BYTES],
                                         const uint8_t *data, size_t len);
IMC_MUST_USE imc_status imc_kt_node_hash(const imc_backend *b, uint8_t out[IMC_KT_HASH_BYTES],
                                         const uint8_t left[IMC_KT_HASH_BYTES],
                                         const uint8_t right[IMC_KT_HASH_BYTES]);

/* The exact number of hashes in the inclusion proof of leaf `index` in a
 * tree of `size` leaves (index < size), and in the consistency proof from
 * size m to size n (m <= n; 0 when m is 0 or m == n). */
size_t imc_kt_inclusion_len(uint64_t index, uint64_t size);
size_t imc_kt_consistency_len(uint64_t m, uint64_t n);

/* A log proof: inclusion (a = leaf index, b = tree size) or consistency
 * (a = first size, b = second size); path in RFC 9162 order. */
typedef enum imc_kt_proof_kind {
    IMC_KT_PROOF_INCLUSION = 1,
    IMC_KT_PROOF_CONSISTENCY = 2,
} imc_kt_proof_kind;

typedef struct imc_kt_log_proof {
    imc_kt_proof_kind kind;
    uint64_t a, b;
    size_t count;
    uint8_t path[IMC_KT_MAX_LOG_PROOF][IMC_KT_HASH_BYTES];
} imc_kt_log_proof;

/* RFC 9162 2.1.3.2: IMC_OK if the proof (kind inclusion) puts leaf_hash at
 * index p->a of the tree of size p->b with this root, else IMC_ERR_AUTH. */
IMC_MUST_USE imc_status imc_kt_inclusion_verify(const imc_backend *b,
                                                const uint8_t leaf_hash[IMC_KT_HASH_BYTES],
                                                const uint8_t root[IMC_KT_HASH_BYTES],
                                                const imc_kt_log_proof *p);
/* RFC 9162 2.1.4.2 for 0 < a < b; a == b needs an empty path and equal
 * roots; a == 0 an empty path. IMC_OK or IMC_ERR_AUTH. */
IMC_MUST_USE imc_status imc_kt_consistency_verify(const imc_backend *b,
                                                  const uint8_t first_root[IMC_KT_HASH_BYTES],
                                                  const uint8_t second_root[IMC_KT_HASH_BYTES],
                                                  const imc_kt_log_proof *p);

/* Wire form: kind (1) || a (8) || b (8) || count (1) || count hashes. The
 * parser refuses a count other than the exact length for (kind, a, b),
 * index >= size, a > b, sizes >= 2^63, and short or trailing bytes. */
IMC_MUST_USE imc_status imc_kt_log_proof_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                                const imc_kt_log_proof *p);
IMC_MUST_USE imc_status imc_kt_log_proof_parse(imc_kt_log_proof *p, const uint8_t *in,
                                               size_t in_len);

/* ---- Storage ------------------------------------------------------------ */

typedef enum imc_kt_table {
    IMC_KT_TABLE_META = 0,   /* "size" -> u64 */
    IMC_KT_TABLE_NODES = 1,  /* level (1) || index (8) -> complete subtree hash */
    IMC_KT_TABLE_LEAVES = 2, /* index (8) -> leaf data */
    IMC_KT_TABLE_INDEX = 3,  /* depth (2) || key prefix (32) -> index node */
} imc_kt_table;
#define IMC_KT_TABLE_COUNT 4

/* Where the log and the index live: get and put on the caller's store, in
 * the caller's transaction (ctx). The directory passes an adapter over its
 * own open write transaction, so a log append, an index update and its own
 * change commit or vanish together. Values from get stay valid until the
 * next put. get returns IMC_ERR_NOT_FOUND for an absent key. Functions
 * below check their arguments before the first put; a failing put (no
 * memory, I/O) can leave earlier puts of the same call behind, which the
 * caller's transaction abort removes. */
typedef struct imc_kt_store {
    imc_status (*get)(void *ctx, imc_kt_table t, const uint8_t *key, size_t key_len,
                      const uint8_t **val, size_t *val_len);
    imc_status (*put)(void *ctx, imc_kt_table t, const uint8_t *key, size_t key_len,
                      const uint8_t *val, size_t val_len);
    void *ctx;
} imc_kt_store;

/* An in-memory store (tests, benchmarks): open addressing keyed with
 * SipHash (key from b's CSPRNG), no transactions. */
typedef struct imc_kt_mem imc_kt_mem;
IMC_MUST_USE imc_status imc_kt_mem_open(imc_kt_mem **m, const imc_backend *b,
                                        size_t expected_items);
imc_kt_store imc_kt_mem_store(imc_kt_mem *m);
/* Items and bytes held (keys, values, slots), for the benchmarks. */
void imc_kt_mem_usage(const imc_kt_mem *m, size_t *items, size_t *bytes);
void imc_kt_mem_close(imc_kt_mem *m);

/* ---- The log -------------------------------------------------------------- */

IMC_MUST_USE imc_status imc_kt_log_size(uint64_t *size, const imc_kt_store *s);
/* Appends a leaf of 1..IMC_KT_MAX_LEAF_BYTES bytes; *index receives its
 * position (may be NULL). About two node puts per append, amortised. */
IMC_MUST_USE imc_status imc_kt_log_append(uint64_t *index, const imc_backend *b,
                                          const imc_kt_store *s, const uint8_t *data, size_t len);
/* The stored data of leaf `index` (a view valid until the next put). */
IMC_MUST_USE imc_status imc_kt_log_leaf(const uint8_t **data, size_t *len, const imc_kt_store *s,
                                        uint64_t index);
/* The root of the tree of the first `size` leaves (size <= current size;
 * size 0 is SHA-256 of nothing). */
IMC_MUST_USE imc_status imc_kt_log_root(uint8_t root[IMC_KT_HASH_BYTES], const imc_backend *b,
                                        const imc_kt_store *s, uint64_t size);
IMC_MUST_USE imc_status imc_kt_log_prove_inclusion(imc_kt_log_proof *p, const imc_backend *b,
                                                   const imc_kt_store *s, uint64_t index,
                                                   uint64_t size);
IMC_MUST_USE imc_status imc_kt_log_prove_consistency(imc_kt_log_proof *p, const imc_backend *b,
                                                     const imc_kt_store *s, uint64_t m,
                                                     uint64_t n);

/* ---- The index ------------------------------------------------------------ */

/* The index maps 32-byte keys (SHA-256 of a normalised handle) to 32-byte
 * values (the hash of the handle's latest log leaf). Keys are never removed. */
IMC_MUST_USE imc_status imc_kt_index_key(const imc_backend *b, uint8_t key[IMC_KT_HASH_BYTES],
                                         const uint8_t *handle, size_t handle_len);
IMC_MUST_USE imc_status imc_kt_index_put(const imc_backend *b, const imc_kt_store *s,
                                         const uint8_t key[IMC_KT_HASH_BYTES],
                                         const uint8_t value[IMC_KT_HASH_BYTES]);
/* The root (32 zero bytes for an empty index). */
IMC_MUST_USE imc_status imc_kt_index_root(uint8_t root[IMC_KT_HASH_BYTES], const imc_kt_store *s);

typedef enum imc_kt_index_result {
    IMC_KT_INDEX_PRESENT = 1,      /* the key is in the index */
    IMC_KT_INDEX_ABSENT_EMPTY = 2, /* its path ends in an empty subtree */
    IMC_KT_INDEX_ABSENT_LEAF = 3,  /* its path ends at another key's leaf */
} imc_kt_index_result;

typedef struct imc_kt_index_proof {
    imc_kt_index_result result;
    size_t depth; /* siblings, root to leaf: sibling[i] is at depth i + 1 */
    uint8_t sibling[IMC_KT_MAX_INDEX_DEPTH][IMC_KT_HASH_BYTES];
    uint8_t other_key[IMC_KT_HASH_BYTES];   /* ABSENT_LEAF */
    uint8_t other_value[IMC_KT_HASH_BYTES]; /* ABSENT_LEAF */
} imc_kt_index_proof;

/* The proof for key; value (may be NULL) receives the stored value when
 * the key is present. */
IMC_MUST_USE imc_status imc_kt_index_prove(imc_kt_index_proof *p,
                                           uint8_t value[IMC_KT_HASH_BYTES],
                                           const imc_kt_store *s,
                                           const uint8_t key[IMC_KT_HASH_BYTES]);
/* Verifies p against root for key: with value non-NULL, that key maps to
 * value (p must be PRESENT); with value NULL, that key is absent.
 * IMC_OK or IMC_ERR_AUTH. */
IMC_MUST_USE imc_status imc_kt_index_verify(const imc_backend *b,
                                            const uint8_t root[IMC_KT_HASH_BYTES],
                                            const uint8_t key[IMC_KT_HASH_BYTES],
                                            const uint8_t value[IMC_KT_HASH_BYTES],
                                            const imc_kt_index_proof *p);
/* Wire form: 0x03 || result (1) || depth (2) || depth hashes || (ABSENT_LEAF)
 * other key || other value. Strict: unknown result, depth > 256, short or
 * trailing bytes. */
IMC_MUST_USE imc_status imc_kt_index_proof_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                                  const imc_kt_index_proof *p);
IMC_MUST_USE imc_status imc_kt_index_proof_parse(imc_kt_index_proof *p, const uint8_t *in,
                                                 size_t in_len);

/* ---- Checkpoints (C2SP tlog-checkpoint) ----------------------------------- */

/* A tree head. Its note text is
 *   <origin>\n<size>\n<base64 log root>\nindex <base64 index root>\nepoch <epoch>\n
 * (the last two are extension lines). */
typedef struct imc_kt_checkpoint {
    char origin[IMC_KT_MAX_NAME + 1]; /* NUL-terminated */
    size_t origin_len;
    uint64_t size;
    uint8_t root[IMC_KT_HASH_BYTES];
    uint8_t index_root[IMC_KT_HASH_BYTES];
    uint64_t epoch;
} imc_kt_checkpoint;

#define IMC_KT_CHECKPOINT_TEXT_MAX (IMC_KT_MAX_NAME + 1 + 20 + 1 + 45 + 51 + 27)

IMC_MUST_USE imc_status imc_kt_checkpoint_text(char *out, size_t out_cap, size_t *out_len,
                                               const imc_kt_checkpoint *cp);
/* Strict: exactly the five lines above; origin 1..128 printable ASCII
 * bytes without space or '+'; decimal numbers without leading zeros and
 * below 2^63; canonical padded base64 of 32 bytes. */
IMC_MUST_USE imc_status imc_kt_checkpoint_parse(imc_kt_checkpoint *cp, const uint8_t *text,
                                                size_t len);

/* ---- Signed notes (C2SP signed-note) ------------------------------------ */

/* A verifier key: name, signature type, Ed25519 public key, and the key
 * id SHA-256(name || 0x0A || type || pk)[:4] as a big-endian u32. */
typedef struct imc_kt_key {
    char name[IMC_KT_MAX_NAME + 1];
    size_t name_len;
    uint8_t type; /* IMC_KT_SIG_ED25519 or IMC_KT_SIG_COSIGNATURE */
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES];
    uint32_t id;
} imc_kt_key;

/* Key names: 1..128 printable ASCII bytes, no space, no '+'. */
IMC_MUST_USE imc_status imc_kt_key_init(imc_kt_key *k, const imc_backend *b, const char *name,
                                        uint8_t type, const uint8_t pk[IMC_ED25519_PUBLIC_BYTES]);
/* The vkey text "<name>+<8 hex id>+<base64(type || pk)>" (NUL-terminated),
 * and its strict parser (the id must match). */
#define IMC_KT_VKEY_MAX (IMC_KT_MAX_NAME + 1 + 8 + 1 + 44 + 1)
IMC_MUST_USE imc_status imc_kt_vkey_encode(char out[IMC_KT_VKEY_MAX], const imc_kt_key *k);
IMC_MUST_USE imc_status imc_kt_vkey_parse(imc_kt_key *k, const imc_backend *b, const char *text,
                                          size_t len);

typedef struct imc_kt_note_sig {
    const uint8_t *name; /* into the input */
    size_t name_len;
    uint32_t id;
    uint8_t blob[IMC_KT_MAX_SIG_BLOB]; /* decoded, after the 4-byte id */
    size_t blob_len;
} imc_kt_note_sig;

typedef struct imc_kt_note {
    const uint8_t *text; /* the signed text, final newline included */
    size_t text_len;
    size_t sig_count;
    imc_kt_note_sig sigs[IMC_KT_MAX_NOTE_SIGS];
} imc_kt_note;

/* Strict parser: text lines (non-empty, printable ASCII), one empty line,
 * then 1..IMC_KT_MAX_NOTE_SIGS lines "U+2014 U+0020 name U+0020 base64\n"
 * with a valid key name and canonical base64 of 5..4+IMC_KT_MAX_SIG_BLOB
 * bytes; nothing after the last line; at most IMC_KT_MAX_NOTE_BYTES. */
IMC_MUST_USE imc_status imc_kt_note_parse(imc_kt_note *n, const uint8_t *in, size_t len);

/* The signature line of key k (type Ed25519) over text: "— name b64\n". */
IMC_MUST_USE imc_status imc_kt_note_sign(char *out, size_t out_cap, size_t *out_len,
                                         const imc_backend *b, const imc_kt_key *k,
                                         const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                         const uint8_t *text, size_t text_len);
/* Verifies the signature of known key k in a parsed note: IMC_OK if one
 * line with k's name and id verifies; IMC_ERR_NOT_FOUND if there is no such
 * line; IMC_ERR_AUTH if it does not verify or appears twice. For
 * cosignature keys *timestamp receives the cosignature's time (may be NULL). */
IMC_MUST_USE imc_status imc_kt_note_verify(const imc_backend *b, const imc_kt_note *n,
                                           const imc_kt_key *k, uint64_t *timestamp);

/* A tlog-cosignature/v1 line by witness key k (type cosignature) over a
 * checkpoint's note text at POSIX time `timestamp` (< 2^63). */
IMC_MUST_USE imc_status imc_kt_cosign(char *out, size_t out_cap, size_t *out_len,
                                      const imc_backend *b, const imc_kt_key *k,
                                      const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                      const uint8_t *text, size_t text_len, uint64_t timestamp);

/* ---- Witness --------------------------------------------------------------- */

/* A witness for one log: its own key, the log's key and origin, and the
 * last checkpoint it cosigned (its state, to be persisted by the caller
 * after every successful cosign). */
typedef struct imc_kt_witness {
    const imc_backend *b_;
    imc_kt_key key_;
    uint8_t sk_[IMC_ED25519_SECRET_BYTES];
    imc_kt_key log_;
    bool have_;
    imc_kt_checkpoint last_;
    uint8_t last_text_[IMC_KT_CHECKPOINT_TEXT_MAX];
    size_t last_text_len_;
} imc_kt_witness;

/* key must be a cosignature key whose public half matches sk; log an
 * Ed25519 key whose name is the log's origin. */
IMC_MUST_USE imc_status imc_kt_witness_init(imc_kt_witness *w, const imc_backend *b,
                                            const imc_kt_key *key,
                                            const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                            const imc_kt_key *log);
void imc_kt_witness_wipe(imc_kt_witness *w);

/* State: version (1) || text length (2) || last cosigned checkpoint text
 * (length 0: none yet). load refuses another origin or a malformed text. */
#define IMC_KT_WITNESS_STATE_MAX (1 + 2 + IMC_KT_CHECKPOINT_TEXT_MAX)
IMC_MUST_USE imc_status imc_kt_witness_save(uint8_t *out, size_t out_cap, size_t *out_len,
                                            const imc_kt_witness *w);
IMC_MUST_USE imc_status imc_kt_witness_load(imc_kt_witness *w, const uint8_t *in, size_t len);
/* The last cosigned checkpoint, or IMC_ERR_NOT_FOUND before the first. */
IMC_MUST_USE imc_status imc_kt_witness_last(imc_kt_checkpoint *cp, const imc_kt_witness *w);

/* Verifies a signed checkpoint note from the log and a consistency proof
 * from the last cosigned size (ignored for the first checkpoint, may be
 * NULL then), and writes a cosignature line. Nothing changes on error:
 *   IMC_ERR_MALFORMED  the note, checkpoint or proof does not parse
 *   IMC_ERR_AUTH       no valid log signature, wrong origin, an inconsistent
 *                      proof, or the same size with another text
 *   IMC_ERR_STALE      a smaller size than the last cosigned one, or a
 *                      smaller epoch */
IMC_MUST_USE imc_status imc_kt_witness_cosign(char *out, size_t out_cap, size_t *out_len,
                                              imc_kt_witness *w, const uint8_t *note,
                                              size_t note_len, const uint8_t *proof,
                                              size_t proof_len, uint64_t now_s);

/* ---- Client ---------------------------------------------------------------- */

typedef struct imc_kt_client_config {
    imc_kt_key log; /* Ed25519; name = origin */
    size_t witness_count;
    imc_kt_key witnesses[IMC_KT_MAX_WITNESSES]; /* cosignature keys */
    size_t threshold; /* valid cosignatures needed, 0..witness_count */
} imc_kt_client_config;

typedef struct imc_kt_client {
    const imc_backend *b_;
    imc_kt_client_config cfg_;
    bool have_;
    imc_kt_checkpoint last_;
    uint8_t last_note_[IMC_KT_MAX_NOTE_BYTES]; /* as received, signatures included */
    size_t last_note_len_;
    uint8_t evidence_[IMC_KT_EVIDENCE_MAX_BYTES]; /* the first evidence found */
    size_t evidence_len_;
} imc_kt_client;

IMC_MUST_USE imc_status imc_kt_client_init(imc_kt_client *c, const imc_backend *b,
                                           const imc_kt_client_config *cfg);

/* A configuration's stored form: version (1) = 1 || log name length (1) ||
 * log name || log public key (32) || threshold (1) || witness count (1) ||
 * per witness: name length (1) || name || public key (32). The parser is
 * strict: another version, a name that is not a key name, more than
 * IMC_KT_MAX_WITNESSES witnesses, a threshold above the count, short or
 * trailing bytes are IMC_ERR_MALFORMED. Key ids are recomputed. */
#define IMC_KT_CONFIG_MAX_BYTES                                                                    \
    (1 + (1 + IMC_KT_MAX_NAME + IMC_ED25519_PUBLIC_BYTES) + 1 + 1 +                                \
     IMC_KT_MAX_WITNESSES * (1 + IMC_KT_MAX_NAME + IMC_ED25519_PUBLIC_BYTES))
IMC_MUST_USE imc_status imc_kt_client_config_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                                    const imc_kt_client_config *cfg);
IMC_MUST_USE imc_status imc_kt_client_config_parse(imc_kt_client_config *cfg,
                                                   const imc_backend *b, const uint8_t *in,
                                                   size_t len);

/* Offers a signed checkpoint and a consistency proof from the last
 * verified size (may be NULL for the first checkpoint or the same size).
 * IMC_OK: verified and now the client's last checkpoint (or equal to it).
 *   IMC_ERR_MALFORMED  does not parse
 *   IMC_ERR_AUTH       a bad or missing log signature, fewer than threshold
 *                      valid cosignatures, a failed consistency proof, or a
 *                      conflict; *evidence says whether evidence was kept
 *   IMC_ERR_STALE      older than the last verified checkpoint (rollback)
 * Evidence (a conflicting pair, both signed by the log) is kept even when
 * the new checkpoint lacks cosignatures; evidence may be NULL. */
IMC_MUST_USE imc_status imc_kt_client_update(imc_kt_client *c, bool *evidence,
                                             const uint8_t *note, size_t note_len,
                                             const uint8_t *proof, size_t proof_len);

/* The last verified checkpoint, or IMC_ERR_NOT_FOUND. */
IMC_MUST_USE imc_status imc_kt_client_checkpoint(imc_kt_checkpoint *cp, const imc_kt_client *c);
/* The evidence kept, or IMC_ERR_NOT_FOUND. */
IMC_MUST_USE imc_status imc_kt_client_evidence(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_kt_client *c);

/* State: version (1) || note length (2) || last note || evidence length (2)
 * || evidence. load re-verifies the note's log signature and the evidence. */
#define IMC_KT_CLIENT_STATE_MAX (1 + 2 + IMC_KT_MAX_NOTE_BYTES + 2 + IMC_KT_EVIDENCE_MAX_BYTES)
IMC_MUST_USE imc_status imc_kt_client_save(uint8_t *out, size_t out_cap, size_t *out_len,
                                           const imc_kt_client *c);
IMC_MUST_USE imc_status imc_kt_client_load(imc_kt_client *c, const uint8_t *in, size_t len);

/* ---- Evidence -------------------------------------------------------------- */

typedef enum imc_kt_evidence_kind {
    IMC_KT_EVIDENCE_SAME_SIZE = 1, /* two texts for one tree size */
    IMC_KT_EVIDENCE_PREFIX = 2,    /* the larger tree's prefix has another root */
    /* Two device lists of one handle with the same version and different
     * content, each in a directory-signed lookup entry and signed by the
     * account key it names (docs/directory-format.md). */
    IMC_KT_EVIDENCE_LIST = 3,
} imc_kt_evidence_kind;

typedef struct imc_kt_evidence {
    imc_kt_evidence_kind kind;
    imc_kt_key log; /* LIST: the key that signed the entries */
    imc_kt_checkpoint a, b; /* SAME_SIZE, PREFIX: a.size <= b.size */
    uint8_t handle[IMC_MAX_HANDLE_BYTES]; /* LIST: the handle and the version */
    size_t handle_len;
    uint64_t version;
} imc_kt_evidence;

/* Parses and checks evidence: both notes carry a valid signature of the
 * log key stated inside, the same origin, and (SAME_SIZE) equal sizes and
 * different texts, or (PREFIX) a.size < b.size and a consistency proof from
 * (a.size, r') to b with r' != a.root; or (LIST) both are one-entry lookup
 * responses signed by the stated key, for one handle and one list version,
 * with different account-signed lists. IMC_OK: e (may be NULL) describes
 * the misbehaviour; the caller compares e->log with the key it trusts.
 * IMC_ERR_MALFORMED or IMC_ERR_AUTH otherwise. */
IMC_MUST_USE imc_status imc_kt_evidence_verify(imc_kt_evidence *e, const imc_backend *b,
                                               const uint8_t *in, size_t len);

#ifdef __cplusplus
}
#endif
#endif
