#!/bin/sh
# Every C source of the project is as .clang-format writes it. Usage:
# format_check.sh SOURCE_DIR; exits 1 naming the files that differ, 77 (skipped)
# without clang-format (scripts/deps.sh installs Debian's).
set -eu
cd "$1"
command -v clang-format >/dev/null 2>&1 || { echo "clang-format not installed"; exit 77; }
files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h' 2>/dev/null ||
        find src include tests -name '*.[ch]')
bad=0
for f in $files; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "$f: not formatted (clang-format -i $f)"
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "format: ok"
exit $bad
