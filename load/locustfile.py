"""Load for user management: a realistic mix at a set total rate, and a summary at the end.

    locust -f load/locustfile.py --headless -u 10 -r 10 -t 1m --rate 20
    locust -f load/locustfile.py --host https://usermgmt.example.com    # web UI on :8089

Each virtual user sends one request per task run, paced by Locust's `constant_throughput` so
that all users together send `--rate` requests a second (env LOAD_RATE, default 10; read
again on every wait, so the web UI's field changes it during a run). Per virtual user, every
40 requests hold exactly this mix, shuffled:

    28  GET    /usermgmt/notification-xray           the call chain (70%)
     8  one step each of create -> read -> update -> delete of the user's own account (20%):
        POST /usermgmt/user, GET /usermgmt/user/{username}, PUT /usermgmt/user,
        DELETE /usermgmt/user/{username}
     2  GET    /usermgmt/users                       (5%)
     1  GET    /usermgmt/notification-service-info   (2.5%)
     1  GET    /usermgmt/notification-health-status  (2.5%)

Accounts get unique names (`load-` and 14 random hex digits) and email addresses (`--email`,
env LOAD_EMAIL, default `{username}@example.com`: each creation asks notification to email
it), and the virtual user that created one deletes it; one still alive when the run stops is
deleted then, so a run leaves the users table as it found it.

Every request must answer exactly its documented status (200, or 201 and 204 for create and
delete); anything else is a failure. The one exception: that clean-up DELETE also accepts
404, since a create the run cut short may have created nothing. Unless `--stop-timeout` is
given, users get 10 s to finish the request they are in.

At the end (and each time a test is stopped in the web UI) it prints a summary: per endpoint
the requests, failures, p50/p95/p99 in ms and req/s, and the split of `appversion` (V1/V2)
in the /usermgmt/notification-xray answers; `--summary-json PATH` (env LOAD_SUMMARY_JSON)
also writes it as JSON. The web UI serves the split so far at /appversions.

It needs only Locust and the standard library, so it runs as is in the locustio/locust image.
See docs/load.md.
"""

from __future__ import annotations

import json
import random
import secrets
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust import HttpUser, constant_throughput, events, task
from locust.env import Environment
from locust.stats import RequestStats, StatsEntry

DEFAULT_HOST = "http://localhost:8095"
DEFAULT_RATE = 10.0  # requests a second, all virtual users together
DEFAULT_STOP_TIMEOUT = 10.0
DEFAULT_EMAIL = "{username}@example.com"
PREFIX = "/usermgmt"
XRAY = f"{PREFIX}/notification-xray"
ONE_USER = f"{PREFIX}/user/[username]"  # the name Locust reports for /user/{username}
PASSWORD = "Load@1234"
PERCENTILES = (0.50, 0.95, 0.99)

# What each request of the mix is called; a deck of 40 draws holds each this many times.
MIX = {
    "notification_xray": 28,
    "lifecycle_step": 8,
    "list_users": 2,
    "service_info": 1,
    "health_status": 1,
}

# appversion of each /usermgmt/notification-xray answer since the test started.
appversions: Counter[str] = Counter()
# Summaries made at the end of a headless test, printed when Locust exits.
unprinted: list[str] = []


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any, **_: Any) -> None:
    parser.add_argument(
        "--rate",
        type=float,
        env_var="LOAD_RATE",
        default=DEFAULT_RATE,
        help="requests a second, all users together (constant throughput)",
    )
    parser.add_argument(
        "--email",
        env_var="LOAD_EMAIL",
        default=DEFAULT_EMAIL,
        help="the accounts' email address, with {username} (each must be unique): on EKS, "
        "success+{username}@simulator.amazonses.com (SES's mailbox simulator)",
    )
    parser.add_argument(
        "--summary-json",
        env_var="LOAD_SUMMARY_JSON",
        default="",
        include_in_web_ui=False,
        help="also write the end-of-run summary to this file as JSON",
    )


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    # A request cut in half when users are killed counts as neither success nor failure, and
    # a cut POST may leave an account behind: let users finish what they are doing.
    if not environment.stop_timeout:
        environment.stop_timeout = DEFAULT_STOP_TIMEOUT
    rate = _option(environment, "rate", DEFAULT_RATE)
    if rate <= 0:
        sys.exit(f"--rate (LOAD_RATE) must be a positive number of requests a second, not {rate}")
    if "{username}" not in _option(environment, "email", DEFAULT_EMAIL):
        sys.exit("--email (LOAD_EMAIL) must contain {username}: each account needs its own")
    if environment.web_ui is not None and environment.web_ui.app is not None:
        environment.web_ui.app.add_url_rule(
            "/appversions", "appversions", lambda: dict(appversions)
        )


