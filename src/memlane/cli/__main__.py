"""``python -m memlane.cli``: the ``memlane`` console script."""

from memlane.cli import main

main()
