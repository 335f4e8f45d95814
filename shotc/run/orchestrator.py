"""Run stage: the orchestrator, which takes each job from upload through createTask, polling
and download, concurrently, and never sends a scene twice.

One worker thread per job (they spend their life asleep, waiting on the network or on the
limiter). The createTask steps live in `shotc.run.submission` (mixed in here), their retry
rule in `shotc.run.submit_policy`; this module holds the control (gate, signals, halts) and
each job's flow from submission to download. On Ctrl-C or SIGTERM no new POST starts, in-flight
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

from shotc.exits import ExitCode
from shotc.run.client import KieClient
from shotc.run.config import Config
from shotc.run.continuity import Continuity
from shotc.run.downloads import Downloader
from shotc.run.errors import (
    Halt,
    KieError,
    LocalIOError,
    halt_note,
)
from shotc.run.ledger import ClaimedElsewhere, Ledger, LedgerWriteFailed
from shotc.run.ledger_schema import (
    ABANDONED,
    FAIL,
    SUCCESS,
    UNKNOWN,
    Submission,
)
from shotc.run.ledger_schema import (
    NOT_SENT as LEDGER_NOT_SENT,
)
from shotc.run.limiter import Limiter, RateLimiter
from shotc.run.planner import DONE as PLAN_DONE
from shotc.run.planner import Job
from shotc.run.polling import follow
from shotc.run.progress import Progress
from shotc.run.retry import Backoff, Sleep, Stopped, wait_on
from shotc.run.scene_key import DigestCache
from shotc.run.signals import SIGNAL_EXIT, Terminated
from shotc.run.states import Outcome
from shotc.run.submission import NOT_RESENT, SubmitSteps
from shotc.run.uploads import Uploader

# Outcomes reported per job in the summary.
DONE, CACHED, FAILED, UNKNOWN_OUT = Outcome.DONE, Outcome.CACHED, Outcome.FAILED, Outcome.UNKNOWN
REFUSED, NOT_SENT, RUNNING, ERROR = (
    Outcome.REFUSED,
    Outcome.NOT_SENT,
    Outcome.RUNNING,
    Outcome.ERROR,
)


# A shared ledger: how often to look at another machine's attempt until it has a task id, and
# how many times a scene may be claimed again after other machines' attempts created nothing.
AWAIT_POLL = 0.5
CLAIM_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class RunOptions:
    wait: bool = True
    handle_sigint: bool = True


class Orchestrator(SubmitSteps):
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
        sleep: Sleep = wait_on,
        continuity: Continuity | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self.jobs = jobs
        # The run's one monotonic clock and its one way of waiting (tests inject a fake clock
        # and a sleep that advances it, so retries and polls cost no wall-clock time).
        self._clock = clock
        self._sleep = sleep
        self._continuity = continuity  # FIRST FRAME after: dependents wait for their source
        self._ledgers = ledgers
        self._client = client
        self._downloader = downloader
        self._settings = config.run
        self._progress = progress
        self._options = options or RunOptions()
        self.stop = stop or threading.Event()
        # The account's limit: this machine's own window, or the one shared by every machine
        # on a PostgreSQL ledger.
        self.limiter: Limiter = limiter or RateLimiter(
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
        # INTERRUPTED or TERMINATED once a SIGINT or SIGTERM asked the run to stop
        self.signal_exit: int = ExitCode.OK
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
        self.signal_exit = SIGNAL_EXIT.get(signum, ExitCode.INTERRUPTED)
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

    def _heartbeat(self) -> None:
        """On a ledger shared with other machines' runs, say this run is alive: its claims'
        leases run on (`ledger_claims`). A failed write is remembered by the ledger, which
        then refuses new attempts, as after any failed write."""
        for ledger in self._ledgers.values():
            if not ledger.exclusive:
                with contextlib.suppress(LocalIOError):
                    ledger.renew_leases(self._settings.claim_lease)

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
            beat = self._clock()
            while True:
                alive = [t for t in threads if t.is_alive()]
                if not alive:
                    break
                if self._clock() >= beat:
                    beat = self._clock() + self._settings.claim_lease / 3
                    self._heartbeat()
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
            if not self._send_or_follow(job, ledger):
                return
            if job.sub is None or job.sub.state == UNKNOWN:
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
                    clock=self._clock,
                    sleep=self._sleep,
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

    def _send_or_follow(self, job: Job, ledger: Ledger) -> bool:
        """Send the job's scene, or follow the attempt another machine holds at it (a shared
        ledger); False when the job is over already. An attempt of theirs that ends having
        created nothing leaves the scene to whoever claims it next: this run tries again."""
        for _ in range(CLAIM_ROUNDS):
            if job.will_send:
                try:
                    if not self._submit(job, ledger):
                        return False
                except ClaimedElsewhere as exc:
                    job.sub = ledger.get(exc.submission_id)
                    job.will_send = False
            sub = job.sub
            if sub is None or not sub.being_sent:
                return True
            sub = self._await_other(job, ledger)
            if sub.state in (LEDGER_NOT_SENT, ABANDONED):
                job.will_send = True
                continue
            if sub.being_sent:
                why = "still being sent by another machine"
                self._finish(job, RUNNING, f"{why} (its run goes on; `shotc run` follows it)")
                return False
            return True
        self._finish(job, NOT_SENT, "other machines kept claiming it and giving up")
        return False

    def _await_other(self, job: Job, ledger: Ledger) -> Submission:
        """Wait for another machine's attempt to have a task id or to end without one (its
        owner silent past its lease: settled as the owner's next run would)."""
        assert job.sub is not None
        sid = job.sub.id
        self._progress.update(job, "waiting", "being sent by another machine")
        end = self._clock() + self._settings.deadline
        while True:
            ledger.expire_silent(sid)
            job.sub = ledger.get(sid)
            if not job.sub.being_sent or not self._options.wait or self._clock() >= end:
                return job.sub
            if self._sleep(self.stop, AWAIT_POLL):
                raise Stopped()

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
