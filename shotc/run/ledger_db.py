"""Run stage: what the ledger asks of its database, whichever it is (SQLite or PostgreSQL).

`LedgerStore` (`shotc.run.ledger_store`) runs every change through `Database.begin` /
`commit` / `rollback` and every read through `query`, and maps the driver's errors to the
ledger's own (a broken constraint: `LedgerConflict`; anything else on a write:
`LedgerWriteFailed`). The ledger's SQL is written once, in the common subset of the two
dialects, with SQLite's `?` placeholders (the PostgreSQL backend translates them); rows are
read by column name (`row["state"]`, `dict(row)`), which `sqlite3.Row` and psycopg's
`dict_row` both give. The backends are `shotc.run.ledger_sqlite` and `shotc.run.ledger_pg`
(imported only when a `postgresql://` ledger is opened: psycopg is a heavy import).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(where: str) -> bool:
    """Whether a ledger location names a PostgreSQL database rather than a file."""
    return where.startswith(POSTGRES_SCHEMES)  # as libpq reads them: lower case


class Row(Protocol):
    """A row read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...


class Cursor(Protocol):
    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> Sequence[Row]: ...

    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    """What a change runs its statements on inside `LedgerStore._tx()`."""

    def execute(self, sql: str, args: Sequence[Any] = ..., /) -> Cursor: ...


class Database(Protocol):
    """One open ledger database; calls are serialised by `LedgerStore`'s lock."""

    label: str  # how messages name it: the path, or the URL with its password redacted
    error: type[Exception]  # the driver's base error
    conflict: type[Exception]  # the driver's error for a broken constraint

    def begin(self) -> Connection:
        """Start a change that excludes every other writer until `commit` or `rollback`."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def query(self, sql: str, args: Sequence[Any]) -> Sequence[Row]: ...

    def why(self, exc: Exception) -> str:
        """The driver's error in words for the user."""
        ...

    def try_run_lock(self) -> AbstractContextManager[object] | None:
        """The run lock (one `shotc run` per ledger at a time), held until the returned
        context exits; None when another run holds it."""
        ...

    def close(self) -> None: ...
