/*
 * rawzone.h — raw change records in the Confluent S3 sink connector's
 * layout, on any object store:
 *
 *   <topics.dir>/<topic>/partition=<p>/<topic>+<p>+<startOffset>.json[.gz]
 *
 * with startOffset zero-padded to 10 digits, one record value per line
 * (JSON; a tombstone is the line "null"), the record at line i having
 * offset startOffset + i.  With `store.kafka.keys` the keys sit beside the
 * values in `<topic>+<p>+<startOffset>.keys.json[.gz]`, line for line.
 *
 * Reading is driven by bookmarks: per topic-partition, the next offset to
 * read.  A reader yields only records at or after the bookmark, in offset
 * order per partition; an object that overlaps the bookmark (rewritten by a
 * retrying sink) is read from the bookmark's line, and an object whose
 * records were all read is not opened.  Offsets never repeat: a later
 * object starting below the end of an earlier one is corrupt (reported),
 * never applied twice.
 *
 * Writing produces the same layout with deterministic names (the first
 * offset of each object), so a rewritten object replaces itself.
 */
#ifndef LKS_RAWZONE_H
#define LKS_RAWZONE_H

#include "core/core.h"
#include "store/store.h"

/* One topic-partition position. */
typedef struct lks_rz_bookmark {
    const char *topic;
    int partition;
    int64_t next_offset;
} lks_rz_bookmark;

/* One object of the layout. */
typedef struct lks_rz_object {
    const char *key; /* object key in the store */
    const char *topic;
    int partition;
    int64_t start_offset;
    uint64_t size;
    int gzip;
    int has_keys;    /* a .keys.json object sits beside it */
} lks_rz_object;

/* Lists the objects under topics_dir ("topics" by default, "" for the
 * store root), for one topic or all (NULL), sorted by topic, partition,
 * start offset.  Keys that do not follow the layout are skipped (counted in
 * *skipped when non-NULL).  Memory in a. */
int lks_rz_list(lks_store *st, const char *topics_dir, const char *topic, lks_arena *a, lks_rz_object **out,
                size_t *n, size_t *skipped, lks_err *err);

/* Parses "<topic>+<p>+<offset>.json[.gz]" (the last path segment). */
int lks_rz_parse_name(const char *name, lks_arena *a, lks_rz_object *out);

/* ---- reading -------------------------------------------------------------------------- */

typedef struct lks_rz_record {
    const char *topic;
    int partition;
    int64_t offset;
    lks_slice value;  /* the JSON line; "null" (or empty) for a tombstone */
    lks_slice key;    /* the key line when keys are stored, else {NULL, 0} */
    int tombstone;
    const char *object; /* object key, for error messages */
    int64_t line;       /* 1-based line in the object */
} lks_rz_record;

typedef struct lks_rz_reader lks_rz_reader;

typedef struct lks_rz_reader_opts {
    const char *topics_dir;       /* default "topics" */
    const char *topic;            /* NULL: every topic */
    const lks_rz_bookmark *start; /* where to begin per topic-partition (copied); absent ones from 0 */
    size_t nstart;
    int64_t max_records;          /* stop after this many records (0: no limit) */
    uint64_t max_line_bytes;      /* default 64 MiB: a longer line is LKS_ELIMIT */
} lks_rz_reader_opts;

/* Lists the layout once at open; objects appearing later are read by the
 * next reader. */
int lks_rz_reader_open(lks_store *st, const lks_rz_reader_opts *o, lks_rz_reader **out, lks_err *err);
/* Next record in (topic, partition, offset) order: 1 with a record (valid
 * until the next call), 0 at the end, negative on error (naming object and
 * line: a missing line, gzip corruption, keys and values out of step,
 * overlapping objects). */
int lks_rz_reader_next(lks_rz_reader *r, lks_rz_record *rec, lks_err *err);
/* The positions after the last record returned, one per topic-partition
 * seen (including those only given in opts->start). */
int lks_rz_reader_positions(const lks_rz_reader *r, const lks_rz_bookmark **out, size_t *n);
void lks_rz_reader_free(lks_rz_reader *r);

/* ---- writing ----------------------------------------------------------------------------- */

typedef struct lks_rz_writer lks_rz_writer;

typedef struct lks_rz_writer_opts {
    const char *topics_dir;         /* default "topics" */
    int64_t flush_size;             /* records per object (flush.size), default 1000 */
    int64_t rotate_interval_ms;     /* by record timestamps (rotate.interval.ms), 0: off */
    int64_t rotate_schedule_interval_ms; /* by wall clock (rotate.schedule.interval.ms), 0: off */
    int gzip;                       /* write .json.gz */
    int store_keys;                 /* write .keys.json beside */
    int tombstones;                 /* 1: write "null" lines (behavior.on.null.values=write); 0: skip */
} lks_rz_writer_opts;

int lks_rz_writer_open(lks_store *st, const lks_rz_writer_opts *o, lks_rz_writer **out, lks_err *err);
/* Appends one record.  Offsets must increase within a topic-partition; a
 * gap is allowed (compacted topics).  value NULL or "null": a tombstone.
 * ts_ms: the record timestamp (for rotate_interval_ms).  An object is
 * published (put) when it reaches flush_size or a rotation is due. */
int lks_rz_writer_append(lks_rz_writer *w, const char *topic, int partition, int64_t offset, lks_slice key,
                         lks_slice value, int64_t ts_ms, lks_err *err);
/* Publishes every open object (e.g. at shutdown, or from a timer for
 * rotate_schedule_interval_ms). */
int lks_rz_writer_flush(lks_rz_writer *w, lks_err *err);
/* Positions durable so far (next offset per topic-partition after the last
 * published object): what a sink may commit to Kafka. */
int lks_rz_writer_durable(const lks_rz_writer *w, const lks_rz_bookmark **out, size_t *n);
void lks_rz_writer_free(lks_rz_writer *w); /* drops unpublished records */

#endif
