/*
 * rz_capture.c — `lakesync capture` straight into a raw zone
 * (capture.output=rawzone): the layout the Confluent S3 sink writes from
 * Debezium's topics (rawzone.h), without Kafka in between.
 *
 * Each table is a topic <topic.prefix>.<db>.<table> with one partition, 0;
 * its events get consecutive offsets (no tombstones: nothing compacts a raw
 * zone).  The rawzone writer cuts objects by flush.size and
 * rotate.interval.ms.
 *
 * The position: at a transaction boundary, every offset.flush.interval.ms
 * (or when stopping), the open objects are published and then the binlog
 * position after that boundary is put in <raw.path>/_lakesync/
 * capture.<topic.prefix>.json — always after the objects it covers.  A
 * restart streams from that position, and a topic's next offset is the end
 * of its last object in the raw zone: what was published after the
 * position was saved is captured again under new offsets (at least once,
 * as through Kafka; the merge's upserts make the repeat harmless), and no
 * offset is ever written twice, so a merge that read an object keeps
 * reading the right records after it.
 */
#include "pipeline/pipeline.h"
#include "rawzone/rawzone.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rtopic {
    char *name;
    int64_t next;
} rtopic;

struct lks_rz_capture {
    lks_rz_capture_opts o;
    lks_rz_writer *w;
    char *state_key;
    rtopic *topics;
    int ntopics, ctopics;
    lks_dbz_write_opts keyo;
    lks_buf key, val, name;
    int64_t last_flush_ms;
    int64_t written;
};

static int64_t now_ms(void) { return (int64_t)(lks_mono_ns() / 1000000u); }

int lks_rz_capture_new(const lks_rz_capture_opts *o, lks_rz_capture **out, lks_err *err) {
    *out = NULL;
    if (!o->raw || !o->topic_prefix || !*o->topic_prefix)
        return lks_err_set(err, LKS_EINVAL, "capture: a raw zone and topic.prefix are needed");
    lks_rz_capture *c = calloc(1, sizeof *c);
    if (!c) return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    c->o = *o;
    c->o.w.tombstones = 0;
    lks_buf_init(&c->key, 0);
    lks_buf_init(&c->val, 0);
    lks_buf_init(&c->name, 0);
    c->keyo = o->value;
    c->keyo.schemas_enable = o->key_schemas;
    size_t n = strlen(o->topic_prefix) + 32;
    c->state_key = malloc(n);
    if (!c->state_key) {
        lks_rz_capture_free(c);
        return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    }
    snprintf(c->state_key, n, "_lakesync/capture.%s.json", o->topic_prefix);
    int rc = lks_rz_writer_open(o->raw, &c->o.w, &c->w, err);
    if (rc) {
        lks_rz_capture_free(c);
        return rc;
    }
    c->last_flush_ms = now_ms();
    *out = c;
    return LKS_OK;
}

void lks_rz_capture_free(lks_rz_capture *c) {
    if (!c) return;
    lks_rz_writer_free(c->w);
    for (int i = 0; i < c->ntopics; i++) free(c->topics[i].name);
    free(c->topics);
    free(c->state_key);
    lks_buf_free(&c->key);
    lks_buf_free(&c->val);
    lks_buf_free(&c->name);
    free(c);
}

int64_t lks_rz_capture_written(const lks_rz_capture *c) { return c ? c->written : 0; }

int lks_rz_capture_position(lks_rz_capture *c, char *buf, size_t cap, lks_err *err) {
    lks_buf b;
    lks_buf_init(&b, 0);
    int rc = lks_store_get(c->o.raw, c->state_key, &b, err);
    if (rc == LKS_ENOTFOUND) {
        lks_err_clear(err);
        lks_buf_free(&b);
        return 0;
    }
    if (!rc) rc = lks_buf_cstr(&b);
    if (!rc) rc = lks_pipeline_pos_load_text((const char *)b.ptr, c->state_key, buf, cap, err);
    lks_buf_free(&b);
    if (rc) return rc;
    return 1;
}

/* A topic's next offset: after the last record of its objects. */
static int topic_for(lks_rz_capture *c, const char *name, rtopic **out, lks_err *err) {
    for (int i = 0; i < c->ntopics; i++)
        if (strcmp(c->topics[i].name, name) == 0) {
            *out = &c->topics[i];
            return LKS_OK;
        }
    if (c->ntopics == c->ctopics) {
        int nc = c->ctopics ? c->ctopics * 2 : 16;
        rtopic *nt = realloc(c->topics, (size_t)nc * sizeof *nt);
        if (!nt) return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
        c->topics = nt;
        c->ctopics = nc;
    }
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_rz_object *objs = NULL;
    size_t n = 0;
    int64_t next = 0;
    int rc = lks_rz_list(c->o.raw, c->o.w.topics_dir, name, &a, &objs, &n, NULL, err);
    if (!rc && n) {
        /* read the last object of partition 0 to its end */
        size_t last = n;
        for (size_t i = 0; i < n; i++)
            if (objs[i].partition == 0) last = i;
        if (last < n) {
            lks_rz_bookmark bm = {name, 0, objs[last].start_offset};
            lks_rz_reader_opts ro;
            memset(&ro, 0, sizeof ro);
            ro.topics_dir = c->o.w.topics_dir;
            ro.topic = name;
            ro.start = &bm;
            ro.nstart = 1;
            lks_rz_reader *r = NULL;
            rc = lks_rz_reader_open(c->o.raw, &ro, &r, err);
            lks_rz_record rec;
            int got;
            while (!rc && (got = lks_rz_reader_next(r, &rec, err)) != 0)
                if (got < 0) rc = got;
            const lks_rz_bookmark *pos;
            size_t np;
            if (!rc && !lks_rz_reader_positions(r, &pos, &np))
                for (size_t i = 0; i < np; i++)
                    if (pos[i].partition == 0 && strcmp(pos[i].topic, name) == 0) next = pos[i].next_offset;
            lks_rz_reader_free(r);
        }
    }
    lks_arena_free(&a);
    if (rc) return lks_err_prefix(err, "capture: raw zone topic %s", name);
    rtopic *t = &c->topics[c->ntopics];
    if (!(t->name = strdup(name))) return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    t->next = next;
    c->ntopics++;
    if (next) lks_log(LKS_LOG_INFO, "capture", "%s continues at offset %" PRId64, name, next);
    *out = t;
    return LKS_OK;
}

