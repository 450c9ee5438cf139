/* The final JSON (docs/scale.md, "Output"), the digest, the projection,
 * memory figures, and the progress display.
 *
 * Every derived figure here is recomputed the same way by
 * scripts/merge-results from the raw ones (histogram buckets, sums, CPU
 * seconds), so a merged report reads like one run's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "scale.h"

#ifndef IMC_SCALE_IMCORE_VERSION
#define IMC_SCALE_IMCORE_VERSION "unknown"
#endif
#ifndef IMC_SCALE_GIT_COMMIT
#define IMC_SCALE_GIT_COMMIT "unknown"
#endif
#ifndef IMC_SCALE_BUILD_TYPE
#define IMC_SCALE_BUILD_TYPE "unknown"
#endif
#ifndef IMC_SCALE_C_FLAGS
#define IMC_SCALE_C_FLAGS "unknown"
#endif
#if defined(__clang__)
#define SCALE_COMPILER "clang " __VERSION__
#elif defined(__GNUC__)
#define SCALE_COMPILER "gcc " __VERSION__
#else
#define SCALE_COMPILER "unknown"
#endif

double scale_now(void) { return (double)scale_now_ns() * 1e-9; }

/* ---- Progress state ------------------------------------------------------- */

void scale_progress_init(scale_progress *p)
{
    atomic_store(&p->done, 0);
    pthread_mutex_init(&p->lock, NULL);
    p->what = "starting";
    p->total = 0;
    p->start_done = 0;
    p->phase = 0;
}

void scale_progress_phase(scale_progress *p, const char *what, uint64_t total, uint64_t done)
{
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->done, done);
    p->what = what;
    p->total = total;
    p->start_done = done;
    p->phase++;
    pthread_mutex_unlock(&p->lock);
}

/* ---- Memory ------------------------------------------------------------------ */

static uint64_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return 0;
    char line[256];
    uint64_t v = 0;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtoull(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v * 1024;
}

uint64_t scale_rss_anon_bytes(void) { return status_kb("RssAnon"); }

uint64_t scale_peak_rss_bytes(void)
{
    uint64_t hwm = status_kb("VmHWM");
    if (hwm != 0)
        return hwm;
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_maxrss * 1024 : 0;
}

/* ---- Display --------------------------------------------------------------------- */

struct scale_display {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool bar; /* else plain lines */
    bool quiet;
    double interval;
    scale_progress *prog;
    uint64_t peak_anon;
    size_t last_len;
};

static void fmt_duration(char *out, size_t cap, double s)
{
    if (!(s >= 0) || s > 1e9) {
        snprintf(out, cap, "?");
        return;
    }
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%luh%02lum%02lus", t / 3600, t / 60 % 60, t % 60);
    else if (t >= 60)
        snprintf(out, cap, "%lum%02lus", t / 60, t % 60);
    else
        snprintf(out, cap, "%lus", t);
}

/* base: what was done before this process started the phase (a resumed
 * run), left out of the rate. */
