/*
 * rawzone_merge.c — one merge pass from a raw zone (S3-sink layout) into
 * Delta tables: lks_merge_rawzone().
 *
 * Per target table (the one given, or one per topic through the warehouse
 * mapping `<prefix>.<db>.<table>` → `<db>/<table>`):
 *  - the start positions are the `txn` versions the latest snapshot holds
 *    for the streams "<topic>:<partition>" (lks_merge_stream_version); the
 *    reader starts there, so a pass reads only what the table lacks;
 *  - each record is parsed by the Debezium codec with the table's columns as
 *    the type hint (for values without the schema envelope; before the
 *    table exists, the columns of the first event that carries the
 *    envelope, so bare and enveloped events of one batch agree) and the key
 *    columns from the options, else the table property
 *    lakesync.primaryKey, else the stored Kafka keys (the first key document
 *    names them);
 *  - events go into a merge batch with next_pos = offset + 1; tombstones and
 *    records that are no row change only move the position (the batch
 *    carries it, with no event);
 *  - the batch is committed every max_batch_events records, when it holds
 *    too much memory, at the end, and when *stop is set.  Positions exist
 *    only in those commits: they are never ahead of the table.
 *
 * An undecodable record (or an event the batch refuses with LKS_EINVAL)
 * stops the pass with an error naming the object and line (what was
 * committed before stays), or, with dead_letter set, is
 * written to `<dead_letter>/<topic>+<p>+<offset>.json` in the raw store —
 * a JSON object with the position, the error and the raw key and value
 * lines as strings — and passed over (its position advances).
 *
 * Type hints from a table: Delta types map back to the codec's kinds
 * (byte → INT8, ... timestamp → TIMESTAMP (ISO text), timestamp_ntz →
 * DATETIME of unknown fsp); a field whose metadata carries
 * "lakesync.sourceType" (a MySQL column type such as "datetime(3)" or
 * "bigint unsigned", written by `lakesync merge --schema` from a CREATE
 * TABLE) is mapped from that type instead, which tells DATETIME from
 * TIMESTAMP, the fsp, and BIGINT UNSIGNED from DECIMAL(20,0).
 *
 * The per-table part (decoding, keys, hint, dead letters, batching) is the
 * record feed of merge.h, which the Kafka streaming merge shares: the
 * raw-zone pass below is one feed per topic, filled by a raw-zone reader.
 */
#include "merge/merge.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_EVENTS 1000000
#define MAX_BATCH_BYTES ((size_t)1 << 30) /* commit early past this much batch memory */
#define CHECK_EVERY 1024                  /* records between memory / progress checks */
#define PROGRESS_NS 2000000000ull         /* progress callback interval during a batch */
#define SOURCE_TYPE_KEY "lakesync.sourceType"

/* ---- type hint from a Delta schema ----------------------------------------------------------- */

/* The value of "lakesync.sourceType" in a field's metadata JSON, copied
 * lowercased into buf; 0 when absent. */
static int source_type(const char *meta, char *buf, size_t cap) {
    if (!meta)
        return 0;
    const char *p = strstr(meta, "\"" SOURCE_TYPE_KEY "\"");
    if (!p)
        return 0;
    p += strlen(SOURCE_TYPE_KEY) + 2;
    while (*p == ' ' || *p == ':')
        p++;
    if (*p != '"')
        return 0;
    p++;
    size_t n = 0;
    while (*p && *p != '"' && n + 1 < cap)
        buf[n++] = (char)tolower((unsigned char)*p++);
    buf[n] = 0;
    return *p == '"' && n > 0;
}

/* "(n)" after a type name: n, or dflt when absent. */
static int paren_int(const char *p, int dflt) {
    while (*p == ' ')
        p++;
    if (*p != '(')
        return dflt;
    p++;
    while (*p == ' ')
        p++;
    if (!isdigit((unsigned char)*p))
        return dflt;
    return atoi(p);
}

