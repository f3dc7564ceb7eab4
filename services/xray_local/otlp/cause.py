"""`error`, `fault`, `throttle` and `cause`: awsxrayexporter's cause.go (makeCause).

The flags follow the HTTP status when the span has one (`http.status_code`, else
`http.response.status_code`): 4xx is an error, 429 also a throttle, 5xx a fault; without an
HTTP status in 400-599, a span whose status is ERROR is a fault. `exception` events become
`cause.exceptions` (Python stack traces are split into frames, as the exporter does for
`telemetry.sdk.language: python`); an ERROR status without such events becomes one exception
carrying the status message (or the `http.status_text` attribute).
"""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from .values import Attributes, as_int, as_str

EXCEPTION_EVENT = "exception"
AWS_HTTP_FAILURE_EVENT = "HTTP request failure"
AWS_HTTP_ERROR_TYPE = "aws.http.error.event"
REMOTE_KINDS = (Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_PRODUCER)
STATUS_ERROR = Status.STATUS_CODE_ERROR
RESPONSE_STATUS = "http.response.status_code"
PYTHON_NESTED = "During handling of the above exception, another exception occurred:"


class Flags(NamedTuple):
    error: bool
    fault: bool
    throttle: bool


# The only combinations there are, made once.
NO_FLAGS, FAULT = Flags(False, False, False), Flags(False, True, False)
ERROR, THROTTLE = Flags(True, False, False), Flags(True, False, True)


def make_cause(
    span: Span,
    span_attributes: Attributes,
    attributes: Attributes,
    language: str,
    aws_sdk_call: bool,
) -> tuple[Flags, Attributes, dict[str, Any] | None]:
    """(the flags, the attributes left over, the cause block or None); `span_attributes` are
    all the span's, `attributes` those the rules before this one left."""
    status = span.status
    status_error = status.code == STATUS_ERROR
    cause = None
    events = span.events
    has_exceptions = bool(events) and any(
        event.name == EXCEPTION_EVENT or (aws_sdk_call and event.name == AWS_HTTP_FAILURE_EVENT)
        for event in events
    )
    if has_exceptions:
        exceptions: list[dict[str, Any]] = []
        remote = span.kind in REMOTE_KINDS
        for event in events:
            fields = {pair.key: pair.value for pair in event.attributes}
            if event.name == EXCEPTION_EVENT:
                exceptions += _parse_exception(
                    _string(fields.get("exception.type")),
                    _string(fields.get("exception.message")),
                    _string(fields.get("exception.stacktrace")),
                    remote,
                    language,
                )
            elif aws_sdk_call and event.name == AWS_HTTP_FAILURE_EVENT:
                failed = fields.get(RESPONSE_STATUS)
                text = fields.get("aws.http.error_message")
                if failed is not None and text is not None:
                    when = f"{event.time_unix_nano // 1000 / 1_000_000:.6f}"
                    exceptions.append(
                        {
                            "id": _new_id(),
                            "type": AWS_HTTP_ERROR_TYPE,
                            "remote": True,
                            "message": f"{_as_text(failed)}@{when}@{_string(text)}",
                        }
                    )
        cause = {"exceptions": exceptions}
    elif status_error:
        # "Use OpenCensus behavior if we didn't find any exception events."
        message = status.message or as_str(attributes.get("http.status_text"))
        attributes = {k: v for k, v in attributes.items() if k != "http.status_text"}
        if message:
            cause = {"exceptions": [{"id": _new_id(), "type": "", "message": message}]}

    # The flags: the HTTP status when the span has one, its OTel status otherwise. A status
    # attribute that is not an integer counts as none (pdata's Int() of it is 0).
    code = as_int(span_attributes.get("http.status_code", span_attributes.get(RESPONSE_STATUS)))
    if not 400 <= code <= 599:
        flags = FAULT if status_error else NO_FLAGS
    elif code <= 499:
        flags = THROTTLE if code == 429 else ERROR
    else:
        flags = FAULT
    return flags, attributes, cause


def _string(value: Any) -> str:
    return value.string_value if value is not None and value.HasField("string_value") else ""


def _as_text(value: Any) -> str:
    """pdata's AsString(): the value written out, whatever its type."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    return str(getattr(value, kind)) if kind in ("int_value", "double_value") else ""


def _new_id() -> str:
    return secrets.token_hex(8)


def _parse_exception(
    kind: str, message: str, stacktrace: str, remote: bool, language: str
) -> list[dict[str, Any]]:
    exceptions = [{"id": _new_id(), "type": kind, "remote": remote, "message": message}]
    if stacktrace and language == "python":
        _fill_python_stacktrace(stacktrace, exceptions)
    # The exporter also splits Java, JavaScript, .NET, PHP and Go stack traces; services that
    # send those keep the exception without frames here.
    return exceptions


def _fill_python_stacktrace(stacktrace: str, exceptions: list[dict[str, Any]]) -> None:
    """fillPythonStacktrace: read the traceback from the bottom up; each "During handling of
    the above exception" starts the exception that caused the one below it."""
    lines = stacktrace.split("\n")
    index = len(lines) - 2  # the last line is the exception and its message
    if index < 0:
        return
    exception = exceptions[0]
    remote = exception["remote"]
    exception["stack"] = []
    line = lines[index]
    while True:
        if line.startswith("  File "):
            parts = line.split(",")
            if len(parts) == 3:
                path = parts[0][8:-1]
                number = 0
                if parts[1].startswith(" line "):
                    number = _int_or_zero(parts[1][6:])
                label = parts[2][4:] if parts[2].startswith(" in ") else ""
                exception["stack"].append({"path": path, "line": number, "label": label})
        elif line.startswith(PYTHON_NESTED):
            file_line = index - 1
            while file_line >= 0 and not lines[file_line].startswith("  File "):
                file_line -= 1
            if file_line < 0:
                return  # a malformed stack trace
            text = "\n".join(lines[file_line + 2 : index - 1])
            index = file_line
            kind, colon, rest = text.partition(":")
            if not colon:
                return
            cause = {"id": _new_id(), "type": kind, "remote": remote, "message": rest[1:]}
            exceptions[-1]["cause"] = cause["id"]
            exception["cause"] = cause["id"]
            exceptions.append(cause)
            exception = cause
            exception["stack"] = []
            line = lines[index]
            continue
        index -= 1
        if index < 0:
            break
        line = lines[index]
    for item in exceptions:
        if not item.get("stack"):
            item.pop("stack", None)


def _int_or_zero(text: str) -> int:
    return int(text) if text.strip().isdigit() else 0
