/* thrift.c — Thrift compact protocol writer and hostile-input reader. */
#include "parquet/thrift.h"

#include <string.h>

/* ---- writer ------------------------------------------------------------- */

void lks_thr_wr_init(lks_thr_wr *w, lks_buf *b) {
    w->b = b;
    w->rc = LKS_OK;
    w->depth = 0;
}

static void put(lks_thr_wr *w, const void *p, size_t n) {
    if (w->rc)
        return;
    w->rc = lks_buf_append(w->b, p, n);
}

static void put_byte(lks_thr_wr *w, uint8_t v) {
    if (w->rc)
        return;
    w->rc = lks_buf_append_byte(w->b, v);
}

void lks_thr_w_uvarint(lks_thr_wr *w, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put(w, tmp, n);
}

static uint64_t zigzag64(int64_t v) { return v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1; }

void lks_thr_w_struct_begin(lks_thr_wr *w) {
    if (w->rc)
        return;
    if (w->depth >= LKS_THR_MAX_DEPTH) {
        w->rc = LKS_EINTERNAL;
        return;
    }
    w->last[w->depth++] = 0;
}

void lks_thr_w_struct_end(lks_thr_wr *w) {
    if (w->rc)
        return;
    if (w->depth <= 0) {
        w->rc = LKS_EINTERNAL;
        return;
    }
    put_byte(w, LKS_THR_STOP);
    w->depth--;
}

