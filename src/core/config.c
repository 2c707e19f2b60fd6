/* config.c — property tables, value validation, .properties parsing and
 * listings (see config.h). */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIB ((int64_t)1 << 10)
#define MIB ((int64_t)1 << 20)
#define GIB ((int64_t)1 << 30)

/* ---- the built-in tables ---------------------------------------------------- */

const lks_conf_prop lks_conf_core[] = {
    {"warehouse", LKS_CONF_STR, "./warehouse", NULL, 0, 0, 0,
     "Location of the lake: a directory path, file:///abs/dir or s3://bucket/prefix."},
    {"log.level", LKS_CONF_ENUM, "warn", "error|warn|info|debug", 0, 0, 0,
     "Most verbose log level written to stderr (-v, -q and $LAKESYNC_LOG take precedence)."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};

const lks_conf_prop lks_conf_parquet[] = {
    {"parquet.compression", LKS_CONF_ENUM, "snappy", "snappy|zstd|gzip|none", 0, 0, 0,
     "Compression codec of the data pages of Parquet files written."},
    {"parquet.compression.level", LKS_CONF_INT, "0", NULL, 0, 22, 0,
     "Codec level (zstd 1..22, gzip 1..9); 0 is the codec's default."},
    {"parquet.row.group.bytes", LKS_CONF_SIZE, "128MiB", NULL, 64 * KIB, 2 * GIB, 0,
     "Close a row group once its encoded, uncompressed data passes this size."},
    {"parquet.row.group.rows", LKS_CONF_INT, "1048576", NULL, 1, INT64_C(1) << 31, 0,
     "Close a row group once it holds this many rows."},
    {"parquet.page.bytes", LKS_CONF_SIZE, "1MiB", NULL, 1 * KIB, 1 * GIB, 0, "Target size of a data page."},
    {"parquet.dictionary", LKS_CONF_BOOL, "true", NULL, 0, 0, 0,
     "Dictionary-encode columns where it pays (falls back to plain past 1 MiB of dictionary)."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};

/* ---- the configuration object ----------------------------------------------- */

typedef struct slot {
    const lks_conf_prop *prop;
    char *text;   /* owned current value (normalised); NULL when unset */
    char *origin; /* owned; NULL for the default */
    int64_t ival; /* INT/DURATION/SIZE value, BOOL 0/1, ENUM index */
    int set;
} slot;

/* A property of a LKS_CONF_PREFIX family. */
typedef struct extra {
    const lks_conf_prop *family;
    char *name, *value, *origin;
} extra;

struct lks_config {
    const lks_conf_prop *const *tables;
    slot *slots;
    size_t n;
    extra *extras; /* in the order first set */
    size_t nextras, capextras;
};

const char *lks_conf_type_name(lks_conf_type t) {
    switch (t) {
    case LKS_CONF_STR: return "string";
    case LKS_CONF_INT: return "int";
    case LKS_CONF_BOOL: return "bool";
    case LKS_CONF_ENUM: return "enum";
    case LKS_CONF_DURATION: return "duration";
    case LKS_CONF_SIZE: return "size";
    case LKS_CONF_PASSWORD: return "password";
    }
    return "?";
}

static int is_secret(const lks_conf_prop *p) { return p->type == LKS_CONF_PASSWORD || (p->flags & LKS_CONF_SECRET); }

static int has_range(const lks_conf_prop *p) {
    return (p->type == LKS_CONF_INT || p->type == LKS_CONF_DURATION || p->type == LKS_CONF_SIZE) &&
           (p->min != 0 || p->max != 0);
}

/* ---- value parsing --------------------------------------------------------- */

static int ci_eq(const char *a, size_t alen, const char *b) {
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\n'; }

/* Parses a signed decimal integer prefix of s[0..len); returns the number of
 * characters used, 0 on no digits, -1 on overflow. */
static int parse_i64(const char *s, size_t len, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    size_t d0 = i;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned dig = (unsigned)(s[i] - '0');
        if (v > (lim - dig) / 10)
            return -1;
        v = v * 10 + dig;
    }
    if (i == d0)
        return 0;
    *out = neg ? (int64_t)((uint64_t)0 - v) : (int64_t)v;
    return (int)i;
}

/* Finds word w (case-insensitively) in the '|' list; index or -1.  When
 * canon is not NULL it receives the list's spelling (pointer, length). */
static int enum_index(const char *allowed, const char *w, size_t wlen, const char **canon, size_t *clen) {
    int idx = 0;
    for (const char *p = allowed; p && *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == wlen) {
            size_t i = 0;
            while (i < n && tolower((unsigned char)p[i]) == tolower((unsigned char)w[i]))
                i++;
            if (i == n) {
                if (canon)
                    *canon = p, *clen = n;
                return idx;
            }
        }
        p = bar ? bar + 1 : p + n;
    }
    return -1;
}

struct unit {
    const char *name;
    int64_t mul;
};

static const struct unit dur_units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
                                        {"h", 3600000}, {"d", 86400000}, {NULL, 0}};
