/*
 * merge.h — applying change events to a Delta table as UPSERTs, exactly
 * once (DESIGN.md §3 "Ordering", "Exactly-once").
 *
 * A batch collects events from one or more source streams (a raw-zone or
 * Kafka topic-partition, a binlog), keeps the latest event per primary key
 * in stream order (a primary-key change is a delete of the old key and an
 * upsert of the new one; `r` and `c` are upserts like `u`; `t` empties the
 * table), and commits them in one Delta transaction together with one
 * `txn` action per stream (appId "lakesync:<stream>", version = the next
 * position to read).  A restarted merge asks the table where each stream
 * stands (lks_merge_stream_version) and continues after it.
 *
 * Finding the rows a batch hits: files are pruned by the key columns' stats
 * and Parquet bloom filters, then only the key columns of the remaining
 * files are read.  Copy-on-write tables rewrite each touched file without
 * the hit rows; tables with deletion vectors mark them deleted.  The new
 * row versions are appended in new files (with bloom filters on the key
 * columns).
 *
 * The table is created on first sight from the events' schema, with the
 * type mapping of DESIGN.md §3, and gains nullable columns when events
 * bring new ones; a type change the mapping cannot widen is LKS_EINVAL
 * naming the column.
 */
#ifndef LKS_MERGE_H
#define LKS_MERGE_H

#include "cdc/cdc.h"
#include "delta/delta.h"
#include "rawzone/rawzone.h"

#include <signal.h>

typedef struct lks_merge_stats {
    int64_t events;        /* events added to the batch */
    int64_t upserts, deletes, truncates; /* after dedupe */
    int64_t rows_written;  /* rows in new files (upserts + rows carried over by rewrites) */
    int64_t files_added, files_removed, files_dv; /* files_dv: files given a new deletion vector */
    int64_t files_skipped; /* files ruled out by stats or bloom filters */
    int64_t version;       /* committed version, -1 when nothing was committed */
    int created;           /* the batch created the table */
} lks_merge_stats;

typedef struct lks_merge_opts {
    const char *const *key_columns; /* primary key; else the table property
                                       lakesync.primaryKey; else the events' keys */
    int nkey_columns;
    const lks_delta_kv *table_properties; /* applied when the merge creates the table */
    int ntable_properties;
    int datetime_as_ntz;   /* DATETIME → timestamp_ntz instead of timestamp */
} lks_merge_opts;

typedef struct lks_merge_batch lks_merge_batch;

/* Starts a batch for the table (which may not exist yet).  The table is
 * borrowed.  The snapshot the batch reads is taken at commit time; this
 * call only reads the table's primary key (lakesync.primaryKey) and column
 * types, which fix how keys are compared.  Free with lks_merge_batch_free. */
int lks_merge_batch_new(lks_delta_table *t, const lks_merge_opts *o, lks_merge_batch **out, lks_err *err);
/* Adds one event (copied).  `stream` names its source stream (e.g.
 * "salesdb-cdc.salesdb.CUSTOMER:0"); `next_pos` is that stream's position
 * after this event (e.g. Kafka offset + 1).  Events of one stream must come
 * in stream order.  ev NULL only moves the stream's position (a record
 * that is no row change: a tombstone, a schema change, a dead letter). */
int lks_merge_batch_add(lks_merge_batch *b, const lks_cdc_event *ev, const char *stream, int64_t next_pos,
                        lks_err *err);
/* Sets `stream`'s position to next_pos even when the table holds a larger
 * one: the stream's positions restarted in new coordinates (a binlog read
 * from another server after a failover).  Later adds in the batch move it
 * on as usual. */
int lks_merge_batch_rebase(lks_merge_batch *b, const char *stream, int64_t next_pos, lks_err *err);
/* Declares a schema (and primary key) the events of this table have, without
 * an event: a commit then creates the table from it even when the batch
 * holds no row (an empty source table still gets its empty Delta table), and
 * adds its new columns to an existing table. */
int lks_merge_batch_declare(lks_merge_batch *b, const lks_cdc_schema *schema, const int *key, int nkey,
                            lks_err *err);
/* Events held (after dedupe) and bytes of memory used, to size batches. */
void lks_merge_batch_size(const lks_merge_batch *b, int64_t *events, size_t *bytes);
/* Applies and commits the batch (retrying lost races; LKS_ECONFLICT when a
 * concurrent writer touched the same keys).  A batch with no events but
 * stream positions still commits the positions (nothing, version -1, while
 * the table does not exist: there is no schema to create it from).  stats
 * may be NULL.  On success the batch is emptied and takes the next events.
 * On failure it is left as it was: after LKS_ECONFLICT the caller commits
 * it again, which re-reads the table from a fresh snapshot (files written
 * by the failed attempt are left for VACUUM).  Other errors: LKS_EINVAL for
 * a column whose type changed incompatibly (naming it), a non-nullable
 * column without a value, or a stream the table already holds past this
 * batch's position; scan, writer and commit errors as they give them. */
