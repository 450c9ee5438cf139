/* Shared by the key directory tests: deterministic keys, stores of both
 * kinds in a temporary directory, and one-call register / rotate / revoke
 * against a service (reading the handle's current epoch first). */
#ifndef IMCORE_DIR_FIXTURE_H
#define IMCORE_DIR_FIXTURE_H

#include "tmpdir.h" /* first: it sets _POSIX_C_SOURCE */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dir/dir_impl.h"
#include "imcore/dir.h"
#include "imcore/dircache.h"
#include "imcore/wire.h"
#include "test.h"

#define FX_NOW 1700000000000ull /* a fixed "now" in milliseconds */
#define FX_RESP_MAX IMC_DIR_RESPONSE_MAX_BYTES(1)

static const uint8_t FX_DIR_SEED[IMC_RNG_SEED_BYTES] = {'d', 'i', 'r'};
static const uint8_t FX_DEV_SEED[IMC_RNG_SEED_BYTES] = {'d', 'e', 'v'};
static const uint8_t FX_ACCT_SEED[IMC_RNG_SEED_BYTES] = {'a', 'c', 'c', 't'};

typedef enum fx_store_kind { FX_MEM = 0, FX_LMDB = 1 } fx_store_kind;
static const char *const FX_STORE_NAMES[2] = {"memory", "lmdb"};

/* The directory signing key of the tests (stream picks one of several). */
static inline void fx_dir_key(const imc_backend *b, uint64_t stream,
                              uint8_t pk[IMC_DIR_PUBLIC_BYTES], uint8_t sk[IMC_DIR_SECRET_BYTES])
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, FX_DIR_SEED, stream);
    CHECK_OK(imc_dir_keygen(b, &rng, pk, sk));
}

/* Keys of device `id`, generation `gen` (a rotation makes a new one). */
static inline imc_status fx_keys(imc_device_keys *k, const imc_backend *b, uint32_t suite,
                                 uint64_t id, uint64_t gen)
{
    imc_rng rng;
    imc_rng_init_deterministic(&rng, FX_DEV_SEED, id * 1000003u + gen * 7919u + suite);
    return imc_keys_generate(k, b, &rng, suite, id);
}

static inline imc_dir_handle fx_h(const char *s)
{
    imc_dir_handle h = {(const uint8_t *)s, strlen(s)};
    return h;
}

static inline imc_status fx_store_open(imc_dir_store *s, fx_store_kind kind, const imc_backend *b,
                                       const char *dir, const char *name)
{
    if (kind == FX_MEM)
        return imc_dir_store_mem_open(s, b, 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.lmdb", dir, name);
    imc_dir_lmdb_options o = {(size_t)1 << 30, false, false};
    return imc_dir_store_lmdb_open(s, path, &o);
}

/* The account key of a handle in the tests, generation gen (an account
 * rotation or reset makes a new one): derived from the handle's name. */
static inline void fx_account(const imc_backend *b, const char *handle, uint64_t gen,
                              uint8_t pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES],
                              uint8_t sk[IMC_DIR_ACCOUNT_SECRET_BYTES])
{
    uint64_t stream = gen * 0x9e3779b97f4a7c15ull;
    for (const char *p = handle; *p != '\0'; p++)
        stream = stream * 131 + (uint8_t)*p;
    imc_rng rng;
    imc_rng_init_deterministic(&rng, FX_ACCT_SEED, stream);
    CHECK_OK(imc_dir_account_keygen(b, &rng, pk, sk));
}

static inline uint64_t fx_epoch(imc_dir *d, const char *handle)
{
    static imc_dir_record rec;
    if (imc_dir_get(&rec, d, (const uint8_t *)handle, strlen(handle)) != IMC_OK)
        return UINT64_MAX;
    return rec.epoch;
}

/* The handle's current record on the service (what a device would have
 * from a verified lookup) and its account key of generation 0. */
static inline imc_status fx_current(imc_dir_record *cur, uint8_t sk[IMC_DIR_ACCOUNT_SECRET_BYTES],
                                    imc_dir *d, const char *handle)
{
    uint8_t pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
    fx_account(d->b_, handle, 0, pk, sk);
    return imc_dir_get(cur, d, (const uint8_t *)handle, strlen(handle));
}

static imc_dir_record fx_cur_rec; /* the tests are single-threaded */

static inline imc_status fx_register(uint8_t *resp, size_t *resp_len, imc_dir *d,
                                     const char *handle, const imc_device_keys *k)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], upd[IMC_DIR_UPDATE_MAX_BYTES];
    uint8_t ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    size_t n = 0;
    imc_dir_public_key(pk, d);
    imc_status st = fx_current(&fx_cur_rec, ask, d, handle);
    if (st == IMC_OK)
        st = imc_dir_sign_register(upd, sizeof upd, &n, d->b_, pk, &fx_cur_rec, ask, k);
    if (st == IMC_OK)
        st = imc_dir_update(resp, FX_RESP_MAX, resp_len, d, FX_NOW, upd, n);
    return st;
}

