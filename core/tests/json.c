/* A small strict JSON reader for the test programs; see json.h. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Larger inputs are refused: the vector files are a few hundred KiB. */
#define JSON_MAX_FILE (64u * 1024u * 1024u)

typedef struct parser {
    const char *start;
    const char *p;
    const char *end;
    char *err;
    size_t err_cap;
    int failed;
} parser;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void fail(parser *ps, const char *fmt, ...);

static void fail(parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    if (ps->err == NULL || ps->err_cap == 0)
        return;
    unsigned long line = 1, col = 1;
    for (const char *q = ps->start; q < ps->p; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    int n = snprintf(ps->err, ps->err_cap, "line %lu column %lu: ", line, col);
    if (n < 0 || (size_t)n >= ps->err_cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->err_cap - (size_t)n, fmt, ap);
    va_end(ap);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static imc_json *new_node(parser *ps, imc_json_type type)
{
    imc_json *v = calloc(1, sizeof *v);
    if (v == NULL)
        fail(ps, "out of memory");
    else
        v->type = type;
    return v;
}

void imc_json_free(imc_json *v)
{
    while (v != NULL) {
        imc_json *next = v->next;
        imc_json_free(v->child);
        free(v->key);
        free(v->str);
        free(v->num);
        free(v);
        v = next;
    }
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at ps->p; -1 (after fail()) if they are not there. */
static long read_hex4(parser *ps)
{
    if (ps->end - ps->p < 4) {
        fail(ps, "truncated \\u escape");
        return -1;
    }
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(ps->p[i]);
        if (d < 0) {
            fail(ps, "bad hex digit in \\u escape");
            return -1;
        }
        v = v * 16 + d;
    }
    ps->p += 4;
    return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (p < end, *p >= 0x80), or 0. No
 * overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    unsigned long cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A string starting at the opening quote; returns the decoded text (its
 * length in *len_out) or NULL after fail(). */
static char *parse_string(parser *ps, size_t *len_out)
{
    ps->p++; /* the opening quote */
    /* Decoding never makes a string longer than its source text. */
    const char *scan = ps->p;
    while (scan < ps->end && *scan != '"') {
        if (*scan == '\\' && scan + 1 < ps->end)
            scan++;
        scan++;
    }
    if (scan >= ps->end) {
        fail(ps, "unterminated string");
        return NULL;
    }
    char *out = malloc((size_t)(scan - ps->p) + 1);
    if (out == NULL) {
        fail(ps, "out of memory");
        return NULL;
    }
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            fail(ps, "control character in string");
            goto bad;
        }
        if (c >= 0x80) {
            size_t k = utf8_seq_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
            if (k == 0) {
                fail(ps, "invalid UTF-8 in string");
                goto bad;
            }
            memcpy(out + n, ps->p, k);
            n += k;
            ps->p += k;
            continue;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            ps->p++;
            continue;
        }
        ps->p++; /* the backslash; the scan above guarantees a next byte */
        char e = *ps->p++;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            long cp = read_hex4(ps);
            if (cp < 0)
                goto bad;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                fail(ps, "lone low surrogate");
                goto bad;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    fail(ps, "lone high surrogate");
                    goto bad;
                }
                ps->p += 2;
                long lo = read_hex4(ps);
                if (lo < 0)
                    goto bad;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    fail(ps, "high surrogate not followed by a low one");
                    goto bad;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0) {
                fail(ps, "\\u0000 is not supported");
                goto bad;
            }
            n += put_utf8(out + n, (unsigned long)cp);
            break;
        }
        default:
            ps->p--;
            fail(ps, "invalid escape \\%c", e);
            goto bad;
        }
    }
    ps->p++; /* the closing quote */
    out[n] = '\0';
    *len_out = n;
    return out;
bad:
    free(out);
    return NULL;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static char *parse_number(parser *ps)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end || !is_digit(*ps->p)) {
        fail(ps, "bad number");
        return NULL;
    }
    if (*ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && is_digit(*ps->p)) {
            fail(ps, "leading zero in number");
            return NULL;
        }
    } else {
        while (ps->p < ps->end && is_digit(*ps->p))
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) {
            fail(ps, "no digits after the decimal point");
            return NULL;
        }
        while (ps->p < ps->end && is_digit(*ps->p))
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) {
            fail(ps, "no digits in the exponent");
            return NULL;
        }
        while (ps->p < ps->end && is_digit(*ps->p))
            ps->p++;
    }
    size_t n = (size_t)(ps->p - s);
    char *lit = malloc(n + 1);
    if (lit == NULL) {
        fail(ps, "out of memory");
        return NULL;
    }
    memcpy(lit, s, n);
    lit[n] = '\0';
    return lit;
}

static int match_literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

static imc_json *parse_value(parser *ps, int depth);

