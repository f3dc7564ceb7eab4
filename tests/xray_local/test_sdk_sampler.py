"""The X-Ray SDK's own centralized sampler, in a real service, pointed at the local daemon.

It must take its rules from the daemon (a rule that never samples one path is obeyed),
report its statistics back through GetSamplingTargets, and never log a polling error.
With TRACING_SDK=otel, AWS's OpenTelemetry remote sampler must take the same rules from the
same place (the TCP address of AWS_XRAY_DAEMON_ADDRESS).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from devstack import start_notification
from devstack.polling import poll_until
from devstack.processes import ProcessGroup
from tests.support.modes import otel_env
from tests.support.xray import new_trace_id
from tests.support.xray_local import LocalXRay, start_xray_local

from .scenario import SDK_POLLING_ERROR

NEVER_INFO = {
    "SamplingRules": [
        {
            "RuleName": "never-info",
            "Priority": 1,
            "FixedRate": 0.0,
            "ReservoirSize": 0,
            "HTTPMethod": "GET",
            "URLPath": "/notification/info",
        }
    ]
}
INFO_REQUESTS = 5
# The SDK reports rule statistics every 10 s (plus jitter), after its first request.
TARGETS_TIMEOUT = 30.0


def trace_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")


def sampling_rule_of(xray: LocalXRay, trace_id: str) -> str | None:
    traces = poll_until(
        lambda: xray.client().batch_get_traces(TraceIds=[trace_id])["Traces"],
        f"trace {trace_id} at the daemon",
        timeout=1,
    )
    document = json.loads(traces[0]["Segments"][0]["Document"])
    rule: str | None = document.get("aws", {}).get("xray", {}).get("sampling_rule_name")
    return rule


def daemon_serving_never_info(processes: ProcessGroup, tmp_path: Path) -> LocalXRay:
    """A local daemon whose sampling API serves NEVER_INFO (and its Default rule)."""
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(NEVER_INFO))
    return start_xray_local(processes, "--sampling-rules", str(rules))


def test_the_sdk_sampler_takes_its_rules_from_the_daemon(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    xray = daemon_serving_never_info(processes, tmp_path)
    # No XRAY_SAMPLING_RULES: the service polls the daemon's TCP address for rules.
    service = start_notification(
        processes, tracing={"AWS_XRAY_DAEMON_ADDRESS": xray.daemon_address}
    )

    def sampled_by_the_daemons_default_rule() -> bool:
        response = httpx.get(f"{service.base_url}/notification/xray", timeout=10)
        return sampling_rule_of(xray, trace_of(response)) == "Default"

    poll_until(sampled_by_the_daemons_default_rule, "the service to use the daemon's rules")
    assert xray.stats()["api"]["calls"]["GetSamplingRules"] >= 1

    skipped = [
        trace_of(httpx.get(f"{service.base_url}/notification/info", timeout=10))
        for _ in range(INFO_REQUESTS)
    ]
    # One process sends its segments in order: once this one is in, any of the
    # /notification/info segments would be too.
    barrier = trace_of(httpx.get(f"{service.base_url}/notification/xray", timeout=10))
    assert sampling_rule_of(xray, barrier) == "Default"
    unprocessed = xray.client().batch_get_traces(TraceIds=skipped)["UnprocessedTraceIds"]
    assert sorted(unprocessed) == sorted(skipped)

    def reported() -> bool:
        statistics = xray.stats()["sampling"]["never-info"]
        return bool(statistics["requests"] == INFO_REQUESTS and statistics["clients"] == 1)

    poll_until(reported, "the SDK to report the rule's statistics", timeout=TARGETS_TIMEOUT)
    stats = xray.stats()
    assert stats["sampling"]["never-info"]["sampled"] == 0
    assert stats["api"]["calls"]["GetSamplingTargets"] >= 1
    assert stats["api"]["errors"] == {}
    log = service.log_text()
    assert SDK_POLLING_ERROR not in log and "Traceback" not in log
    assert [line for line in log.splitlines() if " ERROR " in line] == []


def test_the_otel_sampler_takes_its_rules_from_the_daemon(
    processes: ProcessGroup, tmp_path: Path
) -> None:
    xray = daemon_serving_never_info(processes, tmp_path)
    service = start_notification(processes, tracing=otel_env(xray, sample_all=False))
    info = f"{service.base_url}/notification/info"

    def decided_by_the_rule() -> bool:
        # '?' asks the service to say what it decided.
        asking = {"X-Amzn-Trace-Id": f"Root={new_trace_id()};Sampled=?"}
        answer = httpx.get(info, headers=asking, timeout=10).headers["X-Amzn-Trace-Id"]
        return answer.endswith("Sampled=0")

    poll_until(decided_by_the_rule, "the service to use the daemon's rules")
    assert xray.stats()["api"]["calls"]["GetSamplingRules"] >= 1

    skipped = [trace_of(httpx.get(info, timeout=10)) for _ in range(INFO_REQUESTS)]
    kept = trace_of(httpx.get(f"{service.base_url}/notification/xray", timeout=10))
    client = xray.client()
    poll_until(
        lambda: client.batch_get_traces(TraceIds=[kept])["Traces"],
        "the request the default rule samples, at the daemon",
    )
    unprocessed = client.batch_get_traces(TraceIds=skipped)["UnprocessedTraceIds"]
    assert sorted(unprocessed) == sorted(skipped)

    # Not checked: the rule statistics the sampler reports through SamplingTargets. AWS's
    # sampler writes SampleCount where the X-Ray API model says SampledCount, and the daemon,
    # which validates against that model, refuses its documents.
    log = service.log_text()
    assert "Traceback" not in log
    assert [line for line in log.splitlines() if " ERROR " in line] == []
