/* imc_msg_fanout: the service splits an envelope into deliveries, with no
 * keys and no cryptography (docs/wire-format.md, "Delivery"). A delivery is
 * the envelope's SH and body with a new prefix, one entry and the
 * signature, so each view only points into the envelope. */
#include <string.h>

#include "imcore/msg.h"
#include "imcore/wire.h"
#include "msg/msg_impl.h"

static void make_view(imc_delivery_view *v, const imc_envelope *env, const imc_suite *s,
                      const uint8_t *entry)
{
    imc_reader er;
    imc_wire_reader_init(&er, entry, IMC_MSG_ENTRY_BYTES);
    v->device_id = imc_wire_read_u64(&er);
    v->prefix[0] = IMC_MSG_VERSION;
    v->prefix[1] = IMC_MSG_KIND_DELIVERY;
    v->prefix[2] = (uint8_t)(s->id >> 8);
    v->prefix[3] = (uint8_t)s->id;
    /* SH is directly followed by the body on the wire. */
    v->common = env->h.signed_part;
    v->common_len = env->h.signed_part_len + env->h.body_len;
    v->entry = entry;
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
    if (views_cap < e.recipient_count) {
        *count = e.recipient_count;
        return IMC_ERR_NO_SPACE;
    }
    const imc_suite *s = imc_suite_get(e.h.suite);
    imc_reader r;
    imc_wire_reader_init(&r, e.entries, e.recipient_count * IMC_MSG_ENTRY_BYTES);
    for (size_t i = 0; i < e.recipient_count; i++)
        make_view(&views[i], &e, s, imc_wire_read_bytes(&r, IMC_MSG_ENTRY_BYTES));
    *count = e.recipient_count;
    return IMC_OK;
}

size_t imc_delivery_view_size(const imc_delivery_view *v)
{
    if (v == NULL)
        return 0;
    return sizeof v->prefix + v->common_len + IMC_MSG_ENTRY_BYTES + v->sig_len;
}

imc_status imc_delivery_view_copy(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_delivery_view *v)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || v == NULL || v->common == NULL || v->entry == NULL || v->sig == NULL)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_bytes(&w, v->prefix, sizeof v->prefix);
    imc_wire_write_bytes(&w, v->common, v->common_len);
    imc_wire_write_bytes(&w, v->entry, IMC_MSG_ENTRY_BYTES);
    imc_wire_write_bytes(&w, v->sig, v->sig_len);
    imc_status st = imc_wire_writer_finish(&w, out_len);
    if (st != IMC_OK && out != NULL)
        memset(out, 0, w.len);
    return st;
}
