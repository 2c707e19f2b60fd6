/* test_delta_corpus.c — conformance over every Delta table of the shared
 * corpus (issue 3): each table is either read with exactly the expected
 * rows, or refused with a clear error naming what is unsupported.
 *
 * Per case: the latest snapshot is scanned whole; its rows (as "Rows as
 * text" JSON over the read schema) are compared as a multiset with the
 * expected rows when the case ships them (DAT: expected/latest and every
 * expected/vN at snapshot version N; golden tables: the parts in expected/),
 * the expected files being read through the same canonical conversion.
 * Cases without expected rows are checked against the sum of numRecords
 * in the add stats minus the deletion vectors' cardinalities when every
 * file has stats.  Negative cases must fail.  One line per case, then a
 * summary and the harness line. */
#include "delta/delta_int.h"
#include "harness.h"

#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

/* Cases that must not read (the corpus MANIFEST's negative cases), and the
 * status we accept. */
static const struct {
    const char *cs;
    int code; /* 0: any error */
} negative[] = {
    {"golden-deltalog-invalid-protocol-version", 0},
    {"golden-deltalog-state-reconstruction-without-protocol", 0},
    {"golden-deltalog-state-reconstruction-without-metadata", 0},
    {"golden-deltalog-state-reconstruction-from-checkpoint-missing-protocol", 0},
    {"golden-deltalog-state-reconstruction-from-checkpoint-missing-metadata", 0},
    {"golden-versions-not-contiguous", 0},
    {"kernelrs-crc-malformed", 0},
};

/* Tables written under a Spark test setting that prefixes DV file names
 * without recording it (MANIFEST): a reader following PROTOCOL.md cannot
 * find the DV files and must say so. */
static const char *dv_prefixed[] = {"spark-table-with-dv-small", "spark-table-with-dv-large"};

/* Writers' session zones for zoneless timestamp partition values (all
 * other cases were written in UTC or use ISO-8601 "Z" values). */
static const struct {
    const char *cs, *tz;
} writer_zones[] = {
    /* "2021-09-08 11:11:11" partitions, expected 18:11:11Z: Pacific time */
    {"golden-data-reader-partition-values", "America/Los_Angeles"},
};

static const char *writer_zone(const char *cs) {
    for (size_t i = 0; i < sizeof writer_zones / sizeof writer_zones[0]; i++)
        if (strcmp(writer_zones[i].cs, cs) == 0)
            return writer_zones[i].tz;
    return NULL;
}

/* ---- rows as sorted JSON lines ------------------------------------------------------ */

typedef struct rowset_txt {
    lks_buf text;
    size_t *off; /* start of each line in text */
    size_t n, cap;
    const lks_pq_schema *rs;
    int64_t *nonnull; /* per top-level column */
    size_t ncols;
} rowset_txt;

static void rt_init(rowset_txt *r, const lks_pq_schema *rs) {
    memset(r, 0, sizeof *r);
    lks_buf_init(&r->text, 0);
    r->rs = rs;
}
static void rt_free(rowset_txt *r) {
    free(r->nonnull);
    lks_buf_free(&r->text);
    free(r->off);
    memset(r, 0, sizeof *r);
}

static int rt_add(void *ud, const lks_pq_value *row, lks_err *err) {
    rowset_txt *r = ud;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        size_t *o = realloc(r->off, r->cap * sizeof *o);
        if (!o)
            return lks_err_set(err, LKS_ENOMEM, "out of memory");
        r->off = o;
    }
    r->off[r->n++] = r->text.len;
    if (!r->nonnull && row->kind == LKS_PQ_V_GROUP) {
        r->ncols = row->u.list.n;
        r->nonnull = calloc(r->ncols + 1, sizeof *r->nonnull);
    }
    for (size_t k = 0; r->nonnull && k < r->ncols && k < row->u.list.n; k++)
        r->nonnull[k] += row->u.list.items[k].kind != LKS_PQ_V_NULL;
    int rc = lks_pq_value_to_json(&r->text, r->rs, 0, row);
    if (!rc)
        rc = lks_buf_append_byte(&r->text, 0);
    if (rc)
        return lks_err_set(err, rc, "row %zu as JSON: %s", r->n, lks_strerror(rc));
    return LKS_OK;
}

