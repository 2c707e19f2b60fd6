/* cmd_table.c — `lakesync table …`: look at and maintain Delta tables. */
#include "cli/cli.h"
#include "delta/delta.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: lakesync table describe  TABLE [--version N | --timestamp T]\n"
    "       lakesync table history   TABLE [--limit N] [--format table|jsonl]\n"
    "       lakesync table files     TABLE [--version N | --timestamp T] [--format table|jsonl]\n"
    "       lakesync table scan      TABLE [--version N | --timestamp T] [--format jsonl|csv|table]\n"
    "                                      [--columns A,B] [--limit N]\n"
    "       lakesync table create    TABLE --schema SCHEMA [--partition-by A,B] [--property K=V]...\n"
    "       lakesync table checkpoint TABLE\n"
    "       lakesync table vacuum    TABLE [--retain HOURS] [--dry-run] [--force]\n"
    "       lakesync table optimize  TABLE [--target-size BYTES]\n"
    "\n"
    "TABLE is the table's root (a directory, file:///URI or s3://bucket/prefix),\n"
    "the one that holds _delta_log/.  --version reads the table as of version N;\n"
    "--timestamp as of a time (\"2024-05-01 12:00:00\", UTC unless it carries an\n"
    "offset): the latest version committed at or before it.\n"
    "\n"
    "  describe    version, protocol, schema, partitioning, properties, size\n"
    "  history     the commits still in the log, newest first\n"
    "  files       the live data files with partition values, sizes, row counts\n"
    "              and deletion vectors\n"
    "  scan        the rows (DESIGN.md \"Rows as text\" with --format jsonl)\n"
    "  create      a new empty table (version 0).  SCHEMA is a Delta schema JSON\n"
    "              or a list like \"id long not null, name string, amount\n"
    "              decimal(12,2), ts timestamp\"; --property\n"
    "              delta.enableDeletionVectors=true makes a table whose merges\n"
    "              mark deleted rows (reader 3 / writer 7)\n"
    "  checkpoint  writes a checkpoint of the latest version\n"
    "  vacuum      deletes data files the table no longer references\n"
    "  optimize    rewrites small files into fewer, bigger ones\n"
    "\n"
    "`lakesync table vacuum --help` and `lakesync table optimize --help` say more.\n";

static const char vacuum_help[] =
    "usage: lakesync table vacuum TABLE [--retain HOURS] [--dry-run] [--force]\n"
    "\n"
    "Deletes the data files under the table root that the latest version does\n"
    "not reference (neither a live file, nor a deletion vector of one, nor a\n"
    "file removed less than the retention ago) and that were last modified more\n"
    "than the retention ago.  _delta_log/ and hidden files and folders (names\n"
    "starting with '_' or '.') are never touched, but for the temporary files\n"
    "(.NAME.tmp.PID.HEX) of lakesync writers killed mid-write, which go once\n"
    "older than the retention; on S3 such writers' unfinished multipart uploads\n"
    "under the table begun more than the retention ago are aborted.  Deleted files\n"
    "cannot be read by time travel to the versions that used them.\n"
    "\n"
    "  --retain HOURS  retention (default: the table property\n"
    "                  delta.deletedFileRetentionDuration, else 168 hours = 7 days)\n"
    "  --dry-run       only list the files that would be deleted\n"
    "  --force         allow a retention below that default; files a running\n"
    "                  writer has not committed yet may be deleted\n"
    "\n"
    "Prints each file (path relative to the table, size) and a total.\n";

static const char optimize_help[] =
    "usage: lakesync table optimize TABLE [--target-size BYTES]\n"
    "\n"
    "Bin-packs small data files: per partition, files smaller than 3/4 of the\n"
    "target size are grouped into bins of at most the target size and each bin\n"
    "is rewritten as new files (rows deleted by deletion vectors dropped), in\n"
    "one OPTIMIZE commit whose actions carry dataChange=false.  Earlier versions\n"
    "stay readable by time travel until VACUUM removes the old files.  A\n"
    "concurrent commit that deletes from a file being rewritten makes one of the\n"
    "two fail with a conflict; concurrent appends do not.\n"
    "\n"
    "  --target-size BYTES  target file size (suffixes k, m, g accepted; default:\n"
    "                       the table property delta.targetFileSize, else 128 MiB)\n"
    "\n"
    "Prints the files removed and added, with their total sizes.\n";

