"""``python -m circles``: the same as the ``circles`` command."""

import sys

from circles.cli import main

sys.exit(main())
