"""CLI: the `ledger` group and its `migrate` command (click layer only; the copy itself is
`shotc.run.ledger_migrate`, imported when the command runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shotc.cli.options import config_option
from shotc.cli.run import _exit_with


@click.group("ledger")
def ledger_group() -> None:
    """Work on the ledger itself: copy it to another backend."""


@ledger_group.command("migrate", short_help="Copy every record of one ledger into another.")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="PATH|URL",
    help="The ledger to copy into: a SQLite file or a postgresql:// URL; it must hold no "
    "records yet.",
)
@click.option(
    "--from",
    "source",
    metavar="PATH|URL",
    help="The ledger to copy (default: the one in force for FILE, or for ./.shotc: "
    "SHOTC_LEDGER, `ledger =` in shotc.toml, else .shotc/ledger.sqlite).",
)
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@config_option()
def migrate_command(
    to: str, source: str | None, file: Path | None, config_path: Path | None
) -> None:
    """Copy every record of one ledger into another (SQLite to PostgreSQL, or back), ids
    included; print the counts of both and how to switch to the new one."""

    def body() -> int:
        from shotc.run.commands import Streams
        from shotc.run.ledger_migrate import Request, migrate

        request = Request(to=to, source=source, file=file, config_path=config_path)
        return migrate(request, Streams(out=sys.stdout, err=sys.stderr))

    _exit_with(body)
