/*
 * kafka.c — the librdkafka layer of kafka.h: configuration, the idempotent
 * producer with checked delivery reports, the consumer with rebalance hooks
 * that fix every assigned partition's start offset, metadata look-ups, the
 * Java clients' murmur2 partitioning, kafka:// URLs.
 *
 * librdkafka calls back from three places: the log callback from its own
 * threads (lks_log only formats into a stack buffer and hands the line on),
 * the SASL/OAUTHBEARER token refresh of kafka.aws.msk.iam from its
 * background thread (so a token is there without the caller polling, which
 * blocking calls such as rd_kafka_metadata do not do), delivery reports,
 * errors and rebalances from rd_kafka_poll / rd_kafka_consumer_poll on the
 * caller's thread.
 */
#include "transport/kafka.h"
#include "transport/msk_iam.h"

#include <librdkafka/rdkafka.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define META_TIMEOUT_MS 10000

/* ---- configuration -------------------------------------------------------------------------- */

/* syslog levels (librdkafka's) → lks_log levels */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    int lv = level <= 3 ? LKS_LOG_ERROR : level <= 4 ? LKS_LOG_WARN : level <= 6 ? LKS_LOG_INFO : LKS_LOG_DEBUG;
    /* librdkafka reports every failed connection attempt at level 3; a
     * broker that is down is retried, and says so once through the error
     * callback: keep these at info */
    if (lv == LKS_LOG_ERROR && fac && (strcmp(fac, "FAIL") == 0 || strcmp(fac, "ERROR") == 0))
        lv = LKS_LOG_INFO;
    lks_log(lv, "kafka", "%s: %s", fac ? fac : "-", buf);
}

/* What the callbacks see through the opaque: a producer or consumer, both
 * of which start with their cbstate.  Error events are transport-level
 * trouble librdkafka retries by itself; the same error is logged once until
 * another one comes. */
typedef struct cbstate {
    int last;
    int fatal;
    char fatal_msg[300];
    lks_msk_iam *msk;  /* kafka.aws.msk.iam: signs the OAUTHBEARER tokens (background thread) */
    atomic_int tokens; /* tokens librdkafka accepted */
} cbstate;

static void error_cb(rd_kafka_t *rk, int e, const char *reason, void *opaque) {
    cbstate *es = opaque;
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[200];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        es->fatal = 1;
        snprintf(es->fatal_msg, sizeof es->fatal_msg, "%.200s (%.40s)", buf, rd_kafka_err2name(orig));
        lks_log(LKS_LOG_ERROR, "kafka", "fatal: %s", es->fatal_msg);
        return;
    }
    if (e == es->last)
        return;
    es->last = e;
    lks_log(e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || e == RD_KAFKA_RESP_ERR__TRANSPORT ? LKS_LOG_WARN : LKS_LOG_INFO,
            "kafka", "%s (librdkafka retries)", reason);
}

/* SASL/OAUTHBEARER token refresh for kafka.aws.msk.iam: at start and at
 * 80% of each token's lifetime, on librdkafka's background thread. */
