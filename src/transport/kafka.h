/*
 * kafka.h — the Kafka transport (DESIGN.md §2): a thin layer over librdkafka
 * and the three things lakesync does with it:
 *
 *   capture → Kafka   change events as the Debezium MySQL connector writes
 *                     them: topic <topic.prefix>.<db>.<table>, key = the
 *                     primary key's JSON, value = the event, a tombstone
 *                     after each delete, a primary-key change as a delete
 *                     and a create with Debezium's headers; topics created
 *                     through the admin API when configured;
 *   sink              topics → raw zone in the Confluent S3 sink's layout
 *                     (rawzone.h), consumer offsets committed only once the
 *                     objects holding them are durable;
 *   streaming merge   topics → Delta tables; the consumed positions live in
 *                     the Delta commits (one `txn` per topic-partition,
 *                     stream "<topic>:<partition>", as the raw-zone merge
 *                     writes them), and the consumer seeks to them on start
 *                     and on every rebalance.  Kafka's committed offsets are
 *                     only written as a hint for lag monitoring.
 *
 * Configuration: librdkafka properties pass through unchanged (in lakesync's
 * properties files with a `kafka.` prefix: kafka.security.protocol,
 * kafka.sasl.mechanism, ...), except kafka.bootstrap.servers and kafka.aws.*
 * (Amazon MSK IAM authentication, msk_iam.h), which are lakesync's own;
 * lakesync sets only what correctness needs
 * (idempotence and acks=all for producers; no auto commit, no automatic
 * offset reset past lost data for the merge) before them, so a user setting
 * wins unless it would break those guarantees (then it is refused).
 *
 * librdkafka logs through lks_log (subsystem "kafka"); errors come back as
 * lks_err (LKS_EIO for broker/delivery failures, LKS_ECONFIG for a property
 * librdkafka refuses, naming it).  None of this is thread-safe: one thread
 * per handle, and hooks run inside lks_kafka_poll on that thread.
 */
#ifndef LKS_TRANSPORT_KAFKA_H
#define LKS_TRANSPORT_KAFKA_H

#include "cdc/cdc.h"
#include "core/config.h"
#include "merge/merge.h"
#include "rawzone/rawzone.h"

#include <signal.h>

/* Properties of the Kafka transport (kafka.bootstrap.servers, the kafka.*
 * pass-through family, topics), of `lakesync sink` and of capture into
 * Kafka. */
extern const lks_conf_prop lks_conf_kafka[];
extern const lks_conf_prop lks_conf_sink[];
extern const lks_conf_prop lks_conf_capture_kafka[];

/* One librdkafka property (name without the kafka. prefix). */
typedef struct lks_kafka_prop {
    const char *name, *value;
} lks_kafka_prop;

typedef struct lks_kafka_opts {
    const char *bootstrap;        /* "host:port[,host:port...]"; NULL: from props */
    const lks_kafka_prop *props;  /* applied after lakesync's own settings */
    int nprops;
    const char *client_id;        /* default "lakesync" */
    /* Amazon MSK IAM authentication (kafka.aws.msk.iam, msk_iam.h):
     * SASL/OAUTHBEARER (security.protocol SASL_SSL unless props say
     * SASL_PLAINTEXT) with tokens signed with the AWS credentials the S3
     * store would use.  Creating a handle then fails with LKS_ECONFIG when
     * there is no region or no credentials. */
    int msk_iam;
    const char *aws_region;       /* kafka.aws.region; NULL: from MSK broker names */
} lks_kafka_opts;

/* Gathers kafka.bootstrap.servers, kafka.aws.msk.iam, kafka.aws.region and
 * the kafka.* properties for librdkafka of a configuration into o (strings
 * borrowed from cfg, the array in a).  LKS_ECONFIG for a kafka.aws.*
 * property lakesync does not define and, with need_brokers, when nothing
 * names the brokers. */
/* Every property of the pass-through family `prefix` that is set, as
 * (name past the prefix, value) pairs in the order set (strings borrowed
 * from cfg, the array in a).  A name starting with `reject` (NULL: none)
 * stops it with LKS_ECONFIG and *bad = that name; LKS_ENOMEM otherwise. */
int lks_kafka_props_under(const lks_config *cfg, const char *prefix, const char *reject, lks_arena *a,
                          lks_kafka_prop **out, int *n, const char **bad);
int lks_kafka_opts_from_config(const lks_config *cfg, int need_brokers, lks_arena *a, lks_kafka_opts *o,
                               lks_err *err);

