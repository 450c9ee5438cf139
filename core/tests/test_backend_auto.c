/* Profiles and the composite backend "auto" (backend/profile.c, auto.c),
 * label unit.
 *
 *   1. imc_backend_profile_parse: what it accepts, and a negative test for
 *      every rule (each refused as a whole, no partial output).
 *   2. The real entry point, each case in a child process (the choice is
 *      made once per process): a given profile yields exactly the given
 *      composition (primitives it does not name: the first backend that has
 *      them); a missing, unreadable or malformed profile falls back to
 *      timing; only IMC_AUTO_VERBOSE makes auto print; the first
 *      initialisation raced from several threads gives one backend.
 * That compositions answer as their parts do is test_backend_compose; the
 * known-answer tests run through auto too (they iterate the registry). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork, setenv */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static char tmpdir[256];

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *text, size_t len)
{
    char path[400];
    path_in_tmp(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK(fwrite(text, 1, len, f) == len);
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

/* The first library backend in the registry with primitive p, or NULL. */
static const char *first_with(imc_backend_prim p)
{
    size_t count = 0;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(names[i], "auto") == 0)
            continue;
        const imc_backend *b = imc_backend_get(names[i]);
        imc_backend_composition storage;
        const imc_backend *c = NULL;
        const imc_backend_choice ch = {p, names[i]};
        if (b != NULL && imc_backend_compose(&c, &storage, &ch, 1) == IMC_OK)
            return names[i];
    }
    return NULL;
}

/* The last library backend in the registry with p: a choice no default
 * or tie-break would make. */
static const char *last_with(imc_backend_prim p)
{
    size_t count = 0;
    const char *last = NULL;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count; i++) {
        imc_backend_composition storage;
        const imc_backend *c = NULL;
        const imc_backend_choice ch = {p, names[i]};
        if (strcmp(names[i], "auto") != 0 && imc_backend_get(names[i]) != NULL &&
            imc_backend_compose(&c, &storage, &ch, 1) == IMC_OK)
            last = names[i];
    }
    return last;
}

/* ---- 1. the parser ----------------------------------------------------- */

static void parse_refused(const char *text, size_t len, imc_status want, const char *why)
{
    imc_backend_choice ch[IMC_BACKEND_PRIM_COUNT];
    memset(ch, 0x5a, sizeof ch);
    size_t n = 99;
    imc_status st = imc_backend_profile_parse(ch, &n, text, len);
    if (st != want)
        fprintf(stderr, "profile rule '%s': got %s\n", why, imc_status_str(st));
    CHECK_ST(st, want);
    CHECK(n == 0);
    CHECK(imc_ct_is_zero(ch, sizeof ch));
}

#define REFUSED(text, want, why) parse_refused(text, sizeof text - 1, want, why)

