/* The CLI's file reader (core/cli/io.c): a read that fails (here: a file
 * larger than the buffer, the "not a key file" case of a secret key) leaves
 * no byte of what it read in the caller's buffer; a read that succeeds
 * returns the bytes. Built from io.c and args.c directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int failed;
#define EXPECT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);                                \
            failed++;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    char path[] = "/tmp/imcore-cli-io-XXXXXX";
    int fd = mkstemp(path);
    EXPECT(fd >= 0);
    if (fd < 0)
        return 1;
    uint8_t secret[64];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)(0xa5 ^ i);
    EXPECT(write(fd, secret, sizeof secret) == (ssize_t)sizeof secret);
    close(fd);

    uint8_t buf[32];
    size_t len = 99;
    memset(buf, 0x5a, sizeof buf);
    int rc = cli_read_into("test", "secret key file", path, buf, sizeof buf, &len);
    EXPECT(rc == CLI_EXIT_FAIL && len == 0);
    size_t nonzero = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        nonzero += buf[i] != 0;
    EXPECT(nonzero == 0); /* wiped, not left holding the first 32 secret bytes */

    uint8_t big[128];
    rc = cli_read_into("test", "secret key file", path, big, sizeof big, &len);
    EXPECT(rc == CLI_CONTINUE && len == sizeof secret && memcmp(big, secret, len) == 0);
    unlink(path);
    printf("test_cli_io: %s\n", failed ? "FAILED" : "4 checks passed");
    return failed ? 1 : 0;
}
