"""`shotc validate`: hand-written requests checked against the schema and the Kling rules,
each problem named by its JSON path and, where the compiler has the same rule, by the same
code as the compiler gives the equivalent script."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from shotc.cli import main
from shotc.cli.tools import compile_source

SEED = Path("/work/shared/seed")

GOOD: dict[str, Any] = {
    "model": "kling-3.0/video",
    "input": {
        "prompt": "the sea at dawn",
        "sound": False,
        "duration": "5",
        "aspect_ratio": "16:9",
        "mode": "pro",
        "multi_shots": False,
    },
}

MULTI: dict[str, Any] = {
    "model": "kling-3.0/video",
    "input": {
        "sound": True,
        "duration": "9",
        "aspect_ratio": "16:9",
        "mode": "pro",
        "multi_shots": True,
        "multi_prompt": [
            {"prompt": "one", "duration": 3},
            {"prompt": "two", "duration": 3},
            {"prompt": "three", "duration": 3},
        ],
    },
}


def run(tmp_path: Path, document: object, *options: str, name: str = "req.json") -> Result:
    path = tmp_path / name
    path.write_text(json.dumps(document), "utf-8")
    return CliRunner().invoke(main, ["validate", *options, str(path)])


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_valid_request_exits_0(tmp_path: Path) -> None:
    result = run(tmp_path, GOOD)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "valid (1 request)" in result.stderr


def test_kie_s_flawed_multi_shot_example(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(SEED / "docs-multi-shot.json")])
    assert result.exit_code == 1
    err = result.stderr
    assert "error[E301]: duration is '5' but the shots total 6 s" in err
    assert "docs-multi-shot.json: input.duration" in err
    assert "docs-multi-shot.json: input.kling_elements[1].element_input_urls" in err
    assert "error[E305]" in err
    assert "3 errors, 1 warning" in err


def test_kie_s_kitchen_sink_names_the_field(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["validate", "--format", "json", str(SEED / "docs-curl-body.json")]
    )
    assert result.exit_code == 1
    found = {(p["path"], p["severity"]) for p in json_lines(result)}
    assert ("input.multi_prompt", "error") in found


def test_paths_in_an_array_start_with_the_index(tmp_path: Path) -> None:
    bad = copy.deepcopy(MULTI)
    bad["input"]["multi_prompt"][2]["duration"] = 13
    result = run(tmp_path, [GOOD, bad], "--format", "json")
    assert result.exit_code == 1
    found = {(p["path"], p["code"]) for p in json_lines(result)}
    assert ("[1].input.multi_prompt[2].duration", "E302") in found
    assert all(p["file"].endswith("req.json") for p in json_lines(result))


def test_a_record_info_answer_is_validated_through_its_param(tmp_path: Path) -> None:
    bad = copy.deepcopy(GOOD)
    bad["input"]["duration"] = 5
    answer = {"code": 200, "msg": "success", "data": {"taskId": "t", "param": json.dumps(bad)}}
    result = run(tmp_path, answer, "--format", "json")
    assert result.exit_code == 1
    [problem] = json_lines(result)
    assert problem["path"] == "data.param → input.duration"
    assert problem["code"] == "E301"


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    request = copy.deepcopy(MULTI)
    request["input"]["sound"] = False
    result = run(tmp_path, request)
    assert result.exit_code == 0
    assert "warning[W502]" in result.stderr and "input.sound" in result.stderr


def test_not_json_is_an_error_and_a_missing_file_is_exit_4(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{", "utf-8")
    bad = CliRunner().invoke(main, ["validate", str(tmp_path / "bad.json")])
    assert bad.exit_code == 1 and "not JSON" in bad.stderr
    missing = CliRunner().invoke(main, ["validate", str(tmp_path / "none.json")])
    assert missing.exit_code == 4 and "cannot read" in missing.stderr


def test_a_create_task_answer_is_not_a_request(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(SEED / "docs-create-response.json")])
    assert result.exit_code == 1
    assert "without `param`" in result.stderr


def test_stdin(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", "-"], input=json.dumps(GOOD))
    assert result.exit_code == 0


# -- the same code as the compiler where the rule is the same ------------------------------

ELEMENTS = "".join(
    f"ELEMENT @e{i}: thing {i}\n  https://x.test/{i}a.png\n  https://x.test/{i}b.png\n\n"
    for i in range(4)
)


def _element(i: int) -> dict[str, Any]:
    urls = [f"https://x.test/{i}a.png", f"https://x.test/{i}b.png"]
    return {"name": f"e{i}", "description": f"thing {i}", "element_input_urls": urls}


def _single(**changes: Any) -> dict[str, Any]:
    request = copy.deepcopy(GOOD)
    request["input"].update(changes)
    return request


def _multi(shots: list[tuple[str, int]], **changes: Any) -> dict[str, Any]:
    request = copy.deepcopy(MULTI)
    request["input"]["multi_prompt"] = [{"prompt": p, "duration": d} for p, d in shots]
    request["input"]["duration"] = str(sum(d for _, d in shots))
    request["input"].update(changes)
    return request


CASES = [
    ("E201", "SHOT 5s\nthe @dog\n", _single(prompt="the @dog")),
    ("E301", "SHOT 16s\nx\n", _single(duration="16")),
    ("E301", "SHOT 9s\nx\nSHOT 8s\ny\n", _multi([("x", 9), ("y", 8)])),
    ("E302", "SHOT 13s\nx\nSHOT 1s\ny\n", _multi([("x", 13), ("y", 1)])),
    ("E303", "SHOT 2s\nx\n" * 6, _multi([("x", 2)] * 6)),
    (
        "E304",
        ELEMENTS + "SHOT 5s\n@e0 @e1 @e2 @e3\n",
        _single(prompt="@e0 @e1 @e2 @e3", kling_elements=[_element(i) for i in range(4)]),
    ),
    (
        "E305",
        "ELEMENT @e0: thing\n  https://x.test/a.png\n\nSHOT 5s\n@e0\n",
        _single(prompt="@e0", kling_elements=[{**_element(0), "element_input_urls": ["a.png"]}]),
    ),
    (
        "E306",
        ELEMENTS + "SHOT 3s\n" + "@e0 " * 14 + "\nSHOT 3s\ny\n",
        _multi([("@e0 " * 13 + "@e0", 3), ("y", 3)], kling_elements=[_element(0)]),
    ),
    (
        "E307",
        "FIRST FRAME https://x.test/f.png\nLAST FRAME https://x.test/l.png\n"
        "SHOT 3s\nx\nSHOT 3s\ny\n",
        _multi([("x", 3), ("y", 3)], image_urls=["https://x.test/f.png", "https://x.test/l.png"]),
    ),
    ("E310", "SHOT 5s\n" + "x" * 2501 + "\n", _single(prompt="x" * 2501)),
    ("E207", "Mode: 8K\nSHOT 5s\nx\n", _single(mode="8K")),
    (
        "E402",
        "FIRST FRAME https://x.test/f.gif\nSHOT 5s\nx\n",
        _single(image_urls=["https://x.test/f.gif"]),
    ),
]


@pytest.mark.parametrize(("code", "script", "request_"), CASES, ids=[c[0] for c in CASES])
def test_validate_uses_the_compiler_s_code(
    tmp_path: Path, code: str, script: str, request_: dict[str, Any]
) -> None:
    compiled = compile_source(tmp_path / "film.shot", script)
    assert code in {d.code for d in compiled.diagnostics}
    result = run(tmp_path, request_, "--format", "json")
    assert result.exit_code == 1
    assert code in {p["code"] for p in json_lines(result)}
