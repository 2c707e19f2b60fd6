/*
 * kafka_mock.c — librdkafka's mock Kafka cluster as a process, for the
 * Kafka scenario tests (no real broker anywhere).
 *
 *   kafka_mock [-a] [-b BROKERS] [-t TOPIC:PARTITIONS]...
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
 *   deny TOPIC                       (-a) CreateTopics for TOPIC fails with
 *                                    POLICY_VIOLATION
 *
 * -a puts an admin front before the brokers (below): CreateTopics, which
 * the mock does not answer, creates the topics in the mock; each request
 * is logged on stderr ("kafka_mock: CreateTopics NAME partitions=N
 * replication=R configs=K=V,...: RESULT"); -1 partitions or replication
 * means 1 (the brokers' defaults here).
 *
 * Exits at the end of stdin or on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the admin front (-a) ------------------------------------------------------------------ */

/* The mock cluster answers no CreateTopics.  With -a every broker gets a
 * front on its own port: requests are relayed to the broker one at a time
 * and answers back, except CreateTopics, which the front answers itself by
 * creating the topics in the mock (rd_kafka_mock_topic_create).  ApiVersions
 * answers gain CreateTopics v0..4; broker addresses in Metadata and
 * FindCoordinator answers are rewritten to the fronts', so clients never
 * reach a broker directly. */

typedef struct front {
    int lfd;
    int port;    /* the front's */
    int up_port; /* the broker's */
} front;

static front fronts[16];
static int nfronts;
static rd_kafka_mock_cluster_t *front_mc;
static pthread_mutex_t deny_mu = PTHREAD_MUTEX_INITIALIZER;
static char denied[16][256];
static int ndenied;

