"""One span, one (or two) segment documents: awsxrayexporter's segment.go.

- `MakeSegment`: a SERVER span, or any span without a parent, is a segment; every other
  span is a `subsegment` document of its own, whose `parent_id` is its parent span's id.
  Only segments carry the resource's attributes (`otel.resource.*` metadata).
- Names (X-Ray names services, not operations): `aws.local.service` (SERVER, or a
  LOCAL_ROOT INTERNAL span), `aws.remote.service` (CLIENT, PRODUCER, CONSUMER), then
  `peer.service`, `aws.service`, `<db.name>@<host of db.connection_string>`, the resource's
  `service.name` (SERVER spans only), `rpc.service`, `http.host`, `net.peer.name`, and
  last the span's name with the characters X-Ray refuses taken out.
- Namespace: `aws` for AWS SDK calls (`rpc.system: aws-api`, or `aws.service`), `remote`
  for any other CLIENT span: those are the downstream nodes of the service map.
- `aws.span.kind: LOCAL_ROOT` (AWS's distributions set it) makes a local root a segment;
  a local root that is itself a call (CLIENT, PRODUCER, CONSUMER) becomes a segment for
  the service plus a `remote` subsegment for the call (MakeServiceSegmentAndDependency...).
- Trace ids: `1-<first 8 hex digits>-<other 24>` of the 128-bit id, as convertToAmazon
  TraceID writes them; the epoch check it can make is skipped, as the exporter's
  `exporter.awsxray.skiptimestampvalidation` gate (beta, so on) does by default.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from .annotations import Rules, make_attributes, with_indexed
from .aws import Resource, make_aws
from .cause import make_cause
from .http import make_http
from .sql import make_sql
from .values import Attributes, as_str, attributes, raw

SERVER, CLIENT = Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT
INTERNAL, PRODUCER, CONSUMER = (
    Span.SPAN_KIND_INTERNAL,
    Span.SPAN_KIND_PRODUCER,
    Span.SPAN_KIND_CONSUMER,
)
CALL_KINDS = (CLIENT, PRODUCER, CONSUMER)
LOCAL_ROOT = "LOCAL_ROOT"
# What the exporter keeps of a span name (its reInvalidSpanCharacters, after
# https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html):
# letters, the digits 0-9, spaces and _ . : / % & # = + - @
NAME_SYMBOLS = frozenset(" _.:/%&#=+-@")
MAX_NAME_CHARS = 200
DEFAULT_NAME = "span"
MAX_CACHED_URL_CHARS = 512
NO_PARENT = (b"", bytes(8))  # no parent span id, or OTLP's "invalid" all-zero one
# What a service's own segment must not say about the call a local root span made.
REMOTE_ONLY = ("aws.remote.service", "aws.remote.operation", "remoteTarget", "K8s.RemoteNamespace")


def trace_id_of(trace_id: bytes) -> str:
    text = trace_id.hex()
    return f"1-{text[:8]}-{text[8:]}"


def segments_of(span: Span, resource: Resource, rules: Rules) -> list[dict[str, Any]]:
    """MakeSegmentsFromSpan: the documents one span becomes."""
    span_attributes = attributes(span.attributes)
    if span_attributes.get("aws.span.kind") != LOCAL_ROOT:
        segment = make_segment(span, span_attributes, resource, rules)
        # addNamespaceToSubsegmentWithRemoteService
        if (
            span.kind in CALL_KINDS
            and segment.get("type") == "subsegment"
            and "namespace" not in segment
            and "aws.remote.service" in span_attributes
        ):
            segment["namespace"] = "remote"
        return [segment]
    if span.kind in (SERVER, INTERNAL):
        segment = make_segment(span, span_attributes, resource, rules)
        segment.pop("type", None)
        segment.pop("namespace", None)
        return [segment]
    return _service_and_dependency(span, span_attributes, resource, rules)


def _service_and_dependency(
    span: Span, span_attributes: Attributes, resource: Resource, rules: Rules
) -> list[dict[str, Any]]:
    service_id = secrets.token_bytes(8)
    dependency_span = Span()
    dependency_span.CopyFrom(span)
    dependency_span.parent_span_id = service_id
    dependency = make_segment(dependency_span, span_attributes, resource, rules)
    dependency["type"] = "subsegment"
    dependency.setdefault("namespace", "remote")
    if span.kind == CONSUMER:
        dependency.pop("links", None)
    if "aws.remote.service" in span_attributes:
        dependency["name"] = _trim_aws_sdk_prefix(
            as_str(span_attributes["aws.remote.service"]), span_attributes
        )
    service_span = Span()
    service_span.CopyFrom(span)
    service_span.span_id = service_id
    local = {k: v for k, v in span_attributes.items() if k not in REMOTE_ONLY}
    service = make_segment(service_span, local, resource, rules)
    if "aws.local.service" in span_attributes:
        service["name"] = as_str(span_attributes["aws.local.service"])
    service.pop("http", None)
    aws = service.get("aws")
    if aws is not None:
        for name in ("operation", "account_id", "region", "request_id", "queue_url"):
            aws.pop(name, None)
        aws.pop("table_name", None)
        aws.pop("table_names", None)
    for namespace in service.get("metadata", {}).values():
        for key in [key for key in namespace if not key.startswith("otel.resource.")]:
            del namespace[key]
    service.pop("type", None)
    service.pop("namespace", None)
    if span.kind != CONSUMER:
        service.pop("links", None)
    return [dependency, service]


def make_segment(
    span: Span, span_attributes: Attributes, resource: Resource, rules: Rules
) -> dict[str, Any]:
    """MakeSegment: the document for one span, its fields in the exporter's order of work."""
    kind = span.kind
    parent = span.parent_span_id
    has_parent = parent not in NO_PARENT
    is_subsegment = kind != SERVER and has_parent
    aws_sdk_call = span_attributes.get("rpc.system") == "aws-api"
    left, http = make_http(kind, span_attributes)
    flags, left, cause = make_cause(span, span_attributes, left, resource.language, aws_sdk_call)
    left, aws = make_aws(resource, left)
    left, sql = make_sql(span.name, left)
    left = with_indexed(left, span_attributes, rules.indexed_attributes)
    user, annotations, metadata = make_attributes(
        left, None if is_subsegment else resource.entries, rules
    )
    name, namespace = _name_and_namespace(span, span_attributes, resource, aws_sdk_call)
    document: dict[str, Any] = {
        "name": name,
        "id": span.span_id.hex(),
        "start_time": span.start_time_unix_nano / 1e9,
    }
    if resource.service is not None:
        document["service"] = resource.service
    if resource.origin:
        document["origin"] = resource.origin
    if user:
        document["user"] = user
    links = span.links
    if links:
        document["links"] = [_link(link) for link in links]
    document["trace_id"] = trace_id_of(span.trace_id)
    document["end_time"] = span.end_time_unix_nano / 1e9
    if http is not None:
        document["http"] = http
    document["fault"], document["error"] = flags.fault, flags.error
    document["throttle"] = flags.throttle
    if cause is not None:
        document["cause"] = cause
    if aws is not None:
        document["aws"] = aws
    if annotations:
        document["annotations"] = annotations
    if metadata:
        document["metadata"] = metadata
    if namespace:
        document["namespace"] = namespace
    if has_parent:
        document["parent_id"] = parent.hex()
    if is_subsegment:
        document["type"] = "subsegment"
    if sql is not None:
        document["sql"] = sql
    return document


