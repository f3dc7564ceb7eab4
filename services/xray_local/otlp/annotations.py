"""`annotations`, `metadata` and `user`: awsxrayexporter's makeXRayAttributes (segment.go).

Attributes become metadata (namespace `default`) unless they are indexed: named in the
span's `aws.xray.annotations` attribute, in the configured indexed attributes (the
exporter's `indexed_attributes`), or all of them (`index_all_attributes`). Indexed
attributes with a string, integer, double or boolean value become annotations. Segments
also carry the resource's attributes as `otel.resource.<key>`. `enduser.id` becomes `user`,
and `aws.xray.metadata.<namespace>` attributes holding a JSON object become that namespace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from .values import Attributes, annotation_value

ANNOTATION_KEYS = "aws.xray.annotations"
METADATA_PREFIX = "aws.xray.metadata."
DEFAULT_NAMESPACE = "default"
RESOURCE_PREFIX = "otel.resource."
# The exporter's `exporter.xray.allowDot` gate (beta, so on) keeps dots in annotation keys;
# anything else but ASCII letters and digits becomes "_".
INVALID_KEY_CHARACTERS = re.compile(r"[^0-9A-Za-z.]")


def fix_annotation_key(key: str) -> str:
    return INVALID_KEY_CHARACTERS.sub("_", key)


@dataclass(frozen=True)
class Rules:
    """The exporter's settings that change documents: which attributes are indexed."""

    indexed_attributes: Collection[str] = ()
    index_all_attributes: bool = False
    keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        indexed = () if self.index_all_attributes else self.indexed_attributes
        object.__setattr__(self, "keys", frozenset(indexed))


@dataclass(frozen=True)
class ResourceEntries:
    """What a resource's attributes add to each of its segments, as `otel.resource.<key>`:
    annotations (the indexed ones) and default metadata (the others). Worked out once per
    resource, with the rules' indexed keys; again only for a span that names more."""

    attributes: Attributes
    annotations: dict[str, Any]
    default: dict[str, Any]

    @classmethod
    def of(cls, attributes: Attributes, keys: Collection[str], index_all: bool) -> ResourceEntries:
        annotations: dict[str, Any] = {}
        default: dict[str, Any] = {}
        for key, value in attributes.items():
            key = RESOURCE_PREFIX + key
            annotation = annotation_value(value)
            if annotation is not None and (index_all or key in keys):
                annotations[fix_annotation_key(key)] = annotation
            elif value is not None:
                default[key] = value
        return cls(attributes, annotations, default)


def with_indexed(
    attributes: Attributes, span_attributes: Attributes, indexed: Collection[str]
) -> Attributes:
    """addSpecialAttributes: an indexed attribute an earlier rule took (an http or sql one)
    is put back, so that it can still become an annotation."""
    if not indexed:
        return attributes
    missing = [name for name in indexed if name not in attributes and name in span_attributes]
    if not missing:
        return attributes
    return {**attributes, **{name: span_attributes[name] for name in missing}}


def make_attributes(
    attributes: Attributes,
    resource: ResourceEntries | None,
    rules: Rules,
) -> tuple[str | None, dict[str, Any], dict[str, dict[str, Any]]]:
    """(user, annotations, metadata); `resource` only for segments (the local root)."""
    user = None
    if "enduser.id" in attributes:
        attributes = dict(attributes)
        value = attributes.pop("enduser.id")
        user = value if type(value) is str and value else None
    if not attributes and (resource is None or not resource.attributes):
        return user, {}, {}
    index_all = rules.index_all_attributes
    keys: frozenset[str] = rules.keys
    named = attributes.get(ANNOTATION_KEYS)
    if type(named) is list:
        keys = keys.union(item for item in named if type(item) is str)
    if ANNOTATION_KEYS in attributes:
        attributes = {k: v for k, v in attributes.items() if k != ANNOTATION_KEYS}
    if resource is None:
        annotations: dict[str, Any] = {}
        default: dict[str, Any] = {}
    else:
        if keys is not rules.keys and any(key.startswith(RESOURCE_PREFIX) for key in keys):
            # The span names resource attributes as annotations too.
            resource = ResourceEntries.of(resource.attributes, keys, index_all)
        annotations, default = dict(resource.annotations), dict(resource.default)
    metadata: dict[str, dict[str, Any]] = {}
    for key, value in attributes.items():
        if index_all or key in keys:
            annotation = annotation_value(value)
            if annotation is not None:
                annotations[fix_annotation_key(key)] = annotation
        elif key.startswith(METADATA_PREFIX) and type(value) is str:
            namespace = key[len(METADATA_PREFIX) :]
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if type(parsed) is not dict:  # not a JSON object: kept as it is
                default[key] = value
            elif namespace.lower() == DEFAULT_NAMESPACE:
                default.update(parsed)
            else:
                metadata[namespace] = parsed
        elif value is not None:
            default[key] = value
    if default:
        metadata[DEFAULT_NAMESPACE] = default
    return user, annotations, metadata
