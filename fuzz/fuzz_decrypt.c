/* Target decrypt: the whole decrypt path of one device with fixed keys.
 *
 * The input is a delivery for device 0 of the fixed world (fuzz_common.c),
 * from the fixed sender; the suite is read from the delivery's own suite
 * field so all three suites are reached. The seed corpus holds genuine
 * deliveries made with the same keys (scripts/gen-corpus), so mutations
 * start past the signature and tag checks.
 *
 * Invariants:
 *   - never a crash, leak or sanitizer report;
 *   - failure is MALFORMED, LIMIT or AUTH, with the output buffer and the
 *     info struct wiped (no partial plaintext);
 *   - success only for what the sender really produced: the message id
 *     must be one of the fixed sender's messages, and the body, timestamp,
 *     sender and suite exactly those of that message;
 *   - a successful delivery is refused as a replay the second time, is
 *     refused for another device, and never fits a buffer one byte short. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

typedef struct sent_id {
    uint8_t id[IMC_MSG_ID_BYTES];
    bool ok;
} sent_id;
static sent_id sent_ids[IMC_SUITE_COUNT + 1][FUZZ_SENT_MESSAGES];
static bool ready;

static void setup(void)
{
    const fuzz_world *w = fuzz_world_get();
    static uint8_t env[16384];
    for (uint32_t s = 1; s <= IMC_SUITE_COUNT; s++) {
        if (!w->have_suite[s])
            continue;
        for (unsigned k = 0; k < FUZZ_SENT_MESSAGES; k++) {
            size_t len = 0;
            imc_status st = fuzz_sent_encrypt(env, sizeof env, &len, fuzz_backend_for(s), s, k);
            FUZZ_CHECK(st == IMC_OK, "encrypt of sent message %u/%u: %s", (unsigned)s, k,
                       imc_status_str(st));
            imc_envelope e;
            st = imc_msg_parse_envelope(&e, env, len);
            FUZZ_CHECK(st == IMC_OK, "own envelope does not parse: %s", imc_status_str(st));
            memcpy(sent_ids[s][k].id, e.h.message_id, IMC_MSG_ID_BYTES);
            sent_ids[s][k].ok = true;
        }
    }
    ready = true;
}

#define FILL 0xa5

static void check_failure(imc_status st, const uint8_t *out, size_t cap,
                          const imc_msg_received *info, int replay_ok)
{
    FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT || st == IMC_ERR_AUTH ||
                   (replay_ok && (st == IMC_ERR_REPLAY || st == IMC_ERR_STALE)),
               "decrypt failed with an unexpected status: %s", imc_status_str(st));
    /* msg.h: on any failure out[0..out_cap) and *info are zeroed. */
    FUZZ_CHECK(fuzz_all_zero(out, cap), "decrypt failed (%s) but left bytes in the output",
               imc_status_str(st));
    FUZZ_CHECK(fuzz_all_zero(info, sizeof *info), "decrypt failed (%s) but left the info filled",
               imc_status_str(st));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    const fuzz_world *w = fuzz_world_get();
    uint32_t suite = size >= 4 ? ((uint32_t)data[2] << 8) | data[3] : 1;
    if (suite < 1 || suite > IMC_SUITE_COUNT || !w->have_suite[suite])
        suite = IMC_SUITE_X25519_ED25519_CHACHA20POLY1305;
    const imc_backend *b = fuzz_backend_for(suite);
    const imc_device_keys *me = &w->device[suite][0];
    imc_msg_peer peer = fuzz_sender_peer(suite);

    /* The body is shorter than the delivery, so `size` bytes always fit. */
    size_t cap = size > 0 ? size : 1;
    uint8_t *out = malloc(cap);
    FUZZ_CHECK(out != NULL, "out of memory");
    memset(out, FILL, cap);
    imc_msg_received info;
    memset(&info, FILL, sizeof info);
    imc_replay *replay = fuzz_replay_open();

    imc_status st = imc_msg_decrypt(out, cap, &info, b, me, &peer, replay, FUZZ_NOW, data, size);
    if (st != IMC_OK) {
        imc_replay_close(replay);
        check_failure(st, out, cap, &info, 1);
        fuzz_count(st == IMC_ERR_AUTH        ? "decrypt.auth"
                   : st == IMC_ERR_MALFORMED ? "decrypt.malformed"
                   : st == IMC_ERR_LIMIT     ? "decrypt.limit"
                                             : "decrypt.replay-fresh-cache");
        free(out);
        return 0;
    }
    fuzz_count("decrypt.ok");

    /* Success: it must be one of the sender's own messages, unchanged. */
    FUZZ_CHECK(info.suite == suite, "decrypted suite %u, delivery says %u", (unsigned)info.suite,
               (unsigned)suite);
    FUZZ_CHECK(info.sender_handle_len == sizeof FUZZ_SENDER_HANDLE - 1 &&
                   memcmp(info.sender_handle, FUZZ_SENDER_HANDLE, info.sender_handle_len) == 0,
               "decrypted with the wrong sender handle");
    FUZZ_CHECK(info.sender_device == FUZZ_SENDER_DEVICE, "wrong sender device");
    unsigned k = 0;
    while (k < FUZZ_SENT_MESSAGES &&
           !(sent_ids[suite][k].ok &&
             memcmp(sent_ids[suite][k].id, info.message_id, IMC_MSG_ID_BYTES) == 0))
        k++;
    if (k == FUZZ_SENT_MESSAGES) {
        fuzz_hexdump("message id", info.message_id, IMC_MSG_ID_BYTES);
        FUZZ_CHECK(0, "decrypt accepted a message the sender never sent");
    }
    fuzz_sent plan;
    fuzz_sent_plan(&plan, suite, k);
    FUZZ_CHECK(info.timestamp_ms == plan.timestamp_ms, "message %u: timestamp changed", k);
    if (info.body_len != plan.body_len || memcmp(out, plan.body, plan.body_len) != 0) {
        fuzz_hexdump("decrypted", out, info.body_len);
        fuzz_hexdump("sent", plan.body, plan.body_len);
        FUZZ_CHECK(0, "message %u decrypted to a body the sender did not send", k);
    }

    /* The same delivery again: a replay. */
    memset(out, FILL, cap);
    memset(&info, FILL, sizeof info);
    st = imc_msg_decrypt(out, cap, &info, b, me, &peer, replay, FUZZ_NOW, data, size);
    FUZZ_CHECK(st == IMC_ERR_REPLAY, "second decrypt of one delivery: %s", imc_status_str(st));
    check_failure(st, out, cap, &info, 1);

    /* A device whose clock is further behind than the allowed skew:
     * authenticated, then refused as from the future. */
    imc_replay_close(replay);
    if (plan.timestamp_ms > IMC_MAX_CLOCK_SKEW_MS + 1) {
        replay = fuzz_replay_open();
        memset(out, FILL, cap);
        st = imc_msg_decrypt(out, cap, &info, b, me, &peer, replay,
                             plan.timestamp_ms - IMC_MAX_CLOCK_SKEW_MS - 1, data, size);
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
    if (plan.body_len > 0) {
        memset(out, FILL, cap);
        st = imc_msg_decrypt(out, plan.body_len - 1, &info, b, me, &peer, NULL, 0, data, size);
        FUZZ_CHECK(st == IMC_ERR_NO_SPACE, "decrypt into a buffer one byte short: %s",
                   imc_status_str(st));
        FUZZ_CHECK(fuzz_all_zero(out, plan.body_len - 1), "short buffer: output not zeroed");
        FUZZ_CHECK(fuzz_all_zero(&info, sizeof info), "short buffer: info not wiped");
    }
    free(out);
    return 0;
}
