"""Request and response bodies: the original service's fields, validated."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from usermgmt.schemas import UserCreate, UserOut

VALID = {
    "username": "admin101",
    "email": "admin101@example.com",
    "firstname": "Fname101",
    "password": "Pass@123",
}


def test_defaults_are_the_original_services() -> None:
    user = UserCreate.model_validate(VALID)
    assert (user.role, user.enabled, user.lastname) == ("ROLE_USER", True, "")


def test_names_are_stripped_before_their_length_is_checked() -> None:
    user = UserCreate.model_validate({**VALID, "firstname": "  Ada  ", "lastname": " L "})
    assert (user.firstname, user.lastname) == ("Ada", "L")
    with pytest.raises(ValidationError):
        UserCreate.model_validate({**VALID, "firstname": "   "})


@pytest.mark.parametrize(
    "change",
    [
        {"username": "ab"},
        {"username": "a" * 21},
        {"username": "with space"},
        {"email": "x@" + "e" * 100 + ".com"},
        {"role": ""},
        {"password": "weak"},
    ],
)
def test_out_of_bounds_values_are_refused(change: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        UserCreate.model_validate({**VALID, **change})


def test_the_password_error_never_holds_the_password() -> None:
    with pytest.raises(ValidationError) as caught:
        UserCreate.model_validate({**VALID, "password": "NoDigitsSecret@"})
    assert "NoDigitsSecret@" not in str(caught.value.errors(include_input=False))


def test_a_user_out_has_no_password_field() -> None:
    assert "password" not in UserOut.model_fields
