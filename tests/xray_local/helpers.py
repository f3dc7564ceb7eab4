"""What several test modules here need: the analysis of documents shaped as the services'."""

from __future__ import annotations

import json
from typing import Any

from xray_local.analysis import Analysis, analyse
from xray_local.documents import parse_document


def analysed(documents: list[dict[str, Any]]) -> Analysis:
    parsed = [parse_document(json.dumps(document).encode()) for document in documents]
    return analyse(documents[0]["trace_id"], parsed)
