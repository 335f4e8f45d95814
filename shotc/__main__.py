"""`python -m shotc`: the command line."""

import sys

try:
    from shotc.cli import main

    main()
except KeyboardInterrupt:  # Ctrl-C while the command line itself loads: 130, no traceback
    sys.stderr.write("interrupted\n")
    sys.exit(130)
