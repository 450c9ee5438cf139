/* imc_msg_decrypt: one delivery on one device (docs/wire-format.md,
 * "Cryptography", recipient steps 1-7).
 *
 * After the strict parse, every check up to and including the body tag
 * fails with the same IMC_ERR_AUTH, whatever the cause. The time rule and
 * the replay state are consulted only once the message is fully
 * authenticated, and the state records it only when it is accepted. On any
 * failure the whole output buffer is zeroed. */
#include <stdint.h>
#include <string.h>

#include "imcore/msg.h"
#include "imcore/util.h"
#include "msg/msg_impl.h"

typedef struct dec_secrets {
    uint8_t z[IMC_DH_SHARED_MAX];
    uint8_t wrap_key[IMC_AEAD_KEY_BYTES];
    uint8_t ck[IMC_AEAD_KEY_BYTES];
    uint8_t body_key[IMC_AEAD_KEY_BYTES];
    uint8_t commitment[IMC_MSG_COMMIT_BYTES];
    uint8_t sender_ctx[IMC_SHA256_BYTES];
} dec_secrets;

static imc_status check_args(const uint8_t *out, size_t out_cap, const imc_msg_received *info,
                             const imc_backend *b, const imc_device_keys *me,
                             const imc_msg_peer *sender, const uint8_t *delivery,
                             size_t delivery_len)
{
    if (info == NULL || b == NULL || me == NULL || sender == NULL || sender->device == NULL ||
        sender->handle == NULL || (out == NULL && out_cap != 0) ||
        (delivery == NULL && delivery_len != 0))
        return IMC_ERR_ARG;
    const imc_suite *s = imc_suite_get(me->pub.suite);
    if (s == NULL)
        return IMC_ERR_ARG;
    return imc_suite_supported(s, b) ? IMC_OK : IMC_ERR_UNSUPPORTED;
}

/* 1 if [a, a+an) and [b, b+bn) share a byte. */
static int overlaps(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return an != 0 && bn != 0 && x < y + bn && y < x + an;
}

/* Step 1: the delivery is for this device (its entry in the signed
 * recipient set names it), from the expected sender, in this device's
 * suite. */
static int addressed_to_me(const imc_delivery *d, const imc_device_keys *me,
                           const imc_msg_peer *sender)
{
    return d->h.suite == me->pub.suite && sender->device->suite == d->h.suite &&
           d->entry.device_id == me->pub.device_id &&
           d->h.sender_device == sender->device->device_id &&
           d->h.sender_handle_len == sender->handle_len &&
           imc_ct_equal(d->h.sender_handle, sender->handle, sender->handle_len);
}

/* Step 2. */
static imc_status verify_signature(const imc_delivery *d, const imc_backend *b,
                                   const imc_suite *s, const imc_msg_peer *sender)
{
    uint8_t input[IMC_MSG_SIG_INPUT_MAX];
    size_t input_len = 0;
    imc_status st = imc_msg_sig_input(input, &input_len, b, s->id, d->h.signed_part,
                                      d->h.signed_part_len, d->h.body, d->h.body_len, &d->rcpt);
    if (st == IMC_OK)
        st = imc_suite_verify(s, b, d->sig, sender->device->sig_pk, input, input_len);
    return st;
}

/* Steps 3-5: unwrap the content key (the wrap key binds the sender the
 * caller expects), derive the body key and check the commitment. */
static imc_status unwrap(dec_secrets *sec, const imc_delivery *d, const imc_backend *b,
                         const imc_suite *s, const imc_device_keys *me,
                         const imc_prepared_key *dh_sk, const imc_msg_peer *sender)
{
    const imc_msg_wrap_ctx ctx = {s, d->h.eph_pk, d->h.message_id, sec->sender_ctx};
    imc_status st = imc_msg_sender_context(sec->sender_ctx, b, s, sender->handle,
                                           sender->handle_len, sender->device->device_id,
                                           sender->device->sig_pk);
    if (st == IMC_OK)
        st = dh_sk != NULL ? imc_suite_dh_prepared(s, b, sec->z, dh_sk, d->h.eph_pk)
                           : imc_suite_dh(s, b, sec->z, me->dh_sk, d->h.eph_pk);
    if (st == IMC_OK)
        st = imc_msg_derive_wrap_key(b, sec->wrap_key, &ctx, sec->z, me->pub.dh_pk,
                                     me->pub.device_id);
    if (st == IMC_OK)
        st = imc_crypto_aead_open(b, s->aead, sec->ck, sizeof sec->ck, sec->wrap_key,
                                  imc_msg_zero_nonce, sizeof imc_msg_zero_nonce, NULL, 0,
                                  d->entry.wrap, s->wrap_bytes);
    if (st == IMC_OK)
        st = imc_msg_derive_content(b, sec->body_key, sec->commitment, sec->ck,
                                    d->h.message_id);
    if (st == IMC_OK && !imc_ct_equal(sec->commitment, d->h.commitment, IMC_MSG_COMMIT_BYTES))
        st = IMC_ERR_AUTH;
    return st;
}

/* Step 6. out has room for body_len bytes (a one-byte stand-in when the
 * body is empty and the caller passed no buffer). */
