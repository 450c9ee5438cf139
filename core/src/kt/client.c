/* The verifying client: its last verified checkpoint only moves forward,
 * along proofs of consistency, and only to checkpoints cosigned by enough of
 * its witnesses. Two log-signed checkpoints that conflict are kept as
 * evidence (evidence.c), whatever their cosignatures. */
#include <string.h>

#include "imcore/util.h"
#include "kt/kt_impl.h"

imc_status imc_kt_client_init(imc_kt_client *c, const imc_backend *b,
                              const imc_kt_client_config *cfg)
{
    if (c == NULL)
        return IMC_ERR_ARG;
    memset(c, 0, sizeof *c);
    if (cfg == NULL || cfg->log.type != IMC_KT_SIG_ED25519 ||
        cfg->witness_count > IMC_KT_MAX_WITNESSES || cfg->threshold > cfg->witness_count)
        return IMC_ERR_ARG;
    for (size_t i = 0; i < cfg->witness_count; i++)
        if (cfg->witnesses[i].type != IMC_KT_SIG_COSIGNATURE)
            return IMC_ERR_ARG;
    c->b_ = b;
    c->cfg_ = *cfg;
    return IMC_OK;
}

imc_status imc_kt_client_config_encode(uint8_t *out, size_t out_cap, size_t *out_len,
                                       const imc_kt_client_config *cfg)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || cfg == NULL ||
        cfg->witness_count > IMC_KT_MAX_WITNESSES || cfg->threshold > cfg->witness_count)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_u8(&w, IMC_KT_STATE_VERSION);
    const imc_kt_key *k = &cfg->log;
    for (size_t i = 0; i <= cfg->witness_count; i++) {
        imc_wire_write_u8(&w, (uint8_t)k->name_len);
        imc_wire_write_bytes(&w, (const uint8_t *)k->name, k->name_len);
        imc_wire_write_bytes(&w, k->pk, sizeof k->pk);
        if (i == 0) {
            imc_wire_write_u8(&w, (uint8_t)cfg->threshold);
            imc_wire_write_u8(&w, (uint8_t)cfg->witness_count);
        }
        if (i < cfg->witness_count)
            k = &cfg->witnesses[i];
    }
    return imc_wire_writer_finish(&w, out_len);
}

/* One key of a stored configuration: name length || name || public key. */
static imc_status read_key(imc_kt_key *k, const imc_backend *b, imc_reader *r, uint8_t type)
{
    char name[IMC_KT_MAX_NAME + 1];
    size_t nl = imc_wire_read_u8(r);
    const uint8_t *n = imc_wire_read_bytes(r, nl);
    const uint8_t *pk = imc_wire_read_bytes(r, IMC_ED25519_PUBLIC_BYTES);
    if (r->err || !imc_kt_name_ok(n, nl))
        return IMC_ERR_MALFORMED; /* also a NUL inside, which the string would cut */
    memcpy(name, n, nl);
    name[nl] = '\0';
    imc_status st = imc_kt_key_init(k, b, name, type, pk);
    return st == IMC_ERR_ARG ? IMC_ERR_MALFORMED : st;
}

imc_status imc_kt_client_config_parse(imc_kt_client_config *cfg, const imc_backend *b,
                                      const uint8_t *in, size_t len)
{
    if (cfg == NULL || (in == NULL && len != 0))
        return IMC_ERR_ARG;
    memset(cfg, 0, sizeof *cfg);
    imc_kt_client_config c;
    memset(&c, 0, sizeof c);
    imc_reader r;
    imc_wire_reader_init(&r, in, len);
    imc_status st = imc_wire_read_u8(&r) == IMC_KT_STATE_VERSION ? IMC_OK : IMC_ERR_MALFORMED;
    if (st == IMC_OK)
        st = read_key(&c.log, b, &r, IMC_KT_SIG_ED25519);
    c.threshold = imc_wire_read_u8(&r);
    c.witness_count = imc_wire_read_u8(&r);
    if (st == IMC_OK && (r.err || c.witness_count > IMC_KT_MAX_WITNESSES ||
                         c.threshold > c.witness_count))
        st = IMC_ERR_MALFORMED;
    for (size_t i = 0; i < c.witness_count && st == IMC_OK; i++)
        st = read_key(&c.witnesses[i], b, &r, IMC_KT_SIG_COSIGNATURE);
    if (st == IMC_OK && imc_wire_reader_finish(&r) != IMC_OK)
        st = IMC_ERR_MALFORMED;
    if (st == IMC_OK)
        *cfg = c;
    return st;
}

