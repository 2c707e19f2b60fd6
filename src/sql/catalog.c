/* catalog.c — the warehouse catalogue: every <db>/<table>/ of a warehouse
 * as temp-schema virtual tables "db.table" and `table`, and the lexical
 * rewrite of `db.table` in query text (see sql.h for the contract).
 *
 * Why not ATTACH: SQLite resolves `x.y` as schema.table, but a connection
 * can hold only SQLITE_MAX_ATTACHED (10 in Debian's build) schemas, and a
 * warehouse may have any number of databases.  So one schema (temp) holds
 * every table under a name with the dot inside ("salesdb.customer"), and
 * the query text is rewritten to quote such pairs before SQLite sees it.
 * The rewrite works on tokens (the same token classes as SQLite's
 * tokenizer: whitespace, comments, string literals, quoted identifiers,
 * names, numbers, parameters, punctuation), so text inside literals,
 * quoted identifiers and comments is never changed.
 *
 * Virtual tables are created when a statement first names them (CREATE
 * VIRTUAL TABLE IF NOT EXISTS, so a dropped one comes back), so opening a
 * warehouse of many tables reads no table's log until it is queried. */
#include "sql/sql.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct wh_table {
    char *db, *name; /* key segments as stored */
    char *qual;      /* "db.name", the virtual table's name */
    char *uri;       /* the table's location */
    int nsame;       /* tables (itself included) with this name, case-insensitive */
    char *err;       /* why the last CREATE failed, NULL if it did not */
} wh_table;

struct lks_sql_warehouse {
    sqlite3 *db;
    char *as_of_args; /* ", version=3" / ", timestamp='…'" / "" */
    wh_table *t;
    size_t n, cap;
};

/* ---- tokens ------------------------------------------------------------------------ */

enum { T_SPACE, T_COMMENT, T_NAME, T_QNAME, T_STRING, T_NUMBER, T_VAR, T_PUNCT };

typedef struct tok {
    int kind;
    size_t off, len;
} tok;

static int name_start(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
static int name_char(unsigned char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '$'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Scans one token at s[i] (i < len); returns its end (always > i). */
static size_t scan_token(const char *s, size_t len, size_t i, int *kind) {
    unsigned char c = (unsigned char)s[i];
    size_t j = i + 1;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\f' || s[j] == '\v'))
            j++;
        *kind = T_SPACE;
    } else if (c == '-' && j < len && s[j] == '-') {
        while (j < len && s[j] != '\n')
            j++;
        *kind = T_COMMENT;
    } else if (c == '/' && j < len && s[j] == '*') {
        j++;
        while (j < len && !(s[j] == '*' && j + 1 < len && s[j + 1] == '/'))
            j++;
        j = j + 2 <= len ? j + 2 : len;
        *kind = T_COMMENT;
    } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
        char close = c == '[' ? ']' : (char)c;
        for (;;) {
            while (j < len && s[j] != close)
                j++;
            if (j >= len)
                break;
            j++;
            if (close == ']' || j >= len || s[j] != close)
                break;
            j++; /* doubled quote */
        }
        *kind = c == '\'' ? T_STRING : T_QNAME;
    } else if (name_start(c)) {
        while (j < len && name_char((unsigned char)s[j]))
            j++;
        *kind = T_NAME;
    } else if (is_digit(c) || (c == '.' && j < len && is_digit((unsigned char)s[j]))) {
        while (j < len && (name_char((unsigned char)s[j]) || s[j] == '.' ||
                           ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))
            j++;
        *kind = T_NUMBER;
    } else if ((c == ':' || c == '@' || c == '$' || c == '?' || c == '#') && j < len &&
               name_char((unsigned char)s[j])) {
        while (j < len && (name_char((unsigned char)s[j]) || s[j] == ':'))
            j++;
        *kind = T_VAR;
    } else {
        *kind = T_PUNCT;
    }
    return j;
}

/* The significant tokens (no whitespace or comments) of s. */
typedef struct toklist {
    tok *v;
    size_t n, cap;
} toklist;

