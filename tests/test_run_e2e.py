"""End-to-end: the real `shotc` command line against a fake kie.ai on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

from fakekie import FakeKie
from fakekie.project import (
    FAST_CONFIG,
    clips,
    edit_scene,
    files_containing,
    shotc,
    spawn,
    write_project,
)


def per_prompt(kie: FakeKie) -> Counter[str]:
    return Counter(kie.prompts_created())


def ledger_states(script: Path) -> Counter[str]:
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    try:
        rows = conn.execute("SELECT state FROM submissions").fetchall()
    finally:
        conn.close()
    return Counter(r[0] for r in rows)


def test_twelve_scenes_then_rerun_then_one_edit(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path)
    first = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert first.code == 0, first.err
    assert clips(script) == sorted(f"scene-{i}/take-1.mp4" for i in range(1, 13))
    assert len(kie.created()) == 12
    assert "12 done" in first.out
    # 14 distinct local images, each uploaded once (the element's two are shared).
    assert len(kie.uploads) == 14

    again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert again.code == 0, again.err
    assert len(kie.created()) == 12  # nothing re-sent
    assert "12 cached" in again.out and "created no task" in again.out

    edit_scene(script, 5, " (revised)")
    plan = shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
    assert plan.code == 0, plan.err
    states = {s["scene_id"]: s["state"] for s in json.loads(plan.out)["scenes"]}
    assert states["scene-5"] == "changed"
    assert Counter(states.values()) == {"done": 11, "changed": 1}
    third = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert third.code == 0, third.err
    assert len(kie.created()) == 13
    assert "revised" in kie.prompts_created()[-1]
    # The earlier render of scene 5 was set aside, not overwritten.
    assert len(clips(script)) == 13


def test_missing_download_is_fetched_again_without_resending(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=3)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    (script.parent / "renders" / "film" / "scene-2" / "take-1.mp4").unlink()
    again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert again.code == 0, again.err
    assert (script.parent / "renders" / "film" / "scene-2" / "take-1.mp4").exists()
    assert len(kie.created()) == 3


def test_server_errors_and_tight_rate_limit_give_one_task_per_scene(tmp_path: Path) -> None:
    with FakeKie(rate_limit=(3, 0.5)) as kie:
        kie.error_rate = 0.25
        script = write_project(tmp_path)
        result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert result.code == 0, result.err + result.out
        assert len(clips(script)) == 12
        counts = per_prompt(kie)
        assert len(counts) == 12 and set(counts.values()) == {1}
        outcomes = kie.outcomes()
        assert outcomes["created"] == 12
        assert outcomes.get("5xx", 0) + outcomes.get("429", 0) > 0  # the switches did bite


def test_http_503_with_retry_after_is_retried(tmp_path: Path, kie: FakeKie) -> None:
    kie.error_rate = 0.5
    kie.error_as_http = True
    script = write_project(tmp_path, scenes=4)
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(clips(script)) == 4 and set(per_prompt(kie).values()) == {1}


def test_dropped_connection_after_create_is_unknown_until_asked(
    tmp_path: Path, kie: FakeKie
) -> None:
    script = write_project(tmp_path, scenes=3)
    kie.drop_after_create = 1
    first = shotc(["run", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
    assert first.code == 3
    summary = json.loads(first.out)
    unknown = [s["scene_id"] for s in summary["scenes"] if s["outcome"] == "unknown"]
    assert len(unknown) == 1
    assert len(clips(script)) == 2

    again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert again.code == 3 and unknown[0] in again.out and "unknown" in again.out
    assert len(kie.created()) == 3  # not re-sent
    plan = json.loads(shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path).out)
    assert {s["scene_id"]: s["state"] for s in plan["scenes"]}[unknown[0]] == "unknown"

    forced = shotc(["run", "film.shot", "--resubmit-unknown"], env=kie.env(), cwd=tmp_path)
    assert forced.code == 0, forced.err
    assert len(kie.created()) == 4
    assert len(clips(script)) == 3
    assert ledger_states(script) == {"success": 3, "abandoned": 1}


def test_slow_answer_past_read_timeout_is_unknown(tmp_path: Path, kie: FakeKie) -> None:
    write_project(tmp_path, scenes=1, config=FAST_CONFIG + "timeout_read = 0.3\n")
    kie.slow_create = 1.0
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert result.code == 3
    assert "unknown" in result.out
    assert len(kie.created()) == 1


def test_failed_generation_reports_fail_code_and_task(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=3)
    edit_scene(script, 1, " FAIL")
    result = shotc(["run", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
    assert result.code == 3
    failed = [s for s in json.loads(result.out)["scenes"] if s["outcome"] == "failed"]
    assert len(failed) == 1 and failed[0]["fail_code"] == "500" and failed[0]["task_id"]
    assert len(clips(script)) == 2


def test_wrong_key_stops_submissions(tmp_path: Path, kie: FakeKie) -> None:
    write_project(tmp_path, scenes=3)
    result = shotc(["run", "film.shot"], env=kie.env("wrong-key-abcdef"), cwd=tmp_path)
    assert result.code == 3
    assert "refused the API key" in result.err + result.out
    assert kie.created() == []
    assert "wrong-key-abcdef" not in result.err + result.out


def test_no_credits_stops_new_submissions_but_follows_created(tmp_path: Path, kie: FakeKie) -> None:
    kie.credits = 2
    script = write_project(
        tmp_path,
        scenes=4,
        config=FAST_CONFIG.replace("[run]\n", "[run]\nrate_limit = 1\nrate_period = 0.2\n"),
    )
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert result.code == 3
    assert "no credits" in result.err
    assert len(kie.created()) == 2 and len(clips(script)) == 2


def test_budget_refuses_before_anything_is_sent(tmp_path: Path, kie: FakeKie) -> None:
    write_project(tmp_path, scenes=3)
    result = shotc(["run", "film.shot", "--budget", "10"], env=kie.env(), cwd=tmp_path)
    assert result.code == 3 and "over budget" in result.err
    assert kie.creates == [] and kie.uploads == {}


def test_script_errors_send_nothing(tmp_path: Path, kie: FakeKie) -> None:
    (tmp_path / "bad.shot").write_text("SCENE A\nSHOT 99s\nway too long\n")
    result = shotc(["run", "bad.shot"], env=kie.env(), cwd=tmp_path)
    assert result.code == 1
    assert kie.requests == []
    assert not (tmp_path / ".shotc").exists()


def test_mode_std_overrides_every_request_and_is_its_own_scene(
    tmp_path: Path, kie: FakeKie
) -> None:
    write_project(tmp_path, scenes=2, mode="pro")
    assert shotc(["run", "film.shot", "--mode", "std"], env=kie.env(), cwd=tmp_path).code == 0
    assert {c.body["input"]["mode"] for c in kie.created()} == {"std"}
    plan = json.loads(shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path).out)
    # The pro final is not paid yet. The std clips are drafts of the same version (film.md):
    # the scene's content did not change, so it is `new` in its own mode, not `changed`.
    assert {s["state"] for s in plan["scenes"]} == {"new"}
    assert plan["total_credits"] == 4 * 18 + 5 * 27  # single 4 s pro, multi 5 s with sound


def test_take_two_is_sent_once(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=2)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    args = ["run", "film.shot", "--take", "2", "--scene", "scene-1"]
    assert shotc(args, env=kie.env(), cwd=tmp_path).code == 0
    assert shotc(args, env=kie.env(), cwd=tmp_path).code == 0
    assert len(kie.created()) == 3
    assert "scene-1/take-2.mp4" in clips(script)


def test_no_wait_then_status_then_run_fetches(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=2)
    first = shotc(["run", "film.shot", "--no-wait"], env=kie.env(), cwd=tmp_path)
    assert first.code == 0, first.err
    assert "2 running" in first.out and clips(script) == []
    time.sleep(0.4)
    status = shotc(["status", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
    assert status.code == 0, status.err
    assert {s["state"] for s in json.loads(status.out)["submissions"]} == {"success"}
    final = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert final.code == 0 and len(clips(script)) == 2 and len(kie.created()) == 2


def test_credits(kie: FakeKie, tmp_path: Path) -> None:
    result = shotc(["credits", "--json"], env=kie.env(), cwd=tmp_path)
    answer = json.loads(result.out)
    assert result.code == 0 and answer == {"credits": kie.credits, "est_usd": kie.credits * 0.005}
    assert shotc(["credits"], env={"KIE_API_KEY": ""}, cwd=tmp_path).code == 2


def test_plain_http_refused_except_loopback(tmp_path: Path) -> None:
    env = {"KIE_API_KEY": "k" * 20, "KIE_API_BASE": "http://example.com"}
    result = shotc(["credits"], env=env, cwd=tmp_path)
    assert result.code == 2 and "https" in result.err


def test_sigkill_mid_run_no_duplicates(tmp_path: Path) -> None:
    config = FAST_CONFIG.replace("[run]\n", "[run]\nrate_limit = 4\nrate_period = 0.5\n")
    with FakeKie() as kie:
        script = write_project(tmp_path, config=config)
        kie.slow_create = 0.6
        proc = spawn(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        deadline = time.monotonic() + 30
        while len(kie.created()) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        kie.slow_create = 0.0
        assert ledger_states(script)["sending"] >= 1  # the kill did land mid-submission
        # In doubt: the attempts whose POST had left (posted_at is committed just before it).
        # One killed between its intent and its POST provably created nothing: the next run
        # records it `not_sent` and sends it.
        in_doubt = posted_in_flight(script)

        again = shotc(["run", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
        summary = json.loads(again.out)
        unknown = {s["scene_id"] for s in summary["scenes"] if s["outcome"] == "unknown"}
        assert len(unknown) == in_doubt
        assert again.code == (3 if in_doubt else 0)  # 3: scenes left `unknown`
        # An `unknown` may still not have been created (its POST left, the kill came before
        # kie.ai read it). So: nothing created twice, every scene either created or `unknown`.
        created = per_prompt(kie)
        assert set(created.values()) == {1}
        scenes_created = {f"scene-{scene_number(p)}" for p in created}
        assert scenes_created | unknown == {f"scene-{i}" for i in range(1, 13)}
        assert len(clips(script)) == 12 - len(unknown)

        before = len(kie.created())
        forced = shotc(["run", "film.shot", "--resubmit-unknown"], env=kie.env(), cwd=tmp_path)
        assert forced.code == 0, forced.err
        assert len(clips(script)) == 12
        assert len(kie.created()) == before + len(unknown)


def posted_in_flight(script: Path) -> int:
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    try:
        row = conn.execute(
            "SELECT count(*) FROM submissions WHERE state = 'sending' AND posted_at IS NOT NULL"
        ).fetchone()
    finally:
        conn.close()
    return int(row[0])


def scene_number(prompt: str) -> int:
    """Which scene of `write_project` a prompt belongs to (each names its number)."""
    found = re.search(r"(?:number|take|scene) (\d+)", prompt)
    assert found, prompt
    return int(found.group(1))


def test_sigint_lets_in_flight_posts_finish(tmp_path: Path) -> None:
    config = FAST_CONFIG.replace("[run]\n", "[run]\nrate_limit = 3\nrate_period = 0.5\n")
    with FakeKie() as kie:
        script = write_project(tmp_path, config=config)
        kie.slow_create = 0.5
        proc = spawn(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        deadline = time.monotonic() + 30
        while len(kie.created()) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        created_then = len(kie.created())
        states = ledger_states(script)
        assert states["sending"] == 0 and states["unknown"] == 0
        # Every created task is in the ledger; an attempt whose intent was committed just
        # before the Ctrl-C is `not_sent` (its POST never left), so it is not counted.
        assert sum(n for st, n in states.items() if st != "not_sent") == created_then
        kie.slow_create = 0.0
        again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert again.code == 0, again.err
        assert set(per_prompt(kie).values()) == {1} and len(clips(script)) == 12


def test_key_never_leaks(tmp_path: Path, kie: FakeKie) -> None:
    write_project(tmp_path, scenes=3)
    kie.drop_after_create = 1
    outputs = []
    for args in (
        ["run", "film.shot"],
        ["status", "film.shot"],
        ["plan", "film.shot"],
        ["run", "film.shot", "--resubmit-unknown", "--json"],
        ["credits"],
    ):
        result = shotc(args, env=kie.env(), cwd=tmp_path)
        outputs.append(result.out + result.err)
    key = kie.api_key
    assert all(key not in text for text in outputs)
    assert files_containing(tmp_path, key.encode()) == []
    assert all(h == f"Bearer {key}" for h in kie.auth_headers)  # and it was really used
    assert os.environ.get("KIE_API_KEY") != key


def test_edit_while_running_still_fetches_the_paid_older_version(
    tmp_path: Path, kie: FakeKie
) -> None:
    script = write_project(tmp_path, scenes=2)
    assert shotc(["run", "film.shot", "--no-wait"], env=kie.env(), cwd=tmp_path).code == 0
    edit_scene(script, 1, " (v2)")
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(kie.created()) == 3
    names = clips(script)
    assert "scene-1/take-1.mp4" in names and "scene-2/take-1.mp4" in names
    older = [n for n in names if n.startswith("scene-1/older/")]
    assert len(older) == 1 and "older version" in result.out


def test_deadline_stops_waiting_and_next_run_follows(tmp_path: Path) -> None:
    with FakeKie(states=(("waiting", 0.2), ("generating", 1.5))) as kie:
        script = write_project(tmp_path, scenes=2, config=FAST_CONFIG + "deadline = 0.3\n")
        first = shotc(["run", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
        assert first.code == 3
        assert {s["outcome"] for s in json.loads(first.out)["scenes"]} == {"running"}
        (tmp_path / "shotc.toml").write_text(FAST_CONFIG)
        second = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert second.code == 0, second.err
        assert len(kie.created()) == 2 and len(clips(script)) == 2


def test_uploads_are_cached_and_redone_when_expiring(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=2)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    uploads = [r for r in kie.requests if r[1] == "/api/file-stream-upload"]
    assert len(uploads) == 4  # two first frames, the element's two images
    edit_scene(script, 1, " again")
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    assert len([r for r in kie.requests if r[1] == "/api/file-stream-upload"]) == 4  # cached
    # Past the margin before expiry (3 days left < 4 days of margin): uploaded again.
    (tmp_path / "shotc.toml").write_text(FAST_CONFIG + "upload_margin = 345600\n")
    edit_scene(script, 2, " and again")  # its first frame and the element's two images
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    assert len([r for r in kie.requests if r[1] == "/api/file-stream-upload"]) == 7


def test_second_run_at_the_same_time_is_refused(tmp_path: Path, kie: FakeKie) -> None:
    write_project(tmp_path, scenes=1)
    kie.slow_create = 4.0  # long enough for a second process to start on a loaded machine
    proc = spawn(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    deadline = time.monotonic() + 20
    while not kie.creates and time.monotonic() < deadline:
        time.sleep(0.01)
    other = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    proc.communicate(timeout=30)
    assert other.code == 4 and "another `shotc run`" in other.err
    assert len(kie.creates) == 1


def test_take_one_still_running_during_take_two_is_not_an_older_version(
    tmp_path: Path, kie: FakeKie
) -> None:
    script = write_project(tmp_path, scenes=1)
    assert shotc(["run", "film.shot", "--no-wait"], env=kie.env(), cwd=tmp_path).code == 0
    result = shotc(["run", "film.shot", "--take", "2", "--json"], env=kie.env(), cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(kie.created()) == 2
    rows = json.loads(result.out)["scenes"]
    assert sorted(row["take"] for row in rows) == [1, 2]
    assert not any(row["older_version"] for row in rows)
    assert "older version" not in result.err
    # take 1 lands under its own name, not set aside as an older version's clip
    assert clips(script) == ["scene-1/take-1.mp4", "scene-1/take-2.mp4"]
