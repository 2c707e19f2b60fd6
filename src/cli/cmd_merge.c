/* cmd_merge.c — `lakesync merge`: raw change events (Debezium JSON in the
 * S3-sink layout, or straight from Kafka topics) into Delta tables as
 * UPSERTs, exactly once. */
#include "cli/cli.h"
#include "merge/merge.h"
#include "transport/kafka.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char usage_text[] =
    "usage: lakesync merge --from RAW (--to TABLE | --warehouse WH) [--topic T]\n"
    "                      [--key COL[,COL]...] [--schema FILE] [--table-property K=V]...\n"
    "                      [--once | --interval MS] [--dead-letter PREFIX]\n"
    "                      [--batch-events N] [--topics-dir DIR]\n"
    "       lakesync merge --from kafka://HOST:PORT[,HOST:PORT...]/TOPIC[,TOPIC...]\n"
    "                      (--to TABLE | --warehouse WH) [--group ID] [--interval MS]\n"
    "                      [--once] [-c FILE] [-o KEY=VALUE]... [other options as above]\n"
    "\n"
    "Reads the change events a Confluent S3 sink (or `lakesync sink`) wrote under\n"
    "RAW/topics/<topic>/partition=<p>/<topic>+<p>+<offset>.json[.gz] and applies\n"
    "them to Delta tables as UPSERTs: the latest event per primary key wins, `c`,\n"
    "`u` and `r` upsert their after image, `d` deletes, `t` empties the table.\n"
    "Each commit stores, per topic-partition, the next offset to read (a `txn`\n"
    "action \"lakesync:<topic>:<p>\") with the data, so a merge that is stopped or\n"
    "killed continues exactly where the table stands: nothing is lost or applied\n"
    "twice.  Tombstones and records that are no row change are passed over.\n"
    "\n"
    "  --from RAW           the location that holds topics/ (the sink's topics.dir)\n"
    "  --to TABLE           one target table (the table's root directory); the raw\n"
    "                       zone must then hold one topic, or --topic picks it\n"
    "  --warehouse WH       maps each topic <prefix>.<db>.<table> to WH/<db>/<table>\n"
    "  --topic T            merge only topic T\n"
    "  --key COLS           primary-key columns, comma-separated.  Default: the table\n"
    "                       property lakesync.primaryKey, else the PRIMARY KEY of a\n"
    "                       --schema CREATE TABLE, else the stored Kafka keys\n"
    "                       (the sink's store.kafka.keys layout)\n"
    "  --schema FILE        creates the table before the first merge (when it does not\n"
    "                       exist) with these columns, which are also the types of\n"
    "                       events without the schema envelope.  FILE holds a Delta\n"
    "                       schema JSON ({\"type\":\"struct\",...}) or a MySQL\n"
    "                       CREATE TABLE statement (below)\n"
    "  --table-property K=V applied when the merge creates a table, e.g.\n"
    "                       delta.enableDeletionVectors=true (deletes mark rows\n"
    "                       instead of rewriting files)\n"
    "  --once               one pass: merge what is there and exit (the default)\n"
    "  --interval MS        pass after pass, sleeping MS milliseconds between them,\n"
    "                       until SIGINT/SIGTERM (the batch being read is committed,\n"
    "                       then exit 0)\n"
    "  --dead-letter PREFIX records that cannot be decoded (not JSON, strings not\n"
    "                       UTF-8, a value of the wrong type, no key) go to\n"
    "                       RAW/PREFIX/<topic>+<p>+<offset>.json (their position, the\n"
    "                       error, the raw key and value) and the merge goes on;\n"
    "                       without it such a record stops the merge with an error\n"
    "                       naming the object and line\n"
    "  --batch-events N     commit at least every N records (default 1000000)\n"
    "  --topics-dir DIR     the folder under RAW that holds the topics (default topics)\n"
    "\n"
    "Events without the schema envelope (the S3 sink's JSON format drops it) get their\n"
    "types from the existing table, else from --schema, else by inference (integer →\n"
    "long, number with a fraction → double, string → string, boolean → boolean,\n"
    "object/array → JSON text).  A precise-mode DECIMAL whose scale is unknown is\n"
    "refused, never guessed.\n"
    "\n"
    "CREATE TABLE: the column list is read, with NOT NULL and PRIMARY KEY (inline or\n"
    "as a clause); indexes, constraints and table options are ignored.  Types:\n"
    "TINYINT/SMALLINT/MEDIUMINT/INT/INTEGER/BIGINT [UNSIGNED], DECIMAL/NUMERIC(p,s),\n"
    "FLOAT, DOUBLE [PRECISION], REAL, BIT(n), BOOL/BOOLEAN, DATE, DATETIME(fsp),\n"
    "TIMESTAMP(fsp), TIME(fsp), YEAR, CHAR, VARCHAR, TINYTEXT/TEXT/MEDIUMTEXT/LONGTEXT,\n"
    "ENUM, SET, BINARY, VARBINARY, TINYBLOB/BLOB/MEDIUMBLOB/LONGBLOB, JSON and the\n"
    "spatial types, mapped to Delta as DESIGN.md's table says (BIGINT UNSIGNED →\n"
    "decimal(20,0), DATETIME → timestamp, TIME → long microseconds, ...).  The MySQL\n"
    "type is kept in the column's metadata (lakesync.sourceType), which tells\n"
    "DATETIME(3) milliseconds from DATETIME(6) microseconds in events without schema.\n"
    "\n"
    "From Kafka (streaming merge): the topics are consumed directly and committed\n"
    "to Delta every --interval MS (default 1000) with one `txn` action per\n"
    "topic-partition (\"lakesync:<topic>:<p>\", the next offset: the same positions\n"
    "the raw-zone merge keeps, so the two can take turns).  On start and on every\n"
    "rebalance the consumer seeks to the positions the tables hold (Kafka's committed\n"
    "offsets are written only as a hint for lag monitoring), and before partitions\n"
    "move to another member what was read from them is committed: several merges\n"
    "in one group (--group, default lakesync-merge) share the partitions, nothing is\n"
    "applied twice or skipped.  Runs until SIGINT/SIGTERM; --once reads up to the\n"
    "end offsets seen at start (without the group), commits and exits.\n"
    "  -c FILE, -o KEY=VALUE  kafka.* properties for librdkafka (security, SASL,\n"
    "                       timeouts: see `lakesync config list`); Amazon MSK IAM:\n"
    "                       kafka.aws.msk.iam=true [kafka.aws.region=REGION]\n"
    "  --dead-letter PREFIX goes under the --to or --warehouse location\n"
    "\n"
    "Prints one line per committed batch: records read, upserts, deletes, files\n"
    "added/removed/given a deletion vector, the version, the time taken; progress\n"
    "lines for long batches go to stderr.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

