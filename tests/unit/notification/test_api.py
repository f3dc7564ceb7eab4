"""The notification routes of the real application, in-process."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.support.inprocess import notification_service, notification_settings
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.anyio


async def test_health_info_and_xray_name_the_version_and_host(api: httpx.AsyncClient) -> None:
    assert (await api.get("/health-status")).text == "Notification Service is UP and Running - V1"
    info = (await api.get("/info")).text.splitlines()
    assert info[1:] == [f"Hostname: {socket.gethostname()}", "Application Version: V1"]
    assert (await api.get("/xray")).json() == {
        "applicationname": "Notification Microservice",
        "appversion": "V1",
        "message": "Enabled AWS XRay",
        "hostname": socket.gethostname(),
    }


async def test_the_version_comes_from_app_version() -> None:
    async with notification_service(notification_settings(APP_VERSION="V2")) as service:
        response = await service.client.get("/notification/xray")
    assert response.json()["appversion"] == "V2"


async def test_send_accepts_then_delivers_to_every_recipient(
    api: httpx.AsyncClient, smtp: SmtpServer
) -> None:
    response = await api.post(
        "/send",
        json={
            "subject": "Hello",
            "content": "Body text",
            "toEmails": ["to@example.com"],
            "ccEmails": ["cc@example.com"],
            "bccEmails": ["bcc@example.com"],
        },
    )
    assert response.status_code == 202
    assert response.json() == {"message": "Email accepted for delivery", "recipients": 3}
    mail = smtp.wait_for_mail_to("to@example.com")
    assert set(mail.recipients) == {"to@example.com", "cc@example.com", "bcc@example.com"}
    assert (mail.message["To"], mail.message["Cc"]) == ("to@example.com", "cc@example.com")
    assert "bcc@example.com" not in str(mail.message)  # Bcc goes by the envelope only
    assert mail.message["Subject"] == "Hello" and mail.message["From"] == "notification@example.com"
    assert str(mail.message.get_payload()).strip() == "Body text"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"subject": "s", "content": "c"}, "body", "at least one of toEmails, ccEmails, bccEmails"),
        ({"subject": "s", "content": "c", "toEmails": ["nope"]}, "toEmails.0", "email address"),
        ({"subject": "a\nb", "content": "c", "toEmails": ["a@example.com"]}, "body", "single line"),
        ({"subject": "", "content": "c", "toEmails": ["a@example.com"]}, "subject", "at least 1"),
        (
            {"subject": "s", "content": "c", "toEmails": [f"u{i}@example.com" for i in range(51)]},
            "toEmails",
            "at most 50",
        ),
    ],
)
async def test_a_bad_email_request_is_a_clear_422(
    api: httpx.AsyncClient, body: dict[str, object], field: str, message: str
) -> None:
    response = await api.post("/send", json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["errors"][0]["field"] == field
    assert message in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("GET", "/send", "POST"), ("POST", "/xray", "GET"), ("DELETE", "/health-status", "GET")],
)
async def test_a_wrong_method_names_the_methods_of_the_path(
    api: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await api.request(method, f"http://notification/notification{path}")
    assert response.status_code == 405
    assert response.json()["status"] == 405
    assert response.headers["Allow"] == allowed
