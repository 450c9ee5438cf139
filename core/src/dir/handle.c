/* Handle normalisation (docs/directory.md, "Handles").
 *
 * A handle is an e-mail address if it contains '@', else a phone number.
 * Phone numbers: '+', then 7..15 digits, the first not 0; the separators
 * space, '-', '.', '(' and ')' may appear anywhere after the '+' and are
 * removed. No default region: a number without '+' is refused.
 * E-mail: printable ASCII only, exactly one '@'; the local part is 1..64
 * bytes of RFC 5322 atext and dots (no leading, trailing or double dot); the
 * domain is 1..253 bytes of at least two dot-separated labels of 1..63
 * letters, digits and hyphens (no leading or trailing hyphen). The whole
 * address is lower-cased. Normalisation never lengthens its input and is
 * idempotent, so a handle is in normal form iff normalising it gives it. */
#include <string.h>

#include "imcore/dir.h"
#include "imcore/util.h"

#define PHONE_MIN_DIGITS 7
#define PHONE_MAX_DIGITS 15 /* ITU-T E.164 */
#define EMAIL_LOCAL_MAX 64
#define EMAIL_DOMAIN_MAX 253
#define EMAIL_LABEL_MAX 63

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_lower(uint8_t c) { return c >= 'a' && c <= 'z'; }
static uint8_t to_lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }
static int is_phone_separator(uint8_t c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/* RFC 5322 atext (letters already lower-cased). */
static int is_atext(uint8_t c)
{
    return is_lower(c) || is_digit(c) || (c != 0 && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static imc_status normalise_phone(uint8_t *out, size_t *out_len, const uint8_t *in, size_t n)
{
    if (n == 0 || in[0] != '+')
        return IMC_ERR_MALFORMED;
    size_t len = 0;
    out[len++] = '+';
    for (size_t i = 1; i < n; i++) {
        if (is_phone_separator(in[i]))
            continue;
        if (!is_digit(in[i]) || len > PHONE_MAX_DIGITS)
            return IMC_ERR_MALFORMED;
        if (len == 1 && in[i] == '0')
            return IMC_ERR_MALFORMED; /* no country code starts with 0 */
        out[len++] = in[i];
    }
    if (len - 1 < PHONE_MIN_DIGITS)
        return IMC_ERR_MALFORMED;
    *out_len = len;
    return IMC_OK;
}

static int email_local_ok(const uint8_t *p, size_t n)
{
    if (n == 0 || n > EMAIL_LOCAL_MAX || p[0] == '.' || p[n - 1] == '.')
        return 0;
    int prev_dot = 0;
    for (size_t i = 0; i < n; i++) {
        int dot = p[i] == '.';
        if ((dot && prev_dot) || (!dot && !is_atext(p[i])))
            return 0;
        prev_dot = dot;
    }
    return 1;
}

static int email_domain_ok(const uint8_t *p, size_t n)
{
    if (n == 0 || n > EMAIL_DOMAIN_MAX)
        return 0;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.') {
            if (!is_lower(p[i]) && !is_digit(p[i]) && p[i] != '-')
                return 0;
            continue;
        }
        size_t label_len = i - start;
        if (label_len == 0 || label_len > EMAIL_LABEL_MAX || p[start] == '-' || p[i - 1] == '-')
            return 0;
        labels++;
        start = i + 1;
    }
    return labels >= 2;
}

static imc_status normalise_email(uint8_t *out, size_t *out_len, const uint8_t *in, size_t n)
{
    size_t at = n;
    for (size_t i = 0; i < n; i++) {
        if (in[i] < 0x21 || in[i] > 0x7e)
            return IMC_ERR_MALFORMED;
        if (in[i] == '@') {
            if (at != n)
                return IMC_ERR_MALFORMED;
            at = i;
        }
        out[i] = to_lower(in[i]);
    }
    if (!email_local_ok(out, at) || !email_domain_ok(out + at + 1, n - at - 1))
        return IMC_ERR_MALFORMED;
    *out_len = n;
    return IMC_OK;
}

imc_status imc_dir_handle_normalise(uint8_t out[IMC_MAX_HANDLE_BYTES], size_t *out_len,
                                    const uint8_t *in, size_t in_len)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL || (in == NULL && in_len != 0))
        return IMC_ERR_ARG;
    if (in_len > IMC_MAX_HANDLE_BYTES)
        return IMC_ERR_LIMIT;
    if (in_len == 0)
        return IMC_ERR_MALFORMED;
    imc_status st = memchr(in, '@', in_len) != NULL ? normalise_email(out, out_len, in, in_len)
                                                    : normalise_phone(out, out_len, in, in_len);
    if (st != IMC_OK) {
        imc_wipe(out, IMC_MAX_HANDLE_BYTES);
        *out_len = 0;
    }
    return st;
}

bool imc_dir_handle_valid(const uint8_t *h, size_t len)
{
    uint8_t norm[IMC_MAX_HANDLE_BYTES];
    size_t norm_len = 0;
    if (h == NULL || imc_dir_handle_normalise(norm, &norm_len, h, len) != IMC_OK)
        return false;
    return norm_len == len && memcmp(norm, h, len) == 0;
}
