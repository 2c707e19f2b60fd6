/*
 * kafka_merge.c — the streaming merge (kafka.h): topics straight into
 * Delta tables, exactly once.
 *
 * One record feed (merge.h) per topic, on the topic's table (the warehouse
 * mapping <prefix>.<db>.<table> → <db>/<table>, or the one table given).
 * Where reading starts is the table's business, never Kafka's: whenever
 * partitions are assigned (start, every rebalance) the feed reads the
 * positions the table holds ("<topic>:<p>" txn versions) and the consumer is
 * assigned at exactly those offsets (the partition's beginning when the
 * table holds none).  Before partitions are revoked, everything read is
 * committed to Delta, so the next owner starts where this one stopped.
 * A member that dies uncommitted loses nothing: its successor starts from
 * the last Delta commit and reads the rest again.  Kafka's group offsets are
 * committed after each Delta commit for lag monitoring only.
 *
 * Commits happen every interval_ms (one Delta commit per table holding
 * records, with one txn per topic-partition), when a feed's batch is full,
 * at a rebalance and at the end.  Two members writing one table commit side
 * by side (their partitions hold disjoint keys); a lost race that touched
 * the same keys (LKS_ECONFLICT) is committed again from a fresh snapshot.
 *
 * once: no group membership; every partition of the topics is assigned at
 * the table's positions and read up to the end offsets seen at start.
 */
#include "transport/kafka.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 100
#define CONFLICT_RETRIES 10

typedef struct tfeed {
    char *topic;
    lks_delta_table *own;  /* opened from the warehouse, else NULL */
    lks_merge_feed *f;     /* NULL: the topic maps to no table (skipped) */
} tfeed;

/* One partition read: where it stands, and for once where it ends. */
typedef struct tpos {
    char *topic;
    int partition;
    int64_t next;  /* next offset to read, -1 unknown */
    int64_t end;   /* once: the end offset seen at start */
    int done;
} tpos;

typedef struct kmerge {
    const lks_kafka_merge_opts *o;
    lks_kafka_consumer *c;
    lks_merge_stats *totals;
    tfeed *feeds;
    int nfeeds, capfeeds;
    tpos *pos;
    int npos, cappos;
    int ndone;
    lks_arena a;  /* per hook call */
    int64_t last_commit_ms;
} kmerge;

static int64_t now_ms(void) { return (int64_t)(lks_mono_ns() / 1000000u); }

static tfeed *feed_for(kmerge *k, const char *topic, lks_err *err, int *rc) {
    *rc = LKS_OK;
    for (int i = 0; i < k->nfeeds; i++)
        if (strcmp(k->feeds[i].topic, topic) == 0)
            return &k->feeds[i];
    if (k->nfeeds == k->capfeeds) {
        int nc = k->capfeeds ? k->capfeeds * 2 : 8;
        tfeed *nf = realloc(k->feeds, (size_t)nc * sizeof *nf);
        if (!nf) {
            *rc = lks_err_set(err, LKS_ENOMEM, "kafka merge: out of memory");
            return NULL;
        }
        k->feeds = nf;
        k->capfeeds = nc;
    }
    tfeed *tf = &k->feeds[k->nfeeds];
    memset(tf, 0, sizeof *tf);
    if (!(tf->topic = strdup(topic))) {
        *rc = lks_err_set(err, LKS_ENOMEM, "kafka merge: out of memory");
        return NULL;
    }
    k->nfeeds++;
    const lks_merge_rawzone_opts *m = &k->o->m;
    lks_delta_table *t = m->table;
    if (m->warehouse) {
        lks_arena_reset(&k->a);
        char *prefix = lks_merge_topic_table(topic, &k->a);
        if (!prefix) {
            lks_log(LKS_LOG_WARN, "merge", "topic %s is not <prefix>.<db>.<table>: skipped", topic);
            return tf;
        }
        if ((*rc = lks_delta_table_open(m->warehouse, prefix, &tf->own, err)) != LKS_OK)
            return NULL;
        t = tf->own;
    }
    if ((*rc = lks_merge_feed_new(t, topic, m, k->o->dead_store, k->totals, &tf->f, err)) != LKS_OK)
        return NULL;
    return tf;
}