typedef struct tabopts {
    const char *uri;
    int64_t version;  /* -1: latest */
    int64_t ts_ms;    /* -1: none */
    int fmt, fmt_set;
    const char *columns;
    long long limit;
    const char *schema;
    const char *partition_by;
    const char **props;
    int nprops;
    int64_t retain_hours; /* -1: the table's default */
    int dry_run, force;
    int64_t target_size;  /* 0: the table's default */
} tabopts;

typedef struct tab {
    lks_store *st;
    lks_delta_table *t;
    lks_delta_snapshot *snap;
} tab;

static void tab_close(tab *x) {
    lks_delta_snapshot_free(x->snap);
    lks_delta_table_close(x->t);
    if (x->st)
        lks_store_close(x->st);
}

static int tab_open(tab *x, const tabopts *o, int need_snapshot, lks_err *err) {
    memset(x, 0, sizeof *x);
    int rc = lks_store_open(o->uri, &x->st, err);
    if (rc == LKS_OK)
        rc = lks_delta_table_open(x->st, "", &x->t, err);
    if (rc != LKS_OK || !need_snapshot)
        return rc;
    if (o->version >= 0)
        return lks_delta_snapshot_at_version(x->t, o->version, &x->snap, err);
    if (o->ts_ms >= 0)
        return lks_delta_snapshot_at_timestamp(x->t, o->ts_ms, &x->snap, err);
    return lks_delta_snapshot_latest(x->t, &x->snap, err);
}

static void fmt_ms(char *out, int64_t ms) {
    int n = lks_fmt_timestamp_us(out, ms * 1000, 0);
    /* "…SS.ffffff" → "…SS.fffZ" */
    if (n > 3)
        out[n - 3] = 0;
    strcat(out, "Z");
}

static const char *type_text(const lks_delta_type *ty, char *buf, size_t n) {
    static const char *const names[] = {"?", "string", "long", "integer", "short", "byte", "float", "double",
                                        "decimal", "boolean", "binary", "date", "timestamp", "timestamp_ntz",
                                        "void", "struct", "array", "map"};
    if (ty->kind == LKS_DT_DECIMAL)
        snprintf(buf, n, "decimal(%d,%d)", ty->precision, ty->scale);
    else
        snprintf(buf, n, "%s", ty->kind > 0 && ty->kind <= LKS_DT_MAP ? names[ty->kind] : "?");
    return buf;
}

static void print_type(lks_buf *b, const lks_delta_type *ty, int depth) {
    char tb[48];
    for (int i = 0; i < ty->nchildren; i++) {
        const lks_delta_type *c = &ty->children[i];
        for (int k = 0; k < depth; k++)
            lks_buf_printf(b, "  ");
        const char *label = c->name ? c->name
                            : ty->kind == LKS_DT_ARRAY ? "element"
                            : i == 0                   ? "key"
                                                       : "value";
        lks_buf_printf(b, "%s: %s%s", label, type_text(c, tb, sizeof tb), c->nullable ? "" : " not null");
        if (c->physical_name)
            lks_buf_printf(b, " (physical name %s)", c->physical_name);
        lks_buf_printf(b, "\n");
        if (c->nchildren)
            print_type(b, c, depth + 1);
    }
}

/* numRecords from an add's stats JSON, -1 when absent. */
static int64_t stats_records(const char *stats) {
    if (!stats)
        return -1;
    const char *p = strstr(stats, "\"numRecords\"");
    if (!p)
        return -1;
    p += 12;
    while (*p == ' ' || *p == ':')
        p++;
    char *end;
    long long v = strtoll(p, &end, 10);
    return end == p ? -1 : v;
}

