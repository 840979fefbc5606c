"""``python -m dasl.cli``."""

from dasl.cli import main

main()
