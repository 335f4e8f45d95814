"""Writer tooling, `shotc decompile`: the inverse of the emitter (stage 5). Turns createTask
requests back into `.shot` source whose build gives the same requests.

A request is decompiled only when `shotc.request.rules.validate_all` finds no error in it and
a `.shot` file can say it exactly; otherwise each field that stands in the way is reported by
its JSON path. The output is already in `shotc fmt`'s canonical form. Decisions (written up in
docs/language.md, section 12):

- Each request is one `SCENE`, titled after its file (`<stem>`, or `<stem> <n>` in an array);
  elements are declared once, in the title page, so requests that give one name two meanings
  cannot share a script. A field present in the request becomes a scene setting; an absent
  `sound`, `duration`, `mode`, `multi_shots` (or `aspect_ratio` without `image_urls`) is
  rebuilt with kie.ai's default, and a note says so.
- A prompt is prose: one line per paragraph (`\\n`), `!` before a line that would read as
  anything else (a dialogue line included); a paragraph of exactly the compiled dialogue
  shape becomes a dialogue line again, its voice the element's `Voice`
  (`shotc.tools.spoken`); `@@` for a literal `@` followed by another `@`. A prompt holding
  `[[`, runs of white space, blank paragraphs or control characters cannot be written.
- `shotc://after/<id>` as the first frame becomes `FIRST FRAME after <id>`; the scene it names
  must be among the requests decompiled together (a scene's id comes from its title, that is
  its file's stem), and they must make no cycle.
- Elements must be exactly the ones the prompts cue, in order of first cue (what the compiler
  sends). `file://` URIs become absolute paths (the URI itself when the path has white space).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from shotc.diagnostics import Diagnostic, Problems, Span
from shotc.kling import CONTROL as _CONTROL  # E100 in a source file
from shotc.kling import CUE as _CUE
from shotc.kling import HTTP_URL as _HTTP
from shotc.kling import extension
from shotc.kling import media_kind as _kind
from shotc.language.checks import slugify
from shotc.language.dialogue import shape_of
from shotc.language.lexer import LineKind, classify
from shotc.language.media import file_uri
from shotc.language.prose import wrong_case_directive
from shotc.language.settings import check
from shotc.language.syntax import Setting
from shotc.request.placeholder import source_of
from shotc.request.types import CreateTaskRequest, KlingElement
from shotc.request.validation import is_valid
from shotc.request.validation import json_type as _json_type
from shotc.tools import spoken

_FILE = re.compile(r"(?i:file):")
_NOWHERE = Span("", 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class Entry:
    """One request found in an input document."""

    title: str  # the SCENE title
    file: str
    prefix: str  # where the request stands in the file: "", "[2]", "data.param", ...
    request: object

    def locate(self, path: str) -> str:
        """A path inside the request as a path inside the file."""
        if not self.prefix:
            return path
        if self.prefix.endswith("param"):  # inside a JSON string: not a JSON path any more
            return f"{self.prefix} → {path}"
        if path == "$":
            return self.prefix
        return self.prefix + (path if path.startswith("[") else "." + path)

    def place(self, problem: Diagnostic) -> Diagnostic:
        """A problem `validate_all` found in this request, placed in the file."""
        return problem.located(self.file, self.locate(problem.path))

    def problems(self) -> Problems:
        """A collector for problems of this request (paths inside it: `locate` them)."""
        return Problems(self.file)


@dataclass(slots=True)
class Decompiled:
    text: str | None  # None when some request cannot be written
    problems: list[Diagnostic] = field(default_factory=list)  # errors, each with its path
    notes: list[Diagnostic] = field(default_factory=list)  # defaults the build will state


def entries_of(document: object, stem: str, file: str) -> tuple[list[Entry], list[Diagnostic]]:
    """The requests in a parsed JSON document: a request object, an array of them, or a
    `recordInfo` answer (or its `data`) whose `param` string holds the request."""
    if not isinstance(document, list):
        return _entry(document, stem, file, "")
    entries: list[Entry] = []
    problems: list[Diagnostic] = []
    for i, item in enumerate(document):
        found, bad = _entry(item, f"{stem} {i + 1}", file, f"[{i}]")
        entries += found
        problems += bad
    return entries, problems


def _entry(item: object, title: str, file: str, at: str) -> tuple[list[Entry], list[Diagnostic]]:
    def problem(path: str, message: str) -> tuple[list[Entry], list[Diagnostic]]:
        found = Problems(file)
        found.error(None, message, Entry(title, file, at, None).locate(path))
        return [], found

    if not isinstance(item, dict):
        what = "a createTask request (an object), an array of them, or a recordInfo answer"
        return problem("$", f"expected {what}, not {_json_type(item)}")
    record, path = item, ""
    if "input" not in item and "code" in item and "data" in item:
        if not isinstance(item["data"], dict):
            return problem("data", "the answer holds no task (`data` is not an object)")
        record, path = item["data"], "data."
    if "input" not in record and "param" in record:
        param = record["param"]
        if not isinstance(param, str):
            return problem(path + "param", "`param` must be the request as a JSON string")
        try:
            request = json.loads(param)
        except ValueError as exc:
            return problem(path + "param", f"`param` is not JSON: {exc}")
        prefix = f"{at}.{path}param" if at else f"{path}param"
        return [Entry(title, file, prefix, request)], []
    if path:
        return problem(
            "data", "a kie.ai answer without `param`: only a recordInfo answer holds a request"
        )
    return [Entry(title, file, at, item)], []


def decompile(entries: Sequence[Entry]) -> Decompiled:
    """One script with a scene per request, or the problems that prevent it."""
    from shotc.request.rules import validate_all

    result = Decompiled(None)
    elements: dict[str, str] = {}  # name -> its ELEMENT block
    declared_at: dict[str, str] = {}
    scenes: list[list[str]] = []
    used_ids: set[str] = set()
    banned = _conflicting_voices(entries)
    written: list[tuple[Entry, str, str | None]] = []  # (entry, scene id, the id it is after)
    for entry in entries:
        found = validate_all(entry.request)
        errors = [v for v in found if v.is_error]
        result.problems += [entry.place(v) for v in errors]
        request = entry.request
        if errors or not is_valid(request):  # no error: the schema holds, so it is a request
            continue
        title = _unique_title(entry.title, len(scenes) + 1, used_ids)
        writer = _SceneWriter(entry, request, title, banned)
        lines = writer.scene()
        written.append((entry, slugify(title, len(scenes) + 1), writer.after))
        result.problems += writer.problems
        result.notes += writer.notes
        for name, block, path in writer.elements:
            if name not in elements:
                elements[name] = block
                declared_at[name] = f"{entry.file} {entry.locate(path)}"
            elif elements[name] != block:
                found = entry.problems()
                found.error(
                    None,
                    f"element `{name}` differs from the one in {declared_at[name]}; a "
                    ".shot file declares each name once: decompile these requests apart",
                    entry.locate(path),
                )
                result.problems += found
        scenes.append(lines)
    result.problems += _continuity(written)
    if result.problems:
        return result
    result.text = "\n\n".join([*elements.values(), *("\n".join(s) for s in scenes)]) + "\n"
    return result


def _continuity(written: list[tuple[Entry, str, str | None]]) -> list[Diagnostic]:
    """`FIRST FRAME after` must name a scene of the script (E210) and make no cycle (E211):
    a request does not carry its own scene's id, only its title (from its file) gives one."""
    ids = [scene_id for _entry, scene_id, _after in written]
    after = {scene_id: source for _entry, scene_id, source in written if source is not None}
    problems: list[Diagnostic] = []
    for position, (entry, scene_id, source) in enumerate(written):
        found = entry.problems()
        if source is None:
            continue
        where = entry.locate("input.image_urls[0]")
        if source not in ids:
            found.error(
                "E210",
                f"comes after scene `{source}`, which is none of the scenes written here "
                f"({', '.join(f'`{i}`' for i in ids)}); decompile it together with "
                f"`{source}.json` (as `build -o DIR` writes them: one file per scene, "
                "named by its id)",
                where,
            )
            problems += found
            continue
        seen = [scene_id]
        node: str | None = source
        while node is not None and node not in seen:
            seen.append(node)
            node = after.get(node)
        # report a cycle once, at the scene that closes it (the latest in the script)
        if node == scene_id and all(ids.index(s) <= position for s in seen):
            chain = " after ".join([*seen, scene_id])
            found.error("E211", f"a cycle of `FIRST FRAME after`: {chain}", where)
            problems += found
    return problems


