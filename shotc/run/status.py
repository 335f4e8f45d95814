"""Run stage: the bodies of `status` and `credits`, returning exit codes.

Split from `shotc.run.commands` (which holds `plan` and `run` and the helpers all four share)
to keep each module small; the exit codes are the same: 0 ok, 2 configuration, 3 kie.ai
refused, 4 local I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from shotc.allow import find_config
from shotc.exits import ExitCode
from shotc.run import recovery
from shotc.run.commands import Streams, interrupted, make_client, run_lock, say
from shotc.run.config import CONFIG_NAME, Config, load_config
from shotc.run.errors import ConfigError, Halt, KieError, RunError
from shotc.run.ledger import LEDGER_DIR, LEDGER_NAME, Ledger
from shotc.run.ledger_open import open_ledger, open_ledgers
from shotc.run.ledger_schema import Submission
from shotc.run.polling import record_answer
from shotc.run.report import credits, dumps, status_json, status_table, usd
from shotc.run.status_order import Marks, arrange


def _config(files: Sequence[Path]) -> Config:
    """`shotc.toml` beside the first script, as `run` reads it, or in the current directory
    when `status` looks at `./.shotc` (and for `credits`): its timeouts apply here too."""
    if files:
        return load_config(find_config(None, files))
    path = Path.cwd() / CONFIG_NAME
    return load_config(path if path.is_file() else None)


def status(files: Sequence[Path], *, as_json: bool, refresh: bool, streams: Streams) -> int:
    try:
        # Read even without --refresh: its price table's usd_per_credit turns credits to dollars.
        config = _config(files)
        if files:
            ledgers = open_ledgers(list(files), create=False, setting=config.ledger)
        else:
            path = Path.cwd() / LEDGER_DIR / LEDGER_NAME
            ledgers = {path: open_ledger(path, create=False, setting=config.ledger)}
        opened = [ledger for ledger in ledgers.values() if ledger is not None]
        try:
            refreshing = config if refresh else None
            entries, code = _status_entries(files, opened, refreshing, streams)
        finally:
            for ledger in opened:
                ledger.close()
    except RunError as exc:
        say(streams, f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return interrupted(streams, exc)
    if not opened:
        say(streams, "no ledger: nothing has been submitted from here yet")
    rate = config.usd_per_credit
    shown = status_json(entries, rate) if as_json else status_table(entries, rate)
    streams.out.write(shown + "\n")
    return code


def _status_entries(
    files: Sequence[Path], ledgers: list[Ledger], refresh: Config | None, streams: Streams
) -> tuple[list[tuple[Submission, list[str], Marks]], int]:
    """What to show, and the exit code; `refresh` is the configuration to ask kie.ai with, or
    None not to ask."""
    code = 0
    with run_lock(ledgers) as free:
        if free:  # no run in progress: a `sending` left behind is a crash's `unknown`...
            for ledger in ledgers:
                # ... unless its task id waits in the recovery file: record it first.
                for entry in recovery.apply(ledger, lambda t: say(streams, f"warning: {t}")):
                    if entry.sent:
                        say(streams, f"task {entry.task_id} recorded from the recovery file")
                ledger.recover()
    subs: list[tuple[Ledger, Submission]] = []
    for ledger in ledgers:
        names = [ledger.script_name(f) for f in files] if files else None
        subs += [(ledger, s) for s in ledger.all_latest(names)]
    running = [(lg, s) for lg, s in subs if s.unsettled and s.task_id]
    if refresh is not None and running:
        code = _refresh(running, refresh, streams)
    entries = []
    # Script order with the current version and the cut's take marked (after the refresh:
    # a task that finished just now can be the cut's take).
    fresh = [(ledger, ledger.get(sub.id)) for ledger, sub in subs]
    order = list(files) or _recorded_scripts(fresh)
    for ledger, sub, marks in arrange(order, fresh, lambda t: say(streams, f"warning: {t}")):
        entries.append((sub, [d.path for d in ledger.downloads(sub.id)], marks))
    return entries, code


def _recorded_scripts(subs: list[tuple[Ledger, Submission]]) -> list[Path]:
    """Without FILE: the scripts the ledger names that are still beside it, in the order they
    were first sent from, so that `status` shows them in script order too; rows of a script
    that is gone keep the ledger's order, unmarked."""
    found: dict[Path, None] = {}
    for ledger, sub in subs:
        path = ledger.root / sub.script
        if path.is_file():
            found.setdefault(path, None)
    return list(found)


def _refresh(running: list[tuple[Ledger, Submission]], config: Config, streams: Streams) -> int:
    from concurrent.futures import ThreadPoolExecutor

    try:
        client = make_client(config)
    except ConfigError as exc:
        say(streams, f"warning: not refreshed from kie.ai: {exc}")
        return ExitCode.OK

    halted: list[Halt] = []
    halted_lock = threading.Lock()

    def one(item: tuple[Ledger, Submission]) -> int:
        ledger, sub = item
        assert sub.task_id is not None
        if halted:
            return (
                ExitCode.API
            )  # an account-wide refusal: asking about the other tasks changes nothing
        try:
            info = client.record_info(sub.task_id, scene_id=sub.scene_id)
        except Halt as exc:
            with halted_lock:
                first = not halted
                halted.append(exc)
            if first:  # reported once, not once per task
                say(streams, f"error: {exc}")
            return ExitCode.API
        except KieError as exc:
            say(streams, f"warning: {exc}")
            return ExitCode.OK
        record_answer(ledger, sub.id, info)  # the same rules as `run`'s polling
        return ExitCode.OK

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return max(pool.map(one, running), default=0)
    finally:
        client.close()


def credits_command(*, as_json: bool, streams: Streams) -> int:
    try:
        config = _config([])
        client = make_client(config)
        try:
            balance = client.credit()
        finally:
            client.close()
    except RunError as exc:
        say(streams, f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return interrupted(streams, exc)
    rate = config.usd_per_credit
    if as_json:
        shown = dumps({"credits": balance, "est_usd": round(balance * rate, 6)})
    else:
        shown = f"{credits(balance)} credits (~{usd(balance * rate)}, an estimate)"
    streams.out.write(shown + "\n")
    return ExitCode.OK
