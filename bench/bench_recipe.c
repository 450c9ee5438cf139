/* The cost recipes of the core paths, from the library (imcore/recipe.h),
 * named as the prim/ benchmarks are; recorded in the report's context so
 * that scripts/lib/bench_report.py divides by exactly the same calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benches.h"
#include "imc_bench.h"

static const char *aead_name(imc_aead aead)
{
    return aead == IMC_AEAD_AES256GCM ? "aes256gcm" : "chacha20poly1305";
}

int imc_bench_step_name(char *out, size_t cap, const imc_suite *s, const imc_recipe_step *st)
{
    const int x = s->id != IMC_SUITE_P256_ECDSA_AES256GCM; /* X25519 + Ed25519 */
    const char *sig = x ? "ed25519" : "ecdsa-p256";
    int n = -1;
    switch (st->prim) {
    case IMC_PRIM_DH_KEYGEN:
        n = snprintf(out, cap, "%s", x ? "x25519-keygen" : "p256-keygen");
        break;
    case IMC_PRIM_DH_PREPARE:
        n = snprintf(out, cap, "%s", x ? "x25519-prepare" : "p256-prepare");
        break;
    case IMC_PRIM_DH:
        n = snprintf(out, cap, "%s%s", x ? "x25519-derive" : "p256-ecdh",
                     st->aux ? "-prepared" : "");
        break;
    case IMC_PRIM_HKDF_SHA256:
        n = snprintf(out, cap, "hkdf-sha256/%zu/info:%zu", st->len, st->aux);
        break;
    case IMC_PRIM_AEAD_SEAL:
    case IMC_PRIM_AEAD_OPEN:
        n = snprintf(out, cap, "aead-%s/%s/%zu", st->prim == IMC_PRIM_AEAD_SEAL ? "seal" : "open",
                     aead_name(s->aead), st->len);
        if (n >= 0 && (size_t)n < cap && st->aux != 0)
            n += snprintf(out + n, cap - (size_t)n, "/ad:%zu", st->aux);
        break;
    case IMC_PRIM_SHA256:
        n = snprintf(out, cap, "sha256/%zu", st->len);
        break;
    case IMC_PRIM_SIGN:
    case IMC_PRIM_VERIFY:
        n = snprintf(out, cap, "%s-%s/%zu", sig, st->prim == IMC_PRIM_SIGN ? "sign" : "verify",
                     st->len);
        break;
    }
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

imc_status imc_bench_recipe(imc_recipe_step steps[IMC_RECIPE_MAX_STEPS], size_t *count,
                            imc_msg_path path, const imc_suite *s, size_t devices, size_t body)
{
    return imc_msg_recipe(steps, count, path, s->id, IMC_BENCH_SENDER_HANDLE_LEN, devices, body);
}

/* Every recipe recorded, for --imc_recipes. */
typedef struct entry {
    char *key, *value;
} entry;
static entry *entries;
static size_t used, cap_entries;

static void keep(const char *key, const char *value)
{
    for (size_t i = 0; i < used; i++)
        if (strcmp(entries[i].key, key) == 0)
            return;
    if (used == cap_entries) {
        size_t nc = cap_entries ? 2 * cap_entries : 64;
        entry *ne = realloc(entries, nc * sizeof *ne);
        if (ne == NULL)
            return;
        entries = ne;
        cap_entries = nc;
    }
    size_t kl = strlen(key) + 1, vl = strlen(value) + 1;
    entries[used].key = malloc(kl);
    entries[used].value = malloc(vl);
    if (entries[used].key == NULL || entries[used].value == NULL) {
        free(entries[used].key);
        free(entries[used].value);
        return;
    }
    memcpy(entries[used].key, key, kl);
    memcpy(entries[used].value, value, vl);
    imc_bench_add_context(key, value);
    used++;
}

void imc_bench_recipe_note(const char *key, const char *value)
{
    char k[160];
    snprintf(k, sizeof k, "recipe.%s", key);
    keep(k, value);
}

void imc_bench_recipe_context(imc_msg_path path, const imc_suite *s, size_t devices, size_t body)
{
    imc_recipe_step steps[IMC_RECIPE_MAX_STEPS];
    size_t n = 0;
    char key[128], value[1024], name[96];
    size_t off = 0;
    if (imc_bench_recipe(steps, &n, path, s, devices, body) != IMC_OK)
        return;
    if (path == IMC_MSG_PATH_ENCRYPT)
        snprintf(key, sizeof key, "encrypt/%s/dev:%zu/body:%zu", s->short_name, devices, body);
    else
        snprintf(key, sizeof key, "decrypt/%s/body:%zu", s->short_name, body);
    value[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (imc_bench_step_name(name, sizeof name, s, &steps[i]) != 0)
            return;
        int w = snprintf(value + off, sizeof value - off, "%s%zu*%s", i ? ";" : "",
                         steps[i].count, name);
        if (w < 0 || (size_t)w >= sizeof value - off)
            return;
        off += (size_t)w;
    }
    imc_bench_recipe_note(key, value);
}

void imc_bench_recipes_print(void)
{
    for (size_t i = 0; i < used; i++)
        printf("%s\t%s\n", entries[i].key, entries[i].value);
}

void imc_bench_recipes_free(void)
{
    for (size_t i = 0; i < used; i++) {
        free(entries[i].key);
        free(entries[i].value);
    }
    free(entries);
    entries = NULL;
    used = cap_entries = 0;
}
