"""`python -m shotc.generate`: regenerate every file produced for speed from its source.

- `shotc/_generated_parser.py` from `grammar/shot.lark` (LALR tables, via Lark)
- `shotc/_generated_validator.py` from `shotc/request.schema.json` (a stdlib-only validator)

Tests fail when a generated file is stale; run this after editing the grammar or the schema.
"""

from __future__ import annotations

from pathlib import Path


def outputs() -> dict[Path, str]:
    from shotc import parsergen, schemagen

    here = Path(__file__).resolve().parent
    return {
        parsergen.generated_path(): parsergen.generate_parser_source(),
        here / "_generated_validator.py": schemagen.generate_validator_source(),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the generated files; with `--check`, only report stale ones (exit 1)."""
    import sys

    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = 0
    for path, source in outputs().items():
        old = path.read_text("utf-8") if path.exists() else None
        if old == source:
            print(f"up to date: {path.name}")
        elif check:
            stale += 1
            print(f"stale: {path.name} (run `python -m shotc.generate`)")
        else:
            path.write_text(source, "utf-8")
            print(f"wrote {path.name}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
