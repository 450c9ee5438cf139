/* imcore: the command-line tool. Dispatch, global --help and --version.
 *
 * To add a command (or a command group such as `dir`), declare its
 * `const cli_cmd` in cli.h and add it to COMMANDS below. */
#include <string.h>

#include "cli.h"

#ifndef IMC_CLI_VERSION
#define IMC_CLI_VERSION "unknown"
#endif

static const cli_cmd *const COMMANDS[] = {
    /* keys */
    &cli_cmd_keygen,
    /* messages */
    &cli_cmd_encrypt,
    &cli_cmd_fanout,
    &cli_cmd_decrypt,
    &cli_cmd_inspect,
    /* directory and its client (groups with subcommands) */
    &cli_cmd_dir,
    &cli_cmd_account,
    &cli_cmd_client,
    /* key transparency */
    &cli_cmd_witness,
    &cli_cmd_verify_evidence,
};

static void print_commands(FILE *out, const char *prog, const cli_cmd *const *cmds, size_t n)
{
    fprintf(out, "Usage: %s COMMAND [options]\n\nCommands:\n", prog);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
    fprintf(out, "\nRun '%s COMMAND --help' for the options of a command.\n", prog);
}

static void print_main_help(FILE *out)
{
    fputs("imcore: end-to-end message encryption (encrypt once, fan out per device,\n"
          "decrypt on a device) over swappable crypto backends.\n\n",
          out);
    print_commands(out, "imcore", COMMANDS, CLI_ARRAY_LEN(COMMANDS));
    fputs("\nGlobal options:\n"
          "  -h, --help     show this help\n"
          "  --version      show the version, the backends built in and their suites\n"
          "\nExit status: 0 success, 1 the operation failed, 2 usage error.\n",
          out);
}

static const struct {
    uint32_t cap;
    const char *name;
} CAP_NAMES[] = {
    {IMC_CAP_X25519, "x25519"},         {IMC_CAP_ED25519, "ed25519"},
    {IMC_CAP_CHACHA20POLY1305, "chacha20poly1305"}, {IMC_CAP_AES256GCM, "aes256gcm"},
    {IMC_CAP_P256_ECDH, "p256-ecdh"},   {IMC_CAP_ECDSA_P256, "ecdsa-p256"},
    {IMC_CAP_SHA256, "sha256"},
};

static int print_version(void)
{
    printf("imcore %s\n", IMC_CLI_VERSION);
    size_t n = 0;
    const char *const *names = imc_backend_list(&n);
    for (size_t i = 0; i < n; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        if (b == NULL) {
            printf("backend %-8s unavailable (failed to initialise)\n", names[i]);
            continue;
        }
        printf("backend %-8s %s; primitives:", names[i], imc_backend_version(b));
        uint32_t caps = imc_backend_caps(b);
        for (size_t k = 0; k < sizeof CAP_NAMES / sizeof CAP_NAMES[0]; k++)
            if (caps & CAP_NAMES[k].cap)
                printf(" %s", CAP_NAMES[k].name);
        printf("; suites:");
        for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
            const imc_suite *s = imc_suite_get(id);
            if (imc_suite_supported(s, b))
                printf(" %u=%s", (unsigned)id, s->short_name);
        }
        putchar('\n');
    }
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static const cli_cmd *find_cmd(const cli_cmd *const *cmds, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cmds[i]->name, name) == 0)
            return cmds[i];
    return NULL;
}

/* Runs cmd with the words after its name; descends into command groups. */
static int dispatch(const cli_cmd *cmd, const char *prog, int argc, char **argv)
{
    char name[CLI_PROG_MAX];
    snprintf(name, sizeof name, "%s %s", prog, cmd->name);
    if (cmd->sub != NULL) {
        if (argc < 1 || strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
            print_commands(argc < 1 ? stderr : stdout, name, cmd->sub, cmd->sub_count);
            return argc < 1 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
        }
        const cli_cmd *sub = find_cmd(cmd->sub, cmd->sub_count, argv[0]);
        if (sub == NULL) {
            cli_err(name, "unknown command '%s' (see '%s --help')", argv[0], name);
            return CLI_EXIT_USAGE;
        }
        return dispatch(sub, name, argc - 1, argv + 1);
    }
    cli_args a;
    int rc = cli_parse(&a, cmd, name, argc, argv);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cmd->run(&a);
    return rc == CLI_CONTINUE ? CLI_EXIT_OK : rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *word = argv[1];
    if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0 || strcmp(word, "help") == 0) {
        if (argc > 2 && strcmp(word, "help") == 0) {
            /* `imcore help encrypt` is `imcore encrypt --help`. */
            const cli_cmd *cmd = find_cmd(COMMANDS, CLI_ARRAY_LEN(COMMANDS), argv[2]);
            if (cmd != NULL) {
                char help[] = "--help";
                char *args[] = {help, NULL};
                return dispatch(cmd, "imcore", 1, args);
            }
            cli_err("imcore", "unknown command '%s' (see 'imcore --help')", argv[2]);
            return CLI_EXIT_USAGE;
        }
        print_main_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(word, "--version") == 0)
        return print_version();
    const cli_cmd *cmd = find_cmd(COMMANDS, CLI_ARRAY_LEN(COMMANDS), word);
    if (cmd == NULL) {
        if (word[0] == '-')
            cli_err("imcore", "unknown option %s (see 'imcore --help')", word);
        else
            cli_err("imcore", "unknown command '%s' (see 'imcore --help')", word);
        return CLI_EXIT_USAGE;
    }
    return dispatch(cmd, "imcore", argc - 2, argv + 2);
}
