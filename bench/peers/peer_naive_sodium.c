/* Peer (a): the naive libsodium way (one crypto_box_seal and one signature per device copy).
 *
 * The sender makes one copy of the whole message per recipient device: it
 * seals the body to the device's X25519 key with crypto_box_seal (a fresh
 * ephemeral key pair, a DH, XSalsa20-Poly1305 over the whole body) and signs
 * the sealed copy with crypto_sign_detached (Ed25519). A device checks the
 * signature and opens its copy. So each extra device costs a key
 * generation, a DH, a pass over the body and a signature over the body,
 * where imcore pays one DH and a 32-byte wrap.
 *
 * Names:
 *   peer/naive-sodium/send/dev:<N>/body:<B>    one message to N devices
 *   peer/naive-sodium/receive/dev:1/body:<B>   one device's copy
 * N in imc_bench_fanouts and B in imc_bench_body_sizes (the core paths'
 * grid). Items are messages; the counter per_device_us is the CPU time per
 * device copy (send: time per message / N). Receive does not depend on N.
 *
 * The copies go to separate, preallocated slots (sealed body || signature),
 * as they would to N separate deliveries; nothing is allocated in the timed
 * loop. Keys are derived from fixed seeds (crypto_*_seed_keypair), built
 * once, on first use, for up to the largest fan-out; crypto_box_seal still
 * draws its ephemeral keys from the system generator, as it must. Every
 * libsodium status is checked; a failure ends the run (imc_bench_skip). */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "benches.h"
#include "imc_bench.h"

#define NAME_BYTES 96

/* Sender signing key, device key pairs and the body, built once. */
static struct {
    const char *error; /* NULL once built */
    size_t devices;
    size_t body_max;
    uint8_t sign_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sign_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t (*dev_pk)[crypto_box_PUBLICKEYBYTES];
    uint8_t (*dev_sk)[crypto_box_SECRETKEYBYTES];
    uint8_t *body;
} world;

static pthread_once_t world_once = PTHREAD_ONCE_INIT;

typedef struct peer_arg {
    size_t n;    /* devices (send) */
    size_t body; /* body bytes */
} peer_arg;

