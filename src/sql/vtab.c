/*
 * vtab.c — the "delta" SQLite virtual-table module (contract in sql.h).
 *
 * One virtual table is one Delta table location.  Its declared columns are
 * the table's top-level columns at connect time plus the hidden _version
 * and _timestamp; a query reads the snapshot its _version / _timestamp
 * equality (or the CREATE arguments) selects, matching columns by name.
 *
 * xBestIndex encodes its plan in idxStr, which is both what xFilter parses
 * and what EXPLAIN QUERY PLAN shows, e.g.
 *     delta: version=?; partition k=?, d>=?; skip by stats amount>?; limit ?; columns 2/7 (0x5)
 * Constraints are listed in argv order.  Partition columns are exact
 * (omit=1): xFilter evaluates them once per file with SQLite's comparison
 * rules (affinity, storage-class order, BINARY collation); a TEXT one only
 * against constant text (the right side's affinity is not known here).
 * Constraints on other top-level primitive columns become scan predicates
 * that skip files and row groups, and row tests that drop, batch by batch,
 * the rows that cannot pass under any affinity the right side may have
 * (omit=0: SQLite re-checks the rows returned); a value whose conversion
 * to the column's canonical form is not exact is not pushed to the scan,
 * nor is a string compared with anything but constant text.  idxNum bit
 * 4+j says the j-th re-checked constraint's right side is constant text.
 * Rows come from lks_delta_scan_next_batch(); xColumn hands the common
 * canonical forms (long, int, double, string) to SQLite directly.
 * LIMIT / OFFSET are taken only when every other constraint is exact and
 * there is no ORDER BY, so stopping early is safe.  With no data column
 * used (SELECT count(*)), rows are counted from stats.numRecords minus
 * deletion-vector cardinalities; only files without stats are opened.
 *
 * Built twice: into liblakesync against <sqlite3.h>, and with
 * LKS_SQLITE_EXT for the loadable extension (ext.c), where every SQLite
 * call goes through the sqlite3_api routines the host passes in.
 */
#ifdef LKS_SQLITE_EXT
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#endif

#include "sql/sql.h"

#include "delta/delta.h"
#include "delta/delta_int.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define NOINLINE __attribute__((noinline))

/* column affinities (SQLite datatype3 rules) */
enum { AFF_BLOB = 0, AFF_TEXT, AFF_NUMERIC, AFF_INTEGER, AFF_REAL };

/* plan constraint ops (the scan's LKS_DELTA_* values) */
static const char *const OP_TEXT[] = {"=", "<", "<=", ">", ">=", " IS NULL", " IS NOT NULL"};

typedef struct lks_sql_reg lks_sql_reg;

typedef struct scan_stats {
    int64_t files_read, files_skipped, files_from_stats, rows;
    int valid;
} scan_stats;

typedef struct dvtab {
    sqlite3_vtab base;
    lks_sql_reg *reg;
    char *schema_name, *name; /* as created, for delta_scan_stats() */
    char *location;
    lks_store *st;
    lks_delta_table *t;
    int fixed_kind;            /* 0 latest, 1 version, 2 timestamp */
    int64_t fixed_value;       /* version, or ms */
    lks_delta_snapshot *snap0; /* at connect: columns, estimates; shared by
                                  cursors when fixed_kind != 0 */
    int ncols;                 /* declared data columns (hidden ones follow) */
    char **cols;
    int *aff;
    uint8_t *is_part;
    double total_rows;
    size_t nfiles;
    scan_stats last;
    struct dvtab *next; /* registry list */
} dvtab;

struct lks_sql_reg {
    dvtab *head;
    lks_delta_scan *spare; /* the last finished scan, kept for its memory (the next
                              scan takes it) */
    lks_store_opts opts;   /* table locations are opened with these; strings owned (sqlite3_free) */
};

/* A constraint of the plan after xFilter bound its value. */
typedef struct pcon {
    int col;            /* declared column */
    int op;             /* LKS_DELTA_* */
    sqlite3_value *val; /* dup (NULL for IS [NOT] NULL) */
} pcon;

/* A value as SQLite sees it (text and blob point into scratch or the row). */
typedef struct sval {
    int type; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL */
    int64_t i;
    double d;
    const char *p;
    size_t n;
} sval;

/* A re-checked constraint tested on every row before SQLite sees it: rows
 * for which it cannot be true are dropped.  The right side is held the
 * ways SQLite may compare it (its affinity is not known here). */
typedef struct rtest {
    int col;       /* declared column */
    int op;        /* LKS_DELTA_* */
    int null_rhs;  /* the right side is NULL: no comparison is true */
    int approx;    /* as_num is a REAL converted from text here */
    int text_only; /* TEXT columns: the right side is constant text */
    sval as_is;    /* compared without conversion */
    sval as_num;   /* numeric affinity applied */
    sval as_text;  /* text affinity applied (TEXT columns) */
} rtest;

typedef struct dcur {
    sqlite3_vtab_cursor base;
    /* snapshot */
    lks_delta_snapshot *snap;
    int snap_owned;
    int snap_kind;
    int64_t snap_value;
    int snap_cm;       /* column mapping by physical name */
    lks_pq_schema *rs; /* read schema of snap */
    int *gfield;       /* per snapshot column: read-schema field */
    int *map;          /* per declared column: snapshot column or -1 */
    int *kind;         /* per declared column: Delta kind in snap (0: absent) */
    uint8_t *fast;     /* per declared column: FAST_* (xColumn without conversion) */
    /* the current query */
    pcon *part, *skip;
    int npart, nskip;
    lks_delta_pred *preds;
    lks_arena qa; /* per-filter memory (converted literals) */
    uint8_t *file_ok;
    lks_delta_scan *sc;
    const lks_delta_batch *batch; /* rows being returned, NULL before the first */
    const lks_pq_value **bcol;    /* per declared column: its values in batch, or NULL */
    size_t cur;                   /* the current row's position in batch */
    size_t *sel;                  /* positions of the batch's rows that pass tests */
    size_t nsel, si;              /* rows in sel; next entry of sel */
    rtest *tests;
    int ntests;
    int count_mode;
    size_t *stat_files; /* count mode: files whose rows come from stats */
    int64_t *stat_rows;
    size_t nstat, stat_pos;
    int64_t pending;                /* rows of stat_files[stat_pos] still to emit */
    const lks_delta_add *stat_file; /* the file of the current stats row, else NULL */
    int64_t offset;                 /* data rows still to drop (OFFSET) */
    int64_t limit;                  /* -1: none */
    int64_t emitted;
    int eof;
    int64_t files_from_stats;
    int stats_saved;
    lks_buf tmp;
} dcur;

/* Canonical forms xColumn hands to SQLite as they are. */
enum { FAST_NONE = 0, FAST_I64, FAST_I32, FAST_F64, FAST_TEXT };

/* ---- small helpers ------------------------------------------------------------------------ */

static int kind_affinity(int kind) {
    switch (kind) {
    case LKS_DT_LONG:
    case LKS_DT_INTEGER:
    case LKS_DT_SHORT:
    case LKS_DT_BYTE:
    case LKS_DT_BOOLEAN: return AFF_INTEGER;
    case LKS_DT_FLOAT:
    case LKS_DT_DOUBLE: return AFF_REAL;
    case LKS_DT_DECIMAL: return AFF_NUMERIC;
    case LKS_DT_BINARY:
    case LKS_DT_VOID: return AFF_BLOB;
    default: return AFF_TEXT;
    }
}

static void decl_type(sqlite3_str *s, const lks_delta_type *dt) {
    switch (dt->kind) {
    case LKS_DT_LONG:
    case LKS_DT_INTEGER:
    case LKS_DT_SHORT:
    case LKS_DT_BYTE: sqlite3_str_appendall(s, "INTEGER"); break;
    case LKS_DT_BOOLEAN: sqlite3_str_appendall(s, "BOOLEAN"); break;
    case LKS_DT_FLOAT: sqlite3_str_appendall(s, "REAL"); break;
    case LKS_DT_DOUBLE: sqlite3_str_appendall(s, "DOUBLE"); break;
    case LKS_DT_DECIMAL: sqlite3_str_appendf(s, "DECIMAL(%d,%d)", dt->precision, dt->scale); break;
    case LKS_DT_BINARY: sqlite3_str_appendall(s, "BLOB"); break;
    case LKS_DT_VOID: break;
    default: sqlite3_str_appendall(s, "TEXT"); break;
    }
}

static int find_col(const lks_delta_type *root, const char *name) {
    for (int k = 0; k < root->nchildren; k++)
        if (root->children[k].name && strcmp(root->children[k].name, name) == 0)
            return k;
    for (int k = 0; k < root->nchildren; k++)
        if (root->children[k].name && strcasecmp(root->children[k].name, name) == 0)
            return k;
    return -1;
}

static int is_part_col(const lks_delta_snapshot *s, const char *name) {
    for (int i = 0; i < s->metadata.npartition_columns; i++)
        if (strcasecmp(s->metadata.partition_columns[i], name) == 0)
            return 1;
    return 0;
}

/* stats.numRecords of an add, -1 when unknown. */
static int64_t num_records(const lks_delta_add *a) {
    if (!a->stats)
        return -1;
    json_error_t je;
    json_t *st = json_loads(a->stats, JSON_DECODE_ANY, &je);
    int64_t n = -1;
    if (st && json_is_object(st)) {
        json_t *nr = json_object_get(st, "numRecords");
        if (json_is_integer(nr) && json_integer_value(nr) >= 0)
            n = json_integer_value(nr);
    }
    json_decref(st);
    return n;
}

/* Strips SQL quotes ('x', "x", `x`, [x]) into a new sqlite3_malloc'd string. */
static char *dequote(const char *s) {
    size_t n = strlen(s);
    char q = n >= 2 ? s[0] : 0;
    char close = q == '[' ? ']' : q;
    if (!(q == '\'' || q == '"' || q == '`' || q == '[') || s[n - 1] != close)
        return sqlite3_mprintf("%s", s);
    char *out = sqlite3_malloc64(n);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        out[j++] = s[i];
        if (s[i] == close && q != '[' && i + 2 < n && s[i + 1] == close)
            i++;
    }
    out[j] = 0;
    return out;
}