typedef struct mopts {
    const char *from, *to, *warehouse, *topic, *key, *schema, *dead_letter, *topics_dir;
    const char *group, *conf; /* Kafka */
    char **kov;               /* Kafka: -o KEY=VALUE */
    int nkov;
    const char **props;
    int nprops;
    int once;
    long long interval_ms; /* -1: once */
    long long batch_events;
} mopts;

/* ---- --schema ---------------------------------------------------------------------------------- */

/* A MySQL type (lowercase base name, numeric args, unsigned) → Delta type
 * text in out; 0 when unknown. */
static int mysql_to_delta(const char *base, int nargs, const int *args, int unsig, char *out, size_t cap) {
#define IS(lit) (strcmp(base, lit) == 0)
    const char *t = NULL;
    if (IS("tinyint"))
        t = unsig ? "short" : "byte";
    else if (IS("smallint"))
        t = unsig ? "integer" : "short";
    else if (IS("mediumint"))
        t = "integer";
    else if (IS("int") || IS("integer"))
        t = unsig ? "long" : "integer";
    else if (IS("bigint"))
        t = unsig ? "decimal(20,0)" : "long";
    else if (IS("decimal") || IS("numeric") || IS("dec") || IS("fixed")) {
        int p = nargs > 0 ? args[0] : 10, s = nargs > 1 ? args[1] : 0;
        if (p > 38)
            t = "string";
        else {
            snprintf(out, cap, "decimal(%d,%d)", p, s);
            return 1;
        }
    } else if (IS("float"))
        t = nargs > 0 && args[0] > 24 ? "double" : "float";
    else if (IS("double") || IS("real"))
        t = "double";
    else if (IS("bit"))
        t = nargs > 0 && args[0] > 1 ? "binary" : "boolean";
    else if (IS("bool") || IS("boolean"))
        t = "boolean";
    else if (IS("date"))
        t = "date";
    else if (IS("datetime") || IS("timestamp"))
        t = "timestamp";
    else if (IS("time"))
        t = "long";
    else if (IS("year"))
        t = "short";
    else if (IS("char") || IS("varchar") || IS("tinytext") || IS("text") || IS("mediumtext") || IS("longtext") ||
             IS("enum") || IS("set") || IS("json") || IS("nchar") || IS("nvarchar"))
        t = "string";
    else if (IS("binary") || IS("varbinary") || IS("tinyblob") || IS("blob") || IS("mediumblob") || IS("longblob") ||
             IS("geometry") || IS("point") || IS("linestring") || IS("polygon") || IS("multipoint") ||
             IS("multilinestring") || IS("multipolygon") || IS("geometrycollection"))
        t = "binary";
#undef IS
    if (!t)
        return 0;
    snprintf(out, cap, "%s", t);
    return 1;
}

