"""``python -m nmfkit.cli``: the ``nmfkit`` command."""

import sys

from . import main

sys.exit(main())
