"""User routes. SQLAlchemy and PyMySQL block, so the database work runs through
Database.run: in a worker thread, with a deadline; its SQL subsegments still land in the
request's segment (see tracing). The store's exceptions become their statuses in
usermgmt.errors."""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks, Response, status
from starlette.concurrency import run_in_threadpool

from .. import store
from ..errors import CONFLICT, DATABASE_DOWN, NOT_FOUND
from ..notification_client import NotificationClient, NotificationUnavailable
from ..passwords import hash_password
from ..schemas import UserCreate, UserOut, UserUpdate
from .deps import DatabaseDep, NotifierDep, SettingsDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["users"])


@router.get("/users", responses=DATABASE_DOWN)
async def list_users(database: DatabaseDep) -> list[UserOut]:
    return await database.run(
        lambda session: [UserOut.model_validate(user) for user in store.list_users(session)]
    )


@router.get("/user/{username}", responses=NOT_FOUND)
async def get_user(username: str, database: DatabaseDep) -> UserOut:
    return await database.run(
        lambda session: UserOut.model_validate(store.get_user(session, username))
    )


@router.post("/user", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
async def create_user(
    data: UserCreate,
    database: DatabaseDep,
    settings: SettingsDep,
    notifier: NotifierDep,
    background: BackgroundTasks,
    response: Response,
) -> UserOut:
    """Create a user, then ask the notification service to email them. The email is
    requested after the response: its failure is logged and traced, the user stays."""
    password_hash = await run_in_threadpool(hash_password, data.password, settings.bcrypt_rounds)
    user = await database.run(
        lambda session: UserOut.model_validate(store.create_user(session, data, password_hash))
    )
    response.headers["Location"] = f"/usermgmt/user/{user.username}"
    background.add_task(send_account_created_email, notifier, user)
    return user


@router.put("/user", responses={**NOT_FOUND, **CONFLICT})
async def update_user(data: UserUpdate, database: DatabaseDep) -> UserOut:
    return await database.run(
        lambda session: UserOut.model_validate(store.update_user(session, data))
    )


@router.delete("/user/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_user(username: str, database: DatabaseDep) -> None:
    await database.run(lambda session: store.delete_user(session, username))


@router.get("/status/{username}", responses=NOT_FOUND)
async def toggle_status(username: str, database: DatabaseDep) -> UserOut:
    """Enable a disabled user or disable an enabled one (the original's GET toggle)."""
    return await database.run(
        lambda session: UserOut.model_validate(store.toggle_enabled(session, username))
    )


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
