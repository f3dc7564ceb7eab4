"""`python -m xray_local map`: the current service map in the terminal, for people without
a browser. It asks the daemon's X-Ray API (GetServiceGraph), like any other client."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx

from .config import API_TOKEN_VARIABLE, DEFAULT_ADDRESS, Address, ConfigError

DEFAULT_MINUTES = 15.0
TIMEOUT_SECONDS = 10.0


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m xray_local map",
        description="Print the service map of the last minutes from a running xray_local.",
    )
    parser.add_argument(
        "-t",
        "--address",
        metavar="HOST:PORT",
        help="the daemon's TCP address (default: the tcp part of AWS_XRAY_DAEMON_ADDRESS, "
        f"else {DEFAULT_ADDRESS})",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=DEFAULT_MINUTES,
        help=f"time window (default {DEFAULT_MINUTES:g})",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    try:
        address = Address.parse(args.address or address_from_env() or DEFAULT_ADDRESS, "address")
    except ConfigError as exc:
        parser().error(str(exc))
    if not args.minutes > 0:
        parser().error("--minutes must be positive")
    end = time.time()
    url = address.local_url.rstrip("/")
    try:
        token = os.environ.get(API_TOKEN_VARIABLE)
        response = httpx.post(
            f"{url}/ServiceGraph",
            json={"StartTime": end - args.minutes * 60, "EndTime": end},
            headers={"Authorization": f"Bearer {token.strip()}"} if token else None,
            timeout=TIMEOUT_SECONDS,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        print(f"cannot get the service map from xray_local at {url}: {exc}", file=sys.stderr)
        return 1
    print(render(response.json()["Services"], args.minutes, url))
    return 0


def address_from_env() -> str | None:
    """The TCP part of AWS_XRAY_DAEMON_ADDRESS ('host:port' or 'tcp:h:p udp:h:p')."""
    value = os.environ.get("AWS_XRAY_DAEMON_ADDRESS", "").strip()
    for part in value.split():
        if part.startswith("tcp:"):
            return part[len("tcp:") :]
    return value if value and " " not in value and not value.startswith("udp:") else None


def describe(statistics: dict[str, Any] | None, minutes: float) -> str:
    """'12 req, 0.8/min, 15.2 ms avg, 8% errors, 0% faults' for summary statistics."""
    if not statistics or not statistics.get("TotalCount"):
        return "no requests"
    total = statistics["TotalCount"]
    errors = statistics["ErrorStatistics"]["TotalCount"]
    faults = statistics["FaultStatistics"]["TotalCount"]
    average_ms = statistics["TotalResponseTime"] / total * 1000
    return (
        f"{total} req, {total / minutes:.1f}/min, {average_ms:.1f} ms avg, "
        f"{errors / total:.0%} errors, {faults / total:.0%} faults"
    )


def render(services: list[dict[str, Any]], minutes: float, url: str) -> str:
    lines = [f"Service map, last {minutes:g} minutes ({url}/)", ""]
    if not services:
        lines.append("No traces yet: send segments to the daemon's UDP port, then look again.")
        return "\n".join(lines)
    by_reference = {service["ReferenceId"]: service for service in services}
    called = {edge["ReferenceId"] for s in services for edge in s.get("Edges", [])}
    starts = [s for s in services if s["Type"] == "client"] or [
        s for s in services if s["ReferenceId"] not in called
    ]

    def walk(service: dict[str, Any], prefix: str, seen: set[int]) -> None:
        edges = service.get("Edges", [])
        for index, edge in enumerate(edges):
            last = index == len(edges) - 1
            target = by_reference[edge["ReferenceId"]]
            kind = "" if target["Type"] == "service" else f" [{target['Type']}]"
            lines.append(
                f"{prefix}{'└── ' if last else '├── '}{target['Name']}{kind}: "
                f"{describe(edge.get('SummaryStatistics'), minutes)}"
            )
            if target["ReferenceId"] not in seen:
                walk(target, prefix + ("    " if last else "│   "), seen | {target["ReferenceId"]})

    for start in starts:
        lines.append("(client)" if start["Type"] == "client" else start["Name"])
        walk(start, "", {start["ReferenceId"]})
    lines += ["", "Nodes:"]
    for service in services:
        if service["Type"] != "client":
            lines.append(
                f"  {service['Name']} [{service['Type']}]: "
                f"{describe(service.get('SummaryStatistics'), minutes)}"
            )
    return "\n".join(lines)