static void token_refresh_cb(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque) {
    (void)oauthbearer_config;
    cbstate *cs = opaque;
    lks_buf tok;
    lks_buf_init(&tok, 0);
    int64_t lifetime_ms = 0;
    char principal[256], msg[512];
    lks_err e;
    lks_err_clear(&e);
    int rc = lks_msk_iam_sign(cs->msk, &tok, &lifetime_ms, principal, sizeof principal, &e);
    if (rc == LKS_OK && rd_kafka_oauthbearer_set_token(rk, (const char *)tok.ptr, lifetime_ms, principal, NULL, 0, msg,
                                                       sizeof msg) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = lks_err_set(&e, LKS_EIO, "kafka.aws.msk.iam: librdkafka refused the token: %s", msg);
    if (tok.ptr)
        memset(tok.ptr, 0, tok.len);
    lks_buf_free(&tok);
    if (rc == LKS_OK) {
        atomic_fetch_add(&cs->tokens, 1);
        lks_log(LKS_LOG_DEBUG, "kafka", "MSK IAM: new token for %s, valid for %lld s", lks_msk_iam_region(cs->msk),
                (long long)(lifetime_ms / 1000 - (int64_t)time(NULL)));
        return;
    }
    /* librdkafka reports the failure through the error callback and asks
     * again in a few seconds */
    lks_log(LKS_LOG_WARN, "kafka", "%s", e.msg);
    rd_kafka_oauthbearer_set_token_failure(rk, e.msg);
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, const char *what, lks_err *err) {
    char msg[512];
    if (rd_kafka_conf_set(conf, name, value, msg, sizeof msg) != RD_KAFKA_CONF_OK)
        return lks_err_set(err, LKS_ECONFIG, "%s %s: %s", what, name, msg);
    return LKS_OK;
}

/* One property lakesync needs at a fixed value. */
typedef struct locked {
    const char *name, *value, *why;
} locked;

/* What kafka.aws.msk.iam needs besides a SASL security.protocol: set, and
 * only checked (librdkafka builds without OIDC do not know the property). */
static const locked msk_lock[] = {
    {"sasl.mechanism", "OAUTHBEARER", "kafka.aws.msk.iam authenticates with OAUTHBEARER tokens"},
    {"sasl.mechanisms", "OAUTHBEARER", "kafka.aws.msk.iam authenticates with OAUTHBEARER tokens"},
    {"enable.sasl.oauthbearer.unsecure.jwt", "false", "kafka.aws.msk.iam signs the tokens itself"},
    {NULL, NULL, NULL},
};
static const locked msk_check[] = {
    {"sasl.oauthbearer.method", "default", "kafka.aws.msk.iam signs the tokens itself"},
    {NULL, NULL, NULL},
};

static int check_locked(const lks_kafka_prop *p, const locked *lock, lks_err *err) {
    for (const locked *l = lock; l && l->name; l++)
        if (strcmp(p->name, l->name) == 0 && strcmp(p->value, l->value) != 0)
            return lks_err_set(err, LKS_ECONFIG, "kafka.%s=%s: lakesync needs %s=%s (%s)", p->name, p->value, l->name,
                               l->value, l->why);
    return LKS_OK;
}

static int set_locked(rd_kafka_conf_t *conf, const locked *lock, lks_err *err) {
    int rc = LKS_OK;
    for (const locked *l = lock; l && l->name && !rc; l++)
        rc = conf_set(conf, l->name, l->value, "kafka:", err);
    return rc;
}

/* Builds the configuration: ours, then the user's (refusing changes to
 * `lock`), then the locked values.  With kafka.aws.msk.iam, also the token
 * refresh and a signer in cs->msk (the caller frees it), made last: it
 * fetches credentials. */
static int conf_new(const lks_kafka_opts *o, const char *const *ours, const locked *lock, cbstate *cs,
                    rd_kafka_conf_t **out, lks_err *err) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf)
        return lks_err_set(err, LKS_ENOMEM, "kafka: out of memory");
    atomic_init(&cs->tokens, 0);
    const char *brokers = o->bootstrap;
    int rc = conf_set(conf, "client.id", o->client_id ? o->client_id : "lakesync", "kafka:", err);
    if (!rc && o->bootstrap)
        rc = conf_set(conf, "bootstrap.servers", o->bootstrap, "kafka:", err);
    for (int i = 0; !rc && ours && ours[i]; i += 2)
        rc = conf_set(conf, ours[i], ours[i + 1], "kafka:", err);
    if (!rc && o->msk_iam)
        rc = conf_set(conf, "security.protocol", "SASL_SSL", "kafka:", err);
    for (int i = 0; !rc && i < o->nprops; i++) {
        const lks_kafka_prop *p = &o->props[i];
        if ((rc = check_locked(p, lock, err)) ||
            (o->msk_iam && ((rc = check_locked(p, msk_lock, err)) || (rc = check_locked(p, msk_check, err)))))
            break;
        if (o->msk_iam && strcmp(p->name, "security.protocol") == 0 && strncasecmp(p->value, "SASL_", 5) != 0) {
            rc = lks_err_set(err, LKS_ECONFIG,
                             "kafka.security.protocol=%s: kafka.aws.msk.iam needs SASL_SSL (or SASL_PLAINTEXT)",
                             p->value);
            break;
        }
        if (strcmp(p->name, "bootstrap.servers") == 0 || strcmp(p->name, "metadata.broker.list") == 0)
            brokers = p->value;
        rc = conf_set(conf, p->name, p->value, "property kafka.", err);
    }
    if (!rc)
        rc = set_locked(conf, lock, err);
    if (!rc && o->msk_iam && (rc = set_locked(conf, msk_lock, err)) == LKS_OK &&
        (rc = lks_msk_iam_new(o->aws_region, brokers, &cs->msk, err)) == LKS_OK) {
        rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, token_refresh_cb);
        rd_kafka_conf_enable_sasl_queue(conf, 1);
    }
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    *out = conf;
    return LKS_OK;
}