static void test_parser(void)
{
    const char *x = last_with(IMC_BACKEND_PRIM_X25519);
    const char *s = first_with(IMC_BACKEND_PRIM_SHA256);
    CHECK(x != NULL && s != NULL);
    if (x == NULL || s == NULL)
        return;
    char text[256];
    imc_backend_choice ch[IMC_BACKEND_PRIM_COUNT];
    size_t n = 0;
    int len = snprintf(text, sizeof text, "# written by hand\nx25519=%s\n#\nsha256=%s\n", x, s);
    CHECK_OK(imc_backend_profile_parse(ch, &n, text, (size_t)len));
    CHECK(n == 2);
    CHECK(ch[0].prim == IMC_BACKEND_PRIM_X25519 && strcmp(ch[0].backend, x) == 0);
    CHECK(ch[1].prim == IMC_BACKEND_PRIM_SHA256 && strcmp(ch[1].backend, s) == 0);
    /* The names are the registry's own strings, not pointers into text. */
    size_t count = 0;
    const char *const *names = imc_backend_list(&count);
    int same = 0;
    for (size_t i = 0; i < count; i++)
        same |= names[i] == ch[0].backend;
    CHECK(same);
    /* Every primitive name parses. */
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++) {
        const char *b = first_with((imc_backend_prim)p);
        if (b == NULL)
            continue;
        len = snprintf(text, sizeof text, "%s=%s\n", imc_backend_prim_name((imc_backend_prim)p), b);
        CHECK_OK(imc_backend_profile_parse(ch, &n, text, (size_t)len));
        CHECK(n == 1 && ch[0].prim == (imc_backend_prim)p);
    }
    /* Empty: no choices. */
    CHECK_OK(imc_backend_profile_parse(ch, &n, "", 0));
    CHECK(n == 0);
    CHECK_OK(imc_backend_profile_parse(ch, &n, NULL, 0));

    /* Every rule. */
    CHECK_ST(imc_backend_profile_parse(NULL, &n, "", 0), IMC_ERR_ARG);
    CHECK_ST(imc_backend_profile_parse(ch, NULL, "", 0), IMC_ERR_ARG);
    parse_refused(NULL, 1, IMC_ERR_ARG, "NULL text");
    REFUSED("sha256=openssl", IMC_ERR_MALFORMED, "last line without newline");
    REFUSED("\n", IMC_ERR_MALFORMED, "empty line");
    REFUSED("sha256 =openssl\n", IMC_ERR_MALFORMED, "blank before =");
    REFUSED("sha256= openssl\n", IMC_ERR_MALFORMED, "blank after =");
    REFUSED(" sha256=openssl\n", IMC_ERR_MALFORMED, "leading blank");
    REFUSED("sha256=openssl \n", IMC_ERR_MALFORMED, "trailing blank");
    REFUSED("sha256=openssl\r\n", IMC_ERR_MALFORMED, "CR");
    REFUSED("sha256\n", IMC_ERR_MALFORMED, "no =");
    REFUSED("=openssl\n", IMC_ERR_MALFORMED, "no primitive");
    REFUSED("sha256=\n", IMC_ERR_MALFORMED, "no backend");
    REFUSED("sha256=openssl=x\n", IMC_ERR_MALFORMED, "two =");
    REFUSED("SHA256=openssl\n", IMC_ERR_MALFORMED, "names are exact");
    REFUSED("sha512=openssl\n", IMC_ERR_MALFORMED, "unknown primitive");
    REFUSED("x25519-derive=openssl\n", IMC_ERR_MALFORMED, "floor name, not a primitive");
    REFUSED("sha256=no-such-lib\n", IMC_ERR_NOT_FOUND, "unknown backend");
    REFUSED("sha256=auto\n", IMC_ERR_NOT_FOUND, "a composition");
    REFUSED("sha256=open\0ssl\n", IMC_ERR_MALFORMED, "NUL in a name");
    REFUSED("# a \0 comment\n", IMC_ERR_MALFORMED, "NUL in a comment");
    len = snprintf(text, sizeof text, "sha256=%s\nsha256=%s\n", s, s);
    parse_refused(text, (size_t)len, IMC_ERR_MALFORMED, "a primitive twice");
    /* A bad line after good ones: nothing of the good ones is returned. */
    len = snprintf(text, sizeof text, "sha256=%s\nx25519=%s\nbad\n", s, x);
    parse_refused(text, (size_t)len, IMC_ERR_MALFORMED, "bad last line");
    /* Size: the maximum is accepted, one byte more is not. */
    static char big[IMC_BACKEND_PROFILE_MAX_BYTES + 1];
    memset(big, '#', sizeof big);
    big[IMC_BACKEND_PROFILE_MAX_BYTES - 1] = '\n';
    CHECK_OK(imc_backend_profile_parse(ch, &n, big, IMC_BACKEND_PROFILE_MAX_BYTES));
    CHECK(n == 0);
    big[IMC_BACKEND_PROFILE_MAX_BYTES] = '\n';
    parse_refused(big, sizeof big, IMC_ERR_LIMIT, "over the maximum");
}

/* ---- 2. the environment, in child processes ---------------------------- */

/* Runs imc_backend_get("auto") in a child with the given environment (NULL:
 * unset); its stderr goes to err_out, its version string to version_out.
 * The child also checks that auto agrees with its X25519 part. Returns the
 * child's exit status (0: auto initialised and agreed). */
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
        if (a == NULL)
            _exit(11);
        FILE *v = fopen(ver_path, "w");
        if (v == NULL)
            _exit(12);
        fputs(imc_backend_version(a), v);
        fclose(v);
        const imc_backend *s = imc_backend_get(first_with(IMC_BACKEND_PRIM_X25519));
        uint8_t sk[32] = {7}, pk[32], s1[32], s2[32];
        if (s == NULL || imc_crypto_x25519_public(s, pk, sk) != IMC_OK ||
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
        if (strncmp(imc_backend_version(got[0]), "auto (timed at start-up: ", 25) != 0)
            _exit(23);
        _exit(0);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The version auto must report for a full composition given by profile. */
static void expected_version(char *out, size_t cap, const char *const pick[IMC_BACKEND_PRIM_COUNT])
{
    size_t used = (size_t)snprintf(out, cap, "auto (profile: ");
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++)
        if (pick[p] != NULL)
            used += (size_t)snprintf(out + used, cap - used, "%s%s=%s", p > 0 ? ", " : "",
                                     imc_backend_prim_name((imc_backend_prim)p), pick[p]);
    snprintf(out + used, cap - used, ")");
}

