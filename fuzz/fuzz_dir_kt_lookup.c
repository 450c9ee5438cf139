/* Target dir_kt_lookup: the lookup-with-proofs response
 * (docs/directory-format.md, "Transparency") and the client's checks.
 *
 * Any input: OK, MALFORMED or LIMIT from the parser. When it parses, the
 * answers decode one by one to exactly the bytes the parser accepted, and
 * the parts written back give the identical input (nothing is skipped or
 * reinterpreted). Then a fresh client configured with the fixed directory's
 * log key takes the response's checkpoint; every answer that verifies
 * against it (imc_dir_kt_answer_verify) must be the directory's truth: a
 * handle it says is unregistered is unregistered, and a registered one's
 * entry carries the handle's current signed device list and its leaf is
 * the directory's latest leaf of that handle. Seeds: genuine responses of
 * the directory in fuzz_dir_kt_world.h (gen_kt_corpus.c). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_dir_kt_world.h"

static void check_truth(dkt_world *w, const imc_dir_kt_answer *a, const imc_dir_kt_leaf *leaf,
                        uint64_t at)
{
    static imc_dir_record rec;
    static uint8_t list[IMC_DIR_LIST_MAX_BYTES];
    const imc_dir_entry *e = &a->entry;
    imc_status st = imc_dir_get(&rec, &w->d, e->rec.handle, e->rec.handle_len);
    FUZZ_CHECK(st == IMC_OK, "get: %s", imc_status_str(st));
    FUZZ_CHECK(rec.epoch == e->rec.epoch, "a verified answer says epoch %llu, the directory %llu",
               (unsigned long long)e->rec.epoch, (unsigned long long)rec.epoch);
    if (rec.epoch == 0) {
        fuzz_count("dirkt.lookup.verified.absent");
        return;
    }
    fuzz_count("dirkt.lookup.verified.present");
    size_t n = 0;
    FUZZ_CHECK(imc_dir_list_encode(list, sizeof list, &n, &rec) == IMC_OK, "list");
    FUZZ_CHECK(n == e->list_len && memcmp(list, e->list, n) == 0,
               "a verified answer carries another device list");
    FUZZ_CHECK(leaf->version == rec.epoch, "leaf version");
    FUZZ_CHECK(dkt_leaf_is(w, at, a->leaf, a->leaf_len), "a verified leaf is not the log's");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dkt_world *w = dkt_world_get();
    static imc_dir_kt_lookup_response r;
    imc_status st = imc_dir_kt_parse_lookup(&r, data, size);
    if (st != IMC_OK) {
        FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT, "parse_lookup returned %s",
                   imc_status_str(st));
        fuzz_count(st == IMC_ERR_LIMIT ? "dirkt.lookup.limit" : "dirkt.lookup.malformed");
        return 0;
    }
    fuzz_count("dirkt.lookup.ok");
    FUZZ_CHECK(r.count >= 1 && r.count <= IMC_DIR_MAX_BATCH, "count %zu", r.count);

    /* The parts written back are the input. */
    imc_writer wr;
    dkt_writer_open(&wr, size);
    dkt_put_head(&wr, IMC_DIR_KIND_KT_LOOKUP_RESP, &r.head);
    imc_wire_write_u16(&wr, (uint16_t)r.count);
    static imc_dir_kt_answer a;
    size_t off = 0;
    for (size_t i = 0; i < r.count; i++) {
        st = imc_dir_kt_lookup_next(&a, &off, &r);
        FUZZ_CHECK(st == IMC_OK, "answer %zu of a parsed response: %s", i, imc_status_str(st));
        imc_wire_write_bytes(&wr, a.entry.body, a.entry.body_len);
        imc_wire_write_bytes(&wr, a.entry.sig, IMC_DIR_SIGNATURE_BYTES);
        dkt_put_framed(&wr, a.leaf, a.leaf_len);
        dkt_put_framed(&wr, a.inclusion, a.inclusion_len);
        dkt_put_framed(&wr, a.index_proof, a.index_proof_len);
    }
    FUZZ_CHECK(off == r.answers_len, "answers do not fill the response");
    dkt_writer_check(&wr, data, size);

    /* What verifies is the truth. */
    static imc_kt_client c;
    dkt_client(&c, w);
    if (imc_kt_client_update(&c, NULL, r.head.note, r.head.note_len, r.head.proof,
                             r.head.proof_len) != IMC_OK)
        return 0;
    fuzz_count("dirkt.lookup.checkpoint");
    imc_kt_checkpoint cp;
    FUZZ_CHECK(imc_kt_client_checkpoint(&cp, &c) == IMC_OK, "checkpoint");
    FUZZ_CHECK(cp.size == DKT_UPDATES, "a checkpoint the directory never signed was accepted");
    off = 0;
    for (size_t i = 0; i < r.count; i++) {
        static imc_dir_kt_leaf leaf;
        uint64_t at = 0;
        FUZZ_CHECK(imc_dir_kt_lookup_next(&a, &off, &r) == IMC_OK, "next");
        st = imc_dir_kt_answer_verify(&leaf, &at, w->b, w->pk, &cp, &a);
        FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_AUTH || st == IMC_ERR_MALFORMED,
                   "answer_verify returned %s", imc_status_str(st));
        if (st == IMC_OK)
            check_truth(w, &a, &leaf, at);
    }
    return 0;
}
