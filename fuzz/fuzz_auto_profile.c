/* Target auto_profile: the "auto" backend's profile reader
 * (core/src/backend/auto.c, imc_auto_plan_make): the google-benchmark
 * JSON named by IMC_AUTO_PROFILE, from which auto picks, per primitive,
 * the component backend with the smallest median.
 *
 * The input is used twice, written to a file under $TMPDIR:
 *   1. as the whole profile, for a plan over one component (nothing to
 *      choose, so nothing is timed): the reader says MALFORMED or, if it
 *      is google-benchmark JSON, NO_ENTRIES, the same on a second read,
 *      and every slot keeps its only candidate;
 *   2. as entries inside a profile that the harness completes: the
 *      document  {"benchmarks": [ INPUT  the harness's medians ]}  where
 *      the harness times every primitive of two components (a different
 *      winner slot by slot). When that is JSON (the one-component plan
 *      says so), the two-component plan must take every contested slot
 *      from the profile (nothing timed) and pick exactly the harness's
 *      winner whatever the input's own entries said before (a later
 *      median replaces an earlier one), keep each uncontested slot's only
 *      candidate, and describe itself consistently (the length it needs,
 *      a truncated description is a prefix of the whole).
 * Nothing here times anything, so the target is deterministic. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/auto.h"
#include "fuzz_common.h"

static char path[512];
static const imc_backend *comp[2];
static imc_auto_source alone[2][IMC_AUTO_SLOT_COUNT]; /* each component's own plan */
static imc_auto_plan plan;
static char tail[IMC_AUTO_SLOT_COUNT * 2 * 200 + 64];
static size_t tail_len;

static void write_file(const char *head, const uint8_t *data, size_t size, const char *end)
{
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", path);
    size_t hl = strlen(head), el = strlen(end);
    FUZZ_CHECK(fwrite(head, 1, hl, f) == hl && (size == 0 || fwrite(data, 1, size, f) == size) &&
                   fwrite(end, 1, el, f) == el,
               "cannot write %s", path);
    FUZZ_CHECK(fclose(f) == 0, "cannot write %s", path);
}

/* The harness's medians: slot s is won by component s % 2 wherever both
 * have it. */
static void setup(void)
{
    const fuzz_world *w = fuzz_world_get();
    size_t n = 0;
    for (size_t i = 0; i < w->n_backends && n < 2; i++)
        if (strcmp(imc_backend_name(w->backends[i]), "auto") != 0)
            comp[n++] = w->backends[i];
    if (n < 2)
        return; /* a build with one backend: nothing to choose between */
    for (size_t c = 0; c < 2; c++) {
        FUZZ_CHECK(imc_auto_plan_make(&plan, &comp[c], 1, NULL, NULL) == IMC_OK, "plan");
        memcpy(alone[c], plan.source, sizeof alone[c]);
    }
    size_t used = 0;
    for (size_t s = 0; s < IMC_AUTO_SLOT_COUNT; s++)
        for (size_t c = 0; c < 2; c++) {
            int k = snprintf(tail + used, sizeof tail - used,
                             ",{\"name\":\"prim/%s/%s\",\"run_type\":\"aggregate\","
                             "\"aggregate_name\":\"median\",\"cpu_time\":%u,\"time_unit\":\"ns\"}",
                             imc_backend_name(comp[c]), imc_auto_slot_name(s),
                             c == s % 2 ? 100u : 200u);
            FUZZ_CHECK(k > 0 && (size_t)k < sizeof tail - used, "profile tail too long");
            used += (size_t)k;
        }
    tail_len = used;
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/imcore-fuzz-auto-profile-%ld.json",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", (long)getpid());
}

static bool has(size_t c, size_t s) { return alone[c][s] != IMC_AUTO_SRC_NONE; }

