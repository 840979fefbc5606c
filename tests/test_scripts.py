"""Every script of the experiment record imports (its dasl imports still exist) and has a ``main``; the
held-out folders are named once (dasl.eval.heldout.HELDOUT_FOLDERS)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "scripts").glob("*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_script_imports_and_has_a_main(path):
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # runs the module's top level, not main()
    assert callable(getattr(module, "main", None)), f"{path.name} has no main()"
    assert (module.__doc__ or "").strip(), f"{path.name} says nothing of what it measures"


def test_the_held_out_folders_are_named_once():
    text = "\n".join(p.read_text() for p in SCRIPTS)
    assert '"data/aflw-wild-3d-lips-chin", "data/aflw-wild-profiles' not in text  # the tuple lives in dasl
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).resolve().parents[1] / "scripts").glob("*.sh")), ids=lambda p: p.name
)
def test_every_shell_script_parses_and_names_existing_configs(path):
    import re
    import subprocess

    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0
    root = path.parents[1]
    for config in re.findall(r"configs/[\w/.-]+\.toml", path.read_text()):
        assert (root / config).is_file(), f"{path.name} names {config}, which does not exist"
