"""Test support: a fake kie.ai, a real HTTP/1.1 server on 127.0.0.1 faithful to kie-api.md.

Body `code` as the status (HTTP 200 unless told otherwise), `param` and `resultJson` as JSON
strings, the state sequence waiting -> queuing -> generating -> success/fail over time, stream
uploads served back from `downloadUrl`, MP4 result files, a sliding-window rate limit that
answers 429 without queueing, and switches for every misfortune `run` must survive. Every
createTask it receives is logged with what became of it.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MODEL = "kling-3.0/video"


@dataclass
class CreateRecord:
    at: float  # time.monotonic() on arrival
    body: Any
    outcome: str  # created, 429, 5xx, dropped, slow, 401, 402, 422
    task_id: str | None = None


@dataclass
class Task:
    task_id: str
    body: dict[str, Any]
    created: float
    fail: bool
    create_ms: int = field(default_factory=lambda: int(time.time() * 1000))


def box(kind: bytes, payload: bytes) -> bytes:
    """One ISO media box: its size, its four-character type, its payload."""
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def clip_bytes(task_id: str) -> bytes:
    """A tiny file shaped like a complete MP4 (ftyp, moov and mdat boxes that add up to its
    size, as `run` checks), unique per task."""
    ftyp = box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom")
    return ftyp + box(b"moov", box(b"mvhd", bytes(100))) + box(b"mdat", task_id.encode() * 8)


class FakeKie:
    def __init__(
        self,
        api_key: str = "test-key-0123456789",
        *,
        rate_limit: tuple[int, float] | None = None,
        states: tuple[tuple[str, float], ...] = (
            ("waiting", 0.05),
            ("queuing", 0.05),
            ("generating", 0.1),
        ),
        credits: float = 100_000.0,
        seed: int = 1234,
    ) -> None:
        self.api_key = api_key
        self.rate_limit = rate_limit
        self.states = states
        self.credits = credits
        # Switches (set them at any time).
        self.burst_429 = 0  # the next N createTask answer 429
        self.error_rate = 0.0  # share of createTask answered 5xx (nothing created)
        self.error_as_http = False  # 5xx as HTTP 503 + Retry-After instead of body code 500
        self.status_mirrors_code = False  # HTTP status equals the body code (other gateways)
        self.drop_after_create = 0  # next N: create the task, then drop the connection
        self.slow_create = 0.0  # seconds to sit on a createTask answer after creating
        self.slow_all = 0.0  # seconds before answering anything
        self.fail_marker = "FAIL"  # prompts containing it end in state fail
        self.results_expired = False  # result URLs answer 404
        self.record_errors = 0  # the next N recordInfo answer body code 500
        self.refuse_uploads = False  # createTask answers 422 "cannot fetch" for any upload
        # Makes a task's result file from its createTask body (e.g. fakekie.clips.result_clip
        # for real MP4s); None: clip_bytes, a tiny MP4-looking file.
        self.result_file: Callable[[Any], bytes] | None = None
        # Called with each createTask body as it arrives, before anything is decided (a test
        # looks at the world as it is at that moment: which files are on disk, say).
        self.on_create: Callable[[Any], None] | None = None
        # What happened.
        self.creates: list[CreateRecord] = []
        self.tasks: dict[str, Task] = {}
        self.uploads: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.auth_headers: list[str] = []
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._random = random.Random(seed)
        self._server: ThreadingHTTPServer = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeKie:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeKie:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self, api_key: str | None = None) -> dict[str, str]:
        return {
            "KIE_API_KEY": api_key if api_key is not None else self.api_key,
            "KIE_API_BASE": self.base_url,
            "KIE_UPLOAD_BASE": self.base_url,
        }

    def forget_uploads(self) -> None:
        """Drop every uploaded file, as kie.ai may before its documented 3 days: createTask
        then refuses requests that point at them (422 "cannot fetch")."""
        with self._lock:
            self.uploads.clear()

    # -- queries for tests ------------------------------------------------------------------

    def created(self) -> list[CreateRecord]:
        with self._lock:
            return [c for c in self.creates if c.task_id is not None]

    def outcomes(self) -> dict[str, int]:
        with self._lock:
            out: dict[str, int] = {}
            for c in self.creates:
                out[c.outcome] = out.get(c.outcome, 0) + 1
            return out

    def prompts_created(self) -> list[str]:
        return [_prompt_of(c.body) for c in self.created()]

    # -- behaviour ------------------------------------------------------------------------

    def state_of(self, task: Task, now: float) -> str:
        elapsed = now - task.created
        for state, seconds in self.states:
            if elapsed < seconds:
                return state
            elapsed -= seconds
        return "fail" if task.fail else "success"

    def create(self, body: Any) -> tuple[dict[str, Any] | None, CreateRecord]:
        """Decide a createTask's fate; (answer or None to drop the line, its record)."""
        if self.on_create is not None:
            self.on_create(body)
        now = time.monotonic()
        with self._lock:
            rec = CreateRecord(now, body, "")
            self.creates.append(rec)
            if self.credits <= 0:
                rec.outcome = "402"
                return {"code": 402, "msg": "Credits insufficient"}, rec
            if self.burst_429 > 0:
                self.burst_429 -= 1
                rec.outcome = "429"
                return {"code": 429, "msg": "Rate limited"}, rec
            if self.rate_limit is not None:
                limit, period = self.rate_limit
                while self._accepted and self._accepted[0] <= now - period:
                    self._accepted.popleft()
                if len(self._accepted) >= limit:
                    rec.outcome = "429"
                    return {"code": 429, "msg": "Rate limited"}, rec
            if self.error_rate and self._random.random() < self.error_rate:
                rec.outcome = "5xx"
                return {"code": 500, "msg": "Server error"}, rec
            problem = self._validate(body)
            if problem:
                rec.outcome = "422"
                return {"code": 422, "msg": problem}, rec
            if self.rate_limit is not None:
                self._accepted.append(now)
            task_id = f"task_kling-3.0_{int(time.time() * 1000)}{next(self._ids):04d}"
            fail = self.fail_marker in json.dumps(body.get("input", {}))
            self.tasks[task_id] = Task(task_id, body, now, fail)
            self.credits -= 1
            rec.task_id = task_id
            rec.outcome = "created"
            if self.drop_after_create > 0:
                self.drop_after_create -= 1
                rec.outcome = "dropped"
                return None, rec
            if self.slow_create:
                rec.outcome = "slow"
        return {"code": 200, "msg": "success", "data": {"taskId": task_id}}, rec

    def _validate(self, body: Any) -> str | None:
        if not isinstance(body, dict) or body.get("model") != MODEL:
            return "model must be kling-3.0/video"
        inp = body.get("input")
        if not isinstance(inp, dict) or not isinstance(inp.get("duration", "5"), str):
            return "input.duration must be a string"
        urls = list(inp.get("image_urls") or [])
        for element in inp.get("kling_elements") or []:
            urls += element.get("element_input_urls") or []
            urls += element.get("element_input_video_urls") or []
        for url in urls:
            if not str(url).startswith(("http://", "https://")):
                return f"not a URL: {url}"
            parts = urlsplit(str(url))
            if parts.hostname not in ("127.0.0.1", "localhost"):
                continue  # a public URL: assume kie.ai can fetch it
            if f"{parts.scheme}://{parts.netloc}" != self.base_url:
                return f"cannot fetch {url}"  # another loopback server: a test server now gone
            if parts.path.startswith("/files/") and (
                parts.path[len("/files/") :] not in self.uploads or self.refuse_uploads
            ):
                return f"cannot fetch {url}"
        return None

    def record(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            if self.record_errors > 0:
                self.record_errors -= 1
                return {"code": 500, "msg": "Server error"}
            task = self.tasks.get(task_id)
        if task is None:
            return {"code": 422, "msg": "recordInfo is null"}
        state = self.state_of(task, time.monotonic())
        done = state in ("success", "fail")
        result = {"resultUrls": [f"{self.base_url}/results/{task_id}.mp4"]}
        return {
            "code": 200,
            "msg": "success",
            "data": {
                "taskId": task_id,
                "model": MODEL,
                "state": state,
                "param": json.dumps(task.body),
                "resultJson": json.dumps(result) if state == "success" else "",
                "failCode": "500" if state == "fail" else "",
                "failMsg": "generation failed (fake)" if state == "fail" else "",
                "costTime": 1234 if done else None,
                "createTime": task.create_ms,
                "updateTime": int(time.time() * 1000),
                "completeTime": int(time.time() * 1000) if done else None,
            },
        }


def _prompt_of(body: Any) -> str:
    inp = body.get("input", {}) if isinstance(body, dict) else {}
    if "prompt" in inp:
        return str(inp["prompt"])
    return " | ".join(str(s.get("prompt")) for s in inp.get("multi_prompt", []))


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: several `shotc run` processes connecting at
    # once overflow it, and the kernel drops or resets connections (a reset mid-POST leaves a
    # scene `unknown`), an artefact of the fake that kie.ai's servers do not have.
    request_queue_size = 256


def _handler_for(fake: FakeKie) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            code = payload.get("code", 200)
            if fake.status_mirrors_code and isinstance(code, int) and code != 200:
                status = code
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            fake.auth_headers.append(header)
            if header != f"Bearer {fake.api_key}":
                self._send({"code": 401, "msg": "You do not have access permissions"})
                return False
            return True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            fake.requests.append(("GET", parts.path))
            if fake.slow_all:
                time.sleep(fake.slow_all)
            if parts.path.startswith("/files/"):
                self._file(fake.uploads.get(parts.path[len("/files/") :]), "image/png")
                return
            if parts.path.startswith("/results/"):
                task_id = parts.path[len("/results/") :].removesuffix(".mp4")
                known = task_id in fake.tasks and not fake.results_expired
                data = None
                if known:
                    make = fake.result_file
                    data = make(fake.tasks[task_id].body) if make else clip_bytes(task_id)
                self._file(data, "video/mp4")
                return
            if not self._authorized():
                return
            if parts.path == "/api/v1/jobs/recordInfo":
                task_id = (parse_qs(parts.query).get("taskId") or [""])[0]
                if not task_id:
                    self._send({"code": 400, "msg": "taskId is required"})
                else:
                    self._send(fake.record(task_id))
            elif parts.path == "/api/v1/chat/credit":
                self._send({"code": 200, "msg": "success", "data": fake.credits})
            else:
                self._send({"code": 404, "msg": "Not found"}, 404)

        def _file(self, data: bytes | None, mime: str) -> None:
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            fake.requests.append(("POST", parts.path))
            raw = self._body()
            if fake.slow_all:
                time.sleep(fake.slow_all)
            if not self._authorized():
                return
            if parts.path == "/api/v1/jobs/createTask":
                self._create(raw)
            elif parts.path == "/api/file-stream-upload":
                self._upload(raw)
            else:
                self._send({"code": 404, "msg": "Not found"}, 404)

        def _create(self, raw: bytes) -> None:
            try:
                body = json.loads(raw)
            except ValueError:
                self._send({"code": 422, "msg": "body is not JSON"})
                return
            answer, _rec = fake.create(body)
            if answer is None:
                # The task exists; the answer never leaves.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if answer["code"] == 500 and fake.error_as_http:
                self._send(answer, 503, {"Retry-After": "0"})
                return
            if fake.slow_create and answer["code"] == 200:
                time.sleep(fake.slow_create)
            self._send(answer)

        def _upload(self, raw: bytes) -> None:
            ctype = self.headers.get("Content-Type", "")
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + raw
            )
            fields: dict[str, bytes] = {}
            filename = None
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if isinstance(name, str) and isinstance(payload, bytes):
                    fields[name] = payload
                    if name == "file":
                        filename = part.get_filename()
            upload_path = fields.get("uploadPath", b"").decode()
            if "file" not in fields or not upload_path or upload_path.strip("/") != upload_path:
                self._send({"success": False, "code": 400, "msg": "file and uploadPath needed"})
                return
            name = fields.get("fileName", b"").decode() or filename or "upload.bin"
            key = f"{upload_path}/{name}"
            fake.uploads[key] = fields["file"]
            self._send(
                {
                    "success": True,
                    "code": 200,
                    "msg": "File uploaded successfully",
                    "data": {
                        "fileName": name,
                        "filePath": key,
                        "downloadUrl": f"{fake.base_url}/files/{key}",
                        "fileSize": len(fields["file"]),
                        "mimeType": "image/png",
                        "uploadedAt": "2026-01-01T00:00:00.000Z",
                    },
                }
            )

    return Handler
