/* imcore verify-evidence: checks a file of evidence that a directory
 * misbehaved ('imcore client evidence', docs/transparency.md "Evidence")
 * with nothing but the file and, optionally, the key the user trusts.
 * Exit 0: proven; 1: not proven (invalid, or signed by another key than
 * the one given); 2: usage. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "imcore/dircache.h"
#include "imcore/kt.h"

static void put_cp(const char *label, const imc_kt_checkpoint *cp)
{
    printf("  %s size %llu epoch %llu root ", label, (unsigned long long)cp->size,
           (unsigned long long)cp->epoch);
    cli_put_hex(stdout, cp->root, sizeof cp->root);
    putchar('\n');
}

static const char *claim(imc_kt_evidence_kind k)
{
    switch (k) {
    case IMC_KT_EVIDENCE_SAME_SIZE:
        return "the log signed two different checkpoints for one tree size (a split view)";
    case IMC_KT_EVIDENCE_PREFIX:
        return "the log signed a checkpoint whose tree does not extend an earlier signed one "
               "(history rewritten)";
    case IMC_KT_EVIDENCE_LIST:
        return "the directory signed two different device lists for one handle and one list "
               "version (a split view of that account)";
    }
    return "?";
}

static int run_verify(const cli_args *a)
{
    const imc_backend *b = NULL;
    int rc = cli_get_backend(a, &b);
    imc_kt_key want;
    memset(&want, 0, sizeof want);
    bool have_vkey = cli_get(a, "log-key", NULL) != NULL;
    uint8_t dir_pk[IMC_ED25519_PUBLIC_BYTES + 1];
    size_t dir_len = 0;
    if (rc == CLI_CONTINUE && have_vkey) {
        const char *t = cli_get(a, "log-key", "");
        if (imc_kt_vkey_parse(&want, b, t, strlen(t)) != IMC_OK ||
            want.type != IMC_KT_SIG_ED25519) {
            cli_err(a->prog, "option --log-key: '%s' is not a log verifier key", t);
            rc = CLI_EXIT_USAGE;
        }
    }
    if (rc == CLI_CONTINUE && cli_get(a, "directory-key", NULL) != NULL) {
        rc = cli_read_into(a->prog, "directory public key", cli_get(a, "directory-key", ""),
                           dir_pk, sizeof dir_pk, &dir_len);
        if (rc == CLI_CONTINUE && dir_len != IMC_ED25519_PUBLIC_BYTES) {
            cli_err(a->prog, "'%s' is not a directory public key", cli_get(a, "directory-key", ""));
            rc = CLI_EXIT_USAGE;
        }
    }
    uint8_t *in = NULL;
    size_t len = 0;
    if (rc == CLI_CONTINUE)
        rc = cli_check_stdin(a, cli_get(a, "in", "-"), "evidence");
    if (rc == CLI_CONTINUE)
        rc = cli_read_alloc(a->prog, "evidence", cli_get(a, "in", "-"),
                            IMC_DIRCACHE_EVIDENCE_MAX_BYTES, &in, &len);
    if (rc != CLI_CONTINUE)
        return rc;
    imc_kt_evidence e;
    imc_status st = imc_kt_evidence_verify(&e, b, in, len);
    free(in);
    if (st != IMC_OK) {
        cli_err(a->prog, "NOT PROVEN: %s",
                st == IMC_ERR_MALFORMED
                    ? "the file is not evidence in this format"
                    : "a signature does not verify, or the two statements do not contradict "
                      "each other");
        return CLI_EXIT_FAIL;
    }
    /* The claim binds the key inside; it is only about "your" directory if
     * that key is the one you trust. */
    bool other_name = e.kind != IMC_KT_EVIDENCE_LIST &&
                      (e.log.name_len != want.name_len ||
                       memcmp(e.log.name, want.name, e.log.name_len) != 0);
    if (have_vkey && (other_name || memcmp(e.log.pk, want.pk, sizeof want.pk) != 0)) {
        cli_err(a->prog, "NOT PROVEN: valid, but signed by another key than --log-key");
        return CLI_EXIT_FAIL;
    }
    if (dir_len != 0 && memcmp(e.log.pk, dir_pk, IMC_ED25519_PUBLIC_BYTES) != 0) {
        cli_err(a->prog, "NOT PROVEN: valid, but signed by another key than --directory-key");
        return CLI_EXIT_FAIL;
    }
    printf("PROVEN: %s\n", claim(e.kind));
    char v[IMC_KT_VKEY_MAX];
    if (imc_kt_vkey_encode(v, &e.log) == IMC_OK)
        printf("  signed by %s (public key ", v);
    cli_put_hex(stdout, e.log.pk, sizeof e.log.pk);
    puts(")");
    if (e.kind == IMC_KT_EVIDENCE_LIST) {
        printf("  handle %.*s, device list version %llu\n", (int)e.handle_len,
               (const char *)e.handle, (unsigned long long)e.version);
    } else {
        put_cp("checkpoint A:", &e.a);
        put_cp("checkpoint B:", &e.b);
    }
    if (!have_vkey && dir_len == 0)
        puts("  (no --log-key or --directory-key given: compare the key above with the one "
             "you trust)");
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static const cli_opt verify_opts[] = {
    {"in", CLI_OPT_VALUE, false, "FILE", "the evidence file (default: standard input)"},
    {"log-key", CLI_OPT_VALUE, false, "VKEY", "the log key you trust: the evidence must be its"},
    {"directory-key", CLI_OPT_VALUE, false, "FILE", "or the directory public key (DB.pub)"},
    CLI_OPT_BACKEND,
};

const cli_cmd cli_cmd_verify_evidence = {
    .name = "verify-evidence",
    .summary = "Check evidence that a directory signed two contradicting statements",
    .opts = verify_opts,
    .opt_count = CLI_ARRAY_LEN(verify_opts),
    .inputs = "directory-key",
    .details = "Needs nothing but the file: both statements carry the signer's key and its\n"
               "signatures. Says what is proven. Exit 0 proven, 1 not proven, 2 usage.\n",
    .run = run_verify,
};
