"""The X-Amzn-Trace-Id header, parsed strictly, and new trace ids in its format.

The SDK's own parser accepts anything (`Root=garbage` becomes a trace id the X-Ray API then
rejects), so incoming headers are checked field by field: a malformed header is ignored and
the request starts a fresh trace, never an error. Nothing here depends on a tracing SDK: the
header is the trace's wire format whichever backend records it.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Literal

HEADER_NAME = "X-Amzn-Trace-Id"
TRACE_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
ENTITY_ID = re.compile(r"^[0-9a-f]{16}$")
SAMPLED_VALUES = ("0", "1", "?")
MAX_HEADER_CHARS = 1024

Sampled = Literal["0", "1", "?"]


@dataclass(frozen=True)
class TraceHeader:
    root: str
    parent: str | None = None
    sampled: Sampled | None = None


def parse_trace_header(value: str | None) -> TraceHeader | None:
    """The trace to continue, or None when the header is absent or malformed."""
    if not value or len(value) > MAX_HEADER_CHARS:
        return None
    fields: dict[str, str] = {}
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, field_value = part.partition("=")
        if not sep:
            return None
        fields[key.strip()] = field_value.strip()
    root = fields.get("Root")
    parent = fields.get("Parent")
    sampled = fields.get("Sampled")
    if root is None or not TRACE_ID.match(root):
        return None
    if parent is not None and not ENTITY_ID.match(parent):
        return None
    if sampled is not None and sampled not in SAMPLED_VALUES:
        return None
    return TraceHeader(root, parent, sampled)  # type: ignore[arg-type]


def format_trace_header(root: str, parent: str | None = None, sampled: bool | None = None) -> str:
    parts = [f"Root={root}"]
    if parent:
        parts.append(f"Parent={parent}")
    if sampled is not None:
        parts.append(f"Sampled={int(sampled)}")
    return ";".join(parts)


def new_trace_id() -> str:
    """A trace id as X-Ray defines it: version 1, the epoch second in 8 hex digits, then 96
    random bits in 24 (docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html)."""
    return f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"