/* Skips spaces and SQL comments. */
static const char *sp(const char *p) {
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '#') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* An identifier (`quoted`, "quoted" or bare) → copied into out. */
static const char *ident(const char *p, char *out, size_t cap) {
    size_t n = 0;
    if (*p == '`' || *p == '"') {
        char q = *p++;
        while (*p && !(*p == q && p[1] != q)) {
            if (*p == q)
                p++; /* doubled quote */
            if (n + 1 < cap)
                out[n++] = *p;
            p++;
        }
        if (*p == q)
            p++;
    } else {
        while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '$' || (unsigned char)*p >= 0x80)) {
            if (n + 1 < cap)
                out[n++] = *p;
            p++;
        }
    }
    out[n] = 0;
    return p;
}

/* Case-insensitive keyword at p (followed by a non-identifier character). */
static int kw(const char *p, const char *word) {
    size_t n = strlen(word);
    return strncasecmp(p, word, n) == 0 && !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

/* End of one item of the column list (a top-level ',' or ')'), quotes and
 * parentheses respected. */
static const char *item_end(const char *p) {
    int depth = 0;
    while (*p) {
        if (*p == '\'' || *p == '"' || *p == '`') {
            char q = *p++;
            while (*p && *p != q) {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p)
                p++;
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')') {
            if (depth == 0)
                return p;
            depth--;
        } else if (*p == ',' && depth == 0)
            return p;
        p++;
    }
    return p;
}

/* Searches a keyword pair ("primary key", "not null") in [p, end) outside quotes. */
static int has_words(const char *p, const char *end, const char *w1, const char *w2) {
    const char *start = p;
    while (p < end) {
        if (*p == '\'' || *p == '"' || *p == '`') {
            char q = *p++;
            while (p < end && *p != q) {
                if (*p == '\\' && p + 1 < end)
                    p++;
                p++;
            }
            p++;
            continue;
        }
        if ((p == start || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) && kw(p, w1)) {
            const char *q = sp(p + strlen(w1));
            if (!w2 || kw(q, w2))
                return 1;
        }
        p++;
    }
    return 0;
}

/* "(a, `b`)" → names appended to keys ("a,b"). */
static void key_list(const char *p, const char *end, lks_buf *keys) {
    p = strchr(p, '(');
    if (!p || p >= end)
        return;
    p++;
    while (p < end) {
        p = sp(p);
        if (*p == ')' || p >= end)
            break;
        char name[256];
        p = ident(p, name, sizeof name);
        if (!name[0])
            break;
        if (keys->len)
            lks_buf_append_byte(keys, ',');
        lks_buf_append(keys, name, strlen(name));
        p = sp(p);
        if (*p == '(') { /* prefix length */
            while (p < end && *p != ')')
                p++;
            p++;
            p = sp(p);
        }
        if (kw(p, "asc") || kw(p, "desc"))
            p = sp(p + (tolower((unsigned char)*p) == 'a' ? 3 : 4));
        if (*p == ',')
            p++;
        else
            break;
    }
}

/* CREATE TABLE → Delta schemaString in js, primary-key names ("a,b") in
 * keys.  Returns 0, or -1 with a message in msg. */
static int create_table_schema(const char *sql, lks_buf *js, lks_buf *keys, char *msg, size_t msgcap) {
    const char *p = sp(sql);
    if (!kw(p, "create")) {
        snprintf(msg, msgcap, "expected CREATE TABLE or a Delta schema JSON");
        return -1;
    }
    p = strchr(p, '(');
    if (!p) {
        snprintf(msg, msgcap, "CREATE TABLE without a column list");
        return -1;
    }
    p++;
    lks_buf_printf(js, "{\"type\":\"struct\",\"fields\":[");
    int ncols = 0;
    for (;;) {
        p = sp(p);
        const char *end = item_end(p);
        if (kw(p, "primary")) {
            key_list(p, end, keys);
        } else if (kw(p, "constraint")) {
            if (has_words(p, end, "primary", "key"))
                key_list(p, end, keys);
        } else if (kw(p, "key") || kw(p, "index") || kw(p, "unique") || kw(p, "foreign") || kw(p, "fulltext") ||
                   kw(p, "spatial") || kw(p, "check") || kw(p, "period")) {
            /* not a column */
        } else if (p < end) {
            char name[256], base[64];
            const char *q = ident(p, name, sizeof name);
            if (!name[0]) {
                snprintf(msg, msgcap, "cannot read a column name near \"%.20s\"", p);
                return -1;
            }
            q = sp(q);
            size_t n = 0;
            while (isalpha((unsigned char)*q) && n + 1 < sizeof base)
                base[n++] = (char)tolower((unsigned char)*q++);
            base[n] = 0;
            if (strcmp(base, "double") == 0 && kw(sp(q), "precision"))
                q = sp(q) + 9;
            if (strcmp(base, "national") == 0 || strcmp(base, "long") == 0) { /* NATIONAL CHAR, LONG VARCHAR */
                const char *r = sp(q);
                n = 0;
                while (isalpha((unsigned char)*r) && n + 1 < sizeof base)
                    base[n++] = (char)tolower((unsigned char)*r++);
                base[n] = 0;
                if (strcmp(base, "varbinary") != 0 && strcmp(base, "blob") != 0)
                    snprintf(base, sizeof base, "varchar");
                q = r;
            }
            int args[2] = {0, 0}, nargs = 0;
            q = sp(q);
            if (*q == '(') {
                const char *r = q + 1;
                while (nargs < 2) {
                    r = sp(r);
                    if (!isdigit((unsigned char)*r))
                        break;
                    args[nargs++] = atoi(r);
                    while (isdigit((unsigned char)*r))
                        r++;
                    r = sp(r);
                    if (*r != ',')
                        break;
                    r++;
                }
                q = item_end(q + 1); /* the closing ')' of the arguments */
                if (*q == ')')
                    q++;
            }
            q = sp(q);
            int unsig = 0;
            while (kw(q, "unsigned") || kw(q, "signed") || kw(q, "zerofill")) {
                unsig |= kw(q, "unsigned");
                q = sp(q + (kw(q, "unsigned") ? 8 : kw(q, "signed") ? 6 : 8));
            }
            char dt[48];
            if (!mysql_to_delta(base, nargs, args, unsig, dt, sizeof dt)) {
                snprintf(msg, msgcap, "column %.64s: type %.32s is not supported (see lakesync merge --help)", name,
                         base[0] ? base : "(none)");
                return -1;
            }
            int not_null = has_words(q, end, "not", "null");
            if (has_words(q, end, "primary", "key")) {
                if (keys->len)
                    lks_buf_append_byte(keys, ',');
                lks_buf_append(keys, name, strlen(name));
                not_null = 1;
            }
            char srct[96];
            if (nargs == 2)
                snprintf(srct, sizeof srct, "%s(%d,%d)%s", base, args[0], args[1], unsig ? " unsigned" : "");
            else if (nargs == 1)
                snprintf(srct, sizeof srct, "%s(%d)%s", base, args[0], unsig ? " unsigned" : "");
            else
                snprintf(srct, sizeof srct, "%s%s", base, unsig ? " unsigned" : "");
            if (ncols++)
                lks_buf_append_byte(js, ',');
            lks_buf_printf(js, "{\"name\":");
            lks_json_quote(js, name, strlen(name));
            lks_buf_printf(js, ",\"type\":\"%s\",\"nullable\":%s,\"metadata\":{\"lakesync.sourceType\":", dt,
                           not_null ? "false" : "true");
            lks_json_quote(js, srct, strlen(srct));
            lks_buf_printf(js, "}}");
        }
        p = end;
        if (*p != ',')
            break;
        p++;
    }
    if (*p != ')') {
        snprintf(msg, msgcap, "the column list does not end with ')'");
        return -1;
    }
    if (ncols == 0) {
        snprintf(msg, msgcap, "CREATE TABLE without columns");
        return -1;
    }
    lks_buf_printf(js, "]}");
    return 0;
}

/* Reads FILE → schemaString JSON (and PRIMARY KEY names of a CREATE TABLE). */
static int read_schema(const char *file, lks_buf *js, lks_buf *keys) {
    FILE *f = fopen(file, "rb");
    if (!f)
        return lks_cli_errorf("cannot open --schema %s: %s", file, strerror(errno));
    lks_buf text;
    lks_buf_init(&text, (size_t)16 << 20);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lks_buf_append(&text, chunk, n) != LKS_OK) {
            fclose(f);
            return lks_cli_errorf("--schema %s: too big", file);
        }
    fclose(f);
    if (lks_buf_cstr(&text) != LKS_OK)
        return lks_cli_errorf("out of memory");
    const char *p = sp((const char *)text.ptr);
    int rc = LKS_EXIT_OK;
    if (*p == '{') {
        lks_buf_append(js, p, strlen(p));
    } else {
        char msg[256];
        if (create_table_schema(p, js, keys, msg, sizeof msg) != 0)
            rc = lks_cli_usage_error("merge", "--schema %s: %s", file, msg);
    }
    lks_buf_free(&text);
    if (rc == LKS_EXIT_OK && lks_buf_cstr(js) != LKS_OK)
        return lks_cli_errorf("out of memory");
    if (rc == LKS_EXIT_OK && lks_buf_cstr(keys) != LKS_OK)
        return lks_cli_errorf("out of memory");
    return rc;
}

