"""`python -m shotc`: the command line."""

import sys

from shotc.exits import ExitCode  # tiny, and needed even when loading the rest fails

try:
    from shotc.cli import main

    main()
except KeyboardInterrupt:  # Ctrl-C while the command line itself loads: 130, no traceback
    sys.stderr.write("interrupted\n")
    sys.exit(ExitCode.INTERRUPTED)
