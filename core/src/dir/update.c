/* Device side: signed directory updates (docs/directory-format.md, "Update").
 *
 * Every update is  version || 'U' || op || handle || epoch || body  followed
 * by one or two length-prefixed signatures over
 *   label(op) || directory public key || (the bytes before the signatures). */
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/suite.h"
#include "imcore/util.h"

/* Checks shared by every builder. */
static imc_status check_common(const imc_backend *b, const uint8_t *dir_pk, const uint8_t *handle,
                               size_t handle_len)
{
    if (b == NULL || dir_pk == NULL || (handle == NULL && handle_len != 0))
        return IMC_ERR_ARG;
    if (handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_LIMIT;
    return imc_dir_handle_valid(handle, handle_len) ? IMC_OK : IMC_ERR_MALFORMED;
}

static void put_head(imc_writer *w, uint8_t op, const uint8_t *handle, size_t handle_len,
                     uint64_t epoch)
{
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, IMC_DIR_KIND_UPDATE);
    imc_wire_write_u8(w, op);
    imc_dir_put_handle(w, handle, handle_len);
    imc_wire_write_u64(w, epoch);
}

/* Appends sig_len || Sign(signer, label || dir_pk || w's bytes up to
 * `signed_len`). */
static imc_status put_signature(imc_writer *w, size_t signed_len, const imc_backend *b, uint8_t op,
                                const uint8_t *dir_pk, const imc_device_keys *signer)
{
    const imc_suite *s = imc_suite_get(signer->pub.suite);
    if (s == NULL)
        return IMC_ERR_ARG;
    if (w->err)
        return IMC_ERR_NO_SPACE;
    uint8_t input[IMC_DIR_UPDATE_SIGN_MAX];
    size_t input_len = imc_dir_sign_input(input, sizeof input, imc_dir_update_label(op), dir_pk,
                                          IMC_DIR_PUBLIC_BYTES, w->buf, signed_len);
    if (input_len == 0)
        return IMC_ERR_ARG;
    uint8_t sig[IMC_SIG_MAX];
    imc_status st = imc_suite_sign(s, b, sig, signer->sig_sk, signer->pub.sig_pk, input, input_len);
    if (st == IMC_OK) {
        imc_wire_write_u8(w, (uint8_t)s->sig_bytes);
        imc_wire_write_bytes(w, sig, s->sig_bytes);
    }
    return st;
}

/* Finishes an update: on any failure nothing of it is left in out. */
static imc_status finish(imc_status st, imc_writer *w, uint8_t *out, size_t *out_len)
{
    if (st == IMC_OK)
        st = imc_wire_writer_finish(w, out_len);
    if (st != IMC_OK) {
        imc_wipe(out, w->len);
        *out_len = 0;
    }
    return st;
}

imc_status imc_dir_sign_register(uint8_t *out, size_t out_cap, size_t *out_len,
                                 const imc_backend *b, const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                 const uint8_t *handle, size_t handle_len, uint64_t epoch,
                                 const imc_device_keys *dev)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_status st = check_common(b, dir_pk, handle, handle_len);
    if (st != IMC_OK)
        return st;
    if (dev == NULL || imc_suite_get(dev->pub.suite) == NULL || dev->pub.device_id == 0)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_head(&w, IMC_DIR_OP_REGISTER, handle, handle_len, epoch);
    imc_dir_put_device(&w, &dev->pub);
    st = put_signature(&w, w.len, b, IMC_DIR_OP_REGISTER, dir_pk, dev);
    return finish(st, &w, out, out_len);
}

imc_status imc_dir_sign_rotate(uint8_t *out, size_t out_cap, size_t *out_len, const imc_backend *b,
                               const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES], const uint8_t *handle,
                               size_t handle_len, uint64_t epoch, const imc_device_keys *old_keys,
                               const imc_device_keys *new_keys)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_status st = check_common(b, dir_pk, handle, handle_len);
    if (st != IMC_OK)
        return st;
    if (old_keys == NULL || new_keys == NULL || imc_suite_get(new_keys->pub.suite) == NULL ||
        new_keys->pub.device_id == 0 || new_keys->pub.device_id != old_keys->pub.device_id)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_head(&w, IMC_DIR_OP_ROTATE, handle, handle_len, epoch);
    imc_dir_put_device(&w, &new_keys->pub);
    size_t signed_len = w.len;
    st = put_signature(&w, signed_len, b, IMC_DIR_OP_ROTATE, dir_pk, old_keys);
    if (st == IMC_OK)
        st = put_signature(&w, signed_len, b, IMC_DIR_OP_ROTATE, dir_pk, new_keys);
    return finish(st, &w, out, out_len);
}

imc_status imc_dir_sign_revoke(uint8_t *out, size_t out_cap, size_t *out_len, const imc_backend *b,
                               const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES], const uint8_t *handle,
                               size_t handle_len, uint64_t epoch, uint64_t revoked_id,
                               const imc_device_keys *signer)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_status st = check_common(b, dir_pk, handle, handle_len);
    if (st != IMC_OK)
        return st;
    if (signer == NULL || revoked_id == 0 || signer->pub.device_id == 0)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_head(&w, IMC_DIR_OP_REVOKE, handle, handle_len, epoch);
    imc_wire_write_u64(&w, revoked_id);
    imc_wire_write_u64(&w, signer->pub.device_id);
    st = put_signature(&w, w.len, b, IMC_DIR_OP_REVOKE, dir_pk, signer);
    return finish(st, &w, out, out_len);
}
