"""The X-Ray API (restJson, the paths and shapes of botocore's model), served locally.

boto3, the AWS CLI and the SDKs' sampler pointed here with `endpoint_url` work unchanged.
Errors carry the API's shape (`x-amzn-ErrorType` and a JSON `message`), so clients raise
their usual exceptions; every call and every error is counted for `/stats`.
"""

from __future__ import annotations

import heapq
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
from .inputs import ApiError, Body, decode_token, encode_token, invalid, sampling_statistics
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
NEWEST_FIRST = attrgetter("start", "trace_id")  # with heapq.nlargest

Handler = Callable[[Body], dict[str, Any]]


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        {"__type": error.kind, "message": error.message},
        status_code=error.status,
        headers={"x-amzn-ErrorType": error.kind},
    )


class XRayApi:
    def __init__(self, store: Store, sampling: Sampling, ingestor: Ingestor) -> None:
        self.store = store
        self.sampling = sampling
        self.ingestor = ingestor
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
        cursor = decode_token(body.string("NextToken"), 2)
        # Comprehensions, not one loop: with 100,000 traces the per-trace overhead is the cost.
        analyses = self.store.analyses()
        if mode == "TraceId":
            first_second = math.floor(start)
            inside = [a for a in analyses if first_second <= a.epoch < end]
        else:
            inside = [a for a in analyses if a.start < end and a.end >= start]
        scanned = len(inside)
        if cursor is not None:
            after = (float(cursor[0]), str(cursor[1]))
            inside = [a for a in inside if (a.start, a.trace_id) < after]
        found = [a for a in inside if matches(a)] if matches else inside
        page = heapq.nlargest(PAGE_SIZE + 1, found, key=NEWEST_FIRST)
        summaries = []
        for analysis in page[:PAGE_SIZE]:
            trace = self.store.get(analysis.trace_id)
            if trace is not None:
                summaries.append(trace_summary(trace))
        result: dict[str, Any] = {
            "TraceSummaries": summaries,
            "ApproximateTime": float(math.floor(time.time())),
            "TracesProcessedCount": scanned,
        }
        if len(page) > PAGE_SIZE:
            result["NextToken"] = encode_token(list(NEWEST_FIRST(page[PAGE_SIZE - 1])))
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
