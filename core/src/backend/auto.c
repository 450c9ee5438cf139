/* The composite backend "auto": every primitive runs on whichever of the
 * other backends does it faster on this machine.
 *
 * The choice is made once, at the first imc_backend_get("auto"), under
 * pthread_once, and never changes: either from the primitive-floor medians
 * of a google-benchmark JSON file named by IMC_AUTO_PROFILE (the output of
 * scripts/bench; only slots where the file times at least two candidates), or by
 * timing the rest (a few hundred microseconds per candidate and primitive,
 * about 30 ms in all: interleaved rounds, the fastest round of each kept,
 * so a busy machine slows both sides rather than biasing one). Set
 * IMC_AUTO_VERBOSE=1 to have the choices, the timings and any problem with
 * the profile printed on stderr; without it auto prints nothing.
 *
 * The choice cannot change any answer: this backend sits behind the same
 * policy layer as every other (crypto.c), and the components agree byte for
 * byte on every deterministic primitive and on accept/reject for every
 * input (test_kat_wycheproof, test_backend_auto). Its only state is the
 * write-once table `chosen` below; every vtable entry is a read of it and a
 * tail call into the chosen component. */
#define _GNU_SOURCE /* secure_getenv */

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/auto.h"
#include "backend/backend_impl.h"

#define PROFILE_MAX_BYTES ((size_t)64 << 20)
#define JSON_MAX_DEPTH 64

/* Calibration: per candidate and slot, CALIB_ROUNDS batches of about
 * CALIB_BATCH_NS each, interleaved between candidates; the fastest batch
 * counts. */
#define CALIB_ROUNDS 5
#define CALIB_BATCH_NS 100000.0
#define CALIB_MAX_BATCH 4096
#define CALIB_MAX_MSG 16384

static const size_t band_bytes[IMC_AUTO_AEAD_BANDS] = {64, 1024, 16384};

typedef struct slot_desc {
    const char *name; /* prim/<backend>/<name> in the primitive floor */
    uint32_t cap;
} slot_desc;

static const slot_desc slots[IMC_AUTO_SLOT_COUNT] = {
    [IMC_AUTO_RANDOM] = {"random/32", 0},
    [IMC_AUTO_X25519_PUBLIC] = {"x25519-keygen", IMC_CAP_X25519},
    [IMC_AUTO_X25519] = {"x25519-derive", IMC_CAP_X25519},
    [IMC_AUTO_ED25519_PUBLIC] = {"ed25519-keygen", IMC_CAP_ED25519},
    [IMC_AUTO_ED25519_SIGN] = {"ed25519-sign/64", IMC_CAP_ED25519},
    [IMC_AUTO_ED25519_VERIFY] = {"ed25519-verify/64", IMC_CAP_ED25519},
    [IMC_AUTO_P256_PUBLIC] = {"p256-keygen", IMC_CAP_P256_ECDH},
    [IMC_AUTO_P256_ECDH] = {"p256-ecdh", IMC_CAP_P256_ECDH},
    [IMC_AUTO_ECDSA_P256_SIGN] = {"ecdsa-p256-sign/64", IMC_CAP_ECDSA_P256},
    [IMC_AUTO_ECDSA_P256_VERIFY] = {"ecdsa-p256-verify/64", IMC_CAP_ECDSA_P256},
    [IMC_AUTO_SHA256] = {"sha256/64", IMC_CAP_SHA256},
    [IMC_AUTO_HMAC_SHA256] = {"hmac-sha256/64", IMC_CAP_SHA256},
    [IMC_AUTO_HKDF_SHA256] = {"hkdf-sha256/32", IMC_CAP_SHA256},
    [IMC_AUTO_AEAD_FIRST + 0] = {"aead-seal/chacha20poly1305/64", IMC_CAP_CHACHA20POLY1305},
    [IMC_AUTO_AEAD_FIRST + 1] = {"aead-seal/chacha20poly1305/1024", IMC_CAP_CHACHA20POLY1305},
    [IMC_AUTO_AEAD_FIRST + 2] = {"aead-seal/chacha20poly1305/16384", IMC_CAP_CHACHA20POLY1305},
    [IMC_AUTO_AEAD_FIRST + 3] = {"aead-open/chacha20poly1305/64", IMC_CAP_CHACHA20POLY1305},
    [IMC_AUTO_AEAD_FIRST + 4] = {"aead-open/chacha20poly1305/1024", IMC_CAP_CHACHA20POLY1305},
    [IMC_AUTO_AEAD_FIRST + 5] = {"aead-open/chacha20poly1305/16384", IMC_CAP_CHACHA20POLY1305},
    [IMC_AUTO_AEAD_FIRST + 6] = {"aead-seal/aes256gcm/64", IMC_CAP_AES256GCM},
    [IMC_AUTO_AEAD_FIRST + 7] = {"aead-seal/aes256gcm/1024", IMC_CAP_AES256GCM},
    [IMC_AUTO_AEAD_FIRST + 8] = {"aead-seal/aes256gcm/16384", IMC_CAP_AES256GCM},
    [IMC_AUTO_AEAD_FIRST + 9] = {"aead-open/aes256gcm/64", IMC_CAP_AES256GCM},
    [IMC_AUTO_AEAD_FIRST + 10] = {"aead-open/aes256gcm/1024", IMC_CAP_AES256GCM},
    [IMC_AUTO_AEAD_FIRST + 11] = {"aead-open/aes256gcm/16384", IMC_CAP_AES256GCM},
};

/* ---- slots ------------------------------------------------------------- */

static int aead_index(imc_aead aead)
{
    switch (aead) {
    case IMC_AEAD_CHACHA20POLY1305: return 0;
    case IMC_AEAD_AES256GCM: return 1;
    }
    return -1;
}

static const imc_aead aead_by_index[IMC_AUTO_AEADS] = {IMC_AEAD_CHACHA20POLY1305,
                                                       IMC_AEAD_AES256GCM};

static size_t aead_band(size_t msg_len)
{
    if (msg_len < 256)
        return 0;
    return msg_len < 4096 ? 1 : 2;
}

