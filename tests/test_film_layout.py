"""shotc.film.layout: clip names, and settle's moves (crash safety, cycles, files in the way)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shotc.film.layout import (
    Layout,
    Slot,
    finish_interrupted,
    older_file,
    settle,
    take_file,
)
from shotc.run.ledger import Ledger
from shotc.run.scene_key import version_of_canonical


def test_names() -> None:
    assert take_file(1, "std", "std") == "take-1.mp4"
    assert take_file(3, "pro", "std") == "take-3.pro.mp4"
    assert older_file("0123456789abcdef", 2, "4K") == "01234567-take-2.4K.mp4"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / ".shotc" / "ledger.sqlite")


def clip(ledger: Ledger, scene_id: str, content: str, path: Path, mode: str = "std") -> str:
    """A finished take whose request is `content`, recorded at `path`; its version."""
    request = json.dumps({"input": {"prompt": content, "mode": mode}})
    sid = ledger.begin(
        scene_key=f"{content}-{mode}",
        take=1,
        script="film.shot",
        scene_id=scene_id,
        film_title="F",
        request=request,
        seconds=5,
        mode=mode,
        sound=False,
        est_credits=1.0,
    ).id
    ledger.created(sid, f"task_{sid}")
    ledger.remote(sid, "success", result_urls=["https://cdn/x.mp4"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode())
    ledger.record_download(sid, path, "d" * 64, path.stat().st_size)
    return version_of_canonical(request)


def test_swapped_titles_are_a_cycle_that_settle_breaks(ledger: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "renders" / "film"
    va = clip(ledger, "a", "dawn", out / "a" / "take-1.mp4")
    vb = clip(ledger, "b", "dusk", out / "b" / "take-1.mp4")
    # the two scenes swapped titles, content unchanged: each clip goes to the other folder
    layout = Layout(out, [Slot("a", "std", vb), Slot("b", "std", va)])
    moves = settle(ledger, layout, "film.shot")
    assert (out / "a" / "take-1.mp4").read_bytes() == b"dusk"
    assert (out / "b" / "take-1.mp4").read_bytes() == b"dawn"
    assert len(moves) == 3  # one through a temporary name
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["take-1.mp4"] * 2
    assert settle(ledger, layout, "film.shot") == []


def test_a_file_in_the_way_is_set_aside_not_replaced(ledger: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "renders" / "film"
    v = clip(ledger, "a", "dawn", out / "a.mp4")
    (out / "a").mkdir()
    (out / "a" / "take-1.mp4").write_bytes(b"the user's")
    settle(ledger, Layout(out, [Slot("a", "std", v)]), "film.shot")
    assert (out / "a" / "take-1.mp4").read_bytes() == b"dawn"
    kept = [p for p in (out / "a").iterdir() if p.name != "take-1.mp4"]
    assert len(kept) == 1 and kept[0].read_bytes() == b"the user's"


def test_a_scene_whose_version_is_unknown_keeps_its_clips(ledger: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "renders" / "film"
    clip(ledger, "a", "dawn", out / "a" / "take-1.mp4")
    assert settle(ledger, Layout(out, [Slot("a", "std", None)]), "film.shot") == []
    assert (out / "a" / "take-1.mp4").exists()


@pytest.mark.parametrize("crash", ["before", "linked", "after"])
def test_an_interrupted_move_is_finished(ledger: Ledger, tmp_path: Path, crash: str) -> None:
    out = tmp_path / "renders" / "film"
    old = out / "a.mp4"
    v = clip(ledger, "a", "dawn", old)
    new = out / "a" / "take-1.mp4"
    move = ledger.plan_move(1, old, new)  # journaled, then the process died:
    new.parent.mkdir()
    if crash == "linked":
        os.link(old, new)
    elif crash == "after":
        os.rename(old, new)
    assert finish_interrupted(ledger) == 1
    assert ledger.unfinished_moves() == [] and move.id
    assert new.read_bytes() == b"dawn" and not old.exists()
    assert [d.path for d in ledger.downloads(1)] == [str(new.resolve())]
    assert settle(ledger, Layout(out, [Slot("a", "std", v)]), "film.shot") == []
