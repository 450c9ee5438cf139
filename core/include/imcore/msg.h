/* imcore: messages. Encrypt once, fan out per device, decrypt on a device.
 *
 *   imc_msg_encrypt   sender keys + recipient devices + body -> one envelope
 *   imc_msg_fanout    envelope -> one self-contained delivery per device
 *                     (service side: no keys, no crypto)
 *   imc_msg_decrypt   device keys + sender's public keys + delivery
 *                     -> body and the authenticated sender
 *
 * The byte layouts, the KDF inputs, the AEAD associated data and the
 * signature input are specified in docs/wire-format.md. All functions are
 * thread-safe for distinct output buffers and replay states, and do not
 * allocate. */
#ifndef IMCORE_MSG_H
#define IMCORE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/keys.h"
#include "imcore/limits.h"
#include "imcore/replay.h"
#include "imcore/rng.h"
#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMC_MSG_VERSION 2
#define IMC_MSG_KIND_ENVELOPE 0x45 /* 'E' */
#define IMC_MSG_KIND_DELIVERY 0x44 /* 'D' */
#define IMC_MSG_ID_BYTES 16
#define IMC_MSG_COMMIT_BYTES 32
#define IMC_MSG_DEVICE_ID_BYTES 8
/* A recipient's wrap is the suite's wrap_bytes (imcore/suite.h). */

/* Bytes of an envelope / a delivery for a plaintext body of body_len bytes
 * to `recipients` devices (0 if a size is out of its limits or the suite is
 * unknown). Every delivery of one envelope has the same size. */
size_t imc_msg_envelope_size(uint32_t suite, size_t handle_len, size_t recipients,
                             size_t body_len);
size_t imc_msg_delivery_size(uint32_t suite, size_t handle_len, size_t recipients,
                             size_t body_len);

/* ---- Parsed forms (views into the input bytes; nothing is copied) ------ */

typedef struct imc_msg_header {
    uint32_t suite;
    const uint8_t *sender_handle;
    size_t sender_handle_len;
    uint64_t sender_device;
    const uint8_t *message_id;  /* IMC_MSG_ID_BYTES */
    uint64_t timestamp_ms;
    const uint8_t *eph_pk;      /* suite->eph_bytes */
    const uint8_t *commitment;  /* IMC_MSG_COMMIT_BYTES */
    const uint8_t *body;        /* body ciphertext incl. tag */
    size_t body_len;
    /* The signed header bytes as they appear on the wire, from the handle
     * length through the body length (used for the AD and signature). */
    const uint8_t *signed_part;
    size_t signed_part_len;
} imc_msg_header;

/* The recipient set: every device the sender encrypted to, by strictly
 * increasing device id. Signed; carried whole in every delivery, so each
 * device can see who else received the message. */
typedef struct imc_msg_recipients {
    size_t count;
    const uint8_t *ids; /* count * IMC_MSG_DEVICE_ID_BYTES, big-endian */
} imc_msg_recipients;

/* The i-th device id of a recipient set (0, never a valid id, if i is not
 * below count). */
uint64_t imc_msg_recipient_id(const imc_msg_recipients *r, size_t i);

typedef struct imc_msg_entry {
    uint64_t device_id;
    const uint8_t *wrap; /* suite->wrap_bytes */
} imc_msg_entry;

typedef struct imc_envelope {
    imc_msg_header h;
    imc_msg_recipients rcpt;
    const uint8_t *wraps; /* rcpt.count * suite->wrap_bytes, in the order of rcpt */
    const uint8_t *sig;   /* suite->sig_bytes */
} imc_envelope;

typedef struct imc_delivery {
    imc_msg_header h;
    imc_msg_recipients rcpt;
    size_t index;        /* this delivery's device is rcpt's index-th */
    imc_msg_entry entry; /* entry.device_id = imc_msg_recipient_id(&rcpt, index) */
    const uint8_t *sig;
} imc_delivery;

/* Strict parsers (docs/wire-format.md, "Parsing rules"). No crypto.
 * IMC_ERR_LIMIT: a handle longer than IMC_MAX_HANDLE_BYTES, a body
 * ciphertext longer than IMC_MAX_BODY_BYTES + 16, more than
 * IMC_MAX_RECIPIENTS devices. IMC_ERR_MALFORMED: everything else that is
 * not exactly one message of this kind (unknown version, kind or suite,
 * short input, trailing bytes, a zero-length handle, a body ciphertext
 * shorter than its tag, zero recipients, device ids not strictly increasing
 * or zero, a delivery index not below the recipient count). Fields are
 * checked in wire order and the first violation decides the status; a
 * length or count is checked as soon as it is read. On failure the output
 * struct is zeroed. */
