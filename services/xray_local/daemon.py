"""Run the daemon: bind its sockets first (a clear error if taken), then serve UDP intake and
HTTP (the X-Ray API and page, and OTLP/HTTP on its own address) from one event loop, with a
housekeeping tick for retention and analysis."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import __version__
from .api import XRayApi
from .config import Settings
from .intake import Ingestor, UdpIntake
from .otlp import OtlpApp, OtlpIntake
from .sampling import SAMPLE_EVERYTHING, RulesError, Sampling, load_rules
from .store import Store
from .upstream import Upstream
from .web import MissingPageFiles, Web, load_page_files

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 1.0
# Changed traces are analysed in the background in chunks of about 5 ms, so that intake
# always gets its turn; a trace's documents arrive together, so a change waits a moment.
ANALYSIS_SECONDS = 0.05
ANALYSIS_CHUNK = 200
SETTLE_SECONDS = 0.1
EVICTION_CHUNK = 1000
# The store keeps its records untracked by the garbage collector (see documents.py), all but
# two objects a trace. The full collection, which walks those, runs on this schedule rather
# than whenever the heap has grown a quarter: with a large store at full intake that was
# several stalls a second.
FULL_COLLECTION_SECONDS = 60.0
AUTOMATIC_FULL_COLLECTIONS_OFF = 1_000_000_000
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def run(settings: Settings) -> int:
    try:
        rules = (
            load_rules(settings.sampling_rules) if settings.sampling_rules else [SAMPLE_EVERYTHING]
        )
        files = load_page_files()
    except (RulesError, MissingPageFiles) as exc:
        print(f"xray_local: {exc}", file=sys.stderr)
        return 2
    try:
        udp = UdpIntake.bind(settings.udp.host, settings.udp.port)
    except OSError as exc:
        print(
            f"xray_local: cannot listen on UDP {settings.udp}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    tcp_sockets: list[socket.socket] = []
    otlp = settings.otlp.address
    for address, what in ((settings.tcp, "TCP"), (otlp, "TCP for OTLP/HTTP")):
        if address is None:
            continue
        try:
            tcp_sockets.append(_bind_tcp(address.host, address.port))
        except OSError as exc:
            for sock in (udp, *tcp_sockets):
                sock.close()
            print(
                f"xray_local: cannot listen on {what} {address}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 1
    daemon = Daemon(settings, Sampling(rules), files)
    _tune_garbage_collection()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(daemon.serve(udp, *tcp_sockets))
    return 0


class Daemon:
    def __init__(self, settings: Settings, sampling: Sampling, files: dict[str, bytes]) -> None:
        self.settings = settings
        self.started = time.time()
        self.store = Store(settings.retention)
        self.ingestor = Ingestor(self.store, settings.max_document_bytes)
        self.sampling = sampling
        self.upstream = (
            Upstream(settings.upstream.host, settings.upstream.port) if settings.upstream else None
        )
        self.api = XRayApi(self.store, sampling, self.ingestor, settings.api_token)
        self.web = Web(files, self.status, self.api.authorize)
        self.otlp = OtlpIntake(self.ingestor, settings.otlp)
        self.intake: UdpIntake | None = None

    def app(self, otlp_port: int | None = None) -> ASGIApp:
        """The X-Ray API and page; and OTLP/HTTP for connections to `otlp_port`."""
        api = self._api_app()
        return api if otlp_port is None else ByPort(api, OtlpApp(self.otlp), otlp_port)

    def _api_app(self) -> Starlette:
        web = self.web
        return Starlette(
            routes=[
                Route("/", web.index),
                Route("/health", web.health),
                Route("/stats", web.stats),
                Route("/static/{name}", web.static),
                Route("/{path:path}", self.api.endpoint, methods=ALL_METHODS),
            ]
        )

    async def serve(
        self, udp: socket.socket, tcp: socket.socket, otlp: socket.socket | None = None
    ) -> None:
        if self.upstream is not None:
            await self.upstream.start()
        self.intake = UdpIntake(udp, self.ingestor, self.upstream, self.otlp)
        self.intake.start(asyncio.get_running_loop())
        tasks = [
            asyncio.create_task(self._housekeeping(), name="housekeeping"),
            asyncio.create_task(self._analysis(), name="analysis"),
        ]
        otlp_port = otlp.getsockname()[1] if otlp is not None else None
        server = uvicorn.Server(
            uvicorn.Config(
                self.app(otlp_port),
                log_config=None,
                access_log=self.settings.log_level == "DEBUG",
                lifespan="off",
                server_header=False,
                ws="none",
            )
        )
        log.info(
            "xray_local %s: segments on UDP %s (receive buffer %d KB), X-Ray API on TCP %s",
            __version__,
            self.settings.udp,
            self.intake.receive_buffer_bytes // 1024,
            self.settings.tcp,
        )
        if otlp is not None:
            log.info("OTLP/HTTP spans on %s (POST /v1/traces)", self.settings.otlp.address)
        log.info("service map: %s", self.settings.tcp.local_url)
        if self.settings.api_token is not None:
            # Never the token itself: the log is no place for a credential.
            log.info(
                "the API requires its token; open the page as %s#token=<token>",
                self.settings.tcp.local_url,
            )
        # uvicorn re-raises the signal that stopped it once it is done; with these handlers
        # that ends in a normal return, so the sockets are closed and the exit code is 0.
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, lambda number, frame: None)
        try:
            await server.serve(sockets=[tcp] if otlp is None else [tcp, otlp])
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.intake.close()
            if self.upstream is not None:
                await self.upstream.close()
            log.info("stopped")

    async def _housekeeping(self) -> None:
        last_full_collection = time.monotonic()
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            try:
                while self.store.expire(EVICTION_CHUNK) == EVICTION_CHUNK:
                    await asyncio.sleep(0)  # intake and queries go on between chunks
                if time.monotonic() - last_full_collection >= FULL_COLLECTION_SECONDS:
                    gc.collect()
                    last_full_collection = time.monotonic()
            except Exception:  # a bug here must not stop the daemon: log it, keep going
                log.exception("housekeeping failed")

    async def _analysis(self) -> None:
        while True:
            await asyncio.sleep(ANALYSIS_SECONDS)
            try:
                while self.store.flush(ANALYSIS_CHUNK, SETTLE_SECONDS) == ANALYSIS_CHUNK:
                    await asyncio.sleep(0)
            except Exception:
                log.exception("analysing traces failed")

    def status(self) -> dict[str, Any]:
        counters = self.ingestor.counters
        store = self.store
        return {
            "version": __version__,
            "uptime_seconds": round(time.time() - self.started, 1),
            "udp": str(self.settings.udp),
            "tcp": str(self.settings.tcp),
            "intake": {
                "datagrams": counters.datagrams,
                "documents": counters.documents,
                "rejected": dict(counters.rejected),
                "max_document_bytes": self.ingestor.max_document_bytes,
            },
            "store": {
                "traces": store.trace_count,
                "documents": store.document_count,
                "approximate_bytes": store.approximate_bytes,
                **asdict(store.stats),
                "limits": asdict(store.retention),
            },
            "otlp": self.otlp.status(),
            "api": self.api.status(),
            "sampling": {
                name: {**asdict(stats), "clients": len(stats.clients)}
                for name, stats in self.sampling.statistics.items()
            },
            "upstream": (
                {"address": str(self.upstream), **asdict(self.upstream.counters)}
                if self.upstream is not None
                else None
            ),
        }


class ByPort:
    """Sends each connection to the application for the port it came in on."""

    def __init__(self, main: ASGIApp, other: ASGIApp, other_port: int) -> None:
        self.main, self.other, self.other_port = main, other, other_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        app = self.other if server is not None and server[1] == self.other_port else self.main
        await app(scope, receive, send)


def _tune_garbage_collection() -> None:
    gc.collect()
    gc.freeze()  # what start-up loaded lives as long as the process: never look at it again
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, AUTOMATIC_FULL_COLLECTIONS_OFF)


def _bind_tcp(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # uvicorn[standard] brings it; plain asyncio works too, slower
        return None
    return uvloop.new_event_loop
