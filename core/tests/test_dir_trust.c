/* Directory trust (docs/directory.md, "Accounts", "Client state"): the
 * scenarios the account key and the persistent client exist for, end to
 * end through the service and the client cache.
 *
 *  1. A device registered without the account key's signature is refused
 *     by the directory; a directory that serves such a list anyway (signed
 *     by the directory key, not by the account key) is refused by the
 *     client, and one that claims a new account key is reported and not
 *     used until the user accepts it.
 *  2. The ghost add-then-revoke sequence cannot be made without the account
 *     key; made with it, the account's own device sees two device-list
 *     versions (each push, or the gap in one later lookup).
 *  3. After a restart of a persistent client, an answer older than the last
 *     one applied is refused and a revoked device stays revoked.
 *  4. An account reset is reported and blocks sending to (and receiving
 *     from) the account until accepted; the acceptance survives a restart.
 * And: account key rotation (verified, and one the client cannot check),
 * safety numbers, the client state file's strict parsing (every rule a
 * negative test) and its pinning of the directory key. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#define TTL 3600000u

static uint8_t g_resp[IMC_DIR_RESPONSE_MAX_BYTES(4)];
static uint8_t g_old[IMC_DIR_RESPONSE_MAX_BYTES(4)];
static uint8_t g_upd[IMC_DIR_UPDATE_MAX_BYTES];
static imc_dir_record g_cur;
static imc_dir_change g_ch[4 * IMC_DIR_CHANGES_MAX_PER_ENTRY];

static const char *const ALICE = "alice@example.com";
static const char *const BOB = "bob@example.com";

typedef struct world {
    const imc_backend *b;
    char tmp[512], state[600];
    imc_dir_store store;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    imc_device_keys a1, a2, b3, b4, ghost, b5;
    uint64_t now;
} world;

static size_t lookup(world *w, const char *h, uint8_t *out)
{
    size_t n = 0;
    CHECK_OK(imc_dir_lookup(out, IMC_DIR_RESPONSE_MAX_BYTES(1), &n, &w->d, w->now,
                            (const uint8_t *)h, strlen(h)));
    return n;
}

/* A persistent cache for alice's device 1 at w->state. */
static imc_dircache *alice_cache(world *w)
{
    imc_dircache_options o = {64, TTL, 60000, (const uint8_t *)ALICE, strlen(ALICE), 1,
                              w->state, false, NULL};
    imc_dircache *c = NULL;
    CHECK_OK(imc_dircache_new(&c, w->b, w->pk, &o));
    return c;
}

static imc_status apply(imc_dircache *c, size_t *n, uint64_t now, const uint8_t *r, size_t len)
{
    return imc_dircache_apply(c, g_ch, sizeof g_ch / sizeof g_ch[0], n, now, r, len);
}

static bool has_change(size_t n, imc_dir_change_kind kind, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (g_ch[i].kind == kind && g_ch[i].device_id == id)
            return true;
    return false;
}

#define UNCHANGED(c, expr, want)                                                                   \
    do {                                                                                           \
        uint8_t before_[IMC_SHA256_BYTES], after_[IMC_SHA256_BYTES];                               \
        CHECK_OK(imc_dircache_digest(before_, c));                                                 \
        CHECK_ST(expr, want);                                                                      \
        CHECK_OK(imc_dircache_digest(after_, c));                                                  \
        CHECK(memcmp(before_, after_, IMC_SHA256_BYTES) == 0);                                     \
    } while (0)

