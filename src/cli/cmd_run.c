/* cmd_run.c — `lakesync run` (a MySQL/MariaDB source into Delta tables) and
 * `lakesync capture` (the same source as Debezium JSON lines). */
#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "transport/kafka.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char run_usage[] =
    "usage: lakesync run -c FILE [-o KEY=VALUE]... [--stop-at-end]\n"
    "\n"
    "Keeps Delta tables in sync with a MySQL/MariaDB database: snapshots the tables\n"
    "the lake does not hold yet (one consistent read view, no global lock on\n"
    "MariaDB), then follows the binlog and applies every insert, update and delete\n"
    "to <warehouse>/<db>/<table> as UPSERTs, committing every merge.interval.ms at\n"
    "a source transaction boundary.  Each commit stores the binlog position with\n"
    "the data (a `txn` action \"lakesync:binlog:<topic.prefix>\"), so a run that is\n"
    "stopped or killed continues exactly where each table stands.  On MariaDB the\n"
    "commit also stores the GTID position (\"lakesync:gtid:<topic.prefix>:<domain>-\n"
    "<server>\"): pointed at another server after a failover, the run resumes from\n"
    "it, since that server's binlog files and offsets differ.\n"
    "\n"
    "  -c FILE         properties file (see `lakesync config list`: database.*,\n"
    "                  table.include.list, snapshot.mode, warehouse, merge.*)\n"
    "  -o KEY=VALUE    set one property (after the file; repeatable)\n"
    "  --stop-at-end   exit once the binlog end seen at start is in the lake\n"
    "                  (default: run until SIGINT/SIGTERM, then commit and exit 0)\n"
    "\n"
    "The server needs binlog_format=ROW, and binlog_row_metadata=FULL (MariaDB >=\n"
    "10.5, MySQL >= 8.0.1) is best: without it column names, keys and ENUM/SET\n"
    "members come from information_schema, and a DDL lakesync cannot place at its\n"
    "binlog position (one that came after rows still to be read) stops the run.\n"
    "The user needs SELECT, RELOAD, SHOW DATABASES,\n"
    "REPLICATION SLAVE and REPLICATION CLIENT (MariaDB: also BINLOG MONITOR).\n"
    "A status line (phase, events/s, lag, last version, binlog position) is drawn\n"
    "on a terminal; -v logs every commit.\n"
    "\n"
    "transport=kafka sends the changes through Kafka instead (kafka.bootstrap.servers,\n"
    "kafka.*): captured into topics <topic.prefix>.<db>.<table> as `lakesync capture`\n"
    "with capture.output=kafka does (offsets.file keeps the capture's position), and\n"
    "merged back from every topic of the prefix by the streaming merge (`lakesync\n"
    "merge --from kafka://...`, consumer group lakesync-run.<topic.prefix>) into\n"
    "<warehouse>/<db>/<table>.  With --stop-at-end one merge at the end reads the\n"
    "topics up to their end offsets.\n";

