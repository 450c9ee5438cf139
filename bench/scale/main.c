/* imcore-scale: parse the options, open (or build) the population, run the
 * workers over this shard's message indices, write the final JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "scale.h"

static void utc_now(char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double process_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Writes the report to path atomically (a temporary file renamed into
 * place), or to standard output. */
static int write_report(const char *path, const scale_report_in *in)
{
    if (path == NULL || strcmp(path, "-") == 0) {
        bool ok = scale_report_json(stdout, in) && fflush(stdout) == 0;
        if (!ok)
            scale_err("writing the report to standard output failed");
        return ok ? 0 : SCALE_EXIT_FAIL;
    }
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return SCALE_EXIT_FAIL;
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    bool ok = f != NULL && scale_report_json(f, in);
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        scale_err("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : SCALE_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    static scale_config cfg;
    int rc = scale_parse_args(&cfg, argc, argv);
    if (rc >= 0)
        return rc;

    if (cfg.dry_run) {
        printf("messages %llu, shard %llu/%llu: indices [%llu, %llu); seed %llu, population %llu, "
               "backend %s, suite %u, threads %u\ndevices %s; group size %s; body size %s\n"
               "config id ",
               (unsigned long long)cfg.messages, (unsigned long long)cfg.shard_index,
               (unsigned long long)cfg.shard_count, (unsigned long long)cfg.lo,
               (unsigned long long)cfg.hi, (unsigned long long)cfg.seed,
               (unsigned long long)cfg.population, imc_backend_name(cfg.b),
               (unsigned)cfg.suite->id, cfg.threads, cfg.devices.canonical,
               cfg.members.canonical, cfg.body.canonical);
        for (size_t i = 0; i < sizeof cfg.config_id; i++)
            printf("%02x", cfg.config_id[i]);
        putchar('\n');
        return fflush(stdout) == 0 ? SCALE_EXIT_OK : SCALE_EXIT_FAIL;
    }

    char started[64];
    utc_now(started, sizeof started);
    static scale_run run;
    run.cfg = &cfg;
    scale_progress_init(&run.progress);
    scale_display *disp = scale_display_start(&cfg, &run.progress);

    static scale_pop pop;
    rc = scale_pop_open(&pop, &cfg, &run.progress);
    if (rc != 0) {
        scale_display_stop(disp);
        return rc;
    }
    run.pop = &pop;
    atomic_store(&run.next, cfg.lo);

    scale_thread_result *res = calloc(cfg.threads, sizeof *res);
    scale_worker_arg *args = calloc(cfg.threads, sizeof *args);
    pthread_t *tids = calloc(cfg.threads, sizeof *tids);
    if (res == NULL || args == NULL || tids == NULL) {
        scale_display_stop(disp);
        scale_err("out of memory");
        return SCALE_EXIT_FAIL;
    }
    scale_progress_phase(&run.progress, "messages", cfg.hi - cfg.lo);
    double t0 = scale_now();
    unsigned started_threads = 0;
    for (; started_threads < cfg.threads; started_threads++) {
        args[started_threads].run = &run;
        args[started_threads].res = &res[started_threads];
        if (pthread_create(&tids[started_threads], NULL, scale_worker_main,
                           &args[started_threads]) != 0)
            break;
    }
    if (started_threads == 0) {
        scale_run_fail(&run, "cannot start a worker thread");
    }
    for (unsigned i = 0; i < started_threads; i++)
        pthread_join(tids[i], NULL);
    double wall = scale_now() - t0;
    uint64_t peak_anon = scale_display_stop(disp);
    uint64_t anon_now = scale_rss_anon_bytes();
    if (anon_now > peak_anon)
        peak_anon = anon_now;

    if (atomic_load(&run.error_set)) {
        scale_err("%s", run.error);
        rc = SCALE_EXIT_FAIL;
    } else if (started_threads < cfg.threads) {
        scale_err("started %u of %u threads", started_threads, cfg.threads);
        rc = SCALE_EXIT_FAIL;
    }

    /* Merge the per-thread results. */
    static scale_thread_result sum;
    for (int s = 0; s < ST_COUNT; s++)
        scale_hist_init(&sum.hist[s]);
    for (unsigned i = 0; i < started_threads; i++) {
        for (int s = 0; s < ST_COUNT; s++)
            scale_hist_merge(&sum.hist[s], &res[i].hist[s]);
        const scale_totals *t = &res[i].t;
        scale_totals *u = &sum.t;
        u->messages += t->messages;
        u->deliveries += t->deliveries;
        u->envelope_bytes += t->envelope_bytes;
        u->delivery_bytes += t->delivery_bytes;
        u->body_bytes += t->body_bytes;
        u->conversations_1to1 += t->conversations_1to1;
        u->conversations_group += t->conversations_group;
        u->key_cache_hits += t->key_cache_hits;
        u->key_cache_misses += t->key_cache_misses;
        if (t->max_recipients_seen > u->max_recipients_seen)
            u->max_recipients_seen = t->max_recipients_seen;
        if (t->max_members_seen > u->max_members_seen)
            u->max_members_seen = t->max_members_seen;
        for (int k = 0; k < 4; k++)
            u->lanes[k] += t->lanes[k];
        sum.cpu_ns += res[i].cpu_ns;
        sum.loop_ns += res[i].loop_ns;
    }
    if (rc == 0 && sum.t.messages != cfg.hi - cfg.lo) {
        scale_err("ran %llu of %llu messages", (unsigned long long)sum.t.messages,
                  (unsigned long long)(cfg.hi - cfg.lo));
        rc = SCALE_EXIT_FAIL;
    }
    if (rc == 0) {
        scale_report_in in = {&cfg,  &pop, &sum, wall, process_cpu(), scale_peak_rss_bytes(),
                              peak_anon, started};
        rc = write_report(cfg.out_path, &in);
        uint8_t d[IMC_SHA256_BYTES];
        if (rc == 0 && scale_final_digest(d, &cfg, &sum.t) == IMC_OK && cfg.progress != SCALE_PROGRESS_NONE) {
            fprintf(stderr,
                    "%s: %llu messages, %llu deliveries, every one decrypted and checked, in "
                    "%.1f s (%.0f msg/s on %u threads); peak RSS %.0f MiB; digest ",
                    SCALE_PROG, (unsigned long long)sum.t.messages,
                    (unsigned long long)sum.t.deliveries, wall,
                    wall > 0 ? (double)sum.t.messages / wall : 0, cfg.threads,
                    (double)scale_peak_rss_bytes() / 1048576.0);
            for (int i = 0; i < 8; i++)
                fprintf(stderr, "%02x", d[i]);
            fprintf(stderr, "...%s%s\n", cfg.out_path ? "; report in " : "",
                    cfg.out_path ? cfg.out_path : "");
        }
    }
    free(res);
    free(args);
    free(tids);
    scale_pop_close(&pop);
    return rc;
}
