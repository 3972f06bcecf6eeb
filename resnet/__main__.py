"""``python -m resnet``: see ``python -m resnet --help``."""

import sys

from .cli import main

sys.exit(main())
