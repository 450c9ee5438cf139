/* The fixed directory of the directory-transparency fuzz targets
 * (dir_kt_lookup, dir_kt_audit) and their seeds (gen_kt_corpus.c): an
 * in-memory directory under the fixed directory key (fuzz_common.h) with
 * a known history, so every seed is a genuine, signed answer and a
 * harness can compare whatever verifies with the truth.
 *
 *   handle 0: v1 slot 0 registers (creating the account), v2 a ghost slot
 *             1 is added, v3 it is revoked, v4 slot 2 registers
 *   handle 1: v1 slot 0 registers
 *   handle 2: never registered
 *
 * Header-only (static) so that fuzz_common stays as it is. */
#ifndef IMCORE_FUZZ_DIR_KT_WORLD_H
#define IMCORE_FUZZ_DIR_KT_WORLD_H

#include <stdlib.h>
#include <string.h>

#include "dir/dir_impl.h" /* the kt store adapter, to read the log */
#include "fuzz_common.h"
#include "imcore/dir.h"
#include "imcore/dirkt.h"

#define DKT_NOW UINT64_C(1700000000000)
#define DKT_UPDATES 5 /* the log's size */

typedef struct dkt_world {
    const imc_backend *b;
    imc_dir_store store;
    imc_dir d;
    uint8_t pk[32];
    imc_kt_key log; /* the directory's log key, as clients configure it */
} dkt_world;

static inline void dkt_update(dkt_world *w, unsigned h, int op, unsigned slot)
{
    static imc_dir_record cur;
    static uint8_t upd[IMC_DIR_UPDATE_MAX_BYTES], resp[IMC_DIR_RESPONSE_MAX_BYTES(1)];
    size_t hl = 0, n = 0, rn = 0;
    const uint8_t *handle = fuzz_dir_handle(h, &hl);
    uint8_t apk[32], ask[32];
    fuzz_dir_account(h, 0, apk, ask);
    imc_status st = imc_dir_get(&cur, &w->d, handle, hl);
    if (st == IMC_OK && op == IMC_DIR_OP_REGISTER)
        st = imc_dir_sign_register(upd, sizeof upd, &n, w->b, w->pk, &cur, ask,
                                   fuzz_dir_device(h, slot, 0));
    else if (st == IMC_OK)
        st = imc_dir_sign_revoke(upd, sizeof upd, &n, w->b, w->pk, &cur, ask,
                                 fuzz_dir_device(h, slot, 0)->pub.device_id);
    if (st == IMC_OK)
        st = imc_dir_update(resp, sizeof resp, &rn, &w->d, DKT_NOW, upd, n);
    FUZZ_CHECK(st == IMC_OK, "dir kt world update: %s", imc_status_str(st));
}

/* Built once; never NULL. */
static inline dkt_world *dkt_world_get(void)
{
    static dkt_world *w;
    if (w != NULL)
        return w;
    w = calloc(1, sizeof *w);
    FUZZ_CHECK(w != NULL, "out of memory");
    w->b = fuzz_backend_for(1);
    FUZZ_CHECK(w->b != NULL, "no backend for suite 1");
    uint8_t sk[32];
    fuzz_dir_key(w->pk, sk);
    imc_status st = imc_dir_store_mem_open(&w->store, w->b, 0);
    if (st == IMC_OK)
        st = imc_dir_init(&w->d, w->b, w->store, sk, NULL);
    FUZZ_CHECK(st == IMC_OK, "dir kt world: %s", imc_status_str(st));
    dkt_update(w, 0, IMC_DIR_OP_REGISTER, 0);
    dkt_update(w, 1, IMC_DIR_OP_REGISTER, 0);
    dkt_update(w, 0, IMC_DIR_OP_REGISTER, 1);
    dkt_update(w, 0, IMC_DIR_OP_REVOKE, 1);
    dkt_update(w, 0, IMC_DIR_OP_REGISTER, 2);
    char vkey[IMC_KT_VKEY_MAX];
    st = imc_dir_kt_vkey(vkey, &w->d);
    if (st == IMC_OK)
        st = imc_kt_vkey_parse(&w->log, w->b, vkey, strlen(vkey));
    FUZZ_CHECK(st == IMC_OK, "dir kt world vkey: %s", imc_status_str(st));
    return w;
}

/* A client holding nothing yet, configured with the directory's log key
 * and no witnesses. */
static inline void dkt_client(imc_kt_client *c, const dkt_world *w)
{
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = w->log;
    imc_status st = imc_kt_client_init(c, w->b, &cfg);
    FUZZ_CHECK(st == IMC_OK, "kt client: %s", imc_status_str(st));
}

/* The directory's answer to an encoded request (0 if it refuses it). */
static inline size_t dkt_serve(uint8_t *out, size_t cap, dkt_world *w, const uint8_t *req,
                               size_t req_len)
{
    size_t n = 0;
    return imc_dir_serve(out, cap, &n, &w->d, DKT_NOW, req, req_len) == IMC_OK ? n : 0;
}

/* Whether leaf `at` of the directory's log is exactly these bytes
 * (through the store adapter of core/src/dir/kt_service.c). */
static inline bool dkt_leaf_is(dkt_world *w, uint64_t at, const uint8_t *leaf, size_t len)
{
    void *txn = NULL;
    FUZZ_CHECK(w->store.ops->begin(w->store.self, false, &txn) == IMC_OK, "begin");
    imc_dir_kt_ctx ctx;
    imc_kt_store ks = imc_dir_kt_store(&ctx, &w->d, txn);
    const uint8_t *p = NULL;
    size_t n = 0;
    bool same = imc_kt_log_leaf(&p, &n, &ks, at) == IMC_OK && n == len && memcmp(p, leaf, n) == 0;
    w->store.ops->abort(txn);
    return same;
}

/* A writer of `size` bytes for writing a parsed input back, and the check
 * that what was written is exactly the input (then the buffer is freed). */
static inline void dkt_writer_open(imc_writer *wr, size_t size)
{
    uint8_t *out = malloc(size != 0 ? size : 1);
    FUZZ_CHECK(out != NULL, "out of memory");
    imc_wire_writer_init(wr, out, size);
}

static inline void dkt_writer_check(imc_writer *wr, const uint8_t *data, size_t size)
{
    size_t len = 0;
    FUZZ_CHECK(imc_wire_writer_finish(wr, &len) == IMC_OK && len == size &&
                   memcmp(wr->buf, data, size) == 0,
               "the parts written back differ from the input");
    free(wr->buf);
}

/* framed part: length (2) || bytes. */
static inline void dkt_put_framed(imc_writer *wr, const uint8_t *p, size_t n)
{
    imc_wire_write_u16(wr, (uint16_t)n);
    imc_wire_write_bytes(wr, p, n);
}

/* The head of a parsed response, written back. */
static inline void dkt_put_head(imc_writer *wr, uint8_t kind, const imc_dir_kt_head *h)
{
    imc_wire_write_u8(wr, IMC_DIR_VERSION);
    imc_wire_write_u8(wr, kind);
    dkt_put_framed(wr, h->note, h->note_len);
    dkt_put_framed(wr, h->proof, h->proof_len);
}

#endif