static void setup(world *w, const imc_backend *b)
{
    memset(w, 0, sizeof *w);
    w->b = b;
    w->now = FX_NOW;
    CHECK(fx_tmpdir(w->tmp, sizeof w->tmp));
    snprintf(w->state, sizeof w->state, "%s/client.mdb", w->tmp);
    fx_dir_key(b, 0, w->pk, w->sk);
    CHECK_OK(fx_store_open(&w->store, FX_LMDB, b, w->tmp, "dir"));
    CHECK_OK(imc_dir_init(&w->d, b, w->store, w->sk, NULL));
    CHECK_OK(fx_keys(&w->a1, b, 1, 1, 0));
    CHECK_OK(fx_keys(&w->a2, b, 1, 2, 0));
    CHECK_OK(fx_keys(&w->b3, b, 1, 3, 0));
    CHECK_OK(fx_keys(&w->b4, b, 1, 4, 0));
    CHECK_OK(fx_keys(&w->ghost, b, 1, 666, 0));
    CHECK_OK(fx_keys(&w->b5, b, 1, 5, 0));
    size_t n = 0;
    CHECK_OK(fx_register(g_resp, &n, &w->d, ALICE, &w->a1));
    CHECK_OK(fx_register(g_resp, &n, &w->d, ALICE, &w->a2));
    CHECK_OK(fx_register(g_resp, &n, &w->d, BOB, &w->b3));
    CHECK_OK(fx_register(g_resp, &n, &w->d, BOB, &w->b4));
}

static void teardown(world *w)
{
    imc_keys_wipe(&w->a1);
    imc_keys_wipe(&w->a2);
    imc_keys_wipe(&w->b3);
    imc_keys_wipe(&w->b4);
    imc_keys_wipe(&w->ghost);
    imc_keys_wipe(&w->b5);
    imc_dir_wipe(&w->d);
    imc_dir_store_close(&w->store);
    fx_rmdir(w->tmp);
}

/* ---- 1. No device without the account key ------------------------------- */

static void no_ghost_without_account(world *w, imc_dircache *c)
{
    uint8_t other_pk[32], other_sk[32];
    fx_account(w->b, "mallory@example.com", 0, other_pk, other_sk);
    size_t ul = 0, n = 0;
    /* The directory refuses it: the ghost's own proof is fine, its list is
     * signed by a key that is not bob's account key. */
    CHECK_OK(imc_dir_get(&g_cur, &w->d, (const uint8_t *)BOB, strlen(BOB)));
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, w->b, w->pk, &g_cur, other_sk,
                                   &w->ghost));
    fx_snapshot before = fx_snap(&w->d);
    CHECK_ST(imc_dir_update(g_resp, sizeof g_resp, &n, &w->d, w->now, g_upd, ul), IMC_ERR_AUTH);
    fx_snapshot after = fx_snap(&w->d);
    CHECK(fx_same(&before, &after));

    /* A directory that serves it anyway. Bob's real list is known to the
     * client first. */
    size_t len = lookup(w, BOB, g_resp);
    CHECK_OK(apply(c, &n, w->now, g_resp, len));
    CHECK(has_change(n, IMC_DIR_ACCOUNT_NEW, 0) && has_change(n, IMC_DIR_DEVICE_ADDED, 4));
    imc_device_public ghost_list[3] = {w->b3.pub, w->b4.pub, w->ghost.pub};
    fx_entry_spec spec = {BOB, g_cur.epoch + 1, g_cur.epoch + 10, w->now, 3, ghost_list,
                          FX_SPEC_TAIL};
    spec.forge_list = true; /* bob's key named, the signature not his */
    len = fx_build_response(g_old, sizeof g_old, w->b, w->pk, w->sk, &spec, 1);
    CHECK(len > 0);
    UNCHANGED(c, apply(c, &n, w->now, g_old, len), IMC_ERR_AUTH);
    /* Signed by a key of the directory's choosing: a new account key, which
     * the client reports and does not use. */
    spec.forge_list = false;
    spec.account_sk = other_sk;
    len = fx_build_response(g_old, sizeof g_old, w->b, w->pk, w->sk, &spec, 1);
    imc_dircache *c2 = NULL;
    imc_dircache_options o = {8, TTL, 60000, (const uint8_t *)ALICE, strlen(ALICE), 1, NULL,
                              false, NULL};
    CHECK_OK(imc_dircache_new(&c2, w->b, w->pk, &o));
    size_t l0 = lookup(w, BOB, g_resp);
    CHECK_OK(imc_dircache_apply(c2, NULL, 0, &n, w->now, g_resp, l0));
    CHECK_OK(imc_dircache_apply(c2, g_ch, 64, &n, w->now, g_old, len));
    CHECK(has_change(n, IMC_DIR_ACCOUNT_UNCONFIRMED, 0) && has_change(n, IMC_DIR_DEVICE_ADDED, 666));
    imc_device_public out[8];
    size_t count = 0, bad = 0;
    imc_dir_handle to[1] = {fx_h(BOB)};
    CHECK_ST(imc_dircache_recipients(out, 8, &count, &bad, c2, w->now, 1, to, 1), IMC_ERR_AUTH);
    CHECK(bad == 0 && count == 0);
    imc_msg_peer peer;
    CHECK_ST(imc_dircache_peer(&peer, c2, w->now, (const uint8_t *)BOB, 15, 666), IMC_ERR_AUTH);
    imc_dircache_free(c2);
    imc_wipe(other_sk, sizeof other_sk);
}

