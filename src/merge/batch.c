/*
 * batch.c — collecting change events into a merge batch: the latest event
 * per primary key (merge_int.h's key encoding as the map key), stream
 * positions, truncates.
 *
 * Memory per held event: one lks_merge_entry (48 bytes), a map slot, the
 * encoded key and the serialized after image in the batch's data arena (a
 * tag byte per column plus its payload: 8 bytes per number, length-prefixed
 * bytes).  A later event of the same key reuses its row's storage when it
 * fits, so a hot key does not grow the arena.  Event column layouts are
 * interned (compared by content), so the events of one table share one.
 */
#include "merge/merge_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small helpers -------------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return LKS_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, nc * elem);
    if (!q) return LKS_ENOMEM;
    *p = q;
    *cap = nc;
    return LKS_OK;
}

static int grow_int(void **p, int *cap, int n, size_t elem) {
    size_t c = (size_t)*cap;
    int rc = grow(p, &c, (size_t)n, elem);
    *cap = (int)c;
    return rc;
}

static int find_field(const lks_cdc_schema *s, const char *name) {
    int i = lks_cdc_schema_find(s, name);
    if (i >= 0) return i;
    for (int k = 0; k < s->nfields; k++)
        if (s->fields[k].name && strcasecmp(s->fields[k].name, name) == 0) return k;
    return -1;
}

static const lks_merge_tcol *table_col(const lks_merge_batch *b, const char *name) {
    for (int i = 0; i < b->ntcols; i++)
        if (strcmp(b->tcols[i].name, name) == 0) return &b->tcols[i];
    for (int i = 0; i < b->ntcols; i++)
        if (strcasecmp(b->tcols[i].name, name) == 0) return &b->tcols[i];
    return NULL;
}

/* ---- the batch ------------------------------------------------------------------------ */

int lks_merge_batch_new(lks_delta_table *t, const lks_merge_opts *o, lks_merge_batch **out, lks_err *err) {
    *out = NULL;
    if (!t) return lks_err_set(err, LKS_EINVAL, "merge: no table");
    lks_merge_batch *b = calloc(1, sizeof *b);
    if (!b) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    b->t = t;
    lks_arena_init(&b->meta, 0);
    lks_arena_init(&b->data, 0);
    lks_arena_init(&b->conv, 0);
    lks_buf_init(&b->kbuf, 0);
    lks_buf_init(&b->rbuf, 0);
    int rc = LKS_OK;
    if (o) {
        b->datetime_as_ntz = o->datetime_as_ntz;
        if (o->ntable_properties > 0 && o->table_properties) {
            b->props = lks_arena_alloc(&b->meta, (size_t)o->ntable_properties * sizeof *b->props);
            if (!b->props) goto oom;
            for (int i = 0; i < o->ntable_properties; i++) {
                const lks_delta_kv *kv = &o->table_properties[i];
                b->props[i].key = lks_arena_strdup(&b->meta, kv->key ? kv->key : "");
                b->props[i].value = kv->value ? lks_arena_strdup(&b->meta, kv->value) : NULL;
                if (!b->props[i].key || (kv->value && !b->props[i].value)) goto oom;
            }
            b->nprops = o->ntable_properties;
        }
        if (o->nkey_columns > 0 && o->key_columns) {
            b->keys = lks_arena_alloc(&b->meta, (size_t)o->nkey_columns * sizeof *b->keys);
            if (!b->keys) goto oom;
            for (int i = 0; i < o->nkey_columns; i++) {
                if (!o->key_columns[i] || !*o->key_columns[i]) {
                    lks_merge_batch_free(b);
                    return lks_err_set(err, LKS_EINVAL, "merge: empty key column name");
                }
                if (!(b->keys[i] = lks_arena_strdup(&b->meta, o->key_columns[i]))) goto oom;
            }
            b->nkeys = o->nkey_columns;
        }
    }
    /* What the table says now: its primary key and column types, which fix
     * the types keys are encoded in. */
    lks_delta_snapshot *snap = NULL;
    lks_err e2;
    lks_err_clear(&e2);
    rc = lks_delta_snapshot_latest(t, &snap, &e2);
    if (rc == LKS_ENOTFOUND) {
        rc = LKS_OK;
    } else if (rc != LKS_OK) {
        if (err) *err = e2;
        lks_merge_batch_free(b);
        return lks_err_prefix(err, "merge: reading the table");
    } else {
        const char *pk = lks_delta_snapshot_property(snap, "lakesync.primaryKey");
        if (pk && !(b->table_pk = lks_arena_strdup(&b->meta, pk))) rc = LKS_ENOMEM;
        const lks_delta_type *root = snap->metadata.schema;
        int n = root ? root->nchildren : 0;
        b->tcols = lks_arena_alloc(&b->meta, ((size_t)n + 1) * sizeof *b->tcols);
        if (!b->tcols) rc = LKS_ENOMEM;
        for (int i = 0; i < n && rc == LKS_OK; i++) {
            memset(&b->tcols[i], 0, sizeof b->tcols[i]);
            b->tcols[i].type = root->children[i];
            b->tcols[i].type.children = NULL;
            b->tcols[i].type.nchildren = 0;
            b->tcols[i].type.physical_name = b->tcols[i].type.metadata_json = NULL;
            b->tcols[i].name = lks_arena_strdup(&b->meta, root->children[i].name ? root->children[i].name : "");
            b->tcols[i].type.name = b->tcols[i].name;
            if (!b->tcols[i].name) rc = LKS_ENOMEM;
            b->ntcols = i + 1;
        }
        lks_delta_snapshot_free(snap);
        if (rc != LKS_OK) goto oom;
        if (!b->keys && b->table_pk) { /* "a,b" */
            int n_pk = 1;
            for (const char *p = b->table_pk; *p; p++) n_pk += *p == ',';
            b->keys = lks_arena_alloc(&b->meta, (size_t)n_pk * sizeof *b->keys);
            if (!b->keys) goto oom;
            const char *p = b->table_pk;
            for (int i = 0; i < n_pk; i++) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                while (len && *p == ' ') p++, len--;
                while (len && p[len - 1] == ' ') len--;
                if (!(b->keys[i] = lks_arena_strndup(&b->meta, p, len))) goto oom;
                if (!*b->keys[i]) {
                    lks_merge_batch_free(b);
                    return lks_err_set(err, LKS_EINVAL, "merge: table property lakesync.primaryKey='%s' is malformed",
                                       pk ? pk : "");
                }
                p = c ? c + 1 : p + len;
            }
            b->nkeys = n_pk;
        }
    }
    *out = b;
    return LKS_OK;
