"""``python -m lambdaclient``: the command line (see :mod:`lambdaclient.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
