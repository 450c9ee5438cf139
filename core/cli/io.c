/* File input and output for the CLI: bounded whole-file reads, atomic
 * writes (temporary file + rename), hex, JSON strings and UTC times. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "imcore/util.h"

#define CLI_PATH_MAX 4096

static const char *display_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "standard input" : path;
}

/* ---- Reading ------------------------------------------------------------ */

int cli_read_into(const char *prog, const char *what, const char *path, uint8_t *buf,
                  size_t cap, size_t *len)
{
    bool use_stdin = strcmp(path, "-") == 0;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        cli_err(prog, "cannot open %s '%s': %s", what, path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    /* Unbuffered: the bytes (perhaps a secret key) go straight into buf and
     * are never left in a stdio buffer that nobody wipes. */
    setvbuf(f, NULL, _IONBF, 0);
    size_t n = 0;
    int rc = CLI_CONTINUE;
    while (n < cap) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cli_err(prog, "cannot read %s '%s': %s", what, display_name(path), strerror(errno));
        rc = CLI_EXIT_FAIL;
    } else if (n == cap && fgetc(f) != EOF) {
        cli_err(prog, "%s '%s' is larger than %zu bytes", what, display_name(path), cap);
        rc = CLI_EXIT_FAIL;
    }
    if (!use_stdin)
        fclose(f);
    if (rc != CLI_CONTINUE)
        imc_wipe(buf, n); /* what was read may be (part of) a secret */
    *len = rc == CLI_CONTINUE ? n : 0;
    return rc;
}

int cli_read_alloc(const char *prog, const char *what, const char *path, size_t max,
                   uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    uint8_t *buf = malloc(max > 0 ? max : 1);
    if (buf == NULL) {
        cli_err(prog, "out of memory reading %s", what);
        return CLI_EXIT_FAIL;
    }
    int rc = cli_read_into(prog, what, path, buf, max, len);
    if (rc != CLI_CONTINUE) {
        free(buf);
        return rc;
    }
    *out = buf;
    return CLI_CONTINUE;
}