def _conflicting_voices(entries: Sequence[Entry]) -> frozenset[str]:
    """Elements that would get different voices (or a voice and none) in different requests:
    their dialogue stays prose, so one script can declare each element once."""
    from shotc.request.rules import validate_all

    seen: dict[str, set[str | None]] = {}
    for entry in entries:
        request = entry.request
        if any(v.is_error for v in validate_all(request)) or not is_valid(request):
            continue
        writer = _SceneWriter(entry, request, "")
        writer.scene()
        for name, _block, _path in writer.elements:
            seen.setdefault(name, set()).add(writer.voices.get(name))
    return frozenset(name for name, voices in seen.items() if len(voices) > 1)


def decompile_request(request: object, title: str = "scene") -> str:
    """The script for one request; ValueError naming the fields when it cannot be written."""
    result = decompile([Entry(title, "request", "", request)])
    if result.text is None:
        raise ValueError("; ".join(f"{p.path}: {p.message}" for p in result.problems))
    return result.text


def _unique_title(title: str, position: int, used: set[str]) -> str:
    title = " ".join(_CONTROL.sub("", title).split())
    candidate, n = title, 1
    while slugify(candidate, position) in used:
        n += 1
        candidate = f"{title} {n}".strip()
    used.add(slugify(candidate, position))
    return candidate


