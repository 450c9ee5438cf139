/* Target delivery_parse: the strict delivery parser.
 *
 * Any input: OK, MALFORMED or LIMIT, never a read past the input. When it
 * parses: views inside the input, the size function agrees, and writing
 * the parsed form back gives the same bytes (canonical form). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
    return p != NULL && p >= base && n <= len && (size_t)(p - base) <= len - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imc_delivery d;
    imc_status st = imc_msg_parse_delivery(&d, data, size);
    if (st != IMC_OK) {
        FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT,
                   "delivery parse returned %s", imc_status_str(st));
        fuzz_count(st == IMC_ERR_LIMIT ? "delivery.limit" : "delivery.malformed");
        return 0;
    }
    fuzz_count("delivery.ok");
    const imc_suite *s = imc_suite_get(d.h.suite);
    FUZZ_CHECK(s != NULL, "parsed an unknown suite %u", (unsigned)d.h.suite);
    FUZZ_CHECK(d.h.sender_handle_len >= 1 && d.h.sender_handle_len <= IMC_MAX_HANDLE_BYTES,
               "handle length %zu", d.h.sender_handle_len);
    FUZZ_CHECK(inside(d.h.sender_handle, d.h.sender_handle_len, data, size), "handle outside");
    FUZZ_CHECK(inside(d.h.message_id, IMC_MSG_ID_BYTES, data, size), "message id outside");
    FUZZ_CHECK(inside(d.h.eph_pk, s->eph_bytes, data, size), "eph_pk outside");
    FUZZ_CHECK(inside(d.h.commitment, IMC_MSG_COMMIT_BYTES, data, size), "commitment outside");
    FUZZ_CHECK(d.h.body_len >= IMC_AEAD_TAG_BYTES &&
                   d.h.body_len <= IMC_MAX_BODY_BYTES + IMC_AEAD_TAG_BYTES,
               "body length %zu out of limits", d.h.body_len);
    FUZZ_CHECK(inside(d.h.body, d.h.body_len, data, size), "body outside");
    FUZZ_CHECK(inside(d.h.signed_part, d.h.signed_part_len, data, size), "signed part outside");
    FUZZ_CHECK(inside(d.entry.wrap, s->wrap_bytes, data, size), "wrap outside");
    FUZZ_CHECK(d.rcpt.count >= 1 && d.rcpt.count <= IMC_MAX_RECIPIENTS && d.index < d.rcpt.count,
               "recipient count %zu, index %zu", d.rcpt.count, d.index);
    FUZZ_CHECK(inside(d.rcpt.ids, d.rcpt.count * IMC_MSG_DEVICE_ID_BYTES, data, size),
               "ids outside");
    FUZZ_CHECK(d.entry.device_id == imc_msg_recipient_id(&d.rcpt, d.index) &&
                   d.entry.device_id != 0,
               "entry device id is not the index-th id");
    FUZZ_CHECK(inside(d.sig, s->sig_bytes, data, size), "signature outside");
    size_t want = imc_msg_delivery_size(d.h.suite, d.h.sender_handle_len, d.rcpt.count,
                                        d.h.body_len - IMC_AEAD_TAG_BYTES);
    FUZZ_CHECK(want == size, "delivery_size says %zu for a %zu-byte delivery", want, size);

    uint8_t *out = malloc(size);
    FUZZ_CHECK(out != NULL, "out of memory");
    size_t out_len = 0;
    st = imc_msg_write_delivery(out, size, &out_len, &d);
    FUZZ_CHECK(st == IMC_OK, "write_delivery failed: %s", imc_status_str(st));
    if (out_len != size || memcmp(out, data, size) != 0) {
        fuzz_hexdump("input", data, size);
        fuzz_hexdump("rewritten", out, out_len);
        FUZZ_CHECK(0, "delivery is not canonical");
    }
    st = imc_msg_write_delivery(out, size - 1, &out_len, &d);
    FUZZ_CHECK(st == IMC_ERR_NO_SPACE, "write into %zu bytes: %s", size - 1,
               imc_status_str(st));
    free(out);
    return 0;
}
