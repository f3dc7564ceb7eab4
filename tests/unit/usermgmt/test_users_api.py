"""The user API of the real application in-process, on SQLite, calling notification V1
in-process, whose emails reach an in-process SMTP server."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.support.inprocess import Usermgmt
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.anyio
PASSWORD = "Pass@123"


def new_user(**overrides: object) -> dict[str, object]:
    name = f"u{secrets.token_hex(4)}"
    return {
        "username": name,
        "email": f"{name}@example.com",
        "role": "ROLE_ADMIN",
        "enabled": True,
        "firstname": "Ada",
        "lastname": "Lovelace",
        "password": PASSWORD,
        **overrides,
    }


def assert_error(response: httpx.Response, status: int, message_part: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert message_part in body["message"], body
    assert body["path"] == response.request.url.path
    assert "Traceback" not in response.text
    return body  # type: ignore[no-any-return]


async def test_create_returns_the_user_stores_a_hash_and_sends_the_email(
    api: httpx.AsyncClient, smtp: SmtpServer, usermgmt: Usermgmt
) -> None:
    user = new_user()
    response = await api.post("/user", json=user)
    assert response.status_code == 201
    assert response.headers["Location"] == f"/usermgmt/user/{user['username']}"
    expected = {k: v for k, v in user.items() if k != "password"}
    assert response.json() == expected
    assert (await api.get(f"/user/{user['username']}")).json() == expected

    with usermgmt.resources.database.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT password FROM users WHERE username = :name"), {"name": user["username"]}
        ).scalar_one()
    assert isinstance(stored, str) and stored.startswith("$2b$") and PASSWORD not in stored

    mail = smtp.wait_for_mail_to(str(user["email"]))
    assert mail.message["Subject"] == "Your user management account"
    assert mail.message["From"] == "notification@example.com"
    assert f"your account {user['username']} is ready" in mail.message.get_payload()


async def test_a_taken_username_or_email_is_a_conflict(api: httpx.AsyncClient) -> None:
    user = new_user()
    assert (await api.post("/user", json=user)).status_code == 201
    assert_error(
        await api.post("/user", json={**user, "email": "other@example.com"}),
        409,
        f"User with user name {user['username']} already exists!",
    )
    assert_error(
        await api.post("/user", json=new_user(email=user["email"])),
        409,
        f"User with email {user['email']} already exists!",
    )


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Sh@rt1", "must be at least 8 characters"),
        ("NoDigits@here", "must contain a digit"),
        ("UPPER@123", "must contain a lower case letter"),
        ("lower@123", "must contain an upper case letter"),
        ("NoSpecial123", "must contain one of !@#$%^&*"),
        ("Has Space@123", "must not contain whitespace"),
        ("Aa1@" + "x" * 70, "must be at most 72 bytes"),
    ],
)
async def test_each_password_rule_is_reported(
    api: httpx.AsyncClient, password: str, problem: str
) -> None:
    user = new_user(password=password)
    body = assert_error(await api.post("/user", json=user), 422, problem)
    assert body["errors"] == [{"field": "password", "message": problem}]
    assert password not in (await api.post("/user", json=user)).text  # never echoed back
    assert (await api.get(f"/user/{user['username']}")).status_code == 404  # nothing stored


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "x" * 21}, "username"),
        ({"username": "has/slash"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"firstname": ""}, "firstname"),
        ({"lastname": "y" * 21}, "lastname"),
        ({"enabled": "perhaps"}, "enabled"),
    ],
)
async def test_an_invalid_field_is_named(
    api: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    body = assert_error(await api.post("/user", json=new_user(**change)), 422, f"{field}:")
    assert [error["field"] for error in body["errors"]] == [field]


async def test_a_missing_or_broken_body_is_a_clear_422(api: httpx.AsyncClient) -> None:
    body = assert_error(await api.post("/user", json={}), 422, "Invalid request")
    assert {e["field"] for e in body["errors"]} == {"username", "password", "email", "firstname"}
    assert_error(
        await api.post("/user", content=b"{not json", headers={"Content-Type": "application/json"}),
        422,
        "the body is not valid JSON",
    )


async def test_update_changes_email_and_names_only(api: httpx.AsyncClient) -> None:
    user = new_user()
    await api.post("/user", json=user)
    change = {
        "username": user["username"],
        "email": f"new-{user['email']}",
        "firstname": "Grace",
        "lastname": "Hopper",
        "role": "ROLE_IGNORED",
        "password": "Ignored@123",
    }
    response = await api.put("/user", json=change)
    assert response.status_code == 200
    assert response.json() == {
        **{k: v for k, v in user.items() if k != "password"},
        "email": change["email"],
        "firstname": "Grace",
        "lastname": "Hopper",
    }


async def test_update_rejects_a_missing_user_and_a_taken_email(api: httpx.AsyncClient) -> None:
    first, second = new_user(), new_user()
    await api.post("/user", json=first)
    await api.post("/user", json=second)
    assert_error(
        await api.put(
            "/user", json={"username": "nobody00", "email": "n@example.com", "firstname": "N"}
        ),
        404,
        "User with user name nobody00 doesn't exist!",
    )
    assert_error(
        await api.put(
            "/user",
            json={"username": second["username"], "email": first["email"], "firstname": "S"},
        ),
        409,
        f"User with email {first['email']} already exists!",
    )


async def test_delete_removes_the_user(api: httpx.AsyncClient) -> None:
    user = new_user()
    await api.post("/user", json=user)
    assert (await api.delete(f"/user/{user['username']}")).status_code == 204
    assert_error(await api.get(f"/user/{user['username']}"), 404, "doesn't exist!")
    assert_error(await api.delete(f"/user/{user['username']}"), 404, "doesn't exist!")


async def test_list_shows_users_without_passwords(api: httpx.AsyncClient) -> None:
    user = new_user()
    await api.post("/user", json=user)
    listed = (await api.get("/users")).json()
    assert {k: v for k, v in user.items() if k != "password"} in listed
    assert all("password" not in entry for entry in listed)


async def test_status_toggles_enabled(api: httpx.AsyncClient) -> None:
    user = new_user(enabled=True)
    await api.post("/user", json=user)
    assert (await api.get(f"/status/{user['username']}")).json()["enabled"] is False
    assert (await api.get(f"/status/{user['username']}")).json()["enabled"] is True
    assert_error(await api.get("/status/nobody00"), 404, "doesn't exist!")


async def test_unknown_routes_and_methods_answer_json(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/nowhere"), 404, "Not Found")
    assert_error(await api.patch("/user"), 405, "Method Not Allowed")


async def test_the_openapi_document_describes_the_api(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    assert {"/usermgmt/user", "/usermgmt/users", "/usermgmt/notification-xray"} <= spec[
        "paths"
    ].keys()
    assert (await api.get("/docs")).status_code == 200


async def test_the_openapi_document_warns_of_the_database_being_down(
    api: httpx.AsyncClient,
) -> None:
    """A 503 with Retry-After may come from every route that reads or writes users."""
    spec = (await api.get("/openapi.json")).json()
    database_routes = [
        ("get", "/usermgmt/users"),
        ("get", "/usermgmt/user/{username}"),
        ("post", "/usermgmt/user"),
        ("put", "/usermgmt/user"),
        ("delete", "/usermgmt/user/{username}"),
        ("get", "/usermgmt/status/{username}"),
    ]
    for method, path in database_routes:
        unavailable = spec["paths"][path][method]["responses"]["503"]
        assert "Retry-After" in unavailable["headers"], (method, path)
    assert "503" not in spec["paths"]["/usermgmt/health-status"]["get"]["responses"]


async def test_the_notification_endpoints_pass_through(api: httpx.AsyncClient) -> None:
    assert (await api.get("/health-status")).text == "User Management Service UP and RUNNING - V1"
    health = (await api.get("/notification-health-status")).text
    assert health == "Notification Service is UP and Running - V1"
    info = (await api.get("/notification-service-info")).text
    assert "Hostname: " in info and info.endswith("Application Version: V1")
    chain = (await api.get("/notification-xray")).json()
    assert chain["appversion"] == "V1" and chain["message"] == "Enabled AWS XRay"
