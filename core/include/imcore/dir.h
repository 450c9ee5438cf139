/* imcore: the key directory, service side, and its storage interface.
 *
 * The directory maps a normalised handle (an E.164 phone number or a
 * lower-cased e-mail address, docs/directory.md) to the public keys of every
 * device of that account. Devices register themselves with a proof of
 * possession, rotate their keys and are revoked through signed update
 * requests; every answer is a lookup response whose entries are each signed
 * by the directory's Ed25519 key, which clients pin (imcore/dircache.h).
 *
 *   imc_dir_sign_register / _rotate / _revoke   device side: build an update
 *   imc_dir_encode_request                       client side: a lookup request
 *   imc_dir_update                               service: apply an update
 *   imc_dir_lookup / imc_dir_lookup_batch        service: signed entries
 *   imc_dir_serve                                service: any request
 *
 * Wire formats: docs/directory-format.md. Every parser here
 * reads through the strict imcore/wire.h cursor.
 *
 * Storage is one interface (imc_dir_store_ops, a const vtable, plus an
 * instance pointer) with two implementations: in memory and LMDB. The
 * service logic is written once over it; every update is one write
 * transaction, so it is applied entirely or not at all. */
#ifndef IMCORE_DIR_H
#define IMCORE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/crypto.h"
#include "imcore/keys.h"
#include "imcore/kt.h"
#include "imcore/limits.h"
#include "imcore/rng.h"
#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef IMC_DIR_MAX_BATCH
#define IMC_DIR_MAX_BATCH 256 /* handles per lookup request / response */
#endif
#if IMC_MAX_DEVICES_PER_HANDLE > 255 || IMC_MAX_DEVICES_PER_HANDLE < 1
#error "device counts are one byte on the directory wire"
#endif
#if IMC_DIR_MAX_BATCH > 65535 || IMC_DIR_MAX_BATCH < 1
#error "batch counts are two bytes on the directory wire"
#endif

#define IMC_DIR_VERSION 2 /* version 1 (no account keys) is refused */
#define IMC_DIR_KIND_REQUEST 0x51  /* 'Q' lookup request */
#define IMC_DIR_KIND_RESPONSE 0x41 /* 'A' lookup response (answer) */
#define IMC_DIR_KIND_UPDATE 0x55   /* 'U' register / rotate / revoke / account */
#define IMC_DIR_KIND_LIST 0x4c     /* 'L' a device list signed by the account key */

#define IMC_DIR_OP_REGISTER 1       /* at epoch 0 it creates the account */
#define IMC_DIR_OP_ROTATE 2
#define IMC_DIR_OP_REVOKE 3
#define IMC_DIR_OP_ACCOUNT_ROTATE 4 /* new account key, signed by the old one */
#define IMC_DIR_OP_ACCOUNT_RESET 5  /* new account key and first device, all keys lost */

/* How a device list's account key relates to the previous list's. */
#define IMC_DIR_KEY_SAME 0
#define IMC_DIR_KEY_ROTATED 1 /* the previous account key signed this list too */
#define IMC_DIR_KEY_NEW 2     /* account creation (version 1) or reset */

#define IMC_DIR_ACCOUNT_PUBLIC_BYTES IMC_ED25519_PUBLIC_BYTES
#define IMC_DIR_ACCOUNT_SECRET_BYTES IMC_ED25519_SECRET_BYTES

#define IMC_DIR_PUBLIC_BYTES IMC_ED25519_PUBLIC_BYTES
#define IMC_DIR_SECRET_BYTES IMC_ED25519_SECRET_BYTES
#define IMC_DIR_SIGNATURE_BYTES IMC_ED25519_SIGNATURE_BYTES

/* Encoded sizes, for sizing buffers. */
#define IMC_DIR_DEVICE_MAX_BYTES (2 + 8 + IMC_DH_PUBLIC_MAX + IMC_SIG_PUBLIC_MAX)
#define IMC_DIR_LIST_MAX_BYTES                                                                     \
    (2 + 1 + IMC_MAX_HANDLE_BYTES + 8 + 1 + IMC_DIR_ACCOUNT_PUBLIC_BYTES + IMC_SHA256_BYTES + 1 +  \
     IMC_MAX_DEVICES_PER_HANDLE * IMC_DIR_DEVICE_MAX_BYTES + 2 * IMC_ED25519_SIGNATURE_BYTES)
