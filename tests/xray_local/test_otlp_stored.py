"""What the OTLP intake keeps of a span: the record the store would make of the same document
sent any other way, in no more memory than the store accounts for."""

from __future__ import annotations

import gc
import secrets
import time
import tracemalloc

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.support.otel import ChainRecorders, SpanRecorder, chain_spans
from tests.support.xray_documents import notification_name
from xray_local.config import OtlpSettings
from xray_local.documents import parse_document
from xray_local.intake import Ingestor
from xray_local.otlp import OtlpIntake
from xray_local.store import Retention, Store

from .otlp_cases import CASES
from .otlp_spans import request as otlp_request
from .otlp_spans import span as otlp_span

# The settings test_otlp_rules.py runs the cases with.
SETTINGS = OtlpSettings(indexed_attributes=("http.route",))


def _case_request(name: str) -> ExportTraceServiceRequest:
    (case,) = [case for case in CASES if case.name == name]
    recorder = SpanRecorder(case.resource)
    case.build(recorder.tracer())
    request = encode_spans(recorder.spans)
    recorder.shutdown()
    return request


def _local_root_call() -> ExportTraceServiceRequest:
    """What the SDK cases do not make: a local root that is a call (two documents) to an AWS
    service, links, a user, and annotations of every type."""
    span = otlp_span(
        Span.SPAN_KIND_PRODUCER,
        secrets.token_bytes(8),  # the parent
        None,  # a new trace id: the attributes below are all the keywords
        **{
            "aws.span.kind": "LOCAL_ROOT",
            "aws.local.service": "mailer",
            "aws.remote.service": "AWS::SQS",
            "rpc.system": "aws-api",
            "rpc.method": "SendMessage",
            "aws.queue.url": "https://sqs.eu-west-1.amazonaws.com/123456789012/mail",
            "enduser.id": "ada",
        },
    )
    span.attributes.add(key="count").value.int_value = 3
    span.attributes.add(key="ratio").value.double_value = 0.5
    span.attributes.add(key="cached").value.bool_value = True
    named = span.attributes.add(key="aws.xray.annotations").value.array_value
    for key in ("count", "ratio", "cached", "otel.resource.service.name"):
        named.values.add().string_value = key
    span.links.add(trace_id=secrets.token_bytes(16), span_id=secrets.token_bytes(8))
    return otlp_request(span)


@pytest.mark.parametrize("name", [case.name for case in CASES] + ["local-root-call"])
def test_a_span_is_stored_as_its_document_would_be(name: str) -> None:
    """The intake reduces the documents it makes without parsing their JSON back
    (documents.made_document); each record must be the one parsing and validating that JSON
    makes, as for a document from UDP or PutTraceSegments."""
    request = _local_root_call() if name == "local-root-call" else _case_request(name)
    store = Store(Retention())
    OtlpIntake(Ingestor(store), SETTINGS).accept(request)
    stored = [document for trace in store.traces() for document in trace.documents()]
    assert stored, f"{name}: nothing stored"
    for document in stored:
        assert document == parse_document(document.raw), document.raw.decode()


def test_a_name_x_ray_refuses_is_refused_and_counted() -> None:
    """A segment's name comes from what the sender says (here `peer.service`): the documents
    the intake makes are held to X-Ray's 1 to 200 characters as any other is."""
    store = Store(Retention())
    ingestor = Ingestor(store)
    span = otlp_span(
        Span.SPAN_KIND_CLIENT, secrets.token_bytes(8), None, **{"peer.service": "p" * 201}
    )
    outcome = OtlpIntake(ingestor, SETTINGS).accept(otlp_request(span))
    assert (outcome.rejected, "name must be a string of 1 to 200" in outcome.message) == (1, True)
    assert ingestor.counters.rejected == {"invalid_segment": 1}
    assert store.document_count == 0


def test_stored_spans_take_about_the_memory_the_store_counts() -> None:
    """--keep-megabytes bounds the store by its own estimate of its size: what it holds for
    spans must stay near that estimate. (Keeping orjson's whole output buffer with each
    document once made it more than four times as much.)"""
    recorders = ChainRecorders(notification_name("V1"))
    for _ in range(100):
        chain_spans(recorders, version="V1", start=time.time(), sql_calls=1)
    request = encode_spans(recorders.spans)
    store = Store(Retention())
    intake = OtlpIntake(Ingestor(store), SETTINGS)
    gc.collect()
    tracemalloc.start()
    try:
        intake.accept(request)
        store.flush()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert store.document_count == 400  # four spans a call
    assert held < 2 * store.approximate_bytes, (held, store.approximate_bytes)