static inline imc_status fx_rotate(uint8_t *resp, size_t *resp_len, imc_dir *d, const char *handle,
                                   const imc_device_keys *old_keys, const imc_device_keys *new_keys)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], upd[IMC_DIR_UPDATE_MAX_BYTES];
    uint8_t ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    size_t n = 0;
    imc_dir_public_key(pk, d);
    imc_status st = fx_current(&fx_cur_rec, ask, d, handle);
    if (st == IMC_OK)
        st = imc_dir_sign_rotate(upd, sizeof upd, &n, d->b_, pk, &fx_cur_rec, ask, old_keys,
                                 new_keys);
    if (st == IMC_OK)
        st = imc_dir_update(resp, FX_RESP_MAX, resp_len, d, FX_NOW, upd, n);
    return st;
}

static inline imc_status fx_revoke(uint8_t *resp, size_t *resp_len, imc_dir *d, const char *handle,
                                   uint64_t revoked)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], upd[IMC_DIR_UPDATE_MAX_BYTES];
    uint8_t ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    size_t n = 0;
    imc_dir_public_key(pk, d);
    imc_status st = fx_current(&fx_cur_rec, ask, d, handle);
    if (st == IMC_OK)
        st = imc_dir_sign_revoke(upd, sizeof upd, &n, d->b_, pk, &fx_cur_rec, ask, revoked);
    if (st == IMC_OK)
        st = imc_dir_update(resp, FX_RESP_MAX, resp_len, d, FX_NOW, upd, n);
    return st;
}

/* A freshly created account's record for imc_dir_import: version 1, the
 * devices given, signed with the handle's account key. */
static inline void fx_import_record(imc_dir_record *rec, const imc_backend *b, const char *handle,
                                    const imc_device_public *devs, size_t count)
{
    uint8_t pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], sk[IMC_DIR_ACCOUNT_SECRET_BYTES];
    memset(rec, 0, sizeof *rec);
    memcpy(rec->handle, handle, strlen(handle));
    rec->handle_len = strlen(handle);
    rec->epoch = 1;
    rec->device_count = count;
    for (size_t i = 0; i < count; i++)
        rec->devices[i] = devs[i];
    fx_account(b, handle, 0, pk, sk);
    CHECK_OK(imc_dir_list_sign(rec, b, IMC_DIR_KEY_NEW, NULL, sk, NULL));
}

/* Store digest and global epoch, to show a call changed nothing. */
typedef struct fx_snapshot {
    uint8_t digest[IMC_SHA256_BYTES];
    uint64_t epoch;
} fx_snapshot;

static inline fx_snapshot fx_snap(imc_dir *d)
{
    fx_snapshot s;
    memset(&s, 0, sizeof s);
    CHECK_OK(imc_dir_digest(s.digest, d));
    CHECK_OK(imc_dir_global_epoch(&s.epoch, d));
    return s;
}

static inline int fx_same(const fx_snapshot *a, const fx_snapshot *b)
{
    return memcmp(a->digest, b->digest, sizeof a->digest) == 0 && a->epoch == b->epoch;
}

/* ---- Hand-made responses (a directory that misbehaves, or a forger) --- */

typedef struct fx_entry_spec {
    const char *handle;
    uint64_t epoch, global, issued;
    size_t count; /* written as is, even if over the limit */
    const imc_device_public *devs;
    const uint8_t *account_sk; /* NULL: the handle's fixture account key */
    bool forge_list;           /* spoil the account signature */
    uint64_t list_epoch;       /* the list's version if not 0 (default: epoch) */
    bool no_list;              /* leave the list out */
    const char *list_handle;   /* the list's handle if not NULL */
} fx_entry_spec;
#define FX_SPEC_TAIL NULL, false, 0, false, NULL /* the fields after devs, defaults */

/* A response with the given entries, each signed with sk (whatever they
 * say); each list is signed by the spec's account key (key change: new at
 * version 1, else the same key, previous hash a fixed nonzero value). 0 on
 * overflow. */