@events.test_start.add_listener
@events.reset_stats.add_listener
def _reset_appversions(**_: Any) -> None:
    appversions.clear()


@events.request.add_listener
def _count_appversion(name: str, response: Any, exception: BaseException | None, **_: Any) -> None:
    if name == XRAY and exception is None:
        appversions[str(response.json().get("appversion"))] += 1


@events.test_stop.add_listener
def _summarise(environment: Environment, **_: Any) -> None:
    """Once every user has stopped (their clean-up included)."""
    summary = build_summary(environment)
    path = _option(environment, "summary_json", "")
    if path:
        Path(path).write_text(json.dumps(summary, indent=2) + "\n")
    if _option(environment, "headless", False):
        # Locust prints its own tables when it exits: print after them, as the last word.
        unprinted.append(format_summary(summary))
    else:
        print(format_summary(summary), flush=True)


@events.quit.add_listener
def _print_unprinted(**_: Any) -> None:
    while unprinted:
        print(unprinted.pop(0), flush=True)


def _option(environment: Environment, name: str, default: Any) -> Any:
    options = environment.parsed_options
    return getattr(options, name, default) if options is not None else default


def total_rate(environment: Environment) -> float:
    """--rate; the web UI's field may set it to nothing or to 0 for a new test: then 1."""
    rate = float(_option(environment, "rate", DEFAULT_RATE) or 0)
    return rate if rate > 0 else 1.0


def email_for(environment: Environment, username: str) -> str:
    pattern: str = _option(environment, "email", DEFAULT_EMAIL) or DEFAULT_EMAIL
    return pattern.replace("{username}", username)


def user_count(environment: Environment) -> int:
    runner = environment.runner
    target = runner.target_user_count if runner is not None else 0
    return max(1, target or int(_option(environment, "num_users", 1) or 1))


class UserManagementVisitor(HttpUser):
    """One client of user management: the mix above, one request per task run."""

    host = DEFAULT_HOST
    account: str | None = None  # the username of this virtual user's account, if any
    stage = 0  # the next step of that account's lifecycle

    def wait_time(self) -> float:
        per_user = total_rate(self.environment) / user_count(self.environment)
        pace: Callable[[HttpUser], float] = constant_throughput(per_user)
        return pace(self)

    def on_start(self) -> None:
        self.deck: list[Callable[[], None]] = []

    def on_stop(self) -> None:
        if self.account is not None:
            self.delete_account(cleanup=True)

    @task
    def next_request(self) -> None:
        if not self.deck:
            self.deck = [getattr(self, name) for name, n in MIX.items() for _ in range(n)]
            random.shuffle(self.deck)
        self.deck.pop()()

    # --- the mix ------------------------------------------------------------------------

    def notification_xray(self) -> None:
        self.expect("GET", XRAY, 200, check=has_appversion)

    def list_users(self) -> None:
        self.expect("GET", f"{PREFIX}/users", 200, check=is_json_list)

    def service_info(self) -> None:
        self.expect("GET", f"{PREFIX}/notification-service-info", 200)

    def health_status(self) -> None:
        self.expect("GET", f"{PREFIX}/notification-health-status", 200)

    def lifecycle_step(self) -> None:
        steps = (self.create_account, self.read_account, self.update_account, self.delete_account)
        steps[self.stage]()

    def create_account(self) -> None:
        username = f"load-{secrets.token_hex(7)}"
        self.account, self.stage = username, 1
        body = {
            "username": username,
            "email": email_for(self.environment, username),
            "password": PASSWORD,
            "role": "ROLE_USER",
            "enabled": True,
            "firstname": "Load",
            "lastname": "Test",
        }
        status = self.expect("POST", f"{PREFIX}/user", 201, json=body)
        if status != 201 and status != 0:
            # The service answered and refused: nothing was created. (With no answer at all,
            # status 0, it may have been: the lifecycle goes on and ends with the DELETE.)
            self.account, self.stage = None, 0

    def read_account(self) -> None:
        assert self.account is not None
        username = self.account
        self.expect(
            "GET", f"{PREFIX}/user/{username}", 200, name=ONE_USER, check=names_user(username)
        )
        self.stage = 2

    def update_account(self) -> None:
        assert self.account is not None
        email = email_for(self.environment, f"{self.account}.new")
        body = {"username": self.account, "email": email, "firstname": "Loaded", "lastname": "Test"}
        self.expect("PUT", f"{PREFIX}/user", 200, json=body, check=has_email(email))
        self.stage = 3

    def delete_account(self, cleanup: bool = False) -> None:
        assert self.account is not None
        name = f"{ONE_USER} (cleanup)" if cleanup else ONE_USER
        allowed = (204, 404) if cleanup else (204,)
        self.expect("DELETE", f"{PREFIX}/user/{self.account}", *allowed, name=name)
        self.account, self.stage = None, 0

    # --- one request --------------------------------------------------------------------

    def expect(
        self,
        method: str,
        path: str,
        *statuses: int,
        name: str | None = None,
        json: dict[str, Any] | None = None,
        check: Callable[[Any], str | None] | None = None,
    ) -> int:
        """Send one request; it fails unless it answers one of `statuses` and passes `check`
        (which returns what is wrong, or None). Returns the status, 0 for no answer."""
        with self.client.request(
            method, path, name=name or path, json=json, catch_response=True
        ) as response:
            status = int(response.status_code or 0)
            problem = None
            if status not in statuses:
                # Kept free of ids and times: Locust groups failures by their message.
                got = status or f"no answer ({type(response.error).__name__})"
                problem = f"expected {' or '.join(map(str, statuses))}, got {got}"
            elif check is not None:
                try:
                    problem = check(response)
                except ValueError:
                    problem = "the body is not the JSON expected"
            if problem is None:
                response.success()
            else:
                response.failure(problem)
        return status


