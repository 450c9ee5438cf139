/* Signed notes, checkpoints, cosignatures and vkeys against the C2SP
 * specifications: the signed-note example key and signature of the Go
 * reference implementation (golang.org/x/mod/sumdb/note) reproduced byte
 * for byte, the tlog-cosignature example parsed (key id, timestamp), the
 * cosigned message rebuilt by hand, and a negative test per parser rule. */
#include "kt/kt_impl.h"
#include "kt_fixture.h"

static const imc_backend *B;

#define GO_TEXT                                                                                    \
    "If you think cryptography is the answer to your problem,\n"                                  \
    "then you don't know what your problem is.\n"
#define GO_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_SKEY_B64 "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_SIG                                                                                     \
    "\xe2\x80\x94 PeterNeumann "                                                                   \
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

static void go_vector(void)
{
    uint8_t raw[33], pk[32];
    size_t n = 0;
    CHECK_OK(imc_kt_b64_decode(raw, sizeof raw, &n, (const uint8_t *)GO_SKEY_B64,
                               strlen(GO_SKEY_B64)));
    CHECK(n == 33 && raw[0] == IMC_KT_SIG_ED25519);
    CHECK_OK(imc_crypto_ed25519_public(B, pk, raw + 1));
    imc_kt_key k, parsed;
    CHECK_OK(imc_kt_key_init(&k, B, "PeterNeumann", IMC_KT_SIG_ED25519, pk));
    CHECK(k.id == 0xc74f20a3u);
    char vkey[IMC_KT_VKEY_MAX];
    CHECK_OK(imc_kt_vkey_encode(vkey, &k));
    CHECK(strcmp(vkey, GO_VKEY) == 0);
    CHECK_OK(imc_kt_vkey_parse(&parsed, B, GO_VKEY, strlen(GO_VKEY)));
    CHECK(parsed.id == k.id && memcmp(parsed.pk, pk, 32) == 0 && parsed.name_len == 12);
    char line[256];
    size_t len = 0;
    CHECK_OK(imc_kt_note_sign(line, sizeof line, &len, B, &k, raw + 1,
                              (const uint8_t *)GO_TEXT, strlen(GO_TEXT)));
    CHECK(len == strlen(GO_SIG) && memcmp(line, GO_SIG, len) == 0);
    const char *note = GO_TEXT "\n" GO_SIG;
    static imc_kt_note nt;
    CHECK_OK(imc_kt_note_parse(&nt, (const uint8_t *)note, strlen(note)));
    CHECK(nt.text_len == strlen(GO_TEXT) && nt.sig_count == 1);
    CHECK_OK(imc_kt_note_verify(B, &nt, &k, NULL));
    char bad[512];
    snprintf(bad, sizeof bad, "%s", note);
    bad[3] = 'Y';
    CHECK_OK(imc_kt_note_parse(&nt, (const uint8_t *)bad, strlen(bad)));
    CHECK_ST(imc_kt_note_verify(B, &nt, &k, NULL), IMC_ERR_AUTH);
    /* vkey rules. */
    char v[128];
    snprintf(v, sizeof v, "%s", GO_VKEY);
    v[13] = '0'; /* id c74f20a3 -> 074f20a3 */
    CHECK_ST(imc_kt_vkey_parse(&parsed, B, v, strlen(v)), IMC_ERR_MALFORMED);
    snprintf(v, sizeof v, "PeterNeumann+C74F20A3+%s", &GO_VKEY[22]);
    CHECK_ST(imc_kt_vkey_parse(&parsed, B, v, strlen(v)), IMC_ERR_MALFORMED); /* upper hex */
    CHECK_ST(imc_kt_vkey_parse(&parsed, B, GO_VKEY, strlen(GO_VKEY) - 1), IMC_ERR_MALFORMED);
    snprintf(v, sizeof v, "%sAAAA", GO_VKEY);
    CHECK_ST(imc_kt_vkey_parse(&parsed, B, v, strlen(v)), IMC_ERR_MALFORMED); /* trailing */
    snprintf(v, sizeof v, "+c74f20a3+%s", &GO_VKEY[22]);
    CHECK_ST(imc_kt_vkey_parse(&parsed, B, v, strlen(v)), IMC_ERR_MALFORMED); /* no name */
    snprintf(v, sizeof v, "%s", GO_VKEY);
    v[22] = 'B'; /* type 0x05 */
    CHECK_ST(imc_kt_vkey_parse(&parsed, B, v, strlen(v)), IMC_ERR_MALFORMED);
}

