"""Make a segment document what X-Ray allows, as it is written.

The developer guide's "AWS X-Ray segment documents" page
(https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html) limits a
segment's name to 200 characters and, for the fields of segments and subsegments, says
"Values must be strings (up to 250 characters) unless noted otherwise": `user` among them.
The schema AWS links from that page also limits `sql.user` and http.request's `method`,
`url`, `user_agent` and `client_ip` to 250, and the guide's annotation requirements an
annotation value to 1,000. The SDK writes what it is given, so a long path or User-Agent
made documents that schema refuses: here each is cut, a URL at a whole character of its
path, so that it still says where the request went.

A URL is percent-encoded as the SDK's own middlewares record it (Flask's `request.base_url`,
Django's `build_absolute_uri()`: RFC 3986, non-ASCII as UTF-8 escapes). A call to a traced
service also says `traced` in `http.request`, where the guide's examples and the other SDKs
put it, besides the subsegment's own field.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

MAX_NAME_CHARS = 200
MAX_FIELD_CHARS = 250
MAX_ANNOTATION_CHARS = 1000
REQUEST_FIELDS = ("method", "user_agent", "client_ip")
CUT_MARK = "..."
# RFC 3986's reserved characters and '%' (an escape already there) stay as they are; quote()
# never touches the unreserved ones.
URL_SAFE = ":/?#[]@!$&'()*+,;=%"
NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
PARTIAL_ESCAPE = re.compile(r"%[0-9A-Fa-f]?$")

Document = dict[str, Any]


def conform(document: Document) -> Document:
    """`document` and each subsegment in it, made to fit those limits (changed in place: the
    emitter's dict is a fresh one each time)."""
    pending = [document]
    while pending:
        entity = pending.pop()
        _entity(entity)
        children = entity.get("subsegments")
        if isinstance(children, list):
            pending.extend(child for child in children if isinstance(child, dict))
    return document


def _entity(entity: Document) -> None:
    name = entity.get("name")
    if isinstance(name, str) and len(name) > MAX_NAME_CHARS:
        entity["name"] = name[:MAX_NAME_CHARS]
    _cut_field(entity, "user", MAX_FIELD_CHARS)
    sql = entity.get("sql")
    if isinstance(sql, dict):
        _cut_field(sql, "user", MAX_FIELD_CHARS)
    annotations = entity.get("annotations")
    if isinstance(annotations, dict):
        for key in annotations:
            _cut_field(annotations, key, MAX_ANNOTATION_CHARS)
    http = entity.get("http")
    request = http.get("request") if isinstance(http, dict) else None
    if not isinstance(request, dict):
        return
    for field in REQUEST_FIELDS:
        _cut_field(request, field, MAX_FIELD_CHARS)
    url = request.get("url")
    if isinstance(url, str):
        request["url"] = recorded_url(url)
    if entity.get("traced") is True:
        request["traced"] = True


def recorded_url(url: str) -> str:
    """The URL percent-encoded, then cut to the schema's 250 characters without splitting
    an escape: scheme, host and the start of the path stay."""
    if NEEDS_QUOTING.search(url):
        url = quote(url, safe=URL_SAFE)
    if len(url) <= MAX_FIELD_CHARS:
        return url
    kept = url[: MAX_FIELD_CHARS - len(CUT_MARK)]
    return PARTIAL_ESCAPE.sub("", kept) + CUT_MARK


def _cut_field(holder: Document, key: str, limit: int) -> None:
    value = holder.get(key)
    if isinstance(value, str) and len(value) > limit:
        holder[key] = value[: limit - len(CUT_MARK)] + CUT_MARK
