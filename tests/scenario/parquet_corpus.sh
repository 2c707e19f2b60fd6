#!/usr/bin/env bash
# parquet_corpus.sh — lakesync's Parquet reader on the apache/parquet-testing
# corpus (../shared/corpus/parquet): every file read and compared value by
# value with the stored DuckDB / hyparquet / upstream references, or refused
# with the expected error; see tests/duckdb/corpus.mjs.  Needs node only (no
# npm packages; with tests/duckdb/node_modules present the nested files are
# also compared with DuckDB run live).
# Environment: LAKESYNC_BIN, LAKESYNC_ASAN_BIN (optional), LAKESYNC_CORPUS.
set -u
cd "$(dirname "$0")/../.." || exit 2
node=${NODE:-$(command -v node || command -v nodejs || true)}
if [ -z "$node" ]; then
    echo "skip parquet_corpus: node not found (install nodejs)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
exec "$node" tests/duckdb/corpus.mjs
