"""Spans in, segment documents out, into the daemon's one intake.

Every span is checked (ids of the right length, believable times), translated by the
exporter's rules (segment.py) and handed to the same `Ingestor` UDP segments go through, so
the same limits apply (a translated document over 64 KB is refused as `oversized`) and the
same store, graph, filters and API serve them. A span that is refused is counted under a
reason in the intake's counters (`/stats`, the page's footer) and reported back to the
sender (OTLP's `partial_success`); nothing a sender does stops the intake.

OTLP over UDP is what AWS's OpenTelemetry distributions send to the X-Ray daemon's address
(aws-otel-python-instrumentation, `otlp_udp_exporter.py`): the daemon's header line, then
`T1S` (sampled spans) or `T1U` (unsampled) and a base64 protobuf ExportTraceServiceRequest.
Unsampled spans are counted, never stored: X-Ray records sampled traces only. `M1`
(metrics) datagrams are counted as refused: this daemon takes traces.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ..config import OtlpSettings
from ..documents import InvalidDocument
from ..intake import OTLP_PREFIXES, Ingestor
from .annotations import Rules
from .aws import Resource
from .decode import BadBody, parse_protobuf
from .segment import segments_of
from .values import attributes

log = logging.getLogger(__name__)

dumps: Callable[[Any], bytes]
try:
    from orjson import dumps as orjson_dumps

    def dumps(value: Any) -> bytes:
        # orjson hands back its whole output buffer, about 4 KB more than a span's document
        # needs; the store keeps 100,000s of documents, so it keeps an exact copy instead.
        return memoryview(orjson_dumps(value)).tobytes()

except ImportError:  # the xray-local extra installs orjson

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


SAMPLED, UNSAMPLED, METRICS = OTLP_PREFIXES
# Believable span times: X-Ray keeps traces 30 days, and a clock a day ahead is broken.
MAX_AGE_SECONDS = 30 * 24 * 3600
MAX_AHEAD_SECONDS = 24 * 3600
NANOS = 1_000_000_000
NO_TRACE_ID, NO_SPAN_ID = bytes(16), bytes(8)  # all zeros: OTLP's "invalid" ids
# How many problems a partial_success message spells out (the rest are counted).
MAX_MESSAGES = 5


@dataclass
class OtlpCounters:
    requests: int = 0  # OTLP/HTTP requests whose body was read
    datagrams: int = 0  # OTLP-over-UDP datagrams (T1S, T1U, M1)
    spans: int = 0  # spans received, sampled or not
    unsampled_spans: int = 0
    rejected_spans: int = 0
    documents: int = 0  # segment documents stored from spans
    http_errors: Counter[str] = field(default_factory=Counter)  # by status code


@dataclass
class Outcome:
    """What became of one request's spans, for OTLP's partial_success."""

    rejected: int = 0
    messages: list[str] = field(default_factory=list)

    def refuse(self, message: str) -> None:
        self.rejected += 1
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)

    @property
    def message(self) -> str:
        shown = "; ".join(self.messages)
        more = self.rejected - len(self.messages)
        return f"{self.rejected} spans rejected: {shown}" + (f"; and {more} more" if more else "")


class OtlpIntake:
    def __init__(
        self,
        ingestor: Ingestor,
        settings: OtlpSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ingestor = ingestor
        self.settings = settings
        self.rules = Rules(settings.indexed_attributes, settings.index_all_attributes)
        self.counters = OtlpCounters()
        self._clock = clock

    def reject(self, reason: str, message: str) -> None:
        """Count a body or datagram refused whole, under the intake's reasons."""
        self.ingestor.reject(reason, message)

    def accept(self, request: ExportTraceServiceRequest, sampled: bool = True) -> Outcome:
        outcome = Outcome()
        counters = self.counters
        now = self._clock()
        window = ((now - MAX_AGE_SECONDS) * NANOS, (now + MAX_AHEAD_SECONDS) * NANOS)
        for resource_spans in request.resource_spans:
            resource: Resource | None = None
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    counters.spans += 1
                    if not sampled:
                        counters.unsampled_spans += 1
                        continue
                    if resource is None:  # worked out once for all the resource's spans
                        resource = Resource.of(
                            attributes(resource_spans.resource.attributes), self.rules
                        )
                    self._take(span, resource, window, outcome)
        counters.rejected_spans += outcome.rejected
        return outcome

    def _take(
        self, span: Span, resource: Resource, window: tuple[float, float], outcome: Outcome
    ) -> None:
        problem = _problem(span, *window)
        if problem is not None:
            reason, message = problem
            self.ingestor.reject(reason, message)
            outcome.refuse(message)
            return
        try:
            documents = segments_of(span, resource, self.rules)
        except Exception:  # a bug must cost one span, not the request
            log.exception("could not translate span %s", span.span_id.hex())
            self.ingestor.counters.rejected["internal_error"] += 1
            outcome.refuse(f"span {span.span_id.hex()}: internal error; see the daemon's log")
            return
        for document in documents:
            try:
                self.ingestor.ingest(dumps(document), document)
            except InvalidDocument as exc:  # counted and logged by the ingestor
                outcome.refuse(f"span {span.span_id.hex()}: {exc} ({exc.reason})")
                return
            self.counters.documents += 1

    def accept_datagram(self, body: bytes) -> None:
        """One OTLP-over-UDP datagram's body (after the daemon header)."""
        self.counters.datagrams += 1
        if body.startswith(METRICS):
            self.reject("otlp_metrics", "an OTLP metrics datagram (M1): only spans are taken")
            return
        try:
            payload = base64.b64decode(body[len(SAMPLED) :], validate=True)
            request = parse_protobuf(payload)
        except (binascii.Error, BadBody) as exc:
            self.reject("otlp_bad_datagram", f"an OTLP datagram that cannot be read: {exc}")
            return
        self.accept(request, sampled=body.startswith(SAMPLED))

    def status(self) -> dict[str, Any]:
        counters = self.counters
        address = self.settings.address
        return {
            "address": str(address) if address is not None else None,
            "requests": counters.requests,
            "datagrams": counters.datagrams,
            "spans": counters.spans,
            "unsampled_spans": counters.unsampled_spans,
            "rejected_spans": counters.rejected_spans,
            "documents": counters.documents,
            "http_errors": dict(counters.http_errors),
            "max_body_bytes": self.settings.max_body_bytes,
        }


