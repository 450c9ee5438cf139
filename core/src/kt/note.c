/* C2SP signed notes, tlog-checkpoint bodies and tlog-cosignature/v1 lines.
 *
 * Scope (docs/transparency.md): Ed25519 note signatures (type 0x01) and
 * Ed25519 cosignatures (type 0x04); names, origins and note text are
 * printable ASCII; the note text has no empty line. Lines of unknown keys
 * are parsed (strictly) and otherwise ignored, as the spec requires. */
#include <stdio.h>
#include <string.h>

#include "imcore/util.h"
#include "kt/kt_impl.h"

static const uint8_t EM_DASH_SP[4] = {0xe2, 0x80, 0x94, 0x20};
#define COSIG_HEADER "cosignature/v1\ntime "
#define ED25519_BLOB IMC_ED25519_SIGNATURE_BYTES
#define COSIG_BLOB (8 + IMC_ED25519_SIGNATURE_BYTES)

/* ---- Keys ---------------------------------------------------------------- */

imc_status imc_kt_key_init(imc_kt_key *k, const imc_backend *b, const char *name, uint8_t type,
                           const uint8_t pk[IMC_ED25519_PUBLIC_BYTES])
{
    if (k == NULL)
        return IMC_ERR_ARG;
    memset(k, 0, sizeof *k);
    size_t len = 0;
    while (name != NULL && len <= IMC_KT_MAX_NAME && name[len] != '\0')
        len++;
    if (pk == NULL || !imc_kt_name_ok((const uint8_t *)name, len) ||
        (type != IMC_KT_SIG_ED25519 && type != IMC_KT_SIG_COSIGNATURE))
        return IMC_ERR_ARG;
    uint8_t buf[IMC_KT_MAX_NAME + 2 + IMC_ED25519_PUBLIC_BYTES], h[IMC_SHA256_BYTES];
    memcpy(buf, name, len);
    buf[len] = '\n';
    buf[len + 1] = type;
    memcpy(buf + len + 2, pk, IMC_ED25519_PUBLIC_BYTES);
    imc_status st = imc_crypto_sha256(b, h, buf, len + 2 + IMC_ED25519_PUBLIC_BYTES);
    if (st != IMC_OK)
        return st;
    memcpy(k->name, name, len);
    k->name_len = len;
    k->type = type;
    memcpy(k->pk, pk, IMC_ED25519_PUBLIC_BYTES);
    k->id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    return IMC_OK;
}

