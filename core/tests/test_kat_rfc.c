/* Known answers from the RFCs, through every backend (label kat):
 *   RFC 7748 section 5.2 (two X25519 vectors, 1 and 1000 iterations) and
 *     section 6.1 (Alice and Bob);
 *   RFC 8032 section 7.1 Ed25519 TEST 1, 2, 3, 1024 and SHA(abc);
 *   RFC 8439 section 2.8.2 and appendix A.5 (ChaCha20-Poly1305 AEAD);
 *   RFC 5869 appendix A.1-A.3 (HKDF-SHA-256);
 *   RFC 4231 test cases 1-4, 6 and 7 (HMAC-SHA-256);
 *   FIPS 180 SHA-256 of "abc" and of the empty string;
 *   RFC 6979 appendix A.2.5 (deterministic ECDSA, P-256 with SHA-256,
 *     messages "sample" and "test"), with s made low as the policy requires;
 * and the deterministic RNG (portable, no backend) against ChaCha20 block
 * vectors: RFC 8439 appendix A.1 #1-#5 and the section 2.4.2 keystream,
 * mapped onto its 64-bit counter / 64-bit stream layout.
 *
 * Every vector was transcribed from the RFC text and cross-checked against
 * an independent implementation before it was committed here. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test.h"

#define MAX_BACKENDS 16

static const char *g_section = "";
static const char *g_backend = "";

/* Decodes a hex constant of this file (a bad one is a test bug: fatal). */
static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    long n = imc_test_unhex(out, cap, hex);
    if (n < 0) {
        fprintf(stderr, "bad hex constant in %s: %.40s...\n", g_section, hex);
        exit(2);
    }
    return (size_t)n;
}

/* CHECKs got[0..n) against hex, naming the section, backend and what. */
static void check_hex(const char *what, const uint8_t *got, size_t n, const char *hex)
{
    uint8_t want[2048];
    size_t wn = unhex(want, sizeof want, hex);
    int ok = wn == n && memcmp(got, want, n) == 0;
    if (!ok) {
        fprintf(stderr, "FAIL %s [%s] %s: got ", g_section, g_backend, what);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%02x", got[i]);
        fprintf(stderr, "\n");
    }
    CHECK(ok);
}

static void check_st(const char *what, imc_status got, imc_status want)
{
    if (got != want)
        fprintf(stderr, "FAIL %s [%s] %s: %s, expected %s\n", g_section, g_backend, what,
                imc_status_str(got), imc_status_str(want));
    CHECK(got == want);
}

/* ---- RFC 6979 ---------------------------------------------------------- */

static void rfc6979(const imc_backend *b)
{
    static const char X[] = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
    static const char U[] = "04"
                            "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
                            "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
    /* r || s from the RFC; for "sample" s is high and the policy replaces
     * it by n - s (F7CB1C94...ACDA8 -> 0834E36A...857A9). */
    static const struct {
        const char *msg, *sig;
    } V[] = {
        {"sample", "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
                   "0834e36ad29a83bf2bc9385e491d6099c8fdf9d1ed67aa7ea5f51f93782857a9"},
        {"test", "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
                 "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"},
    };
    uint8_t sk[32], pk[65], sig[64];
    g_section = "RFC 6979 A.2.5";
    unhex(sk, sizeof sk, X);
    check_st("public", imc_crypto_p256_public(b, pk, sk), IMC_OK);
    check_hex("public", pk, sizeof pk, U);
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        const uint8_t *m = (const uint8_t *)V[i].msg;
        size_t mlen = strlen(V[i].msg);
        check_st(V[i].msg, imc_crypto_ecdsa_p256_sign(b, sig, sk, m, mlen), IMC_OK);
        check_hex(V[i].msg, sig, sizeof sig, V[i].sig);
        check_st(V[i].msg, imc_crypto_ecdsa_p256_verify(b, sig, pk, m, mlen), IMC_OK);
    }
}

/* ---- RFC 7748 ---------------------------------------------------------- */

