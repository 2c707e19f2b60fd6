/*
 * kafka_sink.c — `lakesync sink`: topics into the raw zone (rawzone.h
 * writer, the Confluent S3 sink's layout), exactly once.
 *
 * Exactly once without transactions, as the S3 sink does it: objects are
 * named from their first offset and cut at the same records on every run
 * (flush.size, record-time rotation, offset gaps), and a partition's
 * offset is committed to the group only after every record before it is in
 * a published object.  A sink that dies restarts from its committed
 * offsets, and so writes again only the objects published after its last
 * commit (commits come at most every half second) and the one it had open —
 * under the same names, with the same records.  On a rebalance the open objects are
 * published and their offsets committed before the partitions go.
 *
 * Kafka's JSON converter writes values on one line; a value (or key) that
 * holds line breaks (pretty-printed JSON) is compacted — whitespace outside
 * strings removed — since the layout is one record per line.
 */
#include "transport/kafka.h"

#include <stdlib.h>
#include <string.h>

#define POLL_MS 100
#define COMMIT_MS 500 /* durable offsets are committed at most this often (and at flushes) */

typedef struct spos {
    char *topic;
    int partition;
    int64_t committed; /* last offset committed by us, -1 none */
    int64_t end;       /* once: end offset seen at start */
    int done;
    int assigned;      /* the group gave it to this member */
} spos;

typedef struct ksink {
    const lks_kafka_sink_opts *o;
    lks_kafka_consumer *c;
    lks_rz_writer *w;
    lks_kafka_sink_stats *st;
    spos *pos;
    int npos, cappos;
    int nassigned;     /* partitions held now */
    int64_t last_commit_ms;
    int ever_assigned; /* once: partitions came at least once */
    lks_buf kbuf, vbuf;
} ksink;

static spos *pos_for(ksink *s, const char *topic, int partition) {
    for (int i = 0; i < s->npos; i++)
        if (s->pos[i].partition == partition && strcmp(s->pos[i].topic, topic) == 0)
            return &s->pos[i];
    if (s->npos == s->cappos) {
        int nc = s->cappos ? s->cappos * 2 : 16;
        spos *np = realloc(s->pos, (size_t)nc * sizeof *np);
        if (!np)
            return NULL;
        s->pos = np;
        s->cappos = nc;
    }
    spos *p = &s->pos[s->npos];
    memset(p, 0, sizeof *p);
    if (!(p->topic = strdup(topic)))
        return NULL;
    p->partition = partition;
    p->committed = p->end = -1;
    s->npos++;
    return p;
}

/* Commits the durable positions that moved since the last commit (unless
 * force, at most every COMMIT_MS: a commit that comes later only makes a
 * restart rewrite more objects, never skip one). */
static int commit_durable(ksink *s, int force, lks_err *err) {
    int64_t now = (int64_t)(lks_mono_ns() / 1000000u);
    if (!force && now - s->last_commit_ms < COMMIT_MS)
        return LKS_OK;
    s->last_commit_ms = now;
    const lks_rz_bookmark *d;
    size_t n;
    lks_rz_writer_durable(s->w, &d, &n);
    lks_kafka_tp *tps = calloc(n ? n : 1, sizeof *tps);
    if (!tps)
        return lks_err_set(err, LKS_ENOMEM, "sink: out of memory");
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        spos *p = pos_for(s, d[i].topic, d[i].partition);
        if (!p) {
            free(tps);
            return lks_err_set(err, LKS_ENOMEM, "sink: out of memory");
        }
        if (p->committed != d[i].next_offset)
            tps[k++] = (lks_kafka_tp){d[i].topic, d[i].partition, d[i].next_offset};
    }
    int rc = lks_kafka_commit(s->c, tps, k, 0, err);
    for (int i = 0; !rc && i < k; i++)
        pos_for(s, tps[i].topic, tps[i].partition)->committed = tps[i].offset;
    if (!rc && k) {
        s->st->commits++;
        lks_log(LKS_LOG_DEBUG, "sink", "committed %d partition offset(s)", k);
    }
    free(tps);
    return rc;
}

static int flush_all(ksink *s, lks_err *err) {
    int rc = lks_rz_writer_flush(s->w, err);
    return rc ? rc : commit_durable(s, 1, err);
}

static int on_revoked(void *ud, const lks_kafka_tp *tps, int n, lks_err *err) {
    ksink *s = ud;
    int rc = flush_all(s, err);
    for (int i = 0; i < n; i++) {
        spos *p = pos_for(s, tps[i].topic, tps[i].partition);
        if (p && p->assigned) {
            p->assigned = 0;
            s->nassigned--;
        }
    }
    return rc;
}

/* Starts at the group's committed offsets (the default); notes what this
 * member holds. */
static int on_assigned(void *ud, lks_kafka_tp *tps, int n, lks_err *err) {
    ksink *s = ud;
    for (int i = 0; i < n; i++) {
        spos *p = pos_for(s, tps[i].topic, tps[i].partition);
        if (!p)
            return lks_err_set(err, LKS_ENOMEM, "sink: out of memory");
        if (!p->assigned) {
            p->assigned = 1;
            s->nassigned++;
        }
        if (s->o->once && p->end < 0)
            p->done = 1; /* a partition that did not exist at start */
    }
    s->ever_assigned = 1;
    return LKS_OK;
}

/* once: every partition this member holds reached the end seen at start. */
static int all_done(const ksink *s) {
    if (!s->ever_assigned)
        return 0;
    for (int i = 0; i < s->npos; i++)
        if (s->pos[i].assigned && !s->pos[i].done)
            return 0;
    return 1;
}

