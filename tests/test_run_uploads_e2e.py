"""End-to-end: cached uploads that kie.ai can no longer fetch, through the real `shotc`
command line against a fake kie.ai on 127.0.0.1 (a new server, files it dropped, a V1 ledger)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

from fakekie import FakeKie
from fakekie.project import shotc, write_project

from shotc.run.ledger_schema import SCHEMA_VERSION

UPLOAD = "/api/file-stream-upload"


def upload_count(kie: FakeKie) -> int:
    return sum(1 for _method, path in kie.requests if path == UPLOAD)


def query(script: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_new_server_gets_fresh_uploads_and_one_task_per_scene(tmp_path: Path) -> None:
    write_project(tmp_path, scenes=6)
    with FakeKie() as old:
        assert shotc(["run", "film.shot", "--mode", "pro"], env=old.env(), cwd=tmp_path).code == 0
        assert upload_count(old) == 8  # six first frames, the element's two images
    # A new server (another KIE_UPLOAD_BASE) has none of them: the std drafts need them all.
    with FakeKie() as kie:
        result = shotc(["run", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
        assert result.code == 0, result.err + result.out
        assert {s["outcome"] for s in json.loads(result.out)["scenes"]} == {"done"}
        assert upload_count(kie) == 8
        # The cache is per upload base, so not even one createTask went out with a dead URL.
        assert kie.outcomes() == {"created": 6}
        assert set(Counter(kie.prompts_created()).values()) == {1}
    # Every scene is done now: a run against yet another server sends and uploads nothing.
    with FakeKie() as third:
        again = shotc(["run", "film.shot"], env=third.env(), cwd=tmp_path)
        assert again.code == 0 and "6 cached" in again.out
        assert third.creates == [] and upload_count(third) == 0


def test_uploads_the_server_lost_are_redone_in_the_same_run(tmp_path: Path) -> None:
    script = write_project(tmp_path, scenes=6)
    with FakeKie() as kie:
        assert shotc(["run", "film.shot", "--mode", "pro"], env=kie.env(), cwd=tmp_path).code == 0
        kie.forget_uploads()  # kie.ai dropped them before the documented 3 days
        before = len(kie.creates)
        result = shotc(["run", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
        assert result.code == 0, result.err + result.out
        assert {s["outcome"] for s in json.loads(result.out)["scenes"]} == {"done"}
        # Each scene refused once for its cached URLs, then sent once more and created.
        second_run = Counter(c.outcome for c in kie.creates[before:])
        assert second_run == {"422": 6, "created": 6}
        assert [c.body["input"]["mode"] for c in kie.created()].count("std") == 6
        # Every file uploaded again exactly once, although two scenes share the element.
        assert upload_count(kie) == 16
    # One submission per scene: sending -> retrying (refused, nothing created) -> sending.
    rows = query(script, "SELECT id, attempts, state FROM submissions WHERE mode = 'std'")
    assert len(rows) == 6 and {(r[1], r[2]) for r in rows} == {(2, "success")}
    events = query(
        script,
        f"SELECT from_state, to_state FROM events WHERE submission_id = {rows[0][0]} "
        "AND to_state != 'downloaded' ORDER BY id",
    )
    assert events[:4] == [
        (None, "sending"),
        ("sending", "retrying"),
        ("retrying", "sending"),
        ("sending", "waiting"),
    ]


def test_refused_again_is_reported_and_the_next_run_uploads_first(tmp_path: Path) -> None:
    script = write_project(tmp_path, scenes=3)
    with FakeKie() as kie:
        assert shotc(["run", "film.shot", "--mode", "pro"], env=kie.env(), cwd=tmp_path).code == 0
        kie.refuse_uploads = True  # even a fresh upload cannot be fetched
        before = len(kie.creates)
        refused = shotc(["run", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
        assert refused.code == 3
        scenes = json.loads(refused.out)["scenes"]
        assert {s["outcome"] for s in scenes} == {"refused"}
        assert all("cannot fetch" in s["message"] for s in scenes)
        assert Counter(c.outcome for c in kie.creates[before:]) == {"422": 6}  # one retry each
        assert query(
            script, "SELECT DISTINCT attempts, state FROM submissions WHERE mode = 'std'"
        ) == [(2, "not_sent")]
        # Nothing it sent is trusted any more: the next run uploads before sending, once.
        assert query(script, "SELECT COUNT(*) FROM uploads") == [(0,)]
        kie.refuse_uploads = False
        uploads, before = upload_count(kie), len(kie.creates)
        fixed = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert fixed.code == 0, fixed.err + fixed.out
        assert Counter(c.outcome for c in kie.creates[before:]) == {"created": 3}
        assert upload_count(kie) - uploads == 5


def to_v1(script: Path) -> None:
    """Turn the ledger back into what shotc wrote before uploads were keyed by base."""
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    conn.executescript(
        "CREATE TABLE old_uploads (sha256 TEXT PRIMARY KEY, url TEXT NOT NULL, name TEXT NOT "
        "NULL, size INTEGER NOT NULL, uploaded_at REAL NOT NULL, expires_at REAL NOT NULL);"
        "INSERT INTO old_uploads SELECT sha256, url, name, size, uploaded_at, expires_at "
        "FROM uploads; DROP TABLE uploads; ALTER TABLE old_uploads RENAME TO uploads;"
        # and without what later versions added (V4: versions, picks, moves; V5: last frames;
        # V6: claims)
        "DROP INDEX submissions_live; ALTER TABLE submissions DROP COLUMN owner;"
        "ALTER TABLE submissions DROP COLUMN posted_at;"
        "ALTER TABLE submissions DROP COLUMN lease_until;"
        "DROP INDEX submissions_version; ALTER TABLE submissions DROP COLUMN version;"
        "DROP TABLE picks; DROP TABLE moves; DROP TABLE last_frames;"
        "PRAGMA user_version = 1;"
    )
    conn.close()


def test_v1_ledger_is_migrated_keeping_submissions_and_uploads(tmp_path: Path) -> None:
    script = write_project(tmp_path, scenes=3)
    with FakeKie() as kie:
        assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
        to_v1(script)
        submissions = query(script, "SELECT id, scene_key, state, task_id FROM submissions")
        uploads = query(script, "SELECT sha256, url FROM uploads ORDER BY sha256")
        again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert again.code == 0, again.err
        assert "3 cached" in again.out and len(kie.created()) == 3
        assert query(script, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert query(script, "SELECT id, scene_key, state, task_id FROM submissions") == (
            submissions
        )
        # Kept, under '' because plain-http URLs only ever came from a test server.
        assert query(script, "SELECT sha256, url FROM uploads ORDER BY sha256") == uploads
        assert {r[0] for r in query(script, "SELECT base FROM uploads")} == {""}
