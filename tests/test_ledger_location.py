"""Where the ledger lives: SHOTC_LEDGER, `ledger = ...` in shotc.toml, the default beside the
script; a URL's password never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from shotc.run.config import load_config
from shotc.run.errors import ConfigError, LocalIOError, redact, redact_url
from shotc.run.ledger_db import is_postgres_url as is_url
from shotc.run.ledger_location import LEDGER_ENV, chosen, parse_setting


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shotc.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_setting_means_each_script_has_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEDGER_ENV, raising=False)
    assert chosen(None) is None
    assert load_config(None).ledger is None


def test_config_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LEDGER_ENV, raising=False)
    monkeypatch.chdir("/")
    config = load_config(write_config(tmp_path, 'ledger = "shared/team.sqlite"\n[run]\n'))
    assert config.ledger is not None
    assert config.ledger.where == tmp_path.resolve() / "shared" / "team.sqlite"
    assert chosen(config.ledger) == config.ledger


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write_config(tmp_path, 'ledger = "file.sqlite"\n'))
    monkeypatch.setenv(LEDGER_ENV, "postgresql://writer@db.studio/film")
    setting = chosen(config.ledger)
    assert setting is not None
    assert setting.where == "postgresql://writer@db.studio/film"
    assert setting.origin == LEDGER_ENV
    monkeypatch.setenv(LEDGER_ENV, "")  # set but empty: as if unset
    assert chosen(config.ledger) == config.ledger


def test_a_query_password_is_registered_too(tmp_path: Path) -> None:
    url = "postgresql://writer@db.studio/film?password=qu3ry-pw"
    setting = parse_setting(url, base=tmp_path, origin=LEDGER_ENV)
    assert "qu3ry-pw" not in setting.shown
    assert "qu3ry-pw" not in str(LocalIOError("password authentication failed: qu3ry-pw"))


def test_a_password_is_redacted_everywhere(tmp_path: Path) -> None:
    url = "postgresql://writer:s3cret-pw@db.studio:5432/film?sslmode=require"
    setting = parse_setting(url, base=tmp_path, origin=LEDGER_ENV)
    assert setting.shown == "postgresql://writer:***@db.studio:5432/film?sslmode=require"
    assert "s3cret-pw" not in setting.shown
    # Registered as a secret: any run-stage error that quotes it is redacted.
    assert "s3cret-pw" not in str(LocalIOError(f"could not connect to {url}"))
    assert "s3cret-pw" not in redact(f"password=s3cret-pw {url}")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p%40ss@h/db",
        "postgres://user:pw@[::1]:5433/db",
        "postgresql://user@host/db",
        "postgresql:///db?host=/tmp/sock",
    ],
)
def test_redact_url_keeps_everything_but_the_password(url: str) -> None:
    shown = redact_url(url)
    assert is_url(url)
    if ":" in url.split("//", 1)[1].split("@", 1)[0] and "@" in url:
        assert ":***@" in shown
    else:
        assert shown == url
    assert shown.split("@")[-1] == url.split("@")[-1]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "non-empty"),
        (42, "non-empty"),
        ("mysql://u@h/db", "not supported"),
        ("postgresql://user@host", "names no database"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, value: object, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        parse_setting(value, base=tmp_path, origin="shotc.toml")


def test_bad_setting_in_the_file_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "ledger = 3\n")
    with pytest.raises(ConfigError, match=r"shotc\.toml: ledger must be"):
        load_config(path)
