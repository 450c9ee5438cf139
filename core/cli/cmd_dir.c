/* Directory commands: imcore dir init|register|rotate|revoke|lookup|export,
 * on an LMDB directory file (docs/directory.md).
 *
 * The directory's Ed25519 key lives next to the database: DB.key (the
 * 32-byte secret seed, mode 0600) and DB.pub (the 32-byte public key that
 * clients pin). Register, rotate and revoke act as the device would: they
 * load its secret key file, sign the update for the handle's current epoch
 * and apply it; --out keeps the directory's signed answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "imcore/dir.h"
#include "imcore/util.h"

#define PATH_MAX_LEN 4096

typedef struct dir_ctx {
    const imc_backend *b;
    imc_dir_store store;
    imc_dir d;
    bool open;
} dir_ctx;

/* ---- Shared helpers ------------------------------------------------------ */

static int key_path(const cli_args *a, char *out, const char *suffix)
{
    const char *db = cli_get(a, "db", "");
    int n = snprintf(out, PATH_MAX_LEN, "%s%s", db, suffix);
    if (*db == '\0' || n < 0 || n >= PATH_MAX_LEN) {
        cli_err(a->prog, "option --db: '%s' is not a usable file name", db);
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

static uint64_t now_ms(const cli_args *a, int *rc)
{
    struct timespec ts;
    uint64_t def = 0;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        def = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint64_t v = def;
    *rc = cli_get_time_ms(a, "now", def, &v);
    /* --out is checked before anything changes: an update is never applied
     * and then its answer refused. */
    const char *out = cli_get(a, "out", NULL); /* every command with --now has --out */
    if (*rc == CLI_CONTINUE && out != NULL)
        *rc = cli_check_output(a, out);
    return v;
}

/* Opens the directory of --db with its key; read-only for the commands
 * that only read (a read-only file or file system then still works). */
static int open_dir(const cli_args *a, dir_ctx *c, bool read_only)
{
    memset(c, 0, sizeof *c);
    int rc = cli_get_backend(a, &c->b);
    if (rc != CLI_CONTINUE)
        return rc;
    const char *db = cli_get(a, "db", "");
    char kpath[PATH_MAX_LEN];
    rc = key_path(a, kpath, ".key");
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t sk[IMC_DIR_SECRET_BYTES + 1];
    size_t len = 0;
    rc = cli_read_into(a->prog, "directory key file", kpath, sk, sizeof sk, &len);
    if (rc == CLI_CONTINUE && len != IMC_DIR_SECRET_BYTES) {
        cli_err(a->prog, "'%s' is not a directory key file (%zu bytes, want %d)", kpath, len,
                IMC_DIR_SECRET_BYTES);
        rc = CLI_EXIT_FAIL;
    }
    imc_status st = IMC_OK;
    if (rc == CLI_CONTINUE) {
        /* Only 'dir init' creates a directory: a missing file is an error. */
        imc_dir_lmdb_options opt = {.read_only = true};
        errno = 0;
        st = imc_dir_store_lmdb_open(&c->store, db, &opt);
        if (st == IMC_OK && !read_only) {
            imc_dir_store_close(&c->store);
            opt.read_only = false;
            errno = 0;
            st = imc_dir_store_lmdb_open(&c->store, db, &opt);
        }
        if (st != IMC_OK)
            rc = cli_store_error(a->prog, "directory", db, st);
    }
    if (rc == CLI_CONTINUE) {
        st = imc_dir_init(&c->d, c->b, c->store, sk, NULL);
        if (st != IMC_OK) {
            cli_err(a->prog, "'%s': %s", db,
                    st == IMC_ERR_AUTH ? "the key in the .key file is not this directory's key"
                                       : imc_status_str(st));
            imc_dir_store_close(&c->store);
            rc = CLI_EXIT_FAIL;
        }
    }
    imc_wipe(sk, sizeof sk);
    c->open = rc == CLI_CONTINUE;
    return rc;
}

static void close_dir(dir_ctx *c)
{
    if (!c->open)
        return;
    imc_dir_wipe(&c->d);
    imc_dir_store_close(&c->store);
    c->open = false;
}

/* A user-typed handle in normal form. */
static int get_handle(const cli_args *a, const char *text, uint8_t out[IMC_MAX_HANDLE_BYTES],
                      size_t *len)
{
    imc_status st = imc_dir_handle_normalise(out, len, (const uint8_t *)text, strlen(text));
    if (st == IMC_OK)
        return CLI_CONTINUE;
    if (st == IMC_ERR_LIMIT)
        cli_err(a->prog, "option --handle: longer than %d bytes", IMC_MAX_HANDLE_BYTES);
    else
        cli_err(a->prog,
                "option --handle: '%s' is neither a phone number in international form "
                "(+14155550100) nor an e-mail address",
                text);
    return CLI_EXIT_USAGE;
}

static void print_record_text(FILE *out, const imc_dir_record *rec, uint64_t global)
{
    fprintf(out, "%.*s epoch %llu", (int)rec->handle_len, (const char *)rec->handle,
            (unsigned long long)rec->epoch);
    if (global != UINT64_MAX)
        fprintf(out, " (global %llu)", (unsigned long long)global);
    fprintf(out, ": %zu device%s\n", rec->device_count, rec->device_count == 1 ? "" : "s");
    for (size_t i = 0; i < rec->device_count; i++) {
        const imc_device_public *d = &rec->devices[i];
        const imc_suite *s = imc_suite_get(d->suite);
        fprintf(out, "  device %llu suite %s sig_pk ", (unsigned long long)d->device_id,
                s != NULL ? s->short_name : "?");
        cli_put_hex(out, d->sig_pk, s != NULL ? s->sig_public_bytes : 0);
        fputc('\n', out);
    }
}

/* One JSON line per handle, in the convention of docs/cli.md ("JSON"). */
static void print_record_json(FILE *out, const imc_dir_record *rec, uint64_t global)
{
    fputs("{\"handle\": ", out);
    cli_put_json_string(out, rec->handle, rec->handle_len);
    fputs(", \"epoch\": ", out);
    cli_put_json_u64(out, rec->epoch);
    if (global != UINT64_MAX) {
        fputs(", \"global_epoch\": ", out);
        cli_put_json_u64(out, global);
    }
    fputs(", \"devices\": [", out);
    for (size_t i = 0; i < rec->device_count; i++) {
        const imc_device_public *d = &rec->devices[i];
        const imc_suite *s = imc_suite_get(d->suite);
        fprintf(out, "%s{\"device_id\": ", i ? ", " : "");
        cli_put_json_u64(out, d->device_id);
        fputs(", ", out);
        cli_put_json_suite(out, d->suite);
        fputs(", \"dh_pk\": \"", out);
        cli_put_hex(out, d->dh_pk, s != NULL ? s->dh_public_bytes : 0);
        fputs("\", \"sig_pk\": \"", out);
        cli_put_hex(out, d->sig_pk, s != NULL ? s->sig_public_bytes : 0);
        fputs("\"}", out);
    }
    fputs("]}\n", out);
}

/* Prints every entry of a signed response (verifying each with the
 * directory's own key) and writes it to --out if given. */
static int report_response(const cli_args *a, dir_ctx *c, const uint8_t *resp, size_t len)
{
    imc_dir_response r;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES];
    imc_dir_public_key(pk, &c->d);
    imc_status st = imc_dir_parse_response(&r, resp, len);
    imc_dir_entry *e = malloc(sizeof *e);
    if (e == NULL)
        st = IMC_ERR_NOMEM;
    size_t off = 0;
    bool json = cli_flag(a, "json");
    for (size_t i = 0; i < r.count && st == IMC_OK; i++) {
        st = imc_dir_response_next(e, &off, &r);
        if (st == IMC_OK)
            st = imc_dir_entry_verify(c->b, pk, e);
        if (st == IMC_OK && json)
            print_record_json(stdout, &e->rec, e->global_epoch);
        else if (st == IMC_OK)
            print_record_text(stdout, &e->rec, e->global_epoch);
    }
    free(e);
    if (st != IMC_OK) {
        cli_err(a->prog, "the directory's answer does not check: %s", imc_status_str(st));
        return CLI_EXIT_FAIL;
    }
    const char *out = cli_get(a, "out", NULL);
    if (out != NULL)
        return cli_write_output(a, out, resp, len, 0644);
    return CLI_CONTINUE;
}

static const char *update_error(imc_status st)
{
    switch (st) {
    case IMC_ERR_STALE: return "the handle kept changing meanwhile (other updates won every race)";
    case IMC_ERR_EXISTS:
        return "this device id is registered already, or was revoked (ids are never reused)";
    case IMC_ERR_LIMIT: return "the handle has the maximum number of devices";
    case IMC_ERR_NOT_FOUND: return "that device is not an active device of this handle";
    case IMC_ERR_AUTH:
        return "refused: a signature does not verify, or the signer is not an active device of "
               "this handle";
    case IMC_ERR_WEAK_KEY:
        return "refused: the device's DH public key is rejected by the validation policy";
    default: return imc_status_str(st);
    }
}

/* What an update command signs: the keys are loaded once, and the update
 * is signed again for the handle's current epoch at each attempt. */
typedef enum update_kind { UPD_REGISTER, UPD_ROTATE, UPD_REVOKE } update_kind;
typedef struct update_job {
    update_kind kind;
    const imc_device_keys *keys, *new_keys; /* new_keys: rotate only */
    uint64_t target;                        /* revoke only */
} update_job;

/* Attempts of an update that lost a race: another writer committed to the
 * handle between reading its epoch and applying (IMC_ERR_STALE). */
#define UPDATE_ATTEMPTS 8

static imc_status sign_job(uint8_t *upd, size_t *upd_len, const dir_ctx *c, const update_job *j,
                           const uint8_t pk[IMC_DIR_PUBLIC_BYTES], const uint8_t *h, size_t h_len,
                           uint64_t epoch)
{
    size_t cap = IMC_DIR_UPDATE_MAX_BYTES;
    switch (j->kind) {
    case UPD_REGISTER:
        return imc_dir_sign_register(upd, cap, upd_len, c->b, pk, h, h_len, epoch, j->keys);
    case UPD_ROTATE:
        return imc_dir_sign_rotate(upd, cap, upd_len, c->b, pk, h, h_len, epoch, j->keys,
                                   j->new_keys);
    case UPD_REVOKE:
        return imc_dir_sign_revoke(upd, cap, upd_len, c->b, pk, h, h_len, epoch, j->target,
                                   j->keys);
    }
    return IMC_ERR_ARG;
}

/* Reads the handle's epoch, signs, applies; again on a lost race. */
static int apply_job(const cli_args *a, dir_ctx *c, const uint8_t *h, size_t h_len,
                     const update_job *j, uint64_t now)
{
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], upd[IMC_DIR_UPDATE_MAX_BYTES];
    size_t len = 0, upd_len = 0;
    imc_dir_public_key(pk, &c->d);
    uint8_t *resp = malloc(IMC_DIR_RESPONSE_MAX_BYTES(1));
    imc_dir_record *rec = malloc(sizeof *rec);
    imc_status st = resp == NULL || rec == NULL ? IMC_ERR_NOMEM : IMC_OK;
    int rc = CLI_CONTINUE;
    for (unsigned attempt = 1; st == IMC_OK; attempt++) {
        st = imc_dir_get(rec, &c->d, h, h_len);
        if (st != IMC_OK) {
            cli_err(a->prog, "cannot read the handle: %s", imc_status_str(st));
            rc = CLI_EXIT_FAIL;
            break;
        }
        st = sign_job(upd, &upd_len, c, j, pk, h, h_len, rec->epoch);
        if (st != IMC_OK) {
            cli_err(a->prog, "cannot sign the update: %s", imc_status_str(st));
            rc = CLI_EXIT_FAIL;
            break;
        }
        st = imc_dir_update(resp, IMC_DIR_RESPONSE_MAX_BYTES(1), &len, &c->d, now, upd, upd_len);
        if (st == IMC_ERR_STALE && attempt < UPDATE_ATTEMPTS)
            st = IMC_OK; /* another writer was first: read the new epoch, sign again */
        else
            break;
    }
    if (rc == CLI_CONTINUE && st != IMC_OK) {
        cli_err(a->prog, "%s", st == IMC_ERR_NOMEM ? imc_status_str(st) : update_error(st));
        rc = CLI_EXIT_FAIL;
    } else if (rc == CLI_CONTINUE) {
        rc = report_response(a, c, resp, len);
    }
    imc_wipe(upd, sizeof upd);
    free(rec);
    free(resp);
    return rc;
}