static const struct unit size_units[] = {
    {"b", 1},   {"k", KIB},  {"kb", KIB},  {"kib", KIB},      {"m", MIB},         {"mb", MIB},         {"mib", MIB},
    {"g", GIB}, {"gb", GIB}, {"gib", GIB}, {"t", GIB * 1024}, {"tb", GIB * 1024}, {"tib", GIB * 1024}, {NULL, 0}};

/* Writes the text form of a validated value into *text (malloc'd) and the
 * numeric form into *ival.  LKS_ECONFIG with a message naming what is
 * expected (the caller adds origin and property). */
static int parse_value(const lks_conf_prop *p, const char *v, char **text, int64_t *ival, lks_err *err) {
    *ival = 0;
    if (p->type == LKS_CONF_STR || p->type == LKS_CONF_PASSWORD) {
        *text = strdup(v);
        return *text ? LKS_OK : LKS_ENOMEM;
    }
    const char *s = v, *e = v + strlen(v);
    while (s < e && is_space(*s))
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    size_t len = (size_t)(e - s);
    if (len == 0)
        return lks_err_set(err, LKS_ECONFIG, "empty value, expected %s", lks_conf_type_name(p->type));
    const char *canon = s;
    size_t clen = len;
    switch (p->type) {
    case LKS_CONF_BOOL: {
        static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
        int found = -1;
        for (int i = 0; i < 4 && found < 0; i++) {
            if (ci_eq(s, len, yes[i]))
                found = 1;
            else if (ci_eq(s, len, no[i]))
                found = 0;
        }
        if (found < 0)
            return lks_err_set(err, LKS_ECONFIG, "expected true or false (also yes/no, on/off, 1/0)");
        *ival = found;
        canon = found ? "true" : "false";
        clen = strlen(canon);
        break;
    }
    case LKS_CONF_ENUM: {
        int idx = enum_index(p->allowed, s, len, &canon, &clen);
        if (idx < 0)
            return lks_err_set(err, LKS_ECONFIG, "expected one of %s", p->allowed ? p->allowed : "(none)");
        *ival = idx;
        break;
    }
    case LKS_CONF_INT:
    case LKS_CONF_DURATION:
    case LKS_CONF_SIZE: {
        int64_t num;
        int used = parse_i64(s, len, &num);
        const char *what = p->type == LKS_CONF_INT        ? "an integer"
                           : p->type == LKS_CONF_DURATION ? "a duration such as 500ms, 30s, 5m, 2h, 1d"
                                                          : "a size such as 4096, 64KiB, 128MiB, 2GiB";
        if (used < 0)
            return lks_err_set(err, LKS_ECONFIG, "number out of range, expected %s", what);
        if (used == 0)
            return lks_err_set(err, LKS_ECONFIG, "expected %s", what);
        const char *u = s + used;
        size_t ulen = (size_t)(e - u);
        while (ulen && is_space(*u))
            u++, ulen--;
        int64_t mul = 1;
        if (ulen) {
            const struct unit *tab = p->type == LKS_CONF_DURATION ? dur_units
                                     : p->type == LKS_CONF_SIZE   ? size_units
                                                                  : NULL;
            mul = 0;
            for (; tab && tab->name; tab++)
                if (ci_eq(u, ulen, tab->name))
                    mul = tab->mul;
            if (!mul)
                return lks_err_set(err, LKS_ECONFIG, "expected %s", what);
        }
        if (__builtin_mul_overflow(num, mul, ival))
            return lks_err_set(err, LKS_ECONFIG, "number out of range, expected %s", what);
        if (has_range(p) && (*ival < p->min || *ival > p->max))
            return lks_err_set(err, LKS_ECONFIG, "out of range [%" PRId64 ", %" PRId64 "]%s", p->min, p->max,
                               p->type == LKS_CONF_DURATION ? " (milliseconds)"
                               : p->type == LKS_CONF_SIZE   ? " (bytes)"
                                                            : "");
        break;
    }
    default: return lks_err_set(err, LKS_EINTERNAL, "bad property type %d", (int)p->type);
    }
    *text = strndup(canon, clen);
    return *text ? LKS_OK : LKS_ENOMEM;
}

