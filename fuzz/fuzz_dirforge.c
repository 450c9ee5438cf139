/* Directory messages mutated and re-signed (fuzz_dirforge.h). The writers
 * here follow docs/directory-format.md on their own; only the parsers are
 * the library's (what is being fuzzed decides what a mutant starts from,
 * not what it becomes). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_dirforge.h"
#include "imcore/dir.h"
#include "imcore/util.h"
#include "imcore/wire.h"

#define H FUZZ_DIR_HANDLES
#define G FUZZ_DIR_GENS
#define MAX_ENTRIES 8

typedef fuzz_prng prng;

static uint32_t next(prng *r) { return fuzz_prng_next(r); }

/* ---- The fixed keys ------------------------------------------------------ */

static bool ready;
static uint8_t dir_pk[32], dir_sk[32];
static uint8_t acct_pk[H][G][32], acct_sk[H][G][32];

static void keys(void)
{
    if (ready)
        return;
    fuzz_dir_key(dir_pk, dir_sk);
    for (unsigned h = 0; h < H; h++)
        for (unsigned g = 0; g < G; g++)
            fuzz_dir_account(h, g, acct_pk[h][g], acct_sk[h][g]);
    ready = true;
}

/* Which fixed account key pk is: handle and generation. */
static bool find_account(const uint8_t pk[32], unsigned *h, unsigned *g)
{
    for (unsigned i = 0; i < H; i++)
        for (unsigned j = 0; j < G; j++)
            if (memcmp(acct_pk[i][j], pk, 32) == 0) {
                *h = i;
                *g = j;
                return true;
            }
    return false;
}

/* The fixed device whose public keys d carries, or NULL. */
static const imc_device_keys *find_device(const imc_device_public *d)
{
    for (unsigned h = 0; h < H; h++)
        for (unsigned s = 0; s < FUZZ_DIR_SLOTS; s++)
            for (unsigned g = 0; g < G; g++) {
                const imc_device_keys *k = fuzz_dir_device(h, s, g);
                if (k->pub.device_id == d->device_id && k->pub.suite == d->suite &&
                    memcmp(k->pub.sig_pk, d->sig_pk, sizeof d->sig_pk) == 0 &&
                    memcmp(k->pub.dh_pk, d->dh_pk, sizeof d->dh_pk) == 0)
                    return k;
            }
    return NULL;
}

/* The universe handle a record names (0 if none). */
static unsigned handle_index(const imc_dir_record *rec)
{
    for (unsigned h = 0; h < H; h++) {
        size_t hl = 0;
        const uint8_t *hb = fuzz_dir_handle(h, &hl);
        if (hl == rec->handle_len && memcmp(hb, rec->handle, hl) == 0)
            return h;
    }
    return 0;
}

static void set_handle(imc_dir_record *rec, unsigned h)
{
    size_t hl = 0;
    const uint8_t *hb = fuzz_dir_handle(h, &hl);
    memcpy(rec->handle, hb, hl);
    rec->handle_len = hl;
}

/* Ed25519(sk, label || msg), written to sig. */
static void sign(uint8_t sig[64], const char *label, const uint8_t sk[32], const uint8_t pk[32],
                 const uint8_t *msg, size_t len)
{
    static uint8_t in[64 + 32 + IMC_DIR_UPDATE_MAX_BYTES];
    size_t ll = strlen(label);
    if (ll + len > sizeof in)
        return;
    memcpy(in, label, ll);
    memcpy(in + ll, msg, len);
    imc_status st = imc_crypto_ed25519_sign(fuzz_backend_for(1), sig, sk, pk, in, ll + len);
    FUZZ_CHECK(st == IMC_OK, "signing: %s", imc_status_str(st));
}

/* ---- Writers ---------------------------------------------------------------- */

static void put_device(imc_writer *w, const imc_device_public *d)
{
    const imc_suite *s = imc_suite_get(d->suite);
    imc_wire_write_u16(w, (uint16_t)d->suite);
    imc_wire_write_u64(w, d->device_id);
    if (s == NULL) {
        w->err = true;
        return;
    }
    imc_wire_write_bytes(w, d->dh_pk, s->dh_public_bytes);
    imc_wire_write_bytes(w, d->sig_pk, s->sig_public_bytes);
}

