/* Target kt_note: signed notes and checkpoints as a client and a witness
 * receive them (docs/transparency.md).
 *
 * Any input goes to the note parser (OK, MALFORMED or LIMIT; on failure the
 * parsed form is all zero), and when it parses, its text to the checkpoint
 * parser, whose result must re-serialise to the identical text (canonical).
 * Then the input is offered as a checkpoint to a client holding the honest
 * size-5 checkpoint (with the genuine proof from 5 to 7) and to a witness
 * holding the same: a client that accepts now holds a checkpoint that is
 * not smaller; evidence a client reports always verifies and names the
 * log's key; a cosignature a witness returns verifies under its key over
 * the input's text. The input is also tried as a vkey (canonical when it
 * parses). Seeds (gen_kt_corpus.c) are genuine notes of both views. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_kt_world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const kt_world *w = kt_world_get();
    static imc_kt_note n;
    imc_status st = imc_kt_note_parse(&n, data, size);
    FUZZ_CHECK(st == IMC_OK || st == IMC_ERR_MALFORMED || st == IMC_ERR_LIMIT,
               "note_parse: %s", imc_status_str(st));
    if (st != IMC_OK) {
        FUZZ_CHECK(fuzz_all_zero(&n, sizeof n), "failed note parse left output");
    } else {
        fuzz_count("note.ok");
        FUZZ_CHECK(n.text == data && n.text_len < size && n.sig_count >= 1, "note views");
        imc_kt_checkpoint cp;
        if (imc_kt_checkpoint_parse(&cp, n.text, n.text_len) == IMC_OK) {
            fuzz_count("checkpoint.ok");
            char text[IMC_KT_CHECKPOINT_TEXT_MAX];
            size_t tl = 0;
            st = imc_kt_checkpoint_text(text, sizeof text, &tl, &cp);
            FUZZ_CHECK(st == IMC_OK && tl == n.text_len && memcmp(text, n.text, tl) == 0,
                       "checkpoint text is not canonical");
        }
    }

    static uint8_t proof[IMC_KT_LOG_PROOF_MAX_BYTES];
    static size_t plen;
    if (plen == 0)
        plen = kt_world_proof(proof, sizeof proof, w, 0, KT_HELD, KT_HONEST);

    static imc_kt_client c;
    kt_world_client(&c, w);
    bool evidence = false;
    st = imc_kt_client_update(&c, &evidence, data, size, proof, plen);
    imc_kt_checkpoint held;
    FUZZ_CHECK(imc_kt_client_checkpoint(&held, &c) == IMC_OK, "client lost its checkpoint");
    if (st == IMC_OK) {
        fuzz_count("client.accept");
        FUZZ_CHECK(held.size >= KT_HELD, "client went back to size %llu",
                   (unsigned long long)held.size);
    } else {
        FUZZ_CHECK(held.size == KT_HELD, "a refused checkpoint changed the client");
    }
    static uint8_t ev[IMC_KT_EVIDENCE_MAX_BYTES];
    size_t el = 0;
    if (evidence) {
        fuzz_count("client.evidence");
        FUZZ_CHECK(st == IMC_ERR_AUTH, "evidence with status %s", imc_status_str(st));
        st = imc_kt_client_evidence(ev, sizeof ev, &el, &c);
        FUZZ_CHECK(st == IMC_OK, "evidence export: %s", imc_status_str(st));
        imc_kt_evidence e;
        st = imc_kt_evidence_verify(&e, w->b, ev, el);
        FUZZ_CHECK(st == IMC_OK, "kept evidence does not verify: %s", imc_status_str(st));
        FUZZ_CHECK(e.log.id == w->log.id && memcmp(e.log.pk, w->log.pk, 32) == 0,
                   "evidence names another key");
    }

    static imc_kt_witness wi;
    kt_world_witness(&wi, w);
    char line[IMC_KT_COSIG_LINE_MAX];
    size_t ll = 0;
    st = imc_kt_witness_cosign(line, sizeof line, &ll, &wi, data, size, proof, plen, KT_TIME);
    if (st == IMC_OK) {
        fuzz_count("witness.cosign");
        static uint8_t both[IMC_KT_MAX_NOTE_BYTES + IMC_KT_COSIG_LINE_MAX];
        static imc_kt_note m;
        /* The returned line appended to text + blank line + the line. */
        FUZZ_CHECK(imc_kt_note_parse(&n, data, size) == IMC_OK, "cosigned an unparsable note");
        memcpy(both, n.text, n.text_len);
        both[n.text_len] = '\n';
        memcpy(both + n.text_len + 1, line, ll);
        st = imc_kt_note_parse(&m, both, n.text_len + 1 + ll);
        FUZZ_CHECK(st == IMC_OK, "cosignature line does not parse");
        uint64_t t = 0;
        st = imc_kt_note_verify(w->b, &m, &w->wit[0], &t);
        FUZZ_CHECK(st == IMC_OK && t == KT_TIME, "cosignature does not verify");
    }
    imc_kt_witness_wipe(&wi);

    imc_kt_key k;
    if (imc_kt_vkey_parse(&k, w->b, (const char *)data, size) == IMC_OK) {
        fuzz_count("vkey.ok");
        char v[IMC_KT_VKEY_MAX];
        FUZZ_CHECK(imc_kt_vkey_encode(v, &k) == IMC_OK && strlen(v) == size &&
                       memcmp(v, data, size) == 0,
                   "vkey is not canonical");
    }
    return 0;
}
