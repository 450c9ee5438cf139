/* Target envelope_parse: the strict envelope parser.
 *
 * Any input: parse must return OK, MALFORMED or LIMIT and never read past
 * the input. When it parses: every view lies inside the input, the size
 * function agrees, device ids strictly increase, re-serialising gives the
 * same bytes (canonical form), and fan-out splits it into deliveries that
 * each parse as a delivery with the same header. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
    return p != NULL && p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static void check_header(const imc_msg_header *h, const uint8_t *in, size_t len)
{
    const imc_suite *s = imc_suite_get(h->suite);
    FUZZ_CHECK(s != NULL, "parsed an unknown suite %u", (unsigned)h->suite);
    FUZZ_CHECK(h->sender_handle_len >= 1 && h->sender_handle_len <= IMC_MAX_HANDLE_BYTES,
               "handle length %zu", h->sender_handle_len);
    FUZZ_CHECK(inside(h->sender_handle, h->sender_handle_len, in, len), "handle outside input");
    FUZZ_CHECK(inside(h->message_id, IMC_MSG_ID_BYTES, in, len), "message id outside input");
    FUZZ_CHECK(inside(h->eph_pk, s->eph_bytes, in, len), "eph_pk outside input");
    FUZZ_CHECK(inside(h->commitment, IMC_MSG_COMMIT_BYTES, in, len), "commitment outside");
    FUZZ_CHECK(h->body_len >= IMC_AEAD_TAG_BYTES &&
                   h->body_len <= IMC_MAX_BODY_BYTES + IMC_AEAD_TAG_BYTES,
               "body length %zu out of limits", h->body_len);
    FUZZ_CHECK(inside(h->body, h->body_len, in, len), "body outside input");
    FUZZ_CHECK(inside(h->signed_part, h->signed_part_len, in, len), "signed part outside");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imc_envelope env;
    imc_status st = imc_msg_parse_envelope(&env, data, size);
    if (st != IMC_OK) {
        FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT,
                   "envelope parse returned %s", imc_status_str(st));
        fuzz_count(st == IMC_ERR_LIMIT ? "envelope.limit" : "envelope.malformed");
        return 0;
    }
    fuzz_count("envelope.ok");
    check_header(&env.h, data, size);
    const imc_suite *s = imc_suite_get(env.h.suite);
    FUZZ_CHECK(env.rcpt.count >= 1 && env.rcpt.count <= IMC_MAX_RECIPIENTS,
               "recipient count %zu", env.rcpt.count);
    FUZZ_CHECK(inside(env.rcpt.ids, env.rcpt.count * IMC_MSG_DEVICE_ID_BYTES, data, size),
               "ids outside input");
    FUZZ_CHECK(inside(env.wraps, env.rcpt.count * s->wrap_bytes, data, size),
               "wraps outside input");
    FUZZ_CHECK(inside(env.sig, s->sig_bytes, data, size), "signature outside input");
    size_t want = imc_msg_envelope_size(env.h.suite, env.h.sender_handle_len,
                                        env.rcpt.count, env.h.body_len - IMC_AEAD_TAG_BYTES);
    FUZZ_CHECK(want == size, "envelope_size says %zu for a %zu-byte envelope", want, size);

    uint64_t prev = 0;
    for (size_t i = 0; i < env.rcpt.count; i++) {
        imc_msg_entry e = imc_msg_envelope_entry(&env, i);
        FUZZ_CHECK(e.device_id > prev, "device ids not increasing (or zero) at %zu", i);
        FUZZ_CHECK(inside(e.wrap, s->wrap_bytes, data, size), "wrap %zu outside input", i);
        prev = e.device_id;
    }

    /* Canonical: writing the parsed form gives back the input exactly. */
    uint8_t *out = malloc(size);
    FUZZ_CHECK(out != NULL, "out of memory");
    size_t out_len = 0;
    st = imc_msg_write_envelope(out, size, &out_len, &env);
    FUZZ_CHECK(st == IMC_OK, "write_envelope failed: %s", imc_status_str(st));
    if (out_len != size || memcmp(out, data, size) != 0) {
        fuzz_hexdump("input", data, size);
        fuzz_hexdump("rewritten", out, out_len);
        FUZZ_CHECK(0, "envelope is not canonical");
    }
    /* One byte short is no space, never a truncated success. */
    if (size > 0) {
        st = imc_msg_write_envelope(out, size - 1, &out_len, &env);
        FUZZ_CHECK(st == IMC_ERR_NO_SPACE, "write into %zu bytes: %s", size - 1,
                   imc_status_str(st));
    }
    free(out);

    /* Fan-out: one delivery per entry, each parsing as a delivery. */
    imc_delivery_view *views = malloc(env.rcpt.count * sizeof *views);
    FUZZ_CHECK(views != NULL, "out of memory");
    size_t count = 0;
    st = imc_msg_fanout(views, env.rcpt.count, &count, data, size);
    FUZZ_CHECK(st == IMC_OK, "fanout of a parsed envelope failed: %s", imc_status_str(st));
    FUZZ_CHECK(count == env.rcpt.count, "fanout made %zu of %zu", count,
               env.rcpt.count);
    size_t dsize = imc_msg_delivery_size(env.h.suite, env.h.sender_handle_len, env.rcpt.count,
                                         env.h.body_len - IMC_AEAD_TAG_BYTES);
    /* Small enough to check every delivery, big enough for real fan-outs. */
    size_t check = count < 16 ? count : 16;
    uint8_t *d = malloc(dsize);
    FUZZ_CHECK(d != NULL, "out of memory");
    for (size_t i = 0; i < check; i++) {
        size_t i_pick = i < 8 ? i : count - 1 - (i - 8);
        const imc_delivery_view *v = &views[i_pick];
        FUZZ_CHECK(imc_delivery_view_size(v) == dsize, "view %zu size %zu, expected %zu",
                   i_pick, imc_delivery_view_size(v), dsize);
        size_t dlen = 0;
        st = imc_delivery_view_copy(d, dsize, &dlen, v);
        FUZZ_CHECK(st == IMC_OK && dlen == dsize, "view copy: %s", imc_status_str(st));
        imc_delivery del;
        st = imc_msg_parse_delivery(&del, d, dlen);
        FUZZ_CHECK(st == IMC_OK, "delivery %zu of a parsed envelope does not parse: %s",
                   i_pick, imc_status_str(st));
        imc_msg_entry e = imc_msg_envelope_entry(&env, i_pick);
        FUZZ_CHECK(del.entry.device_id == e.device_id && v->device_id == e.device_id,
                   "delivery %zu names the wrong device", i_pick);
        FUZZ_CHECK(memcmp(del.entry.wrap, e.wrap, s->wrap_bytes) == 0, "wrap differs");
        FUZZ_CHECK(del.index == i_pick && del.rcpt.count == env.rcpt.count &&
                       memcmp(del.rcpt.ids, env.rcpt.ids,
                              env.rcpt.count * IMC_MSG_DEVICE_ID_BYTES) == 0,
                   "delivery %zu carries another recipient set", i_pick);
        FUZZ_CHECK(del.h.suite == env.h.suite && del.h.sender_device == env.h.sender_device &&
                       del.h.timestamp_ms == env.h.timestamp_ms &&
                       del.h.body_len == env.h.body_len &&
                       del.h.signed_part_len == env.h.signed_part_len &&
                       memcmp(del.h.signed_part, env.h.signed_part, env.h.signed_part_len) ==
                           0 &&
                       memcmp(del.h.body, env.h.body, env.h.body_len) == 0 &&
                       memcmp(del.sig, env.sig, s->sig_bytes) == 0,
                   "delivery %zu header differs from the envelope's", i_pick);
    }
    free(d);
    free(views);
    return 0;
}
