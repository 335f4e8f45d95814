"""Benchmark of the run stage: `shotc run` on 30 scenes against the fake kie.ai.

The fake server allows 10 new tasks per 2 s (and answers 429 past that); the client is told
the same limit in shotc.toml. Prints:
- the span from the first to the last accepted createTask, against the floor the limit
  allows ((ceil(30/10) - 1) x 2 s = 4 s): efficiency = floor / span, target >= 0.9;
- the 429s after the first window (target 0);
- the CPU time (user + system) of the whole `shotc run` process per scene, target < 20 ms.

Usage: python benchmarks/bench_run.py [--scenes N]. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bytecode import compile_package  # noqa: E402
from fakekie import FakeKie  # noqa: E402
from fakekie.project import write_project  # noqa: E402

LIMIT, PERIOD = 10, 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=30)
    args = parser.parse_args()
    n = args.scenes
    compile_package()
    config = f"[run]\nrate_limit = {LIMIT}\nrate_period = {PERIOD}\n"
    states = (("waiting", 0.5), ("queuing", 0.5), ("generating", 1.0))
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeKie(rate_limit=(LIMIT, PERIOD), states=states) as kie,
    ):
        root = Path(tmp)
        write_project(root, scenes=n, config=config)
        env = {**os.environ, **kie.env()}
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "shotc", "run", "film.shot"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        created = sorted(c.at for c in kie.created())
        limited_late = [
            c for c in kie.creates if c.outcome == "429" and created and c.at > created[0] + PERIOD
        ]
        clips = len(list((root / "renders" / "film").rglob("*.mp4")))  # scene-N/take-1.mp4
    floor = (math.ceil(n / LIMIT) - 1) * PERIOD
    span = created[-1] - created[0] if len(created) > 1 else 0.0
    efficiency = floor / span if span else 1.0
    per_scene_ms = cpu / n * 1000
    ok = (
        proc.returncode == 0
        and len(created) == n
        and clips == n
        and efficiency >= 0.9
        and not limited_late
        and per_scene_ms < 20
    )
    print(
        f"scenes                 {n}  (exit {proc.returncode}, {len(created)} tasks, {clips} clips)"
    )
    print(f"limit                  {LIMIT} new tasks per {PERIOD:g} s")
    print(f"createTask span        {span:.3f} s  (floor {floor:.3f} s)")
    print(f"efficiency             {efficiency:.3f}  (target >= 0.9)")
    print(f"429 after 1st window   {len(limited_late)}  (target 0)")
    print(f"wall time              {wall:.2f} s")
    print(
        f"CPU, whole process     {cpu * 1000:.0f} ms  = {per_scene_ms:.1f} ms/scene (target < 20)"
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
