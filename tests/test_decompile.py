"""`shotc decompile`: the laws, property-tested with hypothesis over requests generated from the
schema and the Kling rules (single and multi-shot, frames, image and video elements, every
setting, local files): `build(decompile(r)) == r`, `decompile` is stable, and its output is in
`fmt`'s canonical form. Then the requests no script can express, each refused by field."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shotc.cli import main
from shotc.language.compiler import compile_paths
from shotc.request.rules import validate_all
from shotc.request.types import CreateTaskRequest
from shotc.tools.decompiler import Entry, decompile, decompile_request, entries_of
from shotc.tools.formatter import format_text

SEED = Path("/work/shared/seed")
MEDIA = Path(tempfile.mkdtemp(prefix="shotc-decompile-media-"))
LOCAL_NAMES = ["still.png", "with space.jpg", "odd%name#1.jpeg", "clip.mp4", "take two.mov"]
for _name in LOCAL_NAMES:
    (MEDIA / _name).write_bytes(b"\x89PNG fake media")
LOCAL = {name: (MEDIA / name).as_uri() for name in LOCAL_NAMES}


@pytest.fixture(scope="module", autouse=True)
def _media() -> Iterator[None]:
    yield
    shutil.rmtree(MEDIA, ignore_errors=True)


def build(text: str) -> list[CreateTaskRequest]:
    """The requests a script builds to (it must build without errors)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "decompiled.shot"
        path.write_text(text, "utf-8")
        result = compile_paths([path])
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    return [scene.request for scene in result.scenes]


# -- a generator of requests the schema and the Kling rules accept, that a script can say ----

_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
_names = st.text(alphabet=_NAME_CHARS, min_size=1, max_size=12)
# Words: any printable text without white space, `@` or `[[`; tricky words are added below.
_plain = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=["L", "M", "N", "P", "S"], exclude_characters="@"
    ),
    min_size=1,
    max_size=8,
).filter(lambda w: "[[" not in w and not w.endswith("[") and not w.startswith("["))
_tricky = st.sampled_from(
    [
        "@",
        "@@",
        "@@@",
        "a@",
        "@.",
        "@,",
        "#",
        "#tag",
        "!",
        "!!",
        "]]",
        "[",
        "]",
        "SHOT",
        "shot",
        "SCENE",
        "ELEMENT",
        "INCLUDE",
        "FIRST",
        "FRAME",
        "Mode:",
        "Title:",
        "x.png",
        "video",
        "https://x.test/a.png",
        "café",
        "☕",
        "\u200b",
    ]
)
_starts = st.sampled_from(
    [
        "SHOT 3s",
        "shot 3s",
        "SCENE one",
        "Mode: pro",
        "# not a comment",
        "!bang",
        "first frame a.png",
        "https://x.test/a.png",
        "image b.jpg",
        "element @ x: y",
        "INCLUDE x.shot",
        "LAST FRAME x.png",
    ]
)


@st.composite
def paragraph(draw: st.DrawFn, names: list[str]) -> str:
    words = draw(st.lists(st.one_of(_plain, _tricky), min_size=1, max_size=6))
    if draw(st.integers(0, 4)) == 0:
        words.insert(0, draw(_starts))
    for _ in range(draw(st.integers(0, 2)) if names else 0):
        cue = "@" + draw(st.sampled_from(names)) + draw(st.sampled_from(["", ".", ",", "!"]))
        at = draw(st.integers(0, len(words)))
        if at and draw(st.booleans()) and not words[at - 1].endswith("@"):
            words[at - 1] += cue  # glued: `window@element_dog`
        else:
            words.insert(at, cue)
    text = " ".join(words)
    # A lone `[` next to a glued `[`: keep `[[` out (it cannot be expressed).
    return text.replace("[[", "[ [")