static size_t max_of(const size_t *v, size_t count)
{
    size_t m = 0;
    for (size_t i = 0; i < count; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

/* A 32-byte seed: a label byte and an index, the rest fixed. */
static void seed_of(uint8_t seed[32], uint8_t label, uint32_t index)
{
    for (size_t i = 0; i < 32; i++)
        seed[i] = (uint8_t)(0x5e ^ i);
    seed[0] = label;
    seed[1] = (uint8_t)index;
    seed[2] = (uint8_t)(index >> 8);
    seed[3] = (uint8_t)(index >> 16);
    seed[4] = (uint8_t)(index >> 24);
}

static void world_init(void)
{
    uint8_t seed[32];
    world.error = "naive-sodium: sodium_init failed";
    if (sodium_init() < 0)
        return;
    world.devices = max_of(imc_bench_fanouts, IMC_BENCH_FANOUT_COUNT);
    world.body_max = max_of(imc_bench_body_sizes, IMC_BENCH_BODY_COUNT);
    world.dev_pk = calloc(world.devices, sizeof world.dev_pk[0]);
    world.dev_sk = calloc(world.devices, sizeof world.dev_sk[0]);
    world.body = malloc(world.body_max);
    if (world.dev_pk == NULL || world.dev_sk == NULL || world.body == NULL) {
        world.error = "naive-sodium: out of memory";
        return;
    }
    world.error = "naive-sodium: key generation failed";
    seed_of(seed, 's', 0);
    if (crypto_sign_seed_keypair(world.sign_pk, world.sign_sk, seed) != 0)
        return;
    for (size_t d = 0; d < world.devices; d++) {
        seed_of(seed, 'd', (uint32_t)d);
        if (crypto_box_seed_keypair(world.dev_pk[d], world.dev_sk[d], seed) != 0)
            return;
    }
    seed_of(seed, 'b', 0);
    randombytes_buf_deterministic(world.body, world.body_max, seed);
    sodium_memzero(seed, sizeof seed);
    world.error = NULL;
}

static bool world_ready(imc_bench_state *st)
{
    if (pthread_once(&world_once, world_init) != 0) {
        imc_bench_skip(st, "naive-sodium: pthread_once failed");
        return false;
    }
    if (world.error != NULL) {
        imc_bench_skip(st, world.error);
        return false;
    }
    return true;
}

/* One device's copy: the sealed body, then the signature over it. */
static size_t sealed_len(size_t body) { return body + crypto_box_SEALBYTES; }
static size_t copy_len(size_t body) { return sealed_len(body) + crypto_sign_BYTES; }

static bool seal_and_sign(uint8_t *copy, size_t body, const uint8_t pk[crypto_box_PUBLICKEYBYTES])
{
    size_t n = sealed_len(body);
    return crypto_box_seal(copy, world.body, body, pk) == 0 &&
           crypto_sign_detached(copy + n, NULL, copy, n, world.sign_sk) == 0;
}

/* Items are messages. per_device_us: the loop's CPU time (what
 * google-benchmark reports as CPU time) per message and device. */
static void per_device_counter(imc_bench_state *st, size_t n, int64_t cpu_ns)
{
    int64_t iters = imc_bench_iterations(st);
    imc_bench_set_items_processed(st, iters);
    if (iters > 0 && !imc_bench_error_occurred(st))
        imc_bench_counter(st, "per_device_us", (double)cpu_ns / 1e3 / (double)iters / (double)n,
                          0);
}

static void bm_send(imc_bench_state *st, void *arg)
{
    const peer_arg *a = arg;
    if (!world_ready(st))
        return;
    const size_t slot = copy_len(a->body);
    uint8_t *out = malloc(a->n * slot);
    if (out == NULL) {
        imc_bench_skip(st, "out of memory");
        return;
    }
    int64_t t0 = imc_bench_cpu_ns();
    while (imc_bench_keep_running(st)) {
        bool ok = true;
        for (size_t d = 0; d < a->n && ok; d++)
            ok = seal_and_sign(out + d * slot, a->body, world.dev_pk[d]);
        if (!ok) {
            imc_bench_skip(st, "crypto_box_seal/crypto_sign_detached failed");
            break;
        }
        imc_bench_do_not_optimize(out);
    }
    per_device_counter(st, a->n, imc_bench_cpu_ns() - t0);
    free(out);
}

/* Cycles through imc_bench_receive_pool(body) distinct copies (fresh
 * ephemeral key and signature each), as imcore's decrypt does. */
static void bm_receive(imc_bench_state *st, void *arg)
{
    const peer_arg *a = arg;
    if (!world_ready(st))
        return;
    const size_t n = sealed_len(a->body), slot = copy_len(a->body);
    const size_t pool = imc_bench_receive_pool(a->body);
    uint8_t *copies = malloc(pool * slot);
    uint8_t *plain = malloc(a->body);
    bool ready = copies != NULL && plain != NULL;
    if (!ready)
        imc_bench_skip(st, "out of memory");
    for (size_t i = 0; ready && i < pool; i++) {
        uint8_t *copy = copies + i * slot;
        ready = seal_and_sign(copy, a->body, world.dev_pk[0]) &&
                crypto_sign_verify_detached(copy + n, copy, n, world.sign_pk) == 0 &&
                crypto_box_seal_open(plain, copy, n, world.dev_pk[0], world.dev_sk[0]) == 0 &&
                memcmp(plain, world.body, a->body) == 0;
        if (!ready)
            imc_bench_skip(st, "naive-sodium: the copy does not round-trip");
    }
    if (ready) {
        size_t i = 0;
        int64_t t0 = imc_bench_cpu_ns();
        while (imc_bench_keep_running(st)) {
            const uint8_t *copy = copies + i * slot;
            if (crypto_sign_verify_detached(copy + n, copy, n, world.sign_pk) != 0 ||
                crypto_box_seal_open(plain, copy, n, world.dev_pk[0], world.dev_sk[0]) != 0) {
                imc_bench_skip(st, "crypto_sign_verify_detached/crypto_box_seal_open failed");
                break;
            }
            imc_bench_do_not_optimize(plain);
            i = i + 1 == pool ? 0 : i + 1;
        }
        per_device_counter(st, 1, imc_bench_cpu_ns() - t0);
    }
    free(copies);
    if (plain != NULL)
        sodium_memzero(plain, a->body);
    free(plain);
}

static void reg(const char *name, imc_bench_fn *fn, size_t n, size_t body)
{
    peer_arg a = {n, body};
    imc_bench *b = imc_bench_register_copy(name, fn, &a, sizeof a);
    if (b == NULL)
        fprintf(stderr, "imcore-bench: cannot register %s\n", name);
    imc_bench_unit(b, IMC_BENCH_US);
}

void imc_bench_register_peer_naive_sodium(void)
{
    char name[NAME_BYTES];
    for (size_t k = 0; k < IMC_BENCH_BODY_COUNT; k++) {
        size_t body = imc_bench_body_sizes[k];
        for (size_t f = 0; f < IMC_BENCH_FANOUT_COUNT; f++) {
            size_t n = imc_bench_fanouts[f];
            snprintf(name, sizeof name, "peer/naive-sodium/send/dev:%zu/body:%zu", n, body);
            reg(name, bm_send, n, body);
        }
    }
    for (size_t k = 0; k < IMC_BENCH_BODY_COUNT; k++) {
        size_t body = imc_bench_body_sizes[k];
        snprintf(name, sizeof name, "peer/naive-sodium/receive/dev:1/body:%zu", body);
        reg(name, bm_receive, 1, body);
    }
}
