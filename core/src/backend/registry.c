/* Backend registry: a fixed table of the backends compiled in. */
#include <string.h>

#include "backend/backend_impl.h"

static const imc_backend *const registry[] = {
#ifdef IMC_WITH_SODIUM
    &imc_backend_sodium,
#endif
#ifdef IMC_WITH_OPENSSL
    &imc_backend_openssl,
#endif
#ifdef IMC_WITH_AUTO
    &imc_backend_auto,
#endif
};

static const char *const registry_names[] = {
#ifdef IMC_WITH_SODIUM
    "sodium",
#endif
#ifdef IMC_WITH_OPENSSL
    "openssl",
#endif
#ifdef IMC_WITH_AUTO
    "auto",
#endif
    NULL,
};

#define REGISTRY_COUNT (sizeof(registry_names) / sizeof(registry_names[0]) - 1)

const imc_backend *imc_backend_get(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < REGISTRY_COUNT; i++) {
        const imc_backend *b = registry[i];
        if (strcmp(b->name, name) != 0)
            continue;
        if (b->init != NULL && b->init() != IMC_OK)
            return NULL;
        return b;
    }
    return NULL;
}

const char *const *imc_backend_list(size_t *count)
{
    if (count != NULL)
        *count = REGISTRY_COUNT;
    return registry_names;
}

const char *imc_backend_name(const imc_backend *b) { return b != NULL ? b->name : "(none)"; }

const char *imc_backend_version(const imc_backend *b)
{
    return b != NULL ? b->version() : "(none)";
}

uint32_t imc_backend_caps(const imc_backend *b) { return b != NULL ? b->caps() : 0; }