/* Splits "kafka://HOST:PORT[,HOST:PORT...]/TOPIC[,TOPIC...]" into the
 * bootstrap list and topic names (in a).  Returns 1 when url is a kafka://
 * URL (filled), 0 when it is not, LKS_EINVAL when it is malformed. */
int lks_kafka_parse_url(const char *url, lks_arena *a, char **bootstrap, const char ***topics, int *ntopics,
                        lks_err *err);

/* ---- producer ------------------------------------------------------------------------------ */

typedef struct lks_kafka_producer lks_kafka_producer;

/* An idempotent producer (enable.idempotence, acks=all) whose keyed
 * messages are partitioned as Kafka's Java clients do (murmur2_random).
 * Free with lks_kafka_producer_free. */
int lks_kafka_producer_new(const lks_kafka_opts *o, lks_kafka_producer **out, lks_err *err);

typedef struct lks_kafka_header {
    const char *name;
    const void *value; /* NULL: a null header value */
    size_t len;
} lks_kafka_header;

/* Queues one message (key, value and headers are copied).  key NULL: no
 * key; value NULL: a tombstone; partition < 0: the partitioner.  Waits,
 * serving delivery reports, while librdkafka's queue is full.  A delivery
 * that failed earlier fails this call too (LKS_EIO naming it): after a
 * failure the order of what follows is no longer guaranteed, so the
 * producer stays failed and the caller starts over from its last saved
 * position. */
int lks_kafka_produce(lks_kafka_producer *p, const char *topic, int partition, const void *key, size_t klen,
                      const void *value, size_t vlen, const lks_kafka_header *hdrs, int nhdrs, lks_err *err);
/* Returns once every queued message is acknowledged by the brokers (LKS_OK)
 * or has failed (LKS_EIO naming the first failure: topic, partition,
 * librdkafka's error).  Retries are librdkafka's (message.timeout.ms bounds
 * them).  stop (optional): when it becomes non-zero while waiting,
 * LKS_EIO "interrupted" (nothing is known about the rest). */
int lks_kafka_flush(lks_kafka_producer *p, const volatile sig_atomic_t *stop, lks_err *err);
/* Messages acknowledged so far. */
int64_t lks_kafka_delivered(const lks_kafka_producer *p);
/* SASL/OAUTHBEARER tokens (kafka.aws.msk.iam) librdkafka has accepted so far
 * (set from librdkafka's background thread). */
int lks_kafka_producer_tokens(lks_kafka_producer *p);
/* Frees without flushing (what is queued is dropped). */
void lks_kafka_producer_free(lks_kafka_producer *p);

/* A topic to create: partitions and replication -1 take the brokers'
 * defaults (num.partitions, default.replication.factor); configs are topic
 * configs (cleanup.policy, retention.ms, ...). */
typedef struct lks_kafka_new_topic {
    const char *name;
    int partitions, replication;
    const lks_kafka_prop *configs;
    int nconfigs;
    int timeout_ms; /* for the controller's answer; 0: 30 s */
} lks_kafka_new_topic;

/* Creates a topic through the admin API (CreateTopics to the controller),
 * as Kafka Connect creates a source connector's topics.  Returns 1 when it
 * was created, 0 when it existed already (TOPIC_ALREADY_EXISTS; its
 * settings are left as they are), LKS_EIO naming the topic and the
 * cluster's error otherwise (no permission to create topics, a replication
 * factor above the number of brokers, a refused config, no answer) or when
 * *stop becomes non-zero while waiting. */
int lks_kafka_create_topic(lks_kafka_producer *p, const lks_kafka_new_topic *t, const volatile sig_atomic_t *stop,
                           lks_err *err);

/* The partition Kafka's Java default partitioner gives a key among n:
 * murmur2(key) & 0x7fffffff mod n (what librdkafka's murmur2_random does
 * for keyed messages). */
int lks_kafka_partition_of(const void *key, size_t klen, int n);

/* ---- consumer ------------------------------------------------------------------------------ */

enum {
    LKS_KAFKA_OFFSET_BEGINNING = -2, /* the partition's first offset */
    LKS_KAFKA_OFFSET_END = -1,       /* what arrives from now on */
    LKS_KAFKA_OFFSET_STORED = -1000  /* the group's committed offset (else auto.offset.reset) */
};

/* A topic-partition and an offset (the next to read). */
typedef struct lks_kafka_tp {
    const char *topic;
    int partition;
    int64_t offset;
} lks_kafka_tp;

/* Called from lks_kafka_poll (and lks_kafka_consumer_close) when the group
 * hands partitions over.  assigned: set each tps[i].offset (initialised to
 * LKS_KAFKA_OFFSET_STORED) to where reading starts; the consumer then
 * assigns them at exactly those offsets.  revoked: the partitions are about
 * to go to another member: commit what was read from them now.  A non-zero
 * return (with err set) makes lks_kafka_poll fail with it. */
