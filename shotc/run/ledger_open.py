"""Run stage: opening the ledger of each script wherever it lives, the one way every command
does it (`shotc.run.ledger_location` says where; this module opens it).

A ledger is keyed by its *home*, `.shotc/ledger.sqlite` beside the script, whatever backend
holds it: commands group scenes by it and keep this machine's own files (the recovery file)
beside it. Script names and download paths are stored relative to the script's directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.ledger_location import Setting, chosen


def ledger_exists(script: Path, setting: Setting | None) -> bool:
    """Whether a ledger is already there for `script` (a database server always is)."""
    where = chosen(setting)
    if where is None:
        return ledger_path_for(script).exists()
    return isinstance(where.where, str) or where.where.exists()


def open_ledger(home: Path, *, create: bool, setting: Setting | None) -> Ledger | None:
    """The ledger whose home is `home` (`<root>/.shotc/ledger.sqlite`); None where no ledger
    exists yet and `create` is false (`plan` must leave nothing behind on disk)."""
    where = chosen(setting)
    if where is None:
        return Ledger(home) if create or home.exists() else None
    root = home.parent.parent
    if isinstance(where.where, str):
        return Ledger(where.where, root=root)  # a server: opening it leaves nothing on disk
    if not create and not where.where.exists():
        return None
    return Ledger(where.where, root=root)


def open_ledgers(
    scripts: Sequence[Path], *, create: bool, setting: Setting | None
) -> dict[Path, Ledger | None]:
    """The ledger of each script, keyed by its home."""
    out: dict[Path, Ledger | None] = {}
    for script in scripts:
        home = ledger_path_for(script)
        if home not in out:
            out[home] = open_ledger(home, create=create, setting=setting)
    return out
