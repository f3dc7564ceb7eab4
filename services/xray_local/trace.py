"""One trace: its documents as received, latest version of each, and what they add up to."""

from __future__ import annotations

from .analysis import Analysis, analyse
from .documents import Document

# A trace is a request's story; thousands of documents in one is a runaway sender.
MAX_DOCUMENTS_PER_TRACE = 1000
# Rough cost of what the store keeps besides the raw JSON, for the memory bound.
ENTITY_OVERHEAD_BYTES = 250
TRACE_OVERHEAD_BYTES = 1500


class TraceFull(Exception):
    pass


def footprint(document: Document) -> int:
    return len(document.raw) + ENTITY_OVERHEAD_BYTES * len(document.entities)


class Trace:
    __slots__ = ("applied", "created", "documents", "id", "size", "_analysis")

    def __init__(self, trace_id: str, created: float) -> None:
        self.id = trace_id
        self.created = created
        self.documents: dict[str, Document] = {}
        self.size = TRACE_OVERHEAD_BYTES
        self._analysis: Analysis | None = None
        # What the store last counted for this trace in the service graph.
        self.applied: Analysis | None = None

    @property
    def epoch(self) -> int:
        """The time written in the trace id: what X-Ray's TraceId time range looks at."""
        return int(self.id[2:10], 16)

    def add(self, document: Document) -> int:
        """Keep `document` (replacing an earlier version of it); return the size change.

        An in-progress version never replaces a completed one: UDP may deliver them out
        of order.
        """
        previous = self.documents.get(document.id)
        if previous is None:
            if len(self.documents) >= MAX_DOCUMENTS_PER_TRACE:
                raise TraceFull(
                    f"trace {self.id} already holds {MAX_DOCUMENTS_PER_TRACE} documents"
                )
        elif document.in_progress and not previous.in_progress:
            return 0
        self.documents[document.id] = document
        self._analysis = None
        change = footprint(document) - (footprint(previous) if previous else 0)
        self.size += change
        return change

    def analysis(self) -> Analysis:
        if self._analysis is None:
            self._analysis = analyse(self.id, list(self.documents.values()))
        return self._analysis