/* How a message is signed: resign false keeps the signatures it had
 * (stale after a change), wrong_key signs with another key. */
typedef struct signing {
    bool resign;
    bool wrong_key;
} signing;

/* The device list of rec, signed by the account key it names when that is
 * a fixed one (and the rotation by the previous generation's key). */
static void put_list(imc_writer *w, imc_dir_record *rec, const signing *sg)
{
    size_t start = w->len;
    imc_wire_write_u8(w, IMC_DIR_VERSION);
    imc_wire_write_u8(w, IMC_DIR_KIND_LIST);
    imc_wire_write_u8(w, (uint8_t)rec->handle_len);
    imc_wire_write_bytes(w, rec->handle, rec->handle_len);
    imc_wire_write_u64(w, rec->epoch);
    imc_wire_write_u8(w, rec->key_change);
    imc_wire_write_bytes(w, rec->account_pk, sizeof rec->account_pk);
    imc_wire_write_bytes(w, rec->prev_hash, sizeof rec->prev_hash);
    imc_wire_write_u8(w, (uint8_t)rec->device_count);
    for (size_t k = 0; k < rec->device_count; k++)
        put_device(w, &rec->devices[k]);
    if (w->err)
        return;
    unsigned h = 0, g = 0;
    if (sg->resign && find_account(rec->account_pk, &h, &g)) {
        unsigned sg_g = sg->wrong_key ? (g + 1) % G : g;
        sign(rec->list_sig, "imcore/v2/dir-list", acct_sk[h][sg_g], acct_pk[h][sg_g],
             w->buf + start, w->len - start);
        if (rec->key_change == IMC_DIR_KEY_ROTATED) {
            unsigned prev = (g + G - 1) % G;
            sign(rec->rotate_sig, "imcore/v2/dir-list-rotate", acct_sk[h][prev],
                 acct_pk[h][prev], w->buf + start, w->len - start);
        }
    }
    imc_wire_write_bytes(w, rec->list_sig, sizeof rec->list_sig);
    if (rec->key_change == IMC_DIR_KEY_ROTATED)
        imc_wire_write_bytes(w, rec->rotate_sig, sizeof rec->rotate_sig);
}

static void put_framed_list(imc_writer *w, imc_dir_record *rec, const signing *sg)
{
    size_t at = w->len;
    imc_wire_write_u16(w, 0);
    if (rec->epoch == 0 || w->err)
        return;
    put_list(w, rec, sg);
    size_t n = w->len - at - 2;
    if (!w->err) {
        w->buf[at] = (uint8_t)(n >> 8);
        w->buf[at + 1] = (uint8_t)n;
    }
}

/* ---- Field changes shared by both messages -------------------------------- */

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = ((const imc_device_public *)a)->device_id;
    uint64_t y = ((const imc_device_public *)b)->device_id;
    return x < y ? -1 : x > y;
}

/* Sorted by id, repeats dropped (the list rules). */
static void tidy_devices(imc_dir_record *rec)
{
    qsort(rec->devices, rec->device_count, sizeof rec->devices[0], cmp_id);
    size_t n = 0;
    for (size_t i = 0; i < rec->device_count; i++)
        if (n == 0 || rec->devices[n - 1].device_id != rec->devices[i].device_id)
            rec->devices[n++] = rec->devices[i];
    rec->device_count = n;
}

/* A fixed device of the record's handle: slot and generation from r. */
static const imc_device_public *some_device(const imc_dir_record *rec, prng *r)
{
    unsigned h = next(r) % 8 == 0 ? next(r) % H : handle_index(rec);
    return &fuzz_dir_device(h, next(r) % FUZZ_DIR_SLOTS, next(r) % G)->pub;
}

