"""Test support: small real MP4 clips made with PyAV (H.264 + AAC, a moving bar over a solid
colour, a sine tone), and helpers to read a decoded film back (colour of a frame, frequency of
a stretch of audio) so tests can tell clips apart inside a cut.

"std" clips are 320x180 and "pro" clips 480x270: clips of one mode can be stream-copied
together, a mix of both must be re-encoded. Clips are cached per process (one directory, one
file per set of parameters), so a test session makes each clip once.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import math
import shutil
import tempfile
import threading
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

SIZES = {"std": (320, 180), "pro": (480, 270)}
FPS = 24
RATE = 48000
# Distinct, easily told apart colours (RGB) and tones (Hz) for the clips of one film.
COLOURS = [
    (220, 40, 40),
    (40, 200, 60),
    (40, 80, 220),
    (230, 200, 40),
    (200, 60, 200),
    (40, 200, 210),
    (240, 140, 40),
    (150, 150, 150),
]
TONES = [300.0, 450.0, 600.0, 750.0, 900.0, 1050.0, 1200.0, 1350.0]


@dataclass(frozen=True)
class ClipSpec:
    mode: str = "std"
    colour: tuple[int, int, int] = COLOURS[0]
    tone: float | None = TONES[0]  # None: no audio track
    seconds: float = 1.0
    size: tuple[int, int] | None = None  # overrides the mode's size
    fps: int = FPS

    @property
    def dims(self) -> tuple[int, int]:
        return self.size or SIZES[self.mode]

    def name(self) -> str:
        digest = hashlib.sha256(repr(self).encode()).hexdigest()[:12]
        return f"clip-{self.mode}-{digest}.mp4"


_cache_dir: Path | None = None


def cache_dir() -> Path:
    """This process's clip cache (removed at exit)."""
    global _cache_dir
    if _cache_dir is None:
        _cache_dir = Path(tempfile.mkdtemp(prefix="shotc-clips-"))
        atexit.register(shutil.rmtree, _cache_dir, True)
    return _cache_dir


def clip(spec: ClipSpec) -> Path:
    """The cached clip for `spec` (made on first use)."""
    path = cache_dir() / spec.name()
    if not path.exists():
        # one partial per thread: the fake kie.ai's threads may make the same clip at once
        partial = path.with_name(f"{path.name}.{threading.get_ident()}.partial")
        write_clip(partial, spec)
        partial.replace(path)
    return path


def clip_copy(spec: ClipSpec, dest: Path) -> Path:
    """The clip for `spec`, copied to `dest` (tests that move or break files get their own)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip(spec), dest)
    return dest


def frame_bytes(spec: ClipSpec, index: int) -> bytes:
    """Frame `index` as RGBA: the clip's colour, a white bar sliding along the top fifth."""
    width, height = spec.dims
    row = bytearray(bytes((*spec.colour, 255)) * width)
    bar_rows = height // 5
    bar_w = max(2, width // 10)
    x = (index * 7) % (width - bar_w)
    bar_row = bytearray(row)
    bar_row[x * 4 : (x + bar_w) * 4] = b"\xff" * (bar_w * 4)
    return bytes(bar_row) * bar_rows + bytes(row) * (height - bar_rows)


def write_clip(path: Path, spec: ClipSpec) -> None:
    import av

    width, height = spec.dims
    frames = round(spec.seconds * spec.fps)
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=spec.fps, options={"preset": "veryfast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = None
        if spec.tone is not None:
            audio = out.add_stream("aac", rate=RATE)
            audio.layout = "stereo"
        for i in range(frames):
            frame = av.VideoFrame.from_bytes(frame_bytes(spec, i), width, height, format="rgba")
            frame = frame.reformat(format="yuv420p")
            frame.pts = i
            frame.time_base = Fraction(1, spec.fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None and spec.tone is not None:
            total = round(spec.seconds * RATE)
            for start in range(0, total, 1024):
                n = min(1024, total - start)
                samples = array(
                    "f",
                    (
                        0.4 * math.sin(2 * math.pi * spec.tone * (start + k) / RATE)
                        for k in range(n)
                    ),
                ).tobytes()
                frame_a = av.AudioFrame(format="fltp", layout="stereo", samples=n)
                for plane in frame_a.planes:
                    plane.update(samples)
                frame_a.sample_rate = RATE
                frame_a.pts = start
                frame_a.time_base = Fraction(1, RATE)
                out.mux(audio.encode(frame_a))
            out.mux(audio.encode(None))


def result_clip(body: Any) -> bytes:
    """A result file for a createTask body (the fake kie.ai's `result_file`): a 1 s clip in
    the request's mode, its colour and tone chosen by the prompt, so each scene looks and
    sounds its own."""
    inp = body.get("input", {}) if isinstance(body, dict) else {}
    mode = str(inp.get("mode")) if inp.get("mode") in SIZES else "std"
    digest = int(hashlib.sha256(repr(sorted(inp.items())).encode()).hexdigest(), 16)
    spec = ClipSpec(
        mode=mode, colour=COLOURS[digest % len(COLOURS)], tone=TONES[digest % len(TONES)]
    )
    return clip(spec).read_bytes()


# -- reading a film back ---------------------------------------------------------------------


def rgb_at(frame: Any, x: int, y: int) -> tuple[int, int, int]:
    """The RGB colour of pixel (x, y) of a decoded av.VideoFrame."""
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    data = bytes(plane)
    at = y * plane.line_size + x * 3
    return data[at], data[at + 1], data[at + 2]


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b, strict=True))


def closest_colour(rgb: tuple[int, int, int]) -> int | None:
    """Index in COLOURS of the colour `rgb` is near, else None."""
    for i, colour in enumerate(COLOURS):
        if near(rgb, colour):
            return i
    return None


def decode_film(path: Path) -> tuple[list[tuple[float, Any]], list[float], int]:
    """(video frames as (time, frame), mono audio samples, sample rate) of a whole file."""
    import av

    frames: list[tuple[float, Any]] = []
    samples: list[float] = []
    rate = RATE
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append((float(frame.time or 0.0), frame))
    with av.open(str(path)) as container:
        if container.streams.audio:
            stream = container.streams.audio[0]
            rate = stream.rate
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            for aframe in container.decode(stream):
                for out in resampler.resample(aframe):
                    samples.extend(array("f", bytes(out.planes[0])[: out.samples * 4]))
    return frames, samples, rate


def frequency(samples: list[float], rate: int) -> float:
    """The dominant frequency of a stretch of a pure tone, by counting zero crossings."""
    crossings = sum(1 for a, b in itertools.pairwise(samples) if a < 0 <= b)
    return crossings * rate / max(1, len(samples))


def loudness(samples: list[float]) -> float:
    return max((abs(s) for s in samples), default=0.0)
