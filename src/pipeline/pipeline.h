/*
 * pipeline.h — `lakesync run` and `lakesync capture`: a live MySQL/MariaDB
 * source (source.h) into Delta tables (merge.h) in one process, or into
 * Debezium JSON lines.
 *
 * The run: connect and check the server; list the tables the filters
 * admit; open each lake table <warehouse>/<db>/<table> and read where its
 * binlog stream stands (the `txn` action "lakesync:binlog:<topic.prefix>",
 * version = binlog file index << 32 | position, always a transaction
 * boundary).  Tables without a position are snapshotted (snapshot.mode):
 * one consistent read view, rows as `r` events in primary-key chunks, the
 * first commit emptying what an interrupted earlier snapshot left, the last
 * one storing the snapshot's binlog position.  Then the binlog is streamed
 * from the lowest position any table holds; each table skips transactions
 * it already holds, collects its row changes in a merge batch and commits
 * every merge.interval.ms (or merge.max.events) at a transaction boundary,
 * storing the boundary in the same commit.  A transaction larger than
 * merge.max.events is committed in parts without moving the position: a
 * restart replays it whole, and since every change is an upsert of its after
 * image or a delete of its key the replay converges (the lake may show part
 * of such a transaction until its end is committed).
 *
 * Each table commits on its own: a source transaction that spans tables is
 * not atomic across lake tables.  A table nothing happens to has its
 * position moved forward at most every merge.idle.commit.ms and at a
 * graceful stop, so a restart does not re-read much.
 *
 * DDL: ALTER TABLE … ADD COLUMN reaches the lake as a new nullable column
 * with the next row event (the binlog's table map names the columns);
 * TRUNCATE TABLE empties the lake table; CREATE TABLE of an admitted table
 * starts tracking it (its rows all come from the binlog); DROP TABLE stops
 * tracking it (the lake table stays); RENAME TABLE and ALTER TABLE … RENAME
 * of a tracked table stop the run with an error that says what to do.
 * Other DDL is logged; a column change the lake cannot take (a type it
 * cannot widen) stops the run with the merge's error naming the column.
 */
#ifndef LKS_PIPELINE_H
#define LKS_PIPELINE_H

#include "core/config.h"
#include "merge/merge.h"

#include <signal.h>
#include <stdio.h>

/* Properties of the source (database.*, filters, snapshot.*) and of the
 * run (merge.*, delta.*). */
extern const lks_conf_prop lks_conf_source[];
extern const lks_conf_prop lks_conf_pipeline[];

typedef struct lks_pipeline_status {
    const char *phase;        /* "connecting", "snapshot", "streaming", "stopping" */
    const char *table;        /* snapshot: "db.table" being read */
    int64_t snap_rows, snap_total; /* snapshot rows read / estimate (-1 unknown) */
    double snap_rate;         /* snapshot rows per second for this table */
    int64_t events;           /* row changes read from the binlog */
    int64_t commits;          /* Delta commits */
    int64_t last_version;     /* version of the last commit, -1 */
    double lag_s;             /* now − commit time of the last transaction read (0 when idle) */
    double events_per_s;      /* over the last few seconds */
    const char *file;         /* binlog position read */
    uint64_t pos;
} lks_pipeline_status;

typedef struct lks_pipeline_opts {
    const lks_config *cfg;    /* lks_conf_core + lks_conf_source + lks_conf_pipeline (+ parquet) */
    /* Exit 0 once the binlog end seen after the snapshot is reached and
     * committed (tests, the demo, cron-style runs).  Otherwise run until
     * *stop. */
    int stop_at_end;
    const volatile sig_atomic_t *stop; /* set by a signal handler: commit what is read, exit 0 */
    /* capture: write each change as a Debezium JSON line here instead of
     * merging (no positions are stored: resume with --from-position). */
    FILE *events_out;
    int events_schemas;       /* capture: the {"schema","payload"} envelope */
    /* capture: start here instead of the snapshot / table positions
     * ("FILE:POS"; NULL: snapshot per snapshot.mode, then stream) */
    const char *from_position;
    /* Called about every 250 ms and at phase changes (status lines). */
    void (*status)(void *ud, const lks_pipeline_status *st);
    void *status_ud;
    /* capture into something else than lines (Kafka): with emit set,
     * capture hands each change to emit instead of writing events_out
     * (which may then be NULL), and calls boundary at every source
     * transaction boundary it passes (after each COMMIT, force 0) and when
     * it stops (force 1), with the binlog position after it: every change
     * emitted before belongs to transactions that end there.  A non-zero
     * return stops the run with that error. */
    int (*emit)(void *ud, const lks_cdc_event *ev, lks_err *err);
    int (*boundary)(void *ud, const char *file, uint64_t pos, int force, lks_err *err);
    void *emit_ud;
} lks_pipeline_opts;

int lks_pipeline_run(const lks_pipeline_opts *o, lks_err *err);

/* A capture's saved position as text: {"file":"F","pos":N} and a line
 * break, into out; its length, or LKS_EINVAL for a file name that cannot
 * be saved (quotes, backslashes, line breaks, too long). */
int lks_pipeline_pos_save_text(const char *file, uint64_t pos, char *out, size_t cap, lks_err *err);
/* That text read back as "FILE:POS" into buf: LKS_OK, LKS_ECORRUPT
 * naming `what` (where the text came from) for anything else, LKS_ELIMIT
 * when buf is too small. */
int lks_pipeline_pos_load_text(const char *text, const char *what, char *buf, size_t cap, lks_err *err);

/* ---- capture into a raw zone (capture.output=rawzone, rz_capture.c) ---------------------- */

#include "rawzone/rawzone.h"

typedef struct lks_rz_capture_opts {
    lks_store *raw;            /* the raw zone (raw.path), borrowed */
    const char *topic_prefix;  /* topics <topic_prefix>.<db>.<table> */
    lks_rz_writer_opts w;      /* topics.dir, flush.size, rotate.*, gzip, store.kafka.keys */
    lks_dbz_write_opts value;  /* the event JSON (value.converter.schemas.enable) */
    int key_schemas;           /* keys with the envelope (with store_keys) */
    int64_t flush_interval_ms; /* offset.flush.interval.ms */
} lks_rz_capture_opts;

typedef struct lks_rz_capture lks_rz_capture;

int lks_rz_capture_new(const lks_rz_capture_opts *o, lks_rz_capture **out, lks_err *err);
void lks_rz_capture_free(lks_rz_capture *c);
/* The saved position as "FILE:POS" into buf: 1 when there is one, 0 when
 * none (a first start), negative on error. */
int lks_rz_capture_position(lks_rz_capture *c, char *buf, size_t cap, lks_err *err);
/* The emit and boundary hooks of lks_pipeline_opts. */
int lks_rz_capture_event(lks_rz_capture *c, const lks_cdc_event *ev, lks_err *err);
int lks_rz_capture_boundary(lks_rz_capture *c, const char *file, uint64_t pos, int force, lks_err *err);
/* Events appended so far. */
int64_t lks_rz_capture_written(const lks_rz_capture *c);

/* The binlog stream's position encoding: file index << 32 | pos.  Returns
 * -1 when the file name has no numeric suffix. */
int64_t lks_pipeline_pos_encode(const char *file, uint64_t pos);

#endif
