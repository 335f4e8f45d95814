"""The command line: a thin click group whose commands load their stage modules lazily.

Each command lives in the module named in `_COMMANDS` and is imported only when invoked (or
when `--help` lists it), so `shotc check`/`build` never import httpx or the run machinery.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from shotc.exits import ExitCode

# name -> (module, attribute, one-line help shown in `shotc --help`)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("shotc.cli.compile", "check_command", "Parse and check scripts; print diagnostics."),
    "build": ("shotc.cli.compile", "build_command", "Compile scripts to createTask JSON."),
    "explain": ("shotc.cli.compile", "explain_command", "Explain a diagnostic code."),
    "fmt": ("shotc.cli.tools", "fmt_command", "Rewrite scripts in canonical form."),
    "decompile": ("shotc.cli.tools", "decompile_command", "Write .shot source for requests."),
    "validate": ("shotc.cli.tools", "validate_command", "Check hand-written request JSON."),
    "import": ("shotc.cli.imports", "import_command", "Bring a script from another format."),
    "plan": ("shotc.cli.run", "plan_command", "Show what `run` would send and spend."),
    "run": ("shotc.cli.run", "run_command", "Upload, submit, follow and download."),
    "status": ("shotc.cli.run", "status_command", "Show the ledger, refreshed from kie.ai."),
    "credits": ("shotc.cli.run", "credits_command", "Show the account balance."),
    "cut": ("shotc.cli.film", "cut_command", "Join the cut's clips into one film, or a timeline."),
    "review": ("shotc.cli.film", "review_command", "Serve the review page: scenes, takes, picks."),
    "pick": ("shotc.cli.pick", "pick_command", "Choose the take the cut uses for a scene."),
    "prune": ("shotc.cli.film", "prune_command", "Delete clips no cut or current take needs."),
    "ledger": ("shotc.cli.ledger", "ledger_group", "Copy the ledger to another backend."),
    "lsp": ("shotc.cli.lsp", "lsp_command", "Run the language server for editors (stdio)."),
}


def _interrupted() -> click.exceptions.Exit:
    """Ctrl-C while click parses options or loads a command: 130 like every other Ctrl-C,
    not click's "Aborted!" with exit 1 (the commands handle it themselves once they run)."""
    sys.stderr.write("interrupted\n")
    sys.stderr.flush()
    return click.exceptions.Exit(ExitCode.INTERRUPTED)


class LazyGroup(click.Group):
    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt:
            raise _interrupted() from None

    def invoke(self, ctx: click.Context) -> Any:
        # The subcommand's own option parsing happens in here.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _interrupted() from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, short_help = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return _unavailable(cmd_name, short_help)
        command: click.Command = getattr(module, attr)
        if command.short_help is None:
            # the table's line, whole: click would otherwise cut the docstring's first
            # sentence to fit (`Upload local media, submit every scene not already done or...`)
            command.short_help = short_help
        return command


def _unavailable(name: str, short_help: str) -> click.Command:
    @click.command(
        name=name, short_help=short_help, context_settings={"ignore_unknown_options": True}
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: Any) -> None:
        raise click.UsageError(f"`shotc {name}` is not available in this build")

    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="shotc")
def main() -> None:
    """shotc: compile .shot shot lists into kie.ai Kling 3.0 video requests."""
