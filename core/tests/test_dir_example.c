/* The worked example of docs/directory-format.md cannot drift: this program
 * renders it from fixed keys (sodium, or the first backend with Ed25519)
 * and checks that the text appears verbatim in the document (path given as
 * the first argument). `test_dir_example --print` prints it, to paste into
 * the document after a format change. */
#include "dir_fixture.h" /* first: it sets _POSIX_C_SOURCE */

#include <stdarg.h>

#include "imcore/dirkt.h"

#define OUT_MAX 65536

typedef struct out {
    char *p;
    size_t len, cap;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < o->cap - o->len)
        o->len += (size_t)n;
}

static void hex(out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(o, "%02x", p[i]);
}

/* One field of a layout: its bytes (wrapped at 32) and what it is. */
static void field(out *o, const uint8_t *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i += 32) {
        put(o, "    ");
        hex(o, p + i, n - i < 32 ? n - i : 32);
        if (i == 0)
            put(o, "%*s%s", (int)(2 * (32 - (n < 32 ? n : 32)) + 2), "", what);
        put(o, "\n");
    }
}

static void dump(out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 32) {
        put(o, "    ");
        hex(o, p + i, n - i < 32 ? n - i : 32);
        put(o, "\n");
    }
}

/* The transparency part: alice's log leaf, the checkpoint, and a lookup
 * with proofs for alice (registered) and carol (not). */
static void render_kt(out *o, const imc_backend *b, imc_dir *d, const imc_dir_record *list)
{
    static uint8_t req[IMC_DIR_KT_REQUEST_MAX_BYTES], resp[IMC_DIR_KT_LOOKUP_RESPONSE_MAX_BYTES(2)];
    imc_dir_handle hs[2] = {fx_h("alice@example.com"), fx_h("carol@example.com")};
    size_t rn = 0, n = 0;
    CHECK_OK(imc_dir_kt_encode_lookup(req, sizeof req, &rn, 0, hs, 2));
    CHECK_OK(imc_dir_serve(resp, sizeof resp, &n, d, FX_NOW + 1000, req, rn));
    static imc_dir_kt_lookup_response r;
    static imc_dir_kt_answer a;
    size_t off = 0;
    CHECK_OK(imc_dir_kt_parse_lookup(&r, resp, n));
    CHECK_OK(imc_dir_kt_lookup_next(&a, &off, &r));
    CHECK(a.leaf != NULL && a.leaf_len == 2 + 18 + 8 + 96);
    if (a.leaf == NULL || a.leaf_len != 2 + 18 + 8 + 96)
        return;
    uint8_t lh[32];
    CHECK_OK(imc_dir_list_hash(lh, b, list));
    CHECK(memcmp(a.leaf + 60, lh, 32) == 0);
    put(o, "\nLog leaf 0: alice@example.com's version 1 (%zu bytes):\n", a.leaf_len);
    const uint8_t *l = a.leaf;
    field(o, l, 1, "version 2"), l += 1;
    field(o, l, 1, "kind 'k'"), l += 1;
    field(o, l, 18, "handle (17) alice@example.com"), l += 18;
    field(o, l, 8, "version 1 (the handle's epoch)"), l += 8;
    field(o, l, 32, "account public key"), l += 32;
    field(o, l, 32, "list hash: SHA-256 of the device list above"), l += 32;
    field(o, l, 32, "previous leaf hash (none: zero)");
    uint8_t leaf_hash[32];
    CHECK_OK(imc_kt_leaf_hash(b, leaf_hash, a.leaf, a.leaf_len));
    put(o, "leaf hash H(0x00 || leaf), the log's root at size 1 and alice's index value:\n    ");
    hex(o, leaf_hash, 32);
    put(o, "\n\nCheckpoint after the update, signed by the directory key (%zu bytes):\n",
        r.head.note_len);
    for (size_t i = 0, start = 0; i < r.head.note_len; i++)
        if (r.head.note[i] == '\n') {
            put(o, "%s%.*s\n", i > start ? "    " : "", (int)(i - start),
                (const char *)r.head.note + start);
            start = i + 1;
        }
    put(o, "\nLookup with proofs for alice@example.com and carol@example.com, from size 0"
           " (%zu bytes):\n", n);
    dump(o, resp, n);
    put(o, "  = 02 70 (version, 'p') || note length || the note || proof length (18) ||\n"
           "    consistency proof 0 -> 1 (02, 0, 1, no hashes) || 0002 (two answers) ||\n"
           "    alice: her signed entry || leaf length || leaf 0 || inclusion length (18) ||\n"
           "    inclusion proof (01, leaf 0, size 1, no hashes) || index proof length (4) ||\n"
           "    03 01 0000 (present, depth 0: her leaf is the whole index) ||\n"
           "    carol: her signed entry (epoch 0, no list) || 0000 (no leaf) || 0000 (no proof) ||\n"
           "    index proof length (68) || 03 03 0000 (absent: at depth 0 another key's leaf),\n"
           "    alice's key SHA-256(\"alice@example.com\") and her value (the leaf hash)\n");
}