/* ---- 2. Ghost add-then-revoke, signed by the account key ---------------- */

static void ghost_seen_by_own_device(world *w, imc_dircache *c)
{
    size_t n = 0, rl = 0;
    size_t l0 = lookup(w, ALICE, g_old); /* alice before the ghost */
    CHECK_OK(apply(c, &n, w->now, g_old, l0));
    uint64_t v0 = fx_epoch(&w->d, ALICE);
    /* Alice's own device follows the pushes: two versions, each reported. */
    w->now += 1000;
    CHECK_OK(fx_register(g_resp, &rl, &w->d, ALICE, &w->ghost));
    CHECK_OK(apply(c, &n, w->now, g_resp, rl));
    CHECK(n == 2 && g_ch[0].kind == IMC_DIR_LIST_VERSION && g_ch[0].old_version == v0 &&
          g_ch[0].new_version == v0 + 1 && g_ch[1].kind == IMC_DIR_DEVICE_ADDED &&
          g_ch[1].device_id == 666);
    CHECK_OK(fx_revoke(g_resp, &rl, &w->d, ALICE, 666));
    CHECK_OK(apply(c, &n, w->now, g_resp, rl));
    CHECK(n == 2 && g_ch[0].new_version == v0 + 2 && g_ch[1].kind == IMC_DIR_DEVICE_REMOVED &&
          g_ch[1].device_id == 666);
    /* Alice's other device saw only the lookups before and after: the same
     * devices, and a gap of two versions it is told about. */
    imc_dircache *c2 = NULL;
    imc_dircache_options o = {8, TTL, 60000, (const uint8_t *)ALICE, strlen(ALICE), 2, NULL,
                              false, NULL};
    CHECK_OK(imc_dircache_new(&c2, w->b, w->pk, &o));
    CHECK_OK(imc_dircache_apply(c2, NULL, 0, &n, w->now, g_old, l0));
    size_t l1 = lookup(w, ALICE, g_resp);
    CHECK_OK(imc_dircache_apply(c2, g_ch, 64, &n, w->now, g_resp, l1));
    CHECK(n == 1 && g_ch[0].kind == IMC_DIR_LIST_VERSION && g_ch[0].old_version == v0 &&
          g_ch[0].new_version == v0 + 2);
    imc_dircache_free(c2);
}

/* ---- 3. Rollback after a restart ----------------------------------------- */

static imc_dircache *restart(world *w, imc_dircache *c)
{
    imc_dircache_free(c);
    return alice_cache(w);
}

