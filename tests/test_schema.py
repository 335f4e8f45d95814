"""The request schema, its detailed violations (paths and codes), and the Kling rules."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from devtools import validatorgen
from shotc import kling
from shotc.diagnostics import Diagnostic
from shotc.kling import extension
from shotc.request.rules import check_request_rules, validate_all
from shotc.request.types import CreateTaskRequest, KlingElement, MultiShot, RequestInput
from shotc.request.validation import format_path, schema, validate_request

SINGLE: dict[str, Any] = {
    "model": "kling-3.0/video",
    "input": {
        "prompt": "a dog runs @element_dog",
        "image_urls": ["https://a.example/first.png"],
        "sound": False,
        "duration": "5",
        "mode": "pro",
        "multi_shots": False,
        "kling_elements": [
            {
                "name": "element_dog",
                "description": "dog",
                "element_input_urls": ["https://a.example/1.jpg", "https://a.example/2.jpeg"],
            }
        ],
    },
}
MULTI: dict[str, Any] = {
    "model": "kling-3.0/video",
    "input": {
        "image_urls": ["https://a.example/first.png"],
        "sound": True,
        "duration": "6",
        "mode": "std",
        "multi_shots": True,
        "multi_prompt": [
            {"prompt": "a cat @element_cat", "duration": 3},
            {"prompt": "a dog @element_dog", "duration": 3},
        ],
        "kling_elements": [
            {
                "name": "element_cat",
                "description": "cat",
                "element_input_video_urls": ["https://a.example/cat.mp4"],
            },
            {
                "name": "element_dog",
                "description": "dog",
                "element_input_urls": ["https://a.example/1.jpg", "https://a.example/2.png"],
            },
        ],
    },
}


def edited(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `base` with input keys changed (None deletes)."""
    request = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            request["input"].pop(key, None)
        else:
            request["input"][key] = value
    return request


def found(violations: list[Diagnostic]) -> set[tuple[str, str | None]]:
    return {(v.path, v.code) for v in violations}


# -- the schema file --------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    s = schema()
    Draft202012Validator.check_schema(s)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s == json.loads(validatorgen.SCHEMA_PATH.read_text("utf-8"))


def test_schema_ships_inside_the_package() -> None:
    import shotc

    assert (Path(shotc.__file__).parent / "request" / "request.schema.json").is_file()


def test_every_definition_is_described() -> None:
    for name, sub in schema()["$defs"].items():
        assert sub.get("description"), name


def test_every_object_rejects_unknown_keys() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            own = [node] if node.get("type") == "object" else []
            return own + [o for v in node.values() for o in objects(v)]
        if isinstance(node, list):
            return [o for v in node for o in objects(v)]
        return []

    typed = objects(schema())
    assert len(typed) == 4  # root, input, shot, element
    assert all(o.get("additionalProperties") is False for o in typed)


@pytest.mark.parametrize(
    ("typed", "where"),
    [
        (CreateTaskRequest, ()),
        (RequestInput, ("$defs", "input")),
        (MultiShot, ("$defs", "shot")),
        (KlingElement, ("$defs", "element")),
    ],
    ids=["CreateTaskRequest", "RequestInput", "MultiShot", "KlingElement"],
)
def test_request_types_have_the_schemas_keys(typed: Any, where: tuple[str, ...]) -> None:
    node = schema()
    for key in where:
        node = node[key]
    assert typed.__required_keys__ == set(node.get("required", ()))
    assert typed.__required_keys__ | typed.__optional_keys__ == set(node["properties"])


def test_examples_are_valid() -> None:
    assert validate_request(SINGLE) == []
    assert validate_request(MULTI) == []
    assert validate_request(edited(MULTI, sound=None, duration=None, mode=None)) == []


