/* End to end through the key directory, on both stores and every backend:
 * three accounts with several devices register (proof of possession), each
 * device looks everyone up into its own cache, alice's device sends one
 * envelope to bob and carol (and to her own other devices), the service
 * fans it out and every device decrypts it with the sender's keys from its
 * cache. Then bob revokes a device: once alice's cache has the news, the
 * next message no longer reaches it, that device can neither read another
 * device's delivery nor send, and a message sent by a revoked device is
 * refused by the others. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#define NDEV 9
#define BODY "the same bytes for every device"

static const char *const HANDLES[3] = {"alice@example.com", "bob@example.com", "+14155550100"};
/* Device ids and their accounts: alice 11..13, bob 21..22, carol 31..34. */
static const uint64_t IDS[NDEV] = {11, 12, 13, 21, 22, 31, 32, 33, 34};
static const int OWNER[NDEV] = {0, 0, 0, 1, 1, 2, 2, 2, 2};

static uint8_t g_resp[IMC_DIR_RESPONSE_MAX_BYTES(3)];
static uint8_t g_env[65536];
static uint8_t g_del[8192];
static uint8_t g_out[1024];

typedef struct device {
    imc_device_keys keys;
    imc_dircache *cache;
    imc_replay *replay;
    int revoked;
} device;

typedef struct world {
    const imc_backend *b;
    imc_dir_store store;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES];
    device dev[NDEV];
    imc_delivery_view views[IMC_MAX_RECIPIENTS];
} world;

static int index_of(uint64_t id)
{
    for (int i = 0; i < NDEV; i++)
        if (IDS[i] == id)
            return i;
    return -1;
}

/* Device i looks all three handles up and applies the answer. */
static imc_status refresh(world *w, int i, uint64_t now)
{
    imc_dir_handle hs[3] = {fx_h(HANDLES[0]), fx_h(HANDLES[1]), fx_h(HANDLES[2])};
    size_t len = 0, n = 0;
    imc_dir_change ch[3 * IMC_DIR_CHANGES_MAX_PER_ENTRY];
    imc_status st = imc_dir_lookup_batch(g_resp, sizeof g_resp, &len, &w->d, now, hs, 3);
    if (st == IMC_OK)
        st =
            imc_dircache_apply(w->dev[i].cache, ch, sizeof ch / sizeof ch[0], &n, now, g_resp, len);
    return st;
}

/* Device `from` sends to bob and carol; returns the deliveries made and
 * checks every one decrypts on its device (and only there). */
