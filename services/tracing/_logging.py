"""Put the current X-Ray trace id on every log record, so log lines and traces meet."""

from __future__ import annotations

import logging

from ._current import current_trace_id


class TraceIdFilter(logging.Filter):
    """Sets `record.trace_id` ("-" outside a request); never filters anything out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = current_trace_id() or "-"
        return True
