#include "imcore/status.h"

const char *imc_status_str(imc_status s)
{
    switch (s) {
    case IMC_OK: return "ok";
    case IMC_ERR_ARG: return "invalid argument";
    case IMC_ERR_UNSUPPORTED: return "not supported by this build or backend";
    case IMC_ERR_NOT_FOUND: return "not found";
    case IMC_ERR_NO_SPACE: return "output buffer too small";
    case IMC_ERR_MALFORMED: return "malformed input";
    case IMC_ERR_LIMIT: return "over a configured limit";
    case IMC_ERR_AUTH: return "authentication failed";
    case IMC_ERR_WEAK_KEY: return "key rejected by validation policy";
    case IMC_ERR_REPLAY: return "replayed message";
    case IMC_ERR_STALE: return "stale, rolled-back or out-of-window data";
    case IMC_ERR_EXISTS: return "already exists";
    case IMC_ERR_CRYPTO: return "crypto library failure";
    case IMC_ERR_NOMEM: return "out of memory";
    case IMC_ERR_IO: return "I/O error";
    case IMC_ERR_EXPIRED: return "message older than the maximum age";
    case IMC_STATUS_COUNT_: break;
    }
    return "unknown status";
}