#define IMC_DIR_ENTRY_MAX_BYTES                                                                    \
    (1 + IMC_MAX_HANDLE_BYTES + 8 + 8 + 8 + 2 + IMC_DIR_LIST_MAX_BYTES + IMC_DIR_SIGNATURE_BYTES)
#define IMC_DIR_RESPONSE_MAX_BYTES(n) (2 + 2 + (size_t)(n)*IMC_DIR_ENTRY_MAX_BYTES)
#define IMC_DIR_REQUEST_MAX_BYTES(n) (2 + 2 + (size_t)(n) * (1 + IMC_MAX_HANDLE_BYTES))
#define IMC_DIR_UPDATE_MAX_BYTES                                                                   \
    (3 + 1 + IMC_MAX_HANDLE_BYTES + 8 + IMC_DIR_DEVICE_MAX_BYTES + 2 + IMC_DIR_LIST_MAX_BYTES +    \
     2 * (1 + IMC_SIG_MAX))

/* ---- Handles (core/src/dir/handle.c, rules in docs/directory.md) ------- */

/* A view of a normalised handle. */
typedef struct imc_dir_handle {
    const uint8_t *bytes;
    size_t len;
} imc_dir_handle;

/* Normalises a user-typed handle: a phone number ("+1 (415) 555-0100")
 * becomes E.164 ("+14155550100"), an e-mail address is lower-cased and
 * checked. IMC_ERR_LIMIT if in_len > IMC_MAX_HANDLE_BYTES, IMC_ERR_MALFORMED
 * if it is neither; out is wiped on failure. */
IMC_MUST_USE imc_status imc_dir_handle_normalise(uint8_t out[IMC_MAX_HANDLE_BYTES], size_t *out_len,
                                                 const uint8_t *in, size_t in_len);

/* True if h is already in normal form (what every wire handle must be). */
bool imc_dir_handle_valid(const uint8_t *h, size_t len);

/* ---- Records and parsed forms ------------------------------------------ */

/* The state of one handle: its epoch (0 = never registered; +1 per update)
 * and its active devices, device ids strictly increasing (revoked devices
 * are not listed), as the account's signed device list says: the epoch is
 * the list's version, and the list fields below are what the account key
 * signed (docs/directory-format.md, "Device list"). All zero at epoch 0. */
typedef struct imc_dir_record {
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    size_t handle_len;
    uint64_t epoch;
    size_t device_count;
    imc_device_public devices[IMC_MAX_DEVICES_PER_HANDLE];
    uint8_t key_change; /* IMC_DIR_KEY_* */
    uint8_t account_pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
    uint8_t prev_hash[IMC_SHA256_BYTES]; /* SHA-256 of the previous list; zero at version 1 */
    uint8_t list_sig[IMC_ED25519_SIGNATURE_BYTES];   /* by account_pk */
    uint8_t rotate_sig[IMC_ED25519_SIGNATURE_BYTES]; /* IMC_DIR_KEY_ROTATED: by the old key */
} imc_dir_record;

/* One signed entry of a lookup response. */
typedef struct imc_dir_entry {
    imc_dir_record rec;
    uint64_t global_epoch;
    uint64_t issued_ms;
    const uint8_t *list; /* the account-signed list (NULL, 0 at epoch 0) */
    size_t list_len;
    const uint8_t *body; /* the signed bytes (without the label) */
    size_t body_len;
    const uint8_t *sig; /* IMC_DIR_SIGNATURE_BYTES */
} imc_dir_entry;

/* A structurally valid lookup response (signatures not checked). Entries
 * share one global epoch and issue time; handles are distinct. */
typedef struct imc_dir_response {
    size_t count;
    uint64_t global_epoch;
    uint64_t issued_ms;
    const uint8_t *entries; /* the count entries, back to back */
    size_t entries_len;
} imc_dir_response;

typedef struct imc_dir_request {
    size_t count;
    imc_dir_handle handles[IMC_DIR_MAX_BATCH]; /* views into the input */
} imc_dir_request;

