"""Request and response bodies: the original service's JSON fields, validated."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from .passwords import MAX_BYTES, MIN_LENGTH, SPECIAL_CHARACTERS, policy_violations

Username = Annotated[
    str, StringConstraints(min_length=3, max_length=20, pattern=r"^[A-Za-z0-9._-]+$")
]
Email = Annotated[EmailStr, StringConstraints(max_length=100)]
FirstName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
LastName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


def _meets_policy(password: str) -> str:
    problems = policy_violations(password)
    if problems:
        raise ValueError("; ".join(problems))
    return password


Password = Annotated[
    str,
    AfterValidator(_meets_policy),
    Field(
        description=(
            f"At least {MIN_LENGTH} characters and at most {MAX_BYTES} bytes, with a digit, a "
            f"lower and an upper case letter and one of {SPECIAL_CHARACTERS}; no whitespace"
        )
    ),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "admin101",
                    "email": "admin101@example.com",
                    "role": "ROLE_ADMIN",
                    "enabled": True,
                    "firstname": "Fname101",
                    "lastname": "Lname101",
                    "password": "Pass@123",
                }
            ]
        }
    )

    username: Username
    password: Password
    email: Email
    role: Annotated[str, StringConstraints(min_length=1, max_length=50)] = "ROLE_USER"
    enabled: bool = True
    firstname: FirstName
    lastname: LastName = ""


class UserUpdate(BaseModel):
    """PUT /user changes email and names; other fields are ignored, as in the original."""

    username: Username
    email: Email
    firstname: FirstName
    lastname: LastName = ""


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    email: str
    role: str
    enabled: bool
    firstname: str
    lastname: str | None = Field(default=None)
