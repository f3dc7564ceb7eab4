"""Faults injected into a running notification service (FAULT_INJECTION_ENABLED=true), and
what a client of user management sees of them."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from devstack import ProcessGroup, ServiceProcess, start_notification

from .balancer import TcpBalancer
from .mariadb import ScratchDatabase
from .stack import start_usermgmt

FAULTS_PATH = "/notification/admin/faults"
CHAIN_PATH = "/usermgmt/notification-xray"


def set_faults(notification: ServiceProcess, faults: dict[str, Any] | None) -> None:
    """Switch `notification`'s faults on (as given) or off (None), checking its answer."""
    url = notification.base_url + FAULTS_PATH
    response = httpx.put(url, json=faults) if faults else httpx.delete(url)
    assert response.status_code == 200, response.text
    assert response.json() == {"errorRate": 0, "errorStatus": 500, "latencyMs": 0, **(faults or {})}


def call_chain(usermgmt: httpx.Client, requests: int) -> Counter[str]:
    """Call GET /usermgmt/notification-xray `requests` times, one after the other; count
    "V1"/"V2" for answers and, for a 502, the status the notification service failed with,
    as user management's error message says."""
    seen: Counter[str] = Counter()
    for _ in range(requests):
        response = usermgmt.get(CHAIN_PATH)
        if response.status_code == 502:
            message = response.json()["message"]
            upstream = re.search(r"answered GET /notification/xray with (\d{3})$", message)
            assert upstream, message
            seen[upstream.group(1)] += 1
        else:
            assert response.status_code == 200, response.text
            seen[response.json()["appversion"]] += 1
    return seen


@dataclass
class SplitChain:
    """Notification V1 and V2, fault injection on, behind a balancer that picks one per
    connection; user management opening a connection per call, so each call is picked for."""

    v1: ServiceProcess
    v2: ServiceProcess
    balancer: TcpBalancer
    usermgmt: ServiceProcess


def start_split_chain(
    group: ProcessGroup, *, tracing: Mapping[str, str], database: ScratchDatabase, seed: int
) -> SplitChain:
    """The balancer is the caller's to close; `seed` makes its picks repeatable."""
    enabled = {"FAULT_INJECTION_ENABLED": "true"}
    v1 = start_notification(group, tracing=tracing, version="V1", extra=enabled)
    v2 = start_notification(group, tracing=tracing, version="V2", extra=enabled)
    balancer = TcpBalancer([("127.0.0.1", p.port or 0) for p in (v1, v2)], seed=seed)
    usermgmt = start_usermgmt(
        group,
        tracing=tracing,
        database=database,
        notification_port=balancer.port,
        extra={"NOTIFICATION_CONNECTION_POLICY": "per-request"},
    )
    return SplitChain(v1, v2, balancer, usermgmt)
