/*
 * dbz_write.c — writes change events as Debezium's MySQL connector does,
 * through Kafka Connect's JsonConverter.
 *
 * Field order follows Debezium's code (2.x/3.x), which JsonConverter keeps:
 * payload before, after, source, op, ts_ms, ts_us, ts_ns, transaction (the
 * envelope builder appends the transaction block after ts_ns); source
 * version, connector, name, ts_ms, snapshot, db, sequence, ts_us, ts_ns,
 * table, server_id, gtid, file, pos, row, thread, query.  Field schemas in
 * JsonConverter's order: type, fields, optional, name, version, doc,
 * parameters, default, field.
 *
 * Values the model does not carry are written as Debezium writes them when
 * it has nothing to say: transaction null, thread null, query null,
 * sequence null; payload ts_us/ts_ns derive from ts_ms.  The source
 * "version" names lakesync.  BIGINT UNSIGNED is written in Debezium's
 * precise form (Decimal, scale 0, base64) so that 2^64-1 survives; DECIMAL,
 * TIME/DATETIME and binary columns follow the given handling modes.
 *
 * The key text (lks_dbz_write_key_text) is the same Struct through Kafka
 * Connect's SimpleHeaderConverter instead (Values.convertToString): what
 * Debezium's __debezium.oldkey/newkey headers hold under Connect's default
 * header.converter.  It differs from the JSON only where Java's toString
 * does: strings escape only backslash and '"', decimals are BigDecimal
 * text, the connect time types are java.util.Date text.
 */
#include "cdc/json_tok.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wctx {
    lks_buf *b;
    int dec, time, bin;
    int schemas;
    int text; /* values as SimpleHeaderConverter's text (lks_dbz_write_key_text) */
    lks_buf tmp;
    lks_err *err;
} wctx;

#define PUT(w, lit) lks_buf_append((w)->b, lit, sizeof(lit) - 1)

static int put_str(wctx *w, const char *s) { return lks_json_quote(w->b, s ? s : "", s ? strlen(s) : 0); }

/* Room for n more bytes at the end of the output: where they go (the
 * caller then adds what it wrote to len), or NULL (the buffer is freed, as
 * lks_buf does on any failure). */
static inline char *room(wctx *w, size_t n) { return lks_buf_reserve(w->b, n) ? NULL : (char *)w->b->ptr + w->b->len; }

/* Integers are written straight into the output: printf's format parsing
 * costs more than the digits, and timestamps have 13 to 19 of them. */
static int put_i64(wctx *w, int64_t v) {
    char *o = room(w, 20);
    if (!o)
        return -1;
    w->b->len += (size_t)(lks_put_i64(o, v) - o);
    return 0;
}

/* `<k_us>U<k_ns>N` for a time in microseconds, N = U·1000 sharing U's
 * digits. */
static int put_us_ns(wctx *w, const char *k_us, const char *k_ns, int64_t us) {
    char t[24], *e = lks_put_i64(t, us);
    size_t n = (size_t)(e - t);
    if (lks_buf_append(w->b, k_us, strlen(k_us)) || lks_buf_append(w->b, t, n) ||
        lks_buf_append(w->b, k_ns, strlen(k_ns)))
        return -1;
    if (us <= 0 || us > INT64_MAX / 1000) /* 0 has no digits to share; overflow clamps */
        return put_i64(w, us <= 0 ? (us < INT64_MIN / 1000 ? INT64_MIN : us * 1000) : INT64_MAX);
    return lks_buf_append(w->b, t, n) || PUT(w, "000");
}

/* Milliseconds as microseconds, clamped where they would overflow. */
static int64_t ms_to_us(int64_t ms) {
    return ms > INT64_MAX / 1000 ? INT64_MAX : ms < INT64_MIN / 1000 ? INT64_MIN : ms * 1000;
}

static int nomem(wctx *w) { return lks_err_set(w->err, LKS_ENOMEM, "cdc: output buffer cap or memory exhausted"); }

/* ---- schemas --------------------------------------------------------------------- */

/* Connect type, logical name and parameters of a column under the modes. */
typedef struct spell {
    const char *type, *name;
    int version;
    const char *doc;
    char params[160];
    int struct_kind; /* 1 geometry, 2 point, 3 variable-scale decimal */
} spell;

/* The unit a TIME or DATETIME value is written in under the time mode:
 * milliseconds (the connect types, and precision 0..3 where the mode is
 * adaptive — always for DATETIME), nanoseconds past precision 6, else
 * microseconds.  spell_of names it; put_value scales to it. */
enum { TU_MILLI, TU_MICRO, TU_NANO };
static int time_unit(const wctx *w, const lks_cdc_type *t) {
    if (w->time == DBZ_TIME_CONNECT ||
        (t->precision >= 0 && t->precision <= 3 && (t->kind == LKS_CT_DATETIME || w->time == DBZ_TIME_ADAPTIVE)))
        return TU_MILLI;
    return t->precision > 6 ? TU_NANO : TU_MICRO;
}

