"""Model strings: one parser to a typed spec, and the loader that follows it."""

from pathlib import Path

import pytest

from dasl.errors import MissingFileError, OptionError
from dasl.regressors import FlipAveraged, load_regressor
from dasl.stages.spec import PEER_MB05, SHIPPED, parse_model


def test_shipped_names_peer_and_flip_suffix():
    spec = parse_model("dasl-light+flip")
    assert (spec.name, spec.kind, spec.flip, spec.label) == ("dasl-light", "shipped", True, "dasl-light+flip")
    assert spec.path.name == SHIPPED["dasl-light"] and spec.path.is_file()
    assert parse_model("dasl-resnet50").flip is None  # not said: the caller's default decides
    assert parse_model("dasl-resnet50", flip=False).flip is False
    assert parse_model("dasl-light+flip", flip=False).flip is True  # the suffix wins
    both = parse_model("dasl-light+det+flip")
    assert (both.map_source, both.flip, both.fit, both.label) == ("detector", True, False, "dasl-light+det+flip")
    fitted = parse_model("dasl-light+flip+fit")  # any order; +fit implies the detector's map
    assert (fitted.map_source, fitted.flip, fitted.fit, fitted.label) == ("detector", True, True, "dasl-light+fit+flip")
    peer = parse_model(PEER_MB05)
    assert peer.kind == "peer" and peer.path is None
    # the detector mirror-averaged; implies the detector's map
    mirrored = parse_model("dasl-light+detflip+fit")
    assert (mirrored.map_source, mirrored.fit, mirrored.detector_flip) == ("detector", True, True)
    assert mirrored.label == "dasl-light+fit+detflip" and parse_model(mirrored.label) == mirrored
    assert parse_model("dasl-light+detflip").label == "dasl-light+detflip"
    with pytest.raises(OptionError, match="torch backend only"):
        parse_model(PEER_MB05, backend="onnx")


def test_auto_backend_is_onnx_for_dasl_models_and_torch_for_the_peer():
    assert parse_model("default").backend == "onnx"
    assert parse_model("dasl-resnet50", backend="torch").backend == "torch"
    assert parse_model(PEER_MB05).backend == "torch"


def test_default_is_dasl_light_fitted_to_the_mirror_averaged_detector():
    default = parse_model("default")
    assert default == parse_model("dasl-light+fit+detflip")
    assert (default.label, default.map_source, default.fit, default.detector_flip, default.mirror) == (
        "dasl-light+fit+detflip",
        "detector",
        True,
        True,
        False,
    )
    assert parse_model("default+flip").mirror is True  # asked for: both
    assert parse_model("default", flip=True).mirror is True
    assert parse_model("dasl-light").mirror is None  # a plain model: mirrored where it can be
    # a map source asked for by name replaces the default's configuration
    own = parse_model("default", map_source="self")
    assert (own.label, own.map_source, own.fit, own.mirror) == ("dasl-light", "self", False, None)
    assert parse_model("default", map_source="detector").label == "dasl-light+det"


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