/* ---- lookup and suggestions ------------------------------------------------- */

static slot *find_slot(const lks_config *cfg, const char *name) {
    if (!cfg || !name)
        return NULL;
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->slots[i].prop->name, name) == 0)
            return &cfg->slots[i];
    return NULL;
}

const lks_conf_prop *lks_config_find(const lks_config *cfg, const char *name) {
    slot *s = find_slot(cfg, name);
    return s ? s->prop : NULL;
}

/* Case-insensitive Levenshtein distance, capped at 64-character inputs. */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest property name within a small edit distance, or NULL. */
static const char *suggest(const lks_config *cfg, const char *name) {
    size_t len = strlen(name), best = SIZE_MAX;
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    const char *pick = NULL;
    for (size_t i = 0; i < cfg->n; i++) {
        size_t d = edit_distance(name, cfg->slots[i].prop->name);
        if (d <= limit && d < best)
            best = d, pick = cfg->slots[i].prop->name;
    }
    return pick;
}

/* ---- create / free / set ----------------------------------------------------- */

int lks_config_new(const lks_conf_prop *const *tables, lks_config **out, lks_err *err) {
    *out = NULL;
    size_t n = 0;
    for (size_t t = 0; tables && tables[t]; t++)
        for (const lks_conf_prop *p = tables[t]; p->name; p++)
            n++;
    lks_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->slots = calloc(n ? n : 1, sizeof *cfg->slots))) {
        free(cfg);
        return lks_err_set(err, LKS_ENOMEM, "out of memory creating the configuration");
    }
    cfg->tables = tables;
    int rc = LKS_OK;
    for (size_t t = 0; tables && tables[t] && rc == LKS_OK; t++) {
        for (const lks_conf_prop *p = tables[t]; p->name; p++) {
            if (find_slot(cfg, p->name)) {
                rc = lks_err_set(err, LKS_EINTERNAL, "property table: '%s' defined twice", p->name);
                break;
            }
            slot *s = &cfg->slots[cfg->n++];
            s->prop = p;
            if ((p->type == LKS_CONF_ENUM && !p->allowed) || (has_range(p) && p->min > p->max)) {
                rc = lks_err_set(err, LKS_EINTERNAL, "property table: '%s' has a bad definition", p->name);
                break;
            }
            if (p->def && (rc = parse_value(p, p->def, &s->text, &s->ival, err)) != LKS_OK) {
                if (rc == LKS_ENOMEM)
                    rc = lks_err_set(err, rc, "out of memory creating the configuration");
                else
                    rc = lks_err_set(err, LKS_EINTERNAL, "property table: bad default '%s' for '%s'", p->def, p->name);
                break;
            }
        }
    }
    if (rc) {
        lks_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return LKS_OK;
}

void lks_config_free(lks_config *cfg) {
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->slots[i].text);
        free(cfg->slots[i].origin);
    }
    for (size_t i = 0; i < cfg->nextras; i++) {
        free(cfg->extras[i].name);
        free(cfg->extras[i].value);
        free(cfg->extras[i].origin);
    }
    free(cfg->extras);
    free(cfg->slots);
    free(cfg);
}

/* The LKS_CONF_PREFIX family a name belongs to (with something after the
 * prefix), or NULL. */
static const lks_conf_prop *family_of(const lks_config *cfg, const char *name) {
    for (size_t i = 0; i < cfg->n; i++) {
        const lks_conf_prop *p = cfg->slots[i].prop;
        size_t pl = strlen(p->name);
        if ((p->flags & LKS_CONF_PREFIX) && strncmp(name, p->name, pl) == 0 && name[pl])
            return p;
    }
    return NULL;
}

