/* The directory service, one functional body run against both stores (in
 * memory and LMDB) on every backend: register with proof of possession,
 * rotate, revoke, lookup, batch lookup, epochs, signed answers; and every
 * rejection, each shown to leave the store exactly as it was (digest and
 * global epoch). Both stores must end byte-identical. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

static uint8_t g_resp[IMC_DIR_RESPONSE_MAX_BYTES(IMC_DIR_MAX_BATCH)];
static uint8_t g_resp2[IMC_DIR_RESPONSE_MAX_BYTES(IMC_DIR_MAX_BATCH)];
static uint8_t g_upd[IMC_DIR_UPDATE_MAX_BYTES + 1];
static imc_dir_entry g_entry;
static imc_dir_record g_cur;
static uint8_t g_ask[IMC_DIR_ACCOUNT_SECRET_BYTES];

/* The handle's current record (into g_cur) and its account key (g_ask). */
static imc_dir_record *cur_of(imc_dir *d, const char *handle)
{
    CHECK_OK(fx_current(&g_cur, g_ask, d, handle));
    return &g_cur;
}

typedef struct world {
    const imc_backend *b;
    fx_store_kind kind;
    char path[512];
    imc_dir_store store;
    imc_dir d;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
} world;

static int open_world(world *w)
{
    imc_status st = fx_store_open(&w->store, w->kind, w->b, w->path, "service");
    CHECK_OK(st);
    if (st == IMC_OK)
        st = imc_dir_init(&w->d, w->b, w->store, w->sk, NULL);
    CHECK_OK(st);
    return st == IMC_OK;
}

static void close_world(world *w)
{
    imc_dir_wipe(&w->d);
    imc_dir_store_close(&w->store);
}

/* Parses a one-entry response, verifies it with pk and returns the entry. */
static const imc_dir_entry *entry_of(const uint8_t *resp, size_t len, const world *w)
{
    imc_dir_response r;
    size_t off = 0;
    if (imc_dir_parse_response(&r, resp, len) != IMC_OK || r.count != 1 ||
        imc_dir_response_next(&g_entry, &off, &r) != IMC_OK ||
        imc_dir_entry_verify(w->b, w->pk, &g_entry) != IMC_OK) {
        CHECK(!"a valid signed one-entry response");
        memset(&g_entry, 0, sizeof g_entry);
    }
    return &g_entry;
}

static int has_devices(const imc_dir_record *rec, const uint64_t *ids, size_t n)
{
    if (rec->device_count != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rec->devices[i].device_id != ids[i])
            return 0;
    return 1;
}

/* ---- The happy path ------------------------------------------------------ */

typedef struct cast {
    imc_device_keys a1, a2, a2r, b3, c4, x5, x6;
    bool p256; /* the backend has suite 2: c4 is a P-256 device */
} cast;

static void make_cast(cast *c, const imc_backend *b)
{
    c->p256 = imc_suite_supported(imc_suite_get(2), b);
    CHECK_OK(fx_keys(&c->a1, b, 1, 1, 0));
    CHECK_OK(fx_keys(&c->a2, b, 1, 2, 0));
    CHECK_OK(fx_keys(&c->a2r, b, 1, 2, 1)); /* device 2 after a rotation */
    CHECK_OK(fx_keys(&c->b3, b, 1, 3, 0));
    CHECK_OK(fx_keys(&c->c4, b, c->p256 ? 2 : 3, 4, 0));
    CHECK_OK(fx_keys(&c->x5, b, 1, 5, 0));
    CHECK_OK(fx_keys(&c->x6, b, 1, 6, 0));
}

