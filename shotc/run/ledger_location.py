"""Run stage: where a project's ledger lives, the one place that decides it.

By default each script's ledger is the SQLite file `.shotc/ledger.sqlite` beside it, as for a
single user. A team points every machine at one shared ledger instead:

- `SHOTC_LEDGER` in the environment, else `ledger = "..."` at the top of `shotc.toml`;
- a `postgresql://` (or `postgres://`) URL means the PostgreSQL backend (psycopg 3); anything
  else is the path of one SQLite file (relative to the current directory for the variable, to
  the `shotc.toml` for the file).

The environment wins over the file, so a machine can keep its password out of a file that is
shared with the project. A password in a URL is registered as a secret at once: no message,
log or ledger row shows it (`shotc.run.errors.redact`), exactly like the API key.

Whatever the backend, a ledger keeps a *home* on this machine, the path `.shotc/ledger.sqlite`
beside the script: the key under which commands group scenes by ledger, and the directory of
the machine-local files (`run.lock`, the recovery file). Script names and download paths are
stored relative to the script's directory (the project root), so machines with the project in
different places agree on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from shotc.run.errors import ConfigError, redact_url, register_secret, url_secrets
from shotc.run.ledger_db import is_postgres_url

LEDGER_ENV = "SHOTC_LEDGER"
LEDGER_KEY = "ledger"  # the top-level key in shotc.toml


@dataclass(frozen=True, slots=True)
class Setting:
    """A configured ledger: a PostgreSQL URL, or one SQLite file for every script."""

    where: Path | str  # str: a URL
    origin: str  # where it was set, for messages: "SHOTC_LEDGER" or the shotc.toml

    @property
    def shown(self) -> str:
        return redact_url(self.where) if isinstance(self.where, str) else str(self.where)


def parse_setting(value: object, *, base: Path, origin: str) -> Setting:
    """A `ledger` value as written: checked, a relative path taken from `base`."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{origin}: {LEDGER_KEY} must be a non-empty string (a path or URL)")
    text = value.strip()
    if is_postgres_url(text):
        parts = urlsplit(text)
        for secret in url_secrets(text):
            register_secret(secret)
        if not parts.path.strip("/") and not parts.query:
            raise ConfigError(
                f"{origin}: the ledger URL {redact_url(text)} names no database "
                "(postgresql://user@host/DATABASE)"
            )
        return Setting(text, origin)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ConfigError(
            f"{origin}: ledger scheme {scheme!r} is not supported (a path for SQLite, or "
            "postgresql://user@host/db)"
        )
    path = Path(text).expanduser()
    return Setting(path if path.is_absolute() else base / path, origin)


def from_environment() -> Setting | None:
    value = os.environ.get(LEDGER_ENV)
    if value is None or value == "":
        return None
    return parse_setting(value, base=Path.cwd(), origin=LEDGER_ENV)


def chosen(configured: Setting | None) -> Setting | None:
    """The ledger in force: the environment's, else the config file's, else None (each
    script's own `.shotc/ledger.sqlite`)."""
    return from_environment() or configured
