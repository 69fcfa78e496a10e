#!/usr/bin/env python3
"""Reads Tickstream's ticks straight from its Kafka topic with kafka-python:
every partition of `stock_ticks` assigned by hand (no consumer group needed),
from the beginning, one JSON tick per line with its partition and offset.
Tickstream's topics are gzip-compressed by default, which kafka-python reads
with no extra package (lz4 topics need the `lz4` package).

Records are JSON, or Avro when the producer runs with kafka.format = "avro":
single-object encoded (C3 01, the schema's CRC-64-AVRO fingerprint, the
datum), decoded here with fastavro by docs/api/schemas/Tick.avsc.

    python consume_kafka.py --brokers 127.0.0.1:9092 [--topic stock_ticks] [--count N]
        [--avro-schema ../../docs/api/schemas/Tick.avsc]
"""

import argparse
import io
import json
import pathlib

import fastavro
from kafka import KafkaConsumer, TopicPartition

SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "api" / "schemas"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="stock_ticks")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--avro-schema", default=str(SCHEMAS / "Tick.avsc"))
    args = parser.parse_args()

    avro = AvroTicks(args.avro_schema)
    consumer = KafkaConsumer(bootstrap_servers=args.brokers.split(","), enable_auto_commit=False)
    partitions = consumer.partitions_for_topic(args.topic)
    if not partitions:
        raise SystemExit(f"no topic {args.topic} on {args.brokers}")
    assigned = [TopicPartition(args.topic, p) for p in sorted(partitions)]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    for tick in ticks(consumer, args.count, avro):
        print(json.dumps(tick), flush=True)
    consumer.close()


class AvroTicks:
    """Decodes single-object encoded ticks by the schema in `path`."""

    MAGIC = b"\xc3\x01"

    def __init__(self, path):
        self.schema = fastavro.parse_schema(json.loads(pathlib.Path(path).read_text()))
        canonical = fastavro.schema.to_parsing_canonical_form(self.schema)
        # fastavro gives the fingerprint's little-endian bytes, in hex: as
        # the header carries them.
        fingerprint = fastavro.schema.fingerprint(canonical, "CRC-64-AVRO")
        self.header = self.MAGIC + bytes.fromhex(fingerprint)

    def decode(self, value):
        if value[:10] != self.header:
            raise ValueError(f"not a tick of this schema: header {value[:10].hex()}")
        tick = fastavro.schemaless_reader(io.BytesIO(value[10:]), self.schema)
        tick["timestamp"] = tick["timestamp"].isoformat().replace("+00:00", "Z")
        return {k: v for k, v in tick.items() if v is not None}


def ticks(consumer, count, avro):
    """The first `count` ticks polled, each with its partition and offset."""
    read = 0
    while True:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                if record.value.startswith(AvroTicks.MAGIC):
                    tick = avro.decode(record.value)
                else:
                    tick = json.loads(record.value)
                tick["partition"], tick["offset"] = record.partition, record.offset
                yield tick
                read += 1
                if read == count:
                    return


if __name__ == "__main__":
    main()
