"""Shared pytest configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakekie import FakeKie
from pgserver import PgServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update",
        action="store_true",
        default=False,
        help="rewrite the golden expectations (tests/golden/**) from the compiler's output "
        "instead of comparing against them",
    )


@pytest.fixture
def kie() -> Iterator[FakeKie]:
    """A fake kie.ai on 127.0.0.1 for the run stage's end-to-end tests."""
    with FakeKie() as fake:
        yield fake


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL server (initdb in a temporary directory) for the session, started
    only when a test asks for it."""
    with PgServer() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a new, empty PostgreSQL database of its own for this test."""
    return pg_server.database()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_where(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's ledger is, once per backend: a SQLite file in the test's project
    directory (`tmp_path`), or a new PostgreSQL database (open it with `root=tmp_path`)."""
    if request.param == "sqlite":
        return tmp_path / ".shotc" / "ledger.sqlite"
    url: str = request.getfixturevalue("pg_url")
    return url
