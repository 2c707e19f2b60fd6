/* test_kafka.c — the Kafka transport on librdkafka's mock cluster (started
 * here, on 127.0.0.1): murmur2 partitioning as the Java clients, delivery
 * reports (acknowledged, retried, failed), the consumer's rebalance hooks
 * fixing start offsets, kafka:// URLs, the kafka.* pass-through, the
 * offsets file, and capture's Debezium-shaped messages. */
#include "harness.h"
#include "kafka_harness.h"
#include "transport/kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <limits.h>
#include <unistd.h>

/* Reads n records of a topic from the beginning (all partitions). */
typedef struct got {
    int n;
    int part[256];
    int64_t off[256];
    char key[256][256];
    char val[256][64];
    int tomb[256];
} got;

static int read_all(const char *boot, const char *topic, int want, got *g) {
    lks_err err;
    lks_kafka_consumer_opts co;
    memset(&co, 0, sizeof co);
    co.k.bootstrap = boot;
    co.group = "test-reader";
    lks_kafka_consumer *c = NULL;
    if (lks_kafka_consumer_new(&co, &c, &err) != LKS_OK)
        return -1;
    lks_arena a;
    lks_arena_init(&a, 0);
    int *parts, np;
    int rc = lks_kafka_partitions(c, topic, &a, &parts, &np, &err);
    lks_kafka_tp tps[64];
    for (int i = 0; !rc && i < np && i < 64; i++)
        tps[i] = (lks_kafka_tp){topic, parts[i], LKS_KAFKA_OFFSET_BEGINNING};
    if (!rc)
        rc = lks_kafka_assign(c, tps, np, &err);
    memset(g, 0, sizeof *g);
    for (int tries = 0; !rc && g->n < want && g->n < 256 && tries < 200; tries++) {
        lks_kafka_msg m;
        int r = lks_kafka_poll(c, 100, &m, &err);
        if (r < 0)
            rc = r;
        if (r != 1 || m.eof)
            continue;
        g->part[g->n] = m.partition;
        g->off[g->n] = m.offset;
        snprintf(g->key[g->n], 256, "%.*s", (int)m.key.len, m.key.ptr ? (const char *)m.key.ptr : "");
        snprintf(g->val[g->n], 64, "%.*s", (int)m.value.len, m.value.ptr ? (const char *)m.value.ptr : "");
        g->tomb[g->n] = m.tombstone;
        g->n++;
    }
    lks_kafka_consumer_close(c, 1);
    lks_arena_free(&a);
    return rc;
}

/* Kafka's UtilsTest.testMurmur2 values (the Java client's hash). */
static void t_murmur2_java(void) {
    static const struct {
        const char *key;
        int32_t hash;
    } cases[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int want = (int)((uint32_t)cases[i].hash & 0x7fffffffu);
        CHECK_EQ_INT(lks_kafka_partition_of(cases[i].key, strlen(cases[i].key), INT_MAX), want);
    }
}

/* librdkafka's murmur2_random puts every keyed message where the Java
 * partitioner would. */
static void t_partitioner_matches(void) {
    const char *boot = start_mock(3);
    REQUIRE(boot);
    REQUIRE(rd_kafka_mock_topic_create(mock, "parts6", 6, 1) == 0);
    lks_err err;
    lks_kafka_producer *p = NULL;
    lks_kafka_opts ko = {.bootstrap = boot};
    CHECK_OK(lks_kafka_producer_new(&ko, &p, &err), &err);
    REQUIRE(p);
    char key[64];
    for (int i = 0; i < 60; i++) {
        int n = snprintf(key, sizeof key, "{\"id\":%d}", i * 7919);
        CHECK_OK(lks_kafka_produce(p, "parts6", -1, key, (size_t)n, "v", 1, NULL, 0, &err), &err);
    }
    CHECK_OK(lks_kafka_flush(p, NULL, &err), &err);
    CHECK_EQ_INT(lks_kafka_delivered(p), 60);
    lks_kafka_producer_free(p);
    got *g = calloc(1, sizeof *g);
    REQUIRE(g);
    CHECK_OK(read_all(boot, "parts6", 60, g), NULL);
    CHECK_EQ_INT(g->n, 60);
    int used[6] = {0};
    for (int i = 0; i < g->n; i++) {
        CHECK_EQ_INT(g->part[i], lks_kafka_partition_of(g->key[i], strlen(g->key[i]), 6));
        used[g->part[i]] = 1;
    }
    for (int i = 0; i < 6; i++)
        CHECK(used[i]);
    free(g);
}

