/* Handle normalisation (docs/directory.md, "Handles"): every rule with a
 * positive and a negative case, idempotence and the length bound. */
#include <string.h>

#include "imcore/dir.h"
#include "test.h"

static void expect_norm(const char *in, const char *want)
{
    uint8_t out[IMC_MAX_HANDLE_BYTES];
    size_t n = 0;
    imc_status st = imc_dir_handle_normalise(out, &n, (const uint8_t *)in, strlen(in));
    CHECK_OK(st);
    int ok = st == IMC_OK && n == strlen(want) && memcmp(out, want, n) == 0;
    if (!ok)
        fprintf(stderr, "  normalise(\"%s\") = \"%.*s\", want \"%s\"\n", in, (int)n, out, want);
    CHECK(ok);
    /* The result is in normal form and normalises to itself. */
    CHECK(imc_dir_handle_valid(out, n));
    CHECK(strcmp(in, want) != 0 || imc_dir_handle_valid((const uint8_t *)in, strlen(in)));
}

static void expect_reject(const char *in, size_t len, imc_status want)
{
    uint8_t out[IMC_MAX_HANDLE_BYTES];
    size_t n = 99;
    imc_status st = imc_dir_handle_normalise(out, &n, (const uint8_t *)in, len);
    if (st != want)
        fprintf(stderr, "  normalise(\"%.*s\") = %s\n", (int)(len > 60 ? 60 : len), in,
                imc_status_str(st));
    CHECK(st == want);
    CHECK(n == 0);
    CHECK(!imc_dir_handle_valid((const uint8_t *)in, len));
}

#define REJECT(s) expect_reject((s), strlen(s), IMC_ERR_MALFORMED)

static void phones(void)
{
    expect_norm("+14155550100", "+14155550100");
    expect_norm("+1 (415) 555-0100", "+14155550100");
    expect_norm("+44 20 7946.0958", "+442079460958");
    expect_norm("+290 1234", "+2901234");                /* 7 digits: the minimum */
    expect_norm("+123456789012345", "+123456789012345"); /* 15: the maximum */
    REJECT("+123456");                                   /* 6 digits */
    REJECT("+1234567890123456");                         /* 16 digits */
    REJECT("4155550100");                                /* no '+': no default region */
    REJECT("004915112345678");                           /* no international prefix either */
    REJECT("+0123456789");                               /* no country code starts with 0 */
    REJECT("+1 415 555 0100 ext 5");
    REJECT("+1-415-555-01OO"); /* letters */
    REJECT("++14155550100");
    REJECT("+1/415/5550100");
    REJECT(" +14155550100"); /* '+' must come first */
    REJECT("+");
    REJECT("+ - ( ) .");
    CHECK(!imc_dir_handle_valid((const uint8_t *)"+1 415 555 0100", 15)); /* not normal */
}

static void emails(void)
{
    expect_norm("alice@example.com", "alice@example.com");
    expect_norm("Alice.Smith@Example.COM", "alice.smith@example.com");
    expect_norm("a+tag@mail.example.org", "a+tag@mail.example.org"); /* no tag stripping */
    expect_norm("x!#$%&'*/=?^_`{|}~-@a-b.c0", "x!#$%&'*/=?^_`{|}~-@a-b.c0");
    expect_norm("1@2.3", "1@2.3");
    REJECT("alice"); /* neither: no '+', no '@' -> a bad phone */
    REJECT("@example.com");
    REJECT("alice@");
    REJECT("alice@@example.com");
    REJECT("a@b@example.com");
    REJECT("alice@localhost"); /* one label */
    REJECT(".alice@example.com");
    REJECT("alice.@example.com");
    REJECT("al..ice@example.com");
    REJECT("alice@example..com");
    REJECT("alice@.example.com");
    REJECT("alice@example.com."); /* trailing dot */
    REJECT("alice@-example.com");
    REJECT("alice@example-.com");
    REJECT("alice@exa_mple.com");
    REJECT("ali ce@example.com");
    REJECT("\"alice\"@example.com"); /* no quoted local parts */
    REJECT("alice@[192.0.2.1]");     /* no address literals */
    REJECT("al\xc3\xaf"
           "ce@example.com"); /* no internationalised addresses */
    REJECT("alice@exam\tple.com");
    CHECK(!imc_dir_handle_valid((const uint8_t *)"Alice@example.com", 17)); /* not normal */

    /* Local part 64 ok, 65 not; label 63 ok, 64 not; domain 253 ok, 254 not. */
    char buf[300];
    memset(buf, 'a', 64);
    strcpy(buf + 64, "@example.com");
    expect_norm(buf, buf);
    memset(buf, 'a', 65);
    strcpy(buf + 65, "@example.com");
    REJECT(buf);
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 63);
    strcpy(buf + 65, ".com");
    expect_norm(buf, buf);
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 64);
    strcpy(buf + 66, ".com");
    REJECT(buf);
    /* A 253-byte domain of 4 labels: 63.63.63.61. */
    strcpy(buf, "a@");
    size_t at = 2;
    for (int l = 0; l < 4; l++) {
        size_t n = l < 3 ? 63 : 61;
        memset(buf + at, 'c', n);
        at += n;
        buf[at++] = l < 3 ? '.' : '\0';
    }
    CHECK(strlen(buf) == 255);
    expect_norm(buf, buf);
    buf[255] = 'c'; /* 254-byte domain, 256-byte handle */
    buf[256] = '\0';
    expect_reject(buf, 256, IMC_ERR_LIMIT);
}

static void bounds(void)
{
    uint8_t out[IMC_MAX_HANDLE_BYTES];
    size_t n = 0;
    char big[400];
    memset(big, ' ', sizeof big);
    big[0] = '+';
    memcpy(big + 1, "14155550100", 11);
    /* Over 255 input bytes is refused before looking at them. */
    expect_reject(big, IMC_MAX_HANDLE_BYTES + 1, IMC_ERR_LIMIT);
    expect_norm("+14155550100", "+14155550100");
    CHECK_OK(imc_dir_handle_normalise(out, &n, (const uint8_t *)big, IMC_MAX_HANDLE_BYTES));
    CHECK(n == 12);
    expect_reject("", 0, IMC_ERR_MALFORMED);
    CHECK_ST(imc_dir_handle_normalise(NULL, &n, (const uint8_t *)"+14155550100", 12), IMC_ERR_ARG);
    CHECK_ST(imc_dir_handle_normalise(out, NULL, (const uint8_t *)"+14155550100", 12), IMC_ERR_ARG);
    CHECK_ST(imc_dir_handle_normalise(out, &n, NULL, 3), IMC_ERR_ARG);
    CHECK(!imc_dir_handle_valid(NULL, 0));
    /* An embedded NUL is just a bad byte. */
    expect_reject("a\0b@example.com", 15, IMC_ERR_MALFORMED);
}

int main(void)
{
    phones();
    emails();
    bounds();
    return imc_test_end();
}
