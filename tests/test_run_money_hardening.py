"""`shotc run` must never pay for what it cannot keep or track (issue 7, cli.md promises 2, 3
and 9): a ledger write failing mid-run, the preflight of clip paths, damaged ledgers, SIGTERM,
bad `--take`, and `plan` after a kill. Each test drives the real command line against the fake
kie.ai and asserts what the user sees (exit code, message) and what the fake received."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from fakekie import FakeKie
from fakekie.project import FAST_CONFIG, clips, shotc, spawn, write_project

from shotc.run import commands, recovery
from shotc.run.ledger import Ledger, LedgerWriteFailed

LIMITED = FAST_CONFIG.replace("[run]\n", "[run]\nrate_limit = 4\nrate_period = 0.5\n")


def ledger_ids(root: Path) -> set[str]:
    conn = sqlite3.connect(root / ".shotc" / "ledger.sqlite")
    try:
        return {r[0] for r in conn.execute("SELECT task_id FROM submissions") if r[0]}
    finally:
        conn.close()


def states(root: Path) -> Counter[str]:
    conn = sqlite3.connect(root / ".shotc" / "ledger.sqlite")
    try:
        return Counter(r[0] for r in conn.execute("SELECT state FROM submissions"))
    finally:
        conn.close()


def created_ids(kie: FakeKie) -> set[str]:
    return {str(r.task_id) for r in kie.created()}


# -- 1. a ledger write that fails mid-run ------------------------------------------------------


def test_disk_full_mid_run_stops_sending_and_the_next_run_follows_every_paid_task(
    tmp_path: Path,
) -> None:
    """RLIMIT_FSIZE on the child: the ledger's WAL hits it after a few transactions (the clips
    and the recovery file are far smaller, so they still fit, as on a nearly full disk)."""
    script = write_project(tmp_path, scenes=12, config=LIMITED)
    Ledger(tmp_path / ".shotc" / "ledger.sqlite").close()  # the WAL starts empty in the child
    limit = 120_000

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with FakeKie() as kie:
        kie.slow_create = 0.3
        proc = subprocess.run(
            [sys.executable, "-m", "shotc", "run", "film.shot"],
            cwd=tmp_path,
            env={**os.environ, **kie.env()},
            capture_output=True,
            text=True,
            preexec_fn=small_files,
            timeout=60,
        )
        assert proc.returncode == 4, proc.stderr
        assert "Traceback" not in proc.stderr
        assert "no new submissions in this run" in proc.stderr
        paid = created_ids(kie)
        # No further createTask after the failure: at most the POSTs already in flight.
        assert 1 <= len(paid) <= 4
        unrecorded = paid - ledger_ids(tmp_path)
        saved, _bad = recovery.read(tmp_path / ".shotc" / "ledger.sqlite")
        assert unrecorded <= {e.task_id for e in saved}
        for task_id in unrecorded:  # printed at once, with the file that keeps it
            assert f"task {task_id} was created (paid)" in proc.stderr
        assert states(tmp_path)["unknown"] == 0  # an answered POST is never unknown

        again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert again.code == 0, again.err
        assert len(clips(script)) == 12
        assert set(Counter(kie.prompts_created()).values()) == {1}  # nothing paid twice
        assert paid <= ledger_ids(tmp_path), again.err
        assert not (tmp_path / ".shotc" / recovery.RECOVERY_NAME).exists()


def test_unrecorded_task_id_is_saved_printed_and_followed_by_status_and_run(
    tmp_path: Path, kie: FakeKie, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failing write is exactly the one after the answer (in-process, deterministic)."""
    script = write_project(tmp_path, scenes=3, config=FAST_CONFIG + "rate_limit = 1\n")
    for name, value in kie.env().items():
        monkeypatch.setenv(name, value)
    real = Ledger.created

    def full(self: Ledger, sid: int, task_id: str) -> None:
        self.failed = LedgerWriteFailed(f"ledger {self.path}: database or disk is full")
        raise self.failed

    monkeypatch.setattr(Ledger, "created", full)
    out, err = io.StringIO(), io.StringIO()
    assert commands.run(commands.RunRequest(files=[script]), commands.Streams(out, err)) == 4
    assert len(kie.created()) == 1  # the other two were never sent
    task_id = str(kie.created()[0].task_id)
    assert f"task {task_id} was created (paid)" in err.getvalue()
    text = (tmp_path / ".shotc" / recovery.RECOVERY_NAME).read_text()
    assert task_id in text
    monkeypatch.setattr(Ledger, "created", real)

    plan = shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
    shown = Counter(s["state"] for s in json.loads(plan.out)["scenes"])
    assert shown == {"running": 1, "new": 2}, plan.out  # not `unknown`, not `sending`

    status = shotc(["status", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert status.code == 0 and "recorded from the recovery file" in status.err
    assert task_id in ledger_ids(tmp_path)
    again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert again.code == 0, again.err
    assert len(clips(script)) == 3 and len(kie.created()) == 3


def test_recovery_file_falls_back_when_the_ledger_directory_cannot_take_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    ledger_path = tmp_path / "p" / ".shotc" / "ledger.sqlite"
    with Ledger(ledger_path) as ledger:
        sid = ledger.begin(
            scene_key="k",
            take=1,
            script="a.shot",
            scene_id="a",
            film_title="",
            request="{}",
            seconds=4,
            mode="std",
            sound=False,
            est_credits=1.0,
        ).id
    primary = recovery.locations(ledger_path)[0]
    primary.mkdir()  # a directory where the file should be: that location refuses it
    where = recovery.save(ledger_path, [recovery.Entry("t-1", sid, "k", 1, "a")])
    assert where is not None and where.is_relative_to(tmp_path / "state")
    with Ledger(ledger_path) as ledger:
        assert [e.task_id for e in recovery.apply(ledger, print)] == ["t-1"]
        assert ledger.get(sid).task_id == "t-1" and ledger.get(sid).state == "waiting"
    assert not where.exists()


# -- 2. preflight before the first createTask --------------------------------------------------


@pytest.mark.parametrize("out", ["a-file", "/proc/self", "a-file/below"])
def test_unwritable_render_directory_is_exit_4_before_anything_is_sent(
    tmp_path: Path, kie: FakeKie, out: str
) -> None:
    write_project(tmp_path, scenes=2)
    (tmp_path / "a-file").write_text("not a directory")
    result = shotc(["run", "film.shot", "-o", out], env=kie.env(), cwd=tmp_path)
    assert result.code == 4, result.err
    assert "nothing was sent" in result.err and "Traceback" not in result.err
    assert (kie.creates == [] and kie.uploads == {}) or not kie.creates


def test_clip_names_that_do_not_fit_the_file_system_are_exit_4_before_sending(
    tmp_path: Path, kie: FakeKie
) -> None:
    write_project(tmp_path, scenes=1)
    deep = tmp_path / ("d" * 200) / ("e" * 200)
    # Scene ids are at most 120 characters (E214): a render directory path near PATH_MAX is
    # what can still make a clip's temporary name too long.
    parts = [("x" * 250)] * 15
    out = Path(deep, *parts)
    result = shotc(["run", "film.shot", "-o", str(out)], env=kie.env(), cwd=tmp_path)
    assert result.code == 4, result.err
    assert "nothing was sent" in result.err and kie.creates == []


def test_script_named_dot_dot_renders_inside_the_renders_directory(
    tmp_path: Path, kie: FakeKie
) -> None:
    project = tmp_path / "project"
    write_project(project, scenes=1)
    (project / "film.shot").rename(project / "...shot")  # stem `..`
    result = shotc(["run", "...shot"], env=kie.env(), cwd=project)
    assert result.code == 0, result.err
    rendered = project / "renders" / "__"
    assert [p.relative_to(rendered).as_posix() for p in rendered.rglob("*.mp4")] == [
        "scene-1/take-1.mp4"
    ]
    assert not list(project.glob("*.mp4")) and not list(tmp_path.glob("*.mp4"))


# -- 3. damaged ledgers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the ledger is empty: restore it or remove it"),
        (b"this is not a database" * 100, "not a readable shotc ledger"),
        (b"SQLite format 3\x00" + b"\xff" * 5000, "restore it"),
    ],
)
def test_empty_or_damaged_ledger_is_refused(
    tmp_path: Path, kie: FakeKie, content: bytes, message: str
) -> None:
    write_project(tmp_path, scenes=2)
    (tmp_path / ".shotc").mkdir()
    (tmp_path / ".shotc" / "ledger.sqlite").write_bytes(content)
    for args in (["run", "film.shot"], ["plan", "film.shot"], ["status", "film.shot"]):
        result = shotc(args, env=kie.env(), cwd=tmp_path)
        assert result.code == 4, (args, result.err)
        assert message in result.err and "Traceback" not in result.err
    assert kie.creates == []
    assert (tmp_path / ".shotc" / "ledger.sqlite").read_bytes() == content  # left alone