static const char *trim_space(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

/* Timestamp text ("2024-05-01", "2024-05-01 12:00:00", ISO-8601 with
 * zone) or integer milliseconds → ms since the epoch. */
static int value_to_ms(sqlite3_value *v, int64_t *ms) {
    if (sqlite3_value_type(v) == SQLITE_INTEGER) {
        *ms = sqlite3_value_int64(v);
        return 1;
    }
    if (sqlite3_value_type(v) != SQLITE_TEXT)
        return 0;
    const char *s = (const char *)sqlite3_value_text(v);
    int64_t us;
    if (!s || lks_parse_timestamp_us(s, strlen(s), &us) != LKS_OK)
        return 0;
    *ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    return 1;
}

static int text_to_ms(const char *s, int64_t *ms) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end != s && *end == 0 && errno == 0) {
        *ms = v;
        return 1;
    }
    int64_t us;
    if (lks_parse_timestamp_us(s, strlen(s), &us) != LKS_OK)
        return 0;
    *ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    return 1;
}

static int load_snapshot(lks_delta_table *t, int kind, int64_t value, lks_delta_snapshot **out, lks_err *err) {
    if (kind == 1)
        return lks_delta_snapshot_at_version(t, value, out, err);
    if (kind == 2)
        return lks_delta_snapshot_at_timestamp(t, value, out, err);
    return lks_delta_snapshot_latest(t, out, err);
}

/* Is `location` a local path (or file:// URI) that does not exist?  The
 * local store would create it. */
static int local_missing(const char *location) {
    const char *p = location;
    if (strncmp(p, "file://", 7) == 0)
        p += 7;
    else if (strstr(p, "://"))
        return 0;
    struct stat sb;
    return stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode);
}

/* ---- values: canonical → SQLite --------------------------------------------------------- */

/* Converts a canonical value of Delta type dt (read-schema field g of rs)
 * to its SQLite form; text may be built in b (reset first). */
static int to_sval(const lks_delta_type *dt, const lks_pq_schema *rs, int g, const lks_pq_value *v, lks_buf *b,
                   sval *out) {
    memset(out, 0, sizeof *out);
    out->type = SQLITE_NULL;
    if (!v || v->kind == LKS_PQ_V_NULL)
        return LKS_OK;
    char tmp[48];
    switch (dt->kind) {
    case LKS_DT_LONG:
    case LKS_DT_INTEGER:
    case LKS_DT_SHORT:
    case LKS_DT_BYTE:
        out->type = SQLITE_INTEGER;
        out->i = v->kind == LKS_PQ_V_INT64 ? v->u.i64 : v->u.i32;
        return LKS_OK;
    case LKS_DT_BOOLEAN:
        out->type = SQLITE_INTEGER;
        out->i = v->u.b ? 1 : 0;
        return LKS_OK;
    case LKS_DT_FLOAT:
    case LKS_DT_DOUBLE:
        /* SQLite stores a NaN as NULL */
        out->d = v->kind == LKS_PQ_V_FLOAT ? (double)v->u.f32 : v->u.f64;
        out->type = isnan(out->d) ? SQLITE_NULL : SQLITE_FLOAT;
        return LKS_OK;
    case LKS_DT_STRING:
        if (v->kind != LKS_PQ_V_BYTES)
            break;
        out->type = SQLITE_TEXT;
        out->p = (const char *)v->u.bytes.ptr;
        out->n = v->u.bytes.len;
        return LKS_OK;
    case LKS_DT_BINARY:
        if (v->kind != LKS_PQ_V_BYTES)
            break;
        out->type = SQLITE_BLOB;
        out->p = (const char *)v->u.bytes.ptr;
        out->n = v->u.bytes.len;
        return LKS_OK;
    case LKS_DT_DATE:
        if (v->kind != LKS_PQ_V_INT32)
            break;
        out->type = SQLITE_TEXT;
        lks_buf_reset(b);
        if (lks_buf_append(b, tmp, (size_t)lks_fmt_date(tmp, v->u.i32)) != LKS_OK)
            return LKS_ENOMEM;
        out->p = (const char *)b->ptr, out->n = b->len;
        return LKS_OK;
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ:
        if (v->kind != LKS_PQ_V_INT64)
            break;
        out->type = SQLITE_TEXT;
        lks_buf_reset(b);
        if (lks_buf_append(b, tmp, (size_t)lks_fmt_timestamp_us(tmp, v->u.i64, dt->kind == LKS_DT_TIMESTAMP)) != LKS_OK)
            return LKS_ENOMEM;
        out->p = (const char *)b->ptr, out->n = b->len;
        return LKS_OK;
    case LKS_DT_DECIMAL: {
        int rc;
        lks_buf_reset(b);
        if (v->kind == LKS_PQ_V_INT32)
            rc = lks_fmt_decimal_i64(b, v->u.i32, dt->scale);
        else if (v->kind == LKS_PQ_V_INT64)
            rc = lks_fmt_decimal_i64(b, v->u.i64, dt->scale);
        else if (v->kind == LKS_PQ_V_BYTES && v->u.bytes.len >= 1 && v->u.bytes.len <= 32)
            rc = lks_fmt_decimal_be(b, v->u.bytes.ptr, v->u.bytes.len, dt->scale);
        else
            break;
        if (rc != LKS_OK)
            return rc;
        out->type = SQLITE_TEXT;
        out->p = (const char *)b->ptr, out->n = b->len;
        return LKS_OK;
    }
    case LKS_DT_VOID: return LKS_OK;
    case LKS_DT_STRUCT:
    case LKS_DT_ARRAY:
    case LKS_DT_MAP: {
        lks_buf_reset(b);
        int rc = lks_pq_value_to_json(b, rs, g, v);
        if (rc != LKS_OK)
            return rc;
        out->type = SQLITE_TEXT;
        out->p = (const char *)b->ptr, out->n = b->len;
        return LKS_OK;
    }
    default: break;
    }
    return LKS_ECORRUPT; /* a value not of the canonical form */
}

/* ---- SQLite comparison semantics (for exact partition filters) ----------------------------- */

/* Text → number as numeric affinity does it (whole text, blanks around
 * allowed); 0 when it is not a well-formed number. */
static int text_numeric(const char *p, size_t n, sval *out) {
    char buf[64];
    while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == '\f'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, p, n);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", buf[i]))
            return 0;
    char *end;
    errno = 0;
    long long iv = strtoll(buf, &end, 10);
    if (*end == 0 && errno == 0) {
        out->type = SQLITE_INTEGER, out->i = iv;
        return 1;
    }
    double d = strtod(buf, &end);
    if (*end != 0)
        return 0;
    out->type = SQLITE_FLOAT, out->d = d;
    return 1;
}

static void value_sval(sqlite3_value *v, sval *out) {
    memset(out, 0, sizeof *out);
    out->type = sqlite3_value_type(v);
    switch (out->type) {
    case SQLITE_INTEGER: out->i = sqlite3_value_int64(v); break;
    case SQLITE_FLOAT: out->d = sqlite3_value_double(v); break;
    case SQLITE_TEXT:
        out->p = (const char *)sqlite3_value_text(v);
        out->n = (size_t)sqlite3_value_bytes(v);
        break;
    case SQLITE_BLOB:
        out->p = sqlite3_value_blob(v);
        out->n = (size_t)sqlite3_value_bytes(v);
        break;
    default: break;
    }
}

static int class_rank(int type) {
    switch (type) {
    case SQLITE_NULL: return 0;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: return 1;
    case SQLITE_TEXT: return 2;
    default: return 3;
    }
}

/* An integer against a real, exactly (as SQLite orders them). */
static int cmp_int_real(int64_t i, double d) {
    if (d < -9223372036854775808.0)
        return 1;
    if (d >= 9223372036854775808.0)
        return -1;
    double di = (double)i; /* the nearest double: on the same side of d as i unless equal */
    if (di != d)
        return di < d ? -1 : 1;
    int64_t id = (int64_t)d; /* d is integral and in range here */
    return i < id ? -1 : i > id;
}

static int cmp_num(const sval *a, const sval *b) {
    if (a->type == SQLITE_INTEGER && b->type == SQLITE_INTEGER)
        return a->i < b->i ? -1 : a->i > b->i;
    if (a->type == SQLITE_INTEGER)
        return cmp_int_real(a->i, b->d);
    if (b->type == SQLITE_INTEGER)
        return -cmp_int_real(b->i, a->d);
    return a->d < b->d ? -1 : a->d > b->d;
}

