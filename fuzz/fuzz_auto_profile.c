/* Target auto_profile: the profile reader behind the "auto" backend
 * (imc_backend_profile_parse, core/src/backend/profile.c) and the
 * composition it feeds (imc_backend_compose).
 *
 * Checks, for every input:
 *   1. the verdict equals the one computed here from the format's rules
 *      as docs/backends.md states them (an independent reading, so a slip
 *      in the parser does not pass as the rule); any refusal leaves *n = 0
 *      and every choice zeroed;
 *   2. an accepted profile has distinct primitives and library backends
 *      only; written back as text ("prim=backend\n" per choice) it parses
 *      to the same choices;
 *   3. composing it either succeeds or is refused as UNSUPPORTED exactly
 *      when a chosen library lacks its primitive; a composition that runs
 *      SHA-256 gives the chosen library's digest of the input, and one that
 *      does not run it refuses SHA-256.
 * Nothing here times anything, so the target is deterministic. */
#include <string.h>

#include "fuzz_common.h"
#include "imcore/crypto.h"

/* A library may run a primitive it reports in imc_backend_caps (every
 * library has a random source). */
static bool lib_has(const imc_backend *b, imc_backend_prim p)
{
    static const uint32_t cap[IMC_BACKEND_PRIM_COUNT] = {
        [IMC_BACKEND_PRIM_RANDOM] = 0,
        [IMC_BACKEND_PRIM_X25519] = IMC_CAP_X25519,
        [IMC_BACKEND_PRIM_ED25519] = IMC_CAP_ED25519,
        [IMC_BACKEND_PRIM_CHACHA20POLY1305] = IMC_CAP_CHACHA20POLY1305,
        [IMC_BACKEND_PRIM_AES256GCM] = IMC_CAP_AES256GCM,
        [IMC_BACKEND_PRIM_P256_ECDH] = IMC_CAP_P256_ECDH,
        [IMC_BACKEND_PRIM_ECDSA_P256] = IMC_CAP_ECDSA_P256,
        [IMC_BACKEND_PRIM_SHA256] = IMC_CAP_SHA256,
    };
    return cap[p] == 0 || (imc_backend_caps(b) & cap[p]) == cap[p];
}

/* The verdict the format's rules give: lines end in '\n'; a line starting
 * with '#' is a comment without NUL; any other line is NAME=NAME with
 * NAME = [a-z0-9-]+, the first a primitive not seen before, the second a
 * library backend of this build; at most IMC_BACKEND_PROFILE_MAX_BYTES. */
static imc_status expected(const uint8_t *in, size_t len)
{
    if (len > IMC_BACKEND_PROFILE_MAX_BYTES)
        return IMC_ERR_LIMIT;
    bool seen[IMC_BACKEND_PRIM_COUNT] = {false};
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && in[end] != '\n')
            end++;
        if (end == len)
            return IMC_ERR_MALFORMED;
        if (in[i] == '#') {
            if (memchr(in + i, 0, end - i) != NULL)
                return IMC_ERR_MALFORMED;
            i = end + 1;
            continue;
        }
        const uint8_t *eq = memchr(in + i, '=', end - i);
        if (eq == NULL)
            return IMC_ERR_MALFORMED;
        size_t kl = (size_t)(eq - (in + i)), vl = (size_t)(in + end - eq - 1);
        for (size_t k = i; k < end; k++)
            if (in + k != eq && !((in[k] >= 'a' && in[k] <= 'z') ||
                                  (in[k] >= '0' && in[k] <= '9') || in[k] == '-'))
                return IMC_ERR_MALFORMED;
        if (kl == 0 || vl == 0)
            return IMC_ERR_MALFORMED;
        size_t p = 0;
        while (p < IMC_BACKEND_PRIM_COUNT &&
               !(strlen(imc_backend_prim_name((imc_backend_prim)p)) == kl &&
                 memcmp(imc_backend_prim_name((imc_backend_prim)p), in + i, kl) == 0))
            p++;
        if (p == IMC_BACKEND_PRIM_COUNT || seen[p])
            return IMC_ERR_MALFORMED;
        seen[p] = true;
        bool lib = false;
        const fuzz_world *w = fuzz_world_get();
        for (size_t b = 0; b < w->n_backends; b++) {
            const char *name = imc_backend_name(w->backends[b]);
            lib = lib || (strcmp(name, "auto") != 0 && strlen(name) == vl &&
                          memcmp(name, eq + 1, vl) == 0);
        }
        if (!lib)
            return IMC_ERR_NOT_FOUND; /* the parser stops at the first refusal */
        i = end + 1;
    }
    return IMC_OK;
}

