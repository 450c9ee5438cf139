/* imcore: the client-side key directory cache.
 *
 * A device keeps what the directory told it about the handles it talks to.
 * The cache pins the directory's public key and accepts only lookup
 * responses whose every entry is signed by it; it never lets an epoch go
 * backwards (per handle, and the global epoch across all handles); it
 * reports which devices of a handle were added, removed or changed (the
 * key-change notification); entries expire a TTL after the directory issued
 * them. From it a sender gets the devices to encrypt to (the recipients'
 * and its own other devices), a recipient gets the sender's keys, and a
 * sender whose device list disagrees with the directory learns which
 * devices are missing, extra or stale.
 *
 * Time is always the caller's `now_ms` (milliseconds since the Unix
 * epoch); the cache never reads a clock. Memory is allocated once, at
 * imc_dircache_new; no other function allocates except imc_dircache_digest.
 * Each cached handle takes a full record (about 9.5 KB, room for 64
 * devices), so the default 256 handles are about 2.4 MB; eviction scans
 * the slots, which suits device-side sizes (up to a few thousand).
 * Not thread-safe: one thread at a time, or a lock around it. */
#ifndef IMCORE_DIRCACHE_H
#define IMCORE_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/dir.h"
#include "imcore/kt.h"
#include "imcore/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imc_dircache imc_dircache;

typedef struct imc_dircache_options {
    size_t capacity;      /* handles held; 0: 256. Own handle is never evicted */
    uint64_t ttl_ms;      /* an entry is fresh until issued_ms + ttl_ms; 0: 24 h */
    uint64_t max_skew_ms; /* how far issued_ms may be ahead of now_ms; 0: 5 min */
    /* This device and its handle (in normal form), or NULL / 0 for a cache
     * that only looks others up. */
    const uint8_t *own_handle;
    size_t own_handle_len;
    uint64_t own_device_id;
    /* A persistent cache: the LMDB file (lock file path + "-lock") that
     * keeps the pinned directory key, the rollback anchor (highest global
     * epoch and its issue time) and every handle with its pinned account
     * key and last device list. NULL: in memory only. A persistent cache
     * never evicts (a new handle beyond capacity is IMC_ERR_LIMIT) and
     * writes every apply and accept in one LMDB transaction before it
     * changes anything in memory. */
    const char *path;
    bool no_sync; /* skip fsync at commit (safe against a killed process only) */
    /* Key transparency (docs/transparency.md, "Clients"): the log's key,
     * the witnesses and the threshold. A persistent cache stamps it into a
     * new state file and afterwards takes it from the file (NULL here: the
     * file's, if any; another one than the file's is IMC_ERR_AUTH). */
    const imc_kt_client_config *kt;
} imc_dircache_options;

/* With opt->path: opens (or creates) the state file and loads it. A file
 * pinned to another directory key is IMC_ERR_AUTH, one that does not parse
 * IMC_ERR_IO, more handles in it than the capacity IMC_ERR_LIMIT. */
IMC_MUST_USE imc_status imc_dircache_new(imc_dircache **c, const imc_backend *b,
                                         const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                         const imc_dircache_options *opt);
void imc_dircache_free(imc_dircache *c);

/* ---- Applying directory responses --------------------------------------- */

typedef enum imc_dir_change_kind {
    IMC_DIR_DEVICE_ADDED = 1,
    IMC_DIR_DEVICE_REMOVED = 2,
    IMC_DIR_DEVICE_CHANGED = 3, /* same device id, other keys (a rotation) */
    IMC_DIR_LIST_VERSION = 4,   /* the device list's version grew (device_id 0) */
    IMC_DIR_ACCOUNT_NEW = 5,    /* an account key seen for the first time: pinned */
    IMC_DIR_ACCOUNT_ROTATED = 6, /* a new account key signed by the pinned one: pinned */
    /* A new account key not signed by the pinned one (an account reset, or
     * a rotation this cache cannot check): the handle is unusable until
     * imc_dircache_accept. Reported when the key first appears. */
    IMC_DIR_ACCOUNT_UNCONFIRMED = 7,
} imc_dir_change_kind;

typedef struct imc_dir_change {
    size_t entry; /* index of the entry in the response */
    uint64_t device_id;
    imc_dir_change_kind kind;
    uint64_t old_version, new_version; /* the handle's list version before and after */
} imc_dir_change;