oom:
    lks_merge_batch_free(b);
    return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
}

void lks_merge_batch_free(lks_merge_batch *b) {
    if (!b) return;
    free(b->schemas);
    for (size_t i = 0; i < b->neblk; i++) free(b->eblk[i]);
    free(b->eblk);
    free(b->slots);
    free(b->streams);
    lks_buf_free(&b->kbuf);
    lks_buf_free(&b->rbuf);
    lks_arena_free(&b->conv);
    lks_arena_free(&b->data);
    lks_arena_free(&b->meta);
    free(b);
}

static void clear_entries(lks_merge_batch *b) {
    b->nents = 0;
    b->pool = NULL;
    b->pool_left = 0;
    if (b->slots) memset(b->slots, 0, b->nslots * sizeof *b->slots);
    lks_arena_reset(&b->data);
}

void lks_merge__batch_reset(lks_merge_batch *b) {
    clear_entries(b);
    b->nstreams = 0;
    b->truncate = 0;
    b->nevents = b->ntruncates = 0;
}

void lks_merge_batch_size(const lks_merge_batch *b, int64_t *events, size_t *bytes) {
    if (events) *events = (int64_t)b->nents;
    if (bytes)
        *bytes = b->data.used_total + b->meta.used_total + b->neblk * LKS_MERGE_EBLK * sizeof(lks_merge_entry) +
                 b->nslots * sizeof *b->slots + (size_t)b->cschemas * sizeof *b->schemas + b->kbuf.cap + b->rbuf.cap;
}

int64_t lks_merge_stream_version(const lks_delta_snapshot *s, const char *stream) {
    if (!s || !stream) return -1;
    char stack[512];
    size_t n = strlen(stream);
    char *id = n + 10 <= sizeof stack ? stack : malloc(n + 10);
    if (!id) return -1;
    memcpy(id, "lakesync:", 9);
    memcpy(id + 9, stream, n + 1);
    int64_t v = lks_delta_snapshot_app_version(s, id);
    if (id != stack) free(id);
    return v;
}

