/* Target roundtrip: encrypt -> fan-out -> decrypt, structure-aware.
 *
 * The input chooses the suite, the backend, the recipient devices (a subset
 * of the fixed world's, in an input-chosen order), the timestamp, the
 * random stream, one mutation, and the plaintext (the rest of the input):
 *
 *   byte 0      suite (1 + b % 3)
 *   byte 1      backends: the low nibble picks the encrypting one, the high
 *               nibble the other decrypting one, among those with the suite
 *   byte 2      recipient mask over devices 0..7 (0 means device 0)
 *   byte 3      order: rotate by b % n, reversed if b & 0x80
 *   bytes 4-11  timestamp (ms)
 *   bytes 12-15 random stream for the deterministic generator
 *   byte 16     mutation kind (b % 8, below)
 *   bytes 17-18 mutation position
 *   byte 19     mutation value
 *   byte 20     which delivery the mutation hits
 *   rest        plaintext body
 *
 * Invariants: the envelope has the advertised size, parses and re-writes to
 * itself; fan-out gives one delivery per recipient; every device decrypts
 * exactly the plaintext with the right sender, id and timestamp (and the
 * other backend, where it supports the suite, agrees); the sender's and
 * the first device's keys prepared (imc_msg_device_prepare) give the same
 * envelope from the same random stream and the same plaintext; and after the
 * mutation, any delivery whose bytes differ from the genuine one for that
 * device is rejected, with no plaintext released.
 *
 * The malicious-sender mutation (MUT_MALICIOUS) re-makes the envelope as a
 * sender holding the real signing key but not following the protocol:
 * bytes 17-20 (position, value, which) become a plan: the commitment of
 * the real content key, of another key or random; the body sealed under
 * either key; per device, the real or the other key in its wrap; one
 * device's wrap bound to another sender's identity; for AES-GCM (bit 14
 * of the plan, bodies of 16 bytes or more) a body that opens under both
 * keys, with different plaintexts (GCM does not commit to its key: only
 * the commitment stops two devices from reading two messages). The
 * envelope is
 * re-signed. Invariants: each device accepts exactly when the document's
 * rules say so (fuzz_msg_expect), and every device that accepts gets the
 * same plaintext as every other device that accepts. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_forge.h"

enum {
    MUT_FLIP,
    MUT_TRUNCATE,
    MUT_APPEND,
    MUT_OTHER_DEVICE,
    MUT_REPLAY,
    MUT_OTHER_SENDER,
    MUT_ENVELOPE,
    MUT_MALICIOUS,
    MUT_KINDS
};

static uint8_t env[IMC_MAX_BODY_BYTES + 16 + 4096];
static uint8_t env2[sizeof env];
static uint8_t dels[FUZZ_DEVICES][IMC_MAX_BODY_BYTES + 16 + 1024];
static size_t del_len[FUZZ_DEVICES];
static uint64_t del_dev[FUZZ_DEVICES];
static uint8_t scratch[sizeof dels[0] + 1];
static uint8_t plain[IMC_MAX_BODY_BYTES + 16 + 1024];
static size_t env_len_g;

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static const imc_device_keys *device_by_id(uint32_t suite, uint64_t id)
{
    const fuzz_world *w = fuzz_world_get();
    if (id < FUZZ_DEVICE_BASE || id - FUZZ_DEVICE_BASE >= FUZZ_DEVICES)
        return NULL;
    return &w->device[suite][id - FUZZ_DEVICE_BASE];
}

/* Decrypt that must succeed with exactly the plaintext. */
static void expect_plain(const imc_backend *b, uint32_t suite, const imc_device_keys *me,
                         const uint8_t *d, size_t dlen, const uint8_t *body, size_t body_len,
                         uint64_t ts, imc_replay *rc)
{
    imc_msg_peer peer = fuzz_sender_peer(suite);
    imc_msg_received info;
    imc_status st = imc_msg_decrypt(plain, sizeof plain, &info, b, me, &peer, rc, ts, d, dlen);
    if (st != IMC_OK) {
        fuzz_hexdump("delivery", d, dlen);
        FUZZ_CHECK(0, "device %llx (%s) cannot decrypt its own delivery: %s",
                   (unsigned long long)me->pub.device_id, imc_backend_name(b), imc_status_str(st));
    }
    FUZZ_CHECK(info.body_len == body_len && memcmp(plain, body, body_len) == 0,
               "device %llx decrypted %zu bytes that differ from the %zu sent",
               (unsigned long long)me->pub.device_id, info.body_len, body_len);
    FUZZ_CHECK(info.suite == suite && info.timestamp_ms == ts &&
                   info.sender_device == FUZZ_SENDER_DEVICE &&
                   info.sender_handle_len == sizeof FUZZ_SENDER_HANDLE - 1 &&
                   memcmp(info.sender_handle, FUZZ_SENDER_HANDLE, info.sender_handle_len) == 0,
               "decrypted metadata differs from what was sent");
    fuzz_count("roundtrip.decrypt-ok");
}