static size_t send_and_deliver(world *w, int from, uint64_t now, int *reached)
{
    device *s = &w->dev[from];
    imc_dir_handle to[2] = {fx_h(HANDLES[1]), fx_h(HANDLES[2])};
    imc_device_public rcpts[IMC_MAX_RECIPIENTS];
    imc_msg_send req;
    size_t bad = 0, env_len = 0, count = 0;
    memset(reached, 0, NDEV * sizeof *reached);
    imc_status st = imc_dircache_prepare_send(&req, rcpts, IMC_MAX_RECIPIENTS, &bad, s->cache, now,
                                              &s->keys, to, 2);
    CHECK_OK(st);
    if (st != IMC_OK)
        return 0;
    req.timestamp_ms = now;
    req.body = (const uint8_t *)BODY;
    req.body_len = sizeof BODY - 1;
    CHECK_OK(imc_msg_encrypt(g_env, sizeof g_env, &env_len, w->b, NULL, &req));
    CHECK_OK(imc_msg_fanout(w->views, IMC_MAX_RECIPIENTS, &count, g_env, env_len));
    CHECK(count == req.recipient_count);
    for (size_t v = 0; v < count; v++) {
        size_t del_len = 0;
        int r = index_of(w->views[v].device_id);
        CHECK(r >= 0 && r != from);
        if (r < 0)
            continue;
        CHECK_OK(imc_delivery_view_copy(g_del, sizeof g_del, &del_len, &w->views[v]));
        device *me = &w->dev[r];
        imc_msg_peer peer;
        imc_msg_received info;
        CHECK_OK(imc_dircache_peer(&peer, me->cache, now, (const uint8_t *)HANDLES[OWNER[from]],
                                   strlen(HANDLES[OWNER[from]]), s->keys.pub.device_id));
        st = imc_msg_decrypt(g_out, sizeof g_out, &info, w->b, &me->keys, &peer, me->replay, now,
                             g_del, del_len);
        CHECK_OK(st);
        int ok = st == IMC_OK && info.body_len == sizeof BODY - 1 &&
                 memcmp(g_out, BODY, info.body_len) == 0 &&
                 info.sender_device == s->keys.pub.device_id;
        CHECK(ok);
        reached[r] = ok;
        /* Any other device holding this delivery learns nothing. */
        int other = (r + 1) % NDEV;
        if (other != from) {
            CHECK_OK(imc_dircache_peer(&peer, w->dev[other].cache, now,
                                       (const uint8_t *)HANDLES[OWNER[from]],
                                       strlen(HANDLES[OWNER[from]]), s->keys.pub.device_id));
            CHECK_ST(imc_msg_decrypt(g_out, sizeof g_out, &info, w->b, &w->dev[other].keys, &peer,
                                     NULL, 0, g_del, del_len),
                     IMC_ERR_AUTH);
        }
    }
    return count;
}

