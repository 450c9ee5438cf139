/* The client-side directory cache: applying signed responses and the
 * key-change notifications, recipients (own other devices included),
 * peers, the missing/extra/stale report, TTL and eviction; and every
 * rejection (forged, re-signed, rolled back, equivocating, truncated,
 * trailing, oversize, duplicate, expired, future), each shown to leave the
 * cache exactly as it was. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#define TTL 60000u
#define SKEW 1000u

static uint8_t g_resp[IMC_DIR_RESPONSE_MAX_BYTES(8)];
static uint8_t g_old[IMC_DIR_RESPONSE_MAX_BYTES(8)];
static uint8_t g_mut[IMC_DIR_RESPONSE_MAX_BYTES(8) + 1];

typedef struct world {
    const imc_backend *b;
    imc_dir_store store;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    imc_device_keys k[10]; /* k[i] is device i (1..9); k[0] unused */
    imc_device_keys k4r, k1r;
} world;

static const char *const ALICE = "alice@example.com";
static const char *const BOB = "bob@example.com";
static const char *const CAROL = "+14155550100";
static const char *const DAVE = "dave@example.com";

static size_t lookup(world *w, uint64_t now, const char *const *names, size_t n, uint8_t *out)
{
    imc_dir_handle hs[8];
    for (size_t i = 0; i < n; i++)
        hs[i] = fx_h(names[i]);
    size_t len = 0;
    CHECK_OK(imc_dir_lookup_batch(out, IMC_DIR_RESPONSE_MAX_BYTES(8), &len, &w->d, now, hs, n));
    return len;
}

static int change_is(const imc_dir_change *c, size_t entry, uint64_t id, imc_dir_change_kind k)
{
    return c->entry == entry && c->device_id == id && c->kind == k;
}

/* The cache digest around a call that must fail. */
#define UNCHANGED(c, expr, want)                                                                   \
    do {                                                                                           \
        uint8_t before_[IMC_SHA256_BYTES], after_[IMC_SHA256_BYTES];                               \
        CHECK_OK(imc_dircache_digest(before_, c));                                                 \
        CHECK_ST(expr, want);                                                                      \
        CHECK_OK(imc_dircache_digest(after_, c));                                                  \
        CHECK(memcmp(before_, after_, IMC_SHA256_BYTES) == 0);                                     \
    } while (0)

static imc_status apply(imc_dircache *c, uint64_t now, const uint8_t *resp, size_t len)
{
    imc_dir_change ch[IMC_DIR_CHANGES_MAX_PER_ENTRY * 8];
    size_t n = 0;
    return imc_dircache_apply(c, ch, sizeof ch / sizeof ch[0], &n, now, resp, len);
}

/* imc_dircache_apply keeping only the device changes in ch (the account
 * and version reports are checked by test_dir_trust). */
static imc_status apply_dev(imc_dircache *c, imc_dir_change *ch, size_t cap, size_t *n,
                            uint64_t now, const uint8_t *resp, size_t len)
{
    static imc_dir_change all[IMC_DIR_CHANGES_MAX_PER_ENTRY * 8];
    size_t m = 0;
    imc_status st = imc_dircache_apply(c, all, sizeof all / sizeof all[0], &m, now, resp, len);
    *n = 0;
    for (size_t i = 0; i < m; i++)
        if (all[i].kind <= IMC_DIR_DEVICE_CHANGED && *n < cap)
            ch[(*n)++] = all[i];
    return st;
}

static void setup(world *w, const imc_backend *b)
{
    memset(w, 0, sizeof *w);
    w->b = b;
    fx_dir_key(b, 0, w->pk, w->sk);
    CHECK_OK(imc_dir_store_mem_open(&w->store, b, 0));
    CHECK_OK(imc_dir_init(&w->d, b, w->store, w->sk, NULL));
    for (uint64_t i = 1; i < 10; i++)
        CHECK_OK(fx_keys(&w->k[i], b, i == 9 ? 3 : 1, i, 0)); /* device 9: suite 3 */
    CHECK_OK(fx_keys(&w->k4r, b, 1, 4, 1));
    CHECK_OK(fx_keys(&w->k1r, b, 1, 1, 1));
    size_t n = 0;
    const char *owner[] = {NULL, ALICE, ALICE, BOB, BOB, CAROL};
    for (size_t i = 1; i <= 5; i++)
        CHECK_OK(fx_register(g_resp, &n, &w->d, owner[i], &w->k[i]));
}

