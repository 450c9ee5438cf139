/* Target dir_serve: the directory's request path, imc_dir_serve (which
 * parses a lookup request or an update and dispatches it), against a twin
 * directory driven through imc_dir_lookup_batch / imc_dir_update directly.
 *
 * Both directories use the in-memory store opened with no expected size,
 * so its tables grow as the input registers up to 24 handles; refused
 * updates abort their write transactions. The input is a sequence of
 * operations, each an op byte and two argument bytes:
 *   op % 8 == 0  raw bytes (the next a % 64 bytes) served as they are
 *   op % 8 == 1  a lookup request for the handles in masks a, b
 *   op % 8 == 2  register slot b % 4 (key generation b / 4 % 2) under
 *                handle a % 24 (at epoch 0 this creates the account)
 *   op % 8 == 3  rotate (b & 1) or revoke slot b / 2 % 4 of handle a % 24
 *   op % 8 == 4  account rotate of handle a % 24 to its next account key
 *   op % 8 == 5  account reset of handle a % 24: its next account key and
 *                slot b % 4 (generation b / 4 % 2) as the only device
 *   op % 8 == 6  bulk import (imc_dir_import) of 1 + b % 3 new accounts
 *                from handle a % 24 on, each with slot b / 4 % 4: all or
 *                nothing (an existing handle or device id refuses the lot)
 *   op % 8 == 7  a lookup of the next a % 40 input bytes as a handle,
 *                directly (imc_dir_lookup): refused unless in normal form
 * With op & 0x80 an update is served into a buffer too small for the
 * answer: IMC_ERR_NO_SPACE, checked before anything changes.
 * Every update is built, as a device would, from the handle's current
 * record (a device that looked it up) and signed with the handle's current
 * account key; b & 0x80 builds it for a wrong epoch, b & 0x40 signs with
 * another generation's account key (the account key for an account
 * rotation: the old one). Updates the builders refuse (a device already
 * listed, or not listed) are skipped.
 *
 * Invariants: serve and the twin give the same status and the same bytes;
 * a refused request changes neither directory (digest); a response parses,
 * every entry verifies under the directory key, its device list under the
 * account key it names, and equals the stored record; after every
 * operation imc_dir_check passes and both digests are equal; an applied
 * update is judged by the document (fuzz_dir_judge_update). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_dirforge.h"
#include "imcore/dir.h"
#include "imcore/util.h"

#define HANDLES 24
#define SLOTS 4
#define GENS 2
#define ACCOUNT_GENS 3
#define OUT_CAP IMC_DIR_RESPONSE_MAX_BYTES(HANDLES)
#define NOW (FUZZ_TS_BASE + 1000)

static uint8_t dir_pk[32], dir_sk[32];
static imc_dir dir, twin;
static imc_dir_store store, twin_store;
static uint8_t out[OUT_CAP], out2[OUT_CAP], msg[IMC_DIR_UPDATE_MAX_BYTES + OUT_CAP];
static char names[HANDLES][24];
static unsigned acct_gen[HANDLES]; /* the handle's current account key */

static const uint8_t *handle(unsigned k, size_t *len)
{
    *len = strlen(names[k % HANDLES]);
    return (const uint8_t *)names[k % HANDLES];
}

static const imc_device_keys *keys(unsigned k, unsigned s, unsigned g)
{
    static imc_device_keys table[HANDLES][SLOTS][GENS];
    static bool made[HANDLES][SLOTS][GENS];
    k %= HANDLES, s %= SLOTS, g %= GENS;
    if (!made[k][s][g]) {
        imc_rng rng;
        fuzz_rng(&rng, UINT64_C(0x5e7e000000) | (k << 8) | (s << 4) | g);
        imc_status st = imc_keys_generate(&table[k][s][g], fuzz_backend_for(1), &rng, 1,
                                          UINT64_C(0x5e70000000) | (k << 8) | (s + 1));
        FUZZ_CHECK(st == IMC_OK, "keygen: %s", imc_status_str(st));
        made[k][s][g] = true;
    }
    return &table[k][s][g];
}

