/* The key derivations, the body AD and the signature input, shared by
 * encrypt and decrypt so that both sides build the same bytes
 * (docs/wire-format.md, "Cryptography"). */
#include <string.h>

#include "imcore/util.h"
#include "msg/msg_impl.h"

const uint8_t imc_msg_zero_nonce[IMC_AEAD_NONCE_BYTES] = {0};

#define CONTENT_INFO_BYTES (IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_CONTENT) + IMC_MSG_ID_BYTES)
#define WRAP_INFO_MAX                                                                      \
    (IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_WRAP) + 2 + 2 * IMC_DH_PUBLIC_MAX + 8 + IMC_MSG_ID_BYTES + \
     IMC_SHA256_BYTES)
#define SENDER_CTX_MAX \
    (IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_SENDER) + 2 + 1 + IMC_MAX_HANDLE_BYTES + 8 + IMC_SIG_PUBLIC_MAX)

static void put_label(imc_writer *w, const char *label, size_t len)
{
    imc_wire_write_bytes(w, (const uint8_t *)label, len);
}

#define PUT_LABEL(w, l) put_label((w), (l), IMC_MSG_LABEL_LEN(l))

imc_status imc_msg_derive_content(const imc_backend *b, uint8_t body_key[IMC_AEAD_KEY_BYTES],
                                  uint8_t commitment[IMC_MSG_COMMIT_BYTES],
                                  const uint8_t ck[IMC_AEAD_KEY_BYTES],
                                  const uint8_t mid[IMC_MSG_ID_BYTES])
{
    uint8_t info[CONTENT_INFO_BYTES];
    uint8_t okm[IMC_AEAD_KEY_BYTES + IMC_MSG_COMMIT_BYTES];
    imc_writer w;
    imc_wire_writer_init(&w, info, sizeof info);
    PUT_LABEL(&w, IMC_MSG_LABEL_CONTENT);
    imc_wire_write_bytes(&w, mid, IMC_MSG_ID_BYTES);
    size_t info_len = 0;
    imc_status st = imc_wire_writer_finish(&w, &info_len);
    if (st == IMC_OK)
        st = imc_crypto_hkdf_sha256(b, okm, sizeof okm, NULL, 0, ck, IMC_AEAD_KEY_BYTES, info,
                                    info_len);
    if (st == IMC_OK) {
        memcpy(body_key, okm, IMC_AEAD_KEY_BYTES);
        memcpy(commitment, okm + IMC_AEAD_KEY_BYTES, IMC_MSG_COMMIT_BYTES);
    } else {
        imc_wipe(body_key, IMC_AEAD_KEY_BYTES);
        imc_wipe(commitment, IMC_MSG_COMMIT_BYTES);
    }
    imc_wipe(okm, sizeof okm);
    return st;
}

/* SHA-256 of what w holds, or the writer's error. */
static imc_status hash_written(uint8_t out[IMC_SHA256_BYTES], const imc_backend *b, imc_writer *w)
{
    size_t len = 0;
    imc_status st = imc_wire_writer_finish(w, &len);
    if (st == IMC_OK)
        st = imc_crypto_sha256(b, out, w->buf, len);
    return st == IMC_ERR_NO_SPACE ? IMC_ERR_ARG : st;
}

imc_status imc_msg_sender_context(uint8_t out[IMC_SHA256_BYTES], const imc_backend *b,
                                  const imc_suite *s, const uint8_t *handle, size_t handle_len,
                                  uint64_t device_id, const uint8_t *sig_pk)
{
    uint8_t in[SENDER_CTX_MAX];
    imc_writer w;
    imc_wire_writer_init(&w, in, sizeof in);
    PUT_LABEL(&w, IMC_MSG_LABEL_SENDER);
    imc_wire_write_u16(&w, (uint16_t)s->id);
    imc_wire_write_u8(&w, (uint8_t)handle_len);
    imc_wire_write_bytes(&w, handle, handle_len);
    imc_wire_write_u64(&w, device_id);
    imc_wire_write_bytes(&w, sig_pk, s->sig_public_bytes);
    return handle_len <= IMC_MAX_HANDLE_BYTES ? hash_written(out, b, &w) : IMC_ERR_ARG;
}

