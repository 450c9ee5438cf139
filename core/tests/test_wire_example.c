/* The worked example cannot drift: on every backend with suite 1 the
 * generator's output must equal core/tests/data/wire_example.md byte for
 * byte, and that text must appear verbatim in docs/wire-format.md (path
 * given as the first argument). */
#include "test.h"
#include "wire_example.h"

/* Reads a whole file into a malloc'd NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    char *buf = malloc(1u << 20);
    size_t n = buf != NULL ? fread(buf, 1, (1u << 20) - 1, f) : 0;
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static void report_diff(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0;
    while (i < an && i < bn && a[i] == b[i])
        i++;
    fprintf(stderr, "differs at byte %zu (lengths %zu and %zu): rerun gen_wire_example\n", i,
            an, bn);
}

int main(int argc, char **argv)
{
    const char *data = getenv("IMC_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/wire_example.md", data != NULL ? data : ".");
    size_t want_len = 0, doc_len = 0;
    char *want = slurp(path, &want_len);
    char *doc = argc > 1 ? slurp(argv[1], &doc_len) : NULL;
    CHECK(want != NULL && want_len > 0);
    CHECK(doc != NULL);
    if (want != NULL && doc != NULL)
        CHECK(strstr(doc, want) != NULL);

    const imc_backend *bs[8];
    size_t nb = imc_test_backends(bs, 8);
    char *got = malloc(IMC_WIRE_EXAMPLE_MAX);
    size_t ran = 0;
    for (size_t i = 0; i < nb && got != NULL && want != NULL; i++) {
        if (!imc_suite_supported(imc_suite_get(1), bs[i]))
            continue;
        size_t n = imc_wire_example_render(got, IMC_WIRE_EXAMPLE_MAX, bs[i]);
        printf("backend %s: %zu bytes\n", imc_backend_name(bs[i]), n);
        CHECK(n == want_len && memcmp(got, want, n) == 0);
        if (n != want_len || memcmp(got, want, n) != 0)
            report_diff(got, n, want, want_len);
        ran++;
    }
    CHECK(ran >= 1);
    free(got);
    free(want);
    free(doc);
    return imc_test_end();
}
