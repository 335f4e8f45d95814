"""Film stage, media facts: probing clips, stream-copy compatibility, the last frame as PNG,
the fake kie.ai serving real clips, and that importing shotc.film loads no heavy module."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import av
import pytest
from fakekie import FakeKie
from fakekie.clips import COLOURS, TONES, ClipSpec, clip, clip_copy, near, result_clip, rgb_at

from shotc.film.media import MediaError, last_frame_png, last_video_frame, probe


def decoded_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def rgb_bytes(frame: av.VideoFrame) -> bytes:
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    data = bytes(plane)
    row = rgb.width * 3
    return b"".join(
        data[y * plane.line_size : y * plane.line_size + row] for y in range(rgb.height)
    )


def test_probe_std_and_pro() -> None:
    std = probe(clip(ClipSpec(mode="std")))
    pro = probe(clip(ClipSpec(mode="pro", seconds=2.0)))
    assert (std.video.width, std.video.height, std.video.codec) == (320, 180, "h264")
    assert (pro.video.width, pro.video.height) == (480, 270)
    assert std.video.fps == 24 and std.video.pix_fmt == "yuv420p"
    assert std.duration == pytest.approx(1.0, abs=1 / 24)
    assert pro.duration == pytest.approx(2.0, abs=1 / 24)
    assert std.audio is not None and std.audio.codec == "aac"
    assert (std.audio.sample_rate, std.audio.channels) == (48000, 2)
    assert std.audio_lines_up()


def test_probe_without_audio() -> None:
    info = probe(clip(ClipSpec(tone=None)))
    assert info.audio is None and info.audio_lines_up()


def test_copy_key_equal_within_a_mode_and_differs_across() -> None:
    a = probe(clip(ClipSpec(colour=COLOURS[0], tone=TONES[0])))
    b = probe(clip(ClipSpec(colour=COLOURS[3], tone=TONES[4], seconds=2.0)))
    pro = probe(clip(ClipSpec(mode="pro")))
    silent = probe(clip(ClipSpec(tone=None)))
    assert a.copy_key() == b.copy_key()
    assert a.copy_key() != pro.copy_key()
    assert a.copy_key() != silent.copy_key()


def test_probe_refuses_what_is_not_a_clip(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not a movie" * 20)
    with pytest.raises(MediaError) as err:
        probe(junk)
    assert err.value.path == junk
    with pytest.raises(MediaError):
        probe(tmp_path / "absent.mp4")


@pytest.mark.parametrize("seconds", [1.0, 3.0])  # 3 s: the seek-near-the-end path runs
def test_last_frame_is_the_final_decoded_frame(tmp_path: Path, seconds: float) -> None:
    path = clip(ClipSpec(colour=COLOURS[2], seconds=seconds))
    frames = decoded_frames(path)
    assert len(frames) == round(seconds * 24)
    out = last_frame_png(path, tmp_path / "s01" / "last-frame.png")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    png = decoded_frames(out)
    assert len(png) == 1 and (png[0].width, png[0].height) == (320, 180)
    # The PNG is lossless: exactly the last frame a full decode gives, not the one before.
    assert rgb_bytes(png[0]) == rgb_bytes(frames[-1])
    assert rgb_bytes(png[0]) != rgb_bytes(frames[-2])  # the bar moves every frame
    assert rgb_bytes(last_video_frame(path)) == rgb_bytes(frames[-1])
    assert near(rgb_at(png[0], 160, 120), COLOURS[2])
    assert [p.name for p in out.parent.iterdir()] == ["last-frame.png"]  # no partial left


def test_last_frame_failure_keeps_the_previous_png(tmp_path: Path) -> None:
    out = tmp_path / "last-frame.png"
    out.write_bytes(b"previous")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"garbage" * 100)
    with pytest.raises(MediaError):
        last_frame_png(junk, out)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mp4", "last-frame.png"]


def test_a_truncated_clip_is_a_media_error_and_writes_nothing(tmp_path: Path) -> None:
    path = clip_copy(ClipSpec(seconds=2.0), tmp_path / "clip.mp4")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # moov is at the end: unreadable
    with pytest.raises(MediaError):
        last_frame_png(path, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_fake_kie_serves_real_clips_in_the_request_mode() -> None:
    with FakeKie() as kie:
        kie.result_file = result_clip
        urls = {}
        for mode in ("std", "pro"):
            answer, _ = kie.create(
                {"model": "kling-3.0/video", "input": {"prompt": f"a {mode} shot", "mode": mode}}
            )
            assert answer is not None
            urls[mode] = f"{kie.base_url}/results/{answer['data']['taskId']}.mp4"
        for mode, url in urls.items():
            with urllib.request.urlopen(url, timeout=10) as response:
                data = response.read()
            path = Path(clip(ClipSpec())).parent / f"served-{mode}.mp4"
            path.write_bytes(data)
            info = probe(path)
            assert info.video.size == {"std": (320, 180), "pro": (480, 270)}[mode]
            assert info.audio is not None


def test_importing_the_film_package_loads_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "import shotc.film.cut, shotc.film.timeline, shotc.film.media\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('av', 'opentimelineio')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