class _SceneWriter:
    def __init__(
        self,
        entry: Entry,
        request: CreateTaskRequest,
        title: str,
        banned: frozenset[str] = frozenset(),
    ) -> None:
        self.banned = banned  # elements whose dialogue is written as prose
        self.entry = entry
        self.title = title
        self.request = request  # `entry.request`, known to satisfy the schema
        self.input = request["input"]
        self.problems = entry.problems()
        self.notes = entry.problems()
        self.elements: list[tuple[str, str, str]] = []  # (name, ELEMENT block, path)
        self.voices: dict[str, str] = {}
        self.dialogue: dict[tuple[int, int], str] = {}  # (shot, paragraph) -> dialogue line
        self.after: str | None = None  # the scene id of `FIRST FRAME after`

    def fail(self, path: str, message: str, code: str | None = None) -> None:
        """What stands in the way, always an error: W501 too, since the script would drop it."""
        self.problems.error(code, message, self.entry.locate(path))

    def note(self, path: str, message: str) -> None:
        self.notes.note(None, message, self.entry.locate(path))

    def scene(self) -> list[str]:
        inp = self.input
        multi = inp.get("multi_shots") is True
        lines = ["SCENE " + self.title if self.title else "SCENE", *self.settings(multi)]
        for keyword, url, j in zip(
            ("FIRST FRAME", "LAST FRAME"), inp.get("image_urls", []), range(2), strict=False
        ):
            if j == 0:
                self.after = source_of(url)
            if j == 0 and self.after is not None:
                lines.append(f"FIRST FRAME after {self.after}")
                continue
            token = self.reference(url, "image", f"input.image_urls[{j}]")
            lines.append(f"{keyword} {token}")
        if multi:
            shots = [
                (s["prompt"], s["duration"], f"input.multi_prompt[{i}]")
                for i, s in enumerate(inp["multi_prompt"])
            ]
            if len(shots) < 2:
                self.fail(
                    "input.multi_prompt",
                    "a multi-shot request with one shot: a scene with one SHOT compiles to a "
                    "single-shot request (multi_shots false, prompt)",
                )
        else:
            duration = inp.get("duration")
            if duration is None:
                self.note("input.duration", 'absent; the build sends kie.ai\'s default, "5"')
            shots = [(inp["prompt"], int(duration or "5"), "input")]
        if all(isinstance(prompt, str) for prompt, _s, _p in shots):
            prompts = [prompt for prompt, _s, _p in shots]
            self.voices, self.dialogue = spoken.plan(prompts, self.banned)
        for i, (prompt, seconds, path) in enumerate(shots):
            lines += ["", f"SHOT {int(seconds)}s", *self.prose(prompt, path + ".prompt", i)]
        self.declare_elements(shots)
        return lines

    def settings(self, multi: bool) -> list[str]:
        inp, out = self.input, []
        if "mode" in inp:
            out.append(f"Mode: {inp['mode']}")
        else:
            self.note("input.mode", "absent; the build sends kie.ai's default, pro")
        if "aspect_ratio" in inp:
            out.append(f"Aspect: {inp['aspect_ratio']}")
        elif "image_urls" not in inp:
            self.note("input.aspect_ratio", 'absent; the build sends kie.ai\'s default, "16:9"')
        if "sound" in inp:
            out.append(f"Sound: {'on' if inp['sound'] else 'off'}")
        else:
            default = "on (multi-shot)" if multi else "off"
            self.note("input.sound", f"absent; the build sends kie.ai's default, {default}")
        if "multi_shots" not in inp:
            self.note("input.multi_shots", "absent; the build sends kie.ai's default, false")
        url = self.request.get("callBackUrl")
        if url is not None:
            valid, _problem = check(Setting("Callback", url, _NOWHERE, _NOWHERE, _NOWHERE))
            if valid is None or valid.value != url:
                self.fail(
                    "callBackUrl",
                    "a script's `Callback` is an https:// URL with a host (kie.ai posts "
                    "results to it); this one cannot be written",
                    "E207",
                )
            out.append(f"Callback: {url}")
        return out

    def prose(self, prompt: str, path: str, shot: int = 0) -> list[str]:
        """The prose lines of a shot whose prompt is `prompt`, or a problem."""
        why = None
        if "[[" in prompt:
            why = "holds `[[`, which starts a writer's note in .shot prose"
        elif _CONTROL.search(prompt):
            why = "holds a control character, which a .shot file may not contain (E100)"
        else:
            for paragraph in prompt.split("\n"):
                if not paragraph:
                    why = "has an empty paragraph (`\\n\\n` or a `\\n` at an end)"
                elif " ".join(paragraph.split()) != paragraph:
                    why = "has white space other than single spaces between words"
        if why is not None:
            self.fail(path, f"the prompt {why}; .shot prose cannot say it exactly")
            return []
        lines: list[str] = []
        for j, paragraph in enumerate(prompt.split("\n")):
            line = self.dialogue.get((shot, j)) or _prose_line(paragraph)
            lines += ["", line] if lines else [line]
        return lines

    def reference(self, url: str, kind: str, path: str) -> str:
        """The reference token that builds back to `url` as media of `kind`."""
        if _HTTP.match(url):
            ext = extension(url)
            if ext and _kind(ext) != kind:
                self.fail(path, f"a {kind} URL ending in `{ext}` cannot be written", "E402")
            return "video " + url if kind == "video" and not ext else url
        if not _FILE.match(url):
            self.fail(path, "only http(s):// URLs and file:// URIs can be written in a script")
            return url
        local = unquote(urlsplit(url).path)
        if _kind(extension(local)) != kind:
            self.fail(path, f"a local {kind} needs a {kind} extension in a script", "E402")
        elif file_uri(Path(local)) != url:
            self.fail(path, f"builds back as {file_uri(Path(local))}, not as written")
        return url if local.split() != [local] or _CONTROL.search(local) else local

    def declare_elements(self, shots: list[tuple[str, int, str]]) -> None:
        cued = list(dict.fromkeys(n for prompt, _s, _p in shots for n in _CUE.findall(prompt)))
        given = self.input.get("kling_elements", [])
        if "kling_elements" in self.input and not given:
            self.note("input.kling_elements", "an empty list: the script leaves it out")
        names = [e["name"] for e in given]
        for i, element in enumerate(given):
            if element["name"] not in cued:
                self.fail(
                    f"input.kling_elements[{i}]",
                    f"element `{element['name']}` is never cued; a script sends only the "
                    "elements its prompts cue",
                    "W501",
                )
        if set(names) <= set(cued) and names != cued:
            self.fail(
                "input.kling_elements",
                f"the elements are not in the order the prompts first cue them "
                f"({', '.join(cued)}), the order a script sends them in",
            )
        for i, element in enumerate(given):
            self.declare(element, f"input.kling_elements[{i}]")

    def declare(self, element: KlingElement, path: str) -> None:
        name, description = element["name"], element["description"]
        if description != description.strip() or "\n" in description or "\r" in description:
            self.fail(
                path + ".description",
                "a description with white space at an end or a line break cannot be written",
            )
        elif _CONTROL.search(description):
            self.fail(path + ".description", "a control character cannot be written (E100)")
        if "element_input_urls" in element:
            kind, key, urls = "image", "element_input_urls", element["element_input_urls"]
        else:
            kind, key = "video", "element_input_video_urls"
            urls = element["element_input_video_urls"]
        tokens = [self.reference(u, kind, f"{path}.{key}[{j}]") for j, u in enumerate(urls)]
        lines = [f"ELEMENT @{name}: {description}", *("  " + token for token in tokens)]
        if name in self.voices:
            lines.append("  Voice: " + _escape(self.voices[name]))
        self.elements.append((name, "\n".join(lines), path))


def _escape(text: str) -> str:
    """`@` followed by `@` is written `@@`: source `@@` reads as one literal `@`."""
    out = []
    for i, char in enumerate(text):
        out.append("@@" if char == "@" and text[i + 1 : i + 2] == "@" else char)
    return "".join(out)


def _prose_line(paragraph: str) -> str:
    """A paragraph as one prose line, with `!` when it would read as anything but prose."""
    line = _escape(paragraph)
    shape = classify(line, 1)
    plain = shape is not None and shape.kind == LineKind.PROSE and shape.arg == shape.start
    if shape is not None and shape.kind == LineKind.SETTING and shape_of(line) is not None:
        return "!" + line  # inside a shot a setting's shape is prose, but this is dialogue
    if plain and wrong_case_directive(line, scene_too=False) is None and shape_of(line) is None:
        return line
    return "!" + line
