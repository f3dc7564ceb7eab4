"""Traces in memory, bounded by count, age and size; the oldest go first.

Traces are kept in arrival order (a dict's order), so eviction is always from the front.
Changed traces are re-analysed in batches (`flush`), not per document: a trace's documents
usually arrive together, and analysing once per batch keeps intake cheap. The service graph
is kept as one aggregate per second of trace start, updated by each flush, so a graph query
merges at most one small aggregate per second of the time range.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .analysis import Analysis
from .documents import Document
from .graph import Graph
from .trace import Trace, TraceFull

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    max_traces: int = 10_000
    max_age_seconds: float = 60 * 60
    max_bytes: int = 256 * 1024 * 1024


@dataclass
class StoreStats:
    documents_stored: int = 0
    documents_replaced: int = 0
    documents_rejected: int = 0
    traces_evicted: int = 0


class Store:
    def __init__(self, retention: Retention, clock: Callable[[], float] = time.time) -> None:
        self.retention = retention
        self._clock = clock
        self._traces: dict[str, Trace] = {}
        self._dirty: dict[str, Trace] = {}
        self._seconds: dict[int, Graph] = {}
        self._bytes = 0
        self._documents = 0
        self.stats = StoreStats()

    # --- intake ---------------------------------------------------------------------

    def add(self, document: Document) -> None:
        """Keep one document; raises TraceFull when its trace cannot take more."""
        trace = self._traces.get(document.trace_id)
        if trace is None:
            trace = self._traces[document.trace_id] = Trace(document.trace_id, self._clock())
            self._bytes += trace.size
        known = document.id in trace.documents
        try:
            self._bytes += trace.add(document)
        except TraceFull:
            self.stats.documents_rejected += 1
            raise
        if known:
            self.stats.documents_replaced += 1
        else:
            self._documents += 1
            self.stats.documents_stored += 1
        self._dirty[trace.id] = trace
        self._evict_over_limits()

    def _evict_over_limits(self) -> None:
        retention = self.retention
        while self._traces and (
            len(self._traces) > retention.max_traces or self._bytes > retention.max_bytes
        ):
            self._evict_oldest()

    def expire(self) -> None:
        """Evict traces older than the age limit (called periodically)."""
        cutoff = self._clock() - self.retention.max_age_seconds
        while self._traces:
            oldest = next(iter(self._traces.values()))
            if oldest.created >= cutoff:
                break
            self._evict_oldest()

    def _evict_oldest(self) -> None:
        trace = self._traces.pop(next(iter(self._traces)))
        self._dirty.pop(trace.id, None)
        self._bytes -= trace.size
        self._documents -= len(trace.documents)
        self.stats.traces_evicted += 1
        if trace.applied is not None:
            self._count(trace.applied, -1)

    # --- analysis -------------------------------------------------------------------

    def flush(self) -> int:
        """Re-analyse changed traces and update the graph aggregates; returns how many."""
        dirty, self._dirty = self._dirty, {}
        for trace in dirty.values():
            if trace.applied is not None:
                self._count(trace.applied, -1)
            trace.applied = trace.analysis()
            self._count(trace.applied, 1)
        return len(dirty)

    def _count(self, analysis: Analysis, sign: int) -> None:
        second = int(analysis.start)
        graph = self._seconds.get(second)
        if graph is None:
            graph = self._seconds[second] = Graph()
        graph.add(analysis, sign, when=second)
        if not graph.nodes and not graph.edges:
            del self._seconds[second]

    # --- queries --------------------------------------------------------------------

    def graph(self, start: float, end: float) -> Graph:
        """The service graph of traces that started in [start, end), to the second."""
        self.flush()
        merged = Graph()
        first, last = math.floor(start), end
        for second, graph in self._seconds.items():
            if first <= second < last:
                merged.merge(graph, second, second + 1)
        return merged

    def get(self, trace_id: str) -> Trace | None:
        return self._traces.get(trace_id)

    def analysed(self) -> Iterator[Analysis]:
        """Every stored trace's analysis, up to date."""
        self.flush()
        for trace in self._traces.values():
            assert trace.applied is not None  # flushed just now
            yield trace.applied

    def traces(self) -> Iterator[Trace]:
        self.flush()
        return iter(list(self._traces.values()))

    @property
    def trace_count(self) -> int:
        return len(self._traces)

    @property
    def document_count(self) -> int:
        return self._documents

    @property
    def approximate_bytes(self) -> int:
        return self._bytes
