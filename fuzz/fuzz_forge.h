/* A second, independent implementation of the message cryptography of
 * docs/wire-format.md ("Cryptography"), written from the document and
 * using only the public crypto and suite APIs (never core/src/msg), for
 * two jobs:
 *
 *   - forging: a custom mutator decodes a delivery into its fields, the
 *     content key and the plaintext (it holds every key of the fixed world),
 *     changes fields, and re-encodes it: re-wrapped, re-sealed and RE-SIGNED
 *     with the fixed sender's key, so the mutant is authentic and reaches
 *     the code after signature verification; or deliberately not (a stale
 *     signature, a commitment of another key, a wrap bound to another
 *     sender), so the checks after verification are what must catch it;
 *   - judging: fuzz_msg_expect() computes, from the bytes alone, whether a
 *     device must accept a delivery and what plaintext it must see, so a
 *     harness can compare the library's verdict against it.
 *
 * The message is held decoded (fuzz_msg): wire fields by value, at most
 * FUZZ_MSG_RCPT_MAX recipients (the mutators need no more). */
#ifndef IMCORE_FUZZ_FORGE_H
#define IMCORE_FUZZ_FORGE_H

#include "fuzz_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FUZZ_MSG_RCPT_MAX 16
#define FUZZ_MSG_WRAP_MAX 64
#define FUZZ_MSG_BODY_CT_MAX (IMC_MAX_BODY_BYTES + IMC_AEAD_TAG_BYTES)

typedef struct fuzz_msg {
    uint32_t suite;
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    size_t handle_len;
    uint64_t sender_device;
    uint8_t mid[IMC_MSG_ID_BYTES];
    uint64_t ts;
    uint8_t eph_pk[IMC_DH_PUBLIC_MAX];
    uint8_t commitment[IMC_MSG_COMMIT_BYTES];
    uint8_t body_ct[FUZZ_MSG_BODY_CT_MAX];
    size_t body_ct_len;
    size_t n;
    uint64_t ids[FUZZ_MSG_RCPT_MAX];
    uint8_t wraps[FUZZ_MSG_RCPT_MAX][FUZZ_MSG_WRAP_MAX]; /* envelope: all; delivery: [index] */
    size_t index;                                        /* delivery only */
    uint8_t sig[IMC_SIG_MAX];
} fuzz_msg;

/* Decoding (strict library parsers; IMC_ERR_LIMIT if the message has more
 * than FUZZ_MSG_RCPT_MAX recipients). */
IMC_MUST_USE imc_status fuzz_msg_from_delivery(fuzz_msg *m, const uint8_t *in, size_t len);
IMC_MUST_USE imc_status fuzz_msg_from_envelope(fuzz_msg *m, const uint8_t *in, size_t len);
/* Encoding (the library writers: ids must be increasing, index < n). */
IMC_MUST_USE imc_status fuzz_msg_to_delivery(uint8_t *out, size_t cap, size_t *len,
                                             const fuzz_msg *m);
IMC_MUST_USE imc_status fuzz_msg_to_envelope(uint8_t *out, size_t cap, size_t *len,
                                             const fuzz_msg *m);

/* The fixed world's device of a suite with this id, or NULL. */
const imc_device_keys *fuzz_world_device(uint32_t suite, uint64_t device_id);

/* sender_ctx of the doc's step 3 for a sender (handle, device id, key). */
IMC_MUST_USE imc_status fuzz_sender_ctx(uint8_t out[IMC_SHA256_BYTES], uint32_t suite,
                                        const uint8_t *handle, size_t handle_len,
                                        uint64_t device_id, const uint8_t *sig_pk);
/* The fixed sender's context in a suite. */
IMC_MUST_USE imc_status fuzz_sender_ctx_fixed(uint8_t out[IMC_SHA256_BYTES], uint32_t suite);

/* Step 2: body_key || commitment from a content key and message id. */
IMC_MUST_USE imc_status fuzz_content_keys(uint32_t suite, uint8_t body_key[IMC_AEAD_KEY_BYTES],
                                          uint8_t commitment[IMC_MSG_COMMIT_BYTES],
                                          const uint8_t ck[IMC_AEAD_KEY_BYTES],
                                          const uint8_t mid[IMC_MSG_ID_BYTES]);

/* Wrap slot i for device dev (whose id and keys are used; dev->pub.device_id
 * need not equal ids[i]): seal / open ck under the wrap key with sender_ctx. */
IMC_MUST_USE imc_status fuzz_msg_wrap(fuzz_msg *m, size_t i, const imc_device_keys *dev,
                                      const uint8_t sender_ctx[IMC_SHA256_BYTES],
                                      const uint8_t ck[IMC_AEAD_KEY_BYTES]);
