/* The message core end to end on every backend and suite it supports:
 * encrypt -> fan-out -> decrypt, the key files, the codec's canonical form
 * and its basic rejections, and the replay state as decrypt uses it. (The
 * adversarial tests live in test_msg_attacks.c; the replay state's own
 * tests in test_replay.c.) */
#include "msg/msg_impl.h"
#include "test.h"

#define MAXB 8
#define NRCPT 4
#define BIG (IMC_MAX_BODY_BYTES + 4096)

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = {'m', 's', 'g'};
static const uint8_t HANDLE[] = "alice@example.com";
#define HANDLE_LEN (sizeof HANDLE - 1)

static uint8_t g_body[IMC_MAX_BODY_BYTES];
static uint8_t g_env[BIG + IMC_MAX_RECIPIENTS * (IMC_MSG_DEVICE_ID_BYTES + 48)];
static uint8_t g_env2[sizeof g_env];
static uint8_t g_del[BIG];
static uint8_t g_del2[BIG];
static uint8_t g_out[BIG];

typedef struct fixture {
    const imc_backend *b;
    const imc_suite *s;
    imc_device_keys sender;
    imc_device_keys rcpt[NRCPT];
    imc_device_public pubs[NRCPT];
} fixture;

/* Recipient device ids, deliberately not in order. */
static const uint64_t RCPT_IDS[NRCPT] = {300, 5, 0xFFFFFFFFFFFFFFFFull, 42};

static int setup(fixture *f, const imc_backend *b, const imc_suite *s, uint64_t stream)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, stream);
    f->b = b;
    f->s = s;
    int ok = imc_keys_generate(&f->sender, b, &rng, s->id, 7) == IMC_OK;
    for (size_t i = 0; i < NRCPT; i++) {
        ok &= imc_keys_generate(&f->rcpt[i], b, &rng, s->id, RCPT_IDS[i]) == IMC_OK;
        f->pubs[i] = f->rcpt[i].pub;
    }
    CHECK(ok);
    return ok;
}

static imc_msg_send request(const fixture *f, const uint8_t *body, size_t body_len)
{
    imc_msg_send req = {
        .sender_handle = HANDLE,
        .sender_handle_len = HANDLE_LEN,
        .sender = &f->sender,
        .recipients = f->pubs,
        .recipient_count = NRCPT,
        .timestamp_ms = 1700000000000ull,
        .body = body,
        .body_len = body_len,
    };
    return req;
}

static const imc_device_keys *keys_for(const fixture *f, uint64_t device_id)
{
    for (size_t i = 0; i < NRCPT; i++)
        if (f->rcpt[i].pub.device_id == device_id)
            return &f->rcpt[i];
    return NULL;
}

/* ---- encrypt -> fanout -> decrypt --------------------------------------- */

