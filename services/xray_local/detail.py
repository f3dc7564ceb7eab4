"""A trace in detail: each service's segments and each call, with the entities behind them.

What `service(...) { ... }`, `edge(...) { ... }` and root causes need: more than the map's
statistics keep (`analysis.py`), so it is worked out from the stored documents when a query
asks, never kept.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from .analysis import Analysis, client_of, node_of_remote, node_of_segment, owners
from .documents import Document, Entity

NodeKey = tuple[str, str]


class ServiceSegment(NamedTuple):
    """One segment a service made, or the inferred segment X-Ray makes for an untraced call
    (then `entity` is the calling subsegment, as X-Ray builds the inferred segment from it)."""

    node: NodeKey
    entity: Entity
    root: bool
    inferred: bool


class Call(NamedTuple):
    """One call along an edge, as the caller saw it: its subsegment (for a client's call,
    the entry segment itself, all X-Ray knows of it)."""

    source: NodeKey
    target: NodeKey
    entity: Entity
    inferred: bool


class Traced(Protocol):
    """What filters and summaries read of a trace (a stored Trace is one)."""

    def analysis(self) -> Analysis: ...

    def detail(self) -> Detail: ...


class Detail:
    def __init__(self, documents: list[Document]) -> None:
        parts = [(document.is_segment, document.entities()) for document in documents]
        self.entities: list[Entity] = [entity for _, entities in parts for entity in entities]
        self.owner = owners(parts)
        self.by_id = {entity.id: entity for entity in self.entities}
        self.children: dict[str, list[Entity]] = {}
        for entity in self.entities:
            if entity.parent_id is not None:
                self.children.setdefault(entity.parent_id, []).append(entity)
        segments = [entity for entity in self.entities if entity.is_segment]
        roots = [segment for segment in segments if segment.parent_id is None]
        self.root: Entity | None = min(roots, key=_start) if roots else None
        self.segments: list[ServiceSegment] = []
        self.calls: list[Call] = []
        # Those the map counts (analysis.py): complete segments, each call as its caller saw
        # it (as the callee did while the caller's subsegment is still open).
        for segment in segments:
            if segment.end is None:
                continue
            node = node_of_segment(segment)
            self.segments.append(ServiceSegment(node, segment, segment.parent_id is None, False))
            if segment.parent_id is None:
                self.calls.append(Call(client_of(node), node, segment, False))
                continue
            call, caller = self.by_id.get(segment.parent_id), self.owner.get(segment.parent_id)
            if call is not None and caller is not None:
                seen = call if call.end is not None else segment
                self.calls.append(Call(node_of_segment(caller), node, seen, False))
        for entity in self.entities:
            if self.is_untraced_call(entity):
                holder = self.owner[entity.id]
                target = node_of_remote(entity)
                self.segments.append(ServiceSegment(target, entity, False, True))
                self.calls.append(Call(node_of_segment(holder), target, entity, True))

    def is_untraced_call(self, entity: Entity) -> bool:
        """A remote call no segment answers: X-Ray infers a segment (a node) for it."""
        return (
            entity.is_remote
            and entity.end is not None
            and entity.id in self.owner
            and not any(child.is_segment for child in self.children.get(entity.id, ()))
        )

    def service_of(self, entity: Entity) -> Entity | None:
        """The segment an entity belongs to (itself for a segment)."""
        return entity if entity.is_segment else self.owner.get(entity.id)


def _start(entity: Entity) -> float:
    return entity.start
