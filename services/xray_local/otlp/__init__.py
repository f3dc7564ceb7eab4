"""OpenTelemetry in: OTLP spans translated into X-Ray segment documents.

Spans arrive as OTLP/HTTP (`POST /v1/traces`, protobuf or JSON) or as OTLP over UDP on the
daemon port (what AWS's OpenTelemetry distributions send to the X-Ray daemon). Each span
becomes one segment or subsegment document by the rules of the OpenTelemetry Collector's
`awsxrayexporter` (opentelemetry-collector-contrib, `exporter/awsxrayexporter/internal/
translator/`), and the documents go through the same intake, store, graph and API as the
segments the X-Ray SDKs send: one store, one map.
"""

from .intake import OtlpIntake
from .server import OtlpApp

__all__ = ["OtlpApp", "OtlpIntake"]
