/* A small option parser shared by every command: --long VALUE,
 * --long=VALUE, --flag, repeated options, positionals, "--" to end the
 * options, and -h/--help everywhere. Nothing is copied: values point into
 * argv, and repeated options are found again by re-tokenising argv. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "imcore/limits.h"

void cli_err(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- Tokeniser ---------------------------------------------------------- */

typedef enum tok_kind {
    TOK_END,
    TOK_OPT,        /* option opt (with value for VALUE/MULTI) */
    TOK_POS,        /* positional value */
    TOK_HELP,       /* -h or --help */
    TOK_UNKNOWN,    /* unknown option: value is the word */
    TOK_NO_VALUE,   /* option opt needs a value and none follows */
    TOK_FLAG_VALUE, /* flag opt given as --flag=value */
} tok_kind;

typedef struct tokeniser {
    const cli_cmd *cmd;
    int argc;
    char **argv;
    int i;
    bool opts_done;
} tokeniser;

static size_t find_opt(const cli_cmd *cmd, const char *name, size_t name_len)
{
    for (size_t k = 0; k < cmd->opt_count; k++)
        if (strlen(cmd->opts[k].name) == name_len &&
            memcmp(cmd->opts[k].name, name, name_len) == 0)
            return k;
    return cmd->opt_count;
}

static tok_kind next_token(tokeniser *t, size_t *opt, const char **value)
{
    if (t->i >= t->argc)
        return TOK_END;
    const char *w = t->argv[t->i++];
    *value = w;
    if (t->opts_done || w[0] != '-' || strcmp(w, "-") == 0)
        return TOK_POS;
    if (strcmp(w, "--") == 0) {
        t->opts_done = true;
        return next_token(t, opt, value);
    }
    if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0)
        return TOK_HELP;
    if (w[1] != '-')
        return TOK_UNKNOWN; /* no short options besides -h */

    const char *name = w + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    size_t k = find_opt(t->cmd, name, name_len);
    if (k == t->cmd->opt_count)
        return TOK_UNKNOWN;
    *opt = k;
    if (t->cmd->opts[k].kind == CLI_OPT_FLAG) {
        *value = NULL;
        return eq != NULL ? TOK_FLAG_VALUE : TOK_OPT;
    }
    if (eq != NULL) {
        *value = eq + 1;
        return TOK_OPT;
    }
    if (t->i >= t->argc)
        return TOK_NO_VALUE;
    *value = t->argv[t->i++]; /* taken as is, even "-" or "--x" */
    return TOK_OPT;
}

static void tokeniser_init(tokeniser *t, const cli_cmd *cmd, int argc, char **argv)
{
    t->cmd = cmd;
    t->argc = argc;
    t->argv = argv;
    t->i = 0;
    t->opts_done = false;
}

/* ---- Parsing ------------------------------------------------------------ */

static int usage_error(const char *prog, const char *fmt, ...) CLI_PRINTF(2, 3);

/* One line: "imcore <cmd>: <message> (see 'imcore <cmd> --help')". */
static int usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '%s --help')\n", prog);
    return CLI_EXIT_USAGE;
}

int cli_parse(cli_args *a, const cli_cmd *cmd, const char *prog, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->argc = argc;
    a->argv = argv;
    snprintf(a->prog, sizeof a->prog, "%s", prog);
    if (cmd->opt_count > CLI_MAX_OPTS || cmd->max_pos > CLI_MAX_POS) {
        cli_err(prog, "internal error: command table too large");
        return CLI_EXIT_FAIL;
    }

    tokeniser t;
    tokeniser_init(&t, cmd, argc, argv);
    for (;;) {
        size_t k = 0;
        const char *v = NULL;
        switch (next_token(&t, &k, &v)) {
        case TOK_END:
            goto done;
        case TOK_HELP:
            cli_print_help(stdout, cmd, a->prog);
            return CLI_EXIT_OK;
        case TOK_UNKNOWN:
            return usage_error(a->prog, "unknown option %s", v);
        case TOK_NO_VALUE:
            return usage_error(a->prog, "option --%s needs a value (%s)", cmd->opts[k].name,
                               cmd->opts[k].metavar);
        case TOK_FLAG_VALUE:
            return usage_error(a->prog, "option --%s takes no value", cmd->opts[k].name);
        case TOK_POS:
            if (a->pos_count == cmd->max_pos)
                return usage_error(a->prog, "unexpected argument '%s'", v);
            a->pos[a->pos_count++] = v;
            break;
        case TOK_OPT:
            if (a->count[k] > 0 && cmd->opts[k].kind != CLI_OPT_MULTI)
                return usage_error(a->prog, "option --%s given more than once",
                                   cmd->opts[k].name);
            a->count[k]++;
            a->value[k] = v;
            break;
        }
    }
done:
    for (size_t k = 0; k < cmd->opt_count; k++)
        if (cmd->opts[k].required && a->count[k] == 0)
            return usage_error(a->prog, "missing required option --%s", cmd->opts[k].name);
    if (a->pos_count < cmd->min_pos)
        return usage_error(a->prog, "missing argument %s",
                           cmd->positional != NULL ? cmd->positional : "");
    return CLI_CONTINUE;
}

