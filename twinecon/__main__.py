"""`python -m twinecon`: the `twinecon` command line."""

import sys

from twinecon.cli import main

if __name__ == "__main__":
    sys.exit(main())
