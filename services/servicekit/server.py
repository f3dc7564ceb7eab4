"""Start a service: validate its settings, set up logging, build the app, run uvicorn."""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn
from pydantic import ValidationError
from pydantic_settings import SettingsError

from .logs import configure_logging
from .settings import ServiceSettings

log = logging.getLogger(__name__)
S = TypeVar("S", bound=ServiceSettings)
# Values of these variables are never echoed (a database URL may hold a password).
SECRET_MARKERS = ("PASSWORD", "SECRET", "TOKEN", "DATABASE_URL")


def serve(settings_class: type[S], app_factory: str, *, prog: str) -> None:
    """Run `app_factory` ("module:function", called with the settings) under uvicorn.

    The factory is imported and called only once the settings are valid: building its tracer
    loads the X-Ray SDK, which cannot cope with a malformed AWS_XRAY_DAEMON_ADDRESS.
    """
    settings = load_settings(settings_class, prog)
    configure_logging(settings.log_level, settings.log_format)
    module_name, _, function_name = app_factory.partition(":")
    factory: Callable[[S], Any] = getattr(importlib.import_module(module_name), function_name)
    app = factory(settings)
    freeze_startup_heap()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep configure_logging's one-line format
        server_header=False,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


def freeze_startup_heap() -> None:
    """Take what start-up made (modules, classes, the app, the tracing SDK: most of the heap,
    and all of it for the process's life) out of the garbage collector's full collections.

    A full collection walks every tracked object. OpenTelemetry's batch processor keeps spans
    alive until they are exported, long enough to age into the oldest generation, so full
    collections come every few thousand requests; over the whole start-up heap each took up
    to 90 ms, every request in flight waiting. Over what requests made, they take a tenth.
    """
    gc.collect()
    gc.freeze()
    log.info(
        "start-up heap: %s objects frozen out of full collections", f"{gc.get_freeze_count():,}"
    )


def load_settings(settings_class: type[S], prog: str) -> S:
    """The settings, or exit with one line per invalid variable saying what it accepts."""
    try:
        return settings_class()
    except ValidationError as exc:
        problems = "; ".join(describe(error) for error in exc.errors())
    except SettingsError as exc:
        problems = str(exc)
    print(f"{prog}: invalid configuration: {problems}", file=sys.stderr)
    raise SystemExit(2)


def describe(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        # A rule across variables: its input is every variable read, secrets included.
        return message
    variable = ".".join(str(part) for part in error["loc"])
    if any(marker in variable.upper() for marker in SECRET_MARKERS):
        return f"{variable}: {message}"
    return f"{variable}={error['input']!r}: {message}"