/* ---- Writing ------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += (size_t)w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_stdout(const char *prog, const uint8_t *data, size_t len)
{
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
        cli_err(prog, "cannot write to standard output: %s", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return CLI_CONTINUE;
}

/* Best effort: make the rename itself durable. */
static void sync_parent_dir(const char *path)
{
    char dir[CLI_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* For targets that are not regular files (/dev/null, a FIFO, /dev/stdout):
 * renaming over them would replace the device node itself. */
static int write_special(const char *prog, const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0) {
        cli_err(prog, "cannot open '%s': %s", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    int failed = write_all(fd, data, len);
    int err = errno;
    if (close(fd) != 0 && !failed) {
        failed = 1;
        err = errno;
    }
    if (failed) {
        cli_err(prog, "cannot write '%s': %s", path, strerror(err));
        return CLI_EXIT_FAIL;
    }
    return CLI_CONTINUE;
}

int cli_write_file(const char *prog, const char *path, const uint8_t *data, size_t len,
                   unsigned mode, unsigned flags)
{
    if (strcmp(path, "-") == 0)
        return write_stdout(prog, data, len);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            cli_err(prog, "'%s' is a directory", path);
            return CLI_EXIT_FAIL;
        }
        if (flags & CLI_WRITE_NO_CLOBBER) {
            cli_err(prog, "'%s' already exists (not overwritten)", path);
            return CLI_EXIT_FAIL;
        }
        return write_special(prog, path, data, len);
    }

    /* The temporary file sits next to the target (same file system, so the
     * rename is atomic) and is hidden: "dir/.name.tmp-PID-N". */
    const char *slash = strrchr(path, '/');
    int dir_len = slash != NULL ? (int)(slash - path + 1) : 0;
    const char *base = path + dir_len;
    if (*base == '\0') {
        cli_err(prog, "'%s' is a directory name, not a file name", path);
        return CLI_EXIT_FAIL;
    }
    char tmp[CLI_PATH_MAX];
    int fd = -1;
    for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
        int n = snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%ld-%u", dir_len, path, base,
                         (long)getpid(), attempt);
        if (n < 0 || (size_t)n >= sizeof tmp) {
            cli_err(prog, "file name too long: '%s'", path);
            return CLI_EXIT_FAIL;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, (mode_t)mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        cli_err(prog, "cannot create a file next to '%s': %s", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }

    const char *step = "write";
    if (write_all(fd, data, len) != 0)
        goto fail;
    step = "flush";
    if (fsync(fd) != 0)
        goto fail;
    step = "close";
    int closed = close(fd);
    fd = -1;
    if (closed != 0)
        goto fail;
    if (flags & CLI_WRITE_NO_CLOBBER) {
        /* link() fails atomically if the target exists; rename() would not. */
        step = "create";
        if (link(tmp, path) != 0)
            goto fail;
        unlink(tmp);
    } else {
        step = "replace";
        if (rename(tmp, path) != 0)
            goto fail;
    }
    sync_parent_dir(path);
    return CLI_CONTINUE;

fail:;
    int err = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    if (err == EEXIST && (flags & CLI_WRITE_NO_CLOBBER))
        cli_err(prog, "'%s' already exists (not overwritten)", path);
    else
        cli_err(prog, "cannot %s '%s': %s", step, path, strerror(err));
    return CLI_EXIT_FAIL;
}

/* ---- Output and input conventions ------------------------------------- */

static size_t force_opt(const cli_args *a)
{
    for (size_t k = 0; k < a->cmd->opt_count; k++)
        if (strcmp(a->cmd->opts[k].name, "force") == 0)
            return k;
    return a->cmd->opt_count;
}

bool cli_has_force(const cli_args *a) { return force_opt(a) < a->cmd->opt_count; }

bool cli_forced(const cli_args *a)
{
    size_t k = force_opt(a);
    return k < a->cmd->opt_count && a->count[k] > 0;
}

/* Whether option `name` names input files: "in", or a word of cmd->inputs. */
static bool is_input(const cli_cmd *cmd, const char *name)
{
    size_t n = strlen(name);
    if (strcmp(name, "in") == 0)
        return true;
    for (const char *p = cmd->inputs; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ' ');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p = end != NULL ? end + 1 : p + len;
    }
    return false;
}

static bool same_file(const char *x, const char *y)
{
    struct stat sx, sy;
    if (strcmp(x, y) == 0)
        return true;
    return stat(x, &sx) == 0 && stat(y, &sy) == 0 && sx.st_dev == sy.st_dev &&
           sx.st_ino == sy.st_ino;
}

int cli_check_output(const cli_args *a, const char *path)
{
    if (strcmp(path, "-") == 0)
        return CLI_CONTINUE;
    for (size_t k = 0; k < a->cmd->opt_count; k++) {
        const cli_opt *o = &a->cmd->opts[k];
        if (!is_input(a->cmd, o->name))
            continue;
        for (size_t i = 0; i < a->count[k]; i++) {
            const char *in = cli_get_nth(a, o->name, i);
            if (strcmp(in, "-") != 0 && same_file(in, path)) {
                cli_err(a->prog, "'%s' is an input (--%s) and the output: refused", path,
                        o->name);
                return CLI_EXIT_USAGE;
            }
        }
    }
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_err(a->prog, "'%s' is a directory", path);
        return CLI_EXIT_FAIL;
    }
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && !cli_forced(a)) {
        cli_err(a->prog, "'%s' already exists (not overwritten%s)", path,
                cli_has_force(a) ? "; --force replaces it" : "");
        return CLI_EXIT_FAIL;
    }
    return CLI_CONTINUE;
}

int cli_check_output_dir(const cli_args *a, const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && !cli_forced(a)) {
        cli_err(a->prog, "'%s' already exists (not overwritten%s)", path,
                cli_has_force(a) ? "; --force replaces it" : "");
        return CLI_EXIT_FAIL;
    }
    return CLI_CONTINUE;
}

int cli_write_output(const cli_args *a, const char *path, const uint8_t *data, size_t len,
                     unsigned mode)
{
    int rc = cli_check_output(a, path);
    if (rc != CLI_CONTINUE)
        return rc;
    return cli_write_file(a->prog, path, data, len, mode,
                          cli_forced(a) ? 0 : CLI_WRITE_NO_CLOBBER);
}

