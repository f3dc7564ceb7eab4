"""Fault injection: make one version misbehave at runtime and watch its node turn red.

Faults apply to the notification routes (not to the health check, so probes do not restart a
pod that is only pretending to be ill): first the added latency, then, at the error rate, an
error answer with the chosen status (5xx is a fault on the map, 4xx an error, 429 a throttle).

They start from FAULT_* settings and change at runtime, without a restart, through
GET/PUT/DELETE /notification/admin/faults (faults/admin.py). Both need
FAULT_INJECTION_ENABLED=true: without it there are no admin routes and no faults. Each process
is one version, so a version's faults are set on its own processes (docs: README "Fault
injection").
"""

from __future__ import annotations

import asyncio
import random

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MAX_LATENCY_MS = 60_000


class Faults(BaseModel):
    """What every notification call suffers; all zero means none."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={"examples": [{"errorRate": 0.5, "errorStatus": 503, "latencyMs": 200}]},
    )

    error_rate: float = Field(0.0, ge=0, le=1, description="Share of calls answered with an error")
    error_status: int = Field(500, ge=400, le=599, description="Status of those answers")
    latency_ms: int = Field(0, ge=0, le=MAX_LATENCY_MS, description="Delay added to every call")

    @property
    def active(self) -> bool:
        return self.error_rate > 0 or self.latency_ms > 0


class FaultInjector:
    """The current faults of this process, and their effect on one call."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    async def apply(self) -> None:
        faults = self.faults  # one consistent set, even if replaced while sleeping
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.error_rate and random.random() < faults.error_rate:
            raise HTTPException(
                faults.error_status,
                f"Injected fault: {faults.error_status} at error rate {faults.error_rate:g}",
            )