/* Creates the table at prefix of st when it has no log yet. */
static int create_if_absent(lks_store *st, const char *prefix, const char *schema_json, const lks_delta_kv *props,
                            int nprops, const char *keys, const char *where) {
    lks_err err = {0};
    lks_delta_table *t = NULL;
    lks_delta_snapshot *snap = NULL;
    lks_delta_txn *txn = NULL;
    lks_arena a;
    lks_arena_init(&a, 0);
    int rc = lks_delta_table_open(st, prefix, &t, &err);
    if (rc == LKS_OK) {
        rc = lks_delta_snapshot_latest(t, &snap, &err);
        if (rc == LKS_OK) { /* exists: its own schema wins */
            lks_delta_snapshot_free(snap);
            lks_delta_table_close(t);
            lks_arena_free(&a);
            return LKS_EXIT_OK;
        }
        if (rc == LKS_ENOTFOUND)
            rc = LKS_OK;
    }
    lks_delta_type *schema = NULL;
    if (rc == LKS_OK)
        rc = lks_delta_schema_parse(schema_json, strlen(schema_json), &a, &schema, &err);
    if (rc != LKS_OK) {
        lks_delta_table_close(t);
        lks_arena_free(&a);
        return lks_cli_error(&err);
    }
    lks_delta_kv *conf = lks_arena_alloc(&a, sizeof *conf * (size_t)(nprops + 1));
    int nconf = 0, dv = 0, has_pk = 0;
    for (int i = 0; i < nprops; i++) {
        conf[nconf++] = props[i];
        dv |= strcmp(props[i].key, "delta.enableDeletionVectors") == 0 && props[i].value &&
              strcmp(props[i].value, "true") == 0;
        has_pk |= strcmp(props[i].key, "lakesync.primaryKey") == 0;
    }
    if (!has_pk && keys && *keys)
        conf[nconf++] = (lks_delta_kv){"lakesync.primaryKey", keys};
    lks_delta_metadata m = {0};
    char id[37];
    lks_uuid4(id);
    m.id = id;
    m.format_provider = "parquet";
    m.schema_string = schema_json;
    m.schema = schema;
    m.created_time = lks_now_us() / 1000;
    m.configuration = conf;
    m.nconfiguration = nconf;
    static const char *dv_features[] = {"deletionVectors"};
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    if (dv)
        p = (lks_delta_protocol){3, 7, dv_features, 1, dv_features, 1};
    int64_t version = -1;
    if ((rc = lks_delta_txn_begin(t, NULL, "CREATE TABLE", &txn, &err)) == LKS_OK &&
        (rc = lks_delta_txn_set_protocol(txn, &p)) == LKS_OK && (rc = lks_delta_txn_set_metadata(txn, &m)) == LKS_OK)
        rc = lks_delta_txn_commit(txn, 1, &version, &err);
    lks_delta_txn_free(txn);
    lks_delta_table_close(t);
    lks_arena_free(&a);
    if (rc != LKS_OK)
        return lks_cli_error(&err);
    fprintf(stderr, "lakesync merge: created table %s (protocol %d/%d)\n", where, p.min_reader, p.min_writer);
    return LKS_EXIT_OK;
}

