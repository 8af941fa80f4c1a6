#!/usr/bin/env bash
# Benchmarks that print figures (not tests): builds optimised and runs them.
#   scripts/bench.sh                 all of them with their defaults
#   scripts/bench.sh pipeline 50000  one benchmark with its arguments
#   scripts/bench.sh --kafka pipeline   on Apache Kafka (scripts/kafka.sh) instead of
#                                       the embedded broker
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--kafka" ]; then
    export CFD_TEST_BROKER=kafka
    shift
fi
scripts/deps.sh >/dev/null
cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-rel -j"$(nproc)" >/dev/null
if [ $# -gt 0 ]; then
    name=$1
    shift
    exec "build-rel/tests/bench_$name" "$@"
fi
for b in build-rel/tests/bench_*; do
    echo "== ${b##*/}"
    "$b"
done
