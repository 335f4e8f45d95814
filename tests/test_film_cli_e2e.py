"""End to end through the CLI: `run` against the fake kie.ai (real MP4s: std 320x180, pro
480x270), then `pick`, `cut`, `cut --timeline`, `prune`, as a writer would use them.

A 6-scene film: scene 3 gets a second take and a pick, scene 6 is pro in the script but only
drafted in std at first (`run --mode std`), scene 4 is edited after its first take. Each
scene's clips have the scene's own colour and each take of a scene its own tone, so the film
decoded back shows the scene order and which take the cut used.
"""

from __future__ import annotations

import json
import os
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest
from fakekie import FakeKie
from fakekie.clips import decode_film, frequency, rgb_at
from fakekie.project import Result, shotc
from filmproject import ClipMaker, edit, scene_of_colour, write_film

SCENE_IDS = [f"scene-{i}" for i in range(1, 7)]


def run(args: list[str], kie: FakeKie, root: Path) -> Result:
    return shotc(args, env=kie.env(), cwd=root)


def ok(args: list[str], kie: FakeKie, root: Path) -> Result:
    result = run(args, kie, root)
    assert result.code == 0, f"{args}: {result.code}\n{result.out}\n{result.err}"
    return result


def film_scenes(path: Path) -> tuple[list[int | None], float, Any]:
    """The scene (by colour) of each run of frames in order, the film's duration, and the
    decoded frames."""
    frames, _samples, _rate = decode_film(path)
    order: list[int | None] = []
    for _t, frame in frames:
        scene = scene_of_colour(rgb_at(frame, frame.width // 20, frame.height * 9 // 10))
        if not order or order[-1] != scene:
            order.append(scene)
    duration = frames[-1][0] + 1 / 24 if frames else 0.0
    return order, duration, frames


def tone_at(path: Path, start: float, length: float) -> float:
    _frames, samples, rate = decode_film(path)
    a = int((start + 0.2) * rate)
    b = int((start + length - 0.2) * rate)
    return frequency(samples[a:b], rate)


def clip_tone(path: Path) -> float:
    return tone_at(path, 0.0, 1.0)


@pytest.fixture
def project(tmp_path: Path, kie: FakeKie) -> Path:
    """The film after: all of std (scene 6 as a std draft), a second take of scene 3."""
    kie.result_file = ClipMaker()
    script = write_film(tmp_path, extras={6: "Mode: pro\n"})
    ok(["run", "film.shot", "--mode", "std"], kie, tmp_path)
    ok(["run", "film.shot", "--take", "2", "--scene", "scene-3"], kie, tmp_path)
    return script


def test_cut_pick_draft_edit_timeline_prune(project: Path, kie: FakeKie) -> None:
    root = project.parent

    # Scene 6 has only a draft: the cut stops and says so, with the scene's state.
    missing = run(["cut", "film.shot", "-o", "film.mp4"], kie, root)
    assert missing.code == 1
    assert "scene-6" in missing.err and "new" in missing.err
    assert not (root / "film.mp4").exists()

    # With --drafts every scene has a std clip: stream copy, scenes in order.
    ok(["pick", "scene-3", "2", "film.shot"], kie, root)
    first = ok(["cut", "film.shot", "-o", "film.mp4", "--drafts", "--json"], kie, root)
    summary = json.loads(first.out)
    assert summary["film"]["method"] == "copy"
    assert [s["scene_id"] for s in summary["scenes"]] == SCENE_IDS
    by_id = {s["scene_id"]: s for s in summary["scenes"]}
    assert by_id["scene-3"]["take"] == 2
    assert by_id["scene-6"]["draft"] is True and by_id["scene-6"]["mode"] == "std"
    order, duration, frames = film_scenes(root / "film.mp4")
    assert order == [1, 2, 3, 4, 5, 6]
    assert duration == pytest.approx(6.0, abs=1 / 24)
    assert (frames[0][1].width, frames[0][1].height) == (320, 180)
    # the picked take's sound is in the film, not take 1's
    items = {i["scene_id"]: i for i in summary["film"]["items"]}
    third = tone_at(root / "film.mp4", items["scene-3"]["start"], items["scene-3"]["duration"])
    take2 = clip_tone(Path(by_id["scene-3"]["path"]))
    take1 = clip_tone(take_path(project, "scene-3", 1))
    assert abs(third - take2) < 30 < abs(third - take1)

    # The human summary says the take, mode, file and method with its reason.
    human = ok(["cut", "film.shot", "-o", "film.mp4", "--drafts"], kie, root)
    assert "stream copy (all clips share codec parameters)" in human.out
    assert os.path.relpath(by_id["scene-3"]["path"], root) in human.out
    assert "std (draft)" in human.out

    # An edit makes scene 4 a new version: missing until run, a slate with --allow-missing.
    edit(project, 4, " at dusk")
    stopped = run(["cut", "film.shot", "-o", "film.mp4", "--drafts"], kie, root)
    assert stopped.code == 1 and "scene-4" in stopped.err and "changed" in stopped.err
    slated = ok(
        ["cut", "film.shot", "-o", "slated.mp4", "--drafts", "--allow-missing", "--json"],
        kie,
        root,
    )
    data = json.loads(slated.out)
    assert data["film"]["method"] == "encode"
    assert [s["missing"] for s in data["scenes"]] == [False, False, False, True, False, False]
    order, duration, _frames = film_scenes(root / "slated.mp4")
    assert order == [1, 2, 3, None, 5, 6]  # the slate is black (no scene's colour)
    assert duration == pytest.approx(5 * 1.0 + 4.0, abs=1 / 24)  # the slate lasts 4 s

    # Run again: scene 4's new version, scene 6 in its own mode (pro). std beside pro:
    # a re-encode to 16:9 at the largest clip's height.
    ok(["run", "film.shot"], kie, root)
    mixed = json.loads(ok(["cut", "film.shot", "-o", "film.mp4", "--json"], kie, root).out)
    assert mixed["film"]["method"] == "encode"
    assert "size" in mixed["film"]["reason"]
    assert (mixed["film"]["width"], mixed["film"]["height"]) == (480, 270)
    assert by_mode(mixed) == {"std": 5, "pro": 1}
    order, duration, _frames = film_scenes(root / "film.mp4")
    assert order == [1, 2, 3, 4, 5, 6]
    assert duration == pytest.approx(6.0, abs=1 / 24)

    # Timelines: only the timeline without -o; read back each one.
    for suffix in (".otio", ".xml", ".edl"):
        before = (root / "film.mp4").stat().st_mtime_ns
        ok(["cut", "film.shot", "--timeline", f"film{suffix}"], kie, root)
        assert (root / "film.mp4").stat().st_mtime_ns == before
    check_otio(root / "film.otio", mixed)
    check_fcp_xml(root / "film.xml", mixed)
    check_edl(root / "film.edl", mixed)

    # Prune: the dry run lists and deletes nothing; scene 4's older version only with --older.
    known = ledger_paths(project)
    dry = ok(["prune", "film.shot", "--dry-run", "--older", "--json"], kie, root)
    doomed = json.loads(dry.out)["would_delete"]
    assert doomed and all(Path(d["path"]).exists() for d in doomed)
    assert {(d["scene_id"], d["kind"]) for d in doomed} == {("scene-4", "older")}
    assert all(d["path"] in known for d in doomed)
    plain = json.loads(ok(["prune", "film.shot", "--json"], kie, root).out)
    assert plain["deleted"] == []  # without --older, older versions stay
    stranger = root / "renders" / "film" / "mine.mp4"
    stranger.write_bytes(b"not the ledger's")
    done = ok(["prune", "film.shot", "--older"], kie, root)
    assert "freed" in done.out
    assert not any(Path(d["path"]).exists() for d in doomed)
    assert stranger.exists()  # the ledger does not know it
    # What the film needs is still there: the cut is the same.
    again = json.loads(ok(["cut", "film.shot", "-o", "film.mp4", "--json"], kie, root).out)
    assert [s["path"] for s in again["scenes"]] == [s["path"] for s in mixed["scenes"]]


def by_mode(summary: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in summary["scenes"]:
        counts[s["mode"]] = counts.get(s["mode"], 0) + 1
    return counts


def take_path(script: Path, scene_id: str, take: int) -> Path:
    """The clip of take `take` of `scene_id` as the ledger recorded it (its latest)."""
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    try:
        row = conn.execute(
            "SELECT d.path FROM downloads d JOIN submissions s ON s.id = d.submission_id "
            "WHERE s.scene_id = ? AND s.take = ? ORDER BY s.id DESC LIMIT 1",
            (scene_id, take),
        ).fetchone()
    finally:
        conn.close()
    return (script.parent / str(row[0])).resolve()


def ledger_paths(script: Path) -> set[str]:
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    try:
        rows = conn.execute("SELECT path FROM downloads").fetchall()
    finally:
        conn.close()
    return {str((script.parent / r[0]).resolve()) for r in rows}


def _clips(track: Any) -> list[Any]:
    return [c for c in track if isinstance(c, otio.schema.Clip)]


def check_otio(path: Path, summary: dict[str, Any]) -> None:
    timeline = otio.adapters.read_from_file(str(path))
    assert timeline.name == "Test Film"
    clips = _clips(timeline.video_tracks()[0])
    assert len(clips) == 6
    for clip, scene in zip(clips, summary["scenes"], strict=True):
        assert clip.media_reference.target_url == Path(scene["path"]).as_uri()
        meta = clip.metadata["shotc"]
        assert meta["scene_id"] == scene["scene_id"]
        assert meta["title"] == scene["title"]
        assert (meta["take"], meta["mode"], meta["task_id"]) == (
            scene["take"],
            scene["mode"],
            scene["task_id"],
        )
        assert meta["task_id"].startswith("task_")
        number = scene["scene_id"].split("-")[1]
        assert f"scene number {number}" in meta["prompt"]
        assert clip.duration().to_seconds() == pytest.approx(1.0)


def check_fcp_xml(path: Path, summary: dict[str, Any]) -> None:
    tree = ET.parse(path)
    assert tree.getroot().tag == "xmeml"
    timeline = otio.adapters.read_from_file(str(path), adapter_name="fcp_xml")
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    clips = _clips(video)
    assert [c.media_reference.target_url for c in clips] == [
        Path(s["path"]).as_uri() for s in summary["scenes"]
    ]
    for clip, scene in zip(clips, summary["scenes"], strict=True):
        log = clip.metadata["fcp_xml"]["logginginfo"]
        assert (log["scene"], log["shottake"]) == (scene["scene_id"], str(scene["take"]))
        assert clip.metadata["fcp_xml"]["comments"]["mastercomment2"] == f"task {scene['task_id']}"


def check_edl(path: Path, summary: dict[str, Any]) -> None:
    timeline = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=24)
    clips = _clips(timeline.tracks[0])
    assert [c.media_reference.target_url for c in clips] == [
        Path(s["path"]).as_uri() for s in summary["scenes"]
    ]
    for clip, scene in zip(clips, summary["scenes"], strict=True):
        comments = clip.metadata["cmx_3600"]["comments"]
        assert f"SHOTC SCENE: {scene['scene_id']}" in comments
        assert f"SHOTC TAKE: {scene['take']}" in comments
        assert f"SHOTC MODE: {scene['mode']}" in comments
        assert f"SHOTC TASK: {scene['task_id']}" in comments


def test_cut_of_a_project_never_run(tmp_path: Path) -> None:
    """No ledger: every scene is missing (`new`); --allow-missing gives a film of slates;
    nothing is left behind (no .shotc directory)."""
    script = tmp_path / "short.shot"
    script.write_text("SCENE Dawn\n\nSHOT 3s\nSea.\n\nSCENE Dusk\n\nSHOT 3s\nSky.\n")
    missing = shotc(["cut", "short.shot"], env={}, cwd=tmp_path)
    assert missing.code == 1
    assert "dawn (Dawn): new" in missing.err and "dusk (Dusk): new" in missing.err
    slates = shotc(["cut", "short.shot", "--allow-missing", "--json"], env={}, cwd=tmp_path)
    assert slates.code == 0, slates.err
    data = json.loads(slates.out)
    assert Path(data["film"]["path"]) == script.with_suffix(".mp4")
    assert data["film"]["duration"] == pytest.approx(6.0, abs=1 / 24)
    assert not (tmp_path / ".shotc").exists()
    order, _duration, _frames = film_scenes(script.with_suffix(".mp4"))
    assert order == [None]  # black slates only, none of a scene's colours


def test_unknown_timeline_format_is_a_usage_error(tmp_path: Path) -> None:
    write_film(tmp_path)
    result = shotc(["cut", "film.shot", "--timeline", "film.mov"], env={}, cwd=tmp_path)
    assert result.code == 2 and "unknown timeline format" in result.err
    assert not (tmp_path / "film.mov").exists()


def test_cut_of_a_script_with_errors_is_exit_1(tmp_path: Path) -> None:
    script = write_film(tmp_path)
    script.write_text(script.read_text() + "\nSCENE Broken\n\nSHOT 99s\nToo long.\n")
    result = shotc(["cut", "film.shot"], env={}, cwd=tmp_path)
    assert result.code == 1 and "error[" in result.err
