/* imcore-bench: records the run's context, registers every benchmark group
 * and hands over to google-benchmark (all its --benchmark_* flags apply). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "benches.h"
#include "imc_bench.h"
#include "imcore/backend.h"

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

int main(int argc, char **argv)
{
    imc_bench_add_context("imcore.version", IMC_BENCH_IMCORE_VERSION);
    imc_bench_add_context("imcore.commit", IMC_BENCH_GIT_COMMIT);
    imc_bench_add_context("build.type", IMC_BENCH_BUILD_TYPE);
    imc_bench_add_context("build.c_flags", IMC_BENCH_C_FLAGS);
    imc_bench_add_context("compiler", IMC_BENCH_COMPILER);
    add_cpu_context();
    add_backend_context();

    imc_bench_register_overhead();
    imc_bench_register_primitives();
    imc_bench_register_dir();

    return imc_bench_main(argc, argv);
}
