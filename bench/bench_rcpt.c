/* What carrying the signed recipient set costs one device, the two designs
 * side by side (docs/wire-format.md, "Why the whole set"):
 *
 *   rcpt-set/list/N     the design in use: the delivery carries the n ids;
 *                       the device hashes them (one SHA-256 over
 *                       "imcore/v2/recipients" || n || ids) and finds its
 *                       own id at its index;
 *   rcpt-set/merkle/N   the alternative: the delivery carries its leaf's
 *                       RFC 9162 audit path; the device hashes its leaf and
 *                       ceil(log2 N) nodes up to the root.
 *
 * Each reports the bytes the design adds to one delivery as a counter, so
 * the report shows bytes and time per delivery at each fan-out. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "benches.h"
#include "imc_bench.h"
#include "imcore/crypto.h"
#include "imcore/limits.h"

#define RCPT_LABEL "imcore/v2/recipients"
#define RCPT_LABEL_LEN (sizeof(RCPT_LABEL) - 1)

typedef struct rcpt_arg {
    const imc_backend *b;
    size_t n;
} rcpt_arg;

static size_t ceil_log2(size_t n)
{
    size_t k = 0;
    while (((size_t)1 << k) < n)
        k++;
    return k;
}

static void bm_list(imc_bench_state *st, void *argp)
{
    const rcpt_arg *a = argp;
    static uint8_t in[RCPT_LABEL_LEN + 2 + 8 * IMC_MAX_RECIPIENTS];
    size_t len = RCPT_LABEL_LEN + 2 + 8 * a->n;
    memcpy(in, RCPT_LABEL, RCPT_LABEL_LEN);
    in[RCPT_LABEL_LEN] = (uint8_t)(a->n >> 8);
    in[RCPT_LABEL_LEN + 1] = (uint8_t)a->n;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < 8; j++)
            in[RCPT_LABEL_LEN + 2 + 8 * i + j] = (uint8_t)((i + 1) >> (8 * (7 - j)));
    size_t index = a->n / 2;
    uint8_t h[IMC_SHA256_BYTES];
    while (imc_bench_keep_running(st)) {
        if (imc_crypto_sha256(a->b, h, in, len) != IMC_OK) {
            imc_bench_skip(st, "sha256 failed");
            break;
        }
        /* The device reads its own id at its index. */
        uint8_t own = in[RCPT_LABEL_LEN + 2 + 8 * index + 7];
        imc_bench_do_not_optimize(&own);
        imc_bench_do_not_optimize(h);
    }
    /* count (2) + ids (8n); the index (2) is carried by both designs. */
    imc_bench_counter(st, "bytes_per_delivery", (double)(2 + 8 * a->n), 0);
}

static void bm_merkle(imc_bench_state *st, void *argp)
{
    const rcpt_arg *a = argp;
    size_t depth = ceil_log2(a->n);
    uint8_t leaf[1 + 8] = {0x00, 0, 0, 0, 0, 0, 0, 0, 1};
    uint8_t node[1 + 2 * IMC_SHA256_BYTES];
    memset(node, 0x5a, sizeof node);
    node[0] = 0x01;
    uint8_t h[IMC_SHA256_BYTES];
    while (imc_bench_keep_running(st)) {
        imc_status rc = imc_crypto_sha256(a->b, h, leaf, sizeof leaf);
        for (size_t i = 0; i < depth && rc == IMC_OK; i++) {
            memcpy(node + 1, h, IMC_SHA256_BYTES);
            rc = imc_crypto_sha256(a->b, h, node, sizeof node);
        }
        if (rc != IMC_OK) {
            imc_bench_skip(st, "sha256 failed");
            break;
        }
        imc_bench_do_not_optimize(h);
    }
    /* count (2) + own id (8) + audit path (32 per level); the root travels
     * in the signed header instead of the set hash. */
    imc_bench_counter(st, "bytes_per_delivery", (double)(2 + 8 + 32 * depth), 0);
}

void imc_bench_register_rcpt(void)
{
    /* The first backend of the build: SHA-256 costs about the same on all. */
    const imc_backend *b = imc_backend_get(imc_backend_list(NULL)[0]);
    static const size_t ns[] = {1, 8, 128, 1024};
    char name[64];
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        rcpt_arg a = {b, ns[i]};
        snprintf(name, sizeof name, "rcpt-set/list/%zu", ns[i]);
        imc_bench_register_copy(name, bm_list, &a, sizeof a);
        snprintf(name, sizeof name, "rcpt-set/merkle/%zu", ns[i]);
        imc_bench_register_copy(name, bm_merkle, &a, sizeof a);
    }
}
