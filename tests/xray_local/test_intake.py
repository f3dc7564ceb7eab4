"""The daemon's UDP intake, over real sockets: documents in, bad datagrams counted, relay."""

from __future__ import annotations

import json
import time

import httpx

from devstack.polling import poll_until
from devstack.processes import ProcessGroup
from tests.support.udp import SegmentCollector
from tests.support.xray_documents import (
    PROTOCOL_HEADER,
    chain_trace,
    datagram,
    independent,
    new_trace_id,
    segment,
)
from tests.support.xray_local import LocalXRay, start_xray_local

VALID = segment("svc", trace_id=new_trace_id(), start=time.time(), end=time.time() + 0.01)
# Each bad datagram with the reason it must be counted under.
BAD_DATAGRAMS = [
    (b"", "no_header"),
    (b"just some text", "no_header"),
    (b'{"format":"xml","version":1}\n{}', "bad_header"),
    (b'{"format":"json","version":2}\n{}', "bad_header"),
    (b"not json at all\n{}", "bad_header"),
    (b"[" * 50_000 + b"\n{}", "bad_header"),
    (PROTOCOL_HEADER + b"{truncated", "bad_json"),
    (PROTOCOL_HEADER + b"\xff\xfe\x00", "bad_json"),
    (PROTOCOL_HEADER + b'"a string"', "not_object"),
    (PROTOCOL_HEADER + json.dumps({**VALID, "trace_id": "nope"}).encode(), "invalid_segment"),
    (PROTOCOL_HEADER + json.dumps({**VALID, "start_time": "x"}).encode(), "invalid_segment"),
    (PROTOCOL_HEADER + b"[" * 50_000, "bad_json"),
]


def stored_trace_ids(xray: LocalXRay) -> set[str]:
    end = time.time() + 60
    pages = (
        xray.client()
        .get_paginator("get_trace_summaries")
        .paginate(StartTime=end - 7200, EndTime=end)
    )
    return {summary["Id"] for page in pages for summary in page["TraceSummaries"]}


def test_bad_datagrams_are_counted_by_reason_and_the_daemon_keeps_serving(xray: LocalXRay) -> None:
    trace = chain_trace()
    sent = xray.send([*(data for data, _ in BAD_DATAGRAMS), *trace])
    stats = xray.wait_for_datagrams(sent)
    expected: dict[str, int] = {}
    for _, reason in BAD_DATAGRAMS:
        expected[reason] = expected.get(reason, 0) + 1
    assert stats["intake"]["rejected"] == expected
    assert stats["intake"]["documents"] == len(trace)
    assert httpx.get(f"{xray.base_url}/health").status_code == 200
    assert stored_trace_ids(xray) == {trace[0]["trace_id"]}
    log = xray.log_text()
    for reason in expected:  # each reason logged, once: a flood cannot flood the log
        assert log.count(f"rejected a document ({reason},") == 1, log
    assert "Traceback" not in log


def test_documents_over_the_size_limit_are_refused_and_counted(processes: ProcessGroup) -> None:
    xray = start_xray_local(processes, "--max-document-bytes", "2000")
    big = segment(
        "svc", trace_id=new_trace_id(), start=1.0, end=2.0, annotations={"pad": "x" * 3000}
    )
    small = segment("svc", trace_id=new_trace_id(), start=1.0, end=2.0)
    huge = PROTOCOL_HEADER + b"x" * 65_000  # as large as UDP carries: never cut short
    stats = xray.wait_for_datagrams(xray.send([big, huge, small]))
    assert stats["intake"]["rejected"] == {"oversized": 2}
    assert stats["intake"]["documents"] == 1


def test_a_segment_and_its_separately_sent_subsegments_are_one_trace(xray: LocalXRay) -> None:
    caller, callee = chain_trace(sql_calls=2)
    subsegments = caller.pop("subsegments")
    loose = [independent(sub, caller) for sub in subsegments]
    xray.wait_for_datagrams(xray.send([*loose, callee, caller]))  # in any order
    trace = xray.client().batch_get_traces(TraceIds=[caller["trace_id"]])["Traces"][0]
    documents = {s["Id"]: json.loads(s["Document"]) for s in trace["Segments"]}
    assembled = documents[caller["id"]]
    assert [sub["id"] for sub in assembled["subsegments"]] == [sub["id"] for sub in subsegments]
    assert documents[callee["id"]]["parent_id"] == subsegments[-1]["id"]


def test_an_in_progress_segment_is_replaced_when_it_completes(xray: LocalXRay) -> None:
    trace_id = new_trace_id()
    started = time.time()
    opened = segment("svc", trace_id=trace_id, start=started, end=None, entity_id="a" * 16)
    closed = segment("svc", trace_id=trace_id, start=started, end=started + 0.5, entity_id="a" * 16)
    xray.wait_for_datagrams(xray.send([opened]))
    client = xray.client()
    summary = client.get_trace_summaries(StartTime=started - 60, EndTime=started + 60)
    assert summary["TraceSummaries"][0]["IsPartial"] is True
    xray.send([closed])
    xray.wait_for_datagrams(2)
    segments = client.batch_get_traces(TraceIds=[trace_id])["Traces"][0]["Segments"]
    assert [json.loads(s["Document"])["end_time"] for s in segments] == [started + 0.5]
    graph = client.get_service_graph(StartTime=started - 60, EndTime=started + 60)
    counts = {
        s["Name"] + "/" + s["Type"]: s.get("SummaryStatistics", {}).get("TotalCount")
        for s in graph["Services"]
    }
    assert counts == {"svc/client": None, "svc/service": 1}


def test_every_datagram_is_relayed_verbatim_upstream(processes: ProcessGroup) -> None:
    upstream = SegmentCollector()
    try:
        xray = start_xray_local(processes, "--upstream", upstream.address)
        trace = chain_trace()
        garbage = b"garbage that the real daemon should judge for itself"
        sent = [datagram(document) for document in trace] + [garbage]
        xray.wait_for_datagrams(xray.send(sent))
        poll_until(
            lambda: len(upstream.datagram_sizes) == len(sent),
            f"{len(sent)} datagrams relayed upstream",
        )
        assert upstream.snapshot() == trace  # byte for byte: parsed equal, same sizes
        assert sorted(upstream.datagram_sizes) == sorted(len(d) for d in sent)
        assert upstream.malformed == [garbage]
        relay = xray.stats()["upstream"]
        assert relay == {
            "address": upstream.address,
            "relayed": 3,
            "unresolved": 0,
            "send_errors": 0,
        }
    finally:
        upstream.close()


def test_only_the_newest_traces_are_kept(processes: ProcessGroup) -> None:
    xray = start_xray_local(processes, "--keep-traces", "3")
    traces = [chain_trace(start=time.time() + index) for index in range(5)]
    xray.wait_for_datagrams(xray.send([document for trace in traces for document in trace]))
    assert stored_trace_ids(xray) == {trace[0]["trace_id"] for trace in traces[2:]}
    assert xray.stats()["store"]["traces_evicted"] == 2