@st.composite
def spoken(draw: st.DrawFn, names: list[str], voiced: set[str]) -> str:
    """A paragraph of the compiled dialogue shape (language 1.1 §3): `[SPEAKER: VOICE, TONE]:
    "TEXT"`, the voice on an element's first line of the prompt (`voiced` tracks that)."""
    speakers = ["MARA", "DR. OKAFOR", *("@" + n for n in names)]
    speaker = draw(st.sampled_from(speakers))
    label = speaker
    if speaker.startswith("@") and speaker not in voiced:
        voiced.add(speaker)
        if draw(st.integers(0, 3)):
            label += ": " + draw(st.sampled_from(["a deep, slow voice", "soft", "a @@ b"]))
    tone = draw(st.sampled_from(["", "", "whispering", "voice-over", "V.O.", "to the dog"]))
    if tone:
        label += ", " + tone
    text = " ".join(draw(st.lists(st.one_of(_plain, _tricky), min_size=1, max_size=4)))
    return f'[{label}]: "{text.replace("[[", "[ [")}"'


@st.composite
def prompt(draw: st.DrawFn, names: list[str], limit: int) -> str:
    voiced: set[str] = set()
    parts = st.one_of(paragraph(names), spoken(names, voiced))
    text = "\n".join(draw(st.lists(parts, min_size=1, max_size=3)))
    return text[:limit] if len(text) <= limit else draw(paragraph([]))[: limit // 4].strip() or "x"


@st.composite
def url(draw: st.DrawFn, kind: str) -> str:
    if draw(st.integers(0, 3)) == 0:
        names = [n for n in LOCAL_NAMES if (n.endswith((".mp4", ".mov"))) == (kind == "video")]
        return LOCAL[draw(st.sampled_from(names))]
    exts = ["", ".png", ".jpg", ".JPEG"] if kind == "image" else ["", ".mp4", ".MOV"]
    path = draw(st.text(alphabet="abcxyz0123_-/", min_size=1, max_size=10)).strip("/") or "m"
    query = draw(st.sampled_from(["", "?v=2", "#frag"]))
    scheme = draw(st.sampled_from(["https", "http", "HTTPS"]))
    return f"{scheme}://cdn.test/{path}{draw(st.sampled_from(exts))}{query}"


@st.composite
def element(draw: st.DrawFn, name: str) -> dict[str, Any]:
    words = draw(st.lists(_plain | _tricky, min_size=1, max_size=4))
    out: dict[str, Any] = {"name": name, "description": " ".join(words)}
    if draw(st.booleans()):
        out["element_input_urls"] = draw(st.lists(url("image"), min_size=2, max_size=4))
    else:
        out["element_input_video_urls"] = [draw(url("video"))]
    return out


@st.composite
def request(draw: st.DrawFn, pool: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    if pool is None:
        names = draw(st.lists(_names, max_size=3, unique=True))
        pool = [draw(element(n)) for n in names]
    names = [e["name"] for e in pool]
    multi = draw(st.booleans())
    out: dict[str, Any] = {"model": "kling-3.0/video"}
    if draw(st.booleans()):
        out["callBackUrl"] = draw(
            st.sampled_from(["https://hooks.test/cb", "https://h.test/x?a=1"])
        )
    body: dict[str, Any] = {}
    if multi:
        count = draw(st.integers(2, 5))
        total = draw(st.integers(max(3, count), 15))
        cuts = draw(
            st.lists(
                st.integers(1, total - 1), min_size=count - 1, max_size=count - 1, unique=True
            ).map(sorted)
        )
        seconds = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
        shots = [{"prompt": draw(prompt(names, 300)), "duration": s} for s in seconds]
        texts = [str(s["prompt"]) for s in shots]
    else:
        body["prompt"] = draw(prompt(names, 2500))
        texts = [body["prompt"]]
    frames = draw(st.integers(0, 1 if multi else 2))
    if frames:
        body["image_urls"] = [draw(url("image")) for _ in range(frames)]
    body["sound"] = draw(st.booleans())
    body["duration"] = str(sum(seconds)) if multi else str(draw(st.integers(3, 15)))
    if not frames or draw(st.booleans()):
        body["aspect_ratio"] = draw(st.sampled_from(["16:9", "9:16", "1:1"]))
    body["mode"] = draw(st.sampled_from(["std", "pro", "4K"]))
    body["multi_shots"] = multi
    if multi:
        body["multi_prompt"] = shots
    cued = _first_cues(texts)
    if cued:
        body["kling_elements"] = [next(e for e in pool if e["name"] == n) for n in cued]
    out["input"] = body
    return out


def _first_cues(texts: list[str]) -> list[str]:
    found = [m for text in texts for m in re.findall(r"@([A-Za-z0-9_-]+)", text)]
    return list(dict.fromkeys(found))


def _accepted(r: dict[str, Any]) -> bool:
    return not any(v.is_error for v in validate_all(r))


_LAWS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(request().filter(_accepted))
@_LAWS
def test_build_of_decompile_is_the_request(r: dict[str, Any]) -> None:
    text = decompile_request(r, "scene")
    body = r["input"]
    event("multi-shot" if body["multi_shots"] else "single shot")
    event(
        f"{len(body.get('image_urls', []))} frames, {len(body.get('kling_elements', []))} elements"
    )
    event("local media" if "file://" in json.dumps(r) else "URLs only")
    event("some `!` lines" if "\n!" in text else "no `!` line")
    event("a voice" if "  Voice: " in text else "no voice")
    event("dialogue lines" if "\n@" in text or ': "' in text else "no dialogue line")
    [built] = build(text)
    assert json.dumps(built, ensure_ascii=False) == json.dumps(r, ensure_ascii=False)


@given(request().filter(_accepted))
@_LAWS
def test_decompile_is_stable_and_canonical(r: dict[str, Any]) -> None:
    text = decompile_request(r, "scene")
    assert format_text(text) == text
    [built] = build(text)
    assert decompile_request(built, "scene") == text


@st.composite
def requests(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(_names, max_size=3, unique=True))
    pool = [draw(element(n)) for n in names]
    return draw(st.lists(request(pool).filter(_accepted), min_size=1, max_size=3))


@given(requests())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_an_array_becomes_one_script_with_a_scene_each(rs: list[dict[str, Any]]) -> None:
    entries, problems = entries_of(rs, "take", "take.json")
    assert not problems
    result = decompile(entries)
    assert result.text is not None, result.problems
    assert build(result.text) == rs
    assert format_text(result.text) == result.text


# -- kie.ai's examples ---------------------------------------------------------------------


def seed(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SEED / name).read_text("utf-8"))
    return document


def test_the_documented_single_shot_example_decompiles_exactly() -> None:
    r = seed("docs-single-shot.json")
    r["model"] = "kling-3.0/video"  # the documented typo, corrected
    text = decompile_request(r, "rehearsal")
    assert text == (
        "ELEMENT @element_dog: dog\n"
        "  https://tempfileb.aiquickdraw.com/kieai/market/1770361808044_4RfUUJrI.jpeg\n"
        "  https://tempfileb.aiquickdraw.com/kieai/market/1770361848336_ABQqRHBi.png\n"
        "\n"
        "SCENE rehearsal\n"
        "Mode: pro\n"
        "Aspect: 16:9\n"
        "Sound: on\n"
        "FIRST FRAME https://static.aiquickdraw.com/tools/example/1764851002741_i0lEiI8I.png\n"
        "\n"
        "SHOT 5s\n"
        "In a bright rehearsal room, sunlight streams through the window@element_dog\n"
    )
    assert build(text) == [r]


def test_the_kitchen_sink_curl_example_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"input\.multi_prompt: multi_prompt is only allowed"):
        decompile_request(seed("docs-curl-body.json"))


