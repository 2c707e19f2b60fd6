/*
 * snapshot.c — the consistent snapshot: a read view matched to a binlog
 * position, and tables read inside it in primary-key chunks, the text
 * protocol's values converted to the forms the binlog decoder gives.
 *
 * Chunks use keyset pagination written out as
 *   (k1 > v1) OR (k1 = v1 AND k2 > v2) OR …
 * (MariaDB's range optimizer does not use an index for row-constructor
 * comparisons).  The last key of a chunk is sent back as the text the
 * server returned (binary strings as X'…'), so comparisons happen in the
 * column's own type and collation.  A key with a FLOAT/DOUBLE, ENUM, SET,
 * BIT, JSON or spatial column is read in one ordered pass instead: their
 * text does not round-trip, or their comparison order differs from their
 * sort order.
 *
 * Chunks are stored whole on the client (the callback may take its time
 * without holding the server); a one-pass read streams with
 * mysql_use_result and raises the session's net_write_timeout so a slow
 * consumer does not get the query cut off.  The callback must not use the
 * connection.
 *
 * The final row of a table is only known once the next fetch (or chunk)
 * comes back empty, so each row is held until the next one arrives; its
 * values are copied into an arena that is reset per row.
 *
 * Select expressions: binary strings without detail as CAST(… AS BINARY)
 * (MariaDB's UUID/INET4/INET6 then arrive as the bytes the binlog carries,
 * not their text), FLOAT as CAST(… AS DOUBLE) (the text of a FLOAT has 6
 * digits and does not round-trip; the double of the float does, and is
 * narrowed back to float32).
 */
#include "source/source_int.h"

#include <errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- snapshot position ------------------------------------------------------------------------ */

static int copy_pos(lks_src_conn *c, const char *f, const char *p, char *file, size_t cap, uint64_t *pos,
                    lks_err *err) {
    if (!f || !*f || !p)
        return lks_err_set(err, LKS_ECONFIG, "%s: the snapshot has no binlog position: binary logging is off", c->name);
    if (strlen(f) >= cap)
        return lks_err_set(err, LKS_ELIMIT, "%s: binlog file name '%s' is too long", c->name, f);
    char *end;
    *pos = strtoull(p, &end, 10);
    if (end == p || *end)
        return lks_err_set(err, LKS_EIO, "%s: snapshot position '%s' is not a number", c->name, p);
    memcpy(file, f, strlen(f) + 1);
    return LKS_OK;
}

int lks_src_snapshot_begin(lks_src_conn *c, char *file, size_t cap, uint64_t *pos, lks_err *err) {
    int rc = lks_src_exec(c, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err);
    if (rc)
        return rc;
    if (c->mariadb) {
        /* MariaDB tells the binlog position of the read view itself */
        rc = lks_src_exec(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err);
        if (rc)
            return rc;
        MYSQL_RES *res;
        rc = lks_src_query(c->m, c->name, "SHOW STATUS LIKE 'binlog_snapshot_%'", &res, err);
        if (rc)
            return rc;
        const char *f = NULL, *p = NULL;
        MYSQL_ROW row;
        while (res && (row = mysql_fetch_row(res))) {
            if (row[0] && !strcasecmp(row[0], "binlog_snapshot_file"))
                f = row[1];
            else if (row[0] && !strcasecmp(row[0], "binlog_snapshot_position"))
                p = row[1];
        }
        rc = copy_pos(c, f, p, file, cap, pos, err);
        mysql_free_result(res);
        if (rc)
            lks_src_exec(c, "ROLLBACK", NULL);
        return rc;
    }
    /* MySQL: hold the global read lock only while the view starts and the
     * binlog end is read, so the two match */
    rc = lks_src_exec(c, "FLUSH TABLES WITH READ LOCK", err);
    if (rc)
        return rc;
    rc = lks_src_exec(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err);
    if (!rc)
        rc = lks_src_binlog_end(c, file, cap, pos, err);
    lks_err tmp;
    int urc = lks_src_exec(c, "UNLOCK TABLES", rc ? &tmp : err);
    if (rc) {
        lks_src_exec(c, "ROLLBACK", NULL);
        return rc;
    }
    return urc;
}

int lks_src_snapshot_end(lks_src_conn *c, lks_err *err) { return lks_src_exec(c, "COMMIT", err); }

/* ---- text values ---------------------------------------------------------------------------- */