static void rollback_after_restart(world *w, imc_dircache **cp)
{
    size_t n = 0, rl = 0;
    w->now += 1000;
    size_t l_old = lookup(w, BOB, g_old); /* bob with devices 3 and 4 */
    CHECK_OK(apply(*cp, &n, w->now, g_old, l_old));
    w->now += 1000;
    CHECK_OK(fx_revoke(g_resp, &rl, &w->d, BOB, 4)); /* bob's phone is stolen */
    w->now += 1000;
    size_t len = lookup(w, BOB, g_resp);
    CHECK_OK(apply(*cp, &n, w->now, g_resp, len));
    CHECK(has_change(n, IMC_DIR_DEVICE_REMOVED, 4));
    uint64_t global = imc_dircache_global_epoch(*cp), issued = imc_dircache_anchor_issued(*cp);
    uint8_t d0[IMC_SHA256_BYTES], d1[IMC_SHA256_BYTES];
    CHECK_OK(imc_dircache_digest(d0, *cp));
    *cp = restart(w, *cp);
    if (*cp == NULL)
        return;
    imc_dircache *c = *cp;
    CHECK_OK(imc_dircache_digest(d1, c));
    CHECK(memcmp(d0, d1, sizeof d0) == 0); /* everything came back */
    CHECK(imc_dircache_global_epoch(c) == global && imc_dircache_anchor_issued(c) == issued);
    /* The old answer (device 4 still listed), well within its TTL: refused. */
    UNCHANGED(c, apply(c, &n, w->now, g_old, l_old), IMC_ERR_STALE);
    imc_msg_peer peer;
    CHECK_ST(imc_dircache_peer(&peer, c, w->now, (const uint8_t *)BOB, 15, 4), IMC_ERR_NOT_FOUND);
    CHECK_OK(imc_dircache_peer(&peer, c, w->now, (const uint8_t *)BOB, 15, 3));
    /* The same global epoch, issued earlier than the last one applied. */
    size_t l_early = 0;
    CHECK_OK(imc_dir_lookup(g_old, sizeof g_old, &l_early, &w->d, w->now - 10,
                            (const uint8_t *)BOB, 15));
    UNCHANGED(c, apply(c, &n, w->now, g_old, l_early), IMC_ERR_STALE);
    /* A memory-only client restarted would have taken it: the anchor is
     * what the state file adds. */
    imc_dircache *mem = NULL;
    CHECK_OK(imc_dircache_new(&mem, w->b, w->pk, NULL));
    CHECK_OK(imc_dircache_apply(mem, NULL, 0, &n, w->now, g_old, l_early));
    imc_dircache_free(mem);
}

/* ---- 4. Account reset ------------------------------------------------------ */

static void reset_blocks_until_accepted(world *w, imc_dircache **cp)
{
    imc_dircache *c = *cp;
    uint8_t bpk[32], bsk[32], npk[32], nsk[32], apk[32], ask[32];
    fx_account(w->b, BOB, 0, bpk, bsk);
    fx_account(w->b, BOB, 7, npk, nsk);
    fx_account(w->b, ALICE, 0, apk, ask);
    char sn0[IMC_DIR_SAFETY_NUMBER_CHARS + 1], sn1[IMC_DIR_SAFETY_NUMBER_CHARS + 1];
    CHECK_OK(imc_dir_safety_number(sn0, w->b, (const uint8_t *)ALICE, 17, apk,
                                   (const uint8_t *)BOB, 15, bpk));
    size_t n = 0, ul = 0, rl = 0;
    w->now += 1000;
    CHECK_OK(imc_dir_get(&g_cur, &w->d, (const uint8_t *)BOB, 15));
    CHECK_OK(imc_dir_sign_account_reset(g_upd, sizeof g_upd, &ul, w->b, w->pk, &g_cur, nsk,
                                        &w->b5));
    CHECK_OK(imc_dir_update(g_resp, sizeof g_resp, &rl, &w->d, w->now, g_upd, ul));
    CHECK_OK(imc_dir_check(&w->d));
    size_t len = lookup(w, BOB, g_resp);
    CHECK_OK(apply(c, &n, w->now, g_resp, len));
    CHECK(n >= 1 && g_ch[0].kind == IMC_DIR_ACCOUNT_UNCONFIRMED);
    CHECK(has_change(n, IMC_DIR_DEVICE_REMOVED, 3) && has_change(n, IMC_DIR_DEVICE_ADDED, 5));
    uint8_t pinned[32];
    bool pend = false;
    CHECK_OK(imc_dircache_account(pinned, &pend, c, (const uint8_t *)BOB, 15));
    CHECK(pend && memcmp(pinned, bpk, 32) == 0);
    imc_device_public out[8];
    size_t count = 0, bad = 0;
    imc_dir_handle to[1] = {fx_h(BOB)};
    imc_msg_send req;
    CHECK_ST(imc_dircache_prepare_send(&req, out, 8, &bad, c, w->now, &w->a1, to, 1),
             IMC_ERR_AUTH);
    CHECK(bad == 0);
    imc_msg_peer peer;
    CHECK_ST(imc_dircache_peer(&peer, c, w->now, (const uint8_t *)BOB, 15, 5), IMC_ERR_AUTH);
    /* Applying the same state again reports nothing new, still pending. */
    CHECK_OK(apply(c, &n, w->now, g_resp, len));
    CHECK(n == 0);
    /* Still pending after a restart. */
    *cp = c = restart(w, c);
    if (c == NULL)
        return;
    CHECK_ST(imc_dircache_recipients(out, 8, &count, &bad, c, w->now, 1, to, 1), IMC_ERR_AUTH);
    /* The user compares the new safety number, and accepts. */
    CHECK_OK(imc_dir_safety_number(sn1, w->b, (const uint8_t *)BOB, 15, npk,
                                   (const uint8_t *)ALICE, 17, apk));
    CHECK(strcmp(sn0, sn1) != 0);
    CHECK_ST(imc_dircache_accept(c, (const uint8_t *)"carol@example.com", 17), IMC_ERR_NOT_FOUND);
    CHECK_OK(imc_dircache_accept(c, (const uint8_t *)BOB, 15));
    CHECK_OK(imc_dircache_accept(c, (const uint8_t *)BOB, 15)); /* nothing left: no-op */
    *cp = c = restart(w, c);
    if (c == NULL)
        return;
    CHECK_OK(imc_dircache_account(pinned, &pend, c, (const uint8_t *)BOB, 15));
    CHECK(!pend && memcmp(pinned, npk, 32) == 0);
    CHECK_OK(imc_dircache_recipients(out, 8, &count, &bad, c, w->now, 1, to, 1));
    CHECK(count == 2 && out[0].device_id == 2 && out[1].device_id == 5); /* alice's 2, bob's 5 */
    imc_wipe(bsk, sizeof bsk);
    imc_wipe(nsk, sizeof nsk);
    imc_wipe(ask, sizeof ask);
}

