/* cmd_parquet.c — `lakesync parquet schema|meta|cat FILE`: look inside
 * Parquet files. */
#include "cli/cli.h"
#include "parquet/compress.h"
#include "parquet/parquet.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: lakesync parquet schema FILE\n"
    "       lakesync parquet meta [--format text|jsonl] FILE\n"
    "       lakesync parquet cat [--format jsonl|csv|table] [--columns A,B.C] [--limit N] FILE\n"
    "\n"
    "Looks inside a Parquet file.\n"
    "  schema   the schema as a Parquet message type\n"
    "  meta     file, row group and column chunk metadata: codecs, encodings,\n"
    "           sizes, statistics (text, or one JSON object per column chunk)\n"
    "  cat      the rows; --format jsonl prints one JSON object per row with the\n"
    "           value conventions of DESIGN.md (\"Rows as text\"); csv and table\n"
    "           print top-level fields, nested values as JSON. Default: table on\n"
    "           a terminal, jsonl otherwise.\n"
    "  --columns  only these top-level fields or dotted leaf paths (comma-separated)\n"
    "  --limit    stop after N rows\n";

typedef struct pqfile {
    lks_pq_source src;
    lks_pq_reader *r;
    int opened;
} pqfile;

static int open_file(pqfile *f, const char *path, lks_err *err) {
    memset(f, 0, sizeof *f);
    int rc = lks_pq_source_file(&f->src, path, err);
    if (rc != LKS_OK)
        return rc;
    f->opened = 1;
    return lks_pq_reader_open(&f->src, NULL, &f->r, err);
}

static void close_file(pqfile *f) {
    lks_pq_reader_free(f->r);
    if (f->opened)
        lks_pq_source_close(&f->src);
}

/* ---- schema -------------------------------------------------------------------------- */

static const char *type_name(int t) {
    static const char *const names[] = {"boolean", "int32", "int64", "int96", "float", "double", "binary",
                                        "fixed_len_byte_array"};
    return t >= 0 && t <= 7 ? names[t] : "?";
}

static void logical_text(lks_buf *b, const lks_pq_logical *lt) {
    static const char *const units[] = {"?", "MILLIS", "MICROS", "NANOS"};
    const char *unit = lt->unit <= 3 ? units[lt->unit] : "?";
    switch (lt->kind) {
    case LKS_PQ_LT_NONE: return;
    case LKS_PQ_LT_STRING: lks_buf_printf(b, " (STRING)"); return;
    case LKS_PQ_LT_MAP: lks_buf_printf(b, " (MAP)"); return;
    case LKS_PQ_LT_LIST: lks_buf_printf(b, " (LIST)"); return;
    case LKS_PQ_LT_ENUM: lks_buf_printf(b, " (ENUM)"); return;
    case LKS_PQ_LT_DECIMAL: lks_buf_printf(b, " (DECIMAL(%d,%d))", lt->precision, lt->scale); return;
    case LKS_PQ_LT_DATE: lks_buf_printf(b, " (DATE)"); return;
    case LKS_PQ_LT_TIME: lks_buf_printf(b, " (TIME(%s,%s))", unit, lt->utc ? "true" : "false"); return;
    case LKS_PQ_LT_TIMESTAMP: lks_buf_printf(b, " (TIMESTAMP(%s,%s))", unit, lt->utc ? "true" : "false"); return;
    case LKS_PQ_LT_INTEGER: lks_buf_printf(b, " (INTEGER(%d,%s))", lt->bit_width, lt->is_signed ? "true" : "false");
        return;
    case LKS_PQ_LT_UNKNOWN: lks_buf_printf(b, " (UNKNOWN)"); return;
    case LKS_PQ_LT_JSON: lks_buf_printf(b, " (JSON)"); return;
    case LKS_PQ_LT_BSON: lks_buf_printf(b, " (BSON)"); return;
    case LKS_PQ_LT_UUID: lks_buf_printf(b, " (UUID)"); return;
    case LKS_PQ_LT_FLOAT16: lks_buf_printf(b, " (FLOAT16)"); return;
    default: lks_buf_printf(b, " (logical type %d)", lt->kind); return;
    }
}

