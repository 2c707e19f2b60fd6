/*
 * kafka_conf.c — the properties of the Kafka transport, `lakesync sink`
 * and capture into Kafka.  Names follow Kafka Connect, the Confluent S3
 * sink and Debezium where they have one.
 */
#include "transport/kafka.h"

const lks_conf_prop lks_conf_kafka[] = {
    {"kafka.bootstrap.servers", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Kafka brokers, host:port[,host:port...] (librdkafka's bootstrap.servers)."},
    {"kafka.", LKS_CONF_STR, NULL, NULL, 0, 0, LKS_CONF_PREFIX,
     "Any librdkafka property with a kafka. prefix (but kafka.aws.*), passed to librdkafka unchanged: "
     "kafka.security.protocol, "
     "kafka.sasl.mechanism, kafka.sasl.username, kafka.sasl.password, kafka.ssl.ca.location, kafka.client.id, "
     "kafka.session.timeout.ms, ... (librdkafka's CONFIGURATION.md lists them)."},
    {"kafka.aws.msk.iam", LKS_CONF_BOOL, "false", NULL, 0, 0, 0,
     "Amazon MSK IAM authentication: SASL/OAUTHBEARER with tokens signed with the AWS credentials the S3 store "
     "uses (AWS_ACCESS_KEY_ID/..., AWS_PROFILE, web identity, container, instance metadata), renewed before they "
     "expire; sets kafka.sasl.mechanism=OAUTHBEARER and, unless given, kafka.security.protocol=SASL_SSL (MSK's IAM "
     "port 9098). "
     "lakesync's own, not passed to librdkafka."},
    {"kafka.aws.region", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Region of the MSK cluster for kafka.aws.msk.iam (default: the region in the MSK broker names of "
     "kafka.bootstrap.servers). lakesync's own, not passed to librdkafka."},
    {"topics", LKS_CONF_STR, NULL, NULL, 0, 0, 0, "Comma-separated topics `lakesync sink` reads."},
    {"topics.regex", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "A regular expression: `lakesync sink` reads every topic whose whole name matches (instead of topics)."},
    {"group.id", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Consumer group of `lakesync sink` (default lakesync-sink); members of one group share the partitions."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};

const lks_conf_prop lks_conf_sink[] = {
    {"raw.path", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Where `lakesync sink` (and capture.output=rawzone) writes the raw zone: a directory, file:///dir or "
     "s3://bucket/prefix."},
    {"topics.dir", LKS_CONF_STR, "topics", NULL, 0, 0, 0, "Folder under raw.path that holds the topics."},
    {"flush.size", LKS_CONF_INT, "1000", NULL, 1, 1000000000, 0,
     "Records per object: an object is written once it holds this many."},
    {"rotate.interval.ms", LKS_CONF_INT, "-1", NULL, -1, INT64_C(1) << 40, 0,
     "Close an object once a record's timestamp is this far past its first record's (-1: off)."},
    {"rotate.schedule.interval.ms", LKS_CONF_INT, "-1", NULL, -1, INT64_C(1) << 40, 0,
     "Close open objects at every multiple of this wall-clock interval (-1: off); objects then depend on timing, "
     "so a restart may cut them differently."},
    {"behavior.on.null.values", LKS_CONF_ENUM, "ignore", "ignore|write", 0, 0, 0,
     "Tombstones (null values): ignore skips them (their offsets are still committed), write stores the line null."},
    {"store.kafka.keys", LKS_CONF_BOOL, "false", NULL, 0, 0, 0,
     "Also write each object's record keys, line for line, in <object>.keys.json."},
    {"s3.compression.type", LKS_CONF_ENUM, "none", "none|gzip", 0, 0, 0, "gzip: objects are .json.gz."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};

const lks_conf_prop lks_conf_capture_kafka[] = {
    {"transport", LKS_CONF_ENUM, "embedded", "embedded|kafka", 0, 0, 0,
     "lakesync run: embedded merges the changes in the same process; kafka sends them through Kafka (as "
     "capture.output=kafka) and merges them back from the topics (the streaming merge, consumer group "
     "lakesync-run.<topic.prefix>)."},
    {"capture.output", LKS_CONF_ENUM, "stdout", "stdout|kafka|rawzone", 0, 0, 0,
     "Where `lakesync capture` writes the events: stdout (JSON lines), kafka (topics "
     "<topic.prefix>.<db>.<table>, as Debezium) or rawzone (the S3-sink layout at raw.path, no Kafka)."},
    {"key.converter.schemas.enable", LKS_CONF_BOOL, "true", NULL, 0, 0, 0,
     "Kafka message keys with the {schema, payload} envelope (Kafka Connect's JsonConverter setting)."},
    {"value.converter.schemas.enable", LKS_CONF_BOOL, "true", NULL, 0, 0, 0,
     "Kafka message values with the {schema, payload} envelope."},
    {"tombstones.on.delete", LKS_CONF_BOOL, "true", NULL, 0, 0, 0,
     "Send a tombstone (the key with a null value) after each delete, so log compaction can drop the key."},
    {"offsets.file", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "File that keeps the binlog position up to which Kafka has acknowledged every event; capture resumes from it "
     "(without it, capture snapshots again on every start)."},
    {"offset.flush.interval.ms", LKS_CONF_DURATION, "1000", NULL, 1, 86400000, 0,
     "Wait for Kafka's acknowledgements and save the position at most this often (at a transaction boundary)."},
    {"header.converter", LKS_CONF_ENUM, "simple", "simple|json", 0, 0, 0,
     "Message header values as Kafka Connect's header converter writes them: simple = SimpleHeaderConverter "
     "(Connect's default: __debezium.oldkey/newkey hold the key as {\"id\":5}, strings are bare text), json = "
     "JsonConverter (the key header is the message key's JSON)."},
    {"header.converter.schemas.enable", LKS_CONF_BOOL, "true", NULL, 0, 0, 0,
     "With header.converter=json: header values with the {schema, payload} envelope (JsonConverter's default)."},
    {"extended.headers.enabled", LKS_CONF_BOOL, "true", NULL, 0, 0, 0,
     "Every message carries Debezium 3's context headers: __debezium.context.connectorLogicalName (topic.prefix), "
     "__debezium.context.taskId (0), __debezium.context.connectorName (mysql)."},
    {"topic.creation.default.partitions", LKS_CONF_INT, NULL, NULL, -1, 1000000, 0,
     "Create each topic through the admin API before its first message, with this many partitions (-1: the "
     "brokers' num.partitions), as Kafka Connect does; an existing topic is used as it is. Needs "
     "topic.creation.default.replication.factor. Unset: topics are not created by lakesync."},
    {"topic.creation.default.replication.factor", LKS_CONF_INT, NULL, NULL, -1, 32767, 0,
     "Replicas of the topics capture creates (-1: the brokers' default.replication.factor); needs "
     "topic.creation.default.partitions."},
    {"topic.creation.default.", LKS_CONF_STR, NULL, NULL, 0, 0, LKS_CONF_PREFIX,
     "Any other topic config for the topics capture creates, passed to the brokers unchanged: "
     "topic.creation.default.cleanup.policy=compact, topic.creation.default.retention.ms, "
     "topic.creation.default.compression.type, ..."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};
