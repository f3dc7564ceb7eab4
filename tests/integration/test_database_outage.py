"""MySQL going away: clear 503s while it is down, and recovery without a restart.

The service reaches MariaDB through a TCP relay the test can cut, as a crashed or
unreachable database would be, and restore.
"""

from __future__ import annotations

import httpx

from devstack import tracing_env
from devstack.polling import poll_until
from devstack.processes import ProcessGroup
from tests.support.mariadb import ScratchDatabase
from tests.support.stack import start_usermgmt
from tests.support.tcp_proxy import TcpProxy
from tests.support.udp import SegmentCollector
from tests.support.users import new_user
from tests.support.xray import sql_subsegments

UNAVAILABLE = "The user database is unavailable; try again shortly"


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["message"] == UNAVAILABLE
    assert response.headers["Retry-After"] == "5"
    assert "pymysql" not in response.text and "Traceback" not in response.text


def test_outage_gives_503s_then_recovers_in_place(
    group: ProcessGroup, database: ScratchDatabase, relay: TcpProxy, collector: SegmentCollector
) -> None:
    usermgmt = start_usermgmt(
        group,
        tracing=tracing_env(collector.address),
        database=database,
        db_port=relay.port,
    )
    with httpx.Client(base_url=f"{usermgmt.base_url}/usermgmt", timeout=30) as api:
        survive_an_outage(api, relay, collector)
    assert usermgmt.is_running()
    assert "Traceback" not in usermgmt.log_text()


def survive_an_outage(api: httpx.Client, relay: TcpProxy, collector: SegmentCollector) -> None:
    assert api.post("/user", json=new_user("before")).status_code == 201

    relay.cut()
    for response in (
        api.get("/users"),
        api.get("/user/before"),
        api.post("/user", json=new_user("during")),
        api.put("/user", json={"username": "before", "email": "x@example.com", "firstname": "X"}),
        api.delete("/user/before"),
    ):
        assert_unavailable(response)
    assert api.get("/health-status").status_code == 200  # alive, just degraded

    # The trace shows the fault on the request and on the database call.
    failed = api.get("/users")
    [segment] = collector.wait_for_trace(failed.headers["X-Amzn-Trace-Id"].removeprefix("Root="), 1)
    assert segment["fault"] is True and segment["http"]["response"]["status"] == 503
    assert any(q.get("fault") for q in sql_subsegments(segment))

    relay.restore()
    poll_until(
        lambda: api.get("/users").status_code == 200, "the service to use the database again"
    )
    assert [u["username"] for u in api.get("/users").json()] == ["before"]
    assert api.post("/user", json=new_user("after")).status_code == 201


def test_starting_while_the_database_is_down(
    group: ProcessGroup, database: ScratchDatabase, relay: TcpProxy, collector: SegmentCollector
) -> None:
    relay.cut()
    usermgmt = start_usermgmt(  # becomes ready: health checks do not need the database
        group,
        tracing=tracing_env(collector.address),
        database=database,
        db_port=relay.port,
    )
    with httpx.Client(base_url=f"{usermgmt.base_url}/usermgmt", timeout=30) as api:
        assert_unavailable(api.get("/users"))
        relay.restore()
        # The first request that reaches the database creates the schema.
        poll_until(
            lambda: api.get("/users").status_code == 200, "the schema to be created on first use"
        )
        assert api.post("/user", json=new_user("late")).status_code == 201
    assert "database not ready at start-up" in usermgmt.log_text()