static void spell_of(const wctx *w, const lks_cdc_field *f, spell *sp) {
    const lks_cdc_type *t = &f->type;
    memset(sp, 0, sizeof *sp);
    sp->version = 1;
    switch (t->kind) {
    case LKS_CT_BOOL: sp->type = "boolean"; break;
    case LKS_CT_INT8:
    case LKS_CT_INT16:
        if (t->detail == LKS_CD_YEAR)
            sp->type = "int32", sp->name = "io.debezium.time.Year";
        else
            sp->type = "int16"; /* Debezium widens TINYINT to INT16 */
        break;
    case LKS_CT_INT32: sp->type = "int32"; break;
    case LKS_CT_INT64: sp->type = "int64"; break;
    case LKS_CT_UINT64:
        sp->type = "bytes", sp->name = "org.apache.kafka.connect.data.Decimal";
        snprintf(sp->params, sizeof sp->params, "{\"scale\":\"0\"}");
        break;
    case LKS_CT_FLOAT: sp->type = "float"; break;
    case LKS_CT_DOUBLE: sp->type = "double"; break;
    case LKS_CT_DECIMAL:
        if (w->dec == DBZ_DEC_DOUBLE)
            sp->type = "double";
        else if (w->dec == DBZ_DEC_STRING)
            sp->type = "string";
        else if (t->precision <= 0)
            sp->type = "struct", sp->name = "io.debezium.data.VariableScaleDecimal", sp->doc = "Variable scaled decimal",
            sp->struct_kind = 3;
        else {
            sp->type = "bytes", sp->name = "org.apache.kafka.connect.data.Decimal";
            snprintf(sp->params, sizeof sp->params, "{\"scale\":\"%d\",\"connect.decimal.precision\":\"%d\"}", t->scale,
                     t->precision);
        }
        break;
    case LKS_CT_STRING:
        sp->type = "string";
        if (t->detail == LKS_CD_ENUM || t->detail == LKS_CD_SET)
            sp->name = t->detail == LKS_CD_ENUM ? "io.debezium.data.Enum" : "io.debezium.data.EnumSet";
        break;
    case LKS_CT_BYTES:
        if (t->detail == LKS_CD_BIT) {
            sp->type = "bytes", sp->name = "io.debezium.data.Bits";
            if (t->precision > 0) /* a length unknown is left out: any length reads back */
                snprintf(sp->params, sizeof sp->params, "{\"length\":\"%d\"}", t->precision);
        } else if (t->detail == LKS_CD_GEOMETRY) {
            sp->type = "struct", sp->name = "io.debezium.data.geometry.Geometry", sp->doc = "Geometry", sp->struct_kind = 1;
        } else if (t->detail == LKS_CD_POINT) {
            sp->type = "struct", sp->name = "io.debezium.data.geometry.Point", sp->doc = "Geometry (POINT)",
            sp->struct_kind = 2;
        } else {
            sp->type = w->bin == DBZ_BIN_BYTES ? "bytes" : "string";
        }
        break;
    case LKS_CT_DATE:
        sp->type = "int32";
        sp->name = w->time == DBZ_TIME_CONNECT ? "org.apache.kafka.connect.data.Date" : "io.debezium.time.Date";
        break;
    case LKS_CT_TIME: {
        static const char *const names[] = {"io.debezium.time.Time", "io.debezium.time.MicroTime",
                                            "io.debezium.time.NanoTime"};
        int u = time_unit(w, t);
        if (w->time == DBZ_TIME_CONNECT)
            sp->type = "int32", sp->name = "org.apache.kafka.connect.data.Time";
        else
            sp->type = u == TU_MILLI ? "int32" : "int64", sp->name = names[u];
        break;
    }
    case LKS_CT_DATETIME: {
        static const char *const names[] = {"io.debezium.time.Timestamp", "io.debezium.time.MicroTimestamp",
                                            "io.debezium.time.NanoTimestamp"};
        sp->type = "int64";
        sp->name = w->time == DBZ_TIME_CONNECT ? "org.apache.kafka.connect.data.Timestamp" : names[time_unit(w, t)];
        break;
    }
    case LKS_CT_TIMESTAMP: sp->type = "string", sp->name = "io.debezium.time.ZonedTimestamp"; break;
    case LKS_CT_JSON: sp->type = "string", sp->name = "io.debezium.data.Json"; break;
    default: sp->type = NULL; break;
    }
}

static int put_field_schema(wctx *w, const lks_cdc_field *f, int force_required) {
    spell sp;
    spell_of(w, f, &sp);
    if (!sp.type)
        return lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\" has unknown type %d", f->name, f->type.kind);
    int rc = PUT(w, "{\"type\":\"") || lks_buf_append(w->b, sp.type, strlen(sp.type)) || PUT(w, "\"");
    if (sp.struct_kind == 1)
        rc = rc || PUT(w, ",\"fields\":[{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},"
                          "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]");
    else if (sp.struct_kind == 2)
        rc = rc || PUT(w, ",\"fields\":[{\"type\":\"double\",\"optional\":false,\"field\":\"x\"},"
                          "{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},"
                          "{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},"
                          "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]");
    else if (sp.struct_kind == 3)
        rc = rc || PUT(w, ",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
                          "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]");
    int opt = f->type.optional && !force_required;
    rc = rc || (opt ? PUT(w, ",\"optional\":true") : PUT(w, ",\"optional\":false"));
    if (sp.name)
        rc = rc || PUT(w, ",\"name\":") || put_str(w, sp.name) || lks_buf_printf(w->b, ",\"version\":%d", sp.version);
    if (sp.doc)
        rc = rc || PUT(w, ",\"doc\":") || put_str(w, sp.doc);
    if (sp.params[0])
        rc = rc || PUT(w, ",\"parameters\":") || lks_buf_append(w->b, sp.params, strlen(sp.params));
    else if (f->type.detail == LKS_CD_ENUM || f->type.detail == LKS_CD_SET)
        rc = rc || PUT(w, ",\"parameters\":{\"allowed\":") || put_str(w, f->allowed ? f->allowed : "") || PUT(w, "}");
    rc = rc || PUT(w, ",\"field\":") || put_str(w, f->name) || PUT(w, "}");
    return rc ? nomem(w) : LKS_OK;
}

/* "<server>.<db>.<table>" as Debezium names a table's schemas. */
static int put_schema_name(wctx *w, const lks_cdc_event *ev, const char *suffix) {
    const lks_cdc_source *s = &ev->source;
    char name[512];
    snprintf(name, sizeof name, "%s.%s.%s.%s", s->name ? s->name : "lakesync", s->db ? s->db : "",
             s->table ? s->table : "", suffix);
    return put_str(w, name);
}

static int put_row_schema(wctx *w, const lks_cdc_event *ev, const char *field) {
    if (PUT(w, "{\"type\":\"struct\",\"fields\":["))
        return nomem(w);
    for (int i = 0; ev->schema && i < ev->schema->nfields; i++) {
        if (i && PUT(w, ","))
            return nomem(w);
        int rc = put_field_schema(w, &ev->schema->fields[i], 0);
        if (rc)
            return rc;
    }
    if (PUT(w, "],\"optional\":true,\"name\":") || put_schema_name(w, ev, "Value") || PUT(w, ",\"field\":") ||
        put_str(w, field) || PUT(w, "}"))
        return nomem(w);
    return LKS_OK;
}

static const char SOURCE_SCHEMA[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
    "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
    "\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"},"
    "\"default\":\"false\",\"field\":\"snapshot\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"table\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"server_id\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"gtid\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"file\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"pos\"},"
    "{\"type\":\"int32\",\"optional\":false,\"field\":\"row\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"thread\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"query\"}"
    "],\"optional\":false,\"name\":\"io.debezium.connector.mysql.Source\",\"version\":1,\"field\":\"source\"}";

static const char ENVELOPE_TAIL[] =
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}"
    "],\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}";

static int put_envelope_schema(wctx *w, const lks_cdc_event *ev) {
    int rc;
    if (PUT(w, "{\"type\":\"struct\",\"fields\":["))
        return nomem(w);
    if ((rc = put_row_schema(w, ev, "before")) != 0)
        return rc;
    if (PUT(w, ","))
        return nomem(w);
    if ((rc = put_row_schema(w, ev, "after")) != 0)
        return rc;
    if (PUT(w, ",") || lks_buf_append(w->b, SOURCE_SCHEMA, sizeof SOURCE_SCHEMA - 1) || PUT(w, ",") ||
        lks_buf_append(w->b, ENVELOPE_TAIL, sizeof ENVELOPE_TAIL - 1) || PUT(w, "],\"optional\":false,\"name\":") ||
        put_schema_name(w, ev, "Envelope") || PUT(w, ",\"version\":2}"))
        return nomem(w);
    return LKS_OK;
}