IMC_MUST_USE imc_status imc_msg_parse_envelope(imc_envelope *env, const uint8_t *in,
                                               size_t in_len);
IMC_MUST_USE imc_status imc_msg_parse_delivery(imc_delivery *d, const uint8_t *in,
                                               size_t in_len);
/* The i-th recipient entry of a parsed envelope; {0, NULL} if i is not
 * below rcpt.count. */
imc_msg_entry imc_msg_envelope_entry(const imc_envelope *env, size_t i);

/* Re-serialise a parsed form (canonical: parse then write gives the input).
 * Written from the fields (signed_part and a delivery's entry.device_id are
 * not read), so a test may change a field and re-serialise. IMC_ERR_ARG for
 * a form the parser would reject, IMC_ERR_NO_SPACE (nothing left in out) if
 * out_cap is too small. */
IMC_MUST_USE imc_status imc_msg_write_envelope(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_envelope *env);
IMC_MUST_USE imc_status imc_msg_write_delivery(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_delivery *d);

/* ---- Encrypt ------------------------------------------------------------ */

/* A device's own keys prepared on one backend for many messages (prepared
 * keys, docs/backends.md): its DH secret and signing key imported once.
 * Read-only once made: any number of threads may use it, with that backend
 * only. The keys it was made from must outlive it. */
typedef struct imc_msg_device {
    const imc_device_keys *keys;
    const imc_backend *backend;
    imc_prepared_key *dh_sk;
    imc_prepared_key *sig_sk;
} imc_msg_device;

/* Prepares keys on b. IMC_ERR_ARG for NULL arguments or keys of an unknown
 * suite, IMC_ERR_UNSUPPORTED if b lacks the suite, or the status of
 * imc_crypto_key_prepare; on failure *out is zeroed. */
IMC_MUST_USE imc_status imc_msg_device_prepare(imc_msg_device *out, const imc_backend *b,
                                               const imc_device_keys *keys);
/* Frees and zeroes d (NULL or zeroed: nothing). */
void imc_msg_device_free(imc_msg_device *d);

typedef struct imc_msg_send {
    const uint8_t *sender_handle;
    size_t sender_handle_len;
    const imc_device_keys *sender; /* suite of the message = sender's suite */
    const imc_device_public *recipients; /* any order: encrypt sorts by device id */
    size_t recipient_count; /* 1..IMC_MAX_RECIPIENTS, distinct device ids */
    uint64_t timestamp_ms;
    const uint8_t *body;
    size_t body_len; /* 0..IMC_MAX_BODY_BYTES */
} imc_msg_send;

/* One envelope for every recipient device, of exactly
 * imc_msg_envelope_size() bytes. rng (NULL: the backend's CSPRNG) supplies,
 * in this order, the message id, the content key and the ephemeral key.
 * Recipients may be passed in any order; the envelope lists them by
 * increasing device id. Fails without output (*out_len = 0, nothing left in
 * out): IMC_ERR_ARG for NULL or empty inputs, a recipient of another suite,
 * repeated device ids, or a body overlapping out; IMC_ERR_LIMIT for a
 * handle, body or recipient count over its limit; IMC_ERR_UNSUPPORTED if b
 * lacks the suite; IMC_ERR_NO_SPACE if out_cap is too small (checked before
 * any crypto); IMC_ERR_WEAK_KEY if a recipient's DH key is rejected by the
 * validation policy. */
IMC_MUST_USE imc_status imc_msg_encrypt(uint8_t *out, size_t out_cap, size_t *out_len,
                                        const imc_backend *b, imc_rng *rng,
                                        const imc_msg_send *req);

/* imc_msg_encrypt with the sender's keys prepared (imc_msg_device_prepare
 * from req->sender), on the backend they were prepared on: the same bytes.
 * IMC_ERR_ARG also when sender was not made from req->sender. */
IMC_MUST_USE imc_status imc_msg_encrypt_prepared(uint8_t *out, size_t out_cap, size_t *out_len,
                                                 imc_rng *rng, const imc_msg_device *sender,
                                                 const imc_msg_send *req);

/* ---- Fan-out (service side) -------------------------------------------- */

/* A delivery as five contiguous pieces, for writev-style sending without
 * copying: prefix, then the envelope's header, body and recipient set
 * (contiguous in the envelope), the device's index, its wrap, and the
 * signature. */
