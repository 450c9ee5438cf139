#include <string.h>

#include "imcore/util.h"

int imc_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (uint8_t)(x[i] ^ y[i]);
    /* 1 when d == 0, without a branch on d. */
    return (int)(1 & ((uint32_t)(d - 1) >> 8));
}

int imc_ct_is_zero(const void *p, size_t n)
{
    const volatile uint8_t *x = p;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i];
    return (int)(1 & ((uint32_t)(d - 1) >> 8));
}

void imc_wipe(void *p, size_t n)
{
    if (p == NULL || n == 0)
        return;
    memset(p, 0, n);
    /* Tell the compiler the zeroed memory is observed, so the memset stays. */
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
