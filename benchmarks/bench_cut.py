"""Benchmark of `cut` (shotc.film.cut.assemble) on real MP4s made with PyAV.

- Stream copy: 30 clips that share codec parameters (720p, 5 s, H.264 ~6 Mb/s + AAC, as Kling
  std gives), joined into one film, against `cat` copying the same bytes into one file (best
  of 3 each, warm page cache). Target: cut <= 3x cat.
- Re-encode: clips of two sizes (720p and 540p) joined with a re-encode to 720p: the speed as
  a multiple of real time (film seconds per wall second), printed (no target: it depends on
  the machine's cores).

Usage: python benchmarks/bench_cut.py [--clips N] [--seconds S] [--quick]. Exits 1 when the
stream-copy target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shotc.film.cut import CutEntry, assemble  # noqa: E402

TARGET = 3.0


def make_clip(path: Path, width: int, height: int, seconds: float, bit_rate: int) -> None:
    """A clip of moving noise (so the encoder spends its bit rate) with a tone."""
    import math
    from array import array

    import av

    fps, rate = 24, 48000
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate = bit_rate
        audio = out.add_stream("aac", rate=rate)
        audio.layout = "stereo"
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(os.urandom(plane.buffer_size))
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        tone = array("f", (0.3 * math.sin(2 * math.pi * 440 * k / rate) for k in range(1024)))
        total = round(seconds * rate)
        for start in range(0, total, 1024):
            n = min(1024, total - start)
            frame_a = av.AudioFrame(format="fltp", layout="stereo", samples=n)
            for audio_plane in frame_a.planes:
                audio_plane.update(tone[:n].tobytes())
            frame_a.sample_rate, frame_a.pts, frame_a.time_base = rate, start, Fraction(1, rate)
            out.mux(audio.encode(frame_a))
        out.mux(audio.encode(None))


def best_of(runs: int, action: object) -> float:
    assert callable(action)
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def entries_for(paths: list[Path], seconds: float) -> list[CutEntry]:
    return [
        CutEntry(f"s{i:02d}", f"Scene {i}", seconds, p, take=1, mode="std")
        for i, p in enumerate(paths, start=1)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="smaller clips (a smoke run)")
    args = parser.parse_args()
    width, height, bit_rate = (1280, 720, 6_000_000) if not args.quick else (320, 180, 800_000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        source = root / "source.mp4"
        make_clip(source, width, height, args.seconds, bit_rate)
        paths = []
        for i in range(args.clips):
            paths.append(root / f"clip{i:02d}.mp4")
            shutil.copyfile(source, paths[-1])
        made = time.perf_counter() - started
        size = sum(p.stat().st_size for p in paths)
        cat_out = root / "cat.mp4"

        def cat() -> None:
            with cat_out.open("wb") as out:
                subprocess.run(["cat", *map(str, paths)], stdout=out, check=True, timeout=300)

        entries = entries_for(paths, args.seconds)
        reports = []

        def cut() -> None:
            reports.append(assemble(entries, root / "film.mp4", aspect_ratio="16:9"))

        cat()  # warm the page cache
        cat_s = best_of(3, cat)
        cut_s = best_of(3, cut)
        report = reports[-1]
        ratio = cut_s / cat_s if cat_s else float("inf")

        # Re-encode: a mix of two sizes, a few seconds of film.
        small = root / "small.mp4"
        make_clip(small, width * 3 // 8 * 2, height * 3 // 8 * 2, 2.0, bit_rate // 2)
        big = root / "big.mp4"
        make_clip(big, width, height, 2.0, bit_rate)
        mixed = entries_for([big, small, big, small], 2.0)
        started = time.perf_counter()
        encoded = assemble(mixed, root / "mixed.mp4", aspect_ratio="16:9")
        encode_s = time.perf_counter() - started
    ok = report.method == "copy" and encoded.method == "encode" and ratio <= TARGET
    print(
        f"clips                  {args.clips} x {args.seconds:g} s, {width}x{height}, "
        f"{size / 1e6:.1f} MB in all (made in {made:.1f} s)"
    )
    print(f"cat of the same bytes  {cat_s * 1000:.0f} ms")
    print(
        f"cut (stream copy)      {cut_s * 1000:.0f} ms  = {ratio:.2f} x cat  (target <= "
        f"{TARGET:g})  [{report.duration:.1f} s of film, verified]"
    )
    print(
        f"cut (re-encode)        {encoded.duration:.1f} s of film at {encoded.width}x"
        f"{encoded.height} in {encode_s:.2f} s = {encoded.duration / encode_s:.2f} x real time "
        "(moving noise: the encoder's worst case)"
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
