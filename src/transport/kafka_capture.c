/*
 * kafka_capture.c — change events into Kafka as the Debezium MySQL
 * connector writes them (kafka.h), and the offsets file that lets capture
 * resume.
 *
 * A message per event: topic <topic.prefix>.<db>.<table>, key = the
 * primary key's JSON (lks_dbz_write_key: Kafka Connect's JsonConverter
 * bytes, with or without the envelope), value = the event; after a delete,
 * with tombstones.on.delete, the same key with a null value.  Keyed
 * messages are partitioned by murmur2 of the key bytes, as Debezium's
 * messages are by the Java producer.  A truncate has no key (as Debezium's)
 * and goes to partition 0, so on a one-partition topic it stays in order
 * with the rows (on a topic with several partitions nothing can order it
 * against the others).
 *
 * Headers, as Debezium sets them: an update that changes the primary key
 * is sent as a delete of the old key carrying __debezium.newkey (and its
 * tombstone, with the same headers) and a create of the new key carrying
 * __debezium.oldkey, the values being the other key as Kafka Connect's
 * header converter writes the key Struct (SimpleHeaderConverter, Connect's
 * default, or JsonConverter).  Each key's messages then stay in that key's
 * partition, in order.  With extended.headers.enabled (Debezium 3's
 * default) every message also carries __debezium.context.connectorLogicalName
 * (the topic prefix), __debezium.context.taskId ("0") and
 * __debezium.context.connectorName ("mysql").
 *
 * Topics: with topic.creation.default.partitions/replication.factor set,
 * a topic is created through the admin API before its first message, as
 * Kafka Connect does (an existing topic is left as it is); the names seen
 * are kept in a small hash set.
 *
 * The position: at a source transaction boundary, when
 * offset.flush.interval.ms has passed (or forced), the producer is flushed
 * — every message acknowledged by the brokers, or an error — and only then
 * is the boundary's binlog position written to the offsets file (a
 * temporary file, fsync, rename, fsync of the directory).  A restart reads
 * the position and streams from there: what was sent after it is sent
 * again (at least once; the merge's upserts make the repeat harmless).
 */
#include "transport/kafka.h"
#include "pipeline/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CTX_HEADERS = 3 };

struct lks_kafka_capture {
    lks_kafka_capture_opts o;
    char *prefix, *offsets_file;
    lks_kafka_producer *p;
    lks_dbz_write_opts keyo, hdro;
    lks_buf key, key2, hval, val, topic;
    /* hdr[0]: a primary-key change's header; hdr[1..nctx]: the context */
    lks_kafka_header hdr[1 + CTX_HEADERS];
    int nctx;
    lks_buf ctxval[CTX_HEADERS];
    char **seen; /* topics created or found (open addressing, NULL: free) */
    size_t nseen, cseen;
    lks_kafka_prop *tcfg;
    int64_t last_flush_ms;
    int64_t unflushed;
};

/* A context header's value: the string as the header converter writes a
 * STRING_SCHEMA value. */
static int ctx_value(lks_buf *b, const lks_kafka_capture_opts *o, const char *s) {
    if (!o->header_json)
        return lks_buf_append(b, s, strlen(s));
    static const char env[] = "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":";
    if (o->header_schemas && lks_buf_append(b, env, sizeof env - 1))
        return LKS_ENOMEM;
    if (lks_json_quote(b, s, strlen(s)))
        return LKS_ENOMEM;
    return o->header_schemas ? lks_buf_append_byte(b, '}') : LKS_OK;
}

static int64_t now_ms(void) { return (int64_t)(lks_mono_ns() / 1000000u); }