imc_status imc_kt_vkey_encode(char out[IMC_KT_VKEY_MAX], const imc_kt_key *k)
{
    if (out == NULL || k == NULL || !imc_kt_name_ok((const uint8_t *)k->name, k->name_len))
        return IMC_ERR_ARG;
    uint8_t raw[1 + IMC_ED25519_PUBLIC_BYTES];
    raw[0] = k->type;
    memcpy(raw + 1, k->pk, IMC_ED25519_PUBLIC_BYTES);
    int n = snprintf(out, IMC_KT_VKEY_MAX, "%.*s+%08x+", (int)k->name_len, k->name,
                     (unsigned)k->id);
    if (n < 0 || (size_t)n + IMC_KT_B64_LEN(sizeof raw) + 1 > IMC_KT_VKEY_MAX)
        return IMC_ERR_ARG;
    imc_kt_b64_encode(out + n, raw, sizeof raw);
    out[(size_t)n + IMC_KT_B64_LEN(sizeof raw)] = '\0';
    return IMC_OK;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

imc_status imc_kt_vkey_parse(imc_kt_key *k, const imc_backend *b, const char *text, size_t len)
{
    if (k == NULL || (text == NULL && len != 0))
        return IMC_ERR_ARG;
    memset(k, 0, sizeof *k);
    imc_reader r;
    imc_wire_reader_init(&r, (const uint8_t *)text, len);
    size_t start = r.off, name_len = 0;
    while (!r.err && imc_wire_read_u8(&r) != '+')
        name_len++;
    const uint8_t *name = imc_wire_read_bytes(&r, 0) != NULL ? r.buf + start : NULL;
    const uint8_t *hex = imc_wire_read_bytes(&r, 8);
    uint8_t plus = imc_wire_read_u8(&r);
    size_t rest = imc_wire_remaining(&r);
    const uint8_t *b64 = imc_wire_read_bytes(&r, rest);
    uint8_t raw[1 + IMC_ED25519_PUBLIC_BYTES];
    size_t raw_len = 0;
    uint32_t id = 0;
    if (!r.err && (plus != '+' || !imc_kt_name_ok(name, name_len) ||
                   imc_kt_b64_decode(raw, sizeof raw, &raw_len, b64, rest) != IMC_OK ||
                   raw_len != sizeof raw))
        imc_wire_reader_fail(&r);
    for (size_t i = 0; !r.err && i < 8; i++) {
        int v = hexval(hex[i]);
        if (v < 0)
            imc_wire_reader_fail(&r);
        id = id << 4 | (uint32_t)(v & 15);
    }
    if (imc_wire_reader_finish(&r) != IMC_OK)
        return IMC_ERR_MALFORMED;
    char nm[IMC_KT_MAX_NAME + 1];
    memcpy(nm, name, name_len);
    nm[name_len] = '\0';
    imc_status st = imc_kt_key_init(k, b, nm, raw[0], raw + 1);
    if (st == IMC_ERR_ARG)
        st = IMC_ERR_MALFORMED; /* unknown type */
    if (st == IMC_OK && k->id != id)
        st = IMC_ERR_MALFORMED;
    if (st != IMC_OK)
        memset(k, 0, sizeof *k);
    return st;
}

/* ---- Notes --------------------------------------------------------------- */

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] >= 0x7f)
            return false;
    return true;
}

/* One signature line (without its newline) into sig. */
static bool parse_sig_line(imc_kt_note_sig *sig, const uint8_t *line, size_t len)
{
    imc_reader r;
    imc_wire_reader_init(&r, line, len);
    const uint8_t *dash = imc_wire_read_bytes(&r, sizeof EM_DASH_SP);
    if (dash == NULL || memcmp(dash, EM_DASH_SP, sizeof EM_DASH_SP) != 0)
        return false;
    size_t start = r.off, name_len = 0;
    while (!r.err && imc_wire_read_u8(&r) != ' ')
        name_len++;
    if (r.err || !imc_kt_name_ok(line + start, name_len))
        return false;
    size_t rest = imc_wire_remaining(&r);
    const uint8_t *b64 = imc_wire_read_bytes(&r, rest);
    uint8_t raw[4 + IMC_KT_MAX_SIG_BLOB];
    size_t raw_len = 0;
    if (b64 == NULL || imc_kt_b64_decode(raw, sizeof raw, &raw_len, b64, rest) != IMC_OK ||
        raw_len < 5 || imc_wire_reader_finish(&r) != IMC_OK)
        return false;
    sig->name = line + start;
    sig->name_len = name_len;
    sig->id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
    sig->blob_len = raw_len - 4;
    memcpy(sig->blob, raw + 4, sig->blob_len);
    return true;
}

imc_status imc_kt_note_parse(imc_kt_note *n, const uint8_t *in, size_t len)
{
    if (n == NULL || (in == NULL && len != 0))
        return IMC_ERR_ARG;
    memset(n, 0, sizeof *n);
    if (len > IMC_KT_MAX_NOTE_BYTES)
        return IMC_ERR_LIMIT;
    imc_reader r;
    imc_wire_reader_init(&r, in, len);
    size_t line_len = 0, text_lines = 0;
    const uint8_t *line;
    /* Text lines up to the empty separator line. */
    while ((line = imc_kt_read_line(&r, &line_len)) != NULL && line_len != 0) {
        if (!printable(line, line_len))
            imc_wire_reader_fail(&r);
        text_lines++;
    }
    if (!r.err && text_lines == 0)
        imc_wire_reader_fail(&r);
    n->text = in;
    n->text_len = r.err ? 0 : r.off - 1;
    imc_status st = IMC_OK;
    while (!r.err && imc_wire_remaining(&r) != 0) {
        line = imc_kt_read_line(&r, &line_len);
        if (line == NULL)
            break;
        if (n->sig_count == IMC_KT_MAX_NOTE_SIGS) {
            st = IMC_ERR_LIMIT;
            imc_wire_reader_fail(&r);
        } else if (!parse_sig_line(&n->sigs[n->sig_count], line, line_len)) {
            imc_wire_reader_fail(&r);
        } else {
            n->sig_count++;
        }
    }
    if (!r.err && n->sig_count == 0)
        imc_wire_reader_fail(&r);
    if (st == IMC_OK)
        st = imc_wire_reader_finish(&r);
    if (st != IMC_OK)
        memset(n, 0, sizeof *n);
    return st;
}

