/*
 * json_tok.h — internal to cdc/: the pieces the Debezium reader and writer
 * share (the JSON tokenizer, connector-setting names, exact decimal text
 * conversion, base64 into caller memory).  Not a public interface.
 */
#ifndef LKS_CDC_JSON_TOK_H
#define LKS_CDC_JSON_TOK_H

#include "cdc/cdc.h"

/* ---- json_scan.c: flat tokens of one JSON document ---- */

enum { LKS_JT_OBJECT = 1, LKS_JT_ARRAY, LKS_JT_STRING, LKS_JT_PRIMITIVE };

/* Tokens come in document order (a container before its contents).  A
 * string's [start, end) is between its quotes, escapes left as written; a
 * primitive's is its text; a container's runs from its bracket to just
 * past the closing one.  size: an object's key count, an array's element
 * count, 1 for a key.  parent: the enclosing array or object for keys and
 * array elements, the key for an object's values, -1 at the top. */
typedef struct lks_jtok {
    int type, start, end, size, parent;
} lks_jtok;

typedef struct lks_json_scan_err {
    size_t off;       /* where the document goes wrong */
    int tok;          /* the innermost token open there (-1: none), for a path */
    size_t ntok;      /* tokens filled */
    const char *what; /* "expected ':'", "truncated JSON", ... */
} lks_json_scan_err;

/* Scans s[0..n) (n < 2^31) as exactly one JSON value with optional white
 * space around it: strings checked for control bytes and escapes, numbers
 * and literals for their spelling, nesting limited to depth_max.  Returns
 * the token count, -1 on bad JSON (e filled), -2 when cap tokens do not
 * suffice (n / 2 + 2 always do). */
int lks_json_scan(const char *s, size_t n, lks_jtok *t, size_t cap, int depth_max, lks_json_scan_err *e);

/* A member of the top-level object whose value the caller already holds:
 * key (unescaped spelling, as written) and the value's exact text, which
 * must be a complete, valid JSON object.  Where the document has that key
 * at the top level with a value spelled byte for byte like val, the value
 * is one LKS_JT_OBJECT token with size -1 and no tokens for its contents:
 * equal bytes are the same value, so they need no second look. */
typedef struct lks_json_known {
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
} lks_json_known;

/* lks_json_scan with a known member (kn may be NULL). */
int lks_json_scan_known(const char *s, size_t n, lks_jtok *t, size_t cap, int depth_max, const lks_json_known *kn,
                        lks_json_scan_err *e);

/* A JSON number's spelling, exactly (RFC 8259). */
int lks_json_valid_number(const char *q, size_t n);

/* decimal.handling.mode */
enum { DBZ_DEC_PRECISE = 0, DBZ_DEC_DOUBLE, DBZ_DEC_STRING };
/* time.precision.mode */
enum { DBZ_TIME_ADAPTIVE_US = 0, DBZ_TIME_ADAPTIVE, DBZ_TIME_CONNECT };
/* binary.handling.mode */
enum { DBZ_BIN_BYTES = 0, DBZ_BIN_BASE64, DBZ_BIN_BASE64_URL, DBZ_BIN_HEX };

/* Maps a setting's text to its enum (NULL: the default).  LKS_ECONFIG on an
 * unknown spelling, naming the setting. */
int lks_dbz_mode_decimal(const char *s, int *out, lks_err *err);
int lks_dbz_mode_time(const char *s, int *out, lks_err *err);
int lks_dbz_mode_binary(const char *s, int *out, lks_err *err);

/* Largest unscaled decimal the model holds: 32 bytes of two's complement. */
#define DBZ_DEC_MAX 32

/* Converts JSON-number or plain decimal text ("-12.30", "1.5e3") to the
 * unscaled big-endian two's complement value at `scale` (scale < 0: the
 * text's own scale, returned in *scale_out).  Exact: never through double.
 * out holds DBZ_DEC_MAX bytes; the minimal length goes to *outlen.
 * Returns 0, -1 bad syntax, -2 the text has nonzero digits beyond the
 * scale, -3 the value does not fit 32 bytes. */
int lks_dbz_dec_from_text(const char *q, size_t n, int scale, uint8_t *out, size_t *outlen, int *scale_out);

/* Minimal two's complement length of a big-endian value (drops redundant
 * sign bytes); returns the offset of the first kept byte. */
size_t lks_dbz_dec_trim(const uint8_t *be, size_t len);

/* Decodes base64 (standard or URL-safe alphabet, padding optional) into
 * out (room for n/4*3+3 bytes).  Returns the decoded length or -1. */
long lks_dbz_b64_decode(const char *s, size_t n, uint8_t *out);
/* Decodes hex text into out (n/2 bytes); -1 on bad input. */
long lks_dbz_hex_decode(const char *s, size_t n, uint8_t *out);

#endif