int lks_kafka_capture_conf(const lks_config *cfg, lks_arena *a, lks_kafka_capture_opts *o, lks_err *err) {
    o->header_json = lks_config_get_enum(cfg, "header.converter") == 1;
    o->header_schemas = lks_config_get_bool(cfg, "header.converter.schemas.enable");
    o->extended_headers = lks_config_get_bool(cfg, "extended.headers.enabled");
    const char *pn = "topic.creation.default.partitions", *rn = "topic.creation.default.replication.factor";
    int hp = lks_config_get_str(cfg, pn) != NULL, hr = lks_config_get_str(cfg, rn) != NULL;
    o->create_topics = 0;
    if (!hp && !hr)
        return LKS_OK;
    if (hp != hr)
        return lks_err_set(err, LKS_ECONFIG,
                           "capture: %s is set but %s is not (topic creation needs both, as in Kafka "
                           "Connect; -1 takes the brokers' default)",
                           hp ? pn : rn, hp ? rn : pn);
    o->topic_partitions = (int)lks_config_get_int(cfg, pn);
    o->topic_replication = (int)lks_config_get_int(cfg, rn);
    if (o->topic_partitions == 0 || o->topic_replication == 0)
        return lks_err_set(err, LKS_ECONFIG, "capture: %s=0: a topic needs at least 1 (-1: the brokers' default)",
                           o->topic_partitions == 0 ? pn : rn);
    lks_kafka_prop *tc;
    if (lks_kafka_props_under(cfg, "topic.creation.default.", NULL, a, &tc, &o->ntopic_configs, NULL) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    o->topic_configs = tc;
    o->create_topics = 1;
    return LKS_OK;
}

int lks_kafka_capture_new(const lks_kafka_capture_opts *o, lks_kafka_capture **out, lks_err *err) {
    *out = NULL;
    if (!o->topic_prefix || !*o->topic_prefix)
        return lks_err_set(err, LKS_EINVAL, "capture: topic.prefix is empty");
    lks_kafka_capture *c = calloc(1, sizeof *c);
    if (!c)
        return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    c->o = *o;
    c->prefix = strdup(o->topic_prefix);
    c->offsets_file = o->offsets_file ? strdup(o->offsets_file) : NULL;
    lks_buf_init(&c->key, 0);
    lks_buf_init(&c->key2, 0);
    lks_buf_init(&c->hval, 0);
    lks_buf_init(&c->val, 0);
    lks_buf_init(&c->topic, 0);
    for (int i = 0; i < CTX_HEADERS; i++)
        lks_buf_init(&c->ctxval[i], 0);
    int bad = !c->prefix || (o->offsets_file && !c->offsets_file);
    if (!bad && o->extended_headers) {
        static const char *const names[CTX_HEADERS] = {"__debezium.context.connectorLogicalName",
                                                       "__debezium.context.taskId", "__debezium.context.connectorName"};
        const char *values[CTX_HEADERS] = {c->prefix, "0", "mysql"};
        for (int i = 0; i < CTX_HEADERS && !bad; i++) {
            bad = ctx_value(&c->ctxval[i], o, values[i]) != LKS_OK;
            c->hdr[1 + i] =
                (lks_kafka_header){names[i], c->ctxval[i].ptr ? (const void *)c->ctxval[i].ptr : "", c->ctxval[i].len};
        }
        c->nctx = CTX_HEADERS;
    }
    if (!bad && o->create_topics && o->ntopic_configs > 0) {
        /* the configs' strings stay the caller's (as the rest of o) */
        c->tcfg = calloc((size_t)o->ntopic_configs, sizeof *c->tcfg);
        bad = !c->tcfg;
        if (!bad)
            memcpy(c->tcfg, o->topic_configs, (size_t)o->ntopic_configs * sizeof *c->tcfg);
    }
    if (bad) {
        lks_kafka_capture_free(c);
        return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    }
    c->keyo = o->value;
    c->keyo.schemas_enable = o->key_schemas;
    c->hdro = o->value;
    c->hdro.schemas_enable = o->header_schemas;
    int rc = lks_kafka_producer_new(&o->k, &c->p, err);
    if (rc) {
        lks_kafka_capture_free(c);
        return rc;
    }
    c->last_flush_ms = now_ms();
    *out = c;
    return LKS_OK;
}

void lks_kafka_capture_free(lks_kafka_capture *c) {
    if (!c)
        return;
    lks_kafka_producer_free(c->p);
    lks_buf_free(&c->key);
    lks_buf_free(&c->key2);
    lks_buf_free(&c->hval);
    lks_buf_free(&c->val);
    lks_buf_free(&c->topic);
    for (int i = 0; i < CTX_HEADERS; i++)
        lks_buf_free(&c->ctxval[i]);
    for (size_t i = 0; i < c->cseen; i++)
        free(c->seen[i]);
    free(c->seen);
    free(c->tcfg);
    free(c->prefix);
    free(c->offsets_file);
    free(c);
}

int64_t lks_kafka_capture_sent(const lks_kafka_capture *c) { return c ? lks_kafka_delivered(c->p) : 0; }

static int topic_known(const lks_kafka_capture *c, const char *topic) {
    if (!c->cseen)
        return 0;
    size_t mask = c->cseen - 1;
    for (size_t i = (size_t)lks_hash(topic, strlen(topic)) & mask; c->seen[i]; i = (i + 1) & mask)
        if (strcmp(c->seen[i], topic) == 0)
            return 1;
    return 0;
}

/* Adds a topic to the set (LKS_ENOMEM). */
static int remember_topic(lks_kafka_capture *c, const char *topic) {
    if ((c->nseen + 1) * 2 > c->cseen) {
        size_t nc = c->cseen ? c->cseen * 2 : 64;
        char **nv = calloc(nc, sizeof *nv);
        if (!nv)
            return LKS_ENOMEM;
        for (size_t i = 0; i < c->cseen; i++) {
            if (!c->seen[i])
                continue;
            size_t j = (size_t)lks_hash(c->seen[i], strlen(c->seen[i])) & (nc - 1);
            while (nv[j])
                j = (j + 1) & (nc - 1);
            nv[j] = c->seen[i];
        }
        free(c->seen);
        c->seen = nv;
        c->cseen = nc;
    }
    char *dup = strdup(topic);
    if (!dup)
        return LKS_ENOMEM;
    size_t j = (size_t)lks_hash(topic, strlen(topic)) & (c->cseen - 1);
    while (c->seen[j])
        j = (j + 1) & (c->cseen - 1);
    c->seen[j] = dup;
    c->nseen++;
    return LKS_OK;
}

/* Creates the topic before its first message (topic.creation.default.*).
 * The name is remembered only once the cluster has it, so a failed
 * creation is tried again by the next attempt. */
static int ensure_topic(lks_kafka_capture *c, const char *topic, lks_err *err) {
    if (!c->o.create_topics || topic_known(c, topic))
        return LKS_OK;
    lks_kafka_new_topic nt = {topic, c->o.topic_partitions, c->o.topic_replication, c->tcfg, c->o.ntopic_configs, 0};
    int rc = lks_kafka_create_topic(c->p, &nt, c->o.stop, err);
    if (rc < 0)
        return lks_err_prefix(err, "capture");
    lks_log(LKS_LOG_INFO, "capture",
            rc == 1 ? "created topic %s (%d partitions, replication factor %d)"
                    : "topic %s exists already (partitions %d, replication factor %d not applied)",
            topic, c->o.topic_partitions, c->o.topic_replication);
    if (remember_topic(c, topic) != LKS_OK)
        return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    return LKS_OK;
}

/* Equal as the key Structs' values are (doubles by their bits, as
 * Double.equals compares them). */
static int same_value(const lks_cdc_value *a, const lks_cdc_value *b) {
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case LKS_CV_BOOL: return !a->u.b == !b->u.b;
    case LKS_CV_INT: return a->u.i64 == b->u.i64;
    case LKS_CV_UINT: return a->u.u64 == b->u.u64;
    case LKS_CV_DOUBLE: return memcmp(&a->u.f64, &b->u.f64, sizeof a->u.f64) == 0;
    case LKS_CV_DECIMAL:
        return a->u.dec.scale == b->u.dec.scale && a->u.dec.len == b->u.dec.len &&
               memcmp(a->u.dec.be, b->u.dec.be, a->u.dec.len) == 0;
    case LKS_CV_BYTES:
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 || memcmp(a->u.bytes.ptr, b->u.bytes.ptr, a->u.bytes.len) == 0);
    default: return 1;
    }
}

