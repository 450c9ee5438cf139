/* imcore-scale: parse the options, open (or build) the population, run the
 * workers over this shard's message indices, write the final JSON. */
#include <errno.h>
#include <signal.h>
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

/* The 1, 5 and 15-minute load averages (-1 where unknown): the machine
 * may be shared, and the report says how busy it was. */
static void load_average(double out[3])
{
    out[0] = out[1] = out[2] = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f == NULL)
        return;
    if (fscanf(f, "%lf %lf %lf", &out[0], &out[1], &out[2]) != 3)
        out[0] = out[1] = out[2] = -1;
    fclose(f);
}

/* SIGTERM (Slurm's scancel and time limit, Kubernetes' pod deletion) and
 * SIGINT: stop at the next chunk boundary and save a checkpoint. */
static volatile sig_atomic_t g_signal;
static void on_signal(int sig) { g_signal = sig; }

/* Starts a round and waits until every worker is idle again; with a
 * checkpoint file, pauses the workers every checkpoint_interval seconds
 * (or at a signal). */
static void one_round(scale_run *run, unsigned workers, double interval)
{
    pthread_mutex_lock(&run->round_lock);
    run->idle = 0;
    run->generation++;
    pthread_cond_broadcast(&run->round_go);
    double until = scale_now() + interval;
    while (run->idle < workers) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000; /* look at signals and the clock 5 times a second */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&run->round_idle, &run->round_lock, &ts);
        if (g_signal != 0 || scale_now() >= until)
            atomic_store(&run->pause, true);
    }
    pthread_mutex_unlock(&run->round_lock);
    atomic_store(&run->pause, false);
}

/* The message phase: rounds until every index is done, a message fails or
 * a signal comes; a checkpoint after every round but the last. */
static int run_rounds(scale_run *run, scale_checkpoint *ck, scale_thread_result *res,
                      unsigned workers, double t0, double cpu0)
{
    const scale_config *cfg = run->cfg;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (cfg->checkpoint_path != NULL) {
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    }
    /* Without a checkpoint file, one round does everything. */
    double interval = cfg->checkpoint_path != NULL ? cfg->checkpoint_interval : 1e300;
    int rc = 0;
    while (workers > 0) {
        one_round(run, workers, interval);
        uint64_t next = atomic_load(&run->next);
        if (next > cfg->hi)
            next = cfg->hi;
        atomic_store(&run->next, next); /* undo the overshoot of the last takes */
        if (atomic_load(&run->stop) || next == cfg->hi || cfg->checkpoint_path == NULL)
            break;
        scale_checkpoint c = *ck;
        c.next = next;
        c.wall_seconds += scale_now() - t0;
        c.process_cpu_seconds += process_cpu() - cpu0;
        for (unsigned i = 0; i < workers; i++)
            scale_result_add(&c.res, &res[i]);
        rc = scale_checkpoint_save(&c, cfg);
        if (rc != 0)
            break;
        if (g_signal != 0) {
            scale_err("stopped by signal %d after %llu of %llu messages; checkpoint %s saved, "
                      "run the same command again to resume",
                      (int)g_signal, (unsigned long long)(next - cfg->lo),
                      (unsigned long long)(cfg->hi - cfg->lo), cfg->checkpoint_path);
            rc = SCALE_EXIT_FAIL;
            break;
        }
    }
    pthread_mutex_lock(&run->round_lock);
    run->finished = true;
    pthread_cond_broadcast(&run->round_go);
    pthread_mutex_unlock(&run->round_lock);
    return rc;
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
    pthread_mutex_init(&run.round_lock, NULL);
    pthread_cond_init(&run.round_go, NULL);
    pthread_cond_init(&run.round_idle, NULL);
    scale_progress_init(&run.progress);
    scale_display *disp = scale_display_start(&cfg, &run.progress);

    static scale_pop pop;
    rc = scale_pop_open(&pop, &cfg, &run.progress);
    if (rc != 0) {
        scale_display_stop(disp);
        return rc;
    }
    run.pop = &pop;

    static scale_checkpoint ck;
    rc = scale_checkpoint_load(&ck, &cfg);
    if (rc != 0) {
        scale_display_stop(disp);
        scale_pop_close(&pop);
        return rc;
    }
    if (ck.resumes > 0 && cfg.progress != SCALE_PROGRESS_NONE)
        fprintf(stderr, "%s: resuming from checkpoint %s: %llu of %llu messages done\n",
                SCALE_PROG, cfg.checkpoint_path, (unsigned long long)(ck.next - cfg.lo),
                (unsigned long long)(cfg.hi - cfg.lo));
    atomic_store(&run.next, ck.next);

    scale_thread_result *res = calloc(cfg.threads, sizeof *res);
    scale_worker_arg *args = calloc(cfg.threads, sizeof *args);
    pthread_t *tids = calloc(cfg.threads, sizeof *tids);
    if (res == NULL || args == NULL || tids == NULL) {
        scale_display_stop(disp);
        scale_err("out of memory");
        return SCALE_EXIT_FAIL;
    }
    scale_progress_phase(&run.progress, "messages", cfg.hi - cfg.lo, ck.next - cfg.lo);
    double load0[3], load1[3];
    load_average(load0);
    double t0 = scale_now(), cpu0 = process_cpu();
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
    rc = run_rounds(&run, &ck, res, started_threads, t0, cpu0);
    for (unsigned i = 0; i < started_threads; i++)
        pthread_join(tids[i], NULL);
    double wall = scale_now() - t0;
    load_average(load1);
    uint64_t peak_anon = scale_display_stop(disp);
    uint64_t anon_now = scale_rss_anon_bytes();
    if (anon_now > peak_anon)
        peak_anon = anon_now;

    if (atomic_load(&run.error_set)) {
        scale_err("%s", run.error);
        rc = SCALE_EXIT_FAIL;
    } else if (started_threads < cfg.threads && rc == 0) {
        scale_err("started %u of %u threads", started_threads, cfg.threads);
        rc = SCALE_EXIT_FAIL;
    }

    /* Merge the per-thread results onto what the checkpoint brought. */
    static scale_thread_result sum;
    sum = ck.res;
    for (unsigned i = 0; i < started_threads; i++)
        scale_result_add(&sum, &res[i]);
    if (rc == 0 && sum.t.messages != cfg.hi - cfg.lo) {
        scale_err("ran %llu of %llu messages", (unsigned long long)sum.t.messages,
                  (unsigned long long)(cfg.hi - cfg.lo));
        rc = SCALE_EXIT_FAIL;
    }
    /* Every delivery must have been decrypted and checked: a count kept
     * apart from the fan-out's, so a skipped decrypt cannot pass. */
    if (rc == 0 && sum.t.decrypted != sum.t.deliveries) {
        scale_err("decrypted and checked %llu of %llu deliveries",
                  (unsigned long long)sum.t.decrypted, (unsigned long long)sum.t.deliveries);
        rc = SCALE_EXIT_FAIL;
    }
    if (rc == 0) {
        scale_report_in in = {&cfg,
                              &pop,
                              &sum,
                              ck.wall_seconds + wall,
                              ck.process_cpu_seconds + process_cpu() - cpu0,
                              scale_peak_rss_bytes(),
                              peak_anon,
                              started,
                              ck.resumes,
                              {{load0[0], load0[1], load0[2]}, {load1[0], load1[1], load1[2]}}};
        rc = write_report(cfg.out_path, &in);
        /* The report is the shard's result now: the checkpoint has served. */
        if (rc == 0 && cfg.checkpoint_path != NULL)
            unlink(cfg.checkpoint_path);
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