static void test_environment(void)
{
    char version[2048], err[4096], path[400], want[2048], text[1024];

    /* No profile: timed, silent. */
    CHECK(child_get(NULL, NULL, version, sizeof version, err, sizeof err) == 0);
    CHECK(strncmp(version, "auto (timed at start-up: random=", 32) == 0);
    CHECK(err[0] == '\0');

    /* A full profile naming, for every primitive, the last library that
     * has it: exactly that composition, silent. */
    const char *pick[IMC_BACKEND_PRIM_COUNT];
    size_t used = 0;
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++) {
        pick[p] = last_with((imc_backend_prim)p);
        if (pick[p] != NULL)
            used += (size_t)snprintf(text + used, sizeof text - used, "%s=%s\n",
                                     imc_backend_prim_name((imc_backend_prim)p), pick[p]);
    }
    write_file("full.profile", text, used);
    path_in_tmp(path, sizeof path, "full.profile");
    expected_version(want, sizeof want, pick);
    CHECK(child_get(path, NULL, version, sizeof version, err, sizeof err) == 0);
    if (strcmp(version, want) != 0)
        fprintf(stderr, "auto: %s\nwant: %s\n", version, want);
    CHECK(strcmp(version, want) == 0);
    CHECK(err[0] == '\0');
    /* ... and verbose: the composition on stderr, no timing. */
    CHECK(child_get(path, "1", version, sizeof version, err, sizeof err) == 0);
    CHECK(strstr(err, want) != NULL);
    CHECK(strstr(err, "timing") == NULL);

    /* A partial profile: the rest from the first library that has it. */
    const char *x = last_with(IMC_BACKEND_PRIM_X25519);
    used = (size_t)snprintf(text, sizeof text, "# partial\nx25519=%s\n", x);
    write_file("partial.profile", text, used);
    path_in_tmp(path, sizeof path, "partial.profile");
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++)
        pick[p] = p == IMC_BACKEND_PRIM_X25519 ? x : first_with((imc_backend_prim)p);
    expected_version(want, sizeof want, pick);
    CHECK(child_get(path, NULL, version, sizeof version, err, sizeof err) == 0);
    CHECK(strcmp(version, want) == 0);

    /* A missing file: timed; a message only when verbose. */
    path_in_tmp(path, sizeof path, "no-such.profile");
    CHECK(child_get(path, NULL, version, sizeof version, err, sizeof err) == 0);
    CHECK(strncmp(version, "auto (timed at start-up: ", 25) == 0);
    CHECK(err[0] == '\0');
    CHECK(child_get(path, "0", version, sizeof version, err, sizeof err) == 0);
    CHECK(err[0] == '\0');
    CHECK(child_get(path, "1", version, sizeof version, err, sizeof err) == 0);
    CHECK(strstr(err, "no-such.profile: ") != NULL);
    CHECK(strstr(err, "; timing instead") != NULL);

    /* A malformed file, and one naming a library not built: the same. */
    static const char *const bad[] = {"x25519=sodium", "x25519=no-such-library\n",
                                      "{\"benchmarks\": []}\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file("bad.profile", bad[i], strlen(bad[i]));
        path_in_tmp(path, sizeof path, "bad.profile");
        CHECK(child_get(path, NULL, version, sizeof version, err, sizeof err) == 0);
        CHECK(strncmp(version, "auto (timed at start-up: ", 25) == 0);
        CHECK(err[0] == '\0');
        CHECK(child_get(path, "yes", version, sizeof version, err, sizeof err) == 0);
        CHECK(strstr(err, "bad.profile: ") != NULL);
    }
    /* A directory is not a profile either. */
    CHECK(child_get(tmpdir, "1", version, sizeof version, err, sizeof err) == 0);
    CHECK(strstr(err, "; timing instead") != NULL);

    test_init_race();
}

int main(void)
{
    /* Not imc_backend_get("auto") here: the children must make the
     * choice themselves. */
    size_t count = 0;
    int have_auto = 0;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count; i++)
        have_auto |= strcmp(names[i], "auto") == 0;
    if (!have_auto) {
        imc_test_skip("auto", "not built");
        return imc_test_end();
    }
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/imc-auto-XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_parser();
    test_environment();
    char path[400];
    const char *const files[] = {"full.profile", "partial.profile", "bad.profile"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        path_in_tmp(path, sizeof path, files[i]);
        remove(path);
    }
    CHECK(rmdir(tmpdir) == 0);
    return imc_test_end();
}
