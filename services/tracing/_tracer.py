"""The one object a service traces with: it owns and configures the SDK's recorder.

Services never touch `aws_xray_sdk`; they create a `Tracer` from `TracingSettings` and hand it
to the middleware and the httpx/SQLAlchemy hooks. With tracing disabled the same calls are
no-ops, so a service has one code path.
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

from aws_xray_sdk.core.daemon_config import DaemonConfig
from aws_xray_sdk.core.models.dummy_entities import DummySegment
from aws_xray_sdk.core.models.traceid import TraceId
from aws_xray_sdk.core.recorder import AWSXRayRecorder
from aws_xray_sdk.core.sampling.local.sampler import LocalSampler
from aws_xray_sdk.core.sampling.sampler import DefaultSampler

from ._context import ContextVarContext
from ._current import ENTITIES, current_entity
from ._eks import EKS_ORIGIN, EksMetadata, detect_eks
from ._emitter import DaemonEmitter
from ._header import TraceHeader, format_trace_header
from .config import TracingSettings

log = logging.getLogger(__name__)

MAX_TRACE_BACK = 10
# Frames of this package say nothing about the failure; the SDK drops its own the same way.
OWN_FRAMES = os.path.dirname(__file__) + os.sep
# Subsegments a segment may hold before the recorder streams closed ones out on their own.
STREAMING_THRESHOLD = 30
Annotations = Mapping[str, str | int | float | bool]


@dataclass(frozen=True)
class SamplingRequest:
    host: str
    method: str
    path: str


@dataclass(frozen=True)
class OutboundCall:
    """What an instrumented client needs: the subsegment to fill (None when the call is not
    recorded) and the X-Amzn-Trace-Id value to send (None when there is no trace)."""

    subsegment: Any | None
    trace_header: str | None


class Tracer:
    def __init__(
        self,
        settings: TracingSettings,
        *,
        default_name: str,
        annotations: Annotations | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.settings = settings
        self.enabled = settings.enabled
        self.name = settings.name or default_name
        self.annotations = dict(annotations or {})
        self.eks: EksMetadata | None = detect_eks(environ, settings.cluster_name)
        self.context = ContextVarContext(settings.context_missing)
        self.emitter = DaemonEmitter(settings.daemon_address.udp)
        self.recorder = self._build_recorder() if self.enabled else None

    def _build_recorder(self) -> AWSXRayRecorder:
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
        if self.eks and isinstance(recorder.sampler, DefaultSampler):
            # Centralized rules can target a service type; tell the sampler which one we are.
            address = DaemonConfig(str(self.settings.daemon_address))
            recorder.sampler.load_settings(address, self.context, EKS_ORIGIN)
        return recorder

    def start(self) -> None:
        if self.enabled:
            self.emitter.start()
            log.info(
                "X-Ray tracing on as %r, sending to %s%s",
                self.name,
                self.settings.daemon_address,
                f" (EKS pod {self.eks.pod})" if self.eks else "",
            )
        else:
            log.info("X-Ray tracing is off (AWS_XRAY_SDK_ENABLED=false)")

    def close(self) -> None:
        self.emitter.close()

    # --- segments: one per incoming request -------------------------------------------

    def begin_segment(self, incoming: TraceHeader | None, request: SamplingRequest) -> Any:
        """Open the request's segment and make it current. Unsampled requests get a
        DummySegment that still carries the real trace id, for logs and propagation."""
        assert self.recorder is not None, "begin_segment needs tracing enabled"
        trace_id = incoming.root if incoming else TraceId().to_id()
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
        return segment

    def _sampling_decision(self, incoming: TraceHeader | None, request: SamplingRequest) -> Any:
        """An upstream decision is honoured; otherwise the sampling rules decide."""
        if incoming and incoming.sampled in ("0", "1"):
            return int(incoming.sampled)
        assert self.recorder is not None
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
        if self.recorder is not None:
            self.recorder.end_segment(end_time)

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Whatever a request puts in the context is gone when it ends, whatever happens."""
        token = ENTITIES.set(ENTITIES.get())
        try:
            yield
        finally:
            ENTITIES.reset(token)

    @contextmanager
    def untraced(self, trace_id: str | None = None) -> Iterator[str]:
        """Run the service's own work (start-up, health checks) without a trace.

        An unsampled placeholder is made current, so instrumented calls inside are simply
        not recorded, under every AWS_XRAY_CONTEXT_MISSING strategy. Yields the trace id
        the work's log lines carry.
        """
        trace_id = trace_id or TraceId().to_id()
        if not self.enabled:
            yield trace_id
            return
        placeholder = DummySegment(self.name)
        placeholder.trace_id = trace_id
        with self.scope():
            ENTITIES.set((placeholder,))
            yield trace_id

    # --- subsegments: one per call to another service --------------------------------

    def begin_remote(self, name: str) -> Any | None:
        """Open a `remote` subsegment for a call about to be made, or None if not recorded."""
        parent = self._parent_for_instrumented_call()
        if parent is None or not parent.sampled:
            return None
        assert self.recorder is not None
        return self.recorder.begin_subsegment(name, "remote")

    def end_remote(self, subsegment: Any, error: BaseException | None = None) -> None:
        if error is not None:
            subsegment.add_exception(error, exception_stack(error))
        assert self.recorder is not None
        self.recorder.end_subsegment(time.time())

    @contextmanager
    def outbound_call(self, name: str) -> Iterator[OutboundCall]:
        """A `remote` subsegment around a call to `name`, with the header to propagate."""
        parent = self._parent_for_instrumented_call()
        if parent is None:
            yield OutboundCall(None, None)
            return
        if not parent.sampled:
            # Tell the callee not to sample either, so no half-recorded trace appears.
            yield OutboundCall(None, format_trace_header(parent.trace_id, sampled=False))
            return
        subsegment = self.begin_remote(name)
        assert subsegment is not None  # the parent is sampled
        try:
            yield OutboundCall(
                subsegment, format_trace_header(subsegment.trace_id, subsegment.id, True)
            )
        except Exception as exc:
            self.end_remote(subsegment, exc)
            raise
        except BaseException:  # cancelled: close the subsegment, record nothing
            self.end_remote(subsegment)
            raise
        else:
            self.end_remote(subsegment)

    def _parent_for_instrumented_call(self) -> Any | None:
        if not self.enabled:
            return None
        entity = current_entity()
        if entity is None:
            self.context.handle_context_missing()  # may raise, log or do nothing
        return entity


def exception_stack(error: BaseException) -> list[traceback.FrameSummary]:
    """Where `error` was raised: the innermost frames, this package's left out."""
    frames = traceback.extract_tb(error.__traceback__)
    kept = [frame for frame in frames if not frame.filename.startswith(OWN_FRAMES)]
    return kept[-MAX_TRACE_BACK:]