void lks_thr_w_field(lks_thr_wr *w, int16_t id, int type) {
    if (w->rc)
        return;
    if (w->depth <= 0 || type <= 0 || type > LKS_THR_STRUCT) {
        w->rc = LKS_EINTERNAL;
        return;
    }
    int16_t *last = &w->last[w->depth - 1];
    int delta = (int)id - (int)*last;
    if (delta > 0 && delta <= 15) {
        put_byte(w, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(w, (uint8_t)type);
        lks_thr_w_uvarint(w, zigzag64(id));
    }
    *last = id;
}

void lks_thr_w_field_bool(lks_thr_wr *w, int16_t id, int v) {
    lks_thr_w_field(w, id, v ? LKS_THR_TRUE : LKS_THR_FALSE);
}

void lks_thr_w_field_i8(lks_thr_wr *w, int16_t id, int8_t v) {
    lks_thr_w_field(w, id, LKS_THR_I8);
    put_byte(w, (uint8_t)v);
}

void lks_thr_w_field_i16(lks_thr_wr *w, int16_t id, int16_t v) {
    lks_thr_w_field(w, id, LKS_THR_I16);
    lks_thr_w_uvarint(w, zigzag64(v));
}

void lks_thr_w_field_i32(lks_thr_wr *w, int16_t id, int32_t v) {
    lks_thr_w_field(w, id, LKS_THR_I32);
    lks_thr_w_uvarint(w, zigzag64(v));
}

void lks_thr_w_field_i64(lks_thr_wr *w, int16_t id, int64_t v) {
    lks_thr_w_field(w, id, LKS_THR_I64);
    lks_thr_w_uvarint(w, zigzag64(v));
}

void lks_thr_w_binary(lks_thr_wr *w, const void *p, size_t len) {
    if (len > INT32_MAX) {
        if (!w->rc)
            w->rc = LKS_EINVAL;
        return;
    }
    lks_thr_w_uvarint(w, len);
    if (len)
        put(w, p, len);
}

void lks_thr_w_field_binary(lks_thr_wr *w, int16_t id, const void *p, size_t len) {
    lks_thr_w_field(w, id, LKS_THR_BINARY);
    lks_thr_w_binary(w, p, len);
}

void lks_thr_w_field_string(lks_thr_wr *w, int16_t id, const char *s) { lks_thr_w_field_binary(w, id, s, strlen(s)); }

void lks_thr_w_field_struct(lks_thr_wr *w, int16_t id) {
    lks_thr_w_field(w, id, LKS_THR_STRUCT);
    lks_thr_w_struct_begin(w);
}

void lks_thr_w_list_header(lks_thr_wr *w, int elem_type, size_t count) {
    if (w->rc)
        return;
    if (count > INT32_MAX || elem_type <= 0 || elem_type > LKS_THR_STRUCT) {
        w->rc = LKS_EINVAL;
        return;
    }
    if (count < 15) {
        put_byte(w, (uint8_t)(count << 4 | (size_t)elem_type));
    } else {
        put_byte(w, (uint8_t)(0xF0 | elem_type));
        lks_thr_w_uvarint(w, count);
    }
}

void lks_thr_w_field_list(lks_thr_wr *w, int16_t id, int elem_type, size_t count) {
    lks_thr_w_field(w, id, LKS_THR_LIST);
    lks_thr_w_list_header(w, elem_type, count);
}

void lks_thr_w_i32(lks_thr_wr *w, int32_t v) { lks_thr_w_uvarint(w, zigzag64(v)); }
void lks_thr_w_i64(lks_thr_wr *w, int64_t v) { lks_thr_w_uvarint(w, zigzag64(v)); }

/* ---- reader --------------------------------------------------------------- */

void lks_thr_rd_init(lks_thr_rd *r, const void *p, size_t len, uint64_t base) {
    lks_cur_init(&r->cur, p, len, base);
    r->depth = 0;
    r->code = LKS_OK;
    r->what = NULL;
    r->in = NULL;
    r->field = 0;
    r->offset = 0;
}

int lks_thr_r_fail_at(lks_thr_rd *r, int code, const char *what, uint64_t offset) {
    if (r->code)
        return r->code;
    r->code = code;
    r->what = what;
    r->offset = offset;
    r->in = NULL;
    r->field = 0;
    for (int i = r->depth - 1; i >= 0; i--) {
        if (r->names[i]) {
            r->in = r->names[i];
            r->field = r->last[i];
            break;
        }
    }
    r->cur.failed = 1; /* every later read fails at once */
    return code;
}

int lks_thr_r_fail(lks_thr_rd *r, int code, const char *what) {
    return lks_thr_r_fail_at(r, code, what, lks_cur_offset(&r->cur));
}

int lks_thr_r_status(const lks_thr_rd *r, const char *ctx, lks_err *err) {
    if (!r->code)
        return LKS_OK;
    unsigned long long off = (unsigned long long)r->offset;
    if (r->in && r->field)
        return lks_err_set(err, r->code, "%s: %s in %s field %d at offset %llu", ctx, r->what, r->in, r->field, off);
    if (r->in)
        return lks_err_set(err, r->code, "%s: %s in %s at offset %llu", ctx, r->what, r->in, off);
    return lks_err_set(err, r->code, "%s: %s at offset %llu", ctx, r->what, off);
}

static int push(lks_thr_rd *r, const char *name) {
    if (r->code)
        return r->code;
    if (r->depth >= LKS_THR_MAX_DEPTH)
        return lks_thr_r_fail(r, LKS_ECORRUPT, "nesting deeper than 64 levels");
    r->names[r->depth] = name;
    r->last[r->depth] = 0;
    r->depth++;
    return LKS_OK;
}

static void pop(lks_thr_rd *r) {
    if (r->depth > 0)
        r->depth--;
}

int lks_thr_r_struct_begin(lks_thr_rd *r, const char *name) { return push(r, name ? name : "struct"); }
void lks_thr_r_struct_end(lks_thr_rd *r) { pop(r); }

uint64_t lks_thr_r_uvarint(lks_thr_rd *r, unsigned max_bits) {
    uint64_t off = lks_cur_offset(&r->cur);
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        const uint8_t *q = lks_cur_take(&r->cur, 1);
        if (!q) {
            lks_thr_r_fail_at(r, LKS_ECORRUPT, "truncated varint", off);
            return 0;
        }
        uint8_t b = *q;
        if (shift == 63 && b > 1) {
            lks_thr_r_fail_at(r, LKS_ECORRUPT, "varint overflows 64 bits", off);
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    if (max_bits < 64 && v >> max_bits) {
        lks_thr_r_fail_at(r, LKS_ECORRUPT, "varint out of range for its type", off);
        return 0;
    }
    return v;
}

int8_t lks_thr_r_i8(lks_thr_rd *r) {
    const uint8_t *q = lks_cur_take(&r->cur, 1);
    if (!q) {
        lks_thr_r_fail(r, LKS_ECORRUPT, "truncated byte");
        return 0;
    }
    return (int8_t)*q;
}

int16_t lks_thr_r_i16(lks_thr_rd *r) {
    uint32_t u = (uint32_t)lks_thr_r_uvarint(r, 16);
    return (int16_t)(uint16_t)((u >> 1) ^ (0u - (u & 1)));
}

int32_t lks_thr_r_i32(lks_thr_rd *r) {
    uint32_t u = (uint32_t)lks_thr_r_uvarint(r, 32);
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

int64_t lks_thr_r_i64(lks_thr_rd *r) {
    uint64_t u = lks_thr_r_uvarint(r, 64);
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

double lks_thr_r_double(lks_thr_rd *r) {
    const uint8_t *q = lks_cur_take(&r->cur, 8);
    if (!q) {
        lks_thr_r_fail(r, LKS_ECORRUPT, "truncated double");
        return 0;
    }
    uint64_t bits = lks_load_le64(q);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

int lks_thr_r_bool(lks_thr_rd *r, int type) {
    if (type == LKS_THR_TRUE)
        return 1;
    if (type == LKS_THR_FALSE)
        return 0;
    uint64_t off = lks_cur_offset(&r->cur);
    const uint8_t *q = lks_cur_take(&r->cur, 1);
    if (!q) {
        lks_thr_r_fail(r, LKS_ECORRUPT, "truncated bool");
        return 0;
    }
    /* elements: 1 is true; 2 (current spec) or 0 (older text) is false */
    if (*q > 2) {
        lks_thr_r_fail_at(r, LKS_ECORRUPT, "bad bool byte", off);
        return 0;
    }
    return *q == 1;
}

lks_slice lks_thr_r_binary(lks_thr_rd *r) {
    lks_slice s = {NULL, 0};
    uint64_t off = lks_cur_offset(&r->cur);
    uint64_t n = lks_thr_r_uvarint(r, 32);
    if (r->code)
        return s;
    if (n > lks_cur_left(&r->cur)) {
        lks_thr_r_fail_at(r, LKS_ECORRUPT, "binary length exceeds input", off);
        return s;
    }
    s.ptr = lks_cur_take(&r->cur, (size_t)n);
    s.len = (size_t)n;
    return s;
}

static int valid_elem_type(int t) { return t >= LKS_THR_TRUE && t <= LKS_THR_STRUCT; }

static int same_type(int a, int b) {
    if ((a == LKS_THR_TRUE || a == LKS_THR_FALSE) && (b == LKS_THR_TRUE || b == LKS_THR_FALSE))
        return 1;
    return a == b;
}

int lks_thr_r_list(lks_thr_rd *r, int want_type, size_t min_elem_bytes, int *elem_type, size_t *count) {
    *count = 0;
    if (elem_type)
        *elem_type = 0;
    if (r->code)
        return r->code;
    uint64_t off = lks_cur_offset(&r->cur);
    const uint8_t *q = lks_cur_take(&r->cur, 1);
    if (!q)
        return lks_thr_r_fail(r, LKS_ECORRUPT, "truncated list header");
    int et = *q & 15;
    uint64_t n = *q >> 4;
    if (n == 15) {
        n = lks_thr_r_uvarint(r, 32);
        if (r->code)
            return r->code;
        if (n > INT32_MAX)
            return lks_thr_r_fail_at(r, LKS_ECORRUPT, "list count out of range", off);
    }
    if (n == 0) /* writers differ on the type of an empty list */
        return LKS_OK;
    if (!valid_elem_type(et))
        return lks_thr_r_fail_at(r, LKS_ECORRUPT, "bad list element type", off);
    if (want_type >= 0 && !same_type(et, want_type))
        return lks_thr_r_fail_at(r, LKS_ECORRUPT, "unexpected list element type", off);
    if (min_elem_bytes < 1)
        min_elem_bytes = 1;
    if (n > lks_cur_left(&r->cur) / min_elem_bytes)
        return lks_thr_r_fail_at(r, LKS_ECORRUPT, "list count exceeds input", off);
    if (elem_type)
        *elem_type = et;
    *count = (size_t)n;
    return LKS_OK;
}

int lks_thr_r_field(lks_thr_rd *r, int16_t *id, int *type) {
    *id = 0;
    *type = 0;
    if (r->code)
        return 0;
    if (r->depth <= 0) {
        lks_thr_r_fail(r, LKS_EINTERNAL, "field read outside a struct");
        return 0;
    }
    uint64_t off = lks_cur_offset(&r->cur);
    const uint8_t *q = lks_cur_take(&r->cur, 1);
    if (!q) {
        lks_thr_r_fail(r, LKS_ECORRUPT, "truncated struct (no stop byte)");
        return 0;
    }
    int t = *q & 15;
    int delta = *q >> 4;
    if (t == LKS_THR_STOP) {
        if (delta)
            lks_thr_r_fail_at(r, LKS_ECORRUPT, "bad field header", off);
        return 0;
    }
    if (!valid_elem_type(t)) {
        lks_thr_r_fail_at(r, LKS_ECORRUPT, "bad field type", off);
        return 0;
    }
    int16_t *last = &r->last[r->depth - 1];
    int fid;
    if (delta) {
        fid = *last + delta;
        if (fid > INT16_MAX) {
            lks_thr_r_fail_at(r, LKS_ECORRUPT, "field id out of range", off);
            return 0;
        }
    } else {
        fid = lks_thr_r_i16(r);
        if (r->code)
            return 0;
    }
    *last = (int16_t)fid;
    *id = (int16_t)fid;
    *type = t;
    return 1;
}

static int skip_value(lks_thr_rd *r, int type, int in_list) {
    if (r->code)
        return r->code;
    switch (type) {
    case LKS_THR_TRUE:
    case LKS_THR_FALSE:
        if (in_list)
            lks_thr_r_bool(r, -1);
        break;
    case LKS_THR_I8: lks_thr_r_i8(r); break;
    case LKS_THR_I16:
    case LKS_THR_I32:
    case LKS_THR_I64: lks_thr_r_uvarint(r, 64); break;
    case LKS_THR_DOUBLE: lks_thr_r_double(r); break;
    case LKS_THR_BINARY: lks_thr_r_binary(r); break;
    case LKS_THR_LIST:
    case LKS_THR_SET: {
        if (push(r, NULL))
            break;
        int et;
        size_t n;
        if (lks_thr_r_list(r, -1, 1, &et, &n) == LKS_OK)
            for (size_t i = 0; i < n && !r->code; i++)
                skip_value(r, et, 1);
        pop(r);
        break;
    }
    case LKS_THR_MAP: {
        if (push(r, NULL))
            break;
        uint64_t off = lks_cur_offset(&r->cur);
        uint64_t n = lks_thr_r_uvarint(r, 32);
        if (n && !r->code) {
            uint8_t kv = lks_cur_u8(&r->cur);
            int kt = kv >> 4, vt = kv & 15;
            if (r->cur.failed)
                lks_thr_r_fail(r, LKS_ECORRUPT, "truncated map header");
            else if (!valid_elem_type(kt) || !valid_elem_type(vt))
                lks_thr_r_fail_at(r, LKS_ECORRUPT, "bad map key/value type", off);
            else if (n > lks_cur_left(&r->cur) / 2)
                lks_thr_r_fail_at(r, LKS_ECORRUPT, "map count exceeds input", off);
            for (uint64_t i = 0; i < n && !r->code; i++) {
                skip_value(r, kt, 1);
                skip_value(r, vt, 1);
            }
        }
        pop(r);
        break;
    }
    case LKS_THR_STRUCT: {
        if (push(r, "unknown struct"))
            break;
        int16_t id;
        int t;
        while (lks_thr_r_field(r, &id, &t))
            skip_value(r, t, 0);
        pop(r);
        break;
    }
    default: lks_thr_r_fail(r, LKS_ECORRUPT, "bad wire type"); break;
    }
    return r->code;
}

int lks_thr_r_skip(lks_thr_rd *r, int type) { return skip_value(r, type, 0); }
int lks_thr_r_skip_elem(lks_thr_rd *r, int type) { return skip_value(r, type, 1); }

int lks_thr_r_expect(lks_thr_rd *r, int type, int want) {
    if (same_type(type, want))
        return 1;
    lks_thr_r_fail(r, LKS_ECORRUPT, "wrong wire type for a known field");
    return 0;
}
