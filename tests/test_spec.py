"""Model strings: one parser to a typed spec, and the loader that follows it."""

from pathlib import Path

import pytest

from dasl.errors import MissingFileError, OptionError
from dasl.regressors import FlipAveraged, load_regressor
from dasl.regressors.spec import PEER_MB05, SHIPPED, parse_model


def test_shipped_names_peer_and_flip_suffix():
    spec = parse_model("default+flip")
    assert (spec.name, spec.kind, spec.flip, spec.label) == ("default", "shipped", True, "default+flip")
    assert spec.path.name == SHIPPED["default"] and spec.path.is_file()
    assert parse_model("dasl-resnet50").flip is None  # not said: the caller's default decides
    assert parse_model("dasl-resnet50", flip=False).flip is False
    assert parse_model("default+flip", flip=False).flip is True  # the suffix wins
    both = parse_model("default+det+flip")
    assert (both.map_source, both.flip, both.fit, both.label) == ("detector", True, False, "default+det+flip")
    fitted = parse_model("default+flip+fit")  # any order; +fit implies the detector's map
    assert (fitted.map_source, fitted.flip, fitted.fit, fitted.label) == ("detector", True, True, "default+fit+flip")
    peer = parse_model(PEER_MB05)
    assert peer.kind == "peer" and peer.path is None
    with pytest.raises(OptionError, match="torch backend only"):
        parse_model(PEER_MB05, backend="onnx")


def test_files_are_named_by_their_run_or_stem(tmp_path):
    checkpoint = tmp_path / "runs" / "light" / "checkpoints" / "best.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"x")
    assert parse_model(str(checkpoint)).name == "light/best"
    onnx = tmp_path / "mine.onnx"
    onnx.write_bytes(b"x")
    spec = parse_model(onnx)
    assert (spec.name, spec.backend, spec.path) == ("mine", "onnx", Path(onnx))


def test_unknown_names_are_clear_errors():
    with pytest.raises(MissingFileError, match="(?s)nosuch.*default, dasl-light, dasl-resnet50, 3ddfa-v2-mb05"):
        parse_model("nosuch")
    with pytest.raises(OptionError, match="unknown backend"):
        parse_model("default", backend="tensorrt")


def test_loader_names_the_regressor_and_mirror_averages_when_asked(shared, tiny_model):
    plain = load_regressor(tiny_model, shared)
    assert plain.name == "tiny" and not isinstance(plain, FlipAveraged)  # a benchmark row: as named
    auto = load_regressor(tiny_model, shared, flip=None)
    assert isinstance(auto, FlipAveraged) and auto.name == "tiny+flip"
    peer = load_regressor(PEER_MB05, shared, flip=None)
    assert peer.name == PEER_MB05 and not isinstance(peer, FlipAveraged)  # the peer cannot be mirrored
