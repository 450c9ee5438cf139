/* Target dir_update_parse: the strict parser of signed directory updates
 * (register, rotate, revoke, account rotation and reset, each carrying the
 * account-signed device list), and the service applying them.
 *
 * Any input: OK, MALFORMED or LIMIT from the parser. When it parses: the
 * parsed form re-serialises (an independent writer, the layout of
 * docs/directory-format.md) to the identical input, the list re-encodes
 * to its bytes, and the signed part is exactly the bytes before the
 * device proofs. Then the update
 * goes to a small in-memory directory where the fixed device of the fixed
 * handle is registered: whatever it returns, the store still passes
 * imc_dir_check, the global epoch never goes down, and a failed update
 * changes nothing (same digest), and an applied update is judged by the
 * document (fuzz_dir_judge_update: chained, signed by the held account
 * key, exactly its op's change, the device proofs). Seeds are real signed
 * updates; the custom mutator (fuzz_dirforge.c) changes and re-signs them. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_dirforge.h"
#include "imcore/dir.h"
#include "imcore/wire.h"

/* libFuzzer's structure-aware hook (fuzz_dirforge.c does the work). */
#ifdef IMC_FUZZ_CUSTOM_MUTATOR
FUZZ_CUSTOM_MUTATOR(fuzz_mutate_dir_update)
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

static const imc_backend *backend;
static uint8_t dir_pk[32], dir_sk[32];
static uint8_t resp[IMC_DIR_RESPONSE_MAX_BYTES(1)];