/* ---- values ------------------------------------------------------------------------- */

/* Base64 (padded; '-' and '_' for 62 and 63 when url) as a JSON string,
 * written straight into the output. */
static int put_b64(wctx *w, const uint8_t *p, size_t n, int url) {
    static const char alpha[2][65] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"};
    const char *al = alpha[url ? 1 : 0];
    if (n > SIZE_MAX / 2)
        return -1;
    char *o = room(w, (n + 2) / 3 * 4 + 2), *start = o;
    if (!o)
        return -1;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3, o += 4) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[0] = al[v >> 18], o[1] = al[v >> 12 & 63], o[2] = al[v >> 6 & 63], o[3] = al[v & 63];
    }
    if (n - i) {
        uint32_t v = (uint32_t)p[i] << 16 | (n - i == 2 ? (uint32_t)p[i + 1] << 8 : 0);
        o[0] = al[v >> 18], o[1] = al[v >> 12 & 63];
        o[2] = n - i == 2 ? al[v >> 6 & 63] : '=';
        o[3] = '=';
        o += 4;
    }
    *o++ = '"';
    w->b->len += (size_t)(o - start);
    return 0;
}

static int put_hex(wctx *w, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    if (PUT(w, "\"") || lks_buf_reserve(w->b, n * 2))
        return -1;
    for (size_t i = 0; i < n; i++) {
        w->b->ptr[w->b->len++] = (uint8_t)hx[p[i] >> 4];
        w->b->ptr[w->b->len++] = (uint8_t)hx[p[i] & 15];
    }
    return PUT(w, "\"");
}

/* Java's Double.toString / Float.toString layout (what Jackson writes) of
 * the shortest round-trip digits: plain with at least one fraction digit
 * for 1e-3 <= |v| < 1e7, else d.dddE[-]n. */
static int java_layout(char *out, const char *t, int n) {
    int neg = t[0] == '-', i = neg, intlen = -1, idx = 0, nd = 0, e10 = 0, ex = 0;
    char dig[40];
    for (; i < n && t[i] != 'e' && t[i] != 'E'; i++) {
        if (t[i] == '.') {
            intlen = idx;
            continue;
        }
        if (nd == 0 && t[i] == '0') {
            idx++;
            continue;
        }
        if (nd == 0)
            e10 = -idx; /* completed below once intlen is known */
        if (nd < 39)
            dig[nd++] = t[i];
        idx++;
    }
    if (intlen < 0)
        intlen = idx;
    if (i < n)
        ex = atoi(t + i + 1);
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    if (nd == 0) {
        dig[nd++] = '0';
        e10 = 0;
    } else {
        e10 = e10 + intlen - 1 + ex;
    }
    int o = 0;
    if (neg)
        out[o++] = '-';
    if (e10 >= -3 && e10 < 7) {
        if (e10 < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int k = -1; k > e10; k--)
                out[o++] = '0';
            for (int k = 0; k < nd; k++)
                out[o++] = dig[k];
        } else {
            for (int k = 0; k <= e10; k++)
                out[o++] = k < nd ? dig[k] : '0';
            out[o++] = '.';
            if (nd > e10 + 1)
                for (int k = e10 + 1; k < nd; k++)
                    out[o++] = dig[k];
            else
                out[o++] = '0';
        }
    } else {
        out[o++] = dig[0];
        out[o++] = '.';
        if (nd > 1)
            for (int k = 1; k < nd; k++)
                out[o++] = dig[k];
        else
            out[o++] = '0';
        o += snprintf(out + o, 16, "E%d", e10);
    }
    out[o] = 0;
    return o;
}

static int put_f64(wctx *w, double v, int single) {
    char t[40], j[64];
    int n = single ? lks_fmt_float(t, (float)v) : lks_fmt_double(t, v);
    if (isnan(v) || isinf(v))
        return PUT(w, "\"") || lks_buf_append(w->b, t, (size_t)n) || PUT(w, "\"");
    n = java_layout(j, t, n);
    return lks_buf_append(w->b, j, (size_t)n);
}

/* The decimal's unscaled bytes at `scale` (rescaled exactly when needed). */
static int dec_at_scale(wctx *w, const lks_cdc_field *f, const lks_cdc_value *v, int scale, uint8_t *out, size_t *len) {
    if (v->u.dec.len == 0 || v->u.dec.len > DBZ_DEC_MAX)
        return lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\": bad decimal width %zu", f->name, v->u.dec.len);
    if (v->u.dec.scale == scale) {
        memcpy(out, v->u.dec.be, v->u.dec.len);
        *len = v->u.dec.len;
        return LKS_OK;
    }
    lks_buf_reset(&w->tmp);
    if (lks_fmt_decimal_be(&w->tmp, v->u.dec.be, v->u.dec.len, v->u.dec.scale))
        return nomem(w);
    int r = lks_dbz_dec_from_text((const char *)w->tmp.ptr, w->tmp.len, scale, out, len, NULL);
    if (r)
        return lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\": decimal %.*s does not fit scale %d", f->name,
                           (int)w->tmp.len, (const char *)w->tmp.ptr, scale);
    return LKS_OK;
}

static int put_timestamp(wctx *w, int64_t us, int fsp) {
    char t[48];
    int n = lks_fmt_timestamp_us(t, us, 1); /* ...SS.ffffffZ */
    char *dot = memchr(t, '.', (size_t)n);
    if (dot) {
        int keep;
        if (fsp > 0)
            keep = fsp > 6 ? 6 : fsp;
        else {
            keep = 6;
            while (keep > 0 && dot[keep] == '0')
                keep--;
        }
        size_t head = (size_t)(dot - t) + (keep ? (size_t)keep + 1 : 0);
        t[head] = 'Z';
        n = (int)head + 1;
    }
    return PUT(w, "\"") || lks_buf_append(w->b, t, (size_t)n) || PUT(w, "\"");
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0); }

/* ---- SimpleHeaderConverter text ------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), 0 when it is not one. */
static int utf8_len(const uint8_t *s, size_t left) {
    uint8_t c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (size_t)n > left || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4))
        return 0;
    for (int k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)))
        return 0; /* overlong, surrogate */
    if (n == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)))
        return 0;
    return n;
}

