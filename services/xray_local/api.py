"""The X-Ray API (restJson, the paths and shapes of botocore's model), served locally.

boto3, the AWS CLI and the SDKs' sampler pointed here with `endpoint_url` work unchanged.
Errors carry the API's shape (`x-amzn-ErrorType` and a JSON `message`), so clients raise
their usual exceptions; every call and every error is counted for `/stats`.
"""

from __future__ import annotations

import heapq
import hmac
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .documents import InvalidDocument
from .filters import FilterError, compile_filter
from .graph import graph_of
from .inputs import (
    ApiError,
    Body,
    decode_token,
    encode_token,
    error_response,
    invalid,
    sampling_statistics,
)
from .intake import Ingestor
from .sampling import Sampling
from .shapes import full_trace, trace_summary
from .store import Store
from .trace import Trace

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_TRACE_IDS = 100
MAX_SEGMENT_DOCUMENTS = 1000
MAX_STATISTICS_DOCUMENTS = 25
MAX_REQUEST_BYTES = 8 * 1024 * 1024
TIME_RANGE_TYPES = ("TraceId", "Event", "Service")
DEFAULT_GROUP = "Default"
# Newest first, with heapq.nlargest; a trace's start is its analysis', up to date once the
# store has flushed (Store.traces does).
NEWEST_FIRST = attrgetter("start", "id")
# What the SDKs' centralized sampler calls, unsigned (it sends no credentials): these stay
# open when the API takes a token; they read and change nothing but sampling counters.
OPEN_OPERATIONS = ("GetSamplingRules", "GetSamplingTargets")
TOKEN_REQUIRED = (
    "this xray_local requires its API token: as the access key id (boto3, the AWS CLI) "
    "or as 'Authorization: Bearer <token>'"
)

Handler = Callable[[Body], dict[str, Any]]