/* ---- init ------------------------------------------------------------------ */

static int run_init(const cli_args *a)
{
    const imc_backend *b = NULL;
    char kpath[PATH_MAX_LEN], ppath[PATH_MAX_LEN];
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = key_path(a, kpath, ".key");
    if (rc == CLI_CONTINUE)
        rc = key_path(a, ppath, ".pub");
    if (rc != CLI_CONTINUE)
        return rc;
    const char *db = cli_get(a, "db", "");
    if (access(db, F_OK) == 0) {
        cli_err(a->prog, "'%s' exists already", db);
        return CLI_EXIT_FAIL;
    }
    uint8_t pk[IMC_DIR_PUBLIC_BYTES], sk[IMC_DIR_SECRET_BYTES];
    imc_status st = imc_dir_keygen(b, NULL, pk, sk);
    if (st != IMC_OK) {
        cli_err(a->prog, "key generation failed: %s", imc_status_str(st));
        return CLI_EXIT_FAIL;
    }
    rc = cli_write_file(a->prog, kpath, sk, sizeof sk, 0600, CLI_WRITE_NO_CLOBBER);
    if (rc == CLI_CONTINUE) {
        rc = cli_write_file(a->prog, ppath, pk, sizeof pk, 0644, CLI_WRITE_NO_CLOBBER);
        if (rc != CLI_CONTINUE)
            unlink(kpath);
    }
    if (rc == CLI_CONTINUE) {
        imc_dir_store store;
        imc_dir d;
        errno = 0;
        st = imc_dir_store_lmdb_open(&store, db, NULL);
        if (st == IMC_OK) {
            st = imc_dir_init(&d, b, store, sk, NULL);
            imc_dir_wipe(&d);
            imc_dir_store_close(&store);
        }
        if (st != IMC_OK) {
            (void)cli_store_error(a->prog, "directory", db, st);
            unlink(kpath);
            unlink(ppath);
            rc = CLI_EXIT_FAIL;
        }
    }
    imc_wipe(sk, sizeof sk);
    if (rc != CLI_CONTINUE)
        return rc;
    printf("%s %s %s public key ", db, kpath, ppath);
    cli_put_hex(stdout, pk, sizeof pk);
    putchar('\n');
    return CLI_EXIT_OK;
}

