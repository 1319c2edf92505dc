"""Run the command line: ``python -m xgram ...`` (same as the ``xgram`` script)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
