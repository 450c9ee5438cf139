/* imcore command-line tool: shared declarations.
 *
 * Every command is a const cli_cmd: its options, its help text and a run
 * function. main.c holds the dispatch table; args.c parses argv against a
 * command's option table; io.c reads and writes files. The tool only calls
 * the public API (core/include/imcore) and keeps no global mutable state. */
#ifndef IMCORE_CLI_H
#define IMCORE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "imcore/backend.h"
#include "imcore/keys.h"
#include "imcore/limits.h"
#include "imcore/status.h"
#include "imcore/suite.h"

/* Exit codes. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* the operation failed */
#define CLI_EXIT_USAGE 2 /* bad command line */
#define CLI_CONTINUE (-1) /* internal: parsing done, run the command */

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* ---- Options and commands ---------------------------------------------- */

typedef enum cli_opt_kind {
    CLI_OPT_VALUE, /* --name VALUE or --name=VALUE, at most once */
    CLI_OPT_MULTI, /* --name VALUE, any number of times */
    CLI_OPT_FLAG,  /* --name, no value, at most once */
} cli_opt_kind;

typedef struct cli_opt {
    const char *name; /* long name without the leading "--" */
    cli_opt_kind kind;
    bool required;
    const char *metavar; /* "FILE", "N"; NULL for flags */
    const char *help;    /* one line */
} cli_opt;

/* The help line of every --backend option: the list of backends this build
 * has (auto included) is appended when help is printed. */
#define CLI_BACKEND_HELP                                                                       \
    "crypto backend (default: the first listed; auto: each primitive on the library a "     \
    "profile file named by IMC_AUTO_PROFILE gives, else the fastest timed at start-up)"
/* The --backend option itself, as every command declares it. */
#define CLI_OPT_BACKEND {"backend", CLI_OPT_VALUE, false, "NAME", CLI_BACKEND_HELP}

#define CLI_MAX_OPTS 16 /* options per command, --help not counted */
#define CLI_MAX_POS 4   /* positional arguments per command */
#define CLI_PROG_MAX 64 /* "imcore dir lookup" */

typedef struct cli_args cli_args;

typedef struct cli_cmd {
    const char *name;
    const char *summary;    /* one line, for `imcore --help` */
    const char *positional; /* usage text of the positionals, NULL if none */
    size_t min_pos, max_pos;
    const cli_opt *opts;
    size_t opt_count;
    const char *details;    /* more help text after the options, or NULL */
    /* The options whose values are files the command reads, separated by
     * spaces ("in key sender"); --in always is one. cli_write_output never
     * writes over any of them (docs/cli.md, "Output files"). */
    const char *inputs;
    int (*run)(const cli_args *a);
    /* A command group (e.g. "dir"): run is NULL and the next word picks
     * one of these subcommands. */
    const struct cli_cmd *const *sub;
    size_t sub_count;
} cli_cmd;

/* The parsed command line of one command. Values point into argv. */
struct cli_args {
    const cli_cmd *cmd;
    char prog[CLI_PROG_MAX]; /* "imcore encrypt": the prefix of every message */
    int argc;
    char **argv; /* the words after the command name */
    unsigned count[CLI_MAX_OPTS];
    const char *value[CLI_MAX_OPTS]; /* last value of each option */
    const char *pos[CLI_MAX_POS];
    size_t pos_count;
};

/* Parses argv (the words after the command name) for cmd. Returns
 * CLI_CONTINUE to run the command; otherwise the exit code to return:
 * CLI_EXIT_OK after printing --help, CLI_EXIT_USAGE after a one-line error
 * on stderr. `prog` is the command's full name ("imcore encrypt"). */
int cli_parse(cli_args *a, const cli_cmd *cmd, const char *prog, int argc, char **argv);

/* Help of one command to `out`. */
void cli_print_help(FILE *out, const cli_cmd *cmd, const char *prog);

/* Value of an option (the last one given), or def if absent. `name` must be
 * one of the command's options. */
