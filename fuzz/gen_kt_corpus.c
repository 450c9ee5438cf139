/* Seed generator for the kt targets (kt_note, kt_proof): genuine notes,
 * proofs, states and evidence of the fixed world in fuzz_kt_world.h; for
 * the directory's transparency targets (dir_kt_lookup, dir_kt_audit):
 * genuine answers of the fixed directory in fuzz_dir_kt_world.h; and for
 * kt_malicious: scripted scenarios of a lying directory (step layout in
 * fuzz_kt_malicious.c).
 *
 *   imc_gen_kt_corpus OUTDIR    writes files under OUTDIR/<target>
 *
 * Ed25519 is deterministic, so the seeds are byte-for-byte reproducible. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_dir_kt_world.h"
#include "fuzz_kt_world.h"
#include "imcore/dir.h"

static const char *outdir;

/* A directory under the log's key registers device `id` as alice's first
 * device: its answer (a one-entry lookup response, version 1). Two ids
 * give two different lists for one version: LIST evidence. */
static size_t alice_v1(uint8_t *out, size_t cap, const kt_world *w, uint64_t id)
{
    imc_dir_store st;
    static imc_dir d;
    static imc_device_keys dev;
    static imc_dir_record cur;
    static uint8_t upd[IMC_DIR_UPDATE_MAX_BYTES];
    uint8_t apk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], ask[IMC_DIR_ACCOUNT_SECRET_BYTES], pk[32];
    size_t ul = 0, len = 0;
    imc_rng rng;
    fuzz_rng(&rng, UINT64_C(0x6c697374) + id);
    FUZZ_CHECK(imc_dir_store_mem_open(&st, w->b, 0) == IMC_OK, "dir store");
    FUZZ_CHECK(imc_dir_init(&d, w->b, st, w->log_sk, NULL) == IMC_OK, "dir init");
    imc_dir_public_key(pk, &d);
    FUZZ_CHECK(imc_keys_generate(&dev, w->b, &rng, 1, id) == IMC_OK, "device keys");
    FUZZ_CHECK(imc_dir_account_keygen(w->b, &rng, apk, ask) == IMC_OK, "account key");
    memset(&cur, 0, sizeof cur);
    memcpy(cur.handle, "alice@example.org", 17);
    cur.handle_len = 17;
    FUZZ_CHECK(imc_dir_sign_register(upd, sizeof upd, &ul, w->b, pk, &cur, ask, &dev) == IMC_OK,
               "sign register");
    FUZZ_CHECK(imc_dir_update(out, cap, &len, &d, KT_TIME * 1000, upd, ul) == IMC_OK, "register");
    imc_dir_wipe(&d);
    imc_dir_store_close(&st);
    imc_keys_wipe(&dev);
    return len;
}

/* LIST evidence, written by hand from docs/transparency.md "Evidence". */
static size_t list_evidence(uint8_t *out, size_t cap, const kt_world *w)
{
    static uint8_t a[IMC_DIR_RESPONSE_MAX_BYTES(1)], b[IMC_DIR_RESPONSE_MAX_BYTES(1)];
    size_t al = alice_v1(a, sizeof a, w, 1), bl = alice_v1(b, sizeof b, w, 2), n = 0;
    FUZZ_CHECK(3 + w->log.name_len + 32 + 4 + al + bl <= cap, "list evidence size");
    out[n++] = 1;
    out[n++] = 3;
    out[n++] = (uint8_t)w->log.name_len;
    memcpy(out + n, w->log.name, w->log.name_len);
    n += w->log.name_len;
    memcpy(out + n, w->log.pk, 32);
    n += 32;
    out[n++] = (uint8_t)(al >> 8);
    out[n++] = (uint8_t)al;
    memcpy(out + n, a, al);
    n += al;
    out[n++] = (uint8_t)(bl >> 8);
    out[n++] = (uint8_t)bl;
    memcpy(out + n, b, bl);
    n += bl;
    FUZZ_CHECK(imc_kt_evidence_verify(NULL, w->b, out, n) == IMC_OK, "list evidence verifies");
    return n;
}

static void put(const char *target, const char *name, uint8_t sel, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", outdir);
    FUZZ_CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    FUZZ_CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", path);
    if (sel != 0xff)
        FUZZ_CHECK(fputc(sel, f) == sel, "write %s", path);
    FUZZ_CHECK(n == 0 || fwrite(p, 1, n, f) == n, "write %s", path);
    FUZZ_CHECK(fclose(f) == 0, "close %s", path);
}