static int cmd_describe(const tabopts *o) {
    tab x;
    lks_err err = {0};
    if (tab_open(&x, o, 1, &err) != LKS_OK) {
        tab_close(&x);
        return lks_cli_error(&err);
    }
    const lks_delta_snapshot *s = x.snap;
    lks_buf b;
    lks_buf_init(&b, 0);
    char ts[48];
    fmt_ms(ts, s->timestamp);
    lks_buf_printf(&b, "table: %s\nversion: %lld (%s)\n", o->uri, (long long)s->version, ts);
    lks_buf_printf(&b, "protocol: reader %d, writer %d", s->protocol.min_reader, s->protocol.min_writer);
    for (int i = 0; i < s->protocol.nreader_features; i++)
        lks_buf_printf(&b, "%s%s", i ? ", " : "; reader features: ", s->protocol.reader_features[i]);
    for (int i = 0; i < s->protocol.nwriter_features; i++)
        lks_buf_printf(&b, "%s%s", i ? ", " : "; writer features: ", s->protocol.writer_features[i]);
    lks_buf_printf(&b, "\nid: %s\n", s->metadata.id ? s->metadata.id : "-");
    if (s->metadata.name)
        lks_buf_printf(&b, "name: %s\n", s->metadata.name);
    if (s->metadata.description)
        lks_buf_printf(&b, "description: %s\n", s->metadata.description);
    lks_buf_printf(&b, "partition columns:");
    for (int i = 0; i < s->metadata.npartition_columns; i++)
        lks_buf_printf(&b, "%s%s", i ? ", " : " ", s->metadata.partition_columns[i]);
    lks_buf_printf(&b, "%s\n", s->metadata.npartition_columns ? "" : " none");
    for (int i = 0; i < s->metadata.nconfiguration; i++)
        lks_buf_printf(&b, "property %s=%s\n", s->metadata.configuration[i].key,
                       s->metadata.configuration[i].value ? s->metadata.configuration[i].value : "");
    int64_t bytes = 0, records = 0, deleted = 0;
    int records_known = 1;
    for (size_t i = 0; i < s->nfiles; i++) {
        bytes += s->files[i].size;
        int64_t r = stats_records(s->files[i].stats);
        if (r < 0)
            records_known = 0;
        else
            records += r;
        if (s->files[i].has_dv)
            deleted += s->files[i].dv.cardinality;
    }
    lks_buf_printf(&b, "files: %zu, %lld bytes", s->nfiles, (long long)bytes);
    if (records_known)
        lks_buf_printf(&b, ", %lld rows", (long long)(records - deleted));
    if (deleted)
        lks_buf_printf(&b, " (%lld deleted by deletion vectors)", (long long)deleted);
    lks_buf_printf(&b, "\n");
    if (s->checkpoint_version >= 0)
        lks_buf_printf(&b, "read from checkpoint: %lld\n", (long long)s->checkpoint_version);
    for (size_t i = 0; i < s->ntxns; i++)
        lks_buf_printf(&b, "application %s: version %lld\n", s->txns[i].app_id, (long long)s->txns[i].version);
    lks_buf_printf(&b, "schema:\n");
    if (s->metadata.schema)
        print_type(&b, s->metadata.schema, 1);
    int rc = lks_cli_write(stdout, &b);
    lks_buf_free(&b);
    tab_close(&x);
    return rc;
}

typedef struct hist_ctx {
    lks_buf b;
    int json;
    int rc;
} hist_ctx;

static int on_commit(void *ud, const lks_delta_commit *c) {
    hist_ctx *h = ud;
    char ts[48];
    fmt_ms(ts, c->timestamp);
    if (h->json) {
        lks_buf_printf(&h->b, "{\"version\":%lld,\"timestamp\":\"%s\",\"operation\":", (long long)c->version, ts);
        if (c->operation)
            lks_json_quote(&h->b, c->operation, strlen(c->operation));
        else
            lks_buf_printf(&h->b, "null");
        lks_buf_printf(&h->b, ",\"add\":%lld,\"remove\":%lld,\"commitInfo\":%s}\n", (long long)c->nadd,
                       (long long)c->nremove, c->commit_info_json ? c->commit_info_json : "null");
    } else {
        lks_buf_printf(&h->b, "%-8lld %-24s %-20s +%lld -%lld files\n", (long long)c->version, ts,
                       c->operation ? c->operation : "-", (long long)c->nadd, (long long)c->nremove);
    }
    if (h->b.len > 65536 && (h->rc = lks_cli_write(stdout, &h->b)) != LKS_EXIT_OK)
        return 1;
    return 0;
}

