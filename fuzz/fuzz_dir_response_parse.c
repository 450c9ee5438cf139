/* Target dir_response_parse: the strict lookup-response parser and the
 * client cache in front of it.
 *
 * Any input: OK, MALFORMED or LIMIT from the parser. When it parses: the
 * entries decode one by one (imc_dir_response_next) to exactly the bytes
 * the parser accepted, and an independent writer here (the layout of
 * docs/directory-format.md) re-serialises the parsed form to the identical
 * input (canonical form; the account-signed list through the library's
 * list writer), and each list read alone by imc_dir_list_parse is the
 * same list, refused one byte short or long. Then the response is applied
 * to a fresh client cache pinned to the fixed directory key: the cache
 * accepts it only if every entry's directory signature and every list's
 * account signature verify, and reports, per entry, the account key pinned, the list version and
 * each device as added. The seed corpus carries genuinely signed responses
 * (scripts/gen-corpus), so mutations start past the signature check. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_dirforge.h"
#include "imcore/dir.h"
#include "imcore/dircache.h"
#include "imcore/wire.h"

/* libFuzzer's structure-aware hook (fuzz_dirforge.c does the work). */
#ifdef IMC_FUZZ_CUSTOM_MUTATOR
FUZZ_CUSTOM_MUTATOR(fuzz_mutate_dir_response)
#endif

static void put_device(imc_writer *w, const imc_device_public *d)
{
    const imc_suite *s = imc_suite_get(d->suite);
    FUZZ_CHECK(s != NULL, "parsed device of unknown suite %u", (unsigned)d->suite);
    imc_wire_write_u16(w, (uint16_t)d->suite);
    imc_wire_write_u64(w, d->device_id);
    imc_wire_write_bytes(w, d->dh_pk, s->dh_public_bytes);
    imc_wire_write_bytes(w, d->sig_pk, s->sig_public_bytes);
}

static uint8_t list_buf[IMC_DIR_LIST_MAX_BYTES + 1];

static void put_entry_body(imc_writer *w, const imc_dir_entry *e)
{
    imc_wire_write_u8(w, (uint8_t)e->rec.handle_len);
    imc_wire_write_bytes(w, e->rec.handle, e->rec.handle_len);
    imc_wire_write_u64(w, e->rec.epoch);
    imc_wire_write_u64(w, e->global_epoch);
    imc_wire_write_u64(w, e->issued_ms);
    size_t n = 0;
    if (e->rec.epoch != 0) {
        imc_status st = imc_dir_list_encode(list_buf, sizeof list_buf, &n, &e->rec);
        FUZZ_CHECK(st == IMC_OK, "a parsed list does not encode: %s", imc_status_str(st));
        /* The devices as parsed are the ones the list writer wrote. */
        imc_writer dw;
        static uint8_t devs[IMC_MAX_DEVICES_PER_HANDLE * IMC_DIR_DEVICE_MAX_BYTES];
        imc_wire_writer_init(&dw, devs, sizeof devs);
        for (size_t i = 0; i < e->rec.device_count; i++)
            put_device(&dw, &e->rec.devices[i]);
        FUZZ_CHECK(!dw.err, "devices do not fit");
        /* The list parser alone reads the same list back, and refuses it
         * one byte short or one byte long (nothing left on failure). */
        static imc_dir_record lr;
        st = imc_dir_list_parse(&lr, list_buf, n);
        FUZZ_CHECK(st == IMC_OK && lr.handle_len == e->rec.handle_len &&
                       memcmp(lr.handle, e->rec.handle, lr.handle_len) == 0 &&
                       lr.epoch == e->rec.epoch && lr.key_change == e->rec.key_change &&
                       lr.device_count == e->rec.device_count &&
                       memcmp(lr.devices, e->rec.devices,
                              lr.device_count * sizeof lr.devices[0]) == 0 &&
                       memcmp(lr.account_pk, e->rec.account_pk, sizeof lr.account_pk) == 0 &&
                       memcmp(lr.prev_hash, e->rec.prev_hash, sizeof lr.prev_hash) == 0 &&
                       memcmp(lr.list_sig, e->rec.list_sig, sizeof lr.list_sig) == 0,
                   "imc_dir_list_parse reads another list: %s", imc_status_str(st));
        list_buf[n] = 0;
        for (size_t extra = 0; extra < 2; extra++) {
            size_t len = extra ? n + 1 : n - 1;
            st = imc_dir_list_parse(&lr, list_buf, len);
            FUZZ_CHECK(st == IMC_ERR_MALFORMED && fuzz_all_zero(&lr, sizeof lr),
                       "a list of %zu bytes (of %zu) parses: %s", len, n, imc_status_str(st));
        }
    }
    imc_wire_write_u16(w, (uint16_t)n);
    imc_wire_write_bytes(w, list_buf, n);
}

