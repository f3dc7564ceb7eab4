"""Segment documents shaped like the ones the services send, for feeding an X-Ray daemon.

The shapes follow real output of the services (see tests/integration/test_call_chain.py):
user management's segment holds a `remote` subsegment per SQL statement (named
`<database>@<host>`, with an `sql` section) and one per HTTP call (named after the host,
`traced: true`); the notification segment's parent_id is that HTTP subsegment's id.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

PROTOCOL_HEADER = b'{"format":"json","version":1}\n'
USERMGMT = "User-Management-Microservice"
SDK = {"xray": {"sdk": "X-Ray for Python", "sdk_version": "2.15.0"}}

Document = dict[str, Any]


def new_trace_id(at: float | None = None) -> str:
    return f"1-{int(time.time() if at is None else at):08x}-{secrets.token_hex(12)}"


def new_id() -> str:
    return secrets.token_hex(8)


def notification_name(version: str) -> str:
    return f"{version}-Notification-Microservice"


def sdk_flags(status: int | None) -> dict[str, bool]:
    """What the SDK's put_http_meta('status', ...) sets."""
    if status is None:
        return {}
    if status == 429:
        return {"error": True, "throttle": True}
    if 400 <= status < 500:
        return {"error": True}
    if status >= 500:
        return {"fault": True}
    return {}


def segment(
    name: str,
    *,
    trace_id: str,
    start: float,
    end: float | None,
    parent_id: str | None = None,
    status: int | None = 200,
    method: str = "GET",
    url: str = "http://127.0.0.1/",
    annotations: dict[str, Any] | None = None,
    subsegments: Iterable[Document] = (),
    origin: str | None = None,
    user: str | None = None,
    entity_id: str | None = None,
) -> Document:
    document: Document = {
        "id": entity_id or new_id(),
        "name": name,
        "start_time": start,
        "trace_id": trace_id,
        "http": {
            "request": {
                "method": method,
                "url": url,
                "client_ip": "127.0.0.1",
                "user_agent": "python-httpx/0.28.1",
            }
        },
        "aws": SDK,
        "service": {"runtime": "CPython", "runtime_version": "3.11.7"},
    }
    if end is None:
        document["in_progress"] = True
    else:
        document["end_time"] = end
        document["in_progress"] = False
        if status is not None:
            document["http"]["response"] = {"status": status, "content_length": 110}
        document.update(sdk_flags(status))
    if parent_id:
        document["parent_id"] = parent_id
    if annotations:
        document["annotations"] = annotations
    if origin:
        document["origin"] = origin
    if user:
        document["user"] = user
    children = list(subsegments)
    if children:
        for child in children:
            child["parent_id"] = document["id"]
        document["subsegments"] = children
    return document


def http_call(
    host: str, *, trace_id: str, start: float, end: float, status: int = 200, path: str = "/"
) -> Document:
    return {
        "id": new_id(),
        "name": host,
        "start_time": start,
        "end_time": end,
        "in_progress": False,
        "http": {
            "request": {"method": "GET", "url": f"http://{host}:8096{path}"},
            "response": {"status": status, "content_length": 110},
        },
        "trace_id": trace_id,
        "type": "subsegment",
        "namespace": "remote",
        "traced": True,
        **sdk_flags(status),
    }


def sql_call(
    database: str, host: str, *, trace_id: str, start: float, end: float, failed: bool = False
) -> Document:
    document: Document = {
        "id": new_id(),
        "name": f"{database}@{host}",
        "start_time": start,
        "end_time": end,
        "in_progress": False,
        "trace_id": trace_id,
        "type": "subsegment",
        "namespace": "remote",
        "sql": {
            "url": f"mysql+pymysql://root@{host}:3306/{database}?charset=utf8mb4",
            "database_type": "MariaDB",
            "driver_version": "pymysql-1.1.1",
            "sanitized_query": "SELECT users.username FROM users WHERE users.username = %(u)s",
            "preparation": "statement",
        },
    }
    if failed:
        document["fault"] = True
        document["cause"] = {"exceptions": [{"type": "OperationalError", "message": "gone"}]}
    return document


def chain_trace(
    *,
    version: str = "V1",
    start: float | None = None,
    trace_id: str | None = None,
    sql_calls: int = 0,
    notification_status: int = 200,
    database: str = "usermgmt",
    database_host: str = "mysql",
) -> list[Document]:
    """client -> user management -> notification `version` (+ `sql_calls` SQL statements):
    two segment documents, as GET /usermgmt/notification-xray (or POST /user) sends them."""
    start = time.time() if start is None else start
    trace_id = trace_id or new_trace_id(start)
    calls = [
        sql_call(
            database,
            database_host,
            trace_id=trace_id,
            start=start + 0.001 * (i + 1),
            end=start + 0.001 * (i + 1) + 0.0005,
        )
        for i in range(sql_calls)
    ]
    call_start = start + 0.001 * (sql_calls + 1)
    call = http_call(
        "notification",
        trace_id=trace_id,
        start=call_start,
        end=call_start + 0.010,
        status=notification_status,
        path="/notification/xray",
    )
    callee = segment(
        notification_name(version),
        trace_id=trace_id,
        start=call_start + 0.002,
        end=call_start + 0.008,
        parent_id=call["id"],
        status=notification_status,
        url="http://notification:8096/notification/xray",
        annotations={"app_version": version},
    )
    caller_status = 200 if notification_status < 400 else 502
    caller = segment(
        USERMGMT,
        trace_id=trace_id,
        start=start,
        end=call_start + 0.012,
        status=caller_status,
        url="http://usermgmt:8095/usermgmt/notification-xray",
        subsegments=[*calls, call],
    )
    return [caller, callee]


def independent(subsegment: Document, parent: Document) -> Document:
    """A subsegment sent as a document of its own (what the emitter does when too large)."""
    return {
        **subsegment,
        "type": "subsegment",
        "trace_id": parent["trace_id"],
        "parent_id": parent["id"],
    }


def datagram(document: Document) -> bytes:
    return PROTOCOL_HEADER + json.dumps(document, separators=(",", ":")).encode()
