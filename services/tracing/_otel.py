"""The OpenTelemetry backend (TRACING_SDK=otel), set up as AWS documents it for X-Ray.

The shared hooks drive `OtelTracer` through the `Recorder` methods, as they drive the X-Ray
backend: a SERVER span per request, a CLIENT span per outbound call and per SQL statement,
kept current in `_current` (so log lines carry the X-Ray form of the trace id). Spans get
X-Ray trace ids (AWS's id generator), the X-Amzn-Trace-Id header in and out (AWS's X-Ray
propagator), X-Ray sampling (`_otel_sampling`), and go as OTLP/HTTP protobuf, in batches from
a bounded queue, to the collector (`TracingSettings.traces_endpoint`). A collector that is
missing, refuses or cannot be resolved costs the batch thread its retries, never a request:
when the queue is full, spans are dropped.

Nothing outside this backend (`_otel`, `_otel_spans`, `_otel_sampling`) imports
OpenTelemetry, and `create_tracer` imports this module only when TRACING_SDK=otel.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    get_current_span,
    set_span_in_context,
)
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from . import _current
from ._eks import EksMetadata, detect_eks
from ._header import TraceHeader, format_trace_header, new_trace_id
from ._otel_sampling import root_sampler
from ._otel_spans import Placeholder, SpanEntity, annotation_attributes
from ._recording import RecordingTracer
from ._seam import NOT_RECORDED, Annotations, AnnotationValue, OutboundCall, SamplingRequest
from .config import TracingSettings

log = logging.getLogger(__name__)

INSTRUMENTATION_NAME = "tracing"
# How long closing may wait for the last spans to leave: a collector that hangs must not hold
# up the service's exit (the SDK's own bound is 30 s, more than Kubernetes' grace period).
CLOSE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class _Preset:
    """A request's trace id and decision, settled before its span starts."""

    trace_id: int
    sampled: bool


# Set around the start of a server span that has no parent span to continue (no header, or
# a header with a Root and no Parent, as a load balancer sends it).
_PRESET: ContextVar[_Preset | None] = ContextVar("tracing_otel_preset", default=None)


class _PresetIds(AwsXRayIdGenerator):
    """X-Ray trace ids (the epoch second first), or the one a request arrived with."""

    def generate_trace_id(self) -> int:
        preset = _PRESET.get()
        return preset.trace_id if preset is not None else super().generate_trace_id()