static void put_sig_line(char *out, size_t *len, const imc_kt_key *k, const uint8_t *blob,
                         size_t blob_len)
{
    uint8_t raw[4 + COSIG_BLOB];
    raw[0] = (uint8_t)(k->id >> 24);
    raw[1] = (uint8_t)(k->id >> 16);
    raw[2] = (uint8_t)(k->id >> 8);
    raw[3] = (uint8_t)k->id;
    memcpy(raw + 4, blob, blob_len);
    size_t o = 0;
    memcpy(out, EM_DASH_SP, sizeof EM_DASH_SP);
    o += sizeof EM_DASH_SP;
    memcpy(out + o, k->name, k->name_len);
    o += k->name_len;
    out[o++] = ' ';
    imc_kt_b64_encode(out + o, raw, 4 + blob_len);
    o += IMC_KT_B64_LEN(4 + blob_len);
    out[o++] = '\n';
    *len = o;
}

static size_t sig_line_len(const imc_kt_key *k, size_t blob_len)
{
    return sizeof EM_DASH_SP + k->name_len + 1 + IMC_KT_B64_LEN(4 + blob_len) + 1;
}

imc_status imc_kt_note_sign(char *out, size_t out_cap, size_t *out_len, const imc_backend *b,
                            const imc_kt_key *k, const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                            const uint8_t *text, size_t text_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || k == NULL || sk == NULL || text == NULL ||
        k->type != IMC_KT_SIG_ED25519 || !imc_kt_name_ok((const uint8_t *)k->name, k->name_len))
        return IMC_ERR_ARG;
    if (out_cap < sig_line_len(k, ED25519_BLOB))
        return IMC_ERR_NO_SPACE;
    uint8_t sig[IMC_ED25519_SIGNATURE_BYTES];
    imc_status st = imc_crypto_ed25519_sign(b, sig, sk, k->pk, text, text_len);
    if (st != IMC_OK)
        return st;
    put_sig_line(out, out_len, k, sig, sizeof sig);
    return IMC_OK;
}

/* "cosignature/v1\ntime <t>\n" || text into buf; its length, 0 if too long. */
static size_t cosig_message(uint8_t *buf, size_t cap, uint64_t t, const uint8_t *text,
                            size_t text_len)
{
    char dec[20];
    size_t d = imc_kt_put_dec(dec, t), hl = sizeof COSIG_HEADER - 1;
    if (hl + d + 1 + text_len > cap)
        return 0;
    memcpy(buf, COSIG_HEADER, hl);
    memcpy(buf + hl, dec, d);
    buf[hl + d] = '\n';
    memcpy(buf + hl + d + 1, text, text_len);
    return hl + d + 1 + text_len;
}

#define COSIG_MSG_MAX (sizeof COSIG_HEADER + 21 + IMC_KT_MAX_NOTE_BYTES)

