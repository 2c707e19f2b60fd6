/*
 * list.c — the raw zone layout: object names and listing.
 *
 * The layout is the Confluent S3 sink connector's with its default
 * partitioner (partitioner.class DefaultPartitioner):
 *
 *   <topics.dir>/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json[.gz]
 *
 * startOffset is zero-padded (filename.offset.zero.pad.width, 10 by
 * default); any width of 1 to 19 digits is accepted, so offsets past ten
 * digits and sinks configured with a narrower pad width both read.  The
 * topic is everything before the last two '+' (a '+' inside a topic name
 * stays part of it); the partition is a canonical decimal (no sign, no
 * leading zero).  With store.kafka.keys the sink writes the keys beside
 * the values: the keys record view adds ".keys" before the format
 * extension, and the keys use the same compression as the values, so the
 * keys of "t+0+0000000000.json.gz" are in "t+0+0000000000.keys.json.gz".
 * A keys object whose values object is absent (or differs in compression)
 * is not paired and counts as skipped.
 *
 * Objects under other paths (time-based or field partitioners, headers
 * objects, other formats) are skipped: their start offsets do not give the
 * offset of every line, which the reader relies on.
 */
#include "rawzone/rawzone.h"

#include <stdlib.h>
#include <string.h>

/* Kinds of names. */
enum { NAME_VALUES = 1, NAME_KEYS = 2 };

typedef struct parsed_name {
    const char *topic; /* points into the name */
    size_t topic_len;
    int partition;
    int64_t start;
    int gzip;
    int kind;
} parsed_name;

/* Parses a canonical non-negative decimal of [s, s+n): no sign, no leading
 * zero (unless "0").  Returns 0 on success. */