/* Maps a MySQL column type text (lowercase) to a codec type; 0 when unknown. */
static int mysql_type(const char *s, lks_cdc_type *ct) {
    int unsig = strstr(s, "unsigned") != NULL;
    size_t n = 0;
    while (isalpha((unsigned char)s[n]))
        n++;
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(s, lit, n) == 0)
    ct->precision = -1;
    ct->scale = 0;
    ct->detail = 0;
    if (IS("tinyint"))
        ct->kind = unsig ? LKS_CT_INT16 : LKS_CT_INT8;
    else if (IS("smallint"))
        ct->kind = unsig ? LKS_CT_INT32 : LKS_CT_INT16;
    else if (IS("mediumint") || (IS("int") || IS("integer")))
        ct->kind = (unsig && !IS("mediumint")) ? LKS_CT_INT64 : LKS_CT_INT32;
    else if (IS("bigint"))
        ct->kind = unsig ? LKS_CT_UINT64 : LKS_CT_INT64;
    else if (IS("year")) {
        ct->kind = LKS_CT_INT16;
        ct->detail = LKS_CD_YEAR;
    } else if (IS("datetime") || IS("time") || IS("timestamp")) {
        ct->kind = IS("datetime") ? LKS_CT_DATETIME : IS("time") ? LKS_CT_TIME : LKS_CT_TIMESTAMP;
        ct->precision = paren_int(s + n, 0);
    } else if (IS("date"))
        ct->kind = LKS_CT_DATE;
    else if (IS("bit")) {
        int len = paren_int(s + n, 1);
        if (len <= 1)
            ct->kind = LKS_CT_BOOL;
        else {
            ct->kind = LKS_CT_BYTES;
            ct->detail = LKS_CD_BIT;
            ct->precision = len;
        }
    } else
        return 0;
#undef IS
    return 1;
}

/* One Delta field → codec type. */
static void delta_to_cdc(const lks_delta_type *d, lks_cdc_type *ct) {
    memset(ct, 0, sizeof *ct);
    ct->optional = d->nullable;
    ct->precision = -1;
    char st[64];
    if (source_type(d->metadata_json, st, sizeof st) && mysql_type(st, ct))
        return;
    switch (d->kind) {
    case LKS_DT_BOOLEAN: ct->kind = LKS_CT_BOOL; break;
    case LKS_DT_BYTE: ct->kind = LKS_CT_INT8; break;
    case LKS_DT_SHORT: ct->kind = LKS_CT_INT16; break;
    case LKS_DT_INTEGER: ct->kind = LKS_CT_INT32; break;
    case LKS_DT_LONG: ct->kind = LKS_CT_INT64; break;
    case LKS_DT_FLOAT: ct->kind = LKS_CT_FLOAT; break;
    case LKS_DT_DOUBLE: ct->kind = LKS_CT_DOUBLE; break;
    case LKS_DT_DECIMAL:
        ct->kind = LKS_CT_DECIMAL;
        ct->precision = d->precision;
        ct->scale = d->scale;
        break;
    case LKS_DT_BINARY: ct->kind = LKS_CT_BYTES; break;
    case LKS_DT_DATE: ct->kind = LKS_CT_DATE; break;
    case LKS_DT_TIMESTAMP: ct->kind = LKS_CT_TIMESTAMP; break;
    case LKS_DT_TIMESTAMP_NTZ: ct->kind = LKS_CT_DATETIME; break;
    case LKS_DT_STRUCT:
    case LKS_DT_ARRAY:
    case LKS_DT_MAP: ct->kind = LKS_CT_JSON; break;
    default: ct->kind = LKS_CT_STRING; break; /* string, void */
    }
}

/* The table's top-level columns as a codec schema (memory in a; nothing
 * points into the snapshot). */
static int build_hint(const lks_delta_snapshot *snap, lks_arena *a, lks_cdc_schema **out, lks_err *err) {
    *out = NULL;
    const lks_delta_type *root = snap ? snap->metadata.schema : NULL;
    if (!root || root->nchildren <= 0)
        return LKS_OK;
    lks_cdc_schema *s = lks_arena_alloc(a, sizeof *s);
    lks_cdc_field *f = lks_arena_alloc(a, (size_t)root->nchildren * sizeof *f);
    if (!s || !f)
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory for the type hint");
    memset(f, 0, (size_t)root->nchildren * sizeof *f);
    for (int i = 0; i < root->nchildren; i++) {
        f[i].name = lks_arena_strdup(a, root->children[i].name ? root->children[i].name : "");
        if (!f[i].name)
            return lks_err_set(err, LKS_ENOMEM, "merge: out of memory for the type hint");
        delta_to_cdc(&root->children[i], &f[i].type);
    }
    s->fields = f;
    s->nfields = root->nchildren;
    *out = s;
    return LKS_OK;
}