/* ---- register / rotate / revoke ---------------------------------------- */

/* The directory and --handle, for an update command. */
static int update_open(const cli_args *a, dir_ctx *c, uint8_t h[IMC_MAX_HANDLE_BYTES],
                       size_t *h_len, uint64_t *now)
{
    int rc = CLI_CONTINUE;
    *now = now_ms(a, &rc);
    if (rc == CLI_CONTINUE)
        rc = get_handle(a, cli_get(a, "handle", ""), h, h_len);
    if (rc == CLI_CONTINUE)
        rc = open_dir(a, c, false);
    return rc;
}

static int run_register(const cli_args *a)
{
    dir_ctx c;
    imc_device_keys dev;
    uint8_t h[IMC_MAX_HANDLE_BYTES];
    size_t h_len = 0;
    uint64_t now = 0;
    int rc = update_open(a, &c, h, &h_len, &now);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_load_secret(a->prog, c.b, cli_get(a, "key", ""), &dev);
    if (rc == CLI_CONTINUE) {
        update_job j = {UPD_REGISTER, &dev, NULL, 0};
        rc = apply_job(a, &c, h, h_len, &j, now);
        imc_keys_wipe(&dev);
    }
    close_dir(&c);
    return rc;
}

static int run_rotate(const cli_args *a)
{
    dir_ctx c;
    imc_device_keys old_keys, new_keys;
    uint8_t h[IMC_MAX_HANDLE_BYTES];
    size_t h_len = 0;
    uint64_t now = 0;
    int rc = update_open(a, &c, h, &h_len, &now);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_load_secret(a->prog, c.b, cli_get(a, "key", ""), &old_keys);
    if (rc == CLI_CONTINUE) {
        rc = cli_load_secret(a->prog, c.b, cli_get(a, "new-key", ""), &new_keys);
        if (rc == CLI_CONTINUE && new_keys.pub.device_id != old_keys.pub.device_id) {
            cli_err(a->prog,
                    "--new-key is for device %llu, --key for device %llu: a rotation "
                    "keeps the device id",
                    (unsigned long long)new_keys.pub.device_id,
                    (unsigned long long)old_keys.pub.device_id);
            rc = CLI_EXIT_FAIL;
        }
        if (rc == CLI_CONTINUE) {
            update_job j = {UPD_ROTATE, &old_keys, &new_keys, 0};
            rc = apply_job(a, &c, h, h_len, &j, now);
        }
        imc_keys_wipe(&new_keys);
        imc_keys_wipe(&old_keys);
    }
    close_dir(&c);
    return rc;
}

