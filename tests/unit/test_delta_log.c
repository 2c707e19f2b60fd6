/* test_delta_log.c — the Delta log: action lines of every kind (and
 * malformed ones), schemas (parse, JSON round trip, Parquet shapes), log
 * file names, table keys, log segments, replay into snapshots (synthetic
 * logs and every corpus table), time travel by version and timestamp,
 * _last_checkpoint handling, multi-part and V2 checkpoints, app txns,
 * in-commit timestamps, and a long log replayed in linear time. */
#include "delta/log.h"
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------ */

static int parse(const char *line, lks_arena *a, lks_delta_action *act, lks_err *err) {
    return lks_delta_action_parse(line, strlen(line), a, act, err);
}

static void rm_rf(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char sub[2048];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Copies a directory tree; skip(name) → 1 leaves a file out. */
static int copy_tree(const char *src, const char *dst, int (*skip)(const char *name)) {
    DIR *d = opendir(src);
    if (!d) return -1;
    mkdir(dst, 0755);
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char s[2048], t[2048];
        snprintf(s, sizeof s, "%s/%s", src, de->d_name);
        snprintf(t, sizeof t, "%s/%s", dst, de->d_name);
        struct stat stt;
        if (stat(s, &stt)) {
            rc = -1;
            break;
        }
        if (S_ISDIR(stt.st_mode)) {
            rc = copy_tree(s, t, skip);
            continue;
        }
        if (skip && skip(de->d_name)) continue;
        FILE *in = fopen(s, "rb"), *out = fopen(t, "wb");
        if (!in || !out) rc = -1;
        char buf[65536];
        size_t n;
        while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
            if (fwrite(buf, 1, n, out) != n) rc = -1;
        if (in) fclose(in);
        if (out) fclose(out);
    }
    closedir(d);
    return rc;
}

static char tmproot[256];

static int fresh_dir(void) {
    snprintf(tmproot, sizeof tmproot, "/tmp/lks_test_dlog_XXXXXX");
    return mkdtemp(tmproot) != NULL;
}

/* A table over a local directory. */
typedef struct tbl {
    lks_store *st;
    lks_delta_table *t;
} tbl;

static int tbl_open(tbl *x, const char *dir, const char *prefix, lks_err *err) {
    memset(x, 0, sizeof *x);
    int rc = lks_store_open(dir, &x->st, err);
    if (!rc) rc = lks_delta_table_open(x->st, prefix, &x->t, err);
    return rc;
}

static void tbl_close(tbl *x) {
    lks_delta_table_close(x->t);
    lks_store_close(x->st);
}

static const char *corpus_case(const char *name) {
    static char p[4400];
    const char *c = lks_test_corpus();
    if (!c) return NULL;
    snprintf(p, sizeof p, "%s/delta/%s/delta", c, name);
    struct stat st;
    return stat(p, &st) == 0 ? p : NULL;
}

/* Writes commit `v` of the table in directory dir with the given lines. */
static int put_commit(lks_store *st, const char *prefix, int64_t v, const char *text) {
    char key[512];
    snprintf(key, sizeof key, "%s%s_delta_log/%020lld.json", prefix, *prefix ? "/" : "", (long long)v);
    return lks_store_put(st, key, text, strlen(text), NULL);
}

static void set_mtime(const char *dir, const char *key, int64_t ms) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, key);
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = (time_t)(ms / 1000);
    ts[0].tv_nsec = ts[1].tv_nsec = (long)(ms % 1000) * 1000000L;
    utimensat(AT_FDCWD, p, ts, 0);
}

#define PROTO1 "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
#define META1                                                                                                          \
    "{\"metaData\":{\"id\":\"t1\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":"             \
    "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"a\\\",\\\"type\\\":\\\"long\\\","              \
    "\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"configuration\":{},"                   \
    "\"createdTime\":1}}\n"

static const char *add_line(lks_arena *a, const char *path) {
    return lks_arena_printf(a,
                            "{\"add\":{\"path\":\"%s\",\"partitionValues\":{},\"size\":10,\"modificationTime\":1,"
                            "\"dataChange\":true}}\n",
                            path);
}
static const char *remove_line(lks_arena *a, const char *path, int64_t ts) {
    return lks_arena_printf(a, "{\"remove\":{\"path\":\"%s\",\"deletionTimestamp\":%lld,\"dataChange\":true}}\n", path,
                            (long long)ts);
}

/* ---- actions ---------------------------------------------------------------------- */

