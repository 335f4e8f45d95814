"""The examples in `examples/`: each builds cleanly, every request is valid, and the two
scripts made from kie.ai's published examples give back those examples (see docs/examples.md
for each deliberate difference)."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from shotc.language.compiler import CompileResult, compile_paths

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed"
MODEL = "kling-3.0/video"
# the key order of section 8 of the language spec
INPUT_ORDER = [
    "prompt",
    "image_urls",
    "sound",
    "duration",
    "aspect_ratio",
    "mode",
    "multi_shots",
    "multi_prompt",
    "kling_elements",
]
# library files: pulled in by INCLUDE, never built on their own
LIBRARIES = {EXAMPLES / "film" / "cast.shot"}
SCRIPTS = sorted(p for p in EXAMPLES.rglob("*.shot") if p not in LIBRARIES)


def _seed(name: str) -> dict[str, Any]:
    path = SEED / name
    if not path.exists():
        pytest.skip(f"kie.ai's published examples are not at {SEED} (expected ../shared/seed)")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def _build(path: Path) -> CompileResult:
    result = compile_paths([path], for_build=True)
    errors = [f"{d.code} {d.span.line}:{d.span.column} {d.message}" for d in result.diagnostics]
    assert result.ok, f"{path.name} does not build:\n" + "\n".join(errors)
    return result


def _validator() -> Callable[[Mapping[str, Any]], list[str]]:
    """The project's request validator, or jsonschema with the request schema, or a skip."""
    try:
        validation = importlib.import_module("shotc.request.validation")
    except ImportError:
        validation = None
    if validation is not None and hasattr(validation, "validate_request"):

        def check(request: Mapping[str, Any]) -> list[str]:
            problems = validation.validate_request(request)
            return [
                f"{getattr(p, 'path', '?')}: {getattr(p, 'message', p)}"
                for p in problems
                if getattr(p, "is_error", True)
            ]

        return check
    schema_path = REPO / "shotc" / "request.schema.json"
    if not schema_path.exists():
        pytest.skip(
            "neither shotc.request.validation.validate_request nor "
            "shotc/request/request.schema.json exists"
        )
    import jsonschema

    schema = json.loads(schema_path.read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)

    def check_schema(request: Mapping[str, Any]) -> list[str]:
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(request)]

    return check_schema


def test_the_examples_exist() -> None:
    names = {p.relative_to(EXAMPLES).as_posix() for p in SCRIPTS}
    assert {"rehearsal.shot", "dog-and-cat.shot", "film/film.shot"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(EXAMPLES).as_posix())
def test_example_builds_and_every_request_is_valid(script: Path) -> None:
    result = _build(script)
    assert result.scenes
    check = _validator()
    for scene in result.scenes:
        assert check(scene.request) == [], scene.scene_id
        assert list(scene.request) == [
            k for k in ("model", "callBackUrl", "input") if k in scene.request
        ]
        keys = list(scene.request["input"])
        assert keys == [k for k in INPUT_ORDER if k in keys], scene.scene_id


@pytest.mark.parametrize("library", sorted(LIBRARIES), ids=lambda p: p.name)
def test_library_checks_clean(library: Path) -> None:
    result = compile_paths([library], for_build=False)
    assert result.diagnostics == []


def test_rehearsal_builds_the_single_shot_example_exactly() -> None:
    seed = _seed("docs-single-shot.json")
    assert seed["model"] == "kling-3.0"  # the published typo
    seed["model"] = MODEL
    result = _build(EXAMPLES / "rehearsal.shot")
    assert len(result.scenes) == 1
    got = result.scenes[0].request
    # exactly: values and key order
    assert json.dumps(got, indent=2) == json.dumps(seed, indent=2)
    assert result.diagnostics == []


def test_dog_and_cat_follows_the_multi_shot_example() -> None:
    seed = _seed("docs-multi-shot.json")
    single = _seed("docs-single-shot.json")
    # the published example, corrected where it breaks the API's rules (docs/examples.md)
    want = copy.deepcopy(seed)
    want["model"] = MODEL
    body = want["input"]
    shots = body["multi_prompt"]
    body["duration"] = str(sum(shot["duration"] for shot in shots))  # "6", not "5"
    body["sound"] = True  # multi-shot default, now written out
    dog = next(e for e in body["kling_elements"] if e["name"] == "element_dog")
    dog["element_input_urls"] = single["input"]["kling_elements"][0]["element_input_urls"]
    result = _build(EXAMPLES / "dog-and-cat.shot")
    assert len(result.scenes) == 1
    got = result.scenes[0].request
    assert got == want  # same content; key order is the spec's, not the example's
    assert body["duration"] == "6"
    assert [e["name"] for e in got["input"]["kling_elements"]] == ["element_cat", "element_dog"]
    assert [d.code for d in result.diagnostics] == ["W504"]


def test_film_uses_every_feature_it_shows() -> None:
    result = _build(EXAMPLES / "film" / "film.shot")
    assert len(result.scenes) >= 4
    requests = [scene.request["input"] for scene in result.scenes]
    assert any(not r["multi_shots"] for r in requests)
    assert any(r["multi_shots"] for r in requests)
    assert any(len(r.get("image_urls", [])) == 2 for r in requests)  # FIRST and LAST FRAME
    local = [u for r in requests for u in r.get("image_urls", []) if u.startswith("file://")]
    assert local, "the film's frames are local files"
    cast = {e["name"] for r in requests for e in r.get("kling_elements", [])}
    assert cast == {"element_keeper", "element_dog", "element_gull"}
    assert result.diagnostics == []
