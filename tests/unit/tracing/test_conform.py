"""Documents are written within the segment document schema's limits, one rule a test."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.segment_schema import schema_problems
from tests.support.xray import minimal_document
from tracing._conform import MAX_FIELD_CHARS, conform, recorded_url
from tracing._documents import PROTOCOL_HEADER, to_datagrams

document = minimal_document


def written(original: dict[str, Any]) -> dict[str, Any]:
    [datagram] = to_datagrams(original)
    result: dict[str, Any] = json.loads(datagram[len(PROTOCOL_HEADER) :])
    return result


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://svc/usermgmt/user/été x", "http://svc/usermgmt/user/%C3%A9t%C3%A9%20x"),
        ("http://svc/a%20b/c", "http://svc/a%20b/c"),  # escapes already there stay
        ("http://svc:8095/usermgmt/users", "http://svc:8095/usermgmt/users"),
        ('http://svc/<script>"', "http://svc/%3Cscript%3E%22"),
    ],
    ids=["non-ascii-and-space", "escaped", "plain", "markup"],
)
def test_a_url_is_percent_encoded_as_the_sdk_middlewares_do(url: str, expected: str) -> None:
    assert recorded_url(url) == expected


def test_a_long_url_keeps_its_host_and_path_start_within_the_limit() -> None:
    url = recorded_url("http://usermgmt:8095/usermgmt/user/" + "é" * 1000)
    assert len(url) <= MAX_FIELD_CHARS
    assert url.startswith("http://usermgmt:8095/usermgmt/user/%C3%A9")
    # Cut at a whole escape, and marked as cut.
    assert url.endswith("...") and url[:-3].endswith("%C3%A9")


@pytest.mark.parametrize("field", ["method", "user_agent", "client_ip"])
def test_each_request_field_is_cut_to_the_limit(field: str) -> None:
    out = written(document(http={"request": {field: "x" * 2000}}))
    assert len(out["http"]["request"][field]) == MAX_FIELD_CHARS


def test_the_user_and_the_sql_user_are_cut_to_the_limit() -> None:
    sub = {"name": "db@h", "id": "b" * 16, "start_time": 1.1, "end_time": 1.2}
    out = written(document(user="u" * 400, subsegments=[{**sub, "sql": {"user": "s" * 400}}]))
    assert len(out["user"]) == MAX_FIELD_CHARS
    assert len(out["subsegments"][0]["sql"]["user"]) == MAX_FIELD_CHARS


def test_a_name_and_an_annotation_are_cut_to_their_limits() -> None:
    out = written(document(name="n" * 300, annotations={"note": "a" * 3000, "n": 3}))
    assert len(out["name"]) == 200
    assert len(out["annotations"]["note"]) == 1000 and out["annotations"]["n"] == 3
    assert schema_problems(out) == []


def test_a_traced_call_says_so_in_its_request_too() -> None:
    call = {
        "name": "notification",
        "id": "c" * 16,
        "start_time": 1.1,
        "end_time": 1.2,
        "namespace": "remote",
        "traced": True,
        "http": {"request": {"method": "GET", "url": "http://notification/x"}},
    }
    untraced = {**call, "id": "d" * 16, "traced": False, "http": {"request": {"method": "GET"}}}
    out = written(document(subsegments=[call, untraced]))
    assert out["subsegments"][0]["http"]["request"]["traced"] is True
    assert "traced" not in out["subsegments"][1]["http"]["request"]


def test_everything_at_once_validates_against_the_schema() -> None:
    nested = {"name": "inner", "id": "e" * 16, "start_time": 1.1, "end_time": 1.2}
    original = document(
        user="u" * 400,
        http={"request": {"url": "http://h/" + "é x" * 500, "user_agent": "a" * 900}},
        subsegments=[
            {
                "name": "outer",
                "id": "f" * 16,
                "start_time": 1.1,
                "end_time": 1.3,
                "http": {"request": {"url": "http://h/" + "p" * 900}},
                "subsegments": [nested],
            }
        ],
    )
    assert schema_problems(original)  # as the SDK gives it
    assert schema_problems(conform(original)) == []
