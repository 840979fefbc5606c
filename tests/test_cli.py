import os
import subprocess
import sys


def test_missing_shared_folder_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dasl.cli",
            "benchmark",
            "aflw2000",
            "-m",
            "oracle",
            "--shared",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "shared data folder" in proc.stderr and "nowhere" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_inside_shared_names_it(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dasl.cli",
            "benchmark",
            "aflw2000",
            "-m",
            "oracle",
            "--shared",
            str(tmp_path),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "bfm_62.npz" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_model_is_a_clear_error(tmp_path, shared):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dasl.cli",
            "benchmark",
            "aflw2000",
            "-m",
            "nosuchmodel",
            "--shared",
            str(shared.root),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "nosuchmodel" in proc.stderr and "Traceback" not in proc.stderr


def test_a_wrong_dasl_shared_is_an_error_not_a_fallback(tmp_path, shared):
    """$DASL_SHARED naming no folder is named in the error, even where ../shared would be found (it was
    silently used instead)."""
    photo = shared.path("samples") / "trump_hillary.jpg"
    env = {**os.environ, "DASL_SHARED": str(tmp_path / "nowhere")}
    proc = subprocess.run(
        [sys.executable, "-m", "dasl.cli", "reconstruct", str(photo), "--outputs", "json", "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert "DASL_SHARED" in proc.stderr and "nowhere" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o" / "trump_hillary.json").exists()