static void happy_path(world *w, const cast *c)
{
    imc_dir *d = &w->d;
    size_t n = 0;
    const imc_dir_entry *e;
    uint64_t g = 99;

    CHECK_OK(imc_dir_global_epoch(&g, d));
    CHECK(g == 0);
    /* Never registered: a signed entry with epoch 0 and no devices. */
    CHECK_OK(imc_dir_lookup(g_resp, sizeof g_resp, &n, d, FX_NOW,
                            (const uint8_t *)"carol@example.com", 17));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 0 && e->rec.device_count == 0 && e->global_epoch == 0);
    CHECK(e->issued_ms == FX_NOW && e->rec.handle_len == 17);

    CHECK_OK(fx_register(g_resp, &n, d, "alice@example.com", &c->a1));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 1 && e->global_epoch == 1 && e->rec.device_count == 1);
    CHECK(imc_dir_device_equal(&e->rec.devices[0], &c->a1.pub));
    CHECK_OK(fx_register(g_resp, &n, d, "alice@example.com", &c->a2));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 2 && e->global_epoch == 2 && e->rec.device_count == 2);
    CHECK_OK(fx_register(g_resp, &n, d, "bob@example.com", &c->b3));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 1 && e->global_epoch == 3);
    CHECK_OK(fx_register(g_resp, &n, d, "+14155550100", &c->c4));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 1 && e->global_epoch == 4 && e->rec.devices[0].suite == c->c4.pub.suite);

    /* Batch lookup: one snapshot, each entry signed on its own. */
    imc_dir_handle hs[3] = {fx_h("alice@example.com"), fx_h("bob@example.com"),
                            fx_h("nobody@example.com")};
    size_t n1 = 0, n2 = 0;
    CHECK_OK(imc_dir_lookup_batch(g_resp, sizeof g_resp, &n1, d, FX_NOW + 5, hs, 3));
    imc_dir_response r;
    CHECK_OK(imc_dir_parse_response(&r, g_resp, n1));
    CHECK(r.count == 3 && r.global_epoch == 4 && r.issued_ms == FX_NOW + 5);
    size_t off = 0;
    static const uint64_t a12[] = {1, 2}, b3[] = {3}, c4[] = {4};
    for (size_t i = 0; i < 3; i++) {
        CHECK_OK(imc_dir_response_next(&g_entry, &off, &r));
        CHECK_OK(imc_dir_entry_verify(w->b, w->pk, &g_entry));
    }
    CHECK(g_entry.rec.epoch == 0 && g_entry.rec.device_count == 0);
    /* The same request through imc_dir_serve gives the same bytes
     * (Ed25519 signatures are deterministic). */
    uint8_t req[IMC_DIR_REQUEST_MAX_BYTES(3)];
    size_t req_len = 0;
    CHECK_OK(imc_dir_encode_request(req, sizeof req, &req_len, hs, 3));
    CHECK_OK(imc_dir_serve(g_resp2, sizeof g_resp2, &n2, d, FX_NOW + 5, req, req_len));
    CHECK(n1 == n2 && memcmp(g_resp, g_resp2, n1) == 0);

    /* Rotate device 2: both keys sign. */
    CHECK_OK(fx_rotate(g_resp, &n, d, "alice@example.com", &c->a2, &c->a2r));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 3 && e->global_epoch == 5 && has_devices(&e->rec, a12, 2));
    CHECK(imc_dir_device_equal(&e->rec.devices[1], &c->a2r.pub));
    /* Revoke device 1 (lost phone) and bob's only device: the account key
     * decides. */
    CHECK_OK(fx_revoke(g_resp, &n, d, "alice@example.com", 1));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 4 && e->global_epoch == 6 && e->rec.device_count == 1);
    CHECK(e->rec.devices[0].device_id == 2);
    CHECK_OK(fx_revoke(g_resp, &n, d, "bob@example.com", 3));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 2 && e->global_epoch == 7 && e->rec.device_count == 0);
    /* Updates go through imc_dir_serve too. */
    size_t ul = 0;
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, w->b, w->pk,
                                   cur_of(d, "bob@example.com"), g_ask, &c->x6));
    CHECK_OK(imc_dir_serve(g_resp, sizeof g_resp, &n, d, FX_NOW, g_upd, ul));
    e = entry_of(g_resp, n, w);
    CHECK(e->rec.epoch == 3 && e->global_epoch == 8 && e->rec.devices[0].device_id == 6);

    static imc_dir_record rec;
    CHECK_OK(imc_dir_get(&rec, d, (const uint8_t *)"+14155550100", 12));
    CHECK(rec.epoch == 1 && has_devices(&rec, c4, 1));
    CHECK_OK(imc_dir_get(&rec, d, (const uint8_t *)"bob@example.com", 15));
    CHECK(rec.epoch == 3 && rec.device_count == 1);
    CHECK(!has_devices(&rec, b3, 1));
    CHECK_OK(imc_dir_global_epoch(&g, d));
    CHECK(g == 8);
    CHECK_OK(imc_dir_check(d));
}