/* "a, b" → names in a; returns the count (0 for none), -1 out of memory. */
static int split_names(const char *list, lks_arena *a, const char ***out) {
    *out = NULL;
    if (!list)
        return 0;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    const char **v = lks_arena_alloc(a, cap * sizeof *v);
    if (!v)
        return -1;
    int n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *b = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > b && e[-1] == ' ')
            e--;
        if (e > b && !(v[n++] = lks_arena_strndup(a, b, (size_t)(e - b))))
            return -1;
    }
    *out = v;
    return n;
}

/* ---- one table ------------------------------------------------------------------------------ */

typedef struct lks_merge_feed pass;

struct lks_merge_feed {
    lks_store *raw; /* where dead letters go */
    const lks_merge_rawzone_opts *o;
    lks_delta_table *t;
    const char *topic; /* copied into mem */
    lks_merge_stats *totals;
    lks_arena mem;   /* per pass: hint, key names */
    lks_arena evmem; /* per record */
    lks_cdc_schema *hint;
    const char *const *keys;
    int nkeys;
    int keys_known; /* from the options, the table or a Kafka key: not looked for again */
    int fatal;      /* the last decode error is not the record's fault */
    int rebuild;    /* the parser is to be made anew after the current record */
    lks_dbz_parser *parser;
    lks_dbz_parser *keyparser;
    lks_merge_batch *batch;
    int64_t in_batch;     /* records in the batch (events and position-only) */
    uint64_t batch_start; /* mono ns */
    uint64_t last_progress;
    int cur_part;
    char stream[512];
    lks_buf dl; /* dead-letter document */
};

static void add_totals(lks_merge_stats *t, const lks_merge_stats *s) {
    t->events += s->events;
    t->upserts += s->upserts;
    t->deletes += s->deletes;
    t->truncates += s->truncates;
    t->rows_written += s->rows_written;
    t->files_added += s->files_added;
    t->files_removed += s->files_removed;
    t->files_dv += s->files_dv;
    t->files_skipped += s->files_skipped;
    if (s->version >= 0)
        t->version = s->version;
    t->created |= s->created;
}

/* (Re)creates the codec for the current hint and keys. */
static int make_parser(pass *ps, lks_err *err) {
    lks_dbz_parser_free(ps->parser);
    ps->parser = NULL;
    lks_dbz_opts d = {0};
    if (ps->o->dbz)
        d = *ps->o->dbz;
    d.hint = ps->hint;
    d.key_columns = ps->keys;
    d.nkey_columns = ps->nkeys;
    return lks_dbz_parser_new(&d, &ps->parser, err);
}

/* Reads the table's latest state: hint and, unless given, key columns. */
static int load_table(pass *ps, lks_delta_snapshot **snapp, lks_err *err) {
    *snapp = NULL;
    int rc = lks_delta_snapshot_latest(ps->t, snapp, err);
    if (rc == LKS_ENOTFOUND) {
        lks_err_clear(err);
        *snapp = NULL;
        rc = LKS_OK;
    }
    if (rc)
        return rc;
    if ((rc = build_hint(*snapp, &ps->mem, &ps->hint, err)) != LKS_OK)
        return rc;
    if (!ps->keys_known) {
        if (ps->o->merge.nkey_columns > 0) {
            ps->keys = ps->o->merge.key_columns;
            ps->nkeys = ps->o->merge.nkey_columns;
            ps->keys_known = 1;
        } else if (*snapp) {
            const char *pk = lks_delta_snapshot_property(*snapp, "lakesync.primaryKey");
            const char **names;
            int n = split_names(pk, &ps->mem, &names);
            if (n < 0)
                return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
            if (n > 0) {
                ps->keys = names;
                ps->nkeys = n;
                ps->keys_known = 1;
            }
        }
    }
    return LKS_OK;
}

static int new_batch(pass *ps, lks_err *err) {
    lks_merge_opts mo = ps->o->merge;
    if (ps->keys_known && ps->nkeys > 0 && mo.nkey_columns == 0) {
        mo.key_columns = ps->keys;
        mo.nkey_columns = ps->nkeys;
    }
    ps->in_batch = 0;
    ps->batch_start = ps->last_progress = lks_mono_ns();
    return lks_merge_batch_new(ps->t, &mo, &ps->batch, err);
}

/* Commits the batch (if it holds anything); the next record starts a new
 * one. */
