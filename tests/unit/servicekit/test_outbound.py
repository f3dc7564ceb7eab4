"""The guarded transport: a bounded number of calls, refused beyond it, connections kept
alive and lent one call at a time, and none that a cancelled call can wedge
(encode/httpcore#1093)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

import anyio
import httpx
import pytest

from servicekit.outbound import GuardedTransport, Saturated
from tests.support.held_upstream import HeldUpstream, held_upstream

pytestmark = pytest.mark.anyio
CONNECTIONS = 4
# Generous: these only stop a test that hangs; nothing here is meant to take that long.
HANG_GUARD_SECONDS = 10


@pytest.fixture
def upstream() -> Iterator[HeldUpstream]:
    with held_upstream() as server:
        yield server


async def leak_slots(client: httpx.AsyncClient, upstream: HeldUpstream, count: int) -> None:
    """httpcore#1093's recipe: `count` calls hold the connections; as each one ends, the call
    queued behind it is cancelled right after the pool handed it a new connection."""
    queued: list[asyncio.Task[httpx.Response]] = []

    async def held_then_cancel_the_next() -> None:
        try:
            await client.get("/held")
        finally:
            if queued:
                queued.pop().cancel()  # before it runs: it owns its connection, unused

    holders = {asyncio.create_task(held_then_cancel_the_next()) for _ in range(count)}
    while upstream.waiting < count:
        await settle(holders, timeout=0.05)
    while holders:
        queued.append(asyncio.create_task(client.get("/queued")))
        for _ in range(3):  # let it run until it waits for a connection (or is refused)
            await asyncio.sleep(0)
        upstream.release()  # lets one holder go, whichever it is
        while not (ended := await settle(holders, timeout=0.05)):
            pass
        holders -= ended
    await asyncio.gather(*queued, return_exceptions=True)


async def settle(holders: set[asyncio.Task[None]], timeout: float) -> set[asyncio.Task[None]]:
    """The holders that have ended within `timeout`; one that failed says why."""
    done, _ = await asyncio.wait(holders, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for holder in done:
        holder.result()
    return done


async def test_calls_beyond_its_connections_are_refused_at_once(upstream: HeldUpstream) -> None:
    guarded = GuardedTransport(CONNECTIONS)
    async with httpx.AsyncClient(base_url=upstream.base_url, transport=guarded) as client:
        with anyio.fail_after(HANG_GUARD_SECONDS):
            held = [asyncio.create_task(client.get("/held")) for _ in range(CONNECTIONS)]
            await anyio.to_thread.run_sync(upstream.wait_for_waiting, CONNECTIONS)
            with pytest.raises(Saturated, match=f"all {CONNECTIONS} connections are in use"):
                await client.get("/one-more")
            assert upstream.answered == 0  # refused, not sent
            upstream.release(CONNECTIONS)
            assert [r.status_code for r in await asyncio.gather(*held)] == [200] * CONNECTIONS
            assert (await client.get("/again")).status_code == 200
    assert guarded.calls_in_flight == 0


async def test_a_call_keeps_its_place_until_its_response_is_closed(
    upstream: HeldUpstream,
) -> None:
    guarded = GuardedTransport(1)
    async with httpx.AsyncClient(base_url=upstream.base_url, transport=guarded) as client:
        async with client.stream("GET", "/streamed") as response:
            assert response.status_code == 200
            with pytest.raises(Saturated):
                await client.get("/while-streaming")
        assert guarded.calls_in_flight == 0
        assert (await client.get("/after")).status_code == 200


async def test_cancelled_calls_cannot_wedge_it(upstream: HeldUpstream) -> None:
    guarded = GuardedTransport(CONNECTIONS)
    async with httpx.AsyncClient(base_url=upstream.base_url, transport=guarded) as client:
        with anyio.fail_after(HANG_GUARD_SECONDS):
            for _ in range(3):
                await leak_slots(client, upstream, CONNECTIONS)
            answers = await asyncio.gather(*(client.get("/after") for _ in range(CONNECTIONS)))
    assert [r.status_code for r in answers] == [200] * CONNECTIONS
    assert guarded.calls_in_flight == 0


async def test_a_connection_is_kept_alive_and_lent_again() -> None:
    with held_upstream(keep_alive=True) as upstream:
        guarded = GuardedTransport(CONNECTIONS)
        async with httpx.AsyncClient(base_url=upstream.base_url, transport=guarded) as client:
            for _ in range(5):
                assert (await client.get("/again")).status_code == 200
            assert guarded.idle_connections == 1
    assert len(upstream.connections) == 1 and guarded.opened == 1


async def test_a_connection_whose_call_was_cancelled_is_never_lent_again() -> None:
    with held_upstream(keep_alive=True) as upstream:
        guarded = GuardedTransport(CONNECTIONS)
        async with httpx.AsyncClient(base_url=upstream.base_url, transport=guarded) as client:
            assert (await client.get("/first")).status_code == 200
            with anyio.fail_after(HANG_GUARD_SECONDS):
                held = asyncio.create_task(client.get("/held"))
                await anyio.to_thread.run_sync(upstream.wait_for_waiting, 1)
                held.cancel()  # mid-call: the connection's state is anyone's guess
                with pytest.raises(asyncio.CancelledError):
                    await held
            upstream.release()
            assert guarded.calls_in_flight == 0 and guarded.idle_connections == 0
            assert (await client.get("/after")).status_code == 200
    assert guarded.opened == 2 and len(upstream.connections) == 2


class ImportWatcher:
    """A meta path finder that finds nothing and notes every module looked for: an import
    of a module already loaded never reaches it, a failed import does, each time."""

    def __init__(self) -> None:
        self.looked_for: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        self.looked_for.append(fullname)
        return None


async def test_a_warm_call_imports_nothing() -> None:
    # httpcore imports sniffio inside every lock, event and cancellation shield it makes;
    # without sniffio installed each of those imports fails and searches the whole path
    # again: a seventh of user management's CPU under load.
    watcher = ImportWatcher()
    with held_upstream(keep_alive=True) as upstream:
        async with httpx.AsyncClient(
            base_url=upstream.base_url, transport=GuardedTransport(CONNECTIONS)
        ) as client:
            assert (await client.get("/warm-up")).status_code == 200
            sys.meta_path.insert(0, watcher)
            try:
                for _ in range(3):
                    assert (await client.get("/warm")).status_code == 200
            finally:
                sys.meta_path.remove(watcher)
    assert watcher.looked_for == []
