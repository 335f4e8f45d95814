"""Film stage, the cut: clips joined by stream copy and by re-encoding, decoded back (each
clip has its own colour and tone, so order and timing can be read off the film), slates for
missing scenes, and a failed cut leaving the previous film as it was."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest
from fakekie.clips import (
    COLOURS,
    TONES,
    ClipSpec,
    clip,
    clip_copy,
    closest_colour,
    decode_film,
    frequency,
    loudness,
    rgb_at,
)
from hypothesis import given
from hypothesis import strategies as st

import shotc.film.cut as cut_module
from shotc.film.cut import (
    CutEntry,
    CutVerifyError,
    MissingScenes,
    assemble,
    choose_method,
    frame_size,
    parse_aspect,
)
from shotc.film.files import PARTIAL_SUFFIX
from shotc.film.media import MediaError, probe
from shotc.film.slate import FONT, drawable, wrap


def entry(i: int, spec: ClipSpec | None, seconds: float = 1.0, **kw: Any) -> CutEntry:
    path = None if spec is None else clip(spec)
    return CutEntry(
        scene_id=f"s{i:02d}",
        title=f"Scene {i}",
        seconds=spec.seconds if spec else seconds,
        path=path,
        take=1,
        mode=spec.mode if spec else None,
        task_id=f"task_{i}",
        prompt=f"shot {i}",
        **kw,
    )


def spec(i: int, **kw: Any) -> ClipSpec:
    return ClipSpec(colour=COLOURS[i], tone=TONES[i], **kw)


def colour_runs(path: Path, x: int, y: int) -> list[tuple[float, int | None, int]]:
    """(start time, colour index, frames) of each run of one colour at pixel (x, y)."""
    frames, _, _ = decode_film(path)
    runs: list[tuple[float, int | None, int]] = []
    for t, frame in frames:
        c = closest_colour(rgb_at(frame, x, y))
        if runs and runs[-1][1] == c:
            runs[-1] = (runs[-1][0], c, runs[-1][2] + 1)
        else:
            runs.append((t, c, 1))
    return runs


def tone_at(path: Path, start: float, end: float) -> tuple[float, float]:
    """(frequency, loudness) of the film's sound between two times (edges trimmed)."""
    _, samples, rate = decode_film(path)
    a, b = int((start + 0.1) * rate), int((end - 0.1) * rate)
    return frequency(samples[a:b], rate), loudness(samples[a:b])


def test_stream_copy_joins_in_order_without_re_encoding(tmp_path: Path) -> None:
    specs = [spec(0), spec(1, seconds=1.5), spec(2), spec(3, seconds=2.0)]
    entries = [entry(i, s) for i, s in enumerate(specs)]
    out = tmp_path / "film.mp4"
    report = assemble(entries, out, aspect_ratio="16:9")
    assert report.method == "copy"
    assert (report.width, report.height, report.fps) == (320, 180, Fraction(24))
    assert report.duration == pytest.approx(5.5)
    assert report.tracks["video"] == pytest.approx(5.5, abs=1 / 24)
    assert report.tracks["audio"] == pytest.approx(5.5, abs=1 / 24)
    assert [(i.start, i.duration) for i in report.items] == [
        (0.0, 1.0),
        (1.0, 1.5),
        (2.5, 1.0),
        (3.5, 2.0),
    ]
    runs = colour_runs(out, 160, 120)
    assert [(round(t, 3), c, n) for t, c, n in runs] == [
        (0.0, 0, 24),
        (1.0, 1, 36),
        (2.5, 2, 24),
        (3.5, 3, 48),
    ]
    for item, s in zip(report.items, specs, strict=True):
        f, _ = tone_at(out, item.start, item.start + item.duration)
        assert f == pytest.approx(s.tone, rel=0.05)

    # Copied, not re-encoded: the film's video packets are the clips' packets, byte for byte.
    def packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as c:
            return [bytes(p) for p in c.demux(video=0) if p.size]

    assert packets(out) == [p for s in specs for p in packets(clip(s))]
    assert [p.name for p in tmp_path.iterdir()] == ["film.mp4"]


def test_stream_copy_of_clips_without_sound_has_no_audio_track(tmp_path: Path) -> None:
    specs = [ClipSpec(colour=COLOURS[i], tone=None) for i in (4, 5)]
    report = assemble([entry(i, s) for i, s in enumerate(specs)], tmp_path / "film.mp4")
    assert report.method == "copy" and report.audio is False
    assert set(report.tracks) == {"video"} and probe(tmp_path / "film.mp4").audio is None
    assert [(c, n) for _, c, n in colour_runs(tmp_path / "film.mp4", 160, 120)] == [
        (4, 24),
        (5, 24),
    ]