static void draw(scale_display *d, const char *what, uint64_t base, uint64_t done,
                 uint64_t total, double elapsed, bool final)
{
    double frac = total > 0 ? (double)done / (double)total : 1;
    double rate = elapsed > 0 && done >= base ? (double)(done - base) / elapsed : 0;
    char eta[32], el[32];
    fmt_duration(eta, sizeof eta, rate > 0 ? (double)(total - done) / rate : -1);
    fmt_duration(el, sizeof el, elapsed);
    uint64_t anon = scale_rss_anon_bytes();
    if (anon > d->peak_anon)
        d->peak_anon = anon;
    /* The final line shows the peak: by then the workers have freed theirs. */
    double rss_mib = (double)(final ? d->peak_anon : anon) / 1048576.0;
    if (d->bar) {
        char bar[41];
        size_t fill = (size_t)(frac * 40 + 0.5);
        for (size_t i = 0; i < 40; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[40] = '\0';
        char line[256];
        int n = snprintf(line, sizeof line,
                         "%5.1f%% [%s] %llu/%llu %s  %.0f/s  %s %s  %s %.0f MiB", frac * 100,
                         bar, (unsigned long long)done, (unsigned long long)total, what, rate,
                         final ? "in" : "ETA", final ? el : eta,
                         final ? "peak anon RSS" : "anon RSS", rss_mib);
        size_t len = n > 0 ? (size_t)n : 0;
        fprintf(stderr, "\r%s%*s%s", line, (int)(d->last_len > len ? d->last_len - len : 0), "",
                final ? "\n" : "");
        d->last_len = len;
    } else {
        fprintf(stderr, "%s: %llu/%llu %s (%.1f%%), %.0f/s, elapsed %s%s%s, %s %.0f MiB\n",
                SCALE_PROG, (unsigned long long)done, (unsigned long long)total, what, frac * 100,
                rate, el, final ? "" : ", ETA ", final ? "" : eta,
                final ? "peak anon RSS" : "anon RSS", rss_mib);
    }
    fflush(stderr);
}

static void *display_main(void *arg)
{
    scale_display *d = arg;
    unsigned phase = ~0u;
    const char *what = "";
    uint64_t total = 0, base = 0;
    double start = scale_now(), last_print = 0;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        uint64_t anon = scale_rss_anon_bytes();
        if (anon > d->peak_anon)
            d->peak_anon = anon;
        pthread_mutex_lock(&d->prog->lock);
        bool new_phase = d->prog->phase != phase;
        const char *nwhat = d->prog->what;
        uint64_t ntotal = d->prog->total, nbase = d->prog->start_done;
        unsigned nphase = d->prog->phase;
        pthread_mutex_unlock(&d->prog->lock);
        double now = scale_now();
        if (new_phase) {
            if (phase != ~0u && phase != 0 && !d->quiet)
                draw(d, what, base, total, total, now - start, true); /* close the last phase */
            phase = nphase;
            what = nwhat;
            total = ntotal;
            base = nbase;
            start = now;
            last_print = now;
        }
        uint64_t done = atomic_load(&d->prog->done);
        if (d->stop) {
            if (!d->quiet && phase != 0)
                draw(d, what, base, done, total, now - start, true);
            break;
        }
        if (!d->quiet && phase != 0 &&
            (d->bar ? now - last_print >= 0.2 : now - last_print >= d->interval)) {
            draw(d, what, base, done, total, now - start, false);
            last_print = now;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (!d->stop)
            pthread_cond_timedwait(&d->cond, &d->lock, &until);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

scale_display *scale_display_start(const scale_config *cfg, scale_progress *prog)
{
    scale_display *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->prog = prog;
    d->interval = cfg->progress_interval;
    d->quiet = cfg->progress == SCALE_PROGRESS_NONE;
    d->bar = cfg->progress == SCALE_PROGRESS_BAR ||
             (cfg->progress == SCALE_PROGRESS_AUTO && isatty(STDERR_FILENO));
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    if (pthread_create(&d->tid, NULL, display_main, d) != 0) {
        free(d);
        return NULL;
    }
    return d;
}

uint64_t scale_display_stop(scale_display *d)
{
    if (d == NULL)
        return scale_rss_anon_bytes();
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->tid, NULL);
    uint64_t peak = d->peak_anon;
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d);
    return peak;
}

/* ---- Digest ------------------------------------------------------------------------ */

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static const char DIGEST_LABEL[] = "imcore-scale/digest/v1"; /* hashed with its NUL */

imc_status scale_final_digest(uint8_t out[IMC_SHA256_BYTES], const scale_config *cfg,
                              const scale_totals *t)
{
    uint8_t buf[sizeof DIGEST_LABEL + IMC_SHA256_BYTES + 8 * 8];
    size_t n = sizeof DIGEST_LABEL;
    memcpy(buf, DIGEST_LABEL, n);
    memcpy(buf + n, cfg->config_id, IMC_SHA256_BYTES);
    n += IMC_SHA256_BYTES;
    for (int k = 0; k < 4; k++, n += 8)
        put_le64(buf + n, t->lanes[k]);
    const uint64_t counts[4] = {t->messages, t->deliveries, t->envelope_bytes, t->body_bytes};
    for (int k = 0; k < 4; k++, n += 8)
        put_le64(buf + n, counts[k]);
    return imc_crypto_sha256(cfg->b, out, buf, n);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\u%04x", *p < 0x20 ? *p : 0xfffd);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_hex(FILE *f, const uint8_t *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
    fputc('"', f);
}

/* A finite double in JSON (no NaN or infinity there). */
static void json_num(FILE *f, double v)
{
    if (v != v || v > 1e300 || v < -1e300)
        fputs("null", f);
    else
        fprintf(f, "%.6g", v);
}

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *c = strchr(line, ':');
            if (c != NULL) {
                c++;
                while (*c == ' ' || *c == '\t')
                    c++;
                snprintf(out, cap, "%s", c);
                out[strcspn(out, "\n")] = '\0';
            }
            break;
        }
    }
    fclose(f);
}

