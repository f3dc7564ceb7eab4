"""GET /usermgmt/notification-xray: the documents X-Ray gets for the call chain, in both
tracing modes: the X-Ray SDK's segment documents as sent, and OpenTelemetry's spans as the
local daemon stores them (translated by the X-Ray exporter's rules).

client -> User-Management-Microservice -> (httpx subsegment) -> V1-Notification-Microservice
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import time
from dataclasses import dataclass

import httpx
import pytest

from devstack.processes import ProcessGroup
from tests.support.mariadb import ScratchDatabase
from tests.support.modes import MODES, StoredSegments, TracedChain, TraceSource, mode_env
from tests.support.stack import Chain, start_chain
from tests.support.udp import Document
from tests.support.users import new_user
from tests.support.xray import new_trace_id, segments
from tests.support.xray_local import start_xray_local

ENTITY_ID = re.compile(r"^[0-9a-f]{16}$")
TRACE_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")


@dataclass(frozen=True)
class ModeDifferences:
    """What differs by design between the modes' documents; everything else is alike."""

    sdk: str  # aws.xray.sdk
    traced: bool  # the SDK marks calls to instrumented services; the exporter has no such field
    # The SDK records the response's size; the exporter takes it from messaging events only.
    response_length: bool


DIFFERENCES = {
    "xray": ModeDifferences(sdk="X-Ray for Python", traced=True, response_length=True),
    "otel": ModeDifferences(sdk="opentelemetry for python", traced=False, response_length=False),
}


def call_chain(chain: Chain, headers: dict[str, str] | None = None) -> httpx.Response:
    response = httpx.get(f"{chain.usermgmt.base_url}/usermgmt/notification-xray", headers=headers)
    assert response.status_code == 200
    return response


def trace_of(response: httpx.Response) -> str:
    return response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")


def documents_of(source: TraceSource, chain: Chain, trace_id: str) -> list[Document]:
    """All documents of `trace_id`, once a later request's documents have arrived: each
    process sends in order, so nothing of the first trace can still be on its way."""
    source.wait_for_trace(trace_id, 2)
    barrier = trace_of(call_chain(chain))
    source.wait_for_trace(barrier, 2)
    return source.for_trace(trace_id)


def test_one_request_yields_exactly_the_chain(traced_chain: TracedChain) -> None:
    chain, source = traced_chain.chain, traced_chain.documents
    differences = DIFFERENCES[traced_chain.mode]
    response = call_chain(chain, {"User-Agent": "chain-test/1.0"})
    assert response.json() == {
        "applicationname": "Notification Microservice",
        "appversion": "V1",
        "message": "Enabled AWS XRay",
        "hostname": socket.gethostname(),
    }
    trace_id = trace_of(response)
    assert TRACE_ID.match(trace_id)
    docs = documents_of(source, chain, trace_id)
    assert len(docs) == 2, docs
    [usermgmt] = segments(docs, "User-Management-Microservice")
    [notification] = segments(docs, "V1-Notification-Microservice")

    # The entry segment: no parent (the client is not traced), the request as received.
    assert "parent_id" not in usermgmt
    assert ENTITY_ID.match(usermgmt["id"])
    assert usermgmt["http"] == {
        "request": {
            "method": "GET",
            "url": f"http://127.0.0.1:{chain.usermgmt.port}/usermgmt/notification-xray",
            "client_ip": "127.0.0.1",
            "user_agent": "chain-test/1.0",
        },
        "response": {
            "status": 200,
            "content_length": len(response.content) if differences.response_length else 0,
        },
    }
    assert not [flag for flag in ("error", "fault", "throttle") if usermgmt.get(flag)]
    assert usermgmt["aws"]["xray"]["sdk"] == differences.sdk

    # Exactly one subsegment: the httpx call to the notification service.
    [call] = usermgmt["subsegments"]
    assert call["name"] == "localhost"
    assert call["namespace"] == "remote"
    assert call.get("traced", False) is differences.traced
    assert call["parent_id"] == usermgmt["id"]
    assert call["http"]["request"] == {
        "method": "GET",
        "url": f"http://localhost:{chain.notification.port}/notification/xray",
        **({"traced": True} if differences.traced else {}),
    }
    assert call["http"]["response"]["status"] == 200
    assert usermgmt["start_time"] <= call["start_time"] <= call["end_time"] <= usermgmt["end_time"]

    # The notification segment hangs directly below that subsegment, in the same trace.
    assert notification["trace_id"] == usermgmt["trace_id"] == trace_id
    assert notification["parent_id"] == call["id"]
    assert notification["annotations"] == {"app_version": "V1"}
    assert notification["http"]["request"]["url"] == (
        f"http://localhost:{chain.notification.port}/notification/xray"
    )
    assert notification["http"]["response"]["status"] == 200
    assert "subsegments" not in notification
    # The callee starts after the call did (it may finish writing after the caller has read).
    assert call["start_time"] <= notification["start_time"] <= notification["end_time"]
    assert "origin" not in usermgmt  # not running in Kubernetes
    assert source.problems() == []

    # Both services' log lines for the request carry its trace id.
    for process, path in (
        (chain.usermgmt, "/usermgmt/notification-xray"),
        (chain.notification, "/notification/xray"),
    ):
        [access] = [line for line in process.log_lines() if f"trace_id={trace_id} " in line]
        assert f'"GET {path} HTTP/1.1" 200' in access


