"""``python -m rope_viz``: the command line (see rope_viz.cli)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