/* A string as Values.append writes an embedded one: in quotes, backslash
 * and '"' escaped, nothing else (bytes that are not UTF-8 become U+FFFD, as
 * the decoding into a Java string makes them). */
static int put_java_str(wctx *w, const char *s, size_t len) {
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    if (PUT(w, "\""))
        return -1;
    while (p < end) {
        int n = utf8_len(p, (size_t)(end - p));
        if (n == 1 && (*p == '\\' || *p == '"')) {
            if (lks_buf_append_byte(w->b, '\\') || lks_buf_append_byte(w->b, *p))
                return -1;
        } else if (n == 0) {
            if (PUT(w, "\xEF\xBF\xBD"))
                return -1;
            n = 1;
        } else if (lks_buf_append(w->b, p, (size_t)n)) {
            return -1;
        }
        p += n;
    }
    return PUT(w, "\"");
}

/* Java's BigDecimal.toString of a value at `scale` >= 0 given as the plain
 * text lks_fmt_decimal_be writes: plain unless the adjusted exponent
 * -scale + (digits - 1) is below -6, then d.dddE-n ("0E-10" for a zero). */
static int put_big_decimal(wctx *w, const char *plain, size_t n, int scale) {
    char dig[100];
    int nd = 0, neg = n && plain[0] == '-';
    for (size_t i = (size_t)neg; i < n; i++)
        if (plain[i] != '.' && (nd || plain[i] != '0') && nd < (int)sizeof dig)
            dig[nd++] = plain[i];
    if (!nd)
        dig[nd++] = '0';
    int adjusted = -scale + (nd - 1);
    if (adjusted >= -6)
        return lks_buf_append(w->b, plain, n);
    if ((neg && PUT(w, "-")) || lks_buf_append_byte(w->b, (uint8_t)dig[0]) ||
        (nd > 1 && (PUT(w, ".") || lks_buf_append(w->b, dig + 1, (size_t)nd - 1))))
        return -1;
    return lks_buf_printf(w->b, "E%d", adjusted);
}

/* A java.util.Date as Values.append writes it (SimpleDateFormat in UTC, not
 * quoted): before the second day of 1970 the time of day "HH:mm:ss.SSSZ",
 * whole days "yyyy-MM-dd", else "yyyy-MM-ddTHH:mm:ss.SSSZ". */
static int put_java_date(wctx *w, int64_t ms) {
    const int64_t day = 86400000;
    int64_t days = floor_div(ms, day), t = ms - days * day;
    if (ms >= day) {
        char d[32];
        int n = lks_fmt_date(d, days);
        if (lks_buf_append(w->b, d, (size_t)n))
            return -1;
        if (t == 0)
            return 0;
        if (PUT(w, "T"))
            return -1;
    }
    return lks_buf_printf(w->b, "%02d:%02d:%02d.%03dZ", (int)(t / 3600000), (int)(t / 60000 % 60), (int)(t / 1000 % 60),
                          (int)(t % 1000));
}

/* Values whose SimpleHeaderConverter text differs from their JSON: 1 with
 * the text written (*rc the status), 0 when the JSON form is the text. */
static int put_text_value(wctx *w, const lks_cdc_field *f, const lks_cdc_value *v, int *rc) {
    const lks_cdc_type *t = &f->type;
    *rc = 0;
    switch (t->kind) {
    case LKS_CT_STRING:
    case LKS_CT_JSON: *rc = put_java_str(w, (const char *)v->u.bytes.ptr, v->u.bytes.len) ? nomem(w) : 0; return 1;
    case LKS_CT_UINT64: /* a BigDecimal of scale 0 */
        *rc = lks_buf_printf(w->b, "%llu", (unsigned long long)v->u.u64) ? nomem(w) : 0;
        return 1;
    case LKS_CT_FLOAT:
    case LKS_CT_DOUBLE: {
        double d = v->u.f64;
        if (!isnan(d) && !isinf(d))
            return 0;
        const char *s = isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
        *rc = lks_buf_append(w->b, s, strlen(s)) ? nomem(w) : 0;
        return 1;
    }
    case LKS_CT_DECIMAL: {
        if (w->dec == DBZ_DEC_DOUBLE || (w->dec == DBZ_DEC_PRECISE && t->precision <= 0))
            return 0; /* a Double; a struct {scale, value} */
        uint8_t be[DBZ_DEC_MAX + 1];
        size_t len = v->u.dec.len;
        int scale = v->u.dec.scale;
        const uint8_t *src = v->u.dec.be;
        if (w->dec == DBZ_DEC_PRECISE) {
            if ((*rc = dec_at_scale(w, f, v, t->scale, be, &len)) != 0)
                return 1;
            src = be;
            scale = t->scale;
        } else if (len == 0 || len > DBZ_DEC_MAX) {
            *rc = lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\": bad decimal width %zu", f->name, len);
            return 1;
        }
        lks_buf_reset(&w->tmp);
        if (lks_fmt_decimal_be(&w->tmp, src, len, scale)) {
            *rc = nomem(w);
            return 1;
        }
        if (w->dec == DBZ_DEC_STRING)
            *rc = put_java_str(w, (const char *)w->tmp.ptr, w->tmp.len) ? nomem(w) : 0;
        else
            *rc = put_big_decimal(w, (const char *)w->tmp.ptr, w->tmp.len, scale) ? nomem(w) : 0;
        return 1;
    }
    case LKS_CT_DATE:
    case LKS_CT_TIME:
    case LKS_CT_DATETIME: {
        if (w->time != DBZ_TIME_CONNECT)
            return 0;
        int64_t x = v->u.i64;
        if (t->kind == LKS_CT_DATE && (x > INT64_MAX / 86400000 || x < INT64_MIN / 86400000)) {
            *rc = lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\": date out of range", f->name);
            return 1;
        }
        *rc = put_java_date(w, t->kind == LKS_CT_DATE ? x * 86400000 : floor_div(x, 1000)) ? nomem(w) : 0;
        return 1;
    }
    default: return 0;
    }
}

