"""The `sql` block: awsxrayexporter's sql.go (makeSQL), with `exporter.awsxray.EmitV1DB
Conventions` at its default (off): the database attributes are the v1.12 ones (`db.system`,
`db.name`, `db.statement`, `db.user`, `db.connection_string`), which OpenTelemetry's Python
database instrumentations still send by default.
"""

from __future__ import annotations

from typing import Any

from .values import Attributes, as_str

SQL_SYSTEMS = frozenset(
    ("db2", "mssql", "oracle", "derby", "hive", "mariadb", "mysql", "other_sql")
    + ("postgresql", "sqlite", "teradata")
)
FIELDS = {
    "db.connection_string": "connection_string",
    "db.system": "database_type",
    "db.name": "instance",
    "db.statement": "sanitized_query",
    "db.user": "user",
}


def make_sql(span_name: str, attributes: Attributes) -> tuple[Attributes, dict[str, Any] | None]:
    """(the attributes left over, the sql block or None when the span is not an SQL call)."""
    if as_str(attributes.get("db.system")) not in SQL_SYSTEMS:
        return attributes, None  # no database attributes, or not an SQL database
    found = {FIELDS[key]: as_str(value) for key, value in attributes.items() if key in FIELDS}
    filtered = {key: value for key, value in attributes.items() if key not in FIELDS}
    sql = {
        # "Despite what the X-Ray documents say, having the DB connection string set as the
        # URL value of the segment is not useful", so the exporter uses the span name.
        "url": span_name,
        "connection_string": f"{found.get('connection_string') or 'localhost'}/"
        f"{found.get('instance', '')}",
        "database_type": found["database_type"],
        "user": found.get("user", ""),
        "sanitized_query": found.get("sanitized_query", ""),
    }
    return filtered, {key: value for key, value in sql.items() if value != ""}
