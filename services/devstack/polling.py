"""Wait for a condition without bare sleeps, failing with the last thing that went wrong."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(
    probe: Callable[[], T | None],
    what: str,
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    fatal: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `probe` until it returns something truthy and return that.

    Exceptions raised by `probe` count as "not yet"; the last one is reported if
    time runs out, so a failure says what was being waited for and why it never came.
    Exceptions of a `fatal` type end the wait at once (a process that died will not start
    answering).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = probe()
        except fatal:
            raise
        except Exception as exc:  # the probe is allowed to fail while things start
            last_error = exc
        else:
            if result:
                return result
            last_error = None
        if time.monotonic() >= deadline:
            detail = f": last error: {last_error!r}" if last_error else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)
