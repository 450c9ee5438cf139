/* Evidence of a misbehaving log: two checkpoints, both signed by the log's
 * key, that cannot both be true; or two directory-signed device lists of
 * one handle with one version. Self-contained (the name and public key
 * travel with it) and checked with nothing but the signatures, the RFC 9162
 * consistency algorithm and the directory's entry format. */
#include <string.h>

#include "imcore/dir.h"
#include "imcore/util.h"
#include "kt/kt_impl.h"

/* The largest statement of each kind: a signed note, or a one-entry
 * lookup response. */
static size_t statement_max(imc_kt_evidence_kind kind)
{
    return kind == IMC_KT_EVIDENCE_LIST ? IMC_DIR_RESPONSE_MAX_BYTES(1) : IMC_KT_MAX_NOTE_BYTES;
}

imc_status imc_kt_evidence_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                  imc_kt_evidence_kind kind, const imc_kt_key *log,
                                  const uint8_t *note_a, size_t a_len, const uint8_t *note_b,
                                  size_t b_len, const uint8_t prefix_root[IMC_KT_HASH_BYTES],
                                  const imc_kt_log_proof *proof)
{
    if (a_len > statement_max(kind) || b_len > statement_max(kind) ||
        (kind == IMC_KT_EVIDENCE_PREFIX && (prefix_root == NULL || proof == NULL)))
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_u8(&w, IMC_KT_EVIDENCE_VERSION);
    imc_wire_write_u8(&w, (uint8_t)kind);
    imc_wire_write_u8(&w, (uint8_t)log->name_len);
    imc_wire_write_bytes(&w, (const uint8_t *)log->name, log->name_len);
    imc_wire_write_bytes(&w, log->pk, sizeof log->pk);
    imc_wire_write_u16(&w, (uint16_t)a_len);
    imc_wire_write_bytes(&w, note_a, a_len);
    imc_wire_write_u16(&w, (uint16_t)b_len);
    imc_wire_write_bytes(&w, note_b, b_len);
    if (kind == IMC_KT_EVIDENCE_PREFIX) {
        imc_wire_write_bytes(&w, prefix_root, IMC_KT_HASH_BYTES);
        imc_wire_write_u8(&w, (uint8_t)proof->count);
        imc_wire_write_bytes(&w, &proof->path[0][0], proof->count * IMC_KT_HASH_BYTES);
    }
    return imc_wire_writer_finish(&w, out_len);
}

/* A one-entry lookup response: signed by pk, with an account-signed list. */
static imc_status open_entry(imc_dir_entry *e, const imc_backend *b,
                             const uint8_t pk[IMC_ED25519_PUBLIC_BYTES], const uint8_t *in,
                             size_t len)
{
    imc_dir_response r;
    size_t off = 0;
    imc_status st = imc_dir_parse_response(&r, in, len);
    if (st == IMC_OK && r.count != 1)
        st = IMC_ERR_MALFORMED;
    if (st == IMC_OK)
        st = imc_dir_response_next(e, &off, &r);
    if (st == IMC_OK && e->rec.epoch == 0)
        st = IMC_ERR_MALFORMED; /* no list at all */
    if (st != IMC_OK)
        return IMC_ERR_MALFORMED;
    if (imc_dir_entry_verify(b, pk, e) != IMC_OK || imc_dir_list_verify(b, &e->rec, NULL) != IMC_OK)
        return IMC_ERR_AUTH;
    return IMC_OK;
}

/* LIST: one handle, one version, two different signed lists. */
static imc_status verify_lists(imc_kt_evidence *ev, const imc_backend *b, const uint8_t *a,
                               size_t a_len, const uint8_t *bb, size_t b_len)
{
    static const imc_dir_entry zero_entry;
    imc_dir_entry ea = zero_entry, eb = zero_entry;
    imc_status st = open_entry(&ea, b, ev->log.pk, a, a_len);
    if (st == IMC_OK)
        st = open_entry(&eb, b, ev->log.pk, bb, b_len);
    if (st == IMC_OK &&
        (ea.rec.handle_len != eb.rec.handle_len ||
         memcmp(ea.rec.handle, eb.rec.handle, ea.rec.handle_len) != 0 ||
         ea.rec.epoch != eb.rec.epoch ||
         (ea.list_len == eb.list_len && memcmp(ea.list, eb.list, ea.list_len) == 0)))
        st = IMC_ERR_AUTH;
    if (st == IMC_OK) {
        memcpy(ev->handle, ea.rec.handle, ea.rec.handle_len);
        ev->handle_len = ea.rec.handle_len;
        ev->version = ea.rec.epoch;
    }
    return st;
}