/* ---- the key ---------------------------------------------------------------------------- */

/* Fixes the key column names and types at the first event that needs them. */
static int fix_keys(lks_merge_batch *b, const lks_cdc_event *ev, lks_err *err) {
    if (!b->keys) {
        if (ev->nkey <= 0 || !ev->key)
            return lks_err_set(err, LKS_EINVAL,
                               "merge: no primary key: the events carry none, the table has no lakesync.primaryKey "
                               "property and no key columns were given");
        b->keys = lks_arena_alloc(&b->meta, (size_t)ev->nkey * sizeof *b->keys);
        if (!b->keys) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        for (int i = 0; i < ev->nkey; i++) {
            int f = ev->key[i];
            if (f < 0 || f >= ev->schema->nfields || !ev->schema->fields[f].name)
                return lks_err_set(err, LKS_EINVAL, "merge: event key index %d is not a column", f);
            if (!(b->keys[i] = lks_arena_strdup(&b->meta, ev->schema->fields[f].name)))
                return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        }
        b->nkeys = ev->nkey;
    }
    b->ktypes = lks_arena_alloc(&b->meta, (size_t)b->nkeys * sizeof *b->ktypes);
    if (!b->ktypes) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    for (int i = 0; i < b->nkeys; i++) {
        lks_delta_type *kt = &b->ktypes[i];
        memset(kt, 0, sizeof *kt);
        const lks_merge_tcol *tc = table_col(b, b->keys[i]);
        int f = find_field(ev->schema, b->keys[i]);
        if (tc) {
            *kt = tc->type;
        } else if (f >= 0) {
            lks_merge__map_type(&ev->schema->fields[f].type, b->datetime_as_ntz, kt);
        } else {
            return lks_err_set(err, LKS_EINVAL, "merge: key column '%s' is neither in the table nor in the events",
                               b->keys[i]);
        }
        kt->name = b->keys[i];
        kt->field_id = -1;
        int width;
        if (lks_merge__pq_kind(kt, &width) < 0) {
            char tn[64];
            return lks_err_set(err, LKS_EINVAL, "merge: key column '%s' has type %s, which cannot be a merge key",
                               b->keys[i], lks_merge__type_name(kt, tn, sizeof tn));
        }
    }
    b->keys_fixed = 1;
    return LKS_OK;
}

static uint64_t schema_hash(const lks_cdc_schema *s) {
    uint64_t h = (uint64_t)s->nfields * 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < s->nfields; i++) {
        const lks_cdc_field *f = &s->fields[i];
        const char *nm = f->name ? f->name : "";
        h = (h ^ lks_hash(nm, strlen(nm))) * 0x100000001B3ull;
        int32_t t[4] = {f->type.kind, f->type.precision, f->type.scale, f->type.optional};
        h = (h ^ lks_hash(t, sizeof t)) * 0x100000001B3ull;
    }
    return h;
}

static int schema_equal(const lks_merge_schema *m, const lks_cdc_schema *s) {
    if (m->nfields != s->nfields) return 0;
    for (int i = 0; i < s->nfields; i++) {
        const lks_cdc_field *a = &m->fields[i], *c = &s->fields[i];
        if (strcmp(a->name, c->name ? c->name : "") != 0 || a->type.kind != c->type.kind ||
            a->type.precision != c->type.precision || a->type.scale != c->type.scale ||
            a->type.optional != c->type.optional)
            return 0;
    }
    return 1;
}