static void teardown(world *w)
{
    for (size_t i = 0; i < 10; i++)
        imc_keys_wipe(&w->k[i]);
    imc_dir_wipe(&w->d);
    imc_dir_store_close(&w->store);
}

static imc_dircache *alice_cache(world *w, size_t capacity)
{
    imc_dircache_options o = {capacity, TTL, SKEW, (const uint8_t *)ALICE, strlen(ALICE), 1, NULL, false, NULL};
    imc_dircache *c = NULL;
    CHECK_OK(imc_dircache_new(&c, w->b, w->pk, &o));
    return c;
}

static int has_mismatch(const imc_dir_mismatch *mm, size_t n, imc_dir_mismatch_kind kind,
                        uint64_t id, size_t handle)
{
    for (size_t i = 0; i < n; i++)
        if (mm[i].kind == kind && mm[i].device_id == id && mm[i].handle == handle)
            return 1;
    return 0;
}

static void notifications(world *w)
{
    imc_dircache *c = alice_cache(w, 0);
    if (c == NULL)
        return;
    const imc_dir_record *rec = NULL;
    CHECK_ST(imc_dircache_get(&rec, c, FX_NOW, (const uint8_t *)BOB, 15), IMC_ERR_NOT_FOUND);
    CHECK(rec == NULL);

    const char *three[] = {ALICE, BOB, CAROL};
    size_t len = lookup(w, FX_NOW, three, 3, g_resp);
    memcpy(g_old, g_resp, len);
    size_t old_len = len;
    imc_dir_change ch[32];
    size_t n = 0;
    CHECK_OK(apply_dev(c, ch, 32, &n, FX_NOW, g_resp, len));
    CHECK(n == 5);
    CHECK(n == 5 && change_is(&ch[0], 0, 1, IMC_DIR_DEVICE_ADDED) &&
          change_is(&ch[1], 0, 2, IMC_DIR_DEVICE_ADDED) &&
          change_is(&ch[2], 1, 3, IMC_DIR_DEVICE_ADDED) &&
          change_is(&ch[3], 1, 4, IMC_DIR_DEVICE_ADDED) &&
          change_is(&ch[4], 2, 5, IMC_DIR_DEVICE_ADDED));
    CHECK(imc_dircache_global_epoch(c) == 5 && imc_dircache_count(c) == 3);
    CHECK_OK(imc_dircache_get(&rec, c, FX_NOW, (const uint8_t *)BOB, 15));
    CHECK(rec != NULL && rec->epoch == 2 && rec->device_count == 2);
    /* The same again, later: nothing changed. */
    len = lookup(w, FX_NOW + 10, three, 3, g_resp);
    CHECK_OK(apply_dev(c, ch, 32, &n, FX_NOW + 10, g_resp, len));
    CHECK(n == 0);

    /* Recipients for bob and carol: theirs and alice's other device, sorted,
     * without this device; naming alice or a handle twice changes nothing. */
    imc_device_public out[16];
    size_t count = 0, bad = 0;
    imc_dir_handle to[4] = {fx_h(CAROL), fx_h(BOB), fx_h(ALICE), fx_h(BOB)};
    CHECK_OK(imc_dircache_recipients(out, 16, &count, &bad, c, FX_NOW, 1, to, 4));
    CHECK(count == 4 && out[0].device_id == 2 && out[1].device_id == 3 && out[2].device_id == 4 &&
          out[3].device_id == 5);
    CHECK(imc_dir_device_equal(&out[2], &w->k[4].pub));
    CHECK_ST(imc_dircache_recipients(out, 3, &count, &bad, c, FX_NOW, 1, to, 2), IMC_ERR_NO_SPACE);
    imc_dir_handle who[1] = {fx_h(DAVE)};
    CHECK_ST(imc_dircache_recipients(out, 16, &count, &bad, c, FX_NOW, 1, who, 1),
             IMC_ERR_NOT_FOUND);
    CHECK(bad == 0 && count == 0);
    /* Keep the list a sender would have used, for compare below. */
    imc_device_public sent[16];
    size_t sent_n = 0;
    CHECK_OK(imc_dircache_recipients(sent, 16, &sent_n, NULL, c, FX_NOW, 1, to, 2));

    /* prepare_send fills the request for imc_msg_encrypt. */
    imc_msg_send req;
    CHECK_OK(imc_dircache_prepare_send(&req, out, 16, &bad, c, FX_NOW, &w->k[1], to, 2));
    CHECK(req.recipient_count == 4 && req.recipients == out && req.sender == &w->k[1]);
    CHECK(req.sender_handle_len == 17 && memcmp(req.sender_handle, ALICE, 17) == 0);
    CHECK_ST(imc_dircache_prepare_send(&req, out, 16, &bad, c, FX_NOW, &w->k[2], to, 2),
             IMC_ERR_ARG);
    CHECK_ST(imc_dircache_prepare_send(&req, out, 16, &bad, c, FX_NOW, &w->k1r, to, 2),
             IMC_ERR_STALE);
    CHECK(bad == 2);

    /* Bob adds device 6, rotates 4, revokes 3: one notification each. */
    size_t rl = 0;
    CHECK_OK(fx_register(g_resp, &rl, &w->d, BOB, &w->k[6]));
    CHECK_OK(apply_dev(c, ch, 32, &n, FX_NOW, g_resp, rl));
    CHECK(n == 1 && change_is(&ch[0], 0, 6, IMC_DIR_DEVICE_ADDED));
    CHECK_OK(fx_rotate(g_resp, &rl, &w->d, BOB, &w->k[4], &w->k4r));
    CHECK_OK(apply_dev(c, ch, 32, &n, FX_NOW, g_resp, rl));
    CHECK(n == 1 && change_is(&ch[0], 0, 4, IMC_DIR_DEVICE_CHANGED));
    memcpy(g_mut, g_resp, rl); /* bob at epoch 4, with device 3 */
    size_t bob4_len = rl;
    CHECK_OK(fx_revoke(g_resp, &rl, &w->d, BOB, 3));
    CHECK_OK(apply_dev(c, ch, 32, &n, FX_NOW, g_resp, rl));
    CHECK(n == 1 && change_is(&ch[0], 0, 3, IMC_DIR_DEVICE_REMOVED));
    CHECK(imc_dircache_global_epoch(c) == 8);

    /* A revoked device: no longer a recipient nor a peer; bob's answer from
     * before its revocation is a rollback. */
    CHECK_OK(imc_dircache_recipients(out, 16, &count, &bad, c, FX_NOW, 1, to, 2));
    CHECK(count == 4 && out[0].device_id == 2 && out[1].device_id == 4 && out[2].device_id == 5 &&
          out[3].device_id == 6);
    imc_msg_peer peer;
    CHECK_ST(imc_dircache_peer(&peer, c, FX_NOW, (const uint8_t *)BOB, 15, 3), IMC_ERR_NOT_FOUND);
    CHECK(peer.device == NULL);
    CHECK_OK(imc_dircache_peer(&peer, c, FX_NOW, (const uint8_t *)BOB, 15, 4));
    CHECK(peer.device != NULL && imc_dir_device_equal(peer.device, &w->k4r.pub));
    CHECK(peer.handle_len == 15 && memcmp(peer.handle, BOB, 15) == 0);
    UNCHANGED(c, apply(c, FX_NOW, g_mut, bob4_len), IMC_ERR_STALE);
    UNCHANGED(c, apply(c, FX_NOW, g_old, old_len), IMC_ERR_STALE);

    /* The sender's old list disagrees: 6 missing, 3 extra, 4 stale. */
    imc_dir_mismatch mm[8];
    size_t mn = 0;
    CHECK_OK(imc_dircache_compare(mm, 8, &mn, c, FX_NOW, to, 2, sent, sent_n));
    CHECK(mn == 3);
    CHECK(has_mismatch(mm, mn, IMC_DIR_DEVICE_EXTRA, 3, SIZE_MAX));
    CHECK(has_mismatch(mm, mn, IMC_DIR_DEVICE_STALE, 4, 1));
    CHECK(has_mismatch(mm, mn, IMC_DIR_DEVICE_MISSING, 6, 1));
    CHECK_ST(imc_dircache_compare(mm, 2, &mn, c, FX_NOW, to, 2, sent, sent_n), IMC_ERR_NO_SPACE);
    CHECK(mn == 3);
    /* The list from the cache agrees; this device and repeats are extra. */
    CHECK_OK(imc_dircache_recipients(out, 16, &count, &bad, c, FX_NOW, 1, to, 2));
    CHECK_OK(imc_dircache_compare(mm, 8, &mn, c, FX_NOW, to, 2, out, count));
    CHECK(mn == 0);
    out[count] = w->k[1].pub;
    out[count + 1] = out[0];
    CHECK_OK(imc_dircache_compare(mm, 8, &mn, c, FX_NOW, to, 2, out, count + 2));
    CHECK(mn == 2 && mm[0].kind == IMC_DIR_DEVICE_EXTRA && mm[0].device_id == 1 &&
          mm[1].kind == IMC_DIR_DEVICE_EXTRA && mm[1].device_id == 2);
    /* Alice's own other device missing from the list is reported. */
    CHECK_OK(imc_dircache_compare(mm, 8, &mn, c, FX_NOW, to, 2, out + 1, count - 1));
    CHECK(mn == 1 && mm[0].kind == IMC_DIR_DEVICE_MISSING && mm[0].device_id == 2 &&
          mm[0].handle == 2);
    CHECK_ST(imc_dircache_compare(mm, 8, &mn, c, FX_NOW, who, 1, out, count), IMC_ERR_NOT_FOUND);

    /* Another suite among the recipients is refused, not skipped. */
    CHECK_OK(fx_register(g_resp, &rl, &w->d, DAVE, &w->k[9]));
    CHECK_OK(apply_dev(c, ch, 32, &n, FX_NOW, g_resp, rl));
    CHECK_ST(imc_dircache_recipients(out, 16, &count, &bad, c, FX_NOW, 1, who, 1),
             IMC_ERR_UNSUPPORTED);
    CHECK(bad == 0);

    /* This device revoked (by the account): it learns of it, and can no
     * longer send. */
    CHECK_OK(fx_revoke(g_resp, &rl, &w->d, ALICE, 1));
    CHECK_OK(apply_dev(c, ch, 32, &n, FX_NOW, g_resp, rl));
    CHECK(n == 1 && change_is(&ch[0], 0, 1, IMC_DIR_DEVICE_REMOVED));
    CHECK_ST(imc_dircache_prepare_send(&req, out, 16, &bad, c, FX_NOW, &w->k[1], to, 2),
             IMC_ERR_NOT_FOUND);
    CHECK(bad == 2 && req.recipient_count == 0);
    CHECK_ST(imc_dircache_recipients(out, 16, &count, &bad, c, FX_NOW, 1, to, 2),
             IMC_ERR_NOT_FOUND);
    CHECK(bad == 2);

    /* TTL: fresh until issued + ttl, then stale until refreshed. */
    CHECK_OK(imc_dircache_get(&rec, c, FX_NOW + TTL - 1, (const uint8_t *)CAROL, 12));
    CHECK_ST(imc_dircache_get(&rec, c, FX_NOW + 10 + TTL, (const uint8_t *)CAROL, 12),
             IMC_ERR_STALE);
    CHECK_ST(imc_dircache_peer(&peer, c, FX_NOW + 10 + TTL, (const uint8_t *)CAROL, 12, 5),
             IMC_ERR_STALE);
    imc_dir_handle carol[1] = {fx_h(CAROL)};
    CHECK_ST(imc_dircache_recipients(out, 16, &count, &bad, c, FX_NOW + 10 + TTL, 1, carol, 1),
             IMC_ERR_STALE);
    len = lookup(w, FX_NOW + 2 * TTL, three + 2, 1, g_resp);
    CHECK_OK(apply_dev(c, ch, 32, &n, FX_NOW + 2 * TTL, g_resp, len));
    CHECK(n == 0);
    CHECK_OK(imc_dircache_get(&rec, c, FX_NOW + 2 * TTL, (const uint8_t *)CAROL, 12));
    imc_dircache_free(c);
}