imc_status imc_kt_cosign(char *out, size_t out_cap, size_t *out_len, const imc_backend *b,
                         const imc_kt_key *k, const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                         const uint8_t *text, size_t text_len, uint64_t timestamp)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || k == NULL || sk == NULL || text == NULL ||
        k->type != IMC_KT_SIG_COSIGNATURE || timestamp >= IMC_KT_MAX_SIZE ||
        !imc_kt_name_ok((const uint8_t *)k->name, k->name_len))
        return IMC_ERR_ARG;
    if (out_cap < sig_line_len(k, COSIG_BLOB))
        return IMC_ERR_NO_SPACE;
    uint8_t msg[COSIG_MSG_MAX], blob[COSIG_BLOB];
    size_t mlen = cosig_message(msg, sizeof msg, timestamp, text, text_len);
    if (mlen == 0)
        return IMC_ERR_ARG;
    for (int i = 0; i < 8; i++)
        blob[i] = (uint8_t)(timestamp >> (56 - 8 * i));
    imc_status st = imc_crypto_ed25519_sign(b, blob + 8, sk, k->pk, msg, mlen);
    if (st != IMC_OK)
        return st;
    put_sig_line(out, out_len, k, blob, sizeof blob);
    return IMC_OK;
}

imc_status imc_kt_note_verify(const imc_backend *b, const imc_kt_note *n, const imc_kt_key *k,
                              uint64_t *timestamp)
{
    if (timestamp != NULL)
        *timestamp = 0;
    if (n == NULL || k == NULL)
        return IMC_ERR_ARG;
    const imc_kt_note_sig *found = NULL;
    for (size_t i = 0; i < n->sig_count; i++) {
        const imc_kt_note_sig *s = &n->sigs[i];
        if (s->id != k->id || s->name_len != k->name_len ||
            memcmp(s->name, k->name, k->name_len) != 0)
            continue;
        if (found != NULL)
            return IMC_ERR_AUTH; /* one key, two lines */
        found = s;
    }
    if (found == NULL)
        return IMC_ERR_NOT_FOUND;
    if (k->type == IMC_KT_SIG_ED25519) {
        if (found->blob_len != ED25519_BLOB)
            return IMC_ERR_AUTH;
        return imc_crypto_ed25519_verify(b, found->blob, k->pk, n->text, n->text_len);
    }
    if (k->type != IMC_KT_SIG_COSIGNATURE || found->blob_len != COSIG_BLOB)
        return IMC_ERR_AUTH;
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = t << 8 | found->blob[i];
    if (t >= IMC_KT_MAX_SIZE)
        return IMC_ERR_AUTH;
    uint8_t msg[COSIG_MSG_MAX];
    size_t mlen = cosig_message(msg, sizeof msg, t, n->text, n->text_len);
    if (mlen == 0)
        return IMC_ERR_AUTH;
    imc_status st = imc_crypto_ed25519_verify(b, found->blob + 8, k->pk, msg, mlen);
    if (st == IMC_OK && timestamp != NULL)
        *timestamp = t;
    return st;
}

/* ---- Checkpoints ------------------------------------------------------------ */

#define EXT_INDEX "index "
#define EXT_EPOCH "epoch "

imc_status imc_kt_checkpoint_text(char *out, size_t out_cap, size_t *out_len,
                                  const imc_kt_checkpoint *cp)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || cp == NULL || cp->size >= IMC_KT_MAX_SIZE ||
        cp->epoch >= IMC_KT_MAX_SIZE || !imc_kt_name_ok((const uint8_t *)cp->origin,
                                                        cp->origin_len))
        return IMC_ERR_ARG;
    char buf[IMC_KT_CHECKPOINT_TEXT_MAX], dec[20];
    size_t o = 0;
    memcpy(buf, cp->origin, cp->origin_len);
    o += cp->origin_len;
    buf[o++] = '\n';
    size_t d = imc_kt_put_dec(dec, cp->size);
    memcpy(buf + o, dec, d);
    o += d;
    buf[o++] = '\n';
    imc_kt_b64_encode(buf + o, cp->root, IMC_KT_HASH_BYTES);
    o += IMC_KT_B64_LEN(IMC_KT_HASH_BYTES);
    buf[o++] = '\n';
    memcpy(buf + o, EXT_INDEX, sizeof EXT_INDEX - 1);
    o += sizeof EXT_INDEX - 1;
    imc_kt_b64_encode(buf + o, cp->index_root, IMC_KT_HASH_BYTES);
    o += IMC_KT_B64_LEN(IMC_KT_HASH_BYTES);
    buf[o++] = '\n';
    memcpy(buf + o, EXT_EPOCH, sizeof EXT_EPOCH - 1);
    o += sizeof EXT_EPOCH - 1;
    d = imc_kt_put_dec(dec, cp->epoch);
    memcpy(buf + o, dec, d);
    o += d;
    buf[o++] = '\n';
    if (o > out_cap)
        return IMC_ERR_NO_SPACE;
    memcpy(out, buf, o);
    *out_len = o;
    return IMC_OK;
}

