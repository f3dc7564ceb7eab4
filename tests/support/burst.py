"""Many HTTP requests at the same moment, each on its own connection, from raw sockets.

A few hundred httpx clients in one test process spend more CPU than the service under test;
a request written by hand and a response read to the end of its connection cost almost none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (the connection failed or closed first)
    seconds: float
    headers: dict[str, str]
    body: bytes


async def _one(host: str, port: int, path: str, timeout: float) -> Answer:
    started = time.monotonic()
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(request.encode())
                raw = await reader.read(-1)
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return Answer(0, time.monotonic() - started, {}, b"")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status, time.monotonic() - started, headers, body)


def burst(
    host: str,
    port: int,
    path: str,
    count: int,
    timeout: float = 30.0,
    on_answer: Callable[[Answer], None] | None = None,
) -> list[Answer]:
    """`count` GETs of `path`, all sent at once; every answer, in no particular order.
    `on_answer` sees each one as it comes."""

    async def one() -> Answer:
        answer = await _one(host, port, path, timeout)
        if on_answer is not None:
            on_answer(answer)
        return answer

    async def all_at_once() -> list[Answer]:
        return list(await asyncio.gather(*(one() for _ in range(count))))

    return asyncio.run(all_at_once())