/* ---- Account key rotation ------------------------------------------------- */

static void account_rotation(world *w, imc_dircache *c)
{
    uint8_t k7pk[32], k7sk[32], k8pk[32], k8sk[32], k9pk[32], k9sk[32];
    fx_account(w->b, BOB, 7, k7pk, k7sk); /* bob's key since the reset */
    fx_account(w->b, BOB, 8, k8pk, k8sk);
    fx_account(w->b, BOB, 9, k9pk, k9sk);
    size_t n = 0, ul = 0, rl = 0;
    /* A memory cache that saw bob before the rotations, for the gap below. */
    imc_dircache *late = NULL;
    CHECK_OK(imc_dircache_new(&late, w->b, w->pk, NULL));
    size_t l0 = lookup(w, BOB, g_old);
    CHECK_OK(imc_dircache_apply(late, NULL, 0, &n, w->now, g_old, l0));
    /* Rotation 7 -> 8, signed by both: accepted and reported. */
    w->now += 1000;
    CHECK_OK(imc_dir_get(&g_cur, &w->d, (const uint8_t *)BOB, 15));
    CHECK_OK(imc_dir_sign_account_rotate(g_upd, sizeof g_upd, &ul, w->b, w->pk, &g_cur, k7sk,
                                         k8sk));
    CHECK_OK(imc_dir_update(g_resp, sizeof g_resp, &rl, &w->d, w->now, g_upd, ul));
    CHECK_OK(apply(c, &n, w->now, g_resp, rl));
    CHECK(n == 2 && g_ch[0].kind == IMC_DIR_ACCOUNT_ROTATED &&
          g_ch[1].kind == IMC_DIR_LIST_VERSION);
    uint8_t pinned[32];
    bool pend = true;
    CHECK_OK(imc_dircache_account(pinned, &pend, c, (const uint8_t *)BOB, 15));
    CHECK(!pend && memcmp(pinned, k8pk, 32) == 0);
    /* Rotation 8 -> 9: a client that missed 7 -> 8 cannot check it. */
    w->now += 1000;
    CHECK_OK(imc_dir_get(&g_cur, &w->d, (const uint8_t *)BOB, 15));
    CHECK_OK(imc_dir_sign_account_rotate(g_upd, sizeof g_upd, &ul, w->b, w->pk, &g_cur, k8sk,
                                         k9sk));
    CHECK_OK(imc_dir_update(g_resp, sizeof g_resp, &rl, &w->d, w->now, g_upd, ul));
    CHECK_OK(apply(c, &n, w->now, g_resp, rl));
    CHECK(n == 2 && g_ch[0].kind == IMC_DIR_ACCOUNT_ROTATED);
    size_t len = lookup(w, BOB, g_resp);
    CHECK_OK(imc_dircache_apply(late, g_ch, 64, &n, w->now, g_resp, len));
    CHECK(n == 2 && g_ch[0].kind == IMC_DIR_ACCOUNT_UNCONFIRMED &&
          g_ch[1].old_version + 2 == g_ch[1].new_version);
    CHECK_OK(imc_dircache_account(pinned, &pend, late, (const uint8_t *)BOB, 15));
    CHECK(pend && memcmp(pinned, k7pk, 32) == 0);
    imc_dircache_free(late);
    /* The directory refuses a rotation not signed by the current key. */
    CHECK_OK(imc_dir_get(&g_cur, &w->d, (const uint8_t *)BOB, 15));
    CHECK_OK(imc_dir_sign_account_rotate(g_upd, sizeof g_upd, &ul, w->b, w->pk, &g_cur, k8sk,
                                         k7sk));
    CHECK_ST(imc_dir_update(g_resp, sizeof g_resp, &rl, &w->d, w->now, g_upd, ul), IMC_ERR_AUTH);
    imc_wipe(k7sk, 32);
    imc_wipe(k8sk, 32);
    imc_wipe(k9sk, 32);
}