static int cmp_bytes(const sval *a, const sval *b) {
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* Does column value `cv` (of affinity aff) satisfy `op rhs`?  The right
 * side is taken as an expression without affinity (a literal or a
 * parameter), so the column's affinity applies to both sides. */
static int sql_test(int aff, int op, const sval *cv, sqlite3_value *rhs) {
    if (op == LKS_DELTA_IS_NULL)
        return cv->type == SQLITE_NULL;
    if (op == LKS_DELTA_NOT_NULL)
        return cv->type != SQLITE_NULL;
    if (!rhs || cv->type == SQLITE_NULL || sqlite3_value_type(rhs) == SQLITE_NULL)
        return 0;
    sval a = *cv, b;
    char numbuf[40];
    if (aff >= AFF_NUMERIC) {
        if (a.type == SQLITE_TEXT)
            (void)text_numeric(a.p, a.n, &a);
        value_sval(rhs, &b);
        if (b.type == SQLITE_TEXT)
            (void)text_numeric(b.p, b.n, &b);
    } else if (aff == AFF_TEXT) {
        if (a.type == SQLITE_INTEGER || a.type == SQLITE_FLOAT)
            return 0; /* text columns never hold numbers */
        if (sqlite3_value_type(rhs) == SQLITE_INTEGER || sqlite3_value_type(rhs) == SQLITE_FLOAT) {
            /* SQLite's own rendering of the number */
            sqlite3_value *d = sqlite3_value_dup(rhs);
            if (!d)
                return 1; /* cannot tell: keep the file */
            const char *t = (const char *)sqlite3_value_text(d);
            snprintf(numbuf, sizeof numbuf, "%s", t ? t : "");
            sqlite3_value_free(d);
            memset(&b, 0, sizeof b);
            b.type = SQLITE_TEXT, b.p = numbuf, b.n = strlen(numbuf);
        } else {
            value_sval(rhs, &b);
        }
    } else {
        value_sval(rhs, &b);
    }
    int ra = class_rank(a.type), rb = class_rank(b.type), c;
    if (ra != rb)
        c = ra < rb ? -1 : 1;
    else if (ra == 1)
        c = cmp_num(&a, &b);
    else
        c = cmp_bytes(&a, &b);
    switch (op) {
    case LKS_DELTA_EQ: return c == 0;
    case LKS_DELTA_LT: return c < 0;
    case LKS_DELTA_LE: return c <= 0;
    case LKS_DELTA_GT: return c > 0;
    case LKS_DELTA_GE: return c >= 0;
    default: return 1;
    }
}

/* ---- row tests: re-checked constraints applied before SQLite sees a row ------------------ */

/* SQLite's order of two values as they are: storage class, then value. */
static int cmp_sval(const sval *a, const sval *b) {
    int ra = class_rank(a->type), rb = class_rank(b->type);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return ra == 1 ? cmp_num(a, b) : cmp_bytes(a, b);
}

static int op_holds(int op, int c) {
    switch (op) {
    case LKS_DELTA_EQ: return c == 0;
    case LKS_DELTA_LT: return c < 0;
    case LKS_DELTA_LE: return c <= 0;
    case LKS_DELTA_GT: return c > 0;
    case LKS_DELTA_GE: return c >= 0;
    default: return 1;
    }
}

/* v as numeric affinity leaves it; *approx set when text became a REAL
 * here (SQLite's own text-to-real conversion may differ in the last
 * digit). */
static void numeric_affinity(sval *v, int *approx) {
    sval t = *v;
    if (v->type == SQLITE_TEXT && text_numeric(v->p, v->n, &t)) {
        *approx |= t.type == SQLITE_FLOAT;
        *v = t;
    }
}

/* Two numbers so close that a last-digit difference may order them. */
static int too_close(const sval *a, const sval *b) {
    double x = a->type == SQLITE_INTEGER ? (double)a->i : a->d;
    double y = b->type == SQLITE_INTEGER ? (double)b->i : b->d;
    if (!isfinite(x) || !isfinite(y))
        return 1;
    return fabs(x - y) <= fmax(fabs(x), fabs(y)) * 1e-12;
}

/* Could text become a number under numeric affinity?  (What SQLite
 * reads as a number starts, after blanks, with a sign, a digit or '.'.) */
static int maybe_numeric(const sval *v) {
    size_t i = 0;
    while (i < v->n && (v->p[i] == ' ' || (v->p[i] >= '\t' && v->p[i] <= '\r')))
        i++;
    return i < v->n && ((v->p[i] >= '0' && v->p[i] <= '9') || v->p[i] == '+' || v->p[i] == '-' || v->p[i] == '.');
}

/* Prepares the row test of a re-checked constraint (memory in a);
 * const_text: its right side is constant text (rhs_const_text). */
static int rtest_prepare(rtest *t, int col, int op, sqlite3_value *rhs, int const_text, lks_arena *a) {
    memset(t, 0, sizeof *t);
    t->col = col;
    t->op = op;
    if (op == LKS_DELTA_IS_NULL || op == LKS_DELTA_NOT_NULL)
        return LKS_OK;
    if (!rhs || sqlite3_value_type(rhs) == SQLITE_NULL) {
        t->null_rhs = 1;
        return LKS_OK;
    }
    value_sval(rhs, &t->as_is);
    t->text_only = const_text && t->as_is.type == SQLITE_TEXT;
    t->as_num = t->as_is;
    int approx = 0;
    numeric_affinity(&t->as_num, &approx);
    t->as_text = t->as_is;
    if (t->as_is.type == SQLITE_INTEGER || t->as_is.type == SQLITE_FLOAT) {
        /* SQLite's own rendering of the number */
        sqlite3_value *d = sqlite3_value_dup(rhs);
        if (!d)
            return LKS_ENOMEM;
        const char *txt = (const char *)sqlite3_value_text(d);
        size_t n = txt ? strlen(txt) : 0;
        char *p = lks_arena_memdup(a, n ? txt : "", n + 1);
        sqlite3_value_free(d);
        if (!p)
            return LKS_ENOMEM;
        memset(&t->as_text, 0, sizeof t->as_text);
        t->as_text.type = SQLITE_TEXT, t->as_text.p = p, t->as_text.n = n;
    }
    t->approx = approx;
    return LKS_OK;
}

/* 0 when the row's value v (a column of affinity aff) certainly fails the
 * test, whatever the right side's affinity, else 1.  Numeric columns
 * compare with numeric affinity on both sides, BLOB columns as they are;
 * a TEXT column compares as text when the right side has no affinity, as
 * is when it has TEXT or BLOB affinity, and with numeric affinity when it
 * has a numeric one. */
static int rtest_may_pass(const rtest *t, int aff, const sval *v) {
    if (t->op == LKS_DELTA_IS_NULL)
        return v->type == SQLITE_NULL;
    if (t->op == LKS_DELTA_NOT_NULL)
        return v->type != SQLITE_NULL;
    if (t->null_rhs || v->type == SQLITE_NULL)
        return 0;
    if (aff >= AFF_NUMERIC) {
        sval x = *v;
        int approx = t->approx;
        numeric_affinity(&x, &approx);
        if (op_holds(t->op, cmp_sval(&x, &t->as_num)))
            return 1;
        return approx && class_rank(x.type) == 1 && class_rank(t->as_num.type) == 1 && too_close(&x, &t->as_num);
    }
    if (aff == AFF_TEXT) {
        if (op_holds(t->op, cmp_sval(v, &t->as_text)) || op_holds(t->op, cmp_sval(v, &t->as_is)))
            return 1;
        if (t->text_only)
            return 0;
        if (v->type == SQLITE_TEXT && maybe_numeric(v))
            return 1; /* numeric affinity might make it a number */
        return op_holds(t->op, cmp_sval(v, &t->as_num));
    }
    return op_holds(t->op, cmp_sval(v, &t->as_is));
}

/* ---- values: SQLite → canonical (scan predicates) ------------------------------------------ */

static int64_t pow10_i64(int n) {
    int64_t r = 1;
    while (n-- > 0)
        r *= 10;
    return r;
}

/* The canonical value of v for a skip predicate `op` on a column of Delta
 * type dt: 1 when the conversion is exact (the scan may use it), 0 when
 * the predicate must not be pushed.  Memory in a. */
static int to_canonical(const lks_delta_type *dt, int op, sqlite3_value *v, lks_arena *a, lks_pq_value *out) {
    memset(out, 0, sizeof *out);
    if (op == LKS_DELTA_IS_NULL || op == LKS_DELTA_NOT_NULL)
        return 1;
    int t = sqlite3_value_type(v);
    if (t == SQLITE_NULL)
        return 1; /* never true: the scan skips everything */
    sval s;
    value_sval(v, &s);
    int aff = kind_affinity(dt->kind);
    if (aff >= AFF_NUMERIC && s.type == SQLITE_TEXT && !text_numeric(s.p, s.n, &s))
        return 0;
    char buf[48];
    switch (dt->kind) {
    case LKS_DT_LONG:
    case LKS_DT_INTEGER:
    case LKS_DT_SHORT:
    case LKS_DT_BYTE: {
        int64_t i;
        if (s.type == SQLITE_INTEGER)
            i = s.i;
        else if (s.type == SQLITE_FLOAT && s.d == floor(s.d) && fabs(s.d) < 9.0e15)
            i = (int64_t)s.d;
        else
            return 0;
        if (dt->kind == LKS_DT_LONG) {
            out->kind = LKS_PQ_V_INT64, out->u.i64 = i;
            return 1;
        }
        int64_t lim = dt->kind == LKS_DT_INTEGER ? INT32_MAX : dt->kind == LKS_DT_SHORT ? 32767 : 127;
        if (i > lim || i < -lim - 1)
            return 0;
        out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)i;
        return 1;
    }
    case LKS_DT_FLOAT:
    case LKS_DT_DOUBLE: {
        double d;
        if (s.type == SQLITE_FLOAT)
            d = s.d;
        else if (s.type == SQLITE_INTEGER && (int64_t)(double)s.i == s.i && fabs((double)s.i) < 9.0e15)
            d = (double)s.i;
        else
            return 0;
        if (isnan(d))
            return 0;
        if (dt->kind == LKS_DT_FLOAT) {
            if ((double)(float)d != d)
                return 0;
            out->kind = LKS_PQ_V_FLOAT, out->u.f32 = (float)d;
        } else {
            out->kind = LKS_PQ_V_DOUBLE, out->u.f64 = d;
        }
        return 1;
    }
    case LKS_DT_BOOLEAN:
        if (s.type != SQLITE_INTEGER || (s.i != 0 && s.i != 1))
            return 0;
        out->kind = LKS_PQ_V_BOOL, out->u.b = (int)s.i;
        return 1;
    case LKS_DT_DECIMAL: {
        /* SQLite compares decimal text numerically, as doubles: push only
         * when that order is the decimal order (precision <= 15) and the
         * literal is exactly a decimal of the column's scale. */
        if (dt->precision > 15 || dt->scale < 0 || dt->scale > 15)
            return 0;
        double d = s.type == SQLITE_INTEGER ? (double)s.i : s.d;
        if (s.type != SQLITE_INTEGER && s.type != SQLITE_FLOAT)
            return 0;
        double u = d * (double)pow10_i64(dt->scale);
        if (!(fabs(u) < 1e15))
            return 0;
        int64_t un = llround(u);
        if (un >= pow10_i64(dt->precision) || un <= -pow10_i64(dt->precision))
            return 0;
        lks_buf b;
        lks_buf_init(&b, 0);
        if (lks_fmt_decimal_i64(&b, un, dt->scale) != LKS_OK || lks_buf_cstr(&b) != LKS_OK) {
            lks_buf_free(&b);
            return 0;
        }
        double back = strtod((const char *)b.ptr, NULL);
        lks_buf_free(&b);
        if (back != d)
            return 0;
        if (dt->precision <= 9)
            out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)un;
        else
            out->kind = LKS_PQ_V_INT64, out->u.i64 = un;
        return 1;
    }
    case LKS_DT_STRING:
    case LKS_DT_BINARY: {
        if ((dt->kind == LKS_DT_STRING) != (s.type == SQLITE_TEXT))
            return 0;
        if (dt->kind == LKS_DT_BINARY && s.type != SQLITE_BLOB)
            return 0;
        uint8_t *p = lks_arena_memdup(a, s.n ? s.p : "", s.n ? s.n : 1);
        if (!p)
            return 0;
        out->kind = LKS_PQ_V_BYTES, out->u.bytes.ptr = p, out->u.bytes.len = s.n;
        return 1;
    }
    case LKS_DT_DATE:
    case LKS_DT_TIMESTAMP:
    case LKS_DT_TIMESTAMP_NTZ: {
        /* only the exact text the column shows: its order is time order */
        if (s.type != SQLITE_TEXT || s.n < 10 || s.n > 40)
            return 0;
        int64_t us;
        if (lks_parse_timestamp_us(s.p, s.n, &us) != LKS_OK)
            return 0;
        int len;
        if (dt->kind == LKS_DT_DATE) {
            if (us % INT64_C(86400000000) != 0)
                return 0;
            int64_t days = us / INT64_C(86400000000);
            if (days > INT32_MAX || days < INT32_MIN)
                return 0;
            len = lks_fmt_date(buf, days);
            out->kind = LKS_PQ_V_INT32, out->u.i32 = (int32_t)days;
        } else {
            len = lks_fmt_timestamp_us(buf, us, dt->kind == LKS_DT_TIMESTAMP);
            out->kind = LKS_PQ_V_INT64, out->u.i64 = us;
        }
        if ((size_t)len != s.n || memcmp(buf, s.p, s.n) != 0)
            return 0;
        /* four-digit years: text order is time order */
        if (s.p[0] < '0' || s.p[0] > '9' || s.p[4] != '-')
            return 0;
        return 1;
    }
    default: return 0;
    }
}

