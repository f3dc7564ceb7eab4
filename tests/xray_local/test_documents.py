"""Segment documents: what is accepted, how it is reduced, and what is refused and why."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.support.xray_documents import chain_trace, independent, new_trace_id, segment
from xray_local.documents import InvalidDocument, parse_document


def raw(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_a_segment_is_reduced_to_its_entities_in_document_order() -> None:
    caller, _ = chain_trace(sql_calls=2)
    document = parse_document(raw(caller))
    assert document.is_segment and document.id == caller["id"]
    names = [entity.name for entity in document.entities()]
    assert names == [
        "User-Management-Microservice",
        "usermgmt@mysql",
        "usermgmt@mysql",
        "notification",
    ]
    root, *subs = document.entities()
    assert root.is_segment and root.parent_id is None and root.http and root.http.status == 200
    assert all(sub.parent_id == root.id and sub.segment_id == root.id for sub in subs)
    assert [sub.sql for sub in subs] == [True, True, False]
    assert all(sub.is_remote for sub in subs)
    assert document.raw == raw(caller)  # kept verbatim for BatchGetTraces


def test_the_callee_segment_keeps_its_parent_and_annotations() -> None:
    _, callee = chain_trace(version="V2")
    entity = parse_document(raw(callee)).root
    assert entity.parent_id == callee["parent_id"]
    assert entity.annotations == {"app_version": "V2"}


def test_an_independent_subsegment_names_its_parent() -> None:
    caller, _ = chain_trace(sql_calls=1)
    sub = caller["subsegments"][0]
    document = parse_document(raw(independent(sub, caller)))
    assert not document.is_segment
    assert document.root.parent_id == caller["id"] and document.root.segment_id is None


def test_an_in_progress_segment_has_no_end() -> None:
    trace_id = new_trace_id()
    doc = segment("svc", trace_id=trace_id, start=1.0, end=None)
    document = parse_document(raw(doc))
    assert document.in_progress and document.root.end is None


def test_annotation_values_keep_their_type() -> None:
    doc = segment(
        "svc",
        trace_id=new_trace_id(),
        start=1.0,
        end=2.0,
        annotations={"s": "x", "n": 3, "f": 1.5, "b": False, "ignored": [1]},
    )
    assert parse_document(raw(doc)).root.annotations == {"s": "x", "n": 3.0, "f": 1.5, "b": False}


def valid() -> dict[str, Any]:
    return segment("svc", trace_id=new_trace_id(), start=1.0, end=2.0)


def with_(**changes: Any) -> dict[str, Any]:
    document = valid()
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    return document


def nested(depth: int) -> dict[str, Any]:
    document = valid()
    holder = document
    for _ in range(depth):
        child = {"id": "a" * 16, "name": "n", "start_time": 1.0, "end_time": 2.0}
        holder["subsegments"] = [child]
        holder = child
    return document


REFUSED = [
    pytest.param(b"{not json", "bad_json", "not valid JSON", id="not-json"),
    pytest.param(b"\xff\xfe", "bad_json", "not valid JSON", id="not-utf8"),
    pytest.param(b"[1, 2]", "not_object", "not a JSON object", id="array"),
    pytest.param(b"[" * 100_000, "bad_json", "", id="absurdly-nested-json"),
    pytest.param(raw(with_(trace_id="abc")), "invalid_segment", "trace_id", id="bad-trace-id"),
    pytest.param(raw(with_(trace_id=None)), "invalid_segment", "trace_id", id="no-trace-id"),
    pytest.param(raw(with_(id="xyz")), "invalid_segment", "id must be 16 hexadecimal", id="bad-id"),
    pytest.param(raw(with_(name=None)), "invalid_segment", "name", id="no-name"),
    pytest.param(raw(with_(name="n" * 201)), "invalid_segment", "name", id="long-name"),
    pytest.param(raw(with_(start_time="now")), "invalid_segment", "start_time", id="start-text"),
    pytest.param(raw(with_(start_time=True)), "invalid_segment", "start_time", id="start-bool"),
    pytest.param(
        raw(with_(end_time=None, in_progress=False)), "invalid_segment", "end_time", id="no-end"
    ),
    pytest.param(raw(with_(end_time="later")), "invalid_segment", "end_time", id="end-text"),
    pytest.param(
        raw(with_(type="subsegment")), "invalid_segment", "parent_id", id="orphan-subsegment"
    ),
    pytest.param(raw(with_(subsegments={})), "invalid_segment", "not a list", id="subs-not-list"),
    pytest.param(
        raw(with_(subsegments=[{"id": "b" * 16, "name": "x", "start_time": 1}])),
        "invalid_segment",
        "subsegments[0]: needs end_time",
        id="bad-nested-subsegment",
    ),
    pytest.param(raw(nested(70)), "invalid_segment", "nest deeper", id="too-deep"),
]


# The daemon parses with orjson; without it, with the standard library: same verdicts.
LOADERS = [pytest.param(orjson.loads, id="orjson"), pytest.param(json.loads, id="json")]


@pytest.mark.parametrize("loads", LOADERS)
@pytest.mark.parametrize(("document", "reason", "phrase"), REFUSED)
def test_refused_documents_say_why(
    loads: Callable[[bytes], Any], document: bytes, reason: str, phrase: str
) -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_document(document, loads)
    assert caught.value.reason == reason
    assert phrase in str(caught.value)


@pytest.mark.parametrize("loads", LOADERS)
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_time_that_is_no_number_is_refused(loads: Callable[[bytes], Any], number: str) -> None:
    document = json.dumps(valid()).replace('"start_time": 1.0', f'"start_time": {number}')
    with pytest.raises(InvalidDocument) as caught:
        parse_document(document.encode(), loads)
    # orjson already refuses NaN and Infinity as JSON; the standard library reads them.
    assert caught.value.reason in ("bad_json", "invalid_segment")


@pytest.mark.parametrize("loads", LOADERS)
def test_both_parsers_reduce_a_document_alike(loads: Callable[[bytes], Any]) -> None:
    caller, _ = chain_trace(sql_calls=1)
    assert parse_document(raw(caller), loads) == parse_document(raw(caller), json.loads)