static void rejections(world *w)
{
    imc_dircache *c = alice_cache(w, 0);
    if (c == NULL)
        return;
    const char *three[] = {ALICE, BOB, CAROL};
    const uint64_t now = FX_NOW + 100;
    size_t len = lookup(w, now, three, 3, g_resp);
    CHECK_OK(apply(c, now, g_resp, len));
    uint64_t g = imc_dircache_global_epoch(c);
    const imc_dir_record *bob = NULL;
    CHECK_OK(imc_dircache_get(&bob, c, now, (const uint8_t *)BOB, 15));
    uint64_t bob_epoch = bob->epoch;
    imc_device_public bob_devs[IMC_MAX_DEVICES_PER_HANDLE];
    memcpy(bob_devs, bob->devices, bob->device_count * sizeof bob_devs[0]);
    size_t bob_n = bob->device_count;

    /* Forged: any byte of any entry changed. */
    int all = 1;
    for (size_t i = 4; i < len; i += 7) {
        memcpy(g_mut, g_resp, len);
        g_mut[i] ^= 0x04;
        imc_status st = apply(c, now, g_mut, len);
        all &= st == IMC_ERR_AUTH || st == IMC_ERR_MALFORMED || st == IMC_ERR_STALE ||
               st == IMC_ERR_LIMIT;
        all &= st != IMC_OK;
    }
    CHECK(all);
    memcpy(g_mut, g_resp, len);
    g_mut[len - 1] ^= 1; /* the last signature */
    UNCHANGED(c, apply(c, now, g_mut, len), IMC_ERR_AUTH);
    /* Signed by another key: not the pinned key. */
    uint8_t pk2[IMC_DIR_PUBLIC_BYTES], sk2[IMC_DIR_SECRET_BYTES];
    fx_dir_key(w->b, 5, pk2, sk2);
    fx_entry_spec bob_now = {"erin@example.com", 1, g, now, bob_n, bob_devs, FX_SPEC_TAIL};
    size_t fl = fx_build_response(g_mut, sizeof g_mut, w->b, pk2, sk2, &bob_now, 1);
    UNCHANGED(c, apply(c, now, g_mut, fl), IMC_ERR_AUTH);
    /* With the right key it is accepted (the hand-made builder is right). */
    fl = fx_build_response(g_mut, sizeof g_mut, w->b, w->pk, w->sk, &bob_now, 1);
    CHECK_OK(apply(c, now, g_mut, fl));
    /* Even the directory's own key cannot roll a handle back, nor sign two
     * device lists for one epoch. */
    fx_entry_spec spec = {BOB, bob_epoch - 1, g + 10, now, bob_n - 1, bob_devs, FX_SPEC_TAIL};
    fl = fx_build_response(g_mut, sizeof g_mut, w->b, w->pk, w->sk, &spec, 1);
    UNCHANGED(c, apply(c, now, g_mut, fl), IMC_ERR_STALE);
    spec.epoch = bob_epoch;
    fl = fx_build_response(g_mut, sizeof g_mut, w->b, w->pk, w->sk, &spec, 1);
    UNCHANGED(c, apply(c, now, g_mut, fl), IMC_ERR_AUTH);
    /* Global epoch rollback, for a handle never seen. */
    fx_entry_spec fresh = {DAVE, 1, g - 1, now, 1, bob_devs, FX_SPEC_TAIL};
    fl = fx_build_response(g_mut, sizeof g_mut, w->b, w->pk, w->sk, &fresh, 1);
    UNCHANGED(c, apply(c, now, g_mut, fl), IMC_ERR_STALE);
    /* Duplicate device ids; oversize device count. */
    imc_device_public twice[2] = {bob_devs[0], bob_devs[0]};
    fx_entry_spec dup = {DAVE, 1, g + 1, now, 2, twice, FX_SPEC_TAIL};
    fl = fx_build_response(g_mut, sizeof g_mut, w->b, w->pk, w->sk, &dup, 1);
    UNCHANGED(c, apply(c, now, g_mut, fl), IMC_ERR_MALFORMED);
    static imc_device_public lots[IMC_MAX_DEVICES_PER_HANDLE + 1];
    for (size_t i = 0; i <= IMC_MAX_DEVICES_PER_HANDLE; i++) {
        lots[i] = bob_devs[0];
        lots[i].device_id = 5000 + i;
    }
    fx_entry_spec over = {DAVE, 1, g + 1, now, IMC_MAX_DEVICES_PER_HANDLE + 1, lots, FX_SPEC_TAIL};
    fl = fx_build_response(g_mut, sizeof g_mut, w->b, w->pk, w->sk, &over, 1);
    UNCHANGED(c, apply(c, now, g_mut, fl), IMC_ERR_LIMIT);
    /* Truncated at every length and with trailing bytes. */
    uint8_t before[IMC_SHA256_BYTES], after[IMC_SHA256_BYTES];
    CHECK_OK(imc_dircache_digest(before, c));
    all = 1;
    for (size_t i = 0; i < len; i++)
        all &= apply(c, now, g_resp, i) == IMC_ERR_MALFORMED;
    CHECK(all);
    memcpy(g_mut, g_resp, len);
    g_mut[len] = 0;
    CHECK_ST(apply(c, now, g_mut, len + 1), IMC_ERR_MALFORMED);
    CHECK_OK(imc_dircache_digest(after, c));
    CHECK(memcmp(before, after, sizeof before) == 0);
    /* Expired on arrival, issued in the future. */
    UNCHANGED(c, apply(c, now + TTL, g_resp, len), IMC_ERR_STALE);
    UNCHANGED(c, apply(c, now - SKEW - 1, g_resp, len), IMC_ERR_STALE);
    CHECK_OK(apply(c, now - SKEW, g_resp, len));
    /* One bad entry spoils the batch: the good ones are not applied. */
    imc_device_public carol5 = lots[1]; /* carol's device 5 with other keys */
    carol5.device_id = 5;
    fx_entry_spec two[2] = {{DAVE, 1, g + 1, now, 1, lots, FX_SPEC_TAIL}, {CAROL, 2, g + 1, now, 1, &carol5, FX_SPEC_TAIL}};
    fl = fx_build_response(g_mut, sizeof g_mut, w->b, w->pk, w->sk, two, 2);
    g_mut[fl - 1] ^= 1;
    UNCHANGED(c, apply(c, now, g_mut, fl), IMC_ERR_AUTH);
    const imc_dir_record *r = NULL;
    CHECK_ST(imc_dircache_get(&r, c, now, (const uint8_t *)DAVE, 16), IMC_ERR_NOT_FOUND);
    /* Too little room for the changes. */
    g_mut[fl - 1] ^= 1;
    /* (dave: account pinned, version 0 -> 1, device added; carol: version
     * 1 -> 2, device changed.) */
    imc_dir_change ch[5];
    size_t n = 0;
    UNCHANGED(c, imc_dircache_apply(c, ch, 4, &n, now, g_mut, fl), IMC_ERR_NO_SPACE);
    CHECK_OK(imc_dircache_apply(c, ch, 5, &n, now, g_mut, fl));
    CHECK(n == 5 && ch[0].kind == IMC_DIR_ACCOUNT_NEW && ch[1].kind == IMC_DIR_LIST_VERSION &&
          ch[2].kind == IMC_DIR_DEVICE_ADDED && ch[3].kind == IMC_DIR_LIST_VERSION &&
          ch[3].old_version == 1 && ch[3].new_version == 2 &&
          ch[4].kind == IMC_DIR_DEVICE_CHANGED && ch[4].entry == 1);
    CHECK_OK(imc_dircache_apply(c, NULL, 0, &n, now, g_mut, fl)); /* changes not wanted */
    imc_dircache_free(c);

    /* Bad options. */
    imc_dircache *c2 = NULL;
    imc_dircache_options o = {0, 0, 0, (const uint8_t *)"Alice@example.com", 17, 1, NULL, false, NULL};
    CHECK_ST(imc_dircache_new(&c2, w->b, w->pk, &o), IMC_ERR_ARG);
    o.own_handle = (const uint8_t *)ALICE;
    o.own_device_id = 0;
    CHECK_ST(imc_dircache_new(&c2, w->b, w->pk, &o), IMC_ERR_ARG);
    CHECK_OK(imc_dircache_new(&c2, w->b, w->pk, NULL));
    CHECK(imc_dircache_count(c2) == 0);
    imc_dircache_free(c2);
    imc_wipe(sk2, sizeof sk2);
}

