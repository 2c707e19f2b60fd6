/*
 * delta.h — Delta Lake tables: the log, snapshots, scans, transactions.
 *
 * Follows PROTOCOL.md of delta-io/delta.  A table lives under a key prefix
 * of an object store (`""` for the store root, else "db/t" without a
 * trailing '/'); its log is `<prefix>/_delta_log/`.
 *
 * Reading: lks_delta_snapshot_*() replays the log (checkpoint + later JSON
 * commits) into the live state at a version or a timestamp; a scan yields
 * the live files (with partition values and deletion vectors) and the rows
 * of those files in the table's *read schema*: the logical Delta schema
 * mapped to one canonical Parquet form per Delta type (below), whatever
 * physical form each data file used, partition columns filled in, rows
 * deleted by deletion vectors dropped.
 *
 * Writing: a transaction collects actions and commits them as the next
 * version with put-if-absent; a lost race re-reads the winning commits,
 * checks for logical conflicts and retries.
 *
 * Lifetimes: a snapshot owns every action it returns (valid until
 * lks_delta_snapshot_free()); a table handle borrows its store.
 *
 * Canonical Parquet form per Delta type (the read schema, and the form
 * lakesync writes data files in, as Spark does):
 *   boolean → BOOLEAN; byte/short → INT32 (INTEGER(8|16, signed));
 *   integer → INT32; long → INT64; float → FLOAT; double → DOUBLE;
 *   string → BYTE_ARRAY (STRING); binary → BYTE_ARRAY;
 *   date → INT32 (DATE); timestamp → INT64 (TIMESTAMP(MICROS, utc=1));
 *   timestamp_ntz → INT64 (TIMESTAMP(MICROS, utc=0));
 *   decimal(p,s) → INT32 p<=9, INT64 p<=18, else FIXED_LEN_BYTE_ARRAY of
 *     the fewest bytes holding p digits (DECIMAL(p,s));
 *   struct → group; array → LIST (3-level, element "element");
 *   map → MAP (3-level, "key_value" { key, value }).
 */
#ifndef LKS_DELTA_H
#define LKS_DELTA_H

#include "core/core.h"
#include "parquet/parquet.h"
#include "store/store.h"

/* ---- schema ------------------------------------------------------------------- */

enum {
    LKS_DT_STRING = 1, LKS_DT_LONG, LKS_DT_INTEGER, LKS_DT_SHORT, LKS_DT_BYTE, LKS_DT_FLOAT, LKS_DT_DOUBLE,
    LKS_DT_DECIMAL, LKS_DT_BOOLEAN, LKS_DT_BINARY, LKS_DT_DATE, LKS_DT_TIMESTAMP, LKS_DT_TIMESTAMP_NTZ,
    LKS_DT_VOID, /* Spark's NullType: always null */
    LKS_DT_STRUCT, LKS_DT_ARRAY, LKS_DT_MAP
};

/* A Delta schema node (a StructField, or the element/key/value type of an
 * array or map, which have no name). */
typedef struct lks_delta_type {
    int kind;                /* LKS_DT_* */
    const char *name;        /* struct field name (logical); NULL for elements */
    int nullable;            /* field nullability; containsNull/valueContainsNull for elements */
    int precision, scale;    /* decimal */
    struct lks_delta_type *children; /* struct: fields; array: [element]; map: [key, value] */
    int nchildren;
    /* column mapping (delta.columnMapping.*), NULL / -1 when absent */
    const char *physical_name;
    int64_t field_id;
    const char *metadata_json; /* the field's "metadata" object as JSON text ("{}" when empty) */
} lks_delta_type;

/* Parses a schemaString (a "struct" type JSON).  All memory in arena a.
 * LKS_ECORRUPT naming the JSON path on malformed input; LKS_EUNSUPPORTED
 * for unknown types (naming them; e.g. "variant"). */
int lks_delta_schema_parse(const char *json, size_t len, lks_arena *a, lks_delta_type **out, lks_err *err);
/* Appends the schemaString JSON of a struct type. */
int lks_delta_schema_to_json(lks_buf *b, const lks_delta_type *root);
/* Builds the read schema (canonical Parquet form, logical names) of a
 * struct type; `physical` uses physical names (column mapping) instead,
 * as data files store them.  Free with lks_pq_schema_free(). */
