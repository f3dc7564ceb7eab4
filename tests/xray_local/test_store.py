"""The store: bounded by count, age and size, oldest first; the graph kept in step."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.xray_documents import chain_trace, new_trace_id, segment
from xray_local.documents import Document, parse_document
from xray_local.graph import graph_of
from xray_local.store import Retention, Store
from xray_local.trace import MAX_DOCUMENTS_PER_TRACE, TraceFull


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def parsed(document: dict[str, Any]) -> Document:
    return parse_document(json.dumps(document).encode())


def add_trace(store: Store, **options: Any) -> str:
    documents = chain_trace(**options)
    for document in documents:
        store.add(parsed(document))
    return str(documents[0]["trace_id"])


def stored_ids(store: Store) -> list[str]:
    return [trace.id for trace in store.traces()]


def test_the_oldest_traces_go_first_when_there_are_too_many() -> None:
    store = Store(Retention(max_traces=3))
    ids = [add_trace(store) for _ in range(5)]
    assert stored_ids(store) == ids[2:]
    assert store.stats.traces_evicted == 2
    assert store.document_count == 6


def test_traces_older_than_the_age_limit_go() -> None:
    clock = Clock()
    store = Store(Retention(max_age_seconds=60), clock=clock)
    old = add_trace(store)
    clock.now += 30
    young = add_trace(store)
    clock.now += 31
    store.expire()
    assert stored_ids(store) == [young]
    assert old not in stored_ids(store)


def test_the_size_limit_evicts_until_the_store_fits() -> None:
    store = Store(Retention(max_bytes=20_000))
    for _ in range(40):
        add_trace(store, sql_calls=3)
    assert store.approximate_bytes <= 20_000
    assert 0 < store.trace_count < 40


def test_a_completed_segment_replaces_its_in_progress_version() -> None:
    store = Store(Retention())
    trace_id = new_trace_id()
    opened = segment("svc", trace_id=trace_id, start=10.0, end=None, entity_id="a" * 16)
    closed = segment("svc", trace_id=trace_id, start=10.0, end=11.0, entity_id="a" * 16)
    store.add(parsed(opened))
    assert store.graph(0, 100).nodes == {}  # nothing to count while it runs
    store.add(parsed(closed))
    assert store.document_count == 1 and store.stats.documents_replaced == 1
    assert store.graph(0, 100).nodes[("svc", "service")].stats.total == 1


def test_a_late_in_progress_version_does_not_undo_a_completed_one() -> None:
    store = Store(Retention())
    trace_id = new_trace_id()
    closed = segment("svc", trace_id=trace_id, start=10.0, end=11.0, entity_id="a" * 16)
    opened = segment("svc", trace_id=trace_id, start=10.0, end=None, entity_id="a" * 16)
    store.add(parsed(closed))
    store.add(parsed(opened))
    trace = store.get(trace_id)
    kept = trace.document("a" * 16) if trace else None
    assert kept is not None and not kept.in_progress


def test_a_runaway_trace_is_capped() -> None:
    store = Store(Retention())
    trace_id = new_trace_id()
    for index in range(MAX_DOCUMENTS_PER_TRACE):
        store.add(
            parsed(segment("svc", trace_id=trace_id, start=1.0, end=2.0, entity_id=f"{index:016x}"))
        )
    with pytest.raises(TraceFull):
        store.add(parsed(segment("svc", trace_id=trace_id, start=1.0, end=2.0)))
    assert store.stats.documents_rejected == 1


def test_the_graph_aggregates_match_the_stored_traces_through_changes_and_evictions() -> None:
    store = Store(Retention(max_traces=20))
    start = 5000.0
    for index in range(30):
        caller, callee = chain_trace(start=start + index * 0.4, sql_calls=index % 3)
        store.add(parsed(caller))
        if index % 4:  # some callees arrive only after a flush: traces change after counting
            store.flush()
        store.add(parsed(callee))
    merged = store.graph(0, 1e10)
    direct = graph_of(trace.analysis() for trace in store.traces())
    assert {key: node.stats.counts for key, node in merged.nodes.items()} == {
        key: node.stats.counts for key, node in direct.nodes.items()
    }
    assert {key: e.stats.counts for key, e in merged.edges.items()} == {
        key: e.stats.counts for key, e in direct.edges.items()
    }


def test_the_graph_time_range_selects_traces_by_their_start_second() -> None:
    store = Store(Retention())
    add_trace(store, start=100.2)
    add_trace(store, start=200.7)
    client = ("User-Management-Microservice", "client")
    users = ("User-Management-Microservice", "service")

    def entered(start: float, end: float) -> int:
        edges = store.graph(start, end).edges
        return edges[(client, users)].stats.total if (client, users) in edges else 0

    assert entered(0, 1000) == 2
    assert entered(100.5, 150) == 1  # the second 100 overlaps the range
    assert entered(150, 200) == 0
    assert entered(201, 300) == 0


def test_a_trace_that_cannot_be_analysed_is_dropped_and_the_rest_still_answers() -> None:
    store = Store(Retention())
    good = add_trace(store, start=10.0)
    broken_id = new_trace_id()
    # Only a bug could make such a record: its entity has none of the fields analysis needs.
    store.add(Document(broken_id, "b" * 16, True, b"{}", (("b" * 16,),)))
    assert store.graph(0, 100).nodes  # the good trace still counts
    assert [trace.id for trace in store.traces()] == [good]
    assert store.document_count == 2
