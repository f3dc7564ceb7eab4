"""scripts/bench/wrk.py reads wrk's summary: rate, percentiles in any unit, and errors."""

from __future__ import annotations

import pytest

from scripts.bench.wrk import WrkError, parse_wrk

CLEAN = """\
Running 10s test @ http://127.0.0.1:8095/usermgmt/notification-xray
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    35.12ms   12.02ms 126.73ms   80.00%
    Req/Sec   401.20     50.10   500.00     70.00%
  Latency Distribution
     50%   35.01ms
     75%   40.00ms
     90%   50.00ms
     99%  126.73ms
  4012 requests in 10.01s, 1.20MB read
Requests/sec:    400.80
Transfer/sec:    122.00KB
"""

TROUBLED = """\
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    1.90s
     99%    2.00s
  120 requests in 1.00m, 30.00KB read
  Socket errors: connect 0, read 2, write 0, timeout 7
  Non-2xx or 3xx responses: 5
Requests/sec:      2.00
"""


def test_a_clean_run() -> None:
    result = parse_wrk(CLEAN)
    assert (result.requests, result.seconds, result.requests_per_second) == (4012, 10.01, 400.8)
    assert result.latency_ms == {50: 35.01, 75: 40.0, 90: 50.0, 99: 126.73}
    assert result.errors == 0
    assert result.describe_errors() == "none"


def test_units_and_errors() -> None:
    result = parse_wrk(TROUBLED)
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(2000.0)
    assert result.seconds == pytest.approx(60.0)
    assert result.errors == 14
    assert result.describe_errors() == "read 2, timeout 7, non-2xx/3xx 5"


def test_output_without_a_summary_is_an_error() -> None:
    with pytest.raises(WrkError, match="cannot read"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
