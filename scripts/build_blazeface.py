#!/usr/bin/env python3
"""Build src/kupol/faces/models/blazeface-{short,full}.onnx, kupol's offline face detectors.

The weights are MediaPipe's BlazeFace face detectors (google-ai-edge/mediapipe, Apache-2.0) as
the wheel ``mediapipe==0.10.21`` (CPython 3.11, manylinux x86_64) ships them:
``face_detection_short_range.tflite`` (128 x 128) and ``face_detection_full_range_sparse.tflite``
(192 x 192, its weights stored sparse). kupol does not depend on mediapipe; this script, run
by ``make face-models``:

1. reuses (or makes) the throwaway virtual environment of ``scripts/build_nanodet.py`` under
   ``var/model-build/venv`` (git-ignored), TensorFlow and tf2onnx pinned there;
2. fetches the pinned wheel with ``pip download --no-deps`` and checks its SHA-256;
3. densifies the full-range model, which tf2onnx cannot read as it is: each sparse weight is
   replaced by the dense tensor TensorFlow Lite's own ``DENSIFY`` kernel makes of it, and the
   ``DENSIFY`` operators are dropped (nothing else in the file changes);
4. converts both with ``tf2onnx --tflite``, names the input ``image`` (1, H, W, 3: RGB in
   [-1, 1]) and the outputs ``boxes`` (1, anchors, 16) and ``scores`` (1, anchors, 1), and
   declares the batch, height and width symbolic (every Reshape keeps the batch and infers
   the anchors; the networks are fully convolutional, so any multiple of 32 works);
5. folds constants, names and orders every node and weight by a hash of what it computes
   (``build_nanodet.canonicalise``: tf2onnx's own names change from run to run), stores the
   weights as the float16 they were published in (a Cast to float32 each), so the files are
   byte-for-byte reproducible;
6. runs the ORIGINAL ``.tflite`` files in TensorFlow Lite and the ONNX files in ONNX Runtime on
   a real photo (``img1.jpg`` of ../shared/data/faces/deepface, or ``--image``) preprocessed as
   kupol does and on noise, prints the largest absolute difference per output and fails
   above :data:`TOLERANCE`; then checks the ONNX files on a rectangular input;
7. writes the models and prints their sizes, SHA-256 and what kupol's detector finds.

README.md next to the models records the result. Run ``python scripts/build_blazeface.py -h``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import build_nanodet
from build_nanodet import BUILD_REQUIREMENTS, OPSET, REPO_ROOT, WORK, run

OUTPUT_DIR = REPO_ROOT / "src" / "kupol" / "faces" / "models"
DATA_ROOT = Path(os.environ.get("KUPOL_DATA_ROOT", str(REPO_ROOT.parent / "shared" / "data")))
SAMPLE_PHOTO = DATA_ROOT / "faces" / "deepface" / "img1.jpg"

PACKAGE = "mediapipe"
VERSION = "0.10.21"
WHEEL = f"mediapipe-{VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
MEMBER_DIR = "mediapipe/modules/face_detection/"
# name: (member, native input side, the TF Lite input and outputs: regressors, classificators)
MODELS = {
    "short": ("face_detection_short_range.tflite", 128, "input", "regressors", "classificators"),
    "full": ("face_detection_full_range_sparse.tflite", 192, "input_1", "Identity", "Identity_1"),
}
INPUT_NAME = "image"
OUTPUT_NAMES = ("boxes", "scores")
TOLERANCE = 1e-3  # regressions are in input pixels (up to ~200); XNNPACK sums in another order


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, help="a photo to verify on instead of img1.jpg")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR, help="where models go")
    parser.add_argument("--convert", type=Path, help=argparse.SUPPRESS)  # stage 2, in the venv
    args = parser.parse_args()
    if args.convert:
        return convert(args.convert)
    return build(image=args.image, output_dir=args.output_dir)


# ---------------------------------------------------------------------------------------------
# Stage 1: in kupol's own environment.


def build(*, image: Path | None, output_dir: Path) -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    python = build_venv()
    wheel = fetch_wheel()
    write_samples(image)
    run([str(python), __file__, "--convert", str(wheel)])
    for name in MODELS:
        target = output_dir / f"blazeface-{name}.onnx"
        shutil.copyfile(WORK / target.name, target)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        print(f"wrote {target}: {target.stat().st_size:,} bytes, SHA-256 {digest}")
    report_detections(image)
    return 0


def build_venv() -> Path:
    """The throwaway environment's Python, shared with build_nanodet.py.

    An environment that already has exactly the pinned packages is adopted (its stamp
    written) rather than rebuilt; otherwise build_nanodet.py makes it.
    """
    venv = WORK / "venv"
    python = venv / "bin" / "python"
    stamp = venv / "kupol-build-requirements.txt"
    wanted = "\n".join(BUILD_REQUIREMENTS) + "\n"
    if python.exists() and not (stamp.exists() and stamp.read_text() == wanted):
        check = (
            "import importlib.metadata as m, sys; "
            "sys.exit(any(m.version(p.split('==')[0]) != p.split('==')[1] for p in sys.argv[1:]))"
        )
        if subprocess.run([str(python), "-c", check, *BUILD_REQUIREMENTS]).returncode == 0:
            stamp.write_text(wanted)
    return build_nanodet.build_venv()


def fetch_wheel() -> Path:
    """The pinned mediapipe wheel, checked; its path."""
    wheel = WORK / WHEEL
    if not wheel.exists():
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
             "--implementation", "cp", "--abi", "cp311", "--dest", str(WORK),
             f"{PACKAGE}=={VERSION}"])  # fmt: skip
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name}: SHA-256 {digest}, expected {WHEEL_SHA256}")
    print(f"{PACKAGE}=={VERSION}: SHA-256 {digest} (checked)")
    return wheel


def sample_photo(image: Path | None) -> Any:
    import cv2

    path = image or SAMPLE_PHOTO
    if image is None and not path.exists():
        raise SystemExit(f"{path} is absent: pass --image with any photo of a face")
    picture = cv2.imread(str(path))
    if picture is None:
        raise SystemExit(f"cannot read {path}")
    return picture


def write_samples(image: Path | None) -> None:
    """The verification inputs, preprocessed exactly as kupol's detector does it."""
    import numpy as np

    from kupol.faces.blazeface import preprocess
    from kupol.vision.detectors.base import Letterbox

    picture = sample_photo(image)
    height, width = picture.shape[:2]
    for name, (_, size, *_) in MODELS.items():
        square = Letterbox.fit(width=width, height=height, size=size)
        np.save(WORK / f"sample-{name}.npy", preprocess(picture, square))
        wide = Letterbox.fit(width=width, height=height, input_width=size + 64, input_height=size)
        np.save(WORK / f"sample-{name}-rect.npy", preprocess(picture, wide))