int lks_rz_capture_event(lks_rz_capture *c, const lks_cdc_event *ev, lks_err *err) {
    const char *db = ev->source.db ? ev->source.db : "", *table = ev->source.table ? ev->source.table : "";
    lks_buf_reset(&c->name);
    int rc = lks_buf_printf(&c->name, "%s.%s.%s", c->o.topic_prefix, db, table);
    if (!rc) rc = lks_buf_cstr(&c->name);
    if (rc) return lks_err_set(err, rc, "capture: out of memory");
    const char *topic = (const char *)c->name.ptr;
    rtopic *t = NULL;
    if ((rc = topic_for(c, topic, &t, err)) != LKS_OK) return rc;
    lks_buf_reset(&c->key);
    lks_buf_reset(&c->val);
    int keyed = c->o.w.store_keys && ev->op != LKS_CDC_TRUNCATE && ev->nkey > 0;
    if (keyed && (rc = lks_dbz_write_key(&c->key, ev, &c->keyo, err)) != LKS_OK)
        return lks_err_prefix(err, "capture: key of %s", topic);
    if ((rc = lks_dbz_write(&c->val, ev, &c->o.value, err)) != LKS_OK)
        return lks_err_prefix(err, "capture: event of %s", topic);
    lks_slice k = {keyed ? c->key.ptr : NULL, keyed ? c->key.len : 0};
    lks_slice v = {c->val.ptr, c->val.len};
    int64_t ts = ev->source.ts_ms >= 0 ? ev->source.ts_ms : ev->ts_ms;
    rc = lks_rz_writer_append(c->w, topic, 0, t->next, k, v, ts, err);
    if (rc) return lks_err_prefix(err, "capture");
    t->next++;
    c->written++;
    return LKS_OK;
}

int lks_rz_capture_boundary(lks_rz_capture *c, const char *file, uint64_t pos, int force, lks_err *err) {
    int64_t t = now_ms();
    if (!force && t - c->last_flush_ms < c->o.flush_interval_ms) return LKS_OK;
    int rc = lks_rz_writer_flush(c->w, err);
    if (rc) return lks_err_prefix(err, "capture");
    c->last_flush_ms = t;
    if (!file || !*file) return LKS_OK;
    char line[512];
    int n = lks_pipeline_pos_save_text(file, pos, line, sizeof line, err);
    if (n < 0) return n;
    rc = lks_store_put(c->o.raw, c->state_key, line, (size_t)n, err);
    if (rc) return lks_err_prefix(err, "capture: saving the position");
    return LKS_OK;
}

int lks_pipeline_pos_save_text(const char *file, uint64_t pos, char *out, size_t cap, lks_err *err) {
    if (strchr(file, '"') || strchr(file, '\\') || strchr(file, '\n'))
        return lks_err_set(err, LKS_EINVAL, "capture: binlog file name '%s' cannot be saved", file);
    int n = snprintf(out, cap, "{\"file\":\"%s\",\"pos\":%" PRIu64 "}\n", file, pos);
    if (n <= 0 || (size_t)n >= cap) return lks_err_set(err, LKS_EINVAL, "capture: binlog file name too long");
    return n;
}

int lks_pipeline_pos_load_text(const char *text, const char *what, char *buf, size_t cap, lks_err *err) {
    char file[400];
    unsigned long long pos = 0;
    int used = 0;
    /* exactly what lks_pipeline_pos_save_text writes */
    if (sscanf(text, "{\"file\":\"%399[^\"]\",\"pos\":%llu}%n", file, &pos, &used) != 2 || used == 0 ||
        (text[used] && strcmp(text + used, "\n") != 0) || pos > UINT32_MAX)
        return lks_err_set(err, LKS_ECORRUPT, "capture: %s is not a capture position ({\"file\":...,\"pos\":...})",
                           what);
    if ((size_t)snprintf(buf, cap, "%s:%llu", file, pos) >= cap)
        return lks_err_set(err, LKS_ELIMIT, "capture: %s: position too long", what);
    return LKS_OK;
}