/* Valid cosignatures of distinct configured witnesses; IMC_ERR_AUTH as
 * soon as a configured witness's line fails to verify. */
static imc_status count_cosignatures(size_t *valid, const imc_kt_client *c, const imc_kt_note *n)
{
    *valid = 0;
    for (size_t i = 0; i < c->cfg_.witness_count; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || (c->cfg_.witnesses[j].id == c->cfg_.witnesses[i].id &&
                          imc_ct_equal(c->cfg_.witnesses[j].pk, c->cfg_.witnesses[i].pk,
                                       IMC_ED25519_PUBLIC_BYTES));
        if (dup)
            continue;
        imc_status st = imc_kt_note_verify(c->b_, n, &c->cfg_.witnesses[i], NULL);
        if (st == IMC_OK)
            (*valid)++;
        else if (st != IMC_ERR_NOT_FOUND)
            return IMC_ERR_AUTH;
    }
    return IMC_OK;
}

static void keep_evidence(imc_kt_client *c, bool *evidence, imc_kt_evidence_kind kind,
                          const uint8_t *note, size_t note_len,
                          const uint8_t prefix_root[IMC_KT_HASH_BYTES],
                          const imc_kt_log_proof *p)
{
    size_t len = 0;
    if (evidence != NULL)
        *evidence = true;
    if (c->evidence_len_ != 0)
        return; /* the first one is enough */
    if (imc_kt_evidence_encode(c->evidence_, sizeof c->evidence_, &len, kind, &c->cfg_.log,
                               c->last_note_, c->last_note_len_, note, note_len, prefix_root,
                               p) == IMC_OK)
        c->evidence_len_ = len;
}

/* Checks a proof from the last checkpoint to cp; on failure, keeps
 * evidence if the proof does show that cp's tree starts with another
 * prefix (possible when the last size is not a power of two: the path then
 * determines the prefix root by itself). */
static imc_status check_consistency(imc_kt_client *c, bool *evidence, const imc_kt_checkpoint *cp,
                                    const uint8_t *note, size_t note_len, const uint8_t *proof,
                                    size_t proof_len)
{
    imc_kt_log_proof p;
    imc_status st = imc_kt_log_proof_parse(&p, proof, proof_len);
    if (st != IMC_OK)
        return IMC_ERR_MALFORMED;
    if (p.kind != IMC_KT_PROOF_CONSISTENCY || p.a != c->last_.size || p.b != cp->size)
        return IMC_ERR_AUTH;
    st = imc_kt_consistency_verify(c->b_, c->last_.root, cp->root, &p);
    if (st != IMC_ERR_AUTH)
        return st;
    uint64_t m = p.a;
    if (m != 0 && (m & (m - 1)) != 0) {
        uint8_t fr[IMC_KT_HASH_BYTES], sr[IMC_KT_HASH_BYTES];
        if (imc_kt_consistency_roots(c->b_, fr, sr, p.a, p.b, (const uint8_t(*)[32])p.path,
                                     p.count) == IMC_OK &&
            imc_ct_equal(sr, cp->root, sizeof sr) && !imc_ct_equal(fr, c->last_.root, sizeof fr))
            keep_evidence(c, evidence, IMC_KT_EVIDENCE_PREFIX, note, note_len, fr, &p);
    }
    return IMC_ERR_AUTH;
}

imc_status imc_kt_client_update(imc_kt_client *c, bool *evidence, const uint8_t *note,
                                size_t note_len, const uint8_t *proof, size_t proof_len)
{
    if (evidence != NULL)
        *evidence = false;
    if (c == NULL || note == NULL)
        return IMC_ERR_ARG;
    static const imc_kt_note zero_note;
    imc_kt_note n = zero_note;
    imc_kt_checkpoint cp;
    imc_status st = imc_kt_open_checkpoint(&cp, &n, c->b_, &c->cfg_.log, note, note_len);
    if (st != IMC_OK)
        return st;
    if (c->have_) {
        const imc_kt_checkpoint *last = &c->last_;
        if (cp.size < last->size)
            return IMC_ERR_STALE;
        if (cp.size == last->size) {
            imc_kt_note old = zero_note;
            if (imc_kt_note_parse(&old, c->last_note_, c->last_note_len_) != IMC_OK)
                return IMC_ERR_IO;
            if (old.text_len == n.text_len && memcmp(old.text, n.text, n.text_len) == 0)
                return IMC_OK; /* the checkpoint we hold */
            keep_evidence(c, evidence, IMC_KT_EVIDENCE_SAME_SIZE, note, note_len, NULL, NULL);
            return IMC_ERR_AUTH;
        }
        st = check_consistency(c, evidence, &cp, note, note_len, proof, proof_len);
        if (st != IMC_OK)
            return st;
        if (cp.epoch < last->epoch)
            return IMC_ERR_STALE;
    }
    size_t valid = 0;
    st = count_cosignatures(&valid, c, &n);
    if (st != IMC_OK)
        return st;
    if (valid < c->cfg_.threshold)
        return IMC_ERR_AUTH;
    c->have_ = true;
    c->last_ = cp;
    memcpy(c->last_note_, note, note_len);
    c->last_note_len_ = note_len;
    return IMC_OK;
}