/* One change to a device list; true if it changed something. */
static bool mutate_list(imc_dir_record *rec, prng *r)
{
    unsigned h = handle_index(rec);
    switch (next(r) % 8) {
    case 0: /* drop a device */
        if (rec->device_count == 0)
            return false;
        {
            size_t k = next(r) % rec->device_count;
            memmove(&rec->devices[k], &rec->devices[k + 1],
                    (rec->device_count - k - 1) * sizeof rec->devices[0]);
            rec->device_count--;
        }
        return true;
    case 1: /* add one */
        if (rec->device_count >= IMC_MAX_DEVICES_PER_HANDLE)
            return false;
        rec->devices[rec->device_count++] = *some_device(rec, r);
        return true;
    case 2: { /* another key generation of a listed device (a rotation) */
        if (rec->device_count == 0)
            return false;
        size_t k = next(r) % rec->device_count;
        uint64_t id = rec->devices[k].device_id;
        rec->devices[k] = fuzz_dir_device((unsigned)(id >> 8) - 1, (unsigned)(id & 0xff) - 1,
                                          next(r) % G)->pub;
        rec->devices[k].device_id = id;
        return true;
    }
    case 3: /* another device id */
        if (rec->device_count == 0)
            return false;
        rec->devices[next(r) % rec->device_count].device_id =
            next(r) % 4 == 0 ? (uint64_t)next(r) << 20 | next(r) : (uint64_t)(next(r) % 4 + 1) << 8 | (next(r) % 6);
        return true;
    case 4: /* another account key, key change as the generations say */
    {
        unsigned g = next(r) % G;
        memcpy(rec->account_pk, acct_pk[next(r) % 4 == 0 ? next(r) % H : h][g], 32);
        rec->key_change = (uint8_t)(next(r) % 3);
        return true;
    }
    case 5:
        rec->key_change = (uint8_t)(next(r) % 3);
        return true;
    case 6:
        rec->prev_hash[next(r) % sizeof rec->prev_hash] ^= (uint8_t)(1u << (next(r) % 8));
        return true;
    default: /* a different key byte (not a fixed key: the old signature stays) */
        rec->devices[0].dh_pk[next(r) % 32] ^= 1;
        return rec->device_count > 0;
    }
}

/* The list rules of the format, so the mutant still parses: version 1 is a
 * new account with no previous list, later ones name one. */
static void tidy_list(imc_dir_record *rec)
{
    tidy_devices(rec);
    if (rec->epoch == 1) {
        rec->key_change = IMC_DIR_KEY_NEW;
        memset(rec->prev_hash, 0, sizeof rec->prev_hash);
    } else if (fuzz_all_zero(rec->prev_hash, sizeof rec->prev_hash)) {
        rec->prev_hash[0] = 1;
    }
}

static uint64_t epoch_step(uint64_t e, prng *r)
{
    switch (next(r) % 5) {
    case 0: return e > 0 ? e - 1 : 0;
    case 1: return e + 1;
    case 2: return e + 2 + next(r) % 8;
    case 3: return 0;
    default: return e > 1 ? e - 2 : e + 1;
    }
}

/* ---- Lookup responses ------------------------------------------------------- */

typedef struct dresp {
    size_t n;
    uint64_t global, issued;
    imc_dir_record rec[MAX_ENTRIES];
    uint8_t sig[MAX_ENTRIES][64];
} dresp;

static dresp dr;

static bool load_response(const uint8_t *data, size_t size)
{
    static imc_dir_response resp;
    static imc_dir_entry e;
    if (imc_dir_parse_response(&resp, data, size) != IMC_OK || resp.count > MAX_ENTRIES)
        return false;
    dr.n = resp.count;
    dr.global = resp.global_epoch;
    dr.issued = resp.issued_ms;
    size_t off = 0;
    for (size_t i = 0; i < resp.count; i++) {
        if (imc_dir_response_next(&e, &off, &resp) != IMC_OK)
            return false;
        dr.rec[i] = e.rec;
        memcpy(dr.sig[i], e.sig, 64);
    }
    return true;
}

/* A genuine one-entry response: an account created with one device. */
static void fresh_response(prng *r)
{
    memset(&dr, 0, sizeof dr);
    unsigned h = next(r) % H;
    imc_dir_record *rec = &dr.rec[0];
    set_handle(rec, h);
    rec->epoch = 1;
    rec->key_change = IMC_DIR_KEY_NEW;
    memcpy(rec->account_pk, acct_pk[h][0], 32);
    rec->device_count = 1;
    rec->devices[0] = fuzz_dir_device(h, next(r) % FUZZ_DIR_SLOTS, 0)->pub;
    dr.n = 1;
    dr.global = 1 + next(r) % 3;
    dr.issued = FUZZ_TS_BASE;
}

