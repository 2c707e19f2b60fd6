/*
 * delta_validate.h — a Delta log validator for tests, written from
 * PROTOCOL.md's requirements and independent of src/delta's reader (it
 * uses jansson directly).  Checks, over every commit of a table:
 *
 *   - versions 0..N contiguous; every line one JSON object with one action;
 *   - exactly one commitInfo per commit (lakesync always writes one);
 *   - version 0 has protocol and metaData; at most one of each per commit;
 *     readerFeatures present iff minReaderVersion 3, writerFeatures iff 7;
 *   - metaData has id, format.provider, a parseable schemaString,
 *     partitionColumns (array) and configuration (object);
 *   - within a commit no path added twice / removed twice, no appId twice;
 *   - an add's path is not already live unless the same commit removes it;
 *   - a remove refers to a file that was live at some earlier point;
 *   - add partitionValues keys equal the partition columns (no column
 *     mapping), values strings or null;
 *   - stats (when present) parse as a JSON object with numRecords >= 0;
 *   - an add with a deletionVector: the protocol in force lists the
 *     deletionVectors reader and writer feature; the descriptor has
 *     storageType u/i/p, pathOrInlineDv, sizeInBytes and a cardinality in
 *     1..numRecords; stats with numRecords are present ("Per-file
 *     Statistics": they must be, for a file with a DV);
 *   - _last_checkpoint, when present, names an existing checkpoint.
 *
 * lks_delta_validate(dir, msg, cap) returns the number of problems and puts
 * the first few in msg.
 */
#ifndef LKS_DELTA_VALIDATE_H
#define LKS_DELTA_VALIDATE_H

#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lks_dv_ctx {
    int problems;
    char *msg;
    size_t cap, len;
} lks_dv_ctx;

static void lks_dv_problem(lks_dv_ctx *c, const char *fmt, ...) {
    c->problems++;
    if (c->problems > 5 || c->len + 2 >= c->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->msg + c->len, c->cap - c->len, fmt, ap);
    va_end(ap);
    if (n > 0) c->len += (size_t)n < c->cap - c->len ? (size_t)n : c->cap - c->len - 1;
    if (c->len + 2 < c->cap) {
        c->msg[c->len++] = ';';
        c->msg[c->len++] = ' ';
        c->msg[c->len] = 0;
    }
}

/* A tiny string set (linear probing). */
typedef struct lks_dv_set {
    char **k;
    size_t cap, n;
} lks_dv_set;

static size_t lks_dv_hash(const char *s) {
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static char **lks_dv_slot(lks_dv_set *s, const char *key) {
    size_t i = lks_dv_hash(key) & (s->cap - 1);
    while (s->k[i] && strcmp(s->k[i], key) != 0) i = (i + 1) & (s->cap - 1);
    return &s->k[i];
}

static int lks_dv_has(lks_dv_set *s, const char *key) { return s->cap && *lks_dv_slot(s, key) != NULL; }

static void lks_dv_add(lks_dv_set *s, const char *key) {
    if ((s->n + 1) * 2 > s->cap) {
        lks_dv_set ns = {NULL, s->cap ? s->cap * 2 : 64, 0};
        ns.k = calloc(ns.cap, sizeof *ns.k);
        for (size_t i = 0; i < s->cap; i++)
            if (s->k[i] && s->k[i] != (char *)1) {
                *lks_dv_slot(&ns, s->k[i]) = s->k[i];
                ns.n++;
            }
        free(s->k);
        *s = ns;
    }
    char **sl = lks_dv_slot(s, key);
    if (!*sl) {
        *sl = strdup(key);
        s->n++;
    }
}

/* Removal by rebuilding (rare in tests; fine). */
static void lks_dv_del(lks_dv_set *s, const char *key) {
    if (!s->cap) return;
    char **sl = lks_dv_slot(s, key);
    if (!*sl) return;
    free(*sl);
    *sl = NULL;
    s->n--;
    /* re-insert the cluster after the hole */
    size_t i = (size_t)(sl - s->k);
    for (size_t j = (i + 1) & (s->cap - 1); s->k[j]; j = (j + 1) & (s->cap - 1)) {
        char *k = s->k[j];
        s->k[j] = NULL;
        *lks_dv_slot(s, k) = k;
    }
}

static void lks_dv_free(lks_dv_set *s) {
    for (size_t i = 0; i < s->cap; i++) free(s->k[i]);
    free(s->k);
    memset(s, 0, sizeof *s);
}

static char *lks_dv_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (n == cap) b = realloc(b, (cap *= 2) + 1);
        size_t k = fread(b + n, 1, cap - n, f);
        if (!k) break;
        n += k;
    }
    fclose(f);
    b[n] = 0;
    *len = n;
    return b;
}

