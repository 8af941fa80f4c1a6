#!/bin/sh
# Installs the Debian packages confirmd needs to build and test, skipping those
# already installed. Safe to run again: with nothing missing it changes nothing.
#
#   scripts/deps.sh            install what is missing
#   scripts/deps.sh --check    only report what is missing (exit 1 if anything is)
#
# Written for Debian bookworm (librdkafka 2.0.2, hiredis 0.14.1, redis 7.0). Java 17 and
# Maven run Apache Kafka for the tests (scripts/kafka.sh, tools/kafka/pom.xml).
# redis-tools (redis-cli, which redis-server pulls in anyway) joins the test harness's
# Redis Cluster (tests/integration/harness.c, h_cluster_start()).
# docker-compose (1.29) validates docker/compose.yaml (tests/compose_check.sh); without
# its recommended docker.io it installs no Docker engine.
# protobuf-compiler (protoc) builds the schema's FileDescriptorSet and the Python modules
# of the consumer examples (docs/CONSUMERS.md), which run on python3-confluent-kafka and
# python3-protobuf; kcat with protoc --decode is the other example.
# chromium (headless) opens the wallboard page in integration.it_board (skipped without).
# systemd (systemd-analyze) verifies packaging/confirmd.service (tests/systemd_check.sh).
set -eu

PACKAGES="build-essential cmake pkg-config librdkafka-dev libhiredis-dev
libprotobuf-c-dev protobuf-c-compiler libjson-c-dev libinih-dev libcmocka-dev libssl-dev
libzstd-dev libmicrohttpd-dev libjemalloc-dev redis-server redis-tools kcat clang clang-format libclang-rt-14-dev valgrind
openjdk-17-jre-headless maven docker-compose protobuf-compiler python3-protobuf
python3-confluent-kafka chromium systemd"

check_only=0
case "${1:-}" in
    --check) check_only=1 ;;
    "") ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deps.sh: unknown argument: $1" >&2; exit 2 ;;
esac

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=""
for p in $PACKAGES; do
    installed "$p" || missing="$missing $p"
done

if [ -z "$missing" ]; then
    echo "deps.sh: all packages installed"
    exit 0
fi
echo "deps.sh: missing:$missing"
if [ "$check_only" -eq 1 ]; then
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "deps.sh: not root and no sudo: install as root:$missing" >&2
    exit 1
fi

redis_was_installed=0
installed redis-server && redis_was_installed=1

echo "deps.sh: apt-get update"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "deps.sh: installing:$missing"
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing

# The package starts a system redis on port 6379. Tests start their own on free
# ports, so stop it and keep it from coming back at boot; the binary stays.
if [ "$redis_was_installed" -eq 0 ] && installed redis-server; then
    echo "deps.sh: stopping the system redis-server service"
    $SUDO service redis-server stop >/dev/null 2>&1 || true
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable redis-server >/dev/null 2>&1 || true
    fi
fi
echo "deps.sh: done"
