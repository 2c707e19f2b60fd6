/*
 * sql.h — SQL over Delta tables with the SQLite engine: the "delta"
 * virtual-table module, and a warehouse catalogue that makes every table
 * under <warehouse>/<db>/<table>/ queryable.
 *
 *   CREATE VIRTUAL TABLE t USING delta('/path/to/table' [, version=N]
 *                                      [, timestamp='2024-05-01 12:00:00']);
 *
 * Columns carry the table's Delta types mapped to SQLite values:
 * integers as INTEGER; float/double as REAL; decimals as TEXT with exactly
 * `scale` fraction digits (exact, never rounded through a double); strings
 * as TEXT; binary as BLOB; booleans as 0/1; dates "YYYY-MM-DD"; timestamps
 * ISO-8601 with microseconds ("…Z" for timestamp, none for timestamp_ntz);
 * structs, arrays and maps as JSON text (DESIGN.md "Rows as text").
 * Hidden columns _version and _timestamp select the snapshot: constrained
 * with = in WHERE or passed as table-valued-function arguments
 * (`SELECT * FROM t(3)`, `FROM t(NULL, '2024-05-01')`).
 */
#ifndef LKS_SQL_H
#define LKS_SQL_H

#include "core/core.h"
#include "store/store.h"

#include <sqlite3.h>

/* Registers the "delta" module on db.  The module opens table locations
 * with lks_store_open (local paths, file:// URIs; S3 once it exists). */
int lks_sql_register(sqlite3 *db, lks_err *err);

#endif
