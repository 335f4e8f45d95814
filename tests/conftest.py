"""Shared pytest configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakekie import FakeKie


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