class _StaticResource(Resource):
    """A resource whose hash is worked out once: the exporter looks every span's resource
    up by it, and `Resource.__hash__` serialises all the attributes to JSON each time."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


class _Settled(Sampler):
    """Every span follows its parent, a server span the decision `begin_segment` settled;
    spans nobody settled (started by other instrumentation) ask the root sampler."""

    def __init__(self, root: Sampler) -> None:
        self.root = root

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = get_current_span(parent_context).get_span_context()
        if parent.is_valid:
            sampled = parent.trace_flags.sampled
        else:
            preset = _PRESET.get()
            if preset is None:
                return self.root.should_sample(
                    parent_context, trace_id, name, kind, attributes, links, trace_state
                )
            sampled = preset.sampled
        decision = Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP
        return SamplingResult(decision, attributes if sampled else None, parent.trace_state)

    def get_description(self) -> str:
        return f"Settled{{{self.root.get_description()}}}"


class OtelTracer(RecordingTracer):
    def __init__(
        self,
        settings: TracingSettings,
        *,
        name: str,
        annotations: Annotations | None = None,
        environ: Mapping[str, str] = os.environ,
        processor: SpanProcessor | None = None,
    ) -> None:
        """`processor` replaces the batch processor exporting OTLP/HTTP (tests keep spans)."""
        super().__init__(name)
        self.settings = settings
        self.annotations = dict(annotations or {})
        # What `put_annotation` of each annotation would write, given to the span at start.
        self.annotation_attributes = annotation_attributes(self.annotations)
        self.eks = detect_eks(environ, settings.cluster_name)
        self.resource = _StaticResource(Resource.create(resource_attributes(name, self.eks)))
        self.root = root_sampler(settings, self.resource)
        self.ids = _PresetIds()
        self.provider = TracerProvider(
            resource=self.resource,
            sampler=_Settled(self.root),
            id_generator=self.ids,
            shutdown_on_exit=False,  # close() does it, within its bound
        )
        self.provider.add_span_processor(processor or self._batch_processor())
        self.tracer = self.provider.get_tracer(INSTRUMENTATION_NAME)
        self.propagator = AwsXRayPropagator()
        # Other OpenTelemetry instrumentation in the process speaks X-Amzn-Trace-Id too.
        set_global_textmap(self.propagator)

    def _batch_processor(self) -> SpanProcessor:
        # The exporter reads OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, _HEADERS, _COMPRESSION and
        # _CERTIFICATE, the processor OTEL_BSP_* (queue size, batch size, delay, timeout).
        exporter = OTLPSpanExporter(endpoint=self.settings.traces_endpoint)
        return BatchSpanProcessor(exporter)

    def start(self) -> None:
        log.info(
            "OpenTelemetry tracing on as %r, sending OTLP/HTTP to %s, sampling with %s%s",
            self.name,
            self.settings.traces_endpoint,
            self.root.get_description(),
            f" (EKS pod {self.eks.pod})" if self.eks else "",
        )

    def close(self) -> None:
        """Send what is queued, for `CLOSE_TIMEOUT_SECONDS` at most; then spans are dropped."""
        closing = threading.Thread(target=self.provider.shutdown, name="otel-close", daemon=True)
        closing.start()
        closing.join(CLOSE_TIMEOUT_SECONDS)
        if closing.is_alive():
            log.warning(
                "spans still queued after %.0f s for %s: dropped",
                CLOSE_TIMEOUT_SECONDS,
                self.settings.traces_endpoint,
            )

    # --- segments: one SERVER span per incoming request --------------------------------

    def begin_segment(self, incoming: TraceHeader | None, request: SamplingRequest) -> SpanEntity:
        attributes: dict[str, AnnotationValue] = {
            "http.request.method": request.method,
            "url.path": request.path,
            "server.address": request.host,
        }
        trace_id = (
            int(incoming.root[2:].replace("-", ""), 16)
            if incoming
            else self.ids.generate_trace_id()
        )
        if incoming is not None and incoming.sampled in ("0", "1"):
            sampled = incoming.sampled == "1"
        else:
            decision = self.root.should_sample(
                None, trace_id, request.method, SpanKind.SERVER, attributes
            ).decision
            sampled = decision is Decision.RECORD_AND_SAMPLE
        if sampled:
            attributes = attributes | self.annotation_attributes
        parent = None
        if incoming is not None and incoming.parent is not None:
            parent = _remote_parent(trace_id, int(incoming.parent, 16), sampled)
        if parent is not None:
            span = self.tracer.start_span(
                request.method, parent, SpanKind.SERVER, attributes, record_exception=False
            )
        else:
            token = _PRESET.set(_Preset(trace_id, sampled))
            try:
                span = self.tracer.start_span(
                    request.method, Context(), SpanKind.SERVER, attributes, record_exception=False
                )
            finally:
                _PRESET.reset(token)
        segment = SpanEntity(span, self.name, annotated=self.annotations if sampled else ())
        _current.start_with(segment)
        return segment

    def end_segment(self, end_time: float | None = None) -> None:
        segment = _current.current_entity()
        if isinstance(segment, SpanEntity):
            segment.end(end_time)

    @contextmanager
    def untraced(self, trace_id: str | None = None) -> Iterator[str]:
        trace_id = trace_id or new_trace_id()
        with _current.scope():
            _current.start_with(Placeholder(trace_id))
            yield trace_id

    # --- calls: a CLIENT span each -------------------------------------------------------

    def begin_call(self, name: str, *, propagated: bool = False) -> OutboundCall:
        """AWS_XRAY_CONTEXT_MISSING has no meaning here: a call outside any request is
        simply not recorded."""
        parent = _current.current_entity()
        if parent is None:
            return NOT_RECORDED
        if not isinstance(parent, SpanEntity) or not parent.sampled:
            # Tell the callee not to sample either, so no half-recorded trace appears.
            return OutboundCall(None, format_trace_header(parent.trace_id, sampled=False))
        span = self.tracer.start_span(
            name, set_span_in_context(parent.span), SpanKind.CLIENT, record_exception=False
        )
        call = SpanEntity(span, name, trace_id=parent.trace_id)
        _current.push(call)
        # What the X-Ray propagator injects for a sampled span, without its round trip.
        return OutboundCall(call, format_trace_header(call.trace_id, call.span_id, sampled=True))

    def end_call(self, call: OutboundCall, error: BaseException | None = None) -> None:
        entity = call.call
        if not isinstance(entity, SpanEntity):
            return
        if error is not None:
            entity.add_exception(error)
        entity.end()
        if _current.current_entity() is entity:
            _current.pop()


def _remote_parent(trace_id: int, span_id: int, sampled: bool) -> Context | None:
    """The caller's span as the X-Ray propagator extracts it from X-Amzn-Trace-Id; None for
    the all-zero ids it rejects (the request then starts the trace, with the header's
    decision still settled)."""
    span_context = SpanContext(
        trace_id,
        span_id,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT),
        trace_state=TraceState(),
    )
    if not span_context.is_valid:
        return None
    return set_span_in_context(NonRecordingSpan(span_context), Context())


def resource_attributes(name: str, eks: EksMetadata | None) -> dict[str, str]:
    """The service's name and, in a pod, where it runs (what the exporter makes the EKS
    origin and the `aws.eks` section of); OTEL_RESOURCE_ATTRIBUTES adds to these."""
    found = {"service.name": name, "cloud.provider": "aws"}
    if eks is not None:
        found |= {"cloud.platform": "aws_eks", "k8s.pod.name": eks.pod}
        if eks.cluster_name:
            found["k8s.cluster.name"] = eks.cluster_name
        if eks.container_id:
            found["container.id"] = eks.container_id
    return found
