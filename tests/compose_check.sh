#!/usr/bin/env bash
# Checks docker/compose.yaml without a Docker engine (ctest unit.compose_config):
#
#   1. Its Kafka image is apache/kafka:<kafka.version of tools/kafka/pom.xml>, the
#      version the tests run, so the pin stays in one place in effect.
#   2. Its Kafka nodes' server properties are those scripts/kafka.sh writes for a
#      cluster of as many nodes (replication factor min(N, 3), min.insync.replicas 2
#      on 3 nodes, ...), both ways: nothing missing, nothing added. Only the network
#      and identity keys (node id, listeners, voters, log.dirs) differ by design.
#   3. Its profile `cluster` has six Redis nodes in cluster mode, the one-shot
#      `redis-cli --cluster create ... --cluster-replicas 1` and workers with
#      redis.cluster on that wait for it.
#   4. Debian's docker-compose (1.29) validates it (`config -q`), with the profile
#      cluster too, and so does the Compose v2 plugin (`docker compose config -q`)
#      where it is installed, which must also name the project confirmd (from
#      docker/.env).
#
#   tests/compose_check.sh [REPO_ROOT]
#
# Exit status: 0 passed, 1 failed, 77 (ctest: skipped) checks 1 and 2 passed but
# neither docker-compose nor the docker compose plugin is installed.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
compose=$root/docker/compose.yaml
pom=$root/tools/kafka/pom.xml
kafkash=$root/scripts/kafka.sh
fail=0
bad() { echo "compose_check: FAIL: $*" >&2; fail=1; }

for f in "$compose" "$pom" "$kafkash"; do
    [ -r "$f" ] || { echo "compose_check: cannot read $f" >&2; exit 1; }
done

# 1. The image tag.
version=$(sed -n 's|.*<kafka.version>\([^<]*\)</kafka.version>.*|\1|p' "$pom")
[ -n "$version" ] || { echo "compose_check: no kafka.version in $pom" >&2; exit 1; }
images=$(sed -n 's|^[[:space:]]*image:[[:space:]]*"\{0,1\}\(apache/kafka[^"[:space:]]*\)"\{0,1\}.*|\1|p' \
    "$compose")
[ -n "$images" ] || bad "no apache/kafka image in docker/compose.yaml"
for img in $images; do
    [ "$img" = "apache/kafka:$version" ] ||
        bad "docker/compose.yaml runs $img, tools/kafka/pom.xml pins $version"
done
echo "compose_check: Kafka image apache/kafka:$version, as tools/kafka/pom.xml"

# 2. The broker settings. KAFKA_A_B in the image's environment is property a.b
# ("__" stands for "_", "___" for "-").
nodes=$(grep -c '^[[:space:]]*KAFKA_NODE_ID:' "$compose" || true)
[ "$nodes" -ge 1 ] || { bad "no KAFKA_NODE_ID in docker/compose.yaml"; nodes=1; }
rf=$((nodes < 3 ? nodes : 3))
isr=$((nodes <= 2 ? 1 : 2))
# Network and identity keys, necessarily different between containers and loopback.
own='^(node\.id|controller\.quorum\.voters|listeners|advertised\.listeners|listener\.security\.protocol\.map|log\.dirs)$'

# scripts/kafka.sh's server.properties template, with $rf and $isr for this size.
expected=$(awk '/server\.properties" <<EOF$/ { on = 1; next } on && /^EOF$/ { exit }
                on && !/^#/ && /=/ { print }' "$kafkash" |
    sed "s/\$rf\$/$rf/; s/\$isr\$/$isr/")
expected=$(printf '%s\n' "$expected" | awk -F= -v own="$own" '$1 !~ own')
[ -n "$expected" ] || bad "no server.properties template found in scripts/kafka.sh"