static void account(unsigned k, unsigned g, uint8_t pk[32], uint8_t sk[32])
{
    static uint8_t table_pk[HANDLES][ACCOUNT_GENS][32], table_sk[HANDLES][ACCOUNT_GENS][32];
    static bool made[HANDLES][ACCOUNT_GENS];
    k %= HANDLES, g %= ACCOUNT_GENS;
    if (!made[k][g]) {
        imc_rng rng;
        fuzz_rng(&rng, UINT64_C(0x5e7ea00000) | (k << 8) | g);
        imc_status st = imc_dir_account_keygen(fuzz_backend_for(1), &rng, table_pk[k][g],
                                               table_sk[k][g]);
        FUZZ_CHECK(st == IMC_OK, "account keygen: %s", imc_status_str(st));
        made[k][g] = true;
    }
    memcpy(pk, table_pk[k][g], 32);
    memcpy(sk, table_sk[k][g], 32);
}

static void digest(uint8_t d[IMC_SHA256_BYTES], imc_dir *x)
{
    imc_status st = imc_dir_digest(d, x);
    FUZZ_CHECK(st == IMC_OK, "digest: %s", imc_status_str(st));
}

/* Every entry of a response verifies and equals the stored record. */
static void check_response(const uint8_t *r, size_t len)
{
    imc_dir_response resp;
    imc_status st = imc_dir_parse_response(&resp, r, len);
    FUZZ_CHECK(st == IMC_OK, "served response does not parse: %s", imc_status_str(st));
    FUZZ_CHECK(resp.issued_ms == NOW, "response issued at another time");
    static imc_dir_entry e;
    static imc_dir_record rec;
    size_t off = 0;
    for (size_t i = 0; i < resp.count; i++) {
        st = imc_dir_response_next(&e, &off, &resp);
        FUZZ_CHECK(st == IMC_OK, "entry %zu: %s", i, imc_status_str(st));
        FUZZ_CHECK(imc_dir_entry_verify(fuzz_backend_for(1), dir_pk, &e) == IMC_OK,
                   "entry %zu is not signed by the directory", i);
        FUZZ_CHECK(e.rec.epoch == 0 || imc_dir_list_verify(fuzz_backend_for(1), &e.rec, NULL) ==
                                           IMC_OK,
                   "entry %zu: the list is not signed by the account key it names", i);
        st = imc_dir_get(&rec, &dir, e.rec.handle, e.rec.handle_len);
        FUZZ_CHECK(st == IMC_OK, "get: %s", imc_status_str(st));
        FUZZ_CHECK(rec.epoch == e.rec.epoch && rec.device_count == e.rec.device_count &&
                       memcmp(rec.devices, e.rec.devices,
                              rec.device_count * sizeof rec.devices[0]) == 0 &&
                       rec.key_change == e.rec.key_change &&
                       memcmp(rec.account_pk, e.rec.account_pk, sizeof rec.account_pk) == 0 &&
                       memcmp(rec.prev_hash, e.rec.prev_hash, sizeof rec.prev_hash) == 0 &&
                       memcmp(rec.list_sig, e.rec.list_sig, sizeof rec.list_sig) == 0,
                   "entry %zu differs from the stored record", i);
    }
}

/* Serves msg[0..len) on dir and the twin's direct call on twin; the
 * status. */
