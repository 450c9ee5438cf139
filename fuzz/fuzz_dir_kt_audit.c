/* Target dir_kt_audit: the audit response (docs/directory-format.md,
 * "Transparency") and the client's check of a handle's history.
 *
 * Any input: OK, MALFORMED or LIMIT from the parser. When it parses, its
 * items and parts written back give the identical input. Then a fresh
 * client configured with the fixed directory's log key takes the
 * checkpoint, and when imc_dir_kt_audit_verify accepts the history, it is
 * the truth: every leaf reported is the log's leaf at its position, of the
 * response's handle, versions since, since + 1, ... without a gap; and a
 * complete answer ends at the handle's current version in the directory.
 * So no leaf can be left out, reordered or taken from another handle
 * without the verification failing. Seeds: genuine audits of the directory
 * in fuzz_dir_kt_world.h (gen_kt_corpus.c).
 *
 * The custom mutator (fuzz_kt_forge.h) re-signs mutants with the
 * directory's key, so a checkpoint other than the directory's real one is
 * accepted too (a lying directory signed it). Then the truth is unknown,
 * and a history that verifies must still hang together by itself: leaves
 * of the handle, versions since, since + 1, ... each chained to the hash of
 * the one before (the first to none at version 1), and a complete answer
 * ending at the index value. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_dir_kt_world.h"
#include "fuzz_kt_forge.h"

#ifdef IMC_FUZZ_CUSTOM_MUTATOR
FUZZ_CUSTOM_MUTATOR(fuzz_mutate_kt_audit)
#endif

typedef struct audit_ctx {
    dkt_world *w;
    const imc_dir_kt_audit_response *r;
    uint64_t next_version;
    size_t seen;
    bool real; /* the checkpoint is the directory's own */
    uint8_t last_hash[IMC_KT_HASH_BYTES];
} audit_ctx;