/* The interned copy of an event's schema. */
static int intern_schema(lks_merge_batch *b, const lks_cdc_schema *s, int *out, lks_err *err) {
    /* a stream mostly repeats the schema of the event before */
    if (b->last_schema >= 0 && b->last_schema < b->nschemas && schema_equal(&b->schemas[b->last_schema], s)) {
        *out = b->last_schema;
        return LKS_OK;
    }
    uint64_t h = schema_hash(s);
    for (int i = b->nschemas - 1; i >= 0; i--)
        if (b->schemas[i].hash == h && schema_equal(&b->schemas[i], s)) {
            *out = b->last_schema = i;
            return LKS_OK;
        }
    if (grow_int((void **)&b->schemas, &b->cschemas, b->nschemas, sizeof *b->schemas))
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    lks_merge_schema *m = &b->schemas[b->nschemas];
    memset(m, 0, sizeof *m);
    m->hash = h;
    m->nfields = s->nfields;
    m->fields = lks_arena_alloc(&b->meta, ((size_t)s->nfields + 1) * sizeof *m->fields);
    m->key = lks_arena_alloc(&b->meta, ((size_t)b->nkeys + 1) * sizeof *m->key);
    if (!m->fields || !m->key) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    for (int i = 0; i < s->nfields; i++) {
        m->fields[i] = s->fields[i];
        m->fields[i].name = lks_arena_strdup(&b->meta, s->fields[i].name ? s->fields[i].name : "");
        m->fields[i].allowed = NULL;
        if (!m->fields[i].name) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        if (!*m->fields[i].name) return lks_err_set(err, LKS_EINVAL, "merge: event column %d has no name", i);
    }
    for (int k = 0; k < b->nkeys; k++) {
        m->key[k] = find_field(s, b->keys[k]);
        if (m->key[k] < 0)
            return lks_err_set(err, LKS_EINVAL, "merge: an event lacks key column '%s'", b->keys[k]);
    }
    *out = b->last_schema = b->nschemas++;
    return LKS_OK;
}

/* Encodes the key of a row image into b->kbuf.  LKS_EINVAL naming the column. */
static int encode_key(lks_merge_batch *b, const lks_merge_schema *m, const lks_cdc_row *row, lks_err *err) {
    lks_buf_reset(&b->kbuf);
    lks_arena_reset(&b->conv);
    for (int k = 0; k < b->nkeys; k++) {
        int f = m->key[k];
        if (f >= row->n) return lks_err_set(err, LKS_EINVAL, "merge: row image has %d values, schema more", row->n);
        const lks_cdc_value *v = &row->v[f];
        lks_pq_value pv;
        int rc = lks_merge__conv_value(v, &b->ktypes[k], &b->conv, &pv);
        if (rc == LKS_ENOMEM) return lks_err_set(err, rc, "merge: out of memory");
        if (rc != LKS_OK || pv.kind == LKS_PQ_V_NULL) {
            char tn[64];
            return lks_err_set(err, LKS_EINVAL, "merge: key column '%s': %s value does not fit %s", b->keys[k],
                               v->kind == LKS_CV_NULL     ? "a null"
                               : v->kind == LKS_CV_ABSENT ? "an absent"
                                                          : "the",
                               lks_merge__type_name(&b->ktypes[k], tn, sizeof tn));
        }
        rc = lks_merge__key_put(&b->kbuf, &b->ktypes[k], &pv);
        if (rc != LKS_OK) return lks_err_set(err, rc, "merge: key column '%s': encoding failed", b->keys[k]);
    }
    if (b->kbuf.len > UINT32_MAX / 2) return lks_err_set(err, LKS_ELIMIT, "merge: key too long");
    return LKS_OK;
}

/* ---- rows ------------------------------------------------------------------------------- */

static int put_varint(lks_buf *o, uint64_t x) {
    uint8_t t[10];
    int n = 0;
    do {
        t[n++] = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
        x >>= 7;
    } while (x);
    return lks_buf_append(o, t, (size_t)n);
}

