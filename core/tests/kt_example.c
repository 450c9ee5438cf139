/* The worked example of docs/transparency.md. Everything is derived from
 * fixed seeds, and Ed25519 is deterministic, so the text is the same on
 * every backend. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "imcore/kt.h"
#include "kt_example.h"

typedef struct out {
    char *p;
    size_t cap, len;
    int fail;
} out;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->fail = 1;
    else
        o->len += (size_t)n;
}

static void hex(out *o, const char *label, const uint8_t *p, size_t n)
{
    put(o, "%s", label);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && i % 32 == 0)
            put(o, "\n    ");
        put(o, "%02x", p[i]);
    }
    put(o, "\n");
}

#define OK(e)                                                                                      \
    do {                                                                                           \
        if ((e) != IMC_OK)                                                                         \
            return 0;                                                                              \
    } while (0)

size_t imc_kt_example_render(char *buf, size_t cap, const imc_backend *b)
{
    out o = {buf, cap, 0, 0};
    uint8_t lsk[32], wsk[32], lpk[32], wpk[32];
    for (int i = 0; i < 32; i++) {
        lsk[i] = (uint8_t)i;
        wsk[i] = (uint8_t)(0x80 + i);
    }
    OK(imc_crypto_ed25519_public(b, lpk, lsk)); /* 0: a backend without Ed25519 */
    OK(imc_crypto_ed25519_public(b, wpk, wsk));
    imc_kt_key log, wit;
    OK(imc_kt_key_init(&log, b, "example.org/imcore-kt", IMC_KT_SIG_ED25519, lpk));
    OK(imc_kt_key_init(&wit, b, "witness.example.net", IMC_KT_SIG_COSIGNATURE, wpk));
    char vk[IMC_KT_VKEY_MAX];
    hex(&o, "log secret seed    ", lsk, 32);
    OK(imc_kt_vkey_encode(vk, &log));
    put(&o, "log vkey           %s\n", vk);
    hex(&o, "witness seed       ", wsk, 32);
    OK(imc_kt_vkey_encode(vk, &wit));
    put(&o, "witness vkey       %s\n\n", vk);

    imc_kt_mem *mem = NULL;
    OK(imc_kt_mem_open(&mem, b, 0));
    imc_kt_store s = imc_kt_mem_store(mem);
    static const char *const leaves[3] = {"alice@example.org v1", "bob@example.org v1",
                                          "alice@example.org v2"};
    static const char *const handles[3] = {"alice@example.org", "bob@example.org",
                                           "alice@example.org"};
    uint8_t lh[3][32], key[32], root2[32];
    imc_status st = IMC_OK;
    for (int i = 0; i < 3 && st == IMC_OK; i++) {
        st = imc_kt_log_append(NULL, b, &s, (const uint8_t *)leaves[i], strlen(leaves[i]));
        if (st == IMC_OK)
            st = imc_kt_leaf_hash(b, lh[i], (const uint8_t *)leaves[i], strlen(leaves[i]));
        if (st == IMC_OK)
            st = imc_kt_index_key(b, key, (const uint8_t *)handles[i], strlen(handles[i]));
        if (st == IMC_OK)
            st = imc_kt_index_put(b, &s, key, lh[i]);
        put(&o, "leaf %d             \"%s\"\n", i, leaves[i]);
        hex(&o, "  leaf hash        ", lh[i], 32);
        if (i == 1 && st == IMC_OK)
            st = imc_kt_log_root(root2, b, &s, 2);
    }
    imc_kt_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    memcpy(cp.origin, log.name, log.name_len);
    cp.origin_len = log.name_len;
    cp.size = 3;
    cp.epoch = 3;
    if (st == IMC_OK)
        st = imc_kt_log_root(cp.root, b, &s, 3);
    if (st == IMC_OK)
        st = imc_kt_index_root(cp.index_root, &s);
    hex(&o, "root at size 2     ", root2, 32);
    hex(&o, "root at size 3     ", cp.root, 32);
    hex(&o, "index root         ", cp.index_root, 32);

    static char note[IMC_KT_MAX_NOTE_BYTES];
    size_t tl = 0, sl = 0, cl = 0;
    if (st == IMC_OK)
        st = imc_kt_checkpoint_text(note, sizeof note, &tl, &cp);
    if (st == IMC_OK) {
        note[tl] = '\n';
        st = imc_kt_note_sign(note + tl + 1, sizeof note - tl - 1, &sl, b, &log, lsk,
                              (const uint8_t *)note, tl);
    }
    if (st == IMC_OK)
        st = imc_kt_cosign(note + tl + 1 + sl, sizeof note - tl - 1 - sl, &cl, b, &wit, wsk,
                           (const uint8_t *)note, tl, 1700000000);
    put(&o, "\ncheckpoint, signed by the log and cosigned at time 1700000000:\n\n%.*s\n",
        (int)(tl + 1 + sl + cl), note);

    static imc_kt_log_proof p;
    static uint8_t enc[IMC_KT_INDEX_PROOF_MAX_BYTES];
    size_t el = 0;
    if (st == IMC_OK)
        st = imc_kt_log_prove_inclusion(&p, b, &s, 1, 3);
    if (st == IMC_OK)
        st = imc_kt_log_proof_encode(enc, sizeof enc, &el, &p);
    hex(&o, "inclusion of leaf 1 in size 3\n    ", enc, el);
    if (st == IMC_OK)
        st = imc_kt_log_prove_consistency(&p, b, &s, 2, 3);
    if (st == IMC_OK)
        st = imc_kt_log_proof_encode(enc, sizeof enc, &el, &p);
    hex(&o, "consistency from size 2 to size 3\n    ", enc, el);

    static imc_kt_index_proof ip;
    static const char *const look[2] = {"alice@example.org", "carol@example.org"};
    for (int i = 0; i < 2 && st == IMC_OK; i++) {
        st = imc_kt_index_key(b, key, (const uint8_t *)look[i], strlen(look[i]));
        if (st == IMC_OK)
            st = imc_kt_index_prove(&ip, NULL, &s, key);
        if (st == IMC_OK)
            st = imc_kt_index_proof_encode(enc, sizeof enc, &el, &ip);
        put(&o, "index proof for %s\n", look[i]);
        hex(&o, "  key              ", key, 32);
        hex(&o, "  proof\n    ", enc, el);
    }
    imc_kt_mem_close(mem);
    if (st != IMC_OK || o.fail)
        return 0;
    return o.len;
}
