"""OTLP request bodies into `ExportTraceServiceRequest`, with the published protobuf classes.

OTLP/JSON is protobuf's JSON mapping with two deviations (the OTLP specification, "JSON
Protobuf Encoding"): trace and span ids are hex strings, not base64, and enums are integers.
The ids are turned into what `json_format` expects before it parses; unknown fields are
ignored, as receivers MUST. A gzip body is inflated up to the size limit, never past it.
"""

from __future__ import annotations

import base64
import zlib
from enum import Enum
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ..documents import fast_loads

GZIP_WINDOW = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate
ID_FIELDS = ("traceId", "spanId", "parentSpanId")
INFLATE_CHUNK = 64 * 1024


class Format(Enum):
    PROTOBUF = "application/x-protobuf"
    JSON = "application/json"


MEDIA_TYPES = {
    "application/x-protobuf": Format.PROTOBUF,
    "application/protobuf": Format.PROTOBUF,
    "application/json": Format.JSON,
}


class BadBody(ValueError):
    """A body that cannot be read: 400, or 413 when `too_large`."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def media_format(content_type: str) -> Format | None:
    return MEDIA_TYPES.get(content_type.split(";", 1)[0].strip().lower())


def inflate(body: bytes, limit: int) -> bytes:
    """The gzip body's content, refusing (413) past `limit` bytes of it."""
    inflater = zlib.decompressobj(GZIP_WINDOW)
    parts: list[bytes] = []
    size = 0
    try:
        data = body
        while not inflater.eof:
            part = inflater.decompress(data, INFLATE_CHUNK)
            data = inflater.unconsumed_tail
            if not part and not data:
                raise BadBody("the gzip body is cut short")
            size += len(part)
            if size > limit:
                raise BadBody(
                    f"the body inflates to more than the limit of {limit} bytes", too_large=True
                )
            parts.append(part)
    except zlib.error as exc:
        raise BadBody(f"the body is not valid gzip: {exc}") from None
    return b"".join(parts)


def parse(body: bytes, body_format: Format) -> ExportTraceServiceRequest:
    if body_format is Format.PROTOBUF:
        return parse_protobuf(body)
    return parse_json(body)


def parse_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RecursionError) as exc:
        raise BadBody(f"the body is not a protobuf ExportTraceServiceRequest: {exc}") from None
    return request


def parse_json(body: bytes) -> ExportTraceServiceRequest:
    try:
        document = fast_loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadBody(f"the body is not JSON: {exc}") from None
    if type(document) is not dict:
        raise BadBody("the body is not a JSON object (an ExportTraceServiceRequest)")
    _hex_ids_to_base64(document)
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, TypeError, ValueError) as exc:
        raise BadBody(f"the body is not an OTLP/JSON ExportTraceServiceRequest: {exc}") from None
    return request


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    """OTLP/JSON's hex ids, re-encoded as the base64 protobuf's JSON mapping reads."""
    for resource_spans in _objects(document.get("resourceSpans")):
        for scope_spans in _objects(resource_spans.get("scopeSpans")):
            for span in _objects(scope_spans.get("spans")):
                _convert(span)
                for link in _objects(span.get("links")):
                    _convert(link)


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if type(item) is dict] if type(value) is list else []


def _convert(holder: dict[str, Any]) -> None:
    for field in ID_FIELDS:
        value = holder.get(field)
        if type(value) is str:
            try:
                holder[field] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise BadBody(f"{field} {value[:40]!r} is not hexadecimal") from None
