/* Safety numbers: a code two people compare to check that each sees the
 * other's real account key (docs/directory.md, "Safety numbers").
 *
 * The two (handle, account key) pairs are put in a fixed order (the pair
 * with the smaller key first, so both sides compute the same input), hashed
 * with SHA-256 under a label, and the first 30 bytes of the hash become six
 * groups of five decimal digits: each group is a 5-byte big-endian integer
 * modulo 100000 (about 99.7 bits in all). */
#include <string.h>

#include "dir/dir_impl.h"
#include "imcore/util.h"

#define SAFETY_LABEL "imcore/v2/safety-number"
#define SAFETY_GROUPS 6

static void put_party(imc_writer *w, const uint8_t *h, size_t h_len, const uint8_t *pk)
{
    imc_dir_put_handle(w, h, h_len);
    imc_wire_write_bytes(w, pk, IMC_DIR_ACCOUNT_PUBLIC_BYTES);
}

imc_status imc_dir_safety_number(char out[IMC_DIR_SAFETY_NUMBER_CHARS + 1], const imc_backend *b,
                                 const uint8_t *handle_a, size_t handle_a_len,
                                 const uint8_t pk_a[IMC_DIR_ACCOUNT_PUBLIC_BYTES],
                                 const uint8_t *handle_b, size_t handle_b_len,
                                 const uint8_t pk_b[IMC_DIR_ACCOUNT_PUBLIC_BYTES])
{
    if (out == NULL)
        return IMC_ERR_ARG;
    memset(out, 0, IMC_DIR_SAFETY_NUMBER_CHARS + 1);
    if (b == NULL || pk_a == NULL || pk_b == NULL)
        return IMC_ERR_ARG;
    if (!imc_dir_handle_valid(handle_a, handle_a_len) ||
        !imc_dir_handle_valid(handle_b, handle_b_len))
        return IMC_ERR_MALFORMED;
    uint8_t input[sizeof SAFETY_LABEL - 1 + 2 * (1 + IMC_MAX_HANDLE_BYTES + 32)];
    imc_writer w;
    size_t len = 0;
    imc_wire_writer_init(&w, input, sizeof input);
    imc_wire_write_bytes(&w, (const uint8_t *)SAFETY_LABEL, sizeof SAFETY_LABEL - 1);
    int order = memcmp(pk_a, pk_b, IMC_DIR_ACCOUNT_PUBLIC_BYTES);
    if (order == 0) /* one account key for both: order by handle */
        order = handle_a_len != handle_b_len ? (handle_a_len < handle_b_len ? -1 : 1)
                                             : memcmp(handle_a, handle_b, handle_a_len);
    if (order <= 0) {
        put_party(&w, handle_a, handle_a_len, pk_a);
        put_party(&w, handle_b, handle_b_len, pk_b);
    } else {
        put_party(&w, handle_b, handle_b_len, pk_b);
        put_party(&w, handle_a, handle_a_len, pk_a);
    }
    uint8_t h[IMC_SHA256_BYTES];
    imc_status st = imc_wire_writer_finish(&w, &len);
    if (st == IMC_OK)
        st = imc_crypto_sha256(b, h, input, len);
    if (st != IMC_OK)
        return st;
    char *p = out;
    for (size_t g = 0; g < SAFETY_GROUPS; g++) {
        uint64_t v = 0;
        for (size_t i = 0; i < 5; i++)
            v = (v << 8) | h[5 * g + i];
        v %= 100000u;
        if (g > 0)
            *p++ = ' ';
        for (int i = 4; i >= 0; i--) {
            p[i] = (char)('0' + v % 10);
            v /= 10;
        }
        p += 5;
    }
    *p = '\0';
    return IMC_OK;
}
