"""`shotc run` when things go wrong: each test asserts what the contract (cli.md "What `run`
promises", kie-api.md, docs/run.md) requires in a situation the other tests do not cover.

Covered: a `success` answer without a result URL yet; a project moved after its clips were
written (with a current ledger, and with one that recorded absolute paths); `status` recording
a task's end while `run` waits on it; a success body under an odd HTTP status; a media file
edited during the run; a ledger failing before a POST (no hang) or refusing a duplicate task
id (the id is not lost); a key with a non-ASCII character; `--budget nan`; a media file name
with a `%XX` escape; `--scene` and older versions; Ctrl-C outside the orchestrator;
`status --refresh` and `shotc.toml`; answers older than an end recorded by another process.
They drive the real command line against the fake kie.ai, except where a fault can only be
injected in-process. Started as an adversarial review's reproductions."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import threading
import time
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fakekie import FakeKie
from fakekie.project import FAST_CONFIG, clips, png, shotc, spawn, write_project
from fakekie.server import _handler_for

from shotc.run import commands, status
from shotc.run.client import KieClient, TaskInfo
from shotc.run.config import Config
from shotc.run.errors import LocalIOError
from shotc.run.ledger import Ledger
from shotc.run.polling import record_answer


def ledger_task_ids(root: Path) -> set[str]:
    conn = sqlite3.connect(root / ".shotc" / "ledger.sqlite")
    try:
        rows = conn.execute("SELECT task_id FROM submissions").fetchall()
    finally:
        conn.close()
    return {r[0] for r in rows if r[0]}


class LateResultKie(FakeKie):
    """recordInfo says `success` before `resultJson` is filled in (the first few reads)."""

    def __init__(self, empty_reads: int) -> None:
        super().__init__()
        self.empty_reads = empty_reads

    def record(self, task_id: str) -> dict[str, Any]:
        answer = super().record(task_id)
        data = answer.get("data")
        if isinstance(data, dict) and data.get("state") == "success" and self.empty_reads > 0:
            self.empty_reads -= 1
            data["resultJson"] = ""
        return answer


class OddStatusKie(FakeKie):
    """createTask creates the task and answers kie.ai's success body (code 200, the task id)
    under another HTTP status."""

    def __init__(self, http_status: int) -> None:
        super().__init__()
        self.http_status = http_status
        self._server.server_close()
        fake = self

        class Handler(_handler_for(self)):  # type: ignore[misc]
            def _create(self, raw: bytes) -> None:
                answer, _rec = fake.create(json.loads(raw))
                self._send(answer, fake.http_status)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True


# -- a paid result must reach the disk ---------------------------------------------------------


def test_success_without_result_url_yet_is_asked_again(tmp_path: Path) -> None:
    """Promise 6 (results land on disk) / never lose a paid result: one recordInfo answered
    `success` with an empty `resultJson`. The ledger records `success` without a URL and no
    later `run` or `status` ever asks recordInfo again, so the paid clip is never fetched
    (every run: "finished without a result URL", exit 3; status: "run `shotc run`")."""
    with LateResultKie(empty_reads=1) as kie:
        script = write_project(tmp_path, scenes=1)
        shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path, timeout=20)
        again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path, timeout=20)
        assert again.code == 0, again.out + again.err
        assert clips(script) == ["scene-1/take-1.mp4"]
        assert len(kie.created()) == 1


def test_moved_project_keeps_its_clips(tmp_path: Path, kie: FakeKie) -> None:
    """The ledger stores scripts relative to the project "so the project can move", but
    downloads by absolute path. After moving the project (result URLs expired meanwhile),
    `run` renames every clip aside to `<scene>.<digest8>.mp4` and reports each scene as an
    error "result URL answered 404 (expired?)", exit 3, although the very clip (same digest)
    is at the target."""
    old = tmp_path / "old"
    script = write_project(old, scenes=2)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=old, timeout=20).code == 0
    new = tmp_path / "new"
    shutil.move(old, new)
    kie.results_expired = True
    again = shotc(["run", "film.shot"], env=kie.env(), cwd=new, timeout=20)
    assert again.code == 0, again.out
    assert clips(new / script.name) == ["scene-1/take-1.mp4", "scene-2/take-1.mp4"]
    assert len(kie.created()) == 2


def test_status_during_run_does_not_make_it_skip_the_download(tmp_path: Path, kie: FakeKie) -> None:
    """`status` (no run lock needed) records `success` while `run` waits between polls;
    `run`'s next poll then sees no change in the ledger, keeps its stale `waiting` copy and
    ends the scene as `unknown` ("ledger state waiting"), exit 3, without downloading the
    finished clip."""
    config = FAST_CONFIG.replace("poll_initial = 0.05", "poll_initial = 3.0").replace(
        "poll_max = 0.2", "poll_max = 3.0"
    )
    script = write_project(tmp_path, scenes=1, config=config)
    proc = spawn(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 10
        while not kie.created() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.4)  # the fake task has finished; run's first poll is ~2.5 s away
        status = shotc(["status", "film.shot"], env=kie.env(), cwd=tmp_path, timeout=10)
        assert status.code == 0, status.err
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out + err
    assert clips(script) == ["scene-1/take-1.mp4"]


# -- never pay twice ----------------------------------------------------------------------


def test_task_id_in_a_success_body_is_recorded_whatever_the_http_status(tmp_path: Path) -> None:
    """docs/run.md: "The body `code` is the status; the HTTP status is used only when the
    body has none." A createTask answered with body code 200 and a task id under HTTP 500
    is classified `Rejected`: the task id is thrown away, the scene is `not_sent`, and the
    next `run` creates (and pays for) it again."""
    with OddStatusKie(500) as kie:
        write_project(tmp_path, scenes=1)
        shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path, timeout=20)
        shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path, timeout=20)
        created = kie.created()
        assert len(created) == 1, [c.task_id for c in created]
        assert created[0].task_id in ledger_task_ids(tmp_path)


def test_media_edited_during_the_run_is_not_paid_twice(tmp_path: Path, kie: FakeKie) -> None:
    """Promise 3: the scene key holds the media's content digest, computed when the run
    plans; the upload digests the file again later. An image edited in between is uploaded
    and sent in its new content under the key of the old one, so the next `run` sees a new
    key and sends exactly the same request again (paid twice)."""
    write_project(tmp_path, scenes=2)  # scene 2 uses the element images cast1/cast2
    kie.slow_all = 0.5
    proc = spawn(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 10
        while (
            not any(p == "/api/file-stream-upload" for _m, p in kie.requests)
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)
        # Planned (keys computed), first frames uploading; the element is digested later.
        (tmp_path / "cast1.png").write_bytes(png(55555))
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    kie.slow_all = 0.0
    shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path, timeout=20)
    bodies = Counter(json.dumps(c.body, sort_keys=True) for c in kie.created())
    assert set(bodies.values()) == {1}, "the same createTask body was paid for twice"


# -- no hang, no traceback, the right exit code ---------------------------------------------


def test_ledger_failure_before_a_post_does_not_hang_the_run(
    tmp_path: Path, kie: FakeKie, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing ledger write of the intent (disk full, database locked) raises inside
    `Orchestrator._post` after a rate-limit slot was taken and before the `try` that gives it
    back: the slot stays "in flight" for ever, and once `rate_limit` of them leak every other
    scene waits in `RateLimiter.acquire` without a timeout: `run` hangs instead of exiting 4."""
    config = FAST_CONFIG.replace("[run]\n", "[run]\nrate_limit = 2\nrate_period = 0.2\n")
    script = write_project(tmp_path, scenes=3, config=config)
    for name, value in kie.env().items():
        monkeypatch.setenv(name, value)

    def begin(self: Ledger, **kwargs: Any) -> Any:
        raise LocalIOError(f"ledger {self.path}: database or disk is full")

    monkeypatch.setattr(Ledger, "begin", begin)
    result: list[int] = []
    streams = commands.Streams(out=io.StringIO(), err=io.StringIO())
    worker = threading.Thread(
        target=lambda: result.append(commands.run(commands.RunRequest(files=[script]), streams)),
        daemon=True,
    )
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "run hangs"
    assert result == [4]
    assert kie.creates == []