/* Whitespace outside JSON strings removed (the text had line breaks). */
static int compact(const lks_slice in, lks_buf *out, lks_slice *res) {
    lks_buf_reset(out);
    int rc = lks_buf_reserve(out, in.len + 1);
    if (rc)
        return rc;
    int str = 0, esc = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t ch = in.ptr[i];
        if (str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                str = 0;
        } else if (ch == '"') {
            str = 1;
        } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            continue;
        }
        out->ptr[out->len++] = ch;
    }
    *res = (lks_slice){out->ptr, out->len};
    return LKS_OK;
}

static int has_break(lks_slice v) { return v.len && (memchr(v.ptr, '\n', v.len) || memchr(v.ptr, '\r', v.len)); }

static int on_record(ksink *s, const lks_kafka_msg *m, lks_err *err) {
    spos *p = pos_for(s, m->topic, m->partition);
    if (!p)
        return lks_err_set(err, LKS_ENOMEM, "sink: out of memory");
    if (s->o->once && (p->done || (p->end >= 0 && m->offset >= p->end)))
        return LKS_OK;
    lks_slice key = m->key, val = m->value;
    int rc;
    if (has_break(key) && (rc = compact(key, &s->kbuf, &key)) != LKS_OK)
        return lks_err_set(err, rc, "sink: out of memory");
    if (!m->tombstone && has_break(val) && (rc = compact(val, &s->vbuf, &val)) != LKS_OK)
        return lks_err_set(err, rc, "sink: out of memory");
    if (m->tombstone)
        val = (lks_slice){NULL, 0};
    rc = lks_rz_writer_append(s->w, m->topic, m->partition, m->offset, key, val, m->ts_ms, err);
    if (rc)
        return rc;
    s->st->records++;
    if (s->o->once && m->offset + 1 >= p->end)
        p->done = 1;
    return commit_durable(s, 0, err);
}

/* once: the end offsets of every partition of the topics, now. */
static int note_ends(ksink *s, lks_err *err) {
    lks_arena a;
    lks_arena_init(&a, 0);
    int rc = LKS_OK;
    for (int t = 0; t < s->o->ntopics && !rc; t++) {
        if (s->o->topics[t][0] == '^') {
            rc = lks_err_set(err, LKS_EINVAL, "sink: a one-off run needs topic names, not a pattern (%s)",
                             s->o->topics[t]);
            break;
        }
        int *parts = NULL, np = 0;
        if ((rc = lks_kafka_partitions(s->c, s->o->topics[t], &a, &parts, &np, err)) != LKS_OK)
            break;
        for (int i = 0; i < np && !rc; i++) {
            spos *p = pos_for(s, s->o->topics[t], parts[i]);
            int64_t lo, hi;
            if (!p) {
                rc = lks_err_set(err, LKS_ENOMEM, "sink: out of memory");
                break;
            }
            if ((rc = lks_kafka_watermarks(s->c, p->topic, p->partition, &lo, &hi, err)) != LKS_OK)
                break;
            p->end = hi;
            p->done = lo >= hi;
        }
    }
    lks_arena_free(&a);
    return rc;
}

int lks_kafka_sink(lks_store *raw, const lks_kafka_sink_opts *o, lks_kafka_sink_stats *st, lks_err *err) {
    lks_kafka_sink_stats st_local;
    if (!st)
        st = &st_local;
    memset(st, 0, sizeof *st);
    if (!raw || !o || o->ntopics <= 0)
        return lks_err_set(err, LKS_EINVAL, "sink: needs a raw zone and topics");
    ksink s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.st = st;
    lks_buf_init(&s.kbuf, 0);
    lks_buf_init(&s.vbuf, 0);
    int rc = lks_rz_writer_open(raw, &o->w, &s.w, err);
    lks_kafka_consumer_opts co;
    memset(&co, 0, sizeof co);
    co.k = o->k;
    co.group = o->group ? o->group : "lakesync-sink";
    co.hooks = (lks_kafka_hooks){on_assigned, on_revoked, &s};
    co.report_eof = o->once;
    co.offset_reset = "earliest";
    if (!rc)
        rc = lks_kafka_consumer_new(&co, &s.c, err);
    if (!rc)
        rc = o->once ? note_ends(&s, err) : LKS_OK;
    if (!rc)
        rc = lks_kafka_subscribe(s.c, o->topics, o->ntopics, err);
    int64_t iv = o->w.rotate_schedule_interval_ms;
    int64_t deadline = iv > 0 ? (lks_now_us() / 1000 / iv + 1) * iv : 0;
    int64_t last_progress = 0;
    while (!rc && !(o->stop && *o->stop)) {
        if (o->once && all_done(&s))
            break;
        lks_kafka_msg m;
        int got = lks_kafka_poll(s.c, POLL_MS, &m, err);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 1 && m.eof) {
            spos *p = pos_for(&s, m.topic, m.partition);
            if (p && o->once && m.offset >= p->end)
                p->done = 1;
        } else if (got == 1) {
            rc = on_record(&s, &m, err);
        } else {
            rc = commit_durable(&s, 0, err);
        }
        int64_t now = lks_now_us() / 1000;
        if (!rc && deadline && now >= deadline) {
            /* rotate.schedule.interval.ms also closes objects of idle partitions */
            deadline = (now / iv + 1) * iv;
            rc = flush_all(&s, err);
        }
        if (o->progress && now - last_progress >= 1000) {
            last_progress = now;
            o->progress(o->progress_ud, st);
        }
    }
    if (!rc)
        rc = flush_all(&s, err);
    if (o->progress)
        o->progress(o->progress_ud, st);
    lks_kafka_consumer_close(s.c, 1);
    lks_rz_writer_free(s.w);
    for (int i = 0; i < s.npos; i++)
        free(s.pos[i].topic);
    free(s.pos);
    lks_buf_free(&s.kbuf);
    lks_buf_free(&s.vbuf);
    return rc;
}
