#!/bin/sh
# kcat and protoc, nothing of confirmd's: lists the keys and headers of a topic's
# messages, then prints its first message decoded by protoc against the schema's
# FileDescriptorSet (the build's confirmd-v1.desc, installed in share/confirmd).
#
#   docs/examples/kcat_decode.sh BROKERS DESCRIPTOR_SET [TOPIC [TYPE]]
#
# TOPIC defaults to confirmd.records, TYPE to the message it carries
# (docs/CONSUMERS.md, "Topics"), confirmd.v1.ConfirmationRecord.
set -eu
[ $# -ge 2 ] || { sed -n '6p' "$0" | sed 's/^# *//' >&2; exit 2; }
brokers=$1 desc=$2 topic=${3:-confirmd.records} type=${4:-confirmd.v1.ConfirmationRecord}

# partition, offset, key, headers (id=...,type=...)
kcat -b "$brokers" -C -t "$topic" -o beginning -e -q -f '%p %o %k %h\n'
# the first message's bytes (-f '%s': nothing added) into protoc
kcat -b "$brokers" -C -t "$topic" -o beginning -c 1 -e -q -f '%s' |
    protoc --descriptor_set_in="$desc" --decode="$type"