int imc_auto_aead_slot(imc_aead aead, int open, size_t msg_len)
{
    int a = aead_index(aead);
    if (a < 0)
        return -1;
    return IMC_AUTO_AEAD_FIRST + (a * 2 + (open != 0)) * IMC_AUTO_AEAD_BANDS +
           (int)aead_band(msg_len);
}

const char *imc_auto_slot_name(size_t slot)
{
    return slot < IMC_AUTO_SLOT_COUNT ? slots[slot].name : NULL;
}

/* AEAD slot -> algorithm index, direction, band. */
static void aead_slot_parts(size_t slot, int *a, int *open, size_t *band)
{
    size_t i = slot - IMC_AUTO_AEAD_FIRST;
    *band = i % IMC_AUTO_AEAD_BANDS;
    *open = (int)((i / IMC_AUTO_AEAD_BANDS) % 2);
    *a = (int)(i / (2 * IMC_AUTO_AEAD_BANDS));
}

/* True if b implements the slot and reports its capability. */
static bool has_slot(const imc_backend *b, size_t slot)
{
    bool fn;
    switch (slot) {
    case IMC_AUTO_RANDOM: fn = b->random != NULL; break;
    case IMC_AUTO_X25519_PUBLIC: fn = b->x25519_public != NULL; break;
    case IMC_AUTO_X25519: fn = b->x25519 != NULL; break;
    case IMC_AUTO_ED25519_PUBLIC: fn = b->ed25519_public != NULL; break;
    case IMC_AUTO_ED25519_SIGN: fn = b->ed25519_sign != NULL; break;
    case IMC_AUTO_ED25519_VERIFY: fn = b->ed25519_verify != NULL; break;
    case IMC_AUTO_P256_PUBLIC: fn = b->p256_public != NULL; break;
    case IMC_AUTO_P256_ECDH: fn = b->p256_ecdh != NULL; break;
    case IMC_AUTO_ECDSA_P256_SIGN: fn = b->ecdsa_p256_sign != NULL; break;
    case IMC_AUTO_ECDSA_P256_VERIFY: fn = b->ecdsa_p256_verify != NULL; break;
    case IMC_AUTO_SHA256: fn = b->sha256 != NULL; break;
    case IMC_AUTO_HMAC_SHA256: fn = b->hmac_sha256 != NULL; break;
    case IMC_AUTO_HKDF_SHA256: fn = b->hkdf_sha256 != NULL; break;
    default: {
        int a, open;
        size_t band;
        aead_slot_parts(slot, &a, &open, &band);
        fn = open ? b->aead_open != NULL : b->aead_seal != NULL;
        break;
    }
    }
    return fn && (b->caps() & slots[slot].cap) == slots[slot].cap;
}

/* ---- calibration ------------------------------------------------------- */

/* Fixed, valid inputs for every slot (public test data, not secrets). */
typedef struct calib {
    uint8_t x_sk[IMC_X25519_SECRET_BYTES], x_peer[IMC_X25519_PUBLIC_BYTES];
    uint8_t e_sk[IMC_ED25519_SECRET_BYTES], e_pk[IMC_ED25519_PUBLIC_BYTES];
    uint8_t e_sig[IMC_ED25519_SIGNATURE_BYTES];
    uint8_t p_sk[IMC_P256_SECRET_BYTES], p_pk[IMC_P256_PUBLIC_BYTES];
    uint8_t p_sig[IMC_ECDSA_P256_SIGNATURE_BYTES];
    uint8_t msg[64], key[IMC_AEAD_KEY_BYTES], nonce[IMC_AEAD_NONCE_BYTES];
    uint8_t out[128];
    uint8_t *pt;                                             /* CALIB_MAX_MSG */
    uint8_t *scratch;                                        /* CALIB_MAX_MSG + tag */
    uint8_t *sealed[IMC_AUTO_AEADS][IMC_AUTO_AEAD_BANDS];    /* band + tag */
    bool ready[IMC_AUTO_SLOT_COUNT];
} calib;

static const uint8_t hkdf_info[] = "imcore device key v1";

static imc_status run_once(calib *c, const imc_backend *b, size_t slot)
{
    switch (slot) {
    case IMC_AUTO_RANDOM: return b->random(c->out, 32);
    case IMC_AUTO_X25519_PUBLIC: return b->x25519_public(c->out, c->x_sk);
    case IMC_AUTO_X25519: return b->x25519(c->out, c->x_sk, c->x_peer);
    case IMC_AUTO_ED25519_PUBLIC: return b->ed25519_public(c->out, c->e_sk);
    case IMC_AUTO_ED25519_SIGN:
        return b->ed25519_sign(c->out, c->e_sk, c->e_pk, c->msg, sizeof c->msg);
    case IMC_AUTO_ED25519_VERIFY:
        return b->ed25519_verify(c->e_sig, c->e_pk, c->msg, sizeof c->msg);
    case IMC_AUTO_P256_PUBLIC: return b->p256_public(c->out, c->p_sk);
    case IMC_AUTO_P256_ECDH: return b->p256_ecdh(c->out, c->p_sk, c->p_pk);
    case IMC_AUTO_ECDSA_P256_SIGN:
        return b->ecdsa_p256_sign(c->out, c->p_sk, c->msg, sizeof c->msg);
    case IMC_AUTO_ECDSA_P256_VERIFY:
        return b->ecdsa_p256_verify(c->p_sig, c->p_pk, c->msg, sizeof c->msg);
    case IMC_AUTO_SHA256: return b->sha256(c->out, c->msg, sizeof c->msg);
    case IMC_AUTO_HMAC_SHA256:
        return b->hmac_sha256(c->out, c->key, sizeof c->key, c->msg, sizeof c->msg);
    case IMC_AUTO_HKDF_SHA256:
        return b->hkdf_sha256(c->out, 32, NULL, 0, c->key, sizeof c->key, hkdf_info,
                              sizeof hkdf_info - 1);
    default: break;
    }
    int a, open;
    size_t band;
    aead_slot_parts(slot, &a, &open, &band);
    size_t len = band_bytes[band];
    if (open)
        return b->aead_open(aead_by_index[a], c->scratch, c->key, c->nonce, NULL, 0,
                            c->sealed[a][band], len + IMC_AEAD_TAG_BYTES);
    return b->aead_seal(aead_by_index[a], c->scratch, c->key, c->nonce, NULL, 0, c->pt, len);
}

