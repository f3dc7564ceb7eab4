"""Segment documents built from a few facts (name, start, length, status, children), with
the flags the SDK sets for a status, for traces a test describes exactly."""

from __future__ import annotations

from itertools import count
from typing import Any

from tests.support.xray_documents import sdk_flags

Document = dict[str, Any]

BASE = 1_700_000_000.0  # what start times count from
_counter = count(1)


def _id() -> str:
    return f"{next(_counter):016x}"


def trace_id(index: int, at: float | None = None) -> str:
    """A fixed trace id for trace number `index`, its time `at` (BASE + index)."""
    return f"1-{int(BASE + index if at is None else at):08x}-{index:024x}"


def entity(
    name: str,
    start: float,
    took: float | None,
    *,
    status: int | None = None,
    url: str | None = None,
    method: str = "GET",
    children: list[Document] | None = None,
    exception: tuple[str, str] | None = None,
    **fields: Any,
) -> Document:
    """A segment or subsegment `took` seconds long (None: in progress) from BASE + start."""
    document: Document = {"id": _id(), "name": name, "start_time": BASE + start}
    if took is None:
        document["in_progress"] = True
    else:
        document["end_time"] = BASE + start + took
    http: Document = {}
    if url is not None:
        http["request"] = {"method": method, "url": url}
    if status is not None and took is not None:
        http["response"] = {"status": status}
        document.update(sdk_flags(status))
    if http:
        document["http"] = http
    if exception is not None:
        document["fault"] = document.get("fault", not document.get("error", False))
        document["cause"] = {
            "exceptions": [{"id": _id(), "type": exception[0], "message": exception[1]}]
        }
    document.update(fields)
    if children:
        document["subsegments"] = children
    return document


def call(name: str, start: float, took: float, *, traced: bool = True, **fields: Any) -> Document:
    """An HTTP call to `name` (a remote subsegment)."""
    return entity(
        name, start, took, url=f"http://{name}/", namespace="remote", traced=traced, **fields
    )


def trace(
    index: int, root: Document, *called: tuple[Document, Document], at: float | None = None
) -> list[Document]:
    """The root segment and each (call, callee segment) below it, as separate documents."""
    documents = [root]
    for caller, callee in called:
        callee["parent_id"] = caller["id"]
        documents.append(callee)
    for document in documents:
        document["trace_id"] = trace_id(index, at)
    return documents