/* Elements of an array or members of an object, after the opening bracket. */
static int parse_children(parser *ps, imc_json *parent, int depth)
{
    const char close = parent->type == IMC_JSON_ARRAY ? ']' : '}';
    imc_json **tail = &parent->child;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 1;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        if (parent->type == IMC_JSON_OBJECT) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a member name");
                return 0;
            }
            key = parse_string(ps, &key_len);
            if (key == NULL)
                return 0;
            for (const imc_json *m = parent->child; m != NULL; m = m->next) {
                if (strcmp(m->key, key) == 0) {
                    fail(ps, "duplicate member \"%s\"", key);
                    free(key);
                    return 0;
                }
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                fail(ps, "expected ':'");
                free(key);
                return 0;
            }
            ps->p++;
        }
        imc_json *v = parse_value(ps, depth + 1);
        if (v == NULL) {
            free(key);
            return 0;
        }
        v->key = key;
        *tail = v;
        tail = &v->next;
        parent->count++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 1;
        }
        fail(ps, "expected ',' or '%c'", close);
        return 0;
    }
}

static imc_json *parse_value(parser *ps, int depth)
{
    if (depth > IMC_JSON_MAX_DEPTH) {
        fail(ps, "nesting deeper than %d", IMC_JSON_MAX_DEPTH);
        return NULL;
    }
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return NULL;
    }
    imc_json *v = NULL;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        v = new_node(ps, c == '{' ? IMC_JSON_OBJECT : IMC_JSON_ARRAY);
        if (v == NULL)
            return NULL;
        ps->p++;
        if (!parse_children(ps, v, depth))
            goto bad;
    } else if (c == '"') {
        v = new_node(ps, IMC_JSON_STRING);
        if (v == NULL)
            return NULL;
        v->str = parse_string(ps, &v->str_len);
        if (v->str == NULL)
            goto bad;
    } else if (c == '-' || is_digit(c)) {
        v = new_node(ps, IMC_JSON_NUMBER);
        if (v == NULL)
            return NULL;
        v->num = parse_number(ps);
        if (v->num == NULL)
            goto bad;
    } else if (match_literal(ps, "true")) {
        v = new_node(ps, IMC_JSON_TRUE);
    } else if (match_literal(ps, "false")) {
        v = new_node(ps, IMC_JSON_FALSE);
    } else if (match_literal(ps, "null")) {
        v = new_node(ps, IMC_JSON_NULL);
    } else {
        fail(ps, "unexpected character '%c'", c);
    }
    return v;
bad:
    imc_json_free(v);
    return NULL;
}

imc_json *imc_json_parse(const char *text, size_t len, char *err, size_t err_cap)
{
    parser ps = {text, text, text + len, err, err_cap, 0};
    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    if (text == NULL) {
        fail(&ps, "no input");
        return NULL;
    }
    imc_json *root = parse_value(&ps, 0);
    if (root == NULL)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "trailing bytes after the document");
        imc_json_free(root);
        return NULL;
    }
    return root;
}

imc_json *imc_json_load(const char *path, char *err, size_t err_cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (err != NULL && err_cap > 0)
            snprintf(err, err_cap, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (len == cap) {
            char *bigger = cap < JSON_MAX_FILE ? realloc(buf, cap * 2) : NULL;
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int read_error = ferror(f);
    fclose(f);
    if (buf == NULL || read_error) {
        if (err != NULL && err_cap > 0)
            snprintf(err, err_cap, "cannot read %s", path);
        free(buf);
        return NULL;
    }
    imc_json *root = imc_json_parse(buf, len, err, err_cap);
    free(buf);
    return root;
}

const imc_json *imc_json_get(const imc_json *obj, const char *key)
{
    if (obj == NULL || obj->type != IMC_JSON_OBJECT || key == NULL)
        return NULL;
    for (const imc_json *m = obj->child; m != NULL; m = m->next)
        if (strcmp(m->key, key) == 0)
            return m;
    return NULL;
}

const char *imc_json_get_str(const imc_json *obj, const char *key)
{
    const imc_json *v = imc_json_get(obj, key);
    return v != NULL && v->type == IMC_JSON_STRING ? v->str : NULL;
}

int imc_json_get_int(const imc_json *obj, const char *key, int64_t *out)
{
    const imc_json *v = imc_json_get(obj, key);
    if (v == NULL || v->type != IMC_JSON_NUMBER)
        return 0;
    const char *s = v->num;
    int neg = *s == '-';
    if (neg)
        s++;
    uint64_t acc = 0;
    for (; *s != '\0'; s++) {
        if (!is_digit(*s))
            return 0; /* a fraction or an exponent */
        unsigned d = (unsigned)(*s - '0');
        if (acc > (UINT64_C(9223372036854775808) - d) / 10)
            return 0;
        acc = acc * 10 + d;
    }
    if (!neg && acc > (uint64_t)INT64_MAX)
        return 0;
    *out = neg ? (acc == UINT64_C(9223372036854775808) ? INT64_MIN : -(int64_t)acc)
               : (int64_t)acc;
    return 1;
}