/* A hash line: exactly the canonical base64 of 32 bytes. */
static bool parse_hash(uint8_t out[IMC_KT_HASH_BYTES], const uint8_t *p, size_t len)
{
    size_t n = 0;
    return p != NULL && imc_kt_b64_decode(out, IMC_KT_HASH_BYTES, &n, p, len) == IMC_OK &&
           n == IMC_KT_HASH_BYTES;
}

static bool has_prefix(const uint8_t *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return line != NULL && len >= n && memcmp(line, prefix, n) == 0;
}

imc_status imc_kt_checkpoint_parse(imc_kt_checkpoint *cp, const uint8_t *text, size_t len)
{
    if (cp == NULL || (text == NULL && len != 0))
        return IMC_ERR_ARG;
    memset(cp, 0, sizeof *cp);
    imc_reader r;
    imc_wire_reader_init(&r, text, len);
    size_t ol = 0, sl = 0, rl = 0, il = 0, el = 0;
    const uint8_t *origin = imc_kt_read_line(&r, &ol);
    const uint8_t *size = imc_kt_read_line(&r, &sl);
    const uint8_t *root = imc_kt_read_line(&r, &rl);
    const uint8_t *index = imc_kt_read_line(&r, &il);
    const uint8_t *epoch = imc_kt_read_line(&r, &el);
    imc_kt_checkpoint c;
    memset(&c, 0, sizeof c);
    if (!r.err &&
        (!imc_kt_name_ok(origin, ol) || imc_kt_parse_dec(&c.size, size, sl) != IMC_OK ||
         !parse_hash(c.root, root, rl) || !has_prefix(index, il, EXT_INDEX) ||
         !parse_hash(c.index_root, index + 6, il - 6) || !has_prefix(epoch, el, EXT_EPOCH) ||
         imc_kt_parse_dec(&c.epoch, epoch + 6, el - 6) != IMC_OK))
        imc_wire_reader_fail(&r);
    if (imc_wire_reader_finish(&r) != IMC_OK)
        return IMC_ERR_MALFORMED;
    memcpy(c.origin, origin, ol);
    c.origin_len = ol;
    *cp = c;
    return IMC_OK;
}

imc_status imc_kt_open_checkpoint(imc_kt_checkpoint *cp, imc_kt_note *n, const imc_backend *b,
                                  const imc_kt_key *log, const uint8_t *note, size_t note_len)
{
    imc_status st = imc_kt_note_parse(n, note, note_len);
    if (st == IMC_OK)
        st = imc_kt_checkpoint_parse(cp, n->text, n->text_len);
    if (st != IMC_OK)
        return st == IMC_ERR_LIMIT ? st : IMC_ERR_MALFORMED;
    if (cp->size == 0) {
        /* The empty tree has one root: SHA-256 of nothing. */
        uint8_t empty[IMC_KT_HASH_BYTES];
        st = imc_crypto_sha256(b, empty, NULL, 0);
        if (st != IMC_OK)
            return st;
        if (!imc_ct_equal(empty, cp->root, sizeof empty))
            return IMC_ERR_MALFORMED;
    }
    if (cp->origin_len != log->name_len || memcmp(cp->origin, log->name, log->name_len) != 0)
        return IMC_ERR_AUTH;
    st = imc_kt_note_verify(b, n, log, NULL);
    return st == IMC_ERR_NOT_FOUND ? IMC_ERR_AUTH : st;
}
