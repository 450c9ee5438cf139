/* Account keys: imcore account keygen, and loading an account key file.
 *
 * An account key (docs/directory.md, "Accounts") is an Ed25519 key pair
 * held by the user's devices; it signs the account's device list. The file
 * is the 32-byte secret seed (mode 0600); FILE.pub holds the public key. */
#include <string.h>

#include "cli.h"
#include "imcore/dir.h"
#include "imcore/util.h"

int cli_load_account_key(const char *prog, const char *path,
                         uint8_t sk[IMC_DIR_ACCOUNT_SECRET_BYTES])
{
    uint8_t buf[IMC_DIR_ACCOUNT_SECRET_BYTES + 1];
    size_t len = 0;
    int rc = cli_read_into(prog, "account key file", path, buf, sizeof buf, &len);
    if (rc == CLI_CONTINUE && len != IMC_DIR_ACCOUNT_SECRET_BYTES) {
        cli_err(prog, "'%s' is not an account key file (%zu bytes, want %d)", path, len,
                IMC_DIR_ACCOUNT_SECRET_BYTES);
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_CONTINUE)
        memcpy(sk, buf, IMC_DIR_ACCOUNT_SECRET_BYTES);
    imc_wipe(buf, sizeof buf);
    return rc;
}

static int run_keygen(const cli_args *a)
{
    const imc_backend *b = NULL;
    const char *out = cli_get(a, "out", "");
    char pub_path[4096];
    int rc = cli_get_backend(a, &b);
    if (rc != CLI_CONTINUE)
        return rc;
    int n = snprintf(pub_path, sizeof pub_path, "%s.pub", out);
    if (*out == '\0' || n < 0 || (size_t)n >= sizeof pub_path) {
        cli_err(a->prog, "option --out: '%s' is not a usable file name", out);
        return CLI_EXIT_USAGE;
    }
    uint8_t pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES], sk[IMC_DIR_ACCOUNT_SECRET_BYTES];
    imc_status st = imc_dir_account_keygen(b, NULL, pk, sk);
    if (st != IMC_OK) {
        cli_err(a->prog, "key generation failed: %s", imc_status_str(st));
        return CLI_EXIT_FAIL;
    }
    rc = cli_write_file(a->prog, out, sk, sizeof sk, 0600, CLI_WRITE_NO_CLOBBER);
    imc_wipe(sk, sizeof sk);
    if (rc == CLI_CONTINUE)
        rc = cli_write_file(a->prog, pub_path, pk, sizeof pk, 0644, CLI_WRITE_NO_CLOBBER);
    if (rc != CLI_CONTINUE)
        return rc;
    printf("%s %s account key ", out, pub_path);
    cli_put_hex(stdout, pk, sizeof pk);
    putchar('\n');
    return CLI_EXIT_OK;
}

static const cli_opt keygen_opts[] = {
    {"out", CLI_OPT_VALUE, true, "FILE", "the account key file to create (and FILE.pub)"},
    CLI_OPT_BACKEND,
};

static const cli_cmd account_keygen = {
    .name = "keygen",
    .summary = "Create an account key (it signs the account's device list)",
    .opts = keygen_opts,
    .opt_count = CLI_ARRAY_LEN(keygen_opts),
    .details = "Every device of the account needs it to add, rotate or revoke devices\n"
               "('imcore dir register|rotate|revoke --account-key FILE'). Nothing existing\n"
               "is overwritten. Prints: FILE PUBLIC-FILE account key HEX\n",
    .run = run_keygen,
};

static const cli_cmd *const account_subs[] = {&account_keygen};

const cli_cmd cli_cmd_account = {
    .name = "account",
    .summary = "Account keys: keygen",
    .sub = account_subs,
    .sub_count = CLI_ARRAY_LEN(account_subs),
};