imc_status imc_kt_client_checkpoint(imc_kt_checkpoint *cp, const imc_kt_client *c)
{
    if (cp == NULL || c == NULL)
        return IMC_ERR_ARG;
    memset(cp, 0, sizeof *cp);
    if (!c->have_)
        return IMC_ERR_NOT_FOUND;
    *cp = c->last_;
    return IMC_OK;
}

imc_status imc_kt_client_evidence(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_kt_client *c)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || c == NULL)
        return IMC_ERR_ARG;
    if (c->evidence_len_ == 0)
        return IMC_ERR_NOT_FOUND;
    if (out_cap < c->evidence_len_)
        return IMC_ERR_NO_SPACE;
    memcpy(out, c->evidence_, c->evidence_len_);
    *out_len = c->evidence_len_;
    return IMC_OK;
}

imc_status imc_kt_client_save(uint8_t *out, size_t out_cap, size_t *out_len,
                              const imc_kt_client *c)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || c == NULL)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    imc_wire_write_u8(&w, IMC_KT_STATE_VERSION);
    imc_wire_write_u16(&w, (uint16_t)(c->have_ ? c->last_note_len_ : 0));
    if (c->have_)
        imc_wire_write_bytes(&w, c->last_note_, c->last_note_len_);
    imc_wire_write_u16(&w, (uint16_t)c->evidence_len_);
    imc_wire_write_bytes(&w, c->evidence_, c->evidence_len_);
    return imc_wire_writer_finish(&w, out_len);
}

static bool same_key(const imc_kt_key *a, const imc_kt_key *b)
{
    return a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0 &&
           imc_ct_equal(a->pk, b->pk, sizeof a->pk);
}

imc_status imc_kt_client_load(imc_kt_client *c, const uint8_t *in, size_t len)
{
    if (c == NULL || (in == NULL && len != 0))
        return IMC_ERR_ARG;
    imc_reader r;
    imc_wire_reader_init(&r, in, len);
    uint8_t version = imc_wire_read_u8(&r);
    size_t nl = imc_wire_read_u16(&r);
    if (!r.err && (version != IMC_KT_STATE_VERSION || nl > IMC_KT_MAX_NOTE_BYTES))
        imc_wire_reader_fail(&r);
    const uint8_t *note = imc_wire_read_bytes(&r, nl);
    size_t el = imc_wire_read_u16(&r);
    if (!r.err && el > IMC_KT_EVIDENCE_MAX_BYTES)
        imc_wire_reader_fail(&r);
    const uint8_t *ev = imc_wire_read_bytes(&r, el);
    if (imc_wire_reader_finish(&r) != IMC_OK)
        return IMC_ERR_MALFORMED;
    static const imc_kt_note zero_note;
    imc_kt_note n = zero_note;
    imc_kt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    imc_status st = IMC_OK;
    if (nl != 0)
        st = imc_kt_open_checkpoint(&cp, &n, c->b_, &c->cfg_.log, note, nl);
    if (st == IMC_OK && el != 0) {
        imc_kt_evidence e;
        st = imc_kt_evidence_verify(&e, c->b_, ev, el);
        if (st == IMC_OK && !same_key(&e.log, &c->cfg_.log))
            st = IMC_ERR_AUTH;
    }
    if (st != IMC_OK)
        return st;
    c->have_ = nl != 0;
    c->last_ = cp;
    memset(c->last_note_, 0, sizeof c->last_note_);
    if (nl != 0)
        memcpy(c->last_note_, note, nl);
    c->last_note_len_ = nl;
    memset(c->evidence_, 0, sizeof c->evidence_);
    if (el != 0)
        memcpy(c->evidence_, ev, el);
    c->evidence_len_ = el;
    return IMC_OK;
}