static void round_trip(const fixture *f, size_t body_len)
{
    for (size_t i = 0; i < body_len; i++)
        g_body[i] = (uint8_t)(i * 7 + body_len);
    imc_msg_send req = request(f, g_body, body_len);
    size_t env_len = 0;
    CHECK_OK(imc_msg_encrypt(g_env, sizeof g_env, &env_len, f->b, NULL, &req));
    CHECK(env_len == imc_msg_envelope_size(f->s->id, HANDLE_LEN, NRCPT, body_len));

    /* Parse, and the canonical form writes back to the same bytes. */
    imc_envelope env;
    CHECK_OK(imc_msg_parse_envelope(&env, g_env, env_len));
    CHECK(env.rcpt.count == NRCPT);
    CHECK(env.h.body_len == body_len + 16);
    size_t len2 = 0;
    CHECK_OK(imc_msg_write_envelope(g_env2, sizeof g_env2, &len2, &env));
    CHECK(len2 == env_len && memcmp(g_env, g_env2, env_len) == 0);
    uint64_t prev = 0;
    for (size_t i = 0; i < NRCPT; i++) {
        imc_msg_entry e = imc_msg_envelope_entry(&env, i);
        CHECK(e.wrap != NULL && (i == 0 || e.device_id > prev));
        prev = e.device_id;
    }
    CHECK(imc_msg_envelope_entry(&env, NRCPT).wrap == NULL);

    imc_delivery_view views[NRCPT];
    size_t count = 0;
    CHECK_ST(imc_msg_fanout(NULL, 0, &count, g_env, env_len), IMC_ERR_NO_SPACE);
    CHECK(count == NRCPT);
    CHECK_OK(imc_msg_fanout(views, NRCPT, &count, g_env, env_len));
    CHECK(count == NRCPT);

    imc_msg_peer peer = {HANDLE, HANDLE_LEN, &f->sender.pub};
    int delivered = 0;
    for (size_t i = 0; i < count; i++) {
        size_t del_len = 0;
        CHECK(imc_delivery_view_size(&views[i]) ==
              imc_msg_delivery_size(f->s->id, HANDLE_LEN, NRCPT, body_len));
        CHECK_OK(imc_delivery_view_copy(g_del, sizeof g_del, &del_len, &views[i]));
        CHECK(del_len == imc_delivery_view_size(&views[i]));

        imc_delivery d;
        CHECK_OK(imc_msg_parse_delivery(&d, g_del, del_len));
        CHECK(d.entry.device_id == views[i].device_id);
        CHECK_OK(imc_msg_write_delivery(g_del2, sizeof g_del2, &len2, &d));
        CHECK(len2 == del_len && memcmp(g_del, g_del2, del_len) == 0);

        const imc_device_keys *me = keys_for(f, views[i].device_id);
        imc_msg_received info;
        imc_replay *cache = NULL;
        CHECK_OK(imc_replay_open(&cache, NULL, NULL, f->b, NULL));
        CHECK(me != NULL);
        /* A device whose clock is more than the allowed skew behind the
         * sender's refuses it (after authentication), wiped, state unchanged. */
        const uint64_t behind = req.timestamp_ms - IMC_MAX_CLOCK_SKEW_MS - 1;
        memset(g_out, 0xAA, body_len);
        CHECK_ST(imc_msg_decrypt(g_out, body_len, &info, f->b, me, &peer, cache, behind, g_del,
                                 del_len),
                 IMC_ERR_STALE);
        CHECK(imc_ct_is_zero(g_out, body_len) && imc_ct_is_zero(&info, sizeof info));
        CHECK_OK(imc_msg_decrypt(g_out, body_len, &info, f->b, me, &peer, cache,
                                 req.timestamp_ms, g_del, del_len));
        delivered += info.body_len == body_len && memcmp(g_out, g_body, body_len) == 0 &&
                     info.suite == f->s->id && info.sender_device == 7 &&
                     info.sender_handle_len == HANDLE_LEN &&
                     memcmp(info.sender_handle, HANDLE, HANDLE_LEN) == 0 &&
                     info.timestamp_ms == req.timestamp_ms &&
                     memcmp(info.message_id, env.h.message_id, IMC_MSG_ID_BYTES) == 0;

        /* The same delivery again is a replay; the output is wiped. */
        CHECK_ST(imc_msg_decrypt(g_out, body_len, &info, f->b, me, &peer, cache,
                                 req.timestamp_ms, g_del, del_len),
                 IMC_ERR_REPLAY);
        CHECK(imc_ct_is_zero(g_out, body_len) && imc_ct_is_zero(&info, sizeof info));
        imc_replay_close(cache);

        /* Another device's keys: uniform authentication failure, wiped. */
        const imc_device_keys *other = keys_for(f, views[(i + 1) % count].device_id);
        memset(g_out, 0xAA, body_len + 1);
        CHECK_ST(imc_msg_decrypt(g_out, body_len + 1, &info, f->b, other, &peer, NULL, 0, g_del,
                                 del_len),
                 IMC_ERR_AUTH);
        CHECK(imc_ct_is_zero(g_out, body_len + 1)); /* the whole capacity */
        /* Too small an output buffer is refused before any crypto. */
        if (body_len > 0)
            CHECK_ST(imc_msg_decrypt(g_out, body_len - 1, &info, f->b, me, &peer, NULL, 0, g_del,
                                     del_len),
                     IMC_ERR_NO_SPACE);
        /* Malformed: still wiped. An output overlapping the input: refused
         * and nothing touched. */
        memset(g_out, 0xAA, 32);
        CHECK_ST(imc_msg_decrypt(g_out, 32, &info, f->b, me, &peer, NULL, 0, g_del, del_len - 1),
                 IMC_ERR_MALFORMED);
        CHECK(imc_ct_is_zero(g_out, 32));
        CHECK_ST(imc_msg_decrypt(g_del + 8, 32, &info, f->b, me, &peer, NULL, 0, g_del, del_len),
                 IMC_ERR_ARG);
        CHECK(memcmp(g_del, g_del2, del_len) == 0);
        /* The sender's own signing key is expected from the directory. */
        imc_msg_peer wrong = peer;
        wrong.handle_len--;
        CHECK_ST(imc_msg_decrypt(g_out, body_len, &info, f->b, me, &wrong, NULL, 0, g_del, del_len),
                 IMC_ERR_AUTH);
        wrong = peer;
        wrong.device = &f->rcpt[0].pub;
        CHECK_ST(imc_msg_decrypt(g_out, body_len, &info, f->b, me, &wrong, NULL, 0, g_del, del_len),
                 IMC_ERR_AUTH);
    }
    CHECK(delivered == NRCPT);
}

