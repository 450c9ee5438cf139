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
 *                nothing (an existing handle or device id refuses the lot);
 *                b / 16 % 4 spoils the first record: 1 not a new account
 *                (epoch 2), 2 more devices than allowed, 3 a handle not
 *                in normal form. With b & 0x40 instead the directory is
 *                reopened on its store (b & 0x80: with another key, which
 *                the store refuses, then with its own)
 *   op % 8 == 7  a lookup of the next a % 40 input bytes as a handle,
 *                directly (imc_dir_lookup): refused unless in normal form;
 *                with op & 0x40 instead a transparency request (one more
 *                byte x: the known log size), c % 4: the checkpoint, a
 *                lookup with proofs of handles a % 24 .. + c / 4 % 4, an
 *                audit of handle a % 24 from version 1 + c / 4 % 8; or
 *                (3) witness w = c / 4 % 2 cosigns the current checkpoint
 *                (imc_dir_kt_add_cosignature on both directories), c / 8
 *                % 4: genuinely, offered under the other witness's key,
 *                over another text, or a line that is not a signature
 * With op & 0x80 an update is served into a buffer too small for the
 * answer: IMC_ERR_NO_SPACE, checked before anything changes. With op &
 * 0x20 (ops 1-5, reopens, transparency requests) one more byte f arms a fault
 * in the directory's store (not the twin's): its call number f % 64 + 1
 * (begin, get, put, scan or commit) fails with IMC_ERR_IO (f & 0x40:
 * IMC_ERR_NOMEM; a failed commit ends the transaction); with f & 0x80
 * instead allocation number f % 64 + 1 fails (fuzz_fault.c), which must
 * give IMC_ERR_NOMEM; for a reopen, a call of imc_dir_init.
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
 * update is judged by the document (fuzz_dir_judge_update). A request
 * whose store call failed returns exactly that status and leaves the
 * directory as it was (digest), so the twin skips it. A transparency
 * request is refused exactly when its known size exceeds the log (STALE)
 * or the answer does not fit; an answer parses, starts from the known size,
 * and (known size 0) a fresh client configured with the directory's log
 * key accepts its checkpoint, every lookup answer verifies against it and
 * is the stored record, and an audit verifies and is complete. A
 * cosignature is added exactly when genuine and new (then the served note
 * carries it and it verifies), else AUTH, EXISTS, STALE or MALFORMED as
 * the case is, with nothing changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_dirforge.h"
#include "imcore/dir.h"
#include "imcore/dirkt.h"
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
#define KT_HANDLES 4 /* handles per lookup with proofs */
#define KT_CAP IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES
_Static_assert(IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(KT_HANDLES) <= KT_CAP, "kt buffers");
static uint8_t out[OUT_CAP], out2[OUT_CAP], msg[IMC_DIR_UPDATE_MAX_BYTES + OUT_CAP];
static uint8_t kt_out[KT_CAP], kt_out2[KT_CAP];
static char names[HANDLES][24];

/* The fault-injecting store around the directory's in-memory store: the
 * armed call fails (one fault at a time; the twin's store has none). */
static struct {
    imc_dir_store inner;
    unsigned countdown; /* 0: disarmed */
    unsigned armed;     /* the next request's fault (0: none) */
    bool alloc;         /* it is an allocation's, not the store's */
    imc_status fail;
    bool fired;
} fault;

static bool trip(void)
{
    if (fault.countdown == 0 || --fault.countdown != 0)
        return false;
    fault.fired = true;
    return true;
}

static imc_status f_begin(void *self, bool write, void **txn)
{
    (void)self;
    return trip() ? fault.fail : fault.inner.ops->begin(fault.inner.self, write, txn);
}

static imc_status f_get(void *txn, imc_dir_table t, const uint8_t *key, size_t key_len,
                        const uint8_t **val, size_t *val_len)
{
    return trip() ? fault.fail : fault.inner.ops->get(txn, t, key, key_len, val, val_len);
}

