"""Request bodies for user management."""

from __future__ import annotations


def new_user(name: str) -> dict[str, str]:
    """A valid POST /usermgmt/user body for the user `name`."""
    return {
        "username": name,
        "email": f"{name}@example.com",
        "firstname": "Fn",
        "password": "Pass@123",
    }
