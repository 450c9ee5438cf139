/* Base64 (RFC 4648 section 4, standard alphabet, padded) for signed notes,
 * checkpoints and vkeys. Decoding is strict: only the one canonical
 * encoding of a byte string is accepted. */
#include <string.h>

#include "kt/kt_impl.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void imc_kt_b64_encode(char *out, const uint8_t *in, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = ALPHABET[(v >> 18) & 63];
        out[o++] = ALPHABET[(v >> 12) & 63];
        out[o++] = i + 1 < len ? ALPHABET[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? ALPHABET[v & 63] : '=';
    }
}

static int sextet(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

imc_status imc_kt_b64_decode(uint8_t *out, size_t out_cap, size_t *out_len, const uint8_t *in,
                             size_t len)
{
    if (out_len == NULL || (in == NULL && len != 0) || (out == NULL && out_cap != 0))
        return IMC_ERR_ARG;
    *out_len = 0;
    if (len % 4 != 0)
        return IMC_ERR_MALFORMED;
    size_t pad = 0;
    if (len >= 4 && in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    size_t n = len / 4 * 3 - pad;
    if (n > out_cap)
        return IMC_ERR_MALFORMED;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            int s = (last && j >= 4 - pad) ? 0 : sextet(in[i + j]);
            if (s < 0)
                goto bad;
            v = v << 6 | (uint32_t)s;
        }
        /* Unused bits of the last group must be zero (canonical form). */
        if (last && ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)))
            goto bad;
        out[o++] = (uint8_t)(v >> 16);
        if (o < n)
            out[o++] = (uint8_t)(v >> 8);
        if (o < n)
            out[o++] = (uint8_t)v;
    }
    *out_len = n;
    return IMC_OK;
bad:
    memset(out, 0, out_cap);
    return IMC_ERR_MALFORMED;
}
