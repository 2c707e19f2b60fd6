/*
 * delta_int.h — what the files of src/delta/ share and nobody else sees:
 * the table handle and one log action as a tagged union.
 */
#ifndef LKS_DELTA_INT_H
#define LKS_DELTA_INT_H

#include "delta/delta.h"

struct lks_delta_table {
    lks_store *st;    /* borrowed */
    char *prefix;     /* "" or "db/t" (no trailing '/') */
    char *log_prefix; /* "_delta_log/" or "db/t/_delta_log/" */
};

enum {
    LKS_DA_NONE = 0, /* an action we do not know: ignored, as the spec says */
    LKS_DA_PROTOCOL,
    LKS_DA_METADATA,
    LKS_DA_ADD,
    LKS_DA_REMOVE,
    LKS_DA_TXN,
    LKS_DA_DOMAIN,
    LKS_DA_COMMIT_INFO,
    LKS_DA_CDC,
    LKS_DA_CHECKPOINT_META, /* V2 checkpoint: checkpointMetadata */
    LKS_DA_SIDECAR          /* V2 checkpoint: sidecar */
};

typedef struct lks_delta_commit_info {
    int64_t timestamp;            /* ms, -1 when absent */
    int64_t in_commit_timestamp;  /* ms, -1 when absent */
    const char *operation;        /* NULL when absent */
    const char *txn_id;           /* lakesync's and Spark's unique commit id, NULL when absent */
    const char *json;             /* the whole commitInfo object as JSON text */
} lks_delta_commit_info;

typedef struct lks_delta_sidecar {
    const char *path;
    int64_t size_in_bytes, modification_time;
} lks_delta_sidecar;

typedef struct lks_delta_action {
    int kind; /* LKS_DA_* */
    union {
        lks_delta_protocol protocol;
        lks_delta_metadata metadata;
        lks_delta_add add;
        lks_delta_remove remove;
        lks_delta_txn_action txn;
        lks_delta_domain domain;
        lks_delta_commit_info commit_info;
        lks_delta_add cdc; /* path, partitionValues, size, dataChange, tags */
        int64_t checkpoint_version; /* checkpointMetadata.version */
        lks_delta_sidecar sidecar;
    } u;
} lks_delta_action;

/* Parses one JSON line of a commit file or a V2 JSON checkpoint into an
 * action; strings copied into a.  Unknown action kinds give LKS_DA_NONE;
 * unknown fields are ignored.  LKS_ECORRUPT naming the field on malformed
 * or mistyped input (the caller prefixes file and line). */
int lks_delta_action_parse(const char *line, size_t len, lks_arena *a, lks_delta_action *out, lks_err *err);
/* Appends one action as a JSON line (with '\n'). */
int lks_delta_action_write(lks_buf *b, const lks_delta_action *act);

/* Reads the actions of a Parquet checkpoint (classic part, or V2
 * checkpoint / sidecar file) at object key `key`, calling fn for each. */
typedef int lks_delta_action_fn(void *ud, const lks_delta_action *act, lks_err *err);
int lks_delta_checkpoint_read_parquet(lks_delta_table *t, const char *key, lks_arena *a, lks_delta_action_fn *fn,
                                      void *ud, lks_err *err);

/* Log file names. */
/* "00000000000000000012.json" → 12 and kind; -1 for names that are not log
 * files.  kind: 'j' commit, 'c' classic checkpoint (single or part), 'v' V2
 * checkpoint (uuid-named), 'r' version checksum (.crc), 'x' compacted. */
int64_t lks_delta_log_name_version(const char *name, char *kind);

#endif