/* At most this many changes per response entry. */
#define IMC_DIR_CHANGES_MAX_PER_ENTRY (2 * IMC_MAX_DEVICES_PER_HANDLE + 2)

/* Verifies a lookup response and applies all of its entries, or none:
 *   IMC_ERR_MALFORMED / IMC_ERR_LIMIT  does not parse
 *   IMC_ERR_AUTH       an entry is not signed by the pinned directory key,
 *                      its device list is not signed by the account key it
 *                      names, or the directory signed two different device
 *                      lists for one handle epoch (a persistent cache keeps
 *                      the two as LIST evidence); or transparency is
 *                      configured (answers must come with proofs:
 *                      imc_dircache_apply_kt)
 *   IMC_ERR_STALE      the global epoch is below the highest seen (or equal
 *                      with an earlier issue time), a handle's epoch is
 *                      below the cached one, or the response is expired or
 *                      issued too far in the future
 *   IMC_ERR_IO         a persistent cache could not write its state
 *   IMC_ERR_NO_SPACE   more changes than changes_cap (changes may be NULL
 *                      to not have them)
 *   IMC_ERR_LIMIT      more new handles than the cache can hold
 * On failure the cache is unchanged. On success changes[0..*change_count)
 * lists every device added, removed or changed, by entry then device id;
 * a handle seen for the first time reports all its devices as added. */
IMC_MUST_USE imc_status imc_dircache_apply(imc_dircache *c, imc_dir_change *changes,
                                           size_t changes_cap, size_t *change_count,
                                           uint64_t now_ms, const uint8_t *resp, size_t resp_len);

/* With transparency configured, imc_dircache_apply refuses every response
 * (IMC_ERR_AUTH: it carries no proofs) and this one is the way in: a
 * lookup response with proofs (imcore/dirkt.h). Its checkpoint must be
 * accepted by the transparency client (imc_dircache_kt_update's rules;
 * evidence is kept as there), every answer must verify against that
 * checkpoint (imc_dir_kt_answer_verify: the directory's signature, the
 * leaf, its inclusion, the index proof; IMC_ERR_AUTH otherwise), and then
 * the entries are applied as by imc_dircache_apply, with the new
 * checkpoint in the same transaction. On failure nothing changes but kept
 * evidence. */
IMC_MUST_USE imc_status imc_dircache_apply_kt(imc_dircache *c, imc_dir_change *changes,
                                              size_t changes_cap, size_t *change_count,
                                              bool *evidence, uint64_t now_ms,
                                              const uint8_t *resp, size_t resp_len);

/* ---- Using the cache ---------------------------------------------------- */

/* Trusts the account key of a handle's current list after an
 * IMC_DIR_ACCOUNT_UNCONFIRMED change (the user checked it, e.g. by the
 * safety number). IMC_ERR_NOT_FOUND if not cached; IMC_OK if nothing was
 * pending. */
IMC_MUST_USE imc_status imc_dircache_accept(imc_dircache *c, const uint8_t *handle,
                                            size_t handle_len);

/* The pinned account key of a handle (all zero if it has no account) and
 * whether its current list is signed by another, unconfirmed key. */
IMC_MUST_USE imc_status imc_dircache_account(uint8_t pinned[IMC_DIR_ACCOUNT_PUBLIC_BYTES],
                                             bool *pending, const imc_dircache *c,
                                             const uint8_t *handle, size_t handle_len);

/* The cached record of a handle: IMC_ERR_NOT_FOUND if not cached,
 * IMC_ERR_STALE if expired. The pointer is valid until the next apply.
 * A handle with an unconfirmed account key is returned too (to show it);
 * recipients, prepare_send and peer refuse it with IMC_ERR_AUTH. */
IMC_MUST_USE imc_status imc_dircache_get(const imc_dir_record **rec, const imc_dircache *c,
                                         uint64_t now_ms, const uint8_t *handle, size_t handle_len);

