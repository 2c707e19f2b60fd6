/*
 * log.h — listing a Delta log and choosing the files that make up a
 * version (a "log segment": the newest usable checkpoint at or below it
 * plus the contiguous JSON commits after it).  Internal to src/delta/.
 */
#ifndef LKS_DELTA_LOG_H
#define LKS_DELTA_LOG_H

#include "delta/delta_int.h"

typedef struct lks_delta_log_file {
    int64_t version;
    char kind;         /* as lks_delta_log_name_version(): 'j', 'c', 'v', 'r', 'x' */
    int part, nparts;  /* classic multi-part checkpoints: 1-based part of nparts; else 1 of 1 */
    const char *key;   /* object key */
    const char *name;  /* last segment of key */
    uint64_t size;     /* size and mtime: 0 when the listing was names only */
    int64_t mtime_us;
} lks_delta_log_file;

/* The log files of a table, ascending by (version, name).  Files under
 * _delta_log/ sub-folders (sidecars) and unknown names are left out. */
typedef struct lks_delta_log_listing {
    lks_delta_log_file *files;
    size_t n;
    int64_t last_checkpoint; /* version named by a valid _last_checkpoint, -1 none */
    int names_only;          /* listed with LKS_STORE_LIST_NAMES: size/mtime_us unknown */
    lks_arena arena;         /* owns the above */
} lks_delta_log_listing;

/* Lists the log (and reads _last_checkpoint, ignoring it when missing or
 * malformed).  LKS_ENOTFOUND when the table has no log at all.  Free with
 * lks_delta_log_listing_free() (also after an error). */
int lks_delta_log_list(lks_delta_table *t, lks_delta_log_listing *out, lks_err *err);
/* The same listing without the size and mtime of each file (one metadata
 * call per file saved); lks_delta_log_mtime() gives a file's mtime. */
int lks_delta_log_list_names(lks_delta_table *t, lks_delta_log_listing *out, lks_err *err);
void lks_delta_log_listing_free(lks_delta_log_listing *l);

/* mtime (µs) of file f of listing l: from the listing, or asked of the
 * store when l is names only. */
int lks_delta_log_mtime(lks_delta_table *t, const lks_delta_log_listing *l, const lks_delta_log_file *f,
                        int64_t *mtime_us, lks_err *err);

/* Latest version of the listing (commit or checkpoint), -1 when empty. */
int64_t lks_delta_log_latest(const lks_delta_log_listing *l);

typedef struct lks_delta_segment {
    int64_t version;               /* the target version */
    int64_t checkpoint_version;    /* -1: replay from version 0 */
    const lks_delta_log_file **checkpoint; /* the checkpoint's files (parts in order), ncheckpoint of them */
    int ncheckpoint;
    const lks_delta_log_file **commits; /* JSON commits checkpoint_version+1 .. version, in order */
    size_t ncommits;
    lks_arena arena;               /* owns the arrays (the files belong to the listing) */
} lks_delta_segment;

/* Chooses the segment for `version` (-1: latest) using only checkpoints at
 * or below `max_checkpoint` (-1: any; lets a caller fall back past a
 * checkpoint it could not read).  Errors: LKS_ENOTFOUND (version beyond the
 * log, or before what it can reconstruct), LKS_ECORRUPT (a gap in the
 * commits, naming the missing version).  Free with
 * lks_delta_segment_free() (also after an error). */
int lks_delta_log_segment(const lks_delta_log_listing *l, int64_t version, int64_t max_checkpoint,
                          lks_delta_segment *out, lks_err *err);
void lks_delta_segment_free(lks_delta_segment *sg);

/* The listing entry of commit `version` ('j'), or NULL. */
const lks_delta_log_file *lks_delta_log_find_commit(const lks_delta_log_listing *l, int64_t version);

#endif
