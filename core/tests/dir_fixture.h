/* Shared by the key directory tests: deterministic keys, stores of both
 * kinds in a temporary directory, and one-call register / rotate / revoke
 * against a service (reading the handle's current epoch first). */
#ifndef IMCORE_DIR_FIXTURE_H
#define IMCORE_DIR_FIXTURE_H

#include "tmpdir.h" /* first: it sets _POSIX_C_SOURCE */

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

static inline uint64_t fx_epoch(imc_dir *d, const char *handle)
{
    static imc_dir_record rec;
    if (imc_dir_get(&rec, d, (const uint8_t *)handle, strlen(handle)) != IMC_OK)
        return UINT64_MAX;
    return rec.epoch;
}

static inline imc_status fx_register(uint8_t *resp, size_t *resp_len, imc_dir *d,
                                     const char *handle, const imc_device_keys *k)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], upd[IMC_DIR_UPDATE_MAX_BYTES];
    size_t n = 0;
    imc_dir_public_key(pk, d);
    imc_status st = imc_dir_sign_register(upd, sizeof upd, &n, d->b_, pk, (const uint8_t *)handle,
                                          strlen(handle), fx_epoch(d, handle), k);
    if (st == IMC_OK)
        st = imc_dir_update(resp, FX_RESP_MAX, resp_len, d, FX_NOW, upd, n);
    return st;
}

static inline imc_status fx_rotate(uint8_t *resp, size_t *resp_len, imc_dir *d, const char *handle,
                                   const imc_device_keys *old_keys, const imc_device_keys *new_keys)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], upd[IMC_DIR_UPDATE_MAX_BYTES];
    size_t n = 0;
    imc_dir_public_key(pk, d);
    imc_status st = imc_dir_sign_rotate(upd, sizeof upd, &n, d->b_, pk, (const uint8_t *)handle,
                                        strlen(handle), fx_epoch(d, handle), old_keys, new_keys);
    if (st == IMC_OK)
        st = imc_dir_update(resp, FX_RESP_MAX, resp_len, d, FX_NOW, upd, n);
    return st;
}

static inline imc_status fx_revoke(uint8_t *resp, size_t *resp_len, imc_dir *d, const char *handle,
                                   uint64_t revoked, const imc_device_keys *signer)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], upd[IMC_DIR_UPDATE_MAX_BYTES];
    size_t n = 0;
    imc_dir_public_key(pk, d);
    imc_status st = imc_dir_sign_revoke(upd, sizeof upd, &n, d->b_, pk, (const uint8_t *)handle,
                                        strlen(handle), fx_epoch(d, handle), revoked, signer);
    if (st == IMC_OK)
        st = imc_dir_update(resp, FX_RESP_MAX, resp_len, d, FX_NOW, upd, n);
    return st;
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
} fx_entry_spec;

/* A response with the given entries, each signed with sk (whatever they
 * say); 0 on overflow. */
static inline size_t fx_build_response(uint8_t *out, size_t cap, const imc_backend *b,
                                       const uint8_t pk[IMC_DIR_PUBLIC_BYTES],
                                       const uint8_t sk[IMC_DIR_SECRET_BYTES],
                                       const fx_entry_spec *e, size_t n)
{
    static const char label[] = "imcore/v1/dir-entry";
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
        imc_wire_write_u8(&bw, (uint8_t)e[i].count);
        for (size_t k = 0; k < e[i].count; k++) {
            const imc_device_public *d = &e[i].devs[k];
            const imc_suite *s = imc_suite_get(d->suite);
            imc_wire_write_u16(&bw, (uint16_t)d->suite);
            imc_wire_write_u64(&bw, d->device_id);
            imc_wire_write_bytes(&bw, d->dh_pk, s != NULL ? s->dh_public_bytes : 32);
            imc_wire_write_bytes(&bw, d->sig_pk, s != NULL ? s->sig_public_bytes : 32);
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
