"""The X-Ray SDK backend: the SDK's recorder and models, our context, emitter and sampling use.

`create_tracer` builds an `XRayTracer` when tracing is on; the shared hooks drive it through
the `Recorder` methods, and it wraps the SDK's entities in `XRayEntity`, so nothing outside
this backend (`_xray`, `_context`, `_emitter`, `_documents`, `_eks`) touches an SDK object.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aws_xray_sdk.core.models.dummy_entities import DummySegment
from aws_xray_sdk.core.recorder import AWSXRayRecorder
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler
from aws_xray_sdk.core.sampling.sampler import DefaultSampler
from aws_xray_sdk.sdk_config import SDKConfig

from . import _current
from ._context import ContextVarContext
from ._eks import EKS_ORIGIN, EksMetadata, detect_eks
from ._emitter import DaemonEmitter
from ._header import TraceHeader, format_trace_header, new_trace_id
from ._recording import RecordingTracer
from ._seam import (
    DEFAULT_NAMESPACE,
    NOT_RECORDED,
    Annotations,
    AnnotationValue,
    HttpValue,
    OutboundCall,
    SamplingRequest,
)
from .config import TracingSettings

log = logging.getLogger(__name__)

MAX_TRACE_BACK = 10
# Frames of this package say nothing about the failure; the SDK drops its own the same way.
OWN_FRAMES = os.path.dirname(__file__) + os.sep
# Subsegments a segment may hold before the recorder streams closed ones out on their own.
STREAMING_THRESHOLD = 30


class XRayEntity:
    """An SDK segment or subsegment, as the `Segment` and `Call` protocols see it."""

    __slots__ = ("entity",)

    def __init__(self, entity: Any) -> None:
        self.entity = entity

    @property
    def trace_id(self) -> str:
        return str(self.entity.trace_id)

    @property
    def sampled(self) -> bool:
        return bool(self.entity.sampled)

    def put_annotation(self, key: str, value: AnnotationValue) -> None:
        self.entity.put_annotation(key, value)

    def put_metadata(self, key: str, value: object, namespace: str = DEFAULT_NAMESPACE) -> None:
        self.entity.put_metadata(key, value, namespace)

    def put_http_meta(self, key: str, value: HttpValue) -> None:
        self.entity.put_http_meta(key, value)

    def set_sql(self, sql: Mapping[str, str]) -> None:
        self.entity.set_sql(dict(sql))

    def add_exception(self, error: BaseException) -> None:
        self.entity.add_exception(error, exception_stack(error))


@dataclass(frozen=True)
class _DaemonTcp:
    """What the SDK's sampler reads of a DaemonConfig: where to poll for rules."""

    tcp_ip: str
    tcp_port: int


