"""Every filter expression in AWS's guide (kept as data, with its section): answered exactly,
on a fixed set of traces, or refused with InvalidRequestException naming what is not read,
and then listed in docs/xray-local.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from .guide_traces import BASE, guide_traces
from .inprocess import InProcessApi

ROOT = Path(__file__).resolve().parents[2]
GUIDE = json.loads((ROOT / "tests/data/xray-filter-expressions.json").read_text())
EXPRESSIONS: list[dict[str, Any]] = GUIDE["expressions"]
DOCS = (ROOT / "docs/xray-local.md").read_text()


class Guide(NamedTuple):
    api: InProcessApi
    names: dict[str, str]  # trace id -> the fixed trace's name


@pytest.fixture(scope="module")
def guide() -> Guide:
    api = InProcessApi()
    traces = guide_traces()
    api.put([document for documents in traces.values() for document in documents])
    return Guide(api, {documents[0]["trace_id"]: name for name, documents in traces.items()})


def case_id(entry: dict[str, Any]) -> str:
    return f"{entry['section']}: {entry['expression']}"


@pytest.mark.parametrize("entry", [e for e in EXPRESSIONS if "matches" in e], ids=case_id)
def test_an_expression_from_the_guide_finds_exactly_its_traces(
    guide: Guide, entry: dict[str, Any]
) -> None:
    found = guide.api.summaries(
        StartTime=BASE - 60, EndTime=BASE + 60, FilterExpression=entry["expression"]
    )
    assert sorted(guide.names[summary["Id"]] for summary in found) == entry["matches"]


@pytest.mark.parametrize("entry", [e for e in EXPRESSIONS if "refused" in e], ids=case_id)
def test_an_expression_not_read_here_is_refused_saying_what_and_listed(
    guide: Guide, entry: dict[str, Any]
) -> None:
    response = guide.api.call(
        "/TraceSummaries",
        {"StartTime": BASE - 60, "EndTime": BASE + 60, "FilterExpression": entry["expression"]},
    )
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert entry["refused"] in response.json()["message"]
    assert f"`{entry['expression'].strip()}`" in DOCS, "each refusal is listed in the docs"


def test_the_list_holds_every_example_of_the_guide_in_its_sections() -> None:
    from_guide = [e for e in EXPRESSIONS if not e["section"].startswith("botocore")]
    sections = {e["section"] for e in from_guide}
    assert sections == {
        "Filter expression syntax",
        "Boolean keywords",
        "Number keywords",
        "String keywords",
        "Complex keywords",
        "id function",
    }
    # 38 code examples in the guide, plus one printed without its closing brace, repaired.
    assert len([e for e in from_guide if "added" not in e.get("note", "")]) == 38
