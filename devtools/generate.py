"""`python -m devtools.generate`: regenerate every generated file from its source; `--check`
only reports the stale ones (exit 1). The one command for all of them:

- `shotc/language/_generated_parser.py` from `grammar/shot.lark` (LALR tables, via Lark)
- `shotc/request/_generated_validator.py` from `shotc/request/request.schema.json`
- `docs/codes.md` from the code registry and `shotc/explain/*.md`
- `docs/cli.md` from each command's `--help`

Tests fail when a generated file is stale; run this after editing any of the sources.
These generators are build-time tools: they live outside the package and are not shipped.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def outputs() -> dict[Path, str]:
    """Each generated file's path and the text it should hold."""
    from devtools import cli_docs, codes_doc, parsergen, schemagen

    return {
        parsergen.generated_path(): parsergen.generate_parser_source(),
        schemagen.OUTPUT_PATH: schemagen.generate_validator_source(),
        ROOT / codes_doc.DOC_PATH: codes_doc.render_codes_doc(),
        cli_docs.DOC_PATH: cli_docs.render(),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the generated files; with `--check`, only report stale ones (exit 1)."""
    import sys

    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = 0
    for path, source in outputs().items():
        name = path.relative_to(ROOT)
        old = path.read_text("utf-8") if path.exists() else None
        if old == source:
            print(f"up to date: {name}")
        elif check:
            stale += 1
            print(f"stale: {name} (run `python -m devtools.generate`)")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, "utf-8")
            print(f"wrote {name}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