static const char capture_usage[] =
    "usage: lakesync capture -c FILE [-o KEY=VALUE]... [--stop-at-end] [--schemas]\n"
    "                        [--from-position FILE:POS]\n"
    "\n"
    "Writes the changes of a MySQL/MariaDB database to stdout as Debezium change\n"
    "events (the MySQL connector's JSON, one line per row change and nothing\n"
    "else): first a snapshot of the admitted tables as `r` events (per\n"
    "snapshot.mode), then the binlog's inserts, updates and deletes.  Logs and\n"
    "the status line go to stderr.\n"
    "\n"
    "  -c FILE, -o KEY=VALUE, --stop-at-end   as for `lakesync run`\n"
    "  --schemas                 each line with the {\"schema\",\"payload\"} envelope\n"
    "  --from-position FILE:POS  no snapshot: stream from this binlog position\n"
    "\n"
    "capture stores no position: resume with --from-position (each event's\n"
    "source.file and source.pos say where it is; a transaction interrupted by a\n"
    "lost connection is sent again from its start).\n"
    "\n"
    "With capture.output=kafka the events go to Kafka instead, as Debezium's MySQL\n"
    "connector writes them: topics <topic.prefix>.<db>.<table>, the primary key's\n"
    "JSON as message key (key.converter.schemas.enable), the event as value\n"
    "(value.converter.schemas.enable, or --schemas), a tombstone after each delete\n"
    "(tombstones.on.delete), keyed messages partitioned as Kafka's Java clients do.\n"
    "The producer is idempotent; at a transaction boundary, every\n"
    "offset.flush.interval.ms, capture waits until Kafka has acknowledged\n"
    "everything sent and then saves the binlog position in offsets.file, from which\n"
    "the next start resumes (a restart sends again what followed that position).\n"
    "A primary-key change is a delete with header __debezium.newkey and a create\n"
    "with __debezium.oldkey (header.converter), every message carries the\n"
    "__debezium.context.* headers (extended.headers.enabled), and with\n"
    "topic.creation.default.partitions and .replication.factor each topic is\n"
    "created through the admin API before its first message.\n"
    "Properties: kafka.bootstrap.servers, any kafka.* librdkafka property (`lakesync\n"
    "config list` shows them all), and kafka.aws.msk.iam=true (kafka.aws.region) for\n"
    "Amazon MSK IAM authentication.\n"
    "\n"
    "With capture.output=rawzone the events go straight into a raw zone at raw.path\n"
    "(a directory or s3://bucket/prefix) in the layout the Confluent S3 sink writes\n"
    "from Debezium's topics, for `lakesync merge --from` to read: topics.dir/\n"
    "<topic.prefix>.<db>.<table>/partition=0/<topic>+0+<offset>.json, one event per\n"
    "line, the primary keys beside them (.keys.json), consecutive offsets per table,\n"
    "objects cut by flush.size and rotate.interval.ms (s3.compression.type=gzip as\n"
    "for `lakesync sink`).  Every offset.flush.interval.ms, at a transaction\n"
    "boundary, the open objects are published and then the binlog position is saved\n"
    "in raw.path/_lakesync/capture.<topic.prefix>.json, from which the next start\n"
    "resumes; what followed it is captured again under new offsets (at least once).\n";

static volatile sig_atomic_t stop_flag;
/* A second signal: stop waiting for Kafka's acknowledgements too (the
 * position is then not saved, and what followed it is sent again). */
static volatile sig_atomic_t hard_stop;

static void on_signal(int sig) {
    (void)sig;
    if (stop_flag) hard_stop = 1;
    stop_flag = 1;
}

static void draw_status(void *ud, const lks_pipeline_status *st) {
    (void)ud;
    char line[256];
    if (st->phase && strcmp(st->phase, "snapshot") == 0 && st->table) {
        double rate = st->snap_rate;
        if (st->snap_total > 0 && rate > 0 && st->snap_rows < st->snap_total)
            snprintf(line, sizeof line, "snapshot %s: %lld of ~%lld rows (%.0f%%), %.0f rows/s, ETA %.0f s", st->table,
                     (long long)st->snap_rows, (long long)st->snap_total,
                     100.0 * (double)st->snap_rows / (double)st->snap_total, rate,
                     (double)(st->snap_total - st->snap_rows) / rate);
        else
            snprintf(line, sizeof line, "snapshot %s: %lld rows, %.0f rows/s", st->table, (long long)st->snap_rows, rate);
    } else {
        snprintf(line, sizeof line, "%s | %lld events, %.0f/s | lag %.0f s | %lld commits, last version %lld | %s:%llu",
                 st->phase ? st->phase : "", (long long)st->events, st->events_per_s, st->lag_s,
                 (long long)st->commits, (long long)st->last_version, st->file ? st->file : "",
                 (unsigned long long)st->pos);
    }
    lks_cli_status_line(line);
}

static int emit_kafka(void *ud, const lks_cdc_event *ev, lks_err *err) {
    return lks_kafka_capture_event(ud, ev, err);
}

static int boundary_kafka(void *ud, const char *file, uint64_t pos, int force, lks_err *err) {
    return lks_kafka_capture_boundary(ud, file, pos, force, err);
}

static int emit_rz(void *ud, const lks_cdc_event *ev, lks_err *err) { return lks_rz_capture_event(ud, ev, err); }

static int boundary_rz(void *ud, const char *file, uint64_t pos, int force, lks_err *err) {
    return lks_rz_capture_boundary(ud, file, pos, force, err);
}

/* capture.output=rawzone: the raw zone writer, and the position to resume
 * from (saved in the raw zone, unless --from-position says otherwise). */
