/* Private to libimcore: what the directory's codec, service, stores and
 * client cache share. The layouts are specified in
 * docs/directory-format.md. */
#ifndef IMCORE_DIR_IMPL_H
#define IMCORE_DIR_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/dir.h"
#include "imcore/wire.h"

#define IMC_DIR_LABEL_ENTRY "imcore/v2/dir-entry"
#define IMC_DIR_LABEL_REGISTER "imcore/v2/dir-register"
#define IMC_DIR_LABEL_ROTATE "imcore/v2/dir-rotate"
#define IMC_DIR_LABEL_RESET "imcore/v2/dir-reset"
#define IMC_DIR_LABEL_LIST "imcore/v2/dir-list"
#define IMC_DIR_LABEL_LIST_ROTATE "imcore/v2/dir-list-rotate"
#define IMC_DIR_LABEL_LEN(l) (sizeof(l) - 1)
#define IMC_DIR_LABEL_MAX 26

/* Signature inputs: label || entry body, and label || directory key ||
 * update signed part. */
#define IMC_DIR_ENTRY_SIGN_MAX (IMC_DIR_LABEL_MAX + IMC_DIR_ENTRY_MAX_BYTES)
#define IMC_DIR_UPDATE_SIGN_MAX                                                                    \
    (IMC_DIR_LABEL_MAX + IMC_DIR_PUBLIC_BYTES + IMC_DIR_UPDATE_MAX_BYTES)

/* Stored values (docs/directory.md, "Storage"). */
#define IMC_DIR_RECORD_FORMAT 2
#define IMC_DIR_STORE_FORMAT 3 /* 2: before the transparency log (refused) */
#define IMC_DIR_DEVICE_ACTIVE 1
#define IMC_DIR_DEVICE_REVOKED 2
#define IMC_DIR_RECORD_MAX_BYTES (1 + 8 + 2 + IMC_DIR_LIST_MAX_BYTES)
#define IMC_DIR_LIST_SIGN_MAX (IMC_DIR_LABEL_MAX + IMC_DIR_LIST_MAX_BYTES)
#define IMC_DIR_DEVREC_MAX_BYTES (1 + 1 + IMC_MAX_HANDLE_BYTES)
#define IMC_DIR_META_FORMAT "format"
#define IMC_DIR_META_PK "pk"
#define IMC_DIR_META_EPOCH "epoch"
#define IMC_DIR_META_KT_ORIGIN "kt_origin" /* the log's origin */
#define IMC_DIR_META_KT_NOTE "kt_note"     /* the signed checkpoint of the current epoch */

/* ---- codec.c ----------------------------------------------------------- */

void imc_dir_put_handle(imc_writer *w, const uint8_t *h, size_t len);
void imc_dir_put_device(imc_writer *w, const imc_device_public *d);
/* Reads a device record; fails the reader on an unknown suite or id 0. */
void imc_dir_read_device(imc_reader *r, imc_device_public *d);

/* Field readers shared by the parsers (codec.c, kt_codec.c). A reader that
 * meets a value the format does not allow records why (the first violation
 * wins) and fails the reader. */
void imc_dir_reject(imc_reader *r, imc_status *why, imc_status st);
/* version || kind, which must be IMC_DIR_VERSION and `kind`. */
void imc_dir_read_prefix(imc_reader *r, imc_status *why, uint8_t kind);
/* A handle: length 1..255, in normal form. */
void imc_dir_read_handle(imc_reader *r, imc_status *why, imc_dir_handle *h);
/* One signed entry of a lookup response (body || signature). */
void imc_dir_read_entry(imc_reader *r, imc_status *why, imc_dir_entry *e);
/* A batch count: 0 is malformed, over IMC_DIR_MAX_BATCH a limit. */
void imc_dir_read_batch_count(imc_reader *r, imc_status *why, size_t *count);
int imc_dir_handles_distinct(const imc_dir_handle *h, size_t n);
/* why if set, else whether the reader consumed everything without error. */
IMC_MUST_USE imc_status imc_dir_parse_status(const imc_reader *r, imc_status why);

/* 1 if the two public records are the same (suite, id and both keys). */
int imc_dir_device_equal(const imc_device_public *a, const imc_device_public *b);

/* The label of an update op, or NULL. */
const char *imc_dir_update_label(uint8_t op);

/* Entry body: handle || epoch || global epoch || issued || list length ||
 * list. `tail` is list length || list exactly as in a stored record after
 * its format byte and epoch. */
void imc_dir_put_entry_body(imc_writer *w, const uint8_t *handle, size_t handle_len, uint64_t epoch,
                            uint64_t global_epoch, uint64_t issued_ms, const uint8_t *tail,
                            size_t tail_len);

/* Stored handle record: format || epoch || list length (2) || list. decode
 * checks everything the wire parser checks; failure is IMC_ERR_IO (corrupt
 * store). encode writes the list from the record's fields. */
IMC_MUST_USE imc_status imc_dir_encode_record(uint8_t *out, size_t out_cap, size_t *out_len,
                                              const imc_dir_record *rec);
IMC_MUST_USE imc_status imc_dir_decode_record(imc_dir_record *rec, const uint8_t *handle,
                                              size_t handle_len, const uint8_t *val,
                                              size_t val_len);
/* Structure check of a stored record without decoding its list; on success
 * the epoch and where list length || list start. */
IMC_MUST_USE imc_status imc_dir_record_tail(uint64_t *epoch, size_t *tail_off, const uint8_t *val,
                                            size_t val_len);

/* Stored device index value: state || handle length || handle. */
IMC_MUST_USE imc_status imc_dir_decode_devrec(uint8_t *state, imc_dir_handle *handle,
                                              const uint8_t *val, size_t val_len);

