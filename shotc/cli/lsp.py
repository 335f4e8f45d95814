"""`shotc lsp`: the language server on stdio, for editors (see docs/editors.md)."""

from __future__ import annotations

import click


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Speak over stdin/stdout (the default and only way).")
def lsp_command(stdio: bool) -> None:
    """Run the Language Server Protocol server on stdin/stdout.

    Editors start it themselves (the VS Code extension runs `shotc lsp`). It publishes the
    diagnostics of `check` as you type, completes cues, directives, settings and scene
    names, and gives hover, go to definition, the outline, folding, formatting and quick fixes.
    """
    from shotc.lsp.server import serve

    serve()
