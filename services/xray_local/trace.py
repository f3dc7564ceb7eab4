"""One trace: its documents as received, latest version of each, and what they add up to."""

from __future__ import annotations

from .analysis import Analysis, analyse
from .detail import Detail
from .documents import Document, Packed

# A trace is a request's story; thousands of documents in one is a runaway sender.
MAX_DOCUMENTS_PER_TRACE = 1000
# Rough cost of what the store keeps besides the raw JSON, for the memory bound.
ENTITY_OVERHEAD_BYTES = 350
TRACE_OVERHEAD_BYTES = 1500


class TraceFull(Exception):
    pass


def footprint(packed: Packed) -> int:
    return len(packed[3]) + ENTITY_OVERHEAD_BYTES * len(packed[4])


class Trace:
    __slots__ = (
        "_analysis",
        "_documents",
        "applied",
        "created",
        "dirtied",
        "epoch",
        "id",
        "size",
        "start",
        "updated",
    )

    def __init__(self, trace_id: str, created: float) -> None:
        self.id = trace_id
        # The time written in the trace id: what X-Ray's TraceId time range looks at.
        self.epoch = int(trace_id[2:10], 16)
        self.created = created
        # When a document last arrived: X-Ray's "trace update time" (TimeRangeType Event).
        self.updated = created
        self.dirtied = created
        self._documents: dict[str, Packed] = {}  # packed: see documents.py
        self.size = TRACE_OVERHEAD_BYTES
        self._analysis: Analysis | None = None
        # The analysis' start, kept here too: queries sort every trace by it (attrgetter).
        self.start = 0.0
        # What the store last counted for this trace in the service graph.
        self.applied: Analysis | None = None

    def __len__(self) -> int:
        return len(self._documents)

    def __contains__(self, document_id: str) -> bool:
        return document_id in self._documents

    def documents(self) -> list[Document]:
        return [Document._make(packed) for packed in self._documents.values()]

    def document(self, document_id: str) -> Document | None:
        packed = self._documents.get(document_id)
        return None if packed is None else Document._make(packed)

    def add(self, document: Document) -> int:
        """Keep `document` (replacing an earlier version of it); return the size change.

        An in-progress version never replaces a completed one: UDP may deliver them out
        of order.
        """
        previous = self._documents.get(document.id)
        if previous is None:
            if len(self._documents) >= MAX_DOCUMENTS_PER_TRACE:
                raise TraceFull(
                    f"trace {self.id} already holds {MAX_DOCUMENTS_PER_TRACE} documents"
                )
        elif document.in_progress and not Document._make(previous).in_progress:
            return 0
        packed = tuple(document)
        self._documents[document.id] = packed
        self._analysis = None
        change = footprint(packed) - (footprint(previous) if previous else 0)
        self.size += change
        return change

    def analysis(self) -> Analysis:
        if self._analysis is None:
            self._analysis = analyse(self.id, self.documents())
            self.start = self._analysis.start
        return self._analysis

    def detail(self) -> Detail:
        """Worked out afresh each time: only complex filters and summaries ask."""
        return Detail(self.documents())