/* Lookups with proofs of 1..3 handles from several known sizes, and
 * audits of each handle from several versions, of the fixed directory. */
static void dir_kt_seeds(void)
{
    dkt_world *w = dkt_world_get();
    static uint8_t req[IMC_DIR_KT_REQUEST_MAX_BYTES], resp[IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES];
    char name[64];
    imc_dir_handle hs[3];
    for (unsigned h = 0; h < 3; h++)
        hs[h].bytes = fuzz_dir_handle(h, &hs[h].len);
    static const struct { unsigned first, count; uint64_t known; } lookups[] = {
        {0, 1, 0}, {0, 3, 0}, {1, 1, 5}, {2, 1, 2}, {0, 2, 3}, {1, 2, 1},
    };
    for (size_t i = 0; i < sizeof lookups / sizeof lookups[0]; i++) {
        size_t rn = 0;
        FUZZ_CHECK(imc_dir_kt_encode_lookup(req, sizeof req, &rn, lookups[i].known,
                                            &hs[lookups[i].first], lookups[i].count) == IMC_OK,
                   "lookup request");
        size_t n = dkt_serve(resp, sizeof resp, w, req, rn);
        FUZZ_CHECK(n > 0, "lookup served");
        snprintf(name, sizeof name, "lookup-%u-%u-from%llu", lookups[i].first, lookups[i].count,
                 (unsigned long long)lookups[i].known);
        put("dir_kt_lookup", name, 0xff, resp, n);
    }
    static const struct { unsigned h; uint64_t since, known; } audits[] = {
        {0, 1, 0}, {0, 2, 4}, {0, 4, 0}, {0, 5, 5}, {1, 1, 0}, {2, 1, 3},
    };
    for (size_t i = 0; i < sizeof audits / sizeof audits[0]; i++) {
        size_t rn = 0;
        FUZZ_CHECK(imc_dir_kt_encode_audit(req, sizeof req, &rn, audits[i].known,
                                           hs[audits[i].h].bytes, hs[audits[i].h].len,
                                           audits[i].since) == IMC_OK,
                   "audit request");
        size_t n = dkt_serve(resp, sizeof resp, w, req, rn);
        FUZZ_CHECK(n > 0, "audit served");
        snprintf(name, sizeof name, "audit-%u-since%llu-from%llu", audits[i].h,
                 (unsigned long long)audits[i].since, (unsigned long long)audits[i].known);
        put("dir_kt_audit", name, 0xff, resp, n);
    }
}

/* kt_malicious steps (layout in fuzz_kt_malicious.c). Forks: a mask of
 * bits 0-2 for updates (0: all), an index for the rest. */
#define KM_UPD(mask, h, action, slot) 0, (uint8_t)((mask) | (h) << 3 | (action) << 5), (slot)
#define KM_REG(mask, h, slot) KM_UPD(mask, h, 0, slot)
#define KM_REVOKE(mask, h, slot) KM_UPD(mask, h, 1, slot)
#define KM_RESET(mask, h, slot) KM_UPD(mask, h, 3, slot)
#define KM_LOOKUP(f, hmask, known, splice) 1, (uint8_t)((f) | (hmask) << 2 | (known) << 5), (splice)
#define KM_AUDIT(f, h, known, tamper, anchored, ack)                                                \
    2, (uint8_t)((f) | (h) << 2 | (known) << 5), (uint8_t)((tamper) | (anchored) << 3 | (ack) << 4)
#define KM_HEAD(f, known) 3, (uint8_t)((f) | (known) << 5), 0
#define KM_REPLAY(back) 4, (back), 0
#define KM_WITNESS(f, w, colluding) 5, (uint8_t)((f) | (w) << 2), (colluding)
#define KM_RESTART 6, 0, 0

static const uint8_t km_honest[] = {
    0, KM_REG(0, 0, 0), KM_REG(0, 1, 0), KM_LOOKUP(0, 7, 0, 0), KM_REG(0, 0, 1),
    KM_LOOKUP(1, 1, 0, 0), KM_AUDIT(0, 0, 0, 0, 0, 0), KM_HEAD(2, 0), KM_RESTART,
    KM_REG(0, 2, 0), KM_LOOKUP(2, 7, 0, 0), KM_AUDIT(1, 0, 0, 0, 1, 0), KM_AUDIT(0, 1, 0, 0, 0, 0),
};
/* A ghost device added and revoked between two lookups: the audit finds
 * it, and only the acknowledged audit moves on. */