static int rz_capture_setup(const lks_config *cfg, int schemas, const char **from, char *posbuf, size_t cap,
                            lks_store **raw, lks_rz_capture **out) {
    lks_err err = {0};
    const char *path = lks_config_get_str(cfg, "raw.path");
    if (!path || !*path) return lks_cli_errorf("capture.output=rawzone needs raw.path (a directory or s3://bucket/prefix)");
    lks_store_opts so;
    lks_store_opts_from_config(&so, cfg);
    if (lks_store_open_opts(path, &so, raw, &err) != LKS_OK) return lks_cli_error(&err);
    lks_rz_capture_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.raw = *raw;
    ro.topic_prefix = lks_config_get_str(cfg, "topic.prefix");
    ro.w.topics_dir = lks_config_get_str(cfg, "topics.dir");
    ro.w.flush_size = lks_config_get_int(cfg, "flush.size");
    int64_t ri = lks_config_get_int(cfg, "rotate.interval.ms");
    ro.w.rotate_interval_ms = ri > 0 ? ri : 0;
    ro.w.gzip = lks_config_get_enum(cfg, "s3.compression.type") == 1;
    ro.w.store_keys = 1; /* the merge finds primary keys there */
    ro.key_schemas = lks_config_get_bool(cfg, "key.converter.schemas.enable");
    ro.value.schemas_enable = schemas || lks_config_get_bool(cfg, "value.converter.schemas.enable");
    ro.flush_interval_ms = lks_config_get_int(cfg, "offset.flush.interval.ms");
    if (lks_rz_capture_new(&ro, out, &err) != LKS_OK) return lks_cli_error(&err);
    if (!*from) {
        int r = lks_rz_capture_position(*out, posbuf, cap, &err);
        if (r < 0) return lks_cli_error(&err);
        if (r == 1) {
            *from = posbuf;
            lks_log(LKS_LOG_INFO, "capture", "resuming from %s (saved in %s)", posbuf, path);
        }
    }
    return LKS_EXIT_OK;
}

/* capture.output=kafka: the producer, and the position to resume from (the
 * offsets file, unless --from-position says otherwise). */
static int kafka_capture_setup(const lks_config *cfg, int schemas, const char **from, char *posbuf, size_t cap,
                               lks_arena *a, lks_kafka_capture **out) {
    lks_err err = {0};
    lks_kafka_capture_opts ko;
    memset(&ko, 0, sizeof ko);
    if (lks_kafka_opts_from_config(cfg, 1, a, &ko.k, &err) != LKS_OK)
        return lks_cli_error(&err);
    ko.topic_prefix = lks_config_get_str(cfg, "topic.prefix");
    ko.key_schemas = lks_config_get_bool(cfg, "key.converter.schemas.enable");
    ko.value.schemas_enable = schemas || lks_config_get_bool(cfg, "value.converter.schemas.enable");
    ko.tombstones = lks_config_get_bool(cfg, "tombstones.on.delete");
    ko.offsets_file = lks_config_get_str(cfg, "offsets.file");
    ko.flush_interval_ms = lks_config_get_int(cfg, "offset.flush.interval.ms");
    ko.stop = &hard_stop;
    if (lks_kafka_capture_conf(cfg, a, &ko, &err) != LKS_OK)
        return lks_cli_error(&err);
    if (!*from && ko.offsets_file) {
        int r = lks_kafka_offsets_read(ko.offsets_file, posbuf, cap, &err);
        if (r < 0)
            return lks_cli_error(&err);
        if (r == 1) {
            *from = posbuf;
            lks_log(LKS_LOG_INFO, "capture", "resuming from %s (%s)", posbuf, ko.offsets_file);
        }
    } else if (!ko.offsets_file) {
        lks_log(LKS_LOG_WARN, "capture", "offsets.file is not set: the position is not kept (a restart snapshots again)");
    }
    if (lks_kafka_capture_new(&ko, out, &err) != LKS_OK)
        return lks_cli_error(&err);
    return LKS_EXIT_OK;
}

/* ---- run with transport=kafka: capture into Kafka on this thread, the
 * streaming merge of the same topics on another ------------------------------------------- */

typedef struct kmerge_run {
    lks_kafka_merge_opts ko;
    lks_store *wh;
    lks_delta_kv props[1];
    const char *topics[1];
    char pattern[600], group[300];
    volatile sig_atomic_t stop;
    int rc;
    lks_err err;
    pthread_t th;
    int started;
} kmerge_run;

static void merge_progress(void *ud, const lks_merge_stats *st, int committed, double elapsed) {
    (void)ud;
    if (committed)
        lks_log(LKS_LOG_INFO, "run", "merged %lld events: %lld upserts, %lld deletes, version %lld (%.3f s)",
                (long long)st->events, (long long)st->upserts, (long long)st->deletes, (long long)st->version,
                elapsed);
}