static tpos *pos_for(kmerge *k, const char *topic, int partition, lks_err *err, int *rc) {
    *rc = LKS_OK;
    for (int i = 0; i < k->npos; i++)
        if (k->pos[i].partition == partition && strcmp(k->pos[i].topic, topic) == 0)
            return &k->pos[i];
    if (k->npos == k->cappos) {
        int nc = k->cappos ? k->cappos * 2 : 16;
        tpos *np = realloc(k->pos, (size_t)nc * sizeof *np);
        if (!np) {
            *rc = lks_err_set(err, LKS_ENOMEM, "kafka merge: out of memory");
            return NULL;
        }
        k->pos = np;
        k->cappos = nc;
    }
    tpos *p = &k->pos[k->npos];
    memset(p, 0, sizeof *p);
    if (!(p->topic = strdup(topic))) {
        *rc = lks_err_set(err, LKS_ENOMEM, "kafka merge: out of memory");
        return NULL;
    }
    p->partition = partition;
    p->next = p->end = -1;
    k->npos++;
    return p;
}

/* Commits every feed holding records, then tells the group (a hint). */
static int commit_all(kmerge *k, lks_err *err) {
    int any = 0;
    for (int i = 0; i < k->nfeeds; i++) {
        lks_merge_feed *f = k->feeds[i].f;
        if (!f || lks_merge_feed_pending(f) == 0)
            continue;
        int rc = LKS_ECONFLICT;
        for (int attempt = 0; attempt < CONFLICT_RETRIES && rc == LKS_ECONFLICT; attempt++) {
            if (attempt) {
                lks_log(LKS_LOG_INFO, "merge", "%s (committing again)", err->msg);
                lks_err_clear(err);
                struct timespec ts = {0, (long)(10 + lks_hash(&attempt, sizeof attempt) % 90) * 1000000L};
                nanosleep(&ts, NULL);
            }
            rc = lks_merge_feed_commit(f, err);
        }
        if (rc)
            return rc;
        any = 1;
    }
    k->last_commit_ms = now_ms();
    if (any && k->o->group && !k->o->once) {
        lks_kafka_tp *tps = calloc((size_t)(k->npos ? k->npos : 1), sizeof *tps);
        int n = 0;
        for (int i = 0; tps && i < k->npos; i++)
            if (k->pos[i].next >= 0)
                tps[n++] = (lks_kafka_tp){k->pos[i].topic, k->pos[i].partition, k->pos[i].next};
        lks_err e2;
        lks_err_clear(&e2);
        if (tps && lks_kafka_commit(k->c, tps, n, 1, &e2) != LKS_OK)
            lks_log(LKS_LOG_INFO, "merge", "%s (only a hint: the positions are in the tables)", e2.msg);
        free(tps);
    }
    return LKS_OK;
}

/* Sets each partition's start to the position its table holds. */
static int on_assigned(void *ud, lks_kafka_tp *tps, int n, lks_err *err) {
    kmerge *k = ud;
    lks_arena ha;
    lks_arena_init(&ha, 0);
    int rc = LKS_OK;
    for (int i = 0; i < n && !rc; i++) {
        if (i > 0 && strcmp(tps[i].topic, tps[i - 1].topic) == 0)
            continue; /* this topic's positions were read with the previous one */
        tfeed *tf = feed_for(k, tps[i].topic, err, &rc);
        if (rc)
            break;
        lks_rz_bookmark *bm = NULL;
        size_t nbm = 0;
        if (tf->f && (rc = lks_merge_feed_load(tf->f, &ha, &bm, &nbm, err)) != LKS_OK)
            break;
        for (int j = i; j < n && strcmp(tps[j].topic, tps[i].topic) == 0; j++) {
            tps[j].offset = LKS_KAFKA_OFFSET_BEGINNING;
            for (size_t b = 0; b < nbm; b++)
                if (bm[b].partition == tps[j].partition)
                    tps[j].offset = bm[b].next_offset;
            tpos *p = pos_for(k, tps[j].topic, tps[j].partition, err, &rc);
            if (rc)
                break;
            p->next = tps[j].offset >= 0 ? tps[j].offset : -1;
            lks_log(LKS_LOG_INFO, "merge", "%s [%d]: from offset %lld%s", tps[j].topic, tps[j].partition,
                    (long long)(tps[j].offset >= 0 ? tps[j].offset : 0),
                    tps[j].offset >= 0 ? " (the table's position)" : " (the beginning: the table holds none)");
        }
    }
    lks_arena_free(&ha);
    return rc;
}