static void mutate_response(prng *r)
{
    imc_dir_record *rec = &dr.rec[next(r) % dr.n];
    switch (next(r) % 8) {
    case 0: {
        static const int64_t D[] = {-2, -1, 1, 2, 100};
        dr.global = (uint64_t)((int64_t)dr.global + D[next(r) % 5]);
        break;
    }
    case 1: {
        static const int64_t D[] = {-3600000, -60000, -1, 1, 60000, 3600000, 86400000};
        dr.issued = (uint64_t)((int64_t)dr.issued + D[next(r) % 7]);
        break;
    }
    case 2:
        rec->epoch = epoch_step(rec->epoch, r);
        if (rec->epoch != 0 && rec->device_count == 0 && next(r) % 2 == 0)
            rec->devices[rec->device_count++] = *some_device(rec, r);
        if (fuzz_all_zero(rec->account_pk, 32))
            memcpy(rec->account_pk, acct_pk[handle_index(rec)][0], 32);
        break;
    case 3: /* another handle of the universe (a handle twice: dropped below) */
        set_handle(rec, next(r) % H);
        break;
    case 4: /* one entry more: another handle's record */
        if (dr.n < MAX_ENTRIES) {
            dr.rec[dr.n] = *rec;
            set_handle(&dr.rec[dr.n], (handle_index(rec) + 1 + next(r) % (H - 1)) % H);
            dr.n++;
        }
        break;
    case 5: /* one entry less */
        if (dr.n > 1) {
            size_t k = (size_t)(rec - dr.rec);
            memmove(&dr.rec[k], &dr.rec[k + 1], (dr.n - k - 1) * sizeof dr.rec[0]);
            dr.n--;
        }
        break;
    default:
        if (rec->epoch != 0)
            (void)mutate_list(rec, r);
        break;
    }
}

/* The response rules, so the mutant still parses: distinct handles, a
 * list exactly when the epoch is not 0, no epoch above the global one. */
static void tidy_response(void)
{
    size_t n = 0;
    for (size_t i = 0; i < dr.n; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= dr.rec[k].handle_len == dr.rec[i].handle_len &&
                   memcmp(dr.rec[k].handle, dr.rec[i].handle, dr.rec[i].handle_len) == 0;
        if (dup)
            continue;
        if (n != i)
            dr.rec[n] = dr.rec[i];
        imc_dir_record *rec = &dr.rec[n++];
        if (rec->epoch == 0)
            rec->device_count = 0;
        else
            tidy_list(rec);
        if (rec->epoch > dr.global)
            dr.global = rec->epoch;
    }
    dr.n = n;
}

static size_t write_response(uint8_t *out, size_t cap, const signing *sg)
{
    imc_writer w;
    imc_wire_writer_init(&w, out, cap);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_RESPONSE);
    imc_wire_write_u16(&w, (uint16_t)dr.n);
    for (size_t i = 0; i < dr.n && !w.err; i++) {
        imc_dir_record *rec = &dr.rec[i];
        size_t start = w.len;
        imc_wire_write_u8(&w, (uint8_t)rec->handle_len);
        imc_wire_write_bytes(&w, rec->handle, rec->handle_len);
        imc_wire_write_u64(&w, rec->epoch);
        imc_wire_write_u64(&w, dr.global);
        imc_wire_write_u64(&w, dr.issued);
        put_framed_list(&w, rec, sg);
        if (w.err)
            break;
        if (sg->resign) {
            if (sg->wrong_key)
                sign(dr.sig[i], "imcore/v2/dir-entry", acct_sk[0][0], acct_pk[0][0],
                     out + start, w.len - start);
            else
                sign(dr.sig[i], "imcore/v2/dir-entry", dir_sk, dir_pk, out + start,
                     w.len - start);
        }
        imc_wire_write_bytes(&w, dr.sig[i], 64);
    }
    size_t len = 0;
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

/* Which signatures a mutant gets: mostly all re-made with the right keys. */
static signing pick_signing(prng *r)
{
    unsigned v = next(r) % 32;
    signing sg = {v != 0 && v != 1, v == 2 || v == 3};
    return sg;
}