static const struct {
    const char *scalar, *u, *out;
} X25519_52[] = {
    {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
    {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
};

static void rfc7748(const imc_backend *b)
{
    uint8_t k[32], u[32], out[32];
    g_section = "RFC 7748 5.2";
    for (size_t i = 0; i < sizeof X25519_52 / sizeof X25519_52[0]; i++) {
        unhex(k, sizeof k, X25519_52[i].scalar);
        unhex(u, sizeof u, X25519_52[i].u);
        check_st("X25519", imc_crypto_x25519(b, out, k, u), IMC_OK);
        check_hex(i == 0 ? "vector 1" : "vector 2", out, 32, X25519_52[i].out);
    }

    /* k = u = 9; then repeatedly k, u = X25519(k, u), k. */
    g_section = "RFC 7748 5.2 iterated";
    memset(k, 0, sizeof k);
    k[0] = 9;
    memcpy(u, k, sizeof u);
    for (int i = 1; i <= 1000; i++) {
        imc_status st = imc_crypto_x25519(b, out, k, u);
        if (st != IMC_OK) {
            check_st("X25519 in the loop", st, IMC_OK);
            break;
        }
        memcpy(u, k, sizeof u);
        memcpy(k, out, sizeof k);
        if (i == 1)
            check_hex("after 1 iteration", k, 32,
                      "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
    check_hex("after 1000 iterations", k, 32,
              "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");

    g_section = "RFC 7748 6.1";
    uint8_t a_sk[32], b_sk[32], a_pk[32], b_pk[32];
    unhex(a_sk, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    unhex(b_sk, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    check_st("Alice public", imc_crypto_x25519_public(b, a_pk, a_sk), IMC_OK);
    check_hex("Alice public", a_pk, 32,
              "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    check_st("Bob public", imc_crypto_x25519_public(b, b_pk, b_sk), IMC_OK);
    check_hex("Bob public", b_pk, 32,
              "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    static const char shared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    check_st("Alice shared", imc_crypto_x25519(b, out, a_sk, b_pk), IMC_OK);
    check_hex("Alice shared", out, 32, shared);
    check_st("Bob shared", imc_crypto_x25519(b, out, b_sk, a_pk), IMC_OK);
    check_hex("Bob shared", out, 32, shared);
}

/* ---- RFC 8032 ---------------------------------------------------------- */

static const struct {
    const char *name, *sk, *pk, *msg, *sig;
} ED25519_71[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
     "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
     "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
     "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
     "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
     "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f5"
     "4e9f77b1e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37"
     "c93a1b270b20329d658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efc"
     "b8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b"
     "3b310da903401aa62100ab5d1a36553e06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573c"
     "b116dbefefd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204"
     "ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958"
     "d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
     "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f27088d78b7e883c8759d2c4f5c6"
     "5adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2"
     "cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128bab27af87a"
     "71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b"
     "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9"
     "b47acdb751fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb"
     "038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f672451"
     "7b65e614ad6808d6f6ee34dff7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
     "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e"
     "2ab47b57f7f7276cd419c17a3ca8e1b939ae49e488acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d"
     "5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e6aed3fb0"
     "f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041"
     "e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa9"
     "33a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380db2eaaa707b4c4185"
     "c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8cac60c905c"
     "15fc910840b94c00a0b9d0",
     "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23"
     "c436d94b5e8fcd4f681e30a6ac00a9704a188a03"},
    /* The message is SHA-512("abc"). */
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
     "a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c6"
     "6431e0303dca179c138ac17ad9bef1177331a704"},
};

static void rfc8032(const imc_backend *b)
{
    g_section = "RFC 8032 7.1";
    for (size_t i = 0; i < sizeof ED25519_71 / sizeof ED25519_71[0]; i++) {
        uint8_t sk[32], pk[32], want_pk[32], sig[64], want_sig[64], msg[1024];
        unhex(sk, sizeof sk, ED25519_71[i].sk);
        unhex(want_pk, sizeof want_pk, ED25519_71[i].pk);
        unhex(want_sig, sizeof want_sig, ED25519_71[i].sig);
        size_t n = unhex(msg, sizeof msg, ED25519_71[i].msg);
        char what[64];
        snprintf(what, sizeof what, "%s public key", ED25519_71[i].name);
        check_st(what, imc_crypto_ed25519_public(b, pk, sk), IMC_OK);
        check_hex(what, pk, 32, ED25519_71[i].pk);
        snprintf(what, sizeof what, "%s signature", ED25519_71[i].name);
        check_st(what, imc_crypto_ed25519_sign(b, sig, sk, want_pk, n > 0 ? msg : NULL, n), IMC_OK);
        check_hex(what, sig, 64, ED25519_71[i].sig);
        snprintf(what, sizeof what, "%s verify", ED25519_71[i].name);
        check_st(what, imc_crypto_ed25519_verify(b, want_sig, want_pk, n > 0 ? msg : NULL, n),
                 IMC_OK);
        /* One more byte, or one flipped bit, and it must not verify. */
        snprintf(what, sizeof what, "%s verify of a changed message", ED25519_71[i].name);
        msg[n] = 0;
        check_st(what, imc_crypto_ed25519_verify(b, want_sig, want_pk, msg, n + 1), IMC_ERR_AUTH);
        if (n > 0) {
            msg[n / 2] ^= 0x01;
            check_st(what, imc_crypto_ed25519_verify(b, want_sig, want_pk, msg, n), IMC_ERR_AUTH);
        }
    }
}

/* ---- RFC 8439 ---------------------------------------------------------- */

static const char SUNSCREEN[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
                                "only one tip for the future, sunscreen would be it.";

static void aead_known(const imc_backend *b, const char *key_hex, const char *nonce_hex,
                       const char *ad_hex, const uint8_t *pt, size_t pt_len,
                       const char *sealed_hex)
{
    uint8_t key[32], nonce[12], ad[64], sealed[512], out[512];
    unhex(key, sizeof key, key_hex);
    unhex(nonce, sizeof nonce, nonce_hex);
    size_t ad_len = unhex(ad, sizeof ad, ad_hex);
    size_t sealed_len = unhex(sealed, sizeof sealed, sealed_hex);
    if (sealed_len != pt_len + IMC_AEAD_TAG_BYTES) {
        fprintf(stderr, "%s: vector lengths do not match\n", g_section);
        CHECK(0);
        return;
    }
    check_st("seal", imc_crypto_aead_seal(b, IMC_AEAD_CHACHA20POLY1305, out, sizeof out, key, nonce,
                                          12, ad, ad_len, pt, pt_len), IMC_OK);
    check_hex("ciphertext || tag", out, sealed_len, sealed_hex);
    check_st("open", imc_crypto_aead_open(b, IMC_AEAD_CHACHA20POLY1305, out, sizeof out, key, nonce,
                                          12, ad, ad_len, sealed, sealed_len), IMC_OK);
    CHECK(memcmp(out, pt, pt_len) == 0);
    /* A flipped tag bit: refused, and no plaintext comes out. */
    sealed[sealed_len - 1] ^= 0x80;
    memset(out, 0x5a, sizeof out);
    check_st("open with a bad tag", imc_crypto_aead_open(b, IMC_AEAD_CHACHA20POLY1305, out,
                                                         sizeof out, key, nonce, 12, ad, ad_len,
                                                         sealed, sealed_len), IMC_ERR_AUTH);
    uint8_t zero[512] = {0};
    CHECK(memcmp(out, zero, pt_len) == 0);
}

static void rfc8439(const imc_backend *b)
{
    g_section = "RFC 8439 2.8.2";
    aead_known(b, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
               "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
               (const uint8_t *)SUNSCREEN, strlen(SUNSCREEN),
               "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca967128"
               "2fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab"
               "324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
               "1ae10b594f09e26a7e902ecbd0600691");

    /* A.5: the decryption example; the plaintext is the Internet-Draft
     * boilerplate, with U+201C and U+201D around "work in progress". */
    g_section = "RFC 8439 A.5";
    static const char draft[] =
        "Internet-Drafts are draft documents valid for a maximum of six months and may be "
        "updated, replaced, or obsoleted by other documents at any time. It is inappropriate to "
        "use Internet-Drafts as reference material or to cite them other than as "
        "/\xe2\x80\x9cwork in progress./\xe2\x80\x9d";
    aead_known(b, "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
               "000000000102030405060708", "f33388860000000000004e91", (const uint8_t *)draft,
               strlen(draft),
               "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea0"
               "9ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad"
               "176e008d33bd60f982b1ff37c8559797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f615"
               "7b53c867e4b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7"
               "f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a0bb2316053fa76991955ebd631"
               "59434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130305beaba2eda"
               "04df997b714d6c6f2c29a6ad5cb4022b02709b"
               "eead9d67890cbb22392336fea1851f38");
}

/* ---- RFC 5869, RFC 4231, FIPS 180 -------------------------------------- */

static void rfc5869(const imc_backend *b)
{
    static const struct {
        const char *name, *ikm, *salt, *info, *okm;
    } V[] = {
        {"A.1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
         "f0f1f2f3f4f5f6f7f8f9",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
        {"A.2",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a"
         "2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
         "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a"
         "8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
         "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9da"
         "dbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41"
         "c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
        /* Zero-length salt and info. */
        {"A.3", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
    };
    g_section = "RFC 5869";
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        uint8_t ikm[128], salt[128], info[128], okm[128];
        size_t ikm_len = unhex(ikm, sizeof ikm, V[i].ikm);
        size_t salt_len = unhex(salt, sizeof salt, V[i].salt);
        size_t info_len = unhex(info, sizeof info, V[i].info);
        size_t okm_len = strlen(V[i].okm) / 2;
        check_st(V[i].name, imc_crypto_hkdf_sha256(b, okm, okm_len, salt_len ? salt : NULL, salt_len,
                                                   ikm, ikm_len, info_len ? info : NULL, info_len),
                 IMC_OK);
        check_hex(V[i].name, okm, okm_len, V[i].okm);
    }
}

static void rfc4231(const imc_backend *b)
{
    static const struct {
        const char *name, *key, *data, *mac;
    } V[] = {
        {"test case 1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"test case 2", "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"test case 3", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
         "dddddddddddddd",
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"test case 4", "0102030405060708090a0b0c0d0e0f10111213141516171819",
         "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
         "cdcdcdcdcdcdcd",
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        /* key NULL: 131 bytes of 0xaa, longer than the block, hashed first. */
        {"test case 6",
         NULL,
         "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368"
         "204b6579204669727374",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"test case 7",
         NULL,
         "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d7369"
         "7a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e2054"
         "6865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e672075736564"
         "2062792074686520484d414320616c676f726974686d2e",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    g_section = "RFC 4231";
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        uint8_t key[256], data[256], mac[32];
        size_t key_len = 131;
        if (V[i].key != NULL)
            key_len = unhex(key, sizeof key, V[i].key);
        else
            memset(key, 0xaa, key_len);
        size_t data_len = unhex(data, sizeof data, V[i].data);
        check_st(V[i].name, imc_crypto_hmac_sha256(b, mac, key, key_len, data, data_len), IMC_OK);
        check_hex(V[i].name, mac, 32, V[i].mac);
    }
}

static void fips180(const imc_backend *b)
{
    uint8_t h[32];
    g_section = "FIPS 180 SHA-256";
    check_st("\"abc\"", imc_crypto_sha256(b, h, (const uint8_t *)"abc", 3), IMC_OK);
    check_hex("\"abc\"", h, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_st("\"\"", imc_crypto_sha256(b, h, NULL, 0), IMC_OK);
    check_hex("\"\"", h, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* ---- the deterministic RNG --------------------------------------------- */

/* The generator is the ChaCha20 block function with key = seed, a 64-bit
 * block counter in state words 12-13 (starting at 0) and the 64-bit stream
 * number in words 14-15: DJB's original layout. An RFC 8439 vector with
 * 96-bit nonce n0 || n1 || n2 (little-endian words 13, 14, 15) and 32-bit
 * counter c maps onto it whenever n0 = 0: stream = n1 | n2 << 32, and the
 * block is the generator's block number c (bytes 64c .. 64c + 63). */
static void rng_block(const char *what, const char *seed_hex, uint64_t stream, size_t block,
                      const char *want_hex)
{
    uint8_t seed[32], buf[256];
    unhex(seed, sizeof seed, seed_hex);
    size_t want_len = strlen(want_hex) / 2;
    if (64 * block + want_len > sizeof buf) {
        CHECK(0);
        return;
    }
    imc_rng rng;
    imc_rng_init_deterministic(&rng, seed, stream);
    check_st(what, imc_rng_fill(&rng, NULL, buf, 64 * block + want_len), IMC_OK);
    check_hex(what, buf + 64 * block, want_len, want_hex);
    imc_rng_wipe(&rng);
}

static void drbg(void)
{
    g_section = "deterministic RNG";
    g_backend = "portable";
    static const char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";
    /* A.1 #1, also draft-strombergson-chacha-test-vectors TC1 (256-bit all
     * zero key and IV, 20 rounds), and A.1 #2: the next block. */
    rng_block("RFC 8439 A.1 #1 (block 0)", zero, 0, 0,
              "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
              "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
    rng_block("RFC 8439 A.1 #2 (block 1)", zero, 0, 1,
              "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
              "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f");
    rng_block("RFC 8439 A.1 #3 (key ..01, block 1)",
              "0000000000000000000000000000000000000000000000000000000000000001", 0, 1,
              "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
              "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0");
    rng_block("RFC 8439 A.1 #4 (key 00ff.., block 2)",
              "00ff000000000000000000000000000000000000000000000000000000000000", 0, 2,
              "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
              "13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096");
    /* Nonce 00000000 00000000 00000002: word 15 = 0x02000000. */
    rng_block("RFC 8439 A.1 #5 (stream 0x0200000000000000)", zero, UINT64_C(0x0200000000000000),
              0,
              "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c7"
              "8a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d");

    /* 2.4.2: key 00..1f, nonce 00000000 0000004a 00000000 (word 14 =
     * 0x4a000000), counter 1. The RFC gives plaintext and ciphertext; their
     * XOR is the keystream from block 1 on. */
    static const char ct242[] =
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593d"
        "abcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16cc"
        "f806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d";
    uint8_t seed[32], ct[128], ks[128 + 64];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    size_t n = unhex(ct, sizeof ct, ct242);
    CHECK(n == strlen(SUNSCREEN));
    imc_rng rng;
    imc_rng_init_deterministic(&rng, seed, UINT64_C(0x4a000000));
    /* Read in uneven pieces: the stream must not depend on the chunking. */
    size_t done = 0;
    static const size_t pieces[] = {1, 7, 56, 3, 64, 13, 100};
    for (size_t i = 0; done < 64 + n; i++) {
        size_t want = pieces[i % (sizeof pieces / sizeof pieces[0])];
        if (want > 64 + n - done)
            want = 64 + n - done;
        check_st("fill", imc_rng_fill(&rng, NULL, ks + done, want), IMC_OK);
        done += want;
    }
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= (uint8_t)(ks[64 + i] ^ (uint8_t)SUNSCREEN[i]) == ct[i];
    if (!ok)
        fprintf(stderr, "FAIL deterministic RNG: RFC 8439 2.4.2 keystream mismatch\n");
    CHECK(ok);
    imc_rng_wipe(&rng);

    /* Another stream of the same seed is another keystream. */
    uint8_t a[64], b2[64];
    imc_rng_init_deterministic(&rng, seed, 0);
    CHECK_OK(imc_rng_fill(&rng, NULL, a, sizeof a));
    imc_rng_init_deterministic(&rng, seed, 1);
    CHECK_OK(imc_rng_fill(&rng, NULL, b2, sizeof b2));
    CHECK(memcmp(a, b2, sizeof a) != 0);
    imc_rng_wipe(&rng);
}

int main(void)
{
    const imc_backend *bs[MAX_BACKENDS];
    size_t nb = imc_test_backends(bs, MAX_BACKENDS);
    CHECK(nb > 0);
    drbg();
    printf("rfc deterministic RNG: %lu checks failed\n", imc_test_failed_);
    for (size_t i = 0; i < nb; i++) {
        const imc_backend *b = bs[i];
        unsigned long failed_before = imc_test_failed_, passed_before = imc_test_passed_;
        g_backend = imc_backend_name(b);
        uint32_t caps = imc_backend_caps(b);
        if (caps & IMC_CAP_X25519)
            rfc7748(b);
        if (caps & IMC_CAP_ED25519)
            rfc8032(b);
        if (caps & IMC_CAP_CHACHA20POLY1305)
            rfc8439(b);
        if ((caps & (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256)) ==
            (IMC_CAP_P256_ECDH | IMC_CAP_ECDSA_P256))
            rfc6979(b);
        if (caps & IMC_CAP_SHA256) {
            rfc5869(b);
            rfc4231(b);
            fips180(b);
        }
        printf("rfc %s: %lu checks passed, %lu failed\n", g_backend,
               imc_test_passed_ - passed_before, imc_test_failed_ - failed_before);
    }
    return imc_test_end();
}
