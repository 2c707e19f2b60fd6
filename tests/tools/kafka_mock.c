/*
 * kafka_mock.c — librdkafka's mock Kafka cluster as a process, for the
 * Kafka scenario tests (no real broker anywhere).
 *
 *   kafka_mock [-b BROKERS] [-t TOPIC:PARTITIONS]...
 *
 * Starts a cluster of BROKERS (default 1) brokers listening on 127.0.0.1,
 * creates the topics, prints "bootstrap HOST:PORT[,HOST:PORT...]" on stdout
 * and then obeys commands read from stdin, one per line, answering "ok" or
 * "error ..." on stdout for each:
 *
 *   topic NAME PARTITIONS            create a topic
 *   down ID | up ID                  broker ID (-1: all) refuses / accepts connections
 *   errors APIKEY ERR[,ERR...]       the next requests of that type fail with these
 *                                    errors (names as librdkafka's, e.g.
 *                                    NOT_LEADER_FOR_PARTITION, or numbers)
 *   leader TOPIC PARTITION ID        moves a partition's leader
 *   rtt ID MS                        delays broker ID's responses
 *
 * Exits at the end of stdin or on SIGTERM/SIGINT.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int err_code(const char *name, rd_kafka_resp_err_t *out) {
    char *end;
    long v = strtol(name, &end, 10);
    if (*name && !*end) {
        *out = (rd_kafka_resp_err_t)v;
        return 1;
    }
    const struct rd_kafka_err_desc *d;
    size_t n;
    rd_kafka_get_err_descs(&d, &n);
    for (size_t i = 0; i < n; i++)
        if (d[i].name && strcmp(d[i].name, name) == 0) {
            *out = d[i].code;
            return 1;
        }
    return 0;
}

static int command(rd_kafka_mock_cluster_t *mc, char *line) {
    char *argv[64];
    int argc = 0;
    for (char *t = strtok(line, " \t\r\n"); t && argc < 64; t = strtok(NULL, " \t\r\n"))
        argv[argc++] = t;
    if (argc == 0)
        return 0;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (strcmp(argv[0], "topic") == 0 && argc == 3) {
        e = rd_kafka_mock_topic_create(mc, argv[1], atoi(argv[2]), 1);
    } else if (strcmp(argv[0], "down") == 0 && argc == 2) {
        e = rd_kafka_mock_broker_set_down(mc, atoi(argv[1]));
    } else if (strcmp(argv[0], "up") == 0 && argc == 2) {
        e = rd_kafka_mock_broker_set_up(mc, atoi(argv[1]));
    } else if (strcmp(argv[0], "leader") == 0 && argc == 4) {
        e = rd_kafka_mock_partition_set_leader(mc, argv[1], atoi(argv[2]), atoi(argv[3]));
    } else if (strcmp(argv[0], "rtt") == 0 && argc == 3) {
        e = rd_kafka_mock_broker_set_rtt(mc, atoi(argv[1]), atoi(argv[2]));
    } else if (strcmp(argv[0], "errors") == 0 && argc == 3) {
        rd_kafka_resp_err_t errs[64];
        size_t n = 0;
        for (char *t = strtok(argv[2], ","); t && n < 64; t = strtok(NULL, ",")) {
            if (!err_code(t, &errs[n])) {
                printf("error unknown error name %s\n", t);
                return 0;
            }
            n++;
        }
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(argv[1]), n, errs);
    } else {
        printf("error unknown command %s\n", argv[0]);
        return 0;
    }
    if (e)
        printf("error %s\n", rd_kafka_err2str(e));
    else
        printf("ok\n");
    return 0;
}

int main(int argc, char **argv) {
    int brokers = 1;
    char *topics[64];
    int ntopics = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
            brokers = atoi(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc && ntopics < 64)
            topics[ntopics++] = argv[++i];
        else {
            fprintf(stderr, "usage: kafka_mock [-b BROKERS] [-t TOPIC:PARTITIONS]...\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    char msg[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", msg, sizeof msg);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof msg);
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", msg);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        char *colon = strrchr(topics[i], ':');
        int parts = colon ? atoi(colon + 1) : 1;
        if (colon)
            *colon = 0;
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topics[i], parts, 1);
        if (e) {
            fprintf(stderr, "kafka_mock: topic %s: %s\n", topics[i], rd_kafka_err2str(e));
            return 1;
        }
    }
    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        command(mc, line);
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
