"""Benchmark of the compiler, whole process (issue 2's speed targets). Prints figures.

1. start-up: `shotc build` of a one-scene file divided by `python -c "import lark,
   jsonschema, click"` (medians of alternating runs, bytecode compiled); target <= 0.75
2. a generated 10,000-scene script: wall time (target <= 1.5 s) and peak RSS (<= 150 MB)
3. per-scene cost at 10,000 scenes versus at 100 (target: within 1.25x)
4. `check` in process, 100,000 lines versus 1,000,000 (issue 7: linear time; target: the
   per-line cost within 1.5x), for scenes, typo cues against many elements and one error per
   line, diagnostics rendered as people see them; and an include diamond 25 levels deep

Run: python benchmarks/bench_compile.py [--runs N] [--lines-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import compile_package

PYTHON = sys.executable


def generate(scenes: int) -> str:
    lines = [
        "Title: Benchmark",
        "Mode: std",
        "",
        "ELEMENT @hero: the hero",
        "  https://example.com/hero-1.png",
        "  https://example.com/hero-2.png",
        "",
    ]
    for i in range(scenes):
        lines += [
            f"SCENE Scene number {i}",
            "FIRST FRAME https://example.com/first.png",
            "",
            "SHOT 3s",
            f"The hero@hero walks into room {i}. [[ a note ]]",
            "",
            "SHOT 4s",
            "Close up on the door, which opens slowly.",
            "",
        ]
    return "\n".join(lines)


def run(argv: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--lines-only", action="store_true", help="only figure 4")
    args = parser.parse_args()
    if args.lines_only:
        lines()
        return
    shotc = [PYTHON, "-m", "shotc", "build"]
    compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for n in (1, 100, 10_000):
            files[n] = Path(tmp) / f"scenes-{n}.shot"
            files[n].write_text(generate(n), "utf-8")
        baseline_cmd = [PYTHON, "-c", "import lark, jsonschema, click"]
        for _ in range(3):  # warm the caches and the bytecode
            run(baseline_cmd)
            run([*shotc, str(files[1])])
        base, ours = [], []
        for _ in range(args.runs):
            base.append(run(baseline_cmd)[0])
            ours.append(run([*shotc, str(files[1])])[0])
        b, o = statistics.median(base), statistics.median(ours)
        print(f"import lark, jsonschema, click : {b * 1000:7.1f} ms (median of {args.runs})")
        print(f"shotc build, one scene         : {o * 1000:7.1f} ms")
        print(f"ratio                          : {o / b:7.3f}   (target <= 0.75)")

        walls: dict[int, float] = {}
        for n in (1, 100, 10_000):
            repeats = 5 if n == 10_000 else args.runs
            samples = [run([*shotc, str(files[n])]) for _ in range(repeats)]
            walls[n] = statistics.median(s[0] for s in samples)
            rss = max(s[1] for s in samples) / 1024
            print(f"{n:>6} scenes: {walls[n]:6.3f} s wall, {rss:6.1f} MB peak RSS")
        per_100 = (walls[100] - walls[1]) / 99
        per_10k = (walls[10_000] - walls[1]) / 9_999
        print(
            f"per-scene cost: {per_100 * 1e6:6.1f} us at 100, {per_10k * 1e6:6.1f} us at "
            f"10,000 -> {per_10k / per_100:5.2f}x   (target <= 1.25x)"
        )
        print("targets: 10,000 scenes <= 1.5 s wall and <= 150 MB peak RSS")
        in_process(files)
    lines()


def in_process(files: dict[int, Path]) -> None:
    """Per-scene cost without process start-up: compile and serialise, median of repeats."""
    import json

    from shotc.language.compiler import compile_paths

    def per_scene(n: int, repeats: int) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = compile_paths([files[n]])
            json.dumps([scene.request for scene in result.scenes], indent=2)
            times.append(time.perf_counter() - start)
        return statistics.median(times) / n

    small, large = per_scene(100, 41), per_scene(10_000, 5)
    print(
        f"in-process per-scene cost: {small * 1e6:6.1f} us at 100, {large * 1e6:6.1f} us at "
        f"10,000 -> {large / small:5.2f}x"
    )


def _line_shapes(n: int) -> dict[str, str]:
    """Scripts of about n lines that stress one part each."""
    cast = "".join(
        f"ELEMENT @el{i}: thing {i}\n  https://x.test/{i}a.png\n  https://x.test/{i}b.png\n\n"
        for i in range(1000)
    )
    return {
        "scenes": "".join(
            f"SCENE Scene {i}\nSHOT 3s\nThe dog runs into room {i}.\n\n" for i in range(n // 4)
        ),
        "typo cues": cast + "SHOT 5s\n" + "".join(f"The @el{i}x runs.\n" for i in range(n - 4000)),
        "an error a line": "".join(f"Colour{i % 7}: red\n" for i in range(n)),
    }


def lines() -> None:
    """Figure 4: `check` (compile and render) is linear in the number of lines."""
    from shotc.language.compiler import compile_paths
    from shotc.render import render_diagnostics

    with tempfile.TemporaryDirectory() as tmp:
        cost: dict[tuple[str, int], float] = {}
        for n in (100_000, 1_000_000):
            for name, text in _line_shapes(n).items():
                path = Path(tmp) / "film.shot"
                path.write_text(text, "utf-8")
                start = time.perf_counter()
                result = compile_paths([path], for_build=False)
                render_diagnostics(result.diagnostics)
                wall = time.perf_counter() - start
                cost[name, n] = wall / n
                print(f"check {name:16} {n:>9,} lines: {wall:6.2f} s", flush=True)
        for name in _line_shapes(0):
            ratio = cost[name, 1_000_000] / cost[name, 100_000]
            print(f"per-line cost of {name:16}: 1M / 100k = {ratio:4.2f}x   (target <= 1.5x)")
        diamond(Path(tmp))


def diamond(root: Path) -> None:
    """25 levels of two files each including both files below: 2^25 include paths."""
    from shotc.language.compiler import compile_paths

    depth = 25
    for level in range(depth):
        below = f"INCLUDE l{level + 1}a.shot\nINCLUDE l{level + 1}b.shot\n"
        for side in "ab":
            text = (
                below if level + 1 < depth else ""
            ) + f"Mode: std\n\nELEMENT @e{level}{side}: x\n"
            (root / f"l{level}{side}.shot").write_text(text + "  https://x.test/a.png\n", "utf-8")
    film = root / "diamond.shot"
    film.write_text("INCLUDE l0a.shot\nINCLUDE l0b.shot\n\nSHOT 5s\nx\n", "utf-8")
    start = time.perf_counter()
    compile_paths([film], for_build=False)
    print(f"check of an include diamond {depth} deep: {time.perf_counter() - start:6.3f} s")


if __name__ == "__main__":
    main()