int lks_delta_schema_to_parquet(const lks_delta_type *root, int physical, lks_pq_schema **out, lks_err *err);

/* ---- actions ------------------------------------------------------------------ */

typedef struct lks_delta_kv {
    const char *key;
    const char *value; /* NULL: JSON null (a null partition value) */
} lks_delta_kv;

typedef struct lks_delta_protocol {
    int min_reader, min_writer;
    const char **reader_features; /* NULL when the field is absent */
    int nreader_features;
    const char **writer_features;
    int nwriter_features;
} lks_delta_protocol;

typedef struct lks_delta_metadata {
    const char *id, *name, *description;
    const char *format_provider; /* "parquet" */
    const char *schema_string;
    lks_delta_type *schema; /* parsed schemaString */
    const char **partition_columns;
    int npartition_columns;
    lks_delta_kv *configuration;
    int nconfiguration;
    int64_t created_time; /* ms, -1 when absent */
} lks_delta_metadata;

/* A deletion vector descriptor. */
typedef struct lks_delta_dv {
    char storage_type;        /* 'u' relative (Z85 UUID), 'p' absolute path, 'i' inline */
    const char *path_or_inline;
    int32_t offset;           /* -1 when absent */
    int32_t size_in_bytes;
    int64_t cardinality;
} lks_delta_dv;

typedef struct lks_delta_add {
    const char *path;          /* as in the log (URI-encoded, relative or absolute) */
    lks_delta_kv *partition_values;
    int npartition_values;
    int64_t size;
    int64_t modification_time; /* ms */
    int data_change;
    const char *stats;         /* JSON text, NULL when absent */
    lks_delta_kv *tags;
    int ntags;
    lks_delta_dv dv;
    int has_dv;
    int64_t base_row_id, default_row_commit_version; /* -1 when absent */
    const char *clustering_provider;
} lks_delta_add;

typedef struct lks_delta_remove {
    const char *path;
    int64_t deletion_timestamp; /* ms, -1 when absent */
    int data_change;
    int extended_file_metadata;
    lks_delta_kv *partition_values;
    int npartition_values;
    int64_t size; /* -1 when absent */
    lks_delta_dv dv;
    int has_dv;
} lks_delta_remove;

typedef struct lks_delta_txn_action {
    const char *app_id;
    int64_t version;
    int64_t last_updated; /* ms, -1 when absent */
} lks_delta_txn_action;

typedef struct lks_delta_domain {
    const char *domain, *configuration;
    int removed;
} lks_delta_domain;

/* ---- tables and snapshots ----------------------------------------------------------- */

typedef struct lks_delta_table lks_delta_table;

/* Opens the table at `prefix` of st (borrowed).  Does not read the log. */
int lks_delta_table_open(lks_store *st, const char *prefix, lks_delta_table **out, lks_err *err);
void lks_delta_table_close(lks_delta_table *t);
/* Object key of a path relative to the table root ("part-0.parquet" →
 * "<prefix>/part-0.parquet"), URI-decoding it as the log stores paths.
 * Absolute URIs are returned as they are (decoded).  Allocated in a. */
const char *lks_delta_table_key(const lks_delta_table *t, const char *path, lks_arena *a);
/* The store the table lives in (borrowed, as given to lks_delta_table_open). */
lks_store *lks_delta_table_store(const lks_delta_table *t);

typedef struct lks_delta_snapshot {
    int64_t version;
    int64_t timestamp;        /* ms: in-commit timestamp when enabled, else the commit file's mtime */
    lks_delta_protocol protocol;
    lks_delta_metadata metadata;
    lks_delta_add *files;     /* live files, sorted by path */
    size_t nfiles;
    lks_delta_remove *tombstones; /* removes still within retention (for vacuum) */
    size_t ntombstones;
    lks_delta_txn_action *txns; /* latest per appId, sorted by appId */
    size_t ntxns;
    lks_delta_domain *domains;  /* live domain metadata */
    size_t ndomains;
    int64_t checkpoint_version; /* the checkpoint the replay started from, -1 none */
    lks_arena arena;            /* owns everything above */
} lks_delta_snapshot;

/* Snapshots at the latest version, at `version`, or as of a timestamp (ms
 * since epoch: the latest version committed at or before it).  Errors:
 * LKS_ENOTFOUND (no table / version not reachable: names what is missing),
 * LKS_EUNSUPPORTED (a reader feature or protocol version we lack: names
 * it), LKS_ECORRUPT (malformed log: names the file and line). */