/* Reads exactly `w` digits (w > 0) at s[*i]. */
static int fixed_digits(const char *s, size_t n, size_t *i, int w, int64_t *v) {
    int64_t x = 0;
    for (int k = 0; k < w; k++, (*i)++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9')
            return 0;
        x = x * 10 + (s[*i] - '0');
    }
    *v = x;
    return 1;
}

static int expect(const char *s, size_t n, size_t *i, char ch) {
    if (*i >= n || s[*i] != ch)
        return 0;
    (*i)++;
    return 1;
}

/* ".f{1,6}" if present, as microseconds. */
static int fraction(const char *s, size_t n, size_t *i, int64_t *us) {
    *us = 0;
    if (*i >= n || s[*i] != '.')
        return 1;
    (*i)++;
    int k = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9' && k < 6)
        *us = *us * 10 + (s[(*i)++] - '0'), k++;
    if (k == 0)
        return 0;
    for (; k < 6; k++)
        *us *= 10;
    return 1;
}

/* "YYYY-MM-DD"; *zero when the month or the day is 0 (a zero date). */
static int date_part(const char *s, size_t n, size_t *i, int64_t *days, int *zero) {
    int64_t y, m, d;
    if (!fixed_digits(s, n, i, 4, &y) || !expect(s, n, i, '-') || !fixed_digits(s, n, i, 2, &m) ||
        !expect(s, n, i, '-') || !fixed_digits(s, n, i, 2, &d))
        return 0;
    *zero = m == 0 || d == 0;
    if (*zero)
        return 1;
    if (m > 12 || d > 31)
        return 0;
    *days = lks_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 1;
}

/* "HH:MM:SS[.f]" of a DATETIME, as microseconds. */
static int clock_part(const char *s, size_t n, size_t *i, int64_t *us) {
    int64_t h, m, sec, f;
    if (!fixed_digits(s, n, i, 2, &h) || !expect(s, n, i, ':') || !fixed_digits(s, n, i, 2, &m) ||
        !expect(s, n, i, ':') || !fixed_digits(s, n, i, 2, &sec) || !fraction(s, n, i, &f))
        return 0;
    if (h > 23 || m > 59 || sec > 59)
        return 0;
    *us = ((h * 60 + m) * 60 + sec) * 1000000 + f;
    return 1;
}

/* "[-]H…:MM:SS[.f]" of a TIME, as signed microseconds. */
static int time_value(const char *s, size_t n, int64_t *us) {
    size_t i = 0;
    int neg = i < n && s[i] == '-';
    i += (size_t)neg;
    int64_t h = 0, m, sec, f;
    int k = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && k < 4)
        h = h * 10 + (s[i++] - '0'), k++;
    if (k == 0 || !expect(s, n, &i, ':') || !fixed_digits(s, n, &i, 2, &m) || !expect(s, n, &i, ':') ||
        !fixed_digits(s, n, &i, 2, &sec) || !fraction(s, n, &i, &f) || i != n || m > 59 || sec > 59)
        return 0;
    int64_t v = ((h * 60 + m) * 60 + sec) * 1000000 + f;
    *us = neg ? -v : v;
    return 1;
}

/* A decimal integer within [lo, hi] (signed) or [0, UINT64_MAX] (uns). */
static int int_value(const char *s, size_t n, int uns, int64_t lo, int64_t hi, lks_cdc_value *v) {
    size_t i = 0;
    int neg = 0;
    if (i < n && s[i] == '-')
        neg = 1, i++;
    if (i == n || (uns && neg))
        return 0;
    uint64_t x = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return 0;
        x = x * 10 + d;
    }
    if (uns) {
        v->kind = LKS_CV_UINT;
        v->u.u64 = x;
        return 1;
    }
    int64_t r;
    if (neg) {
        if (x > (uint64_t)INT64_MAX + 1)
            return 0;
        r = x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
    } else {
        if (x > (uint64_t)INT64_MAX)
            return 0;
        r = (int64_t)x;
    }
    if (r < lo || r > hi)
        return 0;
    v->kind = LKS_CV_INT;
    v->u.i64 = r;
    return 1;
}

static int real_value(const char *s, size_t n, int narrow, lks_cdc_value *v) {
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    double d = strtod(tmp, &end);
    if (*end)
        return 0;
    v->kind = LKS_CV_DOUBLE;
    v->u.f64 = narrow ? (double)(float)d : d;
    return 1;
}

