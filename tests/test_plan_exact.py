"""Issue 13: `plan` previews the very `run`, in credits and dollars.

The law: for a script, a ledger history and any combination of the selection options
(`--scene` by id or title, `--take`, `--mode`, `--resubmit-unknown`, `--budget` in credits or
dollars), `plan --json` names the (scene, take) pairs and the credits that the same `run` then
sends to the fake kie.ai, counted from the fake's own log of createTask bodies (not from
shotc's ledger or summary). Then one end-to-end case per promise of the issue, through the
real command line.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import click
import pytest
from fakekie import FakeKie
from fakekie.project import FAST_CONFIG, Result, shotc
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from shotc.cli.run import plan_command, run_command
from shotc.diagnostics import Span
from shotc.language.compiler import CompiledScene
from shotc.request.types import CreateTaskRequest
from shotc.run.config import USD_PER_CREDIT, Config, estimate_request
from shotc.run.ledger_schema import Submission
from shotc.run.planner import Job
from shotc.run.report import paid, spent_line
from shotc.run.selection import CREDITS, USD, BudgetError, parse_budget
from shotc.run.states import Outcome, PlanState

# Each scene's prompt carries a marker word, so the fake's log says which scene a body is.
# "Night walk" always fails (the fake fails prompts containing FAIL): it stays `failed`, which
# `run` sends again. "Finale" is multi-shot (sound on: another price). "5. The cafe" has
# `Takes: 2`: without `--take`, run makes takes 1 and 2 of it, each its own task.
SCRIPT = """\
Title: Exact
Mode: std

SCENE 1. Opening
SHOT 4s
Marker alpha: a street at dawn.

SCENE 5. The cafe
Takes: 2
SHOT 5s
Marker bravo: a small cafe, steam rising.

SCENE Night walk
SHOT 3s
Marker charlie: a lamp that will FAIL.

SCENE Finale
SHOT 3s
Marker delta: the cast walks in.

SHOT 3s
Marker delta: they bow.
"""
MARKERS = {"alpha": "1-opening", "bravo": "5-the-cafe", "charlie": "night-walk", "delta": "finale"}
TITLES = {
    "1-opening": "1. Opening",
    "5-the-cafe": "5. The cafe",
    "night-walk": "Night walk",
    "finale": "Finale",
}


def _unread() -> CreateTaskRequest:
    """An empty request for a job that is shown, never sent (nothing reads it)."""
    return cast(CreateTaskRequest, {})


def write(root: Path, config: str = FAST_CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shotc.toml").write_text(config)
    script = root / "film.shot"
    script.write_text(SCRIPT)
    return script


def scene_of(body: Any) -> str:
    found = re.search(r"Marker (\w+)", json.dumps(body.get("input", {})))
    assert found, body
    return MARKERS[found.group(1)]


def sent_since(kie: FakeKie, start: int) -> list[Any]:
    """The createTask bodies that reached the fake since `start` and created a task."""
    with kie._lock:  # the fake's log, as its own queries read it
        return [c.body for c in kie.creates[start:] if c.task_id is not None]


@pytest.fixture(scope="module")
def kie_module() -> Iterator[FakeKie]:
    """One fake kie.ai for the whole module: the property test's examples share it."""
    with FakeKie() as fake:
        yield fake


# -- the law --------------------------------------------------------------------------------

NAMES = sorted(set(TITLES) | set(TITLES.values()) | {"5. the cafe"})


@st.composite
def selections(draw: st.DrawFn, *, budget: bool = True) -> list[str]:
    args: list[str] = []
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True)):
        args += ["--scene", name]
    take = draw(st.sampled_from([1, 1, 2]))
    if take != 1:
        args += ["--take", str(take)]
    mode = draw(st.sampled_from([None, None, "std", "pro"]))
    if mode:
        args += ["--mode", mode]
    if draw(st.booleans()):
        args.append("--resubmit-unknown")
    if budget:
        # Around the totals at stake (56..424 credits): some fit, some do not.
        spend = draw(
            st.sampled_from([None, "0", "60", "150", "400", "$0.40", "$5", "1usd", "0.5 USD"])
        )
        if spend is not None:
            args += ["--budget", spend]
    return args


# A history run: its options, whether its first createTask loses its answer (`unknown`), and
# whether it waits (else its tasks stay `running` in the ledger).
history_runs = st.tuples(
    selections(budget=False), st.booleans(), st.sampled_from([True, True, False])
)


