"""No credential and no submitted value reaches a trace or a log line, whatever goes wrong.

The database password is given the way a driver also takes it, in DATABASE_URL's query string;
a user is created with canary values, then the service meets a duplicate, an over-long
password, a 50 MB body and a database cut. Every segment document it sent (with
TRACING_SDK=otel: every OTLP request body, as sent) and every line it logged is then searched
for each canary.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from devstack import SAMPLE_ALL_RULES, ProcessGroup, tracing_env
from tests.support.mariadb import ScratchDatabase, server_connection
from tests.support.stack import start_usermgmt
from tests.support.tcp_proxy import TcpProxy
from tests.support.udp import SegmentCollector
from tests.support.upstream import JsonHandler, serving

DB_PASSWORD = f"dbpw-{secrets.token_hex(6)}"
USER_PASSWORD = f"Pw!{secrets.token_hex(4)}A1"
EMAIL = f"canary-{secrets.token_hex(4)}@example.com"
CANARIES = (DB_PASSWORD, USER_PASSWORD, EMAIL)


@pytest.fixture
def db_account(database: ScratchDatabase) -> Iterator[str]:
    """A MariaDB account of its own, whose password is the canary."""
    name = f"u{secrets.token_hex(4)}"
    with server_connection() as conn, conn.cursor() as cur:
        for host in ("%%", "localhost"):  # %% is '%' once the driver formats the query
            cur.execute(f"CREATE USER '{name}'@'{host}' IDENTIFIED BY %s", (DB_PASSWORD,))
            cur.execute(f"GRANT ALL PRIVILEGES ON `{database.name}`.* TO '{name}'@'{host}'", ())
    yield name
    with server_connection() as conn, conn.cursor() as cur:
        for host in ("%%", "localhost"):
            cur.execute(f"DROP USER IF EXISTS '{name}'@'{host}'", ())


@pytest.fixture
def otlp_bodies() -> Iterator[tuple[str, list[bytes]]]:
    """An OTLP/HTTP endpoint keeping every request body it gets, as it got it."""
    bodies: list[bytes] = []
    lock = threading.Lock()

    class Keeper(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                bodies.append(body)
            self.answer(200, {})

    with serving(Keeper) as port:
        yield f"http://127.0.0.1:{port}/v1/traces", bodies


@pytest.mark.parametrize("mode", ["xray", "otel"])
def test_no_canary_in_any_segment_or_log_line(
    group: ProcessGroup,
    database: ScratchDatabase,
    collector: SegmentCollector,
    otlp_bodies: tuple[str, list[bytes]],
    db_account: str,
    mode: str,
) -> None:
    endpoint, bodies = otlp_bodies
    tracing = tracing_env(collector.address)
    if mode == "otel":
        tracing = {
            "TRACING_SDK": "otel",
            "XRAY_SAMPLING_RULES": str(SAMPLE_ALL_RULES),
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
        }
    relay = TcpProxy((database.host, database.port))
    url = (
        f"mysql+pymysql://{db_account}@127.0.0.1:{relay.port}/{database.name}"
        f"?charset=utf8mb4&password={DB_PASSWORD}"
    )
    usermgmt = start_usermgmt(
        group,
        tracing=tracing,
        database=database,
        extra={"DATABASE_URL": url},
    )
    assert usermgmt.port is not None
    user = {"username": "canary", "email": EMAIL, "firstname": "C", "password": USER_PASSWORD}
    try:
        with httpx.Client(base_url=f"{usermgmt.base_url}/usermgmt", timeout=30) as api:
            assert api.post("/user", json=user).status_code == 201
            assert api.post("/user", json={**user, "username": "other"}).status_code == 409
            too_long = {**user, "username": "long", "password": USER_PASSWORD * 10_000}
            assert api.post("/user", json=too_long).status_code == 422
            relay.cut()
            assert api.post("/user", json={**user, "username": "down"}).status_code == 503
            assert api.get("/users").status_code == 503
        with socket.create_connection(("127.0.0.1", usermgmt.port)) as sock:
            sock.sendall(
                b"POST /usermgmt/user HTTP/1.1\r\nHost: u\r\nContent-Length: 52428800\r\n\r\n"
                + json.dumps(user).encode()
            )
            assert sock.recv(12) == b"HTTP/1.1 413"
    finally:
        relay.close()

    usermgmt.stop()
    if mode == "otel":
        # Stopping sent what was queued; span names, attributes and events are plain UTF-8
        # in the protobuf bodies (no compression unless asked for).
        assert len(bodies) >= 1
        sent = b"".join(bodies).decode("utf-8", errors="replace")
        assert "POST" in sent and "db.statement" in sent  # the requests' spans are in there
    else:
        collector.wait_for(lambda docs: len(docs) >= 6, "the segments of those requests")
        sent = json.dumps(collector.documents)
    logged = usermgmt.log_text()
    for canary in CANARIES:
        assert canary not in sent, canary
        assert canary not in logged, canary
    assert "password=REDACTED" in logged  # the start-up line names the URL, password hidden
