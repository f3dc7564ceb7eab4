"""The X-Ray API in this process (httpx's ASGI transport): the same handlers, errors and
shapes as the daemon's TCP address, with a store whose clock the test sets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from xray_local.api import XRayApi
from xray_local.intake import Ingestor
from xray_local.sampling import SAMPLE_EVERYTHING, Sampling
from xray_local.store import Retention, Store


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class InProcessApi:
    def __init__(self, now: float = 1_700_000_000.0, api_token: str | None = None) -> None:
        self.clock = Clock(now)
        self.store = Store(Retention(max_age_seconds=10**9), clock=self.clock)
        self.api = XRayApi(
            self.store, Sampling([SAMPLE_EVERYTHING]), Ingestor(self.store), api_token
        )
        self.app = Starlette(routes=[Route("/{path:path}", self.api.endpoint, methods=["POST"])])

    def put(self, documents: list[dict[str, Any]]) -> None:
        for document in documents:
            self.api.ingestor.ingest(json.dumps(document).encode())

    def call(
        self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://xray") as client:
                return await client.post(path, json=body, headers=headers)

        return asyncio.run(send())

    def summaries(self, **body: Any) -> list[dict[str, Any]]:
        """Every summary GetTraceSummaries returns for `body`, failing on an error answer."""
        response = self.call("/TraceSummaries", body)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["TraceSummaries"]
        return found
