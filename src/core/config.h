/*
 * config.h — lakesync's configuration: Java-style .properties files and
 * `-o key=value` overrides, checked against static property tables.
 *
 * Every module describes its properties in one static table of
 * lks_conf_prop (name, type, default, allowed values or range, one-line doc,
 * flags), terminated by an entry with a NULL name.  The tables drive parsing,
 * validation, errors ("did you mean ...") and the listing printed by
 * `lakesync config list` and --help.  A configuration object is built on a
 * NULL-terminated list of tables, so each module contributes its own.
 *
 * Value syntax by type:
 *   string, password  any text (password values are never printed)
 *   int               decimal integer, optional sign, within [min, max]
 *   bool              true/false, yes/no, on/off, 1/0 (case-insensitive)
 *   enum              one of the '|'-separated allowed words (case-insensitive)
 *   duration          integer with unit ms, s, m, h or d (no unit: ms);
 *                     stored in milliseconds
 *   size              integer with unit B, K/KB/KiB, M/MB/MiB, G/GB/GiB,
 *                     T/TB/TiB (all powers of 1024, case-insensitive; no unit:
 *                     bytes); stored in bytes
 * For every type but string/password, surrounding whitespace is ignored.
 *
 * A configuration object is not thread-safe for concurrent set/get; getters
 * on a configuration nobody modifies may run concurrently.
 */
#ifndef LKS_CORE_CONFIG_H
#define LKS_CORE_CONFIG_H

#include "core/core.h"

typedef enum lks_conf_type {
    LKS_CONF_STR = 0,
    LKS_CONF_INT,
    LKS_CONF_BOOL,
    LKS_CONF_ENUM,
    LKS_CONF_DURATION, /* milliseconds */
    LKS_CONF_SIZE,     /* bytes */
    LKS_CONF_PASSWORD  /* a string that is always secret */
} lks_conf_type;

enum {
    LKS_CONF_SECRET = 1 << 0,   /* value never printed (implied for PASSWORD) */
    LKS_CONF_REQUIRED = 1 << 1, /* lks_config_check_required() fails when unset */
    /* A family of pass-through properties: the entry's name is a prefix
     * ending in '.' ("kafka.") and every property "<prefix><rest>" that no
     * table defines is accepted as a string, kept in the order set, for the
     * module that hands them on (lks_config_each).  Values whose name
     * mentions a password, secret or token are never printed. */
    LKS_CONF_PREFIX = 1 << 2
};

/* One property definition.  All strings are static. */
typedef struct lks_conf_prop {
    const char *name; /* "parquet.compression"; NULL ends a table */
    lks_conf_type type;
    const char *def;     /* default in value syntax, NULL: unset by default */
    const char *allowed; /* ENUM: "snappy|zstd|gzip|none" */
    int64_t min, max;    /* INT/DURATION/SIZE: inclusive range (in ms/bytes);
                            min == max == 0 means no range check */
    unsigned flags;      /* LKS_CONF_SECRET, LKS_CONF_REQUIRED */
    const char *doc;     /* one line */
} lks_conf_prop;

/* Built-in tables: general properties (warehouse, log.level) and the
 * Parquet writer's.  Later modules add their own tables next to these. */
extern const lks_conf_prop lks_conf_core[];
extern const lks_conf_prop lks_conf_parquet[];

typedef struct lks_config lks_config;

/* Creates a configuration over `tables` (NULL-terminated array of tables,
 * borrowed: they must outlive the object; in practice static).  Checks the
 * tables themselves (duplicate names, defaults that do not validate):
 * LKS_EINTERNAL with detail.  Caller frees *out with lks_config_free(). */
int lks_config_new(const lks_conf_prop *const *tables, lks_config **out, lks_err *err);
void lks_config_free(lks_config *cfg);

/* Sets one property from text.  `origin` names where the value came from
 * for error messages and lks_config_origin() ("app.properties:12", "-o");
 * NULL: no origin.  Errors (cfg unchanged):
 *   LKS_ECONFIG  unknown property (with a "did you mean" suggestion) or a
 *                value that does not validate; the message names origin,
 *                property and the expected form, never a secret value;
 *   LKS_ENOMEM. */
int lks_config_set(lks_config *cfg, const char *name, const char *value, const char *origin, lks_err *err);
/* Sets from one "key=value" string (the -o form; the first '=' splits;
 * whitespace around the key is ignored).  LKS_ECONFIG without '='. */
int lks_config_set_kv(lks_config *cfg, const char *kv, const char *origin, lks_err *err);
/* Parses properties text (Java .properties syntax: '#'/'!' comment lines,
 * key and value separated by '=', ':' or whitespace, backslash line
 * continuations, escapes \t \n \r \f \\ \uXXXX) and sets every property.
 * `name` labels errors "name:line: ...".  Stops at the first error. */
int lks_config_load_text(lks_config *cfg, const char *text, size_t len, const char *name, lks_err *err);
/* Reads the file at `path` (at most 16 MiB) and loads it as above.
 * LKS_EIO when it cannot be read, LKS_ECONFIG on a bad line. */
int lks_config_load_file(lks_config *cfg, const char *path, lks_err *err);
/* LKS_ECONFIG naming the first LKS_CONF_REQUIRED property still unset. */
int lks_config_check_required(const lks_config *cfg, lks_err *err);

/* Getters.  `name` must be a property of the tables (anything else is a
 * bug: the getters then return NULL / 0).  Values are the last set, else
 * the default.  Strings are borrowed until the property is set again or
 * the object is freed. */
const char *lks_config_get_str(const lks_config *cfg, const char *name); /* NULL when unset */
int64_t lks_config_get_int(const lks_config *cfg, const char *name);     /* INT, DURATION (ms), SIZE (bytes) */
int lks_config_get_bool(const lks_config *cfg, const char *name);
/* ENUM: index of the value among the allowed words (0-based), -1 unset. */
int lks_config_get_enum(const lks_config *cfg, const char *name);
/* Non-zero when the property was set explicitly (not only defaulted). */
int lks_config_is_set(const lks_config *cfg, const char *name);
/* Where the current value came from ("default" for defaults, NULL when
 * unset). Borrowed like get_str. */
const char *lks_config_origin(const lks_config *cfg, const char *name);

/* Calls fn for every property set under the LKS_CONF_PREFIX family
 * `prefix` (e.g. "kafka."), in the order set (a property set twice comes
 * once, with its last value), with the full name.  Stops at fn's first
 * non-zero return and returns it; LKS_OK otherwise. */
int lks_config_each(const lks_config *cfg, const char *prefix,
                    int (*fn)(void *ud, const char *name, const char *value), void *ud);

/* Looks a property up by name in a configuration's tables; NULL if none. */
const lks_conf_prop *lks_config_find(const lks_config *cfg, const char *name);
/* Type name for listings ("size", "enum"). */
const char *lks_conf_type_name(lks_conf_type t);

/* Appends the listing of every property of `tables` (NULL-terminated) to
 * out: per property a line "name  type  [default]" and an indented doc line
 * with the allowed values or range.  Defaults of secret properties are
 * shown as "(secret)". */
int lks_config_describe(const lks_conf_prop *const *tables, lks_buf *out);
/* Appends the effective configuration in properties syntax, in table
 * order: "name=value" for properties set explicitly, "#name=value" for
 * properties at their default (unset ones are left out).  Values are
 * escaped so the text loads back; secret values print as "********". */
int lks_config_dump(const lks_config *cfg, lks_buf *out);

#endif