static int read_full(int fd, void *p, size_t n) {
    uint8_t *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            return -1;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t r = write(fd, b, n);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            return -1;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* One frame (size-prefixed), malloc'd, size in *n; NULL at the end. */
static uint8_t *read_frame(int fd, size_t *n) {
    uint8_t h[4];
    if (read_full(fd, h, 4))
        return NULL;
    uint32_t len = be32(h);
    if (len < 4 || len > (64u << 20))
        return NULL;
    uint8_t *b = malloc(len);
    if (!b || read_full(fd, b, len)) {
        free(b);
        return NULL;
    }
    *n = len;
    return b;
}

static int send_frame(int fd, const uint8_t *b, size_t n) {
    uint8_t h[4];
    put32(h, (uint32_t)n);
    return write_full(fd, h, 4) || write_full(fd, b, n);
}

/* A bounded reader over a frame. */
typedef struct rd {
    const uint8_t *p;
    size_t n, at;
    int bad;
} rd;

static const uint8_t *take(rd *r, size_t k) {
    if (r->bad || r->n - r->at < k) {
        r->bad = 1;
        return NULL;
    }
    r->at += k;
    return r->p + r->at - k;
}
static int32_t rd32(rd *r) {
    const uint8_t *q = take(r, 4);
    return q ? (int32_t)be32(q) : 0;
}
static int16_t rd16(rd *r) {
    const uint8_t *q = take(r, 2);
    return q ? (int16_t)be16(q) : 0;
}
static uint64_t rdvar(rd *r) {
    uint64_t v = 0;
    for (int s = 0; s < 64; s += 7) {
        const uint8_t *q = take(r, 1);
        if (!q)
            return 0;
        v |= (uint64_t)(*q & 0x7f) << s;
        if (!(*q & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}
/* a string: int16 length (-1 null) or, flexible, uvarint length + 1 */
static const uint8_t *rdstr(rd *r, int flex, int *len) {
    int64_t l = flex ? (int64_t)rdvar(r) - 1 : rd16(r);
    *len = l < 0 ? -1 : (int)l;
    return l > 0 ? take(r, (size_t)l) : NULL;
}
static void skip_tags(rd *r) {
    for (uint64_t k = rdvar(r); k > 0 && !r->bad; k--) {
        rdvar(r);
        take(r, (size_t)rdvar(r));
    }
}

static int front_port_of(int up_port) {
    for (int i = 0; i < nfronts; i++)
        if (fronts[i].up_port == up_port)
            return fronts[i].port;
    return up_port;
}

/* host then port at r: the port rewritten to the front's */
static void fix_address(rd *r, uint8_t *frame, int flex) {
    int hl;
    rdstr(r, flex, &hl);
    size_t at = r->at;
    int32_t port = rd32(r);
    if (!r->bad)
        put32(frame + at, (uint32_t)front_port_of(port));
}

/* Metadata: the brokers' ports, the controller. */
static void fix_metadata(uint8_t *b, size_t n, int ver) {
    int flex = ver >= 9;
    rd r = {b, n, 4, 0};
    if (flex)
        skip_tags(&r);
    if (ver >= 3)
        rd32(&r);
    int64_t cnt = flex ? (int64_t)rdvar(&r) - 1 : rd32(&r);
    for (int64_t i = 0; i < cnt && !r.bad; i++) {
        rd32(&r); /* node id */
        fix_address(&r, b, flex);
        int rl;
        if (ver >= 1)
            rdstr(&r, flex, &rl);
        if (flex)
            skip_tags(&r);
    }
    /* the mock names no controller (0): broker 1 is, for CreateTopics */
    int cl;
    if (ver >= 2)
        rdstr(&r, flex, &cl);
    size_t at = r.at;
    if (ver >= 1 && rd32(&r) <= 0 && !r.bad)
        put32(b + at, 1);
}

/* FindCoordinator: the coordinator's port(s). */
static void fix_coordinator(uint8_t *b, size_t n, int ver) {
    int flex = ver >= 3, l;
    rd r = {b, n, 4, 0};
    if (flex)
        skip_tags(&r);
    if (ver >= 1)
        rd32(&r);
    if (ver < 4) {
        rd16(&r);
        if (ver >= 1)
            rdstr(&r, flex, &l);
        rd32(&r);
        fix_address(&r, b, flex);
        return;
    }
    int64_t cnt = (int64_t)rdvar(&r) - 1;
    for (int64_t i = 0; i < cnt && !r.bad; i++) {
        rdstr(&r, 1, &l); /* key */
        rd32(&r);
        fix_address(&r, b, 1);
        rd16(&r);
        rdstr(&r, 1, &l);
        skip_tags(&r);
    }
}

/* ApiVersions: CreateTopics v0..4 added to the list (a new frame). */
static uint8_t *fix_apiversions(uint8_t *b, size_t *n, int ver) {
    int flex = ver >= 3;
    rd r = {b, *n, 4, 0};
    if (rd16(&r) != 0)
        return b; /* an error answer (in v0 form whatever was asked) */
    size_t cnt_at = r.at;
    int64_t cnt = flex ? (int64_t)rdvar(&r) - 1 : rd32(&r);
    size_t esz = flex ? 7 : 6;
    for (int64_t i = 0; i < cnt && !r.bad; i++) {
        const uint8_t *e = take(&r, esz);
        if (!e || be16(e) == 19 || (flex && e[6] != 0))
            return b; /* listed already, or entries with tags: as it is */
    }
    if (r.bad || cnt < 0)
        return b;
    size_t tail = r.at;
    uint8_t *nb = malloc(*n + esz + 8);
    if (!nb)
        return b;
    size_t o = cnt_at;
    memcpy(nb, b, cnt_at);
    if (flex) {
        uint64_t v = (uint64_t)cnt + 2;
        do {
            nb[o++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
    } else {
        put32(nb + o, (uint32_t)cnt + 1);
        o += 4;
    }
    size_t entries = (size_t)cnt * esz;
    memcpy(nb + o, b + tail - entries, entries);
    o += entries;
    static const uint8_t ct[7] = {0, 19, 0, 0, 0, 4, 0};
    memcpy(nb + o, ct, esz);
    o += esz;
    memcpy(nb + o, b + tail, *n - tail);
    o += *n - tail;
    free(b);
    *n = o;
    return nb;
}

static int is_denied(const char *name) {
    pthread_mutex_lock(&deny_mu);
    int d = 0;
    for (int i = 0; i < ndenied && !d; i++)
        d = strcmp(denied[i], name) == 0;
    pthread_mutex_unlock(&deny_mu);
    return d;
}

typedef struct obuf {
    uint8_t *p;
    size_t n, cap;
} obuf;

static void ob_put(obuf *o, const void *p, size_t n) {
    if (o->n + n > o->cap) {
        size_t nc = (o->n + n) * 2 + 64;
        uint8_t *np = realloc(o->p, nc);
        if (!np)
            abort();
        o->p = np;
        o->cap = nc;
    }
    memcpy(o->p + o->n, p, n);
    o->n += n;
}
static void ob_32(obuf *o, uint32_t v) {
    uint8_t b[4];
    put32(b, v);
    ob_put(o, b, 4);
}
static void ob_16(obuf *o, uint16_t v) {
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    ob_put(o, b, 2);
}
static void ob_str(obuf *o, const char *s) {
    if (!s) {
        ob_16(o, 0xffff);
        return;
    }
    ob_16(o, (uint16_t)strlen(s));
    ob_put(o, s, strlen(s));
}

/* CreateTopics v0..4 (body at `at`), answered from the mock. */
static uint8_t *create_topics(const uint8_t *b, size_t n, size_t at, int ver, size_t *outn) {
    rd r = {b, n, at, 0};
    obuf o = {0};
    ob_put(&o, b + 4, 4); /* correlation id */
    if (ver >= 2)
        ob_32(&o, 0);
    int32_t cnt = rd32(&r);
    ob_32(&o, (uint32_t)(cnt > 0 ? cnt : 0));
    /* the settings first, the answer needs validate_only from the end */
    struct {
        char name[256], cfg[1024];
        int32_t parts;
        int16_t rf;
    } t[16];
    int nt = 0;
    for (int32_t i = 0; i < cnt && !r.bad && nt < 16; i++, nt++) {
        int l;
        const uint8_t *s = rdstr(&r, 0, &l);
        snprintf(t[nt].name, sizeof t[nt].name, "%.*s", l > 0 ? l : 0, s ? (const char *)s : "");
        t[nt].parts = rd32(&r);
        t[nt].rf = rd16(&r);
        for (int32_t a = rd32(&r); a > 0 && !r.bad; a--) { /* replica assignments: not used */
            rd32(&r);
            int32_t nb = rd32(&r);
            take(&r, nb > 0 ? 4 * (size_t)nb : 0);
        }
        t[nt].cfg[0] = 0;
        for (int32_t c = rd32(&r); c > 0 && !r.bad; c--) {
            int kl, vl;
            const uint8_t *k = rdstr(&r, 0, &kl), *v = rdstr(&r, 0, &vl);
            size_t used = strlen(t[nt].cfg);
            snprintf(t[nt].cfg + used, sizeof t[nt].cfg - used, "%s%.*s=%.*s", used ? "," : "", kl > 0 ? kl : 0,
                     k ? (const char *)k : "", vl > 0 ? vl : 0, v ? (const char *)v : "");
        }
    }
    rd32(&r); /* timeout */
    int validate = 0;
    if (ver >= 1) {
        const uint8_t *q = take(&r, 1);
        validate = q && *q;
    }
    for (int i = 0; i < nt; i++) {
        int32_t parts = t[i].parts == -1 ? 1 : t[i].parts;
        int rf = t[i].rf == -1 ? 1 : t[i].rf;
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
        char msg[300] = "";
        if (is_denied(t[i].name)) {
            e = RD_KAFKA_RESP_ERR_POLICY_VIOLATION;
            snprintf(msg, sizeof msg, "topic creation denied by the test cluster");
        } else if (parts <= 0) {
            e = RD_KAFKA_RESP_ERR_INVALID_PARTITIONS;
            snprintf(msg, sizeof msg, "Number of partitions must be larger than 0.");
        } else if (rf <= 0 || rf > nfronts) {
            e = RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR;
            snprintf(msg, sizeof msg, "Replication factor: %d larger than available brokers: %d.", rf, nfronts);
        } else if (!validate) {
            e = rd_kafka_mock_topic_create(front_mc, t[i].name, parts, rf);
            if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                snprintf(msg, sizeof msg, "Topic '%.200s' already exists.", t[i].name);
        }
        fprintf(stderr, "kafka_mock: CreateTopics %s partitions=%d replication=%d configs=%s: %s\n", t[i].name,
                (int)t[i].parts, (int)t[i].rf, t[i].cfg, rd_kafka_err2name(e));
        ob_str(&o, t[i].name);
        ob_16(&o, (uint16_t)e);
        if (ver >= 1)
            ob_str(&o, e ? msg : NULL);
    }
    *outn = o.n;
    return o.p;
}

/* The request header's end: api key, version, correlation id, client id
 * (and, flexible, tags). */
static size_t body_at(const uint8_t *b, size_t n, int flex) {
    rd r = {b, n, 8, 0};
    int l;
    rdstr(&r, 0, &l);
    if (flex)
        skip_tags(&r);
    return r.bad ? n : r.at;
}

typedef struct conn {
    int fd, up_port;
} conn;

static void *conn_main(void *arg) {
    conn *cn = arg;
    int cfd = cn->fd, ufd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cn->up_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    free(cn);
    if (ufd < 0 || connect(ufd, (struct sockaddr *)&sa, sizeof sa) != 0)
        goto out;
    for (;;) {
        size_t n, rn;
        uint8_t *req = read_frame(cfd, &n);
        if (!req || n < 8) {
            free(req);
            break;
        }
        int key = (int16_t)be16(req), ver = (int16_t)be16(req + 2);
        if (key == 19 && ver <= 4) {
            uint8_t *resp = create_topics(req, n, body_at(req, n, 0), ver, &rn);
            free(req);
            int bad = send_frame(cfd, resp, rn);
            free(resp);
            if (bad)
                break;
            continue;
        }
        int no_answer = 0;
        if (key == 0) { /* Produce with acks=0 has no answer */
            rd r = {req, n, body_at(req, n, ver >= 9), 0};
            int l;
            if (ver >= 3)
                rdstr(&r, ver >= 9, &l);
            no_answer = !r.bad && rd16(&r) == 0;
        }
        int bad = send_frame(ufd, req, n);
        free(req);
        if (bad)
            break;
        if (no_answer)
            continue;
        uint8_t *resp = read_frame(ufd, &rn);
        if (!resp)
            break;
        if (key == 18)
            resp = fix_apiversions(resp, &rn, ver);
        else if (key == 3)
            fix_metadata(resp, rn, ver);
        else if (key == 10)
            fix_coordinator(resp, rn, ver);
        bad = send_frame(cfd, resp, rn);
        free(resp);
        if (bad)
            break;
    }
out:
    if (ufd >= 0)
        close(ufd);
    close(cfd);
    return NULL;
}

static void *accept_main(void *arg) {
    (void)arg;
    struct pollfd pf[16];
    for (int i = 0; i < nfronts; i++)
        pf[i] = (struct pollfd){.fd = fronts[i].lfd, .events = POLLIN};
    for (;;) {
        if (poll(pf, (nfds_t)nfronts, -1) < 0)
            continue;
        for (int i = 0; i < nfronts; i++) {
            if (!(pf[i].revents & POLLIN))
                continue;
            int fd = accept(fronts[i].lfd, NULL, NULL);
            if (fd < 0)
                continue;
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            conn *cn = malloc(sizeof *cn);
            pthread_t th;
            if (!cn) {
                close(fd);
                continue;
            }
            cn->fd = fd;
            cn->up_port = fronts[i].up_port;
            if (pthread_create(&th, NULL, conn_main, cn) != 0) {
                close(fd);
                free(cn);
                continue;
            }
            pthread_detach(th);
        }
    }
    return NULL;
}

/* Starts a front per broker of `boot` ("127.0.0.1:PORT,..."); writes the
 * fronts' bootstrap list into out. */
static int fronts_start(rd_kafka_mock_cluster_t *mc, const char *boot, char *out, size_t cap) {
    front_mc = mc;
    size_t o = 0;
    out[0] = 0;
    for (const char *p = boot; p && *p && nfronts < 16;) {
        const char *colon = strchr(p, ':');
        if (!colon)
            return -1;
        int up = atoi(colon + 1);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sa;
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 64) ||
            getsockname(fd, (struct sockaddr *)&sa, &sl))
            return -1;
        fronts[nfronts++] = (front){fd, ntohs(sa.sin_port), up};
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s127.0.0.1:%d", o ? "," : "", ntohs(sa.sin_port));
        p = strchr(p, ',');
        if (p)
            p++;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, accept_main, NULL) != 0)
        return -1;
    pthread_detach(th);
    return 0;
}

/* ---- commands ---------------------------------------------------------------------------- */

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
    } else if (strcmp(argv[0], "deny") == 0 && argc == 2) {
        pthread_mutex_lock(&deny_mu);
        if (ndenied < 16)
            snprintf(denied[ndenied++], sizeof denied[0], "%s", argv[1]);
        pthread_mutex_unlock(&deny_mu);
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
    int brokers = 1, admin = 0;
    char *topics[64];
    int ntopics = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-a") == 0)
            admin = 1;
        else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
            brokers = atoi(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc && ntopics < 64)
            topics[ntopics++] = argv[++i];
        else {
            fprintf(stderr, "usage: kafka_mock [-a] [-b BROKERS] [-t TOPIC:PARTITIONS]...\n");
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
    char boot[1024];
    snprintf(boot, sizeof boot, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    if (admin && fronts_start(mc, rd_kafka_mock_cluster_bootstraps(mc), boot, sizeof boot) != 0) {
        fprintf(stderr, "kafka_mock: cannot start the admin front\n");
        return 1;
    }
    printf("bootstrap %s\n", boot);
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
