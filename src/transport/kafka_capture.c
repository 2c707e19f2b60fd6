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
 * The position: at a source transaction boundary, when
 * offset.flush.interval.ms has passed (or forced), the producer is flushed
 * — every message acknowledged by the brokers, or an error — and only then
 * is the boundary's binlog position written to the offsets file (a
 * temporary file, fsync, rename, fsync of the directory).  A restart reads
 * the position and streams from there: what was sent after it is sent
 * again (at least once; the merge's upserts make the repeat harmless).
 */
#include "transport/kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lks_kafka_capture {
    lks_kafka_capture_opts o;
    char *prefix, *offsets_file;
    lks_kafka_producer *p;
    lks_dbz_write_opts keyo;
    lks_buf key, val, topic;
    int64_t last_flush_ms;
    int64_t unflushed;
};

static int64_t now_ms(void) { return (int64_t)(lks_mono_ns() / 1000000u); }

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
    lks_buf_init(&c->val, 0);
    lks_buf_init(&c->topic, 0);
    if (!c->prefix || (o->offsets_file && !c->offsets_file)) {
        lks_kafka_capture_free(c);
        return lks_err_set(err, LKS_ENOMEM, "capture: out of memory");
    }
    c->keyo = o->value;
    c->keyo.schemas_enable = o->key_schemas;
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
    lks_buf_free(&c->val);
    lks_buf_free(&c->topic);
    free(c->prefix);
    free(c->offsets_file);
    free(c);
}

int64_t lks_kafka_capture_sent(const lks_kafka_capture *c) { return c ? lks_kafka_delivered(c->p) : 0; }

int lks_kafka_capture_event(lks_kafka_capture *c, const lks_cdc_event *ev, lks_err *err) {
    const char *db = ev->source.db ? ev->source.db : "", *table = ev->source.table ? ev->source.table : "";
    lks_buf_reset(&c->topic);
    int rc = lks_buf_printf(&c->topic, "%s.%s.%s", c->prefix, db, table);
    if (!rc)
        rc = lks_buf_cstr(&c->topic);
    if (rc)
        return lks_err_set(err, rc, "capture: out of memory");
    const char *topic = (const char *)c->topic.ptr;
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
    rc = lks_kafka_produce(c->p, topic, part, k, kl, c->val.ptr, c->val.len, NULL, 0, err);
    if (!rc && keyed && ev->op == LKS_CDC_DELETE && c->o.tombstones)
        rc = lks_kafka_produce(c->p, topic, -1, k, kl, NULL, 0, NULL, 0, err);
    if (!rc)
        c->unflushed++;
    return rc;
}

/* Writes the offsets file: temporary file, fsync, rename, fsync(dir). */
static int save_position(const char *path, const char *file, uint64_t pos, lks_err *err) {
    char tmp[4096], line[512], dir[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return lks_err_set(err, LKS_EINVAL, "capture: offsets.file path too long");
    int n = snprintf(line, sizeof line, "{\"file\":\"%s\",\"pos\":%" PRIu64 "}\n", file, pos);
    if (n <= 0 || n >= (int)sizeof line)
        return lks_err_set(err, LKS_EINVAL, "capture: binlog file name too long");
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
        if (strchr(file, '"') || strchr(file, '\\') || strchr(file, '\n'))
            return lks_err_set(err, LKS_EINVAL, "capture: binlog file name '%s' cannot be saved", file);
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
    /* exactly what save_position writes */
    const char *p = line;
    char file[400];
    unsigned long long pos;
    int used = 0;
    if (sscanf(p, "{\"file\":\"%399[^\"]\",\"pos\":%llu}%n", file, &pos, &used) != 2 || used == 0 ||
        (p[used] && strcmp(p + used, "\n") != 0) || pos > UINT32_MAX)
        return lks_err_set(err, LKS_ECORRUPT, "capture: %s is not an offsets file ({\"file\":...,\"pos\":...})",
                           path);
    if ((size_t)snprintf(buf, cap, "%s:%llu", file, pos) >= cap)
        return lks_err_set(err, LKS_ELIMIT, "capture: %s: position too long", path);
    return 1;
}
