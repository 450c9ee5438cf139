/* Target decrypt: the whole decrypt path of one device with fixed keys.
 *
 * The input is a delivery for device 0 of the fixed world (fuzz_common.c),
 * from the fixed sender; the suite is read from the delivery's own suite
 * field so all three suites are reached. The seed corpus holds genuine
 * deliveries made with the same keys (scripts/gen-corpus), and the custom
 * mutator (fuzz_forge.c) changes a delivery's fields and re-encrypts and
 * re-signs it with the fixed sender's key, so most mutants are authentic
 * and exercise what comes after signature verification; some are
 * deliberately not (stale signature, a commitment of another key, a body
 * sealed under another key than the wrapped one, a wrap bound to another
 * sender, a device id renamed in the signed set).
 *
 * Oracle: fuzz_msg_expect() judges the delivery from the document alone
 * (its own signature input, wrap key, commitment and body AD).
 *
 * Invariants:
 *   - never a crash, leak or sanitizer report;
 *   - the library accepts exactly when the oracle does (after the time rule
 *     of docs/replay.md, and a fresh replay state's floor, which refuses
 *     timestamp 0), with the oracle's plaintext and the
 *     delivery's own sender, id, timestamp, suite and recipient count;
 *   - failure is MALFORMED, LIMIT or AUTH, with the output buffer and the
 *     info struct wiped (no partial plaintext);
 *   - an accepted delivery is refused as a replay the second time, is
 *     refused for another device and another sender, and never fits a
 *     buffer one byte short.
 *
 * Events (IMC_FUZZ_COUNTS=1 prints them at exit): decrypt.input, and
 * decrypt.stage-N for how far the oracle got (N >= 3: past the signature). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_forge.h"

static uint8_t expect_plain[IMC_MAX_BODY_BYTES];

/* libFuzzer's structure-aware hook (fuzz_forge.c does the work). */
#ifdef IMC_FUZZ_CUSTOM_MUTATOR
FUZZ_CUSTOM_MUTATOR(fuzz_mutate_delivery)
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed)
{
    if (fuzz_plain_mutator()) {
        /* What libFuzzer would do without the hook: keep it simple. */
        size_t n = size1 < max_out_size ? size1 : max_out_size;
        memcpy(out, data1, n);
        return n;
    }
    return fuzz_crossover_delivery(data1, size1, data2, size2, out, max_out_size, seed);
}
#endif

#define FILL 0xa5

static void check_failure(imc_status st, const uint8_t *out, size_t cap,
                          const imc_msg_received *info, int replay_ok)
{
    FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT || st == IMC_ERR_AUTH ||
                   (replay_ok &&
                    (st == IMC_ERR_REPLAY || st == IMC_ERR_STALE || st == IMC_ERR_EXPIRED)),
               "decrypt failed with an unexpected status: %s", imc_status_str(st));
    /* msg.h: on any failure out[0..out_cap) and *info are zeroed. */
    FUZZ_CHECK(fuzz_all_zero(out, cap), "decrypt failed (%s) but left bytes in the output",
               imc_status_str(st));
    FUZZ_CHECK(fuzz_all_zero(info, sizeof *info), "decrypt failed (%s) but left the info filled",
               imc_status_str(st));
}