void imc_dir_store_be64(uint8_t out[8], uint64_t v);
uint64_t imc_dir_load_be64(const uint8_t in[8]);

/* The signature input label || prefix || body into buf (cap
 * IMC_DIR_UPDATE_SIGN_MAX or IMC_DIR_ENTRY_SIGN_MAX); its length, or 0 if
 * it does not fit. */
size_t imc_dir_sign_input(uint8_t *buf, size_t cap, const char *label, const uint8_t *prefix,
                          size_t prefix_len, const uint8_t *body, size_t body_len);

/* ---- The persistent client's contact value (cache.c; directory-format.md,
 * "Client state file") ---------------------------------------------------- */

#define IMC_DIR_CONTACT_FORMAT 1
#define IMC_DIR_CONTACT_HEAD (1 + IMC_DIR_ACCOUNT_PUBLIC_BYTES + 8 + 8 + 2)
#define IMC_DIR_CONTACT_MAX_BYTES (IMC_DIR_CONTACT_HEAD + IMC_DIR_LIST_MAX_BYTES)

/* A contact: the pinned account key (zero: no account), the highest global
 * epoch and the issue time of its entry, and its record (the verified
 * list; epoch 0 and just the handle if none). */
typedef struct imc_dir_contact {
    uint8_t pinned[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
    uint64_t global_epoch;
    uint64_t issued_ms;
    imc_dir_record rec;
} imc_dir_contact;

IMC_MUST_USE imc_status imc_dir_encode_contact(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_dir_contact *c);
/* Strict: anything out of place is IMC_ERR_IO (a corrupt state file); the
 * key is the handle. */
IMC_MUST_USE imc_status imc_dir_decode_contact(imc_dir_contact *c, const uint8_t *key,
                                               size_t key_len, const uint8_t *val,
                                               size_t val_len);

/* ---- Sorted device lists (shared by the service and the cache) --------- */

/* Index of device id in the record's sorted list, or -1. */
long imc_dir_record_find(const imc_dir_record *rec, uint64_t device_id);

/* Inserts d in id order (the caller checked there is room and the id is
 * not listed); removes the device at index `at`. */
void imc_dir_record_insert(imc_dir_record *rec, const imc_device_public *d);
void imc_dir_record_remove(imc_dir_record *rec, size_t at);

/* 1 if both records list the same devices (suite, id, keys) in order. */
int imc_dir_devices_equal(const imc_dir_record *a, const imc_dir_record *b);

/* Reads list length (2) || list into rec (rec->handle / epoch from the
 * list); fails the reader and sets *why on any rule of the list format. A
 * zero length leaves rec at epoch 0. Sets *bytes / *len to the list. */
void imc_dir_read_list(imc_reader *r, imc_status *why, imc_dir_record *rec, const uint8_t **bytes,
                       size_t *len);

/* ---- service.c: store access shared with kt_service.c ------------------- */

/* 1 if d was initialised (a backend and a store). */
int imc_dir_ready(const imc_dir *d);
IMC_MUST_USE imc_status imc_dir_get_global(const imc_dir *d, void *txn, uint64_t *epoch);
/* The handle's record, or an empty one at epoch 0 if never registered. */
IMC_MUST_USE imc_status imc_dir_load_record(const imc_dir *d, void *txn, imc_dir_record *rec,
                                            const uint8_t *handle, size_t handle_len);
/* The handle's epoch (0 if never registered), without decoding its list. */
IMC_MUST_USE imc_status imc_dir_handle_epoch(uint64_t *epoch, const imc_dir *d, void *txn,
                                             const uint8_t *handle, size_t handle_len);
/* Appends the handle's signed lookup entry at `global` to w; *epoch
 * receives the handle's epoch. */
IMC_MUST_USE imc_status imc_dir_put_lookup_entry(imc_writer *w, const imc_dir *d, void *txn,
                                                 uint64_t global, uint64_t now_ms,
                                                 const imc_dir_handle *h, uint64_t *epoch);

/* ---- kt_service.c: the transparency log over the directory's store ----- */

/* An imc_kt_store over the directory's open transaction (the kt tables are
 * IMC_DIR_TABLE_KT_META.. in imc_kt_table order). */
typedef struct imc_dir_kt_ctx {
    const imc_dir *d;
    void *txn;
} imc_dir_kt_ctx;
imc_kt_store imc_dir_kt_store(imc_dir_kt_ctx *ctx, const imc_dir *d, void *txn);

/* Appends the leaf of the handle's new record `next` (chained to the leaf
 * of its previous version), sets its index value and history; the leaf's
 * position must be `position` (the global epoch before the update). */
IMC_MUST_USE imc_status imc_dir_kt_append(const imc_dir *d, void *txn, const imc_dir_record *next,
                                          uint64_t position);
/* Signs and stores the checkpoint of the log as it stands in txn, at epoch. */
IMC_MUST_USE imc_status imc_dir_kt_publish(const imc_dir *d, void *txn, uint64_t epoch);
/* A new store: sets d's log key from origin (NULL: the default), stores the
 * origin and the checkpoint of the empty log. */
IMC_MUST_USE imc_status imc_dir_kt_stamp(imc_dir *d, void *txn, const char *origin);
/* An existing store: d's log key from the stored origin (want, if not NULL,
 * must be it: else IMC_ERR_AUTH). */
IMC_MUST_USE imc_status imc_dir_kt_load_origin(imc_dir *d, void *txn, const char *want);
/* Replays the whole log against the directory (docs/transparency.md). */
IMC_MUST_USE imc_status imc_dir_kt_check(const imc_dir *d, void *txn, uint64_t global);

#endif
