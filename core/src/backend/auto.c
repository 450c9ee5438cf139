/* The composite backend "auto": a composition (compose.c) of the other
 * backends in the registry, chosen once, at the first imc_backend_get("auto"),
 * under pthread_once, and never changed:
 *
 *   - IMC_AUTO_PROFILE names a profile file (imc_backend_profile_parse;
 *     scripts/auto-profile writes one from a benchmark run): its choices,
 *     and for a primitive it does not name, the first backend in the
 *     registry that has it;
 *   - without one, or if it cannot be read or parsed, a short timing of
 *     every primitive on each backend that has it (calibrate.c).
 *
 * IMC_AUTO_VERBOSE=1 prints the choice, the timings and any problem with
 * the profile on stderr; without it auto prints nothing. The choice cannot
 * change any answer: a composition sits behind the same policy layer as
 * every backend, and the parts agree byte for byte (test_kat_wycheproof,
 * test_backend_compose). */
#define _GNU_SOURCE /* secure_getenv */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_impl.h"
#include "backend/calibrate.h"

static imc_status auto_init(void);

/* Write-once: filled by auto_init_once(), read-only afterwards. */
imc_composed imc_backend_auto = {.head = {.name = "auto", .init = auto_init, .composed = 1}};

static pthread_once_t auto_once = PTHREAD_ONCE_INIT;
static imc_status auto_status = IMC_ERR_CRYPTO;

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

/* Reads and parses the profile at path; IMC_OK or why not. */
static imc_status read_profile(imc_backend_choice choices[IMC_BACKEND_PRIM_COUNT], size_t *n,
                               const char *path)
{
    char text[IMC_BACKEND_PROFILE_MAX_BYTES + 1];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return IMC_ERR_IO;
    size_t len = fread(text, 1, sizeof text, f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return IMC_ERR_IO;
    /* One byte over the maximum is enough for the parser to refuse it. */
    return imc_backend_profile_parse(choices, n, text, len);
}

static void auto_init_once(void)
{
    /* Every other backend in the registry that initialises, in registry
     * order. */
    const imc_backend *ready[IMC_CALIBRATE_MAX];
    size_t count = 0, n_ready = 0;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count && n_ready < IMC_CALIBRATE_MAX; i++) {
        if (strcmp(names[i], imc_backend_auto.head.name) == 0)
            continue; /* getting it here would wait for this very call */
        const imc_backend *b = imc_backend_get(names[i]);
        if (b != NULL && !b->composed)
            ready[n_ready++] = b;
    }
    if (n_ready == 0)
        return;
    const char *verbose = env("IMC_AUTO_VERBOSE");
    FILE *log = verbose != NULL && strcmp(verbose, "0") != 0 ? stderr : NULL;
    const char *profile = env("IMC_AUTO_PROFILE");

    imc_backend_choice choices[IMC_BACKEND_PRIM_COUNT];
    size_t n = 0;
    const char *how = "timed at start-up";
    if (profile != NULL) {
        imc_status st = read_profile(choices, &n, profile);
        if (st == IMC_OK) {
            how = "profile";
        } else if (log != NULL) {
            fprintf(log, "imcore auto backend: IMC_AUTO_PROFILE=%s: %s; timing instead\n", profile,
                    imc_status_str(st));
        }
    }
    if (n > 0) {
        /* The rest: the first backend that has each primitive. */
        for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++) {
            int named = 0;
            for (size_t i = 0; i < n; i++)
                named |= choices[i].prim == (imc_backend_prim)p;
            for (size_t i = 0; i < n_ready && !named; i++) {
                if (imc_backend_has_prim(ready[i], (imc_backend_prim)p)) {
                    choices[n].prim = (imc_backend_prim)p;
                    choices[n++].backend = ready[i]->name;
                    named = 1;
                }
            }
        }
    } else {
        if (log != NULL)
            fprintf(log, "imcore auto backend: timing each primitive\n");
        imc_calibrate(choices, &n, ready, n_ready, log);
    }
    imc_composed c = imc_backend_auto;
    imc_status st = imc_compose_fill(&c, choices, n);
    if (st == IMC_OK) {
        memcpy(imc_backend_auto.head.part, c.head.part, sizeof c.head.part);
        imc_backend_auto.caps = c.caps;
        snprintf(imc_backend_auto.version, sizeof imc_backend_auto.version, "auto (%s: %.400s)",
                 how, c.version);
        if (log != NULL)
            fprintf(log, "imcore auto backend: %s\n", imc_backend_auto.version);
    }
    auto_status = st;
}

static imc_status auto_init(void)
{
    if (pthread_once(&auto_once, auto_init_once) != 0)
        return IMC_ERR_CRYPTO;
    return auto_status;
}
