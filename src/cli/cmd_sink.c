/* cmd_sink.c — `lakesync sink`: Kafka topics into the raw zone. */
#include "cli/cli.h"
#include "transport/kafka.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: lakesync sink -c FILE [-o KEY=VALUE]... [--once]\n"
    "\n"
    "Copies Kafka topics into the raw zone as the Confluent S3 sink connector does:\n"
    "RAW/<topics.dir>/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json[.gz], one\n"
    "record value per line, an object every flush.size records (or by\n"
    "rotate.interval.ms of record time, rotate.schedule.interval.ms of wall clock),\n"
    "keys beside the values with store.kafka.keys.  `lakesync merge --from RAW`\n"
    "then merges them into Delta tables.\n"
    "\n"
    "Exactly once: objects are named from their first offset and a partition's\n"
    "offset is committed to the consumer group only once every record before it is\n"
    "in a published object; a sink that is stopped or killed restarts from the\n"
    "committed offsets and rewrites at most the object it had open (same name, same\n"
    "records).  Several sinks in one group share the partitions; before partitions\n"
    "move, the open objects are published and committed.\n"
    "\n"
    "  -c FILE         properties file: raw.path, kafka.bootstrap.servers, topics or\n"
    "                  topics.regex, group.id, topics.dir, flush.size,\n"
    "                  rotate.interval.ms, rotate.schedule.interval.ms,\n"
    "                  behavior.on.null.values, store.kafka.keys, s3.compression.type\n"
    "                  any kafka.* librdkafka property, kafka.aws.msk.iam=true and\n"
    "                  kafka.aws.region for Amazon MSK IAM (`lakesync config list`)\n"
    "  -o KEY=VALUE    set one property (after the file; repeatable)\n"
    "  --once          copy up to the end offsets seen at start, publish, exit\n"
    "                  (default: run until SIGINT/SIGTERM, then publish what is open)\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static void on_progress(void *ud, const lks_kafka_sink_stats *st) {
    (void)ud;
    lks_log(LKS_LOG_INFO, "sink", "%lld records, %lld commits", (long long)st->records, (long long)st->commits);
}

/* "a, b" → names in a. */
static int split_topics(const char *list, lks_arena *a, const char ***out) {
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    const char **v = lks_arena_alloc(a, cap * sizeof *v);
    if (!v)
        return -1;
    int n = 0;
    for (const char *p = list; *p;) {
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

static int sink(const lks_config *cfg, int once) {
    lks_err err = {0};
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_store *raw = NULL;
    lks_kafka_sink_opts o;
    memset(&o, 0, sizeof o);
    int rc = LKS_EXIT_OK;
    const char *path = lks_config_get_str(cfg, "raw.path");
    const char *topics = lks_config_get_str(cfg, "topics"), *regex = lks_config_get_str(cfg, "topics.regex");
    if (!path) {
        rc = lks_cli_usage_error("sink", "raw.path is not set (where the raw zone goes)");
        goto done;
    }
    if (!topics == !regex) {
        rc = lks_cli_usage_error("sink", "set one of topics or topics.regex");
        goto done;
    }
    if (lks_kafka_opts_from_config(cfg, 1, &a, &o.k, &err) != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    if (topics) {
        const char **v;
        int n = split_topics(topics, &a, &v);
        if (n <= 0) {
            rc = n < 0 ? lks_cli_errorf("out of memory") : lks_cli_usage_error("sink", "topics is empty");
            goto done;
        }
        o.topics = v;
        o.ntopics = n;
    } else {
        /* topics.regex matches whole names (Kafka Connect); librdkafka
         * takes a pattern starting with ^ */
        const char **v = lks_arena_alloc(&a, sizeof *v);
        char *pat = lks_arena_printf(&a, "^(%s)$", regex);
        if (!v || !pat) {
            rc = lks_cli_errorf("out of memory");
            goto done;
        }
        v[0] = pat;
        o.topics = v;
        o.ntopics = 1;
    }
    o.group = lks_config_get_str(cfg, "group.id");
    o.once = once;
    o.stop = &stop_flag;
    o.progress = on_progress;
    o.w.topics_dir = lks_config_get_str(cfg, "topics.dir");
    o.w.flush_size = lks_config_get_int(cfg, "flush.size");
    int64_t ri = lks_config_get_int(cfg, "rotate.interval.ms"), rs = lks_config_get_int(cfg, "rotate.schedule.interval.ms");
    o.w.rotate_interval_ms = ri > 0 ? ri : 0;
    o.w.rotate_schedule_interval_ms = rs > 0 ? rs : 0;
    o.w.tombstones = lks_config_get_enum(cfg, "behavior.on.null.values") == 1;
    o.w.store_keys = lks_config_get_bool(cfg, "store.kafka.keys");
    o.w.gzip = lks_config_get_enum(cfg, "s3.compression.type") == 1;
    if (lks_store_open(path, &raw, &err) != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    lks_kafka_sink_stats st;
    if (lks_kafka_sink(raw, &o, &st, &err) != LKS_OK) {
        rc = lks_cli_error(&err);
        if (rc == LKS_EXIT_USAGE && err.code != LKS_ECONFIG)
            rc = LKS_EXIT_ERR;
        goto done;
    }
    printf("sink: %lld records, %lld offset commits\n", (long long)st.records, (long long)st.commits);
done:
    lks_store_close(raw);
    lks_arena_free(&a);
    return rc;
}

int lks_cmd_sink(int argc, char **argv) {
    const char *conf = NULL;
    char **ov = calloc((size_t)argc + 1, sizeof *ov);
    int nov = 0, once = 0, rc = LKS_EXIT_OK;
    if (!ov)
        return lks_cli_errorf("out of memory");
    for (int i = 1; i < argc && rc == LKS_EXIT_OK; i++) {
        const char *v;
        int m;
        if (lks_cli_is_help(argv[i])) {
            fputs(usage_text, stdout);
            free(ov);
            return LKS_EXIT_OK;
        } else if ((m = lks_cli_opt_value("sink", argc, argv, &i, "-c", &v)) != 0 ||
                   (m = lks_cli_opt_value("sink", argc, argv, &i, "--config", &v)) != 0) {
            if (m < 0)
                rc = LKS_EXIT_USAGE;
            else
                conf = v;
        } else if ((m = lks_cli_opt_value("sink", argc, argv, &i, "-o", &v)) != 0) {
            if (m < 0)
                rc = LKS_EXIT_USAGE;
            else
                ov[nov++] = (char *)v;
        } else if (strcmp(argv[i], "--once") == 0) {
            once = 1;
        } else {
            rc = lks_cli_usage_error("sink", "unknown argument '%s'", argv[i]);
        }
    }
    if (rc == LKS_EXIT_OK && !conf && !nov)
        rc = lks_cli_usage_error("sink", "needs -c FILE (or -o KEY=VALUE settings)");
    lks_config *cfg = NULL;
    if (rc == LKS_EXIT_OK)
        rc = lks_cli_load_config(conf, ov, nov, &cfg);
    free(ov);
    if (rc != LKS_EXIT_OK)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    rc = sink(cfg, once);
    lks_config_free(cfg);
    return rc;
}
