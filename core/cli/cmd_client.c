/* The verifying directory client: imcore client init|apply|show|accept.
 *
 * A device keeps its view of the directory in a state directory: the
 * pinned directory key (DIR/directory.pub) and DIR/client.mdb, the
 * persistent client (docs/directory.md, "Client state"): the rollback
 * anchor, and per handle the pinned account key and the last verified
 * device list. 'apply' verifies a lookup answer ('imcore dir lookup --out')
 * against it and says what changed; 'encrypt --state' and 'decrypt
 * --state' use it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client_state.h"
#include "imcore/dircache.h"
#include "imcore/util.h"

/* ---- init ---------------------------------------------------------------- */

static int run_init(const cli_args *a)
{
    const imc_backend *b = NULL;
    const char *dir = cli_get(a, "state", "");
    char pub[CLI_STATE_PATH_MAX], mdb[CLI_STATE_PATH_MAX];
    uint8_t pk[IMC_DIR_PUBLIC_BYTES + 1];
    size_t len = 0;
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_client_path(a->prog, dir, CLI_STATE_DIR_KEY, pub, sizeof pub);
    if (rc == CLI_CONTINUE)
        rc = cli_client_path(a->prog, dir, CLI_STATE_FILE, mdb, sizeof mdb);
    if (rc == CLI_CONTINUE)
        rc = cli_read_into(a->prog, "directory public key", cli_get(a, "directory-key", ""), pk,
                           sizeof pk, &len);
    if (rc != CLI_CONTINUE)
        return rc;
    if (len != IMC_DIR_PUBLIC_BYTES) {
        cli_err(a->prog, "'%s' is not a directory public key (%zu bytes, want %d)",
                cli_get(a, "directory-key", ""), len, IMC_DIR_PUBLIC_BYTES);
        return CLI_EXIT_FAIL;
    }
    if (access(mdb, F_OK) == 0) {
        cli_err(a->prog, "'%s' exists already", mdb);
        return CLI_EXIT_FAIL;
    }
    rc = cli_make_dir(a->prog, dir);
    if (rc == CLI_CONTINUE)
        rc = cli_write_file(a->prog, pub, pk, IMC_DIR_PUBLIC_BYTES, 0644, 0);
    imc_dircache *c = NULL;
    if (rc == CLI_CONTINUE)
        rc = cli_client_open(a->prog, b, dir, NULL, 0, 0, &c);
    imc_dircache_free(c);
    if (rc != CLI_CONTINUE)
        return rc;
    printf("%s: pinned directory key ", dir);
    cli_put_hex(stdout, pk, IMC_DIR_PUBLIC_BYTES);
    putchar('\n');
    return CLI_EXIT_OK;
}

/* ---- apply ------------------------------------------------------------------ */

static void put_handle(const imc_dir_record *rec)
{
    fwrite(rec->handle, 1, rec->handle_len, stdout);
}

/* One line per change, in the library's order (per entry: the account,
 * the version, then devices by id). */
static void print_change(const imc_dir_change *ch, const imc_dir_record *rec)
{
    put_handle(rec);
    switch (ch->kind) {
    case IMC_DIR_ACCOUNT_NEW:
        fputs(": account key pinned (first seen) ", stdout);
        cli_put_hex(stdout, rec->account_pk, sizeof rec->account_pk);
        break;
    case IMC_DIR_ACCOUNT_ROTATED:
        fputs(": account key rotated, signed by the old key; the safety number changed; new key ",
              stdout);
        cli_put_hex(stdout, rec->account_pk, sizeof rec->account_pk);
        break;
    case IMC_DIR_ACCOUNT_UNCONFIRMED:
        fprintf(stdout,
                ": WARNING: ACCOUNT KEY CHANGED WITHOUT THE OLD KEY'S SIGNATURE (%s). Not trusted:\n"
                "  messages to and from this account are refused until you compare the safety\n"
                "  number with its owner and run 'imcore client accept --handle %.*s'",
                rec->key_change == IMC_DIR_KEY_NEW ? "account reset" : "unverifiable rotation",
                (int)rec->handle_len, (const char *)rec->handle);
        break;
    case IMC_DIR_LIST_VERSION:
        fprintf(stdout, ": device list version %llu -> %llu",
                (unsigned long long)ch->old_version, (unsigned long long)ch->new_version);
        if (ch->old_version != 0 && ch->new_version > ch->old_version + 1)
            fprintf(stdout, " (%llu versions in between were not seen here)",
                    (unsigned long long)(ch->new_version - ch->old_version - 1));
        break;
    case IMC_DIR_DEVICE_ADDED:
        fprintf(stdout, ": device %llu added", (unsigned long long)ch->device_id);
        break;
    case IMC_DIR_DEVICE_REMOVED:
        fprintf(stdout, ": device %llu removed (revoked)", (unsigned long long)ch->device_id);
        break;
    case IMC_DIR_DEVICE_CHANGED:
        fprintf(stdout, ": device %llu key changed (rotated)", (unsigned long long)ch->device_id);
        break;
    }
    putchar('\n');
}

