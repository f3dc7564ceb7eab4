"""`python -m notification.faults`: set or clear this host's notification faults at runtime.

    python -m notification.faults --error-rate 0.5 --error-status 503 --latency-ms 200
    python -m notification.faults --clear
    python -m notification.faults                  # show the current faults

It calls /notification/admin/faults on 127.0.0.1:$PORT (8096), so it runs where the service
runs: `docker compose exec notification-v2 python -m notification.faults ...`, or
`kubectl exec deploy/notification-v2 -- python -m notification.faults ...` (one pod; repeat per
pod with `kubectl exec <pod>`). The service needs FAULT_INJECTION_ENABLED=true.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import httpx

from . import Faults

PATH = "/notification/admin/faults"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m notification.faults", description=__doc__)
    parser.add_argument("--url", help="the service (default http://127.0.0.1:$PORT)")
    parser.add_argument("--error-rate", type=float, help="0..1: share of calls that fail")
    parser.add_argument("--error-status", type=int, help="400..599 (default 500)")
    parser.add_argument("--latency-ms", type=int, help="delay added to every call")
    parser.add_argument("--clear", action="store_true", help="back to normal service")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    base = args.url or f"http://127.0.0.1:{os.environ.get('PORT', '8096')}"
    changes = {
        name: value
        for name, value in (
            ("error_rate", args.error_rate),
            ("error_status", args.error_status),
            ("latency_ms", args.latency_ms),
        )
        if value is not None
    }
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            if args.clear:
                response = client.delete(PATH)
            elif changes:
                response = client.put(
                    PATH, json=Faults.model_construct(**changes).model_dump(by_alias=True)
                )
            else:
                response = client.get(PATH)
    except httpx.HTTPError as exc:
        print(f"cannot reach {base}{PATH}: {exc}", file=sys.stderr)
        return 1
    if response.status_code == 404:
        print(
            f"{base} has no fault injection: start it with FAULT_INJECTION_ENABLED=true",
            file=sys.stderr,
        )
        return 1
    if response.is_error:
        print(response.json().get("message", response.text), file=sys.stderr)
        return 1
    print(json.dumps(response.json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
