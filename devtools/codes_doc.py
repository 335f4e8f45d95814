"""Build `docs/codes.md` from the code registry and the explain pages.

`python -m devtools.codes_doc` rewrites the file; `tests/test_codes.py` fails when it is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from shotc.codes import CODES, explain_page

DOC_PATH = Path("docs") / "codes.md"  # relative to the repository root
REGENERATE = "python -m devtools.codes_doc"

_HEADING = re.compile(r"^(#+) ", re.MULTILINE)
_FENCE = re.compile(r"^```", re.MULTILINE)


def _demote(page: str) -> str:
    """Push every markdown heading of a page one level down, leaving fenced code alone."""
    parts = _FENCE.split(page)
    # even parts are outside fences, odd parts inside
    for i in range(0, len(parts), 2):
        parts[i] = _HEADING.sub(lambda m: f"#{m.group(1)} ", parts[i])
    return "```".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_codes_doc() -> str:
    """The whole of `docs/codes.md`: an index table, then every code's explain page."""
    lines = [
        "# Diagnostic codes",
        "",
        "<!-- Generated from shotc/codes.py and shotc/explain/*.md by "
        f"`{REGENERATE}`; do not edit by hand. -->",
        "",
        "Every diagnostic `shotc` reports has a stable code. Errors (`E`) stop `build` and `run`;",
        "warnings (`W`) do not. `shotc explain CODE` prints the page for one code.",
        "",
        "| code | severity | summary | points at |",
        "|---|---|---|---|",
    ]
    for code, info in CODES.items():
        lines.append(
            f"| [{code}](#{code.lower()}) | {info.severity} | {_cell(info.summary)} "
            f"| {_cell(info.points_at)} |"
        )
    out = "\n".join(lines) + "\n"
    for code in CODES:
        page = explain_page(code)
        if page is None:  # pragma: no cover - every registry code has a page (tested)
            raise LookupError(f"no explain page for {code}")
        out += f'\n<a id="{code.lower()}"></a>\n\n' + _demote(page.rstrip("\n")) + "\n"
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else DOC_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_codes_doc(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