# The compose file's KAFKA_* settings as properties (the heap options are not one).
actual=$(sed -n 's/^[[:space:]]*KAFKA_\([A-Z0-9_]*\):[[:space:]]*\(.*\)$/\1=\2/p' "$compose" |
    grep -v '^HEAP_OPTS=' |
    sed 's/[[:space:]]*$//; s/="\(.*\)"$/=\1/' |
    awk -F= '{ k = $1; sub(/^[^=]*=/, ""); gsub(/___/, "-", k); gsub(/__/, "\001", k);
               gsub(/_/, ".", k); gsub(/\001/, "_", k); print tolower(k) "=" $0 }' |
    awk -F= -v own="$own" '$1 !~ own' | sort -u)

while IFS= read -r kv; do
    [ -n "$kv" ] || continue
    key=${kv%%=*}
    got=$(printf '%s\n' "$actual" | awk -F= -v k="$key" '$1 == k' || true)
    if [ -z "$got" ]; then
        bad "scripts/kafka.sh sets $kv, docker/compose.yaml does not set $key"
    elif [ "$(printf '%s\n' "$got" | sort -u)" != "$kv" ]; then
        bad "scripts/kafka.sh sets $kv, docker/compose.yaml: $(echo $got)"
    fi
done <<<"$expected"
while IFS= read -r kv; do
    [ -n "$kv" ] || continue
    printf '%s\n' "$expected" | grep -q "^${kv%%=*}=" ||
        bad "docker/compose.yaml sets $kv, which scripts/kafka.sh does not"
done <<<"$actual"
echo "compose_check: $(printf '%s\n' "$expected" | grep -c .) broker settings as" \
    "scripts/kafka.sh writes them for $nodes node(s)"

# 3. The profile cluster.
nodes_c=$(grep -c '^  redis-c[0-9]:$' "$compose" || true)
[ "$nodes_c" -eq 6 ] || bad "the profile cluster has $nodes_c Redis nodes, not 6"
grep -q '"--cluster-enabled", "yes"' "$compose" ||
    bad "the cluster nodes do not run with --cluster-enabled yes"
grep -q 'redis-cli --cluster create .* --cluster-replicas 1 --cluster-yes' "$compose" ||
    bad "no redis-cli --cluster create with one replica per master"
worker_c=$(sed -n '/^  worker-cluster:$/,/^  [a-z]/p' "$compose")
for want in 'profiles: \["cluster"\]' 'redis.cluster=on' 'redis-cluster-create:' \
    'service_completed_successfully'; do
    printf '%s\n' "$worker_c" | grep -q "$want" || bad "worker-cluster lacks $want"
done
echo "compose_check: profile cluster: $nodes_c Redis nodes, cluster create, workers on it"

# 4. Validation by the Compose implementations installed here.
validated=0
if command -v docker-compose >/dev/null 2>&1; then
    for profile in "" "--profile cluster"; do
        # shellcheck disable=SC2086 # no profile: no words
        if out=$(docker-compose -f "$compose" $profile config -q 2>&1); then
            echo "compose_check: $(docker-compose version --short 2>/dev/null ||
                echo docker-compose)${profile:+ $profile}: config -q passed"
        else
            bad "docker-compose -f docker/compose.yaml $profile config -q: $out"
        fi
    done
    validated=1
fi
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    for profile in "" "--profile cluster"; do
        # shellcheck disable=SC2086
        if out=$(docker compose -f "$compose" $profile config -q 2>&1); then
            echo "compose_check: docker compose $(docker compose version --short)${profile:+ $profile}: config -q passed"
        else
            bad "docker compose -f docker/compose.yaml $profile config -q: $out"
        fi
    done
    name=$(docker compose -f "$compose" config 2>/dev/null | sed -n 's/^name: *//p')
    [ "$name" = confirmd ] || bad "docker compose names the project '$name', not confirmd"
    validated=1
else
    echo "compose_check: no docker compose plugin here: Compose v2 not checked"
fi

[ "$fail" -eq 0 ] || exit 1
if [ "$validated" -eq 0 ]; then
    echo "compose_check: neither docker-compose nor docker compose installed: skipped"
    exit 77
fi
echo "compose_check: passed"