static int on_leaf(void *vctx, const imc_dir_kt_leaf *leaf, uint64_t at,
                   const uint8_t hash[IMC_KT_HASH_BYTES])
{
    audit_ctx *c = vctx;
    static uint8_t buf[IMC_DIR_KT_LEAF_MAX_BYTES], h2[IMC_KT_HASH_BYTES];
    size_t n = 0;
    FUZZ_CHECK(imc_dir_kt_leaf_encode(buf, sizeof buf, &n, leaf) == IMC_OK, "leaf encode");
    FUZZ_CHECK(imc_kt_leaf_hash(c->w->b, h2, buf, n) == IMC_OK &&
                   memcmp(h2, hash, sizeof h2) == 0,
               "the leaf hash given is not the leaf's");
    FUZZ_CHECK(!c->real || dkt_leaf_is(c->w, at, buf, n), "a verified leaf is not the log's");
    static const uint8_t zero[IMC_KT_HASH_BYTES];
    if (c->seen != 0 || leaf->version == 1)
        FUZZ_CHECK(memcmp(leaf->prev_leaf, c->seen != 0 ? c->last_hash : zero,
                          sizeof leaf->prev_leaf) == 0,
                   "a verified leaf is not chained to the one before it");
    memcpy(c->last_hash, hash, sizeof c->last_hash);
    FUZZ_CHECK(leaf->handle_len == c->r->handle.len &&
                   memcmp(leaf->handle, c->r->handle.bytes, leaf->handle_len) == 0,
               "a verified leaf of another handle");
    FUZZ_CHECK(leaf->version == c->next_version, "versions out of order: %llu, wanted %llu",
               (unsigned long long)leaf->version, (unsigned long long)c->next_version);
    c->next_version++;
    c->seen++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dkt_world *w = dkt_world_get();
    static imc_dir_kt_audit_response r;
    imc_status st = imc_dir_kt_parse_audit(&r, data, size);
    if (st != IMC_OK) {
        FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT, "parse_audit returned %s",
                   imc_status_str(st));
        fuzz_count(st == IMC_ERR_LIMIT ? "dirkt.audit.limit" : "dirkt.audit.malformed");
        return 0;
    }
    fuzz_count("dirkt.audit.ok");
    FUZZ_CHECK(r.since >= 1 && r.count <= IMC_DIR_KT_MAX_AUDIT, "since %llu count %zu",
               (unsigned long long)r.since, r.count);

    imc_writer wr;
    dkt_writer_open(&wr, size);
    dkt_put_head(&wr, IMC_DIR_KIND_KT_AUDIT_RESP, &r.head);
    imc_wire_write_u8(&wr, (uint8_t)r.handle.len);
    imc_wire_write_bytes(&wr, r.handle.bytes, r.handle.len);
    imc_wire_write_u64(&wr, r.since);
    imc_wire_write_u64(&wr, r.latest);
    imc_wire_write_u16(&wr, (uint16_t)r.count);
    imc_wire_write_bytes(&wr, r.items, r.items_len);
    imc_wire_write_bytes(&wr, r.index_value, sizeof r.index_value);
    dkt_put_framed(&wr, r.index_proof, r.index_proof_len);
    dkt_writer_check(&wr, data, size);

    static imc_kt_client c;
    dkt_client(&c, w);
    if (imc_kt_client_update(&c, NULL, r.head.note, r.head.note_len, r.head.proof,
                             r.head.proof_len) != IMC_OK)
        return 0;
    fuzz_count("dirkt.audit.checkpoint");
    imc_kt_checkpoint cp;
    FUZZ_CHECK(imc_kt_client_checkpoint(&cp, &c) == IMC_OK, "checkpoint");
    /* The directory's own checkpoint, or one a lying directory signed. */
    static uint8_t note[IMC_KT_MAX_NOTE_BYTES];
    size_t nl = 0;
    FUZZ_CHECK(imc_dir_kt_checkpoint(note, sizeof note, &nl, &w->d) == IMC_OK, "checkpoint");
    static imc_kt_note parsed;
    FUZZ_CHECK(imc_kt_note_parse(&parsed, note, nl) == IMC_OK, "note");
    imc_kt_checkpoint truth;
    FUZZ_CHECK(imc_kt_checkpoint_parse(&truth, parsed.text, parsed.text_len) == IMC_OK, "cp");
    audit_ctx ctx = {w, &r, r.since, 0, false, {0}};
    ctx.real = truth.size == cp.size && truth.epoch == cp.epoch &&
               memcmp(truth.root, cp.root, sizeof cp.root) == 0 &&
               memcmp(truth.index_root, cp.index_root, sizeof cp.index_root) == 0;
    fuzz_count(ctx.real ? "dirkt.audit.checkpoint-real" : "dirkt.audit.checkpoint-forged");
    bool complete = false;
    st = imc_dir_kt_audit_verify(&complete, w->b, &cp, &r, NULL, on_leaf, &ctx);
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_AUTH || st == IMC_ERR_MALFORMED ||
                   (st == IMC_ERR_ARG && r.count == 0 && r.latest != 0),
               "audit_verify returned %s", imc_status_str(st));
    FUZZ_CHECK(st != IMC_OK || r.count != 0 || r.latest == 0,
               "an empty answer for a registered handle verified without the client's hash");
    if (st != IMC_OK)
        return 0;
    fuzz_count("dirkt.audit.verified");
    FUZZ_CHECK(ctx.seen == r.count, "leaves seen %zu of %zu", ctx.seen, r.count);
    static imc_dir_record rec;
    FUZZ_CHECK(imc_dir_get(&rec, &w->d, r.handle.bytes, r.handle.len) == IMC_OK, "get");
    /* A complete answer proves the latest version (a partial one only its
     * leaves, and a partial one cannot be built from this small history). */
    FUZZ_CHECK(complete, "a partial audit of a history of at most %d versions", DKT_UPDATES);
    FUZZ_CHECK(r.count == 0 || memcmp(ctx.last_hash, r.index_value, sizeof r.index_value) == 0,
               "a complete verified audit does not end at the index value");
    if (!ctx.real) {
        fuzz_count("dirkt.audit.forged-verified");
        return 0;
    }
    FUZZ_CHECK(r.latest == rec.epoch && ctx.next_version == rec.epoch + 1,
               "a verified audit says latest %llu (reported up to %llu), the directory %llu",
               (unsigned long long)r.latest, (unsigned long long)ctx.next_version - 1,
               (unsigned long long)rec.epoch);
    return 0;
}