static int set_extra(lks_config *cfg, const lks_conf_prop *fam, const char *name, const char *value,
                     const char *where, lks_err *err) {
    extra *x = NULL;
    for (size_t i = 0; i < cfg->nextras && !x; i++)
        if (strcmp(cfg->extras[i].name, name) == 0)
            x = &cfg->extras[i];
    if (!x) {
        if (cfg->nextras == cfg->capextras) {
            size_t nc = cfg->capextras ? cfg->capextras * 2 : 8;
            extra *nx = realloc(cfg->extras, nc * sizeof *nx);
            if (!nx)
                return lks_err_set(err, LKS_ENOMEM, "out of memory");
            cfg->extras = nx;
            cfg->capextras = nc;
        }
        x = &cfg->extras[cfg->nextras];
        memset(x, 0, sizeof *x);
        if (!(x->name = strdup(name)))
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        cfg->nextras++;
    }
    char *v = strdup(value), *o = strdup(where);
    if (!v || !o) {
        free(v);
        free(o);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    free(x->value);
    free(x->origin);
    x->family = fam;
    x->value = v;
    x->origin = o;
    return LKS_OK;
}

int lks_config_each(const lks_config *cfg, const char *prefix,
                    int (*fn)(void *ud, const char *name, const char *value), void *ud) {
    size_t pl = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; cfg && i < cfg->nextras; i++) {
        if (strncmp(cfg->extras[i].family->name, prefix, pl) != 0 || cfg->extras[i].family->name[pl])
            continue;
        int rc = fn(ud, cfg->extras[i].name, cfg->extras[i].value);
        if (rc)
            return rc;
    }
    return LKS_OK;
}

int lks_config_set(lks_config *cfg, const char *name, const char *value, const char *origin, lks_err *err) {
    const char *where = origin ? origin : "config";
    if (!name || !*name)
        return lks_err_set(err, LKS_ECONFIG, "%s: missing property name", where);
    slot *s = find_slot(cfg, name);
    if (s && (s->prop->flags & LKS_CONF_PREFIX))
        s = NULL; /* the family's own name is no property */
    if (!s && value && family_of(cfg, name))
        return set_extra(cfg, family_of(cfg, name), name, value, where, err);
    if (!s) {
        const char *hint = suggest(cfg, name);
        if (hint)
            return lks_err_set(err, LKS_ECONFIG, "%s: unknown property '%s' (did you mean '%s'?)", where, name, hint);
        return lks_err_set(err, LKS_ECONFIG, "%s: unknown property '%s' (`lakesync config list` shows them all)", where,
                           name);
    }
    if (!value)
        return lks_err_set(err, LKS_ECONFIG, "%s: property '%s' has no value", where, name);
    char *text, *org = strdup(where);
    int64_t ival;
    if (!org)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    int rc = parse_value(s->prop, value, &text, &ival, err);
    if (rc) {
        free(org);
        if (rc == LKS_ENOMEM)
            return lks_err_set(err, rc, "out of memory");
        if (is_secret(s->prop))
            return lks_err_prefix(err, "%s: property '%s'", where, name);
        return lks_err_prefix(err, "%s: property '%s': invalid value '%.64s%s'", where, name, value,
                              strlen(value) > 64 ? "..." : "");
    }
    free(s->text);
    free(s->origin);
    s->text = text;
    s->origin = org;
    s->ival = ival;
    s->set = 1;
    return LKS_OK;
}

int lks_config_set_kv(lks_config *cfg, const char *kv, const char *origin, lks_err *err) {
    const char *eq = strchr(kv, '=');
    if (!eq)
        return lks_err_set(err, LKS_ECONFIG, "%s: expected key=value, got '%.64s'", origin ? origin : "config", kv);
    const char *k = kv, *ke = eq;
    while (k < ke && is_space(*k))
        k++;
    while (ke > k && is_space(ke[-1]))
        ke--;
    char name[256];
    if ((size_t)(ke - k) >= sizeof name)
        return lks_err_set(err, LKS_ECONFIG, "%s: property name too long", origin ? origin : "config");
    memcpy(name, k, (size_t)(ke - k));
    name[ke - k] = 0;
    return lks_config_set(cfg, name, eq + 1, origin, err);
}

