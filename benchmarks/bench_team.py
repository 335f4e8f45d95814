"""Benchmark of team runs (issue 11): 3 checkouts of one 60-scene project, each its own
`shotc run`, started at once on one PostgreSQL ledger (SHOTC_LEDGER) and one fake kie.ai
account that allows 10 new tasks per 2 s (shotc.toml says the same). Prints:
- the span from the first to the last accepted createTask, against the floor the limit
  allows ((ceil(60/10) - 1) x 2 s = 10 s), target span <= 1.1 x floor;
- the 429s after the first window (target 0), duplicates per scene (must be 0), and the clips
  on each machine (all 60 on each);
- the ledger's own cost per scene, measured in this process with the calls a run makes per
  scene (plan read, begin, posting, created, the polls' reads and recorded states, the
  download's), on the same PostgreSQL server and on SQLite, target < 5 ms on PostgreSQL.

The PostgreSQL server is the tests' (tests/pgserver.py): initdb in a temporary directory,
on a Unix socket, with fsync=off, so its commits cost no disk flush; a production server
with fsync on pays one per commit on top (SQLite here runs as the ledger configures it).

Usage: python benchmarks/bench_team.py [--scenes N] [--machines M] [--ledger-scenes K].
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bytecode import compile_package  # noqa: E402
from fakekie import FakeKie  # noqa: E402
from fakekie.project import write_project  # noqa: E402
from pgserver import PgServer  # noqa: E402

from shotc.run.ledger import Ledger  # noqa: E402

LIMIT, PERIOD = 10, 2.0
SPAN_TARGET = 1.1  # span <= this x floor
LEDGER_TARGET_MS = 5.0  # PostgreSQL ledger cost per scene
RUN_TIMEOUT = 300.0  # seconds for every machine's run together
STATES = (("waiting", 0.5), ("queuing", 0.5), ("generating", 1.0))  # as bench_run.py
# The states a run records per scene as it polls (recordInfo), the last one with its URL.
REMOTE_STATES = ("waiting", "generating", "success")


@dataclass
class TeamResult:
    codes: list[int]
    wall: float
    span: float
    created: int
    late_429: int
    duplicates: int
    missing: int  # scenes no machine created
    clips: list[int]


def team_run(pg: PgServer, n: int, machines: int) -> TeamResult:
    config = f"[run]\nrate_limit = {LIMIT}\nrate_period = {PERIOD}\n"
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeKie(rate_limit=(LIMIT, PERIOD), states=STATES) as kie,
    ):
        roots = [Path(tmp) / f"m{i}" for i in range(machines)]
        for root in roots:
            write_project(root, scenes=n, config=config)
        env = {**os.environ, **kie.env(), "SHOTC_LEDGER": pg.database()}
        started = time.monotonic()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "shotc", "run", "film.shot"],
                cwd=root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for root in roots
        ]
        codes = []
        for proc in procs:
            try:
                _out, err = proc.communicate(
                    timeout=max(1.0, started + RUN_TIMEOUT - time.monotonic())
                )
            except subprocess.TimeoutExpired:
                proc.kill()
                _out, err = proc.communicate()
            codes.append(proc.returncode)
            if proc.returncode != 0:
                print(f"machine exit {proc.returncode}: {err[-1500:]}", file=sys.stderr)
        wall = time.monotonic() - started
        created = sorted(c.at for c in kie.created())
        late = [
            c for c in kie.creates if c.outcome == "429" and created and c.at > created[0] + PERIOD
        ]
        per_prompt = Counter(kie.prompts_created())
        clips = [len(list((r / "renders" / "film").rglob("*.mp4"))) for r in roots]
    return TeamResult(
        codes=codes,
        wall=wall,
        span=created[-1] - created[0] if len(created) > 1 else 0.0,
        created=len(created),
        late_429=len(late),
        duplicates=sum(c - 1 for c in per_prompt.values()),
        missing=n - len(per_prompt),
        clips=clips,
    )


def ledger_cost(ledger: Ledger, root: Path, scenes: int) -> tuple[float, float]:
    """Seconds of wall and of this process's CPU per scene for a run's ledger calls."""
    clip = root / "clip.mp4"
    clip.write_bytes(b"\0" * 64)
    request = '{"model": "kling-3.0/video", "input": {"prompt": "bench", "mode": "std"}}'
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(scenes):
        key = f"bench-{i:06d}"
        ledger.latest(key, 1)  # the plan's read
        sid = ledger.begin(
            scene_key=key,
            take=1,
            script="film.shot",
            scene_id=f"scene-{i}",
            film_title="Bench",
            request=request,
            seconds=4,
            mode="std",
            sound=False,
            est_credits=1.0,
        ).id
        ledger.posting(sid)
        ledger.created(sid, f"task-{root.name}-{i}")
        ledger.get(sid)
        for state in REMOTE_STATES:  # follow(): read, ask kie.ai, record, read back
            ledger.get(sid)
            urls = ["https://example.invalid/clip.mp4"] if state == "success" else None
            ledger.remote(sid, state, result_urls=urls)
            ledger.get(sid)
        ledger.downloads(sid)  # Downloader.ensure
        ledger.record_download(sid, clip, "0" * 64, 64)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return wall / scenes, cpu / scenes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=60)
    parser.add_argument("--machines", type=int, default=3)
    parser.add_argument("--ledger-scenes", type=int, default=200)
    args = parser.parse_args()
    n, machines = args.scenes, args.machines
    compile_package()
    with PgServer() as pg, tempfile.TemporaryDirectory() as tmp:
        team = team_run(pg, n, machines)
        pg_root, lite_root = Path(tmp) / "pg", Path(tmp) / "sqlite"
        pg_root.mkdir()
        with Ledger(pg.database(), root=pg_root) as ledger:
            pg_wall, pg_cpu = ledger_cost(ledger, pg_root, args.ledger_scenes)
        with Ledger(lite_root / ".shotc" / "ledger.sqlite") as ledger:
            lite_wall, lite_cpu = ledger_cost(ledger, lite_root, args.ledger_scenes)
    floor = (math.ceil(n / LIMIT) - 1) * PERIOD
    ratio = team.span / floor if floor else 1.0
    ok = (
        all(code == 0 for code in team.codes)
        and team.created == n
        and team.missing == 0
        and team.duplicates == 0
        and team.late_429 == 0
        and ratio <= SPAN_TARGET
        and team.clips == [n] * machines
        and pg_wall * 1000 < LEDGER_TARGET_MS
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machines               {machines}  (exits {team.codes})")
    print(f"scenes                 {n}  ({team.created} tasks created)")
    print(f"limit                  {LIMIT} new tasks per {PERIOD:g} s, shared in PostgreSQL")
    print(
        f"createTask span        {team.span:.3f} s  (floor {floor:.3f} s; "
        f"{ratio:.3f} x floor, target <= {SPAN_TARGET})"
    )
    print(f"429 after 1st window   {team.late_429}  (target 0)")
    print(f"duplicates             {team.duplicates}  (scenes never created: {team.missing})")
    print(f"clips per machine      {team.clips}  (target {n} each)")
    print(f"wall time              {team.wall:.2f} s")
    print(
        f"ledger per scene, PG   {pg_wall * 1000:.2f} ms wall, {pg_cpu * 1000:.2f} ms CPU "
        f"(target < {LEDGER_TARGET_MS:g} ms; test server, fsync=off; "
        f"{args.ledger_scenes} scenes)"
    )
    print(f"ledger per scene, SQL  {lite_wall * 1000:.2f} ms wall, {lite_cpu * 1000:.2f} ms CPU")
    print(f"load average           {load}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
