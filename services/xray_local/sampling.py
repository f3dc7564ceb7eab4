"""Sampling rules and reservoir quotas, as the SDKs' centralized sampler polls them.

Rules come from a JSON file in either of two shapes: the X-Ray API's (`{"SamplingRules":
[{"RuleName": ..., "Priority": ..., ...}]}`, or one `{"SamplingRule": {...}}` as given to
`aws xray create-sampling-rule`), or the SDKs' local rules file (`{"version": 2, "rules":
[...], "default": {...}}`), so the file a service uses for local sampling works here too.
Without a file, one Default rule samples every request.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_RULE_NAME = "Default"
DEFAULT_PRIORITY = 10000
# How often the SDKs should report (seconds) and how long a quota stays valid.
TARGET_INTERVAL = 10
QUOTA_TTL = 60
# A client that has not reported for this long no longer shares a rule's reservoir.
CLIENT_EXPIRY = 60.0
MAX_CLIENTS_PER_RULE = 10_000
MAX_RULE_NAME = 32


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    name: str
    priority: int
    fixed_rate: float
    reservoir_size: int
    service_name: str = "*"
    service_type: str = "*"
    host: str = "*"
    http_method: str = "*"
    url_path: str = "*"
    resource_arn: str = "*"
    attributes: dict[str, str] = field(default_factory=dict)

    def as_api(self) -> dict[str, Any]:
        return {
            "RuleName": self.name,
            "RuleARN": f"arn:aws:xray:local:000000000000:sampling-rule/{self.name}",
            "ResourceARN": self.resource_arn,
            "Priority": self.priority,
            "FixedRate": self.fixed_rate,
            "ReservoirSize": self.reservoir_size,
            "ServiceName": self.service_name,
            "ServiceType": self.service_type,
            "Host": self.host,
            "HTTPMethod": self.http_method,
            "URLPath": self.url_path,
            "Version": 1,
            "Attributes": dict(self.attributes),
        }


SAMPLE_EVERYTHING = Rule(DEFAULT_RULE_NAME, DEFAULT_PRIORITY, fixed_rate=1.0, reservoir_size=1)


def load_rules(path: Path) -> list[Rule]:
    """The rules in `path`, ordered by priority, or RulesError saying what is wrong."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise RulesError(f"cannot read sampling rules {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise RulesError(f"sampling rules {path} are not valid JSON: {exc}") from None
    try:
        rules = _rules_from(data)
    except RulesError as exc:
        raise RulesError(f"sampling rules {path}: {exc}") from None
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RulesError(f"sampling rules {path}: duplicate rule names {duplicates}")
    if DEFAULT_RULE_NAME not in names:
        rules.append(SAMPLE_EVERYTHING)
    return sorted(rules, key=lambda rule: (rule.priority, rule.name))


def _rules_from(data: Any) -> list[Rule]:
    if isinstance(data, dict) and "SamplingRules" in data:
        items = data["SamplingRules"]
        if not isinstance(items, list):
            raise RulesError('"SamplingRules" must be a list of rules')
        return [_api_rule(item, f"SamplingRules[{index}]") for index, item in enumerate(items)]
    if isinstance(data, dict) and "SamplingRule" in data:
        return [_api_rule(data["SamplingRule"], "SamplingRule")]
    if isinstance(data, dict) and "version" in data:
        return _local_rules(data)
    raise RulesError(
        'expected {"SamplingRules": [...]} (the X-Ray API shape) or {"version": 2, "rules": '
        '[...], "default": {...}} (the SDK local rules shape)'
    )


def _api_rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise RulesError(f"{where} must be an object")
    get = _Getter(item, where)
    return Rule(
        name=get.name("RuleName"),
        priority=get.integer("Priority", 1, DEFAULT_PRIORITY),
        fixed_rate=get.rate("FixedRate"),
        reservoir_size=get.integer("ReservoirSize", 0, None),
        service_name=get.text("ServiceName"),
        service_type=get.text("ServiceType"),
        host=get.text("Host"),
        http_method=get.text("HTTPMethod"),
        url_path=get.text("URLPath"),
        resource_arn=get.text("ResourceARN"),
        attributes=get.attributes("Attributes"),
    )


def _local_rules(data: dict[str, Any]) -> list[Rule]:
    version = data.get("version")
    if version not in (1, 2):
        raise RulesError(f'"version" must be 1 or 2, not {version!r}')
    default = data.get("default")
    if not isinstance(default, dict):
        raise RulesError('the SDK local rules shape needs a "default" rule object')
    items = data.get("rules", [])
    if not isinstance(items, list):
        raise RulesError('"rules" must be a list')
    rules = []
    for index, item in enumerate(items):
        where = f"rules[{index}]"
        if not isinstance(item, dict):
            raise RulesError(f"{where} must be an object")
        get = _Getter(item, where)
        # Version 1 matched on service_name where version 2 matches on host.
        host_key = "host" if version == 2 else "service_name"
        description = str(item.get("description") or f"local-rule-{index + 1}")
        rules.append(
            Rule(
                name=_rule_name(description, index),
                priority=index + 1,
                fixed_rate=get.rate("rate"),
                reservoir_size=get.integer("fixed_target", 0, None),
                host=get.text(host_key),
                http_method=get.text("http_method"),
                url_path=get.text("url_path"),
            )
        )
    get = _Getter(default, "default")
    rules.append(
        Rule(
            DEFAULT_RULE_NAME,
            DEFAULT_PRIORITY,
            fixed_rate=get.rate("rate"),
            reservoir_size=get.integer("fixed_target", 0, None),
        )
    )
    return rules


def _rule_name(description: str, index: int) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in description).strip("-")
    suffix = f"-{index + 1}"
    return (cleaned[: MAX_RULE_NAME - len(suffix)] or "rule") + suffix


