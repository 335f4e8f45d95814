"""The hardening's mechanisms one by one (issue 7): Retry-After parsing, escaping of server
text, the complete-MP4 check, the shared outage of an unreachable kie.ai, and uploads that
stream (peak memory far below the file's size)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import unicodedata
from pathlib import Path

import pytest
from fakekie.hostile import EVIL, HostileKie
from fakekie.server import box, clip_bytes
from hypothesis import given
from hypothesis import strategies as st

from shotc.run.client import parse_retry_after
from shotc.run.errors import Unreachable
from shotc.run.mp4 import is_complete_mp4, mp4_problem
from shotc.run.reach import Outage
from shotc.run.retry import Backoff
from shotc.run.untrusted import json_safe, shown


@given(st.text())
def test_retry_after_never_raises_and_is_a_sane_number(value: str) -> None:
    seconds = parse_retry_after(value, now=0.0)
    assert seconds is None or (math.isfinite(seconds) and 0 <= seconds <= 1e9)


def test_retry_after_values() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None and parse_retry_after("-3") is None
    assert parse_retry_after("9" * 500) == 1e9
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=0.0) == 100.0


@given(st.text())
def test_shown_text_has_no_control_characters(text: str) -> None:
    out = shown(text)
    assert not any(unicodedata.category(ch) == "Cc" for ch in out)
    assert not any("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" for ch in out)


def test_shown_escapes_terminal_sequences() -> None:
    assert shown(EVIL) == "\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eevil"
    assert shown("two\nlines", keep_newlines=True) == "two\nlines"
    assert shown("two\nlines") == "two\\nlines"
    doc = json_safe(json.dumps({"msg": EVIL}, ensure_ascii=False))
    assert json.loads(doc) == {"msg": EVIL} and "\x1b" not in doc and "\x9b" not in doc


def test_complete_mp4(tmp_path: Path) -> None:
    path = tmp_path / "c.mp4"
    whole = clip_bytes("t1")
    cases = {
        whole: None,
        whole[:-5]: "cut short",
        whole + b"\x00\x00\x00": "cut short",  # ends inside the next box's header
        b"<html>" + bytes(40): "not an MP4",
        box(b"ftyp", b"isom") + box(b"mdat", b"x" * 10): "no moov",
        box(b"ftyp", b"isom") + box(b"moov", b"") + b"\x00\x00\x00\x00mdat": "without a size",
        b"": "empty",
    }
    for data, problem in cases.items():
        path.write_bytes(data)
        assert is_complete_mp4(path) == (problem is None), data
        if problem is not None:
            assert problem in (mp4_problem(path) or "")
    big = box(b"ftyp", b"isom") + box(b"moov", b"")
    big += (1).to_bytes(4, "big") + b"mdat" + (16 + 4).to_bytes(8, "big") + b"abcd"
    path.write_bytes(big)
    assert is_complete_mp4(path)  # a 64-bit box size


def test_outage_counts_one_attempt_for_many_workers_and_gives_up() -> None:
    now = [0.0]
    notices: list[str] = []
    outage = Outage(
        "http://kie.test",
        timeout=10.0,
        backoff=Backoff(base=2.0, cap=2.0),
        notice=notices.append,
        clock=lambda: now[0],
    )
    waits = [outage.failed("ConnectError") for _ in range(20)]  # twenty workers at once
    assert len(notices) == 1 and "attempt 1 failed, next in" in notices[0]
    assert "http://kie.test" in notices[0]
    assert all(0 < w <= 2.0 for w in waits)
    for _ in range(100):
        now[0] += 2.0
        try:
            outage.failed("ConnectError")
        except Unreachable as exc:
            assert "gave up" in str(exc)
            break
    else:
        pytest.fail("never gave up")
    assert now[0] <= 12.0
    with pytest.raises(Unreachable):
        outage.check()  # and nothing is tried any more


_CHILD = """
import resource, sys, threading
from pathlib import Path
from shotc.run.client import KieClient
from shotc.run.config import RunSettings
from shotc.run.ledger import Ledger
from shotc.run.scene_key import DigestCache
from shotc.run.uploads import Uploader
base, path, ledger = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
client = KieClient("test-key-0123456789", api_base=base, upload_base=base)
up = Uploader(client, RunSettings(), DigestCache(), threading.Event())
resolved = up.resolve({"input": {"image_urls": [path.as_uri()]}}, Ledger(ledger))
# VmHWM is this program's own peak; ru_maxrss also carries the peak of the process it was
# forked from (Linux keeps it across exec), i.e. of a pytest session grown large.
status = Path("/proc/self/status")
lines = status.read_text().splitlines() if status.exists() else []
hwm = [line for line in lines if line.startswith("VmHWM:")]
peak = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak * 1024, resolved.uploads[0].size)
"""


def test_uploads_stream_large_files(tmp_path: Path) -> None:
    """An element video of 300 MB (sparse: no disk used) is uploaded with a peak RSS far
    below its size (it used to be read whole: 1.2 GB peaked at 3.7 GB)."""
    size = 300 * 1024 * 1024
    video = tmp_path / "big.mp4"
    with video.open("wb") as fh:
        fh.truncate(size)
    with HostileKie() as fake:
        assert isinstance(fake, HostileKie)
        fake.sink_uploads = True
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, fake.base_url, str(video), str(tmp_path / "l.db")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        peak, sent = (int(v) for v in proc.stdout.split())
        assert sent == size and fake.sunk_bytes > size
    assert peak < size // 3, f"peak RSS {peak} for a {size}-byte upload"


def test_outage_threads_share_one_lock() -> None:
    outage = Outage("http://k", timeout=5.0, backoff=Backoff(), notice=lambda _t: None)
    threads = [threading.Thread(target=outage.failed, args=("x",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    outage.reached()
    outage.check()  # reached again: not given up
