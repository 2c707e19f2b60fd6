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
 * with lks_store_open (local paths, file:// URIs, s3://bucket/prefix).
 *
 * Module details (src/sql/vtab.c):
 *  - Declared types: INTEGER (byte..long), BOOLEAN, REAL / DOUBLE,
 *    DECIMAL(p,s) (NUMERIC affinity: the TEXT value compares numerically),
 *    TEXT (string, date, timestamp, nested JSON), BLOB (binary).  Columns
 *    are those of the snapshot at CREATE time; an older or newer snapshot
 *    is matched by column name (a column it lacks reads as NULL).
 *  - _version = N selects a version; _timestamp = T the latest version
 *    committed at or before T ('YYYY-MM-DD[ HH:MM:SS[.f]][Z|±HH:MM]', no
 *    zone meaning UTC, or an integer of milliseconds since the epoch).
 *    NULL means "not given".  Each overrides the CREATE arguments.
 *    As columns they hold the version read and its commit time.
 *  - Filters: =, <, <=, >, >=, IS NULL, IS NOT NULL on partition columns
 *    are evaluated by the module, once per file (exact, SQLite's
 *    comparison rules with the column's affinity, BINARY collation only;
 *    on a TEXT partition column only against constant text, as a right
 *    side with numeric affinity makes '5.0' equal '5').  On other
 *    top-level primitive columns (and TEXT partition columns otherwise)
 *    they skip files and row groups by stats (string columns: against
 *    constant text only), drop the rows that cannot pass before SQLite
 *    sees them, and SQLite re-checks the rest.  LIMIT/OFFSET stop the scan
 *    early when every other filter is exact and there is no ORDER BY.
 *  - Rows are read column by column in batches where the columns used are
 *    top-level leaves of the Parquet files; memory of the last finished
 *    scan is kept (one per connection) for the next one.  Rowids identify
 *    a row in the snapshot (its file and its position there).
 *    EXPLAIN QUERY PLAN shows the plan ("delta: partition k=?; skip by
 *    stats amount>?; columns 3/7 (0x..)"; "count from stats" when no data
 *    column is used: rows then come from stats.numRecords minus deletion
 *    vectors, and only files without stats are opened).
 *  - Errors (unknown location, missing version, unsupported reader
 *    feature, corrupt log or data) are SQLite errors whose message starts
 *    "delta: table <location>: ".
 * Also registers the SQL function delta_scan_stats('name' | 'schema.name'):
 * JSON {"files_read":N,"files_skipped":N,"files_from_stats":N,"rows":N}
 * of the last scan of that virtual table that finished (NULL before). */
int lks_sql_register(sqlite3 *db, lks_err *err);
/* lks_sql_register whose module opens table locations with these store
 * settings (copied; NULL: none). */
int lks_sql_register_opts(sqlite3 *db, const lks_store_opts *opts, lks_err *err);

/* ---- the warehouse catalogue (catalog.c) -----------------------------------
 *
 * A warehouse is a store location holding tables at <db>/<table>/ (each with
 * a _delta_log/).  The catalogue lists it once and makes every table
 * queryable on a connection as `db.table` and, when no other database has a
 * table of the same name (compared case-insensitively), as `table`.
 *
 * No database is ATTACHed (SQLite allows only 10): each table becomes a
 * virtual table of the temp schema, created on first use, named "db.table"
 * (one quoted identifier holding the dot) and, where unambiguous, `table`.
 * Queries go through lks_sql_warehouse_rewrite(), which turns every
 * `db.table` (identifier, dot, identifier, bare or quoted, whitespace
 * allowed around the dot) naming a catalogued table, whose `db` is not the
 * name of a schema of the connection (main, temp, attached ones) and which
 * is not itself the tail of a longer dotted name, into "db.table"; after
 * FROM, JOIN or a comma, a reference without an alias also gets
 * `AS "table"`, so `table.column` keeps working.  String literals, quoted
 * identifiers, comments and parameters (:name, @name, $name) are never
 * rewritten.  Limitation: a column reference `alias.column` whose alias is
 * the name of a database and column the name of one of its tables is read
 * as a table; quote it ("alias".column) to keep it a column.
 */
typedef struct lks_sql_warehouse lks_sql_warehouse;

/* Lists the warehouse at `uri` (lks_store_open) and prepares its tables on
 * db, which must have the delta module registered (lks_sql_register).
 * `as_of` (NULL: latest) pins every table: all digits is a version, any
 * other text a timestamp (lks_parse_timestamp_us); anything else is
 * LKS_EINVAL.  A table whose snapshot cannot be read at that point fails
 * when a query uses it, not here.  db must outlive the catalogue; caller
 * frees with lks_sql_warehouse_free(). */
int lks_sql_warehouse_open(sqlite3 *db, const char *uri, const char *as_of, lks_sql_warehouse **out, lks_err *err);
/* lks_sql_warehouse_open listing the warehouse with these store settings
 * (NULL: none); register the module with the same ones. */
int lks_sql_warehouse_open_opts(sqlite3 *db, const char *uri, const lks_store_opts *opts, const char *as_of,
                                lks_sql_warehouse **out, lks_err *err);
void lks_sql_warehouse_free(lks_sql_warehouse *wh);

/* Tables found, sorted by (db, table) case-insensitively.  Names are
 * borrowed until lks_sql_warehouse_free(); *ambiguous is set when another
 * database has a table of the same name (no bare `table` then). */
size_t lks_sql_warehouse_count(const lks_sql_warehouse *wh);
void lks_sql_warehouse_table(const lks_sql_warehouse *wh, size_t i, const char **dbname, const char **name,
                             int *ambiguous);

/* Appends to `out` the statement text `sql` (len bytes) with warehouse
 * names rewritten as described above, and creates the virtual tables the
 * text refers to.  A table that fails to open is remembered, not reported:
 * the statement then fails in SQLite with "no such table", and
 * lks_sql_warehouse_explain() gives the reason.  Errors: LKS_ENOMEM. */
int lks_sql_warehouse_rewrite(lks_sql_warehouse *wh, const char *sql, size_t len, lks_buf *out, lks_err *err);

/* Creates the virtual table for `name` ("db.table" or a bare table name,
 * case-insensitive) if needed and appends its name in the temp schema
 * ("salesdb.customer" or "customer", unquoted: quote it in SQL) to out.  LKS_ENOTFOUND for an unknown name, LKS_EINVAL for an
 * ambiguous bare one, the module's error otherwise. */
int lks_sql_warehouse_use(lks_sql_warehouse *wh, const char *name, lks_buf *out, lks_err *err);

/* Given SQLite's error message for a rewritten statement, appends a
 * clearer one to out and returns 1 when the message is "no such table:
 * NAME" and NAME is an ambiguous bare name (which databases hold it) or a
 * table that failed to open (the module's error); returns 0 otherwise. */
int lks_sql_warehouse_explain(const lks_sql_warehouse *wh, const char *errmsg, lks_buf *out);

/* Length of the first complete SQL statement in sql[0..len) (up to and
 * including its ';', as sqlite3_complete decides, so CREATE TRIGGER bodies
 * stay whole); 0 when the text holds no complete statement yet. */
size_t lks_sql_statement_len(const char *sql, size_t len);

#endif
