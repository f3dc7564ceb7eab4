"""The original service's password policy, and bcrypt hashing."""

from __future__ import annotations

import bcrypt

MIN_LENGTH = 8
SPECIAL_CHARACTERS = "!@#$%^&*"
# bcrypt only reads the first 72 bytes; a longer password would be silently shortened.
MAX_BYTES = 72


def policy_violations(password: str) -> list[str]:
    """Everything wrong with `password`, as short phrases; empty when it is acceptable.

    The length comes first, and a password that is too long is not scanned: it may be
    megabytes long, and every character is at least one byte.
    """
    if len(password) > MAX_BYTES or len(password.encode()) > MAX_BYTES:
        return [f"must be at most {MAX_BYTES} bytes"]
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if not any(c in "0123456789" for c in password):
        problems.append("must contain a digit")
    if not any("a" <= c <= "z" for c in password):
        problems.append("must contain a lower case letter")
    if not any("A" <= c <= "Z" for c in password):
        problems.append("must contain an upper case letter")
    if not any(c in SPECIAL_CHARACTERS for c in password):
        problems.append(f"must contain one of {SPECIAL_CHARACTERS}")
    if any(c.isspace() for c in password):
        problems.append("must not contain whitespace")
    return problems


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode(), hashed.encode())
