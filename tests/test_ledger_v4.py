"""Ledger V4 (the film): the version key, the migration from a V3 ledger with data (nothing
lost; SQLite only, as no PostgreSQL ledger predates V5), picks and the moves journal (on
both backends)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from ledgerkit import begin

from shotc.run.ledger import Ledger
from shotc.run.ledger_schema import MIGRATIONS, SCHEMA_VERSION
from shotc.run.scene_key import canonical_json, scene_key, version_key, version_of_canonical


def request(prompt: str, mode: str = "std", image: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"prompt": prompt, "mode": mode, "duration": "5", "sound": False}
    if image:
        body["image_urls"] = [image]
    return {"model": "kling-3.0/video", "input": body}


@given(st.text(min_size=1, max_size=40), st.sampled_from(["std", "pro", "4K"]))
def test_version_ignores_mode_but_the_scene_key_does_not(prompt: str, mode: str) -> None:
    def digest(_p: Path) -> str:
        return "0" * 64

    std, other = request(prompt), request(prompt, mode)
    assert version_key(std, digest) == version_key(other, digest)
    assert (scene_key(std, digest)[0] == scene_key(other, digest)[0]) == (mode == "std")
    assert version_key(std, digest) != version_key(request(prompt + "!"), digest)
    # the same as from the canonical JSON the ledger stores
    assert version_key(other, digest) == version_of_canonical(scene_key(other, digest)[1])


def test_version_follows_media_content(tmp_path: Path) -> None:
    img = tmp_path / "a.png"
    img.write_bytes(b"one")
    from shotc.run.scene_key import file_digest

    first = version_key(request("x", image=img.as_uri()), file_digest)
    img.write_bytes(b"two")
    assert version_key(request("x", image=img.as_uri()), file_digest) != first


def v3_ledger(path: Path) -> None:
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    for version in range(3):
        for statement in MIGRATIONS[version].split(";"):
            if statement.strip():
                conn.execute(statement, {"root": str(path.parent.parent)})
    conn.execute("PRAGMA user_version = 3")
    for i, (prompt, mode) in enumerate([("dawn", "std"), ("dawn", "pro"), ("dusk", "std")], 1):
        canonical = canonical_json(request(prompt, mode))
        conn.execute(
            "INSERT INTO submissions (scene_key, take, script, scene_id, film_title, state,"
            " task_id, request, seconds, mode, sound, est_credits, attempts, created_at,"
            " updated_at, result_urls) VALUES (?, 1, 'film.shot', ?, 'F', 'success', ?, ?, 5,"
            " ?, 0, 9.0, 1, 1.0, 2.0, '[\"https://cdn/x.mp4\"]')",
            (f"k{i}", prompt, f"task_{i}", canonical, mode),
        )
        conn.execute(
            "INSERT INTO events (submission_id, at, to_state) VALUES (?, 1.0, 'success')", (i,)
        )
        conn.execute(
            "INSERT INTO downloads VALUES (?, ?, 'abc', 4, 1, 1.0)", (i, f"renders/film/{i}.mp4")
        )
    conn.execute("INSERT INTO uploads VALUES ('d1', 'https://b', 'https://u/1', 'a.png', 3, 1, 9)")
    conn.commit()
    conn.close()


def dump(path: Path, table: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
    finally:
        conn.close()


def test_migration_from_v3_keeps_everything_and_adds_versions(tmp_path: Path) -> None:
    """SQLite only: a file written by an older shotc."""
    path = tmp_path / "project" / ".shotc" / "ledger.sqlite"
    v3_ledger(path)
    before = {t: dump(path, t) for t in ("submissions", "events", "downloads", "uploads")}
    with Ledger(path) as ledger:
        subs = [ledger.get(i) for i in (1, 2, 3)]
        assert [s.task_id for s in subs] == ["task_1", "task_2", "task_3"]
        assert subs[0].version == subs[1].version != subs[2].version
        assert subs[0].version == version_of_canonical(subs[0].request)
        assert [len(ledger.downloads(i)) for i in (1, 2, 3)] == [1, 1, 1]
        assert ledger.picks("film.shot") == {}
        assert ledger.moves() == []
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    after = {t: dump(path, t) for t in ("submissions", "events", "downloads", "uploads")}
    # every old column of every row as it was; the submissions gained only their version (V4)
    # and the V6 claim columns (owner, posted_at, lease_until: none of these rows is sending)
    width = len(before["submissions"][0])
    assert [row[:width] for row in after["submissions"]] == before["submissions"]
    assert {row[width + 1 :] for row in after["submissions"]} == {(None, None, None)}
    for table in ("events", "downloads", "uploads"):
        assert after[table] == before[table]
    # opening again migrates nothing more
    with Ledger(path) as ledger:
        assert ledger.get(3).version == subs[2].version


def test_new_submissions_record_their_version(ledger_where: Path | str, tmp_path: Path) -> None:
    with Ledger(ledger_where, root=tmp_path) as ledger:
        canonical = canonical_json(request("dawn", "pro"))
        sid = ledger.begin(
            scene_key="k",
            take=1,
            script="film.shot",
            scene_id="dawn",
            film_title="F",
            request=canonical,
            seconds=5,
            mode="pro",
            sound=False,
            est_credits=1.0,
        ).id
        assert ledger.get(sid).version == version_of_canonical(canonical_json(request("dawn")))


def test_picks_replace_and_are_kept_per_scene(ledger_where: Path | str, tmp_path: Path) -> None:
    with Ledger(ledger_where, root=tmp_path) as ledger:
        ledger.record_pick("film.shot", "dawn", "v1", 2, "std")
        ledger.record_pick("film.shot", "dusk", "v9", 1, "pro")
        ledger.record_pick("film.shot", "dawn", "v1", 3, "std")
        picks = ledger.picks("film.shot")
        assert {k: (p.version, p.take, p.mode) for k, p in picks.items()} == {
            "dawn": ("v1", 3, "std"),
            "dusk": ("v9", 1, "pro"),
        }
        assert ledger.picks("other.shot") == {}


def test_moves_journal_follows_downloads(ledger_where: Path | str, tmp_path: Path) -> None:
    root = tmp_path
    with Ledger(ledger_where, root=root) as ledger:
        sid = ledger.begin(
            scene_key="k",
            take=1,
            script="film.shot",
            scene_id="dawn",
            film_title="F",
            request=json.dumps({}),
            seconds=5,
            mode="std",
            sound=False,
            est_credits=1.0,
        ).id
        old = root / "renders" / "film" / "dawn.mp4"
        old.parent.mkdir(parents=True)
        old.write_bytes(b"clip")
        ledger.record_download(sid, old, "d" * 64, 4)
        new = root / "renders" / "film" / "dawn" / "take-1.mp4"
        move = ledger.plan_move(sid, old, new)
        assert ledger.unfinished_moves() == [move]
        assert move.old_path == str(old.resolve()) and move.new_path == str(new.resolve())
        ledger.finish_move(move)
        assert ledger.unfinished_moves() == []
        assert [d.path for d in ledger.downloads(sid)] == [str(new.resolve())]
        assert ledger.events(sid)[-1].to_state == "moved"


def test_last_frames_are_recorded_replaced_and_the_latest_found(
    ledger_where: Path | str, tmp_path: Path
) -> None:
    """V5 (continuity): a frame per clip content and path; the latest per source scene."""
    with Ledger(ledger_where, root=tmp_path) as ledger:
        first, second = tmp_path / "frames" / "a-1.png", tmp_path / "frames" / "a-2.png"
        assert ledger.last_frame("c1", first) is None
        assert ledger.latest_last_frame("film.shot", "a") is None
        ledger.record_last_frame("c1", first, "p1", 10, "film.shot", "a")
        ledger.record_last_frame("c2", second, "p2", 20, "film.shot", "a")
        found = ledger.last_frame("c1", first)
        assert found is not None and (found.path, found.sha256) == (str(first), "p1")
        latest = ledger.latest_last_frame("film.shot", "a")
        assert latest is not None and latest.clip_sha256 == "c2"
        # the first frame again (its PNG written anew): it replaces its record, now the latest
        ledger.record_last_frame("c1", first, "p1b", 11, "film.shot", "a")
        again = ledger.last_frame("c1", first)
        assert again is not None and (again.sha256, again.size) == ("p1b", 11)
        latest = ledger.latest_last_frame("film.shot", "a")
        assert latest is not None and latest.clip_sha256 == "c1"
        assert ledger.latest_last_frame("film.shot", "b") is None


def test_a_move_that_did_not_happen_leaves_the_downloads(
    ledger_where: Path | str, tmp_path: Path
) -> None:
    with Ledger(ledger_where, root=tmp_path) as ledger:
        old, new = tmp_path / "a.mp4", tmp_path / "a" / "take-1.mp4"
        old.write_bytes(b"clip")
        sid = begin(ledger, key="k", scene_id="dawn", mode="std", est_credits=1.0)
        ledger.record_download(sid, old, "d", 4)
        move = ledger.plan_move(sid, old, new)
        second = ledger.plan_move(None, old, tmp_path / "b.mp4")
        assert move.id != second.id and ledger.unfinished_moves() == [move, second]
        ledger.finish_move(move, moved=False)
        assert [d.path for d in ledger.downloads(sid)] == [str(old)]
        assert ledger.unfinished_moves() == [second] and len(ledger.moves()) == 2
