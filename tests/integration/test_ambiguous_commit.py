"""A create whose COMMIT reached the database but whose answer was lost: the client is told
the truth. The service asks the database again, by the user name, and answers 201 when the
row is there (and is its own), as if nothing had happened.

Until it did, the client got 503 "try again", and trying again got 409: the user existed,
and no welcome email was ever asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import URL

from devstack import free_tcp_port
from tests.support.mariadb import ScratchDatabase
from tests.support.tcp_proxy import CommitCutter
from tests.support.users import new_user
from tracing import TracingSettings
from usermgmt.app import create_app
from usermgmt.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(database: ScratchDatabase) -> AsyncIterator[tuple[httpx.AsyncClient, CommitCutter]]:
    cutter = CommitCutter((database.host, database.port))
    url = URL.create(
        "mysql+pymysql",
        username=database.user,
        password=database.password or None,
        host="127.0.0.1",
        port=cutter.port,
        database=database.name,
    )
    settings = Settings(
        database_url=url.render_as_string(hide_password=False),
        notification_service_port=free_tcp_port(),  # down: the email fails, the user stays
        bcrypt_rounds=4,
        tracing=TracingSettings(enabled=False),
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://usermgmt") as client:
        yield client, cutter
    cutter.close()


async def test_a_commit_whose_answer_was_lost_is_a_201_when_the_row_exists(
    api: tuple[httpx.AsyncClient, CommitCutter], database: ScratchDatabase
) -> None:
    client, cutter = api
    assert (await client.post("/usermgmt/user", json=new_user("before"))).status_code == 201

    cutter.arm()
    response = await client.post("/usermgmt/user", json=new_user("ambiguous"))
    assert cutter.cut_commits == 1  # the answer to COMMIT was lost on the way
    assert response.status_code == 201, response.text
    assert response.json()["username"] == "ambiguous"
    assert response.headers["Location"] == "/usermgmt/user/ambiguous"
    assert database.query("SELECT username FROM users WHERE username = 'ambiguous'") == [
        ("ambiguous",)
    ]
    assert (await client.post("/usermgmt/user", json=new_user("after"))).status_code == 201


async def test_a_commit_that_never_arrived_is_a_503_and_nothing_is_stored(
    api: tuple[httpx.AsyncClient, CommitCutter], database: ScratchDatabase
) -> None:
    client, cutter = api
    assert (await client.post("/usermgmt/user", json=new_user("before"))).status_code == 201
    cutter.arm(deliver=False)
    response = await client.post("/usermgmt/user", json=new_user("lost"))
    assert cutter.cut_commits == 1
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert database.query("SELECT username FROM users WHERE username = 'lost'") == []
    assert (await client.post("/usermgmt/user", json=new_user("lost"))).status_code == 201
