#!/usr/bin/env bash
# Apache Kafka in KRaft mode on this machine, for the tests, the benchmark and the
# demo: 1 to 5 combined broker+controller nodes on free loopback ports, in one
# directory. The jars come from Maven Central through tools/kafka/pom.xml (the one
# place the Kafka version is pinned), cached in the user's Maven repository.
#
#   scripts/kafka.sh start DIR [--brokers N] [--props FILE] [--watch PID]
#                              [--sasl-ssl PEM [--sasl-user USER PASSWORD]...]
#       format and start N nodes (default 1) in DIR, wait until every broker serves
#       metadata, print the bootstrap servers (also in DIR/bootstrap). FILE holds
#       extra server properties appended to every node's (later keys win; @NODE@ and
#       @DIR@ become the node's id and directory). --watch: the nodes die with
#       process PID (a test), even when it is killed.
#       --sasl-ssl: one more listener per node for clients, SASL_SSL (mechanisms
#       SCRAM-SHA-512 and PLAIN), on a free port of its own; PEM holds the brokers'
#       private key (unencrypted PKCS#8) and certificate chain. Its bootstrap servers
#       go to DIR/bootstrap-sasl; brokers and controllers still talk PLAINTEXT among
#       themselves. --sasl-user (repeatable): a client account, as a SCRAM-SHA-512
#       credential written at format time and a PLAIN user of the listener (USER and
#       PASSWORD: letters, digits and ._~+- only). librdkafka before 2.6.1 cannot
#       log in with SCRAM to Kafka 4 (its client-final nonce is refused): PLAIN,
#       over TLS, is what those clients use. CFD_KAFKA_FORMAT_ARGS adds other
#       StorageTool format arguments (split on spaces).
#   scripts/kafka.sh stop DIR             stop every node of DIR (SIGTERM, then SIGKILL)
#   scripts/kafka.sh stop-node DIR I [--kill]   stop node I (1..N); --kill: SIGKILL
#   scripts/kafka.sh start-node DIR I     start node I again on its ports and data
#   scripts/kafka.sh status DIR           one line per node: id, pid or "down", port
#   scripts/kafka.sh classpath            fetch the jars, print the classpath file
#
# DIR/node-I/ holds node I's server.properties, data, kafka.log and pid. Replication
# defaults follow the size: replication factor min(N, 3), min.insync.replicas
# min(N - 1, 2) (1 on one node). Heap: CFD_KAFKA_HEAP (default 384m) per node.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$root/tools/kafka
cpfile=$tools/target/classpath.txt

die() { echo "kafka.sh: $*" >&2; exit 1; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

# The classpath, fetched once: mvn resolves the pom's dependencies into ~/.m2.
classpath() {
    if [ ! -s "$cpfile" ] || [ "$tools/pom.xml" -nt "$cpfile" ]; then
        command -v mvn >/dev/null || die "mvn not found (scripts/deps.sh installs Maven)"
        echo "kafka.sh: resolving Kafka's jars with Maven (once)" >&2
        (cd "$tools" && mvn -q -B dependency:build-classpath \
            -Dmdep.outputFile=target/classpath.txt >&2) ||
            die "mvn dependency:build-classpath failed in tools/kafka"
    fi
    cat "$cpfile"
}

java_bin() {
    command -v java >/dev/null || die "java not found (scripts/deps.sh installs a JRE)"
    echo java
}

# N free loopback ports below the kernel's ephemeral range, so that no client's
# outgoing connection can take one between this check and the broker's bind.
free_ports() {
    python3 - "$1" <<'EOF'
import random, socket, sys
want, got = int(sys.argv[1]), []
lo = 20000
try:
    lo_eph = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except OSError:
    lo_eph = 32768
while len(got) < want:
    p = random.randrange(lo, max(lo + 1000, lo_eph - 1))
    if p in got:
        continue
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p))
        got.append(p)
    except OSError:
        pass
    finally:
        s.close()
print(" ".join(map(str, got)))
EOF
}

