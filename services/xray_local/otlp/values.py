"""OTLP attribute values as plain Python values, and the accessors the exporter's rules use.

The exporter reads attributes through pdata, whose `Str()` of a non-string value is "" and
whose `Int()` of a non-integer is 0; `as_str` and `as_int` keep those semantics, so a rule
that reads an attribute of the wrong type behaves as the exporter's does.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

Attributes = dict[str, Any]
# The kinds whose value is already what AsRaw() makes of it: read as they are, without a call.
SCALARS = frozenset(("string_value", "int_value", "double_value", "bool_value"))


def raw(value: AnyValue) -> Any:
    """pdata's `AsRaw()`: what the value is as JSON (bytes as base64, as Go encodes them);
    None for an empty value."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return [raw(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: raw(item.value) for item in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def attributes(pairs: Iterable[KeyValue]) -> Attributes:
    # Each attribute read through the protobuf classes costs a wrapper object or two: read
    # every one once, here, and never again.
    result: Attributes = {}
    for pair in pairs:
        value = pair.value
        text = value.string_value  # most are strings: one read, and no oneof lookup
        if text:
            result[pair.key] = text
        else:
            kind = value.WhichOneof("value")
            result[pair.key] = getattr(value, kind) if kind in SCALARS else raw(value)
    return result


def as_str(value: Any) -> str:
    return value if type(value) is str else ""


def as_int(value: Any) -> int:
    return value if type(value) is int else 0


def annotation_value(value: Any) -> str | int | float | bool | None:
    """The exporter's annotationValue: strings, integers, doubles and booleans only."""
    return value if type(value) in (str, int, float, bool) else None
