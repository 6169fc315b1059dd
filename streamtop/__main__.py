"""`python -m streamtop` is the same as `streamtop`."""

import sys

from .cli import main

sys.exit(main())