static double sec(uint64_t ns) { return (double)ns * 1e-9; }

static void stage_json(FILE *f, const scale_hist *h, const char *indent)
{
    fprintf(f, "{\"count\": %llu, \"mean\": ", (unsigned long long)h->count);
    json_num(f, h->count ? (double)h->sum / (double)h->count / 1000.0 : 0);
    const double qs[3] = {0.5, 0.99, 0.999};
    const char *qn[3] = {"p50", "p99", "p99_9"};
    for (int q = 0; q < 3; q++) {
        fprintf(f, ", \"%s\": ", qn[q]);
        json_num(f, (double)scale_hist_quantile(h, qs[q]) / 1000.0);
    }
    fputs(", \"max\": ", f);
    json_num(f, (double)h->max / 1000.0);
    (void)indent;
    fputc('}', f);
}

bool scale_report_json(FILE *f, const scale_report_in *in)
{
    const scale_config *cfg = in->cfg;
    const scale_thread_result *r = in->sum;
    const scale_totals *t = &r->t;
    const double msgs = (double)t->messages;

    uint8_t digest[IMC_SHA256_BYTES];
    if (scale_final_digest(digest, cfg, t) != IMC_OK)
        return false;

    char host[256] = "unknown", cpu[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    cpu_model(cpu, sizeof cpu);

    /* CPU attribution: worker CPU time is split between the pipeline and
     * the simulation in proportion to the wall time measured in each (the
     * loop's wall time is the denominator, so unmeasured bookkeeping counts
     * against the pipeline share, never for it). */
    uint64_t pipe_ns = 0;
    for (int s = 0; s < ST_PIPELINE_COUNT_; s++)
        pipe_ns += r->hist[s].sum;
    const double loop_s = sec(r->loop_ns), cpu_s = sec(r->cpu_ns);
    const double share = loop_s > 0 ? sec(pipe_ns) / loop_s : 0;
    const double pipe_core_s = cpu_s * (share < 1 ? share : 1);
    const double cspm_pipe = msgs > 0 ? pipe_core_s / msgs : 0;
    const double cspm_all = msgs > 0 ? cpu_s / msgs : 0;
    const double P = (double)cfg->project_messages;
    const double KC = (double)cfg->project_machines * (double)cfg->project_cores;

    fprintf(f, "{\n  \"tool\": \"%s\",\n  \"format\": %d,\n", SCALE_PROG, SCALE_FORMAT_VERSION);

    fputs("  \"context\": {\"date\": ", f);
    json_str(f, in->started_utc);
    fputs(", \"host\": ", f);
    json_str(f, host);
    fputs(", \"cpu\": ", f);
    json_str(f, cpu);
    fprintf(f, ", \"online_cpus\": %ld, \"backend\": ", sysconf(_SC_NPROCESSORS_ONLN));
    json_str(f, imc_backend_name(cfg->b));
    fputs(", \"backend_version\": ", f);
    json_str(f, imc_backend_version(cfg->b));
    fprintf(f, ", \"suite\": %u, \"suite_name\": ", (unsigned)cfg->suite->id);
    json_str(f, cfg->suite->name);
    fputs(",\n              \"imcore_version\": ", f);
    json_str(f, IMC_SCALE_IMCORE_VERSION);
    fputs(", \"git_commit\": ", f);
    json_str(f, IMC_SCALE_GIT_COMMIT);
    fputs(", \"compiler\": ", f);
    json_str(f, SCALE_COMPILER);
    fputs(", \"build_type\": ", f);
    json_str(f, IMC_SCALE_BUILD_TYPE);
    fputs(", \"c_flags\": ", f);
    json_str(f, IMC_SCALE_C_FLAGS);
    fputs("},\n", f);

    fprintf(f, "  \"config\": {\"seed\": %llu, \"population\": %llu, \"devices\": ",
            (unsigned long long)cfg->seed, (unsigned long long)cfg->population);
    json_str(f, cfg->devices.canonical);
    fputs(", \"group_size\": ", f);
    json_str(f, cfg->members.canonical);
    fputs(", \"body_size\": ", f);
    json_str(f, cfg->body.canonical);
    fprintf(f,
            ",\n             \"messages_total\": %llu, \"shard\": [%llu, %llu], \"range\": [%llu, "
            "%llu], \"threads\": %u, \"key_cache\": %zu, \"warm\": %s,\n"
            "             \"mean_devices_per_account\": ",
            (unsigned long long)cfg->messages, (unsigned long long)cfg->shard_index,
            (unsigned long long)cfg->shard_count, (unsigned long long)cfg->lo,
            (unsigned long long)cfg->hi, cfg->threads, cfg->key_cache,
            cfg->warm ? "true" : "false");
    json_num(f, cfg->devices.mean);
    fputs(", \"mean_group_size\": ", f);
    json_num(f, cfg->members.mean);
    fputs(", \"mean_body_size\": ", f);
    json_num(f, cfg->body.mean);
    fputs(", \"config_id\": ", f);
    json_hex(f, cfg->config_id, sizeof cfg->config_id);
    fputs("},\n", f);

    const scale_pop *p = in->pop;
    fputs("  \"population\": {\"file\": ", f);
    json_str(f, p->path);
    fprintf(f, ", \"built\": %s, \"build_seconds\": ", p->built ? "true" : "false");
    json_num(f, p->build_seconds);
    fputs(", \"warm_seconds\": ", f);
    json_num(f, p->warm_seconds);
    fprintf(f, ", \"accounts\": %llu, \"devices\": %llu, \"file_bytes\": %llu},\n",
            (unsigned long long)p->accounts, (unsigned long long)p->devices,
            (unsigned long long)p->file_bytes);

    fprintf(f,
            "  \"totals\": {\"messages\": %llu, \"deliveries\": %llu, \"decrypted\": %llu, "
            "\"envelope_bytes\": %llu, "
            "\"delivery_bytes\": %llu, \"body_bytes\": %llu,\n"
            "             \"conversations_1to1\": %llu, \"conversations_group\": %llu, "
            "\"max_deliveries_seen\": %llu, \"max_group_size_seen\": %llu, "
            "\"key_cache_hits\": %llu, \"key_cache_misses\": %llu, "
            "\"errors\": 0},\n",
            (unsigned long long)t->messages, (unsigned long long)t->deliveries,
            (unsigned long long)t->decrypted, (unsigned long long)t->envelope_bytes,
            (unsigned long long)t->delivery_bytes,
            (unsigned long long)t->body_bytes, (unsigned long long)t->conversations_1to1,
            (unsigned long long)t->conversations_group, (unsigned long long)t->max_recipients_seen,
            (unsigned long long)t->max_members_seen, (unsigned long long)t->key_cache_hits,
            (unsigned long long)t->key_cache_misses);

    fputs("  \"time\": {\"wall_seconds\": ", f);
    json_num(f, in->wall_seconds);
    fputs(", \"worker_cpu_seconds\": ", f);
    json_num(f, cpu_s);
    fputs(", \"worker_loop_seconds\": ", f);
    json_num(f, loop_s);
    fputs(", \"pipeline_stage_seconds\": ", f);
    json_num(f, sec(pipe_ns));
    fputs(", \"pipeline_share\": ", f);
    json_num(f, share);
    fputs(", \"process_cpu_seconds\": ", f);
    json_num(f, in->process_cpu_seconds);
    fprintf(f, ", \"resumes\": %llu", (unsigned long long)in->resumes);
    for (int k = 0; k < 2; k++) {
        fprintf(f, ", \"load_average_%s\": [", k == 0 ? "start" : "end");
        for (int q = 0; q < 3; q++) {
            if (q)
                fputs(", ", f);
            json_num(f, in->load_average[k][q]);
        }
        fputs("]", f);
    }
    fputs("},\n", f);

    fputs("  \"throughput\": {\"messages_per_second\": ", f);
    json_num(f, in->wall_seconds > 0 ? msgs / in->wall_seconds : 0);
    fputs(", \"deliveries_per_second\": ", f);
    json_num(f, in->wall_seconds > 0 ? (double)t->deliveries / in->wall_seconds : 0);
    fputs(",\n                 \"messages_per_core_second\": ", f);
    json_num(f, cpu_s > 0 ? msgs / cpu_s : 0);
    fputs(", \"pipeline_messages_per_core_second\": ", f);
    json_num(f, pipe_core_s > 0 ? msgs / pipe_core_s : 0);
    fputs(",\n                 \"stages\": {", f);
    for (int s = 0; s < ST_COUNT; s++) {
        const scale_hist *h = &r->hist[s];
        /* Core time of the stage: its share of the loop's wall time, applied
         * to the worker CPU time. */
        double core_s = loop_s > 0 ? cpu_s * sec(h->sum) / loop_s : 0;
        fprintf(f, "%s\n                   \"%s\": {\"seconds\": ", s ? "," : "",
                SCALE_STAGE_NAMES[s]);
        json_num(f, sec(h->sum));
        fputs(", \"core_us_per_message\": ", f);
        json_num(f, msgs > 0 ? core_s / msgs * 1e6 : 0);
        fprintf(f, ", \"%s_per_core_second\": ", s == ST_DECRYPT_ONE ? "deliveries" : "messages");
        json_num(f, core_s > 0 ? (double)h->count / core_s : 0);
        fputs("}", f);
    }
    fputs("}},\n", f);

    fputs("  \"latency_us\": {", f);
    for (int s = 0; s < ST_COUNT; s++) {
        fprintf(f, "%s\n    \"%s\": ", s ? "," : "", SCALE_STAGE_NAMES[s]);
        stage_json(f, &r->hist[s], "    ");
    }
    fputs("},\n", f);

    fprintf(f, "  \"memory\": {\"peak_rss_bytes\": %llu, \"peak_anon_rss_bytes\": %llu},\n",
            (unsigned long long)in->peak_rss_bytes, (unsigned long long)in->peak_anon_bytes);

    fputs("  \"digest\": {\"value\": ", f);
    json_hex(f, digest, sizeof digest);
    fputs(", \"config_id\": ", f);
    json_hex(f, cfg->config_id, sizeof cfg->config_id);
    fputs(", \"lanes\": [", f);
    for (int k = 0; k < 4; k++)
        fprintf(f, "%s\"%016llx\"", k ? ", " : "", (unsigned long long)t->lanes[k]);
    fprintf(f,
            "], \"messages\": %llu, \"deliveries\": %llu, \"envelope_bytes\": %llu, "
            "\"body_bytes\": %llu, \"range\": [%llu, %llu], \"messages_total\": %llu},\n",
            (unsigned long long)t->messages, (unsigned long long)t->deliveries,
            (unsigned long long)t->envelope_bytes, (unsigned long long)t->body_bytes,
            (unsigned long long)cfg->lo, (unsigned long long)cfg->hi,
            (unsigned long long)cfg->messages);

    fprintf(f, "  \"projection\": {\"messages\": %llu, \"machines\": %llu, \"cores_per_machine\": %llu,",
            (unsigned long long)cfg->project_messages, (unsigned long long)cfg->project_machines,
            (unsigned long long)cfg->project_cores);
    fputs("\n                 \"core_hours\": ", f);
    json_num(f, cspm_pipe * P / 3600);
    fputs(", \"wall_hours\": ", f);
    json_num(f, cspm_pipe * P / 3600 / KC);
    fputs(", \"cores_for_28000_per_second\": ", f);
    json_num(f, cspm_pipe * 28000);
    fputs(", \"cores_for_200000_per_second\": ", f);
    json_num(f, cspm_pipe * 200000);
    fputs(",\n                 \"with_simulation_overhead\": {\"core_hours\": ", f);
    json_num(f, cspm_all * P / 3600);
    fputs(", \"wall_hours\": ", f);
    json_num(f, cspm_all * P / 3600 / KC);
    fputs("},\n                 \"basis\": {\"messages_measured\": ", f);
    fprintf(f, "%llu, \"deliveries_measured\": %llu, \"worker_cpu_seconds\": ",
            (unsigned long long)t->messages, (unsigned long long)t->deliveries);
    json_num(f, cpu_s);
    fputs(", \"pipeline_share\": ", f);
    json_num(f, share);
    fputs(", \"pipeline_core_seconds_per_message\": ", f);
    json_num(f, cspm_pipe);
    fputs(", \"all_core_seconds_per_message\": ", f);
    json_num(f, cspm_all);
    fprintf(f, ", \"backend\": \"%s\", \"suite\": %u},\n", imc_backend_name(cfg->b),
            (unsigned)cfg->suite->id);
    fputs("                 \"method\": \"core_hours = pipeline core-seconds per message (worker "
          "CPU time x the pipeline's share of the workers' measured time, simulation overhead "
          "excluded) x messages / 3600; wall_hours = core_hours / (machines x cores), assuming "
          "linear scaling in messages (scripts/scale-curve) and in cores (thread scaling)\"},\n",
          f);

    fprintf(f, "  \"histograms\": {\"scheme\": \"log-linear, exact below 128 ns, %d sub-buckets "
               "per power of two; [index, count]\"",
            1 << SCALE_HIST_SUB_BITS);
    for (int s = 0; s < ST_COUNT; s++) {
        const scale_hist *h = &r->hist[s];
        fprintf(f, ",\n    \"%s\": {\"count\": %llu, \"sum_ns\": %llu, \"min_ns\": %llu, "
                   "\"max_ns\": %llu, \"buckets\": [",
                SCALE_STAGE_NAMES[s], (unsigned long long)h->count, (unsigned long long)h->sum,
                (unsigned long long)(h->count ? h->min : 0), (unsigned long long)h->max);
        bool first = true;
        for (size_t i = 0; i < SCALE_HIST_BUCKETS; i++) {
            if (h->bucket[i] == 0)
                continue;
            fprintf(f, "%s[%zu, %llu]", first ? "" : ", ", i, (unsigned long long)h->bucket[i]);
            first = false;
        }
        fputs("]}", f);
    }
    fputs("}\n}\n", f);
    return !ferror(f);
}
