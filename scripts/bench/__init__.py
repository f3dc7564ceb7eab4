"""Helpers of scripts/bench_tracing.py: wrk, telemetry sinks, modes, the OTel launcher."""
