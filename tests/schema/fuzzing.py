"""How the services are fuzzed: bounded, repeatable schemathesis runs and what every answer owes.

Besides schemathesis' own checks (no 5xx, documented status codes, content types, headers and
bodies, 4xx for data the spec forbids, 405 with Allow for undocumented methods), every answer
must carry the JSON error body when it is an error, be traced (its segment reaches the
collector, continuing the caller's trace when the header was valid) and leave no warning, error
or traceback in the services' logs.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from schemathesis import Case as GenericCase
from schemathesis import CheckContext, CheckFunction, Response

from devstack.polling import poll_until
from devstack.processes import ServiceProcess
from tests.support.udp import Document, SegmentCollector
from tracing import HEADER_NAME, TraceHeader, parse_trace_header

from .trace_headers import trace_header_values

# A generated request to any operation of a schema.
Case = GenericCase[Any]

# Bounded and repeatable: a fixed number of generated requests per operation, derandomized,
# besides the examples and the coverage scenarios schemathesis derives from the spec.
MAX_EXAMPLES = 50
SEED = 20260221
SEGMENT_TIMEOUT_SECONDS = 5.0
QUIET_SECONDS = 0.5
PROBLEM_LINE = re.compile(r"^\S+ (WARNING|ERROR|CRITICAL) |Traceback")

CONFIG: dict[str, Any] = {
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "checks": {
        # JSON Schema cannot state everything the services require (a password's policy and
        # 72-byte limit, one recipient at least, email-validator refusing special-use domains
        # such as a@b.test), so data valid by the spec is refused at times, with a 422.
        "positive_data_acceptance": {"enabled": False},
    },
    "operations": [
        {
            # `enabled` also takes 0/1 and strings such as "true" (pydantic's lax mode), as
            # Jackson did in the original Spring Boot service: strictness could break its clients.
            "include-path": "/usermgmt/user",
            "include-method": "POST",
            "checks": {"negative_data_rejection": {"enabled": False}},
        }
    ],
}


def load_schema(openapi_url: str) -> schemathesis.BaseSchema:
    """The spec the running service serves, with the trace header fuzzed on every operation."""
    config = schemathesis.Config.from_dict(CONFIG)
    schema = schemathesis.openapi.from_url(openapi_url, config=config, timeout=10)
    schema.hook("flatmap_case")(_with_fuzzed_trace_header)
    return schema


def _with_fuzzed_trace_header(context: schemathesis.HookContext, case: Case) -> Any:
    """Keep the header the spec generated (or none), or send one of `trace_header_values`."""

    def sent_with(value: str | None) -> Case:
        if value is not None:
            headers = CaseInsensitiveDict(case.headers or {})
            headers[HEADER_NAME] = value
            case.headers = headers
        return case

    return st.one_of(st.none(), trace_header_values()).map(sent_with)


@dataclass
class FuzzedService:
    """One service under fuzzing, and what it owes every request besides a documented answer."""

    process: ServiceProcess
    segment_name: str
    untraced_paths: frozenset[str]
    collector: SegmentCollector
    logs: list[ServiceProcess]
    _tails: dict[str, LogTail] = field(default_factory=dict)

    def call_and_validate(self, case: Case) -> None:
        # A user agent per request tells its segment from others of the same (fuzzed) trace.
        user_agent = f"schema-fuzz/{uuid.uuid4().hex}"
        case.call_and_validate(
            base_url=self.process.base_url,
            headers={"User-Agent": user_agent},
            # In this order: once the segment is in, the request has logged all it will.
            additional_checks=[error_is_json, self._traced(user_agent), self._logged_no_warning],
        )

    def _traced(self, user_agent: str) -> CheckFunction:
        def traced(ctx: CheckContext, response: Response, case: Case) -> bool | None:
            """The answer names its trace, continued from a valid header, and its segment,
            recording the status sent, reaches the daemon."""
            answered = _answered_trace(response)
            incoming = parse_trace_header(_sent_header(response))
            if incoming is not None:
                assert answered.root == incoming.root, "a valid incoming trace was not continued"
                if incoming.sampled == "?":
                    assert answered.sampled in ("0", "1"), "the sampling decision was not told"
            if _path(response) in self.untraced_paths or (incoming and incoming.sampled == "0"):
                return None
            segment = self._segment(answered.root, user_agent)
            recorded = segment["http"]["response"]["status"]
            assert recorded == response.status_code, (
                f"the segment records status {recorded}, the client got {response.status_code}"
            )
            if incoming is not None and incoming.parent:
                assert segment.get("parent_id") == incoming.parent, "the parent was not kept"
            return None

        return traced

    def _segment(self, trace_id: str, user_agent: str) -> Document:
        def ours(document: Document) -> bool:
            return (
                document.get("name") == self.segment_name
                and document.get("http", {}).get("request", {}).get("user_agent") == user_agent
            )

        def arrived() -> Document | None:
            return next(filter(ours, self.collector.for_trace(trace_id)), None)

        what = f"the {self.segment_name} segment of trace {trace_id}"
        try:
            return poll_until(arrived, what, timeout=SEGMENT_TIMEOUT_SECONDS, interval=0.002)
        except TimeoutError as exc:
            raise AssertionError(str(exc)) from None  # a failed check, reported with the request

    def _logged_no_warning(self, ctx: CheckContext, response: Response, case: Case) -> bool | None:
        """Nothing the request did was logged as a warning, an error or a traceback.

        Only the lines of its own trace are looked at; work other requests left for after
        their response is checked by `problems_logged` once the fuzzing is over."""
        marker = f"trace_id={_answered_trace(response).root} "
        problems = [
            line
            for process in self.logs
            for line in problem_lines(self._tail(process).new_lines())
            if marker in line
        ]
        assert not problems, "logged while answering:\n" + "\n".join(problems)
        return None

    def _tail(self, process: ServiceProcess) -> LogTail:
        return self._tails.setdefault(process.name, LogTail(process.log_path))


def error_is_json(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx and 5xx carries the services' JSON error body, never a stack trace."""
    if response.status_code < 400:
        return None
    [content_type] = response.headers.get("content-type", [""])
    assert content_type == "application/json", f"an error body of type {content_type!r}"
    body = response.json()
    assert isinstance(body, dict), f"an error body that is not an object: {body!r}"
    assert body.get("status") == response.status_code, f"status field {body.get('status')!r}"
    assert isinstance(body.get("message"), str) and body["message"], "no message"
    assert "Traceback" not in response.text, "a stack trace went to the client"
    return None


