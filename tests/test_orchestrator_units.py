"""Fast unit tests of the orchestrator: a fake kie.ai client, a real ledger in a temporary
directory, a fake clock and an injected sleep that advances it. No server, no network, no
wall-clock waits: a retry of 60 s or a poll deadline of half an hour takes microseconds.

Each case runs one scene of a small script through plan → orchestrator → ledger, and asserts
what the user would see (the job's outcome), what was paid for (createTask calls) and what
the ledger holds afterwards (state, attempts), plus the waits the run chose."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fakekie import clip_bytes

from shotc.language.compiler import compile_paths
from shotc.run.client import KieClient, TaskInfo
from shotc.run.config import Config, RunSettings
from shotc.run.downloads import Downloader
from shotc.run.errors import (
    AnswerLost,
    KieError,
    NoCredits,
    RateLimited,
    Rejected,
    ServerError,
)
from shotc.run.ledger import Ledger
from shotc.run.ledger_open import open_ledgers
from shotc.run.ledger_schema import NOT_SENT, SUCCESS, UNKNOWN
from shotc.run.limiter import RateLimiter
from shotc.run.orchestrator import Orchestrator, RunOptions
from shotc.run.planner import Job, plan_run
from shotc.run.progress import Progress
from shotc.run.retry import Backoff
from shotc.run.selection import Selection
from shotc.run.states import Outcome

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "rehearsal.shot"
CDN = "https://cdn.test/clip.mp4"


@dataclass
class FakeTime:
    """The run's clock and its sleep: sleeping moves the clock, nothing else does."""

    now: float = 1000.0
    waits: list[float] = field(default_factory=list)
    stop_after: int | None = None  # set the stop event at the Nth wait (1-based)

    def clock(self) -> float:
        return self.now

    def sleep(self, stop: threading.Event, seconds: float) -> bool:
        if stop.is_set():
            return True
        self.waits.append(seconds)
        if self.stop_after is not None and len(self.waits) >= self.stop_after:
            stop.set()
            return True
        self.now += seconds
        return False


Answer = str | KieError  # a task id, or the error createTask raises


class FakeClient:
    """What the orchestrator asks of `KieClient`: createTask answers are scripted in order;
    recordInfo answers each task with the scripted states, then `success`."""

    upload_base = "https://upload.test"  # nothing is uploaded: the example's media are URLs

    def __init__(self, creates: list[Answer], states: list[str] | None = None) -> None:
        self._creates = list(creates)
        self._states = list(states or [])
        self.create_calls: list[dict[str, Any]] = []
        self.polls: list[str] = []
        self.said: list[str] = []

    def attach(self, stop: threading.Event, say: Callable[[str], None]) -> None:
        self.said.append("attached")

    def create_task(self, body: dict[str, Any], *, scene_id: str | None = None) -> str:
        self.create_calls.append(body)
        answer = self._creates.pop(0)
        if isinstance(answer, KieError):
            raise answer
        return answer

    def record_info(self, task_id: str, *, scene_id: str | None = None) -> TaskInfo:
        self.polls.append(task_id)
        if self._states:
            return TaskInfo(task_id=task_id, state=self._states.pop(0))
        return TaskInfo(task_id=task_id, state=SUCCESS, result_urls=[CDN])


@dataclass
class Run:
    job: Job
    ledger: Ledger
    client: FakeClient
    time: FakeTime
    orchestrator: Orchestrator
    output: io.StringIO

    @property
    def state(self) -> str:
        assert self.job.sub is not None or self.ledger.all_latest()
        latest = self.ledger.all_latest()
        assert len(latest) == 1
        return latest[0].state


def paused_until(run: Run) -> float:
    limiter = run.orchestrator.limiter
    assert isinstance(limiter, RateLimiter)
    return limiter._paused_until


@pytest.fixture
def project(tmp_path: Path) -> Path:
    script = tmp_path / "film.shot"
    shutil.copy(EXAMPLE, script)
    return script


@pytest.fixture
def run_one(project: Path) -> Iterator[Callable[..., Run]]:
    opened: list[Ledger] = []
    downloaders: list[Downloader] = []

    def run(
        client: FakeClient,
        *,
        wait: bool = True,
        stop_after: int | None = None,
        **settings: Any,
    ) -> Run:
        compiled = compile_paths([project]).scenes
        ledgers = open_ledgers([project], create=True, setting=None)
        opened.extend(lg for lg in ledgers.values() if lg is not None)
        run_settings = RunSettings(**{"retry_base": 1.0, "retry_max": 60.0, **settings})
        config = Config(run=run_settings)
        jobs = plan_run(compiled, ledgers, config, Selection()).jobs
        assert len(jobs) == 1 and jobs[0].will_send
        fake_time = FakeTime(stop_after=stop_after)
        stop = threading.Event()
        cdn = httpx.MockTransport(lambda request: httpx.Response(200, content=clip_bytes("t")))
        downloader = Downloader(backoff=Backoff(0.0, 0.0, 0), stop=stop, transport=cdn)
        downloaders.append(downloader)
        out = io.StringIO()
        orchestrator = Orchestrator(
            jobs,
            {p: lg for p, lg in ledgers.items() if lg is not None},
            client=cast(KieClient, client),
            downloader=downloader,
            config=config,
            progress=Progress(out, live=False),
            options=RunOptions(wait=wait, handle_sigint=False),
            stop=stop,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
        )
        orchestrator.run()
        ledger = next(iter(ledgers.values()))
        assert ledger is not None
        return Run(jobs[0], ledger, client, fake_time, orchestrator, out)

    yield run
    for downloader in downloaders:
        downloader.close()
    for ledger in opened:
        ledger.close()