/* What a new handle needs before use: with kafka.aws.msk.iam, the token
 * refresh on librdkafka's background thread. */
static int handle_start(rd_kafka_t *rk, const cbstate *cs, lks_err *err) {
    if (!cs->msk)
        return LKS_OK;
    rd_kafka_error_t *e = rd_kafka_sasl_background_callbacks_enable(rk);
    if (!e)
        return LKS_OK;
    int rc = lks_err_set(err, LKS_ECONFIG, "kafka.aws.msk.iam: %s", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return rc;
}

typedef struct gather {
    lks_arena *a;
    lks_kafka_prop *v;
    int n, cap;
    size_t strip;       /* the prefix's length */
    const char *reject; /* names starting so are a mistake, or NULL */
    const char *bad;    /* the first such name */
} gather;

static int gather_one(void *ud, const char *name, const char *value) {
    gather *g = ud;
    if (g->reject && strncmp(name, g->reject, strlen(g->reject)) == 0) {
        g->bad = name;
        return LKS_ECONFIG;
    }
    if (g->n == g->cap) {
        int nc = g->cap ? g->cap * 2 : 16;
        lks_kafka_prop *nv = lks_arena_alloc(g->a, (size_t)nc * sizeof *nv);
        if (!nv)
            return LKS_ENOMEM;
        if (g->n)
            memcpy(nv, g->v, (size_t)g->n * sizeof *nv);
        g->v = nv;
        g->cap = nc;
    }
    g->v[g->n].name = name + g->strip;
    g->v[g->n].value = value;
    g->n++;
    return LKS_OK;
}

int lks_kafka_props_under(const lks_config *cfg, const char *prefix, const char *reject, lks_arena *a,
                          lks_kafka_prop **out, int *n, const char **bad) {
    gather g = {a, NULL, 0, 0, strlen(prefix), reject, NULL};
    int rc = lks_config_each(cfg, prefix, gather_one, &g);
    *out = g.v;
    *n = g.n;
    if (bad)
        *bad = g.bad;
    return rc;
}

int lks_kafka_opts_from_config(const lks_config *cfg, int need_brokers, lks_arena *a, lks_kafka_opts *o,
                               lks_err *err) {
    memset(o, 0, sizeof *o);
    o->bootstrap = lks_config_get_str(cfg, "kafka.bootstrap.servers");
    o->msk_iam = lks_config_get_bool(cfg, "kafka.aws.msk.iam");
    o->aws_region = lks_config_get_str(cfg, "kafka.aws.region");
    /* kafka.aws.* are lakesync's (the table defines them; they never reach
     * this pass-through): anything else there is a mistake */
    lks_kafka_prop *v;
    int n;
    const char *bad;
    if (lks_kafka_props_under(cfg, "kafka.", "kafka.aws.", a, &v, &n, &bad) != LKS_OK) {
        if (bad)
            return lks_err_set(err, LKS_ECONFIG,
                               "unknown property '%s' (lakesync's kafka.aws.* are kafka.aws.msk.iam and "
                               "kafka.aws.region; they are not librdkafka's)",
                               bad);
        return lks_err_set(err, LKS_ENOMEM, "kafka: out of memory");
    }
    o->props = v;
    o->nprops = n;
    if (!o->bootstrap && need_brokers) {
        for (int i = 0; i < n; i++)
            if (strcmp(v[i].name, "bootstrap.servers") == 0 || strcmp(v[i].name, "metadata.broker.list") == 0)
                return LKS_OK;
        return lks_err_set(err, LKS_ECONFIG, "kafka: kafka.bootstrap.servers is not set");
    }
    return LKS_OK;
}

int lks_kafka_parse_url(const char *url, lks_arena *a, char **bootstrap, const char ***topics, int *ntopics,
                        lks_err *err) {
    if (strncmp(url, "kafka://", 8) != 0)
        return 0;
    const char *h = url + 8, *slash = strchr(h, '/');
    if (!slash || slash == h || !slash[1])
        return lks_err_set(err, LKS_EINVAL, "'%s': expected kafka://HOST:PORT[,HOST:PORT...]/TOPIC[,TOPIC...]", url);
    *bootstrap = lks_arena_strndup(a, h, (size_t)(slash - h));
    const char *t = slash + 1;
    int n = 1;
    for (const char *p = t; *p; p++)
        n += *p == ',';
    const char **v = lks_arena_alloc(a, (size_t)n * sizeof *v);
    if (!*bootstrap || !v)
        return lks_err_set(err, LKS_ENOMEM, "kafka: out of memory");
    int k = 0;
    while (*t) {
        const char *e = strchr(t, ',');
        size_t len = e ? (size_t)(e - t) : strlen(t);
        if (len == 0)
            return lks_err_set(err, LKS_EINVAL, "'%s': empty topic name", url);
        if (!(v[k++] = lks_arena_strndup(a, t, len)))
            return lks_err_set(err, LKS_ENOMEM, "kafka: out of memory");
        t += len + (e ? 1 : 0);
        if (e && !*t)
            return lks_err_set(err, LKS_EINVAL, "'%s': empty topic name", url);
    }
    *topics = v;
    *ntopics = k;
    return 1;
}

/* ---- murmur2 (Kafka's Java clients: Utils.murmur2, seed 0x9747b28c) ---------------------------- */

int lks_kafka_partition_of(const void *key, size_t klen, int n) {
    const uint8_t *d = key;
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = 0x9747b28cu ^ (uint32_t)klen;
    size_t i = 0;
    for (; i + 4 <= klen; i += 4) {
        uint32_t k = (uint32_t)d[i] | (uint32_t)d[i + 1] << 8 | (uint32_t)d[i + 2] << 16 | (uint32_t)d[i + 3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (klen & 3) {
    case 3: h ^= (uint32_t)d[i + 2] << 16; /* fall through */
    case 2: h ^= (uint32_t)d[i + 1] << 8;  /* fall through */
    case 1:
        h ^= d[i];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return n > 0 ? (int)((h & 0x7fffffffu) % (uint32_t)n) : 0;
}

/* ---- producer ---------------------------------------------------------------------------------- */

struct lks_kafka_producer {
    cbstate es; /* first: the callbacks' view */
    rd_kafka_t *rk;
    int64_t queued, delivered, failed;
    char fail_msg[512]; /* the first failed delivery */
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    lks_kafka_producer *p = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        p->delivered++;
        return;
    }
    if (p->failed++ == 0)
        snprintf(p->fail_msg, sizeof p->fail_msg, "delivery to %s [%d] failed: %s",
                 m->rkt ? rd_kafka_topic_name(m->rkt) : "?", (int)m->partition, rd_kafka_err2str(m->err));
}

int lks_kafka_producer_new(const lks_kafka_opts *o, lks_kafka_producer **out, lks_err *err) {
    *out = NULL;
    static const char *const ours[] = {"partitioner", "murmur2_random", "linger.ms", "5", NULL};
    static const locked lock[] = {
        {"enable.idempotence", "true", "no duplicates or reordering on retries"},
        {"acks", "all", "a message counts as sent once every in-sync replica has it"},
        {NULL, NULL, NULL},
    };
    lks_kafka_producer *p = calloc(1, sizeof *p);
    if (!p)
        return lks_err_set(err, LKS_ENOMEM, "kafka: out of memory");
    rd_kafka_conf_t *conf;
    int rc = conf_new(o, ours, lock, &p->es, &conf, err);
    if (rc) {
        free(p);
        return rc;
    }
    p->es.last = -1;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    char msg[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof msg);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        lks_msk_iam_free(p->es.msk);
        free(p);
        return lks_err_set(err, LKS_ECONFIG, "kafka: cannot create the producer: %s", msg);
    }
    if ((rc = handle_start(p->rk, &p->es, err)) != LKS_OK) {
        lks_kafka_producer_free(p);
        return rc;
    }
    *out = p;
    return LKS_OK;
}

static int producer_failed(lks_kafka_producer *p, lks_err *err) {
    if (p->es.fatal)
        return lks_err_set(err, LKS_EIO, "kafka: producer: %s", p->es.fatal_msg);
    if (p->failed)
        return lks_err_set(err, LKS_EIO, "kafka: %s%s", p->fail_msg,
                           p->failed > 1 ? " (and later messages)" : "");
    return LKS_OK;
}

int lks_kafka_produce(lks_kafka_producer *p, const char *topic, int partition, const void *key, size_t klen,
                      const void *value, size_t vlen, const lks_kafka_header *hdrs, int nhdrs, lks_err *err) {
    int rc = producer_failed(p, err);
    if (rc)
        return rc;
    for (;;) {
        rd_kafka_headers_t *h = NULL;
        if (nhdrs > 0) {
            h = rd_kafka_headers_new((size_t)nhdrs);
            for (int i = 0; i < nhdrs; i++)
                rd_kafka_header_add(h, hdrs[i].name, -1, hdrs[i].value, hdrs[i].value ? (ssize_t)hdrs[i].len : 0);
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)(uintptr_t)key, key ? klen : 0),
            RD_KAFKA_V_VALUE((void *)(uintptr_t)value, value ? vlen : 0), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            p->queued++;
            rd_kafka_poll(p->rk, 0); /* serve delivery reports as they come */
            return LKS_OK;
        }
        if (h)
            rd_kafka_headers_destroy(h);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return lks_err_set(err, e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? LKS_ELIMIT : LKS_EIO,
                               "kafka: producing to %s: %s", topic, rd_kafka_err2str(e));
        rd_kafka_poll(p->rk, 100);
        if ((rc = producer_failed(p, err)) != LKS_OK)
            return rc;
    }
}

