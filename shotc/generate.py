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


def main() -> None:
    for path, source in outputs().items():
        old = path.read_text("utf-8") if path.exists() else None
        if old != source:
            path.write_text(source, "utf-8")
            print(f"wrote {path}")
        else:
            print(f"up to date: {path}")


if __name__ == "__main__":
    main()