typedef struct lks_kafka_hooks {
    int (*assigned)(void *ud, lks_kafka_tp *tps, int n, lks_err *err);
    int (*revoked)(void *ud, const lks_kafka_tp *tps, int n, lks_err *err);
    void *ud;
} lks_kafka_hooks;

typedef struct lks_kafka_consumer lks_kafka_consumer;

typedef struct lks_kafka_consumer_opts {
    lks_kafka_opts k;
    const char *group;          /* group.id (needed for subscribe and commit) */
    lks_kafka_hooks hooks;
    int report_eof;             /* lks_kafka_poll reports partition ends (msg.eof) */
    const char *offset_reset;   /* auto.offset.reset for STORED without a commit: "earliest" (default), "error" */
} lks_kafka_consumer_opts;

int lks_kafka_consumer_new(const lks_kafka_consumer_opts *o, lks_kafka_consumer **out, lks_err *err);
/* Joins the group for these topics (a name starting with '^' is a regular
 * expression, as librdkafka takes it); partitions come through the hooks. */
int lks_kafka_subscribe(lks_kafka_consumer *c, const char *const *topics, int n, lks_err *err);
/* Reads exactly these partitions from these offsets, without group
 * management (replaces an earlier assignment). */
int lks_kafka_assign(lks_kafka_consumer *c, const lks_kafka_tp *tps, int n, lks_err *err);
/* The partition ids of a topic (in a): LKS_ENOTFOUND when the cluster does
 * not know the topic. */
int lks_kafka_partitions(lks_kafka_consumer *c, const char *topic, lks_arena *a, int **parts, int *n, lks_err *err);
/* The topics whose names match a POSIX extended regular expression (as
 * librdkafka's ^-subscriptions match them), in a; internal topics (starting
 * with "__") left out. */
int lks_kafka_topics_matching(lks_kafka_consumer *c, const char *regex, lks_arena *a, const char ***topics, int *n,
                              lks_err *err);
/* Low and high watermark (first offset, next offset to be written). */
int lks_kafka_watermarks(lks_kafka_consumer *c, const char *topic, int partition, int64_t *lo, int64_t *hi,
                         lks_err *err);

typedef struct lks_kafka_msg {
    const char *topic;
    int partition;
    int64_t offset;    /* eof: the partition's next offset */
    lks_slice key;     /* {NULL,0}: no key */
    lks_slice value;   /* {NULL,0} with tombstone set: a null value */
    int tombstone;
    int64_t ts_ms;     /* record timestamp, -1 when none */
    int eof;           /* a partition end (report_eof), no record */
} lks_kafka_msg;

/* Waits up to timeout_ms for the next record: 1 with one (valid until the
 * next poll or close), 0 when none came, negative on an error that needs
 * the caller (a hook's error; a fatal consumer error; an offset out of
 * range: data the position needs is gone).  Transient broker errors are
 * logged and retried by librdkafka. */
int lks_kafka_poll(lks_kafka_consumer *c, int timeout_ms, lks_kafka_msg *m, lks_err *err);
/* Commits these offsets for the group (synchronously unless async). */
int lks_kafka_commit(lks_kafka_consumer *c, const lks_kafka_tp *tps, int n, int async, lks_err *err);
/* Leaves the group (the revoked hook runs first when partitions are held,
 * unless quiet) and frees. */
void lks_kafka_consumer_close(lks_kafka_consumer *c, int quiet);

/* ---- streaming merge ------------------------------------------------------------------------------ */

typedef struct lks_kafka_merge_opts {
    lks_kafka_opts k;
    const char *const *topics;   /* names, or ^regex with a group */
    int ntopics;
    const char *group;           /* default "lakesync-merge" */
    int64_t interval_ms;         /* commit to Delta this often (default 1000) */
    /* Consume until the end offsets seen at start (every partition of the
     * topics, and of the topics a ^pattern matches at start, assigned
     * without the group), commit, return. */
    int once;
    /* Target tables (warehouse mapping or one table), codec options, batch
     * size, progress, stop: as for the raw-zone merge (topics_dir and topic
     * unused).  Dead letters go to dead_store under dead_letter. */
    lks_merge_rawzone_opts m;
    lks_store *dead_store;
} lks_kafka_merge_opts;

/* Runs the streaming merge until *m.stop (then commits what it read) or,
 * with once, to the end offsets.  totals may be NULL. */
int lks_kafka_merge(const lks_kafka_merge_opts *o, lks_merge_stats *totals, lks_err *err);

