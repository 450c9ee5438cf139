/* Directory commands: imcore dir init|register|rotate|revoke|account-rotate|
 * reset|lookup|export|check|checkpoint|audit|add-cosignature, on an LMDB
 * directory file (docs/directory.md; the transparency log:
 * docs/transparency.md).
 *
 * The directory's Ed25519 key lives next to the database: DB.key (the
 * 32-byte secret seed, mode 0600) and DB.pub (the 32-byte public key that
 * clients pin). The update commands act as the account's devices would:
 * they load the account key file (imcore account keygen) and the device
 * key files, sign the new device list and the update for the handle's
 * current record, and apply it; --out keeps the directory's signed answer
 * (the push the account's devices get). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "imcore/dir.h"
#include "imcore/dirkt.h"
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

/* Why imc_dir_init refused the file, in one line. */
static int init_error(const cli_args *a, const char *db, imc_status st)
{
    cli_err(a->prog, "'%s': %s", db,
            st == IMC_ERR_AUTH ? "the key in the .key file is not this directory's key"
            : st == IMC_ERR_UNSUPPORTED
                ? "the file is of another format (one from before the transparency "
                  "log has no history to build it from: rebuild the directory)"
                : imc_status_str(st));
    return CLI_EXIT_FAIL;
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
            /* The file must be a directory of this format before it is
             * opened for writing (which would add the tables of a newer
             * format to an older file). */
            imc_status ok = imc_dir_init(&c->d, c->b, c->store, sk, NULL);
            imc_dir_wipe(&c->d);
            if (ok != IMC_OK) {
                rc = init_error(a, db, ok);
                imc_dir_store_close(&c->store);
                imc_wipe(sk, sizeof sk);
                return rc;
            }
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
            rc = init_error(a, db, st);
            imc_dir_store_close(&c->store);
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
    return cli_normalise_handle(a->prog, "handle", text, out, len);
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

/* One JSON object per handle, in the convention of docs/cli.md ("JSON"),
 * without its closing brace (callers may add fields). */
static void print_record_json_fields(FILE *out, const imc_dir_record *rec, uint64_t global)
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
    fputs("]", out);
}

/* One JSON line per handle. */
static void print_record_json(FILE *out, const imc_dir_record *rec, uint64_t global)
{
    print_record_json_fields(out, rec, global);
    fputs("}\n", out);
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
        return "refused: a signature does not verify, or the new device list is not signed by "
               "this account's key";
    case IMC_ERR_ARG: return "nothing to do (no such account, or the device is listed already)";
    case IMC_ERR_WEAK_KEY:
        return "refused: the device's DH public key is rejected by the validation policy";
    default: return imc_status_str(st);
    }
}

/* What an update command signs: the keys are loaded once, and the update
 * is signed again for the handle's current epoch at each attempt. */
typedef enum update_kind {
    UPD_REGISTER,
    UPD_ROTATE,
    UPD_REVOKE,
    UPD_ACCOUNT_ROTATE,
    UPD_RESET
} update_kind;
typedef struct update_job {
    update_kind kind;
    const imc_device_keys *keys, *new_keys; /* new_keys: rotate only */
    uint64_t target;                        /* revoke only */
    const uint8_t *account_sk;              /* the account key (the new one for a reset) */
    const uint8_t *new_account_sk;          /* account rotation only */
} update_job;

/* Attempts of an update that lost a race: another writer committed to the
 * handle between reading its epoch and applying (IMC_ERR_STALE). */
#define UPDATE_ATTEMPTS 8

/* Signs the job against the handle's current record (as a device would
 * have it from a lookup). */