static int bytes_value(const char *s, size_t n, lks_arena *a, lks_cdc_value *v) {
    uint8_t *p = lks_arena_memdup(a, s, n);
    if (!p)
        return LKS_ENOMEM;
    v->kind = LKS_CV_BYTES;
    v->u.bytes.ptr = p;
    v->u.bytes.len = n;
    return LKS_OK;
}

/* One text-protocol value into the field's value form.  LKS_ECORRUPT when
 * the text does not read as the type (the caller names where). */
static int convert(const lks_cdc_field *fd, const char *s, size_t n, lks_arena *a, lks_cdc_value *v) {
    memset(v, 0, sizeof *v);
    if (!s) {
        v->kind = LKS_CV_NULL;
        return LKS_OK;
    }
    const lks_cdc_type *t = &fd->type;
    size_t i = 0;
    int64_t days, us;
    int zero;
    switch (t->kind) {
    case LKS_CT_BOOL: /* BIT(1): the raw byte */
        if (n != 1)
            return LKS_ECORRUPT;
        v->kind = LKS_CV_BOOL;
        v->u.b = s[0] != 0;
        return LKS_OK;
    case LKS_CT_INT8: return int_value(s, n, 0, INT8_MIN, INT8_MAX, v) ? LKS_OK : LKS_ECORRUPT;
    case LKS_CT_INT16: return int_value(s, n, 0, INT16_MIN, INT16_MAX, v) ? LKS_OK : LKS_ECORRUPT;
    case LKS_CT_INT32: return int_value(s, n, 0, INT32_MIN, INT32_MAX, v) ? LKS_OK : LKS_ECORRUPT;
    case LKS_CT_INT64: return int_value(s, n, 0, INT64_MIN, INT64_MAX, v) ? LKS_OK : LKS_ECORRUPT;
    case LKS_CT_UINT64: return int_value(s, n, 1, 0, 0, v) ? LKS_OK : LKS_ECORRUPT;
    case LKS_CT_FLOAT: return real_value(s, n, 1, v) ? LKS_OK : LKS_ECORRUPT;
    case LKS_CT_DOUBLE: return real_value(s, n, 0, v) ? LKS_OK : LKS_ECORRUPT;
    case LKS_CT_DECIMAL: {
        int rc = lks_decimal_from_text(s, n, t->scale, a, v);
        return rc == LKS_EINVAL ? LKS_ECORRUPT : rc;
    }
    case LKS_CT_STRING:
    case LKS_CT_JSON: return bytes_value(s, n, a, v);
    case LKS_CT_BYTES:
        if (t->detail == LKS_CD_GEOMETRY || t->detail == LKS_CD_POINT) {
            /* MySQL's 4-byte SRID, then the WKB */
            if (n < 4)
                return LKS_ECORRUPT;
            return bytes_value(s + 4, n - 4, a, v);
        }
        if (t->detail == LKS_CD_BIT && (t->precision < 1 || n != (size_t)(t->precision + 7) / 8))
            return LKS_ECORRUPT;
        return bytes_value(s, n, a, v);
    case LKS_CT_DATE:
        if (!date_part(s, n, &i, &days, &zero) || i != n)
            return LKS_ECORRUPT;
        v->kind = zero ? LKS_CV_NULL : LKS_CV_INT;
        v->u.i64 = zero ? 0 : days;
        return LKS_OK;
    case LKS_CT_TIME:
        if (!time_value(s, n, &us))
            return LKS_ECORRUPT;
        v->kind = LKS_CV_INT;
        v->u.i64 = us;
        return LKS_OK;
    case LKS_CT_DATETIME:
    case LKS_CT_TIMESTAMP: /* the session is UTC: TIMESTAMP text is the UTC wall clock */
        if (!date_part(s, n, &i, &days, &zero) || !expect(s, n, &i, ' ') || !clock_part(s, n, &i, &us) || i != n)
            return LKS_ECORRUPT;
        v->kind = zero ? LKS_CV_NULL : LKS_CV_INT;
        v->u.i64 = zero ? 0 : days * 86400LL * 1000000 + us;
        return LKS_OK;
    default: return LKS_ECORRUPT;
    }
}

/* ---- reading a table -------------------------------------------------------------------- */