/* ---- Rejections: each leaves the store unchanged -------------------------- */

#define UNCHANGED(w, expr, want)                                                                   \
    do {                                                                                           \
        fx_snapshot before_ = fx_snap(&(w)->d);                                                    \
        CHECK_ST(expr, want);                                                                      \
        fx_snapshot after_ = fx_snap(&(w)->d);                                                     \
        CHECK(fx_same(&before_, &after_));                                                         \
    } while (0)

static imc_status apply(world *w, const uint8_t *upd, size_t len)
{
    size_t n = 0;
    return imc_dir_update(g_resp, sizeof g_resp, &n, &w->d, FX_NOW, upd, len);
}

static void rejections(world *w, const cast *c)
{
    imc_dir *d = &w->d;
    const imc_backend *b = w->b;
    const uint8_t *alice = (const uint8_t *)"alice@example.com";
    size_t ul = 0, n = 0;
    uint64_t ea = fx_epoch(d, "alice@example.com"); /* 4 */

    /* Registration without a valid proof: device 5's public keys, signed
     * with device 6's key. */
    imc_device_keys forged = c->x5;
    memcpy(forged.sig_sk, c->x6.sig_sk, sizeof forged.sig_sk);
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, cur_of(d, "alice@example.com"), g_ask, &forged));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    /* A valid proof, one bit changed (in the signature, then in the keys). */
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, cur_of(d, "alice@example.com"), g_ask, &c->x5));
    g_upd[ul - 1] ^= 1;
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    g_upd[ul - 1] ^= 1;
    g_upd[ul - 70] ^= 1;
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    g_upd[ul - 70] ^= 1;
    /* Truncated at every length, and with a trailing byte. */
    fx_snapshot before = fx_snap(d);
    int all = 1;
    for (size_t i = 0; i < ul; i++)
        all &= apply(w, g_upd, i) == IMC_ERR_MALFORMED;
    CHECK(all);
    g_upd[ul] = 0;
    CHECK_ST(apply(w, g_upd, ul + 1), IMC_ERR_MALFORMED);
    fx_snapshot after = fx_snap(d);
    CHECK(fx_same(&before, &after));
    /* An answer buffer too small is refused before anything changes: the
     * very same update then still applies. */
    UNCHANGED(w, imc_dir_update(g_resp, 100, &n, d, FX_NOW, g_upd, ul), IMC_ERR_NO_SPACE);
    CHECK(n == 0);
    CHECK_OK(apply(w, g_upd, ul)); /* alice: 1 -> epoch 5, devices 2, 5 */
    ea++;
    /* Replayed: the epoch has moved on. */
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_STALE);
    /* Signed for another directory. */
    uint8_t pk2[IMC_DIR_PUBLIC_BYTES], sk2[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 7, pk2, sk2);
    imc_device_keys x8;
    CHECK_OK(fx_keys(&x8, b, 1, 8, 0));
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, pk2, cur_of(d, "alice@example.com"),
                                   g_ask, &x8));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    /* Stale and future epochs. */
    cur_of(d, "alice@example.com")->epoch = ea - 1;
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, &c->x6));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_STALE);
    cur_of(d, "alice@example.com")->epoch = ea + 1;
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, &c->x6));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_STALE);

    /* Device ids are globally unique and never reused: an active one under
     * another handle, the same handle, and a revoked one. */
    imc_device_keys other;
    CHECK_OK(fx_keys(&other, b, 1, 2, 9)); /* id 2, fresh keys, valid proof */
    /* (The builder refuses a device the list has: it is taken off cur.) */
    CHECK_ST(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk,
                                   cur_of(d, "alice@example.com"), g_ask, &other),
             IMC_ERR_ARG);
    CHECK(g_cur.devices[0].device_id == 2);
    memmove(&g_cur.devices[0], &g_cur.devices[1], --g_cur.device_count * sizeof g_cur.devices[0]);
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, &other));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_EXISTS);
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk,
                                   cur_of(d, "zed@example.com"), g_ask, &other));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_EXISTS);
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, cur_of(d, "alice@example.com"), g_ask, &c->a1));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_EXISTS); /* device 1 was revoked */

    /* A DH key the validation policy refuses (X25519 all zero), with a
     * valid signature. */
    imc_device_keys weak;
    CHECK_OK(fx_keys(&weak, b, 1, 77, 0));
    memset(weak.pub.dh_pk, 0, sizeof weak.pub.dh_pk);
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, cur_of(d, "alice@example.com"), g_ask, &weak));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_WEAK_KEY);

    /* Rotate: unknown device, revoked device, old or new signature bad, a
     * weak new key. */
    imc_device_keys k99, k99b, a2s, x5r, x5f;
    CHECK_OK(fx_keys(&k99, b, 1, 99, 0));
    CHECK_OK(fx_keys(&k99b, b, 1, 99, 1));
    /* (A device that thinks the account lists them: the builder refuses
     * devices cur does not list, so they are added to cur by hand.) */
    CHECK_ST(imc_dir_sign_rotate(g_upd, sizeof g_upd, &ul, b, w->pk,
                                 cur_of(d, "alice@example.com"), g_ask, &k99, &k99b),
             IMC_ERR_NOT_FOUND);
    g_cur.devices[g_cur.device_count++] = k99.pub;
    CHECK_OK(imc_dir_sign_rotate(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, &k99, &k99b));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_NOT_FOUND);
    imc_device_keys a1r;
    CHECK_OK(fx_keys(&a1r, b, 1, 1, 1));
    cur_of(d, "alice@example.com");
    memmove(&g_cur.devices[1], &g_cur.devices[0], g_cur.device_count++ * sizeof g_cur.devices[0]);
    g_cur.devices[0] = c->a1.pub;
    CHECK_OK(imc_dir_sign_rotate(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, &c->a1, &a1r));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_NOT_FOUND);
    CHECK_OK(fx_keys(&x5r, b, 1, 5, 1));
    a2s = c->x5; /* right public key, wrong secret for the old signature */
    memcpy(a2s.sig_sk, c->x6.sig_sk, sizeof a2s.sig_sk);
    CHECK_OK(imc_dir_sign_rotate(g_upd, sizeof g_upd, &ul, b, w->pk, cur_of(d, "alice@example.com"), g_ask, &a2s, &x5r));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    x5f = x5r; /* the new key's proof made with another key */
    memcpy(x5f.sig_sk, c->x6.sig_sk, sizeof x5f.sig_sk);
    CHECK_OK(imc_dir_sign_rotate(g_upd, sizeof g_upd, &ul, b, w->pk, cur_of(d, "alice@example.com"), g_ask, &c->x5, &x5f));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    x5f = x5r;
    memset(x5f.pub.dh_pk, 0, sizeof x5f.pub.dh_pk);
    CHECK_OK(imc_dir_sign_rotate(g_upd, sizeof g_upd, &ul, b, w->pk, cur_of(d, "alice@example.com"), g_ask, &c->x5, &x5f));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_WEAK_KEY);

    /* Revoke: of an unknown device, signed by another account's key, a
     * list that is not the current one minus the device, a bad account
     * signature. */
    cur_of(d, "alice@example.com");
    g_cur.devices[g_cur.device_count++] = k99.pub;
    CHECK_OK(imc_dir_sign_revoke(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, 99));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_NOT_FOUND);
    uint8_t bob_pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], bob_sk[IMC_DIR_ACCOUNT_SECRET_BYTES];
    fx_account(b, "bob@example.com", 0, bob_pk, bob_sk);
    CHECK_OK(imc_dir_sign_revoke(g_upd, sizeof g_upd, &ul, b, w->pk,
                                 cur_of(d, "alice@example.com"), bob_sk, 2));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    cur_of(d, "alice@example.com")->list_sig[0] ^= 1; /* another previous list */
    CHECK_OK(imc_dir_sign_revoke(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, 2));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    CHECK_OK(imc_dir_sign_revoke(g_upd, sizeof g_upd, &ul, b, w->pk,
                                 cur_of(d, "alice@example.com"), g_ask, 2));
    g_upd[ul - 10] ^= 0x40; /* in the account signature */
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    g_upd[ul - 10] ^= 0x40;
    CHECK_OK(apply(w, g_upd, ul)); /* and intact, it works: alice has 5 */
    ea++;

    /* A device added without the account key: its own proof is valid, the
     * list is signed by someone else's account key. */
    imc_device_keys ghost;
    CHECK_OK(fx_keys(&ghost, b, 1, 666, 0));
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk,
                                   cur_of(d, "alice@example.com"), bob_sk, &ghost));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    /* A list with one device more than the update adds. */
    cur_of(d, "alice@example.com");
    g_cur.devices[g_cur.device_count++] = k99.pub;
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, &ghost));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    /* An account rotation signed by the new key only (the old one is not
     * alice's) is refused; creating an account that exists is stale. */
    uint8_t npk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], nsk[IMC_DIR_ACCOUNT_SECRET_BYTES];
    fx_account(b, "alice@example.com", 1, npk, nsk);
    CHECK_OK(imc_dir_sign_account_rotate(g_upd, sizeof g_upd, &ul, b, w->pk,
                                         cur_of(d, "alice@example.com"), bob_sk, nsk));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_AUTH);
    cur_of(d, "alice@example.com")->epoch = 0;
    g_cur.device_count = 0;
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, &ghost));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_STALE);
    imc_keys_wipe(&ghost);

    /* Lookups: bad handles and counts. */
    static uint8_t big[300];
    memset(big, 'a', sizeof big);
    CHECK_ST(imc_dir_lookup(g_resp, sizeof g_resp, &n, d, FX_NOW, big, 256), IMC_ERR_LIMIT);
    CHECK_ST(imc_dir_lookup(g_resp, sizeof g_resp, &n, d, FX_NOW,
                            (const uint8_t *)"Alice@example.com", 17),
             IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_lookup(g_resp, sizeof g_resp, &n, d, FX_NOW, alice, 0), IMC_ERR_MALFORMED);
    imc_dir_handle dup[2] = {fx_h("alice@example.com"), fx_h("alice@example.com")};
    CHECK_ST(imc_dir_lookup_batch(g_resp, sizeof g_resp, &n, d, FX_NOW, dup, 2), IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_lookup_batch(g_resp, sizeof g_resp, &n, d, FX_NOW, dup, 0), IMC_ERR_ARG);
    static imc_dir_handle many[IMC_DIR_MAX_BATCH + 1];
    static char names[IMC_DIR_MAX_BATCH + 1][24];
    for (size_t i = 0; i <= IMC_DIR_MAX_BATCH; i++) {
        snprintf(names[i], sizeof names[i], "u%zu@example.com", i);
        many[i] = fx_h(names[i]);
    }
    CHECK_ST(
        imc_dir_lookup_batch(g_resp, sizeof g_resp, &n, d, FX_NOW, many, IMC_DIR_MAX_BATCH + 1),
        IMC_ERR_LIMIT);
    CHECK_OK(imc_dir_lookup_batch(g_resp, sizeof g_resp, &n, d, FX_NOW, many, IMC_DIR_MAX_BATCH));
    CHECK_ST(imc_dir_lookup_batch(g_resp, 1000, &n, d, FX_NOW, many, IMC_DIR_MAX_BATCH),
             IMC_ERR_NO_SPACE);
    CHECK(n == 0);
    const uint8_t junk[] = {1, 0x5A, 0, 0};
    CHECK_ST(imc_dir_serve(g_resp, sizeof g_resp, &n, d, FX_NOW, junk, sizeof junk),
             IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_serve(g_resp, sizeof g_resp, &n, d, FX_NOW, junk, 1), IMC_ERR_MALFORMED);

    /* Devices per handle: 64 fit, the 65th is refused. */
    const char *many_h = "many@example.com";
    int ok = 1;
    for (uint64_t i = 0; i < IMC_MAX_DEVICES_PER_HANDLE; i++) {
        imc_device_keys k;
        ok &= fx_keys(&k, b, 1, 1000 + i, 0) == IMC_OK;
        ok &= fx_register(g_resp, &n, d, many_h, &k) == IMC_OK;
    }
    CHECK(ok);
    imc_device_keys k65;
    CHECK_OK(fx_keys(&k65, b, 1, 2000, 0));
    /* (The builder refuses a 65th device: one is taken off cur.) */
    cur_of(d, many_h)->device_count--;
    CHECK_OK(imc_dir_sign_register(g_upd, sizeof g_upd, &ul, b, w->pk, &g_cur, g_ask, &k65));
    UNCHANGED(w, apply(w, g_upd, ul), IMC_ERR_LIMIT);
    CHECK_OK(imc_dir_lookup(g_resp, sizeof g_resp, &n, d, FX_NOW, (const uint8_t *)many_h, 16));
    CHECK(entry_of(g_resp, n, w)->rec.device_count == IMC_MAX_DEVICES_PER_HANDLE);
    /* An entry: handle, 3 x 8, the list framed (2) and the signature; the
     * list: 2 + handle + 8 + 1 + 32 + 32 + 1 + devices + 64. */
    CHECK(n == 4 + 1 + 16 + 24 + 2 + (2 + 17 + 8 + 1 + 32 + 32 + 1 +
                                      74 * IMC_MAX_DEVICES_PER_HANDLE + 64) + 64);

    CHECK_OK(imc_dir_check(d));
    imc_keys_wipe(&forged);
    imc_wipe(sk2, sizeof sk2);
}