static void *merge_main(void *ud) {
    kmerge_run *m = ud;
    m->rc = lks_kafka_merge(&m->ko, NULL, &m->err);
    if (m->rc)
        stop_flag = 1; /* the capture stops too: nothing would merge what it sends */
    return NULL;
}

/* The merge's options: every topic of the prefix into <warehouse>/<db>/<table>. */
static int kmerge_setup(const lks_config *cfg, lks_arena *a, kmerge_run *m) {
    lks_err err = {0};
    const char *prefix = lks_config_get_str(cfg, "topic.prefix");
    const char *wh = lks_config_get_str(cfg, "warehouse.path");
    if (!wh) wh = lks_config_get_str(cfg, "warehouse");
    lks_store_opts so;
    lks_store_opts_from_config(&so, cfg);
    if (lks_kafka_opts_from_config(cfg, 1, a, &m->ko.k, &err) != LKS_OK ||
        lks_store_open_opts(wh, &so, &m->wh, &err) != LKS_OK)
        return lks_cli_error(&err);
    /* ^<prefix>\..+ with the prefix's regex characters escaped */
    size_t n = 0;
    n += (size_t)snprintf(m->pattern, sizeof m->pattern, "^");
    for (const char *q = prefix; *q && n + 4 < sizeof m->pattern; q++) {
        if (strchr(".[]{}()\\*+?^$|", *q)) m->pattern[n++] = '\\';
        m->pattern[n++] = *q;
    }
    snprintf(m->pattern + n, sizeof m->pattern - n, "\\..+");
    snprintf(m->group, sizeof m->group, "lakesync-run.%s", prefix);
    m->topics[0] = m->pattern;
    m->ko.topics = m->topics;
    m->ko.ntopics = 1;
    m->ko.group = m->group;
    m->ko.interval_ms = lks_config_get_int(cfg, "merge.interval.ms");
    m->ko.m.warehouse = m->wh;
    m->ko.m.max_batch_events = lks_config_get_int(cfg, "merge.max.events");
    m->ko.m.stop = &m->stop;
    m->ko.m.progress = merge_progress;
    if (lks_config_get_bool(cfg, "delta.enableDeletionVectors")) {
        m->props[0] = (lks_delta_kv){"delta.enableDeletionVectors", "true"};
        m->ko.m.merge.table_properties = m->props;
        m->ko.m.merge.ntable_properties = 1;
    }
    return LKS_EXIT_OK;
}

