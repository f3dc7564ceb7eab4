"""A fixed set of traces on which every filter expression of AWS's guide has a known answer.

Named after what each shows, with the services, annotations and users the guide's examples
name (api.example.com, backend.example.com, data-plane, Auth, GetWeatherData, random-name),
and near misses beside each match, so that an expression that selects too much or too
little is caught. Times are fixed: the same documents on every run.
"""

from __future__ import annotations

from .builders import BASE, Document, call, entity, trace

__all__ = ["BASE", "guide_traces"]

API = "api.example.com"
BACKEND = "backend.example.com"


def guide_traces() -> dict[str, list[Document]]:
    traces: dict[str, list[Document]] = {}

    # An answered call to the backend, the annotations and user the guide's examples use.
    backend_call = call(BACKEND, 0.1, 0.1, status=200)
    traces["game"] = trace(
        1,
        entity(
            API,
            0,
            0.3,
            status=200,
            url="http://api.example.com/api/game/42",
            children=[backend_call],
            annotations={"gameid": "817DL6VO", "age": 30},
            user="alice",
        ),
        (backend_call, entity(BACKEND, 0.11, 0.08, status=200, url="http://backend/")),
    )
    slow_call = call(BACKEND, 0.2, 5.5, status=200)
    traces["v2-slow"] = trace(
        2,
        entity(
            API,
            0,
            6.0,
            status=200,
            url="http://api.example.com/v2/users",
            children=[slow_call],
            annotations={"age": 25},
            user="bob",
        ),
        (slow_call, entity(BACKEND, 0.25, 5.4, status=200, url="http://backend/")),
    )
    # An api.example.com URL served by another service (a proxy): a near miss for service().
    traces["v2-proxy"] = trace(
        3, entity("web.example.com", 0, 2.5, status=200, url="http://api.example.com/v2/items")
    )
    # The backend's 404 is handled: the user gets a 200. `error` does not find it; edge() does.
    error_call = call(BACKEND, 0.1, 0.1, status=404)
    backend_error = entity(BACKEND, 0.12, 0.05, status=404, url="http://backend/")
    traces["backend-error"] = trace(
        4,
        entity(
            API, 0, 0.4, status=200, url="http://api.example.com/api/score", children=[error_call]
        ),
        (error_call, backend_error),
    )
    # The backend's 500 is handled too (201): `fault` does not find it; service() { fault } does.
    fault_call = call(BACKEND, 0.1, 0.2, status=500)
    traces["backend-fault"] = trace(
        5,
        entity(
            API,
            0,
            0.5,
            status=201,
            method="POST",
            url="http://api.example.com/api/game",
            children=[fault_call],
        ),
        (
            fault_call,
            entity(
                BACKEND,
                0.12,
                0.15,
                status=500,
                url="http://backend/",
                exception=("InternalError", "backend broke"),
            ),
        ),
    )
    traces["api-fault"] = trace(
        6,
        entity(
            API,
            0,
            0.1,
            status=500,
            url="http://api.example.com/api/crash",
            exception=("RuntimeError", "boom"),
            annotations={"account": "12345"},
        ),
    )
    # The guide's "deserialize" root cause: a local subsegment that failed.
    traces["data-plane"] = trace(
        7,
        entity(
            "data-plane",
            0,
            0.2,
            status=503,
            url="http://data-plane/read",
            children=[
                entity("deserialize", 0.05, 0.1, exception=("SerializationError", "bad payload"))
            ],
        ),
    )
    # A DynamoDB call that failed and took most of the time: fault and response time root
    # causes end in the inferred AWS::DynamoDB service.
    traces["auth"] = trace(
        8,
        entity(
            "Auth",
            0,
            1.0,
            status=500,
            url="http://auth.example.com/login",
            children=[
                entity(
                    "DynamoDB",
                    0.05,
                    0.9,
                    namespace="aws",
                    exception=(
                        "AccessDeniedException",
                        "Access Denied for account_id: 1234567890",
                    ),
                )
            ],
        ),
    )
    # The guide's root cause JSON example: GetWeatherData -> get_temperature -> GetTemperature.
    temperature_call = entity("get_temperature", 0.1, 0.8)
    traces["weather"] = trace(
        9,
        entity(
            "GetWeatherData",
            0,
            1.0,
            status=200,
            url="http://weather/forecast",
            children=[temperature_call],
        ),
        (temperature_call, entity("GetTemperature", 0.15, 0.7, status=200, url="http://temp/")),
    )
    traces["traces-call"] = trace(
        10,
        entity(
            "frontend",
            0,
            1.0,
            status=200,
            url="http://frontend.example.com/",
            children=[call("traces", 0.05, 0.9, traced=False, status=200)],
        ),
    )
    # Lambda's two nodes of one name: the service (AWS::Lambda) and the function.
    invocation = entity("Invocation", 0.01, 0.3)
    traces["lambda-function"] = trace(
        11,
        entity("random-name", 0, 0.35, origin="AWS::Lambda", children=[invocation]),
        (
            invocation,
            entity(
                "random-name",
                0.02,
                0.25,
                origin="AWS::Lambda::Function",
                error=True,
                aws={"account_id": "account-id"},
            ),
        ),
    )
    traces["lambda-service"] = trace(
        12,
        entity(
            "random-name",
            0,
            0.05,
            status=429,
            url="http://lambda/invoke",
            origin="AWS::Lambda",
            aws={"account_id": "123456789012"},
        ),
    )
    traces["deep"] = _deep_fault(13, hops=7)
    # A traced call whose callee never sent its segment: partial, though all went well.
    lost_call = call(BACKEND, 0.05, 0.1, status=200)
    traces["partial-ok"] = trace(
        14,
        entity(
            API, 0, 0.2, status=200, url="http://api.example.com/api/ping", children=[lost_call]
        ),
    )
    traces["in-progress"] = trace(
        15, entity(API, 0, None, url="http://api.example.com/api/long-poll")
    )
    traces["batch"] = trace(16, entity("nightly-job", 0, 3.0))
    # Work after the response: the mail call ends 6.5 s after the user got the 201.
    traces["async"] = trace(
        17,
        entity(
            API,
            0,
            0.5,
            status=201,
            method="POST",
            url="http://api.example.com/api/signup",
            children=[call("mail.example.com", 0.4, 6.6, traced=False)],
        ),
    )
    return traces


def _deep_fault(index: int, hops: int) -> list[Document]:
    """hop-0 -> hop-1 -> ... each failing: a fault root cause through `hops` services."""
    segments = []
    calls: list[tuple[Document, Document]] = []
    previous_call: Document | None = None
    for hop in range(hops):
        children = []
        next_call = None
        if hop < hops - 1:
            next_call = call(f"hop-{hop + 1}", 0.01 * (hop + 1), 0.5 - 0.02 * hop, status=500)
            children.append(next_call)
        segment = entity(
            f"hop-{hop}",
            0.01 * hop,
            0.5 - 0.02 * hop + 0.005,
            status=500,
            url=f"http://hop-{hop}/",
            children=children,
        )
        if previous_call is not None:
            calls.append((previous_call, segment))
        else:
            segments.append(segment)
        previous_call = next_call
    return trace(index, segments[0], *calls)
