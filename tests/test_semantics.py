"""Stages 3-5 on small scripts: what each construct compiles to (language.md §3-§8)."""

from __future__ import annotations

import json
from pathlib import Path

from shotc.language.checks import slugify
from shotc.language.compiler import CompileResult, compile_paths
from shotc.request.types import CreateTaskRequest


def compile_text(tmp_path: Path, text: str, name: str = "film.shot", **files: str) -> CompileResult:
    for other, content in files.items():
        (tmp_path / other).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / other).write_text(content, "utf-8")
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return compile_paths([path], for_build=False)


def codes(result: CompileResult) -> list[tuple[str | None, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics]


def only_request(result: CompileResult) -> CreateTaskRequest:
    assert result.ok, codes(result)
    (scene,) = result.scenes
    return scene.request


def test_prose_lines_paragraphs_and_whitespace(tmp_path: Path) -> None:
    text = "SHOT 5s\n  The dog   runs\n\tacross the  yard.\n\n\n# a comment\nIt stops.\n   \n"
    body = only_request(compile_text(tmp_path, text))["input"]
    assert body["prompt"] == "The dog runs across the yard.\nIt stops."


def test_comments_do_not_break_paragraphs(tmp_path: Path) -> None:
    body = only_request(compile_text(tmp_path, "SHOT 5s\nA dog\n# note to self\nruns.\n"))["input"]
    assert body["prompt"] == "A dog runs."


def test_notes_are_removed_across_lines_and_blank_lines(tmp_path: Path) -> None:
    text = "SHOT 5s\nThe dog [[ check the\n\n# comment\nlighting ]] runs.\n[[whole line]]\nFast.\n"
    body = only_request(compile_text(tmp_path, text))["input"]
    assert body["prompt"] == "The dog runs. Fast."


def test_lone_closing_brackets_are_text(tmp_path: Path) -> None:
    body = only_request(compile_text(tmp_path, "SHOT 5s\na ]] b\n"))["input"]
    assert body["prompt"] == "a ]] b"


def test_forced_prose_and_at_signs(tmp_path: Path) -> None:
    text = (
        "ELEMENT @element_dog: dog\n  https://a.io/1.png\n  https://a.io/2.png\n\n"
        "FIRST FRAME https://a.io/f.png\n"
        "SHOT 5s\n!SHOT through glass, the dog@element_dog.\nmeet at @ 5pm, the @@ sign\n"
    )
    body = only_request(compile_text(tmp_path, text))["input"]
    assert body["prompt"] == ("SHOT through glass, the dog@element_dog. meet at @ 5pm, the @ sign")
    assert [e["name"] for e in body["kling_elements"]] == ["element_dog"]


def test_setting_shaped_lines_inside_a_shot_are_prose(tmp_path: Path) -> None:
    body = only_request(compile_text(tmp_path, "SHOT 5s\nNote: the dog waits.\n"))["input"]
    assert body["prompt"] == "Note: the dog waits."


def test_defaults_single_and_multi(tmp_path: Path) -> None:
    result = compile_text(tmp_path, "SCENE A\nSHOT 5s\nx\n\nSCENE B\nSHOT 2s\ny\nSHOT 3\nz\n")
    assert result.ok
    a, b = (s.request for s in result.scenes)
    assert list(a) == ["model", "input"]
    assert a["input"] == {
        "prompt": "x",
        "sound": False,
        "duration": "5",
        "aspect_ratio": "16:9",
        "mode": "pro",
        "multi_shots": False,
    }
    assert b["input"] == {
        "sound": True,
        "duration": "5",
        "aspect_ratio": "16:9",
        "mode": "pro",
        "multi_shots": True,
        "multi_prompt": [{"prompt": "y", "duration": 2}, {"prompt": "z", "duration": 3}],
    }


def test_settings_are_case_insensitive_and_normalised(tmp_path: Path) -> None:
    text = (
        "mode: 4k\nSOUND : Yes\nmodel: Kling-3.0\ncallback: https://h.io/cb\n"
        "SCENE A\nAspect: 9:16\nFIRST FRAME https://a.io/f.png\nLAST FRAME https://a.io/l\n"
        "SHOT 5S\nx\n"
    )
    request = only_request(compile_text(tmp_path, text))
    assert json.dumps(request) == json.dumps(
        {
            "model": "kling-3.0/video",
            "callBackUrl": "https://h.io/cb",
            "input": {
                "prompt": "x",
                "image_urls": ["https://a.io/f.png", "https://a.io/l"],
                "sound": True,
                "duration": "5",
                "aspect_ratio": "9:16",
                "mode": "4K",
                "multi_shots": False,
            },
        }
    )


def test_aspect_is_omitted_with_a_first_frame(tmp_path: Path) -> None:
    body = only_request(compile_text(tmp_path, "FIRST FRAME https://a.io/f\nSHOT 5s\nx\n"))["input"]
    assert "aspect_ratio" not in body and body["image_urls"] == ["https://a.io/f"]


def test_last_setting_wins_and_scene_overrides(tmp_path: Path) -> None:
    text = "Mode: std\nMode: pro\nSCENE A\nMode: std\nSHOT 5s\nx\nSCENE B\nSHOT 5s\ny\n"
    result = compile_text(tmp_path, text)
    assert [s.request["input"]["mode"] for s in result.scenes] == ["std", "pro"]


def test_local_paths_become_percent_encoded_file_uris(tmp_path: Path) -> None:
    (tmp_path / "shots").mkdir()
    for name in ("aé.png", "b.jpg", "first.png"):
        (tmp_path / "shots" / name).write_bytes(b"\x89PNG")
    text = (
        "ELEMENT @hero: the hero\n  shots/aé.png\n  image shots/b.jpg\n\n"
        "FIRST FRAME shots/first.png\nSHOT 5s\n@hero waves\n"
    )
    body = only_request(compile_text(tmp_path, text))["input"]
    root = tmp_path.resolve().as_uri()
    assert body["image_urls"] == [f"{root}/shots/first.png"]
    assert body["kling_elements"][0]["element_input_urls"] == [
        f"{root}/shots/a%C3%A9.png",
        f"{root}/shots/b.jpg",
    ]


def test_elements_in_order_of_first_cue(tmp_path: Path) -> None:
    text = (
        "ELEMENT @a: A\n  https://x.io/1.png\n  https://x.io/2.png\n"
        "ELEMENT @b: B\n  video https://x.io/clip\n\n"
        "FIRST FRAME https://x.io/f.png\nSHOT 2s\n@b then @a\nSHOT 2s\n@a again\n"
    )
    result = compile_text(tmp_path, text)
    body = only_request(result)["input"]
    assert [e["name"] for e in body["kling_elements"]] == ["b", "a"]
    assert body["kling_elements"][0] == {
        "name": "b",
        "description": "B",
        "element_input_video_urls": ["https://x.io/clip"],
    }
    assert [c for c, _, _ in codes(result)] == ["W504"]


def test_slugs() -> None:
    assert slugify("Warm-up", 1) == "warm-up"
    assert slugify("  Café — Night!  ", 2) == "cafe-night"
    assert slugify("夜", 3) == "scene-3"
    assert slugify("", 4) == "scene-4"


def test_scene_ids_and_file_stem(tmp_path: Path) -> None:
    result = compile_text(tmp_path, "SHOT 5s\nx\n", name="My Film.shot")
    assert [s.scene_id for s in result.scenes] == ["my-film"]
    result = compile_text(tmp_path, "SCENE\nSHOT 5s\nx\nSCENE Été\nSHOT 5s\ny\n")
    assert [s.scene_id for s in result.scenes] == ["scene-1", "ete"]


def test_scene_ids_are_unique_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.shot").write_text("SCENE Intro\nSHOT 5s\nx\n")
    (tmp_path / "b.shot").write_text("\nSCENE intro\nSHOT 5s\ny\n")
    result = compile_paths([tmp_path / "a.shot", tmp_path / "b.shot"])
    assert codes(result) == [("E205", 2, 1)]
    assert result.diagnostics[0].span.file.endswith("b.shot")


def test_include_precedence_and_elements(tmp_path: Path) -> None:
    result = compile_text(
        tmp_path,
        "INCLUDE lib/first.shot\nINCLUDE lib/second.shot\nSound: on\n"
        "FIRST FRAME https://x.io/f.png\nSHOT 5s\n@hero\n",
        **{
            "lib/first.shot": "Mode: std\nAspect: 1:1\nSound: off\n",
            "lib/second.shot": "INCLUDE cast.shot\nMode: 4K\n",
            "lib/cast.shot": "Aspect: 9:16\nELEMENT @hero: hero\n  https://x.io/1.png\n"
            "  https://x.io/2.png\n",
        },
    )
    body = only_request(result)["input"]
    assert (body["mode"], body["aspect_ratio"], body["sound"]) == ("4K", "9:16", True)
    assert body["kling_elements"][0]["name"] == "hero"


def test_a_file_reached_twice_declares_its_elements_once(tmp_path: Path) -> None:
    cast = "ELEMENT @hero: hero\n  https://x.io/1.png\n  https://x.io/2.png\n"
    result = compile_text(
        tmp_path,
        "INCLUDE a.shot\nINCLUDE b.shot\nFIRST FRAME https://x.io/f.png\nSHOT 5s\n@hero\n",
        **{"a.shot": "INCLUDE cast.shot\n", "b.shot": "INCLUDE cast.shot\n", "cast.shot": cast},
    )
    assert result.ok and codes(result) == []


def test_include_cycle_and_missing_file(tmp_path: Path) -> None:
    result = compile_text(
        tmp_path,
        "INCLUDE a.shot\nINCLUDE missing.shot\nSHOT 5s\nx\n",
        **{"a.shot": "\nINCLUDE film.shot\n"},
    )
    found = [(d.code, d.span.file.rsplit("/", 1)[-1], d.span.line) for d in result.diagnostics]
    assert found == [("E404", "a.shot", 2), ("E404", "film.shot", 2)]


def test_duplicate_element_across_include(tmp_path: Path) -> None:
    cast = "ELEMENT @hero: hero\n  https://x.io/1.png\n  https://x.io/2.png\n"
    result = compile_text(
        tmp_path, cast + "\nINCLUDE cast.shot\nSHOT 5s\n@hero\n", **{"cast.shot": "\n" + cast}
    )
    found = [
        (d.code, d.span.file.rsplit("/", 1)[-1], d.span.line, d.span.column)
        for d in result.diagnostics
    ]
    assert ("E202", "cast.shot", 2, 9) in found


def test_included_scenes_are_not_checked(tmp_path: Path) -> None:
    result = compile_text(
        tmp_path,
        "INCLUDE lib.shot\nSHOT 5s\nx\n",
        **{"lib.shot": "Mode: pro\nSCENE bad\nSHOT 99s\n@nobody\n"},
    )
    assert result.ok and codes(result) == []


def test_cue_weight_for_multi_shot_prompts(tmp_path: Path) -> None:
    cast = (
        "ELEMENT @e: e\n  https://x.io/1.png\n  https://x.io/2.png\n\nFIRST FRAME https://x.io/f\n"
    )
    # 463 letters + one cue counted as 37 = 500: allowed; one more letter is E306
    ok = compile_text(tmp_path, cast + "SHOT 2s\n" + "a" * 463 + "@e\nSHOT 2s\nb\n")
    assert ok.ok, codes(ok)
    bad = compile_text(tmp_path, cast + "SHOT 2s\n" + "a" * 464 + "@e\nSHOT 2s\nb\n")
    assert codes(bad) == [("E306", 6, 1)]


def test_long_cue_names_do_not_hide_an_over_long_prompt(tmp_path: Path) -> None:
    name = "e" * 60
    cast = (
        f"ELEMENT @{name}: e\n  https://x.io/1.png\n  https://x.io/2.png\n\n"
        "FIRST FRAME https://x.io/f\n"
    )
    # 445 letters + a 61-character cue: 482 when the cue counts 37, but 506 as written
    bad = compile_text(tmp_path, cast + "SHOT 2s\n" + "a" * 445 + f"@{name}\nSHOT 2s\nb\n")
    assert codes(bad) == [("E306", 6, 1)]


def test_a_bare_shot_word_in_prose_is_not_a_wrong_case_directive(tmp_path: Path) -> None:
    # `SHOT` alone would be E102, so suggesting it would be wrong; `shot 3s` is the shape
    result = compile_text(tmp_path, "SHOT 5s\nA wide\nshot\nshot 3s\n")
    assert codes(result) == [("E106", 4, 1)]
