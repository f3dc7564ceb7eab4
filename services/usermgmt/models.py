"""The `users` table, in the shape the original service's Hibernate entity created."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    pass


class FlexibleBoolean(TypeDecorator[bool]):
    """BOOLEAN for new tables; also reads the BIT(1) column Hibernate created for the original
    service, which PyMySQL returns as bytes (where b"\\x00" would otherwise read as True)."""

    impl = Boolean
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        def process(value: Any) -> bool | None:
            if value is None:
                return None
            if isinstance(value, bytes | bytearray):
                return int.from_bytes(value, "big") != 0
            return bool(value)

        return process


class User(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(20), primary_key=True)
    password: Mapped[str] = mapped_column(String(100))  # bcrypt hash, never returned
    enabled: Mapped[bool] = mapped_column(FlexibleBoolean)
    role: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(100), unique=True)
    firstname: Mapped[str] = mapped_column(String(20))
    lastname: Mapped[str | None] = mapped_column(String(20), nullable=True)
