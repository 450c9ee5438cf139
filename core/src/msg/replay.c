/* The bounded replay cache (imcore/msg.h, docs/wire-format.md "Replay").
 *
 * IMC_REPLAY_SLOTS / IMC_REPLAY_WAYS buckets of IMC_REPLAY_WAYS slots; a
 * message id lives in the bucket given by its first four bytes (big-endian)
 * modulo the bucket count. A full bucket evicts its lowest timestamp, which
 * raises the floor as little as possible, and the evicted timestamp becomes
 * the floor if higher: since nothing at or below the floor is accepted, an
 * id the cache has forgotten can never be accepted again. Timestamps too far
 * ahead of the device's clock are refused, or one sender with a fast clock
 * could push the floor past everyone else's messages. */
#include <string.h>

#include "msg/msg_impl.h"

#define BUCKETS (IMC_REPLAY_SLOTS / IMC_REPLAY_WAYS)

#if IMC_REPLAY_SLOTS % IMC_REPLAY_WAYS != 0 || IMC_REPLAY_WAYS > 255
#error "IMC_REPLAY_SLOTS must be a multiple of IMC_REPLAY_WAYS"
#endif

static size_t bucket_of(const uint8_t id[IMC_MSG_ID_BYTES])
{
    uint32_t v = ((uint32_t)id[0] << 24) | ((uint32_t)id[1] << 16) | ((uint32_t)id[2] << 8) |
                 (uint32_t)id[3];
    return (size_t)(v % BUCKETS);
}

void imc_replay_init(imc_replay_cache *c)
{
    if (c != NULL)
        memset(c, 0, sizeof *c);
}

imc_status imc_replay_check(const imc_replay_cache *c, const uint8_t id[IMC_MSG_ID_BYTES],
                            uint64_t ts, uint64_t now_ms)
{
    if (ts > now_ms && ts - now_ms > IMC_MAX_CLOCK_SKEW_MS)
        return IMC_ERR_STALE;
    if (ts <= c->floor_ms_)
        return IMC_ERR_REPLAY;
    size_t b = bucket_of(id);
    for (size_t i = 0; i < c->fill_[b]; i++)
        if (memcmp(c->slot_[b * IMC_REPLAY_WAYS + i].id, id, IMC_MSG_ID_BYTES) == 0)
            return IMC_ERR_REPLAY;
    return IMC_OK;
}

void imc_replay_insert(imc_replay_cache *c, const uint8_t id[IMC_MSG_ID_BYTES], uint64_t ts)
{
    size_t b = bucket_of(id);
    size_t way;
    if (c->fill_[b] < IMC_REPLAY_WAYS) {
        way = c->fill_[b]++;
    } else {
        way = 0;
        for (size_t i = 1; i < IMC_REPLAY_WAYS; i++)
            if (c->slot_[b * IMC_REPLAY_WAYS + i].ts < c->slot_[b * IMC_REPLAY_WAYS + way].ts)
                way = i;
        uint64_t evicted = c->slot_[b * IMC_REPLAY_WAYS + way].ts;
        if (evicted > c->floor_ms_)
            c->floor_ms_ = evicted;
    }
    memcpy(c->slot_[b * IMC_REPLAY_WAYS + way].id, id, IMC_MSG_ID_BYTES);
    c->slot_[b * IMC_REPLAY_WAYS + way].ts = ts;
}