/* Every device to encrypt to for the handles `to` (repeats ignored), plus
 * this device's own other devices, sorted by device id. Each handle (and
 * the own handle) must be cached and fresh and list at least one device
 * (the own handle must list this device): else IMC_ERR_NOT_FOUND or
 * IMC_ERR_STALE and *bad = the index of the handle in `to` (n for the own
 * handle). A device of another suite than `suite` is IMC_ERR_UNSUPPORTED;
 * more than IMC_MAX_RECIPIENTS devices IMC_ERR_LIMIT; more than out_cap
 * IMC_ERR_NO_SPACE. bad may be NULL. */
IMC_MUST_USE imc_status imc_dircache_recipients(imc_device_public *out, size_t out_cap,
                                                size_t *count, size_t *bad, const imc_dircache *c,
                                                uint64_t now_ms, uint32_t suite,
                                                const imc_dir_handle *to, size_t n);

/* Fills req for imc_msg_encrypt from the cache: sender handle (pointing
 * into the cache), sender keys, and recipients (written to devs, as
 * imc_dircache_recipients). The caller then sets body and timestamp. The
 * sender must be the cache's own device, listed with these very keys in
 * its own fresh entry (IMC_ERR_NOT_FOUND if it is not listed, i.e. revoked;
 * IMC_ERR_STALE if listed with other keys); no device to send to at all is
 * IMC_ERR_NOT_FOUND. */
IMC_MUST_USE imc_status imc_dircache_prepare_send(imc_msg_send *req, imc_device_public *devs,
                                                  size_t devs_cap, size_t *bad,
                                                  const imc_dircache *c, uint64_t now_ms,
                                                  const imc_device_keys *sender,
                                                  const imc_dir_handle *to, size_t n);

/* The sender of a delivery as imc_msg_decrypt wants it, from the cache:
 * IMC_ERR_NOT_FOUND if the handle is not cached or does not list the
 * device (a revoked device), IMC_ERR_STALE if expired. The pointers are
 * valid until the next apply. */
IMC_MUST_USE imc_status imc_dircache_peer(imc_msg_peer *peer, const imc_dircache *c,
                                          uint64_t now_ms, const uint8_t *handle, size_t handle_len,
                                          uint64_t device_id);

typedef enum imc_dir_mismatch_kind {
    IMC_DIR_DEVICE_MISSING = 1, /* the directory lists it, the sender did not */
    IMC_DIR_DEVICE_EXTRA = 2,   /* the sender listed it, the directory does not */
    IMC_DIR_DEVICE_STALE = 3,   /* both list it, with different keys */
} imc_dir_mismatch_kind;

typedef struct imc_dir_mismatch {
    size_t handle; /* index in `to`, n for the own handle, SIZE_MAX for extra */
    uint64_t device_id;
    imc_dir_mismatch_kind kind;
} imc_dir_mismatch;

/* Compares a sender's device list (e.g. the recipients of an envelope)
 * with what the directory says for the handles `to` plus the own handle
 * (this device excluded). *count is the number of mismatches, 0 when they
 * agree; IMC_ERR_NO_SPACE (with *count set) if more than out_cap. A handle
 * not cached or expired is IMC_ERR_NOT_FOUND / IMC_ERR_STALE. Repeated
 * devices in the list are extra. */
IMC_MUST_USE imc_status imc_dircache_compare(imc_dir_mismatch *out, size_t out_cap, size_t *count,
                                             const imc_dircache *c, uint64_t now_ms,
                                             const imc_dir_handle *to, size_t n,
                                             const imc_device_public *list, size_t list_len);

/* ---- Transparency and evidence -------------------------------------------- */

/* Evidence a cache keeps: checkpoint evidence (imc_kt_client) or two
 * directory-signed lists for one handle version (IMC_KT_EVIDENCE_LIST). */
#define IMC_DIRCACHE_EVIDENCE_MAX_BYTES                                                            \
    (IMC_KT_EVIDENCE_MAX_BYTES > 1 + 1 + 1 + IMC_KT_MAX_NAME + IMC_ED25519_PUBLIC_BYTES +         \
                                     2 * (2 + IMC_DIR_RESPONSE_MAX_BYTES(1))                       \
         ? IMC_KT_EVIDENCE_MAX_BYTES                                                               \
         : 1 + 1 + 1 + IMC_KT_MAX_NAME + IMC_ED25519_PUBLIC_BYTES +                                \
               2 * (2 + IMC_DIR_RESPONSE_MAX_BYTES(1)))

