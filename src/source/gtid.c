/*
 * gtid.c — MariaDB GTID positions (source.h): one GTID per replication
 * domain, written "domain-server-seq[,domain-server-seq…]" as
 * @@gtid_binlog_pos, BINLOG_GTID_POS() and @slave_connect_state write it.
 *
 * Within a domain, sequence numbers only grow (whatever server wrote
 * them), so one position covers another when it is at least as far in
 * every domain the other names.
 */
#include "source/source.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find(const lks_gtid_pos *g, uint32_t domain) {
    for (int i = 0; i < g->n; i++)
        if (g->g[i].domain == domain) return i;
    return -1;
}

int lks_gtid_pos_set(lks_gtid_pos *g, uint32_t domain, uint32_t server, uint64_t seq) {
    int i = find(g, domain);
    if (i < 0) {
        if (g->n == LKS_GTID_DOMAINS_MAX) return LKS_ELIMIT;
        /* kept sorted by domain, so equal positions format the same */
        i = g->n++;
        while (i > 0 && g->g[i - 1].domain > domain) {
            g->g[i] = g->g[i - 1];
            i--;
        }
    }
    g->g[i].domain = domain;
    g->g[i].server = server;
    g->g[i].seq = seq;
    return LKS_OK;
}

int64_t lks_gtid_pos_seq(const lks_gtid_pos *g, uint32_t domain) {
    int i = find(g, domain);
    return i < 0 ? -1 : (int64_t)g->g[i].seq;
}

static int parse_u64(const char **s, uint64_t max, uint64_t *out) {
    const char *p = *s;
    if (*p < '0' || *p > '9') return -1;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10) return -1;
        v = v * 10 + d;
    }
    *s = p;
    *out = v;
    return 0;
}

int lks_gtid_pos_parse(const char *s, lks_gtid_pos *out, lks_err *err) {
    memset(out, 0, sizeof *out);
    const char *p = s ? s : "";
    while (*p == ' ') p++;
    while (*p) {
        const char *at = p;
        uint64_t d, sv, q;
        if (parse_u64(&p, UINT32_MAX, &d) || *p++ != '-' || parse_u64(&p, UINT32_MAX, &sv) || *p++ != '-' ||
            parse_u64(&p, (uint64_t)INT64_MAX, &q))
            return lks_err_set(err, LKS_EINVAL, "GTID position '%.200s': '%.40s' at byte %zu is not domain-server-seq",
                               s, at, (size_t)(at - s));
        if (find(out, (uint32_t)d) >= 0)
            return lks_err_set(err, LKS_EINVAL, "GTID position '%.200s': domain %" PRIu64 " appears twice", s, d);
        if (lks_gtid_pos_set(out, (uint32_t)d, (uint32_t)sv, q))
            return lks_err_set(err, LKS_ELIMIT, "GTID position '%.200s': more than %d domains", s,
                               LKS_GTID_DOMAINS_MAX);
        while (*p == ' ') p++;
        if (*p == ',') {
            p++;
            while (*p == ' ' || *p == '\n') p++;
            if (!*p)
                return lks_err_set(err, LKS_EINVAL, "GTID position '%.200s': ends with a comma", s);
        } else if (*p) {
            return lks_err_set(err, LKS_EINVAL, "GTID position '%.200s': unexpected '%c' at byte %zu", s, *p,
                               (size_t)(p - s));
        }
    }
    return LKS_OK;
}

int lks_gtid_pos_format(const lks_gtid_pos *g, char *out, size_t cap) {
    size_t len = 0;
    if (cap) out[0] = 0;
    for (int i = 0; i < g->n; i++) {
        int k = snprintf(out + len, cap > len ? cap - len : 0, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64, i ? "," : "",
                         g->g[i].domain, g->g[i].server, g->g[i].seq);
        if (k < 0 || (size_t)k >= (cap > len ? cap - len : 0)) return LKS_ELIMIT;
        len += (size_t)k;
    }
    return LKS_OK;
}

int lks_gtid_pos_covers(const lks_gtid_pos *a, const lks_gtid_pos *b) {
    for (int i = 0; i < b->n; i++) {
        int j = find(a, b->g[i].domain);
        if (j < 0 || a->g[j].seq < b->g[i].seq) return 0;
    }
    return 1;
}

int lks_gtid_pos_equal(const lks_gtid_pos *a, const lks_gtid_pos *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->g[i].domain != b->g[i].domain || a->g[i].server != b->g[i].server || a->g[i].seq != b->g[i].seq)
            return 0;
    return 1;
}

void lks_gtid_pos_merge_max(lks_gtid_pos *a, const lks_gtid_pos *b) {
    for (int i = 0; i < b->n; i++) {
        int j = find(a, b->g[i].domain);
        if (j < 0 || a->g[j].seq < b->g[i].seq) lks_gtid_pos_set(a, b->g[i].domain, b->g[i].server, b->g[i].seq);
    }
}

void lks_gtid_pos_meet_min(lks_gtid_pos *a, const lks_gtid_pos *b) {
    /* domains b lacks go: b must read them from their start */
    int k = 0;
    for (int i = 0; i < a->n; i++) {
        int j = find(b, a->g[i].domain);
        if (j < 0) continue;
        a->g[k] = a->g[i];
        if (b->g[j].seq < a->g[k].seq) a->g[k] = b->g[j];
        k++;
    }
    a->n = k;
}