static inline size_t fx_build_response(uint8_t *out, size_t cap, const imc_backend *b,
                                       const uint8_t pk[IMC_DIR_PUBLIC_BYTES],
                                       const uint8_t sk[IMC_DIR_SECRET_BYTES],
                                       const fx_entry_spec *e, size_t n)
{
    static const char label[] = "imcore/v2/dir-entry";
    static uint8_t
        body[sizeof label - 1 + IMC_DIR_ENTRY_MAX_BYTES + 256 * IMC_DIR_DEVICE_MAX_BYTES];
    imc_writer w;
    size_t len = 0;
    imc_wire_writer_init(&w, out, cap);
    imc_wire_write_u8(&w, IMC_DIR_VERSION);
    imc_wire_write_u8(&w, IMC_DIR_KIND_RESPONSE);
    imc_wire_write_u16(&w, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        imc_writer bw;
        size_t blen = 0;
        imc_wire_writer_init(&bw, body, sizeof body);
        imc_wire_write_bytes(&bw, (const uint8_t *)label, sizeof label - 1);
        imc_wire_write_u8(&bw, (uint8_t)strlen(e[i].handle));
        imc_wire_write_bytes(&bw, (const uint8_t *)e[i].handle, strlen(e[i].handle));
        imc_wire_write_u64(&bw, e[i].epoch);
        imc_wire_write_u64(&bw, e[i].global);
        imc_wire_write_u64(&bw, e[i].issued);
        uint64_t lv = e[i].list_epoch != 0 ? e[i].list_epoch : e[i].epoch;
        const char *lh = e[i].list_handle != NULL ? e[i].list_handle : e[i].handle;
        if (lv == 0 || e[i].no_list) {
            imc_wire_write_u16(&bw, 0);
        } else {
            /* The list by hand: it may break the count limit on purpose. */
            uint8_t apk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
            fx_account(b, e[i].handle, 0, apk, ask);
            if (e[i].account_sk != NULL)
                memcpy(ask, e[i].account_sk, sizeof ask);
            CHECK_OK(imc_crypto_ed25519_public(b, apk, ask));
            static uint8_t lb[sizeof "imcore/v2/dir-list" - 1 + IMC_DIR_LIST_MAX_BYTES +
                              256 * IMC_DIR_DEVICE_MAX_BYTES];
            imc_writer lw;
            size_t llen = 0;
            const size_t ll = sizeof "imcore/v2/dir-list" - 1;
            imc_wire_writer_init(&lw, lb, sizeof lb);
            imc_wire_write_bytes(&lw, (const uint8_t *)"imcore/v2/dir-list", ll);
            imc_wire_write_u8(&lw, IMC_DIR_VERSION);
            imc_wire_write_u8(&lw, IMC_DIR_KIND_LIST);
            imc_wire_write_u8(&lw, (uint8_t)strlen(lh));
            imc_wire_write_bytes(&lw, (const uint8_t *)lh, strlen(lh));
            imc_wire_write_u64(&lw, lv);
            imc_wire_write_u8(&lw, lv == 1 ? IMC_DIR_KEY_NEW : IMC_DIR_KEY_SAME);
            imc_wire_write_bytes(&lw, apk, sizeof apk);
            for (size_t k = 0; k < IMC_SHA256_BYTES; k++)
                imc_wire_write_u8(&lw, lv == 1 ? 0 : 0x5a);
            imc_wire_write_u8(&lw, (uint8_t)e[i].count);
            for (size_t k = 0; k < e[i].count; k++) {
                const imc_device_public *d = &e[i].devs[k];
                const imc_suite *s = imc_suite_get(d->suite);
                imc_wire_write_u16(&lw, (uint16_t)d->suite);
                imc_wire_write_u64(&lw, d->device_id);
                imc_wire_write_bytes(&lw, d->dh_pk, s != NULL ? s->dh_public_bytes : 32);
                imc_wire_write_bytes(&lw, d->sig_pk, s != NULL ? s->sig_public_bytes : 32);
            }
            uint8_t lsig[IMC_ED25519_SIGNATURE_BYTES];
            if (imc_wire_writer_finish(&lw, &llen) != IMC_OK ||
                imc_crypto_ed25519_sign(b, lsig, ask, apk, lb, llen) != IMC_OK)
                return 0;
            if (e[i].forge_list)
                lsig[0] ^= 1;
            imc_wire_write_u16(&bw, (uint16_t)(llen - ll + sizeof lsig));
            imc_wire_write_bytes(&bw, lb + ll, llen - ll);
            imc_wire_write_bytes(&bw, lsig, sizeof lsig);
        }
        uint8_t sig[IMC_DIR_SIGNATURE_BYTES];
        if (imc_wire_writer_finish(&bw, &blen) != IMC_OK ||
            imc_crypto_ed25519_sign(b, sig, sk, pk, body, blen) != IMC_OK)
            return 0;
        imc_wire_write_bytes(&w, body + sizeof label - 1, blen - (sizeof label - 1));
        imc_wire_write_bytes(&w, sig, sizeof sig);
    }
    return imc_wire_writer_finish(&w, &len) == IMC_OK ? len : 0;
}

#endif