def test_api_key_with_a_non_ascii_character_is_a_usage_error(tmp_path: Path, kie: FakeKie) -> None:
    """A key pasted with a stray non-ASCII character (here `é`; a zero-width space does the
    same) crashes `credits` and `run` with a UnicodeEncodeError traceback from httpx, exit 1,
    the code cli.md reserves for script errors, instead of a clear message and exit 2."""
    write_project(tmp_path, scenes=1)
    env = kie.env("sk-abc\u00e90123456")
    for args in (["credits"], ["run", "film.shot"]):
        result = shotc(args, env=env, cwd=tmp_path, timeout=20)
        assert result.code == 2, (args, result.code)
        assert "Traceback" not in result.err
        assert "0123456" not in result.out + result.err
    assert kie.creates == []


def test_budget_nan_is_refused(tmp_path: Path, kie: FakeKie) -> None:
    """Promise 1: `--budget N` refuses past N. `--budget nan` passes click's FloatRange(min=0)
    and every comparison with it is false, so the budget silently vanishes and the run
    spends (here 156 credits) instead of a usage error (exit 2) with nothing sent."""
    write_project(tmp_path, scenes=2)
    result = shotc(
        ["run", "film.shot", "--budget", "nan", "--no-wait"],
        env=kie.env(),
        cwd=tmp_path,
        timeout=20,
    )
    assert result.code == 2
    assert kie.creates == []


