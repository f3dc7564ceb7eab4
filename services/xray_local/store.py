"""Traces in memory, bounded by count, age and size; the oldest go first.

Traces are kept in arrival order, so eviction is always from the front (an OrderedDict: a
plain dict emptied from the front slows down as deleted slots pile up there). Changed
traces are re-analysed in batches (`flush`), oldest change first, not per document: a
trace's documents usually arrive together, and analysing once they have keeps intake cheap.
The service graph is kept as one aggregate per second of trace start, updated by each flush,
so a graph query merges at most one small aggregate per second of the time range.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
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
    def __init__(
        self,
        retention: Retention,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retention = retention
        self._clock = clock
        self._monotonic = monotonic
        self._traces: OrderedDict[str, Trace] = OrderedDict()
        self._dirty: OrderedDict[str, Trace] = OrderedDict()  # by when it first changed
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
        known = document.id in trace
        try:
            self._bytes += trace.add(document)
        except TraceFull:
            self.stats.documents_rejected += 1
            raise
        trace.updated = self._clock()
        if known:
            self.stats.documents_replaced += 1
        else:
            self._documents += 1
            self.stats.documents_stored += 1
        if trace.id not in self._dirty:
            trace.dirtied = self._monotonic()
            self._dirty[trace.id] = trace
        self._evict_over_limits()

    def _evict_over_limits(self) -> None:
        retention = self.retention
        while self._traces and (
            len(self._traces) > retention.max_traces or self._bytes > retention.max_bytes
        ):
            self._evict_oldest()

    def expire(self, limit: int | None = None) -> int:
        """Evict traces older than the age limit, at most `limit`; returns how many."""
        cutoff = self._clock() - self.retention.max_age_seconds
        done = 0
        while self._traces and (limit is None or done < limit):
            if self._traces[next(iter(self._traces))].created >= cutoff:
                break
            self._evict_oldest()
            done += 1
        return done

    def _evict_oldest(self) -> None:
        _, trace = self._traces.popitem(last=False)
        self.stats.traces_evicted += 1
        self._forget(trace)

    def _drop(self, trace: Trace) -> None:
        del self._traces[trace.id]
        self._forget(trace)

    def _forget(self, trace: Trace) -> None:
        self._dirty.pop(trace.id, None)
        self._bytes -= trace.size
        self._documents -= len(trace)
        if trace.applied is not None:
            self._count(trace.applied, -1)

    # --- analysis -------------------------------------------------------------------

    def flush(self, limit: int | None = None, settle_seconds: float = 0.0) -> int:
        """Re-analyse changed traces, oldest change first, and update the graph aggregates;
        returns how many. At most `limit`, and only those unchanged for `settle_seconds`,
        when given: the rest wait for a later call (queries flush everything)."""
        dirty = self._dirty
        newest = self._monotonic() - settle_seconds
        done = 0
        while dirty and (limit is None or done < limit):
            trace = dirty[next(iter(dirty))]
            if settle_seconds and trace.dirtied > newest:
                break
            dirty.popitem(last=False)
            try:
                analysis = trace.analysis()
            except Exception:  # a bug must cost one trace, not every query after it
                log.exception("cannot analyse trace %s; dropping it", trace.id)
                self._drop(trace)
                continue
            if trace.applied is not None:
                self._count(trace.applied, -1)
            trace.applied = analysis
            self._count(analysis, 1)
            done += 1
        return done

    @property
    def dirty_count(self) -> int:
        return len(self._dirty)

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

    def analyses(self) -> list[Analysis]:
        """Every stored trace's analysis, oldest trace first, up to date."""
        self.flush()
        return [trace.analysis() for trace in self._traces.values()]

    def traces(self) -> list[Trace]:
        """Every stored trace, oldest first, its analysis up to date."""
        self.flush()
        return list(self._traces.values())

    @property
    def trace_count(self) -> int:
        return len(self._traces)

    @property
    def document_count(self) -> int:
        return self._documents

    @property
    def approximate_bytes(self) -> int:
        return self._bytes