typedef struct imc_dir_update_msg {
    uint8_t op; /* IMC_DIR_OP_* */
    imc_dir_handle handle;
    uint64_t epoch;             /* the handle epoch the update applies to */
    imc_device_public device;   /* register: the device; rotate: its new keys */
    uint64_t target_id;         /* rotate, revoke: the device acted on */
    imc_dir_record list;        /* the new device list, signed by the account */
    const uint8_t *list_bytes;  /* its encoding, as in the update */
    size_t list_len;
    const uint8_t *signed_part; /* bytes the devices sign (after the label and key) */
    size_t signed_part_len;
    size_t sig_count; /* device proofs: 1 register/reset, 2 rotate, 0 otherwise */
    const uint8_t *sig[2];
    size_t sig_len[2];
} imc_dir_update_msg;

/* Strict parsers (no crypto): unknown version, kind, op or suite, a handle
 * not in normal form, short or trailing bytes, device ids not strictly
 * increasing, repeated handles, device id 0, epoch rules (docs) are all
 * IMC_ERR_MALFORMED; counts over the limits are IMC_ERR_LIMIT. */
IMC_MUST_USE imc_status imc_dir_parse_request(imc_dir_request *req, const uint8_t *in,
                                              size_t in_len);
IMC_MUST_USE imc_status imc_dir_parse_response(imc_dir_response *resp, const uint8_t *in,
                                               size_t in_len);
/* Decodes the entry at *offset of a parsed response and advances *offset
 * (start at 0; count entries in all). */
IMC_MUST_USE imc_status imc_dir_response_next(imc_dir_entry *e, size_t *offset,
                                              const imc_dir_response *resp);
IMC_MUST_USE imc_status imc_dir_parse_update(imc_dir_update_msg *u, const uint8_t *in,
                                             size_t in_len);

/* ---- Account-signed device lists (docs/directory-format.md) ------------ */

/* A fresh account key pair (rng NULL: the backend's CSPRNG). */
IMC_MUST_USE imc_status imc_dir_account_keygen(const imc_backend *b, imc_rng *rng,
                                               uint8_t pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES],
                                               uint8_t sk[IMC_DIR_ACCOUNT_SECRET_BYTES]);

/* The canonical encoding of rec's device list (rec->epoch >= 1). */
IMC_MUST_USE imc_status imc_dir_list_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                            const imc_dir_record *rec);
/* Strict parser of one list (no crypto). */
IMC_MUST_USE imc_status imc_dir_list_parse(imc_dir_record *rec, const uint8_t *in, size_t in_len);
/* SHA-256 of the list's encoding: what the next list names as prev_hash. */
IMC_MUST_USE imc_status imc_dir_list_hash(uint8_t out[IMC_SHA256_BYTES], const imc_backend *b,
                                          const imc_dir_record *rec);
/* Signs rec's list (handle, epoch and devices set by the caller): sets
 * key_change, prev_hash (from prev, or zero if prev is NULL / at epoch 0),
 * account_pk from account_sk, list_sig, and for IMC_DIR_KEY_ROTATED the
 * rotate_sig by old_account_sk (NULL otherwise). */
IMC_MUST_USE imc_status imc_dir_list_sign(imc_dir_record *rec, const imc_backend *b,
                                          uint8_t key_change, const imc_dir_record *prev,
                                          const uint8_t account_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                                          const uint8_t *old_account_sk);
/* Verifies rec's list signature with rec->account_pk, and for a rotated key
 * the rotation signature with old_pk (NULL: not checked). IMC_OK or
 * IMC_ERR_AUTH. */
IMC_MUST_USE imc_status imc_dir_list_verify(const imc_backend *b, const imc_dir_record *rec,
                                            const uint8_t *old_pk);

/* Verifies the directory's signature on one entry: IMC_OK or IMC_ERR_AUTH. */
IMC_MUST_USE imc_status imc_dir_entry_verify(const imc_backend *b,
                                             const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                             const imc_dir_entry *e);

/* ---- Safety numbers (core/src/dir/safety.c) ------------------------------ */

/* Six groups of five digits, space-separated. */
#define IMC_DIR_SAFETY_NUMBER_CHARS 35

/* The safety number of two accounts (handle in normal form and account
 * key each): the same whichever account is a, and different as soon as
 * either key changes (docs/directory.md, "Safety numbers"). */
IMC_MUST_USE imc_status imc_dir_safety_number(char out[IMC_DIR_SAFETY_NUMBER_CHARS + 1],
                                              const imc_backend *b, const uint8_t *handle_a,
                                              size_t handle_a_len,
                                              const uint8_t pk_a[IMC_DIR_ACCOUNT_PUBLIC_BYTES],
                                              const uint8_t *handle_b, size_t handle_b_len,
                                              const uint8_t pk_b[IMC_DIR_ACCOUNT_PUBLIC_BYTES]);

