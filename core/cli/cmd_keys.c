/* Key commands: keygen, and the key-file loaders the other commands use. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "imcore/util.h"

/* ---- Loading key files -------------------------------------------------- */

/* A secret key file of a suite backend b lacks: name the backends that
 * have it (the ones whose decoder accepts the file). */
static void unsupported_key(const char *prog, const imc_backend *b, const char *path,
                            const uint8_t *buf, size_t len)
{
    char others[256] = "";
    size_t n = 0, used = 0;
    const char *const *names = imc_backend_list(&n);
    for (size_t i = 0; i < n; i++) {
        const imc_backend *o = imc_backend_get(names[i]);
        imc_device_keys k;
        if (o == NULL || imc_keys_decode_secret(&k, o, buf, len) != IMC_OK)
            continue;
        imc_keys_wipe(&k);
        int w = snprintf(others + used, sizeof others - used, "%s %s", used ? "," : "", names[i]);
        if (w > 0 && (size_t)w < sizeof others - used)
            used += (size_t)w;
    }
    cli_err(prog, "'%s': its suite is not supported by backend %s%s%s", path, imc_backend_name(b),
            used ? "; --backend" : "", others);
}

int cli_load_secret(const char *prog, const imc_backend *b, const char *path,
                    imc_device_keys *keys)
{
    /* Room for one byte more than any secret key file, so that a wrong file
     * fails as "not a key file" rather than "too large". */
    uint8_t buf[IMC_KEYS_SECRET_ENCODED_MAX + 1];
    size_t len = 0;
    memset(keys, 0, sizeof *keys);
    /* On failure cli_read_into has wiped whatever it read. */
    int rc = cli_read_into(prog, "secret key file", path, buf, sizeof buf, &len);
    if (rc != CLI_CONTINUE)
        return rc;
    imc_status st = imc_keys_decode_secret(keys, b, buf, len);
    if (st != IMC_OK) {
        imc_device_public pub;
        if (imc_keys_decode_public(&pub, buf, len) == IMC_OK)
            cli_err(prog, "'%s' is a public key file; this needs the secret key (.sec)", path);
        else if (st == IMC_ERR_UNSUPPORTED)
            unsupported_key(prog, b, path, buf, len);
        else
            cli_err(prog, "'%s' is not a valid secret key file: %s", path, imc_status_str(st));
        imc_keys_wipe(keys);
        rc = CLI_EXIT_FAIL;
    }
    /* Like ssh: a secret others can read is refused, not used. */
    struct stat sb;
    if (rc == CLI_CONTINUE && strcmp(path, "-") != 0 && stat(path, &sb) == 0 &&
        S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0) {
        cli_err(prog, "secret key file '%s' can be read by others (mode %04o): chmod 600 it",
                path, (unsigned)(sb.st_mode & 07777));
        imc_keys_wipe(keys);
        rc = CLI_EXIT_FAIL;
    }
    imc_wipe(buf, sizeof buf);
    return rc;
}

int cli_load_public(const char *prog, const imc_backend *b, const char *path,
                    imc_device_public *pub)
{
    uint8_t buf[IMC_KEYS_SECRET_ENCODED_MAX + 1];
    size_t len = 0;
    memset(pub, 0, sizeof *pub);
    int rc = cli_read_into(prog, "public key file", path, buf, sizeof buf, &len);
    if (rc != CLI_CONTINUE)
        return rc;
    imc_status st = imc_keys_decode_public(pub, buf, len);
    if (st != IMC_OK) {
        imc_device_keys keys;
        memset(&keys, 0, sizeof keys);
        if (b != NULL && imc_keys_decode_secret(&keys, b, buf, len) == IMC_OK)
            cli_err(prog, "'%s' is a secret key file; pass the public key (.pub) instead", path);
        else
            cli_err(prog, "'%s' is not a valid public key file: %s", path, imc_status_str(st));
        imc_keys_wipe(&keys);
        rc = CLI_EXIT_FAIL;
    }
    imc_wipe(buf, sizeof buf);
    return rc;
}