static imc_status serve(size_t len, size_t cap)
{
    uint8_t before[32], after[32], tw[32];
    digest(before, &dir);
    size_t n1 = 0, n2 = 0;
    static imc_dir_request req;
    static imc_dir_update_msg upd;
    static imc_dir_record rec_before, rec_after;
    bool is_update = imc_dir_parse_update(&upd, msg, len) == IMC_OK;
    if (is_update)
        FUZZ_CHECK(imc_dir_get(&rec_before, &dir, upd.handle.bytes, upd.handle.len) == IMC_OK,
                   "get");
    imc_status s1 = imc_dir_serve(out, cap, &n1, &dir, NOW, msg, len);
    imc_status s2;
    if (imc_dir_parse_request(&req, msg, len) == IMC_OK) {
        s2 = imc_dir_lookup_batch(out2, cap, &n2, &twin, NOW, req.handles, req.count);
        fuzz_count("dir_serve.lookup");
    } else if (is_update) {
        s2 = imc_dir_update(out2, cap, &n2, &twin, NOW, msg, len);
        fuzz_count(s2 == IMC_OK ? "dir_serve.update-ok" : "dir_serve.update-refused");
    } else {
        /* Neither parses: serve must say so and change nothing. */
        s2 = s1 == IMC_ERR_LIMIT ? IMC_ERR_LIMIT : IMC_ERR_MALFORMED;
        fuzz_count("dir_serve.unparsed");
    }
    FUZZ_CHECK(s1 == s2, "serve says %s, the direct call %s", imc_status_str(s1),
               imc_status_str(s2));
    digest(after, &dir);
    if (s1 != IMC_OK) {
        FUZZ_CHECK(memcmp(before, after, 32) == 0, "refused request (%s) changed the directory",
                   imc_status_str(s1));
    } else {
        FUZZ_CHECK(n1 == n2 && memcmp(out, out2, n1) == 0, "serve and the direct call differ");
        check_response(out, n1);
        if (is_update) {
            FUZZ_CHECK(imc_dir_get(&rec_after, &dir, upd.handle.bytes, upd.handle.len) == IMC_OK,
                       "get");
            fuzz_dir_judge_update(dir_pk, &rec_before, &rec_after, &upd);
        }
    }
    FUZZ_CHECK(imc_dir_check(&dir) == IMC_OK, "imc_dir_check fails");
    digest(tw, &twin);
    FUZZ_CHECK(memcmp(after, tw, 32) == 0, "directory and twin differ");
    return s1;
}

/* Handle k's record as a device that looked it up has it (the epoch made
 * wrong if asked). */
static const imc_dir_record *current(unsigned k, bool wrong)
{
    static imc_dir_record rec;
    size_t hl = 0;
    const uint8_t *h = handle(k, &hl);
    imc_status st = imc_dir_get(&rec, &dir, h, hl);
    FUZZ_CHECK(st == IMC_OK, "get: %s", imc_status_str(st));
    if (wrong)
        rec.epoch = rec.epoch > 1 && (rec.epoch & 1) ? rec.epoch - 1 : rec.epoch + 1;
    return &rec;
}

/* Bulk import on both directories: the same verdict, all or nothing. */
static void import_accounts(unsigned k, size_t n, unsigned slot)
{
    static imc_dir_record recs[3];
    uint8_t before[32], after[32], tw[32];
    digest(before, &dir);
    uint64_t g0 = 0, g1 = 0;
    FUZZ_CHECK(imc_dir_global_epoch(&g0, &dir) == IMC_OK, "global epoch");
    memset(recs, 0, sizeof recs);
    for (size_t i = 0; i < n; i++) {
        size_t hl = 0;
        const uint8_t *h = handle(k + (unsigned)i, &hl);
        uint8_t sk[32];
        memcpy(recs[i].handle, h, hl);
        recs[i].handle_len = hl;
        recs[i].epoch = 1;
        recs[i].key_change = IMC_DIR_KEY_NEW;
        account(k + (unsigned)i, 0, recs[i].account_pk, sk);
        recs[i].device_count = 1;
        recs[i].devices[0] = keys(k + (unsigned)i, slot, 0)->pub;
        /* Signed as the account did (import does not check it; lookups
         * are checked against it). */
        imc_status st = imc_dir_list_sign(&recs[i], fuzz_backend_for(1), IMC_DIR_KEY_NEW, NULL,
                                          sk, NULL);
        imc_wipe(sk, sizeof sk);
        FUZZ_CHECK(st == IMC_OK, "list sign: %s", imc_status_str(st));
    }
    imc_status s1 = imc_dir_import(&dir, recs, n);
    imc_status s2 = imc_dir_import(&twin, recs, n);
    FUZZ_CHECK(s1 == s2, "import: %s, on the twin %s", imc_status_str(s1), imc_status_str(s2));
    digest(after, &dir);
    digest(tw, &twin);
    FUZZ_CHECK(imc_dir_global_epoch(&g1, &dir) == IMC_OK, "global epoch");
    FUZZ_CHECK(memcmp(after, tw, 32) == 0, "directory and twin differ after an import");
    FUZZ_CHECK(imc_dir_check(&dir) == IMC_OK, "imc_dir_check fails after an import");
    if (s1 != IMC_OK) {
        FUZZ_CHECK(s1 == IMC_ERR_EXISTS, "import of new-looking accounts: %s", imc_status_str(s1));
        FUZZ_CHECK(memcmp(before, after, 32) == 0 && g1 == g0, "a refused import changed it");
        fuzz_count("dir_serve.import-refused");
        return;
    }
    FUZZ_CHECK(g1 == g0 + n, "import of %zu moved the global epoch %llu -> %llu", n,
               (unsigned long long)g0, (unsigned long long)g1);
    for (size_t i = 0; i < n; i++) {
        static imc_dir_record got;
        FUZZ_CHECK(imc_dir_get(&got, &dir, recs[i].handle, recs[i].handle_len) == IMC_OK &&
                       got.epoch == 1 && got.device_count == 1 &&
                       got.devices[0].device_id == recs[i].devices[0].device_id,
                   "imported account %zu not stored as given", i);
    }
    fuzz_count("dir_serve.import-ok");
}

