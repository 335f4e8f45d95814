"""Build-time generators (parser tables, validator, docs/codes.md, docs/cli.md): not shipped."""