/* 1 when an update changes the primary key: both images hold every key
 * column, some differ, and so do the key documents (keys in c->key2 = old,
 * c->key = new). */
static int key_changed(lks_kafka_capture *c, const lks_cdc_event *ev, lks_err *err) {
    if (ev->op != LKS_CDC_UPDATE || !ev->has_before || !ev->has_after || ev->nkey <= 0 || !ev->schema)
        return 0;
    int differ = 0;
    for (int k = 0; k < ev->nkey; k++) {
        int f = ev->key[k];
        if (f < 0 || f >= ev->before.n || f >= ev->after.n || ev->before.v[f].kind == LKS_CV_ABSENT ||
            ev->after.v[f].kind == LKS_CV_ABSENT)
            return 0;
        differ |= !same_value(&ev->before.v[f], &ev->after.v[f]);
    }
    if (!differ)
        return 0;
    lks_cdc_event old = *ev;
    old.has_after = 0;
    lks_buf_reset(&c->key2);
    lks_buf_reset(&c->key);
    int rc = lks_dbz_write_key(&c->key2, &old, &c->keyo, err);
    if (!rc)
        rc = lks_dbz_write_key(&c->key, ev, &c->keyo, err);
    if (rc)
        return rc;
    return c->key.len != c->key2.len || memcmp(c->key.ptr, c->key2.ptr, c->key.len) != 0;
}