static const char *sort_base;
static int cmp_line(const void *a, const void *b) {
    return strcmp(sort_base + *(const size_t *)a, sort_base + *(const size_t *)b);
}
static void rt_sort(rowset_txt *r) {
    sort_base = (const char *)r->text.ptr;
    if (r->n)
        qsort(r->off, r->n, sizeof *r->off, cmp_line);
}
static const char *rt_line(const rowset_txt *r, size_t i) { return (const char *)r->text.ptr + r->off[i]; }

/* Compares sorted sets; prints a few differences into msg. */
static int rt_equal(rowset_txt *got, rowset_txt *want, char *msg, size_t cap) {
    rt_sort(got);
    rt_sort(want);
    size_t i = 0, j = 0, shown = 0;
    int len = 0;
    msg[0] = 0;
    int same = got->n == want->n;
    while (i < got->n || j < want->n) {
        int c = i >= got->n ? 1 : j >= want->n ? -1 : strcmp(rt_line(got, i), rt_line(want, j));
        if (c == 0) {
            i++, j++;
            continue;
        }
        same = 0;
        if (shown < 3 && len < (int)cap - 1) {
            len += snprintf(msg + len, cap - (size_t)len, "\n     %s %.300s", c < 0 ? "extra:  " : "missing:",
                            c < 0 ? rt_line(got, i) : rt_line(want, j));
            shown++;
        }
        if (c < 0)
            i++;
        else
            j++;
    }
    return same;
}

/* ---- reading ------------------------------------------------------------------------ */

static int scan_all(lks_delta_table *t, const lks_delta_snapshot *snap, rowset_txt *out, lks_err *err) {
    lks_delta_scan *sc = NULL;
    int rc = lks_delta_scan_open(t, snap, NULL, &sc, err);
    if (rc != LKS_OK)
        return rc;
    rt_init(out, lks_delta_scan_schema(sc));
    const lks_pq_value *row;
    while ((rc = lks_delta_scan_next(sc, &row, err)) == 1)
        if ((rc = rt_add(out, row, err)) != LKS_OK)
            break;
    /* the text outlives the scan; the schema does not: keep a copy */
    lks_delta_scan_free(sc);
    out->rs = NULL;
    return rc < 0 ? rc : LKS_OK;
}

static int is_parquet_name(const char *n) {
    size_t l = strlen(n);
    return n[0] != '.' && n[0] != '_' && l > 8 && strcmp(n + l - 8, ".parquet") == 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Reads expected rows from a Parquet file or a directory of parts. */
static int read_expected(const char *path, const lks_delta_type *root, const lks_pq_schema *rs, rowset_txt *out,
                         lks_err *err) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return lks_err_set(err, LKS_ENOTFOUND, "%s: missing", path);
    char **files = NULL;
    size_t nf = 0;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return lks_err_set(err, LKS_EIO, "%s: cannot list", path);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (!is_parquet_name(de->d_name))
                continue;
            files = realloc(files, (nf + 1) * sizeof *files);
            size_t l = strlen(path) + strlen(de->d_name) + 2;
            files[nf] = malloc(l);
            snprintf(files[nf++], l, "%s/%s", path, de->d_name);
        }
        closedir(d);
        if (nf)
            qsort(files, nf, sizeof *files, cmp_str);
    } else {
        files = malloc(sizeof *files);
        files[nf++] = strdup(path);
    }
    int rc = LKS_OK;
    for (size_t i = 0; i < nf; i++) {
        if (rc == LKS_OK) {
            lks_pq_source src;
            rc = lks_pq_source_file(&src, files[i], err);
            if (rc == LKS_OK) {
                rc = lks_delta_read_parquet_as(root, rs, &src, rt_add, out, err);
                if (rc != LKS_OK)
                    lks_err_prefix(err, "expected %s", files[i]);
                lks_pq_source_close(&src);
            }
        }
        free(files[i]);
    }
    free(files);
    return rc;
}

