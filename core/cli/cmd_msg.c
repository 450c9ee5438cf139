/* Message commands: encrypt, fanout, decrypt, inspect. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "imcore/msg.h"
#include "imcore/util.h"

/* The largest envelope / delivery any suite can produce under the build's
 * limits: the bound for reading one. */
static size_t max_envelope_size(void)
{
    size_t m = 0;
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
        size_t n = imc_msg_envelope_size(id, IMC_MAX_HANDLE_BYTES, IMC_MAX_RECIPIENTS,
                                         IMC_MAX_BODY_BYTES);
        m = n > m ? n : m;
    }
    return m;
}

static size_t max_delivery_size(void)
{
    size_t m = 0;
    for (uint32_t id = 1; id <= IMC_SUITE_COUNT; id++) {
        size_t n = imc_msg_delivery_size(id, IMC_MAX_HANDLE_BYTES, IMC_MAX_RECIPIENTS,
                                         IMC_MAX_BODY_BYTES);
        m = n > m ? n : m;
    }
    return m;
}

static const char *suite_name(uint32_t id)
{
    const imc_suite *s = imc_suite_get(id);
    return s != NULL ? s->name : "unknown";
}

/* ---- encrypt ------------------------------------------------------------ */

static uint64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Loads every --to key: same suite as the sender, distinct device ids. The
 * library checks both too; here the error can name the files. */
static int load_recipients(const cli_args *a, const imc_backend *b, const imc_device_keys *me,
                           imc_device_public *rcpt, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *path = cli_get_nth(a, "to", i);
        int rc = cli_load_public(a->prog, b, path, &rcpt[i]);
        if (rc != CLI_CONTINUE)
            return rc;
        if (rcpt[i].suite != me->pub.suite) {
            cli_err(a->prog, "'%s' is a key of suite %s, but the sender's key is of suite %s",
                    path, suite_name(rcpt[i].suite), suite_name(me->pub.suite));
            return CLI_EXIT_FAIL;
        }
        for (size_t j = 0; j < i; j++)
            if (rcpt[j].device_id == rcpt[i].device_id) {
                cli_err(a->prog, "'%s' and '%s' are both device %llu", cli_get_nth(a, "to", j),
                        path, (unsigned long long)rcpt[i].device_id);
                return CLI_EXIT_FAIL;
            }
    }
    return CLI_CONTINUE;
}