def test_another_programs_sqlite_database_is_not_taken_for_a_ledger(
    tmp_path: Path, kie: FakeKie
) -> None:
    write_project(tmp_path, scenes=1)
    (tmp_path / ".shotc").mkdir()
    conn = sqlite3.connect(tmp_path / ".shotc" / "ledger.sqlite")
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert result.code == 4 and "not a shotc ledger" in result.err
    assert kie.creates == []


# -- 4. SIGTERM, and `plan` after a kill -------------------------------------------------------


def test_sigterm_lets_in_flight_posts_finish_and_exits_143(tmp_path: Path) -> None:
    with FakeKie() as kie:
        script = write_project(tmp_path, config=LIMITED)
        kie.slow_create = 0.5
        proc = spawn(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        deadline = time.monotonic() + 30
        while len(kie.creates) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 143, err
        assert "Traceback" not in err and "stopping" in err
        got = states(tmp_path)
        assert got["sending"] == 0 and got["unknown"] == 0
        assert created_ids(kie) <= ledger_ids(tmp_path)
        kie.slow_create = 0.0
        again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert again.code == 0, again.err
        assert set(Counter(kie.prompts_created()).values()) == {1} and len(clips(script)) == 12


def test_plan_after_a_kill_mid_post_shows_unknown_not_sending(tmp_path: Path) -> None:
    with FakeKie() as kie:
        write_project(tmp_path, scenes=1)
        kie.slow_create = 5.0
        proc = spawn(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        deadline = time.monotonic() + 30
        while not kie.creates and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert states(tmp_path)["sending"] == 1
        plan = shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
        doc = json.loads(plan.out)
        assert [s["state"] for s in doc["scenes"]] == ["unknown"] and doc["to_send"] == 0
        table = shotc(["plan", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert "sending" not in table.out


# -- 5. no tracebacks --------------------------------------------------------------------------


@pytest.mark.parametrize("take", ["9223372036854775808", "-9223372036854775809", "0", "1000"])
def test_out_of_range_take_is_a_usage_error(tmp_path: Path, kie: FakeKie, take: str) -> None:
    write_project(tmp_path, scenes=1)
    for command in ("run", "plan"):
        result = shotc([command, "film.shot", "--take", take], env=kie.env(), cwd=tmp_path)
        assert result.code == 2, result.err
        assert "Traceback" not in result.err
    assert kie.creates == []


def test_sigint_while_starting_up_is_130_without_a_traceback(tmp_path: Path, kie: FakeKie) -> None:
    """The signal lands while the command loads its modules (delays spread over start-up)."""
    write_project(tmp_path, scenes=1)
    kie.slow_create = 3.0  # the run is still going whenever the signal lands after start-up
    codes: list[int] = []
    for delay in (0.15, 0.3, 0.45, 0.6, 0.8, 1.5):
        proc = spawn(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        assert "Traceback" not in err, err
        # 130 from shotc; 0 when the run was already over (the scene is done); 1 "Aborted!"
        # when it lands inside click's own parsing, which turns Ctrl-C into exit 1; -2 when
        # it lands before the interpreter has installed its handler (the default action).
        assert proc.returncode in (130, 0, 1, -signal.SIGINT), (delay, proc.returncode, err)
        codes.append(proc.returncode)
    assert 130 in codes


@pytest.mark.parametrize(
    "damage", ["lock is a directory", ".shotc is a file", "ledger is a directory"]
)
def test_local_damage_is_exit_4_with_a_message(tmp_path: Path, kie: FakeKie, damage: str) -> None:
    write_project(tmp_path, scenes=1)
    shotc_dir = tmp_path / ".shotc"
    if damage == ".shotc is a file":
        shotc_dir.write_text("")
    else:
        shotc_dir.mkdir()
        name = "run.lock" if damage == "lock is a directory" else "ledger.sqlite"
        (shotc_dir / name).mkdir()
    # (`status` finds no ledger in a `.shotc` that is a file: nothing to show, exit 0.)
    argv = [["run", "film.shot"]] + [["status", "film.shot"]] * ("file" not in damage)
    for args in argv:
        result = shotc(args, env=kie.env(), cwd=tmp_path)
        assert result.code == 4, (args, result.err)
        assert "Traceback" not in result.err and "internal error" not in result.out
    assert kie.creates == []
