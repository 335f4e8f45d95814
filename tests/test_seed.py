"""kie.ai's own published examples (shared/seed/) against the schema and the Kling rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shotc.diagnostics import Diagnostic
from shotc.request.rules import validate_all

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed"

pytestmark = pytest.mark.skipif(
    not SEED.is_dir(), reason=f"kie.ai seed examples not found at {SEED} (expected ../shared)"
)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SEED / name).read_text("utf-8"))
    return data


def errors(violations: list[Diagnostic]) -> list[Diagnostic]:
    return [v for v in violations if v.is_error]


def test_single_shot_with_the_model_corrected_is_clean() -> None:
    request = load("docs-single-shot.json")
    request["model"] = "kling-3.0/video"
    assert validate_all(request) == []


def test_single_shot_as_published_fails_at_model() -> None:
    violations = validate_all(load("docs-single-shot.json"))
    assert [v.path for v in errors(violations)] == ["model"]


def test_multi_shot_as_published() -> None:
    violations = errors(validate_all(load("docs-multi-shot.json")))
    paths = {(v.path, v.code) for v in violations}
    assert ("model", None) in paths
    assert ("input.duration", "E301") in paths  # "5" for shots of 3 + 3
    [dog] = [v for v in violations if v.code == "E305"]
    assert dog.path.startswith("input.kling_elements[1]")  # element_dog with one image
    assert len(violations) == 3


def test_multi_shot_with_its_flaws_fixed_is_clean_but_warns() -> None:
    request = load("docs-multi-shot.json")
    request["model"] = "kling-3.0/video"
    request["input"]["duration"] = "6"
    request["input"]["kling_elements"][1]["element_input_urls"].append(
        "https://tempfileb.aiquickdraw.com/kieai/market/1770361848336_ABQqRHBi.png"
    )
    violations = validate_all(request)
    assert errors(violations) == []
    assert {v.code for v in violations} == {"W504"}  # element_cat is a video element


def test_curl_body_mixes_prompt_and_multi_prompt() -> None:
    violations = errors(validate_all(load("docs-curl-body.json")))
    assert violations
    assert {v.path for v in violations} <= {"input", "input.multi_prompt"}
    assert any(v.path == "input.multi_prompt" and "multi_shots" in v.message for v in violations)