def test_the_flawed_multi_shot_example_is_refused_with_codes() -> None:
    entries, _ = entries_of(seed("docs-multi-shot.json"), "multi", "multi.json")
    found = {(p.path, p.code) for p in decompile(entries).problems}
    assert ("input.duration", "E301") in found
    assert ("input.kling_elements[1].element_input_urls", "E305") in found
    assert ("model", None) in found


# -- what a script cannot say ---------------------------------------------------------------


def single(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prompt": "the sea",
        "sound": False,
        "duration": "5",
        "aspect_ratio": "16:9",
        "mode": "pro",
        "multi_shots": False,
    }
    body.update(changes)
    return {"model": "kling-3.0/video", "input": body}


def problems_of(r: dict[str, Any]) -> list[tuple[str, str]]:
    result = decompile([Entry("s", "r.json", "", r)])
    assert result.text is None
    return [(p.path, p.message) for p in result.problems]


DOG = {
    "name": "dog",
    "description": "a dog",
    "element_input_urls": ["https://x.test/a.png", "https://x.test/b.png"],
}
CAT = {"name": "cat", "description": "a cat", "element_input_video_urls": ["https://x.test/c.mp4"]}


@pytest.mark.parametrize(
    ("request_", "path", "words"),
    [
        (single(prompt="a [[ b"), "input.prompt", "`[[`"),
        (single(prompt="two  spaces"), "input.prompt", "white space"),
        (single(prompt=" leading"), "input.prompt", "white space"),
        (single(prompt="tab\there"), "input.prompt", "white space"),
        (single(prompt="a\n\nb"), "input.prompt", "empty paragraph"),
        (single(prompt="a\n"), "input.prompt", "empty paragraph"),
        (single(prompt="bell\x07"), "input.prompt", "control character"),
        (
            single(prompt="the @dog", kling_elements=[DOG, CAT]),
            "input.kling_elements[1]",
            "never cued",
        ),
        (
            single(prompt="@dog and @cat", kling_elements=[CAT, DOG]),
            "input.kling_elements",
            "order",
        ),
        (
            single(prompt="@dog", kling_elements=[{**DOG, "description": "dog "}]),
            "input.kling_elements[0].description",
            "white space",
        ),
        (single(image_urls=["ftp://x.test/a.png"]), "input.image_urls[0]", "http"),
        (single(image_urls=["file://localhost/tmp/a.png"]), "input.image_urls[0]", "builds back"),
        (single(image_urls=["file:///tmp/noext"]), "input.image_urls[0]", "extension"),
        (
            single(
                prompt="@cat",
                kling_elements=[{**CAT, "element_input_video_urls": ["https://x.test/c.png"]}],
            ),
            "input.kling_elements[0].element_input_video_urls[0]",
            "`.png`",
        ),
        ({**single(), "callBackUrl": "http://hooks.test/cb"}, "callBackUrl", "https://"),
    ],
)
def test_inexpressible_requests_name_the_field(
    request_: dict[str, Any], path: str, words: str
) -> None:
    found = problems_of(request_)
    assert any(p == path and words in message for p, message in found), found


