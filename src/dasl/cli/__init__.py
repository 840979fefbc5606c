"""The ``dasl`` command: thin commands over the Python API, one module per group of commands (photos,
models, benchmarks of accuracy and of speed, data, training); the typer apps and what the commands share
are in :mod:`dasl.cli.common`. Commands import the library inside their bodies, so ``dasl --help`` stays
fast."""

from __future__ import annotations

import importlib
import os
import sys

# OpenCV's and its FFmpeg's own messages ("moov atom not found", codec probes) would interleave with dasl's,
# which name the file and the problem: quiet unless the user asks for them
os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

from dasl.cli.common import app
from dasl.errors import EXTRAS, DaslError, MissingExtraError

# the commands register with the apps as their modules are imported, in this order in `dasl --help`
for _group in ("photos", "serving", "models", "training", "data", "bench_accuracy", "bench_speed"):
    importlib.import_module(f"dasl.cli.{_group}")


def main() -> None:
    try:
        app()
    except ModuleNotFoundError as exc:  # an optional dependency a command needs (the light install)
        top = (exc.name or "").split(".")[0]
        if top not in EXTRAS:
            raise
        print(f"error: {MissingExtraError(top, 'this command')}", file=sys.stderr)
        sys.exit(2)
    except DaslError as exc:
        # plain text: paths must never be wrapped, shortened or read as markup
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
