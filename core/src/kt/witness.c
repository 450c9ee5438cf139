/* A witness: cosigns a log's checkpoints only along one append-only
 * history. Its state is the last checkpoint it cosigned; a checkpoint is
 * cosigned when it is signed by the log, is not smaller, and is proved
 * consistent with that one (the same size must be the same text). */
#include <string.h>

#include "imcore/util.h"
#include "kt/kt_impl.h"

imc_status imc_kt_witness_init(imc_kt_witness *w, const imc_backend *b, const imc_kt_key *key,
                               const uint8_t sk[IMC_ED25519_SECRET_BYTES], const imc_kt_key *log)
{
    if (w == NULL)
        return IMC_ERR_ARG;
    memset(w, 0, sizeof *w);
    if (key == NULL || sk == NULL || log == NULL || key->type != IMC_KT_SIG_COSIGNATURE ||
        log->type != IMC_KT_SIG_ED25519)
        return IMC_ERR_ARG;
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES];
    imc_status st = imc_crypto_ed25519_public(b, pk, sk);
    if (st == IMC_OK && !imc_ct_equal(pk, key->pk, sizeof pk))
        st = IMC_ERR_ARG;
    if (st != IMC_OK)
        return st;
    w->b_ = b;
    w->key_ = *key;
    memcpy(w->sk_, sk, sizeof w->sk_);
    w->log_ = *log;
    return IMC_OK;
}

void imc_kt_witness_wipe(imc_kt_witness *w)
{
    if (w != NULL)
        imc_wipe(w, sizeof *w);
}

imc_status imc_kt_witness_save(uint8_t *out, size_t out_cap, size_t *out_len,
                               const imc_kt_witness *w)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || w == NULL)
        return IMC_ERR_ARG;
    imc_writer wr;
    imc_wire_writer_init(&wr, out, out_cap);
    imc_wire_write_u8(&wr, IMC_KT_STATE_VERSION);
    imc_wire_write_u16(&wr, (uint16_t)(w->have_ ? w->last_text_len_ : 0));
    if (w->have_)
        imc_wire_write_bytes(&wr, w->last_text_, w->last_text_len_);
    return imc_wire_writer_finish(&wr, out_len);
}

imc_status imc_kt_witness_load(imc_kt_witness *w, const uint8_t *in, size_t len)
{
    if (w == NULL || (in == NULL && len != 0))
        return IMC_ERR_ARG;
    imc_reader r;
    imc_wire_reader_init(&r, in, len);
    uint8_t version = imc_wire_read_u8(&r);
    size_t tl = imc_wire_read_u16(&r);
    if (!r.err && (version != IMC_KT_STATE_VERSION || tl > IMC_KT_CHECKPOINT_TEXT_MAX))
        imc_wire_reader_fail(&r);
    const uint8_t *text = imc_wire_read_bytes(&r, tl);
    if (imc_wire_reader_finish(&r) != IMC_OK)
        return IMC_ERR_MALFORMED;
    imc_kt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    if (tl != 0) {
        if (imc_kt_checkpoint_parse(&cp, text, tl) != IMC_OK)
            return IMC_ERR_MALFORMED;
        if (cp.origin_len != w->log_.name_len ||
            memcmp(cp.origin, w->log_.name, cp.origin_len) != 0)
            return IMC_ERR_AUTH;
    }
    w->have_ = tl != 0;
    w->last_ = cp;
    memset(w->last_text_, 0, sizeof w->last_text_);
    if (tl != 0)
        memcpy(w->last_text_, text, tl);
    w->last_text_len_ = tl;
    return IMC_OK;
}

imc_status imc_kt_witness_last(imc_kt_checkpoint *cp, const imc_kt_witness *w)
{
    if (cp == NULL || w == NULL)
        return IMC_ERR_ARG;
    memset(cp, 0, sizeof *cp);
    if (!w->have_)
        return IMC_ERR_NOT_FOUND;
    *cp = w->last_;
    return IMC_OK;
}

imc_status imc_kt_witness_cosign(char *out, size_t out_cap, size_t *out_len, imc_kt_witness *w,
                                 const uint8_t *note, size_t note_len, const uint8_t *proof,
                                 size_t proof_len, uint64_t now_s)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || w == NULL || note == NULL)
        return IMC_ERR_ARG;
    static const imc_kt_note zero_note;
    imc_kt_note n = zero_note;
    imc_kt_checkpoint cp;
    imc_status st = imc_kt_open_checkpoint(&cp, &n, w->b_, &w->log_, note, note_len);
    if (st != IMC_OK)
        return st;
    if (n.text_len > IMC_KT_CHECKPOINT_TEXT_MAX)
        return IMC_ERR_MALFORMED;
    if (w->have_) {
        if (cp.size < w->last_.size || cp.epoch < w->last_.epoch)
            return IMC_ERR_STALE;
        if (cp.size == w->last_.size) {
            if (n.text_len != w->last_text_len_ ||
                memcmp(n.text, w->last_text_, n.text_len) != 0)
                return IMC_ERR_AUTH; /* a second head for one size */
        } else {
            imc_kt_log_proof p;
            st = imc_kt_log_proof_parse(&p, proof, proof_len);
            if (st != IMC_OK)
                return IMC_ERR_MALFORMED;
            if (p.kind != IMC_KT_PROOF_CONSISTENCY || p.a != w->last_.size || p.b != cp.size)
                return IMC_ERR_AUTH;
            st = imc_kt_consistency_verify(w->b_, w->last_.root, cp.root, &p);
            if (st != IMC_OK)
                return st;
        }
    }
    st = imc_kt_cosign(out, out_cap, out_len, w->b_, &w->key_, w->sk_, n.text, n.text_len, now_s);
    if (st != IMC_OK)
        return st;
    w->have_ = true;
    w->last_ = cp;
    memcpy(w->last_text_, n.text, n.text_len);
    w->last_text_len_ = n.text_len;
    return IMC_OK;
}
