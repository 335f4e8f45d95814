"""Run stage: local media to kie.ai upload URLs, cached in the ledger by content digest and
upload base.

Each distinct file is uploaded once per 3-day lifetime, under a name derived from its digest
(so a repeated upload overwrites the same object instead of piling up copies). A cached URL
is reused only while comfortably before its expiry, because kie.ai may fetch the image when
generation starts, not when the task is created. The cache is per upload base: a URL handed
out by one service (a staging account, a test server) means nothing to another.

The expiry is kie.ai's documented promise, not a guarantee that the file is still there, so a
cached URL is also checked by use: when createTask refuses a request in a way that may mean it
could not fetch the media, the uploads it pointed at are forgotten, and the orchestrator
resolves it again with uploads made in this run (`refresh`).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from shotc.run.client import KieClient, safe_url
from shotc.run.config import RunSettings
from shotc.run.errors import LocalIOError, MediaChanged, Rejected
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Upload
from shotc.run.retry import Backoff, call_with_retries
from shotc.run.scene_key import DigestCache, replace_media

UPLOAD_PATH = "shotc"
_DEFAULT_PORTS = {"https": 443, "http": 80}
# kie.ai documents no code for "cannot read your image"; 422 is its validation error, and the
# wording covers gateways or versions that use another code.
_UNFETCHABLE = re.compile(
    r"(?i)\b(?:cannot|can't|could not|failed to|unable to)\s+"
    r"(?:fetch|download|access|read)"
)


def normalise_base(url: str) -> str:
    """The cache's name for an upload base: scheme and host lower-cased, default port and
    trailing slashes dropped, so two spellings of one service share their uploads."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def unfetchable(exc: Rejected) -> bool:
    """Whether a createTask refusal may be kie.ai failing to fetch the request's media."""
    return exc.code == 422 or bool(_UNFETCHABLE.search(str(exc)))


@dataclass(frozen=True, slots=True)
class Resolved:
    """A request as it is sent, and the uploads it points at."""

    body: dict[str, Any]
    uploads: tuple[Upload, ...]
    cached: tuple[Upload, ...]  # taken from an earlier run's cache: may be gone at kie.ai