static const char *const STAGE_EVENTS[] = {"decrypt.stage-0-parse",     "decrypt.stage-1-addressed",
                                            "decrypt.stage-2-signature", "decrypt.stage-3-wrap",
                                            "decrypt.stage-4-commitment", "decrypt.stage-5-body",
                                            "decrypt.stage-6-ok"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_world *w = fuzz_world_get();
    uint32_t suite = size >= 4 ? ((uint32_t)data[2] << 8) | data[3] : 1;
    if (suite < 1 || suite > IMC_SUITE_COUNT || !w->have_suite[suite])
        suite = IMC_SUITE_X25519_ED25519_CHACHA20POLY1305;
    const imc_backend *b = fuzz_backend_for(suite);
    const imc_device_keys *me = &w->device[suite][0];
    imc_msg_peer peer = fuzz_sender_peer(suite);
    fuzz_count("decrypt.input");

    /* What the document says this device must do. */
    size_t want_len = 0;
    int stage = 0;
    imc_status want = fuzz_msg_expect(expect_plain, sizeof expect_plain, &want_len, &stage, me,
                                      &peer, data, size);
    fuzz_count(STAGE_EVENTS[stage]);

    /* The body is shorter than the delivery, so `size` bytes always fit. */
    size_t cap = size > 0 ? size : 1;
    uint8_t *out = malloc(cap);
    FUZZ_CHECK(out != NULL, "out of memory");
    memset(out, FILL, cap);
    imc_msg_received info;
    memset(&info, FILL, sizeof info);
    imc_replay *replay = fuzz_replay_open();

    imc_status st = imc_msg_decrypt(out, cap, &info, b, me, &peer, replay, FUZZ_NOW, data, size);
    imc_delivery d;
    int parsed = imc_msg_parse_delivery(&d, data, size) == IMC_OK;
    /* More recipients than the oracle holds: no verdict to compare. */
    int judged = !(want == IMC_ERR_LIMIT && parsed);
    if (want == IMC_OK) {
        /* Authentic: then the time rule (docs/replay.md), then a fresh
         * state's floor, which nothing at 0 passes. */
        uint64_t ts = d.h.timestamp_ms;
        if (ts > FUZZ_NOW && ts - FUZZ_NOW > IMC_MAX_CLOCK_SKEW_MS)
            want = IMC_ERR_STALE;
        else if (ts < FUZZ_NOW && FUZZ_NOW - ts > IMC_MAX_MESSAGE_AGE_MS)
            want = IMC_ERR_EXPIRED;
        else if (ts == 0)
            want = IMC_ERR_REPLAY;
    }
    if (!judged) {
        fuzz_count("decrypt.unjudged");
    } else if (want != st) {
        fuzz_hexdump("delivery", data, size);
        FUZZ_CHECK(0, "decrypt says %s, the document says %s (oracle reached stage %d)",
                   imc_status_str(st), imc_status_str(want), stage);
    }
    if (st != IMC_OK) {
        imc_replay_close(replay);
        check_failure(st, out, cap, &info, 1);
        free(out);
        return 0;
    }
    fuzz_count("decrypt.ok");

    /* Success: exactly the oracle's plaintext and the delivery's fields. */
    if (judged && (info.body_len != want_len || memcmp(out, expect_plain, want_len) != 0)) {
        fuzz_hexdump("decrypted", out, info.body_len);
        fuzz_hexdump("expected", expect_plain, want_len);
        FUZZ_CHECK(0, "decrypted body differs from the document's");
    }
    FUZZ_CHECK(info.suite == suite, "decrypted suite %u, delivery says %u", (unsigned)info.suite,
               (unsigned)suite);
    FUZZ_CHECK(info.sender_handle_len == sizeof FUZZ_SENDER_HANDLE - 1 &&
                   memcmp(info.sender_handle, FUZZ_SENDER_HANDLE, info.sender_handle_len) == 0,
               "decrypted with the wrong sender handle");
    FUZZ_CHECK(info.sender_device == FUZZ_SENDER_DEVICE, "wrong sender device");
    FUZZ_CHECK(info.timestamp_ms == d.h.timestamp_ms &&
                   memcmp(info.message_id, d.h.message_id, IMC_MSG_ID_BYTES) == 0 &&
                   info.recipient_count == d.rcpt.count,
               "info does not describe the delivery");
    uint64_t ts = info.timestamp_ms;
    size_t body_len = info.body_len;

    /* The same delivery again: a replay. */
    memset(out, FILL, cap);
    memset(&info, FILL, sizeof info);
    st = imc_msg_decrypt(out, cap, &info, b, me, &peer, replay, FUZZ_NOW, data, size);
    FUZZ_CHECK(st == IMC_ERR_REPLAY, "second decrypt of one delivery: %s", imc_status_str(st));
    check_failure(st, out, cap, &info, 1);

    /* A device whose clock is further behind than the allowed skew:
     * authenticated, then refused as from the future. */
    imc_replay_close(replay);
    if (ts > IMC_MAX_CLOCK_SKEW_MS + 1) {
        replay = fuzz_replay_open();
        memset(out, FILL, cap);
        st = imc_msg_decrypt(out, cap, &info, b, me, &peer, replay,
                             ts - IMC_MAX_CLOCK_SKEW_MS - 1, data, size);
        FUZZ_CHECK(st == IMC_ERR_STALE, "timestamp beyond the clock skew: %s",
                   imc_status_str(st));
        check_failure(st, out, cap, &info, 1);
        imc_replay_close(replay);
    }

    /* Not for another device of the same account. */
    memset(out, FILL, cap);
    st = imc_msg_decrypt(out, cap, &info, b, &w->device[suite][1], &peer, NULL, 0, data, size);
    FUZZ_CHECK(st == IMC_ERR_AUTH, "delivery for device 0 accepted by device 1: %s",
               imc_status_str(st));
    check_failure(st, out, cap, &info, 0);

    /* Not from another sender device: the peer's signing key must match. */
    imc_msg_peer other = peer;
    other.device = &w->device[suite][2].pub;
    st = imc_msg_decrypt(out, cap, &info, b, me, &other, NULL, 0, data, size);
    FUZZ_CHECK(st == IMC_ERR_AUTH, "delivery accepted from the wrong sender: %s",
               imc_status_str(st));
    check_failure(st, out, cap, &info, 0);

    /* One byte short of room for the body: refused, nothing released. */
    if (body_len > 0) {
        memset(out, FILL, cap);
        st = imc_msg_decrypt(out, body_len - 1, &info, b, me, &peer, NULL, 0, data, size);
        FUZZ_CHECK(st == IMC_ERR_NO_SPACE, "decrypt into a buffer one byte short: %s",
                   imc_status_str(st));
        FUZZ_CHECK(fuzz_all_zero(out, body_len - 1), "short buffer: output not zeroed");
        FUZZ_CHECK(fuzz_all_zero(&info, sizeof info), "short buffer: info not wiped");
    }
    free(out);
    return 0;
}
