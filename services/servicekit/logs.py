"""Logging for the services: one line per event, each carrying the X-Ray trace id."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from tracing import SDK_LOGGERS, TraceIdFilter

from .settings import LogFormat, LogLevel

TEXT_FORMAT = "{time} {level} {logger} trace_id={trace_id} {message}"


def configure_logging(level: LogLevel, log_format: LogFormat) -> None:
    """Send every logger (uvicorn's included) to stdout through one formatter."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(TraceIdFilter())
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.value)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Chatty at INFO: httpx logs every request (the trace has them), the tracing SDK's own
    # loggers (tracing.SDK_LOGGERS) its routine work.
    for chatty in ("httpx", *SDK_LOGGERS):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def _fields(record: logging.LogRecord) -> dict[str, str]:
    return {
        "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        + "Z",
        "level": record.levelname,
        "logger": record.name,
        "trace_id": getattr(record, "trace_id", "-"),
        "message": record.getMessage(),
    }


class TextFormatter(logging.Formatter):
    """Newlines (in messages and tracebacks alike) are escaped, so an event is one line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        line = TEXT_FORMAT.format(**fields)
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info)
        return line.replace("\r", "\\r").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, ensure_ascii=False)