/* A smaller per-handle limit through the options. */
static void option_limit(const imc_backend *b, fx_store_kind kind, const char *tmp)
{
    world w;
    memset(&w, 0, sizeof w);
    w.b = b;
    w.kind = kind;
    fx_dir_key(b, 3, w.pk, w.sk);
    CHECK_OK(fx_store_open(&w.store, kind, b, tmp, "limit"));
    imc_dir_options o = {2};
    CHECK_OK(imc_dir_init(&w.d, b, w.store, w.sk, &o));
    imc_device_keys k;
    size_t n = 0;
    for (uint64_t i = 1; i <= 3; i++) {
        CHECK_OK(fx_keys(&k, b, 1, 500 + i, 0));
        CHECK_ST(fx_register(g_resp, &n, &w.d, "small@example.com", &k),
                 i <= 2 ? IMC_OK : IMC_ERR_LIMIT);
    }
    o.max_devices_per_handle = IMC_MAX_DEVICES_PER_HANDLE + 1;
    imc_dir d2;
    CHECK_ST(imc_dir_init(&d2, b, w.store, w.sk, &o), IMC_ERR_LIMIT);
    /* The store is stamped with its key: another key is refused. */
    uint8_t pk2[IMC_DIR_PUBLIC_BYTES], sk2[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 4, pk2, sk2);
    CHECK_ST(imc_dir_init(&d2, b, w.store, sk2, NULL), IMC_ERR_AUTH);
    imc_keys_wipe(&k);
    close_world(&w);
}

