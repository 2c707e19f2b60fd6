/*
 * conf.c — the properties of `lakesync run` and `lakesync capture`.  Names
 * follow Debezium's MySQL connector where it has one.
 */
#include "pipeline/pipeline.h"

const lks_conf_prop lks_conf_source[] = {
    {"database.hostname", LKS_CONF_STR, "127.0.0.1", NULL, 0, 0, 0, "Host name or address of the MySQL/MariaDB server."},
    {"database.port", LKS_CONF_INT, "3306", NULL, 1, 65535, 0, "TCP port of the server."},
    {"database.socket", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Unix socket path of a local server (used instead of host and port when set)."},
    {"database.user", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "User to connect as; needs SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT (MariaDB: "
     "also BINLOG MONITOR)."},
    {"database.password", LKS_CONF_PASSWORD, NULL, NULL, 0, 0, 0,
     "Password of database.user (also $LAKESYNC_DATABASE_PASSWORD or database.password.file); never printed."},
    {"database.password.file", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "File whose first line is the password (instead of database.password)."},
    {"database.server.id", LKS_CONF_INT, "5400", NULL, 1, 4294967295LL, 0,
     "Replica server id lakesync registers with; unique among the server's replicas."},
    {"database.ssl.mode", LKS_CONF_ENUM, "preferred", "disabled|preferred|required|verify_ca|verify_identity", 0, 0, 0,
     "TLS to the server, as Debezium's database.ssl.mode."},
    {"database.ssl.truststore", LKS_CONF_STR, NULL, NULL, 0, 0, 0, "CA certificate file (PEM) for verify_ca/verify_identity."},
    {"database.ssl.keystore", LKS_CONF_STR, NULL, NULL, 0, 0, 0, "Client certificate file (PEM), with its key in the same file."},
    {"database.include.list", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Comma-separated regular expressions: only databases whose name matches one are captured."},
    {"database.exclude.list", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Comma-separated regular expressions: databases whose name matches one are not captured."},
    {"table.include.list", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Comma-separated regular expressions over db.table: only tables matching one are captured."},
    {"table.exclude.list", LKS_CONF_STR, NULL, NULL, 0, 0, 0,
     "Comma-separated regular expressions over db.table: tables matching one are not captured."},
    {"topic.prefix", LKS_CONF_STR, "lakesync", NULL, 0, 0, 0,
     "Logical name of the source (Debezium's topic prefix): source.name of the events and the name of the stream "
     "position stored in each table."},
    {"snapshot.mode", LKS_CONF_ENUM, "initial", "initial|when_needed|never", 0, 0, 0,
     "initial: snapshot tables the lake does not hold yet, then stream; when_needed: also re-snapshot tables whose "
     "binlog position the server has purged; never: only stream (tables start at the current binlog end)."},
    {"snapshot.fetch.size", LKS_CONF_INT, "10000", NULL, 1, 100000000, 0,
     "Rows per primary-key chunk read by the snapshot."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};

const lks_conf_prop lks_conf_pipeline[] = {
    {"warehouse.path", LKS_CONF_STR, NULL, NULL, 0, 0, 0, "Same as warehouse (takes precedence when set)."},
    {"merge.interval.ms", LKS_CONF_DURATION, "500", NULL, 1, 86400000, 0,
     "Commit the changes read to the Delta tables this often (at a source transaction boundary)."},
    {"merge.max.events", LKS_CONF_INT, "100000", NULL, 1, 1000000000, 0,
     "Commit once this many row changes are held, even before merge.interval.ms."},
    {"merge.idle.commit.ms", LKS_CONF_DURATION, "600000", NULL, 1000, 86400000, 0,
     "Store the stream position of tables nothing happened to at most this often."},
    {"delta.enableDeletionVectors", LKS_CONF_BOOL, "false", NULL, 0, 0, 0,
     "Tables the run creates use deletion vectors (updates and deletes mark rows instead of rewriting files)."},
    {NULL, 0, NULL, NULL, 0, 0, 0, NULL},
};
