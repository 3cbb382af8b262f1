"""`python -m reconciler` runs the polyant-gitops CLI."""

import sys

from reconciler.cli import run

sys.exit(run())
