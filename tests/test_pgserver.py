"""The tests' PostgreSQL server (tests/pgserver.py) starts, gives each test its own database,
and answers SQL through psycopg, the driver the ledger's PostgreSQL backend uses."""

from __future__ import annotations

import psycopg
from pgserver import PgServer


def test_each_database_is_new_and_answers_through_psycopg(pg_server: PgServer) -> None:
    first, second = pg_server.database(), pg_server.database()
    assert first != second
    with psycopg.connect(first, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x integer)")
        conn.execute("INSERT INTO t VALUES (%s)", (7,))
        assert conn.execute("SELECT x FROM t").fetchall() == [(7,)]
    with psycopg.connect(second, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'").fetchone()
        assert row == (0,)
