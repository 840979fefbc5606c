"""The README's three commands stay true: CI runs the README's own set-up and test commands."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.*?)\n```", body, flags=re.S)


def test_ci_runs_the_readme_setup_and_test_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    (setup,) = _blocks("Set up")
    (tests,) = _blocks("Test")
    assert setup.replace("pip install", "python -m pip install -q") in ci
    assert ci.strip().splitlines()[-1] == tests.strip()


def test_readme_main_command_is_a_real_command():
    from typer.testing import CliRunner

    from dasl.cli import app

    command = _blocks("Run")[0].split()
    assert command[0] == "dasl"
    result = CliRunner().invoke(app, [*command[1:3], "--help"])
    assert result.exit_code == 0, result.output