/* ---- Help --------------------------------------------------------------- */

static size_t opt_width(const cli_opt *o)
{
    size_t w = 2 + strlen(o->name);
    if (o->kind != CLI_OPT_FLAG)
        w += 1 + strlen(o->metavar);
    return w;
}

void cli_print_help(FILE *out, const cli_cmd *cmd, const char *prog)
{
    fprintf(out, "Usage: %s", prog);
    bool optional = false;
    for (size_t k = 0; k < cmd->opt_count; k++) {
        const cli_opt *o = &cmd->opts[k];
        if (!o->required) {
            optional = true;
            continue;
        }
        fprintf(out, " --%s", o->name);
        if (o->kind != CLI_OPT_FLAG)
            fprintf(out, " %s%s", o->metavar, o->kind == CLI_OPT_MULTI ? "..." : "");
    }
    if (optional)
        fputs(" [options]", out);
    if (cmd->positional != NULL)
        fprintf(out, " %s", cmd->positional);
    fprintf(out, "\n\n%s.\n\nOptions:\n", cmd->summary);

    size_t width = 10; /* "-h, --help" */
    for (size_t k = 0; k < cmd->opt_count; k++) {
        size_t w = opt_width(&cmd->opts[k]);
        if (w > width)
            width = w;
    }
    for (size_t k = 0; k < cmd->opt_count; k++) {
        const cli_opt *o = &cmd->opts[k];
        fprintf(out, "  --%s", o->name);
        if (o->kind != CLI_OPT_FLAG)
            fprintf(out, " %s", o->metavar);
        fprintf(out, "%*s  %s%s%s", (int)(width - opt_width(o)), "", o->help,
                o->required ? " (required)" : "",
                o->kind == CLI_OPT_MULTI ? " (repeatable)" : "");
        if (strcmp(o->name, "backend") == 0) {
            /* The backends of this build, from the registry (auto too). */
            size_t n = 0;
            const char *const *names = imc_backend_list(&n);
            fputs(":", out);
            for (size_t i = 0; i < n; i++)
                fprintf(out, "%s %s", i ? "," : "", names[i]);
        }
        fputc('\n', out);
    }
    fprintf(out, "  -h, --help%*s  show this help\n", (int)(width - 10), "");
    if (cmd->details != NULL)
        fprintf(out, "\n%s", cmd->details);
}

/* ---- Values ------------------------------------------------------------- */

static size_t opt_index(const cli_args *a, const char *name)
{
    size_t k = find_opt(a->cmd, name, strlen(name));
    if (k == a->cmd->opt_count) {
        /* A command asked for an option it does not declare: a bug. */
        fprintf(stderr, "%s: internal error: no option --%s\n", a->prog, name);
        abort();
    }
    return k;
}

const char *cli_get(const cli_args *a, const char *name, const char *def)
{
    size_t k = opt_index(a, name);
    return a->count[k] > 0 ? a->value[k] : def;
}

bool cli_flag(const cli_args *a, const char *name) { return a->count[opt_index(a, name)] > 0; }

size_t cli_count(const cli_args *a, const char *name) { return a->count[opt_index(a, name)]; }

const char *cli_get_nth(const cli_args *a, const char *name, size_t i)
{
    size_t want = opt_index(a, name);
    tokeniser t;
    tokeniser_init(&t, a->cmd, a->argc, a->argv);
    for (;;) {
        size_t k = 0;
        const char *v = NULL;
        tok_kind kind = next_token(&t, &k, &v);
        if (kind == TOK_END)
            return NULL;
        if (kind == TOK_OPT && k == want && i-- == 0)
            return v;
    }
}

int cli_get_u64(const cli_args *a, const char *name, uint64_t def, uint64_t *out)
{
    const char *s = cli_get(a, name, NULL);
    if (s == NULL) {
        *out = def;
        return CLI_CONTINUE;
    }
    uint64_t v = 0;
    const char *p = s;
    if (*p == '\0')
        goto bad;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            goto bad;
        v = v * 10 + d;
    }
    *out = v;
    return CLI_CONTINUE;