/* ---- Requests built by clients and devices ----------------------------- */

/* A lookup request for count (1..IMC_DIR_MAX_BATCH) distinct handles in
 * normal form. */
IMC_MUST_USE imc_status imc_dir_encode_request(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_dir_handle *handles, size_t count);

/* Signed updates. `cur` is the handle's current record as the device last
 * saw it (a verified lookup; epoch 0 for a handle never registered): the
 * update applies at its epoch only, so it cannot be replayed, and its new
 * device list (cur with the change, version cur->epoch + 1, chained to cur
 * by hash) is signed with the account key. Device proofs sign label ||
 * dir_pk || the update, binding it to one directory. */

/* Adds dev. At epoch 0 this creates the account: account_sk becomes its
 * key (both keys prove possession). */
IMC_MUST_USE imc_status imc_dir_sign_register(uint8_t *out, size_t out_cap, size_t *out_len,
                                              const imc_backend *b,
                                              const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                              const imc_dir_record *cur,
                                              const uint8_t account_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                                              const imc_device_keys *dev);
/* new_keys must have old_keys' device id; both keys sign. */
IMC_MUST_USE imc_status imc_dir_sign_rotate(uint8_t *out, size_t out_cap, size_t *out_len,
                                            const imc_backend *b,
                                            const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                            const imc_dir_record *cur,
                                            const uint8_t account_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                                            const imc_device_keys *old_keys,
                                            const imc_device_keys *new_keys);
/* Removes device revoked_id: the account key alone decides. */
IMC_MUST_USE imc_status imc_dir_sign_revoke(uint8_t *out, size_t out_cap, size_t *out_len,
                                            const imc_backend *b,
                                            const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                            const imc_dir_record *cur,
                                            const uint8_t account_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                                            uint64_t revoked_id);
/* Replaces the account key: the list is signed by both keys. */
IMC_MUST_USE imc_status imc_dir_sign_account_rotate(
    uint8_t *out, size_t out_cap, size_t *out_len, const imc_backend *b,
    const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES], const imc_dir_record *cur,
    const uint8_t old_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
    const uint8_t new_sk[IMC_DIR_ACCOUNT_SECRET_BYTES]);
/* All keys lost: a new account key and one new device replace everything
 * (every listed device is revoked). Clients report it and do not trust the
 * new key until their user accepts it (imc_dircache_accept). */
IMC_MUST_USE imc_status imc_dir_sign_account_reset(
    uint8_t *out, size_t out_cap, size_t *out_len, const imc_backend *b,
    const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES], const imc_dir_record *cur,
    const uint8_t new_sk[IMC_DIR_ACCOUNT_SECRET_BYTES], const imc_device_keys *dev);

/* ---- Storage ------------------------------------------------------------ */

typedef enum imc_dir_table {
    IMC_DIR_TABLE_META = 0,    /* "format", "pk", "epoch" */
    IMC_DIR_TABLE_HANDLES = 1, /* handle -> record */
    IMC_DIR_TABLE_DEVICES = 2, /* device id (8, big-endian) -> state, handle */
    /* The transparency log and index (imcore/kt.h's four tables, in order),
     * and each handle's leaves: SHA-256(handle) || version (8) -> leaf
     * position (8) || leaf hash (32). */
    IMC_DIR_TABLE_KT_META = 3,
    IMC_DIR_TABLE_KT_NODES = 4,
    IMC_DIR_TABLE_KT_LEAVES = 5,
    IMC_DIR_TABLE_KT_INDEX = 6,
    IMC_DIR_TABLE_KT_HISTORY = 7,
} imc_dir_table;
#define IMC_DIR_TABLE_COUNT 8
#define IMC_DIR_TABLE_BASE_COUNT 3 /* tables every store file has had */

/* Called for each key/value of a table; a nonzero return stops the scan. */
typedef int (*imc_dir_scan_fn)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *val,
                               size_t val_len);

/* A key/value store with transactions. A write transaction is exclusive and
 * all-or-nothing: its puts become visible together at commit, or never.
 * Values returned by get stay valid until the transaction ends. Records are
 * never deleted. Every function but close may be called from several
 * threads, each with its own transaction. */
