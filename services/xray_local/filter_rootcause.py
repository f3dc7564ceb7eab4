"""The root cause keywords: `rootcause.fault|error|responsetime.service|entity|exception`
with an optional `{ filter }`, and `rootcause.json = #[...]` (the developer guide, "Using
filter expressions" and "Getting data from AWS X-Ray": retrieving and refining root cause
analytics)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .detail import Traced
from .filter_terms import ROOT_CAUSE_ELEMENTS, Enumerated
from .rootcause import ERROR, FAULT, KINDS, RESPONSE_TIME, RootCause, root_causes, shaped

if TYPE_CHECKING:
    from .filters import Parser, Token

Predicate = Callable[[Any], bool]


def rootcause(parser: Parser, token: Token) -> Predicate:
    parts = token.text.lower().split(".")
    if parts == ["rootcause", "json"]:
        return root_cause_json(parser)
    forms = "rootcause.fault|error|responsetime.service|entity|exception { ... }"
    if len(parts) != 3 or parts[0] != "rootcause" or parts[1] not in KINDS:
        raise parser.error(f"expected {forms} or rootcause.json = #[...]", token)
    kind, element = parts[1], parts[2]
    if element not in ROOT_CAUSE_ELEMENTS:
        raise parser.error(f"expected {forms} or rootcause.json = #[...]", token)
    if kind == RESPONSE_TIME and element == "exception":
        raise parser.error(
            "response time root causes have no exceptions (botocore's "
            "ResponseTimeRootCauseEntity has Name, Coverage and Remote)",
            token,
        )
    braces = parser.braces(ROOT_CAUSE_ELEMENTS[element])
    inner = None if braces is None else braces.predicate

    def predicate(trace: Traced) -> bool:
        analysis = trace.analysis()
        if (kind == FAULT and not analysis.any_fault) or (kind == ERROR and not analysis.any_error):
            return False
        for cause in root_causes(trace.detail(), kind):
            items = _elements(cause, element)
            if inner is None and items:
                return True
            if inner is not None and any(
                inner(Enumerated(item, index, len(items))) for index, item in enumerate(items)
            ):
                return True
        return False

    return predicate


def _elements(cause: RootCause, element: str) -> list[Any]:
    if element == "service":
        return list(cause.services)
    if element == "entity":
        return cause.entities()
    return cause.exceptions()


def root_cause_json(parser: Parser) -> Predicate:
    """`rootcause.json = #[{...}]` (the guide's "Getting data", root cause analytics): "For
    every field present in the JSON, any candidate match must be exact ... Removed fields
    become wildcard values"."""
    parser.expect("=")
    parser.expect("#")
    patterns = parser.raw_json()
    if not isinstance(patterns, list) or not all(isinstance(p, dict) for p in patterns):
        raise parser.error("rootcause.json takes #[...], a JSON list of root cause objects")

    def predicate(trace: Traced) -> bool:
        detail = trace.detail()
        for kind in KINDS:
            for cause in root_causes(detail, kind):
                found = shaped(cause, kind)
                if any(_json_matches(pattern, found) for pattern in patterns):
                    return True
        return False

    return predicate


def _json_matches(pattern: Any, actual: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(actual, dict) and all(
            key in actual and _json_matches(value, actual[key]) for key, value in pattern.items()
        )
    if isinstance(pattern, list):
        return (
            isinstance(actual, list)
            and len(pattern) == len(actual)
            and all(_json_matches(p, a) for p, a in zip(pattern, actual, strict=True))
        )
    if isinstance(pattern, int | float) and isinstance(actual, str):
        return str(pattern) == actual  # AccountId: a number in the guide's example
    return bool(pattern == actual)
