/* fuzz_replay: a replay state (imcore/replay.h) under a sequence of
 * operations decoded from the input, judged by the model of docs/replay.md
 * in replay_model.h (P1: no sender's fresh message is refused because of
 * another sender; P2: nothing accepted is accepted again, across reopens
 * and evictions; the time rule and the sender cap exactly).
 *
 * A small state: 4 senders, a window of 4, a maximum age of 60 s and a
 * clock skew of 5 s; five sender identities (two share a handle, two share
 * a device id), so the table overflows. Message ids come from one byte of
 * the input, so senders reuse their own ids and each other's.
 *
 * Input: byte 0 bit 0 chooses the state: memory only (0) or an LMDB file
 * (1, in a directory under $TMPDIR or /dev/shm, recreated per input). Then
 * operations, one byte each (low 3 bits) with operands:
 *   0-3  message  [sender, id, dt_hi, dt_lo]: timestamp = now + dt * 10 ms
 *                 (dt a signed 16-bit value), check then accept (they must
 *                 agree)
 *   4    clock    [d_hi, d_lo]: now += d * 10 ms
 *   5    reopen   close and open the state again (LMDB; a no-op in memory)
 *   6    replay   [k]: accepted message k again (modulo their count)
 *   7    jump     [d]: now += d seconds
 * With bit 7 set (LMDB state), a message or a reopen first reads a byte f
 * that arms a fault: LMDB call f % 16 + 1 of the accept (or of the open)
 * fails with EIO, ENOMEM, MDB_MAP_FULL or MDB_CORRUPTED (f / 16 % 4;
 * fuzz_fault.c). A faulted accept is either the model's verdict (the
 * state recovered: a full map is grown) or IMC_ERR_IO / NOMEM / MALFORMED
 * with nothing recorded (check gives what it gave before); a faulted open
 * fails that way or opens, and the next open finds the state as it was.
 * After the last operation every accepted message is replayed once more. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <lmdb.h>

#include "fuzz_common.h"
#include "replay_model.h"

#define SENDERS 5
#define T0 UINT64_C(1700000000000)

static const imc_replay_config CFG = {60000, 5000, 4, 4};
static const char *const HANDLES[SENDERS] = {"a@x", "a@x", "b@x", "c@x", "d@x"};
static const uint64_t DEVICES[SENDERS] = {1, 2, 1, 1, 7};

static rm_model model;
static char dir[512];
static char path[600], lock_path[620];

static imc_replay_msg msg_of(unsigned s, const uint8_t *id, uint64_t ts)
{
    imc_replay_msg m = {(const uint8_t *)HANDLES[s], strlen(HANDLES[s]), DEVICES[s], id, ts};
    return m;
}

static imc_status try_open(imc_replay **r, bool lmdb)
{
    imc_rng rng;
    fuzz_rng(&rng, UINT64_C(0x4e9a7001));
    *r = NULL;
    return imc_replay_open(r, lmdb ? dir : NULL, &CFG, NULL, &rng);
}

static imc_replay *open_state(bool lmdb)
{
    imc_replay *r = NULL;
    imc_status st = try_open(&r, lmdb);
    FUZZ_CHECK(st == IMC_OK, "open: %s", imc_status_str(st));
    return r;
}

/* Arms an LMDB fault from byte f (layout above). */
static void arm_fault(uint8_t f)
{
    static const int rcs[4] = {EIO, ENOMEM, MDB_MAP_FULL, MDB_CORRUPTED};
    fuzz_mdb_fail(f % 16 + 1u, rcs[f / 16 % 4]);
}

static bool fault_status(imc_status st)
{
    return st == IMC_ERR_IO || st == IMC_ERR_NOMEM || st == IMC_ERR_MALFORMED;
}

static void judge(unsigned s, const uint8_t *id, uint64_t ts, uint64_t now, imc_status st)
{
    const char *why = rm_judge(&model, s, id, ts, now, st);
    FUZZ_CHECK(why == NULL, "%s", why);
    fuzz_count(st == IMC_OK              ? "replay.accepted"
               : st == IMC_ERR_REPLAY    ? "replay.replay"
               : st == IMC_ERR_LIMIT     ? "replay.limit"
               : st == IMC_ERR_EXPIRED   ? "replay.expired"
                                         : "replay.stale");
}

