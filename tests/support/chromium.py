"""Headless Chromium: a page's DOM after its scripts ran, or a screenshot of it for people.

    python -m tests.support.chromium screenshot http://127.0.0.1:2000/ map.png

Uses Debian's `chromium` package, each run with a fresh profile and nothing that phones
home. Virtual time lets the page's fetches and timers run before the DOM is read, so no
sleep is needed and the wait cannot be too short.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

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
