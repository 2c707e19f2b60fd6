/*
 * parquet_bench — lakesync's side of the Parquet write/scan benchmark
 * (bench/parquet.sh runs it next to bench/duckdb_parquet.mjs and prints the
 * ratio).
 *
 *   parquet_bench NROWS DIR
 *
 * Builds, untimed, NROWS rows in memory with exactly the values
 * bench/duckdb_parquet.mjs describes (id BIGINT, qty INT, price
 * DECIMAL(12,2), code VARCHAR(8), note VARCHAR(~40), ts TIMESTAMP UTC),
 * then times
 *   write: the rows in column batches of 64Ki rows through the writer
 *          (SNAPPY, row groups of 1Mi rows) into DIR/lakesync.parquet;
 *   scan:  every column of every row group decoded (lks_pq_read_column)
 *          and folded into sum(id), sum(qty), sum(price), sum(len(code)),
 *          sum(len(note)), max(ts) — the aggregates DuckDB computes.
 * Prints {"rows":N,"write_s":..,"scan_s":..,"bytes":..} on stdout and the
 * aggregates on stderr.
 */
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const lks_err *err) {
    fprintf(stderr, "parquet_bench: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: parquet_bench NROWS DIR\n");
        return 2;
    }
    size_t n = (size_t)strtoull(argv[1], NULL, 10);
    char path[4096];
    snprintf(path, sizeof path, "%s/lakesync.parquet", argv[2]);
    mkdir(argv[2], 0777);

    /* ---- the rows, untimed ---- */
    int64_t *id = malloc(n * 8), *price = malloc(n * 8), *ts = malloc(n * 8);
    int32_t *qty = malloc(n * 4);
    lks_slice *code = malloc(n * sizeof(lks_slice)), *note = malloc(n * sizeof(lks_slice));
    char *code_txt = malloc(n * 8 + 1), *note_txt = malloc(n * 48 + 64);
    if (!id || !price || !ts || !qty || !code || !note || !code_txt || !note_txt)
        die("out of memory", NULL);
    static const char *const status[] = {"new", "paid", "shipped", "returned", "cancelled"};
    size_t note_len = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t v = (int64_t)i;
        id[i] = v;
        qty[i] = (int32_t)((v * 7919) % 1000);
        price[i] = (v * 104729) % 10000000;
        ts[i] = 1704067200000000LL + v * 1000003;
        char tmp[16];
        snprintf(tmp, sizeof tmp, "C%07lld", (long long)((v * 31) % 100000));
        memcpy(code_txt + i * 8, tmp, 8);
        code[i] = (lks_slice){(const uint8_t *)code_txt + i * 8, 8};
        int k = sprintf(note_txt + note_len, "order %010lld status %s region %02lld", (long long)v, status[i % 5],
                        (long long)((v * 13) % 97));
        note[i] = (lks_slice){(const uint8_t *)note_txt + note_len, (size_t)k};
        note_len += (size_t)k;
    }

    lks_pq_field fields[] = {
        {"schema", LKS_PQ_REQUIRED, -1, 0, lks_pq_lt(LKS_PQ_LT_NONE), -1, 6},
        {"id", LKS_PQ_OPTIONAL, LKS_PQ_INT64, 0, lks_pq_lt(LKS_PQ_LT_NONE), -1, 0},
        {"qty", LKS_PQ_OPTIONAL, LKS_PQ_INT32, 0, lks_pq_lt(LKS_PQ_LT_NONE), -1, 0},
        {"price", LKS_PQ_OPTIONAL, LKS_PQ_INT64, 0, lks_pq_lt_decimal(12, 2), -1, 0},
        {"code", LKS_PQ_OPTIONAL, LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_STRING), -1, 0},
        {"note", LKS_PQ_OPTIONAL, LKS_PQ_BYTE_ARRAY, 0, lks_pq_lt(LKS_PQ_LT_STRING), -1, 0},
        {"ts", LKS_PQ_OPTIONAL, LKS_PQ_INT64, 0, lks_pq_lt_timestamp(LKS_PQ_UNIT_MICROS, 1), -1, 0},
    };
    lks_err err = {0};
    lks_pq_schema *s;
    if (lks_pq_schema_build(fields, 7, &s, &err) != LKS_OK)
        die("schema", &err);
    const size_t batch = 65536;
    uint16_t *def = malloc(batch * 2);
    for (size_t i = 0; i < batch; i++)
        def[i] = 1; /* nullable columns, as DuckDB writes them; no nulls */

    /* ---- write ---- */
    double t0 = now_s();
    FILE *f = fopen(path, "wb");
    if (!f)
        die(path, NULL);
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    lks_pq_writer_opts o;
    lks_pq_writer_opts_default(&o);
    o.codec = LKS_PQ_SNAPPY;
    o.row_group_rows = 1048576;
    lks_pq_writer *w;
    if (lks_pq_writer_open(s, &o, lks_pq_sink_stdio, f, &w, &err) != LKS_OK)
        die("open", &err);
    for (size_t at = 0; at < n; at += batch) {
        size_t m = n - at < batch ? n - at : batch;
        if (lks_pq_write_column(w, 0, id + at, def, NULL, m, &err) != LKS_OK ||
            lks_pq_write_column(w, 1, qty + at, def, NULL, m, &err) != LKS_OK ||
            lks_pq_write_column(w, 2, price + at, def, NULL, m, &err) != LKS_OK ||
            lks_pq_write_column(w, 3, code + at, def, NULL, m, &err) != LKS_OK ||
            lks_pq_write_column(w, 4, note + at, def, NULL, m, &err) != LKS_OK ||
            lks_pq_write_column(w, 5, ts + at, def, NULL, m, &err) != LKS_OK ||
            lks_pq_writer_end_batch(w, (int64_t)m, &err) != LKS_OK)
            die("write", &err);
    }
    if (lks_pq_writer_close(w, &err) != LKS_OK)
        die("close", &err);
    lks_pq_writer_free(w);
    if (fclose(f) != 0)
        die("fclose", NULL);
    double write_s = now_s() - t0;
    struct stat st;
    stat(path, &st);

    /* ---- scan ---- */
    t0 = now_s();
    lks_pq_source src;
    lks_pq_reader *r;
    if (lks_pq_source_file(&src, path, &err) != LKS_OK || lks_pq_reader_open(&src, NULL, &r, &err) != LKS_OK)
        die("open for reading", &err);
    lks_pq_colbatch b;
    lks_pq_colbatch_init(&b);
    int64_t sum_id = 0, sum_qty = 0, sum_price = 0, len_code = 0, len_note = 0, max_ts = INT64_MIN;
    const lks_pq_file_meta *fm = lks_pq_reader_meta(r);
    for (int g = 0; g < fm->num_row_groups; g++) {
        for (int c = 0; c < 6; c++) {
            if (lks_pq_read_column(r, g, c, &b, &err) != LKS_OK)
                die("read", &err);
            size_t k = b.nvals;
            switch (c) {
            case 0:
                for (size_t i = 0; i < k; i++)
                    sum_id += ((const int64_t *)b.values)[i];
                break;
            case 1:
                for (size_t i = 0; i < k; i++)
                    sum_qty += ((const int32_t *)b.values)[i];
                break;
            case 2:
                for (size_t i = 0; i < k; i++)
                    sum_price += ((const int64_t *)b.values)[i];
                break;
            case 3:
            case 4: {
                int64_t t = 0;
                for (size_t i = 0; i < k; i++)
                    t += (int64_t)((const lks_slice *)b.values)[i].len;
                if (c == 3)
                    len_code += t;
                else
                    len_note += t;
                break;
            }
            case 5:
                for (size_t i = 0; i < k; i++) {
                    int64_t v = ((const int64_t *)b.values)[i];
                    max_ts = v > max_ts ? v : max_ts;
                }
                break;
            }
        }
    }
    double scan_s = now_s() - t0;
    lks_pq_colbatch_free(&b);
    lks_pq_reader_free(r);
    lks_pq_source_close(&src);
    char tsbuf[48], pricebuf[64];
    lks_fmt_timestamp_us(tsbuf, max_ts, 1);
    lks_buf pb;
    lks_buf_init(&pb, 0);
    lks_fmt_decimal_i64(&pb, sum_price, 2);
    lks_buf_cstr(&pb);
    snprintf(pricebuf, sizeof pricebuf, "%s", (const char *)pb.ptr);
    lks_buf_free(&pb);
    fprintf(stderr, "scan: sum(id)=%lld sum(qty)=%lld sum(price)=%s sum(len(code))=%lld sum(len(note))=%lld max(ts)=%s\n",
            (long long)sum_id, (long long)sum_qty, pricebuf, (long long)len_code, (long long)len_note, tsbuf);
    printf("{\"rows\":%zu,\"write_s\":%.6f,\"scan_s\":%.6f,\"bytes\":%lld}\n", n, write_s, scan_s,
           (long long)st.st_size);
    lks_pq_schema_free(s);
    free(id), free(price), free(ts), free(qty), free(code), free(note), free(code_txt), free(note_txt), free(def);
    return 0;
}
