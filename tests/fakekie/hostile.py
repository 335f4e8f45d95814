"""Test support: a hostile kie.ai, the faithful fake with switches for what an attacker or a
broken CDN would send (issue 7): bad `Retry-After`, redirects to http:// and in loops,
gzip-encoded clips, bodies cut short with and without Content-Length, slow-drip and stalled
bodies, huge answers, escape sequences in every text field, upload answers with file:// URLs,
and an upload sink that discards large bodies as they arrive.
"""

from __future__ import annotations

import gzip
import socket
import time
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from fakekie.server import FakeKie, _handler_for, clip_bytes

# An ESC sequence that clears the screen, one that retitles the terminal, a C1 CSI and a
# bidi override: what a hostile failMsg would carry.
EVIL = "\x1b[2J\x1b]0;pwned\x07\x9b31m\u202eevil"

# result_mode values
GZIP, CUT_WITH_LENGTH, CUT_WITHOUT_LENGTH = "gzip", "cut-with-length", "cut-without-length"
DRIP, STALL, ENDLESS = "drip", "stall", "endless"
REDIRECT_HTTP, REDIRECT_LOOP = "redirect-http", "redirect-loop"


class HostileKie(FakeKie):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retry_after: str | None = None  # sent with every 429 (burst_429 makes them)
        self.result_mode: str | None = None  # how /results/ answers (the constants above)
        self.drip_interval = 0.2  # seconds between bytes in DRIP mode
        self.evil_text: str | None = None  # put in failMsg, failCode and refusals' msg
        self.upload_url: str | None = None  # downloadUrl answered for every upload
        self.sink_uploads = False  # read upload bodies in chunks and keep nothing
        self.huge_record = False  # recordInfo answers 2 MiB
        self.redirect_api: str | None = None  # every API request answers 302 to this
        self.sunk_bytes = 0
        self._server.server_close()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _hostile_handler(self))
        self._server.daemon_threads = True

    def record(self, task_id: str) -> dict[str, Any]:
        answer = super().record(task_id)
        data = answer.get("data")
        if self.evil_text is not None and isinstance(data, dict) and data["state"] == "fail":
            data["failMsg"] = f"generation failed {self.evil_text}"
            data["failCode"] = f"500{self.evil_text}"
        if self.huge_record and isinstance(data, dict):
            data["padding"] = "x" * (2 << 20)
        return answer

    def create(self, body: Any) -> tuple[dict[str, Any] | None, Any]:
        answer, rec = super().create(body)
        if self.evil_text is not None and answer is not None and answer.get("code") != 200:
            answer["msg"] = f"{answer.get('msg', '')} {self.evil_text}"
        return answer, rec


def _hostile_handler(fake: HostileKie) -> type[Any]:
    base = _handler_for(fake)

    class Handler(base):  # type: ignore[misc, valid-type]
        def _send(
            self, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
        ) -> None:
            headers = dict(headers or {})
            if payload.get("code") == 429 and fake.retry_after is not None:
                headers["Retry-After"] = fake.retry_after
            super()._send(payload, status, headers)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path.startswith("/results/") and fake.result_mode:
                fake.requests.append(("GET", path))
                self._result(path[len("/results/") :].removesuffix(".mp4"), path)
            elif path.startswith("/api/") and fake.redirect_api:
                fake.requests.append(("GET", path))
                self._redirect(fake.redirect_api)
            else:
                super().do_GET()

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if fake.redirect_api and path.startswith("/api/"):
                fake.requests.append(("POST", path))
                self._body()
                self._redirect(fake.redirect_api)
            elif path == "/api/file-stream-upload" and fake.sink_uploads:
                fake.requests.append(("POST", path))
                self._sink()
            else:
                super().do_POST()

        def _sink(self) -> None:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    return
                left -= len(chunk)
                fake.sunk_bytes += len(chunk)
            self._upload_answer("shotc/sunk.mp4")

        def _upload(self, raw: bytes) -> None:
            if fake.upload_url is None:
                super()._upload(raw)
                return
            self._upload_answer("shotc/x.png")

        def _upload_answer(self, key: str) -> None:
            fake.uploads[key] = b""
            url = fake.upload_url or f"{fake.base_url}/files/{key}"
            data = {"fileName": key, "filePath": key, "downloadUrl": url, "fileSize": 0}
            self._send({"success": True, "code": 200, "msg": "ok", "data": data})

        def _result(self, task_id: str, path: str) -> None:
            clip = clip_bytes(task_id)
            mode = fake.result_mode
            if mode == REDIRECT_HTTP:
                self._redirect("http://cdn.example.com/clip.mp4")
                return
            if mode == REDIRECT_LOOP:
                self._redirect(path)
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            try:
                if mode == GZIP:
                    packed = gzip.compress(clip)
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(packed)))
                    self.end_headers()
                    self.wfile.write(packed)
                elif mode in (CUT_WITH_LENGTH, CUT_WITHOUT_LENGTH):
                    if mode == CUT_WITH_LENGTH:
                        self.send_header("Content-Length", str(len(clip)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(clip[: len(clip) - 40])
                    self._hang_up()
                elif mode in (DRIP, STALL):
                    self.send_header("Content-Length", str(len(clip)))
                    self.end_headers()
                    self.wfile.write(clip[:8])
                    self.wfile.flush()
                    for byte in clip[8:]:
                        time.sleep(fake.drip_interval if mode == DRIP else 30)
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                elif mode == ENDLESS:  # no Content-Length; bounded so a bug cannot fill RAM
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(clip[:32])
                    for _ in range(64):
                        self.wfile.write(bytes(1 << 20))
                    self._hang_up()
            except OSError:
                self.close_connection = True  # the client hung up: what it should do

        def _hang_up(self) -> None:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


def task_ids(fake: FakeKie) -> list[str]:
    return [c.task_id for c in fake.created() if c.task_id]


__all__ = [
    "CUT_WITHOUT_LENGTH",
    "CUT_WITH_LENGTH",
    "DRIP",
    "ENDLESS",
    "EVIL",
    "GZIP",
    "REDIRECT_HTTP",
    "REDIRECT_LOOP",
    "STALL",
    "HostileKie",
    "task_ids",
]