/* The header value of the key of `side` (the other key of a primary-key
 * change) into c->hval. */
static int key_header(lks_kafka_capture *c, const lks_cdc_event *side, lks_err *err) {
    lks_buf_reset(&c->hval);
    int rc = c->o.header_json ? lks_dbz_write_key(&c->hval, side, &c->hdro, err)
                              : lks_dbz_write_key_text(&c->hval, side, &c->hdro, err);
    if (!rc && !c->hval.ptr && lks_buf_reserve(&c->hval, 1))
        rc = lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    return rc;
}

/* An update of the primary key: delete of the old key (+ tombstone) with
 * __debezium.newkey, create of the new key with __debezium.oldkey. */
static int send_key_change(lks_kafka_capture *c, const char *topic, const lks_cdc_event *ev, lks_err *err) {
    lks_cdc_event del = *ev, cre = *ev;
    del.op = LKS_CDC_DELETE;
    del.has_after = 0;
    cre.op = LKS_CDC_CREATE;
    cre.has_before = 0;
    int rc = key_header(c, &cre, err);
    if (rc)
        return lks_err_prefix(err, "capture: new key of %s", topic);
    c->hdr[0] = (lks_kafka_header){"__debezium.newkey", c->hval.ptr, c->hval.len};
    lks_buf_reset(&c->val);
    if ((rc = lks_dbz_write(&c->val, &del, &c->o.value, err)) != LKS_OK)
        return lks_err_prefix(err, "capture: event of %s", topic);
    rc = lks_kafka_produce(c->p, topic, -1, c->key2.ptr, c->key2.len, c->val.ptr, c->val.len, c->hdr, 1 + c->nctx, err);
    if (!rc && c->o.tombstones)
        rc = lks_kafka_produce(c->p, topic, -1, c->key2.ptr, c->key2.len, NULL, 0, c->hdr, 1 + c->nctx, err);
    if (rc)
        return rc;
    if ((rc = key_header(c, &del, err)) != LKS_OK)
        return lks_err_prefix(err, "capture: old key of %s", topic);
    c->hdr[0] = (lks_kafka_header){"__debezium.oldkey", c->hval.ptr, c->hval.len};
    lks_buf_reset(&c->val);
    if ((rc = lks_dbz_write(&c->val, &cre, &c->o.value, err)) != LKS_OK)
        return lks_err_prefix(err, "capture: event of %s", topic);
    return lks_kafka_produce(c->p, topic, -1, c->key.ptr, c->key.len, c->val.ptr, c->val.len, c->hdr, 1 + c->nctx, err);
}

