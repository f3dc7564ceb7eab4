"""Fault injection: the injector's effect on a call, and the admin routes that change it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import HTTPException

from notification.faults import FaultInjector, Faults
from tests.support.inprocess import Notification, notification_service, notification_settings
from tests.support.tracer import tracing_to
from tests.support.udp import SegmentCollector
from tests.support.xray import new_trace_id, sampled_header

pytestmark = pytest.mark.anyio
ADMIN = "/notification/admin/faults"


async def test_no_faults_do_nothing() -> None:
    await FaultInjector(Faults()).apply()


async def test_an_error_rate_of_one_always_answers_the_status() -> None:
    injector = FaultInjector(Faults(error_rate=1, error_status=429))
    with pytest.raises(HTTPException) as caught:
        await injector.apply()
    assert caught.value.status_code == 429
    assert caught.value.detail == "Injected fault: 429 at error rate 1"


async def test_latency_is_added_before_answering() -> None:
    injector = FaultInjector(Faults(latency_ms=50))
    started = time.monotonic()
    await injector.apply()
    assert time.monotonic() - started >= 0.05


def test_faults_are_validated() -> None:
    for bad in ({"errorRate": 2}, {"errorStatus": 302}, {"latencyMs": -1}, {"unknown": 1}):
        with pytest.raises(ValueError):
            Faults.model_validate(bad)


@pytest.fixture
async def faulty() -> AsyncIterator[Notification]:
    settings = notification_settings(FAULT_INJECTION_ENABLED=True, FAULT_ERROR_RATE=1)
    async with notification_service(settings) as service:
        yield service


async def test_start_up_faults_hit_the_work_routes_not_the_health_check(
    faulty: Notification,
) -> None:
    http = faulty.client
    assert (await http.get("/notification/xray")).status_code == 500
    assert (await http.get("/notification/info")).json()["message"].startswith("Injected fault")
    assert (await http.get("/notification/health-status")).status_code == 200


async def test_faults_are_read_changed_and_cleared_at_runtime(faulty: Notification) -> None:
    http = faulty.client
    assert (await http.get(ADMIN)).json() == {"errorRate": 1.0, "errorStatus": 500, "latencyMs": 0}
    changed = await http.put(ADMIN, json={"errorRate": 1, "errorStatus": 503})
    assert changed.json() == {"errorRate": 1.0, "errorStatus": 503, "latencyMs": 0}
    assert (await http.get("/notification/xray")).status_code == 503
    assert (await http.delete(ADMIN)).json() == {
        "errorRate": 0.0,
        "errorStatus": 500,
        "latencyMs": 0,
    }
    assert (await http.get("/notification/xray")).status_code == 200
    invalid = await http.put(ADMIN, json={"errorRate": 3})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "errorRate"


async def test_setting_faults_is_not_traced(collector: SegmentCollector) -> None:
    settings = notification_settings(tracing=tracing_to(collector), FAULT_INJECTION_ENABLED=True)
    setting = new_trace_id()
    async with notification_service(settings) as service:
        await service.client.put(ADMIN, json={"latencyMs": 1}, headers=sampled_header(setting))
        traffic = await service.client.get("/notification/xray")
    collector.wait_for_trace(traffic.headers["X-Amzn-Trace-Id"].removeprefix("Root="), 1)
    assert collector.for_trace(setting) == []


async def test_without_fault_injection_there_are_no_admin_routes(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.get("http://notification" + ADMIN)).status_code == 404
    assert (await api.put("http://notification" + ADMIN, json={"errorRate": 1})).status_code == 404
