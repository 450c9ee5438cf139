/* Profiles (imcore/backend.h): a composition as text, one
 * "<primitive>=<backend>" per line. Strict: anything the format does not
 * allow is an error, and an error leaves no partial output. */
#include <string.h>

#include "backend/backend_impl.h"

/* The prim whose name is s[0..n), or IMC_BACKEND_PRIM_COUNT. */
static imc_backend_prim prim_by_name(const char *s, size_t n)
{
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++) {
        const char *name = imc_backend_prim_name((imc_backend_prim)p);
        if (strlen(name) == n && memcmp(name, s, n) == 0)
            return (imc_backend_prim)p;
    }
    return IMC_BACKEND_PRIM_COUNT;
}

/* The table named s[0..n) in the registry, if it is a library backend (a
 * profile composes libraries), or NULL. Not initialised here: composing
 * does that. */
static const imc_backend *library_by_name(const char *s, size_t n)
{
    const imc_backend *b = imc_backend_find(s, n);
    return b != NULL && !b->composed ? b : NULL;
}

/* 1 for the bytes a name may have: [a-z0-9-]. */
static int name_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static imc_status parse(imc_backend_choice *choices, size_t *n, const char *text, size_t len)
{
    int seen[IMC_BACKEND_PRIM_COUNT] = {0};
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        if (nl == NULL)
            return IMC_ERR_MALFORMED; /* every line ends in '\n' */
        size_t line_len = (size_t)(nl - line);
        pos += line_len + 1;
        if (line_len > 0 && line[0] == '#') {
            if (memchr(line, '\0', line_len) != NULL)
                return IMC_ERR_MALFORMED;
            continue;
        }
        size_t k = 0;
        while (k < line_len && name_byte(line[k]))
            k++;
        if (k == 0 || k == line_len || line[k] != '=')
            return IMC_ERR_MALFORMED;
        size_t v = k + 1;
        while (v < line_len && name_byte(line[v]))
            v++;
        if (v == k + 1 || v != line_len)
            return IMC_ERR_MALFORMED;
        imc_backend_prim p = prim_by_name(line, k);
        if (p == IMC_BACKEND_PRIM_COUNT || seen[p])
            return IMC_ERR_MALFORMED;
        const imc_backend *b = library_by_name(line + k + 1, line_len - k - 1);
        if (b == NULL)
            return IMC_ERR_NOT_FOUND;
        seen[p] = 1;
        choices[*n].prim = p;
        choices[(*n)++].backend = b->name;
    }
    return IMC_OK;
}

imc_status imc_backend_profile_parse(imc_backend_choice choices[IMC_BACKEND_PRIM_COUNT], size_t *n,
                                     const char *text, size_t len)
{
    if (n != NULL)
        *n = 0;
    if (choices != NULL)
        memset(choices, 0, IMC_BACKEND_PRIM_COUNT * sizeof *choices);
    if (choices == NULL || n == NULL || (text == NULL && len != 0))
        return IMC_ERR_ARG;
    if (len > IMC_BACKEND_PROFILE_MAX_BYTES)
        return IMC_ERR_LIMIT;
    imc_status st = parse(choices, n, text, len);
    if (st != IMC_OK) {
        *n = 0;
        memset(choices, 0, IMC_BACKEND_PRIM_COUNT * sizeof *choices);
    }
    return st;
}