int lks_merge_batch_commit(lks_merge_batch *b, lks_merge_stats *stats, lks_err *err);
void lks_merge_batch_free(lks_merge_batch *b);

/* The position stored for `stream` in the snapshot (the txn version of
 * appId "lakesync:<stream>"), or -1. */
int64_t lks_merge_stream_version(const lks_delta_snapshot *s, const char *stream);

/* ---- from a raw zone ----------------------------------------------------------------------- */

/* Called after every committed batch and, for long batches, every few
 * seconds with committed == 0 (progress). */
typedef void lks_merge_progress_fn(void *ud, const lks_merge_stats *st, int committed, double elapsed_s);

typedef struct lks_merge_rawzone_opts {
    lks_merge_opts merge;
    const char *topics_dir;       /* default "topics" */
    const char *topic;            /* NULL: every topic (then `warehouse` maps topics to tables) */
    lks_store *warehouse;         /* topic <prefix>.<db>.<table> → <warehouse>/<db>/<table>; NULL: use `table` */
    lks_delta_table *table;       /* the one target table when warehouse is NULL */
    const lks_dbz_opts *dbz;      /* codec options (hint is filled from the table) */
    int64_t max_batch_events;     /* default 1000000 */
    const char *dead_letter;      /* key prefix in the raw store for undecodable records; NULL: stop */
    lks_merge_progress_fn *progress;
    void *progress_ud;
    /* Optional: once *stop is non-zero (e.g. set by a signal handler), the
     * pass commits what it has read so far and returns LKS_OK. */
    const volatile sig_atomic_t *stop;
} lks_merge_rawzone_opts;

/* One pass: for each target table, reads the raw zone from the positions
 * the table holds, merges in batches, commits; returns when the raw zone
 * holds nothing newer.  totals may be NULL. */
int lks_merge_rawzone(lks_store *raw, const lks_merge_rawzone_opts *o, lks_merge_stats *totals, lks_err *err);

/* The warehouse table of a topic "<prefix>.<db>.<table>": "<db>/<table>"
 * (in a); NULL when the topic has another form or the names cannot be a
 * key. */
char *lks_merge_topic_table(const char *topic, lks_arena *a);

/* ---- record feeds -------------------------------------------------------------------------- */

/* The per-table half of a merge from Kafka records, shared by the raw-zone
 * pass and the Kafka streaming merge: records of one topic's partitions
 * (key and value JSON, offset) decoded as lks_merge_rawzone says (type
 * hint from the table or the first enveloped event, key columns from the
 * options, the table or the Kafka keys, dead letters), added to a merge
 * batch under the stream "<topic>:<partition>" with next_pos offset + 1.
 * Tombstones and records that are no row change only move the position. */
typedef struct lks_merge_feed lks_merge_feed;

/* o: merge, dbz, max_batch_events, dead_letter and progress are used
 * (borrowed, like t, until the feed is freed).  Dead letters are put in
 * dead_store.  Each commit's statistics are added to *totals. */
int lks_merge_feed_new(lks_delta_table *t, const char *topic, const lks_merge_rawzone_opts *o, lks_store *dead_store,
                       lks_merge_stats *totals, lks_merge_feed **out, lks_err *err);
/* Reads the table's latest snapshot: every position it holds for this
 * topic (bookmarks in a), and, when the feed holds nothing uncommitted, the
 * table's columns and key again (another writer may have created or
 * widened the table). */
int lks_merge_feed_load(lks_merge_feed *f, lks_arena *a, lks_rz_bookmark **pos, size_t *n, lks_err *err);
/* Adds one record (rec->object NULL for records that come from no object:
 * errors then name topic, partition and offset).  Records of a partition
 * come in offset order.  Commits by itself when the batch is full
 * (max_batch_events, memory).  Errors as lks_merge_rawzone's. */
int lks_merge_feed_add(lks_merge_feed *f, const lks_rz_record *rec, lks_err *err);
/* Records added since the last commit. */
int64_t lks_merge_feed_pending(const lks_merge_feed *f);
/* Commits what was added since the last commit (nothing when nothing was).
 * On failure everything stays for another attempt (after LKS_ECONFLICT,
 * from a fresh snapshot). */
int lks_merge_feed_commit(lks_merge_feed *f, lks_err *err);
/* Drops what is uncommitted. */
void lks_merge_feed_free(lks_merge_feed *f);

#endif