/* imc_dir_lookup of raw bytes as a handle, on both directories. */
static void raw_lookup(fuzz_input *in, size_t want)
{
    size_t got = 0, n1 = 0, n2 = 0;
    const uint8_t *h = fuzz_bytes(in, want, &got);
    imc_status s1 = imc_dir_lookup(out, sizeof out, &n1, &dir, NOW, h, got);
    imc_status s2 = imc_dir_lookup(out2, sizeof out2, &n2, &twin, NOW, h, got);
    FUZZ_CHECK(s1 == s2 && (s1 != IMC_OK || (n1 == n2 && memcmp(out, out2, n1) == 0)),
               "lookup: %s, on the twin %s", imc_status_str(s1), imc_status_str(s2));
    bool valid = got > 0 && imc_dir_handle_valid(h, got);
    FUZZ_CHECK(valid ? s1 == IMC_OK : (s1 == IMC_ERR_MALFORMED || s1 == IMC_ERR_LIMIT),
               "lookup of a handle %s in normal form: %s", valid ? "" : "not",
               imc_status_str(s1));
    if (s1 == IMC_OK)
        check_response(out, n1);
    fuzz_count(valid ? "dir_serve.raw-lookup-ok" : "dir_serve.raw-lookup-refused");
}

/* Every stored record, visited once by imc_dir_scan, is what imc_dir_get
 * returns, and the epochs add up to the global epoch. */
typedef struct scan_sum {
    uint64_t epochs;
    size_t records;
} scan_sum;

static int scan_one(void *ctx, const imc_dir_record *rec)
{
    static imc_dir_record got;
    scan_sum *sum = ctx;
    FUZZ_CHECK(imc_dir_get(&got, &dir, rec->handle, rec->handle_len) == IMC_OK &&
                   got.epoch == rec->epoch && got.device_count == rec->device_count,
               "scan and get disagree");
    sum->epochs += rec->epoch;
    sum->records++;
    return 0;
}

