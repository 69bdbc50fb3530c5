"""`python -m reconciler`: the same entry point as the console script."""

from reconciler.cli.main import main

main()