/* Runs everything on one store; returns its final digest in out. */
static void run_store(const imc_backend *b, fx_store_kind kind, const char *tmp,
                      uint8_t out[IMC_SHA256_BYTES], uint8_t *last, size_t *last_len)
{
    printf("  %s / %s\n", imc_backend_name(b), FX_STORE_NAMES[kind]);
    world w;
    memset(&w, 0, sizeof w);
    w.b = b;
    w.kind = kind;
    snprintf(w.path, sizeof w.path, "%s", tmp);
    fx_dir_key(b, 0, w.pk, w.sk);
    if (!open_world(&w))
        return;
    cast c;
    make_cast(&c, b);
    happy_path(&w, &c);
    rejections(&w, &c);
    fx_snapshot s = fx_snap(&w.d);
    memcpy(out, s.digest, IMC_SHA256_BYTES);
    imc_dir_handle hs[3] = {fx_h("alice@example.com"), fx_h("bob@example.com"),
                            fx_h("many@example.com")};
    CHECK_OK(
        imc_dir_lookup_batch(last, IMC_DIR_RESPONSE_MAX_BYTES(3), last_len, &w.d, FX_NOW, hs, 3));
    if (kind == FX_LMDB) {
        /* Durable: closed and reopened, it is the same directory. */
        close_world(&w);
        if (!open_world(&w))
            return;
        fx_snapshot again = fx_snap(&w.d);
        CHECK(fx_same(&s, &again));
        CHECK_OK(imc_dir_check(&w.d));
    }
    close_world(&w);
    option_limit(b, kind, tmp);
    imc_keys_wipe(&c.a1);
}