def test_mixed_clips_are_re_encoded_to_fit_the_frame(tmp_path: Path) -> None:
    square = ClipSpec(size=(240, 240), colour=COLOURS[6], tone=None, fps=30)
    specs = [spec(0), spec(5, mode="pro"), square, spec(2, seconds=1.5)]
    entries = [entry(i, s) for i, s in enumerate(specs)]
    out = tmp_path / "film.mp4"
    report = assemble(entries, out, aspect_ratio="16:9")
    assert report.method == "encode" and "480x270" in report.reason
    # The highest resolution among the clips (270 short side), the script's aspect, the
    # highest frame rate (30).
    assert (report.width, report.height, report.fps) == (480, 270, Fraction(30))
    assert report.duration == pytest.approx(4.5)
    info = probe(out)
    assert info.video.size == (480, 270) and info.video.fps == 30
    assert info.audio is not None and info.audio.sample_rate == 48000
    assert report.tracks["video"] == pytest.approx(4.5, abs=1 / 30)
    assert report.tracks["audio"] == pytest.approx(4.5, abs=1 / 30)
    runs = colour_runs(out, 240, 200)
    assert [(c, n) for _, c, n in runs] == [(0, 30), (5, 30), (6, 30), (2, 45)]
    # The square clip is pillarboxed (black at the sides, its colour in the middle), the
    # 16:9 std clip scaled up to fill the frame.
    frames, _, _ = decode_film(out)
    square_frame = frames[75][1]
    assert closest_colour(rgb_at(square_frame, 240, 200)) == 6
    assert max(rgb_at(square_frame, 20, 135)) < 30 and max(rgb_at(square_frame, 460, 135)) < 30
    assert closest_colour(rgb_at(frames[10][1], 4, 266)) == 0
    for item, s in zip(report.items, specs, strict=True):
        f, level = tone_at(out, item.start, item.start + item.duration)
        if s.tone is None:
            assert level < 0.01  # a clip without sound: silence, and the rest stays in step
        else:
            assert f == pytest.approx(s.tone, rel=0.05)


def test_vertical_script_letterboxes_landscape_clips(tmp_path: Path) -> None:
    entries = [entry(0, spec(0)), entry(1, spec(1, mode="pro"))]
    report = assemble(entries, tmp_path / "film.mp4", aspect_ratio="9:16")
    assert (report.width, report.height) == (270, 480)
    frames, _, _ = decode_film(tmp_path / "film.mp4")
    last = frames[-1][1]
    assert closest_colour(rgb_at(last, 135, 300)) == 1
    assert max(rgb_at(last, 135, 20)) < 30 and max(rgb_at(last, 135, 470)) < 30


def test_missing_scenes_stop_the_cut_and_name_each(tmp_path: Path) -> None:
    out = tmp_path / "film.mp4"
    entries = [entry(0, spec(0)), entry(1, None, state="failed"), entry(2, None, state="running")]
    with pytest.raises(MissingScenes) as err:
        assemble(entries, out)
    assert [(e.scene_id, e.state) for e in err.value.missing] == [
        ("s01", "failed"),
        ("s02", "running"),
    ]
    assert not out.exists()


def test_allow_missing_puts_a_slate_of_the_scenes_seconds(tmp_path: Path) -> None:
    out = tmp_path / "film.mp4"
    entries = [entry(0, spec(0)), entry(1, None, seconds=1.5, state="failed"), entry(2, spec(2))]
    report = assemble(entries, out, aspect_ratio="16:9", allow_missing=True)
    assert report.method == "encode"
    assert [i.slate for i in report.items] == [False, True, False]
    assert report.items[1].start == 1.0 and report.items[1].duration == 1.5
    assert report.duration == pytest.approx(3.5)
    runs = colour_runs(out, 160, 170)  # below the slate's text
    assert [(c, n) for _, c, n in runs] == [(0, 24), (None, 36), (2, 24)]
    frames, _, _ = decode_film(out)
    slate = frames[40][1]
    pixels = bytes(slate.reformat(format="rgb24").planes[0])
    bright = sum(1 for v in pixels if v > 200)
    assert 0 < bright < len(pixels) // 10  # black, with the title drawn in white
    _, level = tone_at(out, 1.0, 2.5)
    assert level < 0.01
    assert tone_at(out, 2.5, 3.5)[0] == pytest.approx(TONES[2], rel=0.05)


def test_only_slates_make_a_film_too(tmp_path: Path) -> None:
    entries = [entry(0, None, seconds=0.5, state="new")]
    report = assemble(entries, tmp_path / "film.mp4", aspect_ratio="1:1", allow_missing=True)
    assert (report.width, report.height, report.audio) == (720, 720, False)
    assert report.fps == 24
    assert report.tracks == {"video": pytest.approx(0.5, abs=1 / 24)}


