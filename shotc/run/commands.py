"""Run stage: the bodies of `plan` and `run`, returning exit codes, and the helpers they share
with `status` and `credits` (in `shotc.run.status`).

The click layer (`shotc/cli/run.py`) only parses options and calls these. Exit codes follow
the CLI contract: 0 ok, 1 script errors (nothing sent), 2 usage or configuration, 3 kie.ai
refused or failed (or a scene is left failed, unknown or unfinished), 4 local I/O (and any
run whose ledger failed: its fix is local); 130 after Ctrl-C, 143 after SIGTERM.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

from shotc.language.compiler import CompiledScene, ScriptReadError, compile_paths
from shotc.run import continuity, recovery, signals
from shotc.run.client import DEFAULT_API_BASE, DEFAULT_UPLOAD_BASE, KieClient, Timeouts
from shotc.run.config import Config, find_config, load_config
from shotc.run.errors import ConfigError, LocalIOError, RunError
from shotc.run.ledger import Ledger
from shotc.run.planner import Job, open_ledgers, orphan_jobs, plan_jobs
from shotc.run.progress import Progress
from shotc.run.report import (
    credits,
    plan_json,
    plan_table,
    plan_total,
    summary_json,
    summary_table,
)
from shotc.run.scene_key import DigestCache
from shotc.run.untrusted import terminal
from shotc.terminal import interactive


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
        return 4
    if result.diagnostics:
        from shotc.render import render_diagnostics
        from shotc.terminal import use_colour

        streams.err.write(render_diagnostics(result.diagnostics, use_colour(streams.err)))
        streams.err.flush()
    if not result.ok:
        say(streams, "nothing was sent: fix the errors above first")
        return 1
    return result.scenes


def _config(config_path: Path | None, files: Sequence[Path]) -> Config:
    return load_config(find_config(config_path, list(files)))


def make_client(config: Config) -> KieClient:
    """A KieClient from the environment (KIE_API_KEY, KIE_API_BASE, KIE_UPLOAD_BASE)."""
    key = os.environ.get("KIE_API_KEY", "").strip()
    if not key:
        raise ConfigError("KIE_API_KEY is not set: export your kie.ai API key first")
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
    """Hold `.shotc/run.lock` of every ledger: one `run` per project at a time, so no two
    processes can submit the same scene. Yields False (holding nothing) when busy. (`plan`
    and `status` take it for an instant to learn whether a run is live.)"""
    handles: list[IO[str]] = []
    try:
        for ledger in ledgers:
            path = ledger.path.parent / "run.lock"
            try:
                handle: IO[str] = path.open("a")
            except OSError as exc:
                raise LocalIOError(f"{path}: {exc.strerror or exc}") from None
            handles.append(handle)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
        yield True
    finally:
        for handle in handles:
            handle.close()  # closing releases the flock


def _select(scenes: list[CompiledScene], only: Sequence[str]) -> list[CompiledScene]:
    if not only:
        return scenes
    known = {s.scene_id for s in scenes}
    missing = [s for s in only if s not in known]
    if missing:
        raise ConfigError(f"no scene {', '.join(missing)} (scenes: {', '.join(sorted(known))})")
    return [s for s in scenes if s.scene_id in only]


# -- plan -------------------------------------------------------------------------------------


def plan(
    files: Sequence[Path],
    *,
    mode: str | None,
    take: int | None,
    resubmit_unknown: bool,
    config_path: Path | None,
    as_json: bool,
    streams: Streams,
    allow: frozenset[str] = frozenset(),
) -> int:
    try:
        config = _config(config_path, files)
        scenes = _compile(files, streams, allow)
        if isinstance(scenes, int):
            return scenes
        ledgers = open_ledgers([s.script for s in scenes], create=False)
        try:
            opened = [lg for lg in ledgers.values() if lg is not None]
            with run_lock(opened) as free:
                pass  # free: no run is submitting, so a `sending` row is a crash's leftover
            recovered = frozenset(
                e.submission for lg in opened for e in recovery.read(lg.path)[0] if e.sent
            )
            jobs = plan_jobs(
                scenes,
                ledgers,
                config,
                mode=mode,
                take=take,
                resubmit_unknown=resubmit_unknown,
                crashed=free,
                recovered=recovered,
            )
            continuity.arrange(jobs, scenes, ledgers, digest=DigestCache(), mode=mode)
        finally:
            for ledger in ledgers.values():
                if ledger is not None:
                    ledger.close()
    except RunError as exc:
        say(streams, f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return interrupted(streams, exc)
    streams.out.write((plan_json(jobs) if as_json else plan_table(jobs)) + "\n")
    return 0


# -- run --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunRequest:
    files: Sequence[Path]
    mode: str | None = None
    wait: bool = True
    budget: float | None = None
    out_dir: Path | None = None
    take: int | None = None  # None: each scene's `Takes: N`
    resubmit_unknown: bool = False
    scenes: Sequence[str] = ()
    config_path: Path | None = None
    as_json: bool = False
    allow: frozenset[str] = frozenset()  # warnings to leave out (`--allow`)


def run(req: RunRequest, streams: Streams) -> int:
    try:
        if req.budget is not None and not (math.isfinite(req.budget) and req.budget >= 0):
            # Every comparison with NaN is false: `--budget nan` would silently be no budget.
            raise ConfigError("--budget must be a finite number of credits, 0 or more")
        config = _config(req.config_path, req.files)
        compiled = _compile(req.files, streams, req.allow)
        if isinstance(compiled, int):
            return compiled
        scenes = _select(compiled, req.scenes)
        ledgers = open_ledgers([s.script for s in scenes], create=True)
        opened = [ledger for ledger in ledgers.values() if ledger is not None]
        try:
            with run_lock(opened) as locked:
                if not locked:
                    raise LocalIOError("another `shotc run` is using this project's ledger")
                others = [s for s in compiled if s not in scenes]
                return _run_locked(req, config, (scenes, others), ledgers, opened, streams)
        finally:
            for ledger in opened:
                ledger.close()
    except RunError as exc:
        say(streams, f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        # While compiling, planning or printing the summary (the orchestrator handles its own).
        return interrupted(streams, exc)


def _run_locked(
    req: RunRequest,
    config: Config,
    selected: tuple[list[CompiledScene], list[CompiledScene]],
    ledgers: dict[Path, Ledger | None],
    opened: list[Ledger],
    streams: Streams,
) -> int:
    """The run itself, holding the lock. `selected`: the scenes to run, and the ones
    `--scene` left out (whose current versions must not be taken for older ones)."""
    scenes, others = selected
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
    jobs = plan_jobs(
        scenes,
        ledgers,
        config,
        mode=req.mode,
        take=req.take,
        resubmit_unknown=req.resubmit_unknown,
        out_dir=req.out_dir,
        digest=digest,
    )
    jobs += orphan_jobs(
        jobs, ledgers, req.out_dir, others=others, mode=req.mode, take=req.take, digest=digest
    )
    after = continuity.arrange(
        jobs,
        [*scenes, *others],
        ledgers,
        digest=digest,
        out_dir=req.out_dir,
        mode=req.mode,
        resubmit_unknown=req.resubmit_unknown,
    )
    spend = plan_total(jobs)
    if req.budget is not None and spend > req.budget:
        say(
            streams,
            f"error: over budget: sending {sum(j.will_send for j in jobs)} scene(s) "
            f"would cost ~{credits(spend)} credits, the budget is {credits(req.budget)}; "
            "nothing was sent",
        )
        return 3
    from shotc.run import preflight

    preflight.check(jobs, opened)
    needs_api = any(j.will_send or (j.sub is not None and j.sub.unsettled) for j in jobs)
    client = make_client(config) if needs_api else None
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
    )
    try:
        orch.run()
    except KeyboardInterrupt as exc:
        say(streams, "interrupted: requests still in flight are `unknown` until the next run")
        return signals.exit_code(exc)
    finally:
        downloader.close()
        if client is not None:
            client.close()
    streams.out.write((summary_json(jobs) if req.as_json else summary_table(jobs)) + "\n")
    if orch.interrupted:
        return orch.signal_exit
    if orch.ledger_failure is not None:
        return 4  # the fix is local (free the disk); the next run follows what was created
    return _exit_code(jobs, wait=req.wait, halted=orch.halt is not None)


def _exit_code(jobs: list[Job], *, wait: bool, halted: bool) -> int:
    bad = {"failed", "refused", "unknown", "not sent", "blocked"}
    if halted or any(j.outcome in bad or (j.outcome == "error" and not j.io_error) for j in jobs):
        return 3
    if wait and any(j.outcome in ("running", "waiting") for j in jobs):
        return 3
    if any(j.io_error for j in jobs):
        return 4
    return 0
