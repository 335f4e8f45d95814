"""Run stage: the orchestrator, which takes each job from upload through createTask, polling
and download, concurrently, and never sends a scene twice.

One worker thread per job (they spend their life asleep, waiting on the network or on the
limiter). For createTask, the order is fixed: take a limiter slot, commit the intent, POST,
commit the answer. Only attempts that provably created nothing are repeated; an answer that
never came leaves the scene `unknown`. On Ctrl-C or SIGTERM no new POST starts, in-flight
POSTs are answered and recorded, and then waiting stops; the tasks go on at kie.ai. After the
first ledger write that fails, no new POST starts either, and a task id answered but not
recorded goes to the recovery file (`shotc.run.recovery`) at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from shotc.run import recovery
from shotc.run.client import KieClient
from shotc.run.config import Config
from shotc.run.continuity import Continuity
from shotc.run.downloads import Downloader
from shotc.run.errors import (
    AnswerLost,
    Halt,
    KieError,
    LocalIOError,
    NotSent,
    RateLimited,
    Rejected,
    ServerError,
    halt_note,
)
from shotc.run.ledger import Ledger, LedgerWriteFailed
from shotc.run.ledger_schema import FAIL, SUCCESS, UNKNOWN
from shotc.run.limiter import RateLimiter, Slot
from shotc.run.planner import DONE as PLAN_DONE
from shotc.run.planner import Job
from shotc.run.polling import follow
from shotc.run.progress import Progress
from shotc.run.retry import Backoff, Stopped
from shotc.run.scene_key import DigestCache
from shotc.run.signals import SIGNAL_EXIT, Terminated
from shotc.run.states import Outcome
from shotc.run.submit_policy import Counters, GiveUp, decide
from shotc.run.uploads import Resolved, Uploader, unfetchable

# Outcomes reported per job in the summary.
DONE, CACHED, FAILED, UNKNOWN_OUT = Outcome.DONE, Outcome.CACHED, Outcome.FAILED, Outcome.UNKNOWN
REFUSED, NOT_SENT, RUNNING, ERROR = (
    Outcome.REFUSED,
    Outcome.NOT_SENT,
    Outcome.RUNNING,
    Outcome.ERROR,
)
NOT_RESENT = "Not re-sent: pass --resubmit-unknown to send it again"


@dataclass(frozen=True, slots=True)
class RunOptions:
    wait: bool = True
    handle_sigint: bool = True


class Orchestrator:
    def __init__(
        self,
        jobs: list[Job],
        ledgers: dict[Any, Ledger],
        *,
        client: KieClient | None,
        downloader: Downloader,
        config: Config,
        progress: Progress,
        options: RunOptions | None = None,
        stop: threading.Event | None = None,
        digest: DigestCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        continuity: Continuity | None = None,
    ) -> None:
        self.jobs = jobs
        self._clock = clock  # the run's one monotonic clock (injected by tests)
        self._continuity = continuity  # FIRST FRAME after: dependents wait for their source
        self._ledgers = ledgers
        self._client = client
        self._downloader = downloader
        self._settings = config.run
        self._progress = progress
        self._options = options or RunOptions()
        self.stop = stop or threading.Event()
        self.limiter = RateLimiter(
            self._settings.rate_limit, self._settings.rate_period, clock=clock
        )
        self._backoff = Backoff(
            self._settings.retry_base, self._settings.retry_max, self._settings.retries
        )
        self._uploader = (
            Uploader(client, self._settings, digest or DigestCache(), self.stop)
            if client is not None
            else None
        )
        self._flight = threading.Condition()
        self._in_flight = 0
        self.halt: Halt | None = None
        self.interrupted = False
        self.signal_exit = 0  # 130 or 143 once a SIGINT or SIGTERM asked the run to stop
        # Set when no new POST may start: stopped, halted by kie.ai, or the ledger failed.
        self._gate = threading.Event()
        self.ledger_failure: LedgerWriteFailed | None = None
        self._downloads = threading.BoundedSemaphore(max(1, self._settings.download_workers))
        if client is not None:  # its waits for an unreachable kie.ai end on Ctrl-C too
            client.attach(self.stop, progress.say)

    # -- control --------------------------------------------------------------------------

    def request_stop(self) -> None:
        with self._flight:
            self.stop.set()
            self._gate.set()
        self.limiter.wake()

    def _close_gate(self) -> None:
        with self._flight:
            self._gate.set()
        self.limiter.wake()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop.is_set():  # a second Ctrl-C (or SIGTERM): leave at once
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        self.interrupted = True
        self.signal_exit = SIGNAL_EXIT.get(signum, 130)
        self._progress.say(
            "stopping: no new submissions; waiting for requests in flight to be answered "
            "(Ctrl-C again to quit now). The tasks go on: `shotc run` or `shotc status` "
            "picks them up."
        )
        self.request_stop()

    def _set_halt(self, exc: Halt) -> None:
        with self._flight:
            first = self.halt is None
            if first:
                self.halt = exc
        if first:
            self._progress.say(f"no new submissions in this run: {exc}")
        self._close_gate()

    def _ledger_broke(self, exc: LedgerWriteFailed) -> None:
        """The first failed ledger write: nothing more is sent in this run."""
        with self._flight:
            first = self.ledger_failure is None
            if first:
                self.ledger_failure = exc
        if first:
            self._progress.say(
                f"error: {exc}; no new submissions in this run (free some space, then run "
                "`shotc run` again: tasks already created are followed, none is paid twice)"
            )
        self._close_gate()

    def _why_not_sent(self) -> str:
        if self.ledger_failure is not None:
            return "not sent: the ledger cannot be written"
        return halt_note(self.halt) if self.halt else "stopped before sending"

    def run(self) -> list[Job]:
        previous: dict[int, Any] = {}
        in_main = threading.current_thread() is threading.main_thread()
        if self._options.handle_sigint and in_main:
            for signum in SIGNAL_EXIT:
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            threads = [
                threading.Thread(target=self._work, args=(job,), daemon=True) for job in self.jobs
            ]
            for thread in threads:
                thread.start()
            tick = 0.2 if self._progress.live else 1.0
            while True:
                alive = [t for t in threads if t.is_alive()]
                if not alive:
                    break
                if self.stop.is_set():
                    with self._flight:
                        while self._in_flight:
                            self._flight.wait(tick)
                    break
                self._progress.refresh(self.jobs)
                alive[0].join(tick)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        for job in self.jobs:
            if not job.outcome:
                running = job.sub is not None and job.sub.unsettled
                job.outcome = RUNNING if running else NOT_SENT
                job.message = "stopped waiting" if running else "stopped before sending"
                job.io_error = not running and self.ledger_failure is not None
        self._progress.finish(self.jobs)
        return self.jobs

    # -- one job --------------------------------------------------------------------------

    def _finish(self, job: Job, outcome: Outcome, message: str = "") -> None:
        job.outcome = outcome
        job.ended = self._clock()
        self._progress.update(job, outcome, message)
        if self._continuity is not None:
            self._continuity.ended(job)

    def _work(self, job: Job) -> None:
        job.started = self._clock()
        ledger = self._ledgers[job.ledger_path]
        try:
            if job.after is not None and self._continuity is not None:
                self._progress.update(job, "waiting", f"after {job.after}")
                held = self._continuity.ready(job, self.stop)
                if held is not None:
                    self._finish(job, *held)
                    return
            if job.will_send:
                if not self._submit(job, ledger):
                    return
            elif job.sub is None or job.sub.state == UNKNOWN:
                why = "the POST got no answer; the task may exist."
                self._finish(job, UNKNOWN_OUT, f"{why} {NOT_RESENT}")
                return
            sub = job.sub
            assert sub is not None
            if sub.unsettled:
                assert self._client is not None
                stopped = follow(
                    job,
                    ledger,
                    client=self._client,
                    settings=self._settings,
                    backoff=self._backoff,
                    stop=self.stop,
                    progress=self._progress,
                    wait=self._options.wait,
                )
                if stopped is not None:
                    if stopped.halt is not None:
                        self._set_halt(stopped.halt)
                    self._finish(job, RUNNING, stopped.message)
                    return
            sub = job.sub
            assert sub is not None
            if sub.state == FAIL:
                self._finish(
                    job,
                    FAILED,
                    f"failCode={sub.fail_code} failMsg={sub.fail_msg} task {sub.task_id}",
                )
            elif sub.state == SUCCESS:
                self._download(job, ledger)
            else:
                self._finish(job, UNKNOWN_OUT, f"ledger state {sub.state}")
        except Stopped:
            running = job.sub is not None and job.sub.unsettled
            self._finish(job, RUNNING if running else NOT_SENT, "stopped")
        except Halt as exc:
            self._set_halt(exc)
            self._finish(job, NOT_SENT, halt_note(exc))
        except LocalIOError as exc:
            if isinstance(exc, LedgerWriteFailed):
                self._ledger_broke(exc)
            job.io_error = True
            self._finish(job, ERROR, str(exc))
        except KieError as exc:
            self._finish(job, ERROR, str(exc))
        except Exception as exc:  # a bug must not take the other scenes down with it
            self._finish(job, ERROR, f"internal error: {type(exc).__name__}: {exc}")

    def _submit(self, job: Job, ledger: Ledger) -> bool:
        """Create the task; True when a task id was recorded (job.sub holds it)."""
        if self._gate.is_set():
            job.io_error = self.ledger_failure is not None
            self._finish(job, NOT_SENT, self._why_not_sent())
            return False
        assert self._client is not None and self._uploader is not None and job.request
        self._progress.update(job, "uploading")
        resolved = self._uploader.resolve(job.request, ledger, media=job.media)
        replaces = job.sub.id if job.sub is not None and job.sub.state == UNKNOWN else None
        sid: int | None = None
        counters = Counters()
        patience = self._clock() + self._settings.rate_limit_patience
        self._progress.update(job, "queued")
        while True:
            slot = self.limiter.acquire(self._gate)
            with self._flight:
                go = slot is not None and not self._gate.is_set()
                if go:
                    self._in_flight += 1
            if not go:
                if slot is not None:
                    self.limiter.release(slot, counts=False)
                job.io_error = self.ledger_failure is not None
                if sid is not None:
                    ledger.not_sent(sid, "stopped between attempts")
                self._finish(job, NOT_SENT, self._why_not_sent())
                return False
            assert slot is not None
            try:
                result = self._post(job, ledger, resolved, slot, sid, replaces, counters.refreshed)
            finally:
                with self._flight:
                    self._in_flight -= 1
                    self._flight.notify_all()
            if isinstance(result, str):
                return True
            sid, exc = result
            if exc is None:
                return False
            # `_post` settles every refusal itself but the one for stale cached uploads.
            decision = decide(
                exc,
                counters,
                self._clock(),
                backoff=self._backoff,
                retries=self._settings.retries,
                patience_until=patience,
                unfetchable_with_cache=isinstance(exc, Rejected),
            )
            if isinstance(decision, GiveUp):
                ledger.not_sent(sid, decision.why)
                self._finish(job, NOT_SENT, decision.why)
                return False
            counters = decision.counters
            if decision.refresh_uploads:
                # Refused, maybe for cached uploads kie.ai no longer has. Nothing was created,
                # so sending it again cannot pay twice; once, with this run's own uploads.
                self._progress.update(job, "uploading", "cached uploads refused: uploading again")
                try:
                    resolved = self._uploader.refresh(
                        job.request, resolved, ledger, media=job.media
                    )
                except BaseException as err:
                    ledger.not_sent(sid, f"uploading again failed: {err or type(err).__name__}")
                    raise
                continue
            if decision.pause_limiter:
                self.limiter.pause(decision.wait)  # a 429 is the account's: everyone waits
            self._progress.update(job, "retrying", str(exc))
            if self.stop.wait(decision.wait):
                ledger.not_sent(sid, "stopped between attempts")
                self._finish(job, NOT_SENT, "stopped")
                return False

    def _post(
        self,
        job: Job,
        ledger: Ledger,
        resolved: Resolved,
        slot: Slot,
        sid: int | None,
        replaces: int | None,
        refreshed: bool,
    ) -> str | tuple[int, KieError | None]:
        """One createTask attempt, recorded before and after. The task id on success; else
        (submission id, the error if it may be retried, or None when the job is settled).
        A Rejected error asks for the request to be resolved again with fresh uploads."""
        assert self._client is not None and self._uploader is not None
        counts = False  # nothing has left this machine yet: the slot goes back unused
        try:
            if sid is None:
                sid = ledger.begin(
                    scene_key=job.key,
                    take=job.take,
                    script=job.script_name,
                    scene_id=job.scene_id,
                    film_title=job.film_title,
                    request=job.canonical,
                    seconds=job.seconds,
                    mode=job.mode,
                    sound=job.sound,
                    est_credits=job.est_credits,
                    replaces_unknown=replaces,
                ).id
            else:
                ledger.attempt(sid)
            if self._gate.is_set():
                # Stopped (or the ledger failed) between the intent and the POST: not sent.
                self._not_sent_before_post(job, ledger, sid)
                return sid, None
            self._progress.update(job, "sending")
            counts = True  # from here a task may exist: the slot ages from the answer
            try:
                task_id = self._client.create_task(resolved.body, scene_id=job.scene_id)
            except (NotSent, RateLimited, ServerError) as exc:
                # Nothing was created, so this attempt is not one of the N new tasks a period.
                counts = False
                ledger.retrying(sid, str(exc))
                return sid, exc
            except AnswerLost as exc:
                ledger.unknown(sid, str(exc))
                self._finish(job, UNKNOWN_OUT, f"{exc}; the task may exist. {NOT_RESENT}")
                return sid, None
            except Halt as exc:
                ledger.not_sent(sid, str(exc))
                self._set_halt(exc)
                self._finish(job, NOT_SENT, halt_note(exc))
                return sid, None
            except Rejected as exc:
                if unfetchable(exc):
                    if resolved.cached and not refreshed:
                        ledger.retrying(sid, f"{exc}; uploading its media again")
                        return sid, exc
                    # No longer trusted, fresh or not: the next run uploads these files again.
                    self._uploader.forget(resolved.uploads, ledger)
                ledger.not_sent(sid, str(exc))
                self._finish(job, REFUSED, str(exc))
                return sid, None
            except Exception as exc:
                # We cannot tell whether it left: treat it like a lost answer.
                ledger.unknown(sid, f"internal error while sending: {exc!r}")
                raise
            self._record_created(job, ledger, sid, task_id)
        finally:
            # On every path, a failing ledger write included: a slot never given back would
            # leave every later acquire() waiting for ever.
            self.limiter.release(slot, counts=counts)
        job.sub = ledger.get(sid)
        job.created_now = True
        self._progress.update(job, "submitted", task_id)
        return task_id

    def _not_sent_before_post(self, job: Job, ledger: Ledger, sid: int) -> None:
        job.io_error = self.ledger_failure is not None
        try:
            ledger.not_sent(sid, "stopped before its POST")
        except LedgerWriteFailed:
            # Left `sending`, the next run would call it `unknown`: the recovery file says
            # it never left.
            entry = recovery.Entry(recovery.NOT_SENT_MARK, sid, job.key, job.take, job.scene_id)
            recovery.save(ledger.path, [entry])
        self._finish(job, NOT_SENT, self._why_not_sent())

    def _record_created(self, job: Job, ledger: Ledger, sid: int, task_id: str) -> None:
        try:
            ledger.created(sid, task_id)
        except LedgerWriteFailed as exc:
            # The task exists and is paid for: its id reaches the user now, and the recovery
            # file where the disk allows, so the next `run` records and follows it.
            self._ledger_broke(exc)
            job.created_now = True  # counted in the summary's "task(s) created": it was
            entry = recovery.Entry(task_id, sid, job.key, job.take, job.scene_id)
            where = recovery.save(ledger.path, [entry])
            kept = (
                f"saved in {where}: the next `shotc run` or `shotc status` records and follows it"
                if where is not None
                else "and no recovery file could be written: note this task id"
            )
            self._progress.say(
                f"error: scene {job.scene_id}: task {task_id} was created (paid) but the "
                f"ledger could not record it; {kept}"
            )
            raise LocalIOError(f"task {task_id} was created but not recorded ({kept})") from None
        except LocalIOError as exc:
            # The ledger refused this id (it holds it for another submission): the id is
            # kept in this row's error, `unknown`, not re-sent without --resubmit-unknown.
            why = f"task {task_id} was created but not recorded: {exc}"
            with contextlib.suppress(LocalIOError):
                ledger.unknown(sid, why)
            raise LocalIOError(why) from None

    def _download(self, job: Job, ledger: Ledger) -> None:
        assert job.sub is not None
        self._progress.update(job, "downloading")
        hows: list[str] = []
        with self._downloads:
            for target in job.targets:
                outcome = self._downloader.ensure(job.sub, target, ledger)
                hows.append(outcome.how)
                job.paths.append(outcome.path)
        was_done = job.plan_state == PLAN_DONE
        fetched = [h for h in hows if h != "present"]
        note = ", ".join(str(p) for p in job.paths)
        if was_done and fetched:
            note += f" ({'/'.join(sorted(set(fetched)))} again)"
        self._finish(job, CACHED if was_done else DONE, note)
