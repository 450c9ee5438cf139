/* Log-linear latency histograms, HDR-style: exact below 128 ns, then 64
 * sub-buckets per power of two (relative error at most 1/64, about 1.6 %).
 * Fixed size (about 30 KB), so per-thread histograms merge by adding
 * counts. scripts/merge-results implements the same bucket scheme. */
#include <string.h>

#include "scale.h"

void scale_hist_init(scale_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

size_t scale_hist_index(uint64_t v)
{
    if (v < 128)
        return (size_t)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
    unsigned shift = e - SCALE_HIST_SUB_BITS;        /* >= 1 */
    uint64_t mant = v >> shift;                      /* 64..127 */
    return 128 + (size_t)(shift - 1) * 64 + (size_t)(mant - 64);
}

uint64_t scale_hist_bucket_high(size_t idx)
{
    if (idx < 128)
        return idx;
    unsigned shift = (unsigned)((idx - 128) / 64) + 1;
    uint64_t mant = (uint64_t)((idx - 128) % 64) + 64;
    if (mant == 127 && shift == 57)
        return UINT64_MAX;
    return ((mant + 1) << shift) - 1;
}

void scale_hist_add(scale_hist *h, uint64_t v)
{
    h->bucket[scale_hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void scale_hist_merge(scale_hist *into, const scale_hist *from)
{
    for (size_t i = 0; i < SCALE_HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t scale_hist_quantile(const scale_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    /* rank = ceil(q * count), in 1..count; computed in integers from a
     * quantile given in parts per million, as merge-results does. */
    uint64_t ppm = (uint64_t)(q * 1e6 + 0.5);
    uint64_t rank = ppm * (h->count / 1000000) + (ppm * (h->count % 1000000) + 999999) / 1000000;
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < SCALE_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t hi = scale_hist_bucket_high(i);
            return hi < h->max ? hi : h->max;
        }
    }
    return h->max;
}
