"""What one trace says, worked out once per change: its calls for the map, its summary facts.

The service graph follows X-Ray's rules. Every segment is a request to the service named by
the segment (typed by its `origin`). A segment with no parent entered from outside: a client
node calls it. A segment whose `parent_id` is a subsegment of another segment was called by
that segment's service. A `remote` (or `aws`) subsegment that no segment names as its parent
called something that is not traced: an inferred node, `Database::SQL` when it carries an
`sql` section. Calls are classified ok, error (4xx), throttle (429) or fault (5xx).

The trace's own facts follow botocore's TraceSummary: HasError and HasFault are "the root
segment document has a 400 / 500 series error", HasThrottle "one or more of the segment
documents has a 429", IsPartial "one or more of the segment documents is in progress", and
Duration runs "between the start time of the earliest segment that started and the end time
of the last segment that completed" (subsegments and the inferred segments they make
included: "the amount of time before the last traced activity completes").
"""

from __future__ import annotations

from typing import NamedTuple

from .documents import Document, Entity, Http, Packed, pack_entity

CLIENT_TYPE = "client"
# X-Ray types a node by the segment's origin (AWS::EC2::Instance, AWS::EKS::Container...);
# a service that sets none is typed as plainly as that.
SERVICE_TYPE = "service"
SQL_TYPE = "Database::SQL"
REMOTE_TYPE = "remote"

OK, ERROR, THROTTLE, FAULT = 0, 1, 2, 3

NodeKey = tuple[str, str]  # (name, type)
AnnotationValue = str | float | bool


class NodeSample(NamedTuple):
    node: NodeKey
    outcome: int
    response_time: float
    start: float
    # The segment entered with no parent: the node is a root and a client called it.
    root: bool
    # Served by an instrumented service (a segment) rather than inferred from a subsegment.
    active: bool


class EdgeSample(NamedTuple):
    source: NodeKey
    target: NodeKey
    outcome: int
    response_time: float
    start: float


class Analysis(NamedTuple):
    """Immutable. Calls and the rest are kept as plain tuples, not the named ones above: the
    garbage collector stops tracking plain tuples of plain values (see documents.py)."""

    trace_id: str
    epoch: int  # the time in the trace id: what X-Ray's TraceId time range looks at
    start: float
    end: float
    response_time: float | None  # None while the root segment is in progress
    http_fields: Packed | None
    entry_point: NodeKey | None
    has_fault: bool  # the root segment's: what the user got (botocore's TraceSummary)
    has_error: bool
    has_throttle: bool  # any segment's
    root_throttle: bool  # the root segment's: the filter keyword `throttle`
    partial: bool
    # Some fault or error anywhere, handled or not: where root causes can be found.
    any_fault: bool
    any_error: bool
    nodes: tuple[Packed, ...]  # NodeSample fields
    edges: tuple[Packed, ...]  # EdgeSample fields
    services: tuple[NodeKey, ...]
    service_names: tuple[str, ...]
    # (key, ((value, node), ...)) pairs: a dict would stay tracked (see documents.py).
    annotation_values: tuple[tuple[str, tuple[tuple[AnnotationValue, NodeKey], ...]], ...]
    users: tuple[tuple[str, NodeKey], ...]
    inferred: tuple[tuple[Packed, NodeKey], ...]  # packed entity
    instance_ids: tuple[str, ...]
    availability_zones: tuple[str, ...]
    resource_arns: tuple[str, ...]
    accounts: tuple[tuple[NodeKey, str], ...]  # (node, aws.account_id) where segments say
    segment_ends: tuple[float, ...]  # what the Service time range looks at

    @property
    def ok(self) -> bool:
        """The filter keyword `ok`, "Response status code was 2XX Success": the root segment
        is complete, without error, throttle or fault."""
        return self.response_time is not None and not (
            self.has_fault or self.has_error or self.root_throttle
        )

    @property
    def duration(self) -> float:
        return max(self.end - self.start, 0.0)

    @property
    def annotations(self) -> dict[str, tuple[tuple[AnnotationValue, NodeKey], ...]]:
        return dict(self.annotation_values)

    def annotation(self, key: str) -> tuple[tuple[AnnotationValue, NodeKey], ...] | None:
        for name, values in self.annotation_values:
            if name == key:
                return values
        return None

    @property
    def http(self) -> Http | None:
        return None if self.http_fields is None else Http._make(self.http_fields)

    def node_samples(self) -> list[NodeSample]:
        return [NodeSample._make(node) for node in self.nodes]

    def edge_samples(self) -> list[EdgeSample]:
        return [EdgeSample._make(edge) for edge in self.edges]