/* ---- connect / create ---------------------------------------------------------------------- */

static void vtab_free(dvtab *vt) {
    if (!vt)
        return;
    if (vt->reg) {
        for (dvtab **pp = &vt->reg->head; *pp; pp = &(*pp)->next)
            if (*pp == vt) {
                *pp = vt->next;
                break;
            }
    }
    lks_delta_snapshot_free(vt->snap0);
    lks_delta_table_close(vt->t);
    lks_store_close(vt->st);
    for (int i = 0; i < vt->ncols; i++)
        sqlite3_free(vt->cols[i]);
    sqlite3_free(vt->cols);
    sqlite3_free(vt->aff);
    sqlite3_free(vt->is_part);
    sqlite3_free(vt->location);
    sqlite3_free(vt->schema_name);
    sqlite3_free(vt->name);
    sqlite3_free(vt);
}

static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **ppvt, char **pzErr) {
    lks_sql_reg *reg = aux;
    dvtab *vt = sqlite3_malloc(sizeof *vt);
    if (!vt)
        return SQLITE_NOMEM;
    memset(vt, 0, sizeof *vt);
    vt->schema_name = sqlite3_mprintf("%s", argv[1]);
    vt->name = sqlite3_mprintf("%s", argv[2]);
    for (int i = 3; i < argc; i++) {
        const char *arg = trim_space(argv[i]);
        const char *eq = strchr(arg, '=');
        int quoted = arg[0] == '\'' || arg[0] == '"';
        if (eq && !quoted) {
            size_t kn = (size_t)(eq - arg);
            while (kn > 0 && (arg[kn - 1] == ' ' || arg[kn - 1] == '\t'))
                kn--;
            char *val = dequote(trim_space(eq + 1));
            if (!val) {
                vtab_free(vt);
                return SQLITE_NOMEM;
            }
            /* trailing blanks of an unquoted value */
            for (size_t n = strlen(val); n > 0 && (val[n - 1] == ' ' || val[n - 1] == '\t'); n--)
                val[n - 1] = 0;
            int ok = 1;
            if (kn == 7 && strncasecmp(arg, "version", 7) == 0) {
                char *end;
                errno = 0;
                long long v = strtoll(val, &end, 10);
                ok = end != val && *end == 0 && errno == 0 && v >= 0;
                vt->fixed_kind = 1, vt->fixed_value = v;
                if (!ok)
                    *pzErr = sqlite3_mprintf("delta: version=%s is not a version number", val);
            } else if (kn == 9 && strncasecmp(arg, "timestamp", 9) == 0) {
                ok = text_to_ms(val, &vt->fixed_value);
                vt->fixed_kind = 2;
                if (!ok)
                    *pzErr = sqlite3_mprintf("delta: timestamp=%s is not a timestamp (use 'YYYY-MM-DD[ HH:MM:SS]' "
                                             "or milliseconds since the epoch)",
                                             val);
            } else if (kn == 4 && strncasecmp(arg, "path", 4) == 0 && !vt->location) {
                vt->location = val;
                val = NULL;
            } else {
                ok = 0;
                *pzErr = sqlite3_mprintf("delta: unknown argument '%.*s' (expected a path, version=N or "
                                         "timestamp='...')",
                                         (int)kn, arg);
            }
            sqlite3_free(val);
            if (!ok) {
                vtab_free(vt);
                return SQLITE_ERROR;
            }
        } else if (!vt->location) {
            vt->location = dequote(arg);
            if (!vt->location) {
                vtab_free(vt);
                return SQLITE_NOMEM;
            }
        } else {
            *pzErr = sqlite3_mprintf("delta: more than one table location given ('%s')", arg);
            vtab_free(vt);
            return SQLITE_ERROR;
        }
    }
    if (!vt->location || !*vt->location) {
        *pzErr = sqlite3_mprintf("delta: no table location: CREATE VIRTUAL TABLE %s USING delta('/path/to/table' "
                                 "[, version=N | timestamp='...'])",
                                 argv[2]);
        vtab_free(vt);
        return SQLITE_ERROR;
    }
    lks_err err;
    lks_err_clear(&err);
    if (local_missing(vt->location)) {
        *pzErr = sqlite3_mprintf("delta: no table at %s: no such directory", vt->location);
        vtab_free(vt);
        return SQLITE_ERROR;
    }
    int rc = lks_store_open_opts(vt->location, &reg->opts, &vt->st, &err);
    if (rc == LKS_OK)
        rc = lks_delta_table_open(vt->st, "", &vt->t, &err);
    if (rc == LKS_OK)
        rc = load_snapshot(vt->t, vt->fixed_kind, vt->fixed_value, &vt->snap0, &err);
    if (rc != LKS_OK) {
        *pzErr = sqlite3_mprintf("delta: table %s: %s", vt->location, err.msg);
        vtab_free(vt);
        return SQLITE_ERROR;
    }
    const lks_delta_type *root = vt->snap0->metadata.schema;
    if (!root || root->kind != LKS_DT_STRUCT) {
        *pzErr = sqlite3_mprintf("delta: table %s has no schema", vt->location);
        vtab_free(vt);
        return SQLITE_ERROR;
    }
    vt->ncols = root->nchildren;
    size_t nn = (size_t)vt->ncols + 1;
    vt->cols = sqlite3_malloc64(nn * sizeof(char *));
    vt->aff = sqlite3_malloc64(nn * sizeof(int));
    vt->is_part = sqlite3_malloc64(nn);
    if (!vt->cols || !vt->aff || !vt->is_part) {
        vtab_free(vt);
        return SQLITE_NOMEM;
    }
    memset(vt->cols, 0, nn * sizeof(char *));
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendall(s, "CREATE TABLE x(");
    for (int k = 0; k < vt->ncols; k++) {
        const lks_delta_type *dt = &root->children[k];
        const char *nm = dt->name ? dt->name : "";
        if (strcasecmp(nm, "_version") == 0 || strcasecmp(nm, "_timestamp") == 0) {
            *pzErr = sqlite3_mprintf("delta: table %s has a column named %s, which the module reserves for time "
                                     "travel",
                                     vt->location, nm);
            sqlite3_free(sqlite3_str_finish(s));
            vtab_free(vt);
            return SQLITE_ERROR;
        }
        vt->cols[k] = sqlite3_mprintf("%s", nm);
        vt->aff[k] = kind_affinity(dt->kind);
        vt->is_part[k] = (uint8_t)is_part_col(vt->snap0, nm);
        sqlite3_str_appendf(s, "%s\"%w\" ", k ? ", " : "", nm);
        decl_type(s, dt);
    }
    sqlite3_str_appendf(s, "%s_version INTEGER HIDDEN, _timestamp TEXT HIDDEN)", vt->ncols ? ", " : "");
    char *sql = sqlite3_str_finish(s);
    if (!sql) {
        vtab_free(vt);
        return SQLITE_NOMEM;
    }
    rc = sqlite3_declare_vtab(db, sql);
    if (rc != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("delta: table %s: cannot declare its columns: %s", vt->location, sqlite3_errmsg(db));
        sqlite3_free(sql);
        vtab_free(vt);
        return rc;
    }
    sqlite3_free(sql);
    /* estimates */
    vt->nfiles = vt->snap0->nfiles;
    double rows = 0;
    for (size_t i = 0; i < vt->snap0->nfiles; i++) {
        int64_t n = num_records(&vt->snap0->files[i]);
        rows += n >= 0 ? (double)n : (double)vt->snap0->files[i].size / 32.0 + 1;
    }
    vt->total_rows = rows;
    vt->reg = reg;
    vt->next = reg->head;
    reg->head = vt;
    *ppvt = &vt->base;
    return SQLITE_OK;
}

static int x_disconnect(sqlite3_vtab *pvt) {
    vtab_free((dvtab *)pvt);
    return SQLITE_OK;
}

/* ---- planning ------------------------------------------------------------------------------ */

static int map_op(unsigned char op) {
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return LKS_DELTA_EQ;
    case SQLITE_INDEX_CONSTRAINT_LT: return LKS_DELTA_LT;
    case SQLITE_INDEX_CONSTRAINT_LE: return LKS_DELTA_LE;
    case SQLITE_INDEX_CONSTRAINT_GT: return LKS_DELTA_GT;
    case SQLITE_INDEX_CONSTRAINT_GE: return LKS_DELTA_GE;
    case SQLITE_INDEX_CONSTRAINT_ISNULL: return LKS_DELTA_IS_NULL;
    case SQLITE_INDEX_CONSTRAINT_ISNOTNULL: return LKS_DELTA_NOT_NULL;
    default: return -1;
    }
}