static const imc_backend *library(const char *name)
{
    const fuzz_world *w = fuzz_world_get();
    for (size_t b = 0; b < w->n_backends; b++)
        if (strcmp(imc_backend_name(w->backends[b]), name) == 0)
            return w->backends[b];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imc_backend_choice ch[IMC_BACKEND_PRIM_COUNT], again[IMC_BACKEND_PRIM_COUNT];
    size_t n = 99, n2 = 0;
    imc_status st = imc_backend_profile_parse(ch, &n, (const char *)data, size);
    imc_status want = expected(data, size);
    FUZZ_CHECK(st == want, "profile verdict %d, the rules say %d", (int)st, (int)want);
    if (st != IMC_OK) {
        static const imc_backend_choice zero[IMC_BACKEND_PRIM_COUNT];
        FUZZ_CHECK(n == 0 && memcmp(ch, zero, sizeof ch) == 0, "refusal left output");
        return 0;
    }

    /* 2. Canonical text round trip. */
    char text[IMC_BACKEND_PRIM_COUNT * 64];
    size_t tl = 0;
    bool used[IMC_BACKEND_PRIM_COUNT] = {false};
    FUZZ_CHECK(n <= IMC_BACKEND_PRIM_COUNT, "%zu choices", n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK((size_t)ch[i].prim < IMC_BACKEND_PRIM_COUNT && !used[ch[i].prim],
                   "primitive %d twice or out of range", (int)ch[i].prim);
        used[ch[i].prim] = true;
        FUZZ_CHECK(library(ch[i].backend) != NULL && strcmp(ch[i].backend, "auto") != 0,
                   "choice names %s", ch[i].backend);
        const char *pn = imc_backend_prim_name(ch[i].prim);
        size_t pl = strlen(pn), bl = strlen(ch[i].backend);
        memcpy(text + tl, pn, pl);
        text[tl + pl] = '=';
        memcpy(text + tl + pl + 1, ch[i].backend, bl);
        text[tl + pl + 1 + bl] = '\n';
        tl += pl + bl + 2;
    }
    FUZZ_CHECK(imc_backend_profile_parse(again, &n2, text, tl) == IMC_OK && n2 == n,
               "canonical text refused");
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(again[i].prim == ch[i].prim && strcmp(again[i].backend, ch[i].backend) == 0,
                   "round trip changed choice %zu", i);

    /* 3. Composition. */
    bool supported = true;
    const imc_backend *sha_lib = NULL;
    for (size_t i = 0; i < n; i++) {
        supported = supported && lib_has(library(ch[i].backend), ch[i].prim);
        if (ch[i].prim == IMC_BACKEND_PRIM_SHA256)
            sha_lib = library(ch[i].backend);
    }
    imc_backend_composition storage;
    const imc_backend *c = NULL;
    st = imc_backend_compose(&c, &storage, ch, n);
    FUZZ_CHECK(st == (supported ? IMC_OK : IMC_ERR_UNSUPPORTED), "compose %d (supported %d)",
               (int)st, (int)supported);
    if (st != IMC_OK)
        return 0;
    uint8_t d1[IMC_SHA256_BYTES], d2[IMC_SHA256_BYTES];
    st = imc_crypto_sha256(c, d1, data, size);
    if (sha_lib == NULL) {
        FUZZ_CHECK(st == IMC_ERR_UNSUPPORTED, "SHA-256 without a choice: %d", (int)st);
    } else {
        FUZZ_CHECK(st == IMC_OK && imc_crypto_sha256(sha_lib, d2, data, size) == IMC_OK &&
                       memcmp(d1, d2, sizeof d1) == 0,
                   "composed SHA-256 differs from %s", imc_backend_name(sha_lib));
    }
    return 0;
}
