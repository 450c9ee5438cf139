/* imcore witness init|cosign|show: an independent witness of a directory's
 * transparency log (docs/transparency.md, "Witnesses").
 *
 * A witness is a state file (mode 0600, written atomically): its own
 * Ed25519 cosignature key, the log's verifier key, and the last checkpoint
 * it cosigned. 'cosign' verifies a new checkpoint and a consistency proof
 * from that one, saves the new state, and only then writes the checkpoint
 * with its cosignature line appended. File layout: docs/transparency.md,
 * "Witness state file". */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "imcore/dirkt.h"
#include "imcore/kt.h"
#include "imcore/util.h"
#include "imcore/wire.h"

#define WITNESS_FILE_VERSION 1
#define WITNESS_FILE_MAX                                                                           \
    (1 + IMC_ED25519_SECRET_BYTES + 2 * (1 + IMC_KT_MAX_NAME) + IMC_ED25519_PUBLIC_BYTES + 2 +    \
     IMC_KT_WITNESS_STATE_MAX)

/* A loaded witness: the library object holds the keys and the state. */
typedef struct witness_file {
    imc_kt_witness w;
    imc_kt_key key; /* the witness's own (cosignature) key */
    imc_kt_key log;
    uint8_t sk[IMC_ED25519_SECRET_BYTES]; /* the witness's secret, wiped with w */
} witness_file;

static imc_status encode_file(uint8_t *out, size_t cap, size_t *len, const witness_file *f)
{
    uint8_t st[IMC_KT_WITNESS_STATE_MAX];
    size_t st_len = 0;
    imc_status s = imc_kt_witness_save(st, sizeof st, &st_len, &f->w);
    if (s != IMC_OK)
        return s;
    imc_writer w;
    imc_wire_writer_init(&w, out, cap);
    imc_wire_write_u8(&w, WITNESS_FILE_VERSION);
    imc_wire_write_bytes(&w, f->sk, sizeof f->sk);
    imc_wire_write_u8(&w, (uint8_t)f->key.name_len);
    imc_wire_write_bytes(&w, (const uint8_t *)f->key.name, f->key.name_len);
    imc_wire_write_u8(&w, (uint8_t)f->log.name_len);
    imc_wire_write_bytes(&w, (const uint8_t *)f->log.name, f->log.name_len);
    imc_wire_write_bytes(&w, f->log.pk, sizeof f->log.pk);
    imc_wire_write_u16(&w, (uint16_t)st_len);
    imc_wire_write_bytes(&w, st, st_len);
    return imc_wire_writer_finish(&w, len);
}

static void wipe_file(witness_file *f)
{
    imc_kt_witness_wipe(&f->w);
    imc_wipe(f->sk, sizeof f->sk);
}

/* A name field of the file as a NUL-terminated string. */
static void copy_name(char out[IMC_KT_MAX_NAME + 1], const uint8_t *p, size_t len)
{
    memcpy(out, p, len);
    out[len] = '\0';
}

/* Strict parse of the whole file into f (keys checked, state loaded). */
static imc_status decode_file(witness_file *f, const imc_backend *b, const uint8_t *in,
                              size_t len)
{
    uint8_t *sk = f->sk, pk[IMC_ED25519_PUBLIC_BYTES];
    char name[IMC_KT_MAX_NAME + 1], log_name[IMC_KT_MAX_NAME + 1];
    imc_reader r;
    imc_wire_reader_init(&r, in, len);
    uint8_t version = imc_wire_read_u8(&r);
    imc_wire_read_copy(&r, sk, sizeof f->sk);
    size_t nl = imc_wire_read_u8(&r);
    const uint8_t *n = imc_wire_read_bytes(&r, nl);
    size_t ll = imc_wire_read_u8(&r);
    const uint8_t *l = imc_wire_read_bytes(&r, ll);
    const uint8_t *log_pk = imc_wire_read_bytes(&r, IMC_ED25519_PUBLIC_BYTES);
    size_t sl = imc_wire_read_u16(&r);
    const uint8_t *state = imc_wire_read_bytes(&r, sl);
    imc_status st = imc_wire_reader_finish(&r);
    /* A NUL inside a name would cut the string short: not canonical. */
    if (st == IMC_OK && (version != WITNESS_FILE_VERSION || nl > IMC_KT_MAX_NAME ||
                         ll > IMC_KT_MAX_NAME || memchr(n, 0, nl) != NULL ||
                         memchr(l, 0, ll) != NULL))
        st = IMC_ERR_MALFORMED;
    if (st == IMC_OK) {
        copy_name(name, n, nl);
        copy_name(log_name, l, ll);
        st = imc_crypto_ed25519_public(b, pk, sk);
    }
    if (st == IMC_OK)
        st = imc_kt_key_init(&f->key, b, name, IMC_KT_SIG_COSIGNATURE, pk);
    if (st == IMC_OK)
        st = imc_kt_key_init(&f->log, b, log_name, IMC_KT_SIG_ED25519, log_pk);
    if (st == IMC_OK)
        st = imc_kt_witness_init(&f->w, b, &f->key, sk, &f->log);
    if (st == IMC_OK)
        st = imc_kt_witness_load(&f->w, state, sl);
    return st == IMC_ERR_ARG ? IMC_ERR_MALFORMED : st;
}

