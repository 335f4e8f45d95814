"""Run stage: the bodies of `plan` and `run`, returning exit codes, and the helpers they share
with `status` and `credits` (in `shotc.run.status`).

The click layer (`shotc/cli/run.py`) only parses options and calls these. Exit codes follow
the CLI contract: 0 ok, 1 script errors (nothing sent), 2 usage or configuration, 3 kie.ai
refused or failed (or a scene is left failed, unknown or unfinished), 4 local I/O (and any
run whose ledger failed: its fix is local); 130 after Ctrl-C, 143 after SIGTERM.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from shotc.exits import ExitCode
from shotc.language.compiler import CompiledScene, ScriptReadError, compile_paths
from shotc.run import recovery, signals
from shotc.run.client import DEFAULT_API_BASE, DEFAULT_UPLOAD_BASE, KieClient, Timeouts
from shotc.run.config import Config, find_config, load_config
from shotc.run.errors import ConfigError, LocalIOError, RunError
from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.ledger_location import Setting, chosen
from shotc.run.ledger_open import ledger_exists, open_ledgers
from shotc.run.ledger_schema import Submission
from shotc.run.planner import Job, output_dir, plan_run
from shotc.run.progress import Progress
from shotc.run.report import over_budget, plan_json, plan_table, summary_json, summary_table
from shotc.run.scene_key import DigestCache
from shotc.run.selection import SceneNotFound, Selection, select
from shotc.run.states import FAILED_OUTCOMES, Outcome
from shotc.run.untrusted import terminal
from shotc.terminal import interactive

if TYPE_CHECKING:  # psycopg only on a PostgreSQL ledger
    from shotc.run.shared_limiter import SharedRateLimiter


@dataclass(frozen=True, slots=True)
class Streams:
    out: TextIO
    err: TextIO


def say(streams: Streams, text: str) -> None:
    streams.err.write(terminal(text, keep_newlines=True) + "\n")
    streams.err.flush()


def interrupted(streams: Streams, exc: BaseException | None = None) -> int:
    """Ctrl-C (or SIGTERM) outside the orchestrator: 130 (143), not click's "Aborted!"."""
    say(streams, "interrupted")
    return signals.exit_code(exc)


def _compile(
    files: Sequence[Path], streams: Streams, allow: frozenset[str] = frozenset()
) -> list[CompiledScene] | int:
    """The compiled scenes, or an exit code (1 for script errors, 4 unreadable)."""
    try:
        result = compile_paths(list(files), allow=allow)
    except ScriptReadError as exc:
        say(streams, f"error: {exc}")
        return ExitCode.IO
    if result.diagnostics:
        from shotc.render import render_diagnostics
        from shotc.terminal import use_colour

        streams.err.write(render_diagnostics(result.diagnostics, use_colour(streams.err)))
        streams.err.flush()
    if not result.ok:
        say(streams, "nothing was sent: fix the errors above first")
        return ExitCode.ERRORS
    return result.scenes


def _config(config_path: Path | None, files: Sequence[Path]) -> Config:
    return load_config(find_config(config_path, list(files)))


def _api_key() -> str:
    """KIE_API_KEY, or the error that says how to set it."""
    key = os.environ.get("KIE_API_KEY", "").strip()
    if not key:
        raise ConfigError("KIE_API_KEY is not set: export your kie.ai API key first")
    return key


def make_client(config: Config) -> KieClient:
    """A KieClient from the environment (KIE_API_KEY, KIE_API_BASE, KIE_UPLOAD_BASE)."""
    key = _api_key()
    from shotc.run.retry import Backoff

    settings = config.run
    timeouts = Timeouts(connect=settings.timeout_connect, read=settings.timeout_read)
    return KieClient(
        key,
        api_base=os.environ.get("KIE_API_BASE") or DEFAULT_API_BASE,
        upload_base=os.environ.get("KIE_UPLOAD_BASE") or DEFAULT_UPLOAD_BASE,
        timeouts=timeouts,
        unreachable_timeout=settings.unreachable_timeout,
        backoff=Backoff(settings.retry_base, settings.retry_max, settings.retries),
    )


@contextlib.contextmanager
def run_lock(ledgers: Sequence[Ledger]) -> Iterator[bool]:
    """Hold the run lock of every ledger (`Ledger.try_run_lock`: `.shotc/run.lock` beside a
    SQLite file, an advisory lock in a PostgreSQL one): one `run` per ledger at a time, so no
    two processes can submit the same scene. Yields False (holding nothing) when busy.
    (`plan` and `status` take it for an instant to learn whether a run is live.)"""
    with contextlib.ExitStack() as held:
        for ledger in ledgers:
            lock = ledger.try_run_lock()
            if lock is None:
                held.close()  # release the ones taken before saying busy
                yield False
                return
            held.enter_context(lock)
        yield True


