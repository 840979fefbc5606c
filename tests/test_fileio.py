import json
import os
import stat

import pytest

from dasl.fileio import atomic_path, write_json


def test_atomic_path_renames_on_success(tmp_path):
    target = tmp_path / "sub" / "out.json"
    write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(target.parent) == ["out.json"]
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable by others like any output


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.png"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.suffix == ".png"
            tmp.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert not target.exists() and os.listdir(tmp_path) == []


def test_atomic_path_keeps_the_old_file_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("new")
            raise RuntimeError
    assert target.read_text() == "old"
