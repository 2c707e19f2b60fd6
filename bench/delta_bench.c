/*
 * delta_bench — loading snapshots of a Delta table with a long log, and
 * committing to it (bench/delta.sh runs it).
 *
 *   delta_bench [NCOMMITS [DIR [every|last]]]   (default 10000, a temp dir, every)
 *
 * Setup, untimed: DIR/table is created through the transaction API
 * (version 0: protocol 1/2, a two-column schema, one small data file
 * written by the data writer), then versions 1..NCOMMITS-1 are written
 * directly as JSON commit files, each a commitInfo plus one add of its own
 * data file (a hard link to the first one, with the same size and stats).
 * Checkpoints: "every" writes a classic checkpoint (and _last_checkpoint)
 * at every version divisible by 10, as Spark does with the default
 * delta.checkpointInterval, right after that commit; "last" writes only
 * the one at the highest multiple of 10.  Either way the latest snapshot
 * reads the checkpoint at 9990 plus the 9 commits after it.  DIR/json_only
 * holds hard links to the same JSON commits and nothing else (no
 * checkpoint, no _last_checkpoint, no data files: loading a snapshot does
 * not open them).
 *
 * Timed, page cache warm, each the median of 5 runs:
 *   latest:  lks_delta_table_open + lks_delta_snapshot_latest + free;
 *   middle:  the same at version NCOMMITS/2 (checkpoint + 0 commits);
 *   json:    the latest snapshot of json_only (replaying every commit);
 *   floors:  listing _delta_log (readdir) and reading the bytes a load
 *            reads (the checkpoint and the commits after it; for json_only
 *            every commit) with read(2): what any reader must pay.
 * Then 100 blind appends through the transaction API, each: latest
 * snapshot, txn_begin, one add, commit (a checkpoint every 10th version,
 * as the table's interval says); per-commit latency percentiles.
 *
 * Prints a table on stdout, then one JSON line with every figure.
 */
