/* The backend registry: the one list of the backends compiled in. Every
 * other part of imcore (CLI, tests, fuzzing, benchmarks, scripts) learns the
 * backends from imc_backend_list(); adding a library means its own file, one
 * line here, its CMake option and its package in scripts/setup. */
#include <pthread.h>
#include <string.h>

#include "backend/backend_impl.h"

#ifdef IMC_WITH_SODIUM
extern const imc_backend imc_backend_sodium;
#endif
#ifdef IMC_WITH_OPENSSL
extern const imc_backend imc_backend_openssl;
#endif
#ifdef IMC_WITH_WOLFSSL
extern const imc_backend imc_backend_wolfssl;
#endif
#ifdef IMC_WITH_GCRYPT
extern const imc_backend imc_backend_gcrypt;
#endif
#ifdef IMC_WITH_NETTLE
extern const imc_backend imc_backend_nettle;
#endif
#ifdef IMC_WITH_MBEDTLS
extern const imc_backend imc_backend_mbedtls;
#endif
#ifdef IMC_WITH_BOTAN
extern const imc_backend imc_backend_botan;
#endif

static const imc_backend *const registry[] = {
#ifdef IMC_WITH_SODIUM
    &imc_backend_sodium,
#endif
#ifdef IMC_WITH_OPENSSL
    &imc_backend_openssl,
#endif
#ifdef IMC_WITH_WOLFSSL
    &imc_backend_wolfssl,
#endif
#ifdef IMC_WITH_GCRYPT
    &imc_backend_gcrypt,
#endif
#ifdef IMC_WITH_NETTLE
    &imc_backend_nettle,
#endif
#ifdef IMC_WITH_MBEDTLS
    &imc_backend_mbedtls,
#endif
#ifdef IMC_WITH_BOTAN
    &imc_backend_botan,
#endif
#ifdef IMC_WITH_AUTO
    &imc_backend_auto.head,
#endif
};

#define REGISTRY_COUNT (sizeof registry / sizeof registry[0])

/* The names, in registry order, NULL-terminated: filled once from the
 * tables themselves, so no name is written twice. */
static const char *registry_names[REGISTRY_COUNT + 1];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_init(void)
{
    for (size_t i = 0; i < REGISTRY_COUNT; i++)
        registry_names[i] = registry[i]->name;
    registry_names[REGISTRY_COUNT] = NULL;
}

const imc_backend *imc_backend_find(const char *name, size_t len)
{
    for (size_t i = 0; i < REGISTRY_COUNT; i++)
        if (strlen(registry[i]->name) == len && memcmp(registry[i]->name, name, len) == 0)
            return registry[i];
    return NULL;
}

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
    (void)pthread_once(&names_once, names_init);
    if (count != NULL)
        *count = REGISTRY_COUNT;
    return registry_names;
}

const char *imc_backend_name(const imc_backend *b) { return b != NULL ? b->name : "(none)"; }

const char *imc_backend_version(const imc_backend *b)
{
    if (b == NULL)
        return "(none)";
    return b->composed ? ((const imc_composed *)(const void *)b)->version : b->version();
}

uint32_t imc_backend_caps(const imc_backend *b)
{
    if (b == NULL)
        return 0;
    return b->composed ? ((const imc_composed *)(const void *)b)->caps : b->caps();
}