@settings(
    max_examples=12,
    deadline=None,  # subprocesses on a shared machine; each is bounded by its own timeout
    derandomize=True,  # the same examples every time: no test that passes only sometimes
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=st.lists(history_runs, min_size=1, max_size=2), chosen=selections())
# Every state at once (one `unknown`, `failed`, the rest `done`), with and without resending.
@example(history=[([], True, True)], chosen=["--take", "1"])
@example(history=[([], True, True)], chosen=["--resubmit-unknown", "--budget", "$5"])
def test_plan_predicts_what_the_same_run_sends(
    tmp_path_factory: pytest.TempPathFactory,
    kie_module: FakeKie,
    history: list[tuple[list[str], bool, bool]],
    chosen: list[str],
) -> None:
    kie = kie_module
    root = tmp_path_factory.mktemp("exact")
    write(root)
    for args, drop, wait in history:
        kie.drop_after_create = 1 if drop else 0
        extra = [] if wait else ["--no-wait"]
        shotc(["run", "film.shot", *args, *extra], env=kie.env(), cwd=root, timeout=60)
        kie.drop_after_create = 0

    plan = shotc(["plan", "film.shot", *chosen, "--json"], env=kie.env(), cwd=root, timeout=60)
    assert plan.code in (0, 3), plan.err
    planned = json.loads(plan.out)
    start = len(kie.creates)
    ran = shotc(["run", "film.shot", *chosen, "--json"], env=kie.env(), cwd=root, timeout=60)
    sent = sent_since(kie, start)

    predicted = Counter((s["scene_id"], s["take"]) for s in planned["scenes"] if s["will_send"])
    event(f"over budget: {planned['over_budget']}")
    event(f"sent {len(sent)} of {len(planned['scenes'])}")
    event("states " + ",".join(sorted({s["state"] for s in planned["scenes"]})))
    # The fake sees bodies, not take numbers: it counts each scene's tasks; the takes are
    # checked against run's own summary below, and against --take here.
    assert Counter(scene_of(b) for b in sent) == Counter(scene for scene, _ in predicted)
    if "--take" in chosen:
        assert {t for _, t in predicted} <= {int(chosen[chosen.index("--take") + 1])}
    assert planned["to_send"] == len(sent)
    cost = sum(estimate_request(Config(), b)[3] for b in sent)
    if planned["over_budget"]:
        assert plan.code == 3 and ran.code == 3 and sent == []
        assert planned["total_credits"] > planned["budget_credits"]
    else:
        assert plan.code == 0
        assert cost == pytest.approx(planned["total_credits"])
        assert planned["total_usd"] == pytest.approx(cost * USD_PER_CREDIT)
        summary = json.loads(ran.out)
        created = Counter((j["scene_id"], j["take"]) for j in summary["scenes"] if j["created"])
        assert created == predicted
        assert summary["est_credits_spent"] == pytest.approx(cost)


def test_plan_and_run_take_the_same_selection_options() -> None:
    """The decorator gives both commands the very same options (names, types, defaults)."""

    def options(command: click.Command) -> dict[str, tuple[Any, ...]]:
        return {
            p.name or "": (tuple(p.opts), p.type.name, p.default, p.multiple)
            for p in command.params
            if isinstance(p, click.Option)
        }

    plan, run = options(plan_command), options(run_command)
    selection = {"scenes", "take", "mode", "resubmit_unknown", "budget"}
    assert selection <= set(plan) and selection <= set(run)
    assert {k: plan[k] for k in selection} == {k: run[k] for k in selection}


# -- end to end, one per promise ----------------------------------------------------------


def plan_json(root: Path, *args: str, kie: FakeKie) -> tuple[Result, dict[str, Any]]:
    result = shotc(["plan", "film.shot", *args, "--json"], env=kie.env(), cwd=root, timeout=60)
    return result, json.loads(result.out) if result.out else {}


def test_plan_scene_and_take_show_only_that_scene(tmp_path: Path, kie: FakeKie) -> None:
    write(tmp_path)
    # Everything once (night-walk fails: exit 3), the cafe's `Takes: 2` included.
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 3
    result, planned = plan_json(tmp_path, "--scene", "5-the-cafe", "--take", "3", kie=kie)
    assert result.code == 0, result.err
    assert [(s["scene_id"], s["take"], s["will_send"]) for s in planned["scenes"]] == [
        ("5-the-cafe", 3, True)
    ]
    assert planned["total_credits"] == 5 * 14  # std, no sound: 14 credits a second
    table = shotc(
        ["plan", "film.shot", "--scene", "5-the-cafe", "--take", "3"], env=kie.env(), cwd=tmp_path
    )
    assert "~70 credits (~$0.35)" in table.out
    assert "run would send 1 of 1 take(s)" in table.out