int lks_config_check_required(const lks_config *cfg, lks_err *err) {
    for (size_t i = 0; i < cfg->n; i++)
        if ((cfg->slots[i].prop->flags & LKS_CONF_REQUIRED) && !cfg->slots[i].text)
            return lks_err_set(err, LKS_ECONFIG, "property '%s' is required: %s", cfg->slots[i].prop->name,
                               cfg->slots[i].prop->doc);
    return LKS_OK;
}

/* ---- getters ---------------------------------------------------------------------- */

const char *lks_config_get_str(const lks_config *cfg, const char *name) {
    slot *s = find_slot(cfg, name);
    return s ? s->text : NULL;
}

int64_t lks_config_get_int(const lks_config *cfg, const char *name) {
    slot *s = find_slot(cfg, name);
    return s && s->text ? s->ival : 0;
}

int lks_config_get_bool(const lks_config *cfg, const char *name) {
    slot *s = find_slot(cfg, name);
    return s && s->text && s->prop->type == LKS_CONF_BOOL ? (int)s->ival : 0;
}

int lks_config_get_enum(const lks_config *cfg, const char *name) {
    slot *s = find_slot(cfg, name);
    return s && s->text && s->prop->type == LKS_CONF_ENUM ? (int)s->ival : -1;
}

int lks_config_is_set(const lks_config *cfg, const char *name) {
    slot *s = find_slot(cfg, name);
    return s ? s->set : 0;
}

const char *lks_config_origin(const lks_config *cfg, const char *name) {
    slot *s = find_slot(cfg, name);
    if (!s || !s->text)
        return NULL;
    return s->set ? s->origin : "default";
}

/* ---- .properties parsing ------------------------------------------------------------ */

static int put_utf8(lks_buf *b, uint32_t cp) {
    uint8_t u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (uint8_t)(0xC0 | cp >> 6), u[1] = (uint8_t)(0x80 | (cp & 63)), n = 2;
    else if (cp < 0x10000)
        u[0] = (uint8_t)(0xE0 | cp >> 12), u[1] = (uint8_t)(0x80 | (cp >> 6 & 63)), u[2] = (uint8_t)(0x80 | (cp & 63)),
        n = 3;
    else
        u[0] = (uint8_t)(0xF0 | cp >> 18), u[1] = (uint8_t)(0x80 | (cp >> 12 & 63)),
        u[2] = (uint8_t)(0x80 | (cp >> 6 & 63)), u[3] = (uint8_t)(0x80 | (cp & 63)), n = 4;
    return lks_buf_append(b, u, n);
}

