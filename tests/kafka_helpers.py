"""Reading a topic from the beginning, for tests that count what really travelled."""
from __future__ import annotations

import json
import time
from collections import Counter

from shared.bus import PLAINTEXT, KafkaSecurity


def read_all(bootstrap: str, topic: str, expected: int = 0, timeout_s: float = 30.0, *,
             security: KafkaSecurity = PLAINTEXT) -> list:
    """Every record on `topic`, read by a throwaway consumer, waiting until at least `expected` are seen."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=1000, **security.client_options())
    records, deadline = [], time.monotonic() + timeout_s
    try:
        while True:
            for record in consumer:
                records.append(record)
            if len(records) >= expected or time.monotonic() > deadline:
                break
        for record in consumer:  # one more short read, to catch anything beyond what was expected
            records.append(record)
    finally:
        consumer.close()
    return records


def events_by_type(records, event_type: str) -> Counter:
    """How many times each subject got an event of `event_type`."""
    counts: Counter = Counter()
    for record in records:
        document = json.loads(record.value)
        if document["type"] == event_type:
            counts[document["subject"]] += 1
    return counts