# --- answer checks: what is wrong with a response, or None ---------------------------------


def has_appversion(response: Any) -> str | None:
    body = response.json()
    return None if isinstance(body, dict) and body.get("appversion") else f"no appversion: {body}"


def is_json_list(response: Any) -> str | None:
    return None if isinstance(response.json(), list) else "not a JSON list"


def field(response: Any, name: str) -> Any:
    body = response.json()
    return body.get(name) if isinstance(body, dict) else None


def names_user(username: str) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        found = field(response, "username")
        return None if found == username else f"asked for {username}, got {found}"

    return check


def has_email(email: str) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        found = field(response, "email")
        return None if found == email else f"email {found}, not {email}"

    return check


# --- the summary ----------------------------------------------------------------------------


def build_summary(environment: Environment) -> dict[str, Any]:
    stats: RequestStats = environment.stats
    entries = sorted(stats.entries.values(), key=lambda e: (e.name, e.method or ""))
    total = stats.total
    return {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "seconds": round(max(0.0, total.last_request_timestamp - total.start_time), 1)
        if total.last_request_timestamp
        else 0.0,
        "rps": round(total.total_rps, 2),
        "target_rps": total_rate(environment),
        "users": user_count(environment),
        "endpoints": [endpoint_summary(entry) for entry in entries],
        "appversions": dict(sorted(appversions.items())),
    }


def endpoint_summary(entry: StatsEntry) -> dict[str, Any]:
    percentiles = {
        f"p{round(p * 100)}": entry.get_response_time_percentile(p) if entry.num_requests else 0
        for p in PERCENTILES
    }
    return {
        "method": entry.method,
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        **percentiles,
        "rps": round(entry.total_rps, 2),
    }


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        "",
        f"Load summary: {summary['requests']} requests, {summary['failures']} failures, "
        f"{summary['rps']:.1f} req/s over {summary['seconds']:.1f} s "
        f"(target {summary['target_rps']:g} req/s, {summary['users']} users)",
        f"  {'method':<7} {'name':<45} {'requests':>8} {'fails':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7}",
    ]
    for e in summary["endpoints"]:
        lines.append(
            f"  {e['method']:<7} {e['name']:<45} {e['requests']:>8} {e['failures']:>6} "
            f"{e['p50']:>7.0f} {e['p95']:>7.0f} {e['p99']:>7.0f} {e['rps']:>7.2f}"
        )
    lines.append(
        f"  {'total':<53} {summary['requests']:>8} {summary['failures']:>6} "
        f"{'':>7} {'':>7} {'':>7} {summary['rps']:>7.2f}"
    )
    lines.append(f"appversion split in {XRAY} answers: {format_split(summary['appversions'])}")
    return "\n".join(lines)


def format_split(counts: dict[str, int]) -> str:
    answered = sum(counts.values())
    if not answered:
        return "none answered"
    return ", ".join(
        f"{version} {count} ({100 * count / answered:.1f}%)" for version, count in counts.items()
    )