/* numRecords minus DV cardinalities over the live files; -1 when some
 * file has no numRecords. */
static int64_t stats_rows(const lks_delta_snapshot *snap) {
    int64_t total = 0;
    for (size_t i = 0; i < snap->nfiles; i++) {
        const lks_delta_add *a = &snap->files[i];
        if (!a->stats)
            return -1;
        json_error_t je;
        json_t *st = json_loads(a->stats, JSON_DECODE_ANY, &je);
        json_t *nr = json_object_get(st, "numRecords");
        int64_t n = json_is_integer(nr) ? json_integer_value(nr) : -1;
        json_decref(st);
        if (n < 0)
            return -1;
        total += n - (a->has_dv ? a->dv.cardinality : 0);
    }
    return total;
}

/* Non-null counts per top-level column against the stats' numRecords
 * minus nullCount (catches columns a reader fails to find, which would
 * read as null): 1 agree, 0 disagree (msg says where), -1 not checkable. */
static int column_in_files(const lks_delta_snapshot *snap, const char *root_dir, const char *key) {
    for (size_t i = 0; i < snap->nfiles; i++) {
        char path[5000];
        snprintf(path, sizeof path, "%s/%s", root_dir, snap->files[i].path);
        lks_pq_source src;
        lks_err err;
        if (lks_pq_source_file(&src, path, &err) != LKS_OK)
            return 1; /* cannot tell: assume it does */
        lks_pq_reader *rd = NULL;
        int found = 1;
        if (lks_pq_reader_open(&src, NULL, &rd, &err) == LKS_OK) {
            found = lks_pq_schema_find(lks_pq_reader_schema(rd), key) >= 0;
            lks_pq_reader_free(rd);
        }
        lks_pq_source_close(&src);
        if (found)
            return 1;
    }
    return 0;
}

static int check_null_counts(const lks_delta_snapshot *snap, const char *root_dir, const rowset_txt *got, char *msg,
                             size_t cap) {
    if (snap->nfiles == 0 || !got->nonnull)
        return -1;
    const lks_delta_type *root = snap->metadata.schema;
    const char *mode = lks_delta_snapshot_property(snap, "delta.columnMapping.mode");
    int physical = mode && (strcmp(mode, "name") == 0 || strcmp(mode, "id") == 0);
    int checked = 0;
    for (int k = 0; k < root->nchildren && (size_t)k < got->ncols; k++) {
        const lks_delta_type *c = &root->children[k];
        if (c->kind == LKS_DT_STRUCT || c->kind == LKS_DT_ARRAY || c->kind == LKS_DT_MAP)
            continue;
        const char *key = physical && c->physical_name ? c->physical_name : c->name;
        int64_t want = 0;
        int ok = 1;
        for (size_t i = 0; i < snap->nfiles && ok; i++) {
            const lks_delta_add *a = &snap->files[i];
            if (a->has_dv || !a->stats) {
                ok = 0;
                break;
            }
            json_error_t je;
            json_t *st = json_loads(a->stats, JSON_DECODE_ANY, &je);
            json_t *nr = json_object_get(st, "numRecords");
            json_t *nc = json_object_get(json_object_get(st, "nullCount"), key);
            if (json_is_integer(nr) && json_is_integer(nc))
                want += json_integer_value(nr) - json_integer_value(nc);
            else
                ok = 0;
            json_decref(st);
        }
        if (!ok)
            continue;
        checked++;
        if (want != got->nonnull[k] && got->nonnull[k] == 0 && !column_in_files(snap, root_dir, key)) {
            /* a column no data file holds reads as null, whatever the
             * stats say (kernelrs-parsed-stats has synthetic stats) */
            printf("# %s: column %s is in no data file; stats claim %lld values\n", root_dir,
                   c->name, (long long)want);
            continue;
        }
        if (want != got->nonnull[k]) {
            snprintf(msg, cap, "column %s: %lld non-null values read, stats say %lld", c->name,
                     (long long)got->nonnull[k], (long long)want);
            return 0;
        }
    }
    return checked ? 1 : -1;
}

/* ---- per case ---------------------------------------------------------------------------- */

