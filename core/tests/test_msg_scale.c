/* Fan-out at scale: a message to 1, 2, 8, 128 and 1024 devices decrypts on
 * every device, for every suite, encrypted on every backend that supports
 * it and decrypted on every backend that supports it (so across backends
 * too). Body and every field of the received info are checked; deliveries
 * come in device-id order whatever the order of the recipient list; a few
 * deliveries are tried on the wrong device, and a few are replayed. */
#include <time.h>

#include "msg_fixture.h"

#define MAXDEV 1024

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = "imcore test_msg_scale seed 0001";
static const size_t FANOUT[] = {1, 2, 8, 128, MAXDEV};
static const size_t BODY_LEN[] = {0, 1, 100, 1000, 4096};

static double now(void)
{
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static unsigned long n_reported;

/* Decrypts every delivery of m on its device with backend bd. */
static void decrypt_all(const fx_party *p, const fx_msg *m, const imc_backend *bd,
                        const uint8_t *body, size_t body_len, uint64_t ts, const char *tag)
{
    uint8_t *out = fx_alloc(body_len);
    imc_replay *rc = NULL;
    size_t bad = 0;
    for (size_t j = 0; j < m->n; j++) {
        size_t dev = fx_find_device(p, m->del_dev[j]);
        /* Envelope order is device-id order. */
        if (j > 0 && m->del_dev[j] <= m->del_dev[j - 1])
            bad++;
        if (dev == p->n) {
            bad++;
            continue;
        }
        /* A fresh replay state for some of them. */
        bool with_cache = j % 61 == 0 || j == m->n - 1;
        if (with_cache) {
            imc_replay_close(rc);
            rc = fx_replay(bd);
        }
        imc_msg_received info;
        memset(&info, 0xAA, sizeof info);
        imc_status st = fx_open(out, body_len, &info, bd, p, dev, with_cache ? rc : NULL,
                                m->del[j], m->del_len[j]);
        fx_layout L;
        bool ok = st == IMC_OK && fx_layout_read(&L, m->del[j], m->del_len[j]) &&
                  fx_info_ok(&info, p, ts, body_len, m->del[j] + L.mid) &&
                  (body_len == 0 || memcmp(out, body, body_len) == 0);
        if (ok && with_cache) {
            imc_status st2 = fx_open(out, body_len, &info, bd, p, dev, rc, m->del[j],
                                     m->del_len[j]);
            ok = st2 == IMC_ERR_REPLAY && fx_all(out, body_len, 0);
        }
        if (!ok) {
            bad++;
            if (n_reported++ < 20)
                fprintf(stderr, "  [%s] delivery %zu (device %zu): %s\n", tag, j, dev,
                        imc_status_str(st));
        }
    }
    CHECK(bad == 0);
    /* A few deliveries on the wrong device. */
    for (size_t j = 0; j < m->n && j < 4 && p->n > 1; j++) {
        size_t dev = fx_find_device(p, m->del_dev[j]);
        size_t other = (dev + 1) % p->n;
        imc_msg_received info;
        CHECK_ST(fx_open(out, body_len, &info, bd, p, other, NULL, m->del[j], m->del_len[j]),
                 IMC_ERR_AUTH);
    }
    imc_replay_close(rc);
    free(out);
}

static void run_suite(const imc_suite *s)
{
    const imc_backend *bs[FX_MAXB];
    size_t nb = fx_backends_for(bs, s);
    if (nb == 0) {
        imc_test_skip(s->short_name, "no backend supports it here");
        return;
    }
    /* The keys do not depend on the backend (deterministic RNG). */
    fx_party p;
    CHECK_OK(fx_party_init(&p, bs[0], s->id, MAXDEV, "scale@example.com", SEED, s->id));
    imc_device_public *shuffled = fx_alloc(MAXDEV * sizeof *shuffled);
    for (size_t e = 0; e < nb; e++) {
        for (size_t f = 0; f < sizeof FANOUT / sizeof FANOUT[0]; f++) {
            size_t n = FANOUT[f], body_len = BODY_LEN[f];
            uint8_t *body = fx_alloc(body_len);
            for (size_t i = 0; i < body_len; i++)
                body[i] = (uint8_t)(i * 31 + n);
            /* The recipient list in order (1, 1024), reversed (8) or
             * shuffled (2, 128): the envelope is in id order anyway. */
            imc_rng rng;
            imc_rng_init_deterministic(&rng, SEED, 100 + f);
            const imc_device_public *rcpt = p.pub;
            if (f == 2) {
                for (size_t i = 0; i < n; i++)
                    shuffled[i] = p.pub[n - 1 - i];
                rcpt = shuffled;
            } else if (f % 2 == 1) {
                memcpy(shuffled, p.pub, n * sizeof *shuffled);
                for (size_t i = n - 1; i > 0; i--) {
                    uint8_t r[4];
                    CHECK_OK(imc_rng_fill(&rng, NULL, r, sizeof r));
                    size_t j = fx_get32(r) % (i + 1);
                    imc_device_public t = shuffled[i];
                    shuffled[i] = shuffled[j];
                    shuffled[j] = t;
                }
                rcpt = shuffled;
            }
            uint64_t ts = FX_TS + f;
            fx_msg m;
            double t0 = now();
            imc_status st = fx_encrypt_to(&m, &p, bs[e], &rng, rcpt, n, ts, body, body_len);
            CHECK_OK(st);
            if (st == IMC_OK)
                CHECK_OK(fx_fanout(&m));
            CHECK(m.n == n);
            CHECK(m.env_len == imc_msg_envelope_size(s->id, p.handle_len, n, body_len));
            for (size_t j = 0; j < m.n; j++)
                CHECK(m.del_len[j] == imc_msg_delivery_size(s->id, p.handle_len, n, body_len));
            double t1 = now();
            for (size_t d = 0; d < nb; d++) {
                char tag[96];
                snprintf(tag, sizeof tag, "%s %s->%s n=%zu", s->short_name,
                         imc_backend_name(bs[e]), imc_backend_name(bs[d]), n);
                double t2 = now();
                decrypt_all(&p, &m, bs[d], body, body_len, ts, tag);
                if (n == MAXDEV)
                    printf("  %-40s encrypt %6.1f ms, decrypt all %6.1f ms\n", tag,
                           (t1 - t0) * 1e3, (now() - t2) * 1e3);
            }
            fx_msg_free(&m);
            free(body);
        }
    }
    free(shuffled);
    fx_party_free(&p);
}

int main(void)
{
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++)
        run_suite(imc_suite_get(id));
    return imc_test_end();
}
