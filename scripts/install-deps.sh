#!/usr/bin/env bash
# scripts/install-deps.sh — installs what building and testing lakesync needs
# on Debian 12: compilers and build tools, the compression/hash/JSON
# libraries, clang's libFuzzer runtime, Node.js with npm, and (when
# tests/duckdb/package.json exists) the npm packages of the DuckDB test helper.
#
# Idempotent: only missing Debian packages are installed (apt-get update runs
# only then), and npm runs only when tests/duckdb/node_modules is missing or
# older than package.json / package-lock.json.  Runs as root directly, or
# through sudo otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
    gcc make pkg-config
    clang libclang-rt-14-dev
    libsnappy-dev libzstd-dev zlib1g-dev liblz4-dev libxxhash-dev libjansson-dev libbrotli-dev libroaring-dev
    sqlite3 libsqlite3-dev libedit-dev
    libcurl4-openssl-dev libssl-dev
    mariadb-server mariadb-client libmariadb-dev
    librdkafka-dev kcat
)

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
# Node.js may come from Debian or from another source: look for the commands.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "install-deps: Debian packages present"
fi

# npm packages of the DuckDB test helper (the independent Parquet reader).
helper=tests/duckdb
if [ -f "$helper/package.json" ]; then
    stamp="$helper/node_modules/.package-lock.json" # written by npm on every install
    if [ -f "$stamp" ] && [ "$stamp" -nt "$helper/package.json" ] &&
        { [ ! -f "$helper/package-lock.json" ] || [ "$stamp" -nt "$helper/package-lock.json" ]; }; then
        echo "install-deps: $helper/node_modules up to date"
    else
        echo "install-deps: installing npm packages in $helper"
        if [ -f "$helper/package-lock.json" ]; then
            (cd "$helper" && npm ci --no-audit --no-fund --loglevel=error)
        else
            (cd "$helper" && npm install --no-audit --no-fund --loglevel=error)
        fi
        touch "$stamp" 2>/dev/null || true
    fi
fi
