"""Headless Chromium: a page's DOM after its scripts ran, a screenshot of it for people, or
a value worked out in the page (its rendered geometry) over the DevTools protocol.

    python -m tests.support.chromium screenshot http://127.0.0.1:2000/ map.png

Uses Debian's `chromium` package, each run with a fresh profile and nothing that phones
home. Virtual time lets the page's fetches and timers run before the DOM is read, so no
sleep is needed and the wait cannot be too short.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from devstack.polling import poll_until

NAMES = ("chromium", "chromium-browser", "google-chrome")
HOW_TO_INSTALL = "install it with: apt-get update && apt-get install -y chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
TIMEOUT_SECONDS = 90
DEFAULT_BUDGET_MS = 5000


class ChromiumUnavailable(RuntimeError):
    pass


def chromium_path() -> str:
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumUnavailable(f"headless Chromium is needed but not installed; {HOW_TO_INSTALL}")


def run_chromium(url: str, *flags: str, budget_ms: int = DEFAULT_BUDGET_MS) -> str:
    """Run Chromium on `url` with `flags`; returns what it printed (the DOM for --dump-dom)."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            chromium_path(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            *flags,
            url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    if result.returncode != 0:
        raise RuntimeError(
            f"chromium exited with {result.returncode} on {url}: {result.stderr[-2000:]}"
        )
    return result.stdout


def dump_dom(url: str, budget_ms: int = DEFAULT_BUDGET_MS) -> str:
    return run_chromium(url, "--dump-dom", budget_ms=budget_ms)


def screenshot(
    url: str,
    path: Path,
    *,
    width: int = 1400,
    height: int = 1000,
    budget_ms: int = DEFAULT_BUDGET_MS,
) -> Path:
    run_chromium(
        url,
        f"--screenshot={path.resolve()}",
        f"--window-size={width},{height}",
        budget_ms=budget_ms,
    )
    if not path.exists() or path.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot of {url} to {path}")
    return path


def evaluate(
    url: str, expression: str, *, width: int = 1400, height: int = 1000, timeout: float = 60
) -> Any:
    """The JSON value of `expression` (a promise is awaited) in `url` once loaded, in a
    window of this size: how a test reads what the browser really rendered."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            chromium_path(),
            *FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",  # the port it picked is written to the profile
            f"--window-size={width},{height}",
            "about:blank",
        ]
        # Its own process group: its renderer and helper processes end with it.
        browser = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            lines = poll_until(
                lambda: _port_and_path(port_file), "chromium's DevTools port", timeout=30
            )
            address = f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            with connect(address, max_size=None, open_timeout=10) as socket:
                return DevTools(socket, time.monotonic() + timeout).evaluate(url, expression)
        finally:
            _stop(browser)


def _stop(browser: subprocess.Popen[bytes]) -> None:
    """End the browser and every process it started (they share its process group), before
    its profile folder is removed."""
    for stop_signal in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(browser.pid, stop_signal)
        except ProcessLookupError:
            break
        try:
            poll_until(lambda: _group_gone(browser), "chromium's processes to end", timeout=10)
            break
        except TimeoutError:
            continue
    browser.wait(timeout=10)


def _group_gone(browser: subprocess.Popen[bytes]) -> bool:
    browser.poll()  # reaps the browser itself, so that its group can go
    try:
        os.killpg(browser.pid, 0)
    except ProcessLookupError:
        return True
    return False


def _port_and_path(port_file: Path) -> list[str] | None:
    """The two lines Chromium writes once it listens, when both are there."""
    lines = port_file.read_text().split() if port_file.exists() else []
    return lines if len(lines) >= 2 else None


class DevTools:
    """Just enough of the DevTools protocol: open a page, evaluate in it."""

    def __init__(self, socket: ClientConnection, deadline: float) -> None:
        self.socket = socket
        self.deadline = deadline
        self.last_id = 0
        self.events: list[str] = []  # the methods of the events received, in order

    def call(self, method: str, params: dict[str, Any], session: str | None = None) -> Any:
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            reply = self._receive(method)
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"chromium refused {method}: {reply['error']}")
                return reply["result"]

    def wait_for(self, event: str) -> None:
        while event not in self.events:
            self._receive(event)

    def _receive(self, waiting_for: str) -> Any:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"chromium: no {waiting_for} in time")
        message = json.loads(self.socket.recv(timeout=left))
        if "method" in message:
            self.events.append(message["method"])
        return message

    def evaluate(self, url: str, expression: str) -> Any:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call("Page.enable", {}, session)
        self.call("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired")
        answer = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session,
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(f"the page's script failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.chromium")
    commands = parser.add_subparsers(dest="command", required=True)
    shot = commands.add_parser("screenshot", help="save a PNG of a page after its scripts ran")
    shot.add_argument("url")
    shot.add_argument("output", type=Path)
    shot.add_argument("--size", default="1400x1000", help="WIDTHxHEIGHT (default 1400x1000)")
    dom = commands.add_parser("dom", help="print a page's DOM after its scripts ran")
    dom.add_argument("url")
    args = parser.parse_args()
    if args.command == "screenshot":
        width, _, height = args.size.partition("x")
        print(screenshot(args.url, args.output, width=int(width), height=int(height)))
    else:
        print(dump_dom(args.url))


if __name__ == "__main__":
    main()
