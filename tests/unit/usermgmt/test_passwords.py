"""The original service's password policy, and bcrypt hashing."""

from __future__ import annotations

import pytest

from usermgmt.passwords import hash_password, policy_violations, verify_password


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Pass@123", []),
        ("Sh@rt1", ["must be at least 8 characters"]),
        ("NoDigits@here", ["must contain a digit"]),
        ("UPPER@123", ["must contain a lower case letter"]),
        ("lower@123", ["must contain an upper case letter"]),
        ("NoSpecial123", ["must contain one of !@#$%^&*"]),
        ("Has Space@123", ["must not contain whitespace"]),
        ("Tab\tin@Pass1", ["must not contain whitespace"]),
        ("Aa1@" + "x" * 69, ["must be at most 72 bytes"]),
        (
            "",
            [
                "must be at least 8 characters",
                "must contain a digit",
                "must contain a lower case letter",
                "must contain an upper case letter",
                "must contain one of !@#$%^&*",
            ],
        ),
    ],
)
def test_each_rule_is_reported_on_its_own(password: str, problems: list[str]) -> None:
    assert policy_violations(password) == problems


def test_seventy_two_bytes_is_the_limit_not_seventy_two_characters() -> None:
    """bcrypt reads 72 bytes: a password of multi-byte characters reaches it sooner."""
    assert policy_violations("Aa1@" + "x" * 68) == []  # 72 bytes
    assert "must be at most 72 bytes" in policy_violations("Aa1@" + "é" * 35)  # 39 chars


def test_a_hash_verifies_its_password_only() -> None:
    hashed = hash_password("Pass@123", rounds=4)
    assert hashed.startswith("$2b$04$") and "Pass@123" not in hashed
    assert verify_password("Pass@123", hashed)
    assert not verify_password("Pass@124", hashed)
    assert hash_password("Pass@123", rounds=4) != hashed  # salted