bad:
    fprintf(stderr, "%s: option --%s: '%s' is not a decimal number in 0..%llu\n", a->prog,
            name, s, (unsigned long long)UINT64_MAX);
    return CLI_EXIT_USAGE;
}

static const char *default_backend(void)
{
    size_t n = 0;
    const char *const *names = imc_backend_list(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], "sodium") == 0)
            return names[i];
    return n > 0 ? names[0] : "sodium";
}

int cli_get_backend(const cli_args *a, const imc_backend **out)
{
    const char *name = cli_get(a, "backend", default_backend());
    size_t n = 0;
    const char *const *names = imc_backend_list(&n);
    bool built = false;
    for (size_t i = 0; i < n; i++)
        built = built || strcmp(names[i], name) == 0;
    if (!built) {
        fprintf(stderr, "%s: unknown backend '%s' (this build has:", a->prog, name);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %s", names[i]);
        fputs(")\n", stderr);
        return CLI_EXIT_USAGE;
    }
    *out = imc_backend_get(name);
    if (*out == NULL) {
        cli_err(a->prog, "backend '%s' failed to initialise", name);
        return CLI_EXIT_FAIL;
    }
    return CLI_CONTINUE;
}

int cli_get_suite(const cli_args *a, const imc_backend *b, const imc_suite **out)
{
    const char *name = cli_get(a, "suite", "1");
    *out = imc_suite_find(name);
    if (*out == NULL) {
        fprintf(stderr, "%s: unknown suite '%s' (known:", a->prog, name);
        for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
            const imc_suite *s = imc_suite_get(id);
            if (s != NULL)
                fprintf(stderr, "%s %u = %s = %s", id > 1 ? ";" : "", (unsigned)id, s->name,
                        s->short_name);
        }
        fputs(")\n", stderr);
        return CLI_EXIT_USAGE;
    }
    if (!imc_suite_supported(*out, b)) {
        char others[256];
        cli_backends_for_suite(others, sizeof others, (*out)->id);
        cli_err(a->prog, "suite %s is not supported by backend %s on this machine%s%s",
                (*out)->name, imc_backend_name(b), *others ? "; --backend" : "", others);
        return CLI_EXIT_FAIL;
    }
    return CLI_CONTINUE;
}

void cli_backends_for_suite(char *out, size_t cap, uint32_t suite_id)
{
    size_t n = 0, used = 0;
    const char *const *names = imc_backend_list(&n);
    const imc_suite *s = imc_suite_get(suite_id);
    if (cap > 0)
        out[0] = '\0';
    for (size_t i = 0; i < n && s != NULL; i++) {
        const imc_backend *b = imc_backend_get(names[i]);
        if (b == NULL || !imc_suite_supported(s, b))
            continue;
        int w = snprintf(out + used, cap - used, "%s %s", used ? "," : "", names[i]);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
}

int cli_get_device_id(const cli_args *a, const char *name, uint64_t *out)
{
    int rc = cli_get_u64(a, name, 0, out);
    if (rc == CLI_CONTINUE && *out == 0) {
        fprintf(stderr, "%s: option --%s: device id 0 is reserved; ids are 1..%llu\n", a->prog,
                name, (unsigned long long)UINT64_MAX);
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}

int cli_get_time_ms(const cli_args *a, const char *name, uint64_t def, uint64_t *out)
{
    int rc = cli_get_u64(a, name, def, out);
    if (rc == CLI_CONTINUE && *out > CLI_MAX_TIMESTAMP_MS) {
        fprintf(stderr,
                "%s: option --%s: %llu ms is after the year 9999 (at most %llu)\n", a->prog,
                name, (unsigned long long)*out, (unsigned long long)CLI_MAX_TIMESTAMP_MS);
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}

int cli_get_handle(const cli_args *a, const char *name, const uint8_t **handle, size_t *len)
{
    const char *s = cli_get(a, name, "");
    size_t n = strlen(s);
    if (n == 0 || n > IMC_MAX_HANDLE_BYTES) {
        fprintf(stderr, "%s: option --%s: a handle is 1..%d bytes, got %zu\n", a->prog, name,
                IMC_MAX_HANDLE_BYTES, n);
        return CLI_EXIT_USAGE;
    }
    *handle = (const uint8_t *)s;
    *len = n;
    return CLI_CONTINUE;
}
