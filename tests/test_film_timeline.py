"""Film stage, the timeline: the cut written as .otio, Final Cut 7 XML and CMX 3600 EDL, and
read back with OpenTimelineIO and its adapters: one clip per scene in order, each pointing at
its clip file, with the scene's id, title, take, mode, task id and prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest
from fakekie.clips import COLOURS, TONES, ClipSpec, clip_copy

from shotc.film.cut import CutEntry, MissingScenes
from shotc.film.media import FilmError, MediaError
from shotc.film.timeline import write_timeline


@pytest.fixture
def entries(tmp_path: Path) -> list[CutEntry]:
    renders = tmp_path / "renders" / "film"
    specs = [
        ClipSpec(colour=COLOURS[0], tone=TONES[0]),
        ClipSpec(mode="pro", colour=COLOURS[1], tone=TONES[1], seconds=1.5),
        ClipSpec(colour=COLOURS[2], tone=None, seconds=2.0),
    ]
    out = []
    for i, spec in enumerate(specs, start=1):
        name = "take-2.pro.mp4" if spec.mode == "pro" else "take-1.mp4"
        path = clip_copy(spec, renders / f"s0{i}" / name)
        out.append(
            CutEntry(
                scene_id=f"s0{i}",
                title=f"Dawn {i}",
                seconds=spec.seconds,
                path=path,
                take=2 if spec.mode == "pro" else 1,
                mode=spec.mode,
                task_id=f"task_kling-3.0_{i}",
                prompt=f"A quiet shot\nnumber {i}.",
                draft=spec.mode == "pro",
            )
        )
    return out


def clips_of(track: Any) -> list[Any]:
    return [c for c in track if isinstance(c, otio.schema.Clip)]


def test_otio_round_trip(tmp_path: Path, entries: list[CutEntry]) -> None:
    path = tmp_path / "film.otio"
    report = write_timeline(entries, path, name="Test Film")
    assert (report.adapter, report.clips, report.missing) == ("otio_json", 3, 0)
    assert report.duration == pytest.approx(4.5)
    timeline = otio.adapters.read_from_file(str(path))
    assert timeline.name == "Test Film"
    video, audio = timeline.tracks
    assert (video.kind, audio.kind) == (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio)
    vclips = clips_of(video)
    assert [c.media_reference.target_url for c in vclips] == [
        e.path.resolve().as_uri() for e in entries if e.path
    ]
    assert [c.duration().to_seconds() for c in vclips] == [1.0, 1.5, 2.0]
    for c, e in zip(vclips, entries, strict=True):
        meta = c.metadata["shotc"]
        assert (meta["scene_id"], meta["title"], meta["take"], meta["mode"]) == (
            e.scene_id,
            e.title,
            e.take,
            e.mode,
        )
        assert (meta["task_id"], meta["prompt"], meta["draft"]) == (e.task_id, e.prompt, e.draft)
    # The third clip has no sound: a gap keeps the audio track in step with the picture.
    assert [type(c).__name__ for c in audio] == ["Clip", "Clip", "Gap"]
    assert audio.duration().to_seconds() == pytest.approx(video.duration().to_seconds())
    start = video.range_of_child_at_index(2).start_time.to_seconds()
    assert start == pytest.approx(2.5)


def test_fcp_xml_round_trip(tmp_path: Path, entries: list[CutEntry]) -> None:
    path = tmp_path / "film.xml"
    assert write_timeline(entries, path).adapter == "fcp_xml"
    assert path.read_text().startswith("<?xml")
    timeline = otio.adapters.read_from_file(str(path), adapter_name="fcp_xml")
    video = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    assert len(video) == 1
    vclips = clips_of(video[0])
    assert [c.media_reference.target_url for c in vclips] == [
        e.path.resolve().as_uri() for e in entries if e.path
    ]
    for c, e in zip(vclips, entries, strict=True):
        fcp = c.metadata["fcp_xml"]
        log = fcp["logginginfo"]
        assert (log["scene"], log["shottake"], log["description"]) == (
            e.scene_id,
            str(e.take),
            e.title,
        )
        assert log["lognote"] == " ".join(e.prompt.split())
        assert fcp["comments"]["mastercomment1"] == f"mode {e.mode}"
        assert fcp["comments"]["mastercomment2"] == f"task {e.task_id}"
        assert e.scene_id in c.name and f"take {e.take}" in c.name
    assert [c.duration().to_seconds() for c in vclips] == [1.0, 1.5, 2.0]


def test_edl_round_trip(tmp_path: Path, entries: list[CutEntry]) -> None:
    path = tmp_path / "film.edl"
    assert write_timeline(entries, path).adapter == "cmx_3600"
    timeline = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=24)
    vclips = clips_of(timeline.tracks[0])
    assert [c.media_reference.target_url for c in vclips] == [
        e.path.resolve().as_uri() for e in entries if e.path
    ]
    assert [c.duration().to_seconds() for c in vclips] == [1.0, 1.5, 2.0]
    for c, e in zip(vclips, entries, strict=True):
        comments = c.metadata["cmx_3600"]["comments"]
        assert f"SHOTC SCENE: {e.scene_id}" in comments
        assert f"SHOTC TITLE: {e.title}" in comments
        assert f"SHOTC TAKE: {e.take}" in comments
        assert f"SHOTC MODE: {e.mode}" in comments
        assert f"SHOTC TASK: {e.task_id}" in comments
        assert f"SHOTC PROMPT: {' '.join(e.prompt.split())}" in comments
        assert c.name.startswith(e.scene_id)
    reels = [c.metadata["cmx_3600"]["reel"] for c in vclips]
    assert len(set(reels)) == 3 and all(len(r) <= 8 for r in reels)


@pytest.mark.parametrize("suffix", [".otio", ".xml", ".edl"])
def test_missing_scene_keeps_the_timing(
    tmp_path: Path, entries: list[CutEntry], suffix: str
) -> None:
    gone = CutEntry("s09", "Lost", 3.0, None, state="failed")
    cut = [entries[0], gone, entries[2]]
    path = tmp_path / f"film{suffix}"
    with pytest.raises(MissingScenes):
        write_timeline(cut, path)
    assert not path.exists()
    report = write_timeline(cut, path, allow_missing=True)
    assert (report.clips, report.missing) == (2, 1)
    timeline = otio.adapters.read_from_file(str(path), **({"rate": 24} if suffix == ".edl" else {}))
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    # The third scene starts after the missing one's three seconds, in every format.
    starts = [
        video.range_of_child_at_index(i).start_time.to_seconds()
        for i, c in enumerate(video)
        if isinstance(c, otio.schema.Clip)
    ]
    assert starts == [0.0, 1.0, 4.0]
    if suffix == ".edl":
        black = clips_of(video)[1]
        assert black.metadata["cmx_3600"]["reel"] == "BL"
        assert "SHOTC SCENE: s09" in black.metadata["cmx_3600"]["comments"]
        assert "SHOTC STATE: failed" in black.metadata["cmx_3600"]["comments"]
    if suffix == ".otio":
        missing = clips_of(video)[1]
        assert isinstance(missing.media_reference, otio.schema.MissingReference)
        assert missing.metadata["shotc"]["missing"] is True
        assert missing.metadata["shotc"]["state"] == "failed"


def test_unknown_format_and_unreadable_clip(tmp_path: Path, entries: list[CutEntry]) -> None:
    with pytest.raises(FilmError):
        write_timeline(entries, tmp_path / "film.aaf")
    path = tmp_path / "film.otio"
    path.write_text("previous")
    broken = CutEntry("s01", "Broken", 1.0, tmp_path / "absent.mp4", take=1, mode="std")
    with pytest.raises(MediaError):
        write_timeline([broken], path)
    assert path.read_text() == "previous"
