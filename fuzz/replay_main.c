/* Plain replay driver: runs LLVMFuzzerTestOneInput on files and on every
 * regular file under directories (recursively, in sorted order). Any
 * compiler; no fuzzing engine. Used by `ctest -L fuzz-regress` and for
 * reproducing a crash without libFuzzer or AFL++:
 *
 *   fuzz_decrypt_replay corpus/decrypt corpus/regressions/decrypt
 *
 * Arguments starting with '-' are ignored, so libFuzzer-style command lines
 * work unchanged. Exit status 0 when every input ran (a broken invariant
 * aborts), 1 on an unreadable path, 2 on no inputs at all when --require
 * was given. With IMC_FUZZ_QUIET unset it prints how many inputs ran and
 * the harness's event counters (e.g. how many deliveries decrypted). */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static unsigned long inputs_run;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        return 1;
    }
    for (;;) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (nb == NULL) {
            free(buf);
            fclose(f);
            return 1;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        fprintf(stderr, "replay: read error on %s\n", path);
        return 1;
    }
    /* An exact-size copy, so that ASan sees any read past the input. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(buf);
        return 1;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    if (getenv("IMC_FUZZ_TRACE") != NULL)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    (void)LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    inputs_run++;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int run_path(const char *path);

static int run_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "replay: cannot open directory %s\n", path);
        return 1;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof *names);
    int rc = names == NULL;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') /* ., .., and hidden files such as .gitkeep */
            continue;
        if (n == cap) {
            char **nn = realloc(names, cap * 2 * sizeof *names);
            if (nn == NULL) {
                rc = 1;
                break;
            }
            names = nn;
            cap *= 2;
        }
        size_t plen = strlen(path), nlen = strlen(e->d_name);
        names[n] = malloc(plen + nlen + 2);
        if (names[n] == NULL) {
            rc = 1;
            break;
        }
        memcpy(names[n], path, plen);
        names[n][plen] = '/';
        memcpy(names[n] + plen + 1, e->d_name, nlen + 1);
        n++;
    }
    closedir(d);
    if (names != NULL) {
        qsort(names, n, sizeof *names, name_cmp);
        for (size_t i = 0; i < n; i++) {
            if (rc == 0)
                rc = run_path(names[i]);
            free(names[i]);
        }
        free(names);
    }
    return rc;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return 1;
    }
    if (S_ISDIR(st.st_mode))
        return run_dir(path);
    if (S_ISREG(st.st_mode))
        return run_file(path);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0, require = 0;
    (void)LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc && rc == 0; i++) {
        if (strcmp(argv[i], "--require") == 0)
            require = 1;
        else if (argv[i][0] != '-')
            rc = run_path(argv[i]);
    }
    if (getenv("IMC_FUZZ_QUIET") == NULL) {
        fprintf(stderr, "replay: %lu inputs ran\n", inputs_run);
        fuzz_counts_print();
    }
    if (rc == 0 && require && inputs_run == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 2;
    }
    return rc;
}
