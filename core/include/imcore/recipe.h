/* imcore: what a message path costs, in primitive calls.
 *
 * imc_msg_recipe lists the primitive calls imc_msg_encrypt (for n devices)
 * or imc_msg_decrypt (one delivery) makes for one message, with their
 * lengths, as docs/wire-format.md ("Cryptography") specifies them; and
 * imc_msg_layout gives the byte lengths those calls are made over. They are
 * the cost model of the benchmarks' overhead ratio (path / sum of its
 * primitives) and the one place where the benchmarks learn the layout:
 * test_msg_recipe checks both against the calls the library really makes,
 * through a recording backend. */
#ifndef IMCORE_RECIPE_H
#define IMCORE_RECIPE_H

#include <stddef.h>
#include <stdint.h>

#include "imcore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum imc_msg_path {
    IMC_MSG_PATH_ENCRYPT = 1,
    IMC_MSG_PATH_DECRYPT = 2,
} imc_msg_path;

/* A primitive of imcore/crypto.h; the suite says which algorithm. */
typedef enum imc_prim {
    IMC_PRIM_DH_KEYGEN = 1, /* X25519 or P-256 key pair */
    IMC_PRIM_DH,            /* X25519 or P-256 ECDH; aux: 1 = with a prepared secret */
    IMC_PRIM_HKDF_SHA256,   /* len: output bytes; aux: info bytes (ikm 32, no salt) */
    IMC_PRIM_AEAD_SEAL,     /* len: plaintext bytes; aux: AD bytes */
    IMC_PRIM_AEAD_OPEN,     /* len: plaintext bytes; aux: AD bytes */
    IMC_PRIM_SHA256,        /* len: input bytes */
    IMC_PRIM_SIGN,          /* Ed25519 or ECDSA P-256; len: message bytes */
    IMC_PRIM_VERIFY,        /* len: message bytes */
    IMC_PRIM_DH_PREPARE,    /* the own DH secret imported once (imc_crypto_key_prepare
                             * and imc_crypto_key_free) */
} imc_prim;

typedef struct imc_recipe_step {
    imc_prim prim;
    size_t count; /* calls per message */
    size_t len;
    size_t aux;
} imc_recipe_step;

#define IMC_RECIPE_MAX_STEPS 12

/* The byte lengths of one message's cryptographic inputs. */
typedef struct imc_msg_layout {
    size_t signed_header;    /* SH */
    size_t body_ad;          /* the body AEAD's associated data */
    size_t sig_input;        /* what the sender signs */
    size_t content_info;     /* HKDF info of the content key derivation */
    size_t content_okm;      /* its output: body key || commitment */
    size_t sender_ctx_input; /* hashed into the sender context */
    size_t recipients_input; /* hashed into the recipient-set hash */
    size_t wrap_info;        /* HKDF info of one device's wrap key */
    size_t wrap_key;         /* its output */
    size_t wrapped;          /* the plaintext each device's wrap seals (the content key) */
    size_t body_tag;         /* AEAD tag appended to the body */
} imc_msg_layout;

/* The layout of a message of `suite` from a sender handle of handle_len
 * bytes to `devices` devices (the recipient set every delivery carries).
 * IMC_ERR_ARG for an unknown suite, IMC_ERR_LIMIT for a handle or device
 * count outside docs/wire-format.md's limits. */
IMC_MUST_USE imc_status imc_msg_layout_of(imc_msg_layout *out, uint32_t suite,
                                          size_t handle_len, size_t devices);

/* The steps of `path` for one message to `devices` devices (decrypt: one
 * delivery of such a message; it hashes the recipient set it carries) in
 * the order the calls are first made; *count steps are written. Errors as
 * imc_msg_layout_of, and IMC_ERR_LIMIT for a body over IMC_MAX_BODY_BYTES. */
IMC_MUST_USE imc_status imc_msg_recipe(imc_recipe_step steps[IMC_RECIPE_MAX_STEPS],
                                       size_t *count, imc_msg_path path, uint32_t suite,
                                       size_t handle_len, size_t devices, size_t body_len);

#ifdef __cplusplus
}
#endif
#endif
