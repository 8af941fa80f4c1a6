#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds, starts a
# private redis-server and the embedded Kafka-protocol broker, runs one confirmd
# worker, feeds the inventory, the sample events and NOC alarms (config/samples/) plus
# one undecodable message, prints the alerts, completed records and dead letters, then
# stops everything it started.
#
#   scripts/demo.sh           on the embedded broker (fast, nothing to fetch)
#   scripts/demo.sh --kafka   the same on a one-node Apache Kafka (KRaft) cluster that
#                             scripts/kafka.sh starts (jars fetched from Maven Central
#                             once), with the topics made by `confirmctl topics create`
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kafka=0
case "${1:-}" in
    --kafka) kafka=1 ;;
    "") ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target confirmd confirmctl confirmd-broker

tmp=$(mktemp -d "${TMPDIR:-/tmp}/confirmd-demo.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ "$kafka" -eq 0 ] || scripts/kafka.sh stop "$tmp/kafka" >/dev/null 2>&1 || true
    if [ -n "${CFD_KEEP_TMP:-}" ]; then echo "demo: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 20000))
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$kafka" -eq 1 ]; then
    say "starting redis-server (AOF on) and Apache Kafka (one KRaft node)"
else
    say "starting redis-server (AOF on) and the embedded broker"
fi
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly yes \
    --appendfsync everysec --dir "$tmp" --logfile "$tmp/redis.log" &
pids+=($!)
if [ "$kafka" -eq 1 ]; then
    bs=$(scripts/kafka.sh start "$tmp/kafka" --watch $$)
    build/confirmctl topics create -b "$bs" --partitions 8
else
    build/confirmd-broker --bootstrap-file "$tmp/bootstrap" >"$tmp/broker.out" \
        2>"$tmp/broker.log" &
    pids+=($!)
fi
for _ in $(seq 100); do
    { [ "$kafka" -eq 1 ] || [ -s "$tmp/bootstrap" ]; } &&
        redis-cli -p "$rport" ping >/dev/null 2>&1 && break
    sleep 0.1
done
[ "$kafka" -eq 1 ] || bs=$(cat "$tmp/bootstrap")
echo "redis 127.0.0.1:$rport, broker $bs"

say "starting one confirmd worker (log: worker.log)"
build/confirmd -c config/confirmd.ini --set "kafka.bootstrap.servers=$bs" \
    --set "redis.port=$rport" --set "kafka.consumer.group.id=confirmd-demo" \
    --set kafka.consumer.session.timeout.ms=6000 2>"$tmp/worker.log" &
pids+=($!)

say "feeding the inventory, the sample events and the NOC alarms"
build/confirmctl inventory -b "$bs" config/samples/inventory.csv
build/confirmctl produce -b "$bs" config/samples/demo-events.jsonl
build/confirmctl produce -b "$bs" -t confirmd.alarms --type Alarm config/samples/demo-alarms.jsonl
printf 'this is not a protobuf event\n' >"$tmp/bad.jsonl"
build/confirmctl produce -b "$bs" --raw-invalid "$tmp/bad.jsonl" 2>/dev/null

# Done when the partitions' applied offsets in Redis (events, alarms, inventory, city
# reports; the alarm and city stages add messages of their own) stop moving.
applied() {
    local sum=0 off
    for p in $(seq 0 7); do
        for t in confirmd.events confirmd.alarms confirmd.inventory confirmd.city-reports; do
            off=$(redis-cli -p "$rport" hget "cfd:{p$p}:meta" "off:$t")
            [ -n "$off" ] && sum=$((sum + off + 1))
        done
    done
    echo "$sum"
}
last=-1
stable=0
for _ in $(seq 300); do
    now=$(applied)
    if [ "$now" -gt 0 ] && [ "$now" = "$last" ]; then
        stable=$((stable + 1))
        [ "$stable" -ge 10 ] && break
    else
        stable=0
    fi
    last=$now
    sleep 0.1
done
echo "applied: $(applied) messages"

export TZ=${TZ:-Asia/Shanghai}
tail_topic() {
    build/confirmctl tail -b "$bs" -t "$1" --from-beginning --timeout-ms 2000 "${@:2}" || true
}
say "SLA alerts"
tail_topic confirmd.alerts --pretty
say "completed confirmation records"
tail_topic confirmd.records --pretty
say "severe faults (incidents)"
tail_topic confirmd.incidents --pretty
say "dead letters"
tail_topic confirmd.deadletter --pretty
say "the alarm-opened work order's state in Redis"
redis-cli -p "$rport" --raw keys 'cfd:*:alm:*' | sed 's/^/alarm state: /'
say "the last record of WO-DEMO-1 in full (JSON)"
tail_topic confirmd.records | grep '"WO-DEMO-1"' | tail -n 1

say "worker log (no customer names, phones or addresses)"
grep -E 'alert|record|incident|dead letter|parked|duplicate' "$tmp/worker.log" | cut -c1-160 || true
echo
echo "demo: stopping redis, broker and worker"
