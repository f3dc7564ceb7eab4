"""Health checks. Async, and free of the database and the thread pool: they answer at once
whatever the load and whatever state the dependencies are in."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

router = APIRouter(tags=["health"])


@router.get("/health-status", response_class=PlainTextResponse)
async def health_status() -> str:
    """Liveness: the process serves requests."""
    return "User Management Service UP and RUNNING - V1"
