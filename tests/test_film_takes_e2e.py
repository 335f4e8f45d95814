"""End-to-end through the CLI against the fake kie.ai: `Takes: N`, versions and the clip
layout (film.md "On disk"), `pick` and `status`, and the migration of an older project."""

from __future__ import annotations

import json
from pathlib import Path

from fakekie import FakeKie
from fakekie.project import shotc, write_project


def with_takes(script: Path, n: int) -> None:
    text = script.read_text()
    script.write_text(text.replace("Title: Test Film\n", f"Title: Test Film\nTakes: {n}\n", 1))


def test_takes_three_pays_each_take_once(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=2)
    with_takes(script, 3)
    plan = shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path)
    assert plan.code == 0, plan.err
    planned = json.loads(plan.out)
    assert sorted((s["scene_id"], s["take"]) for s in planned["scenes"]) == [
        (f"scene-{i}", k) for i in (1, 2) for k in (1, 2, 3)
    ]
    assert planned["to_send"] == 6
    first = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert first.code == 0, first.err
    assert len(kie.created()) == 6
    again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert again.code == 0, again.err
    assert len(kie.created()) == 6
    replan = json.loads(shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path).out)
    assert replan["to_send"] == 0 and replan["total_credits"] == 0
    # --take K still asks for that take on purpose
    fourth = shotc(["run", "film.shot", "--take", "4"], env=kie.env(), cwd=tmp_path)
    assert fourth.code == 0, fourth.err
    assert len(kie.created()) == 8
