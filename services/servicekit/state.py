"""FastAPI dependencies that hand routes what create_app put on `app.state`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request


def from_app_state(attribute: str) -> Callable[[Request], Any]:
    """A dependency returning `app.state.<attribute>`, for `Annotated[T, Depends(...)]`."""

    def dependency(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    dependency.__name__ = f"app_state_{attribute}"
    return dependency
