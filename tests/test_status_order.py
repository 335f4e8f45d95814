"""`status` end to end against the fake kie.ai: rows in script order (not the order the tasks
were sent or finished), each marked with its version (current, draft, older, gone) and the
cut's take (cut, pick, with --drafts), in the table and in --json (cli.md `status`, film.md
"On disk")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fakekie import FakeKie
from fakekie.project import edit_scene, scene_text, shotc, write_project


def rows(kie: FakeKie, cwd: Path, *args: str) -> list[tuple[Any, ...]]:
    result = shotc(["status", "--json", *args], env=kie.env(), cwd=cwd)
    assert result.code == 0, result.err
    return [
        (s["scene_id"], s["take"], s["mode"], s["version"], s["cut"])
        for s in json.loads(result.out)["submissions"]
    ]


def move_scene_first(script: Path, i: int) -> None:
    """Cut scene `i` out of the script and put it before every other scene."""
    text = script.read_text()
    block = scene_text(i)
    assert block in text
    text = text.replace(block + "\n", "").replace(block, "")
    head, sep, rest = text.partition("SCENE ")
    script.write_text(head + block + "\n" + sep + rest)


def test_status_follows_the_script_order_and_marks_the_cut(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=3)
    script.write_text(
        script.read_text().replace("Title: Test Film\n", "Title: Test Film\nTakes: 2\n")
    )
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    assert rows(kie, tmp_path, "film.shot") == [
        (f"scene-{i}", k, "std", "current", "cut" if k == 1 else None)
        for i in (1, 2, 3)
        for k in (1, 2)
    ]
    assert shotc(["pick", "scene-2", "2", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    plan = shotc(["plan", "--json", "film.shot"], env=kie.env(), cwd=tmp_path)
    picked = [(s["scene_id"], s["take"]) for s in json.loads(plan.out)["scenes"] if s["picked"]]
    assert picked == [("scene-2", 2)]
    assert "done (picked)" in shotc(["plan", "film.shot"], env=kie.env(), cwd=tmp_path).out
    move_scene_first(script, 3)
    assert rows(kie, tmp_path, "film.shot") == [
        ("scene-3", 1, "std", "current", "cut"),
        ("scene-3", 2, "std", "current", None),
        ("scene-1", 1, "std", "current", "cut"),
        ("scene-1", 2, "std", "current", None),
        ("scene-2", 1, "std", "current", None),
        ("scene-2", 2, "std", "current", "pick"),
    ]
    # Without FILE: the scripts the ledger names that are still here give the order too.
    assert rows(kie, tmp_path)[0][:2] == ("scene-3", 1)
    table = shotc(["status", "film.shot"], env=kie.env(), cwd=tmp_path)
    header = table.out.splitlines()[0].split()
    assert header[:6] == ["script", "scene", "take", "mode", "version", "cut"]
    assert table.out.splitlines()[1].split()[1] == "scene-3"


def test_status_marks_drafts_older_versions_and_scenes_gone(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=3, mode="pro")
    assert shotc(["run", "--mode", "std", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    assert rows(kie, tmp_path, "film.shot") == [
        (f"scene-{i}", 1, "std", "draft", "with --drafts") for i in (1, 2, 3)
    ]
    run = shotc(["run", "--scene", "scene-1", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert run.code == 0, run.err
    edit_scene(script, 2, " (revised)")
    text = script.read_text()
    script.write_text(text.replace(scene_text(3), ""))  # scene 3 is cut from the script
    assert rows(kie, tmp_path, "film.shot") == [
        ("scene-1", 1, "pro", "current", "cut"),
        ("scene-1", 1, "std", "draft", None),
        ("scene-2", 1, "std", "older", None),
        ("scene-3", 1, "std", "gone", None),
    ]
