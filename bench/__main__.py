"""`python -m bench [--smoke] [--skip-postgres] [--only NAME[,NAME]] [--output PATH]`."""

import sys

from bench.cli import main

sys.exit(main())
