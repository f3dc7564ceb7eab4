"""What one trace says, worked out once per change: its calls for the map, its summary facts.

The service graph follows X-Ray's rules. Every segment is a request to the service named by
the segment (typed by its `origin`). A segment with no parent entered from outside: a client
node calls it. A segment whose `parent_id` is a subsegment of another segment was called by
that segment's service. A `remote` (or `aws`) subsegment that no segment names as its parent
called something that is not traced: an inferred node, `Database::SQL` when it carries an
`sql` section. Calls are classified ok, error (4xx), throttle (429) or fault (5xx).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .documents import Document, Entity, Http

CLIENT_TYPE = "client"
# X-Ray types a node by the segment's origin (AWS::EC2::Instance, AWS::EKS::Container...);
# a service that sets none is typed as plainly as that.
SERVICE_TYPE = "service"
SQL_TYPE = "Database::SQL"
REMOTE_TYPE = "remote"

OK, ERROR, THROTTLE, FAULT = 0, 1, 2, 3

NodeKey = tuple[str, str]  # (name, type)
AnnotationValue = str | float | bool


@dataclass(slots=True, frozen=True)
class NodeSample:
    node: NodeKey
    outcome: int
    response_time: float
    start: float
    # The segment entered with no parent: the node is a root and a client called it.
    root: bool
    # Served by an instrumented service (a segment) rather than inferred from a subsegment.
    active: bool


@dataclass(slots=True, frozen=True)
class EdgeSample:
    source: NodeKey
    target: NodeKey
    outcome: int
    response_time: float
    start: float


@dataclass(slots=True)
class Analysis:
    trace_id: str
    start: float
    end: float
    response_time: float
    http: Http | None
    entry_point: NodeKey | None
    has_fault: bool
    has_error: bool
    has_throttle: bool
    partial: bool
    nodes: list[NodeSample] = field(default_factory=list)
    edges: list[EdgeSample] = field(default_factory=list)
    services: dict[NodeKey, None] = field(default_factory=dict)  # ordered set
    annotations: dict[str, list[tuple[AnnotationValue, NodeKey]]] = field(default_factory=dict)
    users: list[tuple[str, NodeKey]] = field(default_factory=list)
    inferred: list[tuple[Entity, NodeKey]] = field(default_factory=list)
    instance_ids: dict[str, None] = field(default_factory=dict)
    availability_zones: dict[str, None] = field(default_factory=dict)
    resource_arns: dict[str, None] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return max(self.end - self.start, 0.0)

    @property
    def service_names(self) -> set[str]:
        return {name for name, _ in self.services}


def outcome(entity: Entity) -> int:
    """X-Ray's classification: the SDK's flags first, the HTTP status when they are absent."""
    if entity.fault:
        return FAULT
    if entity.throttle:
        return THROTTLE
    if entity.error:
        return ERROR
    status = entity.http.status if entity.http else None
    if status is not None:
        if status == 429:
            return THROTTLE
        if 400 <= status < 500:
            return ERROR
        if status >= 500:
            return FAULT
    return OK


def node_of_segment(segment: Entity) -> NodeKey:
    return (segment.name, segment.origin or SERVICE_TYPE)


def node_of_remote(subsegment: Entity) -> NodeKey:
    if subsegment.sql:
        return (subsegment.name, SQL_TYPE)
    if subsegment.namespace == "aws":
        return (subsegment.name, f"AWS::{subsegment.name}")
    return (subsegment.name, REMOTE_TYPE)


def client_of(node: NodeKey) -> NodeKey:
    """X-Ray names the client node after the service it calls."""
    return (node[0], CLIENT_TYPE)


def analyse(trace_id: str, documents: list[Document]) -> Analysis:
    segments: list[Entity] = []
    subsegments: list[Entity] = []
    for document in documents:
        if document.is_segment:
            segments.append(document.entities[0])
            subsegments.extend(document.entities[1:])
        else:
            subsegments.extend(document.entities)
    owner = owners(segments, documents)
    by_id = {sub.id: sub for sub in subsegments}
    called = {segment.parent_id for segment in segments if segment.parent_id}

    everything = segments or subsegments
    start = min(entity.start for entity in everything)
    end = max(entity.end if entity.end is not None else entity.start for entity in everything)
    roots = [segment for segment in segments if segment.parent_id is None]
    root = min(roots or segments, key=lambda s: s.start) if segments else None
    analysis = Analysis(
        trace_id=trace_id,
        start=start,
        end=end,
        response_time=root.duration if root else 0.0,
        http=root.http if root else None,
        entry_point=node_of_segment(root) if root else None,
        has_fault=False,
        has_error=False,
        has_throttle=False,
        partial=any(e.in_progress for e in everything) or not roots,
    )
    for segment in segments:
        _add_segment(analysis, segment, by_id, owner)
    for sub in subsegments:
        parent = owner.get(sub.id)
        if parent is None:
            analysis.partial = True  # its segment has not arrived (yet)
            continue
        _add_flags(analysis, sub)
        _add_annotations(analysis, sub, node_of_segment(parent))
        if sub.is_remote and sub.id not in called and not sub.in_progress:
            target = node_of_remote(sub)
            result, took = outcome(sub), sub.duration
            analysis.services[target] = None
            analysis.inferred.append((sub, target))
            analysis.nodes.append(NodeSample(target, result, took, sub.start, False, False))
            source = node_of_segment(parent)
            analysis.edges.append(EdgeSample(source, target, result, took, sub.start))
    return analysis


def _add_segment(
    analysis: Analysis, segment: Entity, by_id: dict[str, Entity], owner: dict[str, Entity]
) -> None:
    node = node_of_segment(segment)
    analysis.services[node] = None
    _add_flags(analysis, segment)
    _add_annotations(analysis, segment, node)
    if segment.user:
        analysis.users.append((segment.user, node))
    for value, seen in (
        (segment.instance_id, analysis.instance_ids),
        (segment.availability_zone, analysis.availability_zones),
        (segment.resource_arn, analysis.resource_arns),
    ):
        if value:
            seen[value] = None
    if segment.in_progress:
        return
    result, took = outcome(segment), segment.duration
    is_root = segment.parent_id is None
    analysis.nodes.append(NodeSample(node, result, took, segment.start, is_root, True))
    if is_root:
        analysis.services[client_of(node)] = None
        analysis.edges.append(EdgeSample(client_of(node), node, result, took, segment.start))
        return
    assert segment.parent_id is not None
    call = by_id.get(segment.parent_id)
    caller = owner.get(segment.parent_id)
    if call is None or caller is None:
        analysis.partial = True  # the caller's document has not arrived (yet)
        return
    if not call.in_progress:  # the caller's view of the call, as X-Ray reports edges
        result, took = outcome(call), call.duration
    analysis.edges.append(EdgeSample(node_of_segment(caller), node, result, took, call.start))


def _add_flags(analysis: Analysis, entity: Entity) -> None:
    analysis.has_fault |= entity.fault
    analysis.has_error |= entity.error
    analysis.has_throttle |= entity.throttle


def _add_annotations(analysis: Analysis, entity: Entity, node: NodeKey) -> None:
    if entity.annotations:
        for key, value in entity.annotations.items():
            analysis.annotations.setdefault(key, []).append((value, node))


def owners(segments: list[Entity], documents: list[Document]) -> dict[str, Entity]:
    """The segment each subsegment belongs to. Independent subsegments name only their
    parent, which may itself be a subsegment sent on its own, so chains are followed."""
    segment_by_id = {segment.id: segment for segment in segments}
    owner: dict[str, Entity] = {}
    for document in documents:
        if document.is_segment:
            segment = document.entities[0]
            for sub in document.entities[1:]:
                owner[sub.id] = segment
    unresolved = [document for document in documents if not document.is_segment]
    while unresolved:
        still: list[Document] = []
        for document in unresolved:
            parent_id = document.entities[0].parent_id or ""
            found = segment_by_id.get(parent_id) or owner.get(parent_id)
            if found is None:
                still.append(document)
                continue
            for sub in document.entities:
                owner[sub.id] = found
        if len(still) == len(unresolved):
            break  # the rest hang below documents that have not arrived
        unresolved = still
    return owner