static int run_revoke(const cli_args *a)
{
    dir_ctx c;
    imc_device_keys signer;
    uint8_t h[IMC_MAX_HANDLE_BYTES];
    size_t h_len = 0;
    uint64_t now = 0, target = 0;
    int rc = cli_get_device_id(a, "device-id", &target);
    if (rc == CLI_CONTINUE)
        rc = update_open(a, &c, h, &h_len, &now);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_load_secret(a->prog, c.b, cli_get(a, "key", ""), &signer);
    if (rc == CLI_CONTINUE) {
        update_job j = {UPD_REVOKE, &signer, NULL, target};
        rc = apply_job(a, &c, h, h_len, &j, now);
        imc_keys_wipe(&signer);
    }
    close_dir(&c);
    return rc;
}

/* ---- lookup -------------------------------------------------------------------- */

static int run_lookup(const cli_args *a)
{
    size_t n = cli_count(a, "handle");
    if (n > IMC_DIR_MAX_BATCH) {
        cli_err(a->prog, "at most %d handles per lookup", IMC_DIR_MAX_BATCH);
        return CLI_EXIT_USAGE;
    }
    int rc = CLI_CONTINUE;
    uint64_t now = now_ms(a, &rc);
    if (rc != CLI_CONTINUE)
        return rc;
    static uint8_t names[IMC_DIR_MAX_BATCH][IMC_MAX_HANDLE_BYTES];
    imc_dir_handle hs[IMC_DIR_MAX_BATCH];
    for (size_t i = 0; i < n && rc == CLI_CONTINUE; i++) {
        rc = get_handle(a, cli_get_nth(a, "handle", i), names[i], &hs[i].len);
        hs[i].bytes = names[i];
        for (size_t j = 0; j < i && rc == CLI_CONTINUE; j++)
            if (hs[j].len == hs[i].len && memcmp(hs[j].bytes, hs[i].bytes, hs[i].len) == 0) {
                cli_err(a->prog, "option --handle: '%s' is given twice",
                        cli_get_nth(a, "handle", i));
                rc = CLI_EXIT_USAGE;
            }
    }
    dir_ctx c;
    if (rc == CLI_CONTINUE)
        rc = open_dir(a, &c, true);
    if (rc != CLI_CONTINUE)
        return rc;
    size_t cap = IMC_DIR_RESPONSE_MAX_BYTES(n), len = 0;
    uint8_t *resp = malloc(cap);
    imc_status st =
        resp == NULL ? IMC_ERR_NOMEM : imc_dir_lookup_batch(resp, cap, &len, &c.d, now, hs, n);
    if (st != IMC_OK) {
        cli_err(a->prog, "lookup failed: %s", imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else {
        rc = report_response(a, &c, resp, len);
    }
    free(resp);
    close_dir(&c);
    return rc;
}

/* ---- export ---------------------------------------------------------------------- */

typedef struct export_ctx {
    bool json;
    size_t handles, devices;
} export_ctx;

static int export_one(void *vctx, const imc_dir_record *rec)
{
    export_ctx *x = vctx;
    if (x->json)
        print_record_json(stdout, rec, UINT64_MAX);
    else
        print_record_text(stdout, rec, UINT64_MAX);
    x->handles++;
    x->devices += rec->device_count;
    return 0;
}

static int run_export(const cli_args *a)
{
    dir_ctx c;
    int rc = open_dir(a, &c, true);
    if (rc != CLI_CONTINUE)
        return rc;
    export_ctx x = {cli_flag(a, "json"), 0, 0};
    uint64_t global = 0;
    imc_status st = imc_dir_check(&c.d);
    if (st == IMC_OK)
        st = imc_dir_global_epoch(&global, &c.d);
    if (st == IMC_OK)
        st = imc_dir_scan(&c.d, export_one, &x);
    if (st != IMC_OK) {
        cli_err(a->prog, "the directory does not check: %s", imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else {
        uint8_t pk[IMC_DIR_PUBLIC_BYTES];
        imc_dir_public_key(pk, &c.d);
        fprintf(stderr, "%s: %zu handles, %zu active devices, global epoch %llu, key ", a->prog,
                x.handles, x.devices, (unsigned long long)global);
        cli_put_hex(stderr, pk, sizeof pk);
        fputs(", consistent\n", stderr);
        rc = fflush(stdout) == 0 ? CLI_CONTINUE : CLI_EXIT_FAIL;
    }
    close_dir(&c);
    return rc;
}

/* ---- Command table ------------------------------------------------------------ */

/* Options shared by the subcommands (one line each: the help is short). */
#define OPT_DB {"db", CLI_OPT_VALUE, true, "FILE", "the LMDB directory file (key: FILE.key)"}
#define OPT_BACKEND {"backend", CLI_OPT_VALUE, false, "NAME", CLI_BACKEND_HELP}
#define OPT_NOW {"now", CLI_OPT_VALUE, false, "MS", "issue time, ms since 1970 (default: now)"}
#define OPT_OUT {"out", CLI_OPT_VALUE, false, "FILE", "also write the signed answer to FILE"}
#define OPT_FORCE {"force", CLI_OPT_FLAG, false, NULL, "replace --out if it exists"}
#define OPT_JSON {"json", CLI_OPT_FLAG, false, NULL, "print one JSON line per handle"}
#define OPT_HANDLE {"handle", CLI_OPT_VALUE, true, "H", "+14155550100 or an e-mail address"}

static const cli_opt init_opts[] = {OPT_DB, OPT_BACKEND};
static const cli_opt register_opts[] = {
    OPT_DB,
    OPT_HANDLE,
    {"key", CLI_OPT_VALUE, true, "FILE",
     "the device's secret key file (it signs its registration)"},
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    OPT_BACKEND,
};
static const cli_opt rotate_opts[] = {
    OPT_DB,
    OPT_HANDLE,
    {"key", CLI_OPT_VALUE, true, "FILE", "the device's current secret key file"},
    {"new-key", CLI_OPT_VALUE, true, "FILE", "its new secret key file (same device id)"},
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    OPT_BACKEND,
};
static const cli_opt revoke_opts[] = {
    OPT_DB,
    OPT_HANDLE,
    {"device-id", CLI_OPT_VALUE, true, "N", "the device to revoke"},
    {"key", CLI_OPT_VALUE, true, "FILE",
     "secret key file of the signer: that device or another of the handle"},
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    OPT_BACKEND,
};
static const cli_opt lookup_opts[] = {
    {"db", CLI_OPT_VALUE, true, "FILE", "the LMDB directory file (its key: FILE.key)"},
    {"handle", CLI_OPT_MULTI, true, "H", "a handle to look up (repeat for a batch, up to 256)"},
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    OPT_BACKEND,
};
static const cli_opt export_opts[] = {OPT_DB, OPT_JSON, OPT_BACKEND};

static const cli_cmd dir_init = {
    .name = "init",
    .summary = "Create an LMDB directory file and the directory's signing key",
    .opts = init_opts,
    .opt_count = CLI_ARRAY_LEN(init_opts),
    .details = "Writes FILE (the database), FILE.key (the Ed25519 secret, mode 0600) and FILE.pub\n"
               "(the 32-byte public key clients pin). Nothing existing is overwritten.\n"
               "Prints: FILE KEY-FILE PUBLIC-FILE public key HEX\n",
    .run = run_init,
};
static const cli_cmd dir_register = {
    .name = "register",
    .summary = "Register a device under a handle (signed by the device)",
    .opts = register_opts,
    .opt_count = CLI_ARRAY_LEN(register_opts),
    .inputs = "db key",
    .details = "The handle is normalised (phone numbers to E.164, e-mail addresses lower-cased;\n"
               "docs/directory.md). Device ids are unique in the directory and never reused.\n"
               "Prints the handle's new entry, as the directory signed it.\n",
    .run = run_register,
};
static const cli_cmd dir_rotate = {
    .name = "rotate",
    .summary = "Replace a device's keys (signed by its old and its new key)",
    .opts = rotate_opts,
    .opt_count = CLI_ARRAY_LEN(rotate_opts),
    .inputs = "db key new-key",
    .run = run_rotate,
};
static const cli_cmd dir_revoke = {
    .name = "revoke",
    .summary = "Revoke a device (signed by it or another device of the handle)",
    .opts = revoke_opts,
    .opt_count = CLI_ARRAY_LEN(revoke_opts),
    .inputs = "db key",
    .run = run_revoke,
};
static const cli_cmd dir_lookup = {
    .name = "lookup",
    .summary = "Look handles up: the signed entries a client would get",
    .opts = lookup_opts,
    .opt_count = CLI_ARRAY_LEN(lookup_opts),
    .inputs = "db",
    .details = "A handle never registered is answered too (epoch 0, no devices). --out writes\n"
               "the signed lookup response (docs/wire-format.md, \"Key directory\").\n",
    .run = run_lookup,
};
static const cli_cmd dir_export = {
    .name = "export",
    .summary = "Check the directory and list every handle with its devices",
    .opts = export_opts,
    .opt_count = CLI_ARRAY_LEN(export_opts),
    .details = "Runs the full consistency check first; a summary goes to standard error.\n",
    .run = run_export,
};

static const cli_cmd *const dir_subs[] = {&dir_init,   &dir_register, &dir_rotate,
                                          &dir_revoke, &dir_lookup,   &dir_export};

const cli_cmd cli_cmd_dir = {
    .name = "dir",
    .summary = "Key directory on an LMDB file: init|register|rotate|revoke|lookup|export",
    .sub = dir_subs,
    .sub_count = CLI_ARRAY_LEN(dir_subs),
};
