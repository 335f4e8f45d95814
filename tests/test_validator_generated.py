"""The generated fast validator: current, stdlib-only, and in agreement with jsonschema."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from devtools import schemagen
from shotc.request._generated_validator import is_uri, is_valid
from shotc.request.validation import jsonschema_validator, schema, validate_request

GENERATED = schemagen.OUTPUT_PATH
FAST = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def reference_validator(s: dict[str, Any]) -> Draft202012Validator:
    """jsonschema with the project's `uri` rule, built independently of shotc.request.validation."""
    checker = FormatChecker(formats=())
    checker.checks("uri")(lambda v: not isinstance(v, str) or is_uri(v))
    return Draft202012Validator(s, format_checker=checker)


REFERENCE = reference_validator(schema())

# -- strategies -------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.floats(allow_nan=False)
    | st.sampled_from([3.0, 12.0, 1.5])
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
URIS = [
    "https://a.example/x.png",
    "https://cdn.example/v.mp4",
    "file:///tmp/a%20b.jpeg",
    "https://ex.com/café.png",
    "not a uri",
    "https//x",
    "x:",
    "x:y",
    "1x:y",
    "http://h\n",
]
uris = st.sampled_from(URIS[:4]) | st.from_regex(schemagen.URI_REGEX, fullmatch=True)
names = st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True)
prompts = st.text(min_size=1, max_size=30)
shot_prompts = st.sampled_from(["a", "s" * 500]) | prompts
durations = st.sampled_from([1, 12]) | st.integers(1, 12)


@st.composite
def elements(draw: st.DrawFn) -> dict[str, Any]:
    element: dict[str, Any] = {"name": draw(names), "description": draw(prompts)}
    if draw(st.booleans()):
        element["element_input_urls"] = draw(
            st.sampled_from([2, 4]).flatmap(lambda n: st.lists(uris, min_size=n, max_size=n))
        )
    else:
        element["element_input_video_urls"] = [draw(uris)]
    return element


@st.composite
def valid_requests(draw: st.DrawFn) -> dict[str, Any]:
    multi = draw(st.booleans())
    inp: dict[str, Any] = {}
    if multi:
        inp["multi_shots"] = True
        inp["multi_prompt"] = draw(
            st.lists(
                st.fixed_dictionaries({"prompt": shot_prompts, "duration": durations}),
                min_size=1,
                max_size=5,
            )
        )
        frames = draw(st.lists(uris, max_size=1))
    else:
        if draw(st.booleans()):
            inp["multi_shots"] = False
        inp["prompt"] = draw(st.sampled_from(["p" * 2500]) | prompts)
        frames = draw(st.lists(uris, max_size=2))
    if frames:
        inp["image_urls"] = frames
    optional = {
        "sound": st.booleans(),
        "duration": st.sampled_from([str(n) for n in range(3, 16)]),
        "aspect_ratio": st.sampled_from(["16:9", "9:16", "1:1"]),
        "mode": st.sampled_from(["std", "pro", "4K"]),
        "kling_elements": st.lists(elements(), max_size=3),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            inp[key] = draw(strategy)
    request: dict[str, Any] = {"model": "kling-3.0/video", "input": inp}
    if draw(st.booleans()):
        request["callBackUrl"] = draw(
            st.sampled_from(
                ["https://your-domain.com/api/callback", "HTTP://h:8080/x?y", "http://@"]
            )
        )
    return request


INTERESTING: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    3,
    3.0,
    5,
    12,
    12.0,
    12.5,
    13,
    -1,
    2**64,
    "",
    " ",
    "x",
    "3",
    "15",
    "16",
    "5.0",
    "pro",
    "PRO",
    "4K",
    "16:9",
    "4:3",
    "x" * 500,
    "x" * 501,
    "x" * 2500,
    "x" * 2501,
    [],
    [{}],
    {},
    "kling-3.0/video",
    "kling-3.0",
    "a b",
    "el-1",
    "bad name",
    "name\n",
    *URIS,
    "https://",
    "ftp://h",
    "https:///x",
    {"prompt": "a", "duration": 3},
    {"prompt": "a", "duration": 13},
    {"name": "a", "description": "d", "element_input_urls": ["x:1", "x:2"]},
    {"name": "a", "description": "d", "element_input_video_urls": ["x:1"]},
    ["x:1", "x:2", "x:3"],
    ["x:1", "x:2", "x:3", "x:4", "x:5"],
]
KEYS = [
    "model",
    "callBackUrl",
    "input",
    "prompt",
    "image_urls",
    "sound",
    "duration",
    "aspect_ratio",
    "mode",
    "multi_shots",
    "multi_prompt",
    "kling_elements",
    "name",
    "description",
    "element_input_urls",
    "element_input_video_urls",
    "extra",
]