static void setup(void)
{
    for (unsigned k = 0; k < HANDLES; k++)
        snprintf(names[k], sizeof names[k], "user%u@example.org", k);
    fuzz_dir_key(dir_pk, dir_sk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    const imc_backend *b = fuzz_backend_for(1);
    imc_status st = imc_dir_store_mem_open(&store, b, 0);
    FUZZ_CHECK(st == IMC_OK, "store: %s", imc_status_str(st));
    st = imc_dir_store_mem_open(&twin_store, b, 0);
    FUZZ_CHECK(st == IMC_OK, "store: %s", imc_status_str(st));
    imc_dir_options opt = {SLOTS};
    st = imc_dir_init(&dir, b, store, dir_sk, &opt);
    FUZZ_CHECK(st == IMC_OK, "init: %s", imc_status_str(st));
    st = imc_dir_init(&twin, b, twin_store, dir_sk, &opt);
    FUZZ_CHECK(st == IMC_OK, "init: %s", imc_status_str(st));

    memset(acct_gen, 0, sizeof acct_gen);
    fuzz_input in = {data, size};
    for (unsigned ops = 0; in.n >= 3 && ops < 96; ops++) {
        uint8_t op = fuzz_u8(&in), a = fuzz_u8(&in), c = fuzz_u8(&in);
        size_t len = 0;
        unsigned k = a % HANDLES;
        bool wrong = (c & 0x80) != 0;
        /* The account key the update is signed with, and the next one. */
        uint8_t apk[32], ask[32], npk[32], nsk[32];
        unsigned next = (acct_gen[k] + 1) % ACCOUNT_GENS;
        account(k, acct_gen[k] + ((c & 0x40) ? 2 : 0), apk, ask);
        account(k, next, npk, nsk);
        switch (op % 8) {
        case 0: {
            size_t got = 0;
            const uint8_t *p = fuzz_bytes(&in, a % 64, &got);
            memcpy(msg, p, got);
            len = got;
            st = IMC_OK;
            break;
        }
        case 1: {
            imc_dir_handle hs[16];
            size_t n = 0;
            uint16_t mask = (uint16_t)(a << 8 | c);
            for (unsigned i = 0; i < 16; i++)
                if (mask & (1u << i)) {
                    hs[n].bytes = handle(i + (op >> 2) % 9, &hs[n].len);
                    n++;
                }
            if (n == 0)
                continue;
            st = imc_dir_encode_request(msg, sizeof msg, &len, hs, n);
            FUZZ_CHECK(st == IMC_OK, "encode request: %s", imc_status_str(st));
            break;
        }
        case 2:
            st = imc_dir_sign_register(msg, sizeof msg, &len, b, dir_pk, current(k, wrong), ask,
                                       keys(k, c % SLOTS, (c / 4) % GENS));
            break;
        case 3: {
            unsigned s = (c / 2) % SLOTS;
            if (c & 1)
                st = imc_dir_sign_rotate(msg, sizeof msg, &len, b, dir_pk, current(k, wrong), ask,
                                         keys(k, s, (c / 8) % GENS), keys(k, s, (c / 8 + 1) % GENS));
            else
                st = imc_dir_sign_revoke(msg, sizeof msg, &len, b, dir_pk, current(k, wrong), ask,
                                         keys(k, s, 0)->pub.device_id);
            break;
        }
        case 4:
            st = imc_dir_sign_account_rotate(msg, sizeof msg, &len, b, dir_pk, current(k, wrong),
                                             ask, nsk);
            break;
        case 6:
            import_accounts(k, 1 + c % 3, (c / 4) % SLOTS);
            continue;
        case 7:
            raw_lookup(&in, a % 40);
            continue;
        default:
            st = imc_dir_sign_account_reset(msg, sizeof msg, &len, b, dir_pk, current(k, wrong),
                                            nsk, keys(k, c % SLOTS, (c / 4) % GENS));
            break;
        }
        imc_wipe(ask, sizeof ask);
        imc_wipe(nsk, sizeof nsk);
        if (st != IMC_OK) {
            fuzz_count("dir_serve.not-built");
            continue;
        }
        st = serve(len, (op & 0x80) && op % 8 >= 2 ? 64 : sizeof out);
        /* An applied update may have set a new account key (creation,
         * rotation, reset): the handle's devices sign with it from now. */
        if (st == IMC_OK && op % 8 >= 2) {
            const imc_dir_record *r = current(k, false);
            for (unsigned g = 0; g < ACCOUNT_GENS; g++) {
                account(k, g, apk, ask);
                if (memcmp(apk, r->account_pk, 32) == 0)
                    acct_gen[k] = g;
            }
            imc_wipe(ask, sizeof ask);
        }
    }
    scan_sum sum = {0, 0};
    uint64_t global = 0;
    FUZZ_CHECK(imc_dir_scan(&dir, scan_one, &sum) == IMC_OK, "scan");
    FUZZ_CHECK(imc_dir_global_epoch(&global, &dir) == IMC_OK && global == sum.epochs,
               "%zu records whose epochs add up to %llu, global epoch %llu", sum.records,
               (unsigned long long)sum.epochs, (unsigned long long)global);
    uint8_t pk[32];
    imc_dir_public_key(pk, &dir);
    FUZZ_CHECK(memcmp(pk, dir_pk, 32) == 0, "the directory's public key is not its key's");
    imc_dir_wipe(&dir);
    imc_dir_wipe(&twin);
    imc_dir_store_close(&store);
    imc_dir_store_close(&twin_store);
    return 0;
}