static imc_status run_batch(calib *c, const imc_backend *b, size_t slot, size_t k)
{
    imc_status st = IMC_OK;
    for (size_t i = 0; i < k && st == IMC_OK; i++)
        st = run_once(c, b, slot);
    return st;
}

static double now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The first component with the slot (input preparation, fallbacks). */
static const imc_backend *first_with(const imc_auto_plan *plan, size_t slot)
{
    for (size_t i = 0; i < plan->n_backends; i++)
        if (has_slot(plan->backends[i], slot))
            return plan->backends[i];
    return NULL;
}

static void calib_free(calib *c)
{
    free(c->pt);
    free(c->scratch);
    for (size_t a = 0; a < IMC_AUTO_AEADS; a++)
        for (size_t band = 0; band < IMC_AUTO_AEAD_BANDS; band++)
            free(c->sealed[a][band]);
}

/* Fills the inputs; a slot whose inputs could not be made stays !ready. */
static void calib_setup(calib *c, const imc_auto_plan *plan)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof c->x_sk; i++) {
        c->x_sk[i] = (uint8_t)(0x40 + i);
        c->e_sk[i] = (uint8_t)(0x80 + i);
        c->p_sk[i] = (uint8_t)(0x11 + i); /* 0x11.. < the P-256 order */
        c->key[i] = (uint8_t)(0xa0 ^ i);
    }
    for (size_t i = 0; i < sizeof c->msg; i++)
        c->msg[i] = (uint8_t)(3 * i + 1);
    for (size_t i = 0; i < sizeof c->nonce; i++)
        c->nonce[i] = (uint8_t)(0x5a + i);

    const imc_backend *b;
    c->ready[IMC_AUTO_RANDOM] = true;
    c->ready[IMC_AUTO_X25519_PUBLIC] = true;
    /* The peer is the key pair's own public key: a full-order point. */
    if ((b = first_with(plan, IMC_AUTO_X25519_PUBLIC)) != NULL &&
        b->x25519_public(c->x_peer, c->x_sk) == IMC_OK)
        c->ready[IMC_AUTO_X25519] = true;
    c->ready[IMC_AUTO_ED25519_PUBLIC] = true;
    if ((b = first_with(plan, IMC_AUTO_ED25519_PUBLIC)) != NULL &&
        b->ed25519_public(c->e_pk, c->e_sk) == IMC_OK) {
        c->ready[IMC_AUTO_ED25519_SIGN] = true;
        /* A valid signature, so that verify does all of its work. */
        if ((b = first_with(plan, IMC_AUTO_ED25519_SIGN)) != NULL &&
            b->ed25519_sign(c->e_sig, c->e_sk, c->e_pk, c->msg, sizeof c->msg) == IMC_OK)
            c->ready[IMC_AUTO_ED25519_VERIFY] = true;
    }
    c->ready[IMC_AUTO_P256_PUBLIC] = true;
    if ((b = first_with(plan, IMC_AUTO_P256_PUBLIC)) != NULL &&
        b->p256_public(c->p_pk, c->p_sk) == IMC_OK) {
        c->ready[IMC_AUTO_P256_ECDH] = true;
        c->ready[IMC_AUTO_ECDSA_P256_SIGN] = true;
        if ((b = first_with(plan, IMC_AUTO_ECDSA_P256_SIGN)) != NULL &&
            b->ecdsa_p256_sign(c->p_sig, c->p_sk, c->msg, sizeof c->msg) == IMC_OK)
            c->ready[IMC_AUTO_ECDSA_P256_VERIFY] = true;
    }
    c->ready[IMC_AUTO_SHA256] = true;
    c->ready[IMC_AUTO_HMAC_SHA256] = true;
    c->ready[IMC_AUTO_HKDF_SHA256] = true;

    c->pt = malloc(CALIB_MAX_MSG);
    c->scratch = malloc(CALIB_MAX_MSG + IMC_AEAD_TAG_BYTES);
    if (c->pt == NULL || c->scratch == NULL)
        return;
    for (size_t i = 0; i < CALIB_MAX_MSG; i++)
        c->pt[i] = (uint8_t)(i * 7 + 5);
    for (size_t slot = IMC_AUTO_AEAD_FIRST; slot < IMC_AUTO_SLOT_COUNT; slot++) {
        int a, open;
        size_t band;
        aead_slot_parts(slot, &a, &open, &band);
        if (!open) {
            c->ready[slot] = true;
            continue;
        }
        /* Open needs an authentic ciphertext (or it stops at the tag). */
        int seal_slot = imc_auto_aead_slot(aead_by_index[a], 0, band_bytes[band]);
        size_t len = band_bytes[band];
        c->sealed[a][band] = malloc(len + IMC_AEAD_TAG_BYTES);
        if (c->sealed[a][band] != NULL && (b = first_with(plan, (size_t)seal_slot)) != NULL &&
            b->aead_seal(aead_by_index[a], c->sealed[a][band], c->key, c->nonce, NULL, 0, c->pt,
                         len) == IMC_OK)
            c->ready[slot] = true;
    }
}

