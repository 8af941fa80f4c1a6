#!/usr/bin/env python3
"""MTTR per service tier from confirmd's completed records, with the SLA breaches.

Reads confirmd.records and confirmd.alerts from the beginning to their current end,
decodes each message by its "type" header with the Python modules protoc generates
from proto/confirmd/v1 (the build puts them in <build>/python), drops repeats by the
"id" header, keeps the highest version of each work order's record, and prints one
line per tier:

    TIER_AAA orders=2 mttr_min=75.0 breaches=0

MTTR is the mean of restored_at_ms - reported_at_ms over the orders restored.

    PYTHONPATH=build/python python3 docs/examples/mttr_by_tier.py -b localhost:9092
"""
import argparse
import collections
import sys
import uuid

from confluent_kafka import Consumer, KafkaError, TopicPartition

from confirmd.v1 import alert_pb2, common_pb2, record_pb2

MESSAGES = {
    "confirmd.v1.ConfirmationRecord": record_pb2.ConfirmationRecord,
    "confirmd.v1.SlaAlert": alert_pb2.SlaAlert,
}


def header(msg, name):
    for key, value in msg.headers() or []:
        if key == name:
            return value.decode()
    return None


def read_all(brokers, topics, idle_s):
    """Yields every message of topics, from the beginning to the end seen at start."""
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": "mttr-example-" + uuid.uuid4().hex,  # assign() only, nothing joined
        "enable.auto.commit": False,
        "enable.partition.eof": True,
    })
    parts = []
    for topic in topics:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        parts += [TopicPartition(topic, p, 0) for p in meta.partitions]  # offset 0: beginning
    consumer.assign(parts)
    left = {(tp.topic, tp.partition) for tp in parts}
    while left:
        msg = consumer.poll(idle_s)
        if msg is None:
            break
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                left.discard((msg.topic(), msg.partition()))
                continue
            raise RuntimeError(msg.error().str())
        yield msg
    consumer.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-b", "--brokers", required=True)
    ap.add_argument("--records", default="confirmd.records")
    ap.add_argument("--alerts", default="confirmd.alerts")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds without a message")
    args = ap.parse_args()

    seen = set()      # output ids: a re-sent output carries the id it had
    latest = {}       # work order -> its record of the highest version
    breaches = collections.Counter()
    for msg in read_all(args.brokers, [args.records, args.alerts], args.idle):
        out_id, kind = header(msg, "id"), MESSAGES.get(header(msg, "type"))
        if kind is None or out_id in seen:
            continue
        seen.add(out_id)
        value = kind.FromString(msg.value())
        if isinstance(value, record_pb2.ConfirmationRecord):
            old = latest.get(value.work_order)
            if old is None or value.version > old.version:
                latest[value.work_order] = value
        elif value.kind == alert_pb2.ALERT_KIND_BREACH:
            breaches[value.tier] += 1

    restore = collections.defaultdict(list)
    for rec in latest.values():
        if rec.restored_at_ms and rec.reported_at_ms:
            restore[rec.customer.tier].append(rec.restored_at_ms - rec.reported_at_ms)
    for tier in sorted(set(restore) | set(breaches)):
        times = restore.get(tier, [])
        mttr = sum(times) / len(times) / 60000 if times else 0.0
        print("%s orders=%d mttr_min=%.1f breaches=%d"
              % (common_pb2.Tier.Name(tier), len(times), mttr, breaches[tier]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
