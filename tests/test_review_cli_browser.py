"""`shotc review` as a user runs it: a real project (`run` against the fake kie.ai with real
clips: 6 scenes, a second take of scene 3, scene 6 drafted in std), the page served by the
`shotc review` process, opened in headless Debian Chromium through Playwright (nothing
downloaded). Every scene in script order with its takes, each video loads and plays, "use in
cut" changes the pick in the ledger and on the page, no console errors; Ctrl-C stops the
server with 130. The screenshot is kept under pytest's tmp dir (its path is printed) and
copied to `test-artifacts/`."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakekie import FakeKie
from fakekie.project import shotc, spawn
from filmproject import ClipMaker, edit, write_film
from test_review_browser import ARTIFACTS, CHROMIUM, FLAGS, TIMEOUT_MS, _browser_or_skip

SCENE_IDS = [f"scene-{i}" for i in range(1, 7)]


@pytest.fixture
def project(tmp_path: Path, kie: FakeKie) -> Path:
    kie.result_file = ClipMaker()
    script = write_film(tmp_path / "film", extras={6: "Mode: pro\n"})
    root = script.parent
    for args in (
        ["run", "film.shot", "--mode", "std"],
        ["run", "film.shot", "--take", "2", "--scene", "scene-3"],
    ):
        result = shotc(args, env=kie.env(), cwd=root)
        assert result.code == 0, result.err
    return script


@pytest.fixture
def served(project: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    proc = spawn(["review", "film.shot"], env={}, cwd=project.parent)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else url
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def load_every_video(page: Any) -> None:
    """Scroll to each video in turn (the page gives a video its src when it comes near the
    viewport) and wait until it has loaded its metadata."""
    videos = page.locator("video")
    for i in range(videos.count()):
        video = videos.nth(i)
        video.scroll_into_view_if_needed()
        video.evaluate(
            "v => new Promise(ok => v.readyState >= 1 ? ok() : "
            "v.addEventListener('loadedmetadata', ok, {once: true}))"
        )


def cut_of(script: Path) -> dict[str, int]:
    result = shotc(
        ["cut", "film.shot", "--drafts", "--timeline", "t.otio", "--json"],
        env={},
        cwd=script.parent,
    )
    assert result.code == 0, result.err
    return {s["scene_id"]: s["take"] for s in json.loads(result.out)["scenes"]}


def test_review_page_served_by_the_cli(
    project: Path, served: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    sync_playwright = _browser_or_skip()
    url, proc = served
    errors: list[str] = []
    assert cut_of(project)["scene-3"] == 1
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=TIMEOUT_MS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            ids = page.locator("section.scene").evaluate_all("ns => ns.map(n => n.dataset.scene)")
            assert ids == SCENE_IDS
            titles = page.locator("section.scene h2").all_inner_texts()
            assert titles == [f"{i}. Scene {i}" for i in range(1, 7)]
            counts = {s: page.locator(f"#scene-{s} figure.take").count() for s in SCENE_IDS}
            assert counts == {**dict.fromkeys(SCENE_IDS, 1), "scene-3": 2}
            # scene 6's only take is a std draft of a pro scene
            draft = page.locator("#scene-scene-6 figure.take figcaption").inner_text()
            assert "std (draft)" in draft
            assert "task_" in draft
            # shots and prompts as compiled, the state and the cost
            assert "scene number 2" in page.locator("#scene-scene-2 .shots").inner_text()
            assert page.locator("#scene-scene-1 .state").get_attribute("data-state") == "done"
            assert "credits" in page.locator("#scene-scene-1 .cost").inner_text()
            # every video loads its metadata once it is scrolled to, and each one plays
            load_every_video(page)
            durations = page.locator("video").evaluate_all("vs => vs.map(v => v.duration)")
            assert len(durations) == 7 and all(0.9 < d < 1.2 for d in durations)
            page.evaluate(
                "Promise.all([...document.querySelectorAll('video')].map(v => "
                "{ v.muted = true; return v.play(); }))"
            )
            page.wait_for_function(
                "() => [...document.querySelectorAll('video')].every(v => v.currentTime > 0.1)"
            )
            # "use in cut" on take 2 of scene 3: the page marks it, the ledger has it
            scene3 = "#scene-scene-3"
            assert page.locator(f'{scene3} figure.in-cut[data-take="1"]').count() == 1
            page.locator(f'{scene3} figure[data-take="2"] button.pick').click()
            page.wait_for_selector(f'{scene3} figure.in-cut[data-take="2"]')
            assert page.locator(f"{scene3} figure.in-cut").count() == 1
            assert cut_of(project)["scene-3"] == 2
            # a pick made elsewhere (`shotc pick`) reaches the open page by its polling
            picked = shotc(["pick", "scene-3", "1", "film.shot"], env={}, cwd=project.parent)
            assert picked.code == 0, picked.err
            page.wait_for_selector(f'{scene3} figure.in-cut[data-take="1"]')
            page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the shot
            shot = tmp_path / "artifacts" / "review-cli.png"
            shot.parent.mkdir()
            page.screenshot(path=str(shot), full_page=True)
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copyfile(shot, ARTIFACTS / "review-cli.png")
            print(f"screenshot: {shot}")
        finally:
            browser.close()
    assert errors == []
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130


def test_review_page_follows_a_run(
    project: Path, served: tuple[str, subprocess.Popen[str]], kie: FakeKie
) -> None:
    """The page stays open while the script is edited and a `run` goes on: scene 2 turns
    `changed`, then `running` (the fake kie.ai holds its task until the test lets it finish,
    so no state is a race), then `done` with its new take playable; never a reload."""
    sync_playwright = _browser_or_skip()
    url, _ = served
    errors: list[str] = []
    scene2 = "#scene-scene-2"
    state = f"{scene2} .state"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=TIMEOUT_MS)
        run: subprocess.Popen[str] | None = None
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            assert page.locator(state).get_attribute("data-state") == "done"
            page.evaluate("window.__same_page = true")
            states = "ns => ns.map(n => n.dataset.state)"
            before = page.locator("section.scene .state").evaluate_all(states)
            edit(project, 2, " at dusk")
            page.wait_for_selector(f'{state}[data-state="changed"]')
            assert "at dusk" in page.locator(f"{scene2} .shots").inner_text()
            assert page.locator(f"{scene2} video").count() == 0
            kie.states = (("generating", 600.0),)  # held until released below
            run = spawn(
                ["run", "film.shot", "--scene", "scene-2"], env=kie.env(), cwd=project.parent
            )
            page.wait_for_selector(f'{state}[data-state="running"]')
            page.wait_for_selector(f"{scene2} .elapsed")
            kie.states = ()  # every task is finished now
            assert run.wait(timeout=60) == 0, run.stderr.read() if run.stderr else ""
            page.wait_for_selector(f'{state}[data-state="done"]')
            video = page.locator(f'{scene2} figure.in-cut[data-take="1"] video')
            video.scroll_into_view_if_needed()
            video.evaluate(
                "v => new Promise(ok => v.readyState >= 1 ? ok() : "
                "v.addEventListener('loadedmetadata', ok, {once: true}))"
            )
            assert page.evaluate("window.__same_page") is True
            # the other scenes did not move
            assert page.locator("section.scene .state").evaluate_all(states) == before
        finally:
            if run is not None and run.poll() is None:
                run.kill()
                run.wait(timeout=10)
            browser.close()
    assert errors == []


def test_static_review_has_no_buttons_and_relative_clips(project: Path) -> None:
    sync_playwright = _browser_or_skip()
    share = project.parent / "share"
    result = shotc(["review", "film.shot", "--static", "share"], env={}, cwd=project.parent)
    assert result.code == 0, result.err
    index = share / "index.html"
    text = index.read_text("utf-8")
    clips = re.findall(r'"src": "([^"]+\.mp4)"', text)
    assert len(clips) == 7 and all(c.startswith("../renders/film/") for c in clips)
    assert all((share / c).resolve().is_file() for c in clips)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, timeout=TIMEOUT_MS)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(index.as_uri())
            assert page.locator("section.scene").count() == 6
            assert page.locator("button.pick").count() == 0
            load_every_video(page)
        finally:
            browser.close()