@dataclass
class LogTail:
    """The complete lines a process logged since the last call."""

    path: Path
    offset: int = 0

    def new_lines(self) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        return complete.decode(errors="replace").splitlines()


def problem_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if PROBLEM_LINE.search(line)]


def problems_logged(processes: list[ServiceProcess]) -> list[str]:
    """Every warning, error or traceback in the processes' whole logs."""
    return [line for process in processes for line in problem_lines(process.log_lines())]


def wait_until_quiet(collector: SegmentCollector) -> None:
    """Until no segment arrived for QUIET_SECONDS: the work requests left for after their
    response (emails) is over, and logged."""
    seen = [-1]

    def quiet() -> bool:
        count = len(collector.snapshot())
        settled = count == seen[0]
        seen[0] = count
        return settled

    poll_until(quiet, "the services to finish their work", timeout=30, interval=QUIET_SECONDS)


def _answered_trace(response: Response) -> TraceHeader:
    [returned] = response.headers.get(HEADER_NAME.lower(), [""])
    answered = parse_trace_header(returned)
    assert answered is not None, f"{HEADER_NAME} answered: {returned!r}"
    return answered


def _sent_header(response: Response) -> str | None:
    value = response.request.headers.get(HEADER_NAME)
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _path(response: Response) -> str:
    return response.request.path_url.split("?")[0]