typedef struct imc_delivery_view {
    uint64_t device_id;
    uint8_t prefix[4]; /* version, kind = delivery, suite */
    const uint8_t *common; /* SH || body ciphertext || recipient count || ids */
    size_t common_len;
    uint8_t index[2];
    const uint8_t *wrap;
    size_t wrap_len;
    const uint8_t *sig;
    size_t sig_len;
} imc_delivery_view;

/* Splits a (strictly parsed) envelope into rcpt.count views, in the
 * envelope's order. Parse errors as imc_msg_parse_envelope. If views_cap is
 * too small: IMC_ERR_NO_SPACE with *count = the number needed (views may
 * then be NULL with views_cap 0, to ask). */
IMC_MUST_USE imc_status imc_msg_fanout(imc_delivery_view *views, size_t views_cap,
                                       size_t *count, const uint8_t *env, size_t env_len);
size_t imc_delivery_view_size(const imc_delivery_view *v);
/* Copies a view into one contiguous delivery, imc_delivery_view_size()
 * bytes: byte-identical to what imc_msg_write_delivery would produce. */
IMC_MUST_USE imc_status imc_delivery_view_copy(uint8_t *out, size_t out_cap, size_t *out_len,
                                               const imc_delivery_view *v);

/* ---- Decrypt (one device) ---------------------------------------------- */

/* Who the caller believes sent the delivery: decrypt fails unless the
 * delivery names exactly this handle and device and is signed by its key. */
typedef struct imc_msg_peer {
    const uint8_t *handle;
    size_t handle_len;
    const imc_device_public *device;
} imc_msg_peer;

typedef struct imc_msg_received {
    uint32_t suite;
    uint8_t sender_handle[IMC_MAX_HANDLE_BYTES];
    size_t sender_handle_len;
    uint64_t sender_device;
    uint8_t message_id[IMC_MSG_ID_BYTES];
    uint64_t timestamp_ms;
    size_t recipient_count; /* devices the message went to (this one included) */
    size_t body_len;
} imc_msg_received;

/* Verifies, unwraps, opens and checks time and replay; writes the body
 * (info->body_len = c - 16 bytes) to out. IMC_ERR_MALFORMED or
 * IMC_ERR_LIMIT if the delivery does not parse; IMC_ERR_NO_SPACE if
 * out_cap < c - 16 (before any crypto); IMC_ERR_AUTH for every authenticity
 * failure (wrong device, wrong sender, suite mismatch, bad signature, weak
 * ephemeral key, bad wrap, commitment or body tag). Only once the message
 * is fully authenticated: with a replay state, imc_replay_accept (its
 * statuses: IMC_ERR_STALE, IMC_ERR_EXPIRED, IMC_ERR_REPLAY, IMC_ERR_LIMIT,
 * IMC_ERR_IO; the state records the message only on success); without one
 * (replay NULL), the time rule alone with the default limits
 * (imc_replay_time_check: IMC_ERR_STALE, IMC_ERR_EXPIRED), and replays are
 * not detected. now_ms is the device's clock (ms since the Unix epoch);
 * decrypt never reads a clock itself. IMC_ERR_ARG for NULL arguments (info
 * is required; out may be NULL only with out_cap 0) or if out[0..out_cap)
 * overlaps the delivery; IMC_ERR_UNSUPPORTED if b lacks me's suite. On any
 * failure out[0..out_cap) and *info are zeroed (except when out overlaps
 * the delivery: then nothing is touched). */
IMC_MUST_USE imc_status imc_msg_decrypt(uint8_t *out, size_t out_cap, imc_msg_received *info,
                                        const imc_backend *b, const imc_device_keys *me,
                                        const imc_msg_peer *sender, imc_replay *replay,
                                        uint64_t now_ms, const uint8_t *delivery,
                                        size_t delivery_len);

/* imc_msg_decrypt with this device's keys prepared (imc_msg_device_prepare),
 * on the backend they were prepared on: the same answers. */
IMC_MUST_USE imc_status imc_msg_decrypt_prepared(uint8_t *out, size_t out_cap,
                                                 imc_msg_received *info,
                                                 const imc_msg_device *me,
                                                 const imc_msg_peer *sender,
                                                 imc_replay *replay, uint64_t now_ms,
                                                 const uint8_t *delivery, size_t delivery_len);

#ifdef __cplusplus
}
#endif
#endif
