/* imcore-bench: records the run's context, registers every benchmark group
 * and hands over to google-benchmark (all its --benchmark_* flags apply).
 *
 * Flags of its own: --imc_context=KEY=VALUE (repeatable) adds KEY to the
 * report's context, e.g. the suite scripts/bench ran (bench.suite=default);
 * --imc_instr=N runs every selected benchmark for exactly N iterations, for
 * instruction counts under callgrind (scripts/lib/bench_instr.py);
 * --imc_recipes prints the cost recipe of every core path (bench_recipe.c)
 * instead of running anything. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benches.h"
#include "imc_bench.h"
#include "imcore/backend.h"
#include "imcore/suite.h"

/* Set by bench/CMakeLists.txt at configure time. */
#ifndef IMC_BENCH_IMCORE_VERSION
#define IMC_BENCH_IMCORE_VERSION "unknown"
#endif
#ifndef IMC_BENCH_GIT_COMMIT
#define IMC_BENCH_GIT_COMMIT "unknown"
#endif
#ifndef IMC_BENCH_BUILD_TYPE
#define IMC_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef IMC_BENCH_C_FLAGS
#define IMC_BENCH_C_FLAGS "unknown"
#endif

#if defined(__clang__)
#define IMC_BENCH_COMPILER "clang " __VERSION__
#elif defined(__GNUC__)
#define IMC_BENCH_COMPILER "gcc " __VERSION__
#elif defined(__VERSION__)
#define IMC_BENCH_COMPILER __VERSION__
#else
#define IMC_BENCH_COMPILER "unknown"
#endif

static void caps_string(char *out, size_t cap, uint32_t caps)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {IMC_CAP_X25519, "x25519"},
        {IMC_CAP_ED25519, "ed25519"},
        {IMC_CAP_CHACHA20POLY1305, "chacha20poly1305"},
        {IMC_CAP_AES256GCM, "aes256gcm"},
        {IMC_CAP_P256_ECDH, "p256-ecdh"},
        {IMC_CAP_ECDSA_P256, "ecdsa-p256"},
        {IMC_CAP_SHA256, "sha256"},
    };
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((caps & names[i].bit) == 0)
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? "," : "", names[i].name);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

static void add_backend_context(void)
{
    size_t count = 0;
    const char *const *names = imc_backend_list(&count);
    char order[256];
    size_t used = 0;
    order[0] = '\0';
    /* The build's order (the JSON context is sorted by key). */
    for (size_t i = 0; i < count; i++) {
        int n = snprintf(order + used, sizeof(order) - used, "%s%s", used ? "," : "", names[i]);
        if (n < 0 || (size_t)n >= sizeof(order) - used)
            break;
        used += (size_t)n;
    }
    imc_bench_add_context("backends", order);
    for (size_t i = 0; i < count; i++) {
        char key[64];
        char caps[128];
        const imc_backend *b = imc_backend_get(names[i]);
        snprintf(key, sizeof(key), "backend.%s", names[i]);
        if (b == NULL) {
            imc_bench_add_context(key, "unavailable (failed to initialise)");
            continue;
        }
        imc_bench_add_context(key, imc_backend_version(b));
        snprintf(key, sizeof(key), "backend.%s.caps", names[i]);
        caps_string(caps, sizeof(caps), imc_backend_caps(b));
        imc_bench_add_context(key, caps);
    }
}

/* google-benchmark 1.7 reports cores, caches and MHz but not the model. */
static void add_cpu_context(void)
{
    char line[256];
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        while (fgets(line, sizeof(line), f) != NULL) {
            const char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) != 0 || colon == NULL)
                continue;
            colon++;
            while (*colon == ' ' || *colon == '\t')
                colon++;
            snprintf(model, sizeof(model), "%s", colon);
            model[strcspn(model, "\r\n")] = '\0';
            break;
        }
        fclose(f);
    }
    imc_bench_add_context("cpu.model", model);
}