static int tokenize(const char *s, size_t len, toklist *tl) {
    for (size_t i = 0; i < len;) {
        int kind;
        size_t j = scan_token(s, len, i, &kind);
        if (kind != T_SPACE && kind != T_COMMENT) {
            if (tl->n == tl->cap) {
                size_t cap = tl->cap ? tl->cap * 2 : 64;
                tok *v = realloc(tl->v, cap * sizeof *v);
                if (!v)
                    return LKS_ENOMEM;
                tl->v = v;
                tl->cap = cap;
            }
            tl->v[tl->n++] = (tok){kind, i, j - i};
        }
        i = j;
    }
    return LKS_OK;
}

static int is_punct(const char *s, const toklist *tl, size_t k, char ch) {
    return k < tl->n && tl->v[k].kind == T_PUNCT && s[tl->v[k].off] == ch;
}
static int is_name_tok(const toklist *tl, size_t k) {
    return k < tl->n && (tl->v[k].kind == T_NAME || tl->v[k].kind == T_QNAME);
}
static int is_word(const char *s, const toklist *tl, size_t k, const char *w) {
    return k < tl->n && tl->v[k].kind == T_NAME && tl->v[k].len == strlen(w) &&
           strncasecmp(s + tl->v[k].off, w, tl->v[k].len) == 0;
}

/* The identifier a name token stands for (quotes removed), in buf; NULL
 * when it does not fit. */
static const char *tok_ident(const char *s, const tok *t, char *buf, size_t cap) {
    const char *p = s + t->off;
    size_t n = t->len, o = 0;
    if (t->kind == T_NAME) {
        if (n >= cap)
            return NULL;
        memcpy(buf, p, n);
        buf[n] = 0;
        return buf;
    }
    char close = p[0] == '[' ? ']' : p[0];
    for (size_t i = 1; i < n; i++) {
        if (p[i] == close) {
            if (close != ']' && i + 1 < n && p[i + 1] == close)
                i++;
            else
                break;
        }
        if (o + 1 >= cap)
            return NULL;
        buf[o++] = p[i];
    }
    buf[o] = 0;
    return buf;
}

/* ---- catalogue ---------------------------------------------------------------------- */

static void table_free(wh_table *t) {
    free(t->db);
    free(t->name);
    free(t->qual);
    free(t->uri);
    free(t->err);
}

void lks_sql_warehouse_free(lks_sql_warehouse *wh) {
    if (!wh)
        return;
    for (size_t i = 0; i < wh->n; i++)
        table_free(&wh->t[i]);
    free(wh->t);
    free(wh->as_of_args);
    free(wh);
}

size_t lks_sql_warehouse_count(const lks_sql_warehouse *wh) { return wh->n; }

void lks_sql_warehouse_table(const lks_sql_warehouse *wh, size_t i, const char **dbname, const char **name,
                             int *ambiguous) {
    *dbname = wh->t[i].db;
    *name = wh->t[i].name;
    *ambiguous = wh->t[i].nsame > 1;
}

typedef struct list_ctx {
    lks_sql_warehouse *wh;
    const char *root_uri;
    int file_uri; /* root_uri is file://, whose paths are percent-encoded */
    int oom;
} list_ctx;

/* Appends s as one URI path segment: percent-encoded in a file:// URI; as
 * it is in an s3:// one, whose path is the object key itself. */
static int append_segment(lks_buf *b, const char *s, size_t n, int encode) {
    static const char hex[] = "0123456789ABCDEF";
    if (!encode)
        return lks_buf_append(b, s, n);
    int rc = LKS_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
            c == '~' || c == '-') {
            rc = lks_buf_append_byte(b, c);
        } else {
            uint8_t e[3] = {'%', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15]};
            rc = lks_buf_append(b, e, 3);
        }
    }
    return rc;
}