static int lks_dv_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int lks_delta_validate(const char *dir, char *msg, size_t cap) {
    lks_dv_ctx c = {0, msg, cap, 0};
    if (cap) msg[0] = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/_delta_log", dir);
    DIR *d = opendir(path);
    if (!d) {
        lks_dv_problem(&c, "no _delta_log in %s", dir);
        return c.problems;
    }
    char **names = NULL;
    size_t nn = 0, cn = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue; /* temporaries are dot files */
        if (nn == cn) names = realloc(names, (cn = cn ? cn * 2 : 64) * sizeof *names);
        names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, lks_dv_cmp_str);
    lks_dv_set live = {0}, ever = {0}, ckpts = {0};
    json_t *partcols = NULL;
    int64_t expect = 0;
    int dv_ok = 0; /* the protocol in force has the deletionVectors features */
    for (size_t i = 0; i < nn; i++) {
        const char *nm = names[i];
        size_t l = strlen(nm);
        if (l == 20 + 19 && strcmp(nm + 20, ".checkpoint.parquet") == 0) {
            lks_dv_add(&ckpts, nm);
            continue;
        }
        if (!(l == 25 && strcmp(nm + 20, ".json") == 0)) continue;
        int64_t v = strtoll(nm, NULL, 10);
        if (v != expect) lks_dv_problem(&c, "version %" PRId64 " follows %" PRId64, v, expect - 1);
        expect = v + 1;
        snprintf(path, sizeof path, "%s/_delta_log/%s", dir, nm);
        size_t len;
        char *body = lks_dv_read(path, &len);
        if (!body) {
            lks_dv_problem(&c, "%s unreadable", nm);
            continue;
        }
        int ncommit = 0, nproto = 0, nmeta = 0;
        lks_dv_set adds = {0}, rems = {0}, apps = {0};
        int line = 0;
        char *p = body;
        while (*p) {
            char *nl = strchr(p, '\n');
            if (nl) *nl = 0;
            line++;
            if (*p) {
                json_error_t je;
                json_t *o = json_loads(p, 0, &je);
                if (!json_is_object(o) || json_object_size(o) != 1) {
                    lks_dv_problem(&c, "v%" PRId64 " line %d: not one JSON object with one action", v, line);
                } else {
                    const char *k = json_object_iter_key(json_object_iter(o));
                    json_t *a = json_object_iter_value(json_object_iter(o));
                    if (!strcmp(k, "commitInfo")) {
                        ncommit++;
                    } else if (!strcmp(k, "protocol")) {
                        nproto++;
                        json_t *r = json_object_get(a, "minReaderVersion"), *w = json_object_get(a, "minWriterVersion");
                        if (!json_is_integer(r) || !json_is_integer(w))
                            lks_dv_problem(&c, "v%" PRId64 ": protocol versions missing", v);
                        else {
                            int hasr = json_object_get(a, "readerFeatures") != NULL;
                            int hasw = json_object_get(a, "writerFeatures") != NULL;
                            if (hasr != (json_integer_value(r) == 3) || hasw != (json_integer_value(w) == 7))
                                lks_dv_problem(&c, "v%" PRId64 ": feature lists do not match versions", v);
                            int inr = 0, inw = 0;
                            size_t ix;
                            json_t *fe;
                            json_array_foreach(json_object_get(a, "readerFeatures"), ix, fe)
                                inr |= json_is_string(fe) && !strcmp(json_string_value(fe), "deletionVectors");
                            json_array_foreach(json_object_get(a, "writerFeatures"), ix, fe)
                                inw |= json_is_string(fe) && !strcmp(json_string_value(fe), "deletionVectors");
                            dv_ok = inr && inw;
                        }
                    } else if (!strcmp(k, "metaData")) {
                        nmeta++;
                        json_t *fmt = json_object_get(a, "format");
                        json_t *ss = json_object_get(a, "schemaString");
                        json_t *pc = json_object_get(a, "partitionColumns");
                        if (!json_is_string(json_object_get(a, "id")) ||
                            !json_is_string(json_object_get(fmt, "provider")) || !json_is_string(ss) ||
                            !json_is_array(pc) || !json_is_object(json_object_get(a, "configuration")))
                            lks_dv_problem(&c, "v%" PRId64 ": metaData misses required fields", v);
                        else {
                            json_t *sj = json_loads(json_string_value(ss), 0, &je);
                            if (!json_is_object(sj) || strcmp(json_string_value(json_object_get(sj, "type")) ?
                                                              json_string_value(json_object_get(sj, "type")) : "",
                                                              "struct"))
                                lks_dv_problem(&c, "v%" PRId64 ": schemaString is not a struct", v);
                            json_decref(sj);
                            json_decref(partcols);
                            partcols = json_incref(pc);
                        }
                    } else if (!strcmp(k, "add") || !strcmp(k, "remove")) {
                        int is_add = k[0] == 'a';
                        const char *fp = json_string_value(json_object_get(a, "path"));
                        if (!fp) {
                            lks_dv_problem(&c, "v%" PRId64 ": %s without path", v, k);
                        } else if (is_add) {
                            if (lks_dv_has(&adds, fp)) lks_dv_problem(&c, "v%" PRId64 ": %s added twice", v, fp);
                            lks_dv_add(&adds, fp);
                            json_t *pv = json_object_get(a, "partitionValues");
                            if (!json_is_object(pv)) lks_dv_problem(&c, "v%" PRId64 ": %s: no partitionValues", v, fp);
                            else if (partcols) {
                                size_t ok = json_object_size(pv) == json_array_size(partcols);
                                size_t ix;
                                json_t *col;
                                json_array_foreach(partcols, ix, col) {
                                    json_t *pvv = json_object_get(pv, json_string_value(col));
                                    if (!pvv || !(json_is_string(pvv) || json_is_null(pvv))) ok = 0;
                                }
                                if (!ok)
                                    lks_dv_problem(&c, "v%" PRId64 ": %s: partitionValues keys differ from partitionColumns",
                                                   v, fp);
                            }
                            if (!json_is_integer(json_object_get(a, "size")) ||
                                !json_is_integer(json_object_get(a, "modificationTime")) ||
                                !json_is_boolean(json_object_get(a, "dataChange")))
                                lks_dv_problem(&c, "v%" PRId64 ": %s: size/modificationTime/dataChange", v, fp);
                            json_t *st = json_object_get(a, "stats");
                            int64_t nrec = -1;
                            if (st && !json_is_null(st)) {
                                json_t *sj = json_is_string(st)
                                                 ? json_loads(json_string_value(st), JSON_DECODE_INT_AS_REAL, &je)
                                                 : NULL;
                                json_t *nr = json_object_get(sj, "numRecords");
                                double nd = json_is_number(nr) ? json_number_value(nr) : -1;
                                if (!json_is_object(sj) || nd < 0 || nd != (double)(int64_t)nd)
                                    lks_dv_problem(&c, "v%" PRId64 ": %s: stats without numRecords", v, fp);
                                else
                                    nrec = (int64_t)nd;
                                json_decref(sj);
                            }
                            json_t *dv = json_object_get(a, "deletionVector");
                            if (dv && !json_is_null(dv)) {
                                const char *stt = json_string_value(json_object_get(dv, "storageType"));
                                json_t *card = json_object_get(dv, "cardinality");
                                if (!dv_ok)
                                    lks_dv_problem(&c, "v%" PRId64 ": %s: deletion vector without the deletionVectors "
                                                   "feature", v, fp);
                                if (!stt || strlen(stt) != 1 || !strchr("uip", stt[0]) ||
                                    !json_is_string(json_object_get(dv, "pathOrInlineDv")) ||
                                    !json_is_integer(json_object_get(dv, "sizeInBytes")) || !json_is_integer(card))
                                    lks_dv_problem(&c, "v%" PRId64 ": %s: malformed deletionVector", v, fp);
                                else if (nrec < 0)
                                    lks_dv_problem(&c, "v%" PRId64 ": %s: deletion vector without stats.numRecords",
                                                   v, fp);
                                else if (json_integer_value(card) < 1 || json_integer_value(card) > nrec)
                                    lks_dv_problem(&c, "v%" PRId64 ": %s: deletion vector cardinality %" PRId64
                                                   " outside 1..%" PRId64, v, fp, (int64_t)json_integer_value(card),
                                                   nrec);
                            }
                        } else {
                            if (lks_dv_has(&rems, fp)) lks_dv_problem(&c, "v%" PRId64 ": %s removed twice", v, fp);
                            lks_dv_add(&rems, fp);
                            if (!lks_dv_has(&ever, fp))
                                lks_dv_problem(&c, "v%" PRId64 ": remove of %s, never live", v, fp);
                            if (!json_is_boolean(json_object_get(a, "dataChange")))
                                lks_dv_problem(&c, "v%" PRId64 ": remove %s: dataChange", v, fp);
                        }
                    } else if (!strcmp(k, "txn")) {
                        const char *app = json_string_value(json_object_get(a, "appId"));
                        if (!app || !json_is_integer(json_object_get(a, "version")))
                            lks_dv_problem(&c, "v%" PRId64 ": txn without appId/version", v);
                        else {
                            if (lks_dv_has(&apps, app)) lks_dv_problem(&c, "v%" PRId64 ": appId %s twice", v, app);
                            lks_dv_add(&apps, app);
                        }
                    }
                }
                json_decref(o);
            }
            if (!nl) break;
            p = nl + 1;
        }
        if (ncommit != 1) lks_dv_problem(&c, "v%" PRId64 ": %d commitInfo actions", v, ncommit);
        if (nproto > 1 || nmeta > 1) lks_dv_problem(&c, "v%" PRId64 ": several protocol/metaData actions", v);
        if (v == 0 && (nproto != 1 || nmeta != 1)) lks_dv_problem(&c, "v0 lacks protocol or metaData");
        /* apply: removes, then adds */
        for (size_t k = 0; k < rems.cap; k++)
            if (rems.k[k]) lks_dv_del(&live, rems.k[k]);
        for (size_t k = 0; k < adds.cap; k++)
            if (adds.k[k]) {
                if (lks_dv_has(&live, adds.k[k]))
                    lks_dv_problem(&c, "v%" PRId64 ": %s added while already live", v, adds.k[k]);
                lks_dv_add(&live, adds.k[k]);
                lks_dv_add(&ever, adds.k[k]);
            }
        lks_dv_free(&adds);
        lks_dv_free(&rems);
        lks_dv_free(&apps);
        free(body);
    }
    if (expect == 0) lks_dv_problem(&c, "no commits");
    snprintf(path, sizeof path, "%s/_delta_log/_last_checkpoint", dir);
    size_t len;
    char *lc = lks_dv_read(path, &len);
    if (lc) {
        json_error_t je;
        json_t *o = json_loads(lc, 0, &je);
        json_t *vv = json_object_get(o, "version");
        char nm[64];
        if (!json_is_integer(vv) || !json_is_integer(json_object_get(o, "size")))
            lks_dv_problem(&c, "_last_checkpoint lacks version/size");
        else {
            snprintf(nm, sizeof nm, "%020" PRId64 ".checkpoint.parquet", (int64_t)json_integer_value(vv));
            if (!lks_dv_has(&ckpts, nm)) lks_dv_problem(&c, "_last_checkpoint names missing %s", nm);
        }
        json_decref(o);
        free(lc);
    }
    json_decref(partcols);
    lks_dv_free(&live);
    lks_dv_free(&ever);
    lks_dv_free(&ckpts);
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    return c.problems;
}

#endif