/* The message suites this build has, and which backend runs each. */
static void add_suite_context(void)
{
    size_t nb = 0;
    const char *const *names = imc_backend_list(&nb);
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
        const imc_suite *s = imc_suite_get(id);
        char key[64], value[256];
        size_t used = 0;
        value[0] = '\0';
        for (size_t i = 0; i < nb; i++) {
            const imc_backend *b = imc_backend_get(names[i]);
            if (b == NULL || !imc_suite_supported(s, b))
                continue;
            int n = snprintf(value + used, sizeof(value) - used, "%s%s", used ? "," : "",
                             names[i]);
            if (n < 0 || (size_t)n >= sizeof(value) - used)
                break;
            used += (size_t)n;
        }
        snprintf(key, sizeof(key), "suite.%u.%s", (unsigned)id, s->short_name);
        imc_bench_add_context(key, used ? value : "(no backend)");
    }
}

/* --imc_instr=N: instruction-count mode (imc_bench_instr_mode). */
static int take_instr_flag(const char *arg)
{
    char *end = NULL;
    long long n = strtoll(arg, &end, 10);
    if (end == arg || *end != '\0' || !imc_bench_instr_mode(n)) {
        fprintf(stderr,
                "imcore-bench: --imc_instr=%s: needs an iteration count >= 2 and a build with "
                "valgrind/callgrind.h\n",
                arg);
        return -1;
    }
    imc_bench_add_context("bench.instr_iterations", arg);
    return 0;
}

/* Takes --imc_context=KEY=VALUE, --imc_instr=N and --imc_recipes out of argv
 * (google-benchmark refuses flags it does not know); returns the new argc,
 * or -1 for a malformed one. */
static int take_context_flags(int argc, char **argv, bool *print_recipes)
{
    static const char flag[] = "--imc_context=";
    static const char instr[] = "--imc_instr=";
    int out = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--imc_recipes") == 0) {
            *print_recipes = true;
            continue;
        }
        if (strncmp(argv[i], instr, sizeof(instr) - 1) == 0) {
            if (take_instr_flag(argv[i] + sizeof(instr) - 1) != 0)
                return -1;
            continue;
        }
        if (strncmp(argv[i], flag, sizeof(flag) - 1) != 0) {
            argv[out++] = argv[i];
            continue;
        }
        char *kv = argv[i] + sizeof(flag) - 1;
        char *eq = strchr(kv, '=');
        if (eq == NULL || eq == kv) {
            fprintf(stderr, "imcore-bench: expected --imc_context=KEY=VALUE, got %s\n", argv[i]);
            return -1;
        }
        *eq = '\0';
        imc_bench_add_context(kv, eq + 1);
    }
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    bool print_recipes = false;
    argc = take_context_flags(argc, argv, &print_recipes);
    if (argc < 0)
        return 1;
    imc_bench_add_context("imcore.version", IMC_BENCH_IMCORE_VERSION);
    imc_bench_add_context("imcore.commit", IMC_BENCH_GIT_COMMIT);
    imc_bench_add_context("build.type", IMC_BENCH_BUILD_TYPE);
    imc_bench_add_context("build.c_flags", IMC_BENCH_C_FLAGS);
    imc_bench_add_context("compiler", IMC_BENCH_COMPILER);
    add_cpu_context();
    add_backend_context();
    add_suite_context();

    /* Registration order is run order: the floors before the paths whose
     * in-process overhead counter divides by them. */
    imc_bench_register_overhead();
    imc_bench_register_primitives();
    imc_bench_register_msg();
    imc_bench_register_rcpt();
#if defined(__GNUC__) || defined(__clang__)
    if (imc_bench_register_peers != NULL)
        imc_bench_register_peers();
#endif
    imc_bench_register_threads();
    imc_bench_register_dir();

    int rc = 0;
    if (print_recipes)
        imc_bench_recipes_print();
    else
        rc = imc_bench_main(argc, argv);
    imc_bench_recipes_free();
    return rc;
}
