#!/usr/bin/env bash
# Installs what is missing, builds with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs the whole test suite through one ctest run: unit, integration (real
# redis-server, embedded Kafka-protocol broker), chaos, the same integration and chaos
# tests on Apache Kafka (label kafka: KRaft clusters started by scripts/kafka.sh, the
# jars fetched from Maven Central once), the fuzzers for a bounded time each (label
# fuzz) and one worker under valgrind (label valgrind).
#
#   scripts/test.sh              everything
#   scripts/test.sh -L unit      extra arguments go to ctest
#   CFD_FUZZ_SECONDS=60 scripts/test.sh   fuzz longer (default 20 s per fuzzer)
#   CFD_BUILD_DIR=build-mine scripts/test.sh   another build directory
#
# Three builds: build-test (gcc, ASan + UBSan) runs every test; build-fuzz (clang,
# libFuzzer, ASan + UBSan) only builds the fuzzers that build-test's ctest runs; and
# build-test/plain, confirmd alone without sanitizers, because valgrind cannot run an
# ASan binary. A missing clang or valgrind skips those tests instead of failing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
jobs=$(nproc)
root=$PWD
build=${CFD_BUILD_DIR:-build-test}
fuzz_build=build-fuzz
plain=$build/plain

if command -v clang >/dev/null; then
    # Every tests/fuzz/fuzz_<name>.c is a target, as tests/CMakeLists.txt registers them.
    fuzzers=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
    # clang does not know gcc's -Wno-format-truncation: let it pass.
    CC=clang cmake -S . -B "$fuzz_build" -DCMAKE_BUILD_TYPE=Debug -DCFD_FUZZ=ON \
        -DCFD_SANITIZE=ON -DCMAKE_C_FLAGS=-Wno-unknown-warning-option >/dev/null
    cmake --build "$fuzz_build" -j"$jobs" --target $fuzzers
fi
cmake -S . -B "$plain" -DCMAKE_BUILD_TYPE=Debug -DCFD_TESTS=OFF >/dev/null
cmake --build "$plain" -j"$jobs" --target confirmd

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCFD_SANITIZE=ON \
    -DCFD_FUZZ_BUILD_DIR="$root/$fuzz_build" -DCFD_PLAIN_BUILD_DIR="$root/$plain" \
    -DCFD_FUZZ_SECONDS="${CFD_FUZZ_SECONDS:-20}" >/dev/null
cmake --build "$build" -j"$jobs"
cd "$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --output-on-failure -j2 "$@"
