"""The OTLP/HTTP application in-process: the encodings the OTLP specification defines, the
answers it prescribes, and translation rules the SDK cases do not reach."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import secrets
import time
from typing import Any

import httpx
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from xray_local.config import OtlpSettings
from xray_local.intake import Ingestor
from xray_local.otlp import OtlpApp, OtlpIntake
from xray_local.store import Retention, Store

from .otlp_spans import request as _request
from .otlp_spans import span as _span

PROTOBUF = {"content-type": "application/x-protobuf"}
JSON = {"content-type": "application/json"}


class Receiver:
    def __init__(self) -> None:
        self.store = Store(Retention())
        self.intake = OtlpIntake(Ingestor(self.store), OtlpSettings())
        self.app = OtlpApp(self.intake)

    def post(
        self, body: bytes, headers: dict[str, str], path: str = "/v1/traces"
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://otlp") as client:
                return await client.post(path, content=body, headers=headers)

        return asyncio.run(send())

    def documents(self, trace_id: str) -> list[dict[str, Any]]:
        trace = self.store.get(trace_id)
        assert trace is not None, f"no trace {trace_id}"
        return [json.loads(document.raw) for document in trace.documents()]


def _xray_id(trace_id: bytes) -> str:
    return f"1-{trace_id[:4].hex()}-{trace_id[4:].hex()}"


def test_json_with_hex_ids_and_integer_enums() -> None:
    """OTLP/JSON: hex ids (either case), `kind` as an integer, lowerCamelCase keys, unknown
    fields ignored; the answer is JSON too."""
    receiver = Receiver()
    trace_id = int(time.time()).to_bytes(4, "big") + secrets.token_bytes(12)
    now = time.time_ns()
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "j"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id.hex().upper(),
                                "spanId": "00F067AA0BA902B7",
                                "name": "GET /",
                                "kind": 2,
                                "startTimeUnixNano": str(now - 1000),
                                "endTimeUnixNano": now,
                                "someFutureField": {"x": 1},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    answer = receiver.post(json.dumps(body).encode(), JSON)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {}  # a full success leaves partial_success unset
    (document,) = receiver.documents(_xray_id(trace_id))
    assert (document["id"], document["name"], "type" in document) == (
        "00f067aa0ba902b7",
        "j",
        False,
    )


def test_gzip_protobuf_and_partial_success() -> None:
    receiver = Receiver()
    good = _span(Span.SPAN_KIND_SERVER)
    bad = _span(Span.SPAN_KIND_SERVER)
    bad.span_id = b"\x01"
    body = gzip.compress(_request(good, bad).SerializeToString())
    answer = receiver.post(body, {**PROTOBUF, "content-encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    partial = ExportTraceServiceResponse.FromString(answer.content).partial_success
    assert partial.rejected_spans == 1
    assert "span_id is 1 bytes, not 8" in partial.error_message
    assert len(receiver.documents(_xray_id(good.trace_id))) == 1


def test_partial_success_in_json_names_the_count() -> None:
    receiver = Receiver()
    span = _span(Span.SPAN_KIND_SERVER)
    span.end_time_unix_nano = 0
    body = json_format.MessageToDict(_request(span))
    for item in body["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        for field in ("traceId", "spanId"):
            item[field] = base64.b64decode(item[field]).hex()
    answer = receiver.post(json.dumps(body).encode(), JSON)
    assert answer.json()["partialSuccess"]["rejectedSpans"] == "1"  # int64: a string in JSON


def test_empty_request_other_paths_and_methods() -> None:
    receiver = Receiver()
    assert receiver.post(b"", PROTOBUF).status_code == 200
    assert receiver.post(b"", PROTOBUF, path="/v1/metrics").status_code == 404

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=receiver.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://otlp") as client:
            return await client.get("/v1/traces")

    answer = asyncio.run(get())
    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")
    assert answer.json()["message"] == "OTLP/HTTP is POST /v1/traces"


def test_local_root_call_becomes_a_service_segment_and_a_remote_subsegment() -> None:
    """segment.go MakeServiceSegmentAndDependencySubsegment: AWS's distributions mark local
    roots with aws.span.kind; a local root that is a call is both the service and the call."""
    receiver = Receiver()
    span = _span(
        Span.SPAN_KIND_CLIENT,
        secrets.token_bytes(8),  # the parent
        None,  # a new trace id: the attributes below are all the keywords
        **{
            "aws.span.kind": "LOCAL_ROOT",
            "aws.local.service": "worker",
            "aws.remote.service": "billing",
            "http.method": "POST",
        },
    )
    receiver.post(_request(span).SerializeToString(), PROTOBUF)
    documents = {d["name"]: d for d in receiver.documents(_xray_id(span.trace_id))}
    service, call = documents["worker"], documents["billing"]
    assert "type" not in service and "http" not in service
    assert service["parent_id"] == span.parent_span_id.hex()
    assert (call["type"], call["namespace"], call["id"]) == (
        "subsegment",
        "remote",
        span.span_id.hex(),
    )
    assert call["parent_id"] == service["id"]


def test_aws_sdk_call_is_an_aws_node() -> None:
    """segment.go: an AWS SDK span (rpc.system aws-api) is named after the service, in the
    `aws` namespace, with aws.go's operation; the map draws it as AWS::<service>."""
    receiver = Receiver()
    server = _span(Span.SPAN_KIND_SERVER)
    call = _span(
        Span.SPAN_KIND_CLIENT,
        parent=server.span_id,
        trace_id=server.trace_id,
        **{"rpc.system": "aws-api", "aws.service": "DynamoDB", "rpc.method": "GetItem"},
    )
    receiver.post(_request(server, call).SerializeToString(), PROTOBUF)
    documents = {d["id"]: d for d in receiver.documents(_xray_id(server.trace_id))}
    document = documents[call.span_id.hex()]
    assert (document["name"], document["namespace"]) == ("DynamoDB", "aws")
    assert document["aws"]["operation"] == "GetItem"
    nodes = {(s["Name"], s["Type"]) for s in receiver.store.graph(0, time.time() + 60).services()}
    assert ("DynamoDB", "AWS::DynamoDB") in nodes


def test_span_links_are_kept() -> None:
    receiver = Receiver()
    span = _span(Span.SPAN_KIND_SERVER)
    linked = span.links.add(trace_id=b"\x5f" * 16, span_id=b"\x01" * 8)
    linked.attributes.add(key="reason").value.string_value = "batch"
    receiver.post(_request(span).SerializeToString(), PROTOBUF)
    (document,) = receiver.documents(_xray_id(span.trace_id))
    assert document["links"] == [
        {"trace_id": "1-5f5f5f5f-" + "5f" * 12, "id": "01" * 8, "attributes": {"reason": "batch"}}
    ]
