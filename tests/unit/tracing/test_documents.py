"""Documents larger than one UDP datagram are split, and trimmed only as a last resort."""

import json
import logging

import orjson
import pytest

from tests.support.xray import FIXED_TRACE_ID, minimal_document
from tracing._documents import (
    MAX_DOCUMENT_BYTES,
    PROTOCOL_HEADER,
    Document,
    serialize,
    to_datagrams,
)

TRACE_ID = FIXED_TRACE_ID


def segment(subsegments: list[Document]) -> Document:
    return minimal_document(subsegments=subsegments)


def subsegment(index: int, query_chars: int = 100) -> Document:
    return {
        "name": "db@host",
        "id": f"{index:016x}",
        "start_time": 1.0,
        "end_time": 1.5,
        "namespace": "remote",
        "sql": {"sanitized_query": "SELECT " + "x" * query_chars},
    }


def decode(datagrams: list[bytes]) -> list[Document]:
    assert all(d.startswith(PROTOCOL_HEADER) for d in datagrams)
    assert all(len(d) <= MAX_DOCUMENT_BYTES + len(PROTOCOL_HEADER) for d in datagrams)
    return [json.loads(d[len(PROTOCOL_HEADER) :]) for d in datagrams]


def test_a_small_segment_is_one_datagram() -> None:
    doc = segment([subsegment(1)])
    [sent] = decode(to_datagrams(doc))
    assert sent == doc


def test_a_large_segment_is_split_into_independent_subsegments() -> None:
    doc = segment([subsegment(i, query_chars=2000) for i in range(100)])  # ~200 KB
    sent = decode(to_datagrams(doc))
    parent, children = sent[0], sent[1:]
    assert "subsegments" not in parent and parent["id"] == doc["id"]
    assert [c["id"] for c in children] == [s["id"] for s in doc["subsegments"]]
    for child in children:
        assert child["type"] == "subsegment"
        assert child["trace_id"] == TRACE_ID
        assert child["parent_id"] == doc["id"]
        assert child["sql"]["sanitized_query"].endswith("x" * 100)  # untouched


def test_nested_subsegments_split_recursively() -> None:
    inner = [subsegment(100 + i, query_chars=3000) for i in range(30)]
    outer = {**subsegment(1), "subsegments": inner}
    sent = decode(to_datagrams(segment([outer])))
    by_id = {doc["id"]: doc for doc in sent}
    assert by_id[outer["id"]]["parent_id"] == "aaaaaaaaaaaaaaaa"
    assert all(by_id[s["id"]]["parent_id"] == outer["id"] for s in inner)


def test_one_oversized_entity_is_trimmed_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    doc = segment([subsegment(1, query_chars=200_000)])
    with caplog.at_level(logging.WARNING, logger="tracing._documents"):
        sent = decode(to_datagrams(doc))
    trimmed = sent[1]
    assert trimmed["id"] == doc["subsegments"][0]["id"]
    assert trimmed["sql"]["sanitized_query"].startswith("SELECT xxx")
    assert trimmed["metadata"]["xray_trim"]["original_bytes"] > 200_000
    assert "trimmed subsegment document" in caplog.text


def test_an_entity_of_countless_fields_keeps_its_essentials() -> None:
    doc = {**segment([]), "annotations": {f"key{i}": i for i in range(20_000)}}
    [sent] = decode(to_datagrams(doc))
    assert sent["id"] == doc["id"] and sent["trace_id"] == TRACE_ID
    assert sent["end_time"] == 2.0
    assert "annotations" not in sent
    assert sent["metadata"]["xray_trim"]["max_string_chars"] == 0


class Opaque:
    def __str__(self) -> str:
        return "opaque"


def test_what_json_has_no_type_for_is_written_as_text() -> None:
    doc = segment([])
    doc["metadata"] = {"default": {"value": Opaque(), 1: "int key", None: "none key"}}
    [sent] = decode(to_datagrams(doc))
    assert sent["metadata"] == {"default": {"value": "opaque", "1": "int key", "null": "none key"}}


def test_an_integer_beyond_64_bits_is_still_written() -> None:
    doc = segment([])
    doc["metadata"] = {"default": {"big": 2**70}}
    assert json.loads(serialize(doc))["metadata"]["default"]["big"] == 2**70


def test_both_writers_write_the_same_document() -> None:
    doc = segment([subsegment(1), subsegment(2)])
    doc["http"] = {"request": {"url": "http://h\u00e9te/caf\u00e9", "method": "GET"}}
    doc["annotations"] = {"app_version": "V1", "ratio": 0.1, "ok": True}
    assert json.loads(serialize(doc)) == json.loads(orjson.dumps(doc)) == doc
