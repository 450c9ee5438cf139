/* Device key pairs and the key files (imcore/keys.h, docs/wire-format.md
 * "Key files"). */
#include <string.h>

#include "imcore/keys.h"
#include "imcore/util.h"
#include "imcore/wire.h"

static const uint8_t MAGIC_PUBLIC[4] = {'I', 'M', 'C', 'P'};
static const uint8_t MAGIC_SECRET[4] = {'I', 'M', 'C', 'S'};

#define KEYFILE_PREFIX_BYTES (4 + 2 + 2 + 8) /* magic, version, suite, device id */

/* ---- Key pairs --------------------------------------------------------- */

imc_status imc_keys_generate(imc_device_keys *keys, const imc_backend *b, imc_rng *rng,
                             uint32_t suite, uint64_t device_id)
{
    if (keys == NULL)
        return IMC_ERR_ARG;
    memset(keys, 0, sizeof *keys);
    const imc_suite *s = imc_suite_get(suite);
    if (b == NULL)
        return IMC_ERR_ARG;
    if (s == NULL)
        return IMC_ERR_NOT_FOUND;
    if (!imc_suite_supported(s, b))
        return IMC_ERR_UNSUPPORTED;
    if (device_id == 0) /* reserved: refused by encrypt, decrypt and the directory */
        return IMC_ERR_ARG;
    keys->pub.suite = suite;
    keys->pub.device_id = device_id;
    imc_status st = imc_suite_dh_keygen(s, b, rng, keys->pub.dh_pk, keys->dh_sk);
    if (st == IMC_OK)
        st = imc_suite_sig_keygen(s, b, rng, keys->pub.sig_pk, keys->sig_sk);
    if (st != IMC_OK)
        imc_keys_wipe(keys);
    return st;
}

imc_status imc_keys_check(const imc_device_keys *keys, const imc_backend *b)
{
    if (keys == NULL || b == NULL)
        return IMC_ERR_ARG;
    const imc_suite *s = imc_suite_get(keys->pub.suite);
    if (s == NULL)
        return IMC_ERR_WEAK_KEY;
    if (!imc_suite_supported(s, b))
        return IMC_ERR_UNSUPPORTED;
    uint8_t dh_pk[IMC_DH_PUBLIC_MAX], sig_pk[IMC_SIG_PUBLIC_MAX];
    imc_status st = imc_suite_dh_public(s, b, dh_pk, keys->dh_sk);
    if (st == IMC_OK)
        st = imc_suite_sig_public(s, b, sig_pk, keys->sig_sk);
    if (st == IMC_OK && !(imc_ct_equal(dh_pk, keys->pub.dh_pk, s->dh_public_bytes) &
                          imc_ct_equal(sig_pk, keys->pub.sig_pk, s->sig_public_bytes)))
        st = IMC_ERR_WEAK_KEY;
    /* A secret the library refuses (e.g. a P-256 scalar out of range) is a
     * bad key too; only "backend missing" keeps its own status. */
    if (st != IMC_OK && st != IMC_ERR_UNSUPPORTED)
        st = IMC_ERR_WEAK_KEY;
    imc_wipe(dh_pk, sizeof dh_pk);
    imc_wipe(sig_pk, sizeof sig_pk);
    return st;
}

void imc_keys_wipe(imc_device_keys *keys)
{
    if (keys != NULL)
        imc_wipe(keys, sizeof *keys);
}

/* ---- Key files --------------------------------------------------------- */

size_t imc_keys_public_size(uint32_t suite)
{
    const imc_suite *s = imc_suite_get(suite);
    return s == NULL ? 0 : KEYFILE_PREFIX_BYTES + s->dh_public_bytes + s->sig_public_bytes;
}

size_t imc_keys_secret_size(uint32_t suite)
{
    const imc_suite *s = imc_suite_get(suite);
    return s == NULL ? 0 : imc_keys_public_size(suite) + s->dh_secret_bytes + s->sig_secret_bytes;
}

static void write_public_part(imc_writer *w, const uint8_t magic[4], const imc_suite *s,
                              const imc_device_public *pub)
{
    imc_wire_write_bytes(w, magic, 4);
    imc_wire_write_u16(w, IMC_KEYS_VERSION);
    imc_wire_write_u16(w, (uint16_t)s->id);
    imc_wire_write_u64(w, pub->device_id);
    imc_wire_write_bytes(w, pub->dh_pk, s->dh_public_bytes);
    imc_wire_write_bytes(w, pub->sig_pk, s->sig_public_bytes);
}

