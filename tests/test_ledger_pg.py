"""The ledger on PostgreSQL, what only a shared database has: several ledgers (machines) on
one URL, schema creation racing from several at once, one writer at a time, the run lock as
an advisory lock, a server that goes away, and passwords never shown. (The whole ledger suite
also runs on PostgreSQL: tests/test_ledger.py, tests/test_ledger_v4.py.)"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ledgerkit import begin
from pgserver import PgServer

from shotc.run.commands import run_lock
from shotc.run.errors import LocalIOError, redact_url
from shotc.run.ledger import Ledger, LedgerWriteFailed, TransitionError
from shotc.run.ledger_schema import MIGRATIONS, PG_MIGRATIONS, SCHEMA_VERSION

JOIN_TIMEOUT = 60  # seconds for any thread of these tests


def dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def run_threads(count: int, work: Any) -> list[BaseException]:
    """Run `work(i)` in `count` threads started together; the exceptions they raised."""
    barrier = threading.Barrier(count, timeout=JOIN_TIMEOUT)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:  # collected for the test to judge
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive()
    return errors


def test_two_ledgers_on_one_url_see_each_others_writes(pg_url: str, tmp_path: Path) -> None:
    with Ledger(pg_url, root=tmp_path) as a, Ledger(pg_url, root=tmp_path) as b:
        assert a.backend == b.backend == "postgresql"
        # its home on this machine, as a SQLite ledger's path would be; no file made there
        assert a.path == tmp_path.resolve() / ".shotc" / "ledger.sqlite"
        assert not a.path.parent.exists()
        assert a.script_name(tmp_path / "film.shot") == "film.shot"
        sid = begin(a)
        assert b.get(sid).state == "sending"
        b.created(sid, "task_b")
        assert a.get(sid).task_id == "task_b"
        with pytest.raises(TransitionError):
            begin(b)  # live on the other machine: never sent twice
        clip = tmp_path / "a.mp4"
        clip.write_bytes(b"clip")
        a.record_download(sid, clip, "d", 4)
        assert [d.path for d in b.downloads(sid)] == [str(clip)]


def test_only_one_of_many_machines_begins_the_same_take(pg_url: str, tmp_path: Path) -> None:
    ledgers = [Ledger(pg_url, root=tmp_path) for _ in range(4)]
    try:
        begun: list[int] = []
        errors = run_threads(12, lambda i: begun.append(begin(ledgers[i % 4])))
        assert len(begun) == 1
        assert len(errors) == 11 and all(isinstance(e, TransitionError) for e in errors)
        assert [s.id for s in ledgers[0].all_latest()] == begun
    finally:
        for ledger in ledgers:
            ledger.close()


def test_concurrent_creation_of_the_schema_is_safe(
    pg_server: PgServer, pg_url: str, tmp_path: Path
) -> None:
    opened: list[Ledger] = []
    errors = run_threads(8, lambda _i: opened.append(Ledger(pg_url, root=tmp_path)))
    try:
        assert errors == [] and len(opened) == 8
        rows = pg_server.psql(dbname(pg_url), "SELECT name, value FROM shotc_meta")
        assert rows == [("schema_version", str(SCHEMA_VERSION))]
        sid = begin(opened[0])
        assert opened[-1].get(sid).state == "sending"
    finally:
        for ledger in opened:
            ledger.close()


def test_a_newer_ledger_or_another_programs_database_is_refused(
    pg_server: PgServer, tmp_path: Path
) -> None:
    newer = pg_server.database()
    Ledger(newer, root=tmp_path).close()
    pg_server.psql(dbname(newer), f"UPDATE shotc_meta SET value = '{SCHEMA_VERSION + 1}'")
    with pytest.raises(LocalIOError, match="newer"):
        Ledger(newer, root=tmp_path)
    foreign = pg_server.database()
    pg_server.psql(dbname(foreign), "CREATE TABLE accounts (id integer)")
    with pytest.raises(LocalIOError, match="not a shotc ledger"):
        Ledger(foreign, root=tmp_path)
    tables = pg_server.psql(
        dbname(foreign),
        "SELECT tablename FROM pg_tables WHERE tablename"
        " IN ('accounts', 'shotc_meta', 'submissions')",
    )
    assert tables == [("accounts",)]  # nothing of ours added to it


def test_a_lost_server_fails_the_ledger_and_stops_new_intents(
    pg_server: PgServer, pg_url: str, tmp_path: Path
) -> None:
    with Ledger(pg_url, root=tmp_path) as ledger:
        sid = begin(ledger)
        pg_server.psql(
            dbname(pg_url),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        with pytest.raises(LedgerWriteFailed):
            ledger.created(sid, "task_lost")
        assert ledger.failed is not None
        with pytest.raises(LedgerWriteFailed, match="earlier write failed"):
            begin(ledger, key="other")
        with pytest.raises(LocalIOError):
            ledger.get(sid)
    with Ledger(pg_url, root=tmp_path) as again:  # nothing half-written
        assert again.get(sid).state == "sending" and again.get(sid).task_id is None


def test_the_run_lock_is_one_per_checkout(pg_url: str, tmp_path: Path) -> None:
    """Machines (checkouts) run at once on one database, each sending what it claims; two
    runs in one checkout never do (each settles its own attempts after a crash)."""
    with (
        Ledger(pg_url, root=tmp_path) as a,
        Ledger(pg_url, root=tmp_path) as same,
        Ledger(pg_url, root=tmp_path / "other") as b,
    ):
        with run_lock([a]) as free:
            assert free
            with run_lock([same]) as other_free:
                assert not other_free  # a run of this checkout is live
            with run_lock([b]) as other_machine:
                assert other_machine  # another checkout's run may go on meanwhile
        with run_lock([same]) as free:
            assert free  # released at the end of the first run


def test_an_unreachable_server_is_local_io_and_never_shows_the_password(
    pg_server: PgServer, tmp_path: Path
) -> None:
    missing = tmp_path / "no-server-here"
    for url in (
        f"postgresql://shotc:hunter2-secret@/films?host={missing}",
        f"postgres://shotc@/films?host={missing}&password=hunter2-secret",
        pg_server.url("no_such_db").replace("shotc@", "shotc:hunter2-secret@"),
    ):
        with pytest.raises(LocalIOError) as caught:
            Ledger(url, root=tmp_path)
        assert "hunter2-secret" not in str(caught.value) and "***" in str(caught.value)
        assert caught.value.exit_code == LocalIOError.exit_code


def test_redact_url_hides_the_password_and_keeps_the_rest() -> None:
    assert (
        redact_url("postgresql://bob:s3cr%40t@db.example:5432/films?sslmode=require")
        == "postgresql://bob:***@db.example:5432/films?sslmode=require"
    )
    assert (
        redact_url("postgres://bob@/films?host=/run/pg&password=pw&sslmode=disable")
        == "postgres://bob@/films?host=/run/pg&password=***&sslmode=disable"
    )
    assert redact_url("postgresql://bob@db/films") == "postgresql://bob@db/films"
    assert redact_url("postgresql://:pw@db/films") == "postgresql://:***@db/films"
    assert redact_url("postgresql://a:b:c@d@db/films") == "postgresql://a:***@db/films"


def test_a_url_ledger_needs_its_project_and_a_postgresql_scheme(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="root"):
        Ledger("postgresql://shotc@/films")
    with pytest.raises(LocalIOError, match="postgresql://"):
        Ledger("mysql://bob:pw@db/films", root=tmp_path)


def test_every_migration_has_its_postgresql_step() -> None:
    assert len(PG_MIGRATIONS) == len(MIGRATIONS) == SCHEMA_VERSION
    for step in PG_MIGRATIONS:
        assert "AUTOINCREMENT" not in step and " REAL" not in step and "OR REPLACE" not in step


def test_a_sqlite_ledger_never_imports_psycopg(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom pathlib import Path\nfrom shotc.run.ledger import Ledger\n"
        f"Ledger(Path({str(tmp_path / 'l.sqlite')!r})).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
