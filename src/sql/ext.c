/*
 * ext.c — the "delta" module as a loadable extension for the stock sqlite3
 * shell (built as build/ext/lakesync.so, never into liblakesync):
 *
 *   sqlite> .load build/ext/lakesync
 *   sqlite> CREATE VIRTUAL TABLE t USING delta('/path/to/table');
 *
 * The module code in the extension is vtab.c compiled with LKS_SQLITE_EXT,
 * so it calls SQLite through the routines the host passes here.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "sql/sql.h"

#ifdef _WIN32
__declspec(dllexport)
#endif
    int sqlite3_lakesync_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi);

int sqlite3_lakesync_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
    SQLITE_EXTENSION_INIT2(pApi);
    lks_err err;
    lks_err_clear(&err);
    if (lks_sql_register(db, &err) != LKS_OK) {
        if (pzErrMsg)
            *pzErrMsg = sqlite3_mprintf("lakesync: %s", err.msg);
        return SQLITE_ERROR;
    }
    return SQLITE_OK;
}
