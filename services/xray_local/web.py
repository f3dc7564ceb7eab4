"""The web page (service map, trace list, trace timeline), health and counters.

The page is static files shipped in the package and read once at start (dagre, the layout
library, included): nothing is fetched from a CDN, so it works offline. It talks to the
X-Ray API on the same address, exactly as boto3 does.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .inputs import ApiError, error_response

STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "map.js": "text/javascript; charset=utf-8",
    # The layered layout of the map, vendored from npm with its license.
    "dagre.min.js": "text/javascript; charset=utf-8",
    "dagre.LICENSE.txt": "text/plain; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


class MissingPageFiles(RuntimeError):
    pass


def load_page_files() -> dict[str, bytes]:
    """The page's files, or MissingPageFiles if the installation lacks them."""
    folder = resources.files("xray_local") / "static"
    files: dict[str, bytes] = {}
    for name in STATIC_FILES:
        try:
            files[name] = (folder / name).read_bytes()
        except OSError as exc:
            raise MissingPageFiles(
                f"the web page file static/{name} is missing from the xray_local package "
                f"({exc}); it must be installed as package data"
            ) from exc
    return files


class Web:
    def __init__(
        self,
        files: dict[str, bytes],
        status: Callable[[], dict[str, Any]],
        authorize: Callable[[Request], None] = lambda request: None,
    ) -> None:
        self._files = files
        self._status = status
        self._authorize = authorize

    async def index(self, request: Request) -> Response:
        return self._file("index.html")

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES or name == "index.html":
            return JSONResponse({"message": f"no file {name}"}, status_code=404)
        return self._file(name)

    def _file(self, name: str) -> Response:
        # no-cache: a person reloading after an upgrade sees the new page, not a stale one.
        return Response(
            self._files[name],
            media_type=STATIC_FILES[name],
            headers={"Cache-Control": "no-cache"},
        )

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def stats(self, request: Request) -> Response:
        try:
            self._authorize(request)  # the counters name the upstream daemon, among others
        except ApiError as error:
            return error_response(error)
        return JSONResponse(self._status())