/* ---- sink -------------------------------------------------------------------------------------- */

typedef struct lks_kafka_sink_stats {
    int64_t records;  /* records read */
    int64_t commits;  /* offset commits (each after objects became durable) */
} lks_kafka_sink_stats;

typedef struct lks_kafka_sink_opts {
    lks_kafka_opts k;
    const char *const *topics;
    int ntopics;
    const char *group;           /* default "lakesync-sink" */
    lks_rz_writer_opts w;        /* layout, flush.size, rotation, keys, tombstones */
    int once;                    /* stop once the partitions this member holds reach the end
                                    offsets seen at start (then publish and commit) */
    const volatile sig_atomic_t *stop; /* then flush what is open, commit, return */
    void (*progress)(void *ud, const lks_kafka_sink_stats *st);
    void *progress_ud;
} lks_kafka_sink_opts;

/* Copies the topics into the raw zone `raw`: starts at the group's
 * committed offsets (the beginning when none), commits an offset only once
 * every record before it is in a published object; on a rebalance the
 * open objects are published and committed before the partitions go. */
int lks_kafka_sink(lks_store *raw, const lks_kafka_sink_opts *o, lks_kafka_sink_stats *st, lks_err *err);

/* ---- capture into Kafka ------------------------------------------------------------------------------ */

typedef struct lks_kafka_capture_opts {
    lks_kafka_opts k;
    const char *topic_prefix;    /* topics <prefix>.<db>.<table> */
    int key_schemas;             /* key.converter.schemas.enable */
    lks_dbz_write_opts value;    /* value.converter.schemas.enable and codec modes */
    int tombstones;              /* tombstones.on.delete */
    const char *offsets_file;    /* where the position is kept; NULL: nowhere */
    int64_t flush_interval_ms;   /* offset.flush.interval.ms: flush and save at most this often */
    const volatile sig_atomic_t *stop;
    /* Header values (__debezium.oldkey/newkey, __debezium.context.*) as
     * Kafka Connect's SimpleHeaderConverter writes them (header_json 0,
     * Connect's default header.converter) or its JsonConverter (1), with
     * the {schema, payload} envelope when header_schemas. */
    int header_json, header_schemas;
    int extended_headers; /* extended.headers.enabled: __debezium.context.* on every message */
    /* topic.creation.default.*: with create_topics, each topic is created
     * (or found) through the admin API before its first message. */
    int create_topics;
    int topic_partitions, topic_replication; /* -1: the brokers' defaults */
    const lks_kafka_prop *topic_configs;     /* the other topic.creation.default.* (name without prefix) */
    int ntopic_configs;
} lks_kafka_capture_opts;

typedef struct lks_kafka_capture lks_kafka_capture;

/* Fills the header and topic-creation members of o from a configuration
 * (header.converter, header.converter.schemas.enable,
 * extended.headers.enabled, topic.creation.default.*; strings borrowed from
 * cfg, the config array in a).  LKS_ECONFIG when only one of
 * topic.creation.default.partitions / replication.factor is set, or either
 * is 0. */
int lks_kafka_capture_conf(const lks_config *cfg, lks_arena *a, lks_kafka_capture_opts *o, lks_err *err);

int lks_kafka_capture_new(const lks_kafka_capture_opts *o, lks_kafka_capture **out, lks_err *err);
/* Sends one change event (and its tombstone).  An update that changes the
 * primary key goes out as Debezium sends it: a delete of the old key with
 * header __debezium.newkey (its tombstone too), then a create of the new
 * key with header __debezium.oldkey (values: the other key).  With
 * create_topics, the event's topic is created first when this capture has
 * not seen it yet (LKS_EIO naming it when that fails). */
int lks_kafka_capture_event(lks_kafka_capture *c, const lks_cdc_event *ev, lks_err *err);
/* A source transaction boundary: everything sent so far belongs to
 * transactions that end at or before binlog position file:pos.  When due
 * (offset.flush.interval.ms) or forced, waits for every acknowledgement
 * and then replaces the offsets file atomically with this position. */
int lks_kafka_capture_boundary(lks_kafka_capture *c, const char *file, uint64_t pos, int force, lks_err *err);
/* Messages acknowledged so far. */
int64_t lks_kafka_capture_sent(const lks_kafka_capture *c);
void lks_kafka_capture_free(lks_kafka_capture *c);

/* Reads an offsets file: 1 with "FILE:POS" in buf, 0 when the file does not
 * exist, LKS_ECORRUPT when it is not one. */
int lks_kafka_offsets_read(const char *path, char *buf, size_t cap, lks_err *err);

#endif
