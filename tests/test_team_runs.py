"""Team scale (cli.md promise 11): several machines (here: checkouts in their own directories,
each its own `shotc run` process) on one PostgreSQL ledger and one kie.ai account, at once.

What must hold whatever the processes' timing: each scene is created exactly once (the fake's
log), every machine ends with every clip, the account's limit is kept by all of them together
(no 429 after the first window: the limiter's state is in the database), and a machine killed
with -9 leaves nothing another machine cannot settle."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import psycopg
from fakekie import FakeKie
from fakekie.project import FAST_CONFIG, clips, shotc, spawn, write_project

from shotc.exits import ExitCode

LIMIT, PERIOD = 10, 2.0
TEAM_CONFIG = FAST_CONFIG + f"rate_limit = {LIMIT}\nrate_period = {PERIOD}\n"


def machines(tmp_path: Path, n: int, scenes: int, config: str = TEAM_CONFIG) -> list[Path]:
    return [write_project(tmp_path / f"m{i}", scenes=scenes, config=config) for i in range(n)]


def run_all(scripts: list[Path], env: dict[str, str], timeout: float = 240) -> list[int]:
    procs = [spawn(["run", "film.shot"], env=env, cwd=s.parent) for s in scripts]
    codes = []
    for proc in procs:
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
        codes.append(proc.returncode)
        assert proc.returncode == 0, err[-3000:]
    return codes


def late_429s(kie: FakeKie) -> int:
    created = sorted(c.at for c in kie.created())
    return sum(1 for c in kie.creates if c.outcome == "429" and c.at > created[0] + PERIOD)


def test_three_machines_send_each_scene_once(tmp_path: Path, pg_url: str) -> None:
    scripts = machines(tmp_path, 3, scenes=20)
    with FakeKie(rate_limit=(LIMIT, PERIOD)) as kie:
        env = {**kie.env(), "SHOTC_LEDGER": pg_url}
        run_all(scripts, env)
        per_prompt = Counter(kie.prompts_created())
        assert len(per_prompt) == 20 and set(per_prompt.values()) == {1}  # never twice
        assert late_429s(kie) == 0  # one shared window for the account
        want = [f"scene-{i}/take-1.mp4" for i in range(1, 21)]
        for script in scripts:
            assert clips(script) == sorted(want)  # every clip on every machine
        # The images are the same files on every machine: uploaded once, not once per machine.
        assert len(kie.uploads) == 22
    with psycopg.connect(pg_url) as conn:
        states = conn.execute("SELECT state, count(*) FROM submissions GROUP BY state").fetchall()
        owners = conn.execute("SELECT count(DISTINCT owner) FROM submissions").fetchone()
    assert dict(states) == {"success": 20}
    assert owners is not None and 1 <= owners[0] <= 3


def test_a_killed_machine_loses_nothing_and_pays_nothing_twice(tmp_path: Path, pg_url: str) -> None:
    """Kill -9 one machine in the middle of its run, while the others go on; then a clean run
    on each. Its attempts are its own to settle (its next run does), the others' scenes are
    followed, never sent again."""
    scripts = machines(tmp_path, 3, scenes=20)
    with FakeKie(rate_limit=(LIMIT, PERIOD)) as kie:
        env = {**kie.env(), "SHOTC_LEDGER": pg_url}
        victim = spawn(["run", "film.shot"], env=env, cwd=scripts[0].parent)
        others = [spawn(["run", "film.shot"], env=env, cwd=s.parent) for s in scripts[1:]]
        # Kill it once it has claimed a scene (its owner id is made on its first claim) and
        # the account has created something: bounded waits.
        claimed = scripts[0].parent / ".shotc" / "machine-id"
        deadline = 200
        while not (claimed.exists() and kie.created()) and deadline:
            try:
                victim.wait(0.05)
                break
            except subprocess.TimeoutExpired:
                deadline -= 1
        os.kill(victim.pid, signal.SIGKILL)
        victim.communicate(timeout=30)
        for proc in others:
            _out, err = proc.communicate(timeout=240)
            # API: a scene the kill left `unknown` (its POST was in flight), reported as such
            assert proc.returncode in (ExitCode.OK, ExitCode.API), err[-3000:]
        for script in scripts:
            result = shotc(["run", "film.shot"], env=env, cwd=script.parent, timeout=240)
            assert result.code in (ExitCode.OK, ExitCode.API), result.err[-3000:]
        per_prompt = Counter(kie.prompts_created())
        assert set(per_prompt.values()) == {1}  # whatever was killed, nothing paid twice
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT ON (scene_key) scene_key, state, owner FROM submissions "
            "ORDER BY scene_key, id DESC"
        ).fetchall()
    # Killed before it claimed anything (the first task was another machine's), it has no id.
    id_file = scripts[0].parent / ".shotc" / "machine-id"
    victim_id = id_file.read_text().strip() if id_file.exists() else None
    latest: dict[str, tuple[str, str]] = {str(k): (str(st), str(o)) for k, st, o in rows}
    assert len(latest) == 20
    # Only the killed machine's POSTs in flight at the kill can be `unknown` (the task may
    # exist: never sent again without --resubmit-unknown); every other scene is done.
    unknown = [o for st, o in latest.values() if st == "unknown"]
    assert set(unknown) <= {victim_id}
    assert {st for st, _o in latest.values()} <= {"success", "unknown"}
    done = [st for st, _o in latest.values()].count("success")
    assert done == 20 - len(unknown)
    for script in scripts:
        assert len(clips(script)) == done


def test_sqlite_checkouts_share_nothing(tmp_path: Path) -> None:
    """Without a shared ledger each checkout is a project of its own (as for one user)."""
    one, two = machines(tmp_path, 2, scenes=2, config=FAST_CONFIG)
    with FakeKie() as kie:
        assert shotc(["run", "film.shot"], env=kie.env(), cwd=one.parent).code == 0
        assert shotc(["run", "film.shot"], env=kie.env(), cwd=two.parent).code == 0
        assert len(kie.created()) == 4
    for script in (one, two):
        conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
        assert conn.execute("SELECT count(*) FROM submissions").fetchone()[0] == 2
        conn.close()