/* A directory with device slot 0 of handle 0 registered (epoch 1). */
static void open_dir(imc_dir *d, imc_dir_store *store)
{
    imc_status st = imc_dir_store_mem_open(store, backend, 4);
    FUZZ_CHECK(st == IMC_OK, "store: %s", imc_status_str(st));
    st = imc_dir_init(d, backend, *store, dir_sk, NULL);
    FUZZ_CHECK(st == IMC_OK, "dir_init: %s", imc_status_str(st));
    static uint8_t reg[IMC_DIR_UPDATE_MAX_BYTES];
    static size_t reg_len;
    size_t hlen = 0;
    const uint8_t *h = fuzz_dir_handle(0, &hlen);
    if (reg_len == 0) {
        static imc_dir_record empty;
        uint8_t apk[32], ask[32];
        fuzz_dir_account(0, 0, apk, ask);
        memcpy(empty.handle, h, hlen);
        empty.handle_len = hlen;
        st = imc_dir_sign_register(reg, sizeof reg, &reg_len, backend, dir_pk, &empty, ask,
                                   fuzz_dir_device(0, 0, 0));
        FUZZ_CHECK(st == IMC_OK, "sign_register: %s", imc_status_str(st));
    }
    size_t rlen = 0;
    st = imc_dir_update(resp, sizeof resp, &rlen, d, FUZZ_TS_BASE, reg, reg_len);
    FUZZ_CHECK(st == IMC_OK, "first register: %s", imc_status_str(st));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (backend == NULL) {
        backend = fuzz_backend_for(1);
        fuzz_dir_key(dir_pk, dir_sk);
    }
    imc_dir_update_msg u;
    imc_status st = imc_dir_parse_update(&u, data, size);
    if (st != IMC_OK) {
        FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT, "parse_update returned %s",
                   imc_status_str(st));
        fuzz_count(st == IMC_ERR_LIMIT ? "dirupd.limit" : "dirupd.malformed");
        return 0;
    }
    fuzz_count("dirupd.ok");
    FUZZ_CHECK(u.op >= IMC_DIR_OP_REGISTER && u.op <= IMC_DIR_OP_ACCOUNT_RESET, "op %u", u.op);
    size_t proofs = u.op == IMC_DIR_OP_ROTATE ? 2u
                    : u.op == IMC_DIR_OP_REGISTER || u.op == IMC_DIR_OP_ACCOUNT_RESET ? 1u
                                                                                       : 0u;
    FUZZ_CHECK(u.sig_count == proofs, "sig count %zu", u.sig_count);
    FUZZ_CHECK(u.list.epoch == u.epoch + 1, "list version %llu at epoch %llu",
               (unsigned long long)u.list.epoch, (unsigned long long)u.epoch);
    FUZZ_CHECK(imc_dir_handle_valid(u.handle.bytes, u.handle.len), "handle not normal");

    uint8_t *out = malloc(size);
    FUZZ_CHECK(out != NULL, "out of memory");
    imc_writer w;
    imc_wire_writer_init(&w, out, size);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_UPDATE);
    imc_wire_write_u8(&w, u.op);
    imc_wire_write_u8(&w, (uint8_t)u.handle.len);
    imc_wire_write_bytes(&w, u.handle.bytes, u.handle.len);
    imc_wire_write_u64(&w, u.epoch);
    if (u.op == IMC_DIR_OP_REVOKE) {
        imc_wire_write_u64(&w, u.target_id);
    } else if (u.op != IMC_DIR_OP_ACCOUNT_ROTATE) {
        FUZZ_CHECK(u.target_id == u.device.device_id, "target id is not the device's");
        put_device(&w, &u.device);
    }
    /* The list, re-encoded from its parsed form by the library's writer. */
    uint8_t *list = malloc(IMC_DIR_LIST_MAX_BYTES);
    size_t list_len = 0;
    FUZZ_CHECK(list != NULL, "out of memory");
    st = imc_dir_list_encode(list, IMC_DIR_LIST_MAX_BYTES, &list_len, &u.list);
    FUZZ_CHECK(st == IMC_OK && list_len == u.list_len &&
                   memcmp(list, u.list_bytes, list_len) == 0,
               "the list does not re-encode to its bytes (%s)", imc_status_str(st));
    imc_wire_write_u16(&w, (uint16_t)list_len);
    imc_wire_write_bytes(&w, list, list_len);
    free(list);
    FUZZ_CHECK(u.signed_part == data && u.signed_part_len == w.len,
               "signed part is %zu bytes, the fields before the signatures %zu",
               u.signed_part_len, w.len);
    for (size_t i = 0; i < u.sig_count; i++) {
        FUZZ_CHECK(u.sig_len[i] >= 1 && u.sig_len[i] <= IMC_SIG_MAX, "sig length %zu",
                   u.sig_len[i]);
        imc_wire_write_u8(&w, (uint8_t)u.sig_len[i]);
        imc_wire_write_bytes(&w, u.sig[i], u.sig_len[i]);
    }
    size_t out_len = 0;
    st = imc_wire_writer_finish(&w, &out_len);
    if (st != IMC_OK || out_len != size || memcmp(out, data, size) != 0) {
        fuzz_hexdump("input", data, size);
        fuzz_hexdump("rewritten", out, out_len);
        FUZZ_CHECK(0, "update is not canonical");
    }
    free(out);

    /* Apply it to a directory and check it stays sound. */
    imc_dir d;
    imc_dir_store store;
    open_dir(&d, &store);
    uint8_t before[IMC_SHA256_BYTES], after[IMC_SHA256_BYTES];
    uint64_t g0 = 0, g1 = 0;
    FUZZ_CHECK(imc_dir_digest(before, &d) == IMC_OK, "digest");
    FUZZ_CHECK(imc_dir_global_epoch(&g0, &d) == IMC_OK, "global epoch");
    static imc_dir_record rec_before, rec_after;
    FUZZ_CHECK(imc_dir_get(&rec_before, &d, u.handle.bytes, u.handle.len) == IMC_OK, "get");
    size_t rlen = 0;
    st = imc_dir_update(resp, sizeof resp, &rlen, &d, FUZZ_TS_BASE + 1, data, size);
    FUZZ_CHECK(imc_dir_check(&d) == IMC_OK, "store inconsistent after update (%s)",
               imc_status_str(st));
    FUZZ_CHECK(imc_dir_digest(after, &d) == IMC_OK, "digest");
    FUZZ_CHECK(imc_dir_global_epoch(&g1, &d) == IMC_OK, "global epoch");
    if (st == IMC_OK) {
        fuzz_count("dirupd.applied");
        FUZZ_CHECK(imc_dir_get(&rec_after, &d, u.handle.bytes, u.handle.len) == IMC_OK, "get");
        fuzz_dir_judge_update(dir_pk, &rec_before, &rec_after, &u);
        FUZZ_CHECK(g1 == g0 + 1, "applied update moved the global epoch %llu -> %llu",
                   (unsigned long long)g0, (unsigned long long)g1);
        imc_dir_response pr;
        FUZZ_CHECK(imc_dir_parse_response(&pr, resp, rlen) == IMC_OK && pr.count == 1,
                   "update answer does not parse");
    } else {
        fuzz_count(st == IMC_ERR_AUTH ? "dirupd.auth" : "dirupd.refused");
        FUZZ_CHECK(st != IMC_ERR_IO && st != IMC_ERR_CRYPTO && st != IMC_ERR_ARG,
                   "update failed with %s", imc_status_str(st));
        FUZZ_CHECK(memcmp(before, after, sizeof before) == 0 && g1 == g0,
                   "failed update (%s) changed the directory", imc_status_str(st));
    }
    imc_dir_wipe(&d);
    imc_dir_store_close(&store);
    return 0;
}