int lks_kafka_flush(lks_kafka_producer *p, const volatile sig_atomic_t *stop, lks_err *err) {
    while (p->delivered + p->failed < p->queued && !p->es.fatal) {
        if (stop && *stop)
            return lks_err_set(err, LKS_EIO, "kafka: flush interrupted with %lld message(s) unacknowledged",
                               (long long)(p->queued - p->delivered - p->failed));
        rd_kafka_flush(p->rk, 200);
    }
    return producer_failed(p, err);
}

int64_t lks_kafka_delivered(const lks_kafka_producer *p) { return p ? p->delivered : 0; }

int lks_kafka_producer_tokens(lks_kafka_producer *p) { return atomic_load(&p->es.tokens); }

void lks_kafka_producer_free(lks_kafka_producer *p) {
    if (!p)
        return;
    if (p->rk) {
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(p->rk, 0);
        rd_kafka_destroy(p->rk);
    }
    lks_msk_iam_free(p->es.msk);
    free(p);
}

/* ---- topic creation ---------------------------------------------------------------------------- */

int lks_kafka_create_topic(lks_kafka_producer *p, const lks_kafka_new_topic *t, const volatile sig_atomic_t *stop,
                           lks_err *err) {
    char msg[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(t->name, t->partitions, t->replication, msg, sizeof msg);
    if (!nt)
        return lks_err_set(err, LKS_ECONFIG, "kafka: topic %s: %s", t->name, msg);
    for (int i = 0; i < t->nconfigs; i++)
        if (rd_kafka_NewTopic_set_config(nt, t->configs[i].name, t->configs[i].value) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_NewTopic_destroy(nt);
            return lks_err_set(err, LKS_ECONFIG, "kafka: topic %s: bad topic config %s", t->name, t->configs[i].name);
        }
    int timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : 30000;
    rd_kafka_queue_t *q = rd_kafka_queue_new(p->rk);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(p->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    int rc = LKS_OK;
    if (!q || !ao || rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, msg, sizeof msg) ||
        rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, msg, sizeof msg)) {
        rc = lks_err_set(err, LKS_ENOMEM, "kafka: creating topic %s: cannot set up the request", t->name);
        goto out;
    }
    rd_kafka_CreateTopics(p->rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = NULL;
    /* the request times out by itself; the margin covers the queueing */
    for (int64_t waited = 0; !ev && waited < (int64_t)timeout_ms + 10000; waited += 200) {
        if (stop && *stop) {
            rc = lks_err_set(err, LKS_EIO, "kafka: creating topic %s: interrupted", t->name);
            goto out;
        }
        ev = rd_kafka_queue_poll(q, 200);
        rd_kafka_poll(p->rk, 0); /* delivery reports of what is in flight */
    }
    if (!ev) {
        rc = lks_err_set(err, LKS_EIO, "kafka: creating topic %s: no answer from the cluster", t->name);
        goto out;
    }
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    const char *why = rd_kafka_event_error_string(ev);
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
    if (!e && n >= 1) {
        e = rd_kafka_topic_result_error(tr[0]);
        why = rd_kafka_topic_result_error_string(tr[0]);
    } else if (!e) {
        e = RD_KAFKA_RESP_ERR__BAD_MSG;
        why = "an answer without the topic";
    }
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = 1;
    else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        rc = 0;
    else
        rc = lks_err_set(err, LKS_EIO, "kafka: creating topic %s (%d partitions, replication factor %d): %s%s%s%s",
                         t->name, t->partitions, t->replication, rd_kafka_err2name(e), why && *why ? " (" : "",
                         why && *why ? why : "", why && *why ? ")" : "");
    rd_kafka_event_destroy(ev);
out:
    if (ao)
        rd_kafka_AdminOptions_destroy(ao);
    if (q)
        rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* ---- consumer ---------------------------------------------------------------------------------- */

struct lks_kafka_consumer {
    cbstate es; /* first: the callbacks' view */
    rd_kafka_t *rk;
    lks_kafka_hooks hooks;
    int report_eof;
    int has_group;
    int quiet;      /* closing after an error: no revoked hook */
    int failed;     /* a hook failed: its error is in ferr */
    lks_err ferr;
    rd_kafka_message_t *cur;
    lks_arena tpa;  /* hook arrays */
};

static int tps_from_list(lks_kafka_consumer *c, const rd_kafka_topic_partition_list_t *l, lks_kafka_tp **out) {
    lks_arena_reset(&c->tpa);
    lks_kafka_tp *v = lks_arena_alloc(&c->tpa, (size_t)(l->cnt ? l->cnt : 1) * sizeof *v);
    if (!v)
        return LKS_ENOMEM;
    for (int i = 0; i < l->cnt; i++) {
        v[i].topic = l->elems[i].topic;
        v[i].partition = (int)l->elems[i].partition;
        v[i].offset = LKS_KAFKA_OFFSET_STORED;
    }
    *out = v;
    return LKS_OK;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    lks_kafka_consumer *c = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    lks_kafka_tp *tps = NULL;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        lks_log(LKS_LOG_INFO, "kafka", "assigned %d partition(s)", parts->cnt);
        if (c->failed)
            return; /* the caller stops: take nothing */
        if (tps_from_list(c, parts, &tps) != LKS_OK) {
            c->failed = lks_err_set(&c->ferr, LKS_ENOMEM, "kafka: out of memory");
            return;
        }
        if (c->hooks.assigned) {
            int rc = c->hooks.assigned(c->hooks.ud, tps, parts->cnt, &c->ferr);
            if (rc) {
                c->failed = rc;
                return;
            }
        }
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = tps[i].offset;
        rd_kafka_error_t *ae = NULL;
        rd_kafka_resp_err_t r = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (coop)
            ae = rd_kafka_incremental_assign(rk, parts);
        else
            r = rd_kafka_assign(rk, parts);
        if (ae) {
            c->failed = lks_err_set(&c->ferr, LKS_EIO, "kafka: assign: %s", rd_kafka_error_string(ae));
            rd_kafka_error_destroy(ae);
        } else if (r) {
            c->failed = lks_err_set(&c->ferr, LKS_EIO, "kafka: assign: %s", rd_kafka_err2str(r));
        }
        return;
    }
    if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        lks_log(LKS_LOG_INFO, "kafka", "revoked %d partition(s)", parts->cnt);
        if (c->hooks.revoked && !c->quiet && !c->failed) {
            if (tps_from_list(c, parts, &tps) != LKS_OK)
                c->failed = lks_err_set(&c->ferr, LKS_ENOMEM, "kafka: out of memory");
            else if (!rd_kafka_assignment_lost(rk)) {
                int rc = c->hooks.revoked(c->hooks.ud, tps, parts->cnt, &c->ferr);
                if (rc)
                    c->failed = rc;
            }
        }
    }
    if (coop) {
        rd_kafka_error_t *ue = rd_kafka_incremental_unassign(rk, parts);
        if (ue)
            rd_kafka_error_destroy(ue);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

int lks_kafka_consumer_new(const lks_kafka_consumer_opts *o, lks_kafka_consumer **out, lks_err *err) {
    *out = NULL;
    const char *ours[16];
    int n = 0;
    ours[n++] = "auto.offset.reset";
    ours[n++] = o->offset_reset ? o->offset_reset : "earliest";
    ours[n++] = "enable.partition.eof";
    ours[n++] = o->report_eof ? "true" : "false";
    ours[n++] = "topic.metadata.refresh.interval.ms"; /* ^pattern subscriptions see new topics soon */
    ours[n++] = "5000";
    if (o->group) {
        ours[n++] = "group.id";
        ours[n++] = o->group;
    }
    ours[n] = NULL;
    static const locked lock[] = {
        {"enable.auto.commit", "false", "offsets are committed only for what is durable"},
        {"enable.auto.offset.store", "false", "offsets are committed only for what is durable"},
        {NULL, NULL, NULL},
    };
    lks_kafka_consumer *c = calloc(1, sizeof *c);
    if (!c)
        return lks_err_set(err, LKS_ENOMEM, "kafka: out of memory");
    lks_arena_init(&c->tpa, 0);
    rd_kafka_conf_t *conf;
    int rc = conf_new(&o->k, ours, lock, &c->es, &conf, err);
    if (rc) {
        lks_arena_free(&c->tpa);
        free(c);
        return rc;
    }
    c->hooks = o->hooks;
    c->report_eof = o->report_eof;
    c->has_group = o->group != NULL;
    c->es.last = -1;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    char msg[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, msg, sizeof msg);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        lks_msk_iam_free(c->es.msk);
        lks_arena_free(&c->tpa);
        free(c);
        return lks_err_set(err, LKS_ECONFIG, "kafka: cannot create the consumer: %s", msg);
    }
    if ((rc = handle_start(c->rk, &c->es, err)) != LKS_OK) {
        rd_kafka_destroy(c->rk);
        lks_msk_iam_free(c->es.msk);
        lks_arena_free(&c->tpa);
        free(c);
        return rc;
    }
    rd_kafka_poll_set_consumer(c->rk);
    *out = c;
    return LKS_OK;
}

static rd_kafka_topic_partition_list_t *to_list(const lks_kafka_tp *tps, int n) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, tps[i].topic, tps[i].partition)->offset = tps[i].offset;
    return l;
}

