"""Root causes of a trace's faults, errors and response time, as X-Ray's TraceSummary has them.

botocore's model: a root cause is a path of `Services` (each with its `EntityPath`, "the path
of root cause entities found on the service"), plus `ClientImpacting`, "the root cause
impacts the trace client". The developer guide's example (getting data, "Retrieving and
refining root cause analytics") shows the path: from the entry service's segment, through the
subsegment that called on, to the next service's segment, and so on; response time entities
carry `Coverage`, their share of the root segment's response time.

Here, as X-Ray does not publish its algorithm: a fault (error) root cause ends at each
entity that failed while nothing below it did, the deepest failure, with the path that
reached it from the entry segment; an untraced call at the end adds the inferred service it
stands for. The response time root cause follows, from the entry segment, the child that took
longest, down to the last one. Entries within a path are numbered from 0 (`index`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from .analysis import flags, node_of_remote, node_of_segment
from .detail import Detail
from .documents import Entity

FAULT, ERROR, RESPONSE_TIME = "fault", "error", "responsetime"
KINDS = (FAULT, ERROR, RESPONSE_TIME)
# More root causes than this for one trace says no more than the first ones do.
MAX_ROOT_CAUSES = 10


class CauseEntity(NamedTuple):
    name: str
    remote: bool
    exceptions: tuple[tuple[str, str], ...]  # (name, message)
    coverage: float | None  # response time root causes only


class CauseService(NamedTuple):
    name: str
    type: str
    account_id: str | None
    inferred: bool
    path: tuple[CauseEntity, ...]


class RootCause(NamedTuple):
    services: tuple[CauseService, ...]
    client_impacting: bool

    def entities(self) -> list[CauseEntity]:
        return [entity for service in self.services for entity in service.path]

    def exceptions(self) -> list[tuple[str, str]]:
        return [exception for entity in self.entities() for exception in entity.exceptions]


def root_causes(detail: Detail, kind: str) -> list[RootCause]:
    root = detail.root
    if root is None or root.end is None:
        return []
    if kind == RESPONSE_TIME:
        return [_slowest_path(detail, root)]
    position = 2 if kind == FAULT else 0  # flags(): (error, throttle, fault)

    def failed(entity: Entity) -> bool:
        return flags(entity)[position]

    found: list[RootCause] = []
    for leaf in _deepest_failures(detail, root, failed):
        path = _path_to(detail, root, leaf)
        if path is not None:
            found.append(RootCause(_services(detail, path, None), failed(root)))
        if len(found) == MAX_ROOT_CAUSES:
            break
    return found


def _deepest_failures(
    detail: Detail, root: Entity, failed: Callable[[Entity], bool]
) -> list[Entity]:
    """Failed entities below `root` (itself included) with no failure under them, in
    document order; iterative, so that a deep trace cannot exhaust the stack."""
    order: list[Entity] = []
    stack, seen = [root], {root.id}
    while stack:
        entity = stack.pop()
        order.append(entity)
        for child in reversed(detail.children.get(entity.id, [])):
            if child.id not in seen:
                seen.add(child.id)
                stack.append(child)
    below: dict[str, bool] = {}  # a failure somewhere under the entity
    leaves = []
    for entity in reversed(order):  # children before their parents
        under = any(
            below.get(child.id, False) or failed(child)
            for child in detail.children.get(entity.id, ())
        )
        below[entity.id] = under
        if failed(entity) and not under:
            leaves.append(entity)
    leaves.reverse()
    return leaves


def _path_to(detail: Detail, root: Entity, leaf: Entity) -> list[Entity] | None:
    path = [leaf]
    while path[-1].id != root.id:
        parent_id = path[-1].parent_id
        parent = detail.by_id.get(parent_id) if parent_id else None
        if parent is None or len(path) > len(detail.entities):
            return None  # below a document that has not arrived
        path.append(parent)
    path.reverse()
    return path


def _slowest_path(detail: Detail, root: Entity) -> RootCause:
    path = [root]
    while len(path) <= len(detail.entities):
        done = [c for c in detail.children.get(path[-1].id, ()) if c.end is not None]
        if not done:
            break
        path.append(max(done, key=lambda child: (child.duration, -child.start)))
    total = root.duration
    return RootCause(_services(detail, path, total), True)


def _services(detail: Detail, path: list[Entity], total: float | None) -> tuple[CauseService, ...]:
    """The path cut into services: a new one at each segment, and the inferred service an
    untraced call at the end stands for."""

    def cause(entity: Entity) -> CauseEntity:
        coverage = None
        if total is not None:
            coverage = round(entity.duration / total, 6) if total > 0 else 1.0
        exceptions = () if total is not None else (entity.exceptions or ())
        return CauseEntity(entity.name, entity.is_remote, exceptions, coverage)

    services: list[CauseService] = []
    for entity in path:
        if entity.is_segment or not services:
            segment = detail.service_of(entity) or entity
            name, kind = node_of_segment(segment)
            services.append(CauseService(name, kind, segment.account_id, False, ()))
        last = services[-1]
        services[-1] = last._replace(path=(*last.path, cause(entity)))
    end = path[-1]
    if detail.is_untraced_call(end):
        name, kind = node_of_remote(end)
        inferred = cause(end)._replace(remote=False)
        services.append(CauseService(name, kind, None, True, (inferred,)))
    return tuple(services)


def shaped(cause: RootCause, kind: str) -> dict[str, Any]:
    """One FaultRootCause, ErrorRootCause or ResponseTimeRootCause of botocore's model."""
    services = []
    for service in cause.services:
        entry: dict[str, Any] = {"Name": service.name, "Names": [service.name]}
        entry["Type"] = service.type
        if service.account_id is not None:
            entry["AccountId"] = service.account_id
        entry["EntityPath"] = [_shaped_entity(entity, kind) for entity in service.path]
        entry["Inferred"] = service.inferred
        services.append(entry)
    return {"Services": services, "ClientImpacting": cause.client_impacting}


def _shaped_entity(entity: CauseEntity, kind: str) -> dict[str, Any]:
    shaped: dict[str, Any] = {"Name": entity.name}
    if kind == RESPONSE_TIME:
        shaped["Coverage"] = entity.coverage
    else:
        shaped["Exceptions"] = [
            {"Name": name, "Message": message} for name, message in entity.exceptions
        ]
    shaped["Remote"] = entity.remote
    return shaped
