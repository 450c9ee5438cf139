/* The composite backend "auto" (backend/auto.c), label unit.
 *
 *   1. IMC_AUTO_PROFILE and IMC_AUTO_VERBOSE through the real entry point,
 *      each case in a child process (the choice is made once per process):
 *      a valid profile is used, a missing or malformed one falls back to
 *      timing, and only IMC_AUTO_VERBOSE makes auto print anything; the
 *      first initialisation raced from several threads gives one backend.
 *   2. The plan builder on crafted profiles: medians win over other
 *      aggregates and plain iterations, failed and foreign entries are
 *      ignored, units are converted, and every malformed shape is refused.
 *   3. Identical outputs: auto, sodium and openssl give the same bytes and
 *      the same status on every deterministic primitive, across the AEAD
 *      size bands, including rejections (ECDSA, randomised, is checked by
 *      cross-verification).
 * The known-answer tests (test_kat_*) run through auto too: they iterate
 * every backend in the registry. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork, setenv */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/auto.h"
#include "backend/backend_impl.h"
#include "test.h"

#ifdef IMC_WITH_AUTO

static const uint8_t SEED[IMC_RNG_SEED_BYTES] = "test_backend_auto seed, fixed..";

static char tmpdir[256];

/* ---- files ------------------------------------------------------------- */

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *text)
{
    char path[400];
    path_in_tmp(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK(fwrite(text, 1, strlen(text), f) == strlen(text));
    CHECK(fclose(f) == 0);
}

/* Reads a small file into buf (NUL-terminated); "" if absent. */
static void read_text(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void remove_tmp(const char *name)
{
    char path[400];
    path_in_tmp(path, sizeof path, name);
    remove(path);
}

/* One entry of a google-benchmark JSON report. */
static void entry(char *out, size_t cap, const char *name, const char *run_name,
                  const char *run_type, const char *aggregate, double t, const char *unit,
                  int error)
{
    size_t used = strlen(out);
    int first = used >= 2 && strcmp(out + used - 2, "[\n") == 0;
    snprintf(out + used, cap - used,
             "%s    {\n      \"name\": \"%s\",\n      \"run_name\": \"%s\",\n"
             "      \"run_type\": \"%s\",\n%s%s%s      \"repetitions\": 3,\n"
             "      \"iterations\": 1000,\n      \"real_time\": %.6e,\n"
             "      \"cpu_time\": %.6e,\n      \"time_unit\": \"%s\"%s\n    }",
             first ? "" : ",\n", name, run_name, run_type,
             aggregate != NULL ? "      \"aggregate_name\": \"" : "",
             aggregate != NULL ? aggregate : "", aggregate != NULL ? "\",\n" : "", t * 3.0, t,
             unit,
             error ? ",\n      \"error_occurred\": true,\n      \"error_message\": \"x\"" : "");
}

/* A profile that contradicts this machine's real speeds, so that a plan
 * can only follow it if it was read: openssl "wins" X25519 by 9x, sodium
 * wins the 16 KiB ChaCha20-Poly1305 seal (per median; the mean says the
 * opposite), SHA-256 comes from plain iterations (averaged), and decoys
 * (failed runs, prim/auto/, thread variants, other aggregates) must not
 * count. */
static void write_valid_profile(void)
{
    static char text[8192];
    snprintf(text, sizeof text,
             "{\n  \"context\": {\"date\": \"2026-01-01\", \"caches\": [{\"level\": 1}],"
             " \"load_avg\": [1.5, -2e-3, 0], \"note\": \"esc \\\" \\\\ \\u00e9 \\n\"},\n"
             "  \"benchmarks\": [\n");
    entry(text, sizeof text, "prim/sodium/x25519-derive_median", "prim/sodium/x25519-derive",
          "aggregate", "median", 9.0, "us", 0);
    entry(text, sizeof text, "prim/openssl/x25519-derive_median", "prim/openssl/x25519-derive",
          "aggregate", "median", 1000.0, "ns", 0);
    entry(text, sizeof text, "prim/openssl/x25519-derive_mean", "prim/openssl/x25519-derive",
          "aggregate", "mean", 99.0, "ms", 0);
    entry(text, sizeof text, "prim/sodium/aead-seal/chacha20poly1305/16384_median",
          "prim/sodium/aead-seal/chacha20poly1305/16384", "aggregate", "median", 1.0, "us", 0);
    entry(text, sizeof text, "prim/sodium/aead-seal/chacha20poly1305/16384_mean",
          "prim/sodium/aead-seal/chacha20poly1305/16384", "aggregate", "mean", 9.0, "ms", 0);
    entry(text, sizeof text, "prim/openssl/aead-seal/chacha20poly1305/16384_median",
          "prim/openssl/aead-seal/chacha20poly1305/16384", "aggregate", "median", 0.002, "ms", 0);
    /* Plain iterations (no aggregates): sodium 5 ns, openssl (4 + 10) / 2 = 7 ns. */
    entry(text, sizeof text, "prim/sodium/sha256/64", "prim/sodium/sha256/64", "iteration", NULL,
          5.0, "ns", 0);
    entry(text, sizeof text, "prim/openssl/sha256/64", "prim/openssl/sha256/64", "iteration",
          NULL, 4.0, "ns", 0);
    entry(text, sizeof text, "prim/openssl/sha256/64", "prim/openssl/sha256/64", "iteration",
          NULL, 10.0, "ns", 0);
    /* Decoys: a failed run that would flip Ed25519 sign, only one side of
     * HKDF, auto's own row, a thread variant, an unknown unit. */
    entry(text, sizeof text, "prim/openssl/ed25519-sign/64_median",
          "prim/openssl/ed25519-sign/64", "aggregate", "median", 1.0, "ns", 1);
    entry(text, sizeof text, "prim/sodium/ed25519-sign/64_median", "prim/sodium/ed25519-sign/64",
          "aggregate", "median", 20.0, "us", 0);
    entry(text, sizeof text, "prim/openssl/hkdf-sha256/32_median", "prim/openssl/hkdf-sha256/32",
          "aggregate", "median", 1.0, "ns", 0);
    entry(text, sizeof text, "prim/auto/hkdf-sha256/32_median", "prim/auto/hkdf-sha256/32",
          "aggregate", "median", 1.0, "ns", 0);
    entry(text, sizeof text, "prim/sodium/hmac-sha256/64/threads:2_median",
          "prim/sodium/hmac-sha256/64/threads:2", "aggregate", "median", 1.0, "ns", 0);
    entry(text, sizeof text, "prim/openssl/hmac-sha256/64_median",
          "prim/openssl/hmac-sha256/64", "aggregate", "median", 1.0, "ns", 0);
    entry(text, sizeof text, "prim/sodium/random/32_median", "prim/sodium/random/32",
          "aggregate", "median", 1.0, "fortnights", 0);
    entry(text, sizeof text, "prim/openssl/random/32_median", "prim/openssl/random/32",
          "aggregate", "median", 1.0, "ns", 0);
    size_t used = strlen(text);
    snprintf(text + used, sizeof text - used, "\n  ]\n}\n");
    write_file("valid.json", text);
}

static const char *const malformed[] = {
    "",
    "not json",
    "{\"benchmarks\": [",                                  /* truncated */
    "{\"benchmarks\": []} trailing",                       /* trailing bytes */
    "{\"benchmarks\": {}}",                                /* not an array */
    "{\"context\": {}}",                                   /* no benchmarks */
    "[{\"benchmarks\": []}]",                              /* not an object */
    "{\"benchmarks\": [{\"name\": \"a\\q\"}]}",            /* bad escape */
    "{\"benchmarks\": [{\"real_time\": NaN}]}",            /* not a JSON number */
    "{\"benchmarks\": [{\"real_time\": 1.}]}",             /* not a JSON number */
    "{\"benchmarks\": [{\"name\": \"a\"}],}",              /* trailing comma */
    "{\"benchmarks\": [{\"name\" \"a\"}]}",                /* missing colon */
    "{\"benchmarks\": [{\"name\": \"a\x01\"}]}",           /* control character */
    "{\"benchmarks\": [1, 2]}",                            /* entries not objects */
};

/* ---- 1. the environment, in child processes ---------------------------- */

/* Runs imc_backend_get("auto") in a child with the given environment (NULL:
 * unset); its stderr goes to err_out, its version string to version_out.
 * The child also checks that auto still agrees with sodium on X25519.
 * Returns the child's exit status (0: auto initialised and agreed). */
static int child_get(const char *profile, const char *verbose, char *version_out,
                     size_t version_cap, char *err_out, size_t err_cap)
{
    char err_path[400], ver_path[400];
    path_in_tmp(err_path, sizeof err_path, "child.err");
    path_in_tmp(ver_path, sizeof ver_path, "child.version");
    remove(err_path);
    remove(ver_path);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *e = freopen(err_path, "w", stderr);
        if (e == NULL)
            _exit(10);
        if (profile != NULL)
            setenv("IMC_AUTO_PROFILE", profile, 1);
        else
            unsetenv("IMC_AUTO_PROFILE");
        if (verbose != NULL)
            setenv("IMC_AUTO_VERBOSE", verbose, 1);
        else
            unsetenv("IMC_AUTO_VERBOSE");
        const imc_backend *a = imc_backend_get("auto");
        const imc_backend *s = imc_backend_get("sodium");
        if (a == NULL || s == NULL)
            _exit(11);
        FILE *v = fopen(ver_path, "w");
        if (v == NULL)
            _exit(12);
        fputs(imc_backend_version(a), v);
        fclose(v);
        uint8_t sk[32] = {7}, pk[32], s1[32], s2[32];
        if (imc_crypto_x25519_public(s, pk, sk) != IMC_OK ||
            imc_crypto_x25519(a, s1, sk, pk) != IMC_OK ||
            imc_crypto_x25519(s, s2, sk, pk) != IMC_OK || memcmp(s1, s2, 32) != 0)
            _exit(13);
        fflush(stderr);
        _exit(0);
    }
    int status = -1;
    CHECK(pid > 0);
    if (pid > 0)
        CHECK(waitpid(pid, &status, 0) == pid);
    read_text(ver_path, version_out, version_cap);
    read_text(err_path, err_out, err_cap);
    remove(err_path);
    remove(ver_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void *race_get(void *arg)
{
    (void)arg;
    return (void *)(uintptr_t)imc_backend_get("auto");
}

/* The first initialisation, from four threads at once, in a child. */
static void test_init_race(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        unsetenv("IMC_AUTO_PROFILE");
        unsetenv("IMC_AUTO_VERBOSE");
        pthread_t t[4];
        void *got[4] = {NULL};
        for (int i = 0; i < 4; i++)
            if (pthread_create(&t[i], NULL, race_get, NULL) != 0)
                _exit(20);
        for (int i = 0; i < 4; i++)
            if (pthread_join(t[i], &got[i]) != 0)
                _exit(21);
        for (int i = 0; i < 4; i++)
            if (got[i] == NULL || got[i] != got[0])
                _exit(22);
        if (strncmp(imc_backend_version(got[0]), "auto (timed at start-up; ", 25) != 0)
            _exit(23);
        _exit(0);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_environment(void)
{
    char version[2048], err[4096], path[400];

    /* No profile: timed, silent. */
    CHECK(child_get(NULL, NULL, version, sizeof version, err, sizeof err) == 0);
    CHECK(strncmp(version, "auto (timed at start-up; random: ", 33) == 0);
    CHECK(strstr(version, "p256-ecdh: openssl") != NULL);
    CHECK(err[0] == '\0');

    /* A valid profile: followed where complete, silent. */
    path_in_tmp(path, sizeof path, "valid.json");
    CHECK(child_get(path, NULL, version, sizeof version, err, sizeof err) == 0);
    CHECK(strncmp(version, "auto (from profile ", 19) == 0);
    CHECK(strstr(version, "rest timed") != NULL);
    CHECK(strstr(version, "x25519-derive: openssl") != NULL);
    CHECK(strstr(version, "sha256: sodium") != NULL);
    CHECK(strstr(version, "chacha20poly1305-seal 64/1024/16384: ") != NULL);
    CHECK(strstr(version, "/sodium, chacha20poly1305-open") != NULL);
    CHECK(err[0] == '\0');
    /* ... and verbose: the choices and their times. */
    CHECK(child_get(path, "1", version, sizeof version, err, sizeof err) == 0);
    CHECK(strstr(err, "3 choices from the profile") != NULL);
    CHECK(strstr(err, "openssl  (profile; sodium 9000 ns; openssl 1000 ns)") != NULL);

    /* A missing file: timed; a message only when verbose. */
    path_in_tmp(path, sizeof path, "no-such-profile.json");
    CHECK(child_get(path, NULL, version, sizeof version, err, sizeof err) == 0);
    CHECK(strncmp(version, "auto (timed; profile ", 21) == 0);
    CHECK(strstr(version, "unusable") != NULL);
    CHECK(err[0] == '\0');
    CHECK(child_get(path, "0", version, sizeof version, err, sizeof err) == 0);
    CHECK(err[0] == '\0');
    CHECK(child_get(path, "1", version, sizeof version, err, sizeof err) == 0);
    CHECK(strstr(err, "no-such-profile.json: no such file; timing every primitive instead") !=
          NULL);

    /* A malformed file: the same. */
    write_file("bad.json", "{\"benchmarks\": [{\"name\": ");
    path_in_tmp(path, sizeof path, "bad.json");
    CHECK(child_get(path, NULL, version, sizeof version, err, sizeof err) == 0);
    CHECK(strncmp(version, "auto (timed; profile ", 21) == 0);
    CHECK(err[0] == '\0');
    CHECK(child_get(path, "yes", version, sizeof version, err, sizeof err) == 0);
    CHECK(strstr(err, "bad.json: not google-benchmark JSON (stopped at byte") != NULL);
    remove_tmp("bad.json");

    /* A directory is not a profile either. */
    CHECK(child_get(tmpdir, "1", version, sizeof version, err, sizeof err) == 0);
    CHECK(strstr(err, "timing every primitive instead") != NULL);

    test_init_race();
}

/* ---- 2. the plan builder ----------------------------------------------- */

/* The plan builder is tested on two real libraries whose relative speeds
 * the valid profile names: components[0] = "sodium", [1] = "openssl". */
static const imc_backend *components[2];
#define SODIUM (components[0])
#define OPENSSL (components[1])

static size_t contested(void)
{
    size_t n = 0;
    for (size_t slot = 0; slot < IMC_AUTO_SLOT_COUNT; slot++) {
        int have = 0;
        for (size_t i = 0; i < 2; i++) {
            imc_auto_plan one;
            CHECK_OK(imc_auto_plan_make(&one, &components[i], 1, NULL, NULL));
            have += one.pick[slot] != NULL;
        }
        n += have == 2;
    }
    return n;
}

static void test_bands(void)
{
    int first = imc_auto_aead_slot(IMC_AEAD_CHACHA20POLY1305, 0, 0);
    CHECK(first == IMC_AUTO_AEAD_FIRST);
    CHECK(imc_auto_aead_slot(IMC_AEAD_CHACHA20POLY1305, 0, 255) == first);
    CHECK(imc_auto_aead_slot(IMC_AEAD_CHACHA20POLY1305, 0, 256) == first + 1);
    CHECK(imc_auto_aead_slot(IMC_AEAD_CHACHA20POLY1305, 0, 4095) == first + 1);
    CHECK(imc_auto_aead_slot(IMC_AEAD_CHACHA20POLY1305, 0, 4096) == first + 2);
    CHECK(imc_auto_aead_slot(IMC_AEAD_CHACHA20POLY1305, 0, SIZE_MAX) == first + 2);
    CHECK(imc_auto_aead_slot(IMC_AEAD_CHACHA20POLY1305, 1, 64) == first + 3);
    CHECK(imc_auto_aead_slot(IMC_AEAD_AES256GCM, 0, 64) == first + 6);
    CHECK(imc_auto_aead_slot(IMC_AEAD_AES256GCM, 1, 16384) == IMC_AUTO_SLOT_COUNT - 1);
    CHECK(imc_auto_aead_slot((imc_aead)9, 0, 64) == -1);
    /* The names are the primitive floor's. */
    CHECK(strcmp(imc_auto_slot_name((size_t)first + 2), "aead-seal/chacha20poly1305/16384") == 0);
    CHECK(strcmp(imc_auto_slot_name(IMC_AUTO_X25519), "x25519-derive") == 0);
    CHECK(imc_auto_slot_name(IMC_AUTO_SLOT_COUNT) == NULL);
}

static void test_plans(void)
{
    imc_auto_plan plan;
    char path[400], desc[2048];
    /* Plans take initialised components (libsodium detects AES-NI in its
     * init). */
    size_t n_contested = contested();
    const uint32_t both = SODIUM->caps() | OPENSSL->caps();

    CHECK_ST(imc_auto_plan_make(&plan, components, 0, NULL, NULL), IMC_ERR_ARG);
    CHECK_ST(imc_auto_plan_make(NULL, components, 2, NULL, NULL), IMC_ERR_ARG);

    /* No profile: every contested slot timed, P-256 from OpenSSL only. */
    CHECK_OK(imc_auto_plan_make(&plan, components, 2, NULL, NULL));
    CHECK(plan.profile == IMC_AUTO_PROFILE_UNSET);
    CHECK(plan.calibrated == n_contested && plan.from_profile == 0);
    CHECK(n_contested >= 13); /* random, X25519 x2, Ed25519 x3, hashes x3, ChaCha x6 */
    CHECK(plan.caps == both);
    CHECK(plan.pick[IMC_AUTO_P256_ECDH] == OPENSSL);
    CHECK(plan.source[IMC_AUTO_ECDSA_P256_SIGN] == IMC_AUTO_SRC_ONLY);
    for (size_t slot = 0; slot < IMC_AUTO_SLOT_COUNT; slot++) {
        CHECK(plan.pick[slot] != NULL);
        if (plan.source[slot] == IMC_AUTO_SRC_CALIBRATED) {
            if (!(plan.ns[slot][0] > 0.0 && plan.ns[slot][1] > 0.0))
                fprintf(stderr, "slot %s: %g ns, %g ns\n", imc_auto_slot_name(slot),
                        plan.ns[slot][0], plan.ns[slot][1]);
            CHECK(plan.ns[slot][0] > 0.0 && plan.ns[slot][1] > 0.0);
        }
    }
    CHECK(plan.calibration_ms > 0.0 && plan.calibration_ms < 2000.0);
    printf("calibration: %zu slots in %.1f ms\n", plan.calibrated, plan.calibration_ms);
    CHECK(imc_auto_plan_describe(&plan, NULL, desc, sizeof desc) < sizeof desc);
    CHECK(strncmp(desc, "auto (timed at start-up; random: ", 33) == 0);
    /* Truncation: reports the length it needed, stays terminated. */
    size_t need = strlen(desc);
    char small[16];
    CHECK(imc_auto_plan_describe(&plan, NULL, small, sizeof small) == need);
    CHECK(strlen(small) == sizeof small - 1);

    /* Components in the other order: the same caps, same set of slots. */
    const imc_backend *const reversed[] = {OPENSSL, SODIUM};
    imc_auto_plan rev;
    CHECK_OK(imc_auto_plan_make(&rev, reversed, 2, NULL, NULL));
    CHECK(rev.caps == both && rev.calibrated == n_contested);

    /* The valid profile. */
    path_in_tmp(path, sizeof path, "valid.json");
    FILE *log = tmpfile();
    CHECK(log != NULL);
    CHECK_OK(imc_auto_plan_make(&plan, components, 2, path, log));
    CHECK(plan.profile == IMC_AUTO_PROFILE_USED);
    CHECK(plan.from_profile == 3);
    CHECK(plan.calibrated == n_contested - 3);
    CHECK(plan.pick[IMC_AUTO_X25519] == OPENSSL);
    CHECK(plan.source[IMC_AUTO_X25519] == IMC_AUTO_SRC_PROFILE);
    CHECK(plan.ns[IMC_AUTO_X25519][0] == 9000.0 && plan.ns[IMC_AUTO_X25519][1] == 1000.0);
    size_t seal16k = (size_t)imc_auto_aead_slot(IMC_AEAD_CHACHA20POLY1305, 0, 16384);
    CHECK(plan.pick[seal16k] == SODIUM);
    CHECK(plan.source[seal16k] == IMC_AUTO_SRC_PROFILE);
    CHECK(plan.ns[seal16k][0] == 1000.0 && plan.ns[seal16k][1] == 2000.0);
    CHECK(plan.pick[IMC_AUTO_SHA256] == SODIUM);
    CHECK(plan.ns[IMC_AUTO_SHA256][1] == 7.0);
    /* Ed25519 sign: the openssl row failed, so only sodium's: timed. */
    CHECK(plan.source[IMC_AUTO_ED25519_SIGN] == IMC_AUTO_SRC_CALIBRATED);
    CHECK(plan.source[IMC_AUTO_HKDF_SHA256] == IMC_AUTO_SRC_CALIBRATED);
    CHECK(plan.source[IMC_AUTO_HMAC_SHA256] == IMC_AUTO_SRC_CALIBRATED);
    CHECK(plan.source[IMC_AUTO_RANDOM] == IMC_AUTO_SRC_CALIBRATED);
    size_t profiled = 0;
    for (size_t slot = 0; slot < IMC_AUTO_SLOT_COUNT; slot++)
        profiled += plan.source[slot] == IMC_AUTO_SRC_PROFILE;
    CHECK(profiled == plan.from_profile);
    CHECK(imc_auto_plan_describe(&plan, path, desc, sizeof desc) < sizeof desc);
    CHECK(strstr(desc, "auto (from profile ") == desc);
    CHECK(strstr(desc, "rest timed") != NULL);
    if (log != NULL)
        fclose(log);

    /* Missing file: timed, message to the log only. */
    path_in_tmp(path, sizeof path, "missing.json");
    CHECK_OK(imc_auto_plan_make(&plan, components, 2, path, NULL));
    CHECK(plan.profile == IMC_AUTO_PROFILE_UNREADABLE);
    CHECK(plan.calibrated == n_contested && plan.from_profile == 0);

    /* Every malformed shape: refused as a whole, timed. */
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        write_file("malformed.json", malformed[i]);
        path_in_tmp(path, sizeof path, "malformed.json");
        CHECK_OK(imc_auto_plan_make(&plan, components, 2, path, NULL));
        if (plan.profile != IMC_AUTO_PROFILE_MALFORMED)
            fprintf(stderr, "malformed profile %zu accepted: %s\n", i, malformed[i]);
        CHECK(plan.profile == IMC_AUTO_PROFILE_MALFORMED);
        CHECK(plan.calibrated == n_contested && plan.from_profile == 0);
    }
    /* Nesting deeper than the reader goes. */
    static char deep[2100];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    deep[2000] = '\0';
    char nested[2200];
    snprintf(nested, sizeof nested, "{\"benchmarks\": [], \"x\": %s}", deep);
    write_file("malformed.json", nested);
    CHECK_OK(imc_auto_plan_make(&plan, components, 2, path, NULL));
    CHECK(plan.profile == IMC_AUTO_PROFILE_MALFORMED);
    remove_tmp("malformed.json");

    /* Valid, but nothing to compare: an empty report, one side only. */
    write_file("empty.json", "{\"context\": {}, \"benchmarks\": []}");
    path_in_tmp(path, sizeof path, "empty.json");
    CHECK_OK(imc_auto_plan_make(&plan, components, 2, path, NULL));
    CHECK(plan.profile == IMC_AUTO_PROFILE_NO_ENTRIES);
    CHECK(plan.calibrated == n_contested);
    write_file("empty.json",
               "{\"benchmarks\": [{\"name\": \"prim/sodium/x25519-derive\", \"run_type\": "
               "\"iteration\", \"cpu_time\": 1, \"time_unit\": \"us\"}]}");
    CHECK_OK(imc_auto_plan_make(&plan, components, 2, path, NULL));
    CHECK(plan.profile == IMC_AUTO_PROFILE_NO_ENTRIES);
    remove_tmp("empty.json");
}

/* ---- 3. identical outputs ---------------------------------------------- */

#define NB 3 /* auto, sodium, openssl */

static const imc_backend *bs[NB];

/* Checks that all NB results (status and n bytes of out) agree. */
static void same(const char *what, size_t len, const imc_status st[NB], uint8_t *const out[NB],
                 size_t n)
{
    for (size_t i = 1; i < NB; i++) {
        int ok = st[i] == st[0] && (st[0] != IMC_OK || memcmp(out[i], out[0], n) == 0);
        if (!ok)
            fprintf(stderr, "%s (len %zu): %s gave %s, %s gave %s%s\n", what, len,
                    imc_backend_name(bs[0]), imc_status_str(st[0]), imc_backend_name(bs[i]),
                    imc_status_str(st[i]), st[i] == st[0] ? " with different bytes" : "");
        CHECK(ok);
    }
}

static void test_dh_and_sig(imc_rng *rng)
{
    uint8_t sk[32], peer_sk[32], msg[5000];
    uint8_t pk_buf[NB][32], sh_buf[NB][32], sig_buf[NB][64];
    uint8_t *pk[NB], *sh[NB], *sig[NB];
    imc_status st[NB];
    for (size_t i = 0; i < NB; i++) {
        pk[i] = pk_buf[i];
        sh[i] = sh_buf[i];
        sig[i] = sig_buf[i];
    }
    static const size_t lens[] = {0, 1, 63, 64, 65, 1000, 5000};
    for (int round = 0; round < 16; round++) {
        CHECK_OK(imc_rng_fill(rng, NULL, sk, sizeof sk));
        CHECK_OK(imc_rng_fill(rng, NULL, peer_sk, sizeof peer_sk));
        CHECK_OK(imc_rng_fill(rng, NULL, msg, sizeof msg));
        uint8_t peer_pk[32];
        CHECK_OK(imc_crypto_x25519_public(bs[1], peer_pk, peer_sk));
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_x25519_public(bs[i], pk[i], sk);
        same("x25519 public", 32, st, pk, 32);
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_x25519(bs[i], sh[i], sk, peer_pk);
        same("x25519", 32, st, sh, 32);
        /* A low-order peer and a peer with bit 255 set. */
        uint8_t odd[32] = {1};
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_x25519(bs[i], sh[i], sk, odd);
        same("x25519 low order", 32, st, sh, 32);
        CHECK(st[0] == IMC_ERR_WEAK_KEY);
        memcpy(odd, peer_pk, 32);
        odd[31] |= 0x80;
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_x25519(bs[i], sh[i], sk, odd);
        same("x25519 bit 255", 32, st, sh, 32);

        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_ed25519_public(bs[i], pk[i], sk);
        same("ed25519 public", 32, st, pk, 32);
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            for (size_t i = 0; i < NB; i++)
                st[i] = imc_crypto_ed25519_sign(bs[i], sig[i], sk, pk[0], msg, lens[l]);
            same("ed25519 sign", lens[l], st, sig, 64);
            for (size_t i = 0; i < NB; i++)
                st[i] = imc_crypto_ed25519_verify(bs[i], sig[0], pk[0], msg, lens[l]);
            same("ed25519 verify", lens[l], st, sig, 0);
            CHECK(st[0] == IMC_OK);
            sig[0][round % 64] ^= 0x10;
            for (size_t i = 0; i < NB; i++)
                st[i] = imc_crypto_ed25519_verify(bs[i], sig[0], pk[0], msg, lens[l]);
            same("ed25519 verify (tampered)", lens[l], st, sig, 0);
            CHECK(st[0] == IMC_ERR_AUTH);
        }
    }
}

static void test_aead(imc_rng *rng, imc_aead aead, const char *name)
{
    static const size_t lens[] = {0,    1,    15,   16,   63,    64,    65,    255,   256,
                                  257,  1023, 1024, 1025, 4095,  4096,  4097,  16383, 16384,
                                  16385, 20000, 70000};
    const size_t max = 70000 + IMC_AEAD_TAG_BYTES;
    uint8_t key[32], nonce[12], ad[13];
    uint8_t *pt = malloc(max), *ct[NB], *out[NB];
    int ok = pt != NULL;
    for (size_t i = 0; i < NB; i++) {
        ct[i] = malloc(max);
        out[i] = malloc(max);
        ok = ok && ct[i] != NULL && out[i] != NULL;
    }
    CHECK(ok);
    imc_status st[NB];
    for (size_t l = 0; ok && l < sizeof lens / sizeof lens[0]; l++) {
        size_t len = lens[l], ad_len = l % 2 == 0 ? 0 : sizeof ad;
        CHECK_OK(imc_rng_fill(rng, NULL, key, sizeof key));
        CHECK_OK(imc_rng_fill(rng, NULL, nonce, sizeof nonce));
        CHECK_OK(imc_rng_fill(rng, NULL, ad, sizeof ad));
        CHECK_OK(imc_rng_fill(rng, NULL, pt, len));
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_aead_seal(bs[i], aead, ct[i], max, key, nonce, 12, ad, ad_len, pt,
                                         len);
        same(name, len, st, ct, len + IMC_AEAD_TAG_BYTES);
        CHECK(st[0] == IMC_OK);
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_aead_open(bs[i], aead, out[i], max, key, nonce, 12, ad, ad_len,
                                         ct[0], len + IMC_AEAD_TAG_BYTES);
        same(name, len, st, out, len);
        CHECK(st[0] == IMC_OK && memcmp(out[0], pt, len) == 0);
        /* A flipped bit (body or tag), and a wrong AD: rejected by all, wiped. */
        size_t flip = (len + IMC_AEAD_TAG_BYTES) * 7 / 11;
        ct[0][flip] ^= 0x04;
        for (size_t i = 0; i < NB; i++) {
            memset(out[i], 0xAA, len);
            st[i] = imc_crypto_aead_open(bs[i], aead, out[i], max, key, nonce, 12, ad, ad_len,
                                         ct[0], len + IMC_AEAD_TAG_BYTES);
            CHECK(imc_ct_is_zero(out[i], len));
        }
        same(name, len, st, out, 0);
        CHECK(st[0] == IMC_ERR_AUTH);
        ct[0][flip] ^= 0x04;
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_aead_open(bs[i], aead, out[i], max, key, nonce, 12, ad,
                                         sizeof ad - ad_len, ct[0], len + IMC_AEAD_TAG_BYTES);
        same(name, len, st, out, 0);
        CHECK(st[0] == IMC_ERR_AUTH);
        /* In place. */
        memcpy(out[0], pt, len);
        CHECK_OK(imc_crypto_aead_seal(bs[0], aead, out[0], max, key, nonce, 12, ad, ad_len,
                                      out[0], len));
        CHECK(memcmp(out[0], ct[1], len + IMC_AEAD_TAG_BYTES) == 0);
    }
    free(pt);
    for (size_t i = 0; i < NB; i++) {
        free(ct[i]);
        free(out[i]);
    }
}

static void test_hashes(imc_rng *rng)
{
    uint8_t in[300], key[100], salt[40], info[50];
    uint8_t h_buf[NB][IMC_SHA256_BYTES];
    static uint8_t okm_buf[NB][IMC_HKDF_SHA256_MAX_BYTES];
    uint8_t *h[NB], *okm[NB];
    imc_status st[NB];
    for (size_t i = 0; i < NB; i++) {
        h[i] = h_buf[i];
        okm[i] = okm_buf[i];
    }
    CHECK_OK(imc_rng_fill(rng, NULL, in, sizeof in));
    CHECK_OK(imc_rng_fill(rng, NULL, key, sizeof key));
    CHECK_OK(imc_rng_fill(rng, NULL, salt, sizeof salt));
    CHECK_OK(imc_rng_fill(rng, NULL, info, sizeof info));
    static const size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 119, 120, 300};
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_sha256(bs[i], h[i], in, lens[l]);
        same("sha256", lens[l], st, h, 32);
    }
    static const size_t key_lens[] = {0, 1, 32, 64, 65, 100};
    for (size_t k = 0; k < sizeof key_lens / sizeof key_lens[0]; k++) {
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_hmac_sha256(bs[i], h[i], key, key_lens[k], in, 100);
        same("hmac-sha256", key_lens[k], st, h, 32);
    }
    static const size_t out_lens[] = {1, 31, 32, 33, 64, 100, IMC_HKDF_SHA256_MAX_BYTES};
    for (size_t o = 0; o < sizeof out_lens / sizeof out_lens[0]; o++) {
        for (size_t i = 0; i < NB; i++)
            st[i] = imc_crypto_hkdf_sha256(bs[i], okm[i], out_lens[o], o % 2 ? salt : NULL,
                                           o % 2 ? sizeof salt : 0, key, 32, info, o * 7);
        same("hkdf-sha256", out_lens[o], st, okm, out_lens[o]);
    }
}

