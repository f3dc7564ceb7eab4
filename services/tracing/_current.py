"""The stack of open X-Ray entities of the request being handled (no SDK import here).

One ContextVar per process, like the SDK's global recorder: a process runs one traced
service. asyncio copies it into every task it creates and Starlette copies it into the
worker thread of a sync endpoint, so each request sees its own stack wherever its code runs.
The stack is an immutable tuple, replaced on every push and pop, so a child task or thread
that opens a subsegment never changes what its parent or its siblings see.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

ENTITIES: ContextVar[tuple[Any, ...]] = ContextVar("xray_entities", default=())


def current_entity() -> Any | None:
    """The innermost open segment or subsegment, without any "context missing" handling."""
    entities = ENTITIES.get()
    return entities[-1] if entities else None


# The id the SDK gives its placeholders (its sampler's polling threads use one).
NOOP_TRACE_ID = "1-00000000-000000000000000000000000"


def current_trace_id() -> str | None:
    """The trace id of the request being handled, for log lines; None outside requests."""
    trace_id = getattr(current_entity(), "trace_id", None)
    return trace_id if trace_id != NOOP_TRACE_ID else None