static int commit_batch(pass *ps, lks_err *err) {
    int rc = LKS_OK;
    if (ps->in_batch > 0) {
        lks_merge_stats st;
        memset(&st, 0, sizeof st);
        st.version = -1;
        rc = lks_merge_batch_commit(ps->batch, &st, err);
        if (rc) {
            lks_err_prefix(err, "merge of topic %s", ps->topic);
            return rc;
        }
        add_totals(ps->totals, &st);
        if (ps->o->progress)
            ps->o->progress(ps->o->progress_ud, &st, 1, (double)(lks_mono_ns() - ps->batch_start) / 1e9);
        if (st.created) {
            /* the table exists now: its columns become the hint */
            lks_delta_snapshot *snap = NULL;
            if ((rc = load_table(ps, &snap, err)) == LKS_OK && ps->parser)
                rc = make_parser(ps, err);
            lks_delta_snapshot_free(snap);
            if (rc)
                return rc;
        }
    }
    lks_merge_batch_free(ps->batch);
    ps->batch = NULL;
    ps->in_batch = 0;
    return LKS_OK;
}

static const char *stream_name(pass *ps, int partition) {
    if (partition != ps->cur_part) {
        snprintf(ps->stream, sizeof ps->stream, "%s:%d", ps->topic, partition);
        ps->cur_part = partition;
    }
    return ps->stream;
}

/* Writes the dead-letter document of a record. */
static int dead_letter(pass *ps, const lks_rz_record *rec, const lks_err *why, lks_err *err) {
    lks_buf *b = &ps->dl;
    lks_buf_reset(b);
    lks_buf_printf(b, "{\"topic\":");
    lks_json_quote(b, rec->topic, strlen(rec->topic));
    lks_buf_printf(b, ",\"partition\":%d,\"offset\":%lld", rec->partition, (long long)rec->offset);
    if (rec->object) {
        lks_buf_printf(b, ",\"object\":");
        lks_json_quote(b, rec->object, strlen(rec->object));
        lks_buf_printf(b, ",\"line\":%lld", (long long)rec->line);
    }
    lks_buf_printf(b, ",\"error\":");
    lks_json_quote(b, why->msg, strlen(why->msg));
    lks_buf_printf(b, ",\"key\":");
    if (rec->key.ptr)
        lks_json_quote(b, (const char *)rec->key.ptr, rec->key.len);
    else
        lks_buf_printf(b, "null");
    lks_buf_printf(b, ",\"value\":");
    lks_json_quote(b, (const char *)rec->value.ptr, rec->value.len);
    if (lks_buf_printf(b, "}\n") != LKS_OK || b->len == 0)
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory for a dead-letter record");
    const char *pre = ps->o->dead_letter;
    size_t pl = strlen(pre);
    while (pl > 0 && pre[pl - 1] == '/')
        pl--;
    char *key = lks_arena_printf(&ps->evmem, "%.*s%s%s+%d+%010lld.json", (int)pl, pre, pl ? "/" : "", rec->topic,
                                 rec->partition, (long long)rec->offset);
    if (!key)
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    int rc = lks_store_put(ps->raw, key, b->ptr, b->len, err);
    if (rc)
        return lks_err_prefix(err, "dead-letter object %s", key);
    lks_log(LKS_LOG_WARN, "merge", "%s:%d offset %lld written to %s: %s", rec->topic, rec->partition,
            (long long)rec->offset, key, why->msg);
    return LKS_OK;
}

/* Learns the key columns from a stored Kafka key document. */
static int keys_from_kafka(pass *ps, const lks_rz_record *rec, lks_err *err) {
    if (!ps->keyparser) {
        int rc = lks_dbz_parser_new(ps->o->dbz, &ps->keyparser, err);
        if (rc)
            return rc;
    }
    const char **names;
    lks_cdc_value *vals;
    int n = lks_dbz_parse_key(ps->keyparser, (const char *)rec->key.ptr, rec->key.len, &ps->evmem, &names, &vals, err);
    if (n < 0)
        return n;
    if (n == 0)
        return LKS_OK; /* a null key: this record says nothing */
    const char **k = lks_arena_alloc(&ps->mem, (size_t)n * sizeof *k);
    if (!k)
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    for (int i = 0; i < n; i++)
        if (!(k[i] = lks_arena_strdup(&ps->mem, names[i])))
            return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    ps->keys = k;
    ps->nkeys = n;
    ps->keys_known = 1;
    lks_log(LKS_LOG_INFO, "merge", "topic %s: primary key from the stored Kafka keys (%d column%s, first %s)",
            ps->topic, n, n == 1 ? "" : "s", k[0]);
    /* the batch takes its key columns at creation: an empty one is renewed */
    if (ps->batch && ps->in_batch == 0) {
        lks_merge_batch_free(ps->batch);
        ps->batch = NULL;
        int rc = new_batch(ps, err);
        if (rc)
            return rc;
    }
    return make_parser(ps, err);
}