static imc_status open_body(uint8_t *out, size_t body_len, const dec_secrets *sec,
                            const imc_delivery *d, const imc_backend *b, const imc_suite *s)
{
    uint8_t ad[IMC_MSG_BODY_AD_MAX];
    uint8_t none[1];
    size_t ad_len = imc_msg_body_ad(ad, s->id, d->h.signed_part, d->h.signed_part_len);
    if (ad_len == 0)
        return IMC_ERR_AUTH;
    return imc_crypto_aead_open(b, s->aead, out != NULL ? out : none, body_len, sec->body_key,
                                imc_msg_zero_nonce, sizeof imc_msg_zero_nonce, ad, ad_len,
                                d->h.body, d->h.body_len);
}

/* Steps 1-6; any failure is IMC_ERR_AUTH. */
static imc_status authenticate(uint8_t *out, size_t body_len, dec_secrets *sec,
                               const imc_delivery *d, const imc_backend *b,
                               const imc_device_keys *me, const imc_prepared_key *dh_sk,
                               const imc_msg_peer *sender)
{
    const imc_suite *s = imc_suite_get(d->h.suite);
    imc_status st = addressed_to_me(d, me, sender) ? IMC_OK : IMC_ERR_AUTH;
    if (st == IMC_OK)
        st = verify_signature(d, b, s, sender);
    if (st == IMC_OK)
        st = unwrap(sec, d, b, s, me, dh_sk, sender);
    if (st == IMC_OK)
        st = open_body(out, body_len, sec, d, b, s);
    return st == IMC_OK ? IMC_OK : IMC_ERR_AUTH;
}

static void fill_info(imc_msg_received *info, const imc_delivery *d, size_t body_len)
{
    info->suite = d->h.suite;
    memcpy(info->sender_handle, d->h.sender_handle, d->h.sender_handle_len);
    info->sender_handle_len = d->h.sender_handle_len;
    info->sender_device = d->h.sender_device;
    memcpy(info->message_id, d->h.message_id, IMC_MSG_ID_BYTES);
    info->timestamp_ms = d->h.timestamp_ms;
    info->recipient_count = d->rcpt.count;
    info->body_len = body_len;
}

/* Everything but the wiping: parse, authenticate, check time and replay. */
static imc_status decrypt(uint8_t *out, size_t out_cap, imc_msg_received *info,
                          const imc_backend *b, const imc_device_keys *me,
                          const imc_prepared_key *dh_sk, const imc_msg_peer *sender,
                          imc_replay *replay,
                          uint64_t now_ms, const uint8_t *delivery, size_t delivery_len)
{
    imc_status st = check_args(out, out_cap, info, b, me, sender, delivery, delivery_len);
    if (st != IMC_OK)
        return st;
    imc_delivery d;
    st = imc_msg_parse_delivery(&d, delivery, delivery_len);
    if (st != IMC_OK)
        return st;
    size_t body_len = d.h.body_len - IMC_AEAD_TAG_BYTES;
    if (out_cap < body_len)
        return IMC_ERR_NO_SPACE;

    dec_secrets sec;
    memset(&sec, 0, sizeof sec);
    st = authenticate(out, body_len, &sec, &d, b, me, dh_sk, sender);
    imc_wipe(&sec, sizeof sec);
    if (st == IMC_OK && replay != NULL) {
        imc_replay_msg m = {d.h.sender_handle, d.h.sender_handle_len, d.h.sender_device,
                            d.h.message_id, d.h.timestamp_ms};
        st = imc_replay_accept(replay, &m, now_ms);
    } else if (st == IMC_OK) {
        st = imc_replay_time_check(d.h.timestamp_ms, now_ms, NULL);
    }
    if (st == IMC_OK)
        fill_info(info, &d, body_len);
    return st;
}

/* Both entry points: dh_sk is me's DH secret prepared on b, or NULL. */
static imc_status decrypt_wiping(uint8_t *out, size_t out_cap, imc_msg_received *info,
                                 const imc_backend *b, const imc_device_keys *me,
                                 const imc_prepared_key *dh_sk, const imc_msg_peer *sender,
                                 imc_replay *replay, uint64_t now_ms, const uint8_t *delivery,
                                 size_t delivery_len)
{
    if (info != NULL)
        memset(info, 0, sizeof *info);
    /* Wiping out on failure would clobber the input: refuse up front. */
    if (overlaps(out, out_cap, delivery, delivery_len))
        return IMC_ERR_ARG;
    imc_status st = decrypt(out, out_cap, info, b, me, dh_sk, sender, replay, now_ms, delivery,
                            delivery_len);
    if (st != IMC_OK) {
        imc_wipe(out, out_cap);
        if (info != NULL)
            memset(info, 0, sizeof *info);
    }
    return st;
}

imc_status imc_msg_decrypt(uint8_t *out, size_t out_cap, imc_msg_received *info,
                           const imc_backend *b, const imc_device_keys *me,
                           const imc_msg_peer *sender, imc_replay *replay,
                           uint64_t now_ms, const uint8_t *delivery, size_t delivery_len)
{
    return decrypt_wiping(out, out_cap, info, b, me, NULL, sender, replay, now_ms, delivery,
                          delivery_len);
}

imc_status imc_msg_decrypt_prepared(uint8_t *out, size_t out_cap, imc_msg_received *info,
                                    const imc_msg_device *me, const imc_msg_peer *sender,
                                    imc_replay *replay, uint64_t now_ms,
                                    const uint8_t *delivery, size_t delivery_len)
{
    if (me == NULL || me->dh_sk == NULL) {
        if (info != NULL)
            memset(info, 0, sizeof *info);
        return IMC_ERR_ARG;
    }
    return decrypt_wiping(out, out_cap, info, me->backend, me->keys, me->dh_sk, sender, replay,
                          now_ms, delivery, delivery_len);
}
