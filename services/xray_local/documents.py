"""Segment documents as X-Ray defines them: validated, then reduced to what the map needs.

A parsed document keeps its raw JSON (BatchGetTraces hands it back verbatim) and a flat list
of small `Entity` records, one per segment or subsegment in it. The parsed dict itself is
dropped: a 1 KB document costs several KB as Python objects, and the store keeps 100,000s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

TRACE_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}\Z")
ENTITY_ID = re.compile(r"[0-9a-f]{16}\Z")
MAX_NAME_CHARS = 200
# Deeper nesting than this is no real SDK's output, and would cost the walk dearly.
MAX_DEPTH = 64
MAX_ENTITIES_PER_DOCUMENT = 10_000
# Namespaces whose subsegments are calls to something else: a downstream node on the map.
REMOTE_NAMESPACES = ("remote", "aws")


class InvalidDocument(ValueError):
    """A document X-Ray would refuse; `reason` is the short name it is counted under."""

    def __init__(self, reason: str, message: str, entity_id: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.entity_id = entity_id


@dataclass(slots=True)
class Http:
    method: str | None = None
    url: str | None = None
    status: int | None = None
    user_agent: str | None = None
    client_ip: str | None = None


@dataclass(slots=True)
class Entity:
    """One segment or subsegment, reduced to the fields the map, summaries and filters use."""

    id: str
    name: str
    is_segment: bool
    parent_id: str | None
    start: float
    end: float | None  # None while in progress
    error: bool = False
    fault: bool = False
    throttle: bool = False
    namespace: str | None = None
    sql: bool = False
    origin: str | None = None
    http: Http | None = None
    annotations: dict[str, str | float | bool] | None = None
    user: str | None = None
    instance_id: str | None = None
    availability_zone: str | None = None
    resource_arn: str | None = None
    # The segment a subsegment belongs to, when the document says (nested ones).
    segment_id: str | None = None

    @property
    def in_progress(self) -> bool:
        return self.end is None

    @property
    def is_remote(self) -> bool:
        return not self.is_segment and self.namespace in REMOTE_NAMESPACES

    @property
    def duration(self) -> float:
        return 0.0 if self.end is None else max(self.end - self.start, 0.0)


@dataclass(slots=True)
class Document:
    """One segment or independent subsegment document as received."""

    trace_id: str
    id: str
    is_segment: bool
    raw: bytes
    entities: list[Entity]

    @property
    def root(self) -> Entity:
        return self.entities[0]

    @property
    def in_progress(self) -> bool:
        return self.entities[0].end is None


def parse_document(raw: bytes) -> Document:
    """Validate one segment document (JSON text) and reduce it, or raise InvalidDocument."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise InvalidDocument("bad_json", "the document nests too deeply") from None
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise InvalidDocument("bad_json", f"the document is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidDocument("not_object", "the document is not a JSON object")
    try:
        return reduce_document(body, raw)
    except InvalidDocument as exc:
        exc.entity_id = exc.entity_id or _id_of(body)  # PutTraceSegments reports it
        raise


def reduce_document(body: dict[str, Any], raw: bytes) -> Document:
    is_segment = body.get("type", "segment") != "subsegment"
    trace_id = body.get("trace_id")
    if not isinstance(trace_id, str) or not TRACE_ID.match(trace_id):
        raise InvalidDocument(
            "invalid_segment",
            f"trace_id {trace_id!r} is not an X-Ray trace id (1-<8 hex>-<24 hex>)",
            _id_of(body),
        )
    if not is_segment and not _is_entity_id(body.get("parent_id")):
        raise InvalidDocument(
            "invalid_segment",
            "an independent subsegment (type: subsegment) needs a 16-hex-digit parent_id",
            _id_of(body),
        )
    entities: list[Entity] = []
    root_id = _entity_id(body, "document")
    segment_id = root_id if is_segment else None
    # (dict, parent id, depth, path for messages); iterative so depth cannot overflow.
    pending: list[tuple[Any, Any, int, str]] = [(body, body.get("parent_id"), 0, "")]
    while pending:
        node, parent_id, depth, path = pending.pop()
        if not isinstance(node, dict):
            raise InvalidDocument("invalid_segment", f"{path or 'document'} is not an object")
        if depth > MAX_DEPTH:
            raise InvalidDocument("invalid_segment", f"subsegments nest deeper than {MAX_DEPTH}")
        entity = _entity(node, path, is_segment and depth == 0, parent_id, segment_id)
        entities.append(entity)
        if len(entities) > MAX_ENTITIES_PER_DOCUMENT:
            raise InvalidDocument(
                "invalid_segment", f"more than {MAX_ENTITIES_PER_DOCUMENT} subsegments"
            )
        children = node.get("subsegments")
        if children is None:
            continue
        if not isinstance(children, list):
            raise InvalidDocument(
                "invalid_segment", f"{path or 'document'}.subsegments is not a list"
            )
        for index in range(len(children) - 1, -1, -1):
            child_path = f"{path}subsegments[{index}]."
            pending.append((children[index], entity.id, depth + 1, child_path))
    return Document(trace_id, root_id, is_segment, raw, entities)


def _entity(
    node: dict[str, Any], path: str, is_segment: bool, parent_id: Any, segment_id: str | None
) -> Entity:
    where = path.rstrip(".") or "document"
    entity_id = _entity_id(node, where)
    name = node.get("name")
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS:
        raise InvalidDocument(
            "invalid_segment", f"{where}: name must be a string of 1 to {MAX_NAME_CHARS} characters"
        )
    start = node.get("start_time")
    if not isinstance(start, int | float) or isinstance(start, bool):
        raise InvalidDocument("invalid_segment", f"{where}: start_time must be a number")
    end = node.get("end_time")
    if end is None:
        if node.get("in_progress") is not True:
            raise InvalidDocument(
                "invalid_segment", f"{where}: needs end_time, or in_progress: true"
            )
    elif not _is_number(end):
        raise InvalidDocument("invalid_segment", f"{where}: end_time must be a number")
    elif node.get("in_progress") is True:
        end = None
    entity = Entity(
        id=entity_id,
        name=name,
        is_segment=is_segment,
        parent_id=parent_id if isinstance(parent_id, str) else None,
        start=float(start),
        end=None if end is None else float(end),
        error=node.get("error") is True,
        fault=node.get("fault") is True,
        throttle=node.get("throttle") is True,
        namespace=_str(node.get("namespace")),
        sql=isinstance(node.get("sql"), dict),
        origin=_str(node.get("origin")) if is_segment else None,
        http=_http(node.get("http")),
        annotations=_annotations(node.get("annotations")),
        segment_id=None if is_segment else segment_id,
    )
    if is_segment:
        entity.user = _str(node.get("user"))
        entity.resource_arn = _str(node.get("resource_arn"))
        aws = node.get("aws")
        ec2 = aws.get("ec2") if isinstance(aws, dict) else None
        if isinstance(ec2, dict):
            entity.instance_id = _str(ec2.get("instance_id"))
            entity.availability_zone = _str(ec2.get("availability_zone"))
    return entity


def _entity_id(node: dict[str, Any], where: str) -> str:
    entity_id = node.get("id")
    if not _is_entity_id(entity_id):
        raise InvalidDocument("invalid_segment", f"{where}: id must be 16 hexadecimal digits")
    return str(entity_id)


def _id_of(body: dict[str, Any]) -> str | None:
    value = body.get("id")
    return value if isinstance(value, str) else None


def _is_entity_id(value: Any) -> bool:
    return isinstance(value, str) and ENTITY_ID.match(value) is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _http(value: Any) -> Http | None:
    if not isinstance(value, dict):
        return None
    request = value.get("request")
    response = value.get("response")
    request = request if isinstance(request, dict) else {}
    response = response if isinstance(response, dict) else {}
    status = response.get("status")
    return Http(
        method=_str(request.get("method")),
        url=_str(request.get("url")),
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        user_agent=_str(request.get("user_agent")),
        client_ip=_str(request.get("client_ip")),
    )


def _annotations(value: Any) -> dict[str, str | float | bool] | None:
    if not isinstance(value, dict) or not value:
        return None
    kept: dict[str, str | float | bool] = {}
    for key, item in value.items():
        if isinstance(item, bool | str):
            kept[key] = item
        elif isinstance(item, int | float):
            kept[key] = float(item)
    return kept or None