/* Serializes an after image into b->rbuf; LKS_EINVAL naming an ABSENT column. */
static int encode_row(lks_merge_batch *b, const lks_merge_schema *m, const lks_cdc_row *row, lks_err *err) {
    lks_buf *o = &b->rbuf;
    lks_buf_reset(o);
    int rc = LKS_OK;
    uint8_t t[8];
    for (int i = 0; i < m->nfields && rc == LKS_OK; i++) {
        const lks_cdc_value *v = &row->v[i];
        rc = lks_buf_append_byte(o, (uint8_t)v->kind);
        if (rc) break;
        switch (v->kind) {
        case LKS_CV_NULL: break;
        case LKS_CV_BOOL: rc = lks_buf_append_byte(o, v->u.b ? 1 : 0); break;
        case LKS_CV_INT:
        case LKS_CV_UINT:
            lks_store_le64(t, v->kind == LKS_CV_INT ? (uint64_t)v->u.i64 : v->u.u64);
            rc = lks_buf_append(o, t, 8);
            break;
        case LKS_CV_DOUBLE:
            memcpy(t, &v->u.f64, 8);
            rc = lks_buf_append(o, t, 8);
            break;
        case LKS_CV_DECIMAL:
            if (v->u.dec.len < 1 || v->u.dec.len > 32 || v->u.dec.scale < -32768 || v->u.dec.scale > 32767)
                return lks_err_set(err, LKS_EINVAL, "merge: column '%s': malformed decimal value", m->fields[i].name);
            t[0] = (uint8_t)(v->u.dec.scale & 0xff);
            t[1] = (uint8_t)((v->u.dec.scale >> 8) & 0xff);
            t[2] = (uint8_t)v->u.dec.len;
            rc = lks_buf_append(o, t, 3);
            if (!rc) rc = lks_buf_append(o, v->u.dec.be, v->u.dec.len);
            break;
        case LKS_CV_BYTES:
            rc = put_varint(o, v->u.bytes.len);
            if (!rc && v->u.bytes.len) rc = lks_buf_append(o, v->u.bytes.ptr, v->u.bytes.len);
            break;
        case LKS_CV_ABSENT:
            return lks_err_set(err, LKS_EINVAL,
                               "merge: column '%s' is absent from an after image (partial row images, "
                               "binlog_row_image=MINIMAL, cannot be merged as upserts)",
                               m->fields[i].name);
        default: return lks_err_set(err, LKS_EINVAL, "merge: column '%s': unknown value kind %d", m->fields[i].name,
                                    v->kind);
        }
    }
    if (rc) return lks_err_set(err, rc, "merge: out of memory");
    if (o->len > UINT32_MAX / 2) return lks_err_set(err, LKS_ELIMIT, "merge: row image too large");
    return LKS_OK;
}

void lks_merge__row_decode(const lks_merge_entry *e, lks_cdc_value *v, int n) {
    const uint8_t *p = e->row, *end = e->row + e->rlen;
    for (int i = 0; i < n; i++) {
        memset(&v[i], 0, sizeof v[i]);
        if (p >= end) continue;
        v[i].kind = *p++;
        switch (v[i].kind) {
        case LKS_CV_BOOL: v[i].u.b = *p++; break;
        case LKS_CV_INT: v[i].u.i64 = (int64_t)lks_load_le64(p), p += 8; break;
        case LKS_CV_UINT: v[i].u.u64 = lks_load_le64(p), p += 8; break;
        case LKS_CV_DOUBLE: memcpy(&v[i].u.f64, p, 8), p += 8; break;
        case LKS_CV_DECIMAL:
            v[i].u.dec.scale = (int16_t)(uint16_t)(p[0] | p[1] << 8);
            v[i].u.dec.len = p[2];
            v[i].u.dec.be = p + 3;
            p += 3 + v[i].u.dec.len;
            break;
        case LKS_CV_BYTES: {
            uint64_t len = 0;
            int sh = 0;
            while (p < end) {
                uint8_t c = *p++;
                len |= (uint64_t)(c & 0x7f) << sh;
                sh += 7;
                if (!(c & 0x80)) break;
            }
            v[i].u.bytes.ptr = p;
            v[i].u.bytes.len = (size_t)len;
            p += len;
            break;
        }
        default: break;
        }
    }
}

/* ---- the map ------------------------------------------------------------------------------ */

#define SLOT(h, j) (((h) >> 32) << 32 | (uint64_t)((j) + 1))

const lks_merge_entry *lks_merge__find(const lks_merge_batch *b, const uint8_t *key, size_t len, uint64_t hash) {
    if (!b->nslots) return NULL;
    size_t mask = b->nslots - 1;
    uint64_t tag = hash >> 32;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        uint64_t s = b->slots[i];
        if (!s) return NULL;
        if (s >> 32 != tag) continue; /* the entry need not be touched */
        const lks_merge_entry *e = LKS_MERGE_ENT(b, (uint32_t)s - 1);
        if (e->hash == hash && e->klen == len && lks_bytes_eq(e->key, key, len)) return e;
    }
}

static int rehash(lks_merge_batch *b) {
    size_t ns = b->nslots ? b->nslots * 2 : 1024;
    uint64_t *s = calloc(ns, sizeof *s);
    if (!s) return LKS_ENOMEM;
    for (size_t j = 0; j < b->nents; j++) {
        uint64_t h = LKS_MERGE_ENT(b, j)->hash;
        size_t i = h & (ns - 1);
        while (s[i]) i = (i + 1) & (ns - 1);
        s[i] = SLOT(h, j);
    }
    free(b->slots);
    b->slots = s;
    b->nslots = ns;
    return LKS_OK;
}