int lks_delta_snapshot_latest(lks_delta_table *t, lks_delta_snapshot **out, lks_err *err);
int lks_delta_snapshot_at_version(lks_delta_table *t, int64_t version, lks_delta_snapshot **out, lks_err *err);
int lks_delta_snapshot_at_timestamp(lks_delta_table *t, int64_t ts_ms, lks_delta_snapshot **out, lks_err *err);
void lks_delta_snapshot_free(lks_delta_snapshot *s);
/* Latest txn version for appId, or -1. */
int64_t lks_delta_snapshot_app_version(const lks_delta_snapshot *s, const char *app_id);
/* Table property (metaData.configuration) or NULL. */
const char *lks_delta_snapshot_property(const lks_delta_snapshot *s, const char *key);

/* One commit of the table's history. */
typedef struct lks_delta_commit {
    int64_t version;
    int64_t timestamp;     /* ms (in-commit timestamp, else commitInfo.timestamp, else file mtime) */
    const char *operation; /* NULL when the commit has no commitInfo */
    const char *commit_info_json; /* the commitInfo object, NULL when absent */
    int64_t nadd, nremove; /* file actions in the commit */
} lks_delta_commit;
typedef int lks_delta_history_fn(void *ud, const lks_delta_commit *c);
/* Calls fn for the commits still in the log, newest first, at most `limit`
 * (0: all); stops early when fn returns non-zero. */
int lks_delta_history(lks_delta_table *t, int64_t limit, lks_delta_history_fn *fn, void *ud, lks_err *err);

/* ---- deletion vectors ------------------------------------------------------------------ */

/* The set of deleted row indexes of one file (a 64-bit roaring bitmap). */
typedef struct lks_delta_rowset lks_delta_rowset;
/* Loads a DV (inline, or from its file with offset, size and checksum
 * checked).  LKS_ECORRUPT / LKS_ECHECKSUM naming the file. */
int lks_delta_dv_load(lks_delta_table *t, const lks_delta_dv *dv, lks_delta_rowset **out, lks_err *err);
int lks_delta_rowset_contains(const lks_delta_rowset *rs, uint64_t row);
uint64_t lks_delta_rowset_cardinality(const lks_delta_rowset *rs);
void lks_delta_rowset_free(lks_delta_rowset *rs);

/* ---- scans --------------------------------------------------------------------------------- */

/* A predicate for skipping: column (logical, top-level) op literal, where
 * the literal is a physical value of the column's canonical form. */
enum { LKS_DELTA_EQ, LKS_DELTA_LT, LKS_DELTA_LE, LKS_DELTA_GT, LKS_DELTA_GE, LKS_DELTA_IS_NULL, LKS_DELTA_NOT_NULL };
typedef struct lks_delta_pred {
    const char *column;
    int op;
    lks_pq_value value;
} lks_delta_pred;

typedef struct lks_delta_scan_opts {
    const char **columns;   /* top-level logical column names to read; NULL: all */
    int ncolumns;
    const lks_delta_pred *preds; /* conjunction, used only to skip files/row groups */
    int npreds;
    int keep_deleted;       /* 1: do not apply deletion vectors */
    /* Optional: read only the live files for which file_filter returns
     * non-zero (`a` points into the snapshot's files); the others count as
     * skipped.  OPTIMIZE reads the files it rewrites this way. */
    int (*file_filter)(void *ud, const lks_delta_add *a);
    void *file_filter_ud;
} lks_delta_scan_opts;

typedef struct lks_delta_scan lks_delta_scan;

/* The snapshot is borrowed until the scan is freed. */
int lks_delta_scan_open(lks_delta_table *t, const lks_delta_snapshot *s, const lks_delta_scan_opts *o,
                        lks_delta_scan **out, lks_err *err);
/* The read schema of the scan's rows (all table columns, in schema order;
 * unselected ones come back NULL). */
const lks_pq_schema *lks_delta_scan_schema(const lks_delta_scan *sc);
/* Next row as a GROUP value of the read schema; valid until the next call.
 * 1 with a row, 0 at the end, negative on error (naming the data file). */
