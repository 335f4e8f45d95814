"""`python -m shotc`: the command line."""

from shotc.cli import main

main()
