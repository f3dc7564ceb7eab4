"""MySQL's own error messages quote the data ("Duplicate entry 'a@example.com' for key
'email'"): over a real MariaDB, what reaches the trace is the error's class and code."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from tests.support.mariadb import ScratchDatabase
from tests.support.tracer import make_tracer, request_segment
from tests.support.udp import SegmentCollector
from tests.support.xray import sql_subsegments
from tracing import instrument_engine

CANARY = "canary-7f3a@example.com"


def test_a_duplicate_key_is_recorded_as_its_class_and_code(
    database: ScratchDatabase, collector: SegmentCollector
) -> None:
    server = create_engine(
        f"mysql+pymysql://{database.user}:{database.password}@{database.host}:{database.port}/",
        poolclass=NullPool,
    )
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{database.name}`"))
    server.dispose()
    engine = create_engine(
        f"mysql+pymysql://{database.user}:{database.password}@{database.host}:{database.port}"
        f"/{database.name}",
        poolclass=NullPool,
    )
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE people (email VARCHAR(100) UNIQUE)"))
        conn.execute(text("INSERT INTO people VALUES (:email)"), {"email": CANARY})
    tracer = make_tracer(collector)
    instrument_engine(engine, tracer)
    try:
        with request_segment(tracer) as segment, pytest.raises(IntegrityError) as raised:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO people VALUES (:email)"), {"email": CANARY})
        assert CANARY in str(raised.value.orig)  # the driver's message does quote it
        [doc] = collector.wait_for_trace(segment.trace_id, 1)
    finally:
        tracer.close()
        engine.dispose()
    [insert] = [q for q in sql_subsegments(doc) if "cause" in q]
    [exception] = insert["cause"]["exceptions"]
    assert (exception["type"], exception["message"]) == ("IntegrityError", "IntegrityError 1062")
    assert CANARY not in json.dumps(doc)
    assert CANARY not in json.dumps(collector.documents)  # nor anywhere else it was sent