/* Decrypt that must fail, wiping what it wrote. */
static void expect_reject(const imc_backend *b, const imc_device_keys *me, const imc_msg_peer *peer,
                          const uint8_t *d, size_t dlen, imc_replay *rc, const char *what)
{
    imc_msg_received info;
    size_t cap = dlen < sizeof plain ? dlen : sizeof plain;
    memset(plain, 0xa5, cap);
    imc_status st = imc_msg_decrypt(plain, cap, &info, b, me, peer, rc, FUZZ_NOW, d, dlen);
    if (st == IMC_OK) {
        fuzz_hexdump("delivery", d, dlen);
        FUZZ_CHECK(0, "mutated delivery accepted (%s)", what);
    }
    /* msg.h: on any failure out[0..out_cap) is zeroed. */
    FUZZ_CHECK(all_zero(plain, cap), "rejected delivery (%s, %s) left bytes in the output", what,
               imc_status_str(st));
    fuzz_count("roundtrip.mutation-rejected");
}

static fuzz_msg evil;
static uint8_t evil_env[sizeof env];
static uint8_t evil_del[sizeof dels[0]];
static uint8_t first_plain[IMC_MAX_BODY_BYTES];
static uint8_t want_plain[IMC_MAX_BODY_BYTES];

/* A sender with the real key who does not follow the protocol (file
 * comment); plan holds the choices. */