/* ---- Safety numbers ----------------------------------------------------------- */

static void safety_numbers(const imc_backend *b)
{
    uint8_t pa[32], sa[32], pb[32], sb[32], pc[32], sc[32];
    fx_account(b, ALICE, 0, pa, sa);
    fx_account(b, BOB, 0, pb, sb);
    fx_account(b, BOB, 1, pc, sc);
    char x[IMC_DIR_SAFETY_NUMBER_CHARS + 1], y[IMC_DIR_SAFETY_NUMBER_CHARS + 1];
    const uint8_t *ha = (const uint8_t *)ALICE, *hb = (const uint8_t *)BOB;
    CHECK_OK(imc_dir_safety_number(x, b, ha, 17, pa, hb, 15, pb));
    CHECK_OK(imc_dir_safety_number(y, b, hb, 15, pb, ha, 17, pa));
    CHECK(strcmp(x, y) == 0 && strlen(x) == IMC_DIR_SAFETY_NUMBER_CHARS);
    int shape = 1;
    for (size_t i = 0; i < IMC_DIR_SAFETY_NUMBER_CHARS; i++)
        shape &= i % 6 == 5 ? x[i] == ' ' : (x[i] >= '0' && x[i] <= '9');
    CHECK(shape);
    CHECK_OK(imc_dir_safety_number(y, b, ha, 17, pa, hb, 15, pc)); /* bob's key changed */
    CHECK(strcmp(x, y) != 0);
    CHECK_OK(imc_dir_safety_number(y, b, ha, 17, pc, hb, 15, pb)); /* alice's changed */
    CHECK(strcmp(x, y) != 0);
    CHECK_ST(imc_dir_safety_number(y, b, (const uint8_t *)"Alice@example.com", 17, pa, hb, 15, pb),
             IMC_ERR_MALFORMED);
    CHECK(y[0] == 0);
    CHECK_ST(imc_dir_safety_number(y, NULL, ha, 17, pa, hb, 15, pb), IMC_ERR_ARG);
    imc_wipe(sa, 32);
    imc_wipe(sb, 32);
    imc_wipe(sc, 32);
}

/* ---- The state file ------------------------------------------------------------ */