class XRayApi:
    def __init__(
        self,
        store: Store,
        sampling: Sampling,
        ingestor: Ingestor,
        api_token: str | None = None,
    ) -> None:
        self.store = store
        self.sampling = sampling
        self.ingestor = ingestor
        self.api_token = api_token
        self.calls: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.operations: dict[str, tuple[str, Handler]] = {
            "/GetSamplingRules": ("GetSamplingRules", self.get_sampling_rules),
            "/SamplingTargets": ("GetSamplingTargets", self.get_sampling_targets),
            "/TraceSegments": ("PutTraceSegments", self.put_trace_segments),
            "/ServiceGraph": ("GetServiceGraph", self.get_service_graph),
            "/TraceSummaries": ("GetTraceSummaries", self.get_trace_summaries),
            "/Traces": ("BatchGetTraces", self.batch_get_traces),
            "/TraceGraph": ("GetTraceGraph", self.get_trace_graph),
        }

    async def endpoint(self, request: Request) -> Response:
        path = request.url.path
        operation = self.operations.get(path)
        try:
            if operation is None:
                self.calls["unknown"] += 1
                raise ApiError(
                    404,
                    "UnknownOperationException",
                    f"no X-Ray operation at {request.method} {path}",
                )
            name, handler = operation
            self.calls[name] += 1
            if name not in OPEN_OPERATIONS:
                self.authorize(request)
            if request.method != "POST":
                raise ApiError(405, "MethodNotAllowedException", f"{name} is POST {path}")
            body = Body.parse(await _read(request))
            return JSONResponse(handler(body))
        except ApiError as error:
            self.errors[error.kind] += 1
            return error_response(error)
        except Exception:
            log.exception("%s %s failed", request.method, path)
            self.errors["InternalFailure"] += 1
            return error_response(ApiError(500, "InternalFailure", "internal error; see the log"))

    def authorize(self, request: Request) -> None:
        """Raise unless the request carries the API token, when one is set."""
        if self.api_token is None:
            return
        presented = presented_token(request.headers.get("authorization", ""))
        if presented is None or not hmac.compare_digest(
            presented.encode(), self.api_token.encode()
        ):
            raise ApiError(403, "UnrecognizedClientException", TOKEN_REQUIRED)

    # --- sampling -------------------------------------------------------------------

    def get_sampling_rules(self, body: Body) -> dict[str, Any]:
        return {"SamplingRuleRecords": self.sampling.rule_records()}

    def get_sampling_targets(self, body: Body) -> dict[str, Any]:
        items = body.objects("SamplingStatisticsDocuments", MAX_STATISTICS_DOCUMENTS)
        reports = [sampling_statistics(item, index) for index, item in enumerate(items)]
        return self.sampling.targets(reports)

    # --- segments -------------------------------------------------------------------

    def put_trace_segments(self, body: Body) -> dict[str, Any]:
        documents = body.strings("TraceSegmentDocuments", MAX_SEGMENT_DOCUMENTS)
        unprocessed = []
        for document in documents:
            try:
                self.ingestor.ingest(document.encode())
            except InvalidDocument as exc:
                entry = {"ErrorCode": exc.reason, "Message": str(exc)}
                if exc.entity_id:
                    entry["Id"] = exc.entity_id
                unprocessed.append(entry)
        return {"UnprocessedTraceSegments": unprocessed}

    # --- graphs ---------------------------------------------------------------------

    def get_service_graph(self, body: Body) -> dict[str, Any]:
        start, end = _time_range(body)
        group = body.string("GroupName")
        if (group not in (None, DEFAULT_GROUP)) or body.string("GroupARN") is not None:
            raise invalid("only the Default group exists here (groups are not supported)")
        return {
            "StartTime": start,
            "EndTime": end,
            "Services": self.store.graph(start, end).services(),
            "ContainsOldGroupVersions": False,
        }

    def get_trace_graph(self, body: Body) -> dict[str, Any]:
        traces = self._traces(body.strings("TraceIds", MAX_TRACE_IDS))
        return {"Services": graph_of(trace.analysis() for trace in traces.values()).services()}

    # --- traces ---------------------------------------------------------------------

    def batch_get_traces(self, body: Body) -> dict[str, Any]:
        ids = body.strings("TraceIds", MAX_TRACE_IDS)
        traces = self._traces(ids)
        return {
            "Traces": [full_trace(trace) for trace in traces.values()],
            "UnprocessedTraceIds": [trace_id for trace_id in ids if trace_id not in traces],
        }

    def get_trace_summaries(self, body: Body) -> dict[str, Any]:
        start, end = _time_range(body)
        mode = body.string("TimeRangeType", TIME_RANGE_TYPES) or "TraceId"
        expression = body.string("FilterExpression") or ""
        try:
            matches = compile_filter(expression) if expression.strip() else None
        except FilterError as exc:
            raise invalid(str(exc)) from None
        cursor = decode_token(body.string("NextToken"))
        # Comprehensions, not one loop: with 100,000 traces the per-trace overhead is the cost.
        # botocore's TimeRangeType: "TraceId (trace start time), Event (trace update time),
        # or Service (trace segment end time)".
        traces = self.store.traces()
        if mode == "TraceId":
            first_second = math.floor(start)
            inside = [t for t in traces if first_second <= t.epoch < end]
        elif mode == "Event":
            inside = [t for t in traces if start <= t.updated < end]
        else:
            inside = [t for t in traces if _ended_within(t.analysis().segment_ends, start, end)]
        scanned = len(inside)
        if cursor is not None:
            inside = [t for t in inside if NEWEST_FIRST(t) < cursor]
        found = [t for t in inside if matches(t)] if matches else inside
        page = heapq.nlargest(PAGE_SIZE + 1, found, key=NEWEST_FIRST)
        summaries = [
            trace_summary(trace, trace.updated if mode == "Event" else None)
            for trace in page[:PAGE_SIZE]
        ]
        result: dict[str, Any] = {
            "TraceSummaries": summaries,
            "ApproximateTime": float(math.floor(time.time())),
            "TracesProcessedCount": scanned,
        }
        if len(page) > PAGE_SIZE:
            result["NextToken"] = encode_token(NEWEST_FIRST(page[PAGE_SIZE - 1]))
        return result

    def _traces(self, ids: list[str]) -> dict[str, Trace]:
        self.store.flush()
        found = {}
        for trace_id in ids:
            trace = self.store.get(trace_id)
            if trace is not None:
                found[trace_id] = trace
        return found

    def status(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), "errors": dict(self.errors)}


def _ended_within(ends: tuple[float, ...], start: float, end: float) -> bool:
    return any(start <= when < end for when in ends)


def presented_token(authorization: str) -> str | None:
    """The token in a Bearer header, or the access key id of a SigV4 signature, which is
    how boto3 and the AWS CLI carry it (`aws_access_key_id=<token>`)."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    if scheme == "AWS4-HMAC-SHA256":
        for part in rest.split(","):
            key, _, value = part.strip().partition("=")
            if key == "Credential":
                return value.partition("/")[0] or None
    return None


def _time_range(body: Body) -> tuple[float, float]:
    start, end = body.timestamp("StartTime"), body.timestamp("EndTime")
    if end <= start:
        raise invalid("EndTime must be later than StartTime")
    return start, end


async def _read(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ApiError:
    return ApiError(
        413,
        "RequestEntityTooLargeException",
        f"request bodies are limited to {MAX_REQUEST_BYTES} bytes",
    )