/* Key columns whose text compares and sorts as the column does. */
static int chunkable(const lks_cdc_type *t) {
    switch (t->kind) {
    case LKS_CT_INT8:
    case LKS_CT_INT16:
    case LKS_CT_INT32:
    case LKS_CT_INT64:
    case LKS_CT_UINT64:
    case LKS_CT_DECIMAL:
    case LKS_CT_DATE:
    case LKS_CT_TIME:
    case LKS_CT_DATETIME:
    case LKS_CT_TIMESTAMP: return 1;
    case LKS_CT_STRING:
    case LKS_CT_BYTES: return t->detail == 0;
    default: return 0;
    }
}

typedef struct reader {
    lks_src_conn *c;
    const char *db, *table;
    const lks_cdc_schema *schema;
    const int *key;
    int nkey;
    lks_arena ar;     /* the held row: values and key texts */
    lks_cdc_event ev; /* the held row's event */
    int held;
    const char **ktext; /* key column values as the server sent them */
    size_t *klen;
} reader;

static int hex_literal(lks_buf *b, const char *s, size_t n) {
    static const char hx[] = "0123456789ABCDEF";
    int rc = lks_buf_reserve(b, 2 * n + 3);
    if (rc)
        return rc;
    b->ptr[b->len++] = 'X';
    b->ptr[b->len++] = '\'';
    for (size_t i = 0; i < n; i++) {
        b->ptr[b->len++] = (uint8_t)hx[(uint8_t)s[i] >> 4];
        b->ptr[b->len++] = (uint8_t)hx[(uint8_t)s[i] & 15];
    }
    b->ptr[b->len++] = '\'';
    return LKS_OK;
}

static int key_literal(reader *r, lks_buf *b, int k) {
    const lks_cdc_field *fd = &r->schema->fields[r->key[k]];
    if (fd->type.kind == LKS_CT_BYTES)
        return hex_literal(b, r->ktext[k], r->klen[k]);
    return lks_src_quote_str(b, r->c->m, r->ktext[k], r->klen[k]);
}

/* " WHERE (k1 > v1) OR (k1 = v1 AND k2 > v2) OR …" after the held row. */
static int keyset_where(reader *r, lks_buf *b) {
    int rc = lks_buf_printf(b, " WHERE ");
    for (int i = 0; !rc && i < r->nkey; i++) {
        rc = lks_buf_printf(b, "%s(", i ? " OR " : "");
        for (int j = 0; !rc && j <= i; j++) {
            if (!rc && j)
                rc = lks_buf_printf(b, " AND ");
            if (!rc)
                rc = lks_src_quote_ident(b, r->schema->fields[r->key[j]].name);
            if (!rc)
                rc = lks_buf_printf(b, j < i ? " = " : " > ");
            if (!rc)
                rc = key_literal(r, b, j);
        }
        if (!rc)
            rc = lks_buf_append_byte(b, ')');
    }
    return rc;
}

static int emit(reader *r, int snapshot, lks_src_row_cb *cb, void *ud, lks_err *err) {
    int64_t now = lks_now_us() / 1000;
    r->ev.source.snapshot = snapshot;
    r->ev.source.ts_ms = now;
    r->ev.ts_ms = now;
    r->held = 0;
    return cb(ud, &r->ev, err);
}

/* Converts a fetched row into the held event (after the previous was sent). */
static int hold(reader *r, MYSQL_ROW row, const unsigned long *len, int64_t rowno, lks_err *err) {
    lks_arena_reset(&r->ar);
    int n = r->schema->nfields;
    lks_cdc_value *v = lks_arena_alloc(&r->ar, (size_t)n * sizeof *v);
    if (!v)
        return lks_err_set(err, LKS_ENOMEM, "%s: %s.%s: row %lld: out of memory", r->c->name, r->db, r->table,
                           (long long)rowno);
    for (int i = 0; i < n; i++) {
        const lks_cdc_field *fd = &r->schema->fields[i];
        int rc = convert(fd, row[i], row[i] ? len[i] : 0, &r->ar, &v[i]);
        if (rc == LKS_ENOMEM)
            return lks_err_set(err, rc, "%s: %s.%s: row %lld: out of memory", r->c->name, r->db, r->table,
                               (long long)rowno);
        if (rc) {
            char shown[64];
            size_t k = 0;
            for (size_t j = 0; j < len[i] && k + 5 < sizeof shown; j++) {
                unsigned char ch = (unsigned char)row[i][j];
                k += (size_t)snprintf(shown + k, sizeof shown - k, ch >= 32 && ch < 127 ? "%c" : "\\x%02x", ch);
            }
            shown[k] = 0;
            return lks_err_set(err, LKS_ECORRUPT, "%s: %s.%s: row %lld: column %s: cannot read '%s' as its type",
                               r->c->name, r->db, r->table, (long long)rowno, fd->name, shown);
        }
    }
    for (int k = 0; k < r->nkey; k++) {
        int col = r->key[k];
        r->klen[k] = row[col] ? len[col] : 0;
        r->ktext[k] = lks_arena_memdup(&r->ar, row[col] ? row[col] : "", r->klen[k]);
        if (!r->ktext[k])
            return lks_err_set(err, LKS_ENOMEM, "%s: out of memory", r->c->name);
    }
    r->ev.after.v = v;
    r->ev.after.n = n;
    r->ev.source.row = rowno;
    r->held = 1;
    return LKS_OK;
}

