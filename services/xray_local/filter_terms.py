"""What each filter keyword reads, wherever it may appear (the developer guide, "Using filter
expressions": boolean, number and string keywords, and the complex keywords' braces).

At the top level a keyword describes the trace: the simple keywords `ok`, `error`,
`throttle`, `fault` test the response the user got ("Simple keywords and operators find
issues only at the trace level. If an error occurs downstream, but is handled by your
application and not returned to the user, a search for `error` will not find it"). Inside
`service(...) { ... }` they describe each segment the service made ("a filter expression
that applies to segments created by the service"), inside `edge(...) { ... }` each call on
the connection ("applies to segments on this connection"), and inside `rootcause.*.service`,
`.entity` and `.exception` braces each element of the root cause's enumerated list. In
braces, segments and calls are those the map counts (complete ones, and inferred segments),
classified as the map classifies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from .analysis import ERROR, FAULT, OK, THROTTLE, outcome
from .detail import Call, ServiceSegment, Traced
from .documents import Entity
from .rootcause import CauseEntity, CauseService

Getter = Callable[[Any], Any]


class Enumerated(NamedTuple):
    """An element of a root cause's enumerated list: `first`, `last` and `index` need it."""

    item: Any
    position: int
    total: int


@dataclass(frozen=True)
class Context:
    name: str  # for messages: where the keyword was found
    booleans: Mapping[str, Callable[[Any], bool]]
    numbers: Mapping[str, Callable[[Any], float | None]]
    strings: Mapping[str, Callable[[Any], list[str]]]
    complex_keywords: bool = False  # annotation, service, edge, group, rootcause

    def knows(self, keyword: str) -> bool:
        return keyword in self.booleans or keyword in self.numbers or keyword in self.strings


def _http(entity: Entity, field: str) -> list[str]:
    value = getattr(entity.http, field) if entity.http else None
    return [value] if value else []


def _status(entity: Entity) -> float | None:
    return entity.http.status if entity.http else None


def _one(value: str | None) -> list[str]:
    return [value] if value else []


def _outcomes(outcome_of: Callable[[Any], int]) -> dict[str, Callable[[Any], bool]]:
    """ok, error, throttle, fault of one segment or call, classified as the map counts it
    (a 429 is an error and a throttle)."""
    return {
        "ok": lambda s: outcome_of(s) == OK,
        "error": lambda s: outcome_of(s) in (ERROR, THROTTLE),
        "throttle": lambda s: outcome_of(s) == THROTTLE,
        "fault": lambda s: outcome_of(s) == FAULT,
    }


def _entity_booleans(entity_of: Getter) -> dict[str, Callable[[Any], bool]]:
    return {**_outcomes(lambda s: outcome(entity_of(s))), "inferred": lambda s: s.inferred}


def _entity_numbers(entity_of: Getter) -> dict[str, Callable[[Any], float | None]]:
    return {
        "responsetime": lambda s: entity_of(s).duration,
        "duration": lambda s: entity_of(s).duration,
        "http.status": lambda s: _status(entity_of(s)),
    }


def _entity_http(entity_of: Getter) -> dict[str, Callable[[Any], list[str]]]:
    return {
        "http.url": lambda s: _http(entity_of(s), "url"),
        "http.method": lambda s: _http(entity_of(s), "method"),
        "http.useragent": lambda s: _http(entity_of(s), "user_agent"),
        "http.clientip": lambda s: _http(entity_of(s), "client_ip"),
    }


def _root_http(field: str) -> Callable[[Traced], list[str]]:
    def get(trace: Traced) -> list[str]:
        http = trace.analysis().http
        value = getattr(http, field) if http else None
        return [value] if value else []

    return get


TRACE = Context(
    "the trace",
    booleans={
        "ok": lambda t: t.analysis().ok,
        "error": lambda t: t.analysis().has_error,
        "throttle": lambda t: t.analysis().root_throttle,
        "fault": lambda t: t.analysis().has_fault,
        "partial": lambda t: t.analysis().partial,
        "inferred": lambda t: bool(t.analysis().inferred),
    },
    numbers={
        "responsetime": lambda t: t.analysis().response_time,
        "duration": lambda t: t.analysis().duration,
        "http.status": lambda t: _status_of(t),
    },
    strings={
        "http.url": _root_http("url"),
        "http.method": _root_http("method"),
        "http.useragent": _root_http("user_agent"),
        "http.clientip": _root_http("client_ip"),
        "user": lambda t: [name for name, _ in t.analysis().users],
        "availabilityzone": lambda t: list(t.analysis().availability_zones),
        "instance.id": lambda t: list(t.analysis().instance_ids),
        "resource.arn": lambda t: list(t.analysis().resource_arns),
    },
    complex_keywords=True,
)


