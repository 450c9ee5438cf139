/* Directory wire formats (docs/directory-format.md): round trips, and
 * every strictness rule of the request, response, update and device-list
 * parsers: truncation at every length, trailing bytes, versions (1 is
 * refused), kinds, ops, suites, counts, duplicates, handle normal form,
 * epoch and version rules, key changes, list framing. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

static uint8_t g_buf[IMC_DIR_RESPONSE_MAX_BYTES(4)];
static uint8_t g_mut[IMC_DIR_RESPONSE_MAX_BYTES(4) + 1];

typedef imc_status (*parse_fn)(const uint8_t *in, size_t len);

static imc_status parse_req(const uint8_t *in, size_t len)
{
    static imc_dir_request r;
    return imc_dir_parse_request(&r, in, len);
}
static imc_status parse_resp(const uint8_t *in, size_t len)
{
    imc_dir_response r;
    return imc_dir_parse_response(&r, in, len);
}
static imc_status parse_upd(const uint8_t *in, size_t len)
{
    imc_dir_update_msg u;
    return imc_dir_parse_update(&u, in, len);
}

/* Every proper prefix is malformed, so is one trailing byte, and so are a
 * wrong version and a wrong kind. */
static void strictness(parse_fn parse, const uint8_t *msg, size_t len)
{
    CHECK_OK(parse(msg, len));
    int all_short = 1;
    for (size_t i = 0; i < len; i++)
        all_short &= parse(msg, i) == IMC_ERR_MALFORMED;
    CHECK(all_short);
    memcpy(g_mut, msg, len);
    g_mut[len] = 0;
    CHECK_ST(parse(g_mut, len + 1), IMC_ERR_MALFORMED);
    g_mut[0] = 1; /* the format before account keys */
    CHECK_ST(parse(g_mut, len), IMC_ERR_MALFORMED);
    g_mut[0] = msg[0];
    g_mut[1] ^= 0x20;
    CHECK_ST(parse(g_mut, len), IMC_ERR_MALFORMED);
    CHECK_ST(parse(NULL, 0), IMC_ERR_MALFORMED);
}

static void requests(void)
{
    imc_dir_handle h[3] = {fx_h("alice@example.com"), fx_h("+14155550100"), fx_h("b@c.de")};
    size_t n = 0;
    CHECK_OK(imc_dir_encode_request(g_buf, sizeof g_buf, &n, h, 3));
    CHECK(n == 4 + 3 + 17 + 12 + 6);
    strictness(parse_req, g_buf, n);
    static imc_dir_request r;
    CHECK_OK(imc_dir_parse_request(&r, g_buf, n));
    CHECK(r.count == 3 && r.handles[1].len == 12 &&
          memcmp(r.handles[1].bytes, "+14155550100", 12) == 0);

    /* Builder rules. */
    imc_dir_handle dup[2] = {fx_h("a@b.cd"), fx_h("a@b.cd")};
    imc_dir_handle bad[1] = {fx_h("A@b.cd")};
    CHECK_ST(imc_dir_encode_request(g_buf, sizeof g_buf, &n, dup, 2), IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_encode_request(g_buf, sizeof g_buf, &n, bad, 1), IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_encode_request(g_buf, sizeof g_buf, &n, h, 0), IMC_ERR_ARG);
    CHECK_ST(imc_dir_encode_request(g_buf, 10, &n, h, 3), IMC_ERR_NO_SPACE);
    static imc_dir_handle many[IMC_DIR_MAX_BATCH + 1];
    static char names[IMC_DIR_MAX_BATCH + 1][24];
    for (size_t i = 0; i <= IMC_DIR_MAX_BATCH; i++) {
        snprintf(names[i], sizeof names[i], "u%zu@example.com", i);
        many[i] = fx_h(names[i]);
    }
    CHECK_ST(imc_dir_encode_request(g_buf, sizeof g_buf, &n, many, IMC_DIR_MAX_BATCH + 1),
             IMC_ERR_LIMIT);
    CHECK_OK(imc_dir_encode_request(g_buf, sizeof g_buf, &n, many, IMC_DIR_MAX_BATCH));
    CHECK_OK(imc_dir_parse_request(&r, g_buf, n));
    CHECK(r.count == IMC_DIR_MAX_BATCH);
    /* Over the limit on the wire: IMC_ERR_LIMIT; zero: malformed. */
    g_buf[2] = (uint8_t)((IMC_DIR_MAX_BATCH + 1) >> 8);
    g_buf[3] = (uint8_t)(IMC_DIR_MAX_BATCH + 1);
    CHECK_ST(imc_dir_parse_request(&r, g_buf, n), IMC_ERR_LIMIT);
    const uint8_t zero[] = {2, IMC_DIR_KIND_REQUEST, 0, 0};
    CHECK_ST(imc_dir_parse_request(&r, zero, sizeof zero), IMC_ERR_MALFORMED);

    /* Handles on the wire: not in normal form, empty, repeated. */
    const uint8_t upper[] = {2, 'Q', 0, 1, 6, 'A', '@', 'b', '.', 'c', 'd'};
    const uint8_t empty[] = {2, 'Q', 0, 1, 0};
    const uint8_t twice[] = {2,   'Q', 0, 2,   6,   'a', '@', 'b', '.',
                             'c', 'd', 6, 'a', '@', 'b', '.', 'c', 'd'};
    const uint8_t phone[] = {2, 'Q', 0, 1, 9, '+', '1', ' ', '4', '1', '5', '5', '5', '5'};
    CHECK_ST(imc_dir_parse_request(&r, upper, sizeof upper), IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_parse_request(&r, empty, sizeof empty), IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_parse_request(&r, twice, sizeof twice), IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_parse_request(&r, phone, sizeof phone), IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_parse_request(&r, twice, sizeof twice - 7), IMC_ERR_MALFORMED);
}

