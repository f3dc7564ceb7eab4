"""The `http` block: awsxrayexporter's http.go (makeHTTP), with its feature gates at their
defaults (`exporter.awsxray.DontEmitV0HTTPNetworkConventions` and `...EmitV1HTTPNetwork
Conventions` off): the old semantic conventions (`http.method`, `http.url`, `net.peer.*`)
and the current ones (`http.request.method`, `url.full`, `server.address`, ...) are both read.

What the block uses is taken out of the attributes; the rest go on to metadata.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .values import Attributes, as_int, as_str

SERVER = 2

# Attribute -> (the URL part it is stored under, sets hasHTTP, sets hasHTTPRequestURLAttributes)
# as in makeHTTP's switch. `http.url` and `url.full` share one part, as do the schemes.
URL_PARTS: dict[str, tuple[str, bool, bool]] = {
    "http.url": ("http.url", True, True),
    "url.full": ("http.url", True, True),
    "http.scheme": ("http.scheme", True, False),
    "url.scheme": ("http.scheme", True, False),
    "http.host": ("http.host", True, True),
    "http.target": ("http.target", True, False),
    "http.server_name": ("http.server_name", True, True),
    "host.name": ("host.name", False, True),
    "net.host.name": ("net.host.name", False, True),
    "net.peer.name": ("net.peer.name", False, True),
    "url.path": ("url.path", True, False),
    "url.query": ("url.query", True, False),
    "server.address": ("server.address", False, True),
}
# Ports are strings, or integers written out.
PORT_PARTS = {"net.host.port": True, "net.peer.port": False, "server.port": False}
METHODS = ("http.method", "http.request.method")
USER_AGENTS = ("http.user_agent", "user_agent.original")
STATUSES = ("http.status_code", "http.response.status_code")
# Every attribute makeHTTP reads: a span with none of them has no http block, and keeps them all.
HTTP_KEYS = frozenset(
    (*URL_PARTS, *PORT_PARTS, *METHODS, *USER_AGENTS, *STATUSES)
    + ("http.client_ip", "net.peer.ip", "network.peer.address", "client.address")
)


def make_http(kind: int, attributes: Attributes) -> tuple[Attributes, dict[str, Any] | None]:
    """(the attributes left over, the http block or None when the span has no HTTP)."""
    if HTTP_KEYS.isdisjoint(attributes):
        return attributes, None
    request: dict[str, Any] = {}
    response: dict[str, Any] = {}
    filtered: Attributes = {}
    parts: dict[str, str] = {}
    has_http = has_url = has_peer_address = False
    for key, value in attributes.items():
        if key not in HTTP_KEYS:
            filtered[key] = value
            continue
        part = URL_PARTS.get(key)
        if part is not None:
            name, http, url = part
            parts[name] = as_str(value)
            has_http, has_url = has_http or http, has_url or url
        elif key in PORT_PARTS:
            parts[key] = as_str(value) or str(as_int(value))
            has_http = has_http or PORT_PARTS[key]
        elif key in METHODS:
            request["method"] = as_str(value)
            has_http = True
        elif key == "http.client_ip":
            request["client_ip"] = as_str(value)
            has_http = True
        elif key in USER_AGENTS:
            request["user_agent"] = as_str(value)
            has_http = True
        elif key in STATUSES:
            response["status"] = as_int(value)
            has_http = True
        elif key == "net.peer.ip":
            # Prefer HTTP forwarded information (http.client_ip) when present.
            request.setdefault("client_ip", as_str(value))
            parts[key] = as_str(value)
            has_url = has_peer_address = True
        elif key == "network.peer.address":
            if _is_ip(value):
                request.setdefault("client_ip", value)
                has_url = has_peer_address = True
        elif key == "client.address":
            if _is_ip(value):
                request["client_ip"] = value
    if not has_peer_address and request.get("client_ip"):
        request["x_forwarded_for"] = True
    if not has_http:
        return filtered, None
    if has_url:
        request["url"] = _server_url(parts) if kind == SERVER else _client_url(parts)
    # The exporter's response size comes from `message.type: RECEIVED` events with the old
    # messaging size attribute; HTTP instrumentations do not send it, so it stays 0.
    response["content_length"] = _response_size(attributes)
    return filtered, {"request": _without_empty(request), "response": response}


def _without_empty(request: dict[str, Any]) -> dict[str, Any]:
    # The exporter's strings are pointers made by awsxray.String, which omits "".
    if "" not in request.values():
        return request
    return {key: value for key, value in request.items() if value != ""}


def _response_size(attributes: Attributes) -> int:
    if attributes.get("message.type") == "RECEIVED":
        return as_int(attributes.get("messaging.message_payload_size_bytes"))
    return 0


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(as_str(value))
    except ValueError:
        return False
    return True


def _client_url(parts: dict[str, str]) -> str:
    """constructClientURL: the full URL when given, else assembled from its parts."""
    if "http.url" in parts:
        return parts["http.url"]
    scheme = parts.get("http.scheme", "http")
    port = ""
    host = parts.get("http.host")
    if host is None:
        host = parts.get("net.peer.name", parts.get("net.peer.ip", parts.get("server.address", "")))
        # network.peer.port would count only with EmitV1HTTPNetworkConventions on.
        port = parts.get("net.peer.port", "")
    return _assemble(scheme, host, port, parts)


def _server_url(parts: dict[str, str]) -> str:
    """constructServerURL."""
    if "http.url" in parts:
        return parts["http.url"]
    scheme = parts.get("http.scheme", "http")
    port = ""
    host = parts.get("http.host")
    if host is None:
        for name in ("http.server_name", "net.host.name", "host.name", "server.address"):
            if name in parts:
                host = parts[name]
                break
        else:
            host = ""
        port = parts.get("net.host.port", parts.get("server.port", ""))
    return _assemble(scheme, host, port, parts)


def _assemble(scheme: str, host: str, port: str, parts: dict[str, str]) -> str:
    url = f"{scheme}://{host}"
    if (
        port
        and not (scheme == "http" and port == "80")
        and not (scheme == "https" and port == "443")
    ):
        url += f":{port}"
    if "http.target" in parts:
        return url + parts["http.target"]
    url += parts.get("url.path", "/")
    query = parts.get("url.query")
    if query is not None:
        url += query if query.startswith("?") else f"?{query}"
    return url
