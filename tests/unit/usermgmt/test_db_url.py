"""The database URL as logged: every credential form SQLAlchemy accepts is hidden."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from usermgmt.db import Database

SECRET = "s3cr3t-Canary"


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        (
            f"mysql+pymysql://bob:{SECRET}@db:3306/users",
            "mysql+pymysql://bob:***@db:3306/users",
        ),
        (  # percent-encoded in the URL, decoded by SQLAlchemy
            "mysql+pymysql://bob:s3cr3t%40Canary@db/users",
            "mysql+pymysql://bob:***@db/users",
        ),
        (  # drivers take connect() arguments from the query string
            f"mysql+pymysql://bob@db/users?charset=utf8mb4&password={SECRET}",
            "mysql+pymysql://bob@db/users?charset=utf8mb4&password=REDACTED",
        ),
        (
            f"mysql+pymysql://bob@db/users?passwd={SECRET}&ssl_key=/keys/{SECRET}.pem",
            "mysql+pymysql://bob@db/users?passwd=REDACTED&ssl_key=REDACTED",
        ),
        (  # pyodbc's raw connection string, and repeated keys
            f"mssql+pyodbc:///?odbc_connect=DRIVER%3Dx%3BPWD%3D{SECRET}&token=a&token={SECRET}",
            "mssql+pyodbc:///?odbc_connect=REDACTED&token=REDACTED&token=REDACTED",
        ),
    ],
)
def test_the_logged_url_hides_every_credential(url: str, logged: str) -> None:
    described = Database.describe_url(make_url(url))
    assert described == logged
    assert SECRET not in described and "s3cr3t" not in described
