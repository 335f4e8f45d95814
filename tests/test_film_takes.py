"""shotc.film.takes: takes per scene from the ledger, the cut's choice, picks (film.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shotc.film.takes import PickError, record_pick, scene_takes, the_cut
from shotc.language.compiler import CompiledScene, compile_paths
from shotc.run.ledger import Ledger, ledger_path_for
from shotc.run.planner import apply_mode
from shotc.run.scene_key import DigestCache, scene_key, version_key

SCRIPT = """Title: Film
Mode: std

SCENE Dawn on the cliff
SHOT 5s
The sun rises over the cliff.

SCENE Dusk
SHOT 5s
The sun sets over the sea.

SCENE Night
SHOT 5s
Stars over the harbour.
"""


def compile_script(path: Path, text: str) -> list[CompiledScene]:
    path.write_text(text)
    result = compile_paths([path])
    assert result.ok, result.diagnostics
    return result.scenes


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, list[CompiledScene], Ledger]:
    script = tmp_path / "film.shot"
    scenes = compile_script(script, SCRIPT)
    return script, scenes, Ledger(ledger_path_for(script))


def make_take(
    ledger: Ledger,
    scene: CompiledScene,
    take: int = 1,
    mode: str | None = None,
    *,
    state: str = "success",
    on_disk: bool = True,
    sent_as: str | None = None,
) -> int:
    """What `run` records for one take: intent, task id, result, and the clip on disk."""
    request = apply_mode(scene.request, mode)
    key, canonical = scene_key(request, DigestCache())
    sid = ledger.begin(
        scene_key=key,
        take=take,
        script=ledger.script_name(scene.script),
        scene_id=sent_as or scene.scene_id,
        film_title=scene.film_title,
        request=canonical,
        seconds=scene.seconds,
        mode=request["input"]["mode"],
        sound=scene.sound,
        est_credits=1.0,
    ).id
    ledger.created(sid, f"task_{sid}")
    if state == "success":
        ledger.remote(sid, "success", result_urls=["https://cdn/x.mp4"])
        if on_disk:
            clip = scene.script.parent / "renders" / "film" / (sent_as or scene.scene_id)
            clip.mkdir(parents=True, exist_ok=True)
            path = clip / f"take-{take}.{mode or 'own'}.mp4"
            path.write_bytes(b"clip %d" % sid)
            ledger.record_download(sid, path, "d" * 64, path.stat().st_size)
    elif state == "fail":
        ledger.remote(sid, "fail", fail_code="500", fail_msg="internal error")
    else:
        ledger.remote(sid, state)
    return sid


def test_no_ledger_every_scene_is_new(project: tuple[Path, list[CompiledScene], Ledger]) -> None:
    _, scenes, _ = project
    takes = scene_takes(scenes, None)
    assert [t.scene_id for t in takes] == ["dawn-on-the-cliff", "dusk", "night"]
    assert [t.title for t in takes] == ["Dawn on the cliff", "Dusk", "Night"]
    assert all(t.state == "new" and t.takes == () and t.pick is None for t in takes)
    cut = the_cut(scenes, None)
    assert [(e.scene_id, e.path, e.state) for e in cut] == [
        ("dawn-on-the-cliff", None, "new"),
        ("dusk", None, "new"),
        ("night", None, "new"),
    ]


def test_takes_listed_with_mode_task_state_path_draft(
    project: tuple[Path, list[CompiledScene], Ledger],
) -> None:
    _, scenes, ledger = project
    dawn, dusk, _night = scenes
    s1 = make_take(ledger, dawn, 1)
    s2 = make_take(ledger, dawn, 2, state="generating")
    s3 = make_take(ledger, dawn, 1, "pro")
    make_take(ledger, dusk, 1, state="fail")
    st = scene_takes(scenes, ledger)
    takes = st[0].takes
    assert [(t.take, t.mode, t.state, t.draft, t.current) for t in takes] == [
        (1, "std", "done", False, True),
        (2, "std", "running", False, True),
        (1, "pro", "done", True, True),
    ]
    assert [t.task_id for t in takes] == [f"task_{s1}", f"task_{s2}", f"task_{s3}"]
    assert takes[0].path is not None and takes[0].path.is_file()
    assert takes[1].path is None
    assert st[0].state == "done" and st[1].state == "failed" and st[2].state == "new"
    assert st[1].takes[0].reason == "500: internal error"
    assert st[0].version == version_key(dawn.request, DigestCache())


def test_the_cut_rules(project: tuple[Path, list[CompiledScene], Ledger]) -> None:
    _, scenes, ledger = project
    dawn, dusk, night = scenes
    make_take(ledger, dawn, 1, state="fail")
    make_take(ledger, dawn, 2)
    make_take(ledger, dawn, 3)
    make_take(ledger, dusk, 1, "pro")  # only a draft
    make_take(ledger, night, 1, on_disk=False)  # done, but the clip is not there
    cut = the_cut(scenes, ledger)
    assert (cut[0].take, cut[0].mode, cut[0].draft) == (2, "std", False)  # first finished
    assert cut[0].path is not None and cut[0].prompt == "The sun rises over the cliff."
    assert cut[0].seconds == 5.0 and cut[0].title == "Dawn on the cliff"
    assert cut[1].path is None and "draft" in (cut[1].state or "")
    assert cut[2].path is None and "not on disk" in (cut[2].state or "")
    with_drafts = the_cut(scenes, ledger, drafts=True)
    assert (with_drafts[1].take, with_drafts[1].mode, with_drafts[1].draft) == (1, "pro", True)
    assert with_drafts[0] == cut[0]


def test_pick_by_title_or_id_changes_the_cut(
    project: tuple[Path, list[CompiledScene], Ledger],
) -> None:
    _, scenes, ledger = project
    dawn = scenes[0]
    make_take(ledger, dawn, 1)
    make_take(ledger, dawn, 2)
    make_take(ledger, dawn, 1, "pro")
    after = record_pick(scenes, ledger, "Dawn on the cliff", 2)
    assert after.pick is not None and (after.pick.take, after.pick.mode) == (2, "std")
    assert not after.pick.stale
    assert the_cut(scenes, ledger)[0].take == 2
    record_pick(scenes, ledger, "dawn-on-the-cliff", 1, "pro")  # a draft, chosen on purpose
    entry = the_cut(scenes, ledger)[0]
    assert (entry.take, entry.mode, entry.draft) == (1, "pro", True)
    # the same callback shape as the review server's Pick: (scene_id, take, mode)
    record_pick(scenes, ledger, "dawn-on-the-cliff", 1, "std")
    assert the_cut(scenes, ledger)[0].mode == "std"
    assert [e.to_state for e in ledger.events(1)][-1] == "picked"


def test_pick_refuses_unknown_scene_and_take(
    project: tuple[Path, list[CompiledScene], Ledger],
) -> None:
    _, scenes, ledger = project
    dawn, dusk, _ = scenes
    make_take(ledger, dawn, 1)
    make_take(ledger, dusk, 1, state="fail")
    with pytest.raises(PickError, match=r"(?i)did you mean `dusk`"):
        record_pick(scenes, ledger, "dusc", 1)
    with pytest.raises(PickError, match="no take 4"):
        record_pick(scenes, ledger, "dawn-on-the-cliff", 4)
    with pytest.raises(PickError, match="no take 1 in pro"):
        record_pick(scenes, ledger, "dawn-on-the-cliff", 1, "pro")
    with pytest.raises(PickError, match="failed"):
        record_pick(scenes, ledger, "Dusk", 1)
    with pytest.raises(PickError, match="nothing has been run"):
        record_pick(scenes, None, "Dusk", 1)
    assert ledger.picks("film.shot") == {}


def test_edit_makes_a_new_version_and_the_pick_stale(tmp_path: Path) -> None:
    script = tmp_path / "film.shot"
    scenes = compile_script(script, SCRIPT)
    ledger = Ledger(ledger_path_for(script))
    make_take(ledger, scenes[0], 1)
    make_take(ledger, scenes[0], 2)
    record_pick(scenes, ledger, "dawn-on-the-cliff", 2)
    edited = compile_script(script, SCRIPT.replace("The sun rises", "The sun climbs"))
    st = scene_takes(edited, ledger)[0]
    assert st.state == "changed" and st.own == ()
    assert [(t.take, t.current) for t in st.older] == [(2, False), (1, False)]
    assert st.pick is not None and st.pick.stale
    entry = the_cut(edited, ledger)[0]
    assert entry.path is None and entry.state == "changed"  # a stale pick is ignored
    make_take(ledger, edited[0], 1)
    assert the_cut(edited, ledger)[0].take == 1
    # back to the old text: the old version (and its pick) is current again
    again = compile_script(script, SCRIPT)
    assert the_cut(again, ledger)[0].take == 2


def test_mode_change_in_script_keeps_version_old_takes_become_drafts(tmp_path: Path) -> None:
    script = tmp_path / "film.shot"
    scenes = compile_script(script, SCRIPT)
    ledger = Ledger(ledger_path_for(script))
    make_take(ledger, scenes[0], 1)
    pro = compile_script(script, SCRIPT.replace("Mode: std", "Mode: pro"))
    st = scene_takes(pro, ledger)[0]
    assert st.version == scene_takes(scenes, ledger)[0].version
    assert [(t.mode, t.draft, t.current) for t in st.takes] == [("std", True, True)]
    assert the_cut(pro, ledger)[0].path is None
    assert the_cut(pro, ledger, drafts=True)[0].mode == "std"


def test_renamed_scene_keeps_its_takes_and_pick(tmp_path: Path) -> None:
    script = tmp_path / "film.shot"
    scenes = compile_script(script, SCRIPT)
    ledger = Ledger(ledger_path_for(script))
    make_take(ledger, scenes[1], 1)
    make_take(ledger, scenes[1], 2)
    record_pick(scenes, ledger, "dusk", 2)
    renamed = compile_script(script, SCRIPT.replace("SCENE Dusk", "SCENE Evening"))
    st = scene_takes(renamed, ledger)[1]
    assert st.scene_id == "evening" and [t.take for t in st.own] == [1, 2]
    assert st.pick is not None and not st.pick.stale
    assert the_cut(renamed, ledger)[1].take == 2


def test_takes_setting_title_page_and_scene(tmp_path: Path) -> None:
    text = SCRIPT.replace("Mode: std\n", "Mode: std\nTakes: 3\n").replace(
        "SCENE Night\n", "SCENE Night\nTakes: 08\n"
    )
    scenes = compile_script(tmp_path / "film.shot", text)
    assert [s.takes for s in scenes] == [3, 3, 8]
    assert [s.takes for s in compile_script(tmp_path / "one.shot", SCRIPT)] == [1, 1, 1]
    # not part of the request: the same scene with more takes is the same version
    assert scenes[0].request == compile_script(tmp_path / "two.shot", SCRIPT)[0].request
