/* The backend vtable. Private to libimcore: callers go through
 * imcore/crypto.h, which validates arguments and applies the policy before
 * any of these run, so implementations may assume well-formed lengths and
 * non-NULL pointers (NULL with length 0 is allowed for msg/ad/in).
 *
 * A function pointer is NULL when the library has no such primitive; caps()
 * reports what is usable on this CPU. Implementations keep no mutable state
 * of their own beyond what they build once at initialisation. On failure
 * they return IMC_ERR_AUTH for verification/open failures, IMC_ERR_WEAK_KEY
 * or IMC_ERR_ARG for keys the library refuses, IMC_ERR_CRYPTO otherwise. */
#ifndef IMCORE_BACKEND_IMPL_H
#define IMCORE_BACKEND_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/backend.h"
#include "imcore/crypto.h"

struct imc_backend {
    const char *name;
    /* A composition (compose.c) has no functions of its own: part[p] is the
     * library backend that runs primitive p (imc_backend_unassigned when
     * none does). A library backend leaves both zero. */
    int composed;
    const imc_backend *part[IMC_BACKEND_PRIM_COUNT];
    /* Called by every imc_backend_get(); must be idempotent, thread-safe and
     * cheap after the first call. Non-OK means the backend is unavailable.
     * May be NULL. */
    imc_status (*init)(void);
    const char *(*version)(void);
    uint32_t (*caps)(void);

    imc_status (*random)(uint8_t *out, size_t len);

    imc_status (*x25519_public)(uint8_t pk[IMC_X25519_PUBLIC_BYTES],
                                const uint8_t sk[IMC_X25519_SECRET_BYTES]);
    imc_status (*x25519)(uint8_t shared[IMC_X25519_SHARED_BYTES],
                         const uint8_t sk[IMC_X25519_SECRET_BYTES],
                         const uint8_t pk[IMC_X25519_PUBLIC_BYTES]);

    imc_status (*ed25519_public)(uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                 const uint8_t sk[IMC_ED25519_SECRET_BYTES]);
    imc_status (*ed25519_sign)(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                               const uint8_t sk[IMC_ED25519_SECRET_BYTES],
                               const uint8_t pk[IMC_ED25519_PUBLIC_BYTES], const uint8_t *msg,
                               size_t msg_len);
    imc_status (*ed25519_verify)(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                 const uint8_t pk[IMC_ED25519_PUBLIC_BYTES],
                                 const uint8_t *msg, size_t msg_len);

    imc_status (*p256_public)(uint8_t pk[IMC_P256_PUBLIC_BYTES],
                              const uint8_t sk[IMC_P256_SECRET_BYTES]);
    imc_status (*p256_ecdh)(uint8_t shared[IMC_P256_SHARED_BYTES],
                            const uint8_t sk[IMC_P256_SECRET_BYTES],
                            const uint8_t pk[IMC_P256_PUBLIC_BYTES]);
    imc_status (*ecdsa_p256_sign)(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                  const uint8_t sk[IMC_P256_SECRET_BYTES], const uint8_t *msg,
                                  size_t msg_len);
    imc_status (*ecdsa_p256_verify)(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                    const uint8_t pk[IMC_P256_PUBLIC_BYTES],
                                    const uint8_t *msg, size_t msg_len);

    /* out receives in_len + 16 bytes (seal) or in_len - 16 bytes (open,
     * in_len >= 16); out may equal in. open wipes out on failure. */
    imc_status (*aead_seal)(imc_aead aead, uint8_t *out, const uint8_t key[IMC_AEAD_KEY_BYTES],
                            const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                            size_t ad_len, const uint8_t *in, size_t in_len);
    imc_status (*aead_open)(imc_aead aead, uint8_t *out, const uint8_t key[IMC_AEAD_KEY_BYTES],
                            const uint8_t nonce[IMC_AEAD_NONCE_BYTES], const uint8_t *ad,
                            size_t ad_len, const uint8_t *in, size_t in_len);