/* Commits everything read before the partitions go to another member. */
static int on_revoked(void *ud, const lks_kafka_tp *tps, int n, lks_err *err) {
    kmerge *k = ud;
    int rc = commit_all(k, err);
    for (int i = 0; i < n; i++) /* no more hints for what another member reads */
        for (int j = 0; j < k->npos; j++)
            if (k->pos[j].partition == tps[i].partition && strcmp(k->pos[j].topic, tps[i].topic) == 0)
                k->pos[j].next = -1;
    return rc;
}

static int add_record(kmerge *k, const lks_kafka_msg *m, lks_err *err) {
    int rc;
    tfeed *tf = feed_for(k, m->topic, err, &rc);
    if (rc)
        return rc;
    tpos *p = pos_for(k, m->topic, m->partition, err, &rc);
    if (rc)
        return rc;
    if (k->o->once && (p->done || (p->end >= 0 && m->offset >= p->end)))
        return LKS_OK; /* past the end seen at start: the next run's */
    if (tf->f) {
        lks_rz_record rec;
        memset(&rec, 0, sizeof rec);
        rec.topic = m->topic;
        rec.partition = m->partition;
        rec.offset = m->offset;
        rec.value = m->value;
        rec.key = m->key;
        rec.tombstone = m->tombstone || m->value.len == 0 || (m->value.len == 4 && !memcmp(m->value.ptr, "null", 4));
        if ((rc = lks_merge_feed_add(tf->f, &rec, err)) != LKS_OK)
            return rc;
    }
    p->next = m->offset + 1;
    if (k->o->once && !p->done && p->next >= p->end) {
        p->done = 1;
        k->ndone++;
    }
    return LKS_OK;
}

/* once: every partition of the topics at the table's positions, with the
 * end offsets of now. */
static int assign_all(kmerge *k, lks_err *err) {
    const lks_kafka_merge_opts *o = k->o;
    lks_arena ha;
    lks_arena_init(&ha, 0);
    int rc = LKS_OK, total = 0;
    lks_kafka_tp *tps = NULL;
    int ntps = 0, captps = 0;
    /* the topic names, patterns expanded */
    const char **names = lks_arena_alloc(&ha, (size_t)o->ntopics * sizeof *names);
    int nnames = 0;
    if (!names)
        rc = lks_err_set(err, LKS_ENOMEM, "kafka merge: out of memory");
    for (int t = 0; t < o->ntopics && !rc; t++) {
        if (o->topics[t][0] != '^') {
            names[nnames++] = o->topics[t];
            continue;
        }
        const char **m = NULL;
        int nm = 0;
        if ((rc = lks_kafka_topics_matching(k->c, o->topics[t], &ha, &m, &nm, err)) != LKS_OK)
            break;
        const char **nn = lks_arena_alloc(&ha, (size_t)(o->ntopics + nnames + nm) * sizeof *nn);
        if (!nn) {
            rc = lks_err_set(err, LKS_ENOMEM, "kafka merge: out of memory");
            break;
        }
        memcpy(nn, names, (size_t)nnames * sizeof *nn);
        memcpy(nn + nnames, m, (size_t)nm * sizeof *nn);
        names = nn;
        nnames += nm;
    }
    for (int t = 0; t < nnames && !rc; t++) {
        int *parts = NULL, np = 0;
        if ((rc = lks_kafka_partitions(k->c, names[t], &ha, &parts, &np, err)) != LKS_OK)
            break;
        tfeed *tf = feed_for(k, names[t], err, &rc);
        if (rc)
            break;
        lks_rz_bookmark *bm = NULL;
        size_t nbm = 0;
        if (tf->f && (rc = lks_merge_feed_load(tf->f, &ha, &bm, &nbm, err)) != LKS_OK)
            break;
        for (int i = 0; i < np && !rc; i++) {
            tpos *p = pos_for(k, names[t], parts[i], err, &rc);
            if (rc)
                break;
            total++;
            int64_t lo, hi, start = LKS_KAFKA_OFFSET_BEGINNING;
            for (size_t b = 0; b < nbm; b++)
                if (bm[b].partition == parts[i])
                    start = bm[b].next_offset;
            if ((rc = lks_kafka_watermarks(k->c, names[t], parts[i], &lo, &hi, err)) != LKS_OK)
                break;
            p->end = hi;
            p->next = start >= 0 ? start : -1;
            if ((start >= 0 ? start : lo) >= hi) {
                p->done = 1;
                k->ndone++;
                if (start > hi)
                    lks_log(LKS_LOG_WARN, "merge", "%s [%d]: the table holds position %lld past the end offset %lld "
                            "(was the topic recreated?)", p->topic, p->partition, (long long)start, (long long)hi);
                continue;
            }
            if (ntps == captps) {
                captps = captps ? captps * 2 : 16;
                lks_kafka_tp *nt = lks_arena_alloc(&ha, (size_t)captps * sizeof *nt);
                if (!nt) {
                    rc = lks_err_set(err, LKS_ENOMEM, "kafka merge: out of memory");
                    break;
                }
                if (ntps)
                    memcpy(nt, tps, (size_t)ntps * sizeof *nt);
                tps = nt;
            }
            tps[ntps++] = (lks_kafka_tp){p->topic, p->partition, start};
        }
    }
    if (!rc)
        lks_log(LKS_LOG_INFO, "merge", "%d of %d partition(s) have records to merge", ntps, total);
    if (!rc && ntps)
        rc = lks_kafka_assign(k->c, tps, ntps, err);
    lks_arena_free(&ha);
    return rc;
}

