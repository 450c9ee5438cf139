/* The verifying directory client's state as the message commands use it:
 * DIR/client.mdb (a persistent imc_dircache, docs/directory.md "Client
 * state") and DIR/directory.pub (the directory key pinned by 'imcore client
 * init'; the state file is stamped with it too and refuses another). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client_state.h"
#include "imcore/dircache.h"
#include "imcore/msg.h"
#include "imcore/util.h"

int cli_client_path(const char *prog, const char *dir, const char *file, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, file);
    if (*dir == '\0' || n < 0 || (size_t)n >= cap) {
        cli_err(prog, "option --state: '%s' is not a usable directory name", dir);
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

int cli_client_open(const char *prog, const imc_backend *b, const char *dir,
                    const uint8_t *own_handle, size_t own_len, uint64_t own_device,
                    imc_dircache **out)
{
    return cli_client_open_kt(prog, b, dir, own_handle, own_len, own_device, NULL, out);
}

int cli_client_open_kt(const char *prog, const imc_backend *b, const char *dir,
                       const uint8_t *own_handle, size_t own_len, uint64_t own_device,
                       const imc_kt_client_config *kt, imc_dircache **out)
{
    char pub[CLI_STATE_PATH_MAX], mdb[CLI_STATE_PATH_MAX];
    uint8_t pk[IMC_DIR_PUBLIC_BYTES + 1];
    size_t len = 0;
    *out = NULL;
    int rc = cli_client_path(prog, dir, CLI_STATE_DIR_KEY, pub, sizeof pub);
    if (rc == CLI_CONTINUE)
        rc = cli_client_path(prog, dir, CLI_STATE_FILE, mdb, sizeof mdb);
    if (rc == CLI_CONTINUE)
        rc = cli_read_into(prog, "pinned directory key (run 'imcore client init' first)", pub, pk,
                           sizeof pk, &len);
    if (rc != CLI_CONTINUE)
        return rc;
    if (len != IMC_DIR_PUBLIC_BYTES) {
        cli_err(prog, "'%s' is not a directory public key (%zu bytes)", pub, len);
        return CLI_EXIT_FAIL;
    }
    imc_dircache_options o;
    memset(&o, 0, sizeof o);
    o.capacity = 4096;
    o.own_handle = own_handle;
    o.own_handle_len = own_len;
    o.own_device_id = own_device;
    o.path = mdb;
    o.kt = kt;
    imc_status st = imc_dircache_new(out, b, pk, &o);
    if (st != IMC_OK) {
        cli_err(prog, "cannot open the client state '%s': %s", mdb,
                st == IMC_ERR_AUTH ? "it is pinned to another directory key or transparency "
                                     "configuration"
                                   : imc_status_str(st));
        return CLI_EXIT_FAIL;
    }
    return CLI_CONTINUE;
}

/* Why the state cannot be used for handle h (text for the user). */
static void explain(const char *prog, imc_status st, const uint8_t *h, size_t h_len)
{
    const char *why;
    switch (st) {
    case IMC_ERR_AUTH:
        why = "its account key changed and is not confirmed: compare the safety number "
              "('imcore client show'), then 'imcore client accept'";
        break;
    case IMC_ERR_NOT_FOUND:
        why = "not in the client state, no device, or this device is not listed (look it up "
              "and 'imcore client apply' the answer)";
        break;
    case IMC_ERR_STALE:
        why = "the state's entry has expired or lists other keys for this device: apply a "
              "fresh lookup";
        break;
    default: why = imc_status_str(st); break;
    }
    cli_err(prog, "%.*s: %s", (int)h_len, (const char *)h, why);
}

int cli_client_recipients(const cli_args *a, const imc_backend *b, const imc_device_keys *me,
                          const uint8_t *from, size_t from_len, uint64_t now_ms,
                          imc_device_public *rcpt, size_t cap, size_t *count)
{
    size_t n = cli_count(a, "to-handle");
    *count = 0;
    if (n > IMC_DIR_MAX_BATCH) {
        cli_err(a->prog, "at most %d --to-handle", IMC_DIR_MAX_BATCH);
        return CLI_EXIT_USAGE;
    }
    uint8_t(*names)[IMC_MAX_HANDLE_BYTES] = calloc(n, sizeof *names);
    imc_dir_handle *to = calloc(n, sizeof *to);
    int rc = names != NULL && to != NULL ? CLI_CONTINUE : CLI_EXIT_FAIL;
    for (size_t i = 0; i < n && rc == CLI_CONTINUE; i++) {
        rc = cli_normalise_handle(a->prog, "to-handle", cli_get_nth(a, "to-handle", i), names[i],
                                  &to[i].len);
        to[i].bytes = names[i];
    }
    imc_dircache *c = NULL;
    if (rc == CLI_CONTINUE)
        rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), from, from_len,
                             me->pub.device_id, &c);
    if (rc == CLI_CONTINUE) {
        imc_msg_send req;
        size_t bad = SIZE_MAX;
        imc_status st = imc_dircache_prepare_send(&req, rcpt, cap, &bad, c, now_ms, me, to, n);
        if (st == IMC_OK) {
            *count = req.recipient_count;
        } else {
            if (bad < n)
                explain(a->prog, st, to[bad].bytes, to[bad].len);
            else
                explain(a->prog, st, from, from_len);
            rc = CLI_EXIT_FAIL;
        }
    }
    imc_dircache_free(c);
    free(names);
    free(to);
    return rc;
}

int cli_client_sender(const cli_args *a, const imc_backend *b, const uint8_t *from,
                      size_t from_len, const uint8_t *dlv, size_t dlv_len,
                      imc_device_public *sender)
{
    imc_delivery d;
    if (imc_msg_parse_delivery(&d, dlv, dlv_len) != IMC_OK) {
        cli_err(a->prog, "the input is not a delivery");
        return CLI_EXIT_FAIL;
    }
    imc_dircache *c = NULL;
    int rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), NULL, 0, 0, &c);
    if (rc != CLI_CONTINUE)
        return rc;
    imc_msg_peer peer;
    imc_status st =
        imc_dircache_peer(&peer, c, cli_now_ms(), from, from_len, d.h.sender_device);
    if (st == IMC_OK) {
        *sender = *peer.device;
    } else {
        if (st == IMC_ERR_NOT_FOUND)
            cli_err(a->prog,
                    "%.*s: device %llu is not a current device of this account in the "
                    "verified state (revoked, unknown, or the account was never looked up)",
                    (int)from_len, (const char *)from, (unsigned long long)d.h.sender_device);
        else
            explain(a->prog, st, from, from_len);
        rc = CLI_EXIT_FAIL;
    }
    imc_dircache_free(c);
    return rc;
}