/* Offsets in an update for alice@example.com (17 bytes): the device body,
 * then the framed list, and inside the list its fields. */
#define UPD_BODY (3 + 18 + 8)
#define L_VERSION 20 /* list: version, kind, handle (18) */
#define L_KEY 28
#define L_PREV 61
#define L_COUNT 93
#define LIST_LEN(d, rot) (2 + 18 + 8 + 1 + 32 + 32 + 1 + 74 * (d) + 64 * ((rot) ? 2 : 1))

/* A mutation of g_buf's byte at `at` (xor x) must give `want`. */
static void mutate_is(size_t n, size_t at, uint8_t x, imc_status want)
{
    imc_dir_update_msg u;
    memcpy(g_mut, g_buf, n);
    g_mut[at] ^= x;
    CHECK_ST(imc_dir_parse_update(&u, g_mut, n), want);
}

static void updates(const imc_backend *b)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, pk, sk);
    imc_device_keys k1, k1b, k2;
    CHECK_OK(fx_keys(&k1, b, 1, 11, 0));
    CHECK_OK(fx_keys(&k1b, b, 1, 11, 1));
    CHECK_OK(fx_keys(&k2, b, 1, 12, 0));
    const char *h = "alice@example.com";
    uint8_t apk[32], ask[32], npk[32], nsk[32];
    fx_account(b, h, 0, apk, ask);
    fx_account(b, h, 1, npk, nsk);
    size_t n = 0;
    imc_dir_update_msg u;
    static imc_dir_record cur, empty;
    memset(&empty, 0, sizeof empty);
    memcpy(empty.handle, h, 17);
    empty.handle_len = 17;

    /* Account creation: register at epoch 0, list version 1, a new key. */
    CHECK_OK(imc_dir_sign_register(g_buf, sizeof g_buf, &n, b, pk, &empty, ask, &k2));
    CHECK(n == UPD_BODY + 74 + 2 + LIST_LEN(1, 0) + 65);
    strictness(parse_upd, g_buf, n);
    CHECK_OK(imc_dir_parse_update(&u, g_buf, n));
    CHECK(u.op == IMC_DIR_OP_REGISTER && u.epoch == 0 && u.list.epoch == 1);
    CHECK(u.list.key_change == IMC_DIR_KEY_NEW && memcmp(u.list.account_pk, apk, 32) == 0);
    CHECK(u.list_len == LIST_LEN(1, 0) && u.list.device_count == 1);
    CHECK_OK(imc_dir_list_verify(b, &u.list, NULL));
    cur = u.list; /* alice's list at version 1 */

    /* Adding a device at epoch 1: the same key, chained. */
    CHECK_OK(imc_dir_sign_register(g_buf, sizeof g_buf, &n, b, pk, &cur, ask, &k1));
    CHECK(n == UPD_BODY + 74 + 2 + LIST_LEN(2, 0) + 65);
    strictness(parse_upd, g_buf, n);
    CHECK_OK(imc_dir_parse_update(&u, g_buf, n));
    CHECK(u.op == IMC_DIR_OP_REGISTER && u.epoch == 1 && u.handle.len == 17);
    CHECK(u.device.device_id == 11 && u.target_id == 11 && u.sig_count == 1 && u.sig_len[0] == 64);
    CHECK(memcmp(u.device.sig_pk, k1.pub.sig_pk, 32) == 0 && u.signed_part_len == n - 65);
    CHECK(u.list.key_change == IMC_DIR_KEY_SAME && u.list.device_count == 2);
    uint8_t ph[IMC_SHA256_BYTES];
    CHECK_OK(imc_dir_list_hash(ph, b, &cur));
    CHECK(memcmp(ph, u.list.prev_hash, 32) == 0);
    CHECK_OK(imc_dir_list_verify(b, &u.list, NULL));
    CHECK_ST(imc_dir_list_verify(b, &u.list, apk), IMC_ERR_AUTH); /* not a rotation */
    /* Unknown op, unknown suite, device id 0, bad signature lengths. */
    mutate_is(n, 2, 0x07, IMC_ERR_MALFORMED); /* op 1 -> 6: unknown */
    mutate_is(n, 2, 1, IMC_ERR_MALFORMED); /* op 0 */
    mutate_is(n, UPD_BODY + 1, 0x09, IMC_ERR_MALFORMED); /* suite 1 -> 8 */
    memcpy(g_mut, g_buf, n);
    memset(g_mut + UPD_BODY + 2, 0, 8); /* device id 0 */
    CHECK_ST(imc_dir_parse_update(&u, g_mut, n), IMC_ERR_MALFORMED);
    memcpy(g_mut, g_buf, n);
    g_mut[n - 65] = 0;
    CHECK_ST(imc_dir_parse_update(&u, g_mut, n - 64), IMC_ERR_MALFORMED);
    g_mut[n - 65] = IMC_SIG_MAX + 1;
    g_mut[n] = 0;
    CHECK_ST(imc_dir_parse_update(&u, g_mut, n + 1), IMC_ERR_MALFORMED);
    /* A handle not in normal form. */
    mutate_is(n, 4, 'a' ^ 'A', IMC_ERR_MALFORMED);
    /* The list: its version byte, its kind, its handle (another one), its
     * version (not epoch + 1), its key change (new, rotated, unknown), a
     * zero previous hash after version 1, its framing, its device order
     * and count. */
    size_t l = UPD_BODY + 74 + 2;
    mutate_is(n, l, 0x03, IMC_ERR_MALFORMED); /* list format 2 -> 1 */
    mutate_is(n, l + 1, 0x20, IMC_ERR_MALFORMED);
    mutate_is(n, l + 3, 'a' ^ 'b', IMC_ERR_MALFORMED);
    mutate_is(n, l + L_VERSION + 7, 0x01, IMC_ERR_MALFORMED); /* list version 2 -> 3 */
    mutate_is(n, UPD_BODY - 1, 0x03, IMC_ERR_MALFORMED); /* the update's epoch 1 -> 2 */
    mutate_is(n, l + L_KEY, IMC_DIR_KEY_NEW, IMC_ERR_MALFORMED);
    mutate_is(n, l + L_KEY, 3, IMC_ERR_MALFORMED);
    memcpy(g_mut, g_buf, n);
    memset(g_mut + l + L_PREV, 0, 32);
    CHECK_ST(imc_dir_parse_update(&u, g_mut, n), IMC_ERR_MALFORMED);
    mutate_is(n, l - 1, 1, IMC_ERR_MALFORMED); /* list length one off */
    mutate_is(n, l + L_COUNT, 0x01, IMC_ERR_MALFORMED); /* count 2 -> 3 */
    mutate_is(n, l + L_COUNT, (uint8_t)(0x02 ^ (IMC_MAX_DEVICES_PER_HANDLE + 1)), IMC_ERR_LIMIT);
    memcpy(g_mut, g_buf, n); /* device ids 11, 12 -> 12, 12 */
    g_mut[l + L_COUNT + 1 + 9] = 12;
    CHECK_ST(imc_dir_parse_update(&u, g_mut, n), IMC_ERR_MALFORMED);
    mutate_is(n, l - 2, 0x80, IMC_ERR_LIMIT); /* list length over the maximum */
    imc_dir_record v2;
    CHECK_OK(imc_dir_parse_update(&u, g_buf, n));
    v2 = u.list;

    /* rotate: two device signatures */
    CHECK_OK(imc_dir_sign_rotate(g_buf, sizeof g_buf, &n, b, pk, &v2, ask, &k1, &k1b));
    CHECK(n == UPD_BODY + 74 + 2 + LIST_LEN(2, 0) + 2 * 65);
    strictness(parse_upd, g_buf, n);
    CHECK_OK(imc_dir_parse_update(&u, g_buf, n));
    CHECK(u.op == IMC_DIR_OP_ROTATE && u.sig_count == 2 && u.target_id == 11);
    CHECK(memcmp(u.device.dh_pk, k1b.pub.dh_pk, 32) == 0 && u.list.epoch == 3);
    CHECK_ST(imc_dir_sign_rotate(g_buf, sizeof g_buf, &n, b, pk, &v2, ask, &k1, &k2),
             IMC_ERR_ARG); /* other device id */

    /* revoke: no device signature, the account decides */
    CHECK_OK(imc_dir_sign_revoke(g_buf, sizeof g_buf, &n, b, pk, &v2, ask, 11));
    CHECK(n == UPD_BODY + 8 + 2 + LIST_LEN(1, 0));
    strictness(parse_upd, g_buf, n);
    CHECK_OK(imc_dir_parse_update(&u, g_buf, n));
    CHECK(u.op == IMC_DIR_OP_REVOKE && u.target_id == 11 && u.sig_count == 0);
    mutate_is(n, UPD_BODY + 7, 11, IMC_ERR_MALFORMED); /* device id 0 */
    CHECK_ST(imc_dir_sign_revoke(g_buf, sizeof g_buf, &n, b, pk, &v2, ask, 99), IMC_ERR_NOT_FOUND);

    /* account rotation: the list names the new key, the old one signs too */
    CHECK_OK(imc_dir_sign_account_rotate(g_buf, sizeof g_buf, &n, b, pk, &v2, ask, nsk));
    CHECK(n == UPD_BODY + 2 + LIST_LEN(2, 1));
    strictness(parse_upd, g_buf, n);
    CHECK_OK(imc_dir_parse_update(&u, g_buf, n));
    CHECK(u.op == IMC_DIR_OP_ACCOUNT_ROTATE && u.list.key_change == IMC_DIR_KEY_ROTATED);
    CHECK(memcmp(u.list.account_pk, npk, 32) == 0 && u.sig_count == 0);
    CHECK_OK(imc_dir_list_verify(b, &u.list, apk));
    CHECK_ST(imc_dir_list_verify(b, &u.list, npk), IMC_ERR_AUTH);
    mutate_is(n, UPD_BODY + 2 + L_KEY, IMC_DIR_KEY_ROTATED, IMC_ERR_MALFORMED); /* "same" */
    /* Read as a revoke, the list's first bytes become the device id and its
     * handle bytes the list length ("@e": over the limit). */
    mutate_is(n, 2, 0x07, IMC_ERR_LIMIT); /* op 4 -> 3 */

    /* account reset: a new key and one new device, as a creation */
    CHECK_OK(imc_dir_sign_account_reset(g_buf, sizeof g_buf, &n, b, pk, &v2, nsk, &k1b));
    CHECK(n == UPD_BODY + 74 + 2 + LIST_LEN(1, 0) + 65);
    strictness(parse_upd, g_buf, n);
    CHECK_OK(imc_dir_parse_update(&u, g_buf, n));
    CHECK(u.op == IMC_DIR_OP_ACCOUNT_RESET && u.list.key_change == IMC_DIR_KEY_NEW);
    CHECK(u.list.epoch == 3 && u.list.device_count == 1 && u.sig_count == 1);
    mutate_is(n, UPD_BODY + 74 + 2 + L_KEY, IMC_DIR_KEY_NEW, IMC_ERR_MALFORMED); /* "same" */
    CHECK_ST(imc_dir_sign_account_reset(g_buf, sizeof g_buf, &n, b, pk, &empty, nsk, &k1b),
             IMC_ERR_ARG); /* nothing to reset */

    /* Builders refuse bad handles and small buffers, leaving nothing. */
    static imc_dir_record bad;
    bad = empty;
    bad.handle[0] = 'A';
    CHECK_ST(imc_dir_sign_register(g_buf, sizeof g_buf, &n, b, pk, &bad, ask, &k1),
             IMC_ERR_MALFORMED);
    bad.handle_len = 256;
    CHECK_ST(imc_dir_sign_register(g_buf, sizeof g_buf, &n, b, pk, &bad, ask, &k1), IMC_ERR_LIMIT);
    memset(g_buf, 0, 100);
    CHECK_ST(imc_dir_sign_register(g_buf, 100, &n, b, pk, &empty, ask, &k1), IMC_ERR_NO_SPACE);
    CHECK(n == 0 && imc_ct_is_zero(g_buf, 100));

    /* A list on its own: parse, hash, strictness. */
    size_t ll = 0;
    CHECK_OK(imc_dir_list_encode(g_buf, sizeof g_buf, &ll, &v2));
    CHECK(ll == LIST_LEN(2, 0));
    static imc_dir_record back;
    CHECK_OK(imc_dir_list_parse(&back, g_buf, ll));
    CHECK(back.epoch == 2 && imc_dir_devices_equal(&back, &v2));
    int all_short = 1;
    for (size_t i = 0; i < ll; i++)
        all_short &= imc_dir_list_parse(&back, g_buf, i) == IMC_ERR_MALFORMED;
    CHECK(all_short);
    CHECK_ST(imc_dir_list_parse(&back, g_buf, ll + 1), IMC_ERR_MALFORMED);
    v2.list_sig[5] ^= 1;
    CHECK_ST(imc_dir_list_verify(b, &v2, NULL), IMC_ERR_AUTH);
    imc_keys_wipe(&k1);
    imc_keys_wipe(&k1b);
    imc_keys_wipe(&k2);
    imc_wipe(ask, sizeof ask);
    imc_wipe(nsk, sizeof nsk);
}