static const uint8_t km_ghost[] = {
    0, KM_REG(0, 0, 0), KM_LOOKUP(0, 1, 0, 0), KM_REG(0, 0, 1), KM_REVOKE(0, 0, 1),
    KM_LOOKUP(0, 1, 0, 0), KM_AUDIT(0, 0, 0, 0, 0, 0), KM_AUDIT(0, 0, 0, 0, 0, 1),
    KM_AUDIT(0, 0, 0, 0, 1, 0), KM_RESET(0, 0, 3), KM_LOOKUP(0, 1, 0, 0), KM_AUDIT(0, 0, 0, 0, 0, 0),
};
/* Two forks of one size: fork 0 adds slot 1, fork 1 slot 2 to handle 0. */
static const uint8_t km_fork_same_size[] = {
    0, KM_REG(0, 0, 0), KM_LOOKUP(0, 7, 0, 0), KM_REG(1, 0, 1), KM_REG(2, 0, 2),
    KM_LOOKUP(0, 1, 0, 0), KM_LOOKUP(1, 1, 0, 0), KM_RESTART, KM_HEAD(1, 0), KM_HEAD(0, 0),
};
/* The client holds fork 0 at size 5; fork 1 at size 6 shares only 3. */
static const uint8_t km_fork_prefix[] = {
    0, KM_REG(0, 0, 0), KM_REG(0, 1, 0), KM_REG(0, 2, 0), KM_REG(1, 0, 1), KM_REG(1, 1, 1),
    KM_REG(2, 0, 2), KM_REG(2, 1, 2), KM_REG(2, 2, 2), KM_LOOKUP(0, 7, 0, 0), KM_HEAD(1, 0),
    KM_LOOKUP(1, 7, 0, 0), KM_RESTART, KM_HEAD(1, 1),
};
/* Old answers replayed, before and after a restart; a fork left behind. */
static const uint8_t km_rollback[] = {
    0, KM_REG(0, 0, 0), KM_REG(0, 1, 0), KM_REG(0, 2, 0), KM_LOOKUP(0, 7, 0, 0), KM_HEAD(0, 0),
    KM_REG(3, 0, 1), KM_LOOKUP(0, 7, 0, 0), KM_AUDIT(0, 0, 0, 0, 0, 0), KM_REPLAY(2),
    KM_RESTART, KM_REPLAY(3), KM_REPLAY(2), KM_HEAD(2, 0), KM_LOOKUP(2, 1, 0, 0),
    KM_AUDIT(2, 0, 0, 0, 0, 0),
};
/* Audit answers with leaves left out, swapped, the newest hidden, one
 * version too many; then the honest answer. */
static const uint8_t km_omission[] = {
    0, KM_REG(0, 0, 0), KM_LOOKUP(0, 1, 0, 0), KM_REG(0, 0, 1), KM_REG(0, 0, 2), KM_REVOKE(0, 0, 1),
    KM_LOOKUP(0, 1, 0, 0), KM_AUDIT(0, 0, 0, 1, 0, 0), KM_AUDIT(0, 0, 0, 2, 0, 0),
    KM_AUDIT(0, 0, 0, 3, 0, 0), KM_AUDIT(0, 0, 0, 4, 0, 0), KM_AUDIT(0, 0, 0, 5, 0, 0),
    KM_AUDIT(0, 0, 0, 0, 0, 1), KM_REG(0, 0, 3), KM_AUDIT(0, 0, 0, 4, 1, 0),
    KM_AUDIT(0, 0, 0, 3, 1, 0),
};
/* 2 of 3 witnesses: honest ones follow fork 0; fork 1 gets its threshold
 * from two colluding witnesses. */
static const uint8_t km_witnesses[] = {
    2, KM_REG(0, 0, 0), KM_WITNESS(0, 0, 0), KM_LOOKUP(0, 7, 0, 0), KM_WITNESS(0, 1, 0),
    KM_LOOKUP(0, 7, 0, 0), KM_REG(1, 0, 1), KM_REG(2, 0, 2), KM_WITNESS(0, 0, 0),
    KM_WITNESS(0, 2, 0), KM_WITNESS(1, 0, 0), KM_WITNESS(1, 1, 1), KM_WITNESS(1, 2, 1),
    KM_HEAD(1, 0), KM_HEAD(0, 0), KM_LOOKUP(0, 1, 0, 0),
};
/* Another fork's answers under a fork's checkpoint, at one size: a
 * registered handle said to be unregistered, and the other way round. */
