/* The worked example of docs/transparency.md, rendered from fixed keys by
 * test_kt_example (which checks that the document contains it verbatim;
 * `test_kt_example --print` prints it). */
#ifndef IMCORE_KT_EXAMPLE_H
#define IMCORE_KT_EXAMPLE_H

#include <stddef.h>

#include "imcore/backend.h"

#define IMC_KT_EXAMPLE_MAX 16384

/* Writes the example (NUL-terminated) to out; its length, 0 on failure. */
size_t imc_kt_example_render(char *out, size_t cap, const imc_backend *b);

#endif