int cli_check_stdin(const cli_args *a, const char *path, const char *what)
{
    if (strcmp(path, "-") == 0 && isatty(STDIN_FILENO)) {
        cli_err(a->prog, "would read the %s from the terminal: give --in FILE or pipe it in",
                what);
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

int cli_store_error(const char *prog, const char *what, const char *path, imc_status st)
{
    int err = errno;
    struct stat sb;
    if (st == IMC_ERR_MALFORMED && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
        cli_err(prog, "'%s' is an empty file, not a %s (nothing was changed)", path, what);
    else if (st == IMC_ERR_MALFORMED)
        cli_err(prog,
                "'%s' is not a %s: not an LMDB file, truncated, or another program's "
                "(nothing was changed)",
                path, what);
    else if (st == IMC_ERR_NOT_FOUND)
        cli_err(prog, "no %s at '%s'", what, path);
    else if (st == IMC_ERR_IO && (err == EACCES || err == EPERM || err == EROFS))
        cli_err(prog, "cannot open %s '%s' for writing: %s (it needs write access to the file "
                "and to its lock file '%s-lock')", what, path, strerror(err), path);
    else if (st == IMC_ERR_IO && err != 0)
        cli_err(prog, "cannot open %s '%s': %s", what, path, strerror(err));
    else
        cli_err(prog, "cannot open %s '%s': %s", what, path, imc_status_str(st));
    return CLI_EXIT_FAIL;
}

int cli_make_dir(const char *prog, const char *path)
{
    if (mkdir(path, 0777) == 0)
        return CLI_CONTINUE;
    struct stat st;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return CLI_CONTINUE;
    if (errno == EEXIST)
        cli_err(prog, "'%s' exists and is not a directory", path);
    else
        cli_err(prog, "cannot create directory '%s': %s", path, strerror(errno));
    return CLI_EXIT_FAIL;
}

/* ---- Formatting --------------------------------------------------------- */

void cli_put_hex(FILE *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        fputc(digits[p[i] >> 4], out);
        fputc(digits[p[i] & 15], out);
    }
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

void cli_put_json_string(FILE *out, const uint8_t *p, size_t n)
{
    fputc('"', out);
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t len = utf8_len(p + i, n - i);
        if (len == 0) {
            fputs("\\ufffd", out);
            i++;
            continue;
        }
        if (len > 1) {
            fwrite(p + i, 1, len, out);
        } else if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\r') {
            fputs("\\r", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", (unsigned)c);
        } else {
            fputc(c, out);
        }
        i += len;
    }
    fputc('"', out);
}

void cli_put_json_u64(FILE *out, uint64_t v) { fprintf(out, "\"%llu\"", (unsigned long long)v); }

void cli_put_json_suite(FILE *out, uint32_t suite_id)
{
    const imc_suite *s = imc_suite_get(suite_id);
    fputs("\"suite\": ", out);
    if (s != NULL)
        cli_put_json_string(out, (const uint8_t *)s->name, strlen(s->name));
    else
        fputs("null", out);
    fprintf(out, ", \"suite_id\": %u", (unsigned)suite_id);
}

void cli_put_utc(FILE *out, uint64_t ms)
{
    /* Civil date from days since 1970-01-01 (H. Hinnant's algorithm), in
     * unsigned arithmetic so that any 64-bit timestamp prints. */
    uint64_t secs = ms / 1000, days = secs / 86400, sod = secs % 86400;
    uint64_t z = days + 719468;
    uint64_t era = z / 146097;
    uint64_t doe = z - era * 146097;
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t y = yoe + era * 400;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    uint64_t d = doy - (153 * mp + 2) / 5 + 1;
    uint64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    fprintf(out, "%04llu-%02llu-%02lluT%02llu:%02llu:%02llu.%03lluZ", (unsigned long long)y,
            (unsigned long long)m, (unsigned long long)d, (unsigned long long)(sod / 3600),
            (unsigned long long)(sod / 60 % 60), (unsigned long long)(sod % 60),
            (unsigned long long)(ms % 1000));
}