/* Retriable produce errors are retried without duplicates or reordering;
 * a non-retriable one fails the flush and every later call. */
static void t_delivery_reports(void) {
    const char *boot = start_mock(3);
    REQUIRE(boot);
    REQUIRE(rd_kafka_mock_topic_create(mock, "dr", 1, 1) == 0);
    lks_err err;
    lks_kafka_producer *p = NULL;
    lks_kafka_opts ko = {.bootstrap = boot};
    CHECK_OK(lks_kafka_producer_new(&ko, &p, &err), &err);
    REQUIRE(p);
    /* make sure the producer knows the leader before errors are pushed */
    CHECK_OK(lks_kafka_produce(p, "dr", -1, "k", 1, "0", 1, NULL, 0, &err), &err);
    CHECK_OK(lks_kafka_flush(p, NULL, &err), &err);
    rd_kafka_mock_push_request_errors(mock, 0 /* Produce */, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    char v[16];
    for (int i = 1; i < 50; i++) {
        int n = snprintf(v, sizeof v, "%d", i);
        CHECK_OK(lks_kafka_produce(p, "dr", -1, "k", 1, v, (size_t)n, NULL, 0, &err), &err);
    }
    CHECK_OK(lks_kafka_flush(p, NULL, &err), &err);
    CHECK_EQ_INT(lks_kafka_delivered(p), 50);
    got *g = calloc(1, sizeof *g);
    REQUIRE(g);
    CHECK_OK(read_all(boot, "dr", 50, g), NULL);
    CHECK_EQ_INT(g->n, 50);
    for (int i = 0; i < g->n; i++) {
        snprintf(v, sizeof v, "%d", i);
        CHECK_EQ_STR(g->val[i], v);
        CHECK_EQ_INT(g->off[i], i);
    }
    free(g);

    /* a non-retriable error: the flush reports it, and the producer stays failed */
    rd_kafka_mock_push_request_errors(mock, 0 /* Produce */, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    CHECK_OK(lks_kafka_produce(p, "dr", -1, "k", 1, "x", 1, NULL, 0, &err), &err);
    int rc = lks_kafka_flush(p, NULL, &err);
    CHECK_EQ_INT(rc, LKS_EIO);
    CHECK(strstr(err.msg, "dr [0]") != NULL);
    CHECK_EQ_INT(lks_kafka_produce(p, "dr", -1, "k", 1, "y", 1, NULL, 0, &err), LKS_EIO);
    lks_kafka_producer_free(p);
}

typedef struct hookctx {
    int assigned, revoked;
    int64_t start;
} hookctx;

static int on_assigned(void *ud, lks_kafka_tp *tps, int n, lks_err *err) {
    (void)err;
    hookctx *h = ud;
    h->assigned += n;
    for (int i = 0; i < n; i++)
        tps[i].offset = h->start;
    return LKS_OK;
}

static int on_revoked(void *ud, const lks_kafka_tp *tps, int n, lks_err *err) {
    (void)tps;
    (void)err;
    ((hookctx *)ud)->revoked += n;
    return LKS_OK;
}

static int failing_assigned(void *ud, lks_kafka_tp *tps, int n, lks_err *err) {
    (void)ud;
    (void)tps;
    (void)n;
    return lks_err_set(err, LKS_ECONFLICT, "the table says no");
}

/* The group's assignment starts exactly where the hook says, whatever the
 * group committed; a hook's error comes out of poll. */
static void t_rebalance_hooks(void) {
    const char *boot = start_mock(3);
    REQUIRE(boot);
    REQUIRE(rd_kafka_mock_topic_create(mock, "hooks", 1, 1) == 0);
    lks_err err;
    lks_kafka_producer *p = NULL;
    lks_kafka_opts ko = {.bootstrap = boot};
    CHECK_OK(lks_kafka_producer_new(&ko, &p, &err), &err);
    REQUIRE(p);
    char v[16];
    for (int i = 0; i < 20; i++) {
        int n = snprintf(v, sizeof v, "%d", i);
        CHECK_OK(lks_kafka_produce(p, "hooks", 0, NULL, 0, v, (size_t)n, NULL, 0, &err), &err);
    }
    CHECK_OK(lks_kafka_flush(p, NULL, &err), &err);
    lks_kafka_producer_free(p);

    hookctx h = {0, 0, 13};
    lks_kafka_consumer_opts co;
    memset(&co, 0, sizeof co);
    co.k.bootstrap = boot;
    co.k.props = (const lks_kafka_prop[]){{"session.timeout.ms", "6000"}};
    co.k.nprops = 1;
    co.group = "hooks-group";
    co.hooks = (lks_kafka_hooks){on_assigned, on_revoked, &h};
    lks_kafka_consumer *c = NULL;
    CHECK_OK(lks_kafka_consumer_new(&co, &c, &err), &err);
    REQUIRE(c);
    /* the group has a commit far from where the hook starts */
    lks_kafka_tp tp = {"hooks", 0, 3};
    CHECK_OK(lks_kafka_commit(c, &tp, 1, 0, &err), &err);
    const char *topics[] = {"hooks"};
    CHECK_OK(lks_kafka_subscribe(c, topics, 1, &err), &err);
    int64_t first = -1;
    int n = 0;
    for (int tries = 0; tries < 150 && n < 7; tries++) {
        lks_kafka_msg m;
        int r = lks_kafka_poll(c, 100, &m, &err);
        CHECK(r >= 0);
        if (r == 1 && !m.eof) {
            if (first < 0)
                first = m.offset;
            n++;
        }
    }
    CHECK_EQ_INT(h.assigned, 1);
    CHECK_EQ_INT(first, 13);
    CHECK_EQ_INT(n, 7);
    lks_kafka_consumer_close(c, 0);
    CHECK_EQ_INT(h.revoked, 1);

    /* a hook that fails: poll returns its error */
    co.group = "hooks-group-2";
    co.hooks = (lks_kafka_hooks){failing_assigned, NULL, NULL};
    CHECK_OK(lks_kafka_consumer_new(&co, &c, &err), &err);
    REQUIRE(c);
    CHECK_OK(lks_kafka_subscribe(c, topics, 1, &err), &err);
    int rc = 0;
    for (int tries = 0; tries < 150 && rc == 0; tries++) {
        lks_kafka_msg m;
        rc = lks_kafka_poll(c, 100, &m, &err);
        if (rc == 1)
            rc = 0;
    }
    CHECK_EQ_INT(rc, LKS_ECONFLICT);
    CHECK(strstr(err.msg, "the table says no") != NULL);
    lks_kafka_consumer_close(c, 1);
}

/* A capture of a small transaction: topics, keys (with and without the
 * envelope), values, the tombstone after the delete, the offsets file
 * written only after the flush. */
static void t_capture_messages(void) {
    const char *boot = start_mock(3);
    REQUIRE(boot);
    char dir[] = "/tmp/lks_test_kafka.XXXXXX";
    REQUIRE(mkdtemp(dir));
    char offsets[256];
    snprintf(offsets, sizeof offsets, "%s/offsets.json", dir);
    REQUIRE(rd_kafka_mock_topic_create(mock, "cap.shop.items", 1, 1) == 0);
    lks_kafka_capture_opts o;
    memset(&o, 0, sizeof o);
    o.k.bootstrap = boot;
    o.topic_prefix = "cap";
    o.tombstones = 1;
    o.key_schemas = 1;
    o.value.schemas_enable = 1;
    o.offsets_file = offsets;
    o.flush_interval_ms = 1000000;
    lks_kafka_capture *c = NULL;
    lks_err err;
    CHECK_OK(lks_kafka_capture_new(&o, &c, &err), &err);
    REQUIRE(c);
    lks_cdc_field f[2] = {{"id", {LKS_CT_INT32, 0, 0, 0, 0}, NULL}, {"name", {LKS_CT_STRING, 0, 0, 1, 0}, NULL}};
    lks_cdc_schema s = {f, 2};
    int key[1] = {0};
    lks_cdc_value row[2] = {{.kind = LKS_CV_INT, .u.i64 = 7}, {.kind = LKS_CV_BYTES, .u.bytes = {(const uint8_t *)"ab", 2}}};
    lks_cdc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.schema = &s;
    ev.key = key;
    ev.nkey = 1;
    ev.source.connector = "mysql";
    ev.source.name = "cap";
    ev.source.db = "shop";
    ev.source.table = "items";
    ev.source.file = "binlog.000001";
    ev.source.pos = 4;
    ev.source.row = 0;
    ev.source.ts_ms = ev.source.ts_us = ev.ts_ms = -1;
    ev.op = LKS_CDC_CREATE;
    ev.has_after = 1;
    ev.after = (lks_cdc_row){row, 2};
    CHECK_OK(lks_kafka_capture_event(c, &ev, &err), &err);
    ev.op = LKS_CDC_DELETE;
    ev.has_after = 0;
    ev.has_before = 1;
    ev.before = (lks_cdc_row){row, 2};
    CHECK_OK(lks_kafka_capture_event(c, &ev, &err), &err);
    char buf[128];
    CHECK_EQ_INT(lks_kafka_offsets_read(offsets, buf, sizeof buf, &err), 0); /* not due yet */
    CHECK_OK(lks_kafka_capture_boundary(c, "binlog.000001", 400, 0, &err), &err);
    CHECK_EQ_INT(lks_kafka_offsets_read(offsets, buf, sizeof buf, &err), 0);
    CHECK_OK(lks_kafka_capture_boundary(c, "binlog.000001", 400, 1, &err), &err);
    CHECK_EQ_INT(lks_kafka_capture_sent(c), 3);
    CHECK_EQ_INT(lks_kafka_offsets_read(offsets, buf, sizeof buf, &err), 1);
    CHECK_EQ_STR(buf, "binlog.000001:400");
    lks_kafka_capture_free(c);

    got *g = calloc(1, sizeof *g);
    REQUIRE(g);
    CHECK_OK(read_all(boot, "cap.shop.items", 3, g), NULL);
    CHECK_EQ_INT(g->n, 3);
    /* Kafka Connect's JsonConverter bytes, as Debezium's keys */
    static const char want_key[] = "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
                                   "\"field\":\"id\"}],\"optional\":false,\"name\":\"cap.shop.items.Key\"},"
                                   "\"payload\":{\"id\":7}}";
    for (int i = 0; i < g->n; i++)
        CHECK_EQ_STR(g->key[i], want_key);
    CHECK(strncmp(g->val[0], "{\"schema\":", 10) == 0);
    CHECK_EQ_INT(g->tomb[0], 0);
    CHECK_EQ_INT(g->tomb[1], 0);
    CHECK_EQ_INT(g->tomb[2], 1);
    free(g);

    /* a damaged offsets file is an error, never a silent restart */
    FILE *fp = fopen(offsets, "w");
    REQUIRE(fp);
    fputs("{\"file\":\"binlog.000001\",\"pos\":12", fp);
    fclose(fp);
    CHECK_EQ_INT(lks_kafka_offsets_read(offsets, buf, sizeof buf, &err), LKS_ECORRUPT);
    unlink(offsets);
    rmdir(dir);
}

static void t_urls(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    char *boot;
    const char **topics;
    int n;
    CHECK_EQ_INT(lks_kafka_parse_url("kafka://h1:9092,h2:9093/a.b.c,d", &a, &boot, &topics, &n, &err), 1);
    CHECK_EQ_STR(boot, "h1:9092,h2:9093");
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_STR(topics[0], "a.b.c");
        CHECK_EQ_STR(topics[1], "d");
    }
    CHECK_EQ_INT(lks_kafka_parse_url("/tmp/raw", &a, &boot, &topics, &n, &err), 0);
    CHECK_EQ_INT(lks_kafka_parse_url("kafka://h1:9092", &a, &boot, &topics, &n, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_kafka_parse_url("kafka://h1:9092/a,", &a, &boot, &topics, &n, &err), LKS_EINVAL);
    CHECK_EQ_INT(lks_kafka_parse_url("kafka:///a", &a, &boot, &topics, &n, &err), LKS_EINVAL);
    lks_arena_free(&a);
}

/* kafka.* properties reach librdkafka; a setting that would break the
 * guarantees is refused, naming it; librdkafka's own check names a bad
 * property. */
static void t_passthrough(void) {
    const lks_conf_prop *const tables[] = {lks_conf_core, lks_conf_kafka, NULL};
    lks_config *cfg = NULL;
    lks_err err;
    CHECK_OK(lks_config_new(tables, &cfg, &err), &err);
    REQUIRE(cfg);
    CHECK_OK(lks_config_set(cfg, "kafka.bootstrap.servers", "127.0.0.1:1", NULL, &err), &err);
    CHECK_OK(lks_config_set(cfg, "kafka.socket.timeout.ms", "7000", NULL, &err), &err);
    CHECK_OK(lks_config_set(cfg, "kafka.sasl.password", "hunter2", NULL, &err), &err);
    CHECK_EQ_INT(lks_config_set(cfg, "kafkaa.x", "1", NULL, &err), LKS_ECONFIG);
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_kafka_opts o;
    CHECK_OK(lks_kafka_opts_from_config(cfg, 1, &a, &o, &err), &err);
    CHECK_EQ_STR(o.bootstrap, "127.0.0.1:1");
    CHECK_EQ_INT(o.nprops, 2);
    if (o.nprops == 2) {
        CHECK_EQ_STR(o.props[0].name, "socket.timeout.ms");
        CHECK_EQ_STR(o.props[1].value, "hunter2");
    }
    lks_buf dump;
    lks_buf_init(&dump, 0);
    CHECK_OK(lks_config_dump(cfg, &dump), NULL);
    CHECK_OK(lks_buf_cstr(&dump), NULL);
    CHECK(strstr((const char *)dump.ptr, "kafka.socket.timeout.ms=7000") != NULL);
    CHECK(strstr((const char *)dump.ptr, "hunter2") == NULL);
    lks_buf_free(&dump);
    lks_kafka_producer *p = NULL;
    o.nprops = 1;
    CHECK_OK(lks_kafka_producer_new(&o, &p, &err), &err);
    lks_kafka_producer_free(p);
    lks_kafka_prop bad[] = {{"enable.idempotence", "false"}};
    o.props = bad;
    CHECK_EQ_INT(lks_kafka_producer_new(&o, &p, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "kafka.enable.idempotence") != NULL);
    lks_kafka_prop unknown[] = {{"no.such.property", "1"}};
    o.props = unknown;
    CHECK_EQ_INT(lks_kafka_producer_new(&o, &p, &err), LKS_ECONFIG);
    CHECK(strstr(err.msg, "no.such.property") != NULL);
    lks_config_free(cfg);
    lks_arena_free(&a);
}

int main(void) {
    RUN(t_murmur2_java);
    RUN(t_urls);
    RUN(t_passthrough);
    RUN(t_partitioner_matches);
    RUN(t_delivery_reports);
    RUN(t_rebalance_hooks);
    RUN(t_capture_messages);
    stop_mock();
    return lks_test_done();
}
