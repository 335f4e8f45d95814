"""Stage "JSON Schema validation": check a createTask request against the request schema.

`validate_request` runs the validator fastjsonschema generated
(`shotc.request._generated_validator`) first and imports jsonschema only when that says no, to
explain why: `shotc build` validates every request it emits, and a valid request must not pay
for importing jsonschema. Each violation is a `Diagnostic` (the compiler's record) that names
a JSON path (`input.multi_prompt[2].duration`, `$` for the root) and, where the same rule
exists in the compiler, its diagnostic code. The Kling rules beyond the schema are in
`shotc.request.rules`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, TypeGuard

from fastjsonschema import JsonSchemaException

from shotc.diagnostics import Diagnostic, Problems
from shotc.kling import is_uri
from shotc.request._generated_validator import (
    validate_urn_shotc_schema_kling_3_0_video_create_task_request as _generated,
)

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

    from shotc.request.types import CreateTaskRequest

SCHEMA_RESOURCE = "request.schema.json"


def schema() -> dict[str, Any]:
    """The request schema, freshly parsed (callers may mutate it), from the installed package."""
    return json.loads(_schema_text())  # type: ignore[no-any-return]


@cache
def _schema_text() -> str:
    from importlib import resources  # costs a few ms; only the slow path needs it

    return resources.files("shotc.request").joinpath(SCHEMA_RESOURCE).read_text("utf-8")


_validate: Callable[[object], object] = _generated


def is_valid(request: object) -> TypeGuard[CreateTaskRequest]:
    """Whether `request` satisfies the schema, by the generated fastjsonschema code: then it
    is a CreateTaskRequest (`shotc.request.types`), whatever JSON it was read from."""
    try:
        _validate(request)
    except JsonSchemaException:
        return False
    return True


@cache
def jsonschema_validator() -> Draft202012Validator:
    """A jsonschema validator equivalent to `is_valid` (the same `uri` rule, shotc.kling's)."""
    from jsonschema import Draft202012Validator, FormatChecker

    checker = FormatChecker(formats=())
    # Formats constrain strings only; other types are the `type` keyword's business.
    checker.checks("uri")(lambda value: not isinstance(value, str) or is_uri(value))
    return Draft202012Validator(schema(), format_checker=checker)


def validate_request(request: object) -> list[Diagnostic]:
    """Schema violations of `request`, sorted by path; empty when it is valid."""
    if is_valid(request):
        return []
    found = Problems()
    for error in jsonschema_validator().iter_errors(request):
        _explain(error, found)
    if not found:
        # The two validators disagree: the generated one is stale or wrong.
        found.add(
            None,
            "the generated validator rejects this request but jsonschema accepts it; "
            "run `python -m devtools.generate` and report a bug if it persists",
            "$",
        )
    return sort_violations(found)


# -- paths --------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def format_path(parts: Iterable[object]) -> str:
    """`input.multi_prompt[2].duration` from ("input", "multi_prompt", 2, "duration")."""
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return out or "$"


def sort_violations(violations: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Problems of a request, deduplicated and sorted by path (indices numerically), then
    code, then message."""

    def key(v: Diagnostic) -> tuple[str, str, str]:
        path = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)):012d}]", v.path)
        return (path, v.code or "", v.message)

    return sorted(dict.fromkeys(violations), key=key)


def _shape(parts: Sequence[object]) -> str:
    """The path with indices blanked: `input.multi_prompt[].duration`."""
    return re.sub(r"\[\d+\]", "[]", format_path(parts))


# -- codes and messages -------------------------------------------------------------------

# (path shape, keyword) -> the compiler's code for the same rule.
_CODES: dict[tuple[str, str], str] = {
    ("callBackUrl", "format"): "E207",
    ("callBackUrl", "pattern"): "E207",
    ("input.aspect_ratio", "enum"): "E207",
    ("input.mode", "enum"): "E207",
    ("input.duration", "enum"): "E301",
    ("input.multi_prompt[].duration", "minimum"): "E302",
    ("input.multi_prompt[].duration", "maximum"): "E302",
    ("input.multi_prompt", "maxItems"): "E303",
    ("input.kling_elements", "maxItems"): "E304",
    ("input.kling_elements[]", "oneOf"): "E305",
    ("input.kling_elements[].element_input_urls", "minItems"): "E305",
    ("input.kling_elements[].element_input_urls", "maxItems"): "E305",
    ("input.kling_elements[].element_input_video_urls", "minItems"): "E305",
    ("input.kling_elements[].element_input_video_urls", "maxItems"): "E305",
    ("input.kling_elements[].name", "pattern"): "E203",
    ("input.kling_elements[].name", "required"): "E203",
    ("input.kling_elements[].description", "minLength"): "E204",
    ("input.kling_elements[].description", "required"): "E204",
    ("input.multi_prompt[].prompt", "maxLength"): "E306",
    ("input.multi_prompt[].prompt", "minLength"): "E311",
    ("input.prompt", "maxLength"): "E310",
    ("input.prompt", "minLength"): "E311",
}

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _show(value: object, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_type(value: object) -> str:
    """A JSON value's type as a message names it (`a string`, `an array`, `null`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _code(parts: Sequence[object], keyword: str, branch: str | None) -> str | None:
    shape = _shape(parts)
    if shape == "input.image_urls" and keyword == "maxItems" and branch == "then":
        return "E307"
    return _CODES.get((shape, keyword))


def _explain(error: ValidationError, out: Problems) -> None:
    """One violation per leaf of a top-level jsonschema error (one per key for required and
    additionalProperties, whose errors name several keys or none in their path)."""
    parts = list(error.absolute_path)
    keyword = str(error.validator)
    schema_path = list(error.schema_path)
    branch = next((p for p in reversed(schema_path) if p in ("then", "else")), None)
    node = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance
    required: Any = error.validator_value
    if keyword == "required" and isinstance(instance, dict):
        why = f"; {node['description']}" if branch and "description" in node else ""
        for key in required:
            if key not in instance:
                out.add(
                    _code([*parts, key], keyword, branch),
                    f"missing required key `{key}`{why}",
                    format_path([*parts, key]),
                )
        return
    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = list(node.get("properties", {}))
        for key in sorted(instance, key=str):
            if key not in allowed:
                out.add(None, _unknown_key(key, allowed), format_path([*parts, key]))
        return
    out.add(
        _code(parts, keyword, branch),
        _message(error, keyword, parts, branch),
        format_path(parts),
    )


def _unknown_key(key: object, allowed: list[str]) -> str:
    message = f"unknown key {_show(key)}"
    if isinstance(key, str):
        from difflib import get_close_matches

        close = get_close_matches(key, allowed, n=1)
        if close:
            return f"{message} (did you mean `{close[0]}`?)"
    return f"{message}; allowed here: {', '.join(allowed)}"


def _branch_descriptions(error: ValidationError) -> list[str] | None:
    subs = error.validator_value
    if not isinstance(subs, list):
        return None
    found = [s.get("description") for s in subs if isinstance(s, dict)]
    if len(found) != len(subs) or not all(isinstance(d, str) for d in found):
        return None
    return [str(d) for d in found]


def _message(
    error: ValidationError, keyword: str, parts: Sequence[object], branch: str | None
) -> str:
    value: Any = error.validator_value
    instance: Any = error.instance
    node = error.schema if isinstance(error.schema, dict) else {}
    description = str(node.get("description", ""))
    if keyword == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        names = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in wanted)
        return f"must be {names}, not {json_type(instance)} ({_show(instance)})"
    if keyword == "const":
        return f"must be {_show(value)}, not {_show(instance)}"
    if keyword == "enum":
        if _shape(parts) == "input.duration":
            hint = (
                f' (write "{instance}": a string, not a number)'
                if isinstance(instance, int) and not isinstance(instance, bool)
                else ""
            )
            return (
                f'must be the total seconds as a string, "3" to "15", not {_show(instance)}{hint}'
            )
        return f"must be one of {', '.join(_show(v) for v in value)}, not {_show(instance)}"
    if keyword == "minLength":
        return "must not be empty" if value == 1 else f"must have at least {value} characters"
    if keyword == "maxLength":
        return f"has {len(instance)} characters; at most {value} are allowed"
    if keyword in ("minItems", "maxItems"):
        if branch == "then" and _shape(parts) == "input.image_urls":
            return (
                f"a multi-shot request takes the first frame only (1 image URL), "
                f"not {len(instance)}"
            )
        bound = "needs at least" if keyword == "minItems" else "allows at most"
        why = f" ({description.rstrip('.')})" if description else ""
        return f"has {_plural(len(instance), 'item')}; {bound} {value}{why}"
    if keyword in ("minimum", "maximum"):
        bound = "at least" if keyword == "minimum" else "at most"
        return f"must be {bound} {value}, not {_show(instance)}"
    if keyword == "pattern":
        why = f": {description}" if description else ""
        return f"{_show(instance)} does not match `{value}`{why}"
    if keyword == "format":
        return (
            f"{_show(instance)} is not a URI (a scheme such as https: or file:, then no "
            "white space or control characters)"
        )
    if keyword == "not" and description:
        return description
    if keyword in ("oneOf", "anyOf"):
        options = _branch_descriptions(error)
        if options is None:
            from jsonschema.exceptions import best_match

            best = best_match(error.context or [])
            return best.message if best is not None else error.message
        choice = " or ".join(options)
        if keyword == "oneOf" and not error.context:
            return f"must be exactly one of: {choice}; it is both"
        return f"must be {choice}"
    return error.message