static void responses(const imc_backend *b)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 0, pk, sk);
    imc_device_public d[IMC_MAX_DEVICES_PER_HANDLE + 2];
    for (size_t i = 0; i < IMC_MAX_DEVICES_PER_HANDLE + 2; i++) {
        imc_device_keys k;
        CHECK_OK(fx_keys(&k, b, 1, 100 + i, 0));
        d[i] = k.pub;
        imc_keys_wipe(&k);
    }
    fx_entry_spec e[3] = {
        {"alice@example.com", 3, 9, FX_NOW, 2, d, FX_SPEC_TAIL},
        {"+14155550100", 0, 9, FX_NOW, 0, NULL, FX_SPEC_TAIL},
        {"bob@example.com", 9, 9, FX_NOW, 1, d + 2, FX_SPEC_TAIL},
    };
    size_t n = fx_build_response(g_buf, sizeof g_buf, b, pk, sk, e, 3);
    CHECK(n > 0);
    strictness(parse_resp, g_buf, n);
    imc_dir_response r;
    imc_dir_entry ent;
    CHECK_OK(imc_dir_parse_response(&r, g_buf, n));
    CHECK(r.count == 3 && r.global_epoch == 9 && r.issued_ms == FX_NOW);
    size_t off = 0;
    CHECK_OK(imc_dir_response_next(&ent, &off, &r));
    CHECK(ent.rec.epoch == 3 && ent.rec.device_count == 2 && ent.rec.devices[1].device_id == 101);
    CHECK(imc_dir_device_equal(&ent.rec.devices[0], &d[0]));
    CHECK_OK(imc_dir_entry_verify(b, pk, &ent));
    CHECK_OK(imc_dir_response_next(&ent, &off, &r));
    CHECK(ent.rec.epoch == 0 && ent.rec.device_count == 0 && ent.rec.handle_len == 12);
    CHECK_OK(imc_dir_entry_verify(b, pk, &ent));
    CHECK_OK(imc_dir_response_next(&ent, &off, &r));
    CHECK(off == r.entries_len);
    CHECK_OK(imc_dir_entry_verify(b, pk, &ent));
    /* Another key does not verify it; a changed byte does not either. */
    uint8_t pk2[IMC_DIR_PUBLIC_BYTES], sk2[IMC_DIR_SECRET_BYTES];
    fx_dir_key(b, 1, pk2, sk2);
    CHECK_ST(imc_dir_entry_verify(b, pk2, &ent), IMC_ERR_AUTH);
    ((uint8_t *)(uintptr_t)ent.body)[20] ^= 1;
    CHECK_ST(imc_dir_entry_verify(b, pk, &ent), IMC_ERR_AUTH);

    /* The rules, one per hand-made response. */
    fx_entry_spec one = {"alice@example.com", 3, 9, FX_NOW, 2, d, FX_SPEC_TAIL};
    imc_device_public twin[2] = {d[0], d[0]};
    imc_device_public down[2] = {d[1], d[0]};
    imc_device_public zero_id[1] = {d[0]};
    zero_id[0].device_id = 0;
    imc_device_public odd_suite[1] = {d[0]};
    odd_suite[0].suite = 7;
