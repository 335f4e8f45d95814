"""Semantic stage, settings: validates `Key: value` lines (E206 unknown key, E207 bad value)
and normalises their values. Keys are case-insensitive; enum values match in any case."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from shotc.diagnostics import Diagnostic, Problems
from shotc.kling import UNSAFE_IN_URL as _UNSAFE_IN_URL
from shotc.language.syntax import Setting
from shotc.suggest import did_you_mean

# white space and control characters (C0, DEL, C1): urlsplit silently drops some of them
KEYS = ("Title", "Model", "Mode", "Aspect", "Sound", "Callback", "Takes")
MAX_TAKES = 8  # language-1.1 §5: `Takes: N` asks for 1 to 8 takes of each scene
_ENUMS: dict[str, dict[str, str | bool]] = {
    "model": {"kling-3.0/video": "kling-3.0/video", "kling-3.0": "kling-3.0/video"},
    "mode": {"std": "std", "pro": "pro", "4k": "4K"},
    "aspect": {"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"},
    "sound": {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False},
}
_SHOWN = {
    "model": "kling-3.0/video",
    "mode": "std, pro, 4K",
    "aspect": "16:9, 9:16, 1:1",
    "sound": "on, off (or yes/no, true/false)",
    "callback": "an https:// URL",
    "title": "any text",
    "takes": f"a number of takes from 1 to {MAX_TAKES}",
}


@dataclass(frozen=True, slots=True)
class Value:
    """A valid setting and its normalised value."""

    setting: Setting
    value: str | bool


def check(setting: Setting) -> tuple[Value | None, Diagnostic | None]:
    name = setting.name
    key_names = {k.lower(): k for k in KEYS}
    if name not in key_names:
        guess = did_you_mean(setting.key, KEYS, fold_case=True)
        help = f"did you mean `{guess}`?" if guess else f"known settings: {', '.join(KEYS)}"
        return None, Diagnostic("E206", f"unknown setting `{setting.key}`", setting.key_span, help)
    raw = setting.value
    if not raw:
        return None, Diagnostic(
            "E207", f"`{setting.key}` has no value", setting.value_span, f"allowed: {_SHOWN[name]}"
        )
    if name == "title":
        return Value(setting, raw), None
    if name == "takes":
        # ASCII digits only (str.isdigit would take `³` or Arabic-Indic digits), no sign
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_TAKES:
            return Value(setting, str(int(raw))), None
        return None, Diagnostic(
            "E207",
            f"invalid `{setting.key}` value `{raw}`",
            setting.value_span,
            f"allowed: {_SHOWN[name]}",
        )
    if name == "callback":
        try:
            parts = urlsplit(raw)
            host = parts.hostname
        except ValueError:  # e.g. an unclosed `[` of an IPv6 host
            parts, host = urlsplit(""), None
        if parts.scheme.lower() == "https" and host and _UNSAFE_IN_URL.search(raw) is None:
            return Value(setting, raw), None
        why = (
            "kie.ai posts results to an https:// URL"
            if parts.scheme.lower() == "http"
            else "a callback is an https:// URL with a host"
        )
        return None, Diagnostic(
            "E207",
            f"invalid callback URL `{raw}`",
            setting.value_span,
            f"{why}, like `https://example.com/hook`",
        )
    table = _ENUMS[name]
    key = "".join(raw.split()) if name == "aspect" else raw
    if key.lower() in table:
        return Value(setting, table[key.lower()]), None
    guess = did_you_mean(raw, list(table), fold_case=True)
    help = (
        f"did you mean `{guess}`? allowed: {_SHOWN[name]}" if guess else f"allowed: {_SHOWN[name]}"
    )
    return None, Diagnostic(
        "E207", f"invalid `{setting.key}` value `{raw}`", setting.value_span, help
    )


def resolve(settings: Iterable[Setting], diagnostics: Problems) -> dict[str, Value]:
    """The valid settings by lower-case name; a repeated key: the last one wins."""
    values: dict[str, Value] = {}
    for setting in settings:
        value, problem = check(setting)
        if problem is not None:
            diagnostics.append(problem)
        if value is not None:
            values[setting.name] = value
    return values