int lks_delta_scan_next(lks_delta_scan *sc, const lks_pq_value **row, lks_err *err);
/* Rows of one data file, column by column. */
typedef struct lks_delta_batch {
    size_t n;                        /* rows, >= 1 */
    const lks_pq_value *const *cols; /* per top-level column (schema order): its n values as
                                        lks_delta_scan_next() gives them; NULL when not selected */
    const int64_t *row_index;        /* per row: its position in the data file */
    const lks_delta_add *file;       /* the live file (points into the snapshot's files) */
} lks_delta_batch;
/* The next rows as a batch, valid until the next call: at most
 * LKS_DELTA_BATCH_ROWS rows, the rows lks_delta_scan_next() would return
 * one by one (deleted rows dropped), in the same order.  Files whose
 * selected columns are all top-level leaves in the Parquet file are read
 * column by column; others one row a batch.  1 with rows, 0 at the end,
 * negative on error (naming the data file).  Use either this or
 * lks_delta_scan_next() on a scan, not both. */
#define LKS_DELTA_BATCH_ROWS 1024
int lks_delta_scan_next_batch(lks_delta_scan *sc, const lks_delta_batch **out, lks_err *err);
/* Files skipped by partition values / stats so far, and files read. */
void lks_delta_scan_counts(const lks_delta_scan *sc, size_t *files_skipped, size_t *files_read);
/* Where the row lks_delta_scan_next() returned last comes from: its live
 * file (pointing into the snapshot's files) and its row index (position in
 * the data file, counting rows a deletion vector dropped), for deleting it
 * by deletion vector.  NULL / -1 before the first row and at the end. */
void lks_delta_scan_position(const lks_delta_scan *sc, const lks_delta_add **file, int64_t *row_index);
/* Moves the working memory (Parquet reader, page and value buffers) of
 * `from`, a scan no longer read, into sc, which has not read yet, so that
 * a scan following another reuses memory already touched.  from stays
 * valid to free.  Freeing a scan, or passing it as `from`, does not touch
 * its table or snapshot: either may be gone by then. */
void lks_delta_scan_take_buffers(lks_delta_scan *sc, lks_delta_scan *from);
void lks_delta_scan_free(lks_delta_scan *sc);

/* ---- transactions ----------------------------------------------------------------------------- */

typedef struct lks_delta_txn lks_delta_txn;

/* Begins a transaction on top of `read` (borrowed; NULL to create a new
 * table).  `operation` names it in commitInfo ("WRITE", "MERGE", ...). */
int lks_delta_txn_begin(lks_delta_table *t, const lks_delta_snapshot *read, const char *operation,
                        lks_delta_txn **out, lks_err *err);
/* Actions (copied).  A new table needs protocol and metadata. */
int lks_delta_txn_set_protocol(lks_delta_txn *x, const lks_delta_protocol *p);
int lks_delta_txn_set_metadata(lks_delta_txn *x, const lks_delta_metadata *m);
int lks_delta_txn_add(lks_delta_txn *x, const lks_delta_add *a);
int lks_delta_txn_remove(lks_delta_txn *x, const lks_delta_remove *r);
int lks_delta_txn_set_app_version(lks_delta_txn *x, const char *app_id, int64_t version);
/* commitInfo.operationParameters / operationMetrics entries (strings). */
int lks_delta_txn_set_param(lks_delta_txn *x, const char *key, const char *json_value);
int lks_delta_txn_set_metric(lks_delta_txn *x, const char *key, int64_t value);
/* What the transaction read, for conflict checks: it read the whole
 * table (`read_all`), and/or these files.  A transaction that read
 * nothing and only adds files is a blind append. */
int lks_delta_txn_read_all(lks_delta_txn *x);
int lks_delta_txn_read_file(lks_delta_txn *x, const char *path);
/* Optional: decides whether a concurrently added file may hold rows this
 * transaction's writes depend on (e.g. keys of a merge batch); return 0 to
 * ignore the file.  Without it every concurrent add conflicts with a
 * non-blind transaction; with it the transaction is never a blind append
 * (its writes depend on what concurrent adds hold). */