imc_status imc_kt_evidence_verify(imc_kt_evidence *e, const imc_backend *b, const uint8_t *in,
                                  size_t len)
{
    if (e != NULL)
        memset(e, 0, sizeof *e);
    if (in == NULL && len != 0)
        return IMC_ERR_ARG;
    static imc_kt_log_proof proof_zero;
    imc_kt_log_proof p = proof_zero;
    uint8_t prefix_root[IMC_KT_HASH_BYTES] = {0};
    imc_reader r;
    imc_wire_reader_init(&r, in, len);
    uint8_t version = imc_wire_read_u8(&r), kind = imc_wire_read_u8(&r);
    size_t name_len = imc_wire_read_u8(&r);
    const uint8_t *name = imc_wire_read_bytes(&r, name_len);
    const uint8_t *pk = imc_wire_read_bytes(&r, IMC_ED25519_PUBLIC_BYTES);
    size_t a_len = imc_wire_read_u16(&r);
    const uint8_t *note_a = imc_wire_read_bytes(&r, a_len);
    size_t b_len = imc_wire_read_u16(&r);
    const uint8_t *note_b = imc_wire_read_bytes(&r, b_len);
    if (!r.err && (version != IMC_KT_EVIDENCE_VERSION ||
                   (kind != IMC_KT_EVIDENCE_SAME_SIZE && kind != IMC_KT_EVIDENCE_PREFIX &&
                    kind != IMC_KT_EVIDENCE_LIST) ||
                   !imc_kt_name_ok(name, name_len)))
        imc_wire_reader_fail(&r);
    if (kind == IMC_KT_EVIDENCE_PREFIX) {
        imc_wire_read_copy(&r, prefix_root, sizeof prefix_root);
        p.count = imc_wire_read_u8(&r);
        if (p.count > IMC_KT_MAX_LOG_PROOF)
            imc_wire_reader_fail(&r);
        /* A failed reader zeroes what it is asked to copy: only a count
         * that fits the path may reach the copy. */
        if (!r.err)
            imc_wire_read_copy(&r, &p.path[0][0], p.count * IMC_KT_HASH_BYTES);
    }
    if (imc_wire_reader_finish(&r) != IMC_OK)
        return IMC_ERR_MALFORMED;

    imc_kt_evidence ev;
    memset(&ev, 0, sizeof ev);
    char nm[IMC_KT_MAX_NAME + 1];
    memcpy(nm, name, name_len);
    nm[name_len] = '\0';
    imc_status st = imc_kt_key_init(&ev.log, b, nm, IMC_KT_SIG_ED25519, pk);
    if (st != IMC_OK)
        return st == IMC_ERR_ARG ? IMC_ERR_MALFORMED : st;
    ev.kind = (imc_kt_evidence_kind)kind;
    if (kind == IMC_KT_EVIDENCE_LIST) {
        st = verify_lists(&ev, b, note_a, a_len, note_b, b_len);
        if (st == IMC_OK && e != NULL)
            *e = ev;
        return st;
    }
    static const imc_kt_note zero_note;
    imc_kt_note na = zero_note, nb = zero_note;
    st = imc_kt_open_checkpoint(&ev.a, &na, b, &ev.log, note_a, a_len);
    if (st == IMC_OK)
        st = imc_kt_open_checkpoint(&ev.b, &nb, b, &ev.log, note_b, b_len);
    if (st != IMC_OK)
        return st;
    if (kind == IMC_KT_EVIDENCE_SAME_SIZE) {
        if (ev.a.size != ev.b.size ||
            (na.text_len == nb.text_len && memcmp(na.text, nb.text, na.text_len) == 0))
            return IMC_ERR_AUTH;
    } else {
        if (ev.a.size == 0 || ev.a.size >= ev.b.size || imc_ct_equal(prefix_root, ev.a.root, IMC_KT_HASH_BYTES))
            return IMC_ERR_AUTH;
        if (p.count != imc_kt_consistency_len(ev.a.size, ev.b.size))
            return IMC_ERR_MALFORMED;
        p.kind = IMC_KT_PROOF_CONSISTENCY;
        p.a = ev.a.size;
        p.b = ev.b.size;
        st = imc_kt_consistency_verify(b, prefix_root, ev.b.root, &p);
        if (st != IMC_OK)
            return st;
    }
    if (e != NULL)
        *e = ev;
    return IMC_OK;
}
