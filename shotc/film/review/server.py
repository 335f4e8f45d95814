"""The review page's server: loopback only, standard library (`http.server`).

Why the standard library: the page needs four routes, range requests for video and JSON; a
framework would add a dependency (and its start-up) for nothing the handler below does not
already do in a hundred lines. Threads, so a browser loading several videos at once and the
page's polling do not wait on each other.

Safety: it listens on 127.0.0.1 only; it serves only the files the project model lists (by
media id, never by path); it answers only requests whose Host is its own loopback address (a
web page elsewhere cannot reach it through DNS rebinding); a pick must be a JSON POST from the
page's own origin.
"""

from __future__ import annotations

import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shotc.film.review.model import Project
from shotc.film.review.page import render_page

CHUNK = 256 * 1024
MAX_BODY = 64 * 1024
CACHE_SECONDS = 0.5  # the model is rebuilt at most this often (the page polls every 2 s)
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class PickRefused(Exception):
    """A pick the project does not accept (unknown scene or take); the message says why."""


Load = Callable[[], Project]
Pick = Callable[[str, int, str], None]


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, load: Load, pick: Pick | None, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.load = load
        self.pick = pick
        self._lock = threading.Lock()
        self._cached: tuple[float, Project] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def project(self, fresh: bool = False) -> Project:
        with self._lock:
            now = time.monotonic()
            if fresh or self._cached is None or now - self._cached[0] > CACHE_SECONDS:
                self._cached = (now, self.load())
            return self._cached[1]


class _Handler(BaseHTTPRequestHandler):
    server: ReviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the terminal is the user's
        return

    def _host_ok(self) -> bool:
        port = self.server.server_address[1]
        return self.headers.get("Host", "") in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _send(
        self, status: int, body: bytes, kind: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._host_ok():
            return self._send(HTTPStatus.FORBIDDEN, b"wrong host\n", "text/plain")
        parts = urlsplit(self.path)
        if parts.path in ("/", "/index.html"):
            page = render_page(self.server.project().to_json())
            security = {
                "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                "script-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'",
            }
            return self._send(
                HTTPStatus.OK, page.encode("utf-8"), "text/html; charset=utf-8", security
            )
        if parts.path == "/api/project":
            data = self.server.project().to_json()
            since = parse_qs(parts.query).get("since", [""])[0]
            if since and since == data["revision"]:
                self.send_response(HTTPStatus.NO_CONTENT)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self._json(HTTPStatus.OK, data)
        if parts.path.startswith("/media/"):
            return self._media(parts.path[len("/media/") :])
        return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        port = self.server.server_address[1]
        origin = self.headers.get("Origin")
        if not self._host_ok() or (
            origin is not None
            and origin not in (f"http://127.0.0.1:{port}", f"http://localhost:{port}")
        ):
            return self._json(HTTPStatus.FORBIDDEN, {"error": "wrong origin"})
        if urlsplit(self.path).path != "/api/pick" or self.server.pick is None:
            return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send JSON"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "bad body"})
        try:
            body = json.loads(self.rfile.read(length))
            scene, take, mode = str(body["scene"]), int(body["take"]), str(body["mode"])
        except (ValueError, KeyError, TypeError):
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "expected {scene, take, mode}"})
        try:
            self.server.pick(scene, take, mode)
        except PickRefused as exc:
            return self._json(HTTPStatus.CONFLICT, {"error": str(exc)})
        return self._json(HTTPStatus.OK, self.server.project(fresh=True).to_json())

    def _media(self, key: str) -> None:
        path = self.server.project().media.get(key)
        try:
            handle = path.open("rb") if path is not None else None
        except OSError:
            handle = None
        if handle is None or path is None:
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        with handle:
            size = handle.seek(0, 2)
            start, end = 0, size - 1
            status = HTTPStatus.OK
            wanted = _RANGE.match(self.headers.get("Range", "").strip())
            if wanted and size:
                first, last = wanted.groups()
                if first:
                    start, end = int(first), min(int(last), size - 1) if last else size - 1
                elif last:
                    start = max(0, size - int(last))
                if start > end or start >= size:
                    return self._send(
                        HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                        b"",
                        "text/plain",
                        {"Content-Range": f"bytes */{size}"},
                    )
                status = HTTPStatus.PARTIAL_CONTENT
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1 if size else 0))
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return None
            handle.seek(start)
            left = end - start + 1 if size else 0
            try:
                while left > 0:
                    chunk = handle.read(min(CHUNK, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser seeks by dropping a request: normal
        return None
