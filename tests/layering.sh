#!/bin/sh
# The layering rule: a file never includes a header of a layer above it, nor of a
# sibling layer. Layers, lowest first (README, "Layout"):
#   base < domain < codec, store, bus < app < cmd
# Checks every .c/.h under src/<layer>/ and every public header (as of its own
# layer). Every header in include/confirmd/ must be in the table below, so a new one
# is placed on purpose. Usage: layering.sh [SOURCE_DIR]; exits 1 on any violation.
set -eu
root=${1:-$(dirname "$0")/..}
cd "$root"

# header (under include/) -> layer. "private" = only that layer may include it.
table='
confirmd/alloc.h        base
confirmd/clock.h        base
confirmd/histogram.h    base
confirmd/log.h          base
confirmd/name_index.h   base
confirmd/text.h         base
confirmd/alarm.h        domain
confirmd/assessment.h   domain
confirmd/city.h         domain
confirmd/customer.h     domain
confirmd/due.h          domain
confirmd/duty.h         domain
confirmd/event.h        domain
confirmd/incident.h     domain
confirmd/policy.h       domain
confirmd/record.h       domain
confirmd/types.h        domain
confirmd/alarm_codec.h  codec
confirmd/city_codec.h   codec
confirmd/codec.h        codec
confirmd/v1/            codec private
confirmd/cluster.h      store private
confirmd/frame.h        store
confirmd/inspect.h      store
confirmd/store.h        store
cfd_scripts.h           store private
confirmd/consumer.h     bus
confirmd/kafka.h        bus
confirmd/mockctl.h      bus
confirmd/producer.h     bus
confirmd/config.h       app
confirmd/metrics.h      app
confirmd/policy_file.h  app
confirmd/replay.h       app
confirmd/topics.h       app
confirmd/worker.h       app
'

status=0
# A public header missing from the table, or a table entry with no header.
for h in include/confirmd/*.h; do
    name=${h#include/}
    printf '%s\n' "$table" | awk -v n="$name" '$1 == n { f = 1 } END { exit !f }' || {
        echo "$h: error: not in the layer table of tests/layering.sh"
        status=1
    }
done
for name in $(printf '%s\n' "$table" | awk '$1 ~ /^confirmd\/[^\/]+\.h$/ { print $1 }'); do
    [ -f "include/$name" ] || {
        echo "tests/layering.sh: error: $name is in the layer table but not in include/"
        status=1
    }
done
for d in src/*/; do
    case $(basename "$d") in
    base | domain | codec | store | bus | app | cmd) ;;
    *) echo "$d: error: not a layer of tests/layering.sh"; status=1 ;;
    esac
done

# file, its layer; then every quoted include it makes, judged against the table.
files() {
    for h in include/confirmd/*.h; do
        layer=$(printf '%s\n' "$table" | awk -v n="${h#include/}" '$1 == n { print $2 }')
        [ -n "$layer" ] && echo "$h $layer"
    done
    for l in base domain codec store bus app cmd; do
        [ -d "src/$l" ] && find "src/$l" -name '*.[ch]' | sort | sed "s/\$/ $l/"
    done
    return 0
}
list=$(mktemp)
files >"$list"
trap 'rm -f "$list"' EXIT
while read -r file layer; do
    printf '%s\n' "$table" | awk -v file="$file" -v layer="$layer" -v dir="$(dirname "$file")" '
        function rank(l) {
            return l == "base" ? 0 : l == "domain" ? 1 : \
                   (l == "codec" || l == "store" || l == "bus") ? 2 : l == "app" ? 3 : 4
        }
        NF >= 2 { hdr[$1] = $2; priv[$1] = ($3 == "private") }
        END {
            bad = 0
            while ((getline line < file) > 0) {
                n++
                if (line !~ /^[ \t]*#[ \t]*include[ \t]*"/)
                    continue
                inc = line
                sub(/^[^"]*"/, "", inc)
                sub(/".*$/, "", inc)
                h = inc
                if (!(h in hdr)) {
                    h = inc
                    sub(/[^\/]*$/, "", h) # confirmd/v1/x.pb-c.h -> confirmd/v1/
                }
                if (!(h in hdr)) {
                    # A private header beside the file (sla.h, stage.h) is its own layer.
                    if (inc !~ /\// && (getline junk < (dir "/" inc)) >= 0) {
                        close(dir "/" inc)
                        continue
                    }
                    printf "%s:%d: error: \"%s\" is not in the layer table\n", file, n, inc
                    bad = 1
                    continue
                }
                to = hdr[h]
                if (to == layer)
                    continue
                if (priv[h] || rank(to) >= rank(layer)) {
                    printf "%s:%d: error: %s includes \"%s\" (%s %s)\n", file, n, layer, \
                           inc, priv[h] ? "private to" : "layer", to
                    bad = 1
                }
            }
            exit bad
        }' || status=1
done <"$list"
# The client libraries stay in their layer: librdkafka in the bus (and the programs,
# which own a client or the mock cluster; mockctl.h is the mock cluster's, for them),
# hiredis in the store (cluster.h is the store's own: private to it).
outside() { # file, library, where it belongs
    if grep -q "#[ \t]*include[ \t]*<$2/" "$1"; then
        echo "$1: error: includes <$2/...> outside $3"
        status=1
    fi
}
for f in $(find src include -name '*.[ch]' | sort); do
    case $f in
    src/bus/* | src/cmd/* | include/confirmd/mockctl.h) ;;
    *) outside "$f" librdkafka src/bus ;;
    esac
    case $f in
    src/store/* | src/cmd/* | include/confirmd/cluster.h) ;;
    *) outside "$f" hiredis src/store ;;
    esac
done
[ $status -eq 0 ] && echo "layering: ok"
exit $status