class Uploader:
    def __init__(
        self,
        client: KieClient,
        settings: RunSettings,
        digest: DigestCache,
        stop: threading.Event,
    ) -> None:
        self._client = client
        self._settings = settings
        self._digest = digest
        self._stop = stop
        self.base = normalise_base(client.upload_base)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # digest -> uploaded_at of the uploads this run made: those are known to be there.
        self._mine: dict[str, float] = {}
        self.uploaded = 0  # files actually sent in this run
        self.reused = 0

    def _lock_for(self, digest: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(digest, threading.Lock())

    def _is_mine(self, up: Upload) -> bool:
        return self._mine.get(up.sha256) == up.uploaded_at

    def resolve(
        self,
        request: Mapping[str, Any],
        ledger: Ledger,
        *,
        media: Mapping[Path, str] | None = None,
        fresh_only: bool = False,
    ) -> Resolved:
        """Every `file://` medium replaced by its upload URL; with `fresh_only`, only uploads
        made in this run are used (older cache entries are uploaded again).

        `media` maps each file to the digest the scene key was computed from: exactly that
        content is sent, or MediaChanged is raised (the file was edited since)."""
        used: dict[str, Upload] = {}

        def url(path: Path) -> str:
            expected = media.get(path) if media is not None else None
            up = self._upload_for(path, ledger, expected, fresh_only=fresh_only)
            used[up.sha256] = up
            return up.url

        body = replace_media(request, url)
        uploads = tuple(used.values())
        return Resolved(body, uploads, tuple(u for u in uploads if not self._is_mine(u)))

    def refresh(
        self,
        request: Mapping[str, Any],
        stale: Resolved,
        ledger: Ledger,
        *,
        media: Mapping[Path, str] | None = None,
    ) -> Resolved:
        """After a refusal that may mean kie.ai could not fetch `stale`'s cached uploads:
        forget them and resolve the request again with this run's uploads only."""
        self.forget(stale.cached, ledger)
        return self.resolve(request, ledger, media=media, fresh_only=True)

    def forget(self, uploads: tuple[Upload, ...], ledger: Ledger) -> None:
        """Take these uploads out of the cache, so the next use uploads the file again."""
        for up in uploads:
            with self._lock_for(up.sha256):
                ledger.forget_upload(up)

    def _upload_for(
        self, path: Path, ledger: Ledger, expected: str | None, *, fresh_only: bool
    ) -> Upload:
        digest = expected if expected is not None else self._digest(path)
        # One upload per file even when several scenes need it at the same moment.
        with self._lock_for(digest):
            now = time.time()
            cached = ledger.upload(digest, self.base)
            if (
                cached is not None
                and safe_url(cached.url)  # an entry from before the rule is uploaded again
                and cached.expires_at - now > self._settings.upload_margin
                and (not fresh_only or self._is_mine(cached))
            ):
                self.reused += 1
                return cached
            backoff = Backoff(
                self._settings.retry_base, self._settings.retry_max, self._settings.retries
            )
            url, size = call_with_retries(
                lambda: self._send(path, digest, ledger),
                backoff=backoff,
                stop=self._stop,
            )
            expires = now + self._settings.upload_ttl
            up = Upload(digest, self.base, url, _name(path, digest), size, now, expires)
            ledger.record_upload(up)
            self._mine[digest] = now
            self.uploaded += 1
            return up

    def _send(self, path: Path, digest: str, ledger: Ledger) -> tuple[str, int]:
        """Stream the file to the upload server, hashing what is sent; (URL, size).

        Streamed, never read whole: an element video may be larger than the memory. The
        bytes sent are checked against `digest` as they go: a file edited after planning is
        not used (MediaChanged), and the cache entry for `digest` is forgotten, since the
        upload (named by that digest) may have overwritten its object with other content."""
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # First a cheap look (the digest cache knows the file by size and mtime): an edit
        # noticed here uploads nothing at all.
        if self._digest(path) != digest:
            raise _changed(path)
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise LocalIOError(f"cannot read {path}: {exc.strerror or exc}") from None
        with fh:
            reader = _HashingReader(fh)
            try:
                url = self._client.upload_file(
                    reader, upload_path=UPLOAD_PATH, file_name=_name(path, digest), mime=mime
                )
            finally:
                if reader.error is not None:
                    raise LocalIOError(f"cannot read {path}: {reader.error}")
        if reader.hexdigest() != digest:
            stale = ledger.upload(digest, self.base)
            if stale is not None:
                ledger.forget_upload(stale)
            raise _changed(path)
        return url, reader.size


def _changed(path: Path) -> MediaChanged:
    return MediaChanged(
        f"{path} changed after this run computed the scene's key from it: not sent "
        "(sending it would pay again on the next run); run again to send it"
    )


def _name(path: Path, digest: str) -> str:
    return digest[:32] + path.suffix.lower()


class _HashingReader:
    """A read-only view of an open file for httpx's multipart encoder: hashes what is read.

    No `seek`, so the encoder reads it once from the start; `fileno` lets it find the size
    (a Content-Length, which upload servers want) without reading."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._hash = hashlib.sha256()
        self.size = 0
        self.error: str | None = None

    def fileno(self) -> int:
        return self._fh.fileno()

    def read(self, n: int = -1) -> bytes:
        try:
            chunk = self._fh.read(n)
        except OSError as exc:
            # Surfaced after the call as a local error: raised here, httpx would report it
            # as a failed upload and it would be retried as the server's fault.
            self.error = str(exc.strerror or exc)
            return b""
        self._hash.update(chunk)
        self.size += len(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