def test_a_multi_shot_request_with_one_shot_is_refused() -> None:
    r = single(multi_shots=True, multi_prompt=[{"prompt": "x", "duration": 5}])
    del r["input"]["prompt"]
    assert any(p == "input.multi_prompt" for p, _ in problems_of(r))


def test_one_name_with_two_meanings_cannot_share_a_script() -> None:
    other = {**DOG, "description": "another dog"}
    entries, _ = entries_of(
        [
            single(prompt="@dog", kling_elements=[DOG]),
            single(prompt="@dog", kling_elements=[other]),
        ],
        "pair",
        "pair.json",
    )
    result = decompile(entries)
    assert result.text is None
    assert [(p.path, "differs" in p.message) for p in result.problems] == [
        ("[1].input.kling_elements[0]", True)
    ]


# -- decisions: escapes, defaults, local files -------------------------------------------------


def test_prompts_are_escaped_so_they_build_back() -> None:
    prompt = "SHOT 3s is prose\n# not a comment\n!bang\ntwo @@ at @ 5pm\nshot 3s"
    text = decompile_request(single(prompt=prompt))
    # One line per paragraph, a blank line between; `!shot 3s` avoids a W505 for plain prose.
    assert text.endswith(
        "SHOT 5s\n!SHOT 3s is prose\n\n!# not a comment\n\n!!bang\n\ntwo @@@ at @ 5pm\n\n!shot 3s\n"
    )
    assert build(text)[0]["input"]["prompt"] == prompt


def test_absent_defaults_are_stated_with_a_note() -> None:
    r = {"model": "kling-3.0/video", "input": {"prompt": "the sea"}}
    result = decompile([Entry("s", "r.json", "", r)])
    assert result.text is not None
    assert {p.path for p in result.notes} == {
        "input.duration",
        "input.mode",
        "input.aspect_ratio",
        "input.sound",
        "input.multi_shots",
    }
    assert build(result.text)[0]["input"] == {
        "prompt": "the sea",
        "sound": False,
        "duration": "5",
        "aspect_ratio": "16:9",
        "mode": "pro",
        "multi_shots": False,
    }


