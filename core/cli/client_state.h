/* The client state directory of the CLI (client_state.c). */
#ifndef IMCORE_CLI_CLIENT_STATE_H
#define IMCORE_CLI_CLIENT_STATE_H

#include "cli.h"
#include "imcore/dircache.h"

#define CLI_STATE_FILE "client.mdb"
#define CLI_STATE_DIR_KEY "directory.pub"
#define CLI_STATE_PATH_MAX 4096

/* DIR/file into out, or a usage error. */
int cli_client_path(const char *prog, const char *dir, const char *file, char *out, size_t cap);

/* Opens the persistent client of state directory `dir` (own handle and
 * device optional: NULL / 0). CLI_CONTINUE or CLI_EXIT_FAIL after a message. */
int cli_client_open(const char *prog, const imc_backend *b, const char *dir,
                    const uint8_t *own_handle, size_t own_len, uint64_t own_device,
                    imc_dircache **out);
/* The same, creating the state with a transparency configuration (NULL:
 * the one in the file, if any). */
int cli_client_open_kt(const char *prog, const imc_backend *b, const char *dir,
                       const uint8_t *own_handle, size_t own_len, uint64_t own_device,
                       const imc_kt_client_config *kt, imc_dircache **out);

#endif
