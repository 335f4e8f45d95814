"""Continuity at run time (language-1.1.md §4, film.md "Continuity at run time") end to end:
the real `shotc` command line against the fake kie.ai, which makes real MP4 clips (a colour
per task of a scene, so a new take of the source has another last frame).

Storm comes first in the file and starts `FIRST FRAME after Dawn`. Nothing here waits on a
clock: what `run` did is read from the fake's logs after it exits, and "Storm is sent only
once Dawn's clip is on disk" is looked at by the fake itself when Storm's createTask arrives.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from fakekie import FakeKie
from fakekie.clips import COLOURS, ClipSpec, clip, closest_colour, rgb_at
from fakekie.project import FAST_CONFIG, Result, clips, shotc
from filmproject import ClipMaker

from shotc.exits import ExitCode

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DAWN, STORM = "The sun rises over the cliff", "Clouds gather over the sea"


def write_script(root: Path, *, dawn: str = DAWN) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shotc.toml").write_text(FAST_CONFIG)
    script = root / "film.shot"
    script.write_text(
        "Title: Continuity\nMode: std\nAspect: 16:9\n\n"
        f"SCENE Storm\nFIRST FRAME after Dawn\nSHOT 4s\n{STORM}.\n\n"
        f"SCENE Dawn\nSHOT 4s\n{dawn}.\n"
    )
    return script


class Colours(ClipMaker):
    """The fake's `result_file`: the n-th task of a scene (by its prompt) is COLOURS[n] for
    Dawn, COLOURS[-1 - n] for Storm; one task's clip is the same at every fetch (ClipMaker
    keeps one clip per task)."""

    def _make(self, body: Any) -> bytes:
        storm = STORM in json.dumps(body)
        n = self.made[int(storm)]
        self.made[int(storm)] += 1
        colour = COLOURS[-1 - n] if storm else COLOURS[n]
        return clip(ClipSpec(colour=colour, tone=None)).read_bytes()


@pytest.fixture
def fake(kie: FakeKie) -> FakeKie:
    kie.result_file = Colours()
    return kie


def run(args: list[str], kie: FakeKie, root: Path) -> Result:
    return shotc(args, env=kie.env(), cwd=root)


def plan(kie: FakeKie, root: Path) -> dict[str, dict[str, Any]]:
    done = run(["plan", "film.shot", "--json"], kie, root)
    assert done.code == 0, done.err
    return {row["scene_id"]: row for row in json.loads(done.out)["scenes"]}


def render(root: Path) -> Path:
    return root / "renders" / "film"


def created_for(kie: FakeKie, prompt: str) -> list[dict[str, Any]]:
    return [c.body for c in kie.created() if prompt in json.dumps(c.body)]


def uploaded_frame(kie: FakeKie, body: dict[str, Any]) -> bytes:
    """The file a createTask's first frame URL names in the fake's upload log."""
    url = body["input"]["image_urls"][0]
    prefix = f"{kie.base_url}/files/"
    assert url.startswith(prefix), url
    return kie.uploads[url[len(prefix) :]]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def video_size(path: Path) -> tuple[int, int]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height


def png_colour(path: Path) -> int | None:
    """The index in COLOURS of the colour in the middle of a PNG."""
    import av

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return closest_colour(rgb_at(frame, frame.width // 2, frame.height // 2))


def test_plan_before_the_run_shows_storm_waiting_on_dawn(tmp_path: Path, fake: FakeKie) -> None:
    write_script(tmp_path)
    rows = plan(fake, tmp_path)
    assert rows["dawn"]["state"] == "new" and rows["dawn"]["after"] is None
    assert rows["storm"]["state"] == "waiting"
    assert rows["storm"]["after"] == "dawn" and rows["storm"]["will_send"] is True
    assert rows["storm"]["held"].startswith("after dawn")
    table = run(["plan", "film.shot"], fake, tmp_path)
    assert table.code == 0 and "after dawn" in table.out
    assert fake.creates == [] and fake.uploads == {}  # plan sends nothing


def test_storm_is_sent_with_dawns_last_frame_once_dawns_clip_is_on_disk(
    tmp_path: Path, fake: FakeKie
) -> None:
    write_script(tmp_path)
    dawn_clip = render(tmp_path) / "dawn" / "take-1.mp4"
    on_disk_at_create: dict[str, bool] = {}

    def look(body: Any) -> None:
        scene = "storm" if STORM in json.dumps(body) else "dawn"
        on_disk_at_create[scene] = dawn_clip.is_file()

    fake.on_create = look
    first = run(["run", "film.shot"], fake, tmp_path)
    assert first.code == ExitCode.OK, first.err
    assert on_disk_at_create == {"dawn": False, "storm": True}
    (dawn,), (storm,) = created_for(fake, DAWN), created_for(fake, STORM)
    assert "image_urls" not in dawn["input"]  # Dawn has no first frame of its own

    frame = uploaded_frame(fake, storm)
    png = render(tmp_path) / "dawn" / "last-frame.png"
    assert png.is_file() and png.read_bytes() == frame
    assert png_size(frame) == video_size(dawn_clip) == (320, 180)
    assert png_colour(png) == 0  # Dawn's first task is COLOURS[0]
    assert clips(tmp_path / "film.shot") == ["dawn/take-1.mp4", "storm/take-1.mp4"]

    # (e) everything is done: another run sends, uploads and moves nothing
    created, uploads = len(fake.created()), dict(fake.uploads)
    before = {p: p.read_bytes() for p in render(tmp_path).rglob("*") if p.is_file()}
    again = run(["run", "film.shot"], fake, tmp_path)
    assert again.code == ExitCode.OK, again.err
    assert len(fake.created()) == created and fake.uploads == uploads
    assert "moved" not in again.err and "copied again" not in again.out
    assert {p: p.read_bytes() for p in render(tmp_path).rglob("*") if p.is_file()} == before
    rows = plan(fake, tmp_path)
    assert {sid: (r["state"], r["will_send"]) for sid, r in rows.items()} == {
        "storm": ("done", False),
        "dawn": ("done", False),
    }
    # the film side sees Storm's take as its current version's: both scenes are in the cut
    cut = run(["cut", "film.shot", "-o", "film.mp4"], fake, tmp_path)
    assert cut.code == ExitCode.OK, cut.err


def test_a_failed_source_leaves_its_dependent_blocked_and_unsent(
    tmp_path: Path, fake: FakeKie
) -> None:
    write_script(tmp_path, dawn=f"{DAWN} {fake.fail_marker}")
    result = run(["run", "film.shot", "--json"], fake, tmp_path)
    assert result.code == ExitCode.API, result.err  # docs/run.md: a scene ended blocked
    outcomes = {s["scene_id"]: s for s in json.loads(result.out)["scenes"]}
    assert outcomes["dawn"]["outcome"] == "failed"
    assert outcomes["storm"]["outcome"] == "blocked"
    assert outcomes["storm"]["message"].startswith("after dawn")
    assert outcomes["storm"]["task_id"] is None and not outcomes["storm"]["created"]
    assert len(fake.created()) == 1 and created_for(fake, STORM) == []
    assert fake.uploads == {}
    assert not (render(tmp_path) / "dawn" / "last-frame.png").exists()
    rows = plan(fake, tmp_path)
    assert rows["dawn"]["state"] == "failed"
    assert rows["storm"]["state"] == "blocked" and "failed" in rows["storm"]["held"]


def test_another_pick_of_the_source_makes_the_dependent_changed(
    tmp_path: Path, fake: FakeKie
) -> None:
    write_script(tmp_path)
    assert run(["run", "film.shot"], fake, tmp_path).code == ExitCode.OK
    first_frame = uploaded_frame(fake, created_for(fake, STORM)[0])
    # a second take of Dawn: the cut still uses take 1, so Storm stays done
    second = run(["run", "film.shot", "--scene", "dawn", "--take", "2"], fake, tmp_path)
    assert second.code == ExitCode.OK, second.err
    assert plan(fake, tmp_path)["storm"]["state"] == "done"
    # picking it changes Dawn's last frame, so Storm's key: `changed`, and run sends it
    assert run(["pick", "dawn", "2", "film.shot"], fake, tmp_path).code == ExitCode.OK
    rows = plan(fake, tmp_path)
    assert rows["dawn"]["state"] == "done" and rows["dawn"]["will_send"] is False
    assert (rows["storm"]["state"], rows["storm"]["will_send"]) == ("changed", True)
    third = run(["run", "film.shot"], fake, tmp_path)
    assert third.code == ExitCode.OK, third.err
    storms = created_for(fake, STORM)
    assert len(storms) == 2 and len(fake.created()) == 4
    png = render(tmp_path) / "dawn" / "last-frame.png"
    assert uploaded_frame(fake, storms[1]) == png.read_bytes() != first_frame
    assert png_colour(png) == 1  # Dawn's take 2 is its second task: COLOURS[1]
    # Storm's first take, made from the other frame, is an older version's now: filed under
    # `older/` by this run (not left set aside beside the new take)
    names = clips(tmp_path / "film.shot")
    assert [n for n in names if not n.startswith("storm/older/")] == [
        "dawn/take-1.mp4",
        "dawn/take-2.mp4",
        "storm/take-1.mp4",
    ]
    assert len(names) == 4
    assert plan(fake, tmp_path)["storm"]["state"] == "done"
    # picking take 1 back: Storm's take for that frame exists, nothing to send
    assert run(["pick", "dawn", "1", "film.shot"], fake, tmp_path).code == ExitCode.OK
    assert plan(fake, tmp_path)["storm"]["state"] == "done"
    last = run(["run", "film.shot"], fake, tmp_path)
    assert last.code == ExitCode.OK, last.err
    assert len(fake.created()) == 4


def test_an_edit_of_the_source_makes_the_dependent_changed(tmp_path: Path, fake: FakeKie) -> None:
    script = write_script(tmp_path)
    assert run(["run", "film.shot"], fake, tmp_path).code == ExitCode.OK
    script.write_text(script.read_text().replace(DAWN, f"{DAWN}, slowly"))
    rows = plan(fake, tmp_path)
    assert rows["dawn"]["state"] == "changed"
    assert (rows["storm"]["state"], rows["storm"]["will_send"]) == ("changed", True)
    assert rows["storm"]["held"].startswith("after dawn")
    again = run(["run", "film.shot"], fake, tmp_path)
    assert again.code == ExitCode.OK, again.err
    assert len(created_for(fake, STORM)) == 2 and len(fake.created()) == 4


def test_while_the_source_runs_the_dependent_waits_and_is_sent_by_the_next_run(
    tmp_path: Path, fake: FakeKie
) -> None:
    write_script(tmp_path)
    fake.states = (("generating", 600.0),)  # held: Dawn's task runs until released below
    started = run(["run", "film.shot", "--no-wait", "--json"], fake, tmp_path)
    outcomes = {s["scene_id"]: s for s in json.loads(started.out)["scenes"]}
    assert outcomes["dawn"]["outcome"] == "running"
    assert outcomes["storm"]["outcome"] == "waiting" and outcomes["storm"]["task_id"] is None
    assert started.code == ExitCode.OK, started.err  # --no-wait: nothing failed
    assert len(fake.created()) == 1 and created_for(fake, STORM) == []
    rows = plan(fake, tmp_path)
    assert rows["dawn"]["state"] == "running"
    assert (rows["storm"]["state"], rows["storm"]["will_send"]) == ("waiting", True)
    fake.states = ()  # released: every task has finished
    done = run(["run", "film.shot"], fake, tmp_path)
    assert done.code == ExitCode.OK, done.err
    assert len(created_for(fake, DAWN)) == 1 and len(created_for(fake, STORM)) == 1
    png = render(tmp_path) / "dawn" / "last-frame.png"
    assert uploaded_frame(fake, created_for(fake, STORM)[0]) == png.read_bytes()
