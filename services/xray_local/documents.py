"""Segment documents as X-Ray defines them: validated, then reduced to what the map needs.

A parsed document keeps its raw JSON (BatchGetTraces hands it back verbatim) and one small
record per segment or subsegment in it; the parsed dict itself is dropped (a 1 KB document
costs several KB as Python objects, and the store keeps 100,000s).

The records are kept packed: plain tuples of plain values, laid out as `Entity`, unpacked
into `Entity` when read. The cyclic garbage collector stops tracking such tuples after one
look (it never stops tracking named tuples, or tuples holding a dict): kept as objects,
100,000 documents are a million tracked objects and each full collection would stall intake
for most of a second.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

fast_loads: Callable[[bytes], Any]
try:
    # Parsing is the largest cost of intake, and orjson parses these documents twice as fast.
    from orjson import loads as fast_loads
except ImportError:  # the xray-local extra installs it; the standard library still works
    fast_loads = json.loads

TRACE_ID = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}\Z")
ENTITY_ID = re.compile(r"[0-9a-f]{16}\Z")
MAX_NAME_CHARS = 200
# Deeper nesting than this is no real SDK's output, and would cost the walk dearly.
MAX_DEPTH = 64
MAX_ENTITIES_PER_DOCUMENT = 10_000
# Exceptions kept per entity for root causes, and the length of what is kept of each.
MAX_EXCEPTIONS = 10
MAX_EXCEPTION_CHARS = 250
# Namespaces whose subsegments are calls to something else: a downstream node on the map.
REMOTE_NAMESPACES = ("remote", "aws")
NUMBER_TYPES = (int, float)  # `type(x) in`: unlike isinstance, leaves booleans out

Packed = tuple[Any, ...]


class InvalidDocument(ValueError):
    """A document X-Ray would refuse; `reason` is the short name it is counted under."""

    def __init__(self, reason: str, message: str, entity_id: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.entity_id = entity_id


class Http(NamedTuple):
    method: str | None = None
    url: str | None = None
    status: int | None = None
    user_agent: str | None = None
    client_ip: str | None = None


class Entity(NamedTuple):
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
    # A call to a traced service (`traced`, or `http.request.traced` as the guide's examples
    # put it): X-Ray waits for the callee's segment before the trace is complete.
    traced: bool = False
    account_id: str | None = None  # a segment's aws.account_id: id(account.id: ...)
    # (type, message) of each exception in `cause`: what root causes report.
    exceptions: tuple[tuple[str, str], ...] | None = None

    @property
    def in_progress(self) -> bool:
        return self.end is None

    @property
    def is_remote(self) -> bool:
        return not self.is_segment and self.namespace in REMOTE_NAMESPACES

    @property
    def duration(self) -> float:
        return 0.0 if self.end is None else max(self.end - self.start, 0.0)


_new = tuple.__new__
END_FIELD = Entity._fields.index("end")
HTTP_FIELD = Entity._fields.index("http")
ANNOTATIONS_FIELD = Entity._fields.index("annotations")


class Document(NamedTuple):
    """One segment or independent subsegment document as received. `tuple(document)` is
    what the store keeps: every part of it is plain."""

    trace_id: str
    id: str
    is_segment: bool
    raw: bytes
    packed: tuple[Packed, ...]  # its entities, the document's own first

    @property
    def root(self) -> Entity:
        return unpack_entity(self.packed[0])

    @property
    def in_progress(self) -> bool:
        return self.packed[0][END_FIELD] is None

    def entities(self) -> list[Entity]:
        return [unpack_entity(packed) for packed in self.packed]


def pack_entity(entity: Entity) -> Packed:
    values: list[Any] = list(entity)
    if entity.http is not None:
        values[HTTP_FIELD] = tuple(entity.http)
    if entity.annotations is not None:
        values[ANNOTATIONS_FIELD] = tuple(entity.annotations.items())
    return tuple(values)


def unpack_entity(packed: Packed) -> Entity:
    # tuple.__new__ is what Entity._make calls, less its checks: this runs for every
    # entity of every trace analysed, and packed tuples come only from this module.
    if packed[HTTP_FIELD] is None and packed[ANNOTATIONS_FIELD] is None:
        return _new(Entity, packed)
    values = list(packed)
    if values[HTTP_FIELD] is not None:
        values[HTTP_FIELD] = _new(Http, values[HTTP_FIELD])
    if values[ANNOTATIONS_FIELD] is not None:
        values[ANNOTATIONS_FIELD] = dict(values[ANNOTATIONS_FIELD])
    return _new(Entity, values)


def parse_document(raw: bytes, loads: Callable[[bytes], Any] = fast_loads) -> Document:
    """Validate one segment document (JSON text) and reduce it, or raise InvalidDocument."""
    try:
        body = loads(raw)
    except RecursionError:
        raise InvalidDocument("bad_json", "the document nests too deeply") from None
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise InvalidDocument("bad_json", f"the document is not valid JSON: {exc}") from None
    if type(body) is not dict:
        raise InvalidDocument("not_object", "the document is not a JSON object")
    return document_from(body, raw)


def document_from(body: dict[str, Any], raw: bytes) -> Document:
    """Validate and reduce a document already parsed (`raw` is its JSON text)."""
    try:
        return reduce_document(body, raw)
    except InvalidDocument as exc:
        exc.entity_id = exc.entity_id or _id_of(body)  # PutTraceSegments reports it
        raise


def made_document(body: dict[str, Any], raw: bytes) -> Document:
    """Reduce a document this process made itself (a span the OTLP intake translated): one
    entity, no subsegments, its ids and times written from a span already checked. What that
    guarantees is not checked again; the name, which the sender chose, is checked as any
    document's, and the rest is read by the same code (_record)."""
    entity_id = body["id"]
    name = _checked_name(body["name"], "", entity_id)
    is_segment = body.get("type") != "subsegment"
    parent_id, start, end = body.get("parent_id"), body["start_time"], body["end_time"]
    packed = _record(body, entity_id, name, is_segment, parent_id, start, end, None)
    return _new(Document, (body["trace_id"], entity_id, is_segment, raw, (packed,)))