static int put_value(wctx *w, const lks_cdc_field *f, const lks_cdc_value *v) {
    const lks_cdc_type *t = &f->type;
    if (v->kind == LKS_CV_NULL)
        return PUT(w, "null") ? nomem(w) : LKS_OK;
    int rc = 0, want;
    switch (t->kind) {
    case LKS_CT_BOOL: want = LKS_CV_BOOL; break;
    case LKS_CT_UINT64: want = LKS_CV_UINT; break;
    case LKS_CT_FLOAT:
    case LKS_CT_DOUBLE: want = LKS_CV_DOUBLE; break;
    case LKS_CT_DECIMAL: want = LKS_CV_DECIMAL; break;
    case LKS_CT_STRING:
    case LKS_CT_BYTES:
    case LKS_CT_JSON: want = LKS_CV_BYTES; break;
    default: want = LKS_CV_INT; break;
    }
    if (v->kind != want)
        return lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\": value kind %d does not match its type %d", f->name,
                           v->kind, t->kind);
    if (w->text && put_text_value(w, f, v, &rc))
        return rc;
    uint8_t be[DBZ_DEC_MAX + 1];
    size_t len;
    switch (t->kind) {
    case LKS_CT_BOOL: rc = v->u.b ? PUT(w, "true") : PUT(w, "false"); break;
    case LKS_CT_INT8:
    case LKS_CT_INT16:
    case LKS_CT_INT32:
    case LKS_CT_INT64:
    case LKS_CT_DATE: rc = put_i64(w, v->u.i64); break;
    case LKS_CT_UINT64: {
        be[0] = 0;
        for (int k = 0; k < 8; k++)
            be[1 + k] = (uint8_t)(v->u.u64 >> (56 - 8 * k));
        size_t off = lks_dbz_dec_trim(be, 9);
        rc = put_b64(w, be + off, 9 - off, 0);
        break;
    }
    case LKS_CT_FLOAT:
    case LKS_CT_DOUBLE: rc = put_f64(w, v->u.f64, t->kind == LKS_CT_FLOAT); break;
    case LKS_CT_DECIMAL:
        if (w->dec != DBZ_DEC_PRECISE) {
            lks_buf_reset(&w->tmp);
            if (lks_fmt_decimal_be(&w->tmp, v->u.dec.be, v->u.dec.len, v->u.dec.scale) || lks_buf_cstr(&w->tmp))
                return nomem(w);
            if (w->dec == DBZ_DEC_STRING)
                rc = lks_json_quote(w->b, (const char *)w->tmp.ptr, w->tmp.len);
            else
                rc = put_f64(w, strtod((const char *)w->tmp.ptr, NULL), 0);
        } else if (t->precision <= 0) {
            if (v->u.dec.len == 0 || v->u.dec.len > DBZ_DEC_MAX)
                return lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\": bad decimal width", f->name);
            rc = lks_buf_printf(w->b, "{\"scale\":%d,\"value\":", v->u.dec.scale) ||
                 put_b64(w, v->u.dec.be, v->u.dec.len, 0) || PUT(w, "}");
        } else if (v->u.dec.scale == t->scale && v->u.dec.len > 0 && v->u.dec.len <= DBZ_DEC_MAX) {
            rc = put_b64(w, v->u.dec.be, v->u.dec.len, 0); /* at the column's scale already */
        } else {
            int e = dec_at_scale(w, f, v, t->scale, be, &len);
            if (e)
                return e;
            rc = put_b64(w, be, len, 0);
        }
        break;
    case LKS_CT_STRING:
    case LKS_CT_JSON: rc = lks_json_quote(w->b, (const char *)v->u.bytes.ptr, v->u.bytes.len); break;
    case LKS_CT_BYTES:
        if (t->detail == LKS_CD_BIT) { /* big-endian → Debezium's little-endian */
            size_t n = v->u.bytes.len;
            uint8_t *le = malloc(n ? n : 1);
            if (!le)
                return nomem(w);
            for (size_t k = 0; k < n; k++)
                le[k] = v->u.bytes.ptr[n - 1 - k];
            rc = put_b64(w, le, n, 0);
            free(le);
        } else if (t->detail == LKS_CD_GEOMETRY) {
            rc = PUT(w, "{\"wkb\":") || put_b64(w, v->u.bytes.ptr, v->u.bytes.len, 0) || PUT(w, ",\"srid\":null}");
        } else if (t->detail == LKS_CD_POINT) {
            double x = 0, y = 0;
            const uint8_t *q = v->u.bytes.ptr;
            if (v->u.bytes.len >= 21) { /* WKB point: order, type, x, y */
                uint64_t bx = 0, by = 0;
                for (int k = 0; k < 8; k++) {
                    int le = q[0] == 1;
                    bx |= (uint64_t)q[5 + (le ? k : 7 - k)] << (8 * k);
                    by |= (uint64_t)q[13 + (le ? k : 7 - k)] << (8 * k);
                }
                memcpy(&x, &bx, 8);
                memcpy(&y, &by, 8);
            }
            rc = PUT(w, "{\"x\":") || put_f64(w, x, 0) || PUT(w, ",\"y\":") || put_f64(w, y, 0) || PUT(w, ",\"wkb\":") ||
                 put_b64(w, v->u.bytes.ptr, v->u.bytes.len, 0) || PUT(w, ",\"srid\":null}");
        } else if (w->bin == DBZ_BIN_HEX) {
            rc = put_hex(w, v->u.bytes.ptr, v->u.bytes.len);
        } else {
            rc = put_b64(w, v->u.bytes.ptr, v->u.bytes.len, w->bin == DBZ_BIN_BASE64_URL);
        }
        break;
    case LKS_CT_TIME:
    case LKS_CT_DATETIME: {
        int64_t x = v->u.i64; /* µs */
        int u = time_unit(w, t);
        if (u == TU_MILLI)
            x = floor_div(x, 1000);
        else if (u == TU_NANO) {
            if (x > INT64_MAX / 1000 || x < INT64_MIN / 1000)
                return lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\": time out of nanosecond range", f->name);
            x *= 1000;
        }
        rc = put_i64(w, x);
        break;
    }
    case LKS_CT_TIMESTAMP: rc = put_timestamp(w, v->u.i64, t->precision); break;
    default: return lks_err_set(w->err, LKS_EINVAL, "cdc: column \"%s\": unknown type %d", f->name, t->kind);
    }
    return rc ? nomem(w) : LKS_OK;
}

/* ---- events ------------------------------------------------------------------------- */

/* One schema's field names as a row writes them, `,"name":`, quoted once:
 * a stream repeats a table's rows thousands of times. */
typedef struct names {
    const lks_cdc_schema *schema; /* NULL: a free slot */
    const lks_cdc_field *fields;
    int n;
    lks_buf text;
    size_t *off;  /* field i: text[off[i] .. off[i+1]) */
    uint8_t *how; /* field i: HOW_* */
} names;

/* How a column's values are written when they are what its type says: the
 * common cases straight into the output, the rest through put_value. */
enum { HOW_VALUE = 0, HOW_INT, HOW_INT_MS, HOW_TEXT, HOW_DECIMAL };

#define NNAMES 16

/* The strings of a source block (as written: NULL name, db and file are
 * written "", NULL connector "mysql"; NULL table and gtid null). */
