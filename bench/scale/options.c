/* imcore-scale's command line: --long VALUE or --long=VALUE, flags, -h.
 * Every error is one line on stderr and exit status 2. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scale.h"

#define DEFAULT_MESSAGES 100000
#define DEFAULT_POPULATION 100000
#define DEFAULT_DEVICES "1:30,2:40,3:20,4-8:10"
#define DEFAULT_MEMBERS "2:90,3-8:8,9-32:2"
#define DEFAULT_BODY "16-160:70,161-1024:25,1025-4096:4.5,4097-16384:0.5"
#define MAX_POPULATION UINT64_C(89999999999) /* handles are +1 and 11 digits */
#define MAX_THREADS 1024

typedef enum opt_id {
    O_MESSAGES,
    O_THREADS,
    O_SEED,
    O_SHARD,
    O_POPULATION,
    O_DEVICES,
    O_GROUP,
    O_BODY,
    O_BACKEND,
    O_SUITE,
    O_POP_DIR,
    O_OUT,
    O_PROGRESS,
    O_PROGRESS_INTERVAL,
    O_PROJECT_MESSAGES,
    O_PROJECT_MACHINES,
    O_PROJECT_CORES,
    O_KEY_CACHE,
    O_NO_WARM,
    O_CHECKPOINT,
    O_CHECKPOINT_INTERVAL,
    O_DRY_RUN,
    O_COUNT
} opt_id;

typedef struct opt_def {
    const char *name;
    const char *metavar; /* NULL: a flag */
    const char *help;
} opt_def;

static const opt_def OPTS[O_COUNT] = {
    [O_MESSAGES] = {"messages", "N",
                    "messages in the whole run (all shards); 1e6-style numbers accepted "
                    "(default 1e5)"},
    [O_THREADS] = {"threads", "T", "worker threads (default: the online CPUs)"},
    [O_SEED] = {"seed", "S", "seed of everything: population, keys, messages (default 1)"},
    [O_SHARD] = {"shard", "i/N",
                 "process shard i of N: indices [i*M/N, (i+1)*M/N) of M messages (default 0/1)"},
    [O_POPULATION] = {"population", "U", "accounts in the population (default 1e5)"},
    [O_DEVICES] = {"devices", "DIST", "devices per account, 1..64 (default " DEFAULT_DEVICES ")"},
    [O_GROUP] = {"group-size", "DIST",
                 "accounts in a conversation, sender included, 2..256 (default " DEFAULT_MEMBERS
                 ")"},
    [O_BODY] = {"body-size", "DIST", "body bytes, 0..65536 (default " DEFAULT_BODY ")"},
    [O_BACKEND] = {"backend", "NAME", "crypto backend: sodium or openssl (default sodium)"},
    [O_SUITE] = {"suite", "ID|NAME", "suite, 1..3 or its name (default 1)"},
    [O_POP_DIR] = {"pop-dir", "DIR",
                   "where population directories are kept and reused (default "
                   "$IMCORE_SCALE_POP_DIR, else ~/.cache/imcore-scale)"},
    [O_OUT] = {"out", "FILE", "write the final JSON to FILE (default: standard output)"},
    [O_PROGRESS] = {"progress", "MODE",
                    "auto (a bar on a terminal, else plain lines), bar, lines or none "
                    "(default auto)"},
    [O_PROGRESS_INTERVAL] = {"progress-interval", "SEC",
                             "seconds between plain progress lines (default 10)"},
    [O_PROJECT_MESSAGES] = {"project-messages", "N",
                            "messages to project the cost of (default 3e11)"},
    [O_PROJECT_MACHINES] = {"project-machines", "K",
                            "machines of the cluster in the projection (default 1000)"},
    [O_PROJECT_CORES] = {"project-cores", "C", "cores per machine in the projection (default 64)"},
    [O_KEY_CACHE] = {"key-cache", "N",
                     "device keys kept per thread, to skip re-deriving them (default 4096)"},
    [O_NO_WARM] = {"no-warm", NULL, "do not read the whole directory into memory before the run"},
    [O_CHECKPOINT] = {"checkpoint", "FILE",
                      "save progress to FILE periodically and resume from it if it exists "
                      "(same build and options); removed once the report is written"},
    [O_CHECKPOINT_INTERVAL] = {"checkpoint-interval", "SEC",
                               "seconds between checkpoints (default 30)"},
    [O_DRY_RUN] = {"dry-run", NULL,
                   "check the options, print this shard's range and configuration, and exit"},
};