# -- detailed violations ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "path", "code"),
    [
        (
            edited(MULTI, multi_prompt=[{"prompt": "a", "duration": 13}]),
            "input.multi_prompt[0].duration",
            "E302",
        ),
        (
            edited(MULTI, multi_prompt=[{"prompt": "a", "duration": 1}] * 6),
            "input.multi_prompt",
            "E303",
        ),
        (
            edited(SINGLE, kling_elements=SINGLE["input"]["kling_elements"] * 4),
            "input.kling_elements",
            "E304",
        ),
        (
            edited(MULTI, multi_prompt=[{"prompt": "x" * 501, "duration": 5}]),
            "input.multi_prompt[0].prompt",
            "E306",
        ),
        (
            edited(MULTI, multi_prompt=[{"prompt": "", "duration": 5}]),
            "input.multi_prompt[0].prompt",
            "E311",
        ),
        (
            edited(MULTI, image_urls=["https://a/1.png", "https://a/2.png"]),
            "input.image_urls",
            "E307",
        ),
        (edited(SINGLE, prompt="x" * 2501), "input.prompt", "E310"),
        (edited(SINGLE, prompt=""), "input.prompt", "E311"),
        (edited(SINGLE, duration="16"), "input.duration", "E301"),
        (edited(SINGLE, duration=5), "input.duration", "E301"),
        (edited(SINGLE, mode="ultra"), "input.mode", "E207"),
        (edited(SINGLE, aspect_ratio="4:3"), "input.aspect_ratio", "E207"),
        (
            edited(
                SINGLE,
                kling_elements=[
                    {"name": "a b", "description": "d", "element_input_urls": ["x:1", "x:2"]}
                ],
            ),
            "input.kling_elements[0].name",
            "E203",
        ),
        (
            edited(SINGLE, kling_elements=[{"name": "a", "element_input_urls": ["x:1", "x:2"]}]),
            "input.kling_elements[0].description",
            "E204",
        ),
        (
            edited(SINGLE, kling_elements=[{"name": "a", "description": "d"}]),
            "input.kling_elements[0]",
            "E305",
        ),
        (
            edited(
                SINGLE,
                kling_elements=[
                    {
                        "name": "a",
                        "description": "d",
                        "element_input_urls": ["x:1", "x:2"],
                        "element_input_video_urls": ["x:3"],
                    }
                ],
            ),
            "input.kling_elements[0]",
            "E305",
        ),
        (
            edited(
                SINGLE,
                kling_elements=[
                    {"name": "a", "description": "d", "element_input_video_urls": ["x:1", "x:2"]}
                ],
            ),
            "input.kling_elements[0].element_input_video_urls",
            "E305",
        ),
        (edited(SINGLE, multi_shots=True), "input.multi_prompt", None),
        (edited(SINGLE, multi_shots=True), "input.prompt", None),
        (edited(SINGLE, prompt=None), "input.prompt", None),
        (edited(SINGLE, image_urls=["not a url"]), "input.image_urls[0]", None),
        (edited(SINGLE, sound="yes"), "input.sound", None),
        (edited(SINGLE, promt="typo"), "input.promt", None),
        ({"input": SINGLE["input"]}, "model", None),
        ({**SINGLE, "callBackUrl": "ftp://h/x"}, "callBackUrl", "E207"),
        ({**SINGLE, "callBackUrl": "https://h/ x"}, "callBackUrl", "E207"),
        ([], "$", None),
    ],
)
def test_violation_paths_and_codes(request_: Any, path: str, code: str | None) -> None:
    violations = validate_request(request_)
    assert (path, code) in found(violations), violations
    assert all(v.severity == "error" for v in violations)


def test_messages_are_helpful() -> None:
    [typo] = validate_request(edited(SINGLE, promt="x"))
    assert "did you mean `prompt`" in typo.message
    [duration] = validate_request(edited(SINGLE, duration=5))
    assert '"3" to "15"' in duration.message and "not a number" in duration.message
    both = validate_request(
        edited(
            SINGLE,
            kling_elements=[
                {
                    "name": "a",
                    "description": "d",
                    "element_input_urls": ["x:1", "x:2"],
                    "element_input_video_urls": ["x:3"],
                }
            ],
        )
    )
    assert any("image element" in v.message and "both" in v.message for v in both)
    [extra] = validate_request(edited(SINGLE, multi_prompt=MULTI["input"]["multi_prompt"]))
    assert extra.path == "input.multi_prompt" and "multi_shots" in extra.message


def test_violations_are_sorted_and_deterministic() -> None:
    shots = [{"prompt": "a", "duration": d} for d in (0, 13, 5, 0, 1)] + [{"prompt": "b"}]
    request = edited(MULTI, multi_prompt=shots * 2, mode="x")
    first = validate_request(request)
    assert first == validate_request(copy.deepcopy(request))
    paths = [v.path for v in first]
    assert paths.index("input.multi_prompt[3].duration") < paths.index(
        "input.multi_prompt[9].duration"
    )
    assert paths[-1] == "input.multi_prompt[11].duration"