static const char *apply_error(imc_status st)
{
    switch (st) {
    case IMC_ERR_STALE:
        return "refused: older than what this state has already seen (a replayed or delayed "
               "answer), or expired";
    case IMC_ERR_AUTH:
        return "refused: not signed by the pinned directory key, a device list not signed by "
               "its account key, or two different lists for one version";
    case IMC_ERR_MALFORMED: return "refused: not a lookup answer of this format";
    default: return imc_status_str(st);
    }
}

static int run_apply(const cli_args *a)
{
    const imc_backend *b = NULL;
    uint64_t now = 0;
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_get_u64(a, "now", cli_now_ms(), &now);
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    rc = cli_read_alloc(a->prog, "lookup answer", cli_get(a, "in", "-"),
                        IMC_DIR_RESPONSE_MAX_BYTES(IMC_DIR_MAX_BATCH), &resp, &resp_len);
    if (rc != CLI_CONTINUE)
        return rc;
    imc_dircache *c = NULL;
    rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), NULL, 0, 0, &c);
    const size_t cap = (size_t)IMC_DIR_MAX_BATCH * IMC_DIR_CHANGES_MAX_PER_ENTRY;
    imc_dir_change *ch = rc == CLI_CONTINUE ? calloc(cap, sizeof *ch) : NULL;
    imc_dir_entry *e = rc == CLI_CONTINUE ? malloc(sizeof *e) : NULL;
    if (rc == CLI_CONTINUE && (ch == NULL || e == NULL)) {
        cli_err(a->prog, "out of memory");
        rc = CLI_EXIT_FAIL;
    }
    size_t n = 0;
    imc_status st = rc == CLI_CONTINUE ? imc_dircache_apply(c, ch, cap, &n, now, resp, resp_len)
                                       : IMC_OK;
    if (rc == CLI_CONTINUE && st != IMC_OK) {
        cli_err(a->prog, "%s", apply_error(st));
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_CONTINUE) {
        /* The entries again, for their handles (the answer verified above). */
        imc_dir_response r;
        size_t off = 0, entry = 0;
        bool have = imc_dir_parse_response(&r, resp, resp_len) == IMC_OK &&
                    imc_dir_response_next(e, &off, &r) == IMC_OK;
        for (size_t i = 0; i < n && have; i++) {
            while (entry < ch[i].entry && have) {
                have = imc_dir_response_next(e, &off, &r) == IMC_OK;
                entry++;
            }
            if (have)
                print_change(&ch[i], &e->rec);
        }
        printf("applied: global epoch %llu, %zu change%s\n",
               (unsigned long long)imc_dircache_global_epoch(c), n, n == 1 ? "" : "s");
        rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    imc_dircache_free(c);
    free(ch);
    free(e);
    free(resp);
    return rc;
}

static bool is_zero(const uint8_t *p)
{
    return imc_ct_is_zero(p, IMC_DIR_ACCOUNT_PUBLIC_BYTES);
}

/* ---- show / accept --------------------------------------------------------- */