typedef struct reason {
    char msg[160];
    int n;
} reason;

static struct {
    int matched, refused, negative_ok, no_expected, no_expected_checked, log_only, failed;
    reason reasons[64];
    int nreasons;
} sum;

static void add_reason(const char *msg) {
    /* group by the message up to the first ':' after a quoted name or 150 bytes */
    char key[160];
    snprintf(key, sizeof key, "%.150s", msg);
    for (int i = 0; i < sum.nreasons; i++)
        if (strcmp(sum.reasons[i].msg, key) == 0) {
            sum.reasons[i].n++;
            return;
        }
    if (sum.nreasons < 64) {
        snprintf(sum.reasons[sum.nreasons].msg, sizeof sum.reasons[0].msg, "%s", key);
        sum.reasons[sum.nreasons++].n = 1;
    }
}

static void case_ok(void) { lks_t_pass++; }
static void case_fail(const char *cs, const char *what) {
    printf("FAIL delta/%s: %s\n", cs, what);
    lks_t_fail++;
    sum.failed++;
}

static int is_negative(const char *cs) {
    for (size_t i = 0; i < sizeof negative / sizeof negative[0]; i++)
        if (strcmp(negative[i].cs, cs) == 0)
            return 1;
    return 0;
}
static int is_dv_prefixed(const char *cs) {
    for (size_t i = 0; i < sizeof dv_prefixed / sizeof dv_prefixed[0]; i++)
        if (strcmp(dv_prefixed[i], cs) == 0)
            return 1;
    return 0;
}

/* An error while reading: refused (unsupported, named), expected (negative
 * case / known DV prefix), or a failure.  Returns 1 when it ends the case. */
static void read_error(const char *cs, int rc, const lks_err *err) {
    char line[700];
    if (is_negative(cs)) {
        printf("ok delta/%s: rejected as it must be: %s: %s\n", cs, lks_strerror(rc), err->msg);
        sum.negative_ok++;
        case_ok();
        return;
    }
    if (rc == LKS_EUNSUPPORTED && err->msg[0]) {
        printf("ok delta/%s: refused: %s\n", cs, err->msg);
        sum.refused++;
        add_reason(err->msg);
        case_ok();
        return;
    }
    if (rc == LKS_ENOTFOUND && is_dv_prefixed(cs) && strstr(err->msg, "deletion_vector_")) {
        printf("ok delta/%s: refused: DV file not at its PROTOCOL.md path (Spark test prefix): %s\n", cs, err->msg);
        sum.refused++;
        add_reason("deletion vector file not at its PROTOCOL.md path (unrecorded Spark test prefix)");
        case_ok();
        return;
    }
    snprintf(line, sizeof line, "%s: %s", lks_strerror(rc), err->msg);
    case_fail(cs, line);
}

/* Checks one snapshot against an expected path; returns rows matched or -1. */
static long check_expected(const char *cs, lks_delta_table *t, const lks_delta_snapshot *snap, const char *exp_path,
                           const char *label) {
    lks_err err;
    rowset_txt got, want;
    int rc = scan_all(t, snap, &got, &err);
    if (rc != LKS_OK) {
        rt_free(&got);
        read_error(cs, rc, &err);
        return -2;
    }
    lks_pq_schema *rs = NULL;
    rc = lks_delta_schema_to_parquet(snap->metadata.schema, 0, &rs, &err);
    if (rc != LKS_OK) {
        rt_free(&got);
        case_fail(cs, err.msg);
        return -1;
    }
    rt_init(&want, rs);
    rc = read_expected(exp_path, snap->metadata.schema, rs, &want, &err);
    long n = -1;
    if (rc != LKS_OK) {
        char m[700];
        snprintf(m, sizeof m, "%s: expected rows unreadable: %s: %s", label, lks_strerror(rc), err.msg);
        case_fail(cs, m);
    } else {
        char diff[2048];
        if (rt_equal(&got, &want, diff, sizeof diff)) {
            n = (long)got.n;
        } else {
            char m[2600];
            snprintf(m, sizeof m, "%s: %zu rows read, %zu expected:%s", label, got.n, want.n, diff);
            case_fail(cs, m);
        }
    }
    rt_free(&got);
    rt_free(&want);
    lks_pq_schema_free(rs);
    return n;
}

