/* The cost recipe of the message paths (imcore/recipe.h).
 *
 * Every length below is written with the constants the paths themselves
 * use (msg_impl.h, imcore/msg.h, the suite table), following the
 * constructions of docs/wire-format.md, "Cryptography"; a change to the
 * message format changes this file and nothing in the benchmarks.
 * test_msg_recipe runs encrypt and decrypt through a backend that records
 * every call and checks that the two agree. */
#include "imcore/recipe.h"

#include "imcore/limits.h"
#include "imcore/msg.h"
#include "imcore/suite.h"
#include "msg/msg_impl.h"

imc_status imc_msg_layout_of(imc_msg_layout *out, uint32_t suite, size_t handle_len,
                             size_t devices)
{
    const imc_suite *s = imc_suite_get(suite);
    if (out == NULL || s == NULL)
        return IMC_ERR_ARG;
    if (handle_len == 0 || handle_len > IMC_MAX_HANDLE_BYTES || devices == 0 ||
        devices > IMC_MAX_RECIPIENTS)
        return IMC_ERR_LIMIT;
    /* handle length .. body length, with the ephemeral key */
    const size_t sh = IMC_MSG_SH_FIXED_BYTES + handle_len + s->eph_bytes;
    out->signed_header = sh;
    /* "imcore/v2/body" || suite (2) || SH */
    out->body_ad = IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_BODY) + 2 + sh;
    /* "imcore/v2/sig" || suite (2) || SH || SHA-256(body ciphertext) ||
     * recipient-set hash */
    out->sig_input = IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_SIG) + 2 + sh + 2 * IMC_SHA256_BYTES;
    /* "imcore/v2/content" || mid -> body key || commitment */
    out->content_info = IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_CONTENT) + IMC_MSG_ID_BYTES;
    out->content_okm = IMC_AEAD_KEY_BYTES + IMC_MSG_COMMIT_BYTES;
    /* "imcore/v2/sender" || suite (2) || h (1) || handle || device id (8) ||
     * signing public key */
    out->sender_ctx_input = IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_SENDER) + 2 + 1 + handle_len +
                            IMC_MSG_DEVICE_ID_BYTES + s->sig_public_bytes;
    /* "imcore/v2/recipients" || n (2) || the n device ids */
    out->recipients_input =
        IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_RECIPIENTS) + 2 + devices * IMC_MSG_DEVICE_ID_BYTES;
    /* "imcore/v2/wrap" || suite (2) || epk || pk || device id (8) || mid ||
     * sender context */
    out->wrap_info = IMC_MSG_LABEL_LEN(IMC_MSG_LABEL_WRAP) + 2 + s->eph_bytes +
                     s->dh_public_bytes + IMC_MSG_DEVICE_ID_BYTES + IMC_MSG_ID_BYTES +
                     IMC_SHA256_BYTES;
    out->wrap_key = IMC_AEAD_KEY_BYTES;
    out->wrapped = s->wrap_bytes - s->enc_bytes - IMC_AEAD_TAG_BYTES;
    out->body_tag = IMC_AEAD_TAG_BYTES;
    return IMC_OK;
}

static void step(imc_recipe_step *steps, size_t *n, imc_prim prim, size_t count, size_t len,
                 size_t aux)
{
    steps[*n].prim = prim;
    steps[*n].count = count;
    steps[*n].len = len;
    steps[*n].aux = aux;
    (*n)++;
}

imc_status imc_msg_recipe(imc_recipe_step steps[IMC_RECIPE_MAX_STEPS], size_t *count,
                          imc_msg_path path, uint32_t suite, size_t handle_len, size_t devices,
                          size_t body_len)
{
    if (count == NULL)
        return IMC_ERR_ARG;
    *count = 0;
    if (steps == NULL || (path != IMC_MSG_PATH_ENCRYPT && path != IMC_MSG_PATH_DECRYPT))
        return IMC_ERR_ARG;
    imc_msg_layout l;
    imc_status st = imc_msg_layout_of(&l, suite, handle_len, devices);
    if (st != IMC_OK)
        return st;
    if (body_len > IMC_MAX_BODY_BYTES)
        return IMC_ERR_LIMIT;
    const size_t body_ct = body_len + l.body_tag;
    size_t n = 0;
    if (path == IMC_MSG_PATH_ENCRYPT) {
        /* Sender: ephemeral key, content keys, sender context, body, one
         * wrap per device, signature over the hashed body ciphertext and
         * recipient set. */
        step(steps, &n, IMC_PRIM_DH_KEYGEN, 1, 0, 0);
        step(steps, &n, IMC_PRIM_HKDF_SHA256, 1, l.content_okm, l.content_info);
        step(steps, &n, IMC_PRIM_SHA256, 1, l.sender_ctx_input, 0);
        step(steps, &n, IMC_PRIM_AEAD_SEAL, 1, body_len, l.body_ad);
        /* For more than one device the ephemeral secret is prepared once
         * (imcore/crypto.h prepared keys) and every DH uses it. Preparing
         * is not free on every backend (Botan computes the public key when
         * it loads a secret), so it is a step of its own. */
        if (devices > 1)
            step(steps, &n, IMC_PRIM_DH_PREPARE, 1, 0, 0);
        step(steps, &n, IMC_PRIM_DH, devices, 0, devices > 1);
        step(steps, &n, IMC_PRIM_HKDF_SHA256, devices, l.wrap_key, l.wrap_info);
        step(steps, &n, IMC_PRIM_AEAD_SEAL, devices, l.wrapped, 0);
        step(steps, &n, IMC_PRIM_SHA256, 1, body_ct, 0);
        step(steps, &n, IMC_PRIM_SHA256, 1, l.recipients_input, 0);
        step(steps, &n, IMC_PRIM_SIGN, 1, l.sig_input, 0);
    } else {
        /* Recipient: the signature first, then the device's wrap (bound to
         * the expected sender), the content keys and the body. */
        step(steps, &n, IMC_PRIM_SHA256, 1, body_ct, 0);
        step(steps, &n, IMC_PRIM_SHA256, 1, l.recipients_input, 0);
        step(steps, &n, IMC_PRIM_VERIFY, 1, l.sig_input, 0);
        step(steps, &n, IMC_PRIM_SHA256, 1, l.sender_ctx_input, 0);
        step(steps, &n, IMC_PRIM_DH, 1, 0, 0);
        step(steps, &n, IMC_PRIM_HKDF_SHA256, 1, l.wrap_key, l.wrap_info);
        step(steps, &n, IMC_PRIM_AEAD_OPEN, 1, l.wrapped, 0);
        step(steps, &n, IMC_PRIM_HKDF_SHA256, 1, l.content_okm, l.content_info);
        step(steps, &n, IMC_PRIM_AEAD_OPEN, 1, body_len, l.body_ad);
    }
    *count = n;
    return IMC_OK;
}
