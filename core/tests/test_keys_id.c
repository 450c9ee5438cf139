/* Device id 0 is reserved (docs/wire-format.md): no key pair is generated
 * for it and no key file carrying it decodes, public or secret, on every
 * backend and suite built. */
#include "test.h"

#define ID_OFFSET 8 /* magic (4), version (2), suite (2) */

int main(void)
{
    const imc_backend *bs[8];
    size_t nb = imc_test_backends(bs, 8);
    for (size_t i = 0; i < nb; i++)
        for (uint32_t suite = 1; suite <= IMC_SUITE_COUNT; suite++) {
            if (!imc_suite_supported(imc_suite_get(suite), bs[i]))
                continue;
            imc_device_keys k;
            CHECK_ST(imc_keys_generate(&k, bs[i], NULL, suite, 0), IMC_ERR_ARG);
            CHECK_OK(imc_keys_generate(&k, bs[i], NULL, suite, 7));
            uint8_t pub[IMC_KEYS_PUBLIC_ENCODED_MAX], sec[IMC_KEYS_SECRET_ENCODED_MAX];
            size_t pl = 0, sl = 0;
            CHECK_OK(imc_keys_encode_public(pub, sizeof pub, &pl, &k.pub));
            CHECK_OK(imc_keys_encode_secret(sec, sizeof sec, &sl, &k));
            imc_device_public p;
            imc_device_keys s;
            CHECK_OK(imc_keys_decode_public(&p, pub, pl));
            CHECK_OK(imc_keys_decode_secret(&s, bs[i], sec, sl));
            /* The same files with device id 0 (big-endian u64 at offset 8). */
            memset(pub + ID_OFFSET, 0, 8);
            memset(sec + ID_OFFSET, 0, 8);
            CHECK_ST(imc_keys_decode_public(&p, pub, pl), IMC_ERR_MALFORMED);
            CHECK(p.device_id == 0 && p.suite == 0); /* wiped */
            CHECK_ST(imc_keys_decode_secret(&s, bs[i], sec, sl), IMC_ERR_MALFORMED);
            imc_keys_wipe(&k);
            imc_keys_wipe(&s);
            imc_wipe(sec, sizeof sec);
        }
    return imc_test_end();
}