static int parse_partition(const char *s, size_t n, int *out) {
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > INT32_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parses 1..19 decimal digits (zero padding allowed) into a non-negative
 * int64.  Returns 0 on success. */
static int parse_offset(const char *s, size_t n, int64_t *out) {
    if (n == 0 || n > 19)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int ends_with(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* Parses one last path segment [name, name+n).  Returns 0 when it is a
 * values or keys name of the layout. */
static int parse_any(const char *name, size_t n, parsed_name *pn) {
    memset(pn, 0, sizeof *pn);
    if (ends_with(name, n, ".gz")) {
        pn->gzip = 1;
        n -= 3;
    }
    if (!ends_with(name, n, ".json"))
        return -1;
    n -= 5;
    pn->kind = NAME_VALUES;
    if (ends_with(name, n, ".keys")) {
        pn->kind = NAME_KEYS;
        n -= 5;
    }
    /* name[0..n) is "<topic>+<p>+<offset>" */
    const char *plus2 = NULL, *plus1 = NULL;
    for (size_t i = n; i-- > 0;) {
        if (name[i] == '+') {
            if (!plus2)
                plus2 = name + i;
            else {
                plus1 = name + i;
                break;
            }
        }
    }
    if (!plus1 || plus1 == name)
        return -1;
    if (parse_offset(plus2 + 1, (size_t)(name + n - plus2 - 1), &pn->start) != 0)
        return -1;
    if (parse_partition(plus1 + 1, (size_t)(plus2 - plus1 - 1), &pn->partition) != 0)
        return -1;
    pn->topic = name;
    pn->topic_len = (size_t)(plus1 - name);
    return 0;
}

int lks_rz_parse_name(const char *name, lks_arena *a, lks_rz_object *out) {
    if (!name || !a || !out)
        return LKS_EINVAL;
    const char *slash = strrchr(name, '/');
    const char *seg = slash ? slash + 1 : name;
    parsed_name pn;
    if (parse_any(seg, strlen(seg), &pn) != 0 || pn.kind != NAME_VALUES)
        return LKS_EINVAL;
    char *topic = lks_arena_strndup(a, pn.topic, pn.topic_len);
    char *key = lks_arena_strdup(a, name);
    if (!topic || !key)
        return LKS_ENOMEM;
    memset(out, 0, sizeof *out);
    out->key = key;
    out->topic = topic;
    out->partition = pn.partition;
    out->start_offset = pn.start;
    out->gzip = pn.gzip;
    return LKS_OK;
}

/* ---- listing -------------------------------------------------------------------------- */

typedef struct found {
    const char *key;   /* arena copy of the object key */
    const char *topic; /* arena copy */
    int partition;
    int64_t start;
    uint64_t size;
    int gzip;
    int kind;
    int paired;
} found;

typedef struct list_ctx {
    lks_arena *a;
    const char *filter; /* topic or NULL */
    size_t base_len;    /* bytes of "<topics_dir>/" at the start of every key */
    found *v;
    size_t n, cap;
    size_t skipped;
    int rc;
} list_ctx;

/* Checks "<topic>/partition=<p>/<name>" against the parsed name. */
static int path_matches(const char *rest, const parsed_name *pn, const char **seg_out) {
    const char *s1 = strchr(rest, '/');
    if (!s1)
        return 0;
    const char *s2 = strchr(s1 + 1, '/');
    if (!s2 || strchr(s2 + 1, '/'))
        return 0;
    if ((size_t)(s1 - rest) != pn->topic_len || memcmp(rest, pn->topic, pn->topic_len) != 0)
        return 0;
    const char *pd = s1 + 1;
    size_t pdl = (size_t)(s2 - pd);
    int p;
    if (pdl < 10 || memcmp(pd, "partition=", 10) != 0 || parse_partition(pd + 10, pdl - 10, &p) != 0 ||
        p != pn->partition)
        return 0;
    *seg_out = s2 + 1;
    return 1;
}

static int on_entry(void *ud, const lks_store_entry *ent) {
    list_ctx *c = ud;
    const char *key = ent->key;
    size_t klen = strlen(key);
    if (klen <= c->base_len) {
        c->skipped++;
        return 0;
    }
    const char *rest = key + c->base_len;
    const char *slash = strrchr(rest, '/');
    const char *seg = slash ? slash + 1 : rest;
    parsed_name pn;
    const char *seg2 = NULL;
    if (parse_any(seg, strlen(seg), &pn) != 0 || !path_matches(rest, &pn, &seg2) || seg2 != seg) {
        c->skipped++;
        return 0;
    }
    if (c->filter && (strlen(c->filter) != pn.topic_len || memcmp(c->filter, pn.topic, pn.topic_len) != 0)) {
        c->skipped++;
        return 0;
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        found *nv = realloc(c->v, ncap * sizeof *nv);
        if (!nv) {
            c->rc = LKS_ENOMEM;
            return 1;
        }
        c->v = nv;
        c->cap = ncap;
    }
    found *f = &c->v[c->n];
    f->key = lks_arena_strndup(c->a, key, klen);
    f->topic = lks_arena_strndup(c->a, pn.topic, pn.topic_len);
    if (!f->key || !f->topic) {
        c->rc = LKS_ENOMEM;
        return 1;
    }
    f->partition = pn.partition;
    f->start = pn.start;
    f->size = ent->size;
    f->gzip = pn.gzip;
    f->kind = pn.kind;
    f->paired = 0;
    c->n++;
    return 0;
}

/* Orders by topic, partition, start offset, then kind and compression, so
 * a values object and its keys object (same compression) are neighbours
 * once keys sort right after values of the same compression. */
static int cmp_found(const void *x, const void *y) {
    const found *a = x, *b = y;
    int c = strcmp(a->topic, b->topic);
    if (c)
        return c;
    if (a->partition != b->partition)
        return a->partition < b->partition ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->gzip != b->gzip)
        return a->gzip - b->gzip;
    return a->kind - b->kind;
}

int lks_rz_list(lks_store *st, const char *topics_dir, const char *topic, lks_arena *a, lks_rz_object **out,
                size_t *n, size_t *skipped, lks_err *err) {
    if (!st || !a || !out || !n)
        return lks_err_set(err, LKS_EINVAL, "rawzone list: missing argument");
    *out = NULL;
    *n = 0;
    if (skipped)
        *skipped = 0;
    if (!topics_dir)
        topics_dir = "topics";
    size_t dl = strlen(topics_dir);
    while (dl > 0 && topics_dir[dl - 1] == '/')
        dl--;
    if (topic && (!*topic || strchr(topic, '/') || !strcmp(topic, ".") || !strcmp(topic, "..")))
        return lks_err_set(err, LKS_EINVAL, "rawzone list: invalid topic name '%s'", topic);

    lks_buf prefix;
    lks_buf_init(&prefix, 1 << 16);
    int rc = LKS_OK;
    if (dl > 0) {
        rc = lks_buf_append(&prefix, topics_dir, dl);
        if (!rc)
            rc = lks_buf_append_byte(&prefix, '/');
    }
    size_t base_len = prefix.len;
    if (!rc && topic)
        rc = lks_buf_printf(&prefix, "%s/", topic);
    if (!rc)
        rc = lks_buf_cstr(&prefix);
    if (rc) {
        lks_buf_free(&prefix);
        return lks_err_set(err, rc, "rawzone list: prefix too long");
    }

    list_ctx c = {.a = a, .filter = topic, .base_len = base_len};
    rc = lks_store_list(st, prefix.len ? (const char *)prefix.ptr : "", on_entry, &c, err);
    if (!rc && c.rc)
        rc = lks_err_set(err, c.rc, "rawzone list %s: out of memory", prefix.len ? (const char *)prefix.ptr : "");
    lks_buf_free(&prefix);
    if (rc) {
        free(c.v);
        return rc;
    }

    if (c.n > 1)
        qsort(c.v, c.n, sizeof *c.v, cmp_found);
    size_t nval = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (c.v[i].kind == NAME_VALUES) {
            nval++;
            if (i + 1 < c.n && c.v[i + 1].kind == NAME_KEYS && !strcmp(c.v[i + 1].topic, c.v[i].topic) &&
                c.v[i + 1].partition == c.v[i].partition && c.v[i + 1].start == c.v[i].start &&
                c.v[i + 1].gzip == c.v[i].gzip) {
                c.v[i].paired = 1;
                c.v[i + 1].paired = 1;
            }
        } else if (!c.v[i].paired) {
            c.skipped++; /* keys without their values */
        }
    }
    lks_rz_object *objs = NULL;
    if (nval) {
        objs = lks_arena_alloc(a, nval * sizeof *objs);
        if (!objs) {
            free(c.v);
            return lks_err_set(err, LKS_ENOMEM, "rawzone list: out of memory for %zu objects", nval);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (c.v[i].kind != NAME_VALUES)
            continue;
        lks_rz_object *o = &objs[k++];
        o->key = c.v[i].key;
        o->topic = c.v[i].topic;
        o->partition = c.v[i].partition;
        o->start_offset = c.v[i].start;
        o->size = c.v[i].size;
        o->gzip = c.v[i].gzip;
        o->has_keys = c.v[i].paired;
    }
    free(c.v);
    *out = objs;
    *n = nval;
    if (skipped)
        *skipped = c.skipped;
    return LKS_OK;
}