static int ndata;
static int count_data(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)ftw;
    if (flag == FTW_F && !strstr(p, "/_delta_log/") && is_parquet_name(p + ftw->base))
        ndata++;
    return 0;
}

/* Data files (outside _delta_log) under a table root. */
static int data_files(const char *dir) {
    ndata = 0;
    nftw(dir, count_data, 16, FTW_PHYS);
    return ndata;
}

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void run_case(lks_store *st, const char *root, const char *cs) {
    char prefix[512], dir[4600];
    snprintf(prefix, sizeof prefix, "%s/delta", cs);
    lks_err err;
    lks_delta_table *t = NULL;
    if (lks_delta_table_open(st, prefix, &t, &err) != LKS_OK) {
        case_fail(cs, err.msg);
        return;
    }
    /* Zoneless timestamp partition values mean the writer's wall clock
     * (PROTOCOL.md); we read them in the TZ zone, UTC when unset.  Name the
     * writer's zone where the corpus needs one. */
    const char *tz = writer_zone(cs);
    if (tz)
        setenv("TZ", tz, 1);
    else
        unsetenv("TZ");
    tzset();
    lks_delta_snapshot *snap = NULL;
    int rc = lks_delta_snapshot_latest(t, &snap, &err);
    if (rc != LKS_OK) {
        read_error(cs, rc, &err);
        lks_delta_table_close(t);
        return;
    }
    char tdir[4600];
    snprintf(tdir, sizeof tdir, "%s/%s/delta", root, cs);
    if (!is_negative(cs) && snap->nfiles > 0 && data_files(tdir) == 0) {
        /* upstream ships only the log of these tables */
        printf("ok delta/%s: log only: version %lld, %zu live files (no data files in the corpus)\n", cs,
               (long long)snap->version, snap->nfiles);
        sum.log_only++;
        case_ok();
        lks_delta_snapshot_free(snap);
        lks_delta_table_close(t);
        return;
    }
    if (is_negative(cs)) {
        /* must not read: the log or the scan has to fail */
        rowset_txt got;
        rc = scan_all(t, snap, &got, &err);
        rt_free(&got);
        if (rc != LKS_OK)
            read_error(cs, rc, &err);
        else
            case_fail(cs, "a negative case read without an error");
        lks_delta_snapshot_free(snap);
        lks_delta_table_close(t);
        return;
    }
    /* expected rows: DAT (expected/latest, expected/vN) or golden (expected/ parts) */
    snprintf(dir, sizeof dir, "%s/%s/expected/latest/table_content.parquet", root, cs);
    int dat = exists(dir);
    char golden[4600];
    snprintf(golden, sizeof golden, "%s/%s/expected", root, cs);
    int has_golden = 0;
    if (!dat && exists(golden)) {
        DIR *d = opendir(golden);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
            if (is_parquet_name(de->d_name))
                has_golden = 1;
        if (d)
            closedir(d);
    }
    if (dat || has_golden) {
        long n = check_expected(cs, t, snap, dat ? dir : golden, "latest");
        int versions = 0, ok = n >= 0;
        if (dat && ok) {
            /* every expected/vN */
            char vroot[4600];
            snprintf(vroot, sizeof vroot, "%s/%s/expected", root, cs);
            DIR *d = opendir(vroot);
            struct dirent *de;
            while (ok && d && (de = readdir(d)) != NULL) {
                char *end;
                if (de->d_name[0] != 'v')
                    continue;
                long v = strtol(de->d_name + 1, &end, 10);
                if (*end || end == de->d_name + 1)
                    continue;
                lks_delta_snapshot *vs = NULL;
                rc = lks_delta_snapshot_at_version(t, v, &vs, &err);
                if (rc != LKS_OK) {
                    char m[700];
                    snprintf(m, sizeof m, "snapshot at version %ld: %s", v, err.msg);
                    case_fail(cs, m);
                    ok = 0;
                    break;
                }
                char vp[5200], label[32];
                snprintf(vp, sizeof vp, "%s/%s/table_content.parquet", vroot, de->d_name);
                snprintf(label, sizeof label, "version %ld", v);
                long vn = check_expected(cs, t, vs, vp, label);
                lks_delta_snapshot_free(vs);
                if (vn < 0)
                    ok = 0;
                else
                    versions++;
            }
            if (d)
                closedir(d);
        }
        if (ok) {
            if (versions)
                printf("ok delta/%s: %ld rows match (and %d versions)\n", cs, n, versions);
            else
                printf("ok delta/%s: %ld rows match\n", cs, n);
            sum.matched++;
            case_ok();
        }
    } else {
        rowset_txt got;
        rc = scan_all(t, snap, &got, &err);
        if (rc != LKS_OK) {
            read_error(cs, rc, &err);
        } else {
            int64_t want = stats_rows(snap);
            sum.no_expected++;
            if (want >= 0 && want != (int64_t)got.n) {
                char m[200];
                snprintf(m, sizeof m, "%zu rows read, numRecords minus DV cardinalities says %lld", got.n,
                         (long long)want);
                case_fail(cs, m);
            } else {
                char m[400];
                int nc = check_null_counts(snap, tdir, &got, m, sizeof m);
                if (nc == 0) {
                    case_fail(cs, m);
                } else {
                    if (want >= 0) {
                        sum.no_expected_checked++;
                        printf("ok delta/%s: %zu rows (no expected data; numRecords%s agree)\n", cs, got.n,
                               nc > 0 ? " and nullCounts" : "");
                    } else {
                        printf("ok delta/%s: %zu rows (no expected data, no stats)\n", cs, got.n);
                    }
                    case_ok();
                }
            }
        }
        rt_free(&got);
    }
    lks_delta_snapshot_free(snap);
    lks_delta_table_close(t);
}

