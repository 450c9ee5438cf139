/* Private to libimcore: what encrypt, decrypt and the codec share. Every
 * construction here is specified in docs/wire-format.md, "Cryptography". */
#ifndef IMCORE_MSG_IMPL_H
#define IMCORE_MSG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/msg.h"
#include "imcore/suite.h"
#include "imcore/wire.h"

/* The signed header SH: handle length .. body length. */
#define IMC_MSG_SH_FIXED_BYTES (1 + 8 + IMC_MSG_ID_BYTES + 8 + IMC_MSG_COMMIT_BYTES + 4)
#define IMC_MSG_SH_MAX (IMC_MSG_SH_FIXED_BYTES + IMC_MAX_HANDLE_BYTES + IMC_DH_PUBLIC_MAX)

#define IMC_MSG_LABEL_CONTENT "imcore/v2/content"
#define IMC_MSG_LABEL_SENDER "imcore/v2/sender"
#define IMC_MSG_LABEL_RECIPIENTS "imcore/v2/recipients"
#define IMC_MSG_LABEL_WRAP "imcore/v2/wrap"
#define IMC_MSG_LABEL_BODY "imcore/v2/body"
#define IMC_MSG_LABEL_SIG "imcore/v2/sig"
#define IMC_MSG_LABEL_LEN(l) (sizeof(l) - 1)

/* Body AD: "imcore/v2/body" || suite (2) || SH. */
#define IMC_MSG_BODY_AD_MAX (IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_BODY) + 2 + IMC_MSG_SH_MAX)
/* Signature input: "imcore/v2/sig" || suite (2) || SH || SHA-256(body
 * ciphertext) || recipient-set hash. */
#define IMC_MSG_SIG_INPUT_MAX \
    (IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_SIG) + 2 + IMC_MSG_SH_MAX + 2 * IMC_SHA256_BYTES)

/* The AEAD nonce: every key it is used with is used exactly once. */
extern const uint8_t imc_msg_zero_nonce[IMC_AEAD_NONCE_BYTES];

/* ---- codec.c ----------------------------------------------------------- */

/* version || kind || suite (2). */
void imc_msg_put_prefix(imc_writer *w, uint8_t kind, uint32_t suite);
/* SH from the header's fields (not from h->signed_part). */
void imc_msg_put_signed_header(imc_writer *w, const imc_msg_header *h, const imc_suite *s);

/* ---- derive.c ---------------------------------------------------------- */

/* okm = HKDF(ikm = ck, info = "imcore/v2/content" || mid, L = 64):
 * body_key = okm[0..32), commitment = okm[32..64). */
IMC_MUST_USE imc_status imc_msg_derive_content(const imc_backend *b,
                                               uint8_t body_key[IMC_AEAD_KEY_BYTES],
                                               uint8_t commitment[IMC_MSG_COMMIT_BYTES],
                                               const uint8_t ck[IMC_AEAD_KEY_BYTES],
                                               const uint8_t mid[IMC_MSG_ID_BYTES]);

/* The sender's identity, hashed once per message for every wrap:
 * SHA-256("imcore/v2/sender" || suite (2) || h (1) || handle || sender
 * device id (8) || sender signing public key). */
IMC_MUST_USE imc_status imc_msg_sender_context(uint8_t out[IMC_SHA256_BYTES],
                                               const imc_backend *b, const imc_suite *s,
                                               const uint8_t *handle, size_t handle_len,
                                               uint64_t device_id, const uint8_t *sig_pk);

/* SHA-256("imcore/v2/recipients" || n (2) || the n device ids). */
IMC_MUST_USE imc_status imc_msg_recipients_hash(uint8_t out[IMC_SHA256_BYTES],
                                                const imc_backend *b,
                                                const imc_msg_recipients *r);

/* wrap_key = HKDF(ikm = z, info = "imcore/v2/wrap" || suite (2) || epk ||
 * pk || device id (8) || mid || sender context, L = 32). */
typedef struct imc_msg_wrap_ctx {
    const imc_suite *s;
    const uint8_t *epk;
    const uint8_t *mid;
    const uint8_t *sender_ctx; /* IMC_SHA256_BYTES */
} imc_msg_wrap_ctx;

IMC_MUST_USE imc_status imc_msg_derive_wrap_key(const imc_backend *b,
                                                uint8_t wrap_key[IMC_AEAD_KEY_BYTES],
                                                const imc_msg_wrap_ctx *ctx, const uint8_t *z,
                                                const uint8_t *pk, uint64_t device_id);

/* The body AD into ad; its length, or 0 if sh_len is over IMC_MSG_SH_MAX. */
size_t imc_msg_body_ad(uint8_t ad[IMC_MSG_BODY_AD_MAX], uint32_t suite, const uint8_t *sh,
                       size_t sh_len);

/* The signature input into out (hashing the body ciphertext and the
 * recipient set). */
IMC_MUST_USE imc_status imc_msg_sig_input(uint8_t out[IMC_MSG_SIG_INPUT_MAX], size_t *out_len,
                                          const imc_backend *b, uint32_t suite,
                                          const uint8_t *sh, size_t sh_len,
                                          const uint8_t *body_ct, size_t body_ct_len,
                                          const imc_msg_recipients *rcpt);

#endif