int lks_kafka_capture_event(lks_kafka_capture *c, const lks_cdc_event *ev, lks_err *err) {
    const char *db = ev->source.db ? ev->source.db : "", *table = ev->source.table ? ev->source.table : "";
    lks_buf_reset(&c->topic);
    int rc = lks_buf_printf(&c->topic, "%s.%s.%s", c->prefix, db, table);
    if (!rc)
        rc = lks_buf_cstr(&c->topic);
    if (rc)
        return lks_err_set(err, rc, "capture: out of memory");
    const char *topic = (const char *)c->topic.ptr;
    if ((rc = ensure_topic(c, topic, err)) != LKS_OK)
        return rc;
    const lks_kafka_header *ctx = c->nctx ? &c->hdr[1] : NULL;
    int changed = key_changed(c, ev, err);
    if (changed < 0)
        return lks_err_prefix(err, "capture: key of %s", topic);
    if (changed) {
        rc = send_key_change(c, topic, ev, err);
        if (!rc)
            c->unflushed++;
        return rc;
    }
    lks_buf_reset(&c->key);
    lks_buf_reset(&c->val);
    int keyed = ev->op != LKS_CDC_TRUNCATE && ev->nkey > 0;
    if (keyed && (rc = lks_dbz_write_key(&c->key, ev, &c->keyo, err)) != LKS_OK)
        return lks_err_prefix(err, "capture: key of %s", topic);
    if ((rc = lks_dbz_write(&c->val, ev, &c->o.value, err)) != LKS_OK)
        return lks_err_prefix(err, "capture: event of %s", topic);
    const void *k = keyed ? c->key.ptr : NULL;
    size_t kl = keyed ? c->key.len : 0;
    int part = ev->op == LKS_CDC_TRUNCATE ? 0 : -1;
    rc = lks_kafka_produce(c->p, topic, part, k, kl, c->val.ptr, c->val.len, ctx, c->nctx, err);
    if (!rc && keyed && ev->op == LKS_CDC_DELETE && c->o.tombstones)
        rc = lks_kafka_produce(c->p, topic, -1, k, kl, NULL, 0, ctx, c->nctx, err);
    if (!rc)
        c->unflushed++;
    return rc;
}

/* Writes the offsets file: temporary file, fsync, rename, fsync(dir). */
static int save_position(const char *path, const char *file, uint64_t pos, lks_err *err) {
    char tmp[4096], line[512], dir[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return lks_err_set(err, LKS_EINVAL, "capture: offsets.file path too long");
    int n = lks_pipeline_pos_save_text(file, pos, line, sizeof line, err);
    if (n < 0)
        return n;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return lks_err_set(err, LKS_EIO, "capture: %s: %s", tmp, strerror(errno));
    int ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved = errno;
        unlink(tmp);
        return lks_err_set(err, LKS_EIO, "capture: writing %s: %s", path, strerror(saved));
    }
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return LKS_OK;
}

int lks_kafka_capture_boundary(lks_kafka_capture *c, const char *file, uint64_t pos, int force, lks_err *err) {
    int64_t t = now_ms();
    if (!force && t - c->last_flush_ms < c->o.flush_interval_ms)
        return LKS_OK;
    int rc = lks_kafka_flush(c->p, c->o.stop, err);
    if (rc)
        return lks_err_prefix(err, "capture");
    c->last_flush_ms = t;
    if (c->offsets_file && file && *file) {
        if ((rc = save_position(c->offsets_file, file, pos, err)) != LKS_OK)
            return rc;
        if (c->unflushed)
            lks_log(LKS_LOG_DEBUG, "capture", "%lld event(s) acknowledged; position %s:%" PRIu64 " saved",
                    (long long)c->unflushed, file, pos);
    }
    c->unflushed = 0;
    return LKS_OK;
}

int lks_kafka_offsets_read(const char *path, char *buf, size_t cap, lks_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return lks_err_set(err, LKS_EIO, "capture: %s: %s", path, strerror(errno));
    }
    char line[600];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    int rc = lks_pipeline_pos_load_text(line, path, buf, cap, err);
    if (rc)
        return rc;
    return 1;
}