static imc_status f_put(void *txn, imc_dir_table t, const uint8_t *key, size_t key_len,
                        const uint8_t *val, size_t val_len)
{
    return trip() ? fault.fail : fault.inner.ops->put(txn, t, key, key_len, val, val_len);
}

static imc_status f_scan(void *txn, imc_dir_table t, imc_dir_scan_fn fn, void *ctx)
{
    return trip() ? fault.fail : fault.inner.ops->scan(txn, t, fn, ctx);
}

static imc_status f_commit(void *txn)
{
    if (trip()) {
        fault.inner.ops->abort(txn);
        return fault.fail;
    }
    return fault.inner.ops->commit(txn);
}

static void f_abort(void *txn)
{
    fault.inner.ops->abort(txn);
}

static void f_close(void *self)
{
    (void)self;
    imc_dir_store_close(&fault.inner);
}

static const imc_dir_store_ops FAULT_OPS = {"fault", f_begin, f_get, f_put, f_scan,
                                            f_commit, f_abort, f_close};

/* Arms the pending fault for one call into the directory; fault_end says
 * whether it fired (and disarms it). */
static void fault_begin(void)
{
    fault.countdown = fault.alloc ? 0 : fault.armed;
    fault.fired = false;
    if (fault.alloc)
        fuzz_alloc_fail(fault.armed);
}