static void run(const imc_backend *b, fx_store_kind kind, const char *tmp)
{
    printf("  %s / %s\n", imc_backend_name(b), FX_STORE_NAMES[kind]);
    static world w;
    memset(&w, 0, sizeof w);
    w.b = b;
    uint8_t sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, w.pk, sk);
    CHECK_OK(fx_store_open(&w.store, kind, b, tmp, "e2e"));
    CHECK_OK(imc_dir_init(&w.d, b, w.store, sk, NULL));
    imc_wipe(sk, sizeof sk);
    uint64_t now = FX_NOW;
    size_t n = 0;

    /* Every device makes its keys and registers itself. */
    for (int i = 0; i < NDEV; i++) {
        device *dv = &w.dev[i];
        CHECK_OK(fx_keys(&dv->keys, b, 1, IDS[i], 0));
        CHECK_OK(fx_register(g_resp, &n, &w.d, HANDLES[OWNER[i]], &dv->keys));
        imc_dircache_options o = {
            16,    3600000, 60000, (const uint8_t *)HANDLES[OWNER[i]], strlen(HANDLES[OWNER[i]]),
            IDS[i], NULL,  false, NULL};
        CHECK_OK(imc_dircache_new(&dv->cache, b, w.pk, &o));
        CHECK_OK(imc_replay_open(&dv->replay, NULL, NULL, b, NULL));
        if (dv->replay == NULL || dv->cache == NULL)
            return;
    }
    int ok = 1;
    for (int i = 0; i < NDEV; i++)
        ok &= refresh(&w, i, now) == IMC_OK;
    CHECK(ok);

    /* Alice's first device sends: 2 own + 2 bob + 4 carol = 8 deliveries. */
    int reached[NDEV];
    CHECK(send_and_deliver(&w, 0, now, reached) == 8);
    for (int i = 0; i < NDEV; i++)
        CHECK(reached[i] == (i != 0));
    /* Keep alice's list for the disagreement report below. */
    imc_device_public before[16];
    size_t before_n = 0;
    imc_dir_handle to[2] = {fx_h(HANDLES[1]), fx_h(HANDLES[2])};
    CHECK_OK(imc_dircache_recipients(before, 16, &before_n, NULL, w.dev[0].cache, now, 1, to, 2));

    /* Bob revokes device 22 (signed by his account key). */
    now += 1000;
    CHECK_OK(fx_revoke(g_resp, &n, &w.d, HANDLES[1], 22));
    w.dev[4].revoked = 1;
    /* Until alice refreshes, her cache still lists 22; the directory says
     * it is extra. */
    ok = 1;
    for (int i = 0; i < NDEV; i++)
        ok &= refresh(&w, i, now) == IMC_OK;
    CHECK(ok);
    imc_dir_mismatch mm[4];
    size_t mn = 0;
    CHECK_OK(imc_dircache_compare(mm, 4, &mn, w.dev[0].cache, now, to, 2, before, before_n));
    CHECK(mn == 1 && mm[0].kind == IMC_DIR_DEVICE_EXTRA && mm[0].device_id == 22);

    /* The next message no longer reaches 22. */
    CHECK(send_and_deliver(&w, 0, now, reached) == 7);
    for (int i = 0; i < NDEV; i++)
        CHECK(reached[i] == (i != 0 && i != 4));
    /* 22 cannot read bob's other device's delivery of it (the views of the
     * last send still point into its envelope) ... */
    size_t del_len = 0;
    for (size_t v = 0; v < 7; v++) {
        if (w.views[v].device_id != 21)
            continue;
        CHECK_OK(imc_delivery_view_copy(g_del, sizeof g_del, &del_len, &w.views[v]));
        imc_msg_peer peer;
        imc_msg_received info;
        CHECK_OK(
            imc_dircache_peer(&peer, w.dev[4].cache, now, (const uint8_t *)HANDLES[0], 17, 11));
        CHECK_ST(imc_msg_decrypt(g_out, sizeof g_out, &info, b, &w.dev[4].keys, &peer, NULL, 0,
                                 g_del, del_len),
                 IMC_ERR_AUTH);
    }
    /* ... nor send (its own entry no longer lists it) ... */
    imc_msg_send req;
    imc_device_public rcpts[16];
    size_t bad = 0;
    CHECK_ST(imc_dircache_prepare_send(&req, rcpts, 16, &bad, w.dev[4].cache, now, &w.dev[4].keys,
                                       to, 1),
             IMC_ERR_NOT_FOUND);
    /* ... and what it sends with a stale view is refused by the others:
     * they cannot resolve it as a sender. */
    imc_msg_peer peer;
    CHECK_ST(imc_dircache_peer(&peer, w.dev[5].cache, now, (const uint8_t *)HANDLES[1], 15, 22),
             IMC_ERR_NOT_FOUND);
    CHECK_OK(imc_dircache_peer(&peer, w.dev[5].cache, now, (const uint8_t *)HANDLES[1], 15, 21));

    /* Carol's device sends too: it reaches alice's three, bob's one and
     * carol's three others. */
    int sent_from_carol = 5;
    imc_dir_handle to_all[2] = {fx_h(HANDLES[0]), fx_h(HANDLES[1])};
    imc_msg_send r2;
    imc_device_public rc[16];
    CHECK_OK(imc_dircache_prepare_send(&r2, rc, 16, &bad, w.dev[sent_from_carol].cache, now,
                                       &w.dev[sent_from_carol].keys, to_all, 2));
    CHECK(r2.recipient_count == 7);

    for (int i = 0; i < NDEV; i++) {
        imc_keys_wipe(&w.dev[i].keys);
        imc_dircache_free(w.dev[i].cache);
        imc_replay_close(w.dev[i].replay);
    }
    CHECK_OK(imc_dir_check(&w.d));
    imc_dir_wipe(&w.d);
    imc_dir_store_close(&w.store);
}

int main(void)
{
    const imc_backend *bs[4];
    size_t nb = imc_test_backends(bs, 4);
    CHECK(nb > 0);
    for (size_t i = 0; i < nb; i++) {
        char tmp[512];
        CHECK(fx_tmpdir(tmp, sizeof tmp));
        run(bs[i], FX_MEM, tmp);
        run(bs[i], FX_LMDB, tmp);
        fx_rmdir(tmp);
    }
    return imc_test_end();
}