static int on_key(void *ud, const lks_store_entry *ent) {
    list_ctx *c = ud;
    lks_sql_warehouse *wh = c->wh;
    const char *k = ent->key, *s1 = strchr(k, '/');
    if (!s1 || s1 == k)
        return 0;
    const char *s2 = strchr(s1 + 1, '/');
    if (!s2 || s2 == s1 + 1 || strncmp(s2 + 1, "_delta_log/", 11) != 0)
        return 0;
    size_t ndb = (size_t)(s1 - k), nname = (size_t)(s2 - s1 - 1);
    if (k[0] == '.' || s1[1] == '.')
        return 0;
    if (wh->n) {
        wh_table *last = &wh->t[wh->n - 1];
        if (strlen(last->db) == ndb && strlen(last->name) == nname && memcmp(last->db, k, ndb) == 0 &&
            memcmp(last->name, s1 + 1, nname) == 0)
            return 0;
    }
    if (wh->n == wh->cap) {
        size_t cap = wh->cap ? wh->cap * 2 : 16;
        wh_table *v = realloc(wh->t, cap * sizeof *v);
        if (!v)
            return c->oom = 1;
        wh->t = v;
        wh->cap = cap;
    }
    wh_table *t = &wh->t[wh->n];
    memset(t, 0, sizeof *t);
    t->db = strndup(k, ndb);
    t->name = strndup(s1 + 1, nname);
    t->qual = strndup(k, (size_t)(s2 - k));
    if (t->qual)
        t->qual[ndb] = '.';
    lks_buf u;
    lks_buf_init(&u, 0);
    size_t rl = strlen(c->root_uri);
    int rc = lks_buf_append(&u, c->root_uri, rl);
    if (!rc && rl && c->root_uri[rl - 1] != '/')
        rc = lks_buf_append_byte(&u, '/');
    if (!rc)
        rc = append_segment(&u, k, ndb, c->file_uri);
    if (!rc)
        rc = lks_buf_append_byte(&u, '/');
    if (!rc)
        rc = append_segment(&u, s1 + 1, nname, c->file_uri);
    if (!rc && lks_buf_cstr(&u) == LKS_OK)
        t->uri = (char *)lks_buf_detach(&u, NULL);
    lks_buf_free(&u);
    wh->n++;
    if (!t->db || !t->name || !t->qual || !t->uri)
        return c->oom = 1;
    return 0;
}

static int cmp_table(const void *a, const void *b) {
    const wh_table *x = a, *y = b;
    int r = strcasecmp(x->db, y->db);
    if (!r)
        r = strcasecmp(x->name, y->name);
    if (!r)
        r = strcmp(x->qual, y->qual);
    return r;
}

static int cmp_by_name(const void *a, const void *b) {
    const wh_table *x = *(wh_table *const *)a, *y = *(wh_table *const *)b;
    int r = strcasecmp(x->name, y->name);
    return r ? r : (x > y) - (x < y);
}

/* Sets every table's nsame. */
static int count_names(lks_sql_warehouse *wh) {
    if (!wh->n)
        return LKS_OK;
    wh_table **by = malloc(wh->n * sizeof *by);
    if (!by)
        return LKS_ENOMEM;
    for (size_t i = 0; i < wh->n; i++)
        by[i] = &wh->t[i];
    qsort(by, wh->n, sizeof *by, cmp_by_name);
    for (size_t i = 0; i < wh->n;) {
        size_t j = i + 1;
        while (j < wh->n && strcasecmp(by[i]->name, by[j]->name) == 0)
            j++;
        for (size_t k = i; k < j; k++)
            by[k]->nsame = (int)(j - i);
        i = j;
    }
    free(by);
    return LKS_OK;
}

/* Appends s as an SQL string literal. */
static int append_literal(lks_buf *b, const char *s, char q) {
    int rc = lks_buf_append_byte(b, (uint8_t)q);
    for (; *s && !rc; s++) {
        if (*s == q)
            rc = lks_buf_append_byte(b, (uint8_t)q);
        if (!rc)
            rc = lks_buf_append_byte(b, (uint8_t)*s);
    }
    return rc ? rc : lks_buf_append_byte(b, (uint8_t)q);
}

int lks_sql_warehouse_open(sqlite3 *db, const char *uri, const char *as_of, lks_sql_warehouse **out, lks_err *err) {
    return lks_sql_warehouse_open_opts(db, uri, NULL, as_of, out, err);
}

