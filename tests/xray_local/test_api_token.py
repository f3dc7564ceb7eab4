"""The optional API token: off by default; when set, traces are read and written only with it,
as boto3's access key id or a Bearer header, while the SDKs' sampler (unsigned) still works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from devstack.processes import ProcessGroup
from tests.support.chromium import ChromiumUnavailable, dump_dom
from tests.support.dom import parse_html
from tests.support.xray_documents import USERMGMT, chain_trace
from tests.support.xray_local import LocalXRay, start_xray_local

from .inprocess import InProcessApi

TOKEN = "k6XzP0f1-token_for_tests"
TRACE_OPERATIONS = ["/TraceSummaries", "/ServiceGraph", "/Traces", "/TraceGraph", "/TraceSegments"]
BODIES: dict[str, dict[str, Any]] = {
    "/TraceSummaries": {"StartTime": 1, "EndTime": 2},
    "/ServiceGraph": {"StartTime": 1, "EndTime": 2},
    "/Traces": {"TraceIds": []},
    "/TraceGraph": {"TraceIds": []},
    "/TraceSegments": {"TraceSegmentDocuments": []},
}
SIGV4 = (
    "AWS4-HMAC-SHA256 Credential={key}/20250101/us-east-1/xray/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0123abcd"
)


def test_without_a_token_the_api_is_open() -> None:
    api = InProcessApi()
    for path in TRACE_OPERATIONS:
        assert api.call(path, BODIES[path]).status_code == 200, path


@pytest.mark.parametrize("path", TRACE_OPERATIONS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-of-enough-length", SIGV4.format(key="x"), "Basic " + TOKEN],
    ids=["none", "wrong-bearer", "wrong-access-key", "other-scheme"],
)
def test_with_a_token_trace_operations_refuse_anyone_without_it(
    path: str, authorization: str | None
) -> None:
    api = InProcessApi(api_token=TOKEN)
    headers = {"Authorization": authorization} if authorization else None
    response = api.call(path, BODIES[path], headers)
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"
    assert "requires its API token" in response.json()["message"]
    assert TOKEN not in response.text


@pytest.mark.parametrize(
    "authorization", [f"Bearer {TOKEN}", SIGV4.format(key=TOKEN)], ids=["bearer", "sigv4"]
)
def test_with_a_token_the_right_one_is_let_in(authorization: str) -> None:
    api = InProcessApi(api_token=TOKEN)
    for path in TRACE_OPERATIONS:
        response = api.call(path, BODIES[path], {"Authorization": authorization})
        assert response.status_code == 200, path


def test_the_sdk_sampler_needs_no_token() -> None:
    # The X-Ray SDKs' centralized sampler sends its requests unsigned.
    api = InProcessApi(api_token=TOKEN)
    assert api.call("/GetSamplingRules", {}).status_code == 200


def started_with_token(processes: ProcessGroup, tmp_path: Path) -> LocalXRay:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    return start_xray_local(processes, "--api-token-file", str(token_file))


def test_boto3_passes_the_token_as_its_access_key(processes: ProcessGroup, tmp_path: Path) -> None:
    xray = started_with_token(processes, tmp_path)
    stranger = xray.client()  # access key "x"
    with pytest.raises(ClientError) as caught:
        stranger.put_trace_segments(TraceSegmentDocuments=[json.dumps(chain_trace()[0])])
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    owner = xray.client(access_key=TOKEN)
    documents = chain_trace()
    owner.put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in documents])
    traces = owner.batch_get_traces(TraceIds=[documents[0]["trace_id"]])["Traces"]
    assert len(traces) == 1
    assert httpx.get(f"{xray.base_url}/stats").status_code == 403
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{xray.base_url}/stats", headers=headers).status_code == 200
    assert httpx.get(f"{xray.base_url}/health").status_code == 200
    assert TOKEN not in xray.log_text()


@pytest.mark.parametrize(
    ("token", "phrase"),
    [("short", "16 to 128 letters"), ("has/a/slash/in/it/0123", "16 to 128 letters")],
)
def test_an_unusable_token_stops_the_daemon_saying_why(token: str, phrase: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "xray_local", "-b", "127.0.0.1:0", "-t", "127.0.0.1:0"],
        env={"XRAY_LOCAL_API_TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert phrase in result.stderr and token not in result.stderr


def test_the_page_takes_the_token_from_its_address(processes: ProcessGroup, tmp_path: Path) -> None:
    xray = started_with_token(processes, tmp_path)
    xray.client(access_key=TOKEN).put_trace_segments(
        TraceSegmentDocuments=[json.dumps(document) for document in chain_trace()]
    )
    try:
        without = parse_html(dump_dom(f"{xray.base_url}/"))
        with_token = parse_html(dump_dom(f"{xray.base_url}/#token={TOKEN}"))
    except ChromiumUnavailable as exc:
        pytest.fail(str(exc))
    [refused] = without.find_all("p", id="map-error")
    assert "hidden" not in refused.attributes and "requires its API token" in refused.text
    [error] = with_token.find_all("p", id="map-error")
    assert "hidden" in error.attributes
    assert with_token.find_all("g", class_="node", data_name=USERMGMT)
