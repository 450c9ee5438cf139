/* Prints the worked example of docs/wire-format.md (Markdown) on stdout.
 *
 *   gen_wire_example [backend]     (default: sodium)
 *
 * Its output is committed as core/tests/data/wire_example.md and pasted
 * into the document; test_wire_example fails if either drifts. */
#include <stdio.h>
#include <stdlib.h>

#include "wire_example.h"

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "sodium";
    const imc_backend *b = imc_backend_get(name);
    if (b == NULL) {
        fprintf(stderr, "gen_wire_example: no backend '%s' in this build\n", name);
        return 2;
    }
    char *buf = malloc(IMC_WIRE_EXAMPLE_MAX);
    size_t n = buf != NULL ? imc_wire_example_render(buf, IMC_WIRE_EXAMPLE_MAX, b) : 0;
    int ok = n > 0 && fwrite(buf, 1, n, stdout) == n && fflush(stdout) == 0;
    free(buf);
    return ok ? 0 : 1;
}