static int cmd_history(const tabopts *o) {
    tab x;
    lks_err err = {0};
    if (tab_open(&x, o, 0, &err) != LKS_OK) {
        tab_close(&x);
        return lks_cli_error(&err);
    }
    hist_ctx h = {.json = o->fmt == LKS_FMT_JSONL, .rc = LKS_EXIT_OK};
    lks_buf_init(&h.b, 0);
    if (!h.json)
        lks_buf_printf(&h.b, "%-8s %-24s %-20s %s\n", "version", "timestamp", "operation", "files");
    int rc = lks_delta_history(x.t, o->limit > 0 ? o->limit : 0, on_commit, &h, &err);
    if (rc != LKS_OK)
        h.rc = lks_cli_error(&err);
    else if (h.rc == LKS_EXIT_OK)
        h.rc = lks_cli_write(stdout, &h.b);
    lks_buf_free(&h.b);
    tab_close(&x);
    return h.rc;
}

static int cmd_files(const tabopts *o) {
    tab x;
    lks_err err = {0};
    if (tab_open(&x, o, 1, &err) != LKS_OK) {
        tab_close(&x);
        return lks_cli_error(&err);
    }
    const lks_delta_snapshot *s = x.snap;
    lks_buf b;
    lks_buf_init(&b, 0);
    int json = o->fmt == LKS_FMT_JSONL;
    int rc = LKS_EXIT_OK;
    for (size_t i = 0; i < s->nfiles && rc == LKS_EXIT_OK; i++) {
        const lks_delta_add *f = &s->files[i];
        int64_t rec = stats_records(f->stats);
        if (json) {
            lks_buf_printf(&b, "{\"path\":");
            lks_json_quote(&b, f->path, strlen(f->path));
            lks_buf_printf(&b, ",\"size\":%lld,\"rows\":", (long long)f->size);
            if (rec >= 0)
                lks_buf_printf(&b, "%lld", (long long)rec);
            else
                lks_buf_printf(&b, "null");
            lks_buf_printf(&b, ",\"deleted_rows\":%lld,\"partition_values\":{",
                           (long long)(f->has_dv ? f->dv.cardinality : 0));
            for (int k = 0; k < f->npartition_values; k++) {
                if (k)
                    lks_buf_append_byte(&b, ',');
                lks_json_quote(&b, f->partition_values[k].key, strlen(f->partition_values[k].key));
                lks_buf_append_byte(&b, ':');
                if (f->partition_values[k].value)
                    lks_json_quote(&b, f->partition_values[k].value, strlen(f->partition_values[k].value));
                else
                    lks_buf_printf(&b, "null");
            }
            lks_buf_printf(&b, "}}\n");
        } else {
            lks_buf_printf(&b, "%s  %lld bytes", f->path, (long long)f->size);
            if (rec >= 0)
                lks_buf_printf(&b, ", %lld rows", (long long)rec);
            if (f->has_dv)
                lks_buf_printf(&b, ", %lld deleted", (long long)f->dv.cardinality);
            for (int k = 0; k < f->npartition_values; k++)
                lks_buf_printf(&b, "%s%s=%s", k ? ", " : "  [", f->partition_values[k].key,
                               f->partition_values[k].value ? f->partition_values[k].value : "null");
            lks_buf_printf(&b, "%s\n", f->npartition_values ? "]" : "");
        }
        if (b.len > 65536)
            rc = lks_cli_write(stdout, &b);
    }
    if (rc == LKS_EXIT_OK)
        rc = lks_cli_write(stdout, &b);
    lks_buf_free(&b);
    tab_close(&x);
    return rc;
}

