/* imc_msg_fanout: the service splits an envelope into deliveries, with no
 * keys and no cryptography (docs/wire-format.md, "Delivery"). A delivery is
 * the envelope's SH, body and recipient set (contiguous in the envelope)
 * with a new prefix, the device's index, its wrap and the signature, so each
 * view only points into the envelope. */
#include <string.h>

#include "imcore/msg.h"
#include "imcore/wire.h"
#include "msg/msg_impl.h"

static void make_view(imc_delivery_view *v, const imc_envelope *env, const imc_suite *s,
                      size_t i)
{
    imc_msg_entry e = imc_msg_envelope_entry(env, i);
    v->device_id = e.device_id;
    v->prefix[0] = IMC_MSG_VERSION;
    v->prefix[1] = IMC_MSG_KIND_DELIVERY;
    v->prefix[2] = (uint8_t)(s->id >> 8);
    v->prefix[3] = (uint8_t)s->id;
    /* SH, the body, the count and the ids follow each other on the wire. */
    v->common = env->h.signed_part;
    v->common_len = (size_t)(env->rcpt.ids + env->rcpt.count * IMC_MSG_DEVICE_ID_BYTES -
                             env->h.signed_part);
    v->index[0] = (uint8_t)(i >> 8);
    v->index[1] = (uint8_t)i;
    v->wrap = e.wrap;
    v->wrap_len = s->wrap_bytes;
    v->sig = env->sig;
    v->sig_len = s->sig_bytes;
}

imc_status imc_msg_fanout(imc_delivery_view *views, size_t views_cap, size_t *count,
                          const uint8_t *env, size_t env_len)
{
    if (count == NULL || (views == NULL && views_cap != 0))
        return IMC_ERR_ARG;
    *count = 0;
    imc_envelope e;
    imc_status st = imc_msg_parse_envelope(&e, env, env_len);
    if (st != IMC_OK)
        return st;
    /* Report the count needed, so a caller can size its array. */
    if (views_cap < e.rcpt.count) {
        *count = e.rcpt.count;
        return IMC_ERR_NO_SPACE;
    }
    const imc_suite *s = imc_suite_get(e.h.suite);
    for (size_t i = 0; i < e.rcpt.count; i++)
        make_view(&views[i], &e, s, i);
    *count = e.rcpt.count;
    return IMC_OK;
}

size_t imc_delivery_view_size(const imc_delivery_view *v)
{
    if (v == NULL)
        return 0;
    return sizeof v->prefix + v->common_len + sizeof v->index + v->wrap_len + v->sig_len;
}

imc_status imc_delivery_view_copy(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_delivery_view *v)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || v == NULL || v->common == NULL || v->wrap == NULL || v->sig == NULL)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_bytes(&w, v->prefix, sizeof v->prefix);
    imc_wire_write_bytes(&w, v->common, v->common_len);
    imc_wire_write_bytes(&w, v->index, sizeof v->index);
    imc_wire_write_bytes(&w, v->wrap, v->wrap_len);
    imc_wire_write_bytes(&w, v->sig, v->sig_len);
    imc_status st = imc_wire_writer_finish(&w, out_len);
    if (st != IMC_OK && out != NULL)
        memset(out, 0, w.len);
    return st;
}