#include "delta/delta_int.h" /* lks_delta_action_write for the untimed setup */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the process (user + system): steady on a loaded machine,
 * where wall time mostly measures waiting for a CPU. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const lks_err *err) {
    fprintf(stderr, "delta_bench: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
static double pct(const double *sorted, int n, double p) {
    int i = (int)(p * (n - 1) + 0.5);
    return sorted[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "delta_bench: cannot write %s\n", path);
        exit(1);
    }
}

static const char *SCHEMA = "{\"type\":\"struct\",\"fields\":["
                            "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
                            "{\"name\":\"name\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";

/* Version 0 through the API: protocol, metadata and one data file of 3 rows. */
static void create_table(lks_delta_table *t) {
    lks_err err = {0};
    lks_delta_txn *x = NULL;
    if (lks_delta_txn_begin(t, NULL, "CREATE TABLE", &x, &err)) die("txn_begin", &err);
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    lks_delta_kv cfg[] = {{"delta.checkpointInterval", "10"}};
    lks_delta_metadata m;
    memset(&m, 0, sizeof m);
    m.schema_string = SCHEMA;
    m.configuration = cfg;
    m.nconfiguration = 1;
    m.created_time = -1;
    lks_delta_txn_set_protocol(x, &p);
    if (lks_delta_txn_set_metadata(x, &m)) die("set_metadata", NULL);
    lks_arena a;
    lks_arena_init(&a, 0);
    if (lks_delta_schema_parse(SCHEMA, strlen(SCHEMA), &a, &m.schema, &err)) die("schema", &err);
    lks_delta_writer *w = NULL;
    if (lks_delta_writer_open(x, &m, NULL, &w, &err)) die("writer_open", &err);
    for (int i = 0; i < 3; i++) {
        lks_pq_value items[2];
        memset(items, 0, sizeof items);
        items[0].kind = LKS_PQ_V_INT64;
        items[0].u.i64 = i;
        const char *s = i == 0 ? "alpha" : i == 1 ? "beta" : "gamma";
        items[1].kind = LKS_PQ_V_BYTES;
        items[1].u.bytes.ptr = (const uint8_t *)s;
        items[1].u.bytes.len = strlen(s);
        lks_pq_value row;
        memset(&row, 0, sizeof row);
        row.kind = LKS_PQ_V_GROUP;
        row.u.list.items = items;
        row.u.list.n = 2;
        if (lks_delta_writer_write(w, &row, &err)) die("writer_write", &err);
    }
    if (lks_delta_writer_close(w, &err)) die("writer_close", &err);
    int64_t v;
    if (lks_delta_txn_commit(x, 0, &v, &err) || v != 0) die("create commit", &err);
    lks_delta_writer_free(w);
    lks_delta_txn_free(x);
    lks_arena_free(&a);
}

typedef struct bench_table {
    char root[4096];
    lks_store *st;
    lks_delta_table *t;
} bench_table;

static void bt_open(bench_table *b) {
    lks_err err = {0};
    if (lks_store_open(b->root, &b->st, &err)) die("store_open", &err);
    if (lks_delta_table_open(b->st, "", &b->t, &err)) die("table_open", &err);
}
static void bt_close(bench_table *b) {
    lks_delta_table_close(b->t);
    lks_store_close(b->st);
}

/* One timed snapshot load (open + load + free) of version v (-1 latest). */
static double time_load(const char *root, int64_t v, int64_t want_version, int64_t want_files, int64_t *cpv,
                        double *cpu) {
    double c0 = cpu_s(), t0 = now_s();
    bench_table b;
    snprintf(b.root, sizeof b.root, "%s", root);
    bt_open(&b);
    lks_delta_snapshot *s = NULL;
    lks_err err = {0};
    int rc = v < 0 ? lks_delta_snapshot_latest(b.t, &s, &err) : lks_delta_snapshot_at_version(b.t, v, &s, &err);
    if (rc) die("snapshot", &err);
    int64_t got_v = s->version, got_n = (int64_t)s->nfiles;
    *cpv = s->checkpoint_version;
    lks_delta_snapshot_free(s);
    bt_close(&b);
    double dt = now_s() - t0;
    *cpu = cpu_s() - c0;
    if (got_v != want_version || got_n != want_files) {
        fprintf(stderr, "delta_bench: snapshot of %s: version %" PRId64 " with %" PRId64 " files, want %" PRId64
                        " with %" PRId64 "\n", root, got_v, got_n, want_version, want_files);
        exit(1);
    }
    return dt;
}

/* The I/O floor: readdir of the log, then read(2) of the log files whose
 * version is in [from, to] (checkpoint parts only when with_cp). */
static double time_floor(const char *root, int64_t from, int64_t to, int with_cp, uint64_t *bytes, double *cpu) {
    static char buf[1 << 16];
    double c0 = cpu_s(), t0 = now_s();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/_delta_log", root);
    DIR *d = opendir(dir);
    if (!d) die("opendir", NULL);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    while ((e = readdir(d))) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    *bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const char *nm = names[i];
        if (strlen(nm) < 21 || nm[20] != '.') continue;
        int64_t v = strtoll(nm, NULL, 10);
        int is_cp = strstr(nm, ".checkpoint.") != NULL;
        int is_json = strcmp(nm + 20, ".json") == 0;
        if (v < from || v > to || (!is_json && !(is_cp && with_cp))) continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        int fd = open(path, O_RDONLY);
        if (fd < 0) die("open", NULL);
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0) *bytes += (uint64_t)r;
        close(fd);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    *cpu = cpu_s() - c0;
    return now_s() - t0;
}