def test_an_upstream_trace_is_continued_through_the_chain(traced_chain: TracedChain) -> None:
    chain = traced_chain.chain
    trace_id, parent = new_trace_id(), "53995c3f42cd8ad8"
    call_chain(chain, {"X-Amzn-Trace-Id": f"Root={trace_id};Parent={parent};Sampled=1"})
    docs = documents_of(traced_chain.documents, chain, trace_id)
    [usermgmt] = segments(docs, "User-Management-Microservice")
    assert usermgmt["parent_id"] == parent


@pytest.mark.parametrize("mode", MODES)
def test_names_and_eks_metadata_follow_the_environment(
    mode: str, group: ProcessGroup, database: ScratchDatabase
) -> None:
    """AWS_XRAY_TRACING_NAME names the nodes; in a pod, segments say where they ran; the
    version annotation filters traces (`annotation.app_version = "V2"`)."""
    in_a_pod = {"KUBERNETES_SERVICE_HOST": "10.100.0.1", "EKS_CLUSTER_NAME": "xray-demo"}
    daemon = start_xray_local(group)
    tracing = mode_env(mode, daemon)
    chain = start_chain(
        group,
        tracing=tracing,
        database=database,
        version="V2",
        extra=in_a_pod,
        notification_extra={"AWS_XRAY_TRACING_NAME": "Notify-Canary"},
        usermgmt_extra={"AWS_XRAY_TRACING_NAME": "Users-Blue"},
    )
    response = httpx.get(f"{chain.usermgmt.base_url}/usermgmt/notification-xray")
    assert response.json()["appversion"] == "V2"
    docs = StoredSegments(daemon).wait_for_trace(trace_of(response), 2)
    [users] = segments(docs, "Users-Blue")
    [notify] = segments(docs, "Notify-Canary")
    assert notify["annotations"] == {"app_version": "V2"}
    for segment in (users, notify):
        assert segment["origin"] == "AWS::EKS::Container"
        assert segment["aws"]["eks"]["pod"] == socket.gethostname()
        assert segment["aws"]["eks"]["cluster_name"] == "xray-demo"
    now = time.time()
    summaries = daemon.client().get_trace_summaries(
        StartTime=now - 300, EndTime=now + 60, FilterExpression='annotation.app_version = "V2"'
    )["TraceSummaries"]
    assert [summary["Id"] for summary in summaries] == [trace_of(response)]


def test_a_database_call_is_a_remote_sql_call_with_placeholders_only(
    traced_chain: TracedChain, shared_database: ScratchDatabase
) -> None:
    """Each statement is a `remote` call named <database>@<host> (X-Ray's Database::SQL node),
    its statement as sent, with placeholders: the values submitted appear nowhere."""
    chain = traced_chain.chain
    user = new_user(f"sql{secrets.token_hex(4)}")
    response = httpx.post(f"{chain.usermgmt.base_url}/usermgmt/user", json=user, timeout=30)
    assert response.status_code == 201
    docs = documents_of(traced_chain.documents, chain, trace_of(response))
    [usermgmt] = segments(docs, "User-Management-Microservice")
    calls = [call for call in usermgmt["subsegments"] if "sql" in call]
    assert calls, usermgmt
    for call in calls:
        assert call["name"] == f"{shared_database.name}@127.0.0.1"
        assert call["namespace"] == "remote"
        assert call["sql"]["user"] == "root"
        assert call["parent_id"] == usermgmt["id"]
    [insert] = [call for call in calls if call["sql"]["sanitized_query"].startswith("INSERT")]
    assert "%(email)s" in insert["sql"]["sanitized_query"]
    text = json.dumps(docs)
    assert user["email"] not in text and user["password"] not in text