const char *cli_get(const cli_args *a, const char *name, const char *def);
bool cli_flag(const cli_args *a, const char *name);
/* Number of times an option was given, and the i-th value (i < count). */
size_t cli_count(const cli_args *a, const char *name);
const char *cli_get_nth(const cli_args *a, const char *name, size_t i);

/* Typed values. Each returns CLI_CONTINUE on success, else prints a usage
 * error naming the option and returns CLI_EXIT_USAGE. */
int cli_get_u64(const cli_args *a, const char *name, uint64_t def, uint64_t *out);
/* --backend NAME (default: the registry's first backend): an unknown
 * name is a usage error listing the backends built; a backend that fails to
 * initialise is CLI_EXIT_FAIL. */
int cli_get_backend(const cli_args *a, const imc_backend **out);
/* --suite NAME|ID (default 1), checked against the backend. */
int cli_get_suite(const cli_args *a, const imc_backend *b, const imc_suite **out);
/* A device id: 1..2^64-1 (0 is reserved). */
int cli_get_device_id(const cli_args *a, const char *name, uint64_t *out);
/* Milliseconds since the epoch, at most CLI_MAX_TIMESTAMP_MS. */
int cli_get_time_ms(const cli_args *a, const char *name, uint64_t def, uint64_t *out);
/* A handle as the directory normalises it (docs/directory.md, "Handles"):
 * "Alice@Example.COM" -> "alice@example.com"; anything else is a usage
 * error naming the option. */
int cli_normalise_handle(const char *prog, const char *opt, const char *text,
                         uint8_t out[IMC_MAX_HANDLE_BYTES], size_t *len);
/* The same for the value of option `name`. */
int cli_get_handle(const cli_args *a, const char *name, uint8_t out[IMC_MAX_HANDLE_BYTES],
                   size_t *len);

