#!/usr/bin/env bash
# Benchmarks that print figures (not tests): builds Release in build-bench and prints
# one table (measure, value, unit, note) headed by the core count, the load average
# and the broker, from one run of each benchmark on the same kind of broker and Redis.
#
#   scripts/bench.sh                  the full table (about 2 minutes on 2 cores)
#   scripts/bench.sh --small          a CI-sized table (under 2 minutes)
#   scripts/bench.sh --kafka ...      on Apache Kafka (scripts/kafka.sh) instead of the
#                                     embedded broker
#   scripts/bench.sh --soak SECONDS   the fixed-load run (latency, worker RSS) that long
#   scripts/bench.sh --rate N         its offered load in events/s (default 5000)
#   scripts/bench.sh --check          exit 1 unless every row holds a number
#   scripts/bench.sh --bin DIR        use the benchmarks built in DIR, build nothing
#   scripts/bench.sh pipeline 50000   one benchmark with its arguments, its own output
#
# The benchmarks' own lines go to stderr as they run, the table to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

small=0 check=0 soak="" rate=5000 bin="" broker="embedded (confirmd-broker)"
while [ $# -gt 0 ]; do
    case "$1" in
        --kafka) export CFD_TEST_BROKER=kafka broker="Apache Kafka (scripts/kafka.sh)" ;;
        --small) small=1 ;;
        --check) check=1 ;;
        --soak) soak=$2; shift ;;
        --rate) rate=$2; shift ;;
        --bin) bin=$2; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
    shift
done

if [ -z "$bin" ]; then
    scripts/deps.sh >/dev/null
    bin=build-bench
    cmake -S . -B "$bin" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$bin" -j"$(nproc)" >/dev/null
fi
if [ $# -gt 0 ]; then
    name=$1
    shift
    exec "$bin/tests/bench_$name" "$@"
fi

if [ "$small" = 1 ]; then
    size=small orders=2000 open_timers=20000 due_timers=500 core=2000 cg=200
    alarms=20000 objects=1000
    seconds=${soak:-5}
else
    size=full orders=20000 open_timers=1000000 due_timers=2000 core=20000 cg=2000
    alarms=1000000 objects=10000
    seconds=${soak:-20}
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$bin/CMakeCache.txt")
if grep -q '^CFD_SANITIZE:BOOL=ON' "$bin/CMakeCache.txt"; then
    build_type="$build_type with sanitizers (figures not comparable)"
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cfd-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rows=$tmp/rows
: >"$rows"
failed=0
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# Runs one benchmark: its lines to stderr, its rows kept.
run() {
    local name=$1
    shift
    echo "== bench_$name $*" >&2
    if ! "$bin/tests/bench_$name" "$@" >"$tmp/out" 2>"$tmp/err"; then
        failed=1
        echo "bench_$name failed" >&2
    fi
    grep -v $'^ROW\t' "$tmp/out" >&2 || true
    cat "$tmp/err" >&2
    grep $'^ROW\t' "$tmp/out" | cut -f2- >>"$rows" || true
}

run bare "$orders" 16
run pipeline "$orders" 16
run latency "$rate" "$seconds"
run timers "$open_timers" "$due_timers"
run storm "$alarms" "$objects"
run core "$core"

# Instructions per event under callgrind, counted only inside one function of
# bench_core (stable on a busy machine where time is not). Arguments: the row's
# measure, the function, the bench_core row whose note gives the event count ("<n>
# events"), and the note.
callgrind_row() {
    local measure=$1 fn=$2 from=$3 note=$4
    if ldd "$bin/tests/bench_core" | grep -q libasan; then
        printf '%s\t-\tinstr/event\tskipped: a sanitizer build, which valgrind cannot run\n' "$measure" >>"$rows"
        return
    elif ! command -v valgrind >/dev/null; then
        printf '%s\t-\tinstr/event\tskipped: valgrind not installed\n' "$measure" >>"$rows"
        return
    fi
    echo "== callgrind bench_core $cg, $fn" >&2
    if valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" --collect-atstart=no \
        "--toggle-collect=$fn*" "$bin/tests/bench_core" "$cg" >"$tmp/out" 2>"$tmp/err"; then
        ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/cg")
        events=$(awk -F'\t' -v m="$from" '$1 == "ROW" && $2 == m { print $5 }' "$tmp/out" |
            sed -n 's/.* \([0-9]*\) events.*/\1/p')
        printf '%s\t%s\tinstr/event\tcallgrind, %s events: %s\n' "$measure" \
            "$(awk -v i="$ir" -v e="$events" 'BEGIN { printf "%.0f", i / e }')" "$events" \
            "$note" >>"$rows"
    else
        failed=1
        cat "$tmp/err" >&2
    fi
}
# The apply path is cfd_record_apply alone (apply_all, parks re-applied); the state
# path what a worker does per event around it (state_all: decode, apply, encode).
callgrind_row "apply path instructions" apply_all "core apply time" \
    "cfd_record_apply, parks re-applied"
callgrind_row "state path instructions" state_all "state path time" \
    "state decode + cfd_record_apply + state encode"

echo "confirmd benchmarks: nproc $(nproc), load average $load_start at start," \
    "$(cut -d' ' -f1-3 /proc/loadavg) at the end; broker $broker; redis-server" \
    "$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), AOF everysec;" \
    "$size size, $build_type"
# The ratio of the first two throughputs, after confirmd's.
awk -F'\t' '
    { print }
    $1 == "bare pipe throughput" { bare = $2 }
    $1 == "confirmd throughput" && bare > 0 {
        printf "confirmd / bare pipe\t%.2f\tratio\tthroughput of the two rows above\n", $2 / bare
    }' "$rows" >"$tmp/all"
awk -F'\t' '
    function line(m, v, u, n) { printf "%-34s %10s  %-11s %s\n", m, v, u, n }
    BEGIN { line("measure", "value", "unit", "note"); line("-------", "-----", "----", "----") }
    { line($1, $2, $3, $4) }' "$tmp/all"

if [ "$check" = 1 ]; then
    # Every row the benchmarks promise, each with a number (or skipped with a reason).
    expected="bare pipe throughput|bare pipe CPU, client|bare pipe CPU, redis|confirmd throughput
confirmd / bare pipe|confirmd CPU, worker|confirmd CPU, redis|redis bytes per work order
redis bytes per open record|redis bytes per completed record|worker RSS at the first batch
worker peak RSS, backlog|latency p50|latency p99|latency max|CPU at fixed load, worker
CPU at fixed load, redis|worker RSS at start|worker RSS after soak|SLA timer lateness p50
SLA timer lateness p99|redis bytes per timer|core apply time|apply path instructions|replay
state path time|state path instructions|completed state size
alarm storm absorbed|SLA lateness in the storm p50|SLA lateness in the storm p99"
    bad=0
    while IFS= read -r m; do
        row=$(awk -F'\t' -v m="$m" '$1 == m { print; exit }' "$tmp/all")
        value=$(printf '%s' "$row" | cut -f2)
        if [ -z "$row" ]; then
            echo "bench.sh --check: no row \"$m\"" >&2
            bad=1
        elif ! [[ "$value" =~ ^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$ ]] &&
            ! [[ "$row" == *"skipped: "* ]]; then
            echo "bench.sh --check: row \"$m\" has no number: $row" >&2
            bad=1
        fi
    done < <(printf '%s\n' "$expected" | tr '|' '\n')
    [ "$bad" = 0 ] && [ "$failed" = 0 ] || exit 1
fi
exit "$failed"