typedef struct imc_dir_store_ops {
    const char *name;
    imc_status (*begin)(void *self, bool write, void **txn);
    imc_status (*get)(void *txn, imc_dir_table t, const uint8_t *key, size_t key_len,
                      const uint8_t **val, size_t *val_len); /* IMC_ERR_NOT_FOUND if absent */
    imc_status (*put)(void *txn, imc_dir_table t, const uint8_t *key, size_t key_len,
                      const uint8_t *val, size_t val_len);
    imc_status (*scan)(void *txn, imc_dir_table t, imc_dir_scan_fn fn, void *ctx);
    imc_status (*commit)(void *txn); /* ends the transaction whatever it returns */
    void (*abort)(void *txn);
    void (*close)(void *self);
} imc_dir_store_ops;

typedef struct imc_dir_store {
    const imc_dir_store_ops *ops;
    void *self;
} imc_dir_store;

/* In memory: a keyed hash index (SipHash, key drawn from b) sized for
 * expected_handles up front (0 is fine: it grows). */
IMC_MUST_USE imc_status imc_dir_store_mem_open(imc_dir_store *s, const imc_backend *b,
                                               size_t expected_handles);

typedef struct imc_dir_lmdb_options {
    size_t map_bytes; /* maximum database size; 0: 64 GiB (sparse) */
    /* Skip the fsync at each commit: a killed process still loses nothing
     * committed, a power failure may lose the last commits. Off by default. */
    bool no_sync;
    bool read_only;
} imc_dir_lmdb_options;

/* LMDB: `path` is the database file (its lock file is path + "-lock");
 * created if absent unless read_only (then IMC_ERR_NOT_FOUND). opt may be
 * NULL. The file is checked before it is mapped: an empty, truncated,
 * non-LMDB or other program's LMDB file is IMC_ERR_MALFORMED, never a new
 * directory and never a fault. IMC_ERR_IO leaves the system's reason in
 * errno (EACCES, EROFS, ...). */
IMC_MUST_USE imc_status imc_dir_store_lmdb_open(imc_dir_store *s, const char *path,
                                                const imc_dir_lmdb_options *opt);

/* Closes the store (no transaction may be open) and zeroes *s. */
void imc_dir_store_close(imc_dir_store *s);

/* ---- The service -------------------------------------------------------- */

typedef struct imc_dir_options {
    size_t max_devices_per_handle; /* 1..IMC_MAX_DEVICES_PER_HANDLE; 0: the maximum */
} imc_dir_options;

/* Caller-owned service context; fields are private. It holds the store
 * handle but does not own it. Thread-safe for concurrent calls when the
 * store is. */
typedef struct imc_dir {
    const imc_backend *b_;
    imc_dir_store store_;
    uint8_t pk_[IMC_DIR_PUBLIC_BYTES];
    uint8_t sk_[IMC_DIR_SECRET_BYTES];
    size_t max_devices_;
    imc_kt_key log_key_; /* the directory key as the log's signer: name = origin */
} imc_dir;

/* A fresh directory signing key pair (rng NULL: the backend's CSPRNG). */
IMC_MUST_USE imc_status imc_dir_keygen(const imc_backend *b, imc_rng *rng,
                                       uint8_t pk[IMC_DIR_PUBLIC_BYTES],
                                       uint8_t sk[IMC_DIR_SECRET_BYTES]);

/* Binds a service to a store and a signing key. An empty store is stamped
 * with the key's public half, the transparency log's origin ("imcore-dir/"
 * and the first 8 key bytes in hex) and the checkpoint of the empty log; a
 * store stamped with another key is refused
 * (IMC_ERR_AUTH), one of another format version is IMC_ERR_UNSUPPORTED
 * (format 2, from before the transparency log, among them). */
IMC_MUST_USE imc_status imc_dir_init(imc_dir *d, const imc_backend *b, imc_dir_store store,
                                     const uint8_t sk[IMC_DIR_SECRET_BYTES],
                                     const imc_dir_options *opt);
/* Wipes the signing key; the store stays open. */
void imc_dir_wipe(imc_dir *d);

void imc_dir_public_key(uint8_t pk[IMC_DIR_PUBLIC_BYTES], const imc_dir *d);