class XRayTracer(RecordingTracer):
    def __init__(
        self,
        settings: TracingSettings,
        *,
        name: str,
        annotations: Annotations | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        super().__init__(name)
        self.settings = settings
        self.annotations = dict(annotations or {})
        self.eks: EksMetadata | None = detect_eks(environ, settings.cluster_name)
        self.context = ContextVarContext(settings.context_missing)
        self.emitter = DaemonEmitter(settings.daemon_address.udp)
        self.recorder = self._build_recorder()

    def _build_recorder(self) -> AWSXRayRecorder:
        # The SDK reads AWS_XRAY_SDK_ENABLED itself, and that read overrides its own
        # set_sdk_enabled(). The settings decided that tracing is on: the SDK must agree.
        SDKConfig._SDKConfig__SDK_ENABLED = True
        rules = self.settings.sampling_rules
        recorder = AWSXRayRecorder()
        # The recorder opens a UDP socket for its default emitter, which ours replaces.
        recorder.emitter._socket.close()
        recorder.configure(
            service=self.name,
            context=self.context,
            emitter=self.emitter,
            # A rules file means local rules only; otherwise rules are polled from the
            # daemon's TCP address, with the SDK's defaults until they arrive.
            sampler=LocalSampler() if rules else DefaultSampler(),
            sampling_rules=str(rules) if rules else None,
            streaming_threshold=STREAMING_THRESHOLD,
            max_trace_back=MAX_TRACE_BACK,
        )
        if isinstance(recorder.sampler, DefaultSampler):
            # configure() pointed the sampler at AWS_XRAY_DAEMON_ADDRESS as the SDK reads it
            # (its DaemonConfig prefers the variable to any address it is given); the settings'
            # address is the one to poll. Centralized rules can also target a service type: on
            # EKS, tell the sampler which one we are.
            tcp = self.settings.daemon_address.tcp
            recorder.sampler.load_settings(
                _DaemonTcp(tcp.host, tcp.port), self.context, EKS_ORIGIN if self.eks else None
            )
        return recorder

    def start(self) -> None:
        self.emitter.start()
        log.info(
            "X-Ray tracing on as %r, sending to %s%s",
            self.name,
            self.settings.daemon_address,
            f" (EKS pod {self.eks.pod})" if self.eks else "",
        )

    def close(self) -> None:
        self.emitter.close()

    # --- segments: one per incoming request -------------------------------------------

    def begin_segment(self, incoming: TraceHeader | None, request: SamplingRequest) -> XRayEntity:
        """Unsampled requests get a DummySegment that still carries the real trace id."""
        trace_id = incoming.root if incoming else new_trace_id()
        segment = self.recorder.begin_segment(
            name=self.name,
            traceid=trace_id,
            parent_id=incoming.parent if incoming else None,
            sampling=self._sampling_decision(incoming, request),
        )
        if segment.sampled:
            for key, value in self.annotations.items():
                segment.put_annotation(key, value)
            if self.eks:
                segment.origin = EKS_ORIGIN
                segment.aws["eks"] = self.eks.as_aws_section()
        else:
            segment.trace_id = trace_id
        return XRayEntity(segment)

    def _sampling_decision(
        self, incoming: TraceHeader | None, request: SamplingRequest
    ) -> int | str:
        """An upstream decision is honoured; otherwise the sampling rules decide (a centralized
        rule's decision is its name, which the recorder writes into the segment)."""
        if incoming and incoming.sampled in ("0", "1"):
            return int(incoming.sampled)
        decision = self.recorder.sampler.should_trace(
            {
                "host": request.host,
                "method": request.method,
                "path": request.path,
                "service": self.name,
            }
        )
        return decision or 0

    def end_segment(self, end_time: float | None = None) -> None:
        """Close the current segment; it is sent once its last subsegment has closed."""
        self.recorder.end_segment(end_time)

    @contextmanager
    def untraced(self, trace_id: str | None = None) -> Iterator[str]:
        """An unsampled placeholder is made current, so instrumented calls inside are simply
        not recorded, under every AWS_XRAY_CONTEXT_MISSING strategy."""
        trace_id = trace_id or new_trace_id()
        placeholder = DummySegment(self.name)
        placeholder.trace_id = trace_id
        with _current.scope():
            _current.start_with(placeholder)
            yield trace_id

    # --- calls: a `remote` subsegment each --------------------------------------------

    def begin_call(self, name: str, *, propagated: bool = False) -> OutboundCall:
        parent = _current.current_entity()
        if parent is None:
            self.context.handle_context_missing()  # may raise, log or do nothing
            return NOT_RECORDED
        if not parent.sampled:
            # Tell the callee not to sample either, so no half-recorded trace appears.
            return OutboundCall(None, format_trace_header(parent.trace_id, sampled=False))
        subsegment = self.recorder.begin_subsegment(name, "remote")
        if propagated:
            subsegment.traced = True  # the callee is instrumented too: X-Ray links the segments
        header = format_trace_header(subsegment.trace_id, subsegment.id, True)
        return OutboundCall(XRayEntity(subsegment), header)

    def end_call(self, call: OutboundCall, error: BaseException | None = None) -> None:
        if call.call is None:
            return
        if error is not None:
            call.add_exception(error)
        self.recorder.end_subsegment(time.time())


def exception_stack(error: BaseException) -> list[traceback.FrameSummary]:
    """Where `error` was raised: the innermost frames, this package's left out."""
    frames = traceback.extract_tb(error.__traceback__)
    kept = [frame for frame in frames if not frame.filename.startswith(OWN_FRAMES)]
    return kept[-MAX_TRACE_BACK:]