static void malicious_sender(const imc_backend *b, uint32_t suite, uint32_t plan, uint32_t stream,
                             const uint8_t *body, size_t body_len)
{
    const fuzz_world *w = fuzz_world_get();
    imc_status st = fuzz_msg_from_envelope(&evil, env, env_len_g);
    FUZZ_CHECK(st == IMC_OK, "own envelope does not decode: %s", imc_status_str(st));
    uint8_t ctx[32], other_ctx[32], ck[32], alt[32], bk[32];
    const imc_device_keys *d0 = fuzz_world_device(suite, evil.ids[0]);
    FUZZ_CHECK(fuzz_sender_ctx_fixed(ctx, suite) == IMC_OK &&
                   fuzz_msg_unwrap(ck, &evil, 0, d0, ctx) == IMC_OK,
               "own wrap does not open by the document");
    FUZZ_CHECK(fuzz_sender_ctx(other_ctx, suite, (const uint8_t *)FUZZ_RECIPIENT_HANDLE,
                               sizeof FUZZ_RECIPIENT_HANDLE - 1, FUZZ_SENDER_DEVICE,
                               w->sender[suite].pub.sig_pk) == IMC_OK,
               "sender context");
    imc_rng rng;
    fuzz_rng(&rng, UINT64_C(0x6500000000000000) | stream);
    FUZZ_CHECK(imc_rng_fill(&rng, b, alt, sizeof alt) == IMC_OK, "rng");

    switch (plan & 3) {
    case 1:
        FUZZ_CHECK(fuzz_content_keys(suite, bk, evil.commitment, alt, evil.mid) == IMC_OK, "kdf");
        break;
    case 2:
        FUZZ_CHECK(imc_rng_fill(&rng, b, evil.commitment, 32) == IMC_OK, "rng");
        break;
    default:
        FUZZ_CHECK(fuzz_content_keys(suite, bk, evil.commitment, ck, evil.mid) == IMC_OK, "kdf");
        break;
    }
    st = IMC_ERR_UNSUPPORTED;
    if ((plan >> 14) & 1) {
        /* AES-GCM: one body that opens under both keys. */
        st = fuzz_msg_seal_body_two_keys(&evil, ck, alt, body, body_len);
        if (st == IMC_OK) {
            size_t n1 = 0, n2 = 0;
            FUZZ_CHECK(fuzz_msg_open_body(first_plain, sizeof first_plain, &n1, &evil, ck) ==
                               IMC_OK &&
                           fuzz_msg_open_body(want_plain, sizeof want_plain, &n2, &evil, alt) ==
                               IMC_OK &&
                           n1 == n2 && memcmp(first_plain, want_plain, n1) != 0,
                       "the two-key body does not open under both keys");
            fuzz_count("roundtrip.malicious-two-key-body");
        }
    }
    if (st == IMC_ERR_UNSUPPORTED)
        st = fuzz_msg_seal_body(&evil, (plan & 4) ? alt : ck, body, body_len);
    FUZZ_CHECK(st == IMC_OK, "seal: %s", imc_status_str(st));
    unsigned bound_elsewhere = (plan >> 11) & 7; /* device index + 1, 0: none */
    for (size_t i = 0; i < evil.n; i++) {
        const imc_device_keys *dev = fuzz_world_device(suite, evil.ids[i]);
        st = fuzz_msg_wrap(&evil, i, dev, i + 1 == bound_elsewhere ? other_ctx : ctx,
                           ((plan >> (3 + i)) & 1) ? alt : ck);
        FUZZ_CHECK(st == IMC_OK, "wrap: %s", imc_status_str(st));
    }
    st = fuzz_msg_sign(&evil, &w->sender[suite]);
    FUZZ_CHECK(st == IMC_OK, "sign: %s", imc_status_str(st));
    size_t elen = 0;
    st = fuzz_msg_to_envelope(evil_env, sizeof evil_env, &elen, &evil);
    FUZZ_CHECK(st == IMC_OK, "encode: %s", imc_status_str(st));

    imc_delivery_view v[FUZZ_DEVICES];
    size_t count = 0;
    st = imc_msg_fanout(v, FUZZ_DEVICES, &count, evil_env, elen);
    FUZZ_CHECK(st == IMC_OK && count == evil.n, "fanout of the forged envelope: %s",
               imc_status_str(st));
    imc_msg_peer peer = fuzz_sender_peer(suite);
    size_t accepted = 0, first_len = 0;
    for (size_t i = 0; i < count; i++) {
        size_t dlen = 0, want_len = 0;
        int stage = 0;
        st = imc_delivery_view_copy(evil_del, sizeof evil_del, &dlen, &v[i]);
        FUZZ_CHECK(st == IMC_OK, "view copy: %s", imc_status_str(st));
        const imc_device_keys *me = fuzz_world_device(suite, v[i].device_id);
        imc_status want = fuzz_msg_expect(want_plain, sizeof want_plain, &want_len, &stage, me,
                                          &peer, evil_del, dlen);
        imc_msg_received info;
        st = imc_msg_decrypt(plain, sizeof plain, &info, b, me, &peer, NULL, evil.ts, evil_del,
                             dlen);
        FUZZ_CHECK(st == want, "malicious sender, device %zu of %zu: decrypt says %s, the "
                               "document says %s (stage %d, plan %08x)",
                   i, count, imc_status_str(st), imc_status_str(want), stage, (unsigned)plan);
        if (st != IMC_OK)
            continue;
        FUZZ_CHECK(info.body_len == want_len && memcmp(plain, want_plain, want_len) == 0,
                   "malicious sender: device %zu decrypted other bytes than the document", i);
        if (accepted++ == 0) {
            first_len = info.body_len;
            memcpy(first_plain, plain, first_len);
        } else {
            FUZZ_CHECK(info.body_len == first_len && memcmp(plain, first_plain, first_len) == 0,
                       "malicious sender: two devices accepted different plaintexts (plan %08x)",
                       (unsigned)plan);
        }
    }
    fuzz_count(accepted == count ? "roundtrip.malicious-all-accept"
               : accepted == 0   ? "roundtrip.malicious-none-accept"
                                 : "roundtrip.malicious-some-accept");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_world *w = fuzz_world_get();
    fuzz_input in = {data, size};
    uint32_t suite = 1 + fuzz_u8(&in) % IMC_SUITE_COUNT;
    uint8_t bsel = fuzz_u8(&in);
    uint8_t mask = fuzz_u8(&in);
    uint8_t order = fuzz_u8(&in);
    uint64_t ts = fuzz_u64(&in);
    uint32_t stream = fuzz_u32(&in);
    unsigned mut = fuzz_u8(&in) % MUT_KINDS;
    uint16_t mpos = fuzz_u16(&in);
    uint8_t mval = fuzz_u8(&in);
    uint8_t mwho = fuzz_u8(&in);
    size_t body_len = 0;
    const uint8_t *body = fuzz_bytes(&in, IMC_MAX_BODY_BYTES, &body_len);

    if (!w->have_suite[suite])
        return 0;
    const imc_backend *b = fuzz_backend_pick(suite, bsel & 0x0f, NULL);
    const imc_backend *other = fuzz_backend_pick(suite, bsel >> 4, b);

    /* Recipients: the masked devices, rotated and maybe reversed. */
    imc_device_public rcpt[FUZZ_DEVICES];
    size_t n = 0;
    if (mask == 0)
        mask = 1;
    for (unsigned i = 0; i < FUZZ_DEVICES; i++)
        if (mask & (1u << i))
            rcpt[n++] = w->device[suite][i].pub;
    imc_device_public ordered[FUZZ_DEVICES];
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + order % n) % n;
        ordered[(order & 0x80) ? n - 1 - i : i] = rcpt[j];
    }

    imc_msg_send req;
    memset(&req, 0, sizeof req);
    req.sender_handle = (const uint8_t *)FUZZ_SENDER_HANDLE;
    req.sender_handle_len = sizeof FUZZ_SENDER_HANDLE - 1;
    req.sender = &w->sender[suite];
    req.recipients = ordered;
    req.recipient_count = n;
    req.timestamp_ms = ts;
    req.body = body;
    req.body_len = body_len;
    imc_rng rng;
    fuzz_rng(&rng, UINT64_C(0x7000000000000000) | stream);
    size_t env_len = 0;
    imc_status st = imc_msg_encrypt(env, sizeof env, &env_len, b, &rng, &req);
    FUZZ_CHECK(st == IMC_OK, "encrypt (suite %u, %s, %zu devices, %zu bytes): %s", (unsigned)suite,
               imc_backend_name(b), n, body_len, imc_status_str(st));
    env_len_g = env_len;
    FUZZ_CHECK(env_len == imc_msg_envelope_size(suite, req.sender_handle_len, n, body_len),
               "envelope is %zu bytes, envelope_size says %zu", env_len,
               imc_msg_envelope_size(suite, req.sender_handle_len, n, body_len));
    fuzz_count("roundtrip.encrypt-ok");
    /* The sender's keys prepared: the same envelope from the same stream. */
    static imc_msg_device sender_prep;
    st = imc_msg_device_prepare(&sender_prep, b, req.sender);
    FUZZ_CHECK(st == IMC_OK, "prepare the sender (%s): %s", imc_backend_name(b),
               imc_status_str(st));
    fuzz_rng(&rng, UINT64_C(0x7000000000000000) | stream);
    size_t prep_len = 0;
    st = imc_msg_encrypt_prepared(env2, sizeof env2, &prep_len, &rng, &sender_prep, &req);
    imc_msg_device_free(&sender_prep);
    FUZZ_CHECK(st == IMC_OK && prep_len == env_len && memcmp(env, env2, env_len) == 0,
               "encrypt with prepared keys (%s) differs from encrypt: %s", imc_backend_name(b),
               imc_status_str(st));

    imc_envelope pe;
    st = imc_msg_parse_envelope(&pe, env, env_len);
    FUZZ_CHECK(st == IMC_OK, "own envelope does not parse: %s", imc_status_str(st));
    size_t rw_len = 0;
    st = imc_msg_write_envelope(env2, sizeof env2, &rw_len, &pe);
    FUZZ_CHECK(st == IMC_OK && rw_len == env_len && memcmp(env, env2, env_len) == 0,
               "own envelope does not re-write to itself");
    FUZZ_CHECK(pe.rcpt.count == n, "envelope has %zu entries for %zu devices", pe.rcpt.count, n);

    imc_delivery_view views[FUZZ_DEVICES];
    size_t count = 0;
    st = imc_msg_fanout(views, FUZZ_DEVICES, &count, env, env_len);
    FUZZ_CHECK(st == IMC_OK && count == n, "fanout: %s, %zu of %zu", imc_status_str(st), count, n);
    for (size_t i = 0; i < count; i++) {
        st = imc_delivery_view_copy(dels[i], sizeof dels[i], &del_len[i], &views[i]);
        FUZZ_CHECK(st == IMC_OK, "view copy: %s", imc_status_str(st));
        FUZZ_CHECK(del_len[i] == imc_msg_delivery_size(suite, req.sender_handle_len,
                                                       req.recipient_count, body_len),
                   "delivery size");
        del_dev[i] = views[i].device_id;
        FUZZ_CHECK(i == 0 || del_dev[i] > del_dev[i - 1], "fan-out not in device order");
        const imc_device_keys *me = device_by_id(suite, del_dev[i]);
        FUZZ_CHECK(me != NULL && (mask & (1u << (del_dev[i] - FUZZ_DEVICE_BASE))),
                   "delivery for a device that was not a recipient");
        expect_plain(b, suite, me, dels[i], del_len[i], body, body_len, ts, NULL);
    }
    /* The first device's keys prepared: the same plaintext and fields. */
    {
        static imc_msg_device me_prep;
        imc_msg_peer peer = fuzz_sender_peer(suite);
        imc_msg_received info;
        st = imc_msg_device_prepare(&me_prep, b, device_by_id(suite, del_dev[0]));
        FUZZ_CHECK(st == IMC_OK, "prepare a device: %s", imc_status_str(st));
        st = imc_msg_decrypt_prepared(plain, sizeof plain, &info, &me_prep, &peer, NULL, ts,
                                      dels[0], del_len[0]);
        imc_msg_device_free(&me_prep);
        FUZZ_CHECK(st == IMC_OK && info.body_len == body_len &&
                       memcmp(plain, body, body_len) == 0 && info.timestamp_ms == ts,
                   "decrypt with prepared keys (%s): %s", imc_backend_name(b),
                   imc_status_str(st));
        fuzz_count("roundtrip.prepared-ok");
    }
    if (other != NULL)
        expect_plain(other, suite, device_by_id(suite, del_dev[0]), dels[0], del_len[0], body,
                     body_len, ts, NULL);

    /* One mutation, chosen by the input. */
    size_t j = mwho % count;
    const imc_device_keys *me = device_by_id(suite, del_dev[j]);
    imc_msg_peer peer = fuzz_sender_peer(suite);
    uint8_t x = mval ? mval : 1;
    switch (mut) {
    case MUT_FLIP:
        memcpy(scratch, dels[j], del_len[j]);
        scratch[mpos % del_len[j]] ^= x;
        expect_reject(b, me, &peer, scratch, del_len[j], NULL, "byte flipped");
        break;
    case MUT_TRUNCATE:
        expect_reject(b, me, &peer, dels[j], mpos % del_len[j], NULL, "truncated");
        break;
    case MUT_APPEND:
        memcpy(scratch, dels[j], del_len[j]);
        scratch[del_len[j]] = mval;
        expect_reject(b, me, &peer, scratch, del_len[j] + 1, NULL, "byte appended");
        break;
    case MUT_OTHER_DEVICE: {
        /* Device j's delivery offered to a device it was not for. */
        uint64_t id = FUZZ_DEVICE_BASE + (del_dev[j] - FUZZ_DEVICE_BASE + 1 + mval % 7) % 8;
        expect_reject(b, device_by_id(suite, id), &peer, dels[j], del_len[j], NULL,
                      "delivered to another device");
        break;
    }
    case MUT_REPLAY: {
        imc_replay *replay = fuzz_replay_open();
        if (ts == 0) {
            /* docs/replay.md: only timestamps above the sender's floor (0
             * in a fresh state) are accepted, so a message stamped 0 is
             * refused even the first time. */
            expect_reject(b, me, &peer, dels[j], del_len[j], replay, "timestamp 0");
            fuzz_count("roundtrip.timestamp-0-refused");
        } else {
            expect_plain(b, suite, me, dels[j], del_len[j], body, body_len, ts, replay);
            expect_reject(b, me, &peer, dels[j], del_len[j], replay, "replayed");
        }
        imc_replay_close(replay);
        break;
    }
    case MUT_OTHER_SENDER: {
        imc_msg_peer wrong = peer;
        if (mval & 1) {
            wrong.device = &w->device[suite][mval % FUZZ_DEVICES].pub;
        } else {
            wrong.handle = (const uint8_t *)FUZZ_RECIPIENT_HANDLE;
            wrong.handle_len = sizeof FUZZ_RECIPIENT_HANDLE - 1;
        }
        expect_reject(b, me, &wrong, dels[j], del_len[j], NULL, "wrong sender");
        break;
    }
    case MUT_ENVELOPE: {
        /* A byte of the envelope flipped before fan-out: every delivery that
         * comes out different from the genuine one must be rejected, and the
         * unchanged ones still decrypt. */
        memcpy(env2, env, env_len);
        size_t pos = ((size_t)mpos * 257 + mwho) % env_len;
        env2[pos] ^= x;
        imc_delivery_view mv[FUZZ_DEVICES];
        size_t mcount = 0;
        if (imc_msg_fanout(mv, FUZZ_DEVICES, &mcount, env2, env_len) != IMC_OK) {
            fuzz_count("roundtrip.envelope-mutation-unparsed");
            break;
        }
        for (size_t i = 0; i < mcount; i++) {
            size_t mlen = 0;
            st = imc_delivery_view_copy(scratch, sizeof scratch, &mlen, &mv[i]);
            FUZZ_CHECK(st == IMC_OK, "view copy: %s", imc_status_str(st));
            const imc_device_keys *dev = device_by_id(suite, mv[i].device_id);
            size_t g = 0;
            while (g < count && del_dev[g] != mv[i].device_id)
                g++;
            if (g < count && mlen == del_len[g] && memcmp(scratch, dels[g], mlen) == 0) {
                expect_plain(b, suite, dev, scratch, mlen, body, body_len, ts, NULL);
            } else {
                /* A device id the flip invented may name no device at all:
                 * offer it to device 0 then. */
                expect_reject(b, dev != NULL ? dev : &w->device[suite][0], &peer, scratch, mlen,
                              NULL, "envelope byte flipped");
            }
        }
        break;
    }
    case MUT_MALICIOUS:
        malicious_sender(b, suite, (uint32_t)mpos | (uint32_t)mval << 16 | (uint32_t)mwho << 24,
                         stream, body, body_len);
        break;
    default:
        break;
    }
    return 0;
}
