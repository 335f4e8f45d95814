"""Run stage: `shotc ledger migrate`, which copies every record of one ledger into another
(SQLite to PostgreSQL when a team starts sharing one, and back), ids and all.

The tables and their columns are read from the source database itself, not from a list kept
here, so a table or column that a later migration adds is copied without this module knowing
about it; they are copied parents first, in the order their foreign keys need. Values are
copied as stored: script names and download paths are relative to the project directory on
both sides, so they stay so. Tables named `sqlite_*` (SQLite's own) or `shotc_*` (a
PostgreSQL ledger's schema version and its shared rate limiter's slots: a backend's
bookkeeping, not records) are not copied; opening the target as a `Ledger` gives it the
current schema and bookkeeping of its own.

The source's run lock is held throughout (no `run` may write while it is read); the source is
read in one transaction under its write lock, so it is one consistent state, and the target is
checked and written in one transaction under its own: a target that holds records already is
refused, never merged, unless it holds exactly the source's records (a re-run after a crash or
a lost answer, harmless: nothing is written). After the copy the records of both are counted
and compared. A password in a URL is never printed (`errors.redact_url`).

Reads and writes go through the ledger's own `_query` and `_tx` (`LedgerStore`), so they take
the same write lock, placeholders and error mapping as every other change of either backend.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shotc.exits import ExitCode
from shotc.run.commands import Streams, interrupted, say
from shotc.run.config import CONFIG_NAME, find_config, load_config
from shotc.run.errors import LocalIOError, RunError, redact_url
from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.ledger_db import Connection
from shotc.run.ledger_location import LEDGER_ENV, LEDGER_KEY, chosen, parse_setting
from shotc.run.ledger_store import LEDGER_DIR, LEDGER_NAME

PRIVATE_PREFIXES = ("sqlite_", "shotc_")  # a backend's bookkeeping, not records (above)
MAX_PARAMS = 999  # bound values per INSERT: SQLite's oldest limit, far under PostgreSQL's
TASKS = "tasks"  # the count of submissions that have a kie.ai task id
# The order counts are shown in (any other table follows, by name); the copy's own order is
# the foreign keys'.
SHOWN_FIRST = ("submissions", "events", "uploads", "downloads", "picks", "last_frames")

Record = tuple[Any, ...]


class MigrateRefused(RunError):
    """The copy would lose or mix records (a target that holds others; the source itself)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Request:
    to: str  # the target as written: a path or a postgresql:// URL
    source: str | None  # --from, as written; None: the ledger in force for `file`
    file: Path | None
    config_path: Path | None


def quoted(name: str) -> str:
    """An identifier in the spelling both dialects take (names come from the database)."""
    return '"' + name.replace('"', '""') + '"'


# -- reading a ledger's own schema ------------------------------------------------------------


