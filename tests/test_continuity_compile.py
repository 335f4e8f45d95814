"""Continuity, the compile side (language 1.1 §4): `FIRST FRAME after SCENE` resolves to the
placeholder `shotc://after/<scene-id>`; E210 for a name that is no scene of the file, E211
once per cycle at the scene that closes it. The laws are property-tested over random graphs of
scenes; `validate` notes the placeholder and refuses it anywhere but the first frame."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from shotc.cli import main
from shotc.language.compiler import compile_paths
from shotc.request.placeholder import source_of, source_of_request


def _compile(tmp_path: Path, text: str, build: bool = False) -> Any:
    path = tmp_path / "film.shot"
    path.write_text(text, "utf-8")
    return compile_paths([path], for_build=build)


def _script(edges: list[int | None], style: list[int]) -> tuple[str, dict[int, int]]:
    """Scenes `Scene 0`..`Scene n-1`; scene i comes after scene edges[i] (or none). Returns the
    text and, for each scene with an edge, the line of its FIRST FRAME."""
    lines: list[str] = []
    frame_line: dict[int, int] = {}
    for i, target in enumerate(edges):
        lines.append(f"SCENE Scene {i}")
        if target is not None:
            name = (f"Scene {target}", f"scene-{target}", f"SCENE  {target}!")[style[i] % 3]
            keyword = ("after", "AFTER", "After")[style[i] % 3]
            lines.append(f"FIRST FRAME {keyword} {name}")
            frame_line[i] = len(lines)
        lines += ["SHOT 5s", f"Shot of scene {i}.", ""]
    return "\n".join(lines), frame_line


def _cycles(edges: list[int | None]) -> list[set[int]]:
    """The cycles of a graph where each node has at most one edge, found by brute force."""
    found: list[set[int]] = []
    for start in range(len(edges)):
        node, seen = edges[start], [start]
        for _ in range(len(edges)):
            if node is None or node == start:
                break
            seen.append(node)
            node = edges[node]
        if node == start and set(seen) not in found:
            found.append(set(seen))
    return found


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[int | None], list[int]]:
    n = draw(st.integers(1, 7))
    edges = draw(st.lists(st.one_of(st.none(), st.integers(0, n - 1)), min_size=n, max_size=n))
    style = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    return edges, style


@given(graphs())
@settings(max_examples=150, deadline=None)
def test_e211_once_per_cycle_where_it_closes_and_placeholders_elsewhere(
    tmp_path_factory: Any, graph: tuple[list[int | None], list[int]]
) -> None:
    edges, style = graph
    text, frame_line = _script(edges, style)
    result = _compile(tmp_path_factory.mktemp("g"), text)
    cycles = _cycles(edges)
    e211 = sorted(d.span.line for d in result.diagnostics if d.code == "E211")
    assert e211 == sorted(frame_line[max(cycle)] for cycle in cycles)
    assert all(d.span.column == 1 for d in result.diagnostics if d.code == "E211")
    assert not [d for d in result.diagnostics if d.code != "E211"]
    closing = {max(cycle) for cycle in cycles}
    built = {scene.scene_id: scene.request for scene in result.scenes}
    for i, target in enumerate(edges):
        if i in closing:
            assert f"scene-{i}" not in built
            continue
        request = built[f"scene-{i}"]
        assert source_of_request(request) == (None if target is None else f"scene-{target}")
        # an `after` frame is a first frame: no default aspect_ratio
        assert ("aspect_ratio" in request["input"]) == (target is None)


def test_an_after_frame_counts_as_a_first_frame(tmp_path: Path) -> None:
    text = (
        "ELEMENT @dog: a dog\n  https://x.test/a.png\n  https://x.test/b.png\n\n"
        "SCENE Dawn\nSHOT 5s\nThe sun.\n\n"
        "SCENE Storm\nFIRST FRAME after dawn\nLAST FRAME https://x.test/end.png\n"
        "SHOT 5s\n@dog hides.\n\n"
        "SCENE Night\nFIRST FRAME after Storm\nSHOT 3s\nRain.\nSHOT 3s\n@dog sleeps.\n"
    )
    result = _compile(tmp_path, text, build=True)
    assert result.ok and not result.diagnostics, result.diagnostics
    storm, night = (s.request["input"] for s in result.scenes[1:])
    assert storm["image_urls"] == ["shotc://after/dawn", "https://x.test/end.png"]
    assert night["image_urls"] == ["shotc://after/storm"] and night["multi_shots"] is True
    assert "aspect_ratio" not in storm and "aspect_ratio" not in night


def test_e210_has_a_did_you_mean_among_the_file_s_scene_ids(tmp_path: Path) -> None:
    text = "SCENE Dawn on the cliff\nSHOT 5s\nSun.\n\nSCENE B\nFIRST FRAME after dawn cliff\n"
    text += "SHOT 5s\nRain.\n"
    [diag] = _compile(tmp_path, text).diagnostics
    assert (diag.code, diag.span.line, diag.span.column) == ("E210", 6, 19)
    assert diag.help is not None and "dawn-on-the-cliff" in diag.help


def test_the_placeholder_is_read_back_only_when_well_formed() -> None:
    assert source_of("shotc://after/dawn-on-the-cliff") == "dawn-on-the-cliff"
    for bad in ("shotc://after/", "shotc://after/Dawn", "shotc://after/a--b", "https://x/a.png"):
        assert source_of(bad) is None


# -- validate -------------------------------------------------------------------------------


def _validate(tmp_path: Path, request: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(request), "utf-8")
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(path)])
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def _request(image_urls: list[str]) -> dict[str, Any]:
    body = {"prompt": "rain", "image_urls": image_urls, "sound": False, "duration": "5"}
    return {"model": "kling-3.0/video", "input": {**body, "mode": "pro", "multi_shots": False}}


def test_validate_notes_that_run_fills_the_placeholder_in(tmp_path: Path) -> None:
    code, found = _validate(tmp_path, _request(["shotc://after/dawn"]))
    assert code == 0
    assert [(f["path"], f["severity"], f["code"]) for f in found] == [
        ("input.image_urls[0]", "note", None)
    ]
    assert "run" in found[0]["message"] and "dawn" in found[0]["message"]


def test_validate_refuses_a_placeholder_elsewhere_or_malformed(tmp_path: Path) -> None:
    code, found = _validate(tmp_path, _request(["https://x.test/a.png", "shotc://after/dawn"]))
    assert code == 1
    assert [(f["path"], f["severity"], f["code"]) for f in found] == [
        ("input.image_urls[1]", "error", "E100")
    ]
    code, found = _validate(tmp_path, _request(["shotc://after/Not An Id"]))
    assert code == 1 and [f["path"] for f in found if f["severity"] == "error"] == [
        "input.image_urls[0]"
    ]
    code, found = _validate(tmp_path, _request(["shotc://before/dawn"]))
    assert code == 1


def test_validate_accepts_what_build_writes(tmp_path: Path) -> None:
    text = "SCENE Dawn\nSHOT 5s\nSun.\n\nSCENE Storm\nFIRST FRAME after dawn\nSHOT 5s\nRain.\n"
    (tmp_path / "film.shot").write_text(text, "utf-8")
    built = CliRunner().invoke(main, ["build", str(tmp_path / "film.shot")])
    assert built.exit_code == 0, built.output
    (tmp_path / "all.json").write_text(built.stdout, "utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "all.json")])
    assert result.exit_code == 0
    assert "note: a placeholder" in result.stderr and "valid (2 requests)" in result.stderr