def test_format_path() -> None:
    assert format_path([]) == "$"
    assert format_path(["input", "multi_prompt", 2, "duration"]) == "input.multi_prompt[2].duration"
    assert format_path(["input", "a b"]) == 'input["a b"]'
    assert format_path([0]) == "[0]"


# -- Kling rules --------------------------------------------------------------------------


def test_duration_must_be_the_sum_of_the_shots() -> None:
    assert ("input.duration", "E301") in found(check_request_rules(edited(MULTI, duration="5")))
    assert ("input.duration", "E301") in found(check_request_rules(edited(MULTI, duration=None)))
    five = edited(
        MULTI,
        duration=None,
        multi_prompt=[{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": 3}],
    )
    assert not [v for v in check_request_rules(five) if v.code == "E301"]
    long = edited(MULTI, duration="15", multi_prompt=[{"prompt": "a", "duration": 12}] * 2)
    assert found(check_request_rules(long)) >= {
        ("input.multi_prompt", "E301"),
        ("input.duration", "E301"),
    }
    short = edited(MULTI, duration="3", multi_prompt=[{"prompt": "a", "duration": 1}] * 2)
    assert ("input.multi_prompt", "E301") in found(check_request_rules(short))


def test_cues_count_37_characters_in_a_shot() -> None:
    def shot(prompt: str) -> dict[str, Any]:
        return edited(MULTI, duration="3", multi_prompt=[{"prompt": prompt, "duration": 3}])

    # 12 cues of `@element_dog` (12 characters each) count 12 * 37 = 444, + 12 spaces.
    at_limit = shot("@element_dog " * 12 + "x" * 44)
    assert len(at_limit["input"]["multi_prompt"][0]["prompt"]) == 200
    assert not [v for v in check_request_rules(at_limit) if v.code == "E306"]
    over = shot("@element_dog " * 12 + "x" * 45)
    assert ("input.multi_prompt[0].prompt", "E306") in found(validate_all(over))
    assert validate_request(over) == []  # only the rule sees it


def test_every_cue_names_an_element() -> None:
    unknown = edited(SINGLE, prompt="a dog @element_dgo and mail me at a@example.com")
    violations = [v for v in check_request_rules(unknown) if v.code == "E201"]
    assert {v.path for v in violations} == {"input.prompt"}
    assert len(violations) == 2
    assert any("did you mean @element_dog" in v.message for v in violations)
    shots = edited(MULTI, multi_prompt=[{"prompt": "@nobody", "duration": 6}])
    assert ("input.multi_prompt[0].prompt", "E201") in found(check_request_rules(shots))
    plain = edited(SINGLE, prompt="a@ b @ c")
    assert not [v for v in check_request_rules(plain) if v.code == "E201"]


@pytest.mark.parametrize(
    ("url", "ext"),
    [
        ("https://a.example/x.PNG?v=2#top", ".png"),
        ("https://a.example/x", ""),
        ("https://a.example.com", ""),
        ("file:///tmp/a%20b.jpeg", ".jpeg"),
        ("https://a.example/.png", ""),
        ("https://a.example/dir.d/file", ""),
        ("https://a.example/x.webp", ".webp"),
        ("clips/take#1.PNG", ".png"),  # a local path keeps its `#`
        ("C:\\clips\\a.mov", ".mov"),
    ],
)
def test_extension(url: str, ext: str) -> None:
    assert extension(url) == ext


def test_media_types_by_place() -> None:
    request = edited(
        SINGLE,
        image_urls=["https://a/x.gif", "https://a/noext"],
        kling_elements=[
            {
                "name": "element_dog",
                "description": "d",
                "element_input_urls": ["https://a/1.mp4", "https://a/2.jpg"],
            },
            {"name": "v", "description": "d", "element_input_video_urls": ["https://a/v.png"]},
        ],
    )
    e402 = {v.path for v in check_request_rules(request) if v.code == "E402"}
    assert e402 == {
        "input.image_urls[0]",
        "input.kling_elements[0].element_input_urls[0]",
        "input.kling_elements[1].element_input_video_urls[0]",
    }
    video = edited(
        SINGLE,
        kling_elements=[
            {
                "name": "element_dog",
                "description": "d",
                "element_input_video_urls": ["https://a/v.MOV"],
            }
        ],
    )
    assert not [v for v in check_request_rules(video) if v.code == "E402"]


def test_warnings() -> None:
    quiet = edited(MULTI, sound=False)
    [w502] = [v for v in check_request_rules(quiet) if v.code == "W502"]
    assert (w502.path, w502.severity, w502.is_error) == ("input.sound", "warning", False)
    assert not [v for v in check_request_rules(edited(MULTI, sound=None)) if v.code == "W502"]
    assert not [v for v in check_request_rules(edited(SINGLE, sound=False)) if v.code == "W502"]
    codes = {v.code for v in check_request_rules(edited(MULTI, image_urls=None))}
    assert {"W503", "W504"} <= codes
    uncued = edited(SINGLE, prompt="no cues")
    assert ("input.kling_elements[0]", "W501") in found(check_request_rules(uncued))


def test_duplicate_and_whitespace_elements() -> None:
    element = {
        "name": "element_dog",
        "description": " ",
        "element_input_urls": ["https://a/1.jpg", "https://a/2.jpg"],
    }
    request = edited(SINGLE, kling_elements=[element, element])
    assert found(check_request_rules(request)) >= {
        ("input.kling_elements[1].name", "E202"),
        ("input.kling_elements[0].description", "E204"),
    }


def test_rules_skip_unsound_parts() -> None:
    broken = edited(
        MULTI,
        multi_prompt=[{"prompt": 5, "duration": "3"}, "shot", None],
        kling_elements={"name": "x"},
        image_urls="https://a/x.gif",
    )
    check_request_rules(broken)  # must not raise
    assert check_request_rules({"input": []}) == []
    assert validate_all(None) == validate_request(None) != []


def test_validate_all_merges_without_repeating() -> None:
    violations = validate_all(edited(MULTI, image_urls=["https://a/1.png", "https://a/2.png"]))
    assert [v.path for v in violations if v.code == "E307"] == ["input.image_urls"]
    assert validate_all(SINGLE) == []
    assert kling.CUE_WEIGHT == 37


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "input",
                    "prompt",
                    "multi_prompt",
                    "kling_elements",
                    "name",
                    "duration",
                    "multi_shots",
                    "image_urls",
                    "element_input_urls",
                    "element_input_video_urls",
                    "sound",
                    "model",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=16,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, st.builds(lambda inp: {"model": "kling-3.0/video", "input": inp}, JSON)))
