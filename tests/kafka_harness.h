/*
 * kafka_harness.h — librdkafka's mock cluster for unit tests: started once
 * per test program on 127.0.0.1, stopped at the end.  Header-only.
 */
#ifndef LKS_TEST_KAFKA_HARNESS_H
#define LKS_TEST_KAFKA_HARNESS_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;

/* The bootstrap servers of a mock cluster of nbrokers (started at the
 * first call), or NULL when it cannot start. */
static inline const char *start_mock(int nbrokers) {
    if (mock)
        return rd_kafka_mock_cluster_bootstraps(mock);
    char msg[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", msg, sizeof msg);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof msg);
    if (!mock_rk)
        return NULL;
    mock = rd_kafka_mock_cluster_new(mock_rk, nbrokers);
    return mock ? rd_kafka_mock_cluster_bootstraps(mock) : NULL;
}

static inline void stop_mock(void) {
    if (mock)
        rd_kafka_mock_cluster_destroy(mock);
    if (mock_rk)
        rd_kafka_destroy(mock_rk);
    mock = NULL;
    mock_rk = NULL;
}

#endif
