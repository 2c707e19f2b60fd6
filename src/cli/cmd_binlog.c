/* cmd_binlog.c — `lakesync binlog FILE…`: decodes MySQL/MariaDB binlog
 * files offline (no server) and prints one line per row change. */
#include "cdc/cdc.h"
#include "cli/cli.h"
#include "source/binlog.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: lakesync binlog [--format dbz|jsonl] [--topic-prefix P] [--no-verify-checksum] FILE...\n"
    "\n"
    "Decodes MySQL/MariaDB binary log files (no server needed) and prints one line per\n"
    "row change on stdout, nothing else.  Files are read in the order given, as one\n"
    "stream (a binlog and the files it rotates to).\n"
    "\n"
    "  --format dbz     (default) the Debezium MySQL connector's JSON value, without the\n"
    "                   schema envelope; payload ts_ms is the commit time, so the output\n"
    "                   of a file is always the same\n"
    "  --format jsonl   {\"op\",\"db\",\"table\",\"before\",\"after\",\"file\",\"pos\"}: op c/u/d,\n"
    "                   images as objects (null when the op has none) with the value\n"
    "                   conventions of DESIGN.md (\"Rows as text\"); columns absent from a\n"
    "                   partial image (binlog_row_image=MINIMAL) are left out; pos is the\n"
    "                   position of the row event in its file\n"
    "  --topic-prefix P source.name of Debezium events (default lakesync)\n"
    "  --no-verify-checksum  do not check the events' CRC32\n"
    "\n"
    "Columns are named @1, @2, ... when the binlog has no column names (a server without\n"
    "binlog_row_metadata=FULL).  Errors go to stderr naming the file and position of\n"
    "the event; the exit status is then 1.\n";

enum { OUT_DBZ = 0, OUT_JSONL = 1 };

/* A table's jsonl pieces, quoted once per TABLE_MAP (rows are printed
 * thousands of times per table): `,"db":…,"table":…,"before":` and each
 * column's `"name":`. */
typedef struct tcache {
    const lks_binlog_table *t;
    lks_buf text;
    size_t *off; /* name i is text[off[i] .. off[i+1]); the head is [0, off[0]) */
    int n;
} tcache;

#define NCACHE 64

typedef struct run {
    int fmt;
    lks_buf out;
    lks_dbz_writer *dbz;
    int write_failed;
    tcache cache[NCACHE];
    int ncache, next_evict;
    char file[512]; /* the quoted file name of the last row */
    size_t filelen;
} run;

/* ---- jsonl ----------------------------------------------------------------------------------- */

#define US_PER_DAY INT64_C(86400000000)

/* Room for n more bytes at the end of b, or NULL. */
static char *room(lks_buf *b, size_t n) {
    if (b->cap - b->len < n && lks_buf_reserve(b, n))
        return NULL;
    return (char *)b->ptr + b->len;
}

static int put_lit(lks_buf *b, const char *s, size_t n) { return lks_buf_append(b, s, n); }
#define PUT(b, lit) put_lit(b, lit, sizeof(lit) - 1)