/* P-256 is OpenSSL's alone: auto must be it (keys, ECDH), and signatures
 * (randomised) must verify across. */
static void test_p256(imc_rng *rng)
{
    const imc_backend *a = bs[0], *o = bs[2];
    uint8_t sk[32], sk2[32], pk_a[65], pk_o[65], pk2[65], s_a[32], s_o[32], sig[64], msg[100];
    for (int round = 0; round < 4; round++) {
        CHECK_OK(imc_crypto_p256_keygen(o, rng, pk2, sk2));
        CHECK_OK(imc_rng_fill(rng, NULL, msg, sizeof msg));
        CHECK_OK(imc_crypto_p256_keygen(a, rng, pk_a, sk));
        CHECK_OK(imc_crypto_p256_public(o, pk_o, sk));
        CHECK(memcmp(pk_a, pk_o, 65) == 0);
        CHECK_OK(imc_crypto_p256_ecdh(a, s_a, sk, pk2));
        CHECK_OK(imc_crypto_p256_ecdh(o, s_o, sk, pk2));
        CHECK(memcmp(s_a, s_o, 32) == 0);
        CHECK_OK(imc_crypto_ecdsa_p256_sign(a, sig, sk, msg, sizeof msg));
        CHECK_OK(imc_crypto_ecdsa_p256_verify(o, sig, pk_a, msg, sizeof msg));
        CHECK_OK(imc_crypto_ecdsa_p256_sign(o, sig, sk, msg, sizeof msg));
        CHECK_OK(imc_crypto_ecdsa_p256_verify(a, sig, pk_a, msg, sizeof msg));
        sig[5] ^= 1;
        CHECK_ST(imc_crypto_ecdsa_p256_verify(a, sig, pk_a, msg, sizeof msg), IMC_ERR_AUTH);
        CHECK_ST(imc_crypto_ecdsa_p256_verify(o, sig, pk_a, msg, sizeof msg), IMC_ERR_AUTH);
        pk2[64] ^= 1; /* off the curve */
        CHECK_ST(imc_crypto_p256_ecdh(a, s_a, sk, pk2), IMC_ERR_WEAK_KEY);
        CHECK_ST(imc_crypto_p256_ecdh(o, s_o, sk, pk2), IMC_ERR_WEAK_KEY);
    }
}

