"""Every document the services send validates against the segment document JSON schema
written from AWS's developer guide (tests/support/segment_schema.py), long and odd requests
included."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.segment_schema import schema_problems
from tests.support.stack import Chain
from tests.support.udp import SegmentCollector

# The limit on http.request fields in the schema AWS links from the segment-document guide
# (services/tracing/_conform.py); the guide's own 250 covers the segment's fields.
MAX_CHARS = 250
LONG_PATH = "/usermgmt/user/" + "a" * 2000
LONG_AGENT = "agent/" + "x" * 2000
ODD_PATH = "/usermgmt/user/été x"


def user(name: str) -> dict[str, Any]:
    return {
        "username": name,
        "email": f"{name}@example.com",
        "role": "ROLE_USER",
        "enabled": True,
        "firstname": "Schema",
        "lastname": "Check",
        "password": "Pass@123",
    }


def exercise(chain: Chain) -> dict[str, str]:
    """Every kind of request the services serve, good and bad; the trace id of each."""
    users = chain.usermgmt.base_url
    name = f"schema{uuid.uuid4().hex[:8]}"
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "call chain": ("GET", f"{users}/usermgmt/notification-xray", {}),
        "create": ("POST", f"{users}/usermgmt/user", {"json": user(name)}),
        "duplicate": ("POST", f"{users}/usermgmt/user", {"json": user(name)}),
        "read": ("GET", f"{users}/usermgmt/user/{name}", {}),
        "update": ("PUT", f"{users}/usermgmt/user", {"json": {**user(name), "lastname": "X"}}),
        "list": ("GET", f"{users}/usermgmt/users", {}),
        "toggle": ("GET", f"{users}/usermgmt/status/{name}", {}),
        "delete": ("DELETE", f"{users}/usermgmt/user/{name}", {}),
        "missing": ("GET", f"{users}/usermgmt/user/nobody{name}", {}),
        "invalid": ("POST", f"{users}/usermgmt/user", {"json": {"username": 3}}),
        "info": ("GET", f"{users}/usermgmt/notification-service-info", {}),
        "health": ("GET", f"{users}/usermgmt/notification-health-status", {}),
        "long path": ("GET", f"{users}{LONG_PATH}", {}),
        "long agent": ("GET", f"{users}/usermgmt/users", {"headers": {"User-Agent": LONG_AGENT}}),
        "odd path": ("GET", f"{users}{ODD_PATH}", {}),
        "notification": ("GET", f"{chain.notification.base_url}/notification/xray", {}),
    }
    traces = {}
    for what, (method, url, options) in calls.items():
        response = httpx.request(method, url, timeout=10, **options)
        assert response.status_code < 500, (what, response.text)
        traces[what] = response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
    return traces


@pytest.fixture(scope="module")
def emitted(chain: Chain, collector: SegmentCollector) -> dict[str, list[dict[str, Any]]]:
    traces = exercise(chain)
    # Each process sends in order: once a later request's documents are in, all are.
    barrier = exercise(chain)["call chain"]
    collector.wait_for_trace(barrier, 2)
    return {what: collector.for_trace(trace_id) for what, trace_id in traces.items()}


def test_every_document_validates_against_the_schema(
    emitted: dict[str, list[dict[str, Any]]], collector: SegmentCollector
) -> None:
    assert all(emitted.values()), {what: len(docs) for what, docs in emitted.items()}
    problems = [
        f"{document.get('name')} {problem}"
        for document in collector.snapshot()  # this test's and every other one's
        for problem in schema_problems(document)
    ]
    assert problems == []
    assert collector.malformed == []


def request_of(documents: list[dict[str, Any]]) -> dict[str, Any]:
    [entry] = [d for d in documents if "parent_id" not in d and d.get("type") != "subsegment"]
    request: dict[str, Any] = entry["http"]["request"]
    return request


def test_a_long_url_is_cut_to_the_limit_and_keeps_where_it_went(
    emitted: dict[str, list[dict[str, Any]]], chain: Chain
) -> None:
    url = request_of(emitted["long path"])["url"]
    assert len(url) <= MAX_CHARS
    assert url.startswith(f"http://127.0.0.1:{chain.usermgmt.port}/usermgmt/user/aaaa")


def test_a_long_user_agent_is_cut_to_the_limit(emitted: dict[str, list[dict[str, Any]]]) -> None:
    agent = request_of(emitted["long agent"])["user_agent"]
    assert len(agent) <= MAX_CHARS and agent.startswith("agent/xxxx")


def test_a_url_is_percent_encoded_as_the_sdk_middlewares_record_it(
    emitted: dict[str, list[dict[str, Any]]],
) -> None:
    # The SDK's Flask middleware records werkzeug's base_url, which is percent-encoded.
    assert request_of(emitted["odd path"])["url"].endswith("/usermgmt/user/%C3%A9t%C3%A9%20x")


def test_a_traced_call_says_so_where_the_guide_puts_it_too(
    emitted: dict[str, list[dict[str, Any]]],
) -> None:
    [entry] = [d for d in emitted["call chain"] if d["name"] == "User-Management-Microservice"]
    [call] = [s for s in entry["subsegments"] if s.get("namespace") == "remote"]
    assert call["traced"] is True and call["http"]["request"]["traced"] is True
