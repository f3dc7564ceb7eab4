"""The stack of open entities (segment, subsegments) of the request being handled.

This module alone writes the context variable; everything else pushes, pops and reads through
the functions below. No SDK is imported here: an entry is whatever the backend keeps open, and
all that is read from it outside the backend is its `trace_id`.

One ContextVar per process, like the SDK's global recorder: a process runs one traced
service. asyncio copies it into every task it creates and Starlette copies it into the
worker thread of a sync endpoint, so each request sees its own stack wherever its code runs.
The stack is an immutable tuple, replaced on every push and pop, so a child task or thread
that opens a subsegment never changes what its parent or its siblings see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# Entries are the backend's own objects (the X-Ray SDK's entities are untyped).
_ENTITIES: ContextVar[tuple[Any, ...]] = ContextVar("tracing_entities", default=())

# The id the X-Ray SDK gives its placeholders (its sampler's polling threads use one).
NOOP_TRACE_ID = "1-00000000-000000000000000000000000"


def current_entity() -> Any | None:
    """The innermost open entity, without any "context missing" handling."""
    entities = _ENTITIES.get()
    return entities[-1] if entities else None


def current_trace_id() -> str | None:
    """The trace id of the request being handled, for log lines; None outside requests."""
    trace_id = getattr(current_entity(), "trace_id", None)
    return trace_id if trace_id != NOOP_TRACE_ID else None


def start_with(entity: Any) -> None:
    """Make `entity` the only open one: a request's segment, or an untraced placeholder."""
    _ENTITIES.set((entity,))


def push(entity: Any) -> None:
    _ENTITIES.set((*_ENTITIES.get(), entity))


def pop() -> None:
    _ENTITIES.set(_ENTITIES.get()[:-1])


def clear() -> None:
    _ENTITIES.set(())


@contextmanager
def scope() -> Iterator[None]:
    """Whatever is opened inside is gone when the block ends, whatever happens."""
    token = _ENTITIES.set(_ENTITIES.get())
    try:
        yield
    finally:
        _ENTITIES.reset(token)