def reduce_document(body: dict[str, Any], raw: bytes) -> Document:
    is_segment = body.get("type", "segment") != "subsegment"
    trace_id = body.get("trace_id")
    if type(trace_id) is not str or not TRACE_ID.match(trace_id):
        raise InvalidDocument(
            "invalid_segment",
            f"trace_id {trace_id!r} is not an X-Ray trace id (1-<8 hex>-<24 hex>)",
        )
    parent_id = body.get("parent_id")
    if not is_segment and (type(parent_id) is not str or not ENTITY_ID.match(parent_id)):
        raise InvalidDocument(
            "invalid_segment",
            "an independent subsegment (type: subsegment) needs a 16-hex-digit parent_id",
        )
    root = _entity(body, "", is_segment, parent_id, None)
    packed = [root]
    segment_id = root[0] if is_segment else None
    # (dict, parent id, depth, path for messages); iterative so depth cannot overflow.
    pending: list[tuple[Any, str, int, str]] = []
    _queue_children(body, root[0], 1, "", pending)
    while pending:
        node, holder, depth, path = pending.pop()
        if type(node) is not dict:
            raise InvalidDocument("invalid_segment", f"{path.rstrip('.')} is not an object")
        if depth > MAX_DEPTH:
            raise InvalidDocument("invalid_segment", f"subsegments nest deeper than {MAX_DEPTH}")
        entity = _entity(node, path, False, holder, segment_id)
        packed.append(entity)
        if len(packed) > MAX_ENTITIES_PER_DOCUMENT:
            raise InvalidDocument(
                "invalid_segment", f"more than {MAX_ENTITIES_PER_DOCUMENT} subsegments"
            )
        _queue_children(node, entity[0], depth + 1, path, pending)
    return Document(trace_id, root[0], is_segment, raw, tuple(packed))


def _queue_children(
    node: dict[str, Any], holder: str, depth: int, path: str, pending: list[Any]
) -> None:
    children = node.get("subsegments")
    if children is None:
        return
    if type(children) is not list:
        raise InvalidDocument(
            "invalid_segment", f"{path.rstrip('.') or 'document'}.subsegments is not a list"
        )
    for index in range(len(children) - 1, -1, -1):
        pending.append((children[index], holder, depth, f"{path}subsegments[{index}]."))