static void t_action_protocol_metadata(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_delta_action act;
    CHECK_OK(parse("{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":"
                   "[\"deletionVectors\",\"columnMapping\"],\"writerFeatures\":[\"appendOnly\"]}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.kind, LKS_DA_PROTOCOL);
    CHECK_EQ_INT(act.u.protocol.min_reader, 3);
    CHECK_EQ_INT(act.u.protocol.min_writer, 7);
    CHECK_EQ_INT(act.u.protocol.nreader_features, 2);
    CHECK_EQ_STR(act.u.protocol.reader_features[1], "columnMapping");
    CHECK_EQ_INT(act.u.protocol.nwriter_features, 1);
    CHECK_OK(parse("{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}", &a, &act, &err), &err);
    CHECK(act.u.protocol.reader_features == NULL);
    CHECK(act.u.protocol.writer_features == NULL);

    CHECK_OK(parse("{\"metaData\":{\"id\":\"abc\",\"name\":\"n\",\"description\":null,\"format\":{\"provider\":"
                   "\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":"
                   "[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":false,\\\"metadata\\\":{}},"
                   "{\\\"name\\\":\\\"p\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}"
                   "\",\"partitionColumns\":[\"p\"],\"configuration\":{\"delta.appendOnly\":\"true\"},"
                   "\"createdTime\":1234,\"futureField\":[1,2]}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.kind, LKS_DA_METADATA);
    lks_delta_metadata *m = &act.u.metadata;
    CHECK_EQ_STR(m->id, "abc");
    CHECK_EQ_STR(m->name, "n");
    CHECK(m->description == NULL);
    CHECK_EQ_STR(m->format_provider, "parquet");
    CHECK_EQ_INT(m->npartition_columns, 1);
    CHECK_EQ_STR(m->partition_columns[0], "p");
    CHECK_EQ_INT(m->nconfiguration, 1);
    CHECK_EQ_STR(m->configuration[0].key, "delta.appendOnly");
    CHECK_EQ_STR(m->configuration[0].value, "true");
    CHECK_EQ_INT(m->created_time, 1234);
    REQUIRE(m->schema != NULL);
    CHECK_EQ_INT(m->schema->nchildren, 2);
    CHECK_EQ_INT(m->schema->children[0].kind, LKS_DT_INTEGER);
    CHECK_EQ_INT(m->schema->children[0].nullable, 0);
    /* old tables without a schemaString: an empty struct */
    CHECK_OK(parse("{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"partitionColumns\":[],"
                   "\"configuration\":{}}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.u.metadata.schema->nchildren, 0);
    CHECK_EQ_INT(act.u.metadata.created_time, -1);
    lks_arena_free(&a);
}

static void t_action_add_remove(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_delta_action act;
    CHECK_OK(parse("{\"add\":{\"path\":\"p%3D1/part-0.parquet\",\"partitionValues\":{\"p\":\"1\",\"q\":null},"
                   "\"size\":123,\"modificationTime\":1700000000000,\"dataChange\":true,"
                   "\"stats\":\"{\\\"numRecords\\\":3}\",\"tags\":{\"INSERTION_TIME\":\"1\"},"
                   "\"deletionVector\":{\"storageType\":\"u\",\"pathOrInlineDv\":\"ab^-aqEH.-t@S}K{vb[*k^\","
                   "\"offset\":4,\"sizeInBytes\":40,\"cardinality\":6},\"baseRowId\":10,"
                   "\"defaultRowCommitVersion\":2,\"clusteringProvider\":\"liquid\",\"unknown\":{\"x\":1}}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.kind, LKS_DA_ADD);
    lks_delta_add *ad = &act.u.add;
    CHECK_EQ_STR(ad->path, "p%3D1/part-0.parquet");
    CHECK_EQ_INT(ad->npartition_values, 2);
    CHECK_EQ_STR(ad->partition_values[0].key, "p");
    CHECK_EQ_STR(ad->partition_values[0].value, "1");
    CHECK(ad->partition_values[1].value == NULL);
    CHECK_EQ_INT(ad->size, 123);
    CHECK_EQ_INT(ad->modification_time, 1700000000000LL);
    CHECK_EQ_INT(ad->data_change, 1);
    CHECK_EQ_STR(ad->stats, "{\"numRecords\":3}");
    CHECK_EQ_INT(ad->ntags, 1);
    CHECK_EQ_INT(ad->has_dv, 1);
    CHECK_EQ_INT(ad->dv.storage_type, 'u');
    CHECK_EQ_STR(ad->dv.path_or_inline, "ab^-aqEH.-t@S}K{vb[*k^");
    CHECK_EQ_INT(ad->dv.offset, 4);
    CHECK_EQ_INT(ad->dv.size_in_bytes, 40);
    CHECK_EQ_INT(ad->dv.cardinality, 6);
    CHECK_EQ_INT(ad->base_row_id, 10);
    CHECK_EQ_INT(ad->default_row_commit_version, 2);
    CHECK_EQ_STR(ad->clustering_provider, "liquid");
    /* minimal add: optional fields absent */
    CHECK_OK(parse("{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,\"modificationTime\":2,"
                   "\"dataChange\":false,\"stats\":null}}",
                   &a, &act, &err),
             &err);
    CHECK(act.u.add.stats == NULL);
    CHECK_EQ_INT(act.u.add.has_dv, 0);
    CHECK_EQ_INT(act.u.add.base_row_id, -1);
    CHECK_EQ_INT(act.u.add.data_change, 0);
    /* inline DV without offset */
    CHECK_OK(parse("{\"add\":{\"path\":\"a\",\"partitionValues\":{},\"size\":1,\"modificationTime\":2,"
                   "\"dataChange\":true,\"deletionVector\":{\"storageType\":\"i\",\"pathOrInlineDv\":\"wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L\",\"sizeInBytes\":40,\"cardinality\":6}}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.u.add.dv.storage_type, 'i');
    CHECK_EQ_INT(act.u.add.dv.offset, -1);

    CHECK_OK(parse("{\"remove\":{\"path\":\"x.parquet\",\"deletionTimestamp\":99,\"dataChange\":true,"
                   "\"extendedFileMetadata\":true,\"partitionValues\":{\"k\":\"v\"},\"size\":5}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.kind, LKS_DA_REMOVE);
    CHECK_EQ_STR(act.u.remove.path, "x.parquet");
    CHECK_EQ_INT(act.u.remove.deletion_timestamp, 99);
    CHECK_EQ_INT(act.u.remove.extended_file_metadata, 1);
    CHECK_EQ_INT(act.u.remove.size, 5);
    CHECK_EQ_INT(act.u.remove.npartition_values, 1);
    CHECK_OK(parse("{\"remove\":{\"path\":\"y\",\"dataChange\":false}}", &a, &act, &err), &err);
    CHECK_EQ_INT(act.u.remove.deletion_timestamp, -1);
    CHECK_EQ_INT(act.u.remove.size, -1);
    lks_arena_free(&a);
}

static void t_action_other_kinds(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_delta_action act;
    CHECK_OK(parse("{\"txn\":{\"appId\":\"app\",\"version\":7,\"lastUpdated\":55}}", &a, &act, &err), &err);
    CHECK_EQ_INT(act.kind, LKS_DA_TXN);
    CHECK_EQ_STR(act.u.txn.app_id, "app");
    CHECK_EQ_INT(act.u.txn.version, 7);
    CHECK_EQ_INT(act.u.txn.last_updated, 55);
    CHECK_OK(parse("{\"txn\":{\"appId\":\"app\",\"version\":7}}", &a, &act, &err), &err);
    CHECK_EQ_INT(act.u.txn.last_updated, -1);

    CHECK_OK(parse("{\"domainMetadata\":{\"domain\":\"delta.rowTracking\",\"configuration\":\"{\\\"x\\\":1}\","
                   "\"removed\":false}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.kind, LKS_DA_DOMAIN);
    CHECK_EQ_STR(act.u.domain.domain, "delta.rowTracking");
    CHECK_EQ_STR(act.u.domain.configuration, "{\"x\":1}");
    CHECK_EQ_INT(act.u.domain.removed, 0);

    CHECK_OK(parse("{\"commitInfo\":{\"timestamp\":1000,\"inCommitTimestamp\":999,\"operation\":\"WRITE\","
                   "\"operationParameters\":{\"mode\":\"Append\"},\"txnId\":\"u-1\"}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.kind, LKS_DA_COMMIT_INFO);
    CHECK_EQ_INT(act.u.commit_info.timestamp, 1000);
    CHECK_EQ_INT(act.u.commit_info.in_commit_timestamp, 999);
    CHECK_EQ_STR(act.u.commit_info.operation, "WRITE");
    CHECK_EQ_STR(act.u.commit_info.txn_id, "u-1");
    REQUIRE(act.u.commit_info.json != NULL);
    CHECK(strstr(act.u.commit_info.json, "\"operationParameters\":{\"mode\":\"Append\"}") != NULL);
    CHECK_OK(parse("{\"commitInfo\":{}}", &a, &act, &err), &err);
    CHECK_EQ_INT(act.u.commit_info.timestamp, -1);
    CHECK_EQ_INT(act.u.commit_info.in_commit_timestamp, -1);
    CHECK(act.u.commit_info.operation == NULL);

    CHECK_OK(parse("{\"cdc\":{\"path\":\"_change_data/c.parquet\",\"partitionValues\":{},\"size\":3,"
                   "\"dataChange\":false}}",
                   &a, &act, &err),
             &err);
    CHECK_EQ_INT(act.kind, LKS_DA_CDC);
    CHECK_EQ_STR(act.u.cdc.path, "_change_data/c.parquet");
    CHECK_EQ_INT(act.u.cdc.size, 3);

    CHECK_OK(parse("{\"checkpointMetadata\":{\"version\":12,\"tags\":{}}}", &a, &act, &err), &err);
    CHECK_EQ_INT(act.kind, LKS_DA_CHECKPOINT_META);
    CHECK_EQ_INT(act.u.checkpoint_version, 12);

    CHECK_OK(parse("{\"sidecar\":{\"path\":\"s1.parquet\",\"sizeInBytes\":100,\"modificationTime\":5}}", &a, &act,
                   &err),
             &err);
    CHECK_EQ_INT(act.kind, LKS_DA_SIDECAR);
    CHECK_EQ_STR(act.u.sidecar.path, "s1.parquet");
    CHECK_EQ_INT(act.u.sidecar.size_in_bytes, 100);
    CHECK_EQ_INT(act.u.sidecar.modification_time, 5);

    /* unknown actions are ignored */
    CHECK_OK(parse("{\"futureAction\":{\"x\":1}}", &a, &act, &err), &err);
    CHECK_EQ_INT(act.kind, LKS_DA_NONE);
    CHECK_OK(parse("{}", &a, &act, &err), &err);
    CHECK_EQ_INT(act.kind, LKS_DA_NONE);
    lks_arena_free(&a);
}

static void t_action_malformed(void) {
    static const struct {
        const char *line;
        const char *needle; /* in the message */
    } cases[] = {
        {"{\"add\":{\"path\":\"a\",\"size\":1", "JSON"},
        {"", "JSON"},
        {"[1,2]", "not a JSON object"},
        {"{\"add\":5}", "add"},
        {"{\"add\":{\"size\":1,\"modificationTime\":1}}", "add.path"},
        {"{\"add\":{\"path\":7,\"size\":1,\"modificationTime\":1}}", "add.path"},
        {"{\"add\":{\"path\":\"a\",\"size\":\"12\",\"modificationTime\":1}}", "add.size"},
        {"{\"add\":{\"path\":\"a\",\"size\":1.5,\"modificationTime\":1}}", "add.size"},
        {"{\"add\":{\"path\":\"a\",\"size\":-1,\"modificationTime\":1}}", "add.size"},
        {"{\"add\":{\"path\":\"a\",\"size\":1,\"modificationTime\":1,\"dataChange\":\"yes\"}}", "add.dataChange"},
        {"{\"add\":{\"path\":\"a\",\"size\":1,\"modificationTime\":1,\"partitionValues\":{\"p\":1}}}",
         "add.partitionValues.p"},
        {"{\"add\":{\"path\":\"a\",\"size\":1,\"modificationTime\":1,\"deletionVector\":{\"storageType\":\"z\","
         "\"pathOrInlineDv\":\"x\",\"sizeInBytes\":1,\"cardinality\":1}}}",
         "storageType"},
        {"{\"add\":{\"path\":\"a\",\"size\":1,\"modificationTime\":1,\"deletionVector\":{\"storageType\":\"u\"}}}",
         "deletionVector.pathOrInlineDv"},
        {"{\"remove\":{\"path\":\"a\",\"deletionTimestamp\":\"x\"}}", "remove.deletionTimestamp"},
        {"{\"protocol\":{\"minReaderVersion\":1}}", "protocol.minWriterVersion"},
        {"{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2,\"readerFeatures\":[1]}}",
         "protocol.readerFeatures[0]"},
        {"{\"metaData\":{\"id\":\"x\",\"schemaString\":\"{not json\"}}", "metaData.schemaString"},
        {"{\"metaData\":{\"id\":\"x\",\"schemaString\":\"\\\"long\\\"\"}}", "metaData.schemaString"},
        {"{\"metaData\":{\"schemaString\":\"{}\"}}", "metaData.id"},
        {"{\"txn\":{\"appId\":\"a\"}}", "txn.version"},
        {"{\"domainMetadata\":{\"domain\":\"d\",\"configuration\":\"{}\"}}", "domainMetadata.removed"},
        {"{\"commitInfo\":{\"timestamp\":\"now\"}}", "commitInfo.timestamp"},
        {"{\"sidecar\":{\"path\":\"s\"}}", "sidecar.sizeInBytes"},
        {"{\"add\":{\"path\":\"a\",\"size\":1,\"modificationTime\":1},\"remove\":{\"path\":\"a\"}}", "both"},
        {"{\"add\":{\"path\":\"a\",\"size\":99999999999999999999999,\"modificationTime\":1}}", "JSON"},
    };
    lks_arena a;
    lks_arena_init(&a, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_err err;
        lks_err_clear(&err);
        lks_delta_action act;
        int rc = parse(cases[i].line, &a, &act, &err);
        if (rc != LKS_ECORRUPT) FAILF("case %zu (%s): rc %d (%s)", i, cases[i].line, rc, err.msg);
        if (!strstr(err.msg, cases[i].needle))
            FAILF("case %zu: message \"%s\" lacks \"%s\"", i, err.msg, cases[i].needle);
    }
    /* every prefix of a valid line is refused cleanly (never read past the end) */
    const char *good = "{\"add\":{\"path\":\"a\",\"partitionValues\":{\"p\":\"1\"},\"size\":1,\"modificationTime\":1,"
                       "\"dataChange\":true,\"stats\":\"{}\"}}";
    size_t n = strlen(good);
    for (size_t k = 0; k < n; k++) {
        char *cut = malloc(k + 1);
        memcpy(cut, good, k);
        cut[k] = 0;
        lks_delta_action act;
        lks_err err;
        int rc = lks_delta_action_parse(cut, k, &a, &act, &err);
        if (rc != LKS_ECORRUPT) FAILF("prefix of %zu bytes: rc %d", k, rc);
        free(cut);
    }
    lks_arena_free(&a);
}

/* ---- schema ---------------------------------------------------------------------- */

static const char *schema_all =
    "{\"type\":\"struct\",\"fields\":["
    "{\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"l\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"i\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"sh\",\"type\":\"short\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"b\",\"type\":\"byte\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"f\",\"type\":\"float\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"d\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"d1\",\"type\":\"decimal(9,2)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"d2\",\"type\":\"decimal(18,0)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"d3\",\"type\":\"decimal(20,5)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"d4\",\"type\":\"decimal(38,10)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"bo\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"bi\",\"type\":\"binary\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"dt\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"ts\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"tn\",\"type\":\"timestamp_ntz\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"v\",\"type\":\"void\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"st\",\"type\":{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"integer\","
    "\"nullable\":true,\"metadata\":{\"comment\":\"hi\"}}]},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"ar\",\"type\":{\"type\":\"array\",\"elementType\":\"string\",\"containsNull\":false},"
    "\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"mp\",\"type\":{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":{\"type\":\"array\","
    "\"elementType\":\"long\",\"containsNull\":true},\"valueContainsNull\":true},\"nullable\":false,"
    "\"metadata\":{}}]}";

static void t_schema_parse_roundtrip(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_delta_type *t;
    CHECK_OK(lks_delta_schema_parse(schema_all, strlen(schema_all), &a, &t, &err), &err);
    REQUIRE(t && t->kind == LKS_DT_STRUCT && t->nchildren == 20);
    static const int kinds[] = {LKS_DT_STRING,  LKS_DT_LONG,    LKS_DT_INTEGER,  LKS_DT_SHORT,  LKS_DT_BYTE,
                                LKS_DT_FLOAT,   LKS_DT_DOUBLE,  LKS_DT_DECIMAL,  LKS_DT_DECIMAL, LKS_DT_DECIMAL,
                                LKS_DT_DECIMAL, LKS_DT_BOOLEAN, LKS_DT_BINARY,   LKS_DT_DATE,   LKS_DT_TIMESTAMP,
                                LKS_DT_TIMESTAMP_NTZ, LKS_DT_VOID, LKS_DT_STRUCT, LKS_DT_ARRAY, LKS_DT_MAP};
    for (int i = 0; i < 20; i++) CHECK_EQ_INT(t->children[i].kind, kinds[i]);
    CHECK_EQ_INT(t->children[1].nullable, 0);
    CHECK_EQ_INT(t->children[9].precision, 20);
    CHECK_EQ_INT(t->children[9].scale, 5);
    CHECK_EQ_STR(t->children[17].children[0].metadata_json, "{\"comment\":\"hi\"}");
    CHECK_EQ_INT(t->children[18].children[0].nullable, 0); /* containsNull */
    CHECK(t->children[18].children[0].name == NULL);
    CHECK_EQ_INT(t->children[19].children[1].kind, LKS_DT_ARRAY);
    CHECK_EQ_INT(t->children[19].children[1].nullable, 1); /* valueContainsNull */
    CHECK_EQ_INT(t->children[0].field_id, -1);
    CHECK(t->children[0].physical_name == NULL);
    /* to JSON and back: the same text */
    lks_buf b1, b2;
    lks_buf_init(&b1, 0);
    lks_buf_init(&b2, 0);
    CHECK_OK(lks_delta_schema_to_json(&b1, t), &err);
    CHECK_OK(lks_buf_cstr(&b1), &err);
    CHECK_EQ_STR((const char *)b1.ptr, schema_all);
    lks_delta_type *t2;
    CHECK_OK(lks_delta_schema_parse((const char *)b1.ptr, b1.len, &a, &t2, &err), &err);
    CHECK_OK(lks_delta_schema_to_json(&b2, t2), &err);
    CHECK(b1.len == b2.len && memcmp(b1.ptr, b2.ptr, b1.len) == 0);
    lks_buf_free(&b1);
    lks_buf_free(&b2);

    /* column mapping metadata */
    const char *cm = "{\"type\":\"struct\",\"fields\":[{\"name\":\"Company Name\",\"type\":\"string\",\"nullable\":true,"
                     "\"metadata\":{\"delta.columnMapping.id\":3,\"delta.columnMapping.physicalName\":"
                     "\"col-5f422f40\"}}]}";
    CHECK_OK(lks_delta_schema_parse(cm, strlen(cm), &a, &t, &err), &err);
    CHECK_EQ_INT(t->children[0].field_id, 3);
    CHECK_EQ_STR(t->children[0].physical_name, "col-5f422f40");
    lks_buf_init(&b1, 0);
    CHECK_OK(lks_delta_schema_to_json(&b1, t), &err);
    lks_buf_cstr(&b1);
    CHECK_EQ_STR((const char *)b1.ptr, cm);
    lks_buf_free(&b1);
    /* "decimal" alone is decimal(10,0) */
    const char *dd = "{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"decimal\",\"nullable\":true}]}";
    CHECK_OK(lks_delta_schema_parse(dd, strlen(dd), &a, &t, &err), &err);
    CHECK_EQ_INT(t->children[0].precision, 10);
    CHECK_EQ_STR(t->children[0].metadata_json, "{}");
    lks_arena_free(&a);
}

static void t_schema_errors(void) {
    static const struct {
        const char *json;
        int rc;
        const char *needle;
    } cases[] = {
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"v\",\"type\":\"variant\",\"nullable\":true}]}",
         LKS_EUNSUPPORTED, "variant"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"i\",\"type\":\"interval\",\"nullable\":true}]}",
         LKS_EUNSUPPORTED, "interval"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"g\",\"type\":{\"type\":\"geometry\"},\"nullable\":true}]}",
         LKS_EUNSUPPORTED, "geometry"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"decimal(39,0)\"}]}", LKS_ECORRUPT, "(x)"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"decimal(5,6)\"}]}", LKS_ECORRUPT, "decimal"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"decimal(5\"}]}", LKS_ECORRUPT, "decimal"},
        {"{\"type\":\"struct\",\"fields\":[{\"type\":\"long\"}]}", LKS_ECORRUPT, "name"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\"}]}", LKS_ECORRUPT, "type missing"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"long\",\"nullable\":\"yes\"}]}", LKS_ECORRUPT,
         "nullable"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"long\"},{\"name\":\"x\",\"type\":\"long\"}]}",
         LKS_ECORRUPT, "duplicate"},
        {"{\"type\":\"struct\"}", LKS_ECORRUPT, "fields"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"array\"}}]}", LKS_ECORRUPT,
         "elementType"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"m\",\"type\":{\"type\":\"map\",\"keyType\":\"string\"}}]}",
         LKS_ECORRUPT, "valueType"},
        {"\"long\"", LKS_ECORRUPT, "root"},
        {"[]", LKS_ECORRUPT, "neither"},
        {"{\"type\":\"struct\",\"fields\":[", LKS_ECORRUPT, "JSON"},
        {"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"long\",\"metadata\":{"
         "\"delta.columnMapping.id\":\"3\"}}]}",
         LKS_ECORRUPT, "columnMapping.id"},
    };
    lks_arena a;
    lks_arena_init(&a, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_err err;
        lks_err_clear(&err);
        lks_delta_type *t;
        int rc = lks_delta_schema_parse(cases[i].json, strlen(cases[i].json), &a, &t, &err);
        if (rc != cases[i].rc) FAILF("case %zu: rc %d want %d (%s)", i, rc, cases[i].rc, err.msg);
        if (!strstr(err.msg, cases[i].needle)) FAILF("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].needle);
    }
    /* deep nesting is capped, not a stack overflow */
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_buf_printf(&b, "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":");
    for (int i = 0; i < 200; i++) lks_buf_printf(&b, "{\"type\":\"array\",\"elementType\":");
    lks_buf_printf(&b, "\"long\"");
    for (int i = 0; i < 200; i++) lks_buf_printf(&b, "}");
    lks_buf_printf(&b, "}]}");
    lks_delta_type *t;
    lks_err err;
    CHECK_EQ_INT(lks_delta_schema_parse((const char *)b.ptr, b.len, &a, &t, &err), LKS_ELIMIT);
    lks_buf_free(&b);
    lks_arena_free(&a);
}

static void t_schema_to_parquet(void) {
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_err err;
    lks_delta_type *t;
    CHECK_OK(lks_delta_schema_parse(schema_all, strlen(schema_all), &a, &t, &err), &err);
    lks_pq_schema *s = NULL;
    CHECK_OK(lks_delta_schema_to_parquet(t, 0, &s, &err), &err);
    REQUIRE(s != NULL);
    /* leaves: 17 primitives + st.x + ar.list.element + mp.key_value.key + mp.key_value.value.list.element */
    CHECK_EQ_INT(s->num_cols, 21);
    int c;
    c = lks_pq_schema_find(s, "s");
    REQUIRE(c >= 0);
    CHECK_EQ_INT(s->cols[c].type, LKS_PQ_BYTE_ARRAY);
    CHECK_EQ_INT(s->cols[c].logical.kind, LKS_PQ_LT_STRING);
    c = lks_pq_schema_find(s, "l");
    CHECK_EQ_INT(s->cols[c].type, LKS_PQ_INT64);
    CHECK_EQ_INT(s->cols[c].max_def, 0); /* not nullable: REQUIRED */
    c = lks_pq_schema_find(s, "sh");
    CHECK_EQ_INT(s->cols[c].type, LKS_PQ_INT32);
    CHECK_EQ_INT(s->cols[c].logical.kind, LKS_PQ_LT_INTEGER);
    CHECK_EQ_INT(s->cols[c].logical.bit_width, 16);
    c = lks_pq_schema_find(s, "b");
    CHECK_EQ_INT(s->cols[c].logical.bit_width, 8);
    c = lks_pq_schema_find(s, "d1");
    CHECK_EQ_INT(s->cols[c].type, LKS_PQ_INT32);
    CHECK_EQ_INT(s->cols[c].logical.kind, LKS_PQ_LT_DECIMAL);
    CHECK_EQ_INT(s->cols[c].logical.scale, 2);
    c = lks_pq_schema_find(s, "d2");
    CHECK_EQ_INT(s->cols[c].type, LKS_PQ_INT64);
    c = lks_pq_schema_find(s, "d3");
    CHECK_EQ_INT(s->cols[c].type, LKS_PQ_FIXED_LEN_BYTE_ARRAY);
    CHECK_EQ_INT(s->cols[c].type_length, 9);
    c = lks_pq_schema_find(s, "d4");
    CHECK_EQ_INT(s->cols[c].type_length, 16);
    c = lks_pq_schema_find(s, "dt");
    CHECK_EQ_INT(s->cols[c].logical.kind, LKS_PQ_LT_DATE);
    c = lks_pq_schema_find(s, "ts");
    CHECK_EQ_INT(s->cols[c].type, LKS_PQ_INT64);
    CHECK_EQ_INT(s->cols[c].logical.kind, LKS_PQ_LT_TIMESTAMP);
    CHECK_EQ_INT(s->cols[c].logical.unit, LKS_PQ_UNIT_MICROS);
    CHECK_EQ_INT(s->cols[c].logical.utc, 1);
    c = lks_pq_schema_find(s, "tn");
    CHECK_EQ_INT(s->cols[c].logical.utc, 0);
    c = lks_pq_schema_find(s, "st.x");
    CHECK(c >= 0);
    c = lks_pq_schema_find(s, "ar.list.element");
    REQUIRE(c >= 0);
    CHECK_EQ_INT(s->cols[c].max_rep, 1);
    CHECK_EQ_INT(s->cols[c].max_def, 2); /* ar optional, list repeated, element required */
    CHECK_EQ_INT(s->fields[s->parent[s->parent[s->cols[c].field]]].logical.kind, LKS_PQ_LT_LIST);
    c = lks_pq_schema_find(s, "mp.key_value.key");
    REQUIRE(c >= 0);
    CHECK_EQ_INT(s->cols[c].max_def, 1); /* mp required, key_value repeated, key required */
    CHECK_EQ_INT(s->fields[s->parent[s->parent[s->cols[c].field]]].logical.kind, LKS_PQ_LT_MAP);
    c = lks_pq_schema_find(s, "mp.key_value.value.list.element");
    REQUIRE(c >= 0);
    CHECK_EQ_INT(s->cols[c].max_rep, 2);
    CHECK_EQ_INT(s->cols[c].max_def, 4);
    lks_pq_schema_free(s);

    /* physical names and field ids under column mapping */
    const char *cm = "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"struct\",\"fields\":["
                     "{\"name\":\"b\",\"type\":\"long\",\"nullable\":true,\"metadata\":{\"delta.columnMapping.id\":2,"
                     "\"delta.columnMapping.physicalName\":\"col-b\"}}]},\"nullable\":true,\"metadata\":{"
                     "\"delta.columnMapping.id\":1,\"delta.columnMapping.physicalName\":\"col-a\"}}]}";
    CHECK_OK(lks_delta_schema_parse(cm, strlen(cm), &a, &t, &err), &err);
    CHECK_OK(lks_delta_schema_to_parquet(t, 1, &s, &err), &err);
    REQUIRE(s != NULL);
    c = lks_pq_schema_find(s, "col-a.col-b");
    REQUIRE(c >= 0);
    CHECK_EQ_INT(s->fields[s->cols[c].field].field_id, 2);
    CHECK_EQ_INT(s->fields[s->parent[s->cols[c].field]].field_id, 1);
    lks_pq_schema_free(s);
    CHECK_OK(lks_delta_schema_to_parquet(t, 0, &s, &err), &err);
    REQUIRE(s != NULL);
    c = lks_pq_schema_find(s, "a.b");
    REQUIRE(c >= 0);
    CHECK_EQ_INT(s->fields[s->cols[c].field].field_id, -1);
    lks_pq_schema_free(s);
    lks_arena_free(&a);
}

/* ---- names, keys -------------------------------------------------------------------- */

static void t_log_names(void) {
    static const struct {
        const char *name;
        int64_t v;
        char kind;
    } cases[] = {
        {"00000000000000000000.json", 0, 'j'},
        {"00000000000000000012.json", 12, 'j'},
        {"00000000000000000010.checkpoint.parquet", 10, 'c'},
        {"00000000000000000005.checkpoint.0000000002.0000000003.parquet", 5, 'c'},
        {"00000000000000000002.checkpoint.6374b053-df23-479b-b2cf-c9c550132b49.json", 2, 'v'},
        {"00000000000000000000.checkpoint.8516aa94-7099-4e71-92a0-d6d7e7bb3b2c.parquet", 0, 'v'},
        {"00000000000000000003.crc", 3, 'r'},
        {"00000000000000000006.00000000000000000010.compacted.json", 6, 'x'},
        {"_last_checkpoint", -1, 0},
        {"0000000000000000001.json", -1, 0},
        {"000000000000000000012.json", -1, 0},
        {"00000000000000000012.jsonx", -1, 0},
        {"00000000000000000012.json.tmp", -1, 0},
        {"0000000000000000001a.json", -1, 0},
        {"00000000000000000005.checkpoint.0000000004.0000000003.parquet", -1, 0},
        {"00000000000000000005.checkpoint.0000000000.0000000003.parquet", -1, 0},
        {"00000000000000000005.checkpoint.x.y.z.parquet", -1, 0},
        {"00000000000000000005.checkpoint.zzzz.json", -1, 0},
        {"00000000000000000005.checkpoint.parquet.crc", -1, 0},
        {"99999999999999999999.json", -1, 0},
        {"", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char kind = '?';
        int64_t v = lks_delta_log_name_version(cases[i].name, &kind);
        if (v != cases[i].v || (v >= 0 && kind != cases[i].kind))
            FAILF("%s: got %lld '%c', want %lld '%c'", cases[i].name, (long long)v, kind, (long long)cases[i].v,
                  cases[i].kind ? cases[i].kind : '-');
    }
}

static void t_table_key(void) {
    lks_store *st;
    lks_err err;
    REQUIRE(fresh_dir());
    REQUIRE(lks_store_open(tmproot, &st, &err) == LKS_OK);
    lks_delta_table *t;
    lks_arena a;
    lks_arena_init(&a, 0);
    CHECK_OK(lks_delta_table_open(st, "db/t/", &t, &err), &err);
    CHECK_EQ_STR(t->prefix, "db/t");
    CHECK_EQ_STR(t->log_prefix, "db/t/_delta_log/");
    CHECK_EQ_STR(lks_delta_table_key(t, "part-0.parquet", &a), "db/t/part-0.parquet");
    CHECK_EQ_STR(lks_delta_table_key(t, "p%3D1/a%20b%2Fc.parquet", &a), "db/t/p=1/a b/c.parquet");
    CHECK_EQ_STR(lks_delta_table_key(t, "bad%zz%4", &a), "db/t/bad%zz%4");
    CHECK_EQ_STR(lks_delta_table_key(t, "s3://bucket/x%20y.parquet", &a), "s3://bucket/x y.parquet");
    CHECK_EQ_STR(lks_delta_table_key(t, "file:///tmp/a.parquet", &a), "file:///tmp/a.parquet");
    lks_delta_table_close(t);
    CHECK_OK(lks_delta_table_open(st, "", &t, &err), &err);
    CHECK_EQ_STR(t->log_prefix, "_delta_log/");
    CHECK_EQ_STR(lks_delta_table_key(t, "x%25.parquet", &a), "x%.parquet");
    lks_delta_table_close(t);
    CHECK_EQ_INT(lks_delta_table_open(st, "a//b", &t, &err), LKS_EINVAL);
    /* no table there yet */
    CHECK_OK(lks_delta_table_open(st, "none", &t, &err), &err);
    lks_delta_snapshot *s;
    CHECK_EQ_INT(lks_delta_snapshot_latest(t, &s, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, "none") != NULL);
    lks_delta_table_close(t);
    lks_arena_free(&a);
    lks_store_close(st);
    rm_rf(tmproot);
}

/* ---- synthetic logs ----------------------------------------------------------------- */

static void t_replay_rules(void) {
    REQUIRE(fresh_dir());
    tbl x;
    lks_err err;
    REQUIRE(tbl_open(&x, tmproot, "db/t", &err) == LKS_OK);
    lks_arena a;
    lks_arena_init(&a, 0);
    int64_t now = lks_now_us() / 1000;
    /* v0: protocol, metadata, a, b, txn app1=1 */
    CHECK_OK(put_commit(x.st, "db/t", 0,
                        lks_arena_printf(&a, "%s%s%s%s%s", PROTO1, META1, add_line(&a, "a"), add_line(&a, "b"),
                                         "{\"txn\":{\"appId\":\"app1\",\"version\":1}}\n")),
             &err);
    /* v1: remove a (recent), add c, domain d1, txn app0=5; remove and re-add b in one commit */
    CHECK_OK(put_commit(x.st, "db/t", 1,
                        lks_arena_printf(&a, "%s%s%s%s%s%s%s", add_line(&a, "b"), remove_line(&a, "a", now - 2000),
                                         add_line(&a, "c"), remove_line(&a, "b", now - 2000),
                                         "{\"domainMetadata\":{\"domain\":\"d1\",\"configuration\":\"{}\","
                                         "\"removed\":false}}\n",
                                         "{\"txn\":{\"appId\":\"app0\",\"version\":5}}\n",
                                         "{\"unknownAction\":{}}\n\n")),
             &err);
    /* v2: DV on c: remove (c, none) + add (c, dv); remove old tombstone-ish x; app1=2; d1 removed, d2 added */
    CHECK_OK(put_commit(x.st, "db/t", 2,
                        lks_arena_printf(
                            &a, "%s%s%s%s%s%s",
                            "{\"add\":{\"path\":\"c\",\"partitionValues\":{},\"size\":10,\"modificationTime\":1,"
                            "\"dataChange\":true,\"deletionVector\":{\"storageType\":\"i\",\"pathOrInlineDv\":\"abc\","
                            "\"sizeInBytes\":3,\"cardinality\":1}}}\n",
                            remove_line(&a, "c", now - 1500), remove_line(&a, "old", 1000),
                            "{\"txn\":{\"appId\":\"app1\",\"version\":2}}\n",
                            "{\"domainMetadata\":{\"domain\":\"d1\",\"configuration\":\"{}\",\"removed\":true}}\n",
                            "{\"domainMetadata\":{\"domain\":\"d2\",\"configuration\":\"{\\\"k\\\":1}\","
                            "\"removed\":false}}\n")),
             &err);
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(x.t, &s, &err), &err);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(s->version, 2);
    CHECK_EQ_INT(s->checkpoint_version, -1);
    REQUIRE(s->nfiles == 2);
    CHECK_EQ_STR(s->files[0].path, "b");
    CHECK_EQ_STR(s->files[1].path, "c");
    CHECK_EQ_INT(s->files[1].has_dv, 1);
    /* tombstones within retention: a and (c, no dv); "old" (1970) expired */
    CHECK_EQ_INT(s->ntombstones, 2);
    if (s->ntombstones == 2) {
        CHECK_EQ_STR(s->tombstones[0].path, "a");
        CHECK_EQ_STR(s->tombstones[1].path, "c");
    }
    CHECK_EQ_INT(s->ntxns, 2);
    CHECK_EQ_STR(s->txns[0].app_id, "app0");
    CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app1"), 2);
    CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app0"), 5);
    CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "nope"), -1);
    CHECK_EQ_INT(s->ndomains, 1);
    CHECK_EQ_STR(s->domains[0].domain, "d2");
    CHECK_EQ_STR(s->metadata.id, "t1");
    CHECK(lks_delta_snapshot_property(s, "delta.appendOnly") == NULL);
    lks_delta_snapshot_free(s);
    /* time travel */
    CHECK_OK(lks_delta_snapshot_at_version(x.t, 0, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->nfiles, 2);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "app1"), 1);
        CHECK_EQ_INT(s->ndomains, 0);
        lks_delta_snapshot_free(s);
    }
    CHECK_OK(lks_delta_snapshot_at_version(x.t, 1, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->nfiles, 2); /* b (re-added), c */
        CHECK_EQ_INT(s->ndomains, 1);
        lks_delta_snapshot_free(s);
    }
    CHECK_EQ_INT(lks_delta_snapshot_at_version(x.t, 3, &s, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, "version 3") != NULL);

    /* v3: metadata with a short retention and a new schema: latest wins */
    CHECK_OK(put_commit(x.st, "db/t", 3,
                        "{\"metaData\":{\"id\":\"t2\",\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":"
                        "[]}\",\"partitionColumns\":[],\"configuration\":{\"delta.deletedFileRetentionDuration\":"
                        "\"interval 1 second\"}}}\n"),
             &err);
    CHECK_OK(lks_delta_snapshot_latest(x.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_STR(s->metadata.id, "t2");
        CHECK_EQ_STR(lks_delta_snapshot_property(s, "delta.deletedFileRetentionDuration"), "interval 1 second");
        CHECK_EQ_INT(s->ntombstones, 0);
        lks_delta_snapshot_free(s);
    }
    /* v4: an unknown reader feature is refused, naming it */
    CHECK_OK(put_commit(x.st, "db/t", 4,
                        "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":"
                        "[\"deletionVectors\",\"variantType\"],\"writerFeatures\":[]}}\n"),
             &err);
    CHECK_EQ_INT(lks_delta_snapshot_latest(x.t, &s, &err), LKS_EUNSUPPORTED);
    CHECK(strstr(err.msg, "reader feature \"variantType\"") != NULL);
    /* but older versions still open */
    CHECK_OK(lks_delta_snapshot_at_version(x.t, 3, &s, &err), &err);
    lks_delta_snapshot_free(s);
    /* v5: a malformed line names file and line */
    CHECK_OK(put_commit(x.st, "db/t", 5, "{\"commitInfo\":{}}\n{\"add\":{\"path\":\"z\",\"size\":\n"), &err);
    CHECK_EQ_INT(lks_delta_snapshot_latest(x.t, &s, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "00000000000000000005.json line 2") != NULL);
    /* a gap: v7 without v6 */
    CHECK_OK(lks_store_delete(x.st, "db/t/_delta_log/00000000000000000005.json", &err), &err);
    CHECK_OK(put_commit(x.st, "db/t", 6, "{\"commitInfo\":{}}\n"), &err);
    CHECK_OK(lks_store_delete(x.st, "db/t/_delta_log/00000000000000000004.json", &err), &err);
    CHECK_EQ_INT(lks_delta_snapshot_latest(x.t, &s, &err), LKS_ECORRUPT);
    CHECK(strstr(err.msg, "commit 4 is missing") != NULL);
    lks_arena_free(&a);
    tbl_close(&x);
    rm_rf(tmproot);
}

static void t_timestamps_mtime(void) {
    REQUIRE(fresh_dir());
    tbl x;
    lks_err err;
    REQUIRE(tbl_open(&x, tmproot, "", &err) == LKS_OK);
    lks_arena a;
    lks_arena_init(&a, 0);
    CHECK_OK(put_commit(x.st, "", 0, lks_arena_printf(&a, "%s%s%s", PROTO1, META1, add_line(&a, "f0"))), &err);
    for (int v = 1; v <= 4; v++) {
        char p[16];
        snprintf(p, sizeof p, "f%d", v);
        CHECK_OK(put_commit(x.st, "", v, add_line(&a, p)), &err);
    }
    /* mtimes 1000, 2000, 2000 (ties: made monotonic → 2001), 1500 (→ 2002), 5000 */
    static const int64_t mt[] = {1000000, 2000000, 2000000, 1500000, 5000000};
    for (int v = 0; v <= 4; v++) {
        char key[64];
        snprintf(key, sizeof key, "_delta_log/%020d.json", v);
        set_mtime(tmproot, key, mt[v]);
    }
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_at_version(x.t, 1, &s, &err), &err);
    if (s) CHECK_EQ_INT(s->timestamp, 2000000);
    lks_delta_snapshot_free(s);
    static const struct {
        int64_t ts, v;
    } q[] = {{1000000, 0}, {1999999, 0}, {2000000, 1}, {2000001, 2}, {2000002, 3}, {4999999, 3}, {5000000, 4},
             {9000000000LL, 4}};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        s = NULL;
        int rc = lks_delta_snapshot_at_timestamp(x.t, q[i].ts, &s, &err);
        if (rc) FAILF("ts %lld: %s", (long long)q[i].ts, err.msg);
        else if (s->version != q[i].v) FAILF("ts %lld: version %lld want %lld", (long long)q[i].ts, (long long)s->version, (long long)q[i].v);
        if (s) CHECK_EQ_INT(s->nfiles, q[i].v + 1);
        lks_delta_snapshot_free(s);
    }
    CHECK_EQ_INT(lks_delta_snapshot_at_timestamp(x.t, 999999, &s, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, "earliest") != NULL && strstr(err.msg, "1970-01-01T00:16:40") != NULL);
    lks_arena_free(&a);
    tbl_close(&x);
    rm_rf(tmproot);
}

/* A long log replays in linear time (a quadratic replay takes minutes). */
static void t_long_log(void) {
    REQUIRE(fresh_dir());
    tbl x;
    lks_err err;
    REQUIRE(tbl_open(&x, tmproot, "", &err) == LKS_OK);
    lks_arena a;
    lks_arena_init(&a, 0);
    enum { N = 3000 };
    CHECK_OK(put_commit(x.st, "", 0, lks_arena_printf(&a, "%s%s%s", PROTO1, META1, add_line(&a, "f0"))), &err);
    for (int v = 1; v < N; v++) {
        char p[32], q[32];
        snprintf(p, sizeof p, "f%d", v);
        snprintf(q, sizeof q, "f%d", v - 1);
        /* every other commit removes the previous file */
        const char *text = v % 2 ? lks_arena_printf(&a, "%s%s", add_line(&a, p), remove_line(&a, q, 1))
                                 : add_line(&a, p);
        if (put_commit(x.st, "", v, text)) {
            FAILF("put %d", v);
            break;
        }
        if (v % 256 == 0) lks_arena_reset(&a);
    }
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(x.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->version, N - 1);
        CHECK_EQ_INT(s->nfiles, N / 2);
    }
    lks_delta_snapshot_free(s);
    lks_arena_free(&a);
    tbl_close(&x);
    rm_rf(tmproot);
}

/* ---- the corpus ---------------------------------------------------------------------- */

typedef struct expect {
    const char *name;
    int64_t version;
    int64_t nfiles;
} expect;

/* Latest version and live file count of every corpus table that opens.
 * The tables without checkpoints were checked against an independent
 * replay; checkpointed ones are checked again below against a replay of
 * their JSON commits alone. */
static const expect opens[] = {
    {"dat-all_primitive_types", 0, 1},
    {"dat-basic_append", 1, 2},
    {"dat-basic_partitioned", 1, 6},
    {"dat-multi_partitioned", 2, 2},
    {"dat-nested_types", 0, 1},
    {"dat-no_replay", 3, 1},
    {"dat-no_stats", 3, 1},
    {"dat-stats_as_struct", 3, 1},
    {"dat-with_checkpoint", 3, 1},
    {"deltars-cdc_ict_table", 3, 2},
    {"deltars-cdf-table", 3, 9},
    {"deltars-cdf-table-non-partitioned", 4, 11},
    {"deltars-cdf-table-with-cdc-and-dvs", 25, 2},
    {"deltars-checkpoint-cdf-table", 5, 13},
    {"deltars-checkpoint-v2-table", 9, 8},
    {"deltars-checkpoint_with_partitions", 2, 2},
    {"deltars-checkpoints", 12, 12},
    {"deltars-concurrent_workers", 0, 0},
    {"deltars-delta-0.2.0", 3, 3},
    {"deltars-delta-0.8-empty", 1, 0},
    {"deltars-delta-0.8.0", 1, 2},
    {"deltars-delta-0.8.0-date", 0, 1},
    {"deltars-delta-0.8.0-null-partition", 0, 2},
    {"deltars-delta-0.8.0-numeric-partition", 0, 2},
    {"deltars-delta-0.8.0-partitioned", 0, 6},
    {"deltars-delta-1.2.1-only-struct-stats", 12, 12},
    {"deltars-delta-2.2.0-partitioned-types", 0, 3},
    {"deltars-delta-checkpoint-stats-optional", 2, 2},
    {"deltars-delta-live-table", 1, 0},
    {"deltars-delta-stats-optional", 2, 2},
    {"deltars-http_requests", 1, 2},
    {"deltars-issue-2152", 0, 0},
    {"deltars-issue_1374", 1, 2},
    {"deltars-latest_not_checkpointed", 3, 1},
    {"deltars-partition-type-primitives", 0, 16},
    {"deltars-python-0.25.5-checkpoint", 1, 2},
    {"deltars-simple_commit", 0, 0},
    {"deltars-simple_table", 4, 5},
    {"deltars-simple_table_with_cdc", 2, 1},
    {"deltars-simple_table_with_checkpoint", 10, 11},
    {"deltars-table-with-domain-metadata", 108, 109},
    {"deltars-table-with-dv-small", 1, 1},
    {"deltars-table-without-dv-small", 0, 1},
    {"deltars-table_failed_last_checkpoint_update", 3, 4},
    {"deltars-table_with_column_mapping", 0, 2},
    {"deltars-table_with_deletion_logs", 20, 1},
    {"deltars-table_with_liquid_clustering", 0, 10},
    {"deltars-table_with_null_stats_in_notnull_struct", 1, 2},
    {"deltars-table_with_partitioning_mapping", 4, 2},
    {"deltars-with_checkpoint_no_last_checkpoint", 3, 1},
    {"golden-124-decimal-decode-bug", 0, 2},
    {"golden-125-iterator-bug", 11, 12},
    {"golden-basic-decimal-table", 0, 4},
    {"golden-basic-decimal-table-legacy", 0, 4},
    {"golden-basic-with-inserts-deletes-checkpoint", 13, 7},
    {"golden-basic-with-inserts-merge", 1, 1},
    {"golden-basic-with-inserts-overwrite-restore", 3, 4},
    {"golden-basic-with-inserts-updates", 1, 2},
    {"golden-basic-with-vacuum-protocol-check-feature", 1, 2},
    {"golden-checkpoint", 14, 1},
    {"golden-corrupted-last-checkpoint-kernel", 11, 2},
    {"golden-data-reader-array-complex-objects", 0, 2},
    {"golden-data-reader-array-primitives", 0, 2},
    {"golden-data-reader-date-types-America", 0, 2},
    {"golden-data-reader-date-types-utc", 0, 2},
    {"golden-data-reader-map", 0, 2},
    {"golden-data-reader-nested-struct", 0, 2},
    {"golden-data-reader-nullable-field-invalid-schema-key", 0, 2},
    {"golden-data-reader-partition-values", 0, 3},
    {"golden-data-reader-primitives", 0, 2},
    {"golden-data-reader-timestamp_ntz", 1, 4},
    {"golden-data-reader-timestamp_ntz-name-mode", 1, 4},
    {"golden-data-skipping-basic-stats-all-types", 0, 1},
    {"golden-data-skipping-basic-stats-all-types-checkpoint", 0, 1},
    {"golden-data-skipping-basic-stats-all-types-columnmapping-name", 0, 1},
    {"golden-delete-re-add-same-file-different-transactions", 3, 2},
    {"golden-deltalog-commit-info", 0, 1},
    {"golden-deltalog-getChanges", 2, 0},
    {"golden-dv-with-columnmapping", 15, 15},
    {"golden-kernel-timestamp-int96", 0, 5},
    {"golden-kernel-timestamp-pst", 0, 5},
    {"golden-kernel-timestamp-timestamp_micros", 0, 5},
    {"golden-log-replay-latest-metadata-protocol", 2, 4},
    {"golden-log-replay-special-characters-a", 1, 0},
    {"golden-only-checkpoint-files", 2, 7},
    {"golden-parquet-all-types", 0, 1},
    {"golden-parquet-all-types-legacy-format", 0, 1},
    {"golden-parquet-decimal-dictionaries", 0, 1},
    {"golden-snapshot-data0", 0, 2},
    {"golden-snapshot-data2-deleted", 4, 3},
    {"golden-snapshot-data3", 3, 4},
    {"golden-snapshot-repartitioned", 5, 2},
    {"golden-table-with-columnmapping-mode-name", 0, 2},
    {"golden-time-travel-partition-changes-b", 1, 4},
    {"golden-time-travel-schema-changes-b", 1, 4},
    {"golden-update-deleted-directory", 0, 10},
    {"golden-v2-checkpoint-json", 2, 4},
    {"kerneljava-basic-dv-no-checkpoint", 1, 2},
    {"kerneljava-basic-dv-with-checkpoint", 46, 2},
    {"kerneljava-basic-with-checkpoint", 14, 30},
    {"kerneljava-column-mapping-id", 0, 2},
    {"kerneljava-data-reader-partition-values-column-mapping-name", 0, 3},
    {"kerneljava-data-reader-primitives-column-mapping-name", 0, 2},
    {"kernelrs-app-txn-checkpoint", 1, 4},
    {"kernelrs-app-txn-no-checkpoint", 1, 4},
    {"kernelrs-app-txn-with-last-updated", 3, 4},
    {"kernelrs-basic_partitioned", 1, 6},
    {"kernelrs-cdf-column-mapping-name-mode", 4, 3},
    {"kernelrs-cdf-table-delete-conditional-two-rows", 1, 3},
    {"kernelrs-cdf-table-simple", 2, 0},
    {"kernelrs-cdf-table-update-ops", 2, 2},
    {"kernelrs-cdf-table-with-dv", 6, 1},
    {"kernelrs-compacted-log-files-table", 25, 2},
    {"kernelrs-crc-full", 0, 0},
    {"kernelrs-external-table-different-nullability", 5, 3},
    {"kernelrs-parquet_row_group_skipping", 1, 1},
    {"kernelrs-parsed-stats", 5, 6},
    {"kernelrs-partition_cm-id", 0, 0},
    {"kernelrs-partition_cm-name", 0, 0},
    {"kernelrs-partition_cm-none", 0, 0},
    {"kernelrs-partitioned_with_materialize_feature", 1, 6},
    {"kernelrs-stats-writing-all-types", 1, 1},
    {"kernelrs-table-with-cdf", 4, 0},
    {"kernelrs-timestamp-partitioned-table", 0, 1},
    {"kernelrs-timestamp-truncation-stats", 2, 3},
    {"kernelrs-type-widening", 2, 2},
    {"kernelrs-v1-multi-part-partitioned-struct-stats-only", 5, 5},
    {"kernelrs-v1-multi-part-struct-stats-only", 5, 5},
    {"kernelrs-v1-single-part-struct-stats-only", 5, 5},
    {"kernelrs-v2-checkpoints-json-with-sidecars", 6, 101},
    {"kernelrs-v2-checkpoints-parquet-with-last-checkpoint", 0, 2},
    {"kernelrs-v2-classic-checkpoint-json", 1, 4},
    {"kernelrs-v2-classic-parquet-struct-stats-only", 5, 5},
    {"kernelrs-v2-json-sidecars-struct-stats-only", 5, 5},
    {"kernelrs-void-column", 0, 3},
    {"kernelrs-with-short-dv", 0, 2},
    {"spark-dbr_8_0_non_generated_columns", 0, 1},
    {"spark-dbr_8_1_generated_columns", 0, 0},
    {"spark-delta-0.1.0", 3, 3},
    {"spark-delta-1.2.1", 4, 3},
    {"spark-identity_test_written_by_version_5", 0, 2},
    {"spark-table-with-dv-large", 4, 22},
    {"spark-table-with-dv-small", 1, 1},
    {"spark-transaction_log_schema_evolvability", 5, 4},
};

typedef struct refusal {
    const char *name;
    int rc;
    const char *needle;
} refusal;

static const refusal refusals[] = {
    {"deltars-simple_table_features", LKS_EUNSUPPORTED, "reader version 5"}, /* also lists "blahabl" */
    {"golden-deltalog-invalid-protocol-version", LKS_EUNSUPPORTED, "reader version 99"},
    {"golden-deltalog-state-reconstruction-from-checkpoint-missing-metadata", LKS_ECORRUPT, "no metaData"},
    {"golden-deltalog-state-reconstruction-from-checkpoint-missing-protocol", LKS_ECORRUPT, "no protocol"},
    {"golden-deltalog-state-reconstruction-without-metadata", LKS_ECORRUPT, "no metaData"},
    {"golden-deltalog-state-reconstruction-without-protocol", LKS_ECORRUPT, "no protocol"},
    {"golden-versions-not-contiguous", LKS_ECORRUPT, "commit 1 is missing"},
    {"kernelrs-crc-malformed", LKS_ENOTFOUND, "no commits"}, /* only a .crc file */
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void t_corpus_all(void) {
    const char *corpus = lks_test_corpus();
    if (!corpus) SKIP("corpus not found");
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/delta", corpus);
    DIR *d = opendir(dir);
    if (!d) SKIP("no delta corpus");
    char *names[1024];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 1024) {
        char p[2400];
        snprintf(p, sizeof p, "%s/%s/delta", dir, de->d_name);
        struct stat st;
        if (de->d_name[0] != '.' && stat(p, &st) == 0 && S_ISDIR(st.st_mode)) names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    int nok = 0, nref = 0;
    for (int i = 0; i < n; i++) {
        tbl x;
        lks_err err;
        lks_err_clear(&err);
        char p[2400];
        snprintf(p, sizeof p, "%s/%s/delta", dir, names[i]);
        if (tbl_open(&x, p, "", &err)) {
            FAILF("%s: %s", names[i], err.msg);
            continue;
        }
        lks_delta_snapshot *s = NULL;
        int rc = lks_delta_snapshot_latest(x.t, &s, &err);
        const expect *e = NULL;
        const refusal *r = NULL;
        for (size_t k = 0; k < sizeof opens / sizeof opens[0]; k++)
            if (!strcmp(opens[k].name, names[i])) e = &opens[k];
        for (size_t k = 0; k < sizeof refusals / sizeof refusals[0]; k++)
            if (!strcmp(refusals[k].name, names[i])) r = &refusals[k];
        if (rc == 0) {
            nok++;
            printf("  ok      %-62s v%lld files=%zu\n", names[i], (long long)s->version, s->nfiles);
            if (r) FAILF("%s opened but should be refused (%s)", names[i], r->needle);
            if (!e && !r) FAILF("%s: new corpus case, not in the expectation table", names[i]);
            if (e && (s->version != e->version || (int64_t)s->nfiles != e->nfiles))
                FAILF("%s: v%lld files=%zu, want v%lld files=%lld", names[i], (long long)s->version, s->nfiles,
                      (long long)e->version, (long long)e->nfiles);
            /* read schema of every table converts */
            lks_pq_schema *ps = NULL;
            if (s->metadata.schema && s->metadata.schema->nchildren > 0 &&
                lks_delta_schema_to_parquet(s->metadata.schema, 1, &ps, &err) != LKS_OK)
                FAILF("%s: schema to parquet: %s", names[i], err.msg);
            lks_pq_schema_free(ps);
            lks_delta_snapshot_free(s);
        } else {
            nref++;
            printf("  refused %-62s %s\n", names[i], err.msg);
            if (!r) FAILF("%s refused unexpectedly: %s", names[i], err.msg);
            else if (rc != r->rc || !strstr(err.msg, r->needle))
                FAILF("%s: rc %d \"%s\", want %d \"%s\"", names[i], rc, err.msg, r->rc, r->needle);
        }
        tbl_close(&x);
        free(names[i]);
    }
    printf("  %d corpus tables open, %d refused\n", nok, nref);
    CHECK(nok + nref == n);
}

static int skip_checkpoints(const char *name) {
    return strstr(name, "checkpoint") != NULL; /* also _last_checkpoint */
}

/* Snapshots of checkpointed tables equal a replay of their commits alone. */
static void t_corpus_checkpoint_vs_commits(void) {
    if (!lks_test_corpus()) SKIP("corpus not found");
    int compared = 0;
    for (size_t k = 0; k < sizeof opens / sizeof opens[0]; k++) {
        const char *src = corpus_case(opens[k].name);
        if (!src) continue;
        char p0[4500];
        snprintf(p0, sizeof p0, "%s/_delta_log/00000000000000000000.json", src);
        struct stat st;
        if (stat(p0, &st) != 0) continue; /* commits gone: the checkpoint is all there is */
        tbl a;
        lks_err err;
        if (tbl_open(&a, src, "", &err)) continue;
        lks_delta_snapshot *s1 = NULL;
        if (lks_delta_snapshot_latest(a.t, &s1, &err) || s1->checkpoint_version < 0) {
            lks_delta_snapshot_free(s1);
            tbl_close(&a);
            continue;
        }
        REQUIRE(fresh_dir());
        char dst[512];
        snprintf(dst, sizeof dst, "%s/t", tmproot);
        char logsrc[4500], logdst[600];
        snprintf(logsrc, sizeof logsrc, "%s/_delta_log", src);
        mkdir(dst, 0755);
        snprintf(logdst, sizeof logdst, "%s/_delta_log", dst);
        CHECK(copy_tree(logsrc, logdst, skip_checkpoints) == 0);
        tbl b;
        CHECK_OK(tbl_open(&b, dst, "", &err), &err);
        lks_delta_snapshot *s2 = NULL;
        int rc = lks_delta_snapshot_latest(b.t, &s2, &err);
        if (rc) {
            FAILF("%s without checkpoints: %s", opens[k].name, err.msg);
        } else {
            CHECK_EQ_INT(s2->checkpoint_version, -1);
            if (s1->nfiles != s2->nfiles || s1->version != s2->version || s1->ntxns != s2->ntxns) {
                FAILF("%s: checkpoint v%lld files=%zu txns=%zu, commits v%lld files=%zu txns=%zu", opens[k].name,
                      (long long)s1->version, s1->nfiles, s1->ntxns, (long long)s2->version, s2->nfiles, s2->ntxns);
            } else {
                for (size_t i = 0; i < s1->nfiles; i++) {
                    const lks_delta_add *x1 = &s1->files[i], *x2 = &s2->files[i];
                    if (strcmp(x1->path, x2->path) || x1->size != x2->size || x1->has_dv != x2->has_dv ||
                        x1->npartition_values != x2->npartition_values ||
                        (x1->has_dv && (x1->dv.cardinality != x2->dv.cardinality ||
                                        strcmp(x1->dv.path_or_inline, x2->dv.path_or_inline)))) {
                        FAILF("%s: file %zu differs: %s vs %s", opens[k].name, i, x1->path, x2->path);
                        break;
                    }
                    for (int j = 0; j < x1->npartition_values; j++) {
                        const char *v1 = x1->partition_values[j].value, *v2 = NULL;
                        for (int m = 0; m < x2->npartition_values; m++)
                            if (!strcmp(x2->partition_values[m].key, x1->partition_values[j].key))
                                v2 = x2->partition_values[m].value;
                        if ((v1 == NULL) != (v2 == NULL) || (v1 && strcmp(v1, v2)))
                            FAILF("%s: %s partition value %s differs", opens[k].name, x1->path,
                                  x1->partition_values[j].key);
                    }
                }
                for (size_t i = 0; i < s1->ntxns; i++) {
                    CHECK_EQ_STR(s1->txns[i].app_id, s2->txns[i].app_id);
                    CHECK_EQ_INT(s1->txns[i].version, s2->txns[i].version);
                }
                /* (schemaString text may differ: some writers re-serialise it;
                 * this one's checkpoint was crafted from another table) */
                if (strcmp(opens[k].name, "kernelrs-parquet_row_group_skipping") != 0)
                    CHECK_EQ_STR(s1->metadata.id, s2->metadata.id);
                CHECK_EQ_INT(s1->protocol.min_reader, s2->protocol.min_reader);
                CHECK_EQ_INT(s1->ndomains, s2->ndomains);
                compared++;
            }
        }
        lks_delta_snapshot_free(s2);
        lks_delta_snapshot_free(s1);
        tbl_close(&b);
        tbl_close(&a);
        rm_rf(tmproot);
    }
    printf("  %d checkpointed tables match their commit replay\n", compared);
    CHECK(compared >= 30);
}

static lks_delta_snapshot *open_at(const char *name, int64_t version, lks_err *err) {
    const char *p = corpus_case(name);
    if (!p) return NULL;
    tbl x;
    if (tbl_open(&x, p, "", err)) return NULL;
    lks_delta_snapshot *s = NULL;
    int rc = version < 0 ? lks_delta_snapshot_latest(x.t, &s, err)
                         : lks_delta_snapshot_at_version(x.t, version, &s, err);
    tbl_close(&x);
    return rc ? NULL : s;
}

static void t_corpus_time_travel(void) {
    if (!corpus_case("dat-basic_append")) SKIP("corpus not found");
    static const struct {
        const char *name;
        int64_t version, nfiles, cp;
    } tt[] = {
        {"dat-basic_append", 0, 1, -1},
        {"dat-basic_append", 1, 2, -1},
        {"dat-basic_partitioned", 0, 3, -1},
        {"dat-basic_partitioned", 1, 6, -1},
        {"dat-multi_partitioned", 0, 3, -1},
        {"dat-multi_partitioned", 1, 5, -1},
        {"dat-multi_partitioned", 2, 2, -1},
        {"dat-with_checkpoint", 2, 1, 2},
        {"dat-no_replay", 2, 1, 2},
        {"golden-checkpoint", 9, 1, -1},
        {"golden-checkpoint", 10, 1, 10},
        {"golden-checkpoint", 12, 1, 10},
        {"deltars-simple_table", 0, 6, -1},
        {"deltars-simple_table", 3, 6, -1},
        {"golden-snapshot-data2-deleted", 2, 2, -1},
        {"kernelrs-v2-checkpoints-json-with-sidecars", 3, -1, 3},
        {"kernelrs-v1-multi-part-struct-stats-only", 4, 4, -1},
    };
    for (size_t i = 0; i < sizeof tt / sizeof tt[0]; i++) {
        lks_err err;
        lks_err_clear(&err);
        lks_delta_snapshot *s = open_at(tt[i].name, tt[i].version, &err);
        if (!s) {
            FAILF("%s v%lld: %s", tt[i].name, (long long)tt[i].version, err.msg);
            continue;
        }
        CHECK_EQ_INT(s->version, tt[i].version);
        if (tt[i].nfiles >= 0 && (int64_t)s->nfiles != tt[i].nfiles)
            FAILF("%s v%lld: %zu files, want %lld", tt[i].name, (long long)tt[i].version, s->nfiles,
                  (long long)tt[i].nfiles);
        CHECK_EQ_INT(s->checkpoint_version, tt[i].cp);
        lks_delta_snapshot_free(s);
    }
    /* versions before the log's beginning: dat-no_replay starts at a checkpoint (v2) */
    lks_err err;
    CHECK(open_at("dat-no_replay", 1, &err) == NULL);
    CHECK_EQ_INT(err.code, LKS_ENOTFOUND);
    CHECK(open_at("dat-basic_append", 2, &err) == NULL);
    CHECK_EQ_INT(err.code, LKS_ENOTFOUND);
    /* the schema changes across versions */
    lks_delta_snapshot *s0 = open_at("golden-time-travel-schema-changes-b", 0, &err);
    lks_delta_snapshot *s1 = open_at("golden-time-travel-schema-changes-b", 1, &err);
    if (s0 && s1) CHECK(s0->metadata.schema->nchildren < s1->metadata.schema->nchildren);
    lks_delta_snapshot_free(s0);
    lks_delta_snapshot_free(s1);
}

static void t_corpus_last_checkpoint(void) {
    if (!corpus_case("golden-corrupted-last-checkpoint-kernel")) SKIP("corpus not found");
    static const struct {
        const char *name;
        int64_t version, cp;
    } cases[] = {
        {"golden-corrupted-last-checkpoint-kernel", 11, 10},     /* _last_checkpoint garbage */
        {"deltars-with_checkpoint_no_last_checkpoint", 3, 2},   /* missing */
        {"deltars-table_failed_last_checkpoint_update", 3, 3},  /* stale: names 1, newest is 3 */
        {"golden-only-checkpoint-files", 2, 2},
        {"kernelrs-v2-checkpoints-parquet-with-last-checkpoint", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_err err;
        lks_delta_snapshot *s = open_at(cases[i].name, -1, &err);
        if (!s) {
            FAILF("%s: %s", cases[i].name, err.msg);
            continue;
        }
        CHECK_EQ_INT(s->version, cases[i].version);
        CHECK_EQ_INT(s->checkpoint_version, cases[i].cp);
        lks_delta_snapshot_free(s);
    }
}

static int skip_part2(const char *name) { return strstr(name, ".checkpoint.0000000002.0000000003.parquet") != NULL; }

static void t_corpus_checkpoint_kinds(void) {
    const char *cp = corpus_case("kernelrs-v1-multi-part-struct-stats-only");
    if (!cp) SKIP("corpus not found");
    char src[4400];
    snprintf(src, sizeof src, "%s", cp);
    lks_err err;
    /* multi-part and V2 checkpoints */
    static const struct {
        const char *name;
        int64_t version, cp, nfiles;
    } cases[] = {
        {"kernelrs-v1-multi-part-struct-stats-only", 5, 5, 5},
        {"kernelrs-v1-multi-part-partitioned-struct-stats-only", 5, 5, 5},
        {"kernelrs-parquet_row_group_skipping", 1, 1, 1},
        {"kernelrs-v2-checkpoints-json-with-sidecars", 6, 6, 101},
        {"kernelrs-v2-json-sidecars-struct-stats-only", 5, 5, 5},
        {"kernelrs-v2-classic-checkpoint-json", 1, 1, 4},
        {"kernelrs-v2-checkpoints-parquet-with-last-checkpoint", 0, 0, 2},
        {"golden-v2-checkpoint-json", 2, 2, 4},
        {"deltars-checkpoint-v2-table", 9, 8, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lks_delta_snapshot *s = open_at(cases[i].name, -1, &err);
        if (!s) {
            FAILF("%s: %s", cases[i].name, err.msg);
            continue;
        }
        CHECK_EQ_INT(s->version, cases[i].version);
        CHECK_EQ_INT(s->checkpoint_version, cases[i].cp);
        CHECK_EQ_INT(s->nfiles, cases[i].nfiles);
        lks_delta_snapshot_free(s);
    }
    /* an incomplete multi-part checkpoint is passed over */
    REQUIRE(fresh_dir());
    CHECK(copy_tree(src, tmproot, skip_part2) == 0);
    tbl x;
    CHECK_OK(tbl_open(&x, tmproot, "", &err), &err);
    lks_delta_snapshot *s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(x.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->checkpoint_version, -1);
        CHECK_EQ_INT(s->nfiles, 5);
    }
    lks_delta_snapshot_free(s);
    /* an unreadable checkpoint part falls back to the commits */
    char p[1024];
    snprintf(p, sizeof p, "%s/_delta_log/00000000000000000005.checkpoint.0000000002.0000000003.parquet", tmproot);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs("not parquet", f);
        fclose(f);
    }
    s = NULL;
    CHECK_OK(lks_delta_snapshot_latest(x.t, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->checkpoint_version, -1);
        CHECK_EQ_INT(s->nfiles, 5);
    }
    lks_delta_snapshot_free(s);
    tbl_close(&x);
    rm_rf(tmproot);
}

static void t_corpus_app_txn(void) {
    if (!corpus_case("kernelrs-app-txn-checkpoint")) SKIP("corpus not found");
    lks_err err;
    const char *names[] = {"kernelrs-app-txn-checkpoint", "kernelrs-app-txn-no-checkpoint"};
    for (int i = 0; i < 2; i++) {
        lks_delta_snapshot *s = open_at(names[i], -1, &err);
        if (!s) {
            FAILF("%s: %s", names[i], err.msg);
            continue;
        }
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "my-app"), 3);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "my-app2"), 2);
        CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "my-app3"), -1);
        lks_delta_snapshot_free(s);
        s = open_at(names[i], 0, &err);
        if (s) {
            CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "my-app"), 1);
            CHECK_EQ_INT(lks_delta_snapshot_app_version(s, "my-app2"), -1);
        }
        lks_delta_snapshot_free(s);
    }
    lks_delta_snapshot *s = open_at("kernelrs-app-txn-with-last-updated", -1, &err);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(s->ntxns, 4);
    CHECK_EQ_STR(s->txns[0].app_id, "new_app_0");
    CHECK_EQ_INT(s->txns[0].last_updated, -1);
    CHECK_EQ_STR(s->txns[3].app_id, "old_app");
    CHECK_EQ_INT(s->txns[3].last_updated, 1747935650);
    lks_delta_snapshot_free(s);
}

static void t_corpus_ict(void) {
    const char *p = corpus_case("deltars-cdc_ict_table");
    if (!p) SKIP("corpus not found");
    /* read the in-commit timestamps straight from the commits */
    int64_t ict[4];
    for (int v = 0; v < 4; v++) {
        char f[4500];
        snprintf(f, sizeof f, "%s/_delta_log/%020d.json", p, v);
        json_error_t je;
        json_t *root = json_load_file(f, JSON_DISABLE_EOF_CHECK, &je);
        REQUIRE(root != NULL);
        ict[v] = json_integer_value(json_object_get(json_object_get(root, "commitInfo"), "inCommitTimestamp"));
        json_decref(root);
        REQUIRE(ict[v] > 0);
    }
    tbl x;
    lks_err err;
    REQUIRE(tbl_open(&x, p, "", &err) == LKS_OK);
    for (int v = 0; v < 4; v++) {
        lks_delta_snapshot *s = NULL;
        CHECK_OK(lks_delta_snapshot_at_version(x.t, v, &s, &err), &err);
        if (s) {
            CHECK_EQ_STR(lks_delta_snapshot_property(s, "delta.enableInCommitTimestamps"), "true");
            CHECK_EQ_INT(s->timestamp, ict[v]);
        }
        lks_delta_snapshot_free(s);
    }
    /* this table's v1 timestamp goes backwards (the protocol requires
     * monotonic ones): time travel holds over the monotonic tail */
    static const struct {
        int dv;   /* timestamp: ict[i] + dv */
        int i, v; /* expected version */
    } q[] = {{0, 2, 2}, {1, 2, 2}, {-1, 3, 2}, {0, 3, 3}, {100000, 3, 3}};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        lks_delta_snapshot *s = NULL;
        CHECK_OK(lks_delta_snapshot_at_timestamp(x.t, ict[q[i].i] + q[i].dv, &s, &err), &err);
        if (s) CHECK_EQ_INT(s->version, q[i].v);
        if (s && q[i].v == 3) CHECK_EQ_INT(s->timestamp, ict[3]);
        lks_delta_snapshot_free(s);
    }
    lks_delta_snapshot *s = NULL;
    int64_t min = ict[0];
    for (int v = 1; v < 4; v++)
        if (ict[v] < min) min = ict[v];
    CHECK_EQ_INT(lks_delta_snapshot_at_timestamp(x.t, min - 1, &s, &err), LKS_ENOTFOUND);
    CHECK(strstr(err.msg, "earliest") != NULL);
    tbl_close(&x);
}

int main(void) {
    RUN(t_action_protocol_metadata);
    RUN(t_action_add_remove);
    RUN(t_action_other_kinds);
    RUN(t_action_malformed);
    RUN(t_schema_parse_roundtrip);
    RUN(t_schema_errors);
    RUN(t_schema_to_parquet);
    RUN(t_log_names);
    RUN(t_table_key);
    RUN(t_replay_rules);
    RUN(t_timestamps_mtime);
    RUN(t_long_log);
    RUN(t_corpus_all);
    RUN(t_corpus_checkpoint_vs_commits);
    RUN(t_corpus_time_travel);
    RUN(t_corpus_last_checkpoint);
    RUN(t_corpus_checkpoint_kinds);
    RUN(t_corpus_app_txn);
    RUN(t_corpus_ict);
    return lks_test_done();
}