static void test_outputs(void)
{
    bs[0] = imc_backend_get("auto");
    bs[1] = imc_backend_get("sodium");
    bs[2] = imc_backend_get("openssl");
    CHECK(bs[0] != NULL && bs[1] != NULL && bs[2] != NULL);
    if (bs[0] == NULL || bs[1] == NULL || bs[2] == NULL)
        return;
    printf("%s\n", imc_backend_version(bs[0]));
    /* auto offers what any other backend in the registry offers. */
    uint32_t all = 0;
    size_t count = 0;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count; i++)
        if (strcmp(names[i], "auto") != 0)
            all |= imc_backend_caps(imc_backend_get(names[i]));
    CHECK(imc_backend_caps(bs[0]) == all);
    CHECK(imc_suite_supported(imc_suite_get(2), bs[0]));
    uint8_t r1[32], r2[32];
    CHECK_OK(imc_crypto_random(bs[0], r1, sizeof r1));
    CHECK_OK(imc_crypto_random(bs[0], r2, sizeof r2));
    CHECK(memcmp(r1, r2, 32) != 0);

    imc_rng rng;
    imc_rng_init_deterministic(&rng, SEED, 1);
    test_dh_and_sig(&rng);
    test_aead(&rng, IMC_AEAD_CHACHA20POLY1305, "chacha20poly1305");
    if (imc_backend_caps(bs[1]) & IMC_CAP_AES256GCM)
        test_aead(&rng, IMC_AEAD_AES256GCM, "aes256gcm");
    test_hashes(&rng);
    test_p256(&rng);
    imc_rng_wipe(&rng);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/imc-auto-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    write_valid_profile();

    /* Children first: the parent must not have initialised auto yet. */
    test_environment();
    test_bands();
    SODIUM = imc_backend_get("sodium");
    OPENSSL = imc_backend_get("openssl");
    if (SODIUM != NULL && OPENSSL != NULL)
        test_plans();
    else
        printf("plan tests skipped: they need the sodium and openssl backends\n");
    test_outputs();

    remove_tmp("valid.json");
    rmdir(tmpdir);
    return imc_test_end();
}

#else

int main(void)
{
    /* "auto" needs both libsodium and OpenSSL. */
    CHECK(imc_backend_get("auto") == NULL);
    printf("auto backend not built (needs both backends)\n");
    return imc_test_end();
}

#endif
