#!/usr/bin/env python3
"""Reads Tickstream's ticks straight from its Kafka topic with kafka-python:
every partition of `stock_ticks` assigned by hand (no consumer group needed),
from the beginning, one JSON tick per line with its partition and offset.
Tickstream's topics are gzip-compressed by default, which kafka-python reads
with no extra package (lz4 topics need the `lz4` package).

    python consume_kafka.py --brokers 127.0.0.1:9092 [--topic stock_ticks] [--count N]
"""

import argparse
import json

from kafka import KafkaConsumer, TopicPartition


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="stock_ticks")
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()

    consumer = KafkaConsumer(bootstrap_servers=args.brokers.split(","), enable_auto_commit=False)
    partitions = consumer.partitions_for_topic(args.topic)
    if not partitions:
        raise SystemExit(f"no topic {args.topic} on {args.brokers}")
    assigned = [TopicPartition(args.topic, p) for p in sorted(partitions)]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    for tick in ticks(consumer, args.count):
        print(json.dumps(tick), flush=True)
    consumer.close()


def ticks(consumer, count):
    """The first `count` ticks polled, each with its partition and offset."""
    read = 0
    while True:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                tick = json.loads(record.value)
                tick["partition"], tick["offset"] = record.partition, record.offset
                yield tick
                read += 1
                if read == count:
                    return


if __name__ == "__main__":
    main()
