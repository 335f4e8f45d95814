"""Run stage: the kie.ai HTTP client (createTask, recordInfo, stream upload, credit).

One `httpx.Client` with keep-alive and explicit timeouts; the transport is injectable so tests
can use `httpx.MockTransport`. Each method makes exactly one attempt and turns every outcome
into a value or a typed error from `shotc.run.errors`; retry policy lives with the caller,
because only the caller knows whether a repeat could pay twice.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from shotc.run.errors import (
    AnswerLost,
    AuthError,
    ConfigError,
    KieError,
    NoCredits,
    NotSent,
    RateLimited,
    Redirected,
    Rejected,
    ServerError,
    UnsafeAnswer,
    register_secret,
)
from shotc.run.reach import Outage
from shotc.run.retry import Backoff
from shotc.run.untrusted import terminal
from shotc.run.wire import check_url, is_loopback, parse_retry_after, read_capped, safe_url

DEFAULT_API_BASE = "https://api.kie.ai"
DEFAULT_UPLOAD_BASE = "https://kieai.redpandaai.co"
USER_AGENT = "shotc/0.1"
# JSON answers (createTask, recordInfo, credit, upload) are a few hundred bytes; a server
# sending more is read no further than this, so it cannot fill the memory.
MAX_JSON_BYTES = 1 << 20
_MSG_SHOWN = 300  # characters of a server's `msg` kept in an error message


class Readable(Protocol):
    """What `upload_file` streams from: an open file, or a view of one."""

    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Timeouts:
    # A createTask read timeout makes the scene `unknown`, so `read` is generous on purpose.
    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 60.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """recordInfo's `data`, with its JSON-string fields decoded."""

    task_id: str
    state: str
    param: dict[str, Any] | None = None
    result_urls: list[str] = field(default_factory=list)
    fail_code: str | None = None
    fail_msg: str | None = None
    cost_time_ms: int | None = None
    create_time: int | None = None
    complete_time: int | None = None


# HTTP statuses of a gateway that reached kie.ai and then gave up on it (bad gateway, gateway
# timeout, Cloudflare's "unknown error" and "origin timed out"): the request may have been
# acted on. Cloudflare's 521/522/523 (origin down or unreachable) mean it never got there.
_GATEWAY_GAVE_UP = frozenset({502, 504, 520, 524})


def check_key(api_key: str) -> str:
    """The key as it will travel in the `Authorization` header, or a ConfigError.

    Printable ASCII without white space only: a key pasted with a stray accent or a
    zero-width space would otherwise crash inside httpx (headers are ASCII) with a traceback.
    The message never quotes the key, not even in part."""
    if not api_key:
        raise ConfigError("KIE_API_KEY is empty")
    for i, char in enumerate(api_key, start=1):
        if not "!" <= char <= "~":
            what = "white space" if char.isspace() else f"U+{ord(char):04X}"
            raise ConfigError(
                f"KIE_API_KEY has a character kie.ai keys never contain ({what} at position "
                f"{i}): only printable ASCII without spaces; copy the key "
                "again from kie.ai"
            )
    return api_key


def _retry_after(resp: httpx.Response) -> float | None:
    return parse_retry_after(resp.headers.get("retry-after"))


def _json_field(value: Any) -> Any:
    """`param` and `resultJson` are JSON strings; tolerate an already-decoded object."""
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict | list) else None


