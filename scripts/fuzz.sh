#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each one in turn for a
# bounded time over a copy of its seed corpus, so the source tree is never written.
#
#   scripts/fuzz.sh              60 s per fuzzer
#   scripts/fuzz.sh 600          10 min per fuzzer
#   scripts/fuzz.sh 600 state    only fuzz_state_decode (the word after fuzz_)
#
# Crash inputs are kept in build-fuzz/artifacts/; copy one to tests/fuzz/regressions/
# (a name saying what it is) and unit.fuzz_regressions_* replay it in every build.
# Exit status: 0 when no fuzzer found anything, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
only=${2:-}
build=build-fuzz

if [ ! -f "$build/CMakeCache.txt" ]; then
    # clang does not know gcc's -Wno-format-truncation: let it pass.
    CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCFD_FUZZ=ON \
        -DCMAKE_C_FLAGS=-Wno-unknown-warning-option \
        -DCFD_SANITIZE=ON >/dev/null
fi
# Every tests/fuzz/fuzz_<name>.c is a target, as tests/CMakeLists.txt registers them.
fuzzers=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
cmake --build "$build" -j"$(nproc)" --target $fuzzers

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for name in $fuzzers; do
    corpus=${name#fuzz_}
    corpus=${corpus%%_*} # the corpus is named by the first word after fuzz_
    [ -n "$only" ] && [ "$only" != "$corpus" ] && continue
    echo "fuzz.sh: $name for ${seconds} s"
    tests/fuzz/run_fuzzer.sh "$build/tests/$name" \
        "tests/fuzz/corpus/$corpus" "$seconds" "$build/artifacts" || status=1
done
exit $status
