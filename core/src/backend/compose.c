/* Composed backends (imcore/backend.h): a table of which library backend
 * runs each primitive. A composition has no functions of its own; crypto.c
 * and prepared.c resolve the part (imc_backend_part) before every call, so
 * a composed backend sits behind the same policy as the libraries. */
#include <stdio.h>
#include <string.h>

#include "backend/backend_impl.h"

_Static_assert(sizeof(imc_composed) <= sizeof(imc_backend_composition),
               "imc_backend_composition is too small for a composition");
_Static_assert(_Alignof(imc_composed) <= _Alignof(imc_backend_composition),
               "imc_backend_composition is not aligned for a composition");

static uint32_t no_caps(void)
{
    return 0;
}
static const char *no_version(void)
{
    return "(unassigned)";
}

const imc_backend imc_backend_unassigned = {
    .name = "(unassigned)",
    .version = no_version,
    .caps = no_caps,
};

typedef struct prim_desc {
    const char *name;
    uint32_t cap; /* 0: the random source, which every backend has */
} prim_desc;

static const prim_desc prims[IMC_BACKEND_PRIM_COUNT] = {
    [IMC_BACKEND_PRIM_RANDOM] = {"random", 0},
    [IMC_BACKEND_PRIM_X25519] = {"x25519", IMC_CAP_X25519},
    [IMC_BACKEND_PRIM_ED25519] = {"ed25519", IMC_CAP_ED25519},
    [IMC_BACKEND_PRIM_CHACHA20POLY1305] = {"chacha20poly1305", IMC_CAP_CHACHA20POLY1305},
    [IMC_BACKEND_PRIM_AES256GCM] = {"aes256gcm", IMC_CAP_AES256GCM},
    [IMC_BACKEND_PRIM_P256_ECDH] = {"p256-ecdh", IMC_CAP_P256_ECDH},
    [IMC_BACKEND_PRIM_ECDSA_P256] = {"ecdsa-p256", IMC_CAP_ECDSA_P256},
    [IMC_BACKEND_PRIM_SHA256] = {"sha256", IMC_CAP_SHA256},
};

const char *imc_backend_prim_name(imc_backend_prim prim)
{
    return (unsigned)prim < IMC_BACKEND_PRIM_COUNT ? prims[prim].name : NULL;
}

/* 1 if library backend b has every function of primitive p and reports
 * its capability on this CPU. */
static int has_prim(const imc_backend *b, imc_backend_prim p)
{
    int fn = 0;
    switch (p) {
    case IMC_BACKEND_PRIM_RANDOM:
        fn = b->random != NULL;
        break;
    case IMC_BACKEND_PRIM_X25519:
        fn = b->x25519_public != NULL && b->x25519 != NULL;
        break;
    case IMC_BACKEND_PRIM_ED25519:
        fn = b->ed25519_public != NULL && b->ed25519_sign != NULL && b->ed25519_verify != NULL;
        break;
    case IMC_BACKEND_PRIM_CHACHA20POLY1305:
    case IMC_BACKEND_PRIM_AES256GCM:
        fn = b->aead_seal != NULL && b->aead_open != NULL;
        break;
    case IMC_BACKEND_PRIM_P256_ECDH:
        fn = b->p256_public != NULL && b->p256_ecdh != NULL;
        break;
    case IMC_BACKEND_PRIM_ECDSA_P256:
        fn = b->ecdsa_p256_sign != NULL && b->ecdsa_p256_verify != NULL;
        break;
    case IMC_BACKEND_PRIM_SHA256:
        fn = b->sha256 != NULL && b->hmac_sha256 != NULL && b->hkdf_sha256 != NULL;
        break;
    case IMC_BACKEND_PRIM_COUNT:
        break;
    }
    return fn && (b->caps() & prims[p].cap) == prims[p].cap;
}

int imc_backend_has_prim(const imc_backend *b, imc_backend_prim p)
{
    if (b == NULL || (unsigned)p >= IMC_BACKEND_PRIM_COUNT)
        return 0;
    const imc_backend *part = imc_backend_part(b, p);
    return part != &imc_backend_unassigned && has_prim(part, p);
}

imc_status imc_compose_fill(imc_composed *c, const imc_backend_choice *choices, size_t n)
{
    if (c == NULL || (choices == NULL && n != 0))
        return IMC_ERR_ARG;
    const imc_backend *part[IMC_BACKEND_PRIM_COUNT];
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++)
        part[p] = NULL;
    for (size_t i = 0; i < n; i++) {
        imc_backend_prim p = choices[i].prim;
        if ((unsigned)p >= IMC_BACKEND_PRIM_COUNT || part[p] != NULL || choices[i].backend == NULL)
            return IMC_ERR_ARG;
        const char *name = choices[i].backend;
        const imc_backend *t = imc_backend_find(name, strlen(name));
        if (t != NULL && t->composed)
            return IMC_ERR_ARG; /* not initialised for nothing: auto times */
        const imc_backend *b = t != NULL ? imc_backend_get(name) : NULL;
        if (b == NULL)
            return IMC_ERR_NOT_FOUND;
        if (!has_prim(b, p))
            return IMC_ERR_UNSUPPORTED;
        part[p] = b;
    }
    uint32_t caps = 0;
    size_t used = 0;
    char version[sizeof c->version];
    version[0] = '\0';
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++) {
        if (part[p] == NULL) {
            part[p] = &imc_backend_unassigned;
            continue;
        }
        caps |= prims[p].cap;
        /* "x25519=sodium, sha256=openssl, ..." (it fits: names are short). */
        int k = snprintf(version + used, sizeof version - used, "%s%s=%s", used > 0 ? ", " : "",
                         prims[p].name, part[p]->name);
        if (k > 0 && (size_t)k < sizeof version - used)
            used += (size_t)k;
    }
    if (used == 0)
        snprintf(version, sizeof version, "nothing");
    for (size_t p = 0; p < IMC_BACKEND_PRIM_COUNT; p++)
        c->head.part[p] = part[p];
    c->head.composed = 1;
    c->caps = caps;
    memcpy(c->version, version, sizeof version);
    return IMC_OK;
}

imc_status imc_backend_compose(const imc_backend **out, imc_backend_composition *storage,
                               const imc_backend_choice *choices, size_t n)
{
    if (out == NULL)
        return IMC_ERR_ARG;
    *out = NULL;
    if (storage == NULL)
        return IMC_ERR_ARG;
    imc_composed c;
    memset(&c, 0, sizeof c);
    c.head.name = "composed";
    imc_status st = imc_compose_fill(&c, choices, n);
    if (st != IMC_OK)
        return st;
    imc_composed *in_place = (imc_composed *)(void *)storage;
    memcpy(in_place, &c, sizeof c);
    *out = &in_place->head;
    return IMC_OK;
}