def report_detections(image: Path | None) -> None:
    from kupol.faces.detectors import BlazeFaceConfig, BlazeFaceDetector

    picture = sample_photo(image)
    for name in MODELS:
        config = BlazeFaceConfig.model_validate({"model": name})
        faces = BlazeFaceDetector(config).detect(picture)
        found = ", ".join(f"{f.score:.2f} at {[round(v) for v in f.box]}" for f in faces)
        print(f"kupol's BlazeFace {name} on the sample photo: {found or 'nothing'}")


# ---------------------------------------------------------------------------------------------
# Stage 2: in the throwaway environment with TensorFlow and tf2onnx.


def convert(wheel: Path) -> int:
    import numpy as np

    sources = WORK / "mediapipe"
    sources.mkdir(exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for member, *_ in MODELS.values():
            (sources / member).write_bytes(archive.read(MEMBER_DIR + member))
    worst = 0.0
    for name, (member, size, tf_input, *tf_outputs) in MODELS.items():
        original = sources / member
        readable = original
        if "sparse" in member:
            readable = densify(original, sources / member.replace("_sparse", "_dense"))
        raw = WORK / f"blazeface-{name}-raw.onnx"
        final = WORK / f"blazeface-{name}.onnx"
        build_nanodet.tf2onnx(
            "--tflite", str(readable), "--output", str(raw), "--opset", str(OPSET),
            "--inputs", tf_input, "--rename-inputs", INPUT_NAME,
            "--outputs", ",".join(tf_outputs), "--rename-outputs", ",".join(OUTPUT_NAMES),
        )  # fmt: skip
        finish_model(raw, final, name=name, member=member, size=size)

        sample = np.load(WORK / f"sample-{name}.npy")
        noise = np.random.default_rng(0).uniform(-1, 1, sample.shape).astype(np.float32)
        for label, tensor in (("real photo", sample), ("random input", noise)):
            reference = run_tflite(original, tensor)
            converted = build_nanodet.run_onnx(final, tensor)
            for tf_name, onnx_name in zip(tf_outputs, OUTPUT_NAMES, strict=True):
                diff = float(np.abs(reference[tf_name] - converted[onnx_name]).max())
                diff = diff if np.isfinite(diff) else float("inf")
                worst = max(worst, diff)
                print(f"{label}, {final.name}, {onnx_name}: max |TF Lite - ONNX| = {diff:.3g}")
        rectangular = np.load(WORK / f"sample-{name}-rect.npy")
        shapes = {k: v.shape for k, v in build_nanodet.run_onnx(final, rectangular).items()}
        print(f"{final.name} on {rectangular.shape[2]}x{rectangular.shape[1]}: {shapes}")
    print(f"largest difference {worst:.3g} (tolerance {TOLERANCE})")
    if worst > TOLERANCE:
        raise SystemExit("the ONNX models do not compute what the TF Lite models compute")
    return 0


def densify(source: Path, target: Path) -> Path:
    """``source`` with its sparse weights stored dense, as TF Lite's DENSIFY kernel makes them.

    The interpreter evaluates every DENSIFY of a constant once, on its first run; each output
    becomes a constant buffer, the sparse input points at the same buffer, the op is dropped.
    """
    import flatbuffers
    import numpy as np
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(source.read_bytes(), 0))
    densify_code = {
        index
        for index, code in enumerate(model.operatorCodes)
        if max(code.builtinCode, code.deprecatedBuiltinCode) == schema.BuiltinOperator.DENSIFY
    }
    interpreter = tf.lite.Interpreter(
        model_path=str(source),
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    (model_input,) = interpreter.get_input_details()
    interpreter.set_tensor(model_input["index"], np.zeros(model_input["shape"], np.float32))
    interpreter.invoke()  # DENSIFY runs (once, its input being constant) on the first call
    (graph,) = model.subgraphs
    kept = []
    for op in graph.operators:
        if op.opcodeIndex not in densify_code:
            kept.append(op)
            continue
        dense = np.ascontiguousarray(interpreter.get_tensor(op.outputs[0]))
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(dense.tobytes(), np.uint8)
        model.buffers.append(buffer)
        for tensor in (graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]):
            tensor.buffer = len(model.buffers) - 1
            tensor.sparsity = None
    print(f"{source.name}: {len(graph.operators) - len(kept)} sparse weights densified")
    graph.operators = kept
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    target.write_bytes(builder.Output())
    return target