/* With the deterministic RNG, encrypt is a function of its inputs; all but
 * the signature for suite 2, whose ECDSA nonce comes from the backend. */
static void determinism(const fixture *f, uint8_t *first, size_t first_cap, size_t *first_len)
{
    size_t fixed = f->s->sig_public_bytes == IMC_ED25519_PUBLIC_BYTES ? 0 : f->s->sig_bytes;
    static const uint8_t body[] = "hello, imcore";
    imc_msg_send req = request(f, body, sizeof body - 1);
    imc_rng rng;
    size_t n1 = 0, n2 = 0;
    imc_rng_init_deterministic(&rng, SEED, 1000);
    CHECK_OK(imc_msg_encrypt(first, first_cap, &n1, f->b, &rng, &req));
    imc_rng_init_deterministic(&rng, SEED, 1000);
    CHECK_OK(imc_msg_encrypt(g_env2, sizeof g_env2, &n2, f->b, &rng, &req));
    CHECK(n1 == n2 && memcmp(first, g_env2, n1 - fixed) == 0);
    /* The order recipients are passed in does not matter. */
    imc_device_public rev[NRCPT];
    for (size_t i = 0; i < NRCPT; i++)
        rev[i] = f->pubs[NRCPT - 1 - i];
    req.recipients = rev;
    imc_rng_init_deterministic(&rng, SEED, 1000);
    CHECK_OK(imc_msg_encrypt(g_env2, sizeof g_env2, &n2, f->b, &rng, &req));
    CHECK(n1 == n2 && memcmp(first, g_env2, n1 - fixed) == 0);
    *first_len = n1;
}