    imc_status (*sha256)(uint8_t out[IMC_SHA256_BYTES], const uint8_t *in, size_t in_len);
    imc_status (*hmac_sha256)(uint8_t out[IMC_SHA256_BYTES], const uint8_t *key, size_t key_len,
                              const uint8_t *msg, size_t msg_len);
    /* 1 <= out_len <= IMC_HKDF_SHA256_MAX_BYTES (checked by the caller). */
    imc_status (*hkdf_sha256)(uint8_t *out, size_t out_len, const uint8_t *salt,
                              size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                              const uint8_t *info, size_t info_len);

    /* Prepared keys (imcore/crypto.h). key_import builds the library's
     * object for a key already checked by the policy layer (raw: the bytes
     * of imc_key_kind), or sets *native = NULL when the library has nothing
     * to prepare; NULL members mean the same for every kind. The prepared
     * operations get the object and the raw bytes; a NULL member falls back
     * to the plain call on the raw bytes. */
    imc_status (*key_import)(void **native, imc_key_kind kind, const uint8_t *raw);
    void (*key_free)(imc_key_kind kind, void *native);
    imc_status (*x25519_prepared)(uint8_t shared[IMC_X25519_SHARED_BYTES], void *sk,
                                  const uint8_t pk[IMC_X25519_PUBLIC_BYTES]);
    imc_status (*ed25519_sign_prepared)(uint8_t sig[IMC_ED25519_SIGNATURE_BYTES], void *sk,
                                        const uint8_t *msg, size_t msg_len);
    imc_status (*ed25519_verify_prepared)(const uint8_t sig[IMC_ED25519_SIGNATURE_BYTES],
                                          void *pk, const uint8_t *msg, size_t msg_len);
    imc_status (*p256_ecdh_prepared)(uint8_t shared[IMC_P256_SHARED_BYTES], void *sk,
                                     const uint8_t pk[IMC_P256_PUBLIC_BYTES]);
    imc_status (*ecdsa_p256_sign_prepared)(uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                           void *sk, const uint8_t raw_sk[32],
                                           const uint8_t *msg, size_t msg_len);
    imc_status (*ecdsa_p256_verify_prepared)(const uint8_t sig[IMC_ECDSA_P256_SIGNATURE_BYTES],
                                             void *pk, const uint8_t *msg, size_t msg_len);
};

/* RFC 7748's decoding of X25519 inputs, for the libraries whose raw
 * scalar multiplication takes them as they are: k = the clamped scalar,
 * u = the u-coordinate with bit 255 cleared. The caller wipes k. */
static inline void imc_x25519_decode(uint8_t k[IMC_X25519_SECRET_BYTES],
                                     uint8_t u[IMC_X25519_PUBLIC_BYTES],
                                     const uint8_t sk[IMC_X25519_SECRET_BYTES],
                                     const uint8_t pk[IMC_X25519_PUBLIC_BYTES])
{
    for (size_t i = 0; i < IMC_X25519_SECRET_BYTES; i++) {
        k[i] = sk[i];
        u[i] = pk[i];
    }
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    u[31] &= 127;
}

/* The registry's table named name[0..len), not initialised (so that the
 * auto backend's own initialisation may look names up), or NULL. */
const imc_backend *imc_backend_find(const char *name, size_t len);

/* What a composition runs a primitive nobody was chosen for on: no
 * capabilities, no functions. */
extern const imc_backend imc_backend_unassigned;

/* The backend that runs primitive p for b: b itself, or b's part. Every
 * call into a vtable goes through this first (crypto.c, prepared.c). */
static inline const imc_backend *imc_backend_part(const imc_backend *b, imc_backend_prim p)
{
    return b != NULL && b->composed ? b->part[p] : b;
}

/* 1 if b (a library backend or a composition) has every operation of
 * primitive p usable on this CPU. */
int imc_backend_has_prim(const imc_backend *b, imc_backend_prim p);

/* A composition in place: the backend, then what only compositions have.
 * imc_backend_composition is storage for one. */
typedef struct imc_composed {
    imc_backend head;
    uint32_t caps;
    char version[512];
} imc_composed;

/* Fills c's parts, caps and description from the choices (the checks of
 * imc_backend_compose); c->head's name and init are left alone. On error c
 * is unchanged. */
imc_status imc_compose_fill(imc_composed *c, const imc_backend_choice *choices, size_t n);

/* The composite "auto" (auto.c): a composition chosen at its first use. */
#define IMC_WITH_AUTO 1
extern imc_composed imc_backend_auto;

#endif
