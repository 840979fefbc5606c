"""``python -m dasl`` (and ``torchrun -m dasl``) runs the command line."""

from dasl.cli import main

main()