static const imc_backend *backend;
static uint8_t dir_pk[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (backend == NULL) {
        uint8_t sk[32];
        fuzz_dir_key(dir_pk, sk);
        backend = fuzz_backend_for(1);
    }
    imc_dir_response resp;
    imc_status st = imc_dir_parse_response(&resp, data, size);
    if (st != IMC_OK) {
        FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT,
                   "parse_response returned %s", imc_status_str(st));
        fuzz_count(st == IMC_ERR_LIMIT ? "dirresp.limit" : "dirresp.malformed");
        return 0;
    }
    fuzz_count("dirresp.ok");
    FUZZ_CHECK(resp.count >= 1 && resp.count <= IMC_DIR_MAX_BATCH, "count %zu", resp.count);

    uint8_t *out = malloc(size);
    FUZZ_CHECK(out != NULL, "out of memory");
    imc_writer w;
    imc_wire_writer_init(&w, out, size);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_RESPONSE);
    imc_wire_write_u16(&w, (uint16_t)resp.count);
    size_t off = 0, verified = 0;
    static imc_dir_entry e; /* ~10 KiB: keep it off the stack */
    for (size_t i = 0; i < resp.count; i++) {
        size_t before = off;
        st = imc_dir_response_next(&e, &off, &resp);
        FUZZ_CHECK(st == IMC_OK, "entry %zu of a parsed response: %s", i, imc_status_str(st));
        FUZZ_CHECK(off > before && off <= resp.entries_len, "entry %zu: offset %zu", i, off);
        FUZZ_CHECK(e.global_epoch == resp.global_epoch && e.issued_ms == resp.issued_ms,
                   "entry %zu disagrees on the global epoch or issue time", i);
        FUZZ_CHECK(e.rec.epoch <= e.global_epoch, "entry %zu: epoch above the global epoch", i);
        FUZZ_CHECK(e.rec.device_count <= IMC_MAX_DEVICES_PER_HANDLE, "entry %zu: %zu devices",
                   i, e.rec.device_count);
        FUZZ_CHECK(imc_dir_handle_valid(e.rec.handle, e.rec.handle_len),
                   "entry %zu: handle not in normal form", i);
        for (size_t k = 1; k < e.rec.device_count; k++)
            FUZZ_CHECK(e.rec.devices[k].device_id > e.rec.devices[k - 1].device_id,
                       "entry %zu: device ids not increasing", i);
        /* body is exactly the entry minus its signature. */
        FUZZ_CHECK(e.body == resp.entries + before &&
                       e.body_len + IMC_DIR_SIGNATURE_BYTES == off - before &&
                       e.sig == e.body + e.body_len,
                   "entry %zu: body/signature views", i);
        size_t mark = w.len;
        put_entry_body(&w, &e);
        FUZZ_CHECK(w.err || (w.len - mark == e.body_len &&
                             memcmp(out + mark, e.body, e.body_len) == 0),
                   "entry %zu: body does not re-serialise to itself", i);
        imc_wire_write_bytes(&w, e.sig, IMC_DIR_SIGNATURE_BYTES);
        if (imc_dir_entry_verify(backend, dir_pk, &e) == IMC_OK)
            verified++;
    }
    FUZZ_CHECK(off == resp.entries_len, "entries end at %zu of %zu", off, resp.entries_len);
    size_t out_len = 0;
    st = imc_wire_writer_finish(&w, &out_len);
    if (st != IMC_OK || out_len != size || memcmp(out, data, size) != 0) {
        fuzz_hexdump("input", data, size);
        fuzz_hexdump("rewritten", out, out_len);
        FUZZ_CHECK(0, "response is not canonical");
    }
    free(out);
    if (verified == resp.count)
        fuzz_count("dirresp.all-signatures-ok");

    /* A fresh cache, at the response's own issue time. */
    imc_dircache_options opt;
    memset(&opt, 0, sizeof opt);
    opt.capacity = IMC_DIR_MAX_BATCH;
    imc_dircache *c = NULL;
    st = imc_dircache_new(&c, backend, dir_pk, &opt);
    FUZZ_CHECK(st == IMC_OK, "dircache_new: %s", imc_status_str(st));
    size_t changes_cap = resp.count * IMC_DIR_CHANGES_MAX_PER_ENTRY;
    imc_dir_change *changes = malloc(changes_cap * sizeof *changes);
    FUZZ_CHECK(changes != NULL, "out of memory");
    size_t nchanges = 0;
    st = imc_dircache_apply(c, changes, changes_cap, &nchanges, resp.issued_ms, data, size);
    if (verified < resp.count) {
        FUZZ_CHECK(st != IMC_OK, "cache accepted a response with %zu bad signatures",
                   resp.count - verified);
    } else if (st == IMC_OK) {
        fuzz_count("dirresp.cache-applied");
        size_t want = 0;
        off = 0;
        for (size_t i = 0; i < resp.count; i++) {
            FUZZ_CHECK(imc_dir_response_next(&e, &off, &resp) == IMC_OK, "re-decode");
            if (e.rec.epoch != 0) {
                FUZZ_CHECK(want + 1 < nchanges && changes[want].kind == IMC_DIR_ACCOUNT_NEW &&
                               changes[want + 1].kind == IMC_DIR_LIST_VERSION &&
                               changes[want + 1].new_version == e.rec.epoch,
                           "entry %zu: no account and version report", i);
                FUZZ_CHECK(imc_dir_list_verify(backend, &e.rec, NULL) == IMC_OK,
                           "cache accepted a list its account key did not sign");
                want += 2;
            }
            for (size_t k = 0; k < e.rec.device_count; k++, want++) {
                FUZZ_CHECK(want < nchanges && changes[want].entry == i &&
                               changes[want].device_id == e.rec.devices[k].device_id &&
                               changes[want].kind == IMC_DIR_DEVICE_ADDED,
                           "change %zu is not 'entry %zu device added'", want, i);
            }
            const imc_dir_record *rec = NULL;
            st = imc_dircache_get(&rec, c, resp.issued_ms, e.rec.handle, e.rec.handle_len);
            FUZZ_CHECK(st == IMC_OK && rec->epoch == e.rec.epoch &&
                           rec->device_count == e.rec.device_count,
                       "cache does not hold what it applied: %s", imc_status_str(st));
        }
        FUZZ_CHECK(want == nchanges, "%zu changes reported, %zu devices", nchanges, want);
        FUZZ_CHECK(imc_dircache_global_epoch(c) == resp.global_epoch, "cache global epoch");
    } else {
        FUZZ_CHECK(st == IMC_ERR_STALE || st == IMC_ERR_AUTH || st == IMC_ERR_LIMIT,
                   "apply of a verified response: %s", imc_status_str(st));
    }
    free(changes);
    imc_dircache_free(c);
    return 0;
}