static const uint8_t km_splice[] = {
    0, KM_REG(1, 0, 0), KM_REG(2, 1, 0), KM_REG(4, 0, 0), KM_LOOKUP(0, 1, 0, 1),
    KM_LOOKUP(0, 3, 0, 1), KM_LOOKUP(0, 3, 0, 2), KM_LOOKUP(0, 3, 0, 0), KM_LOOKUP(0, 2, 0, 1),
    KM_REG(0, 2, 0), KM_LOOKUP(0, 7, 0, 2), KM_LOOKUP(2, 1, 0, 1),
};
/* Proofs from sizes the client does not hold. */
static const uint8_t km_known[] = {
    1, KM_REG(0, 0, 0), KM_REG(0, 1, 0), KM_REG(0, 2, 0), KM_WITNESS(0, 1, 0),
    KM_LOOKUP(0, 7, 0, 0), KM_REG(0, 0, 1), KM_WITNESS(0, 1, 0), KM_HEAD(0, 2), KM_HEAD(0, 3),
    KM_LOOKUP(0, 1, 2, 0), KM_AUDIT(0, 0, 3, 0, 0, 0), KM_HEAD(0, 1),
};
/* The lookup from one fork, the audit from another. */
static const uint8_t km_equivocate[] = {
    0, KM_REG(0, 0, 0), KM_LOOKUP(0, 1, 0, 0), KM_REG(1, 0, 1), KM_REG(2, 0, 2),
    KM_LOOKUP(0, 1, 0, 0), KM_AUDIT(1, 0, 0, 0, 0, 0), KM_AUDIT(0, 0, 0, 0, 0, 0),
};