/* "SELECT <columns> FROM `db`.`table`" */
static int select_list(reader *r, lks_buf *b) {
    lks_src_conn *c = r->c;
    /* CAST(… AS DOUBLE): MariaDB 10.4+, MySQL 8.0.17+; older: … + 0E0 */
    int cast_double = c->mariadb ? c->version >= 100400 : c->version >= 80017;
    int rc = lks_buf_printf(b, "SELECT ");
    for (int i = 0; !rc && i < r->schema->nfields; i++) {
        const lks_cdc_field *fd = &r->schema->fields[i];
        if (i)
            rc = lks_buf_printf(b, ", ");
        if (rc)
            break;
        if (fd->type.kind == LKS_CT_BYTES && fd->type.detail == 0) {
            rc = lks_buf_printf(b, "CAST(");
            if (!rc)
                rc = lks_src_quote_ident(b, fd->name);
            if (!rc)
                rc = lks_buf_printf(b, " AS BINARY)");
        } else if (fd->type.kind == LKS_CT_FLOAT) {
            rc = lks_buf_printf(b, cast_double ? "CAST(" : "(");
            if (!rc)
                rc = lks_src_quote_ident(b, fd->name);
            if (!rc)
                rc = lks_buf_printf(b, cast_double ? " AS DOUBLE)" : " + 0E0)");
        } else {
            rc = lks_src_quote_ident(b, fd->name);
        }
    }
    if (!rc)
        rc = lks_buf_printf(b, " FROM ");
    if (!rc)
        rc = lks_src_quote_ident(b, r->db);
    if (!rc)
        rc = lks_buf_append_byte(b, '.');
    if (!rc)
        rc = lks_src_quote_ident(b, r->table);
    return rc;
}

static int order_by(reader *r, lks_buf *b) {
    int rc = LKS_OK;
    for (int k = 0; !rc && k < r->nkey; k++) {
        rc = lks_buf_printf(b, k ? ", " : " ORDER BY ");
        if (!rc)
            rc = lks_src_quote_ident(b, r->schema->fields[r->key[k]].name);
    }
    return rc;
}

static int server_id(lks_src_conn *c, lks_err *err) {
    if (c->server_id >= 0)
        return LKS_OK;
    MYSQL_RES *res;
    int rc = lks_src_query(c->m, c->name, "SELECT @@server_id", &res, err);
    if (rc)
        return rc;
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    if (row && row[0])
        c->server_id = strtoll(row[0], NULL, 10);
    else
        rc = lks_err_set(err, LKS_EIO, "%s: SELECT @@server_id returned nothing", c->name);
    mysql_free_result(res);
    return rc;
}