/* 1 when the record value is a {"schema": {...}, ...} envelope (JsonConverter
 * writes "schema" first). */
static int has_envelope(lks_slice v) {
    size_t i = 0;
    while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t'))
        i++;
    if (i >= v.len || v.ptr[i] != '{')
        return 0;
    i++;
    while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == '\n' || v.ptr[i] == '\r'))
        i++;
    if (v.len - i < 9 || memcmp(v.ptr + i, "\"schema\"", 8) != 0)
        return 0;
    i += 8;
    while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == ':' || v.ptr[i] == '\t'))
        i++;
    return i < v.len && v.ptr[i] == '{';
}

/* Without a table, the first event that carries its schema gives the types
 * of the events that do not (copied into the pass's memory). */
static int hint_from_event(pass *ps, const lks_cdc_event *ev, lks_err *err) {
    const lks_cdc_schema *es = ev->schema;
    lks_cdc_schema *s = lks_arena_alloc(&ps->mem, sizeof *s);
    lks_cdc_field *f = lks_arena_alloc(&ps->mem, (size_t)(es->nfields ? es->nfields : 1) * sizeof *f);
    if (!s || !f)
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory for the type hint");
    for (int i = 0; i < es->nfields; i++) {
        f[i] = es->fields[i];
        f[i].name = lks_arena_strdup(&ps->mem, es->fields[i].name);
        f[i].allowed = es->fields[i].allowed ? lks_arena_strdup(&ps->mem, es->fields[i].allowed) : NULL;
        if (!f[i].name)
            return lks_err_set(err, LKS_ENOMEM, "merge: out of memory for the type hint");
    }
    s->fields = f;
    s->nfields = es->nfields;
    ps->hint = s;
    ps->rebuild = 1; /* after the event has been added: it points into the parser */
    return LKS_OK;
}

/* Decodes one record: 1 with an event, 0 for a record without a row change,
 * negative on a malformed record (err says why, without the position). */
static int decode(pass *ps, const lks_rz_record *rec, lks_cdc_event *ev, lks_err *err) {
    if (!ps->keys_known && rec->key.ptr && rec->key.len) {
        int rc = keys_from_kafka(ps, rec, err);
        if (rc)
            return rc == LKS_ENOMEM ? rc : lks_err_prefix(err, "key");
    }
    if (!ps->parser) {
        int rc = make_parser(ps, err);
        if (rc)
            return rc;
    }
    const char *what = NULL;
    int rc = lks_dbz_parse(ps->parser, (const char *)rec->value.ptr, rec->value.len, &ps->evmem, ev, &what, err);
    if (rc <= 0)
        return rc;
    if (!ps->hint && ev->schema && ev->schema->nfields > 0 && has_envelope(rec->value) &&
        (rc = hint_from_event(ps, ev, err)) != LKS_OK)
        return rc;
    if (ev->op == LKS_CDC_TRUNCATE)
        return 1;
    if (ps->nkeys > 0 && ev->nkey < ps->nkeys)
        return lks_err_set(err, LKS_EINVAL, "event lacks key column %s", ps->keys[ev->nkey]);
    if (ev->nkey == 0) {
        ps->fatal = 1; /* no record can be merged: not a dead letter */
        return lks_err_set(err, LKS_EINVAL,
                           "no primary key for the event: give the key columns (--key), set the table property "
                           "lakesync.primaryKey or store the Kafka keys");
    }
    const lks_cdc_row *img = ev->op == LKS_CDC_DELETE ? &ev->before : &ev->after;
    int has = ev->op == LKS_CDC_DELETE ? ev->has_before : ev->has_after;
    if (!has)
        return lks_err_set(err, LKS_ECORRUPT, "op '%c' without a%s image", ev->op,
                           ev->op == LKS_CDC_DELETE ? " before" : "n after");
    for (int k = 0; k < ev->nkey; k++) {
        int f = ev->key[k];
        if (f < 0 || f >= img->n || img->v[f].kind == LKS_CV_NULL || img->v[f].kind == LKS_CV_ABSENT)
            return lks_err_set(err, LKS_EINVAL, "key column %s is null or missing",
                               f >= 0 && f < ev->schema->nfields ? ev->schema->fields[f].name : "?");
    }
    if (ev->op == LKS_CDC_UPDATE && ev->has_before) {
        for (int k = 0; k < ev->nkey; k++) {
            int f = ev->key[k];
            if (f >= ev->before.n || ev->before.v[f].kind == LKS_CV_NULL || ev->before.v[f].kind == LKS_CV_ABSENT)
                return lks_err_set(err, LKS_EINVAL, "key column %s is null or missing in the before image",
                                   ev->schema->fields[f].name);
        }
    }
    return 1;
}