def test_success_first_time_polls_then_downloads(run_one: Callable[..., Run]) -> None:
    run = run_one(FakeClient(["task-1"], states=["waiting", "generating"]), poll_initial=2.0)
    assert run.job.outcome == Outcome.DONE
    assert len(run.client.create_calls) == 1
    assert run.state == SUCCESS
    assert run.job.paths and run.job.paths[0].read_bytes() == clip_bytes("t")
    # Polls: the first after poll_initial, then growing by poll_factor (1.5).
    assert run.time.waits == [2.0, 2.0, 3.0]
    assert run.client.polls == ["task-1"] * 3


def test_server_errors_twice_then_created_once(run_one: Callable[..., Run]) -> None:
    client = FakeClient([ServerError("500"), ServerError("503"), "task-1"])
    run = run_one(client, wait=False)
    assert run.job.outcome == Outcome.RUNNING  # created, not waited for
    assert len(client.create_calls) == 3
    sub = run.ledger.all_latest()[0]
    assert sub.task_id == "task-1" and sub.attempts == 3
    # Two backoff waits, each within [base*2**n / 2, base*2**n] (jitter), nothing on the wall.
    first, second = run.time.waits
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0
    assert paused_until(run) == 0.0  # a 5xx is not the account's


def test_rate_limited_waits_retry_after_and_pauses_everyone(
    run_one: Callable[..., Run],
) -> None:
    client = FakeClient([RateLimited("429", retry_after=7.0), "task-1"])
    run = run_one(client, wait=False)
    assert len(client.create_calls) == 2
    assert run.job.sub is not None and run.job.sub.task_id == "task-1"
    assert run.time.waits[0] >= 7.0  # never sooner than kie.ai asked
    # The pause covers the whole account: the limiter was paused until that moment.
    assert paused_until(run) >= 1000.0 + 7.0


def test_retries_exhausted_is_not_sent_and_can_be_sent_again(
    run_one: Callable[..., Run],
) -> None:
    client = FakeClient([ServerError("502 from the app")] * 3)
    run = run_one(client, retries=2)
    assert run.job.outcome == Outcome.NOT_SENT
    assert len(client.create_calls) == 3  # the first try and two retries
    assert len(run.time.waits) == 2
    assert run.state == NOT_SENT  # nothing was created: a later run may send it
    assert "gave up after 2 retries" in run.job.message


def test_rate_limit_patience_bounds_429s_by_time(run_one: Callable[..., Run]) -> None:
    client = FakeClient([RateLimited("429", retry_after=30.0)] * 50)
    run = run_one(client, rate_limit_patience=100.0, retry_max=60.0)
    assert run.job.outcome == Outcome.NOT_SENT
    assert sum(run.time.waits) <= 100.0  # never waits past its patience
    assert len(client.create_calls) == len(run.time.waits) + 1 < 50
    assert run.state == NOT_SENT


def test_refused_request_settles_without_retry(run_one: Callable[..., Run]) -> None:
    client = FakeClient([Rejected("422 prompt too long", code=422)])
    run = run_one(client)
    assert run.job.outcome == Outcome.REFUSED
    assert len(client.create_calls) == 1 and run.time.waits == []
    assert run.state == NOT_SENT


def test_lost_answer_is_unknown_and_never_resent(run_one: Callable[..., Run]) -> None:
    client = FakeClient([AnswerLost("read timeout"), "never-asked-for"])
    run = run_one(client)
    assert run.job.outcome == Outcome.UNKNOWN
    assert len(client.create_calls) == 1  # the task may exist: sending again could pay twice
    assert run.state == UNKNOWN
    assert run.time.waits == []


def test_account_halt_stops_new_submissions(run_one: Callable[..., Run]) -> None:
    client = FakeClient([NoCredits("402 insufficient credits", code=402)])
    run = run_one(client)
    assert run.job.outcome == Outcome.NOT_SENT
    assert isinstance(run.orchestrator.halt, NoCredits)
    assert run.state == NOT_SENT


def test_stop_during_a_retry_wait_leaves_it_not_sent(run_one: Callable[..., Run]) -> None:
    client = FakeClient([ServerError("500"), "task-never"])
    run = run_one(client, stop_after=1)
    assert run.job.outcome == Outcome.NOT_SENT
    assert len(client.create_calls) == 1
    assert run.state == NOT_SENT


def test_poll_deadline_on_the_injected_clock(run_one: Callable[..., Run]) -> None:
    client = FakeClient(["task-1"], states=["generating"] * 1000)
    run = run_one(client, deadline=120.0, poll_initial=2.0, poll_max=30.0)
    assert run.job.outcome == Outcome.RUNNING
    assert "still generating after 120s" in run.job.message
    # Every wait is within the cap, and the waits add up to no more than the deadline.
    assert max(run.time.waits) <= 30.0
    assert sum(run.time.waits) <= 120.0
    assert len(client.polls) == len(run.time.waits) < 20