/* Puts one raw value into the state file (as corruption would). */
static void poke(const char *path, imc_dir_table t, const char *key, size_t key_len,
                 const uint8_t *val, size_t val_len)
{
    imc_dir_store s;
    imc_dir_lmdb_options o = {(size_t)1 << 30, false, false};
    CHECK_OK(imc_dir_store_lmdb_open(&s, path, &o));
    void *txn = NULL;
    CHECK_OK(s.ops->begin(s.self, true, &txn));
    CHECK_OK(s.ops->put(txn, t, (const uint8_t *)key, key_len, val, val_len));
    CHECK_OK(s.ops->commit(txn));
    imc_dir_store_close(&s);
}

static uint8_t g_val[IMC_DIR_RECORD_MAX_BYTES + 64];
static uint8_t g_orig[IMC_DIR_RECORD_MAX_BYTES + 64];

static imc_status open_state(world *w)
{
    imc_dircache *c = NULL;
    imc_dircache_options o = {64, TTL, 60000, NULL, 0, 0, w->state, false, NULL};
    imc_status st = imc_dircache_new(&c, w->b, w->pk, &o);
    imc_dircache_free(c);
    return st;
}

/* The contact value of bob, broken at `len` bytes: refused. */
static void bad_state(world *w, size_t len, size_t n)
{
    poke(w->state, IMC_DIR_TABLE_HANDLES, BOB, 15, g_val, len);
    CHECK_ST(open_state(w), IMC_ERR_IO);
    memcpy(g_val, g_orig, n + 1);
}

static void state_file(world *w)
{
    /* Pinned to this directory: another key is refused. */
    uint8_t pk2[IMC_DIR_PUBLIC_BYTES], sk2[IMC_DIR_SECRET_BYTES];
    fx_dir_key(w->b, 9, pk2, sk2);
    imc_dircache *c = NULL;
    imc_dircache_options o = {64, TTL, 60000, NULL, 0, 0, w->state, false, NULL};
    CHECK_ST(imc_dircache_new(&c, w->b, pk2, &o), IMC_ERR_AUTH);
    CHECK(c == NULL);
    o.capacity = 1; /* more handles stored than it can hold */
    CHECK_ST(imc_dircache_new(&c, w->b, w->pk, &o), IMC_ERR_LIMIT);
    CHECK_OK(open_state(w));
    /* Bob's contact value, then each rule broken in turn. */
    imc_dir_store s;
    imc_dir_lmdb_options lo = {(size_t)1 << 30, false, true};
    CHECK_OK(imc_dir_store_lmdb_open(&s, w->state, &lo));
    void *txn = NULL;
    const uint8_t *v = NULL;
    size_t n = 0;
    CHECK_OK(s.ops->begin(s.self, false, &txn));
    CHECK_OK(s.ops->get(txn, IMC_DIR_TABLE_HANDLES, (const uint8_t *)BOB, 15, &v, &n));
    CHECK(n > 51 && n < sizeof g_val);
    memcpy(g_val, v, n);
    s.ops->abort(txn);
    imc_dir_store_close(&s);
    memcpy(g_orig, g_val, n + 1);
    bad_state(w, n - 1, n); /* truncated */
    bad_state(w, n + 1, n); /* a trailing byte */
    g_val[0] = 2;           /* unknown format */
    bad_state(w, n, n);
    memset(g_val + 1, 0, 32); /* a list but no pinned key */
    bad_state(w, n, n);
    memset(g_val + 33, 0, 8); /* global epoch below the list's version */
    bad_state(w, n, n);
    g_val[51 + 3] ^= 1; /* the list's handle is another one */
    bad_state(w, n, n);
    g_val[50] ^= 1; /* the list length does not frame the list */
    bad_state(w, n, n);
    poke(w->state, IMC_DIR_TABLE_HANDLES, BOB, 15, g_orig, n);
    CHECK_OK(open_state(w));
    poke(w->state, IMC_DIR_TABLE_HANDLES, "Bob@example.com", 15, g_orig, n); /* not normal */
    CHECK_ST(open_state(w), IMC_ERR_IO);
    imc_wipe(sk2, sizeof sk2);
}