/* Reads \uXXXX at s[*i] (just after the 'u'); -1 when malformed. */
static int32_t read_u4(const char *s, size_t len, size_t *i) {
    if (len - *i < 4)
        return -1;
    int32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = lks_hex_value(s[*i + (size_t)k]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    *i += 4;
    return v;
}

/* Unescapes s[0..len) (a key or a value of one logical line, continuations
 * already joined) into out as a C string.  Returns a static description of
 * the problem, or NULL. */
static const char *unescape(const char *s, size_t len, lks_buf *out) {
    lks_buf_reset(out);
    for (size_t i = 0; i < len;) {
        char c = s[i++];
        if (c == 0)
            return "NUL character";
        if (c != '\\') {
            if (lks_buf_append_byte(out, (uint8_t)c))
                return "out of memory";
            continue;
        }
        if (i >= len)
            break; /* a lone trailing backslash (end of input) is dropped */
        c = s[i++];
        uint32_t cp;
        switch (c) {
        case 't': cp = '\t'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 'f': cp = '\f'; break;
        case 'u': {
            int32_t hi = read_u4(s, len, &i);
            if (hi < 0)
                return "malformed \\uXXXX escape";
            cp = (uint32_t)hi;
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                int32_t lo = -1;
                if (len - i >= 6 && s[i] == '\\' && s[i + 1] == 'u') {
                    i += 2;
                    lo = read_u4(s, len, &i);
                }
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return "unpaired surrogate in \\u escape";
                cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            } else if (hi >= 0xDC00 && hi <= 0xDFFF) {
                return "unpaired surrogate in \\u escape";
            }
            if (cp == 0)
                return "NUL character";
            break;
        }
        default: cp = (uint8_t)c; break;
        }
        if (put_utf8(out, cp))
            return "out of memory";
    }
    if (lks_buf_cstr(out))
        return "out of memory";
    return NULL;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\f'; }

int lks_config_load_text(lks_config *cfg, const char *text, size_t len, const char *name, lks_err *err) {
    lks_buf line, key, val;
    lks_buf_init(&line, 16u << 20);
    lks_buf_init(&key, 1u << 20);
    lks_buf_init(&val, 16u << 20);
    int rc = LKS_OK;
    size_t pos = 0, lineno = 0;
    char origin[512];
    while (pos < len && rc == LKS_OK) {
        /* one logical line: natural lines joined while they end in an odd
         * number of backslashes */
        size_t first_line = lineno + 1;
        int first = 1, comment = 0;
        lks_buf_reset(&line);
        for (;;) {
            size_t s = pos;
            while (pos < len && text[pos] != '\n' && text[pos] != '\r')
                pos++;
            size_t e = pos;
            if (pos < len && text[pos] == '\r')
                pos++;
            if (pos < len && text[pos] == '\n' && (pos == e || text[pos - 1] == '\r'))
                pos++;
            lineno++;
            while (s < e && is_ws(text[s]))
                s++;
            if (first && (s == e || text[s] == '#' || text[s] == '!')) {
                comment = 1;
                break;
            }
            first = 0;
            size_t bs = 0;
            while (bs < e - s && text[e - 1 - bs] == '\\')
                bs++;
            int cont = bs % 2 == 1;
            if ((rc = lks_buf_append(&line, text + s, e - s - (cont ? 1 : 0))))
                break;
            if (!cont || pos >= len)
                break;
        }
        if (rc || comment)
            continue;
        snprintf(origin, sizeof origin, "%s:%zu", name, first_line);
        /* split key / separator / value */
        const char *l = (const char *)line.ptr;
        size_t n = line.len, k = 0;
        while (k < n && l[k] != '=' && l[k] != ':' && !is_ws(l[k]))
            k += l[k] == '\\' && k + 1 < n ? 2 : 1;
        size_t v = k;
        while (v < n && is_ws(l[v]))
            v++;
        if (v < n && (l[v] == '=' || l[v] == ':')) {
            v++;
            while (v < n && is_ws(l[v]))
                v++;
        }
        const char *why = unescape(l, k, &key);
        if (!why)
            why = unescape(l + v, n - v, &val);
        if (why) {
            rc = lks_err_set(err, LKS_ECONFIG, "%s: %s", origin, why);
            break;
        }
        if (key.len == 0) {
            rc = lks_err_set(err, LKS_ECONFIG, "%s: missing property name", origin);
            break;
        }
        rc = lks_config_set(cfg, (const char *)key.ptr, (const char *)val.ptr, origin, err);
    }
    if (rc == LKS_ELIMIT || rc == LKS_ENOMEM)
        rc = lks_err_set(err, rc, "%s:%zu: line too long or out of memory", name, lineno);
    lks_buf_free(&line);
    lks_buf_free(&key);
    lks_buf_free(&val);
    return rc;
}

int lks_config_load_file(lks_config *cfg, const char *path, lks_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return lks_err_set(err, LKS_EIO, "%s: %s", path, strerror(errno));
    lks_buf b;
    lks_buf_init(&b, 16u << 20);
    char chunk[8192];
    size_t n;
    int rc = LKS_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = lks_buf_append(&b, chunk, n)))
            break;
    int rerr = ferror(f);
    int saved = errno;
    fclose(f);
    if (rc)
        rc = lks_err_set(err, rc, "%s: file larger than 16 MiB or out of memory", path);
    else if (rerr)
        rc = lks_err_set(err, LKS_EIO, "%s: %s", path, strerror(saved));
    else
        rc = lks_config_load_text(cfg, (const char *)b.ptr, b.len, path, err);
    lks_buf_free(&b);
    return rc;
}

/* ---- listings ----------------------------------------------------------------------- */