int lks_kafka_subscribe(lks_kafka_consumer *c, const char *const *topics, int n, lks_err *err) {
    if (!c->has_group)
        return lks_err_set(err, LKS_EINVAL, "kafka: subscribing needs a group");
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        return lks_err_set(err, LKS_EIO, "kafka: subscribe: %s", rd_kafka_err2str(e));
    return LKS_OK;
}

int lks_kafka_assign(lks_kafka_consumer *c, const lks_kafka_tp *tps, int n, lks_err *err) {
    rd_kafka_topic_partition_list_t *l = to_list(tps, n);
    rd_kafka_resp_err_t e = rd_kafka_assign(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        return lks_err_set(err, LKS_EIO, "kafka: assign: %s", rd_kafka_err2str(e));
    return LKS_OK;
}

int lks_kafka_partitions(lks_kafka_consumer *c, const char *topic, lks_arena *a, int **parts, int *n, lks_err *err) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, topic, NULL);
    if (!rkt)
        return lks_err_set(err, LKS_EINVAL, "kafka: topic '%s': %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
    int rc = LKS_OK;
    for (int attempt = 0;; attempt++) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(c->rk, 0, rkt, &md, META_TIMEOUT_MS);
        if (!e && md->topic_cnt == 1)
            e = md->topics[0].err;
        if (!e) {
            const struct rd_kafka_metadata_topic *mt = &md->topics[0];
            int *v = lks_arena_alloc(a, (size_t)(mt->partition_cnt ? mt->partition_cnt : 1) * sizeof *v);
            if (!v)
                rc = lks_err_set(err, LKS_ENOMEM, "kafka: out of memory");
            for (int i = 0; v && i < mt->partition_cnt; i++)
                v[i] = (int)mt->partitions[i].id;
            *parts = v;
            *n = mt->partition_cnt;
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        if (!e)
            break;
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
            rc = lks_err_set(err, LKS_ENOTFOUND, "kafka: topic %s does not exist", topic);
            break;
        }
        if (attempt >= 5) {
            rc = lks_err_set(err, LKS_EIO, "kafka: metadata of topic %s: %s", topic, rd_kafka_err2str(e));
            break;
        }
        rd_kafka_poll(c->rk, 200 << attempt);
    }
    rd_kafka_topic_destroy(rkt);
    return rc;
}

