/* Random sources: the backend CSPRNG, or a deterministic ChaCha20 stream.
 *
 * The deterministic generator is the ChaCha20 block function (RFC 8439
 * section 2.3) in the original 64-bit counter / 64-bit nonce layout: key =
 * seed, nonce = stream, counter = block index. It is portable C so that the
 * bytes do not depend on the backend. */
#include <string.h>

#include "imcore/crypto.h"
#include "imcore/rng.h"
#include "imcore/util.h"

static uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static void store32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d)                                                                         \
    do {                                                                                       \
        a += b; d ^= a; d = ROTL(d, 16);                                                       \
        c += d; b ^= c; b = ROTL(b, 12);                                                       \
        a += b; d ^= a; d = ROTL(d, 8);                                                        \
        c += d; b ^= c; b = ROTL(b, 7);                                                        \
    } while (0)

static void chacha20_block(uint8_t out[64], uint32_t state[16])
{
    uint32_t x[16];
    memcpy(x, state, sizeof x);
    for (int i = 0; i < 10; i++) {
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        store32_le(out + 4 * i, x[i] + state[i]);
    imc_wipe(x, sizeof x);
    /* 64-bit block counter in words 12..13. */
    if (++state[12] == 0)
        state[13]++;
}

void imc_rng_init_deterministic(imc_rng *rng, const uint8_t seed[IMC_RNG_SEED_BYTES],
                                uint64_t stream)
{
    static const uint8_t sigma[16] = "expand 32-byte k";
    for (int i = 0; i < 4; i++)
        rng->state_[i] = load32_le(sigma + 4 * i);
    for (int i = 0; i < 8; i++)
        rng->state_[4 + i] = load32_le(seed + 4 * i);
    rng->state_[12] = 0;
    rng->state_[13] = 0;
    rng->state_[14] = (uint32_t)stream;
    rng->state_[15] = (uint32_t)(stream >> 32);
    rng->used_ = 64;
}

imc_status imc_rng_fill(imc_rng *rng, const imc_backend *b, uint8_t *out, size_t len)
{
    if (out == NULL && len != 0)
        return IMC_ERR_ARG;
    if (rng == NULL) {
        if (b == NULL)
            return IMC_ERR_ARG;
        return imc_crypto_random(b, out, len);
    }
    while (len > 0) {
        if (rng->used_ >= 64) {
            chacha20_block(rng->block_, rng->state_);
            rng->used_ = 0;
        }
        size_t n = 64 - rng->used_;
        if (n > len)
            n = len;
        memcpy(out, rng->block_ + rng->used_, n);
        /* Bytes handed out are not kept. */
        imc_wipe(rng->block_ + rng->used_, n);
        rng->used_ += (uint32_t)n;
        out += n;
        len -= n;
    }
    return IMC_OK;
}

void imc_rng_wipe(imc_rng *rng)
{
    if (rng != NULL)
        imc_wipe(rng, sizeof *rng);
}