static const opt_def *opt(size_t k) { return &OPTS[k]; }

/* floor(m * i / n) for i <= n, exactly: the product needs 128 bits (a
 * 64-bit (m % n) * i overflows once both pass 2^32). */
__extension__ typedef unsigned __int128 u128;
static uint64_t shard_bound(uint64_t m, uint64_t n, uint64_t i)
{
    return (uint64_t)((u128)m * i / n);
}

static const char DETAILS[] =
    "Every message is a pure function of (seed, message index): sender, conversation,\n"
    "body, timestamp and every random byte of encryption. Each worker runs the whole\n"
    "pipeline for its messages: directory lookup (LMDB, one signature per handle) ->\n"
    "client cache (verify every entry) -> encrypt -> fan-out -> decrypt and check\n"
    "every delivery on its device, the sender's own other devices included.\n"
    "\n"
    "DIST is a comma-separated list of VALUE:WEIGHT or LO-HI:WEIGHT (uniform within\n"
    "LO..HI), weights decimal and relative, e.g. \"1:30,2:40,3:20,4-8:10\".\n"
    "\n"
    "The population (accounts, devices, keys, and the LMDB key directory) is built\n"
    "once per (seed, population, suite, devices) in --pop-dir and reused; concurrent\n"
    "shards wait for one builder.\n"
    "\n"
    "Output: progress on stderr; the final JSON (throughput and latency per stage,\n"
    "peak RSS, the digest, and the projection for --project-messages on --project-\n"
    "machines x --project-cores) on stdout or --out. The digest does not depend on\n"
    "threads, shards or (for the same suite) the backend: scripts/merge-results\n"
    "combines shard outputs into the digest of one unsharded run. docs/scale.md has\n"
    "the details.\n"
    "\n"
    "Exit status: 0 success, 1 a message or delivery failed (or I/O), 2 usage error.\n";

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: %s [options]\n\n"
            "The imcore scale driver: a streaming, multi-threaded, constant-memory run of\n"
            "the whole message pipeline over a synthetic population, with a projection of\n"
            "what 300 billion messages cost.\n\nOptions:\n",
            SCALE_PROG);
    size_t width = 10;
    for (size_t k = 0; k < O_COUNT; k++) {
        size_t w = 2 + strlen(opt(k)->name) + (opt(k)->metavar ? 1 + strlen(opt(k)->metavar) : 0);
        if (w > width)
            width = w;
    }
    for (size_t k = 0; k < O_COUNT; k++) {
        const opt_def *o = opt(k);
        size_t w = 2 + strlen(o->name) + (o->metavar ? 1 + strlen(o->metavar) : 0);
        fprintf(out, "  --%s%s%s%*s", o->name, o->metavar ? " " : "",
                o->metavar ? o->metavar : "", (int)(width - w), "");
        /* The help text, wrapped at 79 columns under its own column. */
        size_t col = 2 + width, room = 79 > col + 20 ? 79 - col - 2 : 40;
        const char *p = o->help;
        while (*p != '\0') {
            size_t len = strlen(p);
            if (len > room) {
                len = room;
                while (len > 0 && p[len] != ' ')
                    len--;
                if (len == 0)
                    len = strcspn(p, " ");
            }
            fprintf(out, "%s%.*s\n", p == o->help ? "  " : "", (int)len, p);
            p += len;
            while (*p == ' ')
                p++;
            if (*p != '\0')
                fprintf(out, "%*s", (int)(col + 2), "");
        }
    }
    fprintf(out, "  -h, --help%*s  show this help\n\n%s", (int)(width - 10), "", DETAILS);
}

