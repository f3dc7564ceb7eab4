"""Service graph statistics, added up from traces' calls and shaped as X-Ray returns them.

Aggregates support removal as well as addition, so that the store can keep one per second of
trace start time up to date as traces change or are evicted, and a graph query only merges
those. Node and edge times are therefore whole seconds, as in X-Ray's own answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .analysis import (
    CLIENT_TYPE,
    ERROR,
    FAULT,
    OK,
    THROTTLE,
    Analysis,
    NodeKey,
)


def histogram_value(seconds: float) -> float:
    """Three significant digits at most, to the millisecond: a histogram then has a bounded
    number of buckets however many requests it counts."""
    if seconds < 1:
        return round(seconds, 3) if seconds >= 0.001 else (0.001 if seconds > 0 else 0.0)
    if seconds < 10:
        return round(seconds, 2)
    if seconds < 100:
        return round(seconds, 1)
    return float(round(seconds, 3 - len(str(int(seconds)))))


@dataclass(slots=True)
class Stats:
    """X-Ray's summary statistics plus a response-time histogram."""

    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # OK, ERROR, THROTTLE, FAULT
    total_time: float = 0.0
    histogram: dict[float, int] = field(default_factory=dict)

    def add(self, outcome: int, response_time: float, sign: int = 1) -> None:
        self.counts[outcome] += sign
        self.total_time += sign * response_time
        value = histogram_value(response_time)
        count = self.histogram.get(value, 0) + sign
        if count:
            self.histogram[value] = count
        else:
            self.histogram.pop(value, None)

    def merge(self, other: Stats) -> None:
        for index, count in enumerate(other.counts):
            self.counts[index] += count
        self.total_time += other.total_time
        for value, count in other.histogram.items():
            self.histogram[value] = self.histogram.get(value, 0) + count

    @property
    def total(self) -> int:
        return sum(self.counts)

    def summary(self) -> dict[str, Any]:
        ok, error, throttle, fault = (
            self.counts[OK],
            self.counts[ERROR],
            self.counts[THROTTLE],
            self.counts[FAULT],
        )
        return {
            "OkCount": ok,
            "ErrorStatistics": {
                "ThrottleCount": throttle,
                "OtherCount": error,
                "TotalCount": error + throttle,
            },
            "FaultStatistics": {"OtherCount": fault, "TotalCount": fault},
            "TotalCount": ok + error + throttle + fault,
            # Float sums drift when samples are removed again; a microsecond is plenty.
            "TotalResponseTime": round(max(self.total_time, 0.0), 6),
        }

    def histogram_entries(self) -> list[dict[str, Any]]:
        return [
            {"Value": value, "Count": count}
            for value, count in sorted(self.histogram.items())
            if count > 0
        ]


@dataclass(slots=True)
class NodeStats:
    stats: Stats = field(default_factory=Stats)
    roots: int = 0
    active: int = 0
    first: float = math.inf
    last: float = -math.inf


@dataclass(slots=True)
class EdgeStats:
    stats: Stats = field(default_factory=Stats)
    first: float = math.inf
    last: float = -math.inf


@dataclass
class Graph:
    """Nodes and edges with their statistics, for any set of traces."""

    nodes: dict[NodeKey, NodeStats] = field(default_factory=dict)
    edges: dict[tuple[NodeKey, NodeKey], EdgeStats] = field(default_factory=dict)

    def add(self, analysis: Analysis, sign: int = 1, when: float | None = None) -> None:
        """Count (or with sign=-1 uncount) a trace's calls; `when` overrides their times.

        The calls are plain tuples laid out as analysis.NodeSample and EdgeSample."""
        nodes = self.nodes
        for node, outcome, took, start, root, active in analysis.nodes:
            entry = nodes.get(node)
            if entry is None:
                entry = nodes[node] = NodeStats()
            entry.stats.add(outcome, took, sign)
            entry.roots += sign * root
            entry.active += sign * active
            _extend(entry, start if when is None else when)
            if entry.stats.total <= 0:
                del nodes[node]
        edges = self.edges
        for source, target, outcome, took, start in analysis.edges:
            key = (source, target)
            found = edges.get(key)
            if found is None:
                found = edges[key] = EdgeStats()
            found.stats.add(outcome, took, sign)
            _extend(found, start if when is None else when)
            if found.stats.total <= 0:
                del edges[key]

    def merge(self, other: Graph, first: float, last: float) -> None:
        """Add `other` (one second's aggregate) in, its times taken as [first, last]."""
        for key, node in other.nodes.items():
            mine = self.nodes.get(key)
            if mine is None:
                mine = self.nodes[key] = NodeStats()
            mine.stats.merge(node.stats)
            mine.roots += node.roots
            mine.active += node.active
            mine.first = min(mine.first, first)
            mine.last = max(mine.last, last)
        for pair, edge in other.edges.items():
            theirs = self.edges.get(pair)
            if theirs is None:
                theirs = self.edges[pair] = EdgeStats()
            theirs.stats.merge(edge.stats)
            theirs.first = min(theirs.first, first)
            theirs.last = max(theirs.last, last)

    def services(self) -> list[dict[str, Any]]:
        """The graph as GetServiceGraph's `Services`: nodes in a stable order, edges by id."""
        keys = set(self.nodes)
        for source, target in self.edges:
            keys.update((source, target))
        ordered = sorted(keys, key=lambda key: (key[1] != CLIENT_TYPE, key[0], key[1]))
        reference = {key: index for index, key in enumerate(ordered)}
        outgoing: dict[NodeKey, list[dict[str, Any]]] = {key: [] for key in ordered}
        for (source, target), edge in sorted(
            self.edges.items(), key=lambda item: reference[item[0][1]]
        ):
            outgoing[source].append(
                {
                    "ReferenceId": reference[target],
                    "StartTime": _whole(edge.first, math.floor),
                    "EndTime": _whole(edge.last, math.ceil),
                    "SummaryStatistics": edge.stats.summary(),
                    "ResponseTimeHistogram": edge.stats.histogram_entries(),
                    "Aliases": [],
                }
            )
        return [self._service(key, reference[key], outgoing[key]) for key in ordered]

    def _service(self, key: NodeKey, reference: int, edges: list[dict[str, Any]]) -> dict[str, Any]:
        name, kind = key
        node = self.nodes.get(key)
        service: dict[str, Any] = {
            "ReferenceId": reference,
            "Name": name,
            "Names": [name],
            "Type": kind,
            "State": "active" if node is not None and node.active > 0 else "unknown",
            "Edges": edges,
        }
        if edges:
            service["StartTime"] = min(edge["StartTime"] for edge in edges)
            service["EndTime"] = max(edge["EndTime"] for edge in edges)
        if node is None:  # a client: it only calls
            return service
        if node.roots > 0:
            service["Root"] = True
        service["StartTime"] = _whole(node.first, math.floor)
        service["EndTime"] = _whole(node.last, math.ceil)
        service["SummaryStatistics"] = node.stats.summary()
        histogram = node.stats.histogram_entries()
        service["DurationHistogram"] = histogram
        service["ResponseTimeHistogram"] = histogram
        return service


def graph_of(analyses: Iterable[Analysis]) -> Graph:
    graph = Graph()
    for analysis in analyses:
        graph.add(analysis)
    return graph


def _extend(entry: NodeStats | EdgeStats, when: float) -> None:
    if when < entry.first:
        entry.first = when
    if when > entry.last:
        entry.last = when


def _whole(seconds: float, rounding: Any) -> float:
    return float(rounding(seconds)) if math.isfinite(seconds) else 0.0
