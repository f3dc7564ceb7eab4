"""Reading segment documents the way X-Ray assembles them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

Document = dict[str, Any]


def new_trace_id() -> str:
    return f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"


# A fixed trace id, for documents that are never sent.
FIXED_TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793"


def minimal_document(**fields: Any) -> Document:
    """A segment document with only what X-Ray requires, plus `fields`."""
    return {
        "name": "svc",
        "id": "aaaaaaaaaaaaaaaa",
        "trace_id": FIXED_TRACE_ID,
        "start_time": 1.0,
        "end_time": 2.0,
        **fields,
    }


def sampled_header(trace_id: str) -> dict[str, str]:
    return {"X-Amzn-Trace-Id": f"Root={trace_id};Sampled=1"}


def segments(documents: list[Document], name: str | None = None) -> list[Document]:
    """Top-level segment documents (not independently sent subsegments), optionally by name."""
    return [
        doc
        for doc in documents
        if doc.get("type") != "subsegment" and (name is None or doc.get("name") == name)
    ]


def subsegments(entity: Document) -> Iterator[Document]:
    """Every subsegment nested anywhere below `entity`."""
    for child in entity.get("subsegments", []):
        yield child
        yield from subsegments(child)


def sql_subsegments(entity: Document) -> list[Document]:
    return [sub for sub in subsegments(entity) if "sql" in sub]


def http_subsegments(entity: Document) -> list[Document]:
    return [sub for sub in subsegments(entity) if "http" in sub]
