/* Device side: signed directory updates (docs/directory-format.md, "Update").
 *
 * Every update is  version || 'U' || op || handle || epoch || body ||
 * list  followed by the device proofs the op needs, each over
 *   label(op) || directory public key || (the bytes before the proofs).
 * The list is the handle's new device list, signed by the account key. */
#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/suite.h"
#include "imcore/util.h"

/* Checks shared by every builder. */
static imc_status check_common(const imc_backend *b, const uint8_t *dir_pk,
                               const imc_dir_record *cur, const uint8_t *account_sk)
{
    if (b == NULL || dir_pk == NULL || cur == NULL || account_sk == NULL ||
        cur->device_count > IMC_MAX_DEVICES_PER_HANDLE || cur->epoch == UINT64_MAX)
        return IMC_ERR_ARG;
    if (cur->handle_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_LIMIT;
    return imc_dir_handle_valid(cur->handle, cur->handle_len) ? IMC_OK : IMC_ERR_MALFORMED;
}

static void put_head(imc_writer *w, uint8_t op, const imc_dir_record *cur)
{
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, IMC_DIR_KIND_UPDATE);
    imc_wire_write_u8(w, op);
    imc_dir_put_handle(w, cur->handle, cur->handle_len);
    imc_wire_write_u64(w, cur->epoch);
}

/* Appends list length || list, the new list signed. */
static imc_status put_list(imc_writer *w, const imc_backend *b, imc_dir_record *next,
                           const imc_dir_record *cur, uint8_t key_change, const uint8_t *sk,
                           const uint8_t *old_sk)
{
    next->epoch = cur->epoch + 1;
    imc_status st = imc_dir_list_sign(next, b, key_change, cur, sk, old_sk);
    if (st != IMC_OK)
        return st;
    uint8_t *len_at = imc_wire_write_reserve(w, 2);
    size_t n = 0;
    uint8_t *room = imc_wire_write_reserve(w, 0);
    if (len_at == NULL || room == NULL)
        return IMC_ERR_NO_SPACE;
    st = imc_dir_list_encode(room, w->cap - w->len, &n, next);
    if (st != IMC_OK)
        return st;
    len_at[0] = (uint8_t)(n >> 8);
    len_at[1] = (uint8_t)n;
    return imc_wire_write_reserve(w, n) != NULL ? IMC_OK : IMC_ERR_NO_SPACE;
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
static imc_status finish(imc_status st, imc_writer *w, uint8_t *out, size_t *out_len,
                         imc_dir_record *next)
{
    if (st == IMC_OK)
        st = imc_wire_writer_finish(w, out_len);
    if (st != IMC_OK) {
        imc_wipe(out, w->len);
        *out_len = 0;
    }
    free(next);
    return st;
}

static bool usable_device(const imc_device_keys *dev)
{
    return dev != NULL && imc_suite_get(dev->pub.suite) != NULL && dev->pub.device_id != 0;
}

/* A copy of cur to edit into the next list (heap: records are large). */
static imc_dir_record *next_of(const imc_dir_record *cur)
{
    imc_dir_record *next = malloc(sizeof *next);
    if (next != NULL)
        *next = *cur;
    return next;
}

imc_status imc_dir_sign_register(uint8_t *out, size_t out_cap, size_t *out_len,
                                 const imc_backend *b, const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                 const imc_dir_record *cur,
                                 const uint8_t account_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                                 const imc_device_keys *dev)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_status st = check_common(b, dir_pk, cur, account_sk);
    if (st != IMC_OK)
        return st;
    if (!usable_device(dev) || imc_dir_record_find(cur, dev->pub.device_id) >= 0)
        return IMC_ERR_ARG;
    if (cur->device_count >= IMC_MAX_DEVICES_PER_HANDLE)
        return IMC_ERR_LIMIT;
    imc_dir_record *next = next_of(cur);
    if (next == NULL)
        return IMC_ERR_NOMEM;
    imc_dir_record_insert(next, &dev->pub);
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_head(&w, IMC_DIR_OP_REGISTER, cur);
    imc_dir_put_device(&w, &dev->pub);
    st = put_list(&w, b, next, cur, cur->epoch == 0 ? IMC_DIR_KEY_NEW : IMC_DIR_KEY_SAME,
                  account_sk, NULL);
    if (st == IMC_OK)
        st = put_signature(&w, w.len, b, IMC_DIR_OP_REGISTER, dir_pk, dev);
    return finish(st, &w, out, out_len, next);
}