/* ---- output ------------------------------------------------------------------------------------- */

typedef struct outctx {
    int batches;
    int failed_write;
} outctx;

static void on_progress(void *ud, const lks_merge_stats *st, int committed, double elapsed) {
    outctx *oc = ud;
    if (!committed) {
        fprintf(stderr, "lakesync merge: ... %lld records read, %lld keys held, %.1f s\n", (long long)st->events,
                (long long)st->upserts, elapsed);
        return;
    }
    oc->batches++;
    if (printf("batch: %lld events, %lld upserts, %lld deletes%s, files +%lld -%lld dv %lld, version %lld%s, "
               "%.3f s\n",
               (long long)st->events, (long long)st->upserts, (long long)st->deletes,
               st->truncates ? " (truncated)" : "", (long long)st->files_added, (long long)st->files_removed,
               (long long)st->files_dv, (long long)st->version, st->created ? " (created)" : "", elapsed) < 0)
        oc->failed_write = 1;
    fflush(stdout);
}

/* "<prefix>.<db>.<table>" → "<db>/<table>"; 0 when the topic has another form. */
static int topic_prefix(const char *topic, char *out, size_t cap) {
    const char *last = strrchr(topic, '.');
    if (!last || last == topic || !last[1])
        return 0;
    const char *db = last - 1;
    while (db > topic && *db != '.')
        db--;
    if (*db != '.' || db + 1 == last)
        return 0;
    db++;
    snprintf(out, cap, "%.*s/%s", (int)(last - db), db, last + 1);
    return lks_store_check_key(out, NULL) == LKS_OK;
}

