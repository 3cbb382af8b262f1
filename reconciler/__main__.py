"""`python -m reconciler` runs the polyant-gitops CLI."""

from reconciler.entry import main

main()