int main(void)
{
    /* Every backend of the registry (auto included). */
    size_t count = 0;
    (void)imc_backend_list(&count);
    const imc_backend **bs = calloc(count > 0 ? count : 1, sizeof *bs);
    CHECK(bs != NULL);
    if (bs == NULL)
        return imc_test_end();
    size_t nb = imc_test_backends(bs, count);
    CHECK(nb > 0);
    CHECK(nb == count);
    static uint8_t last[2][IMC_DIR_RESPONSE_MAX_BYTES(3)];
    for (size_t i = 0; i < nb; i++) {
        if ((imc_backend_caps(bs[i]) & IMC_CAP_ED25519) == 0) {
            /* The directory's own key is Ed25519 (imc_dir_keygen). */
            imc_test_skip(imc_backend_name(bs[i]), "no Ed25519 for the directory key");
            continue;
        }
        char tmp[512];
        CHECK(fx_tmpdir(tmp, sizeof tmp));
        uint8_t digest[2][IMC_SHA256_BYTES];
        size_t last_len[2] = {0, 0};
        for (int kind = FX_MEM; kind <= FX_LMDB; kind++)
            run_store(bs[i], (fx_store_kind)kind, tmp, digest[kind], last[kind], &last_len[kind]);
        /* The same operations leave both stores with the same content and
         * the same signed answers. */
        CHECK(memcmp(digest[0], digest[1], IMC_SHA256_BYTES) == 0);
        CHECK(last_len[0] > 0 && last_len[0] == last_len[1] &&
              memcmp(last[0], last[1], last_len[0]) == 0);
        fx_rmdir(tmp);
    }
    free(bs);
    return imc_test_end();
}
