"""OTLP/HTTP: `POST /v1/traces`, answered as the OTLP specification says.

- 200 with an `ExportTraceServiceResponse` in the request's encoding; `partial_success`
  (the count and why) when some spans were refused ("Partial Success").
- 400 for a body that cannot be decoded ("Bad Data"), 413 for one over the size limit,
  before or after gzip ("OTLP/HTTP Request"), 415 for a content type or encoding other than
  protobuf or JSON, gzip or none; each with a `google.rpc.Status` body ("Failures"), in
  JSON unless the request was protobuf, so a person with curl reads the message.
- 404 for other paths (this intake takes traces only), 405 for other methods.

A plain ASGI application: it is mounted on its own address next to the X-Ray API.
"""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)
from starlette.types import Receive, Scope, Send

from .decode import BadBody, Format, inflate, media_format, parse
from .intake import OtlpIntake

TRACES_PATH = "/v1/traces"
IDENTITY_ENCODINGS = ("", "identity")
GZIP_ENCODINGS = ("gzip", "x-gzip")


class Refused(Exception):
    """A request answered with an error status and a Status message."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason  # counted in the intake's rejections when set


class OtlpApp:
    def __init__(self, intake: OtlpIntake) -> None:
        self.intake = intake
        self.max_body_bytes = intake.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        body_format = media_format(headers.get("content-type", ""))
        try:
            if scope["path"] != TRACES_PATH:
                raise Refused(
                    404, f"no OTLP service at {scope['path']}; spans go to POST /v1/traces"
                )
            if scope["method"] != "POST":
                raise Refused(405, "OTLP/HTTP is POST /v1/traces")
            if body_format is None:
                raise Refused(
                    415,
                    "Content-Type must be application/x-protobuf or application/json",
                    "otlp_unsupported",
                )
            encoding = headers.get("content-encoding", "").strip().lower()
            if encoding not in IDENTITY_ENCODINGS + GZIP_ENCODINGS:
                raise Refused(
                    415, f"Content-Encoding {encoding!r}: gzip or none", "otlp_unsupported"
                )
            body = await self._read(headers, receive)
            request = parse(
                body if encoding in IDENTITY_ENCODINGS else self._inflate(body), body_format
            )
        except Refused as refused:
            await self._refuse(send, refused, body_format)
            return
        except BadBody as exc:
            status, reason = (413, "otlp_too_large") if exc.too_large else (400, "otlp_bad_body")
            await self._refuse(send, Refused(status, str(exc), reason), body_format)
            return
        self.intake.counters.requests += 1
        outcome = self.intake.accept(request)
        response = ExportTraceServiceResponse()
        if outcome.rejected:
            response.partial_success.CopyFrom(
                ExportTracePartialSuccess(
                    rejected_spans=outcome.rejected, error_message=outcome.message
                )
            )
        await _respond(send, 200, response, body_format)

    async def _read(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BadBody(f"the body is {declared} bytes; the limit is {limit}", too_large=True)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadBody("the client went away before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BadBody(f"the body is over the limit of {limit} bytes", too_large=True)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _inflate(self, body: bytes) -> bytes:
        return inflate(body, self.max_body_bytes)

    async def _refuse(self, send: Send, refused: Refused, body_format: Format | None) -> None:
        self.intake.counters.http_errors[str(refused.status)] += 1
        if refused.reason is not None:
            self.intake.reject(refused.reason, str(refused))
        status = status_pb2.Status(
            code=_CODES.get(refused.status, code_pb2.UNKNOWN), message=str(refused)
        )
        if refused.status == 400:
            # "The Status.details field in the response SHOULD contain a BadRequest."
            bad = error_details_pb2.BadRequest()
            bad.field_violations.add(field="body", description=str(refused))
            status.details.add().Pack(bad)
        await _respond(
            send, refused.status, status, body_format or Format.JSON, allow=refused.status == 405
        )


_CODES = {
    400: code_pb2.INVALID_ARGUMENT,
    404: code_pb2.NOT_FOUND,
    405: code_pb2.UNIMPLEMENTED,
    413: code_pb2.RESOURCE_EXHAUSTED,
    415: code_pb2.INVALID_ARGUMENT,
}


async def _respond(
    send: Send, status: int, message: Message, body_format: Format, allow: bool = False
) -> None:
    if body_format is Format.PROTOBUF:
        body = message.SerializeToString()
    else:
        body = json_format.MessageToJson(message, indent=None).encode()
    headers = [
        (b"content-type", body_format.value.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if allow:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
