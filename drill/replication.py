"""DynamoDB global-table replication between two moto regions (moto 5.2.5 has none).

moto keeps one independent table per region. :class:`GlobalTableReplicator` reads each region's
stream (``NEW_AND_OLD_IMAGES``) and applies every change to the other region, the way global
tables do: asynchronously (only when :meth:`pump` runs — the drill pumps once per simulated
tick, so a write is visible in the other region one tick later), last writer wins by the
stream record's creation time, and nothing flows into or out of a region while it is down (its
records wait in its stream and replicate when it is back — the window in which an old primary's
last orders are invisible to the secondary). Changes the replicator itself applied are not
replicated back (global tables mark them the same way).

Not emulated: replication lag as a distribution, partial replication of one item's attributes,
the ``aws:rep:*`` attributes, TTL deletes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PAGE_LIMIT = 1000


def _key(keys: dict[str, Any]) -> str:
    return json.dumps(keys, sort_keys=True)


def _created(record: dict[str, Any]) -> float:
    value = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value or 0.0)


@dataclass
class _StreamReader:
    streams: Any
    stream_arn: str
    iterator: str | None = None

    def read(self) -> list[dict[str, Any]]:
        if self.iterator is None:
            shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]
            self.iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        records: list[dict[str, Any]] = []
        while True:
            page = self.streams.get_records(ShardIterator=self.iterator, Limit=PAGE_LIMIT)
            self.iterator = page.get("NextShardIterator", self.iterator)
            batch = page.get("Records", [])
            records.extend(batch)
            if len(batch) < PAGE_LIMIT:  # moto returns everything up to the limit at once
                return records


def stream_reader(streams: Any, stream_arn: str) -> Callable[[], list[dict[str, Any]]]:
    """A function returning the stream's records not returned before (one shard, moto)."""
    return _StreamReader(streams, stream_arn).read


@dataclass
class GlobalTableReplicator:
    """Replicates one table between regions; see the module docstring."""

    table_name: str
    dynamodb: dict[str, Any]  # region -> DynamoDB client
    streams: dict[str, Any]  # region -> DynamoDB Streams client
    region_down: Callable[[str], bool]
    replicated: Counter[str] = field(default_factory=Counter)
    _readers: dict[str, Callable[[], list[dict[str, Any]]]] = field(default_factory=dict)
    _echoes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # (region, item key) -> (creation time, writing region) of the last change there; the
    # region breaks ties, as global tables resolve same-instant conflicts deterministically.
    _latest: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    _backlog: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def start(self) -> None:
        """Open each region's stream from its beginning."""
        for region, client in self.dynamodb.items():
            arn = client.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
            self._readers[region] = stream_reader(self.streams[region], arn)
            self._backlog[region] = []

    def pump(self) -> int:
        """Replicate what changed since the last pump between regions that are up."""
        incoming: dict[str, list[tuple[str, dict[str, Any]]]] = {r: [] for r in self.dynamodb}
        for source, read in self._readers.items():
            if self.region_down(source):
                continue
            for record in read():
                key = _key(record["dynamodb"]["Keys"])
                created = _created(record)
                image = record["dynamodb"].get("NewImage")
                echo = (source, key, _key(image) if image else "REMOVE")
                if self._echoes[echo]:
                    self._echoes[echo] -= 1
                    continue
                self._latest[(source, key)] = max(
                    self._latest.get((source, key), (0.0, "")), (created, source)
                )
                for target in self.dynamodb:
                    if target != source:
                        self._backlog[target].append({"source": source, "record": record})
        applied = 0
        for target, backlog in self._backlog.items():
            if self.region_down(target) or not backlog:
                continue
            for entry in backlog:
                incoming[target].append((entry["source"], entry["record"]))
            backlog.clear()
            for source, record in incoming[target]:
                applied += self._apply(source, target, record)
        return applied

    def _apply(self, source: str, target: str, record: dict[str, Any]) -> int:
        keys = record["dynamodb"]["Keys"]
        key = _key(keys)
        version = (_created(record), source)
        if self._latest.get((target, key), (0.0, "")) > version:
            return 0  # last writer wins: the target changed this item later
        self._latest[(target, key)] = version
        client = self.dynamodb[target]
        image = record["dynamodb"].get("NewImage")
        if record["eventName"] == "REMOVE" or not image:
            client.delete_item(TableName=self.table_name, Key=keys)
            self._echoes[(target, key, "REMOVE")] += 1
        else:
            client.put_item(TableName=self.table_name, Item=image)
            self._echoes[(target, key, _key(image))] += 1
        self.replicated[f"{source}->{target}"] += 1
        return 1