static int print_field(lks_buf *b, const lks_pq_schema *s, int f, int depth) {
    const lks_pq_field *fd = &s->fields[f];
    static const char *const reps[] = {"required", "optional", "repeated"};
    for (int i = 0; i < depth; i++)
        lks_buf_printf(b, "  ");
    const char *rep = fd->repetition >= 0 && fd->repetition <= 2 ? reps[fd->repetition] : "?";
    if (fd->type < 0) {
        lks_buf_printf(b, "%s group %s", rep, fd->name);
        logical_text(b, &fd->logical);
        if (fd->field_id >= 0)
            lks_buf_printf(b, " = %d", fd->field_id);
        lks_buf_printf(b, " {\n");
        int child = f + 1;
        for (int k = 0; k < fd->num_children; k++)
            child = print_field(b, s, child, depth + 1);
        for (int i = 0; i < depth; i++)
            lks_buf_printf(b, "  ");
        lks_buf_printf(b, "}\n");
        return child;
    }
    lks_buf_printf(b, "%s %s", rep, type_name(fd->type));
    if (fd->type == LKS_PQ_FIXED_LEN_BYTE_ARRAY)
        lks_buf_printf(b, "(%d)", fd->type_length);
    lks_buf_printf(b, " %s", fd->name);
    logical_text(b, &fd->logical);
    if (fd->field_id >= 0)
        lks_buf_printf(b, " = %d", fd->field_id);
    lks_buf_printf(b, ";\n");
    return f + 1;
}

static int cmd_schema(const char *path) {
    pqfile f;
    lks_err err = {0};
    if (open_file(&f, path, &err) != LKS_OK) {
        close_file(&f);
        return lks_cli_error(&err);
    }
    const lks_pq_schema *s = lks_pq_reader_schema(f.r);
    lks_buf b;
    lks_buf_init(&b, 0);
    lks_buf_printf(&b, "message %s {\n", s->fields[0].name);
    int child = 1;
    for (int k = 0; k < s->fields[0].num_children; k++)
        child = print_field(&b, s, child, 1);
    lks_buf_printf(&b, "}\n");
    int rc = lks_cli_write(stdout, &b);
    lks_buf_free(&b);
    close_file(&f);
    return rc;
}

/* ---- meta -------------------------------------------------------------------------------- */

