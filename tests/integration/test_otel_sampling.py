"""TRACING_SDK=otel samples by the rules the daemon serves, as the X-Ray SDK does.

Without XRAY_SAMPLING_RULES, AWS's remote sampler polls GetSamplingRules at the TCP address
of AWS_XRAY_DAEMON_ADDRESS: a rule that never samples one path is obeyed, the default rule
samples the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from devstack import ProcessGroup, poll_until, start_notification
from tests.support.modes import otel_env
from tests.support.xray import new_trace_id
from tests.support.xray_local import start_xray_local

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


def trace_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")


def test_the_otel_sampler_takes_its_rules_from_the_daemon(
    group: ProcessGroup, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(NEVER_INFO))
    xray = start_xray_local(group, "--sampling-rules", str(rules))
    service = start_notification(group, tracing=otel_env(xray, sample_all=False))
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

    # Not checked: the rule statistics the sampler reports through SamplingTargets. The
    # distro's documents say SampleCount where the X-Ray API model says SampledCount, and
    # the daemon, which validates against that model, refuses them.
    log = service.log_text()
    assert "Traceback" not in log
    assert [line for line in log.splitlines() if " ERROR " in line] == []
