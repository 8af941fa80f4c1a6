#!/usr/bin/env bash
# Checks packaging/confirmd.service (ctest unit.systemd_unit):
#
#   1. `systemd-analyze verify` takes it without a word (it exits 0 even on unknown
#      keys or bad values, so any output fails the check), with ExecStart pointed at the
#      confirmd just built (verify wants an executable there).
#   2. Every exit status it names (SuccessExitStatus, RestartPreventExitStatus) is one
#      `confirmd --help` documents, and every status --help documents is named in the
#      unit's comment table, so the two stay in step.
#
#   tests/systemd_check.sh REPO_ROOT CONFIRMD_BINARY
#
# Exit status: 0 passed, 1 failed, 77 (ctest: skipped) no systemd-analyze.
set -euo pipefail
root=${1:?repo root}
confirmd=${2:?confirmd binary}
unit=$root/packaging/confirmd.service
fail=0
bad() { echo "systemd_check: FAIL: $*" >&2; fail=1; }

[ -r "$unit" ] || { echo "systemd_check: cannot read $unit" >&2; exit 1; }
[ -x "$confirmd" ] || { echo "systemd_check: not executable: $confirmd" >&2; exit 1; }

# 2. Exit statuses: --help's "Exit status:" paragraph lists "N meaning; ...".
help_statuses=$("$confirmd" --help | sed -n '/^Exit status:/,/^$/p' | tr '\n' ' ' |
    grep -oE '(^|[:;] )[0-9]+ ' | grep -oE '[0-9]+' | sort -n | uniq)
[ -n "$help_statuses" ] || bad "no exit statuses in confirmd --help"
named=$(grep -E '^(SuccessExitStatus|RestartPreventExitStatus)=' "$unit" |
    cut -d= -f2 | tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | uniq)
for s in $named; do
    grep -qx "$s" <<<"$help_statuses" || bad "the unit names exit status $s, which confirmd --help does not document"
done
for s in $help_statuses; do
    grep -qE "^#   $s " "$unit" || bad "exit status $s of confirmd --help is not in the unit's comment table"
done

# 1. systemd-analyze verify.
if ! command -v systemd-analyze >/dev/null; then
    echo "systemd_check: systemd-analyze not installed: verify skipped" >&2
    [ $fail -eq 0 ] && exit 77
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=/usr/local/bin/confirmd |ExecStart=$confirmd |" "$unit" >"$tmp/confirmd.service"
grep -q "^ExecStart=$confirmd " "$tmp/confirmd.service" || bad "ExecStart is not /usr/local/bin/confirmd ..."
if ! out=$(cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify ./confirmd.service 2>&1); then
    bad "systemd-analyze verify failed: $out"
elif [ -n "$out" ]; then
    bad "systemd-analyze verify says: $out"
fi
[ $fail -eq 0 ] && echo "systemd_check: packaging/confirmd.service verified; exit statuses: $(echo $help_statuses)"
exit $fail