/* ---- keygen ------------------------------------------------------------- */

static int run_keygen(const cli_args *a)
{
    uint64_t device_id = 0;
    const imc_backend *b = NULL;
    const imc_suite *s = NULL;
    int rc = cli_get_device_id(a, "device-id", &device_id);
    if (rc == CLI_CONTINUE)
        rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_get_suite(a, b, &s);
    if (rc != CLI_CONTINUE)
        return rc;

    const char *prefix = cli_get(a, "out", NULL);
    char sec_path[4096], pub_path[4096];
    int n1 = snprintf(sec_path, sizeof sec_path, "%s.sec", prefix);
    int n2 = snprintf(pub_path, sizeof pub_path, "%s.pub", prefix);
    if (*prefix == '\0' || n1 < 0 || (size_t)n1 >= sizeof sec_path || n2 < 0 ||
        (size_t)n2 >= sizeof pub_path) {
        cli_err(a->prog, "option --out: '%s' is not a usable file name prefix", prefix);
        return CLI_EXIT_USAGE;
    }
    unsigned flags = cli_flag(a, "force") ? 0 : CLI_WRITE_NO_CLOBBER;

    imc_device_keys keys;
    uint8_t sec[IMC_KEYS_SECRET_ENCODED_MAX];
    uint8_t pub[IMC_KEYS_PUBLIC_ENCODED_MAX];
    size_t sec_len = 0, pub_len = 0;
    imc_status st = imc_keys_generate(&keys, b, NULL, (uint32_t)s->id, device_id);
    if (st == IMC_OK)
        st = imc_keys_encode_secret(sec, sizeof sec, &sec_len, &keys);
    if (st == IMC_OK)
        st = imc_keys_encode_public(pub, sizeof pub, &pub_len, &keys.pub);
    imc_keys_wipe(&keys);
    if (st != IMC_OK) {
        cli_err(a->prog, "key generation failed: %s", imc_status_str(st));
        imc_wipe(sec, sizeof sec);
        return CLI_EXIT_FAIL;
    }

    /* The secret first: a .pub without its .sec would be useless. */
    rc = cli_write_file(a->prog, sec_path, sec, sec_len, 0600, flags);
    imc_wipe(sec, sizeof sec);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_write_file(a->prog, pub_path, pub, pub_len, 0644, flags);
    if (rc != CLI_CONTINUE) {
        unlink(sec_path); /* no half key pair left behind */
        return rc;
    }
    printf("%s %s device %llu suite %s\n", sec_path, pub_path, (unsigned long long)device_id,
           s->name);
    return CLI_EXIT_OK;
}

static const cli_opt keygen_opts[] = {
    {"device-id", CLI_OPT_VALUE, true, "N", "the device's 64-bit id in the key directory"},
    {"out", CLI_OPT_VALUE, true, "PREFIX", "write PREFIX.sec (mode 0600) and PREFIX.pub"},
    {"suite", CLI_OPT_VALUE, false, "S", "suite name, short name or id (default 1)"},
    CLI_OPT_BACKEND,
    {"force", CLI_OPT_FLAG, false, NULL, "overwrite existing key files"},
};

const cli_cmd cli_cmd_keygen = {
    .name = "keygen",
    .summary = "Generate a device's key pairs into PREFIX.sec and PREFIX.pub",
    .opts = keygen_opts,
    .opt_count = CLI_ARRAY_LEN(keygen_opts),
    .details = "Existing files are never overwritten without --force. The secret key file is\n"
               "created with mode 0600; keep it on the device. The public key file is what the\n"
               "key directory publishes and what senders encrypt to.\n"
               "Prints: SECRET-FILE PUBLIC-FILE device ID suite NAME\n",
    .run = run_keygen,
};