def _problem(span: Span, earliest: float, latest: float) -> tuple[str, str] | None:
    """Why a span cannot be a segment, as (reason, message); None when it can. Its times
    must lie within [earliest, latest] (Unix nanoseconds)."""
    trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
    if len(trace_id) != 16 or trace_id == NO_TRACE_ID:
        return "otlp_invalid_span", _bad_id("trace_id", trace_id, 16)
    if len(span_id) != 8 or span_id == NO_SPAN_ID:
        return "otlp_invalid_span", _bad_id("span_id", span_id, 8)
    if len(parent) not in (0, 8):
        return "otlp_invalid_span", _bad_id("parent_span_id", parent, 8)
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if start and end and start <= end and start >= earliest and end <= latest:
        return None
    where = f"span {span_id.hex()}"
    if not start or not end:
        return "otlp_bad_timestamp", f"{where}: start and end times are required"
    if end < start:
        return "otlp_bad_timestamp", f"{where}: it ends before it starts"
    return (
        "otlp_bad_timestamp",
        f"{where}: its times ({start / NANOS:.0f} to {end / NANOS:.0f} in Unix seconds) are "
        "not within the last 30 days",
    )


def _bad_id(name: str, value: bytes, size: int) -> str:
    if not value or not any(value):
        return f"a span without a {name}"
    return f"a span whose {name} is {len(value)} bytes, not {size}"
