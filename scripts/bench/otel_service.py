"""Run a service untouched, traced by OpenTelemetry instead: the peer the bench compares with.

    PYTHONPATH=. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:4318/v1/traces \\
        .venv/bin/python -m scripts.bench.otel_service usermgmt|notification

What people would pick instead of the X-Ray SDK: OpenTelemetry's FastAPI and httpx
instrumentations with their defaults, the X-Ray propagator (X-Amzn-Trace-Id) and ID generator,
every request sampled, spans batched and exported as OTLP http/protobuf to the endpoint in
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. The service's own X-Ray tracing is switched off
(AWS_XRAY_SDK_ENABLED=false) and the app is built by its own `create_app` and run by
`servicekit.serve`, with the same settings, logging and uvicorn options as `python -m <service>`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

import notification.settings
import usermgmt.settings
from servicekit import serve
from servicekit.admission import ConcurrencyLimit
from servicekit.bodylimit import BodyLimit

# Health checks stay untraced, as the X-Ray middleware leaves them.
EXCLUDED_URLS = "health-status"
USAGE = "usage: python -m scripts.bench.otel_service usermgmt|notification"
Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
# What create_app puts in front of the FastAPI app, tracing apart.
GUARDS = (ConcurrencyLimit, BodyLimit)


def configure_opentelemetry(service_name: str) -> TracerProvider:
    """The global tracer provider and propagator, and httpx instrumented, before any app
    exists: user management builds its httpx client in create_app."""
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}),
        sampler=ALWAYS_ON,
        id_generator=AwsXRayIdGenerator(),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(AwsXRayPropagator())
    HTTPXClientInstrumentor().instrument()
    return provider


def instrumented(app: Any, provider: TracerProvider) -> Any:
    """`app` (what create_app returned: the FastAPI app behind servicekit's limits) with the
    FastAPI app inside it instrumented; the limits stay in front, as they are with X-Ray."""
    inner = app
    while isinstance(inner, GUARDS):
        inner = inner.app
    if not isinstance(inner, FastAPI):  # X-Ray's middleware wraps it when tracing is on
        raise SystemExit("AWS_XRAY_SDK_ENABLED must be false: the app came back wrapped")
    FastAPIInstrumentor.instrument_app(inner, excluded_urls=EXCLUDED_URLS)
    inner.router.lifespan_context = _flushing(inner.router.lifespan_context, provider)
    return app


def _flushing(lifespan: Lifespan, provider: TracerProvider) -> Lifespan:
    """The app's lifespan, then the last batch of spans exported: uvicorn re-raises SIGTERM
    once it has shut down, so the provider's atexit hook never runs."""

    @asynccontextmanager
    async def lifespan_then_flush(app: Any) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            yield state
        provider.shutdown()

    return lifespan_then_flush


# The apps are imported by their factories, as `serve` expects: after the settings are valid.


def usermgmt_app(settings: usermgmt.settings.Settings) -> Any:
    from usermgmt.app import create_app

    provider = configure_opentelemetry(usermgmt.settings.DEFAULT_TRACING_NAME)
    return instrumented(create_app(settings), provider)


def notification_app(settings: notification.settings.Settings) -> Any:
    from notification.app import create_app

    provider = configure_opentelemetry(settings.default_tracing_name)
    return instrumented(create_app(settings), provider)


def main(argv: list[str]) -> None:
    if argv not in (["usermgmt"], ["notification"]):
        raise SystemExit(USAGE)
    os.environ["AWS_XRAY_SDK_ENABLED"] = "false"
    if argv == ["usermgmt"]:
        serve(usermgmt.settings.Settings, f"{__name__}:usermgmt_app", prog="usermgmt (OTel)")
    else:
        serve(
            notification.settings.Settings,
            f"{__name__}:notification_app",
            prog="notification (OTel)",
        )


if __name__ == "__main__":
    main(sys.argv[1:])