imc_status imc_msg_recipients_hash(uint8_t out[IMC_SHA256_BYTES], const imc_backend *b,
                                   const imc_msg_recipients *r)
{
    /* Hashed in one call from a stack copy: 8 KiB at the 1024-device
     * limit, and the crypto layer has no incremental SHA-256. */
    uint8_t in[IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_RECIPIENTS) + 2 +
               IMC_MAX_RECIPIENTS * IMC_MSG_DEVICE_ID_BYTES];
    imc_writer w;
    imc_wire_writer_init(&w, in, sizeof in);
    PUT_LABEL(&w, IMC_MSG_LABEL_RECIPIENTS);
    imc_wire_write_u16(&w, (uint16_t)r->count);
    imc_wire_write_bytes(&w, r->ids, r->count * IMC_MSG_DEVICE_ID_BYTES);
    return r->count <= IMC_MAX_RECIPIENTS ? hash_written(out, b, &w) : IMC_ERR_ARG;
}

imc_status imc_msg_derive_wrap_key(const imc_backend *b, uint8_t wrap_key[IMC_AEAD_KEY_BYTES],
                                   const imc_msg_wrap_ctx *ctx, const uint8_t *z,
                                   const uint8_t *pk, uint64_t device_id)
{
    const imc_suite *s = ctx->s;
    uint8_t info[WRAP_INFO_MAX];
    imc_writer w;
    imc_wire_writer_init(&w, info, sizeof info);
    PUT_LABEL(&w, IMC_MSG_LABEL_WRAP);
    imc_wire_write_u16(&w, (uint16_t)s->id);
    imc_wire_write_bytes(&w, ctx->epk, s->eph_bytes);
    imc_wire_write_bytes(&w, pk, s->dh_public_bytes);
    imc_wire_write_u64(&w, device_id);
    imc_wire_write_bytes(&w, ctx->mid, IMC_MSG_ID_BYTES);
    imc_wire_write_bytes(&w, ctx->sender_ctx, IMC_SHA256_BYTES);
    size_t info_len = 0;
    imc_status st = imc_wire_writer_finish(&w, &info_len);
    if (st == IMC_OK)
        st = imc_crypto_hkdf_sha256(b, wrap_key, IMC_AEAD_KEY_BYTES, NULL, 0, z,
                                    s->dh_shared_bytes, info, info_len);
    if (st != IMC_OK)
        imc_wipe(wrap_key, IMC_AEAD_KEY_BYTES);
    return st;
}

size_t imc_msg_body_ad(uint8_t ad[IMC_MSG_BODY_AD_MAX], uint32_t suite, const uint8_t *sh,
                       size_t sh_len)
{
    imc_writer w;
    imc_wire_writer_init(&w, ad, IMC_MSG_BODY_AD_MAX);
    PUT_LABEL(&w, IMC_MSG_LABEL_BODY);
    imc_wire_write_u16(&w, (uint16_t)suite);
    imc_wire_write_bytes(&w, sh, sh_len);
    size_t len = 0;
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

imc_status imc_msg_sig_input(uint8_t out[IMC_MSG_SIG_INPUT_MAX], size_t *out_len,
                             const imc_backend *b, uint32_t suite, const uint8_t *sh,
                             size_t sh_len, const uint8_t *body_ct, size_t body_ct_len,
                             const imc_msg_recipients *rcpt)
{
    uint8_t body_digest[IMC_SHA256_BYTES];
    uint8_t rcpt_digest[IMC_SHA256_BYTES];
    imc_status st = imc_crypto_sha256(b, body_digest, body_ct, body_ct_len);
    if (st == IMC_OK)
        st = imc_msg_recipients_hash(rcpt_digest, b, rcpt);
    imc_writer w;
    imc_wire_writer_init(&w, out, IMC_MSG_SIG_INPUT_MAX);
    PUT_LABEL(&w, IMC_MSG_LABEL_SIG);
    imc_wire_write_u16(&w, (uint16_t)suite);
    imc_wire_write_bytes(&w, sh, sh_len);
    imc_wire_write_bytes(&w, body_digest, sizeof body_digest);
    imc_wire_write_bytes(&w, rcpt_digest, sizeof rcpt_digest);
    if (st == IMC_OK)
        st = imc_wire_writer_finish(&w, out_len);
    else
        *out_len = 0;
    return st == IMC_ERR_NO_SPACE ? IMC_ERR_ARG : st;
}
