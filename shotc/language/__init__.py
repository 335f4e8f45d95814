"""The language: stages from source text to resolved scenes (source, lexer, parser, AST,
checks, settings, media, includes)."""