static void progress_tick(pass *ps) {
    if (!ps->o->progress)
        return;
    uint64_t now = lks_mono_ns();
    if (now - ps->last_progress < PROGRESS_NS)
        return;
    ps->last_progress = now;
    lks_merge_stats st;
    memset(&st, 0, sizeof st);
    st.version = -1;
    int64_t held = 0;
    size_t bytes = 0;
    lks_merge_batch_size(ps->batch, &held, &bytes);
    st.events = ps->in_batch;
    st.upserts = held; /* events held after dedupe so far */
    ps->o->progress(ps->o->progress_ud, &st, 0, (double)(now - ps->batch_start) / 1e9);
}

/* ---- the feed ------------------------------------------------------------------------------ */

/* Names the record in an error: "OBJECT line N (topic:p offset o)" for the
 * raw zone, "topic:p offset o" for Kafka. */
static int record_prefix(const lks_rz_record *rec, lks_err *err) {
    if (rec->object)
        return lks_err_prefix(err, "%s line %lld (%s:%d offset %lld)", rec->object, (long long)rec->line, rec->topic,
                              rec->partition, (long long)rec->offset);
    return lks_err_prefix(err, "%s:%d offset %lld", rec->topic, rec->partition, (long long)rec->offset);
}

int lks_merge_feed_new(lks_delta_table *t, const char *topic, const lks_merge_rawzone_opts *o, lks_store *dead_store,
                       lks_merge_stats *totals, lks_merge_feed **out, lks_err *err) {
    *out = NULL;
    if (!t || !topic || !o || !totals)
        return lks_err_set(err, LKS_EINVAL, "merge: feed needs a table, a topic, options and totals");
    if (o->dead_letter && !dead_store)
        return lks_err_set(err, LKS_EINVAL, "merge: dead letters need a store");
    pass *ps = calloc(1, sizeof *ps);
    if (!ps)
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    lks_arena_init(&ps->mem, 0);
    lks_arena_init(&ps->evmem, 0);
    lks_buf_init(&ps->dl, 0);
    ps->raw = dead_store;
    ps->o = o;
    ps->t = t;
    ps->totals = totals;
    ps->cur_part = -1;
    if (!(ps->topic = lks_arena_strdup(&ps->mem, topic))) {
        lks_merge_feed_free(ps);
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    }
    *out = ps;
    return LKS_OK;
}

void lks_merge_feed_free(lks_merge_feed *ps) {
    if (!ps)
        return;
    lks_merge_batch_free(ps->batch);
    lks_dbz_parser_free(ps->parser);
    lks_dbz_parser_free(ps->keyparser);
    lks_arena_free(&ps->mem);
    lks_arena_free(&ps->evmem);
    lks_buf_free(&ps->dl);
    free(ps);
}

int64_t lks_merge_feed_pending(const lks_merge_feed *ps) { return ps ? ps->in_batch : 0; }

