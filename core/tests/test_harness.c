/* The test harness itself (test.h): a program that ran no check fails, one
 * whose every part was skipped exits 77 (CTest: skipped), one with a failed
 * check fails even if others passed. Each case runs in a child process,
 * since the counters are per process. */
#define _POSIX_C_SOURCE 200809L /* fork, waitpid */

#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

typedef enum { NONE, SKIP_ONLY, SKIP_AND_PASS, ONE_FAILED, ALL_PASSED } scenario;

static int exit_of(scenario sc)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        imc_test_passed_ = imc_test_failed_ = imc_test_skipped_ = 0;
        if (sc == SKIP_ONLY || sc == SKIP_AND_PASS)
            imc_test_skip("a suite", "probe");
        if (sc == SKIP_AND_PASS || sc == ONE_FAILED || sc == ALL_PASSED)
            imc_test_passed_++;
        if (sc == ONE_FAILED)
            imc_test_failed_++;
        _exit(imc_test_end());
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

int main(void)
{
    CHECK(exit_of(NONE) == 1);
    CHECK(exit_of(SKIP_ONLY) == IMC_TEST_SKIP_EXIT);
    CHECK(exit_of(SKIP_AND_PASS) == 0);
    CHECK(exit_of(ONE_FAILED) == 1);
    CHECK(exit_of(ALL_PASSED) == 0);
    return imc_test_end();
}
