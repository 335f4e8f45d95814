"""Run stage: the ledger's PostgreSQL backend (psycopg 3), a ledger several machines share.

Imported only when a ledger is opened by a `postgresql://` URL, so no other command loads
psycopg. One connection in autocommit mode, shared by the run's threads (behind
`LedgerStore`'s lock), with rows as dicts (read by column name like `sqlite3.Row`) and the
ledger's `?` placeholders translated to psycopg's `%s` once per statement text.

Every change is an explicit `BEGIN` ... `COMMIT` that first takes a transaction-level
advisory lock, the same for all: one writer at a time, as SQLite's `BEGIN IMMEDIATE` gives,
so a read-then-write (is this scene's take live? then insert) means the same on both
backends. Creating or migrating the schema takes the same lock in one transaction, so two
machines starting at once cannot race, and a half-made schema can never be seen. The run lock
is a session-level advisory lock on a connection of its own, held for the run.

All of shotc's advisory locks are keyed (SHOTC_LOCKS, n): the first half is shotc's own, so
they cannot meet another program's locks in the same database.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row

from shotc.run.errors import LocalIOError, redact_url, register_secret, url_secrets
from shotc.run.ledger_schema import PG_MIGRATIONS, SCHEMA_VERSION
from shotc.run.ledger_sqlite import flock_run_lock

SHOTC_LOCKS = 0x73686F74  # "shot": the first key of every advisory lock shotc takes
WRITE_LOCK = 1  # every change and every migration: one writer at a time
CONNECT_TIMEOUT = 10  # seconds to reach the server
LOCK_TIMEOUT = "30s"  # the longest wait for the write lock (SQLite's busy timeout is 30 s too)

META_TABLE = "shotc_meta"  # name/value rows; `schema_version` is PostgreSQL's user_version
SCHEMA_KEY = "schema_version"


@lru_cache(maxsize=1024)
def pg_sql(sql: str) -> str:
    """The ledger's SQL with psycopg's placeholders: `?` becomes `%s`, a literal `%` doubled.
    (No statement of the ledger has a `?` inside a string literal.)"""
    return sql.replace("%", "%%").replace("?", "%s")


def why(exc: BaseException) -> str:
    """The driver's message on one line (libpq's run over several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def connect(url: str) -> psycopg.Connection[DictRow]:
    """A new autocommit connection; LocalIOError (the password never shown) if it fails."""
    for secret in url_secrets(url):
        register_secret(secret)  # a driver message quoting it is redacted as well
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="shotc",
        )
    except psycopg.Error as exc:
        raise LocalIOError(f"ledger {redact_url(url)}: cannot connect: {why(exc)}") from None


class _Conn:
    """A transaction's statements, in the ledger's `?` style."""

    def __init__(self, conn: psycopg.Connection[DictRow]) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = (), /) -> psycopg.Cursor[DictRow]:
        # Always a tuple, never None: psycopg leaves `%%` undoubled without parameters.
        return self._conn.execute(pg_sql(sql), tuple(args))


def migrate(conn: psycopg.Connection[DictRow]) -> int:
    """Create or bring the schema to SCHEMA_VERSION in one transaction under the write lock;
    the version reached. Raises ValueError for a ledger of a newer shotc, or a database that
    holds other tables and no ledger."""
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (SHOTC_LOCKS, WRITE_LOCK))
        version = _version(conn)
        if version is None:
            row = conn.execute(
                "SELECT count(*) AS n FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            ).fetchone()
            if row is not None and row["n"]:
                # Some other program's database: adding our tables to it would hide the mistake.
                raise ValueError("a PostgreSQL database, but not a shotc ledger (it has tables)")
            conn.execute(f"CREATE TABLE {META_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute(f"INSERT INTO {META_TABLE} VALUES (%s, '0')", (SCHEMA_KEY,))
            version = 0
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"ledger schema version {version} is newer than this shotc ({SCHEMA_VERSION})"
            )
        start = version
        for step in PG_MIGRATIONS[start:]:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
        if start < SCHEMA_VERSION:
            conn.execute(
                f"UPDATE {META_TABLE} SET value = %s WHERE name = %s",
                (str(SCHEMA_VERSION), SCHEMA_KEY),
            )
        conn.execute("COMMIT")
    except BaseException:
        with suppress(psycopg.Error):  # a lost connection has nothing to roll back
            conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def _version(conn: psycopg.Connection[DictRow]) -> int | None:
    """The schema version, or None where there is no ledger yet."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS there", (META_TABLE,)).fetchone()
    if row is None or not row["there"]:
        return None
    row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE name = %s", (SCHEMA_KEY,)).fetchone()
    if row is None or not str(row["value"]).isdigit():
        raise ValueError(f"a shotc ledger without a readable {SCHEMA_KEY}")
    return int(row["value"])


class PgDatabase:
    def __init__(self, url: str, home_dir: Path) -> None:
        self._home_dir = home_dir  # this checkout's `.shotc/` (its run lock)
        self.label = redact_url(url)
        self.error: type[Exception] = psycopg.Error
        self.conflict: type[Exception] = psycopg.errors.IntegrityError
        self._url = url
        self._conn = connect(url)
        try:
            self._conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            migrate(self._conn)
        except (psycopg.Error, ValueError) as exc:
            self._conn.close()
            raise LocalIOError(f"ledger {self.label}: {why(exc)}") from None

    def begin(self) -> _Conn:
        # One round trip: a query without parameters may hold several statements (the
        # keys are our constants), and each change pays for its round trips.
        self._conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({SHOTC_LOCKS}, {WRITE_LOCK})")
        return _Conn(self._conn)

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def query(self, sql: str, args: Sequence[Any]) -> list[DictRow]:
        return self._conn.execute(pg_sql(sql), tuple(args)).fetchall()

    def why(self, exc: Exception) -> str:
        return why(exc)

    def try_run_lock(self) -> AbstractContextManager[object] | None:
        # Per checkout, not per database: the runs of several machines overlap, each sending
        # what it claims (`ledger_claims`); one run per checkout keeps a checkout's own
        # attempts its own to recover.
        return flock_run_lock(self._home_dir)

    def close(self) -> None:
        self._conn.close()
