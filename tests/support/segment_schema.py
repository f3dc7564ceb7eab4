"""The segment document JSON schema this project writes from AWS's developer guide
(tests/data/segment-document.schema.json; its source is named in tests/data/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data/segment-document.schema.json"
SEGMENT_SCHEMA = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def schema_problems(document: Any) -> list[str]:
    """Each place `document` breaks the schema, as `path: message`; empty when it is valid."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in SEGMENT_SCHEMA.iter_errors(document)
    ]
