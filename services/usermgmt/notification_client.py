"""The user management service's client for the notification service.

Every call goes through one httpx.AsyncClient whose transport is traced, so each appears as a
`remote` subsegment and the notification service continues the same trace. The transport is
guarded (servicekit.outbound): at most `max_connections` calls at once, the next refused at
once (NotificationUnavailable with `busy`), over connections that cannot stay wedged.

Its connection policy (settings.ConnectionPolicy) decides whether a V1/V2 canary behind a
connection-level balancer is split per connection or per request.
"""

from __future__ import annotations

from typing import Any

import httpx

from servicekit.outbound import ConnectionFactory, GuardedTransport, Saturated, one_connection

from .settings import ConnectionPolicy

# Email bodies use the notification service's field names.
EmailMessage = dict[str, Any]


class NotificationUnavailable(Exception):
    """The notification service could not be reached or did not answer properly.

    The message, for logs, says where and how; `reason` says what happened without any
    address, for the clients of user management.
    """

    def __init__(
        self, message: str, *, reason: str, timed_out: bool = False, busy: bool = False
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.timed_out = timed_out
        self.busy = busy  # refused here, without calling: every connection was in use


class NotificationClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        max_connections: int,
        connect: ConnectionFactory = one_connection,
        policy: ConnectionPolicy = ConnectionPolicy.KEEP_ALIVE,
    ) -> None:
        """`connect()` makes one connection: an httpx transport, traced or not."""
        self.base_url = base_url
        self.policy = policy
        headers = {}
        if policy is ConnectionPolicy.PER_REQUEST:
            # Asking the server to close makes it close first (almost always), so the
            # TIME_WAIT sockets of thousands of short connections pile up on the server's
            # side, not on this client's ephemeral ports.
            headers["Connection"] = "close"
        self.transport = GuardedTransport(max_connections, connect)
        self._client = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, transport=self.transport, headers=headers
        )

    async def xray(self) -> dict[str, Any]:
        response = await self._request("GET", "/notification/xray")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise NotificationUnavailable(
                "the notification service did not answer with JSON",
                reason="it did not answer with JSON",
            )
        return body

    async def health_status(self, *, timeout: float | None = None) -> str:
        """`timeout` instead of the client's own, for a check that must answer sooner."""
        return (
            await self._request(
                "GET",
                "/notification/health-status",
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
        ).text

    async def info(self) -> str:
        return (await self._request("GET", "/notification/info")).text

    async def send_email(self, message: EmailMessage) -> None:
        await self._request("POST", "/notification/send", json=message)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client.request(method, path, **kwargs)
        except Saturated as exc:
            raise NotificationUnavailable(
                f"not calling the notification service at {self.base_url}: {exc}",
                reason="too many calls at once",
                busy=True,
            ) from exc
        except httpx.TimeoutException as exc:
            raise NotificationUnavailable(
                f"the notification service at {self.base_url} did not answer in time",
                reason="it did not answer in time",
                timed_out=True,
            ) from exc
        except httpx.HTTPError as exc:
            raise NotificationUnavailable(
                f"cannot reach the notification service at {self.base_url}: {exc}",
                reason="it could not be reached",
            ) from exc
        if response.is_error:
            answered = f"answered {method} {path} with {response.status_code}"
            raise NotificationUnavailable(
                f"the notification service {answered}", reason=f"it {answered}"
            )
        return response