static int run_encrypt(const cli_args *a)
{
    const imc_backend *b = NULL;
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    size_t handle_len = 0;
    uint64_t timestamp = 0;
    const char *out_path = cli_get(a, "out", "-");
    size_t n = cli_count(a, "to");
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_get_handle(a, "from", handle, &handle_len);
    if (rc == CLI_CONTINUE)
        rc = cli_get_time_ms(a, "timestamp", now_ms(), &timestamp);
    if (rc == CLI_CONTINUE)
        rc = cli_check_output(a, out_path);
    /* Recipients: key files (--to), or the verified directory state. */
    const char *state = cli_get(a, "state", NULL);
    size_t th = cli_count(a, "to-handle");
    if (rc == CLI_CONTINUE && !(state != NULL ? n == 0 && th > 0 : n > 0 && th == 0)) {
        cli_err(a->prog, "give either --to FILE... or --state DIR with --to-handle H...");
        rc = CLI_EXIT_USAGE;
    }
    if (rc != CLI_CONTINUE)
        return rc;
    if (strcmp(cli_get(a, "in", "-"), "-") == 0 && isatty(STDIN_FILENO))
        fprintf(stderr, "%s: reading the message from the terminal; end it with Ctrl-D\n",
                a->prog);
    if (n > IMC_MAX_RECIPIENTS) {
        cli_err(a->prog, "%zu recipients: at most %d devices per envelope", n,
                IMC_MAX_RECIPIENTS);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(out_path, "-") == 0 && isatty(STDOUT_FILENO)) {
        cli_err(a->prog, "not writing a binary envelope to a terminal: use --out FILE or a pipe");
        return CLI_EXIT_USAGE;
    }

    imc_device_keys me;
    imc_device_public *rcpt = calloc(state != NULL ? IMC_MAX_RECIPIENTS : n + 1, sizeof *rcpt);
    uint8_t *body = NULL, *env = NULL;
    size_t body_len = 0, env_len = 0;
    if (rcpt == NULL) {
        cli_err(a->prog, "out of memory");
        return CLI_EXIT_FAIL;
    }
    rc = cli_load_secret(a->prog, b, cli_get(a, "key", NULL), &me);
    if (rc != CLI_CONTINUE)
        goto done_nokey;
    rc = state != NULL ? cli_client_recipients(a, b, &me, handle, handle_len, timestamp, rcpt,
                                               IMC_MAX_RECIPIENTS, &n)
                       : load_recipients(a, b, &me, rcpt, n);
    if (rc == CLI_CONTINUE)
        rc = cli_read_alloc(a->prog, "message body", cli_get(a, "in", "-"), IMC_MAX_BODY_BYTES,
                            &body, &body_len);
    if (rc != CLI_CONTINUE)
        goto done;

    size_t cap = imc_msg_envelope_size(me.pub.suite, handle_len, n, body_len);
    env = malloc(cap > 0 ? cap : 1);
    if (env == NULL) {
        cli_err(a->prog, "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    imc_msg_send req = {
        .sender_handle = handle,
        .sender_handle_len = handle_len,
        .sender = &me,
        .recipients = rcpt,
        .recipient_count = n,
        .timestamp_ms = timestamp,
        .body = body,
        .body_len = body_len,
    };
    imc_status st = imc_msg_encrypt(env, cap, &env_len, b, NULL, &req);
    if (st != IMC_OK) {
        cli_err(a->prog, "%s", imc_status_str(st));
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    rc = cli_write_output(a, out_path, env, env_len, 0644);
    if (rc == CLI_CONTINUE)
        rc = CLI_EXIT_OK;
done:
    imc_keys_wipe(&me);
done_nokey:
    if (body != NULL)
        imc_wipe(body, body_len);
    free(body);
    free(env);
    free(rcpt);
    return rc;
}

static const cli_opt encrypt_opts[] = {
    {"from", CLI_OPT_VALUE, true, "HANDLE", "the sender's handle (phone number or e-mail)"},
    {"key", CLI_OPT_VALUE, true, "FILE", "the sending device's secret key file"},
    {"to", CLI_OPT_MULTI, false, "FILE", "a recipient device's public key file"},
    {"state", CLI_OPT_VALUE, false, "DIR", "the verifying client's state ('imcore client')"},
    {"to-handle", CLI_OPT_MULTI, false, "H", "with --state: every current device of H"},
    {"in", CLI_OPT_VALUE, false, "FILE", "the message body, '-' for standard input (default)"},
    {"out", CLI_OPT_VALUE, false, "FILE", "the envelope, '-' for standard output (default)"},
    {"timestamp", CLI_OPT_VALUE, false, "MS", "milliseconds since the epoch (default: now)"},
    CLI_OPT_BACKEND,
    {"force", CLI_OPT_FLAG, false, NULL, "replace --out if it exists"},
};

const cli_cmd cli_cmd_encrypt = {
    .name = "encrypt",
    .summary = "Encrypt a message once for every recipient device, into one envelope",
    .opts = encrypt_opts,
    .opt_count = CLI_ARRAY_LEN(encrypt_opts),
    .details = "The message's suite is the sender key's suite; every --to key must be of it.\n"
               "List the sender's own other devices with --to as well. With --state, the\n"
               "recipients are the verified devices of every --to-handle plus the sender's own\n"
               "other devices, from the state 'imcore client apply' keeps; a handle whose\n"
               "account key changed without confirmation is refused. The body is at most\n"
               "IMC_MAX_BODY_BYTES (65536 by default). --out is written atomically and never\n"
               "over an input or (without --force) an existing file.\n",
    .inputs = "key to",
    .run = run_encrypt,
};

/* ---- fanout ------------------------------------------------------------- */

/* Removes a directory this command made and the files in it. */
static void remove_dir_files(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    char file[4096];
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(file, sizeof file, "%s/%s", path, e->d_name) < (int)sizeof file)
            unlink(file);
    }
    closedir(d);
    rmdir(path);
}

/* Every delivery of one envelope into DIR/<message id>/<device id>.dlv,
 * all or nothing: they are written into a hidden directory next to it,
 * which is then renamed into place (with --force, over the previous one). */