int lks_kafka_merge(const lks_kafka_merge_opts *o, lks_merge_stats *totals, lks_err *err) {
    lks_merge_stats tot_local;
    if (!totals)
        totals = &tot_local;
    memset(totals, 0, sizeof *totals);
    totals->version = -1;
    if (!o || o->ntopics <= 0)
        return lks_err_set(err, LKS_EINVAL, "kafka merge: no topics");
    if (!o->m.warehouse && !o->m.table)
        return lks_err_set(err, LKS_EINVAL, "kafka merge: give a target table or a warehouse");
    if (!o->m.warehouse && (o->ntopics > 1 || o->topics[0][0] == '^'))
        return lks_err_set(err, LKS_EINVAL,
                           "kafka merge: one table takes one topic (%s%s): map topics to tables with a warehouse",
                           o->topics[0], o->ntopics > 1 ? ", ..." : "");
    kmerge k;
    memset(&k, 0, sizeof k);
    k.o = o;
    k.totals = totals;
    lks_arena_init(&k.a, 0);
    lks_kafka_consumer_opts co;
    memset(&co, 0, sizeof co);
    co.k = o->k;
    co.group = o->group ? o->group : "lakesync-merge"; /* librdkafka assigns only with a group id */
    co.hooks = (lks_kafka_hooks){on_assigned, on_revoked, &k};
    co.offset_reset = "error"; /* a position whose records are gone is an error, never skipped */
    int rc = lks_kafka_consumer_new(&co, &k.c, err);
    if (!rc)
        rc = o->once ? assign_all(&k, err) : lks_kafka_subscribe(k.c, o->topics, o->ntopics, err);
    int64_t interval = o->interval_ms > 0 ? o->interval_ms : 1000;
    k.last_commit_ms = now_ms();
    while (!rc && !(o->m.stop && *o->m.stop)) {
        if (o->once && k.ndone == k.npos)
            break;
        lks_kafka_msg m;
        int got = lks_kafka_poll(k.c, POLL_MS, &m, err);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 1 && !m.eof)
            rc = add_record(&k, &m, err);
        if (!rc && now_ms() - k.last_commit_ms >= interval)
            rc = commit_all(&k, err);
    }
    if (!rc)
        rc = commit_all(&k, err);
    lks_kafka_consumer_close(k.c, 1); /* committed above, or failed: nothing more to commit */
    for (int i = 0; i < k.nfeeds; i++) {
        lks_merge_feed_free(k.feeds[i].f);
        lks_delta_table_close(k.feeds[i].own);
        free(k.feeds[i].topic);
    }
    for (int i = 0; i < k.npos; i++)
        free(k.pos[i].topic);
    free(k.feeds);
    free(k.pos);
    lks_arena_free(&k.a);
    return rc;
}