/* Finishes an encoding: on failure nothing of it is left in out. */
static imc_status finish_encoding(imc_writer *w, uint8_t *out, size_t *out_len)
{
    imc_status st = imc_wire_writer_finish(w, out_len);
    if (st != IMC_OK)
        imc_wipe(out, w->len);
    return st;
}

imc_status imc_keys_encode_public(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_device_public *pub)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || pub == NULL || imc_suite_get(pub->suite) == NULL)
        return IMC_ERR_ARG;
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    write_public_part(&w, MAGIC_PUBLIC, imc_suite_get(pub->suite), pub);
    return finish_encoding(&w, out, out_len);
}

imc_status imc_keys_encode_secret(uint8_t *out, size_t out_cap, size_t *out_len,
                                  const imc_device_keys *keys)
{
    if (out_len != NULL)
        *out_len = 0;
    if (out_len == NULL || keys == NULL || imc_suite_get(keys->pub.suite) == NULL)
        return IMC_ERR_ARG;
    const imc_suite *s = imc_suite_get(keys->pub.suite);
    imc_writer w;
    imc_wire_writer_init(&w, out, out_cap);
    write_public_part(&w, MAGIC_SECRET, s, &keys->pub);
    imc_wire_write_bytes(&w, keys->dh_sk, s->dh_secret_bytes);
    imc_wire_write_bytes(&w, keys->sig_sk, s->sig_secret_bytes);
    return finish_encoding(&w, out, out_len);
}

/* Reads magic, version and suite; fails the reader on any unexpected value
 * and returns the suite (NULL on failure). */
static const imc_suite *read_keyfile_prefix(imc_reader *r, const uint8_t magic[4])
{
    const uint8_t *m = imc_wire_read_bytes(r, 4);
    uint16_t version = imc_wire_read_u16(r);
    const imc_suite *s = imc_suite_get(imc_wire_read_u16(r));
    if (m == NULL || memcmp(m, magic, 4) != 0 || version != IMC_KEYS_VERSION || s == NULL) {
        imc_wire_reader_fail(r);
        return NULL;
    }
    return s;
}

static void read_public_fields(imc_reader *r, const imc_suite *s, imc_device_public *pub)
{
    pub->suite = s->id;
    pub->device_id = imc_wire_read_u64(r);
    if (pub->device_id == 0) /* device id 0 is reserved: no key file carries it */
        imc_wire_reader_fail(r);
    imc_wire_read_copy(r, pub->dh_pk, s->dh_public_bytes);
    imc_wire_read_copy(r, pub->sig_pk, s->sig_public_bytes);
}

imc_status imc_keys_decode_public(imc_device_public *pub, const uint8_t *in, size_t in_len)
{
    if (pub == NULL)
        return IMC_ERR_ARG;
    memset(pub, 0, sizeof *pub);
    imc_reader r;
    imc_wire_reader_init(&r, in, in_len);
    const imc_suite *s = read_keyfile_prefix(&r, MAGIC_PUBLIC);
    if (s != NULL)
        read_public_fields(&r, s, pub);
    imc_status st = imc_wire_reader_finish(&r);
    if (st != IMC_OK)
        memset(pub, 0, sizeof *pub);
    return st;
}

imc_status imc_keys_decode_secret(imc_device_keys *keys, const imc_backend *b, const uint8_t *in,
                                  size_t in_len)
{
    if (keys == NULL)
        return IMC_ERR_ARG;
    memset(keys, 0, sizeof *keys);
    if (b == NULL)
        return IMC_ERR_ARG;
    imc_reader r;
    imc_wire_reader_init(&r, in, in_len);
    const imc_suite *s = read_keyfile_prefix(&r, MAGIC_SECRET);
    if (s != NULL) {
        read_public_fields(&r, s, &keys->pub);
        imc_wire_read_copy(&r, keys->dh_sk, s->dh_secret_bytes);
        imc_wire_read_copy(&r, keys->sig_sk, s->sig_secret_bytes);
    }
    imc_status st = imc_wire_reader_finish(&r);
    if (st == IMC_OK)
        st = imc_keys_check(keys, b);
    if (st != IMC_OK)
        imc_keys_wipe(keys);
    return st;
}