/* Decimal digits of m right-aligned ending at e; returns the start. */
static char *digits_u64(char *e, uint64_t m) {
    do {
        *--e = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    return e;
}

static int put_u64(lks_buf *b, uint64_t m) {
    char *o = room(b, 20);
    if (!o)
        return LKS_ENOMEM;
    b->len += (size_t)(lks_put_u64(o, m) - o);
    return LKS_OK;
}

static char *two(char *o, unsigned v) {
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

/* "YYYY-MM-DD" for years 0..9999 (others: the core formatter). */
static int fmt_date(char *o, int64_t days) {
    int64_t y;
    unsigned m, d;
    lks_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return lks_fmt_date(o, days);
    o = two(o, (unsigned)(y / 100));
    o = two(o, (unsigned)(y % 100));
    *o++ = '-';
    o = two(o, m);
    *o++ = '-';
    two(o, d);
    return 10;
}

/* "YYYY-MM-DDTHH:MM:SS.ffffff" (+ "Z"). */
static int fmt_ts(char *o, int64_t us, int utc) {
    int64_t days = us / US_PER_DAY, tod = us % US_PER_DAY;
    if (tod < 0)
        days--, tod += US_PER_DAY;
    int n = fmt_date(o, days);
    if (n != 10)
        return lks_fmt_timestamp_us(o, us, utc);
    char *p = o + 10;
    uint64_t secs = (uint64_t)tod / 1000000, frac = (uint64_t)tod % 1000000;
    *p++ = 'T';
    p = two(p, (unsigned)(secs / 3600));
    *p++ = ':';
    p = two(p, (unsigned)(secs / 60 % 60));
    *p++ = ':';
    p = two(p, (unsigned)(secs % 60));
    *p++ = '.';
    for (int k = 5; k >= 0; k--, frac /= 10)
        p[k] = (char)('0' + frac % 10);
    p += 6;
    if (utc)
        *p++ = 'Z';
    return (int)(p - o);
}

/* A decimal as a JSON string with exactly `scale` fraction digits. */
static int put_decimal(lks_buf *b, const lks_cdc_value *v) {
    const uint8_t *be = v->u.dec.be;
    size_t len = v->u.dec.len;
    int scale = v->u.dec.scale;
    if (len > 8 || len == 0 || scale < 0 || scale > 40)
        return lks_buf_append_byte(b, '"') || lks_fmt_decimal_be(b, be, len, scale) || lks_buf_append_byte(b, '"');
    uint64_t u = (be[0] & 0x80) ? UINT64_MAX : 0;
    for (size_t i = 0; i < len; i++)
        u = u << 8 | be[i];
    int64_t x = (int64_t)u;
    uint64_t m = x < 0 ? (uint64_t)0 - u : u;
    char t[80], *e = t + sizeof t - 1, *s = e;
    *e = '"';
    for (int k = 0; k < scale; k++, m /= 10)
        *--s = (char)('0' + m % 10);
    if (scale)
        *--s = '.';
    s = digits_u64(s, m);
    if (x < 0)
        *--s = '-';
    *--s = '"';
    return lks_buf_append(b, s, (size_t)(e + 1 - s));
}

/* One value; the caller made room for 80 bytes (all but strings, bytes
 * and wide decimals fit). */
static int put_value(lks_buf *b, const lks_cdc_field *f, const lks_cdc_value *v) {
    char *o = (char *)b->ptr + b->len, *s = o;
    int n;
    switch (v->kind) {
    case LKS_CV_NULL: memcpy(o, "null", 4), o += 4; break;
    case LKS_CV_BOOL:
        if (v->u.b)
            memcpy(o, "true", 4), o += 4;
        else
            memcpy(o, "false", 5), o += 5;
        break;
    case LKS_CV_INT:
        switch (f->type.kind) {
        case LKS_CT_DATE:
        case LKS_CT_TIME:
        case LKS_CT_DATETIME:
        case LKS_CT_TIMESTAMP:
            *o++ = '"';
            if (f->type.kind == LKS_CT_DATE)
                n = fmt_date(o, v->u.i64);
            else if (f->type.kind == LKS_CT_TIME)
                n = lks_fmt_time_us(o, v->u.i64);
            else
                n = fmt_ts(o, v->u.i64, f->type.kind == LKS_CT_TIMESTAMP);
            o += n;
            *o++ = '"';
            break;
        default: o = lks_put_i64(o, v->u.i64); break;
        }
        break;
    case LKS_CV_UINT: o = lks_put_u64(o, v->u.u64); break;
    case LKS_CV_DOUBLE: {
        int q = isnan(v->u.f64) || isinf(v->u.f64); /* "NaN", "Infinity", "-Infinity" as strings */
        if (q)
            *o++ = '"';
        o += f->type.kind == LKS_CT_FLOAT ? lks_fmt_float(o, (float)v->u.f64) : lks_fmt_double(o, v->u.f64);
        if (q)
            *o++ = '"';
        break;
    }
    case LKS_CV_DECIMAL: return put_decimal(b, v);
    case LKS_CV_BYTES:
        if (f->type.kind == LKS_CT_BYTES)
            return lks_buf_append_byte(b, '"') || lks_base64_encode(b, v->u.bytes.ptr, v->u.bytes.len) ||
                   lks_buf_append_byte(b, '"');
        return lks_json_quote(b, (const char *)v->u.bytes.ptr, v->u.bytes.len);
    default: return LKS_EINVAL;
    }
    b->len += (size_t)(o - s);
    return LKS_OK;
}

static void cache_drop(run *r, const lks_binlog_table *t) {
    for (int i = 0; i < r->ncache; i++)
        if (r->cache[i].t == t)
            r->cache[i].t = NULL;
}

/* The quoted pieces of table t, built on first use after its TABLE_MAP. */
static tcache *cache_get(run *r, const lks_binlog_table *t) {
    tcache *c = NULL;
    for (int i = 0; i < r->ncache; i++) {
        if (r->cache[i].t == t)
            return &r->cache[i];
        if (!c && !r->cache[i].t)
            c = &r->cache[i];
    }
    if (!c) {
        if (r->ncache < NCACHE) {
            c = &r->cache[r->ncache++];
            lks_buf_init(&c->text, 0);
        } else
            c = &r->cache[r->next_evict++ % NCACHE];
    }
    lks_buf_reset(&c->text);
    size_t *off = realloc(c->off, sizeof(size_t) * ((size_t)t->ncols + 1));
    if (!off)
        return NULL;
    c->off = off;
    int rc = PUT(&c->text, "\",\"db\":") || lks_json_quote(&c->text, t->db, strlen(t->db)) ||
             PUT(&c->text, ",\"table\":") || lks_json_quote(&c->text, t->table, strlen(t->table)) ||
             PUT(&c->text, ",\"before\":");
    for (int i = 0; i < t->ncols && !rc; i++) {
        off[i] = c->text.len;
        const char *name = t->schema.fields[i].name;
        rc = lks_json_quote(&c->text, name, strlen(name)) || lks_buf_append_byte(&c->text, ':');
    }
    off[t->ncols] = c->text.len;
    if (rc) {
        c->t = NULL;
        return NULL;
    }
    c->t = t;
    c->n = t->ncols;
    return c;
}

static int put_row(lks_buf *b, const tcache *c, const lks_cdc_event *ev, int has, const lks_cdc_row *row) {
    if (!has)
        return PUT(b, "null");
    int first = 1;
    if (lks_buf_append_byte(b, '{'))
        return LKS_ENOMEM;
    for (int i = 0; i < row->n && i < c->n; i++) {
        const lks_cdc_value *v = &row->v[i];
        if (v->kind == LKS_CV_ABSENT)
            continue;
        size_t nl = c->off[i + 1] - c->off[i];
        char *o = room(b, nl + 82);
        if (!o)
            return LKS_ENOMEM;
        if (!first)
            *o++ = ',', b->len++;
        first = 0;
        memcpy(o, c->text.ptr + c->off[i], nl);
        b->len += nl;
        int rc = put_value(b, &ev->schema->fields[i], v);
        if (rc)
            return rc;
    }
    return lks_buf_append_byte(b, '}');
}

static int put_jsonl(run *r, const tcache *c, const lks_cdc_event *ev, uint64_t pos) {
    lks_buf *b = &r->out;
    const char *file = ev->source.file ? ev->source.file : "";
    size_t fl = strlen(file);
    if (r->filelen < 2 || fl != r->filelen - 2 || memcmp(r->file + 1, file, fl) != 0) {
        lks_buf q;
        lks_buf_init(&q, sizeof r->file);
        if (lks_json_quote(&q, file, fl) || q.len > sizeof r->file) {
            lks_buf_free(&q);
            return LKS_ELIMIT;
        }
        memcpy(r->file, q.ptr, q.len);
        r->filelen = q.len;
        lks_buf_free(&q);
    }
    char head[] = "{\"op\":\"c";
    head[sizeof head - 2] = (char)ev->op;
    return PUT(b, head) || lks_buf_append(b, c->text.ptr, c->off[0]) ||
           put_row(b, c, ev, ev->has_before, &ev->before) || PUT(b, ",\"after\":") ||
           put_row(b, c, ev, ev->has_after, &ev->after) || PUT(b, ",\"file\":") ||
           lks_buf_append(b, r->file, r->filelen) || PUT(b, ",\"pos\":") || put_u64(b, pos) || PUT(b, "}\n");
}

/* ---- decoding ----------------------------------------------------------------------------------- */

static int on_item(void *ud, const lks_binlog_item *it, lks_err *err) {
    run *r = ud;
    if (it->kind == LKS_BL_TABLE_MAP) { /* a new table may live where an old one did */
        cache_drop(r, it->table);
        lks_dbz_writer_forget(r->dbz, &it->table->schema);
    }
    if (it->kind != LKS_BL_ROWS || !it->nevents)
        return LKS_OK;
    tcache *c = NULL;
    if (r->fmt == OUT_JSONL && !(c = cache_get(r, it->table)))
        return lks_err_set(err, LKS_ENOMEM, "binlog: output: out of memory");
    for (int i = 0; i < it->nevents; i++) {
        lks_cdc_event *ev = &it->events[i];
        int rc;
        if (r->fmt == OUT_JSONL) {
            rc = put_jsonl(r, c, ev, it->pos);
            if (rc)
                return lks_err_set(err, rc, "%s: %s.%s row of the event at %llu: output: %s",
                                   ev->source.file ? ev->source.file : "", ev->source.db, ev->source.table,
                                   (unsigned long long)it->pos, lks_strerror(rc));
        } else {
            ev->ts_ms = ev->source.ts_ms; /* the commit time: the output of a file never changes */
            rc = lks_dbz_writer_put(r->dbz, &r->out, ev, err);
            if (rc)
                return lks_err_prefix(err, "%s: %s.%s row of the event at %llu", ev->source.file ? ev->source.file : "",
                                      ev->source.db, ev->source.table, (unsigned long long)it->pos);
            if (lks_buf_append_byte(&r->out, '\n'))
                return lks_err_set(err, LKS_ENOMEM, "binlog: output: out of memory");
        }
    }
    if (r->out.len >= (1u << 20) && lks_cli_write(stdout, &r->out) != LKS_EXIT_OK) {
        r->write_failed = 1;
        return lks_err_set(err, LKS_EIO, "write error");
    }
    return LKS_OK;
}

/* A file the decoder reads piece by piece. */
typedef struct input {
    int fd;
    const char *path;
} input;

static long read_input(void *ud, uint8_t *buf, size_t cap, lks_err *err) {
    input *in = ud;
    for (;;) {
        ssize_t k = read(in->fd, buf, cap);
        if (k >= 0)
            return (long)k;
        if (errno != EINTR)
            return lks_err_set(err, LKS_EIO, "%s: %s", in->path, strerror(errno));
    }
}

int lks_cmd_binlog(int argc, char **argv) {
    const char *cmd = "binlog";
    run r;
    memset(&r, 0, sizeof r);
    lks_binlog_opts o;
    memset(&o, 0, sizeof o);
    int nfiles = 0, i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        int m;
        if (lks_cli_is_help(a)) {
            fputs(usage_text, stdout);
            return LKS_EXIT_OK;
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if ((m = lks_cli_opt_value(cmd, argc, argv, &i, "--format", &val)) != 0) {
            if (m < 0)
                return LKS_EXIT_USAGE;
            if (strcmp(val, "dbz") == 0)
                r.fmt = OUT_DBZ;
            else if (strcmp(val, "jsonl") == 0)
                r.fmt = OUT_JSONL;
            else
                return lks_cli_usage_error(cmd, "unknown --format '%s' (expected dbz or jsonl)", val);
        } else if ((m = lks_cli_opt_value(cmd, argc, argv, &i, "--topic-prefix", &val)) != 0) {
            if (m < 0)
                return LKS_EXIT_USAGE;
            o.topic_prefix = val;
        } else if (strcmp(a, "--no-verify-checksum") == 0) {
            o.skip_checksum = 1;
        } else if (a[0] == '-' && a[1]) {
            return lks_cli_usage_error(cmd, "unknown option '%s'", a);
        } else {
            argv[1 + nfiles++] = argv[i]; /* files, compacted in place */
        }
    }
    for (; i < argc; i++)
        argv[1 + nfiles++] = argv[i];
    if (!nfiles)
        return lks_cli_usage_error(cmd, "no binlog FILE given");

    lks_err err;
    lks_err_clear(&err);
    lks_binlog_decoder *d;
    if (lks_binlog_decoder_new(&o, &d, &err) != LKS_OK)
        return lks_cli_error(&err);
    if (lks_dbz_writer_new(NULL, &r.dbz, &err) != LKS_OK) {
        lks_binlog_decoder_free(d);
        return lks_cli_error(&err);
    }
    lks_buf_init(&r.out, 0);
    int status = LKS_EXIT_OK;
    for (int k = 0; k < nfiles && status == LKS_EXIT_OK; k++) {
        const char *path = argv[1 + k], *slash = strrchr(path, '/');
        /* source.file is the file's own name, as a live stream names it */
        const char *base = slash && slash[1] ? slash + 1 : path;
        input in = {open(path, O_RDONLY | O_CLOEXEC), path};
        int rc;
        if (in.fd < 0) {
            rc = lks_err_set(&err, LKS_EIO, "%s: %s", path, strerror(errno));
        } else {
            posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
            rc = lks_binlog_decode_stream(d, base, read_input, &in, 0, on_item, &r, &err);
            close(in.fd);
        }
        if (r.write_failed) {
            status = LKS_EXIT_ERR;
            break;
        }
        /* rows decoded before an error are printed first */
        if (lks_cli_write(stdout, &r.out) != LKS_EXIT_OK) {
            status = LKS_EXIT_ERR;
            break;
        }
        if (rc != LKS_OK) {
            /* the decoder names the file by its base name: print the path given */
            size_t bl = strlen(base);
            const char *msg = err.msg;
            if (base != path && strncmp(msg, base, bl) == 0 && msg[bl] == ':')
                msg += bl + 1 + (msg[bl + 1] == ' ');
            fflush(stdout);
            if (base != path && msg != err.msg)
                lks_cli_errorf("%s: %s", path, msg);
            else
                lks_cli_error(&err);
            status = LKS_EXIT_ERR;
        }
    }
    lks_buf_free(&r.out);
    for (int k = 0; k < r.ncache; k++) {
        lks_buf_free(&r.cache[k].text);
        free(r.cache[k].off);
    }
    lks_dbz_writer_free(r.dbz);
    lks_binlog_decoder_free(d);
    return status;
}
