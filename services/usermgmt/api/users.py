"""User routes. They are sync (SQLAlchemy + PyMySQL block), so FastAPI runs them in its
thread pool; their SQL subsegments still land in the request's segment (see tracing). The
store's exceptions become their statuses in usermgmt.errors."""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks, Response, status
from fastapi.responses import PlainTextResponse

from .. import store
from ..errors import CONFLICT, DATABASE_DOWN, NOT_FOUND
from ..notification_client import NotificationClient, NotificationUnavailable
from ..passwords import hash_password
from ..schemas import UserCreate, UserOut, UserUpdate
from .deps import NotifierDep, SessionDep, SettingsDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["users"])


@router.get("/health-status", response_class=PlainTextResponse, tags=["health"])
def health_status() -> str:
    return "User Management Service UP and RUNNING - V1"


@router.get("/users", responses=DATABASE_DOWN)
def list_users(session: SessionDep) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in store.list_users(session)]


@router.get("/user/{username}", responses=NOT_FOUND)
def get_user(username: str, session: SessionDep) -> UserOut:
    return UserOut.model_validate(store.get_user(session, username))


@router.post("/user", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_user(
    data: UserCreate,
    session: SessionDep,
    settings: SettingsDep,
    notifier: NotifierDep,
    background: BackgroundTasks,
    response: Response,
) -> UserOut:
    """Create a user, then ask the notification service to email them. The email is
    requested after the response: its failure is logged and traced, the user stays."""
    password_hash = hash_password(data.password, settings.bcrypt_rounds)
    user = UserOut.model_validate(store.create_user(session, data, password_hash))
    response.headers["Location"] = f"/usermgmt/user/{user.username}"
    background.add_task(send_account_created_email, notifier, user)
    return user


@router.put("/user", responses={**NOT_FOUND, **CONFLICT})
def update_user(data: UserUpdate, session: SessionDep) -> UserOut:
    return UserOut.model_validate(store.update_user(session, data))


@router.delete("/user/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_user(username: str, session: SessionDep) -> None:
    store.delete_user(session, username)


@router.get("/status/{username}", responses=NOT_FOUND)
def toggle_status(username: str, session: SessionDep) -> UserOut:
    """Enable a disabled user or disable an enabled one (the original's GET toggle)."""
    return UserOut.model_validate(store.toggle_enabled(session, username))


async def send_account_created_email(notifier: NotificationClient, user: UserOut) -> None:
    message = {
        "subject": "Your user management account",
        "content": f"Hello {user.firstname}, your account {user.username} is ready.",
        "toEmails": [user.email],
    }
    try:
        await notifier.send_email(message)
    except NotificationUnavailable as exc:
        log.warning("user %s was created but the email was not requested: %s", user.username, exc)
    else:
        log.info("asked the notification service to email user %s", user.username)
