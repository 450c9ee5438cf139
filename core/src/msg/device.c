/* A device's own keys prepared for many messages (imcore/msg.h). */
#include <string.h>

#include "imcore/msg.h"
#include "imcore/suite.h"

imc_status imc_msg_device_prepare(imc_msg_device *out, const imc_backend *b,
                                  const imc_device_keys *keys)
{
    if (out == NULL)
        return IMC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (b == NULL || keys == NULL)
        return IMC_ERR_ARG;
    const imc_suite *s = imc_suite_get(keys->pub.suite);
    if (s == NULL)
        return IMC_ERR_ARG;
    if (!imc_suite_supported(s, b))
        return IMC_ERR_UNSUPPORTED;
    imc_msg_device d = {keys, b, NULL, NULL};
    imc_status st = imc_suite_dh_prepare(s, b, &d.dh_sk, keys->dh_sk);
    if (st == IMC_OK)
        st = imc_suite_sig_prepare(s, b, &d.sig_sk, keys->sig_sk, keys->pub.sig_pk);
    if (st != IMC_OK) {
        imc_msg_device_free(&d);
        return st;
    }
    *out = d;
    return IMC_OK;
}

void imc_msg_device_free(imc_msg_device *d)
{
    if (d == NULL)
        return;
    imc_crypto_key_free(d->dh_sk);
    imc_crypto_key_free(d->sig_sk);
    memset(d, 0, sizeof *d);
}
