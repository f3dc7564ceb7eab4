"""HTTP routes, all under /usermgmt like the original service's context path."""

from fastapi import APIRouter

from . import health, notifications, users

PREFIX = "/usermgmt"
HEALTH_PATH = f"{PREFIX}/health-status"

router = APIRouter(prefix=PREFIX)
router.include_router(health.router)
router.include_router(users.router)
router.include_router(notifications.router)

__all__ = ["HEALTH_PATH", "PREFIX", "router"]
