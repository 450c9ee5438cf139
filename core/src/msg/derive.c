/* The key derivations, the body AD and the signature input, shared by
 * encrypt and decrypt so that both sides build the same bytes
 * (docs/wire-format.md, "Cryptography"). */
#include <string.h>

#include "imcore/util.h"
#include "msg/msg_impl.h"

const uint8_t imc_msg_zero_nonce[IMC_AEAD_NONCE_BYTES] = {0};

#define CONTENT_INFO_BYTES (IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_CONTENT) + IMC_MSG_ID_BYTES)
#define WRAP_INFO_MAX \
    (IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_WRAP) + 2 + 2 * IMC_DH_PUBLIC_MAX + 8 + IMC_MSG_ID_BYTES)

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

imc_status imc_msg_derive_wrap_key(const imc_backend *b, const imc_suite *s,
                                   uint8_t wrap_key[IMC_AEAD_KEY_BYTES], const uint8_t *z,
                                   const uint8_t *epk, const uint8_t *pk, uint64_t device_id,
                                   const uint8_t mid[IMC_MSG_ID_BYTES])
{
    uint8_t info[WRAP_INFO_MAX];
    imc_writer w;
    imc_wire_writer_init(&w, info, sizeof info);
    PUT_LABEL(&w, IMC_MSG_LABEL_WRAP);
    imc_wire_write_u16(&w, (uint16_t)s->id);
    imc_wire_write_bytes(&w, epk, s->dh_public_bytes);
    imc_wire_write_bytes(&w, pk, s->dh_public_bytes);
    imc_wire_write_u64(&w, device_id);
    imc_wire_write_bytes(&w, mid, IMC_MSG_ID_BYTES);
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
                             size_t sh_len, const uint8_t *body_ct, size_t body_ct_len)
{
    uint8_t digest[IMC_SHA256_BYTES];
    imc_status st = imc_crypto_sha256(b, digest, body_ct, body_ct_len);
    imc_writer w;
    imc_wire_writer_init(&w, out, IMC_MSG_SIG_INPUT_MAX);
    PUT_LABEL(&w, IMC_MSG_LABEL_SIG);
    imc_wire_write_u16(&w, (uint16_t)suite);
    imc_wire_write_bytes(&w, sh, sh_len);
    imc_wire_write_bytes(&w, digest, sizeof digest);
    if (st == IMC_OK)
        st = imc_wire_writer_finish(&w, out_len);
    else
        *out_len = 0;
    return st == IMC_ERR_NO_SPACE ? IMC_ERR_ARG : st;
}
