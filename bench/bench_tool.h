/* The failure handling of the small standalone benchmark drivers
 * (imcore-bench-kt, imcore-bench-dir-kt): a failed call ends the run with
 * the program's name, what failed and why. Define BENCH_TOOL_NAME before
 * including. */
#ifndef IMCORE_BENCH_TOOL_H
#define IMCORE_BENCH_TOOL_H

#include <stdio.h>
#include <stdlib.h>

#include "imcore/status.h"

static void die(const char *what, imc_status st)
{
    fprintf(stderr, "%s: %s: %s\n", BENCH_TOOL_NAME, what, imc_status_str(st));
    exit(1);
}

#define TRY(what, expr)                                                                            \
    do {                                                                                           \
        imc_status st_ = (expr);                                                                   \
        if (st_ != IMC_OK)                                                                         \
            die(what, st_);                                                                        \
    } while (0)

#endif
