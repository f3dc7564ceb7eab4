"""Sampling rules from either file shape, and reservoir quotas shared among clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xray_local.sampling import (
    DEFAULT_RULE_NAME,
    SAMPLE_EVERYTHING,
    TARGET_INTERVAL,
    Rule,
    RulesError,
    Sampling,
    load_rules,
)

API_SHAPE = {
    "SamplingRules": [
        {
            "RuleName": "no-health",
            "Priority": 1,
            "FixedRate": 0.0,
            "ReservoirSize": 0,
            "URLPath": "/notification/info",
        },
        {"RuleName": "Default", "Priority": 10000, "FixedRate": 0.1, "ReservoirSize": 5},
    ]
}
SDK_SHAPE = {
    "version": 2,
    "rules": [
        {
            "description": "Health checks: never",
            "host": "*",
            "http_method": "GET",
            "url_path": "/usermgmt/health-status",
            "fixed_target": 0,
            "rate": 0.0,
        }
    ],
    "default": {"fixed_target": 2, "rate": 0.5},
}


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_api_shaped_rules_load_in_priority_order_with_defaults_filled(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, API_SHAPE))
    assert [rule.name for rule in rules] == ["no-health", "Default"]
    record = rules[0].as_api()
    # What the SDK's connector insists on before it uses a rule.
    assert record["Version"] == 1 and record["ResourceARN"] == "*" and record["ServiceType"] == "*"
    assert record["Attributes"] == {} and record["URLPath"] == "/notification/info"
    assert (record["FixedRate"], record["ReservoirSize"]) == (0.0, 0)


def test_the_sdk_local_rules_file_works_as_it_is(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, SDK_SHAPE))
    assert [rule.name for rule in rules] == ["Health-checks--never-1", DEFAULT_RULE_NAME]
    health, default = rules
    assert (health.http_method, health.url_path, health.fixed_rate) == (
        "GET",
        "/usermgmt/health-status",
        0.0,
    )
    assert (default.reservoir_size, default.fixed_rate) == (2, 0.5)


def test_a_missing_default_rule_is_added_sampling_everything(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, {"SamplingRule": API_SHAPE["SamplingRules"][0]}))
    assert rules[-1] == SAMPLE_EVERYTHING


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        ("{", "not valid JSON"),
        ([], 'expected {"SamplingRules"'),
        ({"SamplingRules": {}}, "must be a list"),
        ({"SamplingRules": [{"Priority": 1, "FixedRate": 1, "ReservoirSize": 1}]}, "RuleName"),
        (
            {"SamplingRules": [{**API_SHAPE["SamplingRules"][0], "FixedRate": 2}]},
            "FixedRate must be a number from 0 to 1",
        ),
        (
            {"SamplingRules": [{**API_SHAPE["SamplingRules"][0], "Priority": 0}]},
            "Priority must be a whole number from 1",
        ),
        (
            {"SamplingRules": [{**API_SHAPE["SamplingRules"][0], "Host": ""}]},
            "Host must be a non-empty string",
        ),
        (
            {"SamplingRules": [API_SHAPE["SamplingRules"][0]] * 2},
            "duplicate rule names ['no-health']",
        ),
        ({"version": 3, "default": {}}, '"version" must be 1 or 2'),
        ({"version": 2}, 'needs a "default" rule'),
        ({"version": 2, "default": {"fixed_target": -1, "rate": 1}}, "default.fixed_target"),
    ],
    ids=[
        "json",
        "array",
        "rules-object",
        "no-name",
        "rate",
        "priority",
        "empty-host",
        "duplicates",
        "version",
        "no-default",
        "negative-target",
    ],
)
def test_bad_rules_files_are_refused_with_the_reason(
    tmp_path: Path, content: Any, phrase: str
) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules(write(tmp_path, content))
    assert phrase in str(caught.value)


def test_a_missing_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read sampling rules .*nope.json"):
        load_rules(tmp_path / "nope.json")


def report(rule: str, client: str, requests: int = 10) -> dict[str, Any]:
    return {
        "RuleName": rule,
        "ClientID": client,
        "RequestCount": requests,
        "SampledCount": 2,
        "BorrowCount": 0,
    }


def test_each_reporting_client_gets_its_share_of_the_reservoir() -> None:
    now = [1000.0]
    rule = Rule("Default", 10000, fixed_rate=0.2, reservoir_size=10)
    sampling = Sampling([rule], clock=lambda: now[0])
    first = sampling.targets([report("Default", "a" * 24)])["SamplingTargetDocuments"][0]
    assert (first["ReservoirQuota"], first["FixedRate"], first["Interval"]) == (
        10,
        0.2,
        TARGET_INTERVAL,
    )
    assert first["ReservoirQuotaTTL"] > now[0]
    second = sampling.targets([report("Default", "b" * 24)])["SamplingTargetDocuments"][0]
    assert second["ReservoirQuota"] == 5
    now[0] += 120  # client a stopped reporting long ago
    alone = sampling.targets([report("Default", "b" * 24)])["SamplingTargetDocuments"][0]
    assert alone["ReservoirQuota"] == 10
    assert sampling.statistics["Default"].requests == 30


def test_statistics_for_an_unknown_rule_are_returned_unprocessed() -> None:
    sampling = Sampling([SAMPLE_EVERYTHING])
    answer = sampling.targets([report("gone", "a" * 24)])
    assert answer["SamplingTargetDocuments"] == []
    assert answer["UnprocessedStatistics"][0]["RuleName"] == "gone"
    assert answer["LastRuleModification"] == sampling.modified_at == int(sampling.modified_at)
