"""Log lines: one per event, whatever the message or traceback holds, with the trace id."""

from __future__ import annotations

import json
import logging

import pytest

from servicekit.logs import JsonFormatter, TextFormatter
from tests.support.tracer import TracerFactory, request_segment
from tracing import TraceIdFilter


def record_of(logger: logging.Logger, action: object) -> logging.LogRecord:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(TraceIdFilter())
    logger.addHandler(handler)
    try:
        action()  # type: ignore[operator]
    finally:
        logger.removeHandler(handler)
    [record] = records
    return record


def failing_log(logger: logging.Logger) -> None:
    try:
        raise ValueError("line one\nline two")
    except ValueError:
        logger.exception("could not do it for user %s", "evil\nINFO forged line")


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_an_exception_with_newlines_is_still_one_line(formatter: logging.Formatter) -> None:
    logger = logging.getLogger("test.logs")
    line = formatter.format(record_of(logger, lambda: failing_log(logger)))
    assert "\n" not in line
    assert "ValueError: line one" in line.replace("\\n", "\n")
    assert "Traceback" in line


def test_log_lines_carry_the_request_trace_id(new_tracer: TracerFactory) -> None:
    tracer = new_tracer()
    logger = logging.getLogger("test.logs")
    with request_segment(tracer) as segment:
        record = record_of(logger, lambda: logger.warning("inside"))
    line = TextFormatter().format(record)
    assert f" trace_id={segment.trace_id} inside" in line
    outside = JsonFormatter().format(record_of(logger, lambda: logger.warning("outside")))
    assert json.loads(outside)["trace_id"] == "-"