def test_a_failed_cut_leaves_the_previous_film_intact(tmp_path: Path) -> None:
    out = tmp_path / "film.mp4"
    out.write_bytes(b"the previous film")
    broken = tmp_path / "broken.mp4"
    data = clip(spec(1, seconds=2.0)).read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    entries = [entry(0, spec(0)), CutEntry("s02", "Broken", 2.0, broken, take=1, mode="std")]
    with pytest.raises(MediaError):
        assemble(entries, out)
    assert out.read_bytes() == b"the previous film"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "film.mp4"]


def test_a_cut_that_fails_verification_is_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "film.mp4"
    out.write_bytes(b"the previous film")
    real_verify = cut_module.verify

    def short_by_a_second(
        path: Path, expected: float, fps: Fraction, *, audio: bool
    ) -> dict[str, float]:
        return real_verify(path, expected + 1.0, fps, audio=audio)

    monkeypatch.setattr(cut_module, "verify", short_by_a_second)
    with pytest.raises(CutVerifyError):
        assemble([entry(0, spec(0)), entry(1, spec(1))], out)
    assert out.read_bytes() == b"the previous film"
    assert [p.name for p in tmp_path.iterdir()] == ["film.mp4"]


def test_a_new_cut_replaces_the_film_and_clears_a_killed_cuts_partial(tmp_path: Path) -> None:
    out = tmp_path / "film.mp4"
    out.write_bytes(b"the previous film")
    dead = 2**22 + 12345  # above the default pid_max: no such process
    stale = tmp_path / f".film.mp4.{dead}{PARTIAL_SUFFIX}"
    stale.write_bytes(b"half a film")
    moved = clip_copy(spec(0), tmp_path / "clips" / "take-1.mp4")
    assemble([CutEntry("s01", "Only", 1.0, moved, take=1, mode="std")], out)
    assert probe(out).duration == pytest.approx(1.0)
    assert not stale.exists()
    assert sorted(os.listdir(tmp_path)) == ["clips", "film.mp4"]


def test_choose_method_reasons() -> None:
    a, b = probe(clip(spec(0))), probe(clip(spec(1, mode="pro")))
    assert choose_method([a, a]) == (True, "all clips share codec parameters")
    assert choose_method([a, None])[0] is False
    copy, why = choose_method([a, b])
    assert not copy and "size: 320x180 / 480x270" in why


@given(st.sampled_from(["16:9", "9:16", "1:1", "4:3", "21:9"]), st.integers(90, 2160))
def test_frame_size_has_the_aspect_and_the_short_side(aspect: str, short: int) -> None:
    ratio = parse_aspect(aspect, [])
    width, height = frame_size(ratio, short)
    assert width % 2 == 0 and height % 2 == 0
    assert abs(min(width, height) - short) <= 1
    assert (width >= height) == (ratio[0] >= ratio[1])
    assert abs(width / height - ratio[0] / ratio[1]) < 0.03


def test_parse_aspect_defaults_and_errors() -> None:
    assert parse_aspect(None, [probe(clip(spec(0, size=(240, 240))))]) == (1, 1)
    assert parse_aspect(None, []) == (16, 9)
    with pytest.raises(ValueError):
        parse_aspect("wide", [])


@given(st.text(max_size=60))
def test_slate_text_is_always_drawable(text: str) -> None:
    shown = drawable(text)
    assert all(ch in FONT for ch in shown)
    for line in wrap(shown, 12):
        assert len(line) <= 12


def test_drawable_keeps_letters_without_accents() -> None:
    assert drawable("Élodie's café, 5 s") == "ELODIE'S CAFE, 5 S"


def test_verify_checks_each_track_and_the_set_of_tracks(tmp_path: Path) -> None:
    specs = [ClipSpec(colour=COLOURS[i], tone=None) for i in (0, 1)]
    out = tmp_path / "film.mp4"
    assemble([entry(i, s) for i, s in enumerate(specs)], out)
    fps = Fraction(24)
    assert cut_module.verify(out, 2.0, fps, audio=False) == {"video": pytest.approx(2.0)}
    assert cut_module.verify(out, 2.0 + 0.5 / 24, fps, audio=False)  # within one frame
    with pytest.raises(CutVerifyError):
        cut_module.verify(out, 2.0 + 2 / 24, fps, audio=False)
    with pytest.raises(CutVerifyError):
        cut_module.verify(out, 2.0, fps, audio=True)  # an audio track was expected
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"junk" * 100)
    with pytest.raises(CutVerifyError):
        cut_module.verify(junk, 2.0, fps, audio=False)
