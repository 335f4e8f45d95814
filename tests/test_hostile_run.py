"""`shotc run` against a hostile kie.ai (issue 7, cli.md promise 10): each class of bad answer
through the real command line, asserting what the user sees (exit code, message) and what the
fake received (never an extra createTask). Every wait is bounded by small settings in
`shotc.toml`, never by real minutes."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakekie.hostile import (
    CUT_WITH_LENGTH,
    CUT_WITHOUT_LENGTH,
    DRIP,
    ENDLESS,
    EVIL,
    GZIP,
    REDIRECT_HTTP,
    REDIRECT_LOOP,
    STALL,
    HostileKie,
)
from fakekie.project import FAST_CONFIG, Result, clips, shotc, write_project
from fakekie.server import clip_bytes

from shotc.run.mp4 import is_complete_mp4

# Downloads give up fast: few retries, small deadlines. A test states what it tightens more.
CONFIG = FAST_CONFIG + "retries = 2\n"


@pytest.fixture
def hostile() -> Iterator[HostileKie]:
    fake = HostileKie()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def run(tmp: Path, fake: HostileKie, extra: str = "", *args: str, timeout: float = 60) -> Result:
    (tmp / "shotc.toml").write_text(CONFIG + extra)
    return shotc(["run", "film.shot", *args], env=fake.env(), cwd=tmp, timeout=timeout)


# -- 1. Retry-After ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["soon", "nan", "-5", "1e400", "9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT"]
)
def test_bad_retry_after_is_ignored_or_capped(
    tmp_path: Path, hostile: HostileKie, value: str
) -> None:
    """A Retry-After that is no number or date used to raise inside the client and make the
    refused createTask `unknown`; a huge one hung the run. Now: plain backoff, or capped by
    retry_max (0.2 s here), and the refusal stays a refusal."""
    write_project(tmp_path, scenes=2)
    hostile.retry_after = value
    hostile.burst_429 = 3
    started = time.monotonic()
    result = run(tmp_path, hostile)
    assert result.code == 0, result.out + result.err
    assert time.monotonic() - started < 30
    assert "unknown" not in result.out and "internal error" not in result.err
    assert len(hostile.created()) == 2  # one task per scene, none lost or doubled
    assert hostile.outcomes()["429"] == 3


# -- 2. upload answers -------------------------------------------------------------------------


def test_upload_answer_with_a_file_url_is_never_sent(tmp_path: Path, hostile: HostileKie) -> None:
    write_project(tmp_path, scenes=2)
    hostile.upload_url = "file:///etc/passwd"
    result = run(tmp_path, hostile)
    assert result.code == 3, result.out + result.err
    assert "file:///etc/passwd" in result.err and "not used" in result.err
    assert hostile.creates == []  # nothing paid, nothing even asked
    # And the next run, with a sane upload server, sends each scene once.
    hostile.upload_url = None
    again = run(tmp_path, hostile)
    assert again.code == 0, again.out + again.err
    assert len(hostile.created()) == 2
    assert all("/etc/passwd" not in str(c.body) for c in hostile.creates)


# -- 3. downloads ------------------------------------------------------------------------------


def test_gzip_encoded_clip_is_decoded_and_kept(tmp_path: Path, hostile: HostileKie) -> None:
    script = write_project(tmp_path, scenes=1)
    hostile.result_mode = GZIP
    result = run(tmp_path, hostile)
    assert result.code == 0, result.out + result.err
    (task,) = [c.task_id for c in hostile.created()]
    assert task is not None
    clip = tmp_path / "renders" / "film" / "scene-1" / "take-1.mp4"
    assert clips(script) == ["scene-1/take-1.mp4"] and clip.read_bytes() == clip_bytes(task)


@pytest.mark.parametrize(
    ("mode", "said"),
    [(CUT_WITH_LENGTH, "download failed"), (CUT_WITHOUT_LENGTH, "cut short")],
)
def test_a_body_cut_short_is_never_a_clip(
    tmp_path: Path, hostile: HostileKie, mode: str, said: str
) -> None:
    script = write_project(tmp_path, scenes=1)
    hostile.result_mode = mode
    result = run(tmp_path, hostile)
    assert result.code == 3, result.out + result.err
    assert said in result.out + result.err
    assert clips(script) == []  # no partial file under the clip's name
    assert not list((tmp_path / "renders" / "film").glob(".*.part"))
    # Once the CDN behaves, the next run fetches the clip it paid for, without paying again.
    hostile.result_mode = None
    again = run(tmp_path, hostile)
    assert again.code == 0, again.out + again.err
    assert clips(script) == ["scene-1/take-1.mp4"] and len(hostile.created()) == 1
    assert is_complete_mp4(tmp_path / "renders" / "film" / "scene-1" / "take-1.mp4")


def test_slow_drip_is_stopped_by_the_clip_deadline(tmp_path: Path, hostile: HostileKie) -> None:
    """One byte every 0.2 s passes any read timeout (0.5 s here); the clip's overall
    deadline (1 s) stops it."""
    script = write_project(tmp_path, scenes=1)
    hostile.result_mode = DRIP
    started = time.monotonic()
    result = run(tmp_path, hostile, "timeout_read = 0.5\ndownload_deadline = 1.0\n")
    assert result.code == 3, result.out + result.err
    assert "download_deadline" in result.out
    assert time.monotonic() - started < 20
    assert clips(script) == [] and len(hostile.created()) == 1


def test_timeout_read_of_shotc_toml_is_honoured(tmp_path: Path, hostile: HostileKie) -> None:
    script = write_project(tmp_path, scenes=1)
    hostile.result_mode = STALL  # 30 s between two bytes
    started = time.monotonic()
    result = run(tmp_path, hostile, "timeout_read = 0.3\n")
    assert result.code == 3, result.out + result.err
    assert "ReadTimeout" in result.out
    assert time.monotonic() - started < 15  # not 60 s (the default), not 30 s
    assert clips(script) == []


@pytest.mark.parametrize("mode", [None, ENDLESS])
def test_size_cap(tmp_path: Path, hostile: HostileKie, mode: str | None) -> None:
    """With and without a Content-Length: past download_max_bytes nothing more is read."""
    script = write_project(tmp_path, scenes=1)
    hostile.result_mode = mode
    result = run(tmp_path, hostile, "download_max_bytes = 100\n")
    assert result.code == 3, result.out + result.err
    assert "download_max_bytes" in result.out
    assert clips(script) == [] and len(hostile.created()) == 1


# -- 4. redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "said"), [(REDIRECT_HTTP, "refused"), (REDIRECT_LOOP, "loop")])
def test_result_redirects_obey_the_https_rule(
    tmp_path: Path, hostile: HostileKie, mode: str, said: str
) -> None:
    script = write_project(tmp_path, scenes=1)
    hostile.result_mode = mode
    result = run(tmp_path, hostile)
    assert result.code == 3, result.out + result.err
    assert said in result.out and "internal error" not in result.out + result.err
    assert clips(script) == [] and len(hostile.created()) == 1
    assert not any(path.startswith("http://cdn.example.com") for _m, path in hostile.requests)


def test_api_redirect_is_not_followed(tmp_path: Path, hostile: HostileKie) -> None:
    write_project(tmp_path, scenes=3)
    hostile.redirect_api = "http://evil.example.com/api"
    result = run(tmp_path, hostile)
    assert result.code == 3, result.out + result.err
    assert result.err.count("redirecting to 'http://evil.example.com/api'") == 1
    assert "internal error" not in result.out + result.err
    assert hostile.creates == []


# -- 5. JSON answers ---------------------------------------------------------------------------


def test_huge_record_info_is_not_read(tmp_path: Path, hostile: HostileKie) -> None:
    write_project(tmp_path, scenes=1)
    hostile.huge_record = True
    result = run(tmp_path, hostile, "deadline = 1.0\n")
    assert result.code == 3, result.out + result.err
    assert "larger than 1048576 bytes" in result.out + result.err
    assert len(hostile.created()) == 1


# -- 6. text from the server -------------------------------------------------------------------


def test_escape_sequences_from_the_server_are_shown_escaped(
    tmp_path: Path, hostile: HostileKie
) -> None:
    script = write_project(tmp_path, scenes=1)
    script.write_text(script.read_text().replace("A quiet shot", "A FAIL shot"))
    hostile.evil_text = EVIL
    result = run(tmp_path, hostile)
    assert result.code == 3
    as_json = run(tmp_path, hostile, "", "--json")
    status = shotc(["status", "film.shot"], env=hostile.env(), cwd=tmp_path, timeout=30)
    for text in (result.out, result.err, as_json.out, status.out, status.err):
        for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert raw not in text
    assert "\\x1b[2J" in result.out and "\\x1b[2J" in status.out
    assert "\\u001b[2J" in as_json.out  # JSON escapes, the data intact for machines


# -- 7. kie.ai unreachable, a refused key ------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_kie_is_said_at_once_and_given_up(tmp_path: Path) -> None:
    write_project(tmp_path, scenes=3)
    (tmp_path / "shotc.toml").write_text(CONFIG + "unreachable_timeout = 1.0\n")
    base = f"http://127.0.0.1:{_closed_port()}"
    env = {"KIE_API_KEY": "test-key-0123456789", "KIE_API_BASE": base, "KIE_UPLOAD_BASE": base}
    started = time.monotonic()
    result = shotc(["run", "film.shot"], env=env, cwd=tmp_path, timeout=60)
    assert result.code == 3, result.out + result.err
    assert time.monotonic() - started < 20
    assert f"cannot reach kie.ai at {base}" in result.err
    assert "attempt 1 failed, next in" in result.err
    assert result.err.count("gave up after") == 1  # one clear message, not one per scene
    assert result.out.count("kie.ai unreachable (see above)") == 3


def test_refused_key_is_reported_once(tmp_path: Path, hostile: HostileKie) -> None:
    write_project(tmp_path, scenes=4)
    (tmp_path / "shotc.toml").write_text(CONFIG)
    result = shotc(["run", "film.shot"], env=hostile.env("wrong-key-000"), cwd=tmp_path)
    assert result.code == 3
    assert (result.out + result.err).count("You do not have access permissions") == 1
    assert hostile.creates == []
