/* The cost of one message format, measured through the public API only, so
 * that the same source compiles against two versions of the library
 * (scripts/wire-v1-v2 builds it against the last version-1 tree and the
 * current one, and runs both in one session):
 *
 *   wire_cost BACKEND SUITE N REPS
 *
 * prints one JSON object: the format version, the envelope and delivery
 * sizes for N devices and a 64-byte body, and the median thread-CPU time of
 * encrypt (to N devices) and of decrypt (of the first device's delivery)
 * over REPS runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imcore/imcore.h"

#define BODY_LEN 64
#define HANDLE "alice@example.com"

static double cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int die(const char *what, imc_status st)
{
    fprintf(stderr, "wire_cost: %s: %s\n", what, imc_status_str(st));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: wire_cost BACKEND SUITE N REPS\n");
        return 2;
    }
    const imc_backend *b = imc_backend_get(argv[1]);
    uint32_t suite = (uint32_t)atoi(argv[2]);
    size_t n = (size_t)atoi(argv[3]), reps = (size_t)atoi(argv[4]);
    if (b == NULL || n == 0 || n > IMC_MAX_RECIPIENTS || reps == 0) {
        fprintf(stderr, "wire_cost: bad arguments\n");
        return 2;
    }
    uint8_t seed[IMC_RNG_SEED_BYTES] = {'w', 'i', 'r', 'e'};
    imc_rng rng;
    imc_rng_init_deterministic(&rng, seed, 0);
    imc_device_keys sender, *dev = calloc(n, sizeof *dev);
    imc_device_public *pub = calloc(n, sizeof *pub);
    imc_delivery_view *views = calloc(n, sizeof *views);
    double *t = calloc(reps, sizeof *t);
    size_t cap = imc_msg_envelope_size(suite, strlen(HANDLE), n, BODY_LEN);
    uint8_t *env = malloc(cap), *del = malloc(cap + 64), body[BODY_LEN] = {0}, out[BODY_LEN];
    if (dev == NULL || pub == NULL || views == NULL || t == NULL || env == NULL || del == NULL)
        return die("allocation", IMC_ERR_NOMEM);
    imc_status st = imc_keys_generate(&sender, b, &rng, suite, 1);
    for (size_t i = 0; i < n && st == IMC_OK; i++) {
        st = imc_keys_generate(&dev[i], b, &rng, suite, 1000 + i);
        pub[i] = dev[i].pub;
    }
    if (st != IMC_OK)
        return die("keygen", st);
    imc_msg_send req = {(const uint8_t *)HANDLE, strlen(HANDLE), &sender, pub, n,
                        1700000000000ull, body, BODY_LEN};
    size_t env_len = 0, count = 0, del_len = 0;
    for (size_t r = 0; r < reps; r++) {
        double t0 = cpu_us();
        st = imc_msg_encrypt(env, cap, &env_len, b, NULL, &req);
        t[r] = cpu_us() - t0;
        if (st != IMC_OK)
            return die("encrypt", st);
    }
    double enc_us = median(t, reps);
    st = imc_msg_fanout(views, n, &count, env, env_len);
    if (st == IMC_OK)
        st = imc_delivery_view_copy(del, cap + 64, &del_len, &views[0]);
    if (st != IMC_OK)
        return die("fanout", st);
    imc_msg_peer peer = {(const uint8_t *)HANDLE, strlen(HANDLE), &sender.pub};
    imc_msg_received info;
    for (size_t r = 0; r < reps; r++) {
        double t0 = cpu_us();
        /* No replay state: both versions take NULL, and the clock is the
         * message's own time. */
        st = imc_msg_decrypt(out, sizeof out, &info, b, &dev[0], &peer, NULL, req.timestamp_ms,
                             del, del_len);
        t[r] = cpu_us() - t0;
        if (st != IMC_OK)
            return die("decrypt", st);
    }
    double dec_us = median(t, reps);
    printf("{\"version\": %d, \"backend\": \"%s\", \"library\": \"%s\", \"suite\": %u, "
           "\"devices\": %zu, "
           "\"envelope_bytes\": %zu, \"delivery_bytes\": %zu, \"encrypt_us\": %.2f, "
           "\"decrypt_us\": %.2f}\n",
           IMC_MSG_VERSION, imc_backend_name(b), imc_backend_version(b), suite, n, env_len,
           del_len, enc_us, dec_us);
    imc_keys_wipe(&sender);
    for (size_t i = 0; i < n; i++)
        imc_keys_wipe(&dev[i]);
    free(dev);
    free(pub);
    free(views);
    free(t);
    free(env);
    free(del);
    return 0;
}
