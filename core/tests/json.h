/* A small strict JSON reader for the test programs (RFC 8259).
 *
 * It reads a whole document into a tree and rejects anything that is not
 * strict JSON: trailing commas, comments, leading zeros, control characters
 * or invalid escapes in strings, invalid UTF-8, lone surrogates, duplicate
 * object keys, nesting deeper than IMC_JSON_MAX_DEPTH, and trailing bytes
 * after the document. It is what the Wycheproof vector files need and no
 * more: test code only, not part of libimcore. */
#ifndef IMCORE_TESTS_JSON_H
#define IMCORE_TESTS_JSON_H

#include <stddef.h>
#include <stdint.h>

#define IMC_JSON_MAX_DEPTH 64

typedef enum imc_json_type {
    IMC_JSON_NULL,
    IMC_JSON_FALSE,
    IMC_JSON_TRUE,
    IMC_JSON_NUMBER,
    IMC_JSON_STRING,
    IMC_JSON_ARRAY,
    IMC_JSON_OBJECT,
} imc_json_type;

typedef struct imc_json imc_json;
struct imc_json {
    imc_json_type type;
    char *key;       /* member name when this value sits in an object */
    char *str;       /* STRING: the decoded UTF-8 text, NUL-terminated */
    size_t str_len;  /* STRING: its length in bytes (no embedded NUL) */
    char *num;       /* NUMBER: the literal as written, NUL-terminated */
    imc_json *child; /* ARRAY/OBJECT: the first element or member */
    imc_json *next;  /* the next sibling */
    size_t count;    /* ARRAY/OBJECT: the number of elements or members */
};

/* Parses text[0..len). Returns the root, or NULL with a message naming the
 * line and column in err (if err_cap > 0). Free with imc_json_free(). */
imc_json *imc_json_parse(const char *text, size_t len, char *err, size_t err_cap);

/* Reads and parses a whole file; NULL with a message on any failure. */
imc_json *imc_json_load(const char *path, char *err, size_t err_cap);

void imc_json_free(imc_json *v);

/* The member `key` of an object, or NULL (also when obj is not an object). */
const imc_json *imc_json_get(const imc_json *obj, const char *key);

/* The string member `key`, or NULL if absent or not a string. */
const char *imc_json_get_str(const imc_json *obj, const char *key);

/* The integer member `key` (a NUMBER with no fraction or exponent that fits
 * in int64_t): 1 and *out set, or 0. */
int imc_json_get_int(const imc_json *obj, const char *key, int64_t *out);

#endif
