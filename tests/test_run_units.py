"""Unit tests of the run stage's small parts: limiter, scene key, config and prices, backoff,
downloads, plan classification, and the import boundary (check/build without httpx)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakekie import clip_bytes
from hypothesis import given
from hypothesis import strategies as st

from shotc.run.config import DEFAULT_PRICES, Config, estimate_request, load_config
from shotc.run.downloads import Downloader, DownloadError
from shotc.run.errors import ConfigError, RateLimited, Rejected
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Submission
from shotc.run.limiter import RateLimiter
from shotc.run.planner import classify
from shotc.run.retry import Backoff, Stopped, call_with_retries
from shotc.run.scene_key import DigestCache, local_files, scene_key

# -- limiter -----------------------------------------------------------------------------------


def test_limiter_allows_n_then_waits_a_period_after_the_answer() -> None:
    limiter = RateLimiter(3, 0.3)
    slots = [limiter.acquire() for _ in range(3)]
    released = time.monotonic()
    for slot in slots:
        assert slot is not None
        limiter.release(slot)
    assert limiter.acquire() is not None
    assert time.monotonic() - released >= 0.29


def test_limiter_in_flight_slots_hold_and_stop_cancels() -> None:
    limiter = RateLimiter(1, 0.01)
    assert limiter.acquire() is not None  # never answered: stays in flight
    stop = threading.Event()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(limiter.acquire(stop)))
    waiter.start()
    time.sleep(0.1)
    assert waiter.is_alive()
    stop.set()
    limiter.wake()
    waiter.join(2)
    assert got == [None]


def test_limiter_refused_attempts_do_not_count() -> None:
    limiter = RateLimiter(1, 10.0)
    slot = limiter.acquire()
    assert slot is not None
    limiter.release(slot, counts=False)
    started = time.monotonic()
    assert limiter.acquire() is not None
    assert time.monotonic() - started < 0.1


def test_limiter_pause() -> None:
    limiter = RateLimiter(5, 0.01)
    limiter.pause(0.2)
    started = time.monotonic()
    assert limiter.acquire() is not None
    assert time.monotonic() - started >= 0.19


# -- scene key ---------------------------------------------------------------------------------


def request(image: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "kling-3.0/video",
        **extra,
        "input": {"prompt": "p", "image_urls": [image], "duration": "5", "mode": "pro"},
    }


def test_key_uses_content_not_path_and_ignores_callback(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    c.write_bytes(b"other")
    digest = DigestCache()
    key_a, canon = scene_key(request(a.as_uri()), digest)
    assert scene_key(request(b.as_uri()), digest)[0] == key_a
    assert scene_key(request(a.as_uri(), callBackUrl="https://x/cb"), digest)[0] == key_a
    assert scene_key(request(c.as_uri()), digest)[0] != key_a
    assert "file:" not in canon and "sha256:" in canon
    assert local_files(request(a.as_uri())) == [a]


def test_key_notices_an_edited_file(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"one")
    digest = DigestCache()
    first = scene_key(request(image.as_uri()), digest)[0]
    image.write_bytes(b"two, longer")
    assert scene_key(request(image.as_uri()), digest)[0] != first


def test_prompt_text_that_looks_like_a_file_uri_is_text() -> None:
    body = {"model": "m", "input": {"prompt": "file:///etc/passwd", "duration": "5"}}
    _key, canon = scene_key(body, DigestCache())
    assert "file:///etc/passwd" in canon and local_files(body) == []


@given(
    st.dictionaries(
        st.sampled_from(["prompt", "duration", "mode", "aspect_ratio"]), st.text(max_size=20)
    )
)
def test_key_ignores_key_order(inp: dict[str, str]) -> None:
    forward = {"model": "m", "input": dict(inp)}
    backward = {"input": dict(reversed(list(inp.items()))), "model": "m"}
    assert scene_key(forward, DigestCache())[0] == scene_key(backward, DigestCache())[0]


# -- config and prices -------------------------------------------------------------------------


def test_default_prices_and_estimate() -> None:
    config = Config()
    assert config.estimate("std", False, 5) == 70
    assert config.estimate("pro", True, 10) == 270
    multi = {"input": {"duration": "6", "mode": "std", "multi_shots": True}}
    assert estimate_request(config, multi) == ("std", True, 6, 120.0)


def test_config_overrides_prices_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "shotc.toml"
    path.write_text('[run]\nrate_limit = 5\npoll_initial = 0.5\n[prices]\npro = 10\n"4K" = 50\n')
    config = load_config(path)
    assert config.run.rate_limit == 5 and config.run.poll_initial == 0.5
    assert config.prices["pro"] == 10 and config.prices["std"] == DEFAULT_PRICES["std"]


@pytest.mark.parametrize(
    "text",
    [
        "[run]\nrate_limt = 5\n",
        "[run]\nrate_limit = 1.5\n",
        "[run]\ndeadline = -1\n",
        "[prices]\npro = 'x'\n",
        "[other]\n",
        "not toml [",
    ],
)
def test_config_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "shotc.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_config(path)


# -- backoff -----------------------------------------------------------------------------------


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(base=1.0, cap=8.0, retries=3)
    for attempt, ceiling in [(0, 1), (1, 2), (2, 4), (5, 8)]:
        assert ceiling / 2 <= backoff.delay(attempt) <= ceiling
    assert backoff.delay(0, retry_after=5.0) == 5.0
    # Whatever the server asks for, never more than the cap (retry_max): a Retry-After of a
    # year must not hang the run.
    assert backoff.delay(0, retry_after=30.0) == 8.0
    assert backoff.delay(0, retry_after=1e300) == 8.0
    assert backoff.delay(5000) <= 8.0  # 2**5000 would overflow a float


def test_call_with_retries() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RateLimited("429")
        return "ok"

    stop = threading.Event()
    assert call_with_retries(flaky, backoff=Backoff(0.001, 0.01, 5), stop=stop) == "ok"
    with pytest.raises(Rejected):
        call_with_retries(
            lambda: (_ for _ in ()).throw(Rejected("no")),
            backoff=Backoff(0.001, 0.01, 5),
            stop=stop,
        )
    stop.set()
    with pytest.raises(Stopped):
        call_with_retries(
            lambda: (_ for _ in ()).throw(RateLimited("429")),
            backoff=Backoff(0.001, 0.01, 5),
            stop=stop,
        )


# -- downloads ---------------------------------------------------------------------------------

MP4 = clip_bytes("unit")  # a complete MP4: ftyp, moov and mdat boxes


def success(ledger: Ledger, url: str = "https://cdn.test/a.mp4") -> Submission:
    sub = ledger.begin(
        scene_key="k",
        take=1,
        script="f.shot",
        scene_id="a",
        film_title="F",
        request="{}",
        seconds=5,
        mode="pro",
        sound=False,
        est_credits=1,
    )
    ledger.created(sub.id, "t")
    ledger.remote(sub.id, "success", result_urls=[url])
    return ledger.get(sub.id)


def downloader(body: bytes, status: int = 200) -> Downloader:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers  # the key never goes to the CDN
        return httpx.Response(status, content=body)

    return Downloader(
        backoff=Backoff(0.001, 0.01, 2),
        stop=threading.Event(),
        transport=httpx.MockTransport(handler),
    )


def test_download_is_atomic_checked_and_sets_older_files_aside(
    ledger_where: Path | str, tmp_path: Path
) -> None:
    ledger = Ledger(ledger_where, root=tmp_path)
    sub = success(ledger)
    target = tmp_path / "out" / "a.mp4"
    target.parent.mkdir()
    target.write_bytes(b"an older render")
    (target.parent / ".a.mp4.dead.part").write_bytes(b"left by a killed run")
    assert downloader(MP4).ensure(sub, target, ledger).how == "downloaded"
    assert target.read_bytes() == MP4
    names = sorted(p.name for p in target.parent.iterdir())
    assert len(names) == 2 and names[0].startswith("a.") and names[1] == "a.mp4"
    assert downloader(b"").ensure(sub, target, ledger).how == "present"
    copy = tmp_path / "out" / "b.mp4"
    assert downloader(b"").ensure(sub, copy, ledger).how == "copied"
    assert copy.read_bytes() == MP4


@pytest.mark.parametrize(("body", "status"), [(b"<html>error</html>", 200), (MP4, 404)])
def test_download_refuses_bad_content_and_expired_urls(
    tmp_path: Path, body: bytes, status: int
) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    sub = success(ledger)
    target = tmp_path / "a.mp4"
    with pytest.raises(DownloadError):
        downloader(body, status).ensure(sub, target, ledger)
    assert not target.exists() and list(tmp_path.glob("*.part")) == []


def test_download_refuses_plain_http_off_loopback(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    sub = success(ledger, url="http://cdn.example.com/a.mp4")
    with pytest.raises(DownloadError):
        downloader(MP4).ensure(sub, tmp_path / "a.mp4", ledger)


# -- plan classification -----------------------------------------------------------------------


def sub_in(state: str, key: str = "k") -> Submission:
    return Submission(
        1,
        key,
        1,
        "f",
        "a",
        "F",
        state,
        None,
        "{}",
        5,
        "pro",
        False,
        1.0,
        1,
        0.0,
        None,
        0.0,
        None,
        (),
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("state", "shown", "sends"),
    [
        ("success", "done", False),
        ("waiting", "running", False),
        ("generating", "running", False),
        ("fail", "failed", True),
        ("unknown", "unknown", False),
        ("not_sent", "new", True),
        ("abandoned", "new", True),
        ("sending", "sending", False),
    ],
)
def test_classify(state: str, shown: str, sends: bool) -> None:
    assert classify(sub_in(state), [], "k", resubmit_unknown=False) == (shown, sends)


def test_classify_new_changed_and_resubmit_unknown() -> None:
    assert classify(None, [], "k", resubmit_unknown=False) == ("new", True)
    assert classify(None, [sub_in("success", "old")], "k", resubmit_unknown=False) == (
        "changed",
        True,
    )
    assert classify(sub_in("unknown"), [], "k", resubmit_unknown=True) == ("unknown", True)


# -- import boundary ---------------------------------------------------------------------------


def test_check_and_build_do_not_import_httpx(tmp_path: Path) -> None:
    script = tmp_path / "a.shot"
    script.write_text("SCENE A\nSHOT 5s\nA dog.\n")
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom shotc.cli import main\n"
        f"for cmd in (['check', {str(script)!r}], ['build', {str(script)!r}]):\n"
        "    r = CliRunner().invoke(main, cmd)\n"
        "    assert r.exit_code == 0, r.output\n"
        "import json\n"
        "print(json.dumps(['httpx' in sys.modules, 'shotc.run' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == [False, False]
