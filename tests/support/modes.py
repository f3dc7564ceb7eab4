"""The two tracing modes for tests that run the services as processes.

`xray` (TRACING_SDK unset, the default): the X-Ray SDK sends segment documents over UDP, read
as they arrive by a `SegmentCollector`. `otel` (TRACING_SDK=otel): OpenTelemetry sends spans
as OTLP/HTTP to the local daemon, which turns them into segment documents by the X-Ray
exporter's rules and stores them; `StoredSegments` reads them back through its X-Ray API
(BatchGetTraces), the documents X-Ray would hold. Both modes sample by the same local rules
file (devstack's sample-all rules), so every request of a test is recorded in either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from devstack import poll_until, tracing_env

from .stack import Chain
from .udp import Document, SegmentCollector
from .xray_local import LocalXRay

MODES = ("xray", "otel")
# Spans leave in batches; a short delay keeps the tests' waits short (OTEL_BSP_SCHEDULE_DELAY
# is the OpenTelemetry SDK's own variable, in milliseconds).
TEST_BATCH_DELAY_MS = "100"


class TraceSource(Protocol):
    def for_trace(self, trace_id: str) -> list[Document]: ...

    def wait_for_trace(self, trace_id: str, count: int, timeout: float = 10.0) -> list[Document]:
        """At least `count` documents of one trace, all of them."""

    def problems(self) -> list[Any]:
        """What the services sent that could not be read (empty when all was well)."""


class StoredSegments:
    """The segment documents the local daemon stored, as its X-Ray API returns them."""

    def __init__(self, daemon: LocalXRay) -> None:
        self.daemon = daemon
        self._client = daemon.client()

    def for_trace(self, trace_id: str) -> list[Document]:
        """The documents the services sent; not the ones the daemon infers, as X-Ray does,
        for a remote call whose callee has not (yet) sent its own."""
        traces = self._client.batch_get_traces(TraceIds=[trace_id])["Traces"]
        documents = [
            json.loads(segment["Document"]) for trace in traces for segment in trace["Segments"]
        ]
        return [document for document in documents if not document.get("inferred")]

    def wait_for_trace(self, trace_id: str, count: int, timeout: float = 10.0) -> list[Document]:
        """At least `count` segments of one trace, all its documents. A call's span can reach
        the daemon a batch before its request's span; until that arrives, the daemon returns
        it alone (as X-Ray does), and it is not counted: once the segment is there, the
        calls are inside it."""

        def probe() -> list[Document] | None:
            docs = self.for_trace(trace_id)
            whole = [doc for doc in docs if doc.get("type") != "subsegment"]
            return docs if len(whole) >= count else None

        return poll_until(probe, f"{count} stored documents of trace {trace_id}", timeout=timeout)

    def problems(self) -> list[Any]:
        otlp = self.daemon.stats()["otlp"]
        return [otlp[key] for key in ("rejected_spans", "http_errors") if otlp[key]]


class CollectedSegments:
    """The documents a UDP collector received, as the X-Ray SDK sent them."""

    def __init__(self, collector: SegmentCollector) -> None:
        self.collector = collector

    def for_trace(self, trace_id: str) -> list[Document]:
        return self.collector.for_trace(trace_id)

    def wait_for_trace(self, trace_id: str, count: int, timeout: float = 10.0) -> list[Document]:
        return self.collector.wait_for_trace(trace_id, count, timeout)

    def problems(self) -> list[Any]:
        return list(self.collector.malformed)


def otel_env(daemon: LocalXRay, *, sample_all: bool = True) -> dict[str, str]:
    """TRACING_SDK=otel, spans to `daemon`'s OTLP/HTTP port, sampling rules from its X-Ray API
    (or, with `sample_all`, the local rules that record every request)."""
    return {
        **tracing_env(daemon.daemon_address, sample_all=sample_all),
        **daemon.otel_env(),
        "TRACING_SDK": "otel",
        "OTEL_BSP_SCHEDULE_DELAY": TEST_BATCH_DELAY_MS,
    }


def mode_env(mode: str, daemon: LocalXRay) -> dict[str, str]:
    """A service in `mode` sending to `daemon` (UDP segments, or OTLP/HTTP spans), every
    request sampled; its documents are then read with `StoredSegments(daemon)`."""
    if mode == "otel":
        return otel_env(daemon)
    return tracing_env(daemon.udp_address)


@dataclass
class TracedChain:
    """A running chain in one mode, and where its documents are read."""

    mode: str
    chain: Chain
    documents: TraceSource
