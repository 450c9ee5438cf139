/* imcore: one status type for every fallible function. */
#ifndef IMCORE_STATUS_H
#define IMCORE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define IMC_MUST_USE __attribute__((warn_unused_result))
#else
#define IMC_MUST_USE
#endif

typedef enum imc_status {
    IMC_OK = 0,
    IMC_ERR_ARG,          /* a caller error: NULL pointer, bad length, bad option */
    IMC_ERR_UNSUPPORTED,  /* backend not built, or primitive/suite not available here */
    IMC_ERR_NOT_FOUND,    /* no such backend, suite, handle or device */
    IMC_ERR_NO_SPACE,     /* output buffer too small */
    IMC_ERR_MALFORMED,    /* input does not parse under the strict wire rules */
    IMC_ERR_LIMIT,        /* a count or length is over its configured limit */
    IMC_ERR_AUTH,         /* authentication failed (tag, signature, key check): uniform */
    IMC_ERR_WEAK_KEY,     /* a key or shared secret rejected by the validation policy */
    IMC_ERR_REPLAY,       /* message id already seen */
    IMC_ERR_STALE,        /* epoch went backwards, entry expired, or timestamp out of window */
    IMC_ERR_EXISTS,       /* item already present */
    IMC_ERR_CRYPTO,       /* the crypto library failed internally (not an input problem) */
    IMC_ERR_NOMEM,        /* allocation failed */
    IMC_ERR_IO,           /* storage or file I/O failed */
    IMC_ERR_EXPIRED,      /* message older than the maximum age (docs/replay.md) */
    IMC_STATUS_COUNT_
} imc_status;

/* A short constant English description; never NULL. */
const char *imc_status_str(imc_status s);

#ifdef __cplusplus
}
#endif
#endif
