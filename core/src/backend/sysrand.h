/* Random bytes from the kernel (getrandom), for the backends whose library
 * has no ready-to-use random source of its own without mutable state (a
 * seeded generator object). Private to libimcore. */
#ifndef IMCORE_BACKEND_SYSRAND_H
#define IMCORE_BACKEND_SYSRAND_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/status.h"

imc_status imc_sysrand(uint8_t *out, size_t len);

#endif
