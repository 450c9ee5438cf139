/* A model of docs/replay.md, used by test_replay.c and fuzz/fuzz_replay.c:
 * it remembers every message a replay state accepted and judges each
 * status the state returns.
 *
 *   STALE, EXPIRED  exactly the time rule;
 *   LIMIT           exactly when the sender has no accepted message younger
 *                   than the maximum age and max_senders other senders do
 *                   (the table is full of senders that cannot be reclaimed);
 *   REPLAY          required if this sender's message (id and timestamp)
 *                   was accepted before (P2); otherwise allowed only if the
 *                   same sender used the id before (with another timestamp:
 *                   a sender that re-signs an id), or at least window + 1
 *                   messages of THE SAME sender with timestamps at or above
 *                   this one were accepted (the floor rule, P3: the window
 *                   and the message it forgot), so nothing another sender
 *                   did can cause it (P1);
 *   OK              otherwise; recorded.
 *
 * The clock passed to rm_judge must not go backwards. Senders are small
 * integers; the caller maps them to (handle, device) identities. */
#ifndef IMCORE_REPLAY_MODEL_H
#define IMCORE_REPLAY_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imcore/msg.h"
#include "imcore/replay.h"

#define RM_MAX_SENDERS 64

typedef struct rm_msg {
    uint8_t id[IMC_MSG_ID_BYTES];
    uint64_t ts;
} rm_msg;

typedef struct rm_model {
    imc_replay_config cfg; /* resolved: no zero fields */
    rm_msg *acc[RM_MAX_SENDERS];
    size_t n[RM_MAX_SENDERS], cap[RM_MAX_SENDERS];
    uint64_t accepted, refused;
    char why[200];
} rm_model;

static inline void rm_init(rm_model *m, const imc_replay_config *cfg)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    if (m->cfg.max_age_ms == 0)
        m->cfg.max_age_ms = IMC_MAX_MESSAGE_AGE_MS;
    if (m->cfg.max_skew_ms == 0)
        m->cfg.max_skew_ms = IMC_MAX_CLOCK_SKEW_MS;
    if (m->cfg.max_senders == 0)
        m->cfg.max_senders = IMC_REPLAY_MAX_SENDERS;
    if (m->cfg.window == 0)
        m->cfg.window = IMC_REPLAY_WINDOW;
}

static inline void rm_free(rm_model *m)
{
    for (size_t s = 0; s < RM_MAX_SENDERS; s++)
        free(m->acc[s]);
    memset(m, 0, sizeof *m);
}

static inline uint64_t rm_line(const rm_model *m, uint64_t now)
{
    return now > m->cfg.max_age_ms ? now - m->cfg.max_age_ms : 0;
}

/* Did sender s have id accepted (with timestamp ts; any if exact is false)? */
static inline bool rm_seen(const rm_model *m, unsigned s, const uint8_t id[IMC_MSG_ID_BYTES],
                           uint64_t ts, bool exact)
{
    for (size_t i = 0; i < m->n[s]; i++)
        if (memcmp(m->acc[s][i].id, id, IMC_MSG_ID_BYTES) == 0 && (!exact || m->acc[s][i].ts == ts))
            return true;
    return false;
}

/* Messages of sender s accepted with a timestamp at or above ts. */
static inline size_t rm_at_or_above(const rm_model *m, unsigned s, uint64_t ts)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n[s]; i++)
        k += m->acc[s][i].ts >= ts;
    return k;
}

/* Has sender s an accepted message not older than the maximum age? */
static inline bool rm_live(const rm_model *m, unsigned s, uint64_t now)
{
    return m->n[s] != 0 && rm_at_or_above(m, s, rm_line(m, now)) != 0;
}

/* NULL if st is what the rules allow for (s, id, ts) at now (and then an
 * OK is recorded), else why not (in m->why). */
static inline const char *rm_judge(rm_model *m, unsigned s, const uint8_t id[IMC_MSG_ID_BYTES],
                                   uint64_t ts, uint64_t now, imc_status st)
{
    imc_status want_time = IMC_OK;
    if (ts > now && ts - now > m->cfg.max_skew_ms)
        want_time = IMC_ERR_STALE;
    else if (ts < rm_line(m, now))
        want_time = IMC_ERR_EXPIRED;
    size_t live = 0;
    for (unsigned k = 0; k < RM_MAX_SENDERS; k++)
        live += rm_live(m, k, now);
    bool limit = !rm_live(m, s, now) && live >= m->cfg.max_senders;
    bool seen = rm_seen(m, s, id, ts, true);
    bool floor_ok = rm_at_or_above(m, s, ts) > m->cfg.window || ts == 0 ||
                    rm_seen(m, s, id, ts, false);
    const char *bad = NULL;
    if (want_time != IMC_OK) {
        if (st != want_time)
            bad = "the time rule decides";
    } else if (st == IMC_ERR_LIMIT) {
        if (!limit)
            bad = "LIMIT while the sender is live or the table has room";
    } else if (limit && !seen) {
        bad = "a new sender accepted into a table full of live senders";
    } else if (seen) {
        if (st != IMC_ERR_REPLAY)
            bad = "an accepted message accepted again (P2)";
    } else if (st == IMC_ERR_REPLAY) {
        if (!floor_ok)
            bad = "a fresh message refused without W + 1 newer ones of its own sender (P1/P3)";
    } else if (st != IMC_OK) {
        bad = "unexpected status";
    }
    if (bad != NULL) {
        snprintf(m->why, sizeof m->why,
                 "%s: sender %u ts %llu now %llu -> %s (seen %d, own at/above %zu, live %zu)", bad,
                 s, (unsigned long long)ts, (unsigned long long)now, imc_status_str(st),
                 (int)seen, rm_at_or_above(m, s, ts), live);
        return m->why;
    }
    if (st != IMC_OK) {
        m->refused++;
        return NULL;
    }
    if (m->n[s] == m->cap[s]) {
        size_t cap = m->cap[s] != 0 ? 2 * m->cap[s] : 16;
        rm_msg *p = realloc(m->acc[s], cap * sizeof *p);
        if (p == NULL) {
            fprintf(stderr, "replay_model: out of memory\n");
            abort();
        }
        m->acc[s] = p;
        m->cap[s] = cap;
    }
    memcpy(m->acc[s][m->n[s]].id, id, IMC_MSG_ID_BYTES);
    m->acc[s][m->n[s]++].ts = ts;
    m->accepted++;
    return NULL;
}

#endif
