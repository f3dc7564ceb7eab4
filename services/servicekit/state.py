"""FastAPI dependencies that hand routes what create_app put on `app.state`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request


def from_app_state(attribute: str) -> Callable[[Request], Coroutine[Any, Any, Any]]:
    """A dependency returning `app.state.<attribute>`, for `Annotated[T, Depends(...)]`.

    It is async so that FastAPI calls it on the event loop: a plain `def` dependency is run in
    the thread pool, a hand-off per request that took 10-20% of notification's CPU profile.
    """

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    dependency.__name__ = f"app_state_{attribute}"
    return dependency
