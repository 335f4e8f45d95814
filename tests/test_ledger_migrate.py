"""`shotc ledger migrate` (issue 11): a ledger with real content copied SQLite -> PostgreSQL ->
SQLite with every row of every table equal (ids included), counts printed, a target with other
records refused, a re-run accepted, the source's run lock respected, passwords never shown,
and a real project still done after its ledger moved to PostgreSQL.

Rows are read back here with sqlite3 and psycopg directly, not through the code under test."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from click.testing import CliRunner
from fakekie import FakeKie
from fakekie.project import shotc, write_project

from shotc.cli import main
from shotc.run import ledger_pg, ledger_schema
from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import Upload

Dump = dict[str, list[tuple[tuple[str, Any], ...]]]
NEW_SCENE: dict[str, Any] = dict(
    scene_key="key-new",
    take=1,
    script="film.shot",
    scene_id="n",
    film_title="Film",
    request="{}",
    seconds=5,
    mode="std",
    sound=False,
    est_credits=1.0,
)


def _rows(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    return sorted((tuple(sorted(r.items())) for r in rows), key=repr)


def dump_sqlite(path: Path) -> Dump:
    """Every row of every table of a SQLite ledger (SQLite's own tables aside)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: _rows([dict(r) for r in conn.execute(f"SELECT * FROM {n}")]) for n in names}
    finally:
        conn.close()


def dump_pg(url: str) -> Dump:
    """Every row of every table of a PostgreSQL ledger (its `shotc_*` bookkeeping aside)."""
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        names = [
            r["table_name"]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name NOT LIKE 'shotc_%'"
            )
        ]
        return {n: _rows(list(conn.execute(f"SELECT * FROM {n}"))) for n in names}


def fill(ledger: Ledger, root: Path) -> dict[str, int]:
    """Real content through the ledger's own API; the counts it should have."""

    def begin(scene: str, take: int = 1) -> int:
        return ledger.begin(
            scene_key=f"key-{scene}",
            take=take,
            script="film.shot",
            scene_id=scene,
            film_title="Film",
            request=json.dumps({"scene": scene}),
            seconds=5,
            mode="std",
            sound=scene == "b",
            est_credits=70.5,
        ).id

    a = begin("a")  # sending
    ledger.created(a, "task-a")  # waiting
    ledger.remote(a, "generating")
    ledger.remote(a, "success", result_urls=["https://x/a.mp4"], cost_time_ms=1234)
    b = begin("b")
    ledger.created(b, "task-b")
    ledger.remote(b, "fail", fail_code="500", fail_msg="no luck")
    b2 = begin("b", take=1)  # a new attempt after the failure
    ledger.not_sent(b2, "refused: 422")
    c = begin("c")
    ledger.unknown(c, "no answer")
    clip = root / "renders" / "film" / "a" / "take-1.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"clip a")
    ledger.record_download(a, clip, "d" * 64, 6)
    ledger.record_upload(
        Upload("e" * 64, "https://up", "https://up/e.png", "e.png", 10, 1000.5, 260000.25)
    )
    ledger.record_upload(Upload("f" * 64, "", "http://127.0.0.1/f", "f.png", 11, 1.0, 2.0))
    ledger.record_pick("film.shot", "a", ledger.get(a).version or "", 1, "std")
    move = ledger.plan_move(a, clip, clip.with_name("old.mp4"))
    ledger.finish_move(move, moved=False)
    frame = root / ".shotc" / "frames" / "a.png"
    ledger.record_last_frame("d" * 64, frame, "9" * 64, 99, "film.shot", "a")
    events = len(ledger.events(a) + ledger.events(b) + ledger.events(b2) + ledger.events(c))
    return {
        "tasks": 2,
        "submissions": 4,
        "events": events,
        "uploads": 2,
        "downloads": 1,
        "picks": 1,
        "last frames": 1,
        "moves": 1,
    }


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A project directory whose default ledger holds real content; its expected counts."""
    with Ledger(tmp_path / ".shotc" / "ledger.sqlite") as ledger:
        expected = fill(ledger, tmp_path)
    return tmp_path, expected


def migrate(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
    """`shotc ledger migrate ARGS` in-process, from `cwd`."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        mp.delenv("SHOTC_LEDGER", raising=False)
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        return CliRunner().invoke(main, ["ledger", "migrate", *args], prog_name="shotc")