int main(int argc, char **argv) {
    int64_t ncommits = argc > 1 ? strtoll(argv[1], NULL, 10) : 10000;
    int every = !(argc > 3 && strcmp(argv[3], "last") == 0);
    if (ncommits < 20) {
        fprintf(stderr, "usage: delta_bench [NCOMMITS>=20 [DIR [every|last]]]\n");
        return 2;
    }
    char base[2048];
    if (argc > 2) {
        snprintf(base, sizeof base, "%s", argv[2]);
        mkdir(base, 0777);
    } else {
        snprintf(base, sizeof base, "/tmp/lks_dbench.XXXXXX");
        if (!mkdtemp(base)) die("mkdtemp", NULL);
    }
    bench_table A, B;
    snprintf(A.root, sizeof A.root, "%s/table", base);
    snprintf(B.root, sizeof B.root, "%s/json_only", base);
    mkdir(A.root, 0777);
    mkdir(B.root, 0777);
    char path[8400], path2[8400];
    snprintf(path, sizeof path, "%s/_delta_log", B.root);
    mkdir(path, 0777);

    /* ---- setup, untimed ---- */
    double setup0 = now_s();
    lks_err err = {0};
    bt_open(&A);
    create_table(A.t);
    lks_delta_snapshot *s0 = NULL;
    if (lks_delta_snapshot_latest(A.t, &s0, &err) || s0->nfiles != 1) die("snapshot 0", &err);
    const lks_delta_add *f0 = &s0->files[0];
    snprintf(path, sizeof path, "%s/%s", A.root, f0->path);
    int64_t last_cp = ncommits - 1 - (ncommits - 1) % 10;
    lks_buf line;
    lks_buf_init(&line, 0);
    int64_t t_ms = lks_now_us() / 1000;
    uint64_t json_bytes = 0;
    for (int64_t v = 1; v < ncommits; v++) {
        char name[64], uuid[37];
        snprintf(name, sizeof name, "part-%05" PRId64 "-bench.parquet", v);
        snprintf(path2, sizeof path2, "%s/%s", A.root, name);
        if (link(path, path2) != 0) die("link data file", NULL);
        lks_uuid4(uuid);
        lks_buf_reset(&line);
        lks_buf_printf(&line,
                       "{\"commitInfo\":{\"timestamp\":%" PRId64 ",\"operation\":\"WRITE\",\"operationParameters\":"
                       "{\"mode\":\"Append\"},\"readVersion\":%" PRId64 ",\"isolationLevel\":\"Serializable\","
                       "\"isBlindAppend\":true,\"operationMetrics\":{\"numFiles\":\"1\",\"numOutputRows\":\"3\"},"
                       "\"engineInfo\":\"lakesync-bench\",\"txnId\":\"%s\"}}\n",
                       t_ms + v, v - 1, uuid);
        lks_delta_action act;
        memset(&act, 0, sizeof act);
        act.kind = LKS_DA_ADD;
        act.u.add = *f0;
        act.u.add.path = name;
        act.u.add.modification_time = t_ms + v;
        act.u.add.base_row_id = act.u.add.default_row_commit_version = -1;
        if (lks_delta_action_write(&line, &act)) die("action_write", NULL);
        snprintf(path2, sizeof path2, "%s/_delta_log/%020" PRId64 ".json", A.root, v);
        write_file(path2, line.ptr, line.len);
        json_bytes += line.len;
        if (v % 10 == 0 && (every || v == last_cp)) {
            lks_delta_snapshot *s = NULL;
            if (lks_delta_snapshot_at_version(A.t, v, &s, &err)) die("snapshot for checkpoint", &err);
            if (lks_delta_checkpoint_write(A.t, s, &err)) die("checkpoint_write", &err);
            lks_delta_snapshot_free(s);
        }
    }
    lks_buf_free(&line);
    lks_delta_snapshot_free(s0);
    bt_close(&A);
    for (int64_t v = 0; v < ncommits; v++) {
        snprintf(path, sizeof path, "%s/_delta_log/%020" PRId64 ".json", A.root, v);
        snprintf(path2, sizeof path2, "%s/_delta_log/%020" PRId64 ".json", B.root, v);
        if (link(path, path2) != 0) die("link commit", NULL);
    }
    double setup_s = now_s() - setup0;

    /* ---- snapshot loads ---- */
    enum { RUNS = 5 };
    double lat[RUNS], mid[RUNS], js[RUNS], fl_cp[RUNS], fl_js[RUNS];
    double clat[RUNS], cmid[RUNS], cjs[RUNS], cfl_cp[RUNS], cfl_js[RUNS], dummy;
    int64_t cpv_latest = -2, cpv_mid = -2, cpv_json = -2;
    int64_t middle = ncommits / 2;
    uint64_t cp_bytes = 0, all_json_bytes = 0;
    (void)time_load(A.root, -1, ncommits - 1, ncommits, &cpv_latest, &dummy); /* warm the cache */
    (void)time_load(B.root, -1, ncommits - 1, ncommits, &cpv_json, &dummy);
    for (int i = 0; i < RUNS; i++) {
        lat[i] = time_load(A.root, -1, ncommits - 1, ncommits, &cpv_latest, &clat[i]);
        mid[i] = time_load(A.root, middle, middle, middle + 1, &cpv_mid, &cmid[i]);
        js[i] = time_load(B.root, -1, ncommits - 1, ncommits, &cpv_json, &cjs[i]);
        fl_cp[i] = time_floor(A.root, cpv_latest, ncommits - 1, 1, &cp_bytes, &cfl_cp[i]);
        fl_js[i] = time_floor(B.root, 0, ncommits - 1, 0, &all_json_bytes, &cfl_js[i]);
    }
    double m_lat = median(lat, RUNS), m_mid = median(mid, RUNS), m_js = median(js, RUNS);
    double m_flcp = median(fl_cp, RUNS), m_fljs = median(fl_js, RUNS);
    double c_lat = median(clat, RUNS), c_mid = median(cmid, RUNS), c_js = median(cjs, RUNS);
    double c_flcp = median(cfl_cp, RUNS), c_fljs = median(cfl_js, RUNS);

    /* ---- 100 blind appends ---- */
    enum { NAPP = 100 };
    double total[NAPP], commit_only[NAPP], ctotal[NAPP];
    bt_open(&A);
    lks_delta_snapshot *s = NULL;
    if (lks_delta_snapshot_latest(A.t, &s, &err)) die("snapshot", &err);
    lks_delta_add add = s->files[0];
    char first_path[4200];
    snprintf(first_path, sizeof first_path, "%s/%s", A.root, s->files[0].path);
    lks_delta_snapshot_free(s);
    for (int i = 0; i < NAPP; i++) {
        char name[64];
        snprintf(name, sizeof name, "part-append-%03d.parquet", i);
        snprintf(path2, sizeof path2, "%s/%s", A.root, name);
        if (link(first_path, path2) != 0) die("link data file", NULL);
        double c0 = cpu_s(), t0 = now_s();
        s = NULL;
        if (lks_delta_snapshot_latest(A.t, &s, &err)) die("snapshot", &err);
        double t1 = now_s();
        lks_delta_txn *x = NULL;
        if (lks_delta_txn_begin(A.t, s, "WRITE", &x, &err)) die("txn_begin", &err);
        lks_delta_add a = add;
        a.path = name;
        a.modification_time = lks_now_us() / 1000;
        if (lks_delta_txn_add(x, &a)) die("txn_add", NULL);
        int64_t v;
        if (lks_delta_txn_commit(x, 0, &v, &err)) die("commit", &err);
        double t2 = now_s();
        if (v != ncommits + i) {
            fprintf(stderr, "delta_bench: append %d committed version %" PRId64 "\n", i, v);
            return 1;
        }
        lks_delta_txn_free(x);
        lks_delta_snapshot_free(s);
        total[i] = t2 - t0;
        ctotal[i] = cpu_s() - c0;
        commit_only[i] = t2 - t1;
    }
    bt_close(&A);
    double sum = 0, csum = 0;
    for (int i = 0; i < NAPP; i++) sum += total[i], csum += commit_only[i];
    qsort(total, NAPP, sizeof *total, cmp_d);
    qsort(ctotal, NAPP, sizeof *ctotal, cmp_d);
    qsort(commit_only, NAPP, sizeof *commit_only, cmp_d);

    /* ---- report ---- */
    printf("Delta snapshot loads: %" PRId64 " commits of one add each, checkpoints %s (latest at %" PRId64
           "), local filesystem, page cache warm, median of %d; wall ms (CPU ms)\n",
           ncommits, every ? "every 10 commits" : "at the last multiple of 10 only", cpv_latest, RUNS);
    printf("  latest snapshot: checkpoint %" PRId64 " + %" PRId64 " commits  %9.2f (%8.2f)   I/O floor %7.2f (%6.2f),"
           " %.1f KB   ratio %.1fx (CPU %.1fx)\n",
           cpv_latest, ncommits - 1 - cpv_latest, m_lat * 1e3, c_lat * 1e3, m_flcp * 1e3, c_flcp * 1e3,
           (double)cp_bytes / 1e3, m_lat / m_flcp, c_lat / c_flcp);
    printf("  at version %-6" PRId64 ": checkpoint %-6" PRId64 "           %9.2f (%8.2f)\n", middle, cpv_mid,
           m_mid * 1e3, c_mid * 1e3);
    printf("  latest from JSON only: %-6" PRId64 " commits     %9.2f (%8.2f)   I/O floor %7.2f (%6.2f),"
           " %.1f KB   ratio %.1fx (CPU %.1fx)\n",
           ncommits, m_js * 1e3, c_js * 1e3, m_fljs * 1e3, c_fljs * 1e3, (double)all_json_bytes / 1e3, m_js / m_fljs,
           c_js / c_fljs);
    printf("  checkpoint gain (JSON-only / checkpointed latest): %.1fx wall, %.1fx CPU\n", m_js / m_lat, c_js / c_lat);
    printf("Blind appends: %d commits, each = latest snapshot + txn_begin + 1 add + commit (checkpoint every 10th)\n",
           NAPP);
    printf("  per commit, wall ms: mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f   (CPU p50 %.2f  p90 %.2f  max %.2f)\n",
           sum / NAPP * 1e3, pct(total, NAPP, .5) * 1e3, pct(total, NAPP, .9) * 1e3, pct(total, NAPP, .99) * 1e3,
           total[NAPP - 1] * 1e3, pct(ctotal, NAPP, .5) * 1e3, pct(ctotal, NAPP, .9) * 1e3, ctotal[NAPP - 1] * 1e3);
    printf("  commit only (begin..commit), wall ms: mean %.2f  p50 %.2f  p90 %.2f  max %.2f\n", csum / NAPP * 1e3,
           pct(commit_only, NAPP, .5) * 1e3, pct(commit_only, NAPP, .9) * 1e3, commit_only[NAPP - 1] * 1e3);
    printf("(setup, untimed: %.1f s)\n", setup_s);
    printf("{\"commits\":%" PRId64 ",\"checkpoints\":\"%s\",\"latest_ms\":%.3f,\"latest_cpu_ms\":%.3f,"
           "\"latest_floor_ms\":%.3f,\"middle_ms\":%.3f,\"middle_cpu_ms\":%.3f,\"json_only_ms\":%.3f,"
           "\"json_only_cpu_ms\":%.3f,\"json_only_floor_ms\":%.3f,\"append_mean_ms\":%.3f,\"append_p50_ms\":%.3f,"
           "\"append_p90_ms\":%.3f,\"append_max_ms\":%.3f,\"append_cpu_p50_ms\":%.3f,\"commit_only_p50_ms\":%.3f}\n",
           ncommits, every ? "every10" : "last", m_lat * 1e3, c_lat * 1e3, m_flcp * 1e3, m_mid * 1e3, c_mid * 1e3,
           m_js * 1e3, c_js * 1e3, m_fljs * 1e3, sum / NAPP * 1e3, pct(total, NAPP, .5) * 1e3, pct(total, NAPP, .9) * 1e3,
           total[NAPP - 1] * 1e3, pct(ctotal, NAPP, .5) * 1e3, pct(commit_only, NAPP, .5) * 1e3);
    (void)json_bytes;
    return 0;
}