class _Getter:
    """Typed field access with messages that say which field of which rule is wrong."""

    def __init__(self, item: dict[str, Any], where: str) -> None:
        self.item = item
        self.where = where

    def _fail(self, key: str, wanted: str) -> RulesError:
        return RulesError(f"{self.where}.{key} must be {wanted}, not {self.item.get(key)!r}")

    def name(self, key: str) -> str:
        value = self.item.get(key)
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_RULE_NAME:
            raise self._fail(key, f"a name of 1 to {MAX_RULE_NAME} characters")
        return value

    def text(self, key: str) -> str:
        value = self.item.get(key, "*")
        if not isinstance(value, str) or not value:
            raise self._fail(key, 'a non-empty string (use "*" to match anything)')
        return value

    def integer(self, key: str, low: int, high: int | None) -> int:
        value = self.item.get(key)
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (high is not None and value > high)
        ):
            bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise self._fail(key, f"a whole number {bounds}")
        return value

    def rate(self, key: str) -> float:
        value = self.item.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise self._fail(key, "a number from 0 to 1")
        return float(value)

    def attributes(self, key: str) -> dict[str, str]:
        value = self.item.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self._fail(key, "an object of strings")
        return dict(value)


@dataclass
class RuleStatistics:
    requests: int = 0
    sampled: int = 0
    borrowed: int = 0
    clients: dict[str, float] = field(default_factory=dict)  # client id -> last report


class Sampling:
    """The rules, and the reservoir each rule shares out among the clients reporting it."""

    def __init__(self, rules: list[Rule], clock: Callable[[], float] = time.time) -> None:
        self.rules = rules
        self._by_name = {rule.name: rule for rule in rules}
        self._clock = clock
        # Whole seconds: the SDK compares it with its own int(time.time()) and polls the
        # rules again whenever it looks newer than its cache.
        self.modified_at = float(math.floor(clock()))
        self.statistics = {rule.name: RuleStatistics() for rule in rules}

    def rule_records(self) -> list[dict[str, Any]]:
        return [
            {
                "SamplingRule": rule.as_api(),
                "CreatedAt": self.modified_at,
                "ModifiedAt": self.modified_at,
            }
            for rule in self.rules
        ]

    def targets(self, reports: list[dict[str, Any]]) -> dict[str, Any]:
        """GetSamplingTargets for validated statistics documents."""
        now = self._clock()
        documents: list[dict[str, Any]] = []
        unprocessed: list[dict[str, Any]] = []
        for report in reports:
            name = report["RuleName"]
            rule = self._by_name.get(name)
            if rule is None:
                unprocessed.append(
                    {"RuleName": name, "ErrorCode": "400", "Message": f"no sampling rule {name!r}"}
                )
                continue
            stats = self.statistics[name]
            stats.requests += report["RequestCount"]
            stats.sampled += report["SampledCount"]
            stats.borrowed += report.get("BorrowCount", 0)
            self._seen(stats, report["ClientID"], now)
            documents.append(
                {
                    "RuleName": name,
                    "FixedRate": rule.fixed_rate,
                    "ReservoirQuota": math.ceil(rule.reservoir_size / len(stats.clients)),
                    "ReservoirQuotaTTL": float(math.floor(now + QUOTA_TTL)),
                    "Interval": TARGET_INTERVAL,
                }
            )
        return {
            "SamplingTargetDocuments": documents,
            "LastRuleModification": self.modified_at,
            "UnprocessedStatistics": unprocessed,
        }

    def _seen(self, stats: RuleStatistics, client_id: str, now: float) -> None:
        stats.clients.pop(client_id, None)  # re-inserted last: the dict stays oldest-first
        stats.clients[client_id] = now
        expired = [c for c, last in stats.clients.items() if now - last > CLIENT_EXPIRY]
        for client in expired:
            del stats.clients[client]
        while len(stats.clients) > MAX_CLIENTS_PER_RULE:
            del stats.clients[next(iter(stats.clients))]
