"""``python -m resnet``: see ``python -m resnet --help``."""

import sys

from .cli import main

if __name__ == "__main__":  # not on a plain import (pytest --doctest-modules imports it)
    sys.exit(main())