/* n bytes of key or row storage: byte-aligned, in 64 KiB chunks of the data arena. */
static uint8_t *pool_alloc(lks_merge_batch *b, size_t n) {
    if (n > b->pool_left) {
        size_t chunk = n > 65536 ? n : 65536;
        uint8_t *p = lks_arena_alloc(&b->data, chunk);
        if (!p) return NULL;
        if (chunk > 65536) return p; /* a large item gets its own chunk */
        b->pool = p;
        b->pool_left = chunk;
    }
    uint8_t *r = b->pool;
    b->pool += n;
    b->pool_left -= n;
    return r;
}

/* Records op ('u' with b->rbuf as the row, or 'd') for the key in b->kbuf. */
static int put_entry_h(lks_merge_batch *b, int op, int schema, uint64_t h, lks_err *err) {
    lks_merge_entry *e = (lks_merge_entry *)lks_merge__find(b, b->kbuf.ptr, b->kbuf.len, h);
    if (!e) {
        if (b->nents >= UINT32_MAX - 1) return lks_err_set(err, LKS_ELIMIT, "merge: too many keys in one batch");
        if ((b->nents + 1) * 2 > b->nslots && rehash(b)) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        if (b->nents == b->neblk * LKS_MERGE_EBLK) { /* a new block */
            lks_merge_entry **nb = realloc(b->eblk, (b->neblk + 1) * sizeof *nb);
            if (nb) b->eblk = nb;
            if (!nb || !(nb[b->neblk] = malloc(LKS_MERGE_EBLK * sizeof **nb)))
                return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
            b->neblk++;
        }
        e = LKS_MERGE_ENT(b, b->nents);
        memset(e, 0, sizeof *e);
        e->hash = h;
        e->klen = (uint32_t)b->kbuf.len;
        /* the key, and right after it room for this event's row */
        size_t rn = op == 'u' ? b->rbuf.len : 0;
        e->key = pool_alloc(b, b->kbuf.len + rn);
        if (!e->key) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        if (b->kbuf.len) memcpy(e->key, b->kbuf.ptr, b->kbuf.len);
        e->row = e->key + b->kbuf.len;
        e->rcap = (uint32_t)rn;
        size_t i = h & (b->nslots - 1);
        while (b->slots[i]) i = (i + 1) & (b->nslots - 1);
        b->slots[i] = SLOT(h, b->nents);
        b->nents++;
    }
    e->op = (uint8_t)op;
    if (op == 'd') {
        e->rlen = 0; /* keep the storage for a later upsert of the key */
        return LKS_OK;
    }
    e->schema = schema;
    size_t n = b->rbuf.len;
    if (n > e->rcap) {
        uint8_t *r = pool_alloc(b, n);
        if (!r) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
        e->row = r;
        e->rcap = (uint32_t)n;
    }
    if (n) memcpy(e->row, b->rbuf.ptr, n);
    e->rlen = (uint32_t)n;
    return LKS_OK;
}

static int put_entry(lks_merge_batch *b, int op, int schema, lks_err *err) {
    return put_entry_h(b, op, schema, lks_hash(b->kbuf.ptr, b->kbuf.len), err);
}

/* ---- adding events ------------------------------------------------------------------------ */

static int note_stream(lks_merge_batch *b, const char *stream, int64_t next_pos, lks_err *err) {
    for (int i = 0; i < b->nstreams; i++)
        if (strcmp(b->streams[i].name, stream) == 0) {
            if (next_pos > b->streams[i].next_pos) b->streams[i].next_pos = next_pos;
            return LKS_OK;
        }
    if (grow_int((void **)&b->streams, &b->cstreams, b->nstreams, sizeof *b->streams))
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    char *nm = lks_arena_strdup(&b->meta, stream);
    if (!nm) return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    b->streams[b->nstreams].name = nm;
    b->streams[b->nstreams].next_pos = next_pos;
    b->streams[b->nstreams].rebase = 0;
    b->nstreams++;
    return LKS_OK;
}

int lks_merge_batch_rebase(lks_merge_batch *b, const char *stream, int64_t next_pos, lks_err *err) {
    int rc = note_stream(b, stream, next_pos, err);
    if (rc) return rc;
    for (int i = 0; i < b->nstreams; i++)
        if (strcmp(b->streams[i].name, stream) == 0) {
            b->streams[i].next_pos = next_pos;
            b->streams[i].rebase = 1;
        }
    return LKS_OK;
}

