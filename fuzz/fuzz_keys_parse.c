/* Target keys_parse: the key-file decoders (imcore/keys.h), which the CLI
 * runs on files read from disk.
 *
 * Every input goes to both decoders. Public file: OK or MALFORMED only.
 * Secret file: OK, MALFORMED or WEAK_KEY (UNSUPPORTED only if the backend
 * lacks the suite). On failure the output struct is wiped (all zero, even
 * though it was filled with garbage before the call). When it decodes: the
 * suite is known, the size function agrees, unused key bytes are zero,
 * encoding the result gives the same bytes (canonical form), encoding into
 * one byte less is NO_SPACE with nothing left in the buffer; for a secret
 * file the public keys are the ones its secrets give (imc_keys_check, on
 * the other backend too where both have the suite) and its public part,
 * under the public magic, decodes as the same public key. At most one of
 * the two decoders accepts any input (the magics differ). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* Encoded bytes must equal the input; one byte less must fail cleanly. */
static void check_encoding(const char *what, const uint8_t *data, size_t size, const uint8_t *out,
                           size_t out_len, imc_status st)
{
    FUZZ_CHECK(st == IMC_OK, "encode %s failed: %s", what, imc_status_str(st));
    if (out_len != size || memcmp(out, data, size) != 0) {
        fuzz_hexdump("input", data, size);
        fuzz_hexdump("re-encoded", out, out_len);
        FUZZ_CHECK(0, "%s key file is not canonical", what);
    }
}

static void check_short(const char *what, const uint8_t *out, size_t cap, size_t out_len,
                        imc_status st)
{
    FUZZ_CHECK(st == IMC_ERR_NO_SPACE, "encode %s into %zu bytes: %s", what, cap,
               imc_status_str(st));
    FUZZ_CHECK(out_len == 0, "encode %s into %zu bytes: out_len %zu", what, cap, out_len);
    FUZZ_CHECK(fuzz_all_zero(out, cap), "encode %s into %zu bytes left bytes behind", what, cap);
}

static void check_public(const imc_device_public *pub)
{
    const imc_suite *s = imc_suite_get(pub->suite);
    FUZZ_CHECK(s != NULL, "decoded an unknown suite %u", (unsigned)pub->suite);
    FUZZ_CHECK(
        fuzz_all_zero(pub->dh_pk + s->dh_public_bytes, IMC_DH_PUBLIC_MAX - s->dh_public_bytes),
        "unused DH public bytes not zero");
    FUZZ_CHECK(
        fuzz_all_zero(pub->sig_pk + s->sig_public_bytes, IMC_SIG_PUBLIC_MAX - s->sig_public_bytes),
        "unused signing public bytes not zero");
}

static void fuzz_public(const uint8_t *data, size_t size, int *ok)
{
    imc_device_public pub;
    memset(&pub, 0xa5, sizeof pub);
    imc_status st = imc_keys_decode_public(&pub, data, size);
    if (st != IMC_OK) {
        FUZZ_CHECK(st == IMC_ERR_MALFORMED, "decode_public returned %s", imc_status_str(st));
        FUZZ_CHECK(fuzz_all_zero(&pub, sizeof pub), "decode_public failed but left the struct");
        fuzz_count("keys.public.malformed");
        return;
    }
    fuzz_count("keys.public.ok");
    *ok = 1;
    check_public(&pub);
    size_t want = imc_keys_public_size(pub.suite);
    FUZZ_CHECK(want == size, "public_size says %zu for a %zu-byte file", want, size);

    uint8_t out[IMC_KEYS_PUBLIC_ENCODED_MAX];
    FUZZ_CHECK(size <= sizeof out, "public file of %zu bytes decoded", size);
    size_t out_len = 0;
    st = imc_keys_encode_public(out, sizeof out, &out_len, &pub);
    check_encoding("public", data, size, out, out_len, st);
    memset(out, 0, sizeof out);
    out_len = 12345;
    st = imc_keys_encode_public(out, size - 1, &out_len, &pub);
    check_short("public", out, size - 1, out_len, st);
}

