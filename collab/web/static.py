"""Static files: fingerprinted names, gzip, and a cache lifetime of a year.

Every file under `static/` is read once at start-up; pages link `static_url("collab.css")`,
which is `/static/collab.<hash>.css`. A fingerprinted address never changes its content, so
browsers keep it for a year without asking again (`immutable`); a new release has new
names. Files are sent gzipped to clients that accept it (the first visit used to move about
80 KB of uncompressed JavaScript and CSS, with no cache lifetime at all). The plain names
still answer, revalidated by ETag, for anything that links them directly.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .templates import STATIC_DIR, environment

YEAR = 365 * 24 * 3600
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str
    url: str


class StaticFiles:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.assets: dict[str, Asset] = {}  # request path (plain or fingerprinted) -> asset
        self.urls: dict[str, str] = {}      # plain path -> fingerprinted URL
        for file in sorted(p for p in directory.rglob("*") if p.is_file()):
            rel = file.relative_to(directory).as_posix()
            body = file.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:12]
            stem, dot, suffix = rel.rpartition(".")
            hashed = f"{stem}.{digest}.{suffix}" if dot else f"{rel}.{digest}"
            media = _TYPES.get(file.suffix) or mimetypes.guess_type(rel)[0] \
                or "application/octet-stream"
            packed = gzip.compress(body, 9, mtime=0) if len(body) > 512 else None
            if packed is not None and len(packed) >= len(body):
                packed = None
            asset = Asset(body, packed, media, f'"{digest}"', f"/static/{hashed}")
            self.assets[rel] = asset
            self.assets[hashed] = asset
            self.urls[rel] = asset.url
        environment.globals["static_url"] = self.url

    def url(self, path: str) -> str:
        """The fingerprinted address of `static/<path>` (KeyError for a file that is not there)."""
        return self.urls[path]

    async def serve(self, request: Request) -> Response:
        path = request.path_params["path"]
        asset = self.assets.get(path)
        if asset is None:
            return Response("There is nothing at this address.", status_code=404,
                            media_type="text/plain")
        fingerprinted = asset.url == f"/static/{path}"
        headers = {
            "cache-control": f"public, max-age={YEAR}, immutable" if fingerprinted
            else "public, max-age=0, must-revalidate",
            "etag": asset.etag,
            "vary": "accept-encoding",
        }
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        body = asset.body
        if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers["content-encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)

    def route(self) -> Route:
        return Route("/static/{path:path}", self.serve, methods=["GET", "HEAD"], name="static")
