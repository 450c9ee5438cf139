/* RFC 6979 section 3.2 for qlen = hlen = 256 (see rfc6979.h). */
#include <string.h>

#include "backend/policy.h"
#include "backend/rfc6979.h"
#include "imcore/util.h"

#define B32 32

/* P-256 group order n, big-endian. */
static const uint8_t P256_N[B32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* bits2octets(h): h mod n. h < 2^256 < 2n, so one conditional subtraction;
 * h is public (a message digest), so no constant-time care is needed. */
static void reduce_mod_n(uint8_t out[B32], const uint8_t h[B32])
{
    memcpy(out, h, B32);
    if (memcmp(h, P256_N, B32) < 0)
        return;
    unsigned borrow = 0;
    for (int i = B32 - 1; i >= 0; i--) {
        unsigned d = (unsigned)h[i] - P256_N[i] - borrow;
        out[i] = (uint8_t)d;
        borrow = (d >> 8) & 1;
    }
}

/* out = HMAC(key, msg) through a temporary, so that out may be key or msg
 * whatever the backend's HMAC allows. */
static imc_status mac(imc_rfc6979_hmac_fn hmac, uint8_t out[B32], const uint8_t key[B32],
                      const uint8_t *msg, size_t msg_len)
{
    uint8_t t[B32];
    imc_status st = hmac(t, key, B32, msg, msg_len);
    if (st == IMC_OK)
        memcpy(out, t, B32);
    imc_wipe(t, sizeof t);
    return st;
}

imc_status imc_rfc6979_p256_k(uint8_t k[IMC_P256_SECRET_BYTES],
                              const uint8_t sk[IMC_P256_SECRET_BYTES],
                              const uint8_t h[IMC_SHA256_BYTES], imc_rfc6979_hmac_fn hmac)
{
    uint8_t K[B32], V[B32];
    /* V || sep || int2octets(x) || bits2octets(h1) */
    uint8_t buf[B32 + 1 + B32 + B32];
    imc_status st = IMC_OK;

    memset(V, 0x01, sizeof V);
    memset(K, 0x00, sizeof K);
    memcpy(buf + B32 + 1, sk, B32);
    reduce_mod_n(buf + B32 + 1 + B32, h);
    /* Steps d-g: two rounds, separator 0x00 then 0x01. */
    for (uint8_t sep = 0; sep < 2 && st == IMC_OK; sep++) {
        memcpy(buf, V, B32);
        buf[B32] = sep;
        st = mac(hmac, K, K, buf, sizeof buf);
        if (st == IMC_OK)
            st = mac(hmac, V, K, V, B32);
    }
    /* Step h: candidates until one is in [1, n-1] (for P-256 the first,
     * except with probability about 2^-32). */
    for (;;) {
        if (st == IMC_OK)
            st = mac(hmac, V, K, V, B32);
        if (st != IMC_OK)
            break;
        memcpy(k, V, B32);
        if (imc_policy_p256_scalar_ok(k))
            break;
        memcpy(buf, V, B32);
        buf[B32] = 0x00;
        st = mac(hmac, K, K, buf, B32 + 1);
        if (st == IMC_OK)
            st = mac(hmac, V, K, V, B32);
    }
    imc_wipe(K, sizeof K);
    imc_wipe(V, sizeof V);
    imc_wipe(buf, sizeof buf);
    if (st != IMC_OK)
        imc_wipe(k, IMC_P256_SECRET_BYTES);
    return st;
}