/* The example of c2sp.org/tlog-cosignature: a checkpoint with the log's
 * signature and one cosignature at time 1679315147. */
#define SPEC_NOTE                                                                                  \
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"      \
    "\xe2\x80\x94 example.com/behind-the-sofa "                                                     \
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" \
    "\xe2\x80\x94 witness.example.com/w1 "                                                          \
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"

static void spec_example(void)
{
    static imc_kt_note n;
    CHECK_OK(imc_kt_note_parse(&n, (const uint8_t *)SPEC_NOTE, strlen(SPEC_NOTE)));
    CHECK(n.sig_count == 2 && n.sigs[0].blob_len == 64 && n.sigs[1].blob_len == 72);
    CHECK(n.sigs[1].id == 0x8d66cf3fu && n.sigs[1].name_len == 22);
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = t << 8 | n.sigs[1].blob[i];
    CHECK(t == UINT64_C(1679315147));
    /* imcore checkpoints carry two extension lines; this one has none. */
    imc_kt_checkpoint cp;
    CHECK_ST(imc_kt_checkpoint_parse(&cp, n.text, n.text_len), IMC_ERR_MALFORMED);
}

static void cosignatures(void)
{
    uint8_t lsk[32], wsk[32];
    imc_kt_key log = kt_key(B, 1, "log.example/kt", IMC_KT_SIG_ED25519, lsk);
    imc_kt_key w = kt_key(B, 2, "w1.example", IMC_KT_SIG_COSIGNATURE, wsk);
    imc_kt_key w_as_note = kt_key(B, 2, "w1.example", IMC_KT_SIG_ED25519, wsk);
    CHECK(w.id != w_as_note.id); /* the type byte is in the key id */
    imc_kt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    memcpy(cp.origin, "log.example/kt", 14);
    cp.origin_len = 14;
    cp.size = 12345;
    memset(cp.root, 0xab, 32);
    memset(cp.index_root, 0xcd, 32);
    cp.epoch = 99;
    char note[IMC_KT_MAX_NOTE_BYTES];
    size_t tl = 0, l1 = 0, l2 = 0;
    CHECK_OK(imc_kt_checkpoint_text(note, sizeof note, &tl, &cp));
    note[tl] = '\n';
    CHECK_OK(imc_kt_note_sign(note + tl + 1, sizeof note - tl - 1, &l1, B, &log, lsk,
                              (const uint8_t *)note, tl));
    CHECK_OK(imc_kt_cosign(note + tl + 1 + l1, sizeof note - tl - 1 - l1, &l2, B, &w, wsk,
                           (const uint8_t *)note, tl, UINT64_C(1700000000)));
    size_t nl = tl + 1 + l1 + l2;
    static imc_kt_note n;
    CHECK_OK(imc_kt_note_parse(&n, (const uint8_t *)note, nl));
    uint64_t t = 0;
    CHECK_OK(imc_kt_note_verify(B, &n, &log, NULL));
    CHECK_OK(imc_kt_note_verify(B, &n, &w, &t));
    CHECK(t == UINT64_C(1700000000));
    CHECK_ST(imc_kt_note_verify(B, &n, &w_as_note, NULL), IMC_ERR_NOT_FOUND);
    /* The signed message, built by hand from the spec. */
    char msg[1024];
    int ml = snprintf(msg, sizeof msg, "cosignature/v1\ntime 1700000000\n%.*s", (int)tl, note);
    CHECK(n.sigs[1].blob_len == 72);
    CHECK_OK(imc_crypto_ed25519_verify(B, n.sigs[1].blob + 8, w.pk, (const uint8_t *)msg,
                                       (size_t)ml));
    /* The checkpoint text round trip. */
    imc_kt_checkpoint back;
    CHECK_OK(imc_kt_checkpoint_parse(&back, n.text, n.text_len));
    CHECK(back.size == cp.size && back.epoch == cp.epoch && back.origin_len == 14 &&
          memcmp(back.root, cp.root, 32) == 0 && memcmp(back.index_root, cp.index_root, 32) == 0);
    /* A second line of a known key refuses the note. */
    char twice[IMC_KT_MAX_NOTE_BYTES];
    memcpy(twice, note, nl);
    memcpy(twice + nl, note + tl + 1 + l1, l2);
    CHECK_OK(imc_kt_note_parse(&n, (const uint8_t *)twice, nl + l2));
    CHECK_ST(imc_kt_note_verify(B, &n, &w, NULL), IMC_ERR_AUTH);
    /* A size-0 checkpoint must carry the empty tree's root. */
    imc_kt_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.log = log;
    static imc_kt_client c;
    CHECK_OK(imc_kt_client_init(&c, B, &cfg));
    cp.size = 0;
    for (int good = 0; good < 2; good++) {
        if (good)
            CHECK_OK(imc_crypto_sha256(B, cp.root, NULL, 0));
        CHECK_OK(imc_kt_checkpoint_text(twice, sizeof twice, &tl, &cp));
        twice[tl] = '\n';
        CHECK_OK(imc_kt_note_sign(twice + tl + 1, sizeof twice - tl - 1, &l1, B, &log, lsk,
                                  (const uint8_t *)twice, tl));
        CHECK_ST(imc_kt_client_update(&c, NULL, (const uint8_t *)twice, tl + 1 + l1, NULL, 0),
                 good ? IMC_OK : IMC_ERR_MALFORMED);
    }
    /* A time at 2^63 is refused by the signer. */
    CHECK_ST(imc_kt_cosign(twice, sizeof twice, &l2, B, &w, wsk, (const uint8_t *)note, tl,
                           IMC_KT_MAX_SIZE),
             IMC_ERR_ARG);
}