size_t fuzz_mutate_dir_response(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                                fuzz_bytes_mutator bytes, void *bytes_ctx)
{
    keys();
    prng r = {0x9e3779b97f4a7c15ull ^ seed};
    (void)next(&r);
    if (next(&r) % 16 == 0)
        return bytes(data, size, max_size, bytes_ctx);
    if (!load_response(data, size)) {
        if (next(&r) % 4 == 0)
            return bytes(data, size, max_size, bytes_ctx);
        fresh_response(&r);
    }
    unsigned rounds = 1 + (next(&r) % 4 == 0);
    for (unsigned i = 0; i < rounds; i++)
        mutate_response(&r);
    if (next(&r) % 16 != 0)
        tidy_response();
    signing sg = pick_signing(&r);
    size_t n = write_response(data, max_size, &sg);
    return n != 0 ? n : bytes(data, size, max_size, bytes_ctx);
}

/* ---- Updates ---------------------------------------------------------------- */

typedef struct dupd {
    uint8_t op;
    imc_dir_record hrec; /* the handle (handle, handle_len only) */
    uint64_t epoch;
    imc_device_public device;
    uint64_t target_id;
    imc_dir_record list;
    size_t proofs;
    uint8_t proof[2][IMC_SIG_MAX];
    size_t proof_len[2];
} dupd;

static dupd du;

static bool load_update(const uint8_t *data, size_t size)
{
    static imc_dir_update_msg u;
    if (imc_dir_parse_update(&u, data, size) != IMC_OK)
        return false;
    memset(&du, 0, sizeof du);
    du.op = u.op;
    memcpy(du.hrec.handle, u.handle.bytes, u.handle.len);
    du.hrec.handle_len = u.handle.len;
    du.epoch = u.epoch;
    du.device = u.device;
    du.target_id = u.target_id;
    du.list = u.list;
    du.proofs = u.sig_count;
    for (size_t i = 0; i < u.sig_count && i < 2; i++) {
        memcpy(du.proof[i], u.sig[i], u.sig_len[i]);
        du.proof_len[i] = u.sig_len[i];
    }
    return true;
}

/* A genuine account creation: register slot 0 of a handle at epoch 0. */
static void fresh_update(prng *r)
{
    memset(&du, 0, sizeof du);
    unsigned h = next(r) % H;
    du.op = IMC_DIR_OP_REGISTER;
    set_handle(&du.hrec, h);
    du.device = fuzz_dir_device(h, next(r) % FUZZ_DIR_SLOTS, 0)->pub;
    du.target_id = du.device.device_id;
    du.list = du.hrec;
    du.list.epoch = 1;
    du.list.key_change = IMC_DIR_KEY_NEW;
    memcpy(du.list.account_pk, acct_pk[h][0], 32);
    du.list.device_count = 1;
    du.list.devices[0] = du.device;
    du.proofs = 1;
}

/* The device an op names follows into the list (as an honest device would
 * build it), half of the time. */
static void list_follows_device(prng *r)
{
    if (next(r) % 2)
        return;
    imc_dir_record *l = &du.list;
    long at = -1;
    for (size_t i = 0; i < l->device_count; i++)
        if (l->devices[i].device_id == du.device.device_id)
            at = (long)i;
    if (at >= 0)
        l->devices[at] = du.device;
    else if (l->device_count < IMC_MAX_DEVICES_PER_HANDLE)
        l->devices[l->device_count++] = du.device;
}

static void mutate_update(prng *r)
{
    switch (next(r) % 8) {
    case 0:
        du.epoch = epoch_step(du.epoch, r);
        break;
    case 1:
        du.op = (uint8_t)(1 + next(r) % 5);
        break;
    case 2:
        du.device = *some_device(&du.hrec, r);
        list_follows_device(r);
        break;
    case 3: {
        /* revoke: a listed device, or any fixed one */
        if (du.list.device_count > 0 && next(r) % 2)
            du.target_id = du.list.devices[next(r) % du.list.device_count].device_id;
        else
            du.target_id = some_device(&du.hrec, r)->device_id;
        break;
    }
    case 4:
        set_handle(&du.hrec, next(r) % H);
        break;
    default:
        (void)mutate_list(&du.list, r);
        break;
    }
}

/* The update rules, so the mutant still parses: the list is the handle's,
 * one version on, with the key change its op implies; the device proofs
 * its op needs. */
