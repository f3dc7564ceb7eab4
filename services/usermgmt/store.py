"""Storage of users, free of HTTP: usermgmt.errors turns these exceptions into statuses."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from .models import User
from .schemas import UserCreate, UserUpdate


class UserNotFound(Exception):
    def __init__(self, username: str) -> None:
        super().__init__(f"User with user name {username} doesn't exist!")


class UserExists(Exception):
    def __init__(self, field: str, value: str) -> None:
        label = "user name" if field == "username" else field
        super().__init__(f"User with {label} {value} already exists!")


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def get_user(session: Session, username: str) -> User:
    user = session.get(User, username)
    if user is None:
        raise UserNotFound(username)
    return user


def create_user(session: Session, data: UserCreate, password_hash: str) -> User:
    if session.get(User, data.username) is not None:
        raise UserExists("username", data.username)
    _check_email_free(session, data.email)
    user = User(
        username=data.username,
        password=password_hash,
        enabled=data.enabled,
        role=data.role,
        email=data.email,
        firstname=data.firstname,
        lastname=data.lastname,
    )
    session.add(user)
    try:
        _commit(session, lambda: _which_exists(session, data.username, data.email))
    except (OperationalError, InterfaceError):
        # The connection broke while committing: the server may have committed or not, and
        # only it knows. Ask again, on a new connection, for this user name; the row is this
        # request's if it holds this request's password hash (bcrypt salts each one anew).
        session.rollback()
        stored = session.get(User, data.username)
        if stored is None:
            raise  # not committed: the database is unavailable, as the error says
        if stored.password != password_hash:
            raise UserExists("username", data.username) from None
        return stored
    return user


def update_user(session: Session, data: UserUpdate) -> User:
    user = get_user(session, data.username)
    if user.email.strip().lower() != data.email.strip().lower():
        _check_email_free(session, data.email)
    user.email = data.email
    user.firstname = data.firstname
    user.lastname = data.lastname
    _commit(session, lambda: UserExists("email", data.email))
    return user


def delete_user(session: Session, username: str) -> None:
    session.delete(get_user(session, username))
    session.commit()


def toggle_enabled(session: Session, username: str) -> User:
    user = get_user(session, username)
    user.enabled = not user.enabled
    session.commit()
    return user


def _check_email_free(session: Session, email: str) -> None:
    taken = session.scalar(select(func.count()).select_from(User).where(User.email == email))
    if taken:
        raise UserExists("email", email)


def _commit(session: Session, conflict: Callable[[], UserExists]) -> None:
    """Commit; losing a race for the same name or email surfaces as UserExists."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict() from None


def _which_exists(session: Session, username: str, email: str) -> UserExists:
    if session.get(User, username) is not None:
        return UserExists("username", username)
    return UserExists("email", email)