static bool fault_end(void)
{
    bool fired = fault.alloc ? fuzz_alloc_fired() : fault.fired;
    fault.countdown = 0;
    fault.armed = 0;
    return fired;
}
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
    fault_begin();
    imc_status s1 = imc_dir_serve(out, cap, &n1, &dir, NOW, msg, len);
    if (fault_end()) {
        digest(after, &dir);
        FUZZ_CHECK(s1 == fault.fail, "a store call failed with %s, the request returned %s",
                   imc_status_str(fault.fail), imc_status_str(s1));
        FUZZ_CHECK(memcmp(before, after, 32) == 0, "a request whose store failed changed it");
        FUZZ_CHECK(imc_dir_check(&dir) == IMC_OK, "imc_dir_check fails after a store fault");
        fuzz_count(fault.alloc ? "dir_serve.alloc-fault" : "dir_serve.store-fault");
        return s1;
    }
    imc_status s2;
    static imc_dir_kt_request kreq;
    bool is_kt = imc_dir_kt_parse_request(&kreq, msg, len) == IMC_OK;
    if (is_kt) {
        s2 = imc_dir_kt_serve(out2, cap, &n2, &twin, NOW, msg, len);
        fuzz_count("dir_serve.raw-kt");
    } else if (imc_dir_parse_request(&req, msg, len) == IMC_OK) {
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
        /* (A transparency answer is checked by kt_request.) */
        if (!is_kt)
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
static void import_accounts(unsigned k, size_t n, unsigned slot, unsigned defect)
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
    if (defect == 1)
        recs[0].epoch = 2;
    else if (defect == 2)
        recs[0].device_count = SLOTS + 1;
    else if (defect == 3)
        recs[0].handle[0] = 'U';
    imc_status s1 = imc_dir_import(&dir, recs, n);
    imc_status s2 = imc_dir_import(&twin, recs, n);
    FUZZ_CHECK(s1 == s2, "import: %s, on the twin %s", imc_status_str(s1), imc_status_str(s2));
    digest(after, &dir);
    digest(tw, &twin);
    FUZZ_CHECK(imc_dir_global_epoch(&g1, &dir) == IMC_OK, "global epoch");
    FUZZ_CHECK(memcmp(after, tw, 32) == 0, "directory and twin differ after an import");
    FUZZ_CHECK(imc_dir_check(&dir) == IMC_OK, "imc_dir_check fails after an import");
    if (defect != 0)
        FUZZ_CHECK(s1 == (defect == 2 ? IMC_ERR_LIMIT : IMC_ERR_MALFORMED),
                   "import of a spoilt record (%u): %s", defect, imc_status_str(s1));
    if (s1 != IMC_OK) {
        FUZZ_CHECK(defect != 0 || s1 == IMC_ERR_EXISTS, "import of new-looking accounts: %s",
                   imc_status_str(s1));
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

/* The directory opened again on its store: with another key refused
 * (AUTH), with its own the same directory (digest, key, global epoch);
 * with a store fault, that fault or a directory that works. */
static void reopen(uint8_t c, const imc_dir_options *opt)
{
    uint8_t before[32], after[32], other_pk[32], other_sk[32];
    uint64_t g0 = 0, g1 = 0;
    digest(before, &dir);
    FUZZ_CHECK(imc_dir_global_epoch(&g0, &dir) == IMC_OK, "global epoch");
    imc_dir_wipe(&dir);
    const imc_backend *b = fuzz_backend_for(1);
    imc_status st;
    if (c & 0x80) {
        account(0, 0, other_pk, other_sk); /* any key but the directory's */
        st = imc_dir_init(&dir, b, store, other_sk, opt);
        imc_wipe(other_sk, sizeof other_sk);
        FUZZ_CHECK(st == IMC_ERR_AUTH, "a store opened with another key: %s", imc_status_str(st));
        fuzz_count("dir_serve.reopen-other-key");
    }
    fault_begin();
    st = imc_dir_init(&dir, b, store, dir_sk, opt);
    if (fault_end()) {
        FUZZ_CHECK(st == IMC_OK || st == fault.fail, "reopen with a store fault (%s): %s",
                   imc_status_str(fault.fail), imc_status_str(st));
        if (st != IMC_OK) {
            fuzz_count(fault.alloc ? "dir_serve.reopen-alloc-fault" : "dir_serve.reopen-fault");
            st = imc_dir_init(&dir, b, store, dir_sk, opt);
        }
    }
    FUZZ_CHECK(st == IMC_OK, "reopen: %s", imc_status_str(st));
    digest(after, &dir);
    FUZZ_CHECK(imc_dir_global_epoch(&g1, &dir) == IMC_OK && g1 == g0 &&
                   memcmp(before, after, 32) == 0,
               "the directory reopened on its store is another");
    fuzz_count("dir_serve.reopened");
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

/* The witnesses' keys (cosignature type), made once. */
static const imc_kt_key *witness(unsigned i, const uint8_t **sk)
{
    static imc_kt_key keys[2];
    static uint8_t sks[2][32];
    static bool made;
    if (!made) {
        const imc_backend *b = fuzz_backend_for(1);
        for (unsigned k = 0; k < 2; k++) {
            imc_rng rng;
            uint8_t pk[32];
            char name[32];
            fuzz_rng(&rng, UINT64_C(0x5e7ec05100) | k);
            snprintf(name, sizeof name, "witness%u.example", k);
            imc_status st = imc_crypto_ed25519_keygen(b, &rng, pk, sks[k]);
            if (st == IMC_OK)
                st = imc_kt_key_init(&keys[k], b, name, IMC_KT_SIG_COSIGNATURE, pk);
            FUZZ_CHECK(st == IMC_OK, "witness key: %s", imc_status_str(st));
        }
        made = true;
    }
    *sk = sks[i % 2];
    return &keys[i % 2];
}

/* A witness cosigns the directory's current checkpoint (or tries to). */
static void kt_cosign(uint8_t c)
{
    static uint8_t note[IMC_KT_MAX_NOTE_BYTES], text[IMC_KT_MAX_NOTE_BYTES];
    static char line[512];
    unsigned w = c / 4 % 2, mode = c / 8 % 4;
    size_t n = 0, tl = 0, ll = 0;
    imc_status st = imc_dir_kt_checkpoint(note, sizeof note, &n, &dir);
    if (st == IMC_ERR_NOT_FOUND)
        return; /* nothing logged yet */
    FUZZ_CHECK(st == IMC_OK, "checkpoint: %s", imc_status_str(st));
    imc_kt_note parsed;
    FUZZ_CHECK(imc_kt_note_parse(&parsed, note, n) == IMC_OK, "the checkpoint note does not parse");
    tl = parsed.text_len;
    memcpy(text, parsed.text, tl);
    const uint8_t *sk = NULL, *other_sk = NULL;
    const imc_kt_key *signer = witness(w, &sk);
    /* Mode 1: signed by w, offered under the other witness's key. */
    const imc_kt_key *named = mode == 1 ? witness(w + 1, &other_sk) : signer;
    if (mode == 2)
        text[0] ^= 1; /* another checkpoint's text */
    st = imc_kt_cosign(line, sizeof line, &ll, fuzz_backend_for(1), signer, sk, text, tl,
                       NOW / 1000);
    FUZZ_CHECK(st == IMC_OK, "cosign: %s", imc_status_str(st));
    if (mode == 3)
        memcpy(line, "not a signature line\n", ll = 21);
    uint64_t ts = 0;
    bool had = imc_kt_note_verify(fuzz_backend_for(1), &parsed, named, &ts) != IMC_ERR_NOT_FOUND;
    uint8_t before[32], after[32], tw[32];
    digest(before, &dir);
    imc_status s1 = imc_dir_kt_add_cosignature(&dir, named, text, tl, (const uint8_t *)line, ll);
    imc_status s2 = imc_dir_kt_add_cosignature(&twin, named, text, tl, (const uint8_t *)line, ll);
    FUZZ_CHECK(s1 == s2, "add_cosignature: %s, on the twin %s", imc_status_str(s1),
               imc_status_str(s2));
    /* Checked in this order: the text, the witness's line already
     * there, then the line itself. */
    imc_status want = mode == 2   ? IMC_ERR_STALE
                      : had       ? IMC_ERR_EXISTS
                      : mode == 3 ? IMC_ERR_MALFORMED
                      : mode == 1 ? IMC_ERR_AUTH
                                  : IMC_OK;
    FUZZ_CHECK(s1 == want, "add_cosignature (mode %u%s): %s, not %s", mode,
               had ? ", already there" : "", imc_status_str(s1), imc_status_str(want));
    digest(after, &dir);
    digest(tw, &twin);
    FUZZ_CHECK(memcmp(after, tw, 32) == 0, "directory and twin differ after a cosignature");
    if (s1 != IMC_OK) {
        FUZZ_CHECK(memcmp(before, after, 32) == 0, "a refused cosignature changed the directory");
        fuzz_count("dir_serve.kt-cosign-refused");
        return;
    }
    FUZZ_CHECK(imc_dir_kt_checkpoint(note, sizeof note, &n, &dir) == IMC_OK &&
                   imc_kt_note_parse(&parsed, note, n) == IMC_OK &&
                   imc_kt_note_verify(fuzz_backend_for(1), &parsed, named, &ts) == IMC_OK &&
                   ts == NOW / 1000,
               "the added cosignature is not in the served note");
    fuzz_count("dir_serve.kt-cosigned");
}

/* A transparency request (checkpoint, lookup with proofs, audit) served by
 * imc_dir_serve and by imc_dir_kt_serve on the twin. */
static void kt_request(unsigned k, uint8_t c, uint64_t known, bool small)
{
    static imc_dir_handle hs[KT_HANDLES];
    size_t n = 0, len = 0, n1 = 0, n2 = 0;
    unsigned kind = c % 4;
    imc_status st;
    if (kind == 3) {
        kt_cosign(c);
        return;
    }
    if (kind == 0) {
        st = imc_dir_kt_encode_head(msg, sizeof msg, &len, known);
    } else if (kind == 1) {
        n = 1 + (c / 4) % KT_HANDLES;
        for (size_t i = 0; i < n; i++)
            hs[i].bytes = handle(k + (unsigned)i, &hs[i].len);
        st = imc_dir_kt_encode_lookup(msg, sizeof msg, &len, known, hs, n);
    } else {
        hs[0].bytes = handle(k, &hs[0].len);
        st = imc_dir_kt_encode_audit(msg, sizeof msg, &len, known, hs[0].bytes, hs[0].len,
                                     1 + (c / 4) % 8);
    }
    FUZZ_CHECK(st == IMC_OK, "encode transparency request: %s", imc_status_str(st));
    uint8_t before[32], after[32];
    uint64_t global = 0;
    digest(before, &dir);
    FUZZ_CHECK(imc_dir_global_epoch(&global, &dir) == IMC_OK, "global epoch");
    size_t cap = small ? 64 : sizeof kt_out;
    fault_begin();
    imc_status s1 = imc_dir_serve(kt_out, cap, &n1, &dir, NOW, msg, len);
    if (fault_end()) {
        digest(after, &dir);
        FUZZ_CHECK(s1 == fault.fail && memcmp(before, after, 32) == 0,
                   "a transparency request whose store failed (%s) returned %s or changed it",
                   imc_status_str(fault.fail), imc_status_str(s1));
        fuzz_count(fault.alloc ? "dir_serve.alloc-fault" : "dir_serve.store-fault");
        return;
    }
    imc_status s2 = imc_dir_kt_serve(kt_out2, cap, &n2, &twin, NOW, msg, len);
    FUZZ_CHECK(s1 == s2 && (s1 != IMC_OK || (n1 == n2 && memcmp(kt_out, kt_out2, n1) == 0)),
               "transparency request: serve %s, the direct call %s", imc_status_str(s1),
               imc_status_str(s2));
    digest(after, &dir);
    FUZZ_CHECK(memcmp(before, after, 32) == 0, "a transparency request changed the directory");
    /* The log has one leaf per update: its size is the global epoch. */
    imc_status want = known > global ? IMC_ERR_STALE : small ? IMC_ERR_NO_SPACE : IMC_OK;
    FUZZ_CHECK(s1 == want, "transparency request (known size %llu, log %llu): %s, not %s",
               (unsigned long long)known, (unsigned long long)global, imc_status_str(s1),
               imc_status_str(want));
    if (s1 != IMC_OK) {
        fuzz_count("dir_serve.kt-refused");
        return;
    }
    static imc_dir_kt_head head;
    static imc_dir_kt_lookup_response lr;
    static imc_dir_kt_audit_response ar;
    const imc_dir_kt_head *h = &head;
    if (kind == 0)
        st = imc_dir_kt_parse_head(&head, kt_out, n1);
    else if (kind == 1)
        st = imc_dir_kt_parse_lookup(&lr, kt_out, n1), h = &lr.head;
    else
        st = imc_dir_kt_parse_audit(&ar, kt_out, n1), h = &ar.head;
    FUZZ_CHECK(st == IMC_OK, "a transparency answer does not parse: %s", imc_status_str(st));
    FUZZ_CHECK(h->from_size == known && h->cp.size == global && h->cp.epoch == global,
               "the answer's checkpoint (size %llu from %llu) is not the log's (%llu from %llu)",
               (unsigned long long)h->cp.size, (unsigned long long)h->from_size,
               (unsigned long long)global, (unsigned long long)known);
    fuzz_count(kind == 0 ? "dir_serve.kt-head" : kind == 1 ? "dir_serve.kt-lookup"
                                                           : "dir_serve.kt-audit");
    if (known != 0)
        return; /* a client holding that size would check the proof */
    static imc_kt_client client;
    imc_kt_client_config cfg;
    char vkey[IMC_KT_VKEY_MAX];
    memset(&cfg, 0, sizeof cfg);
    const imc_backend *b = fuzz_backend_for(1);
    FUZZ_CHECK(imc_dir_kt_vkey(vkey, &dir) == IMC_OK &&
                   imc_kt_vkey_parse(&cfg.log, b, vkey, strlen(vkey)) == IMC_OK &&
                   imc_kt_client_init(&client, b, &cfg) == IMC_OK,
               "kt client");
    st = imc_kt_client_update(&client, NULL, h->note, h->note_len, h->proof, h->proof_len);
    FUZZ_CHECK(st == IMC_OK, "the directory's own checkpoint is refused: %s", imc_status_str(st));
    imc_kt_checkpoint cp;
    FUZZ_CHECK(imc_kt_client_checkpoint(&cp, &client) == IMC_OK, "checkpoint");
    if (kind == 1) {
        static imc_dir_kt_answer a;
        static imc_dir_record rec;
        size_t off = 0;
        FUZZ_CHECK(lr.count == n, "%zu answers for %zu handles", lr.count, n);
        for (size_t i = 0; i < lr.count; i++) {
            FUZZ_CHECK(imc_dir_kt_lookup_next(&a, &off, &lr) == IMC_OK, "answer %zu", i);
            st = imc_dir_kt_answer_verify(NULL, NULL, b, dir_pk, &cp, &a);
            FUZZ_CHECK(st == IMC_OK, "answer %zu does not verify: %s", i, imc_status_str(st));
            FUZZ_CHECK(imc_dir_get(&rec, &dir, hs[i].bytes, hs[i].len) == IMC_OK &&
                           a.entry.rec.epoch == rec.epoch &&
                           a.entry.rec.device_count == rec.device_count,
                       "answer %zu is not the stored record", i);
        }
        fuzz_count("dir_serve.kt-lookup-verified");
    } else if (kind == 2) {
        bool complete = false;
        st = imc_dir_kt_audit_verify(&complete, b, &cp, &ar, NULL, NULL, NULL);
        /* An empty answer proves nothing for a registered handle without
         * the caller's hash of its latest leaf, and for an unregistered one
         * only from version 1; an honest non-empty one always verifies. */
        imc_status want_v = ar.count != 0    ? IMC_OK
                            : ar.latest != 0 ? IMC_ERR_ARG
                            : ar.since == 1  ? IMC_OK
                                             : IMC_ERR_AUTH;
        FUZZ_CHECK(st == want_v && (st != IMC_OK || complete),
                   "audit from %llu (latest %llu, %zu leaves): %s, complete %d",
                   (unsigned long long)ar.since, (unsigned long long)ar.latest, ar.count,
                   imc_status_str(st), complete);
        fuzz_count("dir_serve.kt-audit-verified");
    }
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
    memset(&fault, 0, sizeof fault);
    imc_status st = imc_dir_store_mem_open(&fault.inner, b, 0);
    FUZZ_CHECK(st == IMC_OK, "store: %s", imc_status_str(st));
    store.ops = &FAULT_OPS;
    store.self = &fault;
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
        fault.armed = 0;
        if ((op & 0x20) && ((op % 8 >= 1 && op % 8 <= 5) || (op % 8 == 6 && (c & 0x40)) ||
                            (op % 8 == 7 && (op & 0x40)))) {
            uint8_t f = fuzz_u8(&in);
            fault.armed = f % 64 + 1u;
            fault.alloc = (f & 0x80) != 0;
            fault.fail = (f & 0xc0) != 0 ? IMC_ERR_NOMEM : IMC_ERR_IO;
        }
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
            if (c & 0x40)
                reopen(c, &opt);
            else
                import_accounts(k, 1 + c % 3, (c / 4) % SLOTS, (c >> 4) & 3);
            continue;
        case 7:
            if (op & 0x40)
                kt_request(k, c, fuzz_u8(&in), (op & 0x80) != 0);
            else
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