/* Times every candidate of one slot; returns false if none could run it. */
static bool calibrate_slot(imc_auto_plan *plan, calib *c, size_t slot, const size_t *cand,
                           size_t n)
{
    size_t batch[IMC_AUTO_MAX_BACKENDS];
    double best[IMC_AUTO_MAX_BACKENDS];
    bool alive[IMC_AUTO_MAX_BACKENDS];
    if (!c->ready[slot])
        return false;
    for (size_t j = 0; j < n; j++) {
        const imc_backend *b = plan->backends[cand[j]];
        best[j] = INFINITY;
        batch[j] = 1;
        /* One call to warm up (lazy set-up, caches), one to size batches. */
        alive[j] = run_once(c, b, slot) == IMC_OK;
        double t0 = now_ns();
        alive[j] = alive[j] && run_once(c, b, slot) == IMC_OK;
        double t = now_ns() - t0;
        if (t < 1.0)
            t = 1.0;
        double k = CALIB_BATCH_NS / t;
        batch[j] = k < 1.0 ? 1 : k > CALIB_MAX_BATCH ? CALIB_MAX_BATCH : (size_t)k;
    }
    for (size_t r = 0; r < CALIB_ROUNDS; r++) {
        for (size_t jj = 0; jj < n; jj++) {
            size_t j = r % 2 == 0 ? jj : n - 1 - jj; /* alternate who goes first */
            if (!alive[j])
                continue;
            double t0 = now_ns();
            alive[j] = run_batch(c, plan->backends[cand[j]], slot, batch[j]) == IMC_OK;
            double per = (now_ns() - t0) / (double)batch[j];
            if (alive[j] && per < best[j])
                best[j] = per;
        }
    }
    size_t win = n;
    for (size_t j = 0; j < n; j++) {
        if (!alive[j])
            continue;
        plan->ns[slot][cand[j]] = best[j];
        if (win == n || best[j] < best[win])
            win = j;
    }
    if (win == n)
        return false;
    plan->pick[slot] = plan->backends[cand[win]];
    return true;
}

/* ---- the profile: a small strict JSON reader --------------------------- */

typedef struct json {
    const char *start, *p, *end;
    unsigned depth;
} json;

typedef bool (*json_member_fn)(json *j, const char *key, size_t key_len, void *ctx);
typedef bool (*json_elem_fn)(json *j, void *ctx);

