/* A minimal test harness: each test program is a plain C main() that makes
 * CHECKs and ends with `return imc_test_end();`, which prints the counts and
 * fails the process on any failed check, and also when no check ran at all
 * (a test that tests nothing is broken). A part that cannot run here (a
 * suite no backend supports) calls imc_test_skip(); a program that then ran
 * no check exits 77, which CTest reports as skipped (SKIP_RETURN_CODE). */
#ifndef IMCORE_TEST_H
#define IMCORE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imcore/imcore.h"

static unsigned long imc_test_passed_, imc_test_failed_, imc_test_skipped_;

#define IMC_TEST_SKIP_EXIT 77

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (cond) {                                                                            \
            imc_test_passed_++;                                                                \
        } else {                                                                               \
            imc_test_failed_++;                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
        }                                                                                      \
    } while (0)

/* Checks that expr returns the expected imc_status, naming both if not. */
#define CHECK_ST(expr, expected)                                                               \
    do {                                                                                       \
        imc_status got_ = (expr);                                                              \
        if (got_ == (expected)) {                                                              \
            imc_test_passed_++;                                                                \
        } else {                                                                               \
            imc_test_failed_++;                                                                \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s\n", __FILE__, __LINE__,  \
                    #expr, (int)got_, imc_status_str(got_), #expected);                        \
        }                                                                                      \
    } while (0)

#define CHECK_OK(expr) CHECK_ST(expr, IMC_OK)

/* Notes a part of the program that cannot run here, with the reason. */
static inline void imc_test_skip(const char *what, const char *why)
{
    printf("%s: skipped (%s)\n", what, why);
    imc_test_skipped_++;
}

static inline int imc_test_end(void)
{
    printf("%lu passed, %lu failed, %lu skipped\n", imc_test_passed_, imc_test_failed_,
           imc_test_skipped_);
    if (imc_test_failed_ != 0)
        return 1;
    if (imc_test_passed_ == 0 && imc_test_skipped_ != 0)
        return IMC_TEST_SKIP_EXIT;
    if (imc_test_passed_ == 0) {
        fprintf(stderr, "no check ran: a test that checks nothing fails\n");
        return 1;
    }
    return 0;
}

/* Decodes hex into out (capacity cap); returns the byte count or -1. */
static inline long imc_test_unhex(unsigned char *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return (long)(n / 2);
}

/* The backends built into this library that initialise here. */
static inline size_t imc_test_backends(const imc_backend *out[], size_t cap)
{
    size_t n = 0, count = 0;
    const char *const *names = imc_backend_list(&count);
    for (size_t i = 0; i < count && n < cap; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        if (b != NULL)
            out[n++] = b;
    }
    return n;
}

#endif