def _name_and_namespace(
    span: Span, attrs: Attributes, resource: Resource, aws_sdk_call: bool
) -> tuple[str, str]:
    kind = span.kind
    name = ""
    namespace = ""
    if kind == SERVER or (kind == INTERNAL and attrs.get("aws.span.kind") == LOCAL_ROOT):
        name = as_str(attrs.get("aws.local.service", ""))
    if kind in CALL_KINDS and "aws.remote.service" in attrs:
        name = _trim_aws_sdk_prefix(as_str(attrs["aws.remote.service"]), attrs)
    # "peer.service should always be prioritized for segment names when it set by users".
    if not name and "peer.service" in attrs:
        name = as_str(attrs["peer.service"])
    if aws_sdk_call:
        namespace = "aws"
    if not name and "aws.service" in attrs:
        # AWS SDK spans are named "Service.Method"; X-Ray names the node after the service.
        name = as_str(attrs["aws.service"])
        namespace = namespace or "aws"
    if not name and "db.name" in attrs:
        # Databases are named <db name>@<db host>.
        name = as_str(attrs["db.name"])
        host = _host_of(as_str(attrs.get("db.connection_string", "")).removeprefix("jdbc:"))
        if host:
            name += f"@{host}"
    if not name and kind == SERVER:
        name = as_str(resource.attributes.get("service.name", ""))
    for key in ("rpc.service", "http.host", "net.peer.name"):
        if not name and key in attrs:
            name = as_str(attrs[key])
    if not name:
        name = fix_segment_name(span.name)
    if not namespace and kind == CLIENT:
        namespace = "remote"
    return name, namespace


def fix_segment_name(name: str) -> str:
    name = "".join(char for char in name if _allowed(char))
    return name[:MAX_NAME_CHARS] or DEFAULT_NAME


def _allowed(char: str) -> bool:
    return char.isalpha() or "0" <= char <= "9" or char in NAME_SYMBOLS


def _host_of(url: str) -> str:
    # A service talks to a few databases, named the same each time: their hosts are kept,
    # for strings of a sane length (the sender writes them).
    return _cached_host(url) if len(url) <= MAX_CACHED_URL_CHARS else _parse_host(url)


def _parse_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


_cached_host = lru_cache(maxsize=256)(_parse_host)


def _trim_aws_sdk_prefix(name: str, attrs: Attributes) -> str:
    if attrs.get("rpc.system") == "aws-api":
        for prefix in ("AWS.SDK.", "AWS::"):
            if name.startswith(prefix):
                return name[len(prefix) :]
    return name


def _link(link: Span.Link) -> dict[str, Any]:
    result: dict[str, Any] = {"trace_id": trace_id_of(link.trace_id), "id": link.span_id.hex()}
    if link.attributes:
        result["attributes"] = {pair.key: raw(pair.value) for pair in link.attributes}
    return result