/* Offset of the body length field c in a message with this suite. */
static size_t c_offset(const imc_suite *s)
{
    return 4 + 1 + HANDLE_LEN + 8 + 16 + 8 + s->dh_public_bytes + 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void encrypt_args(const fixture *f)
{
    static const uint8_t body[4] = "body";
    imc_msg_send req = request(f, body, sizeof body);
    size_t len = 99;
    size_t need = imc_msg_envelope_size(f->s->id, HANDLE_LEN, NRCPT, sizeof body);

    memset(g_env, 0xAA, need);
    CHECK_ST(imc_msg_encrypt(g_env, need - 1, &len, f->b, NULL, &req), IMC_ERR_NO_SPACE);
    CHECK(len == 0 && g_env[0] == 0xAA && g_env[need - 2] == 0xAA);
    CHECK_ST(imc_msg_encrypt(g_env, need, NULL, f->b, NULL, &req), IMC_ERR_ARG);
    CHECK_ST(imc_msg_encrypt(g_env, need, &len, NULL, NULL, &req), IMC_ERR_ARG);
    CHECK_ST(imc_msg_encrypt(g_env, need, &len, f->b, NULL, NULL), IMC_ERR_ARG);

    imc_device_public dup[NRCPT];
    memcpy(dup, f->pubs, sizeof dup);
    dup[3].device_id = dup[0].device_id;
    req.recipients = dup;
    CHECK_ST(imc_msg_encrypt(g_env, sizeof g_env, &len, f->b, NULL, &req), IMC_ERR_ARG);
    memcpy(dup, f->pubs, sizeof dup);
    dup[1].suite = f->s->id == 1 ? 3 : 1;
    CHECK_ST(imc_msg_encrypt(g_env, sizeof g_env, &len, f->b, NULL, &req), IMC_ERR_ARG);
    req = request(f, body, sizeof body);
    req.recipient_count = 0;
    CHECK_ST(imc_msg_encrypt(g_env, sizeof g_env, &len, f->b, NULL, &req), IMC_ERR_ARG);
    req = request(f, body, sizeof body);
    req.body_len = IMC_MAX_BODY_BYTES + 1;
    req.body = g_body;
    CHECK_ST(imc_msg_encrypt(g_env, sizeof g_env, &len, f->b, NULL, &req), IMC_ERR_LIMIT);
    req = request(f, body, sizeof body);
    req.sender_handle_len = 0;
    CHECK_ST(imc_msg_encrypt(g_env, sizeof g_env, &len, f->b, NULL, &req), IMC_ERR_ARG);
    /* The body may not overlap the output. */
    req = request(f, g_env + 10, 4);
    CHECK_ST(imc_msg_encrypt(g_env, sizeof g_env, &len, f->b, NULL, &req), IMC_ERR_ARG);

    /* A recipient key the policy rejects (X25519: a zero shared secret)
     * fails the whole envelope, and nothing is left in out. */
    if (f->s->dh_public_bytes == IMC_X25519_PUBLIC_BYTES) {
        memcpy(dup, f->pubs, sizeof dup);
        memset(dup[2].dh_pk, 0, sizeof dup[2].dh_pk);
        req = request(f, body, sizeof body);
        req.recipients = dup;
        memset(g_env, 0xAA, sizeof g_env);
        CHECK_ST(imc_msg_encrypt(g_env, need, &len, f->b, NULL, &req), IMC_ERR_WEAK_KEY);
        /* Prefix, header, body and count were written before the failure. */
        CHECK(len == 0 && imc_ct_is_zero(g_env, c_offset(f->s) + 4 + sizeof body + 16 + 2));
        CHECK(g_env[need - 1] == 0xAA);
    }
}

/* ---- Codec rejections ---------------------------------------------------- */

static imc_status parse_env(const uint8_t *p, size_t n)
{
    imc_envelope e;
    memset(&e, 0xCC, sizeof e);
    imc_status st = imc_msg_parse_envelope(&e, p, n);
    if (st != IMC_OK)
        CHECK(imc_ct_is_zero(&e, sizeof e));
    return st;
}

static void codec_rejects(const fixture *f)
{
    static const uint8_t body[13] = "hello, imcore";
    imc_msg_send req = request(f, body, sizeof body);
    size_t n = 0;
    CHECK_OK(imc_msg_encrypt(g_env, sizeof g_env, &n, f->b, NULL, &req));
    uint8_t *e = g_env2;

    /* Every truncation, and one trailing byte. */
    int all = 1;
    for (size_t cut = 0; cut < n; cut++)
        all &= parse_env(g_env, cut) == IMC_ERR_MALFORMED;
    CHECK(all);
    memcpy(e, g_env, n);
    e[n] = 0;
    CHECK_ST(parse_env(e, n + 1), IMC_ERR_MALFORMED);
    CHECK_ST(parse_env(NULL, 0), IMC_ERR_MALFORMED);

    /* Version, kind, suite. */
    /* Version 1 (the previous format) and 3 are unknown versions. */
    static const size_t at[6] = {0, 0, 1, 2, 3, 3};
    static const uint8_t val[6] = {1, 3, IMC_MSG_KIND_DELIVERY, 1, 0, 4};
    for (size_t i = 0; i < 6; i++) {
        memcpy(e, g_env, n);
        e[at[i]] = val[i];
        CHECK_ST(parse_env(e, n), IMC_ERR_MALFORMED);
    }
    imc_delivery d;
    CHECK_ST(imc_msg_parse_delivery(&d, g_env, n), IMC_ERR_MALFORMED);

    /* Handle length 0. */
    memcpy(e, g_env, n);
    e[4] = 0;
    CHECK_ST(parse_env(e, n), IMC_ERR_MALFORMED);

    /* Body length: under a tag is malformed, over the limit is LIMIT even
     * when the input is short. */
    size_t co = c_offset(f->s);
    memcpy(e, g_env, n);
    put32(e + co, 15);
    CHECK_ST(parse_env(e, n), IMC_ERR_MALFORMED);
    put32(e + co, IMC_MAX_BODY_BYTES + 17);
    CHECK_ST(parse_env(e, n), IMC_ERR_LIMIT);
    put32(e + co, IMC_MAX_BODY_BYTES + 16);
    CHECK_ST(parse_env(e, n), IMC_ERR_MALFORMED); /* allowed, but short */

    /* Recipient count: 0, over the limit, and device ids out of order. */
    size_t no = co + 4 + sizeof body + 16;
    memcpy(e, g_env, n);
    e[no] = 0;
    e[no + 1] = 0;
    CHECK_ST(parse_env(e, n), IMC_ERR_MALFORMED);
    e[no] = (uint8_t)((IMC_MAX_RECIPIENTS + 1) >> 8);
    e[no + 1] = (uint8_t)(IMC_MAX_RECIPIENTS + 1);
    CHECK_ST(parse_env(e, n), IMC_ERR_LIMIT);
    memcpy(e, g_env, n);
    uint8_t tmp[IMC_MSG_DEVICE_ID_BYTES];
    memcpy(tmp, e + no + 2, sizeof tmp);
    memcpy(e + no + 2, e + no + 2 + sizeof tmp, sizeof tmp);
    memcpy(e + no + 2 + sizeof tmp, tmp, sizeof tmp);
    CHECK_ST(parse_env(e, n), IMC_ERR_MALFORMED);
    /* A duplicate id. */
    memcpy(e, g_env, n);
    memcpy(e + no + 2 + sizeof tmp, e + no + 2, 8);
    CHECK_ST(parse_env(e, n), IMC_ERR_MALFORMED);

    /* The writer refuses what the parser would refuse. */
    imc_envelope env;
    CHECK_OK(imc_msg_parse_envelope(&env, g_env, n));
    env.h.sender_handle_len = 0;
    size_t len = 1;
    CHECK_ST(imc_msg_write_envelope(e, sizeof g_env2, &len, &env), IMC_ERR_ARG);
    CHECK(len == 0);
    CHECK_OK(imc_msg_parse_envelope(&env, g_env, n));
    /* Too small: what was written is wiped, nothing past it touched. */
    memset(e, 0xAA, n);
    CHECK_ST(imc_msg_write_envelope(e, n - 1, &len, &env), IMC_ERR_NO_SPACE);
    CHECK(imc_ct_is_zero(e, n - f->s->sig_bytes) && e[n - 2] == 0xAA);

    /* Deliveries: every truncation and a trailing byte. */
    imc_delivery_view v;
    size_t count = 0, dn = 0;
    CHECK_ST(imc_msg_fanout(&v, 1, &count, g_env, n), IMC_ERR_NO_SPACE);
    CHECK(count == NRCPT);
    imc_delivery_view views[NRCPT];
    CHECK_OK(imc_msg_fanout(views, NRCPT, &count, g_env, n));
    CHECK_OK(imc_delivery_view_copy(g_del, sizeof g_del, &dn, &views[0]));
    all = 1;
    for (size_t cut = 0; cut < dn; cut++)
        all &= imc_msg_parse_delivery(&d, g_del, cut) == IMC_ERR_MALFORMED;
    CHECK(all);
    g_del[dn] = 0;
    CHECK_ST(imc_msg_parse_delivery(&d, g_del, dn + 1), IMC_ERR_MALFORMED);
    CHECK_ST(imc_delivery_view_copy(g_del2, dn - 1, &len, &views[0]), IMC_ERR_NO_SPACE);
    CHECK(len == 0);
    /* A malformed envelope gives no views. */
    CHECK_ST(imc_msg_fanout(views, NRCPT, &count, g_env, n - 1), IMC_ERR_MALFORMED);
    CHECK(count == 0);
}

/* ---- Keys ---------------------------------------------------------------- */

static void keys(const fixture *f)
{
    uint8_t buf[IMC_KEYS_SECRET_ENCODED_MAX + 1];
    size_t n = 0;
    imc_device_public pub;
    imc_device_keys k;

    CHECK_OK(imc_keys_check(&f->sender, f->b));
    CHECK_OK(imc_keys_encode_public(buf, sizeof buf, &n, &f->sender.pub));
    CHECK(n == imc_keys_public_size(f->s->id) && n <= IMC_KEYS_PUBLIC_ENCODED_MAX);
    CHECK(memcmp(buf, "IMCP", 4) == 0);
    CHECK_OK(imc_keys_decode_public(&pub, buf, n));
    CHECK(memcmp(&pub, &f->sender.pub, sizeof pub) == 0);
    CHECK_ST(imc_keys_decode_public(&pub, buf, n - 1), IMC_ERR_MALFORMED);
    CHECK(imc_ct_is_zero(&pub, sizeof pub));
    buf[n] = 0;
    CHECK_ST(imc_keys_decode_public(&pub, buf, n + 1), IMC_ERR_MALFORMED);
    CHECK_ST(imc_keys_decode_secret(&k, f->b, buf, n), IMC_ERR_MALFORMED);
    buf[5] = 2; /* version */
    CHECK_ST(imc_keys_decode_public(&pub, buf, n), IMC_ERR_MALFORMED);
    buf[5] = 1;
    buf[7] = 9; /* suite */
    CHECK_ST(imc_keys_decode_public(&pub, buf, n), IMC_ERR_MALFORMED);
    CHECK_ST(imc_keys_encode_public(buf, n - 1, &n, &f->sender.pub), IMC_ERR_NO_SPACE);
    CHECK(n == 0);

    CHECK_OK(imc_keys_encode_secret(buf, sizeof buf, &n, &f->sender));
    CHECK(n == imc_keys_secret_size(f->s->id) && n <= IMC_KEYS_SECRET_ENCODED_MAX);
    CHECK_OK(imc_keys_decode_secret(&k, f->b, buf, n));
    CHECK(memcmp(&k, &f->sender, sizeof k) == 0);
    CHECK_ST(imc_keys_decode_public(&pub, buf, n), IMC_ERR_MALFORMED);
    /* A secret that does not match its public key: both halves. */
    buf[n - 1] ^= 1;
    CHECK_ST(imc_keys_decode_secret(&k, f->b, buf, n), IMC_ERR_WEAK_KEY);
    CHECK(imc_ct_is_zero(&k, sizeof k));
    buf[n - 1] ^= 1;
    buf[n - 1 - f->s->sig_secret_bytes] ^= 1;
    CHECK_ST(imc_keys_decode_secret(&k, f->b, buf, n), IMC_ERR_WEAK_KEY);
    buf[n - 1 - f->s->sig_secret_bytes] ^= 1;
    buf[16] ^= 1; /* the DH public key */
    CHECK_ST(imc_keys_decode_secret(&k, f->b, buf, n), IMC_ERR_WEAK_KEY);
    buf[16] ^= 1;
    CHECK_OK(imc_keys_decode_secret(&k, f->b, buf, n));
    imc_keys_wipe(&k);
    CHECK(imc_ct_is_zero(&k, sizeof k));

    CHECK_ST(imc_keys_generate(&k, f->b, NULL, 0, 1), IMC_ERR_NOT_FOUND);
    CHECK_ST(imc_keys_generate(&k, NULL, NULL, 1, 1), IMC_ERR_ARG);
    CHECK(imc_keys_public_size(0) == 0 && imc_keys_secret_size(4) == 0);
}

/* ---- Replay cache --------------------------------------------------------- */

int main(void)
{
    const imc_backend *bs[MAXB];
    size_t nb = imc_test_backends(bs, MAXB);
    CHECK(nb >= 1);
    static uint8_t ref[1024];
    size_t ref_len = 0;
    for (size_t i = 0; i < nb; i++) {
        for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
            const imc_suite *s = imc_suite_get(id);
            if (!imc_suite_supported(s, bs[i]))
                continue;
            printf("backend %s, suite %s\n", imc_backend_name(bs[i]), s->name);
            fixture *f = malloc(sizeof *f);
            if (!setup(f, bs[i], s, id)) {
                free(f);
                continue;
            }
            static const size_t sizes[] = {0, 1, 13, 1000, IMC_MAX_BODY_BYTES};
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
                round_trip(f, sizes[k]);
            uint8_t env[1024];
            size_t env_len = 0;
            determinism(f, env, sizeof env, &env_len);
            /* Suite 1 with the deterministic RNG: the same bytes on every
             * backend. */
            if (id == IMC_SUITE_X25519_ED25519_CHACHA20POLY1305) {
                if (ref_len == 0) {
                    memcpy(ref, env, env_len);
                    ref_len = env_len;
                } else {
                    CHECK(env_len == ref_len && memcmp(env, ref, env_len) == 0);
                }
            }
            encrypt_args(f);
            codec_rejects(f);
            keys(f);
            imc_keys_wipe(&f->sender);
            free(f);
        }
    }
    return imc_test_end();
}
