/* The auto backend's timing (calibrate.h): per primitive, CALIB_ROUNDS
 * interleaved batches of about CALIB_BATCH_NS per candidate, the fastest
 * batch of each kept, so a busy machine slows every candidate rather than
 * biasing one. The inputs are fixed public test data, not secrets. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <math.h>
#include <string.h>
#include <time.h>

#include "backend/calibrate.h"
#include "imcore/util.h"

#define CALIB_ROUNDS 5
#define CALIB_BATCH_NS 100000.0
#define CALIB_MAX_BATCH 4096
#define CALIB_MSG 64
#define CALIB_AEAD 64 /* the size of short messages; wraps are smaller still */

typedef struct calib {
    uint8_t x_sk[IMC_X25519_SECRET_BYTES], x_pk[IMC_X25519_PUBLIC_BYTES];
    uint8_t e_sk[IMC_ED25519_SECRET_BYTES], e_pk[IMC_ED25519_PUBLIC_BYTES];
    uint8_t p_sk[IMC_P256_SECRET_BYTES], p_pk[IMC_P256_PUBLIC_BYTES];
    uint8_t key[IMC_AEAD_KEY_BYTES], nonce[IMC_AEAD_NONCE_BYTES];
    uint8_t msg[CALIB_MSG], out[CALIB_MSG + 64];
} calib;

/* Makes b's inputs for p (its own public keys, so every candidate computes
 * on a valid full-order point), then runs the operation once. */
static imc_status prepare(calib *c, const imc_backend *b, imc_backend_prim p)
{
    switch (p) {
    case IMC_BACKEND_PRIM_X25519:
        return b->x25519_public(c->x_pk, c->x_sk);
    case IMC_BACKEND_PRIM_ED25519:
        return b->ed25519_public(c->e_pk, c->e_sk);
    case IMC_BACKEND_PRIM_P256_ECDH:
        return b->p256_public(c->p_pk, c->p_sk);
    default:
        return IMC_OK;
    }
}

static imc_status run_once(calib *c, const imc_backend *b, imc_backend_prim p)
{
    switch (p) {
    case IMC_BACKEND_PRIM_RANDOM:
        return b->random(c->out, 32);
    case IMC_BACKEND_PRIM_X25519:
        return b->x25519(c->out, c->x_sk, c->x_pk);
    case IMC_BACKEND_PRIM_ED25519:
        return b->ed25519_sign(c->out, c->e_sk, c->e_pk, c->msg, CALIB_MSG);
    case IMC_BACKEND_PRIM_CHACHA20POLY1305:
        return b->aead_seal(IMC_AEAD_CHACHA20POLY1305, c->out, c->key, c->nonce, NULL, 0, c->msg,
                            CALIB_AEAD);
    case IMC_BACKEND_PRIM_AES256GCM:
        return b->aead_seal(IMC_AEAD_AES256GCM, c->out, c->key, c->nonce, NULL, 0, c->msg,
                            CALIB_AEAD);
    case IMC_BACKEND_PRIM_P256_ECDH:
        return b->p256_ecdh(c->out, c->p_sk, c->p_pk);
    case IMC_BACKEND_PRIM_ECDSA_P256:
        return b->ecdsa_p256_sign(c->out, c->p_sk, c->msg, CALIB_MSG);
    case IMC_BACKEND_PRIM_SHA256:
        return b->hmac_sha256(c->out, c->key, sizeof c->key, c->msg, CALIB_MSG);
    case IMC_BACKEND_PRIM_COUNT:
        break;
    }
    return IMC_ERR_ARG;
}

static double now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Index into cand of the fastest candidate, or 0 if none could be timed. */
static size_t fastest(calib *c, imc_backend_prim p, const imc_backend *const *cand, size_t n,
                      FILE *log)
{
    size_t batch[IMC_CALIBRATE_MAX];
    double best[IMC_CALIBRATE_MAX];
    int alive[IMC_CALIBRATE_MAX];
    for (size_t j = 0; j < n; j++) {
        best[j] = INFINITY;
        /* One call to warm up (lazy set-up, caches), one to size batches. */
        alive[j] = prepare(c, cand[j], p) == IMC_OK && run_once(c, cand[j], p) == IMC_OK;
        double t0 = now_ns();
        alive[j] = alive[j] && run_once(c, cand[j], p) == IMC_OK;
        double t = now_ns() - t0, k = CALIB_BATCH_NS / (t < 1.0 ? 1.0 : t);
        batch[j] = k < 1.0 ? 1 : k > CALIB_MAX_BATCH ? CALIB_MAX_BATCH : (size_t)k;
    }
    for (size_t r = 0; r < CALIB_ROUNDS; r++) {
        for (size_t jj = 0; jj < n; jj++) {
            size_t j = r % 2 == 0 ? jj : n - 1 - jj; /* alternate who goes first */
            if (!alive[j] || prepare(c, cand[j], p) != IMC_OK)
                continue;
            double t0 = now_ns();
            for (size_t i = 0; i < batch[j] && alive[j]; i++)
                alive[j] = run_once(c, cand[j], p) == IMC_OK;
            double per = (now_ns() - t0) / (double)batch[j];
            if (alive[j] && per < best[j])
                best[j] = per;
        }
    }
    size_t win = 0;
    for (size_t j = 0; j < n; j++) {
        if (log != NULL)
            fprintf(log, "  %-17s %-8s %.0f ns%s\n", imc_backend_prim_name(p), cand[j]->name,
                    alive[j] ? best[j] : 0.0, alive[j] ? "" : " (failed)");
        if (alive[j] && (!alive[win] || best[j] < best[win]))
            win = j;
    }
    return win;
}

void imc_calibrate(imc_backend_choice choices[IMC_BACKEND_PRIM_COUNT], size_t *n,
                   const imc_backend *const *backends, size_t n_backends, FILE *log)
{
    calib c;
    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < sizeof c.x_sk; i++) {
        c.x_sk[i] = (uint8_t)(0x40 + i);
        c.e_sk[i] = (uint8_t)(0x80 + i);
        c.p_sk[i] = (uint8_t)(0x11 + i); /* 0x11.. < the P-256 order */
        c.key[i] = (uint8_t)(0xa0 ^ i);
    }
    for (size_t i = 0; i < sizeof c.msg; i++)
        c.msg[i] = (uint8_t)(3 * i + 1);
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++) {
        int named = 0;
        for (size_t i = 0; i < *n; i++)
            named |= choices[i].prim == (imc_backend_prim)p;
        const imc_backend *cand[IMC_CALIBRATE_MAX];
        size_t nc = 0;
        for (size_t i = 0; i < n_backends && nc < IMC_CALIBRATE_MAX; i++)
            if (imc_backend_has_prim(backends[i], (imc_backend_prim)p))
                cand[nc++] = backends[i];
        if (named || nc == 0)
            continue;
        size_t win = nc == 1 ? 0 : fastest(&c, (imc_backend_prim)p, cand, nc, log);
        choices[*n].prim = (imc_backend_prim)p;
        choices[*n].backend = cand[win]->name;
        (*n)++;
    }
    imc_wipe(&c, sizeof c);
}