static int run_or_capture(int argc, char **argv, int capture) {
    const char *name = capture ? "capture" : "run";
    const char *conf = NULL, *from = NULL;
    char **ov = calloc((size_t)argc + 1, sizeof *ov);
    int nov = 0, stop_at_end = 0, schemas = 0;
    if (!ov) return lks_cli_errorf("out of memory");
    int rc = LKS_EXIT_OK;
    for (int i = 1; i < argc && rc == LKS_EXIT_OK; i++) {
        const char *v;
        int m;
        if (lks_cli_is_help(argv[i])) {
            fputs(capture ? capture_usage : run_usage, stdout);
            free(ov);
            return LKS_EXIT_OK;
        } else if ((m = lks_cli_opt_value(name, argc, argv, &i, "-c", &v)) != 0 ||
                   (m = lks_cli_opt_value(name, argc, argv, &i, "--config", &v)) != 0) {
            if (m < 0) rc = LKS_EXIT_USAGE;
            else conf = v;
        } else if ((m = lks_cli_opt_value(name, argc, argv, &i, "-o", &v)) != 0) {
            if (m < 0) rc = LKS_EXIT_USAGE;
            else ov[nov++] = (char *)v;
        } else if (strcmp(argv[i], "--stop-at-end") == 0) {
            stop_at_end = 1;
        } else if (capture && strcmp(argv[i], "--schemas") == 0) {
            schemas = 1;
        } else if (capture && (m = lks_cli_opt_value(name, argc, argv, &i, "--from-position", &v)) != 0) {
            if (m < 0) rc = LKS_EXIT_USAGE;
            else from = v;
        } else {
            rc = lks_cli_usage_error(name, "unknown argument '%s'", argv[i]);
        }
    }
    if (rc == LKS_EXIT_OK && !conf && !nov) rc = lks_cli_usage_error(name, "needs -c FILE (or -o KEY=VALUE settings)");
    lks_config *cfg = NULL;
    if (rc == LKS_EXIT_OK) rc = lks_cli_load_config(conf, ov, nov, &cfg);
    free(ov);
    if (rc != LKS_EXIT_OK) return rc;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lks_pipeline_opts o;
    memset(&o, 0, sizeof o);
    o.cfg = cfg;
    o.stop_at_end = stop_at_end;
    o.stop = &stop_flag;
    o.events_out = capture ? stdout : NULL;
    o.events_schemas = schemas;
    lks_kafka_capture *kc = NULL;
    lks_rz_capture *rzc = NULL;
    lks_store *raw = NULL;
    char posbuf[512];
    lks_arena ka;
    lks_arena_init(&ka, 0);
    kmerge_run *km = NULL;
    int kafka_run = !capture && lks_config_get_enum(cfg, "transport") == 1;
    if (kafka_run) {
        km = calloc(1, sizeof *km);
        rc = km ? kmerge_setup(cfg, &ka, km) : lks_cli_errorf("out of memory");
        /* with --stop-at-end one merge at the end reads it all: a group
         * member that leaves before its first assignment would only hold
         * up the next run's rebalance */
        if (rc == LKS_EXIT_OK && !stop_at_end && pthread_create(&km->th, NULL, merge_main, km) != 0)
            rc = lks_cli_errorf("cannot start the merge thread");
        if (rc != LKS_EXIT_OK) {
            if (km) lks_store_close(km->wh);
            free(km);
            lks_arena_free(&ka);
            lks_config_free(cfg);
            return rc;
        }
        km->started = !stop_at_end;
    }
    if ((capture && lks_config_get_enum(cfg, "capture.output") == 1) || kafka_run) {
        rc = kafka_capture_setup(cfg, schemas || kafka_run, &from, posbuf, sizeof posbuf, &ka, &kc);
        if (rc != LKS_EXIT_OK) {
            if (km) {
                km->stop = 1;
                if (km->started) pthread_join(km->th, NULL);
                lks_store_close(km->wh);
                free(km);
            }
            lks_arena_free(&ka);
            lks_config_free(cfg);
            return rc;
        }
        o.events_out = NULL;
        o.emit = emit_kafka;
        o.boundary = boundary_kafka;
        o.emit_ud = kc;
    }
    if (capture && lks_config_get_enum(cfg, "capture.output") == 2) {
        rc = rz_capture_setup(cfg, schemas, &from, posbuf, sizeof posbuf, &raw, &rzc);
        if (rc != LKS_EXIT_OK) {
            lks_rz_capture_free(rzc);
            lks_store_close(raw);
            lks_arena_free(&ka);
            lks_config_free(cfg);
            return rc;
        }
        o.events_out = NULL;
        o.emit = emit_rz;
        o.boundary = boundary_rz;
        o.emit_ud = rzc;
    }
    o.from_position = from;
    int tty = isatty(STDERR_FILENO);
    if (tty) o.status = draw_status;
    lks_err err;
    lks_err_clear(&err);
    int r = lks_pipeline_run(&o, &err);
    if (tty) lks_cli_status_line(NULL);
    if (km) {
        /* the merge thread stops; with --stop-at-end one last merge reads
         * every topic of the prefix up to its end */
        km->stop = 1;
        if (km->started) pthread_join(km->th, NULL);
        if (r == LKS_OK && km->rc) {
            r = km->rc;
            err = km->err;
        }
        if (r == LKS_OK && stop_at_end) {
            km->stop = 0;
            km->ko.once = 1;
            r = lks_kafka_merge(&km->ko, NULL, &err);
        }
        lks_store_close(km->wh);
        free(km);
    }
    lks_config_free(cfg);
    if (kc) {
        lks_log(LKS_LOG_INFO, "capture", "%lld message(s) acknowledged by Kafka", (long long)lks_kafka_capture_sent(kc));
        lks_kafka_capture_free(kc);
    }
    if (rzc) {
        lks_log(LKS_LOG_INFO, "capture", "%lld event(s) written to the raw zone", (long long)lks_rz_capture_written(rzc));
        lks_rz_capture_free(rzc);
        lks_store_close(raw);
    }
    lks_arena_free(&ka);
    if (r != LKS_OK) return lks_cli_error(&err);
    if (capture && fflush(stdout) != 0) return lks_cli_errorf("capture: writing stdout failed");
    return LKS_EXIT_OK;
}

int lks_cmd_run(int argc, char **argv) { return run_or_capture(argc, argv, 0); }
int lks_cmd_capture(int argc, char **argv) { return run_or_capture(argc, argv, 1); }
