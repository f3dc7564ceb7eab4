"""The store on SQLite, free of HTTP: what it keeps, and the exceptions errors.py maps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from usermgmt import store
from usermgmt.db import Database
from usermgmt.schemas import UserCreate, UserUpdate
from usermgmt.settings import Settings

HASH = "$2b$04$" + "x" * 53


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url, _ = Settings(SQLITE_PATH=tmp_path / "users.db").database()
    database = Database(url, deadline=5, max_concurrency=1)
    database.ensure_schema()
    try:
        with database.sessions() as session:
            yield session
    finally:
        database.dispose()


def new_user(name: str = "ada", email: str = "ada@example.com") -> UserCreate:
    return UserCreate(username=name, email=email, firstname="Ada", password="Pass@123")


def test_a_created_user_keeps_the_hash_not_the_password(session: Session) -> None:
    store.create_user(session, new_user(), HASH)
    user = store.get_user(session, "ada")
    assert (user.password, user.enabled, user.role) == (HASH, True, "ROLE_USER")


def test_a_taken_username_or_email_raises_user_exists(session: Session) -> None:
    store.create_user(session, new_user(), HASH)
    with pytest.raises(store.UserExists, match="user name ada already exists"):
        store.create_user(session, new_user(email="other@example.com"), HASH)
    with pytest.raises(store.UserExists, match="email ada@example.com already exists"):
        store.create_user(session, new_user(name="grace"), HASH)
    assert [user.username for user in store.list_users(session)] == ["ada"]


def test_update_checks_the_new_email_but_not_the_users_own(session: Session) -> None:
    store.create_user(session, new_user(), HASH)
    store.create_user(session, new_user("grace", "grace@example.com"), HASH)
    same = UserUpdate(username="ada", email="ADA@example.com", firstname="Ada", lastname="L")
    assert store.update_user(session, same).lastname == "L"
    taken = UserUpdate(username="ada", email="grace@example.com", firstname="Ada")
    with pytest.raises(store.UserExists):
        store.update_user(session, taken)


def test_a_missing_user_raises_user_not_found(session: Session) -> None:
    for action in (
        lambda: store.get_user(session, "nobody"),
        lambda: store.delete_user(session, "nobody"),
        lambda: store.toggle_enabled(session, "nobody"),
        lambda: store.update_user(
            session, UserUpdate(username="nobody", email="n@example.com", firstname="N")
        ),
    ):
        with pytest.raises(store.UserNotFound, match="nobody doesn't exist"):
            action()


def test_toggle_and_delete(session: Session) -> None:
    store.create_user(session, new_user(), HASH)
    assert store.toggle_enabled(session, "ada").enabled is False
    assert store.toggle_enabled(session, "ada").enabled is True
    store.delete_user(session, "ada")
    assert store.list_users(session) == []