int lks_merge_feed_load(lks_merge_feed *ps, lks_arena *a, lks_rz_bookmark **out, size_t *nout, lks_err *err) {
    *out = NULL;
    *nout = 0;
    lks_delta_snapshot *snap = NULL;
    int rc;
    if (ps->in_batch == 0) {
        /* nothing held: the table's columns and key may have changed
         * (another writer created or widened it) */
        rc = load_table(ps, &snap, err);
        if (!rc && ps->parser)
            rc = make_parser(ps, err);
        if (!rc && ps->batch) { /* it took its key columns at creation */
            lks_merge_batch_free(ps->batch);
            ps->batch = NULL;
        }
    } else {
        rc = lks_delta_snapshot_latest(ps->t, &snap, err);
        if (rc == LKS_ENOTFOUND) {
            lks_err_clear(err);
            snap = NULL;
            rc = LKS_OK;
        }
    }
    if (rc) {
        lks_delta_snapshot_free(snap);
        return lks_err_prefix(err, "table for topic %s", ps->topic);
    }
    size_t cap = (snap ? snap->ntxns : 0) + 1;
    lks_rz_bookmark *bm = lks_arena_alloc(a, cap * sizeof *bm);
    const char *topic = lks_arena_strdup(a, ps->topic);
    if (!bm || !topic) {
        lks_delta_snapshot_free(snap);
        return lks_err_set(err, LKS_ENOMEM, "merge: out of memory");
    }
    size_t nbm = 0, tl = strlen(ps->topic);
    for (size_t i = 0; snap && i < snap->ntxns; i++) {
        const char *id = snap->txns[i].app_id;
        if (!id || strncmp(id, "lakesync:", 9) != 0 || strncmp(id + 9, ps->topic, tl) != 0 || id[9 + tl] != ':')
            continue;
        const char *d = id + 10 + tl;
        long p = 0;
        size_t nd = 0;
        for (; d[nd] >= '0' && d[nd] <= '9' && nd < 9; nd++)
            p = p * 10 + (d[nd] - '0');
        if (nd == 0 || d[nd])
            continue;
        size_t k = 0;
        while (k < nbm && bm[k].partition != (int)p)
            k++;
        int64_t v = lks_merge_stream_version(snap, stream_name(ps, (int)p));
        if (k == nbm && v >= 0)
            bm[nbm++] = (lks_rz_bookmark){topic, (int)p, v};
    }
    lks_delta_snapshot_free(snap);
    *out = bm;
    *nout = nbm;
    return LKS_OK;
}

int lks_merge_feed_commit(lks_merge_feed *ps, lks_err *err) { return commit_batch(ps, err); }

int lks_merge_feed_add(lks_merge_feed *ps, const lks_rz_record *rec, lks_err *err) {
    const lks_merge_rawzone_opts *o = ps->o;
    int rc;
    if (!ps->batch && (rc = new_batch(ps, err)) != LKS_OK)
        return rc;
    lks_arena_reset(&ps->evmem);
    const char *stream = stream_name(ps, rec->partition);
    lks_cdc_event ev;
    int got = 0;
    if (!rec->tombstone) {
        lks_err why;
        lks_err_clear(&why);
        got = decode(ps, rec, &ev, &why);
        if (got < 0) {
            if (got == LKS_ENOMEM || ps->fatal || !o->dead_letter) {
                *err = why;
                return record_prefix(rec, err);
            }
            if ((rc = dead_letter(ps, rec, &why, err)) != LKS_OK)
                return rc;
            got = 0;
        }
    }
    rc = lks_merge_batch_add(ps->batch, got ? &ev : NULL, stream, rec->offset + 1, err);
    if (rc == LKS_EINVAL && got && o->dead_letter) {
        /* an event the batch refuses (a partial row image, a value its
         * column cannot hold): a dead letter too */
        lks_err why = *err;
        if ((rc = dead_letter(ps, rec, &why, err)) == LKS_OK)
            rc = lks_merge_batch_add(ps->batch, NULL, stream, rec->offset + 1, err);
    }
    if (rc)
        return record_prefix(rec, err);
    ps->in_batch++;
    if (ps->rebuild) {
        ps->rebuild = 0;
        if ((rc = make_parser(ps, err)) != LKS_OK)
            return rc;
    }
    int64_t max_events = o->max_batch_events > 0 ? o->max_batch_events : DEFAULT_MAX_EVENTS;
    int full = ps->in_batch >= max_events;
    if (!full && ps->in_batch % CHECK_EVERY == 0) {
        int64_t held;
        size_t bytes;
        lks_merge_batch_size(ps->batch, &held, &bytes);
        full = bytes >= MAX_BATCH_BYTES;
        progress_tick(ps);
    }
    return full ? commit_batch(ps, err) : LKS_OK;
}

/* ---- one topic of the raw zone -------------------------------------------------------------- */