/* "imcore <cmd>: <message>\n" on stderr. */
void cli_err(const char *prog, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- Files (io.c) ------------------------------------------------------- */

/* Reads all of `path` ("-": standard input) into buf[0..cap). More than cap
 * bytes is an error. Returns CLI_CONTINUE or CLI_EXIT_FAIL after an error
 * message. `what` names the file's role in messages ("key file"). */
int cli_read_into(const char *prog, const char *what, const char *path, uint8_t *buf,
                  size_t cap, size_t *len);
/* The same into a fresh heap buffer of at most max bytes; free with free(). */
int cli_read_alloc(const char *prog, const char *what, const char *path, size_t max,
                   uint8_t **out, size_t *len);

/* Output files (docs/cli.md): every command writes its outputs through
 * cli_check_output (before the work: nothing is done for an output that
 * would be refused) and cli_write_output (atomic). An output that exists is
 * refused unless the command has --force and it was given; an output that
 * is one of the command's input files (cli_cmd.inputs and --in, "-"
 * aside) is refused even with --force. Return CLI_CONTINUE, or the exit code
 * after a one-line message. */
int cli_check_output(const cli_args *a, const char *path);
int cli_write_output(const cli_args *a, const char *path, const uint8_t *data, size_t len,
                     unsigned mode);
/* The same check for a directory of outputs the command creates whole. */
int cli_check_output_dir(const cli_args *a, const char *path);
/* True if the command has a --force flag and it was given; whether it has one. */
bool cli_forced(const cli_args *a);
bool cli_has_force(const cli_args *a);

/* Standard input as an input: refused on a terminal, where the command
 * would wait without a word (give --in FILE or a pipe). */
int cli_check_stdin(const cli_args *a, const char *path, const char *what);

#define CLI_WRITE_NO_CLOBBER 1u /* fail if the file exists */
/* Writes data to `path` atomically: a temporary file in the same directory,
 * flushed and renamed into place (created with `mode`, less the umask), so
 * readers see either nothing or the whole file. "-" writes to standard
 * output. Returns CLI_CONTINUE or CLI_EXIT_FAIL after an error message. */
int cli_write_file(const char *prog, const char *path, const uint8_t *data, size_t len,
                   unsigned mode, unsigned flags);
/* The message for a failed open of an LMDB state file (a directory, a
 * device's replay or client state): `what` names it ("directory"). An
 * empty, truncated or foreign file, a missing one, and a system error
 * (errno, e.g. a read-only file) each get their own wording. Returns
 * CLI_EXIT_FAIL. */
int cli_store_error(const char *prog, const char *what, const char *path, imc_status st);

/* Creates directory `path` if it does not exist. */
int cli_make_dir(const char *prog, const char *path);

/* Lower-case hex of p[0..n) to out. */
void cli_put_hex(FILE *out, const uint8_t *p, size_t n);
/* A JSON string literal for p[0..n): escapes quotes, backslashes and
 * control characters; bytes that are not valid UTF-8 become U+FFFD. */
void cli_put_json_string(FILE *out, const uint8_t *p, size_t n);
/* The real-time clock in milliseconds since the Unix epoch (0 if unreadable). */
uint64_t cli_now_ms(void);
/* "2012-10-23T17:45:00.123Z" for milliseconds since the epoch. */
void cli_put_utc(FILE *out, uint64_t ms);

/* The JSON convention of every command (docs/cli.md, "JSON"): a 64-bit id
 * or epoch is a decimal string ("18446744073709551615": JSON numbers lose
 * precision above 2^53 in most readers); a suite is its name and its id:
 * "suite": "X25519_ED25519_CHACHA20POLY1305", "suite_id": 1. */
void cli_put_json_u64(FILE *out, uint64_t v);
void cli_put_json_suite(FILE *out, uint32_t suite_id);

/* Timestamps in milliseconds are at most this (9999-12-31T23:59:59.999Z). */
#define CLI_MAX_TIMESTAMP_MS UINT64_C(253402300799999)

/* ---- Keys (cmd_keys.c) -------------------------------------------------- */

/* The backends built that support suite_id, as " sodium, openssl" for a
 * message ("" if none). */
void cli_backends_for_suite(char *out, size_t cap, uint32_t suite_id);

/* Loads a secret key file (refused if others may read it: mode & 077);
 * keys are wiped on failure. Callers wipe them
 * with imc_keys_wipe when done. Returns CLI_CONTINUE or CLI_EXIT_FAIL. */
int cli_load_secret(const char *prog, const imc_backend *b, const char *path,
                    imc_device_keys *keys);
/* b may be NULL; with a backend, a secret key file given by mistake is
 * named as such. */
int cli_load_public(const char *prog, const imc_backend *b, const char *path,
                    imc_device_public *pub);

/* ---- Accounts and the directory client (cmd_account.c, client_state.c) - */

/* Loads an account key file (32-byte secret seed). CLI_CONTINUE or
 * CLI_EXIT_FAIL after an error message. */
int cli_load_account_key(const char *prog, const char *path, uint8_t sk[32]);

/* encrypt --state DIR --to-handle H...: the verified current devices of
 * every --to-handle plus the sender's own other devices (sender = --from
 * with key `me`), into rcpt[0..*count). Refuses a handle with an
 * unconfirmed account key change, one not in the state or expired, and a
 * sender the state does not list with these keys. */
int cli_client_recipients(const cli_args *a, const imc_backend *b, const imc_device_keys *me,
                          const uint8_t *from, size_t from_len, uint64_t now_ms,
                          imc_device_public *rcpt, size_t cap, size_t *count);
/* decrypt --state DIR --from H: the sending device (named in the delivery)
 * must be a current device of H in the verified state. */
int cli_client_sender(const cli_args *a, const imc_backend *b, const uint8_t *from,
                      size_t from_len, const uint8_t *dlv, size_t dlv_len,
                      imc_device_public *sender);

/* ---- Commands ----------------------------------------------------------- */

extern const cli_cmd cli_cmd_keygen;
extern const cli_cmd cli_cmd_encrypt;
extern const cli_cmd cli_cmd_fanout;
extern const cli_cmd cli_cmd_decrypt;
extern const cli_cmd cli_cmd_inspect;
extern const cli_cmd cli_cmd_dir;
extern const cli_cmd cli_cmd_account;
extern const cli_cmd cli_cmd_client;
extern const cli_cmd cli_cmd_witness;
extern const cli_cmd cli_cmd_verify_evidence;

#define CLI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