class KieClient:
    """kie.ai's API for one key. Thread-safe: share one instance across workers."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        upload_base: str = DEFAULT_UPLOAD_BASE,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        max_connections: int = 32,
        unreachable_timeout: float = 120.0,
        backoff: Backoff | None = None,
    ) -> None:
        register_secret(api_key)
        check_key(api_key)
        self.api_base = check_url(api_base, "KIE_API_BASE")
        self.upload_base = check_url(upload_base, "KIE_UPLOAD_BASE")
        self._stop = threading.Event()
        self._outages = {
            base: Outage(
                base, timeout=unreachable_timeout, backoff=backoff or Backoff(), notice=_stderr
            )
            for base in {self.api_base, self.upload_base}
        }
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT},
            timeout=(timeouts or Timeouts()).httpx(),
            limits=limits,
            transport=transport,
            follow_redirects=False,  # never carry the key to another host
        )

    def attach(self, stop: threading.Event, notice: Callable[[str], None]) -> None:
        """Let a run stop our waits for an unreachable kie.ai (Ctrl-C) and print our notices
        among its progress lines."""
        self._stop = stop
        for outage in self._outages.values():
            outage.notice = notice

    def __repr__(self) -> str:
        return f"KieClient(api_base={self.api_base!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KieClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one attempt, classified ------------------------------------------------------------

    def _call(
        self,
        method: str,
        url: str,
        *,
        create: bool = False,
        scene_id: str | None = None,
        task_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send once; return the body's `data` on code 200, else raise the typed error.

        "Once" as far as kie.ai can tell: a connection that never opened is tried again
        here, as long as the base's outage allows (see `shotc.run.reach`)."""
        ids: dict[str, Any] = {"scene_id": scene_id, "task_id": task_id}
        base = self.upload_base if url.startswith(self.upload_base) else self.api_base
        outage = self._outages[base]
        while True:
            outage.check()
            try:
                with self._http.stream(method, url, **kwargs) as resp:
                    outage.reached()
                    raw = read_capped(resp, MAX_JSON_BYTES)
                    if raw is None:
                        raise AnswerLost(
                            f"answer larger than {MAX_JSON_BYTES} bytes: not read", **ids
                        )
                break
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                wait = outage.failed(f"{type(exc).__name__}: {exc}")
                if self._stop.wait(wait):
                    raise NotSent("stopped while kie.ai was unreachable", **ids) from None
            except httpx.PoolTimeout as exc:
                raise NotSent(f"could not connect: {type(exc).__name__}: {exc}", **ids) from None
            except httpx.TransportError as exc:
                # Sent (in whole or part) and no answer: for createTask the task may exist.
                raise AnswerLost(f"no answer: {type(exc).__name__}: {exc}", **ids) from None
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        raw_code = body.get("code") if isinstance(body, dict) else None
        has_code = isinstance(raw_code, int) and not isinstance(raw_code, bool)
        code = raw_code if isinstance(raw_code, int) and has_code else resp.status_code
        msg = str(body.get("msg", "")) if isinstance(body, dict) else resp.reason_phrase
        if len(msg) > _MSG_SHOWN:
            msg = msg[:_MSG_SHOWN] + "..."
        # The body code is the status, whatever the HTTP status says (kie-api.md): a success
        # body under HTTP 500 still carries a task that exists, and is paid for.
        if not has_code and resp.is_redirect:
            raise _redirected(resp, base, ids)
        if code == 200:
            if not isinstance(body, dict):
                raise AnswerLost("unreadable answer (not JSON)", code=code, **ids)
            return body.get("data")
        detail = f"{code} {msg}".strip()
        if code == 401:
            raise AuthError(f"kie.ai refused the API key ({detail})", code=code, **ids)
        if code in (402, 433):
            raise NoCredits(f"no credits left ({detail})", code=code, **ids)
        if code == 429:
            raise RateLimited(
                f"rate limited ({detail})", code=code, retry_after=_retry_after(resp), **ids
            )
        if not has_code and create and resp.status_code in _GATEWAY_GAVE_UP:
            # A gateway gave up waiting: kie.ai itself may well have created the task.
            raise AnswerLost(f"gateway answered {detail}", code=code, **ids)
        if code == 455 or (code >= 500 and code not in (501, 505)):
            raise ServerError(
                f"server error ({detail})", code=code, retry_after=_retry_after(resp), **ids
            )
        raise Rejected(f"refused ({detail})", code=code, **ids)

    # -- endpoints ------------------------------------------------------------------------

    def create_task(self, body: dict[str, Any], *, scene_id: str | None = None) -> str:
        """POST createTask; the task id. AnswerLost means the task may or may not exist."""
        data = self._call(
            "POST",
            f"{self.api_base}/api/v1/jobs/createTask",
            json=body,
            create=True,
            scene_id=scene_id,
        )
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if isinstance(task_id, int) and not isinstance(task_id, bool):
            task_id = str(task_id)  # the task exists: dropping an odd-typed id loses it
        if not isinstance(task_id, str) or not task_id:
            raise AnswerLost("answer 200 without a taskId", code=200, scene_id=scene_id)
        return task_id

    def record_info(self, task_id: str, *, scene_id: str | None = None) -> TaskInfo:
        data = self._call(
            "GET",
            f"{self.api_base}/api/v1/jobs/recordInfo",
            params={"taskId": task_id},
            scene_id=scene_id,
            task_id=task_id,
        )
        if not isinstance(data, dict) or not isinstance(data.get("state"), str):
            raise ServerError("recordInfo without a state", scene_id=scene_id, task_id=task_id)
        result = _json_field(data.get("resultJson"))
        urls = result.get("resultUrls") if isinstance(result, dict) else None
        param = _json_field(data.get("param"))
        return TaskInfo(
            task_id=str(data.get("taskId") or task_id),
            state=data["state"],
            param=param if isinstance(param, dict) else None,
            result_urls=[u for u in urls if _is_url(u)] if isinstance(urls, list) else [],
            fail_code=_opt_str(data.get("failCode")),
            fail_msg=_opt_str(data.get("failMsg")),
            cost_time_ms=_opt_int(data.get("costTime")),
            create_time=_opt_int(data.get("createTime")),
            complete_time=_opt_int(data.get("completeTime")),
        )

    def upload_file(
        self, content: bytes | Path | Readable, *, upload_path: str, file_name: str, mime: str
    ) -> str:
        """Upload a file; its public `downloadUrl`, checked to be a URL shotc may send.
        Uploads are free and the name is fixed by content digest, so any failure may simply
        be retried. A path or a file object is streamed, never read whole into memory."""
        if isinstance(content, Path):
            with content.open("rb") as fh:
                return self.upload_file(fh, upload_path=upload_path, file_name=file_name, mime=mime)
        data = self._call(
            "POST",
            f"{self.upload_base}/api/file-stream-upload",
            files={"file": (file_name, content, mime)},
            data={"uploadPath": upload_path, "fileName": file_name},
        )
        url = data.get("downloadUrl") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            raise ServerError(f"upload of {file_name} answered without a downloadUrl")
        if not safe_url(url):
            # It would go into a paid request as the scene's image: kie.ai fetching
            # file:///etc/passwd (or our own machine's files) must never be asked for.
            raise UnsafeAnswer(
                f"the upload server answered {url!r} for {file_name}: not used (only https://, "
                "or http:// on loopback); nothing was sent for this scene"
            )
        return url

    def credit(self) -> float:
        data = self._call("GET", f"{self.api_base}/api/v1/chat/credit")
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ServerError(f"credit answered {data!r}")
        return float(data)


def _redirected(resp: httpx.Response, base: str, ids: dict[str, Any]) -> Redirected:
    location = resp.headers.get("location", "")
    why = "" if safe_url(location) else " (and it is not https://)"
    return Redirected(
        f"{base} answered {resp.status_code} redirecting to {location!r}{why}: not followed "
        "(the key must not travel elsewhere); check KIE_API_BASE / KIE_UPLOAD_BASE",
        code=resp.status_code,
        **ids,
    )


def _stderr(text: str) -> None:
    sys.stderr.write(terminal(text) + "\n")
    sys.stderr.flush()


def _is_url(value: Any) -> bool:
    """A result URL the downloader could at least try (empty strings and junk are not)."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


__all__ = [
    "MAX_JSON_BYTES",
    "KieClient",
    "KieError",
    "TaskInfo",
    "Timeouts",
    "check_url",
    "is_loopback",
    "parse_retry_after",
    "read_capped",
    "safe_url",
]
