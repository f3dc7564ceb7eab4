"""200 concurrent requests on the real services: every subsegment in its own request's segment,
in both tracing modes (the X-Ray SDK's documents as sent; OpenTelemetry's spans as stored).

The requests mix database endpoints (SQLAlchemy in worker threads) and calls to the
notification service (httpx on the event loop), each for a different user and each with its
own trace id, so every segment can be checked against exactly what its request should have
recorded. Past the services' capacity a request is refused with 503 and Retry-After; it is
sent again, as a client would, under a new trace id, and the answered one is checked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.modes import TracedChain
from tests.support.stack import MISSING_SEGMENT
from tests.support.xray import (
    http_subsegments,
    new_trace_id,
    sampled_header,
    segments,
    sql_subsegments,
)

PER_KIND = 40  # five kinds: 200 requests in flight at once
USERMGMT = "User-Management-Microservice"
NOTIFICATION = "V1-Notification-Microservice"
pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Kind:
    """One kind of request and what its segment must contain (expectations as data)."""

    name: str
    path: str  # {user} is replaced by the request's own user
    statements: tuple[str, ...]  # the SQL verbs, in order
    calls: tuple[str, ...]  # notification paths called


KINDS = [
    Kind("get-user (sync)", "/usermgmt/user/{user}", ("SELECT",), ()),
    Kind("toggle-status (sync)", "/usermgmt/status/{user}", ("SELECT", "UPDATE"), ()),
    Kind("list-users (sync)", "/usermgmt/users", ("SELECT",), ()),
    Kind("notification-xray (async)", "/usermgmt/notification-xray", (), ("/notification/xray",)),
    Kind(
        "service-info (async)", "/usermgmt/notification-service-info", (), ("/notification/info",)
    ),
]


@dataclass(frozen=True)
class Sent:
    kind: Kind
    path: str
    trace_id: str


async def until_admitted(
    client: httpx.AsyncClient, method: str, path: str, **kwargs: Any
) -> tuple[httpx.Response, str]:
    """The answer, sent again after Retry-After while the service refuses it as too busy."""
    while True:
        trace_id = new_trace_id()
        response = await client.request(method, path, headers=sampled_header(trace_id), **kwargs)
        if response.status_code != 503:
            return response, trace_id
        await asyncio.sleep(float(response.headers["Retry-After"]))


async def create_users(client: httpx.AsyncClient, prefix: str, count: int) -> list[str]:
    names = [f"{prefix}{i:03d}" for i in range(count)]
    answers = await asyncio.gather(
        *(
            until_admitted(
                client,
                "POST",
                "/usermgmt/user",
                json={
                    "username": name,
                    "email": f"{name}@example.com",
                    "firstname": "Con",
                    "lastname": "Current",
                    "password": "Pass@123",
                },
            )
            for name in names
        )
    )
    assert [response.status_code for response, _ in answers] == [201] * count
    return names


async def test_concurrent_requests_keep_their_own_subsegments(traced_chain: TracedChain) -> None:
    chain, source = traced_chain.chain, traced_chain.documents
    # A connection per request: on a loaded machine the client may take longer than the
    # server's keep-alive timeout (5 s) to reuse an idle connection, and a request sent as
    # the server closes it fails with a ReadError that says nothing about the service.
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=chain.usermgmt.base_url, limits=limits, timeout=60
    ) as client:
        users = await create_users(client, f"cc{traced_chain.mode}", PER_KIND * 2)
        per_kind_users = {KINDS[0].name: users[:PER_KIND], KINDS[1].name: users[PER_KIND:]}
        requests = [
            (kind, kind.path.format(user=per_kind_users.get(kind.name, users)[i]))
            for i in range(PER_KIND)
            for kind in KINDS
        ]
        answers = await asyncio.gather(
            *(until_admitted(client, "GET", path) for _, path in requests)
        )
    sent = [
        Sent(kind, path, trace_id)
        for (kind, path), (_, trace_id) in zip(requests, answers, strict=True)
    ]
    assert len(sent) == 200
    assert [response.status_code for response, _ in answers] == [200] * len(sent)

    for s in sent:
        # A segment for the request and one for every notification call: nothing lost.
        mine = source.wait_for_trace(s.trace_id, 1 + len(s.kind.calls), timeout=30)
        [segment] = segments(mine, USERMGMT)
        assert segment["http"]["request"]["url"].endswith(s.path), s
        # Each subsegment hangs directly off its own request's segment.
        assert all(sub["parent_id"] == segment["id"] for sub in segment.get("subsegments", []))
        statements = tuple(q["sql"]["sanitized_query"].split()[0] for q in sql_subsegments(segment))
        assert statements == s.kind.statements, (s, segment)
        calls = http_subsegments(segment)
        called = tuple(
            c["http"]["request"]["url"].split(str(chain.notification.port))[1] for c in calls
        )
        assert called == s.kind.calls, (s, segment)
        # The notification's segment continues this request's trace below the call.
        callee = segments(mine, NOTIFICATION)
        assert [c["parent_id"] for c in callee] == [c["id"] for c in calls]
        assert len(mine) == 1 + len(calls)

    for process in chain.processes:
        assert MISSING_SEGMENT not in process.log_text()
        assert " ERROR " not in process.log_text()
    assert source.problems() == []