IMC_MUST_USE imc_status fuzz_msg_unwrap(uint8_t ck[IMC_AEAD_KEY_BYTES], const fuzz_msg *m,
                                        size_t i, const imc_device_keys *dev,
                                        const uint8_t sender_ctx[IMC_SHA256_BYTES]);

/* Seal plain as the body under the body key of ck (AD from the header as
 * it now stands: the new body length is set first). */
IMC_MUST_USE imc_status fuzz_msg_seal_body(fuzz_msg *m, const uint8_t ck[IMC_AEAD_KEY_BYTES],
                                           const uint8_t *plain, size_t plain_len);
/* For an AES-GCM suite, a body that opens under the body keys of both ck1
 * and ck2 (GCM is not key-committing: the first ciphertext block is
 * solved so that both keys give the same tag); the plaintexts differ.
 * IMC_ERR_UNSUPPORTED for other suites and bodies under one block. */
IMC_MUST_USE imc_status fuzz_msg_seal_body_two_keys(fuzz_msg *m,
                                                    const uint8_t ck1[IMC_AEAD_KEY_BYTES],
                                                    const uint8_t ck2[IMC_AEAD_KEY_BYTES],
                                                    const uint8_t *plain, size_t plain_len);
IMC_MUST_USE imc_status fuzz_msg_open_body(uint8_t *plain, size_t cap, size_t *plain_len,
                                           const fuzz_msg *m,
                                           const uint8_t ck[IMC_AEAD_KEY_BYTES]);

/* Sign / verify the doc's signature input with a key pair (signer) or
 * public key. */
IMC_MUST_USE imc_status fuzz_msg_sign(fuzz_msg *m, const imc_device_keys *signer);
IMC_MUST_USE imc_status fuzz_msg_verify(const fuzz_msg *m, const uint8_t *sig_pk);

/* The verdict a device `me` must reach on a delivery from `peer`, steps 1-6
 * only (no replay): IMC_OK with the plaintext in plain (cap bytes), or
 * IMC_ERR_AUTH; the parse status if it does not parse. *stage tells how far
 * it got: 0 parse, 1 addressed, 2 signature, 3 wrap, 4 commitment, 5 body. */
IMC_MUST_USE imc_status fuzz_msg_expect(uint8_t *plain, size_t cap, size_t *plain_len,
                                        int *stage, const imc_device_keys *me,
                                        const imc_msg_peer *peer, const uint8_t *delivery,
                                        size_t delivery_len);

/* ---- The delivery mutator (decrypt target; shared with AFL++) ----------- */

/* Byte-level mutation the engine offers: libFuzzer's LLVMFuzzerMutate, or
 * the AFL++ library's own. Returns the new size. */
typedef size_t (*fuzz_bytes_mutator)(uint8_t *data, size_t size, size_t max_size, void *ctx);

#ifdef IMC_FUZZ_CUSTOM_MUTATOR
/* libFuzzer's byte mutator (libFuzzer builds only), and a fuzz_bytes_mutator
 * over it (fuzz_common.c). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t fuzz_libfuzzer_bytes(uint8_t *data, size_t size, size_t max_size, void *ctx);

/* Defines a target's LLVMFuzzerCustomMutator as `mutate` (one of the
 * structure-aware mutators here), or the plain byte mutator with
 * IMC_FUZZ_PLAIN_MUTATOR=1. */
#define FUZZ_CUSTOM_MUTATOR(mutate)                                                            \
    size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,               \
                                   unsigned int seed);                                         \
    size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,               \
                                   unsigned int seed)                                          \
    {                                                                                          \
        if (fuzz_plain_mutator())                                                              \
            return LLVMFuzzerMutate(data, size, max_size);                                     \
        return mutate(data, size, max_size, seed, fuzz_libfuzzer_bytes, NULL);                 \
    }
#endif

/* Structure-aware mutation of a delivery in data[0..size) (capacity
 * max_size): decode, change fields, re-encrypt and usually re-sign with the
 * fixed sender's key. Falls back to the byte mutator when the input does
 * not decode. Deterministic in seed. Returns the new size. */
size_t fuzz_mutate_delivery(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                            fuzz_bytes_mutator bytes, void *bytes_ctx);

/* Structure-aware crossover: one part of the second delivery (body
 * splice, timestamp and id, recipient set, content key) into the first,
 * re-made honestly and re-signed; a copy of the first if either does not
 * decode. Returns the size written to out. */
size_t fuzz_crossover_delivery(const uint8_t *data1, size_t size1, const uint8_t *data2,
                               size_t size2, uint8_t *out, size_t max_out_size, unsigned seed);

#ifdef __cplusplus
}
#endif
#endif
