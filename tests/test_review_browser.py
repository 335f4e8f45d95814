"""The review page in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright with `executable_path` at the system browser (nothing is downloaded). Every scene in
order with its takes, each video loads and plays, "use in cut" records the pick and the page
shows it, the page follows changes while it is open, no console errors. A screenshot is kept
in `test-artifacts/`."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakekie.clips import COLOURS, ClipSpec, clip

from shotc.film.review.model import Frame, Project, Scene, Shot, Take
from shotc.film.review.server import PickRefused, ReviewServer
from shotc.film.review.static import write_static

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
TIMEOUT_MS = 20_000


def _browser_or_skip() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip("no system chromium")
    return sync_playwright


class Film:
    """A project the page shows: three scenes, takes as real clips, picks kept in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.picks: dict[str, tuple[int, str]] = {}
        self.clips: dict[tuple[str, int], Path] = {}
        for i, (scene, take, mode) in enumerate(
            [("dawn", 1, "pro"), ("dawn", 2, "pro"), ("storm", 1, "std"), ("storm", 2, "pro")]
        ):
            target = root / scene / f"take-{take}.mp4"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(clip(ClipSpec(mode=mode, colour=COLOURS[i], seconds=1.0)), target)
            self.clips[(scene, take)] = target
        self.frame = root / "cliff.png"
        self.frame.write_bytes(_png())
        self.failed_reason = "content policy: <b>ESC\\x1b[2J</b>"

    def project(self) -> Project:
        project = Project("The <Lighthouse>", "film.shot")
        frame = Frame("first", "cliff.png", project.add_media(self.frame))
        specs = [
            ("dawn", "Dawn on the cliff", "done", None),
            ("storm", "The storm", "done", None),
            ("night", "Night", "failed", self.failed_reason),
        ]
        for scene_id, title, state, reason in specs:
            takes = []
            for (sid, take), path in sorted(self.clips.items()):
                if sid != scene_id:
                    continue
                mode = "std" if (sid, take) == ("storm", 1) else "pro"
                picked = self.picks.get(sid, (1, "pro"))
                takes.append(
                    Take(
                        take,
                        mode,
                        f"task-{sid}-{take}",
                        project.add_media(path),
                        "done",
                        draft=mode == "std",
                        in_cut=picked == (take, mode),
                    )
                )
            project.scenes.append(
                Scene(
                    scene_id,
                    title,
                    (Shot(5, f"The @element_dog runs at {title}."),),
                    (frame,) if scene_id == "dawn" else (),
                    state,
                    5,
                    "pro",
                    90.0,
                    0.45,
                    reason=reason,
                    takes=tuple(takes),
                )
            )
        return project

    def pick(self, scene: str, take: int, mode: str) -> None:
        if (scene, take) not in self.clips:
            raise PickRefused(f"{scene} has no take {take}")
        self.picks[scene] = (take, mode)


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80\x40\x20" * 16 for _ in range(9))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 9, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Film, ReviewServer]]:
    film = Film(tmp_path)
    server = ReviewServer(film.project, film.pick)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield film, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_review_page_in_chromium(served: tuple[Film, ReviewServer]) -> None:
    sync_playwright = _browser_or_skip()
    film, server = served
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=TIMEOUT_MS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            ids = page.locator("section.scene").evaluate_all("ns => ns.map(n => n.dataset.scene)")
            assert ids == ["dawn", "storm", "night"]
            assert page.locator("#scene-dawn figure.take").count() == 2
            assert page.locator("#scene-storm figure.take").count() == 2
            # the failure reason is shown as text, never as markup
            reason = page.locator("#scene-night .reason")
            assert reason.inner_text() == film.failed_reason
            assert page.locator("#scene-night .reason b").count() == 0
            assert page.locator("h1").inner_text() == "The <Lighthouse>"
            # every video loads its metadata, and one plays
            page.wait_for_function(
                "() => [...document.querySelectorAll('video')].every(v => v.readyState >= 1)"
            )
            durations = page.locator("video").evaluate_all("vs => vs.map(v => v.duration)")
            assert len(durations) == 4 and all(0.9 < d < 1.2 for d in durations)
            page.evaluate("document.querySelector('#scene-dawn video').muted = true")
            page.evaluate("document.querySelector('#scene-dawn video').play()")
            page.wait_for_function(
                "() => document.querySelector('#scene-dawn video').currentTime > 0.2"
            )
            # "use in cut" on take 2 of dawn: recorded, and shown
            assert "in-cut" in (
                page.locator('#scene-dawn figure[data-take="1"]').get_attribute("class") or ""
            )
            page.locator('#scene-dawn figure[data-take="2"] button.pick').click()
            page.wait_for_selector('#scene-dawn figure.in-cut[data-take="2"]')
            assert film.picks["dawn"] == (2, "pro")
            assert page.locator("#scene-dawn figure.in-cut").count() == 1
            # the page follows the project while it is open (a run finishing a take, say)
            film.failed_reason = "retried: now running"
            page.wait_for_function(
                "() => document.querySelector('#scene-night .reason').textContent"
                " === 'retried: now running'"
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []


def test_static_page_links_clips_relatively(tmp_path: Path) -> None:
    sync_playwright = _browser_or_skip()
    film = Film(tmp_path / "renders")
    index = write_static(film.project(), tmp_path / "share")
    text = index.read_text("utf-8")
    assert "../renders/dawn/take-1.mp4" in text
    assert "/api/pick" not in text or '"can_pick": false' in text
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=TIMEOUT_MS)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(index.as_uri())
            assert page.locator("section.scene").count() == 3
            assert page.locator("button.pick").count() == 0
            page.wait_for_function(
                "() => [...document.querySelectorAll('video')].every(v => v.readyState >= 1)"
            )
        finally:
            browser.close()


def test_server_refuses_foreign_hosts_and_unknown_media(served: tuple[Film, ReviewServer]) -> None:
    import http.client

    _film, server = served
    port = server.server_address[1]

    def get(path: str, headers: dict[str, str]) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    assert get("/", {"Host": "evil.example:80"}) == 403
    assert get("/media/../../etc/passwd", {}) == 404
    assert get("/media/0123456789abcdef.mp4", {}) == 404
    key = next(k for k in server.project().media if k.endswith(".mp4"))
    assert get(f"/media/{key}", {"Range": "bytes=10-19"}) == 206
    assert get(f"/media/{key}", {"Range": "bytes=99999999-"}) == 416


def test_pick_of_an_unknown_take_is_refused(served: tuple[Film, ReviewServer]) -> None:
    import http.client
    import json

    film, server = served
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        body = json.dumps({"scene": "dawn", "take": 9, "mode": "pro"})
        conn.request("POST", "/api/pick", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 409
        assert "no take 9" in json.loads(response.read())["error"]
    finally:
        conn.close()
    assert "dawn" not in film.picks
