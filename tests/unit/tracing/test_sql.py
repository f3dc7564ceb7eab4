"""SQL statements: one remote subsegment each, placeholders only, never duplicated."""

from __future__ import annotations

import json
import logging
import urllib.parse
from pathlib import Path

import pytest
from aws_xray_sdk.core.exceptions.exceptions import SegmentNotFoundException
from sqlalchemy import Integer, String, create_engine, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from devstack.ports import refusing_port
from tests.support.tracer import TracerFactory, request_segment
from tests.support.udp import Document, SegmentCollector
from tests.support.xray import sql_subsegments
from tracing import Segment, Tracer, instrument_engine

SECRET = "s3cr3t-value"


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


def engine_for(tracer: Tracer, tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'items.db'}")
    Base.metadata.create_all(engine)
    instrument_engine(engine, tracer)
    return engine


def documents(collector: SegmentCollector, segment: Segment) -> list[Document]:
    return collector.wait_for_trace(segment.trace_id, 1)


@pytest.fixture
def tracer(new_tracer: TracerFactory) -> Tracer:
    return new_tracer()


@pytest.fixture
def engine(tracer: Tracer, tmp_path: Path) -> Engine:
    """A SQLite file with the items table, its statements recorded by `tracer`."""
    return engine_for(tracer, tmp_path)


def test_each_statement_is_one_subsegment_without_values(
    tracer: Tracer, engine: Engine, collector: SegmentCollector
) -> None:
    with request_segment(tracer) as segment, Session(engine) as session:
        session.execute(insert(Item).values(name=SECRET))  # ORM Session.execute
        session.commit()
        session.scalars(select(Item).where(Item.name == SECRET)).all()
    [doc] = documents(collector, segment)
    queries = sql_subsegments(doc)
    assert [q["sql"]["sanitized_query"].split()[0] for q in queries] == ["INSERT", "SELECT"]
    for query in queries:
        assert query["name"] == "items@localhost"
        assert query["namespace"] == "remote"
        assert query["parent_id"] == doc["id"]
        assert SECRET not in str(query)
        assert "?" in query["sql"]["sanitized_query"]
        assert query["sql"]["database_type"] == "SQLite"
        assert query["sql"]["url"].startswith("sqlite:///")


def test_executemany_is_one_subsegment(
    tracer: Tracer, engine: Engine, collector: SegmentCollector
) -> None:
    with request_segment(tracer) as segment, engine.begin() as conn:
        conn.execute(insert(Item), [{"name": f"n{i}"} for i in range(20)])
    [doc] = documents(collector, segment)
    assert len(sql_subsegments(doc)) == 1


def test_many_statements_stream_out_and_nothing_grows(
    tracer: Tracer, engine: Engine, collector: SegmentCollector
) -> None:
    """The SDK's patch appended to urllib.parse.uses_netloc on every query."""
    netloc_schemes = len(urllib.parse.uses_netloc)
    with request_segment(tracer) as segment, engine.connect() as conn:
        for _ in range(300):
            conn.execute(text("SELECT 1"))
    docs = collector.wait_for(
        lambda d: (
            sum(
                len(sql_subsegments(x)) + ("sql" in x)
                for x in d
                if x["trace_id"] == segment.trace_id
            )
            >= 300
        ),
        "300 SQL subsegments",
    )
    mine = [d for d in docs if d["trace_id"] == segment.trace_id]
    assert sum(len(sql_subsegments(d)) + ("sql" in d) for d in mine) == 300
    assert len(urllib.parse.uses_netloc) == netloc_schemes


def test_a_failing_statement_is_a_fault_with_its_cause(
    tracer: Tracer, engine: Engine, collector: SegmentCollector
) -> None:
    with request_segment(tracer) as segment, engine.connect() as conn:
        with pytest.raises(OperationalError):
            conn.execute(text("SELECT * FROM no_such_table"))
    [doc] = documents(collector, segment)
    [query] = sql_subsegments(doc)
    assert query["fault"] is True
    [exception] = query["cause"]["exceptions"]
    assert (exception["type"], exception["message"]) == (
        "OperationalError",
        "OperationalError SQLITE_ERROR",
    )