static void j_ws(json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool j_peek(json *j, char ch)
{
    j_ws(j);
    return j->p < j->end && *j->p == ch;
}

static bool j_eat(json *j, char ch)
{
    if (!j_peek(j, ch))
        return false;
    j->p++;
    return true;
}

static bool j_lit(json *j, const char *lit)
{
    size_t n = strlen(lit);
    j_ws(j);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool is_hex(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* A string; (*s, *n) receive its raw (still escaped) contents. */
static bool j_string(json *j, const char **s, size_t *n)
{
    if (!j_eat(j, '"'))
        return false;
    const char *begin = j->p;
    while (j->p < j->end && *j->p != '"') {
        unsigned char ch = (unsigned char)*j->p;
        if (ch < 0x20)
            return false;
        if (ch == '\\') {
            if (++j->p >= j->end)
                return false;
            char e = *j->p;
            if (e == 'u') {
                if (j->end - j->p < 5)
                    return false;
                for (int i = 1; i <= 4; i++)
                    if (!is_hex(j->p[i]))
                        return false;
                j->p += 4;
            } else if (e == '\0' || strchr("\"\\/bfnrt", e) == NULL) {
                return false;
            }
        }
        j->p++;
    }
    if (j->p >= j->end)
        return false;
    *s = begin;
    *n = (size_t)(j->p - begin);
    j->p++;
    return true;
}

static bool is_digit(const json *j, const char *p) { return p < j->end && *p >= '0' && *p <= '9'; }

/* A JSON number, converted without strtod (which follows the locale). */
static bool j_number(json *j, double *v)
{
    j_ws(j);
    const char *p = j->p;
    bool neg = false;
    double m = 0.0;
    long exp10 = 0;
    if (p < j->end && *p == '-') {
        neg = true;
        p++;
    }
    if (!is_digit(j, p))
        return false;
    if (*p == '0')
        p++;
    else
        while (is_digit(j, p))
            m = m * 10.0 + (*p++ - '0');
    if (p < j->end && *p == '.') {
        p++;
        if (!is_digit(j, p))
            return false;
        while (is_digit(j, p)) {
            m = m * 10.0 + (*p++ - '0');
            exp10--;
        }
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        long e = 0, sign = 1;
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            sign = *p++ == '-' ? -1 : 1;
        if (!is_digit(j, p))
            return false;
        while (is_digit(j, p)) {
            if (e < 100000)
                e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += sign * e;
    }
    if (exp10 > 400)
        m = m == 0.0 ? 0.0 : INFINITY;
    else if (exp10 < -400)
        m = 0.0;
    for (; exp10 > 0 && exp10 <= 400; exp10--)
        m *= 10.0;
    for (; exp10 < 0 && exp10 >= -400; exp10++)
        m /= 10.0;
    j->p = p;
    *v = neg ? -m : m;
    return true;
}

static bool j_value(json *j);

static bool j_object(json *j, json_member_fn fn, void *ctx)
{
    if (!j_eat(j, '{') || ++j->depth > JSON_MAX_DEPTH)
        return false;
    if (!j_eat(j, '}')) {
        do {
            const char *key;
            size_t key_len;
            if (!j_string(j, &key, &key_len) || !j_eat(j, ':'))
                return false;
            if (!(fn != NULL ? fn(j, key, key_len, ctx) : j_value(j)))
                return false;
        } while (j_eat(j, ','));
        if (!j_eat(j, '}'))
            return false;
    }
    j->depth--;
    return true;
}

static bool j_array(json *j, json_elem_fn fn, void *ctx)
{
    if (!j_eat(j, '[') || ++j->depth > JSON_MAX_DEPTH)
        return false;
    if (!j_eat(j, ']')) {
        do {
            if (!(fn != NULL ? fn(j, ctx) : j_value(j)))
                return false;
        } while (j_eat(j, ','));
        if (!j_eat(j, ']'))
            return false;
    }
    j->depth--;
    return true;
}

static bool j_value(json *j)
{
    const char *s;
    size_t n;
    double v;
    j_ws(j);
    if (j->p >= j->end)
        return false;
    switch (*j->p) {
    case '{': return j_object(j, NULL, NULL);
    case '[': return j_array(j, NULL, NULL);
    case '"': return j_string(j, &s, &n);
    case 't': return j_lit(j, "true");
    case 'f': return j_lit(j, "false");
    case 'n': return j_lit(j, "null");
    default: return j_number(j, &v);
    }
}

static bool key_is(const char *key, size_t key_len, const char *want)
{
    return strlen(want) == key_len && memcmp(key, want, key_len) == 0;
}

/* Medians (preferred) and plain iteration results per slot and component. */
typedef struct profile_times {
    double median[IMC_AUTO_SLOT_COUNT][IMC_AUTO_MAX_BACKENDS];
    double iter_sum[IMC_AUTO_SLOT_COUNT][IMC_AUTO_MAX_BACKENDS];
    unsigned iter_n[IMC_AUTO_SLOT_COUNT][IMC_AUTO_MAX_BACKENDS];
    const imc_auto_plan *plan;
    bool has_benchmarks;
} profile_times;

/* The fields of one "benchmarks" entry that matter here. */
typedef struct bench_entry {
    const char *name, *run_name, *run_type, *aggregate_name, *time_unit;
    size_t name_len, run_name_len, run_type_len, aggregate_name_len, time_unit_len;
    double real_time, cpu_time;
    bool has_real, has_cpu, error;
} bench_entry;

static bool capture_string(json *j, const char **s, size_t *n)
{
    /* Another type where a string is expected: not a usable entry, but
     * not malformed JSON either. */
    if (!j_peek(j, '"'))
        return j_value(j);
    return j_string(j, s, n);
}

static bool capture_number(json *j, double *v, bool *has)
{
    j_ws(j);
    if (j->p < j->end && (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))) {
        *has = true;
        return j_number(j, v);
    }
    return j_value(j);
}

static bool entry_member(json *j, const char *key, size_t key_len, void *ctx)
{
    bench_entry *e = ctx;
    if (key_is(key, key_len, "name"))
        return capture_string(j, &e->name, &e->name_len);
    if (key_is(key, key_len, "run_name"))
        return capture_string(j, &e->run_name, &e->run_name_len);
    if (key_is(key, key_len, "run_type"))
        return capture_string(j, &e->run_type, &e->run_type_len);
    if (key_is(key, key_len, "aggregate_name"))
        return capture_string(j, &e->aggregate_name, &e->aggregate_name_len);
    if (key_is(key, key_len, "time_unit"))
        return capture_string(j, &e->time_unit, &e->time_unit_len);
    if (key_is(key, key_len, "real_time"))
        return capture_number(j, &e->real_time, &e->has_real);
    if (key_is(key, key_len, "cpu_time"))
        return capture_number(j, &e->cpu_time, &e->has_cpu);
    if (key_is(key, key_len, "error_occurred")) {
        if (j_lit(j, "true")) {
            e->error = true;
            return true;
        }
        return j_value(j);
    }
    return j_value(j);
}

/* Splits "prim/<backend>/<slot>" into a component and a slot index. */
static bool match_name(const imc_auto_plan *plan, const char *s, size_t n, size_t *comp,
                       size_t *slot)
{
    static const char prefix[] = "prim/";
    if (n < sizeof prefix - 1 || memcmp(s, prefix, sizeof prefix - 1) != 0)
        return false;
    s += sizeof prefix - 1;
    n -= sizeof prefix - 1;
    for (size_t i = 0; i < plan->n_backends; i++) {
        const char *bn = plan->backends[i]->name;
        size_t bl = strlen(bn);
        if (n <= bl || memcmp(s, bn, bl) != 0 || s[bl] != '/')
            continue;
        for (size_t k = 0; k < IMC_AUTO_SLOT_COUNT; k++) {
            if (key_is(s + bl + 1, n - bl - 1, slots[k].name)) {
                *comp = i;
                *slot = k;
                return true;
            }
        }
    }
    return false;
}

static double unit_ns(const bench_entry *e)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
    if (e->time_unit == NULL)
        return 0.0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (key_is(e->time_unit, e->time_unit_len, units[i].unit))
            return units[i].ns;
    return 0.0;
}

static bool bench_elem(json *j, void *ctx)
{
    profile_times *pt = ctx;
    bench_entry e;
    memset(&e, 0, sizeof e);
    if (!j_peek(j, '{') || !j_object(j, entry_member, &e))
        return false;
    const char *name = e.run_name != NULL ? e.run_name : e.name;
    size_t name_len = e.run_name != NULL ? e.run_name_len : e.name_len;
    size_t comp, slot;
    double unit = unit_ns(&e);
    /* CPU time, as the primitive-floor table reports; real time if absent. */
    double t = e.has_cpu ? e.cpu_time : e.real_time;
    if (e.error || name == NULL || unit == 0.0 || !(e.has_cpu || e.has_real) ||
        !match_name(pt->plan, name, name_len, &comp, &slot))
        return true;
    t *= unit;
    if (!isfinite(t) || t <= 0.0)
        return true;
    if (e.run_type != NULL && key_is(e.run_type, e.run_type_len, "aggregate")) {
        if (e.aggregate_name != NULL && key_is(e.aggregate_name, e.aggregate_name_len, "median"))
            pt->median[slot][comp] = t;
    } else if (e.run_type == NULL || key_is(e.run_type, e.run_type_len, "iteration")) {
        pt->iter_sum[slot][comp] += t;
        pt->iter_n[slot][comp]++;
    }
    return true;
}

static bool top_member(json *j, const char *key, size_t key_len, void *ctx)
{
    profile_times *pt = ctx;
    if (!key_is(key, key_len, "benchmarks"))
        return j_value(j);
    pt->has_benchmarks = true;
    return j_peek(j, '[') && j_array(j, bench_elem, pt);
}

/* Reads the whole file (at most PROFILE_MAX_BYTES) into *buf. */
static bool read_file(const char *path, char **buf, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    *len = 0;
    *err = 0;
    if (f == NULL) {
        *err = errno;
        return false;
    }
    size_t cap = 0;
    bool ok = true;
    for (;;) {
        if (*len == cap) {
            size_t ncap = cap == 0 ? 65536 : cap * 2;
            char *nb = ncap <= PROFILE_MAX_BYTES + 1 ? realloc(*buf, ncap) : NULL;
            if (nb == NULL) {
                *err = ncap > PROFILE_MAX_BYTES + 1 ? EFBIG : ENOMEM;
                ok = false;
                break;
            }
            *buf = nb;
            cap = ncap;
        }
        size_t got = fread(*buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0) {
            if (ferror(f)) {
                *err = EIO;
                ok = false;
            }
            break;
        }
    }
    fclose(f);
    if (ok && *len > PROFILE_MAX_BYTES) {
        *err = EFBIG;
        ok = false;
    }
    if (!ok) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return ok;
}

static const char *errno_text(int err)
{
    switch (err) {
    case ENOENT: return "no such file";
    case EACCES: return "permission denied";
    case EISDIR: return "is a directory";
    case EFBIG: return "larger than 64 MiB";
    case ENOMEM: return "out of memory";
    case EIO: return "read error";
    default: return "cannot open it";
    }
}

/* Takes every slot for which the profile times at least two candidates;
 * the fastest of those wins. A candidate the profile has no time for is
 * not considered (a profile from a build with fewer backends chooses
 * among the ones it measured). */
static void apply_profile(imc_auto_plan *plan, const char *path, FILE *log)
{
    char *buf;
    size_t len;
    int err;
    if (!read_file(path, &buf, &len, &err)) {
        plan->profile = IMC_AUTO_PROFILE_UNREADABLE;
        if (log != NULL)
            fprintf(log, "imcore auto backend: IMC_AUTO_PROFILE=%s: %s; timing every primitive "
                         "instead\n", path, errno_text(err));
        return;
    }
    profile_times *pt = calloc(1, sizeof *pt);
    if (pt == NULL) {
        free(buf);
        plan->profile = IMC_AUTO_PROFILE_UNREADABLE;
        if (log != NULL)
            fprintf(log, "imcore auto backend: IMC_AUTO_PROFILE=%s: out of memory; timing every "
                         "primitive instead\n", path);
        return;
    }
    pt->plan = plan;
    json j = {buf, buf, buf + len, 0};
    bool ok = j_peek(&j, '{') && j_object(&j, top_member, pt);
    j_ws(&j);
    ok = ok && j.p == j.end && pt->has_benchmarks;
    if (!ok) {
        plan->profile = IMC_AUTO_PROFILE_MALFORMED;
        if (log != NULL)
            fprintf(log, "imcore auto backend: IMC_AUTO_PROFILE=%s: not google-benchmark JSON "
                         "(stopped at byte %zu of %zu); timing every primitive instead\n",
                    path, (size_t)(j.p - j.start), len);
        free(pt);
        free(buf);
        return;
    }
    for (size_t slot = 0; slot < IMC_AUTO_SLOT_COUNT; slot++) {
        if (plan->source[slot] != IMC_AUTO_SRC_CALIBRATED) /* not contested */
            continue;
        double t[IMC_AUTO_MAX_BACKENDS] = {0};
        size_t win = plan->n_backends, timed = 0;
        for (size_t i = 0; i < plan->n_backends; i++) {
            if (!has_slot(plan->backends[i], slot))
                continue;
            t[i] = pt->median[slot][i] > 0.0 ? pt->median[slot][i]
                   : pt->iter_n[slot][i] > 0  ? pt->iter_sum[slot][i] / pt->iter_n[slot][i]
                                              : 0.0;
            if (!(t[i] > 0.0))
                continue;
            timed++;
            if (win == plan->n_backends || t[i] < t[win])
                win = i;
        }
        if (timed < 2)
            continue;
        plan->pick[slot] = plan->backends[win];
        plan->source[slot] = IMC_AUTO_SRC_PROFILE;
        memcpy(plan->ns[slot], t, sizeof t);
        plan->from_profile++;
    }
    plan->profile = plan->from_profile > 0 ? IMC_AUTO_PROFILE_USED : IMC_AUTO_PROFILE_NO_ENTRIES;
    if (log != NULL && plan->from_profile == 0)
        fprintf(log, "imcore auto backend: IMC_AUTO_PROFILE=%s: no prim/<backend>/... results "
                     "for the backends to compare; timing every primitive instead\n", path);
    free(pt);
    free(buf);
}

/* ---- the plan ---------------------------------------------------------- */

static const char *source_text(imc_auto_source s)
{
    switch (s) {
    case IMC_AUTO_SRC_NONE: return "not available";
    case IMC_AUTO_SRC_ONLY: return "only one backend has it";
    case IMC_AUTO_SRC_PROFILE: return "profile";
    case IMC_AUTO_SRC_CALIBRATED: return "timed";
    case IMC_AUTO_SRC_FALLBACK: return "could not be timed; first backend";
    }
    return "?";
}

static void log_plan(const imc_auto_plan *plan, FILE *log)
{
    fprintf(log, "imcore auto backend: %zu choices from the profile, %zu timed (%.1f ms)\n",
            plan->from_profile, plan->calibrated, plan->calibration_ms);
    for (size_t slot = 0; slot < IMC_AUTO_SLOT_COUNT; slot++) {
        fprintf(log, "  %-34s %-8s (%s", slots[slot].name,
                plan->pick[slot] != NULL ? plan->pick[slot]->name : "-",
                source_text(plan->source[slot]));
        for (size_t i = 0; i < plan->n_backends; i++)
            if (plan->ns[slot][i] > 0.0)
                fprintf(log, "; %s %.0f ns", plan->backends[i]->name, plan->ns[slot][i]);
        fprintf(log, ")\n");
    }
}

imc_status imc_auto_plan_make(imc_auto_plan *plan, const imc_backend *const *backends, size_t n,
                              const char *profile_path, FILE *log)
{
    if (plan == NULL)
        return IMC_ERR_ARG;
    memset(plan, 0, sizeof *plan);
    if (backends == NULL || n == 0 || n > IMC_AUTO_MAX_BACKENDS)
        return IMC_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        if (backends[i] == NULL)
            return IMC_ERR_ARG;
        plan->backends[i] = backends[i];
        plan->caps |= backends[i]->caps();
    }
    plan->n_backends = n;

    /* Uncontested slots are settled at once; contested ones are marked
     * CALIBRATED until the profile claims them. */
    for (size_t slot = 0; slot < IMC_AUTO_SLOT_COUNT; slot++) {
        size_t have = 0;
        for (size_t i = 0; i < n; i++) {
            if (!has_slot(backends[i], slot))
                continue;
            if (have++ == 0)
                plan->pick[slot] = backends[i];
        }
        plan->source[slot] = have == 0   ? IMC_AUTO_SRC_NONE
                             : have == 1 ? IMC_AUTO_SRC_ONLY
                                         : IMC_AUTO_SRC_CALIBRATED;
    }

    if (profile_path != NULL)
        apply_profile(plan, profile_path, log);

    double t0 = now_ns();
    calib *c = NULL;
    for (size_t slot = 0; slot < IMC_AUTO_SLOT_COUNT; slot++) {
        if (plan->source[slot] != IMC_AUTO_SRC_CALIBRATED)
            continue;
        if (c == NULL) {
            c = malloc(sizeof *c);
            if (c != NULL)
                calib_setup(c, plan);
        }
        size_t cand[IMC_AUTO_MAX_BACKENDS], nc = 0;
        for (size_t i = 0; i < n; i++)
            if (has_slot(backends[i], slot))
                cand[nc++] = i;
        if (c != NULL && calibrate_slot(plan, c, slot, cand, nc)) {
            plan->calibrated++;
        } else {
            plan->pick[slot] = first_with(plan, slot);
            plan->source[slot] = IMC_AUTO_SRC_FALLBACK;
        }
    }
    if (c != NULL) {
        calib_free(c);
        free(c);
    }
    plan->calibration_ms = (now_ns() - t0) / 1e6;
    if (log != NULL)
        log_plan(plan, log);
    return IMC_OK;
}

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Appends to out (capacity cap) at *used, snprintf-style; *used counts
 * what was needed even past the end. */
PRINTF_LIKE(4, 5)
static void put(char *out, size_t cap, size_t *used, const char *fmt, ...)
{
    size_t room = *used < cap ? cap - *used : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room > 0 ? out + *used : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n;
}

static const char *pick_name(const imc_auto_plan *plan, size_t slot)
{
    return plan->pick[slot] != NULL ? plan->pick[slot]->name : "-";
}

size_t imc_auto_plan_describe(const imc_auto_plan *plan, const char *profile_path, char *out,
                              size_t cap)
{
    size_t used = 0;
    if (out != NULL && cap > 0)
        out[0] = '\0';
    else
        cap = 0;
    if (plan->profile == IMC_AUTO_PROFILE_USED && plan->calibrated == 0)
        put(out, cap, &used, "auto (from profile %s", profile_path);
    else if (plan->profile == IMC_AUTO_PROFILE_USED)
        put(out, cap, &used, "auto (from profile %s, rest timed", profile_path);
    else if (plan->profile != IMC_AUTO_PROFILE_UNSET)
        put(out, cap, &used, "auto (timed; profile %s unusable", profile_path);
    else
        put(out, cap, &used, "auto (timed at start-up");
    for (size_t slot = 0; slot < IMC_AUTO_AEAD_FIRST; slot++) {
        /* The floor's name without its size: "ed25519-sign", "random". */
        char label[32];
        const char *name = slots[slot].name;
        size_t len = strcspn(name, "/");
        if (len >= sizeof label)
            len = sizeof label - 1;
        memcpy(label, name, len);
        label[len] = '\0';
        put(out, cap, &used, "%s%s: %s", slot == 0 ? "; " : ", ", label, pick_name(plan, slot));
    }
    /* AEADs: one entry per algorithm and direction, picks per band. */
    static const char *const aead_names[IMC_AUTO_AEADS] = {"chacha20poly1305", "aes256gcm"};
    for (int a = 0; a < IMC_AUTO_AEADS; a++) {
        for (int open = 0; open < 2; open++) {
            put(out, cap, &used, ", %s-%s 64/1024/16384:", aead_names[a],
                open ? "open" : "seal");
            for (size_t band = 0; band < IMC_AUTO_AEAD_BANDS; band++) {
                size_t slot = (size_t)imc_auto_aead_slot(aead_by_index[a], open,
                                                         band_bytes[band]);
                put(out, cap, &used, "%s%s", band == 0 ? " " : "/", pick_name(plan, slot));
            }
        }
    }
    put(out, cap, &used, ")");
    return used;
}

/* ---- the backend ------------------------------------------------------- */

/* Registered only when there is something to choose between. */
#ifdef IMC_WITH_AUTO

/* Written once by auto_init_once(), read-only afterwards. */
static struct {
    const imc_backend *pick[IMC_AUTO_SLOT_COUNT];
    uint32_t caps;
    imc_status status;
    char version[1024];
} chosen;

static pthread_once_t auto_once = PTHREAD_ONCE_INIT;

/* An environment variable, ignored in set-uid/set-gid processes. */
static const char *env(const char *name)
{
#if defined(__GLIBC__)
    const char *v = secure_getenv(name);
#else
    const char *v = getenv(name);
#endif
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static void auto_init_once(void)
{
    /* Every other backend in the registry that initialises, in registry
     * order (earlier ones win ties). */
    const imc_backend *ready[IMC_AUTO_MAX_BACKENDS];
    size_t count = 0, n = 0;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count && n < IMC_AUTO_MAX_BACKENDS; i++) {
        const imc_backend *b = strcmp(names[i], imc_backend_auto.name) != 0
                                   ? imc_backend_get(names[i])
                                   : NULL;
        if (b != NULL)
            ready[n++] = b;
    }
    chosen.status = IMC_ERR_CRYPTO;
    if (n == 0)
        return;
    const char *verbose = env("IMC_AUTO_VERBOSE");
    const char *profile = env("IMC_AUTO_PROFILE");
    imc_auto_plan *plan = malloc(sizeof *plan);
    if (plan == NULL)
        return;
    FILE *log = verbose != NULL && strcmp(verbose, "0") != 0 ? stderr : NULL;
    if (imc_auto_plan_make(plan, ready, n, profile, log) == IMC_OK) {
        memcpy(chosen.pick, plan->pick, sizeof chosen.pick);
        chosen.caps = plan->caps;
        imc_auto_plan_describe(plan, profile, chosen.version, sizeof chosen.version);
        chosen.status = IMC_OK;
    }
    free(plan);
}

static imc_status auto_init(void)
{
    if (pthread_once(&auto_once, auto_init_once) != 0)
        return IMC_ERR_CRYPTO;
    return chosen.status;
}

static const char *auto_version(void) { return chosen.version; }

static uint32_t auto_caps(void) { return chosen.caps; }

/* Each entry: the chosen component, or UNSUPPORTED if none has it (the
 * policy layer never gets here then: caps() does not report it). */
#define PICK(slot, fn)                                                                         \
    const imc_backend *b_ = chosen.pick[(slot)];                                               \
    if (b_ == NULL || b_->fn == NULL)                                                          \
        return IMC_ERR_UNSUPPORTED;

static imc_status auto_random(uint8_t *out, size_t len)
{
    PICK(IMC_AUTO_RANDOM, random)
    return b_->random(out, len);
}

static imc_status auto_x25519_public(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                     const uint8_t sk[IMC_X25519_SECRET_BYTES])
{
    PICK(IMC_AUTO_X25519_PUBLIC, x25519_public)
    return b_->x25519_public(pk, sk);
}

static imc_status auto_x25519(uint8_t shared[IMC_X25519_SHARED_BYTES],
                              const uint8_t sk[IMC_X25519_SECRET_BYTES],
                              const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    PICK(IMC_AUTO_X25519, x25519)
    return b_->x25519(shared, sk, pk);
}

static imc_status auto_ed25519_public(uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                      const uint8_t sk[IMC_ED25519_SECRET_BYTES])
{
    PICK(IMC_AUTO_ED25519_PUBLIC, ed25519_public)
    return b_->ed25519_public(pk, sk);
}

static imc_status auto_ed25519_sign(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                    const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                                    const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                    const uint8_t *msg, size_t msg_len)
{
    PICK(IMC_AUTO_ED25519_SIGN, ed25519_sign)
    return b_->ed25519_sign(sig, sk, pk, msg, msg_len);
}

static imc_status auto_ed25519_verify(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                      const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                      const uint8_t *msg, size_t msg_len)
{
    PICK(IMC_AUTO_ED25519_VERIFY, ed25519_verify)
    return b_->ed25519_verify(sig, pk, msg, msg_len);
}

static imc_status auto_p256_public(uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                   const uint8_t sk[IMC_P256_SECRET_BYTES])
{
    PICK(IMC_AUTO_P256_PUBLIC, p256_public)
    return b_->p256_public(pk, sk);
}

static imc_status auto_p256_ecdh(uint8_t shared[IMC_P256_SHARED_BYTES],
                                 const uint8_t sk[IMC_P256_SECRET_BYTES],
                                 const uint8_t pk[IMC_P256_PUBLIC_BYTES])
{
    PICK(IMC_AUTO_P256_ECDH, p256_ecdh)
    return b_->p256_ecdh(shared, sk, pk);
}

static imc_status auto_ecdsa_p256_sign(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                       const uint8_t sk[IMC_P256_SECRET_BYTES],
                                       const uint8_t *msg, size_t msg_len)
{
    PICK(IMC_AUTO_ECDSA_P256_SIGN, ecdsa_p256_sign)
    return b_->ecdsa_p256_sign(sig, sk, msg, msg_len);
}

static imc_status auto_ecdsa_p256_verify(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                         const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                         const uint8_t *msg, size_t msg_len)
{
    PICK(IMC_AUTO_ECDSA_P256_VERIFY, ecdsa_p256_verify)
    return b_->ecdsa_p256_verify(sig, pk, msg, msg_len);
}

static imc_status auto_aead_seal(imc_aead aead, uint8_t *out,
                                 const uint8_t key[IMC_AEAD_KEY_BYTES],
                                 const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                 size_t ad_len, const uint8_t *in, size_t in_len)
{
    int slot = imc_auto_aead_slot(aead, 0, in_len);
    if (slot < 0)
        return IMC_ERR_UNSUPPORTED;
    PICK((size_t)slot, aead_seal)
    return b_->aead_seal(aead, out, key, nonce, ad, ad_len, in, in_len);
}

static imc_status auto_aead_open(imc_aead aead, uint8_t *out,
                                 const uint8_t key[IMC_AEAD_KEY_BYTES],
                                 const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                                 size_t ad_len, const uint8_t *in, size_t in_len)
{
    size_t msg_len = in_len >= IMC_AEAD_TAG_BYTES ? in_len - IMC_AEAD_TAG_BYTES : 0;
    int slot = imc_auto_aead_slot(aead, 1, msg_len);
    if (slot < 0)
        return IMC_ERR_UNSUPPORTED;
    PICK((size_t)slot, aead_open)
    return b_->aead_open(aead, out, key, nonce, ad, ad_len, in, in_len);
}

static imc_status auto_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in, size_t in_len)
{
    PICK(IMC_AUTO_SHA256, sha256)
    return b_->sha256(out, in, in_len);
}

