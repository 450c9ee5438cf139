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
#include "imcore/dirkt.h"
#include "imcore/util.h"

/* ---- init ---------------------------------------------------------------- */

/* A vkey option value of the given signature type, or a usage error. */
static int parse_vkey(const cli_args *a, const imc_backend *b, const char *opt, const char *text,
                      uint8_t type, imc_kt_key *k)
{
    if (imc_kt_vkey_parse(k, b, text, strlen(text)) != IMC_OK || k->type != type) {
        cli_err(a->prog, "option --%s: '%s' is not %s verifier key (NAME+ID+BASE64)", opt, text,
                type == IMC_KT_SIG_ED25519 ? "a log" : "a witness");
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

/* --log-key, --witness and --threshold into cfg; *on says whether
 * transparency was asked for. */
static int get_kt_config(const cli_args *a, const imc_backend *b, imc_kt_client_config *cfg,
                         bool *on)
{
    memset(cfg, 0, sizeof *cfg);
    size_t n = cli_count(a, "witness");
    *on = cli_get(a, "log-key", NULL) != NULL;
    if (!*on) {
        if (n == 0 && cli_get(a, "threshold", NULL) == NULL)
            return CLI_CONTINUE;
        cli_err(a->prog, "--witness and --threshold need --log-key");
        return CLI_EXIT_USAGE;
    }
    if (n > IMC_KT_MAX_WITNESSES) {
        cli_err(a->prog, "at most %d --witness", IMC_KT_MAX_WITNESSES);
        return CLI_EXIT_USAGE;
    }
    int rc = parse_vkey(a, b, "log-key", cli_get(a, "log-key", ""), IMC_KT_SIG_ED25519,
                        &cfg->log);
    for (size_t i = 0; i < n && rc == CLI_CONTINUE; i++)
        rc = parse_vkey(a, b, "witness", cli_get_nth(a, "witness", i), IMC_KT_SIG_COSIGNATURE,
                        &cfg->witnesses[i]);
    cfg->witness_count = n;
    uint64_t k = 0;
    if (rc == CLI_CONTINUE)
        rc = cli_get_u64(a, "threshold", n, &k);
    if (rc == CLI_CONTINUE && k > n) {
        cli_err(a->prog, "option --threshold: %llu is more than the %zu witnesses given",
                (unsigned long long)k, n);
        rc = CLI_EXIT_USAGE;
    }
    cfg->threshold = (size_t)k;
    return rc;
}

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
    imc_kt_client_config cfg;
    bool kt = false;
    if (rc == CLI_CONTINUE)
        rc = get_kt_config(a, b, &cfg, &kt);
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
        rc = cli_client_open_kt(a->prog, b, dir, NULL, 0, 0, kt ? &cfg : NULL, &c);
    imc_dircache_free(c);
    if (rc != CLI_CONTINUE)
        return rc;
    printf("%s: pinned directory key ", dir);
    cli_put_hex(stdout, pk, IMC_DIR_PUBLIC_BYTES);
    putchar('\n');
    if (kt)
        printf("%s: transparency log %.*s, %zu of %zu witnesses must cosign\n", dir,
               (int)cfg.log.name_len, cfg.log.name, cfg.threshold, cfg.witness_count);
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

static const char *kt_error(imc_status st, bool evidence)
{
    switch (st) {
    case IMC_ERR_STALE:
        return "refused: older than the checkpoint this state holds (a rollback)";
    case IMC_ERR_AUTH:
        return evidence ? "refused: the log contradicts a checkpoint it signed before; the two "
                          "are kept as evidence ('imcore client evidence')"
                        : "refused: not signed by the log key, too few valid witness "
                          "cosignatures, or no valid consistency proof from the held checkpoint";
    case IMC_ERR_MALFORMED: return "refused: the checkpoint or the proof does not parse";
    case IMC_ERR_UNSUPPORTED:
        return "this client state has no transparency log (client init --log-key)";
    default: return imc_status_str(st);
    }
}

static void put_checkpoint(const imc_kt_checkpoint *cp)
{
    printf("checkpoint %.*s size %llu epoch %llu root ", (int)cp->origin_len, cp->origin,
           (unsigned long long)cp->size, (unsigned long long)cp->epoch);
    cli_put_hex(stdout, cp->root, sizeof cp->root);
    putchar('\n');
}

/* The entries of a verified answer, plain or with proofs. */
typedef struct answer_iter {
    bool proofs;
    imc_dir_response r;
    imc_dir_kt_lookup_response *kr;
    imc_dir_kt_answer *ans;
    size_t off;
} answer_iter;

static bool iter_start(answer_iter *it, bool proofs, const uint8_t *resp, size_t len)
{
    memset(it, 0, sizeof *it);
    it->proofs = proofs;
    if (!proofs)
        return imc_dir_parse_response(&it->r, resp, len) == IMC_OK;
    it->kr = malloc(sizeof *it->kr);
    it->ans = malloc(sizeof *it->ans);
    return it->kr != NULL && it->ans != NULL &&
           imc_dir_kt_parse_lookup(it->kr, resp, len) == IMC_OK;
}

static bool iter_next(answer_iter *it, imc_dir_entry *e)
{
    if (!it->proofs)
        return imc_dir_response_next(e, &it->off, &it->r) == IMC_OK;
    if (imc_dir_kt_lookup_next(it->ans, &it->off, it->kr) != IMC_OK)
        return false;
    *e = it->ans->entry;
    return true;
}

static void iter_end(answer_iter *it)
{
    free(it->kr);
    free(it->ans);
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
                        IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(IMC_DIR_MAX_BATCH), &resp, &resp_len);
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
    bool proofs = resp_len >= 2 && resp[1] == IMC_DIR_KIND_KT_LOOKUP_RESP, ev = false;
    imc_status st = IMC_OK;
    if (rc == CLI_CONTINUE)
        st = proofs ? imc_dircache_apply_kt(c, ch, cap, &n, &ev, now, resp, resp_len)
                    : imc_dircache_apply(c, ch, cap, &n, now, resp, resp_len);
    if (rc == CLI_CONTINUE && st != IMC_OK) {
        if (!proofs && st == IMC_ERR_AUTH && imc_dircache_kt_enabled(c))
            cli_err(a->prog, "refused: this state verifies the transparency log and the answer "
                             "carries no proofs (ask for a lookup with proofs)");
        else if (proofs && (st == IMC_ERR_STALE || ev || st == IMC_ERR_UNSUPPORTED))
            cli_err(a->prog, "%s", kt_error(st, ev));
        else if (proofs && st == IMC_ERR_AUTH)
            cli_err(a->prog, "refused: the checkpoint (log signature, witness cosignatures, "
                             "consistency) or an answer's proofs do not verify");
        else
            cli_err(a->prog, "%s", apply_error(st));
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_CONTINUE) {
        /* The entries again, for their handles (the answer verified above). */
        answer_iter it;
        bool have = iter_start(&it, proofs, resp, resp_len) && iter_next(&it, e);
        size_t entry = 0;
        for (size_t i = 0; i < n && have; i++) {
            while (entry < ch[i].entry && have) {
                have = iter_next(&it, e);
                entry++;
            }
            if (have)
                print_change(&ch[i], &e->rec);
        }
        iter_end(&it);
        imc_kt_checkpoint cp;
        if (proofs && imc_dircache_kt_checkpoint(&cp, c) == IMC_OK)
            put_checkpoint(&cp);
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

/* ---- checkpoint / evidence ------------------------------------------------ */

static int run_checkpoint(const cli_args *a)
{
    const imc_backend *b = NULL;
    int rc = cli_get_backend(a, &b);
    const char *in = cli_get(a, "in", NULL), *note_path = cli_get(a, "note", NULL);
    if (rc == CLI_CONTINUE && (in == NULL) == (note_path == NULL)) {
        cli_err(a->prog, "give either --in (a checkpoint answer) or --note (a signed note)");
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_CONTINUE && in != NULL && cli_get(a, "proof", NULL) != NULL) {
        cli_err(a->prog, "--proof goes with --note (an answer carries its proof)");
        rc = CLI_EXIT_USAGE;
    }
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t *buf = NULL, *proof_buf = NULL;
    size_t len = 0, proof_len = 0;
    const uint8_t *note = NULL, *proof = NULL;
    size_t note_len = 0;
    rc = cli_read_alloc(a->prog, in != NULL ? "checkpoint answer" : "checkpoint note",
                        in != NULL ? in : note_path, IMC_DIR_KT_HEAD_MAX_BYTES, &buf, &len);
    if (rc == CLI_CONTINUE && cli_get(a, "proof", NULL) != NULL)
        rc = cli_read_alloc(a->prog, "consistency proof", cli_get(a, "proof", ""),
                            IMC_KT_LOG_PROOF_MAX_BYTES, &proof_buf, &proof_len);
    imc_dir_kt_head head;
    if (rc == CLI_CONTINUE && in != NULL) {
        if (imc_dir_kt_parse_head(&head, buf, len) != IMC_OK) {
            cli_err(a->prog, "refused: '%s' is not a checkpoint answer", in);
            rc = CLI_EXIT_FAIL;
        } else {
            note = head.note;
            note_len = head.note_len;
            proof = head.proof;
            proof_len = head.proof_len;
        }
    } else if (rc == CLI_CONTINUE) {
        note = buf;
        note_len = len;
        proof = proof_buf;
    }
    imc_dircache *c = NULL;
    if (rc == CLI_CONTINUE)
        rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), NULL, 0, 0, &c);
    if (rc == CLI_CONTINUE) {
        bool ev = false;
        imc_kt_checkpoint cp;
        imc_status st = imc_dircache_kt_update(c, &ev, note, note_len, proof, proof_len);
        if (st != IMC_OK) {
            cli_err(a->prog, "%s", kt_error(st, ev));
            rc = CLI_EXIT_FAIL;
        } else if (imc_dircache_kt_checkpoint(&cp, c) == IMC_OK) {
            put_checkpoint(&cp);
            rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        }
    }
    imc_dircache_free(c);
    free(buf);
    free(proof_buf);
    return rc == CLI_CONTINUE ? CLI_EXIT_OK : rc;
}

static int run_evidence(const cli_args *a)
{
    const imc_backend *b = NULL;
    const char *out = cli_get(a, "out", "");
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_check_output(a, out);
    imc_dircache *c = NULL;
    if (rc == CLI_CONTINUE)
        rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), NULL, 0, 0, &c);
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t *ev = malloc(IMC_DIRCACHE_EVIDENCE_MAX_BYTES);
    size_t len = 0;
    imc_status st = ev != NULL ? imc_dircache_evidence(ev, IMC_DIRCACHE_EVIDENCE_MAX_BYTES, &len, c)
                               : IMC_ERR_NOMEM;
    if (st == IMC_ERR_NOT_FOUND) {
        cli_err(a->prog, "no evidence in this client state (nothing contradictory seen)");
        rc = CLI_EXIT_FAIL;
    } else if (st != IMC_OK) {
        cli_err(a->prog, "%s", imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else {
        rc = cli_write_output(a, out, ev, len, 0644);
    }
    if (rc == CLI_CONTINUE)
        fprintf(stderr, "%s: %zu bytes of evidence written (check it with 'imcore "
                        "verify-evidence')\n", a->prog, len);
    free(ev);
    imc_dircache_free(c);
    return rc == CLI_CONTINUE ? CLI_EXIT_OK : rc;
}

/* ---- request / audit --------------------------------------------------------- */

static int run_request(const cli_args *a)
{
    const imc_backend *b = NULL;
    const char *out = cli_get(a, "out", "");
    size_t nl = cli_count(a, "lookup");
    bool head = cli_flag(a, "checkpoint"), audit = cli_get(a, "audit", NULL) != NULL;
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE && (head ? 1 : 0) + (nl != 0 ? 1 : 0) + (audit ? 1 : 0) != 1) {
        cli_err(a->prog, "give one of --checkpoint, --lookup H..., --audit H");
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_CONTINUE && nl > IMC_DIR_MAX_BATCH) {
        cli_err(a->prog, "at most %d --lookup", IMC_DIR_MAX_BATCH);
        rc = CLI_EXIT_USAGE;
    }
    uint8_t(*names)[IMC_MAX_HANDLE_BYTES] = calloc(nl + 1, sizeof *names);
    imc_dir_handle *hs = calloc(nl + 1, sizeof *hs);
    if (rc == CLI_CONTINUE && (names == NULL || hs == NULL)) {
        cli_err(a->prog, "out of memory");
        rc = CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < nl && rc == CLI_CONTINUE; i++) {
        rc = cli_normalise_handle(a->prog, "lookup", cli_get_nth(a, "lookup", i), names[i],
                                  &hs[i].len);
        hs[i].bytes = names[i];
    }
    if (rc == CLI_CONTINUE && audit) {
        rc = cli_normalise_handle(a->prog, "audit", cli_get(a, "audit", ""), names[0], &hs[0].len);
        hs[0].bytes = names[0];
    }
    if (rc == CLI_CONTINUE)
        rc = cli_check_output(a, out);
    imc_dircache *c = NULL;
    if (rc == CLI_CONTINUE)
        rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), NULL, 0, 0, &c);
    imc_kt_checkpoint cp;
    uint64_t known = 0, since = 0;
    imc_status st = IMC_OK;
    if (rc == CLI_CONTINUE) {
        st = imc_dircache_kt_checkpoint(&cp, c);
        known = st == IMC_OK ? cp.size : 0;
        st = st == IMC_ERR_NOT_FOUND ? IMC_OK : st;
    }
    if (rc == CLI_CONTINUE && st == IMC_OK && audit) {
        st = imc_dircache_audit_since(&since, c, hs[0].bytes, hs[0].len);
        if (st == IMC_ERR_NOT_FOUND) {
            cli_err(a->prog, "%.*s: this state never saw a version of it: look it up first",
                    (int)hs[0].len, (const char *)hs[0].bytes);
            rc = CLI_EXIT_FAIL;
        }
    }
    uint8_t *req = rc == CLI_CONTINUE ? malloc(IMC_DIR_KT_REQUEST_MAX_BYTES) : NULL;
    size_t len = 0;
    if (rc == CLI_CONTINUE && st == IMC_OK)
        st = req == NULL ? IMC_ERR_NOMEM
             : head      ? imc_dir_kt_encode_head(req, IMC_DIR_KT_REQUEST_MAX_BYTES, &len, known)
             : audit     ? imc_dir_kt_encode_audit(req, IMC_DIR_KT_REQUEST_MAX_BYTES, &len, known,
                                                   hs[0].bytes, hs[0].len, since)
                         : imc_dir_kt_encode_lookup(req, IMC_DIR_KT_REQUEST_MAX_BYTES, &len, known,
                                                    hs, nl);
    if (rc == CLI_CONTINUE && st != IMC_OK) {
        cli_err(a->prog, "%s", st == IMC_ERR_UNSUPPORTED ? kt_error(st, false)
                               : st == IMC_ERR_MALFORMED ? "repeated --lookup handles"
                                                         : imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_CONTINUE)
        rc = cli_write_output(a, out, req, len, 0644);
    if (rc == CLI_CONTINUE && audit)
        fprintf(stderr, "%s: audit from version %llu, checkpoint size %llu held\n", a->prog,
                (unsigned long long)since, (unsigned long long)known);
    free(req);
    free(names);
    free(hs);
    imc_dircache_free(c);
    return rc == CLI_CONTINUE ? CLI_EXIT_OK : rc;
}

