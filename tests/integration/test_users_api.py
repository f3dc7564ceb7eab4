"""The user API on the real service over MariaDB, with a real SMTP server receiving mail."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.support.mariadb import ScratchDatabase
from tests.support.smtp import SmtpServer
from tests.support.stack import Chain

PASSWORD = "Pass@123"


@pytest.fixture
def api(chain: Chain) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{chain.usermgmt.base_url}/usermgmt", timeout=10) as client:
        yield client


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


def assert_error(response: httpx.Response, status: int, message_part: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert message_part in body["message"], body
    assert body["path"] == response.request.url.path
    assert "Traceback" not in response.text
    return body


def test_create_returns_the_user_stores_a_hash_and_sends_the_email(
    api: httpx.Client, smtp: SmtpServer, shared_database: ScratchDatabase
) -> None:
    user = new_user()
    response = api.post("/user", json=user)
    assert response.status_code == 201
    assert response.headers["Location"] == f"/usermgmt/user/{user['username']}"
    expected = {k: v for k, v in user.items() if k != "password"}
    assert response.json() == expected
    assert api.get(f"/user/{user['username']}").json() == expected

    [(stored,)] = shared_database.query(
        "SELECT password FROM users WHERE username = %s", user["username"]
    )
    assert isinstance(stored, str) and stored.startswith("$2b$") and PASSWORD not in stored

    mail = smtp.wait_for_mail_to(str(user["email"]))
    assert mail.message["Subject"] == "Your user management account"
    assert mail.message["From"] == "notification@example.com"
    assert f"your account {user['username']} is ready" in mail.message.get_payload()


def test_a_taken_username_or_email_is_a_conflict(api: httpx.Client) -> None:
    user = new_user()
    assert api.post("/user", json=user).status_code == 201
    assert_error(
        api.post("/user", json={**user, "email": "other@example.com"}),
        409,
        f"User with user name {user['username']} already exists!",
    )
    assert_error(
        api.post("/user", json=new_user(email=user["email"])),
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
def test_each_password_rule_is_reported(api: httpx.Client, password: str, problem: str) -> None:
    user = new_user(password=password)
    body = assert_error(api.post("/user", json=user), 422, problem)
    assert body["errors"] == [{"field": "password", "message": problem}]
    assert password not in api.post("/user", json=user).text  # never echoed back
    assert api.get(f"/user/{user['username']}").status_code == 404  # nothing stored


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
def test_an_invalid_field_is_named(api: httpx.Client, change: dict, field: str) -> None:
    body = assert_error(api.post("/user", json=new_user(**change)), 422, f"{field}:")
    assert [error["field"] for error in body["errors"]] == [field]


def test_a_missing_or_broken_body_is_a_clear_422(api: httpx.Client) -> None:
    body = assert_error(api.post("/user", json={}), 422, "Invalid request")
    assert {e["field"] for e in body["errors"]} == {"username", "password", "email", "firstname"}
    assert_error(
        api.post("/user", content=b"{not json", headers={"Content-Type": "application/json"}),
        422,
        "the body is not valid JSON",
    )


def test_update_changes_email_and_names_only(api: httpx.Client) -> None:
    user = new_user()
    api.post("/user", json=user)
    change = {
        "username": user["username"],
        "email": f"new-{user['email']}",
        "firstname": "Grace",
        "lastname": "Hopper",
        "role": "ROLE_IGNORED",
        "password": "Ignored@123",
    }
    response = api.put("/user", json=change)
    assert response.status_code == 200
    assert response.json() == {
        **{k: v for k, v in user.items() if k != "password"},
        "email": change["email"],
        "firstname": "Grace",
        "lastname": "Hopper",
    }


def test_update_rejects_a_missing_user_and_a_taken_email(api: httpx.Client) -> None:
    first, second = new_user(), new_user()
    api.post("/user", json=first)
    api.post("/user", json=second)
    assert_error(
        api.put("/user", json={"username": "nobody00", "email": "n@example.com", "firstname": "N"}),
        404,
        "User with user name nobody00 doesn't exist!",
    )
    assert_error(
        api.put(
            "/user",
            json={"username": second["username"], "email": first["email"], "firstname": "S"},
        ),
        409,
        f"User with email {first['email']} already exists!",
    )


def test_delete_removes_the_user(api: httpx.Client) -> None:
    user = new_user()
    api.post("/user", json=user)
    assert api.delete(f"/user/{user['username']}").status_code == 204
    assert_error(api.get(f"/user/{user['username']}"), 404, "doesn't exist!")
    assert_error(api.delete(f"/user/{user['username']}"), 404, "doesn't exist!")


def test_list_shows_users_without_passwords(api: httpx.Client) -> None:
    user = new_user()
    api.post("/user", json=user)
    listed = api.get("/users").json()
    assert {k: v for k, v in user.items() if k != "password"} in listed
    assert all("password" not in entry for entry in listed)


def test_status_toggles_enabled(api: httpx.Client) -> None:
    user = new_user(enabled=True)
    api.post("/user", json=user)
    assert api.get(f"/status/{user['username']}").json()["enabled"] is False
    assert api.get(f"/status/{user['username']}").json()["enabled"] is True
    assert_error(api.get("/status/nobody00"), 404, "doesn't exist!")


def test_unknown_routes_and_methods_answer_json(api: httpx.Client) -> None:
    assert_error(api.get("/nowhere"), 404, "Not Found")
    assert_error(api.patch("/user"), 405, "Method Not Allowed")


def test_the_openapi_document_describes_the_api(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    assert {"/usermgmt/user", "/usermgmt/users", "/usermgmt/notification-xray"} <= spec[
        "paths"
    ].keys()
    assert api.get("/docs").status_code == 200


def test_the_openapi_document_warns_of_the_database_being_down(api: httpx.Client) -> None:
    """A 503 with Retry-After may come from every route that reads or writes users."""
    spec = api.get("/openapi.json").json()
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


def test_the_notification_endpoints_pass_through(api: httpx.Client, chain: Chain) -> None:
    assert api.get("/health-status").text == "User Management Service UP and RUNNING - V1"
    assert (
        api.get("/notification-health-status").text == "Notification Service is UP and Running - V1"
    )
    info = api.get("/notification-service-info").text
    assert "Hostname: " in info and info.endswith("Application Version: V1")