/* Capacity 2 with alice pinned: one slot for others, evicted by expiry
 * order; a batch that cannot fit is refused whole. */
static void eviction(world *w)
{
    imc_dircache *c = alice_cache(w, 2);
    if (c == NULL)
        return;
    const char *names[] = {ALICE, BOB, CAROL};
    uint8_t *resp = g_resp;
    size_t len = lookup(w, FX_NOW + 1, names, 1, resp);
    CHECK_OK(apply(c, FX_NOW + 1, resp, len));
    len = lookup(w, FX_NOW + 2, names + 1, 1, resp);
    CHECK_OK(apply(c, FX_NOW + 2, resp, len));
    len = lookup(w, FX_NOW + 3, names + 2, 1, resp);
    CHECK_OK(apply(c, FX_NOW + 3, resp, len)); /* evicts bob, not alice */
    const imc_dir_record *r = NULL;
    CHECK(imc_dircache_count(c) == 2);
    CHECK_ST(imc_dircache_get(&r, c, FX_NOW + 3, (const uint8_t *)BOB, 15), IMC_ERR_NOT_FOUND);
    CHECK_OK(imc_dircache_get(&r, c, FX_NOW + 3, (const uint8_t *)ALICE, 17));
    CHECK_OK(imc_dircache_get(&r, c, FX_NOW + 3, (const uint8_t *)CAROL, 12));
    len = lookup(w, FX_NOW + 4, names, 3, resp); /* bob new, but no room for him */
    UNCHANGED(c, apply(c, FX_NOW + 4, resp, len), IMC_ERR_LIMIT);
    len = lookup(w, FX_NOW + 4, names + 1, 1, resp);
    CHECK_OK(apply(c, FX_NOW + 4, resp, len)); /* evicts carol */
    CHECK_ST(imc_dircache_get(&r, c, FX_NOW + 4, (const uint8_t *)CAROL, 12), IMC_ERR_NOT_FOUND);
    CHECK_OK(imc_dircache_get(&r, c, FX_NOW + 4, (const uint8_t *)BOB, 15));
    imc_dircache_free(c);

    /* Many handles through a small cache: the index stays consistent. */
    imc_dircache *big = NULL;
    imc_dircache_options o = {8, TTL, SKEW, NULL, 0, 0, NULL, false, NULL};
    CHECK_OK(imc_dircache_new(&big, w->b, w->pk, &o));
    if (big == NULL)
        return;
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        char h[32];
        snprintf(h, sizeof h, "user%d@example.com", i);
        const char *one[1] = {h};
        len = lookup(w, FX_NOW + 10 + (uint64_t)i, one, 1, resp);
        ok &= apply(big, FX_NOW + 10 + (uint64_t)i, resp, len) == IMC_OK;
        ok &= imc_dircache_count(big) == (i < 8 ? (size_t)i + 1 : 8);
        for (int j = i - 7 > 0 ? i - 7 : 0; j <= i; j++) {
            snprintf(h, sizeof h, "user%d@example.com", j);
            ok &= imc_dircache_get(&r, big, FX_NOW + 300, (const uint8_t *)h, strlen(h)) == IMC_OK;
        }
    }
    CHECK(ok);
    imc_dircache_free(big);
}

int main(void)
{
    const imc_backend *bs[4];
    size_t nb = imc_test_backends(bs, 4);
    CHECK(nb > 0);
    for (size_t i = 0; i < nb; i++) {
        printf("  %s\n", imc_backend_name(bs[i]));
        world w;
        setup(&w, bs[i]);
        notifications(&w);
        teardown(&w);
        setup(&w, bs[i]);
        rejections(&w);
        eviction(&w);
        teardown(&w);
    }
    return imc_test_end();
}