/* Meta values of the state file: format, anchor. */
static void state_meta(world *w)
{
    const uint8_t two = 2, one = 1;
    poke(w->state, IMC_DIR_TABLE_META, "format", 6, &two, 1);
    CHECK_ST(open_state(w), IMC_ERR_UNSUPPORTED);
    poke(w->state, IMC_DIR_TABLE_META, "format", 6, &one, 1);
    poke(w->state, IMC_DIR_TABLE_META, "anchor", 6, &one, 1);
    CHECK_ST(open_state(w), IMC_ERR_IO);
}

/* A directory store of the format before account keys is refused, and so
 * is a handle record of that format (a corrupt or unconverted store). */
static void old_store_refused(world *w)
{
    char path[700];
    snprintf(path, sizeof path, "%s/old.lmdb", w->tmp);
    imc_dir_store s;
    imc_dir d;
    imc_dir_lmdb_options o = {(size_t)1 << 30, false, false};
    CHECK_OK(imc_dir_store_lmdb_open(&s, path, &o));
    CHECK_OK(imc_dir_init(&d, w->b, s, w->sk, NULL));
    size_t n = 0;
    CHECK_OK(fx_register(g_resp, &n, &d, ALICE, &w->a1));
    imc_dir_wipe(&d);
    imc_dir_store_close(&s);
    /* The record with format byte 1: lookups and the check refuse it. */
    static uint8_t rec[IMC_DIR_RECORD_MAX_BYTES];
    CHECK_OK(imc_dir_store_lmdb_open(&s, path, &o));
    void *txn = NULL;
    const uint8_t *v = NULL;
    CHECK_OK(s.ops->begin(s.self, false, &txn));
    CHECK_OK(s.ops->get(txn, IMC_DIR_TABLE_HANDLES, (const uint8_t *)ALICE, 17, &v, &n));
    memcpy(rec, v, n);
    s.ops->abort(txn);
    imc_dir_store_close(&s);
    rec[0] = 1;
    poke(path, IMC_DIR_TABLE_HANDLES, ALICE, 17, rec, n);
    CHECK_OK(imc_dir_store_lmdb_open(&s, path, &o));
    CHECK_OK(imc_dir_init(&d, w->b, s, w->sk, NULL));
    CHECK_ST(imc_dir_lookup(g_resp, sizeof g_resp, &n, &d, w->now, (const uint8_t *)ALICE, 17),
             IMC_ERR_IO);
    CHECK_ST(imc_dir_check(&d), IMC_ERR_IO);
    imc_dir_wipe(&d);
    imc_dir_store_close(&s);
    const uint8_t one = 1;
    poke(path, IMC_DIR_TABLE_META, "format", 6, &one, 1);
    CHECK_OK(imc_dir_store_lmdb_open(&s, path, &o));
    CHECK_ST(imc_dir_init(&d, w->b, s, w->sk, NULL), IMC_ERR_UNSUPPORTED);
    imc_dir_store_close(&s);
}

int main(void)
{
    const imc_backend *all[16], *bs[16];
    size_t na = imc_test_backends(all, 16), nb = 0;
    /* Backends with Ed25519 and suite 1 (Mbed TLS has no Ed25519). */
    for (size_t i = 0; i < na; i++)
        if ((imc_backend_caps(all[i]) & IMC_CAP_ED25519) &&
            imc_suite_supported(imc_suite_get(1), all[i]))
            bs[nb++] = all[i];
    CHECK(nb > 0);
    for (size_t i = 0; i < nb; i++) {
        printf("  %s\n", imc_backend_name(bs[i]));
        safety_numbers(bs[i]);
        world w;
        setup(&w, bs[i]);
        imc_dircache *c = alice_cache(&w);
        if (c != NULL) {
            no_ghost_without_account(&w, c);
            ghost_seen_by_own_device(&w, c);
            rollback_after_restart(&w, &c);
        }
        if (c != NULL)
            reset_blocks_until_accepted(&w, &c);
        if (c != NULL)
            account_rotation(&w, c);
        imc_dircache_free(c);
        state_file(&w);
        state_meta(&w);
        old_store_refused(&w);
        teardown(&w);
    }
    return imc_test_end();
}