typedef int lks_delta_conflict_fn(void *ud, const lks_delta_add *concurrent_add);
void lks_delta_txn_set_conflict_fn(lks_delta_txn *x, lks_delta_conflict_fn *fn, void *ud);
/* Deletes rows of the live file `file` (an add of the transaction's read
 * snapshot; borrowed) by deletion vector: `rows` are row indexes (positions
 * in the data file, 0-based, any order, duplicates allowed).  Unions them
 * with the file's current DV and stages a remove of the file with its old
 * DV and an add of the same file with the new one (stats copied, marked
 * "tightBounds":false); when every row ends up deleted, only the remove.
 * The DV is stored inline in the log when its serialized bitmap is at most
 * 64 bytes, else in a new `deletion_vector_<uuid>.bin` in the table root
 * (written now; orphaned if the commit fails, for VACUUM to reclaim).
 * Calling it again for the same file in one transaction accumulates.  The
 * file is registered as read (lks_delta_txn_read_file), so a concurrent
 * commit that removes or DV-updates it is a conflict.  Deleting no new
 * rows stages nothing.  Errors: LKS_EINVAL (the table lacks the
 * deletionVectors feature in protocol 3/7 or delta.enableDeletionVectors=
 * true; the file is not live in the read snapshot; a row index is not below
 * the file's stats.numRecords, which a DV needs), LKS_ECORRUPT /
 * LKS_ECHECKSUM (its current DV), store errors writing the DV file. */
int lks_delta_txn_delete_rows(lks_delta_txn *x, const lks_delta_add *file, const uint64_t *rows, size_t n,
                              lks_err *err);
/* Commits as the next version (retrying lost races up to `max_attempts`,
 * default 10 when 0); *version receives the committed version.  Errors:
 * LKS_ECONFLICT (a logical conflict: names the winning version and why),
 * LKS_EUNSUPPORTED (a writer feature we do not honour). */
int lks_delta_txn_commit(lks_delta_txn *x, int max_attempts, int64_t *version, lks_err *err);
void lks_delta_txn_free(lks_delta_txn *x);

/* ---- writing data files ----------------------------------------------------------------------------- */

/* Writes rows (GROUP values of the read schema of `meta`) into Parquet data
 * files under the table root, split by partition values, with Delta stats
 * (numRecords, minValues, maxValues, nullCount; strings truncated to 32
 * characters as Spark does) and adds them to the transaction on close. */
typedef struct lks_delta_writer lks_delta_writer;
typedef struct lks_delta_writer_opts {
    lks_pq_writer_opts parquet;
    int64_t target_file_bytes; /* roll to a new file past this; default 128 MiB */
    const char **bloom_columns;  /* top-level columns that get bloom filters */
    int nbloom_columns;
} lks_delta_writer_opts;
int lks_delta_writer_open(lks_delta_txn *x, const lks_delta_metadata *meta, const lks_delta_writer_opts *o,
                          lks_delta_writer **out, lks_err *err);
int lks_delta_writer_write(lks_delta_writer *w, const lks_pq_value *row, lks_err *err);
/* Rows given column by column, as lks_delta_writer_write would take them
 * one by one: cols[c] (c < ncols) holds the values of top-level column c,
 * a column past ncols or NULL is all nulls; the rows are sel[0..n) (NULL:
 * 0..n-1).  Unpartitioned flat tables take them a column at a time; others
 * row by row.  The rows, stats and errors are those of writing the rows one
 * by one (page and row-group boundaries may differ). */
int lks_delta_writer_write_cols(lks_delta_writer *w, const lks_pq_value *const *cols, int ncols, const uint32_t *sel,
                                size_t n, lks_err *err);
/* Data files finished so far (each is added to the transaction at close). */
int64_t lks_delta_writer_files(const lks_delta_writer *w);
/* Finishes the files and adds them to the transaction. */
int lks_delta_writer_close(lks_delta_writer *w, lks_err *err);
void lks_delta_writer_free(lks_delta_writer *w);

/* ---- checkpoints and maintenance --------------------------------------------------------------------- */

/* Writes a classic single-file Parquet checkpoint of snapshot s and
 * updates _last_checkpoint. */
int lks_delta_checkpoint_write(lks_delta_table *t, const lks_delta_snapshot *s, lks_err *err);

/* ---- maintenance: VACUUM, OPTIMIZE, log cleanup (maint.c) ------------------------------------------ */

