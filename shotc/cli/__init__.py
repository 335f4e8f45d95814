"""The command line, a thin shell over the stages: the click group (`group.py`) and one module
per command family, each imported only when its command runs."""

from shotc.cli.group import main

__all__ = ["main"]