def test_an_omitted_aspect_ratio_with_a_frame_stays_omitted() -> None:
    r = single(image_urls=["https://x.test/f.png"])
    del r["input"]["aspect_ratio"]
    text = decompile_request(r)
    assert "Aspect" not in text
    assert build(text) == [r]


def test_file_uris_become_absolute_paths() -> None:
    r = single(image_urls=[LOCAL["still.png"], LOCAL["with space.jpg"]])
    text = decompile_request(r)
    assert f"FIRST FRAME {MEDIA / 'still.png'}\n" in text
    assert f"LAST FRAME {LOCAL['with space.jpg']}\n" in text  # a token has no white space
    assert build(text) == [r]


# -- the command -------------------------------------------------------------------------------


def test_cli_decompiles_a_record_info_answer(tmp_path: Path) -> None:
    r = single(prompt="the sea at dawn")
    answer = {
        "code": 200,
        "msg": "success",
        "data": {"taskId": "t1", "state": "success", "param": json.dumps(r)},
    }
    path = tmp_path / "task.json"
    path.write_text(json.dumps(answer), "utf-8")
    result = CliRunner().invoke(main, ["decompile", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("SCENE task\n")
    assert build(result.stdout) == [r]


def test_cli_writes_one_script_for_several_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(single(prompt="one")), "utf-8")
    (tmp_path / "b.json").write_text(json.dumps([single(prompt="two"), single(prompt="three")]))
    out = tmp_path / "film.shot"
    result = CliRunner().invoke(
        main, ["decompile", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    text = out.read_text("utf-8")
    assert [line for line in text.splitlines() if line.startswith("SCENE")] == [
        "SCENE a",
        "SCENE b 1",
        "SCENE b 2",
    ]
    assert [r["input"]["prompt"] for r in build(text)] == ["one", "two", "three"]


def test_cli_refuses_the_kitchen_sink_with_exit_1() -> None:
    result = CliRunner().invoke(main, ["decompile", str(SEED / "docs-curl-body.json")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "input.multi_prompt" in result.stderr and "cannot decompile" in result.stderr


def test_cli_io_and_json_errors(tmp_path: Path) -> None:
    missing = CliRunner().invoke(main, ["decompile", str(tmp_path / "none.json")])
    assert missing.exit_code == 4
    (tmp_path / "bad.json").write_text("{not json", "utf-8")
    bad = CliRunner().invoke(main, ["decompile", str(tmp_path / "bad.json")])
    assert bad.exit_code == 1 and "not JSON" in bad.stderr


def test_cli_reads_stdin() -> None:
    result = CliRunner().invoke(main, ["decompile", "-"], input=json.dumps(single()))
    assert result.exit_code == 0
    assert result.stdout.startswith("SCENE stdin\n")


def test_an_empty_element_list_is_left_out_with_a_note() -> None:
    result = decompile([Entry("s", "r.json", "", single(kling_elements=[]))])
    assert result.text is not None
    assert [p.path for p in result.notes] == ["input.kling_elements"]
    assert "kling_elements" not in build(result.text)[0]["input"]


def test_scene_titles_are_unique_and_canonical() -> None:
    entries = [
        Entry("scene 2", "a.json", "", single(prompt="one")),
        Entry("", "b.json", "", single(prompt="two")),
        Entry("Scene  2!", "c.json", "", single(prompt="three")),
    ]
    text = decompile(entries).text
    assert text is not None and format_text(text) == text
    assert [line for line in text.splitlines() if line.startswith("SCENE")] == [
        "SCENE scene 2",
        "SCENE 2",
        "SCENE Scene 2! 2",
    ]
    assert [r["input"]["prompt"] for r in build(text)] == ["one", "two", "three"]


# -- control characters: one rule for the compiler, `validate` and `decompile` -------------


@pytest.mark.parametrize("char", ["\x07", "\x7f", "\x80", "\x9f"])
@pytest.mark.parametrize("where", ["prompt", "shot", "description"])
def test_a_control_character_is_refused_alike_by_validate_decompile_and_build(
    char: str, where: str
) -> None:
    # Regression: the decompiler checked only up to U+007F while the compiler refuses the C1
    # controls too, so a prompt holding U+0080 passed `validate`, decompiled, and the script
    # then failed to build (E100): build(decompile(r)) == r was broken.
    if where == "prompt":
        r, path = single(prompt=f"the sea{char}"), "input.prompt"
    elif where == "shot":
        shots = [{"prompt": f"a{char}", "duration": 3}, {"prompt": "b", "duration": 2}]
        r = single(multi_shots=True, multi_prompt=shots)
        del r["input"]["prompt"]
        path = "input.multi_prompt[0].prompt"
    else:
        r = single(prompt="@dog", kling_elements=[{**DOG, "description": f"a{char}dog"}])
        path = "input.kling_elements[0].description"
    assert (path, "E100") in [(v.path, v.code) for v in validate_all(r) if v.is_error]
    result = decompile([Entry("s", "r.json", "", r)])
    assert result.text is None
    assert any(p.path == path and p.code == "E100" for p in result.problems), result.problems
    # ...and the compiler refuses the same character in a script with the same code.
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "s.shot"
        script.write_text(f"SCENE s\nSHOT 5s\nthe sea{char}\n", "utf-8")
        codes = [d.code for d in compile_paths([script]).diagnostics]
    assert codes == ["E100"]


# -- continuity (language 1.1 §4): the placeholder decompiles to `FIRST FRAME after` ---------


def _after(r: dict[str, Any], source: str) -> dict[str, Any]:
    """`r` with its first frame the placeholder for scene `source`, keys in the emitter's
    order (image_urls after prompt)."""
    body = r["input"]
    frames = [f"shotc://after/{source}", *body.get("image_urls", [])[1:]]
    keys = ["prompt", "image_urls"] if "prompt" in body else ["image_urls"]
    rest = {k: v for k, v in body.items() if k not in keys}
    ordered = {k: body[k] for k in keys if k in body} | {"image_urls": frames} | rest
    return {**r, "input": ordered}


@st.composite
def chained(draw: st.DrawFn) -> list[dict[str, Any]]:
    """An array whose requests may come after earlier-made ones, in any array order (forward
    references included), never in a cycle: `take <n>` is the scene `take-<n>`."""
    rs = draw(requests())
    made = draw(st.permutations(range(len(rs))))
    out = list(rs)
    for rank, i in enumerate(made):
        if rank and draw(st.booleans()):
            source = made[draw(st.integers(0, rank - 1))]
            out[i] = _after(rs[i], f"take-{source + 1}")
    return out


@given(chained())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_build_of_decompile_is_the_request_with_first_frames_after(
    rs: list[dict[str, Any]],
) -> None:
    entries, problems = entries_of(rs, "take", "take.json")
    assert not problems
    result = decompile(entries)
    assert result.text is not None, result.problems
    event("some after" if "FIRST FRAME after" in result.text else "no after")
    built = build(result.text)
    assert json.dumps(built, ensure_ascii=False) == json.dumps(rs, ensure_ascii=False)
    assert format_text(result.text) == result.text


def test_a_placeholder_naming_no_decompiled_scene_is_refused() -> None:
    r = _after(single(), "dawn")
    result = decompile([Entry("storm", "s.json", "", r)])
    assert result.text is None
    assert [(p.path, p.code) for p in result.problems] == [("input.image_urls[0]", "E210")]
    assert "dawn.json" in result.problems[0].message  # how to decompile it with its source
    # with its source scene (a file named after the id, as `build -o DIR` writes them)
    pair = [Entry("dawn", "dawn.json", "", single()), Entry("storm", "s.json", "", r)]
    text = decompile(pair).text
    assert text is not None and "FIRST FRAME after dawn\n" in text
    assert build(text) == [single(), r]


def test_a_cycle_of_placeholders_is_refused_once() -> None:
    one, two = _after(single(), "pair-2"), _after(single(), "pair-1")
    entries, _ = entries_of([one, two], "pair", "pair.json")
    found = [(p.path, p.code) for p in decompile(entries).problems]
    assert found == [("[1].input.image_urls[0]", "E211")]
    alone = decompile([Entry("self", "s.json", "", _after(one, "self"))])
    assert [(p.path, p.code) for p in alone.problems] == [("input.image_urls[0]", "E211")]