static int usage(const char *fmt, ...) SCALE_PRINTF(1, 2);
static int usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", SCALE_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '%s --help')\n", SCALE_PROG);
    return SCALE_EXIT_USAGE;
}

void scale_err(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", SCALE_PROG);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- Numbers ------------------------------------------------------------ */

bool scale_parse_count(const char *s, uint64_t *out)
{
    /* digits [. digits] [e|E [+] digits]: an exact integer. */
    uint64_t mant = 0;
    int frac_digits = 0, digits = 0;
    const char *p = s;
    bool dot = false;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (mant > (UINT64_MAX - d) / 10)
                return false;
            mant = mant * 10 + d;
            digits++;
            if (dot)
                frac_digits++;
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (digits == 0)
        return false;
    long exp = 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            exp = exp * 10 + (*p - '0');
            if (exp > 40)
                return false;
        }
    }
    if (*p != '\0')
        return false;
    exp -= frac_digits;
    for (; exp < 0; exp++) {
        if (mant % 10 != 0)
            return false; /* not a whole number */
        mant /= 10;
    }
    for (; exp > 0; exp--) {
        if (mant > UINT64_MAX / 10)
            return false;
        mant *= 10;
    }
    *out = mant;
    return true;
}

/* A decimal weight with at most 6 decimals -> millionths. */
static bool parse_weight(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    int frac = -1;
    if (len == 0)
        return false;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (c < '0' || c > '9')
            return false;
        if (frac >= 0 && ++frac > 6)
            return false;
        if (v > UINT64_C(1000000000000))
            return false;
        v = v * 10 + (uint64_t)(c - '0');
    }
    for (int f = frac < 0 ? 0 : frac; f < 6; f++)
        v *= 10;
    *out = v;
    return true;
}

static bool parse_uint(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 19)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static void put_weight(char *out, size_t cap, uint64_t w)
{
    uint64_t ip = w / SCALE_WEIGHT_SCALE, fp = w % SCALE_WEIGHT_SCALE;
    if (fp == 0) {
        snprintf(out, cap, "%llu", (unsigned long long)ip);
        return;
    }
    char frac[8];
    snprintf(frac, sizeof frac, "%06llu", (unsigned long long)fp);
    for (int i = 5; i > 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    snprintf(out, cap, "%llu.%s", (unsigned long long)ip, frac);
}

bool scale_parse_dist(scale_dist *d, const char *s, uint64_t min, uint64_t max, char *err,
                      size_t err_cap)
{
    memset(d, 0, sizeof *d);
    d->min = UINT64_MAX;
    const char *p = s;
    double wsum = 0;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon == NULL) {
            snprintf(err, err_cap, "'%.*s' is not VALUE:WEIGHT or LO-HI:WEIGHT", (int)len, p);
            return false;
        }
        if (d->n == SCALE_DIST_MAX) {
            snprintf(err, err_cap, "more than %d items", SCALE_DIST_MAX);
            return false;
        }
        scale_range *r = &d->r[d->n];
        const char *dash = memchr(p, '-', (size_t)(colon - p));
        bool ok;
        if (dash != NULL)
            ok = parse_uint(p, (size_t)(dash - p), &r->lo) &&
                 parse_uint(dash + 1, (size_t)(colon - dash - 1), &r->hi);
        else
            ok = parse_uint(p, (size_t)(colon - p), &r->lo) && (r->hi = r->lo, true);
        if (!ok || r->lo > r->hi) {
            snprintf(err, err_cap, "'%.*s' is not VALUE or LO-HI with LO <= HI", (int)(colon - p),
                     p);
            return false;
        }
        if (r->lo < min || r->hi > max) {
            snprintf(err, err_cap, "'%.*s' is outside %llu..%llu", (int)(colon - p), p,
                     (unsigned long long)min, (unsigned long long)max);
            return false;
        }
        if (!parse_weight(colon + 1, len - (size_t)(colon + 1 - p), &r->weight)) {
            snprintf(err, err_cap, "weight '%.*s' is not a decimal number (at most 6 decimals)",
                     (int)(len - (size_t)(colon + 1 - p)), colon + 1);
            return false;
        }
        if (r->weight > 0) {
            d->total += r->weight;
            if (r->lo < d->min)
                d->min = r->lo;
            if (r->hi > d->max)
                d->max = r->hi;
            wsum += (double)r->weight;
            d->mean += (double)r->weight * ((double)r->lo + (double)r->hi) / 2;
        }
        d->n++;
        p += len;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                snprintf(err, err_cap, "trailing comma");
                return false;
            }
        }
    }
    if (d->n == 0 || d->total == 0) {
        snprintf(err, err_cap, "no item with a positive weight");
        return false;
    }
    d->mean /= wsum;
    size_t used = 0;
    for (size_t i = 0; i < d->n; i++) {
        char w[32];
        put_weight(w, sizeof w, d->r[i].weight);
        int n;
        if (d->r[i].lo == d->r[i].hi)
            n = snprintf(d->canonical + used, sizeof d->canonical - used, "%s%llu:%s",
                         i ? "," : "", (unsigned long long)d->r[i].lo, w);
        else
            n = snprintf(d->canonical + used, sizeof d->canonical - used, "%s%llu-%llu:%s",
                         i ? "," : "", (unsigned long long)d->r[i].lo,
                         (unsigned long long)d->r[i].hi, w);
        if (n < 0 || (size_t)n >= sizeof d->canonical - used)
            break;
        used += (size_t)n;
    }
    return true;
}

