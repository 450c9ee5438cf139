/* The worked example of docs/transparency.md cannot drift: on every backend
 * the rendered example must appear verbatim in the document (path given as
 * the first argument). With --print, prints the example instead. */
#include "kt_example.h"
#include "test.h"

int main(int argc, char **argv)
{
    static char got[IMC_KT_EXAMPLE_MAX];
    const imc_backend *bs[8];
    size_t nb = imc_test_backends(bs, 8);
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        size_t n = nb > 0 ? imc_kt_example_render(got, sizeof got, bs[0]) : 0;
        fwrite(got, 1, n, stdout);
        return n > 0 ? 0 : 1;
    }
    static char doc[1 << 20];
    size_t dl = 0;
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    CHECK(f != NULL);
    if (f != NULL) {
        dl = fread(doc, 1, sizeof doc - 1, f);
        fclose(f);
    }
    doc[dl] = '\0';
    size_t ran = 0;
    for (size_t i = 0; i < nb; i++) {
        uint8_t pk[32], sk[32] = {0};
        if (imc_crypto_ed25519_public(bs[i], pk, sk) == IMC_ERR_UNSUPPORTED)
            continue; /* no Ed25519 in this backend */
        ran++;
        size_t n = imc_kt_example_render(got, sizeof got, bs[i]);
        printf("backend %s: %zu bytes\n", imc_backend_name(bs[i]), n);
        CHECK(n > 0);
        CHECK(n > 0 && strstr(doc, got) != NULL);
    }
    CHECK(ran > 0);
    return imc_test_end();
}