def test_plan_repeatable_scene_mode_and_resubmit_unknown(tmp_path: Path, kie: FakeKie) -> None:
    write(tmp_path)
    kie.drop_after_create = 1
    first = shotc(["run", "film.shot", "--scene", "finale"], env=kie.env(), cwd=tmp_path)
    assert first.code == 3
    _, plain = plan_json(tmp_path, "--scene", "finale", "--scene", "1. Opening", kie=kie)
    assert {s["scene_id"]: (s["state"], s["will_send"]) for s in plain["scenes"]} == {
        "finale": ("unknown", False),
        "1-opening": ("new", True),
    }
    _, forced = plan_json(tmp_path, "--scene", "finale", "--resubmit-unknown", kie=kie)
    assert [s["will_send"] for s in forced["scenes"]] == [True]
    _, pro = plan_json(tmp_path, "--scene", "1-opening", "--mode", "pro", kie=kie)
    assert pro["scenes"][0]["mode"] == "pro" and pro["total_credits"] == 4 * 18


def test_scene_by_title_as_written_in_run(tmp_path: Path, kie: FakeKie) -> None:
    write(tmp_path)
    result = shotc(
        ["run", "film.shot", "--scene", "5. The cafe", "--json"], env=kie.env(), cwd=tmp_path
    )
    assert result.code == 0, result.err
    assert [scene_of(b) for b in sent_since(kie, 0)] == ["5-the-cafe"] * 2  # Takes: 2


def test_unknown_scene_is_a_usage_error_with_a_did_you_mean(tmp_path: Path, kie: FakeKie) -> None:
    write(tmp_path)
    for command in ("plan", "run"):
        result = shotc(
            [command, "film.shot", "--scene", "5. The cafee"], env=kie.env(), cwd=tmp_path
        )
        assert result.code == 2, result.err
        assert "did you mean '5. The cafe'?" in result.err
    assert kie.requests == [] and not (tmp_path / ".shotc").exists()


def test_usd_per_credit_from_the_price_table(tmp_path: Path, kie: FakeKie) -> None:
    write(tmp_path, FAST_CONFIG + "\n[prices]\nusd_per_credit = 0.01\n")
    _, planned = plan_json(tmp_path, "--scene", "1-opening", kie=kie)
    assert planned["usd_per_credit"] == 0.01 and planned["estimate"] is True
    assert planned["total_usd"] == pytest.approx(4 * 14 * 0.01)
    assert planned["scenes"][0]["est_usd"] == pytest.approx(0.56)
    ran = shotc(["run", "film.shot", "--scene", "1-opening"], env=kie.env(), cwd=tmp_path)
    assert "created 1 task, ~56 credits (~$0.56)" in ran.out
    status = shotc(["status", "film.shot", "--no-refresh"], env=kie.env(), cwd=tmp_path)
    assert "~56 credits (~$0.56)" in status.out
    status_json = json.loads(
        shotc(["status", "film.shot", "--json"], env=kie.env(), cwd=tmp_path).out
    )
    assert [s["est_usd"] for s in status_json["submissions"]] == [pytest.approx(0.56)]


@pytest.mark.parametrize(
    ("budget", "fits"),
    [
        ("100", True),
        ("50", False),
        ("$0.30", True),
        ("$0.25", False),
        ("1usd", True),
        ("0.2 USD", False),
    ],
)
def test_budget_in_credits_or_dollars(
    tmp_path: Path, kie: FakeKie, budget: str, fits: bool
) -> None:
    write(tmp_path)  # 1-opening: 4 s std, 56 credits, $0.28
    args = ["film.shot", "--scene", "1-opening", "--budget", budget, "--no-wait"]
    result = shotc(["run", *args], env=kie.env(), cwd=tmp_path)
    if fits:
        assert result.code == 0, result.err
        assert len(kie.created()) == 1
    else:
        assert (
            result.code == 3
            and "over budget" in result.err
            and "~56 credits (~$0.28)" in result.err
        )
        assert kie.creates == []


def test_bad_budget_is_a_usage_error_with_a_hint(tmp_path: Path, kie: FakeKie) -> None:
    write(tmp_path)
    for command in ("plan", "run"):
        result = shotc([command, "film.shot", "--budget", "5 euros"], env=kie.env(), cwd=tmp_path)
        assert result.code == 2
        assert "'$5'" in result.err and "1000" in result.err
    assert kie.requests == []