static size_t render(char *buf, size_t cap, const imc_backend *b)
{
    out o = {buf, 0, cap};
    static const uint8_t seed[IMC_RNG_SEED_BYTES] = "imcore directory example";
    imc_rng rng;
    uint8_t dpk[32], dsk[32], apk[32], ask[32], bpk[32], bsk[32];
    imc_rng_init_deterministic(&rng, seed, 0);
    CHECK_OK(imc_dir_keygen(b, &rng, dpk, dsk));
    imc_rng_init_deterministic(&rng, seed, 1);
    CHECK_OK(imc_dir_account_keygen(b, &rng, apk, ask));
    imc_rng_init_deterministic(&rng, seed, 2);
    CHECK_OK(imc_dir_account_keygen(b, &rng, bpk, bsk));
    imc_device_keys dev;
    imc_rng_init_deterministic(&rng, seed, 3);
    CHECK_OK(imc_keys_generate(&dev, b, &rng, 1, 1));

    static imc_dir_record empty, list;
    const char *h = "alice@example.com";
    memcpy(empty.handle, h, 17);
    empty.handle_len = 17;
    static uint8_t upd[IMC_DIR_UPDATE_MAX_BYTES], resp[IMC_DIR_RESPONSE_MAX_BYTES(1)];
    static uint8_t lb[IMC_DIR_LIST_MAX_BYTES];
    size_t ul = 0, rl = 0, ll = 0;
    CHECK_OK(imc_dir_sign_register(upd, sizeof upd, &ul, b, dpk, &empty, ask, &dev));
    imc_dir_update_msg *u = malloc(sizeof *u);
    CHECK(u != NULL);
    if (u == NULL)
        return 0;
    CHECK_OK(imc_dir_parse_update(u, upd, ul));
    list = u->list;
    CHECK_OK(imc_dir_list_encode(lb, sizeof lb, &ll, &list));

    put(&o, "<!-- Generated by core/tests/test_dir_example.c --print; checked by test_dir_example. -->\n");
    put(&o, "```text\n");
    put(&o, "directory public key  ");
    hex(&o, dpk, 32);
    put(&o, "\naccount public key    ");
    hex(&o, apk, 32);
    put(&o, "  (alice)\n");
    put(&o, "device 1, suite 1: X25519 ");
    hex(&o, dev.pub.dh_pk, 32);
    put(&o, "\n                   Ed25519 ");
    hex(&o, dev.pub.sig_pk, 32);
    put(&o, "\n\nDevice list of alice@example.com, version 1 (%zu bytes):\n", ll);
    size_t at = 0;
    field(&o, lb + at, 1, "version 2"), at += 1;
    field(&o, lb + at, 1, "kind 'L'"), at += 1;
    field(&o, lb + at, 18, "handle (17) alice@example.com"), at += 18;
    field(&o, lb + at, 8, "list version 1"), at += 8;
    field(&o, lb + at, 1, "key change: 2 new account"), at += 1;
    field(&o, lb + at, 32, "account public key"), at += 32;
    field(&o, lb + at, 32, "previous list hash (none: zero)"), at += 32;
    field(&o, lb + at, 1, "device count 1"), at += 1;
    field(&o, lb + at, 2, "device: suite 1"), at += 2;
    field(&o, lb + at, 8, "device id 1"), at += 8;
    field(&o, lb + at, 32, "X25519 public key"), at += 32;
    field(&o, lb + at, 32, "Ed25519 public key"), at += 32;
    field(&o, lb + at, 64, "Ed25519(account key, \"imcore/v2/dir-list\" || the bytes above)");
    at += 64;
    CHECK(at == ll);
    uint8_t lh[32];
    CHECK_OK(imc_dir_list_hash(lh, b, &list));
    put(&o, "SHA-256 of the list (the next version's previous list hash):\n    ");
    hex(&o, lh, 32);
    put(&o, "\n\nUpdate: register device 1 at epoch 0, creating the account (%zu bytes):\n", ul);
    dump(&o, upd, ul);
    put(&o, "  = 02 55 01 (version, 'U', register) || handle || epoch 0 || device ||\n"
            "    list length (%zu) || list || proof: length 64, Ed25519(device key,\n"
            "    \"imcore/v2/dir-register\" || directory public key || the bytes before it)\n",
        ll);

    /* The directory applies it and answers a lookup. */
    imc_dir_store s;
    imc_dir d;
    CHECK_OK(imc_dir_store_mem_open(&s, b, 0));
    CHECK_OK(imc_dir_init(&d, b, s, dsk, NULL));
    CHECK_OK(imc_dir_update(resp, sizeof resp, &rl, &d, FX_NOW, upd, ul));
    CHECK_OK(imc_dir_lookup(resp, sizeof resp, &rl, &d, FX_NOW + 1000, (const uint8_t *)h, 17));
    put(&o, "\nLookup answer for alice@example.com, issued at %llu (%zu bytes):\n",
        (unsigned long long)(FX_NOW + 1000), rl);
    dump(&o, resp, rl);
    put(&o, "  = 02 41 0001 (version, 'A', one entry) || handle || epoch 1 || global epoch 1 ||\n"
            "    issued || list length || the list above || Ed25519(directory key,\n"
            "    \"imcore/v2/dir-entry\" || the entry from its handle to the end of the list)\n");
    char sn[IMC_DIR_SAFETY_NUMBER_CHARS + 1];
    CHECK_OK(imc_dir_safety_number(sn, b, (const uint8_t *)h, 17, apk,
                                   (const uint8_t *)"bob@example.com", 15, bpk));
    put(&o, "\nbob's account public key ");
    hex(&o, bpk, 32);
    put(&o, "\nsafety number of alice@example.com and bob@example.com: %s\n", sn);

    /* Sizes for 1, 5 and 64 devices (suite 1, this handle). */
    put(&o, "\nSigned device list of alice@example.com, suite 1 devices:");
    static const size_t counts[3] = {1, 5, IMC_MAX_DEVICES_PER_HANDLE};
    for (size_t k = 0; k < 3; k++) {
        static imc_dir_record big;
        big = list;
        big.device_count = counts[k];
        for (size_t i = 0; i < counts[k]; i++) {
            big.devices[i] = dev.pub;
            big.devices[i].device_id = i + 1;
        }
        size_t n = 0;
        CHECK_OK(imc_dir_list_encode(lb, sizeof lb, &n, &big));
        put(&o, "%s %zu device%s %zu bytes", k ? "," : "", counts[k], counts[k] > 1 ? "s" : "",
            n);
    }
    put(&o, "\n");
    render_kt(&o, b, &d, &list);
    put(&o, "```\n");
    imc_dir_wipe(&d);
    imc_dir_store_close(&s);
    imc_keys_wipe(&dev);
    free(u);
    imc_wipe(dsk, 32);
    imc_wipe(ask, 32);
    imc_wipe(bsk, 32);
    return o.len;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(1u << 20);
    size_t n = buf != NULL ? fread(buf, 1, (1u << 20) - 1, f) : 0;
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    const imc_backend *all[16], *bs[16];
    size_t na = imc_test_backends(all, 16), nb = 0;
    /* Backends with Ed25519 and suite 1 (Mbed TLS has no Ed25519). */
    for (size_t i = 0; i < na; i++)
        if ((imc_backend_caps(all[i]) & IMC_CAP_ED25519) &&
            imc_suite_supported(imc_suite_get(1), all[i]))
            bs[nb++] = all[i];
    char *got = malloc(OUT_MAX), *first = malloc(OUT_MAX);
    size_t first_len = 0;
    CHECK(got != NULL && first != NULL && nb > 0);
    if (got == NULL || first == NULL)
        return imc_test_end();
    for (size_t i = 0; i < nb; i++) {
        size_t n = render(got, OUT_MAX, bs[i]);
        if (i == 0) {
            memcpy(first, got, n);
            first_len = n;
        } else {
            CHECK(n == first_len && memcmp(got, first, n) == 0); /* every backend agrees */
        }
    }
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        fwrite(first, 1, first_len, stdout);
        return 0;
    }
    first[first_len] = '\0';
    char *doc = argc > 1 ? slurp(argv[1]) : NULL;
    CHECK(doc != NULL);
    if (doc != NULL) {
        bool found = strstr(doc, first) != NULL;
        CHECK(found);
        if (!found)
            fprintf(stderr, "%s lacks the example: run test_dir_example --print\n", argv[1]);
    }
    free(doc);
    free(got);
    free(first);
    return imc_test_end();
}