# Valid requests at the edges of every limit, for the exhaustive single-mutation sweep.
EDGE_REQUESTS: list[dict[str, Any]] = [
    {
        "model": "kling-3.0/video",
        "callBackUrl": "https://h.example/cb",
        "input": {
            "prompt": "p" * 2500,
            "image_urls": ["https://a.example/f.png", "x:l"],
            "sound": True,
            "duration": "15",
            "aspect_ratio": "1:1",
            "mode": "4K",
            "multi_shots": False,
            "kling_elements": [
                {
                    "name": "a",
                    "description": "d",
                    "element_input_urls": ["x:1", "x:2", "x:3", "x:4"],
                },
                {"name": "b-_9", "description": "d", "element_input_urls": ["x:1", "x:2"]},
                {"name": "c", "description": "d", "element_input_video_urls": ["x:v.mp4"]},
            ],
        },
    },
    {
        "model": "kling-3.0/video",
        "input": {
            "multi_shots": True,
            "image_urls": ["file:///f.png"],
            "duration": "15",
            "multi_prompt": [
                {"prompt": "q" * 500, "duration": 12},
                {"prompt": "r", "duration": 1},
                {"prompt": "s", "duration": 1},
                {"prompt": "t", "duration": 1},
                {"prompt": "u", "duration": 1},
            ],
        },
    },
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    children = (
        value.items()
        if isinstance(value, dict)
        else (enumerate(value) if isinstance(value, list) else [])
    )
    for key, child in children:
        found += _paths(child, (*path, key))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


ADDED: list[Any] = [None, True, 3, "3", "x", [], {}, ["x:1"], {"prompt": "a", "duration": 3}]


def _mutants(request: Any, path: tuple[Any, ...], replacement: Any) -> list[Any]:
    """The request with the value at `path` replaced by `replacement`, deleted, or (lists)
    with its first item repeated, or (objects) with `replacement` under each known key."""
    out = []
    target = _at(request, path)

    def edited(edit: Any) -> None:
        mutant = copy.deepcopy(request)
        edit(mutant)
        out.append(mutant)

    if path:
        edited(lambda m: _at(m, path[:-1]).__setitem__(path[-1], copy.deepcopy(replacement)))
        edited(lambda m: _at(m, path[:-1]).__delitem__(path[-1]))
    if isinstance(target, list) and target:
        edited(lambda m: _at(m, path).append(copy.deepcopy(target[0])))
    if isinstance(target, dict):
        for key in KEYS:
            edited(lambda m, key=key: _at(m, path).__setitem__(key, copy.deepcopy(replacement)))
    return out


def _sweep(request: Any) -> Any:
    """Every single mutation of `request` (replacements with every INTERESTING value)."""
    for path in _paths(request):
        yield from _mutants(request, path, ADDED[0])
        for replacement in INTERESTING:
            mutant = copy.deepcopy(request)
            if path:
                _at(mutant, path[:-1])[path[-1]] = copy.deepcopy(replacement)
            yield mutant
        if isinstance(_at(request, path), dict):
            for key in KEYS:
                for value in ADDED:
                    mutant = copy.deepcopy(request)
                    _at(mutant, path)[key] = copy.deepcopy(value)
                    yield mutant


def _neighbours(value: Any) -> list[Any]:
    """Values one step from `value`: off by one, another JSON type, one character more."""
    if isinstance(value, bool):
        return [not value, int(value), None]
    if isinstance(value, int | float):
        return [value - 1, value + 1, float(value), value + 0.5, str(value), True]
    if isinstance(value, str):
        longer = value + ("x" if len(value) in (500, 2500) else "")
        return ["", value + "\n", " " + value, longer, value[:-1], value.upper(), 3]
    if isinstance(value, list):
        return [[], [*value, *value[:1]], value[:-1], value[:1], {}]
    if isinstance(value, dict):
        return [{}, [], {**value, "extra": 1}]
    return [False, 0, "", [], {}]


@st.composite
def near_valid_requests(draw: st.DrawFn) -> Any:
    request = draw(st.sampled_from(EDGE_REQUESTS) | valid_requests())
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        path = draw(st.sampled_from(_paths(request)))
        replacement = draw(
            st.sampled_from(_neighbours(_at(request, path)))
            | st.sampled_from(INTERESTING)
            | json_values
        )
        request = draw(st.sampled_from(_mutants(request, path, replacement) or [request]))
    return request


# -- the generated file -----------------------------------------------------------------


def test_generated_validator_is_current() -> None:
    assert GENERATED.read_text("utf-8") == schemagen.generate_validator_source(), (
        "shotc/request/_generated_validator.py is stale: run `python -m devtools.generate`"
    )


def test_generation_is_deterministic_and_headed() -> None:
    first = schemagen.generate_validator_source()
    assert first == schemagen.generate_validator_source()
    assert first.startswith("# generated by python -m devtools.generate — do not edit\n")
    compile(first, "_generated_validator.py", "exec")


def test_generated_validator_imports_only_re() -> None:
    source = GENERATED.read_text("utf-8")
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import re"]


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "array", "uniqueItems": True},
        {"patternProperties": {"^x": {}}},
        {"type": "string", "format": "email"},
        {"$ref": "https://example.com/other.json"},
        {"$ref": "#/$defs/missing"},
        {"properties": {"a": {"$defs": {"b": {}}}}},
        {"items": [{}, {}]},
        {"type": "decimal"},
    ],
)
def test_unsupported_schema_raises(bad: dict[str, Any]) -> None:
    with pytest.raises(schemagen.UnsupportedSchemaError):
        schemagen.generate_validator_source(bad)


