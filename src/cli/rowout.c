/* rowout.c — printing rows (value trees of a Parquet-form schema, or text
 * cells under column names, as SQL results come) as JSON lines, CSV or an
 * aligned table: what every row-printing command shares. */
#include "cli/cli.h"
#include "parquet/parquet.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_BATCH 200
#define TABLE_MAX_WIDTH 60

struct lks_cli_rowout {
    const lks_pq_schema *s; /* NULL: cells under `names` */
    char **names;           /* owned, when s is NULL */
    int fmt;
    FILE *f;
    int ntop;
    int *top;       /* field index of each top-level field */
    uint8_t *shown; /* per top-level field */
    lks_buf b, tmp, cells;
    size_t *cell_off, *widths;
    int batch, header_done;
    long long nrow;
};

static const char *col_name(const lks_cli_rowout *o, int k) {
    return o->s ? o->s->fields[o->top[k]].name : o->names[k];
}

/* Appends the text of a JSON string literal (without quotes, unescaped). */
static void json_unquote(lks_buf *b, const char *s, size_t n) {
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] != '\\') {
            lks_buf_append_byte(b, (uint8_t)s[i]);
            continue;
        }
        char e = s[++i];
        switch (e) {
        case 'n': lks_buf_append_byte(b, '\n'); break;
        case 't': lks_buf_append_byte(b, '\t'); break;
        case 'r': lks_buf_append_byte(b, '\r'); break;
        case 'b': lks_buf_append_byte(b, '\b'); break;
        case 'f': lks_buf_append_byte(b, '\f'); break;
        case 'u': {
            unsigned cp = 0;
            if (i + 4 < n)
                cp = (unsigned)strtoul((char[]){s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0}, NULL, 16);
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u') {
                unsigned lo = (unsigned)strtoul((char[]){s[i + 3], s[i + 4], s[i + 5], s[i + 6], 0}, NULL, 16);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
            if (cp < 0x80) {
                lks_buf_append_byte(b, (uint8_t)cp);
            } else if (cp < 0x800) {
                lks_buf_append_byte(b, (uint8_t)(0xc0 | cp >> 6));
                lks_buf_append_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
            } else if (cp < 0x10000) {
                lks_buf_append_byte(b, (uint8_t)(0xe0 | cp >> 12));
                lks_buf_append_byte(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
                lks_buf_append_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
            } else {
                lks_buf_append_byte(b, (uint8_t)(0xf0 | cp >> 18));
                lks_buf_append_byte(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
                lks_buf_append_byte(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
                lks_buf_append_byte(b, (uint8_t)(0x80 | (cp & 0x3f)));
            }
            break;
        }
        default: lks_buf_append_byte(b, (uint8_t)e); break;
        }
    }
}

/* Cell text of a top-level value for csv/table: strings bare, the rest JSON. */
static int cell_text(lks_cli_rowout *o, int f, const lks_pq_value *v) {
    lks_buf_reset(&o->tmp);
    if (v->kind == LKS_PQ_V_NULL)
        return LKS_OK;
    int rc = lks_pq_value_to_json(&o->tmp, o->s, f, v);
    if (rc != LKS_OK)
        return rc;
    if (o->tmp.len >= 2 && o->tmp.ptr[0] == '"')
        json_unquote(&o->cells, (const char *)o->tmp.ptr, o->tmp.len);
    else
        lks_buf_append(&o->cells, o->tmp.ptr, o->tmp.len);
    return LKS_OK;
}

/* Allocates o's per-column arrays for o->ntop columns and writes the CSV
 * header; shown NULL: all. */
static int rowout_init(lks_cli_rowout *o, const uint8_t *shown) {
    o->top = calloc((size_t)o->ntop + 1, sizeof(int));
    o->shown = calloc((size_t)o->ntop + 1, 1);
    o->cell_off = calloc((size_t)(TABLE_BATCH + 1) * (size_t)(o->ntop + 1), sizeof(size_t));
    o->widths = calloc((size_t)o->ntop + 1, sizeof(size_t));
    lks_buf_init(&o->b, 0);
    lks_buf_init(&o->tmp, 0);
    lks_buf_init(&o->cells, 0);
    if (!o->top || !o->shown || !o->cell_off || !o->widths)
        return lks_cli_errorf("out of memory");
    for (int k = 0; k < o->ntop; k++)
        o->shown[k] = shown ? shown[k] : 1;
    return LKS_EXIT_OK;
}

static void csv_header(lks_cli_rowout *o) {
    int first = 1;
    for (int k = 0; k < o->ntop; k++)
        if (o->shown[k]) {
            if (!first)
                lks_buf_append_byte(&o->b, ',');
            lks_cli_csv_field(&o->b, col_name(o, k), strlen(col_name(o, k)));
            first = 0;
        }
    lks_buf_append_byte(&o->b, '\n');
}

int lks_cli_rowout_open(const lks_pq_schema *s, const uint8_t *shown, int fmt, FILE *f, lks_cli_rowout **out) {
    *out = NULL;
    lks_cli_rowout *o = calloc(1, sizeof *o);
    if (!o)
        return lks_cli_errorf("out of memory");
    o->s = s;
    o->fmt = fmt;
    o->f = f;
    o->ntop = s->fields[0].num_children;
    if (rowout_init(o, shown) != LKS_EXIT_OK) {
        lks_cli_rowout_free(o);
        return LKS_EXIT_ERR;
    }
    for (int k = 0, child = 1; k < o->ntop; k++) {
        o->top[k] = child;
        child = lks_pq_schema_subtree_end(s, child);
    }
    if (fmt == LKS_FMT_CSV)
        csv_header(o);
    *out = o;
    return LKS_EXIT_OK;
}

int lks_cli_rowout_open_names(const char *const *names, int ncols, int fmt, FILE *f, lks_cli_rowout **out) {
    *out = NULL;
    lks_cli_rowout *o = calloc(1, sizeof *o);
    if (!o)
        return lks_cli_errorf("out of memory");
    o->fmt = fmt;
    o->f = f;
    o->ntop = ncols;
    o->names = calloc((size_t)ncols + 1, sizeof *o->names);
    if (!o->names) {
        lks_cli_rowout_free(o);
        return lks_cli_errorf("out of memory");
    }
    if (rowout_init(o, NULL) != LKS_EXIT_OK) {
        lks_cli_rowout_free(o);
        return LKS_EXIT_ERR;
    }
    for (int k = 0; k < ncols; k++)
        if (!(o->names[k] = strdup(names[k] ? names[k] : ""))) {
            lks_cli_rowout_free(o);
            return lks_cli_errorf("out of memory");
        }
    if (fmt == LKS_FMT_CSV)
        csv_header(o);
    *out = o;
    return LKS_EXIT_OK;
}

/* One table cell: p cut or padded to w characters. */
static void table_cell(lks_cli_rowout *o, const uint8_t *p, size_t n, size_t w) {
    size_t cw = 0;
    for (size_t j = 0; j < n; j++) {
        uint8_t ch = p[j];
        if ((ch & 0xc0) != 0x80 && ++cw > w)
            break;
        lks_buf_append_byte(&o->b, ch == '\n' || ch == '\t' ? ' ' : ch);
    }
    for (; cw < w; cw++)
        lks_buf_append_byte(&o->b, ' ');
}

static void table_flush(lks_cli_rowout *o) {
    int ntop = o->ntop;
    for (int k = 0; k < ntop; k++) {
        size_t w = 0;
        for (const char *c = col_name(o, k); *c; c++)
            w += (*c & 0xc0) != 0x80;
        o->widths[k] = w > o->widths[k] ? w : o->widths[k];
        for (int i = 0; i < o->batch; i++) {
            size_t *off = &o->cell_off[(size_t)i * (size_t)(ntop + 1)];
            size_t cw = 0;
            for (size_t j = off[k]; j < off[k + 1]; j++)
                cw += (o->cells.ptr[j] & 0xc0) != 0x80; /* count UTF-8 characters */
            o->widths[k] = cw > o->widths[k] ? cw : o->widths[k];
        }
        if (o->widths[k] > TABLE_MAX_WIDTH)
            o->widths[k] = TABLE_MAX_WIDTH;
    }
    if (!o->header_done) {
        for (int k = 0, first = 1; k < ntop; k++)
            if (o->shown[k]) {
                lks_buf_printf(&o->b, "%s", first ? "" : " | ");
                table_cell(o, (const uint8_t *)col_name(o, k), strlen(col_name(o, k)), o->widths[k]);
                first = 0;
            }
        lks_buf_append_byte(&o->b, '\n');
        for (int k = 0, first = 1; k < ntop; k++)
            if (o->shown[k]) {
                lks_buf_printf(&o->b, "%s", first ? "" : "-+-");
                for (size_t j = 0; j < o->widths[k]; j++)
                    lks_buf_append_byte(&o->b, '-');
                first = 0;
            }
        lks_buf_append_byte(&o->b, '\n');
        o->header_done = 1;
    }
    for (int i = 0; i < o->batch; i++) {
        size_t *off = &o->cell_off[(size_t)i * (size_t)(ntop + 1)];
        for (int k = 0, first = 1; k < ntop; k++) {
            if (!o->shown[k])
                continue;
            if (!first)
                lks_buf_append(&o->b, " | ", 3);
            first = 0;
            table_cell(o, o->cells.ptr + off[k], off[k + 1] - off[k], o->widths[k]);
        }
        lks_buf_append_byte(&o->b, '\n');
    }
    o->batch = 0;
    lks_buf_reset(&o->cells);
}

int lks_cli_rowout_row(lks_cli_rowout *o, const lks_pq_value *row) {
    const lks_pq_schema *s = o->s;
    o->nrow++;
    if (!s)
        return lks_cli_errorf("row %lld: printer opened for cells", o->nrow);
    if (row->kind != LKS_PQ_V_GROUP || row->u.list.n != (size_t)o->ntop)
        return lks_cli_errorf("row %lld does not match its schema", o->nrow);
    if (o->fmt == LKS_FMT_JSONL) {
        lks_buf_append_byte(&o->b, '{');
        int first = 1;
        for (int k = 0; k < o->ntop; k++) {
            if (!o->shown[k])
                continue;
            if (!first)
                lks_buf_append_byte(&o->b, ',');
            first = 0;
            const char *nm = s->fields[o->top[k]].name;
            lks_json_quote(&o->b, nm, strlen(nm));
            lks_buf_append_byte(&o->b, ':');
            if (lks_pq_value_to_json(&o->b, s, o->top[k], &row->u.list.items[k]) != LKS_OK)
                return lks_cli_errorf("row %lld field %s: value cannot be printed", o->nrow, nm);
        }
        if (lks_buf_append(&o->b, "}\n", 2) != LKS_OK)
            return lks_cli_errorf("out of memory");
    } else if (o->fmt == LKS_FMT_CSV) {
        int first = 1;
        for (int k = 0; k < o->ntop; k++) {
            if (!o->shown[k])
                continue;
            if (!first)
                lks_buf_append_byte(&o->b, ',');
            first = 0;
            lks_buf_reset(&o->cells);
            if (cell_text(o, o->top[k], &row->u.list.items[k]) != LKS_OK)
                return lks_cli_errorf("row %lld field %s: value cannot be printed", o->nrow,
                                      s->fields[o->top[k]].name);
            if (row->u.list.items[k].kind != LKS_PQ_V_NULL)
                lks_cli_csv_field(&o->b, (const char *)o->cells.ptr, o->cells.len);
        }
        lks_buf_append_byte(&o->b, '\n');
    } else {
        for (int k = 0; k < o->ntop; k++) {
            o->cell_off[(size_t)o->batch * (size_t)(o->ntop + 1) + (size_t)k] = o->cells.len;
            if (!o->shown[k])
                continue;
            if (row->u.list.items[k].kind == LKS_PQ_V_NULL)
                lks_buf_append(&o->cells, "NULL", 4);
            else if (cell_text(o, o->top[k], &row->u.list.items[k]) != LKS_OK)
                return lks_cli_errorf("row %lld field %s: value cannot be printed", o->nrow,
                                      s->fields[o->top[k]].name);
        }
        o->cell_off[(size_t)o->batch * (size_t)(o->ntop + 1) + (size_t)o->ntop] = o->cells.len;
        if (++o->batch == TABLE_BATCH)
            table_flush(o);
    }
    if (o->b.len > 65536)
        return lks_cli_write(o->f, &o->b);
    return LKS_EXIT_OK;
}

int lks_cli_rowout_cells(lks_cli_rowout *o, const lks_cli_cell *cells) {
    o->nrow++;
    int rc = LKS_OK;
    if (o->fmt == LKS_FMT_JSONL) {
        rc = lks_buf_append_byte(&o->b, '{');
        for (int k = 0; k < o->ntop && !rc; k++) {
            if (k)
                rc = lks_buf_append_byte(&o->b, ',');
            if (!rc)
                rc = lks_json_quote(&o->b, o->names[k], strlen(o->names[k]));
            if (!rc)
                rc = lks_buf_append_byte(&o->b, ':');
            if (rc)
                break;
            const lks_cli_cell *c = &cells[k];
            if (c->kind == LKS_CLI_CELL_NULL)
                rc = lks_buf_append(&o->b, "null", 4);
            else if (c->kind == LKS_CLI_CELL_RAW)
                rc = lks_buf_append(&o->b, c->p, c->len);
            else
                rc = lks_json_quote(&o->b, c->p, c->len);
        }
        if (!rc)
            rc = lks_buf_append(&o->b, "}\n", 2);
    } else if (o->fmt == LKS_FMT_CSV) {
        for (int k = 0; k < o->ntop && !rc; k++) {
            if (k)
                rc = lks_buf_append_byte(&o->b, ',');
            if (!rc && cells[k].kind != LKS_CLI_CELL_NULL)
                rc = lks_cli_csv_field(&o->b, cells[k].p, cells[k].len);
        }
        if (!rc)
            rc = lks_buf_append_byte(&o->b, '\n');
    } else {
        size_t *off = &o->cell_off[(size_t)o->batch * (size_t)(o->ntop + 1)];
        for (int k = 0; k < o->ntop && !rc; k++) {
            off[k] = o->cells.len;
            if (cells[k].kind == LKS_CLI_CELL_NULL)
                rc = lks_buf_append(&o->cells, "NULL", 4);
            else
                rc = lks_buf_append(&o->cells, cells[k].p, cells[k].len);
        }
        off[o->ntop] = o->cells.len;
        if (!rc && ++o->batch == TABLE_BATCH)
            table_flush(o);
    }
    if (rc)
        return lks_cli_errorf("row %lld: out of memory", o->nrow);
    if (o->b.len > 65536)
        return lks_cli_write(o->f, &o->b);
    return LKS_EXIT_OK;
}

int lks_cli_rowout_finish(lks_cli_rowout *o) {
    if (o->fmt == LKS_FMT_TABLE && (o->batch || !o->header_done))
        table_flush(o);
    return lks_cli_write(o->f, &o->b);
}

void lks_cli_rowout_free(lks_cli_rowout *o) {
    if (!o)
        return;
    if (o->names)
        for (int k = 0; k < o->ntop; k++)
            free(o->names[k]);
    free(o->names);
    free(o->top);
    free(o->shown);
    free(o->cell_off);
    free(o->widths);
    lks_buf_free(&o->b);
    lks_buf_free(&o->tmp);
    lks_buf_free(&o->cells);
    free(o);
}