def test_media_file_name_with_percent_escape_is_readable(tmp_path: Path, kie: FakeKie) -> None:
    """The compiler writes `photo%2041.png` as `file:///.../photo%252041.png`; `run` decodes
    it twice (`unquote` then `url2pathname`) and looks for `photo 41.png`: "cannot read ...:
    No such file or directory", exit 4, although `check`/`build` accept the script. File names
    with `%20` are what browsers save."""
    (tmp_path / "photo%2041.png").write_bytes(png(7))
    (tmp_path / "shotc.toml").write_text(FAST_CONFIG)
    script = tmp_path / "film.shot"
    script.write_text(
        "Title: Test Film\nMode: std\n\nSCENE Scene 1\n"
        "FIRST FRAME photo%2041.png\n\nSHOT 4s\nA quiet shot.\n"
    )
    plan = shotc(["plan", "film.shot"], env=kie.env(), cwd=tmp_path, timeout=20)
    assert plan.code == 0, plan.err
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path, timeout=20)
    assert result.code == 0, result.err
    assert clips(script) == ["scene-1/take-1.mp4"]
    assert list(kie.uploads.values()) == [png(7)]


# -- what the summary says ----------------------------------------------------------------


def test_scene_filter_does_not_report_other_current_scenes_as_older_versions(
    tmp_path: Path, kie: FakeKie
) -> None:
    """`run --scene scene-1` after `run --no-wait`: scene 2 (the current version, still
    running) is taken for an "older version" by `orphan_jobs`, reported as
    `scene-2 (older version)` and written to `scene-2.<key8>.mp4`; the next full run then
    copies it again to `scene-2.mp4`, leaving a duplicate."""
    script = write_project(tmp_path, scenes=2)
    first = shotc(["run", "film.shot", "--no-wait"], env=kie.env(), cwd=tmp_path, timeout=20)
    assert first.code == 0, first.err
    only = shotc(
        ["run", "film.shot", "--scene", "scene-1"], env=kie.env(), cwd=tmp_path, timeout=20
    )
    assert only.code == 0, only.err
    assert "older version" not in only.out
    assert set(clips(script)) <= {"scene-1/take-1.mp4", "scene-2/take-1.mp4"}
    assert os.path.exists(script.parent / "renders" / "film" / "scene-1" / "take-1.mp4")


# -- further faults -----------------------------------------------------------------------


def test_moved_project_with_absolute_download_paths_keeps_its_clips(
    tmp_path: Path, kie: FakeKie
) -> None:
    """A ledger written before download paths were relative (they name the old place): the
    clip at the target is recognised by its digest, not set aside and fetched again."""
    old = tmp_path / "old"
    script = write_project(old, scenes=2)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=old, timeout=20).code == 0
    conn = sqlite3.connect(old / ".shotc" / "ledger.sqlite")
    conn.execute("UPDATE downloads SET path = ? || '/' || path", (str(old.resolve()),))
    conn.commit()
    conn.close()
    new = tmp_path / "new"
    shutil.move(old, new)
    kie.results_expired = True
    again = shotc(["run", "film.shot"], env=kie.env(), cwd=new, timeout=20)
    assert again.code == 0, again.out
    assert clips(new / script.name) == ["scene-1/take-1.mp4", "scene-2/take-1.mp4"]


