/* AFL++ driver: persistent mode with shared-memory test cases
 * (instrumentation/README.persistent_mode.md of AFL++), calling the same
 * LLVMFuzzerTestOneInput as libFuzzer. Built with afl-clang-fast (and with
 * AFL_LLVM_CMPLOG=1 for the cmplog binary given to afl-fuzz -c).
 *
 * Outside afl-fuzz (no shared memory) it runs the files named on the
 * command line once each, or stdin if there are none, so a crash from
 * out/default/crashes/ reproduces with `fuzz_X_afl crashfile`. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"

#ifndef __AFL_FUZZ_TESTCASE_LEN
#error "afl_main.c must be compiled with afl-clang-fast / afl-clang-lto"
#endif

/* AFL++'s macros are GNU C (statement expressions, a stray ';'). */
#pragma clang diagnostic ignored "-Wpedantic"
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#pragma clang diagnostic ignored "-Wextra-semi"

__AFL_FUZZ_INIT();

/* Test cases larger than this are cut (the envelope limit is ~1.1 MiB). */
#define AFL_MAX_INPUT (2u << 20)

static int run_file(const char *path, uint8_t *buf)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "afl driver: cannot open %s\n", path);
        return 1;
    }
    size_t len = fread(buf, 1, AFL_MAX_INPUT, f);
    if (f != stdin)
        fclose(f);
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL)
        return 1;
    memcpy(exact, buf, len);
    (void)LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    /* Build the fixed world (key generation) before the fork server starts,
     * so it is not repeated for every child. */
    (void)LLVMFuzzerInitialize(&argc, &argv);

    if (getenv("__AFL_SHM_ID") == NULL) {
        static uint8_t buf[AFL_MAX_INPUT];
        int rc = 0;
        for (int i = 1; i < argc && rc == 0; i++)
            rc = run_file(argv[i], buf);
        if (argc < 2)
            rc = run_file("-", buf);
        return rc;
    }

#ifdef __AFL_HAVE_MANUAL_CONTROL
    __AFL_INIT();
#endif
    unsigned char *shm = __AFL_FUZZ_TESTCASE_BUF; /* after __AFL_INIT, before __AFL_LOOP */
    while (__AFL_LOOP(100000)) {
        size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
        if (len > AFL_MAX_INPUT)
            len = AFL_MAX_INPUT;
        /* A heap copy of the exact size: the shared-memory buffer is large,
         * so without it ASan would not see reads past the input. */
        uint8_t *exact = malloc(len ? len : 1);
        if (exact == NULL)
            abort();
        memcpy(exact, shm, len);
        (void)LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    return 0;
}