/* A one-component plan from the profile at path: its state. */
static imc_auto_profile_state read_alone(void)
{
    FUZZ_CHECK(imc_auto_plan_make(&plan, &comp[0], 1, path, NULL) == IMC_OK, "plan");
    FUZZ_CHECK(plan.profile == IMC_AUTO_PROFILE_MALFORMED ||
                   plan.profile == IMC_AUTO_PROFILE_NO_ENTRIES,
               "one component, profile state %d", (int)plan.profile);
    FUZZ_CHECK(plan.from_profile == 0 && plan.calibrated == 0, "one component: %zu from the "
               "profile, %zu timed", plan.from_profile, plan.calibrated);
    for (size_t s = 0; s < IMC_AUTO_SLOT_COUNT; s++)
        FUZZ_CHECK(plan.source[s] == alone[0][s] && (plan.pick[s] != NULL) == has(0, s),
                   "one component: slot %zu changed by the profile", s);
    return plan.profile;
}

static void check_describe(void)
{
    static char full[4096], part[4096];
    size_t need = imc_auto_plan_describe(&plan, path, full, sizeof full);
    FUZZ_CHECK(need < sizeof full && strlen(full) == need, "describe: %zu, wrote %zu", need,
               strlen(full));
    size_t cap = need / 2 + 1;
    FUZZ_CHECK(imc_auto_plan_describe(&plan, path, part, cap) == need &&
                   strlen(part) == cap - 1 && memcmp(part, full, cap - 1) == 0,
               "a truncated description is not a prefix of the whole");
    FUZZ_CHECK(imc_auto_plan_describe(&plan, path, NULL, 0) == need, "describe without room");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    if (comp[1] == NULL || size > 65536)
        return 0;
    /* 1. The input as the whole profile. */
    write_file("", data, size, "");
    imc_auto_profile_state whole = read_alone();
    FUZZ_CHECK(read_alone() == whole, "two reads of one profile disagree");
    fuzz_count(whole == IMC_AUTO_PROFILE_MALFORMED ? "auto_profile.whole-malformed"
                                                   : "auto_profile.whole-json");

    /* 2. The input's entries, then the harness's. */
    static char *end;
    if (end == NULL) {
        end = malloc(tail_len + 3);
        FUZZ_CHECK(end != NULL, "out of memory");
        memcpy(end, tail, tail_len);
        memcpy(end + tail_len, "]}", 3);
    }
    bool lead = size == 0;
    write_file("{\"benchmarks\":[", data, size, lead ? end + 1 : end);
    if (read_alone() == IMC_AUTO_PROFILE_MALFORMED) {
        fuzz_count("auto_profile.entries-malformed");
        (void)remove(path);
        return 0;
    }
    FUZZ_CHECK(imc_auto_plan_make(&plan, comp, 2, path, NULL) == IMC_OK, "plan");
    size_t contested = 0;
    for (size_t s = 0; s < IMC_AUTO_SLOT_COUNT; s++) {
        bool h0 = has(0, s), h1 = has(1, s);
        if (h0 && h1) {
            contested++;
            FUZZ_CHECK(plan.source[s] == IMC_AUTO_SRC_PROFILE && plan.pick[s] == comp[s % 2],
                       "slot %s: source %d, picked %s, the profile's winner %s",
                       imc_auto_slot_name(s), (int)plan.source[s],
                       plan.pick[s] != NULL ? imc_backend_name(plan.pick[s]) : "-",
                       imc_backend_name(comp[s % 2]));
        } else {
            FUZZ_CHECK(plan.source[s] == (h0 || h1 ? IMC_AUTO_SRC_ONLY : IMC_AUTO_SRC_NONE) &&
                           plan.pick[s] == (h0 ? comp[0] : h1 ? comp[1] : NULL),
                       "slot %s with %d candidates: source %d", imc_auto_slot_name(s),
                       (int)h0 + (int)h1, (int)plan.source[s]);
        }
    }
    FUZZ_CHECK(plan.calibrated == 0 && plan.from_profile == contested &&
                   plan.profile == (contested > 0 ? IMC_AUTO_PROFILE_USED
                                                  : IMC_AUTO_PROFILE_NO_ENTRIES),
               "%zu slots from the profile, %zu contested, %zu timed", plan.from_profile,
               contested, plan.calibrated);
    check_describe();
    fuzz_count("auto_profile.entries-json");
    (void)remove(path);
    return 0;
}