static void fuzz_secret(const uint8_t *data, size_t size, int *ok)
{
    const fuzz_world *w = fuzz_world_get();
    /* The backend for the suite the file names (else any): the CLI's. */
    uint32_t suite_in = size >= 8 ? ((uint32_t)data[6] << 8) | data[7] : 0;
    const imc_backend *b = fuzz_backend_for(suite_in);
    if (b == NULL)
        b = w->n_backends > 0 ? w->backends[0] : NULL;
    FUZZ_CHECK(b != NULL, "no backend");

    imc_device_keys keys;
    memset(&keys, 0xa5, sizeof keys);
    imc_status st = imc_keys_decode_secret(&keys, b, data, size);
    if (st != IMC_OK) {
        const imc_suite *s = imc_suite_get(suite_in);
        int unsupported = s != NULL && !imc_suite_supported(s, b);
        FUZZ_CHECK(st == IMC_ERR_MALFORMED || st == IMC_ERR_WEAK_KEY ||
                       (st == IMC_ERR_UNSUPPORTED && unsupported),
                   "decode_secret returned %s", imc_status_str(st));
        FUZZ_CHECK(fuzz_all_zero(&keys, sizeof keys), "decode_secret failed but left the struct");
        fuzz_count(st == IMC_ERR_WEAK_KEY    ? "keys.secret.weak"
                   : st == IMC_ERR_MALFORMED ? "keys.secret.malformed"
                                             : "keys.secret.unsupported");
        return;
    }
    fuzz_count("keys.secret.ok");
    *ok = 1;
    check_public(&keys.pub);
    const imc_suite *s = imc_suite_get(keys.pub.suite);
    FUZZ_CHECK(keys.pub.suite == suite_in, "suite %u decoded from %u", (unsigned)keys.pub.suite,
               (unsigned)suite_in);
    FUZZ_CHECK(
        fuzz_all_zero(keys.dh_sk + s->dh_secret_bytes, IMC_DH_SECRET_MAX - s->dh_secret_bytes),
        "unused DH secret bytes not zero");
    FUZZ_CHECK(
        fuzz_all_zero(keys.sig_sk + s->sig_secret_bytes, IMC_SIG_SECRET_MAX - s->sig_secret_bytes),
        "unused signing secret bytes not zero");
    size_t want = imc_keys_secret_size(keys.pub.suite);
    FUZZ_CHECK(want == size, "secret_size says %zu for a %zu-byte file", want, size);

    /* The public keys are the ones the secrets give, on every backend. */
    st = imc_keys_check(&keys, b);
    FUZZ_CHECK(st == IMC_OK, "decoded secret keys fail imc_keys_check: %s", imc_status_str(st));
    const imc_backend *other = fuzz_backend_pick(keys.pub.suite, (unsigned)size, b);
    if (other != NULL) {
        st = imc_keys_check(&keys, other);
        FUZZ_CHECK(st == IMC_OK, "%s accepts the secret file, %s's imc_keys_check says %s",
                   imc_backend_name(b), imc_backend_name(other), imc_status_str(st));
        fuzz_count("keys.secret.other_backend");
    }

    uint8_t out[IMC_KEYS_SECRET_ENCODED_MAX];
    FUZZ_CHECK(size <= sizeof out, "secret file of %zu bytes decoded", size);
    size_t out_len = 0;
    st = imc_keys_encode_secret(out, sizeof out, &out_len, &keys);
    check_encoding("secret", data, size, out, out_len, st);

    /* Its public part, under the public magic, is the same public key. */
    size_t plen = imc_keys_public_size(keys.pub.suite);
    out[3] = 'P';
    imc_device_public pub;
    st = imc_keys_decode_public(&pub, out, plen);
    FUZZ_CHECK(st == IMC_OK, "public part of a secret file: %s", imc_status_str(st));
    FUZZ_CHECK(memcmp(&pub, &keys.pub, sizeof pub) == 0,
               "public part decodes differently from the secret file");

    memset(out, 0, sizeof out);
    out_len = 12345;
    st = imc_keys_encode_secret(out, size - 1, &out_len, &keys);
    check_short("secret", out, size - 1, out_len, st);
    imc_keys_wipe(&keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int pub_ok = 0, sec_ok = 0;
    fuzz_public(data, size, &pub_ok);
    fuzz_secret(data, size, &sec_ok);
    FUZZ_CHECK(!(pub_ok && sec_ok), "one input decodes as both a public and a secret file");
    return 0;
}