static void kt_malicious_seeds(void)
{
    static const struct { const char *name; const uint8_t *p; size_t n; } s[] = {
        {"honest", km_honest, sizeof km_honest},
        {"ghost", km_ghost, sizeof km_ghost},
        {"fork-same-size", km_fork_same_size, sizeof km_fork_same_size},
        {"fork-prefix", km_fork_prefix, sizeof km_fork_prefix},
        {"rollback", km_rollback, sizeof km_rollback},
        {"omission", km_omission, sizeof km_omission},
        {"witnesses", km_witnesses, sizeof km_witnesses},
        {"splice", km_splice, sizeof km_splice},
        {"known-size", km_known, sizeof km_known},
        {"equivocate", km_equivocate, sizeof km_equivocate},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        put("kt_malicious", s[i].name, 0xff, s[i].p, s[i].n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: imc_gen_kt_corpus OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    const kt_world *w = kt_world_get();
    static char note[IMC_KT_MAX_NOTE_BYTES];
    char name[64];
    size_t len;
    /* Notes: both views at several sizes, with 0..3 cosignatures. */
    static const struct { int v; uint64_t size; int cos; } notes[] = {
        {0, 7, 2}, {0, 7, 3}, {0, 7, 0}, {0, 5, 2}, {0, 4, 2}, {0, 6, 1},
        {1, 5, 1}, {1, 7, 3}, {1, 9, 2}, {1, 3, 0},
    };
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        len = kt_world_note(note, sizeof note, w, notes[i].v, notes[i].size, notes[i].cos);
        snprintf(name, sizeof name, "%s-%llu-cos%d", notes[i].v ? "fork" : "honest",
                 (unsigned long long)notes[i].size, notes[i].cos);
        put("kt_note", name, 0xff, note, len);
    }
    char vkey[IMC_KT_VKEY_MAX];
    FUZZ_CHECK(imc_kt_vkey_encode(vkey, &w->log) == IMC_OK, "vkey");
    put("kt_note", "vkey-log", 0xff, vkey, strlen(vkey));
    FUZZ_CHECK(imc_kt_vkey_encode(vkey, &w->wit[1]) == IMC_OK, "vkey");
    put("kt_note", "vkey-witness", 0xff, vkey, strlen(vkey));

    /* Log proofs of the honest log. */
    static uint8_t buf[IMC_KT_EVIDENCE_MAX_BYTES];
    static imc_kt_log_proof p;
    for (uint64_t n = 1; n <= KT_HONEST; n++) {
        for (uint64_t m = 0; m < n; m += 2) {
            FUZZ_CHECK(imc_kt_log_prove_inclusion(&p, w->b, &w->s[0], m, n) == IMC_OK, "incl");
            FUZZ_CHECK(imc_kt_log_proof_encode(buf, sizeof buf, &len, &p) == IMC_OK, "enc");
            snprintf(name, sizeof name, "incl-%llu-%llu", (unsigned long long)m,
                     (unsigned long long)n);
            put("kt_proof", name, 0, buf, len);
            FUZZ_CHECK(imc_kt_log_prove_consistency(&p, w->b, &w->s[0], m + 1, n) == IMC_OK,
                       "cons");
            FUZZ_CHECK(imc_kt_log_proof_encode(buf, sizeof buf, &len, &p) == IMC_OK, "enc");
            snprintf(name, sizeof name, "cons-%llu-%llu", (unsigned long long)(m + 1),
                     (unsigned long long)n);
            put("kt_proof", name, 0, buf, len);
        }
    }
    /* Index proofs: users 0..3 present, 4 and 5 absent. */
    static imc_kt_index_proof ip;
    for (unsigned h = 0; h < 6; h++) {
        char handle[32];
        uint8_t key[32];
        int hl = snprintf(handle, sizeof handle, "user%u@example.org", h);
        FUZZ_CHECK(imc_kt_index_key(w->b, key, (const uint8_t *)handle, (size_t)hl) == IMC_OK,
                   "key");
        FUZZ_CHECK(imc_kt_index_prove(&ip, NULL, &w->s[0], key) == IMC_OK, "prove");
        FUZZ_CHECK(imc_kt_index_proof_encode(buf, sizeof buf, &len, &ip) == IMC_OK, "enc");
        snprintf(name, sizeof name, "index-user%u", h);
        put("kt_proof", name, 1, buf, len);
    }
    /* Evidence of both kinds, and a client state that keeps one. */
    static imc_kt_client c;
    static uint8_t proof[IMC_KT_LOG_PROOF_MAX_BYTES];
    bool ev = false;
    kt_world_client(&c, w);
    len = kt_world_note(note, sizeof note, w, 1, KT_HELD, 1);
    FUZZ_CHECK(imc_kt_client_update(&c, &ev, (const uint8_t *)note, len, NULL, 0) ==
                       IMC_ERR_AUTH && ev,
               "same-size evidence");
    FUZZ_CHECK(imc_kt_client_evidence(buf, sizeof buf, &len, &c) == IMC_OK, "export");
    put("kt_proof", "evidence-same-size", 2, buf, len);
    FUZZ_CHECK(imc_kt_client_save(buf, sizeof buf, &len, &c) == IMC_OK, "save");
    put("kt_proof", "client-state-evidence", 3, buf, len);
    kt_world_client(&c, w);
    FUZZ_CHECK(imc_kt_client_save(buf, sizeof buf, &len, &c) == IMC_OK, "save");
    put("kt_proof", "client-state", 3, buf, len);
    len = kt_world_note(note, sizeof note, w, 1, KT_FORK, 2);
    size_t pl = kt_world_proof(proof, sizeof proof, w, 1, KT_HELD, KT_FORK);
    ev = false;
    FUZZ_CHECK(imc_kt_client_update(&c, &ev, (const uint8_t *)note, len, proof, pl) ==
                       IMC_ERR_AUTH && ev,
               "prefix evidence");
    FUZZ_CHECK(imc_kt_client_evidence(buf, sizeof buf, &len, &c) == IMC_OK, "export");
    put("kt_proof", "evidence-prefix", 2, buf, len);
    static imc_kt_witness wi;
    kt_world_witness(&wi, w);
    FUZZ_CHECK(imc_kt_witness_save(buf, sizeof buf, &len, &wi) == IMC_OK, "witness save");
    put("kt_proof", "witness-state", 4, buf, len);
    put("kt_proof", "witness-state-empty", 4, "\x01\x00\x00", 3);
    len = list_evidence(buf, sizeof buf, w);
    put("kt_proof", "evidence-list", 2, buf, len);
    imc_kt_client_config cfg = kt_world_config(w);
    FUZZ_CHECK(imc_kt_client_config_encode(buf, sizeof buf, &len, &cfg) == IMC_OK, "config");
    put("kt_proof", "client-config", 5, buf, len);
    cfg.witness_count = 0;
    cfg.threshold = 0;
    FUZZ_CHECK(imc_kt_client_config_encode(buf, sizeof buf, &len, &cfg) == IMC_OK, "config");
    put("kt_proof", "client-config-no-witness", 5, buf, len);
    imc_kt_witness_wipe(&wi);
    dir_kt_seeds();
    kt_malicious_seeds();
    printf("kt seeds written to %s\n", outdir);
    return 0;
}