#define RESP_IS(spec, cnt, want)                                                                   \
    do {                                                                                           \
        size_t len_ = fx_build_response(g_buf, sizeof g_buf, b, pk, sk, spec, cnt);                \
        CHECK(len_ > 0);                                                                           \
        CHECK_ST(imc_dir_parse_response(&r, g_buf, len_), want);                                   \
    } while (0)
    RESP_IS(&one, 1, IMC_OK);
    one.devs = twin; /* duplicate device ids */
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.devs = down; /* not increasing */
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.devs = zero_id;
    one.count = 1;
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.devs = odd_suite;
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.devs = d;
    one.count = IMC_MAX_DEVICES_PER_HANDLE;
    RESP_IS(&one, 1, IMC_OK);
    one.count = IMC_MAX_DEVICES_PER_HANDLE + 1; /* oversize device count */
    RESP_IS(&one, 1, IMC_ERR_LIMIT);
    one.count = 1;
    one.epoch = 10; /* handle epoch above the global epoch */
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.epoch = 0; /* a list at epoch 0 */
    one.list_epoch = 3;
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.epoch = 3; /* a list of another version */
    one.list_epoch = 2;
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.list_epoch = 0; /* no list for a registered handle */
    one.no_list = true;
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.no_list = false; /* a list of another handle */
    one.list_handle = "alicf@example.com";
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    one.list_handle = NULL;
    one.handle = "Alice@example.com";
    RESP_IS(&one, 1, IMC_ERR_MALFORMED);
    fx_entry_spec two[2] = {{"a@b.cd", 1, 9, FX_NOW, 1, d, FX_SPEC_TAIL}, {"a@b.cd", 1, 9, FX_NOW, 1, d + 1, FX_SPEC_TAIL}};
    RESP_IS(two, 2, IMC_ERR_MALFORMED); /* the same handle twice */
    two[1].handle = "e@f.gh";
    RESP_IS(two, 2, IMC_OK);
    two[1].global = 8; /* entries from two snapshots */
    RESP_IS(two, 2, IMC_ERR_MALFORMED);
    two[1].global = 9;
    two[1].issued = FX_NOW + 1;
    RESP_IS(two, 2, IMC_ERR_MALFORMED);
    RESP_IS(two, 0, IMC_ERR_MALFORMED); /* no entries */
#undef RESP_IS
    imc_wipe(sk, sizeof sk);
    imc_wipe(sk2, sizeof sk2);
}

int main(void)
{
    const imc_backend *bs[4];
    size_t nb = imc_test_backends(bs, 4);
    CHECK(nb > 0);
    requests();
    for (size_t i = 0; i < nb; i++) {
        updates(bs[i]);
        responses(bs[i]);
    }
    return imc_test_end();
}