def _status_of(trace: Traced) -> float | None:
    http = trace.analysis().http
    return http.status if http else None


def _segment(item: ServiceSegment) -> Entity:
    return item.entity


SERVICE = Context(
    "service(...) { ... }",
    booleans={**_entity_booleans(_segment), "root": lambda s: s.root},
    numbers=_entity_numbers(_segment),
    strings={
        **_entity_http(_segment),
        "user": lambda s: _one(s.entity.user),
        "name": lambda s: [s.node[0]],
        "type": lambda s: [s.node[1]],
        "availabilityzone": lambda s: _one(s.entity.availability_zone),
        "instance.id": lambda s: _one(s.entity.instance_id),
        "resource.arn": lambda s: _one(s.entity.resource_arn),
    },
)


def _call(item: Call) -> Entity:
    return item.entity


EDGE = Context(
    "edge(...) { ... }",
    booleans=_entity_booleans(_call),
    numbers=_entity_numbers(_call),
    strings=_entity_http(_call),
)

# The same, over the calls the analysis keeps (analysis.NodeSample and EdgeSample, packed):
# no document is read again when a filter in braces asks only for these.
NODE_OUTCOME, NODE_TOOK, NODE_ROOT, NODE_ACTIVE = 1, 2, 4, 5
EDGE_OUTCOME, EDGE_TOOK = 2, 3
SERVICE_FROM_ANALYSIS = Context(
    SERVICE.name,
    booleans={
        **_outcomes(itemgetter(NODE_OUTCOME)),
        "inferred": lambda n: not n[NODE_ACTIVE],
        "root": itemgetter(NODE_ROOT),
    },
    numbers={"responsetime": itemgetter(NODE_TOOK), "duration": itemgetter(NODE_TOOK)},
    strings={"name": lambda n: [n[0][0]], "type": lambda n: [n[0][1]]},
)
EDGE_FROM_ANALYSIS = Context(
    EDGE.name,
    booleans=_outcomes(itemgetter(EDGE_OUTCOME)),
    numbers={"responsetime": itemgetter(EDGE_TOOK), "duration": itemgetter(EDGE_TOOK)},
    strings={},
)


def _position() -> tuple[dict[str, Callable[[Any], bool]], dict[str, Callable[[Any], float]]]:
    booleans: dict[str, Callable[[Any], bool]] = {
        "first": lambda e: e.position == 0,
        "last": lambda e: e.position == e.total - 1,
    }
    return booleans, {"index": lambda e: e.position}


_first_last, _index = _position()


def _cause_service(element: Enumerated) -> CauseService:
    return element.item  # type: ignore[no-any-return]


def _cause_entity(element: Enumerated) -> CauseEntity:
    return element.item  # type: ignore[no-any-return]


ROOT_CAUSE_SERVICE = Context(
    "rootcause.*.service { ... }",
    booleans={**_first_last, "inferred": lambda e: _cause_service(e).inferred},
    numbers=_index,
    strings={
        "name": lambda e: [_cause_service(e).name],
        "type": lambda e: [_cause_service(e).type],
    },
)
ROOT_CAUSE_ENTITY = Context(
    "rootcause.*.entity { ... }",
    booleans={**_first_last, "remote": lambda e: _cause_entity(e).remote},
    numbers={**_index, "coverage": lambda e: _cause_entity(e).coverage},
    strings={"name": lambda e: [_cause_entity(e).name]},
)
ROOT_CAUSE_EXCEPTION = Context(
    "rootcause.*.exception { ... }",
    booleans=_first_last,
    numbers=_index,
    strings={"name": lambda e: [e.item[0]], "message": lambda e: [e.item[1]]},
)
ROOT_CAUSE_ELEMENTS = {
    "service": ROOT_CAUSE_SERVICE,
    "entity": ROOT_CAUSE_ENTITY,
    "exception": ROOT_CAUSE_EXCEPTION,
}
CONTEXTS = (TRACE, SERVICE, EDGE, ROOT_CAUSE_SERVICE, ROOT_CAUSE_ENTITY, ROOT_CAUSE_EXCEPTION)


def where_known(keyword: str) -> list[str]:
    """The places a keyword may be used, for a message when it is used elsewhere."""
    return [context.name for context in CONTEXTS if context.knows(keyword)]