static void tidy_update(prng *r)
{
    memcpy(du.list.handle, du.hrec.handle, du.hrec.handle_len);
    du.list.handle_len = du.hrec.handle_len;
    du.list.epoch = du.epoch + 1;
    if (du.op == IMC_DIR_OP_ACCOUNT_ROTATE)
        du.list.key_change = IMC_DIR_KEY_ROTATED;
    else if (du.op == IMC_DIR_OP_ACCOUNT_RESET || du.epoch == 0)
        du.list.key_change = IMC_DIR_KEY_NEW;
    else if (next(r) % 4 != 0)
        du.list.key_change = IMC_DIR_KEY_SAME;
    if (du.op == IMC_DIR_OP_REGISTER || du.op == IMC_DIR_OP_ROTATE ||
        du.op == IMC_DIR_OP_ACCOUNT_RESET)
        du.target_id = du.device.device_id;
    if (du.target_id == 0)
        du.target_id = 1;
    tidy_list(&du.list);
    du.proofs = du.op == IMC_DIR_OP_ROTATE                                              ? 2
                : du.op == IMC_DIR_OP_REGISTER || du.op == IMC_DIR_OP_ACCOUNT_RESET ? 1
                                                                                     : 0;
    for (size_t i = 0; i < du.proofs; i++)
        if (du.proof_len[i] == 0)
            du.proof_len[i] = IMC_ED25519_SIGNATURE_BYTES;
}

static const char *proof_label(uint8_t op)
{
    return op == IMC_DIR_OP_ROTATE          ? "imcore/v2/dir-rotate"
           : op == IMC_DIR_OP_ACCOUNT_RESET ? "imcore/v2/dir-reset"
                                            : "imcore/v2/dir-register";
}

/* Device proof i: register and reset by the new device, rotate by the old
 * keys (another generation of the same slot) and then the new ones. */
static void sign_proof(size_t i, const uint8_t *u, size_t u_len, const signing *sg)
{
    const imc_device_keys *k = find_device(&du.device);
    if (k == NULL || !sg->resign)
        return;
    if ((du.op == IMC_DIR_OP_ROTATE && i == 0) || sg->wrong_key) {
        uint64_t id = du.device.device_id;
        unsigned g = 0;
        for (unsigned j = 0; j < G; j++)
            if (fuzz_dir_device((unsigned)(id >> 8) - 1, (unsigned)(id & 0xff) - 1, j) == k)
                g = j;
        k = fuzz_dir_device((unsigned)(id >> 8) - 1, (unsigned)(id & 0xff) - 1, (g + G - 1) % G);
    }
    static uint8_t in[32 + IMC_DIR_UPDATE_MAX_BYTES];
    memcpy(in, dir_pk, 32);
    memcpy(in + 32, u, u_len);
    sign(du.proof[i], proof_label(du.op), k->sig_sk, k->pub.sig_pk, in, 32 + u_len);
    du.proof_len[i] = IMC_ED25519_SIGNATURE_BYTES;
}

static size_t write_update(uint8_t *out, size_t cap, const signing *sg)
{
    imc_writer w;
    imc_wire_writer_init(&w, out, cap);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_UPDATE);
    imc_wire_write_u8(&w, du.op);
    imc_wire_write_u8(&w, (uint8_t)du.hrec.handle_len);
    imc_wire_write_bytes(&w, du.hrec.handle, du.hrec.handle_len);
    imc_wire_write_u64(&w, du.epoch);
    if (du.op == IMC_DIR_OP_REVOKE)
        imc_wire_write_u64(&w, du.target_id);
    else if (du.op != IMC_DIR_OP_ACCOUNT_ROTATE)
        put_device(&w, &du.device);
    put_framed_list(&w, &du.list, sg);
    if (w.err)
        return 0;
    size_t u_len = w.len;
    for (size_t i = 0; i < du.proofs; i++) {
        sign_proof(i, out, u_len, sg);
        imc_wire_write_u8(&w, (uint8_t)du.proof_len[i]);
        imc_wire_write_bytes(&w, du.proof[i], du.proof_len[i]);
    }
    size_t len = 0;
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

