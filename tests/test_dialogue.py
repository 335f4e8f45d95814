"""Language 1.1: dialogue and voices (§3), notes anywhere (§1), and `--allow` on the CLI."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from shotc.cli.group import main
from shotc.language.compiler import CompileResult, compile_paths
from shotc.request.types import CreateTaskRequest


def compile_text(tmp_path: Path, text: str) -> CompileResult:
    path = tmp_path / "film.shot"
    path.write_text(text, "utf-8")
    return compile_paths([path], for_build=False)


def codes(result: CompileResult) -> list[tuple[str | None, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics]


def only_request(result: CompileResult) -> CreateTaskRequest:
    assert result.ok, codes(result)
    (scene,) = result.scenes
    return scene.request


KEEPER = (
    "ELEMENT @element_keeper: the keeper\n"
    "  https://a.io/k1.png\n"
    "  Voice: a deep, slow Scots voice\n"
    "  https://a.io/k2.png\n\n"
)
FRAME = "FIRST FRAME https://a.io/f.png\n"


def test_dialogue_compiles_to_the_kling_convention(tmp_path: Path) -> None:
    text = (
        KEEPER + FRAME + "SHOT 5s\nClose on the keeper.\n"
        '@element_keeper (whispering): "The light must never go out."\n'
        'MARA (V.O.): "We should\ngo back." She turns.\n'
        '@element_keeper (CONT\'D): "No."\n'
    )
    body = only_request(compile_text(tmp_path, text))["input"]
    assert body["prompt"].split("\n") == [
        "Close on the keeper.",
        '[@element_keeper: a deep, slow Scots voice, whispering]: "The light must never go out."',
        '[MARA, voice-over]: "We should go back."',
        "She turns.",
        '[@element_keeper]: "No."',
    ]
    assert body["sound"] is True  # dialogue turns sound on, even for one shot
    assert [e["name"] for e in body["kling_elements"]] == ["element_keeper"]


def test_the_voice_comes_again_in_each_shot_of_a_multi_shot_scene(tmp_path: Path) -> None:
    text = KEEPER + FRAME + 'SHOT 3s\n@element_keeper: "One."\nSHOT 3s\n@element_keeper: "Two."\n'
    body = only_request(compile_text(tmp_path, text))["input"]
    prompts = [shot["prompt"] for shot in body["multi_prompt"]]
    assert prompts == [
        '[@element_keeper: a deep, slow Scots voice]: "One."',
        '[@element_keeper: a deep, slow Scots voice]: "Two."',
    ]


def test_lines_of_other_shapes_stay_prose(tmp_path: Path) -> None:
    text = 'SHOT 5s\nWide: the platform\nSFX: thunder\nCUT TO:\nMARA\n"Go."\n!MARA: "x"\n'
    body = only_request(compile_text(tmp_path, text))["input"]
    assert body["prompt"] == 'Wide: the platform SFX: thunder CUT TO: MARA "Go." MARA: "x"'
    assert body["sound"] is False


def test_lengths_count_the_compiled_text(tmp_path: Path) -> None:
    words = " ".join(["word"] * 99)  # 494 characters: under 500 as prose, 504 compiled
    text = f'SHOT 10s\nMARA: "{words}"\nSHOT 5s\nx\n'
    assert ("E306", 1, 1) in codes(compile_text(tmp_path, text))


def test_notes_outside_shots_reach_no_value(tmp_path: Path) -> None:
    text = (
        "Title: The [[x]] Film\nELEMENT @dog: a [[big]] dog\n  https://a.io/1.png\n"
        "  [[ a note line ]]\n  https://a.io/2.png\n\n"
        "SCENE Dawn [[v2]]\nFIRST FRAME https://a.io/f.png [[ the dawn ]]\nSHOT 5s\nThe @dog.\n"
    )
    result = compile_text(tmp_path, text)
    assert result.ok, codes(result)
    [scene] = result.scenes
    assert scene.scene_id == "dawn" and scene.film_title == "The Film"
    assert scene.request["input"]["kling_elements"][0]["description"] == "a dog"


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "film.shot"
    path.write_text('SCENE Quiet\nSound: off\nSHOT 5s\nMARA: "Shh."\n', "utf-8")
    return path


def test_allow_leaves_a_warning_out(tmp_path: Path) -> None:
    path = _write(tmp_path)
    runner = CliRunner()
    warned = runner.invoke(main, ["check", str(path)])
    assert warned.exit_code == 0 and "W506" in warned.output
    allowed = runner.invoke(main, ["check", "--allow", "W506", str(path)])
    assert allowed.exit_code == 0 and "W506" not in allowed.output
    built = runner.invoke(main, ["build", "--allow", "w506", str(path)])
    assert built.exit_code == 0 and "W506" not in built.stderr


def test_allow_in_shotc_toml(tmp_path: Path) -> None:
    path = _write(tmp_path)
    (tmp_path / "shotc.toml").write_text('allow = ["W506"]\n', "utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0 and "W506" not in result.output


def test_allowing_an_error_retired_or_unknown_code_is_a_usage_error(tmp_path: Path) -> None:
    path = _write(tmp_path)
    for code in ("E212", "W505", "W999"):
        result = CliRunner().invoke(main, ["check", "--allow", code, str(path)])
        assert result.exit_code == 2, (code, result.output)


def test_explain_w505_says_it_became_e106() -> None:
    result = CliRunner().invoke(main, ["explain", "W505"])
    assert result.exit_code == 0 and "E106" in result.output