static imc_status auto_hmac_sha256(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key,
                                   size_t key_len, const uint8_t *msg, size_t msg_len)
{
    PICK(IMC_AUTO_HMAC_SHA256, hmac_sha256)
    return b_->hmac_sha256(out, key, key_len, msg, msg_len);
}

static imc_status auto_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt,
                                   size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                                   const uint8_t *info, size_t info_len)
{
    PICK(IMC_AUTO_HKDF_SHA256, hkdf_sha256)
    return b_->hkdf_sha256(out, out_len, salt, salt_len, ikm, ikm_len, info, info_len);
}

const imc_backend imc_backend_auto = {
    .name = "auto",
    .init = auto_init,
    .version = auto_version,
    .caps = auto_caps,
    .random = auto_random,
    .x25519_public = auto_x25519_public,
    .x25519 = auto_x25519,
    .ed25519_public = auto_ed25519_public,
    .ed25519_sign = auto_ed25519_sign,
    .ed25519_verify = auto_ed25519_verify,
    .p256_public = auto_p256_public,
    .p256_ecdh = auto_p256_ecdh,
    .ecdsa_p256_sign = auto_ecdsa_p256_sign,
    .ecdsa_p256_verify = auto_ecdsa_p256_verify,
    .aead_seal = auto_aead_seal,
    .aead_open = auto_aead_open,
    .sha256 = auto_sha256,
    .hmac_sha256 = auto_hmac_sha256,
    .hkdf_sha256 = auto_hkdf_sha256,
};

#endif