static int fmt_amount(lks_buf *out, const lks_conf_prop *p, int64_t v) {
    if (p->type == LKS_CONF_SIZE && v > 0) {
        static const char *u[] = {"TiB", "GiB", "MiB", "KiB"};
        for (int i = 0; i < 4; i++) {
            int64_t m = (int64_t)1 << (10 * (4 - i));
            if (v % m == 0)
                return lks_buf_printf(out, "%" PRId64 "%s", v / m, u[i]);
        }
    }
    if (p->type == LKS_CONF_DURATION && v > 0) {
        static const struct unit du[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
        for (int i = 0; i < 4; i++)
            if (v % du[i].mul == 0)
                return lks_buf_printf(out, "%" PRId64 "%s", v / du[i].mul, du[i].name);
        return lks_buf_printf(out, "%" PRId64 "ms", v);
    }
    return lks_buf_printf(out, "%" PRId64, v);
}

int lks_config_describe(const lks_conf_prop *const *tables, lks_buf *out) {
    int rc = LKS_OK;
    for (size_t t = 0; tables && tables[t]; t++) {
        for (const lks_conf_prop *p = tables[t]; p->name && rc == LKS_OK; p++) {
            rc = lks_buf_printf(out, "%s%s  (%s", p->name, (p->flags & LKS_CONF_PREFIX) ? "*" : "",
                                lks_conf_type_name(p->type));
            if (!rc && (p->flags & LKS_CONF_REQUIRED))
                rc = lks_buf_printf(out, ", required");
            if (!rc && p->def)
                rc = is_secret(p) ? lks_buf_printf(out, ", default: (secret)")
                                  : lks_buf_printf(out, ", default: %s", *p->def ? p->def : "\"\"");
            if (!rc)
                rc = lks_buf_printf(out, ")\n    %s", p->doc ? p->doc : "");
            if (!rc && p->type == LKS_CONF_ENUM)
                rc = lks_buf_printf(out, " Values: %s.", p->allowed);
            if (!rc && has_range(p)) {
                rc = lks_buf_printf(out, " Range: ");
                if (!rc)
                    rc = fmt_amount(out, p, p->min);
                if (!rc)
                    rc = lks_buf_printf(out, " .. ");
                if (!rc)
                    rc = fmt_amount(out, p, p->max);
                if (!rc)
                    rc = lks_buf_printf(out, ".");
            }
            if (!rc)
                rc = lks_buf_append_byte(out, '\n');
        }
    }
    return rc;
}

/* Appends s in .properties syntax: backslash escapes for '\\', control
 * characters, a leading space, and (in keys) separators. */
static int put_escaped(lks_buf *out, const char *s, int is_key) {
    int rc = LKS_OK;
    for (size_t i = 0; s[i] && rc == LKS_OK; i++) {
        char c = s[i];
        const char *esc = NULL;
        char two[3] = {'\\', c, 0};
        switch (c) {
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\f': esc = "\\f"; break;
        case ' ':
            if (is_key || i == 0)
                esc = two;
            break;
        case '=':
        case ':':
        case '#':
        case '!':
            if (is_key || (i == 0 && (c == '#' || c == '!')))
                esc = two;
            break;
        default: break;
        }
        rc = esc ? lks_buf_append(out, esc, strlen(esc)) : lks_buf_append_byte(out, (uint8_t)c);
    }
    return rc;
}

/* A pass-through property whose value must not be printed. */
static int secret_name(const char *name) {
    static const char *const words[] = {"password", "secret", "token", "jaas", "key.pem", "credentials"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(name, words[i]))
            return 1;
    return 0;
}

int lks_config_dump(const lks_config *cfg, lks_buf *out) {
    int rc = LKS_OK;
    for (size_t i = 0; i < cfg->n && rc == LKS_OK; i++) {
        const slot *s = &cfg->slots[i];
        if (!s->text)
            continue;
        if (!s->set)
            rc = lks_buf_append_byte(out, '#');
        if (!rc)
            rc = put_escaped(out, s->prop->name, 1);
        if (!rc)
            rc = lks_buf_append_byte(out, '=');
        if (!rc)
            rc = is_secret(s->prop) ? lks_buf_append(out, "********", 8) : put_escaped(out, s->text, 0);
        if (!rc)
            rc = lks_buf_append_byte(out, '\n');
    }
    for (size_t i = 0; i < cfg->nextras && rc == LKS_OK; i++) {
        const extra *x = &cfg->extras[i];
        rc = put_escaped(out, x->name, 1);
        if (!rc)
            rc = lks_buf_append_byte(out, '=');
        if (!rc)
            rc = secret_name(x->name) ? lks_buf_append(out, "********", 8) : put_escaped(out, x->value, 0);
        if (!rc)
            rc = lks_buf_append_byte(out, '\n');
    }
    return rc;
}