enum { SRC_CONNECTOR, SRC_NAME, SRC_DB, SRC_TABLE, SRC_GTID, SRC_FILE, SRC_NSTR };
/* Its numbers as written: ts_ms, ts_us, snapshot, server_id, pos. */
enum { SRC_TS_MS, SRC_TS_US, SRC_SNAPSHOT, SRC_SERVER_ID, SRC_POS, SRC_NNUM };

struct lks_dbz_writer {
    wctx w; /* modes and scratch; b and err are set per event */
    names cache[NNAMES];
    int ncache, next_evict, last;
    /* the source block up to `"row":` of the last event, and what it was
     * made of (the strings NUL-terminated in key, NULL ones not there) */
    int head_ok;
    lks_buf head, key;
    size_t key_off[SRC_NSTR];
    int key_null[SRC_NSTR];
    int64_t key_num[SRC_NNUM];
    /* what follows the row number: thread and query, op, ts_*, transaction
     * (and the envelope's closing brace) */
    int tail_ok, tail_op;
    int64_t tail_ts;
    lks_buf tail;
};

static int put_row(wctx *w, const lks_cdc_event *ev, int has, const lks_cdc_row *row, const names *nm) {
    if (!has)
        return PUT(w, "null") ? nomem(w) : LKS_OK;
    if (!ev->schema || row->n != ev->schema->nfields)
        return lks_err_set(w->err, LKS_EINVAL, "cdc: row has %d values for %d columns", row->n,
                           ev->schema ? ev->schema->nfields : 0);
    if (PUT(w, "{"))
        return nomem(w);
    int first = 1;
    for (int i = 0; i < row->n; i++) {
        const lks_cdc_value *v = &row->v[i];
        if (v->kind == LKS_CV_ABSENT)
            continue;
        const lks_cdc_field *f = &ev->schema->fields[i];
        if (!nm) {
            if ((!first && PUT(w, ",")) || put_str(w, f->name) || PUT(w, ":"))
                return nomem(w);
            first = 0;
        } else {
            /* the name, then (mostly) the value in the same room */
            const uint8_t *name = nm->text.ptr + nm->off[i] + first; /* the first one without its comma */
            size_t nl = nm->off[i + 1] - nm->off[i] - (size_t)first;
            first = 0;
            char *o;
            switch (nm->how[i]) {
            case HOW_INT:
            case HOW_INT_MS:
                if (v->kind != LKS_CV_INT)
                    break;
                if (!(o = room(w, nl + 21)))
                    return nomem(w);
                memcpy(o, name, nl);
                int64_t x = nm->how[i] == HOW_INT ? v->u.i64 : v->u.i64 / 1000 - (v->u.i64 % 1000 < 0);
                w->b->len += (size_t)(lks_put_i64(o + nl, x) - o);
                continue;
            case HOW_DECIMAL:
                if (v->kind != LKS_CV_DECIMAL || v->u.dec.scale != f->type.scale || v->u.dec.len == 0 ||
                    v->u.dec.len > DBZ_DEC_MAX)
                    break;
                if (lks_buf_append(w->b, name, nl) || put_b64(w, v->u.dec.be, v->u.dec.len, 0))
                    return nomem(w);
                continue;
            case HOW_TEXT:
                if (v->kind != LKS_CV_BYTES)
                    break;
                if (lks_buf_append(w->b, name, nl) ||
                    lks_json_quote(w->b, (const char *)v->u.bytes.ptr, v->u.bytes.len))
                    return nomem(w);
                continue;
            default: break;
            }
            if (lks_buf_append(w->b, name, nl))
                return nomem(w);
        }
        int rc = put_value(w, f, v);
        if (rc)
            return rc;
    }
    return PUT(w, "}") ? nomem(w) : LKS_OK;
}

/* The source block up to the row number: `{"version":…,"pos":N,"row":`. */
static int put_source_head(wctx *w, const lks_cdc_event *ev) {
    static const char *const snaps[] = {"false", "true", "last", "first", "first_in_data_collection",
                                        "last_in_data_collection", "incremental"};
    const lks_cdc_source *s = &ev->source;
    int64_t ms = s->ts_ms >= 0 ? s->ts_ms : 0;
    int64_t us = s->ts_us >= 0 ? s->ts_us : ms_to_us(ms);
    int snap = s->snapshot >= 0 && s->snapshot < 7 ? s->snapshot : 0;
    int rc = PUT(w, "{\"version\":\"lakesync-" LKS_VERSION "\",\"connector\":") ||
             put_str(w, s->connector ? s->connector : "mysql") || PUT(w, ",\"name\":") || put_str(w, s->name) ||
             PUT(w, ",\"ts_ms\":") || put_i64(w, ms) || PUT(w, ",\"snapshot\":\"") ||
             lks_buf_append(w->b, snaps[snap], strlen(snaps[snap])) || PUT(w, "\",\"db\":") || put_str(w, s->db) ||
             put_us_ns(w, ",\"sequence\":null,\"ts_us\":", ",\"ts_ns\":", us) || PUT(w, ",\"table\":");
    rc = rc || (s->table ? put_str(w, s->table) : PUT(w, "null"));
    rc = rc || PUT(w, ",\"server_id\":") || put_i64(w, s->server_id) || PUT(w, ",\"gtid\":");
    rc = rc || (s->gtid ? put_str(w, s->gtid) : PUT(w, "null"));
    rc = rc || PUT(w, ",\"file\":") || put_str(w, s->file) || PUT(w, ",\"pos\":") ||
         put_i64(w, s->pos >= 0 ? s->pos : 0) || PUT(w, ",\"row\":");
    return rc ? nomem(w) : LKS_OK;
}

/* What follows the row number: the end of the source block, op, the
 * payload's ts_ms/us/ns, transaction, and the envelope's closing brace. */
static int put_tail(wctx *w, const lks_cdc_event *ev) {
    char opj[] = ",\"thread\":null,\"query\":null},\"op\":\"?\"";
    opj[sizeof opj - 3] = (char)ev->op;
    int rc = lks_buf_append(w->b, opj, sizeof opj - 1);
    if (ev->ts_ms >= 0 && ev->ts_ms <= INT64_MAX / 1000000)
        rc = rc || PUT(w, ",\"ts_ms\":") || put_i64(w, ev->ts_ms) ||
             put_us_ns(w, ",\"ts_us\":", ",\"ts_ns\":", ms_to_us(ev->ts_ms));
    else
        rc = rc || PUT(w, ",\"ts_ms\":null,\"ts_us\":null,\"ts_ns\":null");
    rc = rc || PUT(w, ",\"transaction\":null}") || (w->schemas && PUT(w, "}"));
    return rc ? nomem(w) : LKS_OK;
}

/* The quoted field names of schema s, built when the writer has not seen
 * s (at this address, with these fields) yet; NULL when out of memory. */
