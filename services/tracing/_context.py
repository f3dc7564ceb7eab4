"""Where the X-Ray recorder keeps the current segment: `_current`'s ContextVar.

The SDK offers two stores and neither fits an ASGI server. Its thread-local `Context` is
shared by every request the event loop interleaves, so subsegments land in other requests'
segments. Its `AsyncContext` stores entities on the asyncio task, which sync endpoints (run
in a thread pool) cannot see; it also replaces the loop's task factory (breaking uvloop) and
needs a running loop when it is created.

This one keeps the stack of open entities in a ContextVar (see `_current`), which follows
the request into the tasks it spawns and the threads its sync code runs in.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_xray_sdk.core.context import MISSING_SEGMENT_MSG
from aws_xray_sdk.core.exceptions.exceptions import SegmentNotFoundException

from . import _current
from .config import ContextMissing

log = logging.getLogger(__name__)


class ContextVarContext:
    """A drop-in for the SDK's `Context` (the recorder calls exactly these methods).

    It exists only while tracing is on (`TracingSettings.enabled`), so unlike the SDK's own it
    never asks the SDK's environment whether tracing is enabled.
    """

    def __init__(self, context_missing: ContextMissing = ContextMissing.LOG_ERROR) -> None:
        self._context_missing = context_missing

    @property
    def context_missing(self) -> str:
        return self._context_missing.value

    @context_missing.setter
    def context_missing(self, value: str) -> None:
        self._context_missing = ContextMissing(value)

    def put_segment(self, segment: Any) -> None:
        _current.start_with(segment)

    def end_segment(self, end_time: float | None = None) -> None:
        entity = self.get_trace_entity()
        if entity is not None:
            segment = entity.parent_segment if _is_subsegment(entity) else entity
            segment.close(end_time)

    def put_subsegment(self, subsegment: Any) -> None:
        entity = self.get_trace_entity()
        if entity is None:
            return
        entity.add_subsegment(subsegment)
        _current.push(subsegment)

    def end_subsegment(self, end_time: float | None = None) -> bool:
        entity = self.get_trace_entity()
        if entity is None or not _is_subsegment(entity):
            return False
        entity.close(end_time)
        _current.pop()
        return True

    def get_trace_entity(self) -> Any | None:
        entity = _current.current_entity()
        if entity is None:
            self.handle_context_missing()
        return entity

    def set_trace_entity(self, trace_entity: Any) -> None:
        _current.start_with(trace_entity)

    def clear_trace_entities(self) -> None:
        _current.clear()

    def handle_context_missing(self) -> None:
        """The SDK's meaning of AWS_XRAY_CONTEXT_MISSING, applied to an instrumented call."""
        if self._context_missing is ContextMissing.RUNTIME_ERROR:
            raise SegmentNotFoundException(MISSING_SEGMENT_MSG)
        if self._context_missing is ContextMissing.LOG_ERROR:
            log.error(MISSING_SEGMENT_MSG)


def _is_subsegment(entity: Any) -> bool:
    return getattr(entity, "type", None) == "subsegment"