def test_summary_separates_this_run_from_what_was_paid_before(tmp_path: Path, kie: FakeKie) -> None:
    write(tmp_path)
    shotc(
        ["run", "film.shot", "--scene", "1-opening", "--scene", "finale"],
        env=kie.env(),
        cwd=tmp_path,
    )
    again = shotc(
        [
            "run",
            "film.shot",
            *("--scene", "1-opening", "--scene", "finale", "--scene", "5-the-cafe"),
            *("--take", "1"),  # of 5-the-cafe's `Takes: 2`, only the first
        ],
        env=kie.env(),
        cwd=tmp_path,
    )
    assert again.code == 0, again.err
    assert (
        "created 1 task, ~70 credits (~$0.35); 2 scenes already done (nothing spent now)"
        in again.out
    )
    rows = {
        line.split()[0]: line.split()[3]  # scene, take, outcome, paid
        for line in again.out.splitlines()
        if line.startswith(("1-", "5-", "finale"))
    }
    assert rows == {"1-opening": "before", "5-the-cafe": "now", "finale": "before"}
    as_json = json.loads(
        shotc(["run", "film.shot", "--scene", "finale", "--json"], env=kie.env(), cwd=tmp_path).out
    )
    assert [(j["scene_id"], j["paid"], j["created"]) for j in as_json["scenes"]] == [
        ("finale", "before", False)
    ]
    assert as_json["tasks_created"] == 0 and as_json["paid_before"] == 1


# -- --budget parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("1000", 1000.0, CREDITS),
        ("1,000 credits", 1000.0, CREDITS),
        ("12,500.5", 12500.5, CREDITS),
        ("$5", 5.0, USD),
        ("5usd", 5.0, USD),
        ("5 USD", 5.0, USD),
        ("$ 0.50", 0.5, USD),
        ("2.5$", 2.5, USD),
    ],
)
def test_parse_budget(text: str, amount: float, unit: str) -> None:
    budget = parse_budget(text)
    assert (budget.amount, budget.unit) == (amount, unit)


@pytest.mark.parametrize(
    "text", ["", "nan", "inf", "$nan", "-5", "5 euros", "$", "usd", "1,5", "$1,50", "1e3"]
)
def test_parse_budget_refuses(text: str) -> None:
    with pytest.raises(BudgetError, match="1000"):
        parse_budget(text)


@given(cents=st.integers(0, 10**9))
def test_dollar_budget_in_credits_is_dollars_over_the_rate(cents: int) -> None:
    budget = parse_budget(f"${cents / 100:.2f}")
    assert budget.unit == USD
    assert budget.credits(USD_PER_CREDIT) == pytest.approx(cents / 100 / USD_PER_CREDIT)


# -- the summary's last line, from jobs built by hand ------------------------------------------


def a_job(
    scene_id: str, *, outcome: str, state: str | None, take: int = 1, now: bool = False
) -> Job:
    scene = CompiledScene(
        scene_id, Path("/f.shot"), "F", _unread(), 1, 5, "std", False, Span.point("f.shot", 1, 1)
    )
    sub = None
    if state is not None:
        sub = Submission(
            1, "k", take, "f.shot", scene_id, "F", state,
            None if state == "unknown" else f"task_{scene_id}",
            "{}", 5, "std", False, 70.0, 1, 0.0, 0.0, 0.0, None, (), None, None, None, None,
        )  # fmt: skip
    job = Job(
        key="k", take=take, ledger_path=Path("/l"), script_name="f.shot", scenes=[scene],
        request=_unread(), canonical="{}", targets=[], mode="std", sound=False, seconds=5,
        est_credits=70.0, plan_state=PlanState.NEW, will_send=now, sub=sub,
    )  # fmt: skip
    job.outcome, job.created_now = Outcome(outcome), now
    return job


def test_spent_line_keeps_this_run_apart_from_before() -> None:
    jobs = [
        a_job("a", outcome="done", state="success", now=True),
        a_job("b", outcome="cached", state="success"),
        a_job("c", outcome="done", state="success"),
        a_job("d", outcome="running", state="generating"),
        a_job("e", outcome="unknown", state="unknown"),
        a_job("f", outcome="not sent", state=None),
    ]
    assert [paid(j) for j in jobs] == ["now", "before", "before", "before", "maybe", "-"]
    assert spent_line(jobs, USD_PER_CREDIT) == (
        "created 1 task, ~70 credits (~$0.35); 2 scenes already done, 1 paid before (running) "
        "(nothing spent now); 1 unanswered createTask(s) may be paid (`unknown`); "
        "amounts are estimates"
    )
    takes = [a_job("a", outcome="cached", state="success", take=2)]
    assert spent_line(takes, 0.01) == (
        "created no task, nothing spent now; 1 take already done (paid before); "
        "amounts are estimates"
    )
