"""Each request's subsegments land in its own segment, however its code runs.

The SDK's thread-local context mixes requests the event loop interleaves, and its
AsyncContext loses sync endpoints (thread pool) and breaks on uvloop. These tests run many
requests at once through a real app, with async code, gathered calls, thread-pool code and
uvloop, and check every subsegment against the request that made it.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx
import pytest
import uvloop
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from tests.support.tracer import TracerFactory, make_tracer
from tests.support.udp import SegmentCollector
from tests.support.upstream import Upstream
from tests.support.xray import http_subsegments, sql_subsegments
from tracing import Tracer, instrument_app, instrument_engine, traced_async_transport

REQUESTS = 60


@pytest.fixture
def tracer(new_tracer: TracerFactory) -> Tracer:
    return new_tracer()


def build_app(tracer: Tracer, upstream: Upstream, database_url: str) -> ASGIApp:
    app = FastAPI()
    client = httpx.AsyncClient(base_url=upstream.base_url, transport=traced_async_transport(tracer))
    engine = create_engine(database_url, connect_args={"check_same_thread": False})
    instrument_engine(engine, tracer)

    def query(tag: int) -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT :tag"), {"tag": tag}).scalar_one())

    @app.get("/async/{tag}")
    async def async_endpoint(tag: int) -> dict[str, int]:
        await asyncio.sleep(random.random() / 100)  # let other requests interleave
        await client.get(f"/upstream/{tag}")
        return {"tag": tag}

    @app.get("/gather/{tag}")
    async def gather_endpoint(tag: int) -> dict[str, int]:
        await asyncio.gather(*(client.get(f"/upstream/{tag}/{part}") for part in range(3)))
        return {"tag": tag}

    @app.get("/sync/{tag}")
    def sync_endpoint(tag: int) -> dict[str, int]:  # FastAPI runs it in the thread pool
        return {"tag": query(tag)}

    @app.get("/mixed/{tag}")
    async def mixed_endpoint(tag: int) -> dict[str, int]:
        value = await run_in_threadpool(query, tag)
        await client.get(f"/upstream/{tag}")
        return {"tag": value}

    return instrument_app(app, tracer)


async def fire(app: ASGIApp, paths: list[str]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await asyncio.gather(*(client.get(path) for path in paths))


def paths() -> list[str]:
    kinds = ["async", "gather", "sync", "mixed"]
    return [f"/{kinds[i % len(kinds)]}/{i}" for i in range(REQUESTS)]


def check_every_subsegment_belongs_to_its_request(
    collector: SegmentCollector, responses: list[httpx.Response]
) -> None:
    assert len({response.headers["X-Amzn-Trace-Id"] for response in responses}) == REQUESTS
    for response in responses:
        assert response.status_code == 200
        trace_id = response.headers["X-Amzn-Trace-Id"].removeprefix("Root=")
        [doc] = collector.wait_for_trace(trace_id, 1)
        kind, tag = doc["http"]["request"]["url"].split("/")[-2:]
        calls = http_subsegments(doc)
        queries = sql_subsegments(doc)
        # Every subsegment hangs directly off its own segment: none nested in a sibling.
        assert all(sub["parent_id"] == doc["id"] for sub in doc.get("subsegments", []))
        assert all(sub["trace_id"] == doc["trace_id"] for sub in calls + queries)
        upstream_paths = sorted(
            sub["http"]["request"]["url"].split("/upstream/")[1] for sub in calls
        )
        expected_calls = {
            "async": [tag],
            "gather": [f"{tag}/{part}" for part in range(3)],
            "sync": [],
            "mixed": [tag],
        }[kind]
        assert upstream_paths == expected_calls, doc
        assert len(queries) == (1 if kind in ("sync", "mixed") else 0), doc


def test_concurrent_requests_never_share_subsegments(
    tracer: Tracer, collector: SegmentCollector, upstream: Upstream, tmp_path: Path
) -> None:
    app = build_app(tracer, upstream, f"sqlite:///{tmp_path / 'db.sqlite'}")
    responses = asyncio.run(fire(app, paths()))
    check_every_subsegment_belongs_to_its_request(collector, responses)


def test_the_same_holds_under_uvloop(
    tracer: Tracer, collector: SegmentCollector, upstream: Upstream, tmp_path: Path
) -> None:
    app = build_app(tracer, upstream, f"sqlite:///{tmp_path / 'db.sqlite'}")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        responses = runner.run(fire(app, paths()))
    check_every_subsegment_belongs_to_its_request(collector, responses)


def test_the_tracer_can_be_created_before_any_event_loop_exists(
    collector: SegmentCollector,
) -> None:
    """The SDK's AsyncContext needs a running loop at creation; ours is made at import."""
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    tracer = make_tracer(collector)
    tracer.close()