static imc_status parse_str(const char *s)
{
    static imc_kt_note n;
    return imc_kt_note_parse(&n, (const uint8_t *)s, strlen(s));
}

#define SIGLINE "\xe2\x80\x94 k AAAAAAA=\n"

static void note_negative(void)
{
    CHECK_OK(parse_str("a\n\n" SIGLINE));
    CHECK_ST(parse_str("a\n" SIGLINE), IMC_ERR_MALFORMED);           /* no blank line */
    CHECK_ST(parse_str("a\n\n"), IMC_ERR_MALFORMED);                 /* no signature */
    CHECK_ST(parse_str("\n" SIGLINE), IMC_ERR_MALFORMED);            /* no text */
    CHECK_ST(parse_str("a\n\n- k AAAAAAA=\n"), IMC_ERR_MALFORMED);   /* not an em dash */
    CHECK_ST(parse_str("a\n\n\xe2\x80\x94 k+1 AAAAAAA=\n"), IMC_ERR_MALFORMED); /* '+' */
    CHECK_ST(parse_str("a\n\n\xe2\x80\x94  AAAAAAA=\n"), IMC_ERR_MALFORMED);    /* no name */
    CHECK_ST(parse_str("a\n\n\xe2\x80\x94 k AAAAAAB=\n"), IMC_ERR_MALFORMED);   /* bits */
    CHECK_ST(parse_str("a\n\n\xe2\x80\x94 k AAAAAA==\n"), IMC_ERR_MALFORMED);   /* 4 bytes */
    CHECK_ST(parse_str("a\n\n\xe2\x80\x94 k AAAAAAA\n"), IMC_ERR_MALFORMED);    /* padding */
    CHECK_ST(parse_str("a\n\n\xe2\x80\x94 k AAA*AAA=\n"), IMC_ERR_MALFORMED);   /* alphabet */
    CHECK_ST(parse_str("a\n\n\xe2\x80\x94 k AAAAAAA="), IMC_ERR_MALFORMED);     /* newline */
    CHECK_ST(parse_str("a\n\n" SIGLINE "\n"), IMC_ERR_MALFORMED);    /* empty line after */
    CHECK_ST(parse_str("a\n\n" SIGLINE "x"), IMC_ERR_MALFORMED);     /* trailing */
    CHECK_ST(parse_str("a\tb\n\n" SIGLINE), IMC_ERR_MALFORMED);      /* control character */
    CHECK_ST(parse_str("\xc3\xa9\n\n" SIGLINE), IMC_ERR_MALFORMED);  /* non-ASCII text */
    char many[4096];
    size_t o = (size_t)snprintf(many, sizeof many, "a\n\n");
    for (int i = 0; i < IMC_KT_MAX_NOTE_SIGS; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, SIGLINE);
    CHECK_OK(parse_str(many));
    snprintf(many + o, sizeof many - o, SIGLINE);
    CHECK_ST(parse_str(many), IMC_ERR_LIMIT); /* 33 signature lines */
    static uint8_t big[IMC_KT_MAX_NOTE_BYTES + 1];
    memset(big, 'a', sizeof big);
    static imc_kt_note n;
    CHECK_ST(imc_kt_note_parse(&n, big, sizeof big), IMC_ERR_LIMIT);
}

