from pathlib import Path

import pytest

from dasl.errors import MissingFileError
from dasl.paths import ENV_VAR, SharedData, resolve_root


def test_env_var_overrides_default(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert resolve_root() == tmp_path.resolve()


def test_explicit_root_must_exist(tmp_path):
    with pytest.raises(MissingFileError, match="--shared"):
        resolve_root(tmp_path / "nope")


def test_missing_file_names_path_and_meaning(tmp_path):
    data = SharedData(tmp_path)
    with pytest.raises(MissingFileError) as info:
        data.require("bfm")
    message = str(info.value)
    assert "3D Morphable Model" in message
    assert str(tmp_path / "assets/bfm/bfm_62.npz") in message


def test_default_finds_shared_beside_repository(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    repo = Path(__file__).resolve().parents[1]
    if not (repo.parent / "shared").is_dir():
        pytest.skip("no ../shared beside this checkout")
    assert resolve_root() == (repo.parent / "shared").resolve()
