"""X-Amzn-Trace-Id parsing: continue valid traces, ignore anything malformed."""

import pytest

from tracing import TraceHeader, format_trace_header, parse_trace_header

ROOT = "1-5759e988-bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"Root={ROOT};Parent={PARENT};Sampled=1", TraceHeader(ROOT, PARENT, "1")),
        (f"Root={ROOT};Sampled=0", TraceHeader(ROOT, None, "0")),
        (f"Root={ROOT};Parent={PARENT};Sampled=?", TraceHeader(ROOT, PARENT, "?")),
        (f"Root={ROOT}", TraceHeader(ROOT)),  # what an ALB adds to a fresh request
        (
            f"Self=1-67891234-12456789abcdef012345678;Root={ROOT};Sampled=1",
            TraceHeader(ROOT, None, "1"),
        ),
        (f" Root={ROOT} ; Parent={PARENT} ; ", TraceHeader(ROOT, PARENT)),
        (f"Root={ROOT};Lineage=a87bd80c:1|68fd508a:5", TraceHeader(ROOT)),
    ],
    ids=["full", "root-sampled", "ask", "alb", "alb-self", "spaces", "lineage"],
)
def test_valid_headers_are_continued(value: str, expected: TraceHeader) -> None:
    assert parse_trace_header(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "Root=",
        "Root=garbage",
        "Root=1-5759e988-BD862E3FE1BE46A994272793",  # upper case hex
        "Root=2-5759e988-bd862e3fe1be46a994272793",
        f"Root={ROOT[:-1]}",
        f"Root={ROOT};Parent=xyz",
        f"Root={ROOT};Parent={PARENT}0",
        f"Root={ROOT};Sampled=2",
        f"Parent={PARENT};Sampled=1",  # no root: nothing to continue
        f"Root={ROOT};Sampled",
        f"Root={ROOT};" + "x=y;" * 400,  # absurdly long
    ],
)
def test_malformed_headers_are_ignored(value: str) -> None:
    assert parse_trace_header(value) is None


def test_absent_header_is_none() -> None:
    assert parse_trace_header(None) is None


def test_format_round_trips() -> None:
    value = format_trace_header(ROOT, PARENT, True)
    assert value == f"Root={ROOT};Parent={PARENT};Sampled=1"
    assert parse_trace_header(value) == TraceHeader(ROOT, PARENT, "1")
    assert format_trace_header(ROOT) == f"Root={ROOT}"
    assert format_trace_header(ROOT, sampled=False) == f"Root={ROOT};Sampled=0"
