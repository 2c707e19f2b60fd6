/*
 * mysql_json.h — MySQL's binary JSON format (the JSON column type in MySQL
 * row images, and the values inside PARTIAL_UPDATE_ROWS diffs) as JSON text.
 *
 * Text form: compact, as Debezium's MySQL connector prints it — no spaces,
 * object members in stored order, strings escaped per RFC 8259 (control
 * characters as \uXXXX except \b \f \n \r \t; '/' not escaped; non-ASCII
 * UTF-8 as is), doubles as the shortest text that reads back to the same
 * double, laid out as MySQL prints it (".0" kept for integral values:
 * 1.0 → "1.0", 1.0e20 → "1e20"; see the implementation note in
 * mysql_json.c), int64/uint64 exact.
 * Opaque values: DATE → "YYYY-MM-DD", TIME → "HH:MM:SS.ffffff",
 * DATETIME/TIMESTAMP → "YYYY-MM-DD HH:MM:SS.ffffff", DECIMAL → its digits
 * with its scale ("9.00"), other opaque types → "base64:typeNN:<base64>"
 * (NN the MySQL field type), all as JSON strings.
 *
 * Input is hostile: offsets and sizes are checked against the value's
 * bounds, nesting is limited to 100 levels (MySQL's own limit), and a bad
 * value is LKS_ECORRUPT naming the byte offset and what is wrong.
 */
#ifndef LKS_SOURCE_MYSQL_JSON_H
#define LKS_SOURCE_MYSQL_JSON_H

#include "core/core.h"

/* Appends the JSON text of the binary value p[0..n).  n == 0 (MySQL's
 * empty JSON value) appends "null". */
int lks_mysql_json_text(const uint8_t *p, size_t n, lks_buf *out, lks_err *err);

/* Applies a PARTIAL_UPDATE_ROWS JSON diff list (p[0..n): the binary diff
 * records of one column, after its 4-byte length) to the JSON text `before`
 * and appends the result.
 * Operations: REPLACE, INSERT, REMOVE at MySQL JSON paths ($, .key,
 * ."quoted key", [n]); values are binary JSON.  A path that does not resolve
 * in `before` is LKS_ECORRUPT (MySQL would not have logged it). */
int lks_mysql_json_apply_diff(const char *before, size_t before_len, const uint8_t *p, size_t n, lks_buf *out,
                              lks_err *err);

#endif