node_running() { # DIR I
    local pidf=$1/node-$2/pid
    [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null
}

# Waits until PID leads a session of its own (its setsid is done), or is gone. Until
# then it is in this script's process group, and whoever started the script may kill
# that group once the script has exited (a test harness does, to leave nothing behind):
# a node started again by `start-node`, which returns at once, was killed that way
# before it had logged a line.
own_session() { # PID
    local f
    for _ in $(seq 500); do
        read -r -a f <"/proc/$1/stat" 2>/dev/null || return 0
        [ "${f[5]}" = "$1" ] && return 0
        sleep 0.01
    done
    die "pid $1 did not leave the script's session within 5 s"
}

# Starts node I of DIR in the background and records its pid.
launch() { # DIR I
    local dir=$1 i=$2 nd=$1/node-$2 cp heap java
    cp=$(classpath)
    heap=${CFD_KAFKA_HEAP:-384m}
    # setsid: its own session, so a test's process-group kill does not reach it and
    # `stop` is the one way it ends.
    setsid "$(java_bin)" -Xms64m -Xmx"$heap" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$tools/log4j2.properties" \
        -cp "$cp" kafka.Kafka "$nd/server.properties" >>"$nd/kafka.log" 2>&1 </dev/null &
    java=$!
    echo "$java" >"$nd/pid"
    own_session "$java"
    if [ -s "$dir/watch" ]; then
        local watched
        watched=$(cat "$dir/watch")
        setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do
            sleep 1; done; kill -KILL "$2" 2>/dev/null' watchdog "$watched" "$java" \
            </dev/null >/dev/null 2>&1 &
        own_session $!
    fi
}

# Waits until the cluster's metadata lists every node as a broker.
wait_ready() { # DIR N
    local dir=$1 n=$2 bs deadline
    bs=$(cat "$dir/bootstrap")
    deadline=$((SECONDS + ${CFD_KAFKA_START_TIMEOUT:-90}))
    while [ $SECONDS -lt $deadline ]; do
        for i in $(seq "$n"); do
            node_running "$dir" "$i" && continue
            [ -s "$dir/node-$i/pid" ] || continue
            tail -n 20 "$dir/node-$i/kafka.log" >&2
            die "node $i exited during start-up (log: $dir/node-$i/kafka.log)"
        done
        if kcat -L -b "$bs" -m 3 2>/dev/null | grep -q "^ $n brokers:"; then
            return 0
        fi
        sleep 0.3
    done
    die "the cluster in $dir did not list $n brokers within ${CFD_KAFKA_START_TIMEOUT:-90} s"
}

cmd_start() {
    local dir="" n=1 props="" watch="" pem="" ports voters="" bs="" bs_sasl="" cluster rf isr
    local -a scram=()
    local plain=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --brokers) n=${2:?}; shift 2 ;;
            --props) props=${2:?}; shift 2 ;;
            --watch) watch=${2:?}; shift 2 ;;
            --sasl-ssl) pem=${2:?}; shift 2 ;;
            --sasl-user)
                [[ "${2:-}" =~ ^[A-Za-z0-9._~+-]+$ && "${3:-}" =~ ^[A-Za-z0-9._~+-]+$ ]] ||
                    die "--sasl-user USER PASSWORD: letters, digits and ._~+- only"
                scram+=(--add-scram "SCRAM-SHA-512=[name=$2,password=$3]")
                plain+=" user_$2=\"$3\""
                shift 3 ;;
            -*) die "unknown option: $1" ;;
            *) [ -z "$dir" ] || die "one DIR only"; dir=$1; shift ;;
        esac
    done
    [ -n "$dir" ] || die "start: DIR missing"
    [[ "$n" =~ ^[1-5]$ ]] || die "--brokers: 1 to 5"
    [ -z "$props" ] || [ -r "$props" ] || die "--props: cannot read $props"
    [ -n "$pem" ] || [ ${#scram[@]} -eq 0 ] || die "--sasl-user needs --sasl-ssl"
    if [ -n "$pem" ]; then
        [ -r "$pem" ] || die "--sasl-ssl: cannot read $pem"
        pem=$(cd "$(dirname "$pem")" && pwd)/$(basename "$pem")
    fi
    command -v kcat >/dev/null || die "kcat not found (scripts/deps.sh installs it)"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    for i in $(seq 5); do
        node_running "$dir" "$i" && die "node $i of $dir is running: stop it first"
    done
    rm -rf "$dir"/node-* "$dir/bootstrap" "$dir/bootstrap-sasl" "$dir/watch"
    [ -z "$watch" ] || echo "$watch" >"$dir/watch"
    classpath >/dev/null

    # Per node: the PLAINTEXT port, the controller's, and the SASL_SSL one (at the end).
    read -r -a ports <<<"$(free_ports $((3 * n)))"
    rf=$((n < 3 ? n : 3))
    isr=$((n <= 2 ? 1 : 2))
    for i in $(seq "$n"); do
        voters+="${voters:+,}$i@127.0.0.1:${ports[$((2 * i - 1))]}"
        bs+="${bs:+,}127.0.0.1:${ports[$((2 * i - 2))]}"
    done
    cluster=$("$(java_bin)" -cp "$(classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null |
        tail -n 1)
    [ -n "$cluster" ] || die "StorageTool random-uuid printed nothing"
    for i in $(seq "$n"); do
        local nd=$dir/node-$i bport=${ports[$((2 * i - 2))]} cport=${ports[$((2 * i - 1))]}
        local sport=${ports[$((2 * n + i - 1))]} listeners advertised
        listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
        advertised=PLAINTEXT://127.0.0.1:$bport
        if [ -n "$pem" ]; then
            listeners+=,SASL_SSL://127.0.0.1:$sport
            advertised+=,SASL_SSL://127.0.0.1:$sport
            bs_sasl+="${bs_sasl:+,}127.0.0.1:$sport"
        fi
        mkdir -p "$nd"
        cat >"$nd/server.properties" <<EOF
# Node $i of a $n-node KRaft cluster made by scripts/kafka.sh (combined roles).
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL
log.dirs=$nd/data
# confirmctl topics create makes the service's topics; nothing appears by accident.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
# Tests join groups often: no initial delay; a killed node is noticed within seconds.
group.initial.rebalance.delay.ms=0
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
controller.quorum.election.timeout.ms=1000
controller.quorum.fetch.timeout.ms=2000
log.segment.bytes=16777216
log.retention.check.interval.ms=60000
unclean.leader.election.enable=false
EOF
        if [ -n "$pem" ]; then
            cat >>"$nd/server.properties" <<EOF
# Clients may also come in over SASL_SSL: SCRAM-SHA-512 (credentials written at
# format time) or PLAIN (the users below).
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain;
ssl.keystore.type=PEM
ssl.keystore.location=$pem
ssl.client.auth=none
EOF
        fi
        if [ -n "$props" ]; then
            { echo "# from $props"; sed "s|@NODE@|$i|g; s|@DIR@|$nd|g" "$props"; } \
                >>"$nd/server.properties"
        fi
        echo "$bport" >"$nd/port"
        "$(java_bin)" -cp "$(classpath)" \
            -Dlog4j2.configurationFile="$tools/log4j2.properties" \
            kafka.tools.StorageTool format -t "$cluster" -c "$nd/server.properties" \
            "${scram[@]}" ${CFD_KAFKA_FORMAT_ARGS:-} >"$nd/format.log" 2>&1 ||
            { tail -n 20 "$nd/format.log" >&2; die "formatting node $i failed"; }
    done
    echo "$bs" >"$dir/bootstrap"
    [ -z "$bs_sasl" ] || echo "$bs_sasl" >"$dir/bootstrap-sasl"
    echo "$n" >"$dir/nodes"
    for i in $(seq "$n"); do launch "$dir" "$i"; done
    wait_ready "$dir" "$n"
    echo "$bs"
}

stop_pid() { # PID SIGNAL TIMEOUT_S
    local pid=$1 sig=$2 t=$3
    kill -"$sig" "$pid" 2>/dev/null || return 0
    for _ in $(seq $((t * 10))); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop_node() {
    local dir=${1:?stop-node: DIR missing} i=${2:?stop-node: I missing} sig=TERM
    [ "${3:-}" = "--kill" ] && sig=KILL
    [ -d "$dir/node-$i" ] || die "no node $i in $dir"
    if node_running "$dir" "$i"; then
        stop_pid "$(cat "$dir/node-$i/pid")" "$sig" 20
    fi
    rm -f "$dir/node-$i/pid"
}

cmd_start_node() {
    local dir=${1:?start-node: DIR missing} i=${2:?start-node: I missing}
    [ -f "$dir/node-$i/server.properties" ] || die "no node $i in $dir"
    node_running "$dir" "$i" && die "node $i of $dir is already running"
    launch "$dir" "$i"
}

cmd_stop() {
    local dir=${1:?stop: DIR missing} pids=()
    for nd in "$dir"/node-*; do
        [ -s "$nd/pid" ] || continue
        kill -TERM "$(cat "$nd/pid")" 2>/dev/null && pids+=("$(cat "$nd/pid")")
        rm -f "$nd/pid"
    done
    # All at once: a controller quorum stopped one node at a time waits for the others.
    for p in "${pids[@]}"; do stop_pid "$p" TERM 15; done
}

cmd_status() {
    local dir=${1:?status: DIR missing}
    for nd in "$dir"/node-*; do
        [ -d "$nd" ] || continue
        local i=${nd##*-} state=down
        node_running "$dir" "$i" && state="pid $(cat "$nd/pid")"
        echo "node $i: $state, 127.0.0.1:$(cat "$nd/port")"
    done
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    stop-node) shift; cmd_stop_node "$@" ;;
    start-node) shift; cmd_start_node "$@" ;;
    status) shift; cmd_status "$@" ;;
    classpath) classpath >/dev/null; echo "$cpfile" ;;
    -h|--help|help) usage ;;
    "") usage >&2; exit 2 ;;
    *) die "unknown command: $1 (try --help)" ;;
esac
