"""End-to-end through the CLI against the fake kie.ai: `Takes: N`, versions and the clip
layout (film.md "On disk"), `pick` and `status`, and the migration of an older project."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

from fakekie import FakeKie
from fakekie.project import clips, edit_scene, shotc, write_project


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
    assert clips(script) == [f"scene-{i}/take-{k}.mp4" for i in (1, 2) for k in (1, 2, 3)]
    assert len(set(digests(render(script)))) == 6  # six different clips
    again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert again.code == 0, again.err
    assert len(kie.created()) == 6
    replan = json.loads(shotc(["plan", "film.shot", "--json"], env=kie.env(), cwd=tmp_path).out)
    assert replan["to_send"] == 0 and replan["total_credits"] == 0
    # --take K still asks for that take on purpose
    fourth = shotc(["run", "film.shot", "--take", "4"], env=kie.env(), cwd=tmp_path)
    assert fourth.code == 0, fourth.err
    assert len(kie.created()) == 8


def render(script: Path) -> Path:
    return script.parent / "renders" / script.stem


def digests(root: Path) -> Counter[str]:
    return Counter(hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*.mp4"))


def test_n_scenes_give_exactly_n_files(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=4)
    for _ in range(2):
        result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
        assert result.code == 0, result.err
        assert clips(script) == [f"scene-{i}/take-1.mp4" for i in range(1, 5)]
    assert len(kie.created()) == 4


def test_edit_makes_a_new_version_and_files_the_old_clips_under_older(
    tmp_path: Path, kie: FakeKie
) -> None:
    script = write_project(tmp_path, scenes=2)
    with_takes(script, 2)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    old = {k: (render(script) / "scene-1" / f"take-{k}.mp4").read_bytes() for k in (1, 2)}
    edit_scene(script, 1, " (revised)")
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(kie.created()) == 6
    names = clips(script)
    older = [n for n in names if n.startswith("scene-1/older/")]
    assert len(older) == 2 and all(
        re.fullmatch(r"scene-1/older/[0-9a-f]{8}-take-[12]\.std\.mp4", n) for n in older
    )
    assert sorted((render(script) / n).read_bytes() for n in older) == sorted(old.values())
    current = [f"scene-{i}/take-{k}.mp4" for i in (1, 2) for k in (1, 2)]
    assert sorted(set(names) - set(older)) == current
    # a third run moves and pays nothing
    again = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert again.code == 0 and clips(script) == names and len(kie.created()) == 6


def test_renamed_scene_keeps_its_clips_in_its_new_folder(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=2)
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    before = digests(render(script))
    script.write_text(script.read_text().replace("SCENE Scene 1\n", "SCENE Opening\n"))
    result = shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(kie.created()) == 2  # same content: nothing paid again
    assert clips(script) == ["opening/take-1.mp4", "scene-2/take-1.mp4"]
    assert digests(render(script)) == before


def test_draft_is_named_for_its_mode(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=1)
    assert shotc(["run", "film.shot", "--mode", "pro"], env=kie.env(), cwd=tmp_path).code == 0
    assert shotc(["run", "film.shot"], env=kie.env(), cwd=tmp_path).code == 0
    assert clips(script) == ["scene-1/take-1.mp4", "scene-1/take-1.pro.mp4"]


def to_version_1(script: Path) -> dict[str, str]:
    """Turn a project into what shotc before the film left: clips flat in the render folder
    (`<id>.mp4`, `<id>.take2.mp4`, files set aside as `<id>.<hex8>.mp4`) and a V3 ledger
    (V4 and V5 undone). Returns old name -> digest."""
    root = render(script)
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    rows = conn.execute(
        "SELECT d.submission_id, d.path, d.sha256, s.scene_key FROM downloads d "
        "JOIN submissions s ON s.id = d.submission_id"
    ).fetchall()
    names: dict[str, str] = {}
    for sid, stored, sha, key in rows:
        path = script.parent / stored
        rel = path.relative_to(root).as_posix()
        scene, rest = rel.split("/", 1)
        if m := re.fullmatch(r"take-(\d+)\.mp4", rest):
            take = int(m.group(1))
            old = f"{scene}.mp4" if take == 1 else f"{scene}.take{take}.mp4"
        elif rest.startswith("older/"):
            old = f"{scene}.{sha[:8]}.mp4"  # set aside by a download over it
        else:
            old = f"{scene}.{key[:8]}.mp4"  # a draft, fetched as an older version's clip
        path.rename(root / old)
        conn.execute(
            "UPDATE downloads SET path = ? WHERE submission_id = ? AND path = ?",
            ((root / old).relative_to(script.parent).as_posix(), sid, stored),
        )
        names[old] = sha
    for statement in (
        "DROP INDEX submissions_live",  # V6 (a shared ledger's claims)
        "ALTER TABLE submissions DROP COLUMN owner",
        "ALTER TABLE submissions DROP COLUMN posted_at",
        "ALTER TABLE submissions DROP COLUMN lease_until",
        "DROP TABLE last_frames",  # V5 (continuity)
        "DROP TABLE picks",
        "DROP TABLE moves",
        "DROP INDEX submissions_version",
        "ALTER TABLE submissions DROP COLUMN version",
        "PRAGMA user_version = 3",
    ):
        conn.execute(statement)
    conn.commit()
    conn.close()
    for folder in sorted(root.rglob("*"), reverse=True):
        if folder.is_dir():
            folder.rmdir()
    return names


def test_version_1_project_is_migrated_on_first_run_nothing_lost(
    tmp_path: Path, kie: FakeKie
) -> None:
    script = write_project(tmp_path, scenes=2)
    env = kie.env()
    for args in (
        ["run", "film.shot"],
        ["run", "film.shot", "--take", "2", "--scene", "scene-2"],
        ["run", "film.shot", "--mode", "pro", "--scene", "scene-2"],
    ):
        assert shotc(args, env=env, cwd=tmp_path).code == 0
    edit_scene(script, 1, " (revised)")
    assert shotc(["run", "film.shot"], env=env, cwd=tmp_path).code == 0
    paid = len(kie.created())
    assert paid == 5
    old = to_version_1(script)
    assert sorted(old) == sorted(p.name for p in render(script).glob("*.mp4"))
    assert {"scene-1.mp4", "scene-2.mp4", "scene-2.take2.mp4"} <= set(old)
    mine = render(script) / "scene-1.notes.mp4"  # the user's own file: never touched
    mine.write_bytes(b"not a clip")
    before = digests(render(script))

    result = shotc(["run", "film.shot"], env=env, cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(kie.created()) == paid  # nothing paid again
    assert "moved" in result.err
    names = clips(script)
    assert [n for n in names if not n.startswith("scene-1/older/")] == [
        "scene-1.notes.mp4",
        "scene-1/take-1.mp4",
        "scene-2/take-1.mp4",
        "scene-2/take-1.pro.mp4",
        "scene-2/take-2.mp4",
    ]
    assert len([n for n in names if n.startswith("scene-1/older/")]) == 1
    assert digests(render(script)) == before  # every byte still there, nothing copied
    assert mine.read_bytes() == b"not a clip"
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    stored = conn.execute("SELECT path, sha256 FROM downloads").fetchall()
    moves = conn.execute("SELECT count(*) FROM moves WHERE done_at IS NOT NULL").fetchone()[0]
    conn.close()
    # every clip the ledger knows is reachable where it says, with its content
    for path, sha in stored:
        assert hashlib.sha256((script.parent / path).read_bytes()).hexdigest() == sha
    assert sorted(sha for _p, sha in stored) == sorted(old.values())
    assert moves == len(old)
    # idempotent: nothing more moves
    again = shotc(["run", "film.shot"], env=env, cwd=tmp_path)
    assert again.code == 0 and "moved" not in again.err and clips(script) == names


def test_pick_by_title_or_id_without_file_and_refusals(tmp_path: Path, kie: FakeKie) -> None:
    script = write_project(tmp_path, scenes=2)
    with_takes(script, 2)
    env = kie.env()
    assert shotc(["run", "film.shot"], env=env, cwd=tmp_path).code == 0
    # by title, FILE left out: the one .shot file of the current directory
    picked = shotc(["pick", "Scene 2", "2", "--json"], env=env, cwd=tmp_path)
    assert picked.code == 0, picked.err
    shown = json.loads(picked.out)
    assert (shown["scene_id"], shown["take"], shown["mode"], shown["state"]) == (
        "scene-2",
        2,
        "std",
        "done",
    )
    assert shown["previous"] is None
    assert Path(shown["path"]).resolve() == (render(script) / "scene-2" / "take-2.mp4").resolve()
    again = shotc(["pick", "scene-2", "1", "film.shot"], env=env, cwd=tmp_path)
    assert again.code == 0 and "was take 2" in again.out
    conn = sqlite3.connect(script.parent / ".shotc" / "ledger.sqlite")
    assert conn.execute("SELECT scene_id, take, mode FROM picks").fetchall() == [
        ("scene-2", 1, "std")
    ]
    conn.close()
    # an unknown scene: exit 2 with a did-you-mean; a take the scene has not: exit 2
    typo = shotc(["pick", "Scene 22", "1", "film.shot"], env=env, cwd=tmp_path)
    assert typo.code == 2 and "did you mean" in typo.err
    none = shotc(["pick", "scene-1", "5", "film.shot"], env=env, cwd=tmp_path)
    assert none.code == 2 and "no take 5" in none.err
    # FILE left out with two scripts here: which one is not guessed
    (tmp_path / "other.shot").write_text("SCENE Alone\nSHOT 4s\nA shot.\n")
    unsure = shotc(["pick", "scene-1", "1"], env=env, cwd=tmp_path)
    assert unsure.code == 2 and "2 .shot files" in unsure.err