def test_validate_all_never_raises(value: Any) -> None:
    for violation in validate_all(value):
        assert violation.path and violation.message
        assert violation.severity in ("error", "warning")


def test_the_schema_states_kling_py_s_numbers() -> None:
    """The published schema restates shotc.kling's limits; the two must not drift apart."""
    from shotc import kling

    s = schema()
    d, inp = s["$defs"], s["$defs"]["input"]["properties"]
    seconds = [str(n) for n in range(kling.MIN_TOTAL, kling.MAX_TOTAL + 1)]
    element = d["element"]["properties"]
    assert d["totalDuration"]["enum"] == seconds
    assert (
        d["shot"]["properties"]["duration"]["minimum"],
        d["shot"]["properties"]["duration"]["maximum"],
    ) == (kling.MIN_SHOT, kling.MAX_SHOT)
    assert d["shot"]["properties"]["prompt"]["maxLength"] == kling.MAX_MULTI_PROMPT
    assert d["singleShotPrompt"]["maxLength"] == kling.MAX_SINGLE_PROMPT
    assert inp["multi_prompt"]["maxItems"] == kling.MAX_SHOTS
    assert inp["kling_elements"]["maxItems"] == kling.MAX_ELEMENTS
    assert d["imageUrls"]["maxItems"] == kling.MAX_FRAMES
    assert inp["mode"]["enum"] == list(kling.MODES)
    assert inp["aspect_ratio"]["enum"] == list(kling.ASPECT_RATIOS)
    urls = element["element_input_urls"]
    assert (urls["minItems"], urls["maxItems"]) == (
        kling.MIN_ELEMENT_IMAGES,
        kling.MAX_ELEMENT_IMAGES,
    )
    videos = element["element_input_video_urls"]
    assert videos["minItems"] == videos["maxItems"] == kling.ELEMENT_VIDEOS
    assert f"[{kling.NAME_CHARS}]+" in d["elementName"]["pattern"]
