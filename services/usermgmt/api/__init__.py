"""HTTP routes, all under /usermgmt like the original service's context path."""

from fastapi import APIRouter

from . import health, notifications, users

PREFIX = "/usermgmt"
HEALTH_PATH = f"{PREFIX}/health-status"
READINESS_PATH = f"{PREFIX}/readiness"
# Probes: never traced, never refused for load.
PROBE_PATHS = frozenset({HEALTH_PATH, READINESS_PATH})

router = APIRouter(prefix=PREFIX)
router.include_router(health.router)
router.include_router(users.router)
router.include_router(notifications.router)

__all__ = ["HEALTH_PATH", "PREFIX", "PROBE_PATHS", "READINESS_PATH", "router"]