/* ---- Drawing -------------------------------------------------------------- */

static imc_status draw_u64(uint64_t *out, imc_rng *rng, const imc_backend *b)
{
    uint8_t x[8];
    imc_status st = imc_rng_fill(rng, b, x, sizeof x);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | x[i];
    *out = v;
    return st;
}

imc_status scale_uniform(uint64_t *out, uint64_t n, imc_rng *rng, const imc_backend *b)
{
    /* Reject the top partial block so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
    for (;;) {
        uint64_t v = 0;
        imc_status st = draw_u64(&v, rng, b);
        if (st != IMC_OK)
            return st;
        if (v <= limit) {
            *out = v % n;
            return IMC_OK;
        }
    }
}

imc_status scale_dist_draw(uint64_t *out, const scale_dist *d, imc_rng *rng, const imc_backend *b)
{
    uint64_t x = 0;
    imc_status st = scale_uniform(&x, d->total, rng, b);
    if (st != IMC_OK)
        return st;
    for (size_t i = 0; i < d->n; i++) {
        if (x < d->r[i].weight) {
            uint64_t span = d->r[i].hi - d->r[i].lo + 1, off = 0;
            if (span > 1)
                st = scale_uniform(&off, span, rng, b);
            *out = d->r[i].lo + off;
            return st;
        }
        x -= d->r[i].weight;
    }
    return IMC_ERR_ARG; /* cannot happen: x < total */
}

/* ---- The command line --------------------------------------------------- */

