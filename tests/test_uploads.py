"""Unit tests of the upload cache: base normalisation, which refusals may mean kie.ai could
not fetch our media, and forgetting stale uploads in favour of this run's own."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import httpx
import pytest

from shotc.run.client import DEFAULT_UPLOAD_BASE, KieClient
from shotc.run.config import RunSettings
from shotc.run.errors import MediaChanged, Rejected
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Upload
from shotc.run.scene_key import DigestCache
from shotc.run.uploads import Uploader, normalise_base, unfetchable


def test_normalise_base() -> None:
    assert normalise_base("HTTPS://KieAI.RedPandaAI.co:443/") == "https://kieai.redpandaai.co"
    assert normalise_base("http://127.0.0.1:8080//") == "http://127.0.0.1:8080"
    assert normalise_base("http://[::1]:80/up/") == "http://[::1]/up"
    # V2's migration files old https uploads under this exact string.
    assert normalise_base(DEFAULT_UPLOAD_BASE) == "https://kieai.redpandaai.co"


@pytest.mark.parametrize(
    ("code", "msg", "expected"),
    [
        (422, "validation error", True),
        (400, "cannot fetch https://x/a.png", True),
        (500, "Failed to download image_urls[0]", True),
        (400, "prompt too long", False),
        (505, "feature disabled", False),
    ],
)
def test_unfetchable(code: int, msg: str, expected: bool) -> None:
    assert unfetchable(Rejected(f"refused ({code} {msg})", code=code)) is expected


def uploader(base: str, counter: list[str]) -> Uploader:
    def handler(request: httpx.Request) -> httpx.Response:
        counter.append(str(request.url))
        url = f"https://files.test/{len(counter)}"
        return httpx.Response(200, json={"code": 200, "data": {"downloadUrl": url}})

    client = KieClient("k" * 20, upload_base=base, transport=httpx.MockTransport(handler))
    return Uploader(client, RunSettings(), DigestCache(), threading.Event())


def test_refresh_forgets_cached_uploads_and_uses_this_runs_own(
    ledger_where: Path | str, tmp_path: Path
) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG pixels")
    request = {"input": {"image_urls": [image.as_uri()]}}
    ledger = Ledger(ledger_where, root=tmp_path)
    sent: list[str] = []

    first = uploader("https://UP.test/", sent).resolve(request, ledger)
    assert first.body["input"]["image_urls"] == ["https://files.test/1"]
    assert first.cached == () and len(first.uploads) == 1  # uploaded by that run itself
    assert first.uploads[0].base == "https://up.test"

    # A later run reuses it, and says it came from the cache.
    later = uploader("https://up.test", sent)
    cached = later.resolve(request, ledger)
    assert len(sent) == 1 and cached.cached == first.uploads
    fresh = later.refresh(request, cached, ledger)
    assert len(sent) == 2 and fresh.cached == ()
    assert fresh.body["input"]["image_urls"] == ["https://files.test/2"]
    # A second scene refused for the same stale upload does not upload it yet again.
    assert later.refresh(request, cached, ledger).uploads == fresh.uploads and len(sent) == 2

    # Another upload base never sees these uploads.
    other = uploader("https://staging.test", sent).resolve(request, ledger)
    assert len(sent) == 3 and other.cached == ()
    digest = fresh.uploads[0].sha256
    assert ledger.upload(digest, "https://up.test") == fresh.uploads[0]
    later.forget(fresh.uploads, ledger)
    assert ledger.upload(digest, "https://up.test") is None
    assert isinstance(ledger.upload(digest, "https://staging.test"), Upload)
    ledger.close()


def test_the_content_the_key_was_made_of_is_what_is_sent(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG planned")
    planned = hashlib.sha256(image.read_bytes()).hexdigest()
    request = {"input": {"image_urls": [image.as_uri()]}}
    ledger = Ledger(tmp_path / ".shotc" / "ledger.sqlite")
    sent: list[str] = []

    image.write_bytes(b"\x89PNG edited after planning")
    with pytest.raises(MediaChanged, match="changed after"):
        uploader("https://up.test", sent).resolve(request, ledger, media={image: planned})
    assert sent == []  # nothing uploaded, so nothing can be sent under the old key

    image.write_bytes(b"\x89PNG planned")
    done = uploader("https://up.test", sent).resolve(request, ledger, media={image: planned})
    assert len(sent) == 1 and done.uploads[0].sha256 == planned