/* The streaming merge: runs until a signal, or with --once to the end
 * offsets seen at start. */
static int kafka_merge(const mopts *mo, const lks_config *cfg, const char *bootstrap, const char **topics,
                       int ntopics, const lks_merge_rawzone_opts *m, lks_store *dst, outctx *oc) {
    lks_err err = {0};
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_kafka_merge_opts ko;
    memset(&ko, 0, sizeof ko);
    int rc = lks_kafka_opts_from_config(cfg, 0, &a, &ko.k, &err);
    if (rc) {
        lks_arena_free(&a);
        return lks_cli_error(&err);
    }
    ko.k.bootstrap = bootstrap;
    ko.topics = topics;
    ko.ntopics = ntopics;
    ko.group = mo->group;
    ko.once = mo->once;
    ko.interval_ms = mo->interval_ms >= 0 ? mo->interval_ms : 1000;
    ko.m = *m;
    ko.dead_store = dst;
    lks_merge_stats tot;
    int r = lks_kafka_merge(&ko, &tot, &err);
    lks_arena_free(&a);
    if (oc->failed_write)
        return lks_cli_errorf("write error on stdout");
    if (r != LKS_OK) {
        rc = lks_cli_error(&err);
        return rc == LKS_EXIT_USAGE && r != LKS_ECONFIG && r != LKS_EINVAL ? LKS_EXIT_ERR : rc;
    }
    if (oc->batches == 0)
        printf("up to date: no new records\n");
    else if (oc->batches > 1)
        printf("total: %lld events in %d batches\n", (long long)tot.events, oc->batches);
    return LKS_EXIT_OK;
}