/* VACUUM deletes the data files under the table root that the latest
 * snapshot does not reference (live files and their deletion-vector files)
 * and that no tombstone younger than the retention references, and whose
 * modification time is older than the retention.  It never touches
 * _delta_log/ nor any file or folder whose name starts with '_' or '.' (at
 * any depth; partition folders such as `a=1/` are walked, and `_x=1/` when
 * `_x` is a partition column).  Absolute paths in the log count when they
 * point inside the table.  Tombstones are those the snapshot keeps (younger
 * than delta.deletedFileRetentionDuration), as Delta does.  Nothing is
 * committed.  Before anything, the table's writer protocol is checked
 * (PROTOCOL.md "VACUUM Protocol Check"): a writer feature lakesync does not
 * know is LKS_EUNSUPPORTED naming it. */
typedef int lks_delta_vacuum_fn(void *ud, const char *path, int64_t size);
typedef struct lks_delta_vacuum_opts {
    int64_t retention_hours; /* -1: delta.deletedFileRetentionDuration, default 168 (7 days) */
    int dry_run;             /* 1: only report what would be deleted */
    int force;               /* 1: allow a retention below the safe minimum */
    /* Optional: called per file deleted (or, in a dry run, to be deleted),
     * `path` relative to the table root (valid during the call), once the
     * batch of up to 1000 files it belongs to is deleted; non-zero stops
     * the vacuum after that batch (LKS_OK, result counts what was done). */
    lks_delta_vacuum_fn *on_file;
    void *ud;
} lks_delta_vacuum_opts;
typedef struct lks_delta_vacuum_result {
    int64_t files, bytes; /* deleted (dry run: would be deleted) */
    int64_t uploads;      /* killed writers' unfinished uploads (S3) aborted */
} lks_delta_vacuum_result;
/* The safe minimum retention is delta.deletedFileRetentionDuration when the
 * table sets it, else 168 hours; a shorter one without `force` is
 * LKS_EINVAL saying so.  Store errors stop it (LKS_EIO ...), with *r
 * counting the files of the batches deleted before. */
int lks_delta_vacuum(lks_delta_table *t, const lks_delta_vacuum_opts *o, lks_delta_vacuum_result *r, lks_err *err);

/* OPTIMIZE (bin-packing): per partition, the live files smaller than
 * min_file_bytes are packed in path-stable size order into bins of at most
 * target_file_bytes; each bin of two or more files is read (rows deleted
 * by deletion vectors dropped) and rewritten with lks_delta_writer into new
 * files, and one "OPTIMIZE" commit removes the old files and adds the new
 * ones, all with dataChange=false.  Every rewritten file is registered as
 * read, so a concurrent commit that removes or DV-updates one of them
 * conflicts; concurrent appends do not.  A partition with fewer than two
 * candidates is left alone; when nothing qualifies nothing is committed
 * (result version -1). */
typedef struct lks_delta_optimize_opts {
    int64_t target_file_bytes; /* 0: table property delta.targetFileSize, else 128 MiB */
    int64_t min_file_bytes;    /* 0: target_file_bytes * 3 / 4 */
    const lks_delta_snapshot *read; /* optional (borrowed): optimize as of this snapshot; NULL: latest */
    int max_attempts;          /* commit attempts (0: default) */
} lks_delta_optimize_opts;
typedef struct lks_delta_optimize_result {
    int64_t files_removed, files_added;
    int64_t bytes_before, bytes_after; /* sizes of the removed / added files */
    int64_t version;                   /* the OPTIMIZE commit, -1 when nothing was done */
} lks_delta_optimize_result;
/* o may be NULL (defaults).  Errors: LKS_ECONFLICT (a concurrent commit
 * touched a file being rewritten: the new files are left for VACUUM),
 * scan, writer and commit errors as those functions give them. */
int lks_delta_optimize(lks_delta_table *t, const lks_delta_optimize_opts *o, lks_delta_optimize_result *r,
                       lks_err *err);

/* Log cleanup (PROTOCOL.md "Metadata Cleanup"): finds the newest commit
 * older than delta.logRetentionDuration (default 30 days; commit file
 * mtimes made monotonic; the cutoff rounded down to midnight UTC), the
 * newest complete checkpoint at or below it and at or below the checkpoint
 * s was read from (s->checkpoint_version: one known to be readable), and
 * deletes the commits, checkpoints, .crc files (and log compactions
 * starting) below that checkpoint, which stays with its commit.  Nothing
 * is deleted when there is no such checkpoint.  `s` (borrowed) gives the
 * table properties; NULL reads the latest snapshot. */
int lks_delta_log_cleanup(lks_delta_table *t, const lks_delta_snapshot *s, lks_err *err);

/* ---- end maintenance ---- */

#endif
