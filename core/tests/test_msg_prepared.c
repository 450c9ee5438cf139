/* Messages with prepared device keys (imc_msg_device_prepare,
 * imc_msg_encrypt_prepared, imc_msg_decrypt_prepared), label unit: on every
 * backend and suite it supports, the same envelope bytes as with raw keys
 * (deterministic random source; one device and eight, where encrypt also
 * prepares the ephemeral secret), the same bodies decrypted, and the
 * refusals: keys prepared from another sender, a NULL device, another
 * device's prepared keys. */
#include "test.h"

#define NDEV 8
#define MAXB 8
#define BODY_LEN 100

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = "test_msg_prepared, fixed seed..";
static const uint8_t HANDLE[] = "alice@example.com";
#define HANDLE_LEN (sizeof HANDLE - 1)

static uint8_t env1[65536], env2[65536], del[65536], out1[BODY_LEN], out2[BODY_LEN];

static void run(const imc_backend *b, const imc_suite *s, size_t ndev)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, s->id);
    imc_device_keys sender, rcpt[NDEV];
    imc_device_public pubs[NDEV];
    CHECK_OK(imc_keys_generate(&sender, b, &rng, s->id, 7));
    for (size_t i = 0; i < ndev; i++) {
        CHECK_OK(imc_keys_generate(&rcpt[i], b, &rng, s->id, 100 + i));
        pubs[i] = rcpt[i].pub;
    }
    uint8_t body[BODY_LEN];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 3);
    imc_msg_send req = {HANDLE, HANDLE_LEN, &sender, pubs, ndev, 1700000000000ull, body,
                        sizeof body};
    imc_msg_device ps, pr;
    CHECK_OK(imc_msg_device_prepare(&ps, b, &sender));
    size_t n1 = 0, n2 = 0;
    imc_rng_init_deterministic(&rng, SEED, 99);
    CHECK_OK(imc_msg_encrypt(env1, sizeof env1, &n1, b, &rng, &req));
    imc_rng_init_deterministic(&rng, SEED, 99);
    CHECK_OK(imc_msg_encrypt_prepared(env2, sizeof env2, &n2, &rng, &ps, &req));
    CHECK(n1 == n2 && n1 > 0 && memcmp(env1, env2, n1) == 0);

    /* Every device decrypts the delivery with its prepared keys as with
     * its raw ones; another device's prepared keys do not open it. */
    imc_delivery_view views[NDEV];
    size_t count = 0;
    CHECK_OK(imc_msg_fanout(views, NDEV, &count, env2, n2));
    CHECK(count == ndev);
    imc_msg_peer peer = {HANDLE, HANDLE_LEN, &sender.pub};
    for (size_t i = 0; i < count; i++) {
        size_t dl = 0;
        CHECK_OK(imc_delivery_view_copy(del, sizeof del, &dl, &views[i]));
        const imc_device_keys *me = NULL;
        for (size_t k = 0; k < ndev; k++)
            if (rcpt[k].pub.device_id == views[i].device_id)
                me = &rcpt[k];
        CHECK(me != NULL);
        if (me == NULL)
            continue;
        imc_msg_received a, c;
        CHECK_OK(imc_msg_decrypt(out1, sizeof out1, &a, b, me, &peer, NULL,
                                 req.timestamp_ms, del, dl));
        CHECK_OK(imc_msg_device_prepare(&pr, b, me));
        CHECK_OK(imc_msg_decrypt_prepared(out2, sizeof out2, &c, &pr, &peer, NULL,
                                          req.timestamp_ms, del, dl));
        CHECK(memcmp(out1, body, sizeof body) == 0 && memcmp(out2, body, sizeof body) == 0);
        CHECK(a.body_len == c.body_len && memcmp(a.message_id, c.message_id, 16) == 0);
        imc_msg_device_free(&pr);
        if (ndev > 1) {
            const imc_device_keys *other = me == &rcpt[0] ? &rcpt[1] : &rcpt[0];
            CHECK_OK(imc_msg_device_prepare(&pr, b, other));
            memset(out2, 0xAA, sizeof out2);
            CHECK_ST(imc_msg_decrypt_prepared(out2, sizeof out2, &c, &pr, &peer, NULL,
                                              req.timestamp_ms, del, dl),
                     IMC_ERR_AUTH);
            CHECK(imc_ct_is_zero(out2, sizeof out2) && imc_ct_is_zero(&c, sizeof c));
            imc_msg_device_free(&pr);
        }
    }

    /* Refusals. */
    imc_msg_device_free(&ps);
    CHECK(imc_ct_is_zero(&ps, sizeof ps));
    CHECK_OK(imc_msg_device_prepare(&ps, b, &rcpt[0])); /* not req's sender */
    CHECK_ST(imc_msg_encrypt_prepared(env2, sizeof env2, &n2, NULL, &ps, &req), IMC_ERR_ARG);
    CHECK(n2 == 0);
    CHECK_ST(imc_msg_encrypt_prepared(env2, sizeof env2, &n2, NULL, NULL, &req), IMC_ERR_ARG);
    imc_msg_received c;
    CHECK_ST(imc_msg_decrypt_prepared(out2, sizeof out2, &c, NULL, &peer, NULL, 0, del, 1),
             IMC_ERR_ARG);
    imc_msg_device_free(&ps);
    imc_msg_device_free(NULL);
    CHECK_ST(imc_msg_device_prepare(NULL, b, &sender), IMC_ERR_ARG);
    CHECK_ST(imc_msg_device_prepare(&ps, NULL, &sender), IMC_ERR_ARG);
    CHECK(imc_ct_is_zero(&ps, sizeof ps));
    imc_keys_wipe(&sender);
    for (size_t i = 0; i < ndev; i++)
        imc_keys_wipe(&rcpt[i]);
}

int main(void)
{
    const imc_backend *bs[MAXB];
    size_t nb = imc_test_backends(bs, MAXB);
    size_t runs = 0;
    for (size_t i = 0; i < nb; i++) {
        for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
            const imc_suite *s = imc_suite_get(id);
            if (!imc_suite_supported(s, bs[i]))
                continue;
            run(bs[i], s, 1);
            run(bs[i], s, NDEV);
            runs++;
        }
    }
    printf("%zu (backend, suite) pairs\n", runs);
    CHECK(runs > 0);
    return imc_test_end();
}