static int run(const mopts *mo) {
    lks_err err = {0};
    lks_store *raw = NULL, *dst = NULL;
    lks_delta_table *t = NULL;
    lks_buf js, keybuf;
    lks_buf_init(&js, 0);
    lks_buf_init(&keybuf, 0);
    lks_arena a;
    lks_arena_init(&a, 0);
    int rc = LKS_EXIT_OK;
    lks_config *kcfg = NULL;
    char *kboot = NULL;
    const char **ktopics = NULL;
    int nktopics = 0;
    int kafka = lks_kafka_parse_url(mo->from, &a, &kboot, &ktopics, &nktopics, &err);
    if (kafka < 0) {
        rc = lks_cli_usage_error("merge", "--from %s", err.msg);
        goto done;
    }
    if (!kafka && (mo->group || mo->conf || mo->nkov)) {
        rc = lks_cli_usage_error("merge", "--group, -c and -o are for --from kafka://...");
        goto done;
    }
    if (kafka && mo->topic) {
        rc = lks_cli_usage_error("merge", "--topic: name the topics in the kafka:// URL");
        goto done;
    }
    if (kafka && (rc = lks_cli_load_config(mo->conf, mo->kov, mo->nkov, &kcfg)) != LKS_EXIT_OK)
        goto done;
    if (mo->schema && (rc = read_schema(mo->schema, &js, &keybuf)) != LKS_EXIT_OK)
        goto done;
    if ((!kafka && lks_store_open(mo->from, &raw, &err) != LKS_OK) ||
        lks_store_open(mo->to ? mo->to : mo->warehouse, &dst, &err) != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    /* table properties */
    lks_delta_kv *props = lks_arena_alloc(&a, sizeof *props * (size_t)(mo->nprops + 1));
    for (int i = 0; i < mo->nprops; i++) {
        const char *eq = strchr(mo->props[i], '=');
        if (!eq || eq == mo->props[i]) {
            rc = lks_cli_usage_error("merge", "--table-property needs KEY=VALUE, not '%s'", mo->props[i]);
            goto done;
        }
        props[i].key = lks_arena_strndup(&a, mo->props[i], (size_t)(eq - mo->props[i]));
        props[i].value = eq + 1;
    }
    /* key columns: --key, else the CREATE TABLE's PRIMARY KEY */
    const char *keys = mo->key ? mo->key : keybuf.len ? (const char *)keybuf.ptr : NULL;
    const char **kv = NULL;
    int nk = 0;
    if (keys) {
        char *copy = lks_arena_strdup(&a, keys);
        kv = lks_arena_alloc(&a, sizeof *kv * (strlen(keys) + 1));
        for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
            while (*tok == ' ')
                tok++;
            char *e = tok + strlen(tok);
            while (e > tok && e[-1] == ' ')
                *--e = 0;
            if (*tok)
                kv[nk++] = tok;
        }
    }
    /* the table --schema creates */
    if (mo->schema) {
        char prefix[1024] = "";
        const char *stopic = kafka ? ktopics[0] : mo->topic;
        if (mo->warehouse && kafka && nktopics > 1) {
            rc = lks_cli_usage_error("merge", "--schema with --warehouse takes one topic (the table it describes)");
            goto done;
        }
        if (mo->warehouse && !topic_prefix(stopic, prefix, sizeof prefix)) {
            rc = lks_cli_usage_error("merge", "--topic %s is not <prefix>.<db>.<table>", stopic);
            goto done;
        }
        char where[2048];
        snprintf(where, sizeof where, "%s%s%s", mo->to ? mo->to : mo->warehouse, prefix[0] ? "/" : "", prefix);
        if ((rc = create_if_absent(dst, prefix, (const char *)js.ptr, props, mo->nprops, keys, where)) != LKS_EXIT_OK)
            goto done;
    }
    if (mo->to && lks_delta_table_open(dst, "", &t, &err) != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    outctx oc = {0};
    lks_merge_rawzone_opts o = {0};
    o.merge.key_columns = kv;
    o.merge.nkey_columns = nk;
    o.merge.table_properties = props;
    o.merge.ntable_properties = mo->nprops;
    o.topics_dir = mo->topics_dir;
    o.topic = mo->topic;
    o.warehouse = mo->warehouse ? dst : NULL;
    o.table = t;
    o.max_batch_events = mo->batch_events;
    o.dead_letter = mo->dead_letter;
    o.progress = on_progress;
    o.progress_ud = &oc;
    o.stop = &stop_flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (kafka) {
        rc = kafka_merge(mo, kcfg, kboot, ktopics, nktopics, &o, dst, &oc);
        goto done;
    }
    for (;;) {
        lks_merge_stats tot;
        int before = oc.batches;
        int r = lks_merge_rawzone(raw, &o, &tot, &err);
        if (oc.failed_write) {
            rc = lks_cli_errorf("write error on stdout");
            break;
        }
        if (r != LKS_OK) {
            if (mo->interval_ms >= 0 && r == LKS_ECONFLICT) {
                lks_log(LKS_LOG_WARN, "merge", "%s (retrying at the next pass)", err.msg);
            } else {
                rc = lks_cli_error(&err);
                if (rc == LKS_EXIT_USAGE && r != LKS_ECONFIG)
                    rc = LKS_EXIT_ERR; /* a bad record is a runtime failure, not a bad command line */
                break;
            }
        }
        if (mo->interval_ms < 0) {
            if (oc.batches == before)
                printf("up to date: no new records\n");
            else if (oc.batches - before > 1)
                printf(mo->to ? "total: %lld events in %d batches, version %lld\n"
                              : "total: %lld events in %d batches\n",
                       (long long)tot.events, oc.batches - before, (long long)tot.version);
            break;
        }
        if (stop_flag)
            break;
        /* sleep in slices so a signal ends the wait promptly */
        long long left = mo->interval_ms;
        while (left > 0 && !stop_flag) {
            long long slice = left > 200 ? 200 : left;
            struct timespec ts = {(time_t)(slice / 1000), (long)(slice % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            left -= slice;
        }
        if (stop_flag)
            break;
    }
done:
    lks_config_free(kcfg);
    lks_delta_table_close(t);
    if (raw)
        lks_store_close(raw);
    if (dst)
        lks_store_close(dst);
    lks_buf_free(&js);
    lks_buf_free(&keybuf);
    lks_arena_free(&a);
    return rc;
}

int lks_cmd_merge(int argc, char **argv) {
    mopts mo = {.interval_ms = -1, .batch_events = 0};
    mo.props = calloc((size_t)argc + 1, sizeof(char *));
    mo.kov = calloc((size_t)argc + 1, sizeof(char *));
    if (!mo.props || !mo.kov) {
        free(mo.props);
        free(mo.kov);
        return lks_cli_errorf("out of memory");
    }
    int rc = LKS_EXIT_OK, once = 0;
    for (int i = 1; i < argc && rc == LKS_EXIT_OK; i++) {
        const char *v;
        int m;
        if (lks_cli_is_help(argv[i])) {
            fputs(usage_text, stdout);
            free(mo.props);
            free(mo.kov);
            return LKS_EXIT_OK;
        }
        if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--from", &v)) != 0)
            mo.from = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--to", &v)) != 0)
            mo.to = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--warehouse", &v)) != 0)
            mo.warehouse = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--topic", &v)) != 0)
            mo.topic = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--key", &v)) != 0)
            mo.key = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--schema", &v)) != 0)
            mo.schema = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--dead-letter", &v)) != 0)
            mo.dead_letter = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--topics-dir", &v)) != 0)
            mo.topics_dir = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--group", &v)) != 0)
            mo.group = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "-c", &v)) != 0 ||
                 (m = lks_cli_opt_value("merge", argc, argv, &i, "--config", &v)) != 0)
            mo.conf = v;
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "-o", &v)) != 0) {
            if (m > 0)
                mo.kov[mo.nkov++] = (char *)v;
        }
        else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--table-property", &v)) != 0) {
            if (m > 0)
                mo.props[mo.nprops++] = v;
        } else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--interval", &v)) != 0) {
            char *end;
            if (m > 0) {
                mo.interval_ms = strtoll(v, &end, 10);
                if (*v == 0 || *end || mo.interval_ms < 0)
                    rc = lks_cli_usage_error("merge", "--interval needs milliseconds, not '%s'", v);
            }
        } else if ((m = lks_cli_opt_value("merge", argc, argv, &i, "--batch-events", &v)) != 0) {
            char *end;
            if (m > 0) {
                mo.batch_events = strtoll(v, &end, 10);
                if (*v == 0 || *end || mo.batch_events <= 0)
                    rc = lks_cli_usage_error("merge", "--batch-events needs a positive count, not '%s'", v);
            }
        } else if (strcmp(argv[i], "--once") == 0) {
            once = 1;
            m = 1;
        } else if (argv[i][0] == '-') {
            rc = lks_cli_usage_error("merge", "unknown option '%s'", argv[i]);
            m = 1;
        } else {
            rc = lks_cli_usage_error("merge", "unexpected argument '%s'", argv[i]);
            m = 1;
        }
        if (m < 0)
            rc = LKS_EXIT_USAGE;
    }
    if (rc == LKS_EXIT_OK) {
        if (argc < 2)
            rc = lks_cli_usage_error("merge", "needs --from and --to or --warehouse");
        else if (!mo.from)
            rc = lks_cli_usage_error("merge", "needs --from RAW (the location holding topics/)");
        else if (!mo.to == !mo.warehouse)
            rc = lks_cli_usage_error("merge", "give one of --to TABLE or --warehouse WH");
        else if (once && mo.interval_ms >= 0)
            rc = lks_cli_usage_error("merge", "give --once or --interval, not both");
        else if (mo.schema && mo.warehouse && !mo.topic && strncmp(mo.from, "kafka://", 8) != 0)
            rc = lks_cli_usage_error("merge", "--schema with --warehouse needs --topic (the table it describes)");
    }
    mo.once = once;
    if (rc == LKS_EXIT_OK)
        rc = run(&mo);
    free(mo.props);
    free(mo.kov);
    return rc;
}