def flags(entity: Entity) -> tuple[bool, bool, bool]:
    """(error, throttle, fault) as X-Ray reads them: the SDK's flags, or the HTTP status
    (4XX, 429, 5XX) when it did not set them. A 429 is an error and a throttle."""
    status = entity.http.status if entity.http else None
    if status is None:
        return entity.error, entity.throttle, entity.fault
    return (
        entity.error or 400 <= status < 500,
        entity.throttle or status == 429,
        entity.fault or status >= 500,
    )


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
    """Runs once per changed trace, for every trace: written for speed over elegance."""
    parts = [(document.is_segment, document.entities()) for document in documents]
    segments: list[Entity] = []
    subsegments: list[Entity] = []
    for is_segment, entities in parts:
        if is_segment:
            segments.append(entities[0])
            subsegments.extend(entities[1:])
        else:
            subsegments.extend(entities)
    owner = owners(parts)
    node_of = {segment.id: node_of_segment(segment) for segment in segments}
    calls = {sub.id: sub for sub in subsegments}
    called = {segment.parent_id for segment in segments if segment.parent_id}
    nodes: list[Packed] = []
    edges: list[Packed] = []
    services: dict[NodeKey, None] = {}  # an ordered set
    annotations: dict[str, list[tuple[AnnotationValue, NodeKey]]] = {}
    users: list[tuple[str, NodeKey]] = []
    inferred: list[tuple[Packed, NodeKey]] = []
    resources: tuple[dict[str, None], ...] = ({}, {}, {})  # instances, zones, ARNs
    accounts: dict[tuple[NodeKey, str], None] = {}
    any_fault = any_error = throttle = partial = False

    for segment in segments:
        node = node_of[segment.id]
        services[node] = None
        error, throttled, fault = flags(segment)
        any_fault |= fault
        any_error |= error
        throttle |= throttled
        if segment.annotations:
            _annotate(annotations, segment.annotations, node)
        if segment.user:
            users.append((segment.user, node))
        if segment.instance_id or segment.availability_zone or segment.resource_arn:
            _note_resources(resources, segment)
        if segment.account_id:
            accounts[(node, segment.account_id)] = None
        if segment.end is None:
            partial = True
            continue
        result, took = outcome(segment), segment.duration
        if segment.parent_id is None:  # entered from outside: a client called it
            nodes.append((node, result, took, segment.start, True, True))
            client = client_of(node)
            services[client] = None
            edges.append((client, node, result, took, segment.start))
            continue
        nodes.append((node, result, took, segment.start, False, True))
        call = calls.get(segment.parent_id)
        caller = owner.get(segment.parent_id)
        if call is None or caller is None:
            partial = True  # the caller's document has not arrived (yet)
            continue
        if call.end is not None:  # the caller's view of the call, as X-Ray reports edges
            result, took = outcome(call), call.duration
        edges.append((node_of[caller.id], node, result, took, call.start))

    for sub in subsegments:
        holder = owner.get(sub.id)
        if holder is None:
            partial = True  # its segment has not arrived (yet)
            continue
        error, _, fault = flags(sub)
        any_fault |= fault
        any_error |= error
        if sub.annotations:
            _annotate(annotations, sub.annotations, node_of[holder.id])
        if sub.end is None:
            partial = True
        elif sub.is_remote and sub.id not in called:
            # The segment-document guide: with `traced` set, X-Ray "considers the trace to
            # be broken until the downstream service uploads a segment" below this call.
            partial |= sub.traced
            target = node_of_remote(sub)
            result, took = outcome(sub), sub.duration
            services[target] = None
            inferred.append((pack_entity(sub), target))
            nodes.append((target, result, took, sub.start, False, False))
            edges.append((node_of[holder.id], target, result, took, sub.start))

    everything = segments + subsegments
    ended = [entity.end for entity in everything if entity.end is not None]
    start = min(entity.start for entity in everything)
    roots = [segment for segment in segments if segment.parent_id is None]
    root = min(roots or segments, key=_start) if segments else None
    root_flags = flags(root) if root is not None and roots else (False, False, False)
    instance_ids, zones, arns = resources
    return Analysis(
        trace_id=trace_id,
        epoch=int(trace_id[2:10], 16),
        start=start,
        end=max(ended) if ended else start,
        response_time=root.duration if root and root.end is not None else None,
        http_fields=tuple(root.http) if root and root.http else None,
        entry_point=node_of[root.id] if root else None,
        has_fault=root_flags[2],
        has_error=root_flags[0],
        has_throttle=throttle,
        root_throttle=root_flags[1],
        partial=partial or not roots,
        any_fault=any_fault,
        any_error=any_error,
        nodes=tuple(nodes),
        edges=tuple(edges),
        services=tuple(services),
        service_names=tuple({name: None for name, _ in services}),
        annotation_values=tuple((key, tuple(values)) for key, values in annotations.items()),
        users=tuple(users),
        inferred=tuple(inferred),
        instance_ids=tuple(instance_ids),
        availability_zones=tuple(zones),
        resource_arns=tuple(arns),
        accounts=tuple(accounts),
        segment_ends=tuple(segment.end for segment in segments if segment.end is not None),
    )


def _start(entity: Entity) -> float:
    return entity.start


def _annotate(
    annotations: dict[str, list[tuple[AnnotationValue, NodeKey]]],
    values: dict[str, AnnotationValue],
    node: NodeKey,
) -> None:
    for key, value in values.items():
        annotations.setdefault(key, []).append((value, node))


def _note_resources(resources: tuple[dict[str, None], ...], segment: Entity) -> None:
    for value, seen in zip(
        (segment.instance_id, segment.availability_zone, segment.resource_arn),
        resources,
        strict=True,
    ):
        if value:
            seen[value] = None


def owners(parts: list[tuple[bool, list[Entity]]]) -> dict[str, Entity]:
    """The segment each subsegment belongs to, from (is segment, entities) per document.
    Independent subsegments name only their parent, which may itself be a subsegment sent
    on its own, so chains are followed."""
    segment_by_id = {entities[0].id: entities[0] for is_segment, entities in parts if is_segment}
    owner: dict[str, Entity] = {}
    for is_segment, entities in parts:
        if is_segment:
            for sub in entities[1:]:
                owner[sub.id] = entities[0]
    unresolved = [entities for is_segment, entities in parts if not is_segment]
    while unresolved:
        still: list[list[Entity]] = []
        for entities in unresolved:
            parent_id = entities[0].parent_id or ""
            found = segment_by_id.get(parent_id) or owner.get(parent_id)
            if found is None:
                still.append(entities)
                continue
            for sub in entities:
                owner[sub.id] = found
        if len(still) == len(unresolved):
            break  # the rest hang below documents that have not arrived
        unresolved = still
    return owner