def _entity(
    node: dict[str, Any], path: str, is_segment: bool, parent_id: Any, segment_id: str | None
) -> Packed:
    """The entity `node` describes, packed in Entity's field order."""
    get = node.get
    entity_id = get("id")
    if type(entity_id) is not str or not ENTITY_ID.match(entity_id):
        raise InvalidDocument(
            "invalid_segment", f"{_where(path)}: id must be 16 hexadecimal digits"
        )
    name = _checked_name(get("name"), path)
    start: Any = get("start_time")
    if type(start) not in NUMBER_TYPES or not math.isfinite(start):
        raise InvalidDocument("invalid_segment", f"{_where(path)}: start_time must be a number")
    end = get("end_time")
    in_progress = get("in_progress") is True
    if end is None:
        if not in_progress:
            raise InvalidDocument(
                "invalid_segment", f"{_where(path)}: needs end_time, or in_progress: true"
            )
    elif type(end) not in NUMBER_TYPES or not math.isfinite(end):
        raise InvalidDocument("invalid_segment", f"{_where(path)}: end_time must be a number")
    else:
        end = None if in_progress else float(end)
    return _record(node, entity_id, name, is_segment, parent_id, float(start), end, segment_id)


def _checked_name(name: Any, path: str, entity_id: str | None = None) -> str:
    if type(name) is not str or not 0 < len(name) <= MAX_NAME_CHARS:
        raise InvalidDocument(
            "invalid_segment",
            f"{_where(path)}: name must be a string of 1 to {MAX_NAME_CHARS} characters",
            entity_id,
        )
    return name


def _record(
    node: dict[str, Any],
    entity_id: str,
    name: str,
    is_segment: bool,
    parent_id: Any,
    start: float,
    end: float | None,
    segment_id: str | None,
) -> Packed:
    """The entity packed in Entity's field order, its id, name and times known to be good."""
    get = node.get
    http = get("http")
    annotations = get("annotations")
    namespace = get("namespace")
    if is_segment:
        aws = get("aws")
        aws = aws if type(aws) is dict else {}
        ec2 = aws.get("ec2")
        ec2 = ec2 if type(ec2) is dict else {}
        origin, user = _str(get("origin")), _str(get("user"))
        instance_id, zone = _str(ec2.get("instance_id")), _str(ec2.get("availability_zone"))
        arn, account = _str(get("resource_arn")), _str(aws.get("account_id"))
        traced = False
    else:
        origin = user = instance_id = zone = arn = account = None
        traced = get("traced") is True or _request_traced(http)
    cause = get("cause")
    return (
        entity_id,
        name,
        is_segment,
        parent_id if type(parent_id) is str else None,
        start,
        end,
        get("error") is True,
        get("fault") is True,
        get("throttle") is True,
        namespace if type(namespace) is str else None,
        type(get("sql")) is dict,
        origin,
        _http(http) if http is not None else None,
        _annotations(annotations) if annotations else None,
        user,
        instance_id,
        zone,
        arn,
        segment_id,
        traced,
        account,
        _exceptions(cause) if type(cause) is dict else None,
    )


def _where(path: str) -> str:
    return path.rstrip(".") or "document"


def _id_of(body: dict[str, Any]) -> str | None:
    value = body.get("id")
    return value if type(value) is str else None


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _http(value: Any) -> Packed | None:
    """The http section, packed as Http."""
    if type(value) is not dict:
        return None
    request = value.get("request")
    response = value.get("response")
    request = request if type(request) is dict else {}
    response = response if type(response) is dict else {}
    status = response.get("status")
    return (
        _str(request.get("method")),
        _str(request.get("url")),
        status if type(status) is int else None,
        _str(request.get("user_agent")),
        _str(request.get("client_ip")),
    )


def _request_traced(http: Any) -> bool:
    request = http.get("request") if type(http) is dict else None
    return type(request) is dict and request.get("traced") is True


def _exceptions(cause: dict[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """(type, message) of the exceptions a `cause` object lists, cut to a bounded size."""
    listed = cause.get("exceptions")
    if type(listed) is not list:
        return None
    kept = []
    for exception in listed[:MAX_EXCEPTIONS]:
        if type(exception) is dict:
            kind, message = _str(exception.get("type")), _str(exception.get("message"))
            kept.append(((kind or "")[:MAX_EXCEPTION_CHARS], (message or "")[:MAX_EXCEPTION_CHARS]))
    return tuple(kept) or None


def _annotations(value: Any) -> tuple[tuple[str, str | float | bool], ...] | None:
    """The annotations with a valid value type, packed as (key, value) pairs."""
    if type(value) is not dict:
        return None
    kept = []
    for key, item in value.items():
        kind = type(item)
        if kind is str or kind is bool:
            kept.append((key, item))
        elif kind in NUMBER_TYPES:
            kept.append((key, float(item)))
    return tuple(kept) or None