static int run_show(const cli_args *a)
{
    const imc_backend *b = NULL;
    uint8_t h[IMC_MAX_HANDLE_BYTES], me[IMC_MAX_HANDLE_BYTES];
    size_t h_len = 0, me_len = 0;
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_get_handle(a, "handle", h, &h_len);
    if (rc == CLI_CONTINUE && cli_get(a, "me", NULL) != NULL)
        rc = cli_get_handle(a, "me", me, &me_len);
    imc_dircache *c = NULL;
    if (rc == CLI_CONTINUE)
        rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), NULL, 0, 0, &c);
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t pinned[IMC_DIR_ACCOUNT_PUBLIC_BYTES], my_pk[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
    bool pend = false, my_pend = false;
    const imc_dir_record *rec = NULL;
    imc_status st = imc_dircache_account(pinned, &pend, c, h, h_len);
    if (st == IMC_OK) {
        /* Shown even if expired: get refuses only for use. */
        st = imc_dircache_get(&rec, c, 0, h, h_len);
    }
    if (st != IMC_OK) {
        cli_err(a->prog, "%.*s: not in this client state (look it up and apply the answer)",
                (int)h_len, (const char *)h);
        imc_dircache_free(c);
        return CLI_EXIT_FAIL;
    }
    printf("%.*s\n  device list version %llu (global epoch seen %llu)\n", (int)h_len,
           (const char *)h, (unsigned long long)rec->epoch,
           (unsigned long long)imc_dircache_global_epoch(c));
    if (rec->epoch == 0) {
        printf("  no account\n");
    } else {
        fputs("  account key ", stdout);
        cli_put_hex(stdout, pinned, sizeof pinned);
        fputs(pend ? " (pinned)\n  UNCONFIRMED new account key " : " (pinned)\n", stdout);
        if (pend) {
            cli_put_hex(stdout, rec->account_pk, sizeof rec->account_pk);
            printf("\n  refused for messages until 'imcore client accept --handle %.*s'\n",
                   (int)h_len, (const char *)h);
        }
    }
    for (size_t i = 0; i < rec->device_count; i++) {
        const imc_device_public *d = &rec->devices[i];
        const imc_suite *s = imc_suite_get(d->suite);
        printf("  device %llu suite %s sig_pk ", (unsigned long long)d->device_id,
               s != NULL ? s->short_name : "?");
        cli_put_hex(stdout, d->sig_pk, s != NULL ? s->sig_public_bytes : 0);
        putchar('\n');
    }
    if (me_len != 0 && rec->epoch != 0) {
        char code[IMC_DIR_SAFETY_NUMBER_CHARS + 1];
        st = imc_dircache_account(my_pk, &my_pend, c, me, me_len);
        if (st == IMC_OK && !my_pend && !is_zero(my_pk))
            st = imc_dir_safety_number(code, b, me, me_len, my_pk, h, h_len, rec->account_pk);
        else if (st == IMC_OK)
            st = IMC_ERR_NOT_FOUND;
        if (st == IMC_OK)
            printf("  safety number with %.*s: %s%s\n", (int)me_len, (const char *)me, code,
                   pend ? " (for the unconfirmed key)" : "");
        else
            printf("  safety number: %.*s has no confirmed account in this state\n",
                   (int)me_len, (const char *)me);
    }
    imc_dircache_free(c);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int run_accept(const cli_args *a)
{
    const imc_backend *b = NULL;
    uint8_t h[IMC_MAX_HANDLE_BYTES];
    size_t h_len = 0;
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_get_handle(a, "handle", h, &h_len);
    imc_dircache *c = NULL;
    if (rc == CLI_CONTINUE)
        rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), NULL, 0, 0, &c);
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t pinned[IMC_DIR_ACCOUNT_PUBLIC_BYTES];
    bool pend = false;
    imc_status st = imc_dircache_account(pinned, &pend, c, h, h_len);
    if (st == IMC_OK && pend)
        st = imc_dircache_accept(c, h, h_len);
    if (st != IMC_OK) {
        cli_err(a->prog, "%.*s: %s", (int)h_len, (const char *)h,
                st == IMC_ERR_NOT_FOUND ? "not in this client state" : imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else if (!pend) {
        printf("%.*s: nothing to accept (no unconfirmed account key)\n", (int)h_len,
               (const char *)h);
        rc = CLI_EXIT_OK;
    } else {
        const imc_dir_record *rec = NULL;
        printf("%.*s: account key ", (int)h_len, (const char *)h);
        if (imc_dircache_get(&rec, c, 0, h, h_len) == IMC_OK)
            cli_put_hex(stdout, rec->account_pk, sizeof rec->account_pk);
        printf(" accepted and pinned\n");
        rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    imc_dircache_free(c);
    return rc;
}

/* ---- Command table ------------------------------------------------------------ */

#define OPT_STATE {"state", CLI_OPT_VALUE, true, "DIR", "the client state directory"}
#define OPT_BACKEND {"backend", CLI_OPT_VALUE, false, "NAME", "sodium|openssl (default sodium)"}

static const cli_opt init_opts[] = {
    OPT_STATE,
    {"directory-key", CLI_OPT_VALUE, true, "FILE", "the directory's public key (DB.pub) to pin"},
    OPT_BACKEND,
};
static const cli_opt apply_opts[] = {
    OPT_STATE,
    {"in", CLI_OPT_VALUE, false, "FILE", "the answer of 'imcore dir lookup|register ... --out'"},
    {"now", CLI_OPT_VALUE, false, "MS", "this device's clock, ms since 1970 (default: now)"},
    OPT_BACKEND,
};
static const cli_opt show_opts[] = {
    OPT_STATE,
    {"handle", CLI_OPT_VALUE, true, "H", "the account to show"},
    {"me", CLI_OPT_VALUE, false, "H", "your own handle: also show the safety number"},
    OPT_BACKEND,
};
static const cli_opt accept_opts[] = {
    OPT_STATE,
    {"handle", CLI_OPT_VALUE, true, "H", "the account whose new key you checked"},
    OPT_BACKEND,
};

static const cli_cmd client_init = {
    .name = "init",
    .summary = "Create a client state pinned to a directory's key",
    .opts = init_opts,
    .opt_count = CLI_ARRAY_LEN(init_opts),
    .details = "Creates DIR (if missing), DIR/directory.pub and DIR/client.mdb.\n",
    .run = run_init,
};
static const cli_cmd client_apply = {
    .name = "apply",
    .summary = "Verify a directory answer and update the state; print every change",
    .opts = apply_opts,
    .opt_count = CLI_ARRAY_LEN(apply_opts),
    .details = "Refuses (exit 1, nothing changed) an answer not signed by the pinned directory\n"
               "key, a device list not signed by its account key, and anything older than what\n"
               "the state has seen, even across restarts. Prints one line per change: account\n"
               "key pinned / rotated / changed without confirmation (loudly), device list\n"
               "version, devices added, removed and rotated.\n",
    .run = run_apply,
};
static const cli_cmd client_show = {
    .name = "show",
    .summary = "Show an account in the state: key, version, devices, safety number",
    .opts = show_opts,
    .opt_count = CLI_ARRAY_LEN(show_opts),
    .details = "The safety number (with --me) is the same on both sides and changes exactly\n"
               "when either account key changes: compare it with the other person.\n",
    .run = run_show,
};
static const cli_cmd client_accept = {
    .name = "accept",
    .summary = "Trust an account's new key after an unconfirmed change (reset)",
    .opts = accept_opts,
    .opt_count = CLI_ARRAY_LEN(accept_opts),
    .run = run_accept,
};

static const cli_cmd *const client_subs[] = {&client_init, &client_apply, &client_show,
                                             &client_accept};

const cli_cmd cli_cmd_client = {
    .name = "client",
    .summary = "Verifying directory client state: init|apply|show|accept",
    .sub = client_subs,
    .sub_count = CLI_ARRAY_LEN(client_subs),
};