def _table_names(ledger: Ledger) -> list[str]:
    if ledger.backend == "sqlite":
        rows = ledger._query("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = [str(r["name"]) for r in rows]
    else:
        rows = ledger._query(
            "SELECT table_name::text AS name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        names = [str(r["name"]) for r in rows]
    return sorted(n for n in names if not n.startswith(PRIVATE_PREFIXES))


def _columns(ledger: Ledger, table: str) -> tuple[str, ...]:
    if ledger.backend == "sqlite":
        rows = ledger._query("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))
    else:
        rows = ledger._query(
            "SELECT column_name::text AS name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
    return tuple(str(r["name"]) for r in rows)


def _parents(ledger: Ledger, table: str) -> set[str]:
    """The tables `table`'s foreign keys point at."""
    if ledger.backend == "sqlite":
        rows = ledger._query('SELECT "table" AS parent FROM pragma_foreign_key_list(?)', (table,))
    else:
        rows = ledger._query(
            "SELECT p.relname::text AS parent FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid "
            "WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace "
            "AND c.relname = ?",
            (table,),
        )
    return {str(r["parent"]) for r in rows} - {table}


def tables(ledger: Ledger) -> list[Table]:
    """The ledger's record tables with their columns, each after the tables it references."""
    names = _table_names(ledger)
    parents = {name: _parents(ledger, name) & set(names) for name in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:
            raise LocalIOError(f"ledger {ledger.label}: its foreign keys form a cycle")
        ordered.extend(ready)
    return [Table(name, _columns(ledger, name)) for name in ordered]


# -- reading and writing records --------------------------------------------------------------


def _select(table: Table) -> str:
    return f"SELECT {', '.join(quoted(c) for c in table.columns)} FROM {quoted(table.name)}"


def read_all(ledger: Ledger, schema: Sequence[Table]) -> dict[str, list[Record]]:
    """Every record of every table, read in one transaction under the ledger's write lock
    (one consistent state: no change can land between two tables)."""
    out: dict[str, list[Record]] = {}
    with ledger._tx() as conn:
        for table in schema:
            rows = conn.execute(_select(table)).fetchall()
            out[table.name] = [tuple(r[c] for c in table.columns) for r in rows]
    return out


def counts(records: dict[str, list[Record]], schema: Sequence[Table]) -> dict[str, int]:
    """What is printed and compared: tasks, then the records of each table."""
    out = {TASKS: 0}
    rank = {name: i for i, name in enumerate(SHOWN_FIRST)}
    for table in sorted(schema, key=lambda t: (rank.get(t.name, len(rank)), t.name)):
        rows = records.get(table.name, [])
        if table.name == "submissions" and "task_id" in table.columns:
            at = table.columns.index("task_id")
            out[TASKS] = sum(1 for r in rows if r[at] is not None)
        out[table.name] = len(rows)
    return out


def same_records(
    a: dict[str, list[Record]], b: dict[str, list[Record]], schema: Sequence[Table]
) -> bool:
    """Whether both hold exactly the same rows (order aside: the backends sort NULLs apart)."""
    return all(Counter(a.get(t.name, [])) == Counter(b.get(t.name, [])) for t in schema)


def _insert(conn: Connection, table: Table, rows: Sequence[Record]) -> None:
    """Multi-row INSERTs with explicit values (ids included), a bounded number per statement."""
    per = max(1, MAX_PARAMS // len(table.columns))
    head = f"INSERT INTO {quoted(table.name)} ({', '.join(quoted(c) for c in table.columns)}) "
    mark = "(" + ", ".join("?" for _ in table.columns) + ")"
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        conn.execute(
            head + "VALUES " + ", ".join(mark for _ in chunk),
            tuple(v for row in chunk for v in row),
        )


def _move_sequences(conn: Connection, schema: Sequence[Table]) -> None:
    """PostgreSQL does not advance an identity column's sequence for explicit ids: set each
    past the highest id copied, or the next new row would collide. (SQLite's AUTOINCREMENT
    follows explicit ids by itself.)"""
    rows = conn.execute(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns "
        "WHERE table_schema = current_schema() "
        "AND pg_get_serial_sequence(quote_ident(table_name::text), column_name::text) IS NOT NULL"
    ).fetchall()
    names = {t.name for t in schema}
    for row in rows:
        if row["t"] in names:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence(?, ?), max({quoted(row['c'])})) "
                f"FROM {quoted(row['t'])}",
                (quoted(row["t"]), row["c"]),
            )


def _check_schema(target: Ledger, schema: Sequence[Table]) -> None:
    """Every column of the source has a home in the target (both are at this shotc's schema
    once opened, so this only fails for a target of another shotc)."""
    have = {t.name: set(t.columns) for t in tables(target)}
    for table in schema:
        missing = set(table.columns) - have.get(table.name, set())
        if missing:
            raise LocalIOError(
                f"ledger {target.label}: no {table.name} ({', '.join(sorted(missing))}) to "
                "copy into: is it another shotc's ledger?"
            )


def copy_into(target: Ledger, schema: Sequence[Table], records: dict[str, list[Record]]) -> bool:
    """Write `records` into the empty `target` in one transaction; False when it held exactly
    these records already (nothing written). MigrateRefused when it holds others."""
    _check_schema(target, schema)
    with target._tx() as conn:
        held = {
            t.name: [tuple(r[c] for c in t.columns) for r in conn.execute(_select(t)).fetchall()]
            for t in schema
        }
        if any(held.values()):
            if same_records(held, records, schema):
                return False
            raise MigrateRefused(
                f"ledger {target.label} holds records already ({_summary(counts(held, schema))}): "
                "it is not merged into; migrate into a new file or an empty database"
            )
        for table in schema:
            _insert(conn, table, records[table.name])
        if target.backend == "postgresql":
            _move_sequences(conn, schema)
    return True


def _summary(numbers: dict[str, int]) -> str:
    return ", ".join(f"{n} {_label(name)}" for name, n in numbers.items() if n)


def _label(name: str) -> str:
    return name.replace("_", " ")


# -- the command ----------------------------------------------------------------------------


def _source(req: Request) -> tuple[Path | str, Path | None]:
    """The source ledger and the project directory its paths are relative to: --from, else
    the ledger in force for FILE (or for ./.shotc): SHOTC_LEDGER, `ledger =` in shotc.toml,
    else the default file."""
    root = req.file.resolve().parent if req.file is not None else Path.cwd()
    if req.source is not None:
        where = parse_setting(req.source, base=Path.cwd(), origin="--from").where
        return where, (root if req.file is not None or isinstance(where, str) else None)
    files = [req.file] if req.file is not None else []
    config_file = find_config(req.config_path, files)
    if config_file is None and req.file is None and (Path.cwd() / CONFIG_NAME).is_file():
        config_file = Path.cwd() / CONFIG_NAME
    setting = chosen(load_config(config_file).ledger)
    if setting is not None:
        return setting.where, root
    default = ledger_path_for(req.file) if req.file is not None else root / LEDGER_DIR / LEDGER_NAME
    return default, root


def _same(a: Path | str, b: Path | str) -> bool:
    if isinstance(a, Path) and isinstance(b, Path):
        return a.resolve() == b.resolve()
    return a == b


def _shown(where: Path | str) -> str:
    return redact_url(where) if isinstance(where, str) else str(where)


def _table_text(before: dict[str, int], after: dict[str, int]) -> str:
    width = max(len(_label(n)) for n in before)
    lines = [f"{'':<{width}}  {'source':>8}  {'target':>8}"]
    for name, n in before.items():
        lines.append(f"{_label(name):<{width}}  {n:>8}  {after.get(name, 0):>8}")
    return "\n".join(lines)


def how_to_switch(target: Path | str, root: Path) -> str:
    """What to set so that commands use the target from now on (the password left out)."""
    if isinstance(target, Path):
        if target.resolve() == (root / LEDGER_DIR / LEDGER_NAME).resolve():
            return (
                "it is the default ledger: to use it, unset "
                f"{LEDGER_ENV} and remove `{LEDGER_KEY} = ...` from {CONFIG_NAME}"
            )
        absolute = target.resolve()
        try:
            written = absolute.relative_to(root).as_posix()
        except ValueError:
            written = str(absolute)
        return (
            f"to use it: export {LEDGER_ENV}={shlex.quote(str(absolute))}\n"
            f'or put `{LEDGER_KEY} = "{written}"` at the top of {root / CONFIG_NAME}'
        )
    shown = redact_url(target)
    text = (
        f"to use it: export {LEDGER_ENV}={shlex.quote(shown)}\n"
        f'or put `{LEDGER_KEY} = "{shown}"` at the top of {root / CONFIG_NAME}'
    )
    if shown != target:
        text += (
            "\n(*** stands for the password, which is not shown: keep it in the variable or "
            "~/.pgpass rather than in a shared file)"
        )
    return text


def migrate(req: Request, streams: Streams) -> int:
    """`shotc ledger migrate`: the exit code."""
    try:
        return _migrate(req, streams)
    except RunError as exc:
        say(streams, f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return interrupted(streams, exc)


def _migrate(req: Request, streams: Streams) -> int:
    target_where = parse_setting(req.to, base=Path.cwd(), origin="--to").where
    source_where, root = _source(req)
    if _same(source_where, target_where):
        raise MigrateRefused(f"--to names the source ledger itself ({_shown(source_where)})")
    if isinstance(source_where, Path) and not source_where.exists():
        raise LocalIOError(f"no ledger at {source_where}: nothing to migrate")
    with Ledger(source_where, root=root) as source:
        lock = source.try_run_lock()
        if lock is None:
            raise LocalIOError(
                f"ledger {source.label}: a `shotc run` is writing to it; migrate once it ends"
            )
        with lock:
            schema = tables(source)
            records = read_all(source, schema)
            before = counts(records, schema)
            with Ledger(target_where, root=source.root) as target:
                wrote = copy_into(target, schema, records)
                copied = read_all(target, schema)
            after = counts(copied, schema)
            ok = after == before and same_records(copied, records, schema)
            out = streams.out
            out.write(f"source: {source.label} ({source.backend})\n")
            out.write(f"target: {target.label} ({target.backend})\n")
            out.write(_table_text(before, after) + "\n")
            if not ok:
                say(streams, "error: the target's records differ from the source's")
                return ExitCode.IO
            total = sum(n for name, n in before.items() if name != TASKS)
            if wrote:
                out.write(f"copied {total} records; the target holds exactly the source's\n")
            else:
                out.write("the target held exactly the source's records already: nothing written\n")
            out.write(how_to_switch(target_where, source.root) + "\n")
            out.flush()
    return ExitCode.OK