# -- plan -------------------------------------------------------------------------------------


def plan(
    files: Sequence[Path],
    selection: Selection,
    *,
    config_path: Path | None,
    as_json: bool,
    streams: Streams,
    allow: frozenset[str] = frozenset(),
) -> int:
    """Show what `run` with the same FILES and selection would send and spend, through the
    same `plan_run`; over `--budget` it exits 3, as that run would (nothing is ever sent)."""
    try:
        config = _config(config_path, files)
        scenes = _compile(files, streams, allow)
        if isinstance(scenes, int):
            return scenes
        chosen = _check_selection(scenes, selection)
        ledgers = open_ledgers([s.script for s in chosen], create=False, setting=config.ledger)
        try:
            opened = [lg for lg in ledgers.values() if lg is not None]
            with run_lock(opened) as free:
                pass  # free: no run is submitting, so a `sending` row is a crash's leftover
            recovered = frozenset(
                e.submission for lg in opened for e in recovery.read(lg.path)[0] if e.sent
            )
            planned = plan_run(
                scenes, ledgers, config, selection, crashed=free, recovered=recovered
            )
        finally:
            for ledger in ledgers.values():
                if ledger is not None:
                    ledger.close()
    except RunError as exc:
        say(streams, f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return interrupted(streams, exc)
    rate = config.usd_per_credit
    streams.out.write((plan_json(planned, rate) if as_json else plan_table(planned, rate)) + "\n")
    return ExitCode.API if planned.over_budget else ExitCode.OK


def _check_selection(scenes: list[CompiledScene], selection: Selection) -> list[CompiledScene]:
    """The scenes `--scene` names (their ledgers are the ones opened); one that names no
    scene is a usage error (exit 2), before any ledger is read."""
    try:
        return select(scenes, selection.scenes)
    except SceneNotFound as exc:
        raise ConfigError(str(exc)) from None


# -- run --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunRequest:
    files: Sequence[Path]
    selection: Selection = field(default_factory=Selection)
    wait: bool = True
    out_dir: Path | None = None
    config_path: Path | None = None
    as_json: bool = False
    allow: frozenset[str] = frozenset()  # warnings to leave out (`--allow`)


def run(req: RunRequest, streams: Streams) -> int:
    try:
        budget = req.selection.budget
        if budget is not None and not (math.isfinite(budget.amount) and budget.amount >= 0):
            # Every comparison with NaN is false: `--budget nan` would silently be no budget.
            raise ConfigError("--budget must be a finite amount, 0 or more")
        config = _config(req.config_path, req.files)
        compiled = _compile(req.files, streams, req.allow)
        if isinstance(compiled, int):
            return compiled
        chosen = _check_selection(compiled, req.selection)
        _key_before_ledger(chosen, config.ledger)
        ledgers = open_ledgers([s.script for s in chosen], create=True, setting=config.ledger)
        opened = [ledger for ledger in ledgers.values() if ledger is not None]
        try:
            with run_lock(opened) as locked:
                if not locked:
                    raise LocalIOError("another `shotc run` is using this project's ledger")
                return _run_locked(req, config, compiled, ledgers, opened, streams)
        finally:
            for ledger in opened:
                ledger.close()
    except RunError as exc:
        say(streams, f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        # While compiling, planning or printing the summary (the orchestrator handles its own).
        return interrupted(streams, exc)


def _key_before_ledger(scenes: Sequence[CompiledScene], setting: Setting | None) -> None:
    """A script without a ledger has only new scenes, which need the key: say it is missing
    before `.shotc/` is created, not after (a first `run` without a key leaves nothing behind).
    With a ledger, the key is asked for only when something must be sent or followed."""
    if any(not ledger_exists(s.script, setting) for s in scenes):
        _api_key()


def _followed(sub: Submission) -> bool:
    """Worth asking kie.ai about: running, or another machine's attempt still being sent
    (a shared ledger: its task id is followed once it has one)."""
    return sub.unsettled or sub.being_sent


def _shared_limiter(config: Config, ledgers: Sequence[Ledger]) -> SharedRateLimiter | None:
    """On a PostgreSQL ledger, the account's limit is kept in the database for every machine;
    None: this machine's own window (`RateLimiter`)."""
    setting = chosen(config.ledger)
    if setting is None or not isinstance(setting.where, str) or not ledgers:
        return None
    from shotc.run.shared_limiter import SharedRateLimiter

    settings = config.run
    owner = ledgers[0].machine_id() or "?"
    return SharedRateLimiter(
        setting.where,
        settings.rate_limit,
        settings.rate_period,
        owner=owner,
        # The latest the server can count a request this machine sent: its timeouts.
        in_flight_max=settings.timeout_connect + settings.timeout_read,
    )


def _run_locked(
    req: RunRequest,
    config: Config,
    compiled: list[CompiledScene],
    ledgers: dict[Path, Ledger | None],
    opened: list[Ledger],
    streams: Streams,
) -> int:
    """The run itself, holding the lock, over every compiled scene (`plan_run` applies the
    selection, as it does for `plan`)."""
    from shotc.run.downloads import Downloader
    from shotc.run.orchestrator import Orchestrator, RunOptions

    for ledger in opened:
        # First what a run whose ledger failed left in the recovery file (those rows are
        # still `sending`), then the crash's leftovers.
        for entry in recovery.apply(ledger, lambda text: say(streams, f"warning: {text}")):
            if entry.sent:
                say(
                    streams,
                    f"scene {entry.scene_id}: task {entry.task_id} recorded from the "
                    "recovery file; following it",
                )
        for sub in ledger.recover():
            if sub.state == "unknown":
                say(
                    streams,
                    f"warning: scene {sub.scene_id}: the previous run stopped while "
                    "its createTask was in flight; it is `unknown` (the task may exist)",
                )
    digest = DigestCache()
    _settle(compiled, ledgers, req.out_dir, digest, streams)
    planned = plan_run(compiled, ledgers, config, req.selection, out_dir=req.out_dir, digest=digest)
    jobs, after = planned.jobs, planned.continuity
    if planned.over_budget:
        say(
            streams,
            f"error: over budget, nothing sent: {over_budget(planned, config.usd_per_credit)}",
        )
        return ExitCode.API
    from shotc.run import preflight

    preflight.check(jobs, opened)
    needs_api = any(j.will_send or (j.sub is not None and _followed(j.sub)) for j in jobs)
    client = make_client(config) if needs_api else None
    limiter = _shared_limiter(config, opened) if client is not None else None
    stop = threading.Event()
    settings = config.run
    downloader = Downloader.from_settings(settings, stop)
    progress = Progress(streams.err, live=interactive(streams.err))
    orch = Orchestrator(
        jobs,
        {lp: lg for lp, lg in ledgers.items() if lg is not None},
        client=client,
        downloader=downloader,
        config=config,
        progress=progress,
        stop=stop,
        digest=digest,
        options=RunOptions(wait=req.wait),
        continuity=after,
        limiter=limiter,
    )
    try:
        orch.run()
    except KeyboardInterrupt as exc:
        say(streams, "interrupted: requests still in flight are `unknown` until the next run")
        return signals.exit_code(exc)
    finally:
        if limiter is not None:
            limiter.close()
        downloader.close()
        if client is not None:
            client.close()
    if after is not None and not orch.interrupted and orch.ledger_failure is None:
        # FIRST FRAME after: a dependent sent with a new frame has its new version only since
        # that frame was recorded, during the run; its earlier takes go under `older/` now,
        # as an edited scene's do before a run (else they stay set aside beside the new take)
        _settle(compiled, ledgers, req.out_dir, DigestCache(), streams)
    rate = config.usd_per_credit
    summary = summary_json(jobs, rate) if req.as_json else summary_table(jobs, rate)
    streams.out.write(summary + "\n")
    if orch.interrupted:
        return orch.signal_exit
    if orch.ledger_failure is not None:
        return (
            ExitCode.IO
        )  # the fix is local (free the disk); the next run follows what was created
    return _exit_code(jobs, wait=req.wait, halted=orch.halt is not None)


def _settle(
    scenes: Sequence[CompiledScene],
    ledgers: dict[Path, Ledger | None],
    out_dir: Path | None,
    digest: DigestCache,
    streams: Streams,
) -> None:
    """File every recorded clip where the script now puts it (film.md "On disk"): an edited
    scene's clips under `older/`, a renamed one's in its new folder, the flat layout of an
    older shotc migrated. Before planning, so the downloads find their places free."""
    from shotc.film.layout import settle_scenes

    moves = settle_scenes(
        scenes,
        lambda script: ledgers.get(ledger_path_for(script)),
        lambda script: output_dir(script, out_dir),
        digest,
    )
    if moves:
        say(streams, f"note: {len(moves)} clip(s) moved to their place (see docs/film.md)")


def _exit_code(jobs: list[Job], *, wait: bool, halted: bool) -> int:
    if halted or any(
        j.outcome in FAILED_OUTCOMES or (j.outcome == Outcome.ERROR and not j.io_error)
        for j in jobs
    ):
        return ExitCode.API
    if wait and any(j.outcome in (Outcome.RUNNING, Outcome.WAITING) for j in jobs):
        return ExitCode.API
    if any(j.io_error for j in jobs):
        return ExitCode.IO
    return ExitCode.OK