static int cmd_scan(const tabopts *o) {
    tab x;
    lks_err err = {0};
    if (tab_open(&x, o, 1, &err) != LKS_OK) {
        tab_close(&x);
        return lks_cli_error(&err);
    }
    const char **cols = NULL;
    int ncols = 0;
    char *colbuf = NULL;
    if (o->columns) {
        colbuf = strdup(o->columns);
        cols = calloc(strlen(o->columns) + 1, sizeof(char *));
        if (!colbuf || !cols) {
            free(colbuf);
            free(cols);
            tab_close(&x);
            return lks_cli_errorf("out of memory");
        }
        for (char *tok = strtok(colbuf, ","); tok; tok = strtok(NULL, ","))
            cols[ncols++] = tok;
    }
    lks_delta_scan_opts so = {.columns = cols, .ncolumns = ncols};
    lks_delta_scan *sc = NULL;
    lks_cli_rowout *out = NULL;
    uint8_t *shown = NULL;
    int rc;
    if (lks_delta_scan_open(x.t, x.snap, &so, &sc, &err) != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    const lks_pq_schema *s = lks_delta_scan_schema(sc);
    int ntop = s->fields[0].num_children;
    shown = calloc((size_t)ntop + 1, 1);
    if (!shown) {
        rc = lks_cli_errorf("out of memory");
        goto done;
    }
    for (int k = 0, child = 1; k < ntop; k++) {
        int on = !cols;
        for (int i = 0; i < ncols; i++)
            on |= strcmp(cols[i], s->fields[child].name) == 0;
        shown[k] = (uint8_t)on;
        child = lks_pq_schema_subtree_end(s, child);
    }
    if ((rc = lks_cli_rowout_open(s, shown, o->fmt, stdout, &out)) != LKS_EXIT_OK)
        goto done;
    for (long long n = 0; o->limit < 0 || n < o->limit; n++) {
        const lks_pq_value *row;
        int more = lks_delta_scan_next(sc, &row, &err);
        if (more < 0) {
            lks_cli_rowout_finish(out);
            rc = lks_cli_error(&err);
            goto done;
        }
        if (!more)
            break;
        if ((rc = lks_cli_rowout_row(out, row)) != LKS_EXIT_OK)
            goto done;
    }
    rc = lks_cli_rowout_finish(out);
done:
    lks_cli_rowout_free(out);
    lks_delta_scan_free(sc);
    free(shown);
    free(cols);
    free(colbuf);
    tab_close(&x);
    return rc;
}

/* "id long not null, amount decimal(12,2)" → schemaString JSON. */
static int simple_schema_json(const char *spec, lks_buf *b) {
    lks_buf_printf(b, "{\"type\":\"struct\",\"fields\":[");
    const char *p = spec;
    int first = 1;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *name = p;
        while (*p && *p != ' ')
            p++;
        size_t nlen = (size_t)(p - name);
        while (*p == ' ')
            p++;
        const char *type = p;
        int depth = 0;
        while (*p && (depth > 0 || (*p != ',' && *p != ' '))) {
            depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
            p++;
        }
        size_t tlen = (size_t)(p - type);
        while (*p == ' ')
            p++;
        int not_null = 0;
        if (strncmp(p, "not null", 8) == 0) {
            not_null = 1;
            p += 8;
        }
        while (*p == ' ')
            p++;
        if (*p && *p != ',')
            return -1;
        if (nlen == 0 || tlen == 0)
            return -1;
        if (!first)
            lks_buf_append_byte(b, ',');
        first = 0;
        lks_buf_printf(b, "{\"name\":");
        lks_json_quote(b, name, nlen);
        lks_buf_printf(b, ",\"type\":");
        lks_json_quote(b, type, tlen);
        lks_buf_printf(b, ",\"nullable\":%s,\"metadata\":{}}", not_null ? "false" : "true");
    }
    lks_buf_printf(b, "]}");
    return first ? -1 : 0;
}