size_t fuzz_mutate_dir_update(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                              fuzz_bytes_mutator bytes, void *bytes_ctx)
{
    keys();
    prng r = {0x7f4a7c159e3779b9ull ^ seed};
    (void)next(&r);
    if (next(&r) % 16 == 0)
        return bytes(data, size, max_size, bytes_ctx);
    if (!load_update(data, size)) {
        if (next(&r) % 4 == 0)
            return bytes(data, size, max_size, bytes_ctx);
        fresh_update(&r);
    }
    unsigned rounds = 1 + (next(&r) % 4 == 0);
    for (unsigned i = 0; i < rounds; i++)
        mutate_update(&r);
    if (next(&r) % 16 != 0)
        tidy_update(&r);
    signing sg = pick_signing(&r);
    size_t n = write_update(data, max_size, &sg);
    return n != 0 ? n : bytes(data, size, max_size, bytes_ctx);
}

/* ---- Judging an applied update ------------------------------------------ */

/* The list's signed bytes LB (docs/directory-format.md), by the writer
 * here; its length, 0 if it does not encode. */
static size_t list_signed_bytes(uint8_t *out, size_t cap, const imc_dir_record *rec)
{
    static imc_dir_record copy;
    copy = *rec;
    imc_writer w;
    imc_wire_writer_init(&w, out, cap);
    signing keep = {false, false};
    put_list(&w, &copy, &keep);
    size_t len = 0;
    if (imc_wire_writer_finish(&w, &len) != IMC_OK)
        return 0;
    return len - IMC_ED25519_SIGNATURE_BYTES *
                     (rec->key_change == IMC_DIR_KEY_ROTATED ? 2u : 1u);
}

static bool ed25519_ok(const uint8_t sig[64], const uint8_t pk[32], const char *label,
                       const uint8_t *prefix, size_t prefix_len, const uint8_t *msg, size_t len)
{
    static uint8_t in[64 + 32 + IMC_DIR_UPDATE_MAX_BYTES];
    size_t ll = strlen(label);
    if (ll + prefix_len + len > sizeof in)
        return false;
    memcpy(in, label, ll);
    if (prefix_len != 0)
        memcpy(in + ll, prefix, prefix_len);
    memcpy(in + ll + prefix_len, msg, len);
    return imc_crypto_ed25519_verify(fuzz_backend_for(1), sig, pk, in, ll + prefix_len + len) ==
           IMC_OK;
}

static bool same_devices(const imc_device_public *a, size_t an, const imc_device_public *b,
                         size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (a[i].suite != b[i].suite || a[i].device_id != b[i].device_id ||
            memcmp(a[i].dh_pk, b[i].dh_pk, sizeof a[i].dh_pk) != 0 ||
            memcmp(a[i].sig_pk, b[i].sig_pk, sizeof a[i].sig_pk) != 0)
            return false;
    return true;
}

