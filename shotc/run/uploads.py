"""Run stage: local media to kie.ai upload URLs, cached in the ledger by content digest.

Each distinct file is uploaded once per 3-day lifetime, under a name derived from its digest
(so a repeated upload overwrites the same object instead of piling up copies). A cached URL
is reused only while comfortably before its expiry, because kie.ai may fetch the image when
generation starts, not when the task is created.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from pathlib import Path
from typing import Any

from shotc.run.client import KieClient
from shotc.run.config import RunSettings
from shotc.run.errors import LocalIOError
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Upload
from shotc.run.retry import Backoff, call_with_retries
from shotc.run.scene_key import DigestCache, replace_media

UPLOAD_PATH = "shotc"


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
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.uploaded = 0  # files actually sent in this run
        self.reused = 0

    def _lock_for(self, digest: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(digest, threading.Lock())

    def resolve(self, request: dict[str, Any], ledger: Ledger) -> dict[str, Any]:
        """The request as it is sent: every `file://` medium replaced by its upload URL."""
        return replace_media(request, lambda path: self.url_for(path, ledger))

    def url_for(self, path: Path, ledger: Ledger) -> str:
        digest = self._digest(path)
        # One upload per file even when several scenes need it at the same moment.
        with self._lock_for(digest):
            now = time.time()
            cached = ledger.upload(digest)
            if cached is not None and cached.expires_at - now > self._settings.upload_margin:
                self.reused += 1
                return cached.url
            name = digest[:32] + path.suffix.lower()
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            backoff = Backoff(self._settings.retry_base, self._settings.retry_max,
                              self._settings.retries)
            url = call_with_retries(
                lambda: self._client.upload_file(
                    path, upload_path=UPLOAD_PATH, file_name=name, mime=mime
                ),
                backoff=backoff,
                stop=self._stop,
            )
            if self._digest(path) != digest:
                raise LocalIOError(f"{path} changed while it was being uploaded")
            size = path.stat().st_size
            expires = now + self._settings.upload_ttl
            ledger.record_upload(Upload(digest, url, name, size, now, expires))
            self.uploaded += 1
            return url