static int plain_ident(const char *s) {
    if (!s[0] || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

static void append_con(sqlite3_str *s, const dvtab *vt, int col, int op, int first) {
    const char *nm = vt->cols[col];
    if (!first)
        sqlite3_str_appendall(s, ", ");
    if (plain_ident(nm))
        sqlite3_str_appendall(s, nm);
    else
        sqlite3_str_appendf(s, "\"%w\"", nm);
    sqlite3_str_appendall(s, OP_TEXT[op]);
    if (op != LKS_DELTA_IS_NULL && op != LKS_DELTA_NOT_NULL)
        sqlite3_str_appendall(s, "?");
}

/* Is the right side of constraint i a constant text (a literal, or a CAST
 * to TEXT: no affinity or TEXT affinity)?  Then a TEXT column compares
 * with it as text whatever the text holds; another right side may have
 * numeric affinity, under which '5.0' = '5'. */
static int rhs_const_text(sqlite3_index_info *info, int i) {
    sqlite3_value *v = NULL;
    if (sqlite3_libversion_number() < 3038000) /* no sqlite3_vtab_rhs_value */
        return 0;
    return sqlite3_vtab_rhs_value(info, i, &v) == SQLITE_OK && v && sqlite3_value_type(v) == SQLITE_TEXT;
}

static int x_best_index(sqlite3_vtab *pvt, sqlite3_index_info *info) {
    dvtab *vt = (dvtab *)pvt;
    int hv = vt->ncols, hts = vt->ncols + 1;
    int n = info->nConstraint;
    int iver = -1, its = -1, ilim = -1, ioff = -1;
    int *kind = sqlite3_malloc64(((size_t)n + 1) * sizeof(int)); /* 1 partition, 2 skip */
    if (!kind)
        return SQLITE_NOMEM;
    int all_exact = 1;
    double rows = vt->total_rows > 1 ? vt->total_rows : 1;
    for (int i = 0; i < n; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        kind[i] = 0;
        if (c->op == SQLITE_INDEX_CONSTRAINT_LIMIT || c->op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
            if (c->usable) {
                if (c->op == SQLITE_INDEX_CONSTRAINT_LIMIT)
                    ilim = i;
                else
                    ioff = i;
            }
            continue;
        }
        if (c->iColumn == hv || c->iColumn == hts) {
            if (c->op == SQLITE_INDEX_CONSTRAINT_EQ) {
                if (!c->usable) {
                    /* the snapshot must be known before the scan starts */
                    sqlite3_free(kind);
                    return SQLITE_CONSTRAINT;
                }
                if (c->iColumn == hv && iver < 0)
                    iver = i;
                else if (c->iColumn == hts && its < 0)
                    its = i;
                else
                    all_exact = 0;
            } else {
                all_exact = 0;
            }
            continue;
        }
        int op = map_op(c->op);
        if (!c->usable || op < 0 || c->iColumn < 0 || c->iColumn >= vt->ncols) {
            all_exact = 0;
            continue;
        }
        const char *coll = sqlite3_vtab_collation(info, i);
        int binary = !coll || sqlite3_stricmp(coll, "BINARY") == 0;
        int aff = vt->aff[c->iColumn];
        if (!binary && (aff == AFF_TEXT || aff == AFF_NUMERIC)) {
            all_exact = 0;
            continue;
        }
        if (vt->is_part[c->iColumn] &&
            (aff != AFF_TEXT || op == LKS_DELTA_IS_NULL || op == LKS_DELTA_NOT_NULL || rhs_const_text(info, i))) {
            kind[i] = 1;
            rows /= op == LKS_DELTA_EQ ? 10 : op == LKS_DELTA_IS_NULL ? 20 : 3;
        } else {
            int k = vt->snap0->metadata.schema->children[c->iColumn].kind;
            all_exact = 0;
            if (k == LKS_DT_STRUCT || k == LKS_DT_ARRAY || k == LKS_DT_MAP || k == LKS_DT_VOID)
                continue;
            kind[i] = 2;
            rows /= op == LKS_DELTA_EQ ? 10 : 3;
        }
    }
    /* LIMIT / OFFSET: only when the rows we return are the rows of the
     * result (every constraint exact, no sort) */
    int use_limit = all_exact && info->nOrderBy == 0 && ilim >= 0;
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendall(s, "delta:");
    int argv = 0;
    const char *sep = " ";
    if (iver >= 0) {
        info->aConstraintUsage[iver].argvIndex = ++argv;
        info->aConstraintUsage[iver].omit = 1;
        sqlite3_str_appendf(s, "%sversion=?", sep), sep = "; ";
    }
    if (its >= 0) {
        info->aConstraintUsage[its].argvIndex = ++argv;
        info->aConstraintUsage[its].omit = 1;
        sqlite3_str_appendf(s, "%stimestamp=?", sep), sep = "; ";
    }
    /* idxNum bit 4+j: the right side of the j-th re-checked constraint is
     * constant text (rhs_const_text) */
    int const_bits = 0, nskip = 0;
    for (int pass = 1; pass <= 2; pass++) {
        int first = 1;
        for (int i = 0; i < n; i++) {
            if (kind[i] != pass)
                continue;
            if (first)
                sqlite3_str_appendf(s, "%s%s", sep, pass == 1 ? "partition " : "skip by stats "), sep = "; ";
            info->aConstraintUsage[i].argvIndex = ++argv;
            info->aConstraintUsage[i].omit = pass == 1;
            append_con(s, vt, info->aConstraint[i].iColumn, map_op(info->aConstraint[i].op), first);
            first = 0;
            if (pass == 2) {
                if (nskip < 27 && rhs_const_text(info, i))
                    const_bits |= 1 << (4 + nskip);
                nskip++;
            }
        }
    }
    if (use_limit) {
        info->aConstraintUsage[ilim].argvIndex = ++argv;
        info->aConstraintUsage[ilim].omit = 1;
        sqlite3_str_appendf(s, "%slimit ?", sep), sep = "; ";
        if (ioff >= 0) {
            info->aConstraintUsage[ioff].argvIndex = ++argv;
            info->aConstraintUsage[ioff].omit = 1;
            sqlite3_str_appendf(s, "%soffset ?", sep);
        }
    }
    /* projection */
    sqlite3_uint64 used = info->colUsed;
    int nused = 0, ndata = 0;
    for (int k = 0; k < vt->ncols; k++)
        if (k >= 63 ? (used >> 63) & 1 : (used >> k) & 1) {
            nused++;
            ndata += !vt->is_part[k];
        }
    sqlite3_uint64 mask = used & ((vt->ncols >= 63) ? ~(sqlite3_uint64)0 : (((sqlite3_uint64)1 << vt->ncols) - 1));
    sqlite3_str_appendf(s, "; columns %d/%d (0x%llx)", nused, vt->ncols, (unsigned long long)mask);
    if (ndata == 0)
        sqlite3_str_appendall(s, "; count from stats");
    info->idxStr = sqlite3_str_finish(s);
    if (!info->idxStr) {
        sqlite3_free(kind);
        return SQLITE_NOMEM;
    }
    info->needToFreeIdxStr = 1;
    info->idxNum = (iver >= 0) | (its >= 0) << 1 | (use_limit << 2) | ((ndata == 0) << 3) | const_bits;
    if (rows < 1)
        rows = 1;
    info->estimatedRows = (sqlite3_int64)rows;
    if (ndata == 0)
        info->estimatedCost = (double)vt->nfiles + 1;
    else
        info->estimatedCost = 10.0 + rows * (1.0 + nused);
    sqlite3_free(kind);
    return SQLITE_OK;
}

/* ---- plan parsing (xFilter) ---------------------------------------------------------------- */

typedef struct plan {
    int has_version, has_ts, has_limit, has_offset, count_mode;
    int nargs;
    sqlite3_uint64 mask;
    struct {
        int col, op, partition;
    } con[128];
    int ncon;
} plan;

static int parse_con_list(const dvtab *vt, const char **pp, int partition, plan *pl) {
    const char *p = *pp;
    for (;;) {
        char name[512];
        size_t nl = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return 0;
                if (*p == '"') {
                    if (p[1] == '"')
                        p++;
                    else
                        break;
                }
                if (nl + 1 >= sizeof name)
                    return 0;
                name[nl++] = *p++;
            }
            p++;
        } else {
            while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_') {
                if (nl + 1 >= sizeof name)
                    return 0;
                name[nl++] = *p++;
            }
        }
        name[nl] = 0;
        int col = -1;
        for (int k = 0; k < vt->ncols; k++)
            if (strcmp(vt->cols[k], name) == 0) {
                col = k;
                break;
            }
        int op = -1;
        for (int o = (int)(sizeof OP_TEXT / sizeof OP_TEXT[0]) - 1; o >= 0; o--) {
            size_t ol = strlen(OP_TEXT[o]);
            if (strncmp(p, OP_TEXT[o], ol) == 0 && (op < 0 || ol > strlen(OP_TEXT[op])))
                op = o;
        }
        if (col < 0 || op < 0 || pl->ncon >= (int)(sizeof pl->con / sizeof pl->con[0]))
            return 0;
        p += strlen(OP_TEXT[op]);
        if (op != LKS_DELTA_IS_NULL && op != LKS_DELTA_NOT_NULL) {
            if (*p != '?')
                return 0;
            p++;
        }
        pl->con[pl->ncon].col = col;
        pl->con[pl->ncon].op = op;
        pl->con[pl->ncon].partition = partition;
        pl->ncon++;
        pl->nargs++;
        if (strncmp(p, ", ", 2) != 0)
            break;
        p += 2;
    }
    *pp = p;
    return 1;
}

static int parse_plan(const dvtab *vt, const char *s, plan *pl) {
    memset(pl, 0, sizeof *pl);
    if (!s || strncmp(s, "delta:", 6) != 0)
        return 0;
    const char *p = s + 6;
    while (*p) {
        if (*p == ';' || *p == ' ') {
            p++;
            continue;
        }
        if (strncmp(p, "version=?", 9) == 0)
            pl->has_version = 1, pl->nargs++, p += 9;
        else if (strncmp(p, "timestamp=?", 11) == 0)
            pl->has_ts = 1, pl->nargs++, p += 11;
        else if (strncmp(p, "partition ", 10) == 0) {
            p += 10;
            if (!parse_con_list(vt, &p, 1, pl))
                return 0;
        } else if (strncmp(p, "skip by stats ", 14) == 0) {
            p += 14;
            if (!parse_con_list(vt, &p, 0, pl))
                return 0;
        } else if (strncmp(p, "limit ?", 7) == 0)
            pl->has_limit = 1, pl->nargs++, p += 7;
        else if (strncmp(p, "offset ?", 8) == 0)
            pl->has_offset = 1, pl->nargs++, p += 8;
        else if (strncmp(p, "columns ", 8) == 0) {
            const char *x = strstr(p, "(0x");
            if (!x)
                return 0;
            pl->mask = strtoull(x + 3, NULL, 16);
            p = strchr(x, ')');
            if (!p)
                return 0;
            p++;
        } else if (strncmp(p, "count from stats", 16) == 0)
            pl->count_mode = 1, p += 16;
        else
            return 0;
    }
    return 1;
}

/* ---- cursors ------------------------------------------------------------------------------- */

/* Keeps the cursor's scan as the module's spare (its buffers serve the
 * next scan of any table: freeing and refaulting megabytes of page
 * buffers per statement costs more than a small query). */