static const names *names_of(lks_dbz_writer *dw, const lks_cdc_schema *s) {
    names *nm = &dw->cache[dw->last];
    if (nm->schema == s && nm->fields == s->fields && nm->n == s->nfields)
        return nm;
    nm = NULL;
    for (int i = 0; i < dw->ncache; i++) {
        names *c = &dw->cache[i];
        if (c->schema == s && c->fields == s->fields && c->n == s->nfields) {
            dw->last = i;
            return c;
        }
        if (!nm && !c->schema)
            nm = c;
    }
    if (!nm)
        nm = dw->ncache < NNAMES ? &dw->cache[dw->ncache++] : &dw->cache[dw->next_evict++ % NNAMES];
    nm->schema = NULL;
    lks_buf_reset(&nm->text);
    size_t nf = (size_t)(s->nfields > 0 ? s->nfields : 0);
    size_t *off = realloc(nm->off, sizeof(size_t) * (nf + 1));
    if (!off)
        return NULL;
    nm->off = off;
    uint8_t *how = realloc(nm->how, nf + 1);
    if (!how)
        return NULL;
    nm->how = how;
    for (int i = 0; i < s->nfields; i++) {
        const lks_cdc_type *t = &s->fields[i].type;
        switch (t->kind) {
        case LKS_CT_INT8:
        case LKS_CT_INT16:
        case LKS_CT_INT32:
        case LKS_CT_INT64:
        case LKS_CT_DATE: how[i] = HOW_INT; break;
        case LKS_CT_TIME:
        case LKS_CT_DATETIME: {
            int u = time_unit(&dw->w, t);
            how[i] = u == TU_MILLI ? HOW_INT_MS : u == TU_MICRO ? HOW_INT : HOW_VALUE;
            break;
        }
        case LKS_CT_STRING:
        case LKS_CT_JSON: how[i] = HOW_TEXT; break;
        case LKS_CT_DECIMAL: how[i] = dw->w.dec == DBZ_DEC_PRECISE && t->precision > 0 ? HOW_DECIMAL : HOW_VALUE; break;
        default: how[i] = HOW_VALUE; break;
        }
        off[i] = nm->text.len;
        const char *name = s->fields[i].name ? s->fields[i].name : "";
        if (lks_buf_append_byte(&nm->text, ',') || lks_json_quote(&nm->text, name, strlen(name)) ||
            lks_buf_append_byte(&nm->text, ':'))
            return NULL;
    }
    off[s->nfields > 0 ? s->nfields : 0] = nm->text.len;
    nm->schema = s;
    nm->fields = s->fields;
    nm->n = s->nfields;
    dw->last = (int)(nm - dw->cache);
    return nm;
}

/* Whether the cached source head was made of the same strings and numbers
 * as ev's (compared by content: a caller may reuse a string's memory). */
static int head_same(const lks_dbz_writer *dw, const char *const str[SRC_NSTR], const int64_t num[SRC_NNUM]) {
    if (!dw->head_ok || memcmp(num, dw->key_num, sizeof dw->key_num) != 0)
        return 0;
    for (int i = 0; i < SRC_NSTR; i++) {
        if ((str[i] == NULL) != dw->key_null[i])
            return 0;
        if (str[i] && strcmp(str[i], (const char *)dw->key.ptr + dw->key_off[i]) != 0)
            return 0;
    }
    return 1;
}

static int head_remember(lks_dbz_writer *dw, wctx *w, const lks_cdc_event *ev, const char *const str[SRC_NSTR],
                         const int64_t num[SRC_NNUM]) {
    dw->head_ok = 0;
    lks_buf_reset(&dw->key);
    for (int i = 0; i < SRC_NSTR; i++) {
        dw->key_off[i] = dw->key.len;
        dw->key_null[i] = !str[i];
        if (str[i] && lks_buf_append(&dw->key, str[i], strlen(str[i]) + 1))
            return nomem(w);
    }
    memcpy(dw->key_num, num, sizeof dw->key_num);
    lks_buf *out = w->b;
    lks_buf_reset(&dw->head);
    w->b = &dw->head;
    int rc = put_source_head(w, ev);
    w->b = out;
    if (rc)
        return rc;
    dw->head_ok = 1;
    return LKS_OK;
}

/* The source block and what follows it, from the writer's copies when
 * they were made for the same values. */
static int put_source_cached(lks_dbz_writer *dw, wctx *w, const lks_cdc_event *ev) {
    const lks_cdc_source *s = &ev->source;
    const char *str[SRC_NSTR] = {s->connector ? s->connector : "mysql",
                                 s->name ? s->name : "",
                                 s->db ? s->db : "",
                                 s->table,
                                 s->gtid,
                                 s->file ? s->file : ""};
    int64_t ms = s->ts_ms >= 0 ? s->ts_ms : 0;
    int64_t num[SRC_NNUM] = {ms, s->ts_us >= 0 ? s->ts_us : ms_to_us(ms),
                             s->snapshot >= 0 && s->snapshot < 7 ? s->snapshot : 0, s->server_id,
                             s->pos >= 0 ? s->pos : 0};
    int rc;
    if (!head_same(dw, str, num) && (rc = head_remember(dw, w, ev, str, num)) != 0)
        return rc;
    if (!dw->tail_ok || dw->tail_op != ev->op || dw->tail_ts != ev->ts_ms) {
        dw->tail_ok = 0;
        lks_buf *out = w->b;
        lks_buf_reset(&dw->tail);
        w->b = &dw->tail;
        rc = put_tail(w, ev);
        w->b = out;
        if (rc)
            return rc;
        dw->tail_ok = 1, dw->tail_op = ev->op, dw->tail_ts = ev->ts_ms;
    }
    char *o = room(w, dw->head.len + 20 + dw->tail.len), *start = o;
    if (!o)
        return nomem(w);
    memcpy(o, dw->head.ptr, dw->head.len);
    o = lks_put_i64(o + dw->head.len, s->row >= 0 ? s->row : 0);
    memcpy(o, dw->tail.ptr, dw->tail.len);
    w->b->len += (size_t)(o + dw->tail.len - start);
    return LKS_OK;
}