def test_duplicate_task_id_is_reported_not_a_traceback(
    tmp_path: Path, kie: FakeKie, monkeypatch: pytest.MonkeyPatch
) -> None:
    """createTask answering a task id the ledger already holds (UNIQUE): the id is printed
    and kept in the ledger, the scene is `unknown` (not re-sent), exit 4."""
    script = write_project(tmp_path, scenes=2)
    for name, value in kie.env().items():
        monkeypatch.setenv(name, value)
    real = KieClient.create_task
    ids: list[str] = []

    def same_id(self: KieClient, body: dict[str, Any], *, scene_id: str | None = None) -> str:
        ids.append(real(self, body, scene_id=scene_id))
        return ids[0]

    monkeypatch.setattr(KieClient, "create_task", same_id)
    out, err = io.StringIO(), io.StringIO()
    assert commands.run(commands.RunRequest(files=[script]), commands.Streams(out, err)) == 4
    assert f"task {ids[0]} was created but not recorded" in out.getvalue()
    assert "IntegrityError" not in out.getvalue() + err.getvalue()
    conn = sqlite3.connect(tmp_path / ".shotc" / "ledger.sqlite")
    rows = conn.execute("SELECT state, error FROM submissions WHERE task_id IS NULL").fetchall()
    conn.close()
    assert len(rows) == 1 and rows[0][0] == "unknown" and ids[0] in rows[0][1]


def test_ctrl_c_while_compiling_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = write_project(tmp_path, scenes=1)

    def interrupted(paths: Any, **options: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "compile_paths", interrupted)
    streams = commands.Streams(out=io.StringIO(), err=io.StringIO())
    assert commands.run(commands.RunRequest(files=[script]), streams) == 130


def test_ctrl_c_while_printing_the_summary_exits_130(
    tmp_path: Path, kie: FakeKie, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = write_project(tmp_path, scenes=1)
    for name, value in kie.env().items():
        monkeypatch.setenv(name, value)

    def interrupted(jobs: Any, usd_per_credit: float) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "summary_table", interrupted)
    streams = commands.Streams(out=io.StringIO(), err=io.StringIO())
    assert commands.run(commands.RunRequest(files=[script]), streams) == 130
    assert clips(script) == ["scene-1/take-1.mp4"]


def test_status_refresh_uses_the_projects_timeouts(
    tmp_path: Path, kie: FakeKie, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = FAST_CONFIG + "timeout_read = 7.5\n"
    script = write_project(tmp_path, scenes=1, config=config)
    assert (
        shotc(["run", "film.shot", "--no-wait"], env=kie.env(), cwd=tmp_path, timeout=20).code == 0
    )
    for name, value in kie.env().items():
        monkeypatch.setenv(name, value)
    seen: list[float] = []
    real = commands.make_client

    def spy(config: Config) -> KieClient:
        seen.append(config.run.timeout_read)
        return real(config)

    monkeypatch.setattr(status, "make_client", spy)
    streams = commands.Streams(out=io.StringIO(), err=io.StringIO())
    assert status.status([script], as_json=False, refresh=True, streams=streams) == 0
    assert seen == [7.5]


def test_an_answer_older_than_an_end_recorded_elsewhere_is_ignored(tmp_path: Path) -> None:
    """`status` and `run` both poll: a `generating` read before the other recorded `success`
    must not fail the state machine (nor undo the end)."""
    with Ledger(tmp_path / ".shotc" / "ledger.sqlite") as ledger:
        sid = ledger.begin(
            scene_key="k",
            take=1,
            script="film.shot",
            scene_id="a",
            film_title="F",
            request="{}",
            seconds=5,
            mode="std",
            sound=False,
            est_credits=70.0,
        ).id
        ledger.created(sid, "task_1")
        done = TaskInfo("task_1", "success", result_urls=["https://cdn.test/a.mp4"])
        assert record_answer(ledger, sid, done)
        assert not record_answer(ledger, sid, TaskInfo("task_1", "generating"))
        assert ledger.get(sid).state == "success"
        # `success` without a URL is not an end: nothing recorded.
        sid2 = ledger.begin(
            scene_key="k2",
            take=1,
            script="film.shot",
            scene_id="b",
            film_title="F",
            request="{}",
            seconds=5,
            mode="std",
            sound=False,
            est_credits=70.0,
        ).id
        ledger.created(sid2, "task_2")
        assert not record_answer(ledger, sid2, TaskInfo("task_2", "success"))
        assert ledger.get(sid2).state == "waiting"