static imc_status sign_job(uint8_t *upd, size_t *upd_len, const dir_ctx *c, const update_job *j,
                           const uint8_t pk[IMC_DIR_PUBLIC_BYTES], const imc_dir_record *cur)
{
    size_t cap = IMC_DIR_UPDATE_MAX_BYTES;
    const uint8_t *ask = j->account_sk;
    switch (j->kind) {
    case UPD_REGISTER: return imc_dir_sign_register(upd, cap, upd_len, c->b, pk, cur, ask, j->keys);
    case UPD_ROTATE:
        return imc_dir_sign_rotate(upd, cap, upd_len, c->b, pk, cur, ask, j->keys, j->new_keys);
    case UPD_REVOKE: return imc_dir_sign_revoke(upd, cap, upd_len, c->b, pk, cur, ask, j->target);
    case UPD_ACCOUNT_ROTATE:
        return imc_dir_sign_account_rotate(upd, cap, upd_len, c->b, pk, cur, ask,
                                           j->new_account_sk);
    case UPD_RESET:
        return imc_dir_sign_account_reset(upd, cap, upd_len, c->b, pk, cur, ask, j->keys);
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
        st = sign_job(upd, &upd_len, c, j, pk, rec);
        if (st != IMC_OK) {
            cli_err(a->prog, "%s",
                    st == IMC_ERR_NOT_FOUND || st == IMC_ERR_ARG || st == IMC_ERR_LIMIT
                        ? update_error(st)
                        : imc_status_str(st));
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

/* register and reset: a device key and an account key (register: the
 * account's own; reset: the account key that replaces it). */
static int run_device_job(const cli_args *a, update_kind kind, const char *account_key_option)
{
    dir_ctx c;
    imc_device_keys dev;
    uint8_t h[IMC_MAX_HANDLE_BYTES], ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    size_t h_len = 0;
    uint64_t now = 0;
    int rc = update_open(a, &c, h, &h_len, &now);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_load_account_key(a->prog, cli_get(a, account_key_option, ""), ask);
    if (rc == CLI_CONTINUE)
        rc = cli_load_secret(a->prog, c.b, cli_get(a, "key", ""), &dev);
    if (rc == CLI_CONTINUE) {
        update_job j = {kind, &dev, NULL, 0, ask, NULL};
        rc = apply_job(a, &c, h, h_len, &j, now);
        imc_keys_wipe(&dev);
    }
    imc_wipe(ask, sizeof ask);
    close_dir(&c);
    return rc;
}

static int run_register(const cli_args *a)
{
    return run_device_job(a, UPD_REGISTER, "account-key");
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
    uint8_t ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    rc = cli_load_account_key(a->prog, cli_get(a, "account-key", ""), ask);
    if (rc == CLI_CONTINUE)
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
            update_job j = {UPD_ROTATE, &old_keys, &new_keys, 0, ask, NULL};
            rc = apply_job(a, &c, h, h_len, &j, now);
        }
        imc_keys_wipe(&new_keys);
        imc_keys_wipe(&old_keys);
    }
    imc_wipe(ask, sizeof ask);
    close_dir(&c);
    return rc;
}

static int run_revoke(const cli_args *a)
{
    dir_ctx c;
    uint8_t h[IMC_MAX_HANDLE_BYTES], ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    size_t h_len = 0;
    uint64_t now = 0, target = 0;
    int rc = cli_get_device_id(a, "device-id", &target);
    if (rc == CLI_CONTINUE)
        rc = update_open(a, &c, h, &h_len, &now);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_load_account_key(a->prog, cli_get(a, "account-key", ""), ask);
    if (rc == CLI_CONTINUE) {
        update_job j = {UPD_REVOKE, NULL, NULL, target, ask, NULL};
        rc = apply_job(a, &c, h, h_len, &j, now);
    }
    imc_wipe(ask, sizeof ask);
    close_dir(&c);
    return rc;
}

static int run_account_rotate(const cli_args *a)
{
    dir_ctx c;
    uint8_t h[IMC_MAX_HANDLE_BYTES], ask[IMC_DIR_ACCOUNT_SECRET_BYTES];
    uint8_t nsk[IMC_DIR_ACCOUNT_SECRET_BYTES];
    size_t h_len = 0;
    uint64_t now = 0;
    int rc = update_open(a, &c, h, &h_len, &now);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_load_account_key(a->prog, cli_get(a, "account-key", ""), ask);
    if (rc == CLI_CONTINUE)
        rc = cli_load_account_key(a->prog, cli_get(a, "new-account-key", ""), nsk);
    if (rc == CLI_CONTINUE) {
        update_job j = {UPD_ACCOUNT_ROTATE, NULL, NULL, 0, ask, nsk};
        rc = apply_job(a, &c, h, h_len, &j, now);
    }
    imc_wipe(ask, sizeof ask);
    imc_wipe(nsk, sizeof nsk);
    close_dir(&c);
    return rc;
}

static int run_reset(const cli_args *a)
{
    return run_device_job(a, UPD_RESET, "new-account-key");
}

/* ---- Transparency (docs/transparency.md, "The directory's log") ------------- */

/* Serves a transparency request on the open directory into a new buffer. */
static imc_status kt_serve(dir_ctx *c, uint64_t now, const uint8_t *req, size_t req_len,
                           size_t cap, uint8_t **resp, size_t *len)
{
    *resp = malloc(cap);
    if (*resp == NULL)
        return IMC_ERR_NOMEM;
    imc_status st = imc_dir_serve(*resp, cap, len, &c->d, now, req, req_len);
    if (st != IMC_OK) {
        free(*resp);
        *resp = NULL;
    }
    return st;
}

/* Checks a response's checkpoint as a client that holds none would: the
 * note parses and carries the directory's log signature. *cp receives it. */
static imc_status kt_check_head(dir_ctx *c, const imc_dir_kt_head *h, imc_kt_checkpoint *cp)
{
    char vkey[IMC_KT_VKEY_MAX];
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    imc_status st = imc_dir_kt_vkey(vkey, &c->d);
    if (st == IMC_OK)
        st = imc_kt_vkey_parse(&cfg.log, c->b, vkey, strlen(vkey));
    imc_kt_client *cl = malloc(sizeof *cl);
    if (st == IMC_OK && cl == NULL)
        st = IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_kt_client_init(cl, c->b, &cfg);
    if (st == IMC_OK)
        st = imc_kt_client_update(cl, NULL, h->note, h->note_len, NULL, 0);
    if (st == IMC_OK)
        st = imc_kt_client_checkpoint(cp, cl);
    free(cl);
    return st;
}

static int kt_known_size(const cli_args *a, uint64_t *known)
{
    return cli_get_u64(a, "known-size", 0, known);
}

/* dir lookup --proofs: the answers with their leaves and proofs, each
 * verified against the response's checkpoint. */
static int lookup_proofs(const cli_args *a, dir_ctx *c, uint64_t now, const imc_dir_handle *hs,
                         size_t n)
{
    uint64_t known = 0;
    int rc = kt_known_size(a, &known);
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t *req = malloc(IMC_DIR_KT_REQUEST_MAX_BYTES), *resp = NULL;
    size_t req_len = 0, len = 0;
    imc_status st = req == NULL ? IMC_ERR_NOMEM
                                : imc_dir_kt_encode_lookup(req, IMC_DIR_KT_REQUEST_MAX_BYTES,
                                                           &req_len, known, hs, n);
    if (st == IMC_OK)
        st = kt_serve(c, now, req, req_len, IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(n), &resp, &len);
    free(req);
    if (st != IMC_OK) {
        cli_err(a->prog, "lookup failed: %s",
                st == IMC_ERR_STALE ? "--known-size is larger than the directory's log"
                                    : imc_status_str(st));
        return CLI_EXIT_FAIL;
    }
    imc_dir_kt_lookup_response *r = malloc(sizeof *r);
    imc_dir_kt_answer *ans = malloc(sizeof *ans);
    imc_kt_checkpoint cp;
    uint8_t pk[IMC_DIR_PUBLIC_BYTES];
    imc_dir_public_key(pk, &c->d);
    st = r == NULL || ans == NULL ? IMC_ERR_NOMEM : imc_dir_kt_parse_lookup(r, resp, len);
    if (st == IMC_OK)
        st = kt_check_head(c, &r->head, &cp);
    bool json = cli_flag(a, "json");
    size_t off = 0;
    for (size_t i = 0; st == IMC_OK && i < r->count; i++) {
        imc_dir_kt_leaf leaf;
        uint64_t at = 0;
        st = imc_dir_kt_lookup_next(ans, &off, r);
        if (st == IMC_OK)
            st = imc_dir_kt_answer_verify(&leaf, &at, c->b, pk, &cp, ans);
        if (st != IMC_OK)
            break;
        const imc_dir_record *rec = &ans->entry.rec;
        if (json) {
            print_record_json_fields(stdout, rec, ans->entry.global_epoch);
            fputs(", \"log_size\": ", stdout);
            cli_put_json_u64(stdout, cp.size);
            if (rec->epoch != 0) {
                fputs(", \"leaf_index\": ", stdout);
                cli_put_json_u64(stdout, at);
            }
            fputs("}\n", stdout);
        } else {
            print_record_text(stdout, rec, ans->entry.global_epoch);
            if (rec->epoch != 0)
                printf("  proofs: leaf %llu of a log of %llu, in the index\n",
                       (unsigned long long)at, (unsigned long long)cp.size);
            else
                printf("  proofs: absent from the index of a log of %llu\n",
                       (unsigned long long)cp.size);
        }
    }
    free(r);
    free(ans);
    if (st != IMC_OK) {
        cli_err(a->prog, "the directory's answer does not check: %s", imc_status_str(st));
        free(resp);
        return CLI_EXIT_FAIL;
    }
    const char *out = cli_get(a, "out", NULL);
    rc = out != NULL ? cli_write_output(a, out, resp, len, 0644) : CLI_CONTINUE;
    free(resp);
    return rc;
}

static int run_checkpoint(const cli_args *a)
{
    uint64_t known = 0;
    int rc = kt_known_size(a, &known);
    const char *out = cli_get(a, "out", NULL);
    if (rc == CLI_CONTINUE && out != NULL)
        rc = cli_check_output(a, out);
    dir_ctx c;
    if (rc == CLI_CONTINUE)
        rc = open_dir(a, &c, true);
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t req[16], *resp = NULL;
    size_t req_len = 0, len = 0;
    imc_dir_kt_head h;
    imc_kt_checkpoint cp;
    char vkey[IMC_KT_VKEY_MAX];
    imc_status st = imc_dir_kt_encode_head(req, sizeof req, &req_len, known);
    if (st == IMC_OK)
        st = kt_serve(&c, 0, req, req_len, IMC_DIR_KT_HEAD_MAX_BYTES, &resp, &len);
    if (st == IMC_OK)
        st = imc_dir_kt_parse_head(&h, resp, len);
    if (st == IMC_OK)
        st = kt_check_head(&c, &h, &cp);
    if (st == IMC_OK)
        st = imc_dir_kt_vkey(vkey, &c.d);
    if (st != IMC_OK) {
        cli_err(a->prog, "%s",
                st == IMC_ERR_STALE ? "--known-size is larger than the directory's log"
                                    : imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else if (cli_flag(a, "vkey")) {
        printf("%s\n", vkey);
    } else if (cli_flag(a, "json")) {
        fputs("{\"origin\": ", stdout);
        cli_put_json_string(stdout, (const uint8_t *)cp.origin, cp.origin_len);
        fputs(", \"size\": ", stdout);
        cli_put_json_u64(stdout, cp.size);
        fputs(", \"epoch\": ", stdout);
        cli_put_json_u64(stdout, cp.epoch);
        fputs(", \"root\": \"", stdout);
        cli_put_hex(stdout, cp.root, sizeof cp.root);
        fputs("\", \"index_root\": \"", stdout);
        cli_put_hex(stdout, cp.index_root, sizeof cp.index_root);
        fputs("\", \"vkey\": ", stdout);
        cli_put_json_string(stdout, (const uint8_t *)vkey, strlen(vkey));
        fputs(", \"note\": ", stdout);
        cli_put_json_string(stdout, h.note, h.note_len);
        fputs("}\n", stdout);
    } else {
        fwrite(h.note, 1, h.note_len, stdout);
    }
    if (rc == CLI_CONTINUE && out != NULL)
        rc = cli_write_output(a, out, resp, len, 0644);
    if (rc == CLI_CONTINUE && fflush(stdout) != 0)
        rc = CLI_EXIT_FAIL;
    free(resp);
    close_dir(&c);
    return rc;
}

/* Prints each verified leaf of an audit. */
typedef struct audit_print {
    bool json;
    uint64_t since; /* the first version to print */
    size_t count;
} audit_print;

static int print_leaf(void *ctx, const imc_dir_kt_leaf *leaf, uint64_t index,
                      const uint8_t hash[IMC_KT_HASH_BYTES])
{
    audit_print *p = ctx;
    if (leaf->version < p->since)
        return 0; /* the anchor below --since */
    p->count++;
    if (p->json) {
        fputs("{\"handle\": ", stdout);
        cli_put_json_string(stdout, leaf->handle, leaf->handle_len);
        fputs(", \"version\": ", stdout);
        cli_put_json_u64(stdout, leaf->version);
        fputs(", \"leaf_index\": ", stdout);
        cli_put_json_u64(stdout, index);
        fputs(", \"account_pk\": \"", stdout);
        cli_put_hex(stdout, leaf->account_pk, sizeof leaf->account_pk);
        fputs("\", \"list_hash\": \"", stdout);
        cli_put_hex(stdout, leaf->list_hash, sizeof leaf->list_hash);
        fputs("\", \"leaf_hash\": \"", stdout);
        cli_put_hex(stdout, hash, IMC_KT_HASH_BYTES);
        fputs("\"}\n", stdout);
        return 0;
    }
    printf("%.*s version %llu leaf %llu account ", (int)leaf->handle_len,
           (const char *)leaf->handle, (unsigned long long)leaf->version,
           (unsigned long long)index);
    cli_put_hex(stdout, leaf->account_pk, sizeof leaf->account_pk);
    fputs(" list ", stdout);
    cli_put_hex(stdout, leaf->list_hash, sizeof leaf->list_hash);
    fputc('\n', stdout);
    return 0;
}

static int run_audit(const cli_args *a)
{
    uint8_t h[IMC_MAX_HANDLE_BYTES];
    size_t h_len = 0;
    uint64_t known = 0, since = 1;
    int rc = get_handle(a, cli_get(a, "handle", ""), h, &h_len);
    if (rc == CLI_CONTINUE)
        rc = kt_known_size(a, &known);
    if (rc == CLI_CONTINUE)
        rc = cli_get_u64(a, "since", 1, &since);
    if (rc == CLI_CONTINUE && since == 0) {
        cli_err(a->prog, "option --since: versions start at 1");
        rc = CLI_EXIT_USAGE;
    }
    const char *out = cli_get(a, "out", NULL);
    if (rc == CLI_CONTINUE && out != NULL)
        rc = cli_check_output(a, out);
    dir_ctx c;
    if (rc == CLI_CONTINUE)
        rc = open_dir(a, &c, true);
    if (rc != CLI_CONTINUE)
        return rc;
    /* From the version before --since, inclusive: an answer with nothing
     * after it is then still checked (the leaf of that version is the
     * index value), as a device asks from the version it holds. */
    uint64_t from = since > 1 ? since - 1 : 1;
    uint8_t req[16 + IMC_MAX_HANDLE_BYTES + 8], *resp = NULL;
    size_t req_len = 0, len = 0;
    imc_status st = imc_dir_kt_encode_audit(req, sizeof req, &req_len, known, h, h_len, from);
    if (st == IMC_OK)
        st = kt_serve(&c, 0, req, req_len, IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES, &resp, &len);
    imc_dir_kt_audit_response *r = malloc(sizeof *r);
    imc_kt_checkpoint cp;
    bool complete = false;
    audit_print p = {cli_flag(a, "json"), since, 0};
    if (st == IMC_OK && r == NULL)
        st = IMC_ERR_NOMEM;
    if (st == IMC_OK)
        st = imc_dir_kt_parse_audit(r, resp, len);
    if (st == IMC_OK)
        st = kt_check_head(&c, &r->head, &cp);
    if (st == IMC_OK)
        st = imc_dir_kt_audit_verify(&complete, c.b, &cp, r, NULL, print_leaf, &p);
    if (st == IMC_ERR_ARG) {
        cli_err(a->prog, "--since %llu is beyond the handle's latest version %llu plus one",
                (unsigned long long)since, (unsigned long long)r->latest);
        rc = CLI_EXIT_FAIL;
    } else if (st != IMC_OK) {
        cli_err(a->prog, "audit failed: %s",
                st == IMC_ERR_STALE ? "--known-size is larger than the directory's log"
                                    : imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else {
        fprintf(stderr, "%s: %zu leaves from version %llu, latest version %llu, log of %llu",
                a->prog, p.count, (unsigned long long)since, (unsigned long long)r->latest,
                (unsigned long long)cp.size);
        if (complete)
            fputs(", complete\n", stderr);
        else
            fprintf(stderr, ", more from --since %llu\n",
                    (unsigned long long)(from + r->count));
        if (out != NULL)
            rc = cli_write_output(a, out, resp, len, 0644);
        if (rc == CLI_CONTINUE && fflush(stdout) != 0)
            rc = CLI_EXIT_FAIL;
    }
    free(r);
    free(resp);
    close_dir(&c);
    return rc;
}

static int run_check(const cli_args *a)
{
    dir_ctx c;
    int rc = open_dir(a, &c, true);
    if (rc != CLI_CONTINUE)
        return rc;
    uint64_t global = 0;
    imc_status st = imc_dir_check(&c.d);
    if (st == IMC_OK)
        st = imc_dir_global_epoch(&global, &c.d);
    if (st != IMC_OK) {
        cli_err(a->prog, "the directory does not check: %s", imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else {
        printf("consistent: global epoch %llu, a log of %llu leaves, index and checkpoint "
               "recomputed from it\n",
               (unsigned long long)global, (unsigned long long)global);
        rc = fflush(stdout) == 0 ? CLI_CONTINUE : CLI_EXIT_FAIL;
    }
    close_dir(&c);
    return rc;
}

static int run_add_cosignature(const cli_args *a)
{
    const imc_backend *b = NULL;
    int rc = cli_get_backend(a, &b);
    if (rc != CLI_CONTINUE)
        return rc;
    imc_kt_key wkey;
    const char *vk = cli_get(a, "witness", "");
    if (imc_kt_vkey_parse(&wkey, b, vk, strlen(vk)) != IMC_OK ||
        wkey.type != IMC_KT_SIG_COSIGNATURE) {
        cli_err(a->prog, "option --witness: not a witness (cosignature) vkey");
        return CLI_EXIT_USAGE;
    }
    uint8_t *note = NULL, *line = NULL;
    size_t note_len = 0, line_len = 0;
    rc = cli_read_alloc(a->prog, "checkpoint", cli_get(a, "checkpoint", ""),
                        IMC_KT_MAX_NOTE_BYTES, &note, &note_len);
    if (rc == CLI_CONTINUE)
        rc = cli_read_alloc(a->prog, "cosignature", cli_get(a, "cosignature", ""),
                            IMC_KT_COSIG_LINE_MAX, &line, &line_len);
    imc_kt_note *parsed = malloc(sizeof *parsed);
    if (rc == CLI_CONTINUE && (parsed == NULL || imc_kt_note_parse(parsed, note, note_len) != IMC_OK)) {
        cli_err(a->prog, "option --checkpoint: not a signed checkpoint note");
        rc = CLI_EXIT_FAIL;
    }
    dir_ctx c;
    if (rc == CLI_CONTINUE)
        rc = open_dir(a, &c, false);
    if (rc == CLI_CONTINUE) {
        imc_status st = imc_dir_kt_add_cosignature(&c.d, &wkey, parsed->text, parsed->text_len,
                                                   line, line_len);
        if (st != IMC_OK) {
            cli_err(a->prog, "%s",
                    st == IMC_ERR_STALE    ? "the checkpoint is no longer the directory's current one"
                    : st == IMC_ERR_EXISTS ? "this witness's cosignature is there already"
                    : st == IMC_ERR_AUTH   ? "the cosignature does not verify with that witness key"
                                           : imc_status_str(st));
            rc = CLI_EXIT_FAIL;
        }
        close_dir(&c);
    }
    free(parsed);
    free(note);
    free(line);
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
    if (cli_flag(a, "proofs")) {
        rc = lookup_proofs(a, &c, now, hs, n);
        close_dir(&c);
        return rc;
    }
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
#define OPT_NOW {"now", CLI_OPT_VALUE, false, "MS", "issue time, ms since 1970 (default: now)"}
#define OPT_OUT {"out", CLI_OPT_VALUE, false, "FILE", "also write the signed answer to FILE"}
#define OPT_FORCE {"force", CLI_OPT_FLAG, false, NULL, "replace --out if it exists"}
#define OPT_JSON {"json", CLI_OPT_FLAG, false, NULL, "print one JSON line per handle"}
#define OPT_HANDLE {"handle", CLI_OPT_VALUE, true, "H", "+14155550100 or an e-mail address"}

#define OPT_ACCOUNT                                                                                \
    {"account-key", CLI_OPT_VALUE, true, "FILE", "the account key file (it signs the device list)"}

static const cli_opt init_opts[] = {OPT_DB, CLI_OPT_BACKEND};
static const cli_opt register_opts[] = {
    OPT_DB,
    OPT_HANDLE,
    {"key", CLI_OPT_VALUE, true, "FILE",
     "the device's secret key file (it signs its registration)"},
    OPT_ACCOUNT,
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    CLI_OPT_BACKEND,
};
static const cli_opt rotate_opts[] = {
    OPT_DB,
    OPT_HANDLE,
    {"key", CLI_OPT_VALUE, true, "FILE", "the device's current secret key file"},
    {"new-key", CLI_OPT_VALUE, true, "FILE", "its new secret key file (same device id)"},
    OPT_ACCOUNT,
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    CLI_OPT_BACKEND,
};
static const cli_opt revoke_opts[] = {
    OPT_DB,
    OPT_HANDLE,
    {"device-id", CLI_OPT_VALUE, true, "N", "the device to revoke"},
    OPT_ACCOUNT,
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    CLI_OPT_BACKEND,
};
static const cli_opt account_rotate_opts[] = {
    OPT_DB,
    OPT_HANDLE,
    {"account-key", CLI_OPT_VALUE, true, "FILE", "the current account key file"},
    {"new-account-key", CLI_OPT_VALUE, true, "FILE", "the new account key file"},
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    CLI_OPT_BACKEND,
};
static const cli_opt reset_opts[] = {
    OPT_DB,
    OPT_HANDLE,
    {"new-account-key", CLI_OPT_VALUE, true, "FILE", "the new account key file"},
    {"key", CLI_OPT_VALUE, true, "FILE", "the secret key file of the account's new first device"},
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    CLI_OPT_BACKEND,
};
#define OPT_KNOWN                                                                                  \
    {"known-size", CLI_OPT_VALUE, false, "N",                                                      \
     "the log size of the checkpoint the client holds (default 0)"}
static const cli_opt lookup_opts[] = {
    {"db", CLI_OPT_VALUE, true, "FILE", "the LMDB directory file (its key: FILE.key)"},
    {"handle", CLI_OPT_MULTI, true, "H", "a handle to look up (repeat for a batch, up to 256)"},
    {"proofs", CLI_OPT_FLAG, false, NULL, "with transparency proofs against one checkpoint"},
    OPT_KNOWN,
    OPT_OUT,
    OPT_FORCE,
    OPT_JSON,
    OPT_NOW,
    CLI_OPT_BACKEND,
};
static const cli_opt export_opts[] = {OPT_DB, OPT_JSON, CLI_OPT_BACKEND};
static const cli_opt checkpoint_opts[] = {
    OPT_DB,
    OPT_KNOWN,
    {"vkey", CLI_OPT_FLAG, false, NULL, "print the log's verifier key instead"},
    {"out", CLI_OPT_VALUE, false, "FILE",
     "also write the checkpoint response (note and consistency proof)"},
    OPT_FORCE,
    {"json", CLI_OPT_FLAG, false, NULL, "print one JSON line"},
    CLI_OPT_BACKEND,
};
static const cli_opt audit_opts[] = {
    OPT_DB,
    {"handle", CLI_OPT_VALUE, true, "H", "the handle whose history to audit"},
    {"since", CLI_OPT_VALUE, false, "V", "the first version to report (default 1)"},
    OPT_KNOWN,
    {"out", CLI_OPT_VALUE, false, "FILE", "also write the audit response"},
    OPT_FORCE,
    {"json", CLI_OPT_FLAG, false, NULL, "print one JSON line per leaf"},
    CLI_OPT_BACKEND,
};
static const cli_opt check_opts[] = {OPT_DB, CLI_OPT_BACKEND};
static const cli_opt add_cosignature_opts[] = {
    OPT_DB,
    {"witness", CLI_OPT_VALUE, true, "VKEY", "the witness's verifier key"},
    {"checkpoint", CLI_OPT_VALUE, true, "FILE", "the signed checkpoint the witness was given"},
    {"cosignature", CLI_OPT_VALUE, true, "FILE", "the witness's cosignature line"},
    CLI_OPT_BACKEND,
};

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
    .summary = "Register a device under a handle (signed by it and the account key)",
    .opts = register_opts,
    .opt_count = CLI_ARRAY_LEN(register_opts),
    .inputs = "db key account-key",
    .details = "The handle is normalised (phone numbers to E.164, e-mail addresses lower-cased;\n"
               "docs/directory.md). Device ids are unique in the directory and never reused.\n"
               "The first device of a handle creates the account: --account-key becomes its key.\n"
               "Prints the handle's new entry, as the directory signed it.\n",
    .run = run_register,
};
static const cli_cmd dir_rotate = {
    .name = "rotate",
    .summary = "Replace a device's keys (signed by its old and its new key)",
    .opts = rotate_opts,
    .opt_count = CLI_ARRAY_LEN(rotate_opts),
    .inputs = "db key new-key account-key",
    .run = run_rotate,
};
static const cli_cmd dir_revoke = {
    .name = "revoke",
    .summary = "Revoke a device (signed by the account key)",
    .opts = revoke_opts,
    .opt_count = CLI_ARRAY_LEN(revoke_opts),
    .inputs = "db account-key",
    .run = run_revoke,
};
static const cli_cmd dir_account_rotate = {
    .name = "account-rotate",
    .summary = "Replace the account key (signed by the old and the new key)",
    .opts = account_rotate_opts,
    .opt_count = CLI_ARRAY_LEN(account_rotate_opts),
    .inputs = "db account-key new-account-key",
    .details = "Contacts that pinned the old key accept the new one: the old key signed it.\n",
    .run = run_account_rotate,
};
static const cli_cmd dir_reset = {
    .name = "reset",
    .summary = "Account reset: all keys lost; a new account key and first device",
    .opts = reset_opts,
    .opt_count = CLI_ARRAY_LEN(reset_opts),
    .inputs = "db key new-account-key",
    .details = "Every device listed is revoked. Contacts are told loudly and do not send to the\n"
               "account again until they accept its new key ('imcore client accept').\n",
    .run = run_reset,
};
static const cli_cmd dir_lookup = {
    .name = "lookup",
    .summary = "Look handles up: the signed entries a client would get",
    .opts = lookup_opts,
    .opt_count = CLI_ARRAY_LEN(lookup_opts),
    .inputs = "db",
    .details = "A handle never registered is answered too (epoch 0, no devices). --out writes\n"
               "the signed lookup response (docs/directory-format.md) for 'imcore client apply'.\n",
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

static const cli_cmd dir_checkpoint = {
    .name = "checkpoint",
    .summary = "Print the directory's signed checkpoint (transparency log head)",
    .opts = checkpoint_opts,
    .opt_count = CLI_ARRAY_LEN(checkpoint_opts),
    .inputs = "db",
    .details = "Prints the C2SP signed note: origin, log size, log root, index root, global\n"
               "epoch, the directory's signature and any witness cosignatures. --vkey prints\n"
               "the key clients and witnesses configure for the log. --out writes the checkpoint\n"
               "response with a consistency proof from --known-size (docs/directory-format.md).\n",
    .run = run_checkpoint,
};
static const cli_cmd dir_audit = {
    .name = "audit",
    .summary = "A handle's history: every log leaf from a version on, with proofs",
    .opts = audit_opts,
    .opt_count = CLI_ARRAY_LEN(audit_opts),
    .inputs = "db",
    .details = "Prints one line per version (account key and hash of the signed device list),\n"
               "each verified: included in the log, chained to the one before, the last one the\n"
               "handle's index value. A device reports versions it did not make. At most 256\n"
               "per answer; the summary on standard error says where to go on.\n",
    .run = run_audit,
};
static const cli_cmd dir_check = {
    .name = "check",
    .summary = "Check the directory and replay its whole transparency log against it",
    .opts = check_opts,
    .opt_count = CLI_ARRAY_LEN(check_opts),
    .inputs = "db",
    .run = run_check,
};
static const cli_cmd dir_add_cosignature = {
    .name = "add-cosignature",
    .summary = "Add a witness's cosignature to the current checkpoint",
    .opts = add_cosignature_opts,
    .opt_count = CLI_ARRAY_LEN(add_cosignature_opts),
    .inputs = "db checkpoint cosignature",
    .details = "The line must verify with --witness over the checkpoint's text, and that\n"
               "checkpoint must still be the current one (the next update replaces it).\n",
    .run = run_add_cosignature,
};

static const cli_cmd *const dir_subs[] = {
    &dir_init,   &dir_register,   &dir_rotate, &dir_revoke, &dir_account_rotate,
    &dir_reset,  &dir_lookup,     &dir_export, &dir_check,  &dir_checkpoint,
    &dir_audit,  &dir_add_cosignature};

const cli_cmd cli_cmd_dir = {
    .name = "dir",
    .summary = "Key directory on an LMDB file: init|register|rotate|revoke|account-rotate|"
               "reset|lookup|export|check|checkpoint|audit|add-cosignature",
    .sub = dir_subs,
    .sub_count = CLI_ARRAY_LEN(dir_subs),
};