def finish_model(source: Path, target: Path, *, name: str, member: str, size: int) -> None:
    """Fold, canonicalise, store float16, declare sizes symbolic, describe, save."""
    import onnx

    model = onnx.load(str(source))
    graph = model.graph
    build_nanodet.fold_constants(graph)
    keep_batch(graph)
    build_nanodet.canonicalise(graph)
    graph.name = f"blazeface_{name}"
    build_nanodet.store_float16(graph)
    make_size_dynamic(graph)
    del model.metadata_props[:]
    model.doc_string = (
        f"MediaPipe BlazeFace {name}-range face detector ({member} of {PACKAGE}=={VERSION}, "
        "Apache-2.0), converted by kupol's scripts/build_blazeface.py"
    )
    for key, value in {
        "source": f"{PACKAGE}=={VERSION} wheel ({WHEEL}, SHA-256 {WHEEL_SHA256}): "
        f"{MEMBER_DIR}{member}",
        "license": "Apache-2.0",
        "native_input": f"{size}x{size}",
        "preprocessing": "RGB, letterboxed (aspect kept, centred, black padding), "
        "x / 127.5 - 1; NHWC; any height and width that are multiples of 32",
        "outputs": "boxes: per anchor dx, dy, w, h and 6 keypoints (dx, dy), input pixels "
        "from the anchor centre; scores: logits",
    }.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def keep_batch(graph: Any) -> None:
    """Make every Reshape to (1, -1, k) one to (0, -1, k): 0 copies the batch size."""
    from onnx import numpy_helper

    shapes = {node.input[1] for node in graph.node if node.op_type == "Reshape"}
    for index, initializer in enumerate(graph.initializer):
        if initializer.name in shapes:
            shape = numpy_helper.to_array(initializer).copy()
            if shape[0] == 1:
                shape[0] = 0
                graph.initializer[index].CopyFrom(numpy_helper.from_array(shape, initializer.name))


def make_size_dynamic(graph: Any) -> None:
    """Declare the input (batch, height, width, 3) and the outputs (batch, anchors, k)."""
    from onnx import TensorProto, helper

    (image,) = graph.input
    dims = ["batch", "height", "width", 3]
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info(image.name, TensorProto.FLOAT, dims))
    del graph.output[:]
    for output, channels in zip(OUTPUT_NAMES, (16, 1), strict=True):
        dims = ["batch", "anchors", channels]
        graph.output.append(helper.make_tensor_value_info(output, TensorProto.FLOAT, dims))


def run_tflite(path: Path, tensor: Any) -> dict[str, Any]:
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}


if __name__ == "__main__":
    sys.exit(main())
