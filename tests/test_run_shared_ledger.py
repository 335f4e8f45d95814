"""End-to-end: the ledger named by SHOTC_LEDGER or `ledger = ...` in shotc.toml (cli.md,
promise 11): a PostgreSQL database or one shared SQLite file, through the real command line
against the fake kie.ai."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import psycopg
from fakekie import FakeKie
from fakekie.project import FAST_CONFIG, clips, shotc, write_project


def test_run_plan_status_on_postgresql(tmp_path: Path, kie: FakeKie, pg_url: str) -> None:
    script = write_project(tmp_path, scenes=4)
    env = {**kie.env(), "SHOTC_LEDGER": pg_url}
    first = shotc(["run", "film.shot"], env=env, cwd=tmp_path)
    assert first.code == 0, first.err
    assert clips(script) == [f"scene-{i}/take-1.mp4" for i in (1, 2, 3, 4)]
    assert not (tmp_path / ".shotc" / "ledger.sqlite").exists()  # the ledger is the server's
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT script, state FROM submissions").fetchall()
    assert Counter(rows) == {("film.shot", "success"): 4}

    again = shotc(["run", "film.shot"], env=env, cwd=tmp_path)
    assert again.code == 0, again.err
    assert len(kie.created()) == 4  # nothing paid twice
    plan = shotc(["plan", "film.shot", "--json"], env=env, cwd=tmp_path)
    states = Counter(s["state"] for s in json.loads(plan.out)["scenes"])
    assert states == {"done": 4}
    status = shotc(["status", "film.shot", "--json"], env=env, cwd=tmp_path)
    assert status.code == 0, status.err
    # Without the variable, this project has no ledger of its own: everything would be new.
    alone = shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
    assert Counter(s["state"] for s in json.loads(alone.out)["scenes"]) == {"new": 4}


def test_a_second_checkout_sees_the_first_ones_clips_as_paid(
    tmp_path: Path, kie: FakeKie, pg_url: str
) -> None:
    """Another machine (another directory) on the same ledger: nothing is sent again, and its
    run downloads the clips to its own render directory."""
    one = write_project(tmp_path / "one", scenes=3)
    two = write_project(tmp_path / "two", scenes=3)
    env = {**kie.env(), "SHOTC_LEDGER": pg_url}
    assert shotc(["run", "film.shot"], env=env, cwd=one.parent).code == 0
    second = shotc(["run", "film.shot"], env=env, cwd=two.parent)
    assert second.code == 0, second.err
    assert len(kie.created()) == 3
    assert clips(two) == clips(one) == [f"scene-{i}/take-1.mp4" for i in (1, 2, 3)]


def test_ledger_in_shotc_toml_is_one_sqlite_file(tmp_path: Path, kie: FakeKie) -> None:
    config = 'ledger = "../team/ledger.sqlite"\n' + FAST_CONFIG
    script = write_project(tmp_path / "film", scenes=2, config=config)
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=script.parent)
    assert result.code == 0, result.err
    assert (tmp_path / "team" / "ledger.sqlite").is_file()
    assert not (script.parent / ".shotc" / "ledger.sqlite").exists()
    assert len(clips(script)) == 2
    plan = shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=script.parent)
    assert Counter(s["state"] for s in json.loads(plan.out)["scenes"]) == {"done": 2}


def test_a_password_in_the_url_is_never_shown(tmp_path: Path, kie: FakeKie) -> None:
    write_project(tmp_path, scenes=1)
    # Nothing listens there: the error must name the ledger without its password.
    url = "postgresql://writer:hunter2-secret@127.0.0.1:9/film?connect_timeout=2"
    result = shotc(["plan", "film.shot"], env={**kie.env(), "SHOTC_LEDGER": url}, cwd=tmp_path)
    assert result.code != 0
    assert "hunter2-secret" not in result.out + result.err
    assert "writer:***@127.0.0.1:9/film" in result.err
