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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO

import httpx

from shotc.run.client import USER_AGENT, check_url
from shotc.run.errors import ConfigError, KieError, LocalIOError, NotSent, ServerError
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Submission
from shotc.run.retry import Backoff, Stopped, call_with_retries

_CHUNK = 1 << 16
_ISO_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"}


class DownloadError(KieError):
    """The clip could not be fetched (expired URL, bad content): not a local I/O problem."""


def clip_name(scene_id: str, take: int) -> str:
    return f"{scene_id}.mp4" if take == 1 else f"{scene_id}.take{take}.mp4"


# The other names written beside a clip: its temporary file, and the name an older file at
# its place is set aside to (the run's preflight checks that they fit the file system too).
PART_TOKEN_CHARS = 12


def part_name(name: str, token: str) -> str:
    return f".{name}.{token}.part"


def aside_name(name: str, digest: str) -> str:
    path = PurePath(name)
    return f"{path.stem}.{digest[:8]}{path.suffix}"


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


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Downloader:
    def __init__(
        self,
        *,
        backoff: Backoff,
        stop: threading.Event,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
    ) -> None:
        # A client of its own, without the Authorization header: result URLs live on a CDN
        # and the key must never travel there.
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=10.0),
            follow_redirects=True,
            transport=transport,
        )
        self._backoff = backoff
        self._stop = stop

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
        digest, size = call_with_retries(
            lambda: self._fetch(url, target, sub),
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
        self, target: Path, write: Callable[[BinaryIO], tuple[str, int]], digest: str | None
    ) -> tuple[str, int]:
        """Write via `write(fileobj) -> (sha256, size)` to a temp file, check, then rename."""
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
            os.replace(tmp, target)
            _fsync_dir(target.parent)
            return got_digest, size
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def _fetch(self, url: str, target: Path, sub: Submission) -> tuple[str, int]:
        ids: dict[str, Any] = {"scene_id": sub.scene_id, "task_id": sub.task_id}
        try:
            with self._http.stream("GET", url) as resp:
                if resp.status_code in (403, 404, 410):
                    raise DownloadError(
                        f"result URL answered {resp.status_code} (expired?)",
                        code=resp.status_code,
                        **ids,
                    )
                if resp.status_code >= 500:
                    raise ServerError(f"result URL answered {resp.status_code}", **ids)
                if resp.status_code != 200:
                    raise DownloadError(f"result URL answered {resp.status_code}", **ids)
                expected = resp.headers.get("content-length")

                def write(out: BinaryIO) -> tuple[str, int]:
                    h = hashlib.sha256()
                    size = 0
                    head = b""
                    for chunk in resp.iter_bytes(_CHUNK):
                        if self._stop.is_set():
                            raise Stopped()
                        if len(head) < 8:
                            head += chunk[:8]
                        h.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                    if expected is not None and expected.isdigit() and int(expected) != size:
                        raise ServerError(f"clip truncated ({size} of {expected} bytes)", **ids)
                    if size < 8 or head[4:8] not in _ISO_BOXES:
                        raise DownloadError("result is not an MP4 file", **ids)
                    return h.hexdigest(), size

                try:
                    return self._install(target, write, None)
                except OSError as exc:
                    raise LocalIOError(f"{target}: {exc.strerror or exc}") from None
        except httpx.TransportError as exc:
            # A GET is safe to repeat whatever happened to it.
            raise NotSent(f"download failed: {type(exc).__name__}: {exc}", **ids) from None


def _copy(source: Path, out: BinaryIO) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with source.open("rb") as src:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return h.hexdigest(), size


__all__ = ["DownloadError", "Downloader", "Outcome", "clip_name"]