int lks_kafka_topics_matching(lks_kafka_consumer *c, const char *regex, lks_arena *a, const char ***topics, int *n,
                              lks_err *err) {
    regex_t re;
    int e = regcomp(&re, regex, REG_EXTENDED | REG_NOSUB);
    if (e) {
        char msg[200];
        regerror(e, &re, msg, sizeof msg);
        return lks_err_set(err, LKS_EINVAL, "kafka: topic pattern '%s': %s", regex, msg);
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t me = rd_kafka_metadata(c->rk, 1, NULL, &md, META_TIMEOUT_MS);
    int rc = LKS_OK;
    if (me) {
        rc = lks_err_set(err, LKS_EIO, "kafka: listing topics: %s", rd_kafka_err2str(me));
    } else {
        const char **v = lks_arena_alloc(a, (size_t)(md->topic_cnt ? md->topic_cnt : 1) * sizeof *v);
        int k = 0;
        for (int i = 0; v && i < md->topic_cnt; i++) {
            const char *name = md->topics[i].topic;
            if (strncmp(name, "__", 2) == 0 || regexec(&re, name, 0, NULL, 0) != 0)
                continue;
            if (!(v[k++] = lks_arena_strdup(a, name)))
                v = NULL;
        }
        if (!v)
            rc = lks_err_set(err, LKS_ENOMEM, "kafka: out of memory");
        *topics = v;
        *n = k;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    regfree(&re);
    return rc;
}

int lks_kafka_watermarks(lks_kafka_consumer *c, const char *topic, int partition, int64_t *lo, int64_t *hi,
                         lks_err *err) {
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int attempt = 0; attempt < 6; attempt++) {
        e = rd_kafka_query_watermark_offsets(c->rk, topic, partition, lo, hi, META_TIMEOUT_MS);
        if (!e)
            return LKS_OK;
        rd_kafka_poll(c->rk, 200 << attempt);
    }
    return lks_err_set(err, LKS_EIO, "kafka: end offsets of %s [%d]: %s", topic, partition, rd_kafka_err2str(e));
}

static void release(lks_kafka_consumer *c) {
    if (c->cur) {
        rd_kafka_message_destroy(c->cur);
        c->cur = NULL;
    }
}

int lks_kafka_poll(lks_kafka_consumer *c, int timeout_ms, lks_kafka_msg *m, lks_err *err) {
    release(c);
    memset(m, 0, sizeof *m);
    rd_kafka_message_t *km = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (c->failed) {
        if (km)
            rd_kafka_message_destroy(km);
        if (err)
            *err = c->ferr;
        return c->failed;
    }
    if (c->es.fatal) {
        if (km)
            rd_kafka_message_destroy(km);
        return lks_err_set(err, LKS_EIO, "kafka: consumer: %s", c->es.fatal_msg);
    }
    if (!km)
        return 0;
    const char *topic = km->rkt ? rd_kafka_topic_name(km->rkt) : "?";
    if (km->err) {
        rd_kafka_resp_err_t e = km->err;
        int part = (int)km->partition;
        int64_t off = km->offset;
        if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            c->cur = km;
            m->topic = topic;
            m->partition = part;
            m->offset = off;
            m->eof = 1;
            return c->report_eof ? 1 : 0;
        }
        int rc = 0;
        if (e == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || e == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
            rc = lks_err_set(err, LKS_EIO,
                             "kafka: %s [%d]: the offset to read is out of range (%s): the records it needs were "
                             "deleted (retention) or the topic was recreated",
                             topic, part, rd_kafka_message_errstr(km));
        else if (e == RD_KAFKA_RESP_ERR__FATAL)
            rc = lks_err_set(err, LKS_EIO, "kafka: consumer: %s", rd_kafka_message_errstr(km));
        else
            lks_log(LKS_LOG_WARN, "kafka", "%s [%d]: %s", topic, part, rd_kafka_message_errstr(km));
        rd_kafka_message_destroy(km);
        return rc;
    }
    c->cur = km;
    m->topic = topic;
    m->partition = (int)km->partition;
    m->offset = km->offset;
    m->key = (lks_slice){km->key, km->key ? km->key_len : 0};
    m->value = (lks_slice){km->payload, km->payload ? km->len : 0};
    m->tombstone = km->payload == NULL;
    rd_kafka_timestamp_type_t tt;
    m->ts_ms = rd_kafka_message_timestamp(km, &tt);
    return 1;
}

int lks_kafka_commit(lks_kafka_consumer *c, const lks_kafka_tp *tps, int n, int async, lks_err *err) {
    if (n <= 0)
        return LKS_OK;
    rd_kafka_topic_partition_list_t *l = to_list(tps, n);
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, async);
    rd_kafka_topic_partition_list_destroy(l);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        return lks_err_set(err, LKS_EIO, "kafka: committing offsets: %s", rd_kafka_err2str(e));
    return LKS_OK;
}

void lks_kafka_consumer_close(lks_kafka_consumer *c, int quiet) {
    if (!c)
        return;
    release(c);
    if (c->rk) {
        c->quiet = quiet;
        rd_kafka_consumer_close(c->rk);
        rd_kafka_destroy(c->rk);
    }
    lks_msk_iam_free(c->es.msk);
    lks_arena_free(&c->tpa);
    free(c);
}