static void default_pop_dir(char *out, size_t cap)
{
    const char *env = getenv("IMCORE_SCALE_POP_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (env != NULL && env[0] != '\0')
        snprintf(out, cap, "%s", env);
    else if (xdg != NULL && xdg[0] == '/')
        snprintf(out, cap, "%s/imcore-scale", xdg);
    else if (home != NULL && home[0] == '/')
        snprintf(out, cap, "%s/.cache/imcore-scale", home);
    else
        snprintf(out, cap, "/tmp/imcore-scale");
}

/* A number of seconds in 0.1..86400. */
static int get_seconds(const char *const *v, opt_id k, double def, double *out)
{
    *out = def;
    if (v[k] == NULL)
        return -1;
    char *end = NULL;
    double s = strtod(v[k], &end);
    if (end == v[k] || *end != '\0' || !(s >= 0.1 && s <= 86400))
        return usage("option --%s: '%s' is not a number of seconds in 0.1..86400", opt(k)->name,
                     v[k]);
    *out = s;
    return -1;
}

static int get_count(const char *const *v, opt_id k, uint64_t def, uint64_t lo, uint64_t hi,
                     uint64_t *out)
{
    if (v[k] == NULL) {
        *out = def;
        return -1;
    }
    if (!scale_parse_count(v[k], out))
        return usage("option --%s: '%s' is not a whole number (e.g. 1000000 or 1e6)",
                     opt(k)->name, v[k]);
    if (*out < lo || *out > hi)
        return usage("option --%s: %s is outside %llu..%llu", opt(k)->name, v[k],
                     (unsigned long long)lo, (unsigned long long)hi);
    return -1;
}

static int get_dist(const char *const *v, opt_id k, const char *def, uint64_t lo, uint64_t hi,
                    scale_dist *d)
{
    char err[200];
    if (!scale_parse_dist(d, v[k] != NULL ? v[k] : def, lo, hi, err, sizeof err))
        return usage("option --%s: %s", opt(k)->name, err);
    return -1;
}

static int get_backend(const char *name, const imc_backend **out)
{
    size_t n = 0;
    const char *const *names = imc_backend_list(&n);
    bool known = false;
    if (name == NULL) {
        name = n > 0 ? names[0] : "sodium";
        for (size_t i = 0; i < n; i++)
            if (strcmp(names[i], "sodium") == 0)
                name = "sodium";
    }
    char list[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        known |= strcmp(names[i], name) == 0;
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        if (w > 0 && (size_t)w < sizeof list - used)
            used += (size_t)w;
    }
    if (!known)
        return usage("option --backend: no backend '%s' in this build (built: %s)", name, list);
    *out = imc_backend_get(name);
    if (*out == NULL) {
        scale_err("backend '%s' failed to initialise", name);
        return SCALE_EXIT_FAIL;
    }
    return -1;
}

static imc_status derive_seed(uint8_t out[IMC_RNG_SEED_BYTES], const imc_backend *b,
                              const char *label, uint64_t seed)
{
    uint8_t in[64];
    size_t n = (size_t)snprintf((char *)in, sizeof in - 9, "imcore-scale/v1/%s", label) + 1;
    for (int i = 0; i < 8; i++)
        in[n + (size_t)i] = (uint8_t)(seed >> (56 - 8 * i));
    return imc_crypto_sha256(b, out, in, n + 8);
}

static int derive(scale_config *cfg)
{
    imc_status st = derive_seed(cfg->seed_pop, cfg->b, "population", cfg->seed);
    if (st == IMC_OK)
        st = derive_seed(cfg->seed_keys, cfg->b, "keys", cfg->seed);
    if (st == IMC_OK)
        st = derive_seed(cfg->seed_dir, cfg->b, "directory", cfg->seed);
    if (st == IMC_OK)
        st = derive_seed(cfg->seed_msg, cfg->b, "message", cfg->seed);
    if (st == IMC_OK)
        st = derive_seed(cfg->seed_enc, cfg->b, "encrypt", cfg->seed);
    char id[4 * sizeof cfg->devices.canonical + 512];
    int n = snprintf(id, sizeof id,
                     "imcore-scale/v%d\nseed=%llu\npopulation=%llu\nsuite=%u\ndevices=%s\n"
                     "group-size=%s\nbody-size=%s\nt0=%llu\n",
                     SCALE_FORMAT_VERSION, (unsigned long long)cfg->seed,
                     (unsigned long long)cfg->population, (unsigned)cfg->suite->id,
                     cfg->devices.canonical, cfg->members.canonical, cfg->body.canonical,
                     (unsigned long long)SCALE_T0_MS);
    if (st == IMC_OK && (n < 0 || (size_t)n >= sizeof id))
        st = IMC_ERR_LIMIT;
    if (st == IMC_OK)
        st = imc_crypto_sha256(cfg->b, cfg->config_id, (const uint8_t *)id, (size_t)n);
    if (st != IMC_OK) {
        scale_err("deriving seeds: %s", imc_status_str(st));
        return SCALE_EXIT_FAIL;
    }
    return -1;
}

int scale_parse_args(scale_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    const char *v[O_COUNT] = {0};
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0) {
            print_help(stdout);
            return fflush(stdout) == 0 ? SCALE_EXIT_OK : SCALE_EXIT_FAIL;
        }
        if (strncmp(w, "--", 2) != 0 || w[2] == '\0')
            return usage("unexpected argument '%s'", w);
        const char *name = w + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        size_t k = 0;
        while (k < O_COUNT && !(strlen(opt(k)->name) == nlen && memcmp(opt(k)->name, name, nlen) == 0))
            k++;
        if (k == O_COUNT)
            return usage("unknown option --%.*s", (int)nlen, name);
        if (v[k] != NULL)
            return usage("option --%s given more than once", opt(k)->name);
        if (opt(k)->metavar == NULL) {
            if (eq != NULL)
                return usage("option --%s takes no value", opt(k)->name);
            v[k] = "";
        } else if (eq != NULL) {
            v[k] = eq + 1;
        } else if (i + 1 < argc) {
            v[k] = argv[++i];
        } else {
            return usage("option --%s needs a value (%s)", opt(k)->name, opt(k)->metavar);
        }
    }

    int rc;
    uint64_t x = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if ((rc = get_count(v, O_MESSAGES, DEFAULT_MESSAGES, 1, UINT64_MAX / 2, &cfg->messages)) >= 0 ||
        (rc = get_count(v, O_THREADS, ncpu > 0 ? (uint64_t)ncpu : 1, 1, MAX_THREADS, &x)) >= 0)
        return rc;
    cfg->threads = (unsigned)x;
    if (v[O_SEED] == NULL)
        cfg->seed = 1;
    else if (!scale_parse_count(v[O_SEED], &cfg->seed))
        return usage("option --seed: '%s' is not a whole number in 0..2^64-1", v[O_SEED]);
    cfg->shard_index = 0;
    cfg->shard_count = 1;
    if (v[O_SHARD] != NULL) {
        const char *slash = strchr(v[O_SHARD], '/');
        if (slash == NULL || !parse_uint(v[O_SHARD], (size_t)(slash - v[O_SHARD]), &cfg->shard_index) ||
            !parse_uint(slash + 1, strlen(slash + 1), &cfg->shard_count) || cfg->shard_count == 0 ||
            cfg->shard_index >= cfg->shard_count)
            return usage("option --shard: '%s' is not i/N with 0 <= i < N", v[O_SHARD]);
        if (cfg->shard_count > cfg->messages)
            return usage("option --shard: %llu shards for %llu messages",
                         (unsigned long long)cfg->shard_count, (unsigned long long)cfg->messages);
    }
    cfg->lo = shard_bound(cfg->messages, cfg->shard_count, cfg->shard_index);
    cfg->hi = shard_bound(cfg->messages, cfg->shard_count, cfg->shard_index + 1);
    if ((rc = get_count(v, O_POPULATION, DEFAULT_POPULATION, 2, MAX_POPULATION, &cfg->population)) >=
            0 ||
        (rc = get_dist(v, O_DEVICES, DEFAULT_DEVICES, 1,
                       IMC_MAX_DEVICES_PER_HANDLE < SCALE_DEVICE_ID_STRIDE
                           ? IMC_MAX_DEVICES_PER_HANDLE
                           : SCALE_DEVICE_ID_STRIDE,
                       &cfg->devices)) >= 0 ||
        (rc = get_dist(v, O_GROUP, DEFAULT_MEMBERS, 2, IMC_DIR_MAX_BATCH, &cfg->members)) >= 0 ||
        (rc = get_dist(v, O_BODY, DEFAULT_BODY, 0, IMC_MAX_BODY_BYTES, &cfg->body)) >= 0)
        return rc;
    if (cfg->members.max > cfg->population)
        return usage("option --population: %llu accounts cannot fill a conversation of %llu",
                     (unsigned long long)cfg->population, (unsigned long long)cfg->members.max);
    cfg->max_recipients = (size_t)((cfg->members.max - 1) * cfg->devices.max + cfg->devices.max - 1);
    if (cfg->max_recipients > IMC_MAX_RECIPIENTS)
        return usage("options --group-size and --devices: up to %zu devices in one message, over "
                     "the limit of %d",
                     cfg->max_recipients, IMC_MAX_RECIPIENTS);
    cfg->handle_len = SCALE_HANDLE_LEN;

    if ((rc = get_backend(v[O_BACKEND], &cfg->b)) >= 0)
        return rc;
    const char *sname = v[O_SUITE] != NULL ? v[O_SUITE] : "1";
    cfg->suite = imc_suite_find(sname);
    if (cfg->suite == NULL)
        return usage("option --suite: no suite '%s' (1, 2, 3 or a suite name)", sname);
    if (!imc_suite_supported(cfg->suite, cfg->b))
        return usage("option --suite: backend %s does not support suite %u (%s) on this CPU",
                     imc_backend_name(cfg->b), (unsigned)cfg->suite->id, cfg->suite->name);

    if (v[O_POP_DIR] != NULL) {
        if (v[O_POP_DIR][0] == '\0' || strlen(v[O_POP_DIR]) >= sizeof cfg->pop_dir)
            return usage("option --pop-dir: empty or too long");
        snprintf(cfg->pop_dir, sizeof cfg->pop_dir, "%s", v[O_POP_DIR]);
    } else {
        default_pop_dir(cfg->pop_dir, sizeof cfg->pop_dir);
    }
    cfg->out_path = v[O_OUT];
    if (cfg->out_path != NULL && cfg->out_path[0] == '\0')
        return usage("option --out: empty file name");

    const char *pm = v[O_PROGRESS] != NULL ? v[O_PROGRESS] : "auto";
    if (strcmp(pm, "auto") == 0)
        cfg->progress = SCALE_PROGRESS_AUTO;
    else if (strcmp(pm, "bar") == 0)
        cfg->progress = SCALE_PROGRESS_BAR;
    else if (strcmp(pm, "lines") == 0)
        cfg->progress = SCALE_PROGRESS_LINES;
    else if (strcmp(pm, "none") == 0)
        cfg->progress = SCALE_PROGRESS_NONE;
    else
        return usage("option --progress: '%s' is not auto, bar, lines or none", pm);
    if ((rc = get_seconds(v, O_PROGRESS_INTERVAL, 10, &cfg->progress_interval)) >= 0 ||
        (rc = get_seconds(v, O_CHECKPOINT_INTERVAL, 30, &cfg->checkpoint_interval)) >= 0)
        return rc;
    cfg->checkpoint_path = v[O_CHECKPOINT];
    if (cfg->checkpoint_path != NULL && cfg->checkpoint_path[0] == '\0')
        return usage("option --checkpoint: empty file name");

    if ((rc = get_count(v, O_PROJECT_MESSAGES, UINT64_C(300000000000), 1, UINT64_MAX / 2,
                        &cfg->project_messages)) >= 0 ||
        (rc = get_count(v, O_PROJECT_MACHINES, 1000, 1, UINT64_C(100000000),
                        &cfg->project_machines)) >= 0 ||
        (rc = get_count(v, O_PROJECT_CORES, 64, 1, 1000000, &cfg->project_cores)) >= 0 ||
        (rc = get_count(v, O_KEY_CACHE, 4096, 0, UINT64_C(1) << 24, &x)) >= 0)
        return rc;
    cfg->key_cache = (size_t)x;
    cfg->warm = v[O_NO_WARM] == NULL;
    cfg->dry_run = v[O_DRY_RUN] != NULL;
    return derive(cfg);
}