int lks_src_snapshot_table(lks_src_conn *c, const char *db, const char *table, const lks_cdc_schema *schema,
                           const int *key, int nkey, const lks_src_snapshot_opts *o, lks_src_row_cb *cb, void *ud,
                           lks_err *err) {
    if (!schema || schema->nfields < 1 || nkey < 0 || (nkey && !key) || !o || !cb)
        return lks_err_set(err, LKS_EINVAL, "%s: %s.%s: snapshot: missing schema, key or callback", c->name, db, table);
    for (int k = 0; k < nkey; k++)
        if (key[k] < 0 || key[k] >= schema->nfields)
            return lks_err_set(err, LKS_EINVAL, "%s: %s.%s: snapshot: key column %d out of range", c->name, db, table,
                               key[k]);
    int rc = server_id(c, err);
    if (rc)
        return rc;
    int64_t chunk = o->chunk_rows > 0 ? o->chunk_rows : 10000;
    int chunked = nkey > 0;
    for (int k = 0; k < nkey; k++)
        chunked &= chunkable(&schema->fields[key[k]].type);
    if (!chunked) {
        rc = lks_src_exec(c, "SET SESSION net_write_timeout = 86400", err);
        if (rc)
            return rc;
    }

    reader r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.db = db;
    r.table = table;
    r.schema = schema;
    r.key = key;
    r.nkey = nkey;
    lks_arena_init(&r.ar, 0);
    r.ktext = calloc((size_t)(nkey ? nkey : 1), sizeof *r.ktext);
    r.klen = calloc((size_t)(nkey ? nkey : 1), sizeof *r.klen);
    lks_cdc_event *ev = &r.ev;
    ev->op = LKS_CDC_READ;
    ev->schema = schema;
    ev->has_after = 1;
    ev->key = key;
    ev->nkey = nkey;
    ev->source.connector = "mysql";
    ev->source.name = o->topic_prefix ? o->topic_prefix : "lakesync";
    ev->source.db = db;
    ev->source.table = table;
    ev->source.server_id = c->server_id;
    ev->source.file = o->file;
    ev->source.pos = (int64_t)o->pos;
    ev->source.ts_us = -1;

    lks_buf sel, q;
    lks_buf_init(&sel, (size_t)1 << 24);
    lks_buf_init(&q, (size_t)1 << 24);
    if (!r.ktext || !r.klen)
        rc = lks_err_set(err, LKS_ENOMEM, "%s: out of memory", c->name);
    if (!rc && select_list(&r, &sel))
        rc = lks_err_set(err, LKS_ENOMEM, "%s: %s.%s: cannot build the select", c->name, db, table);

    int64_t rowno = 0;
    int first = 1;
    while (!rc) {
        lks_buf_reset(&q);
        int brc = lks_buf_append(&q, sel.ptr, sel.len);
        if (!brc && !first && chunked)
            brc = keyset_where(&r, &q);
        if (!brc)
            brc = order_by(&r, &q);
        if (!brc && chunked)
            brc = lks_buf_printf(&q, " LIMIT %lld", (long long)chunk);
        if (brc) {
            rc = lks_err_set(err, brc, "%s: %s.%s: cannot build the chunk query", c->name, db, table);
            break;
        }
        first = 0;
        if (mysql_real_query(c->m, (const char *)q.ptr, (unsigned long)q.len)) {
            char what[600];
            snprintf(what, sizeof what, "reading %s.%s", db, table);
            rc = lks_src_mysql_err(c->m, c->name, what, err);
            break;
        }
        MYSQL_RES *res = chunked ? mysql_store_result(c->m) : mysql_use_result(c->m);
        if (!res) {
            char what[600];
            snprintf(what, sizeof what, "reading %s.%s", db, table);
            rc = lks_src_mysql_err(c->m, c->name, what, err);
            break;
        }
        unsigned nf = mysql_num_fields(res);
        if ((int)nf != schema->nfields) {
            mysql_free_result(res);
            rc = lks_err_set(err, LKS_EINTERNAL, "%s: %s.%s: the query returned %u columns for %d", c->name, db, table,
                             nf, schema->nfields);
            break;
        }
        int64_t got = 0;
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res))) {
            unsigned long *len = mysql_fetch_lengths(res);
            if (r.held && (rc = emit(&r, LKS_SNAP_TRUE, cb, ud, err)))
                break;
            if ((rc = hold(&r, row, len, rowno, err)))
                break;
            rowno++;
            got++;
        }
        if (!rc && mysql_errno(c->m)) {
            char what[600];
            snprintf(what, sizeof what, "reading %s.%s", db, table);
            rc = lks_src_mysql_err(c->m, c->name, what, err);
        }
        mysql_free_result(res);
        if (rc || !chunked || got < chunk)
            break;
    }
    if (!rc && r.held)
        rc = emit(&r, LKS_SNAP_LAST, cb, ud, err);
    lks_buf_free(&sel);
    lks_buf_free(&q);
    lks_arena_free(&r.ar);
    free(r.ktext);
    free(r.klen);
    return rc;
}