def _compile(s: dict[str, Any]) -> Any:
    namespace: dict[str, Any] = {}
    exec(schemagen.generate_validator_source(s), namespace)
    return namespace["is_valid"]


# Keywords and forms the request schema does not use today, so a future edit stays covered.
OTHER_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": ["integer", "null"], "minimum": 2, "maximum": 7.5},
        {"const": [1, {"a": True}]},
        {"enum": [1, "1", False, None, [0]]},
        {
            "type": "object",
            "additionalProperties": {"type": "number", "maximum": 0},
            "properties": {"k": True, "n": False},
            "required": ["k"],
        },
        {"allOf": [{"type": "string"}, {"not": {"pattern": "a$"}}, {"maxLength": 3}]},
        {"if": {"type": "array"}, "then": {"minItems": 1}, "else": False},
        {"anyOf": [{"type": "boolean"}, {"const": 2.5}], "not": {"const": False}},
    ],
    "then": {"type": "string"},  # inert without `if`, as jsonschema has it
}


OTHER_FAST = _compile(OTHER_SCHEMA)
OTHER_REFERENCE = reference_validator(OTHER_SCHEMA)
OTHER_VALUES = [
    1,
    1.0,
    True,
    "1",
    False,
    0,
    None,
    [0],
    [0.0],
    [False],
    [1, {"a": True}],
    [1.0, {"a": True}],
    [1, {"a": 1}],
    2,
    7,
    7.5,
    8,
    {"k": "x"},
    {"n": 0},
    {"z": 0},
    {"z": 1},
    {"z": False},
    "ab",
    "ba",
    "abcd",
    [],
    ["x"],
]


