"""Spans made with the OpenTelemetry SDK, sent by its own OTLP/HTTP exporter to a running
daemon, come back from BatchGetTraces as the documents X-Ray's awsxrayexporter makes:
one test per rule (otlp_cases.py names the rule each follows)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.polling import poll_until
from devstack.processes import ProcessGroup
from tests.support.otel import SpanRecorder, otlp_http_exporter, span_id, xray_trace_id
from tests.support.xray_local import LocalXRay, start_xray_local

from . import otlp_cases
from .otlp_cases import ABSENT, CASES, Case, Ref, Rule, Spans

Documents = dict[str, dict[str, Any]]  # by entity id, nested subsegments included


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Spans, Documents]]]:
    """Every case's spans, exported once to one daemon, and the documents it then holds."""
    with ProcessGroup(tmp_path_factory.mktemp("otlp-rules")) as group:
        xray = start_xray_local(group, "--indexed-attribute", "http.route")
        built = {}
        for case in CASES:
            recorder = SpanRecorder(case.resource)
            built[case.name] = case.build(recorder.tracer())
            recorder.export(otlp_http_exporter(xray.otlp_traces_url))
            recorder.shutdown()
        yield {name: (spans, _documents(xray, spans)) for name, spans in built.items()}


def _documents(xray: LocalXRay, spans: Spans) -> Documents:
    wanted = {span_id(span) for span in spans.values()}
    trace_ids = sorted({xray_trace_id(span.get_span_context()) for span in spans.values()})

    def all_there() -> Documents | None:
        traces = xray.client().batch_get_traces(TraceIds=trace_ids)["Traces"]
        found: Documents = {}
        for trace in traces:
            for segment in trace["Segments"]:
                _index(json.loads(segment["Document"]), found)
        return found if wanted <= found.keys() else None

    return poll_until(all_there, f"the documents of spans {sorted(wanted)}")


def _index(document: dict[str, Any], found: Documents) -> None:
    found[document["id"]] = document
    for child in document.get("subsegments", []):
        _index(child, found)


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        try:
            document = document[step]
        except (KeyError, IndexError, TypeError):
            return ABSENT
    return document


def _resolve(expected: Any, spans: Spans) -> Any:
    if not isinstance(expected, Ref):
        return expected
    span = spans[expected.span]
    if expected.what == "span_id":
        return span_id(span)
    if expected.what == "trace_id":
        return xray_trace_id(span.get_span_context())
    if expected.what == "start":
        return span.start_time / 1e9  # type: ignore[attr-defined]
    assert expected.what == "file"
    return str(Path(otlp_cases.__file__))


RULES = [(case, rule) for case in CASES for rule in case.rules]


@pytest.mark.parametrize(
    ("case", "rule"), RULES, ids=[f"{case.name}:{rule.id}" for case, rule in RULES]
)
def test_rule(sent: dict[str, tuple[Spans, Documents]], case: Case, rule: Rule) -> None:
    spans, documents = sent[case.name]
    document = documents[span_id(spans[rule.span])]
    expected = _resolve(rule.expected, spans)
    actual = _at(document, rule.path)
    assert actual == expected, (
        f"{rule.source}: {rule.span}'s {'.'.join(map(str, rule.path))} is "
        f"{'absent' if actual is ABSENT else repr(actual)}, not "
        f"{'absent' if expected is ABSENT else repr(expected)}\n{json.dumps(document, indent=1)}"
    )