/* One event; dw (may be NULL) supplies what it remembers. */
static int write_event(wctx *w, const lks_cdc_event *ev, lks_dbz_writer *dw) {
    int rc;
    if (!strchr("cudrt", ev->op) || !ev->op)
        return lks_err_set(w->err, LKS_EINVAL, "cdc: unknown op %d", ev->op);
    if (w->schemas) {
        if (PUT(w, "{\"schema\":"))
            return nomem(w);
        if ((rc = put_envelope_schema(w, ev)) != 0)
            return rc;
        if (PUT(w, ",\"payload\":"))
            return nomem(w);
    }
    const names *nm = NULL;
    if (dw && ev->schema && !(nm = names_of(dw, ev->schema)))
        return nomem(w);
    if (PUT(w, "{\"before\":"))
        return nomem(w);
    int trunc = ev->op == LKS_CDC_TRUNCATE;
    if ((rc = put_row(w, ev, trunc ? 0 : ev->has_before, &ev->before, nm)) != 0 ||
        (rc = (PUT(w, ",\"after\":") ? nomem(w) : 0)) != 0 ||
        (rc = put_row(w, ev, trunc ? 0 : ev->has_after, &ev->after, nm)) != 0 ||
        (rc = (PUT(w, ",\"source\":") ? nomem(w) : 0)) != 0)
        return rc;
    if (dw)
        return put_source_cached(dw, w, ev);
    if ((rc = put_source_head(w, ev)) != 0)
        return rc;
    if (put_i64(w, ev->source.row >= 0 ? ev->source.row : 0))
        return nomem(w);
    return put_tail(w, ev);
}

static int wctx_init(wctx *w, lks_buf *b, const lks_dbz_write_opts *o, lks_err *err) {
    memset(w, 0, sizeof *w);
    w->b = b;
    w->err = err;
    lks_buf_init(&w->tmp, 4096);
    if (o) {
        int rc;
        if ((rc = lks_dbz_mode_decimal(o->decimal_handling_mode, &w->dec, err)) ||
            (rc = lks_dbz_mode_time(o->time_precision_mode, &w->time, err)) ||
            (rc = lks_dbz_mode_binary(o->binary_handling_mode, &w->bin, err)))
            return rc;
        w->schemas = o->schemas_enable;
    }
    return LKS_OK;
}

int lks_dbz_write(lks_buf *b, const lks_cdc_event *ev, const lks_dbz_write_opts *o, lks_err *err) {
    wctx w;
    int rc = wctx_init(&w, b, o, err);
    if (rc == LKS_OK)
        rc = write_event(&w, ev, NULL);
    lks_buf_free(&w.tmp);
    return rc;
}

int lks_dbz_writer_new(const lks_dbz_write_opts *o, lks_dbz_writer **out, lks_err *err) {
    *out = NULL;
    lks_dbz_writer *dw = calloc(1, sizeof *dw);
    if (!dw)
        return lks_err_set(err, LKS_ENOMEM, "cdc: out of memory");
    int rc = wctx_init(&dw->w, NULL, o, err);
    if (rc) {
        free(dw);
        return rc;
    }
    for (int i = 0; i < NNAMES; i++)
        lks_buf_init(&dw->cache[i].text, 0);
    lks_buf_init(&dw->head, 0);
    lks_buf_init(&dw->key, 0);
    lks_buf_init(&dw->tail, 0);
    *out = dw;
    return LKS_OK;
}

void lks_dbz_writer_free(lks_dbz_writer *dw) {
    if (!dw)
        return;
    for (int i = 0; i < NNAMES; i++) {
        lks_buf_free(&dw->cache[i].text);
        free(dw->cache[i].off);
        free(dw->cache[i].how);
    }
    lks_buf_free(&dw->head);
    lks_buf_free(&dw->key);
    lks_buf_free(&dw->tail);
    lks_buf_free(&dw->w.tmp);
    free(dw);
}

void lks_dbz_writer_forget(lks_dbz_writer *dw, const lks_cdc_schema *s) {
    for (int i = 0; i < dw->ncache; i++)
        if (dw->cache[i].schema == s)
            dw->cache[i].schema = NULL;
}

int lks_dbz_writer_put(lks_dbz_writer *dw, lks_buf *b, const lks_cdc_event *ev, lks_err *err) {
    dw->w.b = b;
    dw->w.err = err;
    int rc = write_event(&dw->w, ev, dw);
    dw->w.b = NULL;
    dw->w.err = NULL;
    return rc;
}

static int write_key(lks_buf *b, const lks_cdc_event *ev, const lks_dbz_write_opts *o, int text, lks_err *err) {
    wctx w;
    int rc = wctx_init(&w, b, o, err);
    if (rc)
        return rc;
    if (text)
        w.text = 1, w.schemas = 0;
    const lks_cdc_row *row = ev->has_after ? &ev->after : ev->has_before ? &ev->before : NULL;
    if (!ev->schema || ev->nkey <= 0 || !row) {
        rc = lks_err_set(err, LKS_EINVAL, "cdc: event has no key columns or no row image");
        goto out;
    }
    for (int k = 0; k < ev->nkey; k++)
        if (ev->key[k] < 0 || ev->key[k] >= ev->schema->nfields || ev->key[k] >= row->n ||
            row->v[ev->key[k]].kind == LKS_CV_ABSENT) {
            rc = lks_err_set(err, LKS_EINVAL, "cdc: key column %d missing from the row image", ev->key[k]);
            goto out;
        }
    if (w.schemas) {
        if (PUT(&w, "{\"schema\":{\"type\":\"struct\",\"fields\":[")) {
            rc = nomem(&w);
            goto out;
        }
        for (int k = 0; k < ev->nkey; k++) {
            if (k && PUT(&w, ",")) {
                rc = nomem(&w);
                goto out;
            }
            if ((rc = put_field_schema(&w, &ev->schema->fields[ev->key[k]], 1)) != 0)
                goto out;
        }
        if (PUT(&w, "],\"optional\":false,\"name\":") || put_schema_name(&w, ev, "Key") || PUT(&w, "},\"payload\":")) {
            rc = nomem(&w);
            goto out;
        }
    }
    if (PUT(&w, "{")) {
        rc = nomem(&w);
        goto out;
    }
    for (int k = 0; k < ev->nkey; k++) {
        const lks_cdc_field *f = &ev->schema->fields[ev->key[k]];
        const char *fn = f->name ? f->name : "";
        if ((k && PUT(&w, ",")) || (text ? put_java_str(&w, fn, strlen(fn)) : put_str(&w, f->name)) || PUT(&w, ":")) {
            rc = nomem(&w);
            goto out;
        }
        if ((rc = put_value(&w, f, &row->v[ev->key[k]])) != 0)
            goto out;
    }
    rc = PUT(&w, "}") || (w.schemas && PUT(&w, "}")) ? nomem(&w) : LKS_OK;
out:
    lks_buf_free(&w.tmp);
    return rc;
}

int lks_dbz_write_key(lks_buf *b, const lks_cdc_event *ev, const lks_dbz_write_opts *o, lks_err *err) {
    return write_key(b, ev, o, 0, err);
}

int lks_dbz_write_key_text(lks_buf *b, const lks_cdc_event *ev, const lks_dbz_write_opts *o, lks_err *err) {
    return write_key(b, ev, o, 1, err);
}