def printed_counts(output: str) -> dict[str, tuple[int, int]]:
    return {
        m[1]: (int(m[2]), int(m[3]))
        for m in re.finditer(r"^([a-z ]+?)\s+(\d+)\s+(\d+)$", output, re.M)
    }


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def test_round_trip_sqlite_postgresql_sqlite_keeps_every_row(
    project: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    root, expected = project
    source = root / ".shotc" / "ledger.sqlite"
    original = dump_sqlite(source)
    assert set(original) >= {"submissions", "events", "downloads", "uploads", "picks", "moves"}

    there = migrate("--to", pg_url, cwd=root)
    assert there.exit_code == 0, there.output
    assert printed_counts(there.output) == {k: (n, n) for k, n in expected.items()}
    assert f"export SHOTC_LEDGER={pg_url}" in there.output.replace("'", "")
    assert dump_pg(pg_url) == original
    # the downloads' paths stayed relative to the project
    assert dict(original["downloads"][0])["path"] == "renders/film/a/take-1.mp4"

    back = root / "back" / "ledger.sqlite"
    again = migrate("--from", pg_url, "--to", str(back), cwd=root)
    assert again.exit_code == 0, again.output
    assert printed_counts(again.output) == {k: (n, n) for k, n in expected.items()}
    assert dump_sqlite(back) == original


def test_postgresql_ids_continue_after_the_copied_ones(
    project: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    root, _ = project
    assert migrate("--to", pg_url, cwd=root).exit_code == 0
    with Ledger(pg_url, root=root) as ledger:
        sid = ledger.begin(**NEW_SCENE).id
        move = ledger.plan_move(sid, root / "x.mp4", root / "y.mp4")
    assert sid == 5 and move.id == 2  # after the 4 submissions and 1 move copied
    rows = dump_pg(pg_url)
    assert max(dict(r)["id"] for r in rows["events"]) == len(rows["events"])


def test_tables_and_columns_of_a_later_migration_are_copied_too(
    project: tuple[Path, dict[str, int]], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A V6 this module has never heard of: a column on submissions, a table referencing it."""
    root, _ = project
    v6 = (
        "ALTER TABLE submissions ADD COLUMN claimed_by TEXT;"
        "CREATE TABLE claims (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " submission_id INTEGER NOT NULL REFERENCES submissions (id), until REAL NOT NULL)"
    )
    version = ledger_schema.SCHEMA_VERSION + 1
    monkeypatch.setattr(ledger_schema, "MIGRATIONS", [*ledger_schema.MIGRATIONS, v6])
    monkeypatch.setattr(ledger_schema, "SCHEMA_VERSION", version)
    pg = [*ledger_schema.PG_MIGRATIONS, ledger_schema.pg_ddl(v6)]
    monkeypatch.setattr(ledger_pg, "PG_MIGRATIONS", pg)
    monkeypatch.setattr(ledger_pg, "SCHEMA_VERSION", version)
    source = root / ".shotc" / "ledger.sqlite"
    with Ledger(source):
        pass  # migrated to V6
    conn = sqlite3.connect(source)
    with conn:
        conn.execute("UPDATE submissions SET claimed_by = 'machine-' || id")
        conn.executemany(
            "INSERT INTO claims (id, submission_id, until) VALUES (?, ?, ?)",
            [(7, 1, 1.5), (9, 3, 2.25)],
        )
    conn.close()
    original = dump_sqlite(source)
    there = migrate("--to", pg_url, cwd=root)
    assert there.exit_code == 0, there.output
    assert printed_counts(there.output)["claims"] == (2, 2)
    assert dump_pg(pg_url) == original
    back = root / "back.sqlite"
    assert migrate("--from", pg_url, "--to", str(back), cwd=root).exit_code == 0
    assert dump_sqlite(back) == original
    assert {dict(r)["claimed_by"] for r in original["submissions"]} == {
        f"machine-{i}" for i in range(1, 5)
    }


def test_a_copy_that_fails_half_way_leaves_the_target_empty(
    project: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    root, _ = project
    conn = sqlite3.connect(root / ".shotc" / "ledger.sqlite")
    with conn:  # SQLite keeps a NUL in text; PostgreSQL refuses it, after the submissions
        conn.execute("UPDATE uploads SET name = ? WHERE base = ''", ("bad\x00name",))
    conn.close()
    failed = migrate("--to", pg_url, cwd=root)
    assert failed.exit_code == 4, failed.output
    assert "NUL" in failed.output
    assert all(rows == [] for rows in dump_pg(pg_url).values())
    assert "submissions" in dump_pg(pg_url)  # the schema was made: only the records rolled back


def test_a_target_with_other_records_is_refused_and_left_alone(
    project: tuple[Path, dict[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root, _ = project
    other_root = tmp_path_factory.mktemp("other")
    other = other_root / ".shotc" / "ledger.sqlite"
    with Ledger(other) as ledger:
        ledger.begin(**NEW_SCENE)
    before = dump_sqlite(other)
    result = migrate("--to", str(other), cwd=root)
    assert result.exit_code == 2, result.output
    assert "holds records already" in result.output and "not merged" in result.output
    assert dump_sqlite(other) == before


def test_a_rerun_into_the_same_records_is_harmless(
    project: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    root, expected = project
    assert migrate("--to", pg_url, cwd=root).exit_code == 0
    copied = dump_pg(pg_url)
    again = migrate("--to", pg_url, cwd=root)
    assert again.exit_code == 0, again.output
    assert "held exactly the source's records already: nothing written" in again.output
    assert printed_counts(again.output)["events"] == (expected["events"],) * 2
    assert dump_pg(pg_url) == copied


def test_the_source_itself_and_a_missing_source_are_refused(tmp_path: Path) -> None:
    missing = migrate("--to", "new.sqlite", cwd=tmp_path)
    assert missing.exit_code == 4 and "nothing to migrate" in missing.output
    assert not (tmp_path / ".shotc").exists()  # no empty ledger left behind
    with Ledger(tmp_path / ".shotc" / "ledger.sqlite"):
        pass
    itself = migrate("--to", ".shotc/ledger.sqlite", cwd=tmp_path)
    assert itself.exit_code == 2 and "the source ledger itself" in itself.output


def test_a_run_holding_the_source_lock_makes_it_refuse(
    project: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    root, _ = project
    with Ledger(root / ".shotc" / "ledger.sqlite") as ledger:
        lock = ledger.try_run_lock()
        assert lock is not None
        with lock:
            # another process, as a run would be: the flock is per open file
            busy = shotc(["ledger", "migrate", "--to", pg_url], env={}, cwd=root)
    assert busy.code == 4, busy.err
    assert "a `shotc run` is writing to it" in busy.err
    assert dump_pg(pg_url) == {}  # not even the schema: the target was never opened


def test_the_source_in_force_comes_from_shotc_toml_and_the_file_argument(
    project: tuple[Path, dict[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root, expected = project
    elsewhere = tmp_path_factory.mktemp("cwd")
    (root / "film.shot").write_text("Title: Film\n")
    (root / "shared.sqlite").unlink(missing_ok=True)
    # the default ledger beside FILE, from another directory
    first = migrate("--to", str(root / "shared.sqlite"), str(root / "film.shot"), cwd=elsewhere)
    assert first.exit_code == 0, first.output
    assert 'ledger = "shared.sqlite"' in first.output
    # now shotc.toml names that file: it is the source, and a copy of it is the same records
    (root / "shotc.toml").write_text('ledger = "shared.sqlite"\n')
    second = migrate("--to", str(elsewhere / "copy.sqlite"), str(root / "film.shot"), cwd=elsewhere)
    assert second.exit_code == 0, second.output
    assert f"source: {root / 'shared.sqlite'} (sqlite)" in second.output
    assert printed_counts(second.output)["submissions"] == (expected["submissions"],) * 2
    assert dump_sqlite(elsewhere / "copy.sqlite") == dump_sqlite(root / ".shotc/ledger.sqlite")


def test_a_password_in_a_url_is_never_printed(
    project: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    root, _ = project
    secret = "Sup3rSecretPw"
    url = with_password(pg_url, secret)  # the test server trusts the socket: any password
    done = shotc(["ledger", "migrate", "--to", url], env={}, cwd=root)
    assert done.code == 0, done.err
    assert secret not in done.out + done.err
    assert with_password(pg_url, "***") in done.out  # the target, and how to switch to it
    rerun = shotc(["ledger", "migrate", "--to", url], env={}, cwd=root)
    assert rerun.code == 0 and secret not in rerun.out + rerun.err
    # refused (it holds other records), and a server that refuses: named, without the password
    with Ledger(root / "other" / "ledger.sqlite") as other:
        fill(other, root / "other")
        other.not_sent(other.begin(**NEW_SCENE).id, "one more")
    refused = shotc(
        ["ledger", "migrate", "--from", "other/ledger.sqlite", "--to", url], env={}, cwd=root
    )
    assert refused.code == 2 and "holds records already" in refused.err
    assert secret not in refused.out + refused.err
    wrong = urlsplit(url)._replace(path="/nosuchdb").geturl()
    failed = shotc(["ledger", "migrate", "--from", wrong, "--to", "b.sqlite"], env={}, cwd=root)
    assert failed.code == 4 and "cannot connect" in failed.err
    assert secret not in failed.out + failed.err
    back = shotc(["ledger", "migrate", "--to", "back.sqlite"], env={"SHOTC_LEDGER": url}, cwd=root)
    assert back.code == 0, back.err
    assert secret not in back.out + back.err


def test_a_real_runs_ledger_reads_the_same_on_postgresql(
    tmp_path: Path, kie: FakeKie, pg_url: str
) -> None:
    """What the commands read, through the ledger's API: the same scenes, done, with the
    clips on disk found by their stored (relative) paths."""
    write_project(tmp_path, scenes=3)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    moved = shotc(["ledger", "migrate", "--to", pg_url, "film.shot"], env={}, cwd=tmp_path)
    assert moved.code == 0, moved.err
    counts = printed_counts(moved.out)
    assert counts["tasks"] == counts["submissions"] == counts["downloads"] == (3, 3)
    assert counts["uploads"] == (5, 5)  # 3 first frames and the element's 2 images
    with (
        Ledger(tmp_path / ".shotc" / "ledger.sqlite") as here,
        Ledger(pg_url, root=tmp_path) as there,
    ):
        latest = here.all_latest()
        assert there.all_latest() == latest
        assert {s.state for s in latest} == {"success"}
        for sub in latest:
            assert there.downloads(sub.id) == here.downloads(sub.id)
            assert [Path(d.path).is_file() for d in there.downloads(sub.id)] == [True]
            assert there.events(sub.id) == here.events(sub.id)


def test_a_real_project_is_still_done_after_its_ledger_moved_to_postgresql(
    tmp_path: Path, kie: FakeKie, pg_url: str
) -> None:
    script = write_project(tmp_path, scenes=3)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    created = len(kie.created())
    plan = shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
    status = shotc(["status", "film.shot", "--json", "--no-refresh"], env=kie.env(), cwd=tmp_path)
    assert plan.code == 0 and status.code == 0
    states = {s["scene_id"]: s["state"] for s in json.loads(plan.out)["scenes"]}
    assert set(states.values()) == {"done"}

    moved = shotc(["ledger", "migrate", "--to", pg_url, "film.shot"], env={}, cwd=tmp_path)
    assert moved.code == 0, moved.err
    assert printed_counts(moved.out)["tasks"] == (3, 3)
    # the SQLite file set aside: whatever the commands show now comes from PostgreSQL
    ledger = script.parent / ".shotc" / "ledger.sqlite"
    ledger.rename(ledger.with_name("set-aside.sqlite"))
    on_pg = {**kie.env(), "SHOTC_LEDGER": pg_url}
    plan_pg = shotc(["plan", "film.shot", "--json"], env=on_pg, cwd=tmp_path)
    status_pg = shotc(["status", "film.shot", "--json", "--no-refresh"], env=on_pg, cwd=tmp_path)
    assert plan_pg.code == 0, plan_pg.err
    assert status_pg.code == 0, status_pg.err
    assert json.loads(plan_pg.out) == json.loads(plan.out)
    assert json.loads(status_pg.out) == json.loads(status.out)
    again = shotc(["run", "film.shot"], env=on_pg, cwd=tmp_path)
    assert again.code == 0, again.err
    assert len(kie.created()) == created  # nothing sent again