int lks_sql_warehouse_open_opts(sqlite3 *db, const char *uri, const lks_store_opts *opts, const char *as_of,
                                lks_sql_warehouse **out, lks_err *err) {
    *out = NULL;
    lks_buf args;
    lks_buf_init(&args, 0);
    int bad = 0;
    if (as_of) {
        size_t n = strlen(as_of), d = 0;
        while (d < n && is_digit((unsigned char)as_of[d]))
            d++;
        int64_t us;
        if (n && d == n && n <= 18) {
            bad = lks_buf_printf(&args, ", version=%s", as_of) != LKS_OK;
        } else if (n && lks_parse_timestamp_us(as_of, n, &us) == LKS_OK) {
            bad = lks_buf_append(&args, ", timestamp=", 12) != LKS_OK || append_literal(&args, as_of, '\'') != LKS_OK;
        } else {
            lks_buf_free(&args);
            return lks_err_set(err, LKS_EINVAL,
                               "bad --as-of '%s': expected a version number or a timestamp like "
                               "'2024-05-01 12:00:00'",
                               as_of);
        }
    }
    if (bad || lks_buf_cstr(&args) != LKS_OK) {
        lks_buf_free(&args);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    lks_sql_warehouse *wh = calloc(1, sizeof *wh);
    if (!wh) {
        lks_buf_free(&args);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    wh->db = db;
    wh->as_of_args = (char *)lks_buf_detach(&args, NULL);
    lks_buf_free(&args);
    if (!wh->as_of_args) {
        lks_sql_warehouse_free(wh);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    lks_store *st = NULL;
    int rc = lks_store_open_opts(uri, opts, &st, err);
    if (rc != LKS_OK) {
        lks_sql_warehouse_free(wh);
        return rc;
    }
    list_ctx c = {wh, st->uri, strcmp(st->ops->scheme, "file") == 0, 0};
    rc = lks_store_list_flags(st, "", LKS_STORE_LIST_NAMES, on_key, &c, err);
    lks_store_close(st);
    if (rc == LKS_OK && c.oom)
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    if (rc == LKS_OK) {
        qsort(wh->t, wh->n, sizeof *wh->t, cmp_table);
        if (count_names(wh) != LKS_OK)
            rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    if (rc != LKS_OK) {
        lks_err_prefix(err, "warehouse %s", uri);
        lks_sql_warehouse_free(wh);
        return rc;
    }
    *out = wh;
    return LKS_OK;
}

/* ---- lookups and virtual tables -------------------------------------------------------- */

static wh_table *find_qual(const lks_sql_warehouse *wh, const char *dbname, const char *name) {
    for (size_t i = 0; i < wh->n; i++)
        if (strcasecmp(wh->t[i].db, dbname) == 0 && strcasecmp(wh->t[i].name, name) == 0)
            return &wh->t[i];
    return NULL;
}

static wh_table *find_bare(const lks_sql_warehouse *wh, const char *name) {
    for (size_t i = 0; i < wh->n; i++)
        if (strcasecmp(wh->t[i].name, name) == 0)
            return &wh->t[i];
    return NULL;
}

static int is_schema(sqlite3 *db, const char *name) {
    for (int i = 0;; i++) {
        const char *s = sqlite3_db_name(db, i);
        if (!s)
            return 0;
        if (strcasecmp(s, name) == 0)
            return 1;
    }
}

/* CREATE VIRTUAL TABLE IF NOT EXISTS temp."<sqlname>" for t.  On failure
 * the module's message is kept in t->err and returned as an error. */
static int ensure(lks_sql_warehouse *wh, wh_table *t, const char *sqlname, lks_err *err) {
    lks_buf q;
    lks_buf_init(&q, 0);
    int rc = lks_buf_append(&q, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.", 40);
    if (!rc)
        rc = append_literal(&q, sqlname, '"');
    if (!rc)
        rc = lks_buf_append(&q, " USING delta(", 13);
    if (!rc)
        rc = append_literal(&q, t->uri, '\'');
    if (!rc)
        rc = lks_buf_printf(&q, "%s)", wh->as_of_args);
    if (rc || lks_buf_cstr(&q) != LKS_OK) {
        lks_buf_free(&q);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    char *msg = NULL;
    int src = sqlite3_exec(wh->db, (const char *)q.ptr, NULL, NULL, &msg);
    lks_buf_free(&q);
    free(t->err);
    t->err = NULL;
    if (src == SQLITE_OK)
        return LKS_OK;
    const char *m = msg ? msg : sqlite3_errstr(src);
    t->err = strdup(m);
    rc = lks_err_set(err, src == SQLITE_NOMEM ? LKS_ENOMEM : LKS_EIO, "%s.%s: %s", t->db, t->name, m);
    sqlite3_free(msg);
    return rc;
}

/* "table name 'x' is ambiguous: …" naming the databases that have it. */
static void ambiguous_msg(const lks_sql_warehouse *wh, const char *name, lks_buf *out) {
    lks_buf_printf(out, "table name '%s' is ambiguous: it is in databases", name);
    int n = 0;
    for (size_t i = 0; i < wh->n; i++)
        if (strcasecmp(wh->t[i].name, name) == 0)
            lks_buf_printf(out, "%s %s", n++ ? "," : "", wh->t[i].db);
    lks_buf_printf(out, "; write <database>.%s", name);
}

int lks_sql_warehouse_use(lks_sql_warehouse *wh, const char *name, lks_buf *out, lks_err *err) {
    const char *dot = strchr(name, '.');
    wh_table *t = NULL;
    if (dot) {
        char *dbname = strndup(name, (size_t)(dot - name));
        if (!dbname)
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        t = find_qual(wh, dbname, dot + 1);
        free(dbname);
        if (!t)
            return lks_err_set(err, LKS_ENOTFOUND, "no table %s in the warehouse", name);
        int rc = ensure(wh, t, t->qual, err);
        if (rc == LKS_OK && lks_buf_append(out, t->qual, strlen(t->qual)) != LKS_OK)
            rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
        return rc;
    }
    t = find_bare(wh, name);
    if (!t)
        return lks_err_set(err, LKS_ENOTFOUND, "no table %s in the warehouse", name);
    if (t->nsame > 1) {
        lks_buf m;
        lks_buf_init(&m, 0);
        ambiguous_msg(wh, name, &m);
        lks_err_set(err, LKS_EINVAL, "%.*s", (int)m.len, m.ptr ? (const char *)m.ptr : "");
        lks_buf_free(&m);
        return LKS_EINVAL;
    }
    int rc = ensure(wh, t, t->name, err);
    if (rc == LKS_OK && lks_buf_append(out, t->name, strlen(t->name)) != LKS_OK)
        rc = lks_err_set(err, LKS_ENOMEM, "out of memory");
    return rc;
}

/* ---- the rewrite ------------------------------------------------------------------------ */

int lks_sql_warehouse_rewrite(lks_sql_warehouse *wh, const char *sql, size_t len, lks_buf *out, lks_err *err) {
    toklist tl = {0};
    if (tokenize(sql, len, &tl) != LKS_OK) {
        free(tl.v);
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    }
    char a[256], b[256];
    lks_err ignored;
    size_t copied = 0; /* sql[0..copied) is in out */
    int bad = 0;
    for (size_t k = 0; k < tl.n; k++) {
        if (!is_name_tok(&tl, k) || (k > 0 && is_punct(sql, &tl, k - 1, '.')))
            continue;
        const char *ida = tok_ident(sql, &tl.v[k], a, sizeof a);
        if (!ida)
            continue;
        wh_table *t = NULL;
        if (is_punct(sql, &tl, k + 1, '.') && is_name_tok(&tl, k + 2)) {
            const char *idb = tok_ident(sql, &tl.v[k + 2], b, sizeof b);
            if (idb && !is_schema(wh->db, ida))
                t = find_qual(wh, ida, idb);
        }
        if (!t) {
            /* a bare name (or the table of table.column), or "db.table" quoted whole */
            wh_table *bt = find_bare(wh, ida);
            const char *dot = tl.v[k].kind == T_QNAME ? strchr(ida, '.') : NULL;
            if (bt && bt->nsame == 1) {
                ensure(wh, bt, bt->name, &ignored);
            } else if (!bt && dot) {
                *(char *)dot = 0;
                bt = find_qual(wh, ida, dot + 1);
                if (bt)
                    ensure(wh, bt, bt->qual, &ignored);
            }
            continue;
        }
        size_t end = tl.v[k + 2].off + tl.v[k + 2].len;
        bad |= lks_buf_append(out, sql + copied, tl.v[k].off - copied) != LKS_OK;
        copied = end;
        if (is_punct(sql, &tl, k + 3, '.')) {
            /* db.table.column: the table is known by its bare alias */
            bad |= append_literal(out, t->name, '"') != LKS_OK;
            k += 2;
            continue;
        }
        ensure(wh, t, t->qual, &ignored);
        bad |= append_literal(out, t->qual, '"') != LKS_OK;
        size_t next = k + 3;
        int table_ref = k > 0 && (is_word(sql, &tl, k - 1, "FROM") || is_word(sql, &tl, k - 1, "JOIN") ||
                                  is_punct(sql, &tl, k - 1, ','));
        if (table_ref && is_punct(sql, &tl, next, '(')) { /* table-valued arguments */
            int depth = 0;
            for (; next < tl.n; next++) {
                if (is_punct(sql, &tl, next, '('))
                    depth++;
                else if (is_punct(sql, &tl, next, ')') && --depth == 0)
                    break;
            }
            if (next < tl.n)
                next++;
            else
                table_ref = 0;
        }
        if (table_ref && next < tl.n &&
            (tl.v[next].kind == T_QNAME ||
             (tl.v[next].kind == T_NAME &&
              (is_word(sql, &tl, next, "AS") || !sqlite3_keyword_check(sql + tl.v[next].off, (int)tl.v[next].len)))))
            table_ref = 0; /* it has an alias */
        if (table_ref) {
            size_t at = tl.v[next - 1].off + tl.v[next - 1].len;
            bad |= lks_buf_append(out, sql + copied, at - copied) != LKS_OK;
            copied = at;
            bad |= lks_buf_append(out, " AS ", 4) != LKS_OK;
            bad |= append_literal(out, t->name, '"') != LKS_OK;
        }
        k += 2;
    }
    bad |= lks_buf_append(out, sql + copied, len - copied) != LKS_OK;
    free(tl.v);
    if (bad || lks_buf_cstr(out) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "out of memory");
    return LKS_OK;
}

int lks_sql_warehouse_explain(const lks_sql_warehouse *wh, const char *errmsg, lks_buf *out) {
    static const char prefix[] = "no such table: ";
    if (!errmsg || strncmp(errmsg, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *name = errmsg + sizeof prefix - 1;
    if (strncasecmp(name, "main.", 5) == 0)
        name += 5;
    else if (strncasecmp(name, "temp.", 5) == 0)
        name += 5;
    for (size_t i = 0; i < wh->n; i++) {
        const wh_table *t = &wh->t[i];
        if (strcasecmp(t->qual, name) == 0 && t->err) {
            lks_buf_printf(out, "%s: %s", t->qual, t->err);
            return 1;
        }
    }
    const wh_table *t = find_bare(wh, name);
    if (!t)
        return 0;
    if (t->nsame > 1) {
        ambiguous_msg(wh, name, out);
        return 1;
    }
    if (t->err) {
        lks_buf_printf(out, "%s: %s", t->qual, t->err);
        return 1;
    }
    return 0;
}

size_t lks_sql_statement_len(const char *sql, size_t len) {
    lks_buf b;
    lks_buf_init(&b, 0);
    size_t res = 0;
    for (size_t i = 0; i < len;) {
        int kind;
        size_t j = scan_token(sql, len, i, &kind);
        if (kind == T_PUNCT && sql[i] == ';') {
            lks_buf_reset(&b);
            if (lks_buf_append(&b, sql, j) != LKS_OK || lks_buf_cstr(&b) != LKS_OK)
                break;
            if (sqlite3_complete((const char *)b.ptr)) {
                res = j;
                break;
            }
        }
        i = j;
    }
    lks_buf_free(&b);
    return res;
}