static void cleanup(void)
{
    unlink(path);
    unlink(lock_path);
    rmdir(dir);
    rm_free(&model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        if (base == NULL)
            base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof dir, "%s/imcore-fuzz-replay-XXXXXX", base);
        FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
        snprintf(path, sizeof path, "%s/%s", dir, IMC_REPLAY_FILE);
        snprintf(lock_path, sizeof lock_path, "%s-lock", path);
        atexit(cleanup);
    }
    fuzz_input in = {data, size};
    bool lmdb = (fuzz_u8(&in) & 1) != 0;
    unlink(path);
    unlink(lock_path);
    rm_free(&model);
    rm_init(&model, &CFG);
    imc_replay *r = open_state(lmdb);
    uint64_t now = T0;
    while (in.n > 0) {
        uint8_t byte = fuzz_u8(&in), op = byte & 7;
        bool fault = lmdb && (byte & 0x80) && (op < 4 || op == 5);
        uint8_t f = fault ? fuzz_u8(&in) : 0;
        if (op < 4) {
            unsigned s = fuzz_u8(&in) % SENDERS;
            uint8_t id[IMC_MSG_ID_BYTES] = {0};
            id[0] = fuzz_u8(&in);
            int16_t dt = (int16_t)fuzz_u16(&in);
            uint64_t ts = now + (uint64_t)((int64_t)dt * 10);
            imc_replay_msg m = msg_of(s, id, ts);
            imc_status c = imc_replay_check(r, &m, now);
            if (fault)
                arm_fault(f);
            imc_status a = imc_replay_accept(r, &m, now);
            if (fault && fuzz_mdb_fired() && fault_status(a)) {
                imc_status again = imc_replay_check(r, &m, now);
                FUZZ_CHECK(again == c, "an accept that failed (%s) changed check's %s to %s",
                           imc_status_str(a), imc_status_str(c), imc_status_str(again));
                fuzz_count("replay.fault-refused");
                continue;
            }
            FUZZ_CHECK(c == a, "check said %s, accept %s", imc_status_str(c), imc_status_str(a));
            judge(s, id, ts, now, a);
        } else if (op == 4) {
            now += (uint64_t)fuzz_u16(&in) * 10;
        } else if (op == 5) {
            if (lmdb) {
                imc_replay_close(r);
                if (fault) {
                    arm_fault(f);
                    imc_status st = try_open(&r, true);
                    bool fired = fuzz_mdb_fired();
                    FUZZ_CHECK(st == IMC_OK || (fired && fault_status(st)),
                               "open with an LMDB fault (%s): %s", fired ? "fired" : "not fired",
                               imc_status_str(st));
                    if (st == IMC_OK) {
                        fuzz_count("replay.fault-opened");
                        continue;
                    }
                    FUZZ_CHECK(r == NULL, "a failed open returned a state");
                    fuzz_count("replay.fault-open-refused");
                }
                r = open_state(true);
                fuzz_count("replay.reopen");
            }
        } else if (op == 6) {
            uint8_t k = fuzz_u8(&in);
            size_t total = 0;
            for (unsigned s = 0; s < SENDERS; s++)
                total += model.n[s];
            if (total == 0)
                continue;
            size_t pick = k % total;
            unsigned s = 0;
            while (pick >= model.n[s])
                pick -= model.n[s++];
            rm_msg old = model.acc[s][pick];
            imc_replay_msg m = msg_of(s, old.id, old.ts);
            judge(s, old.id, old.ts, now, imc_replay_accept(r, &m, now));
        } else {
            now += (uint64_t)fuzz_u8(&in) * 1000;
        }
    }
    /* P2 at the end: nothing accepted goes through again. */
    for (unsigned s = 0; s < SENDERS; s++)
        for (size_t k = 0; k < model.n[s]; k++) {
            imc_replay_msg m = msg_of(s, model.acc[s][k].id, model.acc[s][k].ts);
            imc_status st = imc_replay_accept(r, &m, now);
            FUZZ_CHECK(st != IMC_OK, "sender %u's message %zu accepted twice", s, k);
        }
    imc_replay_close(r);
    return 0;
}
