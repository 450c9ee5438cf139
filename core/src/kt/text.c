/* Line-oriented text (notes, checkpoints, vkeys) read through the cursor:
 * lines, decimal numbers and key names under the strict rules of
 * docs/transparency.md. */
#include "kt/kt_impl.h"

const uint8_t *imc_kt_read_line(imc_reader *r, size_t *len)
{
    *len = 0;
    size_t start = r->off;
    for (;;) {
        uint8_t c = imc_wire_read_u8(r);
        if (r->err)
            return NULL;
        if (c == '\n')
            break;
    }
    size_t n = 0;
    const uint8_t *line = imc_wire_reader_since(r, start, &n);
    if (line == NULL)
        return NULL;
    *len = n - 1;
    return line;
}

imc_status imc_kt_parse_dec(uint64_t *v, const uint8_t *p, size_t len)
{
    *v = 0;
    if (len == 0 || len > 19 || (len > 1 && p[0] == '0'))
        return IMC_ERR_MALFORMED;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return IMC_ERR_MALFORMED;
        x = x * 10 + (uint64_t)(p[i] - '0'); /* 19 digits cannot overflow */
    }
    if (x >= IMC_KT_MAX_SIZE)
        return IMC_ERR_MALFORMED;
    *v = x;
    return IMC_OK;
}

size_t imc_kt_put_dec(char out[20], uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

int imc_kt_name_ok(const uint8_t *p, size_t len)
{
    if (p == NULL || len == 0 || len > IMC_KT_MAX_NAME)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '+')
            return 0;
    return 1;
}
