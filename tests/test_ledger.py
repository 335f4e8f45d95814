"""Ledger tests: every state change, the forbidden ones, crash recovery, migrations, and the
upload and download records.

The tests on the `ledger` fixture (or `ledger_where`) run on both backends, SQLite and
PostgreSQL; those marked SQLite only are about the file itself (its journal, its
`user_version`, migrations of files written by older versions, a bad path).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ledgerkit import begin

from shotc.run.client import DEFAULT_UPLOAD_BASE
from shotc.run.commands import run_lock
from shotc.run.errors import LocalIOError
from shotc.run.ledger import Ledger, LedgerConflict, TransitionError
from shotc.run.ledger_schema import (
    KIE_STATES,
    MIGRATIONS,
    SCHEMA_VERSION,
    TRANSITIONS,
    Upload,
)
from shotc.run.uploads import normalise_base


@pytest.fixture
def ledger(ledger_where: Path | str, tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(ledger_where, root=tmp_path) as opened:
        yield opened


def states(ledger: Ledger, sid: int) -> list[tuple[str | None, str]]:
    return [(e.from_state, e.to_state) for e in ledger.events(sid)]


def test_happy_path_records_each_change(ledger: Ledger) -> None:
    sid = begin(ledger)
    assert ledger.get(sid).state == "sending" and ledger.get(sid).attempts == 1
    ledger.created(sid, "task_1")
    sub = ledger.get(sid)
    assert sub.state == "waiting" and sub.task_id == "task_1" and sub.submitted_at
    for state in ("queuing", "generating"):
        assert ledger.remote(sid, state)
    assert not ledger.remote(sid, "generating")  # no change, no event
    ledger.remote(sid, "success", result_urls=["https://cdn/a.mp4"], cost_time_ms=9)
    sub = ledger.get(sid)
    assert sub.state == "success" and sub.result_urls == ("https://cdn/a.mp4",)
    assert sub.finished_at and sub.cost_time_ms == 9
    assert states(ledger, sid) == [
        (None, "sending"),
        ("sending", "waiting"),
        ("waiting", "queuing"),
        ("queuing", "generating"),
        ("generating", "success"),
    ]


def test_fail_records_code_and_message(ledger: Ledger) -> None:
    sid = begin(ledger)
    ledger.created(sid, "task_1")
    ledger.remote(sid, "fail", fail_code="500", fail_msg="boom")
    sub = ledger.get(sid)
    assert (sub.state, sub.fail_code, sub.fail_msg) == ("fail", "500", "boom")
    # A failed take may be sent again: a new attempt, the old one kept.
    sid2 = begin(ledger)
    assert sid2 != sid and ledger.latest("k1", 1) == ledger.get(sid2)


def test_retry_then_success_counts_attempts(ledger: Ledger) -> None:
    sid = begin(ledger)
    ledger.retrying(sid, "500")
    ledger.attempt(sid)
    ledger.retrying(sid, "429")
    ledger.attempt(sid)
    ledger.created(sid, "t")
    assert ledger.get(sid).attempts == 3
    assert states(ledger, sid) == [
        (None, "sending"),
        ("sending", "retrying"),
        ("retrying", "sending"),
        ("sending", "retrying"),
        ("retrying", "sending"),
        ("sending", "waiting"),
    ]


def test_not_sent_from_sending_or_retrying_allows_a_new_attempt(ledger: Ledger) -> None:
    sid = begin(ledger)
    ledger.not_sent(sid, "422 refused")
    assert ledger.get(sid).error == "422 refused"
    sid2 = begin(ledger)
    ledger.retrying(sid2, "500")
    ledger.not_sent(sid2, "gave up")
    begin(ledger)


def test_unknown_blocks_until_abandoned_by_resubmit(ledger: Ledger) -> None:
    sid = begin(ledger)
    ledger.unknown(sid, "read timeout")
    with pytest.raises(TransitionError):
        begin(ledger)  # never twice without the user's say-so
    sid2 = begin(ledger, replaces_unknown=sid)
    assert ledger.get(sid).state == "abandoned" and ledger.get(sid2).state == "sending"
    assert states(ledger, sid)[-1] == ("unknown", "abandoned")


def test_live_submissions_block_a_second_one(ledger: Ledger) -> None:
    sid = begin(ledger)
    with pytest.raises(TransitionError):
        begin(ledger)  # sending
    ledger.created(sid, "t")
    with pytest.raises(TransitionError):
        begin(ledger)  # running
    ledger.remote(sid, "success", result_urls=[])
    with pytest.raises(TransitionError):
        begin(ledger)  # done
    begin(ledger, take=2)  # another take on purpose is fine
    begin(ledger, key="k2")


def test_forbidden_transitions_raise_and_change_nothing(ledger: Ledger) -> None:
    sid = begin(ledger)
    ledger.created(sid, "t")
    ledger.remote(sid, "success", result_urls=[])
    for bad in (
        lambda: ledger.created(sid, "t2"),
        lambda: ledger.retrying(sid, "x"),
        lambda: ledger.unknown(sid, "x"),
        lambda: ledger.attempt(sid),
        lambda: ledger.remote(sid, "generating"),
        lambda: ledger.not_sent(sid, "x"),
    ):
        with pytest.raises(TransitionError):
            bad()
    assert ledger.get(sid).state == "success" and ledger.get(sid).task_id == "t"
    with pytest.raises(TransitionError):
        ledger.remote(sid, "exploded")


def test_success_without_urls_gets_them_filled_in_once(ledger: Ledger) -> None:
    # What an older shotc recorded when kie.ai said success before filling in resultJson.
    sid = begin(ledger)
    ledger.created(sid, "t")
    ledger.remote(sid, "success", result_urls=[])
    assert ledger.get(sid).awaiting_result and ledger.get(sid).unsettled
    assert not ledger.remote(sid, "success", result_urls=[])
    assert ledger.remote(sid, "success", result_urls=["https://cdn/a.mp4"])
    sub = ledger.get(sid)
    assert sub.result_urls == ("https://cdn/a.mp4",) and not sub.unsettled
    assert not ledger.remote(sid, "success", result_urls=["https://cdn/b.mp4"])  # kept
    assert states(ledger, sid)[-1] == ("success", "success")


def test_transition_table_is_closed() -> None:
    assert set(TRANSITIONS) >= KIE_STATES
    for targets in TRANSITIONS.values():
        assert targets <= set(TRANSITIONS)


def test_recover_turns_in_flight_into_unknown(ledger: Ledger) -> None:
    a = begin(ledger, key="a")
    ledger.posting(a)  # killed mid-POST
    b = begin(ledger, key="b")
    ledger.posting(b)
    ledger.retrying(b, "500")  # killed while waiting to retry: nothing was created
    c = begin(ledger, key="c")
    ledger.posting(c)
    ledger.created(c, "t")
    d = begin(ledger, key="d")  # killed between the intent and the POST: nothing left
    changed = {s.id: s.state for s in ledger.recover()}
    assert changed == {a: "unknown", b: "not_sent", d: "not_sent"}
    assert ledger.get(c).state == "waiting"
    assert ledger.recover() == []


def test_task_id_survives_reopen(ledger_where: Path | str, tmp_path: Path) -> None:
    with Ledger(ledger_where, root=tmp_path) as first:
        sid = begin(first)
        first.created(sid, "task_keep")
    with Ledger(ledger_where, root=tmp_path) as second:
        assert second.get(sid).task_id == "task_keep"
        assert second.script_name(tmp_path / "film.shot") == "film.shot"


def test_sqlite_ledger_is_in_wal_mode_and_finds_its_project(tmp_path: Path) -> None:
    """SQLite only: the journal, and the project directory derived from the path."""
    path = tmp_path / ".shotc" / "ledger.sqlite"
    with Ledger(path) as ledger:
        assert ledger.root == tmp_path.resolve() and ledger.backend == "sqlite"
        assert ledger.script_name(tmp_path / "film.shot") == "film.shot"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_schema_version_and_newer_ledger_refused(tmp_path: Path) -> None:
    """SQLite only (`user_version`; test_ledger_pg has PostgreSQL's)."""
    path = tmp_path / "l.sqlite"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(LocalIOError, match="newer"):
        Ledger(path)


def test_unusable_ledger_path_is_local_io(tmp_path: Path) -> None:
    """SQLite only: a path that cannot hold a file."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(LocalIOError):
        Ledger(tmp_path / "file" / "ledger.sqlite")


def test_a_task_id_held_by_another_row_is_a_conflict_of_that_change_only(
    ledger: Ledger,
) -> None:
    first = begin(ledger, key="a")
    ledger.created(first, "task_same")
    second = begin(ledger, key="b")
    with pytest.raises(LedgerConflict):
        ledger.created(second, "task_same")
    assert ledger.failed is None  # not a failing ledger: other changes go on
    assert ledger.get(second).state == "sending" and ledger.get(second).task_id is None
    ledger.created(second, "task_other")
    assert ledger.get(second).task_id == "task_other"


def test_values_with_placeholder_and_percent_characters_round_trip(ledger: Ledger) -> None:
    # The PostgreSQL backend rewrites `?` to `%s` in the SQL: never in the values.
    sid = begin(ledger, key="k?%s", script="100% ?.shot", scene_id="a%%?", request='{"p": "?%"}')
    sub = ledger.get(sid)
    assert (sub.scene_key, sub.script, sub.scene_id, sub.request) == (
        "k?%s",
        "100% ?.shot",
        "a%%?",
        '{"p": "?%"}',
    )
    assert ledger.latest("k?%s", 1) == sub
    assert [s.id for s in ledger.scene_history("100% ?.shot", "a%%?")] == [sid]


def test_latest_and_history(ledger: Ledger) -> None:
    s1 = begin(ledger, key="old")
    ledger.created(s1, "t1")
    s2 = begin(ledger, key="new")
    assert [s.id for s in ledger.scene_history("film.shot", "a")] == [s1, s2]
    assert [s.id for s in ledger.all_latest(["film.shot"])] == [s1, s2]
    assert ledger.all_latest(["other.shot"]) == []


def test_uploads_cache_is_per_base(ledger: Ledger) -> None:
    a, b = "https://a.example", "https://b.example"
    assert ledger.upload("d", a) is None
    ledger.record_upload(Upload("d", a, "https://u/1", "d.png", 3, 10.0, 20.0))
    ledger.record_upload(Upload("d", a, "https://u/2", "d.png", 3, 30.0, 40.0))
    up = ledger.upload("d", a)
    assert up is not None and up.url == "https://u/2" and up.expires_at == 40.0
    assert ledger.upload("d", b) is None  # another service never saw this file
    ledger.record_upload(Upload("d", b, "https://v/1", "d.png", 3, 50.0, 60.0))
    assert ledger.upload("d", a) == up


def test_forget_upload_only_drops_that_very_upload(ledger: Ledger) -> None:
    base = "https://a.example"
    old = Upload("d", base, "https://u/1", "d.png", 3, 10.0, 20.0)
    new = Upload("d", base, "https://u/1", "d.png", 3, 30.0, 40.0)
    ledger.record_upload(new)
    assert not ledger.forget_upload(old)  # re-uploaded meanwhile: the fresh one stays
    assert ledger.upload("d", base) == new
    assert ledger.forget_upload(new)
    assert ledger.upload("d", base) is None


def test_migration_v1_to_v2_keeps_submissions_and_uploads(tmp_path: Path) -> None:
    """SQLite only: a file written by an older shotc (no PostgreSQL ledger predates V5)."""
    path = tmp_path / ".shotc" / "ledger.sqlite"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO submissions (scene_key, take, script, scene_id, film_title, state, task_id,"
        " request, seconds, mode, sound, est_credits, attempts, created_at, updated_at)"
        " VALUES ('k1', 1, 'film.shot', 'a', 'F', 'success', 'task_v1', '{}', 5, 'pro', 0,"
        " 90.0, 1, 1.0, 2.0)"
    )
    conn.execute("INSERT INTO events (submission_id, at, to_state) VALUES (1, 1.0, 'sending')")
    conn.execute(
        "INSERT INTO uploads VALUES ('d1', 'https://tempfile.example/shotc/d1.png', 'd1.png',"
        " 3, 10.0, 9e9)"
    )
    conn.execute(
        "INSERT INTO uploads VALUES ('d2', 'http://127.0.0.1:9/files/shotc/d2.png', 'd2.png',"
        " 4, 11.0, 9e9)"
    )
    conn.commit()
    conn.close()

    with Ledger(path) as ledger:
        sub = ledger.get(1)
        assert (sub.task_id, sub.state, sub.scene_id) == ("task_v1", "success", "a")
        assert [e.to_state for e in ledger.events(1)] == ["sending"]
        # An https upload is filed under the default base, where V1's uploads went...
        default = normalise_base(DEFAULT_UPLOAD_BASE)
        kept = ledger.upload("d1", default)
        assert kept == Upload(
            "d1", default, "https://tempfile.example/shotc/d1.png", "d1.png", 3, 10.0, 9e9
        )
        # ... a plain-http one came from a loopback test server: kept under '', never used.
        assert ledger.upload("d2", default) is None
        assert ledger.upload("d2", "") is not None
        ledger.record_upload(Upload("d2", default, "https://u/d2", "d2.png", 4, 12.0, 9e9))
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
    conn.close()


def test_migration_v2_to_v3_makes_download_paths_relative(tmp_path: Path) -> None:
    """SQLite only: a file written by an older shotc."""
    path = tmp_path / "project" / ".shotc" / "ledger.sqlite"
    path.parent.mkdir(parents=True)
    root = path.parent.parent.resolve()
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    for statement in MIGRATIONS[1].split(";"):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO submissions (scene_key, take, script, scene_id, film_title, state, task_id,"
        " request, seconds, mode, sound, est_credits, attempts, created_at, updated_at)"
        " VALUES ('k1', 1, 'film.shot', 'a', 'F', 'success', 't', '{}', 5, 'pro', 0, 9.0, 1,"
        " 1.0, 2.0)"
    )
    inside = root / "renders" / "film" / "a.mp4"
    outside = tmp_path / "elsewhere" / "a.mp4"  # written with -o outside the project
    lookalike = Path(f"{root}x") / "a.mp4"  # a sibling whose name starts like the root
    for clip in (inside, outside, lookalike):
        conn.execute("INSERT INTO downloads VALUES (1, ?, 'abc', 4, 1, 1.0)", (str(clip),))
    conn.commit()
    conn.close()

    with Ledger(path) as ledger:
        assert sorted(d.path for d in ledger.downloads(1)) == sorted(
            str(p) for p in (inside, outside, lookalike)
        )
    conn = sqlite3.connect(path)
    stored = {r[0] for r in conn.execute("SELECT path FROM downloads")}
    assert stored == {"renders/film/a.mp4", str(outside), str(lookalike)}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_downloads_are_recorded_and_moved(ledger: Ledger, tmp_path: Path) -> None:
    sid = begin(ledger)
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"data")
    ledger.record_download(sid, clip, "abc", 4)
    assert [d.path for d in ledger.downloads(sid)] == [str(clip)]
    assert ledger.downloads_at(clip) == ledger.downloads(sid)
    aside = tmp_path / "a.abc.mp4"
    ledger.move_download(clip, aside)
    assert [d.path for d in ledger.downloads(sid)] == [str(aside)]
    assert ledger.events(sid)[-1].to_state == "downloaded"


def test_concurrent_changes_from_threads(ledger: Ledger) -> None:
    def work(i: int) -> None:
        sid = begin(ledger, key=f"k{i}")
        ledger.created(sid, f"t{i}")
        ledger.remote(sid, "success", result_urls=[f"u{i}"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {s.state for s in ledger.all_latest()} == {"success"}
    assert len(ledger.all_latest()) == 20


def test_a_move_onto_a_recorded_path_replaces_that_record(ledger: Ledger, tmp_path: Path) -> None:
    sid, other = begin(ledger, key="a"), begin(ledger, key="b")
    old, new = tmp_path / "a.mp4", tmp_path / "b.mp4"
    for clip in (old, new):
        clip.write_bytes(clip.name.encode())
    ledger.record_download(sid, old, "old", 5)
    ledger.record_download(sid, new, "new", 5)
    ledger.record_download(other, old, "old", 5)
    ledger.record_download(sid, old, "again", 5)  # the same file again: one record, updated
    assert [d.sha256 for d in ledger.downloads_at(old) if d.submission_id == sid] == ["again"]
    ledger.move_download(old, new)
    assert [(d.path, d.sha256) for d in ledger.downloads(sid)] == [(str(new), "again")]
    assert [d.path for d in ledger.downloads(other)] == [str(new)]
    ledger.move_download(new, new)  # onto itself: nothing lost
    assert len(ledger.downloads(sid)) == 1 and len(ledger.downloads(other)) == 1


def test_one_run_at_a_time_per_ledger(ledger_where: Path | str, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / ".shotc" / "ledger.sqlite"
    with (
        Ledger(ledger_where, root=tmp_path) as a,
        Ledger(ledger_where, root=tmp_path) as b,
        Ledger(elsewhere) as c,
    ):
        with run_lock([a]) as free:
            assert free
            with run_lock([c, b]) as other_free:
                assert not other_free  # b's run is live (another process, machine)
                with Ledger(elsewhere) as c_again, run_lock([c_again]) as c_free:
                    assert c_free  # a busy answer holds nothing
        with run_lock([b, c]) as free:
            assert free  # released when the first run ended
