"""Which requests the OpenTelemetry backend records: the same X-Ray sampling rules as the SDK.

- Without XRAY_SAMPLING_RULES, AWS's `AwsXRayRemoteSampler` polls the rules and targets from
  the daemon's TCP address (GetSamplingRules, SamplingTargets), exactly what the X-Ray SDK
  polls, so both modes obey the same centralized rules; until they arrive it samples one
  request a second and 5% of the rest, as the SDK does.
- With XRAY_SAMPLING_RULES (the SDK's local rules file), `LocalRulesSampler` applies it: a
  reservoir of `fixed_target` requests a second, then `rate` of the rest, first matching rule
  (host, http_method, url_path wildcards; service_name in version 2) else `default`.
- OTEL_TRACES_SAMPLER may name one of the SDK's own samplers instead.

Rules match on the attributes the server span starts with (`server.address`,
`http.request.method`, `url.path`) and the resource's `service.name`.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from .config import OtelSampler, TracingSettings


def root_sampler(settings: TracingSettings, resource: Resource) -> Sampler:
    """The sampler of requests that arrive without an upstream decision."""
    root = settings.otel_sampler.root
    if root == OtelSampler.ALWAYS_ON.value:
        return ALWAYS_ON
    if root == OtelSampler.ALWAYS_OFF.value:
        return ALWAYS_OFF
    if root == OtelSampler.TRACE_ID_RATIO.value:
        return TraceIdRatioBased(settings.otel_sampler_arg)
    service = str(resource.attributes.get("service.name", ""))
    if settings.sampling_rules:
        return LocalRulesSampler(json.loads(settings.sampling_rules.read_text()), service)
    # Imported only here: the remote sampler starts polling as soon as it is built.
    from amazon.opentelemetry.distro.sampler.aws_xray_remote_sampler import (
        AwsXRayRemoteSampler,
    )

    tcp = settings.daemon_address.tcp
    sampler: Sampler = AwsXRayRemoteSampler(resource=resource, endpoint=f"http://{tcp}")
    return sampler


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """X-Ray's wildcards: `*` any run of characters, `?` one character; case-insensitive."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL)


@dataclass
class _Rule:
    fixed_target: int
    rate: float
    matches: Mapping[str, str] = field(default_factory=dict)  # attribute -> wildcard
    _second: int = -1
    _taken: int = 0

    def take(self, now: float) -> bool:
        """One of this second's reservoir, if any is left; else a draw at `rate`."""
        second = int(now)
        if second != self._second:
            self._second, self._taken = second, 0
        if self._taken < self.fixed_target:
            self._taken += 1
            return True
        return random.random() < self.rate

    def applies(self, values: Mapping[str, str]) -> bool:
        return all(
            _wildcard(pattern).match(values.get(key, "")) is not None
            for key, pattern in self.matches.items()
        )


# The local rules file's fields -> what they match on.
RULE_FIELDS = {
    "host": "host",
    "http_method": "method",
    "url_path": "path",
    "service_name": "service",
}


class LocalRulesSampler(Sampler):
    """The X-Ray SDK's local sampling rules (its JSON file, version 1 or 2)."""

    def __init__(self, rules: Mapping[str, Any], service: str) -> None:
        self._service = service
        self._lock = threading.Lock()
        default = rules["default"]
        self._default = _Rule(int(default["fixed_target"]), float(default["rate"]))
        self._rules: Sequence[_Rule] = [
            _Rule(
                int(rule["fixed_target"]),
                float(rule["rate"]),
                {key: str(rule[name]) for name, key in RULE_FIELDS.items() if name in rule},
            )
            for rule in rules.get("rules", ())
        ]

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        given = attributes or {}
        values = {
            "host": str(given.get("server.address", "")),
            "method": str(given.get("http.request.method", "")),
            "path": str(given.get("url.path", "")),
            "service": self._service,
        }
        rule = next((rule for rule in self._rules if rule.applies(values)), self._default)
        with self._lock:
            sampled = rule.take(time.time())
        decision = Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP
        return SamplingResult(decision, attributes if sampled else None, trace_state)

    def get_description(self) -> str:
        return f"LocalRulesSampler{{{len(self._rules)} rules and a default}}"
