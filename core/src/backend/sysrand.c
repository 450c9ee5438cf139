/* getrandom() until len bytes are in (see sysrand.h). */
#include <errno.h>
#include <sys/random.h>

#include "backend/sysrand.h"

imc_status imc_sysrand(uint8_t *out, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return IMC_ERR_CRYPTO;
        out += n;
        len -= (size_t)n;
    }
    return IMC_OK;
}