@FAST
@given(st.sampled_from(OTHER_VALUES) | json_values)
def test_generator_agrees_on_other_keywords(value: Any) -> None:
    assert OTHER_FAST(value) == OTHER_REFERENCE.is_valid(value)


def test_json_number_semantics() -> None:
    base: dict[str, Any] = {
        "model": "kling-3.0/video",
        "input": {"multi_shots": True, "multi_prompt": [{"prompt": "a", "duration": 3}]},
    }
    for duration, expected in [(3, True), (3.0, True), (3.5, False), (True, False), ("3", False)]:
        request = copy.deepcopy(base)
        request["input"]["multi_prompt"][0]["duration"] = duration
        assert is_valid(request) is expected, duration
        assert REFERENCE.is_valid(request) is expected, duration
    request = copy.deepcopy(base)
    request["input"]["multi_shots"] = 1  # not true: a number is not a boolean
    assert not is_valid(request)


# -- agreement with jsonschema ------------------------------------------------------------


@FAST
@given(json_values)
def test_agrees_with_jsonschema_on_any_json(value: Any) -> None:
    assert is_valid(value) == REFERENCE.is_valid(value)


@FAST
@given(st.fixed_dictionaries({"model": st.just("kling-3.0/video"), "input": json_values}))
def test_agrees_with_jsonschema_on_any_input(value: Any) -> None:
    assert is_valid(value) == REFERENCE.is_valid(value)


@FAST
@given(valid_requests())
def test_valid_requests_are_valid(request: dict[str, Any]) -> None:
    assert REFERENCE.is_valid(request)
    assert is_valid(request)
    assert validate_request(request) == []


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(near_valid_requests())
def test_agrees_with_jsonschema_on_near_valid_requests(request: Any) -> None:
    expected = REFERENCE.is_valid(request)
    assert is_valid(request) == expected
    assert jsonschema_validator().is_valid(request) == expected
    # The slow path explains exactly the requests the fast path rejects.
    assert (validate_request(request) == []) == expected


def test_agrees_with_jsonschema_on_every_single_mutation_of_edge_requests() -> None:
    # Deterministic and exhaustive where hypothesis samples: every place, every value.
    for request in EDGE_REQUESTS:
        assert is_valid(request) and REFERENCE.is_valid(request)
        for mutant in _sweep(request):
            assert is_valid(mutant) == REFERENCE.is_valid(mutant), mutant


# -- import cost ----------------------------------------------------------------------------


def _modules_after(code: str) -> list[str]:
    program = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


VALID = json.dumps(
    {
        "model": "kling-3.0/video",
        "input": {
            "prompt": "a dog @element_dog",
            "image_urls": ["https://a.example/f.png"],
            "sound": False,
            "duration": "5",
            "mode": "pro",
            "multi_shots": False,
            "kling_elements": [
                {
                    "name": "element_dog",
                    "description": "dog",
                    "element_input_urls": ["https://a.example/1.jpg", "https://a.example/2.png"],
                }
            ],
        },
    }
)


def test_valid_request_does_not_import_jsonschema() -> None:
    modules = _modules_after(
        "from shotc.request.validation import validate_request\n"
        "from shotc.request.rules import validate_all\n"
        f"r = json.loads({VALID!r})\n"
        "assert validate_request(r) == [] and validate_all(r) == [], validate_all(r)"
    )
    assert "jsonschema" not in modules
    assert "shotc.request._generated_validator" in modules


def test_invalid_request_loads_jsonschema_for_details() -> None:
    modules = _modules_after(
        "from shotc.request.validation import validate_request\n"
        "assert validate_request({'model': 'x'})"
    )
    assert "jsonschema" in modules