void fuzz_dir_judge_update(const uint8_t dir_pk_in[32], const imc_dir_record *before,
                           const imc_dir_record *after, const imc_dir_update_msg *u)
{
    static uint8_t lb[IMC_DIR_LIST_MAX_BYTES], prev[IMC_DIR_LIST_MAX_BYTES];
    static imc_dir_record want;
    const imc_dir_record *l = &u->list;
    FUZZ_CHECK(u->epoch == before->epoch && after->epoch == before->epoch + 1,
               "applied update at epoch %llu: the handle went %llu -> %llu",
               (unsigned long long)u->epoch, (unsigned long long)before->epoch,
               (unsigned long long)after->epoch);
    FUZZ_CHECK(same_devices(after->devices, after->device_count, l->devices, l->device_count) &&
                   after->key_change == l->key_change &&
                   memcmp(after->account_pk, l->account_pk, 32) == 0 &&
                   memcmp(after->prev_hash, l->prev_hash, sizeof l->prev_hash) == 0 &&
                   memcmp(after->list_sig, l->list_sig, sizeof l->list_sig) == 0,
               "the stored record is not the update's list");
    /* Chained to the list it replaces. */
    if (before->epoch != 0) {
        size_t pn = list_signed_bytes(prev, sizeof prev, before);
        FUZZ_CHECK(pn != 0, "the previous list does not encode");
        pn += IMC_ED25519_SIGNATURE_BYTES * (before->key_change == IMC_DIR_KEY_ROTATED ? 2u : 1u);
        uint8_t h[IMC_SHA256_BYTES];
        FUZZ_CHECK(imc_crypto_sha256(fuzz_backend_for(1), h, prev, pn) == IMC_OK, "sha256");
        FUZZ_CHECK(memcmp(h, l->prev_hash, sizeof h) == 0,
                   "applied list does not name the hash of the list it replaces");
    }
    /* Signed by the account key it names; the key is the held one unless
     * the op changes it (a rotation signed by the held key too). */
    size_t n = list_signed_bytes(lb, sizeof lb, l);
    FUZZ_CHECK(n != 0, "the applied list does not encode");
    FUZZ_CHECK(ed25519_ok(l->list_sig, l->account_pk, "imcore/v2/dir-list", NULL, 0, lb, n),
               "applied list is not signed by the account key it names");
    bool same_key = before->epoch != 0 && memcmp(l->account_pk, before->account_pk, 32) == 0;
    switch (u->op) {
    case IMC_DIR_OP_ACCOUNT_ROTATE:
        FUZZ_CHECK(l->key_change == IMC_DIR_KEY_ROTATED && !same_key &&
                       ed25519_ok(l->rotate_sig, before->account_pk, "imcore/v2/dir-list-rotate",
                                  NULL, 0, lb, n),
                   "account rotation applied without a rotation signature by the held key");
        break;
    case IMC_DIR_OP_ACCOUNT_RESET:
        FUZZ_CHECK(l->key_change == IMC_DIR_KEY_NEW && before->epoch != 0,
                   "account reset applied at epoch 0 or without a new key");
        break;
    default:
        FUZZ_CHECK(before->epoch == 0 ? l->key_change == IMC_DIR_KEY_NEW &&
                                            u->op == IMC_DIR_OP_REGISTER
                                      : l->key_change == IMC_DIR_KEY_SAME && same_key,
                   "op %u applied with another account key than the held one", u->op);
        break;
    }
    /* Exactly the op's change to the devices. */
    want = *before;
    long at = -1;
    for (size_t i = 0; i < want.device_count; i++)
        if (want.devices[i].device_id == u->target_id)
            at = (long)i;
    switch (u->op) {
    case IMC_DIR_OP_REGISTER:
        FUZZ_CHECK(at < 0 && want.device_count < IMC_MAX_DEVICES_PER_HANDLE,
                   "register applied for a listed device");
        want.devices[want.device_count++] = u->device;
        tidy_devices(&want);
        break;
    case IMC_DIR_OP_ROTATE:
        FUZZ_CHECK(at >= 0, "rotate applied to a device not listed");
        want.devices[at] = u->device;
        break;
    case IMC_DIR_OP_REVOKE:
        FUZZ_CHECK(at >= 0, "revoke applied to a device not listed");
        memmove(&want.devices[at], &want.devices[at + 1],
                (want.device_count - (size_t)at - 1) * sizeof want.devices[0]);
        want.device_count--;
        break;
    case IMC_DIR_OP_ACCOUNT_RESET:
        want.devices[0] = u->device;
        want.device_count = 1;
        break;
    default:
        break;
    }
    FUZZ_CHECK(same_devices(want.devices, want.device_count, l->devices, l->device_count),
               "op %u applied with another device change than its own", u->op);
    /* The device proofs (Ed25519 devices: the fixed world's suite). */
    const char *label = proof_label(u->op);
    if (u->op == IMC_DIR_OP_REGISTER || u->op == IMC_DIR_OP_ACCOUNT_RESET) {
        if (u->device.suite == 1)
            FUZZ_CHECK(u->sig_len[0] == 64 && ed25519_ok(u->sig[0], u->device.sig_pk, label,
                                                        dir_pk_in, 32, u->signed_part,
                                                        u->signed_part_len),
                       "op %u applied without the new device's proof", u->op);
    } else if (u->op == IMC_DIR_OP_ROTATE && at >= 0 && before->devices[at].suite == 1) {
        FUZZ_CHECK(u->sig_len[0] == 64 && u->sig_len[1] == 64 &&
                       ed25519_ok(u->sig[0], before->devices[at].sig_pk, label, dir_pk_in, 32,
                                  u->signed_part, u->signed_part_len) &&
                       ed25519_ok(u->sig[1], u->device.sig_pk, label, dir_pk_in, 32,
                                  u->signed_part, u->signed_part_len),
                   "rotate applied without proofs by the old and the new keys");
    }
}