static const char *enc_text(int e) {
    static const char *const names[] = {"PLAIN", "?", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                                        "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e <= 9 ? names[e] : "?";
}

static void stat_json(lks_buf *b, const lks_pq_schema *s, int col, const lks_pq_value *v) {
    size_t at = b->len;
    if (lks_pq_value_to_json(b, s, s->cols[col].field, v) != LKS_OK) {
        b->len = at;
        lks_buf_printf(b, "\"?\"");
    }
}

static int cmd_meta(const char *path, int json) {
    pqfile f;
    lks_err err = {0};
    if (open_file(&f, path, &err) != LKS_OK) {
        close_file(&f);
        return lks_cli_error(&err);
    }
    const lks_pq_file_meta *fm = lks_pq_reader_meta(f.r);
    const lks_pq_schema *s = lks_pq_reader_schema(f.r);
    lks_buf b;
    lks_buf_init(&b, 0);
    int rc = LKS_EXIT_OK;
    if (!json) {
        lks_buf_printf(&b, "file: %s\ncreated_by: %s\nversion: %d\nrows: %lld\nrow groups: %d\ncolumns: %d\n", path,
                       fm->created_by ? fm->created_by : "-", fm->version, (long long)fm->num_rows,
                       fm->num_row_groups, s->num_cols);
        for (int i = 0; i < fm->num_kv; i++) {
            const char *v = fm->kv[i].value ? fm->kv[i].value : "";
            size_t vl = strlen(v);
            lks_buf_printf(&b, "kv %s: %.*s%s\n", fm->kv[i].key, vl > 200 ? 200 : (int)vl, v,
                           vl > 200 ? "..." : "");
        }
    }
    for (int g = 0; g < fm->num_row_groups && rc == LKS_EXIT_OK; g++) {
        const lks_pq_row_group *rg = &fm->row_groups[g];
        if (!json)
            lks_buf_printf(&b, "row group %d: %lld rows, %lld bytes\n", g, (long long)rg->num_rows,
                           (long long)rg->total_byte_size);
        for (int c = 0; c < rg->num_columns; c++) {
            const lks_pq_column_chunk *cc = &rg->columns[c];
            const lks_pq_column_meta *cm = &cc->meta;
            lks_pq_minmax mm;
            lks_pq_chunk_stats(f.r, g, c, &mm);
            if (json) {
                lks_buf_printf(&b, "{\"row_group\":%d,\"column\":", g);
                lks_json_quote(&b, s->cols[c].path, strlen(s->cols[c].path));
                lks_buf_printf(&b, ",\"type\":\"%s\",\"codec\":\"%s\",\"values\":%lld,\"compressed\":%lld,"
                                   "\"uncompressed\":%lld,\"encodings\":[",
                               type_name(s->cols[c].type), lks_pq_codec_name(cm->codec), (long long)cm->num_values,
                               (long long)cm->total_compressed_size, (long long)cm->total_uncompressed_size);
                for (int e = 0; e < cm->num_encodings; e++)
                    lks_buf_printf(&b, "%s\"%s\"", e ? "," : "", enc_text(cm->encodings[e]));
                lks_buf_printf(&b, "],\"null_count\":");
                if (mm.null_count >= 0)
                    lks_buf_printf(&b, "%lld", (long long)mm.null_count);
                else
                    lks_buf_printf(&b, "null");
                lks_buf_printf(&b, ",\"min\":");
                if (mm.has_minmax)
                    stat_json(&b, s, c, &mm.min);
                else
                    lks_buf_printf(&b, "null");
                lks_buf_printf(&b, ",\"max\":");
                if (mm.has_minmax)
                    stat_json(&b, s, c, &mm.max);
                else
                    lks_buf_printf(&b, "null");
                lks_buf_printf(&b, ",\"bloom_filter\":%s}\n", cm->bloom_filter_offset >= 0 ? "true" : "false");
            } else {
                lks_buf_printf(&b, "  %s: %s %s, %lld values, %lld -> %lld bytes, encodings", s->cols[c].path,
                               type_name(s->cols[c].type), lks_pq_codec_name(cm->codec), (long long)cm->num_values,
                               (long long)cm->total_uncompressed_size, (long long)cm->total_compressed_size);
                for (int e = 0; e < cm->num_encodings; e++)
                    lks_buf_printf(&b, "%s%s", e ? "," : " ", enc_text(cm->encodings[e]));
                if (mm.null_count >= 0)
                    lks_buf_printf(&b, ", nulls %lld", (long long)mm.null_count);
                if (mm.has_minmax) {
                    lks_buf_printf(&b, ", min ");
                    stat_json(&b, s, c, &mm.min);
                    lks_buf_printf(&b, " max ");
                    stat_json(&b, s, c, &mm.max);
                }
                if (cm->bloom_filter_offset >= 0)
                    lks_buf_printf(&b, ", bloom filter");
                lks_buf_printf(&b, "\n");
            }
            if (b.len > 65536)
                rc = lks_cli_write(stdout, &b);
        }
    }
    if (rc == LKS_EXIT_OK)
        rc = lks_cli_write(stdout, &b);
    lks_buf_free(&b);
    close_file(&f);
    return rc;
}

/* ---- cat ------------------------------------------------------------------------------------ */

/* Selects the leaves named by a comma-separated list of fields/paths. */
static int select_columns(const lks_pq_schema *s, const char *list, int **cols, int *ncols) {
    *cols = calloc((size_t)s->num_cols + 1, sizeof(int));
    *ncols = 0;
    if (!*cols)
        return lks_cli_errorf("out of memory");
    uint8_t *sel = calloc((size_t)s->num_cols + 1, 1);
    if (!sel)
        return lks_cli_errorf("out of memory");
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (int c = 0; c < s->num_cols; c++) {
            const char *path = s->cols[c].path;
            if (strncmp(path, p, n) == 0 && (path[n] == 0 || path[n] == '.')) {
                sel[c] = 1;
                found = 1;
            }
        }
        if (!found) {
            free(sel);
            return lks_cli_usage_error("parquet", "no column '%.*s' in the file", (int)n, p);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    for (int c = 0; c < s->num_cols; c++)
        if (sel[c])
            (*cols)[(*ncols)++] = c;
    free(sel);
    return LKS_EXIT_OK;
}

static int cmd_cat(const char *path, int fmt, const char *columns, long long limit) {
    pqfile f;
    lks_err err = {0};
    if (open_file(&f, path, &err) != LKS_OK) {
        close_file(&f);
        return lks_cli_error(&err);
    }
    const lks_pq_schema *s = lks_pq_reader_schema(f.r);
    int *cols = NULL, ncols = 0;
    int rc = LKS_EXIT_OK;
    if (columns && (rc = select_columns(s, columns, &cols, &ncols)) != LKS_EXIT_OK) {
        free(cols);
        close_file(&f);
        return rc;
    }
    /* top-level fields shown: those with a selected leaf */
    int ntop = s->fields[0].num_children;
    uint8_t *shown = calloc((size_t)ntop + 1, 1);
    lks_pq_rows *it = NULL;
    lks_cli_rowout *out = NULL;
    if (!shown) {
        rc = lks_cli_errorf("out of memory");
        goto done;
    }
    for (int c = 0; c < s->num_cols; c++) {
        int on = !cols;
        for (int i = 0; cols && i < ncols; i++)
            on |= cols[i] == c;
        if (!on)
            continue;
        int fld = s->cols[c].field;
        while (s->parent[fld] > 0)
            fld = s->parent[fld];
        for (int k = 0, child = 1; k < ntop; k++) {
            if (child == fld)
                shown[k] = 1;
            child = lks_pq_schema_subtree_end(s, child);
        }
    }
    if (lks_pq_rows_open(f.r, cols, cols ? ncols : 0, &it, &err) != LKS_OK) {
        rc = lks_cli_error(&err);
        goto done;
    }
    if ((rc = lks_cli_rowout_open(s, shown, fmt, stdout, &out)) != LKS_EXIT_OK)
        goto done;
    for (long long n = 0; limit < 0 || n < limit; n++) {
        const lks_pq_value *row;
        int more = lks_pq_rows_next(it, &row, &err);
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
    lks_pq_rows_free(it);
    free(shown);
    free(cols);
    close_file(&f);
    return rc;
}

int lks_cmd_parquet(int argc, char **argv) {
    if (argc < 2 || lks_cli_is_help(argv[1])) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? LKS_EXIT_USAGE : LKS_EXIT_OK;
    }
    const char *sub = argv[1];
    int is_schema = strcmp(sub, "schema") == 0, is_meta = strcmp(sub, "meta") == 0, is_cat = strcmp(sub, "cat") == 0;
    if (!is_schema && !is_meta && !is_cat)
        return lks_cli_usage_error("parquet", "unknown subcommand '%s' (expected schema, meta or cat)", sub);
    const char *file = NULL, *format = NULL, *columns = NULL, *limit_s = NULL;
    for (int i = 2; i < argc; i++) {
        const char *v;
        int m;
        if (lks_cli_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return LKS_EXIT_OK;
        }
        if ((m = lks_cli_opt_value("parquet", argc, argv, &i, "--format", &v)) != 0) {
            if (m < 0)
                return LKS_EXIT_USAGE;
            format = v;
        } else if (is_cat && (m = lks_cli_opt_value("parquet", argc, argv, &i, "--columns", &v)) != 0) {
            if (m < 0)
                return LKS_EXIT_USAGE;
            columns = v;
        } else if (is_cat && (m = lks_cli_opt_value("parquet", argc, argv, &i, "--limit", &v)) != 0) {
            if (m < 0)
                return LKS_EXIT_USAGE;
            limit_s = v;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            return lks_cli_usage_error("parquet", "unknown option '%s'", argv[i]);
        } else if (file) {
            return lks_cli_usage_error("parquet", "one FILE only");
        } else {
            file = argv[i];
        }
    }
    if (!file)
        return lks_cli_usage_error("parquet", "%s needs a FILE", sub);
    if (is_schema) {
        if (format)
            return lks_cli_usage_error("parquet", "schema has no --format");
        return cmd_schema(file);
    }
    if (is_meta) {
        int json = 0;
        if (format && strcmp(format, "jsonl") == 0)
            json = 1;
        else if (format && strcmp(format, "text") != 0)
            return lks_cli_usage_error("parquet", "unknown --format '%s' (expected text or jsonl)", format);
        return cmd_meta(file, json);
    }
    int fmt = isatty(1) ? LKS_FMT_TABLE : LKS_FMT_JSONL;
    if (format && lks_cli_parse_format("parquet", format, &fmt) != LKS_EXIT_OK)
        return LKS_EXIT_USAGE;
    long long limit = -1;
    if (limit_s) {
        char *end;
        limit = strtoll(limit_s, &end, 10);
        if (*limit_s == 0 || *end != 0 || limit < 0)
            return lks_cli_usage_error("parquet", "--limit needs a non-negative integer, not '%s'", limit_s);
    }
    return cmd_cat(file, fmt, columns, limit);
}
