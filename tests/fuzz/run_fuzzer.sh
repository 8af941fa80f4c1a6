#!/bin/sh
# Runs one libFuzzer target for a bounded time over a copy of its seed corpus, so the
# source tree is never written, and prints libFuzzer's final figures.
#
#   run_fuzzer.sh FUZZER CORPUS_DIR SECONDS ARTIFACT_DIR
#
# A crash input is kept as ARTIFACT_DIR/<fuzzer>-crash-<sha1>: copy it to
# tests/fuzz/regressions/ and unit.fuzz_regressions_* replays it in every build.
# Exit status: 0 nothing found, 77 the fuzzer is not built (ctest: skipped), other:
# the fuzzer found something.
set -eu

if [ $# -ne 4 ]; then
    echo "usage: $0 FUZZER CORPUS_DIR SECONDS ARTIFACT_DIR" >&2
    exit 2
fi
fuzzer=$1 corpus=$2 seconds=$3 artifacts=$4
if [ ! -x "$fuzzer" ]; then
    echo "run_fuzzer: $fuzzer is not built (scripts/test.sh builds it): skipped"
    exit 77
fi
name=$(basename "$fuzzer")
work=$(mktemp -d "${TMPDIR:-/tmp}/cfd-$name-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
cp "$corpus"/* "$work/corpus/"

status=0
# libFuzzer's own exit status for a finding is 77, which ctest would read as skipped.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$work/corpus" \
    >"$work/log" 2>&1 || status=$?
grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' \
    "$work/log" || true
if [ "$status" -ne 0 ]; then
    tail -n 60 "$work/log"
    echo "run_fuzzer: $name failed (exit $status); inputs in $artifacts/"
fi
exit "$status"
