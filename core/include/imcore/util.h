/* imcore: constant-time comparison and secret wiping. */
#ifndef IMCORE_UTIL_H
#define IMCORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if the n bytes at a and b are equal, else 0; time depends only on n. */
int imc_ct_equal(const void *a, const void *b, size_t n);

/* 1 if all n bytes are zero, else 0; time depends only on n. */
int imc_ct_is_zero(const void *p, size_t n);

/* Zeroes n bytes in a way the compiler may not elide. */
void imc_wipe(void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