static int run_fanout(const cli_args *a)
{
    const char *dir = cli_get(a, "out-dir", NULL), *in = cli_get(a, "in", "-");
    uint8_t *env = NULL, *dlv = NULL;
    size_t env_len = 0, count = 0, *lens = NULL;
    imc_delivery_view *views = NULL;
    int rc = cli_check_stdin(a, in, "envelope");
    if (rc == CLI_CONTINUE)
        rc = cli_read_alloc(a->prog, "envelope", in, max_envelope_size(), &env, &env_len);
    if (rc != CLI_CONTINUE)
        return rc;
    views = calloc(IMC_MAX_RECIPIENTS, sizeof *views);
    lens = calloc(IMC_MAX_RECIPIENTS, sizeof *lens);
    dlv = malloc(max_delivery_size());
    if (views == NULL || lens == NULL || dlv == NULL) {
        cli_err(a->prog, "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    imc_envelope parsed;
    imc_status st = imc_msg_fanout(views, IMC_MAX_RECIPIENTS, &count, env, env_len);
    if (st == IMC_OK)
        st = imc_msg_parse_envelope(&parsed, env, env_len);
    if (st != IMC_OK) {
        imc_delivery d;
        if (imc_msg_parse_delivery(&d, env, env_len) == IMC_OK)
            cli_err(a->prog, "the input is a delivery, not an envelope");
        else
            cli_err(a->prog, "%s (%zu bytes of input)", imc_status_str(st), env_len);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    char id[2 * IMC_MSG_ID_BYTES + 1];
    for (size_t i = 0; i < IMC_MSG_ID_BYTES; i++)
        snprintf(id + 2 * i, 3, "%02x", parsed.h.message_id[i]);
    char final[4096], tmp[4096], old[4096];
    int n1 = snprintf(final, sizeof final, "%s/%s", dir, id);
    int n2 = snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", dir, id, (long)getpid());
    int n3 = snprintf(old, sizeof old, "%s/.%s.old-%ld", dir, id, (long)getpid());
    if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t)n2 >= sizeof tmp || (size_t)n3 >= sizeof old ||
        (size_t)n1 >= sizeof final) {
        cli_err(a->prog, "option --out-dir: path too long");
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    rc = cli_make_dir(a->prog, dir);
    if (rc == CLI_CONTINUE)
        rc = cli_check_output_dir(a, final);
    if (rc != CLI_CONTINUE)
        goto done;
    if (mkdir(tmp, 0755) != 0) {
        cli_err(a->prog, "cannot create '%s': %s", tmp, strerror(errno));
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    for (size_t i = 0; i < count && rc == CLI_CONTINUE; i++) {
        char path[4096 + 32];
        snprintf(path, sizeof path, "%s/%llu.dlv", tmp, (unsigned long long)views[i].device_id);
        st = imc_delivery_view_copy(dlv, max_delivery_size(), &lens[i], &views[i]);
        if (st != IMC_OK) {
            cli_err(a->prog, "device %llu: %s", (unsigned long long)views[i].device_id,
                    imc_status_str(st));
            rc = CLI_EXIT_FAIL;
        } else {
            rc = cli_write_file(a->prog, path, dlv, lens[i], 0644, CLI_WRITE_NO_CLOBBER);
        }
    }
    /* Into place: with --force an earlier copy is moved aside first, then
     * removed; a failure leaves nothing of this run behind. */
    bool replaced = false;
    if (rc == CLI_CONTINUE && cli_forced(a) && rename(final, old) == 0)
        replaced = true;
    if (rc == CLI_CONTINUE && rename(tmp, final) != 0) {
        cli_err(a->prog, "cannot create '%s': %s", final, strerror(errno));
        if (replaced)
            (void)rename(old, final);
        replaced = false;
        rc = CLI_EXIT_FAIL;
    }
    if (rc != CLI_CONTINUE) {
        remove_dir_files(tmp);
        goto done;
    }
    if (replaced)
        remove_dir_files(old);
    for (size_t i = 0; i < count; i++)
        printf("%llu %zu %s/%llu.dlv\n", (unsigned long long)views[i].device_id, lens[i], final,
               (unsigned long long)views[i].device_id);
    rc = CLI_EXIT_OK;
done:
    free(env);
    free(dlv);
    free(lens);
    free(views);
    return rc;
}

static const cli_opt fanout_opts[] = {
    {"in", CLI_OPT_VALUE, false, "FILE", "the envelope, '-' for standard input (default)"},
    {"out-dir", CLI_OPT_VALUE, true, "DIR", "write DIR/<message-id>/<device-id>.dlv"},
    {"force", CLI_OPT_FLAG, false, NULL, "replace that message's directory if it exists"},
};

const cli_cmd cli_cmd_fanout = {
    .name = "fanout",
    .summary = "Split an envelope into one delivery per recipient device (no keys needed)",
    .opts = fanout_opts,
    .opt_count = CLI_ARRAY_LEN(fanout_opts),
    .details = "This is what the service does: it needs no key and reads nothing but the\n"
               "envelope's structure. Each message gets its own directory, named by its\n"
               "message id (hex), created whole or not at all; DIR is created if missing.\n"
               "Prints one line per delivery: DEVICE-ID SIZE PATH\n",
    .run = run_fanout,
};

/* ---- decrypt ------------------------------------------------------------ */

static void print_received(FILE *out, const imc_msg_received *info, bool json)
{
    if (json) {
        fprintf(out, "{\"sender_handle\": ");
        cli_put_json_string(out, info->sender_handle, info->sender_handle_len);
        fprintf(out, ", \"sender_device\": \"%llu\", \"message_id\": \"",
                (unsigned long long)info->sender_device);
        cli_put_hex(out, info->message_id, sizeof info->message_id);
        fprintf(out, "\", \"timestamp_ms\": %llu, \"timestamp\": \"",
                (unsigned long long)info->timestamp_ms);
        cli_put_utc(out, info->timestamp_ms);
        fputs("\", ", out);
        cli_put_json_suite(out, info->suite);
        fprintf(out, ", \"body_len\": %zu}\n", info->body_len);
        return;
    }
    fputs("sender:    ", out);
    cli_put_json_string(out, info->sender_handle, info->sender_handle_len);
    fprintf(out, " device %llu\nmessage:   ", (unsigned long long)info->sender_device);
    cli_put_hex(out, info->message_id, sizeof info->message_id);
    fprintf(out, "\ntimestamp: %llu (", (unsigned long long)info->timestamp_ms);
    cli_put_utc(out, info->timestamp_ms);
    fprintf(out, ")\nsuite:     %s\nbytes:     %zu\n", suite_name(info->suite), info->body_len);
}

static int run_decrypt(const cli_args *a)
{
    const imc_backend *b = NULL;
    uint8_t handle[IMC_MAX_HANDLE_BYTES];
    size_t handle_len = 0;
    const char *out_path = cli_get(a, "out", "-"), *in = cli_get(a, "in", "-");
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_get_handle(a, "from", handle, &handle_len);
    if (rc == CLI_CONTINUE && cli_get(a, "state", NULL) == NULL && cli_count(a, "sender") == 0) {
        cli_err(a->prog, "give --sender FILE, or --state DIR to take the sender from the state");
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_CONTINUE)
        rc = cli_check_stdin(a, in, "delivery");
    if (rc == CLI_CONTINUE)
        rc = cli_check_output(a, out_path);
    if (rc != CLI_CONTINUE)
        return rc;

    imc_device_keys me;
    imc_device_public sender;
    imc_msg_received info;
    imc_replay *replay = NULL;
    const char *state = cli_get(a, "state", NULL);
    uint8_t *dlv = NULL, *body = NULL;
    size_t dlv_len = 0;
    const size_t body_cap = IMC_MAX_BODY_BYTES > 0 ? IMC_MAX_BODY_BYTES : 1;
    memset(&info, 0, sizeof info);
    rc = cli_load_secret(a->prog, b, cli_get(a, "key", NULL), &me);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = cli_read_alloc(a->prog, "delivery", in, max_delivery_size(), &dlv, &dlv_len);
    if (rc == CLI_CONTINUE)
        rc = cli_count(a, "sender") == 0
                 ? cli_client_sender(a, b, handle, handle_len, dlv, dlv_len, &sender)
                 : cli_load_public(a->prog, b, cli_get(a, "sender", NULL), &sender);
    if (rc != CLI_CONTINUE)
        goto done;
    body = malloc(body_cap);
    if (body == NULL) {
        cli_err(a->prog, "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    /* The replay state persists across runs in DIR/replay.mdb. */
    if (state != NULL) {
        rc = cli_make_dir(a->prog, state);
        if (rc != CLI_CONTINUE)
            goto done;
        imc_status so = imc_replay_open(&replay, state, NULL, b, NULL);
        if (so != IMC_OK) {
            cli_err(a->prog, "replay state %s/%s: %s", state, IMC_REPLAY_FILE,
                    imc_status_str(so));
            rc = CLI_EXIT_FAIL;
            goto done;
        }
    }

    imc_msg_peer peer = {.handle = handle, .handle_len = handle_len, .device = &sender};
    imc_status st =
        imc_msg_decrypt(body, body_cap, &info, b, &me, &peer, replay, now_ms(), dlv, dlv_len);
    imc_keys_wipe(&me);
    if (st != IMC_OK) {
        imc_envelope env;
        if (st == IMC_ERR_MALFORMED && imc_msg_parse_envelope(&env, dlv, dlv_len) == IMC_OK)
            cli_err(a->prog, "the input is an envelope: split it with 'imcore fanout' first");
        else
            cli_err(a->prog, "%s", imc_status_str(st));
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    /* Only now, with the whole body authenticated, does anything get out. */
    rc = cli_write_output(a, out_path, body, info.body_len, 0600);
    if (rc == CLI_CONTINUE) {
        if (replay == NULL)
            fprintf(stderr, "%s: without --state a replayed delivery cannot be detected\n",
                    a->prog);
        print_received(stderr, &info, cli_flag(a, "json"));
        rc = CLI_EXIT_OK;
    }
done:
    imc_replay_close(replay);
    imc_keys_wipe(&me);
    if (body != NULL)
        imc_wipe(body, body_cap);
    free(body);
    free(dlv);
    return rc;
}

static const cli_opt decrypt_opts[] = {
    {"key", CLI_OPT_VALUE, true, "FILE", "this device's secret key file"},
    {"from", CLI_OPT_VALUE, true, "HANDLE", "the handle the message must come from"},
    {"sender", CLI_OPT_VALUE, false, "FILE",
     "the sending device's public key file (default: from --state)"},
    {"in", CLI_OPT_VALUE, false, "FILE", "the delivery, '-' for standard input (default)"},
    {"out", CLI_OPT_VALUE, false, "FILE", "the plaintext, '-' for standard output (default)"},
    {"json", CLI_OPT_FLAG, false, NULL, "print the sender information as one JSON line"},
    {"state", CLI_OPT_VALUE, false, "DIR",
     "this device's state directory (created if missing): replays refused across runs;\n"
     "sender taken from its verified client state without --sender"},
    CLI_OPT_BACKEND,
    {"force", CLI_OPT_FLAG, false, NULL, "replace --out if it exists"},
};

const cli_cmd cli_cmd_decrypt = {
    .name = "decrypt",
    .summary = "Verify and decrypt one delivery on a recipient device",
    .opts = decrypt_opts,
    .opt_count = CLI_ARRAY_LEN(decrypt_opts),
    .details =
        "Succeeds only if the delivery is for this device and is signed by the --sender\n"
        "device of the --from handle. On success the plaintext is written (a file\n"
        "atomically, mode 0600) and the authenticated sender, device, message id and\n"
        "timestamp go to standard error. On any failure nothing is written and the exit\n"
        "status is 1. --out is never an input nor (without --force) an existing file.\n"
        "A timestamp too far ahead of this machine's clock, or older than the maximum\n"
        "message age, is refused (docs/replay.md). With --state DIR, DIR/replay.mdb\n"
        "remembers what this device accepted and a replayed delivery is refused;\n"
        "without it replays cannot be detected, and a line on standard error says so\n"
        "before the sender information. Without --sender, the sending device (named in\n"
        "the delivery) must be a current device of --from in the verified client state\n"
        "DIR/client.mdb ('imcore client'): a revoked device is refused.\n",
    .inputs = "key sender",
    .run = run_decrypt,
};

/* ---- inspect ------------------------------------------------------------ */

static void put_hex_field(FILE *out, const char *name, const uint8_t *p, size_t n, bool comma)
{
    fprintf(out, "  \"%s\": \"", name);
    cli_put_hex(out, p, n);
    fprintf(out, "\"%s\n", comma ? "," : "");
}

static void print_message_json(FILE *out, const uint8_t *in, size_t in_len,
                               const imc_msg_header *h, const imc_envelope *env,
                               const imc_delivery *d, const uint8_t *sig)
{
    const imc_suite *s = imc_suite_get(h->suite); /* the parser accepts known suites only */
    fprintf(out, "{\n  \"kind\": \"%s\",\n  \"version\": %u,\n  \"size\": %zu,\n",
            env != NULL ? "envelope" : "delivery", (unsigned)in[0], in_len);
    fprintf(out, "  \"suite\": \"%s\",\n  \"suite_id\": %u,\n  \"sender_handle\": ",
            s != NULL ? s->name : "unknown", (unsigned)h->suite);
    cli_put_json_string(out, h->sender_handle, h->sender_handle_len);
    fputs(",\n", out);
    put_hex_field(out, "sender_handle_hex", h->sender_handle, h->sender_handle_len, true);
    fprintf(out, "  \"sender_device\": \"%llu\",\n", (unsigned long long)h->sender_device);
    put_hex_field(out, "message_id", h->message_id, IMC_MSG_ID_BYTES, true);
    fprintf(out, "  \"timestamp_ms\": %llu,\n  \"timestamp\": \"",
            (unsigned long long)h->timestamp_ms);
    cli_put_utc(out, h->timestamp_ms);
    fputs("\",\n", out);
    put_hex_field(out, "eph_pk", h->eph_pk, s != NULL ? s->eph_bytes : 0, true);
    put_hex_field(out, "commitment", h->commitment, IMC_MSG_COMMIT_BYTES, true);
    fprintf(out, "  \"body_ciphertext_len\": %zu,\n  \"body_plaintext_len\": %zu,\n",
            h->body_len, h->body_len >= 16 ? h->body_len - 16 : 0);
    /* The signed recipient set, then the wraps this message carries: all
     * of them in an envelope, the device's own in a delivery. */
    const imc_msg_recipients *rc = env != NULL ? &env->rcpt : &d->rcpt;
    fprintf(out, "  \"recipient_ids\": [");
    for (size_t i = 0; i < rc->count; i++)
        fprintf(out, "%s\"%llu\"", i > 0 ? ", " : "",
                (unsigned long long)imc_msg_recipient_id(rc, i));
    fputs("],\n", out);
    if (d != NULL)
        fprintf(out, "  \"index\": %zu,\n", d->index);
    size_t count = env != NULL ? env->rcpt.count : 1;
    fprintf(out, "  \"recipients\": [");
    for (size_t i = 0; i < count; i++) {
        imc_msg_entry e = env != NULL ? imc_msg_envelope_entry(env, i) : d->entry;
        fprintf(out, "%s\n    {\"device_id\": \"%llu\", \"wrap\": \"", i > 0 ? "," : "",
                (unsigned long long)e.device_id);
        cli_put_hex(out, e.wrap, s != NULL ? s->wrap_bytes : 0);
        fputs("\"}", out);
    }
    fputs("\n  ],\n", out);
    put_hex_field(out, "signature", sig, s != NULL ? s->sig_bytes : 0, false);
    fputs("}\n", out);
}

static void print_public_key_json(FILE *out, const imc_device_public *pub)
{
    const imc_suite *s = imc_suite_get(pub->suite);
    fprintf(out, "{\n  \"kind\": \"public_key\",\n  \"suite\": \"%s\",\n  \"suite_id\": %u,\n",
            suite_name(pub->suite), (unsigned)pub->suite);
    fprintf(out, "  \"device_id\": \"%llu\",\n", (unsigned long long)pub->device_id);
    put_hex_field(out, "dh_pk", pub->dh_pk, s != NULL ? s->dh_public_bytes : 0, true);
    put_hex_field(out, "sig_pk", pub->sig_pk, s != NULL ? s->sig_public_bytes : 0, false);
    fputs("}\n", out);
}

/* Names the problem for an input that did not parse. The 4-byte prefix
 * (version, kind, suite id) is at fixed offsets, so it can be checked here
 * without a second parser; past it, the library's status is all we say. */
static void report_bad_input(const char *prog, const uint8_t *in, size_t len, const char *what,
                             imc_status st)
{
    if (len >= 1 && in[0] != IMC_MSG_VERSION)
        cli_err(prog, "%s: unsupported version %u (%zu bytes of input)", imc_status_str(st),
                (unsigned)in[0], len);
    else if (len >= 4 && imc_suite_get(((uint32_t)in[2] << 8) | in[3]) == NULL)
        cli_err(prog, "%s: unknown suite id %u (%zu bytes of input)", imc_status_str(st),
                ((unsigned)in[2] << 8) | in[3], len);
    else
        cli_err(prog, "%s: not a valid %s (%zu bytes of input)", imc_status_str(st), what, len);
}

static int run_inspect(const cli_args *a)
{
    size_t max = max_envelope_size();
    if (max_delivery_size() > max)
        max = max_delivery_size();
    uint8_t *in = NULL;
    size_t len = 0;
    int rc = cli_check_stdin(a, cli_get(a, "in", "-"), "input");
    if (rc == CLI_CONTINUE)
        rc = cli_read_alloc(a->prog, "input", cli_get(a, "in", "-"), max, &in, &len);
    if (rc != CLI_CONTINUE)
        return rc;

    imc_device_public pub;
    imc_status st;
    uint8_t kind = len >= 2 ? in[1] : 0;
    if (kind == IMC_MSG_KIND_ENVELOPE) {
        imc_envelope env;
        st = imc_msg_parse_envelope(&env, in, len);
        if (st == IMC_OK)
            print_message_json(stdout, in, len, &env.h, &env, NULL, env.sig);
        else
            report_bad_input(a->prog, in, len, "envelope", st);
    } else if (kind == IMC_MSG_KIND_DELIVERY) {
        imc_delivery d;
        st = imc_msg_parse_delivery(&d, in, len);
        if (st == IMC_OK)
            print_message_json(stdout, in, len, &d.h, NULL, &d, d.sig);
        else
            report_bad_input(a->prog, in, len, "delivery", st);
    } else if (imc_keys_decode_public(&pub, in, len) == IMC_OK) {
        st = IMC_OK;
        print_public_key_json(stdout, &pub);
    } else {
        st = IMC_ERR_MALFORMED;
        imc_device_keys keys;
        memset(&keys, 0, sizeof keys);
        const imc_backend *b = imc_backend_get(imc_backend_list(NULL)[0]);
        if (b != NULL && imc_keys_decode_secret(&keys, b, in, len) == IMC_OK)
            cli_err(a->prog, "this is a secret key file; inspect does not show secrets");
        else if (len < 2)
            cli_err(a->prog, "%s: %zu bytes of input is too short for a message",
                    imc_status_str(st), len);
        else
            cli_err(a->prog,
                    "%s: kind byte 0x%02x is neither an envelope (0x%02x) nor a delivery "
                    "(0x%02x), and the input is not a public key file (%zu bytes)",
                    imc_status_str(st), (unsigned)kind, IMC_MSG_KIND_ENVELOPE,
                    IMC_MSG_KIND_DELIVERY, len);
        imc_keys_wipe(&keys);
    }
    imc_wipe(in, len); /* it may have been a secret key file */
    free(in);
    if (st != IMC_OK)
        return CLI_EXIT_FAIL;
    if (fflush(stdout) != 0) {
        cli_err(a->prog, "cannot write to standard output");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static const cli_opt inspect_opts[] = {
    {"in", CLI_OPT_VALUE, false, "FILE", "the input, '-' for standard input (default)"},
};

const cli_cmd cli_cmd_inspect = {
    .name = "inspect",
    .summary = "Print an envelope, a delivery or a public key file as JSON (no keys needed)",
    .opts = inspect_opts,
    .opt_count = CLI_ARRAY_LEN(inspect_opts),
    .details = "The input is parsed with the library's strict parser and nothing is verified:\n"
               "the fields shown are what the bytes claim. Byte strings are lower-case hex;\n"
               "64-bit device ids are JSON strings so that tools that read numbers as doubles\n"
               "(jq, JavaScript) keep them exact.\n",
    .run = run_inspect,
};