#define AUDIT_SHOWN 64 /* findings printed one by one */

static int run_audit(const cli_args *a)
{
    const imc_backend *b = NULL;
    uint8_t h[IMC_MAX_HANDLE_BYTES];
    size_t h_len = 0;
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_get_handle(a, "handle", h, &h_len);
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    if (rc == CLI_CONTINUE)
        rc = cli_check_stdin(a, cli_get(a, "in", "-"), "audit answer");
    if (rc == CLI_CONTINUE)
        rc = cli_read_alloc(a->prog, "audit answer", cli_get(a, "in", "-"),
                            IMC_DIR_KT_AUDIT_RESPONSE_MAX_BYTES, &resp, &resp_len);
    imc_dircache *c = NULL;
    if (rc == CLI_CONTINUE)
        rc = cli_client_open(a->prog, b, cli_get(a, "state", ""), NULL, 0, 0, &c);
    imc_dir_audit_finding *f = rc == CLI_CONTINUE ? calloc(AUDIT_SHOWN, sizeof *f) : NULL;
    if (rc == CLI_CONTINUE && f == NULL) {
        cli_err(a->prog, "out of memory");
        rc = CLI_EXIT_FAIL;
    }
    size_t n = 0;
    bool complete = false, ev = false;
    uint64_t since = 0;
    imc_status st = IMC_OK;
    if (rc == CLI_CONTINUE) {
        st = imc_dircache_audit_since(&since, c, h, h_len);
        if (st == IMC_OK)
            st = imc_dircache_audit(c, f, AUDIT_SHOWN, &n, &complete, &ev,
                                    cli_flag(a, "acknowledge"), h, h_len, resp, resp_len);
    }
    if (rc == CLI_CONTINUE && st != IMC_OK) {
        if (st == IMC_ERR_STALE || ev || st == IMC_ERR_UNSUPPORTED)
            cli_err(a->prog, "%s", kt_error(st, ev));
        else if (st == IMC_ERR_NOT_FOUND)
            cli_err(a->prog, "%.*s: this state never saw a version of it", (int)h_len,
                    (const char *)h);
        else
            cli_err(a->prog, "refused: the audit answer does not verify (another handle or "
                             "starting version than asked, a version left out or changed, or "
                             "a proof that fails): %s",
                    imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_CONTINUE) {
        for (size_t i = 0; i < n && i < AUDIT_SHOWN; i++) {
            printf("WARNING: %.*s version %llu was not seen by this device: ", (int)h_len,
                   (const char *)h, (unsigned long long)f[i].version);
            fputs(f[i].key_known ? "signed by the pinned account key (a change made "
                                   "elsewhere: another device, or a stolen account key); list "
                                 : "signed by an ACCOUNT KEY THIS DEVICE DOES NOT KNOW; list ",
                  stdout);
            cli_put_hex(stdout, f[i].list_hash, sizeof f[i].list_hash);
            putchar('\n');
        }
        if (n > AUDIT_SHOWN)
            printf("WARNING: %zu more versions not seen\n", n - AUDIT_SHOWN);
        printf("audit of %.*s from version %llu: %zu version%s not seen by this device%s%s\n",
               (int)h_len, (const char *)h, (unsigned long long)since, n, n == 1 ? "" : "s",
               complete ? "" : " (more to audit: run it again)",
               n != 0 && !cli_flag(a, "acknowledge")
                   ? "; reported again until --acknowledge"
                   : "");
        rc = fflush(stdout) != 0 ? CLI_EXIT_FAIL : n != 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    free(f);
    free(resp);
    imc_dircache_free(c);
    return rc;
}

/* ---- Command table ------------------------------------------------------------ */

#define OPT_STATE {"state", CLI_OPT_VALUE, true, "DIR", "the client state directory"}

static const cli_opt init_opts[] = {
    OPT_STATE,
    {"directory-key", CLI_OPT_VALUE, true, "FILE", "the directory's public key (DB.pub) to pin"},
    {"log-key", CLI_OPT_VALUE, false, "VKEY", "the directory's transparency-log verifier key"},
    {"witness", CLI_OPT_MULTI, false, "VKEY", "a witness's verifier key (repeat, up to 16)"},
    {"threshold", CLI_OPT_VALUE, false, "K", "cosignatures needed (default: every witness)"},
    CLI_OPT_BACKEND,
};
static const cli_opt checkpoint_opts[] = {
    OPT_STATE,
    {"in", CLI_OPT_VALUE, false, "FILE", "a checkpoint answer of the directory"},
    {"note", CLI_OPT_VALUE, false, "FILE", "or a signed checkpoint note (e.g. cosigned)"},
    {"proof", CLI_OPT_VALUE, false, "FILE", "with --note: consistency proof from the held size"},
    CLI_OPT_BACKEND,
};
static const cli_opt request_opts[] = {
    OPT_STATE,
    {"out", CLI_OPT_VALUE, true, "FILE", "where to write the request"},
    {"checkpoint", CLI_OPT_FLAG, false, NULL, "ask for the latest checkpoint"},
    {"lookup", CLI_OPT_MULTI, false, "H", "ask for handles with proofs (repeat)"},
    {"audit", CLI_OPT_VALUE, false, "H", "ask for the history of a handle (your own)"},
    {"force", CLI_OPT_FLAG, false, NULL, "replace --out if it exists"},
    CLI_OPT_BACKEND,
};
static const cli_opt audit_opts[] = {
    OPT_STATE,
    {"handle", CLI_OPT_VALUE, true, "H", "the audited handle (your own)"},
    {"in", CLI_OPT_VALUE, false, "FILE", "the directory's audit answer"},
    {"acknowledge", CLI_OPT_FLAG, false, NULL, "the versions reported were checked: move on"},
    CLI_OPT_BACKEND,
};
static const cli_opt evidence_opts[] = {
    OPT_STATE,
    {"out", CLI_OPT_VALUE, true, "FILE", "where to write the evidence"},
    {"force", CLI_OPT_FLAG, false, NULL, "replace --out if it exists"},
    CLI_OPT_BACKEND,
};
static const cli_opt apply_opts[] = {
    OPT_STATE,
    {"in", CLI_OPT_VALUE, false, "FILE", "the answer of 'imcore dir lookup|register ... --out'"},
    {"now", CLI_OPT_VALUE, false, "MS", "this device's clock, ms since 1970 (default: now)"},
    CLI_OPT_BACKEND,
};
static const cli_opt show_opts[] = {
    OPT_STATE,
    {"handle", CLI_OPT_VALUE, true, "H", "the account to show"},
    {"me", CLI_OPT_VALUE, false, "H", "your own handle: also show the safety number"},
    CLI_OPT_BACKEND,
};
static const cli_opt accept_opts[] = {
    OPT_STATE,
    {"handle", CLI_OPT_VALUE, true, "H", "the account whose new key you checked"},
    CLI_OPT_BACKEND,
};

static const cli_cmd client_init = {
    .name = "init",
    .summary = "Create a client state pinned to a directory's key",
    .opts = init_opts,
    .opt_count = CLI_ARRAY_LEN(init_opts),
    .details = "Creates DIR (if missing), DIR/directory.pub and DIR/client.mdb. With --log-key,\n"
               "the state also verifies the directory's transparency log: checkpoints need a\n"
               "valid log signature, K valid cosignatures of the --witness keys, and a\n"
               "consistency proof from the last one held (docs/transparency.md).\n",
    .run = run_init,
};
static const cli_cmd client_checkpoint = {
    .name = "checkpoint",
    .summary = "Verify a transparency checkpoint and move the state forward to it",
    .opts = checkpoint_opts,
    .opt_count = CLI_ARRAY_LEN(checkpoint_opts),
    .inputs = "note proof",
    .details = "Refuses (exit 1, state unchanged) a rollback, a checkpoint without enough\n"
               "witness cosignatures, and one not proved consistent with the held one. Two\n"
               "checkpoints the log signed that contradict each other are kept as evidence\n"
               "(the only write of a refusal). Prints the checkpoint held afterwards.\n",
    .run = run_checkpoint,
};
static const cli_cmd client_request = {
    .name = "request",
    .summary = "Write a transparency request: checkpoint, lookup with proofs, or audit",
    .opts = request_opts,
    .opt_count = CLI_ARRAY_LEN(request_opts),
    .details = "The request names the checkpoint size this state holds (the answer proves\n"
               "consistency from it) and, for --audit, the first version not yet audited.\n"
               "The directory answers it; 'client apply', 'client checkpoint --in' or\n"
               "'client audit' verify the answer.\n",
    .run = run_request,
};
static const cli_cmd client_audit = {
    .name = "audit",
    .summary = "Self-monitoring: verify a handle's history and report versions not seen here",
    .opts = audit_opts,
    .opt_count = CLI_ARRAY_LEN(audit_opts),
    .details = "Every version since the last audit must be in the log, hash-chained, under a\n"
               "checkpoint this state accepts. A version whose list this device never saw in a\n"
               "verified answer (a ghost device added and removed again, an account key it\n"
               "does not know) is reported loudly and the exit status is 1; it is reported\n"
               "again until --acknowledge. Exit 0: every version was seen here.\n",
    .run = run_audit,
};
static const cli_cmd client_evidence = {
    .name = "evidence",
    .summary = "Export the evidence of directory misbehaviour this state kept",
    .opts = evidence_opts,
    .opt_count = CLI_ARRAY_LEN(evidence_opts),
    .details = "The file is self-contained: anyone checks it with 'imcore verify-evidence'.\n"
               "Exit 1 if the state has none.\n",
    .run = run_evidence,
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

static const cli_cmd *const client_subs[] = {
    &client_init,       &client_apply,   &client_show,  &client_accept,
    &client_checkpoint, &client_request, &client_audit, &client_evidence};

const cli_cmd cli_cmd_client = {
    .name = "client",
    .summary = "Verifying directory client state: init|apply|show|accept|checkpoint|request|"
               "audit|evidence",
    .sub = client_subs,
    .sub_count = CLI_ARRAY_LEN(client_subs),
};