int main(int argc, char **argv) {
    (void)lks_t_name, (void)lks_t_cur_failed, (void)lks_t_cur_skipped;
    const char *corpus = lks_test_corpus();
    if (!corpus) {
        printf("skip delta corpus: no corpus (set LAKESYNC_CORPUS)\n");
        lks_t_skip++;
        return lks_test_done();
    }
    char root[4200];
    snprintf(root, sizeof root, "%s/delta", corpus);
    lks_store *st = NULL;
    lks_err err;
    if (lks_store_open(root, &st, &err) != LKS_OK) {
        printf("FAIL delta corpus: open %s: %s\n", root, err.msg);
        lks_t_fail++;
        return lks_test_done();
    }
    /* cases: every directory with a delta/ table root (or those named on
     * the command line) */
    char **cases = NULL;
    size_t nc = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            cases = realloc(cases, (nc + 1) * sizeof *cases);
            cases[nc++] = strdup(argv[i]);
        }
    } else {
        DIR *d = opendir(root);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            char p[4600];
            snprintf(p, sizeof p, "%s/%s/delta", root, de->d_name);
            if (de->d_name[0] == '.' || de->d_name[0] == '_' || !exists(p))
                continue;
            cases = realloc(cases, (nc + 1) * sizeof *cases);
            cases[nc++] = strdup(de->d_name);
        }
        if (d)
            closedir(d);
        if (nc)
            qsort(cases, nc, sizeof *cases, cmp_str);
    }
    for (size_t i = 0; i < nc; i++) {
        run_case(st, root, cases[i]);
        fflush(stdout);
        free(cases[i]);
    }
    free(cases);
    lks_store_close(st);
    printf("# delta corpus: %zu cases: %d read with matching rows, %d refused, %d negative cases rejected, "
           "%d read without expected data (%d checked against stats), %d log only, %d failed\n",
           nc, sum.matched, sum.refused, sum.negative_ok, sum.no_expected, sum.no_expected_checked, sum.log_only,
           sum.failed);
    for (int i = 0; i < sum.nreasons; i++)
        printf("#   refused %dx: %s\n", sum.reasons[i].n, sum.reasons[i].msg);
    return lks_test_done();
}
