# lib_report.bash — the result lines of a scenario test (sourced, not run):
# "ok NAME", "FAIL NAME: WHY" and "skip NAME: WHY", counted, and the final
# "N passed, N failed, N skipped" line that tests/run.sh adds up.

pass=0 fail=0 skip=0

ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
skipped() { skip=$((skip + 1)); echo "skip $1: $2"; }

# finish: the summary line, then the script ends (non-zero when anything failed)
finish() {
    echo "$pass passed, $fail failed, $skip skipped"
    exit $((fail > 0))
}

# oneline FILE: the start of FILE on one line, for a FAIL line
oneline() { head -c 600 "$1" | tr '\n' ' '; }