static imc_status cp_str(const char *s)
{
    imc_kt_checkpoint cp;
    return imc_kt_checkpoint_parse(&cp, (const uint8_t *)s, strlen(s));
}

#define H44 "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="

static void checkpoint_negative(void)
{
    CHECK_OK(cp_str("o\n0\n" H44 "\nindex " H44 "\nepoch 0\n"));
    CHECK_OK(cp_str("o\n9223372036854775807\n" H44 "\nindex " H44 "\nepoch 1\n"));
    CHECK_ST(cp_str("o\n9223372036854775808\n" H44 "\nindex " H44 "\nepoch 1\n"),
             IMC_ERR_MALFORMED);                                                  /* 2^63 */
    CHECK_ST(cp_str("o\n01\n" H44 "\nindex " H44 "\nepoch 1\n"), IMC_ERR_MALFORMED); /* zero */
    CHECK_ST(cp_str("o\n+1\n" H44 "\nindex " H44 "\nepoch 1\n"), IMC_ERR_MALFORMED);
    CHECK_ST(cp_str("o\n\n" H44 "\nindex " H44 "\nepoch 1\n"), IMC_ERR_MALFORMED);  /* empty */
    CHECK_ST(cp_str("o p\n1\n" H44 "\nindex " H44 "\nepoch 1\n"), IMC_ERR_MALFORMED); /* sp */
    CHECK_ST(cp_str("\n1\n" H44 "\nindex " H44 "\nepoch 1\n"), IMC_ERR_MALFORMED);
    CHECK_ST(cp_str("o\n1\nq6urq6s=\nindex " H44 "\nepoch 1\n"), IMC_ERR_MALFORMED); /* short */
    CHECK_ST(cp_str("o\n1\n" H44 "\nindex  " H44 "\nepoch 1\n"), IMC_ERR_MALFORMED);
    CHECK_ST(cp_str("o\n1\n" H44 "\nindx " H44 "\nepoch 1\n"), IMC_ERR_MALFORMED);
    CHECK_ST(cp_str("o\n1\n" H44 "\nindex " H44 "\nepoch 01\n"), IMC_ERR_MALFORMED);
    CHECK_ST(cp_str("o\n1\n" H44 "\nindex " H44 "\nepoch\n"), IMC_ERR_MALFORMED);
    CHECK_ST(cp_str("o\n1\n" H44 "\nindex " H44 "\n"), IMC_ERR_MALFORMED);       /* no epoch */
    CHECK_ST(cp_str("o\n1\n" H44 "\nindex " H44 "\nepoch 1\nx\n"), IMC_ERR_MALFORMED); /* extra */
    CHECK_ST(cp_str("o\n1\n" H44 "\nindex " H44 "\nepoch 1"), IMC_ERR_MALFORMED); /* newline */
    CHECK_ST(cp_str("o\n1\n" H44 "\nepoch 1\nindex " H44 "\n"), IMC_ERR_MALFORMED); /* order */
}

int main(void)
{
    B = kt_backend();
    CHECK(B != NULL);
    if (B == NULL)
        return imc_test_end();
    /* Every backend signs the Go vector identically (Ed25519 is deterministic). */
    const imc_backend *bs[8];
    size_t nb = imc_test_backends(bs, 8);
    for (size_t i = 0; i < nb; i++) {
        uint8_t pk[32], sk[32] = {0};
        if (imc_crypto_ed25519_public(bs[i], pk, sk) == IMC_ERR_UNSUPPORTED)
            continue; /* no Ed25519 in this backend */
        B = bs[i];
        go_vector();
    }
    B = kt_backend();
    spec_example();
    cosignatures();
    note_negative();
    checkpoint_negative();
    return imc_test_end();
}