static int merge_topic(lks_store *raw, const lks_merge_rawzone_opts *o, lks_delta_table *t, const char *topic,
                       lks_merge_stats *totals, lks_err *err) {
    lks_merge_feed *ps = NULL;
    lks_rz_reader *rd = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_rz_bookmark *bm = NULL;
    size_t nbm = 0;
    /* the reader starts where the table stands for every partition it
     * holds a position for (including one listed only after our listing) */
    int rc = lks_merge_feed_new(t, topic, o, raw, totals, &ps, err);
    if (!rc)
        rc = lks_merge_feed_load(ps, &a, &bm, &nbm, err);
    lks_rz_reader_opts ro = {.topics_dir = o->topics_dir, .topic = topic, .start = bm, .nstart = nbm};
    if (!rc)
        rc = lks_rz_reader_open(raw, &ro, &rd, err);
    while (!rc) {
        if (o->stop && *o->stop)
            break;
        lks_rz_record rec;
        int more = lks_rz_reader_next(rd, &rec, err);
        if (more <= 0) {
            rc = more;
            break;
        }
        rc = lks_merge_feed_add(ps, &rec, err);
    }
    if (!rc)
        rc = lks_merge_feed_commit(ps, err);
    lks_rz_reader_free(rd);
    lks_merge_feed_free(ps);
    lks_arena_free(&a);
    return rc;
}

/* ---- the pass ------------------------------------------------------------------------------- */

char *lks_merge_topic_table(const char *topic, lks_arena *a) {
    const char *last = strrchr(topic, '.');
    if (!last || last == topic)
        return NULL;
    const char *db = last - 1;
    while (db > topic && *db != '.')
        db--;
    if (*db != '.')
        return NULL; /* only "<db>.<table>": no prefix */
    db++;
    if (db == last || !last[1])
        return NULL;
    char *key = lks_arena_printf(a, "%.*s/%s", (int)(last - db), db, last + 1);
    if (!key || lks_store_check_key(key, NULL) != LKS_OK)
        return NULL;
    for (const char *p = key; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '\\')
            return NULL;
    return key;
}

int lks_merge_rawzone(lks_store *raw, const lks_merge_rawzone_opts *o, lks_merge_stats *totals, lks_err *err) {
    lks_merge_stats tot_local;
    if (!totals)
        totals = &tot_local;
    memset(totals, 0, sizeof *totals);
    totals->version = -1;
    if (!raw || !o)
        return lks_err_set(err, LKS_EINVAL, "merge: missing raw store or options");
    if (!o->warehouse && !o->table)
        return lks_err_set(err, LKS_EINVAL, "merge: give a target table or a warehouse");
    if (o->merge.nkey_columns < 0 || (o->merge.nkey_columns > 0 && !o->merge.key_columns))
        return lks_err_set(err, LKS_EINVAL, "merge: bad key column list");
    lks_arena la;
    lks_arena_init(&la, 0);
    lks_rz_object *objs = NULL;
    size_t nobj = 0;
    int rc = lks_rz_list(raw, o->topics_dir, o->topic, &la, &objs, &nobj, NULL, err);
    if (rc) {
        lks_arena_free(&la);
        return rc;
    }
    /* objects are sorted by topic */
    size_t ntopics = 0;
    for (size_t i = 0; i < nobj; i++)
        ntopics += i == 0 || strcmp(objs[i - 1].topic, objs[i].topic) != 0;
    if (!o->warehouse && ntopics > 1) {
        rc = lks_err_set(err, LKS_EINVAL,
                         "merge: the raw zone holds %zu topics (%s, %s%s): pick one for the table (--topic) or "
                         "map them to tables with a warehouse",
                         ntopics, objs[0].topic, objs[nobj - 1].topic, ntopics > 2 ? ", ..." : "");
        lks_arena_free(&la);
        return rc;
    }
    size_t i = 0;
    while (i < nobj && rc == LKS_OK) {
        const char *topic = objs[i].topic;
        size_t j = i;
        while (j < nobj && strcmp(objs[j].topic, topic) == 0)
            j++;
        lks_delta_table *own = NULL, *t = NULL;
        if (o->warehouse) {
            char *prefix = lks_merge_topic_table(topic, &la);
            if (!prefix) {
                lks_log(LKS_LOG_WARN, "merge", "topic %s is not <prefix>.<db>.<table>: skipped", topic);
            } else if ((rc = lks_delta_table_open(o->warehouse, prefix, &own, err)) == LKS_OK) {
                t = own;
            }
        } else {
            t = o->table;
        }
        if (rc == LKS_OK && t)
            rc = merge_topic(raw, o, t, topic, totals, err);
        lks_delta_table_close(own);
        i = j;
        if (o->stop && *o->stop)
            break;
    }
    lks_arena_free(&la);
    return rc;
}
