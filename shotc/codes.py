"""The diagnostic code registry: one table that feeds the checks, `shotc explain` and
`docs/codes.md`. Codes are stable; their pages live in `shotc/explain/<CODE>.md`."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from shotc.diagnostics import severity_of


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    summary: str
    points_at: str
    became: str | None = None  # a retired code: the code that replaced it

    @property
    def severity(self) -> str:
        if self.became is not None:
            return "retired"
        return severity_of(self.code)


def _table() -> dict[str, CodeInfo]:
    rows = [
        ("E100", "syntax error that no more specific code covers", "the offending token"),
        ("E101", "prose outside a shot", "the paragraph's first line"),
        ("E102", "bad or missing shot duration", "the duration, or `SHOT` when missing"),
        ("E103", "a shot ends inside a `[[` note", "the `[[`"),
        ("E104", "`SHOT` before the first `SCENE` in a file that has scenes", "the `SHOT` line"),
        ("E105", "a line out of place", "the line"),
        ("E106", "a directive's shape in the wrong case inside prose", "the line"),
        ("E201", "a cue names no declared element", "the cue, `@` included"),
        ("E202", "element declared twice", "the later declaration's `@name`"),
        ("E203", "invalid or missing element name", "the `ELEMENT` line"),
        ("E204", "element without description", "the `ELEMENT` line"),
        ("E205", "two scenes with the same id", "the later `SCENE` line"),
        ("E206", "unknown setting key", "the key"),
        ("E207", "invalid or empty setting value", "the value (the key when empty)"),
        ("E208", "setting not allowed here", "the line"),
        ("E209", "`@@` before a name character", "the `@@` and the name"),
        (
            "E210",
            "`FIRST FRAME after` names no scene of this file (did-you-mean)",
            "the scene name",
        ),
        (
            "E211",
            "a cycle of `FIRST FRAME after`",
            "the `FIRST FRAME` line where the cycle closes",
        ),
        ("E212", "a dialogue line with no spoken text", "the line"),
        ("E213", "a second `Voice` line in one element block", "the second one"),
        (
            "E214",
            "a scene id longer than 120 characters "
            "(its clips' file names must fit any file system)",
            "the `SCENE` line (a file without scenes: its first `SHOT` line)",
        ),
        ("E301", "a scene's total duration outside 3 to 15 s", "the `SCENE` line"),
        ("E302", "a multi-shot scene's shot outside 1 to 12 s", "that `SHOT` line"),
        ("E303", "more than 5 shots in a scene", "the sixth `SHOT` line"),
        ("E304", "more than 3 elements cued in one scene", "the first cue of the fourth element"),
        (
            "E305",
            "element references: not 2 to 4 images, not exactly 1 video, or mixed",
            "the `ELEMENT` line",
        ),
        ("E306", "multi-shot prompt over 500 characters (cues count 37)", "that `SHOT` line"),
        ("E307", "`LAST FRAME` in a multi-shot scene", "the `LAST FRAME` line"),
        ("E308", "`LAST FRAME` without `FIRST FRAME`", "the `LAST FRAME` line"),
        ("E309", "a second `FIRST FRAME` or `LAST FRAME` in a scene", "the second one"),
        ("E310", "single-shot prompt over 2500 characters", "the `SHOT` line"),
        ("E311", "a shot whose prompt is empty", "the `SHOT` line"),
        ("E312", "a file with no shots (build only)", "line 1, column 1"),
        ("E313", "a `SCENE` without any `SHOT`", "the `SCENE` line"),
        ("E401", "local file not found", "the reference"),
        ("E402", "unsupported media type for its place", "the reference"),
        ("E403", "local image over 10 MiB", "the reference"),
        (
            "E404",
            "`INCLUDE` file not found or unreadable, or an include cycle",
            "the `INCLUDE` line",
        ),
        ("W501", "element declared and never cued", "the `ELEMENT` line"),
        ("W502", "`Sound: off` applies to a multi-shot scene", "the `Sound` line"),
        ("W503", "a scene cues elements but has no `FIRST FRAME`", "the `SCENE` line"),
        ("W504", "a video element", "the `ELEMENT` line"),
        ("W506", "dialogue in a scene sent with `Sound: off`", "the first dialogue line"),
        ("W507", "a shot's dialogue over 3 words per second", "the shot's first dialogue line"),
    ]
    table = {code: CodeInfo(code, summary, at) for code, summary, at in rows}
    # Retired codes stay registered so that `shotc explain` still answers for them; no check
    # reports them. W505 became E106 in language 1.1 (as a warning it let two shots merge
    # into one paid clip).
    table["W505"] = CodeInfo("W505", "retired: became E106 in language 1.1", "the line", "E106")
    return dict(sorted(table.items()))


CODES: dict[str, CodeInfo] = _table()


def explain_page(code: str) -> str | None:
    """The markdown page for `code`, or None when the code is unknown."""
    code = code.strip().upper()
    if code not in CODES:
        return None
    return resources.files("shotc").joinpath("explain", f"{code}.md").read_text("utf-8")