imc_status imc_dir_sign_rotate(uint8_t *out, size_t out_cap, size_t *out_len, const imc_backend *b,
                               const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                               const imc_dir_record *cur,
                               const uint8_t account_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                               const imc_device_keys *old_keys, const imc_device_keys *new_keys)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_status st = check_common(b, dir_pk, cur, account_sk);
    if (st != IMC_OK)
        return st;
    if (old_keys == NULL || !usable_device(new_keys) ||
        new_keys->pub.device_id != old_keys->pub.device_id)
        return IMC_ERR_ARG;
    long at = imc_dir_record_find(cur, new_keys->pub.device_id);
    if (at < 0)
        return IMC_ERR_NOT_FOUND;
    imc_dir_record *next = next_of(cur);
    if (next == NULL)
        return IMC_ERR_NOMEM;
    next->devices[at] = new_keys->pub;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_head(&w, IMC_DIR_OP_ROTATE, cur);
    imc_dir_put_device(&w, &new_keys->pub);
    st = put_list(&w, b, next, cur, IMC_DIR_KEY_SAME, account_sk, NULL);
    size_t signed_len = w.len;
    if (st == IMC_OK)
        st = put_signature(&w, signed_len, b, IMC_DIR_OP_ROTATE, dir_pk, old_keys);
    if (st == IMC_OK)
        st = put_signature(&w, signed_len, b, IMC_DIR_OP_ROTATE, dir_pk, new_keys);
    return finish(st, &w, out, out_len, next);
}

imc_status imc_dir_sign_revoke(uint8_t *out, size_t out_cap, size_t *out_len, const imc_backend *b,
                               const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                               const imc_dir_record *cur,
                               const uint8_t account_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                               uint64_t revoked_id)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_status st = check_common(b, dir_pk, cur, account_sk);
    if (st != IMC_OK)
        return st;
    long at = revoked_id == 0 ? -1 : imc_dir_record_find(cur, revoked_id);
    if (at < 0)
        return revoked_id == 0 ? IMC_ERR_ARG : IMC_ERR_NOT_FOUND;
    imc_dir_record *next = next_of(cur);
    if (next == NULL)
        return IMC_ERR_NOMEM;
    imc_dir_record_remove(next, (size_t)at);
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_head(&w, IMC_DIR_OP_REVOKE, cur);
    imc_wire_write_u64(&w, revoked_id);
    st = put_list(&w, b, next, cur, IMC_DIR_KEY_SAME, account_sk, NULL);
    return finish(st, &w, out, out_len, next);
}

imc_status imc_dir_sign_account_rotate(uint8_t *out, size_t out_cap, size_t *out_len,
                                       const imc_backend *b,
                                       const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                       const imc_dir_record *cur,
                                       const uint8_t old_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                                       const uint8_t new_sk[IMC_DIR_ACCOUNT_SECRET_BYTES])
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_status st = check_common(b, dir_pk, cur, new_sk);
    if (st != IMC_OK)
        return st;
    if (old_sk == NULL || cur->epoch == 0)
        return IMC_ERR_ARG;
    imc_dir_record *next = next_of(cur);
    if (next == NULL)
        return IMC_ERR_NOMEM;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_head(&w, IMC_DIR_OP_ACCOUNT_ROTATE, cur);
    st = put_list(&w, b, next, cur, IMC_DIR_KEY_ROTATED, new_sk, old_sk);
    return finish(st, &w, out, out_len, next);
}

imc_status imc_dir_sign_account_reset(uint8_t *out, size_t out_cap, size_t *out_len,
                                      const imc_backend *b,
                                      const uint8_t dir_pk[IMC_DIR_PUBLIC_BYTES],
                                      const imc_dir_record *cur,
                                      const uint8_t new_sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                                      const imc_device_keys *dev)
{
    if (out_len == NULL)
        return IMC_ERR_ARG;
    *out_len = 0;
    imc_status st = check_common(b, dir_pk, cur, new_sk);
    if (st != IMC_OK)
        return st;
    if (!usable_device(dev) || cur->epoch == 0)
        return IMC_ERR_ARG;
    imc_dir_record *next = next_of(cur);
    if (next == NULL)
        return IMC_ERR_NOMEM;
    memset(next->devices, 0, sizeof next->devices);
    next->devices[0] = dev->pub;
    next->device_count = 1;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    put_head(&w, IMC_DIR_OP_ACCOUNT_RESET, cur);
    imc_dir_put_device(&w, &dev->pub);
    st = put_list(&w, b, next, cur, IMC_DIR_KEY_NEW, new_sk, NULL);
    if (st == IMC_OK)
        st = put_signature(&w, w.len, b, IMC_DIR_OP_ACCOUNT_RESET, dir_pk, dev);
    return finish(st, &w, out, out_len, next);
}
