"""Start the project's real processes on loopback and always stop them.

Each process gets its own log file (and, for `make run`, its output echoed line by line),
readiness is polled over HTTP, and a process that dies while starting is reported with the
end of its log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from .polling import poll_until

# What a child inherits from the process that starts it; everything else is set explicitly
# so that an X-Ray or database variable in the developer's shell never leaks into a test.
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


def child_env(extra: Mapping[str, str], *, inherit_all: bool = False) -> dict[str, str]:
    inherited = os.environ if inherit_all else INHERITED_ENV
    env = {key: os.environ[key] for key in inherited if key in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


# Called with a process's name and each line it prints.
Echo = Callable[[str, str], None]


@dataclass
class ProcessGroup:
    """Processes started together; `with` guarantees they are stopped.

    `inherit_environment`: the children see this process's whole environment under what
    they are given (`make run`, so DB_HOSTNAME and the like reach the services), instead of
    only INHERITED_ENV. `echo`: each line a child prints is passed to it, besides the log.
    """

    log_dir: Path
    inherit_environment: bool = False
    echo: Echo | None = None
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
        child = child_env(env, inherit_all=self.inherit_environment)
        if self.echo is None:
            with log_path.open("wb") as log:
                popen = subprocess.Popen(args, env=child, stdout=log, stderr=subprocess.STDOUT)
        else:
            popen = subprocess.Popen(
                args, env=child, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            assert popen.stdout is not None
            _relay(name, popen.stdout, log_path.open("wb"), self.echo)
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


def _relay(name: str, output: IO[bytes], log: IO[bytes], echo: Echo) -> None:
    """Copy a child's output to its log and to `echo`, line by line, until it closes."""

    def copy() -> None:
        with output, log:
            for line in output:
                log.write(line)
                log.flush()
                echo(name, line.decode(errors="replace").rstrip("\n"))

    threading.Thread(target=copy, name=f"relay-{name}", daemon=True).start()


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
