"""Start the project's real processes on loopback and always stop them.

One helper for every integration test: each process gets its own log file, readiness is
polled over HTTP, and a process that dies while starting fails the test with its log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from .polling import poll_until

# What a child inherits from the test runner; everything else is set explicitly so that
# an X-Ray or database variable in the developer's shell never leaks into a test.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")
LOG_TAIL_CHARS = 4000


@dataclass
class ServiceProcess:
    name: str
    port: int | None
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[str]:
        return self.log_text().splitlines()

    def is_running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        return self.popen.returncode


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {key: os.environ[key] for key in INHERITED_ENV if key in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class ProcessGroup:
    """Processes started for one test or module; `with` guarantees they are stopped."""

    log_dir: Path
    processes: list[ServiceProcess] = field(default_factory=list)

    def start(
        self,
        name: str,
        args: list[str],
        *,
        env: Mapping[str, str],
        port: int | None = None,
        ready_path: str | None = None,
        timeout: float = 30.0,
    ) -> ServiceProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(args, env=child_env(env), stdout=log, stderr=subprocess.STDOUT)
        process = ServiceProcess(name, port, popen, log_path)
        self.processes.append(process)
        if ready_path is not None:
            wait_until_ready(process, ready_path, timeout)
        return process

    def start_module(
        self,
        name: str,
        module: str,
        *,
        env: Mapping[str, str],
        port: int,
        ready_path: str,
        timeout: float = 30.0,
    ) -> ServiceProcess:
        """Run `python -m module` exactly as a user or an image does, on `port`."""
        full_env = {"HOST": "127.0.0.1", "PORT": str(port), **env}
        return self.start(
            name,
            [sys.executable, "-m", module],
            env=full_env,
            port=port,
            ready_path=ready_path,
            timeout=timeout,
        )

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


def wait_until_ready(process: ServiceProcess, path: str, timeout: float) -> None:
    def ready() -> bool:
        if not process.is_running():
            raise ProcessExited(process)
        return httpx.get(process.base_url + path, timeout=2.0).status_code == 200

    try:
        poll_until(
            ready, f"{process.name} to answer GET {path}", timeout=timeout, fatal=(ProcessExited,)
        )
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}\n--- {process.name} log ---\n{tail(process)}") from None


class ProcessExited(RuntimeError):
    def __init__(self, process: ServiceProcess) -> None:
        super().__init__(
            f"{process.name} exited with code {process.popen.returncode} while starting\n"
            f"--- {process.name} log ---\n{tail(process)}"
        )


def tail(process: ServiceProcess) -> str:
    return process.log_text()[-LOG_TAIL_CHARS:]
