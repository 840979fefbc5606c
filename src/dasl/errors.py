"""Exceptions that carry a message meant for the user.

Every error that a user can cause (a missing data file, an unreadable image, a bad option) is raised as a
:class:`DaslError` subclass whose message names the file and the problem. The CLI prints the message and
exits with a non-zero status instead of showing a traceback.
"""

from __future__ import annotations

from pathlib import Path


class DaslError(Exception):
    """Base class of errors whose message is written for the user."""


class MissingFileError(DaslError, FileNotFoundError):
    """A file dasl needs is not where it should be."""

    def __init__(self, path: str | Path, what: str, hint: str = "") -> None:
        self.path = Path(path)
        self.what = what
        message = f"{what} not found: {self.path}"
        if hint:
            message += f"\n{hint}"
        super().__init__(message)


class BadInputError(DaslError, ValueError):
    """An input file exists but cannot be used (wrong format, truncated, inconsistent)."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class OptionError(DaslError, ValueError):
    """An option or argument has a value dasl does not know (a detector, backend or model name, ...)."""


#: optional dependencies by top-level module: the extra of ``pip install 'dasl[extra]'`` that brings them
EXTRAS = {
    "torch": "train",
    "torchvision": "train",
    "tensorboard": "train",
    "matplotlib": "train",
    "dlib": "dlib",
    "face_recognition_models": "dlib",
    "starlette": "serve",
    "uvicorn": "serve",
    "multipart": "serve",
    "ray": "scale",
}


class MissingExtraError(DaslError, ImportError):
    """A command or option needs an optional dependency that is not installed."""

    def __init__(self, module: str, purpose: str = "this") -> None:
        extra = EXTRAS.get(module.split(".")[0], "dev")
        super().__init__(f"{purpose} needs {module}, which is not installed: pip install 'dasl[{extra}]'")


def require(module: str, purpose: str):
    """Import an optional dependency, or raise :class:`MissingExtraError` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == module.split(".")[0]:
            raise MissingExtraError(module, purpose) from None
        raise
