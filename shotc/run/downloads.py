"""Run stage: put each finished clip on disk, atomically, and never destroy one.

A clip is streamed to a temporary file in the target directory, checked (length, an ISO
media box at the start), fsynced and renamed into place, then recorded with its digest. A
different file already at the target (an older render of an edited scene, or the user's own)
is renamed aside to `<name>.<digest8>.mp4`, never overwritten: it may be a paid result whose
URL has expired. A clip the ledger already has on disk elsewhere is copied, not re-fetched.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urljoin

import httpx

from shotc.durable import fsync_path
from shotc.film.layout import aside_name
from shotc.run.client import USER_AGENT, check_url, safe_url
from shotc.run.config import DOWNLOAD_DEADLINE, DOWNLOAD_MAX_BYTES, RunSettings
from shotc.run.errors import ConfigError, KieError, LocalIOError, NotSent, ServerError
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Submission
from shotc.run.mp4 import mp4_problem
from shotc.run.retry import Backoff, Stopped, call_with_retries

_MAX_HOPS = 10  # redirects followed for one result URL


class DownloadError(KieError):
    """The clip could not be fetched (expired URL, bad content): not a local I/O problem."""


# The other names written beside a clip: its temporary file, and the name a file found at
# its place is set aside to (`shotc.film.layout.aside_name`, the home of clip names; the run's
# preflight checks that they fit the file system too).
PART_TOKEN_CHARS = 12


def part_name(name: str, token: str) -> str:
    return f".{name}.{token}.part"


@dataclass(frozen=True, slots=True)
class Outcome:
    path: Path
    how: str  # "present", "copied" or "downloaded"


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class Downloader:
    def __init__(
        self,
        *,
        backoff: Backoff,
        stop: threading.Event,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        max_bytes: int = DOWNLOAD_MAX_BYTES,
        deadline: float = DOWNLOAD_DEADLINE,
    ) -> None:
        # A client of its own, without the Authorization header: result URLs live on a CDN
        # and the key must never travel there. Redirects are followed here, hop by hop, so
        # each hop is checked (https:// only) and a loop is named as one.
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            transport=transport,
        )
        self._backoff = backoff
        self._stop = stop
        self._max_bytes = max_bytes
        self._deadline = deadline

    @classmethod
    def from_settings(
        cls,
        settings: RunSettings,
        stop: threading.Event,
        transport: httpx.BaseTransport | None = None,
    ) -> Downloader:
        """The downloader `run` uses: timeouts, size cap and deadline from `shotc.toml`."""
        return cls(
            backoff=Backoff(settings.retry_base, settings.retry_max, settings.retries),
            stop=stop,
            transport=transport,
            timeout=settings.timeout_read,
            connect_timeout=settings.timeout_connect,
            max_bytes=settings.download_max_bytes,
            deadline=settings.download_deadline,
        )

    def close(self) -> None:
        self._http.close()

    def ensure(self, sub: Submission, target: Path, ledger: Ledger) -> Outcome:
        """Make `target` hold this submission's clip; how it got there."""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Leftovers of a run killed mid-download (we hold the run lock: none is live).
            for stale in target.parent.glob(part_name(glob.escape(target.name), "*")):
                stale.unlink(missing_ok=True)
            recorded = ledger.downloads(sub.id)
            for rec in recorded:
                if Path(rec.path) == target and self._matches(
                    target, rec.sha256, rec.size, rec.mtime_ns
                ):
                    return Outcome(target, "present")
            if target.exists():
                digest = _sha256_of(target)
                if any(rec.sha256 == digest for rec in recorded):
                    # The very clip, recorded under another path (the project moved since, or
                    # a ledger from before paths were relative): keep it, recorded here.
                    ledger.record_download(sub.id, target, digest, target.stat().st_size)
                    return Outcome(target, "present")
                self._set_aside(target, digest, ledger)
            for rec in recorded:
                source = Path(rec.path)
                if source != target and self._matches(source, rec.sha256, rec.size, rec.mtime_ns):
                    self._install(target, functools.partial(_copy, source), rec.sha256)
                    ledger.record_download(sub.id, target, rec.sha256, rec.size)
                    return Outcome(target, "copied")
        except OSError as exc:
            raise LocalIOError(f"{target}: {exc.strerror or exc}") from None
        if not sub.result_urls:
            raise DownloadError(
                "finished without a result URL", scene_id=sub.scene_id, task_id=sub.task_id
            )
        url = sub.result_urls[0]
        try:
            check_url(url, "result URL")
        except ConfigError as exc:
            raise DownloadError(str(exc), scene_id=sub.scene_id, task_id=sub.task_id) from None
        # One deadline for the clip, every hop, read and retry included: a server dripping a
        # byte every few seconds passes any per-read timeout, never this.
        deadline = time.monotonic() + self._deadline
        digest, size = call_with_retries(
            lambda: self._fetch(url, target, sub, deadline),
            backoff=self._backoff,
            stop=self._stop,
            retry_on=(NotSent, ServerError),
        )
        ledger.record_download(sub.id, target, digest, size)
        return Outcome(target, "downloaded")

    def _matches(self, path: Path, digest: str, size: int, mtime_ns: int) -> bool:
        try:
            st = path.stat()
        except OSError:
            return False
        if st.st_size != size:
            return False
        # Unchanged size and mtime: trust the recorded digest instead of re-reading the clip.
        return st.st_mtime_ns == mtime_ns or _sha256_of(path) == digest

    def _set_aside(self, target: Path, digest: str, ledger: Ledger) -> None:
        aside = target.with_name(aside_name(target.name, digest))
        if aside.exists() and _sha256_of(aside) == digest:
            target.unlink()  # an identical copy is already kept aside
        else:
            os.replace(target, aside)
        ledger.move_download(target, aside)

    def _install(
        self,
        target: Path,
        write: Callable[[BinaryIO], tuple[str, int]],
        digest: str | None,
        check: Callable[[Path], None] | None = None,
    ) -> tuple[str, int]:
        """Write via `write(fileobj) -> (sha256, size)` to a temp file, check (the digest,
        and `check(temp path)`), then rename."""
        # Not mkstemp: its 0600 mode would make clips unreadable to the user's group; 0666
        # filtered by the umask is what any other program writing a file would give.
        tmp = target.parent / part_name(target.name, secrets.token_hex(PART_TOKEN_CHARS // 2))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                got_digest, size = write(out)
                out.flush()
                os.fsync(out.fileno())
            if digest is not None and got_digest != digest:
                raise LocalIOError(f"copy of {target.name} does not match its recorded digest")
            if check is not None:
                check(tmp)
            os.replace(tmp, target)
            fsync_path(target.parent)
            return got_digest, size
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def _fetch(self, url: str, target: Path, sub: Submission, deadline: float) -> tuple[str, int]:
        ids: dict[str, Any] = {"scene_id": sub.scene_id, "task_id": sub.task_id}
        seen = [url]
        try:
            while True:
                self._within(deadline, ids)
                with self._http.stream("GET", url) as resp:
                    if resp.is_redirect:
                        url = self._next_hop(url, resp, seen, ids)
                        continue
                    self._check_status(resp, ids)
                    try:
                        return self._install(
                            target,
                            functools.partial(self._write, resp, deadline, ids),
                            None,
                            functools.partial(_check_mp4, ids=ids),
                        )
                    except OSError as exc:
                        raise LocalIOError(f"{target}: {exc.strerror or exc}") from None
        except httpx.TransportError as exc:
            # A GET is safe to repeat whatever happened to it.
            raise NotSent(f"download failed: {type(exc).__name__}: {exc}", **ids) from None

    def _within(self, deadline: float, ids: dict[str, Any]) -> None:
        if time.monotonic() > deadline:
            raise DownloadError(
                f"clip not complete after {self._deadline:.0f}s (download_deadline in "
                "shotc.toml); run again to fetch it",
                **ids,
            )

    @staticmethod
    def _next_hop(url: str, resp: httpx.Response, seen: list[str], ids: dict[str, Any]) -> str:
        """Where a redirect leads, if it may be followed: every hop obeys the https rule."""
        location = urljoin(url, str(resp.headers.get("location", "")))
        if not safe_url(location):
            raise DownloadError(
                f"result URL redirected to {location!r}: refused (only https://, or http:// "
                "on loopback)",
                **ids,
            )
        if location in seen:
            raise DownloadError(
                f"result URL redirects in a loop ({len(seen)} hops, back to {location!r})",
                **ids,
            )
        if len(seen) > _MAX_HOPS:
            raise DownloadError(f"result URL redirected more than {_MAX_HOPS} times", **ids)
        seen.append(location)
        return location

    def _check_status(self, resp: httpx.Response, ids: dict[str, Any]) -> None:
        if resp.status_code in (403, 404, 410):
            raise DownloadError(
                f"result URL answered {resp.status_code} (expired?)", code=resp.status_code, **ids
            )
        if resp.status_code >= 500:
            raise ServerError(f"result URL answered {resp.status_code}", **ids)
        if resp.status_code != 200:
            raise DownloadError(f"result URL answered {resp.status_code}", **ids)
        declared = resp.headers.get("content-length", "")
        encoded = "content-encoding" in resp.headers
        if declared.isdigit() and int(declared) > self._max_bytes and not encoded:
            raise DownloadError(self._too_large(), **ids)

    def _too_large(self) -> str:
        return (
            f"clip larger than {self._max_bytes} bytes (download_max_bytes in shotc.toml): "
            "not downloaded"
        )

    def _write(
        self, resp: httpx.Response, deadline: float, ids: dict[str, Any], out: BinaryIO
    ) -> tuple[str, int]:
        """Stream the body to `out`: decoded (gzip, deflate), capped, within the deadline."""
        h = hashlib.sha256()
        size = 0
        # No chunk size: each piece as it arrives, so the deadline is checked at every read.
        for chunk in resp.iter_bytes():
            if self._stop.is_set():
                raise Stopped()
            self._within(deadline, ids)
            size += len(chunk)
            if size > self._max_bytes:
                raise DownloadError(self._too_large(), **ids)
            h.update(chunk)
            out.write(chunk)
        # Content-Length counts the bytes on the wire, before any Content-Encoding is undone.
        expected = resp.headers.get("content-length", "")
        # (A body already in memory, as a test's MockTransport gives, counts no wire bytes.)
        got = resp.num_bytes_downloaded or size
        if expected.isdigit() and int(expected) != got:
            raise ServerError(f"clip truncated ({got} of {expected} bytes)", **ids)
        return h.hexdigest(), size


def _check_mp4(path: Path, *, ids: dict[str, Any]) -> None:
    """A body that ended early without a Content-Length looks whole to HTTP: the file must
    be a complete MP4 too. Cut short is retried (the server may do better); not an MP4 at
    all is not."""
    problem = mp4_problem(path)
    if problem is None:
        return
    if "not an MP4" in problem:
        raise DownloadError(f"result is {problem.removeprefix('does not start with ')}", **ids)
    raise ServerError(f"downloaded clip {problem}", **ids)


def _copy(source: Path, out: BinaryIO) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with source.open("rb") as src:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return h.hexdigest(), size


__all__ = ["DownloadError", "Downloader", "Outcome", "aside_name", "part_name"]
