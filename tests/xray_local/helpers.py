"""What several test modules here need: documents shaped as the services', stored as a trace."""

from __future__ import annotations

import json
from typing import Any

from xray_local.analysis import Analysis
from xray_local.documents import parse_document
from xray_local.trace import Trace


def stored(documents: list[dict[str, Any]]) -> Trace:
    """The documents as the store keeps them: one trace, analysis and detail on demand."""
    trace = Trace(documents[0]["trace_id"], created=0.0)
    for document in documents:
        trace.add(parse_document(json.dumps(document).encode()))
    return trace


def analysed(documents: list[dict[str, Any]]) -> Analysis:
    return stored(documents).analysis()