static int load_file(const cli_args *a, const imc_backend *b, const char *path, witness_file *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = cli_read_alloc(a->prog, "witness state file", path, WITNESS_FILE_MAX, &buf, &len);
    if (rc != CLI_CONTINUE)
        return rc;
    struct stat sb;
    imc_status st = decode_file(f, b, buf, len);
    if (st != IMC_OK) {
        cli_err(a->prog, "'%s' is not a witness state file (%s)", path, imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0) {
        cli_err(a->prog, "witness state file '%s' can be read by others (mode %04o): chmod 600 it",
                path, (unsigned)(sb.st_mode & 07777));
        rc = CLI_EXIT_FAIL;
    }
    if (rc != CLI_CONTINUE)
        wipe_file(f);
    imc_wipe(buf, len);
    free(buf);
    return rc;
}

/* Writes f (with the secret it holds) to path atomically, mode 0600. */
static int save_file(const cli_args *a, const char *path, const witness_file *f, bool is_new)
{
    uint8_t buf[WITNESS_FILE_MAX];
    size_t len = 0;
    int rc;
    imc_status st = encode_file(buf, sizeof buf, &len, f);
    if (st != IMC_OK) {
        cli_err(a->prog, "cannot encode the witness state: %s", imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else if (is_new) {
        rc = cli_write_output(a, path, buf, len, 0600);
    } else {
        rc = cli_write_file(a->prog, path, buf, len, 0600, 0);
    }
    imc_wipe(buf, sizeof buf);
    return rc;
}

static int get_log_key(const cli_args *a, const imc_backend *b, imc_kt_key *log)
{
    const char *text = cli_get(a, "log-key", "");
    if (imc_kt_vkey_parse(log, b, text, strlen(text)) != IMC_OK ||
        log->type != IMC_KT_SIG_ED25519) {
        cli_err(a->prog,
                "option --log-key: '%s' is not a log verifier key (NAME+ID+BASE64 of an "
                "Ed25519 key, as 'imcore dir checkpoint' prints it)",
                text);
        return CLI_EXIT_USAGE;
    }
    return CLI_CONTINUE;
}

static void print_vkey(const char *label, const imc_kt_key *k)
{
    char v[IMC_KT_VKEY_MAX];
    if (imc_kt_vkey_encode(v, k) == IMC_OK)
        printf("%s%s\n", label, v);
}

/* ---- init ---------------------------------------------------------------- */

static int run_init(const cli_args *a)
{
    const imc_backend *b = NULL;
    const char *path = cli_get(a, "state", "");
    const char *name = cli_get(a, "name", "");
    witness_file f;
    memset(&f, 0, sizeof f);
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = get_log_key(a, b, &f.log);
    if (rc == CLI_CONTINUE)
        rc = cli_check_output(a, path);
    if (rc != CLI_CONTINUE)
        return rc;
    uint8_t pk[IMC_ED25519_PUBLIC_BYTES] = {0};
    imc_status st = imc_kt_key_init(&f.key, b, name, IMC_KT_SIG_COSIGNATURE, pk);
    if (st != IMC_OK) {
        cli_err(a->prog,
                "option --name: '%s' is not a key name (1..%d printable ASCII bytes, no space "
                "or '+')",
                name, IMC_KT_MAX_NAME);
        return CLI_EXIT_USAGE;
    }
    st = imc_crypto_ed25519_keygen(b, NULL, pk, f.sk);
    if (st == IMC_OK)
        st = imc_kt_key_init(&f.key, b, name, IMC_KT_SIG_COSIGNATURE, pk);
    if (st == IMC_OK)
        st = imc_kt_witness_init(&f.w, b, &f.key, f.sk, &f.log);
    if (st != IMC_OK) {
        cli_err(a->prog, "key generation failed: %s", imc_status_str(st));
        rc = CLI_EXIT_FAIL;
    } else {
        rc = save_file(a, path, &f, true);
    }
    wipe_file(&f);
    if (rc != CLI_CONTINUE)
        return rc;
    print_vkey("", &f.key);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ---- cosign ---------------------------------------------------------------- */

/* The reason a checkpoint was refused, for the user. `last` is the last
 * cosigned checkpoint (have: there is one), cp the offered one (parsed:
 * its text parsed as a checkpoint). */
static void explain_refusal(const cli_args *a, imc_status st, bool have,
                            const imc_kt_checkpoint *last, bool parsed, bool log_signed,
                            bool have_proof, const imc_kt_checkpoint *cp)
{
    unsigned long long ls = have ? (unsigned long long)last->size : 0;
    if (st == IMC_ERR_AUTH && parsed && !log_signed)
        cli_err(a->prog, "refused: not signed by the log key, or for another origin");
    else if (st == IMC_ERR_STALE)
        cli_err(a->prog,
                "refused: a rollback (size %llu, epoch %llu is older than the cosigned size %llu, "
                "epoch %llu)",
                (unsigned long long)cp->size, (unsigned long long)cp->epoch, ls,
                (unsigned long long)last->epoch);
    else if (st == IMC_ERR_AUTH && parsed && have && cp->size == last->size)
        cli_err(a->prog,
                "refused: a second checkpoint for size %llu, which this witness already "
                "cosigned with another root or epoch (a fork)",
                ls);
    else if (st == IMC_ERR_AUTH && parsed && have && cp->size > last->size && have_proof)
        cli_err(a->prog,
                "refused: the proof is not a valid consistency proof from the cosigned size %llu "
                "to %llu (not an extension of the log this witness has seen)",
                ls, (unsigned long long)cp->size);
    else if (st == IMC_ERR_MALFORMED && parsed && have && cp->size > last->size && !have_proof)
        cli_err(a->prog, "refused: a consistency proof from size %llu is needed (--proof FILE)",
                ls);
    else if (st == IMC_ERR_MALFORMED)
        cli_err(a->prog, "refused: the checkpoint or the proof does not parse");
    else
        cli_err(a->prog, "refused: %s", imc_status_str(st));
}

static int run_cosign(const cli_args *a)
{
    const imc_backend *b = NULL;
    const char *path = cli_get(a, "state", "");
    const char *out = cli_get(a, "out", "-");
    uint64_t now = 0;
    int rc = cli_get_backend(a, &b);
    if (rc == CLI_CONTINUE)
        rc = cli_get_u64(a, "time", cli_now_ms() / 1000, &now);
    if (rc == CLI_CONTINUE && now >= IMC_KT_MAX_SIZE) {
        cli_err(a->prog, "option --time: at most %llu", (unsigned long long)(IMC_KT_MAX_SIZE - 1));
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_CONTINUE)
        rc = cli_check_output(a, out);
    if (rc != CLI_CONTINUE)
        return rc;
    const char *in = cli_get(a, "in", NULL), *note_path = cli_get(a, "checkpoint", NULL);
    if ((in == NULL) == (note_path == NULL) || (in != NULL && cli_get(a, "proof", NULL) != NULL)) {
        cli_err(a->prog, "give --in (the directory's checkpoint answer, which carries its proof) "
                         "or --checkpoint NOTE [--proof P]");
        return CLI_EXIT_USAGE;
    }
    uint8_t buf[IMC_DIR_KT_HEAD_MAX_BYTES + 1];
    uint8_t proof_buf[IMC_KT_LOG_PROOF_MAX_BYTES + 1];
    const uint8_t *note = buf, *proof = proof_buf;
    size_t note_len = 0, proof_len = 0;
    rc = cli_read_into(a->prog, in != NULL ? "checkpoint answer" : "checkpoint",
                       in != NULL ? in : note_path, buf,
                       in != NULL ? sizeof buf : IMC_KT_MAX_NOTE_BYTES + 1, &note_len);
    if (rc == CLI_CONTINUE && cli_get(a, "proof", NULL) != NULL)
        rc = cli_read_into(a->prog, "consistency proof", cli_get(a, "proof", ""), proof_buf,
                           sizeof proof_buf, &proof_len);
    imc_dir_kt_head head;
    if (rc == CLI_CONTINUE && in != NULL) {
        if (imc_dir_kt_parse_head(&head, buf, note_len) != IMC_OK) {
            cli_err(a->prog, "refused: '%s' is not a checkpoint answer", in);
            rc = CLI_EXIT_FAIL;
        }
        note = head.note;
        note_len = head.note_len;
        proof = head.proof;
        proof_len = head.proof_len;
    }
    if (rc != CLI_CONTINUE)
        return rc;
    witness_file *f = calloc(1, sizeof *f);
    if (f == NULL) {
        cli_err(a->prog, "out of memory");
        return CLI_EXIT_FAIL;
    }
    rc = load_file(a, b, path, f);
    if (rc != CLI_CONTINUE) {
        free(f);
        return rc;
    }
    imc_kt_checkpoint last, cp;
    bool have = imc_kt_witness_last(&last, &f->w) == IMC_OK;
    imc_kt_note n;
    memset(&n, 0, sizeof n);
    bool parsed = imc_kt_note_parse(&n, note, note_len) == IMC_OK &&
                  imc_kt_checkpoint_parse(&cp, n.text, n.text_len) == IMC_OK;
    /* Signed by the log key, for its origin: what the refusal is about. */
    bool log_signed = parsed && imc_kt_note_verify(b, &n, &f->log, NULL) == IMC_OK &&
                      cp.origin_len == f->log.name_len &&
                      memcmp(cp.origin, f->log.name, cp.origin_len) == 0;
    char line[IMC_KT_COSIG_LINE_MAX];
    size_t line_len = 0;
    imc_status st = imc_kt_witness_cosign(line, sizeof line, &line_len, &f->w, note, note_len,
                                          proof_len != 0 ? proof : NULL, proof_len, now);
    if (st != IMC_OK) {
        explain_refusal(a, st, have, &last, parsed, log_signed, proof_len != 0, &cp);
        rc = CLI_EXIT_FAIL;
    }
    /* The state first: a cosignature is published only once it is kept. */
    if (rc == CLI_CONTINUE)
        rc = save_file(a, path, f, false);
    uint8_t *cosigned = rc == CLI_CONTINUE ? malloc(note_len + line_len) : NULL;
    if (rc == CLI_CONTINUE && cosigned == NULL) {
        cli_err(a->prog, "out of memory");
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_CONTINUE) {
        memcpy(cosigned, note, note_len);
        memcpy(cosigned + note_len, line, line_len);
        rc = cli_write_output(a, out, cosigned, note_len + line_len, 0644);
    }
    if (rc == CLI_CONTINUE && strcmp(out, "-") != 0)
        fprintf(stderr, "%s: cosigned size %llu, epoch %llu\n", a->prog,
                (unsigned long long)cp.size, (unsigned long long)cp.epoch);
    free(cosigned);
    wipe_file(f);
    free(f);
    return rc == CLI_CONTINUE ? CLI_EXIT_OK : rc;
}

/* ---- show ------------------------------------------------------------------ */

static int run_show(const cli_args *a)
{
    const imc_backend *b = NULL;
    int rc = cli_get_backend(a, &b);
    witness_file *f = rc == CLI_CONTINUE ? calloc(1, sizeof *f) : NULL;
    if (rc == CLI_CONTINUE && f == NULL) {
        cli_err(a->prog, "out of memory");
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_CONTINUE)
        rc = load_file(a, b, cli_get(a, "state", ""), f);
    if (rc != CLI_CONTINUE) {
        free(f);
        return rc;
    }
    print_vkey("witness key ", &f->key);
    print_vkey("log key     ", &f->log);
    imc_kt_checkpoint last;
    if (imc_kt_witness_last(&last, &f->w) == IMC_OK) {
        printf("last cosigned: size %llu, epoch %llu, root ", (unsigned long long)last.size,
               (unsigned long long)last.epoch);
        cli_put_hex(stdout, last.root, sizeof last.root);
        putchar('\n');
    } else {
        printf("last cosigned: none yet (the first checkpoint is trusted on first use)\n");
    }
    wipe_file(f);
    free(f);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ---- Command table ------------------------------------------------------------ */

#define OPT_STATE {"state", CLI_OPT_VALUE, true, "FILE", "the witness state file (key and state)"}

static const cli_opt init_opts[] = {
    OPT_STATE,
    {"name", CLI_OPT_VALUE, true, "NAME", "the witness's key name (e.g. witness.example.net)"},
    {"log-key", CLI_OPT_VALUE, true, "VKEY", "the log's verifier key (NAME+ID+BASE64)"},
    {"force", CLI_OPT_FLAG, false, NULL, "replace an existing state file"},
    CLI_OPT_BACKEND,
};
static const cli_opt cosign_opts[] = {
    OPT_STATE,
    {"in", CLI_OPT_VALUE, false, "FILE", "the directory's checkpoint answer (note and proof)"},
    {"checkpoint", CLI_OPT_VALUE, false, "FILE", "or the log-signed checkpoint (a signed note)"},
    {"proof", CLI_OPT_VALUE, false, "FILE",
     "consistency proof from the last cosigned size (not for the first, or the same size)"},
    {"out", CLI_OPT_VALUE, false, "FILE", "the cosigned checkpoint (default: standard output)"},
    {"force", CLI_OPT_FLAG, false, NULL, "replace --out if it exists"},
    {"time", CLI_OPT_VALUE, false, "S", "cosignature time, s since 1970 (default: now)"},
    CLI_OPT_BACKEND,
};
static const cli_opt show_opts[] = {OPT_STATE, CLI_OPT_BACKEND};

static const cli_cmd witness_init = {
    .name = "init",
    .summary = "Create a witness: its cosignature key and empty state, for one log",
    .opts = init_opts,
    .opt_count = CLI_ARRAY_LEN(init_opts),
    .details = "Writes FILE (mode 0600, atomically); an existing FILE is refused unless\n"
               "--force. Prints the witness's verifier key, for clients' --witness.\n",
    .run = run_init,
};
static const cli_cmd witness_cosign = {
    .name = "cosign",
    .summary = "Verify a checkpoint against the last cosigned one and cosign it",
    .opts = cosign_opts,
    .opt_count = CLI_ARRAY_LEN(cosign_opts),
    .inputs = "state checkpoint proof",
    .details = "Cosigns only along one append-only history: the checkpoint must carry the log's\n"
               "signature and, if larger than the last cosigned one, come with a valid\n"
               "consistency proof from it ('imcore dir checkpoint --since N'). A smaller size or\n"
               "epoch (rollback), another text for a cosigned size (fork), or a failed proof is\n"
               "refused (exit 1, state unchanged). The state file is saved before the\n"
               "checkpoint, with the cosignature line appended, is written to --out.\n",
    .run = run_cosign,
};
static const cli_cmd witness_show = {
    .name = "show",
    .summary = "Show a witness's keys and the last checkpoint it cosigned",
    .opts = show_opts,
    .opt_count = CLI_ARRAY_LEN(show_opts),
    .run = run_show,
};

static const cli_cmd *const witness_subs[] = {&witness_init, &witness_cosign, &witness_show};

const cli_cmd cli_cmd_witness = {
    .name = "witness",
    .summary = "Transparency-log witness: init|cosign|show",
    .sub = witness_subs,
    .sub_count = CLI_ARRAY_LEN(witness_subs),
};