static void park_scan(dcur *c) {
    if (!c->sc)
        return;
    lks_sql_reg *reg = ((dvtab *)c->base.pVtab)->reg;
    if (reg) {
        lks_delta_scan_free(reg->spare);
        reg->spare = c->sc;
    } else {
        lks_delta_scan_free(c->sc);
    }
    c->sc = NULL;
}

static void cur_reset_query(dcur *c) {
    park_scan(c);
    for (int i = 0; i < c->npart; i++)
        sqlite3_value_free(c->part[i].val);
    for (int i = 0; i < c->nskip; i++)
        sqlite3_value_free(c->skip[i].val);
    sqlite3_free(c->part);
    sqlite3_free(c->skip);
    sqlite3_free(c->preds);
    sqlite3_free(c->file_ok);
    sqlite3_free(c->stat_files);
    sqlite3_free(c->stat_rows);
    sqlite3_free(c->tests);
    c->stat_files = NULL;
    c->stat_rows = NULL;
    c->nstat = c->stat_pos = 0;
    c->stat_file = NULL;
    c->pending = c->offset = 0;
    c->part = c->skip = NULL;
    c->preds = NULL;
    c->file_ok = NULL;
    c->tests = NULL;
    c->npart = c->nskip = c->ntests = 0;
    c->batch = NULL;
    c->nsel = c->si = c->cur = 0;
    lks_arena_reset(&c->qa);
}

static void cur_drop_snapshot(dcur *c) {
    if (c->snap_owned)
        lks_delta_snapshot_free(c->snap);
    c->snap = NULL;
    c->snap_owned = 0;
    lks_pq_schema_free(c->rs);
    c->rs = NULL;
    sqlite3_free(c->gfield);
    sqlite3_free(c->map);
    sqlite3_free(c->kind);
    sqlite3_free(c->fast);
    sqlite3_free(c->bcol);
    c->gfield = c->map = c->kind = NULL;
    c->fast = NULL;
    c->bcol = NULL;
}

static int x_open(sqlite3_vtab *pvt, sqlite3_vtab_cursor **ppc) {
    (void)pvt;
    dcur *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->sel = sqlite3_malloc64(LKS_DELTA_BATCH_ROWS * sizeof *c->sel);
    if (!c->sel) {
        sqlite3_free(c);
        return SQLITE_NOMEM;
    }
    lks_arena_init(&c->qa, 0);
    lks_buf_init(&c->tmp, 0);
    c->eof = 1;
    *ppc = &c->base;
    return SQLITE_OK;
}

/* Records the finished scan's counts on the table (delta_scan_stats()). */
static void save_stats(dcur *c) {
    if (c->stats_saved)
        return;
    dvtab *vt = (dvtab *)c->base.pVtab;
    size_t skipped = 0, nread = 0;
    if (c->sc)
        lks_delta_scan_counts(c->sc, &skipped, &nread);
    vt->last.files_read = (int64_t)nread;
    vt->last.files_from_stats = c->files_from_stats;
    vt->last.files_skipped = (int64_t)skipped - c->files_from_stats;
    if (vt->last.files_skipped < 0)
        vt->last.files_skipped = 0;
    vt->last.rows = c->emitted;
    vt->last.valid = 1;
    c->stats_saved = 1;
}