static int cmd_create(const tabopts *o) {
    if (!o->schema)
        return lks_cli_usage_error("table", "create needs --schema");
    lks_buf sj;
    lks_buf_init(&sj, 0);
    const char *sp = o->schema;
    while (*sp == ' ')
        sp++;
    if (*sp == '{')
        lks_buf_append(&sj, sp, strlen(sp));
    else if (simple_schema_json(sp, &sj) != 0) {
        lks_buf_free(&sj);
        return lks_cli_usage_error("table", "cannot read --schema '%s' (expected JSON or \"name type [not null], ...\")",
                                   o->schema);
    }
    lks_buf_cstr(&sj);
    lks_err err = {0};
    lks_arena a;
    lks_arena_init(&a, 0);
    lks_delta_type *schema = NULL;
    int rc = lks_delta_schema_parse((const char *)sj.ptr, sj.len, &a, &schema, &err);
    tab x = {0};
    lks_delta_txn *txn = NULL;
    if (rc != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    lks_delta_metadata m = {0};
    char id[37];
    lks_uuid4(id);
    m.id = id;
    m.format_provider = "parquet";
    m.schema_string = (const char *)sj.ptr;
    m.schema = schema;
    m.created_time = lks_now_us() / 1000;
    const char *parts[64];
    char *pbuf = o->partition_by ? lks_arena_strdup(&a, o->partition_by) : NULL;
    if (pbuf)
        for (char *tok = strtok(pbuf, ","); tok && m.npartition_columns < 64; tok = strtok(NULL, ","))
            parts[m.npartition_columns++] = tok;
    m.partition_columns = parts;
    for (int i = 0; i < m.npartition_columns; i++) {
        int found = 0;
        for (int k = 0; k < schema->nchildren; k++)
            found |= strcmp(schema->children[k].name, parts[i]) == 0;
        if (!found) {
            rc = lks_cli_usage_error("table", "partition column '%s' is not in the schema", parts[i]);
            goto done;
        }
    }
    lks_delta_kv *conf = lks_arena_alloc(&a, sizeof *conf * (size_t)(o->nprops + 1));
    int dv = 0;
    for (int i = 0; i < o->nprops; i++) {
        const char *eq = strchr(o->props[i], '=');
        if (!eq) {
            rc = lks_cli_usage_error("table", "--property needs KEY=VALUE, not '%s'", o->props[i]);
            goto done;
        }
        conf[i].key = lks_arena_strndup(&a, o->props[i], (size_t)(eq - o->props[i]));
        conf[i].value = eq + 1;
        if (strcmp(conf[i].key, "delta.enableDeletionVectors") == 0 && strcmp(eq + 1, "true") == 0)
            dv = 1;
    }
    m.configuration = conf;
    m.nconfiguration = o->nprops;
    static const char *dv_features[] = {"deletionVectors"};
    lks_delta_protocol p = {1, 2, NULL, 0, NULL, 0};
    if (dv)
        p = (lks_delta_protocol){3, 7, dv_features, 1, dv_features, 1};
    if ((rc = tab_open(&x, o, 0, &err)) != LKS_OK || (rc = lks_delta_txn_begin(x.t, NULL, "CREATE TABLE", &txn, &err)) != LKS_OK ||
        (rc = lks_delta_txn_set_protocol(txn, &p)) != LKS_OK || (rc = lks_delta_txn_set_metadata(txn, &m)) != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    int64_t version = -1;
    if (lks_delta_txn_commit(txn, 1, &version, &err) != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    printf("created %s (version %lld, protocol %d/%d)\n", o->uri, (long long)version, p.min_reader, p.min_writer);
    rc = LKS_EXIT_OK;
done:
    lks_delta_txn_free(txn);
    tab_close(&x);
    lks_arena_free(&a);
    lks_buf_free(&sj);
    return rc;
}

static int cmd_checkpoint(const tabopts *o) {
    tab x;
    lks_err err = {0};
    if (tab_open(&x, o, 1, &err) != LKS_OK || lks_delta_checkpoint_write(x.t, x.snap, &err) != LKS_OK) {
        tab_close(&x);
        return lks_cli_error(&err);
    }
    printf("checkpoint written at version %lld\n", (long long)x.snap->version);
    tab_close(&x);
    return LKS_EXIT_OK;
}

typedef struct vac_print {
    lks_buf b;
    int dry_run;
    int rc;
} vac_print;

static int on_vacuum_file(void *ud, const char *path, int64_t size) {
    vac_print *p = ud;
    lks_buf_printf(&p->b, "%s%s  %lld bytes\n", p->dry_run ? "would delete " : "deleted ", path, (long long)size);
    if (p->b.len > 65536 && (p->rc = lks_cli_write(stdout, &p->b)) != LKS_EXIT_OK)
        return 1;
    return 0;
}

static int cmd_vacuum(const tabopts *o) {
    tab x;
    lks_err err = {0};
    if (tab_open(&x, o, 0, &err) != LKS_OK) {
        tab_close(&x);
        return lks_cli_error(&err);
    }
    vac_print p = {.dry_run = o->dry_run, .rc = LKS_EXIT_OK};
    lks_buf_init(&p.b, 0);
    lks_delta_vacuum_opts vo = {.retention_hours = o->retain_hours, .dry_run = o->dry_run, .force = o->force,
                                .on_file = on_vacuum_file, .ud = &p};
    lks_delta_vacuum_result r;
    int rc = lks_delta_vacuum(x.t, &vo, &r, &err);
    if (p.rc == LKS_EXIT_OK && (rc == LKS_OK || r.files > 0)) {
        lks_buf_printf(&p.b, "%s %lld files, %lld bytes", o->dry_run ? "would delete" : "deleted", (long long)r.files,
                       (long long)r.bytes);
        if (r.uploads)
            lks_buf_printf(&p.b, "; %s %lld unfinished uploads of killed writers", o->dry_run ? "would abort" : "aborted",
                           (long long)r.uploads);
        lks_buf_printf(&p.b, "\n");
        p.rc = lks_cli_write(stdout, &p.b);
    }
    if (rc != LKS_OK)
        p.rc = lks_cli_error(&err);
    lks_buf_free(&p.b);
    tab_close(&x);
    return p.rc;
}

static int cmd_optimize(const tabopts *o) {
    tab x;
    lks_err err = {0};
    if (tab_open(&x, o, 0, &err) != LKS_OK) {
        tab_close(&x);
        return lks_cli_error(&err);
    }
    lks_delta_optimize_opts oo = {.target_file_bytes = o->target_size};
    lks_delta_optimize_result r;
    int rc = lks_delta_optimize(x.t, &oo, &r, &err);
    tab_close(&x);
    if (rc != LKS_OK)
        return lks_cli_error(&err);
    if (r.version < 0)
        printf("nothing to optimize: no partition has two or more small files\n");
    else
        printf("version %lld: removed %lld files (%lld bytes), added %lld files (%lld bytes)\n", (long long)r.version,
               (long long)r.files_removed, (long long)r.bytes_before, (long long)r.files_added,
               (long long)r.bytes_after);
    return LKS_EXIT_OK;
}

/* "134217728", "128m", "64k", "1g" (optionally "…b", "…ib") → bytes; -1 otherwise. */
static int64_t parse_size(const char *s) {
    char *e;
    long long n = strtoll(s, &e, 10);
    if (e == s || n <= 0)
        return -1;
    int64_t mul = 1;
    if (*e) {
        switch (*e | 0x20) {
        case 'k': mul = (int64_t)1 << 10; break;
        case 'm': mul = (int64_t)1 << 20; break;
        case 'g': mul = (int64_t)1 << 30; break;
        case 'b': break;
        default: return -1;
        }
        e++;
        if ((*e | 0x20) == 'i')
            e++;
        if ((*e | 0x20) == 'b')
            e++;
        if (*e)
            return -1;
    }
    return n > INT64_MAX / mul ? -1 : n * mul;
}

int lks_cmd_table(int argc, char **argv) {
    if (argc < 2 || lks_cli_is_help(argv[1])) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? LKS_EXIT_USAGE : LKS_EXIT_OK;
    }
    const char *sub = argv[1];
    static const char *const subs[] = {"describe", "history", "files",   "scan",
                                       "create",   "checkpoint", "vacuum", "optimize"};
    int which = -1;
    for (int i = 0; i < 8; i++)
        if (strcmp(sub, subs[i]) == 0)
            which = i;
    if (which < 0)
        return lks_cli_usage_error("table", "unknown subcommand '%s' (expected describe, history, files, scan, create, "
                                            "checkpoint, vacuum or optimize)", sub);
    tabopts o = {.version = -1, .ts_ms = -1, .limit = -1, .retain_hours = -1};
    o.fmt = which == 3 && isatty(1) ? LKS_FMT_TABLE : which == 3 ? LKS_FMT_JSONL : LKS_FMT_TABLE;
    o.props = calloc((size_t)argc, sizeof(char *));
    if (!o.props)
        return lks_cli_errorf("out of memory");
    int rc = LKS_EXIT_OK;
    for (int i = 2; i < argc && rc == LKS_EXIT_OK; i++) {
        const char *v;
        int m;
        if (lks_cli_is_help(argv[i])) {
            fputs(which == 6 ? vacuum_help : which == 7 ? optimize_help : usage_text, stdout);
            free(o.props);
            return LKS_EXIT_OK;
        }
        if ((m = lks_cli_opt_value("table", argc, argv, &i, "--version", &v)) != 0) {
            char *end;
            o.version = m < 0 ? -1 : strtoll(v, &end, 10);
            if (m < 0)
                rc = LKS_EXIT_USAGE;
            else if (*v == 0 || *end || o.version < 0)
                rc = lks_cli_usage_error("table", "--version needs a version number, not '%s'", v);
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--timestamp", &v)) != 0) {
            int64_t us;
            if (m < 0)
                rc = LKS_EXIT_USAGE;
            else if (lks_parse_timestamp_us(v, strlen(v), &us) != LKS_OK)
                rc = lks_cli_usage_error("table", "cannot read --timestamp '%s' (e.g. \"2024-05-01 12:00:00\")", v);
            else
                o.ts_ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--format", &v)) != 0) {
            rc = m < 0 ? LKS_EXIT_USAGE : lks_cli_parse_format("table", v, &o.fmt);
            o.fmt_set = 1;
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--columns", &v)) != 0) {
            o.columns = v;
            rc = m < 0 ? LKS_EXIT_USAGE : rc;
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--limit", &v)) != 0) {
            char *end;
            o.limit = m < 0 ? -1 : strtoll(v, &end, 10);
            if (m < 0)
                rc = LKS_EXIT_USAGE;
            else if (*v == 0 || *end || o.limit < 0)
                rc = lks_cli_usage_error("table", "--limit needs a non-negative integer, not '%s'", v);
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--schema", &v)) != 0) {
            o.schema = v;
            rc = m < 0 ? LKS_EXIT_USAGE : rc;
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--partition-by", &v)) != 0) {
            o.partition_by = v;
            rc = m < 0 ? LKS_EXIT_USAGE : rc;
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--property", &v)) != 0) {
            if (m > 0)
                o.props[o.nprops++] = v;
            rc = m < 0 ? LKS_EXIT_USAGE : rc;
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--retain", &v)) != 0) {
            char *end;
            o.retain_hours = m < 0 ? -1 : strtoll(v, &end, 10);
            if (m < 0)
                rc = LKS_EXIT_USAGE;
            else if (*v == 0 || *end || o.retain_hours < 0)
                rc = lks_cli_usage_error("table", "--retain needs a number of hours, not '%s'", v);
        } else if ((m = lks_cli_opt_value("table", argc, argv, &i, "--target-size", &v)) != 0) {
            o.target_size = m < 0 ? 0 : parse_size(v);
            if (m < 0)
                rc = LKS_EXIT_USAGE;
            else if (o.target_size <= 0)
                rc = lks_cli_usage_error("table", "--target-size needs a size in bytes (e.g. 134217728 or 128m), not '%s'",
                                         v);
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            o.dry_run = 1;
        } else if (strcmp(argv[i], "--force") == 0) {
            o.force = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = lks_cli_usage_error("table", "unknown option '%s'", argv[i]);
        } else if (o.uri) {
            rc = lks_cli_usage_error("table", "one TABLE only");
        } else {
            o.uri = argv[i];
        }
    }
    if (rc == LKS_EXIT_OK && !o.uri)
        rc = lks_cli_usage_error("table", "%s needs a TABLE", sub);
    if (rc == LKS_EXIT_OK && o.version >= 0 && o.ts_ms >= 0)
        rc = lks_cli_usage_error("table", "give --version or --timestamp, not both");
    if (rc == LKS_EXIT_OK) {
        switch (which) {
        case 0: rc = cmd_describe(&o); break;
        case 1: rc = cmd_history(&o); break;
        case 2: rc = cmd_files(&o); break;
        case 3: rc = cmd_scan(&o); break;
        case 4: rc = cmd_create(&o); break;
        case 5: rc = cmd_checkpoint(&o); break;
        case 6: rc = cmd_vacuum(&o); break;
        default: rc = cmd_optimize(&o); break;
        }
    }
    free(o.props);
    return rc;
}