/* Applies a signed update and writes the handle's new signed entry (a
 * lookup response with one entry, issued at now_ms) to out. Nothing is
 * changed on any error:
 *   IMC_ERR_MALFORMED / IMC_ERR_LIMIT  does not parse
 *   IMC_ERR_STALE      the update's epoch is not the handle's epoch
 *   IMC_ERR_EXISTS     register: the device id is in use or was revoked
 *   IMC_ERR_LIMIT      register: the handle has max_devices_per_handle
 *   IMC_ERR_NOT_FOUND  rotate/revoke: no such active device in the handle
 *   IMC_ERR_AUTH       a proof signature does not verify; the new device
 *                      list is not the current one with exactly this change,
 *                      is not chained to it, or is not signed by the
 *                      account key (by both keys for an account rotation)
 *   IMC_ERR_WEAK_KEY   a new DH key is rejected by the validation policy
 *   IMC_ERR_NO_SPACE   out is too small (checked before anything changes)
 *   IMC_ERR_IO         the store failed */
IMC_MUST_USE imc_status imc_dir_update(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d,
                                       uint64_t now_ms, const uint8_t *update, size_t update_len);

/* A lookup response for one handle (in normal form); a handle never
 * registered gets a signed entry with epoch 0 and no devices. */
IMC_MUST_USE imc_status imc_dir_lookup(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d,
                                       uint64_t now_ms, const uint8_t *handle, size_t handle_len);

/* One response for 1..IMC_DIR_MAX_BATCH distinct handles, read from one
 * consistent snapshot, each entry signed on its own. */
IMC_MUST_USE imc_status imc_dir_lookup_batch(uint8_t *out, size_t out_cap, size_t *out_len,
                                             imc_dir *d, uint64_t now_ms,
                                             const imc_dir_handle *handles, size_t count);

/* Dispatches an encoded lookup request or update to the two above. */
IMC_MUST_USE imc_status imc_dir_serve(uint8_t *out, size_t out_cap, size_t *out_len, imc_dir *d,
                                      uint64_t now_ms, const uint8_t *in, size_t in_len);

/* ---- Bulk load ----------------------------------------------------------- */

/* Adds n new handles with their devices in one write transaction, without
 * proofs: for an operator restoring a directory or building a large one for
 * benchmarks, never for requests from devices. Each record counts as one
 * update (rec.epoch must be 1 and key_change IMC_DIR_KEY_NEW: a freshly
 * created account; the global epoch grows by n). Handles must be in normal
 * form and new, device ids nonzero, strictly increasing within a record,
 * unused anywhere; key bytes and the account signature are not checked. All or nothing: IMC_ERR_MALFORMED, IMC_ERR_EXISTS, IMC_ERR_LIMIT
 * or IMC_ERR_IO and no change. */
IMC_MUST_USE imc_status imc_dir_import(imc_dir *d, const imc_dir_record *recs, size_t n);

/* ---- Inspection (tests, the CLI, fuzzing invariants) -------------------- */

IMC_MUST_USE imc_status imc_dir_global_epoch(uint64_t *epoch, imc_dir *d);

/* The unsigned record of a handle (epoch 0 and no devices if absent). */
IMC_MUST_USE imc_status imc_dir_get(imc_dir_record *rec, imc_dir *d, const uint8_t *handle,
                                    size_t handle_len);

/* Calls fn for every handle record, in no particular order. */
typedef int (*imc_dir_record_fn)(void *ctx, const imc_dir_record *rec);
IMC_MUST_USE imc_status imc_dir_scan(imc_dir *d, imc_dir_record_fn fn, void *ctx);

/* SHA-256 over the whole store content, independent of store type and
 * iteration order: equal digests mean equal directories. */
IMC_MUST_USE imc_status imc_dir_digest(uint8_t out[IMC_SHA256_BYTES], imc_dir *d);

/* Checks every invariant of the stored data: the stamp; every record
 * decodes, is within the limits and lists ids in increasing order; every
 * listed device is indexed as active under its handle and every active
 * index entry is listed; every revoked entry names a handle that does not
 * list it; no handle epoch exceeds the global epoch, and the handle epochs
 * sum to it (each update adds one to both); and the transparency log
 * (docs/transparency.md, "The directory's log"): every leaf replayed from
 * the first, each the history's entry for its handle and version, chained
 * to the one before, the latest describing the stored list; the index and
 * log roots rebuilt and equal to the stored ones and to the signed
 * checkpoint. IMC_OK or IMC_ERR_IO. */
IMC_MUST_USE imc_status imc_dir_check(imc_dir *d);

#ifdef __cplusplus
}
#endif
#endif