static int x_close(sqlite3_vtab_cursor *pc) {
    dcur *c = (dcur *)pc;
    if (c->sc)
        save_stats(c);
    cur_reset_query(c);
    cur_drop_snapshot(c);
    lks_arena_free(&c->qa);
    lks_buf_free(&c->tmp);
    sqlite3_free(c->sel);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int cur_error(dcur *c, const char *fmt, const char *a, const char *b) {
    sqlite3_vtab *pvt = c->base.pVtab;
    sqlite3_free(pvt->zErrMsg);
    pvt->zErrMsg = sqlite3_mprintf(fmt, a, b);
    return SQLITE_ERROR;
}

/* Makes c->snap the snapshot for (kind, value), reusing the cached one. */
static int cur_snapshot(dcur *c, int kind, int64_t value) {
    dvtab *vt = (dvtab *)c->base.pVtab;
    if (c->snap && c->snap_kind == kind && c->snap_value == value)
        return SQLITE_OK;
    cur_drop_snapshot(c);
    lks_err err;
    lks_err_clear(&err);
    if (kind != 0 && kind == vt->fixed_kind && value == vt->fixed_value) {
        c->snap = vt->snap0;
        c->snap_owned = 0;
    } else {
        int rc = load_snapshot(vt->t, kind, value, &c->snap, &err);
        if (rc != LKS_OK)
            return cur_error(c, "delta: table %s: %s", vt->location, err.msg);
        c->snap_owned = 1;
    }
    c->snap_kind = kind;
    c->snap_value = value;
    const lks_delta_type *root = c->snap->metadata.schema;
    if (!root || root->kind != LKS_DT_STRUCT) {
        cur_drop_snapshot(c);
        return cur_error(c, "delta: table %s: %s", vt->location, "the snapshot has no schema");
    }
    int rc = lks_delta_schema_to_parquet(root, 0, &c->rs, &err);
    if (rc != LKS_OK) {
        cur_drop_snapshot(c);
        return cur_error(c, "delta: table %s: %s", vt->location, err.msg);
    }
    size_t nn = (size_t)root->nchildren + (size_t)vt->ncols + 1;
    c->gfield = sqlite3_malloc64(nn * sizeof(int));
    c->map = sqlite3_malloc64(nn * sizeof(int));
    c->kind = sqlite3_malloc64(nn * sizeof(int));
    c->fast = sqlite3_malloc64(nn);
    c->bcol = sqlite3_malloc64(nn * sizeof *c->bcol);
    if (!c->gfield || !c->map || !c->kind || !c->fast || !c->bcol) {
        cur_drop_snapshot(c);
        return SQLITE_NOMEM;
    }
    for (int k = 0, g = 1; k < root->nchildren; k++) {
        c->gfield[k] = g;
        g = lks_pq_schema_subtree_end(c->rs, g);
    }
    for (int i = 0; i < vt->ncols; i++) {
        c->map[i] = find_col(root, vt->cols[i]);
        c->kind[i] = c->map[i] >= 0 ? root->children[c->map[i]].kind : 0;
        switch (c->kind[i]) {
        case LKS_DT_LONG: c->fast[i] = FAST_I64; break;
        case LKS_DT_INTEGER:
        case LKS_DT_SHORT:
        case LKS_DT_BYTE: c->fast[i] = FAST_I32; break;
        case LKS_DT_DOUBLE: c->fast[i] = FAST_F64; break;
        case LKS_DT_STRING: c->fast[i] = FAST_TEXT; break;
        default: c->fast[i] = FAST_NONE; break;
        }
        c->bcol[i] = NULL;
    }
    const char *m = lks_delta_snapshot_property(c->snap, "delta.columnMapping.mode");
    c->snap_cm = m && strcmp(m, "none") != 0;
    return SQLITE_OK;
}

/* The partition value of declared column i in file a, as SQLite sees it. */
static int file_part_value(dcur *c, const lks_delta_add *a, int i, sval *out) {
    int k = c->map[i];
    memset(out, 0, sizeof *out);
    out->type = SQLITE_NULL;
    if (k < 0)
        return LKS_OK;
    const lks_delta_type *dt = &c->snap->metadata.schema->children[k];
    const char *names[2] = {c->snap_cm && dt->physical_name ? dt->physical_name : dt->name, dt->name};
    const char *raw = NULL;
    int found = 0;
    for (int pass = 0; pass < 2 && !found; pass++)
        for (int j = 0; j < a->npartition_values; j++)
            if (names[pass] && a->partition_values[j].key && strcmp(a->partition_values[j].key, names[pass]) == 0) {
                raw = a->partition_values[j].value;
                found = 1;
                break;
            }
    if (!raw)
        return LKS_OK;
    lks_pq_value v;
    lks_err err;
    int rc = lks_delta_partition_value_parse(dt, &c->rs->fields[c->gfield[k]], raw, &c->qa, &v, &err);
    if (rc != LKS_OK)
        return rc;
    return to_sval(dt, c->rs, c->gfield[k], &v, &c->tmp, out);
}

static int file_filter(void *ud, const lks_delta_add *a) {
    dcur *c = ud;
    size_t i = (size_t)(a - c->snap->files);
    return i < c->snap->nfiles ? c->file_ok[i] : 1;
}

static int cur_advance(dcur *c);

static int x_filter(sqlite3_vtab_cursor *pc, int idxNum, const char *idxStr, int argc, sqlite3_value **argv) {
    dcur *c = (dcur *)pc;
    dvtab *vt = (dvtab *)pc->pVtab;
    if (c->sc)
        save_stats(c);
    cur_reset_query(c);
    c->eof = 1;
    c->emitted = c->files_from_stats = 0;
    c->stats_saved = 0;
    c->limit = -1;
    plan pl;
    if (!parse_plan(vt, idxStr, &pl) || pl.nargs != argc)
        return cur_error(c, "delta: internal error: bad plan '%s'%s", idxStr ? idxStr : "", "");
    int ai = 0;
    /* the snapshot */
    int kind = vt->fixed_kind;
    int64_t value = vt->fixed_value;
    sqlite3_value *vv = pl.has_version ? argv[ai++] : NULL;
    sqlite3_value *tv = pl.has_ts ? argv[ai++] : NULL;
    if (vv && sqlite3_value_type(vv) != SQLITE_NULL) {
        sqlite3_value *d = sqlite3_value_dup(vv);
        if (!d)
            return SQLITE_NOMEM;
        int t = sqlite3_value_numeric_type(d);
        int64_t v = sqlite3_value_int64(d);
        int ok = t == SQLITE_INTEGER && v >= 0;
        char shown[64];
        snprintf(shown, sizeof shown, "%s", sqlite3_value_text(d) ? (const char *)sqlite3_value_text(d) : "");
        sqlite3_value_free(d);
        if (!ok)
            return cur_error(c, "delta: _version must be a non-negative integer, not '%s'%s", shown, "");
        kind = 1, value = v;
    }
    if (tv && sqlite3_value_type(tv) != SQLITE_NULL) {
        if (vv && sqlite3_value_type(vv) != SQLITE_NULL)
            return cur_error(c, "delta: give either _version or _timestamp, not both%s%s", "", "");
        int64_t ms;
        if (!value_to_ms(tv, &ms))
            return cur_error(c,
                             "delta: _timestamp '%s' is not a timestamp (use 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]"
                             "[Z]' or milliseconds since the epoch)%s",
                             (const char *)sqlite3_value_text(tv), "");
        kind = 2, value = ms;
    }
    int rc = cur_snapshot(c, kind, value);
    if (rc != SQLITE_OK)
        return rc;
    /* constraints */
    c->part = sqlite3_malloc64(((size_t)pl.ncon + 1) * sizeof(pcon));
    c->skip = sqlite3_malloc64(((size_t)pl.ncon + 1) * sizeof(pcon));
    c->preds = sqlite3_malloc64(((size_t)pl.ncon + 1) * sizeof(lks_delta_pred));
    c->tests = sqlite3_malloc64(((size_t)pl.ncon + 1) * sizeof(rtest));
    c->file_ok = sqlite3_malloc64(c->snap->nfiles + 1);
    if (!c->part || !c->skip || !c->preds || !c->tests || !c->file_ok)
        return SQLITE_NOMEM;
    if (pl.count_mode) {
        c->stat_files = sqlite3_malloc64((c->snap->nfiles + 1) * sizeof(size_t));
        c->stat_rows = sqlite3_malloc64((c->snap->nfiles + 1) * sizeof(int64_t));
        if (!c->stat_files || !c->stat_rows)
            return SQLITE_NOMEM;
    }
    for (int i = 0; i < pl.ncon; i++) {
        sqlite3_value *a = argv[ai++];
        pcon *pcn = pl.con[i].partition ? &c->part[c->npart++] : &c->skip[c->nskip++];
        pcn->col = pl.con[i].col;
        pcn->op = pl.con[i].op;
        pcn->val = NULL;
        if (pcn->op != LKS_DELTA_IS_NULL && pcn->op != LKS_DELTA_NOT_NULL) {
            pcn->val = sqlite3_value_dup(a);
            if (!pcn->val)
                return SQLITE_NOMEM;
        }
    }
    int64_t offset = 0;
    if (pl.has_limit) {
        c->limit = sqlite3_value_int64(argv[ai++]);
        if (c->limit < 0)
            c->limit = -1;
    }
    if (pl.has_offset) {
        offset = sqlite3_value_int64(argv[ai++]);
        if (offset < 0)
            offset = 0;
    }
    /* scan predicates: the skip constraints whose values convert exactly */
    int npreds = 0;
    for (int i = 0; i < c->nskip; i++) {
        int k = c->map[c->skip[i].col];
        if (k < 0)
            continue;
        const lks_delta_type *dt = &c->snap->metadata.schema->children[k];
        int const_text = i < 27 && ((unsigned)idxNum >> (4 + i) & 1);
        if (rtest_prepare(&c->tests[c->ntests], c->skip[i].col, c->skip[i].op, c->skip[i].val, const_text, &c->qa) !=
            LKS_OK)
            return SQLITE_NOMEM;
        c->ntests++;
        /* a string compared with a right side that may have numeric
         * affinity: its order is not the stats' order */
        if (dt->kind == LKS_DT_STRING && !const_text && c->skip[i].op != LKS_DELTA_IS_NULL &&
            c->skip[i].op != LKS_DELTA_NOT_NULL)
            continue;
        /* a NaN reads as NULL but counts as a value in the stats */
        if (c->skip[i].op == LKS_DELTA_IS_NULL && (dt->kind == LKS_DT_FLOAT || dt->kind == LKS_DT_DOUBLE))
            continue;
        lks_pq_value v;
        if (!to_canonical(dt, c->skip[i].op, c->skip[i].val, &c->qa, &v))
            continue;
        c->preds[npreds].column = dt->name;
        c->preds[npreds].op = c->skip[i].op;
        c->preds[npreds].value = v;
        npreds++;
    }
    /* files: exact partition filters, and counting from stats */
    c->count_mode = pl.count_mode;
    for (size_t f = 0; f < c->snap->nfiles; f++) {
        const lks_delta_add *a = &c->snap->files[f];
        int ok = 1, bad = 0;
        for (int i = 0; i < c->npart && ok; i++) {
            sval pv;
            if (file_part_value(c, a, c->part[i].col, &pv) != LKS_OK) {
                bad = 1; /* unreadable: read the file, the scan reports it */
                break;
            }
            ok = sql_test(vt->aff[c->part[i].col], c->part[i].op, &pv, c->part[i].val);
        }
        if (ok && c->count_mode && !bad) {
            int64_t n = num_records(a);
            int64_t dvn = a->has_dv ? a->dv.cardinality : 0;
            if (n >= 0 && dvn >= 0 && dvn <= n) {
                if (n > dvn) {
                    c->stat_files[c->nstat] = f;
                    c->stat_rows[c->nstat] = n - dvn;
                    c->nstat++;
                }
                c->files_from_stats++;
                ok = 0;
            }
        }
        c->file_ok[f] = (uint8_t)ok;
    }
    /* the scan */
    const char **names = sqlite3_malloc64(((size_t)vt->ncols + 1) * sizeof(char *));
    if (!names)
        return SQLITE_NOMEM;
    int nnames = 0;
    for (int i = 0; i < vt->ncols; i++) {
        int used = i >= 63 ? (int)((pl.mask >> 63) & 1) : (int)((pl.mask >> i) & 1);
        if (used && c->map[i] >= 0)
            names[nnames++] = c->snap->metadata.schema->children[c->map[i]].name;
    }
    lks_delta_scan_opts o;
    memset(&o, 0, sizeof o);
    o.columns = names;
    o.ncolumns = nnames;
    o.preds = c->preds;
    o.npreds = npreds;
    o.file_filter = file_filter;
    o.file_filter_ud = c;
    lks_err err;
    lks_err_clear(&err);
    rc = lks_delta_scan_open(vt->t, c->snap, &o, &c->sc, &err);
    sqlite3_free(names);
    if (rc != LKS_OK)
        return cur_error(c, "delta: table %s: %s", vt->location, err.msg);
    if (vt->reg && vt->reg->spare) {
        lks_delta_scan_take_buffers(c->sc, vt->reg->spare);
        lks_delta_scan_free(vt->reg->spare);
        vt->reg->spare = NULL;
    }
    c->eof = 0;
    /* OFFSET: rows counted from stats are dropped here, data rows as their
     * batches arrive */
    c->pending = c->nstat ? c->stat_rows[0] : 0;
    while (offset > 0 && c->stat_pos < c->nstat) {
        int64_t d = offset < c->pending ? offset : c->pending;
        c->pending -= d;
        offset -= d;
        if (c->pending == 0 && ++c->stat_pos < c->nstat)
            c->pending = c->stat_rows[c->stat_pos];
    }
    c->stat_file = c->stat_pos < c->nstat ? &c->snap->files[c->stat_files[c->stat_pos]] : NULL;
    c->offset = offset;
    return cur_advance(c);
}

/* Does the row at r of column col (declared column t->col, snapshot
 * column k) pass t as far as can be told? */
static int row_may_pass(dcur *c, const rtest *t, int k, const lks_pq_value *col, size_t r) {
    dvtab *vt = (dvtab *)c->base.pVtab;
    sval v;
    if (!col) {
        memset(&v, 0, sizeof v);
        v.type = SQLITE_NULL;
    } else if (to_sval(&c->snap->metadata.schema->children[k], c->rs, c->gfield[k], &col[r], &c->tmp, &v) != LKS_OK) {
        return 1; /* xColumn reports it */
    }
    return rtest_may_pass(t, vt->aff[t->col], &v);
}

/* Keeps in c->sel the rows of the new batch that may pass the row tests,
 * one test at a time. */
static void select_rows(dcur *c) {
    const lks_delta_batch *b = c->batch;
    if (c->ntests == 0) {
        c->nsel = b->n;
        return;
    }
    size_t n = b->n;
    for (size_t r = 0; r < n; r++)
        c->sel[r] = r;
    for (int j = 0; j < c->ntests && n > 0; j++) {
        const rtest *t = &c->tests[j];
        int k = c->map[t->col];
        const lks_pq_value *col = k >= 0 ? b->cols[k] : NULL;
        size_t m = 0;
        int fast = col && !t->null_rhs && t->op != LKS_DELTA_IS_NULL && t->op != LKS_DELTA_NOT_NULL ? c->fast[t->col]
                                                                                                    : FAST_NONE;
        if ((fast == FAST_I64 || fast == FAST_I32) && t->as_num.type == SQLITE_INTEGER) {
            /* integer column, integer literal */
            int64_t lit = t->as_num.i;
            int want_kind = fast == FAST_I64 ? LKS_PQ_V_INT64 : LKS_PQ_V_INT32;
            for (size_t q = 0; q < n; q++) {
                size_t r = c->sel[q];
                const lks_pq_value *v = &col[r];
                int pass;
                if (v->kind == want_kind) {
                    int64_t x = want_kind == LKS_PQ_V_INT64 ? v->u.i64 : v->u.i32;
                    pass = op_holds(t->op, x < lit ? -1 : x > lit);
                } else {
                    pass = row_may_pass(c, t, k, col, r);
                }
                if (pass)
                    c->sel[m++] = r;
            }
        } else if (fast == FAST_F64 && t->as_num.type == SQLITE_FLOAT && !t->approx) {
            /* double column, REAL literal */
            double lit = t->as_num.d;
            for (size_t q = 0; q < n; q++) {
                size_t r = c->sel[q];
                const lks_pq_value *v = &col[r];
                int pass;
                if (v->kind == LKS_PQ_V_DOUBLE && !isnan(v->u.f64))
                    pass = op_holds(t->op, v->u.f64 < lit ? -1 : v->u.f64 > lit);
                else
                    pass = row_may_pass(c, t, k, col, r);
                if (pass)
                    c->sel[m++] = r;
            }
        } else {
            for (size_t q = 0; q < n; q++) {
                size_t r = c->sel[q];
                if (row_may_pass(c, t, k, col, r))
                    c->sel[m++] = r;
            }
        }
        n = m;
    }
    c->nsel = n;
}

/* Fetches batches until one has rows to return (the first is current
 * then), or sets eof. */
static NOINLINE int next_batch(dcur *c) {
    dvtab *vt = (dvtab *)c->base.pVtab;
    for (;;) {
        lks_err err;
        lks_err_clear(&err);
        int rc = lks_delta_scan_next_batch(c->sc, &c->batch, &err);
        if (rc <= 0) {
            c->eof = 1;
            c->batch = NULL;
            c->nsel = c->si = 0;
            for (int i = 0; i < vt->ncols; i++)
                c->bcol[i] = NULL;
            if (rc < 0)
                return cur_error(c, "delta: table %s: %s", vt->location, err.msg);
            save_stats(c);
            return SQLITE_OK;
        }
        for (int i = 0; i < vt->ncols; i++)
            c->bcol[i] = c->map[i] >= 0 ? c->batch->cols[c->map[i]] : NULL;
        select_rows(c);
        c->si = 0;
        if (c->offset > 0) {
            size_t d = (uint64_t)c->offset < c->nsel ? (size_t)c->offset : c->nsel;
            c->si = d;
            c->offset -= (int64_t)d;
        }
        if (c->si < c->nsel) {
            c->cur = c->ntests ? c->sel[c->si] : c->si;
            c->si++;
            c->emitted++;
            return SQLITE_OK;
        }
    }
}

/* The next row after the last of a stats file's rows. */
static NOINLINE int next_stats_file(dcur *c) {
    if (++c->stat_pos < c->nstat) {
        c->stat_file = &c->snap->files[c->stat_files[c->stat_pos]];
        c->pending = c->stat_rows[c->stat_pos] - 1;
        c->emitted++;
        return SQLITE_OK;
    }
    c->stat_file = NULL;
    return next_batch(c);
}

static NOINLINE int limit_reached(dcur *c) {
    c->eof = 1;
    save_stats(c);
    return SQLITE_OK;
}

/* Moves to the next row (or sets eof). */
static int cur_advance(dcur *c) {
    if (c->eof)
        return SQLITE_OK;
    if (c->limit >= 0 && c->emitted >= c->limit)
        return limit_reached(c);
    if (c->si < c->nsel) {
        /* the next row of the batch */
        c->cur = c->ntests ? c->sel[c->si] : c->si;
        c->si++;
    } else if (c->pending > 0) {
        /* the next row counted from stats */
        c->pending--;
    } else if (c->stat_file) {
        return next_stats_file(c);
    } else {
        return next_batch(c);
    }
    c->emitted++;
    return SQLITE_OK;
}

static int x_next(sqlite3_vtab_cursor *pc) { return cur_advance((dcur *)pc); }

static int x_eof(sqlite3_vtab_cursor *pc) { return ((dcur *)pc)->eof; }

/* xColumn for everything but the common canonical forms of batch rows. */
static NOINLINE int column_slow(dcur *c, sqlite3_context *ctx, int i) {
    dvtab *vt = (dvtab *)c->base.pVtab;
    if (i == vt->ncols) {
        sqlite3_result_int64(ctx, c->snap ? c->snap->version : 0);
        return SQLITE_OK;
    }
    if (i == vt->ncols + 1) {
        char buf[48];
        int64_t us = c->snap ? c->snap->timestamp * 1000 : 0;
        int n = lks_fmt_timestamp_us(buf, us, 1);
        sqlite3_result_text(ctx, buf, n, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    sval v;
    if (i < 0 || i >= vt->ncols || !c->map || c->map[i] < 0) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    if (c->stat_file) {
        /* a row counted from stats: only partition values are known */
        if (!vt->is_part[i] || file_part_value(c, c->stat_file, i, &v) != LKS_OK)
            v.type = SQLITE_NULL;
    } else {
        int k = c->map[i];
        const lks_pq_value *col = c->batch ? c->bcol[i] : NULL;
        if (!col) {
            sqlite3_result_null(ctx);
            return SQLITE_OK;
        }
        const lks_delta_type *dt = &c->snap->metadata.schema->children[k];
        int rc = to_sval(dt, c->rs, c->gfield[k], &col[c->cur], &c->tmp, &v);
        if (rc != LKS_OK) {
            sqlite3_free(vt->base.zErrMsg);
            vt->base.zErrMsg = sqlite3_mprintf("delta: table %s: column %s: cannot convert its value (%s)",
                                               vt->location, vt->cols[i], lks_strerror(rc));
            return SQLITE_ERROR;
        }
    }
    switch (v.type) {
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, v.i); break;
    case SQLITE_FLOAT: sqlite3_result_double(ctx, v.d); break;
    case SQLITE_TEXT: sqlite3_result_text64(ctx, v.p ? v.p : "", v.n, SQLITE_TRANSIENT, SQLITE_UTF8); break;
    case SQLITE_BLOB: sqlite3_result_blob64(ctx, v.p ? v.p : "", v.n, SQLITE_TRANSIENT); break;
    default: sqlite3_result_null(ctx); break;
    }
    return SQLITE_OK;
}

static int x_column(sqlite3_vtab_cursor *pc, sqlite3_context *ctx, int i) {
    dcur *c = (dcur *)pc;
    /* a batch row of a declared column in a common canonical form */
    if (c->batch && i >= 0 && i < ((dvtab *)pc->pVtab)->ncols && c->bcol[i]) {
        const lks_pq_value *pv = &c->bcol[i][c->cur];
        switch (c->fast[i]) {
        case FAST_I64:
            if (pv->kind == LKS_PQ_V_INT64) {
                sqlite3_result_int64(ctx, pv->u.i64);
                return SQLITE_OK;
            }
            break;
        case FAST_I32:
            if (pv->kind == LKS_PQ_V_INT32) {
                sqlite3_result_int(ctx, pv->u.i32);
                return SQLITE_OK;
            }
            break;
        case FAST_F64:
            if (pv->kind == LKS_PQ_V_DOUBLE) {
                sqlite3_result_double(ctx, pv->u.f64); /* a NaN becomes NULL */
                return SQLITE_OK;
            }
            break;
        case FAST_TEXT:
            if (pv->kind == LKS_PQ_V_BYTES) {
                sqlite3_result_text64(ctx, pv->u.bytes.len ? (const char *)pv->u.bytes.ptr : "", pv->u.bytes.len,
                                      SQLITE_TRANSIENT, SQLITE_UTF8);
                return SQLITE_OK;
            }
            break;
        default: break;
        }
        if (pv->kind == LKS_PQ_V_NULL) {
            sqlite3_result_null(ctx);
            return SQLITE_OK;
        }
    }
    return column_slow(c, ctx, i);
}

/* A row's identity, the same in every scan of the snapshot (an OR of
 * constraints runs one scan per term and drops rows seen twice): its
 * file's position in the snapshot, and its position in the file (rows
 * counted from stats: their number within the file). */
static int x_rowid(sqlite3_vtab_cursor *pc, sqlite_int64 *rowid) {
    dcur *c = (dcur *)pc;
    uint64_t file = 0, pos = 0;
    if (c->stat_file) {
        file = (uint64_t)(c->stat_file - c->snap->files);
        pos = (uint64_t)(c->stat_rows[c->stat_pos] - 1 - c->pending);
    } else if (c->batch) {
        file = c->batch->file ? (uint64_t)(c->batch->file - c->snap->files) : 0;
        pos = (uint64_t)c->batch->row_index[c->cur];
    }
    *rowid = (sqlite_int64)(file << 40 | (pos & ((UINT64_C(1) << 40) - 1)));
    return SQLITE_OK;
}

static const sqlite3_module delta_module = {
    .iVersion = 0,
    .xCreate = x_connect,
    .xConnect = x_connect,
    .xBestIndex = x_best_index,
    .xDisconnect = x_disconnect,
    .xDestroy = x_disconnect,
    .xOpen = x_open,
    .xClose = x_close,
    .xFilter = x_filter,
    .xNext = x_next,
    .xEof = x_eof,
    .xColumn = x_column,
    .xRowid = x_rowid,
};

/* ---- delta_scan_stats(name) ---------------------------------------------------------------- */

static void fn_scan_stats(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    lks_sql_reg *reg = sqlite3_user_data(ctx);
    const char *name = argc > 0 ? (const char *)sqlite3_value_text(argv[0]) : NULL;
    if (!name) {
        sqlite3_result_null(ctx);
        return;
    }
    const char *dot = strchr(name, '.');
    for (dvtab *vt = reg->head; vt; vt = vt->next) {
        int match = sqlite3_stricmp(vt->name, name) == 0;
        if (!match && dot) {
            size_t sl = (size_t)(dot - name);
            match = strlen(vt->schema_name) == sl && sqlite3_strnicmp(vt->schema_name, name, (int)sl) == 0 &&
                    sqlite3_stricmp(vt->name, dot + 1) == 0;
        }
        if (!match)
            continue;
        if (!vt->last.valid) {
            sqlite3_result_null(ctx);
            return;
        }
        char *s = sqlite3_mprintf("{\"files_read\":%lld,\"files_skipped\":%lld,\"files_from_stats\":%lld,"
                                  "\"rows\":%lld}",
                                  (long long)vt->last.files_read, (long long)vt->last.files_skipped,
                                  (long long)vt->last.files_from_stats, (long long)vt->last.rows);
        if (!s) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
        sqlite3_result_text(ctx, s, -1, sqlite3_free);
        return;
    }
    sqlite3_result_null(ctx);
}

static void reg_free(void *p) {
    lks_sql_reg *reg = p;
    lks_delta_scan_free(reg->spare);
    sqlite3_free((char *)reg->opts.s3_endpoint);
    sqlite3_free((char *)reg->opts.s3_region);
    sqlite3_free(reg);
}

int lks_sql_register(sqlite3 *db, lks_err *err) { return lks_sql_register_opts(db, NULL, err); }

int lks_sql_register_opts(sqlite3 *db, const lks_store_opts *opts, lks_err *err) {
    lks_sql_reg *reg = sqlite3_malloc(sizeof *reg);
    if (!reg)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    reg->head = NULL;
    reg->spare = NULL;
    lks_store_opts_init(&reg->opts);
    if (opts) {
        reg->opts = *opts;
        reg->opts.s3_endpoint = opts->s3_endpoint ? sqlite3_mprintf("%s", opts->s3_endpoint) : NULL;
        reg->opts.s3_region = opts->s3_region ? sqlite3_mprintf("%s", opts->s3_region) : NULL;
        if ((opts->s3_endpoint && !reg->opts.s3_endpoint) || (opts->s3_region && !reg->opts.s3_region)) {
            reg_free(reg);
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        }
    }
    int rc = sqlite3_create_module_v2(db, "delta", &delta_module, reg, reg_free);
    if (rc != SQLITE_OK)
        return lks_err_set(err, LKS_EINVAL, "sqlite: cannot register the delta module: %s", sqlite3_errmsg(db));
    rc = sqlite3_create_function_v2(db, "delta_scan_stats", 1, SQLITE_UTF8, reg, fn_scan_stats, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return lks_err_set(err, LKS_EINVAL, "sqlite: cannot register delta_scan_stats(): %s", sqlite3_errmsg(db));
    return LKS_OK;
}