/* Whether transparency is configured (options.kt, or the state file's). */
bool imc_dircache_kt_enabled(const imc_dircache *c);

/* Offers a log-signed checkpoint (and a consistency proof from the last
 * verified one) to the cache's imc_kt_client (imc_kt_client_update's rules
 * and statuses; IMC_ERR_UNSUPPORTED without transparency). On success the
 * checkpoint is the cache's last one; a conflicting pair is kept as
 * evidence (*evidence true) even though the call fails. A persistent cache
 * writes the new state (or just the evidence) in one transaction before it
 * changes memory (IMC_ERR_IO: nothing changed). */
IMC_MUST_USE imc_status imc_dircache_kt_update(imc_dircache *c, bool *evidence,
                                               const uint8_t *note, size_t note_len,
                                               const uint8_t *proof, size_t proof_len);

/* The last verified checkpoint (IMC_ERR_NOT_FOUND: none yet;
 * IMC_ERR_UNSUPPORTED without transparency). */
IMC_MUST_USE imc_status imc_dircache_kt_checkpoint(imc_kt_checkpoint *cp, const imc_dircache *c);

/* The first evidence the cache kept (imc_kt_evidence_verify checks it):
 * from a checkpoint conflict, or from apply meeting a second signed list
 * for a cached handle version (persistent caches only: they keep each
 * handle's last signed entry). IMC_ERR_NOT_FOUND if none. Evidence is
 * the one thing a refused call writes. */
IMC_MUST_USE imc_status imc_dircache_evidence(uint8_t *out, size_t out_cap, size_t *out_len,
                                              const imc_dircache *c);

/* ---- Self-monitoring --------------------------------------------------------- */

/* A version of an audited handle that this state did not see: no verified
 * answer showed this list at this version. */
typedef struct imc_dir_audit_finding {
    uint64_t version;
    uint8_t account_pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
    uint8_t list_hash[IMC_SHA256_BYTES];
    bool key_known; /* account_pk is the handle's pinned account key */
} imc_dir_audit_finding;

/* The version an audit of handle starts from: one past the last audited
 * version, or (never audited) the first version this state saw of it.
 * IMC_ERR_NOT_FOUND if it never saw one; IMC_ERR_UNSUPPORTED without
 * transparency or a state file. */
IMC_MUST_USE imc_status imc_dircache_audit_since(uint64_t *since, const imc_dircache *c,
                                                 const uint8_t *handle, size_t handle_len);

/* Verifies an audit response for handle (imcore/dirkt.h) from
 * imc_dircache_audit_since, or from the version before it as an anchor
 * (which must then be the very leaf audited last, when there was one): its
 * checkpoint as imc_dircache_kt_update does, then imc_dir_kt_audit_verify
 * (every version, hash-chained from the last audited one, included in the
 * log). Every version whose list this
 * state never saw in a verified answer is a finding (out[0..*count), at
 * most out_cap written, *count all of them). On success the new checkpoint
 * is written, and the audit moves past the versions it covered when there
 * are no findings or `acknowledge` is set (the user was told). IMC_OK even
 * with findings; IMC_ERR_AUTH / _MALFORMED / _STALE as the checks say, and
 * nothing changes but kept evidence. *complete: the answer reached the
 * latest version (else audit again). Persistent caches with transparency
 * only (else IMC_ERR_UNSUPPORTED). */
IMC_MUST_USE imc_status imc_dircache_audit(imc_dircache *c, imc_dir_audit_finding *out,
                                           size_t out_cap, size_t *count, bool *complete,
                                           bool *evidence, bool acknowledge,
                                           const uint8_t *handle, size_t handle_len,
                                           const uint8_t *resp, size_t resp_len);

/* ---- Inspection ----------------------------------------------------------- */

uint64_t imc_dircache_global_epoch(const imc_dircache *c);
/* The issue time of the response that set the global epoch. */
uint64_t imc_dircache_anchor_issued(const imc_dircache *c);
size_t imc_dircache_count(const imc_dircache *c);

/* SHA-256 over everything the cache holds (entries, epochs, issue times):
 * equal before and after a call means the call changed nothing. */
IMC_MUST_USE imc_status imc_dircache_digest(uint8_t out[IMC_SHA256_BYTES], const imc_dircache *c);

#ifdef __cplusplus
}
#endif
#endif