int lks_merge_batch_add(lks_merge_batch *b, const lks_cdc_event *ev, const char *stream, int64_t next_pos,
                        lks_err *err) {
    if (stream && *stream) {
        int rc = note_stream(b, stream, next_pos, err);
        if (rc) return rc;
    }
    if (!ev) return LKS_OK; /* a record that is no row change: only the position moves */
    b->nevents++;
    if (ev->op == LKS_CDC_TRUNCATE) {
        clear_entries(b);
        b->truncate = 1;
        b->ntruncates++;
        return LKS_OK;
    }
    if (ev->op != LKS_CDC_CREATE && ev->op != LKS_CDC_UPDATE && ev->op != LKS_CDC_DELETE && ev->op != LKS_CDC_READ)
        return lks_err_set(err, LKS_EINVAL, "merge: unknown event op '%c'", ev->op > 32 && ev->op < 127 ? ev->op : '?');
    if (!ev->schema) return lks_err_set(err, LKS_EINVAL, "merge: event without a schema");
    if (!b->keys_fixed) {
        int rc = fix_keys(b, ev, err);
        if (rc) return rc;
    }
    int si = 0;
    int rc = intern_schema(b, ev->schema, &si, err);
    if (rc) return rc;
    const lks_merge_schema *m = &b->schemas[si];
    if (ev->op == LKS_CDC_DELETE) {
        if (!ev->has_before || ev->before.n != m->nfields)
            return lks_err_set(err, LKS_EINVAL, "merge: a delete event without a before image");
        rc = encode_key(b, m, &ev->before, err);
        if (rc) return rc;
        return put_entry(b, 'd', si, err);
    }
    if (!ev->has_after || ev->after.n != m->nfields)
        return lks_err_set(err, LKS_EINVAL, "merge: a '%c' event without an after image (or with %d values for %d columns)",
                           ev->op, ev->has_after ? ev->after.n : 0, m->nfields);
    if (ev->op == LKS_CDC_UPDATE && ev->has_before && ev->before.n == m->nfields) {
        /* a primary-key change: delete the old key first */
        int absent = 0;
        for (int k = 0; k < b->nkeys; k++) absent |= ev->before.v[m->key[k]].kind == LKS_CV_ABSENT;
        if (!absent) {
            rc = encode_key(b, m, &ev->before, err);
            if (rc) return rc;
            lks_buf old = b->kbuf;
            lks_buf_init(&b->kbuf, 0);
            rc = encode_key(b, m, &ev->after, err);
            int same = rc == LKS_OK && lks_bytes_cmp(old.ptr, old.len, b->kbuf.ptr, b->kbuf.len) == 0;
            lks_buf_free(&b->kbuf);
            b->kbuf = old;
            if (rc) return rc;
            if (!same) {
                rc = put_entry(b, 'd', si, err);
                if (rc) return rc;
            }
        }
    }
    rc = encode_key(b, m, &ev->after, err);
    if (rc) return rc;
    /* the key's slot is fetched from memory while the row is encoded */
    uint64_t h = lks_hash(b->kbuf.ptr, b->kbuf.len);
    if (b->nslots) __builtin_prefetch(&b->slots[h & (b->nslots - 1)]);
    rc = encode_row(b, m, &ev->after, err);
    if (!rc) rc = put_entry_h(b, 'u', si, h, err);
    return rc;
}

int lks_merge_batch_declare(lks_merge_batch *b, const lks_cdc_schema *schema, const int *key, int nkey,
                            lks_err *err) {
    if (!schema) return lks_err_set(err, LKS_EINVAL, "merge: declare without a schema");
    lks_cdc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.op = LKS_CDC_READ;
    ev.schema = schema;
    ev.key = key;
    ev.nkey = nkey;
    if (!b->keys_fixed) {
        int rc = fix_keys(b, &ev, err);
        if (rc) return rc;
    }
    int si = 0;
    return intern_schema(b, schema, &si, err);
}

int lks_merge_batch_commit(lks_merge_batch *b, lks_merge_stats *st, lks_err *err) {
    return lks_merge__batch_commit_at(b, NULL, st, err);
}