def test_a_database_that_cannot_be_reached_is_a_fault(
    new_tracer: TracerFactory, collector: SegmentCollector, tmp_path: Path
) -> None:
    tracer = new_tracer()
    engine = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    instrument_engine(engine, tracer)
    with request_segment(tracer) as segment:
        with pytest.raises(OperationalError):
            engine.connect()
    [doc] = documents(collector, segment)
    [query] = sql_subsegments(doc)
    assert query["fault"] is True and query["name"] == "x@localhost"


def test_a_failed_statement_records_the_error_class_and_code_not_the_values(
    new_tracer: TracerFactory, collector: SegmentCollector, tmp_path: Path
) -> None:
    """SQLite, like MySQL ("Duplicate entry 'x' for key 'email'"), can put values in its
    messages: only the error's class and code reach the trace."""
    tracer = new_tracer()
    engine = create_engine(f"sqlite:///{tmp_path / 'unique.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE people (email TEXT UNIQUE)"))
        conn.execute(text("INSERT INTO people VALUES (:email)"), {"email": SECRET})
    instrument_engine(engine, tracer)
    with request_segment(tracer) as segment, pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO people VALUES (:email)"), {"email": SECRET})
    [doc] = documents(collector, segment)
    [query] = sql_subsegments(doc)
    [exception] = query["cause"]["exceptions"]
    assert query["fault"] is True
    assert exception["type"] == "IntegrityError"
    assert exception["message"] == "IntegrityError SQLITE_CONSTRAINT_UNIQUE"
    assert exception["stack"]  # where it failed is kept: it holds no values
    assert SECRET not in json.dumps(doc)


def test_the_recorded_url_never_carries_the_password(
    new_tracer: TracerFactory, collector: SegmentCollector
) -> None:
    tracer = new_tracer()
    with refusing_port() as port:
        engine = create_engine(
            f"mysql+pymysql://bob:{SECRET}@127.0.0.1:{port}/shop"
            f"?charset=utf8mb4&password={SECRET}&ssl_key=/k/{SECRET}.pem"
        )
        instrument_engine(engine, tracer)
        with request_segment(tracer) as segment, pytest.raises(OperationalError):
            engine.connect()
    [doc] = documents(collector, segment)
    [query] = sql_subsegments(doc)
    assert query["name"] == "shop@127.0.0.1"
    # Drivers take credentials from the query string too: none of it is recorded.
    assert query["sql"]["url"] == f"mysql+pymysql://bob@127.0.0.1:{engine.url.port}/shop"
    assert query["sql"]["user"] == "bob"
    assert SECRET not in json.dumps(doc)


@pytest.mark.parametrize("strategy", ["RUNTIME_ERROR", "LOG_ERROR", "IGNORE_ERROR"])
def test_outside_any_segment_the_sdk_strategy_applies(
    new_tracer: TracerFactory,
    collector: SegmentCollector,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    strategy: str,
) -> None:
    tracer = new_tracer(AWS_XRAY_CONTEXT_MISSING=strategy)
    engine = engine_for(tracer, tmp_path)
    with caplog.at_level(logging.DEBUG), engine.connect() as conn:
        if strategy == "RUNTIME_ERROR":
            with pytest.raises(SegmentNotFoundException):
                conn.execute(text("SELECT 1"))
        else:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    expected = {
        "RUNTIME_ERROR": [],
        "LOG_ERROR": [
            "cannot find the current segment/subsegment, please make sure you have a segment open"
        ],
        "IGNORE_ERROR": [],
    }
    assert problems == expected[strategy]


def test_untraced_work_runs_under_every_strategy(
    new_tracer: TracerFactory, collector: SegmentCollector, tmp_path: Path
) -> None:
    tracer = new_tracer(AWS_XRAY_CONTEXT_MISSING="RUNTIME_ERROR")
    engine = engine_for(tracer, tmp_path)
    with tracer.untraced(), engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
