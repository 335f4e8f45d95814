"""Silencing warnings a writer has decided to live with: `--allow CODE` (repeatable) on
`check`, `build`, `plan` and `run`, plus `allow = ["W503"]` at the top of `shotc.toml`.

Light on purpose (tomllib and the code registry only): `check` and `build` read the same key
as `plan` and `run` without importing the run machinery. Only warnings can be allowed; an
error, a retired code or an unknown code is a usage error (exit 2).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from shotc.codes import CODES

CONFIG_NAME = "shotc.toml"


class AllowError(Exception):
    """A code that cannot be allowed, or an unreadable `allow` key; the message is one line."""


def find_config(explicit: Path | None, scripts: Sequence[Path]) -> Path | None:
    """`--config`, else `shotc.toml` beside the first script (its real directory when the
    script is a symlink; a link loop or a missing file simply has no config)."""
    if explicit is not None:
        return explicit
    for script in scripts[:1]:
        try:
            directory = script.resolve().parent
        except (OSError, RuntimeError):  # a symlink loop: the command reports the file itself
            directory = Path(os.path.abspath(script)).parent
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def _from_config(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []  # `plan`/`run` report an unreadable config with its own message
    value = data.get("allow", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AllowError(f'{path}: `allow` must be a list of codes, like allow = ["W503"]')
    return value


def check_code(code: str) -> str:
    """`code` normalised, or AllowError when it cannot be allowed."""
    name = code.strip().upper()
    info = CODES.get(name)
    if info is None:
        raise AllowError(f"--allow {code}: unknown code (see docs/codes.md)")
    if info.became is not None:
        raise AllowError(
            f"--allow {code}: {name} became {info.became}, an error; errors cannot be allowed"
        )
    if info.severity != "warning":
        raise AllowError(f"--allow {code}: {name} is an error; only warnings can be allowed")
    return name


def allowed_codes(
    given: Iterable[str], scripts: Sequence[Path], config: Path | None = None
) -> frozenset[str]:
    """The warnings to leave out: the `--allow` codes and the config's `allow` list."""
    return frozenset(check_code(c) for c in [*given, *_from_config(find_config(config, scripts))])
