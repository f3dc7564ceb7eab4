"""Reading X-Ray API request bodies: typed fields, and errors in the API's own shape."""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime
from typing import Any, TypeVar

from starlette.responses import JSONResponse

T = TypeVar("T")
# A NextToken this server writes is about 80 characters: a start time and a trace id.
MAX_TOKEN_CHARS = 1024
MAX_TRACE_ID_CHARS = 35  # botocore's TraceId shape


class ApiError(Exception):
    """An error answer: HTTP status, X-Ray error type, message (what boto3 shows)."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


def error_response(error: ApiError) -> JSONResponse:
    """The API's error shape: boto3 reads the type from x-amzn-ErrorType."""
    return JSONResponse(
        {"__type": error.kind, "message": error.message},
        status_code=error.status,
        headers={"x-amzn-ErrorType": error.kind},
    )


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidRequestException", message)


class Body:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    def parse(cls, raw: bytes) -> Body:
        if not raw.strip():
            return cls({})
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError(
                400, "SerializationException", "the request body is not valid JSON"
            ) from None
        if not isinstance(data, dict):
            raise ApiError(400, "SerializationException", "the request body must be a JSON object")
        return cls(data)

    def timestamp(self, key: str) -> float:
        """Required: epoch seconds (what botocore sends) or an ISO 8601 string."""
        value = self.data.get(key)
        if value is None:
            raise invalid(f"{key} is required")
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass
        raise invalid(f"{key} must be a timestamp (epoch seconds or ISO 8601), not {value!r}")

    def string(self, key: str, choices: tuple[str, ...] | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid(f"{key} must be a string")
        if choices is not None and value not in choices:
            raise invalid(f"{key} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def strings(self, key: str, max_items: int) -> list[str]:
        """Required: a list of strings."""
        return self._list(key, max_items, str, "strings")

    def objects(self, key: str, max_items: int) -> list[dict[str, Any]]:
        """Required: a list of JSON objects."""
        return self._list(key, max_items, dict, "objects")

    def _list(self, key: str, max_items: int, kind: type[T], kinds: str) -> list[T]:
        value = self.data.get(key)
        if value is None:
            raise invalid(f"{key} is required")
        if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
            raise invalid(f"{key} must be a list of {kinds}")
        if len(value) > max_items:
            raise invalid(f"{key} takes at most {max_items} items, not {len(value)}")
        return value


def sampling_statistics(item: dict[str, Any], index: int) -> dict[str, Any]:
    """One SamplingStatisticsDocument, checked as the API model requires."""
    where = f"SamplingStatisticsDocuments[{index}]"
    name, client = item.get("RuleName"), item.get("ClientID")
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        raise invalid(f"{where}.RuleName must be a rule name of 1 to 32 characters")
    if not isinstance(client, str) or len(client) != 24:
        raise invalid(f"{where}.ClientID must be a 24-character client id")
    Body(item).timestamp("Timestamp")
    counts = {}
    for key in ("RequestCount", "SampledCount", "BorrowCount"):
        value = item.get(key, 0 if key == "BorrowCount" else None)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise invalid(f"{where}.{key} must be a whole number of at least 0")
        counts[key] = value
    return {"RuleName": name, "ClientID": client, **counts}


def encode_token(position: tuple[float, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode()


def decode_token(token: str | None) -> tuple[float, str] | None:
    """The (start time, trace id) a page ended at, from a NextToken this server gave out;
    anything else is the client's mistake (400), never a failure here."""
    if token is None:
        return None
    try:
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError("too long")
        position = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not (isinstance(position, list) and len(position) == 2):
            raise ValueError("not a position")
        when, trace_id = position
        if type(when) not in (int, float) or not math.isfinite(when):
            raise ValueError("not a time")
        if not isinstance(trace_id, str) or len(trace_id) > MAX_TRACE_ID_CHARS:
            raise ValueError("not a trace id")
        return float(when), trace_id
    except (ValueError, binascii.Error, RecursionError, OverflowError):
        raise invalid("NextToken is not one this server gave out") from None
